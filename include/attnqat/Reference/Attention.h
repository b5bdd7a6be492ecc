//===- Attention.h - float64 reference attention (forward/backward) -*- C++ -*-===//
//
// The independent oracle for attnqat: a naive, untiled float64 implementation
// of FP4 QAT attention forward and backward in all four modes, and a model of
// the P frame logic of the tiled kernels. It shares NO code with the MLIR CPU
// lowering or the GPU kernels except the FP4 codec (attnqat/Numerics/FP4.h),
// and has no LLVM/MLIR dependency (it also runs on the GPU host).
//
// Normative source: shared/DESIGN.md section 1 ("Numerics", "The P frame").
//
//===----------------------------------------------------------------------===//
//
// Layouts (row-major, contiguous, float32 inputs):
//   Q    [B, Hq,  M, D]
//   K, V [B, Hkv, N, D]      Hq % Hkv == 0 (GQA/MQA): query head h uses KV
//                            head h / (Hq / Hkv).
//   mask (optional, additive, natural-log units like QK^T*scale)
//        [Bm, Hm, M, N]      Bm in {1, B}, Hm in {1, Hq} (broadcast).
//   keyLengths (optional) int32 [B]: keys j >= keyLengths[b] are masked.
//   causal: top-left aligned like PyTorch SDPA's is_causal: key j is allowed
//           for query i iff j <= i (also when M != N).
//   scale: softmax scale; the caller picks it (defaultScale(D) = 1/sqrt(D)).
//
// Quantization (mode QAT / DropIn / FP4):
//   Q^F, K^F = fake-quant (numerics codec, float32, global scale 1) with
//   blocks along D; V^F with blocks along the key axis (a block is 16 or 32
//   consecutive keys of one column d, starting at key 0; the tail block is
//   zero-padded). P is blocked along keys (blocks start at key 0), with global
//   scale g = kTwoLevelPGlobalScale for two-level NVFP4 P (the default) or
//   g = 1 for single-level; MXFP4 P always uses g = 1.
//
// Scores, in the log2 domain:
//   s_ij = ((Q^F_i . K^F_j) * scale + mask_ij) * log2(e)    (double)
//   masked keys (causal, key length, or mask == -inf) have s_ij = -inf.
//   In mode None, Q, K, V are used unquantized.
//
// Forward, modes QAT / DropIn / FP4 (all compute the same numbers; FP4 takes
// float inputs and quantizes them exactly like QAT, or, with
// Config::inputsPrequantized, uses them as already-decoded FP4 values):
//   m_i  = ceil(max_j s_ij) over valid keys (an integer, stored as double)
//   P~_ij = float32( exp2(s_ij - floor s_ij) * 2^(floor s_ij - m_i) )
//          (exp2 of the fraction in float64, the product rounded to float32;
//          frames then differ by exact powers of two)
//   P~^F = phi_P(P~) in key blocks (16 NVFP4 / 32 MXFP4) with P's global scale
//   l_i  = sum_j P~_ij                       (unquantized, float64 sum)
//   O_i  = sum_j P~^F_ij V^F_j / l_i
//   O'_i = sum_j P~_ij   V^F_j / l_i          (kept for the QAT backward)
//   LSE_i = m_i + log2(l_i)                   (LOG2 domain)
// By default P~ is quantized in the final frame m_i. With
// Config::forwardTileSize = T > 0 the forward instead quantizes each key tile
// of T keys in the tiled kernel's frame m_t = ceil(max of s over tiles 0..t)
// and re-expresses the decoded values in the final frame (exact, times
// 2^(m_t - m_i)): this reproduces a tiled kernel's O bit-for-bit in its
// quantization (the accumulation order still differs).
// Mode None: ordinary float64 softmax: m_i = max_j s_ij (not rounded),
//   P_ij = exp2(s_ij - m_i), l_i = sum P, O = O' = P V / l, LSE = m + log2 l.
// Fully masked row (no valid key): O = O' = 0, l = 0, m = LSE = -inf, and all
// its gradients are 0 (never NaN).
//
// Backward (STE: gradients pass through phi unchanged; results are dQ, dK, dV
// w.r.t. the float inputs; GQA: dK, dV summed over the query heads sharing a
// KV head):
//   QAT (matched, DESIGN rules 1 and 2):
//     D_i   = dO_i . O'_i
//     s recomputed from Q^F, K^F;  P_ij = P~_ij / l_i (P~ in the final frame)
//     P^F_ij = phi_P(P~_ij) / l_i  (the forward's quantization, final frame)
//     dV_j += sum_i P^F_ij dO_i
//     dP_ij = dO_i . V^F_j;  dS_ij = P_ij (dP_ij - D_i)
//     dQ_i += sum_j dS_ij K^F_j * scale;  dK_j += sum_i dS_ij Q^F_i * scale
//     => rowsum_j dS_ij = dO_i . O'_i - D_i = 0 up to rounding.
//   DropIn (ordinary FlashAttention backward on the quantized operands):
//     D_i = dO_i . O_i (O, not O');  dV_j += sum_i P_ij dO_i (P unquantized);
//     the rest as QAT  => rowsum dS_i = dO_i . (O'_i - O_i) != 0 in general.
//   None: the exact float64 softmax-attention gradient.
//   FP4: not defined: backward() returns an error Status.
// dS is w.r.t. the natural-log scores S = Q K^T scale + mask, so it is also
// the gradient of the additive mask (before broadcast reduction).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_REFERENCE_ATTENTION_H
#define ATTNQAT_REFERENCE_ATTENTION_H

