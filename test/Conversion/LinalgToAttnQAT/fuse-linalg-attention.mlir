// RUN: attnqat-opt %s --attnqat-fuse-linalg-attention --split-input-file | FileCheck %s

// torch-mlir's aten.scaled_dot_product_attention decomposition: transpose
// generic, 4-D matmuls as collapse + batch_matmul + expand, scale by
// 1/sqrt(D) after Q·Kᵀ, softmax as max.dim (with its unused argmax) / sub /
// exp / sum / div.
// CHECK-LABEL: func @torch_sdpa
// CHECK-SAME: (%[[Q:.*]]: tensor<2x4x16x8xf32>, %[[K:.*]]: tensor<2x4x16x8xf32>, %[[V:.*]]: tensor<2x4x16x8xf32>)
// CHECK-NOT: linalg.
// CHECK: %[[O:.*]], %{{.*}} = attnqat.attention %[[Q]], %[[K]], %[[V]] {config = #attnqat.config<mode = none>} : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32> -> tensor<2x4x16x8xf32>, tensor<2x4x16xf32>
// CHECK-NOT: linalg.
// CHECK: %[[C:.*]] = tensor.collapse_shape %[[O]] {{\[}}[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
// CHECK: %[[E:.*]] = tensor.expand_shape %[[C]]
// CHECK: return %[[E]]
func.func @torch_sdpa(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant 0.353553385 : f32
  %cst_2 = arith.constant -3.40282347E+38 : f32
  %cst_3 = arith.constant 0 : i64
  %e1 = tensor.empty() : tensor<2x4x8x16xf32>
  %g2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<2x4x16x8xf32>) outs(%e1 : tensor<2x4x8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x4x8x16xf32>
  %c3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %c4 = tensor.collapse_shape %g2 [[0, 1], [2], [3]] : tensor<2x4x8x16xf32> into tensor<8x8x16xf32>
  %e5 = tensor.empty() : tensor<8x16x16xf32>
  %f6 = linalg.fill ins(%cst_0 : f32) outs(%e5 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %bmm7 = linalg.batch_matmul ins(%c3, %c4 : tensor<8x16x8xf32>, tensor<8x8x16xf32>) outs(%f6 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %x8 = tensor.expand_shape %bmm7 [[0, 1], [2], [3]] output_shape [2, 4, 16, 16] : tensor<8x16x16xf32> into tensor<2x4x16x16xf32>
  %e9 = tensor.empty() : tensor<2x4x16x16xf32>
  %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x8 : tensor<2x4x16x16xf32>) outs(%e9 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_1 : f32
    linalg.yield %sc : f32
  } -> tensor<2x4x16x16xf32>
  %e11 = tensor.empty() : tensor<2x4x16x1xf32>
  %f12 = linalg.fill ins(%cst_2 : f32) outs(%e11 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %e13 = tensor.empty() : tensor<2x4x16x1xi64>
  %f14 = linalg.fill ins(%cst_3 : i64) outs(%e13 : tensor<2x4x16x1xi64>) -> tensor<2x4x16x1xi64>
  %g15:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g10 : tensor<2x4x16x16xf32>) outs(%f12, %f14 : tensor<2x4x16x1xf32>, tensor<2x4x16x1xi64>) {
  ^bb0(%in: f32, %out: f32, %out1: i64):
    %idx = linalg.index 3 : index
    %idx64 = arith.index_cast %idx : index to i64
    %max = arith.maximumf %in, %out : f32
    %gt = arith.cmpf ogt, %in, %out : f32
    %arg = arith.select %gt, %idx64, %out1 : i64
    linalg.yield %max, %arg : f32, i64
  } -> (tensor<2x4x16x1xf32>, tensor<2x4x16x1xi64>)
  %e16 = tensor.empty() : tensor<2x4x16x16xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g10, %g15#0 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e16 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<2x4x16x16xf32>
  %e18 = tensor.empty() : tensor<2x4x16x16xf32>
  %g19 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g17 : tensor<2x4x16x16xf32>) outs(%e18 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<2x4x16x16xf32>
  %e20 = tensor.empty() : tensor<2x4x16x1xf32>
  %f21 = linalg.fill ins(%cst_0 : f32) outs(%e20 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g22 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g19 : tensor<2x4x16x16xf32>) outs(%f21 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x16x1xf32>
  %e23 = tensor.empty() : tensor<2x4x16x16xf32>
  %g24 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g19, %g22 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e23 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<2x4x16x16xf32>
  %c25 = tensor.collapse_shape %g24 [[0, 1], [2], [3]] : tensor<2x4x16x16xf32> into tensor<8x16x16xf32>
  %c26 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %e27 = tensor.empty() : tensor<8x16x8xf32>
  %f28 = linalg.fill ins(%cst_0 : f32) outs(%e27 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %bmm29 = linalg.batch_matmul ins(%c25, %c26 : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%f28 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %x30 = tensor.expand_shape %bmm29 [[0, 1], [2], [3]] output_shape [2, 4, 16, 8] : tensor<8x16x8xf32> into tensor<2x4x16x8xf32>
  return %x30 : tensor<2x4x16x8xf32>
}

// -----

// 3-D [B*H, L, D] attention: linalg.transpose, linalg.batch_matmul, a scale
// dividing by a splat constant tensor, linalg.softmax. H = 1 around the op.
// CHECK-LABEL: func @bmm_3d_softmax
// CHECK-SAME: (%[[Q:.*]]: tensor<8x16x8xf32>, %[[K:.*]]: tensor<8x16x8xf32>, %[[V:.*]]: tensor<8x16x8xf32>)
// CHECK-DAG: %[[Q4:.*]] = tensor.expand_shape %[[Q]] {{\[}}[0], [1, 2], [3]] output_shape [8, 1, 16, 8]
// CHECK-DAG: %[[K4:.*]] = tensor.expand_shape %[[K]] {{\[}}[0], [1, 2], [3]] output_shape [8, 1, 16, 8]
// CHECK-DAG: %[[V4:.*]] = tensor.expand_shape %[[V]] {{\[}}[0], [1, 2], [3]] output_shape [8, 1, 16, 8]
// CHECK: %[[O:.*]], %{{.*}} = attnqat.attention %[[Q4]], %[[K4]], %[[V4]] {config = #attnqat.config<mode = none>, scale = 2.500000e-01 : f32} : tensor<8x1x16x8xf32>
// CHECK: %[[C:.*]] = tensor.collapse_shape %[[O]] {{\[}}[0], [1, 2], [3]] : tensor<8x1x16x8xf32> into tensor<8x16x8xf32>
// CHECK-NOT: linalg.
// CHECK: return %[[C]]
func.func @bmm_3d_softmax(%q: tensor<8x16x8xf32>, %k: tensor<8x16x8xf32>, %v: tensor<8x16x8xf32>) -> tensor<8x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %e1 = tensor.empty() : tensor<8x8x16xf32>
  %tr2 = linalg.transpose ins(%k : tensor<8x16x8xf32>) outs(%e1 : tensor<8x8x16xf32>) permutation = [0, 2, 1]
  %e3 = tensor.empty() : tensor<8x16x16xf32>
  %f4 = linalg.fill ins(%cst_0 : f32) outs(%e3 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %bmm5 = linalg.batch_matmul ins(%q, %tr2 : tensor<8x16x8xf32>, tensor<8x8x16xf32>) outs(%f4 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %cst6 = arith.constant dense<4.000000e+00> : tensor<8x16x16xf32>
  %e7 = tensor.empty() : tensor<8x16x16xf32>
  %g8 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%bmm5, %cst6 : tensor<8x16x16xf32>, tensor<8x16x16xf32>) outs(%e7 : tensor<8x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %d = arith.divf %in, %in1 : f32
    linalg.yield %d : f32
  } -> tensor<8x16x16xf32>
  %e9 = tensor.empty() : tensor<8x16x16xf32>
  %sm10 = linalg.softmax dimension(2) ins(%g8 : tensor<8x16x16xf32>) outs(%e9 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %e11 = tensor.empty() : tensor<8x16x8xf32>
  %f12 = linalg.fill ins(%cst_0 : f32) outs(%e11 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %bmm13 = linalg.batch_matmul ins(%sm10, %v : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%f12 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  return %bmm13 : tensor<8x16x8xf32>
}

// -----

// Single head with linalg.matmul, Q scaled before the matmul, and the
// softmax as linalg.softmax's own decomposition (maxnumf, exp(x - max) in
// one generic). B = H = 1.
// CHECK-LABEL: func @matmul_2d
// CHECK-SAME: (%[[Q:.*]]: tensor<16x8xf32>, %[[K:.*]]: tensor<16x8xf32>, %[[V:.*]]: tensor<16x8xf32>)
// CHECK-DAG: %[[Q4:.*]] = tensor.expand_shape %[[Q]] {{\[}}[0, 1, 2], [3]] output_shape [1, 1, 16, 8]
// CHECK-DAG: %[[K4:.*]] = tensor.expand_shape %[[K]] {{\[}}[0, 1, 2], [3]] output_shape [1, 1, 16, 8]
// CHECK-DAG: %[[V4:.*]] = tensor.expand_shape %[[V]] {{\[}}[0, 1, 2], [3]] output_shape [1, 1, 16, 8]
// CHECK: %[[O:.*]], %{{.*}} = attnqat.attention %[[Q4]], %[[K4]], %[[V4]] {config = #attnqat.config<mode = none>, scale = 5.000000e-01 : f32}
// CHECK: %[[C:.*]] = tensor.collapse_shape %[[O]] {{\[}}[0, 1, 2], [3]] : tensor<1x1x16x8xf32> into tensor<16x8xf32>
// CHECK: return %[[C]]
func.func @matmul_2d(%q: tensor<16x8xf32>, %k: tensor<16x8xf32>, %v: tensor<16x8xf32>) -> tensor<16x8xf32> {
  %cst_0 = arith.constant 5.000000e-01 : f32
  %cst_1 = arith.constant 0.000000e+00 : f32
  %cst_2 = arith.constant 0xFF800000 : f32
  %e1 = tensor.empty() : tensor<16x8xf32>
  %g2 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%q : tensor<16x8xf32>) outs(%e1 : tensor<16x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_0 : f32
    linalg.yield %sc : f32
  } -> tensor<16x8xf32>
  %e3 = tensor.empty() : tensor<8x16xf32>
  %tr4 = linalg.transpose ins(%k : tensor<16x8xf32>) outs(%e3 : tensor<8x16xf32>) permutation = [1, 0]
  %e5 = tensor.empty() : tensor<16x16xf32>
  %f6 = linalg.fill ins(%cst_1 : f32) outs(%e5 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %mm7 = linalg.matmul ins(%g2, %tr4 : tensor<16x8xf32>, tensor<8x16xf32>) outs(%f6 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %e8 = tensor.empty() : tensor<16xf32>
  %f9 = linalg.fill ins(%cst_2 : f32) outs(%e8 : tensor<16xf32>) -> tensor<16xf32>
  %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%mm7 : tensor<16x16xf32>) outs(%f9 : tensor<16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maxnumf %in, %out : f32
    linalg.yield %m : f32
  } -> tensor<16xf32>
  %e11 = tensor.empty() : tensor<16x16xf32>
  %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm7, %g10 : tensor<16x16xf32>, tensor<16xf32>) outs(%e11 : tensor<16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %s = arith.subf %in, %in1 : f32
    %e = math.exp %s : f32
    linalg.yield %e : f32
  } -> tensor<16x16xf32>
  %e13 = tensor.empty() : tensor<16xf32>
  %f14 = linalg.fill ins(%cst_1 : f32) outs(%e13 : tensor<16xf32>) -> tensor<16xf32>
  %g15 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%g12 : tensor<16x16xf32>) outs(%f14 : tensor<16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<16xf32>
  %e16 = tensor.empty() : tensor<16x16xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%g12, %g15 : tensor<16x16xf32>, tensor<16xf32>) outs(%e16 : tensor<16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %d = arith.divf %in, %in1 : f32
    linalg.yield %d : f32
  } -> tensor<16x16xf32>
  %e18 = tensor.empty() : tensor<16x8xf32>
  %f19 = linalg.fill ins(%cst_1 : f32) outs(%e18 : tensor<16x8xf32>) -> tensor<16x8xf32>
  %mm20 = linalg.matmul ins(%g17, %v : tensor<16x16xf32>, tensor<16x8xf32>) outs(%f19 : tensor<16x8xf32>) -> tensor<16x8xf32>
  return %mm20 : tensor<16x8xf32>
}

// -----

// [B, L, H, D] operands and contraction generics whose indexing maps
// put batch and head anywhere; softmax with linalg.reduce and a reciprocal.
// CHECK-LABEL: func @bshd_generic
// CHECK-SAME: (%[[Q:.*]]: tensor<2x16x4x8xf32>, %[[K:.*]]: tensor<2x16x4x8xf32>, %[[V:.*]]: tensor<2x16x4x8xf32>)
// CHECK-DAG: %[[Q4:.*]] = linalg.transpose ins(%[[Q]] : tensor<2x16x4x8xf32>) outs(%{{.*}} : tensor<2x4x16x8xf32>) permutation = [0, 2, 1, 3]
// CHECK-DAG: %[[K4:.*]] = linalg.transpose ins(%[[K]] : tensor<2x16x4x8xf32>) outs(%{{.*}} : tensor<2x4x16x8xf32>) permutation = [0, 2, 1, 3]
// CHECK-DAG: %[[V4:.*]] = linalg.transpose ins(%[[V]] : tensor<2x16x4x8xf32>) outs(%{{.*}} : tensor<2x4x16x8xf32>) permutation = [0, 2, 1, 3]
// CHECK: %[[O:.*]], %{{.*}} = attnqat.attention %[[Q4]], %[[K4]], %[[V4]] {config = #attnqat.config<mode = none>} : tensor<2x4x16x8xf32>
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[O]] : tensor<2x4x16x8xf32>) outs(%{{.*}} : tensor<2x16x4x8xf32>) permutation = [0, 2, 1, 3]
// CHECK-NOT: linalg.generic
// CHECK: return %[[T]]
func.func @bshd_generic(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %v: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant 0.353553385 : f32
  %cst_2 = arith.constant -3.40282347E+38 : f32
  %e1 = tensor.empty() : tensor<2x4x16x16xf32>
  %f2 = linalg.fill ins(%cst_0 : f32) outs(%e1 : tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %g3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d3, d1, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x16x4x8xf32>, tensor<2x16x4x8xf32>) outs(%f2 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x16xf32>
  %e4 = tensor.empty() : tensor<2x4x16x16xf32>
  %g5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g3 : tensor<2x4x16x16xf32>) outs(%e4 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_1 : f32
    linalg.yield %sc : f32
  } -> tensor<2x4x16x16xf32>
  %e6 = tensor.empty() : tensor<2x4x16xf32>
  %f7 = linalg.fill ins(%cst_2 : f32) outs(%e6 : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %r8 = linalg.reduce ins(%g5 : tensor<2x4x16x16xf32>) outs(%f7 : tensor<2x4x16xf32>) dimensions = [3]
    (%a: f32, %b: f32) {
      %m = arith.maximumf %a, %b : f32
      linalg.yield %m : f32
    }
  %e9 = tensor.empty() : tensor<2x4x16x16xf32>
  %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g5, %r8 : tensor<2x4x16x16xf32>, tensor<2x4x16xf32>) outs(%e9 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %s = arith.subf %in, %in1 : f32
    linalg.yield %s : f32
  } -> tensor<2x4x16x16xf32>
  %e11 = tensor.empty() : tensor<2x4x16x16xf32>
  %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g10 : tensor<2x4x16x16xf32>) outs(%e11 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  } -> tensor<2x4x16x16xf32>
  %e13 = tensor.empty() : tensor<2x4x16xf32>
  %f14 = linalg.fill ins(%cst_0 : f32) outs(%e13 : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  %r15 = linalg.reduce ins(%g12 : tensor<2x4x16x16xf32>) outs(%f14 : tensor<2x4x16xf32>) dimensions = [3]
    (%a: f32, %b: f32) {
      %s = arith.addf %a, %b : f32
      linalg.yield %s : f32
    }
  %e16 = tensor.empty() : tensor<2x4x16xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%r15 : tensor<2x4x16xf32>) outs(%e16 : tensor<2x4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %one = arith.constant 1.000000e+00 : f32
    %r = arith.divf %one, %in : f32
    linalg.yield %r : f32
  } -> tensor<2x4x16xf32>
  %e18 = tensor.empty() : tensor<2x4x16x16xf32>
  %g19 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g12, %g17 : tensor<2x4x16x16xf32>, tensor<2x4x16xf32>) outs(%e18 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %d = arith.mulf %in, %in1 : f32
    linalg.yield %d : f32
  } -> tensor<2x4x16x16xf32>
  %e20 = tensor.empty() : tensor<2x16x4x8xf32>
  %f21 = linalg.fill ins(%cst_0 : f32) outs(%e20 : tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32>
  %g22 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d1, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%g19, %v : tensor<2x4x16x16xf32>, tensor<2x16x4x8xf32>) outs(%f21 : tensor<2x16x4x8xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x16x4x8xf32>
  return %g22 : tensor<2x16x4x8xf32>
}

// -----

// GQA as Hugging Face's repeat_kv emits it (broadcast generic to
// [B, Hkv, G, L, D], collapse to Hq = Hkv * G): K and V keep Hkv heads.
// CHECK-LABEL: func @gqa_repeat_kv
// CHECK-SAME: (%[[Q:.*]]: tensor<1x4x16x8xf32>, %[[K:.*]]: tensor<1x2x16x8xf32>, %[[V:.*]]: tensor<1x2x16x8xf32>)
// CHECK-NOT: linalg.
// CHECK: attnqat.attention %[[Q]], %[[K]], %[[V]] {config = #attnqat.config<mode = none>} : tensor<1x4x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x4x16x8xf32>, tensor<1x4x16xf32>
func.func @gqa_repeat_kv(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant 0.353553385 : f32
  %cst_2 = arith.constant -3.40282347E+38 : f32
  %cst_3 = arith.constant 0 : i64
  %e1 = tensor.empty() : tensor<1x2x2x16x8xf32>
  %g2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<1x2x16x8xf32>) outs(%e1 : tensor<1x2x2x16x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2x2x16x8xf32>
  %c3 = tensor.collapse_shape %g2 [[0], [1, 2], [3], [4]] : tensor<1x2x2x16x8xf32> into tensor<1x4x16x8xf32>
  %e4 = tensor.empty() : tensor<1x2x2x16x8xf32>
  %g5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%v : tensor<1x2x16x8xf32>) outs(%e4 : tensor<1x2x2x16x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2x2x16x8xf32>
  %c6 = tensor.collapse_shape %g5 [[0], [1, 2], [3], [4]] : tensor<1x2x2x16x8xf32> into tensor<1x4x16x8xf32>
  %e7 = tensor.empty() : tensor<1x4x8x16xf32>
  %tr8 = linalg.transpose ins(%c3 : tensor<1x4x16x8xf32>) outs(%e7 : tensor<1x4x8x16xf32>) permutation = [0, 1, 3, 2]
  %c9 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x16x8xf32> into tensor<4x16x8xf32>
  %c10 = tensor.collapse_shape %tr8 [[0, 1], [2], [3]] : tensor<1x4x8x16xf32> into tensor<4x8x16xf32>
  %e11 = tensor.empty() : tensor<4x16x16xf32>
  %f12 = linalg.fill ins(%cst_0 : f32) outs(%e11 : tensor<4x16x16xf32>) -> tensor<4x16x16xf32>
  %bmm13 = linalg.batch_matmul ins(%c9, %c10 : tensor<4x16x8xf32>, tensor<4x8x16xf32>) outs(%f12 : tensor<4x16x16xf32>) -> tensor<4x16x16xf32>
  %x14 = tensor.expand_shape %bmm13 [[0, 1], [2], [3]] output_shape [1, 4, 16, 16] : tensor<4x16x16xf32> into tensor<1x4x16x16xf32>
  %e15 = tensor.empty() : tensor<1x4x16x16xf32>
  %g16 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x14 : tensor<1x4x16x16xf32>) outs(%e15 : tensor<1x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_1 : f32
    linalg.yield %sc : f32
  } -> tensor<1x4x16x16xf32>
  %e17 = tensor.empty() : tensor<1x4x16x1xf32>
  %f18 = linalg.fill ins(%cst_2 : f32) outs(%e17 : tensor<1x4x16x1xf32>) -> tensor<1x4x16x1xf32>
  %e19 = tensor.empty() : tensor<1x4x16x1xi64>
  %f20 = linalg.fill ins(%cst_3 : i64) outs(%e19 : tensor<1x4x16x1xi64>) -> tensor<1x4x16x1xi64>
  %g21:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g16 : tensor<1x4x16x16xf32>) outs(%f18, %f20 : tensor<1x4x16x1xf32>, tensor<1x4x16x1xi64>) {
  ^bb0(%in: f32, %out: f32, %out1: i64):
    %idx = linalg.index 3 : index
    %idx64 = arith.index_cast %idx : index to i64
    %max = arith.maximumf %in, %out : f32
    %gt = arith.cmpf ogt, %in, %out : f32
    %arg = arith.select %gt, %idx64, %out1 : i64
    linalg.yield %max, %arg : f32, i64
  } -> (tensor<1x4x16x1xf32>, tensor<1x4x16x1xi64>)
  %e22 = tensor.empty() : tensor<1x4x16x16xf32>
  %g23 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g16, %g21#0 : tensor<1x4x16x16xf32>, tensor<1x4x16x1xf32>) outs(%e22 : tensor<1x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<1x4x16x16xf32>
  %e24 = tensor.empty() : tensor<1x4x16x16xf32>
  %g25 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g23 : tensor<1x4x16x16xf32>) outs(%e24 : tensor<1x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<1x4x16x16xf32>
  %e26 = tensor.empty() : tensor<1x4x16x1xf32>
  %f27 = linalg.fill ins(%cst_0 : f32) outs(%e26 : tensor<1x4x16x1xf32>) -> tensor<1x4x16x1xf32>
  %g28 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g25 : tensor<1x4x16x16xf32>) outs(%f27 : tensor<1x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<1x4x16x1xf32>
  %e29 = tensor.empty() : tensor<1x4x16x16xf32>
  %g30 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g25, %g28 : tensor<1x4x16x16xf32>, tensor<1x4x16x1xf32>) outs(%e29 : tensor<1x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<1x4x16x16xf32>
  %c31 = tensor.collapse_shape %g30 [[0, 1], [2], [3]] : tensor<1x4x16x16xf32> into tensor<4x16x16xf32>
  %c32 = tensor.collapse_shape %c6 [[0, 1], [2], [3]] : tensor<1x4x16x8xf32> into tensor<4x16x8xf32>
  %e33 = tensor.empty() : tensor<4x16x8xf32>
  %f34 = linalg.fill ins(%cst_0 : f32) outs(%e33 : tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %bmm35 = linalg.batch_matmul ins(%c31, %c32 : tensor<4x16x16xf32>, tensor<4x16x8xf32>) outs(%f34 : tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %x36 = tensor.expand_shape %bmm35 [[0, 1], [2], [3]] output_shape [1, 4, 16, 8] : tensor<4x16x8xf32> into tensor<1x4x16x8xf32>
  return %x36 : tensor<1x4x16x8xf32>
}

// -----

// Additive mask [B, 1, M, N], broadcast over heads as torch-mlir indexes
// size-1 dims (constant 0 in the map).
// CHECK-LABEL: func @additive_mask
// CHECK-SAME: %[[MASK:[a-z0-9]+]]: tensor<2x1x16x16xf32>
// CHECK-NOT: linalg.
// CHECK: attnqat.attention %{{.*}}, %{{.*}}, %{{.*}} mask(%[[MASK]]) {config = #attnqat.config<mode = none>} : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32> mask tensor<2x1x16x16xf32>
func.func @additive_mask(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>, %mask: tensor<2x1x16x16xf32>) -> tensor<2x4x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant 0.353553385 : f32
  %cst_2 = arith.constant -3.40282347E+38 : f32
  %e1 = tensor.empty() : tensor<2x4x16x16xf32>
  %f2 = linalg.fill ins(%cst_0 : f32) outs(%e1 : tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %g3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) outs(%f2 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x16xf32>
  %e4 = tensor.empty() : tensor<2x4x16x16xf32>
  %g5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g3 : tensor<2x4x16x16xf32>) outs(%e4 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_1 : f32
    linalg.yield %sc : f32
  } -> tensor<2x4x16x16xf32>
  %e6 = tensor.empty() : tensor<2x4x16x16xf32>
  %g7 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g5, %mask : tensor<2x4x16x16xf32>, tensor<2x1x16x16xf32>) outs(%e6 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %add = arith.addf %in, %in1 : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x16xf32>
  %e8 = tensor.empty() : tensor<2x4x16x1xf32>
  %f9 = linalg.fill ins(%cst_2 : f32) outs(%e8 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g7 : tensor<2x4x16x16xf32>) outs(%f9 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %max = arith.maximumf %in, %out : f32
    linalg.yield %max : f32
  } -> tensor<2x4x16x1xf32>
  %e11 = tensor.empty() : tensor<2x4x16x16xf32>
  %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g7, %g10 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e11 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<2x4x16x16xf32>
  %e13 = tensor.empty() : tensor<2x4x16x16xf32>
  %g14 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g12 : tensor<2x4x16x16xf32>) outs(%e13 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<2x4x16x16xf32>
  %e15 = tensor.empty() : tensor<2x4x16x1xf32>
  %f16 = linalg.fill ins(%cst_0 : f32) outs(%e15 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g14 : tensor<2x4x16x16xf32>) outs(%f16 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x16x1xf32>
  %e18 = tensor.empty() : tensor<2x4x16x16xf32>
  %g19 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g14, %g17 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e18 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<2x4x16x16xf32>
  %e20 = tensor.empty() : tensor<2x4x16x8xf32>
  %f21 = linalg.fill ins(%cst_0 : f32) outs(%e20 : tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
  %g22 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%g19, %v : tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>) outs(%f21 : tensor<2x4x16x8xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x8xf32>
  return %g22 : tensor<2x4x16x8xf32>
}

// -----

// Key-padding mask [B, 1, 1, N]: broadcast over queries, materialized as
// [B, 1, M, N].
// CHECK-LABEL: func @key_padding_mask
// CHECK-SAME: %[[MASK:[a-z0-9]+]]: tensor<2x1x1x16xf32>
// CHECK: %[[C:.*]] = tensor.collapse_shape %[[MASK]] {{\[}}[0], [1, 2, 3]] : tensor<2x1x1x16xf32> into tensor<2x16xf32>
// CHECK: %[[BC:.*]] = linalg.broadcast ins(%[[C]] : tensor<2x16xf32>) outs(%{{.*}} : tensor<2x16x16xf32>) dimensions = [1]
// CHECK: %[[M4:.*]] = tensor.expand_shape %[[BC]] {{\[}}[0], [1, 2], [3]] output_shape [2, 1, 16, 16]
// CHECK: attnqat.attention %{{.*}}, %{{.*}}, %{{.*}} mask(%[[M4]])
func.func @key_padding_mask(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>, %mask: tensor<2x1x1x16xf32>) -> tensor<2x4x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant 0.353553385 : f32
  %cst_2 = arith.constant -3.40282347E+38 : f32
  %e1 = tensor.empty() : tensor<2x4x16x16xf32>
  %f2 = linalg.fill ins(%cst_0 : f32) outs(%e1 : tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %g3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) outs(%f2 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x16xf32>
  %e4 = tensor.empty() : tensor<2x4x16x16xf32>
  %g5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g3 : tensor<2x4x16x16xf32>) outs(%e4 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_1 : f32
    linalg.yield %sc : f32
  } -> tensor<2x4x16x16xf32>
  %e6 = tensor.empty() : tensor<2x4x16x16xf32>
  %g7 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, 0, 0, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g5, %mask : tensor<2x4x16x16xf32>, tensor<2x1x1x16xf32>) outs(%e6 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %add = arith.addf %in, %in1 : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x16xf32>
  %e8 = tensor.empty() : tensor<2x4x16x1xf32>
  %f9 = linalg.fill ins(%cst_2 : f32) outs(%e8 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g7 : tensor<2x4x16x16xf32>) outs(%f9 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %max = arith.maximumf %in, %out : f32
    linalg.yield %max : f32
  } -> tensor<2x4x16x1xf32>
  %e11 = tensor.empty() : tensor<2x4x16x16xf32>
  %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g7, %g10 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e11 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<2x4x16x16xf32>
  %e13 = tensor.empty() : tensor<2x4x16x16xf32>
  %g14 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g12 : tensor<2x4x16x16xf32>) outs(%e13 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<2x4x16x16xf32>
  %e15 = tensor.empty() : tensor<2x4x16x1xf32>
  %f16 = linalg.fill ins(%cst_0 : f32) outs(%e15 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g14 : tensor<2x4x16x16xf32>) outs(%f16 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x16x1xf32>
  %e18 = tensor.empty() : tensor<2x4x16x16xf32>
  %g19 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g14, %g17 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e18 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<2x4x16x16xf32>
  %e20 = tensor.empty() : tensor<2x4x16x8xf32>
  %f21 = linalg.fill ins(%cst_0 : f32) outs(%e20 : tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
  %g22 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%g19, %v : tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>) outs(%f21 : tensor<2x4x16x8xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x8xf32>
  return %g22 : tensor<2x4x16x8xf32>
}

// -----

// Causal mask: select of -inf where linalg.index(key) > linalg.index(query).
// CHECK-LABEL: func @causal
// CHECK-NOT: linalg.
// CHECK: attnqat.attention %{{.*}}, %{{.*}}, %{{.*}} causal {config = #attnqat.config<mode = none>}
func.func @causal(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant 0.353553385 : f32
  %cst_2 = arith.constant 0xFF800000 : f32
  %cst_3 = arith.constant -3.40282347E+38 : f32
  %e1 = tensor.empty() : tensor<2x4x16x16xf32>
  %f2 = linalg.fill ins(%cst_0 : f32) outs(%e1 : tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %g3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) outs(%f2 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x16xf32>
  %e4 = tensor.empty() : tensor<2x4x16x16xf32>
  %g5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g3 : tensor<2x4x16x16xf32>) outs(%e4 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_1 : f32
    linalg.yield %sc : f32
  } -> tensor<2x4x16x16xf32>
  %e6 = tensor.empty() : tensor<2x4x16x16xf32>
  %g7 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g5 : tensor<2x4x16x16xf32>) outs(%e6 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %masked = arith.cmpi ugt, %j, %i : index
    %sel = arith.select %masked, %cst_2, %in : f32
    linalg.yield %sel : f32
  } -> tensor<2x4x16x16xf32>
  %e8 = tensor.empty() : tensor<2x4x16x1xf32>
  %f9 = linalg.fill ins(%cst_3 : f32) outs(%e8 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g7 : tensor<2x4x16x16xf32>) outs(%f9 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %max = arith.maximumf %in, %out : f32
    linalg.yield %max : f32
  } -> tensor<2x4x16x1xf32>
  %e11 = tensor.empty() : tensor<2x4x16x16xf32>
  %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g7, %g10 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e11 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<2x4x16x16xf32>
  %e13 = tensor.empty() : tensor<2x4x16x16xf32>
  %g14 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g12 : tensor<2x4x16x16xf32>) outs(%e13 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<2x4x16x16xf32>
  %e15 = tensor.empty() : tensor<2x4x16x1xf32>
  %f16 = linalg.fill ins(%cst_0 : f32) outs(%e15 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g14 : tensor<2x4x16x16xf32>) outs(%f16 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x16x1xf32>
  %e18 = tensor.empty() : tensor<2x4x16x16xf32>
  %g19 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g14, %g17 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e18 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<2x4x16x16xf32>
  %e20 = tensor.empty() : tensor<2x4x16x8xf32>
  %f21 = linalg.fill ins(%cst_0 : f32) outs(%e20 : tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
  %g22 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%g19, %v : tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>) outs(%f21 : tensor<2x4x16x8xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x8xf32>
  return %g22 : tensor<2x4x16x8xf32>
}

// -----

// The same with the comparison written query < key.
// CHECK-LABEL: func @causal_swapped
// CHECK: attnqat.attention %{{.*}}, %{{.*}}, %{{.*}} causal
func.func @causal_swapped(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant 0.353553385 : f32
  %cst_2 = arith.constant 0xFF800000 : f32
  %cst_3 = arith.constant -3.40282347E+38 : f32
  %e1 = tensor.empty() : tensor<2x4x16x16xf32>
  %f2 = linalg.fill ins(%cst_0 : f32) outs(%e1 : tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %g3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) outs(%f2 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x16xf32>
  %e4 = tensor.empty() : tensor<2x4x16x16xf32>
  %g5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g3 : tensor<2x4x16x16xf32>) outs(%e4 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_1 : f32
    linalg.yield %sc : f32
  } -> tensor<2x4x16x16xf32>
  %e6 = tensor.empty() : tensor<2x4x16x16xf32>
  %g7 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g5 : tensor<2x4x16x16xf32>) outs(%e6 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %masked = arith.cmpi slt, %i, %j : index
    %sel = arith.select %masked, %cst_2, %in : f32
    linalg.yield %sel : f32
  } -> tensor<2x4x16x16xf32>
  %e8 = tensor.empty() : tensor<2x4x16x1xf32>
  %f9 = linalg.fill ins(%cst_3 : f32) outs(%e8 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g7 : tensor<2x4x16x16xf32>) outs(%f9 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %max = arith.maximumf %in, %out : f32
    linalg.yield %max : f32
  } -> tensor<2x4x16x1xf32>
  %e11 = tensor.empty() : tensor<2x4x16x16xf32>
  %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g7, %g10 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e11 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<2x4x16x16xf32>
  %e13 = tensor.empty() : tensor<2x4x16x16xf32>
  %g14 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g12 : tensor<2x4x16x16xf32>) outs(%e13 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<2x4x16x16xf32>
  %e15 = tensor.empty() : tensor<2x4x16x1xf32>
  %f16 = linalg.fill ins(%cst_0 : f32) outs(%e15 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g14 : tensor<2x4x16x16xf32>) outs(%f16 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x16x1xf32>
  %e18 = tensor.empty() : tensor<2x4x16x16xf32>
  %g19 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g14, %g17 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e18 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<2x4x16x16xf32>
  %e20 = tensor.empty() : tensor<2x4x16x8xf32>
  %f21 = linalg.fill ins(%cst_0 : f32) outs(%e20 : tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
  %g22 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%g19, %v : tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>) outs(%f21 : tensor<2x4x16x8xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x8xf32>
  return %g22 : tensor<2x4x16x8xf32>
}

// -----

// MQA in a contraction generic: K and V [B, N, D] have no head dim.
// CHECK-LABEL: func @mqa_generic
// CHECK-SAME: (%[[Q:.*]]: tensor<2x4x16x8xf32>, %[[K:.*]]: tensor<2x16x8xf32>, %[[V:.*]]: tensor<2x16x8xf32>)
// CHECK-DAG: %[[K4:.*]] = tensor.expand_shape %[[K]] {{\[}}[0], [1, 2], [3]] output_shape [2, 1, 16, 8]
// CHECK-DAG: %[[V4:.*]] = tensor.expand_shape %[[V]] {{\[}}[0], [1, 2], [3]] output_shape [2, 1, 16, 8]
// CHECK: attnqat.attention %[[Q]], %[[K4]], %[[V4]] {config = #attnqat.config<mode = none>} : tensor<2x4x16x8xf32>, tensor<2x1x16x8xf32>, tensor<2x1x16x8xf32>
func.func @mqa_generic(%q: tensor<2x4x16x8xf32>, %k: tensor<2x16x8xf32>, %v: tensor<2x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant 0.353553385 : f32
  %cst_2 = arith.constant -3.40282347E+38 : f32
  %e1 = tensor.empty() : tensor<2x4x16x16xf32>
  %f2 = linalg.fill ins(%cst_0 : f32) outs(%e1 : tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %g3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x4x16x8xf32>, tensor<2x16x8xf32>) outs(%f2 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x16xf32>
  %e4 = tensor.empty() : tensor<2x4x16x16xf32>
  %g5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g3 : tensor<2x4x16x16xf32>) outs(%e4 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_1 : f32
    linalg.yield %sc : f32
  } -> tensor<2x4x16x16xf32>
  %e6 = tensor.empty() : tensor<2x4x16x1xf32>
  %f7 = linalg.fill ins(%cst_2 : f32) outs(%e6 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g8 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g5 : tensor<2x4x16x16xf32>) outs(%f7 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %max = arith.maximumf %in, %out : f32
    linalg.yield %max : f32
  } -> tensor<2x4x16x1xf32>
  %e9 = tensor.empty() : tensor<2x4x16x16xf32>
  %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g5, %g8 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e9 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<2x4x16x16xf32>
  %e11 = tensor.empty() : tensor<2x4x16x16xf32>
  %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g10 : tensor<2x4x16x16xf32>) outs(%e11 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<2x4x16x16xf32>
  %e13 = tensor.empty() : tensor<2x4x16x1xf32>
  %f14 = linalg.fill ins(%cst_0 : f32) outs(%e13 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g15 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g12 : tensor<2x4x16x16xf32>) outs(%f14 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x16x1xf32>
  %e16 = tensor.empty() : tensor<2x4x16x16xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g12, %g15 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e16 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<2x4x16x16xf32>
  %e18 = tensor.empty() : tensor<2x4x16x8xf32>
  %f19 = linalg.fill ins(%cst_0 : f32) outs(%e18 : tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
  %g20 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%g17, %v : tensor<2x4x16x16xf32>, tensor<2x16x8xf32>) outs(%f19 : tensor<2x4x16x8xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x8xf32>
  return %g20 : tensor<2x4x16x8xf32>
}

// -----

// PyTorch's math SDPA scales Q and Kᵀ by sqrt(scale) each: the factors
// multiply.
// CHECK-LABEL: func @split_scale
// CHECK: attnqat.attention {{.*}}scale = 2.500000e-01 : f32
func.func @split_scale(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %cst_0 = arith.constant 5.000000e-01 : f32
  %cst_1 = arith.constant 0.000000e+00 : f32
  %cst_2 = arith.constant -3.40282347E+38 : f32
  %cst_3 = arith.constant 0 : i64
  %e1 = tensor.empty() : tensor<2x4x16x8xf32>
  %g2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%q : tensor<2x4x16x8xf32>) outs(%e1 : tensor<2x4x16x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_0 : f32
    linalg.yield %sc : f32
  } -> tensor<2x4x16x8xf32>
  %e3 = tensor.empty() : tensor<2x4x8x16xf32>
  %tr4 = linalg.transpose ins(%k : tensor<2x4x16x8xf32>) outs(%e3 : tensor<2x4x8x16xf32>) permutation = [0, 1, 3, 2]
  %e5 = tensor.empty() : tensor<2x4x8x16xf32>
  %g6 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%tr4 : tensor<2x4x8x16xf32>) outs(%e5 : tensor<2x4x8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_0 : f32
    linalg.yield %sc : f32
  } -> tensor<2x4x8x16xf32>
  %c7 = tensor.collapse_shape %g2 [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %c8 = tensor.collapse_shape %g6 [[0, 1], [2], [3]] : tensor<2x4x8x16xf32> into tensor<8x8x16xf32>
  %e9 = tensor.empty() : tensor<8x16x16xf32>
  %f10 = linalg.fill ins(%cst_1 : f32) outs(%e9 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %bmm11 = linalg.batch_matmul ins(%c7, %c8 : tensor<8x16x8xf32>, tensor<8x8x16xf32>) outs(%f10 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %x12 = tensor.expand_shape %bmm11 [[0, 1], [2], [3]] output_shape [2, 4, 16, 16] : tensor<8x16x16xf32> into tensor<2x4x16x16xf32>
  %e13 = tensor.empty() : tensor<2x4x16x1xf32>
  %f14 = linalg.fill ins(%cst_2 : f32) outs(%e13 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %e15 = tensor.empty() : tensor<2x4x16x1xi64>
  %f16 = linalg.fill ins(%cst_3 : i64) outs(%e15 : tensor<2x4x16x1xi64>) -> tensor<2x4x16x1xi64>
  %g17:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x12 : tensor<2x4x16x16xf32>) outs(%f14, %f16 : tensor<2x4x16x1xf32>, tensor<2x4x16x1xi64>) {
  ^bb0(%in: f32, %out: f32, %out1: i64):
    %idx = linalg.index 3 : index
    %idx64 = arith.index_cast %idx : index to i64
    %max = arith.maximumf %in, %out : f32
    %gt = arith.cmpf ogt, %in, %out : f32
    %arg = arith.select %gt, %idx64, %out1 : i64
    linalg.yield %max, %arg : f32, i64
  } -> (tensor<2x4x16x1xf32>, tensor<2x4x16x1xi64>)
  %e18 = tensor.empty() : tensor<2x4x16x16xf32>
  %g19 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x12, %g17#0 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e18 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<2x4x16x16xf32>
  %e20 = tensor.empty() : tensor<2x4x16x16xf32>
  %g21 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g19 : tensor<2x4x16x16xf32>) outs(%e20 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<2x4x16x16xf32>
  %e22 = tensor.empty() : tensor<2x4x16x1xf32>
  %f23 = linalg.fill ins(%cst_1 : f32) outs(%e22 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g24 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g21 : tensor<2x4x16x16xf32>) outs(%f23 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x16x1xf32>
  %e25 = tensor.empty() : tensor<2x4x16x16xf32>
  %g26 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g21, %g24 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e25 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<2x4x16x16xf32>
  %c27 = tensor.collapse_shape %g26 [[0, 1], [2], [3]] : tensor<2x4x16x16xf32> into tensor<8x16x16xf32>
  %c28 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %e29 = tensor.empty() : tensor<8x16x8xf32>
  %f30 = linalg.fill ins(%cst_1 : f32) outs(%e29 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %bmm31 = linalg.batch_matmul ins(%c27, %c28 : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%f30 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %x32 = tensor.expand_shape %bmm31 [[0, 1], [2], [3]] output_shape [2, 4, 16, 8] : tensor<8x16x8xf32> into tensor<2x4x16x8xf32>
  return %x32 : tensor<2x4x16x8xf32>
}

// -----

// Decoding: one query row (M = 1).
// CHECK-LABEL: func @decode_single_query
// CHECK: attnqat.attention %arg0, %arg1, %arg2 {config = #attnqat.config<mode = none>} : tensor<2x4x1x8xf32>, tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32> -> tensor<2x4x1x8xf32>, tensor<2x4x1xf32>
func.func @decode_single_query(%q: tensor<2x4x1x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>) -> tensor<2x4x1x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant 0.353553385 : f32
  %cst_2 = arith.constant -3.40282347E+38 : f32
  %cst_3 = arith.constant 0 : i64
  %e1 = tensor.empty() : tensor<2x4x8x16xf32>
  %g2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<2x4x16x8xf32>) outs(%e1 : tensor<2x4x8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x4x8x16xf32>
  %c3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<2x4x1x8xf32> into tensor<8x1x8xf32>
  %c4 = tensor.collapse_shape %g2 [[0, 1], [2], [3]] : tensor<2x4x8x16xf32> into tensor<8x8x16xf32>
  %e5 = tensor.empty() : tensor<8x1x16xf32>
  %f6 = linalg.fill ins(%cst_0 : f32) outs(%e5 : tensor<8x1x16xf32>) -> tensor<8x1x16xf32>
  %bmm7 = linalg.batch_matmul ins(%c3, %c4 : tensor<8x1x8xf32>, tensor<8x8x16xf32>) outs(%f6 : tensor<8x1x16xf32>) -> tensor<8x1x16xf32>
  %x8 = tensor.expand_shape %bmm7 [[0, 1], [2], [3]] output_shape [2, 4, 1, 16] : tensor<8x1x16xf32> into tensor<2x4x1x16xf32>
  %e9 = tensor.empty() : tensor<2x4x1x16xf32>
  %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x8 : tensor<2x4x1x16xf32>) outs(%e9 : tensor<2x4x1x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_1 : f32
    linalg.yield %sc : f32
  } -> tensor<2x4x1x16xf32>
  %e11 = tensor.empty() : tensor<2x4x1x1xf32>
  %f12 = linalg.fill ins(%cst_2 : f32) outs(%e11 : tensor<2x4x1x1xf32>) -> tensor<2x4x1x1xf32>
  %e13 = tensor.empty() : tensor<2x4x1x1xi64>
  %f14 = linalg.fill ins(%cst_3 : i64) outs(%e13 : tensor<2x4x1x1xi64>) -> tensor<2x4x1x1xi64>
  %g15:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g10 : tensor<2x4x1x16xf32>) outs(%f12, %f14 : tensor<2x4x1x1xf32>, tensor<2x4x1x1xi64>) {
  ^bb0(%in: f32, %out: f32, %out1: i64):
    %idx = linalg.index 3 : index
    %idx64 = arith.index_cast %idx : index to i64
    %max = arith.maximumf %in, %out : f32
    %gt = arith.cmpf ogt, %in, %out : f32
    %arg = arith.select %gt, %idx64, %out1 : i64
    linalg.yield %max, %arg : f32, i64
  } -> (tensor<2x4x1x1xf32>, tensor<2x4x1x1xi64>)
  %e16 = tensor.empty() : tensor<2x4x1x16xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g10, %g15#0 : tensor<2x4x1x16xf32>, tensor<2x4x1x1xf32>) outs(%e16 : tensor<2x4x1x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<2x4x1x16xf32>
  %e18 = tensor.empty() : tensor<2x4x1x16xf32>
  %g19 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g17 : tensor<2x4x1x16xf32>) outs(%e18 : tensor<2x4x1x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<2x4x1x16xf32>
  %e20 = tensor.empty() : tensor<2x4x1x1xf32>
  %f21 = linalg.fill ins(%cst_0 : f32) outs(%e20 : tensor<2x4x1x1xf32>) -> tensor<2x4x1x1xf32>
  %g22 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g19 : tensor<2x4x1x16xf32>) outs(%f21 : tensor<2x4x1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x1x1xf32>
  %e23 = tensor.empty() : tensor<2x4x1x16xf32>
  %g24 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g19, %g22 : tensor<2x4x1x16xf32>, tensor<2x4x1x1xf32>) outs(%e23 : tensor<2x4x1x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<2x4x1x16xf32>
  %c25 = tensor.collapse_shape %g24 [[0, 1], [2], [3]] : tensor<2x4x1x16xf32> into tensor<8x1x16xf32>
  %c26 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %e27 = tensor.empty() : tensor<8x1x8xf32>
  %f28 = linalg.fill ins(%cst_0 : f32) outs(%e27 : tensor<8x1x8xf32>) -> tensor<8x1x8xf32>
  %bmm29 = linalg.batch_matmul ins(%c25, %c26 : tensor<8x1x16xf32>, tensor<8x16x8xf32>) outs(%f28 : tensor<8x1x8xf32>) -> tensor<8x1x8xf32>
  %x30 = tensor.expand_shape %bmm29 [[0, 1], [2], [3]] output_shape [2, 4, 1, 8] : tensor<8x1x8xf32> into tensor<2x4x1x8xf32>
  return %x30 : tensor<2x4x1x8xf32>
}

// -----

// GQA written as a 5-D contraction: Q [B, Hkv, G, M, D] against K [B, Hkv,
// N, D]. Hq = Hkv * G with query head h = kv * G + g reading KV head h / G.
// CHECK-LABEL: func @grouped_5d
// CHECK-SAME: (%[[Q:.*]]: tensor<2x2x2x8x8xf32>, %[[K:.*]]: tensor<2x2x16x8xf32>, %[[V:.*]]: tensor<2x2x16x8xf32>)
// CHECK: %[[Q4:.*]] = tensor.collapse_shape %[[Q]] {{\[}}[0], [1, 2], [3], [4]] : tensor<2x2x2x8x8xf32> into tensor<2x4x8x8xf32>
// CHECK: %[[O:.*]], %{{.*}} = attnqat.attention %[[Q4]], %[[K]], %[[V]] causal {config = #attnqat.config<mode = none>, scale = 1.000000e+00 : f32} : tensor<2x4x8x8xf32>, tensor<2x2x16x8xf32>, tensor<2x2x16x8xf32>
// CHECK: %[[R:.*]] = tensor.expand_shape %[[O]] {{\[}}[0], [1, 2], [3], [4]] output_shape [2, 2, 2, 8, 8]
// CHECK: return %[[R]]
func.func @grouped_5d(%q: tensor<2x2x2x8x8xf32>, %k: tensor<2x2x16x8xf32>, %v: tensor<2x2x16x8xf32>) -> tensor<2x2x2x8x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant 0xFF800000 : f32
  %e1 = tensor.empty() : tensor<2x2x2x8x16xf32>
  %f2 = linalg.fill ins(%cst_0 : f32) outs(%e1 : tensor<2x2x2x8x16xf32>) -> tensor<2x2x2x8x16xf32>
  %g3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4, d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x2x2x8x8xf32>, tensor<2x2x16x8xf32>) outs(%f2 : tensor<2x2x2x8x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x2x2x8x16xf32>
  %e4 = tensor.empty() : tensor<2x2x2x8x16xf32>
  %g5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%g3 : tensor<2x2x2x8x16xf32>) outs(%e4 : tensor<2x2x2x8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 3 : index
    %j = linalg.index 4 : index
    %masked = arith.cmpi sgt, %j, %i : index
    %sel = arith.select %masked, %cst_1, %in : f32
    linalg.yield %sel : f32
  } -> tensor<2x2x2x8x16xf32>
  %e6 = tensor.empty() : tensor<2x2x2x8xf32>
  %f7 = linalg.fill ins(%cst_1 : f32) outs(%e6 : tensor<2x2x2x8xf32>) -> tensor<2x2x2x8xf32>
  %g8 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%g5 : tensor<2x2x2x8x16xf32>) outs(%f7 : tensor<2x2x2x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maxnumf %in, %out : f32
    linalg.yield %m : f32
  } -> tensor<2x2x2x8xf32>
  %e9 = tensor.empty() : tensor<2x2x2x8x16xf32>
  %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%g5, %g8 : tensor<2x2x2x8x16xf32>, tensor<2x2x2x8xf32>) outs(%e9 : tensor<2x2x2x8x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %s = arith.subf %in, %in1 : f32
    %e = math.exp %s : f32
    linalg.yield %e : f32
  } -> tensor<2x2x2x8x16xf32>
  %e11 = tensor.empty() : tensor<2x2x2x8xf32>
  %f12 = linalg.fill ins(%cst_0 : f32) outs(%e11 : tensor<2x2x2x8xf32>) -> tensor<2x2x2x8xf32>
  %g13 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%g10 : tensor<2x2x2x8x16xf32>) outs(%f12 : tensor<2x2x2x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<2x2x2x8xf32>
  %e14 = tensor.empty() : tensor<2x2x2x8x16xf32>
  %g15 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%g10, %g13 : tensor<2x2x2x8x16xf32>, tensor<2x2x2x8xf32>) outs(%e14 : tensor<2x2x2x8x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %d = arith.divf %in, %in1 : f32
    linalg.yield %d : f32
  } -> tensor<2x2x2x8x16xf32>
  %e16 = tensor.empty() : tensor<2x2x2x8x8xf32>
  %f17 = linalg.fill ins(%cst_0 : f32) outs(%e16 : tensor<2x2x2x8x8xf32>) -> tensor<2x2x2x8x8xf32>
  %g18 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d5, d4)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%g15, %v : tensor<2x2x2x8x16xf32>, tensor<2x2x16x8xf32>) outs(%f17 : tensor<2x2x2x8x8xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x2x2x8x8xf32>
  return %g18 : tensor<2x2x2x8x8xf32>
}

// -----

// Negative: linalg.softmax over the query dim, not the key dim.
// CHECK-LABEL: func @neg_softmax_over_queries
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @neg_softmax_over_queries(%q: tensor<8x16x8xf32>, %k: tensor<8x16x8xf32>, %v: tensor<8x16x8xf32>) -> tensor<8x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %e1 = tensor.empty() : tensor<8x8x16xf32>
  %tr2 = linalg.transpose ins(%k : tensor<8x16x8xf32>) outs(%e1 : tensor<8x8x16xf32>) permutation = [0, 2, 1]
  %e3 = tensor.empty() : tensor<8x16x16xf32>
  %f4 = linalg.fill ins(%cst_0 : f32) outs(%e3 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %bmm5 = linalg.batch_matmul ins(%q, %tr2 : tensor<8x16x8xf32>, tensor<8x8x16xf32>) outs(%f4 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %e6 = tensor.empty() : tensor<8x16x16xf32>
  %sm7 = linalg.softmax dimension(1) ins(%bmm5 : tensor<8x16x16xf32>) outs(%e6 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %e8 = tensor.empty() : tensor<8x16x8xf32>
  %f9 = linalg.fill ins(%cst_0 : f32) outs(%e8 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %bmm10 = linalg.batch_matmul ins(%sm7, %v : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%f9 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  return %bmm10 : tensor<8x16x8xf32>
}

// -----

// Negative: the max is reduced over the query axis (the shift then varies along keys).
// CHECK-LABEL: func @neg_max_wrong_axis
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @neg_max_wrong_axis(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant -3.40282347E+38 : f32
  %cst_2 = arith.constant 0 : i64
  %e1 = tensor.empty() : tensor<2x4x8x16xf32>
  %g2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<2x4x16x8xf32>) outs(%e1 : tensor<2x4x8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x4x8x16xf32>
  %c3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %c4 = tensor.collapse_shape %g2 [[0, 1], [2], [3]] : tensor<2x4x8x16xf32> into tensor<8x8x16xf32>
  %e5 = tensor.empty() : tensor<8x16x16xf32>
  %f6 = linalg.fill ins(%cst_0 : f32) outs(%e5 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %bmm7 = linalg.batch_matmul ins(%c3, %c4 : tensor<8x16x8xf32>, tensor<8x8x16xf32>) outs(%f6 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %x8 = tensor.expand_shape %bmm7 [[0, 1], [2], [3]] output_shape [2, 4, 16, 16] : tensor<8x16x16xf32> into tensor<2x4x16x16xf32>
  %e9 = tensor.empty() : tensor<2x4x1x16xf32>
  %f10 = linalg.fill ins(%cst_1 : f32) outs(%e9 : tensor<2x4x1x16xf32>) -> tensor<2x4x1x16xf32>
  %e11 = tensor.empty() : tensor<2x4x1x16xi64>
  %f12 = linalg.fill ins(%cst_2 : i64) outs(%e11 : tensor<2x4x1x16xi64>) -> tensor<2x4x1x16xi64>
  %g13:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%x8 : tensor<2x4x16x16xf32>) outs(%f10, %f12 : tensor<2x4x1x16xf32>, tensor<2x4x1x16xi64>) {
  ^bb0(%in: f32, %out: f32, %out1: i64):
    %idx = linalg.index 2 : index
    %idx64 = arith.index_cast %idx : index to i64
    %max = arith.maximumf %in, %out : f32
    %gt = arith.cmpf ogt, %in, %out : f32
    %arg = arith.select %gt, %idx64, %out1 : i64
    linalg.yield %max, %arg : f32, i64
  } -> (tensor<2x4x1x16xf32>, tensor<2x4x1x16xi64>)
  %e14 = tensor.empty() : tensor<2x4x16x16xf32>
  %g15 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x8, %g13#0 : tensor<2x4x16x16xf32>, tensor<2x4x1x16xf32>) outs(%e14 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<2x4x16x16xf32>
  %e16 = tensor.empty() : tensor<2x4x16x16xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g15 : tensor<2x4x16x16xf32>) outs(%e16 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<2x4x16x16xf32>
  %e18 = tensor.empty() : tensor<2x4x16x1xf32>
  %f19 = linalg.fill ins(%cst_0 : f32) outs(%e18 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g20 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g17 : tensor<2x4x16x16xf32>) outs(%f19 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x16x1xf32>
  %e21 = tensor.empty() : tensor<2x4x16x16xf32>
  %g22 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g17, %g20 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e21 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<2x4x16x16xf32>
  %c23 = tensor.collapse_shape %g22 [[0, 1], [2], [3]] : tensor<2x4x16x16xf32> into tensor<8x16x16xf32>
  %c24 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %e25 = tensor.empty() : tensor<8x16x8xf32>
  %f26 = linalg.fill ins(%cst_0 : f32) outs(%e25 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %bmm27 = linalg.batch_matmul ins(%c23, %c24 : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%f26 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %x28 = tensor.expand_shape %bmm27 [[0, 1], [2], [3]] output_shape [2, 4, 16, 8] : tensor<8x16x8xf32> into tensor<2x4x16x8xf32>
  return %x28 : tensor<2x4x16x8xf32>
}

// -----

// Negative: the normalizing sum is reduced over the query axis.
// CHECK-LABEL: func @neg_sum_wrong_axis
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @neg_sum_wrong_axis(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant -3.40282347E+38 : f32
  %cst_2 = arith.constant 0 : i64
  %e1 = tensor.empty() : tensor<2x4x8x16xf32>
  %g2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<2x4x16x8xf32>) outs(%e1 : tensor<2x4x8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x4x8x16xf32>
  %c3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %c4 = tensor.collapse_shape %g2 [[0, 1], [2], [3]] : tensor<2x4x8x16xf32> into tensor<8x8x16xf32>
  %e5 = tensor.empty() : tensor<8x16x16xf32>
  %f6 = linalg.fill ins(%cst_0 : f32) outs(%e5 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %bmm7 = linalg.batch_matmul ins(%c3, %c4 : tensor<8x16x8xf32>, tensor<8x8x16xf32>) outs(%f6 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %x8 = tensor.expand_shape %bmm7 [[0, 1], [2], [3]] output_shape [2, 4, 16, 16] : tensor<8x16x16xf32> into tensor<2x4x16x16xf32>
  %e9 = tensor.empty() : tensor<2x4x16x1xf32>
  %f10 = linalg.fill ins(%cst_1 : f32) outs(%e9 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %e11 = tensor.empty() : tensor<2x4x16x1xi64>
  %f12 = linalg.fill ins(%cst_2 : i64) outs(%e11 : tensor<2x4x16x1xi64>) -> tensor<2x4x16x1xi64>
  %g13:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x8 : tensor<2x4x16x16xf32>) outs(%f10, %f12 : tensor<2x4x16x1xf32>, tensor<2x4x16x1xi64>) {
  ^bb0(%in: f32, %out: f32, %out1: i64):
    %idx = linalg.index 3 : index
    %idx64 = arith.index_cast %idx : index to i64
    %max = arith.maximumf %in, %out : f32
    %gt = arith.cmpf ogt, %in, %out : f32
    %arg = arith.select %gt, %idx64, %out1 : i64
    linalg.yield %max, %arg : f32, i64
  } -> (tensor<2x4x16x1xf32>, tensor<2x4x16x1xi64>)
  %e14 = tensor.empty() : tensor<2x4x16x16xf32>
  %g15 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x8, %g13#0 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e14 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<2x4x16x16xf32>
  %e16 = tensor.empty() : tensor<2x4x16x16xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g15 : tensor<2x4x16x16xf32>) outs(%e16 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<2x4x16x16xf32>
  %e18 = tensor.empty() : tensor<2x4x1x16xf32>
  %f19 = linalg.fill ins(%cst_0 : f32) outs(%e18 : tensor<2x4x1x16xf32>) -> tensor<2x4x1x16xf32>
  %g20 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%g17 : tensor<2x4x16x16xf32>) outs(%f19 : tensor<2x4x1x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x1x16xf32>
  %e21 = tensor.empty() : tensor<2x4x16x16xf32>
  %g22 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g17, %g20 : tensor<2x4x16x16xf32>, tensor<2x4x1x16xf32>) outs(%e21 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<2x4x16x16xf32>
  %c23 = tensor.collapse_shape %g22 [[0, 1], [2], [3]] : tensor<2x4x16x16xf32> into tensor<8x16x16xf32>
  %c24 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %e25 = tensor.empty() : tensor<8x16x8xf32>
  %f26 = linalg.fill ins(%cst_0 : f32) outs(%e25 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %bmm27 = linalg.batch_matmul ins(%c23, %c24 : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%f26 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %x28 = tensor.expand_shape %bmm27 [[0, 1], [2], [3]] output_shape [2, 4, 16, 8] : tensor<8x16x8xf32> into tensor<2x4x16x8xf32>
  return %x28 : tensor<2x4x16x8xf32>
}

// -----

// Negative: a relative-position bias indexed by (head, query - key + 15):
// not a broadcast of a [1|B, 1|H, M, N] mask.
// CHECK-LABEL: func @neg_relative_bias
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @neg_relative_bias(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>, %mask: tensor<4x31xf32>) -> tensor<2x4x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant 0.353553385 : f32
  %cst_2 = arith.constant -3.40282347E+38 : f32
  %e1 = tensor.empty() : tensor<2x4x16x16xf32>
  %f2 = linalg.fill ins(%cst_0 : f32) outs(%e1 : tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %g3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) outs(%f2 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x16xf32>
  %e4 = tensor.empty() : tensor<2x4x16x16xf32>
  %g5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g3 : tensor<2x4x16x16xf32>) outs(%e4 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_1 : f32
    linalg.yield %sc : f32
  } -> tensor<2x4x16x16xf32>
  %e6 = tensor.empty() : tensor<2x4x16x16xf32>
  %g7 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, d2 - d3 + 15)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g5, %mask : tensor<2x4x16x16xf32>, tensor<4x31xf32>) outs(%e6 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %add = arith.addf %in, %in1 : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x16xf32>
  %e8 = tensor.empty() : tensor<2x4x16x1xf32>
  %f9 = linalg.fill ins(%cst_2 : f32) outs(%e8 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g7 : tensor<2x4x16x16xf32>) outs(%f9 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %max = arith.maximumf %in, %out : f32
    linalg.yield %max : f32
  } -> tensor<2x4x16x1xf32>
  %e11 = tensor.empty() : tensor<2x4x16x16xf32>
  %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g7, %g10 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e11 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<2x4x16x16xf32>
  %e13 = tensor.empty() : tensor<2x4x16x16xf32>
  %g14 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g12 : tensor<2x4x16x16xf32>) outs(%e13 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<2x4x16x16xf32>
  %e15 = tensor.empty() : tensor<2x4x16x1xf32>
  %f16 = linalg.fill ins(%cst_0 : f32) outs(%e15 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g14 : tensor<2x4x16x16xf32>) outs(%f16 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x16x1xf32>
  %e18 = tensor.empty() : tensor<2x4x16x16xf32>
  %g19 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g14, %g17 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e18 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<2x4x16x16xf32>
  %e20 = tensor.empty() : tensor<2x4x16x8xf32>
  %f21 = linalg.fill ins(%cst_0 : f32) outs(%e20 : tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
  %g22 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%g19, %v : tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>) outs(%f21 : tensor<2x4x16x8xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x8xf32>
  return %g22 : tensor<2x4x16x8xf32>
}

// -----

// Negative: the second matmul consumes exp(S), not the softmax.
// CHECK-LABEL: func @neg_pv_consumes_exp
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @neg_pv_consumes_exp(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %e1 = tensor.empty() : tensor<2x4x8x16xf32>
  %g2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<2x4x16x8xf32>) outs(%e1 : tensor<2x4x8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x4x8x16xf32>
  %c3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %c4 = tensor.collapse_shape %g2 [[0, 1], [2], [3]] : tensor<2x4x8x16xf32> into tensor<8x8x16xf32>
  %e5 = tensor.empty() : tensor<8x16x16xf32>
  %f6 = linalg.fill ins(%cst_0 : f32) outs(%e5 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %bmm7 = linalg.batch_matmul ins(%c3, %c4 : tensor<8x16x8xf32>, tensor<8x8x16xf32>) outs(%f6 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %x8 = tensor.expand_shape %bmm7 [[0, 1], [2], [3]] output_shape [2, 4, 16, 16] : tensor<8x16x16xf32> into tensor<2x4x16x16xf32>
  %e9 = tensor.empty() : tensor<2x4x16x16xf32>
  %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x8 : tensor<2x4x16x16xf32>) outs(%e9 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  } -> tensor<2x4x16x16xf32>
  %c11 = tensor.collapse_shape %g10 [[0, 1], [2], [3]] : tensor<2x4x16x16xf32> into tensor<8x16x16xf32>
  %c12 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %e13 = tensor.empty() : tensor<8x16x8xf32>
  %f14 = linalg.fill ins(%cst_0 : f32) outs(%e13 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %bmm15 = linalg.batch_matmul ins(%c11, %c12 : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%f14 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %x16 = tensor.expand_shape %bmm15 [[0, 1], [2], [3]] output_shape [2, 4, 16, 8] : tensor<8x16x8xf32> into tensor<2x4x16x8xf32>
  return %x16 : tensor<2x4x16x8xf32>
}

// -----

// Negative: a softmax exists, but the second matmul consumes the raw scores.
// CHECK-LABEL: func @neg_pv_consumes_scores
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @neg_pv_consumes_scores(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>) -> (tensor<2x4x16x8xf32>, tensor<2x4x16x16xf32>) {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant -3.40282347E+38 : f32
  %cst_2 = arith.constant 0 : i64
  %e1 = tensor.empty() : tensor<2x4x8x16xf32>
  %g2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<2x4x16x8xf32>) outs(%e1 : tensor<2x4x8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x4x8x16xf32>
  %c3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %c4 = tensor.collapse_shape %g2 [[0, 1], [2], [3]] : tensor<2x4x8x16xf32> into tensor<8x8x16xf32>
  %e5 = tensor.empty() : tensor<8x16x16xf32>
  %f6 = linalg.fill ins(%cst_0 : f32) outs(%e5 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %bmm7 = linalg.batch_matmul ins(%c3, %c4 : tensor<8x16x8xf32>, tensor<8x8x16xf32>) outs(%f6 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %x8 = tensor.expand_shape %bmm7 [[0, 1], [2], [3]] output_shape [2, 4, 16, 16] : tensor<8x16x16xf32> into tensor<2x4x16x16xf32>
  %e9 = tensor.empty() : tensor<2x4x16x1xf32>
  %f10 = linalg.fill ins(%cst_1 : f32) outs(%e9 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %e11 = tensor.empty() : tensor<2x4x16x1xi64>
  %f12 = linalg.fill ins(%cst_2 : i64) outs(%e11 : tensor<2x4x16x1xi64>) -> tensor<2x4x16x1xi64>
  %g13:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x8 : tensor<2x4x16x16xf32>) outs(%f10, %f12 : tensor<2x4x16x1xf32>, tensor<2x4x16x1xi64>) {
  ^bb0(%in: f32, %out: f32, %out1: i64):
    %idx = linalg.index 3 : index
    %idx64 = arith.index_cast %idx : index to i64
    %max = arith.maximumf %in, %out : f32
    %gt = arith.cmpf ogt, %in, %out : f32
    %arg = arith.select %gt, %idx64, %out1 : i64
    linalg.yield %max, %arg : f32, i64
  } -> (tensor<2x4x16x1xf32>, tensor<2x4x16x1xi64>)
  %e14 = tensor.empty() : tensor<2x4x16x16xf32>
  %g15 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x8, %g13#0 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e14 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<2x4x16x16xf32>
  %e16 = tensor.empty() : tensor<2x4x16x16xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g15 : tensor<2x4x16x16xf32>) outs(%e16 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<2x4x16x16xf32>
  %e18 = tensor.empty() : tensor<2x4x16x1xf32>
  %f19 = linalg.fill ins(%cst_0 : f32) outs(%e18 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g20 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g17 : tensor<2x4x16x16xf32>) outs(%f19 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x16x1xf32>
  %e21 = tensor.empty() : tensor<2x4x16x16xf32>
  %g22 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g17, %g20 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e21 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<2x4x16x16xf32>
  %c23 = tensor.collapse_shape %x8 [[0, 1], [2], [3]] : tensor<2x4x16x16xf32> into tensor<8x16x16xf32>
  %c24 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %e25 = tensor.empty() : tensor<8x16x8xf32>
  %f26 = linalg.fill ins(%cst_0 : f32) outs(%e25 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %bmm27 = linalg.batch_matmul ins(%c23, %c24 : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%f26 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %x28 = tensor.expand_shape %bmm27 [[0, 1], [2], [3]] output_shape [2, 4, 16, 8] : tensor<8x16x8xf32> into tensor<2x4x16x8xf32>
  return %x28, %g22 : tensor<2x4x16x8xf32>, tensor<2x4x16x16xf32>
}

// -----

// Negative: the scores are scaled by a constant that is not a splat (per-key factors).
// CHECK-LABEL: func @neg_scale_not_splat
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @neg_scale_not_splat(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant -3.40282347E+38 : f32
  %cst_2 = arith.constant 0 : i64
  %e1 = tensor.empty() : tensor<2x4x8x16xf32>
  %g2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<2x4x16x8xf32>) outs(%e1 : tensor<2x4x8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x4x8x16xf32>
  %c3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %c4 = tensor.collapse_shape %g2 [[0, 1], [2], [3]] : tensor<2x4x8x16xf32> into tensor<8x8x16xf32>
  %e5 = tensor.empty() : tensor<8x16x16xf32>
  %f6 = linalg.fill ins(%cst_0 : f32) outs(%e5 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %bmm7 = linalg.batch_matmul ins(%c3, %c4 : tensor<8x16x8xf32>, tensor<8x8x16xf32>) outs(%f6 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %x8 = tensor.expand_shape %bmm7 [[0, 1], [2], [3]] output_shape [2, 4, 16, 16] : tensor<8x16x16xf32> into tensor<2x4x16x16xf32>
  %cst9 = arith.constant dense<[[1.250000e-01, 1.250000e-01, 1.250000e-01, 1.250000e-01, 1.250000e-01, 1.250000e-01, 1.250000e-01, 1.250000e-01, 2.500000e-01, 2.500000e-01, 2.500000e-01, 2.500000e-01, 2.500000e-01, 2.500000e-01, 2.500000e-01, 2.500000e-01]]> : tensor<1x16xf32>
  %e10 = tensor.empty() : tensor<2x4x16x16xf32>
  %g11 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (0, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x8, %cst9 : tensor<2x4x16x16xf32>, tensor<1x16xf32>) outs(%e10 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %m = arith.mulf %in, %in1 : f32
    linalg.yield %m : f32
  } -> tensor<2x4x16x16xf32>
  %e12 = tensor.empty() : tensor<2x4x16x1xf32>
  %f13 = linalg.fill ins(%cst_1 : f32) outs(%e12 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %e14 = tensor.empty() : tensor<2x4x16x1xi64>
  %f15 = linalg.fill ins(%cst_2 : i64) outs(%e14 : tensor<2x4x16x1xi64>) -> tensor<2x4x16x1xi64>
  %g16:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g11 : tensor<2x4x16x16xf32>) outs(%f13, %f15 : tensor<2x4x16x1xf32>, tensor<2x4x16x1xi64>) {
  ^bb0(%in: f32, %out: f32, %out1: i64):
    %idx = linalg.index 3 : index
    %idx64 = arith.index_cast %idx : index to i64
    %max = arith.maximumf %in, %out : f32
    %gt = arith.cmpf ogt, %in, %out : f32
    %arg = arith.select %gt, %idx64, %out1 : i64
    linalg.yield %max, %arg : f32, i64
  } -> (tensor<2x4x16x1xf32>, tensor<2x4x16x1xi64>)
  %e17 = tensor.empty() : tensor<2x4x16x16xf32>
  %g18 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g11, %g16#0 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e17 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<2x4x16x16xf32>
  %e19 = tensor.empty() : tensor<2x4x16x16xf32>
  %g20 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g18 : tensor<2x4x16x16xf32>) outs(%e19 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<2x4x16x16xf32>
  %e21 = tensor.empty() : tensor<2x4x16x1xf32>
  %f22 = linalg.fill ins(%cst_0 : f32) outs(%e21 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g23 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g20 : tensor<2x4x16x16xf32>) outs(%f22 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x16x1xf32>
  %e24 = tensor.empty() : tensor<2x4x16x16xf32>
  %g25 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g20, %g23 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e24 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<2x4x16x16xf32>
  %c26 = tensor.collapse_shape %g25 [[0, 1], [2], [3]] : tensor<2x4x16x16xf32> into tensor<8x16x16xf32>
  %c27 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %e28 = tensor.empty() : tensor<8x16x8xf32>
  %f29 = linalg.fill ins(%cst_0 : f32) outs(%e28 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %bmm30 = linalg.batch_matmul ins(%c26, %c27 : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%f29 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %x31 = tensor.expand_shape %bmm30 [[0, 1], [2], [3]] output_shape [2, 4, 16, 8] : tensor<8x16x8xf32> into tensor<2x4x16x8xf32>
  return %x31 : tensor<2x4x16x8xf32>
}

// -----

// Negative: the scores are scaled by a runtime value.
// CHECK-LABEL: func @neg_scale_runtime
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @neg_scale_runtime(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>, %scale: f32) -> tensor<2x4x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant -3.40282347E+38 : f32
  %cst_2 = arith.constant 0 : i64
  %e1 = tensor.empty() : tensor<2x4x8x16xf32>
  %g2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<2x4x16x8xf32>) outs(%e1 : tensor<2x4x8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x4x8x16xf32>
  %c3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %c4 = tensor.collapse_shape %g2 [[0, 1], [2], [3]] : tensor<2x4x8x16xf32> into tensor<8x8x16xf32>
  %e5 = tensor.empty() : tensor<8x16x16xf32>
  %f6 = linalg.fill ins(%cst_0 : f32) outs(%e5 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %bmm7 = linalg.batch_matmul ins(%c3, %c4 : tensor<8x16x8xf32>, tensor<8x8x16xf32>) outs(%f6 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %x8 = tensor.expand_shape %bmm7 [[0, 1], [2], [3]] output_shape [2, 4, 16, 16] : tensor<8x16x16xf32> into tensor<2x4x16x16xf32>
  %e9 = tensor.empty() : tensor<2x4x16x16xf32>
  %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x8 : tensor<2x4x16x16xf32>) outs(%e9 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %scale : f32
    linalg.yield %m : f32
  } -> tensor<2x4x16x16xf32>
  %e11 = tensor.empty() : tensor<2x4x16x1xf32>
  %f12 = linalg.fill ins(%cst_1 : f32) outs(%e11 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %e13 = tensor.empty() : tensor<2x4x16x1xi64>
  %f14 = linalg.fill ins(%cst_2 : i64) outs(%e13 : tensor<2x4x16x1xi64>) -> tensor<2x4x16x1xi64>
  %g15:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g10 : tensor<2x4x16x16xf32>) outs(%f12, %f14 : tensor<2x4x16x1xf32>, tensor<2x4x16x1xi64>) {
  ^bb0(%in: f32, %out: f32, %out1: i64):
    %idx = linalg.index 3 : index
    %idx64 = arith.index_cast %idx : index to i64
    %max = arith.maximumf %in, %out : f32
    %gt = arith.cmpf ogt, %in, %out : f32
    %arg = arith.select %gt, %idx64, %out1 : i64
    linalg.yield %max, %arg : f32, i64
  } -> (tensor<2x4x16x1xf32>, tensor<2x4x16x1xi64>)
  %e16 = tensor.empty() : tensor<2x4x16x16xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g10, %g15#0 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e16 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<2x4x16x16xf32>
  %e18 = tensor.empty() : tensor<2x4x16x16xf32>
  %g19 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g17 : tensor<2x4x16x16xf32>) outs(%e18 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<2x4x16x16xf32>
  %e20 = tensor.empty() : tensor<2x4x16x1xf32>
  %f21 = linalg.fill ins(%cst_0 : f32) outs(%e20 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g22 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g19 : tensor<2x4x16x16xf32>) outs(%f21 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x16x1xf32>
  %e23 = tensor.empty() : tensor<2x4x16x16xf32>
  %g24 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g19, %g22 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e23 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<2x4x16x16xf32>
  %c25 = tensor.collapse_shape %g24 [[0, 1], [2], [3]] : tensor<2x4x16x16xf32> into tensor<8x16x16xf32>
  %c26 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %e27 = tensor.empty() : tensor<8x16x8xf32>
  %f28 = linalg.fill ins(%cst_0 : f32) outs(%e27 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %bmm29 = linalg.batch_matmul ins(%c25, %c26 : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%f28 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %x30 = tensor.expand_shape %bmm29 [[0, 1], [2], [3]] output_shape [2, 4, 16, 8] : tensor<8x16x8xf32> into tensor<2x4x16x8xf32>
  return %x30 : tensor<2x4x16x8xf32>
}

// -----

// Negative: the mask is added before the scale, so it would be scaled too.
// CHECK-LABEL: func @neg_mask_then_scale
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @neg_mask_then_scale(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>, %mask: tensor<1x1x16x16xf32>) -> tensor<2x4x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant 0.353553385 : f32
  %cst_2 = arith.constant -3.40282347E+38 : f32
  %cst_3 = arith.constant 0 : i64
  %e1 = tensor.empty() : tensor<2x4x16x16xf32>
  %f2 = linalg.fill ins(%cst_0 : f32) outs(%e1 : tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %g3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) outs(%f2 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x16xf32>
  %e4 = tensor.empty() : tensor<2x4x16x16xf32>
  %g5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g3, %mask : tensor<2x4x16x16xf32>, tensor<1x1x16x16xf32>) outs(%e4 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %add = arith.addf %in, %in1 : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x16xf32>
  %e6 = tensor.empty() : tensor<2x4x16x16xf32>
  %g7 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g5 : tensor<2x4x16x16xf32>) outs(%e6 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_1 : f32
    linalg.yield %sc : f32
  } -> tensor<2x4x16x16xf32>
  %e8 = tensor.empty() : tensor<2x4x16x1xf32>
  %f9 = linalg.fill ins(%cst_2 : f32) outs(%e8 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %e10 = tensor.empty() : tensor<2x4x16x1xi64>
  %f11 = linalg.fill ins(%cst_3 : i64) outs(%e10 : tensor<2x4x16x1xi64>) -> tensor<2x4x16x1xi64>
  %g12:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g7 : tensor<2x4x16x16xf32>) outs(%f9, %f11 : tensor<2x4x16x1xf32>, tensor<2x4x16x1xi64>) {
  ^bb0(%in: f32, %out: f32, %out1: i64):
    %idx = linalg.index 3 : index
    %idx64 = arith.index_cast %idx : index to i64
    %max = arith.maximumf %in, %out : f32
    %gt = arith.cmpf ogt, %in, %out : f32
    %arg = arith.select %gt, %idx64, %out1 : i64
    linalg.yield %max, %arg : f32, i64
  } -> (tensor<2x4x16x1xf32>, tensor<2x4x16x1xi64>)
  %e13 = tensor.empty() : tensor<2x4x16x16xf32>
  %g14 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g7, %g12#0 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e13 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<2x4x16x16xf32>
  %e15 = tensor.empty() : tensor<2x4x16x16xf32>
  %g16 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g14 : tensor<2x4x16x16xf32>) outs(%e15 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<2x4x16x16xf32>
  %e17 = tensor.empty() : tensor<2x4x16x1xf32>
  %f18 = linalg.fill ins(%cst_0 : f32) outs(%e17 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g19 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g16 : tensor<2x4x16x16xf32>) outs(%f18 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x16x1xf32>
  %e20 = tensor.empty() : tensor<2x4x16x16xf32>
  %g21 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g16, %g19 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e20 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<2x4x16x16xf32>
  %e22 = tensor.empty() : tensor<2x4x16x8xf32>
  %f23 = linalg.fill ins(%cst_0 : f32) outs(%e22 : tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
  %g24 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%g21, %v : tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>) outs(%f23 : tensor<2x4x16x8xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x8xf32>
  return %g24 : tensor<2x4x16x8xf32>
}

// -----

// Negative: K and V tiled across heads (head h reads KV head h % Hkv), not
// interleaved as attnqat's GQA (h / G).
// CHECK-LABEL: func @neg_gqa_tiled_kv
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @neg_gqa_tiled_kv(%q: tensor<1x4x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant -3.40282347E+38 : f32
  %cst_2 = arith.constant 0 : i64
  %e1 = tensor.empty() : tensor<1x2x2x16x8xf32>
  %g2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<1x2x16x8xf32>) outs(%e1 : tensor<1x2x2x16x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2x2x16x8xf32>
  %c3 = tensor.collapse_shape %g2 [[0], [1, 2], [3], [4]] : tensor<1x2x2x16x8xf32> into tensor<1x4x16x8xf32>
  %e4 = tensor.empty() : tensor<1x2x2x16x8xf32>
  %g5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%v : tensor<1x2x16x8xf32>) outs(%e4 : tensor<1x2x2x16x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2x2x16x8xf32>
  %c6 = tensor.collapse_shape %g5 [[0], [1, 2], [3], [4]] : tensor<1x2x2x16x8xf32> into tensor<1x4x16x8xf32>
  %e7 = tensor.empty() : tensor<1x4x8x16xf32>
  %tr8 = linalg.transpose ins(%c3 : tensor<1x4x16x8xf32>) outs(%e7 : tensor<1x4x8x16xf32>) permutation = [0, 1, 3, 2]
  %c9 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x16x8xf32> into tensor<4x16x8xf32>
  %c10 = tensor.collapse_shape %tr8 [[0, 1], [2], [3]] : tensor<1x4x8x16xf32> into tensor<4x8x16xf32>
  %e11 = tensor.empty() : tensor<4x16x16xf32>
  %f12 = linalg.fill ins(%cst_0 : f32) outs(%e11 : tensor<4x16x16xf32>) -> tensor<4x16x16xf32>
  %bmm13 = linalg.batch_matmul ins(%c9, %c10 : tensor<4x16x8xf32>, tensor<4x8x16xf32>) outs(%f12 : tensor<4x16x16xf32>) -> tensor<4x16x16xf32>
  %x14 = tensor.expand_shape %bmm13 [[0, 1], [2], [3]] output_shape [1, 4, 16, 16] : tensor<4x16x16xf32> into tensor<1x4x16x16xf32>
  %e15 = tensor.empty() : tensor<1x4x16x1xf32>
  %f16 = linalg.fill ins(%cst_1 : f32) outs(%e15 : tensor<1x4x16x1xf32>) -> tensor<1x4x16x1xf32>
  %e17 = tensor.empty() : tensor<1x4x16x1xi64>
  %f18 = linalg.fill ins(%cst_2 : i64) outs(%e17 : tensor<1x4x16x1xi64>) -> tensor<1x4x16x1xi64>
  %g19:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x14 : tensor<1x4x16x16xf32>) outs(%f16, %f18 : tensor<1x4x16x1xf32>, tensor<1x4x16x1xi64>) {
  ^bb0(%in: f32, %out: f32, %out1: i64):
    %idx = linalg.index 3 : index
    %idx64 = arith.index_cast %idx : index to i64
    %max = arith.maximumf %in, %out : f32
    %gt = arith.cmpf ogt, %in, %out : f32
    %arg = arith.select %gt, %idx64, %out1 : i64
    linalg.yield %max, %arg : f32, i64
  } -> (tensor<1x4x16x1xf32>, tensor<1x4x16x1xi64>)
  %e20 = tensor.empty() : tensor<1x4x16x16xf32>
  %g21 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x14, %g19#0 : tensor<1x4x16x16xf32>, tensor<1x4x16x1xf32>) outs(%e20 : tensor<1x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<1x4x16x16xf32>
  %e22 = tensor.empty() : tensor<1x4x16x16xf32>
  %g23 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g21 : tensor<1x4x16x16xf32>) outs(%e22 : tensor<1x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<1x4x16x16xf32>
  %e24 = tensor.empty() : tensor<1x4x16x1xf32>
  %f25 = linalg.fill ins(%cst_0 : f32) outs(%e24 : tensor<1x4x16x1xf32>) -> tensor<1x4x16x1xf32>
  %g26 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g23 : tensor<1x4x16x16xf32>) outs(%f25 : tensor<1x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<1x4x16x1xf32>
  %e27 = tensor.empty() : tensor<1x4x16x16xf32>
  %g28 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g23, %g26 : tensor<1x4x16x16xf32>, tensor<1x4x16x1xf32>) outs(%e27 : tensor<1x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<1x4x16x16xf32>
  %c29 = tensor.collapse_shape %g28 [[0, 1], [2], [3]] : tensor<1x4x16x16xf32> into tensor<4x16x16xf32>
  %c30 = tensor.collapse_shape %c6 [[0, 1], [2], [3]] : tensor<1x4x16x8xf32> into tensor<4x16x8xf32>
  %e31 = tensor.empty() : tensor<4x16x8xf32>
  %f32 = linalg.fill ins(%cst_0 : f32) outs(%e31 : tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %bmm33 = linalg.batch_matmul ins(%c29, %c30 : tensor<4x16x16xf32>, tensor<4x16x8xf32>) outs(%f32 : tensor<4x16x8xf32>) -> tensor<4x16x8xf32>
  %x34 = tensor.expand_shape %bmm33 [[0, 1], [2], [3]] output_shape [1, 4, 16, 8] : tensor<4x16x8xf32> into tensor<1x4x16x8xf32>
  return %x34 : tensor<1x4x16x8xf32>
}

// -----

// Negative: causal select that also masks the diagonal (key >= query).
// CHECK-LABEL: func @neg_causal_strict
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @neg_causal_strict(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant 0.353553385 : f32
  %cst_2 = arith.constant 0xFF800000 : f32
  %cst_3 = arith.constant -3.40282347E+38 : f32
  %e1 = tensor.empty() : tensor<2x4x16x16xf32>
  %f2 = linalg.fill ins(%cst_0 : f32) outs(%e1 : tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %g3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) outs(%f2 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x16xf32>
  %e4 = tensor.empty() : tensor<2x4x16x16xf32>
  %g5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g3 : tensor<2x4x16x16xf32>) outs(%e4 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_1 : f32
    linalg.yield %sc : f32
  } -> tensor<2x4x16x16xf32>
  %e6 = tensor.empty() : tensor<2x4x16x16xf32>
  %g7 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g5 : tensor<2x4x16x16xf32>) outs(%e6 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %masked = arith.cmpi uge, %j, %i : index
    %sel = arith.select %masked, %cst_2, %in : f32
    linalg.yield %sel : f32
  } -> tensor<2x4x16x16xf32>
  %e8 = tensor.empty() : tensor<2x4x16x1xf32>
  %f9 = linalg.fill ins(%cst_3 : f32) outs(%e8 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g7 : tensor<2x4x16x16xf32>) outs(%f9 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %max = arith.maximumf %in, %out : f32
    linalg.yield %max : f32
  } -> tensor<2x4x16x1xf32>
  %e11 = tensor.empty() : tensor<2x4x16x16xf32>
  %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g7, %g10 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e11 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<2x4x16x16xf32>
  %e13 = tensor.empty() : tensor<2x4x16x16xf32>
  %g14 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g12 : tensor<2x4x16x16xf32>) outs(%e13 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<2x4x16x16xf32>
  %e15 = tensor.empty() : tensor<2x4x16x1xf32>
  %f16 = linalg.fill ins(%cst_0 : f32) outs(%e15 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g14 : tensor<2x4x16x16xf32>) outs(%f16 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x16x1xf32>
  %e18 = tensor.empty() : tensor<2x4x16x16xf32>
  %g19 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g14, %g17 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e18 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<2x4x16x16xf32>
  %e20 = tensor.empty() : tensor<2x4x16x8xf32>
  %f21 = linalg.fill ins(%cst_0 : f32) outs(%e20 : tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
  %g22 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%g19, %v : tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>) outs(%f21 : tensor<2x4x16x8xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x8xf32>
  return %g22 : tensor<2x4x16x8xf32>
}

// -----

// Negative: the second contraction sums P over queries (Pᵀ·V).
// CHECK-LABEL: func @neg_pv_contracts_queries
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @neg_pv_contracts_queries(%q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>, %v: tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant -3.40282347E+38 : f32
  %cst_2 = arith.constant 0 : i64
  %e1 = tensor.empty() : tensor<2x4x16x16xf32>
  %f2 = linalg.fill ins(%cst_0 : f32) outs(%e1 : tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %g3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) outs(%f2 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x16xf32>
  %e4 = tensor.empty() : tensor<2x4x16x1xf32>
  %f5 = linalg.fill ins(%cst_1 : f32) outs(%e4 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %e6 = tensor.empty() : tensor<2x4x16x1xi64>
  %f7 = linalg.fill ins(%cst_2 : i64) outs(%e6 : tensor<2x4x16x1xi64>) -> tensor<2x4x16x1xi64>
  %g8:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g3 : tensor<2x4x16x16xf32>) outs(%f5, %f7 : tensor<2x4x16x1xf32>, tensor<2x4x16x1xi64>) {
  ^bb0(%in: f32, %out: f32, %out1: i64):
    %idx = linalg.index 3 : index
    %idx64 = arith.index_cast %idx : index to i64
    %max = arith.maximumf %in, %out : f32
    %gt = arith.cmpf ogt, %in, %out : f32
    %arg = arith.select %gt, %idx64, %out1 : i64
    linalg.yield %max, %arg : f32, i64
  } -> (tensor<2x4x16x1xf32>, tensor<2x4x16x1xi64>)
  %e9 = tensor.empty() : tensor<2x4x16x16xf32>
  %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g3, %g8#0 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e9 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<2x4x16x16xf32>
  %e11 = tensor.empty() : tensor<2x4x16x16xf32>
  %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g10 : tensor<2x4x16x16xf32>) outs(%e11 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<2x4x16x16xf32>
  %e13 = tensor.empty() : tensor<2x4x16x1xf32>
  %f14 = linalg.fill ins(%cst_0 : f32) outs(%e13 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g15 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g12 : tensor<2x4x16x16xf32>) outs(%f14 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x16x1xf32>
  %e16 = tensor.empty() : tensor<2x4x16x16xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g12, %g15 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e16 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<2x4x16x16xf32>
  %e18 = tensor.empty() : tensor<2x4x16x8xf32>
  %f19 = linalg.fill ins(%cst_0 : f32) outs(%e18 : tensor<2x4x16x8xf32>) -> tensor<2x4x16x8xf32>
  %g20 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d2)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%g17, %v : tensor<2x4x16x16xf32>, tensor<2x4x16x8xf32>) outs(%f19 : tensor<2x4x16x8xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x16x8xf32>
  return %g20 : tensor<2x4x16x8xf32>
}

// -----

// Negative: P·V accumulates into a live tensor instead of zeros.
// CHECK-LABEL: func @neg_pv_accumulates
// CHECK-NOT: attnqat.attention
// CHECK: return
func.func @neg_pv_accumulates(%q: tensor<8x16x8xf32>, %k: tensor<8x16x8xf32>, %v: tensor<8x16x8xf32>, %acc: tensor<8x16x8xf32>) -> tensor<8x16x8xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant -3.40282347E+38 : f32
  %cst_2 = arith.constant 0 : i64
  %e1 = tensor.empty() : tensor<8x8x16xf32>
  %tr2 = linalg.transpose ins(%k : tensor<8x16x8xf32>) outs(%e1 : tensor<8x8x16xf32>) permutation = [0, 2, 1]
  %e3 = tensor.empty() : tensor<8x16x16xf32>
  %f4 = linalg.fill ins(%cst_0 : f32) outs(%e3 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %bmm5 = linalg.batch_matmul ins(%q, %tr2 : tensor<8x16x8xf32>, tensor<8x8x16xf32>) outs(%f4 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %e6 = tensor.empty() : tensor<8x16x1xf32>
  %f7 = linalg.fill ins(%cst_1 : f32) outs(%e6 : tensor<8x16x1xf32>) -> tensor<8x16x1xf32>
  %e8 = tensor.empty() : tensor<8x16x1xi64>
  %f9 = linalg.fill ins(%cst_2 : i64) outs(%e8 : tensor<8x16x1xi64>) -> tensor<8x16x1xi64>
  %g10:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, 0)>, affine_map<(d0, d1, d2) -> (d0, d1, 0)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%bmm5 : tensor<8x16x16xf32>) outs(%f7, %f9 : tensor<8x16x1xf32>, tensor<8x16x1xi64>) {
  ^bb0(%in: f32, %out: f32, %out1: i64):
    %idx = linalg.index 2 : index
    %idx64 = arith.index_cast %idx : index to i64
    %max = arith.maximumf %in, %out : f32
    %gt = arith.cmpf ogt, %in, %out : f32
    %arg = arith.select %gt, %idx64, %out1 : i64
    linalg.yield %max, %arg : f32, i64
  } -> (tensor<8x16x1xf32>, tensor<8x16x1xi64>)
  %e11 = tensor.empty() : tensor<8x16x16xf32>
  %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, 0)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%bmm5, %g10#0 : tensor<8x16x16xf32>, tensor<8x16x1xf32>) outs(%e11 : tensor<8x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<8x16x16xf32>
  %e13 = tensor.empty() : tensor<8x16x16xf32>
  %g14 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%g12 : tensor<8x16x16xf32>) outs(%e13 : tensor<8x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<8x16x16xf32>
  %e15 = tensor.empty() : tensor<8x16x1xf32>
  %f16 = linalg.fill ins(%cst_0 : f32) outs(%e15 : tensor<8x16x1xf32>) -> tensor<8x16x1xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, 0)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%g14 : tensor<8x16x16xf32>) outs(%f16 : tensor<8x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<8x16x1xf32>
  %e18 = tensor.empty() : tensor<8x16x16xf32>
  %g19 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, 0)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%g14, %g17 : tensor<8x16x16xf32>, tensor<8x16x1xf32>) outs(%e18 : tensor<8x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<8x16x16xf32>
  %bmm20 = linalg.batch_matmul ins(%g19, %v : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%acc : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  return %bmm20 : tensor<8x16x8xf32>
}
