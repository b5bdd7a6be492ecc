//===- Passes.td - attnqat conversion passes ---------------*- tablegen -*-===//

#ifndef ATTNQAT_CONVERSION_PASSES_TD
#define ATTNQAT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertAttnQATToLoops : Pass<"convert-attnqat-to-loops"> {
  let summary = "Lower attnqat ops to scf/memref/arith/math loops (CPU path)";
  let description = [{
    Rewrites every attnqat op into loops over memrefs, framed by
    `bufferization.to_buffer` / `bufferization.to_tensor`, so that one-shot
    bufferization finishes the job. The FP4 codecs are emitted as arith
    bit manipulation with the rounding rules of docs/numerics.md (never
    `arith.truncf` to `f4E2M1FN`, whose tie rounding differs).

    `attnqat.attention` mirrors the GPU kernels: query tiles, key tiles of
    `key-tile` keys, an integer running max, in-tile quantization of P in
    16/32-key blocks, and the O' accumulator in mode `qat` where a backward
    reads the state (O' is only the backward's D: a forward without a state,
    or whose state nobody reads, computes O and LSE alone, bit for bit the
    same; test/Execution/qat-inference.mlir). Its saved state
    stays in the function as buffers; `attnqat.attention_backward` must be in
    the same function as its forward (a state passed across functions is
    reported as an error).

    Dynamic extents of different operands that must agree (batch, query
    rows, keys, mask, key lengths, FP4 scales, the output gradient) are
    compared where the op runs: a mismatch calls
    `attnqat_shape_error(const char *message, int64_t actual, int64_t expected)`,
    which must not return. The JIT provides it (the call then fails with the
    message, e.g. `attnqat.attention: the value has 16 keys, the key 15`);
    code compiled ahead of time links its own. Static extents need no check.
  }];
  let options = [
    Option<"keyTile", "key-tile", "int64_t", /*default=*/"64",
           "Keys per tile (a multiple of 32)">,
    Option<"queryTile", "query-tile", "int64_t", /*default=*/"64",
           "Query rows per tile">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::func::FuncDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
  ];
}

