/*===-- attnqat-c/JIT.h - JIT-compile and run attnqat modules -----*- C -*-===*\
|*                                                                            *|
|* Compile an attnqat module (or an attention described by a few numbers)    *|
|* for the host CPU and call it on caller-owned buffers. See docs/c-api.md.  *|
|*                                                                            *|
|* Conventions:                                                               *|
|*  - every function that can fail returns an attnqatStatus; on failure      *|
|*    attnqatGetLastErrorMessage() says why (per thread), and out-parameters *|
|*    are left null. Nothing aborts on bad input.                            *|
|*  - handles are small structs holding a pointer (MLIR C API style); the    *|
|*    caller destroys what it creates. A null handle is `{NULL}`.            *|
|*  - strings in are MlirStringRef (mlirStringRefCreateFromCString); strings *|
|*    out are valid while the object they come from lives.                   *|
|*  - targets: "cpu". "sm_90a", "sm_100a", "sm_120a" are recognized and give *|
|*    attnqatStatusUnsupported: GPU kernel generation is not implemented.    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef ATTNQAT_C_JIT_H
#define ATTNQAT_C_JIT_H

#include "mlir-c/IR.h"
#include "mlir-c/Support.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*===----------------------------------------------------------------------===
 * Status
 *===----------------------------------------------------------------------===*/

typedef enum attnqatStatus {
  attnqatStatusSuccess = 0,
  /* A null pointer or handle, an out-of-range value, a buffer that does not
   * match the entry's signature (arity, rank, sizes, element type). */
  attnqatStatusInvalidArgument = 1,
  /* Module or attribute text that does not parse. */
  attnqatStatusParseError = 2,
  /* An unknown entry function. */
  attnqatStatusNotFound = 3,
  /* A valid request this build cannot serve (GPU targets, mode fp4 specs). */
  attnqatStatusUnsupported = 4,
  /* Verification, lowering or JIT compilation failed. */
  attnqatStatusCompileError = 5,
} attnqatStatus;

/* "success", "invalid argument", ... */
MLIR_CAPI_EXPORTED const char *attnqatStatusGetName(attnqatStatus status);

/* The message of the last call on this thread that failed (empty when the
 * last call succeeded). Valid until the next attnqat call on this thread. */
MLIR_CAPI_EXPORTED const char *attnqatGetLastErrorMessage(void);

/*===----------------------------------------------------------------------===
 * Element types
 *===----------------------------------------------------------------------===*/

/* Element types at the C interface of a compiled entry. In memory i1,
 * f4E2M1FN, f8E4M3FN and f8E8M0FNU take one byte per element (codes), bf16
 * and f16 two bytes (raw bits), index eight. */
typedef enum attnqatElementType {
  attnqatElementTypeF16 = 0,
  attnqatElementTypeBF16,
  attnqatElementTypeF32,
  attnqatElementTypeF64,
  attnqatElementTypeI1,
  attnqatElementTypeI8,
  attnqatElementTypeI16,
  attnqatElementTypeI32,
  attnqatElementTypeI64,
  attnqatElementTypeUI8,
  attnqatElementTypeUI16,
  attnqatElementTypeUI32,
  attnqatElementTypeUI64,
  attnqatElementTypeIndex,
  attnqatElementTypeF4E2M1FN,
  attnqatElementTypeF8E4M3FN,
  attnqatElementTypeF8E8M0FNU,
} attnqatElementType;

/* Bytes of one element in memory (0 for an unknown value). */
MLIR_CAPI_EXPORTED size_t attnqatElementTypeGetByteSize(attnqatElementType type);
/* The MLIR spelling ("f32", "bf16", ...), or "" for an unknown value. */
MLIR_CAPI_EXPORTED const char *attnqatElementTypeGetName(attnqatElementType type);

/* A dynamic (`?`) size in attnqatJitValueInfo.shape. */
#define ATTNQAT_DYNAMIC_SIZE INT64_MIN

/*===----------------------------------------------------------------------===
 * Handles
 *===----------------------------------------------------------------------===*/

#define ATTNQAT_DEFINE_C_API_STRUCT(name, storage)                             \
  struct name {                                                                \
    storage *ptr;                                                              \
  };                                                                           \
  typedef struct name name

