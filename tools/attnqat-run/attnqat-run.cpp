//===- attnqat-run.cpp - JIT-run a function of an attnqat module ----------===//
//
// Parses a module on tensors, binds the entry function's arguments to .npy
// files or seeded generators, lowers it with attnqat-cpu-pipeline, JIT-
// compiles it with mlir::ExecutionEngine (both through attnqat/JIT/JIT.h),
// runs it, writes the results as .npy and prints a summary (shapes, dtypes,
// statistics, timings, comparisons).
//
// Memory ownership: input buffers belong to the tool and are marked
// `bufferization.writable = false`, so the compiled function never writes
// them. Every returned buffer is malloc'ed by the compiled code and owned by
// the caller (see attnqat/Pipelines/Pipelines.h): the tool copies it into a
// host tensor and free()s its `allocated` pointer once per distinct buffer.
//
//===----------------------------------------------------------------------===//

#include "ReferenceCheck.h"
#include "attnqat/InitAll.h"
#include "attnqat/JIT/JIT.h"
#include "attnqat/Pipelines/Pipelines.h"
#include "attnqat/Support/Npy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

using namespace mlir;
using namespace mlir::attnqat;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace cl = llvm::cl;

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

static const char *const kOverview = R"(attnqat-run: JIT-compile and run one function of an MLIR module on tensors

  attnqat-run MODULE.mlir --entry=FUNC [--input KEY=SPEC]... [options]

The module's functions take and return tensors (attnqat, func, arith, math,
tensor, linalg, scf, memref, vector ops). The entry is lowered with
attnqat-cpu-pipeline, compiled with the MLIR ExecutionEngine and called through
its C interface (_mlir_ciface_FUNC).

BINDING INPUTS  (--input KEY=SPEC, repeatable)
  KEY   an argument index (0, 1, ...), argN, or the string of an
        `attnqat.name` argument attribute, e.g.
          func.func @f(%q: tensor<4x8xf32> {attnqat.name = "q"}, ...)
  SPEC  one of
          PATH.npy | npy:PATH    a NumPy file; shape must match exactly (a
                                 dynamic `?` dim takes the file's size)
          normal[:k=v,...]       keys: mean (0), std (1), outliers (fraction
                                 of elements, 0), outlier-scale (10),
                                 seed, shape
          uniform[:k=v,...]      keys: lo (-1), hi (1), outliers,
                                 outlier-scale, seed, shape; values in [lo, hi)
          zeros[:shape=...] | ones[:shape=...]
          const:V[,shape=...]    every element V (e.g. const:128 for key
                                 lengths; nan, inf, -inf allowed)
        `shape=AxBxC` is only needed for arguments with dynamic dims.
  Examples: --input q=normal:std=1,outliers=0.01,outlier-scale=10
            --input 1=uniform:lo=-2,hi=2   --input kv_len=const:128
            --input 2=data/v.npy
  Generators are deterministic: argument i uses a seed derived from
  (--seed, i) unless the spec gives seed=. Values are drawn in float64, then
  rounded to the element type (floats: to f32 then round-to-nearest-even to
  bf16/f16; f4E2M1FN/f8E4M3FN/f8E8M0FNU: llvm::APFloat round-to-nearest-even,
  saturating to the largest finite value, negative f8E8M0FNU is NaN;
  integers: rounded to nearest even, clamped; i1: nonzero is true).

.NPY DTYPES ACCEPTED PER ELEMENT TYPE
  f32: float32    f64: float64    f16: float16
  bf16: float32 (rounded to nearest even) or uint16 (raw bf16 bits)
  i1: bool, or uint8 holding 0/1
  iN (signless): intN or uintN of the same width; uiN: uintN
  index: int64 or uint64
  f4E2M1FN, f8E4M3FN, f8E8M0FNU: uint8, one code / bit pattern per byte
  Scalar (non-tensor) arguments take a 0-d .npy or a generator.

OUTPUTS
  With --output-dir=DIR, result i is written to DIR/FUNC.result<i>.npy, or
  DIR/NAME.npy when the result has an `attnqat.name` attribute. bf16 results
  are written as float32, f16 as float16, i1 as bool, f4/f8 types as uint8
  codes. A summary with shapes, dtypes, min/max/mean/absmax/NaN counts and
  the lowering, JIT-compile and run times goes to stdout; errors go to stderr
  with a non-zero exit status.

COMPARING
  --compare KEY=REF.npy prints the max abs error, max rel error (over nonzero
  reference elements) and RMS error of result KEY (index, resultN or
  attnqat.name) against a reference of any numeric dtype and the same shape.
  With --compare-atol/--compare-rtol the run fails (exit 1) unless
  |out - ref| <= atol + rtol * |ref| everywhere and NaNs coincide.

--help-hidden also lists the MLIR and LLVM debugging options
(--mlir-print-ir-after-all, --mlir-timing, ...).
)";

static cl::OptionCategory runCategory("attnqat-run options");

static cl::opt<std::string> inputFilename(cl::Positional,
                                          cl::desc("<module.mlir>"),
                                          cl::init("-"), cl::cat(runCategory));
static cl::opt<std::string>
    entryName("entry",
              cl::desc("Function to run (default: the module's only public "
                       "function)"),
              cl::value_desc("func"), cl::cat(runCategory));
static cl::list<std::string>
    inputSpecs("input", cl::desc("Bind an argument: KEY=SPEC (see above)"),
               cl::value_desc("key=spec"), cl::cat(runCategory));
static cl::opt<bool> randomMissing(
    "random-missing",
    cl::desc("Bind unbound arguments to normal(0,1) instead of failing"),
    cl::init(false), cl::cat(runCategory));
static cl::opt<uint64_t> seedOpt("seed",
                                 cl::desc("Base seed of the generators"),
                                 cl::init(0), cl::cat(runCategory));
static cl::opt<std::string>
    outputDir("output-dir",
              cl::desc("Write the results as .npy files into this directory "
                       "(created if missing)"),
              cl::value_desc("dir"), cl::cat(runCategory));
static cl::opt<unsigned> repeat("repeat",
                                cl::desc("Run the function N times (timing)"),
                                cl::init(1), cl::cat(runCategory));
static cl::opt<bool> printIRAfterLowering(
    "print-ir-after-lowering",
    cl::desc("Print the LLVM-dialect module produced by the pipeline"),
    cl::init(false), cl::cat(runCategory));
static cl::opt<unsigned>
    optLevel("opt-level", cl::desc("LLVM optimization level of the JIT (0-3)"),
             cl::init(3), cl::cat(runCategory));
static cl::list<std::string>
    compareSpecs("compare",
                 cl::desc("Compare a result with a reference: KEY=REF.npy"),
                 cl::value_desc("key=ref.npy"), cl::cat(runCategory));
static cl::opt<double> compareAtol(
    "compare-atol",
    cl::desc("Absolute tolerance of --compare (fail when exceeded)"),
    cl::init(-1.0), cl::cat(runCategory));
static cl::opt<double> compareRtol(
    "compare-rtol",
    cl::desc("Relative tolerance of --compare (fail when exceeded)"),
    cl::init(-1.0), cl::cat(runCategory));
