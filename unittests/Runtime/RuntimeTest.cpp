//===- RuntimeTest.cpp - libattnqat_runtime.so against a fake driver ------===//
//
// The C API loads libattnqat_fakecuda.so through its ordinary dlopen/dlsym
// path (attnqat_rt_options::libcuda_path), so module loading, kernel
// selection and every pre-launch check run as on a GPU, without one.
//
//===----------------------------------------------------------------------===//

#include "FakeCuda.h"
#include "TestArtifacts.h"
#include "attnqat-runtime/attnqat_runtime.h"

#include "gtest/gtest.h"

#include <cstring>
#include <string>
#include <thread>

using namespace attnqat_test;

#ifndef ATTNQAT_FAKECUDA_PATH
#error "ATTNQAT_FAKECUDA_PATH must name libattnqat_fakecuda.so"
#endif

namespace {

bool contains(const char *s, const char *needle) {
  return std::strstr(s, needle) != nullptr;
}

attnqat_rt_status createFake(attnqat_rt_runtime **rt, uint32_t flags = 0,
                             int device = 0) {
  attnqat_rt_options o;
  attnqat_rt_options_init(&o);
  o.libcuda_path = ATTNQAT_FAKECUDA_PATH;
  o.flags = flags;
  o.device = device;
  return attnqat_rt_create(&o, rt);
}

class RuntimeTest : public ::testing::Test {
protected:
  void SetUp() override { fakecuda_reset(); }
  void TearDown() override {
    if (mod)
      attnqat_rt_module_unload(mod);
    for (uint64_t p : allocs)
      attnqat_rt_mem_free(rt, p);
    if (rt)
      attnqat_rt_destroy(rt);
    EXPECT_EQ(fakecuda_loaded_modules(), 0);
    EXPECT_EQ(fakecuda_primary_retains(), 0);
  }

  void load(const Artifact &a = sampleArtifact()) {
    ASSERT_EQ(createFake(&rt), ATTNQAT_RT_SUCCESS) << attnqat_rt_last_error(nullptr);
    std::vector<uint8_t> bytes;
    ASSERT_FALSE(serializeArtifact(a, bytes));
    ASSERT_EQ(attnqat_rt_module_load_data(rt, bytes.data(), bytes.size(), &mod),
              ATTNQAT_RT_SUCCESS)
        << attnqat_rt_last_error(rt);
  }

  uint64_t alloc(size_t bytes) {
    uint64_t p = 0;
    EXPECT_EQ(attnqat_rt_mem_alloc(rt, bytes, &p), ATTNQAT_RT_SUCCESS);
    allocs.push_back(p);
    return p;
  }

  /// The forward kernel with buffers sized for `prob`.
  void setUpForward(const attnqat_rt_problem &prob) {
    load();
    ASSERT_EQ(attnqat_rt_module_get_kernel(mod, "attnqat_fwd_qat_d128", &fwd),
              ATTNQAT_RT_SUCCESS);
    size_t qo = size_t(prob.B * prob.Hq * prob.M * prob.D) * 2;
    size_t kv = size_t(prob.B * prob.Hkv * prob.N * prob.D) * 2;
    size_t lse = size_t(prob.B * prob.Hq * prob.M) * 4;
    args = {attnqat_rt_arg_ptr("q", alloc(qo)),
            attnqat_rt_arg_ptr("k", alloc(kv)),
            attnqat_rt_arg_ptr("v", alloc(kv)),
            attnqat_rt_arg_ptr("o", alloc(qo)),
            attnqat_rt_arg_ptr("lse", alloc(lse)),
            attnqat_rt_arg_f32("scale", 0.125f)};
  }

  /// Expects the launch to fail with `want` and a message containing
  /// `needle`, and nothing to be launched.
  void expectRejected(const attnqat_rt_problem &prob,
                      const std::vector<attnqat_rt_arg> &a,
                      attnqat_rt_status want, const char *needle,
                      void *stream = nullptr) {
    int before = fakecuda_launch_count();
    attnqat_rt_status s =
        attnqat_rt_launch(fwd, &prob, a.data(), a.size(), stream);
    EXPECT_EQ(s, want) << attnqat_rt_last_error(fwd);
    EXPECT_TRUE(contains(attnqat_rt_last_error(fwd), needle))
        << "got: " << attnqat_rt_last_error(fwd) << "\nwant: " << needle;
    EXPECT_STREQ(attnqat_rt_last_error(fwd), attnqat_rt_last_error(rt));
    EXPECT_EQ(attnqat_rt_check_launch(fwd, &prob, a.data(), a.size(), stream),
              want);
    EXPECT_EQ(fakecuda_launch_count(), before) << "a rejected launch ran";
  }

  attnqat_rt_runtime *rt = nullptr;
  attnqat_rt_module *mod = nullptr;
  attnqat_rt_kernel *fwd = nullptr;
  std::vector<uint64_t> allocs;
  std::vector<attnqat_rt_arg> args;
};

attnqat_rt_problem problem(int64_t B, int64_t Hq, int64_t Hkv, int64_t M,
                           int64_t N, int64_t D, uint32_t flags = 0) {
  attnqat_rt_problem p;
  std::memset(&p, 0, sizeof(p));
  p.B = B, p.Hq = Hq, p.Hkv = Hkv, p.M = M, p.N = N, p.D = D, p.flags = flags;
  return p;
}

} // namespace

//===----------------------------------------------------------------------===//
// Creation
//===----------------------------------------------------------------------===//

TEST_F(RuntimeTest, CreateBindsTheDevice) {
  ASSERT_EQ(createFake(&rt), ATTNQAT_RT_SUCCESS);
  attnqat_rt_device_info info;
  ASSERT_EQ(attnqat_rt_get_device_info(rt, &info), ATTNQAT_RT_SUCCESS);
  EXPECT_STREQ(info.name, "Fake H100");
  EXPECT_STREQ(info.chip, "sm_90a");
  EXPECT_EQ(info.cc_major, 9);
  EXPECT_EQ(info.multiprocessor_count, 132);
  EXPECT_EQ(info.max_shared_memory_per_block_optin, 232448);
  EXPECT_EQ(info.driver_version, 13000);
  EXPECT_EQ(fakecuda_primary_retains(), 1);
}

