//===- FP4Arith.cpp - the FP4 codec as arith/math ops ---------------------===//
//
// Each function mirrors its namesake in lib/Numerics/FP4.cpp. Rounding to a
// grid of spacing h (a power of two) is roundeven(x / h) * h: both steps are
// exact, so the result is the IEEE round-to-nearest-even of x on that grid.
//
//===----------------------------------------------------------------------===//

#include "attnqat/Conversion/FP4Arith.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::attnqat;

Value FP4Arith::f32(double v) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}
Value FP4Arith::i32(int64_t v) {
  return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
}

Value FP4Arith::roundToE2M1(Value x) {
  // |x| clamped to 8 (Inf too: it saturates at 6), rounded, x's sign back.
  Value q = arith::MinimumFOp::create(b, loc, math::AbsFOp::create(b, loc, x), f32(8));
  return math::CopySignOp::create(b, loc, roundNonNegativeToE2M1(q), x);
}

Value FP4Arith::addAndSubtract(Value x, Value expBits, int k) {
  // (x + M) - M for M = 2^(e + k), e the exponent field of the float bits
  // `expBits`: the sum's ulp is the grid spacing, so it rounds x to the grid.
  if (fusedRounding) {
    // M as 2^e times 2^k inside two FMAs: each rounds once, as the adds do.
    Value pow2e = arith::BitcastOp::create(b, loc, b.getF32Type(), expBits);
    Value sum = math::FmaOp::create(b, loc, pow2e, f32(std::ldexp(1.0, k)), x);
    return math::FmaOp::create(b, loc, pow2e, f32(-std::ldexp(1.0, k)), sum);
  }
  Value magic = arith::BitcastOp::create(b, loc, b.getF32Type(),
                                         arith::AddIOp::create(b, loc, expBits, i32(k << 23)));
  return arith::SubFOp::create(b, loc, arith::AddFOp::create(b, loc, x, magic), magic);
}

Value FP4Arith::roundNonNegativeToE2M1(Value y, bool saturate) {
  // y rounded to the grid by one addition: y + M has the grid's spacing as
  // its ulp when M = 2^(e + 22), e = max(exponent of y, 0) (spacing 0.5
  // below 2, 1 below 4, 2 below 8), so the float add rounds to nearest even
  // on the grid, and the even last bit is E2M1's even code. M comes from
  // y's exponent bits by integer operations: no compare, select or
  // conversion instruction (cvt.rni runs at a sixteenth of the FMA rate on
  // Hopper). From 8 on the sum rounds to a multiple of 4 or more, which
  // minimumf saturates at 6; minimumf keeps NaN. M is finite for y < 2^105
  // (roundToE2M1 clamps to 8 first; P's quotients stay below 16).
  Value bits = arith::BitcastOp::create(b, loc, b.getI32Type(), y);
  Value eb = arith::AndIOp::create(b, loc, bits, i32(0x7F800000));
  eb = arith::MaxSIOp::create(b, loc, eb, i32(0x3F800000)); // 2^0
  Value onGrid = addAndSubtract(y, eb, 22);
  return saturate ? arith::MinimumFOp::create(b, loc, onGrid, f32(6)) : onGrid;
}

Value FP4Arith::roundNonNegativeToScaledE2M1(Value y, Value scaleExpBits, Value limit) {
  Value bits = arith::BitcastOp::create(b, loc, b.getI32Type(), y);
  Value eb = arith::AndIOp::create(b, loc, bits, i32(0x7F800000));
  eb = arith::MaxSIOp::create(b, loc, eb, scaleExpBits);
  return arith::MinimumFOp::create(b, loc, addAndSubtract(y, eb, 22), limit);
}

