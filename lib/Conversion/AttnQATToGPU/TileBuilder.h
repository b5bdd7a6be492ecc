//===- TileBuilder.h - the shared kernel description -------------*- C++ -*-===//
//
// What every tensor-core attention kernel is built from, whatever its MMA:
// lane coordinates, warp reductions, tiles in shared memory, the masked
// log2-domain score, P~ in an integer frame, the P codec (FP4Arith's
// arithmetic, bit-identical to the CPU lowering), the packed-operand decode
// and the row-pair output stores. The Hopper kernels (TensorCoreAttention.cpp,
// BF16 mma.sync) and the Blackwell sm_120a forward (BlockScaledAttention.cpp,
// mma.block_scale) derive from it, so tiling, softmax and P quantization
// exist once.
//
// Register fragments of the BF16 MMA follow the PTX ISA's m16n8k16 layouts.
// With lane = 4g+t (g = lane / 4, t = lane % 4), a warp's accumulator tile
// (16 x 8, f32) holds c0, c1 at row g, columns 2t, 2t+1 and c2, c3 at row
// g+8; an A operand (16 x 16, bf16 pairs in i32) holds a0 = (g, 2t..), a1 =
// (g+8, 2t..), a2 = (g, 2t+8..), a3 = (g+8, 2t+8..); a B operand (16 x 8)
// holds b0 = (k = 2t.., n = g), b1 = (k = 2t+8.., n = g).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_LIB_CONVERSION_ATTNQATTOGPU_TILEBUILDER_H
#define ATTNQAT_LIB_CONVERSION_ATTNQATTOGPU_TILEBUILDER_H

#include "KernelArith.h"
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

namespace mlir::attnqat::tc::detail {

constexpr double kLog2E = 1.4426950408889634;
constexpr float kInf = std::numeric_limits<float>::infinity();

/// One accumulator tile of a thread: c0..c3.
using Acc = std::array<Value, 4>;

/// A [rows][cols] tile in shared memory: a buffer of its own, or one stage
/// (the leading index) of a multi-buffered one.
struct Tile {
  Value buffer, stage;
  SmallVector<Value> at(Value row, Value col) const {
    if (stage)
      return {stage, row, col};
    return {row, col};
  }
};

/// Helpers shared by the forward and backward builders (KernelArith's index
/// helpers and): float arithmetic, warp reductions, BF16 packing, MMAs, ldmatrix, cp.async tiles
/// and the score / P~ / P quantization steps both directions compute alike.
class TileBuilder : public KernelArith {
public:
  TileBuilder(gpu::GPUFuncOp func, ConfigAttr config, int64_t D)
      : KernelArith(OpBuilder::atBlockBegin(&func.getBody().front()), func.getLoc()), func(func),
        fp(b, loc, /*fusedRounding=*/true), config(config), D(D) {}

protected:
  gpu::GPUFuncOp func;
  FP4Arith fp;
  ConfigAttr config;
  int64_t D;
  Value lane, g, t, mi, lr; // lane = 4g + t; ldmatrix: matrix mi, row lr
  Value pCodecTable;        // setUpPCodecTable's, where a kernel made it

