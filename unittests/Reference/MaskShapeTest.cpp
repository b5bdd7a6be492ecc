//===- MaskShapeTest.cpp - masks, GQA and odd shapes in the reference ----===//

#include "TestUtil.h"

#include "attnqat/Reference/Attention.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace attnqat;
using namespace attnqat::reference;
using namespace attnqat::reference::testing;

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

Config modeConfig(Mode mode, Format f = Format::NVFP4) {
  Config c = Config::qat(f);
  c.mode = mode;
  return c;
}

const Mode kTrainModes[] = {Mode::None, Mode::QAT, Mode::DropIn};

struct RunResult {
  ForwardResult f;
  BackwardResult g;
};

RunResult runBoth(const TestProblem &tp, const Config &c,
            const std::vector<float> &dO) {
  RunResult r;
  Status st = forward(tp.get(), c, r.f);
  EXPECT_TRUE(st.ok) << st.message;
  if (c.mode != Mode::FP4) {
    st = backward(tp.get(), c, r.f, dO.data(), r.g);
    EXPECT_TRUE(st.ok) << st.message;
  }
  return r;
}

void expectSameRun(const RunResult &a, const RunResult &b, const char *what) {
  EXPECT_EQ(a.f.o, b.f.o) << what;
  EXPECT_EQ(a.f.oPrime, b.f.oPrime) << what;
  EXPECT_EQ(a.f.lse, b.f.lse) << what;
  EXPECT_EQ(a.g.dq, b.g.dq) << what;
  EXPECT_EQ(a.g.dk, b.g.dk) << what;
  EXPECT_EQ(a.g.dv, b.g.dv) << what;
}

void expectRowSumZero(const BackwardResult &g) {
  for (size_t r = 0; r < g.dsRowSum.size(); ++r)
    EXPECT_LE(std::fabs(g.dsRowSum[r]), 1e-9 * g.dsAbsRowSum[r]) << "row " << r;
}

void checkNoneAgainstFiniteDifferences(TestProblem &tp) {
  std::vector<float> dO = randomVector(tp.q.size(), 777);
  BackwardResult g;
  ASSERT_TRUE(backward(tp.get(), Config::none(), dO.data(), g));
  auto check = [&](std::vector<float> &x, const std::vector<double> &an,
                   const char *name) {
    std::vector<double> fd = finiteDifferences(tp, x, Config::none(), dO);
    for (size_t e = 0; e < fd.size(); ++e)
      ASSERT_NEAR(an[e], fd[e], 2e-6 + 1e-5 * std::fabs(fd[e]))
          << name << "[" << e << "] M=" << tp.M << " N=" << tp.N;
  };
  check(tp.q, g.dq, "dq");
  check(tp.k, g.dk, "dk");
  check(tp.v, g.dv, "dv");
}

} // namespace

TEST(ReferenceShapes, GQAEqualsRepeatedKV) {
  for (int64_t Hkv : {2, 1}) {
    TestProblem gqa(2, 4, Hkv, 5, 19, 16, /*seed=*/21);
    const int64_t group = gqa.Hq / Hkv, N = gqa.N, D = gqa.D;
    TestProblem mha(2, 4, 4, 5, 19, 16, /*seed=*/21);
    mha.q = gqa.q;
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t h = 0; h < 4; ++h)
        for (int64_t e = 0; e < N * D; ++e) {
          int64_t src = (b * Hkv + h / group) * N * D + e;
          int64_t dst = (b * 4 + h) * N * D + e;
          mha.k[dst] = gqa.k[src];
          mha.v[dst] = gqa.v[src];
        }
    std::vector<float> dO = randomVector(gqa.q.size(), 22);
    for (Mode mode : kTrainModes) {
      Config c = modeConfig(mode);
      RunResult a = runBoth(gqa, c, dO), b = runBoth(mha, c, dO);
      EXPECT_EQ(a.f.o, b.f.o) << modeName(mode);
      EXPECT_EQ(a.f.lse, b.f.lse);
      EXPECT_EQ(a.g.dq, b.g.dq);
      // dK, dV: summed over the query heads sharing a KV head.
      std::vector<double> dk(gqa.k.size(), 0.0), dv(gqa.v.size(), 0.0);
      for (int64_t bb = 0; bb < 2; ++bb)
        for (int64_t h = 0; h < 4; ++h)
          for (int64_t e = 0; e < N * D; ++e) {
            dk[(bb * Hkv + h / group) * N * D + e] +=
                b.g.dk[(bb * 4 + h) * N * D + e];
            dv[(bb * Hkv + h / group) * N * D + e] +=
                b.g.dv[(bb * 4 + h) * N * D + e];
          }
      EXPECT_LT(maxAbsDiff(a.g.dk, dk), 1e-12 * maxAbs(dk)) << modeName(mode);
      EXPECT_LT(maxAbsDiff(a.g.dv, dv), 1e-12 * maxAbs(dv)) << modeName(mode);
      if (mode == Mode::QAT)
        expectRowSumZero(a.g);
    }
  }
}