Value FP4Arith::e2m1Code(Value onGrid) {
  Type i8 = b.getI8Type();
  Value q = math::AbsFOp::create(b, loc, onGrid);
  // index: 2q below 2, q + 2 for {2, 3}, 6 for 4, 7 for 6; NaN -> 0.
  Value lt2 = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, q, f32(2));
  Value lt4 = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, q, f32(4));
  Value eq4 = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, q, f32(4));
  Value idx = arith::SelectOp::create(
      b, loc, lt2, arith::MulFOp::create(b, loc, q, f32(2)),
      arith::SelectOp::create(
          b, loc, lt4, arith::AddFOp::create(b, loc, q, f32(2)),
          arith::SelectOp::create(b, loc, eq4, f32(6), f32(7))));
  Value isNan = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, q, q);
  idx = arith::SelectOp::create(b, loc, isNan, f32(0), idx);
  Value code = arith::FPToUIOp::create(b, loc, i8, idx);
  // Sign bit from the float's sign (keeps -0 as code 8).
  Value bits = arith::BitcastOp::create(b, loc, b.getI32Type(), onGrid);
  Value neg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, bits, i32(0));
  neg = arith::AndIOp::create(
      b, loc, neg, arith::XOrIOp::create(b, loc, isNan,
                                         arith::ConstantOp::create(
                                             b, loc, b.getBoolAttr(true))));
  Value sign = arith::SelectOp::create(
      b, loc, neg, arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(8)),
      arith::ConstantOp::create(b, loc, b.getI8IntegerAttr(0)));
  return arith::OrIOp::create(b, loc, code, sign);
}

Value FP4Arith::decodeE2M1(Value code) {
  // Straight to the float's bits, integer ops only (no int-to-float
  // convert): magnitude index i = code & 7 is i * 0.5 for i < 2, and for
  // i >= 2 exponent i / 2 - 1 with mantissa bit i & 1, i.e. bits
  // (i + 252) << 22; the sign bit moves from bit 3 to bit 31.
  Type i32Type = b.getI32Type();
  Value c = arith::ExtUIOp::create(b, loc, i32Type, code);
  Value idx = arith::AndIOp::create(b, loc, c, i32(7));
  Value normal = arith::ShLIOp::create(
      b, loc, arith::AddIOp::create(b, loc, idx, i32(252)), i32(22));
  Value small = arith::MulIOp::create(b, loc, idx, i32(0x3F000000));
  Value isNormal = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, idx, i32(2));
  Value mag = arith::SelectOp::create(b, loc, isNormal, normal, small);
  Value sign = arith::ShLIOp::create(b, loc, arith::AndIOp::create(b, loc, c, i32(8)),
                                     i32(28));
  return arith::BitcastOp::create(b, loc, b.getF32Type(),
                                  arith::OrIOp::create(b, loc, mag, sign));
}

Value FP4Arith::exp2Int(Value e) {
  // Normal range: biased exponent in the float's exponent field; 2^-127 is
  // the float subnormal with mantissa bit 22.
  Value biased = arith::AddIOp::create(b, loc, e, i32(127));
  Value normal = arith::ShLIOp::create(b, loc, biased, i32(23));
  Value isSub = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, biased, i32(0));
  Value bits = arith::SelectOp::create(b, loc, isSub, i32(1 << 22), normal);
  return arith::BitcastOp::create(b, loc, b.getF32Type(), bits);
}

/// floor(log2 x) for a positive normal float from its exponent field (-127
/// for zero and float subnormals, which the callers clamp anyway).
static Value floorLog2(OpBuilder &b, Location loc, FP4Arith &a, Value x) {
  Value bits = arith::BitcastOp::create(b, loc, b.getI32Type(), x);
  Value exp = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, bits, a.i32(23)), a.i32(0xFF));
  return arith::SubIOp::create(b, loc, exp, a.i32(127));
}

Value FP4Arith::roundToE4M3(Value x, bool belowSaturation) {
  // Spacing 2^(max(floor(log2 x), -6) - 3): 3 mantissa bits, subnormals
  // 2^-9. Adding M = 2^(e + 20), e = floor(log2 x) clamped to [-6, 9] (from
  // the exponent bits), makes that spacing M's ulp, so the float add rounds
  // to nearest even on the grid (as in roundNonNegativeToE2M1; no cvt.rni).
  // From 2^9 on everything saturates. NaN stays NaN. Below 464 (the tie
  // between 448 and 480, which rounds to 448) neither the clamp above nor
  // the saturation can act: `belowSaturation` leaves them out (NaN's M
  // then wraps to a finite value; the sum stays NaN).
  Value bits = arith::BitcastOp::create(b, loc, b.getI32Type(), x);
  Value eb = arith::AndIOp::create(b, loc, bits, i32(0x7F800000));
  eb = arith::MaxSIOp::create(b, loc, eb, i32(0x3C800000)); // 2^-6
  if (!belowSaturation)
    eb = arith::MinSIOp::create(b, loc, eb, i32(0x44000000)); // 2^9
  Value r = addAndSubtract(x, eb, 20);
  if (belowSaturation)
    return r;
  return arith::MinimumFOp::create(b, loc, r, f32(448)); // satfinite
}

