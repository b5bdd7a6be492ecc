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
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

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
// Runtime shape checks
//===----------------------------------------------------------------------===//

/// Extents the verifier cannot compare (dynamic dims of different operands)
/// are compared where the op runs: a mismatch calls
/// `attnqat_shape_error(message, actual, expected)` (i64 extents), which must
/// not return. The JIT's version unwinds to the call's invoke, which returns
/// the message as an error (lib/JIT); code compiled ahead of time links its
/// own. Reading past a shorter operand would otherwise crash or give a wrong
/// answer. Comparisons of static extents fold away.
class ShapeChecks {
public:
  static constexpr llvm::StringLiteral kMessagePrefix = "attnqat_shape_message";

  ShapeChecks(Emitter &e, Operation *op) : e(e), op(op) {}

  /// Fails unless actual == expected. In `what`, "%0" stands for `actual`
  /// and "%1" for `expected`.
  void equal(Value actual, Value expected, StringRef what) {
    failIf(e.b.createOrFold<arith::CmpIOp>(e.loc, arith::CmpIPredicate::ne, actual, expected),
           actual, expected, what);
  }
  /// dim `d` of `buf` against `expected`, where either is dynamic.
  void dimEqual(Value buf, int64_t d, Value expected, StringRef what) {
    equal(e.dim(buf, d), expected, what);
  }
  void failIf(Value bad, Value actual, Value expected, StringRef what) {
    if (std::optional<int64_t> c = getConstantIntValue(bad); c && *c == 0)
      return;
    auto module = op->getParentOfType<ModuleOp>();
    OpBuilder mb = OpBuilder::atBlockBegin(module.getBody());
    MLIRContext *ctx = module.getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    auto fn = module.lookupSymbol<func::FuncOp>(kShapeErrorFunction);
    if (!fn) {
      fn = func::FuncOp::create(mb, e.loc, kShapeErrorFunction,
                                FunctionType::get(ctx, {ptr, i64, i64}, {}));
      fn.setPrivate();
    }
    std::string text = (op->getName().getStringRef() + ": " + what).str();
    text.push_back('\0');
    // One global per distinct message; the symbol table renames on collision.
    StringAttr value = e.b.getStringAttr(text);
    LLVM::GlobalOp global;
    for (auto g : module.getOps<LLVM::GlobalOp>())
      if (g.getSymName().starts_with(kMessagePrefix) && g.getValueAttr() == value)
        global = g;
    if (!global) {
      OpBuilder detached(ctx);
      global = LLVM::GlobalOp::create(
          detached, e.loc, LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), text.size()),
          /*isConstant=*/true, LLVM::Linkage::Internal, kMessagePrefix, value);
      SymbolTable(module).insert(global, module.getBody()->begin());
    }
    scf::IfOp check = scf::IfOp::create(e.b, e.loc, bad, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(e.b);
    e.b.setInsertionPointToStart(&check.getThenRegion().front());
    auto asI64 = [&](Value x) {
      return arith::IndexCastOp::create(e.b, e.loc, i64, x).getResult();
    };
    Value message = LLVM::AddressOfOp::create(e.b, e.loc, global);
    func::CallOp::create(e.b, e.loc, fn, ValueRange{message, asI64(actual), asI64(expected)});
  }

private:
  Emitter &e;
  Operation *op;
};

