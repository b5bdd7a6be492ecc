//===- BlockQuantTest.cpp - NVFP4 / MXFP4 block quantization --------------===//
//
// Hand-computed blocks for quantizeBlock / dequantizeElement and the strided
// tensor entry points, checked against DESIGN.md §1.
//
// E2M1 codes: 0:0 1:0.5 2:1 3:1.5 4:2 5:3 6:4 7:6, bit 3 = sign.
//
//===----------------------------------------------------------------------===//

#include "attnqat/Numerics/FP4.h"

#include "gtest/gtest.h"

#include <cmath>
#include <algorithm>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using namespace attnqat::numerics;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<uint8_t> quantize(Format f, const std::vector<float> &x,
                              float g, uint8_t *scale) {
  std::vector<uint8_t> codes(x.size(), 0xEE);
  *scale = quantizeBlock(f, x.data(), 1, static_cast<int64_t>(x.size()), g,
                         codes.data());
  return codes;
}

TEST(BlockFormat, SizesAndBlockCounts) {
  EXPECT_EQ(blockSize(Format::NVFP4), 16);
  EXPECT_EQ(blockSize(Format::MXFP4), 32);
  EXPECT_EQ(numBlocks(Format::NVFP4, 0), 0);
  EXPECT_EQ(numBlocks(Format::NVFP4, 1), 1);
  EXPECT_EQ(numBlocks(Format::NVFP4, 16), 1);
  EXPECT_EQ(numBlocks(Format::NVFP4, 17), 2);
  EXPECT_EQ(numBlocks(Format::NVFP4, 37), 3);
  EXPECT_EQ(numBlocks(Format::MXFP4, 37), 2);
  EXPECT_EQ(numBlocks(Format::MXFP4, 64), 2);
  EXPECT_TRUE(std::isnan(decodeScale(Format::NVFP4, kE4M3NaN)));
  EXPECT_TRUE(std::isnan(decodeScale(Format::MXFP4, kE8M0NaN)));
  EXPECT_EQ(decodeScale(Format::NVFP4, 0x38), 1.0f);
  EXPECT_EQ(decodeScale(Format::MXFP4, 127), 1.0f);
}

TEST(NVFP4Block, AllZero) {
  std::vector<float> x(16, 0.0f);
  x[3] = -0.0f;
  uint8_t scale;
  auto codes = quantize(Format::NVFP4, x, 1.0f, &scale);
  EXPECT_EQ(scale, 0);
  for (uint8_t c : codes)
    EXPECT_EQ(c, 0); // scale 0: all codes +0, even for -0.0 inputs
  EXPECT_EQ(dequantizeElement(Format::NVFP4, 0, scale, 1.0f), 0.0f);
}

TEST(NVFP4Block, ScaleUnderflowsToZero) {
  // amax / 6 = 2^-11 is below half the smallest E4M3 subnormal (2^-9), so
  // the scale rounds to 0 and the block decodes to zeros.
  std::vector<float> x(16);
  for (int i = 0; i < 16; ++i)
    x[i] = std::ldexp(6.0f, -11) * (i % 2 ? -1.0f : 1.0f) * (i + 1) / 16.0f;
  uint8_t scale;
  auto codes = quantize(Format::NVFP4, x, 1.0f, &scale);
  EXPECT_EQ(scale, 0);
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(codes[i], 0);
    EXPECT_EQ(dequantizeElement(Format::NVFP4, codes[i], scale, 1.0f), 0.0f);
  }
  // The boundary of DESIGN.md: amax = 6 * 2^-10 is the exact tie between
  // scale 0 and 2^-9 and goes to 0 (even); one ulp more gives 2^-9.
  EXPECT_EQ(blockScale(Format::NVFP4, std::ldexp(6.0f, -10), 1.0f), 0x00);
  EXPECT_EQ(blockScale(Format::NVFP4,
                       std::nextafter(std::ldexp(6.0f, -10), 1.0f), 1.0f),
            0x01);
}