static cl::opt<bool> referenceCheck(
    "reference",
    cl::desc("Compare the entry's attnqat.attention results (O, LSE, dQ, dK, "
             "dV) with the float64 reference and print the matched-backward "
             "figures"),
    cl::init(false), cl::cat(runCategory));
static cl::opt<double> referenceTolerance(
    "reference-tolerance",
    cl::desc("With --reference: fail when a result's max abs error exceeds "
             "this fraction of max(max |reference|, 1)"),
    cl::init(-1.0), cl::cat(runCategory));
static cl::opt<std::string> pipelineOptions(
    "pipeline-options",
    cl::desc("Options of attnqat-cpu-pipeline, e.g. "
             "'reassociate-fp-reductions=true dealloc=false'"),
    cl::value_desc("opts"), cl::cat(runCategory));
static cl::list<std::string> sharedLibs(
    "shared-libs",
    cl::desc("Shared libraries the JIT resolves symbols from (comma "
             "separated)"),
    cl::CommaSeparated, cl::value_desc("lib.so"), cl::cat(runCategory));

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

static Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static std::string typeToString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  type.print(os);
  return s;
}

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

namespace {
enum class ElemKind {
  F16, BF16, F32, F64,
  I1, I8, I16, I32, I64, // signless or signed
  U8, U16, U32, U64,     // unsigned
  Index,
  F4E2M1FN, F8E4M3FN, F8E8M0FNU,
};

struct ElemInfo {
  ElemKind kind;
  size_t bytes; // in memory (LLVM alloc size): f4 and i1 take one byte
  Type type;
};
} // namespace

static std::optional<ElemInfo> classifyElement(Type t) {
  if (t.isF16())
    return ElemInfo{ElemKind::F16, 2, t};
  if (t.isBF16())
    return ElemInfo{ElemKind::BF16, 2, t};
  if (t.isF32())
    return ElemInfo{ElemKind::F32, 4, t};
  if (t.isF64())
    return ElemInfo{ElemKind::F64, 8, t};
  if (isa<Float4E2M1FNType>(t))
    return ElemInfo{ElemKind::F4E2M1FN, 1, t};
  if (isa<Float8E4M3FNType>(t))
    return ElemInfo{ElemKind::F8E4M3FN, 1, t};
  if (isa<Float8E8M0FNUType>(t))
    return ElemInfo{ElemKind::F8E8M0FNU, 1, t};
  if (t.isIndex())
    return ElemInfo{ElemKind::Index, 8, t};
  if (auto it = dyn_cast<IntegerType>(t)) {
    bool isUnsigned = it.isUnsigned();
    switch (it.getWidth()) {
    case 1:
      return isUnsigned ? std::nullopt
                        : std::optional<ElemInfo>({ElemKind::I1, 1, t});
    case 8:
      return ElemInfo{isUnsigned ? ElemKind::U8 : ElemKind::I8, 1, t};
    case 16:
      return ElemInfo{isUnsigned ? ElemKind::U16 : ElemKind::I16, 2, t};
    case 32:
      return ElemInfo{isUnsigned ? ElemKind::U32 : ElemKind::I32, 4, t};
    case 64:
      return ElemInfo{isUnsigned ? ElemKind::U64 : ElemKind::I64, 8, t};
    default:
      return std::nullopt;
    }
  }
  return std::nullopt;
}

/// The .npy dtypes a bound file may have for an element kind.
static SmallVector<NpyDType, 2> acceptedDTypes(ElemKind k) {
  switch (k) {
  case ElemKind::F16:
    return {NpyDType::F16};
  case ElemKind::BF16:
    return {NpyDType::F32, NpyDType::U16};
  case ElemKind::F32:
    return {NpyDType::F32};
  case ElemKind::F64:
    return {NpyDType::F64};
  case ElemKind::I1:
    return {NpyDType::Bool, NpyDType::U8};
  case ElemKind::I8:
    return {NpyDType::I8, NpyDType::U8};
  case ElemKind::I16:
    return {NpyDType::I16, NpyDType::U16};
  case ElemKind::I32:
    return {NpyDType::I32, NpyDType::U32};
  case ElemKind::I64:
  case ElemKind::Index:
    return {NpyDType::I64, NpyDType::U64};
  case ElemKind::U8:
    return {NpyDType::U8};
  case ElemKind::U16:
    return {NpyDType::U16};
  case ElemKind::U32:
    return {NpyDType::U32};
  case ElemKind::U64:
    return {NpyDType::U64};
  case ElemKind::F4E2M1FN:
  case ElemKind::F8E4M3FN:
  case ElemKind::F8E8M0FNU:
    return {NpyDType::U8};
  }
  return {};
}

/// The dtype a result of this kind is written as.
static NpyDType outputDType(ElemKind k) {
  switch (k) {
  case ElemKind::F16:
    return NpyDType::F16;
  case ElemKind::BF16:
  case ElemKind::F32:
    return NpyDType::F32;
  case ElemKind::F64:
    return NpyDType::F64;
  case ElemKind::I1:
    return NpyDType::Bool;
  case ElemKind::I8:
    return NpyDType::I8;
  case ElemKind::I16:
    return NpyDType::I16;
  case ElemKind::I32:
    return NpyDType::I32;
  case ElemKind::I64:
  case ElemKind::Index:
    return NpyDType::I64;
  case ElemKind::U8:
  case ElemKind::F4E2M1FN:
  case ElemKind::F8E4M3FN:
  case ElemKind::F8E8M0FNU:
    return NpyDType::U8;
  case ElemKind::U16:
    return NpyDType::U16;
  case ElemKind::U32:
    return NpyDType::U32;
  case ElemKind::U64:
    return NpyDType::U64;
  }
  return NpyDType::F32;
}

/// Decode table of an 8-bit (or 4-bit) APFloat format.
static const std::vector<double> &packedDecodeTable(const ElemInfo &e) {
  static std::map<ElemKind, std::vector<double>> tables;
  std::vector<double> &table = tables[e.kind];
  if (!table.empty())
    return table;
  const llvm::fltSemantics &sem = cast<FloatType>(e.type).getFloatSemantics();
  unsigned bits = llvm::APFloat::getSizeInBits(sem);
  table.assign(256, std::numeric_limits<double>::quiet_NaN());
  for (unsigned code = 0; code < (1u << bits); ++code) {
    llvm::APFloat v(sem, llvm::APInt(bits, code));
    if (v.isNaN())
      continue;
    bool losesInfo = false;
    (void)v.convert(llvm::APFloat::IEEEdouble(),
                    llvm::APFloat::rmNearestTiesToEven, &losesInfo);
    table[code] = v.convertToDouble();
  }
  return table;
}

