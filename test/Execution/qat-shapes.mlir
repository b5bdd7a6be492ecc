// QAT forward + backward on the CPU path against the float64 reference, over
// lengths that are not multiples of the block (16/32) or tile (64) sizes,
// GQA (4 query heads on 2 KV heads) and cross-attention (M != N).
//
// Tolerance 1e-4 of max|ref|: the lowering accumulates in f32 over at most
// 130 keys and D = 64 (relative rounding ~1e-6, measured max ~1e-6), and a P
// code can flip only when a one-ulp difference between the f32 exp2 and the
// reference's float64 exp2 lands on an E2M1 rounding boundary, which moves
// one O element by a P grid step times |V| / l; a tolerance of 1e-4 admits
// neither a wrong quantization rule nor a wrong frame.
//
// RUN: attnqat-run %s --entry=qat --input q=normal:shape=1x4x1x64 --input k=normal:shape=1x2x1x64 --input v=normal:shape=1x2x1x64 --input do=normal:shape=1x4x1x64 --reference --reference-tolerance=1e-4 | FileCheck %s
// RUN: attnqat-run %s --entry=qat --input q=normal:shape=2x4x15x64 --input k=normal:shape=2x2x15x64 --input v=normal:shape=2x2x15x64 --input do=normal:shape=2x4x15x64 --reference --reference-tolerance=1e-4 | FileCheck %s
// RUN: attnqat-run %s --entry=qat --input q=normal:shape=1x4x16x64 --input k=normal:shape=1x2x16x64 --input v=normal:shape=1x2x16x64 --input do=normal:shape=1x4x16x64 --reference --reference-tolerance=1e-4 | FileCheck %s
// RUN: attnqat-run %s --entry=qat --input q=normal:shape=1x4x17x64 --input k=normal:shape=1x2x17x64 --input v=normal:shape=1x2x17x64 --input do=normal:shape=1x4x17x64 --reference --reference-tolerance=1e-4 | FileCheck %s
// RUN: attnqat-run %s --entry=qat --input q=normal:shape=1x4x130x64 --input k=normal:shape=1x2x130x64 --input v=normal:shape=1x2x130x64 --input do=normal:shape=1x4x130x64 --reference --reference-tolerance=1e-4 | FileCheck %s
// RUN: attnqat-run %s --entry=qat --input q=normal:shape=1x4x17x64 --input k=normal:shape=1x2x130x64 --input v=normal:shape=1x2x130x64 --input do=normal:shape=1x4x17x64 --reference --reference-tolerance=1e-4 | FileCheck %s
// RUN: attnqat-run %s --entry=qat --input q=normal:shape=1x4x130x64 --input k=normal:shape=1x2x15x64 --input v=normal:shape=1x2x15x64 --input do=normal:shape=1x4x130x64 --reference --reference-tolerance=1e-4 | FileCheck %s
// Peaked rows (std 3) and outliers exercise frame changes across tiles.
// RUN: attnqat-run %s --entry=qat --input q=normal:std=3,outliers=0.01,shape=1x4x130x64 --input k=normal:shape=1x2x130x64 --input v=normal:shape=1x2x130x64 --input do=normal:shape=1x4x130x64 --reference --reference-tolerance=1e-4 | FileCheck %s

// CHECK: matched recomputation:
// CHECK: rowsum(dS): {{.*}}~0 as rule 2 requires
// CHECK-DAG: (O): {{.*}} PASS
// CHECK-DAG: (LSE): {{.*}} PASS
// CHECK-DAG: (dQ): {{.*}} PASS
// CHECK-DAG: (dK): {{.*}} PASS
// CHECK-DAG: (dV): {{.*}} PASS

!state = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<?x4x?x64xf32>, key = tensor<?x2x?x64xf32>, scale = 0.125 : f32>
func.func @qat(%q: tensor<?x4x?x64xf32> {attnqat.name = "q"}, %k: tensor<?x2x?x64xf32> {attnqat.name = "k"},
               %v: tensor<?x2x?x64xf32> {attnqat.name = "v"}, %do: tensor<?x4x?x64xf32> {attnqat.name = "do"})
    -> (tensor<?x4x?x64xf32>, tensor<?x4x?xf32>, tensor<?x4x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32>) {
  %o, %lse, %st = attnqat.attention %q, %k, %v {config = #attnqat.config<mode = qat>}
      : tensor<?x4x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x4x?x64xf32>, tensor<?x4x?xf32>, !state
  %dq, %dk, %dv = attnqat.attention_backward %st, %do : !state, tensor<?x4x?x64xf32> -> tensor<?x4x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32>
  return %o, %lse, %dq, %dk, %dv : tensor<?x4x?x64xf32>, tensor<?x4x?xf32>, tensor<?x4x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32>
}
