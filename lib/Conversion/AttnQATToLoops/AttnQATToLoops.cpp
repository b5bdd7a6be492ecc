//===- AttnQATToLoops.cpp - attnqat ops to loops (CPU path) ---------------===//
//
// Lowers every attnqat op to scf/memref/arith/math loops. Tensor operands are
// read through bufferization.to_buffer and results are produced with
// bufferization.to_tensor, so one-shot bufferization completes the lowering.
// Internally everything computes in f32 (the inputs are BF16/F16/F32 and FP4
// values are exact in f32), which is what the GPU kernels do in registers.
//
//===----------------------------------------------------------------------===//

#include "attnqat/Conversion/Passes.h"

#include "attnqat/Conversion/FP4Arith.h"
#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

#include <cmath>
#include <limits>

namespace mlir::attnqat {
#define GEN_PASS_DEF_CONVERTATTNQATTOLOOPS
#include "attnqat/Conversion/Passes.h.inc"
} // namespace mlir::attnqat

using namespace mlir;
using namespace mlir::attnqat;

namespace {

constexpr double kLog2E = 1.4426950408889634;
constexpr float kInf = std::numeric_limits<float>::infinity();

/// Buffers an attention forward keeps for its backward (all f32 except the
/// mask and key lengths, which are the caller's).
struct SavedState {
  Value qf, kf, vf; // Q^F, K^F, V^F (Q, K, V in mode none)
  Value o;          // O' in mode qat, O otherwise (normalized)
  Value m, l;       // integer frame and normalizer per row
  Value mask, keyLengths;
};

/// Small builder of loop nests, memref accesses and the FP4 codec.
class Emitter {
public:
  Emitter(OpBuilder &b, Location loc) : b(b), loc(loc), fp(b, loc) {}

  OpBuilder &b;
  Location loc;
  FP4Arith fp;

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f32(double v) { return fp.f32(v); }
  Value dim(Value memref, int64_t d) {
    int64_t extent = cast<MemRefType>(memref.getType()).getDimSize(d);
    if (!ShapedType::isDynamic(extent))
      return idx(extent);
    return memref::DimOp::create(b, loc, memref, d);
  }
  // Index arithmetic folds as it is built, so static shapes stay static.
  Value minIdx(Value a, Value c) {
    return b.createOrFold<arith::MinSIOp>(loc, a, c);
  }
  Value add(Value a, Value c) {
    if (isa<IndexType>(a.getType()))
      return b.createOrFold<arith::AddIOp>(loc, a, c);
    return arith::AddFOp::create(b, loc, a, c);
  }
  Value sub(Value a, Value c) {
    if (isa<IndexType>(a.getType()))
      return b.createOrFold<arith::SubIOp>(loc, a, c);
    return arith::SubFOp::create(b, loc, a, c);
  }
  Value mul(Value a, Value c) {
    if (isa<IndexType>(a.getType()))
      return b.createOrFold<arith::MulIOp>(loc, a, c);
    return arith::MulFOp::create(b, loc, a, c);
  }
  Value div(Value a, Value c) {
    if (isa<IndexType>(a.getType()))
      return b.createOrFold<arith::DivUIOp>(loc, a, c);
    return arith::DivFOp::create(b, loc, a, c);
  }
  Value select(Value c, Value t, Value f) {
    return arith::SelectOp::create(b, loc, c, t, f);
  }
  Value cmpf(arith::CmpFPredicate p, Value a, Value c) {
    return arith::CmpFOp::create(b, loc, p, a, c);
  }
  Value cmpi(arith::CmpIPredicate p, Value a, Value c) {
    return arith::CmpIOp::create(b, loc, p, a, c);
  }
  Value andi(Value a, Value c) { return arith::AndIOp::create(b, loc, a, c); }

