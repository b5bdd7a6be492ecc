//===- attnqat-compile.cpp - attnqat ops to a GPU artifact ----------------===//
//
//   attnqat-compile module.mlir --chips=sm_90a,sm_120a [--format=ptx|cubin] -o out.aqa
//
// Generates the GPU kernels of a module's attnqat ops
// (convert-attnqat-to-gpu-kernels), compiles each for every chip it is made
// for (attnqat-gpu-kernels-pipeline's lowering; one image per kernel and
// chip, in parallel) and writes one artifact holding the images and, per
// kernel, its parameters, extents, accepted flags and launch configuration:
// what the runtime (runtime/) needs to launch it.
//
//===----------------------------------------------------------------------===//

#include "attnqat-runtime/Artifact.h"
#include "attnqat/Conversion/Passes.h"
#include "attnqat/InitAll.h"
#include "attnqat/Pipelines/Pipelines.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMTypes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Threading.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"

#include <map>
#include <optional>

using namespace mlir;
namespace rt = mlir::attnqat::rt;

static llvm::cl::opt<std::string> inputFile(llvm::cl::Positional,
                                            llvm::cl::desc("<module.mlir>"),
                                            llvm::cl::init("-"));
static llvm::cl::opt<std::string> outputFile("o", llvm::cl::desc("artifact"),
                                             llvm::cl::value_desc("out.aqa"),
                                             llvm::cl::Required);
static llvm::cl::list<std::string>
    chips("chips", llvm::cl::desc("sm_90a, sm_100a, sm_120a"),
          llvm::cl::CommaSeparated, llvm::cl::OneOrMore);
static llvm::cl::opt<std::string>
    format("format", llvm::cl::desc("ptx (JIT-compiled at load) or cubin"),
           llvm::cl::init("ptx"));
static llvm::cl::opt<bool> packedOperands(
    "packed-operands",
    llvm::cl::desc("also the tensor-core qat/dropin variants that read Q, K, V "
                   "as FP4 codes and scales (a packed saved state)"),
    llvm::cl::init(false));
static llvm::cl::opt<bool> dumpPCodes(
    "dump-p-codes",
    llvm::cl::desc("tensor-core kernels that also write the P codes, scales "
                   "and frames (the matched-recomputation check)"),
    llvm::cl::init(false));
static llvm::cl::opt<bool> blockScaledMma(
    "block-scaled-mma",
    llvm::cl::desc("the sm_120a block-scaled forward and the t64-layout "
                   "quantize kernels also when sm_120a is not among the chips "
                   "(the quantize kernels then run on every chip)"),
    llvm::cl::init(false));
static llvm::cl::opt<bool> tcgen05Mma(
    "tcgen05-mma",
    llvm::cl::desc("the sm_100a tcgen05 forward (and the t64-layout quantize "
                   "kernels) also when sm_100a is not among the chips"),
    llvm::cl::init(false));
static llvm::cl::opt<bool> warpgroupMma(
    "warpgroup-mma",
    llvm::cl::desc("also the sm_90a forward on wgmma with a producer warpgroup "
                   "(attention_fwd_wg_*) and the backward on wgmma "
                   "(attention_bwd_wg_*) for BF16 attentions (default: when "
                   "sm_90a is among the chips)"),
    llvm::cl::init(false));
static llvm::cl::opt<bool> tmaLoads(
    "tma-loads",
    llvm::cl::desc("the sm_90a wgmma forward loads Q, K and V by TMA from "
                   "tensor maps the runtime encodes (q_map, k_map, v_map) "
                   "instead of by cp.async (default: on)"),
    llvm::cl::init(true));
static llvm::cl::opt<bool> backwardTmaLoads(
    "backward-tma-loads",
    llvm::cl::desc("the sm_90a wgmma backward loads Q, dO, K and V by TMA from "
                   "tensor maps the runtime encodes (q_map, k_map, v_map, "
                   "do_map) instead of by cp.async, where it ran faster: "
                   "D = 128 but causal none and dropin (default: on)"),
    llvm::cl::init(true));
static llvm::cl::opt<bool> tensorCores(
    "tensor-cores",
    llvm::cl::desc("tensor-core forward kernels where they apply (false: the "
                   "baseline kernels only)"),
    llvm::cl::init(true));

