//===- WgmmaBackward.cpp - the sm_90a backward on wgmma -------------------===//
//
// The mma.sync backward's algorithm (TensorCoreAttention.cpp: dK/dV
// stationary, a block owns 64 keys of one KV head and walks the query
// tiles of every query head of its group, recomputing P~ in the forward's
// final frame and its quantization) with its five products on warpgroup
// MMA, operands straight from 128-byte-swizzled shared memory (WgmmaBuilder.h):
//
//   S^T  = K Q^T      m64n64k16,  A = K, B = Q    (both K-major)
//   dV  += P^F^T dO   m64n<D>k16, A = P^F^T from registers, B = dO (MN-major)
//   dP^T = V dO^T     m64n64k16,  A = V, B = dO   (both K-major)
//   dK  += dS^T Q     m64n<D>k16, A = dS^T from registers, B = Q (MN-major)
//   dQ   = dS K       m64n<D>k16, A = dS^T in shared memory read transposed,
//                     B = K (MN-major); added to dq_acc with f32x2 reductions
//
// One warpgroup (four warps; warp w owns keys 16w..16w+15, the wgmma
// accumulator rows it holds), so the register-level code (score, P~, the P
// codec, dS) is TileBuilder's, as in the mma.sync kernel. Q and dO of the
// next work item load by cp.async into the other of two stages while one is
// used.
//
//===----------------------------------------------------------------------===//

#include "TensorCoreAttention.h"
#include "WgmmaBuilder.h"

using namespace mlir;
using namespace mlir::attnqat;
using namespace mlir::attnqat::tc::detail;

namespace {

/// Byte offsets from the 1024-aligned base: K and V (the block's keys),
/// Q and dO (two stages each), dS^T ([64 keys][64 rows]).
struct WgBackwardLayout {
  int64_t k, v, q[2], dO[2], dS, total;
  explicit WgBackwardLayout(int64_t d) {
    int64_t tile = tc::kKeyTile * d * 2;
    k = 0;
    v = tile;
    q[0] = 2 * tile;
    q[1] = 3 * tile;
    dO[0] = 4 * tile;
    dO[1] = 5 * tile;
    dS = 6 * tile;
    total = dS + tc::kKeyTile * tc::kQueryTile * 2 + kAtomBytes; // slack to align
  }
};

class WgmmaBackwardBuilder : public WgmmaBuilder {
public:
  WgmmaBackwardBuilder(gpu::GPUFuncOp func, AttentionBackwardOp op, bool dumpP)
      : WgmmaBuilder(func, op.getState().getType().getConfig(),
                     op.getState().getType().getQuery().getDimSize(3)),
        op(op), dumpP(dumpP), sl(D) {}
  void build();

private:
  AttentionBackwardOp op;
  bool dumpP;
  WgBackwardLayout sl;

