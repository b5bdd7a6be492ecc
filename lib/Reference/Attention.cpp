//===- Attention.cpp - float64 reference attention -----------------------===//
//
// Naive, untiled float64 forward/backward of FP4 QAT attention. See
// include/attnqat/Reference/Attention.h for the semantics. Deliberately
// simple: one query row at a time, no tiling, no shared code with the
// compiler or the kernels except the FP4 codec.
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

constexpr double kLog2e = 1.44269504088896340735992468100189214;
constexpr double kInf = std::numeric_limits<double>::infinity();

bool isQuantizedMode(Mode mode) { return mode != Mode::None; }

/// Fake-quantizes `count` lines of length n (elements `stride` apart, line
/// starts given by `lineStart(idx)`) in blocks along the line.
template <typename LineStart>
void fakeQuantLines(Format format, const float *in, float *out, int64_t count,
                    int64_t n, ptrdiff_t stride, LineStart lineStart) {
  const int bs = nx::blockSize(format);
  std::vector<uint8_t> codes(bs);
  for (int64_t line = 0; line < count; ++line) {
    int64_t base = lineStart(line);
    for (int64_t b0 = 0; b0 < n; b0 += bs) {
      int64_t len = std::min<int64_t>(bs, n - b0);
      const float *x = in + base + b0 * stride;
      uint8_t scale =
          nx::quantizeBlock(format, x, stride, len, 1.0f, codes.data());
      for (int64_t e = 0; e < len; ++e)
        out[base + (b0 + e) * stride] =
            nx::dequantizeElement(format, codes[e], scale, 1.0f);
    }
  }
}

/// Scores of query row (b, h, i) against all N keys, log2 domain, -inf where
/// masked. Returns the number of valid keys.
int64_t scoreRow(const Problem &p, double scale, const Operands &ops,
                 int64_t b, int64_t h, int64_t i, double *s) {
  const int64_t group = p.Hq / p.Hkv;
  const int64_t kh = h / group;
  const float *qi = ops.q.data() + ((b * p.Hq + h) * p.M + i) * p.D;
  const float *kb = ops.k.data() + (b * p.Hkv + kh) * p.N * p.D;
  int64_t len = p.N;
  if (p.keyLengths)
    len = std::clamp<int64_t>(p.keyLengths[b], 0, p.N);
  const float *maskRow = nullptr;
  if (p.mask) {
    int64_t mb = p.maskB == 1 ? 0 : b;
    int64_t mh = p.maskH == 1 ? 0 : h;
    maskRow = p.mask + ((mb * p.maskH + mh) * p.M + i) * p.N;
  }
  int64_t valid = 0;
  for (int64_t j = 0; j < p.N; ++j) {
    if (j >= len || (p.causal && j > i)) {
      s[j] = -kInf;
      continue;
    }
    const float *kj = kb + j * p.D;
    double dot = 0.0;
    for (int64_t d = 0; d < p.D; ++d)
      dot += static_cast<double>(qi[d]) * static_cast<double>(kj[d]);
    double x = dot * scale;
    if (maskRow)
      x += static_cast<double>(maskRow[j]);
    s[j] = x * kLog2e;
    if (s[j] != -kInf)
      ++valid;
  }
  return valid;
}

/// Max over the entries that are not -inf; NaN if any entry is NaN; -inf if
/// none is valid.
double maskedMax(const double *s, int64_t n) {
  double mx = -kInf;
  for (int64_t j = 0; j < n; ++j) {
    if (std::isnan(s[j]))
      return std::numeric_limits<double>::quiet_NaN();
    mx = std::max(mx, s[j]);
  }
  return mx;
}

float pGlobalScaleFor(Format format, bool twoLevel) {
  return (format == Format::NVFP4 && twoLevel) ? nx::kTwoLevelPGlobalScale
                                               : 1.0f;
}

} // namespace

//===----------------------------------------------------------------------===//
// Small API pieces
//===----------------------------------------------------------------------===//

const char *reference::modeName(Mode mode) {
  switch (mode) {
  case Mode::None:
    return "none";
  case Mode::QAT:
    return "qat";
  case Mode::DropIn:
    return "dropin";
  case Mode::FP4:
    return "fp4";
  }
  return "?";
}

float Config::pGlobalScale() const {
  return pGlobalScaleFor(pFormat, pTwoLevel);
}

double reference::defaultScale(int64_t headDim) {
  return 1.0 / std::sqrt(static_cast<double>(headDim));
}

double Problem::softmaxScale() const {
  return scale ? *scale : defaultScale(D);
}

