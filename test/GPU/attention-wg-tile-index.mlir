// The wgmma forward's consumers pick a key tile's K/V stage and phase
// (j mod 3 and j / 3 when pipelined) in 32 bits: the one 64-bit
// multiply-high left in the pipelined qat forward at D = 128 is the
// producer's (64-bit divisions by three cost a consumer some 20 uniform
// instructions per tile in the SASS). With the stage index in 64 bits this
// fails (the consumers add their own).
//
// RUN: attnqat-opt %S/Inputs/one-backward.mlir --attnqat-gpu-kernels-pipeline="chip=sm_90a format=isa" | FileCheck %s

// CHECK: .entry attention_fwd_wg_qat_pnvfp42_causal_d128_bf16(
// CHECK: mul.hi.u64
// CHECK-NOT: mul.hi.u64
// CHECK: .entry attention_bwd_tc_delta_obf16_bf16(
