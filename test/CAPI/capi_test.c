/*===- capi_test.c - The attnqat C API, end to end -------------------------===*\
 *
 * A plain C program against libAttnQATCAPI.so:
 *  1. a context with the attnqat dialect registered through its handle;
 *  2. an attnqat module parsed with the MLIR C API;
 *  3. a pass pipeline run through the C API (attnqat-attach-qat), textual
 *     and through the generated mlirCreateAttnQAT... constructor;
 *  4. the attached module JIT-compiled from its MlirModule and run;
 *  5. an attention graph (mode none, forward + backward, GQA, causal, mask,
 *     key lengths) compiled through attnqat-c/JIT.h and run on buffers this
 *     program owns (one argument strided, one result handed over), checked
 *     against the naive implementation below;
 *  6. the error paths: every bad input is a status and a message.
 *
 * Prints one "PASS"/"FAIL" line per check; exits non-zero on any failure.
\*===----------------------------------------------------------------------===*/

#include "attnqat-c/Dialect.h"
#include "attnqat-c/JIT.h"
#include "mlir-c/Dialect/Func.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "mlir-c/Support.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

static void check(int ok, const char *what) {
  printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
  if (!ok) {
    ++failures;
    printf("  last error: %s\n", attnqatGetLastErrorMessage());
  }
  fflush(stdout);
}

/* The status is `expected` and the message contains `needle`. */
static void checkError(attnqatStatus status, attnqatStatus expected,
                       const char *needle, const char *what) {
  const char *message = attnqatGetLastErrorMessage();
  int ok = status == expected && strstr(message, needle) != NULL;
  printf("%s: %s -> %s: %s\n", ok ? "PASS" : "FAIL", what,
         attnqatStatusGetName(status), message);
  if (!ok) {
    ++failures;
    printf("  expected %s containing '%s'\n", attnqatStatusGetName(expected),
           needle);
  }
  fflush(stdout);
}

static MlirStringRef str(const char *s) {
  return mlirStringRefCreateFromCString(s);
}

/*===----------------------------------------------------------------------===
 * Data and the naive reference
 *===----------------------------------------------------------------------===*/

static uint64_t rngState = 12345;
static float uniform(void) { /* in [-1, 1) */
  rngState = rngState * 6364136223846793005ull + 1442695040888963407ull;
  return (float)((double)(rngState >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}
static float *randomArray(size_t n) {
  float *a = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; ++i)
    a[i] = uniform();
  return a;
}

typedef struct Problem {
  int64_t B, Hq, Hkv, M, N, D;
  int causal;
  const float *mask; /* [B, 1, M, N] or NULL */
  const int32_t *lens; /* [B] or NULL */
  float scale;
} Problem;

/* Mode none attention, forward and backward, in double. q, o, dO, dq:
 * [B, Hq, M, D]; k, v, dk, dv: [B, Hkv, N, D]; lse: [B, Hq, M] in log2. */
static void naiveAttention(const Problem *p, const float *q, const float *k,
                           const float *v, const float *dO, double *o,
                           double *lse, double *dq, double *dk, double *dv) {
  int64_t B = p->B, Hq = p->Hq, Hkv = p->Hkv, M = p->M, N = p->N, D = p->D;
  double *prob = malloc(N * sizeof(double));
  memset(dk, 0, B * Hkv * N * D * sizeof(double));
  memset(dv, 0, B * Hkv * N * D * sizeof(double));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h) {
      int64_t kh = h / (Hq / Hkv);
      for (int64_t i = 0; i < M; ++i) {
        const float *qi = q + ((b * Hq + h) * M + i) * D;
        double mx = -INFINITY;
        for (int64_t j = 0; j < N; ++j) {
          int valid = (!p->causal || j <= i) && (!p->lens || j < p->lens[b]);
          if (!valid) {
            prob[j] = -INFINITY;
            continue;
          }
          const float *kj = k + ((b * Hkv + kh) * N + j) * D;
          double s = 0;
          for (int64_t d = 0; d < D; ++d)
            s += (double)qi[d] * kj[d];
          s *= p->scale;
          if (p->mask)
            s += p->mask[(b * M + i) * N + j];
          prob[j] = s;
          if (s > mx)
            mx = s;
        }
        double l = 0;
        for (int64_t j = 0; j < N; ++j)
          l += prob[j] == -INFINITY ? 0.0 : exp(prob[j] - mx);
        for (int64_t j = 0; j < N; ++j)
          prob[j] = prob[j] == -INFINITY ? 0.0 : exp(prob[j] - mx) / l;
        lse[(b * Hq + h) * M + i] = (mx + log(l)) / log(2.0);
        double *oi = o + ((b * Hq + h) * M + i) * D;
        for (int64_t d = 0; d < D; ++d) {
          double acc = 0;
          for (int64_t j = 0; j < N; ++j)
            acc += prob[j] * v[((b * Hkv + kh) * N + j) * D + d];
          oi[d] = acc;
        }
        /* Backward. */
        const float *gi = dO + ((b * Hq + h) * M + i) * D;
        double Di = 0;
        for (int64_t d = 0; d < D; ++d)
          Di += gi[d] * oi[d];
        double *dqi = dq + ((b * Hq + h) * M + i) * D;
        memset(dqi, 0, D * sizeof(double));
        for (int64_t j = 0; j < N; ++j) {
          if (prob[j] == 0.0)
            continue;
          const float *vj = v + ((b * Hkv + kh) * N + j) * D;
          const float *kj = k + ((b * Hkv + kh) * N + j) * D;
          double dp = 0;
          for (int64_t d = 0; d < D; ++d)
            dp += (double)gi[d] * vj[d];
          double ds = prob[j] * (dp - Di);
          double *dkj = dk + ((b * Hkv + kh) * N + j) * D;
          double *dvj = dv + ((b * Hkv + kh) * N + j) * D;
          for (int64_t d = 0; d < D; ++d) {
            dqi[d] += ds * kj[d] * p->scale;
            dkj[d] += ds * qi[d] * p->scale;
            dvj[d] += prob[j] * gi[d];
          }
        }
      }
    }
  free(prob);
}

