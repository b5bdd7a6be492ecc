//===- FuseLinalgAttention.cpp - linalg attention -> attnqat.attention ----===//
//
// Matches softmax(Q Kᵀ · scale + mask) V written with linalg on tensors (as
// torch-mlir emits it) and rewrites it to one attnqat.attention (mode none).
//
// The match is rooted at the P·V contraction. Its loops become the logical
// loops of the attention; every tensor met on the way back (through layout
// ops, the softmax, the mask and scale generics and the Q·Kᵀ contraction)
// gets a view in those loops (AttentionFusion.h), which is how roles are
// read off indexing maps rather than positions, and how a softmax or mask
// over the wrong dimension is told apart from the real thing.
//
//===----------------------------------------------------------------------===//

#include "attnqat/Conversion/Passes.h"

#include "AttentionFusion.h"
#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::attnqat {
#define GEN_PASS_DEF_ATTNQATFUSELINALGATTENTION
#include "attnqat/Conversion/Passes.h.inc"
} // namespace mlir::attnqat

using namespace mlir;
using namespace mlir::attnqat;
using namespace mlir::attnqat::fusion;

namespace {

//===----------------------------------------------------------------------===//
// Layout ops in linalg / tensor
//===----------------------------------------------------------------------===//

class LinalgLayout final : public LayoutBuilder {
public:
  /// One tensor.collapse_shape or tensor.expand_shape where the shapes
  /// allow it, else a collapse to 1-D and an expand.
  Value reshape(OpBuilder &b, Location loc, Value v,
                ArrayRef<int64_t> shape) override {
    auto src = cast<RankedTensorType>(v.getType());
    if (src.getShape() == shape)
      return v;
    auto dst = src.clone(shape);
    if (dst.getRank() == 0)
      return tensor::CollapseShapeOp::create(b, loc, dst, v,
                                             ArrayRef<ReassociationIndices>{});
    if (src.getRank() == 0)
      return tensor::ExpandShapeOp::create(b, loc, dst, v,
                                           ArrayRef<ReassociationIndices>{});
    if (src.getRank() > dst.getRank())
      if (auto re = getReassociationIndicesForReshape(src, dst))
        return tensor::CollapseShapeOp::create(b, loc, dst, v, *re);
    if (src.getRank() < dst.getRank())
      if (auto re = getReassociationIndicesForReshape(dst, src))
        return tensor::ExpandShapeOp::create(b, loc, dst, v, *re);
    ReassociationIndices all;
    for (int64_t i = 0; i < src.getRank(); ++i)
      all.push_back(i);
    Value flat = src.getRank() == 1
                     ? v
                     : tensor::CollapseShapeOp::create(b, loc, v, {all});
    ReassociationIndices allDst;
    for (int64_t i = 0; i < dst.getRank(); ++i)
      allDst.push_back(i);
    return dst.getRank() == 1
               ? flat
               : tensor::ExpandShapeOp::create(b, loc, dst, flat, {allDst});
  }
  Value transpose(OpBuilder &b, Location loc, Value v,
                  ArrayRef<int64_t> perm) override {
    auto type = cast<RankedTensorType>(v.getType());
    SmallVector<int64_t> shape;
    for (int64_t p : perm)
      shape.push_back(type.getDimSize(p));
    Value init = tensor::EmptyOp::create(b, loc, shape, type.getElementType());
    return linalg::TransposeOp::create(b, loc, v, init, perm).getResult()[0];
  }
  Value broadcast(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape,
                  ArrayRef<int64_t> added) override {
    auto type = cast<RankedTensorType>(v.getType());
    Value init = tensor::EmptyOp::create(b, loc, shape, type.getElementType());
    return linalg::BroadcastOp::create(b, loc, v, init, added).getResult()[0];
  }
};

//===----------------------------------------------------------------------===//
// Body and operand helpers
//===----------------------------------------------------------------------===//

/// The value the body of `op` yields at `i`.
Value yielded(linalg::LinalgOp op, unsigned i = 0) {
  Block *body = op.getBlock();
  if (!body)
    return {};
  auto yield = dyn_cast<linalg::YieldOp>(body->getTerminator());
  if (!yield || yield.getNumOperands() <= i)
    return {};
  return yield.getOperand(i);
}

/// Which DPS input of `op` the body argument `v` stands for.
std::optional<unsigned> inputIndex(linalg::LinalgOp op, Value v) {
  auto arg = dyn_cast<BlockArgument>(v);
  if (!arg || arg.getOwner() != op.getBlock() ||
      arg.getArgNumber() >= op.getNumDpsInputs())
    return std::nullopt;
  return arg.getArgNumber();
}

/// Whether `v` is the body argument of `op`'s init `i`.
bool isInitArg(linalg::LinalgOp op, Value v, unsigned i = 0) {
  auto arg = dyn_cast<BlockArgument>(v);
  return arg && arg.getOwner() == op.getBlock() &&
         arg.getArgNumber() == op.getNumDpsInputs() + i;
}

/// The value `v` is filled with: a linalg.fill of a scalar constant or a
/// splat constant tensor.
std::optional<double> getFillValue(Value v) {
  if (auto fill = v.getDefiningOp<linalg::FillOp>())
    return getScalarConstant(fill.getInputs()[0]);
  DenseElementsAttr dense;
  if (matchPattern(v, m_Constant(&dense)) && dense.isSplat() &&
      isa<FloatType>(dense.getElementType()))
    return dense.getSplatValue<APFloat>().convertToDouble();
  return std::nullopt;
}

bool allParallel(linalg::LinalgOp op) {
  return op.getNumLoops() == op.getNumParallelLoops();
}

/// A single-result elementwise generic on tensors: its loops' digits from
/// the result's view (every loop must appear in the result's map).
FailureOr<SmallVector<std::optional<DimView>>>
elementwiseLoops(linalg::GenericOp g, const View &resultView) {
  if (g.getNumResults() != 1 || g.getNumDpsInits() != 1 || !allParallel(g) ||
      !g.hasPureTensorSemantics())
    return failure();
  // The init is only a shape: its value must not be read.
  if (!g.getRegionOutputArgs()[0].use_empty())
    return failure();
  SmallVector<std::optional<DimView>> loops(g.getNumLoops());
  if (failed(loopsFromMap(g.getIndexingMapsArray().back(), resultView, loops)))
    return failure();
  if (llvm::any_of(loops, [](const auto &l) { return !l.has_value(); }))
    return failure();
  return loops;
}

/// View of input `i` of an elementwise generic.
FailureOr<Operand> inputOperand(linalg::GenericOp g, unsigned i,
                                ArrayRef<std::optional<DimView>> loops) {
  FailureOr<View> view = viewFromMap(g.getIndexingMapsArray()[i], loops);
  if (failed(view))
    return failure();
  return Operand{g.getDpsInputs()[i], *view};
}

/// The input that body argument `arg` stands for, with its view.
FailureOr<Operand> argOperand(linalg::GenericOp g, Value arg,
                              ArrayRef<std::optional<DimView>> loops) {
  std::optional<unsigned> i = inputIndex(g, arg);
  if (!i)
    return failure();
  return inputOperand(g, *i, loops);
}

/// The positive constant factor of a scale generic `x * c`, `c * x` or
/// `x / c`, where c is a scalar constant or an input that is a splat
/// constant tensor; `x` is returned in `scaled`.
std::optional<double> scaleFactor(linalg::GenericOp g, Value &scaled) {
  Value y = yielded(g);
  Operation *op = y ? y.getDefiningOp() : nullptr;
  if (!op || op->getBlock() != g.getBlock() ||
      !isa<arith::MulFOp, arith::DivFOp>(op))
    return std::nullopt;
  auto constantOf = [&](Value v) -> std::optional<double> {
    if (std::optional<unsigned> i = inputIndex(g, v))
      return getFillValue(g.getDpsInputs()[*i]);
    if (v.getParentBlock() == g.getBlock() && isa<BlockArgument>(v))
      return std::nullopt;
    return getScalarConstant(v);
  };
  Value lhs = op->getOperand(0), rhs = op->getOperand(1);
  std::optional<double> factor;
  if (isa<arith::DivFOp>(op)) {
    if (std::optional<double> c = constantOf(rhs); c && *c != 0.0) {
      factor = 1.0 / *c;
      scaled = lhs;
    }
  } else if (std::optional<double> c = constantOf(rhs)) {
    factor = *c;
    scaled = lhs;
  } else if (std::optional<double> c = constantOf(lhs)) {
    factor = *c;
    scaled = rhs;
  }
  // The scaled value must be a tensor input of the generic.
  if (!factor || !(*factor > 0.0) || !std::isfinite(*factor) ||
      !inputIndex(g, scaled))
    return std::nullopt;
  return factor;
}

/// Whether `op` is a contraction we can use: two inputs, one zero-filled
/// init, one reduction loop, static loops, float mul/add body.
bool isZeroInitContraction(linalg::LinalgOp op) {
  if (!op || op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op->getNumResults() != 1 || !op.hasPureTensorSemantics() ||
      op.getNumReductionLoops() != 1 || !linalg::isaContractionOpInterface(op))
    return false;
  if (llvm::any_of(op.getStaticLoopRanges(), ShapedType::isDynamic))
    return false;
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type || !isa<FloatType>(type.getElementType()))
    return false;
  for (Value in : op.getDpsInputs())
    if (cast<ShapedType>(in.getType()).getElementType() !=
        type.getElementType())
      return false;
  std::optional<double> init = getFillValue(op.getDpsInits()[0]);
  return init && *init == 0.0;
}

