//===- CodecKernels.cpp - GPU kernels for the FP4 codec ops ---------------===//
//
// One thread per block: it reads the block (strided by `inner`), takes the
// amax, encodes the scale and the codes with the shared codec arithmetic
// (FP4Arith, as the CPU lowering does) and writes them. Sizes are kernel
// arguments, so a kernel is specialized only on element type, format, global
// scale and op kind.
//
// That strided path is the reference; two vector paths (CodecVectorPaths)
// take rows-layout tensors whose shape and alignment allow 16-byte accesses:
// element by element, a warp's loads of Q and K (inner = 1) each touched 32
// sectors for 64 bytes, and the H200 ran fake_quant at a tenth of its memory
// bandwidth. The grid has a thread per kCodecElementsPerThread elements;
// each path walks its own units grid-stride.
//
//===----------------------------------------------------------------------===//

#include "KernelArith.h"
#include "KernelBuilders.h"

#include "attnqat/Conversion/FP4Arith.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/StringExtras.h"

#include <cstring>

using namespace mlir;
using namespace mlir::attnqat;
using gpukernels::CodecKernelKey;
using gpukernels::CodecKind;
using gpukernels::CodecLayout;

std::string gpukernels::codecKernelName(const CodecKernelKey &key) {
  std::string name = key.kind == CodecKind::Quantize     ? "quantize_"
                     : key.kind == CodecKind::Dequantize ? "dequantize_"
                                                         : "fake_quant_";
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
  return name + "_" + type + (key.layout == CodecLayout::T64 ? "_t64" : "");
}

namespace {
/// The vector paths of a codec kernel (blocks of a rows-layout tensor; the
/// t64 layout keeps the strided path). A lane moves 16 bytes of elements
/// per access: E of them.
///  * rows: blocks along a contiguous axis (inner == 1, the axis whole
///    blocks); L = bs / E lanes per block, adjacent, so a warp's accesses
///    are contiguous; the block amax by shuffles.
///  * columns: blocks along a strided axis (inner a multiple of E); a lane
///    takes E adjacent blocks (columns i..i+E-1) and walks their rows.
/// Both need the element arrays 16-byte aligned and the code and scale
/// arrays aligned to their access; they compute with FP4Arith exactly as
/// the strided path does (same bits).
class CodecVectorPaths : public KernelArith {
public:
  /// Builds at the start of `func`'s body; its builder `b` is the kernel's.
  CodecVectorPaths(gpu::GPUFuncOp func, const CodecKernelKey &key)
      : KernelArith(OpBuilder::atBlockBegin(&func.getBody().front()), func.getLoc()),
        fp(b, loc, /*fusedRounding=*/true), key(key), bs(key.format.getBlockSize()),
        g(key.format.getGlobalScaleValue()), elt(key.elementType),
        e(16 / (elt.getIntOrFloatBitWidth() / 8)) {
    Block &entry = func.getBody().front();
    bool codec = key.kind != CodecKind::FakeQuant;
    unsigned sizeArg = codec ? 3 : 2;
    axis = entry.getArgument(sizeArg + 1), inner = entry.getArgument(sizeArg + 2);
    if (key.kind == CodecKind::Dequantize) {
      codes = entry.getArgument(0), scales = entry.getArgument(1);
      values = entry.getArgument(2);
    } else {
      input = entry.getArgument(0);
      if (key.kind == CodecKind::FakeQuant)
        values = entry.getArgument(1);
      else
        codes = entry.getArgument(1), scales = entry.getArgument(2);
    }
  }
  int64_t rowLanes() const { return bs / e; }
  int64_t elementsPerAccess() const { return e; }

  Value rowsFit() {
    Value fits = andi(eqi(inner, idx(1)), eqi(remu(axis, idx(bs)), idx(0)));
    return andi(fits, aligned(/*codeBytes=*/e / 2, /*scaleBytes=*/1));
  }
  Value columnsFit() { return andi(eqi(remu(inner, idx(e)), idx(0)), aligned(e, e)); }

