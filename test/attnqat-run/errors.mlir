// Every bad input is a message on stderr and a non-zero exit, never a crash.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: attnqat-run %s --entry=make --input 0=ones --input 1=ones --output-dir=%t
//
// Missing entry: the message lists the functions.
// RUN: not attnqat-run %s --entry=nope --random-missing 2>&1 | FileCheck %s --check-prefix=ENTRY
// ENTRY: error: entry function 'nope' not found; functions in the module: @make, @f, @decl
// No --entry with several public functions.
// RUN: not attnqat-run %s 2>&1 | FileCheck %s --check-prefix=NOENTRY
// NOENTRY: error: no --entry given and the module has 2 public functions with a body; functions: @make, @f, @decl
// RUN: not attnqat-run %s --entry=decl 2>&1 | FileCheck %s --check-prefix=DECL
// DECL: error: entry function @decl is a declaration without a body
//
// Arity.
// RUN: not attnqat-run %s --entry=f --input 0=ones --input 1=ones --input 2=ones 2>&1 \
// RUN:   | FileCheck %s --check-prefix=ARITY
// ARITY: error: wrong arity: 3 --input bindings for @f, which takes 2 arguments
// RUN: not attnqat-run %s --entry=f --input 0=ones --input 5=ones 2>&1 \
// RUN:   | FileCheck %s --check-prefix=ARITY-IDX
// ARITY-IDX: error: wrong arity: --input '5=ones' binds argument 5 but @f takes 2 arguments
// RUN: not attnqat-run %s --entry=f --input q=ones 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING:      error: @f takes 2 arguments; no --input for:
// MISSING-NEXT:   argument 1 'k': tensor<2x3xi32>
// MISSING-NEXT: (bind them with --input KEY=SPEC, or pass --random-missing for normal(0,1) data)
// RUN: not attnqat-run %s --entry=f --input v=ones 2>&1 | FileCheck %s --check-prefix=NONAME
// NONAME: error: --input 'v=ones': @f has no argument named 'v' (use an index 0..1 or one of: q, k)
// RUN: not attnqat-run %s --entry=f --input q=ones --input 0=ones 2>&1 \
// RUN:   | FileCheck %s --check-prefix=TWICE
// TWICE: error: argument 0 'q' is bound twice
// RUN: not attnqat-run %s --entry=f --input qones 2>&1 | FileCheck %s --check-prefix=NOEQ
// NOEQ: error: --input expects KEY=SPEC, got 'qones'
//
// Shape and dtype mismatches (make.result0.npy is 4x8 f32, result1 2x3 i32).
// RUN: not attnqat-run %s --entry=f --input q=%t/make.result1.npy --input k=ones 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SHAPE
// SHAPE: error: argument 0 'q': {{.*}}make.result1.npy has shape (2, 3) but the argument type tensor<4x8xf32> needs (4, 8)
// RUN: not attnqat-run %s --entry=f --input q=ones --input k=%t/make.result0.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SHAPE2
// SHAPE2: error: argument 1 'k': {{.*}}make.result0.npy has shape (4, 8) but the argument type tensor<2x3xi32> needs (2, 3)
// RUN: not attnqat-run %s --entry=f --input q=ones:shape=4x9 --input k=ones 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SHAPE3
// SHAPE3: error: argument 0 'q': shape= has shape (4, 9) but the argument type tensor<4x8xf32> needs (4, 8)
// RUN: not attnqat-run %s --entry=f --input q=%t/make.result2.npy --input k=ones 2>&1 \
// RUN:   | FileCheck %s --check-prefix=DTYPE
// DTYPE: error: argument 0 'q': {{.*}}make.result2.npy has dtype float64 but the argument type tensor<4x8xf32> needs float32
// RUN: not attnqat-run %s --entry=f --input q=ones --input k=%t/make.result3.npy 2>&1 \
// RUN:   | FileCheck %s --check-prefix=DTYPE2
// DTYPE2: error: argument 1 'k': {{.*}}make.result3.npy has dtype float32 but the argument type tensor<2x3xi32> needs int32 or uint32
//
// Unreadable .npy files.
// RUN: not attnqat-run %s --entry=f --input q=%t/nonexistent.npy --input k=ones 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NOFILE
// NOFILE: error: argument 0 'q': {{.*}}nonexistent.npy: cannot open: No such file or directory
// RUN: not attnqat-run %s --entry=f --input q=npy:%s --input k=ones 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NOTNPY
// NOTNPY: error: argument 0 'q': {{.*}}errors.mlir: not a .npy file (missing the \x93NUMPY magic)
// RUN: head -c 150 %t/make.result0.npy > %t/truncated.npy
// RUN: not attnqat-run %s --entry=f --input q=%t/truncated.npy --input k=ones 2>&1 \
// RUN:   | FileCheck %s --check-prefix=TRUNC
// TRUNC: error: argument 0 'q': {{.*}}truncated.npy: truncated .npy file: shape (4, 8) of float32 needs 128 data bytes, found 22
// RUN: not attnqat-run %s --entry=f --input q=%t --input k=ones 2>&1 \
// RUN:   | FileCheck %s --check-prefix=DIR
// DIR: error: argument 0 'q': {{.*}}: read error: Is a directory
//
// Bad generator specs.
// RUN: not attnqat-run %s --entry=f --input q=gauss:std=1 --input k=ones 2>&1 \
// RUN:   | FileCheck %s --check-prefix=GEN-KIND
// GEN-KIND: error: --input 'q=gauss:std=1': unknown generator 'gauss' in 'gauss:std=1'; expected one of normal, uniform, zeros, ones, const, npy (or a path ending in .npy)
// RUN: not attnqat-run %s --entry=f --input q=normal:sd=1 --input k=ones 2>&1 \
// RUN:   | FileCheck %s --check-prefix=GEN-KEY
// GEN-KEY: error: --input 'q=normal:sd=1': unknown key 'sd' for normal (allowed: mean, outlier-scale, outliers, seed, shape, std)
// RUN: not attnqat-run %s --entry=f --input q=uniform:lo=x --input k=ones 2>&1 \
// RUN:   | FileCheck %s --check-prefix=GEN-NUM
// GEN-NUM: error: --input 'q=uniform:lo=x': 'x' is not a number (for 'lo')
// RUN: not attnqat-run %s --entry=f --input q=normal:std=-1 --input k=ones 2>&1 \
// RUN:   | FileCheck %s --check-prefix=GEN-STD
// GEN-STD: error: --input 'q=normal:std=-1': normal: std must be >= 0, got -1 (in 'normal:std=-1')
// RUN: not attnqat-run %s --entry=f --input q=uniform:lo=1,hi=0 --input k=ones 2>&1 \
// RUN:   | FileCheck %s --check-prefix=GEN-RANGE
// GEN-RANGE: error: --input 'q=uniform:lo=1,hi=0': uniform: lo (1) must be <= hi (0) (in 'uniform:lo=1,hi=0')
// RUN: not attnqat-run %s --entry=f --input q=normal:outliers=2 --input k=ones 2>&1 \
// RUN:   | FileCheck %s --check-prefix=GEN-OUT
// GEN-OUT: error: --input 'q=normal:outliers=2': outlier fraction must be in [0, 1], got 2
// RUN: not attnqat-run %s --entry=f --input q=ones --input k=const: 2>&1 \
// RUN:   | FileCheck %s --check-prefix=GEN-CONST
// GEN-CONST: error: --input 'k=const:': const: needs a value, e.g. const:128 or const:0.5
// RUN: not attnqat-run %s --entry=f --input q=normal:std=1,,mean=0 --input k=ones 2>&1 \
// RUN:   | FileCheck %s --check-prefix=GEN-EMPTY
// GEN-EMPTY: error: --input 'q=normal:std=1,,mean=0': empty parameter in 'normal:std=1,,mean=0'
// RUN: not attnqat-run %s --entry=f --input q=ones:shape=4xz --input k=ones 2>&1 \
// RUN:   | FileCheck %s --check-prefix=GEN-SHAPE
// GEN-SHAPE: error: --input 'q=ones:shape=4xz': bad shape '4xz': expected non-negative sizes separated by 'x', e.g. shape=4x128
// RUN: not attnqat-run %s --entry=dyn --input 0=normal 2>&1 | FileCheck %s --check-prefix=GEN-DYN
// GEN-DYN: error: argument 0 'arg0' has type tensor<?x4xf32> with dynamic dims: give them with shape=AxB... in the generator or bind an .npy file
//
// Bad module syntax: a diagnostic with the location, then a non-zero exit.
// RUN: echo 'func.func @broken(%%a: tensor<4xf32>) -> {' > %t/broken.mlir
// RUN: not attnqat-run %t/broken.mlir --random-missing 2>&1 | FileCheck %s --check-prefix=SYNTAX
// SYNTAX: broken.mlir:1:{{[0-9]+}}: error:
// SYNTAX: error: failed to parse '{{.*}}broken.mlir'
// RUN: not attnqat-run %t/nonexistent.mlir 2>&1 | FileCheck %s --check-prefix=NOMODULE
// NOMODULE: error: cannot read '{{.*}}nonexistent.mlir': {{.*}}No such file or directory
//
// Bad options.
// RUN: not attnqat-run %s --entry=f --random-missing --repeat=0 2>&1 | FileCheck %s --check-prefix=REPEAT
// REPEAT: error: --repeat must be at least 1
// RUN: not attnqat-run %s --entry=f --random-missing --shared-libs=%t/nolib.so 2>&1 \
// RUN:   | FileCheck %s --check-prefix=LIB
// LIB: error: --shared-libs: '{{.*}}nolib.so' does not exist
// RUN: not attnqat-run %s --entry=f --random-missing --output-dir=%s/sub 2>&1 \
// RUN:   | FileCheck %s --check-prefix=OUTDIR
// OUTDIR: error: cannot create --output-dir '{{.*}}errors.mlir/sub':
//
// Unsupported signatures.
// RUN: not attnqat-run %s --entry=unranked --random-missing 2>&1 | FileCheck %s --check-prefix=UNRANKED
// UNRANKED: error: argument 0 of @unranked has type tensor<*xf32>; only ranked tensors and scalars are supported
// RUN: not attnqat-run %s --entry=complex --random-missing 2>&1 | FileCheck %s --check-prefix=COMPLEX
// COMPLEX: error: argument 0 of @complex has unsupported element type complex<f32>

func.func @make(%a: tensor<4x8xf32>, %b: tensor<2x3xi32>)
    -> (tensor<4x8xf32>, tensor<2x3xi32>, tensor<4x8xf64>, tensor<2x3xf32>) {
  %c = arith.constant dense<1.0> : tensor<4x8xf64>
  %d = arith.constant dense<1.0> : tensor<2x3xf32>
  return %a, %b, %c, %d
      : tensor<4x8xf32>, tensor<2x3xi32>, tensor<4x8xf64>, tensor<2x3xf32>
}

func.func @f(%q: tensor<4x8xf32> {attnqat.name = "q"},
             %k: tensor<2x3xi32> {attnqat.name = "k"}) -> tensor<4x8xf32> {
  return %q : tensor<4x8xf32>
}

func.func private @decl(tensor<4xf32>) -> tensor<4xf32>

func.func private @dyn(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  return %x : tensor<?x4xf32>
}

func.func private @unranked(%x: tensor<*xf32>) {
  return
}

func.func private @complex(%x: tensor<4xcomplex<f32>>) {
  return
}
