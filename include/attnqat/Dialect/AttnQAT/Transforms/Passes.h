//===- Passes.h - attnqat transformation passes -------------------*- C++ -*-===//

#ifndef ATTNQAT_DIALECT_ATTNQAT_TRANSFORMS_PASSES_H
#define ATTNQAT_DIALECT_ATTNQAT_TRANSFORMS_PASSES_H

#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"
#include "mlir/Pass/Pass.h"

namespace mlir::attnqat {

#define GEN_PASS_DECL
#include "attnqat/Dialect/AttnQAT/Transforms/Passes.h.inc"

/// Adds the patterns that expand fake_quant into quantize + dequantize.
void populateExpandFakeQuantPatterns(RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "attnqat/Dialect/AttnQAT/Transforms/Passes.h.inc"

} // namespace mlir::attnqat

#endif // ATTNQAT_DIALECT_ATTNQAT_TRANSFORMS_PASSES_H
