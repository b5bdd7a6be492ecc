//===- FP4CodecTest.cpp - Scalar codecs vs LLVM APFloat -------------------===//
//
// The scalar codecs of attnqat/Numerics/FP4.h checked against LLVM's APFloat
// (an independent software implementation of the same formats) over every
// BF16 bit pattern, every rounding midpoint and its neighbours, a strided
// sweep over all float32 bit patterns, and every code of each format.
//
// Where our spec and APFloat differ by definition they are compared
// separately against the spec:
//  * f4E2M1FN is FiniteOnly in APFloat: finite overflow saturates to +-6
//    there too, but converting Inf or NaN into it is unreachable (UB), so
//    non-finite inputs are never given to APFloat and are checked against
//    the spec (Inf saturates, NaN -> +0).
//  * f8E4M3FN is NanOnly in APFloat: overflow (|x| >= 464) and +-Inf give NaN
//    there, while our spec saturates to +-448 (satfinite); NaN -> 0x7F in our
//    spec (APFloat keeps the NaN's sign: 0xFF for -NaN).
//
//===----------------------------------------------------------------------===//

#include "attnqat/Numerics/FP4.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/APInt.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

using namespace attnqat::numerics;
using llvm::APFloat;
using llvm::APInt;

namespace {

float fromBits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

uint32_t toBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

/// "0x..." (AssertionResult's operator<< formats each value separately, so
/// std::hex would not stick).
std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

/// APFloat's RNE conversion of a float into `sem`; returns the bit pattern.
uint64_t apEncode(const llvm::fltSemantics &sem, float x,
                  APFloat::opStatus *status = nullptr) {
  APFloat f(x);
  bool losesInfo = false;
  APFloat::opStatus st =
      f.convert(sem, APFloat::rmNearestTiesToEven, &losesInfo);
  if (status)
    *status = st;
  return f.bitcastToAPInt().getZExtValue();
}

bool apIsNaN(const llvm::fltSemantics &sem, float x) {
  APFloat f(x);
  bool losesInfo = false;
  f.convert(sem, APFloat::rmNearestTiesToEven, &losesInfo);
  return f.isNaN();
}

/// APFloat's decoding of `bits` in `sem` (width bits wide) to float32.
float apDecode(const llvm::fltSemantics &sem, unsigned width, uint64_t bits) {
  APFloat f(sem, APInt(width, bits));
  // Ask APFloat itself whether the pattern is NaN: converting the E8M0 NaN
  // (which has no significand bits) to IEEEsingle yields a NaN whose
  // significand is 0, and its bit pattern then reads as Inf (0x7F800000).
  if (f.isNaN())
    return std::numeric_limits<float>::quiet_NaN();
  bool losesInfo = false;
  f.convert(APFloat::IEEEsingle(), APFloat::rmNearestTiesToEven, &losesInfo);
  EXPECT_FALSE(losesInfo) << "decode of " << hex(bits);
  return f.convertToFloat();
}

/// Same float, bit for bit (so -0 != +0), or both NaN.
::testing::AssertionResult sameFloat(float a, float b) {
  if ((std::isnan(a) && std::isnan(b)) || toBits(a) == toBits(b))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << a << " (" << hex(toBits(a)) << ") vs " << b << " ("
         << hex(toBits(b)) << ")";
}

//===-- E2M1 --------------------------------------------------------------===//

/// Compares encodeE2M1 with APFloat for one finite input.
::testing::AssertionResult e2m1MatchesAPFloat(float x) {
  const uint64_t want = apEncode(APFloat::Float4E2M1FN(), x);
  const uint8_t got = encodeE2M1(x);
  if (got == want)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "encodeE2M1(" << x << " = " << hex(toBits(x)) << ") = "
         << hex(got) << ", APFloat: " << hex(want);
}

TEST(E2M1Codec, AllBF16PatternsMatchAPFloat) {
  int compared = 0;
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const float x = fromBits(b << 16);
    if (!std::isfinite(x))
      continue; // APFloat's FiniteOnly E2M1 has no rule: see NonFinite test.
    ASSERT_TRUE(e2m1MatchesAPFloat(x));
    ++compared;
  }
  EXPECT_EQ(compared, 65536 - 2 * 128); // all but the Inf/NaN patterns
}

