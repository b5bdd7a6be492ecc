//===- InitAll.h - Register attnqat and the upstream pieces it needs -*- C++ -*-===//
//
// One registration header for every tool that embeds attnqat (attnqat-opt,
// attnqat-run, the C API): our dialect and passes plus the upstream dialects,
// passes and translations a user needs next to them.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_INITALL_H
#define ATTNQAT_INITALL_H

namespace mlir {
class DialectRegistry;
class MLIRContext;
} // namespace mlir

namespace mlir::attnqat {

/// Dialects (ours and upstream) plus their external models and the
/// LLVM IR translation interfaces.
void registerAllDialects(DialectRegistry &registry);

/// Our passes and pipelines plus the upstream passes a user needs next to
/// them. Idempotent.
void registerAllPasses();

} // namespace mlir::attnqat

#endif // ATTNQAT_INITALL_H
