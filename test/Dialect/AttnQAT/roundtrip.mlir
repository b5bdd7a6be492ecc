// RUN: attnqat-opt %s | attnqat-opt | FileCheck %s
// RUN: attnqat-opt %s --mlir-print-op-generic | attnqat-opt | FileCheck %s

// CHECK-LABEL: func @quantize_nvfp4
func.func @quantize_nvfp4(%x: tensor<4x40xbf16>) -> (tensor<4x40xf4E2M1FN>, tensor<4x3xf8E4M3FN>) {
  // CHECK: attnqat.quantize %{{.*}} as #attnqat.nvfp4 along 1 : tensor<4x40xbf16> -> tensor<4x40xf4E2M1FN>, tensor<4x3xf8E4M3FN>
  %c, %s = attnqat.quantize %x as #attnqat.nvfp4 along 1 : tensor<4x40xbf16> -> tensor<4x40xf4E2M1FN>, tensor<4x3xf8E4M3FN>
  return %c, %s : tensor<4x40xf4E2M1FN>, tensor<4x3xf8E4M3FN>
}

// CHECK-LABEL: func @quantize_global_scale
func.func @quantize_global_scale(%x: tensor<?x16xf32>) -> (tensor<?x16xf4E2M1FN>, tensor<?x1xf8E4M3FN>) {
  // CHECK: as #attnqat.nvfp4<global_scale = 2.500000e-01 : f32>
  %c, %s = attnqat.quantize %x as #attnqat.nvfp4<global_scale = 0.25 : f32> along 1 : tensor<?x16xf32> -> tensor<?x16xf4E2M1FN>, tensor<?x1xf8E4M3FN>
  return %c, %s : tensor<?x16xf4E2M1FN>, tensor<?x1xf8E4M3FN>
}

// CHECK-LABEL: func @quantize_mxfp4_axis0
func.func @quantize_mxfp4_axis0(%x: tensor<65x8xf16>) -> (tensor<65x8xf4E2M1FN>, tensor<3x8xf8E8M0FNU>) {
  // CHECK: attnqat.quantize %{{.*}} as #attnqat.mxfp4 along 0
  %c, %s = attnqat.quantize %x as #attnqat.mxfp4 along 0 : tensor<65x8xf16> -> tensor<65x8xf4E2M1FN>, tensor<3x8xf8E8M0FNU>
  return %c, %s : tensor<65x8xf4E2M1FN>, tensor<3x8xf8E8M0FNU>
}

// CHECK-LABEL: func @dequantize
func.func @dequantize(%c: tensor<4x64xf4E2M1FN>, %s: tensor<4x2xf8E8M0FNU>) -> tensor<4x64xbf16> {
  // CHECK: attnqat.dequantize %{{.*}}, %{{.*}} as #attnqat.mxfp4 along 1 : tensor<4x64xf4E2M1FN>, tensor<4x2xf8E8M0FNU> -> tensor<4x64xbf16>
  %x = attnqat.dequantize %c, %s as #attnqat.mxfp4 along 1 : tensor<4x64xf4E2M1FN>, tensor<4x2xf8E8M0FNU> -> tensor<4x64xbf16>
  return %x : tensor<4x64xbf16>
}

// CHECK-LABEL: func @fake_quant
func.func @fake_quant(%x: tensor<1x2x17x64xbf16>) -> tensor<1x2x17x64xbf16> {
  // CHECK: attnqat.fake_quant %{{.*}} as #attnqat.nvfp4 along 2 : tensor<1x2x17x64xbf16>
  %y = attnqat.fake_quant %x as #attnqat.nvfp4 along 2 : tensor<1x2x17x64xbf16>
  return %y : tensor<1x2x17x64xbf16>
}

