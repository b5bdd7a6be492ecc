//===- WgmmaBuilder.h - wgmma operands, descriptors and issue ----*- C++ -*-===//
//
// What the sm_90a kernels on warpgroup MMA (`wgmma.mma_async`) share: the
// 1024-aligned dynamic shared window, tiles stored as the 128-byte-swizzle
// canonical layout (rows of 64 BF16 = 128 bytes, 16-byte chunk c of row r at
// chunk c ^ (r % 8), D/64 column blocks one after the other), cp.async
// copies into it, the matrix descriptors, and the wgmma fence / issue /
// commit / wait as inline PTX whose register operands are tied, so no use
// of an accumulator or A fragment moves across a fence or a wait.
//
// A warp's wgmma accumulator is the mma.sync m16n8 fragment per 8 columns
// (warp w of the warpgroup holds rows 16w..16w+15 of the m64 tile), and its
// register A operand is the m16n8k16 A fragment, so TileBuilder's
// register-level code applies unchanged.
//
// Descriptors (probe: scripts/probes/wgmma-descriptors.cu): K-major tiles
// (the contracted dimension contiguous) SBO 1024, k-steps of 16 are 32
// bytes apart inside a row; MN-major tiles SBO 1024 (8 rows of K), LBO the
// column-block stride, k-steps 2048 bytes (16 rows) apart.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_LIB_CONVERSION_ATTNQATTOGPU_WGMMABUILDER_H
#define ATTNQAT_LIB_CONVERSION_ATTNQATTOGPU_WGMMABUILDER_H

#include "TileBuilder.h"

namespace mlir::attnqat::tc::detail {

/// The 128-byte swizzle: a row of 64 BF16, an atom of 8 rows.
constexpr int64_t kRowBytes = 128, kAtomBytes = 1024;

/// The `attnqat.tensor_maps` entry of a TMA-loaded operand `of`: a
/// [B*H][rows][D] BF16 tensor (`heads` and `rows` the runtime's dim
/// expressions) in boxes of 64 columns (128 bytes, the swizzle's width) by
/// `boxRows` rows, 128-byte swizzle; rows past the tensor's end arrive as
/// zeros.
inline DictionaryAttr tensorMapAttr(Builder &b, StringRef of, StringRef rows, StringRef heads,
                                    int64_t boxRows) {
  return b.getDictionaryAttr({b.getNamedAttr("of", b.getStringAttr(of)),
                              b.getNamedAttr("dims", b.getStrArrayAttr({"D", rows, heads})),
                              b.getNamedAttr("box", b.getDenseI64ArrayAttr({64, boxRows, 1})),
                              b.getNamedAttr("swizzle", b.getI64IntegerAttr(kRowBytes))});
}

class WgmmaBuilder : public TileBuilder {
public:
  using TileBuilder::TileBuilder;

protected:
  Value smemBf16;  // the dynamic shared memory as BF16
  Value pad;       // bytes from its start to the aligned base (index)
  Value baseAddr;  // the aligned base in the shared window (i32)
  Value smemPtr0;  // the dynamic shared memory's start as !llvm.ptr<3>