#include "attnqat/Numerics/FP4.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace attnqat::reference {

using numerics::Format;

enum class Mode : uint8_t { None = 0, QAT = 1, DropIn = 2, FP4 = 3 };

const char *modeName(Mode mode);

struct Config {
  Mode mode = Mode::QAT;
  Format qFormat = Format::NVFP4;
  Format kFormat = Format::NVFP4;
  Format vFormat = Format::NVFP4;
  Format pFormat = Format::NVFP4;
  /// Two-level NVFP4 P (g = kTwoLevelPGlobalScale, default); false: g = 1.
  /// Ignored for MXFP4 P (always g = 1).
  bool pTwoLevel = true;
  /// 0 (default): the forward quantizes P~ in the final frame m_i.
  /// T > 0 (a multiple of P's block size): quantize each T-key tile in the
  /// tiled kernel's running integer frame (see the file comment). The
  /// backward always uses the final frame.
  int64_t forwardTileSize = 0;
  /// Inputs are already decoded FP4 values (e.g. mode FP4 from packed
  /// tensors): use them as Q^F, K^F, V^F without quantizing again.
  bool inputsPrequantized = false;

  /// The global scale of P's quantizer.
  float pGlobalScale() const;
  static Config none() {
    Config c;
    c.mode = Mode::None;
    return c;
  }
  static Config qat(Format f = Format::NVFP4, bool twoLevel = true) {
    Config c;
    c.mode = Mode::QAT;
    c.qFormat = c.kFormat = c.vFormat = c.pFormat = f;
    c.pTwoLevel = twoLevel;
    return c;
  }
};

/// One attention problem (see the file comment for layouts). Pointers are
/// borrowed; the caller keeps them alive.
struct Problem {
  int64_t B = 1, Hq = 1, Hkv = 1, M = 1, N = 1, D = 1;
  const float *q = nullptr;
  const float *k = nullptr;
  const float *v = nullptr;
  const float *mask = nullptr; ///< optional [maskB, maskH, M, N]
  int64_t maskB = 1, maskH = 1;
  const int32_t *keyLengths = nullptr; ///< optional [B]
  bool causal = false;
  /// Softmax scale; std::nullopt means defaultScale(D).
  std::optional<double> scale;

  double softmaxScale() const;
  int64_t qSize() const { return B * Hq * M * D; }
  int64_t kvSize() const { return B * Hkv * N * D; }
  int64_t rows() const { return B * Hq * M; }
};

double defaultScale(int64_t headDim);

/// Error reporting without exceptions or asserts.
struct Status {
  bool ok = true;
  std::string message;
  static Status success() { return {}; }
  static Status error(std::string msg) { return {false, std::move(msg)}; }
  explicit operator bool() const { return ok; }
};

/// Checks shapes, pointers and the config.
Status validate(const Problem &problem, const Config &config);

/// The operands the scores and outputs use: Q^F, K^F, V^F (modes
/// QAT/DropIn/FP4) or copies of Q, K, V (mode None). Row-major like the inputs.
struct Operands {
  std::vector<float> q, k, v;
};
Status prepareOperands(const Problem &problem, const Config &config,
                       Operands &out);

/// All scores s (log2 domain, -inf where masked), [B, Hq, M, N].
Status computeScores(const Problem &problem, const Config &config,
                     std::vector<double> &s);

struct ForwardResult {
  std::vector<double> o;      ///< [B,Hq,M,D]
  std::vector<double> oPrime; ///< [B,Hq,M,D]; equals o in mode None
  std::vector<double> lse;    ///< [B,Hq,M], log2 domain: m + log2(l)
  std::vector<double> m;      ///< [B,Hq,M], integer frame (None: exact max)
  std::vector<double> l;      ///< [B,Hq,M], sum of unquantized P~
  Operands operands;          ///< Q^F, K^F, V^F used (None: Q, K, V)
};

Status forward(const Problem &problem, const Config &config,
               ForwardResult &out);

struct BackwardOptions {
  bool wantDS = false; ///< also return dS [B,Hq,M,N]
};

