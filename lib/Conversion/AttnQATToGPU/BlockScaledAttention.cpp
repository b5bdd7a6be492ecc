//===- BlockScaledAttention.cpp - the sm_120a forward on FP4 tensor cores -===//
//
// Blackwell (sm_120a) multiplies E2M1 codes with per-16 E4M3 block scales
// natively: `mma.sync.m16n8k64.kind::mxf4nvf4.block_scale.scale_vec::4X`
// (nvvm.mma.block_scale). This forward keeps the Hopper kernel's
// description (TileBuilder: 64 query rows per block of four warps, 64-key
// tiles, the integer-frame online softmax, FP4Arith's P codec, the
// epilogue) and swaps the matmuls:
//   S = Q K^T   block-scaled, straight from packed Q and K words and their
//               scale words (no decode);
//   O = P^F V   block-scaled: P~ quantized in registers (FP4Arith's scale,
//               cvt.rn.satfinite.e2m1x2.f32 for the codes), V^T words;
//   O' = P~ V   (qat) BF16 mma.sync, V decoded from the same V^T words.
// Operand layouts and lane roles are attnqat/Target/BlockScaledMMA.h's
// (checked on the CPU by unittests/Target). V is read in the `t64` layout
// the quantize kernels also write: per (batch, KV head, d) the codes of
// keys along a row padded to 64 keys (32 bytes per key tile, key 2i in the
// low nibble of byte i) and one scale byte per 16 keys (a word per tile).
// Operands come from global memory (L1/L2) per lane: no shared memory.
// In qat at D = 128 two warps share 16 query rows, each owning half of the
// columns of O and O' (they would not fit one warp's registers).
//
//===----------------------------------------------------------------------===//

#include "TensorCoreAttention.h"
#include "TileBuilder.h"

#include "attnqat/Target/BlockScaledMMA.h"

using namespace mlir;
using namespace mlir::attnqat;
using namespace mlir::attnqat::tc::detail;
namespace bsm = ::attnqat::target::sm120;

namespace {

class BlockScaledForwardBuilder : public TileBuilder {
public:
  BlockScaledForwardBuilder(gpu::GPUFuncOp func, AttentionOp op)
      : TileBuilder(func, op.getConfig(), tc::headDim(op)), op(op) {}
  void build();

private:
  AttentionOp op;

  /// Byte `byte` (a runtime i32 count of bytes) of `word`, as i8.
  Value byteOf(Value word, Value byteIndex) {
    Value s = arith::ShRUIOp::create(b, loc, word, arith::MulIOp::create(b, loc, byteIndex, i32c(8)));
    return arith::TruncIOp::create(b, loc, b.getI8Type(), s);
  }
  /// acc + (A * SF_A)(B * SF_B) with one m16n8k64 block-scaled MMA
  /// (thread-id selectors 0: BlockScaledMMA.h's carrier lanes).
  /// NVFP4 operands: scale_vec 4X, ue4m3 (a scale per 16 k); MXFP4: 2X,
  /// ue8m0 (per 32 k).
  Acc mmaBlockScaled(ArrayRef<Value> a, Value b0, Value b1, const Acc &acc, Value sfa,
                     Value sfb, bool mx) {
    Type f = f32();
    auto structType = LLVM::LLVMStructType::getLiteral(b.getContext(), {f, f, f, f});
    Value zero16 = arith::ConstantIntOp::create(b, loc, 0, 16);
    auto mmaOp = NVVM::MmaBlockScaleOp::create(
        b, loc, structType, a, ValueRange{b0, b1}, ValueRange(acc), sfa, zero16, zero16,
        sfb, zero16, zero16, ArrayRef<int64_t>{bsm::kM, bsm::kN, bsm::kK},
        std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::e2m1, NVVM::MMATypes::e2m1},
        mx ? NVVM::ScaleVecSize::X2 : NVVM::ScaleVecSize::X4,
        mx ? NVVM::BlockScaleFormat::UE8M0 : NVVM::BlockScaleFormat::UE4M3,
        NVVM::MMABlockScaleKind::MXF4NVF4);
    Acc r;
    for (int64_t e = 0; e < 4; ++e)
      r[e] = LLVM::ExtractValueOp::create(b, loc, mmaOp.getResult(), e);
    return r;
  }
};

