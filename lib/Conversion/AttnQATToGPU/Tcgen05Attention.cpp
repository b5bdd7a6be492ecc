//===- Tcgen05Attention.cpp - the sm_100a forward on tcgen05 ---------------===//
//
// Blackwell datacenter chips (sm_100a) run the block-scaled MMA
// asynchronously from shared memory into tensor memory (TMEM):
// `tcgen05.mma.cta_group::1.kind::mxf4nvf4.block_scale`, one thread
// issuing for the block, scale factors copied into TMEM by `tcgen05.cp`,
// results read back with `tcgen05.ld`. The forward keeps the Hopper and
// sm_120a kernels' description (TileBuilder: the masked log2-domain score,
// the integer-frame online softmax over 64-key tiles, FP4Arith's P codec and
// its E2M1 word, the row finish) and gives each step a warp role, in the
// manner of FlashAttention-4:
//
//   warps 0-3  softmax: a thread per query row (TMEM lane). S from TMEM,
//              scores, the frame step, P~ and its NVFP4/MXFP4 codes and
//              scales into shared memory (P is the A operand of P V), alpha
//              to the correction warps; m, l, LSE at the end.
//   warps 4-7  correction: O *= alpha in TMEM between P V products (skipped
//              where a warp's alphas are all 1); the epilogue O / l.
//   warp  8    load: Q once, then K, V (t64) tiles and their scales into
//              two shared-memory stages, in the layouts of
//              attnqat/Target/Tcgen05Layout.h.
//   warp  9    MMA: allocates TMEM; one lane issues tcgen05.cp and
//              tcgen05.mma: S_j = Q K_j^T into one of two S buffers, then
//              O += P_{j-1} V_{j-1}, so the tensor core computes the next
//              scores while the softmax works.
//
// mbarriers order the roles (phase parity j / 2 for the two-buffer ones):
//   qFull, kvFull[s]  load -> MMA          (32 arrivals)
//   sFull[b]          S_j done -> softmax  (tcgen05.commit)
//   pFull[b]          softmax -> MMA, correction (128)
//   oFree             correction -> MMA    (128)
//   tileDone[b]       P_j V_j done -> load, softmax, correction (commit)
//   rowsDone          softmax -> epilogue  (128)
// No barrier can run two phases ahead of a waiter: each next phase needs
// the waiter's own progress (docs/gpu-kernels.md walks through it).
//
// Modes: fp4 (packed Q, K, V; O = P^F V) and qat (the same from packed
// operands, plus O' = P~ V by BF16 tcgen05.mma kind::f16: P~ in BF16 from
// the softmax, V decoded from the same t64 words by the load warp, O' in
// TMEM next to O). Verified by ptxas and SASS only: no sm_100a GPU is
// reachable from this project.
//
//===----------------------------------------------------------------------===//

#include "TensorCoreAttention.h"
#include "TileBuilder.h"

#include "attnqat/Target/Tcgen05Layout.h"

using namespace mlir;
using namespace mlir::attnqat;
using namespace mlir::attnqat::tc::detail;
namespace sm100 = ::attnqat::target::sm100;

namespace {

/// Warp roles (warp index ranges).
constexpr int64_t kSoftmaxWarps = 4, kCorrectionWarp0 = 4, kLoadWarp = 8, kMmaWarp = 9;
constexpr int64_t kWarps = 10;
/// K/V stages and S/P buffers.
constexpr int64_t kStages = 2;
/// BF16 k-steps of a key tile (O' = P~ V).
constexpr int64_t kBf16Steps = sm100::kKeyTile / sm100::kBf16K;

/// Byte offsets of everything the forward keeps in shared memory.
struct SharedLayout {
  int64_t q, k[kStages], v[kStages], p[kStages];
  int64_t pBf16[kStages] = {0, 0}, vBf16[kStages] = {0, 0}; // qat
  int64_t qScales, kScales[kStages], pScales[kStages], vScales[kStages];
  int64_t alpha, rowL, barriers, tmemSlot, total;
  SharedLayout(int64_t d, bool qat) {
    int64_t at = 0;
    auto take = [&](int64_t bytes) {
      int64_t here = at;
      at += (bytes + 15) / 16 * 16;
      return here;
    };
    int64_t steps = d / sm100::kK;
    q = take(steps * sm100::stepBytes(sm100::kRows));
    for (int64_t s = 0; s < kStages; ++s) {
      k[s] = take(steps * sm100::stepBytes(sm100::kKeyTile));
      v[s] = take(sm100::stepBytes(d));
      p[s] = take(sm100::stepBytes(sm100::kRows));
    }
    // qat: P~ (128 rows) and V^F (D rows) in BF16, 4 k-steps of 16 keys.
    for (int64_t s = 0; qat && s < kStages; ++s) {
      pBf16[s] = take(kBf16Steps * sm100::stepBytes(sm100::kRows));
      vBf16[s] = take(kBf16Steps * sm100::stepBytes(d));
    }
    qScales = take(steps * sm100::kScaleChunkBytes);
    for (int64_t s = 0; s < kStages; ++s) {
      kScales[s] = take(steps * sm100::kScaleChunkBytes);
      pScales[s] = take(sm100::kScaleChunkBytes);
      vScales[s] = take(sm100::kScaleChunkBytes);
    }
    alpha = take(kStages * sm100::kRows * 4);
    rowL = take(sm100::kRows * 4);
    barriers = take(kBarriers * 8);
    tmemSlot = take(4);
    total = at;
  }
  /// mbarrier indices.
  static constexpr int64_t kQFull = 0, kKVFull = 1, kSFull = 3, kPFull = 5, kOFree = 7,
                           kTileDone = 8, kRowsDone = 10, kBarriers = 11;
};

class Tcgen05ForwardBuilder : public TileBuilder {
public:
  Tcgen05ForwardBuilder(gpu::GPUFuncOp func, AttentionOp op)
      : TileBuilder(func, op.getConfig(), tc::headDim(op)), op(op),
        qat(op.getConfig().getMode() == Mode::QAT), acc(qat ? 2 * D : D), sl(D, qat) {}
  void build();

private:
  AttentionOp op;
  bool qat;
  int64_t acc; // accumulator columns: O, and O' in qat
  SharedLayout sl;
  Value smemI8, smemI32, smemF32; // views of the dynamic shared memory
  Value smemBase;                 // its address in the shared window (i32)
  Value smemPtr0;                 // the same as !llvm.ptr<3>
  Value tmemBase;                 // the TMEM allocation (i32)

