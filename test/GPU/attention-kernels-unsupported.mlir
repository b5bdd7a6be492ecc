// Attentions no GPU kernel covers yet keep their host op and get a warning
// (the CPU path still runs them): mode fp4 outside the tensor-core kernel's
// head dims, or with the tensor-core kernels turned off.
// RUN: attnqat-opt %s --split-input-file --convert-attnqat-to-gpu-kernels -verify-diagnostics | FileCheck %s
// RUN: attnqat-opt %s --split-input-file --convert-attnqat-to-gpu-kernels="tensor-cores=false" -verify-diagnostics | FileCheck %s

// CHECK-NOT: attnqat.kernel
func.func @unsupported(%q: tensor<1x1x16x48xf4E2M1FN>, %s: tensor<1x1x16x3xf8E4M3FN>, %vs: tensor<1x1x1x48xf8E4M3FN>) {
  // expected-warning @+1 {{no GPU kernel for an attention with mode fp4 yet}}
  %o, %l = attnqat.attention %q, %q, %q scales(%s, %s, %vs) {config = #attnqat.config<mode = fp4>} : tensor<1x1x16x48xf4E2M1FN>, tensor<1x1x16x48xf4E2M1FN>, tensor<1x1x16x48xf4E2M1FN> scales tensor<1x1x16x3xf8E4M3FN>, tensor<1x1x16x3xf8E4M3FN>, tensor<1x1x1x48xf8E4M3FN> -> tensor<1x1x16x48xbf16>, tensor<1x1x16xf32>
  return
}
