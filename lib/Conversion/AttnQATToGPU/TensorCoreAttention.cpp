//===- TensorCoreAttention.cpp - tensor-core attention for sm_90a ---------===//
//
// The forward and backward on BF16 mma.sync m16n8k16 (fragment layouts in
// TileBuilder.h). Two adjacent S accumulator tiles are exactly an A operand
// of P . V, so P never leaves registers. Everything is unrolled at
// generation time: fragments are SSA values, the key-tile loop carries O
// (and O'), m and l.
//
//===----------------------------------------------------------------------===//

#include "TensorCoreAttention.h"
#include "TileBuilder.h"

using namespace mlir;
using namespace mlir::attnqat;

namespace {
using namespace mlir::attnqat::tc::detail;

/// Builds the forward kernel; one instance per generated function.
class ForwardBuilder : public TileBuilder {
public:
  ForwardBuilder(gpu::GPUFuncOp func, AttentionOp op, bool dumpP, bool packedIn)
      : TileBuilder(func, op.getConfig(), tc::headDim(op)), op(op), dumpP(dumpP),
        packedIn(packedIn) {}

  void build();

private:
  AttentionOp op;
  bool dumpP, packedIn;
};

/// Builds the backward kernel (dK/dV-stationary, FlashAttention-2 style):
/// a block owns 64 keys of one KV head, each warp 16 of them, and walks the
/// query tiles of every query head of its group. Per query tile it
/// recomputes S^T = K Q^T, P~ in the forward's final frame and its
/// quantization (the forward's codes and scales), then dV += P^F^T dO,
/// dP^T = V dO^T, dS^T = P (dP^T - D), dK += dS^T Q, and dQ += dS K through
/// shared memory and f32 pair reductions.
class BackwardBuilder : public TileBuilder {
public:
  BackwardBuilder(gpu::GPUFuncOp func, AttentionBackwardOp op, bool dumpP,
                  bool packedIn, bool vT64)
      : TileBuilder(func, op.getState().getType().getConfig(),
                    op.getState().getType().getQuery().getDimSize(3)),
        op(op), dumpP(dumpP), packedIn(packedIn), vT64(vT64) {}

  void build();

private:
  AttentionBackwardOp op;
  bool dumpP, packedIn, vT64;
};

void ForwardBuilder::build() {
  bool qat = config.getMode() == Mode::QAT;
  bool quantized = config.isQuantized();
  PDump dump;
  auto [q, k, v, qP, kP, vP, mask, lengths, out, Hq, Hkv, M, N, scale] =
      takeForward(op, packedIn, dumpP ? &dump : nullptr);

  const int64_t kChunks = D / 16; // k-steps of S = Q K^T
  const int64_t dTiles = D / 8;   // n-tiles of O
  const int64_t nTiles = tc::kKeyTile / 8;
  const int64_t stride = D + 8;   // padded smem rows: conflict-free ldmatrix

  // K and V tiles, two stages each (dynamic shared memory): the next tile
  // loads while this one is used.
  auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  Value dyn = gpu::DynamicSharedMemoryOp::create(
      b, loc, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                              MemRefLayoutAttrInterface{}, workgroup));
  auto stagesType = MemRefType::get({2, tc::kKeyTile, stride}, bf16(),
                                    MemRefLayoutAttrInterface{}, workgroup);
  Value kStages = memref::ViewOp::create(b, loc, stagesType, dyn, idx(0), ValueRange{});
  int64_t stageBytes = 2 * tc::kKeyTile * stride * 2;
  Value vStages = memref::ViewOp::create(b, loc, stagesType, dyn, idx(stageBytes),
                                         ValueRange{});
  // Q: in registers as MMA fragments, or (qat at D = 128, where registers
  // run out) in shared memory, read with ldmatrix per key tile.
  bool qShared = tc::forwardKeepsQInShared(op);
  Tile qS;
  if (qShared)
    qS.buffer = memref::ViewOp::create(
        b, loc,
        MemRefType::get({tc::kQueryTile, stride}, bf16(), MemRefLayoutAttrInterface{},
                        workgroup),
        dyn, idx(2 * stageBytes), ValueRange{});

  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  setUpLanes(tid);
  setUpPCodecTable(tid, tc::kThreads); // quantized modes
  Value warp = divu(tid, idx(32));
  ForwardRows fr = forwardRows(warp, Hq, Hkv, M, N);
  Value q0 = fr.q0, h = fr.h, bi = fr.bi, hk = fr.hk, qBase = fr.qBase,
        kvBase = fr.kvBase;
  const Value *rows = fr.rows, *rowValid = fr.rowValid;
  Value zeroI32 = arith::ConstantIntOp::create(b, loc, 0, 32);