TEST_F(RuntimeTest, CreateReportsMissingDevices) {
  fakecuda_set_init_result(100); // CUDA_ERROR_NO_DEVICE
  EXPECT_EQ(createFake(&rt), ATTNQAT_RT_ERROR_NO_DEVICE);
  EXPECT_EQ(rt, nullptr);
  EXPECT_TRUE(contains(attnqat_rt_last_error(nullptr),
                       "no CUDA device (cuInit: CUDA_ERROR_NO_DEVICE (no "
                       "CUDA-capable device is detected)"))
      << attnqat_rt_last_error(nullptr);

  fakecuda_set_init_result(34); // CUDA_ERROR_STUB_LIBRARY
  EXPECT_EQ(createFake(&rt), ATTNQAT_RT_ERROR_NO_DRIVER);
  EXPECT_TRUE(contains(attnqat_rt_last_error(nullptr), "stub library"));

  fakecuda_set_init_result(0);
  fakecuda_set_device(0, 9, 0);
  EXPECT_EQ(createFake(&rt), ATTNQAT_RT_ERROR_NO_DEVICE);
  EXPECT_TRUE(contains(attnqat_rt_last_error(nullptr), "reports 0 devices"));

  fakecuda_set_device(1, 9, 0);
  EXPECT_EQ(createFake(&rt, 0, 3), ATTNQAT_RT_ERROR_NO_DEVICE);
  EXPECT_TRUE(contains(attnqat_rt_last_error(nullptr),
                       "no CUDA device 3: the driver reports 1 device(s)"));
}

TEST_F(RuntimeTest, CreateReportsLibrariesThatAreNotDrivers) {
  attnqat_rt_options o;
  attnqat_rt_options_init(&o);
  o.libcuda_path = "libc.so.6";
  EXPECT_EQ(attnqat_rt_create(&o, &rt), ATTNQAT_RT_ERROR_NO_DRIVER);
  EXPECT_TRUE(contains(attnqat_rt_last_error(nullptr),
                       "lacks the driver entry point cuInit"))
      << attnqat_rt_last_error(nullptr);
  o.libcuda_path = "/no/such/libcuda.so.1";
  EXPECT_EQ(attnqat_rt_create(&o, &rt), ATTNQAT_RT_ERROR_NO_DRIVER);
  EXPECT_TRUE(contains(attnqat_rt_last_error(nullptr),
                       "no CUDA driver (/no/such/libcuda.so.1 not found"));
}

//===----------------------------------------------------------------------===//
// Module loading and kernel selection
//===----------------------------------------------------------------------===//

TEST_F(RuntimeTest, LoadSelectsTheDeviceChip) {
  load();
  EXPECT_EQ(fakecuda_loaded_modules(), 1); // only the sm_90a image
  ASSERT_EQ(attnqat_rt_module_kernel_count(mod), 3u);
  EXPECT_STREQ(attnqat_rt_module_kernel_name(mod, 1), "attnqat_quantize_nvfp4");
  EXPECT_EQ(attnqat_rt_module_kernel_name(mod, 3), nullptr);

  attnqat_rt_kernel *k = nullptr;
  ASSERT_EQ(attnqat_rt_module_get_kernel(mod, "attnqat_fwd_qat_d128", &k),
            ATTNQAT_RT_SUCCESS);
  EXPECT_STREQ(attnqat_rt_kernel_op(k), "attention_forward");
  EXPECT_STREQ(attnqat_rt_kernel_config(k),
               "mode=qat p=nvfp4 p_scale=two_level");
  ASSERT_EQ(attnqat_rt_kernel_param_count(k), 13u);
  attnqat_rt_param_info pi;
  ASSERT_EQ(attnqat_rt_kernel_param(k, 0, &pi), ATTNQAT_RT_SUCCESS);
  EXPECT_STREQ(pi.role, "q");
  EXPECT_EQ(pi.kind, ATTNQAT_RT_ARG_PTR);
  EXPECT_EQ(pi.access, ATTNQAT_RT_ACCESS_IN);
  EXPECT_STREQ(pi.elem_type, "bf16");
  EXPECT_EQ(pi.align, 16u);
  EXPECT_STREQ(pi.extent, "B*Hq*M*D");
  EXPECT_STREQ(pi.layout, "[B,Hq,M,D] row-major");
  EXPECT_EQ(pi.from_problem, 0);
  ASSERT_EQ(attnqat_rt_kernel_param(k, 10, &pi), ATTNQAT_RT_SUCCESS);
  EXPECT_STREQ(pi.role, "N");
  EXPECT_EQ(pi.from_problem, 1);
  EXPECT_EQ(attnqat_rt_kernel_param(k, 13, &pi),
            ATTNQAT_RT_ERROR_INVALID_ARGUMENT);
  // Large dynamic shared memory is opted into at load.
  EXPECT_EQ(fakecuda_func_attribute("attnqat_fwd_qat_d128", 8), 200704);

  EXPECT_EQ(attnqat_rt_module_get_kernel(mod, "attnqat_fwd_tcgen05", &k),
            ATTNQAT_RT_ERROR_NO_KERNEL_FOR_CHIP);
  EXPECT_STREQ(attnqat_rt_last_error(mod),
               "kernel 'attnqat_fwd_tcgen05' has images for sm_100a only; "
               "this device is sm_90a");
  EXPECT_EQ(attnqat_rt_module_get_kernel(mod, "attnqat_bwd", &k),
            ATTNQAT_RT_ERROR_KERNEL_NOT_FOUND);
  EXPECT_TRUE(contains(attnqat_rt_last_error(mod),
                       "no kernel 'attnqat_bwd' in artifact <memory> (it has: "
                       "attnqat_fwd_qat_d128, attnqat_quantize_nvfp4, "
                       "attnqat_fwd_tcgen05)"));

  // By op and config.
  ASSERT_EQ(attnqat_rt_module_find_kernel(mod, "quantize", nullptr, &k),
            ATTNQAT_RT_SUCCESS);
  EXPECT_STREQ(attnqat_rt_kernel_name(k), "attnqat_quantize_nvfp4");
  ASSERT_EQ(attnqat_rt_module_find_kernel(mod, "attention_forward", nullptr,
                                          &k),
            ATTNQAT_RT_SUCCESS); // the tcgen05 one does not run here
  EXPECT_STREQ(attnqat_rt_kernel_name(k), "attnqat_fwd_qat_d128");
  EXPECT_EQ(attnqat_rt_module_find_kernel(mod, "attention_forward",
                                          "mode=fp4", &k),
            ATTNQAT_RT_ERROR_NO_KERNEL_FOR_CHIP);
  EXPECT_EQ(attnqat_rt_module_find_kernel(mod, "attention_forward",
                                          "mode=dropin", &k),
            ATTNQAT_RT_ERROR_KERNEL_NOT_FOUND);
  EXPECT_TRUE(contains(attnqat_rt_last_error(mod), "kernels for this op: "));
}

