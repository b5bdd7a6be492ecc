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

#include "../AttentionLoopEmitter.h"
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
using namespace mlir::attnqat::loops;


/// Buffers an attention forward keeps for its backward (all f32 except the
/// mask and key lengths, which are the caller's).
struct SavedState {
  Value qf, kf, vf; // Q^F, K^F, V^F (Q, K, V in mode none)
  Value o;          // O' in mode qat, O otherwise (normalized)
  Value m, l;       // integer frame and normalizer per row
  Value mask, keyLengths;
};



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
  Value oAcc = e.alloc(oSizes);
  Value opAcc = qat ? e.alloc(oSizes) : Value();
  Value mBuf = e.alloc(rowSizes), lBuf = e.alloc(rowSizes), lse = e.alloc(rowSizes);
  Value sRow = e.alloc({e.idx(keyTile)}), pRow = e.alloc({e.idx(keyTile)}),
        pqRow = e.quantized() ? e.alloc({e.idx(keyTile)}) : pRow;

  e.loop(e.B, [&](Value bi) {
    e.loop(e.Hq, [&](Value h) {
      Value hk = e.div(h, e.group);
      e.loop(e.idx(0), e.M, e.idx(queryTile), [&](Value i0) {
        e.loop(i0, e.minIdx(e.add(i0, e.idx(queryTile)), e.M), e.idx(1),
               [&](Value i) {
          e.forwardRow(bi, h, hk, i, oAcc, opAcc, mBuf, lBuf, lse, sRow, pRow,
                       pqRow);
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
  Value dq = e.alloc(e.sizes(st.qf)); // backwardRow zeroes its row
  Value dk = e.allocZero(e.sizes(st.kf));
  Value dv = e.allocZero(e.sizes(st.vf));
  Value sRow = e.alloc({e.idx(keyTile)}), pRow = e.alloc({e.idx(keyTile)}),
        pqRow = mode == Mode::QAT ? e.alloc({e.idx(keyTile)}) : pRow;
  e.loop(e.B, [&](Value bi) {
    e.loop(e.Hq, [&](Value h) {
      Value hk = e.div(h, e.group);
      e.loop(e.M, [&](Value i) {
        e.backwardRow(bi, h, hk, i, st.o, st.m, st.l, dO, dq, dk, dv, sRow,
                      pRow, pqRow, /*atomicKV=*/false);
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
