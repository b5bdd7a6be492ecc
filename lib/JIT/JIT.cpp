//===- JIT.cpp - Lower, JIT-compile and call attnqat modules --------------===//
//
// The module is lowered with attnqat-cpu-pipeline and handed to
// mlir::ExecutionEngine; entries are called through the packed wrapper of
// their `_mlir_ciface_` function (see attnqat/Pipelines/Pipelines.h for the
// ABI).
//
//===----------------------------------------------------------------------===//

#include "attnqat/JIT/JIT.h"

#include "attnqat/Conversion/Passes.h"
#include "attnqat/InitAll.h"
#include "attnqat/Pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/Mangling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <csetjmp>
#include <mutex>
#include <set>

using namespace mlir;
using namespace mlir::attnqat;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

char JITError::ID = 0;

void JITError::log(llvm::raw_ostream &os) const { os << message; }

std::error_code JITError::convertToErrorCode() const {
  return llvm::inconvertibleErrorCode();
}

Error mlir::attnqat::makeJITError(JITErrorCode code, const llvm::Twine &message) {
  return llvm::make_error<JITError>(code, message.str());
}

std::pair<JITErrorCode, std::string>
mlir::attnqat::takeJITError(Error error) {
  JITErrorCode code = JITErrorCode::CompileError;
  std::string message;
  llvm::handleAllErrors(
      std::move(error),
      [&](const JITError &e) {
        code = e.getCode();
        message += e.getMessage();
      },
      [&](const llvm::ErrorInfoBase &e) { message += e.message(); });
  return {code, message};
}

/// Collects error diagnostics (with their notes) of a context while alive.
namespace {
class DiagnosticCollector {
public:
  DiagnosticCollector(MLIRContext *context, bool enabled) {
    if (enabled)
      handler.emplace(context, [this](Diagnostic &diag) {
        if (diag.getSeverity() != DiagnosticSeverity::Error &&
            diag.getSeverity() != DiagnosticSeverity::Warning)
          return success();
        append(diag);
        for (Diagnostic &note : diag.getNotes())
          append(note);
        return success();
      });
  }

  /// "prefix" or "prefix:\n<diagnostics>".
  std::string withDiagnostics(const llvm::Twine &prefix) const {
    std::string s = prefix.str();
    if (!text.empty())
      s += ":\n" + text;
    while (!s.empty() && s.back() == '\n')
      s.pop_back();
    return s;
  }

private:
  void append(Diagnostic &diag) {
    llvm::raw_string_ostream os(text);
    Location loc = diag.getLocation();
    if (auto file = dyn_cast<FileLineColLoc>(loc))
      os << file.getFilename().getValue() << ":" << file.getLine() << ":"
         << file.getColumn() << ": ";
    else if (!isa<UnknownLoc>(loc))
      os << loc << ": ";
    switch (diag.getSeverity()) {
    case DiagnosticSeverity::Error:
      os << "error: ";
      break;
    case DiagnosticSeverity::Warning:
      os << "warning: ";
      break;
    case DiagnosticSeverity::Note:
      os << "note: ";
      break;
    case DiagnosticSeverity::Remark:
      os << "remark: ";
      break;
    }
    os << diag << "\n";
  }

  std::string text;
  std::optional<ScopedDiagnosticHandler> handler;
};

using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

std::string typeToString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  type.print(os);
  return s;
}
} // namespace

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

std::optional<JITElementType> mlir::attnqat::getJITElementType(Type t) {
  if (!t)
    return std::nullopt;
  if (t.isF16())
    return JITElementType::F16;
  if (t.isBF16())
    return JITElementType::BF16;
  if (t.isF32())
    return JITElementType::F32;
  if (t.isF64())
    return JITElementType::F64;
  if (isa<Float4E2M1FNType>(t))
    return JITElementType::F4E2M1FN;
  if (isa<Float8E4M3FNType>(t))
    return JITElementType::F8E4M3FN;
  if (isa<Float8E8M0FNUType>(t))
    return JITElementType::F8E8M0FNU;
  if (t.isIndex())
    return JITElementType::Index;
  if (auto it = dyn_cast<IntegerType>(t)) {
    bool u = it.isUnsigned();
    switch (it.getWidth()) {
    case 1:
      return u ? std::nullopt : std::optional(JITElementType::I1);
    case 8:
      return u ? JITElementType::UI8 : JITElementType::I8;
    case 16:
      return u ? JITElementType::UI16 : JITElementType::I16;
    case 32:
      return u ? JITElementType::UI32 : JITElementType::I32;
    case 64:
      return u ? JITElementType::UI64 : JITElementType::I64;
    default:
      return std::nullopt;
    }
  }
  return std::nullopt;
}