  // Q fragments, loaded once (rows past M read row M-1 and are zeroed).
  SmallVector<std::array<Value, 4>> qFrag(kChunks);
  auto v2bf16 = VectorType::get({2}, bf16());
  if (qShared) {
    SmallVector<Value> tokens;
    if (packedIn)
      decodeRowBlocked(tid, qP, qBase, q0, M, qS);
    else
      copyTile(tid, q, qBase, q0, M, qS, tokens);
    commit(tokens); // completes with the first K/V tile's group
  }
  for (int64_t kc = 0; kc < kChunks && packedIn && !qShared; ++kc)
    for (int64_t r = 0; r < 2; ++r) {
      // Bytes kc*8 + t and kc*8 + 4 + t hold columns 2t.. and 2t+8.. of the
      // 16-column chunk, which lies in one block.
      Value at = addi(qBase, clampTo(rows[r], M));
      int64_t bs = qP.format.getBlockSize();
      Value sc = fp.decodeScale(
          qP.format, loadByte(qP.scales, addi(muli(at, idx(D / bs)), idx(kc * 16 / bs))));
      for (int64_t half = 0; half < 2; ++half) {
        Value byte = loadByte(qP.codes, addi(muli(at, idx(D / 2)),
                                             addi(idx(kc * 8 + half * 4), t)));
        Value pair = packBF16(decodeNibble(qP, byte, false, sc),
                              decodeNibble(qP, byte, true, sc));
        qFrag[kc][half * 2 + r] = sel(rowValid[r], pair, zeroI32);
      }
    }
  for (int64_t kc = 0; kc < kChunks && !packedIn && !qShared; ++kc)
    for (int64_t r = 0; r < 2; ++r)
      for (int64_t half = 0; half < 2; ++half) {
        Value col = addi(idx(kc * 16 + half * 8), muli(t, idx(2)));
        Value at = addi(muli(addi(qBase, clampTo(rows[r], M)), idx(D)), col);
        Value pair = vector::LoadOp::create(b, loc, v2bf16, q, ValueRange{at},
                                            /*nontemporal=*/false, llvm::Align(4));
        qFrag[kc][half * 2 + r] = sel(rowValid[r], asI32(pair), zeroI32);
      }

  // Key tiles: all of them, or up to the block's last row when causal.
  Value keyEnd = N;
  if (op.getCausal())
    keyEnd = minu(N, addi(q0, idx(tc::kQueryTile)));
  Value numTiles = b.createOrFold<arith::CeilDivUIOp>(loc, keyEnd, idx(tc::kKeyTile));
  Masking mk = forwardMasking(op, mask, lengths, bi, h, M, N, Hq, scale);

