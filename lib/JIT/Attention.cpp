//===- Attention.cpp - Build and compile one attention from a spec -------===//

#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"
#include "attnqat/InitAll.h"
#include "attnqat/JIT/JIT.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;
using namespace mlir::attnqat;
using llvm::Expected;

static llvm::Error invalid(const llvm::Twine &message) {
  return makeJITError(JITErrorCode::InvalidArgument, message);
}

Expected<OwningOpRef<ModuleOp>>
mlir::attnqat::buildAttentionModule(MLIRContext &context,
                                    const AttentionSpec &spec) {
  struct Dim {
    const char *name;
    int64_t value;
  };
  for (Dim d : {Dim{"batch", spec.batch}, Dim{"queryHeads", spec.queryHeads},
                Dim{"kvHeads", spec.kvHeads},
                Dim{"queryLength", spec.queryLength},
                Dim{"keyLength", spec.keyLength},
                Dim{"headDim", spec.headDim}})
    if (d.value <= 0)
      return invalid(llvm::Twine("attention spec: ") + d.name +
                     " must be positive, got " + llvm::Twine(d.value));
  if (spec.queryHeads % spec.kvHeads != 0)
    return invalid("attention spec: queryHeads (" +
                   llvm::Twine(spec.queryHeads) +
                   ") must be a multiple of kvHeads (" +
                   llvm::Twine(spec.kvHeads) + ")");
  auto broadcastDim = [](int64_t given, int64_t full) -> int64_t {
    return given == 0 ? full : given;
  };
  int64_t maskBatch = broadcastDim(spec.maskBatch, spec.batch);
  int64_t maskHeads = broadcastDim(spec.maskHeads, spec.queryHeads);
  if (spec.mask && ((maskBatch != 1 && maskBatch != spec.batch) ||
                    (maskHeads != 1 && maskHeads != spec.queryHeads)))
    return invalid("attention spec: maskBatch must be 0, 1 or batch and "
                   "maskHeads 0, 1 or queryHeads; got " +
                   llvm::Twine(spec.maskBatch) + " and " +
                   llvm::Twine(spec.maskHeads));
  if (spec.scale && !(*spec.scale > 0.0f && std::isfinite(*spec.scale)))
    return invalid("attention spec: scale must be finite and positive");
  if (spec.entryName.empty())
    return invalid("attention spec: empty entry name");

  context.loadDialect<AttnQATDialect, func::FuncDialect>();
  Type elem;
  if (spec.elementType == "f32")
    elem = Float32Type::get(&context);
  else if (spec.elementType == "f16")
    elem = Float16Type::get(&context);
  else if (spec.elementType == "bf16")
    elem = BFloat16Type::get(&context);
  else
    return invalid("attention spec: element type '" + spec.elementType +
                   "' is not one of f32, f16, bf16");

  // The configuration.
  ConfigAttr config;
  {
    std::string errors;
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
      llvm::raw_string_ostream os(errors);
      os << diag << "\n";
      return success();
    });
    Attribute attr = parseAttribute(spec.config, &context);
    if (!attr)
      return makeJITError(JITErrorCode::ParseError,
                          "attention spec: cannot parse the configuration '" +
                              spec.config + "': " + StringRef(errors).trim());
    config = dyn_cast<ConfigAttr>(attr);
    if (!config)
      return invalid("attention spec: '" + spec.config +
                     "' is not an #attnqat.config<...> attribute");
  }
  if (config.getMode() == Mode::FP4)
    return makeJITError(
        JITErrorCode::Unsupported,
        "attention spec: mode fp4 takes pre-quantized codes and block "
        "scales and has no backward; build that module yourself and compile "
        "it with JITExecutable::compile");

  int64_t B = spec.batch, Hq = spec.queryHeads, Hkv = spec.kvHeads;
  int64_t M = spec.queryLength, N = spec.keyLength, D = spec.headDim;
  auto qType = RankedTensorType::get({B, Hq, M, D}, elem);
  auto kType = RankedTensorType::get({B, Hkv, N, D}, elem);
  auto lseType = RankedTensorType::get({B, Hq, M}, Float32Type::get(&context));
  RankedTensorType maskType =
      spec.mask ? RankedTensorType::get({maskBatch, maskHeads, M, N}, elem)
                : nullptr;
  auto lengthsType =
      RankedTensorType::get({B}, IntegerType::get(&context, 32));

  SmallVector<Type> inputs{qType, kType, kType};
  SmallVector<std::string> inputNames{"q", "k", "v"};
  if (spec.mask) {
    inputs.push_back(maskType);
    inputNames.push_back("mask");
  }
  if (spec.keyLengths) {
    inputs.push_back(lengthsType);
    inputNames.push_back("key_lengths");
  }
  if (spec.withBackward) {
    inputs.push_back(qType);
    inputNames.push_back("do");
  }
  SmallVector<Type> results{qType, lseType};
  SmallVector<std::string> resultNames{"o", "lse"};
  if (spec.withBackward) {
    results.append({qType, kType, kType});
    resultNames.append({"dq", "dk", "dv"});
  }

  Location loc = FileLineColLoc::get(&context, "<attention spec>", 0, 0);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  OpBuilder b(&context);
  b.setInsertionPointToEnd(module->getBody());
  auto fn = func::FuncOp::create(b, loc, spec.entryName,
                                 b.getFunctionType(inputs, results));
  for (auto [i, name] : llvm::enumerate(inputNames))
    fn.setArgAttr(i, "attnqat.name", b.getStringAttr(name));
  for (auto [i, name] : llvm::enumerate(resultNames))
    fn.setResultAttr(i, "attnqat.name", b.getStringAttr(name));
  Block *body = fn.addEntryBlock();
  b.setInsertionPointToEnd(body);

  unsigned argIndex = 3;
  Value q = body->getArgument(0), k = body->getArgument(1),
        v = body->getArgument(2);
  Value mask = spec.mask ? body->getArgument(argIndex++) : Value();
  Value lengths = spec.keyLengths ? body->getArgument(argIndex++) : Value();
  Value dO = spec.withBackward ? body->getArgument(argIndex++) : Value();
  FloatAttr scaleAttr =
      spec.scale ? b.getF32FloatAttr(*spec.scale) : FloatAttr();

  auto forward = AttentionOp::create(
      b, loc, qType, lseType, /*state=*/Type(), q, k, v, Value(), Value(),
      Value(), mask, lengths, config, spec.causal, scaleAttr);
  SmallVector<Value> returned{forward.getOutput(), forward.getLse()};
  if (spec.withBackward) {
    // The same forward, now also producing the state its backward consumes.
    StateType stateType = forward.getExpectedStateType();
    auto withState = AttentionOp::create(
        b, loc, qType, lseType, stateType, q, k, v, Value(), Value(), Value(),
        mask, lengths, config, spec.causal, scaleAttr);
    forward.erase();
    auto backward = AttentionBackwardOp::create(
        b, loc, qType, kType, kType, withState.getState(), dO);
    returned = {withState.getOutput(), withState.getLse(),
                backward.getGradQuery(), backward.getGradKey(),
                backward.getGradValue()};
  }
  func::ReturnOp::create(b, loc, returned);

  std::string errors;
  {
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
      llvm::raw_string_ostream os(errors);
      os << diag << "\n";
      return success();
    });
    if (failed(verify(*module)))
      return makeJITError(JITErrorCode::InvalidArgument,
                          "attention spec: the attention does not verify: " +
                              StringRef(errors).trim());
  }
  return module;
}

Expected<std::unique_ptr<JITExecutable>>
mlir::attnqat::compileAttention(const AttentionSpec &spec,
                                const JITOptions &options) {
  // Check the target before building anything.
  if (llvm::Error e = checkJITTarget(options.target))
    return std::move(e);
  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);
  auto module = buildAttentionModule(context, spec);
  if (!module)
    return module.takeError();
  return JITExecutable::compile(**module, {spec.entryName}, options);
}
