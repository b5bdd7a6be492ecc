// RUN: attnqat-opt %s -split-input-file -verify-diagnostics

func.func @quantize_axis_out_of_range(%x: tensor<4x64xbf16>) {
  // expected-error @+1 {{'attnqat.quantize' op axis 2 is out of range for a rank-2 input}}
  %c, %s = attnqat.quantize %x as #attnqat.nvfp4 along 2 : tensor<4x64xbf16> -> tensor<4x64xf4E2M1FN>, tensor<4x4xf8E4M3FN>
  return
}

// -----

func.func @quantize_codes_shape(%x: tensor<4x64xbf16>) {
  // expected-error @+1 {{codes shape [4, 32] must equal the input shape [4, 64]}}
  %c, %s = attnqat.quantize %x as #attnqat.nvfp4 along 1 : tensor<4x64xbf16> -> tensor<4x32xf4E2M1FN>, tensor<4x4xf8E4M3FN>
  return
}

// -----

func.func @quantize_scale_type(%x: tensor<4x64xbf16>) {
  // expected-error @+1 {{scales of #attnqat.nvfp4 must have element type 'f8E4M3FN', got 'f8E8M0FNU'}}
  %c, %s = attnqat.quantize %x as #attnqat.nvfp4 along 1 : tensor<4x64xbf16> -> tensor<4x64xf4E2M1FN>, tensor<4x4xf8E8M0FNU>
  return
}

// -----

func.func @quantize_scales_shape(%x: tensor<4x65xbf16>) {
  // expected-error @+1 {{scales must have shape [4, 3] (input shape with dimension 1 = ceil(extent / 32)), got [4, 2]}}
  %c, %s = attnqat.quantize %x as #attnqat.mxfp4 along 1 : tensor<4x65xbf16> -> tensor<4x65xf4E2M1FN>, tensor<4x2xf8E8M0FNU>
  return
}

// -----

func.func @quantize_rank0(%x: tensor<bf16>) {
  // expected-error @+1 {{input must have rank >= 1}}
  %c, %s = attnqat.quantize %x as #attnqat.mxfp4 along 0 : tensor<bf16> -> tensor<f4E2M1FN>, tensor<f8E8M0FNU>
  return
}

// -----

func.func @quantize_int_input(%x: tensor<4x64xi8>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of bfloat16 type or 16-bit float or 32-bit float values}}
  %c, %s = attnqat.quantize %x as #attnqat.nvfp4 along 1 : tensor<4x64xi8> -> tensor<4x64xf4E2M1FN>, tensor<4x4xf8E4M3FN>
  return
}

// -----

func.func @dequantize_scales_shape(%c: tensor<4x64xf4E2M1FN>, %s: tensor<4x2xf8E4M3FN>) {
  // expected-error @+1 {{scales must have shape [4, 4] (result shape with dimension 1 = ceil(extent / 16)), got [4, 2]}}
  %x = attnqat.dequantize %c, %s as #attnqat.nvfp4 along 1 : tensor<4x64xf4E2M1FN>, tensor<4x2xf8E4M3FN> -> tensor<4x64xbf16>
  return
}

// -----

func.func @dequantize_axis(%c: tensor<4x64xf4E2M1FN>, %s: tensor<4x2xf8E4M3FN>) {
  // expected-error @+1 {{axis -1 is out of range for a rank-2 result}}
  %x = attnqat.dequantize %c, %s as #attnqat.nvfp4 along -1 : tensor<4x64xf4E2M1FN>, tensor<4x2xf8E4M3FN> -> tensor<4x64xbf16>
  return
}

// -----

func.func @fake_quant_axis(%x: tensor<4x64xbf16>) {
  // expected-error @+1 {{axis 5 is out of range for a rank-2 input}}
  %y = attnqat.fake_quant %x as #attnqat.nvfp4 along 5 : tensor<4x64xbf16>
  return
}

// -----

func.func @fake_quant_rank0(%x: tensor<f32>) {
  // expected-error @+1 {{input must have rank >= 1}}
  %y = attnqat.fake_quant %x as #attnqat.nvfp4 along 0 : tensor<f32>
  return
}

// -----

func.func @bad_global_scale(%x: tensor<16xf32>) {
  // expected-error @+1 {{NVFP4 global scale must be finite and positive, got -1.000000e+00}}
  %y = attnqat.fake_quant %x as #attnqat.nvfp4<global_scale = -1.0 : f32> along 0 : tensor<16xf32>
  return
}

