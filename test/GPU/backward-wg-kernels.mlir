// The sm_90a backward on wgmma (warpgroup-mma): a warpgroup per 64 keys,
// S^T = K Q^T and dP^T = V dO^T from shared memory (m64n64k16), dV and dK
// with P^F^T and dS^T from registers (m64n<D>k16, B MN-major), dQ = dS K
// with dS^T read transposed from shared memory. Same ops as the mma.sync
// backward's test; the device test runs both on the same cases.
//
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels="warpgroup-mma=true" | FileCheck %s
// RUN: attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=isa warpgroup-mma=true" | FileCheck %s --check-prefix=PTX
// RUN: %if ptxas %{ attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=isa warpgroup-mma=true" | %python %attnqat_src_root/scripts/ptx-report --chip sm_90a --ptxas %ptxas --only _bwd_wg_ | FileCheck %s --check-prefix=PTXAS %}
// Only sm_90a has wgmma: other chips' pipelines leave it out.
// RUN: attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_120a format=isa warpgroup-mma=true" | FileCheck %s --check-prefix=OFF

// The ops link to the wgmma backward (the mma.sync one stays in the module);
// same parameters, 16-byte aligned Q, K, V, dO rows (cp.async); at D = 128
// blocks of two warpgroups on 128 keys, at D = 64 one on 64.
// CHECK-DAG: attnqat.attention_backward {{.*}}attnqat.kernel = @attnqat_kernels::@attention_bwd_wg_qat_pnvfp42_causal_d128_bf16, attnqat.pre_kernel = @attnqat_kernels::@attention_bwd_tc_delta_bf16
// CHECK-DAG: gpu.func @attention_bwd_tc_qat_pnvfp42_causal_d128_bf16(
// CHECK-DAG: gpu.func @attention_bwd_wg_qat_pnvfp42_causal_d128_bf16({{.*}}attnqat.align = {do = 16 : i64, dq_acc = 8 : i64, k = 16 : i64, q = 16 : i64, v = 16 : i64}, attnqat.chips = ["sm_90a"], attnqat.constraints = ["D == 128"]{{.*}}attnqat.launch = {block = 256 : i64, dynamic_shared = 148480 : i64, grid = ["ceil(N/128)", "Hkv", "B"]}, attnqat.params = ["q", "k", "v", "m", "l", "delta", "do", "dq_acc", "dk", "dv", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// CHECK-DAG: gpu.func @attention_bwd_wg_none_d64_bf16({{.*}}dynamic_shared = 58368
// CHECK-DAG: gpu.func @attention_bwd_wg_dropin_pnvfp42_d128_bf16(
// CHECK-DAG: gpu.func @attention_bwd_wg_qat_pnvfp42_causal_mask11f32_lens_d64_bf16(
// OFF-NOT: attention_bwd_wg_

// PTX: .entry attention_bwd_wg_qat_pnvfp42_causal_d128_bf16(
// PTX-SAME: cp.async.cg.shared.global
// PTX-SAME: fence.proxy.async.shared::cta
// PTX-SAME: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{[^;]*}}p, 1, 1, 0, 0;
// PTX-SAME: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{[^;]*}}p, 1, 1, 1;
// dQ: A (dS^T, [key][row]) and B (K) both MN-major, a warpgroup's 64 columns.
// PTX-SAME: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{[^;]*}}p, 1, 1, 1, 1;
// PTX-SAME: red.global.add.v2.f32 [%rd{{[0-9]+}}+32]
// PTX-NOT: atom.global.add.f32

// Per work item and warpgroup: D/16 + D/16 m64n64k16 (S^T, dP^T), 2 x 4
// m64n<D>k16 (dV, dK) and dQ: at D = 128 two warpgroups share a block of
// 128 keys and each computes 64 of dQ's columns over all of them (8
// m64n64k16), at D = 64 one warpgroup 4 m64n64k16; nothing spilled (the
// per-warpgroup tile offset is made anew in each item, so the descriptors
// derived from it are not hoisted into registers).
// PTXAS-DAG: attention_bwd_wg_qat_pnvfp42_causal_d128_bf16 regs=255 spill=0 {{.*}}wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16x8 wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16x24
// PTXAS-DAG: attention_bwd_wg_dropin_pnvfp42_d128_bf16 regs={{[0-9]+}} spill=0 {{.*}}wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16x8 wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16x24
// PTXAS-DAG: attention_bwd_wg_none_d64_bf16 regs={{[0-9]+}} spill=0 {{.*}}wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16x20
// PTXAS-DAG: attention_bwd_wg_qat_pnvfp42_causal_mask11f32_lens_d64_bf16 regs={{[0-9]+}} spill=0 {{.*}}wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16x20

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
