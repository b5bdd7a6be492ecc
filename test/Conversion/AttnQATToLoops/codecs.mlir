// RUN: attnqat-opt %s --convert-attnqat-to-loops --split-input-file --canonicalize --cse | FileCheck %s
// RUN: not attnqat-opt %s --convert-attnqat-to-loops="key-tile=48" 2>&1 | FileCheck %s --check-prefix=BADTILE
// BADTILE: key-tile must be a positive multiple of 32 (the MXFP4 block), got 48

// The codec never uses arith.truncf to FP4 (its ties round away from zero):
// Both roundings are one addition that makes the grid spacing the ulp: E4M3
// (block scales) of 2^(e + 20) from the exponent bits, saturated at 448;
// E2M1 of 2^22, 2^23 or 2^24, saturated at 6.
// CHECK-LABEL: func @fake_quant
// CHECK-NOT: arith.truncf {{.*}} to f4E2M1FN
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<2x37xbf16>
// CHECK: scf.for %[[ROW:.*]] = %{{.*}} to %{{.*}} step
// CHECK:   scf.for %[[K0:.*]] = %{{.*}} to %{{.*}} step %c16
// CHECK:     %[[AMAX:.*]] = scf.for {{.*}} iter_args
// CHECK:       arith.maximumf
// CHECK:     arith.divf %[[AMAX]]
// CHECK:     arith.andi %{{.*}}, %{{.*}} : i32
// CHECK:     %[[SCALESUM:.*]] = arith.addf %{{.*}}, %[[SCALEMAGIC:.*]] : f32
// CHECK:     arith.subf %[[SCALESUM]], %[[SCALEMAGIC]] : f32
// CHECK:     arith.minimumf %{{.*}}, %{{.*}} : f32
// CHECK:     scf.for
// CHECK:       %[[SUM:.*]] = arith.addf %{{.*}}, %[[MAGIC:.*]] : f32
// CHECK:       arith.subf %[[SUM]], %[[MAGIC]] : f32
// CHECK:       math.copysign
// CHECK:       arith.truncf %{{.*}} : f32 to bf16
// CHECK:       memref.store %{{.*}}, %[[OUT]]
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
func.func @fake_quant(%x: tensor<2x37xbf16>) -> tensor<2x37xbf16> {
  %y = attnqat.fake_quant %x as #attnqat.nvfp4 along 1 : tensor<2x37xbf16>
  return %y : tensor<2x37xbf16>
}

// -----

// Codes and scales are stored as their bit patterns.
// CHECK-LABEL: func @quantize_mxfp4
// CHECK-DAG: %[[CODES:.*]] = memref.alloc() : memref<64x3xf4E2M1FN>
// CHECK-DAG: %[[SCALES:.*]] = memref.alloc() : memref<2x3xf8E8M0FNU>
// CHECK: arith.bitcast %{{.*}} : i8 to f8E8M0FNU
// CHECK: memref.store %{{.*}}, %[[SCALES]]
// CHECK: arith.trunci %{{.*}} : i8 to i4
// CHECK: arith.bitcast %{{.*}} : i4 to f4E2M1FN
// CHECK: memref.store %{{.*}}, %[[CODES]]
func.func @quantize_mxfp4(%x: tensor<64x3xf32>) -> (tensor<64x3xf4E2M1FN>, tensor<2x3xf8E8M0FNU>) {
  %c, %s = attnqat.quantize %x as #attnqat.mxfp4 along 0 : tensor<64x3xf32> -> tensor<64x3xf4E2M1FN>, tensor<2x3xf8E8M0FNU>
  return %c, %s : tensor<64x3xf4E2M1FN>, tensor<2x3xf8E8M0FNU>
}

// -----

// CHECK-LABEL: func @dequantize_nvfp4
// CHECK: %[[S:.*]] = tensor.extract %{{.*}} : tensor<4x2xf8E4M3FN>
// CHECK: arith.bitcast %[[S]] : f8E4M3FN to i8
// CHECK: %[[C:.*]] = tensor.extract %{{.*}} : tensor<4x32xf4E2M1FN>
// CHECK: arith.bitcast %[[C]] : f4E2M1FN to i4
// CHECK: arith.mulf
// CHECK: memref.store %{{.*}} : memref<4x32xf32>
func.func @dequantize_nvfp4(%c: tensor<4x32xf4E2M1FN>, %s: tensor<4x2xf8E4M3FN>) -> tensor<4x32xf32> {
  %x = attnqat.dequantize %c, %s as #attnqat.nvfp4 along 1 : tensor<4x32xf4E2M1FN>, tensor<4x2xf8E4M3FN> -> tensor<4x32xf32>
  return %x : tensor<4x32xf32>
}
