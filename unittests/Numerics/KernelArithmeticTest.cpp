//===- KernelArithmeticTest.cpp - the GPU codec's shortcuts are exact ----===//
//
// The P codec of the GPU forwards and backwards (FP4Arith, TileBuilder.h)
// avoids the slow instructions of Hopper (division, cvt.rni, a second ex2)
// with three float identities. Each is checked here in plain C++ float
// arithmetic (the same IEEE single-precision operations the kernels emit)
// against the numerics library's definition:
//  * Markstein's division: RN(x / d) from r = RN(1/d) by q0 = RN(x r) and
//    RN(q0 + fma(-q0, d, x) r), for every positive finite E4M3 block scale,
//    both P global scales, random x in [0, 1] and every E2M1 rounding
//    midpoint's neighbourhood;
//  * the P codec's table of split reciprocals: RN(x rHi + RN(x rLo)) with
//    rHi = RN(1/d), rLo = RN(fma(-d, rHi, 1) / d) equals RN(x / d) for
//    every float x whose quotient lies in [0.2, 7], for d any E4M3 block
//    scale times either P global scale (all of them, by the 8 scale
//    significands), and gives code 0 below;
//  * E2M1 rounding by one addition of 2^22, 2^23 or 2^24 (then saturation),
//    also without |.| and clamp for 0 <= y < 2^105, with the addend from y's
//    exponent bits, over every BF16 pattern and a strided sweep of all
//    float32 patterns; left unsaturated, then packed to BF16 and saturated
//    there (the wgmma forward's P^F pairs), the same bits;
//  * E4M3 rounding (block scales) by adding 2^(e + 20), e from the exponent
//    bits, over a stride of all non-negative floats and every BF16 one
//    (below 464 also without the clamp and saturation);
//  * 2^n for an integer n from the float bits of n + 1.5 * 2^23, as the
//    exact factor of P~ = exp2(s - floor s) * 2^(floor s - m), and P~ in
//    two integer frames differing by exactly their power of two;
//  * the NVFP4 forwards' P~ by bits (TileBuilder::pTildeInRow): u = max(s -
//    pivot, lo), t = u + k rounded down, e = ex2(u - (t - k)), P~ = e's
//    bits plus t << 23, with the row's constants for frames near 0, far
//    from it (-1e9 masks, 2^40, FLT_MAX) and infinite: pTilde's bits
//    wherever floor s - m >= -125, exactly 2^-125 below;
//  * the index of a block scale's entry in the P codec's reciprocal table
//    (its float bits >> 20): distinct for every E4M3 scale, the sentinel
//    for 0 and NaN;
//  * the same correction in the NVFP4 codec kernels (global scale 1) for
//    any element a block with that scale can hold, x's sign put back: the
//    division's codes for every BF16 value, including -0 and subnormals;
//  * the wgmma backward's item index divided by its tiles per head with a
//    round-up multiplier, exact for every index below 2^31;
//  * an E8M0 (MXFP4) scale's reciprocal from its float bits,
//    0x7F000000 - (bits & 0xFF800000), exact for every scale up to 2^125
//    (the f32-subnormal 2^-127 included), so x / s = RN(x * (1 / s)) for x
//    of any size below 8 s;
//  * MXFP4's P^F rounded in x's own binade (the addend 2^(max(e_x, e) +
//    22), saturated at 6 s) equal to the quotient's rounding times the
//    scale, for every E8M0 scale of a block of P~ and x normal or 0 below
//    8 s, and 0 for every finite x under an unusable (NaN) scale;
//  * a P block's amax as P~ of its largest score: the same block scale as
//    the elementwise amax in NVFP4 (both P global scales) and MXFP4, for
//    blocks near their frame, across the clamp at 2^-125 and wholly below
//    it, with masked keys, given an exponential non-decreasing on [0, 1)
//    with values in [1, 2) (the GPU's is probed by
//    scripts/probes/ex2-monotone.cu).
//
//===----------------------------------------------------------------------===//

#include "attnqat/Numerics/FP4.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <utility>
#include <vector>

using namespace attnqat::numerics;

