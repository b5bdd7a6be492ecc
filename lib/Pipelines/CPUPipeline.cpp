//===- CPUPipeline.cpp - attnqat-cpu-pipeline -----------------------------===//
//
// Tensors -> buffers -> loops -> LLVM dialect for the host CPU. See
// Pipelines.h for the ABI this produces.
//
//===----------------------------------------------------------------------===//

#include "attnqat/Pipelines/Pipelines.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "attnqat/Conversion/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::attnqat::buildAttnQATCPUPipeline(
    OpPassManager &pm, const AttnQATCPUPipelineOptions &options) {
  // attnqat ops -> loops on buffers framed by to_buffer/to_tensor. It stays
  // the first step: everything below sees only upstream dialects.
  {
    ConvertAttnQATToLoopsOptions loopOptions;
    loopOptions.keyTile = options.keyTile;
    loopOptions.queryTile = options.queryTile;
    pm.addPass(createConvertAttnQATToLoops(loopOptions));
  }

  // Elementwise arith/math on whole tensors -> linalg.generic (bufferizable);
  // tensor-level cleanup; tensor.empty feeding insert_slice becomes a slice
  // of the destination so that it bufferizes in place.
  pm.addPass(createConvertElementwiseToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(bufferization::createEmptyTensorEliminationPass());

  // Bufferize, function boundaries included, with identity layouts there so
  // that callers pass plain row-major buffers.
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));

  // Deallocate temporaries; returned buffers become caller-owned.
  if (options.deallocate) {
    bufferization::BufferDeallocationPipelineOptions dealloc;
    dealloc.privateFunctionDynamicOwnership =
        options.privateFunctionDynamicOwnership.getValue();
    bufferization::buildBufferDeallocationPipeline(pm, dealloc);
  }
  // bufferization.clone / leftover deallocs -> memref.
  pm.addPass(createConvertBufferizationToMemRefPass());

  // Structured ops and vector transfers -> loops -> CFG.
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addNestedPass<func::FuncOp>(createConvertVectorToSCFPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  // Low-precision floats: math on f16/bf16 in f32; bf16 arithmetic emulated
  // in f32 and bf16 <-> f32 conversions expanded to integer code (exact RNE,
  // no __truncsfbf2 libcall for the JIT to resolve).
  pm.addPass(math::createMathExtendToSupportedTypes());
  arith::ArithEmulateUnsupportedFloatsOptions emulate;
  emulate.sourceTypeStrs = {"bf16"};
  emulate.targetTypeStr = "f32";
  pm.addPass(arith::createArithEmulateUnsupportedFloats(emulate));
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));

  // Math: LLVM intrinsics first (exp2, log2, floor, ceil, ... become libm
  // calls or instructions in the backend), libm calls for the rest (tanh,
  // erf, atan2, ...).
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());

  ConvertVectorToLLVMPassOptions vector;
  vector.reassociateFPReductions = options.reassociateFPReductions;
  pm.addPass(createConvertVectorToLLVMPass(vector));

  // Memrefs, functions and the remaining scalar dialects -> LLVM.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void mlir::attnqat::registerAttnQATPipelines() {
  static bool once = [] {
    PassPipelineRegistration<AttnQATCPUPipelineOptions>(
        "attnqat-cpu-pipeline",
        "Lower an attnqat module on tensors to LLVM for the host CPU",
        buildAttnQATCPUPipeline);
    PassPipelineRegistration<AttnQATQATPipelineOptions>(
        "attnqat-qat-pipeline",
        "Fuse attention from linalg/TOSA, attach a QAT configuration and "
        "lower it for a target",
        buildAttnQATQATPipeline);
    PassPipelineRegistration<AttnQATGPUKernelsPipelineOptions>(
        "attnqat-gpu-kernels-pipeline",
        "Generate the codec ops' GPU kernels and compile them to PTX or cubin",
        buildAttnQATGPUKernelsPipeline);
    return true;
  }();
  (void)once;
}
