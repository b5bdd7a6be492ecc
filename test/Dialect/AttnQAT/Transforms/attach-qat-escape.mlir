// RUN: attnqat-opt %s --attnqat-attach-qat --verify-diagnostics

!none = !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<1x2x16x64xf32>, key = tensor<1x2x16x64xf32>, scale = 1.0 : f32>
func.func @forward(%q: tensor<1x2x16x64xf32>) -> !none {
  %o, %l, %st = attnqat.attention %q, %q, %q {config = #attnqat.config<mode = none>, scale = 1.0 : f32} : tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32> -> tensor<1x2x16x64xf32>, tensor<1x2x16xf32>, !none
  // expected-error @+1 {{the saved state of this attention leaves its function}}
  return %st : !none
}
