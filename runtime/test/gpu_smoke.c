/*===- gpu_smoke.c - libattnqat_runtime.so on a real GPU -------------------===*
 *
 *   attnqat-rt-gpu-smoke SMOKE.aqa WRONGCHIP.aqa [SMOKE2.aqa ...]
 *
 * Plain C, links only libattnqat_runtime.so (and libc). For every SMOKE
 * artifact (fixture kernels for sm_90a, see fixtures/smoke_kernels.cu): load
 * it, launch the vector-scale kernel (96 KiB dynamic shared memory) and the
 * cluster probe (clusters of 2) on a stream, copy back and check every
 * element; then check the error paths on the real driver: misaligned, NULL,
 * host, too-small and aliased pointers, bad shapes and arguments, and an
 * artifact with kernels for other chips only. A rejected launch must leave
 * the output untouched.
 *
 * Exit status: 0 pass, 1 fail, 77 skipped (no CUDA driver or device).
 *===----------------------------------------------------------------------===*/

#include "attnqat-runtime/attnqat_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0, checks = 0;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    ++checks;                                                                  \
    if (!(cond)) {                                                             \
      ++failures;                                                              \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);                              \
      printf(__VA_ARGS__);                                                     \
      printf("\n");                                                            \
    }                                                                          \
  } while (0)

/* Expects `call` to fail with `want`; prints the message it gave. */
static void expect_status(const char *what, attnqat_rt_status got,
                          attnqat_rt_status want, const void *handle) {
  ++checks;
  if (got != want) {
    ++failures;
    printf("FAIL %s: got %d (%s), want %d (%s): %s\n", what, got,
           attnqat_rt_status_string(got), want, attnqat_rt_status_string(want),
           attnqat_rt_last_error(handle));
    return;
  }
  printf("  ok   %-34s -> %s: %s\n", what, attnqat_rt_status_string(got),
         attnqat_rt_last_error(handle));
}