/// Encode a double into an 8-bit (or 4-bit) APFloat format: round to
/// nearest even, finite values beyond the range saturate to the largest
/// finite value (these formats have no infinity), NaN stays NaN (f4E2M1FN,
/// which has no NaN, encodes it as +0).
static uint8_t packedEncode(const ElemInfo &e, double value) {
  const llvm::fltSemantics &sem = cast<FloatType>(e.type).getFloatSemantics();
  llvm::APFloat v(value);
  bool losesInfo = false;
  (void)v.convert(sem, llvm::APFloat::rmNearestTiesToEven, &losesInfo);
  if (std::isfinite(value) && (v.isNaN() || v.isInfinity()) &&
      !(value < 0 && !llvm::APFloat::semanticsHasSignedRepr(sem)))
    v = llvm::APFloat::getLargest(sem, /*Negative=*/value < 0);
  if (std::isnan(value) && !llvm::APFloat::semanticsHasNaN(sem))
    v = llvm::APFloat::getZero(sem);
  if (value < 0 && !llvm::APFloat::semanticsHasSignedRepr(sem))
    v = llvm::APFloat::getNaN(sem);
  return static_cast<uint8_t>(v.bitcastToAPInt().getZExtValue());
}

//===----------------------------------------------------------------------===//
// Host tensors
//===----------------------------------------------------------------------===//

namespace {
/// A dense row-major host buffer in the element layout the compiled code
/// uses, 64-byte aligned.
struct HostTensor {
  ElemInfo elem{ElemKind::F32, 4, Type()};
  SmallVector<int64_t> shape;
  std::unique_ptr<uint8_t, decltype(&std::free)> storage{nullptr, &std::free};

  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  size_t byteSize() const {
    return static_cast<size_t>(numElements()) * elem.bytes;
  }
  uint8_t *data() { return storage.get(); }
  const uint8_t *data() const { return storage.get(); }

  void allocate() {
    size_t bytes = std::max<size_t>(64, (byteSize() + 63) / 64 * 64);
    storage.reset(static_cast<uint8_t *>(std::aligned_alloc(64, bytes)));
    if (storage)
      std::memset(storage.get(), 0, bytes);
  }

  /// Element i as a double (for statistics and comparisons).
  double get(int64_t i) const {
    const uint8_t *p = data() + static_cast<size_t>(i) * elem.bytes;
    auto load = [p](auto tag) {
      decltype(tag) v;
      std::memcpy(&v, p, sizeof(v));
      return v;
    };
    switch (elem.kind) {
    case ElemKind::F16:
      return halfBitsToFloat(load(uint16_t()));
    case ElemKind::BF16:
      return bf16BitsToFloat(load(uint16_t()));
    case ElemKind::F32:
      return load(float());
    case ElemKind::F64:
      return load(double());
    case ElemKind::I1:
      return load(uint8_t()) & 1;
    case ElemKind::I8:
      return load(int8_t());
    case ElemKind::I16:
      return load(int16_t());
    case ElemKind::I32:
      return load(int32_t());
    case ElemKind::I64:
    case ElemKind::Index:
      return static_cast<double>(load(int64_t()));
    case ElemKind::U8:
      return load(uint8_t());
    case ElemKind::U16:
      return load(uint16_t());
    case ElemKind::U32:
      return load(uint32_t());
    case ElemKind::U64:
      return static_cast<double>(load(uint64_t()));
    case ElemKind::F4E2M1FN:
    case ElemKind::F8E4M3FN:
    case ElemKind::F8E8M0FNU:
      return packedDecodeTable(elem)[load(uint8_t())];
    }
    return 0.0;
  }

  /// Store a double, rounding to the element type (see --help).
  void set(int64_t i, double v) {
    uint8_t *p = data() + static_cast<size_t>(i) * elem.bytes;
    auto store = [p](auto value) { std::memcpy(p, &value, sizeof(value)); };
    auto toInt = [v](double lo, double hi) {
      if (std::isnan(v))
        return 0.0;
      return std::min(hi, std::max(lo, std::nearbyint(v)));
    };
    switch (elem.kind) {
    case ElemKind::F16:
      return store(floatToHalfBits(static_cast<float>(v)));
    case ElemKind::BF16:
      return store(floatToBF16Bits(static_cast<float>(v)));
    case ElemKind::F32:
      return store(static_cast<float>(v));
    case ElemKind::F64:
      return store(v);
    case ElemKind::I1:
      return store(static_cast<uint8_t>(v != 0.0 && !std::isnan(v)));
    case ElemKind::I8:
      return store(static_cast<int8_t>(toInt(-128, 127)));
    case ElemKind::I16:
      return store(static_cast<int16_t>(toInt(-32768, 32767)));
    case ElemKind::I32:
      return store(static_cast<int32_t>(toInt(-2147483648.0, 2147483647.0)));
    case ElemKind::I64:
    case ElemKind::Index: {
      double r = toInt(-9223372036854775808.0, 9223372036854775807.0);
      // 2^63 itself does not fit: clamp to the largest int64.
      return store(r >= 9223372036854775807.0
                       ? std::numeric_limits<int64_t>::max()
                       : static_cast<int64_t>(r));
    }
    case ElemKind::U8:
      return store(static_cast<uint8_t>(toInt(0, 255)));
    case ElemKind::U16:
      return store(static_cast<uint16_t>(toInt(0, 65535)));
    case ElemKind::U32:
      return store(static_cast<uint32_t>(toInt(0, 4294967295.0)));
    case ElemKind::U64: {
      double r = toInt(0, 18446744073709551615.0);
      return store(r >= 18446744073709551615.0
                       ? std::numeric_limits<uint64_t>::max()
                       : static_cast<uint64_t>(r));
    }
    case ElemKind::F4E2M1FN:
    case ElemKind::F8E4M3FN:
    case ElemKind::F8E8M0FNU:
      return store(packedEncode(elem, v));
    }
  }

  /// Store an exact integer (const:V on integer types).
  void setInt(int64_t i, int64_t v) {
    uint8_t *p = data() + static_cast<size_t>(i) * elem.bytes;
    switch (elem.kind) {
    case ElemKind::I64:
    case ElemKind::Index:
    case ElemKind::U64:
      std::memcpy(p, &v, 8);
      return;
    default:
      set(i, static_cast<double>(v));
    }
  }
};

/// A function argument or result and what is bound to it.
struct TensorSlot {
  unsigned index = 0;
  std::string name;     // attnqat.name, or argN / resultN
  bool hasName = false; // name came from attnqat.name
  Type type;            // tensor type, or a scalar type
  bool isTensor = true;
  ElemInfo elem{ElemKind::F32, 4, Type()};
  std::string source; // where the data came from (inputs) / went (results)
  HostTensor value;
};
} // namespace

static std::string shapeString(ArrayRef<int64_t> shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    s += ShapedType::isDynamic(shape[i]) ? "?" : std::to_string(shape[i]);
  }
  if (shape.size() == 1)
    s += ",";
  return s + ")";
}

//===----------------------------------------------------------------------===//
// Input specs
//===----------------------------------------------------------------------===//

namespace {
struct GeneratorSpec {
  enum class Kind { Npy, Random, Const } kind = Kind::Random;
  std::string path; // Npy
  RandomSpec random;
  double constValue = 0.0;
  std::optional<int64_t> constInt; // exact integer constants
  std::optional<uint64_t> seed;
  std::optional<SmallVector<int64_t>> shape;
  std::string text; // as given
};
} // namespace

