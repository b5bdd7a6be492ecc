//===- JIT.h - Compile attnqat modules for the host and call them -*- C++ -*-===//
//
// The reusable core of attnqat-run, for embedders (ML frameworks, the C API):
//
//  * `JITExecutable::compile` lowers a module on tensors with
//    `attnqat-cpu-pipeline` and JIT-compiles it with mlir::ExecutionEngine;
//  * `JITExecutable::invoke` calls an entry through its `_mlir_ciface_`
//    wrapper with caller-owned buffers (the memref ABI of
//    attnqat/Pipelines/Pipelines.h), `freeResults` releases what it returned;
//  * `buildAttentionModule` / `compileAttention` build the attnqat module of
//    one attention (forward, or forward and backward in one function) from a
//    few numbers and a configuration string, then compile it.
//
// The compiled code's `memrefCopy` calls resolve to `attnqatMemrefCopy`
// (below), which the library registers with every engine.
//
// Targets: "cpu" (the host). The GPU chip names sm_90a, sm_100a and sm_120a
// are recognized and rejected with JITErrorCode::Unsupported: GPU kernel
// generation is not implemented.
//
// Errors are llvm::Error values holding a `JITError` (code + message); no
// function aborts on bad input.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_JIT_JIT_H
#define ATTNQAT_JIT_JIT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/Support/LLVM.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlir {
class PassManager;
class ExecutionEngine;
} // namespace mlir

namespace mlir::attnqat {

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

/// What went wrong, for callers that map errors to status codes.
enum class JITErrorCode {
  InvalidArgument = 1, ///< a null, out-of-range or inconsistent argument
  ParseError,          ///< module or attribute text that does not parse
  NotFound,            ///< unknown entry function
  Unsupported,         ///< a valid request this build cannot serve (GPU)
  CompileError,        ///< verification, lowering or JIT compilation failed
};

/// An llvm::ErrorInfo carrying a JITErrorCode and a message.
class JITError : public llvm::ErrorInfo<JITError> {
public:
  static char ID;
  JITError(JITErrorCode code, std::string message)
      : code(code), message(std::move(message)) {}
  JITErrorCode getCode() const { return code; }
  const std::string &getMessage() const { return message; }
  void log(llvm::raw_ostream &os) const override;
  std::error_code convertToErrorCode() const override;

private:
  JITErrorCode code;
  std::string message;
};

llvm::Error makeJITError(JITErrorCode code, const llvm::Twine &message);

/// Consumes `error` and returns its code (CompileError for errors that are
/// not JITErrors) and message.
std::pair<JITErrorCode, std::string> takeJITError(llvm::Error error);

//===----------------------------------------------------------------------===//
// The C interface of a compiled entry
//===----------------------------------------------------------------------===//

/// Element types at the C interface. In memory f4E2M1FN, f8E4M3FN,
/// f8E8M0FNU and i1 take one byte per element, index eight.
enum class JITElementType : uint8_t {
  F16, BF16, F32, F64,
  I1, I8, I16, I32, I64, // signless or signed
  UI8, UI16, UI32, UI64, // unsigned
  Index,
  F4E2M1FN, F8E4M3FN, F8E8M0FNU,
};

/// The JITElementType of an MLIR element type; nullopt if unsupported.
std::optional<JITElementType> getJITElementType(Type type);
/// Bytes of one element in memory.
size_t getJITElementByteSize(JITElementType type);
/// The MLIR spelling: "f32", "bf16", "ui8", "f4E2M1FN", ...
llvm::StringRef stringifyJITElementType(JITElementType type);

/// One argument or result of an entry at its C interface. A ranked tensor
/// becomes a memref descriptor {allocated, aligned, offset, sizes[rank],
/// strides[rank]} (identity layout); anything else is a scalar.
struct JITValue {
  std::string name;    ///< `attnqat.name` if present, else argN / resultN
  bool hasName = false;
  JITElementType elementType = JITElementType::F32;
  bool isMemRef = true;
  /// Static sizes, ShapedType::kDynamic for `?`; empty for scalars.
  llvm::SmallVector<int64_t, 4> shape;
  /// Layout of this value in the results struct (results only; for
  /// arguments: the layout of its descriptor or value).
  size_t size = 0, align = 1, offset = 0;