/// The predicate P' with (a P b) == (b P' a).
arith::CmpIPredicate swapOperands(arith::CmpIPredicate pred) {
  using P = arith::CmpIPredicate;
  switch (pred) {
  case P::sgt:
    return P::slt;
  case P::slt:
    return P::sgt;
  case P::sge:
    return P::sle;
  case P::sle:
    return P::sge;
  case P::ugt:
    return P::ult;
  case P::ult:
    return P::ugt;
  case P::uge:
    return P::ule;
  case P::ule:
    return P::uge;
  default:
    return pred;
  }
}

/// Index of the reduction loop of `op`.
unsigned reductionLoop(linalg::LinalgOp op) {
  for (auto [i, it] : llvm::enumerate(op.getIteratorTypesArray()))
    if (it == utils::IteratorType::reduction)
      return i;
  llvm_unreachable("no reduction loop");
}

//===----------------------------------------------------------------------===//
// The matcher
//===----------------------------------------------------------------------===//

enum class Reduction { Max, Sum };

class Matcher {
public:
  AttentionPattern p;
  std::string why;

  LogicalResult match(linalg::LinalgOp root);

private:
  LogicalResult fail(const Twine &reason) {
    why = reason.str();
    return failure();
  }

  /// Follows `o` back through layout ops (and positive splat scales when
  /// `scale` is given, multiplying them in) to the value they start from.
  Operand traceLayout(Operand o, double *scale = nullptr);
  std::optional<Operand> throughLayoutOp(const Operand &o, double *scale);

