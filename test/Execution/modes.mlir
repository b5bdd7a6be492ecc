// Every mode and format on the CPU path against the float64 reference:
// none, dropin, qat with MXFP4 everywhere, qat with single-level P, and
// head dim 128 with a causal mask. Tolerance: see qat-shapes.mlir.
//
// RUN: attnqat-run %s --entry=none --random-missing --reference --reference-tolerance=1e-4 | FileCheck %s --check-prefixes=CHECK,NONE
// RUN: attnqat-run %s --entry=dropin --random-missing --reference --reference-tolerance=1e-4 | FileCheck %s --check-prefixes=CHECK,DROPIN
// RUN: attnqat-run %s --entry=mxfp4 --random-missing --reference --reference-tolerance=1e-4 | FileCheck %s --check-prefixes=CHECK,MXFP4
// RUN: attnqat-run %s --entry=single --random-missing --reference --reference-tolerance=1e-4 | FileCheck %s --check-prefixes=CHECK,QAT
// RUN: attnqat-run %s --entry=d128_causal --random-missing --reference --reference-tolerance=1e-4 | FileCheck %s --check-prefixes=CHECK,QAT

// MXFP4 P has power-of-two scales: frames never change its codes.
// MXFP4: matched recomputation: 0 of
// DROPIN: rowsum(dS): {{.*}}not 0, D comes from O (drop-in)
// QAT: rowsum(dS): {{.*}}~0 as rule 2 requires
// NONE-NOT: matched recomputation
// CHECK-DAG: (O): {{.*}} PASS
// CHECK-DAG: (LSE): {{.*}} PASS
// CHECK-DAG: (dQ): {{.*}} PASS
// CHECK-DAG: (dK): {{.*}} PASS
// CHECK-DAG: (dV): {{.*}} PASS

!none = !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<1x2x70x64xf32>, key = tensor<1x2x70x64xf32>, scale = 0.125 : f32>
func.func @none(%q: tensor<1x2x70x64xf32>, %k: tensor<1x2x70x64xf32>, %v: tensor<1x2x70x64xf32>, %do: tensor<1x2x70x64xf32>)
    -> (tensor<1x2x70x64xf32>, tensor<1x2x70xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>) {
  %o, %lse, %st = attnqat.attention %q, %k, %v {config = #attnqat.config<mode = none>} : tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32> -> tensor<1x2x70x64xf32>, tensor<1x2x70xf32>, !none
  %dq, %dk, %dv = attnqat.attention_backward %st, %do : !none, tensor<1x2x70x64xf32> -> tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>
  return %o, %lse, %dq, %dk, %dv : tensor<1x2x70x64xf32>, tensor<1x2x70xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>
}

!dropin = !attnqat.state<config = #attnqat.config<mode = dropin>, query = tensor<1x2x70x64xf32>, key = tensor<1x2x70x64xf32>, scale = 0.125 : f32>
func.func @dropin(%q: tensor<1x2x70x64xf32>, %k: tensor<1x2x70x64xf32>, %v: tensor<1x2x70x64xf32>, %do: tensor<1x2x70x64xf32>)
    -> (tensor<1x2x70x64xf32>, tensor<1x2x70xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>) {
  %o, %lse, %st = attnqat.attention %q, %k, %v {config = #attnqat.config<mode = dropin>} : tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32> -> tensor<1x2x70x64xf32>, tensor<1x2x70xf32>, !dropin
  %dq, %dk, %dv = attnqat.attention_backward %st, %do : !dropin, tensor<1x2x70x64xf32> -> tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>
  return %o, %lse, %dq, %dk, %dv : tensor<1x2x70x64xf32>, tensor<1x2x70xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>
}

!mx = !attnqat.state<config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x2x70x64xf32>, key = tensor<1x2x70x64xf32>, scale = 0.125 : f32>
func.func @mxfp4(%q: tensor<1x2x70x64xf32>, %k: tensor<1x2x70x64xf32>, %v: tensor<1x2x70x64xf32>, %do: tensor<1x2x70x64xf32>)
    -> (tensor<1x2x70x64xf32>, tensor<1x2x70xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>) {
  %o, %lse, %st = attnqat.attention %q, %k, %v {config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32> -> tensor<1x2x70x64xf32>, tensor<1x2x70xf32>, !mx
  %dq, %dk, %dv = attnqat.attention_backward %st, %do : !mx, tensor<1x2x70x64xf32> -> tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>
  return %o, %lse, %dq, %dk, %dv : tensor<1x2x70x64xf32>, tensor<1x2x70xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>
}

!single = !attnqat.state<config = #attnqat.config<mode = qat, p_scaling = single_level>, query = tensor<1x2x70x64xf32>, key = tensor<1x2x70x64xf32>, scale = 0.125 : f32>
func.func @single(%q: tensor<1x2x70x64xf32>, %k: tensor<1x2x70x64xf32>, %v: tensor<1x2x70x64xf32>, %do: tensor<1x2x70x64xf32>)
    -> (tensor<1x2x70x64xf32>, tensor<1x2x70xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>) {
  %o, %lse, %st = attnqat.attention %q, %k, %v {config = #attnqat.config<mode = qat, p_scaling = single_level>} : tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32> -> tensor<1x2x70x64xf32>, tensor<1x2x70xf32>, !single
  %dq, %dk, %dv = attnqat.attention_backward %st, %do : !single, tensor<1x2x70x64xf32> -> tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>
  return %o, %lse, %dq, %dk, %dv : tensor<1x2x70x64xf32>, tensor<1x2x70xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>
}

!d128 = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<2x2x33x128xf32>, key = tensor<2x1x70x128xf32>, scale = 0.0883883461 : f32, causal = true>
func.func @d128_causal(%q: tensor<2x2x33x128xf32>, %k: tensor<2x1x70x128xf32>, %v: tensor<2x1x70x128xf32>, %do: tensor<2x2x33x128xf32>)
    -> (tensor<2x2x33x128xf32>, tensor<2x2x33xf32>, tensor<2x2x33x128xf32>, tensor<2x1x70x128xf32>, tensor<2x1x70x128xf32>) {
  %o, %lse, %st = attnqat.attention %q, %k, %v causal {config = #attnqat.config<mode = qat>} : tensor<2x2x33x128xf32>, tensor<2x1x70x128xf32>, tensor<2x1x70x128xf32> -> tensor<2x2x33x128xf32>, tensor<2x2x33xf32>, !d128
  %dq, %dk, %dv = attnqat.attention_backward %st, %do : !d128, tensor<2x2x33x128xf32> -> tensor<2x2x33x128xf32>, tensor<2x1x70x128xf32>, tensor<2x1x70x128xf32>
  return %o, %lse, %dq, %dk, %dv : tensor<2x2x33x128xf32>, tensor<2x2x33xf32>, tensor<2x2x33x128xf32>, tensor<2x1x70x128xf32>, tensor<2x1x70x128xf32>
}
