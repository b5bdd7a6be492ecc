// The baseline GPU attention forward (one thread per query row, the CPU
// lowering's row recurrence) for the modes the device test runs. Source of
// runtime/test's attention artifact.
//
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels="tensor-cores=false" | FileCheck %s
// RUN: attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=isa tensor-cores=false" | FileCheck %s --check-prefix=PTX
// RUN: %if ptxas %{ attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=bin tensor-cores=false" | FileCheck %s --check-prefix=BIN %}

// CHECK-DAG: gpu.func @attention_fwd_none_f32({{.*}}) kernel attributes {{{.*}}attnqat.params = ["q", "k", "v", "o", "lse", "m", "l", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// CHECK-DAG: gpu.func @attention_fwd_qat_pnvfp42_causal_f32({{.*}}attnqat.params = ["q", "k", "v", "o", "o_prime", "lse", "m", "l", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// CHECK-DAG: gpu.func @attention_fwd_qat_pnvfp42_f32
// CHECK-DAG: gpu.func @attention_fwd_qat_pmxfp41_f32
// CHECK-DAG: gpu.func @attention_fwd_dropin_pnvfp42_f32
// The mask's broadcast pattern and element type, key lengths and bf16 I/O
// (accumulated in an f32 workspace) specialize the kernel.
// CHECK-DAG: gpu.func @attention_fwd_qat_pnvfp42_causal_mask11f32_lens_bf16({{.*}}attnqat.params = ["q", "k", "v", "mask", "key_lengths", "o", "o_prime", "lse", "m", "l", "o_acc", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// CHECK-DAG: gpu.func @attention_fwd_none_maskb1f32_bf16
// PTX: .entry attention_fwd_qat_pnvfp42_causal_f32(
// PTX-SAME: cvt.rmi.f32.f32
// PTX-SAME: ex2.approx
// BIN: gpu.binary @attnqat_kernels

func.func @masked(%q: tensor<2x4x64x64xbf16>, %k: tensor<2x2x70x64xbf16>, %mask: tensor<1x1x64x70xf32>, %maskb: tensor<2x1x64x70xf32>, %lens: tensor<2xi32>)
    -> (tensor<2x4x64x64xbf16>, tensor<2x4x64x64xbf16>) {
  %o1, %l1 = attnqat.attention %q, %k, %k mask(%mask) key_lengths(%lens) causal {config = #attnqat.config<mode = qat>}
      : tensor<2x4x64x64xbf16>, tensor<2x2x70x64xbf16>, tensor<2x2x70x64xbf16> mask tensor<1x1x64x70xf32> key_lengths tensor<2xi32> -> tensor<2x4x64x64xbf16>, tensor<2x4x64xf32>
  %o2, %l2 = attnqat.attention %q, %k, %k mask(%maskb) {config = #attnqat.config<mode = none>}
      : tensor<2x4x64x64xbf16>, tensor<2x2x70x64xbf16>, tensor<2x2x70x64xbf16> mask tensor<2x1x64x70xf32> -> tensor<2x4x64x64xbf16>, tensor<2x4x64xf32>
  return %o1, %o2 : tensor<2x4x64x64xbf16>, tensor<2x4x64x64xbf16>
}

func.func @kernels(%q: tensor<1x4x64x64xf32>, %k: tensor<1x2x64x64xf32>)
    -> (tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>) {
  %o1, %l1 = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = none>} : tensor<1x4x64x64xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32> -> tensor<1x4x64x64xf32>, tensor<1x4x64xf32>
  %o2, %l2 = attnqat.attention %q, %k, %k causal {config = #attnqat.config<mode = qat>} : tensor<1x4x64x64xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32> -> tensor<1x4x64x64xf32>, tensor<1x4x64xf32>
  %o3, %l3 = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = qat>} : tensor<1x4x64x64xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32> -> tensor<1x4x64x64xf32>, tensor<1x4x64xf32>
  %o4, %l4 = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x4x64x64xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32> -> tensor<1x4x64x64xf32>, tensor<1x4x64xf32>
  %o5, %l5 = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = dropin>} : tensor<1x4x64x64xf32>, tensor<1x2x64x64xf32>, tensor<1x2x64x64xf32> -> tensor<1x4x64x64xf32>, tensor<1x4x64xf32>
  return %o1, %o2, %o3, %o4, %o5 : tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>
}