size_t mlir::attnqat::getJITElementByteSize(JITElementType type) {
  switch (type) {
  case JITElementType::F16:
  case JITElementType::BF16:
  case JITElementType::I16:
  case JITElementType::UI16:
    return 2;
  case JITElementType::F32:
  case JITElementType::I32:
  case JITElementType::UI32:
    return 4;
  case JITElementType::F64:
  case JITElementType::I64:
  case JITElementType::UI64:
  case JITElementType::Index:
    return 8;
  case JITElementType::I1:
  case JITElementType::I8:
  case JITElementType::UI8:
  case JITElementType::F4E2M1FN:
  case JITElementType::F8E4M3FN:
  case JITElementType::F8E8M0FNU:
    return 1;
  }
  return 1;
}

StringRef mlir::attnqat::stringifyJITElementType(JITElementType type) {
  switch (type) {
  case JITElementType::F16: return "f16";
  case JITElementType::BF16: return "bf16";
  case JITElementType::F32: return "f32";
  case JITElementType::F64: return "f64";
  case JITElementType::I1: return "i1";
  case JITElementType::I8: return "i8";
  case JITElementType::I16: return "i16";
  case JITElementType::I32: return "i32";
  case JITElementType::I64: return "i64";
  case JITElementType::UI8: return "ui8";
  case JITElementType::UI16: return "ui16";
  case JITElementType::UI32: return "ui32";
  case JITElementType::UI64: return "ui64";
  case JITElementType::Index: return "index";
  case JITElementType::F4E2M1FN: return "f4E2M1FN";
  case JITElementType::F8E4M3FN: return "f8E4M3FN";
  case JITElementType::F8E8M0FNU: return "f8E8M0FNU";
  }
  return "?";
}

//===----------------------------------------------------------------------===//
// Targets
//===----------------------------------------------------------------------===//

Error mlir::attnqat::checkJITTarget(StringRef target) {
  if (target == "cpu")
    return Error::success();
  if (target == "sm_90a" || target == "sm_100a" || target == "sm_120a")
    return makeJITError(JITErrorCode::Unsupported,
                        "target '" + target +
                            "' is not supported yet: GPU kernel generation is "
                            "not implemented (use target 'cpu')");
  return makeJITError(JITErrorCode::InvalidArgument,
                      "unknown target '" + target +
                          "'; expected cpu, sm_90a, sm_100a or sm_120a");
}

//===----------------------------------------------------------------------===//
// Entries and their C interface
//===----------------------------------------------------------------------===//

