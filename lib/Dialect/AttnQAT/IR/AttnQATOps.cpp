//===- AttnQATOps.cpp - attnqat operations --------------------------------===//

#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attnqat;

#define GET_OP_CLASSES
#include "attnqat/Dialect/AttnQAT/IR/AttnQATOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

int64_t mlir::attnqat::getNumBlocks(int64_t extent, int64_t blockSize) {
  if (ShapedType::isDynamic(extent))
    return ShapedType::kDynamic;
  return (extent + blockSize - 1) / blockSize;
}

SmallVector<int64_t> mlir::attnqat::getScalesShape(ArrayRef<int64_t> shape,
                                                   int64_t axis,
                                                   int64_t blockSize) {
  SmallVector<int64_t> result(shape);
  result[axis] = getNumBlocks(shape[axis], blockSize);
  return result;
}

/// Prints a shape as [a, b, ?].
static std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  llvm::raw_string_ostream os(s);
  llvm::interleaveComma(shape, os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << "?";
    else
      os << d;
  });
  os << "]";
  return s;
}

static bool dimsCompatible(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

static bool shapesCompatible(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  if (a.size() != b.size())
    return false;
  for (auto [x, y] : llvm::zip_equal(a, b))
    if (!dimsCompatible(x, y))
      return false;
  return true;
}

/// Checks `axis` against `rank` and that `codes`/`scales` are the FP4 encoding
/// of a tensor of `valueType` blocked along `axis` in `format`.
static LogicalResult verifyBlockLayout(Operation *op, RankedTensorType valueType,
                                       RankedTensorType codesType,
                                       RankedTensorType scalesType,
                                       int64_t axis,
                                       FP4FormatAttrInterface format,
                                       StringRef valueName) {
  int64_t rank = valueType.getRank();
  if (rank == 0)
    return op->emitOpError() << valueName << " must have rank >= 1";
  if (axis < 0 || axis >= rank)
    return op->emitOpError() << "axis " << axis
                             << " is out of range for a rank-" << rank << " "
                             << valueName;
  if (!shapesCompatible(codesType.getShape(), valueType.getShape()))
    return op->emitOpError()
           << "codes shape " << shapeStr(codesType.getShape()) << " must equal the "
           << valueName << " shape " << shapeStr(valueType.getShape());
  if (scalesType.getElementType() != format.getScaleType())
    return op->emitOpError()
           << "scales of " << format << " must have element type "
           << format.getScaleType() << ", got " << scalesType.getElementType();
  SmallVector<int64_t> expected =
      getScalesShape(valueType.getShape(), axis, format.getBlockSize());
  if (!shapesCompatible(scalesType.getShape(), expected))
    return op->emitOpError()
           << "scales must have shape " << shapeStr(expected) << " ("
           << valueName << " shape with dimension " << axis << " = ceil(extent / "
           << format.getBlockSize() << ")), got "
           << shapeStr(scalesType.getShape());
  return success();
}

//===----------------------------------------------------------------------===//
// QuantizeOp / DequantizeOp / FakeQuantOp
//===----------------------------------------------------------------------===//

LogicalResult QuantizeOp::verify() {
  return verifyBlockLayout(*this, getInput().getType(), getCodes().getType(),
                           getScales().getType(), getAxis(), getFormat(),
                           "input");
}

LogicalResult DequantizeOp::verify() {
  return verifyBlockLayout(*this, getResult().getType(), getCodes().getType(),
                           getScales().getType(), getAxis(), getFormat(),
                           "result");
}

namespace {
/// dequantize(quantize(x)) with the same axis and format is fake_quant(x).
struct FoldQuantizeDequantize : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    auto quantize = op.getCodes().getDefiningOp<QuantizeOp>();
    if (!quantize || quantize.getScales() != op.getScales() ||
        quantize.getAxis() != op.getAxis() ||
        quantize.getFormat() != op.getFormat() ||
        quantize.getInput().getType() != op.getType())
      return failure();
    rewriter.replaceOpWithNewOp<FakeQuantOp>(op, quantize.getInput(),
                                             op.getAxis(), op.getFormat());
    return success();
  }
};
} // namespace

void DequantizeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                               MLIRContext *context) {
  results.add<FoldQuantizeDequantize>(context);
}

