/*===- attnqat_runtime.h - attnqat GPU runtime, C API -------------*- C -*-===*\
|*                                                                            *|
|* libattnqat_runtime.so loads attnqat artifacts (compiled kernels for one or *|
|* more chips, with their signatures and launch configurations) and launches *|
|* them on caller-owned device memory and streams.                            *|
|*                                                                            *|
|* - No link dependency on CUDA, LLVM or MLIR: libcuda.so.1 is opened with    *|
|*   dlopen at attnqat_rt_create. Without a driver or a GPU, create returns   *|
|*   ATTNQAT_RT_ERROR_NO_DRIVER or ATTNQAT_RT_ERROR_NO_DEVICE with a message; *|
|*   nothing aborts.                                                          *|
|* - Every call returns an attnqat_rt_status. The message of the last failed  *|
|*   call on a handle (per calling thread) is attnqat_rt_last_error(handle);  *|
|*   attnqat_rt_last_error(NULL) holds that of calls made without a runtime   *|
|*   (attnqat_rt_create, attnqat_rt_artifact_verify).                         *|
|* - attnqat_rt_launch checks everything before it launches: problem dims     *|
|*   (negative, inconsistent, outside the kernel's constraints), arguments    *|
|*   (missing, unknown, wrong kind), pointers (NULL, misaligned, not device   *|
|*   memory of this device, allocation too small for the kernel's extent,     *|
|*   outputs overlapping other arguments) and the launch shape (grid limits,  *|
|*   cluster divisibility, tensor maps). A rejected launch enqueues nothing.  *|
|* - Handles may be used from several threads; a module must outlive its     *|
|*   kernels' launches being enqueued (not their completion), and the runtime *|
|*   must outlive its modules.                                                *|
|*                                                                            *|
|* docs/runtime.md documents the API, the artifact byte layout and the       *|
|* status codes.                                                              *|
\*===----------------------------------------------------------------------===*/

#ifndef ATTNQAT_RUNTIME_H
#define ATTNQAT_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define ATTNQAT_RT_API __attribute__((visibility("default")))
#else
#define ATTNQAT_RT_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*===----------------------------------------------------------------------===*
 * Status codes (stable numbers)
 *===----------------------------------------------------------------------===*/

typedef enum attnqat_rt_status {
  ATTNQAT_RT_SUCCESS = 0,
  /** A NULL handle or out-pointer, a bad option, an out-of-range index. */
  ATTNQAT_RT_ERROR_INVALID_ARGUMENT = 1,
  /** libcuda.so.1 cannot be loaded, lacks an entry point, or is the stub. */
  ATTNQAT_RT_ERROR_NO_DRIVER = 2,
  /** The driver loads but reports no CUDA device (or not the ordinal asked). */
  ATTNQAT_RT_ERROR_NO_DEVICE = 3,
  /** A CUDA driver call failed; the message names the call and the error. */
  ATTNQAT_RT_ERROR_DRIVER = 4,
  /** An artifact file cannot be read. */
  ATTNQAT_RT_ERROR_IO = 5,
  /** Not an artifact: wrong magic (an ELF, PTX or other file). */
  ATTNQAT_RT_ERROR_NOT_AN_ARTIFACT = 6,
  /** Unsupported artifact format version, byte order or feature flags. */
  ATTNQAT_RT_ERROR_ARTIFACT_VERSION = 7,
  /** Truncated, size or checksum mismatch, malformed record. */
  ATTNQAT_RT_ERROR_ARTIFACT_CORRUPT = 8,
  /** Well-formed but inconsistent: duplicate kernels, unknown chip tags... */
  ATTNQAT_RT_ERROR_ARTIFACT_INVALID = 9,
  /** The artifact (or the kernel) has no image for this device's chip. */
  ATTNQAT_RT_ERROR_NO_KERNEL_FOR_CHIP = 10,
  /** No kernel of that name, or no unique kernel for an op/config. */
  ATTNQAT_RT_ERROR_KERNEL_NOT_FOUND = 11,
  /** Launch arguments: unknown/missing/duplicate role, wrong kind. */
  ATTNQAT_RT_ERROR_BAD_ARGUMENT = 12,
  /** NULL, misaligned, not device memory of this device, too small, aliased. */
  ATTNQAT_RT_ERROR_BAD_POINTER = 13,
  /** Problem dims negative, inconsistent or outside the kernel's support. */
  ATTNQAT_RT_ERROR_BAD_SHAPE = 14,
  /** Loading a kernel image failed (PTX JIT log in the message). */
  ATTNQAT_RT_ERROR_MODULE_LOAD = 15,
  /** cuLaunchKernel / cuLaunchKernelEx failed. */
  ATTNQAT_RT_ERROR_LAUNCH = 16,
  /** Device or host memory allocation failed. */
  ATTNQAT_RT_ERROR_OUT_OF_MEMORY = 17,
  /** A feature the device or driver lacks (e.g. cluster launch). */
  ATTNQAT_RT_ERROR_UNSUPPORTED = 18,
  ATTNQAT_RT_ERROR_INTERNAL = 19
} attnqat_rt_status;

