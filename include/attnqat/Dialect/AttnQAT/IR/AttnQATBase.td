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
  }];
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