  Value addI32(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value muli32(Value x, int64_t c) { return arith::MulIOp::create(b, loc, x, i32c(c)); }
  /// A loop over [0, n) (a runtime loop: its body's loads are not all
  /// hoisted, as an unrolled one's would be); `body(i)`.
  void forEach(Value n, llvm::function_ref<void(Value)> body) {
    auto loop = scf::ForOp::create(b, loc, idx(0), n, idx(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    body(loop.getInductionVar());
  }

  // Shared memory: byte offsets (index) into the views, and as addresses.
  Value sharedPtr(Value byteOffset) {
    return LLVM::GEPOp::create(b, loc, LLVM::LLVMPointerType::get(b.getContext(), 3),
                               b.getI8Type(), smemPtr0, ValueRange{toI32(byteOffset)});
  }
  Value sharedAddress(Value byteOffset) { return addI32(smemBase, toI32(byteOffset)); }
  void storeWords(Value byteOffset, ArrayRef<Value> words) {
    Value vec = vector::FromElementsOp::create(
        b, loc, VectorType::get({static_cast<int64_t>(words.size())}, i32()), words);
    vector::StoreOp::create(b, loc, vec, smemI32, ValueRange{divu(byteOffset, idx(4))},
                            /*nontemporal=*/false, llvm::Align(4 * words.size()));
  }
  /// 16 bytes of global `buf` at byte `at` (16-aligned) into shared memory.
  void copy16(Value buf, Value at, Value sharedOffset) {
    auto type = VectorType::get({16}, b.getI8Type());
    Value v = vector::LoadOp::create(b, loc, type, buf, ValueRange{at},
                                     /*nontemporal=*/false, llvm::Align(16));
    vector::StoreOp::create(b, loc, v, smemI8, ValueRange{sharedOffset},
                            /*nontemporal=*/false, llvm::Align(16));
  }

  // mbarriers.
  Value barrier(int64_t index, Value which = nullptr) {
    Value at = idx(sl.barriers + 8 * index);
    if (which)
      at = addi(at, muli(which, idx(8)));
    return sharedPtr(at);
  }
  void arrive(Value bar) { NVVM::MBarrierArriveOp::create(b, loc, Type(), bar, Value()); }
  /// Generic-proxy shared-memory writes made visible to tcgen05 (async proxy).
  void fenceToAsync() {
    NVVM::FenceProxyOp::create(b, loc, NVVM::ProxyKind::async_shared,
                               NVVM::SharedSpaceAttr::get(b.getContext(),
                                                          NVVM::SharedSpace::shared_cta));
  }
  void tcFence(bool after) {
    NVVM::Tcgen05FenceOp::create(b, loc,
                                 after ? NVVM::Tcgen05FenceKind::AFTER_THREAD_SYNC
                                       : NVVM::Tcgen05FenceKind::BEFORE_THREAD_SYNC);
  }

  // Tensor memory.
  Value tmem(Value lane, Value column) {
    Value a = addI32(addI32(tmemBase, arith::ShLIOp::create(b, loc, toI32(lane), i32c(16))),
                     toI32(column));
    return LLVM::IntToPtrOp::create(b, loc, LLVM::LLVMPointerType::get(b.getContext(), 6), a);
  }
  /// 32 consecutive columns of this warp's 32 lanes: lane i of the warp gets
  /// its lane's 32 words.
  SmallVector<Value> loadColumns(Value laneBase, Value column, int64_t n) {
    Value v = NVVM::Tcgen05LdOp::create(b, loc, VectorType::get({n}, i32()), /*pack=*/false,
                                        NVVM::Tcgen05LdStShape::SHAPE_32X32B,
                                        tmem(laneBase, column), Value());
    NVVM::Tcgen05WaitOp::create(b, loc, NVVM::Tcgen05WaitKind::LOAD);
    SmallVector<Value> out;
    for (int64_t i = 0; i < n; ++i)
      out.push_back(arith::BitcastOp::create(
          b, loc, f32(), vector::ExtractOp::create(b, loc, v, ArrayRef<int64_t>{i})));
    return out;
  }
  void storeColumns(Value laneBase, Value column, ArrayRef<Value> vals) {
    SmallVector<Value> words;
    for (Value x : vals)
      words.push_back(arith::BitcastOp::create(b, loc, i32(), x));
    Value v = vector::FromElementsOp::create(
        b, loc, VectorType::get({static_cast<int64_t>(words.size())}, i32()), words);
    NVVM::Tcgen05StOp::create(b, loc, /*unpack=*/false, NVVM::Tcgen05LdStShape::SHAPE_32X32B,
                              tmem(laneBase, column), v, Value());
  }
  /// A no-swizzle K-major descriptor of one k-step at shared byte `at`.
  Value descriptor(Value at) {
    Value z8 = arith::ConstantIntOp::create(b, loc, 0, 8);
    Value noAbs = arith::ConstantIntOp::create(b, loc, 0, 1);
    Value start = arith::ShRUIOp::create(b, loc, sharedAddress(at), i32c(4));
    return NVVM::Tcgen05MmaSmemDescOp::create(
        b, loc, b.getI64Type(), start, i32c(sm100::kLeadingByteOffset >> 4),
        i32c(sm100::kStrideByteOffset >> 4), z8, noAbs, z8);
  }
  /// tcgen05.cp of a staged 128 x 4 scale block at shared byte `at` into
  /// TMEM column `column` of all four lane partitions.
  void copyScales(Value at, int64_t column) {
    NVVM::Tcgen05CpOp::create(b, loc, NVVM::Tcgen05CpShape::SHAPE_32x128b,
                              NVVM::CTAGroupKind::CTA_1, NVVM::Tcgen05CpMulticast::WARPX4,
                              NVVM::Tcgen05CpSrcFormatAttr(), tmem(idx(0), idx(column)),
                              descriptor(at));
  }
  void mma(int64_t dColumn, Value aAt, Value bAt, int64_t n, bool mx, Value accumulate,
           int64_t sfaColumn, int64_t sfbColumn) {
    uint32_t idesc = sm100::blockScaledDescriptor(sm100::kRows, n, mx);
    NVVM::Tcgen05MMABlockScaleOp::create(
        b, loc, NVVM::MMABlockScaleKind::MXF4NVF4,
        NVVM::CTAGroupKind::CTA_1,
        mx ? NVVM::Tcgen05MMABlockScale::BLOCK32 : NVVM::Tcgen05MMABlockScale::BLOCK16,
        NVVM::Tcgen05MMACollectorOp::DISCARD, tmem(idx(0), idx(dColumn)), descriptor(aAt),
        descriptor(bAt), arith::ConstantIntOp::create(b, loc, static_cast<int32_t>(idesc), 32),
        accumulate, tmem(idx(0), idx(sfaColumn)), tmem(idx(0), idx(sfbColumn)));
  }
  void mmaBf16(int64_t dColumn, Value aAt, Value bAt, int64_t n, Value accumulate) {
    NVVM::Tcgen05MMAOp::create(
        b, loc, NVVM::Tcgen05MMAKind::F16, NVVM::CTAGroupKind::CTA_1,
        NVVM::Tcgen05MMACollectorOp::DISCARD, /*aShift=*/false, tmem(idx(0), idx(dColumn)),
        descriptor(aAt), descriptor(bAt),
        arith::ConstantIntOp::create(
            b, loc, static_cast<int32_t>(sm100::bf16Descriptor(sm100::kRows, n)), 32),
        accumulate, Value(), Value());
  }
  /// Where byte `byte` of row `row` of k-step `step` of an operand of
  /// `rows` rows lives, from `base` (index values; operandOffset).
  Value operandAt(Value base, int64_t rows, Value step, Value row, Value byte) {
    return addi(addi(base, muli(step, idx(sm100::stepBytes(rows)))),
                addi(addi(muli(divu(row, idx(8)), idx(sm100::kStrideByteOffset)),
                          muli(divu(byte, idx(16)), idx(sm100::kLeadingByteOffset))),
                     addi(muli(remu(row, idx(8)), idx(16)), remu(byte, idx(16)))));
  }
  /// Where scale word (all k of one k-step) of row `row` of a staged scale
  /// block starting at `base` lives (scaleChunkOffset(row, 0)).
  Value scaleChunkAt(Value base, Value row) {
    return addi(base, addi(muli(remu(row, idx(32)), idx(16)), muli(divu(row, idx(32)), idx(4))));
  }
  void commit(Value bar) {
    NVVM::Tcgen05CommitOp::create(b, loc, bar, Value(), NVVM::CTAGroupKind::CTA_1);
  }
};

void Tcgen05ForwardBuilder::build() {
  auto [q, k, v, qP, kP, vP, mask, lengths, out, Hq, Hkv, M, N, scale] =
      takeForward(op, /*packed=*/true);

  const int64_t steps = D / sm100::kK; // k-steps of S = Q K^T
  const int64_t qkBs = config.getQ().getBlockSize(), pvBs = config.getP().getBlockSize();
  const bool qkMx = qkBs != 16, pvMx = pvBs != 16;
  const int64_t scaleRow = D / qkBs; // scale bytes per Q/K row
  const int64_t keyTile = sm100::kKeyTile;

  // Shared memory (dynamic), its address, the barriers.
  auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  Value dyn = gpu::DynamicSharedMemoryOp::create(
      b, loc, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                              MemRefLayoutAttrInterface{}, workgroup));
  auto view = [&](Type elt, int64_t bytes) {
    return memref::ViewOp::create(
        b, loc,
        MemRefType::get({sl.total / bytes}, elt, MemRefLayoutAttrInterface{}, workgroup), dyn,
        idx(0), ValueRange{});
  };
  smemI8 = view(b.getI8Type(), 1);
  smemI32 = view(i32(), 4);
  smemF32 = view(f32(), 4);
  Value baseIndex = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, dyn);
  Value base64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), baseIndex);
  smemBase = arith::TruncIOp::create(b, loc, i32(), base64);
  smemPtr0 = LLVM::IntToPtrOp::create(b, loc, LLVM::LLVMPointerType::get(b.getContext(), 3),
                                      base64);

  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value warp = divu(tid, idx(32));
  Value lane = remu(tid, idx(32));
  Value qTile = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value h = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  Value bi = gpu::BlockIdOp::create(b, loc, gpu::Dimension::z);
  Value hk = divu(h, divu(Hq, Hkv));
  Value q0 = muli(qTile, idx(sm100::kRows));
  Value qBase = muli(addi(muli(bi, Hq), h), M);     // row 0 of (b, h)
  Value kvBase = muli(addi(muli(bi, Hkv), hk), N);  // key 0 of (b, hk)
  Value kvHead = addi(muli(bi, Hkv), hk);

