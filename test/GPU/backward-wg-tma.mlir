// The sm_90a wgmma backward with `backward-tma-loads`: one thread loads K
// and V once and each work item's Q and dO by TMA (cp.async.bulk.tensor,
// 3-D boxes of 64 columns by 64 rows, 128-byte swizzle) from four tensor
// maps the runtime encodes per launch, passed by value as grid constants;
// an mbarrier for K and V and one per Q/dO stage each take that thread's
// one arrival with the bytes its loads complete, and every thread waits on
// them. The row statistics keep their 4-byte cp.async. Only the kernels at
// D = 128 take them, and not the causal ones of modes none and dropin (where
// TMA ran slower on the H200): the D = 64 and the causal none kernels here
// keep cp.async, the non-causal none kernel takes the maps.
//
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels="warpgroup-mma=true backward-tma-loads=true" | FileCheck %s
// RUN: attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=isa backward-tma-loads=true" > %t.mlir
// RUN: FileCheck %s --check-prefix=PTX < %t.mlir
// RUN: FileCheck %s --check-prefix=PTX-WAIT < %t.mlir
// RUN: %if ptxas %{ %python %attnqat_src_root/scripts/ptx-report --chip sm_90a --ptxas %ptxas --only _bwd_wg_ < %t.mlir | FileCheck %s --check-prefix=PTXAS %}
// Without the option (the pass's default; the pipeline and attnqat-compile
// turn it on) the backward takes no tensor map.
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels="warpgroup-mma=true" | FileCheck %s --check-prefix=OFF

// The maps come right before the problem dims: [B*H][rows][D], a box of 64
// columns by 64 rows (a warpgroup's keys; an item's query rows); dO maps
// like Q (its query heads). 24 more bytes of shared memory for the three
// mbarriers (181248 without).
// CHECK-DAG: gpu.func @attention_bwd_wg_qat_pnvfp42_causal_d128_bf16({{.*}}!llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: index{{.*}}attnqat.launch = {block = 256 : i64, dynamic_shared = 181272 : i64, grid = ["ceil(N/128)", "Hkv", "B"]}, attnqat.params = ["q", "k", "v", "m", "l", "delta", "do", "dq_tiles", "dk", "dv", "q_map", "k_map", "v_map", "do_map", "B", "Hq", "Hkv", "M", "N", "D", "scale"], attnqat.tensor_maps = {do_map = {box = array<i64: 64, 64, 1>, dims = ["D", "M", "B*Hq"], of = "do", swizzle = 128 : i64}, k_map = {box = array<i64: 64, 64, 1>, dims = ["D", "N", "B*Hkv"], of = "k", swizzle = 128 : i64}, q_map = {box = array<i64: 64, 64, 1>, dims = ["D", "M", "B*Hq"], of = "q", swizzle = 128 : i64}, v_map = {box = array<i64: 64, 64, 1>, dims = ["D", "N", "B*Hkv"], of = "v", swizzle = 128 : i64}}
// CHECK-DAG: gpu.func @attention_bwd_wg_qat_pnvfp42_causal_mask11f32_lens_d64_bf16({{.*}}attnqat.params = ["q", "k", "v", "mask", "key_lengths", "m", "l", "delta", "do", "dq_tiles", "dk", "dv", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// CHECK-DAG: gpu.func @attention_bwd_wg_none_causal_d128_bf16({{.*}}attnqat.params = ["q", "k", "v", "m", "l", "delta", "do", "dq_tiles", "dk", "dv", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// CHECK-DAG: gpu.func @attention_bwd_wg_none_d128_bf16({{.*}}attnqat.params = ["q", "k", "v", "m", "l", "delta", "do", "dq_tiles", "dk", "dv", "q_map", "k_map", "v_map", "do_map", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// The mma.sync backward keeps its cp.async loads and takes no map.
// CHECK-DAG: gpu.func @attention_bwd_tc_qat_pnvfp42_causal_d128_bf16({{.*}}attnqat.params = ["q", "k", "v", "m", "l", "delta", "do", "dq_acc", "dk", "dv", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// OFF-NOT: do_map

// PTX: .entry attention_bwd_wg_qat_pnvfp42_causal_d128_bf16(
// PTX: .param .align 64 .b8 attention_bwd_wg_qat_pnvfp42_causal_d128_bf16_param_10[128],
// PTX: .param .align 64 .b8 attention_bwd_wg_qat_pnvfp42_causal_d128_bf16_param_11[128],
// PTX: .param .align 64 .b8 attention_bwd_wg_qat_pnvfp42_causal_d128_bf16_param_12[128],
// PTX: .param .align 64 .b8 attention_bwd_wg_qat_pnvfp42_causal_d128_bf16_param_13[128]
// The maps are read where they are (no local copy).
// PTX-NOT: .local
// PTX: cvta.param.u64
// PTX-COUNT-3: mbarrier.init.shared.b64
// K and V once: 2 warpgroups x 2 column blocks x (K, V).
// PTX: mbarrier.arrive.expect_tx
// PTX-COUNT-8: cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// Then per item Q and dO, 2 column blocks each.
// PTX: mbarrier.arrive.expect_tx
// PTX-COUNT-4: cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// No 16-byte cp.async copies are left in the kernel.
// PTX-NOT: cp.async.cg
// PTX: .entry attention_bwd_wg_dq_bf16(
// The D = 64 kernel copies by cp.async.
// PTX: .entry attention_bwd_wg_qat_pnvfp42_causal_mask11f32_lens_d64_bf16(
// PTX-NOT: cp.async.bulk.tensor
// PTX: cp.async.cg

