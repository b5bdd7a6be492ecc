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
//   dQ   = dS K       m64n<D/2>k16 per warpgroup, A = dS^T in shared memory
//                     read transposed, B = K (MN-major); the tile added to
//                     dq_tiles by one bulk reduction
//
// Warp w owns keys 16w..16w+15 (the wgmma accumulator rows it holds), so
// the register-level code (score, P~, the P codec, dS) is TileBuilder's, as
// in the mma.sync kernel. Q and dO of the next work item load into the
// other of two stages while one is used: by cp.async from every thread, or
// with tensor maps (`backward-tma-loads`) by TMA from one thread, each
// stage's arrival counted by an mbarrier.
//
// A block is two warpgroups on 128 keys (64 each, with their own dK and dV)
// sharing the Q and dO tiles: dQ = dS K then runs over all 128 keys,
// warpgroup c computing its half of the columns, so dQ's f32 reductions
// are half as many per query row as with a block of 64 keys. dK and dV are
// stored in BF16.
//
//===----------------------------------------------------------------------===//

#include "TensorCoreAttention.h"
#include "WgmmaBuilder.h"

using namespace mlir;
using namespace mlir::attnqat;
using namespace mlir::attnqat::tc::detail;

namespace {

/// Warpgroups of a block, each owning 64 keys.
constexpr int64_t kGroups = 2;

/// Byte offsets from the 1024-aligned base: K and V (a [64][D] tile per
/// warpgroup), Q and dO (two stages each), dS^T ([64 x groups keys][64
/// rows]), the item's dQ tile in f32 (dq_tiles' layout), and with TMA
/// loads the mbarriers their bytes complete on (K and V, then a Q/dO stage
/// each).
struct WgBackwardLayout {
  static constexpr int64_t kKVFull = 0, kStageFull = 1, kTmaBarriers = 3;
  int64_t tile, k, v, q[2], dO[2], dS, dQ, barriers, total;
  WgBackwardLayout(int64_t d, bool tma) {
    tile = tc::kKeyTile * d * 2;
    k = 0;
    v = kGroups * tile;
    q[0] = 2 * kGroups * tile;
    q[1] = q[0] + tile;
    dO[0] = q[0] + 2 * tile;
    dO[1] = q[0] + 3 * tile;
    dS = q[0] + 4 * tile;
    dQ = dS + kGroups * tc::kKeyTile * tc::kQueryTile * 2;
    barriers = dQ + tc::kQueryTile * d * 4;
    total = barriers + (tma ? kTmaBarriers * 8 : 0) + kAtomBytes; // slack to align
  }
};

class WgmmaBackwardBuilder : public WgmmaBuilder {
public:
  WgmmaBackwardBuilder(gpu::GPUFuncOp func, AttentionBackwardOp op, bool dumpP)
      : WgmmaBuilder(func, op.getState().getType().getConfig(),
                     op.getState().getType().getQuery().getDimSize(3)),
        op(op), dumpP(dumpP), tma(func->hasAttr("attnqat.tensor_maps")), sl(D, tma) {}
  void build();

private:
  AttentionBackwardOp op;
  bool dumpP;
  bool tma; // Q, dO, K, V by TMA (`backward-tma-loads`: the kernel takes tensor maps)
  WgBackwardLayout sl;

