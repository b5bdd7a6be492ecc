// The sm_90a wgmma forward with `tma-loads`: one producer thread loads Q, K
// and V by TMA (cp.async.bulk.tensor, 3-D boxes of 64 columns, 128-byte
// swizzle) from tensor maps the runtime encodes per launch, passed by value
// as grid constants; each full barrier takes that thread's one arrival with
// the bytes its loads complete.
//
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels="warpgroup-mma=true tma-loads=true" | FileCheck %s
// RUN: attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=isa" > %t.mlir
// RUN: FileCheck %s --check-prefix=PTX < %t.mlir
// RUN: FileCheck %s --check-prefix=PTX-WG < %t.mlir
// RUN: FileCheck %s --check-prefix=PTX-REGS < %t.mlir
// RUN: %if ptxas %{ %python %attnqat_src_root/scripts/ptx-report --chip sm_90a --ptxas %ptxas --only _wg_ < %t.mlir | FileCheck %s --check-prefix=PTXAS %}
// Without the option the wgmma forward takes no tensor map.
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels="warpgroup-mma=true" | FileCheck %s --check-prefix=OFF

// The maps come right before the problem dims; their geometry is
// [B*H][rows][D], a box of 64 columns by the block's query rows (Q: 128 in
// qat at D = 128, 192 with three consumers) or a key tile (K, V).
// CHECK-DAG: gpu.func @attention_fwd_wg_qat_pnvfp42_causal_d128_bf16({{.*}}!llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: index{{.*}}attnqat.params = ["q", "k", "v", "o", "o_prime", "lse", "m", "l", "q_map", "k_map", "v_map", "B", "Hq", "Hkv", "M", "N", "D", "scale"], attnqat.tensor_maps = {k_map = {box = array<i64: 64, 64, 1>, dims = ["D", "N", "B*Hkv"], of = "k", swizzle = 128 : i64}, q_map = {box = array<i64: 64, 128, 1>, dims = ["D", "M", "B*Hq"], of = "q", swizzle = 128 : i64}, v_map = {box = array<i64: 64, 64, 1>, dims = ["D", "N", "B*Hkv"], of = "v", swizzle = 128 : i64}}
// CHECK-DAG: attnqat.tensor_maps = {k_map = {box = array<i64: 64, 64, 1>, dims = ["D", "N", "B*Hkv"], of = "k", swizzle = 128 : i64}, q_map = {box = array<i64: 64, 192, 1>, dims = ["D", "M", "B*Hq"], of = "q", swizzle = 128 : i64}
// The mma.sync forward keeps its cp.async loads and takes no map.
// CHECK-DAG: attnqat.params = ["q", "k", "v", "o", "o_prime", "lse", "m", "l", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// OFF-NOT: tensor_maps
// OFF-NOT: q_map

// PTX: .entry attention_fwd_wg_qat_pnvfp42_causal_d128_bf16(
// PTX: .param .align 64 .b8 attention_fwd_wg_qat_pnvfp42_causal_d128_bf16_param_8[128],
// PTX: .param .align 64 .b8 attention_fwd_wg_qat_pnvfp42_causal_d128_bf16_param_9[128],
// PTX: .param .align 64 .b8 attention_fwd_wg_qat_pnvfp42_causal_d128_bf16_param_10[128]
// The maps are read where they are (no local copy).
// PTX-NOT: .local
// PTX: cvta.param.u64
// Q in two boxes (D = 128), then per key tile K and V in two each.
// PTX: mbarrier.arrive.expect_tx
// PTX-COUNT-2: cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX-NOT: .entry
// PTX: mbarrier.arrive.expect_tx
// PTX-COUNT-4: cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX: .entry attention_fwd_tc_none_d64_bf16(
// PTX: .entry attention_fwd_wg_none_d64_bf16(
// PTX: mbarrier.arrive.expect_tx
// PTX: cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// No cp.async copies in the kernel, and no generic-to-async proxy fence
// before the consumers' wgmma (TMA writes through the async proxy).
// PTX-WG: .entry attention_fwd_wg_qat_pnvfp42_causal_d128_bf16(
// PTX-WG-NOT: cp.async.cg
// PTX-WG-NOT: fence.proxy.async
// PTX-WG: wgmma.mma_async
// PTX-WG-NOT: cp.async.cg
// PTX-WG-NOT: fence.proxy.async
// PTX-WG: .entry attention_fwd_tc_none_d64_bf16(
// The issuing thread needs few registers: the producer warpgroup drops to 24
// and the two consumers take 240 each (three consumers keep 56 and 152).
// PTX-REGS: .entry attention_fwd_wg_qat_pnvfp42_causal_d128_bf16(
// PTX-REGS-DAG: setmaxnreg.dec.sync.aligned.u32 {{[^;]*}}24;
// PTX-REGS-DAG: setmaxnreg.inc.sync.aligned.u32 {{[^;]*}}240;
// PTX-REGS: .entry attention_fwd_tc_none_d64_bf16(
// PTX-REGS: .entry attention_fwd_wg_none_d64_bf16(
// PTX-REGS-DAG: setmaxnreg.dec.sync.aligned.u32 {{[^;]*}}56;
// PTX-REGS-DAG: setmaxnreg.inc.sync.aligned.u32 {{[^;]*}}152;
// PTXAS-DAG: attention_fwd_wg_qat_pnvfp42_causal_d128_bf16 regs=168 spill=0
// PTXAS-DAG: attention_fwd_wg_none_d64_bf16 regs={{[0-9]+}} spill=0

func.func @kernels(%q64: tensor<1x4x64x64xbf16>, %k64: tensor<1x2x64x64xbf16>,
                   %q: tensor<1x4x64x128xbf16>, %k: tensor<1x2x64x128xbf16>)
    -> (tensor<1x4x64x128xbf16>, tensor<1x4x64x64xbf16>) {
  %o1, %l1 = attnqat.attention %q, %k, %k causal {config = #attnqat.config<mode = qat>} : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>
  %o2, %l2 = attnqat.attention %q64, %k64, %k64 {config = #attnqat.config<mode = none>} : tensor<1x4x64x64xbf16>, tensor<1x2x64x64xbf16>, tensor<1x2x64x64xbf16> -> tensor<1x4x64x64xbf16>, tensor<1x4x64xf32>
  return %o1, %o2 : tensor<1x4x64x128xbf16>, tensor<1x4x64x64xbf16>
}