TEST(E2M1Codec, StridedFloat32SweepMatchesAPFloat) {
  // ~4.2M float32 patterns spread over the whole space, including mantissa
  // bits below BF16 precision (sticky bits for the rounding).
  for (uint64_t b = 0; b <= 0xFFFFFFFFull; b += 1021) {
    const float x = fromBits(static_cast<uint32_t>(b));
    if (std::isfinite(x)) {
      ASSERT_TRUE(e2m1MatchesAPFloat(x));
    }
  }
}

TEST(E2M1Codec, MidpointsAndNeighboursMatchAPFloat) {
  const float mags[] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
  std::vector<float> probes;
  for (int i = 0; i + 1 < 8; ++i) {
    const float mid = 0.5f * (mags[i] + mags[i + 1]); // exact in float32
    probes.push_back(mid);
    probes.push_back(std::nextafter(mid, 0.0f));
    probes.push_back(std::nextafter(mid, INFINITY));
  }
  // Around the saturation point and the representable values themselves.
  for (float m : mags) {
    probes.push_back(m);
    probes.push_back(std::nextafter(m, 0.0f));
    probes.push_back(std::nextafter(m, INFINITY));
  }
  probes.push_back(7.0f); // the "midpoint" to the next (nonexistent) value 8
  probes.push_back(std::numeric_limits<float>::denorm_min());
  probes.push_back(std::numeric_limits<float>::min());
  probes.push_back(std::numeric_limits<float>::max());
  for (float p : probes) {
    EXPECT_TRUE(e2m1MatchesAPFloat(p));
    EXPECT_TRUE(e2m1MatchesAPFloat(-p));
  }
}

TEST(E2M1Codec, SpecTieTable) {
  // DESIGN.md §1: ties to even. Codes: 0:0 1:0.5 2:1 3:1.5 4:2 5:3 6:4 7:6.
  // Each tie lies between codes lo and lo + 1 and goes to the even one.
  struct Case {
    float x;
    uint8_t lo, tie;
  } cases[] = {{0.25f, 0, 0}, {0.75f, 1, 2}, {1.25f, 2, 2}, {1.75f, 3, 4},
               {2.5f, 4, 4},  {3.5f, 5, 6},  {5.0f, 6, 6}};
  for (const Case &c : cases) {
    EXPECT_EQ(encodeE2M1(c.x), c.tie) << c.x;
    EXPECT_EQ(encodeE2M1(-c.x), c.tie | 0x8) << -c.x;
    // Just above the tie rounds up, just below rounds down.
    EXPECT_EQ(encodeE2M1(std::nextafter(c.x, INFINITY)), c.lo + 1) << c.x;
    EXPECT_EQ(encodeE2M1(std::nextafter(c.x, 0.0f)), c.lo) << c.x;
    EXPECT_EQ(encodeE2M1(-std::nextafter(c.x, INFINITY)), (c.lo + 1) | 0x8);
    EXPECT_EQ(encodeE2M1(-std::nextafter(c.x, 0.0f)), c.lo | 0x8);
  }
}

