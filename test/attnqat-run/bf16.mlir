// bf16 arguments take float32 .npy (rounded to nearest even) or uint16 raw
// bits; bf16 results are written as float32 .npy. bf16 arithmetic is
// emulated in f32 with one rounding per op.
//
// RUN: rm -rf %t && mkdir -p %t
//
// Make float32 and uint16 .npy files with the tool: 1 + 2^-8 is a tie that
// rounds to 1.0 (even); 1 + 3*2^-8 rounds up to 1 + 2^-6.
// RUN: attnqat-run %s --entry=make_f32 --input 0=const:1.00390625 \
// RUN:   --input 1=const:1.01171875 --output-dir=%t | FileCheck %s --check-prefix=MAKE
// MAKE: result 0 'tie': tensor<8xf32> {{.*}} min=1.00391 max=1.00391
// MAKE: result 1 'up': tensor<8xf32> {{.*}} min=1.01172 max=1.01172
// RUN: attnqat-run %s --entry=make_bits --input 0=const:16320 \
// RUN:   --output-dir=%t | FileCheck %s --check-prefix=BITS
// BITS: result 0 'bits': tensor<8xui16> shape=(8,) dtype=ui16 min=16320 max=16320
//
// RUN: attnqat-run %s --entry=axpy --input x=%t/tie.npy --input y=%t/up.npy \
// RUN:   --output-dir=%t | FileCheck %s --check-prefix=AXPY
// AXPY:      input 0 'x': tensor<8xbf16> shape=(8,) dtype=bf16 min=1 max=1 mean=1 {{.*}} <- {{.*}}tie.npy
// AXPY-NEXT: input 1 'y': tensor<8xbf16> shape=(8,) dtype=bf16 min=1.01562 max=1.01562 {{.*}} <- {{.*}}up.npy
// 2 * 1 + 1.015625 = 3.015625, exact in bf16 (ulp 2^-6 in [2, 4)).
// AXPY-NEXT: result 0 'result0': tensor<8xbf16> shape=(8,) dtype=bf16 min=3.01562 max=3.01562 {{.*}} -> {{.*}}axpy.result0.npy
//
// Raw bits: 0x3FC0 = 16320 is bf16 1.5.
// RUN: attnqat-run %s --entry=axpy --input x=%t/bits.npy --input y=ones \
// RUN:   | FileCheck %s --check-prefix=RAW
// RAW: input 0 'x': tensor<8xbf16> shape=(8,) dtype=bf16 min=1.5 max=1.5 {{.*}} <- {{.*}}bits.npy
// RAW: result 0 'result0': tensor<8xbf16> {{.*}} min=4 max=4
//
// The bf16 result file is float32: an f32 argument accepts it.
// RUN: attnqat-run %s --entry=f32_sum --input 0=%t/axpy.result0.npy \
// RUN:   | FileCheck %s --check-prefix=F32
// F32: input 0 'arg0': tensor<8xf32> shape=(8,) dtype=f32 min=3.01562 max=3.01562 {{.*}} <- {{.*}}axpy.result0.npy
// F32: result 0 'result0': tensor<f32> {{.*}} min=24.125 max=24.125
//
// Generators round through f32 to bf16 as well, and each op rounds:
// 2 * 1 + (1 + 2^-7) = 3 + 2^-7 is a tie between 3 and 3 + 2^-6 -> 3 (even).
// RUN: attnqat-run %s --entry=axpy --input x=const:1.00390625 \
// RUN:   --input y=const:1.0078125 | FileCheck %s --check-prefix=GEN
// GEN: input 0 'x': tensor<8xbf16> {{.*}} min=1 max=1
// GEN: input 1 'y': tensor<8xbf16> {{.*}} min=1.00781 max=1.00781
// GEN: result 0 'result0': tensor<8xbf16> {{.*}} min=3 max=3

#id = affine_map<(i) -> (i)>

func.func @make_f32(%a: tensor<8xf32>, %b: tensor<8xf32>)
    -> (tensor<8xf32> {attnqat.name = "tie"},
        tensor<8xf32> {attnqat.name = "up"}) {
  return %a, %b : tensor<8xf32>, tensor<8xf32>
}

func.func @make_bits(%a: tensor<8xui16>)
    -> (tensor<8xui16> {attnqat.name = "bits"}) {
  return %a : tensor<8xui16>
}

func.func @axpy(%x: tensor<8xbf16> {attnqat.name = "x"},
                %y: tensor<8xbf16> {attnqat.name = "y"}) -> tensor<8xbf16> {
  %e = tensor.empty() : tensor<8xbf16>
  %r = linalg.generic {indexing_maps = [#id, #id, #id],
                       iterator_types = ["parallel"]}
      ins(%x, %y : tensor<8xbf16>, tensor<8xbf16>) outs(%e : tensor<8xbf16>) {
  ^bb0(%a: bf16, %b: bf16, %o: bf16):
    %two = arith.constant 2.0 : bf16
    %m = arith.mulf %a, %two : bf16
    %s = arith.addf %m, %b : bf16
    linalg.yield %s : bf16
  } -> tensor<8xbf16>
  return %r : tensor<8xbf16>
}

func.func @f32_sum(%x: tensor<8xf32>) -> tensor<f32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %r = linalg.reduce ins(%x : tensor<8xf32>) outs(%z : tensor<f32>) dimensions = [0]
    (%a: f32, %b: f32) {
      %s = arith.addf %a, %b : f32
      linalg.yield %s : f32
    }
  return %r : tensor<f32>
}
