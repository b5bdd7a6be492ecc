"""A forward's cost per key tile and per block, from kernel times (run on the GPU machine).

    python3 bench/forward_overhead.py [--modes qat,dropin,none] [--causal] [--D 128]

Times attnqat.torch.attention's forward kernel alone (torch.profiler, the
`attention_fwd_*` kernel of each call, mean of --iters calls) at key counts
N from 1k to 32k with B * H * N fixed (--tokens, default 4 * 16 * 4096: the
benchmark's 4k and 16k shapes at D = 128), so that every N launches the same
query tiles and only the key tiles per tile grow. A least-squares line
time = a + b * N / 64 then splits the time into b per 64-key tile (over the
whole grid) and a, the part that does not grow with N: per block the
prologue and epilogue outside the tile loop, launch and tail. a / b is that
part in tiles of work. Also prints the time of the quantization kernels of
the call (the rest of its kernels) and, with --single-wave, the forward
alone at 128 blocks of 128 rows (one wave on an H100 or H200), where
time = a1 + b1 * tiles gives a block's own overhead a1 directly.

Session 37 (H100): the non-causal qat NVFP4 forward at D = 128 spends
a = 0.15 ms per launch (about 6 tiles of work per block of 128 rows, 8% of
the kernel at 4k keys); see docs/gpu-kernels.md.
"""

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import attnqat.torch as at  # noqa: E402
from step_profile import kernel_times  # noqa: E402


def forward_ms(B, H, N, D, causal, mode, fmt, iters):
    q, k, v = (torch.randn(B, H, N, D, device="cuda", dtype=torch.bfloat16, requires_grad=True)
               for _ in range(3))
    t = kernel_times(lambda: at.attention(q, k, v, causal=causal, mode=mode, format=fmt),
                     iters=iters)
    name, ms = max(((n, x) for n, x in t.items() if n.startswith("attention_fwd")),
                   key=lambda item: item[1])
    return name, ms, sum(t.values()) - ms


def fit(xs, ys):
    """Least-squares a, b of y = a + b x."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--modes", default="qat,dropin,none")
    ap.add_argument("--format", default="nvfp4", choices=["nvfp4", "mxfp4"])
    ap.add_argument("--causal", action="store_true")
    ap.add_argument("--D", type=int, default=128)
    ap.add_argument("--tokens", type=int, default=4 * 16 * 4096, help="B * H * N")
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--single-wave", action="store_true")
    args = ap.parse_args()
    print(f"# {torch.cuda.get_device_name()}, D = {args.D}, causal = {args.causal}, "
          f"B * H * N = {args.tokens}, format {args.format}, kernel times (ms), mean of {args.iters}")
    for mode in args.modes.split(","):
        xs, ys = [], []
        for N in (1024, 2048, 4096, 8192, 16384, 32768):
            BH = args.tokens // N
            H = min(BH, 16)
            B = BH // H
            name, ms, rest = forward_ms(B, H, N, args.D, args.causal, mode, args.format, args.iters)
            flops = 4 * B * H * N * N * args.D / (2 if args.causal else 1)
            print(f"{mode:6s} B={B:2d} H={H:2d} N={N:5d}: {ms:8.3f} ms {flops / ms / 1e9:6.1f} TFLOP/s "
                  f"(other kernels {rest:.3f} ms) {name}")
            xs.append(N / 64)
            ys.append(ms)
        a, b = fit(xs, ys)
        shares = ", ".join(f"{int(x * 64) // 1024}k {100 * a / y:.1f}%" for x, y in zip(xs, ys))
        print(f"{mode:6s} fit: {b * 1e3:.2f} us per key tile of every block, {a:.3f} ms fixed "
              f"({a / b:.1f} tiles of work per block); fixed share: {shares}")
    if args.single_wave:
        xs, ys = [], []
        for N in (4096, 8192, 16384):
            H = 4 * 4096 // N
            name, ms, _ = forward_ms(1, H, N, args.D, False, "qat", args.format, args.iters)
            print(f"single wave qat H={H} N={N}: {ms * 1e3:.1f} us ({N // 64} tiles per block) {name}")
            xs.append(N / 64)
            ys.append(ms)
        a, b = fit(xs, ys)
        print(f"single wave fit: {b * 1e3:.3f} us per tile, {a * 1e3:.1f} us fixed ({a / b:.1f} tiles)")


if __name__ == "__main__":
    main()
