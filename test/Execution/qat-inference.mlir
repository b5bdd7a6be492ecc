// A qat forward with no backward (no state) skips O', which only the
// backward's D reads (DESIGN.md: "training only"): its O and LSE equal, bit
// for bit, those of the same forward whose state a backward consumes (and
// which accumulates O'). Causal, GQA, a tail tile.
//
// RUN: attnqat-run %s --entry=same --random-missing | FileCheck %s
// RUN: attnqat-run %s --entry=same --random-missing --seed=7 | FileCheck %s

// CHECK: result 0 'result0': {{.*}} min=0 max=0 mean=0 absmax=0 nan=0 inf=0
// CHECK: result 1 'result1': {{.*}} min=0 max=0 mean=0 absmax=0 nan=0 inf=0
// O itself is not zero:
// CHECK: result 2 'result2': {{.*}} absmax={{[1-9]}}
// CHECK-SAME: nan=0 inf=0

!st = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x4x33x64xf32>, key = tensor<1x2x70x64xf32>, scale = 0.125 : f32, causal = true>
func.func @same(%q: tensor<1x4x33x64xf32>, %k: tensor<1x2x70x64xf32>, %v: tensor<1x2x70x64xf32>, %do: tensor<1x4x33x64xf32>)
    -> (tensor<1x4x33x64xf32>, tensor<1x4x33xf32>, tensor<1x4x33x64xf32>, tensor<1x2x70x64xf32>) {
  %o1, %l1 = attnqat.attention %q, %k, %v causal {config = #attnqat.config<mode = qat>} : tensor<1x4x33x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32> -> tensor<1x4x33x64xf32>, tensor<1x4x33xf32>
  %o2, %l2, %st = attnqat.attention %q, %k, %v causal {config = #attnqat.config<mode = qat>} : tensor<1x4x33x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32> -> tensor<1x4x33x64xf32>, tensor<1x4x33xf32>, !st
  %dq, %dk, %dv = attnqat.attention_backward %st, %do : !st, tensor<1x4x33x64xf32> -> tensor<1x4x33x64xf32>, tensor<1x2x70x64xf32>, tensor<1x2x70x64xf32>
  %e = tensor.empty() : tensor<1x4x33x64xf32>
  %d = linalg.sub ins(%o1, %o2 : tensor<1x4x33x64xf32>, tensor<1x4x33x64xf32>) outs(%e : tensor<1x4x33x64xf32>) -> tensor<1x4x33x64xf32>
  %el = tensor.empty() : tensor<1x4x33xf32>
  %dl = linalg.sub ins(%l1, %l2 : tensor<1x4x33xf32>, tensor<1x4x33xf32>) outs(%el : tensor<1x4x33xf32>) -> tensor<1x4x33xf32>
  // dK is returned so that the backward (and with it O') is not dead code.
  return %d, %dl, %o1, %dk : tensor<1x4x33x64xf32>, tensor<1x4x33xf32>, tensor<1x4x33x64xf32>, tensor<1x2x70x64xf32>
}
