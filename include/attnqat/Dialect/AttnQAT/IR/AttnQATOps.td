//===- AttnQATOps.td - attnqat operations ------------------*- tablegen -*-===//

#ifndef ATTNQAT_DIALECT_ATTNQAT_IR_ATTNQATOPS_TD
#define ATTNQAT_DIALECT_ATTNQAT_IR_ATTNQATOPS_TD

include "attnqat/Dialect/AttnQAT/IR/AttnQATBase.td"
include "attnqat/Dialect/AttnQAT/IR/AttnQATAttrs.td"
include "attnqat/Dialect/AttnQAT/IR/AttnQATTypes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpAsmInterface.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def AttnQAT_FloatTensor : RankedTensorOf<[BF16, F16, F32]>;
def AttnQAT_CodeTensor : RankedTensorOf<[F4E2M1FN]>;
def AttnQAT_ScaleTensor : RankedTensorOf<[F8E4M3FN, F8E8M0FNU]>;
def AttnQAT_KeyLengths : 1DTensorOf<[I32]>;

//===----------------------------------------------------------------------===//
// Block codecs
//===----------------------------------------------------------------------===//

def AttnQAT_QuantizeOp : AttnQAT_Op<"quantize", [Pure]> {
  let summary = "quantize a tensor to FP4 codes and block scales";
  let description = [{
    Splits `input` into blocks of `format`'s block size along `axis` and
    encodes each block as E2M1 codes (same shape as the input) and one scale
    per block (the input's shape with the axis extent replaced by
    `ceil(extent / block size)`; a short last block behaves as if padded with
    zeros).

    ```
    for each block b along axis:
      amax  = max |x| over b                       # NaN if any x is NaN or Inf
      scale = E4M3(amax / 6 / g)       (NVFP4, round to nearest even, sat. 448)
            = 2^(floor(log2 amax) - 2) (MXFP4, as E8M0)
      code  = E2M1(x / (scale * g))    (round to nearest, ties to even, sat. 6)
    ```
    A block whose NVFP4 scale rounds to zero gets zero codes; a non-finite
    block gets a NaN scale and decodes to NaN.

    ```mlir
    %codes, %scales = attnqat.quantize %x as #attnqat.nvfp4 along 1
        : tensor<4x64xbf16> -> tensor<4x64xf4E2M1FN>, tensor<4x4xf8E4M3FN>
    ```
  }];
  let arguments = (ins AttnQAT_FloatTensor:$input, I64Attr:$axis,
                       AttnQAT_FP4FormatAttr:$format);
  let results = (outs AttnQAT_CodeTensor:$codes, AttnQAT_ScaleTensor:$scales);
  let assemblyFormat = [{
    $input `as` $format `along` $axis attr-dict `:` type($input) `->`
    type($codes) `,` type($scales)
  }];
  let hasVerifier = 1;
}

