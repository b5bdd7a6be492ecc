// End to end on the CPU path: each function runs unfused (linalg as
// written) and fused (attnqat-fuse-linalg-attention, then the attnqat loop
// lowering) on the same seeded inputs, and the fused outputs must match.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: attnqat-opt %s --attnqat-fuse-linalg-attention | FileCheck %s --check-prefix=FUSED
// RUN: attnqat-opt %s --attnqat-fuse-linalg-attention --convert-attnqat-to-loops -o %t/fused.mlir
//
// RUN: attnqat-run %s --entry=sdpa_mask --seed=5 --input 0=normal --input 1=normal --input 2=normal --input 3=normal --output-dir=%t > %t/sdpa_mask.ref.txt
// RUN: attnqat-run %t/fused.mlir --entry=sdpa_mask --seed=5 --input 0=normal --input 1=normal --input 2=normal --input 3=normal \
// RUN:   --compare 0=%t/sdpa_mask.result0.npy --compare-atol=1e-5 --compare-rtol=1e-4 \
// RUN:   | FileCheck %s --check-prefix=CMP
//
// RUN: attnqat-run %s --entry=gqa_causal --seed=5 --input 0=normal --input 1=normal --input 2=normal --output-dir=%t > %t/gqa_causal.ref.txt
// RUN: attnqat-run %t/fused.mlir --entry=gqa_causal --seed=5 --input 0=normal --input 1=normal --input 2=normal \
// RUN:   --compare 0=%t/gqa_causal.result0.npy --compare-atol=1e-5 --compare-rtol=1e-4 \
// RUN:   | FileCheck %s --check-prefix=CMP
//
// RUN: attnqat-run %s --entry=bshd_padding --seed=5 --input 0=normal --input 1=normal --input 2=normal --input 3=normal --output-dir=%t > %t/bshd_padding.ref.txt
// RUN: attnqat-run %t/fused.mlir --entry=bshd_padding --seed=5 --input 0=normal --input 1=normal --input 2=normal --input 3=normal \
// RUN:   --compare 0=%t/bshd_padding.result0.npy --compare-atol=1e-5 --compare-rtol=1e-4 \
// RUN:   | FileCheck %s --check-prefix=CMP
//
// RUN: attnqat-run %s --entry=bmm_3d --seed=5 --input 0=normal --input 1=normal --input 2=normal --output-dir=%t > %t/bmm_3d.ref.txt
// RUN: attnqat-run %t/fused.mlir --entry=bmm_3d --seed=5 --input 0=normal --input 1=normal --input 2=normal \
// RUN:   --compare 0=%t/bmm_3d.result0.npy --compare-atol=1e-5 --compare-rtol=1e-4 \
// RUN:   | FileCheck %s --check-prefix=CMP
//
// RUN: attnqat-run %s --entry=grouped_5d_causal --seed=5 --input 0=normal --input 1=normal --input 2=normal --output-dir=%t > %t/grouped_5d_causal.ref.txt
// RUN: attnqat-run %t/fused.mlir --entry=grouped_5d_causal --seed=5 --input 0=normal --input 1=normal --input 2=normal \
// RUN:   --compare 0=%t/grouped_5d_causal.result0.npy --compare-atol=1e-5 --compare-rtol=1e-4 \
// RUN:   | FileCheck %s --check-prefix=CMP
//
// CMP: compare 'result0' vs {{.*}}.result0.npy: max_abs={{[0-9.]+(e-0[5-9])?}} {{.*}} nan_mismatch=0 PASS