/** A static description of the code ("no CUDA driver", ...); never NULL. */
ATTNQAT_RT_API const char *attnqat_rt_status_string(attnqat_rt_status status);

/** The message of the last failed call on `handle` (an attnqat_rt_runtime,
 *  attnqat_rt_module or attnqat_rt_kernel; modules and kernels share their
 *  runtime's) in the calling thread, or of handle-less calls for NULL. ""
 *  when none. Valid until the next call on that handle in this thread. */
ATTNQAT_RT_API const char *attnqat_rt_last_error(const void *handle);

/** "0.1.0". */
ATTNQAT_RT_API const char *attnqat_rt_version(void);
/** The artifact format version this library reads (1.x) and writes (1.1). */
ATTNQAT_RT_API void attnqat_rt_artifact_format_version(int *major,
                                                       int *minor);

/*===----------------------------------------------------------------------===*
 * Runtime
 *===----------------------------------------------------------------------===*/

typedef struct attnqat_rt_runtime attnqat_rt_runtime;
typedef struct attnqat_rt_module attnqat_rt_module;
typedef struct attnqat_rt_kernel attnqat_rt_kernel;

/** Skip the cuPointerGetAttribute queries at launch (NULL and alignment are
 *  still checked). */
#define ATTNQAT_RT_OPTION_NO_POINTER_QUERIES 0x1u

typedef struct attnqat_rt_options {
  /** sizeof(attnqat_rt_options); set by attnqat_rt_options_init. */
  uint32_t struct_size;
  /** CUDA device ordinal (default 0). */
  int32_t device;
  /** Driver library to dlopen; NULL means "libcuda.so.1". */
  const char *libcuda_path;
  /** ATTNQAT_RT_OPTION_* bits. */
  uint32_t flags;
  uint32_t reserved;
} attnqat_rt_options;

ATTNQAT_RT_API void attnqat_rt_options_init(attnqat_rt_options *options);

/** Loads the driver, initializes it and binds device `options->device`:
 *  the context current on the calling thread if it belongs to that device,
 *  else the device's primary context (the one the CUDA runtime and PyTorch
 *  use), retained until attnqat_rt_destroy. `options` may be NULL. On
 *  failure *out is NULL and attnqat_rt_last_error(NULL) says why. */
ATTNQAT_RT_API attnqat_rt_status
attnqat_rt_create(const attnqat_rt_options *options, attnqat_rt_runtime **out);
ATTNQAT_RT_API void attnqat_rt_destroy(attnqat_rt_runtime *runtime);

typedef struct attnqat_rt_device_info {
  int32_t ordinal;
  int32_t cc_major, cc_minor;
  /** "sm_90a"; "" when attnqat has no chip target for this device. */
  char chip[16];
  char name[256];
  int32_t multiprocessor_count;
  int32_t max_shared_memory_per_block_optin;
  int32_t driver_version; /**< e.g. 13000 */
} attnqat_rt_device_info;

ATTNQAT_RT_API attnqat_rt_status
attnqat_rt_get_device_info(const attnqat_rt_runtime *runtime,
                           attnqat_rt_device_info *out);

/*===----------------------------------------------------------------------===*
 * Artifacts and modules
 *===----------------------------------------------------------------------===*/

/** Checks an artifact file or buffer (framing, checksums, semantics) without
 *  a runtime or a GPU; the message is in attnqat_rt_last_error(NULL). */
ATTNQAT_RT_API attnqat_rt_status attnqat_rt_artifact_verify_file(const char *path);
ATTNQAT_RT_API attnqat_rt_status
attnqat_rt_artifact_verify_data(const void *data, size_t size);

/** Parses and validates the artifact, selects the images for the device's
 *  chip (sm_90 -> sm_90a, ...), loads them (cuModuleLoadDataEx; PTX is JIT
 *  compiled), resolves every kernel that has a variant for the chip and sets
 *  its dynamic shared memory limit. A chip the artifact has no kernel for
 *  fails with ATTNQAT_RT_ERROR_NO_KERNEL_FOR_CHIP naming the chips it has. */
ATTNQAT_RT_API attnqat_rt_status
attnqat_rt_module_load_file(attnqat_rt_runtime *runtime, const char *path,
                            attnqat_rt_module **out);
ATTNQAT_RT_API attnqat_rt_status
attnqat_rt_module_load_data(attnqat_rt_runtime *runtime, const void *data,
                            size_t size, attnqat_rt_module **out);
