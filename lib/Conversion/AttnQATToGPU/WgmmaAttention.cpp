//===- WgmmaAttention.cpp - the sm_90a forward on wgmma -------------------===//
//
// Hopper's warpgroup MMA (`wgmma.mma_async`) reads its B operand, and here
// also A for S = Q K^T, straight from shared memory, asynchronously (mode
// none at D = 128 ran 1.9x as fast as on mma.sync on the H200). The
// forward keeps the mma.sync kernel's
// description (TileBuilder: the masked log2-domain score, the integer-frame
// online softmax over 64-key tiles, P~ and FP4Arith's P codec on the
// accumulator fragments, the row finish) and splits the block into roles:
//
//   warpgroup 0   producer: Q once, then K and V tiles into two stages
//                 (three when pipelined, below) of shared memory (cp.async,
//                 16 bytes per copy, 128-byte swizzle); an mbarrier per
//                 stage tracks the copies
//                 (cp.async.mbarrier.arrive.noinc). Few registers
//                 (setmaxnreg.dec).
//   warpgroups    consumers (three, or two in qat at D = 128), 64 query rows
//   1, 2 (, 3)    each: S = Q K_j^T by wgmma from shared memory
//                 (m64n64k16), the softmax and P quantization on the
//                 accumulators, O += P^F V_j (and O' += P~ V_j in
//                 qat) by wgmma with P from registers and V^T read
//                 transposed from shared memory (m64n<D>k16); then the
//                 stage is released. setmaxnreg.inc gives them the
//                 registers the producer returned (the kernel states its
//                 entry count with .maxnreg, else ptxas ignores
//                 setmaxnreg).
//
// In mode none without causality the fully visible tiles run
// software-pipelined (FlashAttention-3's intra-warpgroup overlap): S of tile
// j and P_{j-1} V_{j-1} issue together, and the softmax of tile j runs while
// the tensor cores finish P_{j-1} V_{j-1}. Elsewhere a tile's S, softmax and
// P V follow one another, and the other consumers fill the gaps (WgSplit says
// why).
//
// The wgmma accumulator of a warp is the mma.sync m16n8 fragment per 8
// columns, and its register A operand is the m16n8k16 A fragment, so P never
// leaves registers and the softmax code is the mma.sync kernel's.
//
// Shared-memory tiles are stored as the 128-byte-swizzle canonical layout:
// rows of 64 BF16 (128 bytes), 16-byte chunk c of row r at chunk c ^ (r % 8),
// D/64 such column blocks one after the other; the base is 1024-aligned.
// Descriptors: K-major (Q, K) SBO 1024, k-steps 32 bytes apart inside a
// row; V as an MN-major B, SBO 1024 (8 keys), LBO the column-block stride.
//
//===----------------------------------------------------------------------===//

#include "TensorCoreAttention.h"
#include "WgmmaBuilder.h"

using namespace mlir;
using namespace mlir::attnqat;
using namespace mlir::attnqat::tc::detail;