TEST_F(RuntimeTest, LoadOnOtherChips) {
  std::vector<uint8_t> bytes = sampleBytes();
  // Blackwell (10.0): the sm_100a image is chosen.
  fakecuda_set_device(1, 10, 0);
  ASSERT_EQ(createFake(&rt), ATTNQAT_RT_SUCCESS);
  ASSERT_EQ(attnqat_rt_module_load_data(rt, bytes.data(), bytes.size(), &mod),
            ATTNQAT_RT_SUCCESS)
      << attnqat_rt_last_error(rt);
  attnqat_rt_kernel *k;
  EXPECT_EQ(attnqat_rt_module_get_kernel(mod, "attnqat_quantize_nvfp4", &k),
            ATTNQAT_RT_ERROR_NO_KERNEL_FOR_CHIP);
  ASSERT_EQ(attnqat_rt_module_get_kernel(mod, "attnqat_fwd_tcgen05", &k),
            ATTNQAT_RT_SUCCESS);
  attnqat_rt_module_unload(mod);
  mod = nullptr;
  attnqat_rt_destroy(rt);
  rt = nullptr;

  // RTX 5090 (12.0): the artifact has no sm_120a kernels.
  fakecuda_set_device(1, 12, 0);
  ASSERT_EQ(createFake(&rt), ATTNQAT_RT_SUCCESS);
  EXPECT_EQ(attnqat_rt_module_load_data(rt, bytes.data(), bytes.size(), &mod),
            ATTNQAT_RT_ERROR_NO_KERNEL_FOR_CHIP);
  EXPECT_EQ(mod, nullptr);
  EXPECT_STREQ(attnqat_rt_last_error(rt),
               "artifact <memory> has no kernels for this device (Fake H100, "
               "compute capability 12.0, sm_120a); it has kernels for: "
               "sm_90a, sm_100a");
  attnqat_rt_destroy(rt);
  rt = nullptr;

  // Ampere (8.0): not an attnqat target at all.
  fakecuda_set_device(1, 8, 0);
  ASSERT_EQ(createFake(&rt), ATTNQAT_RT_SUCCESS);
  EXPECT_EQ(attnqat_rt_module_load_data(rt, bytes.data(), bytes.size(), &mod),
            ATTNQAT_RT_ERROR_NO_KERNEL_FOR_CHIP);
  EXPECT_TRUE(contains(attnqat_rt_last_error(rt),
                       "compute capability 8.0) is not an attnqat target "
                       "(targets: sm_90a, sm_100a, sm_120a)"));
}

TEST_F(RuntimeTest, LoadRejectsBadArtifacts) {
  ASSERT_EQ(createFake(&rt), ATTNQAT_RT_SUCCESS);
  std::vector<uint8_t> b = sampleBytes();
  b[100] ^= 1;
  EXPECT_EQ(attnqat_rt_module_load_data(rt, b.data(), b.size(), &mod),
            ATTNQAT_RT_ERROR_ARTIFACT_CORRUPT);
  EXPECT_TRUE(contains(attnqat_rt_last_error(rt),
                       "<memory>: payload checksum mismatch"));
  b = sampleBytes();
  EXPECT_EQ(attnqat_rt_module_load_data(rt, b.data(), 40, &mod),
            ATTNQAT_RT_ERROR_ARTIFACT_CORRUPT);
  b[8] = 9;
  EXPECT_EQ(attnqat_rt_module_load_data(rt, b.data(), b.size(), &mod),
            ATTNQAT_RT_ERROR_ARTIFACT_VERSION);
  const char elf[] = "\x7f" "ELF\x02\x01\x01\x00\x00\x00\x00\x00";
  EXPECT_EQ(attnqat_rt_module_load_data(rt, elf, sizeof(elf), &mod),
            ATTNQAT_RT_ERROR_NOT_AN_ARTIFACT);
  Artifact dup = sampleArtifact();
  dup.kernels.push_back(dup.kernels[1]);
  serializeArtifactUnchecked(dup, b);
  EXPECT_EQ(attnqat_rt_module_load_data(rt, b.data(), b.size(), &mod),
            ATTNQAT_RT_ERROR_ARTIFACT_INVALID);
  EXPECT_EQ(attnqat_rt_module_load_file(rt, "/no/such.aqa", &mod),
            ATTNQAT_RT_ERROR_IO);
  EXPECT_EQ(mod, nullptr);
  EXPECT_EQ(fakecuda_loaded_modules(), 0);
}

TEST_F(RuntimeTest, LoadReportsDriverFailures) {
  ASSERT_EQ(createFake(&rt), ATTNQAT_RT_SUCCESS);
  std::vector<uint8_t> b = sampleBytes();
  fakecuda_set_module_load_result(218, "ptxas fatal: bad instruction");
  EXPECT_EQ(attnqat_rt_module_load_data(rt, b.data(), b.size(), &mod),
            ATTNQAT_RT_ERROR_MODULE_LOAD);
  EXPECT_STREQ(attnqat_rt_last_error(rt),
               "cuModuleLoadDataEx(image 'attn_sm90a', sm_90a ptx) failed: "
               "CUDA_ERROR_INVALID_PTX; JIT log: ptxas fatal: bad "
               "instruction");
  fakecuda_set_module_load_result(0, nullptr);

  fakecuda_set_func_limits(256, 0);
  EXPECT_EQ(attnqat_rt_module_load_data(rt, b.data(), b.size(), &mod),
            ATTNQAT_RT_ERROR_MODULE_LOAD);
  EXPECT_TRUE(contains(attnqat_rt_last_error(rt),
                       "launches 384 threads per block but its compiled code "
                       "allows at most 256"));
  fakecuda_set_func_limits(1024, 40000);
  EXPECT_EQ(attnqat_rt_module_load_data(rt, b.data(), b.size(), &mod),
            ATTNQAT_RT_ERROR_MODULE_LOAD);
  EXPECT_TRUE(contains(attnqat_rt_last_error(rt),
                       "needs 240704 bytes of shared memory per block (40000 "
                       "static + 200704 dynamic); the device allows 232448"));
  EXPECT_EQ(fakecuda_loaded_modules(), 0);
  EXPECT_EQ(mod, nullptr);
}