  /// Units us of the rows path (unit u: part u % L of block u / L), their
  /// loads issued together. `lives[j]`: us[j] is one (the warp's other
  /// lanes still take part in the shuffles).
  void rowsUnits(ArrayRef<Value> us, ArrayRef<Value> lives) {
    int64_t lanes = rowLanes();
    auto codeBytes = VectorType::get({e / 2}, b.getI8Type());
    SmallVector<Value> block, part, first, codeAt;
    for (Value u : us) {
      block.push_back(divu(u, idx(lanes)));
      part.push_back(remu(u, idx(lanes)));
      first.push_back(addi(muli(block.back(), idx(bs)), muli(part.back(), idx(e))));
      codeAt.push_back(addi(muli(block.back(), idx(bs / 2)), muli(part.back(), idx(e / 2))));
    }
    if (key.kind == CodecKind::Dequantize) {
      SmallVector<Value> sBits, bytes;
      for (size_t j = 0; j < us.size(); ++j) {
        sBits.push_back(memref::LoadOp::create(b, loc, scales, block[j]));
        bytes.push_back(vector::LoadOp::create(b, loc, codeBytes, codes, ValueRange{codeAt[j]},
                                               /*nontemporal=*/false, llvm::Align(e / 2)));
      }
      for (size_t j = 0; j < us.size(); ++j) {
        Value scale = fp.decodeScale(key.format, sBits[j]);
        SmallVector<Value> vals;
        for (int64_t k = 0; k < e / 2; ++k) {
          Value byte = vector::ExtractOp::create(b, loc, bytes[j], ArrayRef<int64_t>{k});
          // Element 2k in the low nibble, 2k + 1 in the high one.
          vals.push_back(decode(low(byte), scale));
          vals.push_back(decode(high(byte), scale));
        }
        when(lives[j], [&] { storeElements(vals, first[j]); });
      }
      return;
    }
    SmallVector<SmallVector<Value>> loaded;
    for (Value at : first)
      loaded.push_back(loadElements(at));
    for (size_t j = 0; j < us.size(); ++j) {
      ArrayRef<Value> vals = loaded[j];
      Value amax = treeMax(vals);
      for (int32_t offset = 1; offset < lanes; offset *= 2)
        amax = arith::MaximumFOp::create(
            b, loc, amax,
            gpu::ShuffleOp::create(b, loc, amax, offset, 32, gpu::ShuffleMode::XOR)
                .getShuffleResult());
      Value scale = fp.blockScale(key.format, amax, g);
      SmallVector<Value> onGrid;
      for (Value v : vals)
        onGrid.push_back(fp.quantizeElement(v, scale, g, key.format));
      if (key.kind == CodecKind::FakeQuant) {
        SmallVector<Value> out;
        for (Value v : onGrid)
          out.push_back(fp.dequantizeElement(v, scale, g));
        when(lives[j], [&] { storeElements(out, first[j]); });
        continue;
      }
      SmallVector<Value> bytes;
      for (int64_t k = 0; k < e; k += 2)
        bytes.push_back(pack(fp.e2m1Code(onGrid[k]), fp.e2m1Code(onGrid[k + 1])));
      when(lives[j], [&] {
        vector::StoreOp::create(b, loc,
                                vector::FromElementsOp::create(b, loc, codeBytes, bytes), codes,
                                ValueRange{codeAt[j]}, /*nontemporal=*/false,
                                llvm::Align(e / 2));
        when(eqi(part[j], idx(0)), [&] {
          memref::StoreOp::create(b, loc, fp.scaleBits(key.format, scale), scales, block[j]);
        });
      });
    }
  }