TEST(ReferenceShapes, CausalIsTopLeftAligned) {
  for (auto [M, N] : {std::pair<int64_t, int64_t>{6, 6}, {5, 9}, {9, 5}}) {
    TestProblem tp(1, 2, 1, M, N, 16, /*seed=*/23);
    tp.causal = true;
    // Mode None against the direct softmax with j <= i.
    ForwardResult f;
    ASSERT_TRUE(forward(tp.get(), Config::none(), f));
    std::vector<double> o, lse;
    directSoftmaxAttention(
        tp, tp.q.data(), tp.k.data(), tp.v.data(),
        [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; },
        [](int64_t, int64_t, int64_t, int64_t) { return 0.0; }, o, lse);
    EXPECT_LT(maxAbsDiff(f.o, o), 1e-13);
    // All modes: causal == an additive -inf mask above the diagonal.
    TestProblem tm = tp;
    tm.causal = false;
    tm.mask.assign(M * N, 0.0f);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = i + 1; j < N; ++j)
        tm.mask[i * N + j] = kNegInf;
    std::vector<float> dO = randomVector(tp.q.size(), 24);
    for (Mode mode : kTrainModes) {
      RunResult a = runBoth(tp, modeConfig(mode), dO);
      RunResult b = runBoth(tm, modeConfig(mode), dO);
      expectSameRun(a, b, modeName(mode));
      EXPECT_TRUE(allFinite(a.g.dq) && allFinite(a.g.dk) && allFinite(a.g.dv));
      if (mode == Mode::QAT)
        expectRowSumZero(a.g);
    }
    checkNoneAgainstFiniteDifferences(tp);
  }
}

TEST(ReferenceShapes, KeyLengths) {
  TestProblem tp(3, 2, 2, 4, 21, 16, /*seed=*/25);
  tp.lens = {21, 5, 1};
  TestProblem tm = tp;
  tm.lens.clear();
  tm.maskB = 3;
  tm.mask.assign(3 * 4 * 21, 0.0f);
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = tp.lens[b]; j < 21; ++j)
        tm.mask[(b * 4 + i) * 21 + j] = kNegInf;
  std::vector<float> dO = randomVector(tp.q.size(), 26);
  for (Mode mode : kTrainModes) {
    // NVFP4: V's 16-key blocks keep keys >= 16 apart from keys < 16.
    Config c = modeConfig(mode, Format::NVFP4);
    RunResult a = runBoth(tp, c, dO), b = runBoth(tm, c, dO);
    expectSameRun(a, b, modeName(mode));
    // Masked keys get no gradient and do not influence the output.
    for (int64_t bb = 0; bb < 3; ++bb)
      for (int64_t h = 0; h < 2; ++h)
        for (int64_t j = tp.lens[bb]; j < 21; ++j)
          for (int64_t d = 0; d < 16; ++d) {
            int64_t e = ((bb * 2 + h) * 21 + j) * 16 + d;
            EXPECT_EQ(a.g.dk[e], 0.0);
            EXPECT_EQ(a.g.dv[e], 0.0);
          }
    TestProblem tp2 = tp;
    for (int64_t bb = 1; bb < 3; ++bb)
      for (int64_t h = 0; h < 2; ++h)
        // Keys >= 16 share no V block with valid keys of batch 1 (len 5)
        // or batch 2 (len 1): perturbing them must not change anything.
        for (int64_t j = 16; j < 21; ++j)
          for (int64_t d = 0; d < 16; ++d) {
            int64_t e = ((bb * 2 + h) * 21 + j) * 16 + d;
            tp2.k[e] += 3.0f;
            tp2.v[e] -= 2.0f;
          }
    if (mode == Mode::None) {
      // Unquantized: any masked key may be perturbed.
      for (int64_t h = 0; h < 2; ++h)
        for (int64_t j = 5; j < 16; ++j)
          tp2.v[((1 * 2 + h) * 21 + j) * 16] += 1.0f;
    }
    RunResult c2 = runBoth(tp2, c, dO);
    EXPECT_EQ(c2.f.o, a.f.o) << modeName(mode);
    EXPECT_EQ(c2.g.dq, a.g.dq) << modeName(mode);
  }
}

