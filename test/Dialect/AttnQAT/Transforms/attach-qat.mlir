// RUN: attnqat-opt %s --split-input-file --attnqat-attach-qat | FileCheck %s
// RUN: attnqat-opt %s --split-input-file --attnqat-attach-qat="mode=dropin q=mxfp4 k=mxfp4 p=mxfp4 p-scaling=single_level" | FileCheck %s --check-prefix=DROPIN
// RUN: attnqat-opt %s --split-input-file --attnqat-attach-qat="override=true p-scaling=single_level" | FileCheck %s --check-prefix=OVERRIDE
// RUN: not attnqat-opt %s --split-input-file --attnqat-attach-qat="mode=fp4" 2>&1 | FileCheck %s --check-prefix=BADMODE
// RUN: not attnqat-opt %s --split-input-file --attnqat-attach-qat="p=mxfp4" 2>&1 | FileCheck %s --check-prefix=BADP
// RUN: not attnqat-opt %s --split-input-file --attnqat-attach-qat="q=int4" 2>&1 | FileCheck %s --check-prefix=BADFMT

// BADMODE: option 'mode' must be qat or dropin, got 'fp4'
// BADP: two-level P scaling requires an NVFP4 P format
// BADFMT: option 'q' must be nvfp4 or mxfp4, got 'int4'

// The forward's config changes and the state type follows into the backward.
// CHECK-LABEL: func @train
// CHECK: attnqat.attention {{.*}}config = #attnqat.config<mode = qat>{{.*}}!attnqat.state<config = <mode = qat>
// CHECK: attnqat.attention_backward %{{.*}}, %{{.*}} : !attnqat.state<config = <mode = qat>
// DROPIN-LABEL: func @train
// DROPIN: config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>
// DROPIN: attnqat.attention_backward %{{.*}}, %{{.*}} : !attnqat.state<config = <mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>
func.func @train(%q: tensor<1x2x16x64xf32>, %do: tensor<1x2x16x64xf32>) -> tensor<1x2x16x64xf32> {
  %o, %l, %st = attnqat.attention %q, %q, %q {config = #attnqat.config<mode = none>, scale = 1.0 : f32} : tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x64xf32>, tensor<1x2x16xf32>, !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<1x2x16x64xf32>, key = tensor<1x2x16x64xf32>, scale = 1.0 : f32>
  %dq, %dk, %dv = attnqat.attention_backward %st, %do : !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<1x2x16x64xf32>, key = tensor<1x2x16x64xf32>, scale = 1.0 : f32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>
  return %dq : tensor<1x2x16x64xf32>
}

// -----

// An op that already has a quantized config keeps it unless override is set.
// CHECK-LABEL: func @keep_existing
// CHECK: config = #attnqat.config<mode = dropin>
// OVERRIDE-LABEL: func @keep_existing
// OVERRIDE: config = #attnqat.config<mode = qat, p_scaling = single_level>
func.func @keep_existing(%q: tensor<1x2x16x64xf32>) -> tensor<1x2x16x64xf32> {
  %o, %l = attnqat.attention %q, %q, %q {config = #attnqat.config<mode = dropin>} : tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x64xf32>, tensor<1x2x16xf32>
  return %o : tensor<1x2x16x64xf32>
}
