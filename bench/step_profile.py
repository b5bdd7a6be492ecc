"""Where a training step's time goes, kernel by kernel (run on the GPU machine).

    python3 bench/step_profile.py [--mode qat] [--format nvfp4|mxfp4] [B:H:N:D:causal ...]

Profiles one attnqat.torch.attention forward+backward (after a warm-up)
with torch.profiler and prints each GPU kernel's time and share of the
step, next to cuDNN's BF16 SDPA forward+backward on the same inputs.
Default shapes: the benchmark's 16k and 4k keys at D = 128, causal and not.

With --ncu it runs each step once, without warm-up or torch.profiler, for
an outside profiler (--no-cudnn leaves out cuDNN's step):

    ncu -k regex:'attention_bwd_wg_qat|bprop' --section SpeedOfLight \
        python3 bench/step_profile.py --ncu 4:16:4096:128:0
"""

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import attnqat.torch as at  # noqa: E402


def kernel_times(fn, ncu=False, iters=1):
    """Each GPU kernel's time (ms) per call of fn, over `iters` profiled
    calls after a warm-up; with `ncu`, one call and no profiler."""
    if ncu:  # one run, timed by the profiler outside
        fn()
        torch.cuda.synchronize()
        return {}
    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(iters):
            fn()
        torch.cuda.synchronize()
    times = defaultdict(float)
    for e in prof.events():
        if e.device_type == torch.autograd.DeviceType.CUDA:
            times[e.name] += e.device_time_total / 1e3 / iters  # ms
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="qat")
    ap.add_argument("--format", default="nvfp4", choices=["nvfp4", "mxfp4"])
    ap.add_argument("--ncu", action="store_true", help="one step each, for ncu")
    ap.add_argument("--no-cudnn", action="store_true", help="leave out cuDNN's step")
    ap.add_argument("shapes", nargs="*",
                    default=["1:16:16384:128:0", "1:16:16384:128:1", "4:16:4096:128:0",
                             "4:16:4096:128:1"])
    args = ap.parse_args()
    for spec in args.shapes:
        B, H, N, D, c = (int(x) for x in spec.split(":"))
        causal = bool(c)
        q, k, v = (torch.randn(B, H, N, D, device="cuda", dtype=torch.bfloat16,
                               requires_grad=True) for _ in range(3))
        do = torch.randn_like(q)
        ours = kernel_times(lambda: torch.autograd.grad(
            at.attention(q, k, v, causal=causal, mode=args.mode, format=args.format), (q, k, v), do),
            args.ncu)
        ref = {}
        if not args.no_cudnn:
            with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
                ref = kernel_times(lambda: torch.autograd.grad(
                    torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal),
                    (q, k, v), do), args.ncu)
        if args.ncu:
            continue
        total, ref_total = sum(ours.values()), sum(ref.values())
        print(f"== B={B} H={H} N={N} D={D} causal={causal} mode={args.mode} format={args.format}: kernels "
              f"{total:.3f} ms, cuDNN {ref_total:.3f} ms (ratio {ref_total / total:.3f})")
        for name, ms in sorted(ours.items(), key=lambda x: -x[1]):
            print(f"  {ms:8.3f} ms {100 * ms / total:5.1f}%  {name[:90]}")
        for name, ms in sorted(ref.items(), key=lambda x: -x[1]):
            print(f"  cuDNN {ms:8.3f} ms  {name[:84]}")
        del q, k, v, do


if __name__ == "__main__":
    main()