float reference::pTildeInFrame(double s, double frame) {
  if (std::isnan(s) || std::isnan(frame))
    return std::numeric_limits<float>::quiet_NaN();
  if (s == -kInf || frame == kInf)
    return 0.0f;
  if (frame == -kInf || s == kInf)
    return std::numeric_limits<float>::infinity();
  double fl = std::floor(s);
  double frac = s - fl; // exact
  double e = std::exp2(frac);
  double k = fl - frame;
  // ldexp saturates/underflows correctly; clamp k into int range first.
  k = std::clamp(k, -4000.0, 4000.0);
  return static_cast<float>(std::ldexp(e, static_cast<int>(k)));
}

void reference::fakeQuantRow(Format format, const float *x, int64_t n, float g,
                             float *out, uint8_t *scales) {
  const int bs = nx::blockSize(format);
  uint8_t codes[32];
  for (int64_t b0 = 0, blk = 0; b0 < n; b0 += bs, ++blk) {
    int64_t len = std::min<int64_t>(bs, n - b0);
    uint8_t scale = nx::quantizeBlock(format, x + b0, 1, len, g, codes);
    if (scales)
      scales[blk] = scale;
    for (int64_t e = 0; e < len; ++e)
      out[b0 + e] = nx::dequantizeElement(format, codes[e], scale, g);
  }
}

Status reference::validate(const Problem &p, const Config &c) {
  std::ostringstream err;
  if (p.B < 1 || p.Hq < 1 || p.Hkv < 1 || p.M < 1 || p.N < 1 || p.D < 1)
    err << "all of B, Hq, Hkv, M, N, D must be >= 1 (got B=" << p.B
        << " Hq=" << p.Hq << " Hkv=" << p.Hkv << " M=" << p.M << " N=" << p.N
        << " D=" << p.D << ")";
  else if (p.Hq % p.Hkv != 0)
    err << "Hq (" << p.Hq << ") must be a multiple of Hkv (" << p.Hkv << ")";
  else if (!p.q || !p.k || !p.v)
    err << "q, k and v must be non-null";
  else if (p.mask && !((p.maskB == 1 || p.maskB == p.B) &&
                       (p.maskH == 1 || p.maskH == p.Hq)))
    err << "mask batch/head extents must be 1 or B/Hq (got " << p.maskB << ", "
        << p.maskH << ")";
  else if (!std::isfinite(p.softmaxScale()))
    err << "softmax scale must be finite";
  else if (isQuantizedMode(c.mode) && c.forwardTileSize < 0)
    err << "forwardTileSize must be >= 0";
  else if (isQuantizedMode(c.mode) && c.forwardTileSize > 0 &&
           c.forwardTileSize % nx::blockSize(c.pFormat) != 0)
    err << "forwardTileSize (" << c.forwardTileSize
        << ") must be a multiple of P's block size ("
        << nx::blockSize(c.pFormat) << ")";
  std::string msg = err.str();
  return msg.empty() ? Status::success() : Status::error(msg);
}

Status reference::prepareOperands(const Problem &p, const Config &c,
                                  Operands &out) {
  if (Status st = validate(p, c); !st)
    return st;
  const int64_t qn = p.qSize(), kvn = p.kvSize();
  out.q.assign(p.q, p.q + qn);
  out.k.assign(p.k, p.k + kvn);
  out.v.assign(p.v, p.v + kvn);
  if (!isQuantizedMode(c.mode) || c.inputsPrequantized)
    return Status::success();
  const int64_t D = p.D, N = p.N;
  // Q, K: blocks along D (contiguous lines of D).
  fakeQuantLines(c.qFormat, p.q, out.q.data(), p.B * p.Hq * p.M, D, 1,
                 [&](int64_t line) { return line * D; });
  fakeQuantLines(c.kFormat, p.k, out.k.data(), p.B * p.Hkv * N, D, 1,
                 [&](int64_t line) { return line * D; });
  // V: blocks along keys: line = (b, kh, d), elements D apart.
  fakeQuantLines(c.vFormat, p.v, out.v.data(), p.B * p.Hkv * D, N, D,
                 [&](int64_t line) {
                   int64_t bh = line / D, d = line % D;
                   return bh * N * D + d;
                 });
  return Status::success();
}