  /// for (iv = lb; iv < ub; iv += step) body(iv)
  template <typename F>
  void loop(Value lb, Value ub, Value step, F body) {
    auto forOp = scf::ForOp::create(b, loc, lb, ub, step);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(forOp.getBody()->getTerminator());
    body(forOp.getInductionVar());
  }
  template <typename F>
  void loop(Value ub, F body) {
    loop(idx(0), ub, idx(1), body);
  }
  /// A loop carrying values: body(iv, args) returns the next values.
  template <typename F>
  SmallVector<Value> reduce(Value lb, Value ub, Value step, ValueRange init,
                            F body) {
    auto forOp = scf::ForOp::create(b, loc, lb, ub, step, init);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(forOp.getBody());
      SmallVector<Value> next =
          body(forOp.getInductionVar(), forOp.getRegionIterArgs());
      scf::YieldOp::create(b, loc, next);
    }
    return SmallVector<Value>(forOp.getResults());
  }
  /// Loops over every index of `sizes`.
  template <typename F>
  void nest(ArrayRef<Value> sizes, F body, SmallVector<Value> ivs = {}) {
    if (ivs.size() == sizes.size())
      return body(ivs);
    loop(sizes[ivs.size()], [&](Value iv) {
      SmallVector<Value> next = ivs;
      next.push_back(iv);
      nest(sizes, body, next);
    });
  }

  /// Loads an element as f32.
  Value load(Value memref, ValueRange indices) {
    Value v = memref::LoadOp::create(b, loc, memref, indices);
    if (!v.getType().isF32())
      v = arith::ExtFOp::create(b, loc, b.getF32Type(), v);
    return v;
  }
  /// Stores an f32, rounding to the memref's element type (nearest even).
  void store(Value v, Value memref, ValueRange indices) {
    Type elt = cast<MemRefType>(memref.getType()).getElementType();
    if (elt != v.getType())
      v = arith::TruncFOp::create(b, loc, elt, v);
    memref::StoreOp::create(b, loc, v, memref, indices);
  }
  /// Loads 8 raw bits of a f4E2M1FN / f8 element as i8.
  Value loadBits(Value memref, ValueRange indices) {
    Value v = memref::LoadOp::create(b, loc, memref, indices);
    unsigned width = v.getType().getIntOrFloatBitWidth();
    v = arith::BitcastOp::create(b, loc, b.getIntegerType(width), v);
    if (width != 8)
      v = arith::ExtUIOp::create(b, loc, b.getI8Type(), v);
    return v;
  }
  /// Stores i8 bits into a f4E2M1FN / f8 element.
  void storeBits(Value bits, Value memref, ValueRange indices) {
    Type elt = cast<MemRefType>(memref.getType()).getElementType();
    unsigned width = elt.getIntOrFloatBitWidth();
    if (width != 8)
      bits = arith::TruncIOp::create(b, loc, b.getIntegerType(width), bits);
    Value v = arith::BitcastOp::create(b, loc, elt, bits);
    memref::StoreOp::create(b, loc, v, memref, indices);
  }

  /// The sizes of a memref as index values.
  SmallVector<Value> sizes(Value memref) {
    SmallVector<Value> result;
    for (int64_t d = 0, e = cast<MemRefType>(memref.getType()).getRank(); d < e;
         ++d)
      result.push_back(dim(memref, d));
    return result;
  }
  /// An f32 buffer of the given sizes (dynamic extents from `sizes`).
  Value alloc(ArrayRef<Value> sizeValues, Type elt = {}) {
    if (!elt)
      elt = b.getF32Type();
    SmallVector<int64_t> shape(sizeValues.size(), ShapedType::kDynamic);
    SmallVector<Value> dynamic;
    for (auto [i, v] : llvm::enumerate(sizeValues)) {
      if (std::optional<int64_t> c = getConstantIntValue(v))
        shape[i] = *c;
      else
        dynamic.push_back(v);
    }
    return memref::AllocOp::create(b, loc, MemRefType::get(shape, elt), dynamic);
  }
  Value allocZero(ArrayRef<Value> sizeValues) {
    Value buf = alloc(sizeValues);
    Value zero = f32(0);
    nest(sizeValues, [&](ArrayRef<Value> ivs) { store(zero, buf, ivs); });
    return buf;
  }
  /// A tensor operand as a memref.
  Value toBuffer(Value tensor) {
    auto type = cast<RankedTensorType>(tensor.getType());
    auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
    return bufferization::ToBufferOp::create(b, loc, memrefType, tensor,
                                             /*readOnly=*/true);
  }
  /// A result tensor of `type` built from `buf` (converted if the element
  /// types differ).
  Value toTensor(Value buf, RankedTensorType type) {
    auto bufType = cast<MemRefType>(buf.getType());
    if (bufType.getElementType() != type.getElementType()) {
      SmallVector<Value> sz = sizes(buf);
      Value out = alloc(sz, type.getElementType());
      nest(sz, [&](ArrayRef<Value> ivs) { store(load(buf, ivs), out, ivs); });
      buf = out;
    }
    if (cast<MemRefType>(buf.getType()).getShape() != type.getShape())
      buf = memref::CastOp::create(
          b, loc, MemRefType::get(type.getShape(), type.getElementType()), buf);
    return bufferization::ToTensorOp::create(b, loc, type, buf,
                                             /*restrict=*/true,
                                             /*writable=*/true);
  }

