// Several results of different ranks and element types come back through
// one pointer to a struct of memref descriptors (plus a trailing scalar):
// checks the C-interface ABI attnqat-run relies on, result naming and the
// .npy files written for each result.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: attnqat-run %s --entry=multi --input x=const:1.5 --input 1=const:-7 \
// RUN:   --input scale=const:0.5 --output-dir=%t | FileCheck %s
// CHECK:      entry @multi (3 inputs, 5 results)
// CHECK-NEXT: input 0 'x': tensor<2x3xf32> shape=(2, 3) dtype=f32 min=1.5 max=1.5 mean=1.5 absmax=1.5 nan=0 inf=0 <- const:1.5
// CHECK-NEXT: input 1 'arg1': tensor<4xi32> shape=(4,) dtype=i32 min=-7 max=-7 mean=-7 absmax=7 nan=0 inf=0 <- const:-7
// CHECK-NEXT: input 2 'scale': f32 shape=() dtype=f32 min=0.5 max=0.5 {{.*}} <- const:0.5
// CHECK-NEXT: result 0 'scaled': tensor<2x3xf32> shape=(2, 3) dtype=f32 min=0.75 max=0.75 mean=0.75 absmax=0.75 nan=0 inf=0 -> {{.*}}scaled.npy
// CHECK-NEXT: result 1 'result1': tensor<4xi32> shape=(4,) dtype=i32 min=3 max=3 mean=3 absmax=3 nan=0 inf=0 -> {{.*}}multi.result1.npy
// CHECK-NEXT: result 2 'sum': tensor<f64> shape=() dtype=f64 min=9 max=9 mean=9 absmax=9 nan=0 inf=0 -> {{.*}}sum.npy
// CHECK-NEXT: result 3 'result3': tensor<3x2x1xf32> shape=(3, 2, 1) dtype=f32 min=1.5 max=1.5 {{.*}} -> {{.*}}multi.result3.npy
// CHECK-NEXT: result 4 'result4': f32 shape=() dtype=f32 min=1 max=1 mean=1 absmax=1 nan=0 inf=0 -> {{.*}}multi.result4.npy
//
// Each written file is read back with the shape and dtype of its result.
// RUN: attnqat-run %s --entry=readback --input 0=%t/scaled.npy \
// RUN:   --input 1=%t/multi.result1.npy --input 2=%t/sum.npy \
// RUN:   --input 3=%t/multi.result3.npy --input 4=%t/multi.result4.npy \
// RUN:   | FileCheck %s --check-prefix=BACK
// BACK: input 0 'arg0': tensor<2x3xf32> {{.*}} min=0.75 max=0.75
// BACK: input 1 'arg1': tensor<4xi32> {{.*}} min=3 max=3
// BACK: input 2 'arg2': tensor<f64> {{.*}} min=9 max=9
// BACK: input 3 'arg3': tensor<3x2x1xf32> {{.*}} min=1.5 max=1.5
// BACK: input 4 'arg4': f32 {{.*}} min=1 max=1
// BACK: result 0 'result0': tensor<f64> {{.*}} min=17.5 max=17.5

#map2 = affine_map<(i, j) -> (i, j)>
#map1 = affine_map<(i) -> (i)>

func.func @multi(%x: tensor<2x3xf32> {attnqat.name = "x"}, %n: tensor<4xi32>,
                 %s: f32 {attnqat.name = "scale"})
    -> (tensor<2x3xf32> {attnqat.name = "scaled"}, tensor<4xi32>,
        tensor<f64> {attnqat.name = "sum"}, tensor<3x2x1xf32>, f32) {
  %e = tensor.empty() : tensor<2x3xf32>
  %scaled = linalg.generic {indexing_maps = [#map2, #map2],
                            iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %s : f32
    linalg.yield %m : f32
  } -> tensor<2x3xf32>
  %ei = tensor.empty() : tensor<4xi32>
  %plus = linalg.generic {indexing_maps = [#map1, #map1],
                          iterator_types = ["parallel"]}
      ins(%n : tensor<4xi32>) outs(%ei : tensor<4xi32>) {
  ^bb0(%a: i32, %o: i32):
    %c10 = arith.constant 10 : i32
    %m = arith.addi %a, %c10 : i32
    linalg.yield %m : i32
  } -> tensor<4xi32>
  %zero = arith.constant 0.0 : f64
  %e0 = tensor.empty() : tensor<f64>
  %z = linalg.fill ins(%zero : f64) outs(%e0 : tensor<f64>) -> tensor<f64>
  %sum = linalg.generic {indexing_maps = [#map2, affine_map<(i, j) -> ()>],
                         iterator_types = ["reduction", "reduction"]}
      ins(%x : tensor<2x3xf32>) outs(%z : tensor<f64>) {
  ^bb0(%a: f32, %o: f64):
    %a64 = arith.extf %a : f32 to f64
    %r = arith.addf %a64, %o : f64
    linalg.yield %r : f64
  } -> tensor<f64>
  %shape = arith.constant dense<[3, 2, 1]> : tensor<3xindex>
  %reshaped = tensor.reshape %x(%shape) : (tensor<2x3xf32>, tensor<3xindex>) -> tensor<3x2x1xf32>
  %two = arith.constant 2.0 : f32
  %s2 = arith.mulf %s, %two : f32
  return %scaled, %plus, %sum, %reshaped, %s2
      : tensor<2x3xf32>, tensor<4xi32>, tensor<f64>, tensor<3x2x1xf32>, f32
}

func.func @readback(%a: tensor<2x3xf32>, %b: tensor<4xi32>, %c: tensor<f64>,
                    %d: tensor<3x2x1xf32>, %e: f32) -> tensor<f64> {
  %0 = tensor.extract %c[] : tensor<f64>
  %i0 = arith.constant 0 : index
  %1 = tensor.extract %a[%i0, %i0] : tensor<2x3xf32>
  %2 = tensor.extract %b[%i0] : tensor<4xi32>
  %3 = tensor.extract %d[%i0, %i0, %i0] : tensor<3x2x1xf32>
  %f1 = arith.extf %1 : f32 to f64
  %f2 = arith.sitofp %2 : i32 to f64
  %f3 = arith.extf %3 : f32 to f64
  %f4 = arith.extf %e : f32 to f64
  // 9 + 0.75 + 3 + 1.5 + 1 + 2.25 = 17.5 (the last term: 1.5 * 1.5)
  %s1 = arith.addf %0, %f1 : f64
  %s2 = arith.addf %s1, %f2 : f64
  %s3 = arith.addf %s2, %f3 : f64
  %s4 = arith.addf %s3, %f4 : f64
  %sq = arith.mulf %f3, %f3 : f64
  %s5 = arith.addf %s4, %sq : f64
  %r = tensor.from_elements %s5 : tensor<f64>
  return %r : tensor<f64>
}