  /// Unit u of the columns path: columns i..i+E-1 of block kb of outer o.
  /// Straight-line over the block's bs rows so that their loads are in
  /// flight together: rows past a tail block's end load its last row (which
  /// leaves the amax as it is) and store nothing.
  void columnsUnit(Value u) {
    ColumnBlock cb = columnBlock(u);
    Value i = cb.i, o = cb.o, kb = cb.kb, nb = cb.nb, k0 = cb.k0, n = cb.n;
    auto elementAt = [&](int64_t k) { return columnElement(cb, idx(k)); };
    auto inside = [&](int64_t k) { return ult(idx(k), n); };
    Value scaleAt = addi(muli(addi(muli(o, nb), kb), inner), i);
    // Code byte (o, (k0 + k) / 2, i): rows 2p and 2p + 1 of the block share one.
    Value half = b.createOrFold<arith::CeilDivUIOp>(loc, axis, idx(2));
    auto codeAt = [&](int64_t p) {
      return addi(muli(addi(addi(muli(o, half), divu(k0, idx(2))), idx(p)), inner), i);
    };
    auto bytesType = VectorType::get({e}, b.getI8Type());

    if (key.kind == CodecKind::Dequantize) {
      Value sBits = vector::LoadOp::create(b, loc, bytesType, scales, ValueRange{scaleAt},
                                           /*nontemporal=*/false, llvm::Align(e));
      SmallVector<Value> sc;
      for (int64_t c = 0; c < e; ++c)
        sc.push_back(fp.decodeScale(
            key.format, vector::ExtractOp::create(b, loc, sBits, ArrayRef<int64_t>{c})));
      SmallVector<Value> pairBytes;
      for (int64_t p = 0; p < bs / 2; ++p) // a pair past the end reloads pair 0
        pairBytes.push_back(vector::LoadOp::create(
            b, loc, bytesType, codes,
            ValueRange{arith::SelectOp::create(b, loc, inside(2 * p), codeAt(p), codeAt(0))},
            /*nontemporal=*/false, llvm::Align(e)));
      for (int64_t k = 0; k < bs; ++k) {
        SmallVector<Value> vals;
        for (int64_t c = 0; c < e; ++c) {
          Value byte = vector::ExtractOp::create(b, loc, pairBytes[k / 2], ArrayRef<int64_t>{c});
          vals.push_back(decode(k % 2 ? high(byte) : low(byte), sc[c]));
        }
        when(inside(k), [&] { storeElements(vals, elementAt(k)); });
      }
      return;
    }

    // The amax pass holds only the running maxima; the quantize pass loads
    // the rows again (from L1).
    SmallVector<Value> amax(e);
    for (int64_t k = 0; k < bs; ++k) {
      SmallVector<Value> row = loadElements(elementAt(k));
      for (int64_t c = 0; c < e; ++c) {
        Value v = math::AbsFOp::create(b, loc, row[c]);
        amax[c] = k ? Value(arith::MaximumFOp::create(b, loc, amax[c], v)) : v;
      }
    }
    SmallVector<Value> scale;
    for (Value m : amax)
      scale.push_back(fp.blockScale(key.format, m, g));
    auto rowsAt = [&](int64_t k) { return loadElements(elementAt(k)); };
    if (key.kind == CodecKind::FakeQuant) {
      for (int64_t k = 0; k < bs; ++k) {
        SmallVector<Value> vals = rowsAt(k);
        for (int64_t c = 0; c < e; ++c)
          vals[c] = fp.dequantizeElement(fp.quantizeElement(vals[c], scale[c], g, key.format),
                                         scale[c], g);
        when(inside(k), [&] { storeElements(vals, elementAt(k)); });
      }
      return;
    }
    SmallVector<Value> sBits;
    for (Value sv : scale)
      sBits.push_back(fp.scaleBits(key.format, sv));
    vector::StoreOp::create(b, loc, vector::FromElementsOp::create(b, loc, bytesType, sBits),
                            scales, ValueRange{scaleAt}, /*nontemporal=*/false, llvm::Align(e));
    Value zero8 = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
    for (int64_t p = 0; p < bs / 2; ++p) {
      SmallVector<Value> lo = rowsAt(2 * p), hi = rowsAt(2 * p + 1), bytes;
      for (int64_t c = 0; c < e; ++c) {
        // An odd tail's high nibbles stay 0.
        Value hiCode = arith::SelectOp::create(
            b, loc, inside(2 * p + 1),
            fp.e2m1Code(fp.quantizeElement(hi[c], scale[c], g, key.format)), zero8);
        bytes.push_back(
            pack(fp.e2m1Code(fp.quantizeElement(lo[c], scale[c], g, key.format)), hiCode));
      }
      when(inside(2 * p), [&] {
        vector::StoreOp::create(b, loc,
                                vector::FromElementsOp::create(b, loc, bytesType, bytes), codes,
                                ValueRange{codeAt(p)}, /*nontemporal=*/false, llvm::Align(e));
      });
    }
  }

