//===- Pipelines.h - attnqat pass pipelines ---------------------*- C++ -*-===//
//
// `attnqat-cpu-pipeline`: a module whose functions are on tensors
// (attnqat, func, arith, math, tensor, linalg, scf, memref, vector) to the
// LLVM dialect, ready for mlir::ExecutionEngine on the host CPU.
//
// ABI of the result (what attnqat-run and any other embedder rely on):
//  * Function boundaries bufferize with identity layouts: a
//    `tensor<4x8xf32>` argument or result becomes a plain row-major
//    `memref<4x8xf32>` (descriptor {allocated, aligned, offset, sizes[],
//    strides[]}). Functions with `llvm.emit_c_interface` keep their
//    `_mlir_ciface_<name>` wrapper: memref arguments by pointer to a
//    descriptor, memref results through a pointer to a struct of
//    descriptors passed as the first argument.
//  * Tensor arguments are writable by the callee unless the argument carries
//    `bufferization.writable = false` (the callee then copies before writing).
//  * Every returned buffer is a fresh allocation owned by the caller, who
//    frees `allocated` with free(); returned values that alias an argument or
//    a constant are copied first (ownership-based deallocation).
//  * Low-precision floats: bf16 arithmetic is emulated in f32 and bf16 <-> f32
//    conversions are expanded to integer code (no compiler-rt call); math ops
//    on f16/bf16 are computed in f32. In memory f4E2M1FN, f8E4M3FN and
//    f8E8M0FNU take one byte per element.
//  * Math functions lower to LLVM intrinsics (which become libm calls such as
//    exp2f) or to direct libm calls (tanhf, erff, ...): the JIT resolves them
//    from the process. A non-contiguous memref.copy calls `memrefCopy`
//    (the MLIR C runner-utils ABI), which the embedder must provide (attnqat-run
//    the JIT library (AttnQATJIT) registers its own implementation).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_PIPELINES_PIPELINES_H
#define ATTNQAT_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace mlir::attnqat {

