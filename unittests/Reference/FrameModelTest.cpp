//===- FrameModelTest.cpp - the P-frame model and DESIGN's mismatch table -===//
//
// Reproduces the table of DESIGN.md "The P frame". One trial is 4,096 P
// blocks of 16 keys (16 rows x 4,096 keys; MXFP4: the same rows, 2,048
// blocks of 32), tiles of 128 keys. Score distributions, in natural-log units
// (as softmax(QK^T * scale) sees them), converted to the log2 domain of the
// kernels by multiplying by log2(e):
//   diffuse: s ~ N(0, 1);  peaked: s ~ N(0, sigma = 3);
//   rising:  s ~ N(0, 1) + 8 * j / n (the row max keeps rising along keys).
// The peaked case is heavy-tailed (a row whose max is an outlier contributes
// most mismatches), so each fraction pools 16 trials for the good designs
// (65,536 blocks) and 4 trials for the bad ones (their fractions are large
// and stable).
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "attnqat/Numerics/FP4.h"
#include "attnqat/Reference/Attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

using namespace attnqat;
using namespace attnqat::reference;
using namespace attnqat::reference::testing;

namespace {

constexpr int64_t kRows = 16, kKeys = 4096, kTile = 128;
constexpr double kRise = 8.0;
constexpr int kTrialsGood = 16, kTrialsBad = 4;

enum class Dist { Diffuse, Peaked, Rising };
const char *distName(Dist d) {
  switch (d) {
  case Dist::Diffuse:
    return "diffuse N(0,1)";
  case Dist::Peaked:
    return "peaked N(0,3)";
  case Dist::Rising:
    return "rising max";
  }
  return "?";
}

std::vector<double> makeScores(Dist dist, uint64_t seed) {
  PortableNormal nd(seed, dist == Dist::Peaked ? 3.0 : 1.0);
  std::vector<double> s(kRows * kKeys);
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t j = 0; j < kKeys; ++j) {
      double x = nd();
      if (dist == Dist::Rising)
        x += kRise * double(j) / double(kKeys);
      s[r * kKeys + j] = x * M_LOG2E;
    }
  return s;
}

struct Design {
  const char *name;
  Format format;
  bool twoLevel, integerMax, backwardNormalized;
};

const Design kDesigns[] = {
    {"(a) bwd quantizes normalized P, float max", Format::NVFP4, true, false,
     true},
    {"(a') bwd quantizes normalized P, int max", Format::NVFP4, true, true,
     true},
    {"(b) float running max, same quantizer", Format::NVFP4, true, false,
     false},
    {"(b') float running max, single-level", Format::NVFP4, false, false,
     false},
    {"integer max, single-level P", Format::NVFP4, false, true, false},
    {"integer max, two-level P (default)", Format::NVFP4, true, true, false},
    {"integer max, MXFP4 P", Format::MXFP4, true, true, false},
};
constexpr size_t kFirstGoodDesign = 4;

FrameMismatch measure(const std::vector<double> &s, const Design &d,
                      int64_t tile = kTile) {
  FrameModelOptions opt;
  opt.tileSize = tile;
  opt.pFormat = d.format;
  opt.twoLevel = d.twoLevel;
  opt.integerMax = d.integerMax;
  opt.backwardNormalized = d.backwardNormalized;
  Status st;
  FrameMismatch m = pFrameMismatch(s.data(), kRows, kKeys, opt, &st);
  EXPECT_TRUE(st.ok) << st.message;
  return m;
}

} // namespace

TEST(ReferenceFrameModel, DesignTable) {
  const Dist dists[] = {Dist::Diffuse, Dist::Peaked, Dist::Rising};
  constexpr size_t nD = std::size(kDesigns);
  FrameMismatch res[nD][3];
  double worstTrial[nD][3] = {};
  for (int k = 0; k < 3; ++k)
    for (int trial = 0; trial < kTrialsGood; ++trial) {
      std::vector<double> s = makeScores(dists[k], 1000 * (k + 1) + trial);
      for (size_t di = 0; di < nD; ++di) {
        if (di < kFirstGoodDesign && trial >= kTrialsBad)
          continue;
        FrameMismatch m = measure(s, kDesigns[di]);
        res[di][k] += m;
        worstTrial[di][k] = std::max(worstTrial[di][k], m.fraction());
      }
    }
  std::printf("\nP blocks whose backward values differ from the forward's "
              "(trials of %lld rows x %lld keys = 4096 NVFP4 blocks, "
              "%lld-key tiles; %d trials pooled, %d for (a)/(b)):\n",
              (long long)kRows, (long long)kKeys, (long long)kTile,
              kTrialsGood, kTrialsBad);
  std::printf("%-42s", "design");
  for (Dist d : dists)
    std::printf(" | %-36s", distName(d));
  std::printf("\n");
  for (size_t di = 0; di < nD; ++di) {
    std::printf("%-42s", kDesigns[di].name);
    for (int k = 0; k < 3; ++k) {
      const FrameMismatch &m = res[di][k];
      char cell[96];
      std::snprintf(cell, sizeof cell, "%6.2f%% (%lld/%lld, sub %lld, max %.2f%%)",
                    100.0 * m.fraction(), (long long)m.mismatching,
                    (long long)m.total, (long long)m.subnormalScale,
                    100.0 * worstTrial[di][k]);
      std::printf(" | %-36s", cell);
    }
    std::printf("\n");
  }
  std::printf("(sub: mismatching blocks whose final-frame E4M3 scale is in the "
              "subnormal range; max: the worst single trial)\n");
  for (int k = 0; k < 3; ++k) {
    SCOPED_TRACE(distName(dists[k]));
    const FrameMismatch &normF = res[0][k], &normI = res[1][k],
                        &floatMax = res[2][k], &single = res[4][k],
                        &twoLevel = res[5][k], &mx = res[6][k];
    EXPECT_EQ(twoLevel.total, 4096 * kTrialsGood);
    EXPECT_EQ(mx.total, 2048 * kTrialsGood);
    // The default design: at most 0.5% of the blocks, all of them with a
    // subnormal final-frame scale.
    EXPECT_LE(twoLevel.fraction(), 0.005);
    EXPECT_EQ(twoLevel.subnormalScale, twoLevel.mismatching);
    // MXFP4 P (power-of-two scales) is exact.
    EXPECT_EQ(mx.mismatching, 0);
    // Single-level P: visibly worse; every mismatch has a subnormal scale.
    EXPECT_GT(single.fraction(), 0.05);
    EXPECT_GT(single.fraction(), 10 * twoLevel.fraction());
    EXPECT_EQ(single.subnormalScale, single.mismatching);
    // The bad designs.
    EXPECT_GT(normF.fraction(), 0.9);
    EXPECT_GT(normI.fraction(), 0.9);
    EXPECT_GT(floatMax.fraction(), 0.3);
  }
}