ATTNQAT_RT_API void attnqat_rt_module_unload(attnqat_rt_module *module);

/** Kernels of the artifact, in artifact order, also those without a variant
 *  for this chip (getting one fails with NO_KERNEL_FOR_CHIP). */
ATTNQAT_RT_API size_t attnqat_rt_module_kernel_count(const attnqat_rt_module *module);
ATTNQAT_RT_API const char *
attnqat_rt_module_kernel_name(const attnqat_rt_module *module, size_t index);

/** The kernel whose entry symbol is `name`. */
ATTNQAT_RT_API attnqat_rt_status
attnqat_rt_module_get_kernel(attnqat_rt_module *module, const char *name,
                             attnqat_rt_kernel **out);
/** The unique kernel implementing `op` ("attention_forward", ...) whose
 *  config string equals `config` (NULL: any config). */
ATTNQAT_RT_API attnqat_rt_status
attnqat_rt_module_find_kernel(attnqat_rt_module *module, const char *op,
                              const char *config, attnqat_rt_kernel **out);

/*===----------------------------------------------------------------------===*
 * Kernels: signature and launch
 *===----------------------------------------------------------------------===*/

typedef enum attnqat_rt_arg_kind {
  ATTNQAT_RT_ARG_PTR = 1, /**< device pointer (CUdeviceptr) */
  ATTNQAT_RT_ARG_I32 = 2,
  ATTNQAT_RT_ARG_I64 = 3,
  ATTNQAT_RT_ARG_F32 = 4,
  /** A CUDA TMA descriptor (CUtensorMap, 128 bytes by value) that the runtime
   *  encodes at each launch from another pointer argument (the layout of
   *  attnqat_rt_kernel_param names it); never passed by the caller. */
  ATTNQAT_RT_ARG_TENSOR_MAP = 5
} attnqat_rt_arg_kind;

typedef enum attnqat_rt_access {
  ATTNQAT_RT_ACCESS_NONE = 0, /**< scalars */
  ATTNQAT_RT_ACCESS_IN = 1,
  ATTNQAT_RT_ACCESS_OUT = 2,
  ATTNQAT_RT_ACCESS_INOUT = 3
} attnqat_rt_access;

typedef struct attnqat_rt_param_info {
  const char *role;      /**< "q", "lse", "scale", "M" */
  int32_t kind;          /**< attnqat_rt_arg_kind */
  int32_t access;        /**< attnqat_rt_access */
  const char *elem_type; /**< "bf16", "e2m1", "e4m3", ...; "none" */
  uint32_t align;        /**< required pointer alignment in bytes */
  int32_t from_problem;  /**< 1: filled by the runtime (from
                              attnqat_rt_problem, or a tensor map) */
  const char *extent;    /**< elements, e.g. "B*Hq*M*D"; "" unchecked */
  const char *layout;    /**< human-readable layout; a tensor map's
                              description ("tensor map of k, dims [D, N,
                              B*Hkv], box [64, 64, 1], swizzle 128") */
} attnqat_rt_param_info;

ATTNQAT_RT_API const char *attnqat_rt_kernel_name(const attnqat_rt_kernel *kernel);
ATTNQAT_RT_API const char *attnqat_rt_kernel_op(const attnqat_rt_kernel *kernel);
ATTNQAT_RT_API const char *attnqat_rt_kernel_config(const attnqat_rt_kernel *kernel);
ATTNQAT_RT_API size_t attnqat_rt_kernel_param_count(const attnqat_rt_kernel *kernel);
ATTNQAT_RT_API attnqat_rt_status
attnqat_rt_kernel_param(const attnqat_rt_kernel *kernel, size_t index,
                        attnqat_rt_param_info *out);

/** Problem flags (which the kernel must support). */
#define ATTNQAT_RT_FLAG_CAUSAL 0x1u
#define ATTNQAT_RT_FLAG_ADDITIVE_MASK 0x2u
#define ATTNQAT_RT_FLAG_KEY_LENGTHS 0x4u
#define ATTNQAT_RT_FLAG_SAVE_FOR_BACKWARD 0x8u

/** Attention problem: Q [B,Hq,M,D], K and V [B,Hkv,N,D]. Kernels of other
 *  ops use the dims their signature names (a quantize kernel: M rows of D). */
typedef struct attnqat_rt_problem {
  int64_t B, Hq, Hkv, M, N, D;
  uint32_t flags; /**< ATTNQAT_RT_FLAG_* */
  uint32_t reserved;
} attnqat_rt_problem;

/** One launch argument, bound to the kernel param of the same role. Scalars
 *  whose role is a problem dim ("B", "Hq", "Hkv", "M", "N", "D") or "flags"
 *  are filled from the problem, tensor maps are made from their pointer
 *  argument: neither may be passed. */
