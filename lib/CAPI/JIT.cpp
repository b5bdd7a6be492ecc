//===- JIT.cpp - C API of the attnqat JIT ---------------------------------===//
//
// Thin wrappers over attnqat/JIT/JIT.h: every entry point checks its
// arguments, maps llvm::Error to a status and a per-thread message, and
// never lets an error escape as an abort.
//
//===----------------------------------------------------------------------===//

#include "attnqat-c/JIT.h"

#include "attnqat/JIT/JIT.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Support.h"
#include "mlir/IR/BuiltinTypes.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <map>
#include <set>
#include <string>

using namespace mlir;
using namespace mlir::attnqat;

static_assert(ATTNQAT_DYNAMIC_SIZE == ShapedType::kDynamic,
              "ATTNQAT_DYNAMIC_SIZE must be MLIR's dynamic size");
static_assert(static_cast<int>(attnqatElementTypeF8E8M0FNU) ==
                  static_cast<int>(JITElementType::F8E8M0FNU),
              "attnqatElementType must mirror JITElementType");

//===----------------------------------------------------------------------===//
// Status and messages
//===----------------------------------------------------------------------===//

static thread_local std::string lastError;

/// Starts a call: clears the last message.
static void beginCall() { lastError.clear(); }

static attnqatStatus fail(attnqatStatus status, const llvm::Twine &message) {
  lastError = message.str();
  return status;
}

static attnqatStatus toStatus(JITErrorCode code) {
  switch (code) {
  case JITErrorCode::InvalidArgument:
    return attnqatStatusInvalidArgument;
  case JITErrorCode::ParseError:
    return attnqatStatusParseError;
  case JITErrorCode::NotFound:
    return attnqatStatusNotFound;
  case JITErrorCode::Unsupported:
    return attnqatStatusUnsupported;
  case JITErrorCode::CompileError:
    return attnqatStatusCompileError;
  }
  return attnqatStatusCompileError;
}

static attnqatStatus fail(llvm::Error error) {
  auto [code, message] = takeJITError(std::move(error));
  return fail(toStatus(code), message);
}

const char *attnqatStatusGetName(attnqatStatus status) {
  switch (status) {
  case attnqatStatusSuccess:
    return "success";
  case attnqatStatusInvalidArgument:
    return "invalid argument";
  case attnqatStatusParseError:
    return "parse error";
  case attnqatStatusNotFound:
    return "not found";
  case attnqatStatusUnsupported:
    return "unsupported";
  case attnqatStatusCompileError:
    return "compile error";
  }
  return "unknown status";
}

const char *attnqatGetLastErrorMessage(void) { return lastError.c_str(); }

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

static bool isValidElementType(attnqatElementType type) {
  return static_cast<int>(type) >= 0 &&
         static_cast<int>(type) <= static_cast<int>(attnqatElementTypeF8E8M0FNU);
}

size_t attnqatElementTypeGetByteSize(attnqatElementType type) {
  if (!isValidElementType(type))
    return 0;
  return getJITElementByteSize(static_cast<JITElementType>(type));
}

const char *attnqatElementTypeGetName(attnqatElementType type) {
  if (!isValidElementType(type))
    return "";
  // stringifyJITElementType returns literals: NUL-terminated.
  return stringifyJITElementType(static_cast<JITElementType>(type)).data();
}

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

static JITOptions *unwrap(attnqatJitOptions options) {
  return static_cast<JITOptions *>(options.ptr);
}
static JITExecutable *unwrap(attnqatJitEngine engine) {
  return static_cast<JITExecutable *>(engine.ptr);
}

static std::string toString(MlirStringRef s) {
  if (!s.data)
    return std::string();
  return std::string(s.data, s.length);
}

attnqatJitOptions attnqatJitOptionsCreate(void) {
  return attnqatJitOptions{new JITOptions()};
}

void attnqatJitOptionsDestroy(attnqatJitOptions options) {
  delete unwrap(options);
}

#define ATTNQAT_CHECK_OPTIONS(options)                                         \
  if (!(options).ptr)                                                          \
    return fail(attnqatStatusInvalidArgument, "null attnqatJitOptions");