// -----

func.func @bad_global_scale_type(%x: tensor<16xf32>) {
  // expected-error @+1 {{NVFP4 global scale must be an f32, got 'f64'}}
  %y = attnqat.fake_quant %x as #attnqat.nvfp4<global_scale = 1.0 : f64> along 0 : tensor<16xf32>
  return
}

// -----

func.func @two_level_mxfp4_p(%q: tensor<1x1x16x64xf32>) {
  // expected-error @+1 {{two-level P scaling requires an NVFP4 P format}}
  %o, %l = attnqat.attention %q, %q, %q {config = #attnqat.config<mode = qat, p = #attnqat.mxfp4, p_scaling = two_level>} : tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32> -> tensor<1x1x16x64xf32>, tensor<1x1x16xf32>
  return
}

// -----

func.func @p_global_scale(%q: tensor<1x1x16x64xf32>) {
  // expected-error @+1 {{P's global scale is set by p_scaling, not by its format}}
  %o, %l = attnqat.attention %q, %q, %q {config = #attnqat.config<mode = qat, p = #attnqat.nvfp4<global_scale = 2.0 : f32>>} : tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32> -> tensor<1x1x16x64xf32>, tensor<1x1x16xf32>
  return
}

// -----

func.func @attention_rank(%q: tensor<16x64xf32>, %k: tensor<1x1x16x64xf32>) {
  // expected-error @+1 {{query must be rank 4 ([B, H, L, D]), got rank 2}}
  %o, %l = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = none>} : tensor<16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32> -> tensor<16x64xf32>, tensor<1x1x16xf32>
  return
}

// -----

func.func @attention_kv_shapes(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x16x64xf32>, %v: tensor<1x1x17x64xf32>) {
  // expected-error @+1 {{key shape [1, 1, 16, 64] and value shape [1, 1, 17, 64] must be equal}}
  %o, %l = attnqat.attention %q, %k, %v {config = #attnqat.config<mode = none>} : tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x17x64xf32> -> tensor<1x1x16x64xf32>, tensor<1x1x16xf32>
  return
}

// -----

func.func @attention_batch(%q: tensor<2x1x16x64xf32>, %k: tensor<3x1x16x64xf32>) {
  // expected-error @+1 {{query batch 2 does not match key batch 3}}
  %o, %l = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = none>} : tensor<2x1x16x64xf32>, tensor<3x1x16x64xf32>, tensor<3x1x16x64xf32> -> tensor<2x1x16x64xf32>, tensor<2x1x16xf32>
  return
}

// -----

func.func @attention_head_dim(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x16x128xf32>) {
  // expected-error @+1 {{query head dim 64 does not match key head dim 128}}
  %o, %l = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = none>} : tensor<1x1x16x64xf32>, tensor<1x1x16x128xf32>, tensor<1x1x16x128xf32> -> tensor<1x1x16x64xf32>, tensor<1x1x16xf32>
  return
}

// -----

func.func @attention_dynamic_head_dim(%q: tensor<1x1x16x?xf32>) {
  // expected-error @+1 {{head dim must be static}}
  %o, %l = attnqat.attention %q, %q, %q {config = #attnqat.config<mode = none>} : tensor<1x1x16x?xf32>, tensor<1x1x16x?xf32>, tensor<1x1x16x?xf32> -> tensor<1x1x16x?xf32>, tensor<1x1x16xf32>
  return
}

// -----

func.func @attention_dynamic_heads(%q: tensor<1x?x16x64xf32>) {
  // expected-error @+1 {{head counts must be static}}
  %o, %l = attnqat.attention %q, %q, %q {config = #attnqat.config<mode = none>} : tensor<1x?x16x64xf32>, tensor<1x?x16x64xf32>, tensor<1x?x16x64xf32> -> tensor<1x?x16x64xf32>, tensor<1x?x16xf32>
  return
}

// -----

// Zero key/value heads: an error, not a division by zero.
func.func @attention_no_key_heads(%q: tensor<1x4x16x64xf32>, %k: tensor<1x0x16x64xf32>) {
  // expected-error @+1 {{key/value heads must be at least 1, got 0}}
  %o, %l = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = none>} : tensor<1x4x16x64xf32>, tensor<1x0x16x64xf32>, tensor<1x0x16x64xf32> -> tensor<1x4x16x64xf32>, tensor<1x4x16xf32>
  return
}

// -----

func.func @attention_gqa(%q: tensor<1x8x16x64xf32>, %k: tensor<1x3x16x64xf32>) {
  // expected-error @+1 {{query heads (8) must be a multiple of key/value heads (3)}}
  %o, %l = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = none>} : tensor<1x8x16x64xf32>, tensor<1x3x16x64xf32>, tensor<1x3x16x64xf32> -> tensor<1x8x16x64xf32>, tensor<1x8x16xf32>
  return
}

