//===- GPUCodecKernels.cpp - GPU kernels for the FP4 codec ops ------------===//
//
// One thread per block: it reads the block (strided by `inner`), takes the
// amax, encodes the scale and the codes with the shared codec arithmetic
// (FP4Arith, as the CPU lowering does) and writes them. Sizes are kernel
// arguments, so a kernel is specialized only on element type, format, global
// scale and op kind.
//
//===----------------------------------------------------------------------===//

#include "attnqat/Conversion/Passes.h"

#include "../AttentionLoopEmitter.h"
#include "TensorCoreAttention.h"

#include "attnqat/Conversion/FP4Arith.h"
#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/SymbolTable.h"

#include <string>
#include <tuple>

namespace mlir::attnqat {
#define GEN_PASS_DEF_CONVERTATTNQATTOGPUKERNELS
#include "attnqat/Conversion/Passes.h.inc"
} // namespace mlir::attnqat

using namespace mlir;
using namespace mlir::attnqat;

namespace {

enum class CodecKind { Quantize, FakeQuant };

/// What a kernel is specialized on; equal keys share one kernel.
struct KernelKey {
  CodecKind kind;
  Type elementType;
  FP4FormatAttrInterface format;
  bool operator<(const KernelKey &o) const {
    if (kind != o.kind)
      return kind < o.kind;
    if (elementType != o.elementType)
      return elementType.getAsOpaquePointer() < o.elementType.getAsOpaquePointer();
    return format.getAsOpaquePointer() < o.format.getAsOpaquePointer();
  }
};

std::string kernelName(const KernelKey &key) {
  std::string name = key.kind == CodecKind::Quantize ? "quantize_" : "fake_quant_";
  name += isa<NVFP4Attr>(key.format) ? "nvfp4" : "mxfp4";
  float g = key.format.getGlobalScaleValue();
  if (g != 1.0f) {
    // The global scale is baked in; name it by its bits.
    uint32_t bits;
    std::memcpy(&bits, &g, sizeof(bits));
    name += "_g" + llvm::utohexstr(bits);
  }
  std::string type;
  llvm::raw_string_ostream os(type);
  os << key.elementType;
  return name + "_" + type;
}

/// Builds the kernel body for `key` into `func`.
void buildKernel(gpu::GPUFuncOp func, const KernelKey &key) {
  OpBuilder b = OpBuilder::atBlockBegin(&func.getBody().front());
  Location loc = func.getLoc();
  FP4Arith fp(b, loc);
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Block &entry = func.getBody().front();
  bool quantize = key.kind == CodecKind::Quantize;
  Value input = entry.getArgument(0);
  Value out0 = entry.getArgument(1);
  Value out1 = quantize ? entry.getArgument(2) : Value();
  unsigned sizeArg = quantize ? 3 : 2;
  Value outer = entry.getArgument(sizeArg), axis = entry.getArgument(sizeArg + 1),
        inner = entry.getArgument(sizeArg + 2);
  int64_t bs = key.format.getBlockSize();
  float g = key.format.getGlobalScaleValue();

  // Global thread id -> (o, kb, i); threads past the end do nothing.
  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value bid = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value bdim = gpu::BlockDimOp::create(b, loc, gpu::Dimension::x);
  Value gid = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, bid, bdim), tid);
  Value nb = arith::CeilDivUIOp::create(b, loc, axis, idx(bs));
  Value total = arith::MulIOp::create(b, loc, arith::MulIOp::create(b, loc, outer, nb), inner);
  Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, gid, total);
  auto ifOp = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());

  Value i = arith::RemUIOp::create(b, loc, gid, inner);
  Value t = arith::DivUIOp::create(b, loc, gid, inner);
  Value kb = arith::RemUIOp::create(b, loc, t, nb);
  Value o = arith::DivUIOp::create(b, loc, t, nb);
  Value k0 = arith::MulIOp::create(b, loc, kb, idx(bs));
  Value n = arith::MinUIOp::create(b, loc, idx(bs), arith::SubIOp::create(b, loc, axis, k0));
  // Element k of the block sits at ((o * axis + k0 + k) * inner + i).
  Value rowBase = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, o, axis), k0);
  auto elementIndex = [&](Value k) -> Value {
    Value along = arith::AddIOp::create(b, loc, rowBase, k);
    return arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, along, inner), i);
  };
  auto load = [&](Value k) -> Value {
    Value v = memref::LoadOp::create(b, loc, input, ValueRange{elementIndex(k)});
    if (!v.getType().isF32())
      v = arith::ExtFOp::create(b, loc, b.getF32Type(), v);
    return v;
  };

  auto amaxLoop = scf::ForOp::create(b, loc, idx(0), n, idx(1), ValueRange{fp.f32(0)});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(amaxLoop.getBody());
    Value v = math::AbsFOp::create(b, loc, load(amaxLoop.getInductionVar()));
    scf::YieldOp::create(b, loc, ValueRange{arith::MaximumFOp::create(
                                     b, loc, amaxLoop.getRegionIterArgs()[0], v)});
  }
  Value scale = fp.blockScale(key.format, amaxLoop.getResult(0), g);

  if (quantize) {
    // Scales: [outer, nb, inner], one byte each.
    Value sIdx = arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc,
                              arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, o, nb), kb),
                              inner),
        i);
    memref::StoreOp::create(b, loc, fp.scaleBits(key.format, scale), out1, ValueRange{sIdx});
    // Codes: [outer, ceil(axis / 2), inner] bytes, pairs along the axis.
    Value half = arith::CeilDivUIOp::create(b, loc, axis, idx(2));
    auto pairs = scf::ForOp::create(b, loc, idx(0), n, idx(2));
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(pairs.getBody()->getTerminator());
      Value k = pairs.getInductionVar();
      Value lo = fp.e2m1Code(fp.quantizeElement(load(k), scale, g));
      Value k1 = arith::AddIOp::create(b, loc, k, idx(1));
      Value hasHi = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, k1, n);
      // The high nibble of an odd tail stays 0 (a padded zero).
      auto hiIf = scf::IfOp::create(b, loc, b.getI8Type(), hasHi, /*withElse=*/true);
      {
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToStart(&hiIf.getThenRegion().front());
        Value hi = fp.e2m1Code(fp.quantizeElement(load(k1), scale, g));
        scf::YieldOp::create(b, loc, ValueRange{hi});
        b.setInsertionPointToStart(&hiIf.getElseRegion().front());
        scf::YieldOp::create(b, loc, ValueRange{arith::ConstantOp::create(
                                         b, loc, b.getI8IntegerAttr(0))});
      }
      Value hi = arith::ShLIOp::create(
          b, loc, hiIf.getResult(0),
          arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(4)));
      Value byte = arith::OrIOp::create(b, loc, lo, hi);
      Value pairIdx = arith::AddIOp::create(
          b, loc, arith::DivUIOp::create(b, loc, k0, idx(2)),
          arith::DivUIOp::create(b, loc, k, idx(2)));
      Value bIdx = arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(
              b, loc,
              arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, o, half), pairIdx),
              inner),
          i);
      memref::StoreOp::create(b, loc, byte, out0, ValueRange{bIdx});
    }
  } else {
    auto loop = scf::ForOp::create(b, loc, idx(0), n, idx(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(loop.getBody()->getTerminator());
    Value k = loop.getInductionVar();
    Value v = fp.dequantizeElement(fp.quantizeElement(load(k), scale, g), scale, g);
    Type elt = cast<MemRefType>(out0.getType()).getElementType();
    if (elt != v.getType())
      v = arith::TruncFOp::create(b, loc, elt, v);
    memref::StoreOp::create(b, loc, v, out0, ValueRange{elementIndex(k)});
  }
}

std::string typeName(Type type) {
  std::string name;
  llvm::raw_string_ostream os(name);
  os << type;
  return name;
}

/// What an attention kernel is specialized on, spelled into its name:
/// mode, P format and scaling, causality, the mask's broadcast pattern
/// (1 = broadcast dim) and element type, key lengths, element type.
std::string attentionKernelName(StringRef prefix, ConfigAttr config, bool causal,
                                RankedTensorType mask, bool keyLengths,
                                Type elementType) {
  std::string name = prefix.str() + stringifyMode(config.getMode()).str();
  if (config.isQuantized()) {
    name += isa<NVFP4Attr>(config.getP()) ? "_pnvfp4" : "_pmxfp4";
    name += config.getPScaling() == PScaling::TwoLevel ? "2" : "1";
  }
  name += causal ? "_causal" : "";
  if (mask) {
    name += "_mask";
    name += mask.getDimSize(0) == 1 ? "1" : "b";
    name += mask.getDimSize(1) == 1 ? "1" : "h";
    name += typeName(mask.getElementType());
  }
  if (keyLengths)
    name += "_lens";
  return name + "_" + typeName(elementType);
}

/// The name of the attention forward kernel for `op`, or "" when the
/// baseline kernel does not cover it (say why in `why`).
std::string attentionKernelName(AttentionOp op, std::string &why) {
  ConfigAttr config = op.getConfig();
  if (config.getMode() == Mode::FP4) {
    why = "mode fp4";
    return "";
  }
  RankedTensorType mask =
      op.getMask() ? cast<RankedTensorType>(op.getMask().getType()) : nullptr;
  return attentionKernelName("attention_fwd_", config, op.getCausal(), mask,
                             static_cast<bool>(op.getKeyLengths()),
                             op.getQuery().getType().getElementType());
}

/// A flat buffer argument viewed as a row-major tensor of `sizes`.
Value viewAs(OpBuilder &b, Location loc, Value flat, ArrayRef<Value> sizes) {
  int64_t rank = sizes.size();
  SmallVector<OpFoldResult> sizeOfr, strideOfr(rank);
  Value stride = arith::ConstantIndexOp::create(b, loc, 1);
  for (int64_t d = rank - 1; d >= 0; --d) {
    strideOfr[d] = d == rank - 1 ? OpFoldResult(b.getIndexAttr(1)) : OpFoldResult(stride);
    stride = arith::MulIOp::create(b, loc, stride, sizes[d]);
  }
  // Sizes known here (a broadcast unit dim) stay static in the view's type.
  SmallVector<int64_t> dyn(rank, ShapedType::kDynamic), strides(rank, ShapedType::kDynamic);
  for (auto [d, v] : llvm::enumerate(sizes)) {
    std::optional<int64_t> c = getConstantIntValue(v);
    sizeOfr.push_back(c ? OpFoldResult(b.getIndexAttr(*c)) : OpFoldResult(v));
    if (c)
      dyn[d] = *c;
  }
  strides.back() = 1;
  auto type = MemRefType::get(
      dyn, cast<MemRefType>(flat.getType()).getElementType(),
      StridedLayoutAttr::get(b.getContext(), 0, strides));
  return memref::ReinterpretCastOp::create(b, loc, type, flat, b.getIndexAttr(0),
                                           sizeOfr, strideOfr);
}

/// Query row of this thread: (b, h, i) and its KV head, with the builder
/// moved into the `if` that skips threads past the last row.
std::tuple<Value, Value, Value, Value>
beginRowThread(OpBuilder &b, Location loc, loops::AttentionEmitter &e) {
  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value bid = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value bdim = gpu::BlockDimOp::create(b, loc, gpu::Dimension::x);
  Value gid = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, bid, bdim), tid);
  Value rows = arith::MulIOp::create(b, loc, arith::MulIOp::create(b, loc, e.B, e.Hq), e.M);
  Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, gid, rows);
  auto ifOp = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());
  Value i = arith::RemUIOp::create(b, loc, gid, e.M);
  Value t = arith::DivUIOp::create(b, loc, gid, e.M);
  Value h = arith::RemUIOp::create(b, loc, t, e.Hq);
  Value bi = arith::DivUIOp::create(b, loc, t, e.Hq);
  Value hk = arith::DivUIOp::create(b, loc, h, e.group);
  return {bi, h, i, hk};
}

