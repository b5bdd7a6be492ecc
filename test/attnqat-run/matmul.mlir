// A linalg.matmul on tensors fed from .npy files that the tool itself wrote
// from generators (numpy is not needed).
//
// RUN: rm -rf %t && mkdir -p %t
//
// 1. Materialize generator data as .npy: @gen returns its arguments, the
//    results are named "a" and "b".
// RUN: attnqat-run %s --entry=gen --seed=7 \
// RUN:   --input a=normal:std=1,outliers=0.25,outlier-scale=10 \
// RUN:   --input b=uniform:lo=-2,hi=2 --output-dir=%t \
// RUN:   | FileCheck %s --check-prefix=GEN
// GEN:      entry @gen (2 inputs, 2 results)
// GEN-NEXT: input 0 'a': tensor<16x32xf32> shape=(16, 32) dtype=f32 {{.*}} nan=0 inf=0 <- normal:std=1,outliers=0.25,outlier-scale=10 (seed [[SEEDA:[0-9]+]])
// GEN-NEXT: input 1 'b': tensor<32x8xf32> shape=(32, 8) dtype=f32 min=-{{1\.9[0-9]*|2}} max={{1\.9[0-9]*|2}} {{.*}} <- uniform:lo=-2,hi=2 (seed {{[0-9]+}})
// GEN-NEXT: result 0 'a': tensor<16x32xf32> shape=(16, 32) dtype=f32 {{.*}} -> {{.*}}a.npy
// GEN-NEXT: result 1 'b': tensor<32x8xf32> shape=(32, 8) dtype=f32 {{.*}} -> {{.*}}b.npy
// GEN-NEXT: time: parse {{.*}} ms, lowering {{.*}} ms, jit {{.*}} ms, run {{.*}} ms
//
// 2. The matmul on the .npy inputs.
// RUN: attnqat-run %s --entry=matmul --input a=%t/a.npy --input 1=%t/b.npy \
// RUN:   --output-dir=%t --repeat=3 | FileCheck %s --check-prefix=MM
// MM:      entry @matmul (2 inputs, 1 results)
// MM-NEXT: input 0 'a': tensor<16x32xf32> shape=(16, 32) dtype=f32 {{.*}} <- {{.*}}a.npy
// MM-NEXT: input 1 'arg1': tensor<32x8xf32> shape=(32, 8) dtype=f32 {{.*}} <- {{.*}}b.npy
// MM-NEXT: result 0 'result0': tensor<16x8xf32> shape=(16, 8) dtype=f32 {{.*}} nan=0 inf=0 -> {{.*}}matmul.result0.npy
// MM-NEXT: time: {{.*}} run {{.*}} ms (min of 3, mean {{.*}} ms)
//
// 3. Against an independent float64 triple loop (linalg.generic), and the
//    same generators fed directly (same seeds per argument) give the same
//    bits as the .npy route.
// RUN: attnqat-run %s --entry=matmul_f64 --input 0=%t/a.npy --input 1=%t/b.npy \
// RUN:   --compare 0=%t/matmul.result0.npy --compare-atol=1e-4 --compare-rtol=1e-5 \
// RUN:   | FileCheck %s --check-prefix=REF
// REF: compare 'result0' vs {{.*}}matmul.result0.npy: max_abs={{.*}} n=128 nan_mismatch=0 PASS
// RUN: attnqat-run %s --entry=matmul --seed=7 \
// RUN:   --input 0=normal:std=1,outliers=0.25,outlier-scale=10 \
// RUN:   --input 1=uniform:lo=-2,hi=2 \
// RUN:   --compare result0=%t/matmul.result0.npy --compare-atol=0 \
// RUN:   | FileCheck %s --check-prefix=SAME
// SAME: compare 'result0' vs {{.*}}: max_abs=0 max_rel=0 rms=0 n=128 nan_mismatch=0 PASS (atol=0 rtol=0, 0 violations)
//
// 4. Exact values: ones(16x32) @ 2 = 64 everywhere.
// RUN: attnqat-run %s --entry=matmul --input 0=ones --input 1=const:2 \
// RUN:   | FileCheck %s --check-prefix=EXACT
// EXACT: result 0 'result0': tensor<16x8xf32> shape=(16, 8) dtype=f32 min=64 max=64 mean=64 absmax=64 nan=0 inf=0

func.func @gen(%a: tensor<16x32xf32> {attnqat.name = "a"},
               %b: tensor<32x8xf32> {attnqat.name = "b"})
    -> (tensor<16x32xf32> {attnqat.name = "a"},
        tensor<32x8xf32> {attnqat.name = "b"}) {
  return %a, %b : tensor<16x32xf32>, tensor<32x8xf32>
}

func.func @matmul(%a: tensor<16x32xf32> {attnqat.name = "a"},
                  %b: tensor<32x8xf32>) -> tensor<16x8xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<16x8xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<16x8xf32>)
      -> tensor<16x8xf32>
  %c = linalg.matmul ins(%a, %b : tensor<16x32xf32>, tensor<32x8xf32>)
                     outs(%acc : tensor<16x8xf32>) -> tensor<16x8xf32>
  return %c : tensor<16x8xf32>
}

func.func @matmul_f64(%a: tensor<16x32xf32>, %b: tensor<32x8xf32>)
    -> tensor<16x8xf64> {
  %zero = arith.constant 0.0 : f64
  %init = tensor.empty() : tensor<16x8xf64>
  %acc = linalg.fill ins(%zero : f64) outs(%init : tensor<16x8xf64>)
      -> tensor<16x8xf64>
  %c = linalg.generic {
      indexing_maps = [affine_map<(i, j, k) -> (i, k)>,
                       affine_map<(i, j, k) -> (k, j)>,
                       affine_map<(i, j, k) -> (i, j)>],
      iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<16x32xf32>, tensor<32x8xf32>)
      outs(%acc : tensor<16x8xf64>) {
  ^bb0(%x: f32, %y: f32, %s: f64):
    %x64 = arith.extf %x : f32 to f64
    %y64 = arith.extf %y : f32 to f64
    %p = arith.mulf %x64, %y64 : f64
    %r = arith.addf %s, %p : f64
    linalg.yield %r : f64
  } -> tensor<16x8xf64>
  return %c : tensor<16x8xf64>
}