  /// Waits for the copies of all but the `pending` newest groups, makes
  /// them visible to wgmma, then for every thread of the block.
  void waitCopies(Value group, int32_t pending) {
    nvgpu::DeviceAsyncWaitOp::create(b, loc, group, b.getI32IntegerAttr(pending));
    fenceProxyAsync();
    gpu::BarrierOp::create(b, loc);
  }
  /// K-major descriptor of k-step kc (16 along D) of a [64][D] tile.
  Value kMajor(Value tileAt, int64_t kc) {
    return descriptor(addi(tileAt, idx((kc / 4) * tc::kKeyTile * kRowBytes + (kc % 4) * 32)),
                      16);
  }
  /// MN-major descriptor of k-step kc (16 rows) of a [64][n] tile.
  Value mnMajor(Value tileAt, int64_t kc) {
    return descriptor(addi(tileAt, idx(kc * 2 * kAtomBytes)), tc::kKeyTile * kRowBytes);
  }
};

void WgmmaBackwardBuilder::build() {
  StateType st = op.getState().getType();
  bool quantizeP = config.getMode() == Mode::QAT; // dV from P^F; else from P
  auto [q, k, v, qP, kP, vP, mask, lengths, mIn, lIn, deltaIn, dO, dq, dk, dv, dump, Hq, Hkv,
        M, N, scale] = takeBackwardParams(st, /*packed=*/false, dumpP);

  const int64_t kChunks = D / 16;            // k-steps over D
  const int64_t dTiles = D / 8;              // n-tiles of dK, dV, dQ
  const int64_t rTiles = tc::kQueryTile / 8; // n-tiles of S^T (query rows)
  const int64_t rowSteps = tc::kQueryTile / 16, keySteps = tc::kKeyTile / 16;

  auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  // Two stages of the rows' statistics (item w reads stage w % 2 while the
  // next item's are derived into the other), and two stages of the raw m,
  // l, D that item w's prefetch copies into stage w % 2 ([stage][2 copies]
  // [3][64]: both halves of the block copy every row, so each thread's
  // copies are unconditional; the stages keep a copy from landing where
  // the previous item's may still be in flight).
  Value statS = func.addWorkgroupAttribution(MemRefType::get({2 * kBackwardStats,
                                                              tc::kQueryTile},
                                                             f32(), MemRefLayoutAttrInterface{},
                                                             workgroup),
                                             loc);
  constexpr int64_t kRaw = 3, kRawStage = 2 * kRaw; // m, l, D; two copies
  Value rawS = func.addWorkgroupAttribution(MemRefType::get({2 * kRawStage, tc::kQueryTile}, f32(),
                                                            MemRefLayoutAttrInterface{}, workgroup),
                                            loc);
  setUpShared(sl.total);

  BackwardBlock bb = backwardBlock(Hq, Hkv, N);
  Value tid = bb.tid, hk = bb.hk, bi = bb.bi, j0 = bb.j0, kw0 = bb.kw0, kvBase = bb.kvBase;
  const Value *keys = bb.keys;
  if (quantizeP) // dV's P^F
    setUpPCodecTable(tid, tc::kThreads);

  SmallVector<Value> tokens;
  copyRows(tid, k, kvBase, j0, N, tc::kKeyTile, idx(sl.k), &tokens);
  copyRows(tid, v, kvBase, j0, N, tc::kKeyTile, idx(sl.v), &tokens);
  waitCopies(commit(tokens), 0);

  Masking mk = backwardMasking(st, mask, lengths, bi, M, N, Hq, scale);
  BackwardItems work = backwardItems(bb, mk.causal, M);
  Value items = work.count;
  auto item = [&](Value w) { return backwardItem(bb, work, w, Hq, M); };
  const int64_t stageBytes = sl.q[1] - sl.q[0];
  auto stageAt = [&](int64_t base, Value stage) {
    return addi(idx(base), muli(stage, idx(stageBytes)));
  };
  auto loadItem = [&](Value w) {
    return backwardPrefetch(
        bb, work, w, Hq, M,
        [&](Value qBase, Value i0, Value stage, SmallVector<Value> &tokens) {
          copyRows(tid, q, qBase, i0, M, tc::kQueryTile, stageAt(sl.q[0], stage), &tokens);
          copyRows(tid, dO, qBase, i0, M, tc::kQueryTile, stageAt(sl.dO[0], stage), &tokens);
          Value r = remu(tid, idx(tc::kQueryTile));
          Value at = addi(qBase, clampTo(addi(i0, r), M));
          Value half =
              addi(muli(stage, idx(kRawStage)), muli(divu(tid, idx(tc::kQueryTile)), idx(kRaw)));
          for (auto [i, src] : llvm::enumerate(std::array<Value, 3>{mIn, lIn, deltaIn}))
            tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
                b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), rawS,
                ValueRange{addi(half, idx(i)), r}, src, ValueRange{at}, b.getIndexAttr(1),
                Value(), UnitAttr()));
        });
  };
  const float gP = quantizeP ? config.getPGlobalScale() : 1.0f;
  when(ult(idx(0), items), [&] {
    loadItem(idx(0));
    auto [h0, i00, qBase0] = item(idx(0));
    storeBackwardStats(tid, statS, mIn, lIn, deltaIn, i00, qBase0, M, scale, gP, idx(0));
  });

  SmallVector<Value> init(2 * dTiles * 4, cf(0));
  auto tiles = scf::ForOp::create(b, loc, idx(0), items, idx(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(tiles.getBody());
    ValueRange carried = tiles.getRegionIterArgs();
    Value w = tiles.getInductionVar();
    auto [h, i0, qBase] = item(w);
    mk.h = h;
    Value stage = remu(w, idx(2));
    Value qAt = stageAt(sl.q[0], stage), doAt = stageAt(sl.dO[0], stage);
    Value prefetch = loadItem(addi(w, idx(1)));
    statStage = muli(stage, idx(kBackwardStats));
    waitCopies(prefetch, /*pending=*/1);

    // S^T = K Q^T: the block's 64 keys x the tile's 64 rows.
    SmallVector<Value> sAcc(rTiles * 4, cf(0));
    fence(sAcc);
    for (int64_t kc = 0; kc < kChunks; ++kc)
      wgmma(sAcc, {}, kMajor(idx(sl.k), kc), kMajor(qAt, kc), /*transB=*/false);
    commitAndWait(sAcc);
    SmallVector<Acc> p, pf;
    backwardP(mk, asTiles(sAcc), statS, i0, qBase, M, N, j0, kw0, keys, quantizeP, dump, p,
              pf);

    // dV += P^F^T dO and dP^T = V dO^T, issued together.
    SmallVector<Value> dvAcc(carried.begin() + dTiles * 4, carried.end());
    SmallVector<Value> dpAcc(rTiles * 4, cf(0));
    SmallVector<Value> frags;
    for (int64_t kc = 0; kc < rowSteps; ++kc)
      llvm::append_range(frags, aFromAcc(pf, kc));
    frags = fence({&dvAcc, &dpAcc}, frags);
    for (int64_t kc = 0; kc < rowSteps; ++kc)
      wgmma(dvAcc, ArrayRef<Value>(frags).slice(4 * kc, 4), Value(), mnMajor(doAt, kc),
            /*transB=*/true);
    for (int64_t kc = 0; kc < kChunks; ++kc)
      wgmma(dpAcc, {}, kMajor(idx(sl.v), kc), kMajor(doAt, kc), /*transB=*/false);
    commitAndWait({&dvAcc, &dpAcc});
    SmallVector<Acc> dS = asTiles(dpAcc);
    backwardDS(dS, p, statS);

    // dS^T in BF16 pairs: dK's A fragments, and to shared memory ([key][row],
    // swizzled: the A operand of dQ read transposed).
    SmallVector<Value> dsFrags;
    for (int64_t kc = 0; kc < rowSteps; ++kc)
      llvm::append_range(dsFrags, aFromAcc(dS, kc));
    for (int64_t kc = 0; kc < rowSteps; ++kc) {
      ArrayRef<Value> frag = ArrayRef<Value>(dsFrags).slice(4 * kc, 4);
      for (int64_t i = 0; i < 4; ++i) {
        // Fragment i: key g (+8 for i odd), rows 16 kc + 2t (+8 for i >= 2).
        Value key = addi(kw0, addi(g, idx(8 * (i % 2))));
        Value chunk = idx(2 * kc + i / 2);
        Value at = addi(swizzled(idx(sl.dS), tc::kKeyTile, key, chunk), muli(t, idx(4)));
        Value pair = vector::BitCastOp::create(
            b, loc, VectorType::get({2}, bf16()),
            vector::FromElementsOp::create(b, loc, VectorType::get({1}, i32()),
                                           ValueRange{frag[i]}));
        vector::StoreOp::create(b, loc, pair, smemBf16, ValueRange{divu(addi(pad, at), idx(2))});
      }
    }
    // dK += dS^T Q.
    SmallVector<Value> dkAcc(carried.begin(), carried.begin() + dTiles * 4);
    dsFrags = fence({&dkAcc}, dsFrags);
    for (int64_t kc = 0; kc < rowSteps; ++kc)
      wgmma(dkAcc, ArrayRef<Value>(dsFrags).slice(4 * kc, 4), Value(), mnMajor(qAt, kc),
            /*transB=*/true);
    commitAndWait(dkAcc);
    // Every warp's dS^T in shared memory, seen by wgmma; then dQ = dS K
    // (rows 16w..16w+15 per warp) added to dq_acc.
    fenceProxyAsync();
    gpu::BarrierOp::create(b, loc);
    SmallVector<Value> dqAcc(dTiles * 4, cf(0));
    fence(dqAcc);
    for (int64_t kc = 0; kc < keySteps; ++kc)
      wgmma(dqAcc, {}, mnMajor(idx(sl.dS), kc), mnMajor(idx(sl.k), kc), /*transB=*/true,
            /*transA=*/true);
    // While dQ multiplies: the next item's statistics from the raw values
    // its prefetch copied (this thread's own copies: its wait suffices),
    // published by the barrier that ends this item.
    when(ult(tid, idx(tc::kQueryTile)), [&] {
      nvgpu::DeviceAsyncWaitOp::create(b, loc, prefetch, b.getI32IntegerAttr(0));
      auto [hn, in0, qBasen] = item(minu(addi(w, idx(1)), subi(items, idx(1))));
      auto raw = [&](int64_t i) {
        Value at = addi(muli(subi(idx(1), stage), idx(kRawStage)), idx(i));
        return memref::LoadOp::create(b, loc, rawS, ValueRange{at, tid}).getResult();
      };
      storeRowStats(tid, statS, raw(0), raw(1), raw(2), ult(addi(in0, tid), M), scale, gP,
                    muli(subi(idx(1), stage), idx(kBackwardStats)));
    });
    commitAndWait(dqAcc);
    for (int64_t r = 0; r < 2; ++r) {
      Value row = addi(i0, addi(kw0, addi(g, idx(8 * r))));
      when(ult(row, M), [&] {
        Value rowAt = muli(addi(qBase, row), idx(D));
        SmallVector<std::pair<Value, Value>> pairs;
        for (int64_t dt = 0; dt < dTiles; ++dt)
          pairs.push_back({dqAcc[dt * 4 + 2 * r], dqAcc[dt * 4 + 2 * r + 1]});
        atomicAddPairs(dq, addi(rowAt, muli(t, idx(2))), pairs);
      });
    }
    // Q, dO and dS^T are rewritten by the next item.
    gpu::BarrierOp::create(b, loc);
    SmallVector<Value> next(dkAcc);
    next.append(dvAcc.begin(), dvAcc.end());
    scf::YieldOp::create(b, loc, next);
  }

  // dK and dV of the warp's keys (keys past N are not written).
  ValueRange fin = tiles.getResults();
  for (int64_t r = 0; r < 2; ++r)
    when(ult(keys[r], N), [&] {
      Value keyAt = addi(kvBase, keys[r]);
      storeRowPairs(dk, keyAt, fin, 0, dTiles, r, cf(1));
      storeRowPairs(dv, keyAt, fin, dTiles * 4, dTiles, r, cf(1));
    });
}

} // namespace

int64_t tc::wgmmaBackwardSharedBytes(int64_t d) { return WgBackwardLayout(d).total; }

void tc::buildWgmmaBackward(gpu::GPUFuncOp func, AttentionBackwardOp op, bool dumpP) {
  WgmmaBackwardBuilder(func, op, dumpP).build();
}
