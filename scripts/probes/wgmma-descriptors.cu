// The wgmma descriptor conventions WgmmaAttention.cpp uses, on a GPU:
// K-major 128B-swizzled SS (S = Q K^T, m64n64k16) and RS with an MN-major
// (transposed) 128B-swizzled B (O = P V, m64n128k16; LBO = 8192 must match,
// LBO = 1024 must not). Build here, run on the device machine:
//   nvcc -gencode arch=compute_90a,code=sm_90a -O2 -o probe scripts/probes/wgmma-descriptors.cu
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cmath>
#include <cuda_bf16.h>
#include <vector>
constexpr int D = 128, R = 64, NK = 64;
__device__ uint32_t swz(int row, int col) { // byte offset in a [D/64][rows][128B] tile
  int cb = col / 64, ch = (col % 64) / 8;
  return cb * (R * 128) + row * 128 + ((ch ^ (row % 8)) * 16) + (col % 8) * 2;
}
__device__ uint64_t desc(uint32_t addr, uint32_t lbo, uint32_t sbo) {
  uint64_t d = 0;
  d |= (uint64_t)((addr & 0x3FFFF) >> 4);
  d |= (uint64_t)((lbo >> 4) & 0x3FFF) << 16;
  d |= (uint64_t)((sbo >> 4) & 0x3FFF) << 32;
  d |= (uint64_t)1 << 62; // 128B swizzle
  return d;
}
__global__ void k(const __nv_bfloat16 *q, const __nv_bfloat16 *kk, const __nv_bfloat16 *v,
                  float *s_out, float *o_out, int vlbo) {
  extern __shared__ __align__(1024) uint8_t smem[];
  uint8_t *base = (uint8_t *)(((uintptr_t)smem + 1023) & ~(uintptr_t)1023);
  uint8_t *qs = base, *ks = base + R * D * 2, *vs = ks + NK * D * 2;
  int tid = threadIdx.x;
  for (int i = tid; i < R * D; i += 128) {
    int r = i / D, c = i % D;
    *(__nv_bfloat16 *)(qs + swz(r, c)) = q[i];
    *(__nv_bfloat16 *)(ks + swz(r, c)) = kk[i];
    *(__nv_bfloat16 *)(vs + swz(r, c)) = v[i];
  }
  asm volatile("fence.proxy.async.shared::cta;");
  __syncthreads();
  uint32_t qa = (uint32_t)__cvta_generic_to_shared(qs), ka = (uint32_t)__cvta_generic_to_shared(ks),
           va = (uint32_t)__cvta_generic_to_shared(vs);
  float s[32];
  for (int i = 0; i < 32; ++i) s[i] = 0;
  asm volatile("wgmma.fence.sync.aligned;");
  for (int kc = 0; kc < D / 16; ++kc) {
    uint32_t off = (kc / 4) * (R * 128) + (kc % 4) * 32;
    uint64_t da = desc(qa + off, 16, 1024), db = desc(ka + off, 16, 1024);
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "
      "{%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31},"
      " %32, %33, p, 1, 1, 0, 0;\n}\n"
      : "+f"(s[0]),"+f"(s[1]),"+f"(s[2]),"+f"(s[3]),"+f"(s[4]),"+f"(s[5]),"+f"(s[6]),"+f"(s[7]),
        "+f"(s[8]),"+f"(s[9]),"+f"(s[10]),"+f"(s[11]),"+f"(s[12]),"+f"(s[13]),"+f"(s[14]),"+f"(s[15]),
        "+f"(s[16]),"+f"(s[17]),"+f"(s[18]),"+f"(s[19]),"+f"(s[20]),"+f"(s[21]),"+f"(s[22]),"+f"(s[23]),
        "+f"(s[24]),"+f"(s[25]),"+f"(s[26]),"+f"(s[27]),"+f"(s[28]),"+f"(s[29]),"+f"(s[30]),"+f"(s[31])
      : "l"(da), "l"(db));
  }
  asm volatile("wgmma.commit_group.sync.aligned;");
  asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
  int warp = tid / 32, lane = tid % 32, g = lane / 4, t = lane % 4;
  for (int i = 0; i < 8; ++i)
    for (int e = 0; e < 4; ++e) {
      int row = warp * 16 + g + (e / 2) * 8, col = i * 8 + 2 * t + e % 2;
      s_out[row * NK + col] = s[i * 4 + e];
    }
  float o[64];
  for (int i = 0; i < 64; ++i) o[i] = 0;
  asm volatile("wgmma.fence.sync.aligned;");
  for (int kc = 0; kc < NK / 16; ++kc) {
    uint32_t a[4];
    for (int h = 0; h < 2; ++h)
      for (int r = 0; r < 2; ++r) {
        __nv_bfloat162 pr = __floats2bfloat162_rn(s[(2 * kc + h) * 4 + 2 * r], s[(2 * kc + h) * 4 + 2 * r + 1]);
        a[h * 2 + r] = *(uint32_t *)&pr;
      }
    uint64_t dv = desc(va + kc * 2048, vlbo, 1024);
#define F8(x) "+f"(o[x]),"+f"(o[x+1]),"+f"(o[x+2]),"+f"(o[x+3]),"+f"(o[x+4]),"+f"(o[x+5]),"+f"(o[x+6]),"+f"(o[x+7])
    asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, 1, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 "
      "{%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31,"
      "%32,%33,%34,%35,%36,%37,%38,%39,%40,%41,%42,%43,%44,%45,%46,%47,%48,%49,%50,%51,%52,%53,%54,%55,%56,%57,%58,%59,%60,%61,%62,%63},"
      " {%64,%65,%66,%67}, %68, p, 1, 1, 1;\n}\n"
      : F8(0),F8(8),F8(16),F8(24),F8(32),F8(40),F8(48),F8(56)
      : "r"(a[0]),"r"(a[1]),"r"(a[2]),"r"(a[3]), "l"(dv));
  }
  asm volatile("wgmma.commit_group.sync.aligned;");
  asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
  for (int i = 0; i < 16; ++i)
    for (int e = 0; e < 4; ++e) {
      int row = warp * 16 + g + (e / 2) * 8, col = i * 8 + 2 * t + e % 2;
      o_out[row * D + col] = o[i * 4 + e];
    }
}
static float bf(float x) { return __bfloat162float(__float2bfloat16(x)); }
int main() {
  std::vector<__nv_bfloat16> hq(R * D), hk(NK * D), hv(NK * D);
  std::vector<float> fq(R * D), fk(NK * D), fv(NK * D);
  srand(1);
  auto rnd = [] { return (rand() % 2001 - 1000) / 1000.0f; };
  for (int i = 0; i < R * D; ++i) { hq[i] = __float2bfloat16(rnd()); fq[i] = __bfloat162float(hq[i]); }
  for (int i = 0; i < NK * D; ++i) { hk[i] = __float2bfloat16(rnd()); fk[i] = __bfloat162float(hk[i]);
                                     hv[i] = __float2bfloat16(rnd()); fv[i] = __bfloat162float(hv[i]); }
  __nv_bfloat16 *dq, *dk, *dv; float *ds, *dout;
  cudaMalloc(&dq, R * D * 2); cudaMalloc(&dk, NK * D * 2); cudaMalloc(&dv, NK * D * 2);
  cudaMalloc(&ds, R * NK * 4); cudaMalloc(&dout, R * D * 4);
  cudaMemcpy(dq, hq.data(), R * D * 2, cudaMemcpyHostToDevice);
  cudaMemcpy(dk, hk.data(), NK * D * 2, cudaMemcpyHostToDevice);
  cudaMemcpy(dv, hv.data(), NK * D * 2, cudaMemcpyHostToDevice);
  int smem = 1024 + (R + 2 * NK) * D * 2;
  cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, smem);
  for (int vlbo : {8192, 1024}) {
    k<<<1, 128, smem>>>(dq, dk, dv, ds, dout, vlbo);
    cudaError_t e = cudaDeviceSynchronize();
    if (e != cudaSuccess) { printf("error %s\n", cudaGetErrorString(e)); return 1; }
    std::vector<float> s(R * NK), o(R * D);
    cudaMemcpy(s.data(), ds, R * NK * 4, cudaMemcpyDeviceToHost);
    cudaMemcpy(o.data(), dout, R * D * 4, cudaMemcpyDeviceToHost);
    double es = 0, eo = 0;
    for (int i = 0; i < R; ++i)
      for (int j = 0; j < NK; ++j) {
        double acc = 0;
        for (int d = 0; d < D; ++d) acc += (double)fq[i * D + d] * fk[j * D + d];
        es = fmax(es, fabs(acc - s[i * NK + j]));
      }
    for (int i = 0; i < R; ++i)
      for (int d = 0; d < D; ++d) {
        double acc = 0;
        for (int j = 0; j < NK; ++j) acc += (double)bf(s[i * NK + j]) * fv[j * D + d];
        eo = fmax(eo, fabs(acc - o[i * D + d]));
      }
    printf("vlbo %d: max |S err| %g, max |O err| %g\n", vlbo, es, eo);
  }
  return 0;
}
