//===- AttentionLoopEmitter.h - loops of the attention recurrence -*- C++ -*-===//
//
// Builders shared by the CPU loop lowering and the GPU kernel generator: loop
// nests over memrefs, the FP4 codec on lines of a buffer, and one query row
// of the attention forward (key tiles, integer running max, in-tile P
// quantization, O and O'). The CPU lowering runs the row for every query; a
// GPU kernel runs it per thread, so both compute the same numbers.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_LIB_CONVERSION_ATTENTIONLOOPEMITTER_H
#define ATTNQAT_LIB_CONVERSION_ATTENTIONLOOPEMITTER_H

#include "attnqat/Conversion/FP4Arith.h"
#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

namespace mlir::attnqat::loops {

inline constexpr double kLog2E = 1.4426950408889634;
inline constexpr float kInf = std::numeric_limits<float>::infinity();

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
inline SmallVector<Value> withAxis(ArrayRef<Value> ivs, int64_t axis, Value k) {
  SmallVector<Value> r(ivs);
  r.insert(r.begin() + axis, k);
  return r;
}

/// Sizes without `axis`.
inline SmallVector<Value> dropAxis(ArrayRef<Value> sizes, int64_t axis) {
  SmallVector<Value> r(sizes);
  r.erase(r.begin() + axis);
  return r;
}

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
  Value scaleValue; // a runtime softmax scale (GPU kernels); else `scale`
  Value qf, kf, vf;
  Value B, Hq, Hkv, M, N, D, group;

