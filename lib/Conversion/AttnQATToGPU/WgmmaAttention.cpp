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
//   warpgroup 0   producer: per work unit (a query tile of one head) Q,
//                 then K and V tiles into two stages
//                 (three when pipelined, below) of shared memory, 128-byte
//                 swizzle: by TMA, one thread issuing boxes of the tensor
//                 maps the runtime encodes (`tma-loads`), or by cp.async,
//                 16 bytes per copy; an mbarrier per stage tracks the
//                 bytes (expect_tx) or the copies
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
// With three consumers the block is persistent (WgSchedule): one per SM,
// walking query tiles in rounds, the next unit's Q and first K/V tiles
// loading while the consumers finish the current one.
//
// In mode none without causality, and in qat at D = 128 (two consumers),
// the fully visible tiles run software-pipelined (FlashAttention-3's
// intra-warpgroup overlap): S of tile j and P_{j-1} V_{j-1} issue together,
// and the softmax of tile j runs while the tensor cores finish
// P_{j-1} V_{j-1}. Elsewhere a tile's S, softmax and P V follow one another,
// and the other consumers fill the gaps (WgSplit says why).
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
/// the registers per thread after setmaxnreg. Three consumers of 152
/// registers and a producer of 56 (more warps to hide the softmax's and the
/// P codec's latency) wherever the accumulators leave room: qat at D = 128
/// holds O and O' (128 registers) and keeps two consumers of 232, its
/// producer 40 (with session 20's cheaper copies it no longer spills there),
/// which the pipelined NVFP4 forward needs.
/// H200, 16k keys, same run: dropin D = 128 238.9 -> 258.6 TFLOP/s with
/// three, qat D = 64 138.3 -> 150.9 (against two consumers that issued S of
/// the next tile during the softmax).
struct WgSplit {
  int64_t consumers;
  int32_t consumerRegs;
  /// Whether the fully visible tiles run software-pipelined (runPipelined):
  /// without causality in mode none, and in qat at D = 128 (two consumers
  /// of 232 registers; causal too, both formats). H200, same run, none
  /// D = 128: 16k keys 514 -> 589 TFLOP/s, 4k 490 -> 549, 1k 377 -> 410,
  /// D = 64 unchanged (377 -> 383). qat at D = 128 NVFP4 (session 22): 16k
  /// keys 240.9 -> 267.0, 4k 222.6 -> 238.1. Session 23, with the consumer
  /// index warp-uniform (no spills): MXFP4 16k +12.9%, 4k +11.3%; causal
  /// NVFP4 16k +24.7%, 4k +10.6%, MXFP4 +8.2%, +5.8% (before it, MXFP4 lost
  /// 4-5% and causal NVFP4 4-9%, spilling 168 bytes). Three consumers
  /// of 152 registers have no room for it where P is quantized (2-8%
  /// slower: P_{j-1}'s fragments held through the codec spilled); causal
  /// none lost 8% at D = 128 and D = 64.
  bool pipelined;
  /// K/V stages: three when pipelined, because then tile j's stage is freed
  /// only once P_j V_j has finished, in the middle of tile j + 1.
  int64_t stages;
  /// Persistent (WgSchedule) with three consumers. qat at D = 128 (two
  /// consumers) keeps a block per query tile: persistent, it ran 5-8%
  /// slower at 16k keys, causal (H200, same run; not explained: its tile
  /// loops' SASS is the same), where none and dropin gained 2-6%.
  bool persistent;
  /// Q buffers: a persistent block loads the next unit's Q into the other.
  int64_t qBuffers() const { return persistent ? 2 : 1; }
  int32_t producerRegs;
  /// With TMA loads (`tma`) one producer thread issues a few instructions
  /// per tile: with two consumers it drops to 24 registers and they take
  /// 240 each (ptxas 13: no spills). Three consumers keep 152: with 160, the
  /// producer's 32 held too little for a persistent block's schedule
  /// (spills of 4-20 bytes).
  explicit WgSplit(AttentionOp op, bool tma = false)
      : consumers(op.getConfig().getMode() == Mode::QAT && tc::headDim(op) > 64 ? 2 : 3),
        consumerRegs(consumers == 3 ? 152 : (tma ? 240 : 232)),
        pipelined((!op.getCausal() && !op.getConfig().isQuantized()) || consumers == 2),
        stages(pipelined ? 3 : 2), persistent(consumers == 3),
        producerRegs(consumers == 3 ? 56 : (tma ? 24 : 40)) {}
  int64_t rows() const { return 64 * consumers; }
  int64_t threads() const { return 128 * (consumers + 1); }
  /// Registers per thread at entry; setmaxnreg moves them between the roles
  /// within the block's total.
  int32_t entryRegs() const {
    int32_t regs = static_cast<int32_t>(65536 / threads()) & ~7;
    assert(128 * (producerRegs + consumers * consumerRegs) <= regs * threads() &&
           "setmaxnreg asks for more registers than the block has");
    return regs;
  }
};

