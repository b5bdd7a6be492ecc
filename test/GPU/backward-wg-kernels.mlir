// The sm_90a backward on wgmma (warpgroup-mma): two warpgroups per 128 keys,
// S^T = K Q^T and dP^T = V dO^T from shared memory (m64n64k16), dV and dK
// with P^F^T and dS^T from registers (m64n<D>k16, B MN-major), dQ = dS K
// with dS^T read transposed from shared memory, added to f32 tiles of dQ by
// one bulk reduction per tile, and a post-pass that writes dQ in BF16. Same
// ops as the mma.sync backward's test; the device test runs both on the same
// cases.
//
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels="warpgroup-mma=true" | FileCheck %s
// RUN: attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=isa warpgroup-mma=true backward-tma-loads=false" > %t.ptx
// RUN: FileCheck %s --check-prefix=PTX < %t.ptx
// RUN: FileCheck %s --check-prefix=DQ < %t.ptx
// RUN: FileCheck %s --check-prefix=SCHED < %t.ptx
// RUN: FileCheck %s --check-prefix=DIAG < %t.ptx
// RUN: FileCheck %s --check-prefix=FENCE < %t.ptx
// RUN: %if ptxas %{ attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=isa warpgroup-mma=true backward-tma-loads=false" | %python %attnqat_src_root/scripts/ptx-report --chip sm_90a --ptxas %ptxas --only _bwd_wg_ | FileCheck %s --check-prefix=PTXAS %}
// Only sm_90a has wgmma: other chips' pipelines leave it out.
// RUN: attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_120a format=isa warpgroup-mma=true" | FileCheck %s --check-prefix=OFF

// The ops link to the wgmma backward (the mma.sync one stays in the module)
// and its dQ post-pass; the mma.sync parameters but dq_tiles (16-byte
// aligned, padded to whole tiles of 64 rows) for dq_acc, 16-byte aligned Q,
// K, V, dO rows (cp.async); blocks of two warpgroups on 128 keys.
// CHECK-DAG: attnqat.attention_backward {{.*}}attnqat.kernel = @attnqat_kernels::@attention_bwd_wg_qat_pnvfp42_causal_d128_bf16, attnqat.post_kernel = @attnqat_kernels::@attention_bwd_wg_dq_bf16, attnqat.pre_kernel = @attnqat_kernels::@attention_bwd_tc_delta_obf16_bf16
// CHECK-DAG: gpu.func @attention_bwd_tc_qat_pnvfp42_causal_d128_bf16({{.*}}attnqat.params = ["q", "k", "v", "m", "l", "delta", "do", "dq_acc", "dk", "dv",
// CHECK-DAG: gpu.func @attention_bwd_wg_qat_pnvfp42_causal_d128_bf16({{.*}}attnqat.align = {dk = 4 : i64, do = 16 : i64, dq_tiles = 16 : i64, dv = 4 : i64, k = 16 : i64, q = 16 : i64, v = 16 : i64}, attnqat.chips = ["sm_90a"], attnqat.constraints = ["D == 128"], attnqat.extents = {dq_tiles = "B*Hq*ceil(M/64)*64*D"}{{.*}}attnqat.launch = {block = 256 : i64, dynamic_shared = 181248 : i64, grid = ["ceil(N/128)", "Hkv", "B"]}, attnqat.params = ["q", "k", "v", "m", "l", "delta", "do", "dq_tiles", "dk", "dv", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// CHECK-DAG: gpu.func @attention_bwd_wg_none_d64_bf16({{.*}}attnqat.launch = {block = 256 : i64, dynamic_shared = 99328 : i64, grid = ["ceil(N/128)", "Hkv", "B"]}
// CHECK-DAG: gpu.func @attention_bwd_wg_dq_bf16({{.*}}attnqat.align = {dq = 16 : i64, dq_tiles = 16 : i64}, attnqat.constraints = ["D in {64, 128}"], attnqat.extents = {dq_tiles = "B*Hq*ceil(M/64)*64*D"}{{.*}}attnqat.launch = {block = 128 : i64, grid = ["ceil(M/64)", "Hq", "B"]}, attnqat.params = ["dq_tiles", "dq", "B", "Hq", "Hkv", "M", "N", "D"]
// CHECK-DAG: gpu.func @attention_bwd_wg_dropin_pnvfp42_d128_bf16(
// CHECK-DAG: gpu.func @attention_bwd_wg_qat_pnvfp42_causal_mask11f32_lens_d64_bf16(
// OFF-NOT: attention_bwd_wg_