LogicalResult FakeQuantOp::verify() {
  int64_t rank = getInput().getType().getRank();
  if (rank == 0)
    return emitOpError() << "input must have rank >= 1";
  if (getAxis() < 0 || getAxis() >= rank)
    return emitOpError() << "axis " << getAxis()
                         << " is out of range for a rank-" << rank << " input";
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

float AttentionOp::getSoftmaxScale() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToFloat();
  int64_t d = getQuery().getType().getShape().back();
  return 1.0f / std::sqrt(static_cast<float>(d));
}

StateType AttentionOp::getExpectedStateType() {
  MLIRContext *ctx = getContext();
  auto scale = FloatAttr::get(Float32Type::get(ctx), getSoftmaxScale());
  RankedTensorType maskType =
      getMask() ? cast<RankedTensorType>(getMask().getType()) : nullptr;
  return StateType::get(ctx, getConfig(), getQuery().getType(),
                        getKey().getType(), scale, getCausal(), maskType,
                        static_cast<bool>(getKeyLengths()));
}

/// Checks `scales` as the block scales of `codes` blocked along `axis`.
static LogicalResult verifyFP4Operand(AttentionOp op, StringRef name,
                                      RankedTensorType codes, Value scales,
                                      int64_t axis,
                                      FP4FormatAttrInterface format) {
  if (!isa<Float4E2M1FNType>(codes.getElementType()))
    return op.emitOpError() << "mode fp4 takes E2M1 codes: " << name
                            << " must have element type f4E2M1FN, got "
                            << codes.getElementType();
  auto scalesType = cast<RankedTensorType>(scales.getType());
  if (scalesType.getElementType() != format.getScaleType())
    return op.emitOpError() << name << " scales of " << format
                            << " must have element type "
                            << format.getScaleType() << ", got "
                            << scalesType.getElementType();
  SmallVector<int64_t> expected =
      getScalesShape(codes.getShape(), axis, format.getBlockSize());
  if (!shapesCompatible(scalesType.getShape(), expected))
    return op.emitOpError() << name << " scales must have shape "
                            << shapeStr(expected) << " (blocks of "
                            << format.getBlockSize() << " along dimension "
                            << axis << "), got "
                            << shapeStr(scalesType.getShape());
  return success();
}

LogicalResult mlir::attnqat::verifyAttentionFrame(
    llvm::function_ref<InFlightDiagnostic()> emitError, ArrayRef<int64_t> q,
    ArrayRef<int64_t> k, RankedTensorType mask, std::optional<double> scale) {
  if (!dimsCompatible(q[0], k[0]))
    return emitError() << "query batch " << q[0] << " does not match key batch "
                       << k[0];
  if (ShapedType::isDynamic(q[3]) || ShapedType::isDynamic(k[3]))
    return emitError() << "head dim must be static";
  if (q[3] != k[3])
    return emitError() << "query head dim " << q[3]
                       << " does not match key head dim " << k[3];
  if (ShapedType::isDynamic(q[1]) || ShapedType::isDynamic(k[1]))
    return emitError() << "head counts must be static";
  if (k[1] < 1)
    return emitError() << "key/value heads must be at least 1, got " << k[1];
  if (q[1] % k[1] != 0)
    return emitError() << "query heads (" << q[1]
                       << ") must be a multiple of key/value heads (" << k[1]
                       << ")";
  if (mask) {
    ArrayRef<int64_t> m = mask.getShape();
    auto broadcastOk = [](int64_t dim, int64_t full) {
      return dim == 1 || dimsCompatible(dim, full);
    };
    if (m.size() != 4 || !broadcastOk(m[0], q[0]) || !broadcastOk(m[1], q[1]) ||
        !dimsCompatible(m[2], q[2]) || !dimsCompatible(m[3], k[2]))
      return emitError() << "mask must have shape [1 or B, 1 or Hq, M, N] "
                            "with [B, Hq, M, N] = "
                         << shapeStr({q[0], q[1], q[2], k[2]}) << ", got "
                         << shapeStr(m);
  }
  if (scale && (!std::isfinite(*scale) || *scale <= 0.0))
    return emitError() << "softmax scale must be finite and positive, got "
                       << *scale;
  return success();
}

