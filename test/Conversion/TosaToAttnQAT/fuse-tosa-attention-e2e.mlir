// End to end on the CPU path: each function runs unfused (TOSA lowered by
// the upstream tosa-to-* passes) and fused (attnqat-fuse-tosa-attention
// first) on the same seeded inputs, and the fused outputs must match.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: attnqat-opt %s --attnqat-fuse-tosa-attention | FileCheck %s --check-prefix=FUSED
// RUN: attnqat-opt %s --pass-pipeline="builtin.module(func.func(tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith,tosa-to-tensor))" -o %t/unfused.mlir
// RUN: attnqat-opt %s --pass-pipeline="builtin.module(attnqat-fuse-tosa-attention,func.func(tosa-to-linalg-named,tosa-to-linalg,tosa-to-arith,tosa-to-tensor),convert-attnqat-to-loops)" -o %t/fused.mlir
//
// RUN: attnqat-run %t/unfused.mlir --entry=mha_mask --seed=9 --input 0=normal --input 1=normal --input 2=normal --input 3=normal --output-dir=%t > %t/mha_mask.ref.txt
// RUN: attnqat-run %t/fused.mlir --entry=mha_mask --seed=9 --input 0=normal --input 1=normal --input 2=normal --input 3=normal \
// RUN:   --compare 0=%t/mha_mask.result0.npy --compare-atol=1e-5 --compare-rtol=1e-4 \
// RUN:   | FileCheck %s --check-prefix=CMP
//
// RUN: attnqat-run %t/unfused.mlir --entry=gqa --seed=9 --input 0=normal --input 1=normal --input 2=normal --output-dir=%t > %t/gqa.ref.txt
// RUN: attnqat-run %t/fused.mlir --entry=gqa --seed=9 --input 0=normal --input 1=normal --input 2=normal \
// RUN:   --compare 0=%t/gqa.result0.npy --compare-atol=1e-5 --compare-rtol=1e-4 \
// RUN:   | FileCheck %s --check-prefix=CMP
//
// RUN: attnqat-run %t/unfused.mlir --entry=bshd --seed=9 --input 0=normal --input 1=normal --input 2=normal --output-dir=%t > %t/bshd.ref.txt
// RUN: attnqat-run %t/fused.mlir --entry=bshd --seed=9 --input 0=normal --input 1=normal --input 2=normal \
// RUN:   --compare 0=%t/bshd.result0.npy --compare-atol=1e-5 --compare-rtol=1e-4 \
// RUN:   | FileCheck %s --check-prefix=CMP
//
// CMP: compare 'result0' vs {{.*}}.result0.npy: max_abs={{[0-9.]+(e-0[5-9])?}} {{.*}} nan_mismatch=0 PASS

