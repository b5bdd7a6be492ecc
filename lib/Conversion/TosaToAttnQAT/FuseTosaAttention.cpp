//===- FuseTosaAttention.cpp - TOSA attention -> attnqat.attention --------===//
//
// Matches softmax(Q Kᵀ · scale + mask) V as TOSA legalizations emit it
// (tosa.matmul, tosa.transpose, tosa.reshape, tosa.mul by a splat
// tosa.const, tosa.add of a broadcast mask, and the softmax as reduce_max /
// sub / exp / reduce_sum / reciprocal / mul) and rewrites it to one
// attnqat.attention in mode none. Same approach as the linalg fusion: views
// of every tensor in the loops of the P·V matmul (see
// ../LinalgToAttnQAT/AttentionFusion.h); TOSA's implicit broadcasting of
// size-1 dimensions is a view with no digits there.
//
//===----------------------------------------------------------------------===//

#include "attnqat/Conversion/Passes.h"

#include "../LinalgToAttnQAT/AttentionFusion.h"
#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::attnqat {
#define GEN_PASS_DEF_ATTNQATFUSETOSAATTENTION
#include "attnqat/Conversion/Passes.h.inc"
} // namespace mlir::attnqat

using namespace mlir;
using namespace mlir::attnqat;
using namespace mlir::attnqat::fusion;

namespace {

//===----------------------------------------------------------------------===//
// Layout ops in TOSA
//===----------------------------------------------------------------------===//

class TosaLayout final : public LayoutBuilder {
public:
  Value reshape(OpBuilder &b, Location loc, Value v,
                ArrayRef<int64_t> shape) override {
    auto type = cast<RankedTensorType>(v.getType());
    if (type.getShape() == shape)
      return v;
    return tosa::ReshapeOp::create(b, loc, type.clone(shape), v,
                                   constShape(b, loc, shape));
  }
  Value transpose(OpBuilder &b, Location loc, Value v,
                  ArrayRef<int64_t> perm) override {
    auto type = cast<RankedTensorType>(v.getType());
    SmallVector<int64_t> shape;
    SmallVector<int32_t> perms;
    for (int64_t p : perm) {
      shape.push_back(type.getDimSize(p));
      perms.push_back(p);
    }
    return tosa::TransposeOp::create(b, loc, type.clone(shape), v, perms);
  }
  Value broadcast(OpBuilder &b, Location loc, Value v, ArrayRef<int64_t> shape,
                  ArrayRef<int64_t> added) override {
    SmallVector<int64_t> withUnits(shape), multiples(shape.size(), 1);
    for (int64_t i : added) {
      withUnits[i] = 1;
      multiples[i] = shape[i];
    }
    Value r = reshape(b, loc, v, withUnits);
    auto type = cast<RankedTensorType>(v.getType()).clone(shape);
    return tosa::TileOp::create(b, loc, type, r, constShape(b, loc, multiples));
  }

private:
  static Value constShape(OpBuilder &b, Location loc,
                          ArrayRef<int64_t> values) {
    auto attr = DenseIntElementsAttr::get(
        RankedTensorType::get({static_cast<int64_t>(values.size())},
                              b.getIndexType()),
        values);
    return tosa::ConstShapeOp::create(
        b, loc, tosa::shapeType::get(b.getContext(), values.size()), attr);
  }
};

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// The value of a splat float constant (tosa.const or arith.constant).
std::optional<double> getSplat(Value v) {
  DenseElementsAttr dense;
  if (!v || !matchPattern(v, m_Constant(&dense)) || !dense.isSplat() ||
      !isa<FloatType>(dense.getElementType()))
    return std::nullopt;
  return dense.getSplatValue<APFloat>().convertToDouble();
}

/// Whether `shift` (tosa.mul's) is a constant 0.
bool isZeroShift(Value shift) {
  DenseElementsAttr dense;
  return matchPattern(shift, m_Constant(&dense)) && dense.isSplat() &&
         dense.getSplatValue<APInt>().isZero();
}

/// The view of an operand of an elementwise op with TOSA broadcasting:
/// dimensions of size 1 are broadcast (no digits).
FailureOr<View> broadcastView(Value operand, Value result, const View &rv) {
  auto o = dyn_cast<RankedTensorType>(operand.getType());
  auto r = dyn_cast<RankedTensorType>(result.getType());
  if (!o || !r || !o.hasStaticShape() || o.getRank() != r.getRank())
    return failure();
  View view;
  for (int64_t i = 0; i < o.getRank(); ++i) {
    if (o.getDimSize(i) == r.getDimSize(i))
      view.push_back(rv[i]);
    else if (o.getDimSize(i) == 1)
      view.push_back({});
    else
      return failure();
  }
  return view;
}

/// The least significant digits of `dim` whose extents multiply to `size`
/// (splitting a digit if needed), as a one-dimension view.
FailureOr<View> lowDigits(const DimView &dim, int64_t size) {
  DimView digits = canonicalize(dim);
  DimView low;
  int64_t need = size;
  for (auto it = digits.rbegin(); it != digits.rend() && need > 1; ++it) {
    if (it->extent <= need) {
      if (need % it->extent != 0)
        return failure();
      low.insert(low.begin(), *it);
      need /= it->extent;
    } else {
      if (it->extent % need != 0)
        return failure();
      low.insert(low.begin(), Digit{it->dim, it->stride, need});
      need = 1;
    }
  }
  if (need != 1)
    return failure();
  return View{low};
}

bool isZeroPoint(Value zp) {
  std::optional<double> v = getSplat(zp);
  return v && *v == 0.0;
}

//===----------------------------------------------------------------------===//
// The matcher
//===----------------------------------------------------------------------===//

class Matcher {
public:
  AttentionPattern p;
  std::string why;

