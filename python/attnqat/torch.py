"""attnqat.torch.attention: FP4 QAT attention as a torch.autograd.Function.

    import attnqat.torch
    o = attnqat.torch.attention(q, k, v, causal=True, mode="qat")

q: [B, Hq, M, D], k and v: [B, Hkv, N, D] CUDA float32 or bfloat16 tensors
(Hq a multiple of Hkv). Runs on PyTorch's current stream. Modes: "none"
(ordinary attention), "qat" (FP4 Q, K, V and P, matched backward with D from
O'), "dropin" (the same forward, ordinary backward; for ablations). Formats:
"nvfp4" (blocks of 16, E4M3 scales, two-level P; the default) and "mxfp4"
(blocks of 32, E8M0 scales, single-level P). Gradients pass straight through
the quantizers.

bfloat16 with head dim 64 or 128 runs the tensor-core kernels (BF16 MMA;
softmax and P quantization in registers; the backward recomputes P with the
forward's codes and scales); other inputs run the baseline kernels (one
thread per query row). Gradients are accumulated in f32 and returned in the
inputs' dtype.
"""

import math

import torch

from . import runtime as _rt

_RUNTIME = None
MODES = ("none", "qat", "dropin")
FORMATS = ("nvfp4", "mxfp4")


def _runtime():
    global _RUNTIME
    if _RUNTIME is None:
        torch.zeros(1, device="cuda")  # PyTorch's context becomes current
        _RUNTIME = _rt.Runtime()
    return _RUNTIME


def _stream():
    return torch.cuda.current_stream().cuda_stream


_DTYPES = {torch.float32: "f32", torch.bfloat16: "bf16"}
# P's block size and levels per format (two-level P needs E4M3 scales).
_BLOCK = {"nvfp4": 16, "mxfp4": 32}
_P_PART = {"nvfp4": "pnvfp42", "mxfp4": "pmxfp41"}


def _config(mode, fmt):
    """The config part of a kernel name: mode none has no formats."""
    return "none" if mode == "none" else f"{mode}_{_P_PART[fmt]}"

# Which sm_90a BF16 forward runs: "wg" (wgmma, a producer warpgroup and two
# consumer warpgroups) where the artifact has it, or "tc" (mma.sync). Both
# compute the same numbers up to accumulation order.
forward_family = "wg"


# Which sm_90a BF16 backward runs: "wg" (wgmma) where the artifact has it,
# or "tc" (mma.sync). Same numbers up to accumulation order.
backward_family = "wg"


def _family_name(direction, family, config, causal_part, D):
    if family == "wg":
        name = f"attention_{direction}_wg_{config}{causal_part}_d{D}_bf16"
        if _runtime().has_kernel(name):
            return name
    return f"attention_{direction}_tc_{config}{causal_part}_d{D}_bf16"


def _forward_name(config, causal_part, D):
    return _family_name("fwd", forward_family, config, causal_part, D)


def _backward_name(config, causal_part, D):
    return _family_name("bwd", backward_family, config, causal_part, D)