/* max |got - ref| / max(max |ref|, 1). */
static double relError(const float *got, const double *ref, size_t n) {
  double err = 0, scale = 1;
  for (size_t i = 0; i < n; ++i) {
    double e = fabs((double)got[i] - ref[i]);
    if (!(e <= err))
      err = e; /* also catches NaN */
    if (fabs(ref[i]) > scale)
      scale = fabs(ref[i]);
  }
  return err / scale;
}

static attnqatJitBuffer buffer(void *data, int64_t rank, int64_t *sizes,
                               attnqatElementType type) {
  attnqatJitBuffer b;
  memset(&b, 0, sizeof(b));
  b.data = data;
  b.rank = rank;
  b.sizes = sizes;
  b.elementType = type;
  return b;
}

/*===----------------------------------------------------------------------===
 * 1-4: dialect, parsing, passes, JIT from an MlirModule
 *===----------------------------------------------------------------------===*/

static const char *kModule =
    "func.func @fwd(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>,\n"
    "               %v: tensor<1x2x16x32xf32>)\n"
    "    -> (tensor<1x2x16x32xf32>, tensor<1x2x16xf32>) {\n"
    "  %o, %lse = attnqat.attention %q, %k, %v\n"
    "      {config = #attnqat.config<mode = none>}\n"
    "      : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>,\n"
    "        tensor<1x2x16x32xf32> -> tensor<1x2x16x32xf32>,\n"
    "        tensor<1x2x16xf32>\n"
    "  return %o, %lse : tensor<1x2x16x32xf32>, tensor<1x2x16xf32>\n"
    "}\n";

typedef struct Text {
  char data[16384];
  size_t size;
} Text;

static void appendText(MlirStringRef s, void *userData) {
  Text *t = (Text *)userData;
  size_t n = s.length;
  if (t->size + n >= sizeof(t->data))
    n = sizeof(t->data) - 1 - t->size;
  memcpy(t->data + t->size, s.data, n);
  t->size += n;
  t->data[t->size] = 0;
}