  /// Fake-quantizes the line x(k), k in [0, n), in blocks of `format` that
  /// start at k = 0, writing the decoded values with `put(k, value)`.
  template <typename Get, typename Put>
  void fakeQuantLine(FP4FormatAttrInterface format, float g, Value n, Get get,
                     Put put) {
    int64_t bs = format.getBlockSize();
    loop(idx(0), n, idx(bs), [&](Value k0) {
      Value k1 = minIdx(add(k0, idx(bs)), n);
      Value amax = reduce(k0, k1, idx(1), {f32(0)}, [&](Value k, ValueRange a) {
                     Value v = math::AbsFOp::create(b, loc, get(k));
                     // maximumf propagates NaN; Inf makes the scale NaN.
                     return SmallVector<Value>{
                         arith::MaximumFOp::create(b, loc, a[0], v)};
                   })[0];
      Value scale = fp.blockScale(format, amax, g);
      loop(k0, k1, idx(1), [&](Value k) {
        Value q = fp.quantizeElement(get(k), scale, g);
        put(k, fp.dequantizeElement(q, scale, g));
      });
    });
  }
};

/// Indices of `ivs` with `axis` replaced by `k`.
static SmallVector<Value> withAxis(ArrayRef<Value> ivs, int64_t axis, Value k) {
  SmallVector<Value> r(ivs);
  r.insert(r.begin() + axis, k);
  return r;
}

/// Sizes without `axis`.
static SmallVector<Value> dropAxis(ArrayRef<Value> sizes, int64_t axis) {
  SmallVector<Value> r(sizes);
  r.erase(r.begin() + axis);
  return r;
}

//===----------------------------------------------------------------------===//
// quantize / dequantize / fake_quant
//===----------------------------------------------------------------------===//

static void lowerQuantize(QuantizeOp op) {
  OpBuilder b(op);
  Emitter e(b, op.getLoc());
  FP4FormatAttrInterface format = op.getFormat();
  float g = format.getGlobalScaleValue();
  int64_t axis = op.getAxis(), bs = format.getBlockSize();
  Value x = e.toBuffer(op.getInput());
  SmallVector<Value> sz = e.sizes(x);
  SmallVector<Value> scaleSz(sz);
  scaleSz[axis] = e.div(e.add(sz[axis], e.idx(bs - 1)), e.idx(bs));
  Value codes = e.alloc(sz, op.getCodes().getType().getElementType());
  Value scales = e.alloc(scaleSz, op.getScales().getType().getElementType());
  e.nest(dropAxis(sz, axis), [&](ArrayRef<Value> ivs) {
    e.loop(scaleSz[axis], [&](Value kb) {
      Value k0 = e.mul(kb, e.idx(bs));
      Value k1 = e.minIdx(e.add(k0, e.idx(bs)), sz[axis]);
      Value amax =
          e.reduce(k0, k1, e.idx(1), {e.f32(0)}, [&](Value k, ValueRange a) {
            Value v = math::AbsFOp::create(b, e.loc, e.load(x, withAxis(ivs, axis, k)));
            return SmallVector<Value>{arith::MaximumFOp::create(b, e.loc, a[0], v)};
          })[0];
      Value scale = e.fp.blockScale(format, amax, g);
      e.storeBits(e.fp.scaleBits(format, scale), scales, withAxis(ivs, axis, kb));
      e.loop(k0, k1, e.idx(1), [&](Value k) {
        SmallVector<Value> at = withAxis(ivs, axis, k);
        Value q = e.fp.quantizeElement(e.load(x, at), scale, g);
        e.storeBits(e.fp.e2m1Code(q), codes, at);
      });
    });
  });
  op.getCodes().replaceAllUsesWith(e.toTensor(codes, op.getCodes().getType()));
  op.getScales().replaceAllUsesWith(e.toTensor(scales, op.getScales().getType()));
  op.erase();
}

