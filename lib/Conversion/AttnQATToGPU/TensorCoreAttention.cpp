//===- TensorCoreAttention.cpp - tensor-core attention forward ------------===//
//
// Register fragments follow the PTX ISA's m16n8k16 layouts. With lane = 4g+t
// (g = lane / 4, t = lane % 4), a warp's accumulator tile (16 x 8, f32)
// holds c0, c1 at row g, columns 2t, 2t+1 and c2, c3 at row g+8; an A
// operand (16 x 16, bf16 pairs in i32) holds a0 = (g, 2t..), a1 = (g+8, 2t..),
// a2 = (g, 2t+8..), a3 = (g+8, 2t+8..); a B operand (16 x 8) holds b0 =
// (k = 2t.., n = g), b1 = (k = 2t+8.., n = g). Two adjacent S accumulator
// tiles are therefore exactly an A operand of P . V, so P never leaves
// registers. Everything is unrolled at generation time: fragments are SSA
// values, the key-tile loop carries O (and O'), m and l.
//
//===----------------------------------------------------------------------===//

#include "TensorCoreAttention.h"

#include "attnqat/Conversion/FP4Arith.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <array>
#include <limits>

using namespace mlir;
using namespace mlir::attnqat;

namespace {

constexpr double kLog2E = 1.4426950408889634;
constexpr float kInf = std::numeric_limits<float>::infinity();

/// One accumulator tile of a thread: c0..c3.
using Acc = std::array<Value, 4>;

/// Builds the kernel; one instance per generated function.
class ForwardBuilder {
public:
  ForwardBuilder(gpu::GPUFuncOp func, AttentionOp op)
      : func(func), op(op), b(OpBuilder::atBlockBegin(&func.getBody().front())),
        loc(func.getLoc()), fp(b, loc), config(op.getConfig()),
        D(tc::headDim(op)) {}

  void build();

private:
  gpu::GPUFuncOp func;
  AttentionOp op;
  OpBuilder b;
  Location loc;
  FP4Arith fp;
  ConfigAttr config;
  int64_t D;

  Type f32() { return b.getF32Type(); }
  Type bf16() { return b.getBF16Type(); }
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value cf(double v) { return fp.f32(v); }
  Value addi(Value x, Value y) { return b.createOrFold<arith::AddIOp>(loc, x, y); }
  Value muli(Value x, Value y) { return b.createOrFold<arith::MulIOp>(loc, x, y); }
  Value divu(Value x, Value y) { return b.createOrFold<arith::DivUIOp>(loc, x, y); }
  Value remu(Value x, Value y) { return b.createOrFold<arith::RemUIOp>(loc, x, y); }
  Value minu(Value x, Value y) { return b.createOrFold<arith::MinUIOp>(loc, x, y); }
  Value ult(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  }
  Value addf(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value mulf(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value subf(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value maxf(Value x, Value y) { return arith::MaximumFOp::create(b, loc, x, y); }
  Value sel(Value c, Value t, Value f) { return arith::SelectOp::create(b, loc, c, t, f); }
  Value isNegInf(Value x) {
    return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x, cf(-kInf));
  }
  Value exp2(Value x) { return math::Exp2Op::create(b, loc, x); }

  /// x reduced over the four lanes that share a row (lane xor 1, 2).
  Value quadReduce(Value x, bool isMax) {
    for (int32_t offset : {1, 2}) {
      Value other = gpu::ShuffleOp::create(b, loc, x, offset, 32,
                                           gpu::ShuffleMode::XOR)
                        .getShuffleResult();
      x = isMax ? maxf(x, other) : addf(x, other);
    }
    return x;
  }

  /// Two f32 as one i32 of bf16 (RNE), `lo` in the low half.
  Value packBF16(Value lo, Value hi) {
    Value l = arith::TruncFOp::create(b, loc, bf16(), lo);
    Value h = arith::TruncFOp::create(b, loc, bf16(), hi);
    Value v = vector::FromElementsOp::create(
        b, loc, VectorType::get({2}, bf16()), ValueRange{l, h});
    return asI32(v);
  }
  Value asI32(Value vec2) {
    Value v = vector::BitCastOp::create(b, loc, VectorType::get({1}, b.getI32Type()),
                                        vec2);
    return vector::ExtractOp::create(b, loc, v, ArrayRef<int64_t>{0});
  }

  /// acc + a . b with one m16n8k16 BF16 MMA.
  Acc mma(ArrayRef<Value> a, Value b0, Value b1, const Acc &acc) {
    Type f = f32();
    auto structType = LLVM::LLVMStructType::getLiteral(b.getContext(), {f, f, f, f});
    auto mmaOp = NVVM::MmaOp::create(
        b, loc, structType, a, ValueRange{b0, b1}, ValueRange(acc),
        ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
        std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16, NVVM::MMATypes::bf16},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row, NVVM::MMALayout::col});
    Acc r;
    for (int64_t e = 0; e < 4; ++e)
      r[e] = LLVM::ExtractValueOp::create(b, loc, mmaOp.getResult(), e);
    return r;
  }