/// The extents of an FP4 operand's scales: `sizes` with the block axis in
/// blocks.
static SmallVector<Value> blockedSizes(Emitter &e, ArrayRef<Value> sizes, int64_t axis,
                                       int64_t blockSize) {
  SmallVector<Value> out(sizes);
  out[axis] = e.div(e.add(sizes[axis], e.idx(blockSize - 1)), e.idx(blockSize));
  return out;
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
  SmallVector<Value> scaleSz = blockedSizes(e, sz, axis, bs);
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
  ShapeChecks checks(e, op);
  for (auto [d, extent] : llvm::enumerate(blockedSizes(e, sz, axis, bs)))
    checks.dimEqual(scales, d, extent,
                    "dimension " + std::to_string(d) +
                        " of the scales is %0, the codes need %1");
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


/// The dynamic extents the forward's operands must share with Q ([B, Hq, M,
/// D]) and K ([B, Hkv, N, D]); heads and D are static (the verifier).
/// `scales` are Q's, K's and V's scale buffers in mode fp4 (else empty).
static void checkAttentionShapes(AttentionEmitter &e, AttentionOp op, Value q, Value k,
                                 Value v, ArrayRef<Value> scales) {
  ShapeChecks checks(e, op);
  checks.dimEqual(k, 0, e.B, "the key's batch is %0, the query's %1");
  checks.dimEqual(v, 0, e.B, "the value's batch is %0, the query's %1");
  checks.dimEqual(v, 2, e.N, "the value has %0 keys, the key %1");
  if (e.mask) {
    auto shape = cast<MemRefType>(e.mask.getType()).getShape();
    if (shape[0] != 1)
      checks.dimEqual(e.mask, 0, e.B, "the mask's batch is %0, the query's %1");
    if (shape[1] != 1)
      checks.dimEqual(e.mask, 1, e.Hq, "the mask has %0 heads, the query %1");
    checks.dimEqual(e.mask, 2, e.M, "the mask has %0 rows, the query %1");
    checks.dimEqual(e.mask, 3, e.N, "the mask has %0 columns, the key %1 keys");
  }
  if (e.keyLengths)
    checks.dimEqual(e.keyLengths, 0, e.B, "key_lengths has %0 entries, the batch is %1");
  if (scales.empty())
    return;
  ConfigAttr config = op.getConfig();
  auto scalesOf = [&](Value codes, Value scaleBuf, int64_t axis, FP4FormatAttrInterface format,
                      StringRef name) {
    for (auto [d, extent] :
         llvm::enumerate(blockedSizes(e, e.sizes(codes), axis, format.getBlockSize())))
      checks.dimEqual(scaleBuf, d, extent,
                      ("dimension " + std::to_string(d) + " of the " + name +
                       " scales is %0, its codes need %1")
                          .str());
  };
  scalesOf(q, scales[0], 3, config.getQ(), "query");
  scalesOf(k, scales[1], 3, config.getK(), "key");
  scalesOf(v, scales[2], 2, config.getV(), "value");
}

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
  SmallVector<Value> scales;
  if (mode == Mode::FP4)
    scales = {e.toBuffer(op.getQueryScales()), e.toBuffer(op.getKeyScales()),
              e.toBuffer(op.getValueScales())};
  checkAttentionShapes(e, op, q, k, v, scales);

  // Q^F, K^F (blocked along D) and V^F (blocked along keys).
  if (mode == Mode::FP4) {
    e.qf = e.decode(q, scales[0], config.getQ(), 3);
    e.kf = e.decode(k, scales[1], config.getK(), 3);
    e.vf = e.decode(v, scales[2], config.getV(), 2);
  } else {
    e.qf = e.prepare(q, config.getQ(), 3);
    e.kf = e.prepare(k, config.getK(), 3);
    e.vf = e.prepare(v, config.getV(), 2);
  }

  SmallVector<Value> oSizes{e.B, e.Hq, e.M, e.D}, rowSizes{e.B, e.Hq, e.M};
  Value oAcc = e.alloc(oSizes);
  // O' feeds only the backward's D (DESIGN.md: "training only"): a forward
  // whose state no backward reads computes O and LSE alone.
  bool withOPrime = qat && op.getState() && !op.getState().use_empty();
  Value opAcc = withOPrime ? e.alloc(oSizes) : Value();
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
    states[state] = SavedState{e.qf, e.kf, e.vf, withOPrime ? opAcc : oAcc, mBuf,
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
  ShapeChecks checks(e, op);
  checks.dimEqual(dO, 0, e.B, "the output gradient's batch is %0, the query's %1");
  checks.dimEqual(dO, 2, e.M, "the output gradient has %0 rows, the query %1");
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
