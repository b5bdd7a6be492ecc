//===- gpu_codec_test.cpp - generated codec kernels vs the C++ codec ------===//
//
// Launches the GPU kernels attnqat-opt generated for quantize / fake_quant
// (the codec artifact, see codec.manifest.in) through the runtime and
// compares every code, scale and value bit for bit with lib/Numerics, the
// codec the CPU path and the references share. Runs where a GPU is; exits 77
// (skipped) without one.
//
//   attnqat-rt-gpu-codec-test codec_sm90a.aqa
//
//===----------------------------------------------------------------------===//

#include "attnqat-runtime/attnqat_runtime.h"
#include "attnqat/Numerics/FP4.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace num = attnqat::numerics;

namespace {
int failures = 0;

void check(bool ok, const std::string &what) {
  std::printf("%s: %s\n", ok ? "ok  " : "FAIL", what.c_str());
  failures += !ok;
}

struct Runtime {
  attnqat_rt_runtime *rt = nullptr;
  attnqat_rt_module *module = nullptr;
  uint64_t upload(const void *data, size_t bytes) {
    uint64_t p = 0;
    attnqat_rt_mem_alloc(rt, bytes, &p);
    attnqat_rt_memcpy_htod(rt, p, data, bytes);
    return p;
  }
  uint64_t alloc(size_t bytes) {
    uint64_t p = 0;
    attnqat_rt_mem_alloc(rt, bytes, &p);
    return p;
  }
  /// Launches `name` on [outer, axis, inner]; returns false with a message on
  /// any runtime error.
  bool launch(const char *name, int64_t outer, int64_t axis, int64_t inner,
              std::vector<attnqat_rt_arg> args) {
    attnqat_rt_kernel *kernel = nullptr;
    if (attnqat_rt_module_get_kernel(module, name, &kernel) != ATTNQAT_RT_SUCCESS) {
      std::printf("FAIL: kernel %s: %s\n", name, attnqat_rt_last_error(module));
      ++failures;
      return false;
    }
    attnqat_rt_problem problem{};
    problem.B = outer, problem.M = axis, problem.D = inner;
    problem.Hq = problem.Hkv = problem.N = 1;
    if (attnqat_rt_launch(kernel, &problem, args.data(), args.size(), nullptr) !=
            ATTNQAT_RT_SUCCESS ||
        attnqat_rt_stream_synchronize(rt, nullptr) != ATTNQAT_RT_SUCCESS) {
      std::printf("FAIL: launch %s: %s\n", name, attnqat_rt_last_error(kernel));
      ++failures;
      return false;
    }
    return true;
  }
};

/// Expected packed codes and scales of x viewed as [outer, axis, inner].
void expectedQuantize(num::Format f, const std::vector<float> &x, int64_t outer,
                      int64_t axis, int64_t inner, float g,
                      std::vector<uint8_t> &packed, std::vector<uint8_t> &scales) {
  int64_t shape[3] = {outer, axis, inner}, strides[3] = {axis * inner, inner, 1};
  std::vector<uint8_t> codes(x.size());
  scales.assign(outer * num::numBlocks(f, axis) * inner, 0);
  num::quantizeTensor(f, x.data(), num::TensorView{3, shape, strides}, 1, g,
                      codes.data(), scales.data());
  int64_t half = (axis + 1) / 2;
  packed.assign(outer * half * inner, 0);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < axis; ++k)
      for (int64_t i = 0; i < inner; ++i)
        packed[(o * half + k / 2) * inner + i] |=
            codes[(o * axis + k) * inner + i] << (4 * (k % 2));
}

std::vector<float> randomValues(size_t n, uint64_t seed, float std,
                                double outliers) {
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> normal(0.0f, std);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<float> v(n);
  for (float &x : v)
    x = normal(gen) * (u(gen) < outliers ? 1000.0f : 1.0f);
  return v;
}