  FailureOr<Operand> matchSoftmax(Operand r);
  FailureOr<Operand> matchExp(Operand e);
  FailureOr<Operand> matchRowReduction(Operand r, Reduction kind);
  LogicalResult matchScores(Operand s, bool scaleSeen);
  LogicalResult matchCausal(linalg::GenericOp g,
                            ArrayRef<std::optional<DimView>> loops,
                            Value &rest);
  LogicalResult matchQK(linalg::LinalgOp op, const View &resultView);

  bool sameOperand(const Operand &a, const Operand &b) {
    Operand x = traceLayout(a), y = traceLayout(b);
    return x.value == y.value && equalViews(x.view, y.view);
  }
  DimView keyDigits() const { return p.space.full(p.key); }
};

std::optional<Operand> Matcher::throughLayoutOp(const Operand &o,
                                                double *scale) {
  Operation *def = o.value.getDefiningOp();
  if (!def)
    return std::nullopt;
  if (auto cast = dyn_cast<tensor::CastOp>(def)) {
    auto src = dyn_cast<RankedTensorType>(cast.getSource().getType());
    if (!src || !src.hasStaticShape())
      return std::nullopt;
    return Operand{cast.getSource(), o.view};
  }
  if (isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(def)) {
    Value src = def->getOperand(0);
    auto srcType = cast<RankedTensorType>(src.getType());
    FailureOr<View> view = viewThroughReshape(o.view, srcType.getShape());
    if (failed(view))
      return std::nullopt;
    return Operand{src, *view};
  }
  if (auto t = dyn_cast<linalg::TransposeOp>(def)) {
    View view(o.view.size());
    for (auto [i, p] : llvm::enumerate(t.getPermutation()))
      view[p] = o.view[i];
    return Operand{t.getInput(), view};
  }
  if (auto br = dyn_cast<linalg::BroadcastOp>(def)) {
    View view;
    for (auto [i, d] : llvm::enumerate(o.view))
      if (!llvm::is_contained(br.getDimensions(), static_cast<int64_t>(i)))
        view.push_back(d);
    return Operand{br.getInput(), view};
  }
  auto g = dyn_cast<linalg::GenericOp>(def);
  if (!g)
    return std::nullopt;
  FailureOr<SmallVector<std::optional<DimView>>> loops =
      elementwiseLoops(g, o.view);
  if (failed(loops))
    return std::nullopt;
  Type resultElt = cast<ShapedType>(o.value.getType()).getElementType();
  // A copy, transpose or broadcast generic: yields its only input.
  Value y = yielded(g);
  if (g.getNumDpsInputs() == 1 && inputIndex(g, y) == 0u &&
      g.getBlock()->getOperations().size() == 1) {
    if (cast<ShapedType>(g.getDpsInputs()[0].getType()).getElementType() !=
        resultElt)
      return std::nullopt;
    FailureOr<Operand> in = inputOperand(g, 0, *loops);
    return succeeded(in) ? std::optional<Operand>(*in) : std::nullopt;
  }
  if (!scale)
    return std::nullopt;
  Value scaled;
  std::optional<double> factor = scaleFactor(g, scaled);
  if (!factor)
    return std::nullopt;
  FailureOr<Operand> in = argOperand(g, scaled, *loops);
  if (failed(in) ||
      cast<ShapedType>(in->value.getType()).getElementType() != resultElt)
    return std::nullopt;
  *scale *= *factor;
  return *in;
}

