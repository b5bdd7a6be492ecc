// Additive masks (broadcast over batch and heads), per-batch key lengths and
// fully masked rows on the CPU path against the float64 reference.
//
// RUN: attnqat-run %s --entry=masked --input q=normal --input k=normal --input v=normal --input do=normal --input mask=normal --input lens=const:37 --reference --reference-tolerance=1e-4 | FileCheck %s
// RUN: attnqat-run %s --entry=masked_none --input q=normal --input k=normal --input v=normal --input do=normal --input mask=normal --input lens=const:50 --reference --reference-tolerance=1e-4 | FileCheck %s
// Key length 0: every row is fully masked: O = 0, LSE = -inf, zero
// gradients, and no NaN anywhere.
// RUN: attnqat-run %s --entry=masked --input q=normal --input k=normal --input v=normal --input do=normal --input mask=normal --input lens=const:0 --reference --reference-tolerance=1e-4 | FileCheck %s --check-prefix=EMPTY

// CHECK-DAG: (O): {{.*}} nan_mismatch=0 PASS
// CHECK-DAG: (LSE): {{.*}} nan_mismatch=0 PASS
// CHECK-DAG: (dQ): {{.*}} PASS
// CHECK-DAG: (dK): {{.*}} PASS
// CHECK-DAG: (dV): {{.*}} PASS
// EMPTY: result 0 {{.*}} min=0 max=0 {{.*}} nan=0 inf=0
// EMPTY: result 1 {{.*}} min=-inf max=-inf {{.*}} nan=0
// EMPTY: result 2 {{.*}} min=0 max=0 {{.*}} nan=0 inf=0
// EMPTY: (O): max_abs=0 {{.*}} PASS

!st = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<2x2x40x64xf32>, key = tensor<2x2x70x64xf32>, scale = 0.125 : f32, causal = true, mask = tensor<1x2x40x70xf32>, key_lengths = true>
func.func @masked(%q: tensor<2x2x40x64xf32> {attnqat.name = "q"}, %k: tensor<2x2x70x64xf32> {attnqat.name = "k"},
                  %v: tensor<2x2x70x64xf32> {attnqat.name = "v"}, %do: tensor<2x2x40x64xf32> {attnqat.name = "do"},
                  %mask: tensor<1x2x40x70xf32> {attnqat.name = "mask"}, %lens: tensor<2xi32> {attnqat.name = "lens"})
    -> (tensor<2x2x40x64xf32>, tensor<2x2x40xf32>, tensor<2x2x40x64xf32>, tensor<2x2x70x64xf32>, tensor<2x2x70x64xf32>) {
  %o, %lse, %s = attnqat.attention %q, %k, %v mask(%mask) key_lengths(%lens) causal {config = #attnqat.config<mode = qat>}
      : tensor<2x2x40x64xf32>, tensor<2x2x70x64xf32>, tensor<2x2x70x64xf32> mask tensor<1x2x40x70xf32> key_lengths tensor<2xi32>
      -> tensor<2x2x40x64xf32>, tensor<2x2x40xf32>, !st
  %dq, %dk, %dv = attnqat.attention_backward %s, %do : !st, tensor<2x2x40x64xf32> -> tensor<2x2x40x64xf32>, tensor<2x2x70x64xf32>, tensor<2x2x70x64xf32>
  return %o, %lse, %dq, %dk, %dv : tensor<2x2x40x64xf32>, tensor<2x2x40xf32>, tensor<2x2x40x64xf32>, tensor<2x2x70x64xf32>, tensor<2x2x70x64xf32>
}

!stn = !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<2x2x40x64xf32>, key = tensor<2x2x70x64xf32>, scale = 0.125 : f32, mask = tensor<2x1x40x70xf32>, key_lengths = true>
func.func @masked_none(%q: tensor<2x2x40x64xf32> {attnqat.name = "q"}, %k: tensor<2x2x70x64xf32> {attnqat.name = "k"},
                       %v: tensor<2x2x70x64xf32> {attnqat.name = "v"}, %do: tensor<2x2x40x64xf32> {attnqat.name = "do"},
                       %mask: tensor<2x1x40x70xf32> {attnqat.name = "mask"}, %lens: tensor<2xi32> {attnqat.name = "lens"})
    -> (tensor<2x2x40x64xf32>, tensor<2x2x40xf32>, tensor<2x2x40x64xf32>, tensor<2x2x70x64xf32>, tensor<2x2x70x64xf32>) {
  %o, %lse, %s = attnqat.attention %q, %k, %v mask(%mask) key_lengths(%lens) {config = #attnqat.config<mode = none>}
      : tensor<2x2x40x64xf32>, tensor<2x2x70x64xf32>, tensor<2x2x70x64xf32> mask tensor<2x1x40x70xf32> key_lengths tensor<2xi32>
      -> tensor<2x2x40x64xf32>, tensor<2x2x40xf32>, !stn
  %dq, %dk, %dv = attnqat.attention_backward %s, %do : !stn, tensor<2x2x40x64xf32> -> tensor<2x2x40x64xf32>, tensor<2x2x70x64xf32>, tensor<2x2x70x64xf32>
  return %o, %lse, %dq, %dk, %dv : tensor<2x2x40x64xf32>, tensor<2x2x40xf32>, tensor<2x2x40x64xf32>, tensor<2x2x70x64xf32>, tensor<2x2x70x64xf32>
}