  /// Byte `at` (index) from the aligned base as a shared-window address.
  Value sharedAddress(Value at) { return arith::AddIOp::create(b, loc, baseAddr, toI32(at)); }
  /// K-major descriptor of k-step kc (16 along D) of a [64][D] tile.
  Value kMajor(Value tileAt, int64_t kc) {
    return descriptor(addi(tileAt, idx((kc / 4) * tc::kKeyTile * kRowBytes + (kc % 4) * 32)),
                      16);
  }
  /// MN-major descriptor of k-step kc (16 rows) of a tile of rows, or with
  /// `tileBytes`, of [64][n] tiles that far apart (K over the block's keys).
  Value mnMajor(Value tileAt, int64_t kc, int64_t tileBytes = 0) {
    int64_t at = tileBytes ? (kc / 4) * tileBytes + (kc % 4) * 2 * kAtomBytes : kc * 2 * kAtomBytes;
    return descriptor(addi(tileAt, idx(at)), tc::kKeyTile * kRowBytes);
  }
};

void WgmmaBackwardBuilder::build() {
  StateType st = op.getState().getType();
  bool quantizeP = config.getMode() == Mode::QAT; // dV from P^F; else from P
  auto [q, k, v, qP, kP, vP, mask, lengths, mIn, lIn, deltaIn, dO, dq, dk, dv, dump, Hq, Hkv,
        M, N, scale] = takeBackwardParams(st, /*packed=*/false, dumpP);
  // With TMA: the tensor maps.
  Value qMap, kMap, vMap, doMap;
  if (tma) {
    qMap = paramOfRole("q_map"), kMap = paramOfRole("k_map");
    vMap = paramOfRole("v_map"), doMap = paramOfRole("do_map");
  }

  const int64_t kChunks = D / 16;            // k-steps over D
  const int64_t dTiles = D / 8;              // n-tiles of dK, dV
  const int64_t dqCols = D / kGroups;        // dQ columns of a warpgroup
  const int64_t rTiles = tc::kQueryTile / 8; // n-tiles of S^T (query rows)
  const int64_t rowSteps = tc::kQueryTile / 16;
  const int64_t blockKeys = kGroups * tc::kKeyTile, keySteps = blockKeys / 16;
  const int64_t threads = kGroups * tc::kThreads;

  auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  // Two stages of the rows' statistics (item w reads stage w % 2 while the
  // next item's are derived into the other), and two stages of the raw m,
  // l, D that item w's prefetch copies into stage w % 2 ([stage][slot][64]:
  // the block's 64-thread groups each copy one of m, l, D (the fourth D
  // again), so every thread makes one copy, unconditionally; the stages
  // keep a copy from landing where the previous item's may still be in
  // flight).
  Value statS = func.addWorkgroupAttribution(MemRefType::get({2 * kBackwardStats,
                                                              tc::kQueryTile},
                                                             f32(), MemRefLayoutAttrInterface{},
                                                             workgroup),
                                             loc);
  const int64_t kRawStage = threads / tc::kQueryTile; // slots: m, l, D, D
  Value rawS = func.addWorkgroupAttribution(MemRefType::get({2 * kRawStage, tc::kQueryTile}, f32(),
                                                            MemRefLayoutAttrInterface{}, workgroup),
                                            loc);
  setUpShared(sl.total);

  BackwardBlock bb = backwardBlock(Hq, Hkv, N, blockKeys);
  Value tid = bb.tid, bi = bb.bi, j0 = bb.j0, kw0 = bb.kw0, kvBase = bb.kvBase;
  // With TMA, one arrival (the issuing thread's, with the bytes) completes
  // each mbarrier's phase.
  Value isIssuer = eqi(tid, idx(0));
  if (tma) {
    when(isIssuer, [&] {
      for (int64_t i = 0; i < WgBackwardLayout::kTmaBarriers; ++i)
        NVVM::MBarrierInitOp::create(b, loc, mbarrier(sl.barriers, i), i32c(1), Value());
    });
    gpu::BarrierOp::create(b, loc);
  }
  auto stageFull = [&](Value stage) {
    return mbarrier(sl.barriers, WgBackwardLayout::kStageFull, stage);
  };
  const Value *keys = bb.keys;
  // The warpgroup, its thread, its K and V tiles, and the warp's first row
  // of an m64 accumulator over query rows (dQ's).
  Value wg = divu(tid, idx(tc::kThreads)), wtid = remu(tid, idx(tc::kThreads));
  Value wgTile = muli(wg, idx(sl.tile));
  Value rw0 = muli(remu(bb.warp, idx(4)), idx(16));
  if (quantizeP) { // dV's P^F
    setUpPCodecTable(tid, threads);
    setUpPExchange(threads / 32);
  }

  // K and V: waited for with item 0's Q and dO, before the loop.
  const int64_t colBlock = tc::kKeyTile * kRowBytes; // of a [64][D] tile
  if (tma) {
    // Boxes of 64 columns by a warpgroup's 64 keys.
    when(isIssuer, [&] {
      Value kv = mbarrier(sl.barriers, WgBackwardLayout::kKVFull);
      expectBytes(kv, 2 * kGroups * sl.tile);
      Value head = toI32(addi(muli(bi, Hkv), bb.hk));
      for (int64_t c = 0; c < kGroups; ++c)
        for (int64_t cb = 0; cb < D / 64; ++cb) {
          SmallVector<Value> at{i32c(cb * 64), toI32(addi(j0, idx(c * tc::kKeyTile))), head};
          int64_t off = c * sl.tile + cb * colBlock;
          tmaLoad(kMap, idx(sl.k + off), at, kv);
          tmaLoad(vMap, idx(sl.v + off), at, kv);
        }
    });
  } else {
    Value wgKeys = addi(j0, muli(wg, idx(tc::kKeyTile)));
    copyRows(wtid, k, kvBase, wgKeys, N, tc::kKeyTile, addi(idx(sl.k), wgTile));
    copyRows(wtid, v, kvBase, wgKeys, N, tc::kKeyTile, addi(idx(sl.v), wgTile));
  }

  Masking mk = backwardMasking(st, mask, lengths, bi, M, N, Hq, scale);
  BackwardItems work = backwardItems(bb, mk.causal, M, /*fastDivide=*/true);
  Value items = work.count;
  Value qTiles = b.createOrFold<arith::CeilDivUIOp>(loc, M, idx(tc::kQueryTile));
  auto item = [&](Value w) { return backwardItem(bb, work, w, Hq, M); };
  const int64_t stageBytes = sl.q[1] - sl.q[0];
  auto stageAt = [&](int64_t base, Value stage) {
    return addi(idx(base), muli(stage, idx(stageBytes)));
  };
  // The first warpgroup copies Q and the second dO; or one thread loads
  // both by TMA, in boxes of 64 columns by the item's 64 rows.
  Value copiesQ =
      tma ? Value() : arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, wg, idx(0));
  auto loadItem = [&](Value w) {
    return backwardPrefetch(
        bb, work, w, Hq, M,
        [&](Value h, Value qBase, Value i0, Value stage, SmallVector<Value> &tokens) {
          if (tma) {
            when(isIssuer, [&] {
              Value full = stageFull(stage);
              expectBytes(full, 2 * sl.tile);
              Value head = toI32(addi(muli(bi, Hq), h));
              for (int64_t cb = 0; cb < D / 64; ++cb) {
                SmallVector<Value> at{i32c(cb * 64), toI32(i0), head};
                tmaLoad(qMap, addi(stageAt(sl.q[0], stage), idx(cb * colBlock)), at, full);
                tmaLoad(doMap, addi(stageAt(sl.dO[0], stage), idx(cb * colBlock)), at, full);
              }
            });
          } else {
            Value src = arith::SelectOp::create(b, loc, copiesQ, q, dO);
            Value dst = sel(copiesQ, stageAt(sl.q[0], stage), stageAt(sl.dO[0], stage));
            copyRows(wtid, src, qBase, i0, M, tc::kQueryTile, dst, &tokens);
          }
          // One copy per thread: three of them each, ptxas put their 64-bit
          // addresses in one register pair, and each waited for the copy
          // before it to read its operands. The thread index is opaque so
          // that the source, row and slot are made anew in each item:
          // hoisted out of the loop they held registers across it, ptxas 13
          // spilled 20-28 bytes at D = 128, and qat's backward at 16k keys
          // ran 2% slower than before (H200) instead of 10% faster.
          Value t = opaque(tid);
          Value r = remu(t, idx(tc::kQueryTile)), slot = divu(t, idx(tc::kQueryTile));
          Value at = addi(qBase, clampTo(addi(i0, r), M));
          Value raw = arith::SelectOp::create(
              b, loc, eqi(slot, idx(0)), mIn,
              arith::SelectOp::create(b, loc, eqi(slot, idx(1)), lIn, deltaIn));
          tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
              b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), rawS,
              ValueRange{addi(muli(stage, idx(kRawStage)), slot), r}, raw, ValueRange{at},
              b.getIndexAttr(1), Value(), UnitAttr()));
        });
  };
  const float gP = quantizeP ? config.getPGlobalScale() : 1.0f;
  when(ult(idx(0), items), [&] {
    loadItem(idx(0));
    auto [h0, i00, qBase0] = item(idx(0));
    storeBackwardStats(tid, statS, mIn, lIn, deltaIn, i00, qBase0, M, scale, gP, idx(0));
  });
  // K, V and item 0's Q and dO seen by every warpgroup (wait_all commits
  // what is uncommitted); later items' are waited for by the barrier that
  // ends the item before them. TMA's arrive through the async proxy: each
  // thread waits for their mbarriers.
  effectAsm({}, "", "cp.async.wait_all;");
  fenceProxyAsync();
  if (tma) {
    waitUse(mbarrier(sl.barriers, WgBackwardLayout::kKVFull), idx(0));
    when(ult(idx(0), items), [&] { waitUse(stageFull(idx(0)), idx(0)); });
  }
  gpu::BarrierOp::create(b, loc);

  // S^T = K Q^T (the warpgroup's 64 keys x the tile's 64 rows) of the item
  // whose Q is in `qAt`, committed as one group; its fence also covers
  // `alsoFenced` when given (dP^T's accumulators, issued next).
  auto issueST = [&](Value kAt, Value qAt, SmallVector<Value> *alsoFenced = nullptr) {
    SmallVector<Value> acc(rTiles * 4, cf(0));
    if (alsoFenced)
      fence({&acc, alsoFenced}, {});
    else
      fence(acc);
    for (int64_t kc = 0; kc < kChunks; ++kc)
      wgmma(acc, {}, kMajor(kAt, kc), kMajor(qAt, kc), /*transB=*/false);
    commitGroup(acc);
    return acc;
  };
  // Item w's S^T is issued at the end of item w - 1 (below) and carried
  // finished; item 0's here (with no item, on stage 0's unused bytes).
  // Causal at D = 128 issues it at the item's start: carried, ptxas 13
  // spilled 124-204 bytes there.
  const bool earlyS = !(st.getCausal() && D == 128);
  SmallVector<Value> init(2 * dTiles * 4, cf(0));
  if (earlyS) {
    SmallVector<Value> s0 = issueST(addi(idx(sl.k), wgTile), idx(sl.q[0]));
    waitGroup(s0, 0);
    init.append(s0);
  }
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
    // The warpgroup's tiles from an offset made anew in each item: hoisted
    // out of the loop, the descriptors derived from it (not uniform, unlike
    // the shared tiles') would hold two dozen registers.
    Value wgOff = opaque(wgTile);
    Value kAt = addi(idx(sl.k), wgOff), vAt = addi(idx(sl.v), wgOff);
    Value prefetch = loadItem(addi(w, idx(1)));
    statStage = muli(stage, idx(kBackwardStats));
    pExchangeStage = stage;

    // dP^T = V dO^T multiplies while P and its codec run; but the
    // quantized modes at D = 128 have no registers for dP^T's accumulators
    // during the codec, and issue it after P. S^T came finished from the
    // item before, or (causal, D = 128) is issued here: then, with dP^T
    // early, one fence covers both accumulators (a fence of its own before
    // dP^T made ptxas spill 84 bytes in mode none at D = 128).
    const bool earlyDP = !(quantizeP && D == 128);
    SmallVector<Value> sAcc(carried.begin() + 2 * dTiles * 4, carried.end());
    SmallVector<Value> dpAcc(rTiles * 4, cf(0));
    const bool sharedFence = earlyDP && !earlyS;
    auto issueDP = [&] {
      if (!sharedFence)
        fence(dpAcc);
      for (int64_t kc = 0; kc < kChunks; ++kc)
        wgmma(dpAcc, {}, kMajor(vAt, kc), kMajor(doAt, kc), /*transB=*/false);
      commitGroup(dpAcc);
    };
    if (!earlyS)
      sAcc = issueST(kAt, qAt, sharedFence ? &dpAcc : nullptr);
    if (earlyDP)
      issueDP();
    if (!earlyS)
      waitGroup(sAcc, earlyDP ? 1 : 0);
    SmallVector<Acc> p, pf;
    auto runP = [&](const Masking &m) {
      backwardP(m, asTiles(sAcc), statS, i0, qBase, M, N, j0, kw0, keys, quantizeP, dump, p, pf);
    };
    // Causal: only the items on the diagonal (rows before the block's last
    // key) test key <= row. H200, same run, backward alone at 16k keys:
    // D = 128 qat +3%, none +6%, dropin +2%; D = 64 qat -2%, so there only
    // mode none (+3%) takes it.
    if (mk.causal && (D == 128 || !config.isQuantized())) {
      Masking below = mk;
      below.causal = false;
      Value diagonal = ult(i0, addi(j0, idx(blockKeys)));
      const int64_t pCount = rTiles * 4 * 2;
      auto ifDiag = scf::IfOp::create(b, loc, SmallVector<Type>(pCount, f32()), diagonal,
                                      /*withElseRegion=*/true);
      auto branch = [&](Region &r, const Masking &m) {
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToStart(&r.front());
        runP(m);
        SmallVector<Value> out;
        for (const Acc &a : p)
          llvm::append_range(out, a);
        for (const Acc &a : pf)
          llvm::append_range(out, a);
        scf::YieldOp::create(b, loc, out);
      };
      branch(ifDiag.getThenRegion(), mk);
      branch(ifDiag.getElseRegion(), below);
      SmallVector<Value> res(ifDiag.getResults());
      p = asTiles(ArrayRef<Value>(res).take_front(rTiles * 4));
      pf = asTiles(ArrayRef<Value>(res).drop_front(rTiles * 4));
    } else {
      runP(mk);
    }
    if (!earlyDP)
      issueDP();

    // dV += P^F^T dO, committed on its own: dS is formed while it runs.
    SmallVector<Value> dvAcc(carried.begin() + dTiles * 4, carried.begin() + 2 * dTiles * 4);
    SmallVector<Value> frags;
    for (int64_t kc = 0; kc < rowSteps; ++kc)
      llvm::append_range(frags, aFromAcc(pf, kc));
    frags = fence({&dvAcc}, frags);
    for (int64_t kc = 0; kc < rowSteps; ++kc)
      wgmma(dvAcc, ArrayRef<Value>(frags).slice(4 * kc, 4), Value(), mnMajor(doAt, kc),
            /*transB=*/true);
    commitGroup(dvAcc);
    waitGroup(dpAcc, 1);
    SmallVector<Acc> dS = asTiles(dpAcc);
    backwardDS(dS, p, statS);

    // dS^T in BF16 pairs: dK's A fragments, and to shared memory ([key][row]
    // over the block's keys, swizzled: the A operand of dQ read transposed).
    SmallVector<Value> dsFrags;
    for (int64_t kc = 0; kc < rowSteps; ++kc)
      llvm::append_range(dsFrags, aFromAcc(dS, kc));
    for (int64_t kc = 0; kc < rowSteps; ++kc) {
      ArrayRef<Value> frag = ArrayRef<Value>(dsFrags).slice(4 * kc, 4);
      for (int64_t i = 0; i < 4; ++i) {
        // Fragment i: key g (+8 for i odd), rows 16 kc + 2t (+8 for i >= 2).
        Value key = addi(kw0, addi(g, idx(8 * (i % 2))));
        Value chunk = idx(2 * kc + i / 2);
        Value at = addi(swizzled(idx(sl.dS), blockKeys, key, chunk), muli(t, idx(4)));
        Value pair = vector::BitCastOp::create(
            b, loc, VectorType::get({2}, bf16()),
            vector::FromElementsOp::create(b, loc, VectorType::get({1}, i32()),
                                           ValueRange{frag[i]}));
        // 4-byte aligned (t * 4 into a swizzled 16-byte chunk): one 32-bit
        // store, where LLVM split a store of unknown alignment into two.
        vector::StoreOp::create(b, loc, pair, smemBf16, ValueRange{divu(addi(pad, at), idx(2))},
                                /*nontemporal=*/false, llvm::Align(4));
      }
    }
    // dK += dS^T Q.
    SmallVector<Value> dkAcc(carried.begin(), carried.begin() + dTiles * 4);
    dsFrags = fence({&dkAcc}, dsFrags);
    for (int64_t kc = 0; kc < rowSteps; ++kc)
      wgmma(dkAcc, ArrayRef<Value>(dsFrags).slice(4 * kc, 4), Value(), mnMajor(qAt, kc),
            /*transB=*/true);
    commitGroup(dkAcc);
    // Every warp's dS^T in shared memory, seen by wgmma; then dQ = dS K over
    // the block's keys, the warpgroup's columns (rows 16w..16w+15 of the
    // tile per warp). The previous item's dQ tile has been read out of
    // shared memory by the time the barrier lets anyone rewrite it.
    // The next item's Q and dO have landed too (its prefetch has had most
    // of this item's time): after the barrier its S^T can multiply.
    nvgpu::DeviceAsyncWaitOp::create(b, loc, prefetch, b.getI32IntegerAttr(0));
    if (tma) // item w + 1 is its stage's use (w + 1) / 2
      waitUse(stageFull(subi(idx(1), stage)), divu(addi(w, idx(1)), idx(2)));
    // The cp.async copies and dS^T's stores, seen by the async proxy.
    fenceProxyAsync();
    when(eqi(tid, idx(0)), [&] { effectAsm({}, "", "cp.async.bulk.wait_group.read 0;"); });
    gpu::BarrierOp::create(b, loc);
    // dQ's first k-step writes its accumulators (scale-d 0), so only their
    // types matter here: fenced as zeros, they cost 32 register moves per item.
    SmallVector<Value> dqAcc(dqCols / 8 * 4, cf(0));
    effectAsm({}, "", "wgmma.fence.sync.aligned;");
    // K at this warpgroup's dQ columns (wgOff is wg tiles): a column block
    // of 64 at D = 128, 32 columns (64 bytes) into the swizzled rows at 64.
    const int64_t colBytes = (dqCols / 64) * tc::kKeyTile * kRowBytes + (dqCols % 64) * 2;
    Value kCols = addi(idx(sl.k), divu(wgOff, idx(sl.tile / colBytes)));
    for (int64_t kc = 0; kc < keySteps; ++kc)
      wgmma(dqAcc, {}, mnMajor(idx(sl.dS), kc), mnMajor(kCols, kc, sl.tile), /*transB=*/true,
            /*transA=*/true, /*fresh=*/kc == 0);
    // While dQ multiplies: the next item's statistics from the raw values
    // its prefetch copied (by one thread per slot of the row, each of which
    // waited for its copy before the barrier above), published by the
    // barrier that ends this item.
    when(ult(tid, idx(tc::kQueryTile)), [&] {
      auto [hn, in0, qBasen] = item(minu(addi(w, idx(1)), subi(items, idx(1))));
      auto raw = [&](int64_t i) {
        Value at = addi(muli(subi(idx(1), stage), idx(kRawStage)), idx(i));
        return memref::LoadOp::create(b, loc, rawS, ValueRange{at, tid}).getResult();
      };
      storeRowStats(tid, statS, raw(0), raw(1), raw(2), ult(addi(in0, tid), M), scale, gP,
                    muli(subi(idx(1), stage), idx(kBackwardStats)));
    });
    commitAndWait({&dkAcc, &dvAcc, &dqAcc});
    // The tile to shared memory in dq_tiles' layout (row r's 16-byte
    // chunk c at c ^ (r % 8): a warp's pair stores hit distinct banks). The
    // thread's pairs are at rows rw0 + g (+ 8), chunks 2 dt + t / 2 of the
    // warpgroup's columns; the per-thread terms made anew in each item, as
    // wgOff, so that they hold no registers across the loop.
    Value swz = opaque(arith::XOrIOp::create(b, loc, divu(t, idx(2)), g));
    Value rowAt = opaque(
        addi(idx(sl.dQ), addi(muli(addi(rw0, g), idx(D * 4)),
                              addi(muli(remu(t, idx(2)), idx(8)), muli(wg, idx(dqCols * 4))))));
    for (int64_t r = 0; r < 2; ++r)
      for (int64_t dt = 0; dt < dqCols / 8; ++dt) {
        Value inBlock = arith::XOrIOp::create(b, loc, idx(2 * (dt % 4)), swz);
        Value at = addi(rowAt, addi(idx(r * 8 * D * 4 + (dt / 4) * 128), muli(inBlock, idx(16))));
        effectAsm({sharedAddress(at), dqAcc[dt * 4 + 2 * r], dqAcc[dt * 4 + 2 * r + 1]}, "r,f,f",
                  "st.shared.v2.f32 [$0], {$1, $2};");
      }
    // S^T of the next item, in flight through the barrier (the last item's
    // reads a stage no item uses, and is dropped).
    SmallVector<Value> sNext;
    if (earlyS)
      sNext = issueST(kAt, stageAt(sl.q[0], subi(idx(1), stage)));
    // Q, dO and dS^T are rewritten by the next item, and the dQ tile is
    // complete: one bulk reduction adds it to its tile of dq_tiles. It reads
    // the tile through the async proxy, so the thread that issues it fences
    // the generic proxy's writes, which the barrier ordered before it
    // (NVIDIA's nvFuser places its TMA stores' fence so). A fence in every
    // thread before the barrier instead (the CUDA guide's TMA example) cost
    // the backward up to 9% on the H200 (qat, D = 64); session 16 had
    // dropped the fence altogether when it moved the prefetch's wait.
    gpu::BarrierOp::create(b, loc);
    when(eqi(tid, idx(0)), [&] {
      fenceProxyAsync();
      Value tileIndex = addi(muli(addi(muli(bi, Hq), h), qTiles), divu(i0, idx(tc::kQueryTile)));
      effectAsm({globalAddress(dq, muli(tileIndex, idx(tc::kQueryTile * D)), 4),
                 sharedAddress(idx(sl.dQ))},
                "l,r",
                "cp.reduce.async.bulk.global.shared::cta.bulk_group.add.f32 [$0], [$1], " +
                    std::to_string(tc::kQueryTile * D * 4) + ";\n\tcp.async.bulk.commit_group;");
    });
    if (earlyS)
      waitGroup(sNext, 0);
    SmallVector<Value> next(dkAcc);
    next.append(dvAcc.begin(), dvAcc.end());
    next.append(sNext);
    scf::YieldOp::create(b, loc, next);
  }

  // The last dQ tile's reduction complete before the block exits.
  when(eqi(tid, idx(0)), [&] { effectAsm({}, "", "cp.async.bulk.wait_group 0;"); });

  // dK and dV of the warp's keys (keys past N are not written).
  ValueRange fin = tiles.getResults().take_front(2 * dTiles * 4);
  for (int64_t r = 0; r < 2; ++r)
    when(ult(keys[r], N), [&] {
      Value keyAt = addi(kvBase, keys[r]);
      storeRowPairs(dk, keyAt, fin, 0, dTiles, r, cf(1));
      storeRowPairs(dv, keyAt, fin, dTiles * 4, dTiles, r, cf(1));
    });
}

} // namespace

