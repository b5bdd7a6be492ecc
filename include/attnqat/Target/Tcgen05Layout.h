//===- Tcgen05Layout.h - sm_100a tcgen05 block-scaled MMA layouts -*- C++ -*-===//
//
// A CPU model of the data layouts `tcgen05.mma.cta_group::1.kind::mxf4nvf4
// .block_scale` (sm_100a) consumes, and of the choices the generated
// forward (lib/Conversion/AttnQATToGPU/Tcgen05Attention.cpp) makes to meet
// them. unittests/Target/Tcgen05LayoutTest.cpp checks them without
// hardware.
//
//  - Operands A and B in shared memory, K-major, no swizzle (PTX ISA
//    "Shared Memory Layout and Swizzling"): 8-row x 16-byte core matrices
//    (32 E2M1 codes per row), contiguous inside; the descriptor's leading
//    byte offset (LBO) steps between core matrices along K, its stride byte
//    offset (SBO) between 8-row groups along M or N. One k-step of 64 codes
//    is 32 bytes of a row: two core matrices along K.
//  - Scale factors in tensor memory (PTX ISA "Block Scaling for tcgen05.mma"
//    and its scale-factor layout figures): scale k of row r of a 128-row
//    matrix sits in lane r % 32, column r / 32, byte k of the 32-bit cell,
//    duplicated into all four 32-lane partitions. The forward stages each
//    128 x 4 block of scale bytes in shared memory as 32 rows of 16 bytes
//    (row r % 32, bytes 4 (r / 32) .. +3: CUTLASS's Sm1xx block-scaled basic
//    chunk) and copies it with `tcgen05.cp.32x128b.warpx4`, which writes
//    source row i to lane i of every partition, its 16 bytes to 4 columns.
//  - The instruction descriptor (PTX ISA "Instruction descriptor" for the
//    block-scaled kinds; CUTLASS's InstrDescriptorBlockScaled).
//  - Tensor memory addresses: lane in bits 31..16, column in 15..0. A warp
//    reads and writes only the partition of lanes 32 (warp % 4) .. +31.
//
// Plain C++ (no MLIR).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_TARGET_TCGEN05LAYOUT_H
#define ATTNQAT_TARGET_TCGEN05LAYOUT_H

#include <cstdint>