  // Key tiles: all, or up to the block's last row when causal.
  Value keyEnd = N;
  if (op.getCausal())
    keyEnd = minu(N, addi(q0, idx(sm100::kRows)));
  Value numTiles = b.createOrFold<arith::CeilDivUIOp>(loc, keyEnd, idx(keyTile));
  Value vTiles = b.createOrFold<arith::CeilDivUIOp>(loc, N, idx(keyTile));
  Value vBlocks = b.createOrFold<arith::CeilDivUIOp>(loc, N, idx(pvBs));
  const int64_t vTileScales = keyTile / pvBs;

  // Set-up: barriers (thread 0), TMEM (the MMA warp), then everyone.
  when(eqi(tid, idx(0)), [&] {
    auto init = [&](int64_t i, int64_t count) {
      NVVM::MBarrierInitOp::create(b, loc, barrier(i), i32c(count), Value());
    };
    init(SharedLayout::kQFull, 32);
    for (int64_t s = 0; s < kStages; ++s) {
      init(SharedLayout::kKVFull + s, 32);
      init(SharedLayout::kSFull + s, 1);
      init(SharedLayout::kPFull + s, 128);
      init(SharedLayout::kTileDone + s, 1);
    }
    init(SharedLayout::kOFree, 128);
    init(SharedLayout::kRowsDone, 128);
  });
  when(eqi(warp, idx(kMmaWarp)), [&] {
    NVVM::Tcgen05AllocOp::create(b, loc, sharedPtr(idx(sl.tmemSlot)),
                                 i32c(sm100::kAllocColumns), NVVM::CTAGroupKind::CTA_1);
    NVVM::Tcgen05RelinquishAllocPermitOp::create(b, loc, NVVM::CTAGroupKind::CTA_1);
  });
  tcFence(/*after=*/false);
  gpu::BarrierOp::create(b, loc);
  tcFence(/*after=*/true);
  tmemBase = memref::LoadOp::create(b, loc, smemI32, ValueRange{idx(sl.tmemSlot / 4)});