// Every thread waits on the mbarriers (K and V, then item 0's stage, before
// the loop; the next item's stage before the barrier that precedes dQ),
// after the statistics' cp.async and before the proxy fence that dS^T's
// stores still need.
// PTX-WAIT: .entry attention_bwd_wg_qat_pnvfp42_causal_d128_bf16(
// PTX-WAIT: cp.async.wait_all;
// PTX-WAIT: mbarrier.try_wait.parity.shared.b64
// PTX-WAIT: cp.reduce.async.bulk.global.shared::cta.bulk_group.add.f32
// PTX-WAIT: .entry attention_bwd_wg_dq_bf16(

// Registers (ptxas 13). The causal kernel at D = 128 spills a few bytes
// more than with cp.async (0 there; likely the Q and dO maps' addresses,
// held through the item loop).
// PTXAS-DAG: attention_bwd_wg_qat_pnvfp42_causal_d128_bf16 regs=255 spill={{[0-9]|1[0-6]}} {{.*}}wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16x8 wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16x24
// PTXAS-DAG: attention_bwd_wg_none_d128_bf16 regs={{[0-9]+}} spill=0
// PTXAS-DAG: attention_bwd_wg_qat_pnvfp42_causal_mask11f32_lens_d64_bf16 regs={{[0-9]+}} spill=0 {{.*}}wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16x8 wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16x20

!qatc128 = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x4x64x128xbf16>, key = tensor<1x2x64x128xbf16>, scale = 0.0883883461 : f32, causal = true>
!none128 = !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<1x4x64x128xbf16>, key = tensor<1x2x64x128xbf16>, scale = 0.0883883461 : f32>
!nonec128 = !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<1x4x64x128xbf16>, key = tensor<1x2x64x128xbf16>, scale = 0.0883883461 : f32, causal = true>
!masked64 = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<2x4x64x64xbf16>, key = tensor<2x2x70x64xbf16>, scale = 1.250000e-01 : f32, causal = true, mask = tensor<1x1x64x70xf32>, key_lengths = true>
func.func @train(%q: tensor<1x4x64x128xbf16>, %k: tensor<1x2x64x128xbf16>, %do: tensor<1x4x64x128xbf16>,
                 %qm: tensor<2x4x64x64xbf16>, %km: tensor<2x2x70x64xbf16>, %mask: tensor<1x1x64x70xf32>, %lens: tensor<2xi32>, %dom: tensor<2x4x64x64xbf16>)
    -> (tensor<1x4x64x128xbf16>, tensor<1x4x64x128xbf16>, tensor<1x4x64x128xbf16>, tensor<2x4x64x64xbf16>) {
  %o1, %l1, %s1 = attnqat.attention %q, %k, %k causal {config = #attnqat.config<mode = qat>} : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>, !qatc128
  %dq1, %dk1, %dv1 = attnqat.attention_backward %s1, %do : !qatc128, tensor<1x4x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16>
  %o4, %l4, %s4 = attnqat.attention %qm, %km, %km mask(%mask) key_lengths(%lens) causal {config = #attnqat.config<mode = qat>} : tensor<2x4x64x64xbf16>, tensor<2x2x70x64xbf16>, tensor<2x2x70x64xbf16> mask tensor<1x1x64x70xf32> key_lengths tensor<2xi32> -> tensor<2x4x64x64xbf16>, tensor<2x4x64xf32>, !masked64
  %dq4, %dk4, %dv4 = attnqat.attention_backward %s4, %dom : !masked64, tensor<2x4x64x64xbf16> -> tensor<2x4x64x64xbf16>, tensor<2x2x70x64xbf16>, tensor<2x2x70x64xbf16>
  %o2, %l2, %s2 = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = none>} : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>, !none128
  %dq2, %dk2, %dv2 = attnqat.attention_backward %s2, %do : !none128, tensor<1x4x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16>
  %o3, %l3, %s3 = attnqat.attention %q, %k, %k causal {config = #attnqat.config<mode = none>} : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>, !nonec128
  %dq3, %dk3, %dv3 = attnqat.attention_backward %s3, %do : !nonec128, tensor<1x4x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16>
  return %dq1, %dq2, %dq3, %dq4 : tensor<1x4x64x128xbf16>, tensor<1x4x64x128xbf16>, tensor<1x4x64x128xbf16>, tensor<2x4x64x64xbf16>
}
