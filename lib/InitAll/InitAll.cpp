//===- InitAll.cpp - Register attnqat and the upstream pieces -------------===//

#include "attnqat/InitAll.h"

#include "attnqat/Conversion/Passes.h"
#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"
#include "attnqat/Dialect/AttnQAT/Transforms/Passes.h"
#include "attnqat/Pipelines/Pipelines.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"

void mlir::attnqat::registerAllDialects(DialectRegistry &registry) {
  registry.insert<AttnQATDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // Only the translations our host (CPU) and NVIDIA paths emit.
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::registerNVVMDialectTranslation(registry);
  mlir::registerGPUDialectTranslation(registry);
}

void mlir::attnqat::registerAllPasses() {
  // Pass registration is global; tools and the C API may both ask for it.
  static bool once = [] {
    mlir::registerAllPasses();
    registerAttnQATPasses();
    registerAttnQATConversionPasses();
    registerAttnQATPipelines();
    return true;
  }();
  (void)once;
}
