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
//  * E2M1 rounding by one addition of 2^22, 2^23 or 2^24 (then saturation),
//    also without |.| and clamp for 0 <= y < 2^24, over every BF16 pattern
//    and a strided sweep of all float32 patterns;
//  * E4M3 rounding (block scales) by adding 2^(e + 20), e from the exponent
//    bits, over a stride of all non-negative floats and every BF16 one;
//  * 2^e for an integer e from the float bits of e + 1.5 * 2^23, as the
//    exact factor of P~ = exp2(s - floor s) * 2^(floor s - m).
//
//===----------------------------------------------------------------------===//

#include "attnqat/Numerics/FP4.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>

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

/// FP4Arith::divideWithReciprocal.
float divideWithReciprocal(float x, float d, float r) {
  volatile float q0 = x * r; // no contraction into the FMA below
  float rem = std::fma(-q0, d, x);
  return std::fma(rem, r, q0);
}

/// FP4Arith::roundToE2M1.
float roundToE2M1(float x) {
  float q = std::fmin(std::fabs(x), 8.0f);
  float magic = q < 2.0f ? 4194304.0f : q < 4.0f ? 8388608.0f : 16777216.0f;
  volatile float sum = q + magic;
  float r = std::fmin(sum - magic, 6.0f);
  return std::copysign(r, x);
}

/// FP4Arith::roundNonNegativeToE2M1 (0 <= y < 2^24).
float roundNonNegativeToE2M1(float y) {
  float magic = y < 2.0f ? 4194304.0f : y < 4.0f ? 8388608.0f : 16777216.0f;
  volatile float sum = y + magic;
  return std::fmin(sum - magic, 6.0f);
}

/// FP4Arith::roundToE4M3 (x >= +0).
float roundToE4M3(float x) {
  uint32_t eb = toBits(x) & 0x7F800000u;
  eb = std::min(std::max(eb, 0x3C800000u), 0x44000000u);
  float magic = fromBits(eb + (20u << 23));
  volatile float sum = x + magic;
  return std::fmin(sum - magic, 448.0f);
}

/// TileBuilder::pow2: 2^(e + bias) for an integer-valued e, clamped.
float pow2(float e, int bias) {
  float ec = std::fmin(std::fmax(e, float(-126 - bias)), float(127 - bias));
  volatile float t = ec + 12582912.0f;
  uint32_t biased = toBits(t) + uint32_t(127 + bias) - 0x4B400000u;
  return fromBits(biased << 23);
}

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

TEST(KernelArithmetic, MagicAdditionRoundsToE2M1) {
  int64_t differ = 0, checked = 0;
  auto check = [&](float x) {
    if (std::isnan(x))
      return; // the library maps NaN to code 0; the kernels keep NaN (masked)
    ++checked;
    float want = decodeE2M1(encodeE2M1(x));
    if (toBits(roundToE2M1(x)) != toBits(want))
      ++differ;
    if (!std::signbit(x) && x < 0x1p24f && toBits(roundNonNegativeToE2M1(x)) != toBits(want))
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
    if (toBits(roundToE4M3(x)) != toBits(decodeE4M3(encodeE4M3(x))))
      ++differ;
  }
  for (uint32_t u = 0; u < (1u << 16); ++u) { // every BF16 pattern >= 0
    float x = fromBits(u << 16);
    if (std::isnan(x) || std::signbit(x))
      continue;
    ++checked;
    float want = std::isinf(x) ? 448.0f : decodeE4M3(encodeE4M3(x));
    if (toBits(roundToE4M3(x)) != toBits(want))
      ++differ;
  }
  EXPECT_GT(checked, 30000000);
  EXPECT_EQ(differ, 0);
}

TEST(KernelArithmetic, PowerOfTwoFromBitsIsExact) {
  std::mt19937 gen(11);
  std::uniform_real_distribution<float> mant(1.0f, 2.0f);
  int64_t differ = 0;
  for (int e = -200; e <= 0; ++e)
    for (int i = 0; i < 64; ++i) {
      float m = mant(gen);
      // The kernel's P~ = (m * 2^(e + 64)) * 2^-64: one rounding, as in
      // m * 2^e computed exactly and rounded once.
      volatile float scaled = m * pow2(float(e), 64);
      float got = scaled * 0x1p-64f;
      float want = static_cast<float>(std::ldexp(static_cast<double>(m), e));
      if (toBits(got) != toBits(want))
        ++differ;
    }
  EXPECT_EQ(differ, 0);
}

} // namespace