namespace attnqat::target::sm100 {

/// The MMA: M = 128 rows (one per tensor-memory lane), K = 64 E2M1 codes
/// per instruction.
inline constexpr int64_t kRows = 128, kK = 64;
/// Bytes of one row of a k-step (64 codes, two per byte).
inline constexpr int64_t kStepBytes = kK / 2;
/// Core matrices: 8 rows of 16 bytes.
inline constexpr int64_t kCoreRows = 8, kCoreRowBytes = 16;
inline constexpr int64_t kCoreBytes = kCoreRows * kCoreRowBytes;
/// The forward's K-major layout of one k-step: the two core matrices of an
/// 8-row group side by side (LBO = 128), groups one after another (SBO =
/// 256).
inline constexpr int64_t kLeadingByteOffset = kCoreBytes;
inline constexpr int64_t kStrideByteOffset = 2 * kCoreBytes;
/// Bytes of one k-step of an operand of `rows` rows.
constexpr int64_t stepBytes(int64_t rows) { return rows * kStepBytes; }

/// Where byte `byte` (0..31) of row `row` of one k-step lives, from the
/// k-step's start.
constexpr int64_t operandOffset(int64_t row, int64_t byte) {
  return (row / kCoreRows) * kStrideByteOffset + (byte / kCoreRowBytes) * kLeadingByteOffset +
         (row % kCoreRows) * kCoreRowBytes + byte % kCoreRowBytes;
}

/// How the MMA finds that byte from a no-swizzle K-major descriptor (start,
/// LBO, SBO): core matrix (row / 8 along M/N, byte / 16 along K), then its
/// row and byte. The test holds it equal to operandOffset.
constexpr int64_t descriptorAddress(int64_t start, int64_t lbo, int64_t sbo, int64_t row,
                                    int64_t byte) {
  return start + (row / kCoreRows) * sbo + (byte / kCoreRowBytes) * lbo +
         (row % kCoreRows) * kCoreRowBytes + byte % kCoreRowBytes;
}

/// A 128 x 4 block of scale bytes (one k-step of NVFP4, 4 per row; MXFP4
/// uses bytes 0 and 1) staged for tcgen05.cp: 512 bytes.
inline constexpr int64_t kScaleChunkBytes = 512;
/// Byte of scale k of row r in that staging block.
constexpr int64_t scaleChunkOffset(int64_t row, int64_t k) {
  return (row % 32) * 16 + (row / 32) * 4 + k;
}

/// A byte of tensor memory.
struct TmemByte {
  int64_t lane, column, byte;
  constexpr bool operator==(const TmemByte &o) const {
    return lane == o.lane && column == o.column && byte == o.byte;
  }
};
/// Where tcgen05.mma reads scale k of row r (in the partition of `lane`'s
/// warp; the instruction needs the same in all four), from the scale
/// matrix's column.
constexpr TmemByte scaleCell(int64_t row, int64_t k, int64_t partition) {
  return {32 * partition + row % 32, row / 32, k};
}
/// Where tcgen05.cp.32x128b.warpx4 puts byte `offset` of its 512-byte
/// source, copy `partition` (0..3) of the four.
constexpr TmemByte copyDestination(int64_t offset, int64_t partition) {
  return {32 * partition + offset / 16, (offset % 16) / 4, offset % 4};
}
/// Tensor-memory columns a 128-row scale matrix of one k-step takes.
inline constexpr int64_t kScaleColumns = 4;

/// The instruction descriptor of kind::mxf4nvf4 for an M x N MMA, A and B
/// E2M1 and K-major, dense, scale factor ids 0: E4M3 scales (NVFP4,
/// scale_vec::4X / block16) or E8M0 (MXFP4, scale_vec::2X / block32).
constexpr uint32_t blockScaledDescriptor(int64_t m, int64_t n, bool ue8m0) {
  constexpr uint32_t e2m1 = 1;
  return (e2m1 << 7) |                             // A format, bits 7..9
         (e2m1 << 10) |                            // B format, bits 10..12
         (static_cast<uint32_t>(n >> 3) << 17) |   // N >> 3, bits 17..22
         (static_cast<uint32_t>(ue8m0) << 23) |    // scale type, bit 23
         (static_cast<uint32_t>(m >> 4) << 24);    // M >> 4, bits 24..28
}

/// A tensor-memory address.
constexpr uint32_t tmemAddress(uint32_t base, int64_t lane, int64_t column) {
  return base + (static_cast<uint32_t>(lane) << 16) + static_cast<uint32_t>(column);
}

/// The instruction descriptor of kind::f16 for an M x N MMA: BF16 A and B,
/// K-major, F32 accumulators (O' = P~ V in qat).
constexpr uint32_t bf16Descriptor(int64_t m, int64_t n) {
  constexpr uint32_t f32 = 1, bf16 = 1;
  return (f32 << 4) |                              // D format, bits 4..5
         (bf16 << 7) |                             // A format, bits 7..9
         (bf16 << 10) |                            // B format, bits 10..12
         (static_cast<uint32_t>(n >> 3) << 17) |   // N >> 3, bits 17..22
         (static_cast<uint32_t>(m >> 4) << 24);    // M >> 4, bits 24..28
}
/// BF16 k-steps: 16 elements, 32 bytes of a row, the same core-matrix
/// layout as an E2M1 k-step (operandOffset).
inline constexpr int64_t kBf16K = 16;

/// The forward's tensor-memory columns (512 allocated): two S buffers of
/// 64 keys, O (D columns), O' (D more, qat), then the scale matrices. `acc`
/// is the accumulator columns: D, or 2 D with O'.
inline constexpr int64_t kAllocColumns = 512;
inline constexpr int64_t kKeyTile = 64;
constexpr int64_t sColumn(int64_t buffer) { return buffer * kKeyTile; }
inline constexpr int64_t kOColumn = 2 * kKeyTile;
constexpr int64_t oPrimeColumn(int64_t d) { return kOColumn + d; }
/// Q's scales (d / 64 k-steps), each stage's K scales, P's (two buffers),
/// each stage's V scales.
constexpr int64_t qScaleColumn(int64_t d, int64_t acc, int64_t step) {
  return kOColumn + acc + step * kScaleColumns;
}
constexpr int64_t kScaleColumn(int64_t d, int64_t acc, int64_t stage, int64_t step) {
  return qScaleColumn(d, acc, d / kK) + (stage * (d / kK) + step) * kScaleColumns;
}
constexpr int64_t pScaleColumn(int64_t d, int64_t acc, int64_t buffer) {
  return kScaleColumn(d, acc, 2, 0) + buffer * kScaleColumns;
}
constexpr int64_t vScaleColumn(int64_t d, int64_t acc, int64_t stage) {
  return pScaleColumn(d, acc, 2) + stage * kScaleColumns;
}
constexpr int64_t columnsUsed(int64_t d, int64_t acc) { return vScaleColumn(d, acc, 2); }

} // namespace attnqat::target::sm100

#endif // ATTNQAT_TARGET_TCGEN05LAYOUT_H