Value FP4Arith::e4m3Bits(Value onGrid) {
  Type i8 = b.getI8Type();
  Value bits = arith::BitcastOp::create(b, loc, b.getI32Type(), onGrid);
  Value exp = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, bits, i32(23)), i32(0xFF));
  // Normal: ((e + 7) << 3) | top 3 mantissa bits. Subnormal: x * 2^9.
  Value normalBits = arith::OrIOp::create(
      b, loc,
      arith::ShLIOp::create(b, loc, arith::SubIOp::create(b, loc, exp, i32(120)),
                            i32(3)),
      arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, bits, i32(20)),
                            i32(7)));
  Value subBits = arith::FPToUIOp::create(
      b, loc, b.getI32Type(), arith::MulFOp::create(b, loc, onGrid, f32(512)));
  Value isSub = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, onGrid,
                                      f32(1.0 / 64));
  Value r = arith::SelectOp::create(b, loc, isSub, subBits, normalBits);
  Value isNan = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, onGrid, onGrid);
  r = arith::SelectOp::create(b, loc, isNan, i32(0x7F), r);
  return arith::TruncIOp::create(b, loc, i8, r);
}

Value FP4Arith::decodeE4M3(Value bits8) {
  Value bits = arith::ExtUIOp::create(b, loc, b.getI32Type(), bits8);
  Value mag = arith::AndIOp::create(b, loc, bits, i32(0x7F));
  Value exp = arith::ShRUIOp::create(b, loc, mag, i32(3));
  Value man = arith::AndIOp::create(b, loc, mag, i32(7));
  Value fman = arith::UIToFPOp::create(b, loc, b.getF32Type(), man);
  // Subnormal: man * 2^-9; normal: (1 + man/8) * 2^(exp - 7).
  Value sub = arith::MulFOp::create(b, loc, fman, f32(1.0 / 512));
  Value normal = arith::MulFOp::create(
      b, loc, arith::AddFOp::create(b, loc, f32(1), arith::MulFOp::create(b, loc, fman, f32(0.125))),
      exp2Int(arith::SubIOp::create(b, loc, exp, i32(7))));
  Value isSub = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, exp, i32(0));
  Value v = arith::SelectOp::create(b, loc, isSub, sub, normal);
  Value isNan = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, mag, i32(0x7F));
  v = arith::SelectOp::create(b, loc, isNan, f32(std::nan("")), v);
  Value neg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                    arith::AndIOp::create(b, loc, bits, i32(0x80)), i32(0));
  return arith::SelectOp::create(b, loc, neg, arith::NegFOp::create(b, loc, v), v);
}

Value FP4Arith::mxScaleExponent(Value amax) {
  Value e = arith::SubIOp::create(b, loc, floorLog2(b, loc, *this, amax), i32(2));
  e = arith::MaxSIOp::create(b, loc, e, i32(-127));
  return arith::MinSIOp::create(b, loc, e, i32(127));
}

Value FP4Arith::blockScale(FP4FormatAttrInterface format, Value amax, float g,
                           bool boundedAmax) {
  if (isa<NVFP4Attr>(format) && boundedAmax) {
    // The same two correctly rounded divisions by constants, as products
    // with their reciprocals and Markstein's correction (no overflow for a
    // bounded amax; a subnormal amax / 6 gives scale 0 either way). amax
    // is finite or NaN, amax / 6 / g below E4M3's saturation, and NaN runs
    // through: no test for either.
    Value v = divideWithReciprocal(amax, f32(6), f32(1.0f / 6.0f));
    v = divideWithReciprocal(v, f32(g), f32(1.0f / g));
    return roundToE4M3(v, /*belowSaturation=*/true);
  }
  // amax is NaN for a block holding NaN or Inf (the caller folds that in).
  Value finite = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, amax,
                                       f32(std::numeric_limits<float>::infinity()));
  Value s;
  if (isa<NVFP4Attr>(format)) {
    Value v = arith::DivFOp::create(b, loc, amax, f32(6));
    v = arith::DivFOp::create(b, loc, v, f32(g));
    s = roundToE4M3(v);
  } else {
    s = exp2Int(mxScaleExponent(amax));
  }
  return arith::SelectOp::create(b, loc, finite, s, f32(std::nan("")));
}

