//===- FP4.cpp - FP4 (E2M1) block quantization codec ----------------------===//
//
// Implements the normative numerics of DESIGN.md §1 (see FP4.h for the API).
// Plain C++17 standard library only: no LLVM/MLIR dependency.
//
// All scalar codecs work on the IEEE-754 binary32 bit pattern with integer
// arithmetic only, so they do not depend on the host's floating-point rounding
// mode, on flush-to-zero, or on fast-math, and they translate one to one into
// MLIR arith ops or CUDA integer intrinsics. The float32 arithmetic that the
// spec prescribes (amax / 6 / g, x / (s * g), (code * s) * g) is written out
// literally in that order.
//
// Choices the header leaves open (documented here and in the lead's report):
//  * Signed zero: E2M1 and E4M3 keep the sign bit. -0.0 (and any negative
//    value that rounds to zero, e.g. -0.1 -> E2M1) encodes as sign|0 (0x8 for
//    E2M1, 0x80 for E4M3); it decodes to -0.0. This is what LLVM's APFloat
//    does, and it keeps encode(decode(c)) == c for all 16 codes. A NaN always
//    encodes with the sign bit clear (E2M1: 0x0, E4M3: 0x7F).
//  * Blocks whose scale is 0 (NVFP4 underflow) or NaN get all-zero (+0) codes.
//  * The global scale g is applied to MXFP4 too, consistently with the header's
//    formulas for codes and decode: scale = E8M0(2^(floor(log2(amax / g)) - 2)),
//    code = E2M1(x / (s * g)), decode = (code * s) * g. With the default g = 1
//    this is exactly the OCP MX scale rule.
//  * A global scale that is not finite and > 0 is invalid: the block scale is
//    NaN (so the block decodes to NaN rather than to finite garbage).
//  * Decoders ignore the unused high bits of an E2M1 code byte (bits 4-7).
//
//===----------------------------------------------------------------------===//

#include "attnqat/Numerics/FP4.h"

#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>