// FUSED-LABEL: func @sdpa_mask
// FUSED-NOT: linalg.generic
// FUSED: attnqat.attention
// FUSED-NOT: linalg.generic
// FUSED: return
func.func @sdpa_mask(%q: tensor<2x4x32x16xf32>, %k: tensor<2x4x32x16xf32>, %v: tensor<2x4x32x16xf32>, %mask: tensor<2x1x32x32xf32>) -> tensor<2x4x32x16xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant 2.500000e-01 : f32
  %cst_2 = arith.constant -3.40282347E+38 : f32
  %cst_3 = arith.constant 0 : i64
  %e1 = tensor.empty() : tensor<2x4x16x32xf32>
  %g2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<2x4x32x16xf32>) outs(%e1 : tensor<2x4x16x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x4x16x32xf32>
  %c3 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<2x4x32x16xf32> into tensor<8x32x16xf32>
  %c4 = tensor.collapse_shape %g2 [[0, 1], [2], [3]] : tensor<2x4x16x32xf32> into tensor<8x16x32xf32>
  %e5 = tensor.empty() : tensor<8x32x32xf32>
  %f6 = linalg.fill ins(%cst_0 : f32) outs(%e5 : tensor<8x32x32xf32>) -> tensor<8x32x32xf32>
  %bmm7 = linalg.batch_matmul ins(%c3, %c4 : tensor<8x32x16xf32>, tensor<8x16x32xf32>) outs(%f6 : tensor<8x32x32xf32>) -> tensor<8x32x32xf32>
  %x8 = tensor.expand_shape %bmm7 [[0, 1], [2], [3]] output_shape [2, 4, 32, 32] : tensor<8x32x32xf32> into tensor<2x4x32x32xf32>
  %e9 = tensor.empty() : tensor<2x4x32x32xf32>
  %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x8 : tensor<2x4x32x32xf32>) outs(%e9 : tensor<2x4x32x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_1 : f32
    linalg.yield %sc : f32
  } -> tensor<2x4x32x32xf32>
  %e11 = tensor.empty() : tensor<2x4x32x32xf32>
  %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, 0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g10, %mask : tensor<2x4x32x32xf32>, tensor<2x1x32x32xf32>) outs(%e11 : tensor<2x4x32x32xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %add = arith.addf %in, %in1 : f32
    linalg.yield %add : f32
  } -> tensor<2x4x32x32xf32>
  %e13 = tensor.empty() : tensor<2x4x32x1xf32>
  %f14 = linalg.fill ins(%cst_2 : f32) outs(%e13 : tensor<2x4x32x1xf32>) -> tensor<2x4x32x1xf32>
  %e15 = tensor.empty() : tensor<2x4x32x1xi64>
  %f16 = linalg.fill ins(%cst_3 : i64) outs(%e15 : tensor<2x4x32x1xi64>) -> tensor<2x4x32x1xi64>
  %g17:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g12 : tensor<2x4x32x32xf32>) outs(%f14, %f16 : tensor<2x4x32x1xf32>, tensor<2x4x32x1xi64>) {
  ^bb0(%in: f32, %out: f32, %out1: i64):
    %idx = linalg.index 3 : index
    %idx64 = arith.index_cast %idx : index to i64
    %max = arith.maximumf %in, %out : f32
    %gt = arith.cmpf ogt, %in, %out : f32
    %arg = arith.select %gt, %idx64, %out1 : i64
    linalg.yield %max, %arg : f32, i64
  } -> (tensor<2x4x32x1xf32>, tensor<2x4x32x1xi64>)
  %e18 = tensor.empty() : tensor<2x4x32x32xf32>
  %g19 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g12, %g17#0 : tensor<2x4x32x32xf32>, tensor<2x4x32x1xf32>) outs(%e18 : tensor<2x4x32x32xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<2x4x32x32xf32>
  %e20 = tensor.empty() : tensor<2x4x32x32xf32>
  %g21 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g19 : tensor<2x4x32x32xf32>) outs(%e20 : tensor<2x4x32x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<2x4x32x32xf32>
  %e22 = tensor.empty() : tensor<2x4x32x1xf32>
  %f23 = linalg.fill ins(%cst_0 : f32) outs(%e22 : tensor<2x4x32x1xf32>) -> tensor<2x4x32x1xf32>
  %g24 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g21 : tensor<2x4x32x32xf32>) outs(%f23 : tensor<2x4x32x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x32x1xf32>
  %e25 = tensor.empty() : tensor<2x4x32x32xf32>
  %g26 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g21, %g24 : tensor<2x4x32x32xf32>, tensor<2x4x32x1xf32>) outs(%e25 : tensor<2x4x32x32xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<2x4x32x32xf32>
  %c27 = tensor.collapse_shape %g26 [[0, 1], [2], [3]] : tensor<2x4x32x32xf32> into tensor<8x32x32xf32>
  %c28 = tensor.collapse_shape %v [[0, 1], [2], [3]] : tensor<2x4x32x16xf32> into tensor<8x32x16xf32>
  %e29 = tensor.empty() : tensor<8x32x16xf32>
  %f30 = linalg.fill ins(%cst_0 : f32) outs(%e29 : tensor<8x32x16xf32>) -> tensor<8x32x16xf32>
  %bmm31 = linalg.batch_matmul ins(%c27, %c28 : tensor<8x32x32xf32>, tensor<8x32x16xf32>) outs(%f30 : tensor<8x32x16xf32>) -> tensor<8x32x16xf32>
  %x32 = tensor.expand_shape %bmm31 [[0, 1], [2], [3]] output_shape [2, 4, 32, 16] : tensor<8x32x16xf32> into tensor<2x4x32x16xf32>
  return %x32 : tensor<2x4x32x16xf32>
}

