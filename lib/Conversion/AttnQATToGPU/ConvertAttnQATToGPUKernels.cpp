//===- ConvertAttnQATToGPUKernels.cpp - convert-attnqat-to-gpu-kernels ----===//
//
// The pass: for every attnqat op of the module it declares a kernel in
// gpu.module @attnqat_kernels (parameters named by role, launch, constraints,
// extents and access recorded as attributes for attnqat-compile), builds its
// body with the codec, baseline or tensor-core builders, and links the op to
// it (`attnqat.kernel`).
//
//===----------------------------------------------------------------------===//

#include "attnqat/Conversion/Passes.h"

#include "KernelBuilders.h"
#include "TensorCoreAttention.h"

#include "mlir/IR/SymbolTable.h"

#include <array>
#include <map>
#include <string>

namespace mlir::attnqat {
#define GEN_PASS_DEF_CONVERTATTNQATTOGPUKERNELS
#include "attnqat/Conversion/Passes.h.inc"
} // namespace mlir::attnqat

using namespace mlir;
using namespace mlir::attnqat;
using namespace mlir::attnqat::gpukernels;

namespace {

struct ConvertAttnQATToGPUKernelsPass
    : mlir::attnqat::impl::ConvertAttnQATToGPUKernelsBase<
          ConvertAttnQATToGPUKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    if (blockThreads <= 0 || blockThreads > 1024) {
      module.emitError() << "convert-attnqat-to-gpu-kernels: block-threads "
                            "must be in [1, 1024]";
      return signalPassFailure();
    }
    SmallVector<Operation *> ops;
    SmallVector<AttentionOp> attentions;
    SmallVector<AttentionBackwardOp> backwards;
    module.walk([&](Operation *op) {
      if (isa<QuantizeOp, FakeQuantOp, DequantizeOp>(op))
        ops.push_back(op);
      else if (auto attention = dyn_cast<AttentionOp>(op))
        attentions.push_back(attention);
      else if (auto backward = dyn_cast<AttentionBackwardOp>(op))
        backwards.push_back(backward);
    });
    if (ops.empty() && attentions.empty() && backwards.empty())
      return;

    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    auto gpuModule = dyn_cast_or_null<gpu::GPUModuleOp>(
        SymbolTable::lookupSymbolIn(module, "attnqat_kernels"));
    if (!gpuModule) {
      gpuModule = gpu::GPUModuleOp::create(b, module.getLoc(), "attnqat_kernels");
      module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                      UnitAttr::get(ctx));
    }
    SymbolTable kernels(gpuModule);
    std::map<CodecKernelKey, gpu::GPUFuncOp> built;
    Type index = IndexType::get(ctx);
    // Buffers are flat; their extent comes from the size arguments. The
    // static bound only lets the bare-pointer calling convention apply, so a
    // kernel takes plain device pointers (what the runtime passes).
    auto dynamic1D = [](Type elt) {
      return MemRefType::get({int64_t(1) << 40}, elt);
    };
    // One codec kernel per key (a thread per 64 elements; the t64 layout a
    // thread per block).
    auto codecKernel = [&](Location loc, const CodecKernelKey &key) -> gpu::GPUFuncOp {
      gpu::GPUFuncOp &func = built[key];
      if (func)
        return func;
      std::string name = codecKernelName(key);
      if ((func = kernels.lookup<gpu::GPUFuncOp>(name)))
        return func;
      SmallVector<Type> args{dynamic1D(key.elementType)};
      SmallVector<Attribute> roles{StringAttr::get(ctx, "input")};
      if (key.kind == CodecKind::Dequantize) {
        args = {dynamic1D(b.getI8Type()), dynamic1D(b.getI8Type()), dynamic1D(key.elementType)};
        roles = {StringAttr::get(ctx, "codes"), StringAttr::get(ctx, "scales"),
                 StringAttr::get(ctx, "output")};
      } else if (key.kind == CodecKind::Quantize) {
        args.append({dynamic1D(b.getI8Type()), dynamic1D(b.getI8Type())});
        roles.append({StringAttr::get(ctx, "codes"), StringAttr::get(ctx, "scales")});
      } else {
        args.push_back(dynamic1D(key.elementType));
        roles.push_back(StringAttr::get(ctx, "output"));
      }
      args.append({index, index, index});
      roles.append({StringAttr::get(ctx, "outer"), StringAttr::get(ctx, "axis"),
                    StringAttr::get(ctx, "inner")});
      OpBuilder kb = OpBuilder::atBlockEnd(gpuModule.getBody());
      func = gpu::GPUFuncOp::create(kb, loc, name, kb.getFunctionType(args, {}));
      func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), kb.getUnitAttr());
      func->setAttr("attnqat.params", ArrayAttr::get(ctx, roles));
      if (key.kind == CodecKind::Dequantize) // codes and scales are read here
        func->setAttr("attnqat.access",
                      DictionaryAttr::get(ctx, {NamedAttribute(StringAttr::get(ctx, "codes"),
                                                               StringAttr::get(ctx, "in")),
                                                NamedAttribute(StringAttr::get(ctx, "scales"),
                                                               StringAttr::get(ctx, "in"))}));
      // attnqat-compile's names: outer, axis, inner travel as B, M, D.
      Attribute grid = kb.getStrArrayAttr(
          {"ceil(B*M*D/" + std::to_string(blockThreads * gpukernels::kCodecElementsPerThread) +
               ")",
           "1", "1"});
      if (key.layout == CodecLayout::T64) {
        std::string perTile = std::to_string(64 / key.format.getBlockSize());
        // Threads: B*D*ceil(M/64)*perTile, as ceil(B*D*perTile/block) x
        // ceil(M/64) blocks (the kernel linearizes the 2-D grid).
        grid = kb.getStrArrayAttr({"ceil(B*D*" + perTile + "/" +
                                       std::to_string(blockThreads) + ")",
                                   "ceil(M/64)", "1"});
        auto extent = [&](StringRef role, std::string expr) {
          return NamedAttribute(StringAttr::get(ctx, role), StringAttr::get(ctx, expr));
        };
        func->setAttr("attnqat.extents",
                      DictionaryAttr::get(ctx, {extent("codes", "B*D*ceil(M/64)*32"),
                                                extent("scales", "B*D*ceil(M/64)*" + perTile)}));
        func->setAttr("attnqat.layouts",
                      DictionaryAttr::get(ctx, {extent("codes", "t64"), extent("scales", "t64")}));
      }
      func->setAttr("attnqat.launch",
                    DictionaryAttr::get(
                        ctx, {NamedAttribute(StringAttr::get(ctx, "block"),
                                             kb.getI64IntegerAttr(blockThreads)),
                              NamedAttribute(StringAttr::get(ctx, "grid"), grid)}));
      func.setKnownBlockSizeAttr(
          kb.getDenseI32ArrayAttr({static_cast<int32_t>(blockThreads), 1, 1}));
      buildCodecKernel(func, key);
      OpBuilder end = OpBuilder::atBlockEnd(&func.getBody().front());
      gpu::ReturnOp::create(end, func.getLoc());
      kernels.insert(func);
      return func;
    };
    for (Operation *op : ops) {
      CodecKernelKey key;
      if (auto q = dyn_cast<QuantizeOp>(op))
        key = {CodecKind::Quantize, q.getInput().getType().getElementType(),
               q.getFormat()};
      else if (auto d = dyn_cast<DequantizeOp>(op))
        key = {CodecKind::Dequantize, d.getType().getElementType(), d.getFormat()};
      else {
        auto f = cast<FakeQuantOp>(op);
        key = {CodecKind::FakeQuant, f.getType().getElementType(), f.getFormat()};
      }
      gpu::GPUFuncOp func = codecKernel(op->getLoc(), key);
      // The Blackwell forwards read V in the t64 layout.
      if ((blockScaledMma || tcgen05Mma) && key.kind == CodecKind::Quantize) {
        CodecKernelKey t64 = key;
        t64.layout = CodecLayout::T64;
        codecKernel(op->getLoc(), t64);
      }
      op->setAttr("attnqat.kernel",
                  SymbolRefAttr::get(ctx, "attnqat_kernels",
                                     {FlatSymbolRefAttr::get(func.getNameAttr())}));
    }

    // Parameters shared by the attention kernels: Q^F, K^F, V^F, the mask and
    // key lengths first; the problem dims and softmax scale last (what
    // setUpRowKernel reads).
    // With `packed`, Q, K, V are codes (i8) with their scales right after.
    auto addOperandParams = [&](Type elt, RankedTensorType mask, bool keyLengths,
                                SmallVector<Type> &args,
                                SmallVector<StringRef> &roles, bool packed = false) {
      args.append(3, dynamic1D(packed ? b.getI8Type() : elt));
      roles.append({"q", "k", "v"});
      if (packed) {
        args.append(3, dynamic1D(b.getI8Type()));
        roles.append({"q_scales", "k_scales", "v_scales"});
      }
      if (mask) {
        args.push_back(dynamic1D(mask.getElementType()));
        roles.push_back("mask");
      }
      if (keyLengths) {
        args.push_back(dynamic1D(b.getI32Type()));
        roles.push_back("key_lengths");
      }
    };
    auto addDimParams = [&](SmallVector<Type> &args,
                            SmallVector<StringRef> &roles) {
      args.append(6, index);
      roles.append({"B", "Hq", "Hkv", "M", "N", "D"});
      args.push_back(b.getF32Type());
      roles.push_back("scale");
    };
    // Attention kernels: one thread per query row, parameters named by role.
    // The launch travels as attributes: `attnqat.launch` {block, grid: three
    // expressions of the problem dims} and `attnqat.constraints` (what the
    // kernel was specialized on), read by attnqat-compile.
    auto declareKernel = [&](Location loc, StringRef name, ArrayRef<Type> args,
                             ArrayRef<StringRef> roles,
                             std::array<StringRef, 3> grid, int64_t block,
                             ArrayRef<std::string> constraints = {},
                             int64_t dynamicShared = 0) {
      SmallVector<Attribute> roleAttrs;
      for (StringRef r : roles)
        roleAttrs.push_back(StringAttr::get(ctx, r));
      OpBuilder kb = OpBuilder::atBlockEnd(gpuModule.getBody());
      auto func = gpu::GPUFuncOp::create(kb, loc, name, kb.getFunctionType(args, {}));
      func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), kb.getUnitAttr());
      func->setAttr("attnqat.params", ArrayAttr::get(ctx, roleAttrs));
      SmallVector<NamedAttribute> launch{
          NamedAttribute(StringAttr::get(ctx, "block"), kb.getI64IntegerAttr(block)),
          NamedAttribute(StringAttr::get(ctx, "grid"),
                         kb.getStrArrayAttr({grid[0], grid[1], grid[2]}))};
      if (dynamicShared)
        launch.push_back(NamedAttribute(StringAttr::get(ctx, "dynamic_shared"),
                                        kb.getI64IntegerAttr(dynamicShared)));
      func->setAttr("attnqat.launch", DictionaryAttr::get(ctx, launch));
      if (!constraints.empty()) {
        SmallVector<StringRef> cs(constraints.begin(), constraints.end());
        func->setAttr("attnqat.constraints", kb.getStrArrayAttr(cs));
      }
      func.setKnownBlockSizeAttr(
          kb.getDenseI32ArrayAttr({static_cast<int32_t>(block), 1, 1}));
      return func;
    };
    std::string rowGrid = "ceil(B*Hq*M/" + std::to_string(blockThreads) + ")";
    auto finishKernel = [&](gpu::GPUFuncOp func) {
      OpBuilder end = OpBuilder::atBlockEnd(&func.getBody().front());
      gpu::ReturnOp::create(end, func.getLoc());
      kernels.insert(func);
    };
    // The alignment (bytes) a kernel's loads need of its pointer `roles`,
    // which the runtime checks at launch (attnqat.align).
    auto setAlign = [&](gpu::GPUFuncOp func,
                        ArrayRef<std::pair<StringRef, int64_t>> roles) {
      SmallVector<NamedAttribute> aligns;
      for (auto [role, bytes] : roles)
        aligns.push_back(NamedAttribute(StringAttr::get(ctx, role), b.getI64IntegerAttr(bytes)));
      func->setAttr("attnqat.align", DictionaryAttr::get(ctx, aligns));
    };
    auto link = [&](Operation *op, gpu::GPUFuncOp func) {
      op->setAttr("attnqat.kernel",
                  SymbolRefAttr::get(ctx, "attnqat_kernels",
                                     {FlatSymbolRefAttr::get(func.getNameAttr())}));
    };

    // The P-code dump's scales (and frames): one per row and P block.
    auto pBlocksExtent = [](ConfigAttr config) {
      return "B*Hq*M*ceil(N/" + std::to_string(config.getP().getBlockSize()) + ")";
    };
    // Extents of packed operands: codes two per byte along the block axis,
    // one scale per block; with `vT64`, V in the t64 layout (V^T, keys padded
    // to 64), which `layouts` then names for the artifact.
    auto packedExtents = [&](ConfigAttr config, bool vT64 = false,
                             gpu::GPUFuncOp layouts = nullptr) {
      auto blocks = [](FP4FormatAttrInterface f) {
        return std::to_string(f.getBlockSize());
      };
      auto entry = [&](StringRef role, std::string expr) {
        return NamedAttribute(StringAttr::get(ctx, role), StringAttr::get(ctx, expr));
      };
      if (vT64)
        layouts->setAttr("attnqat.layouts",
                         DictionaryAttr::get(ctx, {entry("v", "t64"), entry("v_scales", "t64")}));
      std::string vPerTile = std::to_string(64 / config.getV().getBlockSize());
      return SmallVector<NamedAttribute>{
          entry("q", "B*Hq*M*ceil(D/2)"), entry("k", "B*Hkv*N*ceil(D/2)"),
          entry("v", vT64 ? "B*Hkv*D*ceil(N/64)*32" : "B*Hkv*ceil(N/2)*D"),
          entry("q_scales", "B*Hq*M*ceil(D/" + blocks(config.getQ()) + ")"),
          entry("k_scales", "B*Hkv*N*ceil(D/" + blocks(config.getK()) + ")"),
          entry("v_scales", vT64 ? "B*Hkv*D*ceil(N/64)*" + vPerTile
                                 : "B*Hkv*ceil(N/" + blocks(config.getV()) + ")*D")};
    };
    // The tensor-core forward of `op`; with `packedVariant` (mode fp4 always)
    // it reads Q, K, V as codes and scales.
    auto tcForward = [&](AttentionOp op, bool packedVariant,
                         bool wg = false) -> gpu::GPUFuncOp {
        int64_t d = tc::headDim(op);
        RankedTensorType maskType =
            op.getMask() ? cast<RankedTensorType>(op.getMask().getType()) : nullptr;
        Type outElt = op.getOutput().getType().getElementType();
        // attention_fwd_tc_<config>_d<D>_bf16[_of32]: the head dim and an f32
        // O specialize it too.
        // Mode fp4 takes codes and scales (named by its output type).
        bool packed = op.getConfig().getMode() == Mode::FP4 || packedVariant;
        Type nameElt = op.getConfig().getMode() == Mode::FP4 ? outElt : b.getBF16Type();
        std::string typeSuffix = "_" + typeName(nameElt);
        std::string name =
            attentionKernelName(wg ? "attention_fwd_wg_" : "attention_fwd_tc_",
                                op.getConfig(), op.getCausal(),
                                maskType, static_cast<bool>(op.getKeyLengths()),
                                nameElt);
        name.insert(name.size() - typeSuffix.size(), "_d" + std::to_string(d));
        if (outElt.isF32() && !(packed && nameElt == outElt))
          name += "_of32";
        if (packedVariant && op.getConfig().getMode() != Mode::FP4)
          name += "_packed";
        bool dumpP = dumpPCodes && op.getConfig().isQuantized();
        if (dumpP)
          name += "_pdump";
        auto func = kernels.lookup<gpu::GPUFuncOp>(name);
        if (!func) {
          SmallVector<Type> args;
          SmallVector<StringRef> roles;
          addOperandParams(b.getBF16Type(), maskType, static_cast<bool>(op.getKeyLengths()),
                           args, roles, packed);
          args.push_back(dynamic1D(outElt));
          roles.push_back("o");
          if (op.getConfig().getMode() == Mode::QAT) {
            // O' in O's element type (BF16), as FlashAttention keeps O for its
            // D term: half the bytes of f32 in the saved state and the
            // forward's stores; the backward's delta pre-pass reads it.
            args.push_back(dynamic1D(outElt));
            roles.push_back("o_prime");
          }
          args.append(3, dynamic1D(b.getF32Type()));
          roles.append({"lse", "m", "l"});
          if (dumpP) {
            args.append({dynamic1D(b.getI8Type()), dynamic1D(b.getI8Type()),
                         dynamic1D(b.getF32Type())});
            roles.append({"p_codes", "p_scales", "p_frames"});
          }
          if (wg && tmaLoads) { // encoded by the runtime per launch
            args.append(3, LLVM::LLVMPointerType::get(ctx));
            roles.append({"q_map", "k_map", "v_map"});
          }
          addDimParams(args, roles);
          // The wgmma forward may be persistent: a block per SM.
          std::array<std::string, 3> dims = {"ceil(M/" + std::to_string(tc::kQueryTile) + ")", "Hq",
                                             "B"};
          if (wg)
            dims = tc::wgmmaGrid(op);
          std::array<StringRef, 3> grid = {dims[0], dims[1], dims[2]};
          func =
              declareKernel(op.getLoc(), name, args, roles, grid,
                            wg ? tc::wgmmaThreads(op) : tc::kThreads, {"D == " + std::to_string(d)},
                            wg ? tc::wgmmaSharedBytes(op) : tc::forwardSharedBytes(op));
          if (wg) // wgmma and setmaxnreg are sm_90a's alone
            func->setAttr("attnqat.chips", b.getStrArrayAttr({"sm_90a"}));
          if (!packed) // Q, K, V rows arrive by 16-byte cp.async
            setAlign(func, {{"q", 16}, {"k", 16}, {"v", 16}});
          std::string pBlocks = pBlocksExtent(op.getConfig());
          if (dumpP)
            func->setAttr(
                "attnqat.access",
                DictionaryAttr::get(
                    ctx, {NamedAttribute(StringAttr::get(ctx, "p_codes"),
                                         StringAttr::get(ctx, "out")),
                          NamedAttribute(StringAttr::get(ctx, "p_frames"),
                                         StringAttr::get(ctx, "out")),
                          NamedAttribute(StringAttr::get(ctx, "p_scales"),
                                         StringAttr::get(ctx, "out"))}));
          SmallVector<NamedAttribute> dumpExtents;
          if (dumpP)
            dumpExtents = {NamedAttribute(StringAttr::get(ctx, "p_codes"),
                                          StringAttr::get(ctx, "B*Hq*M*N")),
                           NamedAttribute(StringAttr::get(ctx, "p_scales"),
                                          StringAttr::get(ctx, pBlocks)),
                           NamedAttribute(StringAttr::get(ctx, "p_frames"),
                                          StringAttr::get(ctx, pBlocks))};
          if (dumpP && !packed)
            func->setAttr("attnqat.extents", DictionaryAttr::get(ctx, dumpExtents));
          if (packed) {
            SmallVector<NamedAttribute> extents = packedExtents(op.getConfig());
            extents.append(dumpExtents.begin(), dumpExtents.end());
            func->setAttr("attnqat.extents", DictionaryAttr::get(ctx, extents));
          }
          if (wg) {
            if (tmaLoads)
              tc::describeWgmmaTensorMaps(func, op);
            tc::buildWgmmaForward(func, op, dumpP);
            finishKernel(func);
            return func;
          }
          if (int64_t blocks = tc::forwardBlocksPerSM(op))
            func->setAttr("nvvm.minctasm", b.getI32IntegerAttr(blocks));
          tc::buildForward(func, op, dumpP, packed);
          finishKernel(func);
        }
        return func;
    };
    // The Blackwell forwards on block-scaled FP4 MMA (packed operands, V in
    // the t64 layout), each compiled only for its chip: sm_120a's on
    // mma.block_scale, sm_100a's on tcgen05.
    enum class Blackwell { SM120a, SM100a };
    auto bsForward = [&](AttentionOp op, Blackwell chip) -> gpu::GPUFuncOp {
      bool tcgen05 = chip == Blackwell::SM100a;
      int64_t d = tc::headDim(op);
      RankedTensorType maskType =
          op.getMask() ? cast<RankedTensorType>(op.getMask().getType()) : nullptr;
      Type outElt = op.getOutput().getType().getElementType();
      bool fp4 = op.getConfig().getMode() == Mode::FP4;
      Type nameElt = fp4 ? outElt : b.getBF16Type();
      std::string typeSuffix = "_" + typeName(nameElt);
      std::string name = attentionKernelName(
          tcgen05 ? "attention_fwd_tcgen05_" : "attention_fwd_bs_", op.getConfig(),
          op.getCausal(), maskType, static_cast<bool>(op.getKeyLengths()), nameElt);
      name.insert(name.size() - typeSuffix.size(), "_d" + std::to_string(d));
      if (outElt.isF32() && !fp4)
        name += "_of32";
      if (auto func = kernels.lookup<gpu::GPUFuncOp>(name))
        return func;
      SmallVector<Type> args;
      SmallVector<StringRef> roles;
      addOperandParams(b.getI8Type(), maskType, static_cast<bool>(op.getKeyLengths()), args,
                       roles, /*packed=*/true);
      args.push_back(dynamic1D(outElt));
      roles.push_back("o");
      if (!fp4) { // BF16, as in the packed training state
        args.push_back(dynamic1D(b.getBF16Type()));
        roles.push_back("o_prime");
      }
      args.append(3, dynamic1D(b.getF32Type()));
      roles.append({"lse", "m", "l"});
      addDimParams(args, roles);
      std::string qTiles = "ceil(M/" + std::to_string(tcgen05 ? 128 : tc::kQueryTile) + ")";
      auto func = declareKernel(
          op.getLoc(), name, args, roles, {qTiles, "Hq", "B"},
          tcgen05 ? tc::tcgen05Threads() : tc::kThreads * tc::blockScaledWarpsPerRows(op),
          {"D == " + std::to_string(d)}, tcgen05 ? tc::tcgen05SharedBytes(op) : 0);
      func->setAttr("attnqat.chips", b.getStrArrayAttr({tcgen05 ? "sm_100a" : "sm_120a"}));
      // The widest loads of the packed operands: code words (sm_120a) or
      // 16-byte rows (sm_100a); scale words (NVFP4) or halves (MXFP4).
      int64_t codeAlign = tcgen05 ? 16 : 4;
      int64_t qkScaleAlign = op.getConfig().getQ().getBlockSize() == 16 ? 4 : 2;
      int64_t vScaleAlign = op.getConfig().getV().getBlockSize() == 16 ? 4 : 2;
      setAlign(func, {{"q", codeAlign},
                      {"k", codeAlign},
                      {"v", codeAlign},
                      {"q_scales", qkScaleAlign},
                      {"k_scales", qkScaleAlign},
                      {"v_scales", vScaleAlign}});
      func->setAttr("attnqat.extents",
                    DictionaryAttr::get(ctx, packedExtents(op.getConfig(), /*vT64=*/true, func)));
      if (tcgen05)
        tc::buildTcgen05Forward(func, op);
      else
        tc::buildBlockScaledForward(func, op);
      finishKernel(func);
      return func;
    };
    for (AttentionOp op : attentions) {
      std::string why, bsWhy;
      gpu::GPUFuncOp bsFunc;
      if ((blockScaledMma || tcgen05Mma) && tc::coversBlockScaledForward(op, bsWhy)) {
        if (blockScaledMma)
          bsFunc = bsForward(op, Blackwell::SM120a);
        if (tcgen05Mma)
          bsFunc = bsForward(op, Blackwell::SM100a);
      }
      if (tensorCores && tc::coversForward(op, why)) {
        auto func = tcForward(op, /*packedVariant=*/false);
        Mode mode = op.getConfig().getMode();
        if (warpgroupMma && mode != Mode::FP4)
          func = tcForward(op, /*packedVariant=*/false, /*wg=*/true);
        if (packedOperands && (mode == Mode::QAT || mode == Mode::DropIn))
          tcForward(op, /*packedVariant=*/true);
        // An fp4 op's operands are already packed: on Blackwell its kernel is
        // the block-scaled one (sm_100a's when both chips are asked for).
        link(op, bsFunc && mode == Mode::FP4 ? bsFunc : func);
        continue;
      }
      why.clear();
      std::string name = baselineForwardName(op, why);
      if (name.empty()) {
        op.emitWarning() << "convert-attnqat-to-gpu-kernels: no GPU kernel "
                            "for an attention with "
                         << why << " yet";
        continue;
      }
      auto func = kernels.lookup<gpu::GPUFuncOp>(name);
      if (!func) {
        bool qat = op.getConfig().getMode() == Mode::QAT;
        Type f32 = b.getF32Type();
        SmallVector<Type> args;
        SmallVector<StringRef> roles;
        addOperandParams(op.getQuery().getType().getElementType(),
                         op.getMask() ? cast<RankedTensorType>(op.getMask().getType())
                                      : nullptr,
                         static_cast<bool>(op.getKeyLengths()), args, roles);
        args.push_back(dynamic1D(op.getOutput().getType().getElementType()));
        roles.push_back("o");
        if (qat) {
          args.push_back(dynamic1D(f32));
          roles.push_back("o_prime");
        }
        args.append(3, dynamic1D(f32));
        roles.append({"lse", "m", "l"});
        if (!op.getOutput().getType().getElementType().isF32()) {
          args.push_back(dynamic1D(f32));
          roles.push_back("o_acc");
        }
        addDimParams(args, roles);
        func = declareKernel(op.getLoc(), name, args, roles, {rowGrid, "1", "1"},
                             blockThreads);
        buildBaselineForward(func, op, /*keyTile=*/64);
        finishKernel(func);
      }
      link(op, func);
    }

    // The tensor-core backward's pre-pass, delta = rowsum(dO * O_saved): one
    // per module and type of O_saved, declared with the first backward that
    // needs it.
    auto deltaKernel = [&](Location loc, Type savedElt) {
      std::string name = savedElt.isF32() ? "attention_bwd_tc_delta_bf16"
                                          : "attention_bwd_tc_delta_obf16_bf16";
      if (auto existing = kernels.lookup<gpu::GPUFuncOp>(name))
        return existing;
      Type f32 = b.getF32Type();
      SmallVector<Type> args{dynamic1D(savedElt), dynamic1D(b.getBF16Type()), dynamic1D(f32)};
      SmallVector<StringRef> roles{"o_saved", "do", "delta"};
      args.append(6, IndexType::get(ctx));
      roles.append({"B", "Hq", "Hkv", "M", "N", "D"});
      auto delta = declareKernel(loc, name, args, roles,
                                 {"ceil(B*Hq*M/" +
                                      std::to_string(tc::kThreads / tc::kRowDotLanes) + ")",
                                  "1", "1"},
                                 tc::kThreads);
      delta->setAttr("attnqat.access",
                     DictionaryAttr::get(ctx, {NamedAttribute(StringAttr::get(ctx, "delta"),
                                                              StringAttr::get(ctx, "out"))}));
      tc::buildRowDot(delta);
      finishKernel(delta);
      return delta;
    };
    // The wgmma backward's f32 dQ tiles: ceil(M/64) tiles of 64 rows per
    // query head.
    const std::string dqTilesExtent = "B*Hq*ceil(M/" + std::to_string(tc::kQueryTile) + ")*" +
                                      std::to_string(tc::kQueryTile) + "*D";
    // dQ in BF16 from the wgmma backward's f32 tiles (its post-pass).
    auto dqFromTilesKernel = [&](Location loc) {
      StringRef name = "attention_bwd_wg_dq_bf16";
      if (auto existing = kernels.lookup<gpu::GPUFuncOp>(name))
        return existing;
      SmallVector<Type> args{dynamic1D(b.getF32Type()), dynamic1D(b.getBF16Type())};
      SmallVector<StringRef> roles{"dq_tiles", "dq"};
      args.append(6, IndexType::get(ctx));
      roles.append({"B", "Hq", "Hkv", "M", "N", "D"});
      auto func = declareKernel(loc, name, args, roles,
                                {"ceil(M/" + std::to_string(tc::kQueryTile) + ")", "Hq", "B"},
                                tc::kThreads, {"D in {64, 128}"});
      func->setAttr("attnqat.access",
                    DictionaryAttr::get(ctx, {NamedAttribute(StringAttr::get(ctx, "dq"),
                                                             StringAttr::get(ctx, "out"))}));
      func->setAttr(
          "attnqat.extents",
          DictionaryAttr::get(ctx, {NamedAttribute(StringAttr::get(ctx, "dq_tiles"),
                                                   StringAttr::get(ctx, dqTilesExtent))}));
      setAlign(func, {{"dq_tiles", 16}, {"dq", 16}});
      tc::buildWgmmaDqFromTiles(func);
      finishKernel(func);
      return func;
    };
    // m and l are the forward's outputs, which a backward reads (by role,
    // attnqat-compile would take them for outputs).
    auto statsRead = [&] {
      return SmallVector<NamedAttribute>{
          NamedAttribute(StringAttr::get(ctx, "m"), StringAttr::get(ctx, "in")),
          NamedAttribute(StringAttr::get(ctx, "l"), StringAttr::get(ctx, "in"))};
    };
    for (AttentionBackwardOp op : backwards) {
      std::string why;
      // The tensor-core backward; with `packedVariant` it reads Q, K, V as
      // codes and scales (what a packed-state forward saved), with `vT64`
      // V in the t64 layout (what the sm_120a forward saved).
      // With `wg`, the sm_90a kernel on wgmma (BF16 operands).
      auto tcBackward = [&](bool packedVariant, bool vT64 = false,
                            bool wg = false) -> gpu::GPUFuncOp {
        StateType st = op.getState().getType();
        int64_t d = st.getQuery().getDimSize(3);
        Type f32 = b.getF32Type(), bf16 = b.getBF16Type();
        std::string name = attentionKernelName(wg ? "attention_bwd_wg_" : "attention_bwd_tc_",
                                               st.getConfig(),
                                               st.getCausal(), st.getMask(),
                                               st.getKeyLengths(), bf16);
        name.insert(name.size() - StringRef("_bf16").size(), "_d" + std::to_string(d));
        bool dumpP = dumpPCodes && st.getConfig().getMode() == Mode::QAT;
        if (dumpP)
          name += "_pdump";
        if (packedVariant)
          name += "_packed";
        if (vT64)
          name += "_t64";
        auto func = kernels.lookup<gpu::GPUFuncOp>(name);
        if (!func) {
          SmallVector<Type> args;
          SmallVector<StringRef> roles;
          addOperandParams(bf16, st.getMask(), st.getKeyLengths(), args, roles,
                           packedVariant);
          // The wgmma kernel writes dK and dV in BF16 (the training step's
          // gradients), the mma.sync one in f32.
          Type dkv = wg ? bf16 : f32;
          args.append({dynamic1D(f32), dynamic1D(f32), dynamic1D(f32), dynamic1D(bf16),
                       dynamic1D(f32), dynamic1D(dkv), dynamic1D(dkv)});
          roles.append({"m", "l", "delta", "do", wg ? "dq_tiles" : "dq_acc", "dk", "dv"});
          if (dumpP) {
            args.append({dynamic1D(b.getI8Type()), dynamic1D(b.getI8Type())});
            roles.append({"p_codes", "p_scales"});
          }
          // Encoded by the runtime per launch.
          const bool tmaMaps = wg && backwardTmaLoads &&
                               tc::wgmmaBackwardTakesTma(d, st.getCausal(),
                                                         st.getConfig().getMode());
          if (tmaMaps) {
            args.append(4, LLVM::LLVMPointerType::get(ctx));
            roles.append({"q_map", "k_map", "v_map", "do_map"});
          }
          addDimParams(args, roles);
          int64_t blockKeys = wg ? tc::wgmmaBackwardKeysPerBlock(d) : tc::kKeyTile;
          std::string keyTiles = "ceil(N/" + std::to_string(blockKeys) + ")";
          func = declareKernel(op.getLoc(), name, args, roles, {keyTiles, "Hkv", "B"},
                               wg ? tc::wgmmaBackwardThreads(d) : tc::kThreads,
                               {"D == " + std::to_string(d)},
                               wg ? tc::wgmmaBackwardSharedBytes(d, tmaMaps)
                                  : tc::backwardSharedBytes(d));
          // dQ is added in f32 pairs (red.global.add.v2.f32), or by the
          // wgmma kernel in whole tiles (cp.reduce.async.bulk, 16-byte aligned).
          if (wg) { // wgmma is sm_90a's alone; Q, K, V, dO rows by 16-byte cp.async
            func->setAttr("attnqat.chips", b.getStrArrayAttr({"sm_90a"}));
            // dK, dV stored as BF16 pairs (4 bytes).
            setAlign(func, {{"q", 16},
                            {"k", 16},
                            {"v", 16},
                            {"do", 16},
                            {"dq_tiles", 16},
                            {"dk", 4},
                            {"dv", 4}});
          } else {
            setAlign(func, {{"dq_acc", 8}});
          }
          StringRef dqRole = wg ? "dq_tiles" : "dq_acc";
          SmallVector<NamedAttribute> access = statsRead();
          access.append({
              NamedAttribute(StringAttr::get(ctx, "dk"), StringAttr::get(ctx, "out")),
              NamedAttribute(StringAttr::get(ctx, dqRole), StringAttr::get(ctx, "inout")),
              NamedAttribute(StringAttr::get(ctx, "dv"), StringAttr::get(ctx, "out"))});
          SmallVector<NamedAttribute> extents;
          if (wg)
            extents.push_back(NamedAttribute(StringAttr::get(ctx, "dq_tiles"),
                                             StringAttr::get(ctx, dqTilesExtent)));
          if (packedVariant)
            extents = packedExtents(st.getConfig(), vT64, func);
          if (dumpP) {
            access.push_back(NamedAttribute(StringAttr::get(ctx, "p_codes"),
                                            StringAttr::get(ctx, "out")));
            access.push_back(NamedAttribute(StringAttr::get(ctx, "p_scales"),
                                            StringAttr::get(ctx, "out")));
            extents.push_back(NamedAttribute(StringAttr::get(ctx, "p_codes"),
                                             StringAttr::get(ctx, "B*Hq*M*N")));
            extents.push_back(NamedAttribute(StringAttr::get(ctx, "p_scales"),
                                             StringAttr::get(ctx, pBlocksExtent(st.getConfig()))));
          }
          if (!extents.empty())
            func->setAttr("attnqat.extents", DictionaryAttr::get(ctx, extents));
          func->setAttr("attnqat.access", DictionaryAttr::get(ctx, access));
          if (tmaMaps)
            tc::describeWgmmaBackwardTensorMaps(func);
          if (wg)
            tc::buildWgmmaBackward(func, op, dumpP);
          else
            tc::buildBackward(func, op, dumpP, packedVariant, vT64);
          finishKernel(func);
        }
        return func;
      };
      if (tensorCores && tc::coversBackward(op, why)) {
        // O_saved is what the tensor-core forward wrote, O' (qat) or O, both
        // in its output's element type, which dO has.
        auto delta =
            deltaKernel(op.getLoc(), op.getGradOutput().getType().getElementType());
        auto func = tcBackward(/*packedVariant=*/false);
        if (warpgroupMma) {
          func = tcBackward(/*packedVariant=*/false, /*vT64=*/false, /*wg=*/true);
          op->setAttr("attnqat.post_kernel",
                      SymbolRefAttr::get(
                          ctx, "attnqat_kernels",
                          {FlatSymbolRefAttr::get(dqFromTilesKernel(op.getLoc()).getNameAttr())}));
        }
        Mode mode = op.getState().getType().getConfig().getMode();
        if (packedOperands && (mode == Mode::QAT || mode == Mode::DropIn)) {
          tcBackward(/*packedVariant=*/true);
          // The backward of an sm_120a training step (its forward reads and
          // saves V in the t64 layout); BF16 mma.sync, so it runs everywhere.
          if (blockScaledMma && isa<NVFP4Attr>(op.getState().getType().getConfig().getV()))
            tcBackward(/*packedVariant=*/true, /*vT64=*/true);
        }
        link(op, func);
        op->setAttr("attnqat.pre_kernel",
                    SymbolRefAttr::get(ctx, "attnqat_kernels",
                                       {FlatSymbolRefAttr::get(delta.getNameAttr())}));
        continue;
      }
      std::string name = baselineBackwardName(op);
      auto func = kernels.lookup<gpu::GPUFuncOp>(name);
      if (!func) {
        StateType st = op.getState().getType();
        Type f32 = b.getF32Type(), elt = st.getQuery().getElementType();
        SmallVector<Type> args;
        SmallVector<StringRef> roles;
        addOperandParams(elt, st.getMask(), st.getKeyLengths(), args, roles);
        args.append({dynamic1D(f32), dynamic1D(f32), dynamic1D(f32), dynamic1D(elt),
                     dynamic1D(f32), dynamic1D(f32), dynamic1D(f32)});
        roles.append({"o_saved", "m", "l", "do", "dq", "dk", "dv"});
        addDimParams(args, roles);
        func = declareKernel(op.getLoc(), name, args, roles, {rowGrid, "1", "1"},
                             blockThreads);
        func->setAttr("attnqat.access", DictionaryAttr::get(ctx, statsRead()));
        buildBaselineBackward(func, op, /*keyTile=*/64);
        finishKernel(func);
      }
      link(op, func);
    }
  }
};

} // namespace