  int64_t getRank() const { return static_cast<int64_t>(shape.size()); }
};

/// The C interface of one entry function.
struct JITEntry {
  std::string name;
  llvm::SmallVector<JITValue, 4> arguments, results;
  /// Bytes (and alignment) of the storage that receives the results: a
  /// struct of descriptors / values in result order, or the single scalar.
  size_t resultsSize = 0, resultsAlign = 1;
  /// False when the entry has no result or returns one scalar by value.
  bool resultsByPointer = false;
};

//===----------------------------------------------------------------------===//
// Memref descriptors
//===----------------------------------------------------------------------===//

/// A memref descriptor as 64-bit words: {allocated, aligned, offset,
/// sizes[rank], strides[rank]}. Empty `strides` means row-major contiguous.
llvm::SmallVector<int64_t, 11>
makeMemRefDescriptor(void *data, llvm::ArrayRef<int64_t> sizes,
                     llvm::ArrayRef<int64_t> strides = {});

/// A view of a descriptor stored at `field` (e.g. in a results struct).
struct MemRefView {
  void *allocated = nullptr;
  void *aligned = nullptr;
  int64_t offset = 0;
  llvm::ArrayRef<int64_t> sizes, strides;
};
MemRefView readMemRefDescriptor(const void *field, int64_t rank);

/// Copies the elements of `src` (any strides) to `dst` (any strides, or
/// row-major when `dstStrides` is empty); element size `elementBytes`.
void copyMemRef(const MemRefView &src, void *dst,
                llvm::ArrayRef<int64_t> dstStrides, size_t elementBytes);

//===----------------------------------------------------------------------===//
// Compilation and invocation
//===----------------------------------------------------------------------===//

struct JITOptions {
  /// "cpu". sm_90a, sm_100a, sm_120a: JITErrorCode::Unsupported.
  std::string target = "cpu";
  /// Options of attnqat-cpu-pipeline, e.g. "key-tile=32 dealloc=true".
  std::string pipelineOptions;
  /// LLVM optimization level of the JIT (0-3).
  unsigned optLevel = 3;
  /// Shared libraries the JIT resolves symbols from.
  std::vector<std::string> sharedLibs;
  /// Collect the diagnostics of verification and lowering into the returned
  /// error's message. Off: they go to the context's handlers (attnqat-run
  /// prints them with source lines).
  bool captureDiagnostics = true;
  /// Called on the pass manager before the pipeline is added (e.g.
  /// mlir::applyPassManagerCLOptions).
  std::function<LogicalResult(PassManager &)> configurePassManager;
  /// Called with the lowered LLVM-dialect module before JIT compilation.
  std::function<void(ModuleOp)> onLowered;
};

/// Wall-clock times of `compile`, in milliseconds.
struct JITTimings {
  double loweringMs = 0, jitMs = 0;
};

/// A JIT-compiled module: its entries, callable through their C interfaces.
/// Independent of the MLIRContext it was compiled from. `invoke` may be
/// called from several threads at once.
class JITExecutable {
public:
  ~JITExecutable();
  JITExecutable(const JITExecutable &) = delete;
  JITExecutable &operator=(const JITExecutable &) = delete;

  /// Prepares `module` for the C interface (in place: the entries become
  /// public with `llvm.emit_c_interface`, their tensor arguments
  /// `bufferization.writable = false`, `attnqat.*` argument and result
  /// attributes are dropped), lowers it with attnqat-cpu-pipeline (in place)
  /// and JIT-compiles it. `entries` names the functions to expose; empty
  /// means every public function with a body. Adds to the module's context
  /// the dialects, interfaces and LLVM IR translations the pipeline needs.
  static llvm::Expected<std::unique_ptr<JITExecutable>>
  compile(ModuleOp module, llvm::ArrayRef<std::string> entries,
          const JITOptions &options = {});

  /// Parses `source` in a context of its own and compiles it.
  static llvm::Expected<std::unique_ptr<JITExecutable>>
  compileSource(llvm::StringRef source, llvm::ArrayRef<std::string> entries,
                const JITOptions &options = {});

  llvm::ArrayRef<JITEntry> getEntries() const { return entries; }
  const JITEntry *lookupEntry(llvm::StringRef name) const;
  const JITTimings &getTimings() const { return timings; }