def _launch_backward(name, problem, args, device):
    """Launches tensor-core backward `name` with `args` (all but dQ's
    accumulator, dK and dV) and returns dQ, dK, dV in BF16. The wgmma
    backward writes dK and dV in BF16 and adds dQ in f32 tiles (`dq_tiles`,
    one bulk reduction per tile) that its post-pass turns into BF16; the
    mma.sync one writes f32 dK, dV and adds f32 rows of dQ (`dq_acc`)."""
    B, Hq, Hkv, M, N, D = (problem.B, problem.Hq, problem.Hkv, problem.M, problem.N,
                           problem.D)
    bf16, f32 = torch.bfloat16, torch.float32
    if "_bwd_wg_" in name:
        tiles = torch.zeros(B * Hq * -(-M // 64) * 64 * D, dtype=f32, device=device)
        dk = torch.empty((B, Hkv, N, D), dtype=bf16, device=device)
        dv = torch.empty_like(dk)
        _runtime().launch(name, problem, args + [
            _rt.ptr_arg("dq_tiles", tiles.data_ptr()), _rt.ptr_arg("dk", dk.data_ptr()),
            _rt.ptr_arg("dv", dv.data_ptr())], _stream())
        dq = torch.empty((B, Hq, M, D), dtype=bf16, device=device)
        rows_only = _rt.Problem(B, Hq, Hkv, M, N, D, 0, 0)
        _runtime().launch("attention_bwd_wg_dq_bf16", rows_only,
                          [_rt.ptr_arg("dq_tiles", tiles.data_ptr()),
                           _rt.ptr_arg("dq", dq.data_ptr())], _stream())
        return dq, dk, dv
    acc = torch.zeros((B, Hq, M, D), dtype=f32, device=device)
    dk = torch.empty((B, Hkv, N, D), dtype=f32, device=device)
    dv = torch.empty_like(dk)
    _runtime().launch(name, problem, args + [
        _rt.ptr_arg("dq_acc", acc.data_ptr()), _rt.ptr_arg("dk", dk.data_ptr()),
        _rt.ptr_arg("dv", dv.data_ptr())], _stream())
    return acc.to(bf16), dk.to(bf16), dv.to(bf16)


def _fake_quant(x, outer, axis, inner, fmt):
    """`fmt` fake quantization of contiguous x viewed as [outer, axis,
    inner] with blocks along `axis`."""
    out = torch.empty_like(x)
    problem = _rt.Problem(outer, 1, 1, axis, 1, inner, 0, 0)
    _runtime().launch(f"fake_quant_{fmt}_{_DTYPES[x.dtype]}", problem,
                      [_rt.ptr_arg("input", x.data_ptr()),
                       _rt.ptr_arg("output", out.data_ptr())], _stream())
    return out


def _check_inputs(q, k, v, mode, fmt):
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"attnqat.torch.attention: {name} must be a torch.Tensor")
        if t.device.type != "cuda":
            raise ValueError(f"attnqat.torch.attention: {name} is on {t.device}; "
                             "CUDA tensors are required")
        if t.dtype not in _DTYPES:
            raise TypeError(f"attnqat.torch.attention: {name} has dtype {t.dtype}; "
                            "the kernels take torch.float32 or torch.bfloat16")
        if t.dim() != 4:
            raise ValueError(f"attnqat.torch.attention: {name} must be 4-D "
                             f"[B, H, L, D], got shape {tuple(t.shape)}")
    if not (q.dtype == k.dtype == v.dtype):
        raise TypeError("attnqat.torch.attention: q, k and v must have one dtype, "
                        f"got {q.dtype}, {k.dtype}, {v.dtype}")
    if not (q.device == k.device == v.device):
        raise ValueError("attnqat.torch.attention: q, k and v must be on one device")
    if k.shape != v.shape:
        raise ValueError(f"attnqat.torch.attention: k {tuple(k.shape)} and v "
                         f"{tuple(v.shape)} must have the same shape")
    if q.shape[0] != k.shape[0] or q.shape[3] != k.shape[3]:
        raise ValueError(f"attnqat.torch.attention: q {tuple(q.shape)} and k "
                         f"{tuple(k.shape)} must agree in batch and head dim")
    if q.shape[1] % k.shape[1] != 0:
        raise ValueError(f"attnqat.torch.attention: query heads ({q.shape[1]}) must "
                         f"be a multiple of key/value heads ({k.shape[1]})")
    if mode not in MODES:
        raise ValueError(f"attnqat.torch.attention: mode must be one of {MODES}, "
                         f"got {mode!r}")
    if fmt not in FORMATS:
        raise ValueError(f"attnqat.torch.attention: format must be one of "
                         f"{FORMATS}, got {fmt!r}")


class PackedStateFunction(torch.autograd.Function):
    """qat / dropin on bf16 with head dim 64 or 128, saving Q, K, V packed
    (codes + scales: 4.5 bits per element instead of 16 in NVFP4, 4.25 in
    MXFP4). Computes the
    same numbers as AttentionFunction on the tensor-core path, bit for bit.
    decode_first (the default) decodes the codes once per pass into
    transient BF16 tensors and runs the BF16 tensor-core kernels; False runs
    the kernels that decode every tile themselves (the same numbers)."""

    @staticmethod
    def forward(ctx, q, k, v, causal, scale, mode, v_layout="rows", decode_first=True,
                fmt="nvfp4"):
        B, Hq, M, D = q.shape
        Hkv, N = k.shape[1], k.shape[2]
        if fmt != "nvfp4" and v_layout != "rows":
            raise ValueError("attnqat.torch: the t64 layout of V is NVFP4's only")
        qp = quantize(q, -1, format=fmt)
        kp, vp = quantize(k, -1, format=fmt), quantize(v, -2, format=fmt)
        causal_part = "_causal" if causal else ""
        o = torch.empty_like(q)
        rows = q.new_empty((B, Hq, M), dtype=torch.float32)
        lse, m, l = rows, torch.empty_like(rows), torch.empty_like(rows)
        problem = _rt.Problem(B, Hq, Hkv, M, N, D, _rt.FLAG_CAUSAL if causal else 0, 0)
        if decode_first:
            # Decoded once (transient BF16 Q^F, K^F, V^F, not saved), then the
            # tensor-core forward; O' rounded to BF16 as the packed kernel does.
            qd, kd, vd = dequantize(qp), dequantize(kp), dequantize(vp)
            o_prime = torch.empty_like(q) if mode == "qat" else None
            args = [_rt.ptr_arg(r, t.data_ptr()) for r, t in (
                ("q", qd), ("k", kd), ("v", vd), ("o", o), ("lse", lse), ("m", m),
                ("l", l))]
            args.append(_rt.f32_arg("scale", scale))
            if o_prime is not None:
                args.append(_rt.ptr_arg("o_prime", o_prime.data_ptr()))
            _runtime().launch(_forward_name(_config(mode, fmt), causal_part, D),
                              problem, args, _stream())
        else:
            # O' in BF16: the packed state keeps it (and O) at 2 bytes an element.
            o_prime = torch.empty_like(q) if mode == "qat" else None
            args = [_rt.ptr_arg(r, t.data_ptr()) for r, t in (
                ("q", qp.codes), ("k", kp.codes), ("v", vp.codes), ("q_scales", qp.scales),
                ("k_scales", kp.scales), ("v_scales", vp.scales), ("o", o), ("lse", lse),
                ("m", m), ("l", l))]
            args.append(_rt.f32_arg("scale", scale))
            if o_prime is not None:
                args.append(_rt.ptr_arg("o_prime", o_prime.data_ptr()))
            _runtime().launch(
                f"attention_fwd_tc_{_config(mode, fmt)}{causal_part}_d{D}_bf16_packed",
                problem, args, _stream())
        saved = o_prime if mode == "qat" else o
        # v_layout="t64" saves V as the sm_120a forward does (its block-scaled
        # MMA reads V^T); the backward then reads that layout.
        if v_layout == "t64":
            vp = quantize(v, -2, layout="t64", format=fmt)
        ctx.save_for_backward(qp.codes, qp.scales, kp.codes, kp.scales, vp.codes,
                              vp.scales, saved, m, l)
        ctx.config = (causal, scale, mode, problem, v_layout, decode_first, fmt)
        return o

    @staticmethod
    def backward(ctx, grad_o):
        qc, qs, kc, ks, vc, vs, saved, m, l = ctx.saved_tensors
        causal, scale, mode, problem, v_layout, decode_first, fmt = ctx.config
        B, Hq, Hkv, M, N, D = (problem.B, problem.Hq, problem.Hkv, problem.M,
                               problem.N, problem.D)
        grad_o = grad_o.contiguous().to(torch.bfloat16)
        delta = m.new_empty(m.shape)
        rows_only = _rt.Problem(B, Hq, Hkv, M, N, D, 0, 0)
        _runtime().launch("attention_bwd_tc_delta_obf16_bf16", rows_only,
                          [_rt.ptr_arg("o_saved", saved.data_ptr()),
                           _rt.ptr_arg("do", grad_o.data_ptr()),
                           _rt.ptr_arg("delta", delta.data_ptr())], _stream())
        causal_part = "_causal" if causal else ""
        if decode_first and v_layout == "rows":
            # The saved codes decoded once more (transient), then the
            # tensor-core backward on BF16 operands.
            name = _backward_name(_config(mode, fmt), causal_part, D)
            qd = dequantize(Packed(qc, qs, (B, Hq, M, D), 3, format=fmt))
            kd = dequantize(Packed(kc, ks, (B, Hkv, N, D), 3, format=fmt))
            vd = dequantize(Packed(vc, vs, (B, Hkv, N, D), 2, format=fmt))
            operands = (("q", qd), ("k", kd), ("v", vd))
        else:  # the kernels that decode the tiles themselves
            operands = (("q", qc), ("k", kc), ("v", vc), ("q_scales", qs),
                        ("k_scales", ks), ("v_scales", vs))
            name = (f"attention_bwd_tc_{_config(mode, fmt)}{causal_part}_d{D}_bf16_packed"
                    + ("_t64" if v_layout == "t64" else ""))
        args = [_rt.ptr_arg(r, t.data_ptr()) for r, t in operands + (
            ("m", m), ("l", l), ("delta", delta), ("do", grad_o))]
        args.append(_rt.f32_arg("scale", scale))
        dq, dk, dv = _launch_backward(name, problem, args, grad_o.device)
        return dq, dk, dv, None, None, None, None, None, None


class AttentionFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v, causal, scale, mode, fmt="nvfp4"):
        B, Hq, M, D = q.shape
        Hkv, N = k.shape[1], k.shape[2]
        q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
        if mode != "none":  # Q, K blocked along D; V along keys.
            q = _fake_quant(q, B * Hq * M, D, 1, fmt)
            k = _fake_quant(k, B * Hkv * N, D, 1, fmt)
            v = _fake_quant(v, B * Hkv, N, D, fmt)
        quantized = mode != "none"
        dtype = _DTYPES[q.dtype]
        tensor_cores = q.dtype == torch.bfloat16 and D in (64, 128)
        causal_part = "_causal" if causal else ""
        if tensor_cores:
            fwd = _forward_name(_config(mode, fmt), causal_part, D)
        else:  # drop-in's forward is qat's
            fwd = (f"attention_fwd_{_config('qat' if quantized else 'none', fmt)}"
                   f"{causal_part}_{dtype}")
        with_o_prime = mode == "qat" or (quantized and not tensor_cores)
        o = torch.empty_like(q)
        # O' in O's type from the tensor-core forwards (BF16), f32 from the others.
        o_prime = None
        if with_o_prime:
            o_prime = q.new_empty(q.shape, dtype=q.dtype if tensor_cores else torch.float32)
        rows = q.new_empty((B, Hq, M), dtype=torch.float32)
        lse, m, l = rows, torch.empty_like(rows), torch.empty_like(rows)
        args = [_rt.ptr_arg("q", q.data_ptr()), _rt.ptr_arg("k", k.data_ptr()),
                _rt.ptr_arg("v", v.data_ptr()), _rt.ptr_arg("o", o.data_ptr()),
                _rt.ptr_arg("lse", lse.data_ptr()), _rt.ptr_arg("m", m.data_ptr()),
                _rt.ptr_arg("l", l.data_ptr()), _rt.f32_arg("scale", scale)]
        if with_o_prime:
            args.append(_rt.ptr_arg("o_prime", o_prime.data_ptr()))
        o_acc = None
        if q.dtype != torch.float32 and not tensor_cores:  # f32 workspace
            o_acc = q.new_empty(q.shape, dtype=torch.float32)
            args.append(_rt.ptr_arg("o_acc", o_acc.data_ptr()))
        problem = _rt.Problem(B, Hq, Hkv, M, N, D, _rt.FLAG_CAUSAL if causal else 0, 0)
        _runtime().launch(fwd, problem, args, _stream())
        # What the backward needs: the quantized operands, O' (qat) or O
        # (the BF16 output itself where the tensor-core pre-pass reads it;
        # else f32), and the forward's frame m and normalizer l.
        if mode == "qat":
            saved = o_prime
        elif o_acc is not None:
            saved = o_acc
        else:
            saved = o if tensor_cores else o.float()
        ctx.save_for_backward(q, k, v, saved, m, l)
        ctx.config = (causal, scale, mode, problem, tensor_cores, fmt)
        return o

    @staticmethod
    def backward(ctx, grad_o):
        q, k, v, saved, m, l = ctx.saved_tensors
        causal, scale, mode, problem, tensor_cores, fmt = ctx.config
        grad_o = grad_o.contiguous().to(q.dtype)
        f32 = torch.float32
        causal_part = "_causal" if causal else ""
        args = [_rt.ptr_arg("q", q.data_ptr()), _rt.ptr_arg("k", k.data_ptr()),
                _rt.ptr_arg("v", v.data_ptr()), _rt.ptr_arg("m", m.data_ptr()),
                _rt.ptr_arg("l", l.data_ptr()), _rt.ptr_arg("do", grad_o.data_ptr()),
                _rt.f32_arg("scale", scale)]
        if tensor_cores:
            # delta = rowsum(dO * O_saved) from the BF16 O' or O the forward
            # wrote, then the dK/dV-stationary kernel: dK and dV written, dQ
            # accumulated from zero.
            D = q.shape[-1]
            delta = m.new_empty(m.shape)
            rows_only = _rt.Problem(problem.B, problem.Hq, problem.Hkv, problem.M,
                                    problem.N, problem.D, 0, 0)
            _runtime().launch("attention_bwd_tc_delta_obf16_bf16", rows_only,
                              [_rt.ptr_arg("o_saved", saved.data_ptr()),
                               _rt.ptr_arg("do", grad_o.data_ptr()),
                               _rt.ptr_arg("delta", delta.data_ptr())], _stream())
            args.append(_rt.ptr_arg("delta", delta.data_ptr()))
            dq, dk, dv = _launch_backward(_backward_name(_config(mode, fmt), causal_part, D),
                                          problem, args, q.device)
            return dq, dk, dv, None, None, None, None
        dq = torch.empty(q.shape, dtype=f32, device=q.device)
        dk = torch.zeros(k.shape, dtype=f32, device=k.device)  # atomics
        dv = torch.zeros(v.shape, dtype=f32, device=v.device)
        name = f"attention_bwd_{_config(mode, fmt)}{causal_part}_{_DTYPES[q.dtype]}"
        args += [_rt.ptr_arg("o_saved", saved.data_ptr()), _rt.ptr_arg("dq", dq.data_ptr())]
        args += [_rt.ptr_arg("dk", dk.data_ptr()), _rt.ptr_arg("dv", dv.data_ptr())]
        _runtime().launch(name, problem, args, _stream())
        dq, dk, dv = dq.to(q.dtype), dk.to(k.dtype), dv.to(v.dtype)
        return dq, dk, dv, None, None, None, None


