//===- FrameModel.cpp - model of the P frame of tiled QAT attention ------===//
//
// Simulates how a tiled forward quantizes P~ (per key tile, in the running
// frame) versus how the backward quantizes it (final frame), and counts the P
// blocks whose values differ. See Attention.h ("The P-frame model").
//
//===----------------------------------------------------------------------===//

#include "attnqat/Reference/Attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

using namespace attnqat;
using namespace attnqat::reference;
namespace nx = attnqat::numerics;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
/// Relative tolerance where the re-expression is not an exact power of two.
const double kRelTol = std::ldexp(1.0, -20);
/// The smallest normal E4M3 value.
constexpr float kMinNormalE4M3 = 0.015625f;

double validMax(const double *s, int64_t n) {
  double mx = -kInf;
  for (int64_t j = 0; j < n; ++j)
    if (!std::isnan(s[j]))
      mx = std::max(mx, s[j]);
  return mx;
}

/// P~ of score x in frame `frame` for the chosen design.
float pInFrame(double x, double frame, bool integerMax) {
  if (integerMax)
    return pTildeInFrame(x, frame);
  if (x == -kInf)
    return 0.0f;
  return static_cast<float>(std::exp2(x - frame));
}

bool sameValue(double fwd, double bwd, bool exact) {
  if (exact)
    return fwd == bwd; // NaN never matches
  if (fwd == bwd)
    return true;
  return std::fabs(fwd - bwd) <= kRelTol * std::max(std::fabs(fwd), std::fabs(bwd));
}

} // namespace

FrameMismatch reference::pFrameMismatch(const double *s, int64_t rows,
                                        int64_t n,
                                        const FrameModelOptions &opt,
                                        Status *status) {
  FrameMismatch res;
  const int bs = nx::blockSize(opt.pFormat);
  const int64_t T = opt.tileSize;
  if (T <= 0 || T % bs != 0 || rows < 0 || n < 0 || (!s && rows * n > 0)) {
    if (status) {
      std::ostringstream err;
      err << "pFrameMismatch: tile size " << T
          << " must be a positive multiple of P's block size " << bs
          << " (and rows, n >= 0, s non-null)";
      *status = Status::error(err.str());
    }
    return res;
  }
  if (status)
    *status = Status::success();
  const float g = (opt.pFormat == Format::NVFP4 && opt.twoLevel)
                      ? nx::kTwoLevelPGlobalScale
                      : 1.0f;
  const bool exact = opt.integerMax && !opt.backwardNormalized;

  std::vector<float> bwdIn(n), bwdDec(n), fwdIn(n), fwdDec(n);
  for (int64_t r = 0; r < rows; ++r) {
    const double *sr = s + r * n;
    double smax = validMax(sr, n);
    if (smax == -kInf)
      continue; // fully masked row: excluded
    const double m = opt.integerMax ? std::ceil(smax) : smax;

    // Backward: final frame (or the normalized P).
    double l = 0.0;
    for (int64_t j = 0; j < n; ++j) {
      bwdIn[j] = pInFrame(sr[j], m, opt.integerMax);
      l += bwdIn[j];
    }
    if (opt.backwardNormalized)
      for (int64_t j = 0; j < n; ++j)
        bwdIn[j] = static_cast<float>(static_cast<double>(bwdIn[j]) / l);
    fakeQuantRow(opt.pFormat, bwdIn.data(), n, g, bwdDec.data());

    // Forward: running frame per tile.
    double running = -kInf;
    for (int64_t t0 = 0; t0 < n; t0 += T) {
      const int64_t len = std::min(T, n - t0);
      running = std::max(running, validMax(sr + t0, len));
      if (running == -kInf)
        continue; // no valid key so far: every block here is fully masked
      const double mt = opt.integerMax ? std::ceil(running) : running;
      for (int64_t j = t0; j < t0 + len; ++j)
        fwdIn[j] = pInFrame(sr[j], mt, opt.integerMax);
      fakeQuantRow(opt.pFormat, fwdIn.data() + t0, len, g, fwdDec.data() + t0);
      // Factor that re-expresses forward values in the backward's frame.
      const double factor =
          (opt.integerMax ? std::ldexp(1.0, static_cast<int>(mt - m))
                          : std::exp2(mt - m)) /
          (opt.backwardNormalized ? l : 1.0);
      for (int64_t b0 = t0; b0 < t0 + len; b0 += bs) {
        const int64_t bend = std::min<int64_t>(b0 + bs, n);
        bool anyValid = false;
        for (int64_t j = b0; j < bend; ++j)
          anyValid |= sr[j] != -kInf;
        if (!anyValid)
          continue; // fully masked block: excluded
        ++res.total;
        bool differs = false;
        for (int64_t j = b0; j < bend && !differs; ++j)
          differs = !sameValue(static_cast<double>(fwdDec[j]) * factor,
                               static_cast<double>(bwdDec[j]), exact);
        if (!differs)
          continue;
        ++res.mismatching;
        if (opt.pFormat == Format::NVFP4) {
          // The final-frame scale before E4M3 rounding, computed as the codec
          // does; subnormal range: below 2^-6 (it may round up to 2^-6).
          float amax = 0.0f;
          for (int64_t j = b0; j < bend; ++j)
            amax = std::max(amax, std::fabs(bwdIn[j]));
          if ((amax / 6.0f) / g < kMinNormalE4M3)
            ++res.subnormalScale;
        }
      }
    }
  }
  return res;
}

FrameMismatch reference::pFrameMismatch(const Problem &problem,
                                        const Config &config, int64_t tileSize,
                                        bool integerMax,
                                        bool backwardNormalized,
                                        Status *status) {
  std::vector<double> s;
  Status st = computeScores(problem, config, s);
  if (!st) {
    if (status)
      *status = st;
    return {};
  }
  FrameModelOptions opt;
  opt.tileSize = tileSize;
  opt.pFormat = config.pFormat;
  opt.twoLevel = config.pTwoLevel;
  opt.integerMax = integerMax;
  opt.backwardNormalized = backwardNormalized;
  return pFrameMismatch(s.data(), problem.rows(), problem.N, opt, status);
}
