// The sm_90a forward on wgmma (warpgroup-mma): a producer warpgroup loading Q,
// K, V by cp.async (here with tma-loads=false; the TMA loads the pipeline makes
// by default are in attention-wg-tma.mlir) into 128-byte-swizzled shared
// memory (an mbarrier per stage), consumer warpgroups of 64 query rows (three; two in qat at D = 128,
// whose O and O' take 128 registers) running S = Q K^T and O += P V (O' in
// qat) as wgmma, P from registers. Same ops as the
// mma.sync kernels' test; the device test runs both on the same cases.
//
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels="warpgroup-mma=true" | FileCheck %s
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels | FileCheck %s --check-prefix=OFF
// RUN: attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=isa warpgroup-mma=true tma-loads=false" | FileCheck %s --check-prefix=PTX
// RUN: %if ptxas %{ attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=isa warpgroup-mma=true tma-loads=false" | %python %attnqat_src_root/scripts/ptx-report --chip sm_90a --ptxas %ptxas --only _wg_ | FileCheck %s --check-prefix=PTXAS %}
// RUN: %if ptxas %{ attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=isa warpgroup-mma=true tma-loads=false" | %python %attnqat_src_root/scripts/ptx-report --chip sm_90a --ptxas %ptxas --only _wg_ | FileCheck %s --check-prefix=PTXASWARN %}
// Only sm_90a has wgmma: other chips' pipelines leave it out.
// RUN: attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_120a format=isa warpgroup-mma=true" | FileCheck %s --check-prefix=OFF
// RUN: attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=isa warpgroup-mma=true tma-loads=false" | FileCheck %s --check-prefix=BITS
// RUN: attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=isa warpgroup-mma=true tma-loads=false" | FileCheck %s --check-prefix=NEAR

// The op links to the wgmma kernel; the mma.sync one stays in the module.
// CHECK-DAG: attnqat.kernel = @attnqat_kernels::@attention_fwd_wg_qat_pnvfp42_causal_d128_bf16
// CHECK-DAG: attnqat.kernel = @attnqat_kernels::@attention_fwd_wg_none_d64_bf16
// CHECK-DAG: gpu.func @attention_fwd_tc_qat_pnvfp42_causal_d128_bf16(
// CHECK-DAG: gpu.func @attention_fwd_wg_qat_pnvfp42_causal_d128_bf16({{.*}}attnqat.chips = ["sm_90a"], attnqat.constraints = ["D == 128"], attnqat.launch = {block = 384 : i64, dynamic_shared = 132176 : i64, grid = ["ceil(M/128)", "Hq", "B"]}, attnqat.params = ["q", "k", "v", "o", "o_prime", "lse", "m", "l", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// Elsewhere three consumer warpgroups (192 rows, 152 registers each), two
// stages of K and V (16 KiB each at D = 64); three stages where the visible
// tiles run pipelined (mode none, not causal). These blocks are persistent,
// one per SM, and keep two Q buffers (24 KiB each) to load the next unit's.
// CHECK-DAG: gpu.func @attention_fwd_wg_none_d64_bf16({{.*}}attnqat.launch = {block = 512 : i64, dynamic_shared = 99408 : i64, grid = ["SMs", "1", "1"]}
// CHECK-DAG: gpu.func @attention_fwd_wg_qat_pnvfp42_causal_mask11f32_lens_d64_bf16({{.*}}attnqat.launch = {block = 512 : i64, dynamic_shared = 83008 : i64, grid = ["SMs", "1", "1"]}
// CHECK-DAG: nvvm.setmaxregister increase 152
// setmaxnreg needs the entry register count: 65536 / 384 rounded down to 8.
// CHECK-DAG: nvvm.maxnreg = 168 : i32
// CHECK-DAG: nvvm.maxnreg = 128 : i32
// CHECK-DAG: nvvm.setmaxregister decrease 56
// qat at D = 128: producer 40, two consumers of 232.
// CHECK-DAG: nvvm.setmaxregister decrease 40
// CHECK-DAG: nvvm.setmaxregister increase 232
// CHECK-DAG: nvvm.cp.async.mbarrier.arrive {{.*}}noinc = true
// CHECK-DAG: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-DAG: llvm.inline_asm has_side_effects {{.*}}wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}p, 1, 1, 0, 0;
// CHECK-DAG: llvm.inline_asm has_side_effects {{.*}}wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}p, 1, 1, 1;
// CHECK-DAG: wgmma.commit_group.sync.aligned;
// OFF-NOT: attention_fwd_wg_

