//===- TensorCoreAttention.h - tensor-core attention kernels -----*- C++ -*-===//
//
// The fused attention forward and backward on tensor cores (warp-level BF16 mma.sync,
// m16n8k16): a block of four warps owns 64 query rows, each warp 16; key
// tiles of 64 stream through shared memory with cp.async; S, the online
// softmax with the integer running max, the in-register P quantization and
// O (and O' in qat) stay in registers. It computes the numbers of the CPU
// lowering (same frames, same codec arithmetic) up to accumulation order,
// with P̃ rounded to BF16 for the unquantized products (O in mode none, O').
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_LIB_CONVERSION_ATTNQATTOGPU_TENSORCOREATTENTION_H
#define ATTNQAT_LIB_CONVERSION_ATTNQATTOGPU_TENSORCOREATTENTION_H

#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <array>
#include <string>

namespace mlir::attnqat::tc {

/// Query rows per block (16 per warp) and keys per tile.
inline constexpr int64_t kQueryTile = 64;
inline constexpr int64_t kKeyTile = 64;
inline constexpr int64_t kThreads = 128;

/// Whether the tensor-core forward covers `op`; if not, `why` says why.
/// Covered: modes none, qat and dropin; BF16 Q, K, V; a static head dim of
/// 64 or 128; any mask, key lengths, causality, GQA and sequence lengths.
bool coversForward(AttentionOp op, std::string &why);

/// The head dim the kernel for `op` is specialized on.
int64_t headDim(AttentionOp op);

/// Whether the forward for `op` reads Q from shared memory per key tile
/// rather than keeping its fragments in registers (qat at head dim 128).
bool forwardKeepsQInShared(AttentionOp op);

/// The blocks per SM the forward for `op` asks ptxas to fit (nvvm.minctasm;
/// 0: no request). Three, where that was measured faster on the H200
/// despite the registers it costs: mode none, and head dim 64.
int64_t forwardBlocksPerSM(AttentionOp op);

/// Dynamic shared memory of the forward kernel for `op`, in bytes: two
/// stages of K and V tiles, and the Q tile when it stays in shared memory.
int64_t forwardSharedBytes(AttentionOp op);

/// Builds the body of the tensor-core forward for `op` into `func`, whose
/// parameters are: q, k, v, [mask], [key_lengths], o, [o_prime], lse, m, l,
/// B, Hq, Hkv, M, N, D, scale. Launch: kThreads threads,
/// forwardSharedBytes(op) of dynamic shared memory, grid
/// (ceil(M / kQueryTile), Hq, B).
/// With `dumpP` (quantized modes), three more parameters follow `l`:
/// p_codes (u8 [B*Hq*M][N], the E2M1 code of every P~ element), p_scales
/// (u8 [B*Hq*M][ceil(N/bs)]) and p_frames (f32, same shape: the running max
/// each block was quantized in), for the matched-recomputation check.
/// With `packedIn` (mode fp4, and the packed variants of qat/dropin), q, k,
/// v are E2M1 codes followed by q_scales, k_scales, v_scales (the quantize
/// kernels' layouts), decoded into the tiles.
void buildForward(gpu::GPUFuncOp func, AttentionOp op, bool dumpP = false,
                  bool packedIn = false);

/// The sm_90a warpgroup forward (WgmmaAttention.cpp) covers the ops the
/// tensor-core forward covers with BF16 operands (modes none, qat, dropin):
/// a producer warpgroup and two or three consumer warpgroups of 64 query
/// rows. Its threads and dynamic shared memory in bytes.
int64_t wgmmaThreads(AttentionOp op);
int64_t wgmmaSharedBytes(AttentionOp op);
std::array<std::string, 3> wgmmaGrid(AttentionOp op);
/// Builds the sm_90a forward on wgmma into `func`, whose parameters are the
/// tensor-core forward's (BF16 operands; `dumpP` as there). Launch:
/// wgmmaThreads() threads, wgmmaSharedBytes(op) of dynamic shared memory,
/// grid wgmmaGrid(op): (ceil(M / rows), Hq, B), a block per query tile of
/// each (batch, head), or (SMs, 1, 1) where it is persistent and each block
/// walks its share.
/// With tensor maps (`tma-loads`), the forward also takes q_map, k_map and
/// v_map (`!llvm.ptr`, right before the problem dims) and loads Q, K, V by
/// TMA; describeWgmmaTensorMaps records their geometry in
/// `attnqat.tensor_maps` (role -> {of, dims, box, swizzle}) for
/// attnqat-compile and the runtime.
void buildWgmmaForward(gpu::GPUFuncOp func, AttentionOp op, bool dumpP = false);
void describeWgmmaTensorMaps(gpu::GPUFuncOp func, AttentionOp op);

/// The sm_90a backward on wgmma (WgmmaBackward.cpp) of the BF16 operands
/// the mma.sync backward covers: the same parameters but for dq_tiles (f32
/// tiles of dQ, below) in the place of dq_acc; its dynamic shared memory for
/// head dim `d` (`tma`: with tensor maps, below).
int64_t wgmmaBackwardSharedBytes(int64_t d, bool tma = false);
/// Keys a block of the wgmma backward owns (two warpgroups on 128), and
/// its threads.
int64_t wgmmaBackwardKeysPerBlock(int64_t d);
int64_t wgmmaBackwardThreads(int64_t d);
/// With tensor maps (`backward-tma-loads`), the backward also takes q_map,
/// k_map, v_map and do_map (`!llvm.ptr`, right before the problem dims) and
/// loads Q, dO, K, V by TMA; describeWgmmaBackwardTensorMaps records their
/// geometry in `attnqat.tensor_maps`, as describeWgmmaTensorMaps does.
void buildWgmmaBackward(gpu::GPUFuncOp func, AttentionBackwardOp op, bool dumpP = false);
/// Which wgmma backwards take the TMA loads when `backward-tma-loads` is on:
/// those at D = 128 but the causal ones of modes none and dropin. H200, same
/// run, backward TFLOP/s against cp.async (session 26): D = 128 without
/// causality +4 to +7% in every mode, causal qat +1 to +2%, causal none -4
/// to -6%, causal dropin -3 to 0%; D = 64 within -4..+3% either way.
bool wgmmaBackwardTakesTma(int64_t d, bool causal, Mode mode);
void describeWgmmaBackwardTensorMaps(gpu::GPUFuncOp func);
/// dQ in BF16 ([B][Hq][M][D]) from the wgmma backward's f32 tiles
/// (`dq_tiles`: per query head, ceil(M/64) tiles of [64][D], row r's
/// 16-byte chunk c at c ^ (r % 8)). Parameters dq_tiles, dq, B, Hq, Hkv, M,
/// N, D; grid (ceil(M/64), Hq, B), kThreads threads.
void buildWgmmaDqFromTiles(gpu::GPUFuncOp func);

/// Whether the sm_120a block-scaled forward covers `op`: modes fp4 and qat
/// (from packed operands), NVFP4 Q, K, V (global scale 1) and P, head dim 64
/// or 128; any mask, key lengths, causality, GQA and lengths.
bool coversBlockScaledForward(AttentionOp op, std::string &why);

/// Warps per 16 query rows of the sm_120a forward (1, or 2 for qat at head
/// dim 128, whose O and O' columns two warps split); its block has
/// kThreads times that many threads.
int64_t blockScaledWarpsPerRows(AttentionOp op);

/// Builds the sm_120a forward (mma.block_scale for S and P^F V; O' by BF16
/// mma.sync) into `func`, whose parameters are: q, k codes ([rows][D/2]),
/// v codes in the t64 layout ([B*Hkv][D][ceil(N/64)*32]), q_scales,
/// k_scales ([rows][D/16]), v_scales ([B*Hkv][D][ceil(N/64)*4]), [mask],
/// [key_lengths], o, [o_prime], lse, m, l, B, Hq, Hkv, M, N, D, scale.
/// Grid as the tensor-core forward, kThreads * blockScaledWarpsPerRows(op)
/// threads, no dynamic shared memory.
void buildBlockScaledForward(gpu::GPUFuncOp func, AttentionOp op);

/// The sm_100a tcgen05 forward covers what coversBlockScaledForward says
/// (the two Blackwell forwards cover the same ops). Its threads (ten warps: softmax, correction, load, MMA) and dynamic
/// shared memory in bytes.
int64_t tcgen05Threads();
int64_t tcgen05SharedBytes(AttentionOp op);
/// Builds the sm_100a forward (tcgen05.mma block-scaled from shared memory
/// into tensor memory; Tcgen05Attention.cpp) into `func`, whose parameters
/// are the sm_120a forward's: q, k, v codes, q_scales, k_scales, v_scales (V
/// in t64), [mask], [key_lengths], o, [o_prime] (qat, BF16), lse, m, l, B,
/// Hq, Hkv, M, N, D, scale. Grid (ceil(M / 128), Hq, B).
void buildTcgen05Forward(gpu::GPUFuncOp func, AttentionOp op);

/// Whether the tensor-core backward covers `op` (its state: modes none, qat
/// with NVFP4 P, dropin; BF16; head dim 64 or 128); if not, `why` says why.
bool coversBackward(AttentionBackwardOp op, std::string &why);

/// Dynamic shared memory of the backward kernel for head dim `d`, in bytes.
int64_t backwardSharedBytes(int64_t d);

/// Builds the tensor-core backward for `op` into `func`, whose parameters
/// are: q, k, v, [mask], [key_lengths], m, l, delta, do, dq_acc, dk, dv, B,
/// Hq, Hkv, M, N, D, scale. dq_acc (8-byte aligned) is accumulated with
/// f32 pair reductions (zero it first); dk and dv are written. Launch:
/// kThreads threads, backwardSharedBytes(D) of dynamic shared memory, grid
/// (ceil(N / kKeyTile), Hkv, B).
/// With `dumpP` (qat), p_codes and p_scales follow dv: the codes and scales
/// the backward re-quantized P with (in the final frame).
/// With `packedIn`, q, k, v are codes followed by their scales, as in the
/// forward; with `vT64` as well, V is in the t64 layout (NVFP4), as the
/// sm_120a forward reads and saves it.
void buildBackward(gpu::GPUFuncOp func, AttentionBackwardOp op,
                   bool dumpP = false, bool packedIn = false, bool vT64 = false);

/// Lanes that share a row in the backward's pre-pass (buildRowDot): its
/// grid is ceil(B*Hq*M / (kThreads / kRowDotLanes)).
inline constexpr int64_t kRowDotLanes = 8;
/// Builds the backward's pre-pass: delta = rowsum(dO * O_saved) per query
/// row (O' in qat: DESIGN rule 2; O otherwise). Parameters: o_saved (f32,
/// or BF16 for a packed or a mode-none state), do, delta (f32), B, Hq, Hkv,
/// M, N, D; no flags. kRowDotLanes lanes per row, each summing its share
/// (16-byte loads of 8 consecutive elements where D is a multiple of 64 and
/// the arrays are aligned; one thread per row read 4-byte elements a row
/// apart and ran at a fifth of the H200's bandwidth), then a shuffle sum.
void buildRowDot(gpu::GPUFuncOp func);

} // namespace mlir::attnqat::tc

#endif // ATTNQAT_LIB_CONVERSION_ATTNQATTOGPU_TENSORCOREATTENTION_H