namespace {

float fromBits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint32_t toBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

/// arith.minimumf / arith.maximumf: NaN in, NaN out (std::fmin and
/// std::fmax drop it).
float minimumf(float x, float y) { return std::isnan(x) || std::isnan(y) ? NAN : std::fmin(x, y); }
float maximumf(float x, float y) { return std::isnan(x) || std::isnan(y) ? NAN : std::fmax(x, y); }

/// FP4Arith::divideWithReciprocal.
float divideWithReciprocal(float x, float d, float r) {
  volatile float q0 = x * r; // no contraction into the FMA below
  float rem = std::fma(-q0, d, x);
  return std::fma(rem, r, q0);
}

/// TileBuilder::setUpPCodecTable's entry: 1 / d as (rHi, rLo).
std::pair<float, float> splitReciprocal(float d) {
  volatile float rHi = 1.0f / d; // no contraction into the FMA below
  volatile float rem = std::fma(-d, rHi, 1.0f);
  return {rHi, rem / d};
}
/// FP4Arith::splitReciprocalDivide.
float splitReciprocalDivide(float x, float rHi, float rLo) {
  volatile float low = x * rLo;
  return std::fma(x, rHi, low);
}

/// FP4Arith::roundToE2M1.
float roundToE2M1(float x) {
  float q = std::fmin(std::fabs(x), 8.0f);
  float magic = q < 2.0f ? 4194304.0f : q < 4.0f ? 8388608.0f : 16777216.0f;
  volatile float sum = q + magic;
  float r = std::fmin(sum - magic, 6.0f);
  return std::copysign(r, x);
}

/// FP4Arith::addAndSubtract: (x + M) - M for M = 2^(e + k), e the exponent
/// field of `eb`; `fused` (FP4Arith::fusedRounding) as two FMAs of 2^e.
float addAndSubtract(float x, uint32_t eb, int k, bool fused) {
  if (fused) {
    float pow2e = fromBits(eb);
    volatile float sum = std::fma(pow2e, std::ldexp(1.0f, k), x);
    return std::fma(pow2e, -std::ldexp(1.0f, k), sum);
  }
  float magic = fromBits(eb + (uint32_t(k) << 23));
  volatile float sum = x + magic;
  return sum - magic;
}

/// FP4Arith::roundNonNegativeToE2M1 (+0 <= y < 2^105); without `saturate`
/// the grid value is left above 6.
float roundNonNegativeToE2M1(float y, bool fused = false, bool saturate = true) {
  uint32_t eb = std::max<int32_t>(toBits(y) & 0x7F800000u, 0x3F800000);
  float onGrid = addAndSubtract(y, eb, 22, fused);
  return saturate ? minimumf(onGrid, 6.0f) : onGrid;
}

/// FP4Arith::roundToE4M3 (x >= +0); `belowSaturation` for x <= 464.
float roundToE4M3(float x, bool belowSaturation = false, bool fused = false) {
  uint32_t eb = std::max(toBits(x) & 0x7F800000u, 0x3C800000u);
  if (!belowSaturation)
    eb = std::min(eb, 0x44000000u);
  float r = addAndSubtract(x, eb, 20, fused);
  return belowSaturation ? r : minimumf(r, 448.0f);
}

/// TileBuilder::pTilde's 2^max(n, -125) for an integer-valued n <= 0.
float pow2n(float n) {
  volatile float t = maximumf(n, -125.0f) + 12582912.0f;
  return fromBits((toBits(t) << 23) + 0x3F800000u);
}

/// TileBuilder::pTilde (exp2 here std::exp2f: the frame property holds for
/// any exponential, since both frames use exp2 of the same s - floor s).
float pTilde(float s, float m) {
  float fl = std::floor(s);
  volatile float e = std::exp2(s - fl);
  return e * pow2n(fl - m);
}

/// x + y rounded toward -inf (PTX add.rm.f32).
float addRoundDown(float x, float y) {
  const int saved = std::fegetround();
  std::fesetround(FE_DOWNWARD);
  volatile float vx = x, vy = y;
  volatile float sum = vx + vy;
  std::fesetround(saved);
  return sum;
}

/// TileBuilder::rowFrameOf and pTildeInRow (exp2 here std::exp2f, as in
/// pTilde's model).
float pTildeInRow(float s, float m) {
  const float magic = 12582912.0f, absM = std::fabs(m);
  const bool near = absM < 0x1p22f, far = !near && absM < INFINITY;
  volatile float pivot = far ? m : 0.0f;
  volatile float lo = near ? m - 125.0f : -125.0f;
  volatile float k = near ? magic - m : magic;
  volatile float u = maximumf(s - pivot, lo);
  volatile float t = addRoundDown(u, k);
  volatile float fl = t - k;
  volatile float e = std::exp2(u - fl);
  return fromBits((toBits(t) << 23) + toBits(e));
}

/// TileBuilder::pTildeNear (the near-frame loop: frames below 2^22 in
/// magnitude): s' = max(s, m - 125), k = 1.5 * 2^23 - m, t = add.rm(s', k),
/// e = ex2(s' - (t - k)), P~'s bits = e's plus t << 23.
float pTildeNear(float s, float m) {
  const float magic = 12582912.0f;
  volatile float sC = maximumf(s, m - 125.0f);
  volatile float k = magic - m;
  volatile float t = addRoundDown(sC, k);
  volatile float fl = t - k;
  volatile float e = std::exp2(sC - fl);
  return fromBits((toBits(t) << 23) + toBits(e));
}

/// TileBuilder::quantizeBlock's entry of block scale s in the reciprocal
/// table: (bits >> 20) - 944 as unsigned, clamped to the sentinel 143.
uint32_t reciprocalEntry(float s) { return std::min(((toBits(s) >> 20) - 944u), 143u); }

TEST(KernelArithmetic, MarksteinDivisionIsTheDivision) {
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const float midpoints[] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f, 6.0f};
  int64_t checked = 0, quotientsDiffer = 0, codesDiffer = 0;
  for (float g : {1.0f, kTwoLevelPGlobalScale}) {
    for (uint32_t bits = 1; bits < 0x7F; ++bits) {
      float s = decodeE4M3(static_cast<uint8_t>(bits));
      float d = s * g;
      float r = 1.0f / d;
      auto check = [&](float x) {
        if (!(x >= 0.0f && x <= 1.0f))
          return;
        float want = x / d, got = divideWithReciprocal(x, d, r);
        ++checked;
        // Equal wherever the remainder is exact (x and the quotient well
        // inside the normal range); elsewhere the quotient is below 2^-100
        // and rounds to code 0 either way (the codes are compared always).
        if (x >= 0x1p-100f && want >= std::numeric_limits<float>::min() &&
            toBits(got) != toBits(want))
          ++quotientsDiffer;
        if (encodeE2M1(got) != encodeE2M1(want))
          ++codesDiffer;
      };
      for (int i = 0; i < 2000; ++i)
        check(unit(gen));
      for (int i = 0; i < 200; ++i) // small values, all exponents
        check(std::ldexp(1.0f + unit(gen), -static_cast<int>(gen() % 150)));
      for (float t : midpoints) {
        float x = t * d;
        for (int k = 0; k < 8; ++k) {
          check(x);
          x = std::nextafter(x, 0.0f);
        }
        x = t * d;
        for (int k = 0; k < 8; ++k) {
          x = std::nextafter(x, 2.0f);
          check(x);
        }
      }
    }
  }
  EXPECT_GT(checked, 500000);
  EXPECT_EQ(quotientsDiffer, 0);
  EXPECT_EQ(codesDiffer, 0);
}