LogicalResult AttentionOp::verify() {
  RankedTensorType qType = getQuery().getType();
  RankedTensorType kType = getKey().getType();
  RankedTensorType vType = getValue().getType();
  for (auto [name, type] : {std::pair<StringRef, RankedTensorType>{"query", qType},
                            {"key", kType},
                            {"value", vType}})
    if (type.getRank() != 4)
      return emitOpError() << name << " must be rank 4 ([B, H, L, D]), got rank "
                           << type.getRank();
  ArrayRef<int64_t> q = qType.getShape(), k = kType.getShape();
  if (!shapesCompatible(kType.getShape(), vType.getShape()))
    return emitOpError() << "key shape " << shapeStr(k)
                         << " and value shape " << shapeStr(vType.getShape())
                         << " must be equal";
  std::optional<double> scale;
  if (std::optional<APFloat> s = getScale())
    scale = s->convertToDouble();
  if (failed(verifyAttentionFrame(
          [&] { return emitOpError(); }, q, k,
          getMask() ? cast<RankedTensorType>(getMask().getType())
                    : RankedTensorType(),
          scale)))
    return failure();

  ConfigAttr config = getConfig();
  bool fp4 = config.getMode() == Mode::FP4;
  if (fp4) {
    if (!getQueryScales())
      return emitOpError() << "mode fp4 requires the block scales of query, "
                              "key and value: scales(%qs, %ks, %vs)";
    if (failed(verifyFP4Operand(*this, "query", qType, getQueryScales(), 3,
                                config.getQ())) ||
        failed(verifyFP4Operand(*this, "key", kType, getKeyScales(), 3,
                                config.getK())) ||
        failed(verifyFP4Operand(*this, "value", vType, getValueScales(), 2,
                                config.getV())))
      return failure();
    // No state check needed: a state type with mode fp4 does not verify.
  } else {
    if (getQueryScales())
      return emitOpError() << "scales are only accepted in mode fp4; mode "
                           << stringifyMode(config.getMode())
                           << " quantizes its inputs itself";
    if (isa<Float4E2M1FNType>(qType.getElementType()) ||
        qType.getElementType() != kType.getElementType() ||
        qType.getElementType() != vType.getElementType())
      return emitOpError() << "query, key and value must have the same bf16, "
                              "f16 or f32 element type outside mode fp4";
  }

  RankedTensorType oType = getOutput().getType();
  if (!shapesCompatible(oType.getShape(), q))
    return emitOpError() << "output shape " << shapeStr(oType.getShape())
                         << " must equal the query shape " << shapeStr(q);
  if (!fp4 && oType.getElementType() != qType.getElementType())
    return emitOpError() << "output element type " << oType.getElementType()
                         << " must equal the query's " << qType.getElementType();
  SmallVector<int64_t> lseShape{q[0], q[1], q[2]};
  if (!shapesCompatible(getLse().getType().getShape(), lseShape))
    return emitOpError() << "lse must have shape [B, Hq, M] = "
                         << shapeStr(lseShape) << ", got "
                         << shapeStr(getLse().getType().getShape());

  if (Value lengths = getKeyLengths()) {
    ArrayRef<int64_t> l = cast<RankedTensorType>(lengths.getType()).getShape();
    if (!dimsCompatible(l[0], q[0]))
      return emitOpError() << "key_lengths must have shape [B] = "
                           << shapeStr({q[0]}) << ", got " << shapeStr(l);
  }
  if (getState() && getState().getType() != getExpectedStateType())
    return emitOpError() << "state type " << getState().getType()
                         << " does not describe this attention; expected "
                         << getExpectedStateType();
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionBackwardOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionBackwardOp::verify() {
  StateType state = getState().getType();
  auto check = [&](Type actual, RankedTensorType expected, StringRef name,
                   StringRef of) -> LogicalResult {
    if (actual != expected)
      return emitOpError() << name << " must have the forward's " << of
                           << " type " << expected << ", got " << actual;
    return success();
  };
  return success(
      succeeded(check(getGradOutput().getType(), state.getQuery(),
                      "grad_output", "query")) &&
      succeeded(check(getGradQuery().getType(), state.getQuery(), "grad_query",
                      "query")) &&
      succeeded(check(getGradKey().getType(), state.getKey(), "grad_key",
                      "key")) &&
      succeeded(check(getGradValue().getType(), state.getKey(), "grad_value",
                      "value")));
}
