// Throughput of the instructions the forward's softmax and P codec are made
// of (FRND.FLOOR, FADD, FADD.RM, MUFU.EX2, F2FP.BF16 pack, FMNMX),
// alone and in pairs, relative to FADD: whether floor runs at the FMA rate
// or shares the quarter-rate pipe with ex2. A pair that shares one pipe
// takes the sum of its parts' times; one on separate pipes, the larger.
// Build here, run on the device machine:
//   nvcc -gencode arch=compute_90a,code=sm_90a -O2 -o pipes scripts/probes/pipe-throughput.cu
//   cuobjdump -sass pipes | grep -c FRND   (the ops are there as written)
#include <cstdio>

constexpr int kChains = 8, kIters = 4096;

enum Op { kFadd, kFaddRm, kFrnd, kEx2, kF2fp, kFmnmx };

template <Op op> __device__ __forceinline__ float step(float x) {
  float r;
  if constexpr (op == kFadd)
    asm volatile("add.f32 %0, %1, 0f3F000000;" : "=f"(r) : "f"(x));
  else if constexpr (op == kFaddRm)
    asm volatile("add.rm.f32 %0, %1, 0f3F000000;" : "=f"(r) : "f"(x));
  else if constexpr (op == kFrnd)
    asm volatile("cvt.rmi.f32.f32 %0, %1;" : "=f"(r) : "f"(x));
  else if constexpr (op == kEx2)
    asm volatile("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(x));
  else if constexpr (op == kF2fp)
    asm volatile("cvt.rn.bf16x2.f32 %0, %1, %1;" : "=r"(*reinterpret_cast<unsigned *>(&r)) : "f"(x));
  else
    asm volatile("max.f32 %0, %1, 0f3F000000;" : "=f"(r) : "f"(x));
  return r;
}

// Each thread runs kChains independent chains of `a` (and of `b` when
// `pair`), kIters steps each.
template <Op a, Op b, bool pair> __global__ void run(float *out, float seed) {
  float x[kChains], y[kChains];
  for (int c = 0; c < kChains; ++c)
    x[c] = y[c] = seed + threadIdx.x * 1e-3f + c;
  for (int i = 0; i < kIters; ++i)
#pragma unroll
    for (int c = 0; c < kChains; ++c) {
      x[c] = step<a>(x[c]);
      if (pair)
        y[c] = step<b>(y[c]);
    }
  float s = 0;
  for (int c = 0; c < kChains; ++c)
    s += x[c] + y[c];
  if (s == 12345.f)
    out[threadIdx.x] = s;
}

template <Op a, Op b, bool pair> float timeIt(float *out) {
  int sms;
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  run<a, b, pair><<<sms * 8, 256>>>(out, 0.25f); // warm-up
  cudaEventRecord(e0);
  for (int r = 0; r < 5; ++r)
    run<a, b, pair><<<sms * 8, 256>>>(out, 0.25f);
  cudaEventRecord(e1);
  cudaEventSynchronize(e1);
  float ms;
  cudaEventElapsedTime(&ms, e0, e1);
  return ms / 5;
}

int main() {
  float *out;
  cudaMalloc(&out, 1024 * sizeof(float));
  struct Row {
    const char *name;
    float ms;
  } rows[] = {
      {"FADD", timeIt<kFadd, kFadd, false>(out)},
      {"FADD.RM", timeIt<kFaddRm, kFadd, false>(out)},
      {"FRND.FLOOR", timeIt<kFrnd, kFadd, false>(out)},
      {"MUFU.EX2", timeIt<kEx2, kFadd, false>(out)},
      {"F2FP.BF16.PACK", timeIt<kF2fp, kFadd, false>(out)},
      {"FMNMX", timeIt<kFmnmx, kFadd, false>(out)},
      {"FRND + MUFU.EX2", timeIt<kFrnd, kEx2, true>(out)},
      {"F2FP + MUFU.EX2", timeIt<kF2fp, kEx2, true>(out)},
      {"FRND + F2FP", timeIt<kFrnd, kF2fp, true>(out)},
      {"FADD + FRND", timeIt<kFadd, kFrnd, true>(out)},
      {"FADD + FMNMX", timeIt<kFadd, kFmnmx, true>(out)},
  };
  cudaError_t err = cudaDeviceSynchronize();
  if (err != cudaSuccess) {
    std::printf("CUDA error: %s\n", cudaGetErrorString(err));
    return 1;
  }
  // FADD runs at 128 per SM and clock on sm_90 (4 warp instructions).
  for (const Row &r : rows)
    std::printf("%-18s %8.3f ms  %6.2f x FADD's time  (%5.1f lanes/clk/SM if FADD is 128)\n",
                r.name, r.ms, r.ms / rows[0].ms, 128 * rows[0].ms / r.ms);
  return 0;
}
