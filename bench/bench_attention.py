"""Attention forward, backward and forward+backward: attnqat next to PyTorch SDPA.

    python3 bench/bench_attention.py [--out DIR]

Runs on a GPU machine (scripts/gpu-test stage copies what it needs). Times,
in one process on one GPU: PyTorch SDPA with the cuDNN and flash backends
and attnqat.torch.attention in modes none and qat (qat in NVFP4 and, as
qat-mx, in MXFP4), all on bf16 tensors, and
attnqat.torch.attention_fp4 on NVFP4-quantized operands (the
attnqat time includes the quantization kernels and, for fwd+bwd, the
backward's delta pre-pass). Shapes from DESIGN.md §3: B*N = 16k, H*D = 2048,
D in {64, 128}, N in {1k, 4k, 16k}, causal and not, plus B=1, H=3,
N=31200, D=128. FLOPs = 4*B*H*N^2*D (halved when causal); bwd = 2.5x,
fwd+bwd = 3.5x. The backward alone is timed on a retained graph (one
forward, then the backward repeatedly; for attnqat it includes the delta
pre-pass).
Each time is sustained: the call runs back to back for 0.2 s, then the
median of five windows of at least 60 ms (time_ms says why; --burst times
5 calls after one warm-up instead, as before session 37).
attnqat's BF16 forwards and backwards are the sm_90a wgmma kernels (forward:
producer warpgroup and consumer warpgroups; backward: two warpgroups per 128 keys, dQ added by tile and converted by a post-pass);
bench.json also holds the mma.sync forwards and backwards
(attnqat_tcnone_*, attnqat_tcqat_*) timed in the same run.
Also in bench.json, side by side: the fp4 forward with per-tile decode
(attnqat_fp4tile_*) and qat forward+backward with the packed saved state,
decoded once per pass and tile by tile (attnqat_qatpacked_*,
attnqat_qatpackedtile_*).
Prints a table of TFLOP/s and ratios to cuDNN BF16, writes bench.json and,
when matplotlib imports, bench.png.
"""

import argparse
import json
import math
import sys
from pathlib import Path

try:
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
    import attnqat.torch as at  # noqa: E402
except ImportError:  # --plot-from needs only matplotlib
    torch = None


