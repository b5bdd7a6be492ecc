//===- CudaDriver.cpp - The CUDA driver API, loaded with dlopen -----------===//

#include "CudaDriver.h"

#include <dlfcn.h>
#include <link.h>

namespace mlir::attnqat::rt::cuda {

namespace {

struct Entry {
  const char *symbol;
  void **slot;
  bool required;
};

template <typename F> void **slot(F &f) { return reinterpret_cast<void **>(&f); }

} // namespace

LoadResult loadDriver(const char *libraryPath, Driver &out,
                      std::string &error) {
  out = Driver();
  const char *name = libraryPath ? libraryPath : "libcuda.so.1";
  dlerror();
  void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *why = dlerror();
    error = std::string(name) + " not found" + (why ? std::string(": ") + why : "");
    return LoadResult::NotFound;
  }
  out.handle = h;
  out.path = name;
  struct link_map *lm = nullptr;
  if (dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm && lm->l_name &&
      lm->l_name[0])
    out.path = lm->l_name;

  DriverApi &a = out.api;
  const Entry entries[] = {
      {"cuInit", slot(a.cuInit), true},
      {"cuDriverGetVersion", slot(a.cuDriverGetVersion), true},
      {"cuGetErrorName", slot(a.cuGetErrorName), true},
      {"cuGetErrorString", slot(a.cuGetErrorString), true},
      {"cuDeviceGetCount", slot(a.cuDeviceGetCount), true},
      {"cuDeviceGet", slot(a.cuDeviceGet), true},
      {"cuDeviceGetAttribute", slot(a.cuDeviceGetAttribute), true},
      {"cuDeviceGetName", slot(a.cuDeviceGetName), true},
      {"cuDevicePrimaryCtxRetain", slot(a.cuDevicePrimaryCtxRetain), true},
      {"cuDevicePrimaryCtxRelease_v2", slot(a.cuDevicePrimaryCtxRelease), true},
      {"cuCtxGetCurrent", slot(a.cuCtxGetCurrent), true},
      {"cuCtxGetDevice", slot(a.cuCtxGetDevice), true},
      {"cuCtxPushCurrent_v2", slot(a.cuCtxPushCurrent), true},
      {"cuCtxPopCurrent_v2", slot(a.cuCtxPopCurrent), true},
      {"cuModuleLoadDataEx", slot(a.cuModuleLoadDataEx), true},
      {"cuModuleUnload", slot(a.cuModuleUnload), true},
      {"cuModuleGetFunction", slot(a.cuModuleGetFunction), true},
      {"cuFuncGetAttribute", slot(a.cuFuncGetAttribute), true},
      {"cuFuncSetAttribute", slot(a.cuFuncSetAttribute), true},
      {"cuLaunchKernel", slot(a.cuLaunchKernel), true},
      {"cuPointerGetAttribute", slot(a.cuPointerGetAttribute), true},
      {"cuMemAlloc_v2", slot(a.cuMemAlloc), true},
      {"cuMemFree_v2", slot(a.cuMemFree), true},
      {"cuMemcpyHtoD_v2", slot(a.cuMemcpyHtoD), true},
      {"cuMemcpyDtoH_v2", slot(a.cuMemcpyDtoH), true},
      {"cuStreamCreate", slot(a.cuStreamCreate), true},
      {"cuStreamDestroy_v2", slot(a.cuStreamDestroy), true},
      {"cuStreamSynchronize", slot(a.cuStreamSynchronize), true},
      {"cuLaunchKernelEx", slot(a.cuLaunchKernelEx), false},
      {"cuStreamGetCtx", slot(a.cuStreamGetCtx), false},
      {"cuTensorMapEncodeTiled", slot(a.cuTensorMapEncodeTiled), false},
  };
  for (const Entry &e : entries) {
    *e.slot = dlsym(h, e.symbol);
    if (!*e.slot && e.required) {
      error = out.path + " lacks the driver entry point " + e.symbol +
              " (a driver for CUDA 12.0 or newer is needed)";
      dlclose(h);
      out = Driver();
      return LoadResult::MissingSymbol;
    }
  }
  return LoadResult::Ok;
}

void unloadDriver(Driver &driver) {
  if (driver.handle)
    dlclose(driver.handle);
  driver = Driver();
}

std::string errorString(const DriverApi &api, CUresult r) {
  const char *name = nullptr, *text = nullptr;
  if (api.cuGetErrorName)
    api.cuGetErrorName(r, &name);
  if (api.cuGetErrorString)
    api.cuGetErrorString(r, &text);
  std::string s = name ? name : "CUDA error " + std::to_string(r);
  if (text)
    s += std::string(" (") + text + ")";
  return s;
}

} // namespace mlir::attnqat::rt::cuda
