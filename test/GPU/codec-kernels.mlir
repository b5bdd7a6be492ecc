// GPU kernels for the codec ops: generated once per (op, element type,
// format, global scale), sizes at launch. Also the source of the device
// test's artifact (runtime/test/CMakeLists.txt, scripts/gpu-test).
//
// RUN: attnqat-opt %s --convert-attnqat-to-gpu-kernels | FileCheck %s
// RUN: attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=isa" | FileCheck %s --check-prefix=PTX90
// RUN: attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_120a format=isa" | FileCheck %s --check-prefix=PTX120
// ptxas accepts the PTX for every chip (gpu-module-to-binary runs it).
// RUN: %if ptxas %{ attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_90a format=bin" | FileCheck %s --check-prefix=BIN %}
// RUN: %if ptxas %{ attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_100a format=bin" | FileCheck %s --check-prefix=BIN %}
// RUN: %if ptxas %{ attnqat-opt %s --attnqat-gpu-kernels-pipeline="chip=sm_120a format=bin" | FileCheck %s --check-prefix=BIN %}

// Two quantizes of one kind share a kernel; the host ops name it.
// CHECK: attnqat.quantize {{.*}}{attnqat.kernel = @attnqat_kernels::@quantize_nvfp4_bf16}
// CHECK: attnqat.quantize {{.*}}{attnqat.kernel = @attnqat_kernels::@quantize_nvfp4_bf16}
// CHECK: attnqat.quantize {{.*}}{attnqat.kernel = @attnqat_kernels::@quantize_mxfp4_bf16}
// CHECK: attnqat.quantize {{.*}}{attnqat.kernel = @attnqat_kernels::@quantize_nvfp4_g3F000000_f32}
// CHECK: attnqat.fake_quant {{.*}}{attnqat.kernel = @attnqat_kernels::@fake_quant_nvfp4_bf16}
// CHECK: attnqat.fake_quant {{.*}}{attnqat.kernel = @attnqat_kernels::@fake_quant_mxfp4_f32}
// CHECK: attnqat.dequantize {{.*}}{attnqat.kernel = @attnqat_kernels::@dequantize_nvfp4_bf16}
// CHECK: attnqat.dequantize {{.*}}{attnqat.kernel = @attnqat_kernels::@dequantize_mxfp4_f32}
// CHECK: gpu.module @attnqat_kernels
// CHECK: gpu.func @quantize_nvfp4_bf16(%{{.*}}: memref<1099511627776xbf16>, %{{.*}}: memref<1099511627776xi8>, %{{.*}}: memref<1099511627776xi8>, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index) kernel
// CHECK-SAME: attnqat.params = ["input", "codes", "scales", "outer", "axis", "inner"]
// CHECK-NOT: arith.truncf {{.*}} to f4E2M1FN
// CHECK: math.copysign
// CHECK: gpu.func @quantize_mxfp4_bf16
// CHECK: gpu.func @quantize_nvfp4_g3F000000_f32
// CHECK: gpu.func @fake_quant_nvfp4_bf16
// CHECK: gpu.func @fake_quant_mxfp4_f32
// CHECK-SAME: attnqat.params = ["input", "output", "outer", "axis", "inner"]
// Dequantize reads codes and scales (rows layout) and writes the values.
// CHECK: gpu.func @dequantize_nvfp4_bf16(%{{.*}}: memref<1099511627776xi8>, %{{.*}}: memref<1099511627776xi8>, %{{.*}}: memref<1099511627776xbf16>, %{{.*}}: index, %{{.*}}: index, %{{.*}}: index) kernel
// CHECK-SAME: attnqat.access = {codes = "in", scales = "in"}
// CHECK-SAME: attnqat.params = ["codes", "scales", "output", "outer", "axis", "inner"]
// CHECK: gpu.func @dequantize_mxfp4_f32

