/*===- c_api_test.c - The C API from C, on any machine --------------------===*
 *
 *   attnqat-rt-c-api-test SMOKE.aqa
 *
 * Compiles attnqat_runtime.h as C and checks what needs no GPU: status
 * strings, runtime creation without a driver (a missing library, the CUDA
 * stub library, the default "libcuda.so.1" whatever this machine has),
 * argument checks of create, artifact verification, argument helpers.
 *===----------------------------------------------------------------------===*/

#include "attnqat-runtime/attnqat_runtime.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int failures = 0;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      ++failures;                                                              \
      printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                  \
      printf(__VA_ARGS__);                                                     \
      printf("\n");                                                            \
    }                                                                          \
  } while (0)

int main(int argc, char **argv) {
  /* Status strings: distinct, non-empty, unknown codes handled. */
  for (int i = 0; i <= ATTNQAT_RT_ERROR_INTERNAL; ++i) {
    const char *s = attnqat_rt_status_string((attnqat_rt_status)i);
    CHECK(s && *s && strcmp(s, "unknown status") != 0, "code %d", i);
    for (int j = 0; j < i; ++j)
      CHECK(strcmp(s, attnqat_rt_status_string((attnqat_rt_status)j)) != 0,
            "codes %d and %d share '%s'", i, j, s);
  }
  CHECK(strcmp(attnqat_rt_status_string((attnqat_rt_status)999),
               "unknown status") == 0, "999");
  int major = 0, minor = -1;
  attnqat_rt_artifact_format_version(&major, &minor);
  CHECK(major == 1 && minor == 1, "format %d.%d", major, minor);

  /* create: argument checks. */
  CHECK(attnqat_rt_create(NULL, NULL) == ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
        "NULL out");
  attnqat_rt_options opts;
  memset(&opts, 0, sizeof(opts));
  attnqat_rt_runtime *rt = (attnqat_rt_runtime *)&opts;
  CHECK(attnqat_rt_create(&opts, &rt) == ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
        "struct_size 0");
  CHECK(rt == NULL, "out cleared on failure");
  CHECK(strstr(attnqat_rt_last_error(NULL), "attnqat_rt_options_init"),
        "%s", attnqat_rt_last_error(NULL));
  attnqat_rt_options_init(&opts);
  opts.device = -1;
  CHECK(attnqat_rt_create(&opts, &rt) == ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
        "negative device");

  /* The default first (a library loaded below would be found again by its
   * soname): whatever this machine has. Never a crash; a clear status. */
  attnqat_rt_status s = attnqat_rt_create(NULL, &rt);
  printf("default driver: %s: %s\n", attnqat_rt_status_string(s),
         s ? attnqat_rt_last_error(NULL) : "(a GPU is present)");
  CHECK(s == ATTNQAT_RT_SUCCESS || s == ATTNQAT_RT_ERROR_NO_DRIVER ||
            s == ATTNQAT_RT_ERROR_NO_DEVICE,
        "status %d: %s", s, attnqat_rt_last_error(NULL));
  if (s == ATTNQAT_RT_ERROR_NO_DRIVER)
    CHECK(strstr(attnqat_rt_last_error(NULL), "no CUDA driver") ||
              strstr(attnqat_rt_last_error(NULL), "no usable CUDA driver"),
          "%s", attnqat_rt_last_error(NULL));
  if (s == ATTNQAT_RT_ERROR_NO_DEVICE)
    CHECK(strstr(attnqat_rt_last_error(NULL), "no CUDA device"), "%s",
          attnqat_rt_last_error(NULL));
  if (s == ATTNQAT_RT_SUCCESS)
    attnqat_rt_destroy(rt);

  /* A driver library that does not exist. */
  attnqat_rt_options_init(&opts);
  opts.libcuda_path = "/nonexistent/libcuda.so.1";
  s = attnqat_rt_create(&opts, &rt);
  printf("missing driver: %s: %s\n", attnqat_rt_status_string(s),
         attnqat_rt_last_error(NULL));
  CHECK(s == ATTNQAT_RT_ERROR_NO_DRIVER, "status %d", s);
  CHECK(strstr(attnqat_rt_last_error(NULL), "no CUDA driver") &&
            strstr(attnqat_rt_last_error(NULL), "/nonexistent/libcuda.so.1"),
        "%s", attnqat_rt_last_error(NULL));

  /* The toolkit's stub library, where installed: cuInit reports the stub. */
  const char *stub = "/usr/local/cuda/lib64/stubs/libcuda.so";
  if (access(stub, R_OK) == 0) {
    opts.libcuda_path = stub;
    s = attnqat_rt_create(&opts, &rt);
    printf("stub driver: %s: %s\n", attnqat_rt_status_string(s),
           attnqat_rt_last_error(NULL));
    CHECK(s == ATTNQAT_RT_ERROR_NO_DRIVER, "status %d", s);
    CHECK(strstr(attnqat_rt_last_error(NULL), "stub"), "%s",
          attnqat_rt_last_error(NULL));
  }

  /* Artifact verification needs no runtime. */
  static const char text[] = "hello, this is not an artifact\n";
  s = attnqat_rt_artifact_verify_data(text, sizeof(text) - 1);
  CHECK(s == ATTNQAT_RT_ERROR_NOT_AN_ARTIFACT, "status %d", s);
  CHECK(strstr(attnqat_rt_last_error(NULL), "text file"), "%s",
        attnqat_rt_last_error(NULL));
  s = attnqat_rt_artifact_verify_file("/nonexistent.aqa");
  CHECK(s == ATTNQAT_RT_ERROR_IO, "status %d", s);
  if (argc > 1) {
    s = attnqat_rt_artifact_verify_file(argv[1]);
    CHECK(s == ATTNQAT_RT_SUCCESS, "%s: %s", argv[1],
          attnqat_rt_last_error(NULL));
  }

  /* Argument helpers. */
  attnqat_rt_arg a = attnqat_rt_arg_f32("scale", 0.125f);
  CHECK(a.kind == ATTNQAT_RT_ARG_F32 && a.value.f32 == 0.125f, "f32");
  a = attnqat_rt_arg_i64("n", -3);
  CHECK(a.kind == ATTNQAT_RT_ARG_I64 && a.value.i64 == -3, "i64");
  a = attnqat_rt_arg_vptr("q", (const void *)(uintptr_t)0x1000);
  CHECK(a.kind == ATTNQAT_RT_ARG_PTR && a.value.ptr == 0x1000, "ptr");

  /* NULL handles are errors, not crashes. */
  CHECK(attnqat_rt_module_load_file(NULL, "x", NULL) ==
            ATTNQAT_RT_ERROR_INVALID_ARGUMENT, "load NULL");
  CHECK(attnqat_rt_launch(NULL, NULL, NULL, 0, NULL) ==
            ATTNQAT_RT_ERROR_INVALID_ARGUMENT, "launch NULL");
  CHECK(attnqat_rt_module_kernel_count(NULL) == 0, "count NULL");
  attnqat_rt_destroy(NULL);
  attnqat_rt_module_unload(NULL);

  printf("%s (%d failures)\n", failures ? "FAIL" : "PASS", failures);
  return failures ? 1 : 0;
}
