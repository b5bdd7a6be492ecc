//===- AttnQATTypes.cpp - attnqat types -----------------------------------===//

#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

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
  double s = scale.getValueAsDouble();
  if (!std::isfinite(s) || s <= 0.0)
    return emitError() << "state scale must be finite and positive, got " << s;
  ArrayRef<int64_t> q = query.getShape(), k = key.getShape();
  auto same = [](int64_t a, int64_t b) {
    return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
  };
  if (ShapedType::isDynamic(q[3]) || q[3] != k[3])
    return emitError() << "state query and key head dims must be static and equal, got "
                       << q[3] << " and " << k[3];
  if (!same(q[0], k[0]))
    return emitError() << "state query batch " << q[0] << " does not match key batch " << k[0];
  if (ShapedType::isDynamic(q[1]) || ShapedType::isDynamic(k[1]) || k[1] < 1 ||
      q[1] % k[1] != 0)
    return emitError() << "state head counts must be static, with query heads (" << q[1]
                       << ") a multiple of key/value heads (" << k[1] << ")";
  if (mask) {
    ArrayRef<int64_t> m = mask.getShape();
    if ((m[0] != 1 && !same(m[0], q[0])) || (m[1] != 1 && !same(m[1], q[1])) ||
        !same(m[2], q[2]) || !same(m[3], k[2]))
      return emitError() << "state mask must have shape [1 or B, 1 or Hq, M, N]";
  }
  return success();
}
