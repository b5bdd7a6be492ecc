//===- ExternDynamicShared.cpp - dynamic shared memory as .extern ---------===//
//
// Makes the zero-sized shared-memory globals `gpu.dynamic_shared_memory`
// lowers to into external declarations (`.extern .shared .b8 x[]` in PTX),
// so the dynamic region follows all static shared memory in every module
// (see the pass description in Passes.td).
//
//===----------------------------------------------------------------------===//

#include "attnqat/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace mlir::attnqat {
#define GEN_PASS_DEF_ATTNQATEXTERNDYNAMICSHARED
#include "attnqat/Conversion/Passes.h.inc"
} // namespace mlir::attnqat

using namespace mlir;

namespace {

/// NVVM's shared address space.
constexpr unsigned kSharedAddressSpace = 3;

struct AttnQATExternDynamicSharedPass
    : attnqat::impl::AttnQATExternDynamicSharedBase<AttnQATExternDynamicSharedPass> {
  void runOnOperation() override {
    getOperation().walk([](LLVM::GlobalOp global) {
      auto array = dyn_cast<LLVM::LLVMArrayType>(global.getGlobalType());
      if (global.getAddrSpace() != kSharedAddressSpace || !array ||
          array.getNumElements() != 0 || global.getLinkage() == LLVM::Linkage::External)
        return;
      global.setLinkage(LLVM::Linkage::External);
      global.removeValueAttr();
      global.getInitializerRegion().getBlocks().clear();
    });
  }
};

} // namespace
