// --print-ir-after-lowering prints the LLVM-dialect module the JIT compiles:
// the entry gets its C-interface wrapper; attnqat.* argument annotations are
// gone.
//
// RUN: attnqat-run %s --entry=add --random-missing --print-ir-after-lowering \
// RUN:   | FileCheck %s
// CHECK-NOT: attnqat.name
// CHECK: llvm.func @add(
// CHECK: llvm.func @_mlir_ciface_add(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr) attributes {llvm.emit_c_interface}
// CHECK: entry @add (2 inputs, 1 results)
// CHECK: input 0 'lhs'

func.func @add(%a: tensor<8xf32> {attnqat.name = "lhs"},
               %b: tensor<8xf32> {attnqat.name = "rhs"}) -> tensor<8xf32> {
  %r = arith.addf %a, %b : tensor<8xf32>
  return %r : tensor<8xf32>
}
