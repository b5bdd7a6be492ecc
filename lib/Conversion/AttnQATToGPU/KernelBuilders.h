//===- KernelBuilders.h - bodies of the generated GPU kernels ----*- C++ -*-===//
//
// What convert-attnqat-to-gpu-kernels builds kernels with, besides the
// tensor-core attention (TensorCoreAttention.h): the codec kernels and the
// baseline attention kernels, and the naming scheme every kernel shares.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_LIB_CONVERSION_ATTNQATTOGPU_KERNELBUILDERS_H
#define ATTNQAT_LIB_CONVERSION_ATTNQATTOGPU_KERNELBUILDERS_H

#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <string>

namespace mlir::attnqat::gpukernels {

enum class CodecKind { Quantize, FakeQuant, Dequantize };

/// Where a quantize kernel puts codes and scales of a tensor viewed as
/// [outer, axis, inner]: `Rows` codes [outer, ceil(axis/2), inner] (pairs
/// along the axis) and scales [outer, ceil(axis/bs), inner]; `T64` (the
/// sm_120a MMA's B operand, V^T) codes [outer, inner, ceil(axis/64) * 32]
/// and scales [outer, inner, ceil(axis/64) * 64/bs], the axis padded to 64
/// with zero codes and zero scales.
enum class CodecLayout { Rows, T64 };

/// Elements per thread of a rows-layout codec kernel's grid: each of its
/// paths walks its units (blocks, or parts of blocks) grid-stride, so that a
/// thread has several 16-byte loads in flight.
inline constexpr int64_t kCodecElementsPerThread = 64;

/// What a codec kernel is specialized on; equal keys share one kernel.
struct CodecKernelKey {
  CodecKind kind;
  Type elementType;
  FP4FormatAttrInterface format;
  CodecLayout layout = CodecLayout::Rows;
  bool operator<(const CodecKernelKey &o) const {
    if (kind != o.kind)
      return kind < o.kind;
    if (layout != o.layout)
      return layout < o.layout;
    if (elementType != o.elementType)
      return elementType.getAsOpaquePointer() < o.elementType.getAsOpaquePointer();
    return format.getAsOpaquePointer() < o.format.getAsOpaquePointer();
  }
};

/// quantize_<fmt>[_g<bits>]_<type>[_t64] / fake_quant_... / dequantize_...
std::string codecKernelName(const CodecKernelKey &key);
/// One thread per block: amax, scale, codes (or decoded values) with
/// FP4Arith, the CPU lowering's codec. Parameters: input, codes + scales (or
/// output), outer, axis, inner; a dequantize kernel: codes, scales, output,
/// outer, axis, inner (rows layout).
void buildCodecKernel(gpu::GPUFuncOp func, const CodecKernelKey &key);

/// A type as MLIR prints it ("bf16", "f32").
std::string typeName(Type type);
/// <prefix><mode>[_p<fmt><levels>][_causal][_mask<b|1><h|1><type>][_lens]_<type>:
/// what an attention kernel is specialized on, spelled into its name.
std::string attentionKernelName(StringRef prefix, ConfigAttr config, bool causal,
                                RankedTensorType mask, bool keyLengths,
                                Type elementType);

/// The baseline forward's name for `op`, or "" when it does not cover it
/// (`why` says why).
std::string baselineForwardName(AttentionOp op, std::string &why);
/// The baseline backward's name for `op`.
std::string baselineBackwardName(AttentionBackwardOp op);
/// The baseline forward: one thread per query row running the CPU
/// lowering's row recurrence (loops::AttentionEmitter).
void buildBaselineForward(gpu::GPUFuncOp func, AttentionOp op, int64_t keyTile);
/// The baseline backward: one thread per query row; dK, dV by atomics.
void buildBaselineBackward(gpu::GPUFuncOp func, AttentionBackwardOp op,
                           int64_t keyTile);

} // namespace mlir::attnqat::gpukernels

#endif // ATTNQAT_LIB_CONVERSION_ATTNQATTOGPU_KERNELBUILDERS_H