// Every quotient that can round to a nonzero code, exhaustively: the table
// entries of scales with the same significand differ by an exact power of
// two (as do d, the quotients and x), so 8 scales cover all 142, and x runs
// over every float from 0.2 d to 7 d (P's quotients stay below 6 (1 +
// 2^-4) + an ulp). Below 0.2 d both quotients are below 0.25: code 0.
TEST(KernelArithmetic, SplitReciprocalDivisionIsTheDivision) {
  int64_t checked = 0, quotientsDiffer = 0;
  for (float g : {1.0f, kTwoLevelPGlobalScale}) {
    for (int significand = 0; significand < 8; ++significand) {
      volatile float s = 1.0f + significand / 8.0f;
      float d = s * g;
      auto [rHi, rLo] = splitReciprocal(d);
      for (uint32_t u = toBits(0.2f * d), last = toBits(7.0f * d); u <= last; ++u) {
        float x = fromBits(u);
        volatile float want = x / d;
        ++checked;
        if (toBits(splitReciprocalDivide(x, rHi, rLo)) != toBits(want))
          ++quotientsDiffer;
      }
    }
    for (uint32_t bits = 1; bits < 0x7F; ++bits) {
      float s = decodeE4M3(static_cast<uint8_t>(bits));
      // The same significand at exponent 0: the entry scaled by 2^e.
      int e = std::ilogb(s);
      auto [rHi, rLo] = splitReciprocal(s * g);
      auto [hi0, lo0] = splitReciprocal(std::ldexp(s, -e) * g);
      EXPECT_EQ(toBits(rHi), toBits(std::ldexp(hi0, -e))) << s;
      EXPECT_EQ(toBits(rLo), toBits(std::ldexp(lo0, -e))) << s;
      float below = std::nextafter(0.2f * s * g, 0.0f);
      EXPECT_EQ(encodeE2M1(splitReciprocalDivide(below, rHi, rLo)), 0) << s;
    }
  }
  EXPECT_GT(checked, int64_t{500} * 1000 * 1000);
  EXPECT_EQ(quotientsDiffer, 0);
}

