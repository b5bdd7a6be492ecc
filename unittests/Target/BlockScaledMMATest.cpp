//===- BlockScaledMMATest.cpp - the sm_120a layout model ------------------===//
//
// The fragment and scale-factor layouts of mma.m16n8k64 kind::mxf4nvf4
// block_scale (attnqat/Target/BlockScaledMMA.h) against the PTX ISA's
// formulas, and the sm_120a forward's data flow (S accumulators -> P codes
// and scales -> P . V with V^T words) emulated lane by lane against plain
// matrix arithmetic.
//
//===----------------------------------------------------------------------===//

#include "attnqat/Numerics/FP4.h"
#include "attnqat/Target/BlockScaledMMA.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

using namespace attnqat::target::sm120;
namespace num = attnqat::numerics;

namespace {

TEST(BlockScaledMMA, FragmentsCoverTheirMatrices) {
  std::set<std::pair<int, int>> a, b, c;
  for (int lane = 0; lane < 32; ++lane) {
    for (int reg = 0; reg < 4; ++reg)
      for (int nib = 0; nib < 8; ++nib) {
        RowCol e = aElement(lane, reg, nib);
        ASSERT_TRUE(e.row >= 0 && e.row < kM && e.col >= 0 && e.col < kK);
        a.insert({e.row, e.col});
      }
    for (int reg = 0; reg < 2; ++reg)
      for (int nib = 0; nib < 8; ++nib) {
        RowCol e = bElement(lane, reg, nib);
        ASSERT_TRUE(e.row >= 0 && e.row < kK && e.col >= 0 && e.col < kN);
        b.insert({e.row, e.col});
      }
    for (int i = 0; i < 4; ++i)
      c.insert({cElement(lane, i).row, cElement(lane, i).col});
  }
  EXPECT_EQ(a.size(), size_t(kM * kK)); // every element exactly once
  EXPECT_EQ(b.size(), size_t(kK * kN));
  EXPECT_EQ(c.size(), size_t(kM * kN));
}

// The PTX ISA's formulas, written with its element index i = 8 reg + nibble.
TEST(BlockScaledMMA, FragmentsFollowThePtxIsa) {
  for (int lane = 0; lane < 32; ++lane) {
    int groupID = lane >> 2, tig = lane % 4;
    for (int i = 0; i < 32; ++i) {
      int row = (i < 8 || (i >= 16 && i < 24)) ? groupID : groupID + 8;
      int col = i < 16 ? tig * 8 + (i & 7) : tig * 8 + (i & 7) + 32;
      EXPECT_EQ(aElement(lane, i / 8, i % 8), (RowCol{row, col})) << lane << " a" << i;
    }
    for (int i = 0; i < 16; ++i) {
      int row = i < 8 ? tig * 8 + (i & 7) : tig * 8 + (i & 7) + 32;
      EXPECT_EQ(bElement(lane, i / 8, i % 8), (RowCol{row, groupID})) << lane << " b" << i;
    }
    for (int i = 0; i < 4; ++i)
      EXPECT_EQ(cElement(lane, i), (RowCol{i < 2 ? groupID : groupID + 8, tig * 2 + (i & 1)}));
  }
  // Spot values read off the ISA's figures.
  EXPECT_EQ(aElement(5, 2, 3), (RowCol{1, 43}));
  EXPECT_EQ(aElement(31, 3, 7), (RowCol{15, 63}));
  EXPECT_EQ(bElement(6, 1, 0), (RowCol{48, 1}));
}

TEST(BlockScaledMMA, ScaleFactorLanes) {
  for (int threadId = 0; threadId < 2; ++threadId) {
    std::set<int> rows;
    for (int lane = 0; lane < 32; ++lane) {
      int row = sfaRow(lane, threadId);
      if (row < 0)
        continue;
      // CUTLASS SM120 SFALayout: (2,2,8):(8,0,1) over lanes, the 2:0 mode
      // being the selector.
      EXPECT_EQ(row, 8 * (lane % 2) + lane / 4);
      EXPECT_EQ(sfaLane(row, threadId), lane);
      rows.insert(row);
    }
    EXPECT_EQ(rows.size(), size_t(kM));
  }
  for (int threadId = 0; threadId < 4; ++threadId) {
    std::set<int> cols;
    for (int lane = 0; lane < 32; ++lane)
      if (int col = sfbCol(lane, threadId); col >= 0) {
        EXPECT_EQ(sfbLane(col, threadId), lane);
        cols.insert(col);
      }
    EXPECT_EQ(cols.size(), size_t(kN));
  }
}

// The key order of S makes a lane's P~ values its own A fragment of P . V.
TEST(BlockScaledMMA, ScoresLandInThePVFragment) {
  std::set<int> keys;
  for (int j = 0; j < 8; ++j)
    for (int n = 0; n < 8; ++n)
      keys.insert(scoreKey(j, n));
  EXPECT_EQ(keys.size(), 64u);
  for (int lane = 0; lane < 32; ++lane)
    for (int reg = 0; reg < 4; ++reg)
      for (int nib = 0; nib < 8; ++nib) {
        RowCol want = aElement(lane, reg, nib);
        AccSlot s = pSource(reg, nib);
        RowCol have = cElement(lane, s.index);
        EXPECT_EQ(have.row, want.row);
        EXPECT_EQ(scoreKey(s.nTile, have.col), want.col);
      }
  // Linear in t: the generator adds 8 t to the lane-0 key.
  for (int j = 0; j < 8; ++j)
    for (int t = 0; t < 4; ++t)
      EXPECT_EQ(scoreKey(j, 2 * t + 1), scoreKey(j, 1) + 8 * t);
}

// Each 16-key block of a row is held by two lanes (t, t xor 1), one A
// register each; the scale word's bytes come from the carrier and t xor 2.
TEST(BlockScaledMMA, PBlocksAndScaleBytes) {
  for (int lane = 0; lane < 32; ++lane)
    for (int which = 0; which < 2; ++which)
      for (int half = 0; half < 2; ++half) {
        int blk = pBlockOfLane(lane, which);
        EXPECT_EQ(pBlockOfLane(lane ^ 1, which), blk);
        std::set<int> cols;
        for (int l : {lane, lane ^ 1})
          for (int nib = 0; nib < 8; ++nib) {
            RowCol e = aElement(l, pRegOfBlock(which, half), nib);
            EXPECT_EQ(e.row, lane / 4 + 8 * half);
            EXPECT_EQ(e.col / kScaleBlock, blk);
            cols.insert(e.col);
          }
        EXPECT_EQ(cols.size(), size_t(kScaleBlock));
      }
  for (int lane = 0; lane < 32; ++lane) {
    int row = sfaRow(lane, 0);
    if (row < 0)
      continue;
    int half = row / 8;
    for (int which = 0; which < 2; ++which) {
      EXPECT_EQ(pScaleByte(which, false), pBlockOfLane(lane, which));
      EXPECT_EQ(pScaleByte(which, true), pBlockOfLane(lane ^ 2, which));
      EXPECT_EQ(threadInGroup(lane ^ 2) % 2, half); // the partner's half
    }
  }
}

//===----------------------------------------------------------------------===//
// The forward's P . V step, emulated lane by lane
//===----------------------------------------------------------------------===//

/// The instruction, from registers: D = sum_k A*SF_A * B*SF_B, each operand
/// element found through the fragment formulas; `bs` 16 (4X, ue4m3) or 32
/// (2X, ue8m0).
std::array<std::array<double, kN>, kM>
emulateMma(const uint32_t a[32][4], const uint32_t bReg[32][2], const uint32_t sfa[32],
           const uint32_t sfb[32], num::Format f) {
  const int bs = num::blockSize(f);
  double A[kM][kK] = {}, B[kK][kN] = {}, SA[kM][4] = {}, SB[4][kN] = {};
  for (int lane = 0; lane < 32; ++lane) {
    for (int reg = 0; reg < 4; ++reg)
      for (int nib = 0; nib < 8; ++nib) {
        RowCol e = aElement(lane, reg, nib);
        A[e.row][e.col] = num::decodeE2M1((a[lane][reg] >> (4 * nib)) & 15);
      }
    for (int reg = 0; reg < 2; ++reg)
      for (int nib = 0; nib < 8; ++nib) {
        RowCol e = bElement(lane, reg, nib);
        B[e.row][e.col] = num::decodeE2M1((bReg[lane][reg] >> (4 * nib)) & 15);
      }
    if (int row = sfaRow(lane, 0); row >= 0)
      for (int byte = 0; byte < kK / bs; ++byte)
        SA[row][byte] = num::decodeScale(f, (sfa[lane] >> (8 * byte)) & 255);
    if (int col = sfbCol(lane, 0); col >= 0)
      for (int byte = 0; byte < kK / bs; ++byte)
        SB[byte][col] = num::decodeScale(f, (sfb[lane] >> (8 * byte)) & 255);
  }
  std::array<std::array<double, kN>, kM> d{};
  for (int m = 0; m < kM; ++m)
    for (int n = 0; n < kN; ++n)
      for (int k = 0; k < kK; ++k)
        d[m][n] += A[m][k] * SA[m][k / bs] * B[k][n] * SB[k / bs][n];
  return d;
}

/// One block's scale bits and codes (the codec of DESIGN.md, g = 1).
uint8_t quantizeValues(num::Format f, const float *x, int n, uint8_t *codes) {
  float amax = 0;
  for (int i = 0; i < n; ++i)
    amax = std::max(amax, std::fabs(x[i]));
  uint8_t bits = num::blockScale(f, amax, 1.0f);
  float sc = num::decodeScale(f, bits);
  for (int i = 0; i < n; ++i)
    codes[i] = sc == 0 ? 0 : num::encodeE2M1(x[i] / sc);
  return bits;
}

/// The forward's P . V step for one 64-key tile, lane by lane, against
/// phi_P(P~) V^F in plain arithmetic.
double pvDataFlowError(num::Format f) {
  const bool mx = f == num::Format::MXFP4;
  const int bs = num::blockSize(f), perTile = kK / bs;
  std::mt19937 rng(mx ? 11 : 7);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  std::normal_distribution<float> normal(0.f, 1.f);
  // P~ in (0, 1] for 16 rows x 64 keys (logical order), V for 64 keys x 8 d.
  // Blocks of different magnitude, so that every block has its own scale
  // (a scale landing in the wrong byte then changes the result).
  auto blockFactor = [](int k) {
    return (k < 32 ? 1.0f : 0.03f) * ((k / 16) % 2 ? 0.2f : 1.0f);
  };
  float P[kM][kK], V[kK][kN];
  for (auto &r : P)
    for (int k = 0; k < kK; ++k)
      r[k] = (unit(rng) < 0.2f ? 0.f : unit(rng)) * blockFactor(k);
  for (int k = 0; k < kK; ++k)
    for (float &x : V[k])
      x = normal(rng) * blockFactor(63 - k);
  // What the S accumulators of each lane hold: P~ at (row, scoreKey).
  float acc[32][8][4];
  for (int lane = 0; lane < 32; ++lane)
    for (int j = 0; j < 8; ++j)
      for (int i = 0; i < 4; ++i) {
        RowCol c = cElement(lane, i);
        acc[lane][j][i] = P[c.row][scoreKey(j, c.col)];
      }
  // Per lane: each of its blocks quantized over the lanes sharing it (NVFP4:
  // t, t^1; MXFP4: the quad); codes packed two per byte, the first element
  // low (what cvt.rn.satfinite.e2m1x2.f32 with (hi, lo) operands gives).
  uint32_t aReg[32][4] = {}, scaleOf[32][2][2] = {}; // [lane][which][half]
  for (int lane = 0; lane < 32; ++lane)
    for (int which = 0; which < 2; ++which)
      for (int half = 0; half < 2; ++half) {
        int reg = pRegOfBlock(which, half);
        std::vector<int> sharers = {lane, lane ^ 1};
        if (mx)
          sharers = {lane & ~3, (lane & ~3) + 1, (lane & ~3) + 2, (lane & ~3) + 3};
        float block[32];
        int n = 0, self = 0;
        for (int l : sharers)
          for (int nib = 0; nib < 8; ++nib) {
            AccSlot s = pSource(reg, nib);
            if (l == lane && nib == 0)
              self = n;
            block[n++] = acc[l][s.nTile][s.index];
          }
        EXPECT_EQ(n, bs);
        uint8_t codes[32];
        scaleOf[lane][which][half] = quantizeValues(f, block, n, codes);
        for (int nib = 0; nib < 8; ++nib)
          aReg[lane][reg] |= uint32_t(codes[self + nib]) << (4 * nib);
      }
  // The scale-a word. NVFP4: each lane offers its two blocks of row half
  // t % 2; carriers (t < 2) take their partner's (lane xor 2) through a
  // shuffle. MXFP4: the carrier's own blocks 0, 1.
  uint32_t sfa[32] = {};
  for (int lane = 0; lane < 32; ++lane) {
    int half = threadInGroup(lane) % 2;
    auto offer = [&](int l) {
      return scaleOf[l][0][half] | (scaleOf[l][1][half] << 8);
    };
    if (mx) {
      sfa[lane] = offer(lane);
      for (int which = 0; which < 2; ++which)
        EXPECT_EQ(pBlockOfLaneMX(lane, which), which);
      continue;
    }
    uint32_t own = offer(lane), partner = offer(lane ^ 2);
    uint32_t word = 0;
    for (int which = 0; which < 2; ++which) {
      word |= ((own >> (8 * which)) & 255) << (8 * pScaleByte(which, false));
      word |= ((partner >> (8 * which)) & 255) << (8 * pScaleByte(which, true));
    }
    sfa[lane] = word;
  }
  // V blocked along keys, stored V^T (the t64 layout: per d the tile's 64
  // key codes in 32 bytes, key 2i in the low nibble of byte i; its block
  // scales in consecutive bytes).
  uint8_t vtCodes[kN][32] = {}, vtScales[kN][4] = {};
  double VF[kK][kN];
  for (int d = 0; d < kN; ++d)
    for (int blk = 0; blk < perTile; ++blk) {
      float col[32];
      for (int k = 0; k < bs; ++k)
        col[k] = V[blk * bs + k][d];
      uint8_t codes[32];
      vtScales[d][blk] = quantizeValues(f, col, bs, codes);
      float sc = num::decodeScale(f, vtScales[d][blk]);
      for (int k = 0; k < bs; ++k) {
        int key = blk * bs + k;
        vtCodes[d][key / 2] |= codes[k] << (4 * (key % 2));
        VF[key][d] = num::decodeE2M1(codes[k]) * sc;
      }
    }
  // B registers: the word at byte 4t + 16 reg of row d = g (bElement's first
  // row / 2); the scale-b word of column g on every lane.
  uint32_t bReg[32][2], sfb[32];
  for (int lane = 0; lane < 32; ++lane) {
    int d = groupOf(lane);
    for (int reg = 0; reg < 2; ++reg) {
      int byte = bElement(lane, reg, 0).row / 2;
      EXPECT_EQ(byte, 4 * threadInGroup(lane) + 16 * reg);
      bReg[lane][reg] = vtCodes[d][byte] | vtCodes[d][byte + 1] << 8 |
                        vtCodes[d][byte + 2] << 16 | uint32_t(vtCodes[d][byte + 3]) << 24;
    }
    sfb[lane] = 0;
    for (int blk = 0; blk < perTile; ++blk)
      sfb[lane] |= uint32_t(vtScales[d][blk]) << (8 * blk);
  }
  auto D = emulateMma(aReg, bReg, sfa, sfb, f);

  // Plain arithmetic: phi_P(P~) (blocks of a row, logical key order) V^F.
  double maxErr = 0;
  for (int m = 0; m < kM; ++m) {
    double PF[kK];
    for (int blk = 0; blk < perTile; ++blk) {
      uint8_t codes[32];
      float sc = num::decodeScale(f, quantizeValues(f, &P[m][blk * bs], bs, codes));
      for (int k = 0; k < bs; ++k)
        PF[blk * bs + k] = num::decodeE2M1(codes[k]) * sc;
    }
    for (int n = 0; n < kN; ++n) {
      double want = 0;
      for (int k = 0; k < kK; ++k)
        want += PF[k] * VF[k][n];
      maxErr = std::max(maxErr, std::fabs(D[m][n] - want));
    }
  }
  return maxErr;
}

TEST(BlockScaledMMA, ForwardPVDataFlowNVFP4) {
  EXPECT_LT(pvDataFlowError(num::Format::NVFP4), 1e-9);
}

TEST(BlockScaledMMA, ForwardPVDataFlowMXFP4) {
  EXPECT_LT(pvDataFlowError(num::Format::MXFP4), 1e-9);
}

} // namespace