/* Compilation options (target, pipeline options, optimization level). */
ATTNQAT_DEFINE_C_API_STRUCT(attnqatJitOptions, void);
/* A compiled module: its entries, callable until destroyed. */
ATTNQAT_DEFINE_C_API_STRUCT(attnqatJitEngine, void);

#undef ATTNQAT_DEFINE_C_API_STRUCT

static inline bool attnqatJitOptionsIsNull(attnqatJitOptions options) {
  return !options.ptr;
}
static inline bool attnqatJitEngineIsNull(attnqatJitEngine engine) {
  return !engine.ptr;
}

/*===----------------------------------------------------------------------===
 * Options
 *===----------------------------------------------------------------------===*/

/* Defaults: target "cpu", no pipeline options, optimization level 3. */
MLIR_CAPI_EXPORTED attnqatJitOptions attnqatJitOptionsCreate(void);
MLIR_CAPI_EXPORTED void attnqatJitOptionsDestroy(attnqatJitOptions options);

/* The target; checked when compiling. */
MLIR_CAPI_EXPORTED attnqatStatus
attnqatJitOptionsSetTarget(attnqatJitOptions options, MlirStringRef target);
/* Options of attnqat-cpu-pipeline, e.g. "key-tile=32"; checked when
 * compiling. */
MLIR_CAPI_EXPORTED attnqatStatus attnqatJitOptionsSetPipelineOptions(
    attnqatJitOptions options, MlirStringRef pipelineOptions);
/* LLVM optimization level of the JIT, 0 to 3. */
MLIR_CAPI_EXPORTED attnqatStatus
attnqatJitOptionsSetOptLevel(attnqatJitOptions options, int optLevel);
/* A shared library the JIT resolves symbols from. */
MLIR_CAPI_EXPORTED attnqatStatus
attnqatJitOptionsAddSharedLibrary(attnqatJitOptions options, MlirStringRef path);

/*===----------------------------------------------------------------------===
 * Compiling
 *===----------------------------------------------------------------------===*/

/* Compiles `module` (left unchanged: a clone is lowered; its context gains
 * the dialects and translations the pipeline needs). `entry` names the
 * function to expose; an empty string exposes every public function with a
 * body. `options` may be a null handle (defaults). */
MLIR_CAPI_EXPORTED attnqatStatus
attnqatJitEngineCreateFromModule(MlirModule module, MlirStringRef entry,
                                 attnqatJitOptions options,
                                 attnqatJitEngine *engine);

/* Parses `source` (a module on tensors, in a context of its own) and
 * compiles it like attnqatJitEngineCreateFromModule. */
MLIR_CAPI_EXPORTED attnqatStatus
attnqatJitEngineCreateFromSource(MlirStringRef source, MlirStringRef entry,
                                 attnqatJitOptions options,
                                 attnqatJitEngine *engine);

/* One attention as a function (see attnqatJitCompileAttention). */
typedef struct attnqatAttentionSpec {
  /* Q: [batch, queryHeads, queryLength, headDim];
   * K, V: [batch, kvHeads, keyLength, headDim]; queryHeads % kvHeads == 0. */
  int64_t batch, queryHeads, kvHeads, queryLength, keyLength, headDim;
  /* Of Q, K, V, O, the mask and the gradients: F32, F16 or BF16. */
  attnqatElementType elementType;
  bool causal;
  /* An additive mask operand [maskBatch, maskHeads, M, N]; maskBatch and
   * maskHeads are 1 (broadcast) or 0 (the full batch / queryHeads). */
  bool mask;
  int64_t maskBatch, maskHeads;
  /* Per-batch key lengths (i32 [batch]): keys at or past it are masked. */
  bool keyLengths;
  /* "#attnqat.config<mode = qat>" (modes none, dropin, qat); NULL: qat. */
  const char *config;
  /* Also compute dQ, dK, dV from dO in the same function. */
  bool withBackward;
  /* Softmax scale; 0: 1/sqrt(headDim). */
  float scale;
  /* The entry's name; NULL: "attention". */
  const char *entryName;
} attnqatAttentionSpec;

/* Fills `spec` with defaults: 1 x 1 head, 1 query, 1 key, headDim 64, F32,
 * no mask, config NULL (qat), forward only, scale 0, entryName NULL. */