namespace {

/// How a forward splits its block: consumer warpgroups of 64 query rows and
/// the registers per thread after setmaxnreg (producer 56: at 40 its address
/// arithmetic spilled). Three consumers of 152 registers (more warps to hide
/// the softmax's and the P codec's latency) wherever the accumulators leave
/// room: qat at D = 128 holds O and O' (128 registers) and keeps two of 224.
/// H200, 16k keys, same run: dropin D = 128 238.9 -> 258.6 TFLOP/s with
/// three, qat D = 64 138.3 -> 150.9 (against two consumers that issued S of
/// the next tile during the softmax).
struct WgSplit {
  int64_t consumers;
  int32_t consumerRegs;
  /// Whether the fully visible tiles run software-pipelined (runPipelined):
  /// in mode none without causality. H200, same run, none D = 128: 16k keys
  /// 514 -> 589 TFLOP/s, 4k 490 -> 549, 1k 377 -> 410, D = 64 unchanged
  /// (377 -> 383). Where P is quantized the consumers are busy issuing the
  /// codec, and the overlap lost 2-8% (qat, dropin, fp4: the fragments of
  /// P_{j-1} held through the codec spill); causal none lost 8% at D = 128
  /// and D = 64.
  bool pipelined;
  /// K/V stages: three when pipelined, because then tile j's stage is freed
  /// only once P_j V_j has finished, in the middle of tile j + 1.
  int64_t stages;
  static constexpr int32_t kProducerRegs = 56;
  explicit WgSplit(AttentionOp op)
      : consumers(op.getConfig().getMode() == Mode::QAT && tc::headDim(op) > 64 ? 2 : 3),
        consumerRegs(consumers == 3 ? 152 : 224),
        pipelined(!op.getConfig().isQuantized() && !op.getCausal()), stages(pipelined ? 3 : 2) {}
  int64_t rows() const { return 64 * consumers; }
  int64_t threads() const { return 128 * (consumers + 1); }
  /// Registers per thread at entry; setmaxnreg moves them between the roles
  /// within the block's total.
  int32_t entryRegs() const {
    int32_t regs = static_cast<int32_t>(65536 / threads()) & ~7;
    assert(128 * (kProducerRegs + consumers * consumerRegs) <= regs * threads() &&
           "setmaxnreg asks for more registers than the block has");
    return regs;
  }
};

/// Byte offsets from the 1024-aligned base of everything in shared memory
/// (K and V of stage s at k, v + s * stageBytes), and the mbarriers: Q full,
/// then per stage K/V full, then per stage K/V empty (released by the
/// consumers).
struct WgLayout {
  int64_t stages, q, k, v, stageBytes, barriers, total;
  static constexpr int64_t kQFull = 0, kKVFull = 1;
  int64_t kvEmpty() const { return 1 + stages; }
  WgLayout(int64_t d, int64_t blockRows, int64_t stages)
      : stages(stages), q(0), k(blockRows * d * 2), v(k + tc::kKeyTile * d * 2),
        stageBytes(2 * tc::kKeyTile * d * 2), barriers(k + stages * stageBytes),
        total(barriers + (1 + 2 * stages) * 8 + kAtomBytes) {} // slack to align the base
};

class WgmmaForwardBuilder : public WgmmaBuilder {
public:
  WgmmaForwardBuilder(gpu::GPUFuncOp func, AttentionOp op, bool dumpP)
      : WgmmaBuilder(func, op.getConfig(), tc::headDim(op)), op(op), dumpP(dumpP), split(op),
        sl(D, split.rows(), split.stages) {}
  void build();

private:
  AttentionOp op;
  bool dumpP;
  WgSplit split;
  WgLayout sl;
  // mbarriers (index `i` of the layout's, plus `which` for per-stage ones).
  Value barrier(int64_t i, Value which = nullptr) {
    Value at = addi(pad, idx(sl.barriers + 8 * i));
    if (which)
      at = addi(at, muli(which, idx(8)));
    return LLVM::GEPOp::create(b, loc, LLVM::LLVMPointerType::get(b.getContext(), 3),
                               b.getI8Type(), smemPtr0, ValueRange{toI32(at)});
  }