attnqatStatus attnqatJitOptionsSetTarget(attnqatJitOptions options,
                                         MlirStringRef target) {
  beginCall();
  ATTNQAT_CHECK_OPTIONS(options);
  unwrap(options)->target = toString(target);
  return attnqatStatusSuccess;
}

attnqatStatus attnqatJitOptionsSetPipelineOptions(attnqatJitOptions options,
                                                  MlirStringRef text) {
  beginCall();
  ATTNQAT_CHECK_OPTIONS(options);
  unwrap(options)->pipelineOptions = toString(text);
  return attnqatStatusSuccess;
}

attnqatStatus attnqatJitOptionsSetOptLevel(attnqatJitOptions options,
                                           int optLevel) {
  beginCall();
  ATTNQAT_CHECK_OPTIONS(options);
  if (optLevel < 0 || optLevel > 3)
    return fail(attnqatStatusInvalidArgument,
                "optimization level must be 0, 1, 2 or 3, got " +
                    llvm::Twine(optLevel));
  unwrap(options)->optLevel = static_cast<unsigned>(optLevel);
  return attnqatStatusSuccess;
}

attnqatStatus attnqatJitOptionsAddSharedLibrary(attnqatJitOptions options,
                                                MlirStringRef path) {
  beginCall();
  ATTNQAT_CHECK_OPTIONS(options);
  if (!path.data || path.length == 0)
    return fail(attnqatStatusInvalidArgument, "empty shared library path");
  unwrap(options)->sharedLibs.push_back(toString(path));
  return attnqatStatusSuccess;
}

#undef ATTNQAT_CHECK_OPTIONS

//===----------------------------------------------------------------------===//
// Compiling
//===----------------------------------------------------------------------===//

/// The C API never prints: diagnostics go into the messages.
static JITOptions effectiveOptions(attnqatJitOptions options) {
  JITOptions result = options.ptr ? *unwrap(options) : JITOptions();
  result.captureDiagnostics = true;
  result.configurePassManager = nullptr;
  result.onLowered = nullptr;
  return result;
}

static std::vector<std::string> entryList(MlirStringRef entry) {
  std::string name = toString(entry);
  if (name.empty())
    return {};
  return {name};
}

static attnqatStatus
finish(llvm::Expected<std::unique_ptr<JITExecutable>> exe,
       attnqatJitEngine *engine) {
  if (!exe)
    return fail(exe.takeError());
  engine->ptr = exe->release();
  return attnqatStatusSuccess;
}

attnqatStatus attnqatJitEngineCreateFromModule(MlirModule module,
                                               MlirStringRef entry,
                                               attnqatJitOptions options,
                                               attnqatJitEngine *engine) {
  beginCall();
  if (!engine)
    return fail(attnqatStatusInvalidArgument, "null engine out-pointer");
  engine->ptr = nullptr;
  if (mlirModuleIsNull(module))
    return fail(attnqatStatusInvalidArgument, "null module");
  OwningOpRef<ModuleOp> clone = unwrap(module).clone();
  return finish(
      JITExecutable::compile(*clone, entryList(entry), effectiveOptions(options)),
      engine);
}

attnqatStatus attnqatJitEngineCreateFromSource(MlirStringRef source,
                                               MlirStringRef entry,
                                               attnqatJitOptions options,
                                               attnqatJitEngine *engine) {
  beginCall();
  if (!engine)
    return fail(attnqatStatusInvalidArgument, "null engine out-pointer");
  engine->ptr = nullptr;
  if (!source.data)
    return fail(attnqatStatusInvalidArgument, "null module source");
  return finish(JITExecutable::compileSource(
                    llvm::StringRef(source.data, source.length),
                    entryList(entry), effectiveOptions(options)),
                engine);
}

void attnqatAttentionSpecInit(attnqatAttentionSpec *spec) {
  if (!spec)
    return;
  std::memset(spec, 0, sizeof(*spec));
  spec->batch = spec->queryHeads = spec->kvHeads = 1;
  spec->queryLength = spec->keyLength = 1;
  spec->headDim = 64;
  spec->elementType = attnqatElementTypeF32;
}