// CHECK-LABEL: func @attention_none_inference
func.func @attention_none_inference(%q: tensor<2x8x128x64xbf16>, %k: tensor<2x8x256x64xbf16>, %v: tensor<2x8x256x64xbf16>) -> tensor<2x8x128x64xbf16> {
  // CHECK: attnqat.attention %{{.*}}, %{{.*}}, %{{.*}} {config = #attnqat.config<mode = none>} : tensor<2x8x128x64xbf16>, tensor<2x8x256x64xbf16>, tensor<2x8x256x64xbf16> -> tensor<2x8x128x64xbf16>, tensor<2x8x128xf32>
  %o, %lse = attnqat.attention %q, %k, %v {config = #attnqat.config<mode = none>} : tensor<2x8x128x64xbf16>, tensor<2x8x256x64xbf16>, tensor<2x8x256x64xbf16> -> tensor<2x8x128x64xbf16>, tensor<2x8x128xf32>
  return %o : tensor<2x8x128x64xbf16>
}

// CHECK-LABEL: func @attention_qat_training
func.func @attention_qat_training(%q: tensor<1x8x130x128xbf16>, %k: tensor<1x2x130x128xbf16>, %v: tensor<1x2x130x128xbf16>, %mask: tensor<1x1x130x130xf32>, %lens: tensor<1xi32>, %do: tensor<1x8x130x128xbf16>)
    -> (tensor<1x8x128x128xbf16>, tensor<1x8x130x128xbf16>, tensor<1x2x130x128xbf16>, tensor<1x2x130x128xbf16>) {
  // CHECK: %[[O:.*]], %[[LSE:.*]], %[[STATE:.*]] = attnqat.attention %{{.*}}, %{{.*}}, %{{.*}} mask(%{{.*}}) key_lengths(%{{.*}}) causal {config = #attnqat.config<mode = qat, p = #attnqat.mxfp4, p_scaling = single_level>, scale = 1.000000e-01 : f32}
  // CHECK-SAME: -> tensor<1x8x130x128xbf16>, tensor<1x8x130xf32>, !attnqat.state<config = <mode = qat, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x8x130x128xbf16>, key = tensor<1x2x130x128xbf16>, scale = 1.000000e-01 : f32, causal = true, mask = tensor<1x1x130x130xf32>, key_lengths = true>
  %o, %lse, %state = attnqat.attention %q, %k, %v mask(%mask) key_lengths(%lens) causal
      {config = #attnqat.config<mode = qat, p = #attnqat.mxfp4, p_scaling = single_level>, scale = 0.1 : f32}
      : tensor<1x8x130x128xbf16>, tensor<1x2x130x128xbf16>, tensor<1x2x130x128xbf16> mask tensor<1x1x130x130xf32> key_lengths tensor<1xi32>
      -> tensor<1x8x130x128xbf16>, tensor<1x8x130xf32>,
         !attnqat.state<config = #attnqat.config<mode = qat, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x8x130x128xbf16>, key = tensor<1x2x130x128xbf16>, scale = 0.1 : f32, causal = true, mask = tensor<1x1x130x130xf32>, key_lengths = true>
  // CHECK: attnqat.attention_backward %[[STATE]], %{{.*}} : !attnqat.state<config = <mode = qat, {{.*}}>, tensor<1x8x130x128xbf16> -> tensor<1x8x130x128xbf16>, tensor<1x2x130x128xbf16>, tensor<1x2x130x128xbf16>
  %dq, %dk, %dv = attnqat.attention_backward %state, %do
      : !attnqat.state<config = #attnqat.config<mode = qat, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x8x130x128xbf16>, key = tensor<1x2x130x128xbf16>, scale = 0.1 : f32, causal = true, mask = tensor<1x1x130x130xf32>, key_lengths = true>, tensor<1x8x130x128xbf16>
      -> tensor<1x8x130x128xbf16>, tensor<1x2x130x128xbf16>, tensor<1x2x130x128xbf16>
  %s = tensor.extract_slice %o[0, 0, 0, 0] [1, 8, 128, 128] [1, 1, 1, 1] : tensor<1x8x130x128xbf16> to tensor<1x8x128x128xbf16>
  return %s, %dq, %dk, %dv : tensor<1x8x128x128xbf16>, tensor<1x8x130x128xbf16>, tensor<1x2x130x128xbf16>, tensor<1x2x130x128xbf16>
}

// The state crosses function boundaries: forward and backward in separate
// functions, as a training framework calls them.
!state = !attnqat.state<config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4>, query = tensor<?x4x?x64xf32>, key = tensor<?x4x?x64xf32>, scale = 0.125 : f32>
// CHECK-LABEL: func @forward_dynamic
// CHECK-SAME: -> (tensor<?x4x?x64xf32>, !attnqat.state<config = <mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4>
func.func @forward_dynamic(%q: tensor<?x4x?x64xf32>, %k: tensor<?x4x?x64xf32>, %v: tensor<?x4x?x64xf32>) -> (tensor<?x4x?x64xf32>, !state) {
  %o, %lse, %st = attnqat.attention %q, %k, %v {config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4>} : tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32> -> tensor<?x4x?x64xf32>, tensor<?x4x?xf32>, !state
  return %o, %st : tensor<?x4x?x64xf32>, !state
}
// CHECK-LABEL: func @backward_dynamic
func.func @backward_dynamic(%st: !state, %do: tensor<?x4x?x64xf32>) -> tensor<?x4x?x64xf32> {
  // CHECK: attnqat.attention_backward
  %dq, %dk, %dv = attnqat.attention_backward %st, %do : !state, tensor<?x4x?x64xf32> -> tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>
  return %dq : tensor<?x4x?x64xf32>
}

// CHECK-LABEL: func @attention_fp4
func.func @attention_fp4(%q: tensor<1x2x33x64xf4E2M1FN>, %qs: tensor<1x2x33x4xf8E4M3FN>,
                         %k: tensor<1x2x40x64xf4E2M1FN>, %ks: tensor<1x2x40x4xf8E4M3FN>,
                         %v: tensor<1x2x40x64xf4E2M1FN>, %vs: tensor<1x2x3x64xf8E4M3FN>) -> tensor<1x2x33x64xbf16> {
  // CHECK: attnqat.attention %{{.*}}, %{{.*}}, %{{.*}} scales(%{{.*}}, %{{.*}}, %{{.*}}) {config = #attnqat.config<mode = fp4>}
  // CHECK-SAME: tensor<1x2x33x4xf8E4M3FN>, tensor<1x2x40x4xf8E4M3FN>, tensor<1x2x3x64xf8E4M3FN> -> tensor<1x2x33x64xbf16>, tensor<1x2x33xf32>
  %o, %lse = attnqat.attention %q, %k, %v scales(%qs, %ks, %vs) {config = #attnqat.config<mode = fp4>}
      : tensor<1x2x33x64xf4E2M1FN>, tensor<1x2x40x64xf4E2M1FN>, tensor<1x2x40x64xf4E2M1FN> scales tensor<1x2x33x4xf8E4M3FN>, tensor<1x2x40x4xf8E4M3FN>, tensor<1x2x3x64xf8E4M3FN>
      -> tensor<1x2x33x64xbf16>, tensor<1x2x33xf32>
  return %o : tensor<1x2x33x64xbf16>
}