// The NVFP4 codec kernels (global scale 1) divide an element by its block's
// E4M3 scale s with the block's one reciprocal: FP4Arith::quantizeElement,
// divideWithReciprocal and x's sign put back. The elements of a block with
// scale s lie within 6 (s + 2^-10) (1 + 2^-4) of zero, or anywhere when s
// saturated at 448; every such BF16 value, random floats of every exponent
// and each E2M1 midpoint's neighbours get the division's code.
TEST(KernelArithmetic, MarksteinDivisionGivesTheCodecKernelsCodes) {
  std::mt19937 gen(13);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const float midpoints[] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f, 6.0f};
  int64_t checked = 0, codesDiffer = 0;
  for (uint32_t bits = 1; bits < 0x7F; ++bits) {
    float s = decodeE4M3(static_cast<uint8_t>(bits));
    float r = 1.0f / s;
    float bound = s == 448.0f ? std::numeric_limits<float>::max() : 7.0f * (s + 0x1p-10f);
    auto check = [&](float x) {
      if (!(std::fabs(x) <= bound))
        return;
      uint8_t want = encodeE2M1(x / s);
      uint8_t got = encodeE2M1(std::copysign(divideWithReciprocal(x, s, r), x));
      ++checked;
      if (got != want)
        ++codesDiffer;
    };
    for (uint32_t b16 = 0; b16 < 0x10000; ++b16) // every BF16 value, both signs
      check(fromBits(b16 << 16));
    for (int i = 0; i < 2000; ++i)
      check(std::ldexp(unit(gen), -static_cast<int>(gen() % 160)) * bound);
    for (float t : midpoints)
      for (float sign : {1.0f, -1.0f}) {
        float x = sign * t * s;
        for (int k = 0; k < 8; ++k, x = std::nextafter(x, 0.0f))
          check(x);
        x = sign * t * s;
        for (int k = 0; k < 8; ++k, x = std::nextafter(x, sign * 1e30f))
          check(x);
      }
  }
  EXPECT_GT(checked, 1000000);
  EXPECT_EQ(codesDiffer, 0);
}

TEST(KernelArithmetic, SaturatingBF16PairsIsSaturatingTheGrid) {
  // The wgmma forward leaves P's quotients on the E2M1 grid unsaturated
  // (quantizeWithScale without applyScale) and saturates the packed BF16
  // pair at 6 (aFromAcc: min.NaN.bf16x2): the same BF16 bits as packing
  // the f32 minimum, for every quotient (the grid values have at most two
  // significant bits, so the pack is exact; the minimum then commutes).
  std::mt19937 gen(40);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  int64_t checked = 0, differ = 0, inexactPacks = 0;
  auto check = [&](float q) {
    for (bool fused : {false, true}) {
      float onGrid = roundNonNegativeToE2M1(q, fused, /*saturate=*/false);
      uint16_t packed = floatToBF16(onGrid);
      inexactPacks += !std::isnan(onGrid) && bf16ToFloat(packed) != onGrid;
      uint16_t saturatedPair = floatToBF16(minimumf(bf16ToFloat(packed), 6.0f));
      uint16_t want = floatToBF16(roundNonNegativeToE2M1(q, fused));
      differ += saturatedPair != want;
      ++checked;
    }
  };
  for (uint32_t b16 = 0; b16 < 0x7F80; ++b16) // every finite non-negative BF16
    check(bf16ToFloat(static_cast<uint16_t>(b16)));
  for (int i = 0; i < 200000; ++i) // random floats of every binade to 2^100
    check(std::ldexp(unit(gen), static_cast<int>(gen() % 130) - 30));
  for (float mid : {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f, 7.0f, 10.0f}) {
    float x = mid;
    for (int k = 0; k < 4; ++k, x = std::nextafter(x, 0.0f))
      check(x);
    x = mid;
    for (int k = 0; k < 4; ++k, x = std::nextafter(x, 1e30f))
      check(x);
  }
  check(std::numeric_limits<float>::quiet_NaN());
  EXPECT_GT(checked, 400000);
  EXPECT_EQ(inexactPacks, 0);
  EXPECT_EQ(differ, 0);
}

TEST(KernelArithmetic, MagicAdditionRoundsToE2M1) {
  int64_t differ = 0, checked = 0;
  auto check = [&](float x) {
    if (std::isnan(x))
      return; // the library maps NaN to code 0; the kernels keep NaN (masked)
    ++checked;
    float want = decodeE2M1(encodeE2M1(x));
    if (toBits(roundToE2M1(x)) != toBits(want))
      ++differ;
    if (!std::signbit(x) && x < 0x1p105f)
      for (bool fused : {false, true})
        if (toBits(roundNonNegativeToE2M1(x, fused)) != toBits(want))
          ++differ;
  };
  for (uint32_t h = 0; h < 0x10000; ++h)
    check(fromBits(h << 16));
  for (uint64_t u = 0; u < (uint64_t(1) << 32); u += 4099)
    check(fromBits(static_cast<uint32_t>(u)));
  EXPECT_GT(checked, 1000000);
  EXPECT_EQ(differ, 0);
}