def AttnQATFuseLinalgAttention : Pass<"attnqat-fuse-linalg-attention"> {
  let summary = "Fuse attention written in linalg on tensors into attnqat.attention";
  let description = [{
    Finds `softmax(Q Kᵀ · scale + mask) V` written with linalg on tensors, as
    torch-mlir emits it for `scaled_dot_product_attention` and for
    hand-written attention, and rewrites it to one `attnqat.attention` in
    mode `none`.

    Matched, rooted at the P·V contraction and walking back to Q, K and V:
    contractions (`linalg.matmul`, `linalg.batch_matmul`, contraction
    `linalg.generic`s); layout ops (`linalg.transpose`, `linalg.broadcast`,
    copy/transpose/broadcast `linalg.generic`s, `tensor.collapse_shape`,
    `tensor.expand_shape`, `tensor.cast`); a positive splat-constant scale
    (`mulf`/`divf` generics) on Q, K or the scores before the mask;
    `linalg.softmax` or its decomposed form (max reduction, `subf`, `exp`,
    sum reduction, `divf` or `mulf` by a reciprocal); one additive mask
    (`addf` generic, broadcast operand); a top-left causal mask (`select` of
    -inf on `arith.cmpi` of `linalg.index` values). Batch, head, query, key
    and head-dim roles are inferred from the indexing maps, so any batch/head
    order works; K and V broadcast over query-head groups (GQA/MQA) become
    Hkv < Hq. 3-D [B*H, L, D] forms get H = 1; the fused op is framed by
    `tensor.expand_shape`/`collapse_shape` and `linalg.transpose` as needed.
    All shapes must be static. See docs/fusion.md.
  }];
  let dependentDialects = [
    "::mlir::attnqat::AttnQATDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def AttnQATFuseTosaAttention : Pass<"attnqat-fuse-tosa-attention"> {
  let summary = "Fuse attention written in TOSA into attnqat.attention";
  let description = [{
    Finds attention as TOSA legalizations emit it: `tosa.matmul` (3-D, zero
    points 0) for Q·Kᵀ and P·V, `tosa.transpose` / `tosa.reshape` around
    them, a positive splat `tosa.const` scale through `tosa.mul` (shift 0),
    an optional broadcast additive mask (`tosa.add`), and the softmax as
    `tosa.reduce_max`, `tosa.sub`, `tosa.exp`, `tosa.reduce_sum`,
    `tosa.reciprocal` and `tosa.mul`, all over the key axis. Rewrites it to
    one `attnqat.attention` in mode `none`, framed by `tosa.reshape`,
    `tosa.transpose` and `tosa.tile` where layouts differ. All shapes must
    be static. See docs/fusion.md.
  }];
  let dependentDialects = [
    "::mlir::attnqat::AttnQATDialect",
    "::mlir::tosa::TosaDialect",
  ];
}


def ConvertAttnQATToGPUKernels : Pass<"convert-attnqat-to-gpu-kernels", "::mlir::ModuleOp"> {
  let summary = "Generate GPU kernels for the codec ops and attention forward and backward";
  let description = [{
    For every `attnqat.quantize`, `attnqat.dequantize` and
    `attnqat.fake_quant` of the module,
    generates a kernel in `gpu.module @attnqat_kernels` and links the op to it
    with an `attnqat.kernel` symbol reference. The kernels use the same codec
    arithmetic as the CPU lowering (round to nearest even on power-of-two
    grids, in software: the NVPTX backend cannot select FP4 converts on
    sm_90a) and take their sizes at launch, so one kernel serves every shape
    of its element type, format and global scale.

    Kernel parameters (buffers are device pointers under the bare-pointer
    calling convention, sizes are i64):
    `quantize`: input, codes (E2M1 packed two per byte along the block axis,
    element 2j in the low nibble), scales (one byte per block), outer, axis
    extent, inner (the tensor viewed as [outer, axis, inner]).
    `fake_quant`: input, output, outer, axis, inner. `dequantize`: codes,
    scales (the quantize layout, read), output, outer, axis, inner. A
    thread per 64 elements, launch `ceil(B*M*D/8192)` blocks of 128 threads
    (outer, axis, inner as B, M, D; recorded on each kernel as
    `attnqat.launch`), each walking its units grid-stride: 16-byte vector
    accesses where the block axis is contiguous (inner = 1) or inner is a
    multiple of a 16-byte access and the pointers are aligned, else a block
    per unit, element by element. The t64 layout: a thread per block.

    With `tensor-cores` (the default), an attention with BF16 operands and a
    static head dim of 64 or 128 (modes none, qat, dropin; any mask, key
    lengths, causality, GQA, lengths) gets the tensor-core forward,
    `attention_fwd_tc_<config>_d<D>_bf16`: 128 threads (four warps of 16
    query rows) per 64 query rows, grid (ceil(M/64), Hq, B); K and V tiles of
    64 keys in two stages of dynamic shared memory (cp.async,
    `nvgpu.device_async_copy`), `nvgpu.ldmatrix` and BF16 `nvvm.mma.sync`
    m16n8k16 for S = Q Kᵀ and O = P V; softmax with the integer running max,
    P quantization and O′ in registers. Parameters: q, k, v, [mask],
    [key_lengths], o, [o_prime], lse, m, l, B, Hq, Hkv, M, N, D, scale.
    Its `attnqat.attention_backward` (NVFP4 or no P quantization) gets the
    tensor-core backward `attention_bwd_tc_..._d<D>_bf16` (one block per 64
    keys of a KV head, grid (ceil(N/64), Hkv, B): S recomputed from the same
    Q^F, K^F, P re-quantized in the forward's frame, dV, dK in registers, dQ
    by f32 pair reductions into `dq_acc`, 8-byte aligned; parameters q, k,
    v, [mask], [key_lengths], m, l, delta, do, dq_acc, dk, dv, B, Hq, Hkv, M,
    N, D, scale) and the pre-pass `attention_bwd_tc_delta_obf16_bf16` (delta =
    rowsum(dO * O_saved) from the BF16 O′ or O the forward wrote; o_saved, do,
    delta, B, Hq, Hkv, M, N, D), linked as `attnqat.pre_kernel` (chosen by
    dO's element type, which O_saved has: the forward writes O′ in O's
    element type). `attnqat.launch` records block, grid and dynamic
    shared memory, `attnqat.constraints` the head dim a kernel was
    specialized on, `attnqat.access` the buffers a kernel writes that its
    role name alone does not tell.

    Every other attention (modes none, qat, dropin; any element type and
    head dim; masks, key lengths) gets the baseline kernels: one thread per
    query row running the CPU lowering's row recurrence (key tiles of 64,
    integer running max, in-tile P quantization, O and O') on the Q^F, K^F,
    V^F the codec kernels produced. Forward parameters: q, k, v, [mask],
    [key_lengths], o, [o_prime], lse, m, l, [o_acc], B, Hq, Hkv, M, N, D,
    scale; backward: q, k, v, [mask], [key_lengths], o_saved, m, l, do, dq,
    dk, dv (dk, dv accumulated atomically), B, Hq, Hkv, M, N, D, scale. Mode
    fp4 gets a warning.

    With `block-scaled-mma`, an attention in mode fp4 or qat with NVFP4
    formats and head dim 64 or 128 also gets the Blackwell forward
    `attention_fwd_bs_<config>_d<D>_<type>` (`nvvm.mma.block_scale` m16n8k64
    kind::mxf4nvf4, ue4m3 scales, for S = Q Kᵀ from packed Q, K and for
    O = P^F V with P quantized in registers by `cvt.rn.satfinite.e2m1x2.f32`;
    O′ by BF16 mma.sync), which carries `attnqat.chips = ["sm_120a"]` and is
    linked in place of the tensor-core forward for mode fp4. Parameters: q,
    k, v codes, q_scales, k_scales, v_scales (V in the `t64` layout:
    [B·Hkv, D, ceil(N/64)·32] codes, [B·Hkv, D, ceil(N/64)·4] scales), [mask],
    [key_lengths], o, [o_prime], lse, m, l, B, Hq, Hkv, M, N, D, scale. Every
    NVFP4 `quantize` also gets a `…_t64` kernel that writes that layout
    (codes [outer, inner, ceil(axis/64)·32], scales [outer, inner,
    ceil(axis/64)·4], padding zero).

    With `tcgen05-mma`, an attention the sm_120a forward would cover (fp4,
    or qat from packed operands) also gets the sm_100a forward
    `attention_fwd_tcgen05_<config>_d<D>_<type>`
    (`nvvm.tcgen05.mma.block_scale` kind::mxf4nvf4 from shared memory into
    tensor memory, scale factors by `nvvm.tcgen05.cp`, S and O read with
    `nvvm.tcgen05.ld`; O′ in qat by BF16 `nvvm.tcgen05.mma` kind f16; ten
    warps in softmax, correction, load and MMA roles ordered by mbarriers),
    which carries `attnqat.chips = ["sm_100a"]`, the same parameters as the
    sm_120a forward, 320 threads, grid
    (ceil(M/128), Hq, B) and dynamic shared memory.

    With `warpgroup-mma` (on in `attnqat-gpu-kernels-pipeline chip=sm_90a`
    and in `attnqat-compile` when sm_90a is among the chips), an attention
    the tensor-core forward covers with BF16 operands (modes none, qat,
    dropin) also gets the sm_90a forward
    `attention_fwd_wg_<config>_d<D>_bf16`, and the op links to it: a
    producer warpgroup loads Q once and K, V tiles by cp.async into
    128-byte-swizzled shared memory (an mbarrier per stage, released by the
    consumers), or with `tma-loads` one of its threads loads them by TMA
    (`cp.async.bulk.tensor`, boxes of 64 columns) from the tensor-map
    parameters `q_map`, `k_map`, `v_map` (`!llvm.ptr` right before the
    problem dims, described in `attnqat.tensor_maps`, made by the runtime;
    `attnqat-tensor-map-params` passes them by value); three consumer warpgroups of 64 query rows (two in qat at
    head dim 128) compute S = Q K^T with `wgmma.mma_async` from shared
    memory, the tensor-core forward's softmax and P quantization on the
    accumulators, and O (O′) with wgmma taking P from registers and V
    transposed from shared memory; in mode none without causality the
    fully visible key tiles run software-pipelined (S of tile j issued with
    P V of tile j - 1, the softmax overlapping the latter; three stages).
    Same parameters as the tensor-core
    forward; it carries `attnqat.chips = ["sm_90a"]`, 512 (384) threads,
    grid (SMs, 1, 1) (with three consumers it is
    persistent: each block walks its rounds of query tiles; else
    (ceil(M/128), Hq, B)) and dynamic shared memory. A
    backward the tensor-core backward covers with BF16 operands likewise
    gets `attention_bwd_wg_<config>_d<D>_bf16` (two warpgroups of 64 keys
    share a block of 128 keys, 256 threads, grid (ceil(N/128), Hkv, B), and
    dQ runs over all 128 keys, each warpgroup on half of its columns; S^T,
    dP^T, dV, dK and dQ on wgmma with operands in swizzled shared memory,
    dS^T read transposed for dQ; the tensor-core backward's parameters and
    delta pre-pass, but dK and dV in BF16 and for `dq_acc` the zeroed f32
    `dq_tiles`,
    [B, Hq, ceil(M/64), 64, D] with row r's 16-byte chunk c at c ^ (r % 8),
    16-byte aligned, to which each block adds its dQ tile per work item by
    one bulk reduction; with `backward-tma-loads` one thread loads K, V and
    each item's Q and dO by TMA from the tensor-map parameters `q_map`,
    `k_map`, `v_map`, `do_map`, right before the problem dims, as the
    forward's), and the op links to it and to its post-pass
    `attention_bwd_wg_dq_bf16` (`attnqat.post_kernel`: dq_tiles, dq (BF16,
    [B, Hq, M, D]), B, Hq, Hkv, M, N, D; grid (ceil(M/64), Hq, B)).

    The host ops are left in place: they are launched through the runtime
    (`runtime/`). Compile the kernels to PTX or cubin with
    `--attnqat-gpu-kernels-pipeline="chip=sm_90a"` or `attnqat-compile`.
  }];
  let options = [
    Option<"blockThreads", "block-threads", "int64_t", /*default=*/"128",
           "Threads per block of the baseline and codec kernels">,
    Option<"tensorCores", "tensor-cores", "bool", /*default=*/"true",
           "Generate the tensor-core forward for the attentions it covers "
           "(false: the baseline kernel for every attention)">,
    Option<"packedOperands", "packed-operands", "bool", /*default=*/"false",
           "Also generate tensor-core qat/dropin forward and backward variants "
           "that read Q, K, V as FP4 codes and scales (names end in _packed): "
           "a training step whose saved state is packed">,
    Option<"blockScaledMma", "block-scaled-mma", "bool", /*default=*/"false",
           "Also generate the sm_120a forward on block-scaled FP4 MMA "
           "(attention_fwd_bs_*, attnqat.chips = [sm_120a]) and the t64-layout "
           "quantize kernels it reads V from">,
    Option<"tcgen05Mma", "tcgen05-mma", "bool", /*default=*/"false",
           "Also generate the sm_100a forward on tcgen05 block-scaled MMA "
           "(attention_fwd_tcgen05_*, attnqat.chips = [sm_100a]; modes fp4, qat) "
           "and the t64-layout quantize kernels it reads V from">,
    Option<"warpgroupMma", "warpgroup-mma", "bool", /*default=*/"false",
           "Also generate the sm_90a forward on wgmma with a producer "
           "warpgroup (attention_fwd_wg_*) and the backward on wgmma "
           "(attention_bwd_wg_*), attnqat.chips = [sm_90a], for the BF16 "
           "attentions and backwards the tensor-core kernels cover; the ops "
           "link to them">,
    Option<"tmaLoads", "tma-loads", "bool", /*default=*/"false",
           "The sm_90a wgmma forward loads Q, K and V by TMA "
           "(cp.async.bulk.tensor, 128-byte swizzle) from three tensor-map "
           "parameters q_map, k_map, v_map (attnqat.tensor_maps) that the "
           "runtime encodes, instead of by cp.async">,
    Option<"backwardTmaLoads", "backward-tma-loads", "bool", /*default=*/"false",
           "The sm_90a wgmma backward loads Q, dO, K and V by TMA "
           "(cp.async.bulk.tensor, 128-byte swizzle) from four tensor-map "
           "parameters q_map, k_map, v_map, do_map (attnqat.tensor_maps) that "
           "the runtime encodes, instead of by cp.async; only the kernels "
           "at D = 128 but the causal ones of modes none and dropin, where "
           "TMA ran slower">,
    Option<"dumpPCodes", "dump-p-codes", "bool", /*default=*/"false",
           "Tensor-core kernels (quantized forward, qat backward) also write "
           "the E2M1 codes, scales and frames they quantized P with "
           "(p_codes, p_scales, p_frames; names end in _pdump), for the "
           "matched-recomputation check of the device test">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::nvgpu::NVGPUDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def AttnQATExternDynamicShared
    : Pass<"attnqat-extern-dynamic-shared", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Declare the dynamic shared memory of lowered kernels as .extern .shared";
  let description = [{
    `gpu.dynamic_shared_memory` lowers to an internal zero-sized
    `addr_space = 3` global, which PTX then declares as a one-byte static
    `.shared` variable: dynamic shared memory works only while that variable
    is laid out after every other static one. In a module with a single
    kernel the NVPTX back end moves (demotes) all of them into the kernel,
    and a static workgroup attribution can then land after it, overlapping
    the dynamic region (the backward's row statistics did: misaligned
    addresses on the H200). This pass makes those globals external
    declarations, which PTX spells `.extern .shared .b8 name[]`: the
    dynamic region, after all static shared memory, whatever the module
    holds. Runs on the LLVM dialect of a `gpu.module`, before translation.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def AttnQATTensorMapParams
    : Pass<"attnqat-tensor-map-params", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Pass the TMA tensor maps of lowered kernels by value, as grid constants";
  let description = [{
    A kernel that loads by TMA (`cp.async.bulk.tensor`) takes each tensor
    map as a 128-byte kernel parameter, 64-byte aligned, which the runtime
    encodes per launch (`cuTensorMapEncodeTiled`) and the instruction reads
    in the parameter space. The generator declares those parameters as
    `!llvm.ptr` and lists them in `attnqat.tensor_maps` (role -> geometry);
    the GPU-to-NVVM conversion drops argument attributes it does not know,
    so this pass, on the lowered `llvm.func`, marks each listed argument
    `llvm.byval = !llvm.array<128 x i8>`, `llvm.align = 64` and
    `nvvm.grid_constant`: PTX then declares `.param .align 64 .b8 x[128]`
    and takes its address with `cvta.param`, without a local copy. A listed
    role that is not a pointer parameter of the kernel is an error. Runs on
    the LLVM dialect of a `gpu.module`, before translation.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect", "::mlir::NVVM::NVVMDialect"];
}

#endif // ATTNQAT_CONVERSION_PASSES_TD