Value FP4Arith::scaleBits(FP4FormatAttrInterface format, Value scale) {
  if (isa<NVFP4Attr>(format))
    return e4m3Bits(scale);
  // E8M0: the biased exponent; 2^-127 is the float subnormal -> 0; NaN -> 0xFF.
  Value bits = arith::BitcastOp::create(b, loc, b.getI32Type(), scale);
  Value exp = arith::ShRUIOp::create(b, loc, bits, i32(23));
  Value isNan = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, scale, scale);
  exp = arith::SelectOp::create(b, loc, isNan, i32(0xFF), exp);
  return arith::TruncIOp::create(b, loc, b.getI8Type(), exp);
}

Value FP4Arith::decodeScale(FP4FormatAttrInterface format, Value bits8) {
  if (isa<NVFP4Attr>(format))
    return decodeE4M3(bits8);
  Value bits = arith::ExtUIOp::create(b, loc, b.getI32Type(), bits8);
  Value v = exp2Int(arith::SubIOp::create(b, loc, bits, i32(127)));
  Value isNan = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, bits, i32(0xFF));
  return arith::SelectOp::create(b, loc, isNan, f32(std::nan("")), v);
}

Value FP4Arith::scaledForCode(Value x, Value scale, float g) {
  Value denom = arith::MulFOp::create(b, loc, scale, f32(g));
  return arith::DivFOp::create(b, loc, x, denom);
}

Value FP4Arith::reciprocal(Value d) {
  return arith::DivFOp::create(b, loc, f32(1), d);
}

Value FP4Arith::divideWithReciprocal(Value x, Value d, Value r) {
  // Markstein: with r = RN(1/d) and q0 = RN(x r) within an ulp of x/d, the
  // remainder x - q0 d is exact (FMA) and RN(q0 + rem * r) = RN(x / d).
  Value q0 = arith::MulFOp::create(b, loc, x, r);
  Value rem = math::FmaOp::create(b, loc, arith::NegFOp::create(b, loc, q0), d, x);
  return math::FmaOp::create(b, loc, rem, r, q0);
}

Value FP4Arith::reciprocalLowPart(Value d, Value rHi) {
  // 1 - d rHi is exact (rHi = RN(1 / d)), so the one rounding is the division's.
  Value rem = math::FmaOp::create(b, loc, arith::NegFOp::create(b, loc, d), rHi, f32(1));
  return arith::DivFOp::create(b, loc, rem, d);
}

Value FP4Arith::splitReciprocalDivide(Value x, Value rHi, Value rLo) {
  return math::FmaOp::create(b, loc, x, rHi, arith::MulFOp::create(b, loc, x, rLo));
}

Value FP4Arith::scaleUsable(Value scale) {
  return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ONE, scale, f32(0));
}

Value FP4Arith::powerOfTwoReciprocal(Value scale) {
  Value bits = arith::BitcastOp::create(b, loc, b.getI32Type(), scale);
  Value exponent = arith::AndIOp::create(b, loc, bits, i32(static_cast<int32_t>(0xFF800000u)));
  return arith::BitcastOp::create(b, loc, b.getF32Type(),
                                  arith::SubIOp::create(b, loc, i32(0x7F000000), exponent));
}

Value FP4Arith::quantizeElement(Value x, Value scale, float g, FP4FormatAttrInterface format) {
  Value scaled;
  if (scalesArePowersOfTwo(format, g)) {
    scaled = arith::MulFOp::create(b, loc, x, powerOfTwoReciprocal(scale));
  } else if (dividesByReciprocal(format, g)) {
    // The block's elements share reciprocal(scale) (one division per block
    // once CSE merges them). Where the correction is not exact (|x| below
    // 2^-100) the code is 0 either way; -0 comes out +0, so x's sign goes
    // back on.
    scaled = math::CopySignOp::create(b, loc, divideWithReciprocal(x, scale, reciprocal(scale)), x);
  } else {
    scaled = scaledForCode(x, scale, g);
  }
  Value q = roundToE2M1(scaled);
  // Scale 0 (underflow) and NaN scales give zero codes.
  return arith::SelectOp::create(b, loc, scaleUsable(scale), q, f32(0));
}

Value FP4Arith::dequantizeElement(Value onGrid, Value scale, float g) {
  Value v = arith::MulFOp::create(b, loc, onGrid, scale);
  return arith::MulFOp::create(b, loc, v, f32(g));
}