TEST(KernelArithmetic, MagicAdditionRoundsToE4M3) {
  int64_t differ = 0, checked = 0;
  for (uint64_t u = 0; u < 0x7F800000u; u += 61) { // every non-negative finite stride
    float x = fromBits(static_cast<uint32_t>(u));
    ++checked;
    float want = decodeE4M3(encodeE4M3(x));
    for (bool fused : {false, true}) {
      if (toBits(roundToE4M3(x, false, fused)) != toBits(want))
        ++differ;
      if (x <= 464.0f && toBits(roundToE4M3(x, /*belowSaturation=*/true, fused)) != toBits(want))
        ++differ;
    }
  }
  EXPECT_TRUE(std::isnan(roundToE4M3(NAN, /*belowSaturation=*/true)));
  EXPECT_TRUE(std::isnan(roundToE4M3(NAN, /*belowSaturation=*/true, /*fused=*/true)));
  for (uint32_t u = 0; u < (1u << 16); ++u) { // every BF16 pattern >= 0
    float x = fromBits(u << 16);
    if (std::isnan(x) || std::signbit(x))
      continue;
    ++checked;
    float want = std::isinf(x) ? 448.0f : decodeE4M3(encodeE4M3(x));
    for (bool fused : {false, true})
      if (toBits(roundToE4M3(x, false, fused)) != toBits(want))
        ++differ;
  }
  EXPECT_GT(checked, 30000000);
  EXPECT_EQ(differ, 0);
}

TEST(KernelArithmetic, MagicAdditionKeepsNaN) {
  for (bool fused : {false, true})
    EXPECT_TRUE(std::isnan(roundNonNegativeToE2M1(std::numeric_limits<float>::quiet_NaN(), fused)));
}

TEST(KernelArithmetic, PowerOfTwoFromBitsIsExact) {
  for (int n = -(1 << 22); n <= 0; ++n)
    ASSERT_EQ(pow2n(float(n)), std::ldexp(1.0f, std::max(n, -125))) << n;
  // A NaN score stays NaN (through exp2 of s - floor s).
  EXPECT_TRUE(std::isnan(pTilde(std::numeric_limits<float>::quiet_NaN(), 3.0f)));
}

TEST(KernelArithmetic, IntegerFramesDifferByTheirPowerOfTwo) {
  // P~ in frame m and in a later frame m + k: exactly 2^-k apart wherever
  // the later value is not clamped (2^(floor s - m - k) >= 2^-125), as the
  // matched backward needs; everywhere else both are below 2^-124.
  std::mt19937 gen(13);
  std::uniform_real_distribution<float> score(-40.0f, 0.0f);
  int64_t checked = 0, differ = 0, clampedLarge = 0;
  for (int i = 0; i < 200000; ++i) {
    float m = std::floor(score(gen)) + 40.0f * (gen() % 3);
    float s = m + score(gen) * (1 + gen() % 4);
    int k = gen() % 130;
    float early = pTilde(s, m), late = pTilde(s, m + k);
    ++checked;
    if (std::floor(s) - m - k >= -125) {
      if (toBits(late) != toBits(std::ldexp(early, -k)))
        ++differ;
    } else if (late >= 0x1p-124f) {
      ++clampedLarge;
    }
  }
  EXPECT_EQ(checked, 200000);
  EXPECT_EQ(differ, 0);
  EXPECT_EQ(clampedLarge, 0);
}