TEST(ReferenceShapes, AdditiveMaskBroadcast) {
  const int64_t B = 2, Hq = 2, M = 5, N = 18;
  TestProblem base(B, Hq, 1, M, N, 16, /*seed=*/27);
  std::vector<float> dO = randomVector(base.q.size(), 28);
  for (auto [mB, mH] : {std::pair<int64_t, int64_t>{1, 1}, {B, 1}, {1, Hq},
                        {B, Hq}}) {
    TestProblem tp = base;
    tp.maskB = mB;
    tp.maskH = mH;
    tp.mask = randomVector(mB * mH * M * N, 29 + mB * 10 + mH, 2.0);
    tp.mask[3] = kNegInf; // one masked key
    TestProblem full = base;
    full.maskB = B;
    full.maskH = Hq;
    full.mask.resize(B * Hq * M * N);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < Hq; ++h)
        for (int64_t e = 0; e < M * N; ++e)
          full.mask[(b * Hq + h) * M * N + e] =
              tp.mask[((mB == 1 ? 0 : b) * mH + (mH == 1 ? 0 : h)) * M * N + e];
    for (Mode mode : kTrainModes) {
      RunResult a = runBoth(tp, modeConfig(mode), dO);
      RunResult b = runBoth(full, modeConfig(mode), dO);
      expectSameRun(a, b, modeName(mode));
    }
    ForwardResult f;
    ASSERT_TRUE(forward(tp.get(), Config::none(), f));
    std::vector<double> o, lse;
    directSoftmaxAttention(
        tp, tp.q.data(), tp.k.data(), tp.v.data(),
        [](int64_t, int64_t, int64_t, int64_t) { return true; },
        [&](int64_t b, int64_t h, int64_t i, int64_t j) {
          return double(full.mask[((b * Hq + h) * M + i) * N + j]);
        },
        o, lse);
    EXPECT_LT(maxAbsDiff(f.o, o), 1e-13);
    for (size_t r = 0; r < lse.size(); ++r)
      EXPECT_NEAR(f.lse[r] * std::log(2.0), lse[r], 1e-12);
  }
  TestProblem small(1, 1, 1, 3, 5, 4, /*seed=*/30);
  small.mask = randomVector(15, 31, 2.0);
  checkNoneAgainstFiniteDifferences(small);
}

TEST(ReferenceShapes, CrossAttention) {
  for (auto [M, N] : {std::pair<int64_t, int64_t>{3, 11}, {11, 3}}) {
    TestProblem tp(1, 2, 2, M, N, 4, /*seed=*/32);
    ForwardResult f;
    ASSERT_TRUE(forward(tp.get(), Config::none(), f));
    std::vector<double> o, lse;
    directSoftmaxAttention(
        tp, tp.q.data(), tp.k.data(), tp.v.data(),
        [](int64_t, int64_t, int64_t, int64_t) { return true; },
        [](int64_t, int64_t, int64_t, int64_t) { return 0.0; }, o, lse);
    EXPECT_LT(maxAbsDiff(f.o, o), 1e-13);
    checkNoneAgainstFiniteDifferences(tp);
    TestProblem tq(1, 2, 2, M, N, 32, /*seed=*/33);
    std::vector<float> dO = randomVector(tq.q.size(), 34);
    RunResult r = runBoth(tq, modeConfig(Mode::QAT), dO);
    expectRowSumZero(r.g);
  }
}

