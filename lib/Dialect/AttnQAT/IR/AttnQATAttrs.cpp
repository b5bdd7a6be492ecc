//===- AttnQATAttrs.cpp - attnqat attributes ------------------------------===//

#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::attnqat;

#include "attnqat/Dialect/AttnQAT/IR/AttnQATAttrInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "attnqat/Dialect/AttnQAT/IR/AttnQATAttrs.cpp.inc"

void AttnQATDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "attnqat/Dialect/AttnQAT/IR/AttnQATAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// NVFP4Attr
//===----------------------------------------------------------------------===//

LogicalResult NVFP4Attr::verify(function_ref<InFlightDiagnostic()> emitError,
                                FloatAttr globalScale) {
  if (!globalScale)
    return success();
  if (!globalScale.getType().isF32())
    return emitError() << "NVFP4 global scale must be an f32, got "
                       << globalScale.getType();
  double g = globalScale.getValueAsDouble();
  if (!std::isfinite(g) || g <= 0.0)
    return emitError() << "NVFP4 global scale must be finite and positive, got "
                       << g;
  return success();
}

int64_t NVFP4Attr::getBlockSize() const { return 16; }
Type NVFP4Attr::getScaleType() const {
  return Float8E4M3FNType::get(getContext());
}
float NVFP4Attr::getGlobalScaleValue() const {
  return getGlobalScale() ? getGlobalScale().getValue().convertToFloat() : 1.0f;
}

//===----------------------------------------------------------------------===//
// MXFP4Attr
//===----------------------------------------------------------------------===//

int64_t MXFP4Attr::getBlockSize() const { return 32; }
Type MXFP4Attr::getScaleType() const {
  return Float8E8M0FNUType::get(getContext());
}
float MXFP4Attr::getGlobalScaleValue() const { return 1.0f; }

//===----------------------------------------------------------------------===//
// ConfigAttr
//===----------------------------------------------------------------------===//

LogicalResult ConfigAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 Mode mode, FP4FormatAttrInterface q,
                                 FP4FormatAttrInterface k,
                                 FP4FormatAttrInterface v,
                                 FP4FormatAttrInterface p, PScaling pScaling) {
  if (pScaling == PScaling::TwoLevel && !isa<NVFP4Attr>(p))
    return emitError() << "two-level P scaling requires an NVFP4 P format "
                          "(MXFP4 scales are powers of two); use "
                          "p_scaling = single_level";
  // P's global scale is implied by p_scaling; a second one would be ambiguous.
  if (auto nv = dyn_cast<NVFP4Attr>(p); nv && nv.getGlobalScale())
    return emitError() << "P's global scale is set by p_scaling, not by its "
                          "format";
  return success();
}

float ConfigAttr::getPGlobalScale() const {
  return getPScaling() == PScaling::TwoLevel ? 1.0f / (6.0f * 448.0f) : 1.0f;
}