TEST(NVFP4Block, SubnormalScale) {
  // amax = 18 * 2^-9: amax / 6 = 3 * 2^-9, the E4M3 subnormal 0x03.
  const float q = std::ldexp(1.0f, -9);
  std::vector<float> x = {18 * q, 9 * q, -3 * q, q,     0.0f, 4.5f * q,
                          -18 * q, 6 * q, 7.5f * q, -0.5f * q};
  uint8_t scale;
  auto codes = quantize(Format::NVFP4, x, 1.0f, &scale);
  ASSERT_EQ(scale, 0x03);
  const float s = 3 * q;
  ASSERT_EQ(decodeScale(Format::NVFP4, scale), s);
  // x / s = 6, 3, -1, 1/3 (-> 0.5), 0, 1.5, -6, 2, 2.5 (tie -> 2), -1/6 (-> -0)
  const std::vector<uint8_t> want = {0x7, 0x5, 0xA, 0x1, 0x0,
                                     0x3, 0xF, 0x4, 0x4, 0x8};
  EXPECT_EQ(codes, want);
  const float wantDec[] = {6, 3, -1, 0.5f, 0, 1.5f, -6, 2, 2, -0.0f};
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_EQ(dequantizeElement(Format::NVFP4, codes[i], scale, 1.0f),
              wantDec[i] * s)
        << i;
}

TEST(NVFP4Block, SaturationBeyondSixTimesRoundedScale) {
  // amax = 5: amax / 6 = 0.8333 rounds to the E4M3 value 0.8125 (0x35:
  // exponent -1, mantissa 5/8). 6 * 0.8125 = 4.875 < 5, so 5 saturates.
  std::vector<float> x = {5.0f, -5.0f, 4.875f, 1.0f, 0.40625f, 2.4375f};
  uint8_t scale;
  auto codes = quantize(Format::NVFP4, x, 1.0f, &scale);
  ASSERT_EQ(scale, 0x35);
  ASSERT_EQ(decodeScale(Format::NVFP4, scale), 0.8125f);
  // 5/0.8125 = 6.15 -> 6; 4.875 -> 6 exact; 1/0.8125 = 1.23 -> 1;
  // 0.40625/0.8125 = 0.5; 2.4375/0.8125 = 3.
  const std::vector<uint8_t> want = {0x7, 0xF, 0x7, 0x2, 0x1, 0x5};
  EXPECT_EQ(codes, want);
  EXPECT_EQ(dequantizeElement(Format::NVFP4, codes[0], scale, 1.0f), 4.875f);
  EXPECT_EQ(dequantizeElement(Format::NVFP4, codes[1], scale, 1.0f), -4.875f);
  // Scale itself saturates at 448: amax = 6000 -> scale 448, codes 6.
  EXPECT_EQ(blockScale(Format::NVFP4, 6000.0f, 1.0f), 0x7E);
}

TEST(NVFP4Block, NaNAndInfBlocks) {
  for (float bad : {kNaN, -kNaN, INFINITY, -INFINITY}) {
    std::vector<float> x(16, 1.0f);
    x[7] = bad;
    uint8_t scale;
    auto codes = quantize(Format::NVFP4, x, 1.0f, &scale);
    EXPECT_EQ(scale, kE4M3NaN) << bad;
    for (int i = 0; i < 16; ++i) {
      EXPECT_EQ(codes[i], 0);
      EXPECT_TRUE(
          std::isnan(dequantizeElement(Format::NVFP4, codes[i], scale, 1.0f)));
    }
  }
  EXPECT_TRUE(std::isnan(dequantizeElement(Format::NVFP4, 0x3, 0xFF, 1.0f)));
  EXPECT_EQ(blockScale(Format::NVFP4, kNaN, 1.0f), kE4M3NaN);
  EXPECT_EQ(blockScale(Format::NVFP4, INFINITY, 1.0f), kE4M3NaN);
}

