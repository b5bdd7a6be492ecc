//===- Runtime.cpp - libattnqat_runtime.so: the C API ---------------------===//
//
// Implements attnqat_runtime.h on top of the dlopen'ed driver (CudaDriver.h)
// and the artifact reader (Artifact.h). Only attnqat_rt_* symbols are
// exported (attnqat_runtime.map); C++ internals are hidden.
//
//===----------------------------------------------------------------------===//

#include "attnqat-runtime/attnqat_runtime.h"

#include "CudaDriver.h"
#include "attnqat-runtime/Artifact.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_map>

using namespace mlir::attnqat::rt;
namespace cu = mlir::attnqat::rt::cuda;

struct attnqat_rt_runtime {
  cu::Driver driver;
  cu::CUdevice device = 0;
  cu::CUcontext ctx = nullptr;
  bool retainedPrimary = false;
  uint32_t flags = 0;
  attnqat_rt_device_info info = {};
  const ChipInfo *chip = nullptr;
  int maxThreadsPerBlock = 1024;
  int maxGrid[3] = {0x7FFFFFFF, 65535, 65535};
  bool clusterLaunch = false;

  const cu::DriverApi &api() const { return driver.api; }
};

struct attnqat_rt_kernel {
  attnqat_rt_module *module = nullptr;
  const Kernel *desc = nullptr;
  const LaunchVariant *variant = nullptr; ///< null: no image for this chip
  cu::CUfunction fn = nullptr;
  std::vector<std::string> extents; ///< per param, "" when unchecked
  std::vector<std::string> layouts; ///< per param, as attnqat_rt_kernel_param
  /// Per TensorMap param, the index of the pointer param it maps (else 0).
  std::vector<size_t> mapSource;
  size_t tensorMaps = 0; ///< TensorMap params
};

struct attnqat_rt_module {
  attnqat_rt_runtime *rt = nullptr;
  std::string name; ///< file path or "<memory>"
  Artifact artifact;
  std::vector<cu::CUmodule> loaded;
  std::vector<std::unique_ptr<attnqat_rt_kernel>> kernels;
};

namespace {

//===----------------------------------------------------------------------===//
// Error reporting
//===----------------------------------------------------------------------===//

thread_local std::unordered_map<const void *, std::string> tlsErrors;

/// Records `message` for `a` and `b` (either may be null: the handle-less
/// slot) and returns `status`.
attnqat_rt_status fail(const void *a, const void *b, attnqat_rt_status status,
                       std::string message) {
  if (b && b != a)
    tlsErrors[b] = message;
  tlsErrors[a] = std::move(message);
  return status;
}

std::string hexPtr(uint64_t p) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(p));
  return buf;
}

std::string dims3(const uint32_t d[3]) {
  return std::to_string(d[0]) + "x" + std::to_string(d[1]) + "x" +
         std::to_string(d[2]);
}

attnqat_rt_status statusFor(ArtifactErrc code) {
  switch (code) {
  case ArtifactErrc::None:
    return ATTNQAT_RT_SUCCESS;
  case ArtifactErrc::Io:
    return ATTNQAT_RT_ERROR_IO;
  case ArtifactErrc::NotAnArtifact:
    return ATTNQAT_RT_ERROR_NOT_AN_ARTIFACT;
  case ArtifactErrc::Version:
    return ATTNQAT_RT_ERROR_ARTIFACT_VERSION;
  case ArtifactErrc::Corrupt:
    return ATTNQAT_RT_ERROR_ARTIFACT_CORRUPT;
  case ArtifactErrc::Invalid:
    return ATTNQAT_RT_ERROR_ARTIFACT_INVALID;
  }
  return ATTNQAT_RT_ERROR_INTERNAL;
}

/// Makes the runtime's context current for the scope when it is not.
struct CtxGuard {
  const cu::DriverApi &api;
  bool pushed = false;
  cu::CUresult result = cu::CUDA_SUCCESS;

  explicit CtxGuard(const attnqat_rt_runtime *rt) : api(rt->api()) {
    cu::CUcontext cur = nullptr;
    if (api.cuCtxGetCurrent(&cur) != cu::CUDA_SUCCESS || cur != rt->ctx) {
      result = api.cuCtxPushCurrent(rt->ctx);
      pushed = result == cu::CUDA_SUCCESS;
    }
  }
  ~CtxGuard() {
    if (pushed) {
      cu::CUcontext popped;
      api.cuCtxPopCurrent(&popped);
    }
  }
};

attnqat_rt_status driverFailure(const attnqat_rt_runtime *rt, const void *key,
                                const char *call, cu::CUresult r,
                                attnqat_rt_status status =
                                    ATTNQAT_RT_ERROR_DRIVER) {
  if (r == cu::CUDA_ERROR_OUT_OF_MEMORY)
    status = ATTNQAT_RT_ERROR_OUT_OF_MEMORY;
  return fail(key, rt, status,
              std::string(call) + " failed: " + cu::errorString(rt->api(), r));
}

//===----------------------------------------------------------------------===//
// Module loading
//===----------------------------------------------------------------------===//

std::string chipsString(const std::vector<std::string> &chips) {
  std::string s;
  for (const std::string &c : chips)
    s += (s.empty() ? "" : ", ") + c;
  return s.empty() ? "none" : s;
}

std::string deviceString(const attnqat_rt_runtime *rt) {
  return std::string(rt->info.name) + ", compute capability " +
         std::to_string(rt->info.cc_major) + "." +
         std::to_string(rt->info.cc_minor) +
         (rt->chip ? std::string(", ") + rt->chip->tag : std::string());
}

void unloadAll(attnqat_rt_module *m) {
  if (m->loaded.empty())
    return;
  CtxGuard g(m->rt);
  for (cu::CUmodule h : m->loaded)
    if (h)
      m->rt->api().cuModuleUnload(h);
  m->loaded.clear();
}

attnqat_rt_status loadImage(attnqat_rt_runtime *rt, const Image &img,
                            cu::CUmodule &out) {
  const cu::DriverApi &api = rt->api();
  std::vector<uint8_t> bytes = img.data;
  if (img.format == ImageFormat::Ptx)
    bytes.push_back(0);
  static constexpr unsigned kLogSize = 16384;
  std::vector<char> errorLog(kLogSize, 0), infoLog(kLogSize, 0);
  cu::CUjit_option opts[4] = {cu::CU_JIT_ERROR_LOG_BUFFER,
                              cu::CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                              cu::CU_JIT_INFO_LOG_BUFFER,
                              cu::CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES};
  void *values[4] = {errorLog.data(),
                     reinterpret_cast<void *>(static_cast<uintptr_t>(kLogSize)),
                     infoLog.data(),
                     reinterpret_cast<void *>(static_cast<uintptr_t>(kLogSize))};
  cu::CUresult r =
      api.cuModuleLoadDataEx(&out, bytes.data(), 4, opts, values);
  if (r == cu::CUDA_SUCCESS)
    return ATTNQAT_RT_SUCCESS;
  out = nullptr;
  errorLog.back() = 0;
  std::string msg = "cuModuleLoadDataEx(image '" + img.label + "', " +
                    img.chip + " " + imageFormatName(img.format) +
                    ") failed: " + cu::errorString(api, r);
  if (errorLog[0])
    msg += "; JIT log: " + std::string(errorLog.data());
  return fail(rt, nullptr,
              r == cu::CUDA_ERROR_OUT_OF_MEMORY ? ATTNQAT_RT_ERROR_OUT_OF_MEMORY
                                                : ATTNQAT_RT_ERROR_MODULE_LOAD,
              msg);
}

