// Attentions the baseline GPU kernel does not cover yet keep their host op
// and get a warning (the CPU path still runs them).
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels -verify-diagnostics | FileCheck %s

// CHECK-NOT: attnqat.kernel
func.func @unsupported(%q: tensor<1x1x16x64xf4E2M1FN>, %s: tensor<1x1x16x4xf8E4M3FN>, %vs: tensor<1x1x1x64xf8E4M3FN>) {
  // expected-warning @+1 {{no GPU kernel for an attention with mode fp4 yet}}
  %o, %l = attnqat.attention %q, %q, %q scales(%s, %s, %vs) {config = #attnqat.config<mode = fp4>} : tensor<1x1x16x64xf4E2M1FN>, tensor<1x1x16x64xf4E2M1FN>, tensor<1x1x16x64xf4E2M1FN> scales tensor<1x1x16x4xf8E4M3FN>, tensor<1x1x16x4xf8E4M3FN>, tensor<1x1x1x64xf8E4M3FN> -> tensor<1x1x16x64xbf16>, tensor<1x1x16xf32>
  return
}