static void lowerDequantize(DequantizeOp op) {
  OpBuilder b(op);
  Emitter e(b, op.getLoc());
  FP4FormatAttrInterface format = op.getFormat();
  float g = format.getGlobalScaleValue();
  int64_t axis = op.getAxis(), bs = format.getBlockSize();
  Value codes = e.toBuffer(op.getCodes());
  Value scales = e.toBuffer(op.getScales());
  SmallVector<Value> sz = e.sizes(codes);
  Value out = e.alloc(sz, op.getType().getElementType());
  e.nest(sz, [&](ArrayRef<Value> ivs) {
    SmallVector<Value> at(ivs);
    at[axis] = e.div(ivs[axis], e.idx(bs));
    Value scale = e.fp.decodeScale(format, e.loadBits(scales, at));
    Value v = e.fp.decodeE2M1(e.loadBits(codes, ivs));
    e.store(e.fp.dequantizeElement(v, scale, g), out, ivs);
  });
  op.replaceAllUsesWith(e.toTensor(out, op.getType()));
  op.erase();
}

static void lowerFakeQuant(FakeQuantOp op) {
  OpBuilder b(op);
  Emitter e(b, op.getLoc());
  FP4FormatAttrInterface format = op.getFormat();
  int64_t axis = op.getAxis();
  Value x = e.toBuffer(op.getInput());
  SmallVector<Value> sz = e.sizes(x);
  Value out = e.alloc(sz, op.getType().getElementType());
  e.nest(dropAxis(sz, axis), [&](ArrayRef<Value> ivs) {
    e.fakeQuantLine(
        format, format.getGlobalScaleValue(), sz[axis],
        [&](Value k) { return e.load(x, withAxis(ivs, axis, k)); },
        [&](Value k, Value v) { e.store(v, out, withAxis(ivs, axis, k)); });
  });
  op.replaceAllUsesWith(e.toTensor(out, op.getType()));
  op.erase();
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

/// What the forward and the backward share: operands as f32 buffers, shapes,
/// masking and the per-tile score / P computation.
class AttentionEmitter : public Emitter {
public:
  AttentionEmitter(OpBuilder &b, Location loc, ConfigAttr config, bool causal,
                   float scale, int64_t keyTile)
      : Emitter(b, loc), config(config), causal(causal), scale(scale),
        keyTile(keyTile) {}

  ConfigAttr config;
  bool causal;
  float scale;
  int64_t keyTile;
  Value mask, keyLengths;
  Value qf, kf, vf;
  Value B, Hq, M, N, D, group;

  void setShapes(Value q, Value k) {
    B = dim(q, 0);
    Hq = dim(q, 1);
    M = dim(q, 2);
    D = dim(q, 3);
    N = dim(k, 2);
    group = div(Hq, dim(k, 1));
  }

  bool quantized() { return config.getMode() != Mode::None; }

  /// Copies `src` into a new f32 buffer, fake-quantizing lines along `axis`
  /// in quantized modes.
  Value prepare(Value src, FP4FormatAttrInterface format, int64_t axis) {
    SmallVector<Value> sz = sizes(src);
    Value dst = alloc(sz);
    if (!quantized()) {
      nest(sz, [&](ArrayRef<Value> ivs) { store(load(src, ivs), dst, ivs); });
      return dst;
    }
    nest(dropAxis(sz, axis), [&](ArrayRef<Value> ivs) {
      fakeQuantLine(
          format, format.getGlobalScaleValue(), sz[axis],
          [&](Value k) { return load(src, withAxis(ivs, axis, k)); },
          [&](Value k, Value v) { store(v, dst, withAxis(ivs, axis, k)); });
    });
    return dst;
  }

  /// Decodes pre-quantized codes + scales (mode fp4) into a new f32 buffer.
  Value decode(Value codes, Value scales, FP4FormatAttrInterface format,
               int64_t axis) {
    SmallVector<Value> sz = sizes(codes);
    Value dst = alloc(sz);
    int64_t bs = format.getBlockSize();
    float g = format.getGlobalScaleValue();
    nest(sz, [&](ArrayRef<Value> ivs) {
      SmallVector<Value> at(ivs);
      at[axis] = div(ivs[axis], idx(bs));
      Value s = fp.decodeScale(format, loadBits(scales, at));
      Value v = fp.decodeE2M1(loadBits(codes, ivs));
      store(fp.dequantizeElement(v, s, g), dst, ivs);
    });
    return dst;
  }

  /// Whether key j is visible to query i of batch bi.
  Value keyValid(Value bi, Value i, Value j) {
    Value valid = cmpi(arith::CmpIPredicate::ult, j, N);
    if (causal)
      valid = andi(valid, cmpi(arith::CmpIPredicate::ule, j, i));
    if (keyLengths) {
      Value len = memref::LoadOp::create(b, loc, keyLengths, ValueRange{bi});
      len = arith::IndexCastOp::create(b, loc, b.getIndexType(), len);
      valid = andi(valid, cmpi(arith::CmpIPredicate::ult, j, len));
    }
    return valid;
  }

  /// s = (Q^F_i . K^F_j * scale + mask_ij) * log2(e) for the key tile at j0
  /// into sRow[0, jn), -inf where masked; returns the tile's max.
  Value scoreTile(Value bi, Value h, Value hk, Value i, Value j0, Value jn,
                  Value sRow) {
    Value negInf = f32(-kInf);
    return reduce(idx(0), jn, idx(1), {negInf}, [&](Value jj, ValueRange acc) {
      Value j = add(j0, jj);
      Value dot = reduce(idx(0), D, idx(1), {f32(0)}, [&](Value d, ValueRange a) {
                    Value qv = memref::LoadOp::create(b, loc, qf, ValueRange{bi, h, i, d});
                    Value kv = memref::LoadOp::create(b, loc, kf, ValueRange{bi, hk, j, d});
                    return SmallVector<Value>{math::FmaOp::create(b, loc, qv, kv, a[0])};
                  })[0];
      Value s = mul(dot, f32(scale));
      if (mask) {
        auto shape = cast<MemRefType>(mask.getType()).getShape();
        Value mb = shape[0] == 1 ? idx(0) : bi;
        Value mh = shape[1] == 1 ? idx(0) : h;
        s = add(s, load(mask, ValueRange{mb, mh, i, j}));
      }
      s = mul(s, f32(kLog2E));
      s = select(keyValid(bi, i, j), s, negInf);
      memref::StoreOp::create(b, loc, s, sRow, ValueRange{jj});
      return SmallVector<Value>{arith::MaximumFOp::create(b, loc, acc[0], s)};
    })[0];
  }

  /// P~ = exp2(s - floor s) * 2^(floor s - m) into pRow[0, jn) (0 where
  /// masked): in an integer frame m the split makes frames differ by exact
  /// powers of two. Returns rowsum(P~) over the tile.
  Value pTile(Value m, Value jn, Value sRow, Value pRow) {
    return reduce(idx(0), jn, idx(1), {f32(0)}, [&](Value jj, ValueRange acc) {
      Value s = memref::LoadOp::create(b, loc, sRow, ValueRange{jj});
      Value fl = math::FloorOp::create(b, loc, s);
      Value p = mul(math::Exp2Op::create(b, loc, sub(s, fl)),
                    math::Exp2Op::create(b, loc, sub(fl, m)));
      Value masked = cmpf(arith::CmpFPredicate::OEQ, s, f32(-kInf));
      p = select(masked, f32(0), p);
      memref::StoreOp::create(b, loc, p, pRow, ValueRange{jj});
      return SmallVector<Value>{add(acc[0], p)};
    })[0];
  }

  /// phi_P over pRow[0, jn) into pqRow (blocks start at the tile start, which
  /// is a multiple of the block size, so they are the global key blocks).
  void quantizeP(Value jn, Value pRow, Value pqRow) {
    fakeQuantLine(
        config.getP(), config.getPGlobalScale(), jn,
        [&](Value k) { return memref::LoadOp::create(b, loc, pRow, ValueRange{k}); },
        [&](Value k, Value v) { memref::StoreOp::create(b, loc, v, pqRow, ValueRange{k}); });
  }
};

static LogicalResult lowerAttention(AttentionOp op, int64_t keyTile,
                                    int64_t queryTile,
                                    DenseMap<Value, SavedState> &states) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  ConfigAttr config = op.getConfig();
  AttentionEmitter e(b, loc, config, op.getCausal(), op.getSoftmaxScale(),
                     keyTile);
  Mode mode = config.getMode();
  bool qat = mode == Mode::QAT;

  Value q = e.toBuffer(op.getQuery()), k = e.toBuffer(op.getKey()),
        v = e.toBuffer(op.getValue());
  if (op.getMask())
    e.mask = e.toBuffer(op.getMask());
  if (op.getKeyLengths())
    e.keyLengths = e.toBuffer(op.getKeyLengths());
  e.setShapes(q, k);

  // Q^F, K^F (blocked along D) and V^F (blocked along keys).
  if (mode == Mode::FP4) {
    e.qf = e.decode(q, e.toBuffer(op.getQueryScales()), config.getQ(), 3);
    e.kf = e.decode(k, e.toBuffer(op.getKeyScales()), config.getK(), 3);
    e.vf = e.decode(v, e.toBuffer(op.getValueScales()), config.getV(), 2);
  } else {
    e.qf = e.prepare(q, config.getQ(), 3);
    e.kf = e.prepare(k, config.getK(), 3);
    e.vf = e.prepare(v, config.getV(), 2);
  }

  SmallVector<Value> oSizes{e.B, e.Hq, e.M, e.D}, rowSizes{e.B, e.Hq, e.M};
  Value oAcc = e.allocZero(oSizes);
  Value opAcc = qat ? e.allocZero(oSizes) : Value();
  Value mBuf = e.alloc(rowSizes), lBuf = e.alloc(rowSizes), lse = e.alloc(rowSizes);
  Value sRow = e.alloc({e.idx(keyTile)}), pRow = e.alloc({e.idx(keyTile)}),
        pqRow = e.quantized() ? e.alloc({e.idx(keyTile)}) : pRow;

  e.loop(e.B, [&](Value bi) {
    e.loop(e.Hq, [&](Value h) {
      Value hk = e.div(h, e.group);
      e.loop(e.idx(0), e.M, e.idx(queryTile), [&](Value i0) {
        e.loop(i0, e.minIdx(e.add(i0, e.idx(queryTile)), e.M), e.idx(1),
               [&](Value i) {
          SmallVector<Value> fin = e.reduce(
              e.idx(0), e.N, e.idx(keyTile), {e.f32(-kInf), e.f32(0)},
              [&](Value j0, ValueRange st) {
                Value m = st[0], l = st[1];
                Value jn = e.minIdx(e.idx(keyTile), e.sub(e.N, j0));
                Value tileMax = e.scoreTile(bi, h, hk, i, j0, jn, sRow);
                // Integer running max; alpha = 2^(m - m') is exact.
                Value mNew = arith::MaximumFOp::create(
                    b, loc, m, math::CeilOp::create(b, loc, tileMax));
                Value noHistory = e.cmpf(arith::CmpFPredicate::OEQ, m, e.f32(-kInf));
                Value alpha = e.select(
                    noHistory, e.f32(0),
                    math::Exp2Op::create(b, loc, e.sub(m, mNew)));
                Value lTile = e.pTile(mNew, jn, sRow, pRow);
                if (e.quantized())
                  e.quantizeP(jn, pRow, pqRow);
                // O = alpha O + P~^F V^F;  O' = alpha O' + P~ V^F.
                e.loop(e.D, [&](Value d) {
                  SmallVector<Value> acc = e.reduce(
                      e.idx(0), jn, e.idx(1),
                      qat ? SmallVector<Value>{e.f32(0), e.f32(0)}
                          : SmallVector<Value>{e.f32(0)},
                      [&](Value jj, ValueRange a) {
                        Value vv = memref::LoadOp::create(
                            b, loc, e.vf, ValueRange{bi, hk, e.add(j0, jj), d});
                        Value pq = memref::LoadOp::create(b, loc, pqRow, ValueRange{jj});
                        SmallVector<Value> r{math::FmaOp::create(b, loc, pq, vv, a[0])};
                        if (qat) {
                          Value p = memref::LoadOp::create(b, loc, pRow, ValueRange{jj});
                          r.push_back(math::FmaOp::create(b, loc, p, vv, a[1]));
                        }
                        return r;
                      });
                  SmallVector<Value> at{bi, h, i, d};
                  Value o = memref::LoadOp::create(b, loc, oAcc, at);
                  memref::StoreOp::create(
                      b, loc, math::FmaOp::create(b, loc, alpha, o, acc[0]), oAcc, at);
                  if (qat) {
                    Value op2 = memref::LoadOp::create(b, loc, opAcc, at);
                    memref::StoreOp::create(
                        b, loc, math::FmaOp::create(b, loc, alpha, op2, acc[1]),
                        opAcc, at);
                  }
                });
                return SmallVector<Value>{mNew, e.add(e.mul(alpha, l), lTile)};
              });
          Value m = fin[0], l = fin[1];
          SmallVector<Value> row{bi, h, i};
          memref::StoreOp::create(b, loc, m, mBuf, row);
          memref::StoreOp::create(b, loc, l, lBuf, row);
          // A row with no visible key: O = 0, LSE = -inf.
          Value empty = e.cmpf(arith::CmpFPredicate::OEQ, l, e.f32(0));
          Value inv = e.select(empty, e.f32(0), e.div(e.f32(1), l));
          Value lseV = e.select(empty, e.f32(-kInf),
                                e.add(m, math::Log2Op::create(b, loc, l)));
          memref::StoreOp::create(b, loc, lseV, lse, row);
          e.loop(e.D, [&](Value d) {
            SmallVector<Value> at{bi, h, i, d};
            memref::StoreOp::create(
                b, loc, e.mul(memref::LoadOp::create(b, loc, oAcc, at), inv), oAcc, at);
            if (qat)
              memref::StoreOp::create(
                  b, loc, e.mul(memref::LoadOp::create(b, loc, opAcc, at), inv),
                  opAcc, at);
          });
        });
      });
    });
  });

  op.getOutput().replaceAllUsesWith(e.toTensor(oAcc, op.getOutput().getType()));
  op.getLse().replaceAllUsesWith(e.toTensor(lse, op.getLse().getType()));
  if (Value state = op.getState()) {
    for (Operation *user : state.getUsers())
      if (!isa<AttentionBackwardOp>(user))
        return user->emitError()
               << "convert-attnqat-to-loops: the saved state of an attention "
                  "must be consumed by attention_backward ops in the same "
                  "function on the CPU path";
    states[state] = SavedState{e.qf, e.kf, e.vf, qat ? opAcc : oAcc, mBuf,
                               lBuf, e.mask, e.keyLengths};
  }
  return success();
}

