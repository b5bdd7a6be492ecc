//===- AttnQATDialect.cpp - attnqat dialect -------------------------------===//

#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"

using namespace mlir;
using namespace mlir::attnqat;

#include "attnqat/Dialect/AttnQAT/IR/AttnQATDialect.cpp.inc"
#include "attnqat/Dialect/AttnQAT/IR/AttnQATEnums.cpp.inc"

void AttnQATDialect::initialize() {
  registerAttributes();
  registerTypes();
  addOperations<
#define GET_OP_LIST
#include "attnqat/Dialect/AttnQAT/IR/AttnQATOps.cpp.inc"
      >();
}