/// Describes the arguments or results of `fn` at the C interface.
static Error collectValues(func::FuncOp fn, bool results,
                           SmallVectorImpl<JITValue> &values) {
  ArrayRef<Type> types = results ? fn.getFunctionType().getResults()
                                 : fn.getFunctionType().getInputs();
  std::string what = results ? "result " : "argument ";
  for (auto [i, type] : llvm::enumerate(types)) {
    JITValue v;
    StringAttr name =
        results ? fn.getResultAttrOfType<StringAttr>(i, "attnqat.name")
                : fn.getArgAttrOfType<StringAttr>(i, "attnqat.name");
    v.hasName = static_cast<bool>(name);
    v.name = name ? name.getValue().str()
                  : (results ? "result" : "arg") + std::to_string(i);
    Type elementType = type;
    if (auto tensor = dyn_cast<RankedTensorType>(type)) {
      if (tensor.getEncoding())
        return makeJITError(JITErrorCode::Unsupported,
                            what + std::to_string(i) + " of @" +
                                fn.getName() + " has an encoded tensor type " +
                                typeToString(type) + ", which is not supported");
      elementType = tensor.getElementType();
      v.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
    } else if (auto memref = dyn_cast<MemRefType>(type);
               memref && memref.getLayout().isIdentity()) {
      elementType = memref.getElementType();
      v.shape.assign(memref.getShape().begin(), memref.getShape().end());
    } else if (isa<ShapedType>(type)) {
      return makeJITError(JITErrorCode::Unsupported,
                          what + std::to_string(i) + " of @" + fn.getName() +
                              " has type " + typeToString(type) +
                              "; only ranked tensors, identity-layout memrefs "
                              "and scalars are supported");
    } else {
      v.isMemRef = false;
    }
    std::optional<JITElementType> et = getJITElementType(elementType);
    if (!et)
      return makeJITError(
          JITErrorCode::Unsupported,
          what + std::to_string(i) + " of @" + fn.getName() +
              " has unsupported element type " + typeToString(elementType) +
              " (supported: f16 bf16 f32 f64 i1 i8 i16 i32 i64 ui8..ui64 "
              "index f4E2M1FN f8E4M3FN f8E8M0FNU)");
    v.elementType = *et;
    if (v.isMemRef) {
      v.size = 8 * (3 + 2 * v.shape.size());
      v.align = 8;
    } else {
      v.size = v.align = getJITElementByteSize(*et);
    }
    values.push_back(std::move(v));
  }
  return Error::success();
}

static Expected<JITEntry> describeEntry(func::FuncOp fn) {
  JITEntry entry;
  entry.name = fn.getName().str();
  if (Error e = collectValues(fn, /*results=*/false, entry.arguments))
    return std::move(e);
  if (Error e = collectValues(fn, /*results=*/true, entry.results))
    return std::move(e);
  size_t bytes = 0, align = 1;
  for (JITValue &r : entry.results) {
    bytes = (bytes + r.align - 1) / r.align * r.align;
    r.offset = bytes;
    bytes += r.size;
    align = std::max(align, r.align);
  }
  entry.resultsSize = (bytes + align - 1) / align * align;
  entry.resultsAlign = align;
  // A single scalar result is returned by value (the packed wrapper stores
  // it after the arguments); anything else comes back through a pointer to
  // a struct passed first.
  entry.resultsByPointer =
      !entry.results.empty() &&
      !(entry.results.size() == 1 && !entry.results[0].isMemRef);
  return entry;
}

/// Our argument/result annotations (attnqat.name, ...) must not reach the
/// LLVM IR translation.
static void stripAttnQATAttributes(func::FuncOp f) {
  auto strip = [&](unsigned count, auto getDict, auto removeAttr) {
    for (unsigned i = 0; i < count; ++i) {
      DictionaryAttr dict = getDict(i);
      if (!dict)
        continue;
      SmallVector<StringAttr> names;
      for (NamedAttribute attr : dict)
        if (attr.getName().getValue().starts_with("attnqat."))
          names.push_back(attr.getName());
      for (StringAttr n : names)
        removeAttr(i, n);
    }
  };
  strip(
      f.getNumArguments(), [&](unsigned i) { return f.getArgAttrDict(i); },
      [&](unsigned i, StringAttr n) { f.removeArgAttr(i, n); });
  strip(
      f.getNumResults(), [&](unsigned i) { return f.getResultAttrDict(i); },
      [&](unsigned i, StringAttr n) { f.removeResultAttr(i, n); });
}

//===----------------------------------------------------------------------===//
// Runtime symbols
//===----------------------------------------------------------------------===//

namespace {
/// Where attnqat_shape_error unwinds to: the innermost guarded call of this
/// thread (callGuarded), and the message it leaves there.
thread_local std::jmp_buf *shapeErrorTarget = nullptr;
thread_local std::string shapeErrorMessage;
} // namespace