/// Resolves `k`'s function and applies its launch attributes.
attnqat_rt_status prepareKernel(attnqat_rt_runtime *rt, cu::CUmodule mod,
                                attnqat_rt_kernel &k) {
  const cu::DriverApi &api = rt->api();
  const LaunchVariant &v = *k.variant;
  const std::string name = k.desc->name;
  cu::CUresult r = api.cuModuleGetFunction(&k.fn, mod, name.c_str());
  if (r != cu::CUDA_SUCCESS)
    return fail(rt, nullptr, ATTNQAT_RT_ERROR_MODULE_LOAD,
                "cuModuleGetFunction('" + name + "') failed: " +
                    cu::errorString(api, r));
  int staticSmem = 0, maxThreads = 1024;
  api.cuFuncGetAttribute(&staticSmem, cu::CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES,
                         k.fn);
  api.cuFuncGetAttribute(&maxThreads,
                         cu::CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, k.fn);
  uint64_t total = uint64_t(staticSmem) + v.dynamicSharedBytes;
  if (rt->info.max_shared_memory_per_block_optin > 0 &&
      total > uint64_t(rt->info.max_shared_memory_per_block_optin))
    return fail(rt, nullptr, ATTNQAT_RT_ERROR_MODULE_LOAD,
                "kernel '" + name + "' needs " + std::to_string(total) +
                    " bytes of shared memory per block (" +
                    std::to_string(staticSmem) + " static + " +
                    std::to_string(v.dynamicSharedBytes) +
                    " dynamic); the device allows " +
                    std::to_string(rt->info.max_shared_memory_per_block_optin));
  uint64_t threads = uint64_t(v.block[0]) * v.block[1] * v.block[2];
  if (threads > uint64_t(maxThreads))
    return fail(rt, nullptr, ATTNQAT_RT_ERROR_MODULE_LOAD,
                "kernel '" + name + "' launches " + std::to_string(threads) +
                    " threads per block but its compiled code allows at most " +
                    std::to_string(maxThreads) + " (registers per thread?)");
  if (v.dynamicSharedBytes > 0) {
    r = api.cuFuncSetAttribute(
        k.fn, cu::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
        static_cast<int>(v.dynamicSharedBytes));
    if (r != cu::CUDA_SUCCESS)
      return fail(rt, nullptr, ATTNQAT_RT_ERROR_MODULE_LOAD,
                  "cuFuncSetAttribute('" + name +
                      "', MAX_DYNAMIC_SHARED_SIZE_BYTES, " +
                      std::to_string(v.dynamicSharedBytes) +
                      ") failed: " + cu::errorString(api, r));
  }
  uint64_t cluster = uint64_t(v.cluster[0]) * v.cluster[1] * v.cluster[2];
  if (cluster > 1) {
    if (!rt->clusterLaunch || !api.cuLaunchKernelEx)
      return fail(rt, nullptr, ATTNQAT_RT_ERROR_UNSUPPORTED,
                  "kernel '" + name + "' launches clusters of " +
                      std::to_string(cluster) +
                      " blocks, but the " +
                      (api.cuLaunchKernelEx ? "device" : "driver") +
                      " does not support cluster launch");
    if (cluster > 8) {
      r = api.cuFuncSetAttribute(
          k.fn, cu::CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, 1);
      if (r != cu::CUDA_SUCCESS)
        return fail(rt, nullptr, ATTNQAT_RT_ERROR_UNSUPPORTED,
                    "kernel '" + name + "' needs a non-portable cluster size " +
                        std::to_string(cluster) + ": " +
                        cu::errorString(api, r));
    }
  }
  return ATTNQAT_RT_SUCCESS;
}

attnqat_rt_status loadModule(attnqat_rt_runtime *rt, const uint8_t *data,
                             size_t size, const std::string &name,
                             attnqat_rt_module **out) {
  auto m = std::make_unique<attnqat_rt_module>();
  m->rt = rt;
  m->name = name;
  if (ArtifactError e = parseArtifact(data, size, m->artifact))
    return fail(rt, nullptr, statusFor(e.code), name + ": " + e.message);
  const Artifact &a = m->artifact;
  std::vector<std::string> chips = a.chips();
  if (!rt->chip)
    return fail(rt, nullptr, ATTNQAT_RT_ERROR_NO_KERNEL_FOR_CHIP,
                "this device (" + deviceString(rt) +
                    ") is not an attnqat target (targets: " + knownChipList() +
                    "); artifact " + name + " has kernels for: " +
                    chipsString(chips));
  const std::string chip = rt->chip->tag;
  bool has = false;
  for (const std::string &c : chips)
    has = has || c == chip;
  if (!has)
    return fail(rt, nullptr, ATTNQAT_RT_ERROR_NO_KERNEL_FOR_CHIP,
                "artifact " + name + " has no kernels for this device (" +
                    deviceString(rt) + "); it has kernels for: " +
                    chipsString(chips));

  CtxGuard guard(rt);
  if (guard.result != cu::CUDA_SUCCESS)
    return driverFailure(rt, nullptr, "cuCtxPushCurrent", guard.result);
  std::vector<cu::CUmodule> byImage(a.images.size(), nullptr);
  m->loaded.reserve(a.images.size());
  for (const Kernel &k : a.kernels) {
    auto impl = std::make_unique<attnqat_rt_kernel>();
    impl->module = m.get();
    impl->desc = &k;
    impl->variant = k.variantFor(chip);
    for (const Param &p : k.params) {
      impl->extents.push_back(p.hasExtent ? p.extent.str() : "");
      bool map = p.kind == ParamKind::TensorMap;
      // "tensor map of k dims [D, N, B*Hkv] box [64, 64, 1] swizzle 128".
      std::string layout = map ? "tensor map " + p.tensorMap.str() : p.layout;
      if (map && !p.layout.empty())
        layout += "; " + p.layout;
      impl->layouts.push_back(std::move(layout));
      // Validation found the source: its index, once, for every launch.
      impl->mapSource.push_back(map ? size_t(k.param(p.tensorMap.of) - k.params.data()) : 0);
      impl->tensorMaps += map;
    }
    if (impl->variant) {
      uint32_t idx = impl->variant->image;
      if (!byImage[idx]) {
        attnqat_rt_status s = loadImage(rt, a.images[idx], byImage[idx]);
        if (s != ATTNQAT_RT_SUCCESS) {
          unloadAll(m.get());
          return s;
        }
        m->loaded.push_back(byImage[idx]);
      }
      attnqat_rt_status s = prepareKernel(rt, byImage[idx], *impl);
      if (s != ATTNQAT_RT_SUCCESS) {
        unloadAll(m.get());
        return s;
      }
    }
    m->kernels.push_back(std::move(impl));
  }
  *out = m.release();
  return ATTNQAT_RT_SUCCESS;
}

//===----------------------------------------------------------------------===//
// Launch checks
//===----------------------------------------------------------------------===//

struct PreparedLaunch {
  attnqat_rt_launch_config config = {};
  std::vector<uint64_t> storage;
  /// The encoded tensor maps, one per TensorMap param (cuLaunchKernel copies
  /// them; they only need to outlive the launch call).
  std::vector<cu::CUtensorMap> tensorMaps;
  std::vector<void *> params;
};

bool isAttentionOp(const std::string &op) {
  return op == "attention_forward" || op == "attention_backward";
}

std::string dimValues(const Constraint &c, const ProblemDims &d) {
  std::string s = std::string(dimName(c.lhs)) + " = " +
                  std::to_string(d[c.lhs]);
  if (c.rhsIsDim && !c.values.empty()) {
    Dim r = static_cast<Dim>(c.values[0]);
    s += ", " + std::string(dimName(r)) + " = " + std::to_string(d[r]);
  }
  return s;
}