// PTX: .entry attention_fwd_wg_qat_pnvfp42_causal_d128_bf16(
// PTX-SAME: .maxntid 384, 1, 1
// A block per query tile (qat, D = 128); causal: counted from the grid's
// end (the long ones first).
// PTX-SAME: %nctaid.x
// PTX-SAME: setmaxnreg.dec.sync.aligned.u32 {{[^;]*}}40;
// PTX-SAME: setmaxnreg.inc.sync.aligned.u32 {{[^;]*}}232;
// The consumer warpgroup's index broadcast from lane 0 (warp-uniform to
// ptxas, so Q's descriptors live in uniform registers), before any wgmma.
// PTX-SAME: shfl.sync.idx.b32 {{[^;]*}}, 0, 31, -1;
// PTX-SAME: mbarrier.try_wait.parity.shared.b64
// PTX-SAME: wgmma.fence.sync.aligned
// PTX-SAME: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// PTX-SAME: wgmma.wait_group.sync.aligned 0
// Its fully visible tiles pipelined (the edge tiles after them one at a
// time): S of tile j, P_{j-1} V_{j-1}, the wait for S alone.
// PTX-SAME: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// PTX-SAME: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX-SAME: wgmma.wait_group.sync.aligned 1;
// PTX-SAME: wgmma.wait_group.sync.aligned 0;
// PTX-SAME: cp.async.cg.shared.global
// PTX-SAME: cp.async.mbarrier.arrive.noinc.shared.b64
// Mode none, not causal: the visible tiles pipelined. Each step issues S of
// tile j, then P_{j-1} V_{j-1}, and waits for S alone (wait_group 1); the
// softmax follows, then the wait for P V.
// PTX: .entry attention_fwd_wg_none_d128_bf16(
// PTX-SAME: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// PTX-SAME: wgmma.commit_group.sync.aligned;
// PTX-SAME: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX-SAME: wgmma.commit_group.sync.aligned;
// PTX-SAME: wgmma.wait_group.sync.aligned 1;
// PTX-SAME: ex2.approx.ftz.f32
// PTX-SAME: wgmma.wait_group.sync.aligned 0;
// PTX-SAME: mbarrier.arrive
// PTX: .entry attention_fwd_wg_qat_pnvfp42_causal_mask11f32_lens_d64_bf16(
// PTX-SAME: .maxntid 512, 1, 1
// PTX-SAME: .maxnreg 128
// Persistent: a block's rounds of units are G = %nctaid.x apart.
// PTX-SAME: %nctaid.x
// PTX-SAME: setmaxnreg.inc.sync.aligned.u32 {{[^;]*}}152;
// S, its wait, the softmax, then P V.
// PTX-SAME: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{[^;]*}}p, 1, 1, 0, 0;
// PTX-SAME: wgmma.commit_group.sync.aligned;
// PTX-SAME: wgmma.wait_group.sync.aligned 0;
// PTX-SAME: ex2.approx.ftz.f32
// Three consumers: a P block's amax is P~ of its largest score, taken after
// the lanes' reduce-scatter of the score maxima (xor 1, then 2) and before
// the scales' all-gather (shfl.idx).
// PTX-SAME: shfl.sync.bfly.b32 {{[^;]*}}, 2, 31, -1;
// PTX-SAME: shfl.sync.bfly.b32 {{[^;]*}}, 2, 31, -1;
// PTX-NOT: shfl.sync.idx
// PTX-SAME: ex2.approx.ftz.f32
// PTX-SAME: shfl.sync.idx
// PTX-SAME: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{[^;]*}}p, 1, 1, 1;
// PTX-SAME: wgmma.commit_group.sync.aligned;
// PTX-SAME: wgmma.wait_group.sync.aligned 0;
// qat at D = 128: pipelined the same way (O and O' += P V in flight through
// the next tile's softmax and P codec), NVFP4 and MXFP4 alike.
// NVFP4 P^F's A fragments are the packed codes times their block scales in
// BF16 (exact), one mul.rn.bf16x2 per pair; MXFP4's scales reach f32's
// subnormals and keep f32: P^F rounded in P~'s own binade and saturated at
// each block's 6 s (a register), with no quotient, no product and no
// saturation at the immediate 6.
// The block amax from the largest score here too, held behind the row's
// sum of P~ (max with min(l, 0)).
// PTX: .entry attention_fwd_wg_qat_pnvfp42_d128_bf16(
// PTX-SAME: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// PTX-SAME: mul.rn.bf16x2
// PTX-SAME: wgmma.commit_group.sync.aligned;
// PTX-SAME: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX-SAME: wgmma.commit_group.sync.aligned;
// PTX-SAME: wgmma.wait_group.sync.aligned 1;
// PTX-SAME: ex2.approx.ftz.f32
// PTX-SAME: shfl.sync.bfly.b32 {{[^;]*}}, 2, 31, -1;
// PTX-SAME: shfl.sync.bfly.b32 {{[^;]*}}, 2, 31, -1;
// PTX-NOT: shfl.sync.idx
// PTX-SAME: min.NaN.f32 {{[^;]*}}, 0f00000000;
// PTX-NOT: shfl.sync.idx
// PTX-SAME: ex2.approx.ftz.f32
// PTX-SAME: shfl.sync.idx
// PTX-SAME: wgmma.wait_group.sync.aligned 0;
// NVFP4 P~ by bits (TileBuilder::pTildeInRow): the floor by an add
// rounding down, no cvt.rmi (FRND shares the quarter-rate XU pipe with
// ex2); MXFP4, whose scales resolve P~ below 2^-124, keeps pTilde. (The
// non-causal kernel's near-frame loop takes its block amax by pTilde: one
// cvt.rmi per block, not per score.)
// BITS: .entry attention_fwd_wg_qat_pnvfp42_causal_d128_bf16(
// BITS-NOT: cvt.rmi.f32.f32
// BITS-SAME: add.rm.f32
// BITS-NOT: cvt.rmi.f32.f32
// BITS-SAME: .entry attention_fwd_tc_none_d128_bf16(
// BITS-SAME: .entry attention_fwd_wg_qat_pnvfp42_d128_bf16(
// BITS-SAME: add.rm.f32
// BITS-SAME: .entry attention_fwd_tc_qat_pmxfp41_d128_bf16(
// BITS-SAME: .entry attention_fwd_wg_qat_pmxfp41_d128_bf16(
// BITS-NOT: add.rm.f32
// BITS-SAME: cvt.rmi.f32.f32
// BITS-NOT: add.rm.f32
// The near-frame loop (WgmmaAttention's nearFrameSplit): only the
// non-causal pipelined qat NVFP4 forward bounds its rows' scores
// (bar.red.and over the warpgroup) and traps on a far frame, checked
// after the first and the last tile; causal, MXFP4 and the mma.sync
// forwards have neither.
// NEAR: .entry attention_fwd_wg_qat_pnvfp42_causal_d128_bf16(
// NEAR-NOT: bar.red.and
// NEAR-NOT: trap;
// NEAR-SAME: .entry attention_fwd_tc_qat_pnvfp42_d128_bf16(
// NEAR-NOT: bar.red.and
// NEAR-NOT: trap;
// NEAR-SAME: .entry attention_fwd_wg_qat_pnvfp42_d128_bf16(
// NEAR-SAME: bar.red.and.pred
// NEAR-SAME: trap; exit;
// NEAR-SAME: trap; exit;
// NEAR-NOT: trap;
// NEAR-SAME: .entry attention_fwd_tc_qat_pmxfp41_d128_bf16(
// NEAR-NOT: bar.red.and
// NEAR-NOT: trap;
// PTX: .entry attention_fwd_wg_qat_pmxfp41_d128_bf16(
// PTX-SAME: shfl.sync.idx.b32 {{[^;]*}}, 0, 31, -1;
// PTX-NOT: min.NaN.f32 {{[^;]*}}, 0f40C00000;
// PTX-SAME: mul.rn.f32 {{[^;]*}}, 0f40C00000;
// PTX-NOT: min.NaN.f32 {{[^;]*}}, 0f40C00000;
// PTX-SAME: min.NaN.f32 {{[^;%]*}}%r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}};
// PTX-NOT: min.NaN.f32 {{[^;]*}}, 0f40C00000;
// PTX-NOT: mul.rn.bf16x2
// PTX-SAME: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// PTX-NOT: mul.rn.bf16x2
// PTX-SAME: wgmma.wait_group.sync.aligned 1;
// PTX-NOT: mul.rn.bf16x2
// PTX-SAME: wgmma.wait_group.sync.aligned 0;