  // Loop state: O, O' (qat) tiles, then m and l of both rows.
  SmallVector<Value> init;
  int64_t accCount = (qat ? 2 : 1) * dTiles * 4;
  for (int64_t i = 0; i < accCount; ++i)
    init.push_back(cf(0));
  init.append({cf(-kInf), cf(-kInf), cf(0), cf(0)});
  // K and V tiles into shared memory; keys past N are zero-filled (their
  // scores are masked below). Tile 0 first, then tile j + 1 while j runs.
  auto loadTile = [&](Value tile) {
    Value stage = remu(tile, idx(2));
    Value j0 = muli(tile, idx(tc::kKeyTile));
    SmallVector<Value> tokens;
    if (packedIn) { // decoded by the threads: no copies in flight
      Value kvPairs = b.createOrFold<arith::CeilDivUIOp>(loc, N, idx(2));
      Value kvBlocks = b.createOrFold<arith::CeilDivUIOp>(
          loc, N, idx(vP.format.getBlockSize()));
      Value kvHead = addi(muli(bi, Hkv), hk);
      decodeRowBlocked(tid, kP, kvBase, j0, N, Tile{kStages, stage});
      decodeKeyBlocked(tid, vP, muli(kvHead, kvPairs), muli(kvHead, kvBlocks), j0, N,
                       Tile{vStages, stage});
      return commit(tokens);
    }
    copyTile(tid, k, kvBase, j0, N, Tile{kStages, stage}, tokens);
    copyTile(tid, v, kvBase, j0, N, Tile{vStages, stage}, tokens);
    return commit(tokens);
  };
  loadTile(idx(0));
  // Tiles every key of which every row of the block sees (below the
  // diagonal, inside N and the key length) skip the visibility tests.
  Value fullTiles = fullKeyTiles(op.getCausal(), q0, N, mk.keyLen, numTiles);
  auto runTiles = [&](Value lb, Value ub, ValueRange init, bool masked) {
  auto loop = scf::ForOp::create(b, loc, lb, ub, idx(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    ValueRange st = loop.getRegionIterArgs();
    Value tile = loop.getInductionVar();
    Value j0 = muli(tile, idx(tc::kKeyTile));
    Tile kS{kStages, remu(tile, idx(2))}, vS{vStages, remu(tile, idx(2))};
    // Past the last tile this prefetch only fills the idle stage.
    waitGroups(loadTile(addi(tile, idx(1))), /*pending=*/1);

    // S = Q K^T for this warp's 16 rows and the tile's 64 keys.
    SmallVector<Acc> s(nTiles, zeroAcc(cf(0)));
    auto aQ = [&](int64_t kc) {
      return qShared ? aFromRows(qS, muli(warp, idx(16)), kc)
                     : SmallVector<Value>(qFrag[kc].begin(), qFrag[kc].end());
    };
    mmaLoop(kChunks, {{&s, aQ}}, [&](int64_t np, int64_t kc) { return bFromNK(kS, np, kc); });

    // Scores (accumulator e of n-tile nt: key 8 nt + 2t + e % 2), the
    // online-softmax step and P~.
    Value mNew[2], alpha[2], lNew[2];
    SmallVector<Acc> p = softmaxTile(
        s,
        [&](int64_t nt, int64_t e) {
          return addi(j0, addi(idx(nt * 8 + e % 2), muli(t, idx(2))));
        },
        mk, rows, masked, st.slice(accCount, 4), mNew, alpha, lNew);

    // P~^F in registers (recorded for the matched-recomputation check).
    SmallVector<Acc> pq = p;
    if (quantized)
      quantizeForwardP(pq, j0, rows, rowValid, qBase, N, mNew, dump);

    // O = alpha O + P~^F V;  O' = alpha O' + P~ V (qat).
    auto scaled = [&](int64_t base) {
      SmallVector<Acc> accs(dTiles);
      for (int64_t dt = 0; dt < dTiles; ++dt)
        for (int64_t e = 0; e < 4; ++e)
          accs[dt][e] = mulf(alpha[e / 2], st[base + dt * 4 + e]);
      return accs;
    };
    SmallVector<Acc> oAcc = scaled(0);
    SmallVector<Acc> opAcc = qat ? scaled(dTiles * 4) : SmallVector<Acc>{};
    auto aPq = [&](int64_t kc) { return aFromAcc(pq, kc); };
    auto aP = [&](int64_t kc) { return aFromAcc(p, kc); };
    SmallVector<std::pair<SmallVector<Acc> *, AOperand>> pv{{&oAcc, aPq}};
    if (qat)
      pv.push_back({&opAcc, aP});
    mmaLoop(tc::kKeyTile / 16, pv,
            [&](int64_t np, int64_t kc) { return bFromKN(vS, np, kc); });
    // Every warp is done with this tile before the next one overwrites it.
    gpu::BarrierOp::create(b, loc);
    SmallVector<Value> next;
    for (const Acc &x : oAcc)
      next.append(x.begin(), x.end());
    for (const Acc &x : opAcc)
      next.append(x.begin(), x.end());
    next.append({mNew[0], mNew[1], lNew[0], lNew[1]});
    scf::YieldOp::create(b, loc, next);
  }
  return loop;
  };
  auto full = runTiles(idx(0), fullTiles, init, /*masked=*/false);
  auto rest = runTiles(fullTiles, numTiles, full.getResults(), /*masked=*/true);

  // Epilogue: l over the row's lanes; O /= l (times g for P^F), LSE.
  float gP = quantized ? config.getPGlobalScale() : 1.0f;
  storeForwardOutputs(out, rest.getResults(), accCount,
                      rows, rowValid, qBase, gP);
}

void BackwardBuilder::build() {
  StateType st = op.getState().getType();
  Mode mode = config.getMode();
  bool quantizeP = mode == Mode::QAT; // dV from P^F; drop-in/none: from P
  auto [q, k, v, qP, kP, vP, mask, lengths, mIn, lIn, deltaIn, dO, dq, dk, dv, dump, Hq, Hkv,
        M, N, scale] = takeBackwardParams(st, packedIn, dumpP);

  const int64_t kChunks = D / 16;
  const int64_t dTiles = D / 8;
  const int64_t rTiles = tc::kQueryTile / 8; // n-tiles of S^T (query rows)
  const int64_t stride = D + 8;

  // Shared memory: K, V (this block's keys), Q, dO (the current query tile)
  // and dS^T in dynamic shared memory; the query tile's row statistics.
  auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  auto rowStats = MemRefType::get({kBackwardStats, tc::kQueryTile}, f32(),
                                  MemRefLayoutAttrInterface{}, workgroup);
  Value statS = func.addWorkgroupAttribution(rowStats, loc);
  Value dyn = gpu::DynamicSharedMemoryOp::create(
      b, loc, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                              MemRefLayoutAttrInterface{}, workgroup));
  auto tileType = MemRefType::get({tc::kKeyTile, stride}, bf16(),
                                  MemRefLayoutAttrInterface{}, workgroup);
  int64_t tileBytes = tc::kKeyTile * stride * 2;
  auto view = [&](MemRefType type, int64_t offset) -> Value {
    return memref::ViewOp::create(b, loc, type, dyn, idx(offset), ValueRange{});
  };
  // Q and dO: two stages each, the next query tile loads while one is used.
  auto stagesType = MemRefType::get({2, tc::kQueryTile, stride}, bf16(),
                                    MemRefLayoutAttrInterface{}, workgroup);
  Tile kS{view(tileType, 0), {}}, vS{view(tileType, tileBytes), {}};
  Value qStages = view(stagesType, 2 * tileBytes),
        doStages = view(stagesType, 4 * tileBytes);
  const int64_t dsStride = tc::kQueryTile + 8;
  Value dsS = view(MemRefType::get({tc::kKeyTile, dsStride}, bf16(),
                                   MemRefLayoutAttrInterface{}, workgroup),
                   6 * tileBytes);

