//===- AttnQAT.h - attnqat dialect --------------------------------*- C++ -*-===//

#ifndef ATTNQAT_DIALECT_ATTNQAT_IR_ATTNQAT_H
#define ATTNQAT_DIALECT_ATTNQAT_IR_ATTNQAT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "attnqat/Dialect/AttnQAT/IR/AttnQATDialect.h.inc"
#include "attnqat/Dialect/AttnQAT/IR/AttnQATEnums.h.inc"
#include "attnqat/Dialect/AttnQAT/IR/AttnQATAttrInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "attnqat/Dialect/AttnQAT/IR/AttnQATAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "attnqat/Dialect/AttnQAT/IR/AttnQATTypes.h.inc"

#define GET_OP_CLASSES
#include "attnqat/Dialect/AttnQAT/IR/AttnQATOps.h.inc"

namespace mlir::attnqat {

/// The number of blocks along an axis of `extent` elements (ceil division;
/// dynamic stays dynamic).
int64_t getNumBlocks(int64_t extent, int64_t blockSize);

/// What an attention's query [B, Hq, M, D] and key [B, Hkv, N, D] shapes,
/// optional mask and softmax scale must satisfy (batches match, static equal
/// head dims, static heads with Hq a multiple of Hkv >= 1, a mask of shape
/// [1 or B, 1 or Hq, M, N], a finite positive scale): shared by
/// attnqat.attention and the !attnqat.state that describes one.
LogicalResult
verifyAttentionFrame(llvm::function_ref<InFlightDiagnostic()> emitError,
                     ArrayRef<int64_t> q, ArrayRef<int64_t> k,
                     RankedTensorType mask, std::optional<double> scale);

/// The scales' shape for a tensor of `shape` blocked along `axis`.
SmallVector<int64_t> getScalesShape(ArrayRef<int64_t> shape, int64_t axis,
                                    int64_t blockSize);

} // namespace mlir::attnqat

#endif // ATTNQAT_DIALECT_ATTNQAT_IR_ATTNQAT_H
