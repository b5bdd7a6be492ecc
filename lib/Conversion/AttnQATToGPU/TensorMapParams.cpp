//===- TensorMapParams.cpp - TMA tensor maps as grid-constant params ------===//
//
// Marks the kernel parameters a generator listed in `attnqat.tensor_maps`
// as 128-byte by-value grid constants (see the pass description in
// Passes.td): the GPU-to-NVVM conversion keeps the function attribute but
// not the argument attributes this needs.
//
//===----------------------------------------------------------------------===//

#include "attnqat/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace mlir::attnqat {
#define GEN_PASS_DEF_ATTNQATTENSORMAPPARAMS
#include "attnqat/Conversion/Passes.h.inc"
} // namespace mlir::attnqat

using namespace mlir;

namespace {

/// A CUtensorMap: 128 bytes, 64-byte aligned.
constexpr int64_t kTensorMapBytes = 128, kTensorMapAlign = 64;

struct AttnQATTensorMapParamsPass
    : attnqat::impl::AttnQATTensorMapParamsBase<AttnQATTensorMapParamsPass> {
  void runOnOperation() override {
    auto result = getOperation().walk([](LLVM::LLVMFuncOp func) -> WalkResult {
      auto maps = func->getAttrOfType<DictionaryAttr>("attnqat.tensor_maps");
      if (!maps)
        return WalkResult::advance();
      auto roles = func->getAttrOfType<ArrayAttr>("attnqat.params");
      if (!roles || roles.size() != func.getNumArguments())
        return func.emitError("attnqat.tensor_maps needs attnqat.params naming every "
                              "parameter"),
               WalkResult::interrupt();
      MLIRContext *ctx = func.getContext();
      Builder b(ctx);
      auto bytes = LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), kTensorMapBytes);
      unsigned marked = 0;
      for (auto [i, role] : llvm::enumerate(roles.getAsValueRange<StringAttr>())) {
        if (!maps.get(role))
          continue;
        if (!isa<LLVM::LLVMPointerType>(func.getArgument(i).getType()))
          return func.emitError("tensor map '") << role << "' is not a pointer parameter",
                 WalkResult::interrupt();
        func.setArgAttr(i, LLVM::LLVMDialect::getByValAttrName(), TypeAttr::get(bytes));
        func.setArgAttr(i, LLVM::LLVMDialect::getAlignAttrName(),
                        b.getI64IntegerAttr(kTensorMapAlign));
        func.setArgAttr(i, NVVM::NVVMDialect::getGridConstantAttrName(), b.getUnitAttr());
        ++marked;
      }
      if (marked != maps.size())
        return func.emitError("attnqat.tensor_maps names a role that is not a parameter"),
               WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