TEST(ReferenceShapes, FullyMaskedRowIsZeroNotNaN) {
  const int64_t B = 2, H = 2, M = 4, N = 20, D = 16;
  TestProblem tp(B, H, 1, M, N, D, /*seed=*/35);
  tp.lens = {0, N}; // batch 0: every row fully masked
  tp.mask.assign(B * M * N, 0.0f);
  tp.maskB = B;
  for (int64_t j = 0; j < N; ++j)
    tp.mask[(1 * M + 2) * N + j] = kNegInf; // batch 1, row 2: fully masked
  std::vector<float> dO = randomVector(tp.q.size(), 36);
  for (Mode mode : {Mode::None, Mode::QAT, Mode::DropIn, Mode::FP4}) {
    Config c = modeConfig(mode);
    RunResult r = runBoth(tp, c, dO);
    EXPECT_TRUE(allFinite(r.f.o)) << modeName(mode);
    EXPECT_TRUE(allFinite(r.f.oPrime));
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < M; ++i) {
          const int64_t row = (b * H + h) * M + i;
          const bool masked = b == 0 || i == 2;
          if (!masked) {
            EXPECT_TRUE(std::isfinite(r.f.lse[row]));
            continue;
          }
          EXPECT_EQ(r.f.lse[row], -std::numeric_limits<double>::infinity());
          EXPECT_EQ(r.f.l[row], 0.0);
          for (int64_t d = 0; d < D; ++d) {
            EXPECT_EQ(r.f.o[row * D + d], 0.0);
            EXPECT_EQ(r.f.oPrime[row * D + d], 0.0);
            if (mode != Mode::FP4) {
              EXPECT_EQ(r.g.dq[row * D + d], 0.0);
            }
          }
          if (mode != Mode::FP4) {
            EXPECT_EQ(r.g.dsRowSum[row], 0.0);
            EXPECT_EQ(r.g.delta[row], 0.0);
          }
        }
    if (mode == Mode::FP4)
      continue;
    EXPECT_TRUE(allFinite(r.g.dq) && allFinite(r.g.dk) && allFinite(r.g.dv));
    for (int64_t e = 0; e < N * D; ++e) { // batch 0 K/V get no gradient
      EXPECT_EQ(r.g.dk[e], 0.0);
      EXPECT_EQ(r.g.dv[e], 0.0);
    }
    EXPECT_GT(maxAbs(r.g.dv), 0.0);
  }
}

TEST(ReferenceShapes, LengthsNotMultipleOfBlockSizes) {
  const int64_t lengths[] = {1, 15, 17, 37};
  for (int64_t M : lengths)
    for (int64_t N : lengths) {
      TestProblem tp(1, 2, 1, M, N, 20, /*seed=*/uint64_t(40 + M * 64 + N));
      if (M == N)
        tp.causal = true;
      std::vector<float> dO = randomVector(tp.q.size(), 41);
      // None: against the direct softmax.
      ForwardResult f;
      ASSERT_TRUE(forward(tp.get(), Config::none(), f));
      std::vector<double> o, lse;
      const bool causal = tp.causal;
      directSoftmaxAttention(
          tp, tp.q.data(), tp.k.data(), tp.v.data(),
          [&](int64_t, int64_t, int64_t i, int64_t j) {
            return !causal || j <= i;
          },
          [](int64_t, int64_t, int64_t, int64_t) { return 0.0; }, o, lse);
      EXPECT_LT(maxAbsDiff(f.o, o), 1e-13) << "M=" << M << " N=" << N;
      for (Format fmt : {Format::NVFP4, Format::MXFP4}) {
        for (Mode mode : {Mode::QAT, Mode::DropIn}) {
          RunResult r = runBoth(tp, modeConfig(mode, fmt), dO);
          EXPECT_TRUE(allFinite(r.f.o) && allFinite(r.f.lse) &&
                      allFinite(r.g.dq) && allFinite(r.g.dk) &&
                      allFinite(r.g.dv))
              << modeName(mode) << " M=" << M << " N=" << N;
          if (mode == Mode::QAT)
            expectRowSumZero(r.g);
        }
      }
    }
  // Finite differences on a few odd shapes (small D keeps it fast).
  for (auto [M, N] : {std::pair<int64_t, int64_t>{1, 1}, {15, 17}, {17, 1}}) {
    TestProblem tp(1, 1, 1, M, N, 3, /*seed=*/uint64_t(50 + M + N));
    checkNoneAgainstFiniteDifferences(tp);
  }
}