/// Checks the problem and computes the launch shape.
attnqat_rt_status checkProblem(const attnqat_rt_kernel *k,
                               const attnqat_rt_problem *p, ProblemDims &dims,
                               attnqat_rt_launch_config &config) {
  const attnqat_rt_runtime *rt = k->module->rt;
  const Kernel &desc = *k->desc;
  auto bad = [&](std::string msg) {
    return fail(k, rt, ATTNQAT_RT_ERROR_BAD_SHAPE,
                "kernel '" + desc.name + "': " + msg);
  };
  dims[Dim::B] = p->B;
  dims[Dim::Hq] = p->Hq;
  dims[Dim::Hkv] = p->Hkv;
  dims[Dim::M] = p->M;
  dims[Dim::N] = p->N;
  dims[Dim::D] = p->D;
  dims[Dim::SMs] = rt->info.multiprocessor_count;
  for (int i = 1; i <= 6; ++i) {
    Dim d = static_cast<Dim>(i);
    if (dims[d] < 0)
      return bad(std::string("problem dim ") + dimName(d) + " = " +
                 std::to_string(dims[d]) + " is negative");
  }
  if (p->flags & ~uint32_t(FlagAllKnown))
    return bad("unknown problem flags " +
               flagsToString(p->flags & ~uint32_t(FlagAllKnown)));
  if (p->flags & ~desc.flags)
    return bad("flag(s) " + flagsToString(p->flags & ~desc.flags) +
               " not supported (the kernel supports: " +
               flagsToString(desc.flags) + ")");
  if (isAttentionOp(desc.op)) {
    for (int i = 1; i <= 6; ++i) {
      Dim d = static_cast<Dim>(i);
      if (dims[d] < 1)
        return bad("attention needs B, Hq, Hkv, M, N, D >= 1; got " +
                   std::string(dimName(d)) + " = " + std::to_string(dims[d]));
    }
    if (dims[Dim::Hq] % dims[Dim::Hkv] != 0)
      return bad("Hq = " + std::to_string(dims[Dim::Hq]) +
                 " is not a multiple of Hkv = " +
                 std::to_string(dims[Dim::Hkv]) +
                 " (grouped-query attention needs Hq % Hkv == 0)");
  }
  for (const Constraint &c : desc.constraints)
    if (!c.holds(dims))
      return bad("requires " + c.str() + "; got " + dimValues(c, dims));
  for (const Param &q : desc.params) {
    Dim d;
    if (q.isAutoFilled() && q.kind == ParamKind::I32 && parseDim(q.role, d) &&
        dims[d] > INT32_MAX)
      return bad(q.role + " = " + std::to_string(dims[d]) +
                 " does not fit the kernel's i32 parameter");
  }
  const LaunchVariant &v = *k->variant;
  const char *axis[3] = {"x", "y", "z"};
  for (int i = 0; i < 3; ++i) {
    uint64_t g;
    std::string error;
    if (!v.grid[i].evaluate(dims, g, error))
      return bad(std::string("grid.") + axis[i] + " = " + v.grid[i].str() +
                 ": " + error);
    if (g == 0)
      return bad(std::string("grid.") + axis[i] + " = " + v.grid[i].str() +
                 " is 0 for this problem (nothing to launch)");
    if (g > uint64_t(rt->maxGrid[i]))
      return bad(std::string("grid.") + axis[i] + " = " + v.grid[i].str() +
                 " = " + std::to_string(g) + " exceeds the device limit " +
                 std::to_string(rt->maxGrid[i]));
    if (g % v.cluster[i] != 0)
      return bad(std::string("grid.") + axis[i] + " = " + std::to_string(g) +
                 " is not a multiple of the cluster size " +
                 std::to_string(v.cluster[i]));
    config.grid[i] = static_cast<uint32_t>(g);
    config.block[i] = v.block[i];
    config.cluster[i] = v.cluster[i];
  }
  config.dynamic_shared_bytes = v.dynamicSharedBytes;
  return ATTNQAT_RT_SUCCESS;
}

attnqat_rt_status checkKernelHandle(const attnqat_rt_kernel *k,
                                    const attnqat_rt_problem *p) {
  if (!k)
    return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "kernel handle is NULL");
  const attnqat_rt_runtime *rt = k->module->rt;
  if (!k->variant || !k->fn)
    return fail(k, rt, ATTNQAT_RT_ERROR_NO_KERNEL_FOR_CHIP,
                "kernel '" + k->desc->name + "' has no image for this device");
  if (!p)
    return fail(k, rt, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "kernel '" + k->desc->name + "': problem descriptor is NULL");
  return ATTNQAT_RT_SUCCESS;
}

std::string paramDescription(const Param &p) {
  std::string s = paramKindName(p.kind);
  if (p.kind == ParamKind::Ptr)
    s = std::string(elemTypeName(p.elem)) + " pointer, " + accessName(p.access);
  else if (p.kind == ParamKind::TensorMap)
    s = "tensor map of " + p.tensorMap.of;
  return s;
}

const char *argKindName(int32_t kind) {
  if (kind >= 1 && kind <= 5)
    return paramKindName(static_cast<ParamKind>(kind));
  return nullptr;
}

cu::CUtensorMapDataType tensorMapDataType(ElemType t) {
  switch (t) {
  case ElemType::F32:
    return cu::CU_TENSOR_MAP_DATA_TYPE_FLOAT32;
  case ElemType::F16:
    return cu::CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
  case ElemType::BF16:
    return cu::CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
  case ElemType::I32:
    return cu::CU_TENSOR_MAP_DATA_TYPE_INT32;
  case ElemType::I64:
    return cu::CU_TENSOR_MAP_DATA_TYPE_INT64;
  case ElemType::E4M3:
  case ElemType::E8M0:
  case ElemType::U8:
  case ElemType::E2M1: // rejected by validation (tensorMapElemBytes 0)
  case ElemType::None:
    break;
  }
  return cu::CU_TENSOR_MAP_DATA_TYPE_UINT8;
}

cu::CUtensorMapSwizzle tensorMapSwizzle(uint32_t bytes) {
  switch (bytes) {
  case 32:
    return cu::CU_TENSOR_MAP_SWIZZLE_32B;
  case 64:
    return cu::CU_TENSOR_MAP_SWIZZLE_64B;
  case 128:
    return cu::CU_TENSOR_MAP_SWIZZLE_128B;
  }
  return cu::CU_TENSOR_MAP_SWIZZLE_NONE;
}

