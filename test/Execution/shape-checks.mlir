// Dynamic extents that the verifier cannot compare are checked where the op
// runs (convert-attnqat-to-loops): a mismatch is an error with a message and
// exit code 1, not a read past the shorter operand (before: a crash, or a
// silent result).
//
// RUN: not attnqat-run %s --entry=train --input q=normal:shape=2x4x15x64 --input k=normal:shape=1x2x15x64 --input v=normal:shape=1x2x15x64 --input do=normal:shape=2x4x15x64 2>&1 | FileCheck %s --check-prefix=BATCH
// BATCH: error: attnqat.attention: the key's batch is 1, the query's 2
// RUN: not attnqat-run %s --entry=train --input q=normal:shape=1x4x15x64 --input k=normal:shape=1x2x15x64 --input v=normal:shape=1x2x16x64 --input do=normal:shape=1x4x15x64 2>&1 | FileCheck %s --check-prefix=KEYS
// KEYS: error: attnqat.attention: the value has 16 keys, the key 15
// RUN: not attnqat-run %s --entry=train --input q=normal:shape=1x4x15x64 --input k=normal:shape=1x2x15x64 --input v=normal:shape=1x2x15x64 --input do=normal:shape=1x4x16x64 2>&1 | FileCheck %s --check-prefix=DO
// DO: error: attnqat.attention_backward: the output gradient has 16 rows, the query 15
// RUN: not attnqat-run %s --entry=masked --input q=normal:shape=1x4x15x64 --input k=normal:shape=1x2x20x64 --input v=normal:shape=1x2x20x64 --input mask=zeros:shape=1x1x15x21 2>&1 | FileCheck %s --check-prefix=MASK
// MASK: error: attnqat.attention: the mask has 21 columns, the key 20 keys
// RUN: not attnqat-run %s --entry=masked_heads --input q=normal:shape=1x4x15x64 --input k=normal:shape=1x2x20x64 --input v=normal:shape=1x2x20x64 --input mask=zeros:shape=1x3x15x20 2>&1 | FileCheck %s --check-prefix=MASKH
// MASKH: error: attnqat.attention: the mask has 3 heads, the query 4
// RUN: not attnqat-run %s --entry=decode --input codes=zeros:shape=4x64 --input scales=zeros:shape=4x3 2>&1 | FileCheck %s --check-prefix=DEQ
// DEQ: error: attnqat.dequantize: dimension 1 of the scales is 3, the codes need 4
// Consistent extents run.
// RUN: attnqat-run %s --entry=train --input q=normal:shape=1x4x15x64 --input k=normal:shape=1x2x15x64 --input v=normal:shape=1x2x15x64 --input do=normal:shape=1x4x15x64 | FileCheck %s --check-prefix=OK
// OK: result 0
//
// The lowering: one check per pair of dynamic extents, none for static ones.
// RUN: attnqat-opt %s --convert-attnqat-to-loops | FileCheck %s --check-prefix=IR
// IR-DAG: llvm.mlir.global internal constant @attnqat_shape_message{{(_[0-9]+)?}}("attnqat.attention: the key's batch is %0, the query's %1\00")
// IR-DAG: func.func private @attnqat_shape_error(!llvm.ptr, i64, i64)
// IR: func.func @static
// IR-NOT: attnqat_shape_error
// IR: return
// IR: func.func @train
// IR: scf.if
// IR: llvm.mlir.addressof @attnqat_shape_message
// IR: call @attnqat_shape_error

!state = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<?x4x?x64xf32>, key = tensor<?x2x?x64xf32>, scale = 0.125 : f32>
func.func @static(%q: tensor<1x4x16x64xf32>, %k: tensor<1x2x16x64xf32>) -> tensor<1x4x16x64xf32> {
  %o, %lse = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = none>} : tensor<1x4x16x64xf32>, tensor<1x2x16x64xf32>, tensor<1x2x16x64xf32> -> tensor<1x4x16x64xf32>, tensor<1x4x16xf32>
  return %o : tensor<1x4x16x64xf32>
}
func.func @train(%q: tensor<?x4x?x64xf32> {attnqat.name = "q"}, %k: tensor<?x2x?x64xf32> {attnqat.name = "k"},
                 %v: tensor<?x2x?x64xf32> {attnqat.name = "v"}, %do: tensor<?x4x?x64xf32> {attnqat.name = "do"})
    -> (tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>) {
  %o, %lse, %st = attnqat.attention %q, %k, %v {config = #attnqat.config<mode = qat>}
      : tensor<?x4x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x4x?x64xf32>, tensor<?x4x?xf32>, !state
  %dq, %dk, %dv = attnqat.attention_backward %st, %do : !state, tensor<?x4x?x64xf32> -> tensor<?x4x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32>
  return %o, %dq : tensor<?x4x?x64xf32>, tensor<?x4x?x64xf32>
}
func.func @masked(%q: tensor<1x4x?x64xf32> {attnqat.name = "q"}, %k: tensor<1x2x?x64xf32> {attnqat.name = "k"},
                  %v: tensor<1x2x?x64xf32> {attnqat.name = "v"}, %m: tensor<1x1x?x?xf32> {attnqat.name = "mask"}) -> tensor<1x4x?x64xf32> {
  %o, %lse = attnqat.attention %q, %k, %v mask(%m) {config = #attnqat.config<mode = none>}
      : tensor<1x4x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32> mask tensor<1x1x?x?xf32> -> tensor<1x4x?x64xf32>, tensor<1x4x?xf32>
  return %o : tensor<1x4x?x64xf32>
}
func.func @masked_heads(%q: tensor<1x4x?x64xf32> {attnqat.name = "q"}, %k: tensor<1x2x?x64xf32> {attnqat.name = "k"},
                        %v: tensor<1x2x?x64xf32> {attnqat.name = "v"}, %m: tensor<1x?x?x?xf32> {attnqat.name = "mask"}) -> tensor<1x4x?x64xf32> {
  %o, %lse = attnqat.attention %q, %k, %v mask(%m) {config = #attnqat.config<mode = none>}
      : tensor<1x4x?x64xf32>, tensor<1x2x?x64xf32>, tensor<1x2x?x64xf32> mask tensor<1x?x?x?xf32> -> tensor<1x4x?x64xf32>, tensor<1x4x?xf32>
  return %o : tensor<1x4x?x64xf32>
}
func.func @decode(%c: tensor<4x?xf4E2M1FN> {attnqat.name = "codes"}, %s: tensor<4x?xf8E4M3FN> {attnqat.name = "scales"}) -> tensor<4x?xf32> {
  %x = attnqat.dequantize %c, %s as #attnqat.nvfp4 along 1 : tensor<4x?xf4E2M1FN>, tensor<4x?xf8E4M3FN> -> tensor<4x?xf32>
  return %x : tensor<4x?xf32>
}
