// The installed C++ libraries: parse a module with the attnqat dialect and
// JIT-compile an attention through attnqat/JIT/JIT.h.
#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"
#include "attnqat/InitAll.h"
#include "attnqat/JIT/JIT.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include "llvm/Support/raw_ostream.h"

int main() {
  mlir::DialectRegistry registry;
  mlir::attnqat::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  mlir::attnqat::AttentionSpec spec;
  spec.queryLength = spec.keyLength = 4;
  spec.headDim = 32;
  auto module = mlir::attnqat::buildAttentionModule(context, spec);
  if (!module) {
    llvm::errs() << llvm::toString(module.takeError()) << "\n";
    return 1;
  }
  size_t ops = 0;
  (*module)->walk([&](mlir::attnqat::AttentionOp) { ++ops; });
  auto exe = mlir::attnqat::compileAttention(spec);
  if (!exe) {
    llvm::errs() << llvm::toString(exe.takeError()) << "\n";
    return 1;
  }
  llvm::outs() << "consumer_cxx OK: " << ops << " attention op, entry @"
               << (*exe)->getEntries().front().name << " with "
               << (*exe)->getEntries().front().arguments.size()
               << " arguments\n";
  return 0;
}