namespace attnqat::numerics {

namespace {

//===-- Bit helpers -------------------------------------------------------===//

uint32_t floatBits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

float bitsFloat(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

constexpr uint32_t kF32SignMask = 0x80000000u;
constexpr uint32_t kF32AbsMask = 0x7FFFFFFFu;
constexpr uint32_t kF32ExpMask = 0x7F800000u; // also the bits of +Inf
constexpr uint32_t kF32ManMask = 0x007FFFFFu;
constexpr int kF32ManBits = 23;
constexpr int kF32Bias = 127;

/// Right shift with round-to-nearest, ties-to-even (of the integer result).
/// `shift` may be anything >= 0; shifts >= 32 give 0 (v < 2^31 here).
uint32_t shiftRightRNE(uint32_t v, uint32_t shift) {
  if (shift == 0)
    return v;
  if (shift > 31)
    return 0; // v < 2^24 < 2^(shift-1): below half of one unit.
  uint32_t q = v >> shift;
  uint32_t rem = v & ((1u << shift) - 1u);
  uint32_t half = 1u << (shift - 1);
  // Round up if above half, or exactly half and q is odd (ties to even).
  q += (rem > half) | ((rem == half) & (q & 1u));
  return q;
}

/// Rounds a finite, non-negative float (given as its magnitude bits `a`,
/// a <= 0x7F800000; +Inf is fine too) to a sign-less minifloat with
/// `manBits` mantissa bits and exponent bias `bias`, with no Inf/NaN codes
/// and an unbounded exponent field, round to nearest even. Returns the
/// magnitude code (biasedExp << manBits | mantissa), where biasedExp == 0 is
/// the subnormal range. The code is NOT saturated: callers clamp it to their
/// largest finite code, which is exact saturation because rounding is
/// monotonic and the codes are ordered like the values they encode.
///
/// Derivation. Let E be the float's biased exponent (E = 0 for float
/// subnormals and zero) and M its 24-bit significand including the implicit
/// bit ((1 << 23) | man for E > 0, man for E == 0). Then |x| = M * 2^(Ee-150)
/// with Ee = max(E, 1).
///  * Normal target (E - 127 + bias >= 1): keep the top manBits mantissa
///    bits. Rounding the float's bit pattern in place, a + (half - 1) +
///    lsb, then shifting right by 23 - manBits is RNE, and a carry out of the
///    mantissa correctly increments the exponent. Rebiasing the exponent from
///    127 to `bias` is a subtraction of (127 - bias) << manBits.
///  * Subnormal target (E - 127 + bias < 1): the code is |x| divided by the
///    subnormal quantum 2^(1 - bias - manBits), rounded to nearest even:
///    M * 2^(Ee - 150 - 1 + bias + manBits), i.e. M shifted right by
///    151 - bias - manBits - Ee (always > 0 in this branch). A result of
///    1 << manBits is the smallest normal, which is the right code as well.
uint32_t roundToMinifloat(uint32_t a, int manBits, int bias) {
  const int32_t E = static_cast<int32_t>(a >> kF32ManBits);
  if (E - kF32Bias + bias >= 1) {
    const uint32_t drop = static_cast<uint32_t>(kF32ManBits - manBits);
    const uint32_t lsb = (a >> drop) & 1u;
    const uint32_t rounded = a + ((1u << (drop - 1)) - 1u) + lsb;
    return (rounded >> drop) -
           (static_cast<uint32_t>(kF32Bias - bias) << manBits);
  }
  const int32_t Ee = E > 1 ? E : 1;
  const uint32_t M = (a & kF32ManMask) | (E > 0 ? (1u << kF32ManBits) : 0u);
  const int32_t shift = 151 - bias - manBits - Ee;
  return shiftRightRNE(M, static_cast<uint32_t>(shift));
}

/// Decodes a sign-less minifloat magnitude code (no Inf/NaN handling) with
/// `manBits` mantissa bits and bias `bias` exactly into a float.
float decodeMinifloatMagnitude(uint32_t mag, int manBits, int bias) {
  const uint32_t exp = mag >> manBits;
  const uint32_t man = mag & ((1u << manBits) - 1u);
  if (exp == 0) {
    // Subnormal: man * 2^(1 - bias - manBits); both factors and the product
    // are exact in float32.
    const uint32_t quantumBits =
        static_cast<uint32_t>(1 - bias - manBits + kF32Bias) << kF32ManBits;
    return static_cast<float>(man) * bitsFloat(quantumBits);
  }
  // Normal: rebias the exponent, left-align the mantissa.
  return bitsFloat(((exp - static_cast<uint32_t>(bias) + kF32Bias)
                    << kF32ManBits) |
                   (man << (kF32ManBits - manBits)));
}

// E2M1 (f4E2M1FN): 1 mantissa bit, bias 1, largest code 0b111 = 6.0.
constexpr int kE2M1ManBits = 1;
constexpr int kE2M1Bias = 1;
constexpr uint32_t kE2M1MaxMag = 0x7;
constexpr uint8_t kE2M1SignBit = 0x8;

// E4M3 (f8E4M3FN): 3 mantissa bits, bias 7, largest finite 0x7E = 448,
// 0x7F is NaN.
constexpr int kE4M3ManBits = 3;
constexpr int kE4M3Bias = 7;
constexpr uint32_t kE4M3MaxMag = 0x7E;
constexpr uint8_t kE4M3SignBit = 0x80;

/// Leading zero bits of a nonzero 32-bit value (math.ctlz / __clz).
int32_t countLeadingZeros(uint32_t v) {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_clz(v);
#else
  int32_t n = 0;
  for (uint32_t bit = 1u << 31; !(v & bit); bit >>= 1)
    ++n;
  return n;
#endif
}

bool isFiniteBits(uint32_t u) { return (u & kF32ExpMask) != kF32ExpMask; }

bool isValidGlobalScale(float g) { return std::isfinite(g) && g > 0.0f; }

/// The E8M0 bits of 2^(floor(log2 v) - 2), clamped to [2^-127, 2^127], for a
/// finite v >= 0 (v == 0 gives 0, the smallest scale).
uint8_t mxScaleFromAmax(float v) {
  const uint32_t a = floatBits(v) & kF32AbsMask;
  if (a == 0)
    return 0;
  const int32_t E = static_cast<int32_t>(a >> kF32ManBits);
  int32_t floorLog2;
  if (E > 0) {
    floorLog2 = E - kF32Bias; // normal: the exponent is exactly floor(log2 v)
  } else {
    // Float subnormal: v = man * 2^-149, floor(log2 v) = msb(man) - 149
    // with msb = 31 - clz(man) (man != 0 here). (Only the clamp below sees
    // these: floor(log2 v) <= -127, so the scale is always 2^-127.)
    floorLog2 = (31 - countLeadingZeros(a & kF32ManMask)) - 149;
  }
  int32_t e = floorLog2 - 2; // the largest E2M1 value 6 = 1.5 * 2^2
  e = e < -127 ? -127 : (e > 127 ? 127 : e);
  return static_cast<uint8_t>(e + 127);
}

bool isScaleNaN(Format format, uint8_t bits) {
  if (format == Format::NVFP4)
    return (bits & 0x7F) == kE4M3NaN;
  return bits == kE8M0NaN;
}

} // namespace

//===-- Scalar codecs -----------------------------------------------------===//

uint8_t encodeE2M1(float x) {
  const uint32_t u = floatBits(x);
  const uint32_t a = u & kF32AbsMask;
  if (a > kF32ExpMask) // NaN: +0 (the block's NaN scale carries the NaN).
    return 0;
  const uint8_t sign = (u & kF32SignMask) ? kE2M1SignBit : 0;
  uint32_t mag = roundToMinifloat(a, kE2M1ManBits, kE2M1Bias);
  mag = mag > kE2M1MaxMag ? kE2M1MaxMag : mag; // saturate (also +-Inf)
  return static_cast<uint8_t>(sign | mag);
}

float decodeE2M1(uint8_t code) {
  const float mag =
      decodeMinifloatMagnitude(code & kE2M1MaxMag, kE2M1ManBits, kE2M1Bias);
  return (code & kE2M1SignBit) ? -mag : mag;
}

uint8_t encodeE4M3(float x) {
  const uint32_t u = floatBits(x);
  const uint32_t a = u & kF32AbsMask;
  if (a > kF32ExpMask) // NaN
    return kE4M3NaN;
  const uint8_t sign = (u & kF32SignMask) ? kE4M3SignBit : 0;
  uint32_t mag = roundToMinifloat(a, kE4M3ManBits, kE4M3Bias);
  mag = mag > kE4M3MaxMag ? kE4M3MaxMag : mag; // satfinite (also +-Inf)
  return static_cast<uint8_t>(sign | mag);
}

float decodeE4M3(uint8_t bits) {
  const uint32_t mag = bits & 0x7Fu;
  const bool neg = (bits & kE4M3SignBit) != 0;
  if (mag == 0x7Fu) // 0x7F and 0xFF are NaN
    return neg ? -std::numeric_limits<float>::quiet_NaN()
               : std::numeric_limits<float>::quiet_NaN();
  const float v = decodeMinifloatMagnitude(mag, kE4M3ManBits, kE4M3Bias);
  return neg ? -v : v;
}

float decodeE8M0(uint8_t bits) {
  if (bits == kE8M0NaN)
    return std::numeric_limits<float>::quiet_NaN();
  // 2^(bits - 127): the float with biased exponent `bits`; bits == 0 is the
  // float subnormal 2^-127 (mantissa bit 22).
  return bitsFloat(bits == 0 ? (1u << 22)
                             : static_cast<uint32_t>(bits) << kF32ManBits);
}

//===-- Block formats -----------------------------------------------------===//

int blockSize(Format format) { return format == Format::NVFP4 ? 16 : 32; }

uint8_t blockScale(Format format, float amax, float globalScale) {
  const bool nvfp4 = format == Format::NVFP4;
  const uint8_t nan = nvfp4 ? kE4M3NaN : kE8M0NaN;
  if (!std::isfinite(amax) || !isValidGlobalScale(globalScale))
    return nan;
  amax = std::fabs(amax);
  if (nvfp4)
    return encodeE4M3((amax / 6.0f) / globalScale);
  // MXFP4: exact power of two from the exponent of amax / g (amax for g = 1).
  return mxScaleFromAmax(amax / globalScale);
}

float decodeScale(Format format, uint8_t bits) {
  return format == Format::NVFP4 ? decodeE4M3(bits) : decodeE8M0(bits);
}

uint8_t quantizeBlock(Format format, const float *x, ptrdiff_t stride,
                      int64_t n, float globalScale, uint8_t *codes) {
  assert(n >= 0 && n <= blockSize(format) && "block too long");
  // amax over the existing elements (a short tail is implicitly zero padded,
  // and zeros do not change the amax); any NaN/Inf poisons the block.
  float amax = 0.0f;
  bool finite = true;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i * stride];
    finite &= isFiniteBits(floatBits(v));
    const float m = std::fabs(v);
    amax = m > amax ? m : amax;
  }
  const uint8_t scale =
      blockScale(format, finite ? amax : std::numeric_limits<float>::quiet_NaN(),
                 globalScale);
  const float s = decodeScale(format, scale);
  if (std::isnan(s) || s == 0.0f) {
    // NaN block (or invalid g): NaN scale, zero codes. Scale 0 (NVFP4
    // underflow, also amax == 0): the block decodes to zeros.
    std::memset(codes, 0, static_cast<size_t>(n));
    return scale;
  }
  const float denom = s * globalScale; // float32, the rounded scale times g
  for (int64_t i = 0; i < n; ++i)
    codes[i] = encodeE2M1(x[i * stride] / denom);
  return scale;
}