  // ---- Load warp: Q once, then K and V tiles with their scales. ----------
  when(eqi(warp, idx(kLoadWarp)), [&] {
    // Scale words of 64 k: NVFP4 4 bytes, MXFP4 2 (bytes 0, 1).
    auto scalesOfRow = [&](Value buf, Value rowAt, int64_t step) {
      return loadScales(buf, addi(muli(rowAt, idx(scaleRow)), idx(step * (sm100::kK / qkBs))),
                        qkBs);
    };
    for (int64_t s = 0; s < steps; ++s) {
      // 128 rows x 2 halves of 16 bytes.
      for (int64_t i = 0; i < 2 * sm100::kRows / 32; ++i) {
        Value u = addi(lane, idx(32 * i));
        Value row = divu(u, idx(2)), half = remu(u, idx(2));
        Value at = addi(qBase, clampTo(addi(q0, row), M));
        copy16(q, addi(muli(at, idx(D / 2)), addi(idx(s * sm100::kStepBytes), muli(half, idx(16)))),
               operandAt(idx(sl.q), sm100::kRows, idx(s), row, muli(half, idx(16))));
      }
      for (int64_t i = 0; i < sm100::kRows / 32; ++i) {
        Value row = addi(lane, idx(32 * i));
        Value at = addi(qBase, clampTo(addi(q0, row), M));
        storeWords(scaleChunkAt(idx(sl.qScales + s * sm100::kScaleChunkBytes), row),
                   {scalesOfRow(qP.scales, at, s)});
      }
    }
    fenceToAsync();
    arrive(barrier(SharedLayout::kQFull));

    forEach(numTiles, [&](Value j) {
      Value s = remu(j, idx(kStages));
      when(uge(j, idx(kStages)), [&] {
        waitPhase(barrier(SharedLayout::kTileDone, s), parityOf(subi(divu(j, idx(2)), idx(1))));
      });
      Value j0 = muli(j, idx(keyTile));
      Value kStage = addi(idx(sl.k[0]), muli(s, idx(sl.k[1] - sl.k[0])));
      Value vStage = addi(idx(sl.v[0]), muli(s, idx(sl.v[1] - sl.v[0])));
      Value kScaleStage = addi(idx(sl.kScales[0]), muli(s, idx(sl.kScales[1] - sl.kScales[0])));
      Value vScaleStage = addi(idx(sl.vScales[0]), muli(s, idx(sl.vScales[1] - sl.vScales[0])));
      // K: 64 keys x D/2 bytes (keys past N read a clamped row: masked).
      for (int64_t st = 0; st < steps; ++st) {
        for (int64_t i = 0; i < 2 * keyTile / 32; ++i) {
          Value u = addi(lane, idx(32 * i));
          Value key = divu(u, idx(2)), half = remu(u, idx(2));
          Value at = addi(kvBase, clampTo(addi(j0, key), N));
          copy16(k,
                 addi(muli(at, idx(D / 2)), addi(idx(st * sm100::kStepBytes), muli(half, idx(16)))),
                 operandAt(kStage, keyTile, idx(st), key, muli(half, idx(16))));
        }
        for (int64_t i = 0; i < keyTile / 32; ++i) {
          Value key = addi(lane, idx(32 * i));
          Value at = addi(kvBase, clampTo(addi(j0, key), N));
          storeWords(scaleChunkAt(addi(kScaleStage, idx(st * sm100::kScaleChunkBytes)), key),
                     {scalesOfRow(kP.scales, at, st)});
        }
      }
      // V^T (t64): D rows of the tile's 32 code bytes and 64/bs scales;
      // scale bytes of blocks at or past ceil(N/bs) zeroed.
      Value tileScales = divu(j0, idx(pvBs));
      Value live = toI32(minu(subi(vBlocks, tileScales), idx(vTileScales)));
      Value keep = sel(eqi(live, i32c(vTileScales)), i32c(-1),
                       arith::SubIOp::create(
                           b, loc,
                           arith::ShLIOp::create(b, loc, i32c(1),
                                                 arith::MulIOp::create(b, loc, live, i32c(8))),
                           i32c(1)));
      // V's codes: row d, half of the tile's 32 bytes.
      auto vCodesAt = [&](Value d, Value half) {
        Value vRow = addi(muli(kvHead, idx(D)), d);
        return addi(muli(addi(muli(vRow, vTiles), j), idx(32)), muli(half, idx(16)));
      };
      for (int64_t i = 0; !qat && i < 2 * D / 32; ++i) { // qat copies while decoding
        Value u = addi(lane, idx(32 * i));
        Value d = divu(u, idx(2)), half = remu(u, idx(2));
        copy16(v, vCodesAt(d, half), operandAt(vStage, D, idx(0), d, muli(half, idx(16))));
      }
      for (int64_t i = 0; i < D / 32; ++i) {
        Value d = addi(lane, idx(32 * i));
        Value vRow = addi(muli(kvHead, idx(D)), d);
        Value words = loadScales(
            vP.scales, addi(muli(vRow, muli(vTiles, idx(vTileScales))), tileScales), pvBs);
        storeWords(scaleChunkAt(vScaleStage, d), {arith::AndIOp::create(b, loc, words, keep)});
      }
      // qat: the codes into the stage, and V^F in BF16 for O' from the same
      // bytes and scales (FP4Arith's decode; keys past N have zero codes or
      // zeroed scales).
      if (qat) {
        Value vBf = addi(idx(sl.vBf16[0]), muli(s, idx(sl.vBf16[1] - sl.vBf16[0])));
        forEach(idx(2 * D / 32), [&](Value i) {
          Value u = addi(lane, muli(i, idx(32)));
          Value d = divu(u, idx(2)), half = remu(u, idx(2));
          Value vRow = addi(muli(kvHead, idx(D)), d);
          Value bytes = vector::LoadOp::create(
              b, loc, VectorType::get({16}, b.getI8Type()), v, ValueRange{vCodesAt(d, half)},
              /*nontemporal=*/false, llvm::Align(16));
          vector::StoreOp::create(b, loc, bytes, smemI8,
                                  ValueRange{operandAt(vStage, D, idx(0), d, muli(half, idx(16)))},
                                  /*nontemporal=*/false, llvm::Align(16));
          Value sw = arith::AndIOp::create(
              b, loc,
              loadScales(vP.scales,
                         addi(muli(vRow, muli(vTiles, idx(vTileScales))), tileScales), pvBs),
              keep);
          // Keys 32 half + 2 e (+1): byte e of the 16; block (32 half + 2 e) / bs.
          SmallVector<Value> pairs;
          for (int64_t e = 0; e < 16; ++e) {
            Value byte = vector::ExtractOp::create(b, loc, bytes, ArrayRef<int64_t>{e});
            Value blk = addi(muli(half, idx(32 / pvBs)), idx(2 * e / pvBs));
            Value sb = arith::TruncIOp::create(
                b, loc, b.getI8Type(),
                arith::ShRUIOp::create(b, loc, sw, muli32(toI32(blk), 8)));
            Value sc = fp.decodeScale(vP.format, sb);
            pairs.push_back(packBF16(decodeNibble(vP, byte, false, sc),
                                     decodeNibble(vP, byte, true, sc)));
          }
          // 32 keys = BF16 k-steps 2 half, 2 half + 1: 4 stores of 8 keys.
          for (int64_t g8 = 0; g8 < 4; ++g8)
            storeWords(operandAt(vBf, D, addi(muli(half, idx(2)), idx(g8 / 2)), d,
                                 idx((g8 % 2) * 16)),
                       ArrayRef<Value>(pairs).slice(4 * g8, 4));
        });
      }
      fenceToAsync();
      arrive(barrier(SharedLayout::kKVFull, s));
    });
  });

