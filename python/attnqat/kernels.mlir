// The GPU kernels attnqat.torch launches (f32 and bf16 tensors; NVFP4 Q, K, V and
// two-level P, or MXFP4 ones in @mxfp4_kernels), compiled by attnqat-compile into
// build/python/attnqat_sm90a.aqa (`ninja attnqat-python-kernels`).

!none = !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<1x1x64x64xf32>, key = tensor<1x1x64x64xf32>, scale = 1.250000e-01 : f32>
!nonec = !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<1x1x64x64xf32>, key = tensor<1x1x64x64xf32>, scale = 1.250000e-01 : f32, causal = true>
!qat = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x64x64xf32>, key = tensor<1x1x64x64xf32>, scale = 1.250000e-01 : f32>
!qatc = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x64x64xf32>, key = tensor<1x1x64x64xf32>, scale = 1.250000e-01 : f32, causal = true>
!dropin = !attnqat.state<config = #attnqat.config<mode = dropin>, query = tensor<1x1x64x64xf32>, key = tensor<1x1x64x64xf32>, scale = 1.250000e-01 : f32>
!dropinc = !attnqat.state<config = #attnqat.config<mode = dropin>, query = tensor<1x1x64x64xf32>, key = tensor<1x1x64x64xf32>, scale = 1.250000e-01 : f32, causal = true>
func.func @kernels(%x: tensor<1x1x64x64xf32>, %do: tensor<1x1x64x64xf32>) {
  %fq = attnqat.fake_quant %x as #attnqat.nvfp4 along 3 : tensor<1x1x64x64xf32>
  %o1, %l1, %s1 = attnqat.attention %x, %x, %x {config = #attnqat.config<mode = none>} : tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64xf32>, !none
  %a1, %b1, %c1 = attnqat.attention_backward %s1, %do : !none, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>
  %o2, %l2, %s2 = attnqat.attention %x, %x, %x causal {config = #attnqat.config<mode = none>} : tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64xf32>, !nonec
  %a2, %b2, %c2 = attnqat.attention_backward %s2, %do : !nonec, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>
  %o3, %l3, %s3 = attnqat.attention %x, %x, %x {config = #attnqat.config<mode = qat>} : tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64xf32>, !qat
  %a3, %b3, %c3 = attnqat.attention_backward %s3, %do : !qat, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>
  %o4, %l4, %s4 = attnqat.attention %x, %x, %x causal {config = #attnqat.config<mode = qat>} : tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64xf32>, !qatc
  %a4, %b4, %c4 = attnqat.attention_backward %s4, %do : !qatc, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>
  // Drop-in trains with the qat forward's O and the ordinary backward.
  %o5, %l5, %s5 = attnqat.attention %x, %x, %x {config = #attnqat.config<mode = dropin>} : tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64xf32>, !dropin
  %a5, %b5, %c5 = attnqat.attention_backward %s5, %do : !dropin, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>
  %o6, %l6, %s6 = attnqat.attention %x, %x, %x causal {config = #attnqat.config<mode = dropin>} : tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64xf32>, !dropinc
  %a6, %b6, %c6 = attnqat.attention_backward %s6, %do : !dropinc, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>
  return
}


// bf16: head dims 64 and 128 get the tensor-core forward and backward (each
// specialized on its head dim); the D = 32 ops give the baseline kernels,
// which take any head dim at launch.
!none64 = !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<1x1x64x64xbf16>, key = tensor<1x1x64x64xbf16>, scale = 1.250000e-01 : f32>
!nonec64 = !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<1x1x64x64xbf16>, key = tensor<1x1x64x64xbf16>, scale = 1.250000e-01 : f32, causal = true>
!qat64 = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x64x64xbf16>, key = tensor<1x1x64x64xbf16>, scale = 1.250000e-01 : f32>
!qatc64 = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x64x64xbf16>, key = tensor<1x1x64x64xbf16>, scale = 1.250000e-01 : f32, causal = true>
!dropin64 = !attnqat.state<config = #attnqat.config<mode = dropin>, query = tensor<1x1x64x64xbf16>, key = tensor<1x1x64x64xbf16>, scale = 1.250000e-01 : f32>
!dropinc64 = !attnqat.state<config = #attnqat.config<mode = dropin>, query = tensor<1x1x64x64xbf16>, key = tensor<1x1x64x64xbf16>, scale = 1.250000e-01 : f32, causal = true>
!none128 = !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<1x1x64x128xbf16>, key = tensor<1x1x64x128xbf16>, scale = 0.0883883461 : f32>
!nonec128 = !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<1x1x64x128xbf16>, key = tensor<1x1x64x128xbf16>, scale = 0.0883883461 : f32, causal = true>
!qat128 = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x64x128xbf16>, key = tensor<1x1x64x128xbf16>, scale = 0.0883883461 : f32>
!qatc128 = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x64x128xbf16>, key = tensor<1x1x64x128xbf16>, scale = 0.0883883461 : f32, causal = true>
!dropin128 = !attnqat.state<config = #attnqat.config<mode = dropin>, query = tensor<1x1x64x128xbf16>, key = tensor<1x1x64x128xbf16>, scale = 0.0883883461 : f32>
!dropinc128 = !attnqat.state<config = #attnqat.config<mode = dropin>, query = tensor<1x1x64x128xbf16>, key = tensor<1x1x64x128xbf16>, scale = 0.0883883461 : f32, causal = true>
!none32 = !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<1x1x64x32xbf16>, key = tensor<1x1x64x32xbf16>, scale = 0.176776692 : f32>
!nonec32 = !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<1x1x64x32xbf16>, key = tensor<1x1x64x32xbf16>, scale = 0.176776692 : f32, causal = true>
!qat32 = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x64x32xbf16>, key = tensor<1x1x64x32xbf16>, scale = 0.176776692 : f32>
!qatc32 = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x64x32xbf16>, key = tensor<1x1x64x32xbf16>, scale = 0.176776692 : f32, causal = true>
!dropin32 = !attnqat.state<config = #attnqat.config<mode = dropin>, query = tensor<1x1x64x32xbf16>, key = tensor<1x1x64x32xbf16>, scale = 0.176776692 : f32>
!dropinc32 = !attnqat.state<config = #attnqat.config<mode = dropin>, query = tensor<1x1x64x32xbf16>, key = tensor<1x1x64x32xbf16>, scale = 0.176776692 : f32, causal = true>
func.func @bf16_kernels(%x64: tensor<1x1x64x64xbf16>, %x128: tensor<1x1x64x128xbf16>, %x32: tensor<1x1x64x32xbf16>) {
  %fq = attnqat.fake_quant %x64 as #attnqat.nvfp4 along 3 : tensor<1x1x64x64xbf16>
  %o1, %l1, %s1 = attnqat.attention %x64, %x64, %x64 {config = #attnqat.config<mode = none>} : tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>, !none64
  %a1, %b1, %c1 = attnqat.attention_backward %s1, %x64 : !none64, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>
  %o2, %l2, %s2 = attnqat.attention %x64, %x64, %x64 causal {config = #attnqat.config<mode = none>} : tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>, !nonec64
  %a2, %b2, %c2 = attnqat.attention_backward %s2, %x64 : !nonec64, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>
  %o3, %l3, %s3 = attnqat.attention %x64, %x64, %x64 {config = #attnqat.config<mode = qat>} : tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>, !qat64
  %a3, %b3, %c3 = attnqat.attention_backward %s3, %x64 : !qat64, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>
  %o4, %l4, %s4 = attnqat.attention %x64, %x64, %x64 causal {config = #attnqat.config<mode = qat>} : tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>, !qatc64
  %a4, %b4, %c4 = attnqat.attention_backward %s4, %x64 : !qatc64, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>
  %o5, %l5, %s5 = attnqat.attention %x64, %x64, %x64 {config = #attnqat.config<mode = dropin>} : tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>, !dropin64
  %a5, %b5, %c5 = attnqat.attention_backward %s5, %x64 : !dropin64, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>
  %o6, %l6, %s6 = attnqat.attention %x64, %x64, %x64 causal {config = #attnqat.config<mode = dropin>} : tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>, !dropinc64
  %a6, %b6, %c6 = attnqat.attention_backward %s6, %x64 : !dropinc64, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>
  %o7, %l7, %s7 = attnqat.attention %x128, %x128, %x128 {config = #attnqat.config<mode = none>} : tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>, !none128
  %a7, %b7, %c7 = attnqat.attention_backward %s7, %x128 : !none128, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>
  %o8, %l8, %s8 = attnqat.attention %x128, %x128, %x128 causal {config = #attnqat.config<mode = none>} : tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>, !nonec128
  %a8, %b8, %c8 = attnqat.attention_backward %s8, %x128 : !nonec128, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>
  %o9, %l9, %s9 = attnqat.attention %x128, %x128, %x128 {config = #attnqat.config<mode = qat>} : tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>, !qat128
  %a9, %b9, %c9 = attnqat.attention_backward %s9, %x128 : !qat128, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>
  %o10, %l10, %s10 = attnqat.attention %x128, %x128, %x128 causal {config = #attnqat.config<mode = qat>} : tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>, !qatc128
  %a10, %b10, %c10 = attnqat.attention_backward %s10, %x128 : !qatc128, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>
  %o11, %l11, %s11 = attnqat.attention %x128, %x128, %x128 {config = #attnqat.config<mode = dropin>} : tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>, !dropin128
  %a11, %b11, %c11 = attnqat.attention_backward %s11, %x128 : !dropin128, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>
  %o12, %l12, %s12 = attnqat.attention %x128, %x128, %x128 causal {config = #attnqat.config<mode = dropin>} : tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>, !dropinc128
  %a12, %b12, %c12 = attnqat.attention_backward %s12, %x128 : !dropinc128, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>
  %o13, %l13, %s13 = attnqat.attention %x32, %x32, %x32 {config = #attnqat.config<mode = none>} : tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64xf32>, !none32
  %a13, %b13, %c13 = attnqat.attention_backward %s13, %x32 : !none32, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>
  %o14, %l14, %s14 = attnqat.attention %x32, %x32, %x32 causal {config = #attnqat.config<mode = none>} : tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64xf32>, !nonec32
  %a14, %b14, %c14 = attnqat.attention_backward %s14, %x32 : !nonec32, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>
  %o15, %l15, %s15 = attnqat.attention %x32, %x32, %x32 {config = #attnqat.config<mode = qat>} : tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64xf32>, !qat32
  %a15, %b15, %c15 = attnqat.attention_backward %s15, %x32 : !qat32, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>
  %o16, %l16, %s16 = attnqat.attention %x32, %x32, %x32 causal {config = #attnqat.config<mode = qat>} : tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64xf32>, !qatc32
  %a16, %b16, %c16 = attnqat.attention_backward %s16, %x32 : !qatc32, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>
  %o17, %l17, %s17 = attnqat.attention %x32, %x32, %x32 {config = #attnqat.config<mode = dropin>} : tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64xf32>, !dropin32
  %a17, %b17, %c17 = attnqat.attention_backward %s17, %x32 : !dropin32, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>
  %o18, %l18, %s18 = attnqat.attention %x32, %x32, %x32 causal {config = #attnqat.config<mode = dropin>} : tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64xf32>, !dropinc32
  %a18, %b18, %c18 = attnqat.attention_backward %s18, %x32 : !dropinc32, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>
  return
}

// FP4 inference from PyTorch: NVFP4 quantize and dequantize kernels (bf16)
// and the tensor-core fp4 forward at head dims 64 and 128, bf16 out (the
// fp4 path decodes once, then runs the dropin forward, which the training
// kernels above provide).
func.func @fp4_kernels(%x: tensor<1x1x64x64xbf16>, %q1: tensor<1x1x64x64xf4E2M1FN>, %s1: tensor<1x1x64x4xf8E4M3FN>, %v1: tensor<1x1x4x64xf8E4M3FN>, %q2: tensor<1x1x64x64xf4E2M1FN>, %s2: tensor<1x1x64x4xf8E4M3FN>, %v2: tensor<1x1x4x64xf8E4M3FN>, %q3: tensor<1x1x64x128xf4E2M1FN>, %s3: tensor<1x1x64x8xf8E4M3FN>, %v3: tensor<1x1x4x128xf8E4M3FN>, %q4: tensor<1x1x64x128xf4E2M1FN>, %s4: tensor<1x1x64x8xf8E4M3FN>, %v4: tensor<1x1x4x128xf8E4M3FN>) {
  %c, %cs = attnqat.quantize %x as #attnqat.nvfp4 along 3 : tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xf4E2M1FN>, tensor<1x1x64x4xf8E4M3FN>
  %d = attnqat.dequantize %c, %cs as #attnqat.nvfp4 along 3 : tensor<1x1x64x64xf4E2M1FN>, tensor<1x1x64x4xf8E4M3FN> -> tensor<1x1x64x64xbf16>
  %o1, %l1 = attnqat.attention %q1, %q1, %q1 scales(%s1, %s1, %v1) {config = #attnqat.config<mode = fp4>} : tensor<1x1x64x64xf4E2M1FN>, tensor<1x1x64x64xf4E2M1FN>, tensor<1x1x64x64xf4E2M1FN> scales tensor<1x1x64x4xf8E4M3FN>, tensor<1x1x64x4xf8E4M3FN>, tensor<1x1x4x64xf8E4M3FN> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>
  %o2, %l2 = attnqat.attention %q2, %q2, %q2 scales(%s2, %s2, %v2) causal {config = #attnqat.config<mode = fp4>} : tensor<1x1x64x64xf4E2M1FN>, tensor<1x1x64x64xf4E2M1FN>, tensor<1x1x64x64xf4E2M1FN> scales tensor<1x1x64x4xf8E4M3FN>, tensor<1x1x64x4xf8E4M3FN>, tensor<1x1x4x64xf8E4M3FN> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>
  %o3, %l3 = attnqat.attention %q3, %q3, %q3 scales(%s3, %s3, %v3) {config = #attnqat.config<mode = fp4>} : tensor<1x1x64x128xf4E2M1FN>, tensor<1x1x64x128xf4E2M1FN>, tensor<1x1x64x128xf4E2M1FN> scales tensor<1x1x64x8xf8E4M3FN>, tensor<1x1x64x8xf8E4M3FN>, tensor<1x1x4x128xf8E4M3FN> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>
  %o4, %l4 = attnqat.attention %q4, %q4, %q4 scales(%s4, %s4, %v4) causal {config = #attnqat.config<mode = fp4>} : tensor<1x1x64x128xf4E2M1FN>, tensor<1x1x64x128xf4E2M1FN>, tensor<1x1x64x128xf4E2M1FN> scales tensor<1x1x64x8xf8E4M3FN>, tensor<1x1x64x8xf8E4M3FN>, tensor<1x1x4x128xf8E4M3FN> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>
  return
}

// MXFP4 training and packed state (Q, K, V and P in MXFP4: blocks of 32, E8M0
// scales, single-level P): the kernels attnqat.torch runs for
// format="mxfp4", for the same dtypes and head dims as NVFP4 above.
!mxqatf32 = !attnqat.state<config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x1x64x64xf32>, key = tensor<1x1x64x64xf32>, scale = 1.250000e-01 : f32>
!mxqatcf32 = !attnqat.state<config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x1x64x64xf32>, key = tensor<1x1x64x64xf32>, scale = 1.250000e-01 : f32, causal = true>
!mxdropinf32 = !attnqat.state<config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x1x64x64xf32>, key = tensor<1x1x64x64xf32>, scale = 1.250000e-01 : f32>
!mxdropincf32 = !attnqat.state<config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x1x64x64xf32>, key = tensor<1x1x64x64xf32>, scale = 1.250000e-01 : f32, causal = true>
!mxqatbf16_64 = !attnqat.state<config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x1x64x64xbf16>, key = tensor<1x1x64x64xbf16>, scale = 1.250000e-01 : f32>
!mxqatcbf16_64 = !attnqat.state<config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x1x64x64xbf16>, key = tensor<1x1x64x64xbf16>, scale = 1.250000e-01 : f32, causal = true>
!mxdropinbf16_64 = !attnqat.state<config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x1x64x64xbf16>, key = tensor<1x1x64x64xbf16>, scale = 1.250000e-01 : f32>
!mxdropincbf16_64 = !attnqat.state<config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x1x64x64xbf16>, key = tensor<1x1x64x64xbf16>, scale = 1.250000e-01 : f32, causal = true>
!mxqatbf16_128 = !attnqat.state<config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x1x64x128xbf16>, key = tensor<1x1x64x128xbf16>, scale = 0.0883883461 : f32>
!mxqatcbf16_128 = !attnqat.state<config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x1x64x128xbf16>, key = tensor<1x1x64x128xbf16>, scale = 0.0883883461 : f32, causal = true>
!mxdropinbf16_128 = !attnqat.state<config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x1x64x128xbf16>, key = tensor<1x1x64x128xbf16>, scale = 0.0883883461 : f32>
!mxdropincbf16_128 = !attnqat.state<config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x1x64x128xbf16>, key = tensor<1x1x64x128xbf16>, scale = 0.0883883461 : f32, causal = true>
!mxqatbf16_32 = !attnqat.state<config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x1x64x32xbf16>, key = tensor<1x1x64x32xbf16>, scale = 0.176776692 : f32>
!mxqatcbf16_32 = !attnqat.state<config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x1x64x32xbf16>, key = tensor<1x1x64x32xbf16>, scale = 0.176776692 : f32, causal = true>
!mxdropinbf16_32 = !attnqat.state<config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x1x64x32xbf16>, key = tensor<1x1x64x32xbf16>, scale = 0.176776692 : f32>
!mxdropincbf16_32 = !attnqat.state<config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>, query = tensor<1x1x64x32xbf16>, key = tensor<1x1x64x32xbf16>, scale = 0.176776692 : f32, causal = true>
func.func @mxfp4_kernels(%x: tensor<1x1x64x64xf32>, %x64: tensor<1x1x64x64xbf16>, %x128: tensor<1x1x64x128xbf16>, %x32: tensor<1x1x64x32xbf16>, %mq1: tensor<1x1x64x64xf4E2M1FN>, %ms1: tensor<1x1x64x2xf8E8M0FNU>, %mv1: tensor<1x1x2x64xf8E8M0FNU>, %mq2: tensor<1x1x64x64xf4E2M1FN>, %ms2: tensor<1x1x64x2xf8E8M0FNU>, %mv2: tensor<1x1x2x64xf8E8M0FNU>, %mq3: tensor<1x1x64x128xf4E2M1FN>, %ms3: tensor<1x1x64x4xf8E8M0FNU>, %mv3: tensor<1x1x2x128xf8E8M0FNU>, %mq4: tensor<1x1x64x128xf4E2M1FN>, %ms4: tensor<1x1x64x4xf8E8M0FNU>, %mv4: tensor<1x1x2x128xf8E8M0FNU>) {
  // attention_fp4 with decode_first=False: the fp4 kernel decoding MXFP4 tiles.
  %mo1, %ml1 = attnqat.attention %mq1, %mq1, %mq1 scales(%ms1, %ms1, %mv1) {config = #attnqat.config<mode = fp4, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x64xf4E2M1FN>, tensor<1x1x64x64xf4E2M1FN>, tensor<1x1x64x64xf4E2M1FN> scales tensor<1x1x64x2xf8E8M0FNU>, tensor<1x1x64x2xf8E8M0FNU>, tensor<1x1x2x64xf8E8M0FNU> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>
  %mo2, %ml2 = attnqat.attention %mq2, %mq2, %mq2 scales(%ms2, %ms2, %mv2) causal {config = #attnqat.config<mode = fp4, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x64xf4E2M1FN>, tensor<1x1x64x64xf4E2M1FN>, tensor<1x1x64x64xf4E2M1FN> scales tensor<1x1x64x2xf8E8M0FNU>, tensor<1x1x64x2xf8E8M0FNU>, tensor<1x1x2x64xf8E8M0FNU> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>
  %mo3, %ml3 = attnqat.attention %mq3, %mq3, %mq3 scales(%ms3, %ms3, %mv3) {config = #attnqat.config<mode = fp4, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x128xf4E2M1FN>, tensor<1x1x64x128xf4E2M1FN>, tensor<1x1x64x128xf4E2M1FN> scales tensor<1x1x64x4xf8E8M0FNU>, tensor<1x1x64x4xf8E8M0FNU>, tensor<1x1x2x128xf8E8M0FNU> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>
  %mo4, %ml4 = attnqat.attention %mq4, %mq4, %mq4 scales(%ms4, %ms4, %mv4) causal {config = #attnqat.config<mode = fp4, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x128xf4E2M1FN>, tensor<1x1x64x128xf4E2M1FN>, tensor<1x1x64x128xf4E2M1FN> scales tensor<1x1x64x4xf8E8M0FNU>, tensor<1x1x64x4xf8E8M0FNU>, tensor<1x1x2x128xf8E8M0FNU> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>
  %fq = attnqat.fake_quant %x as #attnqat.mxfp4 along 3 : tensor<1x1x64x64xf32>
  %fq16 = attnqat.fake_quant %x64 as #attnqat.mxfp4 along 3 : tensor<1x1x64x64xbf16>
  %c, %cs = attnqat.quantize %x64 as #attnqat.mxfp4 along 3 : tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xf4E2M1FN>, tensor<1x1x64x2xf8E8M0FNU>
  %d = attnqat.dequantize %c, %cs as #attnqat.mxfp4 along 3 : tensor<1x1x64x64xf4E2M1FN>, tensor<1x1x64x2xf8E8M0FNU> -> tensor<1x1x64x64xbf16>
  %o1, %l1, %s1 = attnqat.attention %x, %x, %x {config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64xf32>, !mxqatf32
  %a1, %b1, %c1 = attnqat.attention_backward %s1, %x : !mxqatf32, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>
  %o2, %l2, %s2 = attnqat.attention %x, %x, %x causal {config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64xf32>, !mxqatcf32
  %a2, %b2, %c2 = attnqat.attention_backward %s2, %x : !mxqatcf32, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>
  %o3, %l3, %s3 = attnqat.attention %x, %x, %x {config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64xf32>, !mxdropinf32
  %a3, %b3, %c3 = attnqat.attention_backward %s3, %x : !mxdropinf32, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>
  %o4, %l4, %s4 = attnqat.attention %x, %x, %x causal {config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64xf32>, !mxdropincf32
  %a4, %b4, %c4 = attnqat.attention_backward %s4, %x : !mxdropincf32, tensor<1x1x64x64xf32> -> tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>, tensor<1x1x64x64xf32>
  %o5, %l5, %s5 = attnqat.attention %x64, %x64, %x64 {config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>, !mxqatbf16_64
  %a5, %b5, %c5 = attnqat.attention_backward %s5, %x64 : !mxqatbf16_64, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>
  %o6, %l6, %s6 = attnqat.attention %x64, %x64, %x64 causal {config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>, !mxqatcbf16_64
  %a6, %b6, %c6 = attnqat.attention_backward %s6, %x64 : !mxqatcbf16_64, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>
  %o7, %l7, %s7 = attnqat.attention %x64, %x64, %x64 {config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>, !mxdropinbf16_64
  %a7, %b7, %c7 = attnqat.attention_backward %s7, %x64 : !mxdropinbf16_64, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>
  %o8, %l8, %s8 = attnqat.attention %x64, %x64, %x64 causal {config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>, !mxdropincbf16_64
  %a8, %b8, %c8 = attnqat.attention_backward %s8, %x64 : !mxdropincbf16_64, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>
  %o9, %l9, %s9 = attnqat.attention %x128, %x128, %x128 {config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>, !mxqatbf16_128
  %a9, %b9, %c9 = attnqat.attention_backward %s9, %x128 : !mxqatbf16_128, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>
  %o10, %l10, %s10 = attnqat.attention %x128, %x128, %x128 causal {config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>, !mxqatcbf16_128
  %a10, %b10, %c10 = attnqat.attention_backward %s10, %x128 : !mxqatcbf16_128, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>
  %o11, %l11, %s11 = attnqat.attention %x128, %x128, %x128 {config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>, !mxdropinbf16_128
  %a11, %b11, %c11 = attnqat.attention_backward %s11, %x128 : !mxdropinbf16_128, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>
  %o12, %l12, %s12 = attnqat.attention %x128, %x128, %x128 causal {config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>, !mxdropincbf16_128
  %a12, %b12, %c12 = attnqat.attention_backward %s12, %x128 : !mxdropincbf16_128, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>
  %o13, %l13, %s13 = attnqat.attention %x32, %x32, %x32 {config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64xf32>, !mxqatbf16_32
  %a13, %b13, %c13 = attnqat.attention_backward %s13, %x32 : !mxqatbf16_32, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>
  %o14, %l14, %s14 = attnqat.attention %x32, %x32, %x32 causal {config = #attnqat.config<mode = qat, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64xf32>, !mxqatcbf16_32
  %a14, %b14, %c14 = attnqat.attention_backward %s14, %x32 : !mxqatcbf16_32, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>
  %o15, %l15, %s15 = attnqat.attention %x32, %x32, %x32 {config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64xf32>, !mxdropinbf16_32
  %a15, %b15, %c15 = attnqat.attention_backward %s15, %x32 : !mxdropinbf16_32, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>
  %o16, %l16, %s16 = attnqat.attention %x32, %x32, %x32 causal {config = #attnqat.config<mode = dropin, q = #attnqat.mxfp4, k = #attnqat.mxfp4, v = #attnqat.mxfp4, p = #attnqat.mxfp4, p_scaling = single_level>} : tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64xf32>, !mxdropincbf16_32
  %a16, %b16, %c16 = attnqat.attention_backward %s16, %x32 : !mxdropincbf16_32, tensor<1x1x64x32xbf16> -> tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>, tensor<1x1x64x32xbf16>
  return
}