float dequantizeElement(Format format, uint8_t code, uint8_t scale,
                        float globalScale) {
  if (isScaleNaN(format, scale))
    return std::numeric_limits<float>::quiet_NaN();
  const float s = decodeScale(format, scale);
  return (decodeE2M1(code) * s) * globalScale;
}

//===-- Strided tensors ---------------------------------------------------===//

int64_t numBlocks(Format format, int64_t n) {
  const int64_t b = blockSize(format);
  return n <= 0 ? 0 : (n + b - 1) / b;
}

namespace {

/// The iteration space of a blocked tensor: the dims before `axis` (outer),
/// the axis itself (length L, nb blocks) and the dims after it (inner).
/// Row-major index of element (o, k, i): (o * L + k) * inner + i; of the
/// scale of block b: (o * nb + b) * inner + i.
struct BlockedShape {
  int64_t outer = 1, L = 0, inner = 1, nb = 0, bs = 0;
  bool empty = false;

  BlockedShape(Format format, int64_t rank, const int64_t *shape,
               int64_t axis) {
    assert(rank >= 1 && axis >= 0 && axis < rank && "axis out of range");
    for (int64_t d = 0; d < rank; ++d) {
      assert(shape[d] >= 0 && "negative extent");
      if (shape[d] == 0)
        empty = true;
    }
    for (int64_t d = 0; d < axis; ++d)
      outer *= shape[d];
    for (int64_t d = axis + 1; d < rank; ++d)
      inner *= shape[d];
    L = shape[axis];
    bs = blockSize(format);
    nb = numBlocks(format, L);
  }
};

/// The element offset (in the strided view) of the first element of the line
/// along `axis` with outer index o and inner index i.
int64_t lineOffset(const TensorView &view, int64_t axis, int64_t o,
                   int64_t i) {
  int64_t off = 0;
  for (int64_t d = view.rank - 1; d > axis; --d) {
    off += (i % view.shape[d]) * view.strides[d];
    i /= view.shape[d];
  }
  for (int64_t d = axis - 1; d >= 0; --d) {
    off += (o % view.shape[d]) * view.strides[d];
    o /= view.shape[d];
  }
  return off;
}

/// Calls fn(o, i, blockIndex, x, n, codes) for every block, where codes is a
/// scratch buffer holding the block's n codes and the returned scale.
template <typename Fn>
void forEachQuantizedBlock(Format format, const float *data, TensorView view,
                           int64_t axis, float globalScale, Fn fn) {
  BlockedShape bsh(format, view.rank, view.shape, axis);
  if (bsh.empty)
    return;
  const int64_t axisStride = view.strides[axis];
  uint8_t scratch[32];
  for (int64_t o = 0; o < bsh.outer; ++o) {
    for (int64_t i = 0; i < bsh.inner; ++i) {
      const float *line = data + lineOffset(view, axis, o, i);
      for (int64_t b = 0; b < bsh.nb; ++b) {
        const int64_t k0 = b * bsh.bs;
        const int64_t n = (bsh.L - k0) < bsh.bs ? (bsh.L - k0) : bsh.bs;
        const uint8_t scale =
            quantizeBlock(format, line + k0 * axisStride, axisStride, n,
                          globalScale, scratch);
        fn(bsh, o, i, b, k0, n, scale, static_cast<const uint8_t *>(scratch));
      }
    }
  }
}

} // namespace

