//===- AttentionFusion.cpp - shared core of the attention fusions ---------===//
//
// Views, their algebra through layout ops, and the construction of the fused
// attnqat.attention. See AttentionFusion.h.
//
//===----------------------------------------------------------------------===//

#include "AttentionFusion.h"

#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>
#include <numeric>

using namespace mlir;
using namespace mlir::attnqat;
using namespace mlir::attnqat::fusion;

//===----------------------------------------------------------------------===//
// Views
//===----------------------------------------------------------------------===//

DimView fusion::canonicalize(ArrayRef<Digit> digits) {
  DimView out;
  for (Digit d : digits) {
    if (d.extent == 1)
      continue;
    // (i / (s*e2)) % e1 followed by (i / s) % e2 is (i / s) % (e1*e2).
    if (!out.empty() && out.back().dim == d.dim &&
        out.back().stride == d.stride * d.extent) {
      out.back() = Digit{d.dim, d.stride, out.back().extent * d.extent};
      continue;
    }
    out.push_back(d);
  }
  return out;
}

bool fusion::equalDims(ArrayRef<Digit> a, ArrayRef<Digit> b) {
  return canonicalize(a) == canonicalize(b);
}

bool fusion::equalViews(const View &a, const View &b) {
  if (a.size() != b.size())
    return false;
  for (auto [x, y] : llvm::zip_equal(a, b))
    if (!equalDims(x, y))
      return false;
  return true;
}

bool fusion::usesLoop(const View &view, unsigned dim) {
  for (const DimView &d : view)
    for (Digit digit : d)
      if (digit.dim == dim && digit.extent > 1)
        return true;
  return false;
}

DimView Space::full(unsigned dim) const {
  if (extents[dim] == 1)
    return {};
  return {Digit{dim, 1, extents[dim]}};
}

FailureOr<View> fusion::viewThroughReshape(const View &result,
                                           ArrayRef<int64_t> sourceShape) {
  SmallVector<Digit> flat;
  for (const DimView &d : result)
    llvm::append_range(flat, canonicalize(d));
  View source;
  size_t pos = 0;
  for (int64_t size : sourceShape) {
    if (ShapedType::isDynamic(size))
      return failure();
    DimView dim;
    int64_t need = size;
    while (need > 1) {
      if (pos >= flat.size())
        return failure();
      Digit &d = flat[pos];
      if (d.extent <= need) {
        if (need % d.extent != 0)
          return failure();
        dim.push_back(d);
        need /= d.extent;
        ++pos;
        continue;
      }
      // Split the digit: its high part (extent `need`) goes to this dim.
      if (d.extent % need != 0)
        return failure();
      int64_t low = d.extent / need;
      dim.push_back(Digit{d.dim, d.stride * low, need});
      d.extent = low;
      need = 1;
    }
    source.push_back(std::move(dim));
  }
  if (pos != flat.size())
    return failure();
  return source;
}

LogicalResult
fusion::loopsFromMap(AffineMap map, const View &view,
                     SmallVectorImpl<std::optional<DimView>> &loops) {
  if (map.getNumResults() != view.size() || loops.size() != map.getNumDims())
    return failure();
  for (auto [expr, dim] : llvm::zip_equal(map.getResults(), view)) {
    if (auto d = dyn_cast<AffineDimExpr>(expr)) {
      std::optional<DimView> &loop = loops[d.getPosition()];
      if (loop && !equalDims(*loop, dim))
        return failure();
      loop = canonicalize(dim);
      continue;
    }
    auto c = dyn_cast<AffineConstantExpr>(expr);
    if (!c || c.getValue() != 0 || !canonicalize(dim).empty())
      return failure();
  }
  return success();
}

FailureOr<View> fusion::viewFromMap(AffineMap map,
                                    ArrayRef<std::optional<DimView>> loops) {
  View view;
  for (AffineExpr expr : map.getResults()) {
    if (auto d = dyn_cast<AffineDimExpr>(expr)) {
      if (d.getPosition() >= loops.size() || !loops[d.getPosition()])
        return failure();
      view.push_back(*loops[d.getPosition()]);
      continue;
    }
    auto c = dyn_cast<AffineConstantExpr>(expr);
    if (!c || c.getValue() != 0)
      return failure();
    view.push_back({});
  }
  return view;
}

