//===- AttnQATTypes.td - attnqat types ---------------------*- tablegen -*-===//

#ifndef ATTNQAT_DIALECT_ATTNQAT_IR_ATTNQATTYPES_TD
#define ATTNQAT_DIALECT_ATTNQAT_IR_ATTNQATTYPES_TD

include "attnqat/Dialect/AttnQAT/IR/AttnQATAttrs.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

def AttnQAT_StateType : TypeDef<AttnQAT_Dialect, "State"> {
  let mnemonic = "state";
  let summary = "what an attention forward saves for its backward";
  let description = [{
    The saved state of one `attnqat.attention`. Its type records everything
    the backward must agree on with the forward: the QAT configuration, the
    query and key/value tensor types (batch, heads, lengths, head dim and
    element type), causality, the softmax scale, the additive mask's type and
    whether per-batch key lengths were given. `attnqat.attention_backward`
    takes nothing but a state and dO, so its recomputation uses the forward's
    operands, masks and quantization by construction.

    What it holds, after lowering (see `docs/numerics.md`): Q^F, K^F, V^F in
    packed form (E2M1 codes and block scales) in quantized modes, or Q, K, V
    in mode `none`; O (mode `dropin` and `none`) or O' (mode `qat`); the
    row's integer frame `m` and normalizer `l` (LSE = m + log2 l); the mask
    and the key lengths.

    ```mlir
    !attnqat.state<config = #attnqat.config<mode = qat>,
                   query = tensor<1x8x128x64xbf16>,
                   key = tensor<1x2x128x64xbf16>,
                   scale = 1.250000e-01 : f32, causal = true>
    ```
  }];
  let parameters = (ins
    "ConfigAttr":$config,
    "RankedTensorType":$query,
    "RankedTensorType":$key,
    "FloatAttr":$scale,
    DefaultValuedParameter<"bool", "false">:$causal,
    OptionalParameter<"RankedTensorType">:$mask,
    DefaultValuedParameter<"bool", "false">:$key_lengths
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // ATTNQAT_DIALECT_ATTNQAT_IR_ATTNQATTYPES_TD