TEST_F(RuntimeTest, ClusterKernelsNeedClusterLaunch) {
  fakecuda_set_device(1, 10, 0);
  fakecuda_set_cluster_launch(0);
  ASSERT_EQ(createFake(&rt), ATTNQAT_RT_SUCCESS);
  std::vector<uint8_t> b = sampleBytes();
  EXPECT_EQ(attnqat_rt_module_load_data(rt, b.data(), b.size(), &mod),
            ATTNQAT_RT_ERROR_UNSUPPORTED);
  EXPECT_TRUE(contains(attnqat_rt_last_error(rt),
                       "launches clusters of 2 blocks, but the device does "
                       "not support cluster launch"));
}

//===----------------------------------------------------------------------===//
// Launch
//===----------------------------------------------------------------------===//

TEST_F(RuntimeTest, LaunchPassesParamsInSignatureOrder) {
  attnqat_rt_problem prob = problem(2, 8, 2, 300, 1024, 128,
                                    ATTNQAT_RT_FLAG_CAUSAL);
  setUpForward(prob);
  void *stream = nullptr;
  ASSERT_EQ(attnqat_rt_stream_create(rt, &stream), ATTNQAT_RT_SUCCESS);
  // Arguments in any order.
  std::vector<attnqat_rt_arg> shuffled(args.rbegin(), args.rend());
  ASSERT_EQ(attnqat_rt_launch(fwd, &prob, shuffled.data(), shuffled.size(),
                              stream),
            ATTNQAT_RT_SUCCESS)
      << attnqat_rt_last_error(fwd);
  FakeLaunch l;
  ASSERT_TRUE(fakecuda_last_launch(&l));
  EXPECT_STREQ(l.function, "attnqat_fwd_qat_d128");
  EXPECT_EQ(l.grid[0], 3u); // ceil(300/128)
  EXPECT_EQ(l.grid[1], 8u); // Hq
  EXPECT_EQ(l.grid[2], 2u); // B
  EXPECT_EQ(l.block[0], 384u);
  EXPECT_EQ(l.sharedBytes, 200704u);
  EXPECT_EQ(l.stream, stream);
  ASSERT_EQ(l.numParams, 13);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(l.params[i], args[i].value.ptr) << i;
  float scale;
  std::memcpy(&scale, &l.params[5], 4);
  EXPECT_EQ(scale, 0.125f);
  const uint64_t dimsWant[] = {2, 8, 2, 300, 1024, 128,
                               ATTNQAT_RT_FLAG_CAUSAL};
  for (int i = 0; i < 7; ++i)
    EXPECT_EQ(l.params[6 + i], dimsWant[i]) << i;
  EXPECT_EQ(l.paramSizes[10], 8u); // N is i64
  ASSERT_EQ(attnqat_rt_stream_destroy(rt, stream), ATTNQAT_RT_SUCCESS);

  attnqat_rt_launch_config lc;
  ASSERT_EQ(attnqat_rt_kernel_launch_config(fwd, &prob, &lc),
            ATTNQAT_RT_SUCCESS);
  EXPECT_EQ(lc.grid[0], 3u);
  EXPECT_EQ(lc.dynamic_shared_bytes, 200704u);
}

TEST_F(RuntimeTest, LaunchUsesSMsAndClusters) {
  load();
  attnqat_rt_kernel *q;
  ASSERT_EQ(attnqat_rt_module_get_kernel(mod, "attnqat_quantize_nvfp4", &q),
            ATTNQAT_RT_SUCCESS);
  attnqat_rt_problem prob = problem(0, 0, 0, 1000, 0, 64);
  uint64_t x = alloc(1000 * 64 * 2), codes = alloc(1000 * 64 / 2),
           scales = alloc(1000 * 4);
  attnqat_rt_arg a[] = {attnqat_rt_arg_ptr("x", x),
                        attnqat_rt_arg_ptr("codes", codes),
                        attnqat_rt_arg_ptr("scales", scales),
                        attnqat_rt_arg_f32("global_scale", 1.0f)};
  ASSERT_EQ(attnqat_rt_launch(q, &prob, a, 4, nullptr), ATTNQAT_RT_SUCCESS)
      << attnqat_rt_last_error(q);
  FakeLaunch l;
  ASSERT_TRUE(fakecuda_last_launch(&l));
  EXPECT_EQ(l.grid[0], 132u); // SMs
  // codes: 64000 e2m1 = 32000 bytes; one byte short is caught.
  a[1] = attnqat_rt_arg_ptr("codes", codes + 16);
  EXPECT_EQ(attnqat_rt_launch(q, &prob, a, 4, nullptr),
            ATTNQAT_RT_ERROR_BAD_POINTER);
  EXPECT_TRUE(contains(attnqat_rt_last_error(q),
                       "argument 'codes' needs 32000 bytes (extent M*D of "
                       "e2m1) but its allocation ends 31984 bytes after"))
      << attnqat_rt_last_error(q);
  prob.D = 72;
  EXPECT_EQ(attnqat_rt_launch(q, &prob, a, 4, nullptr),
            ATTNQAT_RT_ERROR_BAD_SHAPE);
  EXPECT_TRUE(contains(attnqat_rt_last_error(q),
                       "requires D % 16 == 0; got D = 72"));
}