bool fusion::viewMatchesShape(const View &view, ArrayRef<int64_t> shape) {
  if (view.size() != shape.size())
    return false;
  for (auto [dim, size] : llvm::zip_equal(view, shape)) {
    int64_t product = 1;
    for (Digit d : dim)
      product *= d.extent;
    if (ShapedType::isDynamic(size) || product != size)
      return false;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Scalars
//===----------------------------------------------------------------------===//

std::optional<double> fusion::getScalarConstant(Value v) {
  if (!v)
    return std::nullopt;
  if (auto c = v.getDefiningOp<arith::ConstantOp>()) {
    if (auto f = dyn_cast<FloatAttr>(c.getValue()))
      return f.getValueAsDouble();
    if (auto i = dyn_cast<IntegerAttr>(c.getValue()))
      return static_cast<double>(i.getValue().getSExtValue());
    return std::nullopt;
  }
  Operation *def = v.getDefiningOp();
  if (isa_and_nonnull<arith::ExtFOp, arith::TruncFOp, arith::SIToFPOp>(def))
    return getScalarConstant(def->getOperand(0));
  return std::nullopt;
}

bool fusion::isNegativeInfinityLike(double v, Type type) {
  if (std::isinf(v) && v < 0)
    return true;
  if (v <= -1e9)
    return true;
  if (auto f = dyn_cast<FloatType>(type))
    return v <= llvm::APFloat::getLargest(f.getFloatSemantics(), true)
                    .convertToDouble();
  return false;
}

//===----------------------------------------------------------------------===//
// Atoms: the finest digits every view can be written in
//===----------------------------------------------------------------------===//

namespace {

/// Splits each loop at every digit boundary any view uses; each piece is an
/// atom. A view dimension is then a list of atoms.
class AtomTable {
public:
  explicit AtomTable(const Space &space) : bounds(space.size()) {
    for (unsigned d = 0; d < space.size(); ++d)
      bounds[d] = {1, space.extent(d)};
  }

  void add(const View &view) {
    for (const DimView &dim : view)
      for (Digit d : canonicalize(dim)) {
        bounds[d.dim].push_back(d.stride);
        bounds[d.dim].push_back(d.stride * d.extent);
      }
  }

  /// Numbers the atoms; fails where boundaries do not nest.
  LogicalResult finalize() {
    for (unsigned d = 0; d < bounds.size(); ++d) {
      llvm::sort(bounds[d]);
      bounds[d].erase(llvm::unique(bounds[d]), bounds[d].end());
      offset.push_back(extents.size());
      for (size_t i = 0; i + 1 < bounds[d].size(); ++i) {
        if (bounds[d][i + 1] % bounds[d][i] != 0)
          return failure();
        extents.push_back(bounds[d][i + 1] / bounds[d][i]);
        loopOf.push_back(d);
      }
    }
    return success();
  }

  /// Atoms of one digit, most significant first.
  SmallVector<unsigned> ofDigit(Digit d) const {
    ArrayRef<int64_t> b = bounds[d.dim];
    size_t lo = llvm::find(b, d.stride) - b.begin();
    size_t hi = llvm::find(b, d.stride * d.extent) - b.begin();
    SmallVector<unsigned> atoms;
    for (size_t i = hi; i > lo; --i)
      atoms.push_back(offset[d.dim] + i - 1);
    return atoms;
  }

  /// All atoms of a loop, most significant first.
  SmallVector<unsigned> ofLoop(unsigned dim) const {
    SmallVector<unsigned> atoms;
    for (size_t i = bounds[dim].size() - 1; i > 0; --i)
      atoms.push_back(offset[dim] + i - 1);
    return atoms;
  }

  SmallVector<SmallVector<unsigned>> atomize(const View &view) const {
    SmallVector<SmallVector<unsigned>> out;
    for (const DimView &dim : view) {
      SmallVector<unsigned> atoms;
      for (Digit d : canonicalize(dim))
        llvm::append_range(atoms, ofDigit(d));
      out.push_back(std::move(atoms));
    }
    return out;
  }

  int64_t extent(unsigned atom) const { return extents[atom]; }
  unsigned loop(unsigned atom) const { return loopOf[atom]; }

private:
  SmallVector<SmallVector<int64_t>> bounds;
  SmallVector<unsigned> offset;
  SmallVector<int64_t> extents;
  SmallVector<unsigned> loopOf;
};

using AtomList = SmallVector<unsigned>;

AtomList flatten(ArrayRef<AtomList> lists) {
  AtomList out;
  for (const AtomList &l : lists)
    llvm::append_range(out, l);
  return out;
}

/// Rewrites `src`, whose dimensions hold the atom lists `srcAtoms`, into a
/// tensor whose dimensions hold `target` (atoms missing from `src` are
/// broadcast): a reshape to one dimension per atom, a transpose, a
/// broadcast, a reshape to the target; or one reshape when the atoms are
/// already in order.
Value materialize(OpBuilder &b, Location loc, LayoutBuilder &layout,
                  const AtomTable &atoms, Value src,
                  ArrayRef<AtomList> srcAtoms, ArrayRef<AtomList> target) {
  auto shapeOf = [&](ArrayRef<AtomList> dims) {
    SmallVector<int64_t> shape;
    for (const AtomList &l : dims) {
      int64_t size = 1;
      for (unsigned a : l)
        size *= atoms.extent(a);
      shape.push_back(size);
    }
    return shape;
  };
  AtomList have = flatten(srcAtoms), want = flatten(target);
  if (have == want)
    return layout.reshape(b, loc, src, shapeOf(target));

  SmallVector<AtomList> perAtom;
  for (unsigned a : have)
    perAtom.push_back({a});
  Value cur = layout.reshape(b, loc, src, shapeOf(perAtom));
  AtomList present;
  SmallVector<int64_t> added;
  for (auto [i, a] : llvm::enumerate(want)) {
    if (llvm::is_contained(have, a))
      present.push_back(a);
    else
      added.push_back(i);
  }
  SmallVector<int64_t> perm;
  for (unsigned a : present)
    perm.push_back(llvm::find(have, a) - have.begin());
  if (!llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
    cur = layout.transpose(b, loc, cur, perm);
  if (!added.empty()) {
    SmallVector<AtomList> wantAtoms;
    for (unsigned a : want)
      wantAtoms.push_back({a});
    cur = layout.broadcast(b, loc, cur, shapeOf(wantAtoms), added);
  }
  return layout.reshape(b, loc, cur, shapeOf(target));
}

bool isFloatTensor(Type t) {
  auto tensor = dyn_cast<RankedTensorType>(t);
  return tensor && tensor.hasStaticShape() &&
         isa<BFloat16Type, Float16Type, Float32Type>(tensor.getElementType());
}

} // namespace

//===----------------------------------------------------------------------===//
// buildAttention
//===----------------------------------------------------------------------===//

FailureOr<Value> fusion::buildAttention(RewriterBase &rewriter, Location loc,
                                        const AttentionPattern &p,
                                        LayoutBuilder &layout,
                                        std::string &why) {
  auto fail = [&](const Twine &reason) -> FailureOr<Value> {
    why = reason.str();
    return failure();
  };

  // Types and shapes.
  SmallVector<std::pair<StringRef, const Operand *>> operands = {
      {"query", &p.q}, {"key", &p.k}, {"value", &p.v}, {"result", &p.result}};
  if (p.mask)
    operands.push_back({"mask", &*p.mask});
  for (auto [name, op] : operands) {
    if (!isFloatTensor(op->value.getType()))
      return fail(name + " is not a static bf16/f16/f32 tensor");
    auto type = cast<RankedTensorType>(op->value.getType());
    if (!viewMatchesShape(op->view, type.getShape()))
      return fail(name + "'s indexing does not match its shape");
  }
  Type elementType =
      cast<RankedTensorType>(p.q.value.getType()).getElementType();
  for (const Operand *op : {&p.k, &p.v, &p.result})
    if (cast<RankedTensorType>(op->value.getType()).getElementType() !=
        elementType)
      return fail("query, key, value and result element types differ");
  if (p.space.extent(p.headDim) != p.space.extent(p.valueDim))
    return fail("value head dim differs from the query/key head dim");
  if (!(p.scale > 0) || !std::isfinite(p.scale))
    return fail("softmax scale is not finite and positive");

  // Atoms.
  AtomTable atoms(p.space);
  atoms.add(p.scores);
  for (auto [name, op] : operands)
    atoms.add(op->view);
  if (failed(atoms.finalize()))
    return fail("inconsistent reshapes of one loop");

  AtomList batchAll;
  for (unsigned d : p.batch)
    llvm::append_range(batchAll, atoms.ofLoop(d));
  AtomList queryAtoms = atoms.ofLoop(p.query), keyAtoms = atoms.ofLoop(p.key),
           headAtoms = atoms.ofLoop(p.headDim),
           valueAtoms = atoms.ofLoop(p.valueDim);
  auto isBatch = [&](unsigned a) { return llvm::is_contained(batchAll, a); };

  // `have` holds every atom of `required` once, and otherwise only atoms of
  // `optional`.
  auto covers = [](ArrayRef<unsigned> have, ArrayRef<AtomList> required,
                   function_ref<bool(unsigned)> optional) {
    llvm::SmallDenseSet<unsigned> seen;
    for (unsigned a : have)
      if (!seen.insert(a).second)
        return false;
    for (const AtomList &l : required)
      for (unsigned a : l)
        if (!seen.contains(a))
          return false;
    for (unsigned a : have) {
      bool req = llvm::any_of(required, [&](const AtomList &l) {
        return llvm::is_contained(l, a);
      });
      if (!req && !optional(a))
        return false;
    }
    return true;
  };
  auto none = [](unsigned) { return false; };

  SmallVector<AtomList> scoreDims = atoms.atomize(p.scores);
  AtomList scoreAtoms = flatten(scoreDims);
  if (!covers(scoreAtoms, {batchAll, queryAtoms, keyAtoms}, none))
    return fail("scores are not indexed by [batch..., query, key]");
  // Batch atoms in the scores' order, and where the scores' dims start.
  AtomList batchOrder;
  SmallVector<int64_t> dimStarts = {0};
  for (const AtomList &dim : scoreDims) {
    for (unsigned a : dim)
      if (isBatch(a))
        batchOrder.push_back(a);
    if (dimStarts.back() != static_cast<int64_t>(batchOrder.size()))
      dimStarts.push_back(batchOrder.size());
  }

  SmallVector<AtomList> qAtoms = atoms.atomize(p.q.view),
                        kAtoms = atoms.atomize(p.k.view),
                        vAtoms = atoms.atomize(p.v.view),
                        rAtoms = atoms.atomize(p.result.view);
  if (!covers(flatten(qAtoms), {batchAll, queryAtoms, headAtoms}, none))
    return fail("query is not indexed by [batch..., query, head dim]");
  if (!covers(flatten(kAtoms), {keyAtoms, headAtoms}, isBatch))
    return fail("key is not indexed by [batch..., key, head dim]");
  if (!covers(flatten(vAtoms), {keyAtoms, valueAtoms}, isBatch))
    return fail("value is not indexed by [batch..., key, head dim]");
  if (!covers(flatten(rAtoms), {batchAll, queryAtoms, valueAtoms}, none))
    return fail("result is not indexed by [batch..., query, head dim]");
  auto batchSet = [&](ArrayRef<AtomList> lists) {
    llvm::SmallDenseSet<unsigned> s;
    for (unsigned a : flatten(lists))
      if (isBatch(a))
        s.insert(a);
    return s;
  };
  llvm::SmallDenseSet<unsigned> kBatch = batchSet(kAtoms),
                                vBatch = batchSet(vAtoms);
  if (kBatch != vBatch)
    return fail("key and value are shared across different batch/head dims");
  SmallVector<AtomList> mAtoms;
  llvm::SmallDenseSet<unsigned> mBatch;
  if (p.mask) {
    mAtoms = atoms.atomize(p.mask->view);
    if (!covers(flatten(mAtoms), {}, [&](unsigned a) {
          return isBatch(a) || llvm::is_contained(queryAtoms, a) ||
                 llvm::is_contained(keyAtoms, a);
        }))
      return fail("mask is not indexed by [batch..., query, key]");
    mBatch = batchSet(mAtoms);
  }

  // B = batchOrder[0, t), H = batchOrder[t, end). K and V must read all of B
  // and a leading part of H (query head h reads KV head h / (Hq / Hkv)); the
  // mask must read all or none of B and of H. Splits between the scores'
  // dims come first (leading dims as B), then all-H, then splits inside a
  // dim.
  int64_t nBatch = batchOrder.size();
  SmallVector<int64_t> splits;
  for (int64_t t : dimStarts)
    if (t > 0)
      splits.push_back(t);
  splits.push_back(0);
  for (int64_t t = 1; t <= nBatch; ++t)
    if (!llvm::is_contained(splits, t))
      splits.push_back(t);
  std::optional<int64_t> split;
  int64_t kvHeads = 0;
  for (int64_t t : splits) {
    ArrayRef<unsigned> bAtoms = ArrayRef(batchOrder).take_front(t),
                       hAtoms = ArrayRef(batchOrder).drop_front(t);
    if (!llvm::all_of(bAtoms, [&](unsigned a) { return kBatch.contains(a); }))
      continue;
    int64_t j = kBatch.size() - bAtoms.size();
    if (!llvm::all_of(hAtoms.take_front(j),
                      [&](unsigned a) { return kBatch.contains(a); }))
      continue;
    auto allOrNone = [&](ArrayRef<unsigned> part) {
      size_t n =
          llvm::count_if(part, [&](unsigned a) { return mBatch.contains(a); });
      return n == 0 || n == part.size();
    };
    if (!allOrNone(bAtoms) || !allOrNone(hAtoms))
      continue;
    split = t;
    kvHeads = j;
    break;
  }
  if (!split)
    return fail("no batch/head split fits the key/value sharing and the mask");

  AtomList bAtoms(batchOrder.begin(), batchOrder.begin() + *split);
  AtomList hAtoms(batchOrder.begin() + *split, batchOrder.end());
  AtomList hkvAtoms(hAtoms.begin(), hAtoms.begin() + kvHeads);
  auto product = [&](ArrayRef<unsigned> l) {
    int64_t n = 1;
    for (unsigned a : l)
      n *= atoms.extent(a);
    return n;
  };

  // Everything checked: build.
  OpBuilder::InsertionGuard guard(rewriter);
  MLIRContext *ctx = rewriter.getContext();
  Value q4 = materialize(rewriter, loc, layout, atoms, p.q.value, qAtoms,
                         {bAtoms, hAtoms, queryAtoms, headAtoms});
  Value k4 = materialize(rewriter, loc, layout, atoms, p.k.value, kAtoms,
                         {bAtoms, hkvAtoms, keyAtoms, headAtoms});
  Value v4 = materialize(rewriter, loc, layout, atoms, p.v.value, vAtoms,
                         {bAtoms, hkvAtoms, keyAtoms, valueAtoms});
  Value mask4;
  if (p.mask) {
    AtomList mb, mh;
    if (llvm::any_of(bAtoms, [&](unsigned a) { return mBatch.contains(a); }))
      mb = bAtoms;
    if (llvm::any_of(hAtoms, [&](unsigned a) { return mBatch.contains(a); }))
      mh = hAtoms;
    mask4 = materialize(rewriter, loc, layout, atoms, p.mask->value, mAtoms,
                        {mb, mh, queryAtoms, keyAtoms});
  }

  int64_t B = product(bAtoms), H = product(hAtoms), M = product(queryAtoms),
          D = product(headAtoms);
  auto oType = RankedTensorType::get({B, H, M, D}, elementType);
  auto lseType = RankedTensorType::get({B, H, M}, Float32Type::get(ctx));
  FP4FormatAttrInterface nvfp4 = NVFP4Attr::get(ctx, nullptr);
  auto config = ConfigAttr::get(ctx, Mode::None, nvfp4, nvfp4, nvfp4, nvfp4,
                                PScaling::TwoLevel);
  FloatAttr scaleAttr;
  if (static_cast<float>(p.scale) !=
      static_cast<float>(1.0 / std::sqrt(static_cast<double>(D))))
    scaleAttr = rewriter.getF32FloatAttr(static_cast<float>(p.scale));
  auto attention = AttentionOp::create(
      rewriter, loc, oType, lseType, /*state=*/Type(), q4, k4, v4,
      /*query_scales=*/Value(), /*key_scales=*/Value(),
      /*value_scales=*/Value(), mask4, /*key_lengths=*/Value(), config,
      p.causal ? rewriter.getUnitAttr() : UnitAttr(), scaleAttr);
  return materialize(rewriter, loc, layout, atoms, attention.getOutput(),
                     {bAtoms, hAtoms, queryAtoms, valueAtoms}, rAtoms);
}
