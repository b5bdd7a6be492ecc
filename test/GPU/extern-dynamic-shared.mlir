// attnqat-extern-dynamic-shared: the zero-sized shared global that
// gpu.dynamic_shared_memory lowers to becomes an external declaration
// (PTX `.extern .shared ... []`, placed after all static shared memory);
// static shared arrays and other address spaces are left alone.
// RUN: attnqat-opt %s --pass-pipeline="builtin.module(gpu.module(attnqat-extern-dynamic-shared))" | FileCheck %s

// attnqat-compile puts each kernel alone in a module, where NVPTX moves the
// shared globals into the kernel: the backward's static row statistics
// (4 x 64 f32; two stages in the wgmma backward) and its dynamic region
// must still not overlap.
// RUN: rm -rf %t && mkdir -p %t
// RUN: attnqat-compile %S/Inputs/one-backward.mlir --chips=sm_90a -o %t/b.aqa
// RUN: attnqat-artifact extract %t/b.aqa sm_90a/attention_bwd_tc_qat_pnvfp42_causal_d128_bf16 -o %t/tc.ptx
// RUN: FileCheck %s --check-prefix=PTX < %t/tc.ptx
// RUN: attnqat-artifact extract %t/b.aqa sm_90a/attention_bwd_wg_qat_pnvfp42_causal_d128_bf16 -o %t/wg.ptx
// RUN: FileCheck %s --check-prefix=PTX < %t/wg.ptx

// CHECK: llvm.mlir.global external @__dynamic_shmem__0() {addr_space = 3 : i32, alignment = 16 : i64{{.*}}} : !llvm.array<0 x i8>
// CHECK: llvm.mlir.global internal @__wg_k_0() {addr_space = 3 : i32, alignment = 4 : i64{{.*}}} : !llvm.array<192 x f32>
// CHECK: llvm.mlir.global internal constant @table
// PTX: .extern .shared .align 16 .b8 __dynamic_shmem__0[];
// PTX-NOT: __dynamic_shmem__0;
// PTX: .shared .align 4 .b8 __wg_attention_bwd_{{(tc|wg)}}_qat_pnvfp42_causal_d128_bf16_0[{{1024|2048}}];

gpu.module @attnqat_kernels {
  llvm.mlir.global internal @__dynamic_shmem__0() {addr_space = 3 : i32, alignment = 16 : i64, dso_local} : !llvm.array<0 x i8>
  llvm.mlir.global internal @__wg_k_0() {addr_space = 3 : i32, alignment = 4 : i64, dso_local} : !llvm.array<192 x f32>
  llvm.mlir.global internal constant @table(dense<[1, 2]> : tensor<2xi32>) {addr_space = 0 : i32} : !llvm.array<2 x i32>
}