TEST_F(RuntimeTest, ClusterLaunchGoesThroughLaunchKernelEx) {
  fakecuda_set_device(1, 10, 0);
  ASSERT_EQ(createFake(&rt), ATTNQAT_RT_SUCCESS);
  std::vector<uint8_t> b = sampleBytes();
  ASSERT_EQ(attnqat_rt_module_load_data(rt, b.data(), b.size(), &mod),
            ATTNQAT_RT_SUCCESS);
  attnqat_rt_kernel *k;
  ASSERT_EQ(attnqat_rt_module_get_kernel(mod, "attnqat_fwd_tcgen05", &k),
            ATTNQAT_RT_SUCCESS);
  attnqat_rt_problem prob = problem(1, 1, 1, 128, 128, 64);
  attnqat_rt_arg a = attnqat_rt_arg_ptr("o", alloc(256));
  ASSERT_EQ(attnqat_rt_launch(k, &prob, &a, 1, nullptr), ATTNQAT_RT_SUCCESS)
      << attnqat_rt_last_error(k);
  FakeLaunch l;
  ASSERT_TRUE(fakecuda_last_launch(&l));
  EXPECT_EQ(l.cluster[0], 2u);
  EXPECT_EQ(l.grid[0], 2u);
}

TEST_F(RuntimeTest, ShapeChecks) {
  attnqat_rt_problem ok = problem(1, 8, 2, 256, 256, 128);
  setUpForward(ok);
  attnqat_rt_problem p = ok;
  p.Hq = 6, p.Hkv = 4;
  expectRejected(p, args, ATTNQAT_RT_ERROR_BAD_SHAPE,
                 "Hq = 6 is not a multiple of Hkv = 4 (grouped-query "
                 "attention needs Hq % Hkv == 0)");
  p = ok;
  p.D = 96;
  expectRejected(p, args, ATTNQAT_RT_ERROR_BAD_SHAPE,
                 "kernel 'attnqat_fwd_qat_d128': requires D in {64,128}; got "
                 "D = 96");
  p = ok;
  p.M = -1;
  expectRejected(p, args, ATTNQAT_RT_ERROR_BAD_SHAPE,
                 "problem dim M = -1 is negative");
  p = ok;
  p.B = 0;
  expectRejected(p, args, ATTNQAT_RT_ERROR_BAD_SHAPE,
                 "attention needs B, Hq, Hkv, M, N, D >= 1; got B = 0");
  p = ok;
  p.flags = ATTNQAT_RT_FLAG_KEY_LENGTHS;
  expectRejected(p, args, ATTNQAT_RT_ERROR_BAD_SHAPE,
                 "flag(s) key_lengths not supported (the kernel supports: "
                 "causal,save_for_backward)");
  p = ok;
  p.flags = 0x80;
  expectRejected(p, args, ATTNQAT_RT_ERROR_BAD_SHAPE,
                 "unknown problem flags 0x80");
  p = ok;
  p.N = 2 * 1048576;
  expectRejected(p, args, ATTNQAT_RT_ERROR_BAD_SHAPE,
                 "requires N <= 1048576; got N = 2097152");
  p = ok;
  p.Hq = 70000, p.Hkv = 70000;
  expectRejected(p, args, ATTNQAT_RT_ERROR_BAD_SHAPE,
                 "grid.y = Hq = 70000 exceeds the device limit 65535");
  p = ok;
  p.M = int64_t(3) << 31;
  p.Hq = 1, p.Hkv = 1;
  expectRejected(p, args, ATTNQAT_RT_ERROR_BAD_SHAPE,
                 "M = 6442450944 does not fit the kernel's i32 parameter");
  EXPECT_EQ(attnqat_rt_launch(fwd, nullptr, args.data(), args.size(), nullptr),
            ATTNQAT_RT_ERROR_INVALID_ARGUMENT);
}

TEST_F(RuntimeTest, ArgumentChecks) {
  attnqat_rt_problem prob = problem(1, 4, 4, 128, 128, 64);
  setUpForward(prob);
  std::vector<attnqat_rt_arg> a = args;
  a.pop_back();
  a.erase(a.begin() + 4);
  expectRejected(prob, a, ATTNQAT_RT_ERROR_BAD_ARGUMENT,
                 "missing argument(s) 'lse' (f32 pointer, out), 'scale' "
                 "(f32)");
  a = args;
  a.push_back(attnqat_rt_arg_f32("softcap", 30.0f));
  expectRejected(prob, a, ATTNQAT_RT_ERROR_BAD_ARGUMENT,
                 "no parameter 'softcap' (it takes: q, k, v, o, lse, scale)");
  a = args;
  a.push_back(args[0]);
  expectRejected(prob, a, ATTNQAT_RT_ERROR_BAD_ARGUMENT,
                 "argument 'q' passed twice");
  a = args;
  a[5] = attnqat_rt_arg_i32("scale", 1);
  expectRejected(prob, a, ATTNQAT_RT_ERROR_BAD_ARGUMENT,
                 "argument 'scale' is i32 but the kernel takes f32");
  a = args;
  a.push_back(attnqat_rt_arg_i32("M", 128));
  expectRejected(prob, a, ATTNQAT_RT_ERROR_BAD_ARGUMENT,
                 "'M' is taken from the problem descriptor; do not pass it");
  a = args;
  a[0].role = nullptr;
  expectRejected(prob, a, ATTNQAT_RT_ERROR_BAD_ARGUMENT,
                 "argument #0 has no role");
  a = args;
  a[2].kind = 9;
  expectRejected(prob, a, ATTNQAT_RT_ERROR_BAD_ARGUMENT,
                 "argument 'v' has unknown kind 9");
  EXPECT_EQ(attnqat_rt_launch(fwd, &prob, nullptr, 3, nullptr),
            ATTNQAT_RT_ERROR_INVALID_ARGUMENT);
  expectRejected(prob, args, ATTNQAT_RT_ERROR_BAD_ARGUMENT,
                 "belongs to another CUDA context than the runtime's",
                 fakecuda_foreign_stream());
}