int64_t tc::wgmmaBackwardSharedBytes(int64_t d, bool tma) {
  return WgBackwardLayout(d, tma).total;
}
int64_t tc::wgmmaBackwardKeysPerBlock(int64_t) { return kGroups * tc::kKeyTile; }
int64_t tc::wgmmaBackwardThreads(int64_t) { return kGroups * tc::kThreads; }
bool tc::wgmmaBackwardTakesTma(int64_t d, bool causal, Mode mode) {
  return d == 128 && (!causal || mode == Mode::QAT);
}

void tc::describeWgmmaBackwardTensorMaps(gpu::GPUFuncOp func) {
  Builder b(func.getContext());
  const int64_t rows = tc::kKeyTile; // a warpgroup's keys, an item's query rows
  auto map = [&](StringRef role, StringRef of, StringRef dim, StringRef heads) {
    return b.getNamedAttr(role, tensorMapAttr(b, of, dim, heads, rows));
  };
  func->setAttr("attnqat.tensor_maps",
                b.getDictionaryAttr({map("q_map", "q", "M", "B*Hq"),
                                     map("k_map", "k", "N", "B*Hkv"),
                                     map("v_map", "v", "N", "B*Hkv"),
                                     map("do_map", "do", "M", "B*Hq")}));
}

void tc::buildWgmmaBackward(gpu::GPUFuncOp func, AttentionBackwardOp op, bool dumpP) {
  WgmmaBackwardBuilder(func, op, dumpP).build();
}