/// The runtime check the CPU lowering emits where dynamic extents of an op's
/// operands disagree (convert-attnqat-to-loops, ShapeChecks): records the
/// message with the two extents ("%0", "%1") and unwinds to the guarded
/// call, skipping the rest of the function (its buffers leak). The lowered
/// code holds no C++ objects, and this frame holds none live at the jump.
extern "C" void attnqatShapeError(const char *what, int64_t actual, int64_t expected) {
  {
    std::string message(what);
    for (auto [token, value] : {std::pair<const char *, int64_t>{"%0", actual}, {"%1", expected}})
      for (size_t at; (at = message.find(token)) != std::string::npos;)
        message.replace(at, 2, std::to_string(value));
    shapeErrorMessage = std::move(message);
  }
  if (shapeErrorTarget)
    std::longjmp(*shapeErrorTarget, 1);
  // Only guarded calls run lowered code; never reached.
  llvm::errs() << "error: " << shapeErrorMessage << "\n";
  std::_Exit(1);
}

/// Calls `wrapper` on `packed`; false when a shape check failed (the message
/// in shapeErrorMessage). No object with a destructor lives in this frame
/// across the setjmp.
static bool callGuarded(void (*wrapper)(void **), void **packed) {
  std::jmp_buf target;
  std::jmp_buf *outer = shapeErrorTarget;
  if (setjmp(target) != 0) {
    shapeErrorTarget = outer;
    return false;
  }
  shapeErrorTarget = &target;
  wrapper(packed);
  shapeErrorTarget = outer;
  return true;
}

/// Symbols the lowered code may call that the process does not export.
/// Debian's libmlir_c_runner_utils.so links libMLIR.so, which must not share
/// a process with the static MLIR libraries, so we provide `memrefCopy`.
static void registerRuntimeSymbols(ExecutionEngine &engine) {
  engine.registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap map;
    map[interner("memrefCopy")] = {
        llvm::orc::ExecutorAddr::fromPtr(&attnqatMemrefCopy),
        llvm::JITSymbolFlags::Exported};
    map[interner(kShapeErrorFunction)] = {
        llvm::orc::ExecutorAddr::fromPtr(&attnqatShapeError),
        llvm::JITSymbolFlags::Exported};
    return map;
  });
}