TEST_F(RuntimeTest, PointerChecks) {
  attnqat_rt_problem prob = problem(1, 4, 4, 128, 128, 64);
  setUpForward(prob);
  std::vector<attnqat_rt_arg> a = args;
  a[1].value.ptr = 0;
  expectRejected(prob, a, ATTNQAT_RT_ERROR_BAD_POINTER,
                 "argument 'k' is NULL");
  a = args;
  a[0].value.ptr += 8;
  expectRejected(prob, a, ATTNQAT_RT_ERROR_BAD_POINTER,
                 "is not 16-byte aligned");
  a = args;
  a[2].value.ptr = 0x1000; // unknown to the driver
  expectRejected(prob, a, ATTNQAT_RT_ERROR_BAD_POINTER,
                 "argument 'v' = 0x1000 is not memory known to the CUDA "
                 "driver (cuPointerGetAttribute: CUDA_ERROR_INVALID_VALUE)");
  alignas(16) static char host[1 << 16];
  fakecuda_register(reinterpret_cast<uint64_t>(host), sizeof(host), 1, 0);
  a = args;
  a[0] = attnqat_rt_arg_vptr("q", host);
  expectRejected(prob, a, ATTNQAT_RT_ERROR_BAD_POINTER,
                 "is host memory; the kernel needs device memory");
  fakecuda_register(0x7000000000, 1 << 20, 2, 1);
  a = args;
  a[0] = attnqat_rt_arg_ptr("q", 0x7000000000);
  expectRejected(prob, a, ATTNQAT_RT_ERROR_BAD_POINTER,
                 "is memory of device 1; this runtime runs on device 0");
  attnqat_rt_problem bigger = prob;
  bigger.M = 256; // q, o, lse are sized for M = 128
  expectRejected(bigger, args, ATTNQAT_RT_ERROR_BAD_POINTER,
                 "argument 'q' needs 131072 bytes (extent B*Hq*M*D of bf16) "
                 "but its allocation ends 65536 bytes after");
  a = args;
  a[3] = attnqat_rt_arg_ptr("o", args[0].value.ptr); // o aliases q
  expectRejected(prob, a, ATTNQAT_RT_ERROR_BAD_POINTER,
                 "output 'o' [");
  EXPECT_TRUE(contains(attnqat_rt_last_error(fwd), ") overlaps argument 'q'"));
}

TEST_F(RuntimeTest, PointerQueriesCanBeSkipped) {
  ASSERT_EQ(createFake(&rt, ATTNQAT_RT_OPTION_NO_POINTER_QUERIES),
            ATTNQAT_RT_SUCCESS);
  std::vector<uint8_t> b = sampleBytes();
  ASSERT_EQ(attnqat_rt_module_load_data(rt, b.data(), b.size(), &mod),
            ATTNQAT_RT_SUCCESS);
  ASSERT_EQ(attnqat_rt_module_get_kernel(mod, "attnqat_fwd_qat_d128", &fwd),
            ATTNQAT_RT_SUCCESS);
  attnqat_rt_problem prob = problem(1, 1, 1, 128, 128, 64);
  std::vector<attnqat_rt_arg> a = {
      attnqat_rt_arg_ptr("q", 0x100000), attnqat_rt_arg_ptr("k", 0x200000),
      attnqat_rt_arg_ptr("v", 0x300000), attnqat_rt_arg_ptr("o", 0x400000),
      attnqat_rt_arg_ptr("lse", 0x500000), attnqat_rt_arg_f32("scale", 1)};
  EXPECT_EQ(attnqat_rt_launch(fwd, &prob, a.data(), a.size(), nullptr),
            ATTNQAT_RT_SUCCESS)
      << attnqat_rt_last_error(fwd);
  a[0].value.ptr += 2;
  expectRejected(prob, a, ATTNQAT_RT_ERROR_BAD_POINTER,
                 "is not 16-byte aligned");
}

TEST_F(RuntimeTest, LaunchFailureIsReported) {
  attnqat_rt_problem prob = problem(1, 4, 4, 128, 128, 64);
  setUpForward(prob);
  fakecuda_set_launch_result(701);
  EXPECT_EQ(attnqat_rt_launch(fwd, &prob, args.data(), args.size(), nullptr),
            ATTNQAT_RT_ERROR_LAUNCH);
  EXPECT_STREQ(attnqat_rt_last_error(fwd),
               "cuLaunchKernel('attnqat_fwd_qat_d128', grid 1x4x1, block "
               "384x1x1, cluster 1x1x1, smem 200704) failed: "
               "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES");
}

TEST_F(RuntimeTest, LastErrorIsPerHandle) {
  attnqat_rt_problem prob = problem(1, 4, 4, 128, 128, 64);
  setUpForward(prob);
  attnqat_rt_kernel *q;
  ASSERT_EQ(attnqat_rt_module_get_kernel(mod, "attnqat_quantize_nvfp4", &q),
            ATTNQAT_RT_SUCCESS);
  prob.D = 96;
  ASSERT_EQ(attnqat_rt_launch(fwd, &prob, args.data(), args.size(), nullptr),
            ATTNQAT_RT_ERROR_BAD_SHAPE);
  EXPECT_TRUE(contains(attnqat_rt_last_error(fwd), "D = 96"));
  EXPECT_STREQ(attnqat_rt_last_error(q), "");
  EXPECT_STREQ(attnqat_rt_last_error(fwd), attnqat_rt_last_error(rt));
  // Another thread has its own slot.
  std::string other = "unset";
  std::thread t([&] { other = attnqat_rt_last_error(fwd); });
  t.join();
  EXPECT_EQ(other, "");
}

TEST_F(RuntimeTest, MemoryHelpers) {
  ASSERT_EQ(createFake(&rt), ATTNQAT_RT_SUCCESS);
  uint64_t p = alloc(64);
  const char in[] = "attnqat";
  char out[8] = {};
  ASSERT_EQ(attnqat_rt_memcpy_htod(rt, p, in, sizeof(in)), ATTNQAT_RT_SUCCESS);
  ASSERT_EQ(attnqat_rt_memcpy_dtoh(rt, out, p, sizeof(in)), ATTNQAT_RT_SUCCESS);
  EXPECT_STREQ(out, "attnqat");
  uint64_t huge;
  EXPECT_EQ(attnqat_rt_mem_alloc(rt, size_t(1) << 40, &huge),
            ATTNQAT_RT_ERROR_OUT_OF_MEMORY);
  EXPECT_TRUE(contains(attnqat_rt_last_error(rt),
                       "cuMemAlloc(1099511627776) failed: "
                       "CUDA_ERROR_OUT_OF_MEMORY"));
  EXPECT_EQ(attnqat_rt_mem_free(rt, 0), ATTNQAT_RT_SUCCESS);
}

