// The generated codec (arith ops from convert-attnqat-to-loops) against the
// C++ codec (lib/Numerics) bit for bit, on every BF16 bit pattern: all
// finite values, subnormals, +-0, +-Inf and NaNs, in blocks along either
// axis. NaN/Inf blocks must decode to NaN in both.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: attnqat-run %s --entry=all_bf16 --output-dir=%t | FileCheck %s --check-prefix=GEN
// RUN: attnqat-run %s --entry=codecs --input x=%t/x.npy --input 1=normal:std=3 --input 2=uniform:lo=0,hi=500 --reference --reference-tolerance=0 | FileCheck %s
// Large random blocks with outliers, NVFP4 with a global scale and tails.
// RUN: attnqat-run %s --entry=tails --input x=normal:std=4,outliers=0.05,outlier-scale=1000 --reference --reference-tolerance=0 | FileCheck %s --check-prefix=TAILS

// GEN: result 0 'x': tensor<256x256xbf16>
// CHECK-DAG: (fake_quant): max_abs=0 {{.*}} nan_mismatch=0 PASS
// CHECK-DAG: (quantize codes): max_abs=0 {{.*}} nan_mismatch=0 PASS
// CHECK-DAG: (quantize scales): max_abs=0 {{.*}} nan_mismatch=0 PASS
// CHECK-DAG: (dequantize): max_abs=0 {{.*}} nan_mismatch=0 PASS
// TAILS-COUNT-3: max_abs=0 {{.*}} nan_mismatch=0 PASS

// All 65536 BF16 bit patterns, row-major: x[i][j] has bits 256 * i + j.
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @all_bf16() -> (tensor<256x256xbf16> {attnqat.name = "x"}) {
  %e = tensor.empty() : tensor<256x256xbf16>
  %x = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]} outs(%e : tensor<256x256xbf16>) {
  ^bb0(%out: bf16):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c256 = arith.constant 256 : index
    %r = arith.muli %i, %c256 : index
    %k = arith.addi %r, %j : index
    %k16 = arith.index_cast %k : index to i16
    %v = arith.bitcast %k16 : i16 to bf16
    linalg.yield %v : bf16
  } -> tensor<256x256xbf16>
  return %x : tensor<256x256xbf16>
}

func.func @codecs(%x: tensor<256x256xbf16> {attnqat.name = "x"}, %c: tensor<256x256xf4E2M1FN>, %s: tensor<256x16xf8E4M3FN>)
    -> (tensor<256x256xbf16>, tensor<256x256xf4E2M1FN>, tensor<256x16xf8E4M3FN>, tensor<256x256xf32>, tensor<256x256xf32>) {
  %fq = attnqat.fake_quant %x as #attnqat.mxfp4 along 0 : tensor<256x256xbf16>
  %codes, %scales = attnqat.quantize %x as #attnqat.nvfp4 along 1 : tensor<256x256xbf16> -> tensor<256x256xf4E2M1FN>, tensor<256x16xf8E4M3FN>
  %dq = attnqat.dequantize %c, %s as #attnqat.nvfp4 along 1 : tensor<256x256xf4E2M1FN>, tensor<256x16xf8E4M3FN> -> tensor<256x256xf32>
  %fq2 = attnqat.fake_quant %dq as #attnqat.nvfp4 along 0 : tensor<256x256xf32>
  return %fq, %codes, %scales, %dq, %fq2 : tensor<256x256xbf16>, tensor<256x256xf4E2M1FN>, tensor<256x16xf8E4M3FN>, tensor<256x256xf32>, tensor<256x256xf32>
}

func.func @tails(%x: tensor<3x37x45xf32> {attnqat.name = "x"}) -> (tensor<3x37x45xf32>, tensor<3x37x45xf4E2M1FN>, tensor<3x3x45xf8E4M3FN>) {
  %fq = attnqat.fake_quant %x as #attnqat.mxfp4 along 2 : tensor<3x37x45xf32>
  %c, %s = attnqat.quantize %x as #attnqat.nvfp4<global_scale = 0.01 : f32> along 1 : tensor<3x37x45xf32> -> tensor<3x37x45xf4E2M1FN>, tensor<3x3x45xf8E4M3FN>
  return %fq, %c, %s : tensor<3x37x45xf32>, tensor<3x37x45xf4E2M1FN>, tensor<3x3x45xf8E4M3FN>
}
