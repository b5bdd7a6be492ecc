"""Forward + backward of attnqat.torch.attention and of PyTorch's cuDNN SDPA,
one step per shape, for a profiler (ncu) on a GPU machine.

    ncu -k regex:'attention_bwd_wg_qat|bprop' --section SpeedOfLight \
        --section WarpStateStats python3 bench/profile_backward.py nvfp4 4:16:4096:128:0

Arguments: the format (nvfp4 or mxfp4; mode qat), then shapes B:H:N:D:causal
(default 4:16:4096:128:0). Environment: PROFILE_MODE picks the mode (qat),
PROFILE_CUDNN=0 leaves out cuDNN's backward.
"""

import os
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import attnqat.torch as at  # noqa: E402

fmt = sys.argv[1] if len(sys.argv) > 1 else "nvfp4"
shapes = sys.argv[2:] or ["4:16:4096:128:0"]
mode = os.environ.get("PROFILE_MODE", "qat")
for shape in shapes:
    B, H, N, D, causal = (int(x) for x in shape.split(":"))
    q, k, v = (torch.randn(B, H, N, D, device="cuda", dtype=torch.bfloat16,
                           requires_grad=True) for _ in range(3))
    do = torch.randn(B, H, N, D, device="cuda", dtype=torch.bfloat16)
    at.attention(q, k, v, causal=bool(causal), mode=mode, format=fmt).backward(do)
    if os.environ.get("PROFILE_CUDNN", "1") != "0":
        with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
            F.scaled_dot_product_attention(q, k, v, is_causal=bool(causal)).backward(do)
torch.cuda.synchronize()
