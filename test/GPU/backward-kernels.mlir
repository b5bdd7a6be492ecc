// The baseline GPU backward (one thread per query row running the CPU
// lowering's backward row; dK and dV summed with atomics) next to its
// forward. Source of runtime/test's backward artifact.
//
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels="tensor-cores=false" | FileCheck %s
// RUN: attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=isa tensor-cores=false" | FileCheck %s --check-prefix=PTX
// RUN: %if ptxas %{ attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=bin tensor-cores=false" | FileCheck %s --check-prefix=BIN %}

// CHECK: attnqat.attention_backward {{.*}}attnqat.kernel = @attnqat_kernels::@attention_bwd_qat_pnvfp42_causal_f32
// CHECK-DAG: gpu.func @attention_bwd_qat_pnvfp42_causal_f32({{.*}}attnqat.params = ["q", "k", "v", "o_saved", "m", "l", "do", "dq", "dk", "dv", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// CHECK-DAG: gpu.func @attention_bwd_dropin_pnvfp42_f32
// CHECK-DAG: gpu.func @attention_bwd_none_f32
// CHECK-DAG: gpu.func @attention_bwd_qat_pmxfp41_f32
// CHECK-DAG: gpu.func @attention_bwd_qat_pnvfp42_causal_mask11f32_lens_bf16({{.*}}attnqat.params = ["q", "k", "v", "mask", "key_lengths", "o_saved", "m", "l", "do", "dq", "dk", "dv", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// CHECK-DAG: memref.atomic_rmw addf
// PTX: .entry attention_bwd_qat_pnvfp42_causal_f32(
// PTX-SAME: atom.global.add.f32
// BIN: gpu.binary @attnqat_kernels

!qat = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x4x64x64xf32>, key = tensor<1x2x64x64xf32>, scale = 1.250000e-01 : f32, causal = true>
!dropin = !attnqat.state<config = #attnqat.config<mode = dropin>, query = tensor<1x4x64x64xf32>, key = tensor<1x2x64x64xf32>, scale = 1.250000e-01 : f32>
!none = !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<1x4x64x64xf32>, key = tensor<1x2x64x64xf32>, scale = 1.250000e-01 : f32>
!mx = !attnqat.state<config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x4x64x64xf32>, key = tensor<1x2x64x64xf32>, scale = 1.250000e-01 : f32>
!masked = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<2x4x64x64xbf16>, key = tensor<2x2x70x64xbf16>, scale = 1.250000e-01 : f32, causal = true, mask = tensor<1x1x64x70xf32>, key_lengths = true>

func.func @train(%q: tensor<1x4x64x64xf32>, %k: tensor<1x2x64x64xf32>, %do: tensor<1x4x64x64xf32>)
    -> (tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>) {
  %o1, %l1, %s1 = attnqat.attention %q, %k, %k causal {config = #attnqat.config<mode = qat>} : tensor<1x4x64x64xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32> -> tensor<1x4x64x64xf32>, tensor<1x4x64xf32>, !qat
  %dq1, %dk1, %dv1 = attnqat.attention_backward %s1, %do : !qat, tensor<1x4x64x64xf32> -> tensor<1x4x64x64xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32>
  %o2, %l2, %s2 = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = dropin>} : tensor<1x4x64x64xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32> -> tensor<1x4x64x64xf32>, tensor<1x4x64xf32>, !dropin
  %dq2, %dk2, %dv2 = attnqat.attention_backward %s2, %do : !dropin, tensor<1x4x64x64xf32> -> tensor<1x4x64x64xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32>
  %o3, %l3, %s3 = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = none>} : tensor<1x4x64x64xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32> -> tensor<1x4x64x64xf32>, tensor<1x4x64xf32>, !none
  %dq3, %dk3, %dv3 = attnqat.attention_backward %s3, %do : !none, tensor<1x4x64x64xf32> -> tensor<1x4x64x64xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32>
  %o4, %l4, %s4 = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x4x64x64xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32> -> tensor<1x4x64x64xf32>, tensor<1x4x64xf32>, !mx
  %dq4, %dk4, %dv4 = attnqat.attention_backward %s4, %do : !mx, tensor<1x4x64x64xf32> -> tensor<1x4x64x64xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32>
  return %dq1, %dq2, %dq3, %dq4 : tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>
}

func.func @train_masked(%q: tensor<2x4x64x64xbf16>, %k: tensor<2x2x70x64xbf16>, %mask: tensor<1x1x64x70xf32>, %lens: tensor<2xi32>, %do: tensor<2x4x64x64xbf16>) -> tensor<2x4x64x64xbf16> {
  %o, %l, %s = attnqat.attention %q, %k, %k mask(%mask) key_lengths(%lens) causal {config = #attnqat.config<mode = qat>}
      : tensor<2x4x64x64xbf16>, tensor<2x2x70x64xbf16>, tensor<2x2x70x64xbf16> mask tensor<1x1x64x70xf32> key_lengths tensor<2xi32> -> tensor<2x4x64x64xbf16>, tensor<2x4x64xf32>, !masked
  %dq, %dk, %dv = attnqat.attention_backward %s, %do : !masked, tensor<2x4x64x64xbf16> -> tensor<2x4x64x64xbf16>, tensor<2x2x70x64xbf16>, tensor<2x2x70x64xbf16>
  return %dq : tensor<2x4x64x64xbf16>
}
