//===- AttnQATTypes.cpp - attnqat types -----------------------------------===//

#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attnqat;

#define GET_TYPEDEF_CLASSES
#include "attnqat/Dialect/AttnQAT/IR/AttnQATTypes.cpp.inc"

void AttnQATDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "attnqat/Dialect/AttnQAT/IR/AttnQATTypes.cpp.inc"
      >();
}

LogicalResult StateType::verify(function_ref<InFlightDiagnostic()> emitError,
                                ConfigAttr config, RankedTensorType query,
                                RankedTensorType key, FloatAttr scale,
                                bool causal, RankedTensorType mask,
                                bool keyLengths) {
  if (config.getMode() == Mode::FP4)
    return emitError() << "mode fp4 is inference-only: it has no saved state "
                          "and no backward";
  if (query.getRank() != 4 || key.getRank() != 4)
    return emitError() << "state query and key types must be rank 4 "
                          "([B, H, L, D])";
  if (!isa<BFloat16Type, Float16Type, Float32Type>(query.getElementType()) ||
      query.getElementType() != key.getElementType())
    return emitError() << "state query and key must have the same bf16, f16 "
                          "or f32 element type";
  if (!scale.getType().isF32())
    return emitError() << "state scale must be an f32";
  if (mask && mask.getRank() != 4)
    return emitError() << "state mask type must be rank 4";
  // What attnqat.attention verifies of the forward this state describes,
  // so that a backward taking a state from elsewhere (a function argument)
  // cannot describe an attention no forward could have run.
  return verifyAttentionFrame(emitError, query.getShape(), key.getShape(), mask,
                              scale.getValueAsDouble());
}
