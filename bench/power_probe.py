"""SM clock, power and throttle reasons while one forward runs back to back (run on the GPU machine).

    python3 bench/power_probe.py

For about 3 s per case, nvidia-smi sampled every 100 ms: attnqat.torch's
forward in modes none, qat and dropin and cuDNN's SDPA, D = 128, at the
benchmark's 4k and 16k shapes. Session 37 (H100, bench/results/power-session37-h100.log):
every case ran at the 700 W cap (throttle reason 0x4, software power cap).
"""
import subprocess, sys, time, threading
from pathlib import Path
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import attnqat.torch as at

def sample(stop, out):
    while not stop.is_set():
        r = subprocess.run(["nvidia-smi", "--query-gpu=clocks.sm,power.draw,temperature.gpu,clocks_throttle_reasons.active",
                            "--format=csv,noheader,nounits"], capture_output=True, text=True)
        out.append(r.stdout.strip())
        time.sleep(0.1)

def run(label, fn, seconds=3.0):
    fn(); torch.cuda.synchronize()
    stop = threading.Event(); out = []
    th = threading.Thread(target=sample, args=(stop, out)); th.start()
    t0 = time.time(); n = 0
    ev0 = torch.cuda.Event(enable_timing=True); ev1 = torch.cuda.Event(enable_timing=True)
    ev0.record()
    while time.time() - t0 < seconds:
        for _ in range(5):
            fn()
        n += 5
        torch.cuda.synchronize()
    ev1.record(); torch.cuda.synchronize()
    stop.set(); th.join()
    ms = ev0.elapsed_time(ev1) / n
    vals = [x.split(", ") for x in out[3:] if x]
    clk = sorted(int(v[0]) for v in vals); pw = sorted(float(v[1]) for v in vals)
    reasons = sorted(set(v[3] for v in vals))
    print(f"{label:34s} {ms:7.3f} ms/call  SM clock median {clk[len(clk)//2]} MHz (min {clk[0]}, max {clk[-1]})  "
          f"power median {pw[len(pw)//2]:.0f} W (max {pw[-1]:.0f})  throttle reasons {reasons}", flush=True)

for B, H, N, causal in ((4, 16, 4096, False), (1, 16, 16384, False)):
    q, k, v = (torch.randn(B, H, N, 128, device="cuda", dtype=torch.bfloat16, requires_grad=True) for _ in range(3))
    run(f"N={N} c={int(causal)} none", lambda: at.attention(q, k, v, causal=causal, mode="none"))
    run(f"N={N} c={int(causal)} qat", lambda: at.attention(q, k, v, causal=causal, mode="qat"))
    run(f"N={N} c={int(causal)} dropin", lambda: at.attention(q, k, v, causal=causal, mode="dropin"))
    with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
        run(f"N={N} c={int(causal)} cuDNN", lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal))
