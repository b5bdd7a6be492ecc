// Whether ex2.approx.ftz.f32 (one MUFU.EX2) is exact at integer arguments:
// TileBuilder::pTilde takes 2^(floor s - m) from it. Checks every integer n
// in [-160, 127] (2^n for n >= -126, +0 below under ftz) and -inf, -0.
// Build here, run on the device machine:
//   nvcc -gencode arch=compute_90a,code=sm_90a -O2 -o probe scripts/probes/ex2-integers.cu
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
__global__ void k(const float *in, float *out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) {
    float r;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(in[i]));
    out[i] = r;
  }
}
int main() {
  const int lo = -160, hi = 127, n = hi - lo + 1 + 2;
  float in[n], out[n], *din, *dout;
  for (int i = 0; i <= hi - lo; ++i)
    in[i] = float(lo + i);
  in[n - 2] = -INFINITY;
  in[n - 1] = -0.0f;
  cudaMalloc(&din, sizeof in);
  cudaMalloc(&dout, sizeof out);
  cudaMemcpy(din, in, sizeof in, cudaMemcpyHostToDevice);
  k<<<1, 512>>>(din, dout, n);
  if (cudaMemcpy(out, dout, sizeof out, cudaMemcpyDeviceToHost) != cudaSuccess) {
    std::printf("FAIL: CUDA error\n");
    return 1;
  }
  int bad = 0;
  for (int i = 0; i < n; ++i) {
    float want = i == n - 2 ? 0.0f : i == n - 1 ? 1.0f
                 : in[i] >= -126 ? std::ldexp(1.0f, int(in[i])) : 0.0f;
    uint32_t a, b;
    std::memcpy(&a, &out[i], 4);
    std::memcpy(&b, &want, 4);
    if (a != b) {
      std::printf("ex2.approx.ftz(%g) = %a, want %a\n", in[i], out[i], want);
      ++bad;
    }
  }
  std::printf("%s: ex2.approx.ftz at %d arguments (integers %d..%d, -inf, -0), %d differ\n",
              bad ? "FAIL" : "PASS", n, lo, hi, bad);
  return bad != 0;
}