/// The t64 layout (sm_120a's V^T operand) of the same codes and scales: per
/// (o, i) a row of ceil(axis/64) tiles, 32 code bytes (element 2j in the low
/// nibble of byte j) and 64/bs scale bytes each; padding zero.
void toT64(num::Format f, int64_t outer, int64_t axis, int64_t inner,
           std::vector<uint8_t> &packed, std::vector<uint8_t> &scales) {
  int64_t bs = num::blockSize(f), nb = num::numBlocks(f, axis);
  int64_t tiles = (axis + 63) / 64, half = (axis + 1) / 2;
  std::vector<uint8_t> codes(outer * inner * tiles * 32, 0),
      sc(outer * inner * tiles * (64 / bs), 0);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t row = o * inner + i;
      for (int64_t k = 0; k < axis; ++k) {
        uint8_t code = (packed[(o * half + k / 2) * inner + i] >> (4 * (k % 2))) & 15;
        codes[row * tiles * 32 + k / 2] |= code << (4 * (k % 2));
      }
      for (int64_t kb = 0; kb < nb; ++kb)
        sc[row * tiles * (64 / bs) + kb] = scales[(o * nb + kb) * inner + i];
    }
  packed = std::move(codes);
  scales = std::move(sc);
}

void testQuantize(Runtime &r, const char *name, num::Format f, int64_t outer,
                  int64_t axis, int64_t inner, std::vector<float> x, bool t64 = false) {
  std::vector<uint16_t> bf(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    bf[i] = num::floatToBF16(x[i]);
    x[i] = num::bf16ToFloat(bf[i]); // the kernel sees the bf16 value
  }
  std::vector<uint8_t> packed, scales;
  expectedQuantize(f, x, outer, axis, inner, 1.0f, packed, scales);
  if (t64)
    toT64(f, outer, axis, inner, packed, scales);
  uint64_t dIn = r.upload(bf.data(), bf.size() * 2);
  uint64_t dCodes = r.alloc(packed.size()), dScales = r.alloc(scales.size());
  if (!r.launch(name, outer, axis, inner,
                {attnqat_rt_arg_ptr("input", dIn), attnqat_rt_arg_ptr("codes", dCodes),
                 attnqat_rt_arg_ptr("scales", dScales)}))
    return;
  std::vector<uint8_t> gotCodes(packed.size()), gotScales(scales.size());
  attnqat_rt_memcpy_dtoh(r.rt, gotCodes.data(), dCodes, gotCodes.size());
  attnqat_rt_memcpy_dtoh(r.rt, gotScales.data(), dScales, gotScales.size());
  size_t badCodes = 0, badScales = 0;
  for (size_t i = 0; i < packed.size(); ++i)
    badCodes += gotCodes[i] != packed[i];
  for (size_t i = 0; i < scales.size(); ++i)
    badScales += gotScales[i] != scales[i];
  char what[256];
  std::snprintf(what, sizeof(what),
                "%s [%lld, %lld, %lld]: %zu/%zu code bytes and %zu/%zu scales differ",
                name, (long long)outer, (long long)axis, (long long)inner, badCodes,
                packed.size(), badScales, scales.size());
  check(badCodes == 0 && badScales == 0, what);
  for (uint64_t p : {dIn, dCodes, dScales})
    attnqat_rt_mem_free(r.rt, p);
}

