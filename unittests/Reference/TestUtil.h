//===- TestUtil.h - helpers for the reference attention tests ---*- C++ -*-===//

#ifndef ATTNQAT_UNITTESTS_REFERENCE_TESTUTIL_H
#define ATTNQAT_UNITTESTS_REFERENCE_TESTUTIL_H

#include "attnqat/Reference/Attention.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace attnqat::reference::testing {

/// A portable N(0, sigma) generator (Box-Muller on mt19937_64; the standard
/// library's normal_distribution differs between implementations), so that
/// the measured numbers are reproducible everywhere.
class PortableNormal {
public:
  explicit PortableNormal(uint64_t seed, double sigma = 1.0)
      : rng(seed), sigma(sigma) {}
  double operator()() {
    if (hasSpare) {
      hasSpare = false;
      return sigma * spare;
    }
    const double u1 = double((rng() >> 11) + 1) * 0x1p-53; // (0, 1]
    const double u2 = double(rng() >> 11) * 0x1p-53;       // [0, 1)
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double twoPi = 6.283185307179586476925286766559;
    spare = r * std::sin(twoPi * u2);
    hasSpare = true;
    return sigma * r * std::cos(twoPi * u2);
  }

private:
  std::mt19937_64 rng;
  double sigma;
  double spare = 0.0;
  bool hasSpare = false;
};

/// Owns the storage of a Problem.
struct TestProblem {
  int64_t B, Hq, Hkv, M, N, D;
  std::vector<float> q, k, v, mask;
  int64_t maskB = 1, maskH = 1;
  std::vector<int32_t> lens;
  bool causal = false;
  std::optional<double> scale;

  TestProblem(int64_t B, int64_t Hq, int64_t Hkv, int64_t M, int64_t N,
              int64_t D, uint64_t seed, double sigma = 1.0)
      : B(B), Hq(Hq), Hkv(Hkv), M(M), N(N), D(D) {
    PortableNormal nd(seed, sigma);
    q.resize(B * Hq * M * D);
    k.resize(B * Hkv * N * D);
    v.resize(B * Hkv * N * D);
    for (float &x : q)
      x = static_cast<float>(nd());
    for (float &x : k)
      x = static_cast<float>(nd());
    for (float &x : v)
      x = static_cast<float>(nd());
  }

  Problem get() const {
    Problem p;
    p.B = B;
    p.Hq = Hq;
    p.Hkv = Hkv;
    p.M = M;
    p.N = N;
    p.D = D;
    p.q = q.data();
    p.k = k.data();
    p.v = v.data();
    p.mask = mask.empty() ? nullptr : mask.data();
    p.maskB = maskB;
    p.maskH = maskH;
    p.keyLengths = lens.empty() ? nullptr : lens.data();
    p.causal = causal;
    p.scale = scale;
    return p;
  }
};

inline std::vector<float> randomVector(int64_t n, uint64_t seed,
                                       double sigma = 1.0) {
  PortableNormal nd(seed, sigma);
  std::vector<float> out(n);
  for (float &x : out)
    x = static_cast<float>(nd());
  return out;
}

/// An independent, direct softmax attention (natural exp, float64) on given
/// operands, with an explicit validity predicate and additive mask function.
/// Returns O [B,Hq,M,D] and the natural-log LSE [B,Hq,M] (-inf for a fully
/// masked row, whose O is 0).
template <typename Valid, typename MaskFn>
void directSoftmaxAttention(const TestProblem &tp, const float *q,
                            const float *k, const float *v, Valid valid,
                            MaskFn maskFn, std::vector<double> &o,
                            std::vector<double> &lseNat) {
  const double scale = tp.scale ? *tp.scale : 1.0 / std::sqrt(double(tp.D));
  o.assign(tp.B * tp.Hq * tp.M * tp.D, 0.0);
  lseNat.assign(tp.B * tp.Hq * tp.M,
                -std::numeric_limits<double>::infinity());
  const int64_t group = tp.Hq / tp.Hkv;
  for (int64_t b = 0; b < tp.B; ++b)
    for (int64_t h = 0; h < tp.Hq; ++h)
      for (int64_t i = 0; i < tp.M; ++i) {
        const int64_t r = (b * tp.Hq + h) * tp.M + i;
        const int64_t kh = h / group;
        std::vector<double> x(tp.N);
        std::vector<bool> ok(tp.N);
        double mx = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < tp.N; ++j) {
          ok[j] = valid(b, h, i, j);
          if (!ok[j])
            continue;
          double dot = 0;
          for (int64_t d = 0; d < tp.D; ++d)
            dot += double(q[r * tp.D + d]) *
                   double(k[((b * tp.Hkv + kh) * tp.N + j) * tp.D + d]);
          x[j] = dot * scale + maskFn(b, h, i, j);
          if (std::isinf(x[j]) && x[j] < 0)
            ok[j] = false;
          else
            mx = std::max(mx, x[j]);
        }
        if (mx == -std::numeric_limits<double>::infinity())
          continue;
        double sum = 0;
        for (int64_t j = 0; j < tp.N; ++j)
          if (ok[j])
            sum += std::exp(x[j] - mx);
        for (int64_t j = 0; j < tp.N; ++j) {
          if (!ok[j])
            continue;
          double pj = std::exp(x[j] - mx) / sum;
          for (int64_t d = 0; d < tp.D; ++d)
            o[r * tp.D + d] +=
                pj * double(v[((b * tp.Hkv + kh) * tp.N + j) * tp.D + d]);
        }
        lseNat[r] = mx + std::log(sum);
      }
}

inline double maxAbs(const std::vector<double> &x) {
  double m = 0;
  for (double e : x)
    m = std::max(m, std::fabs(e));
  return m;
}

inline double maxAbsDiff(const std::vector<double> &a,
                         const std::vector<double> &b) {
  double m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    m = std::max(m, std::fabs(a[i] - b[i]));
  return a.size() == b.size() ? m : std::numeric_limits<double>::infinity();
}

inline bool allFinite(const std::vector<double> &x) {
  for (double e : x)
    if (!std::isfinite(e))
      return false;
  return true;
}

/// L = sum O o dO with the reference forward (mode None by default).
inline double lossOf(const Problem &p, const Config &c,
                     const std::vector<float> &dO) {
  ForwardResult f;
  Status st = forward(p, c, f);
  if (!st)
    return std::numeric_limits<double>::quiet_NaN();
  double L = 0;
  for (size_t i = 0; i < f.o.size(); ++i)
    L += f.o[i] * double(dO[i]);
  return L;
}

/// Central finite differences of L w.r.t. every element of `x` (one of tp's
/// q/k/v vectors), using the exact float perturbation as the denominator.
inline std::vector<double> finiteDifferences(TestProblem &tp,
                                             std::vector<float> &x,
                                             const Config &c,
                                             const std::vector<float> &dO,
                                             double h = 1e-3) {
  std::vector<double> g(x.size());
  for (size_t e = 0; e < x.size(); ++e) {
    const float x0 = x[e];
    const float xp = static_cast<float>(double(x0) + h);
    const float xm = static_cast<float>(double(x0) - h);
    x[e] = xp;
    double Lp = lossOf(tp.get(), c, dO);
    x[e] = xm;
    double Lm = lossOf(tp.get(), c, dO);
    x[e] = x0;
    g[e] = (Lp - Lm) / (double(xp) - double(xm));
  }
  return g;
}

} // namespace attnqat::reference::testing

#endif
