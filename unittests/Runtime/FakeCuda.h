//===- FakeCuda.h - A fake CUDA driver for runtime tests --------*- C++ -*-===//
//
// libattnqat_fakecuda.so implements the driver entry points the runtime
// dlsyms (cuInit, cuModuleLoadDataEx, cuLaunchKernel, cuPointerGetAttribute,
// ...) over host memory, records launches instead of running them, and is
// steered by the fakecuda_* functions below. Built twice: the second copy
// (libattnqat_fakecuda_notma.so, FAKECUDA_NO_TENSOR_MAP) lacks
// cuTensorMapEncodeTiled, as a driver older than CUDA 12 would. Tests pass its path as
// attnqat_rt_options::libcuda_path, so the runtime's real dlopen/dlsym path
// runs against it. Device "allocations" are host buffers, so memcpy works.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_UNITTESTS_RUNTIME_FAKECUDA_H
#define ATTNQAT_UNITTESTS_RUNTIME_FAKECUDA_H

#include <cstddef>
#include <cstdint>

extern "C" {

struct FakeLaunch {
  char function[128];
  unsigned grid[3], block[3], cluster[3];
  unsigned sharedBytes;
  void *stream;
  int numParams;
  unsigned paramSizes[32];
  uint64_t params[32]; ///< raw bytes, zero-extended; 0 for wider params
  /// Params wider than 8 bytes (a 128-byte CUtensorMap): their first 128
  /// bytes.
  unsigned char wide[32][128];
};

/// The arguments of the last cuTensorMapEncodeTiled call.
struct FakeTensorMapCall {
  const void *map; ///< where the runtime asked it to be written
  int dataType;
  unsigned rank;
  uint64_t address;
  uint64_t dims[5], strides[4];
  unsigned box[5], elementStrides[5];
  int interleave, swizzle, l2Promotion, oobFill;
};

/// Back to one cc 9.0 device named "Fake H100", 132 SMs, 227 KiB opt-in
/// shared memory, cluster launch, everything succeeding; forgets launches,
/// allocations, modules.
void fakecuda_reset();
void fakecuda_set_device(int count, int ccMajor, int ccMinor);
void fakecuda_set_init_result(int result);
void fakecuda_set_cluster_launch(int supported);
/// What cuFuncGetAttribute reports for every function.
void fakecuda_set_func_limits(int maxThreadsPerBlock, int staticSharedBytes);
/// Makes cuModuleLoadDataEx fail with `result`, writing `log` to the JIT
/// error log; 0 restores success.
void fakecuda_set_module_load_result(int result, const char *log);
void fakecuda_set_launch_result(int result);
/// Makes cuTensorMapEncodeTiled fail with `result`; 0 restores checking the
/// driver's documented requirements (alignment, ranges) and encoding.
void fakecuda_set_tensor_map_result(int result);
/// Calls of cuTensorMapEncodeTiled since the reset, and the last one's
/// arguments. A successful call writes a recognizable map: opaque[0] = the
/// address, opaque[1 + i] = dims[i].
int fakecuda_tensor_map_calls();
bool fakecuda_last_tensor_map(FakeTensorMapCall *out);
/// Registers [ptr, ptr+size) as memory of `memoryType` (1 host, 2 device)
/// on device `ordinal`, as cuPointerGetAttribute will report it.
void fakecuda_register(uint64_t ptr, size_t size, unsigned memoryType,
                       int ordinal);
/// A stream that belongs to a context other than the primary one.
void *fakecuda_foreign_stream();

int fakecuda_launch_count();
bool fakecuda_last_launch(FakeLaunch *out);
int fakecuda_loaded_modules();
int fakecuda_primary_retains();
/// The value last set with cuFuncSetAttribute(attr) on function `name`, or
/// -1.
int fakecuda_func_attribute(const char *name, int attr);
}

#endif // ATTNQAT_UNITTESTS_RUNTIME_FAKECUDA_H
