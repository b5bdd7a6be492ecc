"""The fused-Q qat forwards (attention_fwd_wg_*_qfq) on small shapes, for
compute-sanitizer (scripts/gpu-test step 10): Q fake-quantized in shared
memory by each consumer warpgroup, then read by wgmma, and Q^F written out
(a 200-row tail). Exits 0 with a message when the artifact has no such
kernel; 1 when an output is not finite."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import torch  # noqa: E402
import attnqat.torch as at  # noqa: E402

if not at._runtime().has_kernel("attention_fwd_wg_qat_pnvfp42_d128_bf16_qfq"):
    print("fused-Q sanitize: the artifact has no fused-Q forward")
    sys.exit(0)
torch.manual_seed(0)
ok = True
for fmt in ("nvfp4", "mxfp4"):
    for causal in (False, True):
        q, k, v = (torch.randn(1, 2, 200, 128, device="cuda", dtype=torch.bfloat16,
                               requires_grad=True) for _ in range(3))
        o = at.attention(q, k, v, causal=causal, format=fmt)
        qf = o.grad_fn.saved_tensors[0]
        torch.cuda.synchronize()
        finite = bool(o.isfinite().all()) and bool(qf.isfinite().all())
        print(f"fused-Q sanitize {fmt} causal={causal}: O and Q^F finite: {finite}")
        ok = ok and finite
sys.exit(0 if ok else 1)