void BlockScaledForwardBuilder::build() {
  bool qat = config.getMode() == Mode::QAT;
  auto [q, k, v, qP, kP, vP, mask, lengths, out, Hq, Hkv, M, N, scale] =
      takeForward(op, /*packed=*/true);

  const int64_t kChunks = D / bsm::kK; // k-steps of S = Q K^T
  // Warps per 16 query rows: qat at D = 128 splits O and O' (128
  // accumulators) over two warps by columns; both compute S and P.
  const int64_t split = tc::blockScaledWarpsPerRows(op);
  const int64_t dTiles = D / 8 / split; // n-tiles of O per warp
  const int64_t nTiles = tc::kKeyTile / 8;
  // Block sizes: 16 (NVFP4: scale_vec 4X, ue4m3) or 32 (MXFP4: 2X, ue8m0);
  // Q and K share one, P and V one (an MMA has one scale type).
  const int64_t qkBs = config.getQ().getBlockSize(), pvBs = config.getP().getBlockSize();
  const bool qkMx = qkBs != bsm::kScaleBlock, pvMx = pvBs != bsm::kScaleBlock;
  const int64_t scaleRow = D / qkBs; // scale bytes per Q/K row

  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  setUpLanes(tid);
  Value warp = divu(divu(tid, idx(32)), idx(split)); // its 16 rows
  Value dPart = remu(divu(tid, idx(32)), idx(split));  // its columns
  Value colOffset = split > 1 ? muli(dPart, idx(dTiles * 8)) : Value();
  ForwardRows fr = forwardRows(warp, Hq, Hkv, M, N);
  Value q0 = fr.q0, h = fr.h, bi = fr.bi, hk = fr.hk, qBase = fr.qBase,
        kvBase = fr.kvBase;
  const Value *rows = fr.rows, *rowValid = fr.rowValid;
  Value kvHead = addi(muli(bi, Hkv), hk);
  Value zeroI32 = i32c(0);
  Value tI32 = arith::IndexCastOp::create(b, loc, b.getI32Type(), t);
  Value half = remu(t, idx(2)); // the row half this lane carries scales of

  // Q's A fragments and scale words, loaded once: word `reg` of k-step kc
  // is row g (+8) at columns 64 kc + aElement(0, reg, 0).col + 8 t.
  SmallVector<std::array<Value, 4>> qFrag(kChunks);
  SmallVector<Value> qScale(kChunks);
  Value sfRow = sel(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, half, idx(1)),
                    rows[1], rows[0]);
  for (int64_t kc = 0; kc < kChunks; ++kc) {
    for (int64_t reg = 0; reg < 4; ++reg) {
      int64_t r = reg % 2;
      Value at = addi(qBase, clampTo(rows[r], M));
      int64_t col = kc * bsm::kK + bsm::aElement(0, reg, 0).col;
      Value word = loadWord(q, addi(muli(at, idx(D / 2)), addi(idx(col / 2), muli(t, idx(4)))));
      qFrag[kc][reg] = sel(rowValid[r], word, zeroI32);
    }
    qScale[kc] = loadScales(qP.scales,
                            addi(muli(addi(qBase, clampTo(sfRow, M)), idx(scaleRow)),
                                 idx(kc * (bsm::kK / qkBs))),
                            qkBs);
  }

  // Key tiles: all, or up to the block's last row when causal.
  Value keyEnd = N;
  if (op.getCausal())
    keyEnd = minu(N, addi(q0, idx(tc::kQueryTile)));
  Value numTiles = b.createOrFold<arith::CeilDivUIOp>(loc, keyEnd, idx(tc::kKeyTile));
  Masking mk = forwardMasking(op, mask, lengths, bi, h, M, N, Hq, scale);
  Value fullTiles = fullKeyTiles(op.getCausal(), q0, N, mk.keyLen, numTiles);
  // V^T rows: ceil(N/64) tiles of 32 code bytes and 64/bs scale bytes.
  const int64_t vTileScales = tc::kKeyTile / pvBs;
  Value vTiles = b.createOrFold<arith::CeilDivUIOp>(loc, N, idx(tc::kKeyTile));
  Value vBlocks = b.createOrFold<arith::CeilDivUIOp>(loc, N, idx(pvBs));
  // The lane's column part of the S key order (scoreKey(j, g) - scoreKey(j, 0)).
  Value keyOfG = addi(muli(divu(g, idx(2)), idx(8)), remu(g, idx(2)));

  SmallVector<Value> init;
  int64_t accCount = (qat ? 2 : 1) * dTiles * 4;
  for (int64_t i = 0; i < accCount; ++i)
    init.push_back(cf(0));
  init.append({cf(-kInf), cf(-kInf), cf(0), cf(0)});

  auto runTiles = [&](Value lb, Value ub, ValueRange init, bool masked) {
    auto loop = scf::ForOp::create(b, loc, lb, ub, idx(1), init);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    ValueRange st = loop.getRegionIterArgs();
    Value j0 = muli(loop.getInductionVar(), idx(tc::kKeyTile));

    // S = Q K^T: n-tile j's column g is key scoreKey(j, g); its B words
    // (k = d) and scale word come from that key's row.
    SmallVector<Acc> s(nTiles, zeroAcc(cf(0)));
    for (int64_t j = 0; j < nTiles; ++j) {
      Value key = addi(addi(j0, idx(bsm::scoreKey(j, 0))), keyOfG);
      Value at = addi(kvBase, clampTo(key, N));
      for (int64_t kc = 0; kc < kChunks; ++kc) {
        Value w[2];
        for (int64_t reg = 0; reg < 2; ++reg) {
          int64_t row = kc * bsm::kK + bsm::bElement(0, reg, 0).row;
          w[reg] = loadWord(k, addi(muli(at, idx(D / 2)), addi(idx(row / 2), muli(t, idx(4)))));
        }
        Value sfb = loadScales(kP.scales,
                               addi(muli(at, idx(scaleRow)), idx(kc * (bsm::kK / qkBs))),
                               qkBs);
        s[j] = mmaBlockScaled(qFrag[kc], w[0], w[1], s[j], qScale[kc], sfb, qkMx);
      }
    }
    // Scores (the key of accumulator e of n-tile j is scoreKey(j, 2t + e % 2)
    // = scoreKey(j, e % 2) + 8 t), the online-softmax step and P~.
    Value mNew[2], alpha[2], lNew[2];
    SmallVector<Acc> p = softmaxTile(
        s,
        [&](int64_t j, int64_t e) {
          return addi(j0, addi(idx(bsm::scoreKey(j, e % 2)), muli(t, idx(8))));
        },
        mk, rows, masked, st.slice(accCount, 4), mNew, alpha, lNew);

    // P~^F as the A operand of P . V: the lane's blocks (which, half) are
    // its registers pRegOfBlock(which, half), whose values it already holds.
    std::array<Value, 4> pWord;
    Value pScale[2][2];
    for (int64_t which = 0; which < 2; ++which)
      for (int64_t hf = 0; hf < 2; ++hf) {
        int64_t reg = bsm::pRegOfBlock(which, hf);
        SmallVector<Value> vals;
        for (int64_t nib = 0; nib < 8; ++nib) {
          bsm::AccSlot slot = bsm::pSource(reg, nib);
          vals.push_back(p[slot.nTile][slot.index]);
        }
        // NVFP4: block 2 which + t/2 (lanes t, t^1); MXFP4: block `which`
        // (the quad's four lanes).
        std::tie(pWord[reg], pScale[which][hf]) =
            quantizeToWord(vals, pvMx ? ArrayRef<int32_t>{1, 2} : ArrayRef<int32_t>{1});
      }
    // The scale-a word of P (carriers t < 2, row half t % 2). NVFP4: this
    // lane offers its two blocks of row half t % 2; carriers take bytes 1
    // and 3 from lane xor 2. MXFP4: the lane already has both blocks.
    Value isHi = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, half, idx(1));
    Value offer = i32c(0);
    for (int64_t which = 0; which < 2; ++which)
      offer = ori(offer, shl(zext32(sel(isHi, pScale[which][1], pScale[which][0])),
                             8 * which));
    Value pSfa = offer;
    if (!pvMx) {
      Value partner = gpu::ShuffleOp::create(b, loc, offer, 2, 32, gpu::ShuffleMode::XOR)
                          .getShuffleResult();
      pSfa = i32c(0);
      for (int64_t which = 0; which < 2; ++which)
        for (bool fromPartner : {false, true}) {
          Value src = fromPartner ? partner : offer;
          Value byte = arith::AndIOp::create(
              b, loc, arith::ShRUIOp::create(b, loc, src, i32c(8 * which)), i32c(255));
          pSfa = ori(pSfa, shl(byte, 8 * bsm::pScaleByte(which, fromPartner)));
        }
    }

    // O = alpha O + P^F V (block-scaled); O' = alpha O' + P~ V (qat, BF16).
    // V^T row d = g + 8 dt: B words at byte 16 reg + 4 t of the tile's 32,
    // the tile's four scale bytes as one word (blocks past N zeroed).
    Value tileWord = b.createOrFold<arith::DivUIOp>(loc, j0, idx(2));
    Value tileScales = b.createOrFold<arith::DivUIOp>(loc, j0, idx(pvBs));
    Value scaleKeep;
    if (masked) { // bytes of blocks at or past ceil(N/16)
      Value live = arith::IndexCastOp::create(
          b, loc, b.getI32Type(), minu(subi(vBlocks, tileScales), idx(vTileScales)));
      Value bits = arith::MulIOp::create(b, loc, live, i32c(8));
      Value isAll = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, live,
                                          i32c(vTileScales));
      scaleKeep = sel(isAll, i32c(-1),
                      arith::SubIOp::create(b, loc, arith::ShLIOp::create(b, loc, i32c(1), bits),
                                            i32c(1)));
    }
    // The A operands of O' (BF16 P~), packed once: fewer live registers.
    SmallVector<SmallVector<Value>> pBf16;
    for (int64_t kc = 0; qat && kc < tc::kKeyTile / 16; ++kc)
      pBf16.push_back(aFromAcc(p, kc));
    SmallVector<Value> next;
    SmallVector<Acc> oPrimeAcc;
    for (int64_t dt = 0; dt < dTiles; ++dt) {
      Value d = addi(g, idx(dt * 8));
      if (colOffset)
        d = addi(d, colOffset);
      Value vRow = addi(muli(kvHead, idx(D)), d);
      Value wordBase = addi(muli(vRow, muli(vTiles, idx(32))), tileWord);
      Value w[2];
      for (int64_t reg = 0; reg < 2; ++reg)
        w[reg] = loadWord(v, addi(wordBase, addi(idx(bsm::bElement(0, reg, 0).row / 2),
                                                 muli(t, idx(4)))));
      Value sfb = loadScales(vP.scales,
                             addi(muli(vRow, muli(vTiles, idx(vTileScales))), tileScales),
                             pvBs);
      if (masked)
        sfb = arith::AndIOp::create(b, loc, sfb, scaleKeep);
      Acc o;
      for (int64_t e = 0; e < 4; ++e)
        o[e] = mulf(alpha[e / 2], st[dt * 4 + e]);
      o = mmaBlockScaled(pWord, w[0], w[1], o, pSfa, sfb, pvMx);
      next.append(o.begin(), o.end());
      if (!qat)
        continue;
      // O': k-step kc of BF16 P~ (S tiles 2kc, 2kc+1) meets keys
      // scoreKey(j, 2t..) = byte j % 4 of word j / 4, in block 2 (j / 4) + t / 2.
      Acc op;
      for (int64_t e = 0; e < 4; ++e)
        op[e] = mulf(alpha[e / 2], st[dTiles * 4 + dt * 4 + e]);
      Value sc[2];
      for (int64_t hi = 0; hi < 2; ++hi) {
        Value blk = pvMx ? i32c(hi)
                         : arith::AddIOp::create(b, loc, i32c(2 * hi),
                                                 arith::DivUIOp::create(b, loc, tI32, i32c(2)));
        sc[hi] = fp.decodeScale(vP.format, byteOf(sfb, blk));
      }
      for (int64_t kc = 0; kc < tc::kKeyTile / 16; ++kc) {
        Value bw[2];
        for (int64_t jj = 0; jj < 2; ++jj) {
          int64_t j = 2 * kc + jj;
          Value byte = byteOf(w[j / 4], i32c(j % 4));
          bw[jj] = packBF16(decodeNibble(vP, byte, false, sc[j / 4]),
                            decodeNibble(vP, byte, true, sc[j / 4]));
        }
        op = mma(pBf16[kc], bw[0], bw[1], op);
      }
      oPrimeAcc.push_back(op);
    }
    for (const Acc &x : oPrimeAcc)
      next.append(x.begin(), x.end());
    next.append({mNew[0], mNew[1], lNew[0], lNew[1]});
    scf::YieldOp::create(b, loc, next);
    return loop;
  };
  auto full = runTiles(idx(0), fullTiles, init, /*masked=*/false);
  auto rest = runTiles(fullTiles, numTiles, full.getResults(), /*masked=*/true);
  Value statsLead;
  if (split > 1)
    statsLead = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, dPart, idx(0));
  storeForwardOutputs(out, rest.getResults(), accCount, rows, rowValid, qBase,
                      config.getPGlobalScale(), dTiles, colOffset, statsLead);
}

} // namespace