def AttnQAT_DequantizeOp : AttnQAT_Op<"dequantize", [Pure]> {
  let summary = "decode FP4 codes and block scales";
  let description = [{
    The inverse of `attnqat.quantize`: `result = code * scale * g` in
    float32, then rounded to the result's element type (exact for BF16 and
    F32 when g = 1). A NaN scale decodes its whole block to NaN.

    ```mlir
    %x = attnqat.dequantize %codes, %scales as #attnqat.nvfp4 along 1
        : tensor<4x64xf4E2M1FN>, tensor<4x4xf8E4M3FN> -> tensor<4x64xbf16>
    ```
  }];
  let arguments = (ins AttnQAT_CodeTensor:$codes, AttnQAT_ScaleTensor:$scales,
                       I64Attr:$axis, AttnQAT_FP4FormatAttr:$format);
  let results = (outs AttnQAT_FloatTensor:$result);
  let assemblyFormat = [{
    $codes `,` $scales `as` $format `along` $axis attr-dict `:` type($codes)
    `,` type($scales) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def AttnQAT_FakeQuantOp : AttnQAT_Op<"fake_quant",
    [Pure, SameOperandsAndResultType]> {
  let summary = "quantize then dequantize (phi)";
  let description = [{
    `dequantize(quantize(input))` with the same format and axis: the value a
    QAT forward computes with. Gradients pass straight through it (STE).

    ```mlir
    %y = attnqat.fake_quant %x as #attnqat.mxfp4 along 3 : tensor<1x8x128x64xbf16>
    ```
  }];
  let arguments = (ins AttnQAT_FloatTensor:$input, I64Attr:$axis,
                       AttnQAT_FP4FormatAttr:$format);
  let results = (outs AttnQAT_FloatTensor:$result);
  let assemblyFormat = "$input `as` $format `along` $axis attr-dict `:` type($input)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

def AttnQAT_AttentionOp : AttnQAT_Op<"attention",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "fused attention forward with FP4 quantization-aware training";
  let description = [{
    Q: `[B, Hq, M, D]`, K and V: `[B, Hkv, N, D]` with Hq a multiple of Hkv
    (query head h reads KV head `h / (Hq / Hkv)`: GQA / MQA). Computes, in the
    log2 domain with an integer running max (DESIGN.md §1):

    ```
    Q^F, K^F, V^F = phi(Q), phi(K), phi(V)     # identity in mode none
    s    = (Q^F K^F^T * scale + mask) * log2(e)   # masked keys: -inf
    m    = ceil(rowmax s)                          # integer frame
    P~   = exp2(s - m);  l = rowsum(P~)
    O    = phi_P(P~) V^F / l
    O'   = P~ V^F / l                              # mode qat only
    LSE  = m + log2(l)                             # log2 domain
    ```

    The additive `mask` is `[1 | B, 1 | Hq, M, N]` (broadcast over unit
    dims); `key_lengths` (`[B]`, i32) masks keys at or past the length;
    `causal` masks key j for query i when j > i (top-left aligned, as
    PyTorch's `is_causal`). A row with no valid key gives O = 0 and
    LSE = -inf. `scale` defaults to 1/sqrt(D).

    In mode `fp4` the inputs are E2M1 codes (block axes as in the
    configuration: Q and K along D, V along keys) with their scales in
    `q_scales`, `k_scales` and `v_scales`, and there is no saved state. In
    the other modes the third result is the `!attnqat.state` a backward
    consumes; it may be omitted for inference. O' exists only for that
    backward: the CPU lowering of a `qat` forward without a state (or one no
    backward reads) does not compute it. The generated GPU kernels of mode
    `qat` always write it (their signature has `o_prime`).

    ```mlir
    %o, %lse, %state = attnqat.attention %q, %k, %v causal
        {config = #attnqat.config<mode = qat>}
        : tensor<1x8x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>
        -> tensor<1x8x128x64xbf16>, tensor<1x8x128xf32>,
           !attnqat.state<config = #attnqat.config<mode = qat>,
                          query = tensor<1x8x128x64xbf16>,
                          key = tensor<1x2x128x64xbf16>,
                          scale = 1.250000e-01 : f32, causal = true>
    ```
  }];
  let arguments = (ins
    RankedTensorOf<[BF16, F16, F32, F4E2M1FN]>:$query,
    RankedTensorOf<[BF16, F16, F32, F4E2M1FN]>:$key,
    RankedTensorOf<[BF16, F16, F32, F4E2M1FN]>:$value,
    Optional<AttnQAT_ScaleTensor>:$query_scales,
    Optional<AttnQAT_ScaleTensor>:$key_scales,
    Optional<AttnQAT_ScaleTensor>:$value_scales,
    Optional<AttnQAT_FloatTensor>:$mask,
    Optional<AttnQAT_KeyLengths>:$key_lengths,
    AttnQAT_ConfigAttr:$config,
    UnitAttr:$causal,
    OptionalAttr<F32Attr>:$scale
  );
  let results = (outs AttnQAT_FloatTensor:$output,
                      RankedTensorOf<[F32]>:$lse,
                      Optional<AttnQAT_StateType>:$state);
  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`scales` `(` $query_scales^ `,` $key_scales `,` $value_scales `)`)?
    (`mask` `(` $mask^ `)`)?
    (`key_lengths` `(` $key_lengths^ `)`)?
    (`causal` $causal^)?
    attr-dict `:` type($query) `,` type($key) `,` type($value)
    (`scales` type($query_scales)^ `,` type($key_scales) `,` type($value_scales))?
    (`mask` type($mask)^)?
    (`key_lengths` type($key_lengths)^)?
    `->` type($output) `,` type($lse) (`,` type($state)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The softmax scale: the `scale` attribute or 1/sqrt(D).
    float getSoftmaxScale();
    /// The state type this forward produces (also when it is omitted).
    StateType getExpectedStateType();
  }];
}

def AttnQAT_AttentionBackwardOp : AttnQAT_Op<"attention_backward", [Pure]> {
  let summary = "gradients of an attention forward, from its saved state";
  let description = [{
    Computes dQ, dK, dV of the forward that produced `state`, given dO. It
    has no configuration, masks or scale of its own: all of them come from
    the state's type, so it always recomputes what its forward computed.

    Mode `qat` (matched, DESIGN.md rules 1 and 2):
    ```
    D    = rowsum(dO * O')
    s    = (Q^F K^F^T * scale + mask) * log2(e)    # same quantized operands
    P~   = exp2(s - m);  P = P~ / l;  P^F = phi_P(P~) / l   # forward's frame
    dV   = P^F^T dO;  dP = dO V^F^T;  dS = P * (dP - D)
    dQ   = dS K^F * scale;  dK = dS^T Q^F * scale     # STE through phi
    ```
    Mode `dropin` uses D = rowsum(dO * O) and the unquantized P for dV; mode
    `none` is the exact attention gradient. With GQA, dK and dV sum over the
    query heads that share a KV head.

    ```mlir
    %dq, %dk, %dv = attnqat.attention_backward %state, %do
        : !attnqat.state<...>, tensor<1x8x128x64xbf16>
        -> tensor<1x8x128x64xbf16>, tensor<1x2x128x64xbf16>, tensor<1x2x128x64xbf16>
    ```
  }];
  let arguments = (ins AttnQAT_StateType:$state, AttnQAT_FloatTensor:$grad_output);
  let results = (outs AttnQAT_FloatTensor:$grad_query,
                      AttnQAT_FloatTensor:$grad_key,
                      AttnQAT_FloatTensor:$grad_value);
  let assemblyFormat = [{
    $state `,` $grad_output attr-dict `:` qualified(type($state)) `,`
    type($grad_output)
    `->` type($grad_query) `,` type($grad_key) `,` type($grad_value)
  }];
  let hasVerifier = 1;
}

#endif // ATTNQAT_DIALECT_ATTNQAT_IR_ATTNQATOPS_TD
