/* Compiles a small attention (mode none) through the installed C API and
 * checks it against a direct computation: with one key, O = V. */
#include "attnqat-c/Dialect.h"
#include "attnqat-c/JIT.h"

#include <math.h>
#include <stdio.h>

int main(void) {
  MlirContext ctx = mlirContextCreate();
  mlirDialectHandleRegisterDialect(mlirGetDialectHandle__attnqat__(), ctx);
  printf("dialect: %s\n",
         mlirDialectIsNull(mlirContextGetOrLoadDialect(
             ctx, mlirStringRefCreateFromCString("attnqat")))
             ? "missing"
             : "attnqat");
  mlirContextDestroy(ctx);

  attnqatAttentionSpec spec;
  attnqatAttentionSpecInit(&spec);
  spec.queryLength = 2, spec.keyLength = 1, spec.headDim = 32;
  spec.config = "#attnqat.config<mode = none>";
  attnqatJitEngine engine = {NULL};
  attnqatStatus s = attnqatJitCompileAttention(&spec, (attnqatJitOptions){NULL}, &engine);
  if (s != attnqatStatusSuccess) {
    printf("compile: %s\n", attnqatGetLastErrorMessage());
    return 1;
  }
  float q[64], k[32], v[32], o[64], lse[2];
  for (int i = 0; i < 64; ++i)
    q[i] = 0.01f * i;
  for (int i = 0; i < 32; ++i)
    k[i] = 0.5f, v[i] = (float)i;
  int64_t qs[4] = {1, 1, 2, 32}, ks[4] = {1, 1, 1, 32}, ls[3] = {1, 1, 2};
  attnqatJitBuffer args[3] = {{q, 4, qs, NULL, attnqatElementTypeF32, NULL},
                              {k, 4, ks, NULL, attnqatElementTypeF32, NULL},
                              {v, 4, ks, NULL, attnqatElementTypeF32, NULL}};
  attnqatJitBuffer res[2] = {{o, 4, qs, NULL, attnqatElementTypeF32, NULL},
                             {lse, 3, ls, NULL, attnqatElementTypeF32, NULL}};
  s = attnqatJitEngineInvoke(engine, mlirStringRefCreateFromCString("attention"),
                             args, 3, res, 2);
  if (s != attnqatStatusSuccess) {
    printf("run: %s\n", attnqatGetLastErrorMessage());
    return 1;
  }
  double err = 0;
  for (int i = 0; i < 64; ++i)
    err = fmax(err, fabs(o[i] - v[i % 32]));
  printf("one key: max |O - V| = %g\n", err);
  attnqatJitEngineDestroy(engine);
  printf("%s\n", err < 1e-4 ? "consumer_c OK" : "consumer_c WRONG");
  return err < 1e-4 ? 0 : 1;
}