struct BackwardResult {
  std::vector<double> dq;       ///< [B,Hq,M,D]
  std::vector<double> dk;       ///< [B,Hkv,N,D]
  std::vector<double> dv;       ///< [B,Hkv,N,D]
  std::vector<double> delta;    ///< D_i, [B,Hq,M]
  std::vector<double> dsRowSum; ///< sum_j dS_ij, [B,Hq,M]
  std::vector<double> dsAbsRowSum; ///< sum_j |dS_ij| (a scale for rowsum)
  std::vector<double> ds;       ///< [B,Hq,M,N] if wantDS (natural-log units)
};

/// dO: float [B,Hq,M,D]. `fwd` must come from forward() with the same problem
/// and config. Mode FP4 returns an error.
Status backward(const Problem &problem, const Config &config,
                const ForwardResult &fwd, const float *dO, BackwardResult &out,
                const BackwardOptions &options = {});
/// Convenience: runs forward() first.
Status backward(const Problem &problem, const Config &config, const float *dO,
                BackwardResult &out, const BackwardOptions &options = {});

//===-- The P-frame model -------------------------------------------------===//
//
// Simulates the tiled forward's quantization of P~ and the backward's, and
// counts the P blocks (per row, per key block) whose values differ.
//
// Recommended design (integerMax = true, backwardNormalized = false):
//   forward: tile t covers keys [t*T, (t+1)*T); m_t = ceil(max of s over
//   tiles 0..t); P~ = float32(exp2(s - floor s) * 2^(floor s - m_t));
//   quantized in key blocks in frame m_t. Backward: the same in the final
//   frame m = m_last. A block matches iff every forward decoded value times
//   2^(m_t - m) (exact) equals the backward's decoded value bit-exactly.
// Bad designs of DESIGN's table, for comparison:
//   (b) integerMax = false: float running max m_t = max s (not rounded),
//       P~ = float32(exp2(s - m_t)); the backward quantizes float32(exp2(s -
//       m)) with the same quantizer.
//   (a) backwardNormalized = true: the backward quantizes the normalized
//       P = float32(P~_final / l) directly (l = sum of the final-frame P~);
//       the forward uses the frame selected by integerMax (the public Attn-QAT
//       code: a float running max).
//   Where the re-expression is not an exact power of two ((a), (b)), values
//   are compared with a relative tolerance of 2^-20 (so identical codes and
//   scales still match despite the rounding of the re-expression).
// Counting: rows without any valid key and key blocks whose keys are all
// masked are EXCLUDED from `total` (they match trivially). `subnormalScale`
// counts mismatching blocks whose backward (final-frame) NVFP4 scale
// amax / 6 / g lies in E4M3's subnormal range (below 2^-6) before rounding
// (so it is rounded on the subnormal grid: to 0, a subnormal, or up to 2^-6);
// always 0 for MXFP4 (E8M0 has no subnormals). For the integer-frame designs
// every NVFP4 mismatch is of this kind: quantization commutes with the exact
// power-of-two frame change otherwise.
struct FrameModelOptions {
  int64_t tileSize = 128;
  Format pFormat = Format::NVFP4;
  bool twoLevel = true; ///< ignored for MXFP4 (g = 1)
  bool integerMax = true;
  bool backwardNormalized = false;
};

struct FrameMismatch {
  int64_t mismatching = 0;
  int64_t total = 0;
  int64_t subnormalScale = 0;
  double fraction() const {
    return total ? static_cast<double>(mismatching) / total : 0.0;
  }
  FrameMismatch &operator+=(const FrameMismatch &o) {
    mismatching += o.mismatching;
    total += o.total;
    subnormalScale += o.subnormalScale;
    return *this;
  }
};

/// s: double [rows, n], log2 domain, -inf for masked keys. tileSize must be a
/// positive multiple of blockSize(pFormat); otherwise `status` (if given) is
/// set to an error and an empty result is returned.
FrameMismatch pFrameMismatch(const double *s, int64_t rows, int64_t n,
                             const FrameModelOptions &options,
                             Status *status = nullptr);

/// Convenience: the scores of a full problem (computeScores with `config`),
/// with P's format and two-level setting taken from `config`.
FrameMismatch pFrameMismatch(const Problem &problem, const Config &config,
                             int64_t tileSize, bool integerMax = true,
                             bool backwardNormalized = false,
                             Status *status = nullptr);

//===-- Building blocks (exposed for tests and other oracles) --------------===//

/// P~ = float32(exp2(s - floor s) * 2^(floor s - frame)); 0 for s = -inf.
/// `frame` must be an integer (or -inf, giving 0).
float pTildeInFrame(double s, double frame);

/// Fake-quantizes n values x (a row of P~ along keys) in blocks of
/// blockSize(format) starting at x[0] (tail zero-padded) with global scale g.
/// Optionally returns the scale bytes (numBlocks(format, n) of them).
void fakeQuantRow(Format format, const float *x, int64_t n, float g,
                  float *out, uint8_t *scales = nullptr);

} // namespace attnqat::reference

#endif // ATTNQAT_REFERENCE_ATTENTION_H