  Type f32() { return b.getF32Type(); }
  Type bf16() { return b.getBF16Type(); }
  Value cf(double v) { return fp.f32(v); }
  Value addf(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value mulf(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value subf(Value x, Value y) { return arith::SubFOp::create(b, loc, x, y); }
  Value maxf(Value x, Value y) { return arith::MaximumFOp::create(b, loc, x, y); }
  Value isNegInf(Value x) {
    return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x, cf(-kInf));
  }
  Value exp2(Value x) { return math::Exp2Op::create(b, loc, x); }
  /// ex2.approx.ftz: one MUFU.EX2, without the scaling around it that the
  /// non-ftz form adds for subnormal results (exp2 of [0, 1), and of the
  /// log2-domain P~ whose subnormal values no sum or product can see).
  Value exp2Ftz(Value x) {
    auto op = LLVM::InlineAsmOp::create(
        b, loc, f32(), ValueRange{x}, "ex2.approx.ftz.f32 $0, $1;", "=f,f",
        /*has_side_effects=*/false, /*is_align_stack=*/false,
        LLVM::tailcallkind::TailCallKind::None,
        LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT),
        /*operand_attrs=*/ArrayAttr());
    return op.getResult(0);
  }
  /// The generic address (i64) of element `at` of the global memref
  /// `buffer` with `elementBytes`-byte elements.
  Value globalAddress(Value buffer, Value at, int64_t elementBytes) {
    Value base = arith::IndexCastOp::create(
        b, loc, b.getI64Type(), memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer));
    return arith::AddIOp::create(
        b, loc, base,
        arith::IndexCastOp::create(b, loc, b.getI64Type(), muli(at, idx(elementBytes))));
  }
  /// PTX with side effects and no results over `operands`.
  void effectAsm(ValueRange operands, StringRef constraints, StringRef ptx) {
    LLVM::InlineAsmOp::create(b, loc, TypeRange{}, operands, ptx, constraints,
                              /*has_side_effects=*/true, /*is_align_stack=*/false,
                              LLVM::tailcallkind::TailCallKind::None,
                              LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT),
                              /*operand_attrs=*/ArrayAttr());
  }
  /// Adds the f32 pairs `pairs[i]` to buffer[at + 8 i], buffer[at + 8 i + 1]
  /// with vector reductions (red.global.add.v2.f32, sm_90): half the L2
  /// requests of scalar atomics, and one address for a fragment row (the
  /// pairs' offsets are immediates). `at` must be even and `buffer` a
  /// global f32 memref.
  void atomicAddPairs(Value buffer, Value at, ArrayRef<std::pair<Value, Value>> pairs) {
    Value addr = globalAddress(buffer, at, 4);
    for (auto [i, pair] : llvm::enumerate(pairs))
      effectAsm({addr, pair.first, pair.second}, "l,f,f",
                "red.global.add.v2.f32 [$0+" + std::to_string(32 * i) + "], {$1, $2};");
  }
  Value i32c(int64_t v) { return arith::ConstantIntOp::create(b, loc, v, 32); }
  Value zext32(Value x) { return arith::ExtUIOp::create(b, loc, b.getI32Type(), x); }
  Value shl(Value x, int64_t n) { return arith::ShLIOp::create(b, loc, x, i32c(n)); }
  Value ori(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Type i32() { return b.getI32Type(); }
  Value toI32(Value index) { return arith::IndexCastOp::create(b, loc, i32(), index); }
  /// Parity (i32) of use `u` of a two-buffer barrier.
  Value parityOf(Value u) { return toI32(remu(u, idx(2))); }
  /// Waits on mbarrier `bar` for the phase of parity `parity` (i32).
  void waitPhase(Value bar, Value parity) {
    NVVM::MBarrierTryWaitParityOp::create(b, loc, bar, parity, i32c(0x989680));
  }

  /// Lane coordinates of the fragment layouts and of ldmatrix's addresses.
  void setUpLanes(Value tid) {
    lane = remu(tid, idx(32));
    g = divu(lane, idx(4));
    t = remu(lane, idx(4));
    mi = divu(lane, idx(8));
    lr = remu(lane, idx(8));
  }

  /// x reduced over the lanes whose ids differ in the bits of `offsets`.
  Value laneReduce(Value x, bool isMax, ArrayRef<int32_t> offsets) {
    for (int32_t offset : offsets) {
      Value other = gpu::ShuffleOp::create(b, loc, x, offset, 32,
                                           gpu::ShuffleMode::XOR)
                        .getShuffleResult();
      x = isMax ? maxf(x, other) : addf(x, other);
    }
    return x;
  }
  /// Over the four lanes that share an accumulator row (lane xor 1, 2).
  Value quadReduce(Value x, bool isMax) { return laneReduce(x, isMax, {1, 2}); }

  /// Two f32 as a vector<2xbf16> (RNE), `lo` first.
  Value pairBF16(Value lo, Value hi) {
    return vector::FromElementsOp::create(
        b, loc, VectorType::get({2}, bf16()),
        ValueRange{arith::TruncFOp::create(b, loc, bf16(), lo),
                   arith::TruncFOp::create(b, loc, bf16(), hi)});
  }
  /// Two f32 as one i32 of bf16 (RNE), `lo` in the low half.
  Value packBF16(Value lo, Value hi) { return asI32(pairBF16(lo, hi)); }
  Value asI32(Value vec2) {
    Value v = vector::BitCastOp::create(b, loc, VectorType::get({1}, b.getI32Type()),
                                        vec2);
    return vector::ExtractOp::create(b, loc, v, ArrayRef<int64_t>{0});
  }
  /// Accumulator tiles nt = 2kc, 2kc+1 as the A operand of the k-step kc.
  /// With `scalePairs`, x holds P on the E2M1 grid (quantizeForwardP's
  /// scalesOut) and each packed pair is multiplied by its block's scale
  /// pair (scalePairs[i]: block i's scale twice) in one mul.rn.bf16x2. A
  /// code times an NVFP4 scale has at most 6 significant bits and lies in
  /// [2^-10, 2688]: exact in BF16, so these are the bits of packing the f32
  /// products, one instruction per pair fewer (a pair's keys share a block).
  /// The product is an arith op, not inline PTX: LLVM then sinks it past
  /// the wgmma wait as it does the packs (left before the wait, the next
  /// P V's fragments made ptxas serialize every wgmma of the kernel).
  /// The grid values come unsaturated (quantizeWithScale without
  /// applyScale): the pair is first saturated at 6 by one min.NaN.bf16x2,
  /// the same bits as the f32 minimum before the pack (grid values are
  /// exact in BF16 and the pack is monotone; NaN stays NaN), half the
  /// instructions.
  SmallVector<Value> aFromAcc(ArrayRef<Acc> x, int64_t kc, ArrayRef<Value> scalePairs = {}) {
    SmallVector<Value> frags;
    Value six;
    if (!scalePairs.empty())
      six = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(VectorType::get({2}, bf16()), b.getFloatAttr(bf16(), 6.0)));
    for (int64_t nt = 2 * kc; nt < 2 * kc + 2; ++nt)
      for (int64_t r = 0; r < 2; ++r) {
        Value pair = pairBF16(x[nt][2 * r], x[nt][2 * r + 1]);
        if (!scalePairs.empty()) {
          const int64_t tilesPerBlock = config.getP().getBlockSize() / 8;
          pair = arith::MinimumFOp::create(b, loc, pair, six);
          pair = arith::MulFOp::create(b, loc, pair, scalePairs[2 * (nt / tilesPerBlock) + r]);
        }
        frags.push_back(asI32(pair));
      }
    return frags;
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
  static Acc zeroAcc(Value zero) { return Acc{zero, zero, zero, zero}; }
  /// Flat accumulators (a wgmma's, n-tile after n-tile) as tiles.
  static SmallVector<Acc> asTiles(ArrayRef<Value> flat) {
    SmallVector<Acc> tiles(flat.size() / 4);
    for (auto [i, x] : llvm::enumerate(flat))
      tiles[i / 4][i % 4] = x;
    return tiles;
  }

  using AOperand = llvm::function_ref<SmallVector<Value>(int64_t kc)>;
  using BOperands = llvm::function_ref<std::array<Value, 4>(int64_t np, int64_t kc)>;
  /// acc[n] += A(kc) . B(kc, n) over k-steps kc: per k-step every target's A
  /// operand, then per pair of n-tiles one B load (b0, b1 of tiles 2np and
  /// 2np+1) shared by the targets' MMAs.
  void mmaLoop(int64_t kSteps, ArrayRef<std::pair<SmallVector<Acc> *, AOperand>> targets,
               BOperands bOf) {
    int64_t pairs = targets.front().first->size() / 2;
    for (int64_t kc = 0; kc < kSteps; ++kc) {
      SmallVector<SmallVector<Value>> as;
      for (auto &target : targets)
        as.push_back(target.second(kc));
      for (int64_t np = 0; np < pairs; ++np) {
        std::array<Value, 4> bf = bOf(np, kc);
        for (auto [target, a] : llvm::zip_equal(targets, as)) {
          SmallVector<Acc> &acc = *target.first;
          acc[2 * np] = mma(a, bf[0], bf[1], acc[2 * np]);
          acc[2 * np + 1] = mma(a, bf[2], bf[3], acc[2 * np + 1]);
        }
      }
    }
  }

  /// Four 8x8 bf16 matrices from shared memory (one row address per lane),
  /// as four i32 registers.
  std::array<Value, 4> ldmatrix4(Tile smem, Value row, Value col, bool trans) {
    Value v = nvgpu::LdMatrixOp::create(b, loc, VectorType::get({4, 2}, bf16()),
                                        smem.buffer, smem.at(row, col), trans, 4);
    std::array<Value, 4> r;
    for (int64_t i = 0; i < 4; ++i)
      r[i] = asI32(vector::ExtractOp::create(b, loc, v, ArrayRef<int64_t>{i}));
    return r;
  }
  /// The A operand of rows [row0, row0 + 16) x k-step kc of a row-major
  /// [row][k] tile.
  SmallVector<Value> aFromRows(Tile smem, Value row0, int64_t kc) {
    Value row = addi(addi(row0, muli(remu(mi, idx(2)), idx(8))), lr);
    Value col = addi(idx(kc * 16), muli(divu(mi, idx(2)), idx(8)));
    auto r = ldmatrix4(smem, row, col, /*trans=*/false);
    return {r[0], r[1], r[2], r[3]};
  }
  /// B operands (b0, b1 of n-tiles 2np and 2np+1) of k-step kc where the
  /// tile is stored [n][k] (k contiguous: K for S = Q K^T).
  std::array<Value, 4> bFromNK(Tile smem, int64_t np, int64_t kc) {
    Value row = addi(addi(idx(np * 16), muli(divu(mi, idx(2)), idx(8))), lr);
    Value col = addi(idx(kc * 16), muli(remu(mi, idx(2)), idx(8)));
    return ldmatrix4(smem, row, col, /*trans=*/false);
  }
  /// B operands of n-tiles 2np, 2np+1, k-step kc, for a tile stored [k][n]
  /// (n contiguous: V for O = P V), through ldmatrix's transpose.
  std::array<Value, 4> bFromKN(Tile smem, int64_t np, int64_t kc) {
    Value row = addi(addi(idx(kc * 16), muli(remu(mi, idx(2)), idx(8))), lr);
    Value col = muli(addi(idx(2 * np), divu(mi, idx(2))), idx(8));
    return ldmatrix4(smem, row, col, /*trans=*/true);
  }

  /// Copies rows [row0, row0 + 64) of a [rows][D] bf16 tensor (rows past
  /// `rows` zero-filled) into a padded shared tile with cp.async, 16 bytes per
  /// copy; returns the tokens.
  void copyTile(Value tid, Value src, Value base, Value row0, Value rows, Tile dst,
                SmallVector<Value> &tokens) {
    const int64_t chunksPerRow = D / 8;
    const int64_t copies = tc::kKeyTile * chunksPerRow / tc::kThreads;
    for (int64_t i = 0; i < copies; ++i) {
      Value c = addi(tid, idx(i * tc::kThreads));
      Value r = divu(c, idx(chunksPerRow));
      Value col = muli(remu(c, idx(chunksPerRow)), idx(8));
      Value row = addi(row0, r);
      Value at = addi(muli(addi(base, clampTo(row, rows)), idx(D)), col);
      Value n = sel(ult(row, rows), idx(8), idx(0));
      tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
          b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), dst.buffer,
          dst.at(r, col), src, ValueRange{at}, b.getIndexAttr(8), n,
          /*bypassL1=*/b.getUnitAttr()));
    }
  }
  /// Commits `tokens` as one group of copies.
  Value commit(ArrayRef<Value> tokens) {
    return nvgpu::DeviceAsyncCreateGroupOp::create(
        b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), tokens);
  }
  /// Waits until at most `pending` groups of this thread are in flight,
  /// then for every thread of the block.
  void waitGroups(Value group, int32_t pending) {
    nvgpu::DeviceAsyncWaitOp::create(b, loc, group, b.getI32IntegerAttr(pending));
    gpu::BarrierOp::create(b, loc);
  }
  /// Waits for `tokens`, then for every thread of the block.
  void waitTiles(ArrayRef<Value> tokens) { waitGroups(commit(tokens), 0); }

  /// The log2-domain score of query `row`, key `key` from the raw dot
  /// product: (dot * scale + mask) * log2(e), -inf where the key is not
  /// visible (past N, past the key length, above the diagonal if causal).
  struct Masking {
    bool causal = false;
    Value mask; RankedTensorType maskType;
    Value keyLen;
    Value bi, h, M, N, Hq, scale;
    Value scaleLog2e; // scale * log2(e): one product per unmasked score
  };
  /// `maskValue`, when given, is the mask element the caller loaded.
  Value score(const Masking &mk, Value dot, Value row, Value key,
              bool checkValid = true, Value maskValue = nullptr) {
    Value x;
    if (!maskValue && !mk.mask) {
      x = mulf(dot, mk.scaleLog2e);
    } else {
      Value mv = maskValue;
      if (!mv) {
        Value mb = mk.maskType.getDimSize(0) == 1 ? idx(0) : mk.bi;
        Value mh = mk.maskType.getDimSize(1) == 1 ? idx(0) : mk.h;
        Value mHeads = mk.maskType.getDimSize(1) == 1 ? idx(1) : mk.Hq;
        Value at = addi(muli(addi(muli(addi(muli(mb, mHeads), mh), mk.M),
                                  clampTo(row, mk.M)),
                             mk.N),
                        clampTo(key, mk.N));
        mv = memref::LoadOp::create(b, loc, mk.mask, ValueRange{at});
        if (!mv.getType().isF32())
          mv = arith::ExtFOp::create(b, loc, f32(), mv);
      }
      x = mulf(addf(mulf(dot, mk.scale), mv), cf(kLog2E));
    }
    if (!checkValid) // a tile known to be fully visible
      return x;
    return sel(visible(mk, row, key), x, cf(-kInf));
  }
  /// Whether (row, key) is inside the keys and not masked by causality or
  /// the key length.
  Value visible(const Masking &mk, Value row, Value key) {
    return visibleWith(
        mk, key,
        mk.causal ? arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, key, row) : Value());
  }
  /// visible() with the causal test `belowDiagonal` (key <= row) made by
  /// the caller.
  Value visibleWith(const Masking &mk, Value key, Value belowDiagonal) {
    Value valid = ult(key, mk.N);
    if (mk.causal)
      valid = andi(valid, belowDiagonal);
    if (mk.keyLen)
      valid = andi(valid, ult(key, mk.keyLen));
    return valid;
  }
  /// The flat index of mask element (row, key 0) for query `row` (clamped
  /// into M; broadcast batch and head dims).
  Value maskRowStart(const Masking &mk, Value row) {
    Value mb = mk.maskType.getDimSize(0) == 1 ? idx(0) : mk.bi;
    Value mh = mk.maskType.getDimSize(1) == 1 ? idx(0) : mk.h;
    Value mHeads = mk.maskType.getDimSize(1) == 1 ? idx(1) : mk.Hq;
    return muli(addi(muli(addi(muli(mb, mHeads), mh), mk.M), clampTo(row, mk.M)), mk.N);
  }
  /// The masking of a forward: `op`'s causality and mask, its key lengths
  /// loaded for batch `bi`.
  Masking forwardMasking(AttentionOp op, Value mask, Value lengths, Value bi, Value h,
                         Value M, Value N, Value Hq, Value scale) {
    Masking mk;
    mk.causal = op.getCausal();
    mk.mask = mask;
    mk.maskType = mask ? cast<RankedTensorType>(op.getMask().getType()) : nullptr;
    mk.bi = bi, mk.h = h, mk.M = M, mk.N = N, mk.Hq = Hq, mk.scale = scale;
    return finishMasking(mk, lengths);
  }
  /// The backward's masking of batch `bi` (the head is set per work item).
  Masking backwardMasking(StateType st, Value mask, Value lengths, Value bi, Value M,
                          Value N, Value Hq, Value scale) {
    Masking mk;
    mk.causal = st.getCausal();
    mk.mask = mask;
    mk.maskType = st.getMask();
    mk.bi = bi, mk.M = M, mk.N = N, mk.Hq = Hq, mk.scale = scale;
    return finishMasking(mk, lengths);
  }
  /// What both maskings derive: scale * log2(e) and batch bi's key length.
  Masking finishMasking(Masking mk, Value lengths) {
    mk.scaleLog2e = mulf(mk.scale, cf(kLog2E));
    if (lengths) {
      Value len = memref::LoadOp::create(b, loc, lengths, ValueRange{mk.bi});
      mk.keyLen = arith::IndexCastOp::create(b, loc, b.getIndexType(), len);
    }
    return mk;
  }
  /// How many of the first `numTiles` key tiles every row of the query
  /// block at q0 sees entirely (below the diagonal, inside N and the key
  /// length): those skip the visibility tests.
  Value fullKeyTiles(bool causal, Value q0, Value N, Value keyLen, Value numTiles) {
    Value full = minu(divu(N, idx(tc::kKeyTile)), numTiles);
    if (causal)
      full = minu(full, divu(q0, idx(tc::kKeyTile)));
    if (keyLen)
      full = minu(full, divu(keyLen, idx(tc::kKeyTile)));
    return full;
  }
  /// P~ = exp2(s - floor s) * 2^(floor s - m) in the integer frame m (0
  /// where masked): frames differ by exact powers of two. With `finite`
  /// (scores known finite: a fully visible tile, no additive mask) the
  /// masked case needs no test.
  /// 2^n for n = floor s - m (an integer, <= 0, clamped at -125 where every
  /// value rounds to code 0) comes from the float bits of n + 1.5 * 2^23 (n
  /// in the low bits) shifted into the exponent: integer arithmetic rather
  /// than a second ex2 (the MUFU pipe runs at a sixteenth of the FMA rate).
  /// n from floor s - m, not floor s + (1.5 * 2^23 - m): that stays exact
  /// for rows whose scores all sit near -1e9 (a large additive mask). The
  /// product (not an integer add of exponents) keeps a NaN score NaN.
  static constexpr double kFrameMagic = 12582912.0; // 1.5 * 2^23
  static constexpr double kNearFrame = 4194304.0;   // 2^22
  Value pTilde(Value s, Value m, bool finite = false) {
    auto masked = [&](Value pv) { return finite ? pv : sel(isNegInf(s), cf(0), pv); };
    // Unquantized P (mode none) needs no exact frames: one exponential.
    if (config.getMode() == Mode::None)
      return masked(exp2Ftz(subf(s, m)));
    Value fl = math::FloorOp::create(b, loc, s);
    Value n = maxf(subf(fl, m), cf(-125));
    Value nBits = arith::BitcastOp::create(b, loc, i32(), addf(n, cf(kFrameMagic)));
    // (bits(n + 1.5 * 2^23) << 23) + bits(1.0): the low 9 bits hold n + 2^22
    // (mod 2^9), 2^22 vanishes in the shift; one shift-and-add (LEA).
    Value pow2n = arith::BitcastOp::create(
        b, loc, f32(), arith::AddIOp::create(b, loc, shl(nBits, 23), i32c(0x3F800000)));
    return masked(mulf(exp2Ftz(subf(s, fl)), pow2n));
  }
  /// Whether the forwards take P~ as pTildeInRow's bits instead: P in an
  /// NVFP4-like format, whose codes and scales of P~ below 2^-124 are 0
  /// whatever their value (pTildeInRow clamps them to exactly 2^-125).
  /// Power-of-two (MXFP4) scales can resolve those values, so they keep
  /// pTilde, as the backward does everywhere.
  bool pTildeByBits() {
    return config.getMode() != Mode::None &&
           !FP4Arith::scalesArePowersOfTwo(config.getP(), config.getPGlobalScale());
  }
  /// The per-row constants of pTildeInRow for the integer frame m:
  ///  * |m| < 2^22: pivot 0, lo = m - 125, k = 1.5 * 2^23 - m (both exact);
  ///  * a farther finite frame (rows under a -1e9 mask, huge scores): pivot
  ///    m (s - m is exact by Sterbenz wherever it is above -125), lo = -125,
  ///    k = 1.5 * 2^23;
  ///  * m = +-inf or NaN: pivot 0, lo = -125, k = 1.5 * 2^23, which keeps the
  ///    values of a row whose scores all overflowed to -inf tiny and finite
  ///    (a NaN frame is settled in storeForwardOutputs).
  struct RowFrame {
    Value pivot, lo, k;
  };
  RowFrame rowFrameOf(Value m) {
    Value absM = math::AbsFOp::create(b, loc, m);
    Value near = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, absM, cf(kNearFrame));
    Value far = finiteFarFrame(m);
    return {sel(far, m, cf(0)), sel(near, subf(m, cf(125)), cf(-125)),
            sel(near, subf(cf(kFrameMagic), m), cf(kFrameMagic))};
  }
  /// pTilde in 7 instructions, one of them on the XU pipe (pTilde has two:
  /// FRND for floor and MUFU.EX2, both quarter rate, which bound the
  /// forward's softmax): with u = max(s - pivot, lo), which is s - pivot
  /// exactly wherever floor s - m >= -125,
  ///   t = u + k rounded down = 1.5 * 2^23 + n, n = floor u - (m - pivot)
  ///     (exact: the sum lies in [2^23, 2^24), where floats are integers),
  ///   floor u = t - k (exact), e = ex2(u - floor u) in [1, 2],
  ///   P~ = e * 2^n as e's bits plus n << 23 (the low 9 bits of t's hold n
  ///     mod 2^9; one LEA), no product.
  /// The same bits as pTilde wherever floor s - m >= -125; below (and for a
  /// -inf score) exactly 2^-125, which has code 0 and that l cannot see.
  Value pTildeInRow(Value s, const RowFrame &f, bool finite) {
    Value u = maxf(subf(s, f.pivot), f.lo);
    Value t = addRoundDown(u, f.k);
    Value p = timesPowerOfTwoFromBits(exp2Ftz(subf(u, subf(t, f.k))), t);
    return finite ? p : sel(isNegInf(s), cf(0), p);
  }
  /// x + y rounded toward -inf (add.rm.f32).
  Value addRoundDown(Value x, Value y) {
    return LLVM::CallIntrinsicOp::create(b, loc, f32(), b.getStringAttr("llvm.nvvm.add.rm.f"),
                                         ValueRange{x, y})
        .getResult(0);
  }
  /// e * 2^n as e's bits plus n << 23, n in the low 9 bits of t's (t =
  /// 1.5 * 2^23 + n): P~ from e = ex2(frac) in [1, 2] without a product.
  Value timesPowerOfTwoFromBits(Value e, Value t) {
    Value bits = arith::AddIOp::create(b, loc, shl(arith::BitcastOp::create(b, loc, i32(), t), 23),
                                       arith::BitcastOp::create(b, loc, i32(), e));
    return arith::BitcastOp::create(b, loc, f32(), bits);
  }
  /// The forwards' P~ of score s in frame m: pTildeInRow where
  /// pTildeByBits, else pTilde. (The row's constants are recomputed per
  /// call; CSE leaves one copy per row.)
  Value pTildeForward(Value s, Value m, bool finite) {
    if (!pTildeByBits())
      return pTilde(s, m, finite);
    if (nearFramesOnly)
      return pTildeNear(s, m, finite);
    return pTildeInRow(s, rowFrameOf(m), finite);
  }
  /// pTildeInRow's bits where every score and the frame m lie below 2^21 in
  /// magnitude (m an integer), pTildeInRow with pivot 0: with
  /// s' = max(s, m - 125) and the row's k = 1.5 * 2^23 - m (exact),
  /// t = add.rm(s', k) = 1.5 * 2^23 + n, n = floor s' - m, exactly (the sum
  /// lies in [2^23, 2^24), where floats are integers), floor s' = t - k
  /// (exact), e = ex2(s' - floor s'), P~ = bits(e) + (bits(t) << 23). Six
  /// instructions an element: t itself is the exponent's source (until
  /// session 40, T = add.rm(s', 1.5 * 2^23) gave floor s' and t = T - m
  /// took a seventh; the same bits).
  Value pTildeNear(Value s, Value m, bool finite) {
    Value sp = maxf(s, subf(m, cf(125)));
    Value k = subf(cf(kFrameMagic), m);
    Value t = addRoundDown(sp, k);
    Value e = exp2Ftz(subf(sp, subf(t, k)));
    Value p = timesPowerOfTwoFromBits(e, t);
    return finite ? p : sel(isNegInf(s), cf(0), p);
  }
  /// Set while building a forward loop whose rows' scores are known to stay
  /// below 2^21 in magnitude (nearFrameBound): there pTildeForward is
  /// pTildeNear. A finite frame beyond 2^22 there is a broken precondition
  /// (trapOnFarFrame).
  bool nearFramesOnly = false;
  /// Whether frame m is finite and at least 2^22 in magnitude: where
  /// pTildeInRow needs its pivot.
  Value finiteFarFrame(Value m) {
    Value absM = math::AbsFOp::create(b, loc, m);
    return andi(arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE, absM, cf(kNearFrame)),
                arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, absM, cf(kInf)));
  }
  /// Aborts the kernel (PTX trap: the launch fails with an error) where one
  /// of the frames `m` is finite and far (with `negInfToo`, or -inf): a loop
  /// built with nearFramesOnly would give wrong P~ there. nearFrameBound
  /// makes that unreachable unless K holds values beyond its format's
  /// largest (K not quantized).
  void trapOnFarFrame(ArrayRef<Value> m, bool negInfToo = false) {
    auto bad = [&](Value x) {
      Value far = finiteFarFrame(x);
      return negInfToo ? arith::OrIOp::create(b, loc, far, isNegInf(x)).getResult() : far;
    };
    Value far = bad(m.front());
    for (Value x : m.drop_front())
      far = arith::OrIOp::create(b, loc, far, bad(x));
    // A warp-uniform branch (vote): a per-thread one made ptxas treat the
    // loop around it as divergent (WARPSYNC, and wgmma descriptors out of
    // the uniform registers).
    Value anyFar = NVVM::VoteSyncOp::create(b, loc, b.getI1Type(), i32c(-1), far,
                                            NVVM::VoteSyncKind::any);
    auto ifFar = scf::IfOp::create(b, loc, anyFar, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifFar.getThenRegion().front());
    LLVM::Trap::create(b, loc);
  }
  /// With `record`, quantizeWithScale also hands over the block's scale bits
  /// and each value's E2M1 code (i8), for the P-code dump of the
  /// matched-recomputation check.
  using PRecorder = llvm::function_ref<void(Value scaleBits, ArrayRef<Value> codes)>;
  /// The codes x `bs` of the block values `vals` (P~ >= 0) whose block
  /// scale is `bs`: code x block scale (exact in BF16); the global scale g
  /// is applied by the caller. Without `applyScale` the values are left on
  /// the E2M1 grid and the caller multiplies by `bs` (aFromAcc's scalePairs).
  void quantizeWithScale(ArrayRef<Value *> vals, Value bs, PRecorder record = nullptr,
                         bool applyScale = true) {
    FP4FormatAttrInterface pFormat = config.getP();
    float gP = config.getPGlobalScale();
    // One division per block: each element's x / (s g) by the block's
    // reciprocal and an FMA correction (equal to the division wherever it
    // can round to a nonzero code), or with the table by the reciprocal's
    // two parts (one FMA fewer, see setUpPCodecTable). A scale of 0 or NaN
    // gives code 0: its reciprocal is 0, so every finite x gives 0.
    Value denom, recip, recipLow;
    // An MXFP4 scale is a power of two, 2^-127 (f32-subnormal) to 2^-2 for
    // P~ <= 1: code x scale is rounded straight from x in its own binade
    // (roundNonNegativeToScaledE2M1), with no quotient and no product; the
    // grid value, where wanted, is that times the reciprocal from the bits
    // (exact). An unusable (NaN) scale saturates every finite x at 0.
    const bool powerOfTwo = FP4Arith::scalesArePowersOfTwo(pFormat, gP);
    Value scaleExpBits, limit;
    if (powerOfTwo) {
      Value usable = fp.scaleUsable(bs);
      scaleExpBits = sel(usable,
                         arith::AndIOp::create(b, loc, arith::BitcastOp::create(b, loc, i32(), bs),
                                               i32c(0x7F800000)),
                         i32c(0));
      limit = sel(usable, mulf(bs, cf(6)), cf(0));
      if (record || !applyScale)
        recip = sel(usable, fp.powerOfTwoReciprocal(bs), cf(0));
    } else if (pCodecTable) {
      std::tie(recip, recipLow) = reciprocalFromTable(bs);
    } else {
      Value usable = fp.scaleUsable(bs);
      denom = sel(usable, mulf(bs, cf(gP)), cf(1));
      recip = sel(usable, fp.reciprocal(denom), cf(0));
    }
    SmallVector<Value> codes;
    for (Value *v : vals) {
      Value onGrid, scaled;
      if (powerOfTwo) {
        scaled = fp.roundNonNegativeToScaledE2M1(*v, scaleExpBits, limit);
        if (record || !applyScale)
          onGrid = mulf(scaled, recip);
      } else {
        Value quotient = recipLow ? fp.splitReciprocalDivide(*v, recip, recipLow)
                                  : fp.divideWithReciprocal(*v, denom, recip);
        // Left on the grid (scalesOut), the values are saturated at 6 by
        // aFromAcc on BF16 pairs (exact there), one instruction a pair. The
        // P-dump kernels (record) still saturate here as well: redundant
        // (e2m1Code gives every grid value from 6 up code 7), kept so that
        // their images are the ones session 40 ran on the GPU.
        onGrid = fp.roundNonNegativeToE2M1(quotient, /*saturate=*/applyScale || record);
        if (applyScale)
          scaled = mulf(onGrid, bs);
      }
      if (record)
        codes.push_back(fp.e2m1Code(onGrid));
      *v = applyScale ? scaled : onGrid;
    }
    if (record)
      record(fp.scaleBits(pFormat, bs), codes);
  }

  /// phi_P of `blocks.size()` blocks (P~ >= 0) whose values each
  /// share with the lanes of `offsets` (xor masks; blocks.size() a multiple
  /// of 2^offsets.size()): rather than every lane computing every block's
  /// scale, the maxima are reduce-scattered (each lane ends with whole
  /// blocks' amax for its share), each lane computes the scales of its
  /// share, and they are all-gathered. Same codes and scales as block by
  /// block. `record(i, ...)` as quantizeWithScale's, for block i. Needs
  /// setUpLanes.
  using PBlockRecorder =
      llvm::function_ref<void(int64_t block, Value scaleBits, ArrayRef<Value> codes)>;
  /// `combine`, when given, sees each lane's share of maxima after the
  /// reduce-scatter and before the scales (a block wider than the lanes:
  /// MXFP4 in the backward, where the other warp holds half of it).
  using MaxCombiner = llvm::function_ref<void(SmallVector<Value> &share)>;
  /// With `scalesOut`, the values stay on the E2M1 grid and block i's scale
  /// is scalesOut[i] (see quantizeWithScale's applyScale).
  /// `maxima`, when given, holds a value per block that `combine` turns
  /// into the block's amax after the reduce-scatter (the forward's block
  /// score maxima); the blocks' values are then not compared.
  void quantizeBlocksShared(ArrayRef<SmallVector<Value *>> blocks, ArrayRef<int32_t> offsets,
                            PBlockRecorder record = nullptr, MaxCombiner combine = nullptr,
                            SmallVector<Value> *scalesOut = nullptr,
                            ArrayRef<Value> maxima = {}) {
    FP4FormatAttrInterface pFormat = config.getP();
    float gP = config.getPGlobalScale();
    auto laneBit = [&](int32_t mask) { return ult(idx(0), andi(lane, idx(mask))); };
    assert((maxima.empty() || maxima.size() == blocks.size()) && "a maximum per block");
    SmallVector<Value> list(maxima);
    if (maxima.empty())
      for (const SmallVector<Value *> &vals : blocks) {
        Value amax = *vals.front(); // P~ >= 0: no |.|
        for (Value *v : ArrayRef<Value *>(vals).drop_front())
          amax = maxf(amax, *v);
        list.push_back(amax);
      }
    // Reduce-scatter: at mask m the lane keeps the half of its list its bit
    // of m selects and hands the other half to lane ^ m.
    for (int32_t mask : offsets) {
      int64_t half = list.size() / 2;
      Value bit = laneBit(mask);
      SmallVector<Value> next;
      for (int64_t i = 0; i < half; ++i) {
        Value lo = list[i], hi = list[half + i];
        Value give = sel(bit, lo, hi), keep = sel(bit, hi, lo);
        Value got = gpu::ShuffleOp::create(b, loc, give, mask, 32, gpu::ShuffleMode::XOR)
                        .getShuffleResult();
        next.push_back(maxf(keep, got));
      }
      list = next;
    }
    if (combine)
      combine(list);
    for (Value &x : list)
      x = fp.blockScale(pFormat, x, gP, /*boundedAmax=*/true);
    // All-gather by indexed shuffles (no selects): the lane whose bit of
    // offsets[i] is b_i holds the blocks from sum_i b_i n / 2^(i+1) on, and
    // every lane reads each holder's share.
    const int64_t n = blocks.size(), share = list.size();
    int32_t group = 0;
    for (int32_t mask : offsets)
      group |= mask;
    Value others = andi(toI32(lane), i32c(~group & 31));
    Value width = i32c(32);
    SmallVector<Value> all(n);
    for (int64_t holder = 0; holder < (int64_t{1} << offsets.size()); ++holder) {
      int32_t bits = 0;
      int64_t start = 0;
      for (auto [i, mask] : llvm::enumerate(offsets))
        if ((holder >> i) & 1) {
          bits |= mask;
          start += n >> (i + 1);
        }
      Value src = ori(others, i32c(bits));
      for (int64_t k = 0; k < share; ++k)
        all[start + k] = gpu::ShuffleOp::create(b, loc, list[k], src, width, gpu::ShuffleMode::IDX)
                             .getShuffleResult();
    }
    list = all;
    for (auto [i, vals] : llvm::enumerate(blocks)) {
      std::function<void(Value, ArrayRef<Value>)> one;
      if (record)
        one = [&, i = i](Value bits, ArrayRef<Value> codes) { record(i, bits, codes); };
      quantizeWithScale(vals, list[i], record ? PRecorder(one) : PRecorder(),
                        /*applyScale=*/!scalesOut);
    }
    if (scalesOut)
      *scalesOut = list;
  }

  /// The P codec's table of 1 / (s g) split in two floats, (RN(1 / d),
  /// RN(fma(-d, RN(1 / d), 1) / d)) with d = s g, for every NVFP4 block
  /// scale s, in shared memory, filled by the block's `threads` threads
  /// (then a barrier, unless the caller has one next): a division per block
  /// becomes one shared load, and an element's x / d one product and one
  /// FMA (FP4Arith::splitReciprocalDivide, exact for these d). Entry
  /// i holds the scale whose float bits >> 20 are 944 + i (an E4M3 value has
  /// at most 3 mantissa bits, 2^-9 <= s <= 448: 143 entries); the sentinel
  /// 143 holds (0, 0), the reciprocal of a scale of 0 or NaN.
  /// Kernels that never call it keep computing the reciprocal per block.
  static constexpr int64_t kPTableEntries = 144;
  void setUpPCodecTable(Value tid, int64_t threads, bool barrier = true) {
    if (!config.isQuantized() || !isa<NVFP4Attr>(config.getP()))
      return;
    auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
    auto v2f32 = VectorType::get({2}, f32());
    pCodecTable = func.addWorkgroupAttribution(
        MemRefType::get({kPTableEntries}, v2f32, MemRefLayoutAttrInterface{}, workgroup), loc);
    float gP = config.getPGlobalScale();
    auto fill = scf::ForOp::create(b, loc, tid, idx(kPTableEntries), idx(threads));
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(fill.getBody());
      Value i = fill.getInductionVar();
      Value scale = arith::BitcastOp::create(
          b, loc, f32(), shl(arith::AddIOp::create(b, loc, toI32(i), i32c(944)), 20));
      Value denom = mulf(scale, cf(gP));
      Value recip = fp.reciprocal(denom);
      Value recipLow = fp.reciprocalLowPart(denom, recip);
      Value sentinel = eqi(i, idx(kPTableEntries - 1));
      recip = sel(sentinel, cf(0), recip);
      recipLow = sel(sentinel, cf(0), recipLow);
      Value entry = vector::FromElementsOp::create(b, loc, v2f32, ValueRange{recip, recipLow});
      memref::StoreOp::create(b, loc, entry, pCodecTable, ValueRange{i});
    }
    if (barrier)
      gpu::BarrierOp::create(b, loc);
  }
  /// The table entry (the two parts of 1 / (s g)) of block scale `bs`.
  std::pair<Value, Value> reciprocalFromTable(Value bs) {
    Value bits = arith::BitcastOp::create(b, loc, i32(), bs);
    Value entry = arith::MinUIOp::create(
        b, loc,
        arith::SubIOp::create(b, loc, arith::ShRUIOp::create(b, loc, bits, i32c(20)),
                              i32c(944)),
        i32c(kPTableEntries - 1));
    Value at = arith::IndexCastUIOp::create(b, loc, b.getIndexType(), entry);
    Value pair = memref::LoadOp::create(b, loc, pCodecTable, ValueRange{at});
    auto lane = [&](int64_t k) {
      return vector::ExtractOp::create(b, loc, pair, ArrayRef<int64_t>{k}).getResult();
    };
    return {lane(0), lane(1)};
  }
  /// The 32-bit little-endian word at byte `at` (4-aligned) of an i8 buffer.
  Value loadWord(Value buf, Value at) {
    Value v = vector::LoadOp::create(b, loc, VectorType::get({4}, b.getI8Type()), buf,
                                     ValueRange{at}, /*nontemporal=*/false,
                                     llvm::Align(4));
    return asI32(vector::BitCastOp::create(
        b, loc, VectorType::get({1}, b.getI32Type()), v));
  }
  /// The scales of one 64-wide k-step at byte `at`: 4 bytes (NVFP4, a word)
  /// or 2 (MXFP4, the low half of the word).
  Value loadScales(Value buf, Value at, int64_t blockSize) {
    if (blockSize == 16)
      return loadWord(buf, at);
    Value v = vector::LoadOp::create(b, loc, VectorType::get({2}, b.getI8Type()), buf,
                                     ValueRange{at}, /*nontemporal=*/false,
                                     llvm::Align(2));
    Value h = vector::ExtractOp::create(
        b, loc, vector::BitCastOp::create(b, loc, VectorType::get({1}, b.getI16Type()), v),
        ArrayRef<int64_t>{0});
    return zext32(h);
  }
  /// The block scale of P for a block whose values here are `vals` and
  /// whose amax the lanes of `lanes` share (none: a thread holds the block).
  Value pBlockScale(ArrayRef<Value> vals, ArrayRef<int32_t> lanes) {
    Value amax = cf(0);
    for (Value v : vals)
      amax = maxf(amax, math::AbsFOp::create(b, loc, v));
    amax = laneReduce(amax, /*isMax=*/true, lanes);
    return fp.blockScale(config.getP(), amax, config.getPGlobalScale());
  }
  /// The E2M1 codes of 8 values of a block with scale `bs` as one register
  /// (value i in bits 4i..4i+3): FP4Arith's quotient x / (scale g), so codes
  /// equal the CPU's, rounded by cvt.rn.satfinite.e2m1x2.f32 (Blackwell);
  /// scale 0 (underflow) and NaN give zero codes.
  Value e2m1Word(ArrayRef<Value> vals, Value bs) {
    float gP = config.getPGlobalScale();
    Value usable = fp.scaleUsable(bs);
    SmallVector<Value> y;
    for (Value v : vals)
      y.push_back(sel(usable, fp.scaledForCode(v, bs, gP), cf(0)));
    Value word = i32c(0);
    for (int64_t k = 0; k < 4; ++k) {
      // The first operand lands in the high nibble.
      Value pair = NVVM::ConvertF32x2ToF4x2Op::create(
          b, loc, b.getI8Type(), y[2 * k + 1], y[2 * k], /*relu=*/false,
          b.getType<Float4E2M1FNType>());
      word = ori(word, shl(zext32(pair), 8 * k));
    }
    return word;
  }
  /// phi_P of one block's 8 values here: their code register and the
  /// scale's bits.
  std::pair<Value, Value> quantizeToWord(ArrayRef<Value> vals, ArrayRef<int32_t> lanes) {
    Value bs = pBlockScale(vals, lanes);
    return {e2m1Word(vals, bs), fp.scaleBits(config.getP(), bs)};
  }
  /// if (cond) memref[at] = value.
  void storeIf(Value cond, Value value, Value memref, Value at) {
    auto ifOp = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    memref::StoreOp::create(b, loc, value, memref, ValueRange{at});
  }
  /// The P-code dump (debug kernels): per query row, one E2M1 code byte per
  /// key ([rows][N]) and one scale byte per key block ([rows][ceil(N/bs)]);
  /// the forward adds the frame of each block ([rows][ceil(N/bs)], f32).
  struct PDump {
    Value codes, scales, frames;
    explicit operator bool() const { return static_cast<bool>(codes); }
  };

  // ---- The backward's recomputation, shared by its mma.sync and wgmma
  // kernels: a block owns 64 keys of one KV head, warp w keys 16w..16w+15
  // (`keys`: the thread's two, g and g + 8), and walks query tiles of 64
  // rows from i0 (qBase: the head's first row). S^T's accumulator element e
  // of n-tile nt is key keys[e / 2], row i0 + 8 nt + 2t + e % 2. `statS`
  // ([kBackwardStats][64] f32, shared) holds the tile rows' statistics.

  /// A backward block's coordinates: its KV head hk of batch bi, the
  /// group of query heads sharing it, its first key j0 (blocks of
  /// `blockKeys`), the warp's keys (kw0 within the block; `keys`: the
  /// thread's two) and the KV rows' base.
  struct BackwardBlock {
    Value tid, warp, hk, bi, group, j0, kw0, keys[2], kvBase;
  };
  BackwardBlock backwardBlock(Value Hq, Value Hkv, Value N, int64_t blockKeys = tc::kKeyTile) {
    BackwardBlock bb;
    bb.tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
    setUpLanes(bb.tid);
    bb.warp = divu(bb.tid, idx(32));
    Value kTile = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
    bb.hk = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
    bb.bi = gpu::BlockIdOp::create(b, loc, gpu::Dimension::z);
    bb.group = divu(Hq, Hkv);
    bb.j0 = muli(kTile, idx(blockKeys));
    bb.kw0 = muli(bb.warp, idx(16));
    bb.keys[0] = addi(bb.j0, addi(bb.kw0, g));
    bb.keys[1] = addi(bb.j0, addi(bb.kw0, addi(g, idx(8))));
    bb.kvBase = muli(addi(muli(bb.bi, Hkv), bb.hk), N);
    return bb;
  }
  /// The block's work items: (query head of the group, query tile) pairs,
  /// run as one loop so the next item's Q and dO load while one is used;
  /// causal skips the tiles whose rows come before the block's first key.
  struct BackwardItems {
    Value count, tilesPerHead, qTileStart;
    /// With `fastDivide`: w / tilesPerHead without a divide per item (i32,
    /// w < 2^31) as (umulhi(w, tilesMul) + w) >> tilesShift, tilesShift =
    /// ceil(log2 tilesPerHead), tilesMul = ceil(2^(32 + shift) /
    /// tilesPerHead) - 2^32: exact for every w < 2^31 (the round-up
    /// multiplier, as CUTLASS's FastDivmod). The 64-bit divides it replaces
    /// took about 40 instructions per wgmma backward item; the mma.sync
    /// backward keeps them (ptxas 13 spilled 56-72 bytes more there).
    Value tilesMul, tilesShift;
  };
  BackwardItems backwardItems(const BackwardBlock &bb, bool causal, Value M,
                              bool fastDivide = false) {
    BackwardItems it;
    it.qTileStart = causal ? divu(bb.j0, idx(tc::kQueryTile)) : idx(0);
    Value numQTiles = b.createOrFold<arith::CeilDivUIOp>(loc, M, idx(tc::kQueryTile));
    it.tilesPerHead = subi(numQTiles, minu(it.qTileStart, numQTiles));
    it.count = muli(bb.group, it.tilesPerHead);
    if (!fastDivide)
      return it;
    // A block with no items never asks for one: divide by 1 there.
    Value d = toI32(arith::MaxUIOp::create(b, loc, it.tilesPerHead, idx(1)));
    it.tilesShift =
        subi(i32c(32), LLVM::CountLeadingZerosOp::create(b, loc, i32(), subi(d, i32c(1)),
                                                         /*is_zero_poison=*/false));
    Type i64 = b.getI64Type();
    Value d64 = arith::ExtUIOp::create(b, loc, i64, d);
    Value pow =
        arith::ShLIOp::create(b, loc, arith::ConstantIntOp::create(b, loc, 1, 64),
                              arith::ExtUIOp::create(b, loc, i64, addi(it.tilesShift, i32c(32))));
    Value m = b.createOrFold<arith::CeilDivUIOp>(loc, pow, d64);
    it.tilesMul = arith::TruncIOp::create(b, loc, i32(), m);
    return it;
  }
  /// w / tilesPerHead (index) by the multiplier above.
  Value itemHead(const BackwardItems &it, Value w) {
    Value w32 = toI32(w);
    auto mul = arith::MulUIExtendedOp::create(b, loc, w32, it.tilesMul);
    Value q = arith::ShRUIOp::create(b, loc, addi(mul.getHigh(), w32), it.tilesShift);
    return arith::IndexCastUIOp::create(b, loc, b.getIndexType(), q);
  }
  /// Starts the loads of work item w's Q and dO tiles into stage w % 2 with
  /// `load(h, qBase, i0, stage, tokens)` (h its query head) and returns
  /// their group of copies. Past the last item it reloads the last one into
  /// the idle stage (harmless), so the loop needs no test.
  using StageLoad = llvm::function_ref<void(Value h, Value qBase, Value i0, Value stage,
                                            SmallVector<Value> &tokens)>;
  Value backwardPrefetch(const BackwardBlock &bb, const BackwardItems &it, Value w, Value Hq,
                         Value M, StageLoad load) {
    Value wc = minu(w, subi(it.count, idx(1)));
    auto [h, i0, qBase] = backwardItem(bb, it, wc, Hq, M);
    Value stage = remu(w, idx(2));
    SmallVector<Value> tokens;
    load(h, qBase, i0, stage, tokens);
    return commit(tokens);
  }
  /// Item w's query head, first row and qBase (the head's first row index).
  std::tuple<Value, Value, Value> backwardItem(const BackwardBlock &bb,
                                               const BackwardItems &it, Value w, Value Hq,
                                               Value M) {
    Value head, tile;
    if (it.tilesMul) {
      head = itemHead(it, w);
      tile = subi(w, muli(head, it.tilesPerHead));
    } else {
      head = divu(w, it.tilesPerHead);
      tile = remu(w, it.tilesPerHead);
    }
    Value h = addi(muli(bb.hk, bb.group), head);
    Value i0 = muli(addi(it.qTileStart, tile), idx(tc::kQueryTile));
    return {h, i0, muli(addi(muli(bb.bi, Hq), h), M)};
  }

  /// MXFP4 P in a backward: a row's 32-key block spans warps 2p and 2p + 1
  /// (16 keys each), which meet their maxima in shared memory at a named
  /// barrier of the pair (id 1 + p, 64 threads). Two buffers, by
  /// `pExchangeStage` (the item's w % 2, set by the kernel per item), let a
  /// warp write the next item's maxima while its partner still reads these.
  Value pExchange, pExchangeStage;
  int64_t pExchangeWarps = 0;
  /// Each lane's share of maxima after the reduce-scatter over 8 lanes: the
  /// 2 x 8 blocks of a 64-row S^T tile's n-tiles, one eighth.
  static constexpr int64_t kPExchangeShare = 2 * (tc::kQueryTile / 8) / 8;
  void setUpPExchange(int64_t warps) {
    if (!config.isQuantized() || config.getP().getBlockSize() <= 16)
      return;
    auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
    pExchangeWarps = warps;
    pExchange =
        func.addWorkgroupAttribution(MemRefType::get({2 * warps * 32 * kPExchangeShare}, f32(),
                                                     MemRefLayoutAttrInterface{}, workgroup),
                                     loc);
  }
  /// The maxima of `share` (this warp's 16 keys of each block) made the
  /// whole 32-key blocks' by the partner warp's (warp = kw0 / 16).
  void pairMax(SmallVector<Value> &share, Value kw0) {
    assert(pExchange && pExchangeStage && "MXFP4 P needs setUpPExchange and a stage");
    assert(static_cast<int64_t>(share.size()) == kPExchangeShare && "a 64-row tile");
    auto vt = VectorType::get({kPExchangeShare}, f32());
    Value warp = divu(kw0, idx(16));
    auto slot = [&](Value w) {
      Value row = addi(muli(pExchangeStage, idx(pExchangeWarps)), w);
      return muli(addi(muli(row, idx(32)), lane), idx(kPExchangeShare));
    };
    vector::StoreOp::create(b, loc, vector::FromElementsOp::create(b, loc, vt, share), pExchange,
                            ValueRange{slot(warp)});
    NVVM::BarrierOp::create(b, loc, Type(), toI32(addi(idx(1), divu(warp, idx(2)))), i32c(64),
                            NVVM::BarrierReductionAttr(), Value());
    Value partner = arith::XOrIOp::create(b, loc, warp, idx(1));
    Value other = vector::LoadOp::create(b, loc, vt, pExchange, ValueRange{slot(partner)});
    for (int64_t k = 0; k < kPExchangeShare; ++k)
      share[k] = maxf(share[k],
                      vector::ExtractOp::create(b, loc, other, ArrayRef<int64_t>{k}).getResult());
  }

  Value bwdRowOf(int64_t nt, int64_t e) { return addi(idx(nt * 8 + e % 2), muli(t, idx(2))); }
  /// Row `which` of the current stage of `statS` (statStage: its first row;
  /// none: a single stage).
  Value statStage;
  Value bwdStat(Value statS, int64_t which, int64_t nt, int64_t e) {
    Value at = statStage ? addi(statStage, idx(which)) : idx(which);
    return memref::LoadOp::create(b, loc, statS, ValueRange{at, bwdRowOf(nt, e)});
  }
  /// The tile rows' m, g/l (the factor of dV's P^F; g = 1 unless P is
  /// quantized), D and scale/l (the factor of dS's P, which so needs no
  /// product by the scale of its own) into `statS` ([kBackwardStats][64];
  /// rows past M: m = 0 and 1/l = 0, so their P is 0), by the block's first
  /// 64 threads.
  static constexpr int64_t kBackwardStats = 4;
  void storeBackwardStats(Value tid, Value statS, Value mIn, Value lIn, Value deltaIn, Value i0,
                          Value qBase, Value M, Value scale, float gP, Value stage = nullptr) {
    auto ifStat = scf::IfOp::create(b, loc, ult(tid, idx(tc::kQueryTile)), false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifStat.getThenRegion().front());
    Value row = addi(i0, tid);
    Value at = addi(qBase, clampTo(row, M));
    Value m = memref::LoadOp::create(b, loc, mIn, ValueRange{at});
    Value l = memref::LoadOp::create(b, loc, lIn, ValueRange{at});
    Value dd = memref::LoadOp::create(b, loc, deltaIn, ValueRange{at});
    storeRowStats(tid, statS, m, l, dd, ult(row, M), scale, gP, stage);
  }
  /// Row tid's statistics from its m, l and D (`inside`: the row is < M)
  /// into stage `stage` (a first row of statS; none: 0).
  void storeRowStats(Value tid, Value statS, Value m, Value l, Value dd, Value inside,
                     Value scale, float gP, Value stage) {
    auto rowOf = [&](int64_t which) { return stage ? addi(stage, idx(which)) : idx(which); };
    Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, l, cf(0));
    Value invL = sel(empty, cf(0), arith::DivFOp::create(b, loc, cf(1), l));
    invL = sel(inside, invL, cf(0));
    memref::StoreOp::create(b, loc, sel(inside, m, cf(0)), statS, ValueRange{rowOf(0), tid});
    memref::StoreOp::create(b, loc, gP == 1.0f ? invL : mulf(invL, cf(gP)), statS,
                            ValueRange{rowOf(1), tid});
    memref::StoreOp::create(b, loc, sel(inside, dd, cf(0)), statS, ValueRange{rowOf(2), tid});
    memref::StoreOp::create(b, loc, mulf(invL, scale), statS, ValueRange{rowOf(3), tid});
  }
  /// From S^T: P (= P~ / l) and the P that multiplies dO for dV (qat: P~^F
  /// g / l, the forward's codes and scales in its final frame; otherwise
  /// P). A row's 16-key block is this warp's column of S^T, spread over the
  /// lanes with the same t (lane xor 4, 8, 16) and both halves; a 32-key
  /// (MXFP4) block also over the partner warp (pairMax). With `dump`, the
  /// codes and block scales are written out.
  void backwardP(const Masking &mk, ArrayRef<Acc> sT, Value statS, Value i0, Value qBase,
                 Value M, Value N, Value j0, Value kw0, const Value keys[2], bool quantizeP,
                 const PDump &dump, SmallVector<Acc> &p, SmallVector<Acc> &pf) {
    const int64_t rTiles = sT.size();
    p.assign(rTiles, Acc{});
    // Causal: key <= row as key - (i0 + 2t) <= the row's offset in the
    // tile, a constant: two differences per item instead of sixteen 64-bit
    // rows.
    Value fromRow[2];
    if (mk.causal)
      for (int64_t r = 0; r < 2; ++r)
        fromRow[r] = subi(keys[r], addi(i0, muli(t, idx(2))));
    auto visibleAt = [&](int64_t nt, int64_t e) {
      Value below;
      if (mk.causal)
        below = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, fromRow[e / 2],
                                      idx(nt * 8 + e % 2));
      return visibleWith(mk, keys[e / 2], below);
    };
    // Masked scores are left finite and their P~ set to 0 afterwards: one
    // select, not a -inf score and a test of it (an additive mask can still
    // make a score -inf, so it keeps the test).
    for (int64_t nt = 0; nt < rTiles; ++nt)
      for (int64_t e = 0; e < 4; ++e) {
        Value row = addi(i0, bwdRowOf(nt, e));
        Value sc = score(mk, sT[nt][e], row, keys[e / 2], /*checkValid=*/false);
        p[nt][e] =
            sel(visibleAt(nt, e), pTilde(sc, bwdStat(statS, 0, nt, e), /*finite=*/!mk.mask), cf(0));
      }
    pf = p;
    if (quantizeP) {
      const int64_t bs = config.getP().getBlockSize();
      assert((bs == 16 || bs == 32) && "P blocks of one warp or a warp pair");
      // Block nt * 2 + c: column c of n-tile nt, over the 8 lanes with this t.
      SmallVector<SmallVector<Value *>> blocks;
      for (int64_t nt = 0; nt < rTiles; ++nt)
        for (int64_t c = 0; c < 2; ++c)
          blocks.push_back({&pf[nt][c], &pf[nt][c + 2]});
      auto record = [&](int64_t block, Value scaleBits, ArrayRef<Value> codes) {
        int64_t nt = block / 2, c = block % 2;
        Value row = addi(i0, bwdRowOf(nt, c));
        Value rowOk = ult(row, M);
        Value rowAt = addi(qBase, row);
        for (int64_t r = 0; r < 2; ++r)
          storeIf(andi(rowOk, ult(keys[r], N)), codes[r], dump.codes,
                  addi(muli(rowAt, N), keys[r]));
        // The block's first warp writes its scale (kw0 a multiple of bs).
        Value blockStart = addi(j0, kw0);
        Value blocks = b.createOrFold<arith::CeilDivUIOp>(loc, N, idx(bs));
        Value lead = andi(andi(rowOk, ult(blockStart, N)),
                          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, g, idx(0)));
        if (bs > 16)
          lead = andi(lead, eqi(remu(kw0, idx(bs)), idx(0)));
        storeIf(lead, scaleBits, dump.scales, addi(muli(rowAt, blocks), divu(blockStart, idx(bs))));
      };
      auto acrossWarps = [&](SmallVector<Value> &share) { pairMax(share, kw0); };
      quantizeBlocksShared(blocks, {4, 8, 16}, dump ? PBlockRecorder(record) : PBlockRecorder(),
                           bs > 16 ? MaxCombiner(acrossWarps) : MaxCombiner());
    }
    for (int64_t nt = 0; nt < rTiles; ++nt)
      for (int64_t e = 0; e < 4; ++e) {
        p[nt][e] = mulf(p[nt][e], bwdStat(statS, 3, nt, e));
        pf[nt][e] = mulf(pf[nt][e], bwdStat(statS, 1, nt, e));
      }
  }
  /// dS^T = (P scale) (dP^T - D), in place of dP^T (`p` from backwardP).
  void backwardDS(SmallVector<Acc> &dS, ArrayRef<Acc> p, Value statS) {
    for (int64_t nt = 0; nt < static_cast<int64_t>(dS.size()); ++nt)
      for (int64_t e = 0; e < 4; ++e)
        dS[nt][e] = mulf(p[nt][e], subf(dS[nt][e], bwdStat(statS, 2, nt, e)));
  }

  /// phi_P of a forward's key tile in registers: `pq` holds P~ as
  /// accumulator tiles of 8 keys (key j0 + 8 nt + 2t + e % 2 of row e / 2);
  /// blocks of 16 (NVFP4) or 32 (MXFP4) keys are 2 or 4 tiles of a row,
  /// whose amax the row's four lanes share. With `dump`, each code, block
  /// scale and frame (mNew) is recorded for the matched-recomputation check.
  /// With `scalesOut`, `pq` is left on the E2M1 grid and block i's scale is
  /// scalesOut[i] (aFromAcc with scale pairs packs the products).
  ///
  /// With `blockScoreMax` (softmaxTile's), a block's amax is P~ of its
  /// largest score, taken after the lanes' reduce-scatter of the score
  /// maxima: P~(s) = ex2(s - floor s) 2^max(floor s - m, -125) is
  /// non-decreasing in s over the scores the clamp leaves alone, because
  /// ex2.approx.ftz is non-decreasing on [0, 1) with values in [1, 2)
  /// (scripts/probes/ex2-monotone.cu checks every float there on the GPU).
  /// Clamped P~ lie in [2^-125, 2^-124): where the largest score's P~ is
  /// below 2^-124 so is the whole block's, one binade, in which each P
  /// format's block scale is the same (0 in NVFP4, 2^-127 in MXFP4);
  /// above, it exceeds every clamped P~. So the scales and codes are the
  /// elementwise amax's, while the scales' chain (shuffles, table) no
  /// longer waits for the tile's P~. `finite` as pTilde's (no -inf score
  /// in the tile).
  ///
  /// With `rowSums` (the lane's l of rows 0 and 1 after this tile) the
  /// amax is max(P~(max s), min(l, 0)), the same value (l >= 0; a NaN l is
  /// a NaN row, whose outputs are NaN either way), but the scales' chain
  /// then follows the tile's P~: in the pipelined forward ptxas otherwise
  /// hoists it ahead of them and waits for P_{j-1} V_{j-1} early, to free
  /// registers for them.
  void quantizeForwardP(SmallVector<Acc> &pq, Value j0, const Value rows[2],
                        const Value rowValid[2], Value qBase, Value N,
                        const Value mNew[2], const PDump &dump,
                        SmallVector<Value> *scalesOut = nullptr,
                        ArrayRef<Value> blockScoreMax = {}, bool finite = false,
                        const Value *rowSums = nullptr) {
    int64_t bs = config.getP().getBlockSize();
    int64_t tilesPerBlock = bs / 8;
    int64_t blocksPerTile = static_cast<int64_t>(pq.size()) / tilesPerBlock;
    // Block i = 2 blk + r: row r's keys of tiles [blk, blk + 1) x tilesPerBlock.
    SmallVector<SmallVector<Value *>> blocks;
    for (int64_t blk = 0; blk < blocksPerTile; ++blk)
      for (int64_t r = 0; r < 2; ++r) {
        SmallVector<Value *> &vals = blocks.emplace_back();
        for (int64_t nt = blk * tilesPerBlock; nt < (blk + 1) * tilesPerBlock; ++nt)
          for (int64_t e = 2 * r; e < 2 * r + 2; ++e)
            vals.push_back(&pq[nt][e]);
      }
    auto record = [&](int64_t block, Value scaleBits, ArrayRef<Value> codes) {
      int64_t blk = block / 2, r = block % 2;
      Value numBlocks = b.createOrFold<arith::CeilDivUIOp>(loc, N, idx(bs));
      Value rowAt = addi(qBase, rows[r]);
      int64_t c = 0;
      for (int64_t nt = blk * tilesPerBlock; nt < (blk + 1) * tilesPerBlock; ++nt)
        for (int64_t e = 2 * r; e < 2 * r + 2; ++e) {
          Value key = addi(j0, addi(idx(nt * 8 + e % 2), muli(t, idx(2))));
          storeIf(andi(rowValid[r], ult(key, N)), codes[c++], dump.codes,
                  addi(muli(rowAt, N), key));
        }
      Value blockStart = addi(j0, idx(blk * bs));
      Value at = addi(muli(rowAt, numBlocks), divu(blockStart, idx(bs)));
      Value lead = andi(andi(rowValid[r], ult(blockStart, N)),
                        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, t, idx(0)));
      storeIf(lead, scaleBits, dump.scales, at);
      storeIf(lead, mNew[r], dump.frames, at);
    };
    // The row's four lanes share every block: each computes the scales of a
    // quarter of them (reduce-scatter, all-gather). A 64-key tile has 8
    // blocks per thread (NVFP4) or 4 (MXFP4).
    assert(blocks.size() % 4 == 0 && "a quarter of the blocks per lane");
    // After the reduce-scatter a lane holds blocks [start, start + share)
    // with start = 4 b1 + 2 b2 (NVFP4, 8 blocks: rows 0, 1) or 2 b1 + b2
    // (MXFP4, 4 blocks: row b2), b1 and b2 the lane's bits 1 and 2.
    auto amaxFromScores = [&](SmallVector<Value> &share) {
      Value bit2 = share.size() > 1 ? Value() : ult(idx(0), andi(lane, idx(2)));
      auto ofRow = [&](const Value perRow[2], size_t k) {
        return bit2 ? sel(bit2, perRow[1], perRow[0]) : perRow[k % 2];
      };
      for (size_t k = 0; k < share.size(); ++k) {
        // The near-frame loop takes the block amax by pTilde (the same
        // codes and scales: they differ below 2^-124 only, where the
        // scale is 0 either way): ptxas then schedules that loop as session
        // 33's X2 probe (its stage release late in the step, 692 of 899),
        // with pTildeNear it released at 511.
        share[k] = nearFramesOnly ? pTilde(share[k], ofRow(mNew, k), finite)
                                  : pTildeForward(share[k], ofRow(mNew, k), finite);
        if (rowSums)
          share[k] = maxf(share[k], arith::MinimumFOp::create(b, loc, ofRow(rowSums, k), cf(0)));
      }
    };
    quantizeBlocksShared(blocks, {1, 2}, dump ? PBlockRecorder(record) : PBlockRecorder(),
                         blockScoreMax.empty() ? MaxCombiner() : MaxCombiner(amaxFromScores),
                         scalesOut, blockScoreMax);
  }

  /// Packed FP4 operands (mode fp4): E2M1 codes two per byte along the block
  /// axis (element 2j in the low nibble) and one scale byte per block.
  struct Packed {
    Value codes, scales;
    FP4FormatAttrInterface format;
  };
  /// code x scale (x g) of the low (hi = false) or high nibble of `byte`
  /// (i8), with `scale` the block's decoded scale.
  Value decodeNibble(const Packed &p, Value byte, bool hi, Value scale) {
    Value code = hi ? arith::ShRUIOp::create(
                          b, loc, byte, arith::ConstantIntOp::create(b, loc, 4, 8))
                    : byte;
    code = arith::AndIOp::create(b, loc, code, arith::ConstantIntOp::create(b, loc, 15, 8));
    return fp.dequantizeElement(fp.decodeE2M1(code), scale,
                                p.format.getGlobalScaleValue());
  }
  /// The leading kernel parameters both directions share: q, k, v (codes
  /// when packed, then their scales), [mask], [key_lengths]; `a` moves past
  /// them.
  std::tuple<Value, Value, Value, Packed, Packed, Packed, Value, Value>
  takeOperands(Block &entry, unsigned &a, bool packed, bool hasMask, bool hasLengths) {
    Value q = entry.getArgument(a++), k = entry.getArgument(a++),
          v = entry.getArgument(a++);
    Packed qP, kP, vP;
    if (packed) {
      qP = {q, entry.getArgument(a++), config.getQ()};
      kP = {k, entry.getArgument(a++), config.getK()};
      vP = {v, entry.getArgument(a++), config.getV()};
    }
    Value mask = hasMask ? entry.getArgument(a++) : Value();
    Value lengths = hasLengths ? entry.getArgument(a++) : Value();
    return {q, k, v, qP, kP, vP, mask, lengths};
  }
  /// A backward kernel's parameters (their order: ConvertAttnQATToGPUKernels'
  /// tcBackward): operands, the forward's m and l, delta, dO, dq_acc, dk, dv,
  /// [p_codes, p_scales] (`dumpP`), then the problem dims.
  struct BackwardParams {
    Value q, k, v;
    Packed qP, kP, vP;
    Value mask, lengths, mIn, lIn, deltaIn, dO, dq, dk, dv;
    PDump dump;
    Value Hq, Hkv, M, N, scale;
  };
  BackwardParams takeBackwardParams(StateType st, bool packed, bool dumpP) {
    Block &entry = func.getBody().front();
    BackwardParams p;
    unsigned a = 0;
    std::tie(p.q, p.k, p.v, p.qP, p.kP, p.vP, p.mask, p.lengths) = takeOperands(
        entry, a, packed, static_cast<bool>(st.getMask()), st.getKeyLengths());
    for (Value *x : {&p.mIn, &p.lIn, &p.deltaIn, &p.dO, &p.dq, &p.dk, &p.dv})
      *x = entry.getArgument(a++);
    if (dumpP)
      p.dump = {entry.getArgument(a), entry.getArgument(a + 1), Value()};
    ValueRange dims = entry.getArguments().take_back(7);
    p.Hq = dims[1], p.Hkv = dims[2], p.M = dims[3], p.N = dims[4], p.scale = dims[6];
    return p;
  }
  Value loadByte(Value buf, Value at) {
    return memref::LoadOp::create(b, loc, buf, ValueRange{at});
  }
  /// Decodes rows [row0, row0 + 64) of a [rows][D] operand blocked along D
  /// (Q, K; row r's codes at (base + r) * D/2, its scales at
  /// (base + r) * D/bs) into a bf16 tile; rows past `rows` are zeros. Each
  /// thread decodes runs of 16 elements (8 code bytes).
  void decodeRowBlocked(Value tid, const Packed &p, Value base, Value row0, Value rows,
                        Tile dst) {
    const int64_t runs = D / 16, bs = p.format.getBlockSize();
    for (int64_t i = 0; i < tc::kKeyTile * runs / tc::kThreads; ++i) {
      Value u = addi(tid, idx(i * tc::kThreads));
      Value r = divu(u, idx(runs)), run = remu(u, idx(runs));
      Value row = addi(row0, r);
      Value inside = ult(row, rows);
      Value at = addi(base, clampTo(row, rows));
      Value bytes = vector::LoadOp::create(
          b, loc, VectorType::get({8}, b.getI8Type()), p.codes,
          ValueRange{addi(muli(at, idx(D / 2)), muli(run, idx(8)))},
          /*nontemporal=*/false, llvm::Align(8));
      Value sBits = loadByte(p.scales, addi(muli(at, idx(D / bs)),
                                            divu(muli(run, idx(16)), idx(bs))));
      Value sc = fp.decodeScale(p.format, sBits);
      SmallVector<Value> vals;
      for (int64_t j = 0; j < 8; ++j) {
        Value byte = vector::ExtractOp::create(b, loc, bytes, ArrayRef<int64_t>{j});
        for (bool hi : {false, true}) {
          Value x = sel(inside, decodeNibble(p, byte, hi, sc), cf(0));
          vals.push_back(arith::TruncFOp::create(b, loc, bf16(), x));
        }
      }
      for (int64_t half = 0; half < 2; ++half) {
        Value vec = vector::FromElementsOp::create(
            b, loc, VectorType::get({8}, bf16()),
            ArrayRef<Value>(vals).slice(half * 8, 8));
        vector::StoreOp::create(b, loc, vec, dst.buffer,
                                dst.at(r, addi(muli(run, idx(16)), idx(half * 8))));
      }
    }
  }
  /// Decodes keys [j0, j0 + 64) of a [keys][D] operand blocked along keys
  /// (V: codes [keys/2][D], key pairs per byte; scales [keys/bs][D], both
  /// from `base` rows of their own) into a bf16 tile; keys past N are zeros.
  /// Each thread decodes 2 keys x 8 columns.
  void decodeKeyBlocked(Value tid, const Packed &p, Value codeBase, Value scaleBase,
                        Value j0, Value N, Tile dst) {
    const int64_t chunks = D / 8, bs = p.format.getBlockSize();
    Value pairs = b.createOrFold<arith::CeilDivUIOp>(loc, N, idx(2));
    Value blocks = b.createOrFold<arith::CeilDivUIOp>(loc, N, idx(bs));
    for (int64_t i = 0; i < (tc::kKeyTile / 2) * chunks / tc::kThreads; ++i) {
      Value u = addi(tid, idx(i * tc::kThreads));
      Value jp = divu(u, idx(chunks)), col = muli(remu(u, idx(chunks)), idx(8));
      Value key = addi(j0, muli(jp, idx(2)));
      Value pair = divu(key, idx(2));
      Value inside = ult(key, N);
      Value bytes = vector::LoadOp::create(
          b, loc, VectorType::get({8}, b.getI8Type()), p.codes,
          ValueRange{addi(muli(addi(codeBase, clampTo(pair, pairs)), idx(D)), col)},
          /*nontemporal=*/false, llvm::Align(8));
      Value sBytes = vector::LoadOp::create(
          b, loc, VectorType::get({8}, b.getI8Type()), p.scales,
          ValueRange{addi(muli(addi(scaleBase, clampTo(divu(key, idx(bs)), blocks)),
                               idx(D)),
                          col)},
          /*nontemporal=*/false, llvm::Align(8));
      for (bool hi : {false, true}) {
        SmallVector<Value> vals;
        for (int64_t j = 0; j < 8; ++j) {
          Value byte = vector::ExtractOp::create(b, loc, bytes, ArrayRef<int64_t>{j});
          Value sc = fp.decodeScale(
              p.format, vector::ExtractOp::create(b, loc, sBytes, ArrayRef<int64_t>{j}));
          Value x = sel(inside, decodeNibble(p, byte, hi, sc), cf(0));
          vals.push_back(arith::TruncFOp::create(b, loc, bf16(), x));
        }
        Value vec = vector::FromElementsOp::create(b, loc, VectorType::get({8}, bf16()),
                                                   vals);
        vector::StoreOp::create(b, loc, vec, dst.buffer,
                                dst.at(addi(muli(jp, idx(2)), idx(hi ? 1 : 0)), col));
      }
    }
  }

  /// Where a forward block's rows are: grid (query tile, head, batch), the
  /// lane's two rows (warp `rowGroup` owns 16 of the block's `blockRows`).
  struct ForwardRows {
    Value q0, h, bi, hk, rows[2], rowValid[2], qBase, kvBase;
  };
  ForwardRows forwardRows(Value rowGroup, Value Hq, Value Hkv, Value M, Value N,
                          int64_t blockRows = tc::kQueryTile) {
    return forwardRowsOf(gpu::BlockIdOp::create(b, loc, gpu::Dimension::x),
                         gpu::BlockIdOp::create(b, loc, gpu::Dimension::y),
                         gpu::BlockIdOp::create(b, loc, gpu::Dimension::z), rowGroup, Hq, Hkv, M, N,
                         blockRows);
  }
  /// The same for query tile `qTile` of head h, batch bi (a persistent
  /// kernel's work unit).
  ForwardRows forwardRowsOf(Value qTile, Value h, Value bi, Value rowGroup, Value Hq, Value Hkv,
                            Value M, Value N, int64_t blockRows) {
    ForwardRows r;
    r.h = h;
    r.bi = bi;
    r.hk = divu(r.h, divu(Hq, Hkv));
    r.q0 = muli(qTile, idx(blockRows));
    r.rows[0] = addi(addi(r.q0, muli(rowGroup, idx(16))), g);
    r.rows[1] = addi(r.rows[0], idx(8));
    r.rowValid[0] = ult(r.rows[0], M);
    r.rowValid[1] = ult(r.rows[1], M);
    r.qBase = muli(addi(muli(r.bi, Hq), r.h), M);      // row 0 of (b, h)
    r.kvBase = muli(addi(muli(r.bi, Hkv), r.hk), N);   // key 0 of (b, hk)
    return r;
  }

  /// The online-softmax step of one key tile for a lane's two rows: the
  /// tile's lane-local row maxima, the running (m0, m1, l0, l1) in `ml`;
  /// gives the new integer frame m' = max(m, ceil(rowmax)), the exact
  /// alpha = exp2(m - m') and alpha * l.
  void onlineSoftmaxStep(const Value tileMax[2], ValueRange ml, Value mNew[2],
                         Value alpha[2], Value lScaled[2]) {
    for (int64_t r = 0; r < 2; ++r) {
      Value m = ml[r];
      Value mx = quadReduce(tileMax[r], /*isMax=*/true);
      mNew[r] = maxf(m, math::CeilOp::create(b, loc, mx));
      alpha[r] = sel(isNegInf(m), cf(0), exp2(subf(m, mNew[r])));
      lScaled[r] = mulf(alpha[r], ml[2 + r]);
    }
  }

  /// One key tile of the forward's softmax, on the lane's S accumulators:
  /// scores in the log2 domain (-inf where masked; `keyOf(nt, e)` is the key
  /// of accumulator e of n-tile nt), the online-softmax step against the
  /// running (m0, m1, l0, l1) in `ml`, and P~ in the new frame, whose sum
  /// joins lNew (this lane's share).
  using KeyOf = llvm::function_ref<Value(int64_t nt, int64_t e)>;
  /// With `blockScoreMax`, the tile max is taken over P blocks of
  /// `blockKeys` keys first and their score maxima (block 2 blk + r: row r's
  /// keys [blk, blk + 1) x blockKeys, quantizeForwardP's order) are handed
  /// over: P~ is non-decreasing in s, so P~ of a block's largest score is
  /// its amax (see quantizeForwardP).
  SmallVector<Acc> softmaxTile(SmallVector<Acc> &s, KeyOf keyOf, const Masking &mk,
                               const Value rows[2], bool masked, ValueRange ml,
                               Value mNew[2], Value alpha[2], Value lNew[2],
                               int64_t blockKeys = 0,
                               SmallVector<Value> *blockScoreMax = nullptr) {
    const int64_t nTiles = static_cast<int64_t>(s.size());
    Value tileMax[2] = {cf(-kInf), cf(-kInf)};
    for (int64_t nt = 0; nt < nTiles; ++nt)
      for (int64_t e = 0; e < 4; ++e) {
        s[nt][e] = score(mk, s[nt][e], rows[e / 2], keyOf(nt, e), masked);
        if (!blockScoreMax)
          tileMax[e / 2] = maxf(tileMax[e / 2], s[nt][e]);
      }
    // Block by block: blockKeys / 8 n-tiles of 8 keys each.
    const int64_t tilesPerBlock = blockKeys / 8;
    assert((!blockScoreMax || (tilesPerBlock > 0 && nTiles % tilesPerBlock == 0)) &&
           "whole P blocks per tile");
    for (int64_t blk = 0; blockScoreMax && blk < nTiles / tilesPerBlock; ++blk)
      for (int64_t r = 0; r < 2; ++r) {
        Value mx;
        for (int64_t nt = blk * tilesPerBlock; nt < (blk + 1) * tilesPerBlock; ++nt)
          for (int64_t e = 2 * r; e < 2 * r + 2; ++e)
            mx = mx ? maxf(mx, s[nt][e]) : s[nt][e];
        blockScoreMax->push_back(mx);
        tileMax[r] = maxf(tileMax[r], mx);
      }
    // Integer running max (exact alpha), then P~ in that frame.
    onlineSoftmaxStep(tileMax, ml, mNew, alpha, lNew);
    SmallVector<Acc> p(s.size());
    for (int64_t nt = 0; nt < static_cast<int64_t>(s.size()); ++nt)
      for (int64_t e = 0; e < 4; ++e) {
        p[nt][e] = pTildeForward(s[nt][e], mNew[e / 2], /*finite=*/!masked && !mk.mask);
        lNew[e / 2] = addf(lNew[e / 2], p[nt][e]);
      }
    return p;
  }

  /// A finished row's 1 / l and LSE = m + log2 l (an empty row, l = 0:
  /// 0 and -inf).
  std::pair<Value, Value> finishRow(Value m, Value l) {
    Value empty = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, l, cf(0));
    Value inv = sel(empty, cf(0), arith::DivFOp::create(b, loc, cf(1), l));
    Value lse = sel(empty, cf(-kInf), addf(m, math::Log2Op::create(b, loc, l)));
    return {inv, lse};
  }

  /// Where a forward writes its per-row results (oPrime only in qat).
  struct ForwardOutputs {
    Value o, oPrime, lse, m, l;
  };

  /// The parameters of a forward: q, k, v (with `packed`: codes, then their
  /// scales), [mask], [key_lengths], o, [o_prime], lse, m, l, [p_codes,
  /// p_scales, p_frames: into `dump` when given], then B, Hq, Hkv, M, N, D,
  /// scale.
  struct ForwardParams {
    Value q, k, v;
    Packed qP, kP, vP;
    Value mask, lengths;
    ForwardOutputs out;
    Value Hq, Hkv, M, N, scale;
  };
  ForwardParams takeForward(AttentionOp op, bool packed, PDump *dump = nullptr) {
    Block &entry = func.getBody().front();
    unsigned a = 0;
    ForwardParams f;
    std::tie(f.q, f.k, f.v, f.qP, f.kP, f.vP, f.mask, f.lengths) =
        takeOperands(entry, a, packed, static_cast<bool>(op.getMask()),
                     static_cast<bool>(op.getKeyLengths()));
    f.out.o = entry.getArgument(a++);
    f.out.oPrime = config.getMode() == Mode::QAT ? entry.getArgument(a++) : Value();
    f.out.lse = entry.getArgument(a++), f.out.m = entry.getArgument(a++),
    f.out.l = entry.getArgument(a++);
    if (dump)
      *dump = {entry.getArgument(a), entry.getArgument(a + 1), entry.getArgument(a + 2)};
    ValueRange dims = entry.getArguments().take_back(7);
    f.Hq = dims[1], f.Hkv = dims[2], f.M = dims[3], f.N = dims[4], f.scale = dims[6];
    return f;
  }
  /// The forward's epilogue for a lane's two rows: `fin` holds the O tiles
  /// (D/8 of them), then the O' tiles when out.oPrime is set, then m0, m1
  /// and the lane's shares of l0, l1 (at accCount). l is summed over the
  /// row's lanes; O /= l (times the P global scale gP), O' /= l; LSE =
  /// m + log2 l (an empty row: O = 0, LSE = -inf). Rows past M are skipped.
  /// A warp may own only dTiles column tiles of O and O' (-1: all D / 8),
  /// starting at column `colOffset`; then `statsLead`, when set, picks the
  /// warps that write m, l and LSE.
  void storeForwardOutputs(const ForwardOutputs &out, ValueRange fin,
                           int64_t accCount, const Value rows[2],
                           const Value rowValid[2], Value qBase, float gP,
                           int64_t dTiles = -1, Value colOffset = nullptr,
                           Value statsLead = nullptr) {
    if (dTiles < 0)
      dTiles = D / 8;
    for (int64_t r = 0; r < 2; ++r) {
      Value m = fin[accCount + r];
      Value l = quadReduce(fin[accCount + 2 + r], /*isMax=*/false);
      // pTildeInRow's bits are finite garbage where the frame is NaN (the
      // product made them NaN): such a row's l is NaN, so are O, O' and LSE.
      if (pTildeByBits())
        l = sel(arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, m, m),
                cf(std::numeric_limits<double>::quiet_NaN()), l);
      auto [inv, lse] = finishRow(m, l);
      auto ifRow = scf::IfOp::create(b, loc, rowValid[r], /*withElse=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifRow.getThenRegion().front());
      Value rowAt = addi(qBase, rows[r]);
      Value lead = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, t, idx(0));
      if (statsLead)
        lead = andi(lead, statsLead);
      auto ifLead = scf::IfOp::create(b, loc, lead, /*withElse=*/false);
      {
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToStart(&ifLead.getThenRegion().front());
        memref::StoreOp::create(b, loc, m, out.m, ValueRange{rowAt});
        memref::StoreOp::create(b, loc, l, out.l, ValueRange{rowAt});
        memref::StoreOp::create(b, loc, lse, out.lse, ValueRange{rowAt});
      }
      Value oScale = gP == 1.0f ? inv : mulf(inv, cf(gP));
      storeRowPairs(out.o, rowAt, fin, 0, dTiles, r, oScale, colOffset);
      if (out.oPrime)
        storeRowPairs(out.oPrime, rowAt, fin, dTiles * 4, dTiles, r, inv, colOffset);
    }
  }

  /// Decodes keys [j0, j0 + 64) of V in the t64 layout (sm_120a's V^T: per
  /// (KV head, d) a row of ceil(N/64) tiles of 32 code bytes and 4 scale
  /// bytes, NVFP4) into a bf16 [keys][D] tile; keys past N are zeros. Each
  /// thread decodes 16-key blocks of one column.
  void decodeKeyBlockedT64(Value tid, const Packed &p, Value kvHead, Value j0, Value N,
                           Tile dst) {
    Value tiles = b.createOrFold<arith::CeilDivUIOp>(loc, N, idx(tc::kKeyTile));
    for (int64_t i = 0; i < D * 4 / tc::kThreads; ++i) {
      Value u = addi(tid, idx(i * tc::kThreads));
      Value d = divu(u, idx(4)), blk = remu(u, idx(4));
      Value row = addi(muli(kvHead, idx(D)), d);
      Value bytes = vector::LoadOp::create(
          b, loc, VectorType::get({8}, b.getI8Type()), p.codes,
          ValueRange{addi(addi(muli(row, muli(tiles, idx(32))), divu(j0, idx(2))),
                          muli(blk, idx(8)))},
          /*nontemporal=*/false, llvm::Align(8));
      Value sc = fp.decodeScale(
          p.format, loadByte(p.scales, addi(addi(muli(row, muli(tiles, idx(4))),
                                                 divu(j0, idx(16))),
                                            blk)));
      for (int64_t j = 0; j < 8; ++j) {
        Value byte = vector::ExtractOp::create(b, loc, bytes, ArrayRef<int64_t>{j});
        for (bool hi : {false, true}) {
          Value key = addi(muli(blk, idx(16)), idx(2 * j + (hi ? 1 : 0)));
          Value x = sel(ult(addi(j0, key), N), decodeNibble(p, byte, hi, sc), cf(0));
          memref::StoreOp::create(b, loc, arith::TruncFOp::create(b, loc, bf16(), x),
                                  dst.buffer, dst.at(key, d));
        }
      }
    }
  }

  /// Stores row half r (accumulator elements 2r, 2r+1) of the accumulator
  /// tiles acc[base + 4 dt + e], times `factor`, into row `rowAt` of a
  /// [rows][D] buffer (column pairs colOffset + 8 dt + 2t, converted to its
  /// type).
  void storeRowPairs(Value dst, Value rowAt, ValueRange acc, int64_t base,
                     int64_t tiles, int64_t r, Value factor, Value colOffset = nullptr) {
    Type elt = cast<MemRefType>(dst.getType()).getElementType();
    for (int64_t dt = 0; dt < tiles; ++dt) {
      Value x0 = mulf(acc[base + dt * 4 + 2 * r], factor);
      Value x1 = mulf(acc[base + dt * 4 + 2 * r + 1], factor);
      if (elt != f32()) {
        x0 = arith::TruncFOp::create(b, loc, elt, x0);
        x1 = arith::TruncFOp::create(b, loc, elt, x1);
      }
      Value pair = vector::FromElementsOp::create(b, loc, VectorType::get({2}, elt),
                                                  ValueRange{x0, x1});
      Value col = addi(idx(dt * 8), muli(t, idx(2)));
      if (colOffset)
        col = addi(colOffset, col);
      Value at = addi(muli(rowAt, idx(D)), col);
      vector::StoreOp::create(b, loc, pair, dst, ValueRange{at},
                              /*nontemporal=*/false,
                              llvm::Align(2 * elt.getIntOrFloatBitWidth() / 8));
    }
  }
};

} // namespace mlir::attnqat::tc::detail

#endif // ATTNQAT_LIB_CONVERSION_ATTNQATTOGPU_TILEBUILDER_H