template <typename T> std::string listString(const T *v, size_t n) {
  std::string s = "[";
  for (size_t i = 0; i < n; ++i)
    s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

/// Encodes TensorMap param `q` over `ptr` (the bound pointer of its source
/// param `src`) for the problem `dims`.
attnqat_rt_status encodeTensorMap(const attnqat_rt_kernel *k, const Param &q,
                                  const Param &src, uint64_t ptr,
                                  const ProblemDims &dims,
                                  cu::CUtensorMap &out) {
  const attnqat_rt_runtime *rt = k->module->rt;
  const cu::DriverApi &api = rt->api();
  const TensorMapSpec &t = q.tensorMap;
  // Made only for a message: encoding runs at every launch.
  auto what = [&] {
    return "kernel '" + k->desc->name + "': tensor map '" + q.role + "' of '" +
           t.of + "'";
  };
  if (!api.cuTensorMapEncodeTiled)
    return fail(k, rt, ATTNQAT_RT_ERROR_UNSUPPORTED,
                "the CUDA driver has no cuTensorMapEncodeTiled (needs CUDA "
                "12); kernel '" +
                    k->desc->name + "' takes a tensor map ('" + q.role + "')");
  // The pointer checks saw `ptr` 16-byte aligned: validation requires that
  // of a mapped pointer.
  unsigned elemBytes = tensorMapElemBytes(src.elem);
  TensorMapGeometry g;
  std::string error;
  if (!tensorMapGeometry(t, elemBytes, dims, g, error))
    return fail(k, rt, ATTNQAT_RT_ERROR_BAD_SHAPE, what() + ": " + error);
  // The map must stay inside the memory whose extent the pointer checks
  // covered.
  uint64_t extent;
  if (src.hasExtent && src.extent.evaluate(dims, extent, error)) {
    unsigned __int128 mapped = 1; // < 2^40 (the top stride) x 2^32
    for (size_t i = 0; i < g.rank; ++i)
      mapped *= g.dims[i];
    if (mapped > extent)
      return fail(k, rt, ATTNQAT_RT_ERROR_BAD_SHAPE,
                  what() + ": dims " + listString(g.dims, g.rank) +
                      " cover more than the extent " + src.extent.str() +
                      " = " + std::to_string(extent) + " of '" + t.of + "'");
  }
  cu::cuuint64_t globalDim[kTensorMapMaxRank], strides[kTensorMapMaxRank];
  cu::cuuint32_t box[kTensorMapMaxRank], elementStrides[kTensorMapMaxRank];
  for (size_t i = 0; i < g.rank; ++i) {
    globalDim[i] = g.dims[i];
    strides[i] = i + 1 < g.rank ? g.strides[i] : 0;
    box[i] = t.box[i];
    elementStrides[i] = 1;
  }
  std::memset(&out, 0, sizeof(out));
  cu::CUresult r = api.cuTensorMapEncodeTiled(
      &out, tensorMapDataType(src.elem), static_cast<cu::cuuint32_t>(g.rank),
      reinterpret_cast<void *>(static_cast<uintptr_t>(ptr)), globalDim,
      strides, box, elementStrides, cu::CU_TENSOR_MAP_INTERLEAVE_NONE,
      tensorMapSwizzle(t.swizzle), cu::CU_TENSOR_MAP_L2_PROMOTION_L2_128B,
      cu::CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != cu::CUDA_SUCCESS)
    return fail(k, rt, ATTNQAT_RT_ERROR_BAD_POINTER,
                what() + ": cuTensorMapEncodeTiled(address " + hexPtr(ptr) +
                    ", " + elemTypeName(src.elem) + ", dims " +
                    listString(g.dims, g.rank) + ", strides " +
                    listString(g.strides, g.rank - 1) + " bytes, box " +
                    listString(box, g.rank) + ", swizzle " +
                    std::to_string(t.swizzle) +
                    ") failed: " + cu::errorString(api, r));
  return ATTNQAT_RT_SUCCESS;
}

attnqat_rt_status prepareLaunch(const attnqat_rt_kernel *k,
                                const attnqat_rt_problem *p,
                                const attnqat_rt_arg *args, size_t nargs,
                                void *stream, PreparedLaunch &out) {
  if (attnqat_rt_status s = checkKernelHandle(k, p))
    return s;
  const attnqat_rt_runtime *rt = k->module->rt;
  const Kernel &desc = *k->desc;
  const std::string kname = "kernel '" + desc.name + "': ";
  if (!args && nargs)
    return fail(k, rt, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                kname + "args is NULL but num_args is " +
                    std::to_string(nargs));
  ProblemDims dims;
  if (attnqat_rt_status s = checkProblem(k, p, dims, out.config))
    return s;

  // Bind arguments to params by role.
  auto badArg = [&](std::string msg) {
    return fail(k, rt, ATTNQAT_RT_ERROR_BAD_ARGUMENT, kname + msg);
  };
  std::vector<const attnqat_rt_arg *> bound(desc.params.size(), nullptr);
  for (size_t i = 0; i < nargs; ++i) {
    const attnqat_rt_arg &a = args[i];
    if (!a.role)
      return badArg("argument #" + std::to_string(i) + " has no role");
    size_t idx = 0;
    while (idx < desc.params.size() && desc.params[idx].role != a.role)
      ++idx;
    if (idx == desc.params.size()) {
      std::string roles;
      for (const Param &q : desc.params)
        if (!q.isAutoFilled())
          roles += (roles.empty() ? "" : ", ") + q.role;
      return badArg("no parameter '" + std::string(a.role) +
                    "' (it takes: " + roles + ")");
    }
    const Param &q = desc.params[idx];
    if (q.kind == ParamKind::TensorMap)
      return badArg("'" + q.role + "' is a tensor map the runtime makes from "
                    "'" + q.tensorMap.of + "'; do not pass it");
    if (q.isAutoFilled())
      return badArg("'" + q.role +
                    "' is taken from the problem descriptor; do not pass it");
    if (bound[idx])
      return badArg("argument '" + q.role + "' passed twice");
    const char *kind = argKindName(a.kind);
    if (!kind)
      return badArg("argument '" + q.role + "' has unknown kind " +
                    std::to_string(a.kind));
    if (a.kind != static_cast<int32_t>(q.kind))
      return badArg("argument '" + q.role + "' is " + kind +
                    " but the kernel takes " + paramKindName(q.kind));
    bound[idx] = &a;
  }
  std::string missing;
  for (size_t i = 0; i < desc.params.size(); ++i)
    if (!bound[i] && !desc.params[i].isAutoFilled())
      missing += (missing.empty() ? "'" : ", '") + desc.params[i].role +
                 "' (" + paramDescription(desc.params[i]) + ")";
  if (!missing.empty())
    return badArg("missing argument(s) " + missing);

  // Pointers.
  struct Range {
    size_t param;
    uint64_t begin, end;
  };
  std::vector<Range> ranges;
  const cu::DriverApi &api = rt->api();
  bool query = !(rt->flags & ATTNQAT_RT_OPTION_NO_POINTER_QUERIES);
  std::unique_ptr<CtxGuard> guard;
  if (query)
    guard = std::make_unique<CtxGuard>(rt);
  for (size_t i = 0; i < desc.params.size(); ++i) {
    const Param &q = desc.params[i];
    if (q.kind != ParamKind::Ptr)
      continue;
    uint64_t ptr = bound[i]->value.ptr;
    auto badPtr = [&](std::string msg) {
      return fail(k, rt, ATTNQAT_RT_ERROR_BAD_POINTER,
                  kname + "argument '" + q.role + "' " + msg);
    };
    if (ptr == 0)
      return badPtr("is NULL");
    if (ptr % q.align != 0)
      return badPtr("= " + hexPtr(ptr) + " is not " + std::to_string(q.align) +
                    "-byte aligned");
    uint64_t bytes = 0;
    if (q.hasExtent) {
      uint64_t elems;
      std::string error;
      if (!q.extent.evaluate(dims, elems, error))
        return fail(k, rt, ATTNQAT_RT_ERROR_BAD_SHAPE,
                    kname + "extent of '" + q.role + "' = " + q.extent.str() +
                        ": " + error);
      unsigned bits = elemTypeBits(q.elem);
      if (elems > (uint64_t(1) << 58))
        return fail(k, rt, ATTNQAT_RT_ERROR_BAD_SHAPE,
                    kname + "extent of '" + q.role + "' is too large");
      bytes = (elems * bits + 7) / 8;
      ranges.push_back({i, ptr, ptr + bytes});
    }
    if (!query)
      continue;
    unsigned memType = 0;
    cu::CUresult r = api.cuPointerGetAttribute(
        &memType, cu::CU_POINTER_ATTRIBUTE_MEMORY_TYPE, ptr);
    if (r != cu::CUDA_SUCCESS)
      return badPtr("= " + hexPtr(ptr) +
                    " is not memory known to the CUDA driver "
                    "(cuPointerGetAttribute: " +
                    cu::errorString(api, r) + ")");
    if (memType == cu::CU_MEMORYTYPE_HOST)
      return badPtr("= " + hexPtr(ptr) +
                    " is host memory; the kernel needs device memory");
    int ordinal = -1;
    if (api.cuPointerGetAttribute(&ordinal,
                                  cu::CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL,
                                  ptr) == cu::CUDA_SUCCESS &&
        ordinal >= 0 && ordinal != rt->info.ordinal)
      return badPtr("= " + hexPtr(ptr) + " is memory of device " +
                    std::to_string(ordinal) + "; this runtime runs on device " +
                    std::to_string(rt->info.ordinal));
    cu::CUdeviceptr start = 0;
    size_t size = 0;
    if (bytes &&
        api.cuPointerGetAttribute(&start,
                                  cu::CU_POINTER_ATTRIBUTE_RANGE_START_ADDR,
                                  ptr) == cu::CUDA_SUCCESS &&
        api.cuPointerGetAttribute(&size, cu::CU_POINTER_ATTRIBUTE_RANGE_SIZE,
                                  ptr) == cu::CUDA_SUCCESS &&
        start <= ptr) {
      uint64_t left = start + size > ptr ? start + size - ptr : 0;
      if (bytes > left)
        return badPtr("needs " + std::to_string(bytes) + " bytes (extent " +
                      q.extent.str() + " of " + elemTypeName(q.elem) +
                      ") but its allocation ends " + std::to_string(left) +
                      " bytes after " + hexPtr(ptr));
    }
  }
  for (const Range &o : ranges) {
    const Param &q = desc.params[o.param];
    if (q.access != Access::Out && q.access != Access::InOut)
      continue;
    for (const Range &r : ranges)
      if (r.param != o.param && r.begin < o.end && o.begin < r.end)
        return fail(k, rt, ATTNQAT_RT_ERROR_BAD_POINTER,
                    kname + "output '" + q.role + "' [" + hexPtr(o.begin) +
                        ", " + hexPtr(o.end) + ") overlaps argument '" +
                        desc.params[r.param].role + "' [" + hexPtr(r.begin) +
                        ", " + hexPtr(r.end) + ")");
  }

  // Stream.
  uintptr_t sv = reinterpret_cast<uintptr_t>(stream);
  if (query && api.cuStreamGetCtx && sv > 2) {
    cu::CUcontext sctx = nullptr;
    cu::CUresult r =
        api.cuStreamGetCtx(static_cast<cu::CUstream>(stream), &sctx);
    if (r != cu::CUDA_SUCCESS)
      return badArg("stream " + hexPtr(sv) + " is not a valid stream (" +
                    cu::errorString(api, r) + ")");
    if (sctx != rt->ctx)
      return badArg("stream " + hexPtr(sv) +
                    " belongs to another CUDA context than the runtime's");
  }

  // Kernel parameter values, in signature order. Both stores are sized
  // before pointers into them are taken.
  out.storage.assign(desc.params.size(), 0);
  out.tensorMaps.assign(k->tensorMaps, cu::CUtensorMap());
  out.params.resize(desc.params.size());
  size_t map = 0;
  for (size_t i = 0; i < desc.params.size(); ++i) {
    const Param &q = desc.params[i];
    uint64_t &slot = out.storage[i];
    if (q.kind == ParamKind::TensorMap) {
      size_t src = k->mapSource[i];
      cu::CUtensorMap &m = out.tensorMaps[map++];
      if (attnqat_rt_status s = encodeTensorMap(
              k, q, desc.params[src], bound[src]->value.ptr, dims, m))
        return s;
      out.params[i] = &m;
      continue;
    }
    if (q.isAutoFilled()) {
      int64_t v = int64_t(p->flags);
      Dim d;
      if (q.role != "flags" && parseDim(q.role, d))
        v = dims[d];
      if (q.kind == ParamKind::I32) {
        int32_t v32 = static_cast<int32_t>(v); // range checked in checkProblem
        std::memcpy(&slot, &v32, 4);
      } else {
        std::memcpy(&slot, &v, 8);
      }
    } else {
      const attnqat_rt_arg &a = *bound[i];
      switch (q.kind) {
      case ParamKind::Ptr:
        slot = a.value.ptr;
        break;
      case ParamKind::I32:
        std::memcpy(&slot, &a.value.i32, 4);
        break;
      case ParamKind::I64:
        std::memcpy(&slot, &a.value.i64, 8);
        break;
      case ParamKind::F32:
        std::memcpy(&slot, &a.value.f32, 4);
        break;
      case ParamKind::TensorMap: // handled above
        break;
      }
    }
    out.params[i] = &slot;
  }
  return ATTNQAT_RT_SUCCESS;
}

void copyString(char *dst, size_t cap, const std::string &s) {
  size_t n = s.size() < cap - 1 ? s.size() : cap - 1;
  std::memcpy(dst, s.data(), n);
  dst[n] = 0;
}

} // namespace

