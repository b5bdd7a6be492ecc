/*===- jit_attention.c - JIT an FP4 QAT attention from C -------------------===*\
 *
 * Compiles one attention training step (forward + backward, FP4 QAT) for the
 * host CPU through the attnqat C API and runs it on buffers this program
 * owns, then compares the QAT forward with exact attention (mode none).
 *
 *   jit_attention                       # config #attnqat.config<mode = qat>
 *   jit_attention '#attnqat.config<mode = qat, p = #attnqat.mxfp4>'
 *
 * Build against an installed attnqat (docs/c-api.md):
 *   find_package(AttnQAT CONFIG REQUIRED)
 *   target_link_libraries(jit_attention PRIVATE AttnQAT::CAPI)
\*===----------------------------------------------------------------------===*/

#include "attnqat-c/JIT.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { B = 1, HQ = 8, HKV = 2, M = 128, N = 128, D = 64 };

/* Aborts the example with the library's message on failure. */
static void ok(attnqatStatus status, const char *what) {
  if (status == attnqatStatusSuccess)
    return;
  fprintf(stderr, "%s: %s: %s\n", what, attnqatStatusGetName(status),
          attnqatGetLastErrorMessage());
  exit(1);
}

/* Deterministic normal(0, 1) data (an LCG and Box-Muller). */
static double uniform01(uint64_t *state) {
  *state = *state * 6364136223846793005ull + 1442695040888963407ull;
  return ((double)(*state >> 11) + 0.5) / 9007199254740992.0;
}
static float *randn(size_t n, uint64_t *state) {
  const double twoPi = 6.283185307179586;
  float *a = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; i += 2) {
    double r = sqrt(-2.0 * log(uniform01(state)));
    double t = twoPi * uniform01(state);
    a[i] = (float)(r * cos(t));
    if (i + 1 < n)
      a[i + 1] = (float)(r * sin(t));
  }
  return a;
}

static double norm(const float *a, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i)
    s += (double)a[i] * a[i];
  return sqrt(s);
}

static attnqatJitBuffer dense(float *data, intptr_t rank, int64_t *sizes) {
  attnqatJitBuffer b = {data, rank, sizes, NULL, attnqatElementTypeF32, NULL};
  return b;
}

int main(int argc, char **argv) {
  const char *config = argc > 1 ? argv[1] : "#attnqat.config<mode = qat>";

  /* 1. Describe the attention and compile it for the CPU. */
  attnqatAttentionSpec spec;
  attnqatAttentionSpecInit(&spec);
  spec.batch = B, spec.queryHeads = HQ, spec.kvHeads = HKV; /* GQA */
  spec.queryLength = M, spec.keyLength = N, spec.headDim = D;
  spec.elementType = attnqatElementTypeF32;
  spec.causal = true;
  spec.config = config;
  spec.withBackward = true;

  attnqatJitOptions options = attnqatJitOptionsCreate();
  /* GPU targets are recognized but not implemented yet: */
  ok(attnqatJitOptionsSetTarget(options, mlirStringRefCreateFromCString("sm_100a")),
     "set target");
  attnqatJitEngine engine = {NULL};
  attnqatStatus status = attnqatJitCompileAttention(&spec, options, &engine);
  printf("target sm_100a: %s (%s)\n", attnqatStatusGetName(status),
         attnqatGetLastErrorMessage());

  ok(attnqatJitOptionsSetTarget(options, mlirStringRefCreateFromCString("cpu")),
     "set target");
  ok(attnqatJitCompileAttention(&spec, options, &engine), "compile (qat)");
  MlirStringRef entry = attnqatJitEngineGetEntryName(engine, 0);
  intptr_t nargs, nres;
  ok(attnqatJitEngineGetSignature(engine, entry, &nargs, &nres), "signature");
  printf("compiled @%.*s: %ld arguments, %ld results, config %s\n",
         (int)entry.length, entry.data, (long)nargs, (long)nres, config);

  /* 2. Buffers we own: q, k, v, dO in; o, lse, dq, dk, dv out. */
  uint64_t seed = 1;
  size_t nq = (size_t)B * HQ * M * D, nk = (size_t)B * HKV * N * D;
  float *q = randn(nq, &seed), *k = randn(nk, &seed), *v = randn(nk, &seed);
  float *dO = randn(nq, &seed);
  float *o = calloc(nq, sizeof(float)), *lse = calloc(B * HQ * M, sizeof(float));
  float *dq = calloc(nq, sizeof(float)), *dk = calloc(nk, sizeof(float));
  float *dv = calloc(nk, sizeof(float));
  int64_t qShape[4] = {B, HQ, M, D}, kShape[4] = {B, HKV, N, D};
  int64_t lseShape[3] = {B, HQ, M};
  attnqatJitBuffer args[4] = {dense(q, 4, qShape), dense(k, 4, kShape),
                              dense(v, 4, kShape), dense(dO, 4, qShape)};
  attnqatJitBuffer results[5] = {dense(o, 4, qShape), dense(lse, 3, lseShape),
                                 dense(dq, 4, qShape), dense(dk, 4, kShape),
                                 dense(dv, 4, kShape)};

  /* 3. Run the training step. */
  ok(attnqatJitEngineInvoke(engine, entry, args, 4, results, 5), "run (qat)");
  printf("|O| = %.4f  |dQ| = %.4f  |dK| = %.4f  |dV| = %.4f  LSE[0] = %.4f\n",
         norm(o, nq), norm(dq, nq), norm(dk, nk), norm(dv, nk), lse[0]);

  /* 4. The same forward without quantization, for comparison. */
  attnqatAttentionSpec exact = spec;
  exact.config = "#attnqat.config<mode = none>";
  exact.withBackward = false;
  attnqatJitEngine reference = {NULL};
  ok(attnqatJitCompileAttention(&exact, options, &reference), "compile (none)");
  float *oRef = calloc(nq, sizeof(float));
  float *lseRef = calloc(B * HQ * M, sizeof(float));
  attnqatJitBuffer refResults[2] = {dense(oRef, 4, qShape),
                                    dense(lseRef, 3, lseShape)};
  ok(attnqatJitEngineInvoke(reference, attnqatJitEngineGetEntryName(reference, 0),
                            args, 3, refResults, 2),
     "run (none)");
  double diff = 0;
  for (size_t i = 0; i < nq; ++i)
    diff += ((double)o[i] - oRef[i]) * ((double)o[i] - oRef[i]);
  printf("QAT vs exact forward: relative RMS difference of O = %.4f\n",
         sqrt(diff) / norm(oRef, nq));

  attnqatJitEngineDestroy(reference);
  attnqatJitEngineDestroy(engine);
  attnqatJitOptionsDestroy(options);
  free(q), free(k), free(v), free(dO), free(o), free(lse);
  free(dq), free(dk), free(dv), free(oRef), free(lseRef);
  printf("done\n");
  return 0;
}
