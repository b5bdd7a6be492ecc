//===- FP4.h - FP4 (E2M1) block quantization codec --------------*- C++ -*-===//
//
// The normative numerics of ../shared/DESIGN.md §1 as plain C++ (no MLIR or
// LLVM dependency): the runtime, the float64 reference and the tests share it.
//
// Codes are stored one per byte (low nibble: bit 3 = sign, bits 0-2 = the
// magnitude index into {0, 0.5, 1, 1.5, 2, 3, 4, 6}); packE2M1 / unpackE2M1
// convert to two codes per byte (element 2i in the low nibble).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_NUMERICS_FP4_H
#define ATTNQAT_NUMERICS_FP4_H

#include <cstddef>
#include <cstdint>

namespace attnqat::numerics {

//===-- Scalar codecs -----------------------------------------------------===//

/// E2M1: round to nearest, ties to even, saturating at +-6. Infinities
/// saturate; NaN encodes as +0 (a NaN block is carried by its NaN scale).
uint8_t encodeE2M1(float x);
float decodeE2M1(uint8_t code);

/// E4M3 (f8E4M3FN): round to nearest even, saturating at +-448 (satfinite),
/// +-Inf saturate, NaN -> 0x7F. Subnormals (down to 2^-9) are kept.
uint8_t encodeE4M3(float x);
float decodeE4M3(uint8_t bits);
constexpr uint8_t kE4M3NaN = 0x7F;

/// E8M0 (f8E8M0FNU): an unsigned biased exponent 2^(bits-127); 0xFF is NaN.
float decodeE8M0(uint8_t bits);
constexpr uint8_t kE8M0NaN = 0xFF;

//===-- Block formats -----------------------------------------------------===//

enum class Format : uint8_t { NVFP4 = 0, MXFP4 = 1 };

/// 16 for NVFP4, 32 for MXFP4.
int blockSize(Format format);

/// The scale of one block from its amax (the largest |x|; NaN if any element
/// is NaN or Inf). NVFP4: E4M3(amax / 6 / g); MXFP4: E8M0 of
/// 2^(floor(log2 amax) - 2), clamped to [2^-127, 2^127]; amax == 0 gives the
/// smallest scale (its codes are all zero anyway).
uint8_t blockScale(Format format, float amax, float globalScale);
/// The decoded value of a scale byte (without the global scale).
float decodeScale(Format format, uint8_t bits);

/// Quantize n <= blockSize(format) elements x[0], x[stride], ...: writes n
/// codes to codes[0..n) and returns the scale byte. A block shorter than
/// blockSize is the zero-padded tail of its axis. code = E2M1(x / (s * g))
/// with s the *rounded* scale, computed in float32 as x / (s * g); a block
/// whose scale is 0 gets all-zero codes; a NaN block gets all-zero codes and a
/// NaN scale.
uint8_t quantizeBlock(Format format, const float *x, ptrdiff_t stride,
                      int64_t n, float globalScale, uint8_t *codes);

/// decode = (code * s) * g in float32 (NaN for a NaN scale).
float dequantizeElement(Format format, uint8_t code, uint8_t scale,
                        float globalScale);

//===-- Strided tensors ---------------------------------------------------===//

/// A strided view of a float tensor; strides are in elements.
struct TensorView {
  int64_t rank;
  const int64_t *shape;
  const int64_t *strides;
};

/// Number of blocks along an axis of extent n: ceil(n / blockSize).
int64_t numBlocks(Format format, int64_t n);

/// Quantize a strided tensor with blocks along `axis`. `codes` receives one
/// code per element in row-major order of `shape`; `scales` is row-major with
/// shape[axis] replaced by numBlocks(format, shape[axis]).
void quantizeTensor(Format format, const float *data, TensorView view,
                    int64_t axis, float globalScale, uint8_t *codes,
                    uint8_t *scales);
/// The inverse: out is row-major of `shape` (rank entries).
void dequantizeTensor(Format format, const uint8_t *codes,
                      const uint8_t *scales, int64_t rank,
                      const int64_t *shape, int64_t axis, float globalScale,
                      float *out);
/// quantize then dequantize (phi in DESIGN.md); out is row-major of `shape`.
void fakeQuantTensor(Format format, const float *data, TensorView view,
                     int64_t axis, float globalScale, float *out);

/// Two codes per byte, element 2i in the low nibble; n may be odd.
void packE2M1(const uint8_t *codes, int64_t n, uint8_t *packed);
void unpackE2M1(const uint8_t *packed, int64_t n, uint8_t *codes);

/// BF16 helpers (round to nearest even; NaN stays NaN).
uint16_t floatToBF16(float x);
float bf16ToFloat(uint16_t bits);

/// The static global scale of two-level P: 1 / (6 * 448).
constexpr float kTwoLevelPGlobalScale = 1.0f / (6.0f * 448.0f);

} // namespace attnqat::numerics

#endif // ATTNQAT_NUMERICS_FP4_H