TEST(MXFP4Block, NaNAndInfBlocks) {
  for (float bad : {kNaN, INFINITY, -INFINITY}) {
    std::vector<float> x(32, 0.25f);
    x[31] = bad;
    uint8_t scale;
    auto codes = quantize(Format::MXFP4, x, 1.0f, &scale);
    EXPECT_EQ(scale, kE8M0NaN);
    for (int i = 0; i < 32; ++i) {
      EXPECT_EQ(codes[i], 0);
      EXPECT_TRUE(
          std::isnan(dequantizeElement(Format::MXFP4, codes[i], scale, 1.0f)));
    }
  }
}

TEST(MXFP4Block, ScaleExponentChoice) {
  // scale = 2^(floor(log2 amax) - 2), E8M0 bits = exponent + 127.
  EXPECT_EQ(blockScale(Format::MXFP4, 6.0f, 1.0f), 127);  // 2^0
  EXPECT_EQ(blockScale(Format::MXFP4, 4.0f, 1.0f), 127);  // 2^0
  EXPECT_EQ(blockScale(Format::MXFP4, std::nextafter(8.0f, 0.0f), 1.0f), 127);
  EXPECT_EQ(blockScale(Format::MXFP4, 8.0f, 1.0f), 128);  // 2^1
  EXPECT_EQ(blockScale(Format::MXFP4, 0.75f, 1.0f), 124); // 2^-3
  EXPECT_EQ(blockScale(Format::MXFP4, 1.0f, 1.0f), 125);  // 2^-2
  EXPECT_EQ(blockScale(Format::MXFP4, 0.0f, 1.0f), 0);    // smallest scale
  EXPECT_EQ(blockScale(Format::MXFP4, std::ldexp(1.0f, -124), 1.0f), 1);
  EXPECT_EQ(blockScale(Format::MXFP4, std::ldexp(1.0f, -125), 1.0f), 0);
  EXPECT_EQ(blockScale(Format::MXFP4, std::ldexp(1.0f, -126), 1.0f), 0);
  // Float subnormal amax: exponent from the mantissa's leading bit, clamped.
  EXPECT_EQ(blockScale(Format::MXFP4, std::ldexp(3.0f, -140), 1.0f), 0);
  EXPECT_EQ(
      blockScale(Format::MXFP4, std::numeric_limits<float>::denorm_min(), 1.0f),
      0);
  EXPECT_EQ(
      blockScale(Format::MXFP4, std::numeric_limits<float>::max(), 1.0f),
      252); // 2^(127 - 2)
  EXPECT_EQ(blockScale(Format::MXFP4, std::ldexp(1.0f, 100), 1.0f), 225);

  // A block with amax 7.9 (scale 1): values beyond 6 saturate; 0.3 -> 0.5.
  std::vector<float> x(32, 0.0f);
  x[0] = 7.9f;
  x[1] = -6.5f;
  x[2] = 0.3f;
  x[3] = 2.5f;
  x[4] = -0.2f;
  uint8_t scale;
  auto codes = quantize(Format::MXFP4, x, 1.0f, &scale);
  EXPECT_EQ(scale, 127);
  EXPECT_EQ(codes[0], 0x7);
  EXPECT_EQ(codes[1], 0xF);
  EXPECT_EQ(codes[2], 0x1);
  EXPECT_EQ(codes[3], 0x4);
  EXPECT_EQ(codes[4], 0x8); // -0.2 -> -0 (sign kept)
  EXPECT_EQ(codes[5], 0x0);

  // A tiny block whose exponent is clamped at 2^-127: x / 2^-127 is exact.
  std::vector<float> t = {std::ldexp(3.0f, -128), std::ldexp(1.0f, -129),
                          -std::ldexp(1.0f, -126)};
  auto tc = quantize(Format::MXFP4, t, 1.0f, &scale);
  EXPECT_EQ(scale, 0);
  EXPECT_EQ(decodeScale(Format::MXFP4, scale), std::ldexp(1.0f, -127));
  // 1.5 -> 0x3; 0.25 -> 0 (tie to even); -2 -> 0xC.
  EXPECT_EQ(tc, (std::vector<uint8_t>{0x3, 0x0, 0xC}));
  EXPECT_EQ(dequantizeElement(Format::MXFP4, tc[0], scale, 1.0f),
            std::ldexp(3.0f, -128));
  EXPECT_EQ(dequantizeElement(Format::MXFP4, tc[2], scale, 1.0f),
            -std::ldexp(1.0f, -126));
}