//===----------------------------------------------------------------------===//
// Tensor maps
//===----------------------------------------------------------------------===//

namespace {

class TensorMapTest : public RuntimeTest {
protected:
  /// attnqat_fwd_tma of `a` with buffers for `prob` (k: kOffset bytes into
  /// its allocation).
  void setUp(const attnqat_rt_problem &prob,
             const Artifact &a = tensorMapArtifact(), size_t kOffset = 0) {
    load(a);
    ASSERT_EQ(attnqat_rt_module_get_kernel(mod, "attnqat_fwd_tma", &fwd),
              ATTNQAT_RT_SUCCESS);
    size_t qo = size_t(prob.B * prob.Hq * prob.M * prob.D) * 2;
    size_t kv = size_t(prob.B * prob.Hkv * prob.N * prob.D) * 2;
    args = {attnqat_rt_arg_ptr("q", alloc(qo)),
            attnqat_rt_arg_ptr("k", alloc(kv + kOffset) + kOffset),
            attnqat_rt_arg_ptr("o", alloc(qo)),
            attnqat_rt_arg_f32("scale", 0.125f)};
  }
};

} // namespace

TEST_F(TensorMapTest, SignatureReportsTheTensorMap) {
  setUp(problem(1, 1, 1, 128, 128, 64));
  ASSERT_EQ(attnqat_rt_kernel_param_count(fwd), 11u);
  attnqat_rt_param_info pi;
  ASSERT_EQ(attnqat_rt_kernel_param(fwd, 2, &pi), ATTNQAT_RT_SUCCESS);
  EXPECT_STREQ(pi.role, "k_map");
  EXPECT_EQ(pi.kind, ATTNQAT_RT_ARG_TENSOR_MAP);
  EXPECT_EQ(pi.kind, 5);
  EXPECT_EQ(pi.from_problem, 1);
  EXPECT_EQ(pi.access, ATTNQAT_RT_ACCESS_NONE);
  EXPECT_STREQ(pi.elem_type, "none");
  EXPECT_EQ(pi.align, 0u);
  EXPECT_STREQ(pi.extent, "");
  EXPECT_STREQ(pi.layout, "tensor map of k dims [D, N, B*Hkv] box [64, 64, "
                          "1] swizzle 128");
}

TEST_F(TensorMapTest, EncodedAtEachLaunch) {
  attnqat_rt_problem prob = problem(2, 8, 2, 256, 1000, 128);
  setUp(prob);
  ASSERT_EQ(attnqat_rt_launch(fwd, &prob, args.data(), args.size(), nullptr),
            ATTNQAT_RT_SUCCESS)
      << attnqat_rt_last_error(fwd);
  EXPECT_EQ(fakecuda_tensor_map_calls(), 1);
  FakeTensorMapCall c;
  ASSERT_TRUE(fakecuda_last_tensor_map(&c));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(c.map) % 64, 0u);
  EXPECT_EQ(c.dataType, 9); // CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
  EXPECT_EQ(c.rank, 3u);
  EXPECT_EQ(c.address, args[1].value.ptr);
  EXPECT_EQ(c.dims[0], 128u);  // D
  EXPECT_EQ(c.dims[1], 1000u); // N
  EXPECT_EQ(c.dims[2], 4u);    // B*Hkv
  EXPECT_EQ(c.strides[0], 256u);
  EXPECT_EQ(c.strides[1], 256000u);
  EXPECT_EQ(c.box[0], 64u);
  EXPECT_EQ(c.box[1], 64u);
  EXPECT_EQ(c.box[2], 1u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(c.elementStrides[i], 1u);
  EXPECT_EQ(c.interleave, 0); // none
  EXPECT_EQ(c.swizzle, 3);    // 128B
  EXPECT_EQ(c.l2Promotion, 2); // 128B
  EXPECT_EQ(c.oobFill, 0);    // zeros

  // The kernel got the encoded map by value, the other params around it.
  FakeLaunch l;
  ASSERT_TRUE(fakecuda_last_launch(&l));
  ASSERT_EQ(l.numParams, 11);
  EXPECT_EQ(l.paramSizes[2], 128u);
  uint64_t map[16];
  std::memcpy(map, l.wide[2], sizeof(map));
  EXPECT_EQ(map[0], args[1].value.ptr);
  EXPECT_EQ(map[1], 128u);
  EXPECT_EQ(map[2], 1000u);
  EXPECT_EQ(map[3], 4u);
  EXPECT_EQ(l.params[1], args[1].value.ptr);
  EXPECT_EQ(l.params[3], args[2].value.ptr);
  const uint64_t dimsWant[] = {2, 8, 2, 256, 1000, 128};
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(l.params[5 + i], dimsWant[i]) << i;

  // Another problem, another map; check_launch encodes too.
  attnqat_rt_problem shorter = problem(2, 8, 2, 256, 500, 128);
  ASSERT_EQ(attnqat_rt_check_launch(fwd, &shorter, args.data(), args.size(),
                                    nullptr),
            ATTNQAT_RT_SUCCESS);
  EXPECT_EQ(fakecuda_tensor_map_calls(), 2);
  ASSERT_TRUE(fakecuda_last_tensor_map(&c));
  EXPECT_EQ(c.dims[1], 500u);
  EXPECT_EQ(fakecuda_launch_count(), 1);
}

TEST_F(TensorMapTest, IsNeverPassed) {
  attnqat_rt_problem prob = problem(1, 2, 2, 128, 128, 64);
  setUp(prob);
  std::vector<attnqat_rt_arg> a = args;
  a.push_back(attnqat_rt_arg_ptr("k_map", args[1].value.ptr));
  expectRejected(prob, a, ATTNQAT_RT_ERROR_BAD_ARGUMENT,
                 "kernel 'attnqat_fwd_tma': 'k_map' is a tensor map the "
                 "runtime makes from 'k'; do not pass it");
  a = args;
  a.push_back(attnqat_rt_arg_f32("softcap", 1));
  expectRejected(prob, a, ATTNQAT_RT_ERROR_BAD_ARGUMENT,
                 "no parameter 'softcap' (it takes: q, k, o, scale)");
  a = args;
  a.erase(a.begin() + 1);
  expectRejected(prob, a, ATTNQAT_RT_ERROR_BAD_ARGUMENT,
                 "missing argument(s) 'k' (bf16 pointer, in)");
  EXPECT_EQ(fakecuda_tensor_map_calls(), 0);
}