def shapes(head_dims=(64, 128)):
    for D in head_dims:
        H = 2048 // D
        for N in (1024, 4096, 16384):
            for causal in (False, True):
                yield dict(B=16384 // N, H=H, N=N, D=D, causal=causal)
    if 128 in head_dims:
        yield dict(B=1, H=3, N=31200, D=128, causal=False)


def flops(s, backward, forward=True):
    f = 4 * s["B"] * s["H"] * s["N"] ** 2 * s["D"] / (2 if s["causal"] else 1)
    if not backward:
        return f
    return f * (3.5 if forward else 2.5)


# How time_ms times a call: "sustained" (the default) or "burst" (--burst).
PROTOCOL = dict(mode="sustained", settle_ms=200.0, windows=5, window_ms=60.0)


def timed_calls(fn, n):
    """Milliseconds per call of n calls of fn launched back to back."""
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(n):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / n


def time_ms(fn, iters):
    """Milliseconds per call of fn.

    Sustained (the default): fn runs back to back for settle_ms first, so
    that the GPU reaches the clock its power limit allows under this load,
    then the median of `windows` windows of at least window_ms (and two
    calls) each. A training step runs there: on the H100 every attention
    kernel of this benchmark, cuDNN's too, runs at the 700 W cap, and a
    few calls after an idle moment run partly at boost clocks, which favours
    short kernels (session 37, bench/results/power-session37-h100.log:
    cuDNN's forward at 4k keys 0.840 ms in 5 calls, a median of 0.965 ms
    per call over 100-ms windows once running; the qat forward 2.029 and
    2.086 ms).
    Burst (--burst, the protocol before session 37): the mean of `iters`
    calls after one warm-up call.
    """
    timed_calls(fn, 1)  # warm-up (and first-launch JIT of PTX)
    if PROTOCOL["mode"] == "burst":
        return timed_calls(fn, iters)
    est = max(timed_calls(fn, 1), 1e-3)
    timed_calls(fn, max(1, math.ceil(PROTOCOL["settle_ms"] / est)))
    n = max(2, math.ceil(PROTOCOL["window_ms"] / est))
    times = sorted(timed_calls(fn, n) for _ in range(PROTOCOL["windows"]))
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=".")
    ap.add_argument("--plot-from", metavar="JSON",
                    help="only draw bench.png into --out from an earlier bench.json")
    ap.add_argument("--burst", action="store_true",
                    help="time 5 calls after one warm-up (the protocol before session 37) "
                         "instead of the sustained median")
    ap.add_argument("--head-dims", default="64,128",
                    help="comma-separated head dims to run (default: 64,128)")
    args = ap.parse_args()
    if args.burst:
        PROTOCOL["mode"] = "burst"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.plot_from:
        plot(json.loads(Path(args.plot_from).read_text()), out)
        return
    if torch is None:
        sys.exit("bench_attention: needs PyTorch (and attnqat.torch); only --plot-from runs without")
    gpu = torch.cuda.get_device_name()
    print(f"# {gpu}; timing protocol: {PROTOCOL}", flush=True)
    rows = []

    def result(done):
        return dict(done=done, gpu=gpu, torch=torch.__version__, protocol=PROTOCOL, note=(
            "bf16 everywhere; attnqat: sm_90a wgmma forward and backward "
            "(attnqat_tc*: the mma.sync ones), "
            "time includes Q/K/V fake quantization in qat; qatmx: qat in MXFP4; "
            "qat forwards with grad on (O' written for the backward); qateval, qatmxeval: "
            "under torch.no_grad (no O'); "
            "fp4: pre-quantized NVFP4 operands (fp4q: with the quantize kernels)"), rows=rows)

    for s in shapes(tuple(int(d) for d in args.head_dims.split(","))):
        B, H, N, D, causal = s["B"], s["H"], s["N"], s["D"], s["causal"]
        row = dict(s)
        q16 = torch.randn(B, H, N, D, device="cuda", dtype=torch.bfloat16, requires_grad=True)
        k16 = torch.randn_like(q16, requires_grad=True)
        v16 = torch.randn_like(q16, requires_grad=True)
        do16 = torch.randn_like(q16)
        for name, backend in (("cudnn", SDPBackend.CUDNN_ATTENTION),
                              ("flash", SDPBackend.FLASH_ATTENTION)):
            try:
                with sdpa_kernel(backend):
                    f = lambda: torch.nn.functional.scaled_dot_product_attention(  # noqa: E731
                        q16, k16, v16, is_causal=causal)
                    ms = time_ms(f, 5)
                    fb = lambda: torch.autograd.grad(f(), (q16, k16, v16), do16)  # noqa: E731
                    msb = time_ms(fb, 5)
                    o16 = f()
                    b = lambda: torch.autograd.grad(o16, (q16, k16, v16), do16,  # noqa: E731
                                                    retain_graph=True)
                    msbo = time_ms(b, 5)
                    del o16
                row[f"{name}_fwd_tflops"] = flops(s, False) / ms / 1e9
                row[f"{name}_fwdbwd_tflops"] = flops(s, True) / msb / 1e9
                row[f"{name}_bwd_tflops"] = flops(s, True, forward=False) / msbo / 1e9
            except RuntimeError as e:  # backend not available for this shape
                row[f"{name}_error"] = str(e).splitlines()[0]
        del q16, k16, v16, do16
        # attnqat on bf16 inputs: the tensor-core kernels (time includes the
        # fake-quantization kernels of Q, K, V in qat).
        q = torch.randn(B, H, N, D, device="cuda", dtype=torch.bfloat16, requires_grad=True)
        k = torch.randn_like(q, requires_grad=True)
        v = torch.randn_like(q, requires_grad=True)
        do = torch.randn_like(q)
        # qatmx: mode qat in MXFP4 (blocks of 32, E8M0 scales, single-level P).
        for mode, fmt_, tag in (("none", "nvfp4", "none"), ("qat", "nvfp4", "qat"),
                                ("qat", "mxfp4", "qatmx")):
            f = lambda: at.attention(q, k, v, causal=causal, mode=mode,  # noqa: E731
                                     format=fmt_)
            # The training forward (grad on: qat writes O' for the backward),
            # and qat's evaluation forward (no_grad: no O').
            ms = time_ms(f, 5)
            row[f"attnqat_{tag}_fwd_tflops"] = flops(s, False) / ms / 1e9
            if mode == "qat":
                with torch.no_grad():
                    ms = time_ms(f, 5)
                row[f"attnqat_{tag}eval_fwd_tflops"] = flops(s, False) / ms / 1e9
            fb = lambda: torch.autograd.grad(f(), (q, k, v), do)  # noqa: E731
            msb = time_ms(fb, 5)
            row[f"attnqat_{tag}_fwdbwd_tflops"] = flops(s, True) / msb / 1e9
            o = f()
            b = lambda: torch.autograd.grad(o, (q, k, v), do, retain_graph=True)  # noqa: E731
            row[f"attnqat_{tag}_bwd_tflops"] = flops(s, True, forward=False) / time_ms(b, 5) / 1e9
            del o
        # The mma.sync forward and backward next to the wgmma ones
        # (attnqat.torch runs the wgmma kernels where the artifact has them).
        at.forward_family = at.backward_family = "tc"
        for mode in ("none", "qat"):
            f = lambda: at.attention(q, k, v, causal=causal, mode=mode)  # noqa: E731
            row[f"attnqat_tc{mode}_fwd_tflops"] = flops(s, False) / time_ms(f, 5) / 1e9
            o = f()
            b = lambda: torch.autograd.grad(o, (q, k, v), do, retain_graph=True)  # noqa: E731
            row[f"attnqat_tc{mode}_bwd_tflops"] = flops(s, True, forward=False) / time_ms(b, 5) / 1e9
            del o
        at.forward_family = at.backward_family = "wg"
        # qat training with the packed saved state: decoded once per pass
        # (the default) and tile by tile in the packed kernels.
        for tag, dec in (("qatpacked", True), ("qatpackedtile", False)):
            fp = lambda: at.PackedStateFunction.apply(  # noqa: E731
                q, k, v, causal, 1 / math.sqrt(D), "qat", "rows", dec)
            fpb = lambda: torch.autograd.grad(fp(), (q, k, v), do)  # noqa: E731
            row[f"attnqat_{tag}_fwdbwd_tflops"] = flops(s, True) / time_ms(fpb, 5) / 1e9
        # FP4 inference on operands quantized beforehand (a KV cache is), and
        # with the three quantize kernels included.
        with torch.no_grad():
            qp, kp, vp = at.quantize(q, -1), at.quantize(k, -1), at.quantize(v, -2)
            f = lambda: at.attention_fp4(qp, kp, vp, causal=causal)  # noqa: E731
            row["attnqat_fp4_fwd_tflops"] = flops(s, False) / time_ms(f, 5) / 1e9
            # The fp4 kernel that decodes every K and V tile per query block.
            ft = lambda: at.attention_fp4(qp, kp, vp, causal=causal,  # noqa: E731
                                          decode_first=False)
            row["attnqat_fp4tile_fwd_tflops"] = flops(s, False) / time_ms(ft, 5) / 1e9
            fq = lambda: at.attention_fp4(at.quantize(q, -1), at.quantize(k, -1),  # noqa: E731
                                          at.quantize(v, -2), causal=causal)
            row["attnqat_fp4q_fwd_tflops"] = flops(s, False) / time_ms(fq, 5) / 1e9
        del q, k, v, do, qp, kp, vp
        rows.append(row)
        base = row.get("cudnn_fwd_tflops")
        baseb = row.get("cudnn_fwdbwd_tflops")
        basebo = row.get("cudnn_bwd_tflops")
        def fmt(key, ref):
            v = row.get(key)
            if v is None:
                return "      -      "
            return f"{v:7.2f} ({v / ref:.4f}x)" if ref else f"{v:7.2f}"
        print(f"B={B:2d} H={H:2d} N={N:5d} D={D:3d} causal={int(causal)} | "
              f"fwd TFLOP/s cudnn {row.get('cudnn_fwd_tflops', float('nan')):6.1f} "
              f"flash {row.get('flash_fwd_tflops', float('nan')):6.1f} "
              f"attnqat none {fmt('attnqat_none_fwd_tflops', base)} "
              f"qat {fmt('attnqat_qat_fwd_tflops', base)} "
              f"qat-mx {fmt('attnqat_qatmx_fwd_tflops', base)} "
              f"qat eval {fmt('attnqat_qateval_fwd_tflops', base)} "
              f"qat-mx eval {fmt('attnqat_qatmxeval_fwd_tflops', base)} "
              f"fp4 {fmt('attnqat_fp4_fwd_tflops', base)} | "
              f"fwd+bwd cudnn {row.get('cudnn_fwdbwd_tflops', float('nan')):6.1f} "
              f"attnqat none {fmt('attnqat_none_fwdbwd_tflops', baseb)} "
              f"qat {fmt('attnqat_qat_fwdbwd_tflops', baseb)} "
              f"qat-mx {fmt('attnqat_qatmx_fwdbwd_tflops', baseb)} | "
              f"bwd cudnn {row.get('cudnn_bwd_tflops', float('nan')):6.1f} "
              f"flash {row.get('flash_bwd_tflops', float('nan')):6.1f} "
              f"attnqat none {fmt('attnqat_none_bwd_tflops', basebo)} "
              f"qat {fmt('attnqat_qat_bwd_tflops', basebo)} "
              f"qat-mx {fmt('attnqat_qatmx_bwd_tflops', basebo)} "
              f"(mma.sync none {fmt('attnqat_tcnone_bwd_tflops', basebo)} "
              f"qat {fmt('attnqat_tcqat_bwd_tflops', basebo)})", flush=True)
        # Each row as it comes: a run cut short by a device window keeps them.
        (out / "bench.json").write_text(json.dumps(result(False), indent=1))
    res = result(True)
    (out / "bench.json").write_text(json.dumps(res, indent=1))
    print(f"wrote {out / 'bench.json'}")
    plot(res, out)