/// Sets `e` up for one query row per thread: problem dims and the softmax
/// scale from the kernel's last seven arguments (B, Hq, Hkv, M, N, D,
/// scale), views of Q^F, K^F, V^F, the mask and the key lengths. Returns the
/// thread's row (b, h, i) and KV head, the builder inside the row's `if`.
std::tuple<Value, Value, Value, Value>
setUpRowKernel(OpBuilder &b, Location loc, loops::AttentionEmitter &e,
               Block &entry, Value q, Value k, Value v, Value mask,
               RankedTensorType maskType, Value lengths) {
  ValueRange dims = entry.getArguments().take_back(7);
  Value B = dims[0], Hq = dims[1], Hkv = dims[2], M = dims[3], N = dims[4],
        D = dims[5];
  e.scaleValue = dims[6];
  e.B = B, e.Hq = Hq, e.Hkv = Hkv, e.M = M, e.N = N, e.D = D;
  e.group = arith::DivUIOp::create(b, loc, Hq, Hkv);
  auto row = beginRowThread(b, loc, e);
  e.qf = viewAs(b, loc, q, {B, Hq, M, D});
  e.kf = viewAs(b, loc, k, {B, Hkv, N, D});
  e.vf = viewAs(b, loc, v, {B, Hkv, N, D});
  if (mask) {
    Value one = arith::ConstantIndexOp::create(b, loc, 1);
    e.mask = viewAs(b, loc, mask,
                    {maskType.getDimSize(0) == 1 ? one : B,
                     maskType.getDimSize(1) == 1 ? one : Hq, M, N});
  }
  if (lengths)
    e.keyLengths = viewAs(b, loc, lengths, {B});
  return row;
}