/// Byte offsets from the 1024-aligned base of everything in shared memory
/// (Q buffer u at q + u * qBytes, K and V of stage s at k, v + s *
/// stageBytes), and the mbarriers: per Q buffer full, per stage K/V full,
/// per stage K/V empty (released by the consumers), per Q buffer empty
/// (room for two Q buffers). A persistent block's second Q buffer lets the
/// producer load the next work unit's Q while the consumers still multiply
/// the current one's. `total` has the slack to align the base.
struct WgLayout {
  int64_t stages, q, qBytes, k, v, stageBytes, barriers, total;
  static constexpr int64_t kQFull = 0, kKVFull = 2;
  int64_t kvEmpty() const { return kKVFull + stages; }
  int64_t qEmpty() const { return kKVFull + 2 * stages; }
  WgLayout(int64_t d, int64_t blockRows, int64_t stages, int64_t qBuffers)
      : stages(stages), q(0), qBytes(blockRows * d * 2), k(qBuffers * qBytes),
        v(k + tc::kKeyTile * d * 2), stageBytes(2 * tc::kKeyTile * d * 2),
        barriers(k + stages * stageBytes), total(barriers + (4 + 2 * stages) * 8 + kAtomBytes) {}
};

/// Which work units (a query tile of one batch and head) a block takes:
/// without persistence (WgSplit), block c is unit c. Persistent: one block
/// per SM (grid `SMs`), block c of G taking one unit per round, unit
/// sG + c in round s. Causal tiles see different numbers of keys, so there
/// the units go longest first (all heads' last tiles, then the tiles before
/// them, ...) and every other round runs backwards (unit sG + G - 1 - c): a
/// block that took a longer unit in one round takes a shorter one in the
/// next. Rounds of single units, not pairs: chunks of two units rounded
/// 1,408 units over 132 blocks up to 12 per block instead of 11 (H200, none
/// at 4k keys: 534 -> 471 TFLOP/s).
struct WgSchedule {
  Value c, blocks, count;
};

class WgmmaForwardBuilder : public WgmmaBuilder {
public:
  WgmmaForwardBuilder(gpu::GPUFuncOp func, AttentionOp op, bool dumpP)
      : WgmmaBuilder(func, op.getConfig(), tc::headDim(op)), op(op), dumpP(dumpP),
        tma(func->hasAttr("attnqat.tensor_maps")), split(op, tma),
        sl(D, split.rows(), split.stages, split.qBuffers()) {}
  void build();

private:
  AttentionOp op;
  bool dumpP;
  bool tma; // loads by TMA (`tma-loads`: the kernel takes tensor maps)
  WgSplit split;
  WgLayout sl;
  // mbarriers (index `i` of the layout's, plus `which` for per-stage ones).
  Value barrier(int64_t i, Value which = nullptr) { return mbarrier(sl.barriers, i, which); }