def plot(result, out):
    """bench.png from a benchmark's result (bench.json's contents) into `out`."""
    rows, gpu = result["rows"], result["gpu"]
    protocol = result.get("protocol", {}).get("mode", "burst")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        labels = [f"N={r['N']} D={r['D']}{' c' if r['causal'] else ''}" for r in rows]
        fig, ax = plt.subplots(figsize=(13, 4.5))
        # Keys an older bench.json lacks (qateval before session 44) are left out.
        keys = ("cudnn_fwd_tflops", "flash_fwd_tflops", "attnqat_none_fwd_tflops",
                "attnqat_qat_fwd_tflops", "attnqat_qateval_fwd_tflops",
                "attnqat_fp4_fwd_tflops", "cudnn_bwd_tflops", "attnqat_qat_bwd_tflops",
                "cudnn_fwdbwd_tflops", "attnqat_qat_fwdbwd_tflops")
        keys = tuple(k for k in keys if any(k in r for r in rows))
        width = 0.8 / len(keys)
        for i, key in enumerate(keys):
            ax.bar([x + width * i for x in range(len(rows))],
                   [r.get(key, 0) for r in rows], width, label=key.replace("_tflops", ""))
        ax.set_ylim(bottom=0)
        ax.set_ylabel("TFLOP/s")
        ax.set_xticks([x + 0.4 for x in range(len(rows))], labels, rotation=45, ha="right")
        ax.set_title(f"attention on {gpu} (bf16 SDPA vs attnqat; {protocol} timing)")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
        fig.tight_layout()
        fig.savefig(out / "bench.png", dpi=100)
        print(f"wrote {out / 'bench.png'}")
    except ImportError:
        print("matplotlib not available: no plot")


if __name__ == "__main__":
    main()
