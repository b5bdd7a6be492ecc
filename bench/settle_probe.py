"""How a kernel's time per call moves while it runs back to back (run on the GPU machine).

    python3 bench/settle_probe.py

After 1 s idle, the benchmark's old protocol (5 calls after one warm-up),
then 100-ms windows for 2 s: cuDNN's SDPA forward and attnqat.torch's qat
and none forwards, D = 128, at the benchmark's 4k and 16k shapes. Session 37
(H100, bench/results/power-session37-h100.log): cuDNN's forward 0.840 ms in
the burst, a median of 0.965 ms per call over the windows after the first
(the power cap); the qat forward 2.029 and 2.086 ms. bench_attention.py
times sustained since.
"""
import sys, time
from pathlib import Path
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import attnqat.torch as at

def windows(fn, total_s=2.0, win_ms=100.0):
    fn(); torch.cuda.synchronize()
    # the benchmark's protocol first: 5 calls after that one warm-up
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    s.record()
    for _ in range(5): fn()
    e.record(); torch.cuda.synchronize()
    burst = s.elapsed_time(e) / 5
    out = []; t0 = time.time()
    while time.time() - t0 < total_s:
        s.record(); n = 0
        while True:
            fn(); n += 1
            e.record(); torch.cuda.synchronize()
            if s.elapsed_time(e) >= win_ms: break
        out.append(s.elapsed_time(e) / n)
    return burst, out

for B, H, N in ((4, 16, 4096), (1, 16, 16384)):
    q, k, v = (torch.randn(B, H, N, 128, device="cuda", dtype=torch.bfloat16, requires_grad=True) for _ in range(3))
    for label, fn in (("cuDNN", lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v)),
                      ("qat", lambda: at.attention(q, k, v, mode="qat")),
                      ("none", lambda: at.attention(q, k, v, mode="none")),
                      ("cuDNN again", lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v))):
        time.sleep(1.0)
        with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
            burst, w = windows(fn)
        print(f"N={N} {label:12s} burst(5) {burst:.3f} ms; 100-ms windows: " + " ".join(f"{x:.3f}" for x in w), flush=True)