static void initializeNativeTargetOnce() {
  static std::once_flag flag;
  std::call_once(flag, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

//===----------------------------------------------------------------------===//
// JITExecutable
//===----------------------------------------------------------------------===//

JITExecutable::JITExecutable() = default;
JITExecutable::~JITExecutable() = default;

const JITEntry *JITExecutable::lookupEntry(StringRef name) const {
  for (const JITEntry &e : entries)
    if (e.name == name)
      return &e;
  return nullptr;
}

Expected<std::unique_ptr<JITExecutable>>
JITExecutable::compile(ModuleOp module, ArrayRef<std::string> entryNames,
                       const JITOptions &options) {
  if (!module)
    return makeJITError(JITErrorCode::InvalidArgument, "null module");
  if (Error e = checkJITTarget(options.target))
    return std::move(e);
  if (options.optLevel > 3)
    return makeJITError(JITErrorCode::InvalidArgument,
                        "optimization level must be 0, 1, 2 or 3, got " +
                            llvm::Twine(options.optLevel));
  for (const std::string &lib : options.sharedLibs)
    if (!llvm::sys::fs::exists(lib))
      return makeJITError(JITErrorCode::InvalidArgument,
                          "shared library '" + lib + "' does not exist");
  auto pipelineOptions = std::make_unique<AttnQATCPUPipelineOptions>();
  {
    std::string errors;
    llvm::raw_string_ostream os(errors);
    if (failed(pipelineOptions->parseFromString(options.pipelineOptions, os)))
      return makeJITError(JITErrorCode::InvalidArgument,
                          "bad attnqat-cpu-pipeline options '" +
                              options.pipelineOptions +
                              "': " + StringRef(errors).trim());
  }

  MLIRContext *context = module.getContext();
  {
    DialectRegistry registry;
    registerAllDialects(registry);
    context->appendDialectRegistry(registry);
  }
  DiagnosticCollector diagnostics(context, options.captureDiagnostics);
  if (failed(verify(module)))
    return makeJITError(JITErrorCode::CompileError,
                        diagnostics.withDiagnostics("the module does not verify"));

  // Entries.
  SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
  std::string funcList;
  for (func::FuncOp f : funcs)
    funcList += (funcList.empty() ? "@" : ", @") + f.getName().str();
  if (funcList.empty())
    funcList = "none";
  SmallVector<func::FuncOp> entryFuncs;
  if (entryNames.empty()) {
    for (func::FuncOp f : funcs)
      if (f.isPublic() && !f.isExternal())
        entryFuncs.push_back(f);
    if (entryFuncs.empty())
      return makeJITError(JITErrorCode::NotFound,
                          "the module has no public function with a body; "
                          "functions in the module: " +
                              funcList);
  } else {
    llvm::StringSet<> seen;
    for (const std::string &name : entryNames) {
      if (!seen.insert(name).second)
        continue;
      auto fn = module.lookupSymbol<func::FuncOp>(name);
      if (!fn)
        return makeJITError(JITErrorCode::NotFound,
                            "entry function '" + name +
                                "' not found; functions in the module: " +
                                funcList);
      if (fn.isExternal())
        return makeJITError(JITErrorCode::InvalidArgument,
                            "entry function @" + name +
                                " is a declaration without a body");
      entryFuncs.push_back(fn);
    }
  }

  std::unique_ptr<JITExecutable> exe(new JITExecutable());
  for (func::FuncOp fn : entryFuncs) {
    auto entry = describeEntry(fn);
    if (!entry)
      return entry.takeError();
    exe->entries.push_back(std::move(*entry));
  }

  // Prepare the C interface.
  for (func::FuncOp f : funcs)
    stripAttnQATAttributes(f);
  for (func::FuncOp fn : entryFuncs) {
    fn.setPublic();
    fn->setAttr("llvm.emit_c_interface", UnitAttr::get(context));
    for (unsigned i = 0; i < fn.getNumArguments(); ++i)
      if (isa<TensorType>(fn.getArgument(i).getType()) &&
          !fn.getArgAttr(i, "bufferization.writable"))
        fn.setArgAttr(i, "bufferization.writable",
                      BoolAttr::get(context, false));
  }

  // Lower.
  auto tLower = Clock::now();
  PassManager pm(context);
  if (options.configurePassManager &&
      failed(options.configurePassManager(pm)))
    return makeJITError(JITErrorCode::InvalidArgument,
                        "bad pass manager options");
  buildAttnQATCPUPipeline(pm, *pipelineOptions);
  if (failed(pm.run(module))) {
    std::string what = entryFuncs.size() == 1
                           ? "lowering @" + entryFuncs.front().getName().str()
                           : std::string("lowering the module");
    return makeJITError(
        JITErrorCode::CompileError,
        diagnostics.withDiagnostics(what + " with attnqat-cpu-pipeline failed"));
  }
  exe->timings.loweringMs = msSince(tLower);
  if (options.onLowered)
    options.onLowered(module);

  // JIT.
  auto tJit = Clock::now();
  initializeNativeTargetOnce();
  auto tmBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!tmBuilder)
    return makeJITError(JITErrorCode::CompileError,
                        "cannot detect the host target: " +
                            llvm::toString(tmBuilder.takeError()));
  unsigned optLevel = options.optLevel;
  llvm::CodeGenOptLevel cgLevel =
      optLevel == 0   ? llvm::CodeGenOptLevel::None
      : optLevel == 1 ? llvm::CodeGenOptLevel::Less
      : optLevel == 2 ? llvm::CodeGenOptLevel::Default
                      : llvm::CodeGenOptLevel::Aggressive;
  tmBuilder->setCodeGenOptLevel(cgLevel);
  auto tm = tmBuilder->createTargetMachine();
  if (!tm)
    return makeJITError(JITErrorCode::CompileError,
                        "cannot create the host target machine: " +
                            llvm::toString(tm.takeError()));
  auto transformer =
      makeOptimizingTransformer(optLevel, /*sizeLevel=*/0, tm->get());
  SmallVector<StringRef> libs(options.sharedLibs.begin(),
                              options.sharedLibs.end());
  ExecutionEngineOptions engineOptions;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = cgLevel;
  engineOptions.sharedLibPaths = libs;
  auto engine = ExecutionEngine::create(module, engineOptions, std::move(*tm));
  if (!engine)
    return makeJITError(JITErrorCode::CompileError,
                        diagnostics.withDiagnostics(
                            "JIT compilation failed: " +
                            llvm::toString(engine.takeError())));
  exe->engine = std::move(*engine);
  registerRuntimeSymbols(*exe->engine);
  exe->engine->initialize();
  for (const JITEntry &entry : exe->entries) {
    auto fn = exe->engine->lookupPacked("_mlir_ciface_" + entry.name);
    if (!fn)
      return makeJITError(JITErrorCode::CompileError,
                          "JIT lookup of _mlir_ciface_" + entry.name +
                              " failed: " + llvm::toString(fn.takeError()));
    exe->wrappers.push_back(*fn);
  }
  exe->timings.jitMs = msSince(tJit);
  return exe;
}

Expected<std::unique_ptr<JITExecutable>>
JITExecutable::compileSource(StringRef source, ArrayRef<std::string> entries,
                             const JITOptions &options) {
  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);
  OwningOpRef<ModuleOp> module;
  {
    DiagnosticCollector diagnostics(&context, /*enabled=*/true);
    module = parseSourceString<ModuleOp>(source, ParserConfig(&context),
                                         "<source>");
    if (!module)
      return makeJITError(JITErrorCode::ParseError,
                          diagnostics.withDiagnostics("cannot parse the module"));
  }
  return compile(*module, entries, options);
}