static Expected<double> parseNumber(StringRef key, StringRef value) {
  std::string s = value.trim().str();
  if (s.empty())
    return makeError("missing value for '" + key + "'");
  char *end = nullptr;
  errno = 0;
  double d = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size())
    return makeError("'" + value + "' is not a number (for '" + key + "')");
  return d;
}

static Expected<SmallVector<int64_t>> parseShapeValue(StringRef value) {
  SmallVector<int64_t> shape;
  if (value.empty())
    return makeError("empty shape= value (use e.g. shape=4x128)");
  SmallVector<StringRef> dims;
  value.split(dims, 'x');
  for (StringRef d : dims) {
    int64_t v;
    if (d.getAsInteger(10, v) || v < 0)
      return makeError("bad shape '" + value +
                       "': expected non-negative sizes separated by 'x', "
                       "e.g. shape=4x128");
    shape.push_back(v);
  }
  return shape;
}

/// Parse a SPEC of --input (see the overview).
static Expected<GeneratorSpec> parseSpec(StringRef text) {
  GeneratorSpec spec;
  spec.text = text.str();
  static const char *const kKinds =
      "normal, uniform, zeros, ones, const, npy (or a path ending in .npy)";
  StringRef kind = text, params;
  bool hasColon = false;
  if (size_t colon = text.find(':'); colon != StringRef::npos) {
    kind = text.substr(0, colon);
    params = text.substr(colon + 1);
    hasColon = true;
  }
  bool looksLikeKind =
      !kind.empty() && llvm::all_of(kind, [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '_';
      });
  static const std::set<std::string> known = {"normal", "uniform", "zeros",
                                              "ones",   "const",   "npy"};
  if (!looksLikeKind || (!hasColon && !known.count(kind.str()))) {
    // A path.
    if (text.empty())
      return makeError("empty input spec");
    spec.kind = GeneratorSpec::Kind::Npy;
    spec.path = text.str();
    return spec;
  }
  if (!known.count(kind.str()))
    return makeError("unknown generator '" + kind + "' in '" + text +
                     "'; expected one of " + kKinds);
  if (kind == "npy") {
    if (params.empty())
      return makeError("npy: needs a path, e.g. npy:data/q.npy");
    spec.kind = GeneratorSpec::Kind::Npy;
    spec.path = params.str();
    return spec;
  }

  // key=value list.
  SmallVector<StringRef> items;
  if (!params.empty())
    params.split(items, ',');
  std::set<std::string> allowed = {"seed", "shape"};
  if (kind == "normal") {
    spec.kind = GeneratorSpec::Kind::Random;
    spec.random = RandomSpec::normal(0.0, 1.0);
    allowed.insert({"mean", "std", "outliers", "outlier-scale"});
  } else if (kind == "uniform") {
    spec.kind = GeneratorSpec::Kind::Random;
    spec.random = RandomSpec::uniform(-1.0, 1.0);
    allowed.insert({"lo", "hi", "outliers", "outlier-scale"});
  } else if (kind == "zeros" || kind == "ones") {
    spec.kind = GeneratorSpec::Kind::Const;
    spec.constValue = kind == "ones" ? 1.0 : 0.0;
    spec.constInt = kind == "ones" ? 1 : 0;
  } else { // const
    spec.kind = GeneratorSpec::Kind::Const;
    allowed.insert("value");
    if (items.empty() || items.front().trim().empty())
      return makeError("const: needs a value, e.g. const:128 or const:0.5");
  }
  bool haveValue = false;
  for (auto [i, item] : llvm::enumerate(items)) {
    item = item.trim();
    if (item.empty())
      return makeError("empty parameter in '" + text + "'");
    StringRef key, value;
    if (item.contains('=')) {
      std::tie(key, value) = item.split('=');
      key = key.trim();
      value = value.trim();
    } else if (kind == "const" && i == 0) {
      key = "value";
      value = item;
    } else {
      return makeError("expected key=value, got '" + item + "' in '" + text +
                       "'");
    }
    if (!allowed.count(key.str())) {
      std::string list;
      for (const std::string &a : allowed)
        list += (list.empty() ? "" : ", ") + a;
      return makeError("unknown key '" + key + "' for " + kind +
                       " (allowed: " + list + ")");
    }
    if (key == "shape") {
      auto shape = parseShapeValue(value);
      if (!shape)
        return shape.takeError();
      spec.shape = *shape;
      continue;
    }
    if (key == "seed") {
      uint64_t s;
      if (value.getAsInteger(0, s))
        return makeError("seed must be a non-negative integer, got '" + value +
                         "'");
      spec.seed = s;
      continue;
    }
    auto number = parseNumber(key, value);
    if (!number)
      return number.takeError();
    if (key == "mean")
      spec.random.mean = *number;
    else if (key == "std")
      spec.random.std = *number;
    else if (key == "lo")
      spec.random.lo = *number;
    else if (key == "hi")
      spec.random.hi = *number;
    else if (key == "outliers")
      spec.random.outlierFraction = *number;
    else if (key == "outlier-scale")
      spec.random.outlierScale = *number;
    else if (key == "value") {
      spec.constValue = *number;
      int64_t exact;
      spec.constInt.reset();
      if (!value.getAsInteger(10, exact))
        spec.constInt = exact;
      haveValue = true;
    }
  }
  if (kind == "const" && !haveValue)
    return makeError("const: needs a value, e.g. const:128");
  if (spec.kind == GeneratorSpec::Kind::Random)
    if (Status s = validateRandomSpec(spec.random); !s.ok())
      return makeError(s.message() + " (in '" + text + "')");
  return spec;
}

static std::string describeSpec(const GeneratorSpec &spec, uint64_t seed) {
  switch (spec.kind) {
  case GeneratorSpec::Kind::Npy:
    return spec.path;
  case GeneratorSpec::Kind::Const:
    return spec.text;
  case GeneratorSpec::Kind::Random:
    return spec.text + " (seed " + std::to_string(seed) + ")";
  }
  return spec.text;
}

//===----------------------------------------------------------------------===//
// Materializing inputs
//===----------------------------------------------------------------------===//

/// The concrete shape of a slot: the type's static dims, dynamic ones from
/// `given` (an .npy shape or shape=).
static Expected<SmallVector<int64_t>>
resolveShape(const TensorSlot &slot, std::optional<ArrayRef<int64_t>> given,
             StringRef what) {
  ArrayRef<int64_t> typeShape;
  if (auto t = dyn_cast<RankedTensorType>(slot.type))
    typeShape = t.getShape();
  if (!given) {
    if (llvm::any_of(typeShape, ShapedType::isDynamic))
      return makeError("argument " + std::to_string(slot.index) + " '" +
                       slot.name + "' has type " + typeToString(slot.type) +
                       " with dynamic dims: give them with shape=AxB... in "
                       "the generator or bind an .npy file");
    return SmallVector<int64_t>(typeShape);
  }
  auto mismatch = [&]() {
    return makeError("argument " + std::to_string(slot.index) + " '" +
                     slot.name + "': " + what + " has shape " +
                     shapeString(*given) + " but the argument type " +
                     typeToString(slot.type) + " needs " +
                     shapeString(typeShape));
  };
  if (given->size() != typeShape.size())
    return mismatch();
  for (auto [g, t] : llvm::zip(*given, typeShape))
    if (!ShapedType::isDynamic(t) && g != t)
      return mismatch();
  return SmallVector<int64_t>(given->begin(), given->end());
}