//===----------------------------------------------------------------------===//
// C API
//===----------------------------------------------------------------------===//

extern "C" {

const char *attnqat_rt_status_string(attnqat_rt_status status) {
  switch (status) {
  case ATTNQAT_RT_SUCCESS:
    return "success";
  case ATTNQAT_RT_ERROR_INVALID_ARGUMENT:
    return "invalid argument";
  case ATTNQAT_RT_ERROR_NO_DRIVER:
    return "no CUDA driver";
  case ATTNQAT_RT_ERROR_NO_DEVICE:
    return "no CUDA device";
  case ATTNQAT_RT_ERROR_DRIVER:
    return "CUDA driver error";
  case ATTNQAT_RT_ERROR_IO:
    return "cannot read artifact";
  case ATTNQAT_RT_ERROR_NOT_AN_ARTIFACT:
    return "not an attnqat artifact";
  case ATTNQAT_RT_ERROR_ARTIFACT_VERSION:
    return "unsupported artifact version";
  case ATTNQAT_RT_ERROR_ARTIFACT_CORRUPT:
    return "corrupt artifact";
  case ATTNQAT_RT_ERROR_ARTIFACT_INVALID:
    return "invalid artifact";
  case ATTNQAT_RT_ERROR_NO_KERNEL_FOR_CHIP:
    return "no kernel for this chip";
  case ATTNQAT_RT_ERROR_KERNEL_NOT_FOUND:
    return "kernel not found";
  case ATTNQAT_RT_ERROR_BAD_ARGUMENT:
    return "bad launch argument";
  case ATTNQAT_RT_ERROR_BAD_POINTER:
    return "bad pointer";
  case ATTNQAT_RT_ERROR_BAD_SHAPE:
    return "bad problem shape";
  case ATTNQAT_RT_ERROR_MODULE_LOAD:
    return "kernel image load failed";
  case ATTNQAT_RT_ERROR_LAUNCH:
    return "kernel launch failed";
  case ATTNQAT_RT_ERROR_OUT_OF_MEMORY:
    return "out of memory";
  case ATTNQAT_RT_ERROR_UNSUPPORTED:
    return "unsupported by the device or driver";
  case ATTNQAT_RT_ERROR_INTERNAL:
    return "internal error";
  }
  return "unknown status";
}

const char *attnqat_rt_last_error(const void *handle) {
  auto it = tlsErrors.find(handle);
  return it == tlsErrors.end() ? "" : it->second.c_str();
}

const char *attnqat_rt_version(void) { return "0.1.0"; }

void attnqat_rt_artifact_format_version(int *major, int *minor) {
  if (major)
    *major = kFormatVersionMajor;
  if (minor)
    *minor = kFormatVersionMinor;
}

void attnqat_rt_options_init(attnqat_rt_options *options) {
  if (!options)
    return;
  std::memset(options, 0, sizeof(*options));
  options->struct_size = sizeof(*options);
}

attnqat_rt_status attnqat_rt_create(const attnqat_rt_options *options,
                                    attnqat_rt_runtime **out) {
  if (!out)
    return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_create: out is NULL");
  *out = nullptr;
  attnqat_rt_options o;
  attnqat_rt_options_init(&o);
  if (options) {
    if (options->struct_size < offsetof(attnqat_rt_options, reserved))
      return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                  "attnqat_rt_create: options->struct_size is " +
                      std::to_string(options->struct_size) +
                      "; call attnqat_rt_options_init first");
    o.device = options->device;
    o.libcuda_path = options->libcuda_path;
    o.flags = options->flags;
  }
  if (o.device < 0)
    return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_create: device ordinal " +
                    std::to_string(o.device) + " is negative");
  if (o.flags & ~ATTNQAT_RT_OPTION_NO_POINTER_QUERIES)
    return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_create: unknown option flags");

  auto rt = std::make_unique<attnqat_rt_runtime>();
  rt->flags = o.flags;
  std::string error;
  switch (cu::loadDriver(o.libcuda_path, rt->driver, error)) {
  case cu::LoadResult::Ok:
    break;
  case cu::LoadResult::NotFound:
    return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_NO_DRIVER,
                "no CUDA driver (" + error + ")");
  case cu::LoadResult::MissingSymbol:
    return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_NO_DRIVER,
                "no usable CUDA driver: " + error);
  }
  // From here on libcuda stays loaded for the life of the process: unloading
  // it after cuInit may pull code from under its threads.
  const cu::DriverApi &api = rt->api();
  const std::string &lib = rt->driver.path;
  cu::CUresult r = api.cuInit(0);
  if (r == cu::CUDA_ERROR_STUB_LIBRARY)
    return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_NO_DRIVER,
                "no CUDA driver: " + lib +
                    " is the CUDA toolkit's stub library (cuInit returned "
                    "CUDA_ERROR_STUB_LIBRARY); install the NVIDIA driver, "
                    "whose libcuda.so.1 provides the real one");
  if (r == cu::CUDA_ERROR_NO_DEVICE)
    return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_NO_DEVICE,
                "no CUDA device (cuInit: " + cu::errorString(api, r) +
                    "; driver " + lib + ")");
  if (r != cu::CUDA_SUCCESS)
    return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_DRIVER,
                "cuInit failed: " + cu::errorString(api, r) + " (driver " +
                    lib + ")");
  int count = 0;
  r = api.cuDeviceGetCount(&count);
  if (r != cu::CUDA_SUCCESS)
    return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_DRIVER,
                "cuDeviceGetCount failed: " + cu::errorString(api, r));
  if (count == 0)
    return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_NO_DEVICE,
                "no CUDA device (the driver " + lib + " reports 0 devices)");
  if (o.device >= count)
    return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_NO_DEVICE,
                "no CUDA device " + std::to_string(o.device) +
                    ": the driver reports " + std::to_string(count) +
                    " device(s)");
  r = api.cuDeviceGet(&rt->device, o.device);
  if (r != cu::CUDA_SUCCESS)
    return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_DRIVER,
                "cuDeviceGet(" + std::to_string(o.device) +
                    ") failed: " + cu::errorString(api, r));
  attnqat_rt_device_info &info = rt->info;
  info.ordinal = o.device;
  struct {
    cu::CUdevice_attribute attr;
    int32_t *dst;
  } attrs[] = {
      {cu::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, &info.cc_major},
      {cu::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, &info.cc_minor},
      {cu::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
       &info.multiprocessor_count},
      {cu::CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
       &info.max_shared_memory_per_block_optin},
      {cu::CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, &rt->maxThreadsPerBlock},
      {cu::CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X, &rt->maxGrid[0]},
      {cu::CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y, &rt->maxGrid[1]},
      {cu::CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z, &rt->maxGrid[2]},
  };
  for (auto &a : attrs) {
    r = api.cuDeviceGetAttribute(a.dst, a.attr, rt->device);
    if (r != cu::CUDA_SUCCESS)
      return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_DRIVER,
                  "cuDeviceGetAttribute(" + std::to_string(a.attr) +
                      ") failed: " + cu::errorString(api, r));
  }
  int cluster = 0;
  if (api.cuDeviceGetAttribute(&cluster, cu::CU_DEVICE_ATTRIBUTE_CLUSTER_LAUNCH,
                               rt->device) == cu::CUDA_SUCCESS)
    rt->clusterLaunch = cluster != 0;
  if (api.cuDeviceGetName(info.name, sizeof(info.name), rt->device) !=
      cu::CUDA_SUCCESS)
    copyString(info.name, sizeof(info.name), "CUDA device");
  api.cuDriverGetVersion(&info.driver_version);
  rt->chip = chipForComputeCapability(info.cc_major, info.cc_minor);
  copyString(info.chip, sizeof(info.chip), rt->chip ? rt->chip->tag : "");

  cu::CUcontext cur = nullptr;
  cu::CUdevice curDev = -1;
  if (api.cuCtxGetCurrent(&cur) == cu::CUDA_SUCCESS && cur &&
      api.cuCtxGetDevice(&curDev) == cu::CUDA_SUCCESS &&
      curDev == rt->device) {
    rt->ctx = cur;
  } else {
    r = api.cuDevicePrimaryCtxRetain(&rt->ctx, rt->device);
    if (r != cu::CUDA_SUCCESS)
      return fail(nullptr, nullptr,
                  r == cu::CUDA_ERROR_OUT_OF_MEMORY
                      ? ATTNQAT_RT_ERROR_OUT_OF_MEMORY
                      : ATTNQAT_RT_ERROR_DRIVER,
                  "cuDevicePrimaryCtxRetain failed: " +
                      cu::errorString(api, r));
    rt->retainedPrimary = true;
  }
  tlsErrors.erase(rt.get());
  *out = rt.release();
  return ATTNQAT_RT_SUCCESS;
}

