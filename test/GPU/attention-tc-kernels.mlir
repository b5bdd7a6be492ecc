// The tensor-core attention forward (BF16 mma.sync m16n8k16, ldmatrix,
// cp.async; softmax, P quantization and O' in registers) for the cases the
// device test runs. Source of runtime/test's attention_tc artifact.
//
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels | FileCheck %s
// RUN: attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=isa" | FileCheck %s --check-prefix=PTX
// RUN: %if ptxas %{ attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=bin" | FileCheck %s --check-prefix=BIN %}
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels="dump-p-codes=true" | FileCheck %s --check-prefix=DUMP
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels="packed-operands=true" | FileCheck %s --check-prefix=PACKED
// packed-operands adds qat/dropin variants that read Q, K, V as codes and
// scales (a packed saved state); the op keeps its BF16 kernel.
// PACKED-DAG: attnqat.kernel = @attnqat_kernels::@attention_fwd_tc_qat_pnvfp42_causal_d128_bf16,
// PACKED-DAG: gpu.func @attention_fwd_tc_qat_pnvfp42_causal_d128_bf16_packed({{.*}}xi8>, %{{.*}}: memref<1099511627776xbf16>, %{{.*}}: memref<1099511627776xbf16>, %{{.*}}: memref<1099511627776xf32>{{.*}}attnqat.params = ["q", "k", "v", "q_scales", "k_scales", "v_scales", "o", "o_prime", "lse", "m", "l", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// PACKED-DAG: gpu.func @attention_bwd_tc_qat_pnvfp42_causal_d128_bf16_packed({{.*}}attnqat.extents = {k = "B*Hkv*N*ceil(D/2)", k_scales = "B*Hkv*N*ceil(D/16)", q = "B*Hq*M*ceil(D/2)", q_scales = "B*Hq*M*ceil(D/16)", v = "B*Hkv*ceil(N/2)*D", v_scales = "B*Hkv*ceil(N/16)*D"}{{.*}}attnqat.params = ["q", "k", "v", "q_scales", "k_scales", "v_scales", "m", "l", "delta", "do", "dq_acc", "dk", "dv", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// PACKED-DAG: gpu.func @attention_fwd_tc_dropin_pnvfp42_d128_bf16_packed(
// The packed state keeps O' in BF16 (o, o_prime: bf16, then lse: f32); its
// delta pre-pass reads BF16.
// PACKED-DAG: gpu.func @attention_bwd_tc_delta_obf16_bf16(%{{.*}}: memref<1099511627776xbf16>, %{{.*}}: memref<1099511627776xbf16>, %{{.*}}: memref<1099511627776xf32>
// PACKED-NOT: gpu.func @attention_fwd_tc_none_d64_bf16_packed
// With block-scaled-mma too, the packed backward also reads V in the t64
// layout (what the sm_120a forward saves); BF16 mma.sync, so it runs on sm_90a.
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels="packed-operands=true block-scaled-mma=true" | FileCheck %s --check-prefix=T64
// T64-DAG: gpu.func @attention_bwd_tc_qat_pnvfp42_causal_d128_bf16_packed_t64({{.*}}attnqat.extents = {{.*}}v = "B*Hkv*D*ceil(N/64)*32", v_scales = "B*Hkv*D*ceil(N/64)*4"}{{.*}}attnqat.layouts = {v = "t64", v_scales = "t64"}
// T64-DAG: gpu.func @attention_bwd_tc_dropin_pnvfp42_d128_bf16_packed_t64(
// T64-DAG: gpu.func @attention_fwd_bs_qat_pnvfp42_causal_d128_bf16(
// T64-NOT: gpu.func @attention_bwd_tc_none_d64_bf16_packed
// The same kernels build for Blackwell (BF16 mma.sync exists there); the
// sm_120a pipeline adds the block-scaled FP4 forward (attention-bs-kernels.mlir),
// sm_100a has no tcgen05 kernel yet.
// RUN: %if ptxas %{ attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_120a format=bin" | FileCheck %s --check-prefix=BIN %}
// RUN: %if ptxas %{ attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_100a format=bin" | FileCheck %s --check-prefix=BIN %}