static Error materializeFromNpy(TensorSlot &slot, const std::string &path) {
  NpyArray array;
  if (Status s = readNpy(path, array); !s.ok())
    return makeError("argument " + std::to_string(slot.index) + " '" +
                     slot.name + "': " + s.message());
  SmallVector<int64_t> npyShape(array.shape.begin(), array.shape.end());
  auto shape = resolveShape(slot, ArrayRef<int64_t>(npyShape), path);
  if (!shape)
    return shape.takeError();
  SmallVector<NpyDType, 2> accepted = acceptedDTypes(slot.elem.kind);
  if (!llvm::is_contained(accepted, array.dtype)) {
    std::string list;
    for (NpyDType d : accepted)
      list += std::string(list.empty() ? "" : " or ") + npyDTypeName(d);
    return makeError("argument " + std::to_string(slot.index) + " '" +
                     slot.name + "': " + path + " has dtype " +
                     npyDTypeName(array.dtype) + " but the argument type " +
                     typeToString(slot.type) + " needs " + list);
  }
  slot.value.elem = slot.elem;
  slot.value.shape = *shape;
  slot.value.allocate();
  if (!slot.value.data())
    return makeError("out of memory for argument " + slot.name);
  int64_t n = slot.value.numElements();
  ElemKind k = slot.elem.kind;
  if (k == ElemKind::BF16 && array.dtype == NpyDType::F32) {
    for (int64_t i = 0; i < n; ++i)
      slot.value.set(i, array.as<float>()[i]);
  } else if (k == ElemKind::I1) {
    for (int64_t i = 0; i < n; ++i) {
      uint8_t b = array.as<uint8_t>()[i];
      if (b > 1)
        return makeError("argument " + std::to_string(slot.index) + " '" +
                         slot.name + "': " + path + " holds " +
                         std::to_string(b) + " at flat index " +
                         std::to_string(i) + "; an i1 argument takes 0 or 1");
      slot.value.data()[i] = b;
    }
  } else {
    // Same element size: raw copy (bf16 from uint16 bits, packed floats from
    // uint8 codes, integers of either signedness).
    if (k == ElemKind::F4E2M1FN)
      for (int64_t i = 0; i < n; ++i)
        if (array.as<uint8_t>()[i] > 0x0F)
          return makeError("argument " + std::to_string(slot.index) + " '" +
                           slot.name + "': " + path + " holds " +
                           std::to_string(array.as<uint8_t>()[i]) +
                           " at flat index " + std::to_string(i) +
                           "; f4E2M1FN codes are 0..15 (one per byte)");
    std::memcpy(slot.value.data(), array.data.data(), array.data.size());
  }
  slot.source = path;
  return Error::success();
}

static Error materializeFromSpec(TensorSlot &slot, const GeneratorSpec &spec) {
  if (spec.kind == GeneratorSpec::Kind::Npy)
    return materializeFromNpy(slot, spec.path);
  std::optional<ArrayRef<int64_t>> given;
  if (spec.shape)
    given = ArrayRef<int64_t>(*spec.shape);
  auto shape = resolveShape(slot, given, "shape=");
  if (!shape)
    return shape.takeError();
  slot.value.elem = slot.elem;
  slot.value.shape = *shape;
  slot.value.allocate();
  if (!slot.value.data())
    return makeError("out of memory for argument " + slot.name);
  int64_t n = slot.value.numElements();
  uint64_t seed = spec.seed ? *spec.seed : deriveSeed(seedOpt, slot.index);
  if (spec.kind == GeneratorSpec::Kind::Const) {
    bool intKind = !isa<FloatType>(slot.elem.type);
    for (int64_t i = 0; i < n; ++i) {
      if (intKind && spec.constInt)
        slot.value.setInt(i, *spec.constInt);
      else
        slot.value.set(i, spec.constValue);
    }
  } else {
    std::vector<double> values;
    if (Status s = generateRandom(spec.random, n, seed, values); !s.ok())
      return makeError("argument " + std::to_string(slot.index) + " '" +
                       slot.name + "': " + s.message());
    for (int64_t i = 0; i < n; ++i)
      slot.value.set(i, values[static_cast<size_t>(i)]);
  }
  slot.source = describeSpec(spec, seed);
  return Error::success();
}

//===----------------------------------------------------------------------===//
// Statistics and comparisons
//===----------------------------------------------------------------------===//

namespace {
struct Stats {
  double min = 0, max = 0, mean = 0, absmax = 0;
  int64_t nan = 0, inf = 0, count = 0;
};
} // namespace

static Stats computeStats(const HostTensor &t) {
  Stats s;
  double sum = 0;
  bool first = true;
  int64_t n = t.numElements();
  for (int64_t i = 0; i < n; ++i) {
    double v = t.get(i);
    if (std::isnan(v)) {
      ++s.nan;
      continue;
    }
    if (std::isinf(v))
      ++s.inf;
    if (first) {
      s.min = s.max = v;
      first = false;
    }
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
    s.absmax = std::max(s.absmax, std::fabs(v));
    sum += v;
    ++s.count;
  }
  s.mean = s.count ? sum / static_cast<double>(s.count) : 0.0;
  return s;
}

