// attnqat-tensor-map-params: the kernel parameters a generator listed in
// attnqat.tensor_maps become 128-byte by-value grid constants, 64-byte
// aligned; the others are left alone.
// RUN: attnqat-opt %s --split-input-file --verify-diagnostics --pass-pipeline="builtin.module(gpu.module(attnqat-tensor-map-params))" | FileCheck %s

// CHECK-LABEL: llvm.func @loads
// CHECK-SAME: %{{.*}}: !llvm.ptr,
// CHECK-SAME: %{{.*}}: !llvm.ptr {llvm.align = 64 : i64, llvm.byval = !llvm.array<128 x i8>, nvvm.grid_constant},
// CHECK-SAME: %{{.*}}: i64)
gpu.module @attnqat_kernels {
  llvm.func @loads(%k: !llvm.ptr, %k_map: !llvm.ptr, %n: i64)
      attributes {nvvm.kernel, attnqat.params = ["k", "k_map", "N"],
                  attnqat.tensor_maps = {k_map = {of = "k"}}} {
    llvm.return
  }
}

// -----

gpu.module @attnqat_kernels {
  // expected-error @+1 {{tensor map 'N' is not a pointer parameter}}
  llvm.func @scalar(%k: !llvm.ptr, %n: i64)
      attributes {nvvm.kernel, attnqat.params = ["k", "N"], attnqat.tensor_maps = {N = {of = "k"}}} {
    llvm.return
  }
}

// -----

gpu.module @attnqat_kernels {
  // expected-error @+1 {{attnqat.tensor_maps names a role that is not a parameter}}
  llvm.func @missing(%k: !llvm.ptr)
      attributes {nvvm.kernel, attnqat.params = ["k"], attnqat.tensor_maps = {v_map = {of = "v"}}} {
    llvm.return
  }
}

// -----

gpu.module @attnqat_kernels {
  // expected-error @+1 {{attnqat.tensor_maps needs attnqat.params naming every parameter}}
  llvm.func @unnamed(%k: !llvm.ptr) attributes {nvvm.kernel, attnqat.tensor_maps = {k_map = {of = "k"}}} {
    llvm.return
  }
}
