//===- BlockScaledMMA.h - sm_120a block-scaled MMA layouts ------*- C++ -*-===//
//
// A CPU model of where `mma.sync.aligned.m16n8k64.row.col.kind::mxf4nvf4
// .block_scale.scale_vec::4X.f32.e2m1.e2m1.f32.ue4m3` (sm_120a) takes its
// operands from: for every lane and register, which matrix element (or which
// block scale) it carries. The fragment formulas are the PTX ISA's
// ("Matrix Fragments for mma.m16n8k64", "Block Scaling for mma.sync"); the
// scale-factor lanes are those of CUTLASS's SM120 block-scaled MMA traits.
//
// On top of the instruction's layouts, the functions under "the sm_120a
// forward" are the choices the generated attention forward makes
// (lib/Conversion/AttnQATToGPU/BlockScaledAttention.cpp uses them): which
// key each S accumulator column is, so that a lane's P~ values are exactly
// its A fragment of P . V, and which lanes hold each 16-key block of P.
// unittests/Target/BlockScaledMMATest.cpp checks them without hardware.
//
// Plain C++ (no MLIR): lane = 4 g + t, g = lane / 4, t = lane % 4.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_TARGET_BLOCKSCALEDMMA_H
#define ATTNQAT_TARGET_BLOCKSCALEDMMA_H

namespace attnqat::target::sm120 {

/// The instruction's shape and NVFP4 block: D[16x8] += (A[16x64] * SF_A)
/// (B[64x8] * SF_B), one ue4m3 scale per 16 consecutive k.
inline constexpr int kM = 16, kN = 8, kK = 64, kScaleBlock = 16;
inline constexpr int kBlocksPerK = kK / kScaleBlock; // 4: scale_vec::4X

/// A matrix coordinate.
struct RowCol {
  int row, col;
  constexpr bool operator==(const RowCol &o) const {
    return row == o.row && col == o.col;
  }
};

constexpr int groupOf(int lane) { return lane / 4; }
constexpr int threadInGroup(int lane) { return lane % 4; }

/// A (16 x 64, e2m1): four .b32 registers of eight codes, element `nibble`
/// in bits [4 nibble, 4 nibble + 4). a0: row g, a1: row g+8, a2, a3: the
/// same rows 32 columns on; columns 8t .. 8t+7 within each half.
constexpr RowCol aElement(int lane, int reg, int nibble) {
  return {groupOf(lane) + 8 * (reg % 2),
          8 * threadInGroup(lane) + nibble + 32 * (reg / 2)};
}

/// B (64 x 8, e2m1): two .b32 registers; (row = k, col = n). b0 holds k =
/// 8t .. 8t+7 of column g, b1 the same 32 rows on.
constexpr RowCol bElement(int lane, int reg, int nibble) {
  return {8 * threadInGroup(lane) + nibble + 32 * reg, groupOf(lane)};
}

/// C and D (16 x 8, f32): c0, c1 at row g, columns 2t, 2t+1; c2, c3 at row
/// g+8 (the m16n8k16 accumulator layout).
constexpr RowCol cElement(int lane, int i) {
  return {groupOf(lane) + 8 * (i / 2), 2 * threadInGroup(lane) + i % 2};
}

/// The row of A whose four block scales (byte b: columns 16b .. 16b+15) the
/// hardware reads from `lane`'s scale-a register for selector thread-id-a =
/// `threadId` (0 or 1), or -1 when it reads none. Per quad, lanes t = 2
/// threadId and 2 threadId + 1 carry rows g and g+8.
constexpr int sfaRow(int lane, int threadId) {
  int t = threadInGroup(lane);
  if (t / 2 != threadId)
    return -1;
  return groupOf(lane) + 8 * (t % 2);
}
/// The lane that carries the scales of row `row` of A (the inverse).
constexpr int sfaLane(int row, int threadId) {
  return 4 * (row % 8) + 2 * threadId + row / 8;
}

/// The column of B whose four block scales (byte b: rows 16b .. 16b+15) the
/// hardware reads from `lane`'s scale-b register for thread-id-b =
/// `threadId` (0 .. 3), or -1: lane t = threadId of each quad, column g.
constexpr int sfbCol(int lane, int threadId) {
  return threadInGroup(lane) == threadId ? groupOf(lane) : -1;
}
constexpr int sfbLane(int col, int threadId) { return 4 * col + threadId; }

//===----------------------------------------------------------------------===//
// The sm_120a forward
//===----------------------------------------------------------------------===//

/// S = Q K^T runs as eight n-tiles of 8 keys per 64-key tile. Column n of
/// n-tile j is the key (0 .. 63 within the tile)
///   32 (j / 4) + 8 (n / 2) + 2 (j % 4) + n % 2,
/// so a lane (columns 2t, 2t+1 of every n-tile) ends up holding keys
/// 8t .. 8t+7 and 32+8t .. 32+8t+7: exactly its A fragment of P . V
/// (aElement's columns), and P never moves between lanes.
constexpr int scoreKey(int nTile, int col) {
  return 32 * (nTile / 4) + 8 * (col / 2) + 2 * (nTile % 4) + col % 2;
}

/// Where element (reg, nibble) of a lane's P . V A fragment sits in the
/// same lane's S accumulators: n-tile and accumulator index.
struct AccSlot {
  int nTile, index;
};
constexpr AccSlot pSource(int reg, int nibble) {
  return {4 * (reg / 2) + nibble / 2, 2 * (reg % 2) + nibble % 2};
}

/// The two 16-key blocks of P a lane quantizes per row half (the blocks of
/// its A registers): blocks t/2 and 2 + t/2, shared with lane t xor 1 (the
/// amax is reduced over lane xor 1). `which` is 0 or 1.
constexpr int pBlockOfLane(int lane, int which) {
  return 2 * which + threadInGroup(lane) / 2;
}
/// The A register of a lane that holds its block `which` in row half `half`.
constexpr int pRegOfBlock(int which, int half) { return 2 * which + half; }

/// P's scale-a word (thread-id-a = 0) is assembled from two lanes: the
/// carrier t (0 or 1, row half t) holds blocks 0 and 2 of its row, lane
/// t + 2 (lane xor 2) blocks 1 and 3 of the same row. Byte b of the word is
/// block b: bytes 0, 2 from the carrier (its `which` = 0, 1), bytes 1, 3
/// from its xor-2 partner.
constexpr int pScaleByte(int which, bool fromPartner) {
  return 2 * which + (fromPartner ? 1 : 0);
}

//===----------------------------------------------------------------------===//
// MXFP4: scale_vec::2X, ue8m0
//===----------------------------------------------------------------------===//

/// With MXFP4 operands the instruction takes a scale per 32 k: bytes 0 and
/// 1 of the same scale registers (lanes as above) scale k 0..31 and 32..63.
inline constexpr int kScaleBlockMX = 32;

/// An MXFP4 P block of a row (32 keys) is A register pRegOfBlock(which,
/// half) of all four lanes of the quad: block `which`, amax over lane xor 1
/// and 2. The carrier already holds both blocks of its row: byte `which`.
constexpr int pBlockOfLaneMX(int lane, int which) {
  (void)lane;
  return which;
}

} // namespace attnqat::target::sm120

#endif // ATTNQAT_TARGET_BLOCKSCALEDMMA_H