Operand Matcher::traceLayout(Operand o, double *scale) {
  while (std::optional<Operand> next = throughLayoutOp(o, scale))
    o = *next;
  return o;
}

LogicalResult Matcher::match(linalg::LinalgOp root) {
  if (!isZeroInitContraction(root))
    return fail("not a zero-initialized float contraction");
  // The loops of P·V are the attention's loops (plus the head dim later).
  SmallVector<std::optional<DimView>> loops;
  for (int64_t extent : root.getStaticLoopRanges())
    loops.push_back(p.space.full(p.space.add(extent)));
  p.key = reductionLoop(root);
  SmallVector<AffineMap> maps = root.getIndexingMapsArray();
  Value result = root->getResult(0);
  FailureOr<View> resultView = viewFromMap(maps[2], loops);
  if (failed(resultView))
    return fail("unsupported result indexing");
  p.result = Operand{result, *resultView};

  std::string firstWhy;
  for (unsigned pi : {0u, 1u}) {
    AttentionPattern saved = p;
    auto uses = [&](unsigned input, unsigned loop) {
      return maps[input].isFunctionOfDim(loop);
    };
    SmallVector<unsigned> query, value, batch;
    for (unsigned l = 0; l < root.getNumLoops(); ++l) {
      if (l == p.key)
        continue;
      bool inP = uses(pi, l), inV = uses(1 - pi, l);
      if (inP && inV)
        batch.push_back(l);
      else if (inP)
        query.push_back(l);
      else if (inV)
        value.push_back(l);
    }
    FailureOr<View> pView = viewFromMap(maps[pi], loops);
    FailureOr<View> vView = viewFromMap(maps[1 - pi], loops);
    if (failed(pView) || failed(vView)) {
      why = "unsupported P·V operand indexing";
      continue;
    }
    if (query.empty() || value.size() != 1) {
      why = "P·V has no query or no single value loop";
      continue;
    }
    // Loops only P reads are query rows; with several (heads V is shared
    // across: MQA), the query loop is the one P's layout puts last and the
    // others are batch loops that K and V do not read.
    auto lastDimOf = [&](unsigned loop) {
      int64_t last = -1;
      for (auto [i, e] : llvm::enumerate(maps[pi].getResults()))
        if (e.isFunctionOfDim(loop))
          last = i;
      return last;
    };
    llvm::stable_sort(query, [&](unsigned a, unsigned b) {
      return lastDimOf(a) < lastDimOf(b);
    });
    p.query = query.pop_back_val();
    llvm::append_range(batch, query);
    llvm::sort(batch);
    p.batch = batch;
    p.valueDim = value[0];
    p.v = traceLayout(Operand{root.getDpsInputs()[1 - pi], *vView});
    FailureOr<Operand> x =
        matchSoftmax(Operand{root.getDpsInputs()[pi], *pView});
    if (succeeded(x) && succeeded(matchScores(*x, /*scaleSeen=*/false)))
      return success();
    if (firstWhy.empty())
      firstWhy = why;
    p = saved;
  }
  why = firstWhy.empty() ? why : firstWhy;
  return failure();
}

