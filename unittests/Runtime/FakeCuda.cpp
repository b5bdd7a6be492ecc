//===- FakeCuda.cpp - A fake CUDA driver for runtime tests ----------------===//

#include "FakeCuda.h"

#include "CudaDriver.h"

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

using namespace mlir::attnqat::rt::cuda;

#define EXPORT extern "C" __attribute__((visibility("default")))

namespace {

struct Alloc {
  size_t size;
  unsigned memType;
  int ordinal;
  bool owned;
};

struct Function {
  std::string name;
  std::vector<unsigned> paramSizes;
  std::map<int, int> attrs;
};

struct Module {
  std::vector<std::unique_ptr<Function>> functions;
  std::string image;
  bool cubin = false;
};

struct CtxObj {
  int id;
};

struct StreamObj {
  CUcontext ctx;
};

struct State {
  int initResult = 0;
  int deviceCount = 1, ccMajor = 9, ccMinor = 0;
  int clusterLaunch = 1;
  int funcMaxThreads = 1024, funcStaticSmem = 0;
  int moduleLoadResult = 0;
  std::string jitLog;
  int launchResult = 0;
  int tensorMapResult = 0;
  int tensorMapCalls = 0;
  FakeTensorMapCall lastTensorMap = {};
  std::map<uint64_t, Alloc> allocs;
  std::vector<FakeLaunch> launches;
  std::vector<std::unique_ptr<Module>> modules;
  std::vector<std::unique_ptr<StreamObj>> streams;
  int primaryRetains = 0;
};

State &state() {
  static State s;
  return s;
}
std::mutex &lock() {
  static std::mutex m;
  return m;
}
CtxObj primaryCtx{1}, foreignCtx{2};
thread_local std::vector<CUcontext> ctxStack;

CUcontext asCtx(CtxObj &c) { return reinterpret_cast<CUcontext>(&c); }

/// Sizes of the .param entries of `.entry name(...)` in PTX.
bool ptxParams(const std::string &ptx, const std::string &name,
               std::vector<unsigned> &sizes) {
  size_t at = 0;
  while ((at = ptx.find(".entry", at)) != std::string::npos) {
    size_t p = at + 6;
    at = p;
    while (p < ptx.size() && std::isspace(static_cast<unsigned char>(ptx[p])))
      ++p;
    if (ptx.compare(p, name.size(), name) != 0)
      continue;
    size_t q = p + name.size();
    if (q < ptx.size() && ptx[q] != '(' &&
        !std::isspace(static_cast<unsigned char>(ptx[q])))
      continue;
    size_t open = ptx.find('(', q), close = ptx.find(')', q);
    if (open == std::string::npos || close == std::string::npos)
      return true;
    std::string list = ptx.substr(open, close - open);
    size_t k = 0;
    while ((k = list.find(".param", k)) != std::string::npos) {
      k += 6;
      size_t end = list.find(',', k);
      std::string decl = list.substr(k, end == std::string::npos
                                            ? std::string::npos
                                            : end - k);
      // ".align 64 .b8 name[128]": skip the alignment.
      size_t dot = decl.find('.');
      if (decl.compare(dot, 6, ".align") == 0)
        dot = decl.find('.', dot + 1);
      std::string ty = decl.substr(dot + 1, 3);
      unsigned sz = 4;
      if (ty == "u64" || ty == "b64" || ty == "s64" || ty == "f64")
        sz = 8;
      else if (ty.rfind("u8", 0) == 0 || ty.rfind("b8", 0) == 0 ||
               ty.rfind("s8", 0) == 0)
        sz = 1;
      else if (ty == "u16" || ty == "b16" || ty == "s16" || ty == "f16")
        sz = 2;
      size_t bracket = decl.find('[');
      if (bracket != std::string::npos)
        sz *= static_cast<unsigned>(std::atoi(decl.c_str() + bracket + 1));
      sizes.push_back(sz);
    }
    return true;
  }
  return false;
}

const Alloc *findAlloc(uint64_t p, uint64_t *start) {
  auto &allocs = state().allocs;
  auto it = allocs.upper_bound(p);
  if (it == allocs.begin())
    return nullptr;
  --it;
  if (p >= it->first && p < it->first + it->second.size) {
    *start = it->first;
    return &it->second;
  }
  return nullptr;
}

void record(const Function *f, const unsigned grid[3], const unsigned block[3],
            const unsigned cluster[3], unsigned smem, CUstream stream,
            void **params) {
  FakeLaunch l;
  std::memset(&l, 0, sizeof(l));
  std::strncpy(l.function, f->name.c_str(), sizeof(l.function) - 1);
  for (int i = 0; i < 3; ++i) {
    l.grid[i] = grid[i];
    l.block[i] = block[i];
    l.cluster[i] = cluster[i];
  }
  l.sharedBytes = smem;
  l.stream = stream;
  l.numParams = static_cast<int>(f->paramSizes.size());
  for (int i = 0; i < l.numParams && i < 32; ++i) {
    unsigned n = f->paramSizes[i];
    l.paramSizes[i] = n;
    if (n <= 8)
      std::memcpy(&l.params[i], params[i], n);
    else
      std::memcpy(l.wide[i], params[i], n < 128 ? n : 128);
  }
  state().launches.push_back(l);
}

} // namespace