void quantizeTensor(Format format, const float *data, TensorView view,
                    int64_t axis, float globalScale, uint8_t *codes,
                    uint8_t *scales) {
  forEachQuantizedBlock(
      format, data, view, axis, globalScale,
      [&](const BlockedShape &s, int64_t o, int64_t i, int64_t b, int64_t k0,
          int64_t n, uint8_t scale, const uint8_t *blockCodes) {
        scales[(o * s.nb + b) * s.inner + i] = scale;
        for (int64_t j = 0; j < n; ++j)
          codes[(o * s.L + k0 + j) * s.inner + i] = blockCodes[j];
      });
}

void dequantizeTensor(Format format, const uint8_t *codes,
                      const uint8_t *scales, int64_t rank,
                      const int64_t *shape, int64_t axis, float globalScale,
                      float *out) {
  BlockedShape s(format, rank, shape, axis);
  if (s.empty)
    return;
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t k = 0; k < s.L; ++k) {
      const uint8_t *scaleRow = scales + (o * s.nb + k / s.bs) * s.inner;
      const int64_t base = (o * s.L + k) * s.inner;
      for (int64_t i = 0; i < s.inner; ++i)
        out[base + i] = dequantizeElement(format, codes[base + i],
                                          scaleRow[i], globalScale);
    }
}

