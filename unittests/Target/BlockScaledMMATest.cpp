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

using namespace attnqat::target::sm120;

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
/// element found through the fragment formulas.
std::array<std::array<double, kN>, kM>
emulateMma(const uint32_t a[32][4], const uint32_t bReg[32][2], const uint32_t sfa[32],
           const uint32_t sfb[32]) {
  double A[kM][kK] = {}, B[kK][kN] = {}, SA[kM][4] = {}, SB[4][kN] = {};
  for (int lane = 0; lane < 32; ++lane) {
    for (int reg = 0; reg < 4; ++reg)
      for (int nib = 0; nib < 8; ++nib) {
        RowCol e = aElement(lane, reg, nib);
        A[e.row][e.col] = attnqat::numerics::decodeE2M1((a[lane][reg] >> (4 * nib)) & 15);
      }
    for (int reg = 0; reg < 2; ++reg)
      for (int nib = 0; nib < 8; ++nib) {
        RowCol e = bElement(lane, reg, nib);
        B[e.row][e.col] = attnqat::numerics::decodeE2M1((bReg[lane][reg] >> (4 * nib)) & 15);
      }
    if (int row = sfaRow(lane, 0); row >= 0)
      for (int byte = 0; byte < 4; ++byte)
        SA[row][byte] = attnqat::numerics::decodeE4M3((sfa[lane] >> (8 * byte)) & 255);
    if (int col = sfbCol(lane, 0); col >= 0)
      for (int byte = 0; byte < 4; ++byte)
        SB[byte][col] = attnqat::numerics::decodeE4M3((sfb[lane] >> (8 * byte)) & 255);
  }
  std::array<std::array<double, kN>, kM> d{};
  for (int m = 0; m < kM; ++m)
    for (int n = 0; n < kN; ++n)
      for (int k = 0; k < kK; ++k)
        d[m][n] += A[m][k] * SA[m][k / 16] * B[k][n] * SB[k / 16][n];
  return d;
}

TEST(BlockScaledMMA, ForwardPVDataFlow) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  std::normal_distribution<float> normal(0.f, 1.f);
  // P~ in (0, 1] for 16 rows x 64 keys (logical order), V for 64 keys x 8 d.
  float P[kM][kK], V[kK][kN];
  for (auto &r : P)
    for (float &x : r)
      x = unit(rng) < 0.2f ? 0.f : unit(rng);
  for (auto &r : V)
    for (float &x : r)
      x = normal(rng);
  // What the S accumulators of each lane hold: P~ at (row, scoreKey).
  float acc[32][8][4];
  for (int lane = 0; lane < 32; ++lane)
    for (int j = 0; j < 8; ++j)
      for (int i = 0; i < 4; ++i) {
        RowCol c = cElement(lane, i);
        acc[lane][j][i] = P[c.row][scoreKey(j, c.col)];
      }
  // Per lane: each of its blocks quantized over lanes (t, t xor 1) with
  // NVFP4 (g = 1 here); codes packed two per byte, the first element low
  // (what cvt.rn.satfinite.e2m1x2.f32 with (hi, lo) operands gives).
  uint32_t aReg[32][4] = {}, scaleOf[32][2][2] = {}; // [lane][which][half]
  for (int lane = 0; lane < 32; ++lane)
    for (int which = 0; which < 2; ++which)
      for (int half = 0; half < 2; ++half) {
        int reg = pRegOfBlock(which, half);
        float amax = 0;
        for (int l : {lane, lane ^ 1})
          for (int nib = 0; nib < 8; ++nib) {
            AccSlot s = pSource(reg, nib);
            amax = std::max(amax, std::fabs(acc[l][s.nTile][s.index]));
          }
        uint8_t sBits = attnqat::numerics::encodeE4M3(amax / 6.f);
        float sc = attnqat::numerics::decodeE4M3(sBits);
        scaleOf[lane][which][half] = sBits;
        for (int nib = 0; nib < 8; ++nib) {
          AccSlot s = pSource(reg, nib);
          float x = acc[lane][s.nTile][s.index];
          uint32_t code = sc == 0 ? 0 : attnqat::numerics::encodeE2M1(x / sc);
          aReg[lane][reg] |= code << (4 * nib);
        }
      }
  // The scale-a word: each lane offers its two blocks of row half t % 2;
  // the carriers (t < 2) take their partner's (lane xor 2) through a shuffle.
  uint32_t sfa[32] = {};
  for (int lane = 0; lane < 32; ++lane) {
    int half = threadInGroup(lane) % 2;
    auto offer = [&](int l) {
      return scaleOf[l][0][half] | (scaleOf[l][1][half] << 8);
    };
    uint32_t own = offer(lane), partner = offer(lane ^ 2);
    uint32_t word = 0;
    for (int which = 0; which < 2; ++which) {
      word |= ((own >> (8 * which)) & 255) << (8 * pScaleByte(which, false));
      word |= ((partner >> (8 * which)) & 255) << (8 * pScaleByte(which, true));
    }
    sfa[lane] = word;
  }
  // V blocked along keys, stored V^T (per d: the tile's 64 key codes in 32
  // bytes, key 2i in the low nibble of byte i; its 4 block scales in a word).
  uint8_t vtCodes[kN][32] = {}, vtScales[kN][4] = {};
  double VF[kK][kN];
  for (int d = 0; d < kN; ++d)
    for (int blk = 0; blk < 4; ++blk) {
      float amax = 0;
      for (int k = 16 * blk; k < 16 * blk + 16; ++k)
        amax = std::max(amax, std::fabs(V[k][d]));
      uint8_t sBits = attnqat::numerics::encodeE4M3(amax / 6.f);
      float sc = attnqat::numerics::decodeE4M3(sBits);
      vtScales[d][blk] = sBits;
      for (int k = 16 * blk; k < 16 * blk + 16; ++k) {
        uint8_t code = sc == 0 ? 0 : attnqat::numerics::encodeE2M1(V[k][d] / sc);
        vtCodes[d][k / 2] |= code << (4 * (k % 2));
        VF[k][d] = attnqat::numerics::decodeE2M1(code) * sc;
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
    sfb[lane] = vtScales[d][0] | vtScales[d][1] << 8 | vtScales[d][2] << 16 |
                uint32_t(vtScales[d][3]) << 24;
  }
  auto D = emulateMma(aReg, bReg, sfa, sfb);

  // Plain arithmetic: phi_P(P~) (16-key blocks of a row, logical key order)
  // times V^F.
  double maxErr = 0;
  for (int m = 0; m < kM; ++m) {
    double PF[kK];
    for (int blk = 0; blk < 4; ++blk) {
      float amax = 0;
      for (int k = 16 * blk; k < 16 * blk + 16; ++k)
        amax = std::max(amax, P[m][k]);
      float sc = attnqat::numerics::decodeE4M3(attnqat::numerics::encodeE4M3(amax / 6.f));
      for (int k = 16 * blk; k < 16 * blk + 16; ++k)
        PF[k] = sc == 0 ? 0 : attnqat::numerics::decodeE2M1(attnqat::numerics::encodeE2M1(P[m][k] / sc)) * sc;
    }
    for (int n = 0; n < kN; ++n) {
      double want = 0;
      for (int k = 0; k < kK; ++k)
        want += PF[k] * VF[k][n];
      maxErr = std::max(maxErr, std::fabs(D[m][n] - want));
    }
  }
  EXPECT_LT(maxErr, 1e-9);
}

} // namespace