// FUSED-LABEL: func @mha_mask
// FUSED-NOT: tosa.matmul
// FUSED: attnqat.attention
// FUSED-NOT: tosa.matmul
// FUSED: return
func.func @mha_mask(%q: tensor<2x4x32x16xf32>, %k: tensor<2x4x32x16xf32>, %v: tensor<2x4x32x16xf32>, %mask: tensor<2x1x1x32xf32>) -> tensor<2x4x32x16xf32> {
  %0 = tosa.transpose %k {perms = array<i32: 0, 1, 3, 2>} : (tensor<2x4x32x16xf32>) -> tensor<2x4x16x32xf32>
  %1 = tosa.const_shape {values = dense<[8, 32, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %2 = tosa.reshape %q, %1 : (tensor<2x4x32x16xf32>, !tosa.shape<3>) -> tensor<8x32x16xf32>
  %3 = tosa.const_shape {values = dense<[8, 16, 32]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %4 = tosa.reshape %0, %3 : (tensor<2x4x16x32xf32>, !tosa.shape<3>) -> tensor<8x16x32xf32>
  %5 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %6 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %7 = tosa.matmul %2, %4, %5, %5 : (tensor<8x32x16xf32>, tensor<8x16x32xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x32x32xf32>
  %8 = tosa.const_shape {values = dense<[2, 4, 32, 32]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %9 = tosa.reshape %7, %8 : (tensor<8x32x32xf32>, !tosa.shape<4>) -> tensor<2x4x32x32xf32>
  %10 = "tosa.const"() <{values = dense<0.353553385> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %11 = tosa.mul %9, %10, %6 : (tensor<2x4x32x32xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<2x4x32x32xf32>
  %12 = tosa.add %11, %mask : (tensor<2x4x32x32xf32>, tensor<2x1x1x32xf32>) -> tensor<2x4x32x32xf32>
  %13 = tosa.reduce_max %12 {axis = 3 : i32} : (tensor<2x4x32x32xf32>) -> tensor<2x4x32x1xf32>
  %14 = tosa.sub %12, %13 : (tensor<2x4x32x32xf32>, tensor<2x4x32x1xf32>) -> tensor<2x4x32x32xf32>
  %15 = tosa.exp %14 : (tensor<2x4x32x32xf32>) -> tensor<2x4x32x32xf32>
  %16 = tosa.reduce_sum %15 {axis = 3 : i32} : (tensor<2x4x32x32xf32>) -> tensor<2x4x32x1xf32>
  %17 = tosa.reciprocal %16 : (tensor<2x4x32x1xf32>) -> tensor<2x4x32x1xf32>
  %18 = tosa.mul %15, %17, %6 : (tensor<2x4x32x32xf32>, tensor<2x4x32x1xf32>, tensor<1xi8>) -> tensor<2x4x32x32xf32>
  %19 = tosa.const_shape {values = dense<[8, 32, 32]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %20 = tosa.reshape %18, %19 : (tensor<2x4x32x32xf32>, !tosa.shape<3>) -> tensor<8x32x32xf32>
  %21 = tosa.const_shape {values = dense<[8, 32, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %22 = tosa.reshape %v, %21 : (tensor<2x4x32x16xf32>, !tosa.shape<3>) -> tensor<8x32x16xf32>
  %23 = tosa.matmul %20, %22, %5, %5 : (tensor<8x32x32xf32>, tensor<8x32x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x32x16xf32>
  %24 = tosa.const_shape {values = dense<[2, 4, 32, 16]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %25 = tosa.reshape %23, %24 : (tensor<8x32x16xf32>, !tosa.shape<4>) -> tensor<2x4x32x16xf32>
  return %25 : tensor<2x4x32x16xf32>
}

// FUSED-LABEL: func @gqa
// FUSED-NOT: tosa.matmul
// FUSED: attnqat.attention
// FUSED-NOT: tosa.matmul
// FUSED: return
func.func @gqa(%q: tensor<2x4x32x16xf32>, %k: tensor<2x2x32x16xf32>, %v: tensor<2x2x32x16xf32>) -> tensor<2x4x32x16xf32> {
  %0 = tosa.const_shape {values = dense<[2, 2, 1, 32, 16]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %1 = tosa.reshape %k, %0 : (tensor<2x2x32x16xf32>, !tosa.shape<5>) -> tensor<2x2x1x32x16xf32>
  %2 = tosa.const_shape {values = dense<[1, 1, 2, 1, 1]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %3 = tosa.tile %1, %2 : (tensor<2x2x1x32x16xf32>, !tosa.shape<5>) -> tensor<2x2x2x32x16xf32>
  %4 = tosa.const_shape {values = dense<[2, 4, 32, 16]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %5 = tosa.reshape %3, %4 : (tensor<2x2x2x32x16xf32>, !tosa.shape<4>) -> tensor<2x4x32x16xf32>
  %6 = tosa.const_shape {values = dense<[2, 2, 1, 32, 16]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %7 = tosa.reshape %v, %6 : (tensor<2x2x32x16xf32>, !tosa.shape<5>) -> tensor<2x2x1x32x16xf32>
  %8 = tosa.const_shape {values = dense<[1, 1, 2, 1, 1]> : tensor<5xindex>} : () -> !tosa.shape<5>
  %9 = tosa.tile %7, %8 : (tensor<2x2x1x32x16xf32>, !tosa.shape<5>) -> tensor<2x2x2x32x16xf32>
  %10 = tosa.const_shape {values = dense<[2, 4, 32, 16]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %11 = tosa.reshape %9, %10 : (tensor<2x2x2x32x16xf32>, !tosa.shape<4>) -> tensor<2x4x32x16xf32>
  %12 = tosa.transpose %5 {perms = array<i32: 0, 1, 3, 2>} : (tensor<2x4x32x16xf32>) -> tensor<2x4x16x32xf32>
  %13 = tosa.const_shape {values = dense<[8, 32, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %14 = tosa.reshape %q, %13 : (tensor<2x4x32x16xf32>, !tosa.shape<3>) -> tensor<8x32x16xf32>
  %15 = tosa.const_shape {values = dense<[8, 16, 32]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %16 = tosa.reshape %12, %15 : (tensor<2x4x16x32xf32>, !tosa.shape<3>) -> tensor<8x16x32xf32>
  %17 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %18 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %19 = tosa.matmul %14, %16, %17, %17 : (tensor<8x32x16xf32>, tensor<8x16x32xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x32x32xf32>
  %20 = tosa.const_shape {values = dense<[2, 4, 32, 32]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %21 = tosa.reshape %19, %20 : (tensor<8x32x32xf32>, !tosa.shape<4>) -> tensor<2x4x32x32xf32>
  %22 = "tosa.const"() <{values = dense<2.500000e-01> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %23 = tosa.mul %21, %22, %18 : (tensor<2x4x32x32xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<2x4x32x32xf32>
  %24 = tosa.reduce_max %23 {axis = 3 : i32} : (tensor<2x4x32x32xf32>) -> tensor<2x4x32x1xf32>
  %25 = tosa.sub %23, %24 : (tensor<2x4x32x32xf32>, tensor<2x4x32x1xf32>) -> tensor<2x4x32x32xf32>
  %26 = tosa.exp %25 : (tensor<2x4x32x32xf32>) -> tensor<2x4x32x32xf32>
  %27 = tosa.reduce_sum %26 {axis = 3 : i32} : (tensor<2x4x32x32xf32>) -> tensor<2x4x32x1xf32>
  %28 = tosa.reciprocal %27 : (tensor<2x4x32x1xf32>) -> tensor<2x4x32x1xf32>
  %29 = tosa.mul %26, %28, %18 : (tensor<2x4x32x32xf32>, tensor<2x4x32x1xf32>, tensor<1xi8>) -> tensor<2x4x32x32xf32>
  %30 = tosa.const_shape {values = dense<[8, 32, 32]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %31 = tosa.reshape %29, %30 : (tensor<2x4x32x32xf32>, !tosa.shape<3>) -> tensor<8x32x32xf32>
  %32 = tosa.const_shape {values = dense<[8, 32, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %33 = tosa.reshape %11, %32 : (tensor<2x4x32x16xf32>, !tosa.shape<3>) -> tensor<8x32x16xf32>
  %34 = tosa.matmul %31, %33, %17, %17 : (tensor<8x32x32xf32>, tensor<8x32x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x32x16xf32>
  %35 = tosa.const_shape {values = dense<[2, 4, 32, 16]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %36 = tosa.reshape %34, %35 : (tensor<8x32x16xf32>, !tosa.shape<4>) -> tensor<2x4x32x16xf32>
  return %36 : tensor<2x4x32x16xf32>
}

// FUSED-LABEL: func @bshd
// FUSED-NOT: tosa.matmul
// FUSED: attnqat.attention
// FUSED-NOT: tosa.matmul
// FUSED: return
func.func @bshd(%q: tensor<2x32x4x16xf32>, %k: tensor<2x32x4x16xf32>, %v: tensor<2x32x4x16xf32>) -> tensor<2x32x4x16xf32> {
  %0 = tosa.transpose %q {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x32x4x16xf32>) -> tensor<2x4x32x16xf32>
  %1 = tosa.transpose %k {perms = array<i32: 0, 2, 3, 1>} : (tensor<2x32x4x16xf32>) -> tensor<2x4x16x32xf32>
  %2 = tosa.transpose %v {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x32x4x16xf32>) -> tensor<2x4x32x16xf32>
  %3 = tosa.const_shape {values = dense<[8, 32, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %4 = tosa.reshape %0, %3 : (tensor<2x4x32x16xf32>, !tosa.shape<3>) -> tensor<8x32x16xf32>
  %5 = tosa.const_shape {values = dense<[8, 16, 32]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %6 = tosa.reshape %1, %5 : (tensor<2x4x16x32xf32>, !tosa.shape<3>) -> tensor<8x16x32xf32>
  %7 = "tosa.const"() <{values = dense<0.000000e+00> : tensor<1xf32>}> : () -> tensor<1xf32>
  %8 = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %9 = tosa.matmul %4, %6, %7, %7 : (tensor<8x32x16xf32>, tensor<8x16x32xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x32x32xf32>
  %10 = tosa.const_shape {values = dense<[2, 4, 32, 32]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %11 = tosa.reshape %9, %10 : (tensor<8x32x32xf32>, !tosa.shape<4>) -> tensor<2x4x32x32xf32>
  %12 = "tosa.const"() <{values = dense<2.500000e-01> : tensor<1x1x1x1xf32>}> : () -> tensor<1x1x1x1xf32>
  %13 = tosa.mul %11, %12, %8 : (tensor<2x4x32x32xf32>, tensor<1x1x1x1xf32>, tensor<1xi8>) -> tensor<2x4x32x32xf32>
  %14 = tosa.reduce_max %13 {axis = 3 : i32} : (tensor<2x4x32x32xf32>) -> tensor<2x4x32x1xf32>
  %15 = tosa.sub %13, %14 : (tensor<2x4x32x32xf32>, tensor<2x4x32x1xf32>) -> tensor<2x4x32x32xf32>
  %16 = tosa.exp %15 : (tensor<2x4x32x32xf32>) -> tensor<2x4x32x32xf32>
  %17 = tosa.reduce_sum %16 {axis = 3 : i32} : (tensor<2x4x32x32xf32>) -> tensor<2x4x32x1xf32>
  %18 = tosa.reciprocal %17 : (tensor<2x4x32x1xf32>) -> tensor<2x4x32x1xf32>
  %19 = tosa.mul %16, %18, %8 : (tensor<2x4x32x32xf32>, tensor<2x4x32x1xf32>, tensor<1xi8>) -> tensor<2x4x32x32xf32>
  %20 = tosa.const_shape {values = dense<[8, 32, 32]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %21 = tosa.reshape %19, %20 : (tensor<2x4x32x32xf32>, !tosa.shape<3>) -> tensor<8x32x32xf32>
  %22 = tosa.const_shape {values = dense<[8, 32, 16]> : tensor<3xindex>} : () -> !tosa.shape<3>
  %23 = tosa.reshape %2, %22 : (tensor<2x4x32x16xf32>, !tosa.shape<3>) -> tensor<8x32x16xf32>
  %24 = tosa.matmul %21, %23, %7, %7 : (tensor<8x32x32xf32>, tensor<8x32x16xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<8x32x16xf32>
  %25 = tosa.const_shape {values = dense<[2, 4, 32, 16]> : tensor<4xindex>} : () -> !tosa.shape<4>
  %26 = tosa.reshape %24, %25 : (tensor<8x32x16xf32>, !tosa.shape<4>) -> tensor<2x4x32x16xf32>
  %27 = tosa.transpose %26 {perms = array<i32: 0, 2, 1, 3>} : (tensor<2x4x32x16xf32>) -> tensor<2x32x4x16xf32>
  return %27 : tensor<2x32x4x16xf32>
}
