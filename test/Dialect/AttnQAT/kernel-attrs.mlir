// RUN: attnqat-opt %s -split-input-file -verify-diagnostics | FileCheck %s
// The kernel metadata attributes convert-attnqat-to-gpu-kernels writes and
// attnqat-compile reads: well-formed ones round-trip, malformed ones (as a
// hand-written or edited kernel module can hold) are verifier errors.

// CHECK-LABEL: gpu.module @attnqat_kernels
// CHECK: attnqat.access = {codes = "in"}
// CHECK-SAME: attnqat.align = {codes = 4 : i64}
// CHECK-SAME: attnqat.chips = ["sm_120a"]
// CHECK-SAME: attnqat.constraints = ["D == 64"]
// CHECK-SAME: attnqat.launch = {block = 128 : i64, dynamic_shared = 1024 : i64, grid = ["ceil(M/64)", "Hq", "B"]}
// CHECK-SAME: attnqat.params = ["codes", "k_map", "M"]
// CHECK-SAME: attnqat.tensor_maps = {k_map = {box = array<i64: 64, 64, 1>, dims = ["D", "N", "B*Hkv"], of = "k", swizzle = 128 : i64}}
gpu.module @attnqat_kernels {
  gpu.func @ok(%codes: memref<?xi8>, %map: !llvm.ptr, %m: index) kernel attributes {
      attnqat.params = ["codes", "k_map", "M"],
      attnqat.launch = {block = 128 : i64, grid = ["ceil(M/64)", "Hq", "B"], dynamic_shared = 1024 : i64},
      attnqat.constraints = ["D == 64"], attnqat.chips = ["sm_120a"],
      attnqat.access = {codes = "in"}, attnqat.align = {codes = 4 : i64},
      attnqat.extents = {codes = "B*M"}, attnqat.layouts = {codes = "t64"},
      attnqat.tensor_maps = {k_map = {of = "k", dims = ["D", "N", "B*Hkv"], box = array<i64: 64, 64, 1>, swizzle = 128 : i64}}} {
    gpu.return
  }
}
// CHECK-LABEL: func.func @uses
// CHECK: attnqat.kernel = @attnqat_kernels::@ok
func.func @uses() attributes {attnqat.kernel = @attnqat_kernels::@ok} {
  return
}

// -----

gpu.module @attnqat_kernels {
  // expected-error @+1 {{'attnqat.params' must be an array of strings}}
  gpu.func @k(%a: memref<4xf32>) kernel attributes {attnqat.params = [1]} {
    gpu.return
  }
}

// -----

gpu.module @attnqat_kernels {
  // expected-error @+1 {{'attnqat.params' names 3 parameters, but the function takes 1}}
  gpu.func @k(%a: memref<4xf32>) kernel attributes {attnqat.params = ["q", "k", "v"]} {
    gpu.return
  }
}

// -----

gpu.module @attnqat_kernels {
  // expected-error @+1 {{'attnqat.params' names the role 'q' twice}}
  gpu.func @k(%a: memref<4xf32>, %b: memref<4xf32>) kernel attributes {attnqat.params = ["q", "q"]} {
    gpu.return
  }
}

// -----

gpu.module @attnqat_kernels {
  // expected-error @+1 {{'attnqat.launch' needs 'block', the threads per block as an integer}}
  gpu.func @k(%a: memref<4xf32>) kernel attributes {attnqat.params = ["q"], attnqat.launch = {}} {
    gpu.return
  }
}

// -----

gpu.module @attnqat_kernels {
  // expected-error @+1 {{'attnqat.launch' 'block' must lie in [1, 1024], not 0}}
  gpu.func @k(%a: memref<4xf32>) kernel attributes {attnqat.params = ["q"], attnqat.launch = {block = 0 : i64}} {
    gpu.return
  }
}

// -----

gpu.module @attnqat_kernels {
  // expected-error @+1 {{'attnqat.launch' 'grid' must be an array of strings}}
  gpu.func @k(%a: memref<4xf32>) kernel attributes {attnqat.params = ["q"], attnqat.launch = {block = 128 : i64, grid = [1, 2, 3]}} {
    gpu.return
  }
}

// -----

gpu.module @attnqat_kernels {
  // expected-error @+1 {{'attnqat.launch' 'grid' must hold 3 strings, not 2}}
  gpu.func @k(%a: memref<4xf32>) kernel attributes {attnqat.params = ["q"], attnqat.launch = {block = 128 : i64, grid = ["1", "2"]}} {
    gpu.return
  }
}

// -----

gpu.module @attnqat_kernels {
  // expected-error @+1 {{'attnqat.launch' has an unknown entry 'cluster' (known: block, grid, dynamic_shared)}}
  gpu.func @k(%a: memref<4xf32>) kernel attributes {attnqat.params = ["q"], attnqat.launch = {block = 128 : i64, cluster = 2 : i64}} {
    gpu.return
  }
}

// -----

gpu.module @attnqat_kernels {
  // expected-error @+1 {{'attnqat.constraints' must be an array of strings}}
  gpu.func @k(%a: memref<4xf32>) kernel attributes {attnqat.params = ["q"], attnqat.constraints = [1]} {
    gpu.return
  }
}

// -----

gpu.module @attnqat_kernels {
  // expected-error @+1 {{'attnqat.chips' must not be empty}}
  gpu.func @k(%a: memref<4xf32>) kernel attributes {attnqat.params = ["q"], attnqat.chips = []} {
    gpu.return
  }
}

// -----

gpu.module @attnqat_kernels {
  // expected-error @+1 {{'attnqat.access' entry 'q' must be one of in, out, inout, not 'read'}}
  gpu.func @k(%a: memref<4xf32>) kernel attributes {attnqat.params = ["q"], attnqat.access = {q = "read"}} {
    gpu.return
  }
}

// -----

gpu.module @attnqat_kernels {
  // expected-error @+1 {{'attnqat.align' entry 'q' must be a power of two in [1, 4096] bytes}}
  gpu.func @k(%a: memref<4xf32>) kernel attributes {attnqat.params = ["q"], attnqat.align = {q = 12 : i64}} {
    gpu.return
  }
}

// -----

gpu.module @attnqat_kernels {
  // expected-error @+1 {{'attnqat.extents' entry 'q' must be a string}}
  gpu.func @k(%a: memref<4xf32>) kernel attributes {attnqat.params = ["q"], attnqat.extents = {q = 4 : i64}} {
    gpu.return
  }
}

// -----

gpu.module @m {
  // expected-error @+1 {{'attnqat.tensor_maps' entry 'm' must be a dictionary with of (the role of the tensor it maps)}}
  llvm.func @k(%a: !llvm.ptr) attributes {attnqat.params = ["m"], attnqat.tensor_maps = {m = 1}} {
    llvm.return
  }
}

// -----

gpu.module @m {
  // expected-error @+1 {{'attnqat.tensor_maps' entry 'm' has 3 dims but a box of 2}}
  llvm.func @k(%a: !llvm.ptr) attributes {attnqat.params = ["m"], attnqat.tensor_maps = {m = {of = "k", dims = ["D", "N", "B"], box = array<i64: 64, 64>}}} {
    llvm.return
  }
}

// -----

// expected-error @+1 {{'attnqat.kernel' must be a symbol reference to a kernel}}
func.func @f() attributes {attnqat.kernel = "k"} {
  return
}

// -----

// expected-error @+1 {{'attnqat.kernal' is not an attnqat attribute (known: attnqat.params}}
func.func @g() attributes {attnqat.kernal = @k} {
  return
}