int64_t tc::blockScaledWarpsPerRows(AttentionOp op) {
  return op.getConfig().getMode() == Mode::QAT && headDim(op) == 128 ? 2 : 1;
}

bool tc::coversBlockScaledForward(AttentionOp op, std::string &why) {
  if (!coversForward(op, why))
    return false;
  ConfigAttr config = op.getConfig();
  if (config.getMode() != Mode::FP4 && config.getMode() != Mode::QAT) {
    why = "mode " + stringifyMode(config.getMode()).str();
    return false;
  }
  // One MMA has one scale type: Q and K, P and V must share a format.
  if (isa<NVFP4Attr>(config.getQ()) != isa<NVFP4Attr>(config.getK()) ||
      isa<NVFP4Attr>(config.getP()) != isa<NVFP4Attr>(config.getV())) {
    why = "Q and K (or P and V) in different formats";
    return false;
  }
  for (FP4FormatAttrInterface f : {config.getQ(), config.getK(), config.getV()})
    if (f.getGlobalScaleValue() != 1.0f) {
      why = "a Q, K or V global scale";
      return false;
    }
  return true;
}

void tc::buildBlockScaledForward(gpu::GPUFuncOp func, AttentionOp op) {
  BlockScaledForwardBuilder(func, op).build();
}