TEST(E2M1Codec, SaturationSignedZeroAndNonFinite) {
  EXPECT_EQ(encodeE2M1(6.0f), 0x7);
  EXPECT_EQ(encodeE2M1(6.5f), 0x7);
  EXPECT_EQ(encodeE2M1(1e30f), 0x7);
  EXPECT_EQ(encodeE2M1(-1e30f), 0xF);
  EXPECT_EQ(encodeE2M1(INFINITY), 0x7);
  EXPECT_EQ(encodeE2M1(-INFINITY), 0xF);
  EXPECT_EQ(encodeE2M1(std::numeric_limits<float>::quiet_NaN()), 0x0);
  EXPECT_EQ(encodeE2M1(-std::numeric_limits<float>::quiet_NaN()), 0x0);
  EXPECT_EQ(encodeE2M1(std::numeric_limits<float>::signaling_NaN()), 0x0);
  EXPECT_EQ(encodeE2M1(fromBits(0xFFFFFFFFu)), 0x0);
  // Signed zero is kept (documented choice in FP4.cpp).
  EXPECT_EQ(encodeE2M1(0.0f), 0x0);
  EXPECT_EQ(encodeE2M1(-0.0f), 0x8);
  EXPECT_EQ(encodeE2M1(-0.1f), 0x8);
  EXPECT_TRUE(std::signbit(decodeE2M1(0x8)));
}

TEST(E2M1Codec, DecodeAllCodesMatchesAPFloat) {
  const float expected[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
  for (unsigned c = 0; c < 16; ++c) {
    EXPECT_TRUE(
        sameFloat(decodeE2M1(c), apDecode(APFloat::Float4E2M1FN(), 4, c)))
        << "code " << c;
    EXPECT_EQ(decodeE2M1(c), (c & 8) ? -expected[c & 7] : expected[c & 7]);
    // encode(decode(c)) == c for every code (-0 included).
    EXPECT_EQ(encodeE2M1(decodeE2M1(c)), c);
    // High bits of the byte are ignored.
    EXPECT_TRUE(sameFloat(decodeE2M1(c | 0xF0), decodeE2M1(c)));
  }
}

//===-- E4M3 --------------------------------------------------------------===//

/// Compares encodeE4M3 with APFloat for one finite input, treating APFloat's
/// overflow-to-NaN as our saturation to +-448.
::testing::AssertionResult e4m3MatchesAPFloat(float x) {
  const uint8_t got = encodeE4M3(x);
  if (apIsNaN(APFloat::Float8E4M3FN(), x)) {
    // APFloat overflowed (it has no Inf): our spec saturates.
    const uint8_t want = std::signbit(x) ? 0xFE : 0x7E;
    if (std::fabs(x) >= 464.0f && got == want)
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "encodeE4M3(" << x << ") = " << hex(got)
           << ", expected saturation " << hex(want);
  }
  const uint64_t want = apEncode(APFloat::Float8E4M3FN(), x);
  if (got == want)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "encodeE4M3(" << x << " = " << hex(toBits(x)) << ") = "
         << hex(got) << ", APFloat: " << hex(want);
}

TEST(E4M3Codec, AllBF16PatternsMatchAPFloat) {
  int compared = 0, saturated = 0;
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const float x = fromBits(b << 16);
    if (!std::isfinite(x))
      continue; // see NonFinite test
    ASSERT_TRUE(e4m3MatchesAPFloat(x));
    ++compared;
    saturated += std::fabs(x) >= 464.0f;
  }
  EXPECT_EQ(compared, 65536 - 2 * 128);
  EXPECT_GT(saturated, 0);
}

TEST(E4M3Codec, StridedFloat32SweepMatchesAPFloat) {
  for (uint64_t b = 0; b <= 0xFFFFFFFFull; b += 1021) {
    const float x = fromBits(static_cast<uint32_t>(b));
    if (std::isfinite(x)) {
      ASSERT_TRUE(e4m3MatchesAPFloat(x));
    }
  }
}