// With integer frames the tiled forward's P no longer depends on the tile
// size (up to the same rare subnormal-scale blocks).
TEST(ReferenceFrameModel, TileSizeIndependence) {
  std::vector<double> s = makeScores(Dist::Rising, 1002);
  Design mx = kDesigns[6], two = kDesigns[5];
  for (int64_t tile : {32, 64, 128, 256, 1024}) {
    EXPECT_EQ(measure(s, mx, tile).mismatching, 0) << tile;
    EXPECT_LE(measure(s, two, tile).fraction(), 0.005) << tile;
  }
  // One tile covering the row: the forward's frame is the final frame.
  EXPECT_EQ(measure(s, kDesigns[4], kKeys).mismatching, 0);
  EXPECT_EQ(measure(s, kDesigns[2], kKeys).mismatching, 0);
}

// A hand-made row: block 0 at s = 0 in tile 0, then a key at s = 10 in tile 1
// raises the frame by 10. Single-level: block 0's final-frame scale
// E4M3(2^-10 / 6) rounds to 0, the forward's (frame 0) does not.
TEST(ReferenceFrameModel, HandMadeMismatch) {
  std::vector<double> s(256, -std::numeric_limits<double>::infinity());
  for (int j = 0; j < 16; ++j)
    s[j] = 0.0;
  s[130] = 10.0;
  FrameModelOptions opt;
  opt.tileSize = 128;
  opt.twoLevel = false;
  FrameMismatch m = pFrameMismatch(s.data(), 1, 256, opt);
  EXPECT_EQ(m.total, 2); // fully masked blocks are excluded
  EXPECT_EQ(m.mismatching, 1);
  EXPECT_EQ(m.subnormalScale, 1);
  // Two-level: 2^-10 * 448 is a normal E4M3 scale: no mismatch.
  opt.twoLevel = true;
  m = pFrameMismatch(s.data(), 1, 256, opt);
  EXPECT_EQ(m.mismatching, 0);
  // ... until the drop passes the two-level subnormal range (2^-20 * 448).
  s[130] = 20.0;
  m = pFrameMismatch(s.data(), 1, 256, opt);
  EXPECT_EQ(m.mismatching, 1);
  EXPECT_EQ(m.subnormalScale, 1);
  // Without a frame change nothing can differ.
  s[130] = -1.0;
  opt.twoLevel = false;
  EXPECT_EQ(pFrameMismatch(s.data(), 1, 256, opt).mismatching, 0);
}

TEST(ReferenceFrameModel, BadTileSize) {
  std::vector<double> s(64, 0.0);
  FrameModelOptions opt;
  opt.tileSize = 24;
  Status st;
  FrameMismatch m = pFrameMismatch(s.data(), 1, 64, opt, &st);
  EXPECT_FALSE(st.ok);
  EXPECT_EQ(m.total, 0);
  opt.pFormat = Format::MXFP4;
  opt.tileSize = 48;
  pFrameMismatch(s.data(), 1, 64, opt, &st);
  EXPECT_FALSE(st.ok);
}

// The overload from a full problem, with a causal mask: fully masked blocks
// are not counted.
TEST(ReferenceFrameModel, FromProblem) {
  TestProblem tp(1, 2, 1, 64, 64, 32, /*seed=*/60, /*sigma=*/1.5);
  tp.causal = true;
  Config c = Config::qat(Format::NVFP4, true);
  Status st;
  FrameMismatch m = pFrameMismatch(tp.get(), c, 32, true, false, &st);
  ASSERT_TRUE(st.ok) << st.message;
  int64_t expected = 0;
  for (int64_t i = 0; i < 64; ++i)
    expected += (i + 16) / 16; // ceil((i + 1) / 16)
  EXPECT_EQ(m.total, 2 * expected);
  EXPECT_LE(m.fraction(), 0.005);
  c.pFormat = Format::MXFP4;
  m = pFrameMismatch(tp.get(), c, 32, true, false, &st);
  ASSERT_TRUE(st.ok);
  EXPECT_EQ(m.mismatching, 0);
  m = pFrameMismatch(tp.get(), c, 32, true, /*backwardNormalized=*/true, &st);
  EXPECT_GT(m.fraction(), 0.5);
}