/// The baseline attention forward: one thread per query row running the
/// same row recurrence as the CPU lowering (loops::AttentionEmitter), on
/// Q^F, K^F, V^F that the codec kernels produced. Correct on every shape;
/// the tensor-core kernels replace it for speed.
void buildAttentionKernel(gpu::GPUFuncOp func, AttentionOp op, int64_t keyTile) {
  OpBuilder b = OpBuilder::atBlockBegin(&func.getBody().front());
  Location loc = func.getLoc();
  Block &entry = func.getBody().front();
  ConfigAttr config = op.getConfig();
  bool qat = config.getMode() == Mode::QAT;
  bool f32Out = op.getOutput().getType().getElementType().isF32();
  unsigned a = 0;
  Value q = entry.getArgument(a++), k = entry.getArgument(a++),
        v = entry.getArgument(a++);
  Value mask = op.getMask() ? entry.getArgument(a++) : Value();
  Value lengths = op.getKeyLengths() ? entry.getArgument(a++) : Value();
  Value o = entry.getArgument(a++);
  Value oPrime = qat ? entry.getArgument(a++) : Value();
  Value lse = entry.getArgument(a++), mOut = entry.getArgument(a++),
        lOut = entry.getArgument(a++);
  // Narrow outputs accumulate in an f32 workspace, rounded once at the end.
  Value oAcc = f32Out ? Value() : entry.getArgument(a++);
  loops::AttentionEmitter e(b, loc, config, op.getCausal(), 0.0f, keyTile);
  RankedTensorType maskType =
      mask ? cast<RankedTensorType>(op.getMask().getType()) : nullptr;
  auto [bi, h, i, hk] =
      setUpRowKernel(b, loc, e, entry, q, k, v, mask, maskType, lengths);
  Value B = e.B, Hq = e.Hq, M = e.M, D = e.D;
  Value oView = viewAs(b, loc, o, {B, Hq, M, D});
  Value accView = f32Out ? oView : viewAs(b, loc, oAcc, {B, Hq, M, D});
  Value opView = qat ? viewAs(b, loc, oPrime, {B, Hq, M, D}) : Value();
  Value lseView = viewAs(b, loc, lse, {B, Hq, M});
  Value mView = viewAs(b, loc, mOut, {B, Hq, M});
  Value lView = viewAs(b, loc, lOut, {B, Hq, M});
  // Per-thread scratch for one key tile (local memory).
  auto rowType = MemRefType::get({keyTile}, b.getF32Type());
  Value sRow = memref::AllocaOp::create(b, loc, rowType);
  Value pRow = memref::AllocaOp::create(b, loc, rowType);
  Value pqRow = config.isQuantized() ? Value(memref::AllocaOp::create(b, loc, rowType))
                                     : pRow;
  e.forwardRow(bi, h, hk, i, accView, opView, mView, lView, lseView, sRow, pRow,
               pqRow);
  if (!f32Out)
    e.loop(D, [&](Value d) {
      SmallVector<Value> at{bi, h, i, d};
      e.store(e.load(accView, at), oView, at);
    });
}