  /// Half-unit h of fake_quant's columns path: rows (h % 2) bs/2 .. of
  /// unit h / 2 (columnsUnit's), the block's amax over the lane pair (lane
  /// xor 1). Every lane of a warp calls it (the shuffles); `live`: h is
  /// one. Twice the threads of columnsUnit, each holding its bs/2 rows
  /// rather than loading them twice (H200, same run, 64 heads of 4k x 128
  /// BF16: 65.8 -> 55.0 us; a copy takes 36.8).
  void columnsHalfUnit(Value h, Value live) {
    Value u = divu(h, idx(2)), r0 = muli(remu(h, idx(2)), idx(bs / 2));
    ColumnBlock cb = columnBlock(u);
    SmallVector<Value> ks, at;
    SmallVector<SmallVector<Value>> rows;
    for (int64_t k = 0; k < bs / 2; ++k) {
      ks.push_back(addi(r0, idx(k)));
      at.push_back(columnElement(cb, ks.back()));
      rows.push_back(loadElements(at.back()));
    }
    Value n = cb.n;
    for (int64_t c = 0; c < e; ++c) {
      Value amax;
      for (int64_t k = 0; k < bs / 2; ++k) {
        Value v = math::AbsFOp::create(b, loc, rows[k][c]);
        amax = k ? Value(arith::MaximumFOp::create(b, loc, amax, v)) : v;
      }
      amax = arith::MaximumFOp::create(
          b, loc, amax,
          gpu::ShuffleOp::create(b, loc, amax, 1, 32, gpu::ShuffleMode::XOR).getShuffleResult());
      Value scale = fp.blockScale(key.format, amax, g);
      for (int64_t k = 0; k < bs / 2; ++k)
        rows[k][c] =
            fp.dequantizeElement(fp.quantizeElement(rows[k][c], scale, g, key.format), scale, g);
    }
    for (int64_t k = 0; k < bs / 2; ++k)
      when(andi(live, ult(ks[k], n)), [&] { storeElements(rows[k], at[k]); });
  }

private:
  /// Unit u of the columns path: columns i..i+E-1 of block kb (of nb) of
  /// outer o, whose n rows (fewer in a tail block) start at row k0.
  struct ColumnBlock {
    Value i, o, kb, nb, k0, n, last;
  };
  ColumnBlock columnBlock(Value u) {
    ColumnBlock cb;
    Value groups = divu(inner, idx(e));
    cb.i = muli(remu(u, groups), idx(e));
    Value t = divu(u, groups);
    cb.nb = b.createOrFold<arith::CeilDivUIOp>(loc, axis, idx(bs));
    cb.kb = remu(t, cb.nb), cb.o = divu(t, cb.nb);
    cb.k0 = muli(cb.kb, idx(bs));
    cb.n = minu(idx(bs), subi(axis, cb.k0));
    cb.last = subi(cb.n, idx(1));
    return cb;
  }
  /// The first of the unit's E elements in row k of its block; rows past a
  /// tail block's end give its last row (which leaves the amax as it is).
  Value columnElement(const ColumnBlock &cb, Value k) {
    Value row = minu(k, cb.last);
    return addi(muli(addi(addi(muli(cb.o, axis), cb.k0), row), inner), cb.i);
  }