  /// Calls `entry` (one of getEntries()). `arguments[i]` points at the
  /// memref descriptor of argument i, or at its value for a scalar;
  /// `results` points at `entry.resultsSize` bytes (aligned to
  /// `resultsAlign`) that receive the results. Every returned buffer
  /// belongs to the caller: release them with freeResults. No checking of
  /// the arguments here; the lowered code checks that the dynamic extents of
  /// each attnqat op's operands agree, and a mismatch comes back as an
  /// InvalidArgument error (the results are then not written, and buffers
  /// the call allocated before it are lost).
  llvm::Error invokePacked(const JITEntry &entry, llvm::ArrayRef<void *> arguments,
                           void *results) const;

  /// invokePacked after checking that `entry` exists and the arity.
  llvm::Error invoke(llvm::StringRef entry, llvm::ArrayRef<void *> arguments,
                     void *results) const;

  /// free()s the buffers of the memref results stored in `results` by one
  /// call of `entry`, once per distinct allocation.
  static void freeResults(const JITEntry &entry, void *results);

private:
  JITExecutable();
  std::unique_ptr<ExecutionEngine> engine;
  llvm::SmallVector<JITEntry, 1> entries;
  llvm::SmallVector<void (*)(void **), 1> wrappers; // parallel to entries
  JITTimings timings;
};

/// Whether `target` is accepted (cpu), or the error saying why not.
llvm::Error checkJITTarget(llvm::StringRef target);

//===----------------------------------------------------------------------===//
// Attention graphs
//===----------------------------------------------------------------------===//

/// One attention, forward or forward and backward, as a function
///
///   func.func @<entryName>(%q: [B, Hq, M, D], %k: [B, Hkv, N, D],
///                          %v: [B, Hkv, N, D]
///                          [, %mask: [maskBatch, maskHeads, M, N]]
///                          [, %key_lengths: tensor<Bxi32>]
///                          [, %do: [B, Hq, M, D]])
///       -> (O: [B, Hq, M, D], LSE: [B, Hq, M] f32
///           [, dQ: [B, Hq, M, D], dK: [B, Hkv, N, D], dV: [B, Hkv, N, D]])
///
/// with `attnqat.name`s q, k, v, mask, key_lengths, do / o, lse, dq, dk, dv.
/// LSE is in the log2 domain (see attnqat.attention).
struct AttentionSpec {
  int64_t batch = 1, queryHeads = 1, kvHeads = 1;
  int64_t queryLength = 1, keyLength = 1, headDim = 64;
  /// Element type of Q, K, V, O, the mask and the gradients: f32, f16, bf16.
  std::string elementType = "f32";
  bool causal = false;
  /// An additive mask operand of shape [maskBatch, maskHeads, M, N].
  bool mask = false;
  /// Per-batch key lengths (i32): keys at or past the length are masked.
  bool keyLengths = false;
  /// The configuration attribute, e.g. "#attnqat.config<mode = qat>" (modes
  /// none, dropin, qat; fp4 takes pre-quantized operands and is refused).
  std::string config = "#attnqat.config<mode = qat>";
  /// Also compute dQ, dK, dV from dO in the same function.
  bool withBackward = false;
  /// Mask broadcast: 1, or 0 for the full B / Hq.
  int64_t maskBatch = 0, maskHeads = 0;
  /// Softmax scale; default 1/sqrt(D).
  std::optional<float> scale;
  std::string entryName = "attention";
};

/// Builds the module of `spec` in `context` (verified).
llvm::Expected<OwningOpRef<ModuleOp>>
buildAttentionModule(MLIRContext &context, const AttentionSpec &spec);

/// buildAttentionModule in a context of its own, then compile.
llvm::Expected<std::unique_ptr<JITExecutable>>
compileAttention(const AttentionSpec &spec, const JITOptions &options = {});

} // namespace mlir::attnqat

/// `memrefCopy` of the MLIR C runner utils ABI (a non-contiguous memref.copy
/// calls it): copies `src` to `dst`, both unranked descriptors {rank, ranked
/// descriptor *}. Registered with every JITExecutable; exported for
/// embedders that run the lowered code themselves.
extern "C" void attnqatMemrefCopy(int64_t elementSize, void *src, void *dst);

#endif // ATTNQAT_JIT_JIT_H
