//===- Passes.td - attnqat transformation passes -----------*- tablegen -*-===//

#ifndef ATTNQAT_DIALECT_ATTNQAT_TRANSFORMS_PASSES_TD
#define ATTNQAT_DIALECT_ATTNQAT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnQATAttachQAT : Pass<"attnqat-attach-qat"> {
  let summary = "Attach a QAT configuration to attention ops";
  let description = [{
    Sets the `config` of every `attnqat.attention` to the configuration given
    by the options, and retypes its saved state so that the backward ops that
    consume it follow. Ops whose mode is already not `none` are left alone
    unless `override` is set. Mode `fp4` cannot be attached (it changes the
    operands to pre-quantized codes); an attention whose state leaves the
    function (returned or passed to a call) is reported as an error, since
    retyping it would change the function's signature.

    ```
    attnqat-opt --attnqat-attach-qat="mode=qat p=mxfp4" in.mlir
    ```
  }];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"qat\"",
           "QAT mode to attach: qat or dropin">,
    Option<"qFormat", "q", "std::string", "\"nvfp4\"",
           "FP4 format of Q: nvfp4 or mxfp4">,
    Option<"kFormat", "k", "std::string", "\"nvfp4\"",
           "FP4 format of K: nvfp4 or mxfp4">,
    Option<"vFormat", "v", "std::string", "\"nvfp4\"",
           "FP4 format of V: nvfp4 or mxfp4">,
    Option<"pFormat", "p", "std::string", "\"nvfp4\"",
           "FP4 format of P: nvfp4 or mxfp4">,
    Option<"pScaling", "p-scaling", "std::string", "\"two_level\"",
           "P scaling: two_level (NVFP4 P only) or single_level">,
    Option<"overrideExisting", "override", "bool", "false",
           "Also replace configurations that are already quantized">,
  ];
  let dependentDialects = ["::mlir::attnqat::AttnQATDialect"];
}

def AttnQATExpandFakeQuant : Pass<"attnqat-expand-fake-quant"> {
  let summary = "Rewrite attnqat.fake_quant into quantize + dequantize";
  let description = [{
    Expands every `attnqat.fake_quant` into the `attnqat.quantize` /
    `attnqat.dequantize` pair it is defined as, so that later lowerings only
    implement the two codecs. The canonicalizer folds the pair back.
  }];
  let dependentDialects = ["::mlir::attnqat::AttnQATDialect"];
}

#endif // ATTNQAT_DIALECT_ATTNQAT_TRANSFORMS_PASSES_TD