TEST(KernelArithmetic, PTildeByBitsIsPTilde) {
  // pTildeInRow against pTilde for frames near 0, at the 2^22 switch, far
  // (odd frames past 2^24 where m - 125 is no float, -1e9 masks in the log2
  // domain, 2^40, FLT_MAX) and random ones; scores within 130 of the frame
  // and far below it: pTilde's bits wherever floor s - m >= -125, exactly
  // 2^-125 (code 0 in NVFP4 under every block scale) below and for -inf.
  std::mt19937 gen(47);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const float frames[] = {0.0f,         1.0f,          -1.0f,          37.0f,
                          -1000.0f,     4194303.0f,    -4194303.0f,    4194304.0f,
                          -4194304.0f,  4194305.0f,    -4194305.0f,    12582912.0f,
                          -12582913.0f, 16777215.0f,   -16777215.0f,   16777218.0f,
                          -16777218.0f, -1442695040.f, 1442695040.0f,  0x1p40f,
                          -0x1p40f,     -5000001.0f,   3.4028235e38f,  -3.4028235e38f};
  int64_t equal = 0, clamped = 0, differ = 0, far = 0;
  for (int i = 0; i < 600000; ++i) {
    float m = i % 3 ? frames[gen() % std::size(frames)]
                    : std::ceil((2.0f * unit(gen) - 1.0f) * 0x1p23f);
    float below = gen() % 4 ? 130.0f * unit(gen) : std::ldexp(unit(gen), gen() % 40);
    float s = m - below;
    if (gen() % 100 == 0)
      s = -INFINITY;
    if (std::isinf(s) && s > 0)
      continue; // m - below overflowed
    far += !(std::fabs(m) < 0x1p22f);
    float got = pTildeInRow(s, m);
    if (!std::isinf(s) && std::floor(s) - m >= -125) {
      ++equal;
      differ += toBits(got) != toBits(pTilde(s, m));
    } else {
      ++clamped;
      differ += toBits(got) != toBits(0x1p-125f);
    }
  }
  EXPECT_EQ(differ, 0);
  EXPECT_GT(equal, 300000);
  EXPECT_GT(clamped, 30000);
  EXPECT_GT(far, 250000);
  for (float g : {kTwoLevelPGlobalScale, 1.0f}) // 2^-125 and below: code 0
    EXPECT_EQ(roundToE2M1(0x1p-124f / (decodeScale(Format::NVFP4, 1) * g)), 0.0f) << g;
  // Infinite frames: scores that all overflowed to -inf stay tiny and
  // finite; a +inf score in a +inf frame is NaN (its row's l is NaN).
  EXPECT_EQ(toBits(pTildeInRow(-INFINITY, -INFINITY)), toBits(0x1p-125f));
  EXPECT_TRUE(std::isnan(pTildeInRow(INFINITY, INFINITY)));
}

TEST(KernelArithmetic, NearPTildeIsPTildeByBitsBelow2To21) {
  // The pipelined qat forward's near-frame loop (WgmmaAttention's
  // nearFrameBound: every score of the warpgroup's rows below 2^21 in
  // magnitude, so every frame too): pTildeInRow's bits for every such
  // frame, on scores near the frame, across the clamp, far below it and
  // -inf.
  std::mt19937 gen(53);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  int64_t checked = 0, differ = 0;
  for (int i = 0; i < 400000; ++i) {
    float m = std::ceil((2.0f * unit(gen) - 1.0f) * 2097151.0f);
    if (i % 4 == 0)
      m = i % 8 ? 2097151.0f : -2097151.0f;
    float s = m - (gen() % 4 ? 130.0f * unit(gen) : std::ldexp(unit(gen), gen() % 30));
    if (gen() % 100 == 0)
      s = -INFINITY;
    ++checked;
    differ += toBits(pTildeNear(s, m)) != toBits(pTildeInRow(s, m));
  }
  EXPECT_EQ(checked, 400000);
  EXPECT_EQ(differ, 0);
  // Beyond 2^22 below zero k = 1.5 * 2^23 - m passes 2^24, where floats
  // step by 2, and t is no longer the floor: why the loop needs the bound,
  // and traps on a finite frame at or beyond 2^22.
  int wrongFar = 0;
  for (float m : {-4194305.0f, -5000001.0f})
    for (float below : {0.5f, 3.25f, 100.5f})
      wrongFar += toBits(pTildeNear(m - below, m)) != toBits(pTildeInRow(m - below, m));
  EXPECT_GT(wrongFar, 0);
}

TEST(KernelArithmetic, ReciprocalTableIndexIsDistinctPerScale) {
  std::vector<int> seen(144, -1);
  for (uint32_t bits = 1; bits < 0x7F; ++bits) {
    float s = decodeE4M3(static_cast<uint8_t>(bits));
    uint32_t entry = reciprocalEntry(s);
    ASSERT_LT(entry, 143u) << bits;
    // The table holds scale (entry + 944) << 20: exactly this one.
    EXPECT_EQ(fromBits((entry + 944u) << 20), s) << bits;
    EXPECT_EQ(seen[entry], -1) << bits;
    seen[entry] = static_cast<int>(bits);
  }
  EXPECT_EQ(reciprocalEntry(0.0f), 143u);
  EXPECT_EQ(reciprocalEntry(std::numeric_limits<float>::quiet_NaN()), 143u);
  EXPECT_EQ(reciprocalEntry(decodeE4M3(0x7F)), 143u); // E4M3 NaN
}

