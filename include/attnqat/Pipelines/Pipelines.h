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
//    registers its own implementation).
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

} // namespace mlir::attnqat

#endif // ATTNQAT_PIPELINES_PIPELINES_H