// FUSED-LABEL: func @gqa_causal
// FUSED-NOT: linalg.generic
// FUSED: attnqat.attention
// FUSED-NOT: linalg.generic
// FUSED: return
func.func @gqa_causal(%q: tensor<1x4x48x16xf32>, %k: tensor<1x2x48x16xf32>, %v: tensor<1x2x48x16xf32>) -> tensor<1x4x48x16xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant 2.500000e-01 : f32
  %cst_2 = arith.constant 0xFF800000 : f32
  %cst_3 = arith.constant -3.40282347E+38 : f32
  %cst_4 = arith.constant 0 : i64
  %e1 = tensor.empty() : tensor<1x2x2x48x16xf32>
  %g2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%k : tensor<1x2x48x16xf32>) outs(%e1 : tensor<1x2x2x48x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2x2x48x16xf32>
  %c3 = tensor.collapse_shape %g2 [[0], [1, 2], [3], [4]] : tensor<1x2x2x48x16xf32> into tensor<1x4x48x16xf32>
  %e4 = tensor.empty() : tensor<1x2x2x48x16xf32>
  %g5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%v : tensor<1x2x48x16xf32>) outs(%e4 : tensor<1x2x2x48x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x2x2x48x16xf32>
  %c6 = tensor.collapse_shape %g5 [[0], [1, 2], [3], [4]] : tensor<1x2x2x48x16xf32> into tensor<1x4x48x16xf32>
  %e7 = tensor.empty() : tensor<1x4x16x48xf32>
  %tr8 = linalg.transpose ins(%c3 : tensor<1x4x48x16xf32>) outs(%e7 : tensor<1x4x16x48xf32>) permutation = [0, 1, 3, 2]
  %c9 = tensor.collapse_shape %q [[0, 1], [2], [3]] : tensor<1x4x48x16xf32> into tensor<4x48x16xf32>
  %c10 = tensor.collapse_shape %tr8 [[0, 1], [2], [3]] : tensor<1x4x16x48xf32> into tensor<4x16x48xf32>
  %e11 = tensor.empty() : tensor<4x48x48xf32>
  %f12 = linalg.fill ins(%cst_0 : f32) outs(%e11 : tensor<4x48x48xf32>) -> tensor<4x48x48xf32>
  %bmm13 = linalg.batch_matmul ins(%c9, %c10 : tensor<4x48x16xf32>, tensor<4x16x48xf32>) outs(%f12 : tensor<4x48x48xf32>) -> tensor<4x48x48xf32>
  %x14 = tensor.expand_shape %bmm13 [[0, 1], [2], [3]] output_shape [1, 4, 48, 48] : tensor<4x48x48xf32> into tensor<1x4x48x48xf32>
  %e15 = tensor.empty() : tensor<1x4x48x48xf32>
  %g16 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x14 : tensor<1x4x48x48xf32>) outs(%e15 : tensor<1x4x48x48xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_1 : f32
    linalg.yield %sc : f32
  } -> tensor<1x4x48x48xf32>
  %e17 = tensor.empty() : tensor<1x4x48x48xf32>
  %g18 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g16 : tensor<1x4x48x48xf32>) outs(%e17 : tensor<1x4x48x48xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %masked = arith.cmpi ugt, %j, %i : index
    %sel = arith.select %masked, %cst_2, %in : f32
    linalg.yield %sel : f32
  } -> tensor<1x4x48x48xf32>
  %e19 = tensor.empty() : tensor<1x4x48x1xf32>
  %f20 = linalg.fill ins(%cst_3 : f32) outs(%e19 : tensor<1x4x48x1xf32>) -> tensor<1x4x48x1xf32>
  %e21 = tensor.empty() : tensor<1x4x48x1xi64>
  %f22 = linalg.fill ins(%cst_4 : i64) outs(%e21 : tensor<1x4x48x1xi64>) -> tensor<1x4x48x1xi64>
  %g23:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g18 : tensor<1x4x48x48xf32>) outs(%f20, %f22 : tensor<1x4x48x1xf32>, tensor<1x4x48x1xi64>) {
  ^bb0(%in: f32, %out: f32, %out1: i64):
    %idx = linalg.index 3 : index
    %idx64 = arith.index_cast %idx : index to i64
    %max = arith.maximumf %in, %out : f32
    %gt = arith.cmpf ogt, %in, %out : f32
    %arg = arith.select %gt, %idx64, %out1 : i64
    linalg.yield %max, %arg : f32, i64
  } -> (tensor<1x4x48x1xf32>, tensor<1x4x48x1xi64>)
  %e24 = tensor.empty() : tensor<1x4x48x48xf32>
  %g25 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g18, %g23#0 : tensor<1x4x48x48xf32>, tensor<1x4x48x1xf32>) outs(%e24 : tensor<1x4x48x48xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<1x4x48x48xf32>
  %e26 = tensor.empty() : tensor<1x4x48x48xf32>
  %g27 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g25 : tensor<1x4x48x48xf32>) outs(%e26 : tensor<1x4x48x48xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<1x4x48x48xf32>
  %e28 = tensor.empty() : tensor<1x4x48x1xf32>
  %f29 = linalg.fill ins(%cst_0 : f32) outs(%e28 : tensor<1x4x48x1xf32>) -> tensor<1x4x48x1xf32>
  %g30 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g27 : tensor<1x4x48x48xf32>) outs(%f29 : tensor<1x4x48x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<1x4x48x1xf32>
  %e31 = tensor.empty() : tensor<1x4x48x48xf32>
  %g32 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g27, %g30 : tensor<1x4x48x48xf32>, tensor<1x4x48x1xf32>) outs(%e31 : tensor<1x4x48x48xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<1x4x48x48xf32>
  %c33 = tensor.collapse_shape %g32 [[0, 1], [2], [3]] : tensor<1x4x48x48xf32> into tensor<4x48x48xf32>
  %c34 = tensor.collapse_shape %c6 [[0, 1], [2], [3]] : tensor<1x4x48x16xf32> into tensor<4x48x16xf32>
  %e35 = tensor.empty() : tensor<4x48x16xf32>
  %f36 = linalg.fill ins(%cst_0 : f32) outs(%e35 : tensor<4x48x16xf32>) -> tensor<4x48x16xf32>
  %bmm37 = linalg.batch_matmul ins(%c33, %c34 : tensor<4x48x48xf32>, tensor<4x48x16xf32>) outs(%f36 : tensor<4x48x16xf32>) -> tensor<4x48x16xf32>
  %x38 = tensor.expand_shape %bmm37 [[0, 1], [2], [3]] output_shape [1, 4, 48, 16] : tensor<4x48x16xf32> into tensor<1x4x48x16xf32>
  return %x38 : tensor<1x4x48x16xf32>
}