static void testModulePath(void) {
  MlirContext ctx = mlirContextCreate();
  MlirDialectHandle handle = mlirGetDialectHandle__attnqat__();
  MlirStringRef ns = mlirDialectHandleGetNamespace(handle);
  check(mlirStringRefEqual(ns, str("attnqat")),
        "dialect handle namespace is attnqat");
  mlirDialectHandleRegisterDialect(handle, ctx);
  mlirDialectHandleRegisterDialect(mlirGetDialectHandle__func__(), ctx);
  MlirDialect dialect = mlirContextGetOrLoadDialect(ctx, str("attnqat"));
  check(!mlirDialectIsNull(dialect), "attnqat dialect loads in the context");

  MlirModule module = mlirModuleCreateParse(ctx, str(kModule));
  check(!mlirModuleIsNull(module), "attnqat module parses through the C API");
  if (mlirModuleIsNull(module)) {
    mlirContextDestroy(ctx);
    return;
  }

  /* Textual pipeline (needs registration: the generated group function). */
  mlirRegisterAttnQATPasses();
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  Text err = {{0}, 0};
  MlirLogicalResult parsed = mlirParsePassPipeline(
      mlirPassManagerGetAsOpPassManager(pm),
      str("builtin.module(attnqat-attach-qat{mode=qat p=mxfp4 p-scaling=single_level})"), appendText,
      &err);
  check(mlirLogicalResultIsSuccess(parsed), "pass pipeline parses");
  MlirLogicalResult ran =
      mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module));
  check(mlirLogicalResultIsSuccess(ran), "attnqat-attach-qat runs");
  mlirPassManagerDestroy(pm);
  Text printed = {{0}, 0};
  mlirOperationPrint(mlirModuleGetOperation(module), appendText, &printed);
  check(strstr(printed.data, "mode = qat") != NULL &&
            strstr(printed.data, "p = #attnqat.mxfp4") != NULL,
        "attnqat-attach-qat attached #attnqat.config<mode = qat, p = mxfp4, ...>");

  /* The generated constructor: with its default options (no override) it
   * leaves the configuration attached above alone. */
  MlirPassManager pm2 = mlirPassManagerCreate(ctx);
  mlirPassManagerAddOwnedPass(pm2, mlirCreateAttnQATAttnQATAttachQAT());
  check(mlirLogicalResultIsSuccess(
            mlirPassManagerRunOnOp(pm2, mlirModuleGetOperation(module))),
        "mlirCreateAttnQATAttnQATAttachQAT() pass runs");
  mlirPassManagerDestroy(pm2);
  Text printed2 = {{0}, 0};
  mlirOperationPrint(mlirModuleGetOperation(module), appendText, &printed2);
  check(strstr(printed2.data, "p = #attnqat.mxfp4") != NULL,
        "without override the existing configuration stays");

  /* JIT-compile the attached module and run it. */
  attnqatJitEngine engine = {NULL};
  attnqatStatus s = attnqatJitEngineCreateFromModule(module, str("fwd"),
                                                     (attnqatJitOptions){NULL},
                                                     &engine);
  check(s == attnqatStatusSuccess, "QAT module JIT-compiles from MlirModule");
  if (s == attnqatStatusSuccess) {
    Problem p = {1, 2, 2, 16, 16, 32, 0, NULL, NULL, 1.0f / sqrtf(32.0f)};
    size_t n = 1 * 2 * 16 * 32;
    float *q = randomArray(n), *k = randomArray(n), *v = randomArray(n);
    float *dO = randomArray(n);
    float *o = calloc(n, sizeof(float)), *lse = calloc(32, sizeof(float));
    double *ro = malloc(n * sizeof(double)), *rlse = malloc(32 * sizeof(double));
    double *rdq = malloc(n * sizeof(double)), *rdk = malloc(n * sizeof(double));
    double *rdv = malloc(n * sizeof(double));
    int64_t sz[4] = {1, 2, 16, 32}, lsz[3] = {1, 2, 16};
    attnqatJitBuffer args[3] = {buffer(q, 4, sz, attnqatElementTypeF32),
                                buffer(k, 4, sz, attnqatElementTypeF32),
                                buffer(v, 4, sz, attnqatElementTypeF32)};
    attnqatJitBuffer res[2] = {buffer(o, 4, sz, attnqatElementTypeF32),
                               buffer(lse, 3, lsz, attnqatElementTypeF32)};
    s = attnqatJitEngineInvoke(engine, str("fwd"), args, 3, res, 2);
    check(s == attnqatStatusSuccess, "QAT module runs");
    naiveAttention(&p, q, k, v, dO, ro, rlse, rdq, rdk, rdv);
    double eo = relError(o, ro, n);
    printf("  qat vs exact attention: O rel error %.3g\n", eo);
    /* FP4 fake quantization moves O, but not by more than its scale. */
    check(eo > 1e-6 && eo < 0.5,
          "QAT output is quantized but close to exact attention");
    free(q), free(k), free(v), free(dO), free(o), free(lse);
    free(ro), free(rlse), free(rdq), free(rdk), free(rdv);
    attnqatJitEngineDestroy(engine);
  }
  mlirModuleDestroy(module);
  mlirContextDestroy(ctx);
}

