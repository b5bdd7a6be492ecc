//===- ReferenceCheck.h - attnqat-run's float64 reference check -*- C++ -*-===//
//
// Runs the independent float64 reference (lib/Reference) on the inputs an
// entry function was called with and compares it with the results that are
// an attnqat.attention's O / LSE or its backward's dQ, dK, dV.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_TOOLS_ATTNQAT_RUN_REFERENCECHECK_H
#define ATTNQAT_TOOLS_ATTNQAT_RUN_REFERENCECHECK_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <string>
#include <vector>

namespace attnqat::run {

/// One argument or result as the checker sees it.
struct Tensor {
  std::vector<int64_t> shape;
  std::function<double(int64_t)> get; // element i as a double
};

/// One reference comparison.
struct ReferenceReport {
  std::string result, quantity; // e.g. "dq", "reference dQ"
  double maxAbs = 0, rms = 0, refAbsMax = 0;
  int64_t count = 0, nanMismatch = 0;
  bool passed = true;
};

struct ReferenceOptions {
  int64_t keyTile = 64;  // the lowering's key tile (the forward's P frames)
  // Fail when max_abs > tolerance * max(max|ref|, 1) (< 0: off); the floor
  // of 1 covers results that are exactly 0 (one key: dQ = dK = 0).
  double tolerance = -1;
};

/// Checks the single attnqat.attention of `entry` (and the backward fed by
/// its state, if any) against the reference. `os` receives the figures
/// (matched-recomputation count, rowsum(dS)).
llvm::Expected<std::vector<ReferenceReport>>
checkAgainstReference(mlir::func::FuncOp entry,
                      const std::vector<Tensor> &arguments,
                      const std::vector<Tensor> &results,
                      const ReferenceOptions &options, llvm::raw_ostream &os);

} // namespace attnqat::run

#endif // ATTNQAT_TOOLS_ATTNQAT_RUN_REFERENCECHECK_H