// FUSED-LABEL: func @bshd_padding
// FUSED-NOT: linalg.generic
// FUSED: attnqat.attention
// FUSED-NOT: linalg.generic
// FUSED: return
func.func @bshd_padding(%q: tensor<2x32x4x16xf32>, %k: tensor<2x32x4x16xf32>, %v: tensor<2x32x4x16xf32>, %mask: tensor<2x1x1x32xf32>) -> tensor<2x32x4x16xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant 4.000000e+00 : f32
  %cst_2 = arith.constant -3.40282347E+38 : f32
  %e1 = tensor.empty() : tensor<2x4x32x32xf32>
  %f2 = linalg.fill ins(%cst_0 : f32) outs(%e1 : tensor<2x4x32x32xf32>) -> tensor<2x4x32x32xf32>
  %g3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d3, d1, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x32x4x16xf32>, tensor<2x32x4x16xf32>) outs(%f2 : tensor<2x4x32x32xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x4x32x32xf32>
  %e4 = tensor.empty() : tensor<2x4x32x32xf32>
  %g5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g3 : tensor<2x4x32x32xf32>) outs(%e4 : tensor<2x4x32x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.divf %in, %cst_1 : f32
    linalg.yield %sc : f32
  } -> tensor<2x4x32x32xf32>
  %e6 = tensor.empty() : tensor<2x4x32x32xf32>
  %g7 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, 0, 0, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g5, %mask : tensor<2x4x32x32xf32>, tensor<2x1x1x32xf32>) outs(%e6 : tensor<2x4x32x32xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %add = arith.addf %in, %in1 : f32
    linalg.yield %add : f32
  } -> tensor<2x4x32x32xf32>
  %e8 = tensor.empty() : tensor<2x4x32xf32>
  %f9 = linalg.fill ins(%cst_2 : f32) outs(%e8 : tensor<2x4x32xf32>) -> tensor<2x4x32xf32>
  %r10 = linalg.reduce ins(%g7 : tensor<2x4x32x32xf32>) outs(%f9 : tensor<2x4x32xf32>) dimensions = [3]
    (%a: f32, %b: f32) {
      %m = arith.maximumf %a, %b : f32
      linalg.yield %m : f32
    }
  %e11 = tensor.empty() : tensor<2x4x32x32xf32>
  %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g7, %r10 : tensor<2x4x32x32xf32>, tensor<2x4x32xf32>) outs(%e11 : tensor<2x4x32x32xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %s = arith.subf %in, %in1 : f32
    linalg.yield %s : f32
  } -> tensor<2x4x32x32xf32>
  %e13 = tensor.empty() : tensor<2x4x32x32xf32>
  %g14 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g12 : tensor<2x4x32x32xf32>) outs(%e13 : tensor<2x4x32x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  } -> tensor<2x4x32x32xf32>
  %e15 = tensor.empty() : tensor<2x4x32xf32>
  %f16 = linalg.fill ins(%cst_0 : f32) outs(%e15 : tensor<2x4x32xf32>) -> tensor<2x4x32xf32>
  %r17 = linalg.reduce ins(%g14 : tensor<2x4x32x32xf32>) outs(%f16 : tensor<2x4x32xf32>) dimensions = [3]
    (%a: f32, %b: f32) {
      %s = arith.addf %a, %b : f32
      linalg.yield %s : f32
    }
  %e18 = tensor.empty() : tensor<2x4x32xf32>
  %g19 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%r17 : tensor<2x4x32xf32>) outs(%e18 : tensor<2x4x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %one = arith.constant 1.000000e+00 : f32
    %r = arith.divf %one, %in : f32
    linalg.yield %r : f32
  } -> tensor<2x4x32xf32>
  %e20 = tensor.empty() : tensor<2x4x32x32xf32>
  %g21 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g14, %g19 : tensor<2x4x32x32xf32>, tensor<2x4x32xf32>) outs(%e20 : tensor<2x4x32x32xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %d = arith.mulf %in, %in1 : f32
    linalg.yield %d : f32
  } -> tensor<2x4x32x32xf32>
  %e22 = tensor.empty() : tensor<2x32x4x16xf32>
  %f23 = linalg.fill ins(%cst_0 : f32) outs(%e22 : tensor<2x32x4x16xf32>) -> tensor<2x32x4x16xf32>
  %g24 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d1, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%g21, %v : tensor<2x4x32x32xf32>, tensor<2x32x4x16xf32>) outs(%f23 : tensor<2x32x4x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x32x4x16xf32>
  return %g24 : tensor<2x32x4x16xf32>
}

