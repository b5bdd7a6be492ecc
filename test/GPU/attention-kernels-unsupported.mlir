// Attentions the baseline GPU kernel does not cover yet keep their host op
// and get a warning (the CPU path still runs them).
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels -verify-diagnostics | FileCheck %s

// CHECK-NOT: attnqat.kernel
func.func @unsupported(%q: tensor<1x4x64x64xf32>, %b: tensor<1x4x64x64xbf16>, %lens: tensor<1xi32>, %mask: tensor<1x1x64x64xf32>) {
  // expected-warning @+1 {{no GPU kernel for an attention with an additive mask or key lengths yet}}
  %o1, %l1 = attnqat.attention %q, %q, %q key_lengths(%lens) {config = #attnqat.config<mode = qat>} : tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32> key_lengths tensor<1xi32> -> tensor<1x4x64x64xf32>, tensor<1x4x64xf32>
  // expected-warning @+1 {{no GPU kernel for an attention with an additive mask or key lengths yet}}
  %o2, %l2 = attnqat.attention %q, %q, %q mask(%mask) {config = #attnqat.config<mode = qat>} : tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32>, tensor<1x4x64x64xf32> mask tensor<1x1x64x64xf32> -> tensor<1x4x64x64xf32>, tensor<1x4x64xf32>
  // expected-warning @+1 {{no GPU kernel for an attention with a non-f32 element type yet}}
  %o3, %l3 = attnqat.attention %b, %b, %b {config = #attnqat.config<mode = qat>} : tensor<1x4x64x64xbf16>, tensor<1x4x64x64xbf16>, tensor<1x4x64x64xbf16> -> tensor<1x4x64x64xbf16>, tensor<1x4x64xf32>
  return
}