struct AttnQATCPUPipelineOptions
    : public PassPipelineOptions<AttnQATCPUPipelineOptions> {
  PassOptions::Option<int64_t> keyTile{
      *this, "key-tile",
      llvm::cl::desc("Keys per tile of the attention loops (a multiple of 32)"),
      llvm::cl::init(64)};
  PassOptions::Option<int64_t> queryTile{
      *this, "query-tile",
      llvm::cl::desc("Query rows per tile of the attention loops"),
      llvm::cl::init(64)};
  PassOptions::Option<bool> deallocate{
      *this, "dealloc",
      llvm::cl::desc("Insert buffer deallocations (ownership-based "
                     "buffer-deallocation-pipeline); off leaks every "
                     "temporary buffer and is only meant for debugging"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> privateFunctionDynamicOwnership{
      *this, "private-function-dynamic-ownership",
      llvm::cl::desc("Let private functions return ownership of returned "
                     "buffers to callers (fewer copies in the callee)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> reassociateFPReductions{
      *this, "reassociate-fp-reductions",
      llvm::cl::desc("Allow reassociation of floating-point vector reductions"),
      llvm::cl::init(false)};
};

/// Append the CPU lowering to `pm` (anchored on the builtin module).
void buildAttnQATCPUPipeline(OpPassManager &pm,
                             const AttnQATCPUPipelineOptions &options);

/// Register `attnqat-cpu-pipeline` (and future pipelines). Idempotent.
void registerAttnQATPipelines();


/// Where `attnqat-qat-pipeline` lowers to: the host (loops for the
/// ExecutionEngine) or a GPU chip (the attnqat ops' kernels as a gpu.binary,
/// host ops left for the runtime). An unknown target is rejected when the
/// options parse.
enum class QATPipelineTarget { CPU, SM90a, SM100a, SM120a };
enum class QATPipelineFormat { NVFP4, MXFP4 };
enum class QATPipelinePScaling { Auto, TwoLevel, Single };
enum class QATPipelineMode { QAT, DropIn };

/// `attnqat-qat-pipeline`: what a frontend's attention needs to train at FP4.
struct AttnQATQATPipelineOptions
    : public PassPipelineOptions<AttnQATQATPipelineOptions> {
  PassOptions::Option<QATPipelineFormat> format{
      *this, "format", llvm::cl::desc("FP4 format of Q, K, V and P"),
      llvm::cl::init(QATPipelineFormat::NVFP4),
      llvm::cl::values(clEnumValN(QATPipelineFormat::NVFP4, "nvfp4", "NVFP4"),
                       clEnumValN(QATPipelineFormat::MXFP4, "mxfp4", "MXFP4"))};
  PassOptions::Option<QATPipelinePScaling> p{
      *this, "p",
      llvm::cl::desc("P scaling: auto (two-level for NVFP4, single for "
                     "MXFP4), two-level (NVFP4 only) or single"),
      llvm::cl::init(QATPipelinePScaling::Auto),
      llvm::cl::values(
          clEnumValN(QATPipelinePScaling::Auto, "auto",
                     "two-level for NVFP4, single for MXFP4"),
          clEnumValN(QATPipelinePScaling::TwoLevel, "two-level",
                     "static global scale 1/(6*448)"),
          clEnumValN(QATPipelinePScaling::Single, "single", "no global scale"))};
  PassOptions::Option<QATPipelineMode> mode{
      *this, "mode", llvm::cl::desc("qat (matched backward) or dropin"),
      llvm::cl::init(QATPipelineMode::QAT),
      llvm::cl::values(clEnumValN(QATPipelineMode::QAT, "qat", "matched"),
                       clEnumValN(QATPipelineMode::DropIn, "dropin",
                                  "ordinary backward (ablation)"))};
  PassOptions::Option<QATPipelineTarget> target{
      *this, "target",
      llvm::cl::desc("Where to lower: cpu, or a GPU chip (its kernels)"),
      llvm::cl::init(QATPipelineTarget::CPU),
      llvm::cl::values(
          clEnumValN(QATPipelineTarget::CPU, "cpu", "loops JIT-compiled for the host"),
          clEnumValN(QATPipelineTarget::SM90a, "sm_90a", "Hopper kernels"),
          clEnumValN(QATPipelineTarget::SM100a, "sm_100a", "B200 kernels"),
          clEnumValN(QATPipelineTarget::SM120a, "sm_120a", "RTX 5090 kernels"))};
  PassOptions::Option<std::string> gpuFormat{
      *this, "gpu-format",
      llvm::cl::desc("GPU targets: isa (PTX text) or bin (cubin through ptxas)"),
      llvm::cl::init("isa")};
  PassOptions::Option<bool> lower{
      *this, "lower",
      llvm::cl::desc("Lower to the target (false: stop after attaching QAT)"),
      llvm::cl::init(true)};
};

/// Fuses attention found in linalg and TOSA, attaches the QAT configuration
/// and lowers for the target.
void buildAttnQATQATPipeline(OpPassManager &pm,
                             const AttnQATQATPipelineOptions &options);

/// `attnqat-gpu-kernels-pipeline`: the GPU kernels of a module's attnqat ops
/// (codec, attention forward and backward) to PTX or cubin for one chip (the
/// host ops stay, for the runtime to launch).
struct AttnQATGPUKernelsPipelineOptions
    : public PassPipelineOptions<AttnQATGPUKernelsPipelineOptions> {
  PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("sm_90a, sm_100a or sm_120a"),
      llvm::cl::init("sm_90a")};
  PassOptions::Option<std::string> format{
      *this, "format",
      llvm::cl::desc("isa (PTX text) or bin (cubin through ptxas)"),
      llvm::cl::init("isa")};
  PassOptions::Option<std::string> toolkit{
      *this, "toolkit", llvm::cl::desc("CUDA toolkit holding ptxas"),
      llvm::cl::init("/usr/local/cuda")};
  PassOptions::Option<bool> tensorCores{
      *this, "tensor-cores",
      llvm::cl::desc("tensor-core forward kernels where they apply (false: "
                     "the baseline kernels only)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> warpgroupMma{
      *this, "warpgroup-mma",
      llvm::cl::desc("sm_90a: also the forward on wgmma with a producer "
                     "warpgroup (attention_fwd_wg_*) and the backward on "
                     "wgmma (attention_bwd_wg_*) for BF16 attentions, which "
                     "the ops then link to"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> tmaLoads{
      *this, "tma-loads",
      llvm::cl::desc("sm_90a: the wgmma forward loads Q, K and V by TMA from "
                     "tensor maps the runtime encodes (q_map, k_map, v_map), "
                     "instead of by cp.async"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> backwardTmaLoads{
      *this, "backward-tma-loads",
      llvm::cl::desc("sm_90a: the wgmma backward loads Q, dO, K and V by TMA "
                     "from tensor maps the runtime encodes (q_map, k_map, "
                     "v_map, do_map), instead of by cp.async, where it ran "
                     "faster: D = 128 but causal none and dropin"),
      llvm::cl::init(true)};
};

void buildAttnQATGPUKernelsPipeline(
    OpPassManager &pm, const AttnQATGPUKernelsPipelineOptions &options);
/// The pipeline's second half: `gpu.module @attnqat_kernels` (already
/// generated) to a `gpu.binary` for `options.chip`.
void buildAttnQATGPUKernelLowering(
    OpPassManager &pm, const AttnQATGPUKernelsPipelineOptions &options);

} // namespace mlir::attnqat

#endif // ATTNQAT_PIPELINES_PIPELINES_H