/// softmax over the key loop: linalg.softmax, or e / sum(e) (or e *
/// (1 / sum(e))) with e = exp(x - max(x)). Returns x.
FailureOr<Operand> Matcher::matchSoftmax(Operand r) {
  r = traceLayout(r);
  DimView key = keyDigits();
  if (auto sm = r.value.getDefiningOp<linalg::SoftmaxOp>()) {
    for (auto [i, d] : llvm::enumerate(r.view)) {
      bool isKey = i == sm.getDimension();
      if (isKey != equalDims(d, key))
        return fail("softmax is not over the key dimension");
    }
    return Operand{sm.getInput(), r.view};
  }
  auto g = r.value.getDefiningOp<linalg::GenericOp>();
  if (!g)
    return fail("P is not a softmax");
  FailureOr<SmallVector<std::optional<DimView>>> loops =
      elementwiseLoops(g, r.view);
  if (failed(loops))
    return fail("P is not a softmax");
  Value y = yielded(g);
  Operation *norm = y ? y.getDefiningOp() : nullptr;
  if (!norm || norm->getBlock() != g.getBlock())
    return fail("P is not a softmax");

  // Numerator and the sum it is divided by.
  FailureOr<Operand> numer = failure(), sum = failure();
  if (auto div = dyn_cast<arith::DivFOp>(norm)) {
    numer = argOperand(g, div.getLhs(), *loops);
    sum = argOperand(g, div.getRhs(), *loops);
  } else if (auto mul = dyn_cast<arith::MulFOp>(norm)) {
    for (auto [a, b] : {std::pair(mul.getLhs(), mul.getRhs()),
                        std::pair(mul.getRhs(), mul.getLhs())}) {
      FailureOr<Operand> n = argOperand(g, a, *loops);
      if (failed(n))
        continue;
      // 1 / s in this body, or an input computed as 1 / s.
      if (auto inner = b.getDefiningOp<arith::DivFOp>();
          inner && inner->getBlock() == g.getBlock() &&
          getScalarConstant(inner.getLhs()) == 1.0) {
        numer = n;
        sum = argOperand(g, inner.getRhs(), *loops);
        break;
      }
      FailureOr<Operand> recip = argOperand(g, b, *loops);
      if (failed(recip))
        continue;
      Operand rc = traceLayout(*recip);
      auto rg = rc.value.getDefiningOp<linalg::GenericOp>();
      if (!rg || rg.getNumDpsInputs() != 1)
        continue;
      FailureOr<SmallVector<std::optional<DimView>>> rl =
          elementwiseLoops(rg, rc.view);
      auto inner =
          yielded(rg) ? yielded(rg).getDefiningOp<arith::DivFOp>() : nullptr;
      if (failed(rl) || !inner || getScalarConstant(inner.getLhs()) != 1.0)
        continue;
      numer = n;
      sum = argOperand(rg, inner.getRhs(), *rl);
      break;
    }
  }
  if (failed(numer) || failed(sum))
    return fail("P is not exp(...) / sum(exp(...))");

  FailureOr<Operand> x = matchExp(*numer);
  if (failed(x))
    return failure();
  FailureOr<Operand> summed = matchRowReduction(*sum, Reduction::Sum);
  if (failed(summed))
    return failure();
  if (!sameOperand(*summed, *numer))
    return fail("the softmax sum does not reduce its own numerator over the "
                "key dimension");
  return *x;
}

/// e = exp(x - max(x)) (one generic or a sub generic then an exp generic).
/// Returns x.
FailureOr<Operand> Matcher::matchExp(Operand e) {
  e = traceLayout(e);
  auto g = e.value.getDefiningOp<linalg::GenericOp>();
  using Loops = SmallVector<std::optional<DimView>>;
  FailureOr<Loops> loops =
      g ? elementwiseLoops(g, e.view) : FailureOr<Loops>(failure());
  if (failed(loops))
    return fail("softmax numerator is not an exp");
  auto exp = yielded(g) ? yielded(g).getDefiningOp<math::ExpOp>() : nullptr;
  if (!exp)
    return fail("softmax numerator is not an exp");
  // The subtraction: in this body, or the input's producer.
  linalg::GenericOp subOwner = g;
  auto sub = exp.getOperand().getDefiningOp<arith::SubFOp>();
  SmallVector<std::optional<DimView>> subLoops = *loops;
  if (!sub || sub->getBlock() != g.getBlock()) {
    FailureOr<Operand> t = argOperand(g, exp.getOperand(), *loops);
    if (failed(t))
      return fail("softmax numerator is not exp(x - max x)");
    Operand tt = traceLayout(*t);
    subOwner = tt.value.getDefiningOp<linalg::GenericOp>();
    FailureOr<Loops> sl = subOwner ? elementwiseLoops(subOwner, tt.view)
                                   : FailureOr<Loops>(failure());
    sub = subOwner && yielded(subOwner)
              ? yielded(subOwner).getDefiningOp<arith::SubFOp>()
              : nullptr;
    if (failed(sl) || !sub)
      return fail("softmax numerator is not exp(x - max x)");
    subLoops = *sl;
  }
  FailureOr<Operand> x = argOperand(subOwner, sub.getLhs(), subLoops);
  FailureOr<Operand> m = argOperand(subOwner, sub.getRhs(), subLoops);
  if (failed(x) || failed(m))
    return fail("softmax numerator is not exp(x - max x)");
  FailureOr<Operand> maxed = matchRowReduction(*m, Reduction::Max);
  if (failed(maxed))
    return failure();
  if (!sameOperand(*maxed, *x))
    return fail("the softmax max is not over the key dimension of its input");
  return *x;
}

