//===- GPUKernelsPipeline.cpp - attnqat-gpu-kernels-pipeline --------------===//

#include "attnqat/Pipelines/Pipelines.h"

#include "attnqat/Conversion/Passes.h"
#include "mlir/Conversion/GPUToNVVM/GPUToNVVMPass.h"
#include "mlir/Conversion/NVGPUToNVVM/NVGPUToNVVM.h"
#include "mlir/Conversion/NVVMToLLVM/NVVMToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::attnqat::buildAttnQATGPUKernelsPipeline(
    OpPassManager &pm, const AttnQATGPUKernelsPipelineOptions &options) {
  ConvertAttnQATToGPUKernelsOptions generate;
  generate.tensorCores = options.tensorCores;
  // Blackwell's RTX chip gets its FP4 tensor-core forward (block-scaled MMA).
  generate.blockScaledMma = options.chip == "sm_120a";
  // The datacenter chip's: tcgen05 and tensor memory.
  generate.tcgen05Mma = options.chip == "sm_100a";
  generate.warpgroupMma = options.warpgroupMma && options.chip == "sm_90a";
  generate.tmaLoads = options.tmaLoads && generate.warpgroupMma;
  generate.backwardTmaLoads = options.backwardTmaLoads && generate.warpgroupMma;
  pm.addPass(createConvertAttnQATToGPUKernels(generate));
  buildAttnQATGPUKernelLowering(pm, options);
}

void mlir::attnqat::buildAttnQATGPUKernelLowering(
    OpPassManager &pm, const AttnQATGPUKernelsPipelineOptions &options) {
  GpuNVVMAttachTargetOptions target;
  target.moduleMatcher = "attnqat_kernels";
  target.triple = "nvptx64-nvidia-cuda";
  target.chip = options.chip;
  // PTX 8.1 covers sm_90a with the vector red.global of the backward's dQ;
  // sm_120a's block-scaled mma.sync needs PTX 8.7,
  // sm_100a's tcgen05 block16/block32 MMAs 8.8.
  target.features = options.chip == "sm_90a"    ? "+ptx81"
                    : options.chip == "sm_100a" ? "+ptx88"
                                                : "+ptx87";
  pm.addPass(createGpuNVVMAttachTarget(target));
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createSCFToControlFlowPass());
  // nvgpu (cp.async, ldmatrix) first: its lowering emits ops the GPU-to-NVVM
  // conversion then finishes.
  kernels.addPass(createConvertNVGPUToNVVMPass());
  ConvertGpuOpsToNVVMOpsOptions nvvm;
  nvvm.indexBitwidth = 64;
  nvvm.useBarePtrCallConv = true; // kernels take plain device pointers
  kernels.addPass(createConvertGpuOpsToNVVMOps(nvvm));
  // NVVM ops spelled as inline PTX (mbarrier waits of the sm_100a forward).
  kernels.addPass(createConvertNVVMToLLVMPass());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  kernels.addPass(createAttnQATExternDynamicShared());
  kernels.addPass(createAttnQATTensorMapParams());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = options.format;
  binary.toolkitPath = options.toolkit;
  pm.addPass(createGpuModuleToBinaryPass(binary));
}
