// RUN: attnqat-opt %s --attnqat-expand-fake-quant | FileCheck %s
// RUN: attnqat-opt %s --attnqat-expand-fake-quant --canonicalize | FileCheck %s --check-prefix=FOLD

// CHECK-LABEL: func @expand
// CHECK-SAME: (%[[X:.*]]: tensor<2x37xbf16>)
// CHECK: %[[C:.*]], %[[S:.*]] = attnqat.quantize %[[X]] as #attnqat.mxfp4 along 1 : tensor<2x37xbf16> -> tensor<2x37xf4E2M1FN>, tensor<2x2xf8E8M0FNU>
// CHECK: %[[R:.*]] = attnqat.dequantize %[[C]], %[[S]] as #attnqat.mxfp4 along 1 : tensor<2x37xf4E2M1FN>, tensor<2x2xf8E8M0FNU> -> tensor<2x37xbf16>
// CHECK: return %[[R]]
// The canonicalizer folds the pair back into the fake_quant it came from.
// FOLD-LABEL: func @expand
// FOLD-NOT: attnqat.quantize
// FOLD: attnqat.fake_quant %{{.*}} as #attnqat.mxfp4 along 1 : tensor<2x37xbf16>
func.func @expand(%x: tensor<2x37xbf16>) -> tensor<2x37xbf16> {
  %y = attnqat.fake_quant %x as #attnqat.mxfp4 along 1 : tensor<2x37xbf16>
  return %y : tensor<2x37xbf16>
}

// CHECK-LABEL: func @expand_nvfp4_global
// CHECK: attnqat.quantize %{{.*}} as #attnqat.nvfp4<global_scale = 5.000000e-01 : f32> along 0 : tensor<33x4xf32> -> tensor<33x4xf4E2M1FN>, tensor<3x4xf8E4M3FN>
func.func @expand_nvfp4_global(%x: tensor<33x4xf32>) -> tensor<33x4xf32> {
  %y = attnqat.fake_quant %x as #attnqat.nvfp4<global_scale = 0.5 : f32> along 0 : tensor<33x4xf32>
  return %y : tensor<33x4xf32>
}

// A quantize/dequantize pair with different axes is not a fake_quant.
// FOLD-LABEL: func @no_fold_other_format
// FOLD: attnqat.quantize
// FOLD: attnqat.dequantize
func.func @no_fold_other_format(%x: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %c, %s = attnqat.quantize %x as #attnqat.nvfp4 along 1 : tensor<64x64xf32> -> tensor<64x64xf4E2M1FN>, tensor<64x4xf8E4M3FN>
  %y = attnqat.dequantize %c, %s as #attnqat.nvfp4<global_scale = 2.0 : f32> along 1 : tensor<64x64xf4E2M1FN>, tensor<64x4xf8E4M3FN> -> tensor<64x64xf32>
  return %y : tensor<64x64xf32>
}