TEST(TwoLevelP, GlobalScaleKeepsSmallBlocks) {
  const float g = kTwoLevelPGlobalScale;
  EXPECT_EQ(g, 1.0f / 2688.0f);
  // A P block with amax 1: scale = E4M3((1/6)/g) = 448.
  std::vector<float> p = {1.0f, 0.3f, 0.05f, 0.0f};
  uint8_t scale;
  auto codes = quantize(Format::NVFP4, p, g, &scale);
  ASSERT_EQ(scale, 0x7E);
  const float sg = 448.0f * g; // the float32 divisor, ~1/6
  EXPECT_EQ(codes[0], encodeE2M1(1.0f / sg));
  EXPECT_EQ(codes[0], 0x7);  // ~6
  EXPECT_EQ(codes[1], 0x4);  // 1.8 -> 2
  EXPECT_EQ(codes[2], 0x1);  // 0.3 -> 0.5
  EXPECT_EQ(codes[3], 0x0);
  EXPECT_EQ(dequantizeElement(Format::NVFP4, codes[0], scale, g),
            (6.0f * 448.0f) * g);
  EXPECT_EQ(dequantizeElement(Format::NVFP4, codes[1], scale, g),
            (2.0f * 448.0f) * g);

  // A block with amax 2^-10: single-level, its scale underflows to 0 and the
  // block vanishes; two-level, the scale is 2^-10 * 448 = 0.4375 (normal
  // E4M3 0x2E: exponent -2, mantissa 6/8) and the block survives.
  std::vector<float> small = {std::ldexp(1.0f, -10), std::ldexp(0.5f, -10)};
  auto c1 = quantize(Format::NVFP4, small, 1.0f, &scale);
  EXPECT_EQ(scale, 0);
  EXPECT_EQ(c1, (std::vector<uint8_t>{0, 0}));
  auto c2 = quantize(Format::NVFP4, small, g, &scale);
  EXPECT_EQ(scale, 0x2E);
  EXPECT_EQ(decodeScale(Format::NVFP4, scale), 0.4375f);
  EXPECT_EQ(c2, (std::vector<uint8_t>{0x7, 0x5})); // 6, 3
  const float dec = dequantizeElement(Format::NVFP4, c2[0], scale, g);
  EXPECT_NEAR(dec, std::ldexp(1.0f, -10), 1e-6f * std::ldexp(1.0f, -10));

  // An invalid global scale poisons the block rather than producing garbage.
  EXPECT_EQ(blockScale(Format::NVFP4, 1.0f, 0.0f), kE4M3NaN);
  EXPECT_EQ(blockScale(Format::NVFP4, 1.0f, -1.0f), kE4M3NaN);
  EXPECT_EQ(blockScale(Format::NVFP4, 1.0f, kNaN), kE4M3NaN);
  EXPECT_EQ(blockScale(Format::MXFP4, 1.0f, INFINITY), kE8M0NaN);
}

TEST(MXFP4Block, GlobalScaleAppliedConsistently) {
  // Documented choice: g also applies to MXFP4 (scale from amax / g).
  const float g = 0.25f;
  std::vector<float> x = {1.5f, -0.25f, 0.1f};
  uint8_t scale;
  auto codes = quantize(Format::MXFP4, x, g, &scale);
  EXPECT_EQ(scale, 127); // amax / g = 6 -> 2^0
  EXPECT_EQ(codes, (std::vector<uint8_t>{0x7, 0xA, 0x1})); // 6, -1, 0.4->0.5
  EXPECT_EQ(dequantizeElement(Format::MXFP4, codes[0], scale, g), 1.5f);
  EXPECT_EQ(dequantizeElement(Format::MXFP4, codes[1], scale, g), -0.25f);
}