static std::string fmt(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

static void printSlot(llvm::raw_ostream &os, StringRef role,
                      const TensorSlot &slot) {
  Stats s = computeStats(slot.value);
  os << llvm::formatv("{0} {1} '{2}': {3} shape={4} dtype={5}", role,
                      slot.index, slot.name, typeToString(slot.type),
                      shapeString(slot.value.shape),
                      typeToString(slot.elem.type));
  os << " min=" << fmt(s.min) << " max=" << fmt(s.max)
     << " mean=" << fmt(s.mean) << " absmax=" << fmt(s.absmax)
     << " nan=" << s.nan << " inf=" << s.inf;
  if (!slot.source.empty())
    os << (role == "input" ? " <- " : " -> ") << slot.source;
  os << "\n";
}

namespace {
/// What comparison hooks see after the run.
struct RunRecord {
  ModuleOp originalModule; // the module on tensors, before lowering
  func::FuncOp entry;      // in originalModule
  std::vector<TensorSlot> *inputs;
  std::vector<TensorSlot> *results;
};

struct ComparisonReport {
  std::string resultName, referenceName;
  int64_t count = 0, nanMismatch = 0;
  double maxAbs = 0, maxRel = 0, rms = 0;
  bool checked = false, passed = true; // checked: a tolerance was applied
  int64_t violations = 0;
};

/// A hook computes comparisons of results against references. The --compare
/// flag is one; the float64 reference of attnqat attention ops will be
/// another (registered in main()).
using ComparisonHook = std::function<Error(const RunRecord &,
                                           std::vector<ComparisonReport> &)>;
} // namespace

static ComparisonReport compareValues(const HostTensor &out,
                                      const NpyArray &ref, double atol,
                                      double rtol) {
  ComparisonReport r;
  int64_t n = out.numElements();
  r.count = n;
  double sumSq = 0;
  r.checked = atol >= 0 || rtol >= 0;
  double a = std::max(atol, 0.0), rt = std::max(rtol, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    double o = out.get(i), e = ref.getAsDouble(i);
    if (std::isnan(o) || std::isnan(e)) {
      if (std::isnan(o) != std::isnan(e)) {
        ++r.nanMismatch;
        ++r.violations;
      }
      continue;
    }
    double diff = (o == e) ? 0.0 : std::fabs(o - e); // inf == inf
    if (std::isnan(diff))
      diff = std::numeric_limits<double>::infinity();
    r.maxAbs = std::max(r.maxAbs, diff);
    if (e != 0)
      r.maxRel = std::max(r.maxRel, diff / std::fabs(e));
    sumSq += diff * diff;
    if (r.checked && !(diff <= a + rt * std::fabs(e)))
      ++r.violations;
  }
  r.rms = n ? std::sqrt(sumSq / static_cast<double>(n)) : 0.0;
  r.passed = r.violations == 0;
  return r;
}

/// Find a result by index, resultN or attnqat.name.
static Expected<TensorSlot *> lookupResult(std::vector<TensorSlot> &results,
                                           StringRef key) {
  // An attnqat.name wins over the index and resultN spellings.
  for (TensorSlot &r : results)
    if (r.hasName && r.name == key)
      return &r;
  unsigned idx;
  StringRef rest = key;
  if (!key.getAsInteger(10, idx) ||
      (rest.consume_front("result") && !rest.getAsInteger(10, idx))) {
    if (idx < results.size())
      return &results[idx];
    return makeError("result index " + std::to_string(idx) +
                     " out of range: the entry has " +
                     std::to_string(results.size()) + " results");
  }
  std::string names;
  for (TensorSlot &r : results)
    names += (names.empty() ? "" : ", ") + r.name;
  return makeError("no result named '" + key + "' (results: " +
                   (names.empty() ? std::string("none") : names) + ")");
}

static ComparisonHook makeCompareFlagHook() {
  return [](const RunRecord &run,
            std::vector<ComparisonReport> &reports) -> Error {
    for (const std::string &spec : compareSpecs) {
      auto [key, path] = StringRef(spec).split('=');
      if (path.empty())
        return makeError("--compare expects KEY=REF.npy, got '" + spec + "'");
      auto slot = lookupResult(*run.results, key);
      if (!slot)
        return slot.takeError();
      NpyArray ref;
      if (Status s = readNpy(path.str(), ref); !s.ok())
        return makeError("--compare: " + s.message());
      SmallVector<int64_t> refShape(ref.shape.begin(), ref.shape.end());
      if (ArrayRef<int64_t>(refShape) != ArrayRef<int64_t>((*slot)->value.shape))
        return makeError("--compare: reference " + path + " has shape " +
                         shapeString(refShape) + " but result '" +
                         (*slot)->name + "' has shape " +
                         shapeString((*slot)->value.shape));
      ComparisonReport r =
          compareValues((*slot)->value, ref, compareAtol, compareRtol);
      r.resultName = (*slot)->name;
      r.referenceName = path.str();
      reports.push_back(r);
    }
    return Error::success();
  };
}

//===----------------------------------------------------------------------===//
// The memref ABI (lowering, JIT and calls: attnqat/JIT/JIT.h)
//===----------------------------------------------------------------------===//

/// Copy a returned memref (any strides) into a dense host tensor.
static Error copyResult(const uint8_t *field, TensorSlot &slot) {
  HostTensor &t = slot.value;
  t.elem = slot.elem;
  if (!slot.isTensor) {
    t.shape.clear();
    t.allocate();
    std::memcpy(t.data(), field, slot.elem.bytes);
    return Error::success();
  }
  int64_t rank = cast<RankedTensorType>(slot.type).getRank();
  MemRefView view = readMemRefDescriptor(field, rank);
  t.shape.assign(view.sizes.begin(), view.sizes.end());
  for (int64_t d : t.shape)
    if (d < 0)
      return makeError("result " + std::to_string(slot.index) +
                       " has a negative size");
  t.allocate();
  if (!t.data())
    return makeError("out of memory copying result " + slot.name);
  copyMemRef(view, t.data(), /*dstStrides=*/{}, slot.elem.bytes);
  return Error::success();
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

namespace {
using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

std::string sanitizeFileName(StringRef name) {
  std::string s = name.str();
  for (char &c : s)
    if (c == '/' || c == '\\' || c == '\0')
      c = '_';
  return s;
}

/// Slots for the arguments or results of `fn`.
Error collectSlots(func::FuncOp fn, bool results,
                   std::vector<TensorSlot> &slots) {
  ArrayRef<Type> types = results ? fn.getFunctionType().getResults()
                                 : fn.getFunctionType().getInputs();
  for (auto [i, type] : llvm::enumerate(types)) {
    TensorSlot slot;
    slot.index = i;
    StringAttr name = results ? fn.getResultAttrOfType<StringAttr>(i, "attnqat.name")
                              : fn.getArgAttrOfType<StringAttr>(i, "attnqat.name");
    slot.hasName = static_cast<bool>(name);
    slot.name = name ? name.getValue().str()
                     : (results ? "result" : "arg") + std::to_string(i);
    slot.type = type;
    Type elemType = type;
    if (auto tensor = dyn_cast<RankedTensorType>(type)) {
      elemType = tensor.getElementType();
      if (tensor.getEncoding())
        return makeError(std::string(results ? "result " : "argument ") +
                         std::to_string(i) + " has an encoded tensor type " +
                         typeToString(type) + ", which is not supported");
    } else if (isa<ShapedType>(type)) {
      return makeError(std::string(results ? "result " : "argument ") +
                       std::to_string(i) + " of @" + fn.getName() +
                       " has type " + typeToString(type) +
                       "; only ranked tensors and scalars are supported");
    } else {
      slot.isTensor = false;
    }
    auto elem = classifyElement(elemType);
    if (!elem)
      return makeError(std::string(results ? "result " : "argument ") +
                       std::to_string(i) + " of @" + fn.getName() +
                       " has unsupported element type " +
                       typeToString(elemType) +
                       " (supported: f16 bf16 f32 f64 i1 i8 i16 i32 i64 "
                       "ui8..ui64 index f4E2M1FN f8E4M3FN f8E8M0FNU)");
    slot.elem = *elem;
    slots.push_back(std::move(slot));
  }
  return Error::success();
}

struct Runner {
  MLIRContext &context;
  llvm::SourceMgr &sourceMgr;
  std::vector<ComparisonHook> comparisonHooks;

  Error run();
};
} // namespace

Error Runner::run() {
  auto tStart = Clock::now();

  // Parse.
  std::string errorMessage;
  auto file = openInputFile(inputFilename, &errorMessage);
  if (!file)
    return makeError("cannot read '" + inputFilename + "': " + errorMessage);
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module =
      parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(&context));
  if (!module)
    return makeError("failed to parse '" + inputFilename + "'");
  double parseMs = msSince(tStart);

  // Entry.
  SmallVector<func::FuncOp> funcs(module->getOps<func::FuncOp>());
  std::string funcList;
  for (func::FuncOp f : funcs)
    funcList += (funcList.empty() ? "@" : ", @") + f.getName().str();
  if (funcList.empty())
    funcList = "none";
  func::FuncOp entry;
  if (entryName.empty()) {
    SmallVector<func::FuncOp> candidates;
    for (func::FuncOp f : funcs)
      if (f.isPublic() && !f.isExternal())
        candidates.push_back(f);
    if (candidates.size() != 1)
      return makeError("no --entry given and the module has " +
                       std::to_string(candidates.size()) +
                       " public functions with a body; functions: " +
                       funcList);
    entry = candidates.front();
  } else {
    entry = module->lookupSymbol<func::FuncOp>(entryName);
    if (!entry)
      return makeError("entry function '" + entryName +
                       "' not found; functions in the module: " + funcList);
  }
  if (entry.isExternal())
    return makeError("entry function @" + entry.getName() +
                     " is a declaration without a body");
  std::string name = entry.getName().str();

  std::vector<TensorSlot> inputs, results;
  if (Error e = collectSlots(entry, /*results=*/false, inputs))
    return e;
  if (Error e = collectSlots(entry, /*results=*/true, results))
    return e;

  // Check --compare keys now rather than after a long run.
  for (const std::string &spec : compareSpecs) {
    auto [key, path] = StringRef(spec).split('=');
    if (path.empty())
      return makeError("--compare expects KEY=REF.npy, got '" + spec + "'");
    if (auto slot = lookupResult(results, key); !slot)
      return makeError("--compare '" + spec +
                       "': " + llvm::toString(slot.takeError()));
  }

  // Bind inputs.
  if (inputSpecs.size() > inputs.size())
    return makeError("wrong arity: " + std::to_string(inputSpecs.size()) +
                     " --input bindings for @" + name + ", which takes " +
                     std::to_string(inputs.size()) + " arguments");
  std::vector<std::optional<GeneratorSpec>> bound(inputs.size());
  for (const std::string &binding : inputSpecs) {
    auto [key, specText] = StringRef(binding).split('=');
    if (!StringRef(binding).contains('='))
      return makeError("--input expects KEY=SPEC, got '" + binding + "'");
    key = key.trim();
    std::optional<unsigned> idx;
    unsigned parsed;
    StringRef argKey = key;
    if (!key.getAsInteger(10, parsed) ||
        (argKey.consume_front("arg") && !argKey.getAsInteger(10, parsed)))
      idx = parsed;
    // An attnqat.name wins over the argN spelling.
    for (const TensorSlot &s : inputs)
      if (s.hasName && s.name == key)
        idx = s.index;
    if (!idx) {
      std::string names;
      for (const TensorSlot &s : inputs)
        if (s.hasName)
          names += (names.empty() ? "" : ", ") + s.name;
      return makeError("--input '" + binding + "': @" + name +
                       " has no argument named '" + key +
                       "' (use an index 0.." +
                       std::to_string(inputs.size() ? inputs.size() - 1 : 0) +
                       (names.empty() ? std::string()
                                      : " or one of: " + names) +
                       ")");
    }
    if (*idx >= inputs.size())
      return makeError("wrong arity: --input '" + binding +
                       "' binds argument " + std::to_string(*idx) + " but @" +
                       name + " takes " + std::to_string(inputs.size()) +
                       " arguments");
    if (bound[*idx])
      return makeError("argument " + std::to_string(*idx) + " '" +
                       inputs[*idx].name + "' is bound twice");
    auto spec = parseSpec(specText.trim());
    if (!spec)
      return makeError("--input '" + binding +
                       "': " + llvm::toString(spec.takeError()));
    bound[*idx] = std::move(*spec);
  }
  std::string missing;
  for (size_t i = 0; i < bound.size(); ++i) {
    if (bound[i])
      continue;
    if (randomMissing) {
      auto spec = parseSpec("normal");
      if (!spec)
        return spec.takeError();
      bound[i] = std::move(*spec);
      continue;
    }
    missing += llvm::formatv("\n  argument {0} '{1}': {2}", i, inputs[i].name,
                             typeToString(inputs[i].type))
                   .str();
  }
  if (!missing.empty())
    return makeError("@" + name + " takes " + std::to_string(inputs.size()) +
                     " arguments; no --input for:" + missing +
                     "\n(bind them with --input KEY=SPEC, or pass "
                     "--random-missing for normal(0,1) data)");
  for (auto [slot, spec] : llvm::zip(inputs, bound))
    if (Error e = materializeFromSpec(slot, *spec))
      return e;

  // Keep the module on tensors for comparison hooks.
  OwningOpRef<ModuleOp> original = module->clone();
  func::FuncOp originalEntry = original->lookupSymbol<func::FuncOp>(name);

  // Lower and JIT-compile (attnqat/JIT/JIT.h prepares the entry's C
  // interface and drops our attnqat.* annotations, recorded above).
  if (!AttnQATCPUPipelineOptions::createFromString(pipelineOptions))
    return makeError("bad --pipeline-options '" + pipelineOptions + "'");
  for (const std::string &lib : sharedLibs)
    if (!llvm::sys::fs::exists(lib))
      return makeError("--shared-libs: '" + lib + "' does not exist");
  JITOptions jitOptions;
  jitOptions.pipelineOptions = pipelineOptions;
  jitOptions.optLevel = optLevel;
  jitOptions.sharedLibs.assign(sharedLibs.begin(), sharedLibs.end());
  // Diagnostics go to the tool's handler, with source lines.
  jitOptions.captureDiagnostics = false;
  jitOptions.configurePassManager = [](PassManager &pm) {
    return applyPassManagerCLOptions(pm);
  };
  if (printIRAfterLowering)
    jitOptions.onLowered = [](ModuleOp lowered) {
      lowered.print(llvm::outs());
      llvm::outs() << "\n";
    };
  auto executable = JITExecutable::compile(*module, {name}, jitOptions);
  if (!executable)
    return executable.takeError();
  const JITEntry &abi = (*executable)->getEntries().front();
  double lowerMs = (*executable)->getTimings().loweringMs;
  double jitMs = (*executable)->getTimings().jitMs;

  // Arguments: memref descriptors of the host tensors, or scalar values.
  std::vector<SmallVector<int64_t, 11>> descriptors;
  descriptors.reserve(inputs.size());
  for (TensorSlot &in : inputs)
    if (in.isTensor)
      descriptors.push_back(
          makeMemRefDescriptor(in.value.data(), in.value.shape));
  std::vector<void *> argPointers;
  size_t nextDescriptor = 0;
  for (TensorSlot &in : inputs)
    argPointers.push_back(in.isTensor ? descriptors[nextDescriptor++].data()
                                      : static_cast<void *>(in.value.data()));

  std::vector<uint8_t> resultStorage(std::max<size_t>(abi.resultsSize, 16), 0);
  std::vector<double> runMs;
  for (unsigned rep = 0; rep < repeat; ++rep) {
    std::fill(resultStorage.begin(), resultStorage.end(), 0);
    auto tRun = Clock::now();
    if (Error error = (*executable)->invokePacked(abi, argPointers, resultStorage.data()))
      return error;
    runMs.push_back(msSince(tRun));
    if (rep + 1 < repeat)
      JITExecutable::freeResults(abi, resultStorage.data());
  }
  for (auto [r, f] : llvm::zip(results, abi.results))
    if (Error e = copyResult(resultStorage.data() + f.offset, r)) {
      JITExecutable::freeResults(abi, resultStorage.data());
      return e;
    }
  JITExecutable::freeResults(abi, resultStorage.data());

  // Write results.
  if (!outputDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(outputDir))
      return makeError("cannot create --output-dir '" + outputDir +
                       "': " + ec.message());
    for (TensorSlot &r : results) {
      std::string fileName = r.hasName
                                 ? sanitizeFileName(r.name)
                                 : name + ".result" + std::to_string(r.index);
      llvm::SmallString<256> path(outputDir);
      llvm::sys::path::append(path, fileName + ".npy");
      NpyArray array(outputDType(r.elem.kind),
                     std::vector<int64_t>(r.value.shape.begin(),
                                          r.value.shape.end()));
      int64_t n = r.value.numElements();
      if (r.elem.kind == ElemKind::BF16) {
        for (int64_t i = 0; i < n; ++i)
          array.as<float>()[i] = static_cast<float>(r.value.get(i));
      } else {
        std::memcpy(array.data.data(), r.value.data(), array.data.size());
      }
      if (Status s = writeNpy(path.str().str(), array); !s.ok())
        return makeError(s.message());
      r.source = path.str().str();
    }
  }

  // Summary.
  llvm::raw_ostream &os = llvm::outs();
  os << "entry @" << name << " (" << inputs.size() << " inputs, "
     << results.size() << " results)\n";
  for (const TensorSlot &in : inputs)
    printSlot(os, "input", in);
  for (const TensorSlot &r : results)
    printSlot(os, "result", r);

  // Comparisons.
  RunRecord record{*original, originalEntry, &inputs, &results};
  std::vector<ComparisonReport> reports;
  for (ComparisonHook &hook : comparisonHooks)
    if (Error e = hook(record, reports))
      return e;
  bool allPassed = true;
  if (referenceCheck) {
    auto view = [](const std::vector<TensorSlot> &slots) {
      std::vector<::attnqat::run::Tensor> out;
      for (const TensorSlot &slot : slots)
        out.push_back({std::vector<int64_t>(slot.value.shape.begin(),
                                            slot.value.shape.end()),
                       [&slot](int64_t i) { return slot.value.get(i); }});
      return out;
    };
    ::attnqat::run::ReferenceOptions refOptions;
    refOptions.tolerance = referenceTolerance;
    // The lowering's key tile decides the forward's P frames.
    StringRef opts = pipelineOptions;
    if (size_t pos = opts.find("key-tile="); pos != StringRef::npos)
      opts.substr(pos + 9).take_while(llvm::isDigit).getAsInteger(10, refOptions.keyTile);
    auto refReports = ::attnqat::run::checkAgainstReference(
        originalEntry, view(inputs), view(results), refOptions, os);
    if (!refReports)
      return refReports.takeError();
    for (const auto &r : *refReports) {
      os << "reference '" << results[std::stoi(r.result)].name << "' ("
         << r.quantity << "): max_abs=" << fmt(r.maxAbs) << " rms=" << fmt(r.rms)
         << " max|ref|=" << fmt(r.refAbsMax) << " n=" << r.count
         << " nan_mismatch=" << r.nanMismatch;
      if (referenceTolerance >= 0)
        os << (r.passed ? " PASS" : " FAIL") << " (tolerance "
           << fmt(referenceTolerance) << " of max(max|ref|, 1))";
      os << "\n";
      allPassed &= r.passed;
    }
  }
  for (const ComparisonReport &r : reports) {
    os << "compare '" << r.resultName << "' vs " << r.referenceName
       << ": max_abs=" << fmt(r.maxAbs) << " max_rel=" << fmt(r.maxRel)
       << " rms=" << fmt(r.rms) << " n=" << r.count
       << " nan_mismatch=" << r.nanMismatch;
    if (r.checked) {
      os << (r.passed ? " PASS" : " FAIL") << " (atol="
         << fmt(std::max(0.0, compareAtol.getValue()))
         << " rtol=" << fmt(std::max(0.0, compareRtol.getValue())) << ", "
         << r.violations << " violations)";
      allPassed &= r.passed;
    }
    os << "\n";
  }

  double minRun = *std::min_element(runMs.begin(), runMs.end());
  double sumRun = 0;
  for (double t : runMs)
    sumRun += t;
  auto ms = [](double t) { return llvm::formatv("{0:f3}", t).str(); };
  os << "time: parse " << ms(parseMs) << " ms, lowering " << ms(lowerMs)
     << " ms, jit " << ms(jitMs) << " ms, run " << ms(minRun) << " ms";
  if (repeat > 1)
    os << " (min of " << repeat.getValue() << ", mean "
       << ms(sumRun / runMs.size()) << " ms)";
  os << "\n";
  os.flush();
  if (!allPassed)
    return makeError("comparison failed (see the compare lines above)");
  return Error::success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();

  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  registerAsmPrinterCLOptions();
  mlir::attnqat::registerAllPasses();
  registerAttnQATPipelines();
  // libLLVM registers hundreds of global options: --help shows ours,
  // --help-hidden everything (e.g. --mlir-print-ir-after-all).
  cl::HideUnrelatedOptions(runCategory);
  if (!cl::ParseCommandLineOptions(argc, argv, kOverview, &llvm::errs()))
    return 1;
  if (repeat == 0) {
    llvm::WithColor::error(llvm::errs(), "attnqat-run")
        << "--repeat must be at least 1\n";
    return 1;
  }
  if (optLevel > 3) {
    llvm::WithColor::error(llvm::errs(), "attnqat-run")
        << "--opt-level must be 0, 1, 2 or 3\n";
    return 1;
  }

  DialectRegistry registry;
  mlir::attnqat::registerAllDialects(registry);
  MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagHandler(sourceMgr, &context);

  Runner runner{context, sourceMgr, {}};
  runner.comparisonHooks.push_back(makeCompareFlagHook());
  // Further hooks (e.g. the float64 reference of attnqat attention ops) are
  // appended here.

  if (Error e = runner.run()) {
    llvm::WithColor::error(llvm::errs(), "attnqat-run")
        << llvm::toString(std::move(e)) << "\n";
    return 1;
  }
  return 0;
}