  /// Four 8x8 bf16 matrices from shared memory (one row address per lane),
  /// as four i32 registers.
  std::array<Value, 4> ldmatrix4(Value smem, Value row, Value col, bool trans) {
    Value v = nvgpu::LdMatrixOp::create(b, loc, VectorType::get({4, 2}, bf16()),
                                        smem, ValueRange{row, col}, trans, 4);
    std::array<Value, 4> r;
    for (int64_t i = 0; i < 4; ++i)
      r[i] = asI32(vector::ExtractOp::create(b, loc, v, ArrayRef<int64_t>{i}));
    return r;
  }
};

void ForwardBuilder::build() {
  Block &entry = func.getBody().front();
  bool qat = config.getMode() == Mode::QAT;
  bool quantized = config.isQuantized();
  unsigned a = 0;
  Value q = entry.getArgument(a++), k = entry.getArgument(a++),
        v = entry.getArgument(a++);
  Value mask = op.getMask() ? entry.getArgument(a++) : Value();
  Value lengths = op.getKeyLengths() ? entry.getArgument(a++) : Value();
  Value o = entry.getArgument(a++);
  Value oPrime = qat ? entry.getArgument(a++) : Value();
  Value lseOut = entry.getArgument(a++), mOut = entry.getArgument(a++),
        lOut = entry.getArgument(a++);
  ValueRange dims = entry.getArguments().take_back(7);
  Value B = dims[0], Hq = dims[1], Hkv = dims[2], M = dims[3], N = dims[4];
  Value scale = dims[6];
  (void)B;

  const int64_t kChunks = D / 16;   // k-steps of S = Q K^T
  const int64_t dTiles = D / 8;     // n-tiles of O
  const int64_t nTiles = tc::kKeyTile / 8;
  const int64_t stride = D + 8;     // padded smem rows: conflict-free ldmatrix

  // Shared K and V tiles.
  auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  auto tileType = MemRefType::get({tc::kKeyTile, stride}, bf16(), MemRefLayoutAttrInterface{},
                                  workgroup);
  Value kS = func.addWorkgroupAttribution(tileType, loc);
  Value vS = func.addWorkgroupAttribution(tileType, loc);

  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value lane = remu(tid, idx(32)), warp = divu(tid, idx(32));
  Value g = divu(lane, idx(4)), t = remu(lane, idx(4));
  Value qTile = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value h = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  Value bi = gpu::BlockIdOp::create(b, loc, gpu::Dimension::z);
  Value hk = divu(h, divu(Hq, Hkv));
  Value q0 = muli(qTile, idx(tc::kQueryTile));
  Value rows[2];
  rows[0] = addi(addi(q0, muli(warp, idx(16))), g);
  rows[1] = addi(rows[0], idx(8));
  Value rowValid[2] = {ult(rows[0], M), ult(rows[1], M)};
  Value qBase = muli(addi(muli(bi, Hq), h), M);    // row 0 of (b, h)
  Value kvBase = muli(addi(muli(bi, Hkv), hk), N); // key 0 of (b, hk)
  Value zeroI32 = arith::ConstantIntOp::create(b, loc, 0, 32);

  // Q fragments, loaded once (rows past M read row M-1 and are zeroed).
  SmallVector<std::array<Value, 4>> qFrag(kChunks);
  auto v2bf16 = VectorType::get({2}, bf16());
  for (int64_t kc = 0; kc < kChunks; ++kc)
    for (int64_t r = 0; r < 2; ++r)
      for (int64_t half = 0; half < 2; ++half) {
        Value row = minu(rows[r], arith::SubIOp::create(b, loc, M, idx(1)));
        Value col = addi(idx(kc * 16 + half * 8), muli(t, idx(2)));
        Value at = addi(muli(addi(qBase, row), idx(D)), col);
        Value pair = vector::LoadOp::create(b, loc, v2bf16, q, ValueRange{at},
                                            /*nontemporal=*/false, llvm::Align(4));
        qFrag[kc][half * 2 + r] = sel(rowValid[r], asI32(pair), zeroI32);
      }

  // Key tiles: all of them, or up to the block's last row when causal.
  Value keyEnd = N;
  if (op.getCausal())
    keyEnd = minu(N, addi(q0, idx(tc::kQueryTile)));
  Value numTiles = b.createOrFold<arith::CeilDivUIOp>(loc, keyEnd, idx(tc::kKeyTile));
  Value keyLen;
  if (lengths) {
    Value len = memref::LoadOp::create(b, loc, lengths, ValueRange{bi});
    keyLen = arith::IndexCastOp::create(b, loc, b.getIndexType(), len);
  }
  RankedTensorType maskType =
      mask ? cast<RankedTensorType>(op.getMask().getType()) : nullptr;

  // Loop state: O, O' (qat) tiles, then m and l of both rows.
  SmallVector<Value> init;
  int64_t accCount = (qat ? 2 : 1) * dTiles * 4;
  for (int64_t i = 0; i < accCount; ++i)
    init.push_back(cf(0));
  init.append({cf(-kInf), cf(-kInf), cf(0), cf(0)});
  auto loop = scf::ForOp::create(b, loc, idx(0), numTiles, idx(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    ValueRange st = loop.getRegionIterArgs();
    Value j0 = muli(loop.getInductionVar(), idx(tc::kKeyTile));

    // K and V tiles into shared memory with cp.async, 16 bytes per copy;
    // keys past N are zero-filled (their scores are masked below).
    const int64_t chunksPerRow = D / 8;
    const int64_t copies = tc::kKeyTile * chunksPerRow / tc::kThreads;
    SmallVector<Value> tokens;
    for (int64_t i = 0; i < copies; ++i) {
      Value c = addi(tid, idx(i * tc::kThreads));
      Value r = divu(c, idx(chunksPerRow));
      Value col = muli(remu(c, idx(chunksPerRow)), idx(8));
      Value key = addi(j0, r);
      Value inside = ult(key, N);
      Value src = addi(muli(addi(kvBase, minu(key, arith::SubIOp::create(b, loc, N, idx(1)))),
                            idx(D)),
                       col);
      Value n = sel(inside, idx(8), idx(0));
      for (Value pair : {k, v}) {
        Value dst = pair == k ? kS : vS;
        tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
            b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), dst,
            ValueRange{r, col}, pair, ValueRange{src}, b.getIndexAttr(8), n,
            /*bypassL1=*/b.getUnitAttr()));
      }
    }
    Value group = nvgpu::DeviceAsyncCreateGroupOp::create(
        b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), tokens);
    nvgpu::DeviceAsyncWaitOp::create(b, loc, group, b.getI32IntegerAttr(0));
    gpu::BarrierOp::create(b, loc);

    // S = Q K^T for this warp's 16 rows and the tile's 64 keys.
    SmallVector<Acc> s(nTiles, Acc{cf(0), cf(0), cf(0), cf(0)});
    Value mi = divu(lane, idx(8)), lr = remu(lane, idx(8));
    for (int64_t kc = 0; kc < kChunks; ++kc)
      for (int64_t np = 0; np < nTiles / 2; ++np) {
        // Matrix mi: key tile 2np + mi/2, k half mi%2.
        Value row = addi(addi(idx(np * 16), muli(divu(mi, idx(2)), idx(8))), lr);
        Value col = addi(idx(kc * 16), muli(remu(mi, idx(2)), idx(8)));
        auto bf = ldmatrix4(kS, row, col, /*trans=*/false);
        s[2 * np] = mma(qFrag[kc], bf[0], bf[1], s[2 * np]);
        s[2 * np + 1] = mma(qFrag[kc], bf[2], bf[3], s[2 * np + 1]);
      }

    // Scores in the log2 domain, -inf where masked; the tile's row max.
    Value tileMax[2] = {cf(-kInf), cf(-kInf)};
    for (int64_t nt = 0; nt < nTiles; ++nt)
      for (int64_t e = 0; e < 4; ++e) {
        int64_t r = e / 2;
        Value j = addi(j0, addi(idx(nt * 8 + e % 2), muli(t, idx(2))));
        Value x = mulf(s[nt][e], scale);
        if (mask) {
          Value mb = maskType.getDimSize(0) == 1 ? idx(0) : bi;
          Value mh = maskType.getDimSize(1) == 1 ? idx(0) : h;
          Value mHeads = maskType.getDimSize(1) == 1 ? idx(1) : Hq;
          Value row = minu(rows[r], arith::SubIOp::create(b, loc, M, idx(1)));
          Value col = minu(j, arith::SubIOp::create(b, loc, N, idx(1)));
          Value at = addi(muli(addi(muli(addi(muli(mb, mHeads), mh), M), row), N), col);
          Value mv = memref::LoadOp::create(b, loc, mask, ValueRange{at});
          if (!mv.getType().isF32())
            mv = arith::ExtFOp::create(b, loc, f32(), mv);
          x = addf(x, mv);
        }
        x = mulf(x, cf(kLog2E));
        Value valid = ult(j, N);
        if (op.getCausal())
          valid = arith::AndIOp::create(
              b, loc, valid,
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, j, rows[r]));
        if (keyLen)
          valid = arith::AndIOp::create(b, loc, valid, ult(j, keyLen));
        s[nt][e] = sel(valid, x, cf(-kInf));
        tileMax[r] = maxf(tileMax[r], s[nt][e]);
      }

    // Integer running max (exact alpha), P~ = exp2(s - floor s) 2^(floor s - m).
    Value mNew[2], alpha[2], lNew[2];
    for (int64_t r = 0; r < 2; ++r) {
      Value m = st[accCount + r];
      Value mx = quadReduce(tileMax[r], /*isMax=*/true);
      mNew[r] = maxf(m, math::CeilOp::create(b, loc, mx));
      alpha[r] = sel(isNegInf(m), cf(0), exp2(subf(m, mNew[r])));
      lNew[r] = mulf(alpha[r], st[accCount + 2 + r]);
    }
    SmallVector<Acc> p(nTiles);
    for (int64_t nt = 0; nt < nTiles; ++nt)
      for (int64_t e = 0; e < 4; ++e) {
        int64_t r = e / 2;
        Value x = s[nt][e];
        Value fl = math::FloorOp::create(b, loc, x);
        Value pv = mulf(exp2(subf(x, fl)), exp2(subf(fl, mNew[r])));
        p[nt][e] = sel(isNegInf(x), cf(0), pv);
        lNew[r] = addf(lNew[r], p[nt][e]); // this lane's share of rowsum(P~)
      }

    // P~^F: blocks of 16 (NVFP4) or 32 (MXFP4) keys = 2 or 4 n-tiles; the
    // block amax is shared by the four lanes of a row. Operands carry
    // code x block scale (exact in BF16); the global scale g is applied to
    // O at the end.
    SmallVector<Acc> pq = p;
    if (quantized) {
      FP4FormatAttrInterface pFormat = config.getP();
      float gP = config.getPGlobalScale();
      int64_t tilesPerBlock = pFormat.getBlockSize() / 8;
      for (int64_t blk = 0; blk < nTiles / tilesPerBlock; ++blk)
        for (int64_t r = 0; r < 2; ++r) {
          Value amax = cf(0);
          for (int64_t nt = blk * tilesPerBlock; nt < (blk + 1) * tilesPerBlock; ++nt)
            for (int64_t e = 2 * r; e < 2 * r + 2; ++e)
              amax = maxf(amax, math::AbsFOp::create(b, loc, p[nt][e]));
          amax = quadReduce(amax, /*isMax=*/true);
          Value bs = fp.blockScale(pFormat, amax, gP);
          for (int64_t nt = blk * tilesPerBlock; nt < (blk + 1) * tilesPerBlock; ++nt)
            for (int64_t e = 2 * r; e < 2 * r + 2; ++e)
              pq[nt][e] = mulf(fp.quantizeElement(p[nt][e], bs, gP), bs);
        }
    }

    // O = alpha O + P~^F V;  O' = alpha O' + P~ V (qat).
    SmallVector<Value> next;
    auto scaled = [&](int64_t base) {
      SmallVector<Acc> accs(dTiles);
      for (int64_t dt = 0; dt < dTiles; ++dt)
        for (int64_t e = 0; e < 4; ++e)
          accs[dt][e] = mulf(alpha[e / 2], st[base + dt * 4 + e]);
      return accs;
    };
    SmallVector<Acc> oAcc = scaled(0);
    SmallVector<Acc> opAcc = qat ? scaled(dTiles * 4) : SmallVector<Acc>{};
    auto aFrag = [&](ArrayRef<Acc> x, int64_t kc) {
      return SmallVector<Value>{packBF16(x[2 * kc][0], x[2 * kc][1]),
                                packBF16(x[2 * kc][2], x[2 * kc][3]),
                                packBF16(x[2 * kc + 1][0], x[2 * kc + 1][1]),
                                packBF16(x[2 * kc + 1][2], x[2 * kc + 1][3])};
    };
    for (int64_t kc = 0; kc < tc::kKeyTile / 16; ++kc) {
      SmallVector<Value> aq = aFrag(pq, kc);
      SmallVector<Value> ap = qat ? aFrag(p, kc) : SmallVector<Value>{};
      for (int64_t dp = 0; dp < dTiles / 2; ++dp) {
        // Matrix mi: key half mi%2, d tile 2dp + mi/2 (transposed: V is
        // stored key-major, the B operand wants k = key pairs per lane).
        Value row = addi(addi(idx(kc * 16), muli(remu(mi, idx(2)), idx(8))), lr);
        Value col = muli(addi(idx(2 * dp), divu(mi, idx(2))), idx(8));
        auto bf = ldmatrix4(vS, row, col, /*trans=*/true);
        oAcc[2 * dp] = mma(aq, bf[0], bf[1], oAcc[2 * dp]);
        oAcc[2 * dp + 1] = mma(aq, bf[2], bf[3], oAcc[2 * dp + 1]);
        if (qat) {
          opAcc[2 * dp] = mma(ap, bf[0], bf[1], opAcc[2 * dp]);
          opAcc[2 * dp + 1] = mma(ap, bf[2], bf[3], opAcc[2 * dp + 1]);
        }
      }
    }
    // Every warp is done with this tile before the next one overwrites it.
    gpu::BarrierOp::create(b, loc);
    for (const Acc &x : oAcc)
      next.append(x.begin(), x.end());
    for (const Acc &x : opAcc)
      next.append(x.begin(), x.end());
    next.append({mNew[0], mNew[1], lNew[0], lNew[1]});
    scf::YieldOp::create(b, loc, next);
  }

  // Epilogue: l over the row's lanes; O /= l (times g for P^F), LSE.
  ValueRange fin = loop.getResults();
  float gP = quantized ? config.getPGlobalScale() : 1.0f;
  Type oElt = cast<MemRefType>(o.getType()).getElementType();
  for (int64_t r = 0; r < 2; ++r) {
    Value m = fin[accCount + r];
    Value l = quadReduce(fin[accCount + 2 + r], /*isMax=*/false);
    Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, l, cf(0));
    Value inv = sel(empty, cf(0), arith::DivFOp::create(b, loc, cf(1), l));
    Value lse = sel(empty, cf(-kInf), addf(m, math::Log2Op::create(b, loc, l)));
    Value row = rows[r];
    auto ifRow = scf::IfOp::create(b, loc, rowValid[r], /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifRow.getThenRegion().front());
    Value rowAt = addi(qBase, row);
    auto ifLead = scf::IfOp::create(
        b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, t, idx(0)),
        /*withElse=*/false);
    {
      OpBuilder::InsertionGuard g2(b);
      b.setInsertionPointToStart(&ifLead.getThenRegion().front());
      memref::StoreOp::create(b, loc, m, mOut, ValueRange{rowAt});
      memref::StoreOp::create(b, loc, l, lOut, ValueRange{rowAt});
      memref::StoreOp::create(b, loc, lse, lseOut, ValueRange{rowAt});
    }
    Value oScale = gP == 1.0f ? inv : mulf(inv, cf(gP));
    auto storePairs = [&](Value dst, int64_t base, Value factor) {
      Type elt = cast<MemRefType>(dst.getType()).getElementType();
      for (int64_t dt = 0; dt < dTiles; ++dt) {
        Value x0 = mulf(fin[base + dt * 4 + 2 * r], factor);
        Value x1 = mulf(fin[base + dt * 4 + 2 * r + 1], factor);
        if (elt != f32()) {
          x0 = arith::TruncFOp::create(b, loc, elt, x0);
          x1 = arith::TruncFOp::create(b, loc, elt, x1);
        }
        Value pair = vector::FromElementsOp::create(
            b, loc, VectorType::get({2}, elt), ValueRange{x0, x1});
        Value at = addi(muli(rowAt, idx(D)), addi(idx(dt * 8), muli(t, idx(2))));
        vector::StoreOp::create(b, loc, pair, dst, ValueRange{at},
                                /*nontemporal=*/false,
                                llvm::Align(2 * elt.getIntOrFloatBitWidth() / 8));
      }
    };
    (void)oElt;
    storePairs(o, 0, oScale);
    if (qat)
      storePairs(oPrime, dTiles * 4, inv);
  }
}

} // namespace

namespace mlir::attnqat::tc {

int64_t headDim(AttentionOp op) {
  return op.getQuery().getType().getDimSize(3);
}

bool coversForward(AttentionOp op, std::string &why) {
  if (op.getConfig().getMode() == Mode::FP4) {
    why = "mode fp4";
    return false;
  }
  if (!op.getQuery().getType().getElementType().isBF16()) {
    why = "non-bf16 operands";
    return false;
  }
  int64_t d = headDim(op);
  if (d != 64 && d != 128) {
    why = "a head dim other than 64 or 128";
    return false;
  }
  return true;
}

void buildForward(gpu::GPUFuncOp func, AttentionOp op) {
  ForwardBuilder(func, op).build();
}

} // namespace mlir::attnqat::tc