TEST(E4M3Codec, MidpointsAndNeighboursMatchAPFloat) {
  // All 127 non-negative finite values in order (codes 0x00..0x7E), decoded
  // by APFloat, then every midpoint between neighbours (exact in float32:
  // at most 5 significant bits) and the floats on either side of it.
  std::vector<float> values;
  for (unsigned c = 0; c <= 0x7E; ++c)
    values.push_back(apDecode(APFloat::Float8E4M3FN(), 8, c));
  values.push_back(512.0f); // where the next binade would start
  for (size_t i = 0; i + 1 < values.size(); ++i) {
    ASSERT_LT(values[i], values[i + 1]);
    const float mid = 0.5f * (values[i] + values[i + 1]);
    for (float p : {mid, std::nextafter(mid, 0.0f),
                    std::nextafter(mid, INFINITY), values[i]}) {
      EXPECT_TRUE(e4m3MatchesAPFloat(p)) << "between codes " << i;
      EXPECT_TRUE(e4m3MatchesAPFloat(-p)) << "between codes " << i;
    }
    // Our own expectation at the tie: the even code.
    if (i < 0x7E) {
      const unsigned even = (i & 1) ? i + 1 : i;
      EXPECT_EQ(encodeE4M3(mid), even) << "tie between codes " << i;
    }
  }
}

TEST(E4M3Codec, SaturationSubnormalsAndNonFinite) {
  EXPECT_EQ(encodeE4M3(448.0f), 0x7E);
  EXPECT_EQ(encodeE4M3(449.0f), 0x7E);
  EXPECT_EQ(encodeE4M3(463.9f), 0x7E);
  EXPECT_EQ(encodeE4M3(464.0f), 0x7E); // APFloat: NaN (overflow)
  EXPECT_EQ(encodeE4M3(1e30f), 0x7E);
  EXPECT_EQ(encodeE4M3(-1e30f), 0xFE);
  EXPECT_EQ(encodeE4M3(std::numeric_limits<float>::max()), 0x7E);
  EXPECT_EQ(encodeE4M3(INFINITY), 0x7E);
  EXPECT_EQ(encodeE4M3(-INFINITY), 0xFE);
  EXPECT_EQ(encodeE4M3(std::numeric_limits<float>::quiet_NaN()), kE4M3NaN);
  EXPECT_EQ(encodeE4M3(-std::numeric_limits<float>::quiet_NaN()), kE4M3NaN);
  EXPECT_EQ(encodeE4M3(std::numeric_limits<float>::signaling_NaN()),
            kE4M3NaN);
  // Subnormals: 2^-9 is the smallest; 2^-10 ties to 0; 3*2^-10 ties to 2.
  EXPECT_EQ(encodeE4M3(std::ldexp(1.0f, -9)), 0x01);
  EXPECT_EQ(encodeE4M3(std::ldexp(1.0f, -10)), 0x00);
  EXPECT_EQ(encodeE4M3(std::nextafter(std::ldexp(1.0f, -10), 1.0f)), 0x01);
  EXPECT_EQ(encodeE4M3(std::ldexp(3.0f, -10)), 0x02);
  EXPECT_EQ(encodeE4M3(std::ldexp(7.0f, -9)), 0x07);  // largest subnormal
  EXPECT_EQ(encodeE4M3(std::ldexp(15.0f, -10)), 0x08); // ties up to 2^-6
  EXPECT_EQ(encodeE4M3(std::ldexp(1.0f, -6)), 0x08);   // smallest normal
  EXPECT_EQ(encodeE4M3(std::numeric_limits<float>::denorm_min()), 0x00);
  EXPECT_EQ(encodeE4M3(-0.0f), 0x80);
}

TEST(E4M3Codec, DecodeAll256MatchesAPFloat) {
  for (unsigned c = 0; c < 256; ++c) {
    const float got = decodeE4M3(static_cast<uint8_t>(c));
    EXPECT_TRUE(sameFloat(got, apDecode(APFloat::Float8E4M3FN(), 8, c)))
        << "code " << hex(c);
    EXPECT_EQ(std::isnan(got), (c & 0x7F) == 0x7F) << c;
    if (!std::isnan(got)) {
      EXPECT_EQ(encodeE4M3(got), c) << c; // roundtrip (incl. -0 = 0x80)
    }
  }
  EXPECT_EQ(decodeE4M3(0x7E), 448.0f);
  EXPECT_EQ(decodeE4M3(0x01), std::ldexp(1.0f, -9));
}