/// A max or sum over exactly the key loop (linalg.reduce or a reduction
/// generic; a max may carry an unused argmax result). Returns its input.
FailureOr<Operand> Matcher::matchRowReduction(Operand r, Reduction kind) {
  r = traceLayout(r);
  StringRef what = kind == Reduction::Max ? "max" : "sum";
  auto bodyOk = [&](linalg::LinalgOp op, unsigned resultIdx) {
    Value y = yielded(op, resultIdx);
    Operation *comb = y ? y.getDefiningOp() : nullptr;
    if (!comb || comb->getBlock() != op.getBlock())
      return false;
    auto isIn = [&](Value v) { return inputIndex(op, v) == 0u; };
    auto isAcc = [&](Value v) { return isInitArg(op, v, resultIdx); };
    auto pair = [&](Value a, Value b) {
      return (isIn(a) && isAcc(b)) || (isAcc(a) && isIn(b));
    };
    if (kind == Reduction::Sum)
      return isa<arith::AddFOp>(comb) &&
             pair(comb->getOperand(0), comb->getOperand(1));
    if (isa<arith::MaximumFOp, arith::MaxNumFOp>(comb))
      return pair(comb->getOperand(0), comb->getOperand(1));
    // select(x > acc, x, acc)
    auto sel = dyn_cast<arith::SelectOp>(comb);
    auto cmp =
        sel ? sel.getCondition().getDefiningOp<arith::CmpFOp>() : nullptr;
    if (!cmp)
      return false;
    bool gt = cmp.getPredicate() == arith::CmpFPredicate::OGT ||
              cmp.getPredicate() == arith::CmpFPredicate::OGE ||
              cmp.getPredicate() == arith::CmpFPredicate::UGT ||
              cmp.getPredicate() == arith::CmpFPredicate::UGE;
    return gt && cmp.getLhs() == sel.getTrueValue() &&
           cmp.getRhs() == sel.getFalseValue() && isIn(sel.getTrueValue()) &&
           isAcc(sel.getFalseValue());
  };
  auto initOk = [&](Value init) {
    std::optional<double> v = getFillValue(init);
    if (!v)
      return false;
    if (kind == Reduction::Sum)
      return *v == 0.0;
    return isNegativeInfinityLike(*v, getElementTypeOrSelf(init.getType()));
  };

  if (auto red = r.value.getDefiningOp<linalg::ReduceOp>()) {
    if (red.getNumDpsInputs() != 1 || red.getDimensions().size() != 1 ||
        !bodyOk(red, 0) || !initOk(red.getDpsInits()[0]))
      return fail(Twine("not a row ") + what);
    View view = r.view;
    int64_t dim = red.getDimensions()[0];
    if (dim > static_cast<int64_t>(view.size()))
      return fail(Twine("not a row ") + what);
    view.insert(view.begin() + dim, keyDigits());
    return Operand{red.getDpsInputs()[0], view};
  }
  auto g = r.value.getDefiningOp<linalg::GenericOp>();
  if (!g || g.getNumDpsInputs() != 1 || g.getNumReductionLoops() != 1 ||
      !g.hasPureTensorSemantics())
    return fail(Twine("softmax ") + what + " is not a reduction");
  unsigned resultIdx = cast<OpResult>(r.value).getResultNumber();
  // Only a max may have more results (torch-mlir's argmax), and only if
  // they are unused.
  if (resultIdx != 0 ||
      (g.getNumResults() > 1 &&
       (kind != Reduction::Max ||
        llvm::any_of(g->getResults().drop_front(),
                     [](Value v) { return !v.use_empty(); }))))
    return fail(Twine("softmax ") + what + " is not a plain reduction");
  if (!bodyOk(g, 0) || !initOk(g.getDpsInits()[0]))
    return fail(Twine("softmax ") + what + " has the wrong body or init");
  SmallVector<std::optional<DimView>> loops(g.getNumLoops());
  if (failed(loopsFromMap(g.getMatchingIndexingMap(g.getDpsInitOperand(0)),
                          r.view, loops)))
    return fail(Twine("softmax ") + what + " has an unsupported result map");
  unsigned red = reductionLoop(g);
  if (loops[red])
    return fail(Twine("softmax ") + what + " has an unsupported result map");
  loops[red] = keyDigits();
  FailureOr<Operand> in = inputOperand(g, 0, loops);
  if (failed(in))
    return fail(Twine("softmax ") + what + " has an unsupported input map");
  return *in;
}

