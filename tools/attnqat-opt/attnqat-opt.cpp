//===- attnqat-opt.cpp - attnqat optimizer driver -------------------------===//
//
// mlir-opt with the attnqat dialect, its passes and pipelines registered next
// to the upstream dialects and passes.
//
//===----------------------------------------------------------------------===//

#include "attnqat/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::attnqat::registerAllDialects(registry);
  mlir::attnqat::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "attnqat optimizer driver\n", registry));
}