TEST(Tensor, OddTailLength37) {
  // Shape [2, 37], blocks along the last axis. Row 0 has large values in the
  // full blocks and a small tail [0.3, -0.1, 0.05, 0.2, 0]; the tail's amax
  // is over its own 5 elements only.
  const int64_t shape[2] = {2, 37}, strides[2] = {37, 1};
  std::vector<float> data(74);
  for (int i = 0; i < 74; ++i)
    data[i] = (i % 37) < 32 ? 100.0f + i : 0.0f;
  const float tail[5] = {0.3f, -0.1f, 0.05f, 0.2f, 0.0f};
  for (int i = 0; i < 5; ++i)
    data[32 + i] = tail[i];
  TensorView v{2, shape, strides};

  // NVFP4: blocks [0,16) [16,32) [32,37). Tail amax/6 = 0.05 -> E4M3
  // 13 * 2^-8 = 0.05078125 (0x15). x / s = 5.91 -> 6, -1.97 -> -2,
  // 0.98 -> 1, 3.94 -> 4, 0.
  {
    std::vector<uint8_t> codes(74), scales(2 * 3);
    quantizeTensor(Format::NVFP4, data.data(), v, 1, 1.0f, codes.data(),
                   scales.data());
    EXPECT_EQ(scales[2], 0x15);
    EXPECT_EQ(decodeScale(Format::NVFP4, 0x15), 0.05078125f);
    const uint8_t want[5] = {0x7, 0xC, 0x2, 0x6, 0x0};
    for (int i = 0; i < 5; ++i)
      EXPECT_EQ(codes[32 + i], want[i]) << i;
    // Row 1's tail is all zero.
    EXPECT_EQ(scales[5], 0);
    // Full blocks: amax 115 / 6 -> E4M3(19.17) = 20 (0x5A: 2^4 * 1.25).
    EXPECT_EQ(scales[0], 0x5A);
    std::vector<float> out(74);
    dequantizeTensor(Format::NVFP4, codes.data(), scales.data(), 2, shape, 1,
                     1.0f, out.data());
    EXPECT_EQ(out[32], 6 * 0.05078125f);
    EXPECT_EQ(out[33], -2 * 0.05078125f);
  }
  // MXFP4: blocks [0,32) [32,37). Tail amax 0.3: floor(log2) = -2, scale
  // 2^-4 (bits 123). x * 16 = 4.8 -> 4, -1.6 -> -1.5, 0.8 -> 1, 3.2 -> 3, 0.
  {
    std::vector<uint8_t> codes(74), scales(2 * 2);
    quantizeTensor(Format::MXFP4, data.data(), v, 1, 1.0f, codes.data(),
                   scales.data());
    EXPECT_EQ(scales[1], 123);
    const uint8_t want[5] = {0x6, 0xB, 0x2, 0x5, 0x0};
    for (int i = 0; i < 5; ++i)
      EXPECT_EQ(codes[32 + i], want[i]) << i;
    EXPECT_EQ(scales[0], 127 + 7 - 2); // amax 131 -> 2^7 -> 2^5
    EXPECT_EQ(scales[3], 0);           // zero tail of row 1
    std::vector<float> fq(74);
    fakeQuantTensor(Format::MXFP4, data.data(), v, 1, 1.0f, fq.data());
    EXPECT_EQ(fq[32], 0.25f);
    EXPECT_EQ(fq[33], -0.09375f);
    EXPECT_EQ(fq[34], 0.0625f);
    EXPECT_EQ(fq[35], 0.1875f);
  }
}

