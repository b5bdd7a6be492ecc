// The wgmma backward's shared-memory descriptors: each tile's k-steps add
// offset >> 4 to the tile's low word instead of extracting the start field
// from every k-step's address (a bfe.u32 of bits 4..17 per descriptor), and
// the warpgroup's K/V tile offset is broadcast from lane 0, so ptxas keeps
// the descriptors in uniform registers. In the SASS (scripts/sass-loops)
// that took the item loop of the qat backward at D = 128 from 1,573 to
// 1,396 instructions (causal: 2,123 to 1,952). With a descriptor per
// k-step address the first check fails (24 extractions in this kernel);
// without the broadcast, the second.
//
// RUN: attnqat-opt %S/Inputs/one-backward.mlir --attnqat-gpu-kernels-pipeline="chip=sm_90a format=isa" > %t
// RUN: FileCheck %s < %t
// RUN: FileCheck %s --check-prefix=UNIFORM < %t

// CHECK-LABEL: .entry attention_bwd_wg_qat_pnvfp42_causal_d128_bf16(
// A few start fields are still extracted from an address (three
// in this kernel); the rest derive from tile low words.
// CHECK-COUNT-3: bfe.u32 {{[^;]*}}, 4, 14;
// CHECK-NOT: bfe.u32 {{[^;]*}}, 4, 14;
// CHECK: .entry attention_bwd_wg_dq_bf16(

// UNIFORM-LABEL: .entry attention_bwd_wg_qat_pnvfp42_causal_d128_bf16(
// UNIFORM: shfl.sync.idx.b32 {{[^;]*}}, 0, 31, -1;
// UNIFORM: .entry attention_bwd_wg_dq_bf16(
