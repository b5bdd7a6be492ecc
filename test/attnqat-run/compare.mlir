// --compare reports errors against a reference .npy; with tolerances a
// mismatch fails the run.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: attnqat-run %s --entry=scale --input 0=const:1 --input 1=const:2 \
// RUN:   --output-dir=%t | FileCheck %s --check-prefix=MAKE
// MAKE: result 0 'out': tensor<2x4xf32> {{.*}} min=2 max=2 {{.*}} -> {{.*}}out.npy
//
// No tolerance: report only.
// RUN: attnqat-run %s --entry=scale --input 0=const:1 --input 1=const:2.5 \
// RUN:   --compare out=%t/out.npy | FileCheck %s --check-prefix=REPORT
// REPORT: compare 'out' vs {{.*}}out.npy: max_abs=0.5 max_rel=0.25 rms=0.5 n=8 nan_mismatch=0{{$}}
//
// Within tolerance.
// RUN: attnqat-run %s --entry=scale --input 0=const:1 --input 1=const:2.5 \
// RUN:   --compare 0=%t/out.npy --compare-rtol=0.3 | FileCheck %s --check-prefix=PASS
// PASS: max_abs=0.5 max_rel=0.25 rms=0.5 n=8 nan_mismatch=0 PASS (atol=0 rtol=0.3, 0 violations)
//
// Out of tolerance: non-zero exit, results still written first.
// RUN: not attnqat-run %s --entry=scale --input 0=const:1 --input 1=const:2.5 \
// RUN:   --compare result0=%t/out.npy --compare-atol=0.1 > %t/fail.txt 2>&1
// RUN: FileCheck %s --check-prefix=FAIL < %t/fail.txt
// FAIL: compare 'out' vs {{.*}}out.npy: max_abs=0.5 {{.*}} FAIL (atol=0.1 rtol=0, 8 violations)
// FAIL: error: comparison failed
//
// NaNs must coincide.
// RUN: not attnqat-run %s --entry=scale --input 0=const:nan --input 1=const:2 \
// RUN:   --compare 0=%t/out.npy --compare-atol=1 | FileCheck %s --check-prefix=NAN
// NAN: nan_mismatch=8 FAIL
//
// Errors.
// RUN: not attnqat-run %s --entry=scale --random-missing --compare nope=%t/out.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NONAME
// NONAME: error: --compare 'nope={{.*}}': no result named 'nope' (results: out)
// RUN: not attnqat-run %s --entry=scale --random-missing --compare 0=%t/missing.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NOFILE
// NOFILE: error: --compare: {{.*}}missing.npy: cannot open: No such file or directory
// RUN: not attnqat-run %s --entry=scale --random-missing --compare 0 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NOEQ
// NOEQ: error: --compare expects KEY=REF.npy, got '0'
// RUN: attnqat-run %s --entry=other --random-missing --output-dir=%t
// RUN: not attnqat-run %s --entry=scale --random-missing --compare 0=%t/other.result0.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SHAPE
// SHAPE: error: --compare: reference {{.*}}other.result0.npy has shape (4, 2) but result 'out' has shape (2, 4)

func.func @scale(%x: tensor<2x4xf32>, %s: f32)
    -> (tensor<2x4xf32> {attnqat.name = "out"}) {
  %e = tensor.empty() : tensor<2x4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>,
                                        affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<2x4xf32>) outs(%e : tensor<2x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %s : f32
    linalg.yield %m : f32
  } -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

func.func @other() -> tensor<4x2xf32> {
  %c = arith.constant dense<1.0> : tensor<4x2xf32>
  return %c : tensor<4x2xf32>
}