  BackwardBlock bb = backwardBlock(Hq, Hkv, N);
  Value tid = bb.tid, hk = bb.hk, bi = bb.bi, j0 = bb.j0, kw0 = bb.kw0, kvBase = bb.kvBase;
  const Value *keys = bb.keys;
  if (quantizeP) { // dV's P^F
    setUpPCodecTable(tid, tc::kThreads);
    setUpPExchange(tc::kThreads / 32);
  }

  SmallVector<Value> tokens;
  if (packedIn) { // decoded once per block
    Value kvHead = addi(muli(bi, Hkv), hk);
    Value pairs = b.createOrFold<arith::CeilDivUIOp>(loc, N, idx(2));
    Value vBlocks = b.createOrFold<arith::CeilDivUIOp>(loc, N, idx(vP.format.getBlockSize()));
    decodeRowBlocked(tid, kP, kvBase, j0, N, kS);
    if (vT64)
      decodeKeyBlockedT64(tid, vP, kvHead, j0, N, vS);
    else
      decodeKeyBlocked(tid, vP, muli(kvHead, pairs), muli(kvHead, vBlocks), j0, N, vS);
  } else {
    copyTile(tid, k, kvBase, j0, N, kS, tokens);
    copyTile(tid, v, kvBase, j0, N, vS, tokens);
  }
  waitTiles(tokens);

