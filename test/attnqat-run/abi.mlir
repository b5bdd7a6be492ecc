// The memref ABI corners: strided copies (memref.copy on subviews calls the
// tool's memrefCopy), results that alias arguments or constants (copied by
// the deallocation pipeline, then freed once each by the tool), dynamic
// shapes, one-byte storage of f4E2M1FN / f8E4M3FN / f8E8M0FNU / i1 codes,
// scalar arguments and a single scalar result, exact 64-bit integers.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: attnqat-run %s --entry=iota --output-dir=%t | FileCheck %s --check-prefix=IOTA
// IOTA: result 0 'iota': tensor<4x6xf32> shape=(4, 6) dtype=f32 min=0 max=23 mean=11.5
//
// RUN: attnqat-run %s --entry=slices --input 0=%t/iota.npy --output-dir=%t \
// RUN:   | FileCheck %s --check-prefix=SLICES
// Rows 0 and 2, columns 0, 2, 4: {0, 2, 4, 12, 14, 16}.
// SLICES: result 0 'result0': tensor<2x3xf32> shape=(2, 3) dtype=f32 min=0 max=16 mean=8 absmax=16
// SLICES: result 1 'result1': tensor<4x6xf32> shape=(4, 6) dtype=f32 min=0 max=16 mean=2 absmax=16
// The strided slice lands at rows 1-2, columns 1, 3, 5 of zeros: check the
// exact positions by summing row-weighted values.
// RUN: attnqat-run %s --entry=weigh --input 0=%t/slices.result1.npy \
// RUN:   | FileCheck %s --check-prefix=WEIGH
// 1*(0*1 + 2*3 + 4*5) + 2*(12*1 + 14*3 + 16*5) = 26 + 268 = 294
// WEIGH: result 0 'result0': tensor<f32> {{.*}} min=294 max=294
//
// RUN: attnqat-run %s --entry=alias --input 0=const:3 --repeat=3 \
// RUN:   | FileCheck %s --check-prefix=ALIAS
// ALIAS: entry @alias (1 inputs, 4 results)
// ALIAS: result 0 'result0': tensor<3xf32> {{.*}} min=3 max=3
// ALIAS: result 1 'result1': tensor<3xf32> {{.*}} min=3 max=3
// ALIAS: result 2 'result2': tensor<2xf32> {{.*}} min=7 max=8
// ALIAS: result 3 'result3': tensor<3xf32> {{.*}} min=3 max=3
//
// RUN: attnqat-run %s --entry=dynamic --input 0=%t/iota.npy \
// RUN:   | FileCheck %s --check-prefix=DYN-NPY
// DYN-NPY: input 0 'arg0': tensor<?x6xf32> shape=(4, 6)
// DYN-NPY: result 0 'result0': tensor<?xf32> shape=(4,) dtype=f32 min=15 max=123
// RUN: attnqat-run %s --entry=dynamic --input 0=ones:shape=3x6 \
// RUN:   | FileCheck %s --check-prefix=DYN-GEN
// DYN-GEN: result 0 'result0': tensor<?xf32> shape=(3,) dtype=f32 min=6 max=6
//
// f4E2M1FN code 5 = 3.0, code 0xD = -3.0; f8E4M3FN 0x7E = 448;
// f8E8M0FNU 127 = 1.0.
// RUN: attnqat-run %s --entry=codes --input 0=const:3 --input 1=const:-3 \
// RUN:   --input 2=const:1000 --input 3=const:1 --input 4=const:1 \
// RUN:   --output-dir=%t | FileCheck %s --check-prefix=CODES
// CODES: input 0 'arg0': tensor<5xf4E2M1FN> {{.*}} min=3 max=3
// CODES: input 1 'arg1': tensor<5xf4E2M1FN> {{.*}} min=-3 max=-3
// CODES: input 2 'arg2': tensor<5xf8E4M3FN> {{.*}} min=448 max=448
// CODES: input 3 'arg3': tensor<5xf8E8M0FNU> {{.*}} min=1 max=1
// CODES: input 4 'arg4': tensor<5xi1> {{.*}} min=1 max=1
// CODES: result 0 'result0': tensor<10xf4E2M1FN> {{.*}} min=-3 max=3 mean=0
// CODES: result 1 'result1': tensor<5xf8E4M3FN> {{.*}} min=448 max=448
// CODES: result 2 'result2': tensor<5xf8E8M0FNU> {{.*}} min=1 max=1
// CODES: result 3 'result3': tensor<5xi1> {{.*}} min=1 max=1
// The code files are uint8 (bool for i1) and feed straight back in.
// RUN: attnqat-run %s --entry=codes --input 0=const:3 --input 1=const:-3 \
// RUN:   --input 2=npy:%t/codes.result1.npy --input 3=%t/codes.result2.npy \
// RUN:   --input 4=%t/codes.result3.npy | FileCheck %s --check-prefix=CODES-BACK
// CODES-BACK: input 2 'arg2': tensor<5xf8E4M3FN> {{.*}} min=448 max=448 {{.*}} <- {{.*}}codes.result1.npy
// CODES-BACK: input 3 'arg3': tensor<5xf8E8M0FNU> {{.*}} min=1 max=1 {{.*}} <- {{.*}}codes.result2.npy
// CODES-BACK: input 4 'arg4': tensor<5xi1> {{.*}} min=1 max=1 {{.*}} <- {{.*}}codes.result3.npy
// 0x7E read as an f4E2M1FN code is out of range:
// RUN: not attnqat-run %s --entry=codes --input 0=%t/codes.result1.npy \
// RUN:   --random-missing 2>&1 | FileCheck %s --check-prefix=BAD-CODE
// BAD-CODE: error: argument 0 'arg0': {{.*}}codes.result1.npy holds 126 at flat index 0; f4E2M1FN codes are 0..15 (one per byte)
//
// RUN: attnqat-run %s --entry=scalars --input 0=const:2.5 --input 1=const:9007199254740993 \
// RUN:   | FileCheck %s --check-prefix=SCALARS
// SCALARS: input 0 'arg0': f64 shape=() dtype=f64 min=2.5 max=2.5
// SCALARS: input 1 'arg1': tensor<1xi64> {{.*}} min=9.0072e+15
// SCALARS: result 0 'result0': i64 shape=() dtype=i64 min=1 max=1