  LogicalResult match(tosa::MatMulOp root);

private:
  LogicalResult fail(const Twine &reason) {
    why = reason.str();
    return failure();
  }
  Operand traceLayout(Operand o, double *scale = nullptr);
  std::optional<Operand> throughLayoutOp(const Operand &o, double *scale);
  FailureOr<Operand> matchSoftmax(Operand r);
  FailureOr<Operand> matchReduce(Operand r, bool max);
  LogicalResult matchScores(Operand s, bool scaleSeen);
  LogicalResult matchQK(tosa::MatMulOp op, const View &resultView);
  bool sameOperand(const Operand &a, const Operand &b) {
    Operand x = traceLayout(a), y = traceLayout(b);
    return x.value == y.value && equalViews(x.view, y.view);
  }
};

/// `x * c` or `c * x` with a positive splat constant c and shift 0: c.
std::optional<double> scaleOf(tosa::MulOp mul, Value &scaled) {
  if (!isZeroShift(mul.getShift()))
    return std::nullopt;
  std::optional<double> c;
  if ((c = getSplat(mul.getInput2())))
    scaled = mul.getInput1();
  else if ((c = getSplat(mul.getInput1())))
    scaled = mul.getInput2();
  if (!c || !(*c > 0.0) || !std::isfinite(*c))
    return std::nullopt;
  return c;
}

std::optional<Operand> Matcher::throughLayoutOp(const Operand &o,
                                                double *scale) {
  Operation *def = o.value.getDefiningOp();
  if (auto r = dyn_cast_or_null<tosa::ReshapeOp>(def)) {
    auto src = cast<RankedTensorType>(r.getInput1().getType());
    if (!src.hasStaticShape())
      return std::nullopt;
    FailureOr<View> view = viewThroughReshape(o.view, src.getShape());
    if (failed(view))
      return std::nullopt;
    return Operand{r.getInput1(), *view};
  }
  if (auto t = dyn_cast_or_null<tosa::TransposeOp>(def)) {
    View view(o.view.size());
    for (auto [i, p] : llvm::enumerate(t.getPerms()))
      view[p] = o.view[i];
    return Operand{t.getInput1(), view};
  }
  if (auto tile = dyn_cast_or_null<tosa::TileOp>(def)) {
    // Tiling a dim of size s m times: the source index is the result's
    // index mod s, i.e. its low digits (a unit dim: no digits, a broadcast).
    auto src = cast<RankedTensorType>(tile.getInput1().getType());
    if (!src.hasStaticShape())
      return std::nullopt;
    View view;
    for (auto [i, dim] : llvm::enumerate(o.view)) {
      FailureOr<View> low = lowDigits(dim, src.getDimSize(i));
      if (failed(low))
        return std::nullopt;
      view.push_back((*low)[0]);
    }
    return Operand{tile.getInput1(), view};
  }
  auto mul = dyn_cast_or_null<tosa::MulOp>(def);
  if (!mul || !scale)
    return std::nullopt;
  Value scaled;
  std::optional<double> c = scaleOf(mul, scaled);
  if (!c)
    return std::nullopt;
  FailureOr<View> view = broadcastView(scaled, mul.getResult(), o.view);
  if (failed(view))
    return std::nullopt;
  *scale *= *c;
  return Operand{scaled, *view};
}

Operand Matcher::traceLayout(Operand o, double *scale) {
  while (std::optional<Operand> next = throughLayoutOp(o, scale))
    o = *next;
  return o;
}

LogicalResult Matcher::match(tosa::MatMulOp root) {
  auto pType = cast<RankedTensorType>(root.getA().getType());
  auto vType = cast<RankedTensorType>(root.getB().getType());
  if (!pType.hasStaticShape() || !vType.hasStaticShape() ||
      !isa<FloatType>(pType.getElementType()))
    return fail("not a static float matmul");
  if (!isZeroPoint(root.getAZp()) || !isZeroPoint(root.getBZp()))
    return fail("non-zero matmul zero points");
  // a [N, M, K] x b [N, K, E]: loops n (batch), m (query), e (value), k (key).
  unsigned n = p.space.add(pType.getDimSize(0));
  p.query = p.space.add(pType.getDimSize(1));
  p.key = p.space.add(pType.getDimSize(2));
  p.valueDim = p.space.add(vType.getDimSize(2));
  p.batch = {n};
  p.result = Operand{
      root.getResult(),
      {p.space.full(n), p.space.full(p.query), p.space.full(p.valueDim)}};
  p.v = traceLayout(Operand{
      root.getB(),
      {p.space.full(n), p.space.full(p.key), p.space.full(p.valueDim)}});
  FailureOr<Operand> x = matchSoftmax(
      Operand{root.getA(),
              {p.space.full(n), p.space.full(p.query), p.space.full(p.key)}});
  if (failed(x))
    return failure();
  return matchScores(*x, /*scaleSeen=*/false);
}

/// reduce_max / reduce_sum over the key axis: the input's operand.
FailureOr<Operand> Matcher::matchReduce(Operand r, bool max) {
  r = traceLayout(r);
  Operation *def = r.value.getDefiningOp();
  Value input;
  int64_t axis;
  if (auto red = dyn_cast_or_null<tosa::ReduceMaxOp>(def); red && max) {
    input = red.getInput();
    axis = red.getAxis();
  } else if (auto red = dyn_cast_or_null<tosa::ReduceSumOp>(def); red && !max) {
    input = red.getInput();
    axis = red.getAxis();
  } else {
    return fail(max ? "softmax max is not a tosa.reduce_max"
                    : "softmax sum is not a tosa.reduce_sum");
  }
  if (axis < 0 || axis >= static_cast<int64_t>(r.view.size()) ||
      !canonicalize(r.view[axis]).empty())
    return fail("unsupported reduction");
  View view = r.view;
  view[axis] = p.space.full(p.key);
  return Operand{input, view};
}

/// e * reciprocal(reduce_sum(e)), e = exp(x - reduce_max(x)), all over the
/// key axis. Returns x.
FailureOr<Operand> Matcher::matchSoftmax(Operand r) {
  r = traceLayout(r);
  auto mul = r.value.getDefiningOp<tosa::MulOp>();
  if (!mul || !isZeroShift(mul.getShift()))
    return fail("P is not a softmax");
  for (auto [e, rc] : {std::pair(mul.getInput1(), mul.getInput2()),
                       std::pair(mul.getInput2(), mul.getInput1())}) {
    FailureOr<View> eView = broadcastView(e, mul.getResult(), r.view);
    FailureOr<View> rView = broadcastView(rc, mul.getResult(), r.view);
    if (failed(eView) || failed(rView))
      continue;
    Operand recip = traceLayout(Operand{rc, *rView});
    auto rop = recip.value.getDefiningOp<tosa::ReciprocalOp>();
    Operand ex = traceLayout(Operand{e, *eView});
    auto exp = ex.value.getDefiningOp<tosa::ExpOp>();
    if (!rop || !exp)
      continue;
    FailureOr<Operand> summed =
        matchReduce(Operand{rop.getInput1(), recip.view}, false);
    if (failed(summed))
      return failure();
    if (!sameOperand(*summed, ex))
      return fail("the softmax sum does not reduce its own numerator over the "
                  "key axis");
    Operand t = traceLayout(Operand{exp.getInput1(), ex.view});
    auto sub = t.value.getDefiningOp<tosa::SubOp>();
    if (!sub)
      return fail("softmax numerator is not exp(x - max x)");
    FailureOr<View> xView =
        broadcastView(sub.getInput1(), sub.getResult(), t.view);
    FailureOr<View> mView =
        broadcastView(sub.getInput2(), sub.getResult(), t.view);
    if (failed(xView) || failed(mView))
      return fail("softmax numerator is not exp(x - max x)");
    Operand x{sub.getInput1(), *xView};
    FailureOr<Operand> maxed =
        matchReduce(Operand{sub.getInput2(), *mView}, true);
    if (failed(maxed))
      return failure();
    if (!sameOperand(*maxed, x))
      return fail("the softmax max is not over the key axis of its input");
    return x;
  }
  return fail("P is not exp(...) * reciprocal(sum(exp(...)))");
}

LogicalResult Matcher::matchScores(Operand s, bool scaleSeen) {
  s = traceLayout(s);
  if (p.scores.empty())
    p.scores = s.view;
  Operation *def = s.value.getDefiningOp();
  if (auto mm = dyn_cast_or_null<tosa::MatMulOp>(def))
    return matchQK(mm, s.view);
  if (auto mul = dyn_cast_or_null<tosa::MulOp>(def)) {
    Value scaled;
    std::optional<double> c = scaleOf(mul, scaled);
    if (!c)
      return fail("the scores are multiplied by something other than a "
                  "positive splat constant");
    FailureOr<View> view = broadcastView(scaled, mul.getResult(), s.view);
    if (failed(view))
      return fail("unsupported scale of the scores");
    p.scale *= *c;
    return matchScores(Operand{scaled, *view}, /*scaleSeen=*/true);
  }
  if (auto add = dyn_cast_or_null<tosa::AddOp>(def); add && !p.mask) {
    if (scaleSeen)
      return fail("the scores are scaled after the mask is added");
    for (auto [a, b] : {std::pair(add.getInput1(), add.getInput2()),
                        std::pair(add.getInput2(), add.getInput1())}) {
      FailureOr<View> chain = broadcastView(a, add.getResult(), s.view);
      FailureOr<View> mask = broadcastView(b, add.getResult(), s.view);
      if (failed(chain) || failed(mask) || a == b)
        continue;
      AttentionPattern saved = p;
      p.mask = traceLayout(Operand{b, *mask});
      if (succeeded(matchScores(Operand{a, *chain}, scaleSeen)))
        return success();
      p = saved;
    }
    return fail("no operand of the mask addition leads to Q·Kᵀ");
  }
  return fail("unsupported op on the scores");
}

LogicalResult Matcher::matchQK(tosa::MatMulOp op, const View &resultView) {
  auto aType = cast<RankedTensorType>(op.getA().getType());
  if (!aType.hasStaticShape() || !isZeroPoint(op.getAZp()) ||
      !isZeroPoint(op.getBZp()) || resultView.size() != 3)
    return fail("unsupported Q·Kᵀ matmul");
  p.headDim = p.space.add(aType.getDimSize(2));
  DimView d = p.space.full(p.headDim);
  Operand lhs{op.getA(), {resultView[0], resultView[1], d}};
  Operand rhs{op.getB(), {resultView[0], d, resultView[2]}};
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

struct FuseTosaAttention final : OpRewritePattern<tosa::MatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tosa::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    Matcher m;
    if (failed(m.match(op)))
      return rewriter.notifyMatchFailure(op, m.why);
    TosaLayout layout;
    rewriter.setInsertionPoint(op);
    FailureOr<Value> fused =
        buildAttention(rewriter, op.getLoc(), m.p, layout, m.why);
    if (failed(fused))
      return rewriter.notifyMatchFailure(op, m.why);
    rewriter.replaceOp(op, *fused);
    return success();
  }
};

void populateFuseTosaAttentionPatterns(RewritePatternSet &patterns) {
  patterns.add<FuseTosaAttention>(patterns.getContext());
}

struct AttnQATFuseTosaAttentionPass final
    : mlir::attnqat::impl::AttnQATFuseTosaAttentionBase<
          AttnQATFuseTosaAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateFuseTosaAttentionPatterns(patterns);
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