// FUSED-LABEL: func @bmm_3d
// FUSED-NOT: linalg.generic
// FUSED: attnqat.attention
// FUSED-NOT: linalg.generic
// FUSED: return
func.func @bmm_3d(%q: tensor<8x32x16xf32>, %k: tensor<8x32x16xf32>, %v: tensor<8x32x16xf32>) -> tensor<8x32x16xf32> {
  %cst_0 = arith.constant 5.000000e-01 : f32
  %cst_1 = arith.constant 0.000000e+00 : f32
  %cst_2 = arith.constant 0xFF800000 : f32
  %e1 = tensor.empty() : tensor<8x32x16xf32>
  %g2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%q : tensor<8x32x16xf32>) outs(%e1 : tensor<8x32x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_0 : f32
    linalg.yield %sc : f32
  } -> tensor<8x32x16xf32>
  %e3 = tensor.empty() : tensor<8x16x32xf32>
  %tr4 = linalg.transpose ins(%k : tensor<8x32x16xf32>) outs(%e3 : tensor<8x16x32xf32>) permutation = [0, 2, 1]
  %e5 = tensor.empty() : tensor<8x32x32xf32>
  %f6 = linalg.fill ins(%cst_1 : f32) outs(%e5 : tensor<8x32x32xf32>) -> tensor<8x32x32xf32>
  %bmm7 = linalg.batch_matmul ins(%g2, %tr4 : tensor<8x32x16xf32>, tensor<8x16x32xf32>) outs(%f6 : tensor<8x32x32xf32>) -> tensor<8x32x32xf32>
  %e8 = tensor.empty() : tensor<8x32xf32>
  %f9 = linalg.fill ins(%cst_2 : f32) outs(%e8 : tensor<8x32xf32>) -> tensor<8x32xf32>
  %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%bmm7 : tensor<8x32x32xf32>) outs(%f9 : tensor<8x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maxnumf %in, %out : f32
    linalg.yield %m : f32
  } -> tensor<8x32xf32>
  %e11 = tensor.empty() : tensor<8x32x32xf32>
  %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%bmm7, %g10 : tensor<8x32x32xf32>, tensor<8x32xf32>) outs(%e11 : tensor<8x32x32xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %s = arith.subf %in, %in1 : f32
    %e = math.exp %s : f32
    linalg.yield %e : f32
  } -> tensor<8x32x32xf32>
  %e13 = tensor.empty() : tensor<8x32xf32>
  %f14 = linalg.fill ins(%cst_1 : f32) outs(%e13 : tensor<8x32xf32>) -> tensor<8x32xf32>
  %g15 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%g12 : tensor<8x32x32xf32>) outs(%f14 : tensor<8x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<8x32xf32>
  %e16 = tensor.empty() : tensor<8x32x32xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%g12, %g15 : tensor<8x32x32xf32>, tensor<8x32xf32>) outs(%e16 : tensor<8x32x32xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %d = arith.divf %in, %in1 : f32
    linalg.yield %d : f32
  } -> tensor<8x32x32xf32>
  %e18 = tensor.empty() : tensor<8x32x16xf32>
  %f19 = linalg.fill ins(%cst_1 : f32) outs(%e18 : tensor<8x32x16xf32>) -> tensor<8x32x16xf32>
  %bmm20 = linalg.batch_matmul ins(%g17, %v : tensor<8x32x32xf32>, tensor<8x32x16xf32>) outs(%f19 : tensor<8x32x16xf32>) -> tensor<8x32x16xf32>
  return %bmm20 : tensor<8x32x16xf32>
}