// With dump-p-codes the quantized forward and the qat backward also write the
// codes, scales (and forward frames) they quantized P with.
// DUMP-DAG: gpu.func @attention_fwd_tc_qat_pnvfp42_causal_d128_bf16_pdump({{.*}}attnqat.access = {p_codes = "out", p_frames = "out", p_scales = "out"}{{.*}}attnqat.extents = {p_codes = "B*Hq*M*N", p_frames = "B*Hq*M*ceil(N/16)", p_scales = "B*Hq*M*ceil(N/16)"}{{.*}}attnqat.params = ["q", "k", "v", "o", "o_prime", "lse", "m", "l", "p_codes", "p_scales", "p_frames", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// DUMP-DAG: gpu.func @attention_bwd_tc_qat_pnvfp42_causal_d128_bf16_pdump({{.*}}attnqat.params = ["q", "k", "v", "m", "l", "delta", "do", "dq_acc", "dk", "dv", "p_codes", "p_scales", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// DUMP-DAG: gpu.func @attention_bwd_tc_none_d64_bf16(

// CHECK-DAG: attnqat.attention {{.*}}attnqat.kernel = @attnqat_kernels::@attention_fwd_tc_none_d64_bf16
// CHECK-DAG: attnqat.kernel = @attnqat_kernels::@attention_fwd_tc_qat_pnvfp42_causal_d128_bf16
// CHECK-DAG: gpu.func @attention_fwd_tc_none_d64_bf16({{.*}}) kernel attributes {attnqat.align = {k = 16 : i64, q = 16 : i64, v = 16 : i64}, attnqat.constraints = ["D == 64"], attnqat.launch = {block = 128 : i64, dynamic_shared = 36864 : i64, grid = ["ceil(M/64)", "Hq", "B"]}, attnqat.params = ["q", "k", "v", "o", "lse", "m", "l", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// CHECK-DAG: gpu.func @attention_fwd_tc_qat_pnvfp42_causal_d128_bf16({{.*}}dynamic_shared = 87040 : i64{{.*}}attnqat.params = ["q", "k", "v", "o", "o_prime", "lse", "m", "l", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// CHECK-DAG: gpu.func @attention_fwd_tc_qat_pmxfp41_d64_bf16
// CHECK-DAG: gpu.func @attention_fwd_tc_dropin_pnvfp42_d128_bf16
// Three blocks per SM where that measured faster (mode none, head dim 64);
// not where it spills heavily (qat at D = 128 keeps Q in shared memory).
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels | FileCheck %s --check-prefix=MINCTA
// MINCTA-NOT: gpu.func @attention_fwd_tc_qat_pnvfp42_causal_d128_bf16({{.*}}nvvm.minctasm
// CHECK-DAG: gpu.func @attention_fwd_tc_none_d128_bf16({{.*}}nvvm.minctasm = 3 : i32
// CHECK-DAG: gpu.func @attention_fwd_tc_qat_pnvfp42_causal_d64_bf16({{.*}}nvvm.minctasm = 3 : i32
// CHECK-DAG: gpu.func @attention_fwd_tc_qat_pnvfp42_causal_mask11f32_lens_d64_bf16({{.*}}attnqat.params = ["q", "k", "v", "mask", "key_lengths", "o", "o_prime", "lse", "m", "l", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// The forward's building blocks: async tile copies into two stages (the
// next tile loads while one is used), ldmatrix (V transposed), BF16 MMAs,
// row reductions across the four lanes of a row.
// CHECK-DAG: nvgpu.device_async_wait %{{.*}} {numGroups = 1 : i32}
// CHECK-DAG: nvgpu.device_async_copy
// CHECK-DAG: nvgpu.ldmatrix {{.*}}{numTiles = 4 : i32, transpose = false}
// CHECK-DAG: nvgpu.ldmatrix {{.*}}{numTiles = 4 : i32, transpose = true}
// CHECK-DAG: nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>{{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 16>
// CHECK-DAG: gpu.shuffle  xor
// PTX: .entry attention_fwd_tc_qat_pnvfp42_causal_d128_bf16(
// PTX-SAME: cp.async.cg.shared.global
// PTX-SAME: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// PTX-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-SAME: cvt.rmi.f32.f32
// BIN: gpu.binary @attnqat_kernels

