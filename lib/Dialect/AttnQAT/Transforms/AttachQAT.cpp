//===- AttachQAT.cpp - attach a QAT configuration to attention ops --------===//

#include "attnqat/Dialect/AttnQAT/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::attnqat {
#define GEN_PASS_DEF_ATTNQATATTACHQAT
#include "attnqat/Dialect/AttnQAT/Transforms/Passes.h.inc"
} // namespace mlir::attnqat

using namespace mlir;
using namespace mlir::attnqat;

namespace {
struct AttnQATAttachQATPass
    : mlir::attnqat::impl::AttnQATAttachQATBase<AttnQATAttachQATPass> {
  using Base::Base;

  /// Parses an FP4 format option; emits an error naming the option on failure.
  FailureOr<FP4FormatAttrInterface> parseFormat(StringRef option,
                                                StringRef value) {
    MLIRContext *ctx = &getContext();
    if (value == "nvfp4")
      return cast<FP4FormatAttrInterface>(NVFP4Attr::get(ctx, nullptr));
    if (value == "mxfp4")
      return cast<FP4FormatAttrInterface>(MXFP4Attr::get(ctx));
    emitError(UnknownLoc::get(ctx))
        << "attnqat-attach-qat: option '" << option << "' must be nvfp4 or "
        << "mxfp4, got '" << value << "'";
    return failure();
  }

  /// Builds the configuration from the pass options.
  FailureOr<ConfigAttr> buildConfig() {
    MLIRContext *ctx = &getContext();
    std::optional<Mode> parsedMode = symbolizeMode(mode);
    if (!parsedMode || (*parsedMode != Mode::QAT && *parsedMode != Mode::DropIn)) {
      emitError(UnknownLoc::get(ctx))
          << "attnqat-attach-qat: option 'mode' must be qat or dropin, got '"
          << mode << "'";
      return failure();
    }
    std::optional<PScaling> scaling = symbolizePScaling(pScaling);
    if (!scaling) {
      emitError(UnknownLoc::get(ctx))
          << "attnqat-attach-qat: option 'p-scaling' must be two_level or "
             "single_level, got '"
          << pScaling << "'";
      return failure();
    }
    auto q = parseFormat("q", qFormat), k = parseFormat("k", kFormat),
         v = parseFormat("v", vFormat), p = parseFormat("p", pFormat);
    if (failed(q) || failed(k) || failed(v) || failed(p))
      return failure();
    auto emit = [&] { return emitError(UnknownLoc::get(ctx)); };
    ConfigAttr config = ConfigAttr::getChecked(emit, ctx, *parsedMode, *q, *k,
                                               *v, *p, *scaling);
    if (!config)
      return failure();
    return config;
  }

  void runOnOperation() override {
    FailureOr<ConfigAttr> config = buildConfig();
    if (failed(config))
      return signalPassFailure();
    WalkResult result = getOperation()->walk([&](AttentionOp op) {
      Mode current = op.getConfig().getMode();
      if (current == Mode::FP4 ||
          (current != Mode::None && !overrideExisting))
        return WalkResult::advance();
      if (Value state = op.getState()) {
        for (Operation *user : state.getUsers()) {
          if (!isa<AttentionBackwardOp>(user)) {
            user->emitError()
                << "attnqat-attach-qat: the saved state of this attention "
                   "leaves its function; attach QAT before splitting forward "
                   "and backward, or set the configuration in the source";
            return WalkResult::interrupt();
          }
        }
      }
      op.setConfigAttr(*config);
      if (Value state = op.getState())
        state.setType(op.getExpectedStateType());
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
