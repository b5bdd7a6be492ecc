// A BERT-style self-attention block as TOSA legalizations (TFLite, torch,
// ONNX to TOSA) emit it: projections and the two batched matmuls as 3-D
// tosa.matmul with tosa.reshape / tosa.transpose around them, the scale as a
// tosa.mul by a splat tosa.const, an additive key-padding mask [B, 1, 1, L],
// and softmax as reduce_max / sub / exp / reduce_sum / reciprocal / mul.
//
// Fuse the attention into attnqat.attention:
//   attnqat-opt --attnqat-fuse-tosa-attention examples/tosa_attention.mlir
// Run it on the CPU (the remaining TOSA goes through the upstream lowerings):
//   attnqat-opt examples/tosa_attention.mlir --pass-pipeline="builtin.module(\
//       attnqat-fuse-tosa-attention,func.func(tosa-to-linalg-named,\
//       tosa-to-linalg,tosa-to-arith,tosa-to-tensor),convert-attnqat-to-loops)" \
//       -o /tmp/fused.mlir
//   attnqat-run /tmp/fused.mlir --entry=attention_block --input 0=normal \
//       --input 1=normal:std=0.2 --input 2=normal:std=0.2 \
//       --input 3=normal:std=0.2 --input 4=normal:std=0.2 --input 5=zeros

func.func @attention_block(%x: tensor<1x32x32xf32>, %wq: tensor<1x32x32xf32>, %wk: tensor<1x32x32xf32>, %wv: tensor<1x32x32xf32>, %wo: tensor<1x32x32xf32>, %mask: tensor<2x1x1x16xf32>) -> tensor<1x32x32xf32> {
  %0 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %1 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %2 = tosa.matmul %x, %wq, %0, %0 : (tensor<1x32x32xf32>, tensor<1x32x32xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x32x32xf32>
  %3 = tosa.const_shape {values = dense<[2, 16, 4, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %4 = tosa.reshape %2, %3 : (tensor<1x32x32xf32>, !tosa.shape<4>) -> tensor<2x16x4x8xf32>
  %5 = tosa.transpose %4 {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x16x4x8xf32>) -> tensor<2x4x16x8xf32>
  %6 = tosa.matmul %x, %wk, %0, %0 : (tensor<1x32x32xf32>, tensor<1x32x32xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x32x32xf32>
  %7 = tosa.const_shape {values = dense<[2, 16, 4, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %8 = tosa.reshape %6, %7 : (tensor<1x32x32xf32>, !tosa.shape<4>) -> tensor<2x16x4x8xf32>
  %9 = tosa.transpose %8 {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x16x4x8xf32>) -> tensor<2x4x16x8xf32>
  %10 = tosa.matmul %x, %wv, %0, %0 : (tensor<1x32x32xf32>, tensor<1x32x32xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x32x32xf32>
  %11 = tosa.const_shape {values = dense<[2, 16, 4, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %12 = tosa.reshape %10, %11 : (tensor<1x32x32xf32>, !tosa.shape<4>) -> tensor<2x16x4x8xf32>
  %13 = tosa.transpose %12 {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x16x4x8xf32>) -> tensor<2x4x16x8xf32>
  %14 = tosa.transpose %9 {perms = array<i32: 0, 1, 3, 2>} : (tensor<2x4x16x8xf32>) -> tensor<2x4x8x16xf32>
  %15 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %16 = tosa.reshape %5, %15 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %17 = tosa.const_shape {values = dense<[8, 8, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %18 = tosa.reshape %14, %17 : (tensor<2x4x8x16xf32>, !tosa.shape<3>) -> tensor<8x8x16xf32>
  %19 = tosa.matmul %16, %18, %0, %0 : (tensor<8x16x8xf32>, tensor<8x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x16xf32>
  %20 = tosa.const_shape {values = dense<[2, 4, 16, 16]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %21 = tosa.reshape %19, %20 : (tensor<8x16x16xf32>, !tosa.shape<4>) -> tensor<2x4x16x16xf32>
  %22 = "tosa.const"() <{values = dense<0.353553385> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %23 = tosa.mul %21, %22, %1 : (tensor<2x4x16x16xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %24 = tosa.add %23, %mask : (tensor<2x4x16x16xf32>, tensor<2x1x1x16xf32>) -> tensor<2x4x16x16xf32>
  %25 = tosa.reduce_max %24 {axis = 3 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x1xf32>
  %26 = tosa.sub %24, %25 : (tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) -> tensor<2x4x16x16xf32>
  %27 = tosa.exp %26 : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %28 = tosa.reduce_sum %27 {axis = 3 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x1xf32>
  %29 = tosa.reciprocal %28 : (tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %30 = tosa.mul %27, %29, %1 : (tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %31 = tosa.const_shape {values = dense<[8, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %32 = tosa.reshape %30, %31 : (tensor<2x4x16x16xf32>, !tosa.shape<3>) -> tensor<8x16x16xf32>
  %33 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %34 = tosa.reshape %13, %33 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %35 = tosa.matmul %32, %34, %0, %0 : (tensor<8x16x16xf32>, tensor<8x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x8xf32>
  %36 = tosa.const_shape {values = dense<[2, 4, 16, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %37 = tosa.reshape %35, %36 : (tensor<8x16x8xf32>, !tosa.shape<4>) -> tensor<2x4x16x8xf32>
  %38 = tosa.transpose %37 {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x4x16x8xf32>) -> tensor<2x16x4x8xf32>
  %39 = tosa.const_shape {values = dense<[1, 32, 32]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %40 = tosa.reshape %38, %39 : (tensor<2x16x4x8xf32>, !tosa.shape<3>) -> tensor<1x32x32xf32>
  %41 = tosa.matmul %40, %wo, %0, %0 : (tensor<1x32x32xf32>, tensor<1x32x32xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x32x32xf32>
  return %41 : tensor<1x32x32xf32>
}