def _differentiated(*tensors):
    """Whether autograd will record this call: grad mode on and an input
    that requires grad."""
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


def attention(q, k, v, *, causal=False, scale=None, mode="qat", format="nvfp4",
              packed_state=False):
    """FP4 QAT attention (see the module docstring). Returns O like q.

    format: "nvfp4" or "mxfp4", the format of Q, K, V and P in modes qat and
    dropin (mode none ignores it).

    packed_state=True (modes qat and dropin, bfloat16, head dim 64 or 128)
    keeps Q, K, V for the backward as codes and scales of `format` rather
    than BF16: same results, less activation memory (docs/python.md).

    Where autograd records no backward (torch.no_grad(), or no input that
    requires grad), mode qat computes the same O without O' (DESIGN.md: O'
    is for training only), as dropin's forward; evaluation runs faster."""
    _check_inputs(q, k, v, mode, format)
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"attnqat.torch.attention: scale must be finite and "
                         f"positive, got {scale}")
    differentiated = _differentiated(q, k, v)
    if packed_state:
        if mode not in ("qat", "dropin") or q.dtype != torch.bfloat16 or \
                q.shape[-1] not in (64, 128):
            raise ValueError("attnqat.torch.attention: packed_state needs mode qat or "
                             "dropin, bfloat16 inputs and head dim 64 or 128")
    if packed_state and differentiated:  # else there is no state to keep
        return PackedStateFunction.apply(q.contiguous(), k.contiguous(), v.contiguous(),
                                         bool(causal), float(scale), mode, "rows", True,
                                         format)
    if mode == "qat" and not differentiated:
        # O' only feeds the backward's D (DESIGN.md: "training only"); without
        # a backward, qat's forward is dropin's, bit for bit, without O'.
        mode = "dropin"
    return AttentionFunction.apply(q, k, v, bool(causal), float(scale), mode, format)


