// RUN: attnqat-opt %s --convert-attnqat-to-loops --split-input-file --verify-diagnostics

!st = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x16x64xf32>, key = tensor<1x1x16x64xf32>, scale = 1.250000e-01 : f32>
func.func @forward(%q: tensor<1x1x16x64xf32>) -> !st {
  %o, %lse, %s = attnqat.attention %q, %q, %q {config = #attnqat.config<mode = qat>} : tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32> -> tensor<1x1x16x64xf32>, tensor<1x1x16xf32>, !st
  // expected-error @+1 {{the saved state of an attention must be consumed by attention_backward ops in the same function on the CPU path}}
  return %s : !st
}

// -----

!st = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x16x64xf32>, key = tensor<1x1x16x64xf32>, scale = 1.250000e-01 : f32>
func.func @backward(%s: !st, %do: tensor<1x1x16x64xf32>) -> tensor<1x1x16x64xf32> {
  // expected-error @+1 {{the state of this backward does not come from an attention in the same function}}
  %dq, %dk, %dv = attnqat.attention_backward %s, %do : !st, tensor<1x1x16x64xf32> -> tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>
  return %dq : tensor<1x1x16x64xf32>
}