// PTX: .entry attention_bwd_wg_qat_pnvfp42_causal_d128_bf16(
// PTX-SAME: cp.async.cg.shared.global
// PTX-SAME: fence.proxy.async.shared::cta
// PTX-SAME: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{[^;]*}}p, 1, 1, 0, 0;
// PTX-SAME: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{[^;]*}}p, 1, 1, 1;
// dS^T's BF16 pairs go to shared memory as 32-bit stores (a store of
// unknown alignment was split into two 16-bit ones).
// PTX-NOT: st.shared.b16
// dQ: A (dS^T, [key][row]) and B (K) both MN-major, a warpgroup's 64 columns.
// PTX-SAME: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{[^;]*}}p, 1, 1, 1, 1;
// PTX-NOT: atom.global.add.f32

// dQ's tile to shared memory, then one bulk reduction of the 32 KiB tile,
// once the previous item's has been read out (the loop's blocks are laid out
// rotated, hence DAG); no element-wise reductions. The post-pass turns two
// 16-byte f32 chunks into 16 bytes of BF16.
// DQ: .entry attention_bwd_wg_qat_pnvfp42_causal_d128_bf16(
// DQ-DAG: cp.async.bulk.wait_group.read 0;
// DQ-DAG: st.shared.v2.f32
// DQ-DAG: cp.reduce.async.bulk.global.shared::cta.bulk_group.add.f32 [%rd{{[0-9]+}}], [%r{{[0-9]+}}], 32768;
// DQ-DAG: cp.async.bulk.commit_group;
// DQ-DAG: cp.async.bulk.wait_group 0;
// DQ-NOT: red.global.add
// DQ: .entry attention_bwd_wg_dq_bf16(
// DQ-SAME: ld.global.v4.b32
// DQ-SAME: cvt.rn.bf16x2.f32
// DQ-SAME: st.global.v4.b32
// DQ-SAME: .entry attention_bwd_wg_none_d64_bf16(
// DQ-DAG: cp.reduce.async.bulk.global.shared::cta.bulk_group.add.f32 [%rd{{[0-9]+}}], [%r{{[0-9]+}}], 16384;
// DQ-NOT: red.global.add
// DQ: .entry

// The schedule: qat at D = 128 (no registers for dP^T's accumulators
// during the P codec) issues dP^T = V dO^T after P; either way dS is formed
// while dV (m64n<D>k16 from registers) multiplies: a wait for all but one
// group. Causal at D = 128 issues S^T at the item's start (a K-major
// m64n64k16 from shared memory); elsewhere S^T of the next item is issued
// after the dQ tile's stores and multiplies through the item-ending
// barrier, then is waited for.
// SCHED: .entry attention_bwd_wg_qat_pnvfp42_causal_d128_bf16(
// SCHED-NOT: p, 1, 1, 0, 0;\0A}\0A\09// end inline asm\0A\09// begin inline asm\0A\09wgmma.commit_group.sync.aligned;\0A\09// end inline asm\0A\09// begin inline asm\0A\09wgmma.wait_group.sync.aligned 1;
// SCHED-NOT: .entry
// SCHED-SAME: p, 1, 1, 1;\0A}\0A\09// end inline asm\0A\09// begin inline asm\0A\09wgmma.commit_group.sync.aligned;\0A\09// end inline asm\0A\09// begin inline asm\0A\09wgmma.wait_group.sync.aligned 1;
// SCHED-SAME: .entry attention_bwd_wg_none_d64_bf16(
// SCHED-NOT: .entry
// SCHED-SAME: st.shared.v2.f32
// SCHED-NOT: .entry
// SCHED-SAME: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// SCHED-NOT: .entry
// SCHED-SAME: wgmma.commit_group.sync.aligned;
// SCHED-NOT: .entry
// SCHED-SAME: bar.sync
// SCHED-NOT: .entry
// SCHED-SAME: wgmma.wait_group.sync.aligned 0;

// The dQ tile is written by st.shared (generic proxy) and read by the bulk
// reduction (async proxy): in every kernel the issuing thread fences the
// proxies right before it, with only the address arithmetic in between.
// FENCE-COUNT-4: fence.proxy.async.shared::cta;{{(\\0A\\09[a-z0-9.]+ \\09[^\\]*;)*}}\0A\09// begin inline asm\0A\09cp.reduce.async.bulk.global
// FENCE-NOT: cp.reduce.async.bulk

// Causal: only the items on the diagonal test key <= row, so the kernel at
// D = 128 recomputes P in two versions (32 exp2 per thread each); qat at
// D = 64 keeps one (the split ran 2% slower there).
// DIAG: .entry attention_bwd_wg_qat_pnvfp42_causal_d128_bf16(
// DIAG-COUNT-64: ex2.approx.ftz.f32
// DIAG-NOT: ex2.approx.ftz.f32
// DIAG: .entry attention_bwd_wg_dq_bf16(
// DIAG: .entry attention_bwd_wg_qat_pnvfp42_causal_mask11f32_lens_d64_bf16(
// DIAG-COUNT-32: ex2.approx.ftz.f32
// DIAG-NOT: ex2.approx.ftz.f32

