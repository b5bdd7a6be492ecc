//===- BaselineAttention.cpp - one-thread-per-row attention kernels -------===//
//
// The correctness baseline on the GPU: one thread per query row runs the CPU
// lowering's forward or backward row (loops::AttentionEmitter), so it covers
// every mode, element type and head dim the CPU path does. The tensor-core
// kernels (TensorCoreAttention.cpp) replace it where they apply.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"

#include "../AttentionLoopEmitter.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <tuple>

using namespace mlir;
using namespace mlir::attnqat;

std::string gpukernels::typeName(Type type) {
  std::string name;
  llvm::raw_string_ostream os(name);
  os << type;
  return name;
}

/// What an attention kernel is specialized on, spelled into its name:
/// mode, P format and scaling, causality, the mask's broadcast pattern
/// (1 = broadcast dim) and element type, key lengths, element type.
std::string gpukernels::attentionKernelName(StringRef prefix, ConfigAttr config,
                                           bool causal, RankedTensorType mask,
                                           bool keyLengths, Type elementType) {
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
std::string gpukernels::baselineForwardName(AttentionOp op, std::string &why) {
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

namespace {

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

} // namespace

/// The baseline attention forward: one thread per query row running the
/// same row recurrence as the CPU lowering (loops::AttentionEmitter), on
/// Q^F, K^F, V^F that the codec kernels produced. Correct on every shape;
/// the tensor-core kernels replace it for speed.
void gpukernels::buildBaselineForward(gpu::GPUFuncOp func, AttentionOp op,
                                      int64_t keyTile) {
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
std::string gpukernels::baselineBackwardName(AttentionBackwardOp op) {
  StateType st = op.getState().getType();
  return attentionKernelName("attention_bwd_", st.getConfig(), st.getCausal(),
                             st.getMask(), st.getKeyLengths(),
                             st.getQuery().getElementType());
}

/// The baseline backward: one thread per query row running the CPU
/// lowering's backward row; dK and dV are summed with atomic adds (zeroed by
/// the caller), dQ rows are owned by their thread. Gradients are f32.
void gpukernels::buildBaselineBackward(gpu::GPUFuncOp func, AttentionBackwardOp op,
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
