// RUN: attnqat-opt %s --attnqat-qat-pipeline="lower=false" | FileCheck %s --check-prefix=ATTACH
// RUN: attnqat-opt %s --attnqat-qat-pipeline="format=mxfp4 mode=dropin lower=false" | FileCheck %s --check-prefix=MX
// RUN: attnqat-opt %s --attnqat-qat-pipeline="p=single lower=false" | FileCheck %s --check-prefix=SINGLE
// RUN: attnqat-opt %s --attnqat-qat-pipeline="target=cpu" | FileCheck %s --check-prefix=CPU
// RUN: not attnqat-opt %s --attnqat-qat-pipeline="target=sm_90a" 2>&1 | FileCheck %s --check-prefix=GPU
// RUN: not attnqat-opt %s --attnqat-qat-pipeline="format=mxfp4 p=two-level" 2>&1 | FileCheck %s --check-prefix=BADP
// The lowered module runs: QAT forward on the CPU against the reference.
// RUN: attnqat-opt %s --attnqat-qat-pipeline="lower=false" | attnqat-run - --entry=attention --random-missing --reference --reference-tolerance=1e-4 | FileCheck %s --check-prefix=EXEC

// ATTACH: attnqat.attention {{.*}}config = #attnqat.config<mode = qat>
// MX: config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>
// SINGLE: config = #attnqat.config<mode = qat, p_scaling = single_level>
// CPU: llvm.func @attention
// CPU-NOT: attnqat.
// GPU: for the --target option: Cannot find option named 'sm_90a'!
// BADP: two-level P scaling requires an NVFP4 P format
// EXEC: matched recomputation:
// EXEC: (O): {{.*}} PASS

func.func @attention(%q: tensor<1x2x40x64xf32>, %k: tensor<1x2x40x64xf32>, %v: tensor<1x2x40x64xf32>) -> tensor<1x2x40x64xf32> {
  %o, %lse = attnqat.attention %q, %k, %v {config = #attnqat.config<mode = none>}
      : tensor<1x2x40x64xf32>, tensor<1x2x40x64xf32>, tensor<1x2x40x64xf32> -> tensor<1x2x40x64xf32>, tensor<1x2x40xf32>
  return %o : tensor<1x2x40x64xf32>
}
