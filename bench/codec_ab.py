"""Same-run A/B of the codec kernels of two or more artifacts (run on the GPU machine).

    python3 bench/codec_ab.py a.aqa b.aqa [c.aqa ...]

Each artifact runs in its own process (ATTNQAT_ARTIFACT), in alternating
rounds, and times fake_quant and quantize of BF16 tensors shaped as the 4k
benchmark's Q (blocks along the contiguous head dim) and V (blocks along
keys, strided) in NVFP4 and MXFP4; median microseconds per call. Every
process also hashes its outputs (SHA-1 of the whole tensor, which holds a
NaN, an Inf, a -0 and a subnormal), and the parent says whether they match
the first artifact's.
"""

import hashlib
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
B, H, N, D = 4, 16, 4096, 128
ROUNDS = int(os.environ.get("AB_ROUNDS", "3"))


def child():
    import torch

    sys.path.insert(0, str(HERE.parents[1] / "python"))
    sys.path.insert(0, str(HERE.parent))
    import attnqat.torch as at
    from bench_attention import time_ms

    torch.manual_seed(0)
    x = torch.randn(B, H, N, D, device="cuda", dtype=torch.bfloat16) * 3
    flat = x.view(-1)
    flat[5], flat[77], flat[1000], flat[123457] = float("nan"), float("inf"), -0.0, 1e-39
    cases = {}
    for fmt in at.FORMATS:
        cases[f"fake_quant {fmt} Q"] = lambda f=fmt: at._fake_quant(x, B * H * N, D, 1, f)
        cases[f"fake_quant {fmt} V"] = lambda f=fmt: at._fake_quant(x, B * H, N, D, f)
        cases[f"quantize {fmt} Q"] = lambda f=fmt: at.quantize(x, -1, format=f)
    out = {}
    for name, fn in cases.items():
        r = fn()
        tensors = [r] if isinstance(r, torch.Tensor) else [t for t in vars(r).values()
                                                             if isinstance(t, torch.Tensor)]
        digest = hashlib.sha1()
        for t in tensors:
            digest.update(t.contiguous().view(torch.uint8).cpu().numpy().tobytes())
        out[name] = {"us": time_ms(fn, 20) * 1e3, "sha1": digest.hexdigest()}
    print(json.dumps(out))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child()
        return
    arts = sys.argv[1:]
    runs = {a: [] for a in arts}
    for _ in range(ROUNDS):
        for a in arts:
            env = dict(os.environ, ATTNQAT_ARTIFACT=str(Path(a).resolve()))
            res = subprocess.run([sys.executable, str(HERE), "--child"], env=env, check=True,
                                 capture_output=True, text=True)
            runs[a].append(json.loads(res.stdout.strip().splitlines()[-1]))
    names = runs[arts[0]][0].keys()
    print("us per call, median of %d rounds; B=%d H=%d N=%d D=%d BF16" % (ROUNDS, B, H, N, D))
    print("%-24s" % "" + "".join("%14s" % Path(a).name for a in arts))
    for n in names:
        med = [statistics.median(r[n]["us"] for r in runs[a]) for a in arts]
        same = all(runs[a][0][n]["sha1"] == runs[arts[0]][0][n]["sha1"] for a in arts)
        print("%-24s" % n + "".join("%14.1f" % m for m in med) +
              "   x %.3f" % (med[0] / med[-1]) + ("   outputs identical" if same else
                                                   "   OUTPUTS DIFFER"))


if __name__ == "__main__":
    main()
