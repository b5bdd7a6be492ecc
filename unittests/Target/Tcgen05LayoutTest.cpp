//===- Tcgen05LayoutTest.cpp - the sm_100a layout model -------------------===//
//
// The shared-memory operand layout, the scale-factor staging and its
// tcgen05.cp into tensor memory, the instruction descriptor and the tensor
// memory columns of attnqat/Target/Tcgen05Layout.h; then one block-scaled
// MMA emulated through them (operands stored as the forward stores them,
// read back as the hardware reads them) against plain arithmetic.
//
//===----------------------------------------------------------------------===//

#include "attnqat/Numerics/FP4.h"
#include "attnqat/Target/Tcgen05Layout.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <vector>

using namespace attnqat::target::sm100;
namespace num = attnqat::numerics;

namespace {

TEST(Tcgen05Layout, OperandBytesAreWhereTheDescriptorPoints) {
  std::set<int64_t> seen;
  for (int64_t row = 0; row < kRows; ++row)
    for (int64_t byte = 0; byte < kStepBytes; ++byte) {
      int64_t at = operandOffset(row, byte);
      ASSERT_EQ(at, descriptorAddress(0, kLeadingByteOffset, kStrideByteOffset, row, byte));
      ASSERT_TRUE(at >= 0 && at < stepBytes(kRows));
      ASSERT_TRUE(seen.insert(at).second) << "row " << row << " byte " << byte;
    }
  // A core matrix's rows are 16 contiguous bytes, one after another.
  EXPECT_EQ(operandOffset(1, 0) - operandOffset(0, 0), 16);
  EXPECT_EQ(operandOffset(0, 16) - operandOffset(0, 0), kCoreBytes);
  EXPECT_EQ(operandOffset(8, 0) - operandOffset(0, 0), 2 * kCoreBytes);
}

TEST(Tcgen05Layout, ScaleCopyPutsEveryScaleWhereTheMmaReadsIt) {
  // Every (row, k) of a 128 x 4 scale block, staged, copied with
  // 32x128b.warpx4, is found at the cell the MMA reads, in every partition.
  std::set<int64_t> offsets;
  for (int64_t row = 0; row < kRows; ++row)
    for (int64_t k = 0; k < 4; ++k) {
      int64_t at = scaleChunkOffset(row, k);
      ASSERT_TRUE(at >= 0 && at < kScaleChunkBytes);
      ASSERT_TRUE(offsets.insert(at).second);
      for (int64_t p = 0; p < 4; ++p)
        EXPECT_EQ(copyDestination(at, p), scaleCell(row, k, p)) << row << " " << k;
    }
  // The PTX ISA's spot value: row 64's scale 2 at lane 0, column 2, byte 2.
  EXPECT_EQ(scaleCell(64, 2, 0), (TmemByte{0, 2, 2}));
}

TEST(Tcgen05Layout, InstructionDescriptorFields) {
  uint32_t d = blockScaledDescriptor(128, 64, /*ue8m0=*/false);
  EXPECT_EQ((d >> 7) & 7u, 1u);      // A: E2M1
  EXPECT_EQ((d >> 10) & 7u, 1u);     // B: E2M1
  EXPECT_EQ((d >> 15) & 3u, 0u);     // both K-major
  EXPECT_EQ((d >> 17) & 63u, 8u);    // N >> 3
  EXPECT_EQ((d >> 23) & 1u, 0u);     // UE4M3
  EXPECT_EQ((d >> 27) & 3u, 1u);     // M >> 7 (the ISA's field for M = 128)
  EXPECT_EQ((d >> 4) & 3u, 0u);      // scale factor ids 0
  EXPECT_EQ((d >> 29) & 3u, 0u);
  EXPECT_EQ(d >> 31, 0u);            // dense, K = 64
  EXPECT_EQ((blockScaledDescriptor(128, 128, true) >> 23) & 1u, 1u);
  EXPECT_EQ((blockScaledDescriptor(128, 128, true) >> 17) & 63u, 16u);
}

TEST(Tcgen05Layout, Bf16DescriptorFields) {
  uint32_t d = bf16Descriptor(128, 128);
  EXPECT_EQ((d >> 4) & 3u, 1u);   // F32 accumulators
  EXPECT_EQ((d >> 7) & 7u, 1u);   // A: BF16
  EXPECT_EQ((d >> 10) & 7u, 1u);  // B: BF16
  EXPECT_EQ((d >> 15) & 3u, 0u);  // both K-major
  EXPECT_EQ((d >> 17) & 63u, 16u);
  EXPECT_EQ((d >> 24) & 31u, 8u); // M >> 4
}

TEST(Tcgen05Layout, TensorMemoryColumnsDoNotOverlap) {
  for (int64_t d : {64, 128})
    for (bool qat : {false, true}) {
      int64_t acc = qat ? 2 * d : d;
      std::vector<std::pair<int64_t, int64_t>> ranges = {
          {sColumn(0), kKeyTile}, {sColumn(1), kKeyTile}, {kOColumn, d}};
      if (qat)
        ranges.push_back({oPrimeColumn(d), d});
      for (int64_t s = 0; s < d / kK; ++s) {
        ranges.push_back({qScaleColumn(d, acc, s), kScaleColumns});
        for (int64_t st = 0; st < 2; ++st)
          ranges.push_back({kScaleColumn(d, acc, st, s), kScaleColumns});
      }
      for (int64_t i = 0; i < 2; ++i) {
        ranges.push_back({pScaleColumn(d, acc, i), kScaleColumns});
        ranges.push_back({vScaleColumn(d, acc, i), kScaleColumns});
      }
      std::vector<int> owner(kAllocColumns, -1);
      for (size_t i = 0; i < ranges.size(); ++i) {
        auto r = ranges[i];
        for (int64_t c = r.first; c < r.first + r.second; ++c) {
          ASSERT_LT(c, kAllocColumns);
          ASSERT_EQ(owner[c], -1) << "column " << c << " taken twice at D = " << d;
          owner[c] = static_cast<int>(i);
        }
      }
      EXPECT_LE(columnsUsed(d, acc), kAllocColumns);
    }
}

/// One k-step of D[128 x n] = (A * SFA)(B * SFB)^T, A and B K-major FP4 codes
/// with per-16 (NVFP4) or per-32 (MXFP4) scales: stored into shared memory
/// and staged as the forward does, copied to tensor memory, read as the
/// hardware reads them.
void emulateOneStep(num::Format f, int64_t n) {
  const int64_t bs = num::blockSize(f), perStep = kK / bs;
  std::mt19937 rng(7 + n);
  std::uniform_int_distribution<int> code(0, 15);
  // Scales with their own magnitude per block, so a swapped byte shows.
  auto scaleByte = [&](int64_t i) {
    return f == num::Format::NVFP4 ? static_cast<uint8_t>(0x30 + (i * 7) % 24)
                                   : static_cast<uint8_t>(120 + (i * 5) % 9);
  };
  std::vector<uint8_t> a(kRows * kK), b(n * kK), sa(kRows * perStep), sb(n * perStep);
  for (auto &c : a) c = code(rng);
  for (auto &c : b) c = code(rng);
  for (size_t i = 0; i < sa.size(); ++i) sa[i] = scaleByte(i);
  for (size_t i = 0; i < sb.size(); ++i) sb[i] = scaleByte(3 * i + 1);

  // The forward's stores: codes two per byte (element 2i low nibble).
  auto store = [](const std::vector<uint8_t> &codes, int64_t rows) {
    std::vector<uint8_t> smem(stepBytes(rows), 0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t byte = 0; byte < kStepBytes; ++byte)
        smem[operandOffset(r, byte)] =
            codes[r * kK + 2 * byte] | (codes[r * kK + 2 * byte + 1] << 4);
    return smem;
  };
  auto stage = [&](const std::vector<uint8_t> &scales, int64_t rows) {
    std::vector<uint8_t> chunk(kScaleChunkBytes, 0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < perStep; ++k)
        chunk[scaleChunkOffset(r, k)] = scales[r * perStep + k];
    // tcgen05.cp 32x128b.warpx4 into a tensor memory model.
    std::map<std::tuple<int64_t, int64_t, int64_t>, uint8_t> tmem;
    for (int64_t o = 0; o < kScaleChunkBytes; ++o)
      for (int64_t p = 0; p < 4; ++p) {
        TmemByte c = copyDestination(o, p);
        tmem[{c.lane, c.column, c.byte}] = chunk[o];
      }
    return tmem;
  };
  std::vector<uint8_t> smemA = store(a, kRows), smemB = store(b, n);
  auto tmemA = stage(sa, kRows), tmemB = stage(sb, n);

  // The hardware's reads: codes through the descriptor, scales at their
  // cells (partition 3, to use a copy other than the first).
  auto codeAt = [](const std::vector<uint8_t> &smem, int64_t r, int64_t k) {
    uint8_t byte = smem[descriptorAddress(0, kLeadingByteOffset, kStrideByteOffset, r, k / 2)];
    return (k % 2) ? byte >> 4 : byte & 15;
  };
  for (int64_t i = 0; i < kRows; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double viaLayout = 0, plain = 0;
      for (int64_t k = 0; k < kK; ++k) {
        TmemByte ca = scaleCell(i, k / bs, 3), cb = scaleCell(j, k / bs, 3);
        viaLayout += num::decodeE2M1(codeAt(smemA, i, k)) *
                     num::decodeScale(f, tmemA[{ca.lane, ca.column, ca.byte}]) *
                     num::decodeE2M1(codeAt(smemB, j, k)) *
                     num::decodeScale(f, tmemB[{cb.lane, cb.column, cb.byte}]);
        plain += num::decodeE2M1(a[i * kK + k]) * num::decodeScale(f, sa[i * perStep + k / bs]) *
                 num::decodeE2M1(b[j * kK + k]) * num::decodeScale(f, sb[j * perStep + k / bs]);
      }
      ASSERT_EQ(viaLayout, plain) << "D[" << i << "][" << j << "]";
    }
}

TEST(Tcgen05Layout, OneBlockScaledStepNVFP4) {
  emulateOneStep(num::Format::NVFP4, 64);  // S = Q K^T of a 64-key tile
  emulateOneStep(num::Format::NVFP4, 128); // O = P V at D = 128
}
TEST(Tcgen05Layout, OneBlockScaledStepMXFP4) { emulateOneStep(num::Format::MXFP4, 64); }

} // namespace
