//===- KernelArith.h - index helpers of the kernel builders ----*- C++ -*-===//
//
// The integer, comparison and control-flow shorthands every kernel builder
// writes with (the attention builders through TileBuilder, the codec
// kernels, the backward's pre-pass): one builder and location, no kernel
// state.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_LIB_CONVERSION_ATTNQATTOGPU_KERNELARITH_H
#define ATTNQAT_LIB_CONVERSION_ATTNQATTOGPU_KERNELARITH_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

namespace mlir::attnqat {

class KernelArith {
public:
  KernelArith(OpBuilder b, Location loc) : b(b), loc(loc) {}

  OpBuilder b;
  Location loc;

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value addi(Value x, Value y) { return b.createOrFold<arith::AddIOp>(loc, x, y); }
  Value subi(Value x, Value y) { return b.createOrFold<arith::SubIOp>(loc, x, y); }
  Value muli(Value x, Value y) { return b.createOrFold<arith::MulIOp>(loc, x, y); }
  Value divu(Value x, Value y) { return b.createOrFold<arith::DivUIOp>(loc, x, y); }
  Value remu(Value x, Value y) { return b.createOrFold<arith::RemUIOp>(loc, x, y); }
  Value minu(Value x, Value y) { return b.createOrFold<arith::MinUIOp>(loc, x, y); }
  Value andi(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }
  Value ult(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  }
  Value uge(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, x, y);
  }
  Value eqi(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, y);
  }
  Value sel(Value c, Value t, Value f) { return arith::SelectOp::create(b, loc, c, t, f); }
  /// min(i, n - 1): a row or key index clamped into a buffer of n (>= 1).
  Value clampTo(Value i, Value n) { return minu(i, subi(n, idx(1))); }
  /// Runs `body` under `cond` (no results).
  void when(Value cond, llvm::function_ref<void()> body) {
    auto ifOp = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    body();
  }
};

} // namespace mlir::attnqat

#endif // ATTNQAT_LIB_CONVERSION_ATTNQATTOGPU_KERNELARITH_H
