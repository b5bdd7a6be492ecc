//===- AttnQATAttrs.td - attnqat attributes ----------------*- tablegen -*-===//

#ifndef ATTNQAT_DIALECT_ATTNQAT_IR_ATTNQATATTRS_TD
#define ATTNQAT_DIALECT_ATTNQAT_IR_ATTNQATATTRS_TD

include "attnqat/Dialect/AttnQAT/IR/AttnQATBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def AttnQAT_Mode : I32EnumAttr<"Mode", "how an attention op quantizes", [
    I32EnumAttrCase<"None", 0, "none">,
    I32EnumAttrCase<"QAT", 1, "qat">,
    I32EnumAttrCase<"DropIn", 2, "dropin">,
    I32EnumAttrCase<"FP4", 3, "fp4">
  ]> {
  let cppNamespace = "::mlir::attnqat";
  let genSpecializedAttr = 0;
}

def AttnQAT_PScaling : I32EnumAttr<"PScaling",
    "how the probabilities P are scaled before FP4 quantization", [
    I32EnumAttrCase<"SingleLevel", 0, "single_level">,
    I32EnumAttrCase<"TwoLevel", 1, "two_level">
  ]> {
  let cppNamespace = "::mlir::attnqat";
  let genSpecializedAttr = 0;
}

//===----------------------------------------------------------------------===//
// FP4 format interface
//===----------------------------------------------------------------------===//

def AttnQAT_FP4FormatAttrInterface : AttrInterface<"FP4FormatAttrInterface"> {
  let cppNamespace = "::mlir::attnqat";
  let description = [{
    An FP4 block format: E2M1 elements in blocks of `getBlockSize()`
    consecutive elements along the block axis, one scale of `getScaleType()`
    per block, and a per-tensor global scale (1.0 when the format has none).
  }];
  let methods = [
    InterfaceMethod<"Elements per block.", "int64_t", "getBlockSize">,
    InterfaceMethod<"The element type of the scales.", "::mlir::Type",
                    "getScaleType">,
    InterfaceMethod<"The per-tensor global scale (1.0 if none).", "float",
                    "getGlobalScaleValue">,
  ];
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

class AttnQAT_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<AttnQAT_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def AttnQAT_NVFP4Attr : AttnQAT_Attr<"NVFP4", "nvfp4",
    [DeclareAttrInterfaceMethods<AttnQAT_FP4FormatAttrInterface>]> {
  let summary = "NVFP4: 16-element blocks, E4M3 scales, optional FP32 global scale";
  let description = [{
    NVIDIA's FP4 block format. Each block of 16 consecutive elements along the
    block axis has the scale `s = E4M3(amax / 6 / g)` (round to nearest even,
    saturating at 448); elements are encoded as `E2M1(x / (s * g))` dividing
    by the rounded scale, and decode as `code * s * g`. A block whose scale
    rounds to zero decodes to zeros. `g` is the optional per-tensor FP32
    global scale (default 1.0).

    ```mlir
    #attnqat.nvfp4
    #attnqat.nvfp4<global_scale = 3.7202381e-4>
    ```
  }];
  let parameters = (ins OptionalParameter<"::mlir::FloatAttr">:$global_scale);
  let assemblyFormat = "(`<` struct($global_scale)^ `>`)?";
  let genVerifyDecl = 1;
}

def AttnQAT_MXFP4Attr : AttnQAT_Attr<"MXFP4", "mxfp4",
    [DeclareAttrInterfaceMethods<AttnQAT_FP4FormatAttrInterface>]> {
  let summary = "MXFP4 (OCP MX): 32-element blocks, E8M0 scales";
  let description = [{
    The OCP Microscaling FP4 format. Each block of 32 consecutive elements
    has the power-of-two scale `2^(floor(log2 amax) - 2)` stored as E8M0;
    elements are encoded as `E2M1(x / s)` (ties to even, saturating at 6).

    ```mlir
    #attnqat.mxfp4
    ```
  }];
  let parameters = (ins);
}

def AttnQAT_FP4FormatAttr : Attr<
    CPred<"::llvm::isa<::mlir::attnqat::FP4FormatAttrInterface>($_self)">,
    "an FP4 block format (#attnqat.nvfp4 or #attnqat.mxfp4)"> {
  let storageType = "::mlir::attnqat::FP4FormatAttrInterface";
  let returnType = "::mlir::attnqat::FP4FormatAttrInterface";
  let convertFromStorage = "$_self";
}

def AttnQAT_ConfigAttr : AttnQAT_Attr<"Config", "config"> {
  let summary = "quantization-aware-training configuration of an attention op";
  let description = [{
    `mode` selects what the attention computes:

    * `none`: ordinary attention in the inputs' precision (the baseline);
    * `qat`: fake-quantized forward (Q, K, V and P in FP4) and the matched
      backward: S recomputed from the same quantized Q and K, P re-quantized
      in the forward's frame, and D = rowsum(dO * O') from the extra forward
      output O' = P V^F with unquantized P;
    * `dropin`: the same forward with an ordinary FlashAttention backward
      (D from O, unquantized P); kept for ablations;
    * `fp4`: inference on pre-quantized inputs (codes and scales), no backward.

    `q`, `k`, `v` and `p` are the FP4 formats of each operand (default
    NVFP4). Q and K are blocked along the head dimension, V and P along the
    key axis (the contraction axis of the matmul that consumes them).
    `p_scaling` is `two_level` (default: NVFP4 P with the static global scale
    1/(6*448), which keeps P's E4M3 block scales out of the subnormal range)
    or `single_level` (g = 1). Two-level scaling requires an NVFP4 P.

    ```mlir
    #attnqat.config<mode = qat>
    #attnqat.config<mode = qat, p = #attnqat.mxfp4>
    #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4,
                    p_scaling = single_level>
    ```
  }];
  let parameters = (ins
    "Mode":$mode,
    DefaultValuedParameter<"FP4FormatAttrInterface",
                           "::mlir::attnqat::NVFP4Attr::get($_ctxt, nullptr)">:$q,
    DefaultValuedParameter<"FP4FormatAttrInterface",
                           "::mlir::attnqat::NVFP4Attr::get($_ctxt, nullptr)">:$k,
    DefaultValuedParameter<"FP4FormatAttrInterface",
                           "::mlir::attnqat::NVFP4Attr::get($_ctxt, nullptr)">:$v,
    DefaultValuedParameter<"FP4FormatAttrInterface",
                           "::mlir::attnqat::NVFP4Attr::get($_ctxt, nullptr)">:$p,
    DefaultValuedParameter<"PScaling", "PScaling::TwoLevel">:$p_scaling
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The global scale applied to P's blocks (1/(6*448) when two-level).
    float getPGlobalScale() const;
    /// Whether the forward quantizes anything.
    bool isQuantized() const { return getMode() != Mode::None; }
  }];
}

#endif // ATTNQAT_DIALECT_ATTNQAT_IR_ATTNQATATTRS_TD