  /// Waits for use `u` (index) of a barrier: the phase of parity u % 2.
  void waitUse(Value bar, Value u) { waitPhase(bar, toI32(remu(u, idx(2)))); }
};

void WgmmaForwardBuilder::build() {
  bool qat = config.getMode() == Mode::QAT;
  bool quantized = config.isQuantized();
  PDump dump;
  auto [q, k, v, qP, kP, vP, mask, lengths, out, Hq, Hkv, M, N, scale] =
      takeForward(op, /*packed=*/false, dumpP ? &dump : nullptr);

  // setmaxnreg needs the register count at entry: ptxas ignores it
  // (warning C7508) unless .maxnreg states it where 65536 / threads is not
  // already a multiple of 8 (384 threads: 168).
  func->setAttr(NVVM::NVVMDialect::getMaxnregAttrName(),
                b.getI32IntegerAttr(split.entryRegs()));

  const int64_t kChunks = D / 16;           // k-steps of S = Q K^T
  const int64_t dTiles = D / 8;             // n-tiles of O
  const int64_t nTiles = tc::kKeyTile / 8;  // n-tiles of S
  const int64_t colBlock = tc::kKeyTile * kRowBytes; // a K or V column block

  setUpShared(sl.total);

  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value wg = divu(tid, idx(128));
  Value q0 = muli(forwardQueryTile(/*heavyFirst=*/op.getCausal()), idx(split.rows()));
  Value keyEnd = N;
  if (op.getCausal())
    keyEnd = minu(N, addi(q0, idx(split.rows())));
  Value numTiles = b.createOrFold<arith::CeilDivUIOp>(loc, keyEnd, idx(tc::kKeyTile));

  setUpPCodecTable(tid, split.threads(), /*barrier=*/false); // the one below
  when(eqi(tid, idx(0)), [&] {
    auto init = [&](int64_t i, int64_t count) {
      NVVM::MBarrierInitOp::create(b, loc, barrier(i), i32c(count), Value());
    };
    init(WgLayout::kQFull, 128);
    for (int64_t s = 0; s < split.stages; ++s) {
      init(WgLayout::kKVFull + s, 128);
      init(sl.kvEmpty() + s, 128 * split.consumers);
    }
  });
  gpu::BarrierOp::create(b, loc);

  // ---- Producer: Q, then K and V tiles as the stages free up. -----------
  when(eqi(wg, idx(0)), [&] {
    NVVM::SetMaxRegisterOp::create(b, loc, WgSplit::kProducerRegs,
                                   NVVM::SetMaxRegisterAction::decrease);
    Value h = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
    Value bi = gpu::BlockIdOp::create(b, loc, gpu::Dimension::z);
    Value hk = divu(h, divu(Hq, Hkv));
    Value qBase = muli(addi(muli(bi, Hq), h), M);
    Value kvBase = muli(addi(muli(bi, Hkv), hk), N);
    copyRows(tid, q, qBase, q0, M, split.rows(), idx(sl.q));
    NVVM::CpAsyncMBarrierArriveOp::create(b, loc, barrier(WgLayout::kQFull), /*noinc=*/true);
    auto loop = scf::ForOp::create(b, loc, idx(0), numTiles, idx(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value j = loop.getInductionVar();
    Value s = remu(j, idx(split.stages));
    when(uge(j, idx(split.stages)), [&] {
      waitUse(barrier(sl.kvEmpty(), s), subi(divu(j, idx(split.stages)), idx(1)));
    });
    Value j0 = muli(j, idx(tc::kKeyTile));
    Value stageAt = muli(s, idx(sl.stageBytes));
    copyRows(tid, k, kvBase, j0, N, tc::kKeyTile, addi(idx(sl.k), stageAt));
    copyRows(tid, v, kvBase, j0, N, tc::kKeyTile, addi(idx(sl.v), stageAt));
    NVVM::CpAsyncMBarrierArriveOp::create(b, loc, barrier(WgLayout::kKVFull, s),
                                          /*noinc=*/true);
  });

  // ---- Consumers: 64 query rows per warpgroup. ---------------------------
  when(uge(wg, idx(1)), [&] {
    NVVM::SetMaxRegisterOp::create(b, loc, split.consumerRegs,
                                   NVVM::SetMaxRegisterAction::increase);
    Value ctid = subi(tid, idx(128));
    setUpLanes(ctid);
    Value cw = divu(ctid, idx(32));    // warp among the consumers: 16 rows
    Value c = divu(ctid, idx(128));    // consumer warpgroup: 64 rows
    ForwardRows fr = forwardRows(cw, Hq, Hkv, M, N, split.rows(), op.getCausal());
    const Value *rows = fr.rows, *rowValid = fr.rowValid;
    Masking mk = forwardMasking(op, mask, lengths, fr.bi, fr.h, M, N, Hq, scale);
    Value wgQ0 = addi(q0, muli(c, idx(64)));
    Value fullTiles = fullKeyTiles(op.getCausal(), wgQ0, N, mk.keyLen, numTiles);
    Value qAt = addi(idx(sl.q), muli(c, idx(64 * kRowBytes)));

    SmallVector<Value> init;
    int64_t accCount = (qat ? 2 : 1) * dTiles * 4;
    for (int64_t i = 0; i < accCount; ++i)
      init.push_back(cf(0));
    init.append({cf(-kInf), cf(-kInf), cf(0), cf(0)});
    waitUse(barrier(WgLayout::kQFull), idx(0));

    const int64_t stages = split.stages;
    auto stageOf = [&](Value j) { return remu(j, idx(stages)); };
    // S = Q K_j^T (64 rows x 64 keys, k-steps of 16 along D), issued and
    // committed as one wgmma group once the producer has filled the stage.
    auto issueS = [&](Value j) {
      waitUse(barrier(WgLayout::kKVFull, stageOf(j)), divu(j, idx(stages)));
      // The producer's cp.async writes, seen by the async proxy (wgmma).
      fenceProxyAsync();
      Value kAt = addi(idx(sl.k), muli(stageOf(j), idx(sl.stageBytes)));
      SmallVector<Value> sAcc(nTiles * 4, cf(0));
      fence(sAcc);
      for (int64_t kc = 0; kc < kChunks; ++kc) {
        int64_t inRow = (kc % 4) * 32; // k-steps of 32 bytes inside a row
        Value aDesc = descriptor(
            addi(qAt, idx((kc / 4) * split.rows() * kRowBytes + inRow)), 16);
        Value bDesc = descriptor(addi(kAt, idx((kc / 4) * colBlock + inRow)), 16);
        wgmma(sAcc, {}, aDesc, bDesc, /*transB=*/false);
      }
      commitGroup(sAcc);
      return sAcc;
    };
    auto release = [&](Value j) {
      NVVM::MBarrierArriveOp::create(b, loc, Type(), barrier(sl.kvEmpty(), stageOf(j)),
                                     Value());
    };

    // P of key tile j from its finished S: the softmax against the running
    // (m, l) in `ml`, then P's quantization; alpha, and the new m and l in
    // mNew, lNew. P~^F stays f32 until packFrags (after the rescale of O,
    // where one tile runs at a time: qat at 16k keys ran 2% slower with it
    // packed first); P~'s BF16 fragments for O' come packed.
    const int64_t kSteps = tc::kKeyTile / 16;
    struct PTile {
      SmallVector<Acc> pq;
      SmallVector<SmallVector<Value>> pFrags;
    };
    auto pTile = [&](Value j, SmallVector<Value> sAcc, ValueRange ml, bool masked, Value mNew[2],
                     Value lNew[2], Value alpha[2]) {
      Value j0 = muli(j, idx(tc::kKeyTile));
      SmallVector<Acc> sTiles = asTiles(sAcc);
      SmallVector<Acc> p = softmaxTile(
          sTiles,
          [&](int64_t nt, int64_t e) {
            return addi(j0, addi(idx(nt * 8 + e % 2), muli(t, idx(2))));
          },
          mk, rows, masked, ml, mNew, alpha, lNew);
      // O' multiplies P~'s BF16 A fragments packed before P is quantized,
      // so the f32 P~ is not held through the quantization next to P^F
      // (H200, qat D = 128 at 16k keys: 209 -> 215 TFLOP/s, spills 16 -> 8
      // bytes).
      SmallVector<SmallVector<Value>> pFrags(kSteps);
      for (int64_t kc = 0; kc < kSteps && qat; ++kc)
        pFrags[kc] = aFromAcc(p, kc);
      SmallVector<Acc> pq = p;
      if (quantized)
        quantizeForwardP(pq, j0, rows, rowValid, fr.qBase, N, mNew, dump);
      return PTile{pq, pFrags};
    };
    // P's A fragments for P V: per k-step of 16 keys, P~^F's four, then
    // P~'s four in qat.
    auto packFrags = [&](const PTile &pt) {
      SmallVector<Value> frags;
      for (int64_t kc = 0; kc < kSteps; ++kc) {
        llvm::append_range(frags, aFromAcc(pt.pq, kc));
        if (qat)
          llvm::append_range(frags, pt.pFrags[kc]);
      }
      return frags;
    };
    // O (and O') times alpha. The integer frame moves rarely, so alpha is
    // exactly 1 for most tiles: a warp whose rows all keep their frame
    // skips the D/2 (qat: D) products.
    auto rescaled = [&](ValueRange carried, Value alpha[2]) {
      Value one = cf(1);
      Value moved = arith::OrIOp::create(
          b, loc,
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, alpha[0], one),
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, alpha[1], one));
      Value anyMoved = NVVM::VoteSyncOp::create(b, loc, b.getI1Type(), i32c(-1), moved,
                                                NVVM::VoteSyncKind::any);
      auto rescale = scf::IfOp::create(b, loc, carried.getTypes(), anyMoved,
                                       /*withElseRegion=*/true);
      OpBuilder::InsertionGuard g2(b);
      b.setInsertionPointToStart(&rescale.getThenRegion().front());
      SmallVector<Value> scaled;
      for (auto [i, x] : llvm::enumerate(carried))
        scaled.push_back(mulf(alpha[(i % 4) / 2], x));
      scf::YieldOp::create(b, loc, scaled);
      b.setInsertionPointToStart(&rescale.getElseRegion().front());
      scf::YieldOp::create(b, loc, carried);
      return SmallVector<Value>(rescale.getResults());
    };
    // O += P~^F V_j (O' += P~ V_j in qat) from P's A fragments `frags`,
    // issued and committed as one wgmma group, whose accumulators it
    // returns (O's, then O''s).
    auto issuePV = [&](Value j, ValueRange carried, ArrayRef<Value> pFrags) {
      Value vAt = addi(idx(sl.v), muli(stageOf(j), idx(sl.stageBytes)));
      SmallVector<Value> oAcc(carried.take_front(dTiles * 4)),
          opAcc(carried.drop_front(dTiles * 4));
      SmallVector<SmallVector<Value> *> accs{&oAcc};
      if (qat)
        accs.push_back(&opAcc);
      // The fragments pass the fence with the accumulators, so the wgmmas
      // issue back to back.
      SmallVector<Value> frags = fence(accs, pFrags);
      ArrayRef<Value> aFrag(frags);
      for (int64_t kc = 0; kc < kSteps; ++kc) {
        Value vDesc = descriptor(addi(vAt, idx(kc * 2 * kAtomBytes)), colBlock);
        wgmma(oAcc, aFrag.take_front(4), Value(), vDesc, /*transB=*/true);
        aFrag = aFrag.drop_front(4);
        if (qat) {
          wgmma(opAcc, aFrag.take_front(4), Value(), vDesc, /*transB=*/true);
          aFrag = aFrag.drop_front(4);
        }
      }
      SmallVector<Value> all = joined(accs);
      commitGroup(all);
      return all;
    };
    auto withStats = [](SmallVector<Value> accs, Value mNew[2], Value lNew[2]) {
      accs.append({mNew[0], mNew[1], lNew[0], lNew[1]});
      return accs;
    };

    // The fully visible key tiles [lb, ub), software-pipelined as in
    // FlashAttention-3: each step issues S of tile j, then P_{j-1} V_{j-1},
    // and waits for S alone, so the softmax of tile j runs while the
    // tensor cores multiply P_{j-1} V_{j-1}; O is rescaled once that has
    // finished. Nothing is in flight across the back edge (only
    // P's fragments are carried), so no copy of an accumulator lands
    // between a wgmma and its wait (ptxas would serialize the wgmmas, info
    // C7514).
    auto runPipelined = [&](Value lb, Value ub, ValueRange init) {
      auto any = scf::IfOp::create(b, loc, init.getTypes(), ult(lb, ub),
                                   /*withElseRegion=*/true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&any.getElseRegion().front());
      scf::YieldOp::create(b, loc, init);
      b.setInsertionPointToStart(&any.getThenRegion().front());
      Value mNew[2], lNew[2], alpha[2];
      SmallVector<Value> sAcc = issueS(lb);
      waitGroup(sAcc, 0);
      SmallVector<Value> frags =
          packFrags(pTile(lb, sAcc, init.slice(accCount, 4), /*masked=*/false, mNew, lNew, alpha));
      SmallVector<Value> carried =
          withStats(rescaled(init.take_front(accCount), alpha), mNew, lNew);
      int64_t fragCount = frags.size();
      carried.append(frags);
      auto loop = scf::ForOp::create(b, loc, addi(lb, idx(1)), ub, idx(1), carried);
      {
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToStart(loop.getBody());
        ValueRange st = loop.getRegionIterArgs();
        Value j = loop.getInductionVar(), prev = subi(j, idx(1));
        SmallVector<Value> s = issueS(j);
        SmallVector<Value> pv =
            issuePV(prev, st.take_front(accCount), SmallVector<Value>(st.take_back(fragCount)));
        waitGroup(s, 1); // S of tile j; P_{j-1} V_{j-1} may still run
        SmallVector<Value> next =
            packFrags(pTile(j, s, st.slice(accCount, 4), /*masked=*/false, mNew, lNew, alpha));
        waitGroup(pv, 0);
        release(prev);
        SmallVector<Value> yield = withStats(rescaled(pv, alpha), mNew, lNew);
        yield.append(next);
        scf::YieldOp::create(b, loc, yield);
      }
      ValueRange res = loop.getResults();
      SmallVector<Value> pv = issuePV(subi(ub, idx(1)), res.take_front(accCount),
                                      SmallVector<Value>(res.take_back(fragCount)));
      waitGroup(pv, 0);
      release(subi(ub, idx(1)));
      pv.append(res.begin() + accCount, res.begin() + accCount + 4);
      scf::YieldOp::create(b, loc, pv);
      return any;
    };

    // Tiles with visibility tests, one at a time: S of tile j, wait, the
    // softmax and P codec, P V, wait.
    auto runTiles = [&](Value lb, Value ub, ValueRange init, bool masked) {
      auto loop = scf::ForOp::create(b, loc, lb, ub, idx(1), init);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      ValueRange st = loop.getRegionIterArgs();
      Value j = loop.getInductionVar();
      SmallVector<Value> sAcc = issueS(j);
      waitGroup(sAcc, 0);
      Value mNew[2], lNew[2], alpha[2];
      PTile pt = pTile(j, sAcc, st.slice(accCount, 4), masked, mNew, lNew, alpha);
      SmallVector<Value> o = rescaled(st.take_front(accCount), alpha);
      SmallVector<Value> all = issuePV(j, o, packFrags(pt));
      waitGroup(all, 0);
      // The stage's reads are done: the producer may refill it.
      release(j);
      scf::YieldOp::create(b, loc, withStats(all, mNew, lNew));
      return loop;
    };

    ValueRange visible = split.pipelined
                             ? runPipelined(idx(0), fullTiles, init).getResults()
                             : runTiles(idx(0), fullTiles, init, /*masked=*/false).getResults();
    // Causal: the block's last key tiles can lie wholly above this
    // warpgroup's rows (the first warpgroup's last tile): it stops at its
    // own rows' end as the block does at its own (keyEnd). They are the
    // block's last tiles, so no refill waits for their release.
    Value wgTiles = numTiles;
    if (op.getCausal())
      wgTiles =
          b.createOrFold<arith::CeilDivUIOp>(loc, minu(N, addi(wgQ0, idx(64))), idx(tc::kKeyTile));
    auto rest = runTiles(fullTiles, wgTiles, visible, /*masked=*/true);
    float gP = quantized ? config.getPGlobalScale() : 1.0f;
    storeForwardOutputs(out, rest.getResults().take_front(accCount + 4), accCount, rows,
                        rowValid, fr.qBase, gP);
  });
}

} // namespace

int64_t tc::wgmmaThreads(AttentionOp op) { return WgSplit(op).threads(); }
int64_t tc::wgmmaQueryRows(AttentionOp op) { return WgSplit(op).rows(); }
int64_t tc::wgmmaSharedBytes(AttentionOp op) {
  WgSplit split(op);
  return WgLayout(headDim(op), split.rows(), split.stages).total;
}

void tc::buildWgmmaForward(gpu::GPUFuncOp func, AttentionOp op, bool dumpP) {
  WgmmaForwardBuilder(func, op, dumpP).build();
}
