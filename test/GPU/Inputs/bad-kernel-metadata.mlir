// A kernel module written by hand whose launch grid is not three strings
// (attnqat-compile.test).
gpu.module @attnqat_kernels {
  gpu.func @k(%a: memref<4xf32>) kernel attributes {attnqat.params = ["q"], attnqat.launch = {block = 128 : i64, grid = [1, 2, 3]}} {
    gpu.return
  }
}