  /// This block's share of the `units` work units (WgSchedule).
  WgSchedule schedule(Value units) {
    WgSchedule w;
    w.c = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
    w.blocks = gpu::GridDimOp::create(b, loc, gpu::Dimension::x);
    if (!split.persistent) { // a block per unit
      w.count = idx(1);
      return w;
    }
    // Whole rounds, and one more where this block's unit of the last,
    // partial round exists.
    Value full = divu(units, w.blocks);
    Value last = w.c;
    if (op.getCausal())
      last = sel(eqi(remu(full, idx(2)), idx(0)), w.c, subi(subi(w.blocks, idx(1)), w.c));
    w.count = addi(full, sel(ult(last, remu(units, w.blocks)), idx(1), idx(0)));
    return w;
  }
  /// Whether the pipelined loop comes in two copies, one for rows whose
  /// frames stay near (nearFrameBound): P~ by bits (NVFP4-like P), scores
  /// without an additive mask (whose values no bound covers), and K in
  /// NVFP4, whose values are at most 6 * 448 * g (g its global scale).
  /// Not causal: there the split measured 0.985 and 0.992 of one loop at 4k
  /// keys (H100, two same-run A/Bs; 16k 1.016 and 0.993), against 1.022 to
  /// 1.055 without causality (session 36).
  bool nearFrameSplit(const Masking &mk) {
    return pTildeByBits() && !mk.mask && !mk.causal && isa<NVFP4Attr>(config.getK());
  }
  /// Whether every score of this warpgroup's 64 rows is provably below 2^21
  /// in magnitude, so that every frame stays near (below 2^22, or infinite
  /// or NaN): |s_ij| <= |c| sum_d |q_id| |k_jd| <= |c| |q_i|_1 6 * 448 * g
  /// for K in NVFP4, with a margin of 2^-10 for the f32 sums. Each of the
  /// warpgroup's 128 threads sums half of one row of Q from its tile in
  /// shared memory (a row's 16-byte chunks in any order: the swizzle does
  /// not matter to a sum); a NaN or infinite Q gives false. The answer is
  /// made warpgroup-uniform (the loops hold wgmma) by a reduction on named
  /// barrier 1 + c. `qAt`: the warpgroup's Q tile; `c`: its index.
  Value nearFrameBound(Value qAt, Value c, Value scaleLog2e) {
    Value ctid = remu(gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x), idx(128));
    Value row = divu(ctid, idx(2)), half = remu(ctid, idx(2));
    const int64_t chunks = D / 8; // 16-byte chunks per row
    auto v8 = VectorType::get({8}, f32());
    Value sum = arith::ConstantOp::create(b, loc, v8, DenseElementsAttr::get(v8, 0.0f));
    for (int64_t i = 0; i < chunks / 2; ++i) {
      // Chunk ch of the row: column block ch / 8, slot ch % 8.
      Value ch = addi(muli(half, idx(chunks / 2)), idx(i));
      Value at = addi(qAt, addi(muli(divu(ch, idx(8)), idx(split.rows() * kRowBytes)),
                                addi(muli(row, idx(kRowBytes)), muli(remu(ch, idx(8)), idx(16)))));
      Value x = vector::LoadOp::create(b, loc, VectorType::get({8}, bf16()), smemBf16,
                                       ValueRange{divu(addi(pad, at), idx(2))},
                                       /*nontemporal=*/false, llvm::Align(16));
      sum = arith::AddFOp::create(
          b, loc, sum, math::AbsFOp::create(b, loc, arith::ExtFOp::create(b, loc, v8, x)));
    }
    Value l1 = vector::ExtractOp::create(b, loc, sum, ArrayRef<int64_t>{0});
    for (int64_t e = 1; e < 8; ++e)
      l1 = addf(l1, vector::ExtractOp::create(b, loc, sum, ArrayRef<int64_t>{e}));
    l1 = laneReduce(l1, /*isMax=*/false, {1});
    const double kMax = 6.0 * 448.0 * config.getK().getGlobalScaleValue();
    Value bound = mulf(mulf(l1, math::AbsFOp::create(b, loc, scaleLog2e)),
                       cf(kMax * (1.0 + 1.0 / 1024)));
    Value near = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, bound,
                                       cf(kNearFrame / 2));
    // bar.red.and over the warpgroup's 128 threads, as inline PTX:
    // nvvm.barrier takes a reduction only on barrier 0 (the whole block).
    auto red = LLVM::InlineAsmOp::create(
        b, loc, i32(),
        ValueRange{arith::ExtUIOp::create(b, loc, i32(), near), toI32(addi(c, idx(1)))},
        "{ .reg .pred p, q; setp.ne.u32 p, $1, 0; bar.red.and.pred q, $2, 128, p; "
        "selp.u32 $0, 1, 0, q; }",
        "=r,r,r", /*has_side_effects=*/true, /*is_align_stack=*/false,
        LLVM::tailcallkind::TailCallKind::None,
        LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT),
        /*operand_attrs=*/ArrayAttr());
    // Broadcast from lane 0, so that ptxas sees a warp-uniform branch: in
    // a branch it cannot prove uniform, the loops' wgmma descriptors left
    // the uniform registers (32 R2UR per tile).
    Value uniform = warpUniform(arith::IndexCastUIOp::create(b, loc, b.getIndexType(),
                                                             red.getResult(0)));
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, uniform, idx(0));
  }
  /// Work unit `s` (index) of this block as (query tile, head, batch).
  std::array<Value, 3> unitAt(const WgSchedule &w, Value s, Value qTiles, Value Hq, Value batches) {
    if (!split.persistent) {
      // Grid (query tile, head, batch); causal: each head's longest tile
      // first, as the GPU starts blocks in index order and the short ones
      // then fill the tail.
      Value qTile = op.getCausal() ? subi(subi(w.blocks, idx(1)), w.c) : w.c;
      return {qTile, gpu::BlockIdOp::create(b, loc, gpu::Dimension::y),
              gpu::BlockIdOp::create(b, loc, gpu::Dimension::z)};
    }
    Value round = muli(s, w.blocks);
    if (!op.getCausal()) { // tiles fastest, then heads and batches
      Value u = addi(round, w.c);
      Value hb = divu(u, qTiles);
      return {remu(u, qTiles), remu(hb, Hq), divu(hb, Hq)};
    }
    Value back = subi(subi(w.blocks, idx(1)), w.c);
    Value u = addi(round, sel(eqi(remu(s, idx(2)), idx(0)), w.c, back));
    Value heads = muli(Hq, batches);
    Value hb = remu(u, heads);
    return {subi(subi(qTiles, idx(1)), divu(u, heads)), remu(hb, Hq), divu(hb, Hq)};
  }
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
  Value batches = func.getBody().front().getArguments().take_back(7).front();
  // With TMA: the tensor maps.
  Value qMap, kMap, vMap;
  if (tma)
    qMap = paramOfRole("q_map"), kMap = paramOfRole("k_map"), vMap = paramOfRole("v_map");
  // A barrier a stage's copies fill: one arrival per producer thread
  // (cp.async.mbarrier.arrive.noinc), or the TMA issuer's one with the bytes.
  const int64_t fillArrivals = tma ? 1 : 128;
  Value qTiles = b.createOrFold<arith::CeilDivUIOp>(loc, M, idx(split.rows()));
  WgSchedule work = schedule(muli(muli(qTiles, Hq), batches));
  // A unit's key tiles: causal rows see keys up to their own.
  auto tilesOf = [&](Value q0) {
    Value keyEnd = N;
    if (op.getCausal())
      keyEnd = minu(N, addi(q0, idx(split.rows())));
    return b.createOrFold<arith::CeilDivUIOp>(loc, keyEnd, idx(tc::kKeyTile));
  };

  setUpPCodecTable(tid, split.threads(), /*barrier=*/false); // the one below
  when(eqi(tid, idx(0)), [&] {
    auto init = [&](int64_t i, int64_t count) {
      NVVM::MBarrierInitOp::create(b, loc, barrier(i), i32c(count), Value());
    };
    for (int64_t u = 0; u < split.qBuffers(); ++u) {
      init(WgLayout::kQFull + u, fillArrivals);
      if (split.persistent) // a block per unit never refills Q
        init(sl.qEmpty() + u, 128 * split.consumers);
    }
    for (int64_t s = 0; s < split.stages; ++s) {
      init(WgLayout::kKVFull + s, fillArrivals);
      init(sl.kvEmpty() + s, 128 * split.consumers);
    }
  });
  gpu::BarrierOp::create(b, loc);

  // Both roles walk the block's units in order and number the key tiles of
  // all of them in one sequence (`ring`), which picks the stage and phase.
  auto unitLoop = [&](llvm::function_ref<Value(Value s, Value ring)> body) {
    if (!split.persistent) { // the one unit
      body(idx(0), idx(0));
      return;
    }
    auto loop = scf::ForOp::create(b, loc, idx(0), work.count, idx(1), ValueRange{idx(0)});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value next = body(loop.getInductionVar(), loop.getRegionIterArgs()[0]);
    scf::YieldOp::create(b, loc, next);
  };
  // The thread index, opaque in a persistent block (above its loops).
  auto perUnit = [&](Value x) { return split.persistent ? opaque(x) : x; };
  Value qBuffer; // the unit's Q buffer
  auto qUse = [&](Value s) { return divu(s, idx(split.qBuffers())); };

  // ---- Producer: per unit Q, then K and V tiles as the stages free up. ---
  // With TMA one thread issues every load; the warpgroup's others are done.
  auto produce = [&] {
    unitLoop([&](Value s, Value ring) {
      auto [qTile, h, bi] = unitAt(work, s, qTiles, Hq, batches);
      Value q0 = muli(qTile, idx(split.rows()));
      Value numTiles = tilesOf(q0);
      Value hk = divu(h, divu(Hq, Hkv));
      Value qBase = muli(addi(muli(bi, Hq), h), M);
      Value kvBase = muli(addi(muli(bi, Hkv), hk), N);
      qBuffer = remu(s, idx(split.qBuffers()));
      // The buffer's previous unit has finished its products.
      when(uge(s, idx(split.qBuffers())),
           [&] { waitUse(barrier(sl.qEmpty(), qBuffer), subi(qUse(s), idx(1))); });
      Value qAt = addi(idx(sl.q), muli(qBuffer, idx(sl.qBytes)));
      if (tma) {
        // Boxes of 64 columns by the block's rows: one per column block.
        Value full = barrier(WgLayout::kQFull, qBuffer);
        expectBytes(full, sl.qBytes);
        Value head = toI32(addi(muli(bi, Hq), h));
        for (int64_t cb = 0; cb < D / 64; ++cb)
          tmaLoad(qMap, addi(qAt, idx(cb * split.rows() * kRowBytes)),
                  {i32c(cb * 64), toI32(q0), head}, full);
      } else {
        copyRows(perUnit(tid), q, qBase, q0, M, split.rows(), qAt);
        NVVM::CpAsyncMBarrierArriveOp::create(b, loc, barrier(WgLayout::kQFull, qBuffer),
                                              /*noinc=*/true);
      }
      auto loop = scf::ForOp::create(b, loc, idx(0), numTiles, idx(1));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value j = loop.getInductionVar();
      Value r = addi(ring, j);
      Value st = remu(r, idx(split.stages));
      when(uge(r, idx(split.stages)),
           [&] { waitUse(barrier(sl.kvEmpty(), st), subi(divu(r, idx(split.stages)), idx(1))); });
      Value j0 = muli(j, idx(tc::kKeyTile));
      Value stageAt = muli(st, idx(sl.stageBytes));
      // A persistent block's copy offsets made anew for each tile (from an
      // opaque tid): hoisted out of the loops, they held more registers than
      // the producer has (56; ptxas spilled).
      if (tma) {
        Value full = barrier(WgLayout::kKVFull, st);
        expectBytes(full, sl.stageBytes);
        Value head = toI32(addi(muli(bi, Hkv), hk));
        for (int64_t cb = 0; cb < D / 64; ++cb) {
          SmallVector<Value> at{i32c(cb * 64), toI32(j0), head};
          tmaLoad(kMap, addi(idx(sl.k + cb * colBlock), stageAt), at, full);
          tmaLoad(vMap, addi(idx(sl.v + cb * colBlock), stageAt), at, full);
        }
      } else {
        Value ptid = perUnit(tid);
        copyRows(ptid, k, kvBase, j0, N, tc::kKeyTile, addi(idx(sl.k), stageAt));
        copyRows(ptid, v, kvBase, j0, N, tc::kKeyTile, addi(idx(sl.v), stageAt));
        NVVM::CpAsyncMBarrierArriveOp::create(b, loc, barrier(WgLayout::kKVFull, st),
                                              /*noinc=*/true);
      }
      b.setInsertionPointAfter(loop);
      return addi(ring, numTiles);
    });
  };
  when(eqi(wg, idx(0)), [&] {
    NVVM::SetMaxRegisterOp::create(b, loc, split.producerRegs,
                                   NVVM::SetMaxRegisterAction::decrease);
    if (tma)
      when(eqi(tid, idx(0)), produce);
    else
      produce();
  });

  // ---- Consumers: 64 query rows per warpgroup. ---------------------------
  when(uge(wg, idx(1)), [&] {
    NVVM::SetMaxRegisterOp::create(b, loc, split.consumerRegs,
                                   NVVM::SetMaxRegisterAction::increase);
    unitLoop([&](Value s, Value ring) {
      // The lanes' coordinates made per unit, as the block-per-unit kernel
      // makes them once: what LLVM hoisted out of the unit loop spilled.
      Value ctid = subi(perUnit(tid), idx(128));
      setUpLanes(ctid);
      Value cw = divu(ctid, idx(32)); // warp among the consumers: 16 rows
      Value c = divu(ctid, idx(128)); // consumer warpgroup: 64 rows
      // Two consumers: c made warp-uniform for ptxas, so that Q's D/16 wgmma
      // descriptors (LLVM hoists them out of the tile loops) stay in uniform
      // registers; in regular ones they spilled 56-168 bytes. With three
      // consumers it moved none and dropin at D = 128 by -3..+3% and D = 64
      // by -5% (none, qat) to +7% (dropin) on the H200: left as it is.
      if (split.consumers == 2)
        c = warpUniform(c);
      auto [qTile, h, bi] = unitAt(work, s, qTiles, Hq, batches);
      ForwardRows fr = forwardRowsOf(qTile, h, bi, cw, Hq, Hkv, M, N, split.rows());
      const Value *rows = fr.rows, *rowValid = fr.rowValid;
      Value numTiles = tilesOf(fr.q0);
      Masking mk = forwardMasking(op, mask, lengths, fr.bi, fr.h, M, N, Hq, scale);
      Value wgQ0 = addi(fr.q0, muli(c, idx(64)));
      Value fullTiles = fullKeyTiles(op.getCausal(), wgQ0, N, mk.keyLen, numTiles);
      qBuffer = remu(s, idx(split.qBuffers()));
      Value qAt =
          addi(addi(idx(sl.q), muli(qBuffer, idx(sl.qBytes))), muli(c, idx(64 * kRowBytes)));

      SmallVector<Value> init;
      int64_t accCount = (qat ? 2 : 1) * dTiles * 4;
      for (int64_t i = 0; i < accCount; ++i)
        init.push_back(cf(0));
      init.append({cf(-kInf), cf(-kInf), cf(0), cf(0)});
      waitUse(barrier(WgLayout::kQFull, qBuffer), qUse(s));

      // Key tile j of the unit is tile ring + j of the block's sequence.
      // In 32 bits (the sequence stays far below 2^32): a 64-bit division by
      // three costs a tile some 20 uniform instructions.
      const int64_t stages = split.stages;
      auto inRing = [&](Value j, bool quotient) {
        Value r = toI32(addi(ring, j)), n = i32c(stages);
        Value v = quotient ? arith::DivUIOp::create(b, loc, r, n).getResult()
                           : arith::RemUIOp::create(b, loc, r, n).getResult();
        return arith::IndexCastUIOp::create(b, loc, b.getIndexType(), v).getResult();
      };
      auto stageOf = [&](Value j) { return inRing(j, /*quotient=*/false); };
      auto useOf = [&](Value j) { return inRing(j, /*quotient=*/true); };
      // S = Q K_j^T (64 rows x 64 keys, k-steps of 16 along D), issued and
      // committed as one wgmma group once the producer has filled the stage.
      auto issueS = [&](Value j) {
        waitUse(barrier(WgLayout::kKVFull, stageOf(j)), useOf(j));
        // The producer's cp.async writes, seen by the async proxy (wgmma);
        // TMA writes through that proxy already.
        if (!tma)
          fenceProxyAsync();
        Value kAt = addi(idx(sl.k), muli(stageOf(j), idx(sl.stageBytes)));
        SmallVector<Value> sAcc(nTiles * 4, cf(0));
        fence(sAcc);
        for (int64_t kc = 0; kc < kChunks; ++kc) {
          int64_t inRow = (kc % 4) * 32; // k-steps of 32 bytes inside a row
          Value aDesc = descriptor(qAt, (kc / 4) * split.rows() * kRowBytes + inRow, 16);
          Value bDesc = descriptor(kAt, (kc / 4) * colBlock + inRow, 16);
          wgmma(sAcc, {}, aDesc, bDesc, /*transB=*/false);
        }
        commitGroup(sAcc);
        return sAcc;
      };
      auto release = [&](Value j) {
        NVVM::MBarrierArriveOp::create(b, loc, Type(), barrier(sl.kvEmpty(), stageOf(j)), Value());
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
        SmallVector<Value> scalePairs; // with gridTimesScales: pq's block scales, twice
      };
      // NVFP4 P^F's fragments as codes times scales in BF16 (aFromAcc's
      // scalePairs); MXFP4's power-of-two scales reach f32's subnormals,
      // so they keep the f32 products.
      const bool gridTimesScales =
          quantized && !FP4Arith::scalesArePowersOfTwo(config.getP(), config.getPGlobalScale());
      // A P block's amax is P~ of its largest score (softmaxTile's block
      // maxima, quantizeForwardP), so
      // the scales' shuffles no longer wait for the tile's P~. H100, same
      // run, three rounds, forward TFLOP/s (O bit-identical): qat MXFP4 at
      // D = 64 204.3 -> 228.9, dropin D = 64 213.6 -> 219.0. The pipelined
      // qat D = 128 forward ran 4-7% slower with it alone: ptxas hoisted
      // the scales' chain ahead of the tile's P~ and waited for
      // P_{j-1} V_{j-1} at instruction 236 of the step instead of 500 to
      // free registers for them. Held behind the row sums there (the wait
      // at 545), it ran +2.2% / +4.2% (causal) at 16k keys, +1.2% / -1.7%
      // at 4k in NVFP4, +3.6% / +7.0% and +1.9% / +4.3% in MXFP4.
      auto pTile = [&](Value j, SmallVector<Value> sAcc, ValueRange ml, bool masked, Value mNew[2],
                       Value lNew[2], Value alpha[2]) {
        Value j0 = muli(j, idx(tc::kKeyTile));
        SmallVector<Acc> sTiles = asTiles(sAcc);
        SmallVector<Value> blockScoreMax;
        SmallVector<Acc> p = softmaxTile(
            sTiles,
            [&](int64_t nt, int64_t e) {
              return addi(j0, addi(idx(nt * 8 + e % 2), muli(t, idx(2))));
            },
            mk, rows, masked, ml, mNew, alpha, lNew,
            quantized ? config.getP().getBlockSize() : 0, quantized ? &blockScoreMax : nullptr);
        // O' multiplies P~'s BF16 A fragments packed before P is quantized,
        // so the f32 P~ is not held through the quantization next to P^F
        // (H200, qat D = 128 at 16k keys: 209 -> 215 TFLOP/s, spills 16 -> 8
        // bytes).
        SmallVector<SmallVector<Value>> pFrags(kSteps);
        for (int64_t kc = 0; kc < kSteps && qat; ++kc)
          pFrags[kc] = aFromAcc(p, kc);
        SmallVector<Acc> pq = p;
        SmallVector<Value> scalePairs;
        if (quantized)
          quantizeForwardP(pq, j0, rows, rowValid, fr.qBase, N, mNew, dump,
                           gridTimesScales ? &scalePairs : nullptr, blockScoreMax,
                           /*finite=*/!masked && !mk.mask,
                           /*rowSums=*/split.pipelined ? lNew : nullptr);
        for (Value &s : scalePairs)
          s = pairBF16(s, s);
        return PTile{pq, pFrags, scalePairs};
      };
      // P's A fragments for P V: per k-step of 16 keys, P~^F's four, then
      // P~'s four in qat.
      auto packFrags = [&](const PTile &pt) {
        SmallVector<Value> frags;
        for (int64_t kc = 0; kc < kSteps; ++kc) {
          llvm::append_range(frags, aFromAcc(pt.pq, kc, pt.scalePairs));
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
            b, loc, arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, alpha[0], one),
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
          Value vDesc = descriptor(vAt, kc * 2 * kAtomBytes, colBlock);
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
        SmallVector<Value> frags = packFrags(
            pTile(lb, sAcc, init.slice(accCount, 4), /*masked=*/false, mNew, lNew, alpha));
        // The near-frame loop's precondition, checked outside the loop (a
        // check in it moved ptxas's schedule): frames only rise, so every
        // frame lies between the first tile's (finite: no score of a
        // fully visible tile is -inf unless the bound is broken) and the
        // last one; a NaN frame stays NaN (its row is NaN anyway).
        if (nearFramesOnly)
          trapOnFarFrame({mNew[0], mNew[1]}, /*negInfToo=*/true);
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
        if (nearFramesOnly)
          trapOnFarFrame({res[accCount], res[accCount + 1]});
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

      ValueRange visible;
      if (!split.pipelined) {
        visible = runTiles(idx(0), fullTiles, init, /*masked=*/false).getResults();
      } else if (!nearFrameSplit(mk)) {
        visible = runPipelined(idx(0), fullTiles, init).getResults();
      } else {
        // Two copies of the pipelined loop: P~ without its pivot where the
        // warpgroup's rows provably keep near frames, the general one else.
        auto choice = scf::IfOp::create(b, loc, ValueRange(init).getTypes(),
                                        nearFrameBound(qAt, c, mk.scaleLog2e),
                                        /*withElseRegion=*/true);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(&choice.getThenRegion().front());
        nearFramesOnly = true;
        scf::YieldOp::create(b, loc, runPipelined(idx(0), fullTiles, init).getResults());
        nearFramesOnly = false;
        b.setInsertionPointToStart(&choice.getElseRegion().front());
        scf::YieldOp::create(b, loc, runPipelined(idx(0), fullTiles, init).getResults());
        visible = choice.getResults();
      }
      // Causal: the unit's last key tiles can lie wholly above this
      // warpgroup's rows (the first warpgroup's last tile): it stops at its
      // own rows' end as the unit does at its own (a persistent block still
      // releases them, below).
      Value wgTiles = numTiles;
      if (op.getCausal())
        wgTiles = b.createOrFold<arith::CeilDivUIOp>(loc, minu(N, addi(wgQ0, idx(64))),
                                                     idx(tc::kKeyTile));
      auto rest = runTiles(fullTiles, wgTiles, visible, /*masked=*/true);
      if (split.persistent) // every S of the unit has finished: Q may be refilled
        NVVM::MBarrierArriveOp::create(b, loc, Type(), barrier(sl.qEmpty(), qBuffer), Value());
      if (op.getCausal() && split.persistent) {
        // The skipped tiles' stages still count this warpgroup's release
        // before the producer refills them for the next unit; each is
        // released once filled (its previous use then complete).
        auto skipped = scf::ForOp::create(b, loc, wgTiles, numTiles, idx(1));
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(skipped.getBody());
        Value j = skipped.getInductionVar();
        waitUse(barrier(WgLayout::kKVFull, stageOf(j)), useOf(j));
        release(j);
      }
      float gP = quantized ? config.getPGlobalScale() : 1.0f;
      storeForwardOutputs(out, rest.getResults().take_front(accCount + 4), accCount, rows, rowValid,
                          fr.qBase, gP);
      return addi(ring, numTiles);
    });
  });
}

} // namespace

