// The sm_120a forward on block-scaled FP4 MMA (nvvm.mma.block_scale m16n8k64
// kind::mxf4nvf4, ue4m3 scales, scale_vec 4X) and the t64-layout quantize
// kernel it reads V from. Compile-verified: no Blackwell GPU runs it here.
//
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels="block-scaled-mma=true" | FileCheck %s
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels="block-scaled-mma=true" | FileCheck %s --check-prefix=FP4MMA
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels | FileCheck %s --check-prefix=OFF
// RUN: attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_120a format=isa" | FileCheck %s --check-prefix=PTX
// RUN: %if ptxas %{ attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_120a format=isa" | %python %attnqat_src_root/scripts/ptx-report --chip sm_120a --ptxas %ptxas --only _bs_ | FileCheck %s --check-prefix=PTXAS %}

// The fp4 op links to the block-scaled kernel; both read packed operands,
// V (and its scales) in the t64 layout, and only sm_120a gets them.
// CHECK-DAG: attnqat.attention {{.*}}attnqat.kernel = @attnqat_kernels::@attention_fwd_bs_fp4_pnvfp42_causal_d128_bf16
// CHECK-DAG: gpu.func @attention_fwd_bs_fp4_pnvfp42_causal_d128_bf16({{.*}}attnqat.chips = ["sm_120a"], attnqat.constraints = ["D == 128"], attnqat.extents = {{.*}}v = "B*Hkv*D*ceil(N/64)*32", v_scales = "B*Hkv*D*ceil(N/64)*4"}, attnqat.launch = {block = 128 : i64, grid = ["ceil(M/64)", "Hq", "B"]}, attnqat.layouts = {v = "t64", v_scales = "t64"}, attnqat.params = ["q", "k", "v", "q_scales", "k_scales", "v_scales", "o", "lse", "m", "l", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// qat at D = 128: two warps per 16 rows split O and O' by columns (256 threads).
// CHECK-DAG: gpu.func @attention_fwd_bs_qat_pnvfp42_causal_d128_bf16({{.*}}attnqat.launch = {block = 256 : i64, grid = ["ceil(M/64)", "Hq", "B"]}
// CHECK-DAG: gpu.func @attention_fwd_bs_qat_pnvfp42_causal_mask11f32_lens_d64_bf16({{.*}}attnqat.launch = {block = 128 : i64{{.*}}attnqat.params = ["q", "k", "v", "q_scales", "k_scales", "v_scales", "mask", "key_lengths", "o", "o_prime", "lse", "m", "l", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// The qat op keeps its BF16 tensor-core kernel (its operands are BF16).
// CHECK-DAG: attnqat.attention {{.*}}attnqat.kernel = @attnqat_kernels::@attention_fwd_tc_qat_pnvfp42_causal_mask11f32_lens_d64_bf16
// CHECK-DAG: attnqat.quantize {{.*}}attnqat.kernel = @attnqat_kernels::@quantize_nvfp4_bf16}
// CHECK-DAG: gpu.func @quantize_nvfp4_bf16_t64({{.*}}attnqat.extents = {codes = "B*D*ceil(M/64)*32", scales = "B*D*ceil(M/64)*4"}, attnqat.launch = {block = 128 : i64, grid = ["ceil(B*D*4/128)", "ceil(M/64)", "1"]}, attnqat.layouts = {codes = "t64", scales = "t64"}
// MXFP4 (E8M0 scales, blocks of 32): scale_vec 2X, ue8m0; V scales 2 per tile.
// CHECK-DAG: gpu.func @attention_fwd_bs_fp4_pmxfp41_d64_f32({{.*}}v_scales = "B*Hkv*D*ceil(N/64)*2"
// The MMAs and the P codec of the fp4 kernel: S and P.V block-scaled, no BF16 MMA.
// FP4MMA-LABEL: gpu.func @attention_fwd_bs_fp4_pnvfp42_causal_d128_bf16(
// FP4MMA-NOT: nvvm.mma.sync
// FP4MMA: nvvm.mma.block_scale {{.*}}blockScaleFormat = #nvvm.block_scale_format<ue4m3>, kind = #nvvm.block_scale_kind<mxf4nvf4>, multiplicandAPtxType = #nvvm.mma_type<e2m1>, multiplicandBPtxType = #nvvm.mma_type<e2m1>, scaleVecSize = #nvvm.scale_vec_size<x4>, shape = #nvvm.shape<m = 16, n = 8, k = 64>
// FP4MMA-NOT: nvvm.mma.sync
// FP4MMA: nvvm.convert.f32x2.to.f4x2 {{.*}} : i8(f4E2M1FN)
// FP4MMA-NOT: nvvm.mma.sync
// FP4MMA: gpu.return

// Without the option nothing of this exists.
// OFF-NOT: _bs_
// OFF-NOT: _t64

// PTX-LABEL: .entry attention_fwd_bs_fp4_pnvfp42_causal_d128_bf16(
// PTX-NOT: m16n8k16
// PTX: mma.sync.aligned.m16n8k64.row.col.kind::mxf4nvf4.block_scale.scale_vec::4X.f32.e2m1.e2m1.f32.ue4m3
// PTX-NOT: m16n8k16
// PTX-LABEL: .entry attention_fwd_tc_fp4_pnvfp42_causal_d128_bf16(
// PTX-LABEL: .entry attention_fwd_bs_qat_pnvfp42_causal_mask11f32_lens_d64_bf16(
// PTX: mma.sync.aligned.m16n8k64.row.col.kind::mxf4nvf4.block_scale.scale_vec::4X.f32.e2m1.e2m1.f32.ue4m3
// PTX: cvt.rn.satfinite.e2m1x2.f32
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32

