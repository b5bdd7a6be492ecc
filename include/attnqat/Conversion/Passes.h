//===- Passes.h - attnqat conversion passes -----------------------*- C++ -*-===//

#ifndef ATTNQAT_CONVERSION_PASSES_H
#define ATTNQAT_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::attnqat {

/// The function convert-attnqat-to-loops calls where dynamic extents that
/// must agree do not: (const char *message, int64_t actual, int64_t
/// expected), never returning. The JIT registers its own (lib/JIT).
inline constexpr llvm::StringLiteral kShapeErrorFunction = "attnqat_shape_error";

#define GEN_PASS_DECL
#include "attnqat/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attnqat/Conversion/Passes.h.inc"

} // namespace mlir::attnqat

#endif // ATTNQAT_CONVERSION_PASSES_H