/*===----------------------------------------------------------------------===
 * 5: an attention graph on caller buffers vs the naive implementation
 *===----------------------------------------------------------------------===*/

static void testAttentionGraph(void) {
  enum { B = 2, Hq = 4, Hkv = 2, M = 9, N = 13, D = 32 };
  attnqatAttentionSpec spec;
  attnqatAttentionSpecInit(&spec);
  spec.batch = B, spec.queryHeads = Hq, spec.kvHeads = Hkv;
  spec.queryLength = M, spec.keyLength = N, spec.headDim = D;
  spec.causal = true;
  spec.mask = true, spec.maskHeads = 1; /* [B, 1, M, N] */
  spec.keyLengths = true;
  spec.config = "#attnqat.config<mode = none>";
  spec.withBackward = true;
  spec.entryName = "attn";

  attnqatJitOptions options = attnqatJitOptionsCreate();
  check(attnqatJitOptionsSetTarget(options, str("cpu")) == 0 &&
            attnqatJitOptionsSetOptLevel(options, 2) == 0 &&
            attnqatJitOptionsSetPipelineOptions(options, str("key-tile=32")) == 0,
        "options set");
  attnqatJitEngine engine = {NULL};
  attnqatStatus s = attnqatJitCompileAttention(&spec, options, &engine);
  check(s == attnqatStatusSuccess, "attention graph (mode none, fwd+bwd) compiles");
  attnqatJitOptionsDestroy(options);
  if (s != attnqatStatusSuccess)
    return;

  /* Signature. */
  intptr_t nargs = -1, nres = -1;
  s = attnqatJitEngineGetSignature(engine, str("attn"), &nargs, &nres);
  check(s == 0 && nargs == 6 && nres == 5,
        "signature: 6 arguments (q k v mask key_lengths do), 5 results");
  attnqatJitValueInfo info;
  s = attnqatJitEngineGetArgumentInfo(engine, str("attn"), 4, &info);
  check(s == 0 && mlirStringRefEqual(info.name, str("key_lengths")) &&
            info.elementType == attnqatElementTypeI32 && info.rank == 1 &&
            info.shape[0] == B,
        "argument 4 is key_lengths: tensor<2xi32>");
  s = attnqatJitEngineGetResultInfo(engine, str("attn"), 1, &info);
  check(s == 0 && mlirStringRefEqual(info.name, str("lse")) && info.rank == 3 &&
            info.shape[2] == M,
        "result 1 is lse: tensor<2x4x9xf32>");
  check(attnqatJitEngineGetNumEntries(engine) == 1 &&
            mlirStringRefEqual(attnqatJitEngineGetEntryName(engine, 0),
                               str("attn")),
        "one entry, @attn");

  size_t nq = B * Hq * M * D, nk = B * Hkv * N * D;
  float *q = randomArray(nq), *k = randomArray(nk), *v = randomArray(nk);
  float *dO = randomArray(nq), *mask = randomArray(B * M * N);
  int32_t lens[B] = {N, 6};
  /* K in [B, N, Hkv, D] memory order (BSHD, as many frameworks store it),
   * passed with strides: the library packs it. */
  float *kBSHD = malloc(nk * sizeof(float));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hkv; ++h)
      for (int64_t j = 0; j < N; ++j)
        for (int64_t d = 0; d < D; ++d)
          kBSHD[((b * N + j) * Hkv + h) * D + d] = k[((b * Hkv + h) * N + j) * D + d];

  float *o = calloc(nq, sizeof(float)), *lse = calloc(B * Hq * M, sizeof(float));
  float *dq = calloc(nq, sizeof(float)), *dv = calloc(nk, sizeof(float));
  int64_t qs[4] = {B, Hq, M, D}, ks[4] = {B, Hkv, N, D}, kStrides[4] = {N * Hkv * D, D, Hkv * D, 1};
  int64_t ms[4] = {B, 1, M, N}, ls[1] = {B}, lseSizes[3] = {B, Hq, M};
  int64_t qs2[4] = {B, Hq, M, D}, ks2[4] = {B, Hkv, N, D};
  int64_t dkSizes[4] = {0}, dkStrides[4] = {0};

  attnqatJitBuffer args[6] = {
      buffer(q, 4, qs, attnqatElementTypeF32),
      buffer(kBSHD, 4, ks, attnqatElementTypeF32),
      buffer(v, 4, ks, attnqatElementTypeF32),
      buffer(mask, 4, ms, attnqatElementTypeF32),
      buffer(lens, 1, ls, attnqatElementTypeI32),
      buffer(dO, 4, qs, attnqatElementTypeF32)};
  args[1].strides = kStrides;
  attnqatJitBuffer res[5] = {
      buffer(o, 4, qs2, attnqatElementTypeF32),
      buffer(lse, 3, lseSizes, attnqatElementTypeF32),
      buffer(dq, 4, qs2, attnqatElementTypeF32),
      buffer(NULL, 4, dkSizes, attnqatElementTypeF32), /* handed over */
      buffer(dv, 4, ks2, attnqatElementTypeF32)};
  res[3].strides = dkStrides;
  s = attnqatJitEngineInvoke(engine, str("attn"), args, 6, res, 5);
  check(s == attnqatStatusSuccess, "attention graph runs on caller buffers");
  if (s == attnqatStatusSuccess) {
    check(res[3].data != NULL && res[3].allocated != NULL &&
              dkSizes[0] == B && dkSizes[1] == Hkv && dkSizes[2] == N &&
              dkSizes[3] == D,
          "dK handed over with its sizes");
    /* Gather dK through the returned strides. */
    float *dk = malloc(nk * sizeof(float));
    const float *dkData = (const float *)res[3].data;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < Hkv; ++h)
        for (int64_t j = 0; j < N; ++j)
          for (int64_t d = 0; d < D; ++d)
            dk[((b * Hkv + h) * N + j) * D + d] =
                dkData[b * dkStrides[0] + h * dkStrides[1] + j * dkStrides[2] +
                       d * dkStrides[3]];
    attnqatJitBufferFree(&res[3]);
    check(res[3].data == NULL && res[3].allocated == NULL,
          "attnqatJitBufferFree releases the handed-over buffer");

    Problem p = {B, Hq, Hkv, M, N, D, 1, mask, lens, 1.0f / sqrtf((float)D)};
    double *ro = malloc(nq * sizeof(double)), *rlse = malloc(B * Hq * M * sizeof(double));
    double *rdq = malloc(nq * sizeof(double)), *rdk = malloc(nk * sizeof(double));
    double *rdv = malloc(nk * sizeof(double));
    naiveAttention(&p, q, k, v, dO, ro, rlse, rdq, rdk, rdv);
    double eo = relError(o, ro, nq), el = relError(lse, rlse, B * Hq * M);
    double eq = relError(dq, rdq, nq), ek = relError(dk, rdk, nk);
    double ev = relError(dv, rdv, nk);
    printf("  rel errors vs naive C: O %.3g LSE %.3g dQ %.3g dK %.3g dV %.3g\n",
           eo, el, eq, ek, ev);
    check(eo < 1e-4, "O matches the naive implementation");
    check(el < 1e-4, "LSE (log2) matches the naive implementation");
    check(eq < 1e-4, "dQ matches the naive implementation");
    check(ek < 1e-4, "dK matches the naive implementation");
    check(ev < 1e-4, "dV matches the naive implementation");
    free(dk), free(ro), free(rlse), free(rdq), free(rdk), free(rdv);
  }

  /* Error paths on a valid engine. */
  s = attnqatJitEngineInvoke(engine, str("attn"), args, 2, res, 5);
  checkError(s, attnqatStatusInvalidArgument, "wrong arity", "invoke with 2 of 6 arguments");
  s = attnqatJitEngineInvoke(engine, str("nope"), args, 6, res, 5);
  checkError(s, attnqatStatusNotFound, "no entry 'nope'", "invoke an unknown entry");
  s = attnqatJitEngineInvoke(engine, str("attn"), args, 6, res, 4);
  checkError(s, attnqatStatusInvalidArgument, "wrong number of results",
             "invoke with 4 of 5 results");
  s = attnqatJitEngineInvoke(engine, str("attn"), NULL, 6, res, 5);
  checkError(s, attnqatStatusInvalidArgument, "null arguments", "null arguments array");
  args[4].elementType = attnqatElementTypeI64;
  s = attnqatJitEngineInvoke(engine, str("attn"), args, 6, res, 5);
  checkError(s, attnqatStatusInvalidArgument, "must have element type i32",
             "key_lengths given as i64");
  args[4].elementType = attnqatElementTypeI32;
  int64_t badSizes[4] = {B, Hq, M, D + 1};
  args[0].sizes = badSizes;
  s = attnqatJitEngineInvoke(engine, str("attn"), args, 6, res, 5);
  checkError(s, attnqatStatusInvalidArgument, "needs [2, 4, 9, 32]",
             "q with the wrong head dim");
  args[0].sizes = qs;
  args[0].rank = 3;
  s = attnqatJitEngineInvoke(engine, str("attn"), args, 6, res, 5);
  checkError(s, attnqatStatusInvalidArgument, "must have rank 4", "q of rank 3");
  args[0].rank = 4;
  args[0].data = NULL;
  s = attnqatJitEngineInvoke(engine, str("attn"), args, 6, res, 5);
  checkError(s, attnqatStatusInvalidArgument, "null data pointer", "q without data");
  args[0].data = q;
  s = attnqatJitEngineGetArgumentInfo(engine, str("attn"), 6, &info);
  checkError(s, attnqatStatusInvalidArgument, "out of range", "argument info position 6");
  s = attnqatJitEngineGetSignature((attnqatJitEngine){NULL}, str("attn"), &nargs, &nres);
  checkError(s, attnqatStatusInvalidArgument, "null attnqatJitEngine",
             "signature of a null engine");

  free(q), free(k), free(kBSHD), free(v), free(dO), free(mask);
  free(o), free(lse), free(dq), free(dv);
  attnqatJitEngineDestroy(engine);
}

