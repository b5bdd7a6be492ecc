//===- CodecKernels.cpp - GPU kernels for the FP4 codec ops ---------------===//
//
// One thread per block: it reads the block (strided by `inner`), takes the
// amax, encodes the scale and the codes with the shared codec arithmetic
// (FP4Arith, as the CPU lowering does) and writes them. Sizes are kernel
// arguments, so a kernel is specialized only on element type, format, global
// scale and op kind.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilders.h"

#include "attnqat/Conversion/FP4Arith.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
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

void gpukernels::buildCodecKernel(gpu::GPUFuncOp func, const CodecKernelKey &key) {
  OpBuilder b = OpBuilder::atBlockBegin(&func.getBody().front());
  Location loc = func.getLoc();
  FP4Arith fp(b, loc);
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
  Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, gid, total);
  auto ifOp = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());

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
            b, loc, arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, o, half), pairIdx),
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
        b, loc, b.getI8Type(), arith::MulIOp::create(b, loc, arith::RemUIOp::create(b, loc, along, idx(2)), idx(4)));
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
    scf::YieldOp::create(b, loc, ValueRange{arith::MaximumFOp::create(
                                     b, loc, amaxLoop.getRegionIterArgs()[0], v)});
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
          b, loc, ValueRange{fp.e2m1Code(fp.quantizeElement(load(idx(k)), scale, g))});
      b.setInsertionPointToStart(&ifIn.getElseRegion().front());
      scf::YieldOp::create(b, loc, ValueRange{zero8});
      return ifIn.getResult(0);
    };
    Value codeRow = arith::MulIOp::create(b, loc, row, idx(bs / 2));
    Value codeBase = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, codeRow, nb),
        arith::MulIOp::create(b, loc, kb, idx(bs / 2)));
    for (int64_t k = 0; k < bs; k += 2) {
      Value hi = arith::ShLIOp::create(
          b, loc, codeOf(k + 1), arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(4)));
      memref::StoreOp::create(
          b, loc, arith::OrIOp::create(b, loc, codeOf(k), hi), out0,
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
      memref::StoreOp::create(b, loc, byte, out0, ValueRange{codeByteIndex(k)});
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