  // ---- MMA warp: one lane issues. --------------------------------------
  when(andi(eqi(warp, idx(kMmaWarp)), eqi(lane, idx(0))), [&] {
    Value falseV = arith::ConstantIntOp::create(b, loc, 0, 1);
    Value trueV = arith::ConstantIntOp::create(b, loc, 1, 1);
    waitPhase(barrier(SharedLayout::kQFull), i32c(0));
    tcFence(/*after=*/true);
    for (int64_t st = 0; st < steps; ++st)
      copyScales(idx(sl.qScales + st * sm100::kScaleChunkBytes), sm100::qScaleColumn(D, acc, st));
    // O += P_i V_i, after the softmax gave P_i and the correction scaled O.
    auto pv = [&](Value i) {
      Value bf = remu(i, idx(kStages));
      waitPhase(barrier(SharedLayout::kPFull, bf), parityOf(divu(i, idx(2))));
      waitPhase(barrier(SharedLayout::kOFree), parityOf(i));
      tcFence(/*after=*/true);
      Value accumulate = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, i, idx(0));
      // Both buffers spelled out: TMEM columns are compile-time here.
      for (int64_t x = 0; x < kStages; ++x)
        when(eqi(bf, idx(x)), [&] {
          copyScales(idx(sl.pScales[x]), sm100::pScaleColumn(D, acc, x));
          mma(sm100::kOColumn, idx(sl.p[x]), idx(sl.v[x]), D, pvMx, accumulate,
              sm100::pScaleColumn(D, acc, x), sm100::vScaleColumn(D, acc, x));
          // qat: O' += P~ V^F, four BF16 k-steps of 16 keys.
          for (int64_t st = 0; qat && st < kBf16Steps; ++st)
            mmaBf16(sm100::oPrimeColumn(D), idx(sl.pBf16[x] + st * sm100::stepBytes(sm100::kRows)),
                    idx(sl.vBf16[x] + st * sm100::stepBytes(D)), D,
                    st == 0 ? accumulate : trueV);
          commit(barrier(SharedLayout::kTileDone + x));
        });
    };
    forEach(numTiles, [&](Value j) {
      Value s = remu(j, idx(kStages));
      waitPhase(barrier(SharedLayout::kKVFull, s), parityOf(divu(j, idx(2))));
      tcFence(/*after=*/true);
      for (int64_t x = 0; x < kStages; ++x)
        when(eqi(s, idx(x)), [&] {
          for (int64_t st = 0; st < steps; ++st)
            copyScales(idx(sl.kScales[x] + st * sm100::kScaleChunkBytes),
                       sm100::kScaleColumn(D, acc, x, st));
          copyScales(idx(sl.vScales[x]), sm100::vScaleColumn(D, acc, x));
          // S_j = Q K_j^T into S buffer x.
          for (int64_t st = 0; st < steps; ++st)
            mma(sm100::sColumn(x), idx(sl.q + st * sm100::stepBytes(sm100::kRows)),
                idx(sl.k[x] + st * sm100::stepBytes(keyTile)), keyTile, qkMx,
                st == 0 ? falseV : trueV, sm100::qScaleColumn(D, acc, st),
                sm100::kScaleColumn(D, acc, x, st));
          commit(barrier(SharedLayout::kSFull + x));
        });
      when(uge(j, idx(1)), [&] { pv(subi(j, idx(1))); });
    });
    when(uge(numTiles, idx(1)), [&] { pv(subi(numTiles, idx(1))); });
  });

  // ---- Softmax warps: a thread per query row. ---------------------------
  Masking mk = forwardMasking(op, mask, lengths, bi, h, M, N, Hq, scale);
  when(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, warp, idx(kSoftmaxWarps)), [&] {
    Value r = tid; // the row in the block, the TMEM lane
    Value row = addi(q0, r);
    Value laneBase = muli(warp, idx(32));
    auto loop = scf::ForOp::create(b, loc, idx(0), numTiles, idx(1),
                                   ValueRange{cf(-kInf), cf(0)});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value j = loop.getInductionVar();
      Value m = loop.getRegionIterArgs()[0], l = loop.getRegionIterArgs()[1];
      Value bf = remu(j, idx(kStages));
      Value j0 = muli(j, idx(keyTile));
      waitPhase(barrier(SharedLayout::kSFull, bf), parityOf(divu(j, idx(2))));
      tcFence(/*after=*/true);
      // Scores, the frame step (an integer running max), P~ in the frame.
      // Mask values load from one row pointer at constant offsets, keys past
      // N predicated off (a clamped address per key would hold too many
      // registers).
      SmallVector<Value> s = loadColumns(laneBase, muli(bf, idx(keyTile)), keyTile);
      Value maskRow = mask ? addi(maskRowStart(mk, row), j0) : Value();
      Value tileMax = cf(-kInf);
      for (int64_t c = 0; c < keyTile; ++c) {
        Value key = addi(j0, idx(c));
        Value mv;
        if (mask) {
          auto ifOp = scf::IfOp::create(b, loc, f32(), ult(key, N), /*withElse=*/true);
          {
            OpBuilder::InsertionGuard g(b);
            b.setInsertionPointToStart(&ifOp.getThenRegion().front());
            Value x = memref::LoadOp::create(b, loc, mask, ValueRange{addi(maskRow, idx(c))});
            if (!x.getType().isF32())
              x = arith::ExtFOp::create(b, loc, f32(), x);
            scf::YieldOp::create(b, loc, x);
            b.setInsertionPointToStart(&ifOp.getElseRegion().front());
            scf::YieldOp::create(b, loc, cf(0));
          }
          mv = ifOp.getResult(0);
        }
        s[c] = score(mk, s[c], row, key, /*checkValid=*/true, mv);
        tileMax = maxf(tileMax, s[c]);
      }
      Value mNew = maxf(m, math::CeilOp::create(b, loc, tileMax));
      Value alpha = sel(isNegInf(m), cf(0), exp2(subf(m, mNew)));
      Value lNew = mulf(alpha, l);
      // The P buffers are free once P_{j-2} V_{j-2} is done.
      when(uge(j, idx(kStages)), [&] {
        waitPhase(barrier(SharedLayout::kTileDone, bf), parityOf(subi(divu(j, idx(2)), idx(1))));
      });
      // P~ block by block, each stored as soon as it is quantized (fewer
      // live registers): P~^F's codes (key 2i in the low nibble of byte i)
      // and a scale byte per block as FP4Arith quantizes; in qat P~ in BF16.
      Value pAt = addi(idx(sl.p[0]), muli(bf, idx(sl.p[1] - sl.p[0])));
      Value pBf = qat ? addi(idx(sl.pBf16[0]), muli(bf, idx(sl.pBf16[1] - sl.pBf16[0])))
                      : Value();
      Value scaleWord = i32c(0);
      for (int64_t blk = 0; blk < keyTile / pvBs; ++blk) {
        for (int64_t c = blk * pvBs; c < (blk + 1) * pvBs; ++c) {
          s[c] = pTilde(s[c], mNew);
          lNew = addf(lNew, s[c]);
        }
        ArrayRef<Value> vals = ArrayRef<Value>(s).slice(blk * pvBs, pvBs);
        Value bs = pBlockScale(vals, {});
        SmallVector<Value> words;
        for (int64_t w = 0; w < pvBs / 8; ++w)
          words.push_back(e2m1Word(vals.slice(8 * w, 8), bs));
        storeWords(operandAt(pAt, sm100::kRows, idx(0), r, idx(blk * pvBs / 2)), words);
        scaleWord = ori(scaleWord, shl(zext32(fp.scaleBits(config.getP(), bs)), 8 * blk));
        // BF16 P~: 8 keys (16 bytes) per store.
        for (int64_t c = 0; qat && c < pvBs; c += 8) {
          SmallVector<Value> pairs;
          for (int64_t e = 0; e < 8; e += 2)
            pairs.push_back(packBF16(vals[c + e], vals[c + e + 1]));
          int64_t key = blk * pvBs + c;
          storeWords(operandAt(pBf, sm100::kRows, idx(key / sm100::kBf16K), r,
                               idx((key % sm100::kBf16K) * 2)),
                     pairs);
        }
      }
      Value pScaleAt = addi(idx(sl.pScales[0]), muli(bf, idx(sl.pScales[1] - sl.pScales[0])));
      storeWords(scaleChunkAt(pScaleAt, r), {scaleWord});
      memref::StoreOp::create(b, loc, alpha, smemF32,
                              ValueRange{addi(idx(sl.alpha / 4), addi(muli(bf, idx(sm100::kRows)), r))});
      fenceToAsync();
      tcFence(/*after=*/false);
      arrive(barrier(SharedLayout::kPFull, bf));
      scf::YieldOp::create(b, loc, ValueRange{mNew, lNew});
    }
    Value m = loop.getResult(0), l = loop.getResult(1);
    auto [inv, lse] = finishRow(m, l);
    (void)inv;
    memref::StoreOp::create(b, loc, l, smemF32, ValueRange{addi(idx(sl.rowL / 4), r)});
    arrive(barrier(SharedLayout::kRowsDone));
    when(ult(row, M), [&] {
      Value at = addi(qBase, row);
      memref::StoreOp::create(b, loc, m, out.m, ValueRange{at});
      memref::StoreOp::create(b, loc, l, out.l, ValueRange{at});
      memref::StoreOp::create(b, loc, lse, out.lse, ValueRange{at});
    });
  });

  // ---- Correction warps: O *= alpha between products; the epilogue. -----
  when(andi(uge(warp, idx(kCorrectionWarp0)), ult(warp, idx(kLoadWarp))), [&] {
    Value r = subi(tid, idx(kCorrectionWarp0 * 32));
    Value laneBase = muli(subi(warp, idx(kCorrectionWarp0)), idx(32));
    forEach(numTiles, [&](Value j) {
      Value bf = remu(j, idx(kStages));
      waitPhase(barrier(SharedLayout::kPFull, bf), parityOf(divu(j, idx(2))));
      Value alpha = memref::LoadOp::create(
          b, loc, smemF32, ValueRange{addi(idx(sl.alpha / 4), addi(muli(bf, idx(sm100::kRows)), r))});
      when(uge(j, idx(1)), [&] {
        Value prev = subi(j, idx(1));
        waitPhase(barrier(SharedLayout::kTileDone, remu(prev, idx(kStages))),
                  parityOf(divu(prev, idx(2))));
        tcFence(/*after=*/true);
        // Warp-uniform: tcgen05.ld/st are collective.
        Value notOne = sel(arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, alpha, cf(1)),
                           cf(1), cf(0));
        Value any = laneReduce(notOne, /*isMax=*/true, {1, 2, 4, 8, 16});
        when(arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, any, cf(0)), [&] {
          for (int64_t c = 0; c < acc; c += 32) { // O, and O' in qat
            SmallVector<Value> o = loadColumns(laneBase, idx(sm100::kOColumn + c), 32);
            for (Value &x : o)
              x = mulf(alpha, x);
            storeColumns(laneBase, idx(sm100::kOColumn + c), o);
          }
          NVVM::Tcgen05WaitOp::create(b, loc, NVVM::Tcgen05WaitKind::STORE);
        });
      });
      tcFence(/*after=*/false);
      arrive(barrier(SharedLayout::kOFree));
    });
    // Epilogue: O / l (times gP) once the last product is done.
    waitPhase(barrier(SharedLayout::kRowsDone), i32c(0));
    when(uge(numTiles, idx(1)), [&] {
      Value last = subi(numTiles, idx(1));
      waitPhase(barrier(SharedLayout::kTileDone, remu(last, idx(kStages))),
                parityOf(divu(last, idx(2))));
    });
    tcFence(/*after=*/true);
    Value l = memref::LoadOp::create(b, loc, smemF32, ValueRange{addi(idx(sl.rowL / 4), r)});
    auto [inv, lse] = finishRow(cf(0), l);
    (void)lse;
    float gP = config.getPGlobalScale();
    Value oScale = gP == 1.0f ? inv : mulf(inv, cf(gP));
    Value row = addi(q0, r);
    Value any = uge(numTiles, idx(1));
    for (int64_t c = 0; c < acc; c += 32) {
      SmallVector<Value> o = loadColumns(laneBase, idx(sm100::kOColumn + c), 32);
      bool prime = c >= D; // O' = P~ V / l
      Value dst = prime ? out.oPrime : out.o;
      Value factor = prime ? inv : oScale;
      Type elt = cast<MemRefType>(dst.getType()).getElementType();
      int64_t col = prime ? c - D : c;
      when(ult(row, M), [&] {
        Value rowAt = muli(addi(qBase, row), idx(D));
        for (int64_t e = 0; e < 32; e += 2) {
          Value pair[2];
          for (int64_t x = 0; x < 2; ++x) {
            pair[x] = sel(any, mulf(o[e + x], factor), cf(0));
            if (elt != f32())
              pair[x] = arith::TruncFOp::create(b, loc, elt, pair[x]);
          }
          Value vec = vector::FromElementsOp::create(b, loc, VectorType::get({2}, elt),
                                                     ValueRange{pair[0], pair[1]});
          vector::StoreOp::create(b, loc, vec, dst, ValueRange{addi(rowAt, idx(col + e))},
                                  /*nontemporal=*/false,
                                  llvm::Align(2 * elt.getIntOrFloatBitWidth() / 8));
        }
      });
    }
  });

  // Everyone done: the MMA warp frees TMEM.
  tcFence(/*after=*/false);
  gpu::BarrierOp::create(b, loc);
  when(eqi(warp, idx(kMmaWarp)), [&] {
    tcFence(/*after=*/true);
    NVVM::Tcgen05DeallocOp::create(b, loc, tmem(idx(0), idx(0)), i32c(sm100::kAllocColumns),
                                   NVVM::CTAGroupKind::CTA_1);
  });
}

} // namespace

int64_t tc::tcgen05Threads() { return kWarps * 32; }

int64_t tc::tcgen05SharedBytes(AttentionOp op) {
  return SharedLayout(headDim(op), op.getConfig().getMode() == Mode::QAT).total;
}

void tc::buildTcgen05Forward(gpu::GPUFuncOp func, AttentionOp op) {
  Tcgen05ForwardBuilder(func, op).build();
}
