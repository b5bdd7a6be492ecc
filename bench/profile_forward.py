"""One tensor-core forward per mode, for a profiler (ncu) on a GPU machine.

    ncu -k regex:attention_fwd_tc_ --section SpeedOfLight --section WarpStateStats \
        python3 bench/profile_forward.py none qat

B=1, H=16, N=8192, D=128, bf16, not causal (the shape the Occupancy notes of
docs/gpu-kernels.md were measured on).
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import attnqat.torch as at  # noqa: E402

B, H, N, D = 1, 16, 8192, 128
# Inputs that require grad: the training forward (qat writes O').
q, k, v = (torch.randn(B, H, N, D, device="cuda", dtype=torch.bfloat16, requires_grad=True)
           for _ in range(3))
for mode in sys.argv[1:] or ["none", "qat"]:
    at.attention(q, k, v, causal=False, mode=mode)
torch.cuda.synchronize()