//===----------------------------------------------------------------------===//
// Steering
//===----------------------------------------------------------------------===//

EXPORT void fakecuda_reset() {
  std::lock_guard<std::mutex> g(lock());
  for (auto &a : state().allocs)
    if (a.second.owned)
      std::free(reinterpret_cast<void *>(a.first));
  state() = State();
  ctxStack.clear();
}
EXPORT void fakecuda_set_device(int count, int major, int minor) {
  state().deviceCount = count;
  state().ccMajor = major;
  state().ccMinor = minor;
}
EXPORT void fakecuda_set_init_result(int r) { state().initResult = r; }
EXPORT void fakecuda_set_cluster_launch(int s) { state().clusterLaunch = s; }
EXPORT void fakecuda_set_func_limits(int maxThreads, int staticSmem) {
  state().funcMaxThreads = maxThreads;
  state().funcStaticSmem = staticSmem;
}
EXPORT void fakecuda_set_module_load_result(int r, const char *log) {
  state().moduleLoadResult = r;
  state().jitLog = log ? log : "";
}
EXPORT void fakecuda_set_launch_result(int r) { state().launchResult = r; }
EXPORT void fakecuda_set_tensor_map_result(int r) {
  state().tensorMapResult = r;
}
EXPORT int fakecuda_tensor_map_calls() { return state().tensorMapCalls; }
EXPORT bool fakecuda_last_tensor_map(FakeTensorMapCall *out) {
  if (!state().tensorMapCalls)
    return false;
  *out = state().lastTensorMap;
  return true;
}
EXPORT void fakecuda_register(uint64_t ptr, size_t size, unsigned memType,
                              int ordinal) {
  state().allocs[ptr] = {size, memType, ordinal, false};
}
EXPORT void *fakecuda_foreign_stream() {
  state().streams.push_back(
      std::make_unique<StreamObj>(StreamObj{asCtx(foreignCtx)}));
  return state().streams.back().get();
}
EXPORT int fakecuda_launch_count() {
  return static_cast<int>(state().launches.size());
}
EXPORT bool fakecuda_last_launch(FakeLaunch *out) {
  if (state().launches.empty())
    return false;
  *out = state().launches.back();
  return true;
}
EXPORT int fakecuda_loaded_modules() {
  return static_cast<int>(state().modules.size());
}
EXPORT int fakecuda_primary_retains() { return state().primaryRetains; }
EXPORT int fakecuda_func_attribute(const char *name, int attr) {
  for (auto &m : state().modules)
    for (auto &f : m->functions)
      if (f->name == name) {
        auto it = f->attrs.find(attr);
        return it == f->attrs.end() ? -1 : it->second;
      }
  return -1;
}

//===----------------------------------------------------------------------===//
// Driver API
//===----------------------------------------------------------------------===//

