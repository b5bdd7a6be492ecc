//===- ExpandFakeQuant.cpp - fake_quant -> quantize + dequantize ----------===//

#include "attnqat/Dialect/AttnQAT/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::attnqat {
#define GEN_PASS_DEF_ATTNQATEXPANDFAKEQUANT
#include "attnqat/Dialect/AttnQAT/Transforms/Passes.h.inc"
} // namespace mlir::attnqat

using namespace mlir;
using namespace mlir::attnqat;

namespace {
struct ExpandFakeQuant : OpRewritePattern<FakeQuantOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(FakeQuantOp op,
                                PatternRewriter &rewriter) const override {
    RankedTensorType type = op.getType();
    FP4FormatAttrInterface format = op.getFormat();
    int64_t axis = op.getAxis();
    auto codesType = RankedTensorType::get(
        type.getShape(), Float4E2M1FNType::get(op.getContext()));
    auto scalesType = RankedTensorType::get(
        getScalesShape(type.getShape(), axis, format.getBlockSize()),
        format.getScaleType());
    auto quantize = QuantizeOp::create(rewriter, op.getLoc(), codesType,
                                       scalesType, op.getInput(), axis, format);
    rewriter.replaceOpWithNewOp<DequantizeOp>(op, type, quantize.getCodes(),
                                              quantize.getScales(), axis,
                                              format);
    return success();
  }
};

struct AttnQATExpandFakeQuantPass
    : mlir::attnqat::impl::AttnQATExpandFakeQuantBase<AttnQATExpandFakeQuantPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateExpandFakeQuantPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

void mlir::attnqat::populateExpandFakeQuantPatterns(
    RewritePatternSet &patterns) {
  patterns.add<ExpandFakeQuant>(patterns.getContext());
}
