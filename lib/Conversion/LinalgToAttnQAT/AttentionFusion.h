//===- AttentionFusion.h - shared core of the attention fusions -*- C++ -*-===//
//
// The attention fusions (linalg and TOSA) describe what they matched in one
// logical loop space: the loops of the P·V contraction (batch loops, query,
// value dim, key) plus the head dim of the Q·Kᵀ contraction. Every tensor the
// match touches gets a *view*: for each of its dimensions, the mixed-radix
// number of loop "digits" that indexes it. Transposes permute views,
// broadcasts drop digits, reshapes regroup (and if needed split) digits, so
// a view says exactly which element of a tensor a loop iteration reads,
// whatever layout ops sit in between. Roles (batch, head, GQA group) are read
// off the views, never off positions.
//
// The matchers fill an AttentionPattern; buildAttention checks it, picks the
// batch/head split, lays operands out as [B, H, L, D] and creates the op.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_LIB_CONVERSION_ATTENTIONFUSION_H
#define ATTNQAT_LIB_CONVERSION_ATTENTIONFUSION_H

#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Value.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <string>

namespace mlir::attnqat::fusion {

/// One digit of a logical loop index: `(iv[dim] / stride) % extent`.
struct Digit {
  unsigned dim;
  int64_t stride;
  int64_t extent;
  bool operator==(const Digit &o) const {
    return dim == o.dim && stride == o.stride && extent == o.extent;
  }
};

/// The index of one tensor dimension as a mixed-radix number of digits, most
/// significant first. Empty: the index is always 0 (a unit dimension).
using DimView = SmallVector<Digit, 2>;
/// The indices of a tensor, one DimView per dimension.
using View = SmallVector<DimView, 4>;

/// Drops unit digits and merges adjacent digits of one loop, so that equal
/// index functions have equal canonical forms.
DimView canonicalize(ArrayRef<Digit> digits);
bool equalDims(ArrayRef<Digit> a, ArrayRef<Digit> b);
bool equalViews(const View &a, const View &b);
/// Whether any digit of `view` belongs to loop `dim`.
bool usesLoop(const View &view, unsigned dim);

/// The logical loops of one match.
class Space {
public:
  unsigned add(int64_t extent) {
    extents.push_back(extent);
    return extents.size() - 1;
  }
  int64_t extent(unsigned dim) const { return extents[dim]; }
  unsigned size() const { return extents.size(); }
  /// The whole loop as one digit (no digit for a unit loop).
  DimView full(unsigned dim) const;

private:
  SmallVector<int64_t> extents;
};

/// The view of a row-major reshape's source, given the view of its result.
/// Digits are split where the source's dimensions need it; fails where a
/// split would not divide evenly.
FailureOr<View> viewThroughReshape(const View &result,
                                   ArrayRef<int64_t> sourceShape);

/// Loop digits implied by an indexing map whose results are loops or the
/// constant 0, and the view of the operand it indexes. Loops already known
/// must agree. Fails on other expressions.
LogicalResult loopsFromMap(AffineMap map, const View &view,
                           SmallVectorImpl<std::optional<DimView>> &loops);
/// The view an indexing map gives an operand, from the loops' digits.
FailureOr<View> viewFromMap(AffineMap map,
                            ArrayRef<std::optional<DimView>> loops);
/// Whether the product of each dimension's digit extents is its size.
bool viewMatchesShape(const View &view, ArrayRef<int64_t> shape);

/// Emits layout ops in one dialect.
class LayoutBuilder {
public:
  virtual ~LayoutBuilder() = default;
  /// A row-major reshape of static `v` to `shape` (`v` itself if equal).
  virtual Value reshape(OpBuilder &b, Location loc, Value v,
                        ArrayRef<int64_t> shape) = 0;
  /// Result dimension i is input dimension perm[i].
  virtual Value transpose(OpBuilder &b, Location loc, Value v,
                          ArrayRef<int64_t> perm) = 0;
  /// Inserts dimensions `added` of `shape` (the others are v's, in order).
  virtual Value broadcast(OpBuilder &b, Location loc, Value v,
                          ArrayRef<int64_t> shape, ArrayRef<int64_t> added) = 0;
};

/// A tensor and its view.
struct Operand {
  Value value;
  View view;
};

/// An attention found in the logical loop space `space`:
///   result[batch, query, valueDim] =
///     sum_key softmax_key(scale * sum_headDim q·k + mask, causal) * v
struct AttentionPattern {
  Space space;
  SmallVector<unsigned> batch;
  unsigned query = 0, key = 0, headDim = 0, valueDim = 0;
  /// The view of the softmax input; its order of batch digits decides which
  /// become B and which H.
  View scores;
  Operand q, k, v;
  std::optional<Operand> mask;
  bool causal = false;
  double scale = 1.0;
  /// The value the attention replaces (the P·V contraction's result).
  Operand result;
};

/// Checks every role, chooses B and H (H: the trailing batch digits, K and V
/// reading a leading part of them: GQA), lays out Q, K, V and the mask as
/// [B, H, L, D], creates `attnqat.attention` in mode none and lays its output
/// out as `result`. Creates nothing on failure and says why in `why`.
FailureOr<Value> buildAttention(RewriterBase &rewriter, Location loc,
                                const AttentionPattern &pattern,
                                LayoutBuilder &layout, std::string &why);

/// The value of a scalar float constant, looking through extf/truncf/sitofp.
std::optional<double> getScalarConstant(Value v);
/// Whether `v` is -inf or a value that acts as -inf in a softmax: at most
/// the lowest finite value of its type, or -1e9 or below.
bool isNegativeInfinityLike(double v, Type type);

} // namespace mlir::attnqat::fusion

#endif // ATTNQAT_LIB_CONVERSION_ATTENTIONFUSION_H