static LogicalResult lowerAttentionBackward(AttentionBackwardOp op,
                                            int64_t keyTile,
                                            DenseMap<Value, SavedState> &states) {
  auto it = states.find(op.getState());
  if (it == states.end())
    return op.emitError() << "convert-attnqat-to-loops: the state of this "
                             "backward does not come from an attention in the "
                             "same function; the CPU path needs both in one "
                             "function";
  SavedState st = it->second;
  StateType stateType = op.getState().getType();
  OpBuilder b(op);
  Location loc = op.getLoc();
  ConfigAttr config = stateType.getConfig();
  AttentionEmitter e(b, loc, config, stateType.getCausal(),
                     stateType.getScale().getValue().convertToFloat(), keyTile);
  Mode mode = config.getMode();
  e.qf = st.qf;
  e.kf = st.kf;
  e.vf = st.vf;
  e.mask = st.mask;
  e.keyLengths = st.keyLengths;
  e.setShapes(st.qf, st.kf);

  Value dO = e.toBuffer(op.getGradOutput());
  Value dq = e.allocZero(e.sizes(st.qf));
  Value dk = e.allocZero(e.sizes(st.kf));
  Value dv = e.allocZero(e.sizes(st.vf));
  Value sRow = e.alloc({e.idx(keyTile)}), pRow = e.alloc({e.idx(keyTile)}),
        pqRow = mode == Mode::QAT ? e.alloc({e.idx(keyTile)}) : pRow;
  Value scale = e.f32(e.scale);

  e.loop(e.B, [&](Value bi) {
    e.loop(e.Hq, [&](Value h) {
      Value hk = e.div(h, e.group);
      e.loop(e.M, [&](Value i) {
        SmallVector<Value> row{bi, h, i};
        Value m = memref::LoadOp::create(b, loc, st.m, row);
        Value l = memref::LoadOp::create(b, loc, st.l, row);
        Value empty = e.cmpf(arith::CmpFPredicate::OEQ, l, e.f32(0));
        Value invL = e.select(empty, e.f32(0), e.div(e.f32(1), l));
        // D_i = rowsum(dO * O') in qat (rule 2), rowsum(dO * O) otherwise.
        Value dTerm = e.reduce(e.idx(0), e.D, e.idx(1), {e.f32(0)},
                               [&](Value d, ValueRange a) {
                                 Value x = e.load(dO, ValueRange{bi, h, i, d});
                                 Value o = memref::LoadOp::create(
                                     b, loc, st.o, ValueRange{bi, h, i, d});
                                 return SmallVector<Value>{
                                     math::FmaOp::create(b, loc, x, o, a[0])};
                               })[0];
        e.loop(e.idx(0), e.N, e.idx(keyTile), [&](Value j0) {
          Value jn = e.minIdx(e.idx(keyTile), e.sub(e.N, j0));
          e.scoreTile(bi, h, hk, i, j0, jn, sRow);
          // P~ in the forward's final frame; its quantization is the
          // forward's (rule 1): frames differ by exact powers of two.
          e.pTile(m, jn, sRow, pRow);
          if (mode == Mode::QAT)
            e.quantizeP(jn, pRow, pqRow);
          e.loop(jn, [&](Value jj) {
            Value j = e.add(j0, jj);
            Value p = e.mul(memref::LoadOp::create(b, loc, pRow, ValueRange{jj}), invL);
            Value pf = e.mul(memref::LoadOp::create(b, loc, pqRow, ValueRange{jj}), invL);
            Value dP = e.reduce(e.idx(0), e.D, e.idx(1), {e.f32(0)},
                                [&](Value d, ValueRange a) {
                                  Value x = e.load(dO, ValueRange{bi, h, i, d});
                                  Value vv = memref::LoadOp::create(
                                      b, loc, e.vf, ValueRange{bi, hk, j, d});
                                  return SmallVector<Value>{
                                      math::FmaOp::create(b, loc, x, vv, a[0])};
                                })[0];
            Value dS = e.mul(p, e.sub(dP, dTerm));
            Value dSs = e.mul(dS, scale);
            e.loop(e.D, [&](Value d) {
              SmallVector<Value> qi{bi, h, i, d}, kj{bi, hk, j, d};
              Value x = e.load(dO, qi);
              auto accumulate = [&](Value buf, ValueRange at, Value a, Value c) {
                Value old = memref::LoadOp::create(b, loc, buf, at);
                memref::StoreOp::create(b, loc, math::FmaOp::create(b, loc, a, c, old),
                                        buf, at);
              };
              accumulate(dv, kj, pf, x);
              accumulate(dq, qi, dSs, memref::LoadOp::create(b, loc, e.kf, kj));
              accumulate(dk, kj, dSs, memref::LoadOp::create(b, loc, e.qf, qi));
            });
          });
        });
      });
    });
  });

  op.getGradQuery().replaceAllUsesWith(e.toTensor(dq, op.getGradQuery().getType()));
  op.getGradKey().replaceAllUsesWith(e.toTensor(dk, op.getGradKey().getType()));
  op.getGradValue().replaceAllUsesWith(e.toTensor(dv, op.getGradValue().getType()));
  op.erase();
  return success();
}