typedef struct attnqat_rt_arg {
  const char *role;
  int32_t kind; /**< attnqat_rt_arg_kind */
  uint32_t reserved;
  union {
    uint64_t ptr; /**< CUdeviceptr */
    int32_t i32;
    int64_t i64;
    float f32;
  } value;
} attnqat_rt_arg;

static inline attnqat_rt_arg attnqat_rt_arg_ptr(const char *role,
                                                uint64_t device_ptr) {
  attnqat_rt_arg a;
  a.role = role;
  a.kind = ATTNQAT_RT_ARG_PTR;
  a.reserved = 0;
  a.value.ptr = device_ptr;
  return a;
}
static inline attnqat_rt_arg attnqat_rt_arg_vptr(const char *role,
                                                 const void *device_ptr) {
  return attnqat_rt_arg_ptr(role, (uint64_t)(uintptr_t)device_ptr);
}
static inline attnqat_rt_arg attnqat_rt_arg_i32(const char *role, int32_t v) {
  attnqat_rt_arg a;
  a.role = role;
  a.kind = ATTNQAT_RT_ARG_I32;
  a.reserved = 0;
  a.value.i64 = 0;
  a.value.i32 = v;
  return a;
}
static inline attnqat_rt_arg attnqat_rt_arg_i64(const char *role, int64_t v) {
  attnqat_rt_arg a;
  a.role = role;
  a.kind = ATTNQAT_RT_ARG_I64;
  a.reserved = 0;
  a.value.i64 = v;
  return a;
}
static inline attnqat_rt_arg attnqat_rt_arg_f32(const char *role, float v) {
  attnqat_rt_arg a;
  a.role = role;
  a.kind = ATTNQAT_RT_ARG_F32;
  a.reserved = 0;
  a.value.i64 = 0;
  a.value.f32 = v;
  return a;
}

typedef struct attnqat_rt_launch_config {
  uint32_t grid[3];
  uint32_t block[3];
  uint32_t cluster[3];
  uint32_t dynamic_shared_bytes;
} attnqat_rt_launch_config;

/** The grid/block/cluster/shared memory a launch of `problem` would use;
 *  checks the problem (not the arguments). */
ATTNQAT_RT_API attnqat_rt_status
attnqat_rt_kernel_launch_config(const attnqat_rt_kernel *kernel,
                                const attnqat_rt_problem *problem,
                                attnqat_rt_launch_config *out);

/** Every check attnqat_rt_launch makes, without launching. */
ATTNQAT_RT_API attnqat_rt_status
attnqat_rt_check_launch(const attnqat_rt_kernel *kernel,
                        const attnqat_rt_problem *problem,
                        const attnqat_rt_arg *args, size_t num_args,
                        void *stream);

/** Enqueues the kernel on `stream` (a CUstream; NULL is the legacy default
 *  stream) after all checks pass. Asynchronous: kernel faults show up at the
 *  next synchronization. */
ATTNQAT_RT_API attnqat_rt_status
attnqat_rt_launch(const attnqat_rt_kernel *kernel,
                  const attnqat_rt_problem *problem,
                  const attnqat_rt_arg *args, size_t num_args, void *stream);

/*===----------------------------------------------------------------------===*
 * Device memory and streams (thin driver wrappers for C callers and tests;
 * callers with their own allocator need none of these)
 *===----------------------------------------------------------------------===*/

ATTNQAT_RT_API attnqat_rt_status attnqat_rt_mem_alloc(attnqat_rt_runtime *runtime,
                                                      size_t bytes,
                                                      uint64_t *device_ptr);
ATTNQAT_RT_API attnqat_rt_status attnqat_rt_mem_free(attnqat_rt_runtime *runtime,
                                                     uint64_t device_ptr);
ATTNQAT_RT_API attnqat_rt_status
attnqat_rt_memcpy_htod(attnqat_rt_runtime *runtime, uint64_t dst,
                       const void *src, size_t bytes);
ATTNQAT_RT_API attnqat_rt_status
attnqat_rt_memcpy_dtoh(attnqat_rt_runtime *runtime, void *dst, uint64_t src,
                       size_t bytes);
ATTNQAT_RT_API attnqat_rt_status
attnqat_rt_stream_create(attnqat_rt_runtime *runtime, void **stream);
ATTNQAT_RT_API attnqat_rt_status
attnqat_rt_stream_destroy(attnqat_rt_runtime *runtime, void *stream);
ATTNQAT_RT_API attnqat_rt_status
attnqat_rt_stream_synchronize(attnqat_rt_runtime *runtime, void *stream);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ATTNQAT_RUNTIME_H */
