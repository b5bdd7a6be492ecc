// One qat forward and its backward (extern-dynamic-shared.mlir compiles it
// with attnqat-compile, one image per kernel).
!qatc128 = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x4x64x128xbf16>, key = tensor<1x2x64x128xbf16>, scale = 0.0883883461 : f32, causal = true>
func.func @train(%q: tensor<1x4x64x128xbf16>, %k: tensor<1x2x64x128xbf16>, %do: tensor<1x4x64x128xbf16>)
    -> (tensor<1x4x64x128xbf16>, tensor<1x4x64x128xbf16>) {
  %o, %l, %s = attnqat.attention %q, %k, %k causal {config = #attnqat.config<mode = qat>} : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>, !qatc128
  %dq, %dk, %dv = attnqat.attention_backward %s, %do : !qatc128, tensor<1x4x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16>
  return %o, %dq : tensor<1x4x64x128xbf16>, tensor<1x4x64x128xbf16>
}