void tc::buildWgmmaDqFromTiles(gpu::GPUFuncOp func) {
  KernelArith k(OpBuilder::atBlockBegin(&func.getBody().front()), func.getLoc());
  OpBuilder &b = k.b;
  Location loc = k.loc;
  Block &entry = func.getBody().front();
  Value tiles = entry.getArgument(0), dq = entry.getArgument(1);
  ValueRange dims = entry.getArguments().take_back(6);
  Value Hq = dims[1], M = dims[3], D = dims[5];
  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value tile = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value h = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  Value bi = gpu::BlockIdOp::create(b, loc, gpu::Dimension::z);
  Value qTiles = b.createOrFold<arith::CeilDivUIOp>(loc, M, k.idx(kQueryTile));
  Value head = k.addi(k.muli(bi, Hq), h);
  Value tileAt = k.muli(k.addi(k.muli(head, qTiles), tile), k.muli(k.idx(kQueryTile), D));
  Value row0 = k.muli(tile, k.idx(kQueryTile));
  Value rowBase = k.addi(k.muli(head, M), row0);
  // A thread per 8 columns of a row and step: their two 16-byte chunks
  // (2c, 2c + 1 at 2c ^ s, 2c + 1 ^ s for the row's swizzle s) to 16
  // bytes of BF16.
  Value groups = k.divu(D, k.idx(8));
  auto loop = scf::ForOp::create(b, loc, tid, k.muli(k.idx(kQueryTile), groups), k.idx(kThreads));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value e = loop.getInductionVar();
    Value r = k.divu(e, groups), c = k.remu(e, groups);
    k.when(k.ult(k.addi(row0, r), M), [&] {
      Value s = k.remu(r, k.idx(8));
      Value rowAt = k.addi(tileAt, k.muli(r, D));
      auto chunk = [&](Value logical) {
        Value at = k.addi(rowAt, k.muli(arith::XOrIOp::create(b, loc, logical, s), k.idx(4)));
        return vector::LoadOp::create(b, loc, VectorType::get({4}, b.getF32Type()), tiles,
                                      ValueRange{at}, /*nontemporal=*/false, llvm::Align(16))
            .getResult();
      };
      Value lo = chunk(k.muli(c, k.idx(2))), hi = chunk(k.addi(k.muli(c, k.idx(2)), k.idx(1)));
      Value both =
          vector::ShuffleOp::create(b, loc, lo, hi, ArrayRef<int64_t>{0, 1, 2, 3, 4, 5, 6, 7});
      Value out = arith::TruncFOp::create(b, loc, VectorType::get({8}, b.getBF16Type()), both);
      Value at = k.addi(k.muli(k.addi(rowBase, r), D), k.muli(c, k.idx(8)));
      vector::StoreOp::create(b, loc, out, dq, ValueRange{at}, /*nontemporal=*/false,
                              llvm::Align(16));
    });
  }
}