func.func @iota() -> (tensor<4x6xf32> {attnqat.name = "iota"}) {
  %e = tensor.empty() : tensor<4x6xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      outs(%e : tensor<4x6xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c6 = arith.constant 6 : index
    %m = arith.muli %i, %c6 : index
    %s = arith.addi %m, %j : index
    %si = arith.index_cast %s : index to i32
    %f = arith.sitofp %si : i32 to f32
    linalg.yield %f : f32
  } -> tensor<4x6xf32>
  return %r : tensor<4x6xf32>
}

func.func @slices(%x: tensor<4x6xf32>) -> (tensor<2x3xf32>, tensor<4x6xf32>) {
  %s = tensor.extract_slice %x[0, 0] [2, 3] [2, 2]
      : tensor<4x6xf32> to tensor<2x3xf32>
  %z = arith.constant dense<0.0> : tensor<4x6xf32>
  %i = tensor.insert_slice %s into %z[1, 1] [2, 3] [1, 2]
      : tensor<2x3xf32> into tensor<4x6xf32>
  return %s, %i : tensor<2x3xf32>, tensor<4x6xf32>
}

func.func @weigh(%x: tensor<4x6xf32>) -> tensor<f32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>,
                                        affine_map<(i, j) -> ()>],
                       iterator_types = ["reduction", "reduction"]}
      ins(%x : tensor<4x6xf32>) outs(%z : tensor<f32>) {
  ^bb0(%v: f32, %acc: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %ii = arith.index_cast %i : index to i32
    %ji = arith.index_cast %j : index to i32
    %fi = arith.sitofp %ii : i32 to f32
    %fj = arith.sitofp %ji : i32 to f32
    %w = arith.mulf %fi, %fj : f32
    %p = arith.mulf %v, %w : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<f32>
  return %r : tensor<f32>
}

func.func @alias(%x: tensor<3xf32>)
    -> (tensor<3xf32>, tensor<3xf32>, tensor<2xf32>, tensor<3xf32>) {
  %c = arith.constant dense<[7.0, 8.0]> : tensor<2xf32>
  return %x, %x, %c, %x
      : tensor<3xf32>, tensor<3xf32>, tensor<2xf32>, tensor<3xf32>
}

// Row sums of a ?x6 input.
func.func @dynamic(%x: tensor<?x6xf32>) -> tensor<?xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x6xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty(%n) : tensor<?xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %r = linalg.reduce ins(%x : tensor<?x6xf32>) outs(%z : tensor<?xf32>) dimensions = [1]
    (%a: f32, %b: f32) {
      %s = arith.addf %a, %b : f32
      linalg.yield %s : f32
    }
  return %r : tensor<?xf32>
}

func.func @codes(%a: tensor<5xf4E2M1FN>, %b: tensor<5xf4E2M1FN>,
                 %s: tensor<5xf8E4M3FN>, %m: tensor<5xf8E8M0FNU>,
                 %p: tensor<5xi1>)
    -> (tensor<10xf4E2M1FN>, tensor<5xf8E4M3FN>, tensor<5xf8E8M0FNU>,
        tensor<5xi1>) {
  %e = tensor.empty() : tensor<10xf4E2M1FN>
  %0 = tensor.insert_slice %a into %e[0] [5] [2]
      : tensor<5xf4E2M1FN> into tensor<10xf4E2M1FN>
  %1 = tensor.insert_slice %b into %0[1] [5] [2]
      : tensor<5xf4E2M1FN> into tensor<10xf4E2M1FN>
  return %1, %s, %m, %p
      : tensor<10xf4E2M1FN>, tensor<5xf8E4M3FN>, tensor<5xf8E8M0FNU>,
        tensor<5xi1>
}

func.func @scalars(%x: f64, %n: tensor<1xi64>) -> i64 {
  %c0 = arith.constant 0 : index
  %v = tensor.extract %n[%c0] : tensor<1xi64>
  // 2^53 + 1 survives only if the constant was not rounded through a double.
  %big = arith.constant 9007199254740992 : i64
  %d = arith.subi %v, %big : i64
  return %d : i64
}