attnqatStatus attnqatJitCompileAttention(const attnqatAttentionSpec *spec,
                                         attnqatJitOptions options,
                                         attnqatJitEngine *engine) {
  beginCall();
  if (!engine)
    return fail(attnqatStatusInvalidArgument, "null engine out-pointer");
  engine->ptr = nullptr;
  if (!spec)
    return fail(attnqatStatusInvalidArgument, "null attention spec");
  AttentionSpec s;
  s.batch = spec->batch;
  s.queryHeads = spec->queryHeads;
  s.kvHeads = spec->kvHeads;
  s.queryLength = spec->queryLength;
  s.keyLength = spec->keyLength;
  s.headDim = spec->headDim;
  switch (spec->elementType) {
  case attnqatElementTypeF32:
  case attnqatElementTypeF16:
  case attnqatElementTypeBF16:
    s.elementType =
        stringifyJITElementType(static_cast<JITElementType>(spec->elementType))
            .str();
    break;
  default:
    return fail(attnqatStatusInvalidArgument,
                "attention spec: element type must be F32, F16 or BF16, got " +
                    llvm::Twine(attnqatElementTypeGetName(spec->elementType)));
  }
  s.causal = spec->causal;
  s.mask = spec->mask;
  s.maskBatch = spec->maskBatch;
  s.maskHeads = spec->maskHeads;
  s.keyLengths = spec->keyLengths;
  if (spec->config)
    s.config = spec->config;
  s.withBackward = spec->withBackward;
  if (spec->scale != 0.0f)
    s.scale = spec->scale;
  if (spec->entryName)
    s.entryName = spec->entryName;
  return finish(compileAttention(s, effectiveOptions(options)), engine);
}

void attnqatJitEngineDestroy(attnqatJitEngine engine) { delete unwrap(engine); }

//===----------------------------------------------------------------------===//
// Signatures
//===----------------------------------------------------------------------===//

intptr_t attnqatJitEngineGetNumEntries(attnqatJitEngine engine) {
  if (!engine.ptr)
    return 0;
  return static_cast<intptr_t>(unwrap(engine)->getEntries().size());
}

MlirStringRef attnqatJitEngineGetEntryName(attnqatJitEngine engine,
                                           intptr_t pos) {
  if (!engine.ptr || pos < 0 || pos >= attnqatJitEngineGetNumEntries(engine))
    return mlirStringRefCreate("", 0);
  const std::string &name = unwrap(engine)->getEntries()[pos].name;
  return mlirStringRefCreate(name.data(), name.size());
}

/// The entry named `entry`, or a failure status.
static attnqatStatus lookupEntry(attnqatJitEngine engine, MlirStringRef entry,
                                 const JITEntry *&result) {
  if (!engine.ptr)
    return fail(attnqatStatusInvalidArgument, "null attnqatJitEngine");
  std::string name = toString(entry);
  const JITExecutable *exe = unwrap(engine);
  if (name.empty() && exe->getEntries().size() == 1) {
    result = &exe->getEntries().front();
    return attnqatStatusSuccess;
  }
  result = exe->lookupEntry(name);
  if (result)
    return attnqatStatusSuccess;
  std::string list;
  for (const JITEntry &e : exe->getEntries())
    list += (list.empty() ? "@" : ", @") + e.name;
  return fail(attnqatStatusNotFound,
              "no entry '" + name + "' in the engine (entries: " + list + ")");
}

attnqatStatus attnqatJitEngineGetSignature(attnqatJitEngine engine,
                                           MlirStringRef entry,
                                           intptr_t *numArguments,
                                           intptr_t *numResults) {
  beginCall();
  const JITEntry *e = nullptr;
  if (attnqatStatus s = lookupEntry(engine, entry, e))
    return s;
  if (numArguments)
    *numArguments = static_cast<intptr_t>(e->arguments.size());
  if (numResults)
    *numResults = static_cast<intptr_t>(e->results.size());
  return attnqatStatusSuccess;
}