/// The name of the backward kernel for `op` (from its state's type).
std::string backwardKernelName(AttentionBackwardOp op) {
  StateType st = op.getState().getType();
  return attentionKernelName("attention_bwd_", st.getConfig(), st.getCausal(),
                             st.getMask(), st.getKeyLengths(),
                             st.getQuery().getElementType());
}

/// The baseline backward: one thread per query row running the CPU
/// lowering's backward row; dK and dV are summed with atomic adds (zeroed by
/// the caller), dQ rows are owned by their thread. Gradients are f32.
void buildBackwardKernel(gpu::GPUFuncOp func, AttentionBackwardOp op,
                         int64_t keyTile) {
  OpBuilder b = OpBuilder::atBlockBegin(&func.getBody().front());
  Location loc = func.getLoc();
  Block &entry = func.getBody().front();
  StateType st = op.getState().getType();
  unsigned a = 0;
  Value q = entry.getArgument(a++), k = entry.getArgument(a++),
        v = entry.getArgument(a++);
  Value mask = st.getMask() ? entry.getArgument(a++) : Value();
  Value lengths = st.getKeyLengths() ? entry.getArgument(a++) : Value();
  Value oSaved = entry.getArgument(a++), mIn = entry.getArgument(a++),
        lIn = entry.getArgument(a++), dO = entry.getArgument(a++),
        dq = entry.getArgument(a++), dk = entry.getArgument(a++),
        dv = entry.getArgument(a++);
  loops::AttentionEmitter e(b, loc, st.getConfig(), st.getCausal(), 0.0f,
                            keyTile);
  auto [bi, h, i, hk] =
      setUpRowKernel(b, loc, e, entry, q, k, v, mask, st.getMask(), lengths);
  Value B = e.B, Hq = e.Hq, Hkv = e.Hkv, M = e.M, N = e.N, D = e.D;
  auto rowType = MemRefType::get({keyTile}, b.getF32Type());
  Value sRow = memref::AllocaOp::create(b, loc, rowType);
  Value pRow = memref::AllocaOp::create(b, loc, rowType);
  Value pqRow = st.getConfig().getMode() == Mode::QAT
                    ? Value(memref::AllocaOp::create(b, loc, rowType))
                    : pRow;
  e.backwardRow(bi, h, hk, i, viewAs(b, loc, oSaved, {B, Hq, M, D}),
                viewAs(b, loc, mIn, {B, Hq, M}), viewAs(b, loc, lIn, {B, Hq, M}),
                viewAs(b, loc, dO, {B, Hq, M, D}), viewAs(b, loc, dq, {B, Hq, M, D}),
                viewAs(b, loc, dk, {B, Hkv, N, D}), viewAs(b, loc, dv, {B, Hkv, N, D}),
                sRow, pRow, pqRow, /*atomicKV=*/true);
}

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
      if (isa<QuantizeOp, FakeQuantOp>(op))
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
    std::map<KernelKey, gpu::GPUFuncOp> built;
    Type index = IndexType::get(ctx);
    // Buffers are flat; their extent comes from the size arguments. The
    // static bound only lets the bare-pointer calling convention apply, so a
    // kernel takes plain device pointers (what the runtime passes).
    auto dynamic1D = [](Type elt) {
      return MemRefType::get({int64_t(1) << 40}, elt);
    };
    for (Operation *op : ops) {
      KernelKey key;
      if (auto q = dyn_cast<QuantizeOp>(op))
        key = {CodecKind::Quantize, q.getInput().getType().getElementType(),
               q.getFormat()};
      else {
        auto f = cast<FakeQuantOp>(op);
        key = {CodecKind::FakeQuant, f.getType().getElementType(), f.getFormat()};
      }
      gpu::GPUFuncOp &func = built[key];
      if (!func) {
        std::string name = kernelName(key);
        if (auto existing = kernels.lookup<gpu::GPUFuncOp>(name)) {
          func = existing;
        } else {
          SmallVector<Type> args{dynamic1D(key.elementType)};
          SmallVector<Attribute> roles{StringAttr::get(ctx, "input")};
          if (key.kind == CodecKind::Quantize) {
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
          func = gpu::GPUFuncOp::create(kb, op->getLoc(), name,
                                        kb.getFunctionType(args, {}));
          func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), kb.getUnitAttr());
          func->setAttr("attnqat.params", ArrayAttr::get(ctx, roles));
          func->setAttr("attnqat.launch",
                        DictionaryAttr::get(
                            ctx, {NamedAttribute(StringAttr::get(ctx, "block"),
                                                 kb.getI64IntegerAttr(blockThreads)),
                                  NamedAttribute(
                                      StringAttr::get(ctx, "grid"),
                                      StringAttr::get(ctx, "ceil(outer * ceil(axis / " +
                                                               std::to_string(key.format.getBlockSize()) +
                                                               ") * inner / block)"))}));
          func.setKnownBlockSizeAttr(kb.getDenseI32ArrayAttr(
              {static_cast<int32_t>(blockThreads), 1, 1}));
          buildKernel(func, key);
          OpBuilder end = OpBuilder::atBlockEnd(&func.getBody().front());
          gpu::ReturnOp::create(end, func.getLoc());
          kernels.insert(func);
        }
      }
      op->setAttr("attnqat.kernel",
                  SymbolRefAttr::get(ctx, "attnqat_kernels",
                                     {FlatSymbolRefAttr::get(func.getNameAttr())}));
    }

    // Parameters shared by the attention kernels: Q^F, K^F, V^F, the mask and
    // key lengths first; the problem dims and softmax scale last (what
    // setUpRowKernel reads).
    auto addOperandParams = [&](Type elt, RankedTensorType mask, bool keyLengths,
                                SmallVector<Type> &args,
                                SmallVector<StringRef> &roles) {
      args.append(3, dynamic1D(elt));
      roles.append({"q", "k", "v"});
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
    auto link = [&](Operation *op, gpu::GPUFuncOp func) {
      op->setAttr("attnqat.kernel",
                  SymbolRefAttr::get(ctx, "attnqat_kernels",
                                     {FlatSymbolRefAttr::get(func.getNameAttr())}));
    };

    // Extents of packed operands: codes two per byte along the block axis,
    // one scale per block.
    auto packedExtents = [&](ConfigAttr config) {
      auto blocks = [](FP4FormatAttrInterface f) {
        return std::to_string(f.getBlockSize());
      };
      auto entry = [&](StringRef role, std::string expr) {
        return NamedAttribute(StringAttr::get(ctx, role), StringAttr::get(ctx, expr));
      };
      return SmallVector<NamedAttribute>{
          entry("q", "B*Hq*M*ceil(D/2)"), entry("k", "B*Hkv*N*ceil(D/2)"),
          entry("v", "B*Hkv*ceil(N/2)*D"),
          entry("q_scales", "B*Hq*M*ceil(D/" + blocks(config.getQ()) + ")"),
          entry("k_scales", "B*Hkv*N*ceil(D/" + blocks(config.getK()) + ")"),
          entry("v_scales", "B*Hkv*ceil(N/" + blocks(config.getV()) + ")*D")};
    };
    // The tensor-core forward of `op`; with `packedVariant` (mode fp4 always)
    // it reads Q, K, V as codes and scales.
    auto tcForward = [&](AttentionOp op, bool packedVariant) -> gpu::GPUFuncOp {
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
            attentionKernelName("attention_fwd_tc_", op.getConfig(), op.getCausal(),
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
          if (packed) {
            Type i8 = b.getI8Type();
            args.append(6, dynamic1D(i8));
            roles.append({"q", "k", "v", "q_scales", "k_scales", "v_scales"});
            if (maskType) {
              args.push_back(dynamic1D(maskType.getElementType()));
              roles.push_back("mask");
            }
            if (op.getKeyLengths()) {
              args.push_back(dynamic1D(b.getI32Type()));
              roles.push_back("key_lengths");
            }
          } else {
            addOperandParams(b.getBF16Type(), maskType,
                             static_cast<bool>(op.getKeyLengths()), args, roles);
          }
          args.push_back(dynamic1D(outElt));
          roles.push_back("o");
          if (op.getConfig().getMode() == Mode::QAT) {
            args.push_back(dynamic1D(b.getF32Type()));
            roles.push_back("o_prime");
          }
          args.append(3, dynamic1D(b.getF32Type()));
          roles.append({"lse", "m", "l"});
          if (dumpP) {
            args.append({dynamic1D(b.getI8Type()), dynamic1D(b.getI8Type()),
                         dynamic1D(b.getF32Type())});
            roles.append({"p_codes", "p_scales", "p_frames"});
          }
          addDimParams(args, roles);
          std::string qTiles = "ceil(M/" + std::to_string(tc::kQueryTile) + ")";
          func = declareKernel(op.getLoc(), name, args, roles, {qTiles, "Hq", "B"},
                               tc::kThreads, {"D == " + std::to_string(d)},
                               tc::forwardSharedBytes(op));
          std::string pBlocks =
              "B*Hq*M*ceil(N/" + std::to_string(op.getConfig().getP().getBlockSize()) + ")";
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
          tc::buildForward(func, op, dumpP, packed);
          finishKernel(func);
        }
        return func;
    };
    for (AttentionOp op : attentions) {
      std::string why;
      if (tensorCores && tc::coversForward(op, why)) {
        auto func = tcForward(op, /*packedVariant=*/false);
        Mode mode = op.getConfig().getMode();
        if (packedOperands && (mode == Mode::QAT || mode == Mode::DropIn))
          tcForward(op, /*packedVariant=*/true);
        link(op, func);
        continue;
      }
      why.clear();
      std::string name = attentionKernelName(op, why);
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
        buildAttentionKernel(func, op, /*keyTile=*/64);
        finishKernel(func);
      }
      link(op, func);
    }

    for (AttentionBackwardOp op : backwards) {
      std::string why;
      // The tensor-core backward; with `packedVariant` it reads Q, K, V as
      // codes and scales (what a packed-state forward saved).
      auto tcBackward = [&](bool packedVariant) -> gpu::GPUFuncOp {
        StateType st = op.getState().getType();
        int64_t d = st.getQuery().getDimSize(3);
        Type f32 = b.getF32Type(), bf16 = b.getBF16Type();
        // The pre-pass: delta = rowsum(dO * O_saved), one per module.
        StringRef deltaName = "attention_bwd_tc_delta_bf16";
        auto delta = kernels.lookup<gpu::GPUFuncOp>(deltaName);
        if (!delta) {
          SmallVector<Type> args{dynamic1D(f32), dynamic1D(bf16), dynamic1D(f32)};
          SmallVector<StringRef> roles{"o_saved", "do", "delta"};
          args.append(6, IndexType::get(ctx));
          roles.append({"B", "Hq", "Hkv", "M", "N", "D"});
          delta = declareKernel(op.getLoc(), deltaName, args, roles,
                                {"ceil(B*Hq*M/" + std::to_string(tc::kThreads) + ")",
                                 "1", "1"},
                                tc::kThreads);
          delta->setAttr("attnqat.access",
                         DictionaryAttr::get(ctx, {NamedAttribute(
                                                      StringAttr::get(ctx, "delta"),
                                                      StringAttr::get(ctx, "out"))}));
          tc::buildRowDot(delta);
          finishKernel(delta);
        }
        std::string name = attentionKernelName("attention_bwd_tc_", st.getConfig(),
                                               st.getCausal(), st.getMask(),
                                               st.getKeyLengths(), bf16);
        name.insert(name.size() - StringRef("_bf16").size(), "_d" + std::to_string(d));
        bool dumpP = dumpPCodes && st.getConfig().getMode() == Mode::QAT;
        if (dumpP)
          name += "_pdump";
        if (packedVariant)
          name += "_packed";
        auto func = kernels.lookup<gpu::GPUFuncOp>(name);
        if (!func) {
          SmallVector<Type> args;
          SmallVector<StringRef> roles;
          addOperandParams(packedVariant ? b.getI8Type() : bf16, st.getMask(),
                           st.getKeyLengths(), args, roles);
          if (packedVariant) { // scales right after the codes
            args.insert(args.begin() + 3, 3, dynamic1D(b.getI8Type()));
            roles.insert(roles.begin() + 3, {"q_scales", "k_scales", "v_scales"});
          }
          args.append({dynamic1D(f32), dynamic1D(f32), dynamic1D(f32), dynamic1D(bf16),
                       dynamic1D(f32), dynamic1D(f32), dynamic1D(f32)});
          roles.append({"m", "l", "delta", "do", "dq_acc", "dk", "dv"});
          if (dumpP) {
            args.append({dynamic1D(b.getI8Type()), dynamic1D(b.getI8Type())});
            roles.append({"p_codes", "p_scales"});
          }
          addDimParams(args, roles);
          std::string keyTiles = "ceil(N/" + std::to_string(tc::kKeyTile) + ")";
          func = declareKernel(op.getLoc(), name, args, roles, {keyTiles, "Hkv", "B"},
                               tc::kThreads, {"D == " + std::to_string(d)},
                               tc::backwardSharedBytes(d));
          SmallVector<NamedAttribute> access{
              NamedAttribute(StringAttr::get(ctx, "dk"), StringAttr::get(ctx, "out")),
              NamedAttribute(StringAttr::get(ctx, "dq_acc"), StringAttr::get(ctx, "inout")),
              NamedAttribute(StringAttr::get(ctx, "dv"), StringAttr::get(ctx, "out"))};
          SmallVector<NamedAttribute> extents;
          if (packedVariant)
            extents = packedExtents(st.getConfig());
          if (dumpP) {
            access.push_back(NamedAttribute(StringAttr::get(ctx, "p_codes"),
                                            StringAttr::get(ctx, "out")));
            access.push_back(NamedAttribute(StringAttr::get(ctx, "p_scales"),
                                            StringAttr::get(ctx, "out")));
            extents.push_back(NamedAttribute(StringAttr::get(ctx, "p_codes"),
                                             StringAttr::get(ctx, "B*Hq*M*N")));
            extents.push_back(NamedAttribute(StringAttr::get(ctx, "p_scales"),
                                             StringAttr::get(ctx, "B*Hq*M*ceil(N/16)")));
          }
          if (!extents.empty())
            func->setAttr("attnqat.extents", DictionaryAttr::get(ctx, extents));
          func->setAttr("attnqat.access", DictionaryAttr::get(ctx, access));
          tc::buildBackward(func, op, dumpP, packedVariant);
          finishKernel(func);
        }
        return func;
      };
      if (tensorCores && tc::coversBackward(op, why)) {
        auto func = tcBackward(/*packedVariant=*/false);
        Mode mode = op.getState().getType().getConfig().getMode();
        if (packedOperands && (mode == Mode::QAT || mode == Mode::DropIn))
          tcBackward(/*packedVariant=*/true);
        auto delta = kernels.lookup<gpu::GPUFuncOp>("attention_bwd_tc_delta_bf16");
        link(op, func);
        op->setAttr("attnqat.pre_kernel",
                    SymbolRefAttr::get(ctx, "attnqat_kernels",
                                       {FlatSymbolRefAttr::get(delta.getNameAttr())}));
        continue;
      }
      std::string name = backwardKernelName(op);
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
        buildBackwardKernel(func, op, /*keyTile=*/64);
        finishKernel(func);
      }
      link(op, func);
    }
  }
};

} // namespace
