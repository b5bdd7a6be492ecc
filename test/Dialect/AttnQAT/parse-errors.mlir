// Malformed attributes and types get a diagnostic and a non-zero exit.
// RUN: attnqat-opt %s -split-input-file -verify-diagnostics

func.func @bad_mode(%x: tensor<1x1x16x64xf32>) {
  // expected-error @+2 {{expected one of [none, qat, dropin, fp4] for how an attention op quantizes, got: fp8}}
  // expected-error @+1 {{failed to parse AttnQAT_ConfigAttr parameter 'mode' which is to be a `Mode`}}
  %o, %l = attnqat.attention %x, %x, %x {config = #attnqat.config<mode = fp8>} : tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32> -> tensor<1x1x16x64xf32>, tensor<1x1x16xf32>
  return
}

// -----

func.func @missing_mode(%x: tensor<1x1x16x64xf32>) {
  // expected-error @+1 {{struct is missing required parameter: mode}}
  %o, %l = attnqat.attention %x, %x, %x {config = #attnqat.config<p_scaling = two_level>} : tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32> -> tensor<1x1x16x64xf32>, tensor<1x1x16xf32>
  return
}

// -----

func.func @format_not_fp4(%x: tensor<1x1x16x64xf32>) {
  // expected-error @+2 {{invalid kind of attribute specified}}
  // expected-error @+1 {{failed to parse AttnQAT_ConfigAttr parameter 'q' which is to be a `FP4FormatAttrInterface`}}
  %o, %l = attnqat.attention %x, %x, %x {config = #attnqat.config<mode = qat, q = 3 : i32>} : tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32> -> tensor<1x1x16x64xf32>, tensor<1x1x16xf32>
  return
}

// -----

func.func @missing_config(%x: tensor<1x1x16x64xf32>) {
  // expected-error @+1 {{requires attribute 'config'}}
  %o, %l = attnqat.attention %x, %x, %x : tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32>, tensor<1x1x16x64xf32> -> tensor<1x1x16x64xf32>, tensor<1x1x16xf32>
  return
}

// -----

func.func @bad_format_attr(%x: tensor<16xf32>) {
  // expected-error @+1 {{invalid kind of attribute specified}}
  %y = attnqat.fake_quant %x as #attnqat.config<mode = qat> along 0 : tensor<16xf32>
  return
}

// -----

// expected-error @+1 {{struct is missing required parameter: key}}
func.func @state_missing_key(%s: !attnqat.state<config = #attnqat.config<mode = qat>, query = tensor<1x1x16x64xf32>, scale = 1.0 : f32>) {
  return
}

// -----

// expected-error @+1 {{unknown attribute `int4` in dialect `attnqat`}}
func.func @unknown_attr() attributes {a = #attnqat.int4} {
  return
}