int64_t tc::wgmmaThreads(AttentionOp op) { return WgSplit(op).threads(); }
std::array<std::string, 3> tc::wgmmaGrid(AttentionOp op) {
  WgSplit split(op);
  if (split.persistent)
    return {"SMs", "1", "1"};
  return {"ceil(M/" + std::to_string(split.rows()) + ")", "Hq", "B"};
}
int64_t tc::wgmmaSharedBytes(AttentionOp op) {
  WgSplit split(op);
  return WgLayout(headDim(op), split.rows(), split.stages, split.qBuffers()).total;
}

void tc::describeWgmmaTensorMaps(gpu::GPUFuncOp func, AttentionOp op) {
  Builder b(func.getContext());
  func->setAttr(
      "attnqat.tensor_maps",
      b.getDictionaryAttr(
          {b.getNamedAttr("q_map", tensorMapAttr(b, "q", "M", "B*Hq", WgSplit(op).rows())),
           b.getNamedAttr("k_map", tensorMapAttr(b, "k", "N", "B*Hkv", tc::kKeyTile)),
           b.getNamedAttr("v_map", tensorMapAttr(b, "v", "N", "B*Hkv", tc::kKeyTile))}));
}

void tc::buildWgmmaForward(gpu::GPUFuncOp func, AttentionOp op, bool dumpP) {
  WgmmaForwardBuilder(func, op, dumpP).build();
}
