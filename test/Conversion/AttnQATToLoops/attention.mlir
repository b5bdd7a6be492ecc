// RUN: attnqat-opt %s --convert-attnqat-to-loops="key-tile=32 query-tile=8" --split-input-file --canonicalize --cse | FileCheck %s
// RUN: attnqat-opt %s --convert-attnqat-to-loops --split-input-file --canonicalize --cse | FileCheck %s --check-prefix=TILE64

// The forward: query tiles, key tiles with an integer running max (ceil),
// P~ from exp2 of the fraction times 2^(floor s - m), P quantized in the tile.
// Without a state (no backward), mode qat accumulates O alone: O' is only
// the backward's D term (@train below has it).
// CHECK-LABEL: func @forward_qat
// CHECK: scf.for %{{.*}} = %{{.*}} to %c17 step %c8
// CHECK: scf.for %{{.*}} = %{{.*}} to %c130 step %c32 iter_args(%[[M:.*]] = %{{.*}}, %[[L:.*]] = %{{.*}}) -> (f32, f32)
// CHECK:   math.ceil
// CHECK:   math.floor
// CHECK:   math.exp2
// CHECK:   math.exp2
// CHECK:   math.copysign
// CHECK:   scf.for {{.*}} iter_args(%[[ACC:[^ ]*]] = {{[^,]*}}) -> (f32)
// CHECK:     math.fma {{.*}}, %[[ACC]] : f32
// CHECK-NOT: math.fma
// CHECK:     scf.yield
// CHECK: math.log2
// TILE64-LABEL: func @forward_qat
// TILE64: scf.for %{{.*}} = %{{.*}} to %c130 step %c64 iter_args
func.func @forward_qat(%q: tensor<1x2x17x64xf32>, %k: tensor<1x1x130x64xf32>) -> (tensor<1x2x17x64xf32>, tensor<1x2x17xf32>) {
  %o, %lse = attnqat.attention %q, %k, %k causal {config = #attnqat.config<mode = qat>} : tensor<1x2x17x64xf32>, tensor<1x1x130x64xf32>, tensor<1x1x130x64xf32> -> tensor<1x2x17x64xf32>, tensor<1x2x17xf32>
  return %o, %lse : tensor<1x2x17x64xf32>, tensor<1x2x17xf32>
}

// -----

// Mode none quantizes nothing.
// CHECK-LABEL: func @forward_none
// CHECK-NOT: math.copysign
// CHECK: return
func.func @forward_none(%q: tensor<1x1x16x64xf32>) -> tensor<1x1x16x64xf32> {
  %o, %lse = attnqat.attention %q, %q, %q {config = #attnqat.config<mode = none>} : tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32> -> tensor<1x1x16x64xf32>, tensor<1x1x16xf32>
  return %o : tensor<1x1x16x64xf32>
}

// -----

// The backward reuses the forward's buffers: no second quantization of Q, K
// or V, only of the recomputed P. The forward whose state the backward reads
// accumulates O' = P~ V^F next to O.
// CHECK-LABEL: func @train
// CHECK-NOT: attnqat.
// CHECK: scf.for {{.*}} iter_args(%[[O:[^ ]*]] = {{.*}}, %[[OP:[^ ]*]] = {{.*}}) -> (f32, f32)
// CHECK: math.fma {{.*}}, %[[O]] : f32
// CHECK: math.fma {{.*}}, %[[OP]] : f32
// CHECK: return
!st = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x16x64xf32>, key = tensor<1x1x16x64xf32>, scale = 1.250000e-01 : f32>
func.func @train(%q: tensor<1x1x16x64xf32>, %do: tensor<1x1x16x64xf32>) -> tensor<1x1x16x64xf32> {
  %o, %lse, %s = attnqat.attention %q, %q, %q {config = #attnqat.config<mode = qat>} : tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32> -> tensor<1x1x16x64xf32>, tensor<1x1x16xf32>, !st
  %dq, %dk, %dv = attnqat.attention_backward %s, %do : !st, tensor<1x1x16x64xf32> -> tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>
  return %dq : tensor<1x1x16x64xf32>
}