/// fake_quant of `input` (whose values are `values`); with `offset`, input
/// and output sit that many elements past an allocation's start (pointers
/// the kernel's vector path does not take).
template <typename T>
void testFakeQuant(Runtime &r, const char *name, num::Format f, int64_t outer,
                   int64_t axis, int64_t inner, const std::vector<T> &input,
                   const std::vector<float> &values, int64_t offset = 0) {
  int64_t shape[3] = {outer, axis, inner}, strides[3] = {axis * inner, inner, 1};
  std::vector<float> expected(values.size());
  num::fakeQuantTensor(f, values.data(), num::TensorView{3, shape, strides}, 1,
                       1.0f, expected.data());
  size_t bytes = input.size() * sizeof(T), skip = offset * sizeof(T);
  uint64_t dIn = r.alloc(bytes + skip), dOut = r.alloc(bytes + skip);
  attnqat_rt_memcpy_htod(r.rt, dIn + skip, input.data(), bytes);
  if (!r.launch(name, outer, axis, inner,
                {attnqat_rt_arg_ptr("input", dIn + skip),
                 attnqat_rt_arg_ptr("output", dOut + skip)}))
    return;
  std::vector<T> got(input.size());
  attnqat_rt_memcpy_dtoh(r.rt, got.data(), dOut + skip, bytes);
  size_t bad = 0, nans = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    float g;
    if constexpr (sizeof(T) == 2)
      g = num::bf16ToFloat(got[i]);
    else
      std::memcpy(&g, &got[i], 4);
    float e = expected[i];
    if constexpr (sizeof(T) == 2)
      e = num::bf16ToFloat(num::floatToBF16(e));
    if (std::isnan(e) || std::isnan(g)) {
      bad += std::isnan(e) != std::isnan(g);
      nans += std::isnan(e);
      continue;
    }
    bad += std::memcmp(&g, &e, 4) != 0;
  }
  char what[256];
  std::snprintf(what, sizeof(what),
                "%s [%lld, %lld, %lld]%s: %zu/%zu values differ (%zu NaN expected)",
                name, (long long)outer, (long long)axis, (long long)inner,
                offset ? " at an unaligned address" : "", bad, got.size(), nans);
  check(bad == 0, what);
  attnqat_rt_mem_free(r.rt, dIn);
  attnqat_rt_mem_free(r.rt, dOut);
}
/// Dequantize of x's packed codes and scales (quantized on the CPU, viewed as
/// [outer, axis, inner]) against lib/Numerics' decode, bit for bit.
template <typename T>
void testDequantize(Runtime &r, const char *name, num::Format f, int64_t outer,
                    int64_t axis, int64_t inner, const std::vector<float> &x) {
  std::vector<uint8_t> packed, scales;
  expectedQuantize(f, x, outer, axis, inner, 1.0f, packed, scales);
  uint64_t dCodes = r.upload(packed.data(), packed.size());
  uint64_t dScales = r.upload(scales.data(), scales.size());
  uint64_t dOut = r.alloc(x.size() * sizeof(T));
  if (!r.launch(name, outer, axis, inner,
                {attnqat_rt_arg_ptr("codes", dCodes), attnqat_rt_arg_ptr("scales", dScales),
                 attnqat_rt_arg_ptr("output", dOut)}))
    return;
  std::vector<T> got(x.size());
  attnqat_rt_memcpy_dtoh(r.rt, got.data(), dOut, got.size() * sizeof(T));
  int64_t half = (axis + 1) / 2, nb = num::numBlocks(f, axis), bs = num::blockSize(f);
  size_t bad = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < axis; ++k)
      for (int64_t i = 0; i < inner; ++i) {
        uint8_t code = (packed[(o * half + k / 2) * inner + i] >> (4 * (k % 2))) & 15;
        float e = num::dequantizeElement(f, code, scales[(o * nb + k / bs) * inner + i], 1.0f);
        size_t at = (o * axis + k) * inner + i;
        float g;
        if constexpr (sizeof(T) == 2) {
          g = num::bf16ToFloat(got[at]);
          e = num::bf16ToFloat(num::floatToBF16(e));
        } else {
          std::memcpy(&g, &got[at], 4);
        }
        bad += std::isnan(e) ? !std::isnan(g) : std::memcmp(&g, &e, 4) != 0;
      }
  char what[256];
  std::snprintf(what, sizeof(what), "%s [%lld, %lld, %lld]: %zu/%zu values differ", name,
                (long long)outer, (long long)axis, (long long)inner, bad, got.size());
  check(bad == 0, what);
  for (uint64_t p : {dCodes, dScales, dOut})
    attnqat_rt_mem_free(r.rt, p);
}
} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s codec_sm90a.aqa\n", argv[0]);
    return 2;
  }
  Runtime r;
  if (attnqat_rt_create(nullptr, &r.rt) != ATTNQAT_RT_SUCCESS) {
    std::printf("SKIPPED: %s\n", attnqat_rt_last_error(nullptr));
    return 77;
  }
  if (attnqat_rt_module_load_file(r.rt, argv[1], &r.module) != ATTNQAT_RT_SUCCESS) {
    std::printf("FAIL: %s\n", attnqat_rt_last_error(r.rt));
    return 1;
  }
  // Q and K of attention: blocks along D (inner = 1), D = 128 and 64.
  testQuantize(r, "quantize_nvfp4_bf16", num::Format::NVFP4, 2 * 8 * 64, 128, 1,
               randomValues(2 * 8 * 64 * 128, 1, 1.0f, 0.01));
  // V: blocks along keys (inner = D), a 37-key tail, outliers.
  testQuantize(r, "quantize_nvfp4_bf16", num::Format::NVFP4, 2 * 8, 37, 64,
               randomValues(2 * 8 * 37 * 64, 2, 1.0f, 0.05));
  testQuantize(r, "quantize_mxfp4_bf16", num::Format::MXFP4, 2 * 8, 37, 64,
               randomValues(2 * 8 * 37 * 64, 3, 3.0f, 0.05));
  // V in the t64 layout (sm_120a's block-scaled MMA): the same codes and
  // scales transposed per (head, d), keys padded to 64 with zeros.
  testQuantize(r, "quantize_nvfp4_bf16_t64", num::Format::NVFP4, 2 * 8, 37, 64,
               randomValues(2 * 8 * 37 * 64, 2, 1.0f, 0.05), /*t64=*/true);
  testQuantize(r, "quantize_nvfp4_bf16_t64", num::Format::NVFP4, 3, 200, 128,
               randomValues(3 * 200 * 128, 6, 1.0f, 0.01), /*t64=*/true);
  testQuantize(r, "quantize_nvfp4_bf16_t64", num::Format::NVFP4, 1, 1, 8,
               randomValues(8, 7, 1.0f, 0.0), /*t64=*/true);
  testQuantize(r, "quantize_mxfp4_bf16_t64", num::Format::MXFP4, 2 * 8, 37, 64,
               randomValues(2 * 8 * 37 * 64, 3, 3.0f, 0.05), /*t64=*/true);
  // A contiguous axis that is not whole blocks (the strided path).
  testQuantize(r, "quantize_nvfp4_bf16", num::Format::NVFP4, 8, 70, 1,
               randomValues(8 * 70, 11, 1.0f, 0.05));
  // Tiny values: NVFP4 scales underflow to E4M3 subnormals and zero.
  testQuantize(r, "quantize_nvfp4_bf16", num::Format::NVFP4, 64, 48, 1,
               randomValues(64 * 48, 4, 1e-4f, 0.0));
  // Every BF16 bit pattern (NaN, Inf, subnormals) in 16-element blocks.
  {
    std::vector<uint16_t> all(65536);
    std::vector<float> values(65536);
    for (uint32_t i = 0; i < 65536; ++i) {
      all[i] = static_cast<uint16_t>(i);
      values[i] = num::bf16ToFloat(all[i]);
    }
    // Blocks along a contiguous axis take the kernel's vector path; the
    // same values 2 bytes off alignment take its strided one.
    testFakeQuant(r, "fake_quant_nvfp4_bf16", num::Format::NVFP4, 4096, 16, 1,
                  all, values);
    testFakeQuant(r, "fake_quant_nvfp4_bf16", num::Format::NVFP4, 4096, 16, 1,
                  all, values, /*offset=*/1);
    std::vector<float> x(values);
    testQuantize(r, "quantize_mxfp4_bf16", num::Format::MXFP4, 2048, 32, 1, x);
  }
  {
    std::vector<float> x = randomValues(37 * 70 * 3, 5, 2.0f, 0.02);
    testFakeQuant(r, "fake_quant_mxfp4_f32", num::Format::MXFP4, 37, 70, 3, x, x);
  }
  // V of attention: blocks along keys (inner = D), 8 columns per lane, a
  // 37-key tail (an odd last block).
  {
    std::vector<float> x = randomValues(2 * 8 * 37 * 64, 12, 1.0f, 0.05);
    std::vector<uint16_t> bits(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      bits[i] = num::floatToBF16(x[i]);
      x[i] = num::bf16ToFloat(bits[i]);
    }
    testFakeQuant(r, "fake_quant_nvfp4_bf16", num::Format::NVFP4, 2 * 8, 37, 64, bits, x);
  }
  // Dequantize (FP4 inference decodes packed Q, K, V once): Q blocked along
  // D, V along keys with a tail, MXFP4 with outliers.
  testDequantize<uint16_t>(r, "dequantize_nvfp4_bf16", num::Format::NVFP4, 2 * 8 * 64, 128,
                           1, randomValues(2 * 8 * 64 * 128, 8, 1.0f, 0.01));
  testDequantize<uint16_t>(r, "dequantize_nvfp4_bf16", num::Format::NVFP4, 2 * 8, 37, 64,
                           randomValues(2 * 8 * 37 * 64, 9, 1.0f, 0.05));
  testDequantize<float>(r, "dequantize_mxfp4_f32", num::Format::MXFP4, 2 * 8, 37, 64,
                        randomValues(2 * 8 * 37 * 64, 10, 3.0f, 0.05));
  attnqat_rt_module_unload(r.module);
  attnqat_rt_destroy(r.rt);
  std::printf("%s: %d failures\n", failures ? "FAIL" : "PASS", failures);
  return failures ? 1 : 0;
}
