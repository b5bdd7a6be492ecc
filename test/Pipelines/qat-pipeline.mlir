// RUN: attnqat-opt %s --attnqat-qat-pipeline="lower=false" | FileCheck %s --check-prefix=ATTACH
// RUN: attnqat-opt %s --attnqat-qat-pipeline="format=mxfp4 mode=dropin lower=false" | FileCheck %s --check-prefix=MX
// RUN: attnqat-opt %s --attnqat-qat-pipeline="p=single lower=false" | FileCheck %s --check-prefix=SINGLE
// RUN: attnqat-opt %s --attnqat-qat-pipeline="target=cpu" | FileCheck %s --check-prefix=CPU
// RUN: attnqat-opt %s --attnqat-qat-pipeline="target=sm_90a" | FileCheck %s --check-prefix=GPU
// RUN: attnqat-opt %s --attnqat-qat-pipeline="target=sm_120a format=mxfp4" | FileCheck %s --check-prefix=GPU120
// RUN: not attnqat-opt %s --attnqat-qat-pipeline="target=sm_80" 2>&1 | FileCheck %s --check-prefix=BADTARGET
// RUN: not attnqat-opt %s --attnqat-qat-pipeline="format=mxfp4 p=two-level" 2>&1 | FileCheck %s --check-prefix=BADP
// The lowered module runs: QAT forward on the CPU against the reference.
// RUN: attnqat-opt %s --attnqat-qat-pipeline="lower=false" | attnqat-run - --entry=attention --random-missing --reference --reference-tolerance=1e-4 | FileCheck %s --check-prefix=EXEC

// ATTACH: attnqat.attention {{.*}}config = #attnqat.config<mode = qat>
// MX: config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>
// SINGLE: config = #attnqat.config<mode = qat, p_scaling = single_level>
// CPU: llvm.func @attention
// CPU-NOT: attnqat.
// f32 gets the baseline kernel, bf16 at head dim 64 the wgmma one (sm_90a).
// GPU: attnqat.attention {{.*}}attnqat.kernel = @attnqat_kernels::@attention_fwd_qat_pnvfp42_f32
// GPU: attnqat.attention {{.*}}attnqat.kernel = @attnqat_kernels::@attention_fwd_wg_qat_pnvfp42_d64_bf16
// GPU: gpu.binary @attnqat_kernels [#gpu.object<#nvvm.target<chip = "sm_90a"
// GPU-SAME: .entry attention_fwd_qat_pnvfp42_f32(
// GPU-SAME: .entry attention_fwd_tc_qat_pnvfp42_d64_bf16(
// GPU-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// GPU120: gpu.binary @attnqat_kernels [#gpu.object<#nvvm.target<chip = "sm_120a"
// GPU120-SAME: .entry attention_fwd_tc_qat_pmxfp41_d64_bf16(
// BADTARGET: for the --target option: Cannot find option named 'sm_80'!
// BADP: two-level P scaling requires an NVFP4 P format
// EXEC: matched recomputation:
// EXEC: (O): {{.*}} PASS

func.func @attention(%q: tensor<1x2x40x64xf32>, %k: tensor<1x2x40x64xf32>, %v: tensor<1x2x40x64xf32>) -> tensor<1x2x40x64xf32> {
  %o, %lse = attnqat.attention %q, %k, %v {config = #attnqat.config<mode = none>}
      : tensor<1x2x40x64xf32>, tensor<1x2x40x64xf32>, tensor<1x2x40x64xf32> -> tensor<1x2x40x64xf32>, tensor<1x2x40xf32>
  return %o : tensor<1x2x40x64xf32>
}

// bf16 at head dim 64: the tensor-core kernel on GPU targets.
func.func @attention_bf16(%q: tensor<1x2x40x64xbf16>, %k: tensor<1x2x40x64xbf16>, %v: tensor<1x2x40x64xbf16>) -> tensor<1x2x40x64xbf16> {
  %o, %lse = attnqat.attention %q, %k, %v {config = #attnqat.config<mode = none>}
      : tensor<1x2x40x64xbf16>, tensor<1x2x40x64xbf16>, tensor<1x2x40x64xbf16> -> tensor<1x2x40x64xbf16>, tensor<1x2x40xf32>
  return %o : tensor<1x2x40x64xbf16>
}