  /// The dynamic shared memory (`bytes`, with the slack to align) and its
  /// 1024-aligned base.
  void setUpShared(int64_t bytes) {
    auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
    Value dyn = gpu::DynamicSharedMemoryOp::create(
        b, loc, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                                MemRefLayoutAttrInterface{}, workgroup));
    smemBf16 = memref::ViewOp::create(
        b, loc, MemRefType::get({bytes / 2}, bf16(), MemRefLayoutAttrInterface{}, workgroup),
        dyn, idx(0), ValueRange{});
    Value start64 = arith::IndexCastOp::create(
        b, loc, b.getI64Type(), memref::ExtractAlignedPointerAsIndexOp::create(b, loc, dyn));
    smemPtr0 = LLVM::IntToPtrOp::create(b, loc, LLVM::LLVMPointerType::get(b.getContext(), 3),
                                        start64);
    Value start = arith::TruncIOp::create(b, loc, i32(), start64);
    baseAddr = arith::AndIOp::create(
        b, loc, arith::AddIOp::create(b, loc, start, i32c(kAtomBytes - 1)),
        i32c(~static_cast<int32_t>(kAtomBytes - 1)));
    pad = arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                     arith::SubIOp::create(b, loc, baseAddr, start));
  }

  /// Byte offset of 16-byte chunk `chunk` of row `row` in a swizzled tile
  /// of `rows` rows at `tileAt`.
  Value swizzled(Value tileAt, int64_t rows, Value row, Value chunk) {
    Value block = divu(chunk, idx(8)), inRow = remu(chunk, idx(8));
    Value swz = arith::XOrIOp::create(b, loc, inRow, remu(row, idx(8)));
    return addi(tileAt, addi(muli(block, idx(rows * kRowBytes)),
                             addi(muli(row, idx(kRowBytes)), muli(swz, idx(16)))));
  }
  /// cp.async copies of rows [row0, row0 + rows) of a [*][D] BF16 tensor
  /// (rows at or past `limit` zero-filled) into the swizzled tile at
  /// `tileAt`, by the 128 threads `ptid` of one warpgroup; the copies'
  /// tokens go to `tokens` where given.
  void copyRows(Value ptid, Value src, Value base, Value row0, Value limit, int64_t rows,
                Value tileAt, SmallVector<Value> *tokens = nullptr) {
    const int64_t chunksPerRow = D / 8, rowStep = 128 / chunksPerRow;
    // A thread's copy i is rowStep * i rows below its first, in the same
    // chunk and (rowStep being a multiple of 8) the same swizzle, so both
    // addresses are the first's plus constants (in the SASS of ptxas 13 a
    // register pair per two copies, LDGSTS offsets spanning 4 KiB). A row
    // past `limit` copies no bytes (src-size 0: nothing is read), so its
    // address needs no clamp. (With a clamp per copy, each copy had its own
    // 64-bit address, all in one register pair, so a copy waited for the
    // one before it to read its operands: a visible share of the backward's
    // stall samples in session 21's ncu profile on the H200.)
    Value r0 = divu(ptid, idx(chunksPerRow)), chunk = remu(ptid, idx(chunksPerRow));
    Value firstRow = clampTo(row0, limit);
    Value left = toI32(subi(limit, minu(row0, limit))); // rows that exist from row0
    Value rowAt = addi(muli(addi(addi(base, firstRow), r0), idx(D)), muli(chunk, idx(8)));
    Value dst0 = addi(pad, swizzled(tileAt, rows, r0, chunk));
    Value r0i = toI32(r0);
    for (int64_t i = 0; i < rows / rowStep; ++i) {
      Value at = addi(rowAt, idx(i * rowStep * D));
      Value dst = divu(addi(dst0, idx(i * rowStep * kRowBytes)), idx(2));
      Value n = sel(ult(addi(r0i, i32c(i * rowStep)), left), idx(8), idx(0));
      Value token = nvgpu::DeviceAsyncCopyOp::create(
          b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), smemBf16,
          ValueRange{dst}, src, ValueRange{at}, b.getIndexAttr(8), n,
          /*bypassL1=*/b.getUnitAttr());
      if (tokens)
        tokens->push_back(token);
    }
  }

  /// A TMA load (`cp.async.bulk.tensor`, tile mode) of the box at `coords`
  /// (i32, innermost first) of the tensor map `map` (a grid-constant kernel
  /// parameter) into shared memory at byte `at` from the aligned base; it
  /// completes its bytes on the mbarrier `bar`. The map's 128-byte swizzle
  /// writes the canonical layout wgmma reads (the base being 1024-aligned),
  /// and rows past the tensor's end arrive as zeros.
  void tmaLoad(Value map, Value at, ArrayRef<Value> coords, Value bar) {
    Value dst = LLVM::GEPOp::create(b, loc, LLVM::LLVMPointerType::get(b.getContext(), 3),
                                    b.getI8Type(), smemPtr0, ValueRange{toI32(addi(pad, at))});
    // The shared::cluster form (PTX 8.0): a block is its own cluster.
    dst = LLVM::AddrSpaceCastOp::create(b, loc, LLVM::LLVMPointerType::get(b.getContext(), 7),
                                        dst);
    NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp::create(
        b, loc, dst, map, coords, bar, ValueRange{}, Value(), Value(), NVVM::TMALoadMode::TILE,
        /*isCTAOnly=*/false, /*group=*/nullptr, Value());
  }
  /// The one arrival of a TMA-filled mbarrier, announcing the bytes its
  /// loads will complete.
  void expectBytes(Value bar, int64_t bytes) {
    NVVM::MBarrierArriveExpectTxOp::create(b, loc, Type(), bar, i32c(bytes),
                                           NVVM::MemScopeKind::CTA, /*relaxed=*/false, Value());
  }

  /// The kernel parameter whose role (`attnqat.params`) is `role`.
  Value paramOfRole(StringRef role) {
    auto roles = func->getAttrOfType<ArrayAttr>("attnqat.params");
    for (auto [i, r] : llvm::enumerate(roles.getAsValueRange<StringAttr>()))
      if (r == role)
        return func.getArgument(i);
    llvm_unreachable("the kernel has no parameter of that role");
  }

  /// mbarrier `i` (plus `which`, for one of a run of them) of the 8-byte
  /// mbarriers at byte `at` from the aligned base.
  Value mbarrier(int64_t at, int64_t i, Value which = nullptr) {
    Value off = addi(pad, idx(at + 8 * i));
    if (which)
      off = addi(off, muli(which, idx(8)));
    return LLVM::GEPOp::create(b, loc, LLVM::LLVMPointerType::get(b.getContext(), 3),
                               b.getI8Type(), smemPtr0, ValueRange{toI32(off)});
  }
  /// Waits for use `u` (index) of an mbarrier: the phase of parity u % 2.
  void waitUse(Value bar, Value u) { waitPhase(bar, toI32(remu(u, idx(2)))); }

  /// A 128-byte-swizzle wgmma descriptor of the tile at byte `at` (from the
  /// aligned base): SBO 1024 (8 rows), LBO `lbo` (MN-major only). The
  /// backward's: with the form below, whose k-steps share their tile's low
  /// word, its qat kernels at D = 128 spilled 52-72 bytes (ptxas 13).
  Value descriptor(Value at, int64_t lbo) {
    Value lo = arith::ExtUIOp::create(b, loc, b.getI64Type(), descriptorStart(at));
    uint64_t fixed = (uint64_t(lbo >> 4) << 16) | (uint64_t(kAtomBytes >> 4) << 32) |
                     (uint64_t(1) << 62);
    return arith::OrIOp::create(
        b, loc, lo,
        arith::ConstantIntOp::create(b, loc, static_cast<int64_t>(fixed), 64));
  }
  /// A 128-byte-swizzle wgmma descriptor of the data `offset` bytes (a
  /// multiple of 16) into the tile at byte `at` (from the aligned base): SBO
  /// 1024 (8 rows), LBO `lbo` (MN-major only). The tile's low word (start
  /// address >> 4 and LBO) is the same expression for every offset, so it is
  /// computed once per tile and each k-step's descriptor adds offset >> 4 to
  /// it: shared addresses stay below 2^18, so the 14-bit start field never
  /// carries into LBO.
  Value descriptor(Value at, int64_t offset, int64_t lbo) {
    assert(offset % 16 == 0 && "descriptors address 16-byte units");
    Value low = arith::OrIOp::create(b, loc, descriptorStart(at),
                                     i32c(static_cast<int32_t>((lbo >> 4) << 16)));
    if (offset)
      low = arith::AddIOp::create(b, loc, low, i32c(static_cast<int32_t>(offset >> 4)));
    uint64_t high = (uint64_t(kAtomBytes >> 4) << 32) | (uint64_t(1) << 62);
    return arith::OrIOp::create(
        b, loc, arith::ExtUIOp::create(b, loc, b.getI64Type(), low),
        arith::ConstantIntOp::create(b, loc, static_cast<int64_t>(high), 64));
  }

  /// A descriptor's 14-bit start field: the shared address of byte `at`
  /// (from the aligned base) >> 4.
  Value descriptorStart(Value at) {
    Value addr = arith::AddIOp::create(b, loc, baseAddr, toI32(at));
    return arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, addr, i32c(4)),
                                 i32c(0x3FFF));
  }

  /// `x` (index, below 2^32) as a value the compiler cannot hoist or fold:
  /// what derives from it is made anew where it is used, rather than hoisted
  /// out of a loop into registers held across it.
  Value opaque(Value x) {
    auto asmOp = LLVM::InlineAsmOp::create(
        b, loc, i32(), ValueRange{toI32(x)}, "mov.b32 $0, $1;", "=r,r",
        /*has_side_effects=*/true, /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
        LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT),
        /*operand_attrs=*/ArrayAttr());
    return arith::IndexCastUIOp::create(b, loc, b.getIndexType(), asmOp.getResult(0));
  }

  /// `x` (index, below 2^32, equal in every lane of the warp) broadcast from
  /// lane 0, so that ptxas knows it is warp-uniform: what derives from it
  /// (a wgmma descriptor) can then live in uniform registers rather than in
  /// the thread's own.
  Value warpUniform(Value x) {
    Value lane0 = gpu::ShuffleOp::create(b, loc, toI32(x), i32c(0), i32c(32), gpu::ShuffleMode::IDX)
                      .getShuffleResult();
    return arith::IndexCastUIOp::create(b, loc, b.getIndexType(), lane0);
  }

  /// The generic proxy's shared-memory writes (cp.async, st.shared) made
  /// visible to the async proxy (wgmma reads).
  void fenceProxyAsync() {
    NVVM::FenceProxyOp::create(b, loc, NVVM::ProxyKind::async_shared,
                               NVVM::SharedSpaceAttr::get(b.getContext(),
                                                          NVVM::SharedSpace::shared_cta));
  }

  /// Inline PTX over `vals` (f32 or i32, tied: each comes back as a value
  /// defined by the asm) and `inputs` with `inputConstraints`. Tying keeps
  /// every write of an accumulator or A register before the fence that
  /// must see it, and every read after the wait that guards it.
  /// With `outputsOnly`, `vals` are only written (their values are not
  /// read, so nothing materializes them).
  void tiedAsm(SmallVector<Value> &vals, ArrayRef<Value> inputs,
               ArrayRef<StringRef> inputConstraints, StringRef ptx, bool outputsOnly = false) {
    int64_t n = vals.size();
    std::string constraints;
    SmallVector<Type> fields;
    for (Value x : vals) {
      constraints += x.getType().isF32() ? "=f," : "=r,";
      fields.push_back(x.getType());
    }
    if (!outputsOnly)
      for (int64_t i = 0; i < n; ++i)
        constraints += std::to_string(i) + ",";
    for (StringRef c : inputConstraints)
      constraints += c.str() + ",";
    constraints.pop_back();
    SmallVector<Value> operands;
    if (!outputsOnly)
      operands.append(vals.begin(), vals.end());
    operands.append(inputs.begin(), inputs.end());
    auto structType = LLVM::LLVMStructType::getLiteral(b.getContext(), fields);
    auto asmOp = LLVM::InlineAsmOp::create(
        b, loc, structType, operands, ptx, constraints, /*has_side_effects=*/true,
        /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
        LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT),
        /*operand_attrs=*/ArrayAttr());
    for (int64_t i = 0; i < n; ++i)
      vals[i] = LLVM::ExtractValueOp::create(b, loc, asmOp.getResult(0), i);
  }
  /// wgmma.fence: the register writes before it (accumulators, A
  /// fragments) are seen by the wgmmas after it.
  void fence(SmallVector<Value> &accs) {
    tiedAsm(accs, {}, {}, "wgmma.fence.sync.aligned;");
  }
  /// wgmma.commit_group alone, and wgmma.wait_group `pending` (the `accs`
  /// it guards come back defined by it).
  void commitGroup(SmallVector<Value> &accs) {
    tiedAsm(accs, {}, {}, "wgmma.commit_group.sync.aligned;");
  }
  void waitGroup(SmallVector<Value> &accs, int64_t pending) {
    tiedAsm(accs, {}, {}, "wgmma.wait_group.sync.aligned " + std::to_string(pending) + ";");
  }
  /// Commits the issued wgmmas and waits for them.
  void commitAndWait(SmallVector<Value> &accs) {
    tiedAsm(accs, {}, {},
            "wgmma.commit_group.sync.aligned;\n\twgmma.wait_group.sync.aligned 0;");
  }
  /// fence / commitAndWait over several accumulators at once (each is
  /// updated), and for the fence also the A fragments (register operands)
  /// the following wgmmas read: returns them as the fence defines them.
  SmallVector<Value> fence(ArrayRef<SmallVector<Value> *> accs, ArrayRef<Value> aFrags) {
    SmallVector<Value> all = joined(accs);
    int64_t n = all.size();
    all.append(aFrags.begin(), aFrags.end());
    fence(all);
    split(accs, all);
    return SmallVector<Value>(all.begin() + n, all.end());
  }
  void commitAndWait(ArrayRef<SmallVector<Value> *> accs) {
    SmallVector<Value> all = joined(accs);
    commitAndWait(all);
    split(accs, all);
  }
  static SmallVector<Value> joined(ArrayRef<SmallVector<Value> *> accs) {
    SmallVector<Value> all;
    for (SmallVector<Value> *acc : accs)
      all.append(acc->begin(), acc->end());
    return all;
  }
  static void split(ArrayRef<SmallVector<Value> *> accs, ArrayRef<Value> all) {
    for (SmallVector<Value> *acc : accs) {
      llvm::copy(all.take_front(acc->size()), acc->begin());
      all = all.drop_front(acc->size());
    }
  }
  /// accs += A B, one m64 n(accs.size() * 2) k16 BF16 wgmma. A from shared
  /// memory (`aDesc`; MN-major when `transA`) or registers (`aRegs`, the
  /// m16n8k16 A fragment); B from shared memory, MN-major when `transB`.
  /// `fresh`: accs = A B (scale-d 0), the first k-step of a new
  /// accumulator, whose registers then need no zeros.
  void wgmma(SmallVector<Value> &accs, ArrayRef<Value> aRegs, Value aDesc, Value bDesc, bool transB,
             bool transA = false, bool fresh = false) {
    int64_t n = accs.size();
    std::string ptx = std::string("{\n\t.reg .pred p;\n\tsetp.ne.b32 p, ") + (fresh ? "0" : "1") +
                      ", 0;\n\t"
                      "wgmma.mma_async.sync.aligned.m64n" +
                      std::to_string(n * 2) + "k16.f32.bf16.bf16 {";
    for (int64_t i = 0; i < n; ++i)
      ptx += (i ? ", $" : "$") + std::to_string(i);
    ptx += "}, ";
    int64_t at = fresh ? n : 2 * n; // inputs after the outputs (and their tied copies)
    SmallVector<Value> inputs;
    SmallVector<StringRef> constraints;
    if (!aRegs.empty()) {
      ptx += "{";
      for (int64_t i = 0; i < 4; ++i)
        ptx += (i ? ", $" : "$") + std::to_string(at++);
      ptx += "}";
      inputs.append(aRegs.begin(), aRegs.end());
      constraints.append(4, "r");
    } else {
      ptx += "$" + std::to_string(at++);
      inputs.push_back(aDesc);
      constraints.push_back("l");
    }
    ptx += ", $" + std::to_string(at++) + ", p, 1, 1";
    inputs.push_back(bDesc);
    constraints.push_back("l");
    if (aRegs.empty())
      ptx += transA ? ", 1" : ", 0";
    ptx += transB ? ", 1;\n}" : ", 0;\n}";
    tiedAsm(accs, inputs, constraints, ptx, /*outputsOnly=*/fresh);
  }
};

} // namespace mlir::attnqat::tc::detail

#endif // ATTNQAT_LIB_CONVERSION_ATTNQATTOGPU_WGMMABUILDER_H