/*===----------------------------------------------------------------------===
 * 6: compile-time error paths
 *===----------------------------------------------------------------------===*/

static void testCompileErrors(void) {
  attnqatJitEngine engine = {NULL};
  attnqatAttentionSpec spec;
  attnqatAttentionSpecInit(&spec);
  spec.queryLength = spec.keyLength = 8;
  attnqatStatus s;

  s = attnqatJitCompileAttention(NULL, (attnqatJitOptions){NULL}, &engine);
  checkError(s, attnqatStatusInvalidArgument, "null attention spec", "null spec");
  s = attnqatJitCompileAttention(&spec, (attnqatJitOptions){NULL}, NULL);
  checkError(s, attnqatStatusInvalidArgument, "null engine", "null engine out-pointer");
  s = attnqatJitOptionsSetTarget((attnqatJitOptions){NULL}, str("cpu"));
  checkError(s, attnqatStatusInvalidArgument, "null attnqatJitOptions", "null options");

  attnqatJitOptions options = attnqatJitOptionsCreate();
  s = attnqatJitOptionsSetOptLevel(options, 7);
  checkError(s, attnqatStatusInvalidArgument, "0, 1, 2 or 3", "optimization level 7");
  const char *gpus[3] = {"sm_90a", "sm_100a", "sm_120a"};
  for (int i = 0; i < 3; ++i) {
    attnqatJitOptionsSetTarget(options, str(gpus[i]));
    s = attnqatJitCompileAttention(&spec, options, &engine);
    char what[64];
    snprintf(what, sizeof(what), "target %s", gpus[i]);
    checkError(s, attnqatStatusUnsupported,
               "not supported yet: GPU kernel generation is not implemented", what);
    check(attnqatJitEngineIsNull(engine), "no engine on failure");
  }
  attnqatJitOptionsSetTarget(options, str("tpu"));
  s = attnqatJitCompileAttention(&spec, options, &engine);
  checkError(s, attnqatStatusInvalidArgument, "unknown target 'tpu'", "target tpu");
  attnqatJitOptionsSetTarget(options, str("cpu"));
  attnqatJitOptionsSetPipelineOptions(options, str("no-such-option=1"));
  s = attnqatJitCompileAttention(&spec, options, &engine);
  checkError(s, attnqatStatusInvalidArgument, "bad attnqat-cpu-pipeline options",
             "unknown pipeline option");
  attnqatJitOptionsDestroy(options);

  spec.kvHeads = 3, spec.queryHeads = 4;
  s = attnqatJitCompileAttention(&spec, (attnqatJitOptions){NULL}, &engine);
  checkError(s, attnqatStatusInvalidArgument, "multiple of kvHeads", "Hq = 4, Hkv = 3");
  spec.kvHeads = 1, spec.queryHeads = 1;
  spec.headDim = 0;
  s = attnqatJitCompileAttention(&spec, (attnqatJitOptions){NULL}, &engine);
  checkError(s, attnqatStatusInvalidArgument, "headDim must be positive", "D = 0");
  spec.headDim = 64;
  spec.config = "#attnqat.config<mode = sometimes>";
  s = attnqatJitCompileAttention(&spec, (attnqatJitOptions){NULL}, &engine);
  checkError(s, attnqatStatusParseError, "cannot parse the configuration", "bad config");
  spec.config = "#attnqat.config<mode = fp4>";
  s = attnqatJitCompileAttention(&spec, (attnqatJitOptions){NULL}, &engine);
  checkError(s, attnqatStatusUnsupported, "mode fp4", "mode fp4 spec");
  spec.config = "42 : i32";
  s = attnqatJitCompileAttention(&spec, (attnqatJitOptions){NULL}, &engine);
  checkError(s, attnqatStatusInvalidArgument, "is not an #attnqat.config", "non-config attribute");
  spec.config = NULL;
  spec.elementType = attnqatElementTypeI8;
  s = attnqatJitCompileAttention(&spec, (attnqatJitOptions){NULL}, &engine);
  checkError(s, attnqatStatusInvalidArgument, "F32, F16 or BF16", "i8 attention");
  spec.elementType = attnqatElementTypeF32;

  s = attnqatJitEngineCreateFromSource(str("func.func @f( {"), str(""),
                                       (attnqatJitOptions){NULL}, &engine);
  checkError(s, attnqatStatusParseError, "error:", "module text that does not parse");
  s = attnqatJitEngineCreateFromSource(
      str("func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> { return %x : tensor<4xf32> }"),
      str("g"), (attnqatJitOptions){NULL}, &engine);
  checkError(s, attnqatStatusNotFound, "entry function 'g' not found", "unknown entry at compile");
  s = attnqatJitEngineCreateFromModule((MlirModule){NULL}, str(""),
                                       (attnqatJitOptions){NULL}, &engine);
  checkError(s, attnqatStatusInvalidArgument, "null module", "null MlirModule");

  /* A module from source with a scalar argument and a scalar result. */
  s = attnqatJitEngineCreateFromSource(
      str("func.func @axpy(%a: f32, %x: tensor<4xf32>) -> f32 {\n"
          "  %c0 = arith.constant 0 : index\n"
          "  %e = tensor.extract %x[%c0] : tensor<4xf32>\n"
          "  %r = arith.mulf %a, %e : f32\n"
          "  return %r : f32\n}"),
      str(""), (attnqatJitOptions){NULL}, &engine);
  check(s == attnqatStatusSuccess, "scalar-argument module compiles from source");
  if (s == attnqatStatusSuccess) {
    float a = 3.0f, x[4] = {2.0f, 0, 0, 0}, r = 0;
    int64_t xs[1] = {4};
    attnqatJitBuffer args[2] = {buffer(&a, 0, NULL, attnqatElementTypeF32),
                                buffer(x, 1, xs, attnqatElementTypeF32)};
    attnqatJitBuffer res[1] = {buffer(&r, 0, NULL, attnqatElementTypeF32)};
    s = attnqatJitEngineInvoke(engine, str(""), args, 2, res, 1);
    check(s == attnqatStatusSuccess && r == 6.0f, "scalar in, scalar out: 3 * 2 = 6");
    attnqatJitEngineDestroy(engine);
  }
  check(strcmp(attnqatElementTypeGetName(attnqatElementTypeBF16), "bf16") == 0 &&
            attnqatElementTypeGetByteSize(attnqatElementTypeF4E2M1FN) == 1 &&
            attnqatElementTypeGetByteSize((attnqatElementType)99) == 0,
        "element type names and sizes");
}

int main(void) {
  testModulePath(); /* registers through mlirRegisterAttnQATPasses() */
  attnqatRegisterAllPasses();
  testAttentionGraph();
  testCompileErrors();
  printf("%s: %d failure(s)\n", failures ? "FAILED" : "ALL PASSED", failures);
  return failures ? 1 : 0;
}
