// A QAT forward + backward of one multi-head attention layer (B=1, H=8,
// N=1024, D=64), written in mode `none`: `--attnqat-attach-qat` turns on FP4
// quantization-aware training without touching the graph.
!state = !attnqat.state<config = #attnqat.config<mode = none>, query = tensor<1x8x1024x64xf32>, key = tensor<1x8x1024x64xf32>, scale = 0.125 : f32, causal = true>
func.func @train_step(%q: tensor<1x8x1024x64xf32> {attnqat.name = "q"},
                      %k: tensor<1x8x1024x64xf32> {attnqat.name = "k"},
                      %v: tensor<1x8x1024x64xf32> {attnqat.name = "v"},
                      %do: tensor<1x8x1024x64xf32> {attnqat.name = "do"})
    -> (tensor<1x8x1024x64xf32> {attnqat.name = "o"},
        tensor<1x8x1024xf32> {attnqat.name = "lse"},
        tensor<1x8x1024x64xf32> {attnqat.name = "dq"},
        tensor<1x8x1024x64xf32> {attnqat.name = "dk"},
        tensor<1x8x1024x64xf32> {attnqat.name = "dv"}) {
  %o, %lse, %state = attnqat.attention %q, %k, %v causal
      {config = #attnqat.config<mode = none>}
      : tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>
      -> tensor<1x8x1024x64xf32>, tensor<1x8x1024xf32>, !state
  %dq, %dk, %dv = attnqat.attention_backward %state, %do
      : !state, tensor<1x8x1024x64xf32>
      -> tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>
  return %o, %lse, %dq, %dk, %dv : tensor<1x8x1024x64xf32>, tensor<1x8x1024xf32>,
      tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>, tensor<1x8x1024x64xf32>
}