static int fail(const llvm::Twine &msg) {
  llvm::WithColor::error(llvm::errs(), "attnqat-compile") << msg << "\n";
  return 1;
}

static bool parseExpr(const std::string &text, rt::Expr &out) {
  std::string error;
  return rt::Expr::parse(text, out, error);
}

namespace {
/// How a kernel's parameters map to the runtime's problem dims and extents.
/// Codec kernels see their tensor as [outer, axis, inner]: the runtime
/// passes those as B, M and D.
struct KernelInfo {
  std::string op;
  bool codec = false;
  int64_t blockSize = 16; // of the codec's format
};

KernelInfo classify(StringRef name) {
  KernelInfo info;
  if (name.starts_with("quantize_") || name.starts_with("fake_quant_") ||
      name.starts_with("dequantize_")) {
    info.op = name.starts_with("quantize_")     ? "quantize"
              : name.starts_with("dequantize_") ? "dequantize"
                                                : "fake_quant";
    info.codec = true;
    info.blockSize = name.contains("mxfp4") ? 32 : 16;
  } else {
    info.op = name.starts_with("attention_bwd_") ? "attention_backward"
                                                 : "attention_forward";
  }
  return info;
}

std::string extentFor(StringRef role, StringRef name, const KernelInfo &info) {
  if (info.codec) {
    if (role == "codes")
      return "B*ceil(M/2)*D";
    if (role == "scales")
      return "B*ceil(M/" + std::to_string(info.blockSize) + ")*D";
    return "B*M*D";
  }
  if (llvm::is_contained({"k", "v", "dk", "dv"}, role))
    return "B*Hkv*N*D";
  if (llvm::is_contained({"lse", "m", "l", "delta"}, role))
    return "B*Hq*M";
  if (role == "key_lengths")
    return "B";
  if (role == "mask") {
    size_t at = name.find("_mask");
    std::string e;
    e += name[at + 5] == 'b' ? "B*" : "";
    e += name[at + 6] == 'h' ? "Hq*" : "";
    return e + "M*N";
  }
  return "B*Hq*M*D";
}

rt::Access accessFor(StringRef role) {
  if (llvm::is_contained({"dk", "dv", "o_acc"}, role))
    return rt::Access::InOut;
  if (llvm::is_contained({"o", "o_prime", "lse", "m", "l", "dq", "codes",
                          "scales", "output"},
                         role))
    return rt::Access::Out;
  return rt::Access::In;
}

/// The tensor map a `!llvm.ptr` kernel argument carries, from the kernel's
/// `attnqat.tensor_maps` entry for `role`:
///   {of = "k", dims = ["D", "N", "B*Hkv"], box = array<i64: 64, 64, 1>,
///    swizzle = 128 : i64}
/// (dims innermost first, swizzle optional). Returns "" or what is wrong.
std::string tensorMapFor(gpu::GPUFuncOp func, StringRef role,
                         rt::TensorMapSpec &out) {
  auto maps = func->getAttrOfType<DictionaryAttr>("attnqat.tensor_maps");
  auto map = maps ? maps.getAs<DictionaryAttr>(role) : DictionaryAttr();
  if (!map)
    return "has no attnqat.tensor_maps entry";
  auto of = map.getAs<StringAttr>("of");
  auto dims = map.getAs<ArrayAttr>("dims");
  auto box = map.getAs<DenseI64ArrayAttr>("box");
  if (!of || !dims || !box)
    return "needs of (a string), dims (an array of strings) and box (an "
           "array<i64>)";
  out.of = of.getValue().str();
  for (Attribute d : dims) {
    auto text = dyn_cast<StringAttr>(d);
    if (!text)
      return "has a dim that is not a string";
    rt::Expr e;
    std::string why;
    if (!rt::Expr::parse(text.getValue(), e, why))
      return "has a bad dim '" + text.getValue().str() + "': " + why;
    out.dims.push_back(std::move(e));
  }
  // Ranges (box sizes, the swizzle) are the artifact validation's, which
  // writing the artifact runs.
  for (int64_t b : box.asArrayRef())
    out.box.push_back(b < 0 || b > UINT32_MAX ? 0 : static_cast<uint32_t>(b));
  if (Attribute a = map.get("swizzle")) {
    auto swizzle = dyn_cast<IntegerAttr>(a);
    if (!swizzle || swizzle.getInt() < 0 || swizzle.getInt() > UINT32_MAX)
      return "needs swizzle in bytes (an integer)";
    out.swizzle = static_cast<uint32_t>(swizzle.getInt());
  }
  return "";
}

bool elemFor(Type t, rt::ElemType &out) {
  if (t.isF32())
    out = rt::ElemType::F32;
  else if (t.isBF16())
    out = rt::ElemType::BF16;
  else if (t.isF16())
    out = rt::ElemType::F16;
  else if (t.isInteger(8))
    out = rt::ElemType::U8;
  else if (t.isInteger(32))
    out = rt::ElemType::I32;
  else
    return false;
  return true;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  DialectRegistry registry;
  mlir::attnqat::registerAllDialects(registry);
  mlir::attnqat::registerAllPasses();
  llvm::cl::ParseCommandLineOptions(argc, argv, "attnqat GPU artifact compiler\n");
  MLIRContext context(registry);
  llvm::SourceMgr sourceMgr;
  std::string error;
  auto file = openInputFile(inputFile, &error);
  if (!file)
    return fail(error);
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1; // the parser printed the diagnostic

  PassManager generate(&context);
  mlir::attnqat::ConvertAttnQATToGPUKernelsOptions generateOptions;
  generateOptions.tensorCores = tensorCores;
  generateOptions.dumpPCodes = dumpPCodes;
  generateOptions.packedOperands = packedOperands;
  generateOptions.blockScaledMma = blockScaledMma || llvm::is_contained(chips, "sm_120a");
  generateOptions.tcgen05Mma = tcgen05Mma || llvm::is_contained(chips, "sm_100a");
  generateOptions.warpgroupMma =
      warpgroupMma.getNumOccurrences() ? bool(warpgroupMma) : llvm::is_contained(chips, "sm_90a");
  generateOptions.tmaLoads = tmaLoads;
  generateOptions.backwardTmaLoads = backwardTmaLoads;
  generate.addPass(mlir::attnqat::createConvertAttnQATToGPUKernels(generateOptions));
  if (failed(generate.run(*module)))
    return 1;
  auto kernelsModule = dyn_cast_or_null<gpu::GPUModuleOp>(
      SymbolTable::lookupSymbolIn(*module, "attnqat_kernels"));
  if (!kernelsModule || kernelsModule.getOps<gpu::GPUFuncOp>().empty())
    return fail("the module has no attnqat op with a GPU kernel");

  rt::Artifact artifact;
  // Kernel descriptions, from the generator's attributes and signatures.
  for (gpu::GPUFuncOp func : kernelsModule.getOps<gpu::GPUFuncOp>()) {
    StringRef name = func.getName();
    KernelInfo info = classify(name);
    rt::Kernel kernel;
    kernel.name = name.str();
    kernel.op = info.op;
    kernel.config = name.str();
    if (name.contains("_causal"))
      kernel.flags |= 0x1;
    if (name.contains("_mask"))
      kernel.flags |= 0x2;
    if (name.contains("_lens"))
      kernel.flags |= 0x4;
    if (auto constraints = func->getAttrOfType<ArrayAttr>("attnqat.constraints"))
      for (StringRef text : constraints.getAsValueRange<StringAttr>()) {
        rt::Constraint c;
        std::string why;
        if (!rt::Constraint::parse(text, c, why))
          return fail("kernel " + name + ": bad constraint '" + text + "': " + why);
        kernel.constraints.push_back(std::move(c));
      }
    auto roles = func->getAttrOfType<ArrayAttr>("attnqat.params");
    auto launch = func->getAttrOfType<DictionaryAttr>("attnqat.launch");
    if (!roles || !launch)
      return fail("kernel " + name + " has no attnqat.params / attnqat.launch");
    for (auto [role, type] :
         llvm::zip_equal(roles.getAsValueRange<StringAttr>(),
                         func.getArgumentTypes())) {
      rt::Param param;
      param.role = role.str();
      if (info.codec) // [outer, axis, inner] travel as B, M, D
        param.role = llvm::StringSwitch<std::string>(role)
                         .Case("outer", "B")
                         .Case("axis", "M")
                         .Case("inner", "D")
                         .Default(param.role);
      if (auto memref = dyn_cast<MemRefType>(type)) {
        param.kind = rt::ParamKind::Ptr;
        if (!elemFor(memref.getElementType(), param.elem))
          return fail("kernel " + name + ": unsupported element type");
        param.access = accessFor(role);
        // The generator's overrides (a role one kernel reads, another writes).
        if (auto access = func->getAttrOfType<DictionaryAttr>("attnqat.access"))
          if (auto a = access.getAs<StringAttr>(role))
            param.access = llvm::StringSwitch<rt::Access>(a.getValue())
                               .Case("in", rt::Access::In)
                               .Case("out", rt::Access::Out)
                               .Default(rt::Access::InOut);
        param.align = std::max(1u, memref.getElementTypeBitWidth() / 8);
        // Wider accesses the generator asked for (the Blackwell forwards load
        // code words and 16-byte rows).
        if (auto aligns = func->getAttrOfType<DictionaryAttr>("attnqat.align"))
          if (auto a = aligns.getAs<IntegerAttr>(role))
            param.align = std::max<uint32_t>(param.align, a.getInt());
        param.hasExtent = true;
        std::string extent = extentFor(role, name, info);
        if (auto extents = func->getAttrOfType<DictionaryAttr>("attnqat.extents"))
          if (auto e = extents.getAs<StringAttr>(role))
            extent = e.getValue().str(); // the generator's, where it knows better
        // Named packed layouts ("t64": the sm_120a MMA's V^T, docs/gpu-kernels.md).
        if (auto layouts = func->getAttrOfType<DictionaryAttr>("attnqat.layouts"))
          if (auto l = layouts.getAs<StringAttr>(role))
            param.layout = l.getValue().str();
        if (!parseExpr(extent, param.extent))
          return fail("kernel " + name + ": bad extent '" + extent + "'");
      } else if (isa<LLVM::LLVMPointerType>(type)) {
        // A TMA descriptor the runtime encodes from a pointer argument.
        param.kind = rt::ParamKind::TensorMap;
        std::string why = tensorMapFor(func, role, param.tensorMap);
        if (!why.empty())
          return fail("kernel " + name + ": tensor map '" + role + "' " + why);
      } else {
        param.kind = type.isF32() ? rt::ParamKind::F32 : rt::ParamKind::I64;
      }
      kernel.params.push_back(std::move(param));
    }
    kernel.variants.clear();
    artifact.kernels.push_back(std::move(kernel));
  }

  // One image per kernel and chip, compiled in parallel: LLVM's NVPTX
  // back end and ptxas take most of the time and run one module at a time,
  // so a module per kernel lets an op's kernels (the wgmma and mma.sync
  // forwards) compile side by side. Each image is compiled on its own, so
  // the artifact does not depend on the number of threads.
  auto forChip = [&](gpu::GPUFuncOp func, StringRef chip) {
    auto only = func->getAttrOfType<ArrayAttr>("attnqat.chips");
    return !only || llvm::is_contained(only.getAsValueRange<StringAttr>(), chip);
  };
  struct Job {
    size_t kernel;
    std::string chip;
    OwningOpRef<ModuleOp> module;
    std::optional<std::string> bytes; // the image, once compiled
  };
  std::vector<Job> jobs;
  SmallVector<gpu::GPUFuncOp> funcs(kernelsModule.getOps<gpu::GPUFuncOp>());
  for (const std::string &chip : chips)
    for (auto [i, func] : llvm::enumerate(funcs)) {
      if (!forChip(func, chip))
        continue; // no variant: the runtime reports NO_KERNEL_FOR_CHIP
      Job job{i, chip, ModuleOp::create(module->getLoc()), std::nullopt};
      // The kernel module with this kernel and everything that is not a
      // kernel (globals, declarations).
      Operation *only = kernelsModule->cloneWithoutRegions();
      Block &body = only->getRegion(0).emplaceBlock();
      for (Operation &op : kernelsModule.getBody()->getOperations()) {
        auto other = dyn_cast<gpu::GPUFuncOp>(op);
        if (!other || other == func)
          body.push_back(op.clone());
      }
      job.module->getBody()->push_back(only);
      jobs.push_back(std::move(job));
    }
  // Every dialect the lowering uses is loaded before the threads start.
  {
    PassManager probe(&context);
    mlir::attnqat::AttnQATGPUKernelsPipelineOptions options;
    options.chip = chips.front();
    mlir::attnqat::buildAttnQATGPUKernelLowering(probe, options);
    DialectRegistry needed;
    probe.getDependentDialects(needed);
    context.appendDialectRegistry(needed);
    context.loadAllAvailableDialects();
  }
  ParallelDiagnosticHandler diagnostics(&context);
  mlir::parallelFor(&context, 0, jobs.size(), [&](size_t i) {
    diagnostics.setOrderIDForThread(i);
    llvm::scope_exit done([&] { diagnostics.eraseOrderIDForThread(); });
    Job &job = jobs[i];
    PassManager lower(&context);
    mlir::attnqat::AttnQATGPUKernelsPipelineOptions options;
    options.chip = job.chip;
    options.format = format == "cubin" ? "bin" : "isa";
    mlir::attnqat::buildAttnQATGPUKernelLowering(lower, options);
    if (failed(lower.run(*job.module)))
      return;
    auto binary = dyn_cast_or_null<gpu::BinaryOp>(
        SymbolTable::lookupSymbolIn(*job.module, "attnqat_kernels"));
    if (!binary || binary.getObjects().size() != 1)
      return;
    StringRef bytes = cast<gpu::ObjectAttr>(binary.getObjects()[0]).getObject().getValue();
    job.bytes = bytes.str();
  });
  for (Job &job : jobs) {
    rt::Kernel &kernel = artifact.kernels[job.kernel];
    if (!job.bytes)
      return fail("compiling " + kernel.name + " for " + job.chip + " failed");
    rt::Image image;
    image.label = job.chip + "/" + kernel.name;
    image.chip = job.chip;
    image.format = format == "cubin" ? rt::ImageFormat::Cubin : rt::ImageFormat::Ptx;
    image.data.assign(job.bytes->begin(), job.bytes->end());
    uint32_t imageIndex = artifact.images.size();
    artifact.images.push_back(std::move(image));
    gpu::GPUFuncOp func = funcs[job.kernel];
    auto launch = func->getAttrOfType<DictionaryAttr>("attnqat.launch");
    int64_t block = cast<IntegerAttr>(launch.get("block")).getInt();
    KernelInfo info = classify(kernel.name);
    rt::LaunchVariant variant;
    variant.chip = job.chip;
    variant.image = imageIndex;
    // The generator's grid (three expressions of the problem dims); the
    // codec kernels' one thread per element row of [outer, axis, inner].
    std::array<std::string, 3> grid = {
        "ceil(" + std::string(info.codec ? "B*M*D" : "B*Hq*M") + "/" +
            std::to_string(block) + ")",
        "1", "1"};
    if (auto exprs = dyn_cast_or_null<ArrayAttr>(launch.get("grid"))) {
      if (exprs.size() != 3)
        return fail("kernel " + kernel.name + ": the grid needs three expressions");
      for (auto [i, e] : llvm::enumerate(exprs.getAsValueRange<StringAttr>()))
        grid[i] = e.str();
    }
    for (int i = 0; i < 3; ++i)
      if (!parseExpr(grid[i], variant.grid[i]))
        return fail("kernel " + kernel.name + ": bad grid expression '" + grid[i] + "'");
    variant.block = {static_cast<uint32_t>(block), 1, 1};
    if (auto shared = dyn_cast_or_null<IntegerAttr>(launch.get("dynamic_shared")))
      variant.dynamicSharedBytes = static_cast<uint32_t>(shared.getInt());
    kernel.variants.push_back(std::move(variant));
  }
  // Kernels made only for chips this artifact does not hold (attnqat.chips)
  // stay out of it.
  llvm::erase_if(artifact.kernels,
                 [](const rt::Kernel &kernel) { return kernel.variants.empty(); });
  rt::ArtifactError written = rt::writeArtifactFile(outputFile, artifact);
  if (written.code != rt::ArtifactErrc::None)
    return fail("writing " + outputFile + ": " + written.message);
  llvm::outs() << "wrote " << outputFile << ": " << artifact.kernels.size()
               << " kernels for " << llvm::join(chips, ", ") << "\n";
  return 0;
}