MLIR_CAPI_EXPORTED void attnqatAttentionSpecInit(attnqatAttentionSpec *spec);

/* Builds and compiles
 *   entry(q, k, v [, mask] [, key_lengths] [, do])
 *     -> (o, lse [, dq, dk, dv])
 * all tensors dense row-major; lse is f32 [batch, queryHeads, queryLength] in
 * the log2 domain. */
MLIR_CAPI_EXPORTED attnqatStatus
attnqatJitCompileAttention(const attnqatAttentionSpec *spec,
                           attnqatJitOptions options, attnqatJitEngine *engine);

MLIR_CAPI_EXPORTED void attnqatJitEngineDestroy(attnqatJitEngine engine);

/*===----------------------------------------------------------------------===
 * Signatures
 *===----------------------------------------------------------------------===*/

MLIR_CAPI_EXPORTED intptr_t attnqatJitEngineGetNumEntries(attnqatJitEngine engine);
/* The name of entry `pos` (empty for a bad handle or position). */
MLIR_CAPI_EXPORTED MlirStringRef
attnqatJitEngineGetEntryName(attnqatJitEngine engine, intptr_t pos);

MLIR_CAPI_EXPORTED attnqatStatus attnqatJitEngineGetSignature(
    attnqatJitEngine engine, MlirStringRef entry, intptr_t *numArguments,
    intptr_t *numResults);

/* One argument or result of an entry. */
typedef struct attnqatJitValueInfo {
  MlirStringRef name; /* attnqat.name, else argN / resultN */
  attnqatElementType elementType;
  bool isMemRef; /* a tensor (buffer); false: a scalar passed by value */
  intptr_t rank; /* 0 for scalars */
  const int64_t *shape; /* rank sizes, ATTNQAT_DYNAMIC_SIZE for `?` */
} attnqatJitValueInfo;

MLIR_CAPI_EXPORTED attnqatStatus
attnqatJitEngineGetArgumentInfo(attnqatJitEngine engine, MlirStringRef entry,
                                intptr_t pos, attnqatJitValueInfo *info);
MLIR_CAPI_EXPORTED attnqatStatus
attnqatJitEngineGetResultInfo(attnqatJitEngine engine, MlirStringRef entry,
                              intptr_t pos, attnqatJitValueInfo *info);

/*===----------------------------------------------------------------------===
 * Running
 *===----------------------------------------------------------------------===*/

/* A buffer the caller owns (or, for a result, one handed over to it). */
typedef struct attnqatJitBuffer {
  /* The first element (for scalars: the value). */
  void *data;
  intptr_t rank;
  /* `rank` sizes. */
  int64_t *sizes;
  /* `rank` strides in elements, or NULL for dense row-major. Arguments with
   * other strides are packed into a temporary copy. */
  int64_t *strides;
  attnqatElementType elementType;
  /* Results only: set when the result was handed over (see
   * attnqatJitEngineInvoke); release it with attnqatJitBufferFree. */
  void *allocated;
} attnqatJitBuffer;

/* Calls `entry` (may be empty when the engine has one entry) with
 * `numArguments` arguments and `numResults` results, which must match its
 * signature (count, element type, rank, static sizes). Arguments are only
 * read. Safe to call from several threads at once.
 * A result with `data` set receives a copy of the value (its `sizes` must
 * equal the computed sizes; `strides` as for arguments). A memref result
 * with `data == NULL` is handed over: `data`, `allocated` and the `sizes`
 * and `strides` arrays (which must hold `rank` entries) are filled in, and
 * the caller releases it with attnqatJitBufferFree. */
MLIR_CAPI_EXPORTED attnqatStatus attnqatJitEngineInvoke(
    attnqatJitEngine engine, MlirStringRef entry,
    const attnqatJitBuffer *arguments, intptr_t numArguments,
    attnqatJitBuffer *results, intptr_t numResults);

/* Frees a handed-over result and clears its `data` and `allocated`. */
MLIR_CAPI_EXPORTED void attnqatJitBufferFree(attnqatJitBuffer *buffer);

#ifdef __cplusplus
}
#endif

#endif /* ATTNQAT_C_JIT_H */
