// The sm_100a forward on tcgen05 (nvvm.tcgen05.mma.block_scale kind::mxf4nvf4
// from shared memory into tensor memory, scale factors by nvvm.tcgen05.cp,
// S and O read back by nvvm.tcgen05.ld) with warp roles ordered by mbarriers.
// Compile-verified: no sm_100a GPU runs it here.
//
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels="tcgen05-mma=true" | FileCheck %s
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels="tcgen05-mma=true" | FileCheck %s --check-prefix=OPS
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels | FileCheck %s --check-prefix=OFF
// RUN: attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_100a format=isa" | FileCheck %s --check-prefix=PTX
// RUN: %if ptxas %{ attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_100a format=isa" | %python %attnqat_src_root/scripts/ptx-report --chip sm_100a --ptxas %ptxas --only _tcgen05_ | FileCheck %s --check-prefix=PTXAS %}

// The fp4 ops link to the tcgen05 kernels: packed operands, V in t64, ten
// warps, 128 query rows per block, dynamic shared memory; sm_100a only.
// CHECK-DAG: attnqat.attention {{.*}}attnqat.kernel = @attnqat_kernels::@attention_fwd_tcgen05_fp4_pnvfp42_causal_d128_bf16
// CHECK-DAG: gpu.func @attention_fwd_tcgen05_fp4_pnvfp42_causal_d128_bf16({{.*}}attnqat.chips = ["sm_100a"], attnqat.constraints = ["D == 128"], attnqat.extents = {{.*}}v = "B*Hkv*D*ceil(N/64)*32", v_scales = "B*Hkv*D*ceil(N/64)*4"}, attnqat.launch = {block = 320 : i64, dynamic_shared = {{[0-9]+}} : i64, grid = ["ceil(M/128)", "Hq", "B"]}, attnqat.layouts = {v = "t64", v_scales = "t64"}, attnqat.params = ["q", "k", "v", "q_scales", "k_scales", "v_scales", "o", "lse", "m", "l", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// CHECK-DAG: gpu.func @attention_fwd_tcgen05_fp4_pnvfp42_causal_mask11f32_lens_d64_bf16({{.*}}attnqat.params = ["q", "k", "v", "q_scales", "k_scales", "v_scales", "mask", "key_lengths", "o", "lse", "m", "l", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// CHECK-DAG: gpu.func @attention_fwd_tcgen05_fp4_pmxfp41_d64_f32({{.*}}v_scales = "B*Hkv*D*ceil(N/64)*2"
// CHECK-DAG: gpu.func @quantize_nvfp4_bf16_t64(
// qat (from packed operands) also writes O' in BF16; the qat ops keep their
// BF16 tensor-core kernels (their operands are BF16).
// CHECK-DAG: gpu.func @attention_fwd_tcgen05_qat_pnvfp42_causal_d128_bf16({{.*}}attnqat.params = ["q", "k", "v", "q_scales", "k_scales", "v_scales", "o", "o_prime", "lse", "m", "l", "B", "Hq", "Hkv", "M", "N", "D", "scale"]
// CHECK-DAG: gpu.func @attention_fwd_tcgen05_qat_pnvfp42_causal_mask11f32_lens_d64_bf16(
// CHECK-DAG: attnqat.attention {{.*}}attnqat.kernel = @attnqat_kernels::@attention_fwd_tc_qat_pnvfp42_causal_mask11f32_lens_d64_bf16

// The roles' instructions: TMEM allocated by one warp; scales copied
// 32x128b with warpx4 duplication; block-scaled MMAs (block16 = NVFP4's
// 4X, E4M3 scales); commits to mbarriers; S read 64 columns at a time, O 32.
// OPS-LABEL: gpu.func @attention_fwd_tcgen05_fp4_pnvfp42_causal_d128_bf16(
// OPS-NOT: nvvm.mma.sync
// OPS: nvvm.tcgen05.alloc {{.*}}, %{{.*}} : !llvm.ptr<3>, i32
// OPS: nvvm.tcgen05.relinquish_alloc_permit
// OPS: nvvm.mbarrier.try_wait.parity
// OPS: nvvm.tcgen05.cp {{.*}} {multicast = #nvvm.tcgen05_cp_multicast<warpx4>, shape = #nvvm.tcgen05_cp_shape<shape_32x128b>}
// OPS: nvvm.tcgen05.mma.block_scale {{.*}} {blockScale = #nvvm.tcgen05_mma_block_scale<block16>, ctaGroup = #nvvm.cta_group<cta_1>, kind = #nvvm.block_scale_kind<mxf4nvf4>}
// OPS: nvvm.tcgen05.commit
// OPS: nvvm.tcgen05.ld {{.*}} {shape = #nvvm.tcgen05_ldst_shape<shape_32x32b>} : vector<64xi32>
// OPS: nvvm.convert.f32x2.to.f4x2
// OPS: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// OPS: nvvm.tcgen05.st {{.*}} : vector<32xi32>
// OPS: nvvm.tcgen05.dealloc
// OPS-NOT: nvvm.mma.sync
// OPS: gpu.return
// OPS-LABEL: gpu.func @attention_fwd_tcgen05_fp4_pmxfp41_d64_f32(
// OPS: nvvm.tcgen05.mma.block_scale {{.*}}blockScale = #nvvm.tcgen05_mma_block_scale<block32>
// qat: O' = P~ V^F by BF16 MMAs (kind f16) after the block-scaled P^F V.
// OPS-LABEL: gpu.func @attention_fwd_tcgen05_qat_pnvfp42_causal_d128_bf16(
// OPS: nvvm.tcgen05.mma.block_scale
// OPS: nvvm.tcgen05.mma {{.*}} {ctaGroup = #nvvm.cta_group<cta_1>, kind = #nvvm.tcgen05_mma_kind<f16>}