static attnqatStatus getValueInfo(attnqatJitEngine engine, MlirStringRef entry,
                                  intptr_t pos, attnqatJitValueInfo *info,
                                  bool results) {
  beginCall();
  if (!info)
    return fail(attnqatStatusInvalidArgument, "null attnqatJitValueInfo");
  const JITEntry *e = nullptr;
  if (attnqatStatus s = lookupEntry(engine, entry, e))
    return s;
  const auto &values = results ? e->results : e->arguments;
  if (pos < 0 || pos >= static_cast<intptr_t>(values.size()))
    return fail(attnqatStatusInvalidArgument,
                llvm::Twine(results ? "result" : "argument") + " position " +
                    llvm::Twine(pos) + " out of range: @" + e->name + " has " +
                    llvm::Twine(values.size()));
  const JITValue &v = values[pos];
  info->name = mlirStringRefCreate(v.name.data(), v.name.size());
  info->elementType = static_cast<attnqatElementType>(v.elementType);
  info->isMemRef = v.isMemRef;
  info->rank = v.getRank();
  info->shape = v.shape.data();
  return attnqatStatusSuccess;
}

attnqatStatus attnqatJitEngineGetArgumentInfo(attnqatJitEngine engine,
                                              MlirStringRef entry, intptr_t pos,
                                              attnqatJitValueInfo *info) {
  return getValueInfo(engine, entry, pos, info, /*results=*/false);
}

attnqatStatus attnqatJitEngineGetResultInfo(attnqatJitEngine engine,
                                            MlirStringRef entry, intptr_t pos,
                                            attnqatJitValueInfo *info) {
  return getValueInfo(engine, entry, pos, info, /*results=*/true);
}

//===----------------------------------------------------------------------===//
// Running
//===----------------------------------------------------------------------===//

namespace {
/// Frees aligned_alloc'ed temporaries on scope exit.
struct Temporaries {
  llvm::SmallVector<void *, 4> buffers;
  ~Temporaries() {
    for (void *p : buffers)
      std::free(p);
  }
  void *allocate(size_t bytes) {
    size_t size = std::max<size_t>(64, (bytes + 63) / 64 * 64);
    void *p = std::aligned_alloc(64, size);
    if (p)
      buffers.push_back(p);
    return p;
  }
};
} // namespace

static std::string shapeString(llvm::ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    s += ShapedType::isDynamic(shape[i]) ? "?" : std::to_string(shape[i]);
  }
  return s + "]";
}

static bool isRowMajor(llvm::ArrayRef<int64_t> sizes, const int64_t *strides) {
  if (!strides)
    return true;
  int64_t expected = 1;
  for (size_t r = sizes.size(); r-- > 0;) {
    if (sizes[r] != 1 && strides[r] != expected)
      return false;
    expected *= sizes[r];
  }
  return true;
}

/// Checks a caller buffer against `v` (everything but dynamic sizes of
/// results, which are only known after the call).
static attnqatStatus checkBuffer(const attnqatJitBuffer &b, const JITValue &v,
                                 const llvm::Twine &what, bool isResult) {
  if (!isValidElementType(b.elementType) ||
      static_cast<JITElementType>(b.elementType) != v.elementType)
    return fail(attnqatStatusInvalidArgument,
                what + " '" + v.name + "' must have element type " +
                    stringifyJITElementType(v.elementType) + ", got " +
                    (isValidElementType(b.elementType)
                         ? llvm::Twine(attnqatElementTypeGetName(b.elementType))
                         : llvm::Twine("an unknown element type")));
  if (!v.isMemRef) {
    if (!b.data)
      return fail(attnqatStatusInvalidArgument,
                  what + " '" + v.name + "' is a scalar: data must point at "
                  "its value");
    return attnqatStatusSuccess;
  }
  if (b.rank != v.getRank())
    return fail(attnqatStatusInvalidArgument,
                what + " '" + v.name + "' must have rank " +
                    llvm::Twine(v.getRank()) + " " + shapeString(v.shape) +
                    ", got rank " + llvm::Twine(b.rank));
  if (b.rank > 0 && !b.sizes)
    return fail(attnqatStatusInvalidArgument,
                what + " '" + v.name + "' has no sizes");
  bool handOver = isResult && !b.data;
  if (handOver) {
    if (b.rank > 0 && !b.strides)
      return fail(attnqatStatusInvalidArgument,
                  what + " '" + v.name +
                      "' is handed over (data == NULL): its strides array "
                      "must hold rank entries");
    return attnqatStatusSuccess;
  }
  int64_t elements = 1;
  for (intptr_t r = 0; r < b.rank; ++r) {
    int64_t size = b.sizes[r];
    if (size < 0 ||
        (!ShapedType::isDynamic(v.shape[r]) && size != v.shape[r])) {
      llvm::SmallVector<int64_t> given(b.sizes, b.sizes + b.rank);
      return fail(attnqatStatusInvalidArgument,
                  what + " '" + v.name + "' has sizes " + shapeString(given) +
                      " but the entry needs " + shapeString(v.shape));
    }
    elements *= size;
  }
  if (!b.data && elements > 0)
    return fail(attnqatStatusInvalidArgument,
                what + " '" + v.name + "' has a null data pointer");
  return attnqatStatusSuccess;
}

