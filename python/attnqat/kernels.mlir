// The GPU kernels attnqat.torch launches (f32 and bf16 tensors; NVFP4 Q, K, V and
// two-level P in mode qat), compiled by attnqat-compile into
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

// bf16: the tensor-core forward (head dims 64 and 128) and the baseline
// backward on bf16 operands (f32 gradients; any head dim).
!noneb = !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<1x1x64x64xbf16>, key = tensor<1x1x64x64xbf16>, scale = 1.250000e-01 : f32>
!nonecb = !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<1x1x64x64xbf16>, key = tensor<1x1x64x64xbf16>, scale = 1.250000e-01 : f32, causal = true>
!qatb = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x64x64xbf16>, key = tensor<1x1x64x64xbf16>, scale = 1.250000e-01 : f32>
!qatcb = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x64x64xbf16>, key = tensor<1x1x64x64xbf16>, scale = 1.250000e-01 : f32, causal = true>
!dropinb = !attnqat.state<config = #attnqat.config<mode = dropin>, query = tensor<1x1x64x64xbf16>, key = tensor<1x1x64x64xbf16>, scale = 1.250000e-01 : f32>
!dropincb = !attnqat.state<config = #attnqat.config<mode = dropin>, query = tensor<1x1x64x64xbf16>, key = tensor<1x1x64x64xbf16>, scale = 1.250000e-01 : f32, causal = true>
func.func @bf16_kernels(%x: tensor<1x1x64x64xbf16>, %y: tensor<1x1x64x128xbf16>, %do: tensor<1x1x64x64xbf16>) {
  %fq = attnqat.fake_quant %x as #attnqat.nvfp4 along 3 : tensor<1x1x64x64xbf16>
  %o1, %l1, %s1 = attnqat.attention %x, %x, %x {config = #attnqat.config<mode = none>} : tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>, !noneb
  %a1, %b1, %c1 = attnqat.attention_backward %s1, %do : !noneb, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>
  %p1, %r1 = attnqat.attention %y, %y, %y {config = #attnqat.config<mode = none>} : tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>
  %o2, %l2, %s2 = attnqat.attention %x, %x, %x causal {config = #attnqat.config<mode = none>} : tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>, !nonecb
  %a2, %b2, %c2 = attnqat.attention_backward %s2, %do : !nonecb, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>
  %p2, %r2 = attnqat.attention %y, %y, %y causal {config = #attnqat.config<mode = none>} : tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>
  %o3, %l3, %s3 = attnqat.attention %x, %x, %x {config = #attnqat.config<mode = qat>} : tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>, !qatb
  %a3, %b3, %c3 = attnqat.attention_backward %s3, %do : !qatb, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>
  %p3, %r3 = attnqat.attention %y, %y, %y {config = #attnqat.config<mode = qat>} : tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>
  %o4, %l4, %s4 = attnqat.attention %x, %x, %x causal {config = #attnqat.config<mode = qat>} : tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>, !qatcb
  %a4, %b4, %c4 = attnqat.attention_backward %s4, %do : !qatcb, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>
  %p4, %r4 = attnqat.attention %y, %y, %y causal {config = #attnqat.config<mode = qat>} : tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>
  %o5, %l5, %s5 = attnqat.attention %x, %x, %x {config = #attnqat.config<mode = dropin>} : tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>, !dropinb
  %a5, %b5, %c5 = attnqat.attention_backward %s5, %do : !dropinb, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>
  %p5, %r5 = attnqat.attention %y, %y, %y {config = #attnqat.config<mode = dropin>} : tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>
  %o6, %l6, %s6 = attnqat.attention %x, %x, %x causal {config = #attnqat.config<mode = dropin>} : tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64xf32>, !dropincb
  %a6, %b6, %c6 = attnqat.attention_backward %s6, %do : !dropincb, tensor<1x1x64x64xbf16> -> tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>, tensor<1x1x64x64xbf16>
  %p6, %r6 = attnqat.attention %y, %y, %y causal {config = #attnqat.config<mode = dropin>} : tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16>, tensor<1x1x64x128xbf16> -> tensor<1x1x64x128xbf16>, tensor<1x1x64xf32>
  return
}