// Registers: 168 at launch (384 threads; 128 for 512), re-split by setmaxnreg; D/16 S
// wgmmas and 4 (8 in qat) P V wgmmas per key tile, in each of the two loops
// (tiles with and without visibility tests); the pipelined loop of mode none
// adds a prologue (S of its first tile) and an epilogue (P V of its last).
// PTXAS-DAG: attention_fwd_wg_none_d64_bf16 regs={{[0-9]+}} spill=0 {{.*}}wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16x24
// PTXAS-DAG: attention_fwd_wg_none_d128_bf16 regs=128 spill=0 {{.*}}wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16x12 wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16x24
// PTXAS-DAG: attention_fwd_wg_qat_pnvfp42_causal_d128_bf16 regs=168 spill=0 {{.*}}wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16x24 wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16x24
// PTXAS-DAG: attention_fwd_wg_qat_pnvfp42_d128_bf16 regs=168 spill=0
// PTXAS-DAG: attention_fwd_wg_qat_pmxfp41_d128_bf16 regs=168 spill=0
// ptxas keeps setmaxnreg (no C7508) and the wgmma pipeline (no C7514).
// PTXASWARN: attention_fwd_wg_
// PTXASWARN-NOT: Potential Performance Loss

func.func @kernels(%q64: tensor<1x4x64x64xbf16>, %k64: tensor<1x2x64x64xbf16>,
                   %q: tensor<1x4x64x128xbf16>, %k: tensor<1x2x64x128xbf16>,
                   %mask: tensor<1x1x64x64xf32>, %lens: tensor<1xi32>)
    -> (tensor<1x4x64x64xbf16>, tensor<1x4x64x128xbf16>, tensor<1x4x64x128xbf16>,
        tensor<1x4x64x64xbf16>, tensor<1x4x64x128xbf16>, tensor<1x4x64x128xbf16>) {
  %o1, %l1 = attnqat.attention %q64, %k64, %k64 {config = #attnqat.config<mode = none>} : tensor<1x4x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x4x64x64xbf16>, tensor<1x4x64xf32>
  %o2, %l2 = attnqat.attention %q, %k, %k causal {config = #attnqat.config<mode = qat>} : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>
  %o3, %l3 = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = none>} : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>
  %o4, %l4 = attnqat.attention %q64, %k64, %k64 mask(%mask) key_lengths(%lens) causal {config = #attnqat.config<mode = qat>} : tensor<1x4x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> mask tensor<1x1x64x64xf32> key_lengths tensor<1xi32> -> tensor<1x4x64x64xbf16>, tensor<1x4x64xf32>
  %o5, %l5 = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = qat>} : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>
  %o6, %l6 = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = qat, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>
  return %o1, %o2, %o3, %o4, %o5, %o6 : tensor<1x4x64x64xbf16>, tensor<1x4x64x128xbf16>, tensor<1x4x64x128xbf16>, tensor<1x4x64x64xbf16>, tensor<1x4x64x128xbf16>, tensor<1x4x64x128xbf16>
}