/// Independent reference for the tensor entry points: explicit index loops
/// over a rank-3 tensor, one quantizeBlock call per block.
void referenceQuantize3D(Format f, const float *data, const int64_t *shape,
                         const int64_t *strides, int axis, float g,
                         std::vector<uint8_t> &codes,
                         std::vector<uint8_t> &scales) {
  const int64_t bs = blockSize(f);
  int64_t sshape[3] = {shape[0], shape[1], shape[2]};
  sshape[axis] = numBlocks(f, shape[axis]);
  codes.assign(shape[0] * shape[1] * shape[2], 0);
  scales.assign(sshape[0] * sshape[1] * sshape[2], 0);
  // The two non-axis dims.
  int o1 = axis == 0 ? 1 : 0, o2 = axis == 2 ? 1 : 2;
  for (int64_t a = 0; a < shape[o1]; ++a)
    for (int64_t b = 0; b < shape[o2]; ++b)
      for (int64_t blk = 0; blk < sshape[axis]; ++blk) {
        int64_t idx[3];
        idx[o1] = a;
        idx[o2] = b;
        idx[axis] = blk * bs;
        const int64_t n = std::min(bs, shape[axis] - blk * bs);
        uint8_t tmp[32];
        const float *x = data + idx[0] * strides[0] + idx[1] * strides[1] +
                         idx[2] * strides[2];
        int64_t sidx[3] = {idx[0], idx[1], idx[2]};
        sidx[axis] = blk;
        scales[(sidx[0] * sshape[1] + sidx[1]) * sshape[2] + sidx[2]] =
            quantizeBlock(f, x, strides[axis], n, g, tmp);
        for (int64_t j = 0; j < n; ++j) {
          int64_t e[3] = {idx[0], idx[1], idx[2]};
          e[axis] += j;
          codes[(e[0] * shape[1] + e[1]) * shape[2] + e[2]] = tmp[j];
        }
      }
}

TEST(Tensor, StridedAnyAxisMatchesPerBlockLoop) {
  // A [3, 37, 5] view into a larger buffer with non-contiguous, permuted
  // strides (dim 1 innermost, padding between rows), and a negative stride.
  std::mt19937 rng(1234);
  std::normal_distribution<float> dist(0.0f, 2.0f);
  std::vector<float> buffer(8192);
  for (float &v : buffer)
    v = dist(rng);
  buffer[7] = 0.0f;
  const int64_t shape[3] = {3, 37, 5};
  struct Layout {
    int64_t strides[3];
    int64_t origin;
  } layouts[] = {
      {{37 * 5, 5, 1}, 0},          // contiguous row-major
      {{1, 3 * 6, 3}, 0},           // permuted, padded
      {{400, 1, 41}, 11},           // axis 1 innermost, padded
      {{-400, 2, 80}, 2 * 400 + 3}, // negative outer stride
  };
  for (Format f : {Format::NVFP4, Format::MXFP4})
    for (const Layout &l : layouts)
      for (int axis = 0; axis < 3; ++axis)
        // g = 0.01: not a power of two, and small enough that no NVFP4
        // scale saturates at 448 for this data (|x| < 26).
        for (float g : {1.0f, 0.01f}) {
          SCOPED_TRACE(::testing::Message()
                       << "format " << int(f) << " axis " << axis
                       << " strides " << l.strides[0] << "," << l.strides[1]
                       << "," << l.strides[2] << " g " << g);
          const float *base = buffer.data() + l.origin;
          std::vector<uint8_t> wantCodes, wantScales;
          referenceQuantize3D(f, base, shape, l.strides, axis, g, wantCodes,
                              wantScales);
          TensorView v{3, shape, l.strides};
          std::vector<uint8_t> codes(wantCodes.size(), 0xEE),
              scales(wantScales.size(), 0xEE);
          quantizeTensor(f, base, v, axis, g, codes.data(), scales.data());
          ASSERT_EQ(codes, wantCodes);
          ASSERT_EQ(scales, wantScales);

          // dequantizeTensor / fakeQuantTensor against dequantizeElement.
          std::vector<float> deq(codes.size()), fq(codes.size());
          dequantizeTensor(f, codes.data(), scales.data(), 3, shape, axis, g,
                           deq.data());
          fakeQuantTensor(f, base, v, axis, g, fq.data());
          const int64_t bs = blockSize(f);
          int64_t sshape[3] = {shape[0], shape[1], shape[2]};
          sshape[axis] = numBlocks(f, shape[axis]);
          for (int64_t i = 0; i < shape[0]; ++i)
            for (int64_t j = 0; j < shape[1]; ++j)
              for (int64_t k = 0; k < shape[2]; ++k) {
                int64_t s[3] = {i, j, k};
                s[axis] /= bs;
                const int64_t e = (i * shape[1] + j) * shape[2] + k;
                const uint8_t sc =
                    wantScales[(s[0] * sshape[1] + s[1]) * sshape[2] + s[2]];
                const float want = dequantizeElement(f, codes[e], sc, g);
                ASSERT_EQ(deq[e], want) << i << "," << j << "," << k;
                ASSERT_EQ(fq[e], want) << i << "," << j << "," << k;
                // Sanity: fake quant is close to the input (half an E2M1
                // step at small values, < |x|/2 when saturating), so the
                // data really came from the input's layout.
                const float x = base[i * l.strides[0] + j * l.strides[1] +
                                     k * l.strides[2]];
                const float sg = decodeScale(f, sc) * g;
                ASSERT_LE(std::fabs(want - x),
                          std::fabs(x) * 0.5f + 0.26f * sg);
              }
        }
}