/// TileBuilder::itemHead: w / d as (umulhi(w, m) + w) >> p, p = ceil(log2 d),
/// m = ceil(2^(32 + p) / d) - 2^32 (the wgmma backward's item -> query head).
uint32_t itemHead(uint32_t w, uint32_t d) {
  uint32_t p = d == 1 ? 0 : 32 - __builtin_clz(d - 1);
  uint64_t pow = uint64_t(1) << (32 + p);
  uint32_t m = static_cast<uint32_t>((pow + d - 1) / d - (uint64_t(1) << 32));
  uint32_t hi = static_cast<uint32_t>((uint64_t(w) * m) >> 32);
  return (hi + w) >> p;
}

TEST(KernelArithmetic, ItemHeadByRoundUpMultiplierIsTheQuotient) {
  std::mt19937 gen(17);
  std::vector<uint32_t> divisors;
  for (uint32_t d = 1; d <= 4096; ++d)
    divisors.push_back(d);
  for (int i = 0; i < 2000; ++i)
    divisors.push_back(1 + gen() % (1u << 25)); // query tiles of M < 2^31
  int64_t checked = 0;
  for (uint32_t d : divisors) {
    auto check = [&](uint32_t w) {
      ASSERT_EQ(itemHead(w, d), w / d) << w << " / " << d;
      ++checked;
    };
    for (uint32_t w : {0u, 1u, d - 1, d, d + 1, 2 * d - 1, 2 * d, 0x7FFFFFFEu, 0x7FFFFFFFu})
      if (w < 0x80000000u)
        check(w);
    for (int i = 0; i < 100; ++i)
      check(gen() & 0x7FFFFFFFu);
  }
  EXPECT_GT(checked, 600000);
}

/// FP4Arith::powerOfTwoReciprocal (the codec kernels and the P codec).
float e8m0Reciprocal(float s) { return fromBits(0x7F000000u - (toBits(s) & 0xFF800000u)); }

TEST(KernelArithmetic, E8M0ReciprocalFromBitsIsExact) {
  std::mt19937 gen(11);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const float midpoints[] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f, 6.0f};
  int64_t checked = 0;
  // E8M0 bytes 0 (2^-127) to 252 (2^125): every scale an f32 amax can give.
  for (uint32_t byte = 0; byte <= 252; ++byte) {
    float s = decodeE8M0(static_cast<uint8_t>(byte));
    float r = e8m0Reciprocal(s);
    ASSERT_EQ(static_cast<double>(r), 1.0 / static_cast<double>(s)) << byte;
    auto check = [&](float q) { // a quotient in [0, 8)
      float x = q * s;          // exact unless it underflows
      ASSERT_EQ(x * r, x / s) << byte << " " << q;
      ++checked;
    };
    for (int i = 0; i < 2000; ++i)
      check(8.0f * unit(gen));
    for (float mid : midpoints)
      for (float q : {std::nextafter(mid, 0.0f), mid, std::nextafter(mid, 8.0f)})
        check(q);
    check(0.0f);
    check(std::nextafter(8.0f, 0.0f));
  }
  EXPECT_GT(checked, 500000);
}

/// FP4Arith::roundNonNegativeToScaledE2M1 with TileBuilder's per-block
/// operands: the scale's exponent bits and 6 s, or 0 and 0 for a scale
/// that gives no codes.
float roundToScaledE2M1(float x, float s, bool fused) {
  bool usable = s != 0.0f && !std::isnan(s);
  int32_t scaleExp = usable ? static_cast<int32_t>(toBits(s) & 0x7F800000u) : 0;
  uint32_t eb = static_cast<uint32_t>(
      std::max(static_cast<int32_t>(toBits(x) & 0x7F800000u), scaleExp));
  return minimumf(addAndSubtract(x, eb, 22, fused), usable ? 6.0f * s : 0.0f);
}

