//===- QATPipeline.cpp - attnqat-qat-pipeline -----------------------------===//
//
// The one-flag path for a frontend: attention in linalg or TOSA becomes
// attnqat.attention, gets a QAT configuration, and is lowered for a target.
//
//===----------------------------------------------------------------------===//

#include "attnqat/Pipelines/Pipelines.h"

#include "attnqat/Conversion/Passes.h"
#include "attnqat/Dialect/AttnQAT/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::attnqat::buildAttnQATQATPipeline(
    OpPassManager &pm, const AttnQATQATPipelineOptions &options) {
  pm.addPass(createAttnQATFuseLinalgAttention());
  pm.addPass(createAttnQATFuseTosaAttention());
  pm.addPass(createCanonicalizerPass());

  AttnQATAttachQATOptions attach;
  attach.mode = options.mode == QATPipelineMode::QAT ? "qat" : "dropin";
  std::string format =
      options.format == QATPipelineFormat::NVFP4 ? "nvfp4" : "mxfp4";
  attach.qFormat = attach.kFormat = attach.vFormat = attach.pFormat = format;
  // auto: MXFP4 P has power-of-two scales, so it is single-level; an explicit
  // two-level with MXFP4 reaches attnqat-attach-qat, which rejects it.
  bool twoLevel = options.p == QATPipelinePScaling::TwoLevel ||
                  (options.p == QATPipelinePScaling::Auto &&
                   options.format == QATPipelineFormat::NVFP4);
  attach.pScaling = twoLevel ? "two_level" : "single_level";
  pm.addPass(createAttnQATAttachQAT(attach));
  if (!options.lower)
    return;
  if (options.target == QATPipelineTarget::CPU) {
    buildAttnQATCPUPipeline(pm, AttnQATCPUPipelineOptions());
    return;
  }
  // A GPU chip: the kernels of the attnqat ops (tensor-core where they
  // apply), compiled into a gpu.binary; the host ops stay for the runtime.
  AttnQATGPUKernelsPipelineOptions gpu;
  gpu.chip = options.target == QATPipelineTarget::SM90a    ? "sm_90a"
             : options.target == QATPipelineTarget::SM100a ? "sm_100a"
                                                           : "sm_120a";
  gpu.format = options.gpuFormat;
  buildAttnQATGPUKernelsPipeline(pm, gpu);
}