// Without the option nothing of this exists.
// OFF-NOT: _tcgen05_
// OFF-NOT: _t64

// PTX-LABEL: .entry attention_fwd_tcgen05_fp4_pnvfp42_causal_d128_bf16(
// PTX-NOT: mma.sync
// PTX-DAG: tcgen05.alloc.cta_group::1.sync.aligned.shared::cta.b32
// PTX-DAG: tcgen05.cp.cta_group::1.32x128b.warpx4
// PTX-DAG: tcgen05.mma.cta_group::1.kind::mxf4nvf4.block_scale.block16
// PTX-DAG: tcgen05.commit.cta_group::1.mbarrier::arrive::one
// PTX-DAG: tcgen05.ld.sync.aligned.32x32b.x64.b32
// PTX-DAG: cvt.rn.satfinite.e2m1x2.f32
// PTX-NOT: mma.sync
// PTX: .entry attention_fwd_tc_fp4_pnvfp42_causal_d128_bf16(

// ptxas -v for sm_100a: no spills; block-scaled tcgen05 MMAs, no mma.sync.
// PTXAS-DAG: attention_fwd_tcgen05_fp4_pnvfp42_causal_d128_bf16 regs={{[0-9]+}} spill=0 smem={{[0-9]+}} cvt.rn.satfinite.e2m1x2.f32x32 tcgen05.cp.cta_group::1.32x128b.warpx4x{{[0-9]+}} tcgen05.mma.cta_group::1.kind::mxf4nvf4.block_scale.block16.collector::a::discardx{{[0-9]+$}}
// PTXAS-DAG: attention_fwd_tcgen05_fp4_pnvfp42_causal_mask11f32_lens_d64_bf16 regs={{[0-9]+}} spill=0 smem={{[0-9]+}} cvt.rn.satfinite.e2m1x2.f32x32 tcgen05.cp.cta_group::1.32x128b.warpx4x{{[0-9]+}} tcgen05.mma.cta_group::1.kind::mxf4nvf4.block_scale.block16.collector::a::discardx{{[0-9]+$}}
// PTXAS-DAG: attention_fwd_tcgen05_qat_pnvfp42_causal_d128_bf16 regs={{[0-9]+}} spill=0 smem={{[0-9]+}} cvt.rn.satfinite.e2m1x2.f32x32 tcgen05.cp.cta_group::1.32x128b.warpx4x{{[0-9]+}} tcgen05.mma.cta_group::1.kind::f16.collector::a::discardx{{[0-9]+}} tcgen05.mma.cta_group::1.kind::mxf4nvf4.block_scale.block16.collector::a::discardx{{[0-9]+$}}
// PTXAS-DAG: attention_fwd_tcgen05_qat_pnvfp42_causal_mask11f32_lens_d64_bf16 regs={{[0-9]+}} spill=0 smem={{[0-9]+}} cvt.rn.satfinite.e2m1x2.f32x32 tcgen05.cp.cta_group::1.32x128b.warpx4x{{[0-9]+}} tcgen05.mma.cta_group::1.kind::f16.collector::a::discardx{{[0-9]+}} tcgen05.mma.cta_group::1.kind::mxf4nvf4.block_scale.block16.collector::a::discardx{{[0-9]+$}}
// PTXAS-DAG: attention_fwd_tcgen05_fp4_pmxfp41_d64_f32 regs={{[0-9]+}} spill=0 smem={{[0-9]+}} cvt.rn.satfinite.e2m1x2.f32x32 tcgen05.cp.cta_group::1.32x128b.warpx4x{{[0-9]+}} tcgen05.mma.cta_group::1.kind::mxf4nvf4.block_scale.block32.collector::a::discardx{{[0-9]+$}}