TEST(Tensor, NonFiniteElementPoisonsOnlyItsBlock) {
  const int64_t shape[2] = {2, 40}, strides[2] = {40, 1};
  std::vector<float> data(80, 1.5f); // scale 0.25, code 6: exact
  data[40 + 20] = INFINITY; // row 1, block 1
  TensorView v{2, shape, strides};
  std::vector<float> fq(80);
  fakeQuantTensor(Format::NVFP4, data.data(), v, 1, 1.0f, fq.data());
  for (int i = 0; i < 80; ++i) {
    const bool poisoned = i >= 40 + 16 && i < 40 + 32;
    EXPECT_EQ(std::isnan(fq[i]), poisoned) << i;
    if (!poisoned) {
      EXPECT_EQ(fq[i], 1.5f) << i;
    }
  }
}

TEST(Pack, RoundTripOddLength) {
  const std::vector<uint8_t> codes = {0x1, 0x2, 0xF, 0x8, 0x0, 0x7, 0xA};
  std::vector<uint8_t> packed(4, 0xEE);
  packE2M1(codes.data(), 7, packed.data());
  EXPECT_EQ(packed, (std::vector<uint8_t>{0x21, 0x8F, 0x70, 0x0A}));
  std::vector<uint8_t> back(7, 0xEE);
  unpackE2M1(packed.data(), 7, back.data());
  EXPECT_EQ(back, codes);

  // Every pair of codes, and n = 1.
  for (unsigned a = 0; a < 16; ++a)
    for (unsigned b = 0; b < 16; ++b) {
      const uint8_t in[2] = {uint8_t(a), uint8_t(b)};
      uint8_t p = 0, out[2] = {0xEE, 0xEE};
      packE2M1(in, 2, &p);
      EXPECT_EQ(p, a | (b << 4));
      unpackE2M1(&p, 2, out);
      EXPECT_EQ(out[0], a);
      EXPECT_EQ(out[1], b);
      packE2M1(in, 1, &p);
      EXPECT_EQ(p, a);
    }
  // n = 0 touches nothing.
  uint8_t untouched = 0xEE;
  packE2M1(codes.data(), 0, &untouched);
  unpackE2M1(packed.data(), 0, &untouched);
  EXPECT_EQ(untouched, 0xEE);
}

} // namespace