func.func @kernels(%q64: tensor<1x4x64x64xbf16>, %k64: tensor<1x2x64x64xbf16>,
                   %q: tensor<1x4x64x128xbf16>, %k: tensor<1x2x64x128xbf16>)
    -> (tensor<1x4x64x64xbf16>, tensor<1x4x64x128xbf16>, tensor<1x4x64x64xbf16>,
        tensor<1x4x64x128xbf16>, tensor<1x4x64x128xbf16>, tensor<1x4x64x64xbf16>) {
  %o1, %l1 = attnqat.attention %q64, %k64, %k64 {config = #attnqat.config<mode = none>} : tensor<1x4x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x4x64x64xbf16>, tensor<1x4x64xf32>
  %o2, %l2 = attnqat.attention %q, %k, %k causal {config = #attnqat.config<mode = qat>} : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>
  %o3, %l3 = attnqat.attention %q64, %k64, %k64 {config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x4x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x4x64x64xbf16>, tensor<1x4x64xf32>
  %o4, %l4 = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = dropin>} : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>
  %o5, %l5 = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = none>} : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>
  %o6, %l6 = attnqat.attention %q64, %k64, %k64 causal {config = #attnqat.config<mode = qat>} : tensor<1x4x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x4x64x64xbf16>, tensor<1x4x64xf32>
  return %o1, %o2, %o3, %o4, %o5, %o6 : tensor<1x4x64x64xbf16>, tensor<1x4x64x128xbf16>, tensor<1x4x64x64xbf16>, tensor<1x4x64x128xbf16>, tensor<1x4x64x128xbf16>, tensor<1x4x64x64xbf16>
}

func.func @masked(%q: tensor<2x4x64x64xbf16>, %k: tensor<2x2x70x64xbf16>, %mask: tensor<1x1x64x70xf32>, %lens: tensor<2xi32>)
    -> tensor<2x4x64x64xbf16> {
  %o, %l = attnqat.attention %q, %k, %k mask(%mask) key_lengths(%lens) causal {config = #attnqat.config<mode = qat>}
      : tensor<2x4x64x64xbf16>, tensor<2x2x70x64xbf16>, tensor<2x2x70x64xbf16> mask tensor<1x1x64x70xf32> key_lengths tensor<2xi32> -> tensor<2x4x64x64xbf16>, tensor<2x4x64xf32>
  return %o : tensor<2x4x64x64xbf16>
}

// Mode none with a mask and key lengths, not causal: the wgmma forward runs
// its fully visible tiles software-pipelined, the rest one at a time.
func.func @masked_none(%q: tensor<2x4x64x128xbf16>, %k: tensor<2x2x70x128xbf16>, %mask: tensor<1x1x64x70xf32>, %lens: tensor<2xi32>)
    -> tensor<2x4x64x128xbf16> {
  %o, %l = attnqat.attention %q, %k, %k mask(%mask) key_lengths(%lens) {config = #attnqat.config<mode = none>}
      : tensor<2x4x64x128xbf16>, tensor<2x2x70x128xbf16>, tensor<2x2x70x128xbf16> mask tensor<1x1x64x70xf32> key_lengths tensor<2xi32> -> tensor<2x4x64x128xbf16>, tensor<2x4x64xf32>
  return %o : tensor<2x4x64x128xbf16>
}

// qat at D = 128, where the wgmma forward pipelines its fully visible tiles
// in both formats, causal too: with a mask and key lengths, and without.
func.func @pipelined_qat128(%q: tensor<2x4x64x128xbf16>, %k: tensor<2x2x70x128xbf16>, %mask: tensor<1x1x64x70xf32>, %lens: tensor<2xi32>)
    -> (tensor<2x4x64x128xbf16>, tensor<2x4x64x128xbf16>, tensor<2x4x64x128xbf16>) {
  %o1, %l1 = attnqat.attention %q, %k, %k mask(%mask) key_lengths(%lens) causal {config = #attnqat.config<mode = qat>}
      : tensor<2x4x64x128xbf16>, tensor<2x2x70x128xbf16>, tensor<2x2x70x128xbf16> mask tensor<1x1x64x70xf32> key_lengths tensor<2xi32> -> tensor<2x4x64x128xbf16>, tensor<2x4x64xf32>
  %o2, %l2 = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = qat>}
      : tensor<2x4x64x128xbf16>, tensor<2x2x70x128xbf16>, tensor<2x2x70x128xbf16> -> tensor<2x4x64x128xbf16>, tensor<2x4x64xf32>
  %o3, %l3 = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>}
      : tensor<2x4x64x128xbf16>, tensor<2x2x70x128xbf16>, tensor<2x2x70x128xbf16> -> tensor<2x4x64x128xbf16>, tensor<2x4x64xf32>
  return %o1, %o2, %o3 : tensor<2x4x64x128xbf16>, tensor<2x4x64x128xbf16>, tensor<2x4x64x128xbf16>
}

// The tensor-core backward (and its delta pre-pass) for the forwards above.
// CHECK-DAG: attnqat.attention_backward {{.*}}attnqat.kernel = @attnqat_kernels::@attention_bwd_tc_qat_pnvfp42_causal_d128_bf16, attnqat.pre_kernel = @attnqat_kernels::@attention_bwd_tc_delta_obf16_bf16
// CHECK-DAG: gpu.func @attention_bwd_tc_delta_obf16_bf16({{.*}}attnqat.access = {delta = "out"}{{.*}}attnqat.params = ["o_saved", "do", "delta", "B", "Hq", "Hkv", "M", "N", "D"]
// CHECK-DAG: gpu.func @attention_bwd_tc_qat_pnvfp42_causal_d128_bf16({{.*}}attnqat.launch = {block = 128 : i64, dynamic_shared = 113664 : i64, grid = ["ceil(N/64)", "Hkv", "B"]}, attnqat.params = ["q", "k", "v", "m", "l", "delta", "do", "dq_acc", "dk", "dv", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// CHECK-DAG: gpu.func @attention_bwd_tc_none_d64_bf16({{.*}}attnqat.align = {dq_acc = 8 : i64}
// CHECK-DAG: gpu.func @attention_bwd_tc_dropin_pnvfp42_d128_bf16
// CHECK-DAG: gpu.func @attention_bwd_tc_qat_pnvfp42_causal_mask11f32_lens_d64_bf16
// CHECK-DAG: gpu.dynamic_shared_memory
// dQ rows are added with f32 pair reductions at immediate offsets from one
// address per fragment row, so dq_acc must be 8-byte aligned.
// CHECK-DAG: llvm.inline_asm has_side_effects asm_dialect = att "red.global.add.v2.f32 [$0+32], {$1, $2};", "l,f,f"
// The pre-pass: eight lanes per row with 16-byte loads (the strided loads
// stay for other head dims and unaligned arrays), summed by shuffles.
// PTX: .entry attention_bwd_tc_delta_obf16_bf16(
// PTX-SAME: ld.global.b16
// PTX-SAME: ld.global.v4.b32
// PTX-SAME: shfl.sync.bfly.b32 {{[^;]*}}, 1, 31, -1;
// PTX-SAME: shfl.sync.bfly.b32 {{[^;]*}}, 2, 31, -1;
// PTX-SAME: shfl.sync.bfly.b32 {{[^;]*}}, 4, 31, -1;
// PTX: .entry attention_bwd_tc_qat_pnvfp42_causal_d128_bf16(
// PTX-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-SAME: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// PTX-SAME: red.global.add.v2.f32 [%rd{{[0-9]+}}+32]
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

// Mode fp4: pre-quantized codes and scales in, decoded into the tiles (Q
// straight into registers); named by the output type.
// CHECK-DAG: gpu.func @attention_fwd_tc_fp4_pnvfp42_causal_d128_bf16({{.*}}attnqat.extents = {k = "B*Hkv*N*ceil(D/2)", k_scales = "B*Hkv*N*ceil(D/16)", q = "B*Hq*M*ceil(D/2)", q_scales = "B*Hq*M*ceil(D/16)", v = "B*Hkv*ceil(N/2)*D", v_scales = "B*Hkv*ceil(N/16)*D"}{{.*}}attnqat.params = ["q", "k", "v", "q_scales", "k_scales", "v_scales", "o", "lse", "m", "l", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// CHECK-DAG: gpu.func @attention_fwd_tc_fp4_pmxfp41_d64_f32({{.*}}q_scales = "B*Hq*M*ceil(D/32)"
func.func @fp4(%q: tensor<1x4x64x128xf4E2M1FN>, %qs: tensor<1x4x64x8xf8E4M3FN>,
               %k: tensor<1x2x64x128xf4E2M1FN>, %ks: tensor<1x2x64x8xf8E4M3FN>, %vs: tensor<1x2x4x128xf8E4M3FN>,
               %qm: tensor<1x4x64x64xf4E2M1FN>, %qms: tensor<1x4x64x2xf8E8M0FNU>,
               %km: tensor<1x2x64x64xf4E2M1FN>, %kms: tensor<1x2x64x2xf8E8M0FNU>, %vms: tensor<1x2x2x64xf8E8M0FNU>)
    -> (tensor<1x4x64x128xbf16>, tensor<1x4x64x64xf32>) {
  %o1, %l1 = attnqat.attention %q, %k, %k scales(%qs, %ks, %vs) causal {config = #attnqat.config<mode = fp4>}
      : tensor<1x4x64x128xf4E2M1FN>, tensor<1x2x64x128xf4E2M1FN>, tensor<1x2x64x128xf4E2M1FN> scales tensor<1x4x64x8xf8E4M3FN>, tensor<1x2x64x8xf8E4M3FN>, tensor<1x2x4x128xf8E4M3FN>
      -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>
  %o2, %l2 = attnqat.attention %qm, %km, %km scales(%qms, %kms, %vms) {config = #attnqat.config<mode = fp4, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>}
      : tensor<1x4x64x64xf4E2M1FN>, tensor<1x2x64x64xf4E2M1FN>, tensor<1x2x64x64xf4E2M1FN> scales tensor<1x4x64x2xf8E8M0FNU>, tensor<1x2x64x2xf8E8M0FNU>, tensor<1x2x2x64xf8E8M0FNU>
      -> tensor<1x4x64x64xf32>, tensor<1x4x64xf32>
  return %o1, %o2 : tensor<1x4x64x128xbf16>, tensor<1x4x64x64xf32>
}

!mxc128 = !attnqat.state<config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x4x64x128xbf16>, key = tensor<1x2x64x128xbf16>, scale = 0.0883883461 : f32, causal = true>
!mx64 = !attnqat.state<config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x4x64x64xbf16>, key = tensor<1x2x64x64xbf16>, scale = 1.250000e-01 : f32>
// MXFP4 training: a row's 32-key P block spans two warps of the backward
// (16 keys each), which meet their maxima in shared memory at a named
// barrier of the pair (64 threads).
// CHECK-DAG: gpu.func @attention_bwd_tc_qat_pmxfp41_causal_d128_bf16(
// CHECK-DAG: gpu.func @attention_bwd_tc_qat_pmxfp41_d64_bf16(
// CHECK-DAG: nvvm.barrier id = %{{.*}} number_of_threads = %{{.*}}
// PTX: .entry attention_bwd_tc_qat_pmxfp41_causal_d128_bf16(
// PTX-SAME: bar.sync {{.*}}%r{{[0-9]+}}, 64;
// DUMP-DAG: gpu.func @attention_bwd_tc_qat_pmxfp41_causal_d128_bf16_pdump({{.*}}p_scales = "B*Hq*M*ceil(N/32)"
// DUMP-DAG: gpu.func @attention_fwd_tc_qat_pmxfp41_causal_d128_bf16_pdump({{.*}}p_scales = "B*Hq*M*ceil(N/32)"
func.func @train_mxfp4(%q: tensor<1x4x64x128xbf16>, %k: tensor<1x2x64x128xbf16>, %do: tensor<1x4x64x128xbf16>,
                       %q64: tensor<1x4x64x64xbf16>, %k64: tensor<1x2x64x64xbf16>, %do64: tensor<1x4x64x64xbf16>)
    -> (tensor<1x4x64x128xbf16>, tensor<1x4x64x64xbf16>) {
  %o1, %l1, %s1 = attnqat.attention %q, %k, %k causal {config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>, !mxc128
  %dq1, %dk1, %dv1 = attnqat.attention_backward %s1, %do : !mxc128, tensor<1x4x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16>
  %o2, %l2, %s2 = attnqat.attention %q64, %k64, %k64 {config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x4x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x4x64x64xbf16>, tensor<1x4x64xf32>, !mx64
  %dq2, %dk2, %dv2 = attnqat.attention_backward %s2, %do64 : !mx64, tensor<1x4x64x64xbf16> -> tensor<1x4x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16>
  return %dq1, %dq2 : tensor<1x4x64x128xbf16>, tensor<1x4x64x64xbf16>
}