// FUSED-LABEL: func @grouped_5d_causal
// FUSED-NOT: linalg.generic
// FUSED: attnqat.attention
// FUSED-NOT: linalg.generic
// FUSED: return
func.func @grouped_5d_causal(%q: tensor<2x2x3x24x16xf32>, %k: tensor<2x2x24x16xf32>, %v: tensor<2x2x24x16xf32>) -> tensor<2x2x3x24x16xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant 2.500000e-01 : f32
  %cst_2 = arith.constant 0xFF800000 : f32
  %e1 = tensor.empty() : tensor<2x2x3x24x24xf32>
  %f2 = linalg.fill ins(%cst_0 : f32) outs(%e1 : tensor<2x2x3x24x24xf32>) -> tensor<2x2x3x24x24xf32>
  %g3 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4, d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : tensor<2x2x3x24x16xf32>, tensor<2x2x24x16xf32>) outs(%f2 : tensor<2x2x3x24x24xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x2x3x24x24xf32>
  %e4 = tensor.empty() : tensor<2x2x3x24x24xf32>
  %g5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%g3 : tensor<2x2x3x24x24xf32>) outs(%e4 : tensor<2x2x3x24x24xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_1 : f32
    linalg.yield %sc : f32
  } -> tensor<2x2x3x24x24xf32>
  %e6 = tensor.empty() : tensor<2x2x3x24x24xf32>
  %g7 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%g5 : tensor<2x2x3x24x24xf32>) outs(%e6 : tensor<2x2x3x24x24xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 3 : index
    %j = linalg.index 4 : index
    %masked = arith.cmpi sgt, %j, %i : index
    %sel = arith.select %masked, %cst_2, %in : f32
    linalg.yield %sel : f32
  } -> tensor<2x2x3x24x24xf32>
  %e8 = tensor.empty() : tensor<2x2x3x24xf32>
  %f9 = linalg.fill ins(%cst_2 : f32) outs(%e8 : tensor<2x2x3x24xf32>) -> tensor<2x2x3x24xf32>
  %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%g7 : tensor<2x2x3x24x24xf32>) outs(%f9 : tensor<2x2x3x24xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maxnumf %in, %out : f32
    linalg.yield %m : f32
  } -> tensor<2x2x3x24xf32>
  %e11 = tensor.empty() : tensor<2x2x3x24x24xf32>
  %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%g7, %g10 : tensor<2x2x3x24x24xf32>, tensor<2x2x3x24xf32>) outs(%e11 : tensor<2x2x3x24x24xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %s = arith.subf %in, %in1 : f32
    %e = math.exp %s : f32
    linalg.yield %e : f32
  } -> tensor<2x2x3x24x24xf32>
  %e13 = tensor.empty() : tensor<2x2x3x24xf32>
  %f14 = linalg.fill ins(%cst_0 : f32) outs(%e13 : tensor<2x2x3x24xf32>) -> tensor<2x2x3x24xf32>
  %g15 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%g12 : tensor<2x2x3x24x24xf32>) outs(%f14 : tensor<2x2x3x24xf32>) {
  ^bb0(%in: f32, %out: f32):
    %a = arith.addf %in, %out : f32
    linalg.yield %a : f32
  } -> tensor<2x2x3x24xf32>
  %e16 = tensor.empty() : tensor<2x2x3x24x24xf32>
  %g17 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%g12, %g15 : tensor<2x2x3x24x24xf32>, tensor<2x2x3x24xf32>) outs(%e16 : tensor<2x2x3x24x24xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %d = arith.divf %in, %in1 : f32
    linalg.yield %d : f32
  } -> tensor<2x2x3x24x24xf32>
  %e18 = tensor.empty() : tensor<2x2x3x24x16xf32>
  %f19 = linalg.fill ins(%cst_0 : f32) outs(%e18 : tensor<2x2x3x24x16xf32>) -> tensor<2x2x3x24x16xf32>
  %g20 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d5)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d5, d4)>, affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%g17, %v : tensor<2x2x3x24x24xf32>, tensor<2x2x24x16xf32>) outs(%f19 : tensor<2x2x3x24x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %mul = arith.mulf %in, %in1 : f32
    %add = arith.addf %out, %mul : f32
    linalg.yield %add : f32
  } -> tensor<2x2x3x24x16xf32>
  return %g20 : tensor<2x2x3x24x16xf32>
}
