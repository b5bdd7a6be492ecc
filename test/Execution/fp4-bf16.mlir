// Mode fp4 (inference on pre-quantized codes and scales) and a bf16 QAT
// training step, against the float64 reference.
//
// RUN: attnqat-run %s --entry=fp4 --input q=normal:std=3 --input qs=uniform:lo=0.01,hi=1 --input k=normal:std=3 --input ks=uniform:lo=0.01,hi=1 --input v=normal:std=3 --input vs=uniform:lo=0.01,hi=1 --reference --reference-tolerance=1e-4 | FileCheck %s --check-prefix=FP4
// bf16 results carry bf16 rounding (half an ulp is 2^-8 of the binade top): tolerance 5e-3.
// RUN: attnqat-run %s --entry=bf16 --random-missing --reference --reference-tolerance=5e-3 | FileCheck %s --check-prefix=BF16

// FP4-DAG: (O): {{.*}} PASS
// FP4-DAG: (LSE): {{.*}} PASS
// BF16-DAG: (O): {{.*}} PASS
// BF16-DAG: (dQ): {{.*}} PASS
// BF16-DAG: (dK): {{.*}} PASS
// BF16-DAG: (dV): {{.*}} PASS

func.func @fp4(%q: tensor<1x2x33x64xf4E2M1FN> {attnqat.name = "q"}, %qs: tensor<1x2x33x2xf8E8M0FNU> {attnqat.name = "qs"},
               %k: tensor<1x2x40x64xf4E2M1FN> {attnqat.name = "k"}, %ks: tensor<1x2x40x4xf8E4M3FN> {attnqat.name = "ks"},
               %v: tensor<1x2x40x64xf4E2M1FN> {attnqat.name = "v"}, %vs: tensor<1x2x3x64xf8E4M3FN> {attnqat.name = "vs"})
    -> (tensor<1x2x33x64xf32>, tensor<1x2x33xf32>) {
  %o, %lse = attnqat.attention %q, %k, %v scales(%qs, %ks, %vs) {config = #attnqat.config<mode = fp4, q = #attnqat.mxfp4>}
      : tensor<1x2x33x64xf4E2M1FN>, tensor<1x2x40x64xf4E2M1FN>, tensor<1x2x40x64xf4E2M1FN> scales tensor<1x2x33x2xf8E8M0FNU>, tensor<1x2x40x4xf8E4M3FN>, tensor<1x2x3x64xf8E4M3FN>
      -> tensor<1x2x33x64xf32>, tensor<1x2x33xf32>
  return %o, %lse : tensor<1x2x33x64xf32>, tensor<1x2x33xf32>
}

!st = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x4x50x64xbf16>, key = tensor<1x4x50x64xbf16>, scale = 0.125 : f32, causal = true>
func.func @bf16(%q: tensor<1x4x50x64xbf16>, %k: tensor<1x4x50x64xbf16>, %v: tensor<1x4x50x64xbf16>, %do: tensor<1x4x50x64xbf16>)
    -> (tensor<1x4x50x64xbf16>, tensor<1x4x50x64xbf16>, tensor<1x4x50x64xbf16>, tensor<1x4x50x64xbf16>) {
  %o, %lse, %s = attnqat.attention %q, %k, %v causal {config = #attnqat.config<mode = qat>} : tensor<1x4x50x64xbf16>, tensor<1x4x50x64xbf16>, tensor<1x4x50x64xbf16> -> tensor<1x4x50x64xbf16>, tensor<1x4x50xf32>, !st
  %dq, %dk, %dv = attnqat.attention_backward %s, %do : !st, tensor<1x4x50x64xbf16> -> tensor<1x4x50x64xbf16>, tensor<1x4x50x64xbf16>, tensor<1x4x50x64xbf16>
  return %o, %dq, %dk, %dv : tensor<1x4x50x64xbf16>, tensor<1x4x50x64xbf16>, tensor<1x4x50x64xbf16>, tensor<1x4x50x64xbf16>
}
