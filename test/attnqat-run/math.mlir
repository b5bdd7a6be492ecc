// Math functions lower to LLVM intrinsics or libm calls that the JIT
// resolves from the process (exp2f, log2f, tanhf, erff, ...), also on f16
// and bf16 (computed in f32).
//
// RUN: attnqat-run %s --entry=math --input 0=const:0.5 --input 1=const:-1.5 \
// RUN:   --input 2=const:2.25 --input 3=const:2.25 | FileCheck %s
// CHECK: result 0 'exp2': tensor<4xf32> {{.*}} min=1.41421 max=1.41421
// CHECK: result 1 'log2': tensor<4xf32> {{.*}} min=-1 max=-1
// CHECK: result 2 'ceil': tensor<4xf32> {{.*}} min=-1 max=-1
// CHECK: result 3 'floor': tensor<4xf32> {{.*}} min=-2 max=-2
// CHECK: result 4 'tanh': tensor<4xf32> {{.*}} min=0.462117 max=0.462117
// CHECK: result 5 'erf': tensor<4xf32> {{.*}} min=0.5205 max=0.5205
// CHECK: result 6 'log2_neg': tensor<4xf32> {{.*}} nan=4 inf=0
// 2^2.25 = 4.75683 -> f16 4.7578125, bf16 4.75
// CHECK: result 7 'exp2_f16': tensor<4xf16> {{.*}} min=4.75781 max=4.75781
// CHECK: result 8 'exp2_bf16': tensor<4xbf16> {{.*}} min=4.75 max=4.75

#id = affine_map<(i) -> (i)>

func.func @math(%x: tensor<4xf32>, %y: tensor<4xf32>, %h: tensor<4xf16>,
                %b: tensor<4xbf16>)
    -> (tensor<4xf32> {attnqat.name = "exp2"},
        tensor<4xf32> {attnqat.name = "log2"},
        tensor<4xf32> {attnqat.name = "ceil"},
        tensor<4xf32> {attnqat.name = "floor"},
        tensor<4xf32> {attnqat.name = "tanh"},
        tensor<4xf32> {attnqat.name = "erf"},
        tensor<4xf32> {attnqat.name = "log2_neg"},
        tensor<4xf16> {attnqat.name = "exp2_f16"},
        tensor<4xbf16> {attnqat.name = "exp2_bf16"}) {
  %e = tensor.empty() : tensor<4xf32>
  %eh = tensor.empty() : tensor<4xf16>
  %eb = tensor.empty() : tensor<4xbf16>
  %r:9 = linalg.generic {
      indexing_maps = [#id, #id, #id, #id, #id, #id, #id, #id, #id, #id, #id,
                       #id, #id],
      iterator_types = ["parallel"]}
      ins(%x, %y, %h, %b : tensor<4xf32>, tensor<4xf32>, tensor<4xf16>,
                           tensor<4xbf16>)
      outs(%e, %e, %e, %e, %e, %e, %e, %eh, %eb
           : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>,
             tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf16>,
             tensor<4xbf16>) {
  ^bb0(%a: f32, %n: f32, %ah: f16, %ab: bf16, %o0: f32, %o1: f32, %o2: f32,
       %o3: f32, %o4: f32, %o5: f32, %o6: f32, %o7: f16, %o8: bf16):
    %0 = math.exp2 %a : f32
    %1 = math.log2 %a : f32
    %2 = math.ceil %n : f32
    %3 = math.floor %n : f32
    %4 = math.tanh %a : f32
    %5 = math.erf %a : f32
    %6 = math.log2 %n : f32
    %7 = math.exp2 %ah : f16
    %8 = math.exp2 %ab : bf16
    linalg.yield %0, %1, %2, %3, %4, %5, %6, %7, %8
        : f32, f32, f32, f32, f32, f32, f32, f16, bf16
  } -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>,
        tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf16>,
        tensor<4xbf16>)
  return %r#0, %r#1, %r#2, %r#3, %r#4, %r#5, %r#6, %r#7, %r#8
      : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>,
        tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf16>,
        tensor<4xbf16>
}