Status reference::computeScores(const Problem &p, const Config &c,
                                std::vector<double> &s) {
  Operands ops;
  if (Status st = prepareOperands(p, c, ops); !st)
    return st;
  const double scale = p.softmaxScale();
  s.assign(p.rows() * p.N, 0.0);
  for (int64_t b = 0; b < p.B; ++b)
    for (int64_t h = 0; h < p.Hq; ++h)
      for (int64_t i = 0; i < p.M; ++i)
        scoreRow(p, scale, ops, b, h, i,
                 s.data() + ((b * p.Hq + h) * p.M + i) * p.N);
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Forward
//===----------------------------------------------------------------------===//

Status reference::forward(const Problem &p, const Config &c,
                          ForwardResult &out) {
  if (Status st = prepareOperands(p, c, out.operands); !st)
    return st;
  const Operands &ops = out.operands;
  const int64_t N = p.N, D = p.D, group = p.Hq / p.Hkv;
  const double scale = p.softmaxScale();
  const bool quant = isQuantizedMode(c.mode);
  const float g = c.pGlobalScale();
  const int64_t T = c.forwardTileSize;

  out.o.assign(p.qSize(), 0.0);
  out.oPrime.assign(p.qSize(), 0.0);
  out.lse.assign(p.rows(), -kInf);
  out.m.assign(p.rows(), -kInf);
  out.l.assign(p.rows(), 0.0);

  std::vector<double> s(N), pU(N), pQ(N);
  std::vector<float> pt(N), ptq(N);
  for (int64_t b = 0; b < p.B; ++b)
    for (int64_t h = 0; h < p.Hq; ++h) {
      const float *vb = ops.v.data() + (b * p.Hkv + h / group) * N * D;
      for (int64_t i = 0; i < p.M; ++i) {
        const int64_t r = (b * p.Hq + h) * p.M + i;
        int64_t valid = scoreRow(p, scale, ops, b, h, i, s.data());
        if (valid == 0)
          continue; // fully masked row: O = O' = 0, l = 0, m = LSE = -inf
        double smax = maskedMax(s.data(), N);
        double m;
        if (!quant) {
          m = smax;
          for (int64_t j = 0; j < N; ++j)
            pU[j] = pQ[j] = std::exp2(s[j] - m);
        } else {
          m = std::ceil(smax);
          for (int64_t j = 0; j < N; ++j) {
            pt[j] = pTildeInFrame(s[j], m);
            pU[j] = pt[j];
          }
          if (T == 0) {
            fakeQuantRow(c.pFormat, pt.data(), N, g, ptq.data());
            for (int64_t j = 0; j < N; ++j)
              pQ[j] = ptq[j];
          } else {
            // The tiled kernel's running integer frame m_t.
            double running = -kInf;
            for (int64_t t0 = 0; t0 < N; t0 += T) {
              int64_t len = std::min(T, N - t0);
              running = std::max(running, maskedMax(s.data() + t0, len));
              double mt = std::ceil(running);
              if (running == -kInf) {
                for (int64_t j = t0; j < t0 + len; ++j)
                  pQ[j] = 0.0;
                continue;
              }
              for (int64_t j = t0; j < t0 + len; ++j)
                pt[j] = pTildeInFrame(s[j], mt);
              fakeQuantRow(c.pFormat, pt.data() + t0, len, g,
                           ptq.data() + t0);
              for (int64_t j = t0; j < t0 + len; ++j)
                pQ[j] = std::ldexp(static_cast<double>(ptq[j]),
                                   static_cast<int>(mt - m));
            }
          }
        }
        double l = 0.0;
        for (int64_t j = 0; j < N; ++j)
          l += pU[j];
        double *o = out.o.data() + r * D;
        double *op = out.oPrime.data() + r * D;
        for (int64_t j = 0; j < N; ++j) {
          if (pU[j] == 0.0 && pQ[j] == 0.0)
            continue;
          const float *vj = vb + j * D;
          for (int64_t d = 0; d < D; ++d) {
            o[d] += pQ[j] * static_cast<double>(vj[d]);
            op[d] += pU[j] * static_cast<double>(vj[d]);
          }
        }
        for (int64_t d = 0; d < D; ++d) {
          o[d] /= l;
          op[d] /= l;
        }
        out.m[r] = m;
        out.l[r] = l;
        out.lse[r] = m + std::log2(l);
      }
    }
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Backward
//===----------------------------------------------------------------------===//

Status reference::backward(const Problem &p, const Config &c,
                           const ForwardResult &fwd, const float *dO,
                           BackwardResult &out,
                           const BackwardOptions &options) {
  if (Status st = validate(p, c); !st)
    return st;
  if (c.mode == Mode::FP4)
    return Status::error("the backward of mode fp4 (inference) is not defined");
  if (!dO)
    return Status::error("dO must be non-null");
  if (static_cast<int64_t>(fwd.o.size()) != p.qSize() ||
      static_cast<int64_t>(fwd.oPrime.size()) != p.qSize() ||
      static_cast<int64_t>(fwd.m.size()) != p.rows() ||
      static_cast<int64_t>(fwd.l.size()) != p.rows() ||
      static_cast<int64_t>(fwd.operands.q.size()) != p.qSize() ||
      static_cast<int64_t>(fwd.operands.k.size()) != p.kvSize() ||
      static_cast<int64_t>(fwd.operands.v.size()) != p.kvSize())
    return Status::error("forward result does not match the problem's shape");

  const Operands &ops = fwd.operands;
  const int64_t N = p.N, D = p.D, group = p.Hq / p.Hkv;
  const double scale = p.softmaxScale();
  const bool quant = isQuantizedMode(c.mode);
  const float g = c.pGlobalScale();

  out.dq.assign(p.qSize(), 0.0);
  out.dk.assign(p.kvSize(), 0.0);
  out.dv.assign(p.kvSize(), 0.0);
  out.delta.assign(p.rows(), 0.0);
  out.dsRowSum.assign(p.rows(), 0.0);
  out.dsAbsRowSum.assign(p.rows(), 0.0);
  out.ds.clear();
  if (options.wantDS)
    out.ds.assign(p.rows() * N, 0.0);

  std::vector<double> s(N), P(N), PF(N), dS(N);
  std::vector<float> pt(N), ptq(N);
  for (int64_t b = 0; b < p.B; ++b)
    for (int64_t h = 0; h < p.Hq; ++h) {
      const int64_t kvOff = (b * p.Hkv + h / group) * N * D;
      const float *kb = ops.k.data() + kvOff;
      const float *vb = ops.v.data() + kvOff;
      double *dkb = out.dk.data() + kvOff;
      double *dvb = out.dv.data() + kvOff;
      for (int64_t i = 0; i < p.M; ++i) {
        const int64_t r = (b * p.Hq + h) * p.M + i;
        const double m = fwd.m[r], l = fwd.l[r];
        // A fully masked row (l = 0) has all gradients 0; a NaN row (a NaN
        // input: its m and l are NaN) goes on and makes them NaN.
        if (scoreRow(p, scale, ops, b, h, i, s.data()) == 0 || l == 0.0)
          continue;
        const float *dOi = dO + r * D;
        const float *qi = ops.q.data() + r * D;
        // P (unquantized, normalized) and P^F (what multiplies dO for dV).
        if (!quant) {
          for (int64_t j = 0; j < N; ++j)
            P[j] = PF[j] = std::exp2(s[j] - m) / l;
        } else {
          for (int64_t j = 0; j < N; ++j) {
            pt[j] = pTildeInFrame(s[j], m);
            P[j] = static_cast<double>(pt[j]) / l;
          }
          if (c.mode == Mode::QAT) {
            fakeQuantRow(c.pFormat, pt.data(), N, g, ptq.data());
            for (int64_t j = 0; j < N; ++j)
              PF[j] = static_cast<double>(ptq[j]) / l;
          } else { // DropIn: P unquantized in dV
            PF = P;
          }
        }
        // D_i: from O' (QAT, rule 2) or O (DropIn; None where O == O').
        const double *oRow = (c.mode == Mode::QAT ? fwd.oPrime.data()
                                                  : fwd.o.data()) +
                             r * D;
        double delta = 0.0;
        for (int64_t d = 0; d < D; ++d)
          delta += static_cast<double>(dOi[d]) * oRow[d];
        out.delta[r] = delta;

        double rowSum = 0.0, absRowSum = 0.0;
        for (int64_t j = 0; j < N; ++j) {
          if (P[j] == 0.0 && PF[j] == 0.0) {
            dS[j] = 0.0;
            continue;
          }
          const float *vj = vb + j * D;
          double dP = 0.0;
          for (int64_t d = 0; d < D; ++d)
            dP += static_cast<double>(dOi[d]) * static_cast<double>(vj[d]);
          dS[j] = P[j] * (dP - delta);
          rowSum += dS[j];
          absRowSum += std::fabs(dS[j]);
          double *dvj = dvb + j * D;
          for (int64_t d = 0; d < D; ++d)
            dvj[d] += PF[j] * static_cast<double>(dOi[d]);
        }
        out.dsRowSum[r] = rowSum;
        out.dsAbsRowSum[r] = absRowSum;
        double *dqi = out.dq.data() + r * D;
        for (int64_t j = 0; j < N; ++j) {
          if (dS[j] == 0.0)
            continue;
          const float *kj = kb + j * D;
          double *dkj = dkb + j * D;
          for (int64_t d = 0; d < D; ++d) {
            dqi[d] += dS[j] * static_cast<double>(kj[d]) * scale;
            dkj[d] += dS[j] * static_cast<double>(qi[d]) * scale;
          }
        }
        if (options.wantDS)
          std::copy(dS.begin(), dS.end(), out.ds.begin() + r * N);
      }
    }
  return Status::success();
}

Status reference::backward(const Problem &p, const Config &c, const float *dO,
                           BackwardResult &out,
                           const BackwardOptions &options) {
  if (c.mode == Mode::FP4)
    return Status::error("the backward of mode fp4 (inference) is not defined");
  ForwardResult fwd;
  if (Status st = forward(p, c, fwd); !st)
    return st;
  return backward(p, c, fwd, dO, out, options);
}
