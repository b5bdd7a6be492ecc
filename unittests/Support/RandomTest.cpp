//===- RandomTest.cpp - Seeded tensor generators --------------------------===//

#include "attnqat/Support/Npy.h"

#include "gtest/gtest.h"

#include <cmath>
#include <vector>

using namespace mlir::attnqat;

namespace {

TEST(Rng, GoldenSequence) {
  // xoshiro256** seeded with splitmix64, computed by an independent Python
  // model: pins the stream so results are identical on every platform.
  Rng a(0);
  EXPECT_EQ(a.nextU64(), 0x99ec5f36cb75f2b4ull);
  EXPECT_EQ(a.nextU64(), 0xbf6e1f784956452aull);
  EXPECT_EQ(a.nextU64(), 0x1a5f849d4933e6e0ull);
  Rng b(42);
  EXPECT_EQ(b.nextU64(), 0x15780b2e0c2ec716ull);
  EXPECT_EQ(b.nextU64(), 0x6104d9866d113a7eull);
  EXPECT_EQ(b.nextU64(), 0xae17533239e499a1ull);
  Rng c(7);
  EXPECT_NEAR(c.nextNormal(), -0.2790239910251981, 1e-15);
  EXPECT_NEAR(c.nextNormal(), 1.5277231859624536, 1e-15);
}

TEST(Rng, RangesAndBelow) {
  Rng r(1);
  for (int i = 0; i < 100000; ++i) {
    double d = r.nextDouble();
    ASSERT_GE(d, 0.0);
    ASSERT_LT(d, 1.0);
    ASSERT_LT(r.nextBelow(7), 7u);
  }
  std::vector<int> counts(5, 0);
  for (int i = 0; i < 50000; ++i)
    ++counts[r.nextBelow(5)];
  for (int c : counts)
    EXPECT_NEAR(c, 10000, 500);
  EXPECT_NE(deriveSeed(1, 0), deriveSeed(1, 1));
  EXPECT_NE(deriveSeed(1, 0), deriveSeed(2, 0));
  EXPECT_EQ(deriveSeed(9, 3), deriveSeed(9, 3));
}

TEST(Generate, Deterministic) {
  std::vector<double> a, b, c;
  RandomSpec spec = RandomSpec::normal(0.5, 2.0).withOutliers(0.01, 10.0);
  ASSERT_TRUE(generateRandom(spec, 1000, 123, a).ok());
  ASSERT_TRUE(generateRandom(spec, 1000, 123, b).ok());
  ASSERT_TRUE(generateRandom(spec, 1000, 124, c).ok());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // A prefix does not depend on the count (without outliers).
  std::vector<double> shortRun, longRun;
  ASSERT_TRUE(
      generateRandom(RandomSpec::uniform(-1, 1), 10, 5, shortRun).ok());
  ASSERT_TRUE(
      generateRandom(RandomSpec::uniform(-1, 1), 100, 5, longRun).ok());
  for (size_t i = 0; i < shortRun.size(); ++i)
    EXPECT_EQ(shortRun[i], longRun[i]);
}

struct Moments {
  double mean = 0, var = 0, skew = 0, kurt = 0;
};
Moments moments(const std::vector<double> &v) {
  Moments m;
  double n = static_cast<double>(v.size());
  for (double x : v)
    m.mean += x;
  m.mean /= n;
  double m2 = 0, m3 = 0, m4 = 0;
  for (double x : v) {
    double d = x - m.mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  m.var = m2;
  m.skew = m3 / std::pow(m2, 1.5);
  m.kurt = m4 / (m2 * m2);
  return m;
}

TEST(Generate, NormalStatistics) {
  const int64_t n = 400000;
  std::vector<double> v;
  ASSERT_TRUE(generateRandom(RandomSpec::normal(3.0, 2.0), n, 99, v).ok());
  Moments m = moments(v);
  // Standard errors: mean 2/sqrt(n) = 0.0032, var ~ 4*sqrt(2/n) = 0.009.
  EXPECT_NEAR(m.mean, 3.0, 0.016);
  EXPECT_NEAR(m.var, 4.0, 0.05);
  EXPECT_NEAR(m.skew, 0.0, 0.02);
  EXPECT_NEAR(m.kurt, 3.0, 0.04);
  int64_t within1 = 0, within2 = 0;
  for (double x : v) {
    within1 += std::fabs(x - 3.0) < 2.0;
    within2 += std::fabs(x - 3.0) < 4.0;
  }
  EXPECT_NEAR(static_cast<double>(within1) / n, 0.682689, 0.004);
  EXPECT_NEAR(static_cast<double>(within2) / n, 0.954500, 0.002);
}

TEST(Generate, UniformStatistics) {
  const int64_t n = 400000;
  std::vector<double> v;
  ASSERT_TRUE(generateRandom(RandomSpec::uniform(-2.0, 6.0), n, 7, v).ok());
  for (double x : v) {
    ASSERT_GE(x, -2.0);
    ASSERT_LT(x, 6.0);
  }
  Moments m = moments(v);
  EXPECT_NEAR(m.mean, 2.0, 0.02);
  EXPECT_NEAR(m.var, 64.0 / 12.0, 0.03);
  EXPECT_NEAR(m.skew, 0.0, 0.02);
  EXPECT_NEAR(m.kurt, 1.8, 0.02);
  std::vector<int> bins(8, 0);
  for (double x : v)
    ++bins[static_cast<int>(x + 2.0)];
  for (int b : bins)
    EXPECT_NEAR(b, n / 8, 900);
}

TEST(Generate, OutliersAreExactAndIndependent) {
  const int64_t n = 10000;
  RandomSpec base = RandomSpec::normal(0.0, 1.0);
  RandomSpec heavy = base;
  heavy.withOutliers(0.0123, 10.0);
  EXPECT_EQ(numOutliers(heavy, n), 123);
  std::vector<double> a, b;
  ASSERT_TRUE(generateRandom(base, n, 5, a).ok());
  ASSERT_TRUE(generateRandom(heavy, n, 5, b).ok());
  int64_t scaled = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (a[i] == b[i])
      continue;
    EXPECT_DOUBLE_EQ(b[i], 10.0 * a[i]);
    ++scaled;
  }
  EXPECT_EQ(scaled, 123);
  // Heavier tail: the fourth moment grows.
  EXPECT_GT(moments(b).kurt, 3.5);

  RandomSpec all = base;
  all.withOutliers(1.0, -1.0);
  ASSERT_TRUE(generateRandom(all, 100, 5, b).ok());
  ASSERT_TRUE(generateRandom(base, 100, 5, a).ok());
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(b[i], -a[i]);
  EXPECT_EQ(numOutliers(heavy, 0), 0);
  EXPECT_EQ(numOutliers(RandomSpec().withOutliers(0.5, 2), 3), 2);
}

TEST(Generate, InvalidSpecs) {
  std::vector<double> v;
  EXPECT_FALSE(generateRandom(RandomSpec::normal(0, -1), 4, 0, v).ok());
  EXPECT_FALSE(generateRandom(RandomSpec::uniform(2, 1), 4, 0, v).ok());
  EXPECT_FALSE(
      generateRandom(RandomSpec::normal(0, 1).withOutliers(1.5, 2), 4, 0, v)
          .ok());
  EXPECT_FALSE(generateRandom(RandomSpec::normal(NAN, 1), 4, 0, v).ok());
  Status s = generateRandom(RandomSpec::uniform(2, 1), 4, 0, v);
  EXPECT_NE(s.message().find("lo"), std::string::npos);
  EXPECT_TRUE(generateRandom(RandomSpec::uniform(1, 1), 4, 0, v).ok());
  for (double x : v)
    EXPECT_EQ(x, 1.0);
}

} // namespace