  Masking mk = backwardMasking(st, mask, lengths, bi, M, N, Hq, scale);
  BackwardItems work = backwardItems(bb, mk.causal, M);
  Value items = work.count;
  auto item = [&](Value w) { return backwardItem(bb, work, w, Hq, M); };
  auto loadItem = [&](Value w) {
    return backwardPrefetch(bb, work, w, Hq, M,
                            [&](Value, Value qBase, Value i0, Value stage,
                                SmallVector<Value> &tokens) {
                              if (packedIn) // decoded by the threads into the idle stage
                                decodeRowBlocked(tid, qP, qBase, i0, M, Tile{qStages, stage});
                              else
                                copyTile(tid, q, qBase, i0, M, Tile{qStages, stage}, tokens);
                              copyTile(tid, dO, qBase, i0, M, Tile{doStages, stage}, tokens);
                            });
  };
  auto ifAny = scf::IfOp::create(b, loc, ult(idx(0), items), false);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifAny.getThenRegion().front());
    loadItem(idx(0));
  }
  SmallVector<Value> init(2 * dTiles * 4, cf(0));
  auto tiles = scf::ForOp::create(b, loc, idx(0), items, idx(1), init);
  {
    {
      OpBuilder::InsertionGuard g2(b);
      b.setInsertionPointToStart(tiles.getBody());
      ValueRange acc = tiles.getRegionIterArgs();
      Value w = tiles.getInductionVar();
      auto [h, i0, qBase] = item(w);
      mk.h = h;
      Value stage = remu(w, idx(2));
      pExchangeStage = stage;
      Tile qS{qStages, stage}, doS{doStages, stage};
      Value prefetch = loadItem(addi(w, idx(1)));

      storeBackwardStats(tid, statS, mIn, lIn, deltaIn, i0, qBase, M, scale,
                         quantizeP ? config.getPGlobalScale() : 1.0f);
      waitGroups(prefetch, /*pending=*/1);

      // S^T = K Q^T: the warp's 16 keys x the tile's 64 rows.
      SmallVector<Acc> sT(rTiles, zeroAcc(cf(0)));
      auto aK = [&](int64_t kc) { return aFromRows(kS, kw0, kc); };
      mmaLoop(kChunks, {{&sT, aK}},
              [&](int64_t np, int64_t kc) { return bFromNK(qS, np, kc); });
      SmallVector<Acc> p, pf;
      backwardP(mk, sT, statS, i0, qBase, M, N, j0, kw0, keys, quantizeP, dump, p, pf);

      // dV += P^F^T dO (k = the tile's rows).
      SmallVector<Acc> dvAcc(dTiles), dkAcc(dTiles);
      for (int64_t dt = 0; dt < dTiles; ++dt)
        for (int64_t e = 0; e < 4; ++e) {
          dkAcc[dt][e] = acc[dt * 4 + e];
          dvAcc[dt][e] = acc[(dTiles + dt) * 4 + e];
        }
      auto aPf = [&](int64_t kc) { return aFromAcc(pf, kc); };
      mmaLoop(tc::kQueryTile / 16, {{&dvAcc, aPf}},
              [&](int64_t np, int64_t kc) { return bFromKN(doS, np, kc); });
      // dP^T = V dO^T, then dS^T = P (dP^T - D) * scale.
      SmallVector<Acc> dS(rTiles, zeroAcc(cf(0)));
      auto aV = [&](int64_t kc) { return aFromRows(vS, kw0, kc); };
      mmaLoop(kChunks, {{&dS, aV}},
              [&](int64_t np, int64_t kc) { return bFromNK(doS, np, kc); });
      backwardDS(dS, p, statS);
      // dK += dS^T Q.
      auto aS = [&](int64_t kc) { return aFromAcc(dS, kc); };
      mmaLoop(tc::kQueryTile / 16, {{&dkAcc, aS}},
              [&](int64_t np, int64_t kc) { return bFromKN(qS, np, kc); });
      // dS^T to shared memory ([key][row], bf16), then dQ += dS K with warp
      // w on rows 16w..16w+15, added to dQ with f32 pair reductions.
      for (int64_t nt = 0; nt < rTiles; ++nt)
        for (int64_t r = 0; r < 2; ++r) {
          Value pair = vector::FromElementsOp::create(
              b, loc, VectorType::get({2}, bf16()),
              ValueRange{arith::TruncFOp::create(b, loc, bf16(), dS[nt][2 * r]),
                         arith::TruncFOp::create(b, loc, bf16(), dS[nt][2 * r + 1])});
          vector::StoreOp::create(b, loc, pair, dsS,
                                  ValueRange{addi(kw0, addi(g, idx(8 * r))), bwdRowOf(nt, 0)});
        }
      gpu::BarrierOp::create(b, loc);
      SmallVector<Acc> dqAcc(dTiles, zeroAcc(cf(0)));
      auto aDs = [&](int64_t kc) {
        // A[m = row][k = key] from dS^T stored [key][row]: transposed loads.
        Value row = addi(addi(idx(kc * 16), muli(divu(mi, idx(2)), idx(8))), lr);
        Value col = addi(kw0, muli(remu(mi, idx(2)), idx(8)));
        auto aD = ldmatrix4(Tile{dsS, {}}, row, col, /*trans=*/true);
        return SmallVector<Value>{aD[0], aD[1], aD[2], aD[3]};
      };
      mmaLoop(tc::kKeyTile / 16, {{&dqAcc, aDs}},
              [&](int64_t np, int64_t kc) { return bFromKN(kS, np, kc); });
      for (int64_t r = 0; r < 2; ++r) {
        Value row = addi(i0, addi(kw0, addi(g, idx(8 * r))));
        auto ifRow = scf::IfOp::create(b, loc, ult(row, M), false);
        OpBuilder::InsertionGuard g3(b);
        b.setInsertionPointToStart(&ifRow.getThenRegion().front());
        Value rowAt = muli(addi(qBase, row), idx(D));
        SmallVector<std::pair<Value, Value>> pairs;
        for (int64_t dt = 0; dt < dTiles; ++dt)
          pairs.push_back({dqAcc[dt][2 * r], dqAcc[dt][2 * r + 1]});
        atomicAddPairs(dq, addi(rowAt, muli(t, idx(2))), pairs);
      }
      // Q, dO and dS^T are rewritten by the next tile.
      gpu::BarrierOp::create(b, loc);
      SmallVector<Value> next;
      for (const Acc &x : dkAcc)
        next.append(x.begin(), x.end());
      for (const Acc &x : dvAcc)
        next.append(x.begin(), x.end());
      scf::YieldOp::create(b, loc, next);
    }
  }

  // dK and dV of the warp's keys (keys past N are not written).
  ValueRange fin = tiles.getResults();
  for (int64_t r = 0; r < 2; ++r) {
    auto ifKey = scf::IfOp::create(b, loc, ult(keys[r], N), false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifKey.getThenRegion().front());
    Value keyAt = addi(kvBase, keys[r]);
    storeRowPairs(dk, keyAt, fin, 0, dTiles, r, cf(1));
    storeRowPairs(dv, keyAt, fin, dTiles * 4, dTiles, r, cf(1));
  }
}

} // namespace