func.func @blackwell(%q: tensor<1x4x64x128xf4E2M1FN>, %qs: tensor<1x4x64x8xf8E4M3FN>,
                     %k: tensor<1x2x64x128xf4E2M1FN>, %ks: tensor<1x2x64x8xf8E4M3FN>, %vs: tensor<1x2x4x128xf8E4M3FN>,
                     %q64: tensor<2x4x64x64xf4E2M1FN>, %q64s: tensor<2x4x64x4xf8E4M3FN>,
                     %k64: tensor<2x2x70x64xf4E2M1FN>, %k64s: tensor<2x2x70x4xf8E4M3FN>, %v64s: tensor<2x2x5x64xf8E4M3FN>,
                     %mask: tensor<1x1x64x70xf32>, %lens: tensor<2xi32>,
                     %qm: tensor<1x4x64x64xf4E2M1FN>, %qms: tensor<1x4x64x2xf8E8M0FNU>,
                     %km: tensor<1x2x64x64xf4E2M1FN>, %kms: tensor<1x2x64x2xf8E8M0FNU>, %vms: tensor<1x2x2x64xf8E8M0FNU>,
                     %kb: tensor<2x2x70x64xbf16>, %qb: tensor<2x4x64x64xbf16>,
                     %q128: tensor<1x4x64x128xbf16>, %k128: tensor<1x2x64x128xbf16>)
    -> (tensor<1x4x64x128xbf16>, tensor<2x4x64x64xbf16>, tensor<1x4x64x64xf32>, tensor<2x2x70x64xf4E2M1FN>, tensor<2x2x5x64xf8E4M3FN>,
        tensor<2x4x64x64xbf16>, tensor<1x4x64x128xbf16>) {
  %o1, %l1 = attnqat.attention %q, %k, %k scales(%qs, %ks, %vs) causal {config = #attnqat.config<mode = fp4>}
      : tensor<1x4x64x128xf4E2M1FN>, tensor<1x2x64x128xf4E2M1FN>, tensor<1x2x64x128xf4E2M1FN> scales tensor<1x4x64x8xf8E4M3FN>, tensor<1x2x64x8xf8E4M3FN>, tensor<1x2x4x128xf8E4M3FN>
      -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>
  %o2, %l2 = attnqat.attention %q64, %k64, %k64 scales(%q64s, %k64s, %v64s) mask(%mask) key_lengths(%lens) causal {config = #attnqat.config<mode = fp4>}
      : tensor<2x4x64x64xf4E2M1FN>, tensor<2x2x70x64xf4E2M1FN>, tensor<2x2x70x64xf4E2M1FN> scales tensor<2x4x64x4xf8E4M3FN>, tensor<2x2x70x4xf8E4M3FN>, tensor<2x2x5x64xf8E4M3FN> mask tensor<1x1x64x70xf32> key_lengths tensor<2xi32>
      -> tensor<2x4x64x64xbf16>, tensor<2x4x64xf32>
  %o3, %l3 = attnqat.attention %qm, %km, %km scales(%qms, %kms, %vms) {config = #attnqat.config<mode = fp4, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>}
      : tensor<1x4x64x64xf4E2M1FN>, tensor<1x2x64x64xf4E2M1FN>, tensor<1x2x64x64xf4E2M1FN> scales tensor<1x4x64x2xf8E8M0FNU>, tensor<1x2x64x2xf8E8M0FNU>, tensor<1x2x2x64xf8E8M0FNU>
      -> tensor<1x4x64x64xf32>, tensor<1x4x64xf32>
  %c, %s = attnqat.quantize %kb as #attnqat.nvfp4 along 2 : tensor<2x2x70x64xbf16> -> tensor<2x2x70x64xf4E2M1FN>, tensor<2x2x5x64xf8E4M3FN>
  %o4, %l4 = attnqat.attention %qb, %kb, %kb mask(%mask) key_lengths(%lens) causal {config = #attnqat.config<mode = qat>}
      : tensor<2x4x64x64xbf16>, tensor<2x2x70x64xbf16>, tensor<2x2x70x64xbf16> mask tensor<1x1x64x70xf32> key_lengths tensor<2xi32>
      -> tensor<2x4x64x64xbf16>, tensor<2x4x64xf32>
  %o5, %l5 = attnqat.attention %q128, %k128, %k128 causal {config = #attnqat.config<mode = qat>}
      : tensor<1x4x64x128xbf16>, tensor<1x2x64x128xbf16>, tensor<1x2x64x128xbf16> -> tensor<1x4x64x128xbf16>, tensor<1x4x64xf32>
  return %o1, %o2, %o3, %c, %s, %o4, %o5 : tensor<1x4x64x128xbf16>, tensor<2x4x64x64xbf16>, tensor<1x4x64x64xf32>, tensor<2x2x70x64xf4E2M1FN>, tensor<2x2x5x64xf8E4M3FN>, tensor<2x4x64x64xbf16>, tensor<1x4x64x128xbf16>
}
