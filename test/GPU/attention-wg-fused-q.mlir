// The fused-Q variant of the sm_90a wgmma qat forward (`fused-q-quant`):
// Q arrives raw by TMA; each consumer warpgroup fake-quantizes its 64 rows
// in shared memory (the Q format's blocks along D, FP4Arith as fake_quant
// computes them), writes them to `q_fq` in 16-byte chunks for the
// backward, and makes its stores visible to wgmma (proxy fence, named
// barrier of its 128 threads) before the first product. Only the
// two-consumer kernels (qat at D = 128) get it: the persistent three-consumer
// ones have no registers for it (ptxas spilled in half of them).
//
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels="warpgroup-mma=true tma-loads=true fused-q-quant=true" > %t.gen.mlir
// RUN: FileCheck %s < %t.gen.mlir
// RUN: FileCheck %s --check-prefix=ONLY < %t.gen.mlir
// RUN: attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=isa fused-q-quant=true" > %t.mlir
// RUN: FileCheck %s --check-prefix=PTX < %t.mlir
// RUN: %if ptxas %{ %python %attnqat_src_root/scripts/ptx-report --chip sm_90a --ptxas %ptxas --only _qfq < %t.mlir | FileCheck %s --check-prefix=PTXAS %}
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels="warpgroup-mma=true tma-loads=true" | FileCheck %s --check-prefix=OFF

// CHECK-DAG: gpu.func @attention_fwd_wg_qat_pnvfp42_d128_bf16_qfq({{.*}}attnqat.access = {q_fq = "out"}, attnqat.align = {k = 16 : i64, q = 16 : i64, q_fq = 16 : i64, v = 16 : i64}{{.*}}attnqat.params = ["q", "k", "v", "o", "o_prime", "lse", "m", "l", "q_map", "k_map", "v_map", "q_fq", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// CHECK-DAG: gpu.func @attention_fwd_wg_qat_pmxfp41_causal_d128_bf16_qfq(
// The unfused kernels stay, and the ops link to them.
// CHECK-DAG: attnqat.kernel = @attnqat_kernels::@attention_fwd_wg_qat_pnvfp42_d128_bf16,
// CHECK-DAG: gpu.func @attention_fwd_wg_qat_pnvfp42_d128_bf16(
// No variant for qat at D = 64 or dropin (three consumers).
// ONLY-NOT: d64_bf16_qfq
// ONLY-NOT: dropin_pnvfp42_d128_bf16_qfq
// OFF-NOT: _qfq

// The raw Q's blocks in, Q^F out to shared memory and to q_fq, then the
// generic-to-async proxy fence and the warpgroup's barrier (1 + c, 128
// threads) before the first S.
// PTX-LABEL: .entry attention_fwd_wg_qat_pnvfp42_d128_bf16_qfq(
// PTX: ld.shared.v4
// PTX: st.shared.v4
// PTX: st.global.v4
// PTX: fence.proxy.async.shared::cta
// PTX: bar.sync {{\\09}}%r{{[0-9]+}}, 128;
// PTX: wgmma.mma_async
// PTXAS-DAG: attention_fwd_wg_qat_pnvfp42_d128_bf16_qfq regs=168 spill=0
// PTXAS-DAG: attention_fwd_wg_qat_pmxfp41_causal_d128_bf16_qfq regs=168 spill=0

func.func @kernels(%q64: tensor<1x4x64x64xbf16>, %k64: tensor<1x2x64x64xbf16>,
                   %q: tensor<1x4x64x128xbf16>, %k: tensor<1x2x64x128xbf16>)
    -> (tensor<1x4x64x128xbf16>, tensor<1x4x64x128xbf16>, tensor<1x4x64x64xbf16>, tensor<1x4x64x128xbf16>) {
  %o1, %l1 = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = qat>} : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>
  %o2, %l2 = attnqat.attention %q, %k, %k causal {config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>
  %o3, %l3 = attnqat.attention %q64, %k64, %k64 {config = #attnqat.config<mode = qat>} : tensor<1x4x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x4x64x64xbf16>, tensor<1x4x64xf32>
  %o4, %l4 = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = dropin>} : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>
  return %o1, %o2, %o3, %o4 : tensor<1x4x64x128xbf16>, tensor<1x4x64x128xbf16>, tensor<1x4x64x64xbf16>, tensor<1x4x64x128xbf16>
}