class Packed:
    """FP4 codes and scales of a tensor, blocked along one dim: `codes`
    (uint8, two E2M1 codes per byte along that dim, element 2j in the low
    nibble), `scales` (uint8, one per block along it: E4M3 per 16 elements
    in NVFP4, E8M0 per 32 in MXFP4), the original `shape`, the block `dim`,
    the `layout` ("rows", or "t64": see quantize) and the `format`."""

    def __init__(self, codes, scales, shape, dim, layout="rows", format="nvfp4"):
        self.codes, self.scales, self.shape, self.dim = codes, scales, tuple(shape), dim
        self.layout, self.format = layout, format


def quantize(x, dim, layout="rows", format="nvfp4"):
    """Quantizes a CUDA bfloat16 tensor to `format` ("nvfp4": blocks of 16
    with E4M3 scales; "mxfp4": blocks of 32 with E8M0 scales) along `dim`
    (DESIGN.md: Q and K along the head dim, V along the keys). Returns a
    Packed on x's device, produced on PyTorch's current stream.

    layout="t64" stores the codes transposed, as sm_120a's block-scaled MMA
    reads V: per index of the dims after `dim`, the codes along `dim` padded
    to a multiple of 64 (32 bytes per 64, element 2j in the low nibble) and
    64 / block scale bytes per 64 (docs/gpu-kernels.md)."""
    if not isinstance(x, torch.Tensor) or x.device.type != "cuda":
        raise ValueError("attnqat.torch.quantize: x must be a CUDA tensor")
    if x.dtype != torch.bfloat16:
        raise TypeError(f"attnqat.torch.quantize: x has dtype {x.dtype}; "
                        "torch.bfloat16 is required")
    if layout not in ("rows", "t64"):
        raise ValueError(f"attnqat.torch.quantize: layout must be 'rows' or 't64', "
                         f"got {layout!r}")
    if format not in FORMATS:
        raise ValueError(f"attnqat.torch.quantize: format must be one of {FORMATS}, "
                         f"got {format!r}")
    bs = _BLOCK[format]
    dim = dim % x.dim()
    x = x.contiguous()
    outer = math.prod(x.shape[:dim])
    axis, inner = x.shape[dim], math.prod(x.shape[dim + 1:])
    if layout == "t64":
        tiles = (axis + 63) // 64
        codes = x.new_empty((outer, inner, tiles * 32), dtype=torch.uint8)
        scales = x.new_empty((outer, inner, tiles * (64 // bs)), dtype=torch.uint8)
    else:
        codes = x.new_empty((outer, (axis + 1) // 2, inner), dtype=torch.uint8)
        scales = x.new_empty((outer, (axis + bs - 1) // bs, inner), dtype=torch.uint8)
    problem = _rt.Problem(outer, 1, 1, axis, 1, inner, 0, 0)
    kernel = f"quantize_{format}_bf16" + ("_t64" if layout == "t64" else "")
    _runtime().launch(kernel, problem,
                      [_rt.ptr_arg("input", x.data_ptr()),
                       _rt.ptr_arg("codes", codes.data_ptr()),
                       _rt.ptr_arg("scales", scales.data_ptr())], _stream())
    return Packed(codes, scales, x.shape, dim, layout, format)


def dequantize(p):
    """The bfloat16 values of a Packed in the rows layout (code x scale, exact
    in bfloat16), on PyTorch's current stream."""
    if not isinstance(p, Packed) or p.layout != "rows":
        raise TypeError("attnqat.torch.dequantize: expects an attnqat.torch.Packed "
                        "in the rows layout")
    dim = p.dim
    outer = math.prod(p.shape[:dim])
    axis, inner = p.shape[dim], math.prod(p.shape[dim + 1:])
    out = p.codes.new_empty(p.shape, dtype=torch.bfloat16)
    problem = _rt.Problem(outer, 1, 1, axis, 1, inner, 0, 0)
    _runtime().launch(f"dequantize_{p.format}_bf16", problem,
                      [_rt.ptr_arg("codes", p.codes.data_ptr()),
                       _rt.ptr_arg("scales", p.scales.data_ptr()),
                       _rt.ptr_arg("output", out.data_ptr())], _stream())
    return out


def attention_fp4(q, k, v, *, causal=False, scale=None, decode_first=True):
    """FP4 inference attention (mode fp4) on packed operands: q, k from
    quantize(., dim=-1), v from quantize(., dim=-2), all in one format, head
    dim 64 or 128. P is quantized as in training (NVFP4 two-level, or MXFP4).
    Returns O as bfloat16 [B, Hq, M, D]; no autograd.

    decode_first=True decodes Q, K, V to bfloat16 once (dequantize, exact)
    and runs the tensor-core forward on them; False runs the fp4 kernel that
    decodes every K and V tile in each query block. Both give the same O,
    bit for bit (python/tests/test_torch.py); the first is faster on Hopper
    (docs/gpu-kernels.md)."""
    for name, p, dim in (("q", q, 3), ("k", k, 3), ("v", v, 2)):
        if not isinstance(p, Packed):
            raise TypeError(f"attnqat.torch.attention_fp4: {name} must be an "
                            "attnqat.torch.Packed (from attnqat.torch.quantize)")
        if len(p.shape) != 4 or p.dim != dim or p.layout != "rows":
            raise ValueError(f"attnqat.torch.attention_fp4: {name} must be 4-D and "
                             f"blocked along dim {dim} in the rows layout, got shape "
                             f"{p.shape}, dim {p.dim}, layout {p.layout}")
    fmt = q.format
    if not (k.format == v.format == fmt):
        raise ValueError("attnqat.torch.attention_fp4: q, k and v must have one format, "
                         f"got {q.format}, {k.format}, {v.format}")
    B, Hq, M, D = q.shape
    Hkv, N = k.shape[1], k.shape[2]
    if k.shape != v.shape or k.shape[0] != B or k.shape[3] != D or Hq % Hkv:
        raise ValueError(f"attnqat.torch.attention_fp4: shapes q {q.shape}, k {k.shape}, "
                         f"v {v.shape} do not fit together")
    if D not in (64, 128):
        raise ValueError(f"attnqat.torch.attention_fp4: head dim {D} is not 64 or 128")
    if scale is None:
        scale = 1.0 / math.sqrt(D)
    o = q.codes.new_empty((B, Hq, M, D), dtype=torch.bfloat16)
    rows = q.codes.new_empty((B, Hq, M), dtype=torch.float32)
    lse, m, l = rows, torch.empty_like(rows), torch.empty_like(rows)
    causal_part = "_causal" if causal else ""
    problem = _rt.Problem(B, Hq, Hkv, M, N, D, _rt.FLAG_CAUSAL if causal else 0, 0)
    if decode_first:
        # Mode fp4's numbers on decoded operands are the dropin forward's
        # (Q^F, K^F, V^F in, P quantized in the same format, O = P^F V^F).
        name = _forward_name(_config("dropin", fmt), causal_part, D)
        qd, kd, vd = dequantize(q), dequantize(k), dequantize(v)
        args = [_rt.ptr_arg(r, t.data_ptr()) for r, t in (
            ("q", qd), ("k", kd), ("v", vd), ("o", o), ("lse", lse), ("m", m), ("l", l))]
        args.append(_rt.f32_arg("scale", float(scale)))
        _runtime().launch(name, problem, args, _stream())
        return o
    name = f"attention_fwd_tc_fp4_{_P_PART[fmt]}{causal_part}_d{D}_bf16"
    args = [_rt.ptr_arg(r, p.data_ptr()) for r, p in (
        ("q", q.codes), ("k", k.codes), ("v", v.codes), ("q_scales", q.scales),
        ("k_scales", k.scales), ("v_scales", v.scales), ("o", o), ("lse", lse),
        ("m", m), ("l", l))]
    args.append(_rt.f32_arg("scale", float(scale)))
    _runtime().launch(name, problem, args, _stream())
    return o