TEST_F(TensorMapTest, ShapeAndPointerChecks) {
  // k at 2-byte alignment: a mapped pointer declares 16 (validation), so
  // k's own check refuses it before any encoding.
  attnqat_rt_problem prob = problem(1, 2, 2, 128, 128, 64);
  setUp(prob, tensorMapArtifact(), 2);
  expectRejected(prob, args, ATTNQAT_RT_ERROR_BAD_POINTER, "argument 'k' = 0x");
  EXPECT_TRUE(contains(attnqat_rt_last_error(fwd), " is not 16-byte aligned"));
  EXPECT_EQ(fakecuda_tensor_map_calls(), 0);

  // The driver refuses.
  args[1].value.ptr -= 2;
  fakecuda_set_tensor_map_result(1);
  expectRejected(prob, args, ATTNQAT_RT_ERROR_BAD_POINTER,
                 "tensor map 'k_map' of 'k': cuTensorMapEncodeTiled(address "
                 "0x");
  EXPECT_TRUE(contains(attnqat_rt_last_error(fwd),
                       ", bf16, dims [64, 128, 2], strides [128, 16384] "
                       "bytes, box [64, 64, 1], swizzle 128) failed: "
                       "CUDA_ERROR_INVALID_VALUE"))
      << attnqat_rt_last_error(fwd);
  fakecuda_set_tensor_map_result(0);
  EXPECT_EQ(attnqat_rt_launch(fwd, &prob, args.data(), args.size(), nullptr),
            ATTNQAT_RT_SUCCESS)
      << attnqat_rt_last_error(fwd);
}

TEST_F(TensorMapTest, DimsTheMapCannotDescribe) {
  // Rows of D = 4 bf16 are 8 bytes: not a TMA stride.
  Artifact art = tensorMapArtifact();
  art.kernels[0].constraints.clear();
  art.kernels[0].params[2].tensorMap.box[0] = 8;
  attnqat_rt_problem prob = problem(1, 2, 2, 128, 128, 4);
  setUp(prob, art);
  expectRejected(prob, args, ATTNQAT_RT_ERROR_BAD_SHAPE,
                 "kernel 'attnqat_fwd_tma': tensor map 'k_map' of 'k': the "
                 "stride of dims[1] is 8 bytes (dims[0..0] x 2 bytes), not a "
                 "multiple of 16");
  EXPECT_EQ(fakecuda_tensor_map_calls(), 0);
}

TEST_F(TensorMapTest, EmptyTensorsAreRejected) {
  // A kernel whose grid does not shrink with N still launches for N = 0;
  // its tensor map cannot be made.
  Artifact art = tensorMapArtifact();
  art.kernels[0].op = "runtime_test";
  art.kernels[0].variants[0] =
      variant("sm_90a", 0, "SMs", "1", "1", {128, 1, 1});
  attnqat_rt_problem prob = problem(1, 2, 2, 128, 0, 64);
  setUp(prob, art);
  args[1].value.ptr = args[0].value.ptr; // k has no bytes to own
  expectRejected(prob, args, ATTNQAT_RT_ERROR_BAD_SHAPE,
                 "tensor map 'k_map' of 'k': dims[1] = N is 0 for this "
                 "problem (a tensor map cannot describe an empty tensor)");
}

TEST_F(TensorMapTest, MapsStayInsideTheExtent) {
  Artifact art = tensorMapArtifact();
  art.kernels[0].params[2].tensorMap.dims[2] = expr("B*Hq");
  attnqat_rt_problem prob = problem(1, 4, 2, 128, 128, 64);
  setUp(prob, art);
  expectRejected(prob, args, ATTNQAT_RT_ERROR_BAD_SHAPE,
                 "tensor map 'k_map' of 'k': dims [64, 128, 4] cover more "
                 "than the extent B*Hkv*N*D = 16384 of 'k'");
}

TEST_F(TensorMapTest, NeedsTheDriverEntryPoint) {
  attnqat_rt_options o;
  attnqat_rt_options_init(&o);
  o.libcuda_path = ATTNQAT_FAKECUDA_NOTMA_PATH;
  o.flags = ATTNQAT_RT_OPTION_NO_POINTER_QUERIES;
  ASSERT_EQ(attnqat_rt_create(&o, &rt), ATTNQAT_RT_SUCCESS)
      << attnqat_rt_last_error(nullptr);
  std::vector<uint8_t> bytes;
  ASSERT_FALSE(serializeArtifact(tensorMapArtifact(), bytes));
  ASSERT_EQ(attnqat_rt_module_load_data(rt, bytes.data(), bytes.size(), &mod),
            ATTNQAT_RT_SUCCESS)
      << attnqat_rt_last_error(rt);
  ASSERT_EQ(attnqat_rt_module_get_kernel(mod, "attnqat_fwd_tma", &fwd),
            ATTNQAT_RT_SUCCESS);
  attnqat_rt_problem prob = problem(1, 1, 1, 128, 128, 64);
  std::vector<attnqat_rt_arg> a = {
      attnqat_rt_arg_ptr("q", 0x100000), attnqat_rt_arg_ptr("k", 0x200000),
      attnqat_rt_arg_ptr("o", 0x300000), attnqat_rt_arg_f32("scale", 1)};
  EXPECT_EQ(attnqat_rt_launch(fwd, &prob, a.data(), a.size(), nullptr),
            ATTNQAT_RT_ERROR_UNSUPPORTED);
  EXPECT_STREQ(attnqat_rt_last_error(fwd),
               "the CUDA driver has no cuTensorMapEncodeTiled (needs CUDA "
               "12); kernel 'attnqat_fwd_tma' takes a tensor map ('k_map')");
}
