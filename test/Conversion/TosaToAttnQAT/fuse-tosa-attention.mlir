// RUN: attnqat-opt %s --attnqat-fuse-tosa-attention --split-input-file | FileCheck %s

// TFLite/torch-style multi-head attention: 4-D tensors reshaped around 3-D
// tosa.matmul, Kᵀ by tosa.transpose, scale by a splat tosa.const, a
// key-padding mask [B, 1, 1, N] broadcast by tosa.add, and the softmax as
// reduce_max / sub / exp / reduce_sum / reciprocal / mul.
// CHECK-LABEL: func @tosa_mha
// CHECK-SAME: (%[[Q:.*]]: tensor<2x4x16x8xf32>, %[[K:.*]]: tensor<2x4x16x8xf32>, %[[V:.*]]: tensor<2x4x16x8xf32>, %[[MASK:.*]]: tensor<2x1x1x16xf32>)
// CHECK: %[[M2:.*]] = tosa.reshape %[[MASK]], %{{.*}} : (tensor<2x1x1x16xf32>, !tosa.shape<2>) -> tensor<2x16xf32>
// CHECK: %[[M3:.*]] = tosa.reshape %[[M2]], %{{.*}} : (tensor<2x16xf32>, !tosa.shape<3>) -> tensor<2x1x16xf32>
// CHECK: %[[MT:.*]] = tosa.tile %[[M3]], %{{.*}} : (tensor<2x1x16xf32>, !tosa.shape<3>) -> tensor<2x16x16xf32>
// CHECK: %[[M4:.*]] = tosa.reshape %[[MT]], %{{.*}} : (tensor<2x16x16xf32>, !tosa.shape<4>) -> tensor<2x1x16x16xf32>
// CHECK: %[[O:.*]], %{{.*}} = attnqat.attention %[[Q]], %[[K]], %[[V]] mask(%[[M4]]) {config = #attnqat.config<mode = none>} : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32> mask tensor<2x1x16x16xf32> -> tensor<2x4x16x8xf32>, tensor<2x4x16xf32>
// CHECK: %[[O3:.*]] = tosa.reshape %[[O]], %{{.*}} : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
// CHECK-NOT: tosa.matmul
// CHECK-NOT: tosa.exp
// CHECK: %[[R:.*]] = tosa.reshape %[[O3]]
// CHECK: return %[[R]]
func.func @tosa_mha(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>, %mask: tensor<2x1x1x16xf32>) -> tensor<2x4x16x8xf32> {
  %0 = tosa.transpose %k {perms = array<i32: 0, 1, 3, 2>} : (tensor<2x4x16x8xf32>) -> tensor<2x4x8x16xf32>
  %1 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %2 = tosa.reshape %q, %1 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %3 = tosa.const_shape {values = dense<[8, 8, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %4 = tosa.reshape %0, %3 : (tensor<2x4x8x16xf32>, !tosa.shape<3>) -> tensor<8x8x16xf32>
  %5 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %6 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %7 = tosa.matmul %2, %4, %5, %5 : (tensor<8x16x8xf32>, tensor<8x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x16xf32>
  %8 = tosa.const_shape {values = dense<[2, 4, 16, 16]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %9 = tosa.reshape %7, %8 : (tensor<8x16x16xf32>, !tosa.shape<4>) -> tensor<2x4x16x16xf32>
  %10 = "tosa.const"() <{values = dense<0.353553385> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %11 = tosa.mul %9, %10, %6 : (tensor<2x4x16x16xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %12 = tosa.add %11, %mask : (tensor<2x4x16x16xf32>, tensor<2x1x1x16xf32>) -> tensor<2x4x16x16xf32>
  %13 = tosa.reduce_max %12 {axis = 3 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x1xf32>
  %14 = tosa.sub %12, %13 : (tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) -> tensor<2x4x16x16xf32>
  %15 = tosa.exp %14 : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %16 = tosa.reduce_sum %15 {axis = 3 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x1xf32>
  %17 = tosa.reciprocal %16 : (tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %18 = tosa.mul %15, %17, %6 : (tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %19 = tosa.const_shape {values = dense<[8, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %20 = tosa.reshape %18, %19 : (tensor<2x4x16x16xf32>, !tosa.shape<3>) -> tensor<8x16x16xf32>
  %21 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %22 = tosa.reshape %v, %21 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %23 = tosa.matmul %20, %22, %5, %5 : (tensor<8x16x16xf32>, tensor<8x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x8xf32>
  %24 = tosa.const_shape {values = dense<[2, 4, 16, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %25 = tosa.reshape %23, %24 : (tensor<8x16x8xf32>, !tosa.shape<4>) -> tensor<2x4x16x8xf32>
  return %25 : tensor<2x4x16x8xf32>
}

// -----

// 3-D [B*H, L, D] with Q scaled before the matmul: H = 1 around the op.
// CHECK-LABEL: func @tosa_3d
// CHECK-SAME: (%[[Q:.*]]: tensor<8x16x8xf32>, %[[K:.*]]: tensor<8x16x8xf32>, %[[V:.*]]: tensor<8x16x8xf32>)
// CHECK-DAG: %[[Q4:.*]] = tosa.reshape %[[Q]], %{{.*}} -> tensor<8x1x16x8xf32>
// CHECK-DAG: %[[K4:.*]] = tosa.reshape %[[K]], %{{.*}} -> tensor<8x1x16x8xf32>
// CHECK-DAG: %[[V4:.*]] = tosa.reshape %[[V]], %{{.*}} -> tensor<8x1x16x8xf32>
// CHECK: %[[O:.*]], %{{.*}} = attnqat.attention %[[Q4]], %[[K4]], %[[V4]] {config = #attnqat.config<mode = none>, scale = 5.000000e-01 : f32}
// CHECK: %[[R:.*]] = tosa.reshape %[[O]], %{{.*}} : (tensor<8x1x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
// CHECK: return %[[R]]
func.func @tosa_3d(%q: tensor<8x16x8xf32>, %k: tensor<8x16x8xf32>, %v: tensor<8x16x8xf32>) -> tensor<8x16x8xf32> {
  %0 = "tosa.const"() <{values = dense<5.000000e-01> : tensor<1x1x1xf32>}> : () -> tensor<1x1x1xf32>
  %2 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %3 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %1 = tosa.mul %q, %0, %3 : (tensor<8x16x8xf32>, tensor<1x1x1xf32>, tensor<1xi8>) -> tensor<8x16x8xf32>
  %4 = tosa.transpose %k {perms = array<i32: 0, 2, 1>} : (tensor<8x16x8xf32>) -> tensor<8x8x16xf32>
  %5 = tosa.matmul %1, %4, %2, %2 : (tensor<8x16x8xf32>, tensor<8x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x16xf32>
  %6 = tosa.reduce_max %5 {axis = 2 : i32} : (tensor<8x16x16xf32>) -> tensor<8x16x1xf32>
  %7 = tosa.sub %5, %6 : (tensor<8x16x16xf32>, tensor<8x16x1xf32>) -> tensor<8x16x16xf32>
  %8 = tosa.exp %7 : (tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %9 = tosa.reduce_sum %8 {axis = 2 : i32} : (tensor<8x16x16xf32>) -> tensor<8x16x1xf32>
  %10 = tosa.reciprocal %9 : (tensor<8x16x1xf32>) -> tensor<8x16x1xf32>
  %11 = tosa.mul %8, %10, %3 : (tensor<8x16x16xf32>, tensor<8x16x1xf32>, tensor<1xi8>) -> tensor<8x16x16xf32>
  %12 = tosa.matmul %11, %v, %2, %2 : (tensor<8x16x16xf32>, tensor<8x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x8xf32>
  return %12 : tensor<8x16x8xf32>
}

// -----

// [B, L, H, D] inputs transposed to heads-first (TFLite's MHA): the fused
// op reads them through one transpose each and transposes its output back.
// CHECK-LABEL: func @tosa_bshd
// CHECK-DAG: tosa.transpose %arg0 {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x16x4x8xf32>) -> tensor<2x4x16x8xf32>
// CHECK-DAG: tosa.transpose %arg1 {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x16x4x8xf32>) -> tensor<2x4x16x8xf32>
// CHECK-DAG: tosa.transpose %arg2 {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x16x4x8xf32>) -> tensor<2x4x16x8xf32>
// CHECK: attnqat.attention
// CHECK-NOT: tosa.matmul
// CHECK: return
func.func @tosa_bshd(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  %0 = tosa.transpose %q {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x16x4x8xf32>) -> tensor<2x4x16x8xf32>
  %1 = tosa.transpose %k {perms = array<i32: 0, 2, 3, 1>} : (tensor<2x16x4x8xf32>) -> tensor<2x4x8x16xf32>
  %2 = tosa.transpose %v {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x16x4x8xf32>) -> tensor<2x4x16x8xf32>
  %3 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %4 = tosa.reshape %0, %3 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %5 = tosa.const_shape {values = dense<[8, 8, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %6 = tosa.reshape %1, %5 : (tensor<2x4x8x16xf32>, !tosa.shape<3>) -> tensor<8x8x16xf32>
  %7 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %8 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %9 = tosa.matmul %4, %6, %7, %7 : (tensor<8x16x8xf32>, tensor<8x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x16xf32>
  %10 = tosa.const_shape {values = dense<[2, 4, 16, 16]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %11 = tosa.reshape %9, %10 : (tensor<8x16x16xf32>, !tosa.shape<4>) -> tensor<2x4x16x16xf32>
  %12 = "tosa.const"() <{values = dense<0.353553385> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %13 = tosa.mul %11, %12, %8 : (tensor<2x4x16x16xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %14 = tosa.reduce_max %13 {axis = 3 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x1xf32>
  %15 = tosa.sub %13, %14 : (tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) -> tensor<2x4x16x16xf32>
  %16 = tosa.exp %15 : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %17 = tosa.reduce_sum %16 {axis = 3 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x1xf32>
  %18 = tosa.reciprocal %17 : (tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %19 = tosa.mul %16, %18, %8 : (tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %20 = tosa.const_shape {values = dense<[8, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %21 = tosa.reshape %19, %20 : (tensor<2x4x16x16xf32>, !tosa.shape<3>) -> tensor<8x16x16xf32>
  %22 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %23 = tosa.reshape %2, %22 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %24 = tosa.matmul %21, %23, %7, %7 : (tensor<8x16x16xf32>, tensor<8x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x8xf32>
  %25 = tosa.const_shape {values = dense<[2, 4, 16, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %26 = tosa.reshape %24, %25 : (tensor<8x16x8xf32>, !tosa.shape<4>) -> tensor<2x4x16x8xf32>
  %27 = tosa.transpose %26 {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x4x16x8xf32>) -> tensor<2x16x4x8xf32>
  return %27 : tensor<2x16x4x8xf32>
}

// -----

// GQA: K and V [B, Hkv, L, D] repeated per group by reshape + tosa.tile +
// reshape (head h reads KV head h / G).
// CHECK-LABEL: func @tosa_gqa
// CHECK-SAME: (%[[Q:.*]]: tensor<2x4x16x8xf32>, %[[K:.*]]: tensor<2x2x16x8xf32>, %[[V:.*]]: tensor<2x2x16x8xf32>)
// CHECK: attnqat.attention %[[Q]], %[[K]], %[[V]] {config = #attnqat.config<mode = none>} : tensor<2x4x16x8xf32>, tensor<2x2x16x8xf32>, tensor<2x2x16x8xf32>
func.func @tosa_gqa(%q: tensor<2x4x16x8xf32>, %k: tensor<2x2x16x8xf32>, %v: tensor<2x2x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %0 = tosa.const_shape {values = dense<[2, 2, 1, 16, 8]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %1 = tosa.reshape %k, %0 : (tensor<2x2x16x8xf32>, !tosa.shape<5>) -> tensor<2x2x1x16x8xf32>
  %2 = tosa.const_shape {values = dense<[1, 1, 2, 1, 1]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %3 = tosa.tile %1, %2 : (tensor<2x2x1x16x8xf32>, !tosa.shape<5>) -> tensor<2x2x2x16x8xf32>
  %4 = tosa.const_shape {values = dense<[2, 4, 16, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %5 = tosa.reshape %3, %4 : (tensor<2x2x2x16x8xf32>, !tosa.shape<4>) -> tensor<2x4x16x8xf32>
  %6 = tosa.const_shape {values = dense<[2, 2, 1, 16, 8]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %7 = tosa.reshape %v, %6 : (tensor<2x2x16x8xf32>, !tosa.shape<5>) -> tensor<2x2x1x16x8xf32>
  %8 = tosa.const_shape {values = dense<[1, 1, 2, 1, 1]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %9 = tosa.tile %7, %8 : (tensor<2x2x1x16x8xf32>, !tosa.shape<5>) -> tensor<2x2x2x16x8xf32>
  %10 = tosa.const_shape {values = dense<[2, 4, 16, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %11 = tosa.reshape %9, %10 : (tensor<2x2x2x16x8xf32>, !tosa.shape<4>) -> tensor<2x4x16x8xf32>
  %12 = tosa.transpose %5 {perms = array<i32: 0, 1, 3, 2>} : (tensor<2x4x16x8xf32>) -> tensor<2x4x8x16xf32>
  %13 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %14 = tosa.reshape %q, %13 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %15 = tosa.const_shape {values = dense<[8, 8, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %16 = tosa.reshape %12, %15 : (tensor<2x4x8x16xf32>, !tosa.shape<3>) -> tensor<8x8x16xf32>
  %17 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %18 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %19 = tosa.matmul %14, %16, %17, %17 : (tensor<8x16x8xf32>, tensor<8x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x16xf32>
  %20 = tosa.const_shape {values = dense<[2, 4, 16, 16]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %21 = tosa.reshape %19, %20 : (tensor<8x16x16xf32>, !tosa.shape<4>) -> tensor<2x4x16x16xf32>
  %22 = "tosa.const"() <{values = dense<0.353553385> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %23 = tosa.mul %21, %22, %18 : (tensor<2x4x16x16xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %24 = tosa.reduce_max %23 {axis = 3 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x1xf32>
  %25 = tosa.sub %23, %24 : (tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) -> tensor<2x4x16x16xf32>
  %26 = tosa.exp %25 : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %27 = tosa.reduce_sum %26 {axis = 3 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x1xf32>
  %28 = tosa.reciprocal %27 : (tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %29 = tosa.mul %26, %28, %18 : (tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %30 = tosa.const_shape {values = dense<[8, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %31 = tosa.reshape %29, %30 : (tensor<2x4x16x16xf32>, !tosa.shape<3>) -> tensor<8x16x16xf32>
  %32 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %33 = tosa.reshape %11, %32 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %34 = tosa.matmul %31, %33, %17, %17 : (tensor<8x16x16xf32>, tensor<8x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x8xf32>
  %35 = tosa.const_shape {values = dense<[2, 4, 16, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %36 = tosa.reshape %34, %35 : (tensor<8x16x8xf32>, !tosa.shape<4>) -> tensor<2x4x16x8xf32>
  return %36 : tensor<2x4x16x8xf32>
}

// -----

// Negative: reduce_max over the query axis.
// CHECK-LABEL: func @tosa_neg_max_axis
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @tosa_neg_max_axis(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %0 = tosa.transpose %k {perms = array<i32: 0, 1, 3, 2>} : (tensor<2x4x16x8xf32>) -> tensor<2x4x8x16xf32>
  %1 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %2 = tosa.reshape %q, %1 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %3 = tosa.const_shape {values = dense<[8, 8, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %4 = tosa.reshape %0, %3 : (tensor<2x4x8x16xf32>, !tosa.shape<3>) -> tensor<8x8x16xf32>
  %5 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %6 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %7 = tosa.matmul %2, %4, %5, %5 : (tensor<8x16x8xf32>, tensor<8x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x16xf32>
  %8 = tosa.const_shape {values = dense<[2, 4, 16, 16]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %9 = tosa.reshape %7, %8 : (tensor<8x16x16xf32>, !tosa.shape<4>) -> tensor<2x4x16x16xf32>
  %10 = "tosa.const"() <{values = dense<0.353553385> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %11 = tosa.mul %9, %10, %6 : (tensor<2x4x16x16xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %12 = tosa.reduce_max %11 {axis = 2 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x1x16xf32>
  %13 = tosa.sub %11, %12 : (tensor<2x4x16x16xf32>, tensor<2x4x1x16xf32>) -> tensor<2x4x16x16xf32>
  %14 = tosa.exp %13 : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %15 = tosa.reduce_sum %14 {axis = 3 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x1xf32>
  %16 = tosa.reciprocal %15 : (tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %17 = tosa.mul %14, %16, %6 : (tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %18 = tosa.const_shape {values = dense<[8, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %19 = tosa.reshape %17, %18 : (tensor<2x4x16x16xf32>, !tosa.shape<3>) -> tensor<8x16x16xf32>
  %20 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %21 = tosa.reshape %v, %20 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %22 = tosa.matmul %19, %21, %5, %5 : (tensor<8x16x16xf32>, tensor<8x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x8xf32>
  %23 = tosa.const_shape {values = dense<[2, 4, 16, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %24 = tosa.reshape %22, %23 : (tensor<8x16x8xf32>, !tosa.shape<4>) -> tensor<2x4x16x8xf32>
  return %24 : tensor<2x4x16x8xf32>
}

// -----

// Negative: reduce_sum over the query axis.
// CHECK-LABEL: func @tosa_neg_sum_axis
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @tosa_neg_sum_axis(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %0 = tosa.transpose %k {perms = array<i32: 0, 1, 3, 2>} : (tensor<2x4x16x8xf32>) -> tensor<2x4x8x16xf32>
  %1 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %2 = tosa.reshape %q, %1 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %3 = tosa.const_shape {values = dense<[8, 8, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %4 = tosa.reshape %0, %3 : (tensor<2x4x8x16xf32>, !tosa.shape<3>) -> tensor<8x8x16xf32>
  %5 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %6 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %7 = tosa.matmul %2, %4, %5, %5 : (tensor<8x16x8xf32>, tensor<8x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x16xf32>
  %8 = tosa.const_shape {values = dense<[2, 4, 16, 16]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %9 = tosa.reshape %7, %8 : (tensor<8x16x16xf32>, !tosa.shape<4>) -> tensor<2x4x16x16xf32>
  %10 = "tosa.const"() <{values = dense<0.353553385> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %11 = tosa.mul %9, %10, %6 : (tensor<2x4x16x16xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %12 = tosa.reduce_max %11 {axis = 3 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x1xf32>
  %13 = tosa.sub %11, %12 : (tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) -> tensor<2x4x16x16xf32>
  %14 = tosa.exp %13 : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %15 = tosa.reduce_sum %14 {axis = 2 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x1x16xf32>
  %16 = tosa.reciprocal %15 : (tensor<2x4x1x16xf32>) -> tensor<2x4x1x16xf32>
  %17 = tosa.mul %14, %16, %6 : (tensor<2x4x16x16xf32>, tensor<2x4x1x16xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %18 = tosa.const_shape {values = dense<[8, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %19 = tosa.reshape %17, %18 : (tensor<2x4x16x16xf32>, !tosa.shape<3>) -> tensor<8x16x16xf32>
  %20 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %21 = tosa.reshape %v, %20 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %22 = tosa.matmul %19, %21, %5, %5 : (tensor<8x16x16xf32>, tensor<8x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x8xf32>
  %23 = tosa.const_shape {values = dense<[2, 4, 16, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %24 = tosa.reshape %22, %23 : (tensor<8x16x8xf32>, !tosa.shape<4>) -> tensor<2x4x16x8xf32>
  return %24 : tensor<2x4x16x8xf32>
}

// -----

// Negative: the whole softmax over the query axis.
// CHECK-LABEL: func @tosa_neg_softmax_axis
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @tosa_neg_softmax_axis(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %0 = tosa.transpose %k {perms = array<i32: 0, 1, 3, 2>} : (tensor<2x4x16x8xf32>) -> tensor<2x4x8x16xf32>
  %1 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %2 = tosa.reshape %q, %1 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %3 = tosa.const_shape {values = dense<[8, 8, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %4 = tosa.reshape %0, %3 : (tensor<2x4x8x16xf32>, !tosa.shape<3>) -> tensor<8x8x16xf32>
  %5 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %6 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %7 = tosa.matmul %2, %4, %5, %5 : (tensor<8x16x8xf32>, tensor<8x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x16xf32>
  %8 = tosa.const_shape {values = dense<[2, 4, 16, 16]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %9 = tosa.reshape %7, %8 : (tensor<8x16x16xf32>, !tosa.shape<4>) -> tensor<2x4x16x16xf32>
  %10 = "tosa.const"() <{values = dense<0.353553385> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %11 = tosa.mul %9, %10, %6 : (tensor<2x4x16x16xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %12 = tosa.reduce_max %11 {axis = 2 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x1x16xf32>
  %13 = tosa.sub %11, %12 : (tensor<2x4x16x16xf32>, tensor<2x4x1x16xf32>) -> tensor<2x4x16x16xf32>
  %14 = tosa.exp %13 : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %15 = tosa.reduce_sum %14 {axis = 2 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x1x16xf32>
  %16 = tosa.reciprocal %15 : (tensor<2x4x1x16xf32>) -> tensor<2x4x1x16xf32>
  %17 = tosa.mul %14, %16, %6 : (tensor<2x4x16x16xf32>, tensor<2x4x1x16xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %18 = tosa.const_shape {values = dense<[8, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %19 = tosa.reshape %17, %18 : (tensor<2x4x16x16xf32>, !tosa.shape<3>) -> tensor<8x16x16xf32>
  %20 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %21 = tosa.reshape %v, %20 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %22 = tosa.matmul %19, %21, %5, %5 : (tensor<8x16x16xf32>, tensor<8x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x8xf32>
  %23 = tosa.const_shape {values = dense<[2, 4, 16, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %24 = tosa.reshape %22, %23 : (tensor<8x16x8xf32>, !tosa.shape<4>) -> tensor<2x4x16x8xf32>
  return %24 : tensor<2x4x16x8xf32>
}

// -----

// Negative: the scale is a per-key constant, not a splat.
// CHECK-LABEL: func @tosa_neg_scale_not_splat
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @tosa_neg_scale_not_splat(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %0 = tosa.transpose %k {perms = array<i32: 0, 1, 3, 2>} : (tensor<2x4x16x8xf32>) -> tensor<2x4x8x16xf32>
  %1 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %2 = tosa.reshape %q, %1 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %3 = tosa.const_shape {values = dense<[8, 8, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %4 = tosa.reshape %0, %3 : (tensor<2x4x8x16xf32>, !tosa.shape<3>) -> tensor<8x8x16xf32>
  %5 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %6 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %7 = tosa.matmul %2, %4, %5, %5 : (tensor<8x16x8xf32>, tensor<8x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x16xf32>
  %8 = tosa.const_shape {values = dense<[2, 4, 16, 16]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %9 = tosa.reshape %7, %8 : (tensor<8x16x16xf32>, !tosa.shape<4>) -> tensor<2x4x16x16xf32>
  %10 = "tosa.const"() <{values = dense<[[[[1.250000e-01, 1.250000e-01, 1.250000e-01, 1.250000e-01, 1.250000e-01, 1.250000e-01, 1.250000e-01, 1.250000e-01, 2.500000e-01, 2.500000e-01, 2.500000e-01, 2.500000e-01, 2.500000e-01, 2.500000e-01, 2.500000e-01, 2.500000e-01]]]]> : tensor<1x1x1x16xf32>}> : () -> tensor<1x1x1x16xf32>
  %11 = tosa.mul %9, %10, %6 : (tensor<2x4x16x16xf32>, tensor<1x1x1x16xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %12 = tosa.reduce_max %11 {axis = 3 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x1xf32>
  %13 = tosa.sub %11, %12 : (tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) -> tensor<2x4x16x16xf32>
  %14 = tosa.exp %13 : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %15 = tosa.reduce_sum %14 {axis = 3 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x1xf32>
  %16 = tosa.reciprocal %15 : (tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %17 = tosa.mul %14, %16, %6 : (tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %18 = tosa.const_shape {values = dense<[8, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %19 = tosa.reshape %17, %18 : (tensor<2x4x16x16xf32>, !tosa.shape<3>) -> tensor<8x16x16xf32>
  %20 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %21 = tosa.reshape %v, %20 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %22 = tosa.matmul %19, %21, %5, %5 : (tensor<8x16x16xf32>, tensor<8x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x8xf32>
  %23 = tosa.const_shape {values = dense<[2, 4, 16, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %24 = tosa.reshape %22, %23 : (tensor<8x16x8xf32>, !tosa.shape<4>) -> tensor<2x4x16x8xf32>
  return %24 : tensor<2x4x16x8xf32>
}

// -----

// Negative: the mask is added before the scale.
// CHECK-LABEL: func @tosa_neg_mask_then_scale
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @tosa_neg_mask_then_scale(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>, %mask: tensor<2x1x1x16xf32>) -> tensor<2x4x16x8xf32> {
  %0 = tosa.transpose %k {perms = array<i32: 0, 1, 3, 2>} : (tensor<2x4x16x8xf32>) -> tensor<2x4x8x16xf32>
  %1 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %2 = tosa.reshape %q, %1 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %3 = tosa.const_shape {values = dense<[8, 8, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %4 = tosa.reshape %0, %3 : (tensor<2x4x8x16xf32>, !tosa.shape<3>) -> tensor<8x8x16xf32>
  %5 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %6 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %7 = tosa.matmul %2, %4, %5, %5 : (tensor<8x16x8xf32>, tensor<8x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x16xf32>
  %8 = tosa.const_shape {values = dense<[2, 4, 16, 16]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %9 = tosa.reshape %7, %8 : (tensor<8x16x16xf32>, !tosa.shape<4>) -> tensor<2x4x16x16xf32>
  %10 = tosa.add %9, %mask : (tensor<2x4x16x16xf32>, tensor<2x1x1x16xf32>) -> tensor<2x4x16x16xf32>
  %11 = "tosa.const"() <{values = dense<0.353553385> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %12 = tosa.mul %10, %11, %6 : (tensor<2x4x16x16xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %13 = tosa.reduce_max %12 {axis = 3 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x1xf32>
  %14 = tosa.sub %12, %13 : (tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) -> tensor<2x4x16x16xf32>
  %15 = tosa.exp %14 : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %16 = tosa.reduce_sum %15 {axis = 3 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x1xf32>
  %17 = tosa.reciprocal %16 : (tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %18 = tosa.mul %15, %17, %6 : (tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %19 = tosa.const_shape {values = dense<[8, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %20 = tosa.reshape %18, %19 : (tensor<2x4x16x16xf32>, !tosa.shape<3>) -> tensor<8x16x16xf32>
  %21 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %22 = tosa.reshape %v, %21 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %23 = tosa.matmul %20, %22, %5, %5 : (tensor<8x16x16xf32>, tensor<8x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x8xf32>
  %24 = tosa.const_shape {values = dense<[2, 4, 16, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %25 = tosa.reshape %23, %24 : (tensor<8x16x8xf32>, !tosa.shape<4>) -> tensor<2x4x16x8xf32>
  return %25 : tensor<2x4x16x8xf32>
}

// -----

// Negative: P·V consumes the unnormalized exp.
// CHECK-LABEL: func @tosa_neg_pv_consumes_exp
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @tosa_neg_pv_consumes_exp(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %0 = tosa.transpose %k {perms = array<i32: 0, 1, 3, 2>} : (tensor<2x4x16x8xf32>) -> tensor<2x4x8x16xf32>
  %1 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %2 = tosa.reshape %q, %1 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %3 = tosa.const_shape {values = dense<[8, 8, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %4 = tosa.reshape %0, %3 : (tensor<2x4x8x16xf32>, !tosa.shape<3>) -> tensor<8x8x16xf32>
  %5 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %6 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %7 = tosa.matmul %2, %4, %5, %5 : (tensor<8x16x8xf32>, tensor<8x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x16xf32>
  %8 = tosa.const_shape {values = dense<[2, 4, 16, 16]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %9 = tosa.reshape %7, %8 : (tensor<8x16x16xf32>, !tosa.shape<4>) -> tensor<2x4x16x16xf32>
  %10 = "tosa.const"() <{values = dense<0.353553385> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %11 = tosa.mul %9, %10, %6 : (tensor<2x4x16x16xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %12 = tosa.reduce_max %11 {axis = 3 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x1xf32>
  %13 = tosa.sub %11, %12 : (tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) -> tensor<2x4x16x16xf32>
  %14 = tosa.exp %13 : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %15 = tosa.const_shape {values = dense<[8, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %16 = tosa.reshape %14, %15 : (tensor<2x4x16x16xf32>, !tosa.shape<3>) -> tensor<8x16x16xf32>
  %17 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %18 = tosa.reshape %v, %17 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %19 = tosa.matmul %16, %18, %5, %5 : (tensor<8x16x16xf32>, tensor<8x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x8xf32>
  %20 = tosa.const_shape {values = dense<[2, 4, 16, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %21 = tosa.reshape %19, %20 : (tensor<8x16x8xf32>, !tosa.shape<4>) -> tensor<2x4x16x8xf32>
  return %21 : tensor<2x4x16x8xf32>
}

// -----

// Negative: K and V tiled across heads (tosa.tile of [B, Hkv, L, D]: head h
// reads KV head h % Hkv), not attnqat's GQA.
// CHECK-LABEL: func @tosa_neg_tiled_kv
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @tosa_neg_tiled_kv(%q: tensor<2x4x16x8xf32>, %k: tensor<2x2x16x8xf32>, %v: tensor<2x2x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %0 = tosa.const_shape {values = dense<[2, 2, 1, 16, 8]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %1 = tosa.reshape %k, %0 : (tensor<2x2x16x8xf32>, !tosa.shape<5>) -> tensor<2x2x1x16x8xf32>
  %2 = tosa.const_shape {values = dense<[1, 2, 1, 1]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %3 = tosa.tile %k, %2 : (tensor<2x2x16x8xf32>, !tosa.shape<4>) -> tensor<2x4x16x8xf32>
  %4 = tosa.const_shape {values = dense<[2, 2, 1, 16, 8]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %5 = tosa.reshape %v, %4 : (tensor<2x2x16x8xf32>, !tosa.shape<5>) -> tensor<2x2x1x16x8xf32>
  %6 = tosa.const_shape {values = dense<[1, 2, 1, 1]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %7 = tosa.tile %v, %6 : (tensor<2x2x16x8xf32>, !tosa.shape<4>) -> tensor<2x4x16x8xf32>
  %8 = tosa.transpose %3 {perms = array<i32: 0, 1, 3, 2>} : (tensor<2x4x16x8xf32>) -> tensor<2x4x8x16xf32>
  %9 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %10 = tosa.reshape %q, %9 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %11 = tosa.const_shape {values = dense<[8, 8, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %12 = tosa.reshape %8, %11 : (tensor<2x4x8x16xf32>, !tosa.shape<3>) -> tensor<8x8x16xf32>
  %13 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %14 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %15 = tosa.matmul %10, %12, %13, %13 : (tensor<8x16x8xf32>, tensor<8x8x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x16xf32>
  %16 = tosa.const_shape {values = dense<[2, 4, 16, 16]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %17 = tosa.reshape %15, %16 : (tensor<8x16x16xf32>, !tosa.shape<4>) -> tensor<2x4x16x16xf32>
  %18 = "tosa.const"() <{values = dense<0.353553385> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %19 = tosa.mul %17, %18, %14 : (tensor<2x4x16x16xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %20 = tosa.reduce_max %19 {axis = 3 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x1xf32>
  %21 = tosa.sub %19, %20 : (tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) -> tensor<2x4x16x16xf32>
  %22 = tosa.exp %21 : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %23 = tosa.reduce_sum %22 {axis = 3 : i32} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x1xf32>
  %24 = tosa.reciprocal %23 : (tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %25 = tosa.mul %22, %24, %14 : (tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>, tensor<1xi8>) -> tensor<2x4x16x16xf32>
  %26 = tosa.const_shape {values = dense<[8, 16, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %27 = tosa.reshape %25, %26 : (tensor<2x4x16x16xf32>, !tosa.shape<3>) -> tensor<8x16x16xf32>
  %28 = tosa.const_shape {values = dense<[8, 16, 8]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %29 = tosa.reshape %7, %28 : (tensor<2x4x16x8xf32>, !tosa.shape<3>) -> tensor<8x16x8xf32>
  %30 = tosa.matmul %27, %29, %13, %13 : (tensor<8x16x16xf32>, tensor<8x16x8xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x16x8xf32>
  %31 = tosa.const_shape {values = dense<[2, 4, 16, 8]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %32 = tosa.reshape %30, %31 : (tensor<8x16x8xf32>, !tosa.shape<4>) -> tensor<2x4x16x8xf32>
  return %32 : tensor<2x4x16x8xf32>
}