void fakeQuantTensor(Format format, const float *data, TensorView view,
                     int64_t axis, float globalScale, float *out) {
  forEachQuantizedBlock(
      format, data, view, axis, globalScale,
      [&](const BlockedShape &s, int64_t o, int64_t i, int64_t, int64_t k0,
          int64_t n, uint8_t scale, const uint8_t *blockCodes) {
        for (int64_t j = 0; j < n; ++j)
          out[(o * s.L + k0 + j) * s.inner + i] =
              dequantizeElement(format, blockCodes[j], scale, globalScale);
      });
}

void packE2M1(const uint8_t *codes, int64_t n, uint8_t *packed) {
  for (int64_t j = 0; j + 1 < n; j += 2)
    packed[j / 2] =
        static_cast<uint8_t>((codes[j] & 0xF) | ((codes[j + 1] & 0xF) << 4));
  if (n & 1) // odd n: the last byte's high nibble is 0
    packed[n / 2] = static_cast<uint8_t>(codes[n - 1] & 0xF);
}

void unpackE2M1(const uint8_t *packed, int64_t n, uint8_t *codes) {
  for (int64_t j = 0; j < n; ++j)
    codes[j] = static_cast<uint8_t>((packed[j / 2] >> ((j & 1) * 4)) & 0xF);
}

uint16_t floatToBF16(float x) {
  const uint32_t u = floatBits(x);
  if ((u & kF32AbsMask) > kF32ExpMask) // NaN: keep sign and payload top, quiet
    return static_cast<uint16_t>((u >> 16) | 0x0040u);
  // RNE on the dropped 16 bits; a carry into the exponent is correct and
  // overflow past the largest BF16 gives Inf, as IEEE RNE requires.
  const uint32_t lsb = (u >> 16) & 1u;
  return static_cast<uint16_t>((u + 0x7FFFu + lsb) >> 16);
}

float bf16ToFloat(uint16_t bits) {
  return bitsFloat(static_cast<uint32_t>(bits) << 16);
}

} // namespace attnqat::numerics