  FP4Arith fp;
  const CodecKernelKey &key;
  int64_t bs;
  float g;
  Type elt;
  int64_t e; // elements per 16-byte access
  Value axis, inner, input, values, codes, scales; // absent ones null

  /// Element arrays 16-byte aligned, code and scale arrays as given.
  Value aligned(int64_t codeBytes, int64_t scaleBytes) {
    Value ok = arith::ConstantOp::create(b, loc, b.getBoolAttr(true));
    auto check = [&](Value memref, int64_t bytes) {
      if (!memref || bytes == 1)
        return;
      Value at = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref);
      ok = andi(ok, eqi(remu(at, idx(bytes)), idx(0)));
    };
    check(input, 16);
    check(values, 16);
    check(codes, codeBytes);
    check(scales, scaleBytes);
    return ok;
  }
  SmallVector<Value> loadElements(Value at) {
    Value x = vector::LoadOp::create(b, loc, VectorType::get({e}, elt), input, ValueRange{at},
                                     /*nontemporal=*/false, llvm::Align(16));
    SmallVector<Value> vals;
    for (int64_t k = 0; k < e; ++k) {
      Value v = vector::ExtractOp::create(b, loc, x, ArrayRef<int64_t>{k});
      vals.push_back(elt.isF32() ? v : arith::ExtFOp::create(b, loc, b.getF32Type(), v));
    }
    return vals;
  }
  void storeElements(ArrayRef<Value> vals, Value at) {
    SmallVector<Value> out;
    for (Value v : vals)
      out.push_back(elt.isF32() ? v : arith::TruncFOp::create(b, loc, elt, v).getResult());
    vector::StoreOp::create(b, loc,
                            vector::FromElementsOp::create(b, loc, VectorType::get({e}, elt), out),
                            values, ValueRange{at}, /*nontemporal=*/false, llvm::Align(16));
  }
  /// max |v| as a tree (maximumf keeps a NaN, in any order).
  Value treeMax(ArrayRef<Value> vals) {
    SmallVector<Value> level;
    for (Value v : vals)
      level.push_back(math::AbsFOp::create(b, loc, v));
    while (level.size() > 1) {
      SmallVector<Value> next;
      for (size_t i = 0; i < level.size(); i += 2)
        next.push_back(arith::MaximumFOp::create(b, loc, level[i], level[i + 1]));
      level = std::move(next);
    }
    return level.front();
  }
  Value low(Value byte) {
    return arith::AndIOp::create(b, loc, byte,
                                 arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(15)));
  }
  Value high(Value byte) {
    return arith::ShRUIOp::create(b, loc, byte,
                                  arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(4)));
  }
  Value pack(Value lo, Value hi) {
    return arith::OrIOp::create(
        b, loc, lo,
        arith::ShLIOp::create(b, loc, hi,
                              arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(4))));
  }
  Value decode(Value code, Value scale) {
    return fp.dequantizeElement(fp.decodeE2M1(code), scale, g);
  }
};
} // namespace