// Per work item and warpgroup: D/16 + D/16 m64n64k16 (S^T, dP^T), 2 x 4
// m64n<D>k16 (dV, dK) and dQ: two warpgroups share a block of 128 keys and
// each computes half of dQ's columns over all of them (8 m64n<D/2>k16);
// where S^T of the next item is issued during the item, one more S^T
// before the loop (D/16 m64n64k16). Nothing spilled in qat at D = 128 (the
// per-warpgroup offsets are made anew in each item, so what is derived from
// them is not hoisted into registers); dropin at D = 128, with dP^T in
// flight during P, and qat at D = 64 with a mask and key lengths spill a
// few bytes.
// PTXAS-DAG: attention_bwd_wg_qat_pnvfp42_causal_d128_bf16 regs=255 spill=0 {{.*}}wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16x8 wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16x24
// PTXAS-DAG: attention_bwd_wg_dropin_pnvfp42_d128_bf16 regs={{[0-9]+}} spill={{[0-9]|1[0-6]}} {{.*}}wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16x8 wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16x32
// PTXAS-DAG: attention_bwd_wg_none_d64_bf16 regs={{[0-9]+}} spill=0 {{.*}}wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16x8 wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16x20
// PTXAS-DAG: attention_bwd_wg_qat_pnvfp42_causal_mask11f32_lens_d64_bf16 regs={{[0-9]+}} spill={{[0-4]}} {{.*}}wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16x8 wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16x20

!qatc128 = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x4x64x128xbf16>, key = tensor<1x2x64x128xbf16>, scale = 0.0883883461 : f32, causal = true>
!none64 = !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<1x4x64x64xbf16>, key = tensor<1x2x64x64xbf16>, scale = 1.250000e-01 : f32>
!dropin128 = !attnqat.state<config = #attnqat.config<mode = dropin>, query = tensor<1x4x64x128xbf16>, key = tensor<1x2x64x128xbf16>, scale = 0.0883883461 : f32>
!masked64 = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<2x4x64x64xbf16>, key = tensor<2x2x70x64xbf16>, scale = 1.250000e-01 : f32, causal = true, mask = tensor<1x1x64x70xf32>, key_lengths = true>
func.func @train(%q: tensor<1x4x64x128xbf16>, %k: tensor<1x2x64x128xbf16>, %do: tensor<1x4x64x128xbf16>,
                 %q64: tensor<1x4x64x64xbf16>, %k64: tensor<1x2x64x64xbf16>, %do64: tensor<1x4x64x64xbf16>,
                 %qm: tensor<2x4x64x64xbf16>, %km: tensor<2x2x70x64xbf16>, %mask: tensor<1x1x64x70xf32>, %lens: tensor<2xi32>, %dom: tensor<2x4x64x64xbf16>)
    -> (tensor<1x4x64x128xbf16>, tensor<1x4x64x64xbf16>, tensor<1x4x64x128xbf16>, tensor<2x4x64x64xbf16>) {
  %o1, %l1, %s1 = attnqat.attention %q, %k, %k causal {config = #attnqat.config<mode = qat>} : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>, !qatc128
  %dq1, %dk1, %dv1 = attnqat.attention_backward %s1, %do : !qatc128, tensor<1x4x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16>
  %o2, %l2, %s2 = attnqat.attention %q64, %k64, %k64 {config = #attnqat.config<mode = none>} : tensor<1x4x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x4x64x64xbf16>, tensor<1x4x64xf32>, !none64
  %dq2, %dk2, %dv2 = attnqat.attention_backward %s2, %do64 : !none64, tensor<1x4x64x64xbf16> -> tensor<1x4x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>
  %o3, %l3, %s3 = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = dropin>} : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>, !dropin128
  %dq3, %dk3, %dv3 = attnqat.attention_backward %s3, %do : !dropin128, tensor<1x4x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16>
  %o4, %l4, %s4 = attnqat.attention %qm, %km, %km mask(%mask) key_lengths(%lens) causal {config = #attnqat.config<mode = qat>} : tensor<2x4x64x64xbf16>, tensor<2x2x70x64xbf16>, tensor<2x2x70x64xbf16> mask tensor<1x1x64x70xf32> key_lengths tensor<2xi32> -> tensor<2x4x64x64xbf16>, tensor<2x4x64xf32>, !masked64
  %dq4, %dk4, %dv4 = attnqat.attention_backward %s4, %dom : !masked64, tensor<2x4x64x64xbf16> -> tensor<2x4x64x64xbf16>, tensor<2x2x70x64xbf16>, tensor<2x2x70x64xbf16>
  return %dq1, %dq2, %dq3, %dq4 : tensor<1x4x64x128xbf16>, tensor<1x4x64x64xbf16>, tensor<1x4x64x128xbf16>, tensor<2x4x64x64xbf16>
}