struct ConvertAttnQATToLoopsPass
    : mlir::attnqat::impl::ConvertAttnQATToLoopsBase<ConvertAttnQATToLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (keyTile <= 0 || keyTile % 32 != 0) {
      getOperation()->emitError()
          << "convert-attnqat-to-loops: key-tile must be a positive multiple "
             "of 32 (the MXFP4 block), got "
          << static_cast<int64_t>(keyTile);
      return signalPassFailure();
    }
    if (queryTile <= 0) {
      getOperation()->emitError()
          << "convert-attnqat-to-loops: query-tile must be positive";
      return signalPassFailure();
    }
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (isa<QuantizeOp, DequantizeOp, FakeQuantOp, AttentionOp,
              AttentionBackwardOp>(op))
        ops.push_back(op);
    });
    // Program order within each block: a forward precedes its backwards.
    DenseMap<Value, SavedState> states;
    SmallVector<AttentionOp> forwards;
    for (Operation *op : ops) {
      LogicalResult result = success();
      if (auto q = dyn_cast<QuantizeOp>(op))
        lowerQuantize(q);
      else if (auto d = dyn_cast<DequantizeOp>(op))
        lowerDequantize(d);
      else if (auto f = dyn_cast<FakeQuantOp>(op))
        lowerFakeQuant(f);
      else if (auto a = dyn_cast<AttentionOp>(op)) {
        result = lowerAttention(a, keyTile, queryTile, states);
        forwards.push_back(a);
      } else
        result = lowerAttentionBackward(cast<AttentionBackwardOp>(op), keyTile,
                                        states);
      if (failed(result))
        return signalPassFailure();
    }
    for (AttentionOp op : forwards)
      op.erase();
  }
};

} // namespace