Error JITExecutable::invokePacked(const JITEntry &entry,
                                  ArrayRef<void *> arguments,
                                  void *results) const {
  size_t index = &entry - entries.data();
  assert(index < entries.size() && "entry of another executable");
  // Memref arguments are passed to _mlir_ciface_ as pointers to descriptors:
  // the packed slot points at a variable holding that pointer.
  SmallVector<void *, 8> descriptors(arguments.begin(), arguments.end());
  SmallVector<void *, 9> packed;
  void *resultsPtr = results;
  if (entry.resultsByPointer)
    packed.push_back(&resultsPtr);
  for (auto [i, arg] : llvm::enumerate(entry.arguments))
    packed.push_back(arg.isMemRef ? static_cast<void *>(&descriptors[i])
                                  : descriptors[i]);
  if (!entry.resultsByPointer && !entry.results.empty())
    packed.push_back(results);
  if (!callGuarded(wrappers[index], packed.data()))
    return makeJITError(JITErrorCode::InvalidArgument, shapeErrorMessage);
  return Error::success();
}

Error JITExecutable::invoke(StringRef name, ArrayRef<void *> arguments,
                            void *results) const {
  const JITEntry *entry = lookupEntry(name);
  if (!entry) {
    std::string list;
    for (const JITEntry &e : entries)
      list += (list.empty() ? "@" : ", @") + e.name;
    return makeJITError(JITErrorCode::NotFound,
                        "no entry '" + name + "' (entries: " + list + ")");
  }
  if (arguments.size() != entry->arguments.size())
    return makeJITError(JITErrorCode::InvalidArgument,
                        "wrong arity: @" + name + " takes " +
                            llvm::Twine(entry->arguments.size()) +
                            " arguments, got " + llvm::Twine(arguments.size()));
  for (auto [i, a] : llvm::enumerate(arguments))
    if (!a)
      return makeJITError(JITErrorCode::InvalidArgument,
                          "argument " + llvm::Twine(i) + " of @" + name +
                              " is a null pointer");
  if (!entry->results.empty() && !results)
    return makeJITError(JITErrorCode::InvalidArgument,
                        "@" + name + " has results but the results pointer "
                                     "is null");
  return invokePacked(*entry, arguments, results);
}

void JITExecutable::freeResults(const JITEntry &entry, void *results) {
  if (!results)
    return;
  std::set<void *> freed;
  for (const JITValue &r : entry.results) {
    if (!r.isMemRef)
      continue;
    void *allocated;
    std::memcpy(&allocated, static_cast<char *>(results) + r.offset, 8);
    // memref.get_global descriptors carry 0xdeadbeef as `allocated`: never
    // returned by the pipeline (it copies them), but never free them.
    if (!allocated || allocated == reinterpret_cast<void *>(0xdeadbeef) ||
        !freed.insert(allocated).second)
      continue;
    std::free(allocated);
  }
}
