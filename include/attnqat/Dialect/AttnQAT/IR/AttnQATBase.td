//===- AttnQATBase.td - attnqat dialect definition ---------*- tablegen -*-===//

#ifndef ATTNQAT_DIALECT_ATTNQAT_IR_ATTNQATBASE_TD
#define ATTNQAT_DIALECT_ATTNQAT_IR_ATTNQATBASE_TD

include "mlir/IR/OpBase.td"

def AttnQAT_Dialect : Dialect {
  let name = "attnqat";
  let cppNamespace = "::mlir::attnqat";
  let summary = "FP4 quantization and quantization-aware-training attention";
  let description = [{
    The `attnqat` dialect describes attention with 4-bit (FP4, E2M1) block
    quantization as used for quantization-aware training (QAT) and FP4
    inference. It provides:

    * format attributes for the two FP4 block formats (`#attnqat.nvfp4`,
      `#attnqat.mxfp4`) and a QAT configuration (`#attnqat.config`);
    * `attnqat.quantize`, `attnqat.dequantize` and `attnqat.fake_quant`, the
      block codecs with an explicit block axis;
    * `attnqat.attention`, the fused forward, whose optional third result is
      the typed saved state (`!attnqat.state`) that
      `attnqat.attention_backward` consumes. The state's type carries the
      configuration, the shapes, causality, the softmax scale and the masks of
      its forward, so a backward that does not match its forward cannot be
      written.

    Numerics (normative, see `docs/numerics.md`): E2M1 encoding rounds to
    nearest with ties to even and saturates at +-6; NVFP4 blocks of 16 carry
    an E4M3 scale `E4M3(amax / 6 / g)` (round to nearest even, saturating at
    448) and an optional FP32 global scale `g`; MXFP4 blocks of 32 carry an
    E8M0 scale `2^(floor(log2 amax) - 2)`. A NaN or Inf anywhere in a block
    makes its scale NaN. An axis whose extent is not a multiple of the block
    size ends in a short block that behaves as if padded with zeros.

    Kernel metadata. `convert-attnqat-to-gpu-kernels` describes each kernel
    it generates with discardable attributes, which `attnqat-compile` reads
    into the artifact; the dialect verifies their shapes wherever they
    appear, so a hand-written or edited kernel module gets a diagnostic
    instead of a malformed artifact:
    `attnqat.params` (one string role per function argument),
    `attnqat.launch` (`block` threads 1..1024, optional `grid` of three
    strings, optional `dynamic_shared` bytes), `attnqat.constraints` and
    `attnqat.chips` (arrays of strings), `attnqat.extents` and
    `attnqat.layouts` (dictionaries of strings), `attnqat.access`
    (dictionary of `"in"`, `"out"` or `"inout"`), `attnqat.align`
    (dictionary of powers of two), `attnqat.tensor_maps` (dictionary of
    `{of, dims?, box?, swizzle?}` entries), and `attnqat.kernel`,
    `attnqat.pre_kernel`, `attnqat.post_kernel` (symbol references from an
    op to its kernels).
  }];
  let hasOperationAttrVerify = 1;
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
    void registerTypes();
  }];
}

class AttnQAT_Op<string mnemonic, list<Trait> traits = []>
    : Op<AttnQAT_Dialect, mnemonic, traits>;

#endif // ATTNQAT_DIALECT_ATTNQAT_IR_ATTNQATBASE_TD