// FP4 rounding is software (round-to-nearest-even on a grid by one float
// addition and its undoing, as two FMAs of the exponent's power of two): no
// cvt to e2m1, and no cvt.rni either.
// PTX90: gpu.binary @attnqat_kernels
// PTX90-SAME: .target sm_90a
// PTX90-SAME: .entry quantize_nvfp4_bf16(
// PTX90-SAME: fma.rn.f32 {{[^;]*}}, 0f4A800000,
// PTX90-SAME: fma.rn.f32 {{[^;]*}}, 0fCA800000,
// PTX90-SAME: max.NaN.f32
// Three paths, chosen at launch: blocks along a contiguous axis (inner == 1,
// whole blocks, aligned arrays) by two lanes per block of 16 BF16 (16-byte
// loads, the amax by one shuffle, 4 code bytes per lane); the strided path
// (element by element); blocks along a strided axis by 8 adjacent columns
// per lane (16-byte rows, 8 code bytes per row pair).
// PTX90-SAME: ld.global.v4.b32
// PTX90-SAME: shfl.sync.bfly.b32
// PTX90-SAME: st.global.b32
// PTX90-SAME: ld.global.b16
// PTX90-SAME: ld.global.v4.b32
// PTX90-SAME: st.global.v2.b32
// fake_quant's strided-axis path splits each unit between a lane pair (8
// rows each, the amax met by a shuffle).
// PTX90-SAME: .entry fake_quant_nvfp4_bf16(
// PTX90-SAME: ld.global.v4.b32
// PTX90-SAME: shfl.sync.bfly.b32
// PTX90-SAME: st.global.v4.b32
// PTX90-SAME: ld.global.b16
// PTX90-SAME: ld.global.v4.b32
// PTX90-NOT: .entry
// PTX90-SAME: shfl.sync.bfly.b32
// PTX90-NOT: .entry
// PTX90-SAME: st.global.v4.b32
// PTX90-NOT: cvt.rni.f32.f32
// PTX90-NOT: e2m1x2
// PTX120: .target sm_120a
// BIN: gpu.binary @attnqat_kernels [#gpu.object<#nvvm.target<chip = "{{sm_90a|sm_100a|sm_120a}}"

func.func @codecs(%q: tensor<2x8x64x128xbf16>, %k: tensor<2x8x37x64xbf16>, %x: tensor<4x96xf32>)
    -> (tensor<2x8x64x128xf4E2M1FN>, tensor<2x8x64x8xf8E4M3FN>, tensor<2x8x37x64xf4E2M1FN>, tensor<2x8x37x4xf8E4M3FN>,
        tensor<2x8x37x64xf4E2M1FN>, tensor<2x8x2x64xf8E8M0FNU>, tensor<4x96xf4E2M1FN>, tensor<4x6xf8E4M3FN>,
        tensor<2x8x64x128xbf16>, tensor<4x96xf32>, tensor<2x8x64x128xbf16>, tensor<2x8x37x64xf32>) {
  %qc, %qs = attnqat.quantize %q as #attnqat.nvfp4 along 3 : tensor<2x8x64x128xbf16> -> tensor<2x8x64x128xf4E2M1FN>, tensor<2x8x64x8xf8E4M3FN>
  %kc, %ks = attnqat.quantize %k as #attnqat.nvfp4 along 3 : tensor<2x8x37x64xbf16> -> tensor<2x8x37x64xf4E2M1FN>, tensor<2x8x37x4xf8E4M3FN>
  %vc, %vs = attnqat.quantize %k as #attnqat.mxfp4 along 2 : tensor<2x8x37x64xbf16> -> tensor<2x8x37x64xf4E2M1FN>, tensor<2x8x2x64xf8E8M0FNU>
  %xc, %xs = attnqat.quantize %x as #attnqat.nvfp4<global_scale = 0.5 : f32> along 1 : tensor<4x96xf32> -> tensor<4x96xf4E2M1FN>, tensor<4x6xf8E4M3FN>
  %qf = attnqat.fake_quant %q as #attnqat.nvfp4 along 2 : tensor<2x8x64x128xbf16>
  %xf = attnqat.fake_quant %x as #attnqat.mxfp4 along 0 : tensor<4x96xf32>
  %qd = attnqat.dequantize %qc, %qs as #attnqat.nvfp4 along 3 : tensor<2x8x64x128xf4E2M1FN>, tensor<2x8x64x8xf8E4M3FN> -> tensor<2x8x64x128xbf16>
  %vd = attnqat.dequantize %vc, %vs as #attnqat.mxfp4 along 2 : tensor<2x8x37x64xf4E2M1FN>, tensor<2x8x2x64xf8E8M0FNU> -> tensor<2x8x37x64xf32>
  return %qc, %qs, %kc, %ks, %vc, %vs, %xc, %xs, %qf, %xf, %qd, %vd : tensor<2x8x64x128xf4E2M1FN>, tensor<2x8x64x8xf8E4M3FN>, tensor<2x8x37x64xf4E2M1FN>, tensor<2x8x37x4xf8E4M3FN>,
        tensor<2x8x37x64xf4E2M1FN>, tensor<2x8x2x64xf8E8M0FNU>, tensor<4x96xf4E2M1FN>, tensor<4x6xf8E4M3FN>,
        tensor<2x8x64x128xbf16>, tensor<4x96xf32>, tensor<2x8x64x128xbf16>, tensor<2x8x37x64xf32>
}