//===-- E8M0 --------------------------------------------------------------===//

TEST(E8M0Codec, DecodeAll256MatchesAPFloat) {
  for (unsigned c = 0; c < 256; ++c) {
    const float got = decodeE8M0(static_cast<uint8_t>(c));
    EXPECT_TRUE(sameFloat(got, apDecode(APFloat::Float8E8M0FNU(), 8, c)))
        << "code " << c;
    if (c == 0xFF) {
      EXPECT_TRUE(std::isnan(got));
    } else {
      EXPECT_EQ(got, std::ldexp(1.0f, static_cast<int>(c) - 127)) << c;
    }
  }
  EXPECT_TRUE(std::fpclassify(decodeE8M0(0)) == FP_SUBNORMAL);
}

//===-- BF16 --------------------------------------------------------------===//

::testing::AssertionResult bf16MatchesAPFloat(float x) {
  const uint16_t got = floatToBF16(x);
  if (std::isnan(x)) {
    if (std::isnan(bf16ToFloat(got)) &&
        (got >> 15) == (toBits(x) >> 31))
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "NaN lost: " << hex(got);
  }
  const uint64_t want = apEncode(APFloat::BFloat(), x);
  if (got == want)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "floatToBF16(" << hex(toBits(x)) << ") = " << hex(got)
         << ", APFloat: " << hex(want);
}

TEST(BF16, StridedSweepAndTiesMatchAPFloat) {
  for (uint64_t b = 0; b <= 0xFFFFFFFFull; b += 1021)
    ASSERT_TRUE(bf16MatchesAPFloat(fromBits(static_cast<uint32_t>(b))));
  // Every tie pattern (low 16 bits exactly 0x8000) and its neighbours, for
  // all BF16 values.
  for (uint32_t hi = 0; hi < 0x10000; ++hi)
    for (uint32_t lo : {0x7FFFu, 0x8000u, 0x8001u})
      ASSERT_TRUE(bf16MatchesAPFloat(fromBits((hi << 16) | lo)));
}

TEST(BF16, RoundToNearestEvenCases) {
  // BF16 has 7 mantissa bits: around 1.0 the ulp is 2^-7.
  EXPECT_EQ(floatToBF16(1.0f), 0x3F80);
  EXPECT_EQ(floatToBF16(1.0f + std::ldexp(1.0f, -8)), 0x3F80); // tie -> even
  EXPECT_EQ(floatToBF16(1.0f + std::ldexp(3.0f, -8)), 0x3F82); // tie -> even
  EXPECT_EQ(floatToBF16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)),
            0x3F81);
  EXPECT_EQ(floatToBF16(-(1.0f + std::ldexp(1.0f, -8))), 0xBF80);
  EXPECT_EQ(floatToBF16(std::numeric_limits<float>::max()), 0x7F80); // Inf
  EXPECT_EQ(floatToBF16(INFINITY), 0x7F80);
  EXPECT_EQ(floatToBF16(-0.0f), 0x8000);
  EXPECT_TRUE(std::isnan(bf16ToFloat(floatToBF16(NAN))));
  // A NaN whose payload sits only in the low 16 bits must stay NaN.
  EXPECT_TRUE(std::isnan(bf16ToFloat(floatToBF16(fromBits(0x7F800001u)))));
  EXPECT_EQ(bf16ToFloat(0x3FC0), 1.5f);
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const float x = bf16ToFloat(static_cast<uint16_t>(b));
    if (!std::isnan(x)) {
      ASSERT_EQ(floatToBF16(x), b); // exact roundtrip of every BF16
    }
  }
}

} // namespace