namespace mlir::attnqat::tc {

int64_t headDim(AttentionOp op) {
  return op.getQuery().getType().getDimSize(3);
}

bool coversForward(AttentionOp op, std::string &why) {
  Type elt = op.getQuery().getType().getElementType();
  if (op.getConfig().getMode() == Mode::FP4 ? !isa<Float4E2M1FNType>(elt)
                                            : !elt.isBF16()) {
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

void buildForward(gpu::GPUFuncOp func, AttentionOp op, bool dumpP, bool packedIn) {
  ForwardBuilder(func, op, dumpP, packedIn).build();
}

} // namespace mlir::attnqat::tc

namespace mlir::attnqat::tc {

bool coversBackward(AttentionBackwardOp op, std::string &why) {
  StateType st = op.getState().getType();
  ConfigAttr config = st.getConfig();
  if (config.getMode() == Mode::FP4) {
    why = "mode fp4";
    return false;
  }
  if (!st.getQuery().getElementType().isBF16()) {
    why = "non-bf16 operands";
    return false;
  }
  int64_t d = st.getQuery().getDimSize(3);
  if (d != 64 && d != 128) {
    why = "a head dim other than 64 or 128";
    return false;
  }
  return true;
}

bool forwardKeepsQInShared(AttentionOp op) {
  // O, O' and the Q fragments do not all fit in registers at D = 128.
  return op.getConfig().getMode() == Mode::QAT && headDim(op) == 128;
}

int64_t forwardSharedBytes(AttentionOp op) {
  int64_t d = headDim(op);
  int64_t stages = 2 * 2 * kKeyTile * (d + 8) * 2;
  return stages + (forwardKeepsQInShared(op) ? kQueryTile * (d + 8) * 2 : 0);
}

int64_t forwardBlocksPerSM(AttentionOp op) {
  // Two blocks of four warps leave the schedulers idle more than half the
  // time (ncu, H200). Three fit in 168 registers and the shared memory of
  // mode none at D = 128 (56 bytes spilled: +16% forward) and of every mode
  // at D = 64 (up to 176 bytes spilled: qat +13-15%). At D = 128 the
  // quantized forwards spill 180-980 bytes at 168 and ran slower (fp4 -6%).
  if (forwardKeepsQInShared(op))
    return 0;
  return headDim(op) == 64 || op.getConfig().getMode() == Mode::None ? 3 : 0;
}

int64_t backwardSharedBytes(int64_t d) {
  // K, V, two stages of Q and dO tiles (padded rows) and dS^T, bf16.
  return (6 * kKeyTile * (d + 8) + kKeyTile * (kQueryTile + 8)) * 2;
}

void buildBackward(gpu::GPUFuncOp func, AttentionBackwardOp op, bool dumpP,
                   bool packedIn, bool vT64) {
  BackwardBuilder(func, op, dumpP, packedIn, vT64).build();
}

void buildRowDot(gpu::GPUFuncOp func) {
  KernelArith k(OpBuilder::atBlockBegin(&func.getBody().front()), func.getLoc());
  OpBuilder &b = k.b;
  Location loc = k.loc;
  Block &entry = func.getBody().front();
  Value o = entry.getArgument(0), dO = entry.getArgument(1),
        delta = entry.getArgument(2);
  ValueRange dims = entry.getArguments().take_back(6);
  Type f32 = b.getF32Type();
  auto idx = [&](int64_t v) { return k.idx(v); };
  auto toF32 = [&](Value v) -> Value {
    return v.getType().isF32() ? v : arith::ExtFOp::create(b, loc, f32, v).getResult();
  };
  Value rows = k.muli(k.muli(dims[0], dims[1]), dims[3]);
  Value D = dims[5];
  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value bid = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value lane = k.remu(tid, idx(kRowDotLanes));
  Value row = k.addi(k.muli(bid, idx(kThreads / kRowDotLanes)), k.divu(tid, idx(kRowDotLanes)));
  Value inside = k.ult(row, rows);
  // Rows past the end compute on the last row (their lanes take part in the
  // shuffles) and store nothing.
  Value base = k.muli(k.clampTo(row, rows), D);

  // Eight consecutive elements per lane and step (16-byte loads) where the
  // rows are whole steps of 64 and the arrays aligned; else lane l takes
  // elements l, l + 8, ...
  Value fits = k.eqi(k.remu(D, idx(8 * kRowDotLanes)), idx(0));
  for (Value memref : {o, dO}) {
    Value at = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
    fits = k.andi(fits, k.eqi(k.remu(at, idx(16)), idx(0)));
  }
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  auto path = scf::IfOp::create(b, loc, TypeRange{f32}, fits, /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&path.getThenRegion().front());
    auto loop = scf::ForOp::create(b, loc, k.muli(lane, idx(8)), D, idx(8 * kRowDotLanes),
                                   ValueRange{zero});
    {
      OpBuilder::InsertionGuard g2(b);
      b.setInsertionPointToStart(loop.getBody());
      Value at = k.addi(base, loop.getInductionVar());
      auto load8 = [&](Value memref) {
        Type elt = cast<MemRefType>(memref.getType()).getElementType();
        return vector::LoadOp::create(b, loc, VectorType::get({8}, elt), memref,
                                      ValueRange{at}, /*nontemporal=*/false, llvm::Align(16))
            .getResult();
      };
      Value x = load8(dO), y = load8(o);
      Value acc = loop.getRegionIterArgs()[0];
      for (int64_t e = 0; e < 8; ++e)
        acc = math::FmaOp::create(
            b, loc, toF32(vector::ExtractOp::create(b, loc, x, ArrayRef<int64_t>{e})),
            toF32(vector::ExtractOp::create(b, loc, y, ArrayRef<int64_t>{e})), acc);
      scf::YieldOp::create(b, loc, ValueRange{acc});
    }
    scf::YieldOp::create(b, loc, loop.getResults());
    b.setInsertionPointToStart(&path.getElseRegion().front());
    auto loop2 = scf::ForOp::create(b, loc, lane, D, idx(kRowDotLanes), ValueRange{zero});
    {
      OpBuilder::InsertionGuard g2(b);
      b.setInsertionPointToStart(loop2.getBody());
      Value at = k.addi(base, loop2.getInductionVar());
      Value x = toF32(memref::LoadOp::create(b, loc, dO, ValueRange{at}));
      Value y = toF32(memref::LoadOp::create(b, loc, o, ValueRange{at}));
      scf::YieldOp::create(
          b, loc, ValueRange{math::FmaOp::create(b, loc, x, y, loop2.getRegionIterArgs()[0])});
    }
    scf::YieldOp::create(b, loc, loop2.getResults());
  }
  // The row's sum over its lanes.
  Value sum = path.getResult(0);
  for (int32_t offset = 1; offset < kRowDotLanes; offset *= 2) {
    Value other = gpu::ShuffleOp::create(b, loc, sum, offset, 32, gpu::ShuffleMode::XOR)
                      .getShuffleResult();
    sum = arith::AddFOp::create(b, loc, sum, other);
  }
  k.when(k.andi(inside, k.eqi(lane, idx(0))),
         [&] { memref::StoreOp::create(b, loc, sum, delta, ValueRange{row}); });
}

} // namespace mlir::attnqat::tc
