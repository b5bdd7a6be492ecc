// A causal self-attention block (Q/K/V projections, scaled dot-product
// attention, output projection) as torch-mlir lowers it to linalg on tensors
// (torch-mlir's decomposition of F.scaled_dot_product_attention(q, k, v,
// is_causal=True): transpose generics, 4-D matmuls as collapse_shape +
// batch_matmul + expand_shape, a scale generic, a causal select on
// linalg.index, and softmax as max.dim / sub / exp / sum / div).
//
// Fuse the attention into attnqat.attention:
//   attnqat-opt --attnqat-fuse-linalg-attention examples/torch_mlir_sdpa.mlir
// Run it on the CPU (fused or not; the results agree to ~1e-6):
//   attnqat-opt --attnqat-fuse-linalg-attention --convert-attnqat-to-loops \
//       examples/torch_mlir_sdpa.mlir -o /tmp/fused.mlir
//   attnqat-run /tmp/fused.mlir --entry=attention_block --input 0=normal \
//       --input 1=normal:std=0.2 --input 2=normal:std=0.2 \
//       --input 3=normal:std=0.2 --input 4=normal:std=0.2 --input 5=normal
// Then attach a QAT configuration (attnqat-attach-qat) to train in FP4.

func.func @attention_block(%x: tensor<32x32xf32>, %wq: tensor<32x32xf32>, %wk: tensor<32x32xf32>, %wv: tensor<32x32xf32>, %wo: tensor<32x32xf32>, %bq: tensor<32xf32>) -> tensor<32x32xf32> {
  %cst_0 = arith.constant 0.000000e+00 : f32
  %cst_1 = arith.constant 0.353553385 : f32
  %cst_2 = arith.constant 0xFF800000 : f32
  %cst_3 = arith.constant -3.40282347E+38 : f32
  %cst_4 = arith.constant 0 : i64
  %e1 = tensor.empty() : tensor<32x32xf32>
  %g2 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%wq : tensor<32x32xf32>) outs(%e1 : tensor<32x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<32x32xf32>
  %e3 = tensor.empty() : tensor<32x32xf32>
  %f4 = linalg.fill ins(%cst_0 : f32) outs(%e3 : tensor<32x32xf32>) -> tensor<32x32xf32>
  %mm5 = linalg.matmul ins(%x, %g2 : tensor<32x32xf32>, tensor<32x32xf32>) outs(%f4 : tensor<32x32xf32>) -> tensor<32x32xf32>
  %e6 = tensor.empty() : tensor<32x32xf32>
  %g7 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%mm5, %bq : tensor<32x32xf32>, tensor<32xf32>) outs(%e6 : tensor<32x32xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %b = arith.addf %in, %in1 : f32
    linalg.yield %b : f32
  } -> tensor<32x32xf32>
  %x8 = tensor.expand_shape %g7 [[0, 1], [2, 3]] output_shape [2, 16, 4, 8] : tensor<32x32xf32> into tensor<2x16x4x8xf32>
  %e9 = tensor.empty() : tensor<2x4x16x8xf32>
  %g10 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x8 : tensor<2x16x4x8xf32>) outs(%e9 : tensor<2x4x16x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x4x16x8xf32>
  %e11 = tensor.empty() : tensor<32x32xf32>
  %g12 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%wk : tensor<32x32xf32>) outs(%e11 : tensor<32x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<32x32xf32>
  %e13 = tensor.empty() : tensor<32x32xf32>
  %f14 = linalg.fill ins(%cst_0 : f32) outs(%e13 : tensor<32x32xf32>) -> tensor<32x32xf32>
  %mm15 = linalg.matmul ins(%x, %g12 : tensor<32x32xf32>, tensor<32x32xf32>) outs(%f14 : tensor<32x32xf32>) -> tensor<32x32xf32>
  %x16 = tensor.expand_shape %mm15 [[0, 1], [2, 3]] output_shape [2, 16, 4, 8] : tensor<32x32xf32> into tensor<2x16x4x8xf32>
  %e17 = tensor.empty() : tensor<2x4x16x8xf32>
  %g18 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x16 : tensor<2x16x4x8xf32>) outs(%e17 : tensor<2x4x16x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x4x16x8xf32>
  %e19 = tensor.empty() : tensor<32x32xf32>
  %g20 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%wv : tensor<32x32xf32>) outs(%e19 : tensor<32x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<32x32xf32>
  %e21 = tensor.empty() : tensor<32x32xf32>
  %f22 = linalg.fill ins(%cst_0 : f32) outs(%e21 : tensor<32x32xf32>) -> tensor<32x32xf32>
  %mm23 = linalg.matmul ins(%x, %g20 : tensor<32x32xf32>, tensor<32x32xf32>) outs(%f22 : tensor<32x32xf32>) -> tensor<32x32xf32>
  %x24 = tensor.expand_shape %mm23 [[0, 1], [2, 3]] output_shape [2, 16, 4, 8] : tensor<32x32xf32> into tensor<2x16x4x8xf32>
  %e25 = tensor.empty() : tensor<2x4x16x8xf32>
  %g26 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x24 : tensor<2x16x4x8xf32>) outs(%e25 : tensor<2x4x16x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x4x16x8xf32>
  %e27 = tensor.empty() : tensor<2x4x8x16xf32>
  %g28 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g18 : tensor<2x4x16x8xf32>) outs(%e27 : tensor<2x4x8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x4x8x16xf32>
  %c29 = tensor.collapse_shape %g10 [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %c30 = tensor.collapse_shape %g28 [[0, 1], [2], [3]] : tensor<2x4x8x16xf32> into tensor<8x8x16xf32>
  %e31 = tensor.empty() : tensor<8x16x16xf32>
  %f32 = linalg.fill ins(%cst_0 : f32) outs(%e31 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %bmm33 = linalg.batch_matmul ins(%c29, %c30 : tensor<8x16x8xf32>, tensor<8x8x16xf32>) outs(%f32 : tensor<8x16x16xf32>) -> tensor<8x16x16xf32>
  %x34 = tensor.expand_shape %bmm33 [[0, 1], [2], [3]] output_shape [2, 4, 16, 16] : tensor<8x16x16xf32> into tensor<2x4x16x16xf32>
  %e35 = tensor.empty() : tensor<2x4x16x16xf32>
  %g36 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x34 : tensor<2x4x16x16xf32>) outs(%e35 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sc = arith.mulf %in, %cst_1 : f32
    linalg.yield %sc : f32
  } -> tensor<2x4x16x16xf32>
  %e37 = tensor.empty() : tensor<2x4x16x16xf32>
  %g38 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g36 : tensor<2x4x16x16xf32>) outs(%e37 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 2 : index
    %j = linalg.index 3 : index
    %masked = arith.cmpi ugt, %j, %i : index
    %sel = arith.select %masked, %cst_2, %in : f32
    linalg.yield %sel : f32
  } -> tensor<2x4x16x16xf32>
  %e39 = tensor.empty() : tensor<2x4x16x1xf32>
  %f40 = linalg.fill ins(%cst_3 : f32) outs(%e39 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %e41 = tensor.empty() : tensor<2x4x16x1xi64>
  %f42 = linalg.fill ins(%cst_4 : i64) outs(%e41 : tensor<2x4x16x1xi64>) -> tensor<2x4x16x1xi64>
  %g43:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g38 : tensor<2x4x16x16xf32>) outs(%f40, %f42 : tensor<2x4x16x1xf32>, tensor<2x4x16x1xi64>) {
  ^bb0(%in: f32, %out: f32, %out1: i64):
    %idx = linalg.index 3 : index
    %idx64 = arith.index_cast %idx : index to i64
    %max = arith.maximumf %in, %out : f32
    %gt = arith.cmpf ogt, %in, %out : f32
    %arg = arith.select %gt, %idx64, %out1 : i64
    linalg.yield %max, %arg : f32, i64
  } -> (tensor<2x4x16x1xf32>, tensor<2x4x16x1xi64>)
  %e44 = tensor.empty() : tensor<2x4x16x16xf32>
  %g45 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g38, %g43#0 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e44 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %sub = arith.subf %in, %in1 : f32
    linalg.yield %sub : f32
  } -> tensor<2x4x16x16xf32>
  %e46 = tensor.empty() : tensor<2x4x16x16xf32>
  %g47 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g45 : tensor<2x4x16x16xf32>) outs(%e46 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %exp = math.exp %in : f32
    linalg.yield %exp : f32
  } -> tensor<2x4x16x16xf32>
  %e48 = tensor.empty() : tensor<2x4x16x1xf32>
  %f49 = linalg.fill ins(%cst_0 : f32) outs(%e48 : tensor<2x4x16x1xf32>) -> tensor<2x4x16x1xf32>
  %g50 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%g47 : tensor<2x4x16x16xf32>) outs(%f49 : tensor<2x4x16x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  } -> tensor<2x4x16x1xf32>
  %e51 = tensor.empty() : tensor<2x4x16x16xf32>
  %g52 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%g47, %g50 : tensor<2x4x16x16xf32>, tensor<2x4x16x1xf32>) outs(%e51 : tensor<2x4x16x16xf32>) {
  ^bb0(%in: f32, %in1: f32, %out: f32):
    %div = arith.divf %in, %in1 : f32
    linalg.yield %div : f32
  } -> tensor<2x4x16x16xf32>
  %c53 = tensor.collapse_shape %g52 [[0, 1], [2], [3]] : tensor<2x4x16x16xf32> into tensor<8x16x16xf32>
  %c54 = tensor.collapse_shape %g26 [[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
  %e55 = tensor.empty() : tensor<8x16x8xf32>
  %f56 = linalg.fill ins(%cst_0 : f32) outs(%e55 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %bmm57 = linalg.batch_matmul ins(%c53, %c54 : tensor<8x16x16xf32>, tensor<8x16x8xf32>) outs(%f56 : tensor<8x16x8xf32>) -> tensor<8x16x8xf32>
  %x58 = tensor.expand_shape %bmm57 [[0, 1], [2], [3]] output_shape [2, 4, 16, 8] : tensor<8x16x8xf32> into tensor<2x4x16x8xf32>
  %e59 = tensor.empty() : tensor<2x16x4x8xf32>
  %g60 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x58 : tensor<2x4x16x8xf32>) outs(%e59 : tensor<2x16x4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<2x16x4x8xf32>
  %c61 = tensor.collapse_shape %g60 [[0, 1], [2, 3]] : tensor<2x16x4x8xf32> into tensor<32x32xf32>
  %e62 = tensor.empty() : tensor<32x32xf32>
  %g63 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%wo : tensor<32x32xf32>) outs(%e62 : tensor<32x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<32x32xf32>
  %e64 = tensor.empty() : tensor<32x32xf32>
  %f65 = linalg.fill ins(%cst_0 : f32) outs(%e64 : tensor<32x32xf32>) -> tensor<32x32xf32>
  %mm66 = linalg.matmul ins(%c61, %g63 : tensor<32x32xf32>, tensor<32x32xf32>) outs(%f65 : tensor<32x32xf32>) -> tensor<32x32xf32>
  return %mm66 : tensor<32x32xf32>
}