/// Recognizes select(cmpi(key > query), -inf, s) / select(key <= query, s,
/// -inf) on linalg.index values of the query and key loops.
LogicalResult Matcher::matchCausal(linalg::GenericOp g,
                                   ArrayRef<std::optional<DimView>> loops,
                                   Value &rest) {
  if (g.getNumDpsInputs() != 1 || p.space.extent(p.query) < 2 ||
      p.space.extent(p.key) < 2)
    return failure();
  auto sel = yielded(g) ? yielded(g).getDefiningOp<arith::SelectOp>() : nullptr;
  if (!sel || sel->getBlock() != g.getBlock())
    return failure();
  Type elt = sel.getType();
  auto isNegInf = [&](Value v) {
    std::optional<double> c = getScalarConstant(v);
    return c && isNegativeInfinityLike(*c, elt);
  };
  bool maskedWhenTrue;
  if (inputIndex(g, sel.getFalseValue()) == 0u && isNegInf(sel.getTrueValue()))
    maskedWhenTrue = true;
  else if (inputIndex(g, sel.getTrueValue()) == 0u &&
           isNegInf(sel.getFalseValue()))
    maskedWhenTrue = false;
  else
    return failure();
  auto cmp = sel.getCondition().getDefiningOp<arith::CmpIOp>();
  if (!cmp)
    return failure();
  // Which logical loop an index operand reads (through index casts).
  auto loopOf = [&](Value v) -> std::optional<unsigned> {
    while (isa_and_nonnull<arith::IndexCastOp, arith::IndexCastUIOp>(
        v.getDefiningOp()))
      v = v.getDefiningOp()->getOperand(0);
    auto idx = v.getDefiningOp<linalg::IndexOp>();
    if (!idx || idx->getParentOp() != g.getOperation())
      return std::nullopt;
    const std::optional<DimView> &d = loops[idx.getDim()];
    if (d && equalDims(*d, p.space.full(p.query)))
      return p.query;
    if (d && equalDims(*d, p.space.full(p.key)))
      return p.key;
    return std::nullopt;
  };
  std::optional<unsigned> a = loopOf(cmp.getLhs()), b = loopOf(cmp.getRhs());
  if (!a || !b || *a == *b)
    return failure();
  // Normalize to `key PRED query`.
  arith::CmpIPredicate pred = cmp.getPredicate();
  if (*a == p.query)
    pred = swapOperands(pred);
  bool ok = maskedWhenTrue ? (pred == arith::CmpIPredicate::sgt ||
                              pred == arith::CmpIPredicate::ugt)
                           : (pred == arith::CmpIPredicate::sle ||
                              pred == arith::CmpIPredicate::ule);
  if (!ok)
    return failure();
  rest = g.getDpsInputs()[0];
  return success();
}

