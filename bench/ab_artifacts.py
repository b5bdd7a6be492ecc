"""Same-run A/B of kernel artifacts on one GPU (run on the GPU machine).

    python3 bench/ab_artifacts.py --out DIR a.aqa b.aqa [c.aqa ...]
    python3 bench/ab_artifacts.py --out DIR a.aqa@old/python b.aqa

Each artifact runs in its own process (ATTNQAT_ARTIFACT), in alternating
rounds (a, b, a, b, ...), and times attnqat.torch.attention's forward,
backward alone and forward+backward next to cuDNN's BF16 SDPA of the same
process. Every process also saves O, dQ, dK and dV of a few small cases;
the parent compares them with the first artifact's (maximum absolute
difference: 0 means bit-identical). `a.aqa@DIR` imports attnqat from DIR
in a's processes, for a change to kernels and binding together. Prints
per-artifact medians over the rounds and their ratio to the first
artifact; writes DIR/ab.json.

Environment: AB_MODES (default "qat,none,dropin"; "qat@mxfp4" runs mode qat
in format mxfp4; "fp4[@format]" times attention_fp4's forward on operands
quantized beforehand), AB_ROUNDS (default 2),
AB_TIMING ("burst", the default: 5 calls after one warm-up; "sustained":
bench_attention's median of windows after 0.2 s of calls back to back, as
the benchmark times since session 37), AB_SHAPES ("big" for the benchmark's D = 128 and D = 64 shapes at 4k and
16k keys, the default; or a list "B:H:N:D:causal;..."), AB_NO_FAR (set:
leave out the small case whose frames lie beyond 2^22, for probes that are
only right nearer to 0).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
# The last two give a persistent forward two or more units per block on an
# H100/H200 (causal, 11 query tiles of 192 rows per head at D = 64).
SMALL = [dict(B=1, H=4, N=1000, D=128, causal=False), dict(B=1, H=4, N=777, D=128, causal=True),
         dict(B=2, H=4, N=1000, D=64, causal=True), dict(B=1, H=4, N=4096, D=128, causal=False),
         dict(B=4, H=8, N=2048, D=128, causal=True), dict(B=4, H=8, N=2048, D=64, causal=True),
         dict(B=1, H=4, N=1000, D=128, causal=True, far=True)]
# far=True: softmax scale 1e6 and a key column of +8 met by -8 or +8 in the
# queries, so the rows' integer frames lie beyond +-2^22 (the P~ path that
# large additive masks take), negative in every other row.


def big_shapes():
    spec = os.environ.get("AB_SHAPES", "big")
    if spec != "big":
        out = []
        for item in spec.split(";"):
            B, H, N, D, c = item.split(":")
            out.append(dict(B=int(B), H=int(H), N=int(N), D=int(D), causal=c in ("1", "c", "causal")))
        return out
    return [dict(B=1, H=16, N=16384, D=128, causal=False), dict(B=1, H=16, N=16384, D=128, causal=True),
            dict(B=4, H=16, N=4096, D=128, causal=False), dict(B=4, H=16, N=4096, D=128, causal=True),
            dict(B=1, H=32, N=16384, D=64, causal=False)]


def tag(s):
    return (f"{s['B']}x{s['H']}x{s['N']}x{s['D']}{'c' if s['causal'] else ''}"
            f"{'far' if s.get('far') else ''}")


def child(out, index):
    """Times every mode and shape with the artifact of $ATTNQAT_ARTIFACT."""

    def attention(q, k, v, causal, mode, scale=None):  # "mode[@format]"
        name, _, fmt = mode.partition("@")
        return at.attention(q, k, v, causal=causal, mode=name, format=fmt or "nvfp4",
                            scale=scale)

    def fp4_forward(q, k, v, causal, mode, scale=None):  # "fp4[@format]"
        """attention_fp4 on q, k, v quantized here, once: a call of the result
        times the inference forward alone."""
        fmt = mode.partition("@")[2] or "nvfp4"
        packed = [at.quantize(t, d, format=fmt) for t, d in ((q, -1), (k, -1), (v, -2))]
        return lambda: at.attention_fp4(*packed, causal=causal, scale=scale)
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    sys.path.insert(0, os.environ.get("AB_PYTHON") or str(HERE.parents[1] / "python"))
    sys.path.insert(0, str(HERE.parent))
    import attnqat.torch as at
    from bench_attention import PROTOCOL, time_ms as timed
    # Burst timing unless AB_TIMING=sustained (bench_attention.time_ms says
    # why the benchmark itself times sustained).
    PROTOCOL["mode"] = "sustained" if os.environ.get("AB_TIMING") == "sustained" else "burst"

    def time_ms(fn):
        return timed(fn, 5)

    modes = os.environ.get("AB_MODES", "qat,none,dropin").split(",")
    res = {}
    for s in big_shapes():
        f = 4 * s["B"] * s["H"] * s["N"] ** 2 * s["D"] / (2 if s["causal"] else 1)
        torch.manual_seed(0)
        q, k, v = (torch.randn(s["B"], s["H"], s["N"], s["D"], device="cuda",
                               dtype=torch.bfloat16, requires_grad=True) for _ in range(3))
        do = torch.randn_like(q)
        with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
            sd = lambda: torch.nn.functional.scaled_dot_product_attention(  # noqa: E731
                q, k, v, is_causal=s["causal"])
            res[f"{tag(s)}/cudnn/fwd"] = f / time_ms(sd) / 1e9
            res[f"{tag(s)}/cudnn/fwdbwd"] = 3.5 * f / time_ms(
                lambda: torch.autograd.grad(sd(), (q, k, v), do)) / 1e9
        for mode in modes:
            if mode.partition("@")[0] == "fp4":  # inference: forward only
                with torch.no_grad():
                    res[f"{tag(s)}/{mode}/fwd"] = f / time_ms(
                        fp4_forward(q, k, v, s["causal"], mode)) / 1e9
                continue
            fn = lambda: attention(q, k, v, s["causal"], mode)  # noqa: E731
            # Grad on: the training forward (qat without autograd skips O').
            res[f"{tag(s)}/{mode}/fwd"] = f / time_ms(fn) / 1e9
            o = fn()
            res[f"{tag(s)}/{mode}/bwd"] = 2.5 * f / time_ms(
                lambda: torch.autograd.grad(o, (q, k, v), do, retain_graph=True)) / 1e9
            del o
            res[f"{tag(s)}/{mode}/fwdbwd"] = 3.5 * f / time_ms(
                lambda: torch.autograd.grad(fn(), (q, k, v), do)) / 1e9
        del q, k, v, do
    if index == 0:  # outputs once per artifact
        saved = {}
        for s in SMALL:
            if s.get("far") and os.environ.get("AB_NO_FAR"):
                continue  # probes that are only right near frame 0 (or trap there)
            torch.manual_seed(1)
            q, k, v = (torch.randn(s["B"], s["H"], s["N"], s["D"], device="cuda",
                                   dtype=torch.bfloat16, requires_grad=True) for _ in range(3))
            do = torch.randn_like(q)
            scale = None
            if s.get("far"):
                with torch.no_grad():
                    k[..., 0] += 8
                    q[..., 0::2, 0] -= 8
                    q[..., 1::2, 0] += 8
                scale = 1e6
            for mode in modes:
                if mode.partition("@")[0] == "fp4":
                    with torch.no_grad():
                        o = fp4_forward(q, k, v, s["causal"], mode, scale)()
                    saved[f"{tag(s)}/{mode}/O"] = o.float().cpu()
                    continue
                o = attention(q, k, v, s["causal"], mode, scale)
                g = torch.autograd.grad(o, (q, k, v), do)
                for name, t in zip(("O", "dQ", "dK", "dV"), (o,) + g):
                    saved[f"{tag(s)}/{mode}/{name}"] = t.detach().float().cpu()
        torch.save(saved, out / "outputs.pt")
    (out / f"times{index}.json").write_text(json.dumps(res))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--child", type=int)
    ap.add_argument("artifacts", nargs="*")
    args = ap.parse_args()
    out = Path(args.out)
    if args.child is not None:
        child(out, args.child)
        return
    rounds = int(os.environ.get("AB_ROUNDS", "2"))
    # "ARTIFACT@DIR": that artifact's process imports attnqat from DIR (an
    # A/B of a change to both the kernels and the binding).
    specs = [a.partition("@") for a in args.artifacts]
    arts = [Path(a).resolve() for a, _, _ in specs]
    pythons = [str(Path(d).resolve()) if d else "" for _, _, d in specs]
    if len(arts) < 2:
        sys.exit("ab_artifacts: give two or more artifacts")
    for a, d in zip(arts, pythons):
        if not a.is_file():
            sys.exit(f"ab_artifacts: no artifact {a}")
        if d and not (Path(d) / "attnqat").is_dir():
            sys.exit(f"ab_artifacts: no attnqat package in {d}")
    for r in range(rounds):
        for i, a in enumerate(arts):
            d = out / f"art{i}"
            d.mkdir(parents=True, exist_ok=True)
            env = dict(os.environ, ATTNQAT_ARTIFACT=str(a), AB_PYTHON=pythons[i])
            subprocess.run([sys.executable, str(HERE), "--out", str(d), "--child", str(r)],
                           env=env, check=True)
    import torch
    times = [[json.loads((out / f"art{i}" / f"times{r}.json").read_text()) for r in range(rounds)]
             for i in range(len(arts))]
    keys = list(times[0][0])
    med = [{key: statistics.median(t[key] for t in ts) for key in keys} for ts in times]
    print("TFLOP/s, median of", rounds, "rounds;", " | ".join(f"[{i}] {a.name}"
                                                            for i, a in enumerate(arts)))
    for key in keys:
        cols = [f"{m[key]:7.1f}" for m in med]
        ratios = [f"{m[key] / med[0][key]:.3f}" for m in med[1:]]
        print(f"{key:32s} " + " ".join(cols) + "   x " + " ".join(ratios))
    ref = torch.load(out / "art0" / "outputs.pt")
    diffs = {}
    for i in range(1, len(arts)):
        other = torch.load(out / f"art{i}" / "outputs.pt")
        for key, t in ref.items():
            diffs[f"[{i}] {key}"] = float((t - other[key]).abs().max())
    print("max |difference| to [0]:")
    for key, d in diffs.items():
        print(f"  {key:40s} {d:g}")
    (out / "ab.json").write_text(json.dumps(dict(
        artifacts=[str(a) for a in arts], medians=med, differences=diffs), indent=1))


if __name__ == "__main__":
    main()