// ptxas -v for sm_120a: no spills; per loop 2 x (S: 8 n-tiles x D/64, P.V: D/8)
// block-scaled MMAs, 2 x 16 e2m1x2 converts (P: 64 keys x 16 rows / 32 lanes / 2).
// PTXAS-DAG: attention_fwd_bs_qat_pnvfp42_causal_mask11f32_lens_d64_bf16 regs={{[0-9]+}} spill=0 smem=0 cvt.rn.satfinite.e2m1x2.f32x32 mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32x64 mma.sync.aligned.m16n8k64.row.col.kind::mxf4nvf4.block_scale.scale_vec::4X.f32.e2m1.e2m1.f32.ue4m3x32
// PTXAS-DAG: attention_fwd_bs_qat_pnvfp42_causal_d128_bf16 regs={{[0-9]+}} spill=0 smem=0 cvt.rn.satfinite.e2m1x2.f32x32 mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32x64 mma.sync.aligned.m16n8k64.row.col.kind::mxf4nvf4.block_scale.scale_vec::4X.f32.e2m1.e2m1.f32.ue4m3x48
// PTXAS-DAG: attention_fwd_bs_fp4_pmxfp41_d64_f32 regs={{[0-9]+}} spill=0 smem=0 cvt.rn.satfinite.e2m1x2.f32x32 mma.sync.aligned.m16n8k64.row.col.kind::mxf4nvf4.block_scale.scale_vec::2X.f32.e2m1.e2m1.f32.ue8m0x32{{$}}
// PTXAS-DAG: attention_fwd_bs_fp4_pnvfp42_causal_d128_bf16 regs={{[0-9]+}} spill=0 smem=0 cvt.rn.satfinite.e2m1x2.f32x32 mma.sync.aligned.m16n8k64.row.col.kind::mxf4nvf4.block_scale.scale_vec::4X.f32.e2m1.e2m1.f32.ue4m3x64{{$}}

func.func @blackwell(%q: tensor<1x4x64x128xf4E2M1FN>, %qs: tensor<1x4x64x8xf8E4M3FN>,
                     %k: tensor<1x2x64x128xf4E2M1FN>, %ks: tensor<1x2x64x8xf8E4M3FN>, %vs: tensor<1x2x4x128xf8E4M3FN>,
                     %qb: tensor<2x4x64x64xbf16>, %kb: tensor<2x2x70x64xbf16>, %mask: tensor<1x1x64x70xf32>, %lens: tensor<2xi32>,
                     %q128: tensor<1x4x64x128xbf16>, %k128: tensor<1x2x64x128xbf16>,
                     %qm: tensor<1x4x64x64xf4E2M1FN>, %qms: tensor<1x4x64x2xf8E8M0FNU>,
                     %km: tensor<1x2x64x64xf4E2M1FN>, %kms: tensor<1x2x64x2xf8E8M0FNU>, %vms: tensor<1x2x2x64xf8E8M0FNU>)
    -> (tensor<1x4x64x128xbf16>, tensor<2x4x64x64xbf16>, tensor<2x2x70x64xf4E2M1FN>, tensor<2x2x5x64xf8E4M3FN>, tensor<1x4x64x128xbf16>, tensor<1x4x64x64xf32>) {
  %o1, %l1 = attnqat.attention %q, %k, %k scales(%qs, %ks, %vs) causal {config = #attnqat.config<mode = fp4>}
      : tensor<1x4x64x128xf4E2M1FN>, tensor<1x2x64x128xf4E2M1FN>, tensor<1x2x64x128xf4E2M1FN> scales tensor<1x4x64x8xf8E4M3FN>, tensor<1x2x64x8xf8E4M3FN>, tensor<1x2x4x128xf8E4M3FN>
      -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>
  %o2, %l2 = attnqat.attention %qb, %kb, %kb mask(%mask) key_lengths(%lens) causal {config = #attnqat.config<mode = qat>}
      : tensor<2x4x64x64xbf16>, tensor<2x2x70x64xbf16>, tensor<2x2x70x64xbf16> mask tensor<1x1x64x70xf32> key_lengths tensor<2xi32>
      -> tensor<2x4x64x64xbf16>, tensor<2x4x64xf32>
  %c, %s = attnqat.quantize %kb as #attnqat.nvfp4 along 2 : tensor<2x2x70x64xbf16> -> tensor<2x2x70x64xf4E2M1FN>, tensor<2x2x5x64xf8E4M3FN>
  %o3, %l3 = attnqat.attention %q128, %k128, %k128 causal {config = #attnqat.config<mode = qat>}
      : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>
  %o4, %l4 = attnqat.attention %qm, %km, %km scales(%qms, %kms, %vms) {config = #attnqat.config<mode = fp4, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>}
      : tensor<1x4x64x64xf4E2M1FN>, tensor<1x2x64x64xf4E2M1FN>, tensor<1x2x64x64xf4E2M1FN> scales tensor<1x4x64x2xf8E8M0FNU>, tensor<1x2x64x2xf8E8M0FNU>, tensor<1x2x2x64xf8E8M0FNU>
      -> tensor<1x4x64x64xf32>, tensor<1x4x64xf32>
  return %o1, %o2, %c, %s, %o3, %o4 : tensor<1x4x64x128xbf16>, tensor<2x4x64x64xbf16>, tensor<2x2x70x64xf4E2M1FN>, tensor<2x2x5x64xf8E4M3FN>, tensor<1x4x64x128xbf16>, tensor<1x4x64x64xf32>
}