attnqatStatus attnqatJitEngineInvoke(attnqatJitEngine engine,
                                     MlirStringRef entryName,
                                     const attnqatJitBuffer *arguments,
                                     intptr_t numArguments,
                                     attnqatJitBuffer *results,
                                     intptr_t numResults) {
  beginCall();
  const JITEntry *entry = nullptr;
  if (attnqatStatus s = lookupEntry(engine, entryName, entry))
    return s;
  const JITExecutable *exe = unwrap(engine);
  if (numArguments != static_cast<intptr_t>(entry->arguments.size()))
    return fail(attnqatStatusInvalidArgument,
                "wrong arity: @" + entry->name + " takes " +
                    llvm::Twine(entry->arguments.size()) + " arguments, got " +
                    llvm::Twine(numArguments));
  if (numResults != static_cast<intptr_t>(entry->results.size()))
    return fail(attnqatStatusInvalidArgument,
                "wrong number of results: @" + entry->name + " returns " +
                    llvm::Twine(entry->results.size()) + ", got " +
                    llvm::Twine(numResults));
  if (numArguments > 0 && !arguments)
    return fail(attnqatStatusInvalidArgument, "null arguments array");
  if (numResults > 0 && !results)
    return fail(attnqatStatusInvalidArgument, "null results array");
  for (intptr_t i = 0; i < numArguments; ++i)
    if (attnqatStatus s = checkBuffer(arguments[i], entry->arguments[i],
                                      "argument " + llvm::Twine(i), false))
      return s;
  for (intptr_t i = 0; i < numResults; ++i)
    if (attnqatStatus s = checkBuffer(results[i], entry->results[i],
                                      "result " + llvm::Twine(i), true))
      return s;

  // Descriptors (packing strided arguments into temporaries).
  Temporaries temporaries;
  std::vector<llvm::SmallVector<int64_t, 11>> descriptors(numArguments);
  llvm::SmallVector<void *, 8> argPointers;
  for (intptr_t i = 0; i < numArguments; ++i) {
    const attnqatJitBuffer &b = arguments[i];
    const JITValue &v = entry->arguments[i];
    if (!v.isMemRef) {
      argPointers.push_back(b.data);
      continue;
    }
    llvm::ArrayRef<int64_t> sizes(b.sizes, b.rank);
    void *data = b.data;
    if (!isRowMajor(sizes, b.strides)) {
      size_t es = getJITElementByteSize(v.elementType);
      int64_t n = 1;
      for (int64_t s : sizes)
        n *= s;
      data = temporaries.allocate(static_cast<size_t>(n) * es);
      if (!data)
        return fail(attnqatStatusInvalidArgument,
                    "out of memory packing argument " + llvm::Twine(i));
      MemRefView view;
      view.aligned = b.data;
      view.sizes = sizes;
      view.strides = llvm::ArrayRef<int64_t>(b.strides, b.rank);
      copyMemRef(view, data, {}, es);
    }
    descriptors[i] = makeMemRefDescriptor(data, sizes);
    argPointers.push_back(descriptors[i].data());
  }

  // Call.
  std::vector<uint8_t> storage(std::max<size_t>(entry->resultsSize, 16) + 16);
  void *resultStorage = storage.data(); // std::vector: aligned for int64_t
  if (llvm::Error error = exe->invokePacked(*entry, argPointers, resultStorage))
    return fail(std::move(error));

  // Results: scalars and copies first, then hand-overs, then free what was
  // not handed over.
  attnqatStatus status = attnqatStatusSuccess;
  std::map<void *, int> handedOver; // allocation -> result that owns it
  llvm::SmallVector<intptr_t, 4> handedIndices;
  for (intptr_t i = 0; i < numResults; ++i) {
    attnqatJitBuffer &b = results[i];
    const JITValue &v = entry->results[i];
    const char *field = static_cast<const char *>(resultStorage) + v.offset;
    size_t es = getJITElementByteSize(v.elementType);
    if (!v.isMemRef) {
      std::memcpy(b.data, field, es);
      continue;
    }
    MemRefView view = readMemRefDescriptor(field, v.getRank());
    if (b.data) {
      bool same = true;
      for (intptr_t r = 0; r < b.rank; ++r)
        same &= b.sizes[r] == view.sizes[r];
      if (!same) {
        if (status == attnqatStatusSuccess) {
          llvm::SmallVector<int64_t> given(b.sizes, b.sizes + b.rank);
          status = fail(attnqatStatusInvalidArgument,
                        "result " + llvm::Twine(i) + " '" + v.name +
                            "' has sizes " + shapeString(view.sizes) +
                            " but the buffer given for it has " +
                            shapeString(given));
        }
        continue;
      }
      copyMemRef(view, b.data,
                 b.strides ? llvm::ArrayRef<int64_t>(b.strides, b.rank)
                           : llvm::ArrayRef<int64_t>(),
                 es);
      continue;
    }
    // Hand over; a second result sharing an allocation gets its own copy.
    for (intptr_t r = 0; r < b.rank; ++r) {
      b.sizes[r] = view.sizes[r];
      b.strides[r] = view.strides[r];
    }
    if (!handedOver.count(view.allocated) &&
        view.allocated != reinterpret_cast<void *>(0xdeadbeef)) {
      handedOver[view.allocated] = static_cast<int>(i);
      b.allocated = view.allocated;
      b.data = static_cast<char *>(view.aligned) + view.offset * es;
      handedIndices.push_back(i);
      continue;
    }
    int64_t n = 1;
    for (int64_t s : view.sizes)
      n *= s;
    size_t bytes = std::max<size_t>(64, (static_cast<size_t>(n) * es + 63) /
                                            64 * 64);
    void *copy = std::aligned_alloc(64, bytes);
    if (!copy) {
      if (status == attnqatStatusSuccess)
        status = fail(attnqatStatusInvalidArgument,
                      "out of memory copying result " + llvm::Twine(i));
      continue;
    }
    copyMemRef(view, copy, {}, es);
    int64_t stride = 1;
    for (intptr_t r = b.rank; r-- > 0;) {
      b.strides[r] = stride;
      stride *= view.sizes[r];
    }
    b.allocated = copy;
    b.data = copy;
    handedIndices.push_back(i);
  }
  // Free the allocations nobody took.
  std::set<void *> freed;
  for (const JITValue &v : entry->results) {
    if (!v.isMemRef)
      continue;
    void *allocated;
    std::memcpy(&allocated,
                static_cast<const char *>(resultStorage) + v.offset, 8);
    if (!allocated || allocated == reinterpret_cast<void *>(0xdeadbeef) ||
        handedOver.count(allocated) || !freed.insert(allocated).second)
      continue;
    std::free(allocated);
  }
  if (status != attnqatStatusSuccess) {
    // Do not leak what was handed over before the failure.
    for (intptr_t i : handedIndices)
      attnqatJitBufferFree(&results[i]);
  }
  return status;
}

void attnqatJitBufferFree(attnqatJitBuffer *buffer) {
  if (!buffer || !buffer->allocated)
    return;
  std::free(buffer->allocated);
  buffer->allocated = nullptr;
  buffer->data = nullptr;
}