void attnqat_rt_destroy(attnqat_rt_runtime *runtime) {
  if (!runtime)
    return;
  if (runtime->retainedPrimary)
    runtime->api().cuDevicePrimaryCtxRelease(runtime->device);
  tlsErrors.erase(runtime);
  delete runtime;
}

attnqat_rt_status attnqat_rt_get_device_info(const attnqat_rt_runtime *runtime,
                                             attnqat_rt_device_info *out) {
  if (!runtime || !out)
    return fail(runtime, nullptr, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_get_device_info: NULL argument");
  *out = runtime->info;
  return ATTNQAT_RT_SUCCESS;
}

attnqat_rt_status attnqat_rt_artifact_verify_data(const void *data,
                                                  size_t size) {
  if (!data && size)
    return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_artifact_verify_data: data is NULL");
  Artifact a;
  if (ArtifactError e =
          parseArtifact(static_cast<const uint8_t *>(data), size, a))
    return fail(nullptr, nullptr, statusFor(e.code), e.message);
  return ATTNQAT_RT_SUCCESS;
}

attnqat_rt_status attnqat_rt_artifact_verify_file(const char *path) {
  if (!path)
    return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_artifact_verify_file: path is NULL");
  Artifact a;
  if (ArtifactError e = readArtifactFile(path, a))
    return fail(nullptr, nullptr, statusFor(e.code), e.message);
  return ATTNQAT_RT_SUCCESS;
}

attnqat_rt_status attnqat_rt_module_load_file(attnqat_rt_runtime *runtime,
                                              const char *path,
                                              attnqat_rt_module **out) {
  if (out)
    *out = nullptr;
  if (!runtime || !path || !out)
    return fail(runtime, nullptr, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_module_load_file: NULL argument");
  std::vector<uint8_t> bytes;
  if (ArtifactError e = readFileBytes(path, bytes))
    return fail(runtime, nullptr, statusFor(e.code), e.message);
  return loadModule(runtime, bytes.data(), bytes.size(), path, out);
}

attnqat_rt_status attnqat_rt_module_load_data(attnqat_rt_runtime *runtime,
                                              const void *data, size_t size,
                                              attnqat_rt_module **out) {
  if (out)
    *out = nullptr;
  if (!runtime || (!data && size) || !out)
    return fail(runtime, nullptr, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_module_load_data: NULL argument");
  return loadModule(runtime, static_cast<const uint8_t *>(data), size,
                    "<memory>", out);
}

void attnqat_rt_module_unload(attnqat_rt_module *module) {
  if (!module)
    return;
  unloadAll(module);
  for (auto &k : module->kernels)
    tlsErrors.erase(k.get());
  tlsErrors.erase(module);
  delete module;
}

size_t attnqat_rt_module_kernel_count(const attnqat_rt_module *module) {
  return module ? module->kernels.size() : 0;
}

const char *attnqat_rt_module_kernel_name(const attnqat_rt_module *module,
                                          size_t index) {
  if (!module || index >= module->kernels.size())
    return nullptr;
  return module->kernels[index]->desc->name.c_str();
}

attnqat_rt_status attnqat_rt_module_get_kernel(attnqat_rt_module *module,
                                               const char *name,
                                               attnqat_rt_kernel **out) {
  if (out)
    *out = nullptr;
  if (!module || !name || !out)
    return fail(module, module ? module->rt : nullptr,
                ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_module_get_kernel: NULL argument");
  attnqat_rt_runtime *rt = module->rt;
  std::string all;
  for (auto &k : module->kernels) {
    if (k->desc->name == name) {
      if (!k->variant) {
        std::vector<std::string> chips;
        for (const LaunchVariant &v : k->desc->variants)
          chips.push_back(v.chip);
        return fail(module, rt, ATTNQAT_RT_ERROR_NO_KERNEL_FOR_CHIP,
                    "kernel '" + std::string(name) + "' has images for " +
                        chipsString(chips) + " only; this device is " +
                        rt->chip->tag);
      }
      *out = k.get();
      return ATTNQAT_RT_SUCCESS;
    }
    all += (all.empty() ? "" : ", ") + k->desc->name;
  }
  return fail(module, rt, ATTNQAT_RT_ERROR_KERNEL_NOT_FOUND,
              "no kernel '" + std::string(name) + "' in artifact " +
                  module->name + " (it has: " + all + ")");
}

attnqat_rt_status attnqat_rt_module_find_kernel(attnqat_rt_module *module,
                                                const char *op,
                                                const char *config,
                                                attnqat_rt_kernel **out) {
  if (out)
    *out = nullptr;
  if (!module || !op || !out)
    return fail(module, module ? module->rt : nullptr,
                ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_module_find_kernel: NULL argument");
  attnqat_rt_runtime *rt = module->rt;
  std::vector<attnqat_rt_kernel *> matches;
  std::string sameOp, otherChip;
  for (auto &k : module->kernels) {
    if (k->desc->op != op)
      continue;
    sameOp += (sameOp.empty() ? "" : ", ") + k->desc->name + " [" +
              k->desc->config + "]";
    if (config && k->desc->config != config)
      continue;
    if (!k->variant) {
      otherChip += (otherChip.empty() ? "" : ", ") + k->desc->name;
      continue;
    }
    matches.push_back(k.get());
  }
  std::string what = "op '" + std::string(op) + "'" +
                     (config ? " with config '" + std::string(config) + "'"
                             : std::string());
  if (matches.size() == 1) {
    *out = matches[0];
    return ATTNQAT_RT_SUCCESS;
  }
  if (matches.empty() && !otherChip.empty())
    return fail(module, rt, ATTNQAT_RT_ERROR_NO_KERNEL_FOR_CHIP,
                "the kernels for " + what + " (" + otherChip +
                    ") have no image for this device (" + rt->chip->tag + ")");
  if (matches.empty())
    return fail(module, rt, ATTNQAT_RT_ERROR_KERNEL_NOT_FOUND,
                "no kernel for " + what + " in artifact " + module->name +
                    (sameOp.empty() ? std::string()
                                    : " (kernels for this op: " + sameOp + ")"));
  std::string names;
  for (attnqat_rt_kernel *k : matches)
    names += (names.empty() ? "" : ", ") + k->desc->name + " [" +
             k->desc->config + "]";
  return fail(module, rt, ATTNQAT_RT_ERROR_KERNEL_NOT_FOUND,
              std::to_string(matches.size()) + " kernels match " + what +
                  ": " + names + "; pass a config or a kernel name");
}

const char *attnqat_rt_kernel_name(const attnqat_rt_kernel *kernel) {
  return kernel ? kernel->desc->name.c_str() : nullptr;
}
const char *attnqat_rt_kernel_op(const attnqat_rt_kernel *kernel) {
  return kernel ? kernel->desc->op.c_str() : nullptr;
}
const char *attnqat_rt_kernel_config(const attnqat_rt_kernel *kernel) {
  return kernel ? kernel->desc->config.c_str() : nullptr;
}
size_t attnqat_rt_kernel_param_count(const attnqat_rt_kernel *kernel) {
  return kernel ? kernel->desc->params.size() : 0;
}

attnqat_rt_status attnqat_rt_kernel_param(const attnqat_rt_kernel *kernel,
                                          size_t index,
                                          attnqat_rt_param_info *out) {
  if (!kernel || !out)
    return fail(kernel, nullptr, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_kernel_param: NULL argument");
  if (index >= kernel->desc->params.size())
    return fail(kernel, kernel->module->rt, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_kernel_param: index " + std::to_string(index) +
                    " out of range (" +
                    std::to_string(kernel->desc->params.size()) + " params)");
  const Param &p = kernel->desc->params[index];
  out->role = p.role.c_str();
  out->kind = static_cast<int32_t>(p.kind);
  out->access = static_cast<int32_t>(p.access);
  out->elem_type = elemTypeName(p.elem);
  out->align = p.align;
  out->from_problem = p.isAutoFilled() ? 1 : 0;
  out->extent = kernel->extents[index].c_str();
  out->layout = kernel->layouts[index].c_str();
  return ATTNQAT_RT_SUCCESS;
}

attnqat_rt_status
attnqat_rt_kernel_launch_config(const attnqat_rt_kernel *kernel,
                                const attnqat_rt_problem *problem,
                                attnqat_rt_launch_config *out) {
  if (attnqat_rt_status s = checkKernelHandle(kernel, problem))
    return s;
  if (!out)
    return fail(kernel, kernel->module->rt, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_kernel_launch_config: out is NULL");
  ProblemDims dims;
  attnqat_rt_launch_config config = {};
  if (attnqat_rt_status s = checkProblem(kernel, problem, dims, config))
    return s;
  *out = config;
  return ATTNQAT_RT_SUCCESS;
}

attnqat_rt_status attnqat_rt_check_launch(const attnqat_rt_kernel *kernel,
                                          const attnqat_rt_problem *problem,
                                          const attnqat_rt_arg *args,
                                          size_t num_args, void *stream) {
  PreparedLaunch prepared;
  return prepareLaunch(kernel, problem, args, num_args, stream, prepared);
}

attnqat_rt_status attnqat_rt_launch(const attnqat_rt_kernel *kernel,
                                    const attnqat_rt_problem *problem,
                                    const attnqat_rt_arg *args,
                                    size_t num_args, void *stream) {
  PreparedLaunch pl;
  if (attnqat_rt_status s =
          prepareLaunch(kernel, problem, args, num_args, stream, pl))
    return s;
  const attnqat_rt_runtime *rt = kernel->module->rt;
  const cu::DriverApi &api = rt->api();
  const attnqat_rt_launch_config &c = pl.config;
  CtxGuard guard(rt);
  if (guard.result != cu::CUDA_SUCCESS)
    return driverFailure(rt, kernel, "cuCtxPushCurrent", guard.result);
  cu::CUstream s = static_cast<cu::CUstream>(stream);
  cu::CUresult r;
  const char *call = "cuLaunchKernel";
  if (c.cluster[0] * c.cluster[1] * c.cluster[2] == 1) {
    r = api.cuLaunchKernel(kernel->fn, c.grid[0], c.grid[1], c.grid[2],
                           c.block[0], c.block[1], c.block[2],
                           c.dynamic_shared_bytes, s, pl.params.data(),
                           nullptr);
  } else {
    call = "cuLaunchKernelEx";
    cu::CUlaunchAttribute attr;
    std::memset(&attr, 0, sizeof(attr));
    attr.id = cu::CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
    attr.value.clusterDim.x = c.cluster[0];
    attr.value.clusterDim.y = c.cluster[1];
    attr.value.clusterDim.z = c.cluster[2];
    cu::CUlaunchConfig cfg;
    std::memset(&cfg, 0, sizeof(cfg));
    cfg.gridDimX = c.grid[0];
    cfg.gridDimY = c.grid[1];
    cfg.gridDimZ = c.grid[2];
    cfg.blockDimX = c.block[0];
    cfg.blockDimY = c.block[1];
    cfg.blockDimZ = c.block[2];
    cfg.sharedMemBytes = c.dynamic_shared_bytes;
    cfg.hStream = s;
    cfg.attrs = &attr;
    cfg.numAttrs = 1;
    r = api.cuLaunchKernelEx(&cfg, kernel->fn, pl.params.data(), nullptr);
  }
  if (r != cu::CUDA_SUCCESS)
    return fail(kernel, rt, ATTNQAT_RT_ERROR_LAUNCH,
                std::string(call) + "('" + kernel->desc->name + "', grid " +
                    dims3(c.grid) + ", block " + dims3(c.block) + ", cluster " +
                    dims3(c.cluster) + ", smem " +
                    std::to_string(c.dynamic_shared_bytes) +
                    ") failed: " + cu::errorString(api, r));
  return ATTNQAT_RT_SUCCESS;
}

attnqat_rt_status attnqat_rt_mem_alloc(attnqat_rt_runtime *runtime,
                                       size_t bytes, uint64_t *device_ptr) {
  if (!runtime || !device_ptr)
    return fail(runtime, nullptr, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_mem_alloc: NULL argument");
  *device_ptr = 0;
  CtxGuard g(runtime);
  cu::CUdeviceptr p = 0;
  cu::CUresult r = runtime->api().cuMemAlloc(&p, bytes);
  if (r != cu::CUDA_SUCCESS)
    return driverFailure(runtime, runtime,
                         ("cuMemAlloc(" + std::to_string(bytes) + ")").c_str(),
                         r);
  *device_ptr = p;
  return ATTNQAT_RT_SUCCESS;
}

attnqat_rt_status attnqat_rt_mem_free(attnqat_rt_runtime *runtime,
                                      uint64_t device_ptr) {
  if (!runtime)
    return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_mem_free: runtime is NULL");
  if (!device_ptr)
    return ATTNQAT_RT_SUCCESS;
  CtxGuard g(runtime);
  cu::CUresult r = runtime->api().cuMemFree(device_ptr);
  if (r != cu::CUDA_SUCCESS)
    return driverFailure(runtime, runtime, "cuMemFree", r);
  return ATTNQAT_RT_SUCCESS;
}

attnqat_rt_status attnqat_rt_memcpy_htod(attnqat_rt_runtime *runtime,
                                         uint64_t dst, const void *src,
                                         size_t bytes) {
  if (!runtime || (!src && bytes))
    return fail(runtime, nullptr, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_memcpy_htod: NULL argument");
  CtxGuard g(runtime);
  cu::CUresult r = runtime->api().cuMemcpyHtoD(dst, src, bytes);
  if (r != cu::CUDA_SUCCESS)
    return driverFailure(runtime, runtime, "cuMemcpyHtoD", r);
  return ATTNQAT_RT_SUCCESS;
}

attnqat_rt_status attnqat_rt_memcpy_dtoh(attnqat_rt_runtime *runtime,
                                         void *dst, uint64_t src,
                                         size_t bytes) {
  if (!runtime || (!dst && bytes))
    return fail(runtime, nullptr, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_memcpy_dtoh: NULL argument");
  CtxGuard g(runtime);
  cu::CUresult r = runtime->api().cuMemcpyDtoH(dst, src, bytes);
  if (r != cu::CUDA_SUCCESS)
    return driverFailure(runtime, runtime, "cuMemcpyDtoH", r);
  return ATTNQAT_RT_SUCCESS;
}

attnqat_rt_status attnqat_rt_stream_create(attnqat_rt_runtime *runtime,
                                           void **stream) {
  if (!runtime || !stream)
    return fail(runtime, nullptr, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_stream_create: NULL argument");
  *stream = nullptr;
  CtxGuard g(runtime);
  cu::CUstream s = nullptr;
  cu::CUresult r = runtime->api().cuStreamCreate(&s, 0);
  if (r != cu::CUDA_SUCCESS)
    return driverFailure(runtime, runtime, "cuStreamCreate", r);
  *stream = s;
  return ATTNQAT_RT_SUCCESS;
}

attnqat_rt_status attnqat_rt_stream_destroy(attnqat_rt_runtime *runtime,
                                            void *stream) {
  if (!runtime)
    return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_stream_destroy: runtime is NULL");
  if (!stream)
    return ATTNQAT_RT_SUCCESS;
  CtxGuard g(runtime);
  cu::CUresult r =
      runtime->api().cuStreamDestroy(static_cast<cu::CUstream>(stream));
  if (r != cu::CUDA_SUCCESS)
    return driverFailure(runtime, runtime, "cuStreamDestroy", r);
  return ATTNQAT_RT_SUCCESS;
}

attnqat_rt_status attnqat_rt_stream_synchronize(attnqat_rt_runtime *runtime,
                                                void *stream) {
  if (!runtime)
    return fail(nullptr, nullptr, ATTNQAT_RT_ERROR_INVALID_ARGUMENT,
                "attnqat_rt_stream_synchronize: runtime is NULL");
  CtxGuard g(runtime);
  cu::CUresult r =
      runtime->api().cuStreamSynchronize(static_cast<cu::CUstream>(stream));
  if (r != cu::CUDA_SUCCESS)
    return driverFailure(runtime, runtime, "cuStreamSynchronize", r);
  return ATTNQAT_RT_SUCCESS;
}

} // extern "C"