#define OK(call, handle)                                                       \
  do {                                                                         \
    attnqat_rt_status s_ = (call);                                             \
    ++checks;                                                                  \
    if (s_ != ATTNQAT_RT_SUCCESS) {                                            \
      ++failures;                                                              \
      printf("FAIL %s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #call,         \
             attnqat_rt_status_string(s_), attnqat_rt_last_error(handle));     \
      return;                                                                  \
    }                                                                          \
  } while (0)

static void run_artifact(attnqat_rt_runtime *rt, const char *path) {
  printf("== %s\n", path);
  attnqat_rt_module *mod = NULL;
  OK(attnqat_rt_module_load_file(rt, path, &mod), rt);
  for (size_t i = 0; i < attnqat_rt_module_kernel_count(mod); ++i)
    printf("  kernel %s\n", attnqat_rt_module_kernel_name(mod, i));

  attnqat_rt_kernel *scale = NULL, *probe = NULL, *found = NULL;
  OK(attnqat_rt_module_get_kernel(mod, "attnqat_rt_test_vector_scale", &scale),
     mod);
  OK(attnqat_rt_module_get_kernel(mod, "attnqat_rt_test_cluster_probe", &probe),
     mod);
  expect_status("find_kernel(runtime_test, any)",
                attnqat_rt_module_find_kernel(mod, "runtime_test", NULL,
                                              &found),
                ATTNQAT_RT_ERROR_KERNEL_NOT_FOUND, mod);
  for (size_t i = 0; i < attnqat_rt_kernel_param_count(scale); ++i) {
    attnqat_rt_param_info pi;
    OK(attnqat_rt_kernel_param(scale, i, &pi), scale);
    printf("  param %zu %s kind %d elem %s align %u extent '%s'%s\n", i,
           pi.role, pi.kind, pi.elem_type, pi.align, pi.extent,
           pi.from_problem ? " (from problem)" : "");
  }

  /* n is not a multiple of the 256-thread block. */
  const int n = 100037;
  const size_t bytes = (size_t)n * sizeof(float);
  float *hx = malloc(bytes), *hy = malloc(bytes);
  for (int i = 0; i < n; ++i)
    hx[i] = (float)i * 0.5f - 3.0f;
  uint64_t dx = 0, dy = 0, dout = 0;
  void *stream = NULL;
  OK(attnqat_rt_mem_alloc(rt, bytes, &dx), rt);
  OK(attnqat_rt_mem_alloc(rt, bytes, &dy), rt);
  OK(attnqat_rt_mem_alloc(rt, 64 * sizeof(int), &dout), rt);
  OK(attnqat_rt_stream_create(rt, &stream), rt);
  OK(attnqat_rt_memcpy_htod(rt, dx, hx, bytes), rt);
  for (int i = 0; i < n; ++i)
    hy[i] = -7777.0f;
  OK(attnqat_rt_memcpy_htod(rt, dy, hy, bytes), rt);

  attnqat_rt_problem prob;
  memset(&prob, 0, sizeof(prob));
  prob.M = n;
  attnqat_rt_launch_config lc;
  OK(attnqat_rt_kernel_launch_config(scale, &prob, &lc), scale);
  printf("  vector_scale M=%d: grid %ux%ux%u block %ux%ux%u smem %u\n", n,
         lc.grid[0], lc.grid[1], lc.grid[2], lc.block[0], lc.block[1],
         lc.block[2], lc.dynamic_shared_bytes);
  CHECK(lc.grid[0] == (unsigned)((n + 255) / 256), "grid.x %u", lc.grid[0]);

  attnqat_rt_arg args[3] = {attnqat_rt_arg_ptr("x", dx),
                            attnqat_rt_arg_ptr("y", dy),
                            attnqat_rt_arg_f32("a", 2.5f)};
  OK(attnqat_rt_launch(scale, &prob, args, 3, stream), scale);
  OK(attnqat_rt_stream_synchronize(rt, stream), rt);
  OK(attnqat_rt_memcpy_dtoh(rt, hy, dy, bytes), rt);
  int bad = 0;
  for (int i = 0; i < n; ++i) {
    float want = 2.5f * hx[i];
    if (memcmp(&hy[i], &want, sizeof(float)) != 0 && bad++ < 5)
      printf("  y[%d] = %g, want %g\n", i, hy[i], want);
  }
  CHECK(bad == 0, "vector_scale: %d of %d elements wrong", bad, n);
  printf("  vector_scale: %d elements %s\n", n, bad ? "WRONG" : "correct");

  /* Cluster probe: clusters of 2 blocks along x. */
  attnqat_rt_problem pp;
  memset(&pp, 0, sizeof(pp));
  pp.M = 64;
  attnqat_rt_arg pargs[1] = {attnqat_rt_arg_ptr("out", dout)};
  OK(attnqat_rt_launch(probe, &pp, pargs, 1, stream), probe);
  OK(attnqat_rt_stream_synchronize(rt, stream), rt);
  int hout[64];
  OK(attnqat_rt_memcpy_dtoh(rt, hout, dout, sizeof(hout)), rt);
  int cbad = 0;
  for (int b = 0; b < 64; ++b)
    if (hout[b] != 200 + b % 2 && cbad++ < 5)
      printf("  out[%d] = %d, want %d\n", b, hout[b], 200 + b % 2);
  CHECK(cbad == 0, "cluster_probe: %d wrong", cbad);
  printf("  cluster_probe: 64 blocks in clusters of 2 %s\n",
         cbad ? "WRONG" : "correct");

  /* Error paths on the real driver: nothing may be launched. */
  for (int i = 0; i < n; ++i)
    hy[i] = -7777.0f;
  OK(attnqat_rt_memcpy_htod(rt, dy, hy, bytes), rt);
  printf("  error paths:\n");
  attnqat_rt_arg a2[3];
  memcpy(a2, args, sizeof(args));
  a2[0] = attnqat_rt_arg_ptr("x", dx + 4);
  expect_status("misaligned x (+4 bytes)",
                attnqat_rt_launch(scale, &prob, a2, 3, stream),
                ATTNQAT_RT_ERROR_BAD_POINTER, scale);
  a2[0] = attnqat_rt_arg_ptr("x", 0);
  expect_status("NULL x", attnqat_rt_launch(scale, &prob, a2, 3, stream),
                ATTNQAT_RT_ERROR_BAD_POINTER, scale);
  a2[0] = attnqat_rt_arg_vptr("x", hx);
  expect_status("host pointer x (malloc)",
                attnqat_rt_launch(scale, &prob, a2, 3, stream),
                ATTNQAT_RT_ERROR_BAD_POINTER, scale);
  a2[0] = args[0];
  a2[1] = attnqat_rt_arg_ptr("y", dx);
  expect_status("y aliases x", attnqat_rt_launch(scale, &prob, a2, 3, stream),
                ATTNQAT_RT_ERROR_BAD_POINTER, scale);
  attnqat_rt_problem big = prob;
  big.M = (int64_t)n * 64;
  expect_status("M beyond the allocations",
                attnqat_rt_launch(scale, &big, args, 3, stream),
                ATTNQAT_RT_ERROR_BAD_POINTER, scale);
  attnqat_rt_problem neg = prob;
  neg.M = -5;
  expect_status("negative M", attnqat_rt_launch(scale, &neg, args, 3, stream),
                ATTNQAT_RT_ERROR_BAD_SHAPE, scale);
  attnqat_rt_problem causal = prob;
  causal.flags = ATTNQAT_RT_FLAG_CAUSAL;
  expect_status("unsupported flag causal",
                attnqat_rt_launch(scale, &causal, args, 3, stream),
                ATTNQAT_RT_ERROR_BAD_SHAPE, scale);
  attnqat_rt_problem odd = pp;
  odd.M = 63;
  expect_status("cluster probe M=63 (M % 2)",
                attnqat_rt_launch(probe, &odd, pargs, 1, stream),
                ATTNQAT_RT_ERROR_BAD_SHAPE, probe);
  expect_status("missing argument a",
                attnqat_rt_launch(scale, &prob, args, 2, stream),
                ATTNQAT_RT_ERROR_BAD_ARGUMENT, scale);
  a2[1] = args[1];
  a2[2] = attnqat_rt_arg_i32("a", 2);
  expect_status("a passed as i32",
                attnqat_rt_launch(scale, &prob, a2, 3, stream),
                ATTNQAT_RT_ERROR_BAD_ARGUMENT, scale);
  a2[2] = attnqat_rt_arg_i32("M", 5);
  expect_status("M passed as an argument",
                attnqat_rt_launch(scale, &prob, a2, 3, stream),
                ATTNQAT_RT_ERROR_BAD_ARGUMENT, scale);
  OK(attnqat_rt_stream_synchronize(rt, stream), rt);
  OK(attnqat_rt_memcpy_dtoh(rt, hy, dy, bytes), rt);
  int touched = 0;
  for (int i = 0; i < n; ++i)
    touched += hy[i] != -7777.0f;
  CHECK(touched == 0, "a rejected launch wrote %d elements", touched);
  printf("  rejected launches left y untouched: %s\n", touched ? "NO" : "yes");

  OK(attnqat_rt_stream_destroy(rt, stream), rt);
  OK(attnqat_rt_mem_free(rt, dx), rt);
  OK(attnqat_rt_mem_free(rt, dy), rt);
  OK(attnqat_rt_mem_free(rt, dout), rt);
  free(hx);
  free(hy);
  attnqat_rt_module_unload(mod);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr,
            "usage: %s SMOKE.aqa WRONGCHIP.aqa [MORE-SMOKE.aqa ...]\n",
            argv[0]);
    return 2;
  }
  attnqat_rt_runtime *rt = NULL;
  attnqat_rt_status s = attnqat_rt_create(NULL, &rt);
  if (s == ATTNQAT_RT_ERROR_NO_DRIVER || s == ATTNQAT_RT_ERROR_NO_DEVICE) {
    printf("SKIP: %s: %s\n", attnqat_rt_status_string(s),
           attnqat_rt_last_error(NULL));
    return 77;
  }
  if (s != ATTNQAT_RT_SUCCESS) {
    printf("FAIL: attnqat_rt_create: %s: %s\n", attnqat_rt_status_string(s),
           attnqat_rt_last_error(NULL));
    return 1;
  }
  attnqat_rt_device_info info;
  attnqat_rt_get_device_info(rt, &info);
  printf("attnqat runtime %s on device %d: %s, compute capability %d.%d, "
         "chip %s, %d SMs, %d bytes opt-in shared memory per block, driver "
         "%d\n",
         attnqat_rt_version(), info.ordinal, info.name, info.cc_major,
         info.cc_minor, info.chip[0] ? info.chip : "(none)",
         info.multiprocessor_count, info.max_shared_memory_per_block_optin,
         info.driver_version);

  run_artifact(rt, argv[1]);
  for (int i = 3; i < argc; ++i)
    run_artifact(rt, argv[i]);

  printf("== %s\n", argv[2]);
  attnqat_rt_module *wrong = NULL;
  s = attnqat_rt_module_load_file(rt, argv[2], &wrong);
  expect_status("artifact for other chips", s,
                ATTNQAT_RT_ERROR_NO_KERNEL_FOR_CHIP, rt);
  CHECK(strstr(attnqat_rt_last_error(rt), "sm_100a") &&
            strstr(attnqat_rt_last_error(rt), "sm_120a"),
        "message names the artifact's chips: %s", attnqat_rt_last_error(rt));
  CHECK(wrong == NULL, "no module on failure");
  static const unsigned char elf[64] = {0x7F, 'E', 'L', 'F', 2, 1, 1};
  attnqat_rt_module *foreign = NULL;
  expect_status("an ELF file as artifact",
                attnqat_rt_module_load_data(rt, elf, sizeof(elf), &foreign),
                ATTNQAT_RT_ERROR_NOT_AN_ARTIFACT, rt);

  attnqat_rt_destroy(rt);
  printf("%s: %d checks, %d failures\n", failures ? "FAIL" : "PASS", checks,
         failures);
  return failures ? 1 : 0;
}