  void setShapes(Value q, Value k) {
    B = dim(q, 0);
    Hq = dim(q, 1);
    M = dim(q, 2);
    D = dim(q, 3);
    N = dim(k, 2);
    Hkv = dim(k, 1);
    group = div(Hq, Hkv);
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
                    Value qv = load(qf, ValueRange{bi, h, i, d});
                    Value kv = load(kf, ValueRange{bi, hk, j, d});
                    return SmallVector<Value>{math::FmaOp::create(b, loc, qv, kv, a[0])};
                  })[0];
      Value s = mul(dot, scaleValue ? scaleValue : f32(scale));
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

  /// One query row of the forward: zeroes O (and O') row i, runs the key
  /// tiles (integer running max, P~ and its in-tile quantization, O and O'
  /// accumulation), then normalizes and writes m, l and LSE (log2 domain; an
  /// empty row gives O = 0 and LSE = -inf). oAcc/opAcc are f32 [B,Hq,M,D];
  /// a null opAcc computes no O' (a qat forward no backward reads).
  void forwardRow(Value bi, Value h, Value hk, Value i, Value oAcc, Value opAcc,
                  Value mBuf, Value lBuf, Value lse, Value sRow, Value pRow,
                  Value pqRow) {
    bool withOPrime = static_cast<bool>(opAcc);
    loop(D, [&](Value d) {
      SmallVector<Value> at{bi, h, i, d};
      memref::StoreOp::create(b, loc, f32(0), oAcc, at);
      if (withOPrime)
        memref::StoreOp::create(b, loc, f32(0), opAcc, at);
    });
    SmallVector<Value> fin = reduce(
        idx(0), N, idx(keyTile), {f32(-kInf), f32(0)},
        [&](Value j0, ValueRange st) {
          Value m = st[0], l = st[1];
          Value jn = minIdx(idx(keyTile), sub(N, j0));
          Value tileMax = scoreTile(bi, h, hk, i, j0, jn, sRow);
          // Integer running max; alpha = 2^(m - m') is exact.
          Value mNew = arith::MaximumFOp::create(
              b, loc, m, math::CeilOp::create(b, loc, tileMax));
          Value noHistory = cmpf(arith::CmpFPredicate::OEQ, m, f32(-kInf));
          Value alpha = select(
              noHistory, f32(0),
              math::Exp2Op::create(b, loc, sub(m, mNew)));
          Value lTile = pTile(mNew, jn, sRow, pRow);
          if (quantized())
            quantizeP(jn, pRow, pqRow);
          // O = alpha O + P~^F V^F;  O' = alpha O' + P~ V^F.
          loop(D, [&](Value d) {
            SmallVector<Value> acc = reduce(
                idx(0), jn, idx(1),
                withOPrime ? SmallVector<Value>{f32(0), f32(0)}
                    : SmallVector<Value>{f32(0)},
                [&](Value jj, ValueRange a) {
                  Value vv = load(vf, ValueRange{bi, hk, add(j0, jj), d});
                  Value pq = memref::LoadOp::create(b, loc, pqRow, ValueRange{jj});
                  SmallVector<Value> r{math::FmaOp::create(b, loc, pq, vv, a[0])};
                  if (withOPrime) {
                    Value p = memref::LoadOp::create(b, loc, pRow, ValueRange{jj});
                    r.push_back(math::FmaOp::create(b, loc, p, vv, a[1]));
                  }
                  return r;
                });
            SmallVector<Value> at{bi, h, i, d};
            Value o = memref::LoadOp::create(b, loc, oAcc, at);
            memref::StoreOp::create(
                b, loc, math::FmaOp::create(b, loc, alpha, o, acc[0]), oAcc, at);
            if (withOPrime) {
              Value op2 = memref::LoadOp::create(b, loc, opAcc, at);
              memref::StoreOp::create(
                  b, loc, math::FmaOp::create(b, loc, alpha, op2, acc[1]),
                  opAcc, at);
            }
          });
          return SmallVector<Value>{mNew, add(mul(alpha, l), lTile)};
        });
    Value m = fin[0], l = fin[1];
    SmallVector<Value> row{bi, h, i};
    memref::StoreOp::create(b, loc, m, mBuf, row);
    memref::StoreOp::create(b, loc, l, lBuf, row);
    // A row with no visible key: O = 0, LSE = -inf.
    Value empty = cmpf(arith::CmpFPredicate::OEQ, l, f32(0));
    Value inv = select(empty, f32(0), div(f32(1), l));
    Value lseV = select(empty, f32(-kInf),
                          add(m, math::Log2Op::create(b, loc, l)));
    memref::StoreOp::create(b, loc, lseV, lse, row);
    loop(D, [&](Value d) {
      SmallVector<Value> at{bi, h, i, d};
      memref::StoreOp::create(
          b, loc, mul(memref::LoadOp::create(b, loc, oAcc, at), inv), oAcc, at);
      if (withOPrime)
        memref::StoreOp::create(
            b, loc, mul(memref::LoadOp::create(b, loc, opAcc, at), inv),
            opAcc, at);
    });
  }

  /// One query row of the backward (DESIGN.md's matched backward in mode
  /// qat; D from O and unquantized P in dropin; exact in none): zeroes and
  /// writes dQ row i, and adds this row's contributions to dK and dV, with
  /// atomic adds when rows run in parallel (GPU threads). `oSaved` is O' in
  /// qat, O otherwise; m and l are the forward's frame and normalizer.
  void backwardRow(Value bi, Value h, Value hk, Value i, Value oSaved, Value mBuf,
                   Value lBuf, Value dO, Value dq, Value dk, Value dv, Value sRow,
                   Value pRow, Value pqRow, bool atomicKV) {
    bool qat = config.getMode() == Mode::QAT;
    SmallVector<Value> row{bi, h, i};
    Value m = memref::LoadOp::create(b, loc, mBuf, row);
    Value l = memref::LoadOp::create(b, loc, lBuf, row);
    Value empty = cmpf(arith::CmpFPredicate::OEQ, l, f32(0));
    Value invL = select(empty, f32(0), div(f32(1), l));
    Value sc = scaleValue ? scaleValue : f32(scale);
    loop(D, [&](Value d) {
      memref::StoreOp::create(b, loc, f32(0), dq, ValueRange{bi, h, i, d});
    });
    // D_i = rowsum(dO * O') in qat (rule 2), rowsum(dO * O) otherwise.
    Value dTerm = reduce(idx(0), D, idx(1), {f32(0)}, [&](Value d, ValueRange a) {
      Value x = load(dO, ValueRange{bi, h, i, d});
      Value o = load(oSaved, ValueRange{bi, h, i, d});
      return SmallVector<Value>{math::FmaOp::create(b, loc, x, o, a[0])};
    })[0];
    auto accumulate = [&](Value buf, ValueRange at, Value a, Value c,
                          bool atomic) {
      Value prod = arith::MulFOp::create(b, loc, a, c);
      if (atomic) {
        memref::AtomicRMWOp::create(b, loc, arith::AtomicRMWKind::addf, prod,
                                    buf, at);
        return;
      }
      Value old = memref::LoadOp::create(b, loc, buf, at);
      memref::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, old, prod),
                              buf, at);
    };
    loop(idx(0), N, idx(keyTile), [&](Value j0) {
      Value jn = minIdx(idx(keyTile), sub(N, j0));
      scoreTile(bi, h, hk, i, j0, jn, sRow);
      // P~ in the forward's final frame; its quantization is the forward's
      // (rule 1): frames differ by exact powers of two.
      pTile(m, jn, sRow, pRow);
      if (qat)
        quantizeP(jn, pRow, pqRow);
      loop(jn, [&](Value jj) {
        Value j = add(j0, jj);
        Value p = mul(memref::LoadOp::create(b, loc, pRow, ValueRange{jj}), invL);
        Value pf = mul(memref::LoadOp::create(b, loc, pqRow, ValueRange{jj}), invL);
        Value dP = reduce(idx(0), D, idx(1), {f32(0)}, [&](Value d, ValueRange a) {
          Value x = load(dO, ValueRange{bi, h, i, d});
          Value vv = load(vf, ValueRange{bi, hk, j, d});
          return SmallVector<Value>{math::FmaOp::create(b, loc, x, vv, a[0])};
        })[0];
        Value dSs = mul(mul(p, sub(dP, dTerm)), sc);
        loop(D, [&](Value d) {
          SmallVector<Value> qi{bi, h, i, d}, kj{bi, hk, j, d};
          accumulate(dv, kj, pf, load(dO, qi), atomicKV);
          accumulate(dq, qi, dSs, load(kf, kj), /*atomic=*/false);
          accumulate(dk, kj, dSs, load(qf, qi), atomicKV);
        });
      });
    });
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

} // namespace mlir::attnqat::loops

#endif // ATTNQAT_LIB_CONVERSION_ATTENTIONLOOPEMITTER_H