TEST(KernelArithmetic, E8M0ScaledRoundingIsQuotientRoundingTimesScale) {
  std::mt19937 gen(13);
  const float midpoints[] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.0f, 6.0f, 7.0f};
  int64_t checked = 0, differ = 0;
  // E8M0 bytes 0 (2^-127) to 125 (2^-2): the scales of blocks of P~ <= 1.
  for (uint32_t byte = 0; byte <= 125; ++byte) {
    const float s = decodeE8M0(static_cast<uint8_t>(byte));
    const float r = e8m0Reciprocal(s);
    const uint32_t below = toBits(8.0f * s);
    auto check = [&](float x) {
      if (!(x >= 0.0f) || x >= 8.0f * s || (x != 0.0f && x < 0x1p-126f))
        return; // outside the identity's domain (P~ is normal or 0)
      float want = roundNonNegativeToE2M1(x * r) * s;
      for (bool fused : {false, true})
        if (toBits(roundToScaledE2M1(x, s, fused)) != toBits(want))
          ++differ;
      ++checked;
    };
    for (uint32_t h = 0; h < 0x8000; ++h) // every non-negative BF16
      check(fromBits(h << 16));
    std::uniform_int_distribution<uint32_t> pattern(0x00800000u, below - 1);
    for (int i = 0; i < 20000; ++i)
      check(fromBits(pattern(gen)));
    for (float mid : midpoints) {
      float at = mid * s; // exact
      for (int k = -3; k <= 3; ++k) {
        float x = at;
        for (int step = 0; step < std::abs(k); ++step)
          x = std::nextafter(x, k < 0 ? 0.0f : 8.0f);
        check(x);
      }
    }
    check(0.0f);
  }
  EXPECT_GT(checked, 3000000);
  EXPECT_EQ(differ, 0);
  // A NaN scale (a block holding a NaN): every finite x gives 0.
  for (float x : {0.0f, 0x1p-126f, 0.3f, 1.0f})
    for (bool fused : {false, true})
      EXPECT_EQ(toBits(roundToScaledE2M1(x, NAN, fused)), 0u) << x;
}

TEST(KernelArithmetic, BlockAmaxIsPTildeOfTheLargestScore) {
  // The quantized wgmma forwards take a P block's amax as P~ of its largest
  // score (TileBuilder::quantizeForwardP). With an exponential that is
  // non-decreasing on [0, 1) with values in [1, 2) (ex2.approx.ftz on the
  // GPU, scripts/probes/ex2-monotone.cu; std::exp2 here, checked below),
  // that gives every format's block scale the elementwise amax gives, also
  // where the clamp at 2^-125 breaks the monotonicity: rows near their
  // frame, blocks straddling the clamp, blocks wholly below it, masked
  // (-inf, P~ = 0) keys.
  for (uint32_t b = 0; b < 0x3F800000u; b += 97) {
    float x = fromBits(b), y = std::exp2(x);
    ASSERT_TRUE(y >= 1.0f && y < 2.0f && y >= std::exp2(fromBits(b == 0 ? 0 : b - 1))) << x;
  }
  auto pOf = [](float s, float m) { return std::isinf(s) ? 0.0f : pTilde(s, m); };
  struct Case {
    Format format;
    float g;
  };
  const Case cases[] = {{Format::NVFP4, kTwoLevelPGlobalScale}, {Format::NVFP4, 1.0f},
                        {Format::MXFP4, 1.0f}};
  std::mt19937 gen(31);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  int64_t blocks = 0, differ = 0, straddling = 0, belowClamp = 0, nonzero = 0;
  for (const Case &c : cases) {
    const int n = blockSize(c.format);
    for (int i = 0; i < 100000; ++i) {
      float m = std::floor(100.0f * unit(gen)) - 50.0f;
      // The block's distance below the frame: near it, around the clamp,
      // wholly below it.
      const float spans[] = {12.0f, 8.0f, 200.0f};
      const float starts[] = {0.0f, 121.0f, 126.0f};
      int kind = gen() % 3;
      std::vector<float> s(n);
      float amax = 0.0f, largest = -INFINITY;
      bool above = false, clamped = false;
      for (float &v : s) {
        v = gen() % 16 == 0 ? -INFINITY : m - starts[kind] - spans[kind] * unit(gen);
        amax = std::max(amax, pOf(v, m));
        largest = std::max(largest, v);
        if (!std::isinf(v))
          (std::floor(v) - m >= -125 ? above : clamped) = true;
      }
      float fromScore = pOf(largest, m);
      uint8_t want = blockScale(c.format, amax, c.g), got = blockScale(c.format, fromScore, c.g);
      if (want != got)
        ++differ;
      ++blocks;
      straddling += above && clamped;
      belowClamp += clamped && !above;
      nonzero += decodeScale(c.format, want) > 0.0f && amax < 0x1p-124f;
    }
  }
  EXPECT_EQ(blocks, 300000);
  EXPECT_EQ(differ, 0);
  // Coverage: blocks across the clamp and wholly below it, and tiny blocks
  // with a nonzero (MXFP4) scale, where the clamped values' order matters.
  EXPECT_GT(straddling, 10000);
  EXPECT_GT(belowClamp, 10000);
  EXPECT_GT(nonzero, 5000);
}
} // namespace