EXPORT CUresult cuInit(unsigned) { return state().initResult; }
EXPORT CUresult cuDriverGetVersion(int *v) {
  *v = 13000;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuGetErrorName(CUresult r, const char **s) {
  switch (r) {
  case CUDA_SUCCESS:
    *s = "CUDA_SUCCESS";
    return CUDA_SUCCESS;
  case CUDA_ERROR_INVALID_VALUE:
    *s = "CUDA_ERROR_INVALID_VALUE";
    return CUDA_SUCCESS;
  case CUDA_ERROR_OUT_OF_MEMORY:
    *s = "CUDA_ERROR_OUT_OF_MEMORY";
    return CUDA_SUCCESS;
  case CUDA_ERROR_NO_DEVICE:
    *s = "CUDA_ERROR_NO_DEVICE";
    return CUDA_SUCCESS;
  case 218:
    *s = "CUDA_ERROR_INVALID_PTX";
    return CUDA_SUCCESS;
  case 701:
    *s = "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES";
    return CUDA_SUCCESS;
  }
  *s = nullptr;
  return CUDA_ERROR_INVALID_VALUE;
}
EXPORT CUresult cuGetErrorString(CUresult r, const char **s) {
  *s = r == CUDA_ERROR_NO_DEVICE ? "no CUDA-capable device is detected"
                                 : nullptr;
  return *s ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
EXPORT CUresult cuDeviceGetCount(int *n) {
  *n = state().deviceCount;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceGet(CUdevice *d, int ordinal) {
  if (ordinal < 0 || ordinal >= state().deviceCount)
    return CUDA_ERROR_INVALID_DEVICE;
  *d = ordinal;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceGetAttribute(int *v, CUdevice_attribute a,
                                     CUdevice) {
  switch (a) {
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
    *v = state().ccMajor;
    break;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
    *v = state().ccMinor;
    break;
  case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT:
    *v = 132;
    break;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN:
    *v = 232448;
    break;
  case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK:
    *v = 1024;
    break;
  case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X:
    *v = 0x7FFFFFFF;
    break;
  case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y:
  case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z:
    *v = 65535;
    break;
  case CU_DEVICE_ATTRIBUTE_CLUSTER_LAUNCH:
    *v = state().clusterLaunch;
    break;
  default:
    return CUDA_ERROR_INVALID_VALUE;
  }
  return CUDA_SUCCESS;
}
EXPORT CUresult cuDeviceGetName(char *name, int len, CUdevice) {
  std::strncpy(name, "Fake H100", len);
  return CUDA_SUCCESS;
}
EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext *c, CUdevice) {
  ++state().primaryRetains;
  *c = asCtx(primaryCtx);
  return CUDA_SUCCESS;
}
EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice) {
  --state().primaryRetains;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuCtxGetCurrent(CUcontext *c) {
  *c = ctxStack.empty() ? nullptr : ctxStack.back();
  return CUDA_SUCCESS;
}
EXPORT CUresult cuCtxGetDevice(CUdevice *d) {
  if (ctxStack.empty())
    return CUDA_ERROR_INVALID_VALUE;
  *d = 0;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuCtxPushCurrent_v2(CUcontext c) {
  ctxStack.push_back(c);
  return CUDA_SUCCESS;
}
EXPORT CUresult cuCtxPopCurrent_v2(CUcontext *c) {
  if (ctxStack.empty())
    return CUDA_ERROR_INVALID_VALUE;
  *c = ctxStack.back();
  ctxStack.pop_back();
  return CUDA_SUCCESS;
}
EXPORT CUresult cuModuleLoadDataEx(CUmodule *m, const void *image,
                                   unsigned n, CUjit_option *opts,
                                   void **values) {
  if (ctxStack.empty() || ctxStack.back() != asCtx(primaryCtx))
    return CUDA_ERROR_INVALID_VALUE; // the runtime must make its ctx current
  if (state().moduleLoadResult) {
    for (unsigned i = 0; i < n; ++i)
      if (opts[i] == CU_JIT_ERROR_LOG_BUFFER)
        std::strcpy(static_cast<char *>(values[i]), state().jitLog.c_str());
    return state().moduleLoadResult;
  }
  auto mod = std::make_unique<Module>();
  const char *c = static_cast<const char *>(image);
  mod->cubin = std::memcmp(c, "\x7f" "ELF", 4) == 0;
  if (!mod->cubin)
    mod->image = c; // PTX: NUL-terminated by the runtime
  *m = reinterpret_cast<CUmodule>(mod.get());
  state().modules.push_back(std::move(mod));
  return CUDA_SUCCESS;
}
EXPORT CUresult cuModuleUnload(CUmodule m) {
  auto &mods = state().modules;
  for (size_t i = 0; i < mods.size(); ++i)
    if (reinterpret_cast<CUmodule>(mods[i].get()) == m) {
      mods.erase(mods.begin() + i);
      return CUDA_SUCCESS;
    }
  return CUDA_ERROR_INVALID_VALUE;
}
EXPORT CUresult cuModuleGetFunction(CUfunction *f, CUmodule m,
                                    const char *name) {
  Module *mod = reinterpret_cast<Module *>(m);
  auto fn = std::make_unique<Function>();
  fn->name = name;
  if (!mod->cubin && !ptxParams(mod->image, name, fn->paramSizes))
    return 500; // CUDA_ERROR_NOT_FOUND
  *f = reinterpret_cast<CUfunction>(fn.get());
  mod->functions.push_back(std::move(fn));
  return CUDA_SUCCESS;
}
EXPORT CUresult cuFuncGetAttribute(int *v, CUfunction_attribute a,
                                   CUfunction) {
  if (a == CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK)
    *v = state().funcMaxThreads;
  else if (a == CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES)
    *v = state().funcStaticSmem;
  else
    return CUDA_ERROR_INVALID_VALUE;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuFuncSetAttribute(CUfunction f, CUfunction_attribute a,
                                   int v) {
  reinterpret_cast<Function *>(f)->attrs[a] = v;
  return CUDA_SUCCESS;
}
EXPORT CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy,
                               unsigned gz, unsigned bx, unsigned by,
                               unsigned bz, unsigned smem, CUstream s,
                               void **params, void **extra) {
  if (state().launchResult)
    return state().launchResult;
  if (extra)
    return CUDA_ERROR_INVALID_VALUE;
  unsigned g[3] = {gx, gy, gz}, b[3] = {bx, by, bz}, c[3] = {1, 1, 1};
  record(reinterpret_cast<Function *>(f), g, b, c, smem, s, params);
  return CUDA_SUCCESS;
}
EXPORT CUresult cuLaunchKernelEx(const CUlaunchConfig *cfg, CUfunction f,
                                 void **params, void **extra) {
  if (state().launchResult)
    return state().launchResult;
  unsigned g[3] = {cfg->gridDimX, cfg->gridDimY, cfg->gridDimZ};
  unsigned b[3] = {cfg->blockDimX, cfg->blockDimY, cfg->blockDimZ};
  unsigned c[3] = {1, 1, 1};
  for (unsigned i = 0; i < cfg->numAttrs; ++i)
    if (cfg->attrs[i].id == CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION) {
      c[0] = cfg->attrs[i].value.clusterDim.x;
      c[1] = cfg->attrs[i].value.clusterDim.y;
      c[2] = cfg->attrs[i].value.clusterDim.z;
    }
  record(reinterpret_cast<Function *>(f), g, b, c, cfg->sharedMemBytes,
         cfg->hStream, params);
  return CUDA_SUCCESS;
}
EXPORT CUresult cuPointerGetAttribute(void *out, CUpointer_attribute a,
                                      CUdeviceptr p) {
  uint64_t start = 0;
  const Alloc *al = findAlloc(p, &start);
  if (!al)
    return CUDA_ERROR_INVALID_VALUE;
  switch (a) {
  case CU_POINTER_ATTRIBUTE_MEMORY_TYPE:
    *static_cast<unsigned *>(out) = al->memType;
    break;
  case CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL:
    *static_cast<int *>(out) = al->ordinal;
    break;
  case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR:
    *static_cast<CUdeviceptr *>(out) = start;
    break;
  case CU_POINTER_ATTRIBUTE_RANGE_SIZE:
    *static_cast<size_t *>(out) = al->size;
    break;
  case CU_POINTER_ATTRIBUTE_CONTEXT:
    *static_cast<CUcontext *>(out) = asCtx(primaryCtx);
    break;
  default:
    return CUDA_ERROR_INVALID_VALUE;
  }
  return CUDA_SUCCESS;
}
EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t n) {
  if (n > (size_t(1) << 34))
    return CUDA_ERROR_OUT_OF_MEMORY;
  void *m = std::aligned_alloc(256, (n + 255) / 256 * 256);
  if (!m)
    return CUDA_ERROR_OUT_OF_MEMORY;
  *p = reinterpret_cast<CUdeviceptr>(m);
  state().allocs[*p] = {n, CU_MEMORYTYPE_DEVICE, 0, true};
  return CUDA_SUCCESS;
}
EXPORT CUresult cuMemFree_v2(CUdeviceptr p) {
  auto it = state().allocs.find(p);
  if (it == state().allocs.end() || !it->second.owned)
    return CUDA_ERROR_INVALID_VALUE;
  std::free(reinterpret_cast<void *>(p));
  state().allocs.erase(it);
  return CUDA_SUCCESS;
}
EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void *s, size_t n) {
  std::memcpy(reinterpret_cast<void *>(d), s, n);
  return CUDA_SUCCESS;
}
EXPORT CUresult cuMemcpyDtoH_v2(void *d, CUdeviceptr s, size_t n) {
  std::memcpy(d, reinterpret_cast<const void *>(s), n);
  return CUDA_SUCCESS;
}
EXPORT CUresult cuStreamCreate(CUstream *s, unsigned) {
  state().streams.push_back(
      std::make_unique<StreamObj>(StreamObj{asCtx(primaryCtx)}));
  *s = reinterpret_cast<CUstream>(state().streams.back().get());
  return CUDA_SUCCESS;
}
EXPORT CUresult cuStreamDestroy_v2(CUstream) { return CUDA_SUCCESS; }
EXPORT CUresult cuStreamSynchronize(CUstream) { return CUDA_SUCCESS; }
EXPORT CUresult cuStreamGetCtx(CUstream s, CUcontext *c) {
  for (auto &st : state().streams)
    if (reinterpret_cast<CUstream>(st.get()) == s) {
      *c = st->ctx;
      return CUDA_SUCCESS;
    }
  return 400; // CUDA_ERROR_INVALID_HANDLE
}

#ifndef FAKECUDA_NO_TENSOR_MAP
EXPORT CUresult cuTensorMapEncodeTiled(
    CUtensorMap *map, CUtensorMapDataType type, cuuint32_t rank, void *address,
    const cuuint64_t *dims, const cuuint64_t *strides, const cuuint32_t *box,
    const cuuint32_t *elementStrides, CUtensorMapInterleave interleave,
    CUtensorMapSwizzle swizzle, CUtensorMapL2promotion l2,
    CUtensorMapFloatOOBfill oob) {
  FakeTensorMapCall &c = state().lastTensorMap;
  ++state().tensorMapCalls;
  c = FakeTensorMapCall();
  c.map = map;
  c.dataType = type;
  c.rank = rank;
  c.address = reinterpret_cast<uint64_t>(address);
  for (unsigned i = 0; i < rank && i < 5; ++i) {
    c.dims[i] = dims[i];
    c.box[i] = box[i];
    c.elementStrides[i] = elementStrides[i];
    if (i + 1 < rank)
      c.strides[i] = strides[i];
  }
  c.interleave = interleave;
  c.swizzle = swizzle;
  c.l2Promotion = l2;
  c.oobFill = oob;
  if (state().tensorMapResult)
    return state().tensorMapResult;
  // The documented requirements (cuda.h), for the tiled, non-interleaved
  // case.
  static const unsigned elemBytes[] = {1, 2, 4, 4, 8, 8, 2, 4, 8, 2};
  if (reinterpret_cast<uintptr_t>(map) % 64 || type < 0 || type > 9 ||
      rank < 1 || rank > 5 || c.address % 16)
    return CUDA_ERROR_INVALID_VALUE;
  for (unsigned i = 0; i < rank; ++i) {
    if (dims[i] == 0 || dims[i] > (1ull << 32) || box[i] == 0 ||
        box[i] > 256 || elementStrides[i] == 0 || elementStrides[i] > 8)
      return CUDA_ERROR_INVALID_VALUE;
    if (i + 1 < rank && (strides[i] % 16 || strides[i] >= (1ull << 40)))
      return CUDA_ERROR_INVALID_VALUE;
  }
  unsigned inner = box[0] * elemBytes[type];
  if (inner % 16 || (swizzle != CU_TENSOR_MAP_SWIZZLE_NONE &&
                     inner > (16u << swizzle)))
    return CUDA_ERROR_INVALID_VALUE;
  std::memset(map, 0, sizeof(*map));
  map->opaque[0] = c.address;
  for (unsigned i = 0; i < rank; ++i)
    map->opaque[1 + i] = dims[i];
  return CUDA_SUCCESS;
}
#endif