void gpukernels::buildCodecKernel(gpu::GPUFuncOp func, const CodecKernelKey &key) {
  CodecVectorPaths vec(func, key); // its builder builds the whole kernel
  OpBuilder &b = vec.b;
  Location loc = vec.loc;
  FP4Arith fp(b, loc, /*fusedRounding=*/true);
  auto idx = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Block &entry = func.getBody().front();
  bool quantize = key.kind == CodecKind::Quantize;
  bool dequantize = key.kind == CodecKind::Dequantize;
  Value input = entry.getArgument(0);
  Value out0 = entry.getArgument(1);
  Value out1 = quantize || dequantize ? entry.getArgument(2) : Value();
  unsigned sizeArg = quantize || dequantize ? 3 : 2;
  Value outer = entry.getArgument(sizeArg), axis = entry.getArgument(sizeArg + 1),
        inner = entry.getArgument(sizeArg + 2);
  int64_t bs = key.format.getBlockSize();
  float g = key.format.getGlobalScaleValue();

  // Global thread id -> (o, kb, i); threads past the end do nothing.
  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  Value bid = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value bdim = gpu::BlockDimOp::create(b, loc, gpu::Dimension::x);
  bool t64 = key.layout == CodecLayout::T64;
  if (t64) { // a 2-D grid (x fastest): its launch has no nested ceil
    Value by = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
    Value gx = gpu::GridDimOp::create(b, loc, gpu::Dimension::x);
    bid = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, by, gx), bid);
  }
  Value gid = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, bid, bdim), tid);
  // T64 covers the axis padded to 64 (its padding blocks are written too).
  Value nb = t64 ? Value(arith::MulIOp::create(
                       b, loc, arith::CeilDivUIOp::create(b, loc, axis, idx(64)),
                       idx(64 / bs)))
                 : Value(arith::CeilDivUIOp::create(b, loc, axis, idx(bs)));
  Value total = arith::MulIOp::create(b, loc, arith::MulIOp::create(b, loc, outer, nb), inner);
  // The strided path: block `gid` (one thread each, element by element).
  auto strided = [&](Value gid) {
    Value i = arith::RemUIOp::create(b, loc, gid, inner);
    Value t = arith::DivUIOp::create(b, loc, gid, inner);
    Value kb = arith::RemUIOp::create(b, loc, t, nb);
    Value o = arith::DivUIOp::create(b, loc, t, nb);
    Value k0 = arith::MulIOp::create(b, loc, kb, idx(bs));
    // Elements of the block inside the axis (0 for a padding block).
    Value end = t64 ? Value(arith::MaxUIOp::create(b, loc, axis, k0)) : axis;
    Value n = arith::MinUIOp::create(b, loc, idx(bs), arith::SubIOp::create(b, loc, end, k0));
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

    // The rows layout: scale (o, kb, i) at (o * nb + kb) * inner + i; element
    // k of the block in the code byte (o * ceil(axis/2) + (k0 + k) / 2) * inner
    // + i (k0 is even).
    auto scaleIndex = [&]() -> Value {
      return arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(
              b, loc, arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, o, nb), kb),
              inner),
          i);
    };
    auto codeByteIndex = [&](Value k) -> Value {
      Value half = arith::CeilDivUIOp::create(b, loc, axis, idx(2));
      Value pairIdx = arith::AddIOp::create(b, loc, arith::DivUIOp::create(b, loc, k0, idx(2)),
                                            arith::DivUIOp::create(b, loc, k, idx(2)));
      return arith::AddIOp::create(
          b, loc,
          arith::MulIOp::create(
              b, loc,
              arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, o, half), pairIdx),
              inner),
          i);
    };

    if (dequantize) {
      // input: codes [outer, ceil(axis/2), inner]; out0: scales [outer, nb,
      // inner]; out1: the values. code * scale * g, as the CPU lowering.
      Value codes = input, scales = out0, values = out1;
      Value scale = fp.decodeScale(
          key.format, memref::LoadOp::create(b, loc, scales, ValueRange{scaleIndex()}));
      Type elt = cast<MemRefType>(values.getType()).getElementType();
      auto loop = scf::ForOp::create(b, loc, idx(0), n, idx(1));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(loop.getBody()->getTerminator());
      Value k = loop.getInductionVar();
      Value along = arith::AddIOp::create(b, loc, k0, k);
      Value byte = memref::LoadOp::create(b, loc, codes, ValueRange{codeByteIndex(k)});
      // Element 2j in the low nibble, 2j + 1 in the high one.
      Value odd = arith::IndexCastOp::create(
          b, loc, b.getI8Type(),
          arith::MulIOp::create(b, loc, arith::RemUIOp::create(b, loc, along, idx(2)), idx(4)));
      Value code = arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, byte, odd),
                                         arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(15)));
      Value v = fp.dequantizeElement(fp.decodeE2M1(code), scale, g);
      if (elt != v.getType())
        v = arith::TruncFOp::create(b, loc, elt, v);
      memref::StoreOp::create(b, loc, v, values, ValueRange{elementIndex(k)});
      return;
    }

    auto amaxLoop = scf::ForOp::create(b, loc, idx(0), n, idx(1), ValueRange{fp.f32(0)});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(amaxLoop.getBody());
      Value v = math::AbsFOp::create(b, loc, load(amaxLoop.getInductionVar()));
      scf::YieldOp::create(
          b, loc,
          ValueRange{arith::MaximumFOp::create(b, loc, amaxLoop.getRegionIterArgs()[0], v)});
    }
    Value scale = fp.blockScale(key.format, amaxLoop.getResult(0), g);

    if (quantize && t64) {
      // Row (o, i): nb scale bytes, then nb * bs / 2 code bytes; every pair of
      // the block is written (zeros past the axis).
      Value row = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, o, inner), i);
      memref::StoreOp::create(
          b, loc, fp.scaleBits(key.format, scale), out1,
          ValueRange{arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, row, nb), kb)});
      Value zero8 = arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0));
      auto codeOf = [&](int64_t k) -> Value {
        Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, idx(k), n);
        auto ifIn = scf::IfOp::create(b, loc, b.getI8Type(), inside, /*withElse=*/true);
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToStart(&ifIn.getThenRegion().front());
        scf::YieldOp::create(
            b, loc,
            ValueRange{fp.e2m1Code(fp.quantizeElement(load(idx(k)), scale, g, key.format))});
        b.setInsertionPointToStart(&ifIn.getElseRegion().front());
        scf::YieldOp::create(b, loc, ValueRange{zero8});
        return ifIn.getResult(0);
      };
      Value codeRow = arith::MulIOp::create(b, loc, row, idx(bs / 2));
      Value codeBase = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, codeRow, nb),
                                             arith::MulIOp::create(b, loc, kb, idx(bs / 2)));
      for (int64_t k = 0; k < bs; k += 2) {
        Value hi = arith::ShLIOp::create(b, loc, codeOf(k + 1),
                                         arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(4)));
        memref::StoreOp::create(b, loc, arith::OrIOp::create(b, loc, codeOf(k), hi), out0,
                                ValueRange{arith::AddIOp::create(b, loc, codeBase, idx(k / 2))});
      }
    } else if (quantize) {
      memref::StoreOp::create(b, loc, fp.scaleBits(key.format, scale), out1,
                              ValueRange{scaleIndex()});
      // Codes: [outer, ceil(axis / 2), inner] bytes, pairs along the axis.
      auto pairs = scf::ForOp::create(b, loc, idx(0), n, idx(2));
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(pairs.getBody()->getTerminator());
        Value k = pairs.getInductionVar();
        Value lo = fp.e2m1Code(fp.quantizeElement(load(k), scale, g, key.format));
        Value k1 = arith::AddIOp::create(b, loc, k, idx(1));
        Value hasHi = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, k1, n);
        // The high nibble of an odd tail stays 0 (a padded zero).
        auto hiIf = scf::IfOp::create(b, loc, b.getI8Type(), hasHi, /*withElse=*/true);
        {
          OpBuilder::InsertionGuard g2(b);
          b.setInsertionPointToStart(&hiIf.getThenRegion().front());
          Value hi = fp.e2m1Code(fp.quantizeElement(load(k1), scale, g, key.format));
          scf::YieldOp::create(b, loc, ValueRange{hi});
          b.setInsertionPointToStart(&hiIf.getElseRegion().front());
          scf::YieldOp::create(
              b, loc, ValueRange{arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0))});
        }
        Value hi = arith::ShLIOp::create(b, loc, hiIf.getResult(0),
                                         arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(4)));
        Value byte = arith::OrIOp::create(b, loc, lo, hi);
        memref::StoreOp::create(b, loc, byte, out0, ValueRange{codeByteIndex(k)});
      }
    } else {
      auto loop = scf::ForOp::create(b, loc, idx(0), n, idx(1));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(loop.getBody()->getTerminator());
      Value k = loop.getInductionVar();
      Value v = fp.dequantizeElement(fp.quantizeElement(load(k), scale, g, key.format), scale, g);
      Type elt = cast<MemRefType>(out0.getType()).getElementType();
      if (elt != v.getType())
        v = arith::TruncFOp::create(b, loc, elt, v);
      memref::StoreOp::create(b, loc, v, out0, ValueRange{elementIndex(k)});
    }
  };

  Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, gid, total);
  if (t64) { // its 2-D grid has a thread per block
    auto ifOp = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    strided(gid);
    return;
  }
  // A thread per kCodecElementsPerThread elements; each path walks its units
  // grid-stride.
  Value threads =
      arith::MulIOp::create(b, loc, gpu::GridDimOp::create(b, loc, gpu::Dimension::x), bdim);
  auto gridStride = [&](Value units, function_ref<void(Value)> body) {
    auto loop = scf::ForOp::create(b, loc, gid, units, threads);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(loop.getBody()->getTerminator());
    body(loop.getInductionVar());
  };
  // For paths whose units shuffle within a warp: every lane of a warp runs
  // the same iterations, units rounded up to whole warps; lanes past the end
  // compute on the last unit (`lives` false: they store nothing). `unroll`
  // units per lane and step (a grid-stride of unroll * threads), their loads
  // in flight together.
  auto wholeWarps = [&](Value units, int64_t unroll,
                        function_ref<void(ArrayRef<Value> us, ArrayRef<Value> lives)> body) {
    Value warpUnits =
        arith::MulIOp::create(b, loc, arith::CeilDivUIOp::create(b, loc, units, idx(32)), idx(32));
    auto loop = scf::ForOp::create(b, loc, gid, warpUnits,
                                   arith::MulIOp::create(b, loc, threads, idx(unroll)));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(loop.getBody()->getTerminator());
    SmallVector<Value> us, lives;
    for (int64_t j = 0; j < unroll; ++j) {
      Value u = arith::AddIOp::create(b, loc, loop.getInductionVar(),
                                      arith::MulIOp::create(b, loc, threads, idx(j)));
      lives.push_back(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, u, units));
      us.push_back(
          arith::MinUIOp::create(b, loc, u, arith::SubIOp::create(b, loc, units, idx(1))));
    }
    body(us, lives);
  };
  auto rows = scf::IfOp::create(b, loc, vec.rowsFit(), /*withElseRegion=*/true);
  b.setInsertionPointToStart(&rows.getThenRegion().front());
  wholeWarps(arith::MulIOp::create(b, loc, total, idx(vec.rowLanes())), /*unroll=*/8,
             [&](ArrayRef<Value> us, ArrayRef<Value> lives) { vec.rowsUnits(us, lives); });
  b.setInsertionPointToStart(&rows.getElseRegion().front());
  auto columns = scf::IfOp::create(b, loc, vec.columnsFit(), /*withElseRegion=*/true);
  b.setInsertionPointToStart(&columns.getThenRegion().front());
  // A unit per E adjacent blocks (NVFP4 fake_quant: half a unit per lane;
  // MXFP4's halves would hold 16 rows).
  Value columnUnits = arith::DivUIOp::create(b, loc, total, idx(vec.elementsPerAccess()));
  if (key.kind == CodecKind::FakeQuant && key.format.getBlockSize() == 16)
    wholeWarps(
        arith::MulIOp::create(b, loc, columnUnits, idx(2)), /*unroll=*/1,
        [&](ArrayRef<Value> hs, ArrayRef<Value> lives) { vec.columnsHalfUnit(hs[0], lives[0]); });
  else
    gridStride(columnUnits, [&](Value u) { vec.columnsUnit(u); });
  b.setInsertionPointToStart(&columns.getElseRegion().front());
  gridStride(total, [&](Value u) { strided(u); });
}