// -----

func.func @attention_mixed_types(%q: tensor<1x1x16x64xf32>, %k: tensor<1x1x16x64xbf16>) {
  // expected-error @+1 {{query, key and value must have the same bf16, f16 or f32 element type outside mode fp4}}
  %o, %l = attnqat.attention %q, %k, %k {config = #attnqat.config<mode = qat>} : tensor<1x1x16x64xf32>, tensor<1x1x16x64xbf16>, tensor<1x1x16x64xbf16> -> tensor<1x1x16x64xf32>, tensor<1x1x16xf32>
  return
}

// -----

func.func @attention_output_shape(%q: tensor<1x1x16x64xf32>) {
  // expected-error @+1 {{output shape [1, 1, 8, 64] must equal the query shape [1, 1, 16, 64]}}
  %o, %l = attnqat.attention %q, %q, %q {config = #attnqat.config<mode = none>} : tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32> -> tensor<1x1x8x64xf32>, tensor<1x1x16xf32>
  return
}

// -----

func.func @attention_output_type(%q: tensor<1x1x16x64xf32>) {
  // expected-error @+1 {{output element type 'bf16' must equal the query's 'f32'}}
  %o, %l = attnqat.attention %q, %q, %q {config = #attnqat.config<mode = none>} : tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32> -> tensor<1x1x16x64xbf16>, tensor<1x1x16xf32>
  return
}

// -----

func.func @attention_lse_shape(%q: tensor<1x1x16x64xf32>) {
  // expected-error @+1 {{lse must have shape [B, Hq, M] = [1, 1, 16], got [1, 16]}}
  %o, %l = attnqat.attention %q, %q, %q {config = #attnqat.config<mode = none>} : tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32> -> tensor<1x1x16x64xf32>, tensor<1x16xf32>
  return
}

// -----

func.func @attention_mask_shape(%q: tensor<2x4x16x64xf32>, %k: tensor<2x4x32x64xf32>, %m: tensor<2x4x16x16xf32>) {
  // expected-error @+1 {{mask must have shape [1 or B, 1 or Hq, M, N] with [B, Hq, M, N] = [2, 4, 16, 32], got [2, 4, 16, 16]}}
  %o, %l = attnqat.attention %q, %k, %k mask(%m) {config = #attnqat.config<mode = none>} : tensor<2x4x16x64xf32>, tensor<2x4x32x64xf32>, tensor<2x4x32x64xf32> mask tensor<2x4x16x16xf32> -> tensor<2x4x16x64xf32>, tensor<2x4x16xf32>
  return
}

// -----

func.func @attention_mask_broadcast(%q: tensor<2x4x16x64xf32>, %m: tensor<1x2x16x16xf32>) {
  // expected-error @+1 {{mask must have shape [1 or B, 1 or Hq, M, N]}}
  %o, %l = attnqat.attention %q, %q, %q mask(%m) {config = #attnqat.config<mode = none>} : tensor<2x4x16x64xf32>, tensor<2x4x16x64xf32>, tensor<2x4x16x64xf32> mask tensor<1x2x16x16xf32> -> tensor<2x4x16x64xf32>, tensor<2x4x16xf32>
  return
}

// -----

func.func @attention_key_lengths(%q: tensor<2x4x16x64xf32>, %lens: tensor<3xi32>) {
  // expected-error @+1 {{key_lengths must have shape [B] = [2], got [3]}}
  %o, %l = attnqat.attention %q, %q, %q key_lengths(%lens) {config = #attnqat.config<mode = none>} : tensor<2x4x16x64xf32>, tensor<2x4x16x64xf32>, tensor<2x4x16x64xf32> key_lengths tensor<3xi32> -> tensor<2x4x16x64xf32>, tensor<2x4x16xf32>
  return
}

// -----

func.func @attention_scale(%q: tensor<1x1x16x64xf32>) {
  // expected-error @+1 {{softmax scale must be finite and positive, got 0.000000e+00}}
  %o, %l = attnqat.attention %q, %q, %q {config = #attnqat.config<mode = none>, scale = 0.0 : f32} : tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32> -> tensor<1x1x16x64xf32>, tensor<1x1x16xf32>
  return
}

// -----

func.func @attention_scales_outside_fp4(%q: tensor<1x1x16x64xf32>, %s: tensor<1x1x16x4xf8E4M3FN>) {
  // expected-error @+1 {{scales are only accepted in mode fp4; mode qat quantizes its inputs itself}}
  %o, %l = attnqat.attention %q, %q, %q scales(%s, %s, %s) {config = #attnqat.config<mode = qat>} : tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32> scales tensor<1x1x16x4xf8E4M3FN>, tensor<1x1x16x4xf8E4M3FN>, tensor<1x1x16x4xf8E4M3FN> -> tensor<1x1x16x64xf32>, tensor<1x1x16xf32>
  return
}

// -----

func.func @attention_fp4_needs_scales(%q: tensor<1x1x16x64xf4E2M1FN>) {
  // expected-error @+1 {{mode fp4 requires the block scales of query, key and value: scales(%qs, %ks, %vs)}}
  %o, %l = attnqat.attention %q, %q, %q {config = #attnqat.config<mode = fp4>} : tensor<1x1x16x64xf4E2M1FN>, tensor<1x1x16x64xf4E2M1FN>, tensor<1x1x16x64xf4E2M1FN> -> tensor<1x1x16x64xbf16>, tensor<1x1x16xf32>
  return
}

// -----

func.func @attention_fp4_codes(%q: tensor<1x1x16x64xbf16>, %s: tensor<1x1x16x4xf8E4M3FN>) {
  // expected-error @+1 {{mode fp4 takes E2M1 codes: query must have element type f4E2M1FN, got 'bf16'}}
  %o, %l = attnqat.attention %q, %q, %q scales(%s, %s, %s) {config = #attnqat.config<mode = fp4>} : tensor<1x1x16x64xbf16>, tensor<1x1x16x64xbf16>, tensor<1x1x16x64xbf16> scales tensor<1x1x16x4xf8E4M3FN>, tensor<1x1x16x4xf8E4M3FN>, tensor<1x1x16x4xf8E4M3FN> -> tensor<1x1x16x64xbf16>, tensor<1x1x16xf32>
  return
}

// -----

func.func @attention_fp4_scale_type(%q: tensor<1x1x16x64xf4E2M1FN>, %s: tensor<1x1x16x2xf8E4M3FN>) {
  // expected-error @+1 {{query scales of #attnqat.mxfp4 must have element type 'f8E8M0FNU', got 'f8E4M3FN'}}
  %o, %l = attnqat.attention %q, %q, %q scales(%s, %s, %s) {config = #attnqat.config<mode = fp4, q = #attnqat.mxfp4>} : tensor<1x1x16x64xf4E2M1FN>, tensor<1x1x16x64xf4E2M1FN>, tensor<1x1x16x64xf4E2M1FN> scales tensor<1x1x16x2xf8E4M3FN>, tensor<1x1x16x2xf8E4M3FN>, tensor<1x1x16x2xf8E4M3FN> -> tensor<1x1x16x64xbf16>, tensor<1x1x16xf32>
  return
}

// -----

func.func @attention_fp4_value_scales(%q: tensor<1x1x16x64xf4E2M1FN>, %s: tensor<1x1x16x4xf8E4M3FN>) {
  // V is blocked along keys: its scales are [1, 1, 1, 64].
  // expected-error @+1 {{value scales must have shape [1, 1, 1, 64] (blocks of 16 along dimension 2), got [1, 1, 16, 4]}}
  %o, %l = attnqat.attention %q, %q, %q scales(%s, %s, %s) {config = #attnqat.config<mode = fp4>} : tensor<1x1x16x64xf4E2M1FN>, tensor<1x1x16x64xf4E2M1FN>, tensor<1x1x16x64xf4E2M1FN> scales tensor<1x1x16x4xf8E4M3FN>, tensor<1x1x16x4xf8E4M3FN>, tensor<1x1x16x4xf8E4M3FN> -> tensor<1x1x16x64xbf16>, tensor<1x1x16xf32>
  return
}

// -----

func.func @attention_fp4_state(%q: tensor<1x1x16x64xf4E2M1FN>, %s: tensor<1x1x16x4xf8E4M3FN>, %vs: tensor<1x1x1x64xf8E4M3FN>) {
  // expected-error @+1 {{mode fp4 is inference-only: it has no saved state and no backward}}
  %o, %l, %st = attnqat.attention %q, %q, %q scales(%s, %s, %vs) {config = #attnqat.config<mode = fp4>} : tensor<1x1x16x64xf4E2M1FN>, tensor<1x1x16x64xf4E2M1FN>, tensor<1x1x16x64xf4E2M1FN> scales tensor<1x1x16x4xf8E4M3FN>, tensor<1x1x16x4xf8E4M3FN>, tensor<1x1x1x64xf8E4M3FN> -> tensor<1x1x16x64xbf16>, tensor<1x1x16xf32>, !attnqat.state<config = #attnqat.config<mode = fp4>, query = tensor<1x1x16x64xbf16>, key = tensor<1x1x16x64xbf16>, scale = 1.0 : f32>
  return
}

// -----

func.func @attention_wrong_state(%q: tensor<1x1x16x64xf32>) {
  // expected-error @+1 {{state type '!attnqat.state<config = <mode = qat>, query = tensor<1x1x16x64xf32>, key = tensor<1x1x16x64xf32>, scale = 1.000000e+00 : f32>' does not describe this attention; expected '!attnqat.state<config = <mode = dropin>, query = tensor<1x1x16x64xf32>, key = tensor<1x1x16x64xf32>, scale = 1.000000e+00 : f32>'}}
  %o, %l, %st = attnqat.attention %q, %q, %q {config = #attnqat.config<mode = dropin>, scale = 1.0 : f32} : tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32> -> tensor<1x1x16x64xf32>, tensor<1x1x16xf32>, !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x16x64xf32>, key = tensor<1x1x16x64xf32>, scale = 1.0 : f32>
  return
}

// -----

func.func @attention_state_causal(%q: tensor<1x1x16x64xf32>) {
  // A state claiming a causal forward cannot come from a non-causal one.
  // expected-error @+1 {{does not describe this attention}}
  %o, %l, %st = attnqat.attention %q, %q, %q {config = #attnqat.config<mode = qat>, scale = 1.0 : f32} : tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32> -> tensor<1x1x16x64xf32>, tensor<1x1x16xf32>, !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x16x64xf32>, key = tensor<1x1x16x64xf32>, scale = 1.0 : f32, causal = true>
  return
}

// -----

!state = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x4x16x64xf32>, key = tensor<1x2x32x64xf32>, scale = 1.0 : f32>
func.func @backward_grad_output(%st: !state, %do: tensor<1x4x16x64xbf16>) {
  // expected-error @+1 {{grad_output must have the forward's query type 'tensor<1x4x16x64xf32>', got 'tensor<1x4x16x64xbf16>'}}
  %dq, %dk, %dv = attnqat.attention_backward %st, %do : !state, tensor<1x4x16x64xbf16> -> tensor<1x4x16x64xf32>, tensor<1x2x32x64xf32>, tensor<1x2x32x64xf32>
  return
}

// -----

!state = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x4x16x64xf32>, key = tensor<1x2x32x64xf32>, scale = 1.0 : f32>
func.func @backward_grad_query(%st: !state, %do: tensor<1x4x16x64xf32>) {
  // expected-error @+1 {{grad_query must have the forward's query type 'tensor<1x4x16x64xf32>', got 'tensor<1x2x16x64xf32>'}}
  %dq, %dk, %dv = attnqat.attention_backward %st, %do : !state, tensor<1x4x16x64xf32> -> tensor<1x2x16x64xf32>, tensor<1x2x32x64xf32>, tensor<1x2x32x64xf32>
  return
}

// -----

!state = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x4x16x64xf32>, key = tensor<1x2x32x64xf32>, scale = 1.0 : f32>
func.func @backward_grad_key(%st: !state, %do: tensor<1x4x16x64xf32>) {
  // GQA: dK has the KV heads' shape, not the query heads'.
  // expected-error @+1 {{grad_key must have the forward's key type 'tensor<1x2x32x64xf32>', got 'tensor<1x4x32x64xf32>'}}
  %dq, %dk, %dv = attnqat.attention_backward %st, %do : !state, tensor<1x4x16x64xf32> -> tensor<1x4x16x64xf32>, tensor<1x4x32x64xf32>, tensor<1x2x32x64xf32>
  return
}

// -----

!state = !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x4x16x64xf32>, key = tensor<1x2x32x64xf32>, scale = 1.0 : f32>
func.func @backward_grad_value(%st: !state, %do: tensor<1x4x16x64xf32>) {
  // expected-error @+1 {{grad_value must have the forward's value type 'tensor<1x2x32x64xf32>', got 'tensor<1x2x32x64xbf16>'}}
  %dq, %dk, %dv = attnqat.attention_backward %st, %do : !state, tensor<1x4x16x64xf32> -> tensor<1x4x16x64xf32>, tensor<1x2x32x64xf32>, tensor<1x2x32x64xbf16>
  return
}

// -----

// expected-error @+1 {{mode fp4 is inference-only: it has no saved state and no backward}}
func.func @backward_fp4_state(%st: !attnqat.state<config = #attnqat.config<mode = fp4>, query = tensor<1x1x16x64xf32>, key = tensor<1x1x16x64xf32>, scale = 1.0 : f32>) {
  return
}

// -----

// expected-error @+1 {{state query and key types must be rank 4 ([B, H, L, D])}}
func.func @state_rank(%st: !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<16x64xf32>, key = tensor<1x1x16x64xf32>, scale = 1.0 : f32>) {
  return
}

// -----

// expected-error @+1 {{state query and key must have the same bf16, f16 or f32 element type}}
func.func @state_elt(%st: !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x16x64xf32>, key = tensor<1x1x16x64xbf16>, scale = 1.0 : f32>) {
  return
}

// -----

// expected-error @+1 {{state scale must be an f32}}
func.func @state_scale(%st: !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x16x64xf32>, key = tensor<1x1x16x64xf32>, scale = 1.0 : f64>) {
  return
}

// -----

// expected-error @+1 {{state mask type must be rank 4}}
func.func @state_mask(%st: !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x16x64xf32>, key = tensor<1x1x16x64xf32>, scale = 1.0 : f32, mask = tensor<16x16xf32>>) {
  return
}

// -----

// A state describes a forward attnqat.attention could have run: the
// forward's own checks hold for it too.
// expected-error @+1 {{softmax scale must be finite and positive, got -1}}
func.func @state_scale_negative(%st: !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x16x64xf32>, key = tensor<1x1x16x64xf32>, scale = -1.0 : f32>) {
  return
}

// -----

// expected-error @+1 {{softmax scale must be finite and positive, got nan}}
func.func @state_scale_nan(%st: !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x16x64xf32>, key = tensor<1x1x16x64xf32>, scale = 0x7FC00000 : f32>) {
  return
}

// -----

// expected-error @+1 {{query head dim 64 does not match key head dim 128}}
func.func @state_head_dims(%st: !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x16x64xf32>, key = tensor<1x1x16x128xf32>, scale = 1.0 : f32>) {
  return
}

// -----

// expected-error @+1 {{query heads (3) must be a multiple of key/value heads (2)}}
func.func @state_heads(%st: !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x3x16x64xf32>, key = tensor<1x2x16x64xf32>, scale = 1.0 : f32>) {
  return
}

// -----

// expected-error @+1 {{key/value heads must be at least 1, got 0}}
func.func @state_no_heads(%st: !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x0x16x64xf32>, key = tensor<1x0x16x64xf32>, scale = 1.0 : f32>) {
  return
}

// -----

// expected-error @+1 {{query batch 2 does not match key batch 3}}
func.func @state_batch(%st: !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<2x1x16x64xf32>, key = tensor<3x1x16x64xf32>, scale = 1.0 : f32>) {
  return
}

// -----

// expected-error @+1 {{mask must have shape [1 or B, 1 or Hq, M, N] with [B, Hq, M, N] = [1, 1, 16, 32], got [7, 7, 7, 7]}}
func.func @state_mask_shape(%st: !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x16x64xf32>, key = tensor<1x1x32x64xf32>, scale = 1.0 : f32, mask = tensor<7x7x7x7xf32>>) {
  return
}