/// Walks from the softmax input back to Q·Kᵀ through causal selects, one
/// additive mask and positive splat scales (a scale after the mask would
/// scale the mask too: not matched).
LogicalResult Matcher::matchScores(Operand s, bool scaleSeen) {
  s = traceLayout(s);
  if (p.scores.empty())
    p.scores = s.view;
  Operation *def = s.value.getDefiningOp();
  auto linalgOp = dyn_cast_or_null<linalg::LinalgOp>(def);
  if (!linalgOp)
    return fail("scores do not come from a linalg op");
  if (isZeroInitContraction(linalgOp))
    return matchQK(linalgOp, s.view);
  auto g = dyn_cast<linalg::GenericOp>(def);
  using Loops = SmallVector<std::optional<DimView>>;
  FailureOr<Loops> loops =
      g ? elementwiseLoops(g, s.view) : FailureOr<Loops>(failure());
  if (failed(loops))
    return fail("unsupported op on the scores");
  Type elt = getElementTypeOrSelf(s.value.getType());
  auto sameType = [&](Value v) {
    return getElementTypeOrSelf(v.getType()) == elt;
  };

  // Scale.
  Value scaled;
  if (std::optional<double> factor = scaleFactor(g, scaled)) {
    FailureOr<Operand> in = argOperand(g, scaled, *loops);
    if (failed(in) || !sameType(in->value))
      return fail("unsupported scale of the scores");
    p.scale *= *factor;
    return matchScores(*in, /*scaleSeen=*/true);
  }
  // Causal select.
  Value rest;
  if (!p.causal && succeeded(matchCausal(g, *loops, rest))) {
    FailureOr<Operand> in = inputOperand(g, 0, *loops);
    if (failed(in) || !sameType(in->value))
      return fail("unsupported causal mask");
    p.causal = true;
    return matchScores(*in, scaleSeen);
  }
  // Additive mask.
  auto add = yielded(g) ? yielded(g).getDefiningOp<arith::AddFOp>() : nullptr;
  if (add && add->getBlock() == g.getBlock() && g.getNumDpsInputs() == 2 &&
      !p.mask) {
    if (scaleSeen)
      return fail("the scores are scaled after the mask is added");
    for (auto [a, b] : {std::pair(add.getLhs(), add.getRhs()),
                        std::pair(add.getRhs(), add.getLhs())}) {
      FailureOr<Operand> chain = argOperand(g, a, *loops);
      FailureOr<Operand> mask = argOperand(g, b, *loops);
      if (failed(chain) || failed(mask) || chain->value == mask->value ||
          !sameType(chain->value))
        continue;
      AttentionPattern saved = p;
      p.mask = traceLayout(*mask);
      if (succeeded(matchScores(*chain, scaleSeen)))
        return success();
      p = saved;
    }
    return fail("no operand of the mask addition leads to Q·Kᵀ");
  }
  return fail("unsupported op on the scores");
}

/// Q·Kᵀ: its parallel loops are known from the scores' view; the reduction
/// loop is the head dim.
LogicalResult Matcher::matchQK(linalg::LinalgOp op, const View &resultView) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<std::optional<DimView>> loops(op.getNumLoops());
  if (failed(loopsFromMap(maps[2], resultView, loops)))
    return fail("unsupported Q·Kᵀ result indexing");
  unsigned red = reductionLoop(op);
  if (loops[red])
    return fail("unsupported Q·Kᵀ result indexing");
  p.headDim = p.space.add(op.getStaticLoopRanges()[red]);
  loops[red] = p.space.full(p.headDim);
  FailureOr<View> a = viewFromMap(maps[0], loops),
                  b = viewFromMap(maps[1], loops);
  if (failed(a) || failed(b))
    return fail("unsupported Q·Kᵀ operand indexing");
  Operand lhs{op.getDpsInputs()[0], *a}, rhs{op.getDpsInputs()[1], *b};
  // Q must not read keys nor K queries (either may be a unit loop: M = 1
  // when decoding).
  auto crossed = [&](const Operand &q, const Operand &k) {
    return usesLoop(q.view, p.key) || usesLoop(k.view, p.query);
  };
  if (crossed(lhs, rhs))
    std::swap(lhs, rhs);
  if (crossed(lhs, rhs))
    return fail("Q·Kᵀ does not contract queries with keys");
  p.q = traceLayout(lhs, &p.scale);
  p.k = traceLayout(rhs, &p.scale);
  return success();
}

//===----------------------------------------------------------------------===//
// Pattern and pass
//===----------------------------------------------------------------------===//

struct FuseLinalgAttention final : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    Matcher m;
    if (failed(m.match(op)))
      return rewriter.notifyMatchFailure(op, m.why);
    LinalgLayout layout;
    rewriter.setInsertionPoint(op);
    FailureOr<Value> fused =
        buildAttention(rewriter, op.getLoc(), m.p, layout, m.why);
    if (failed(fused))
      return rewriter.notifyMatchFailure(op, m.why);
    rewriter.replaceOp(op, *fused);
    return success();
  }
};

void populateFuseLinalgAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<FuseLinalgAttention>(patterns.getContext());
}

struct AttnQATFuseLinalgAttentionPass final
    : mlir::attnqat::impl::AttnQATFuseLinalgAttentionBase<
          AttnQATFuseLinalgAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateFuseLinalgAttentionPatterns(patterns);
    // Rewrite only what matches: no folding or region simplification of the
    // rest of the module.
    GreedyRewriteConfig config;
    config.enableFolding(false)
        .enableConstantCSE(false)
        .setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
  }
};

} // namespace
