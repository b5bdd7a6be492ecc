//===- FP4Arith.h - the FP4 codec as arith/math ops ---------------*- C++ -*-===//
//
// Emits the codec of docs/numerics.md on scalar f32 values with arith/math
// ops, shared by every lowering that quantizes inside generated code (CPU
// loops now, GPU kernels later). It mirrors lib/Numerics/FP4.cpp operation by
// operation so that both compute the same bits.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_CONVERSION_FP4ARITH_H
#define ATTNQAT_CONVERSION_FP4ARITH_H

#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"
#include "mlir/IR/Builders.h"

namespace mlir::attnqat {

/// Builds codec arithmetic at the builder's insertion point.
class FP4Arith {
public:
  /// `fusedRounding`: round to a grid by fused multiply-adds of the
  /// exponent's power of two (t = 2^e 2^k + y, t - 2^e 2^k) instead of
  /// forming 2^(e + k) with an integer add: one instruction fewer per value,
  /// the same result. For targets with a hardware FMA: the GPU codec and
  /// tensor-core kernels ask for it; the CPU lowering (and the baseline
  /// kernels sharing its emitter) keeps the adds.
  FP4Arith(OpBuilder &b, Location loc, bool fusedRounding = false)
      : b(b), loc(loc), fusedRounding(fusedRounding) {}

  Value f32(double v);
  Value i32(int64_t v);

  /// |x| rounded to the E2M1 grid (ties to even, saturating at 6), with x's
  /// sign: the value E2M1(x) decodes to. NaN stays NaN.
  Value roundToE2M1(Value x);
  /// roundToE2M1 for +0 <= y < 2^105 (or NaN): no |.|, clamp or sign (the P
  /// codec's quotients). Without `saturate` the result is left on the
  /// rounding's grid above 6 (8, 12, ...: at most two significant bits) and
  /// the caller saturates it at 6 itself (the wgmma forward does so on BF16
  /// pairs, one instruction for two values).
  Value roundNonNegativeToE2M1(Value y, bool saturate = true);
  /// roundNonNegativeToE2M1(y / s) * s for a power-of-two scale s = 2^e (an
  /// MXFP4 block's) with no quotient and no product: the same addition in
  /// y's own binade, with the addend 2^(max(e_y, e) + 22), saturated at
  /// `limit` = 6 s. Equal for every 0 <= y < 8 s (or NaN), y normal or 0,
  /// e >= -127, since scaling by 2^e commutes with rounding where nothing
  /// underflows (unittests/Numerics/KernelArithmeticTest.cpp).
  /// `scaleExpBits` is s's float bits & 0x7F800000: 0 for the f32-subnormal
  /// 2^-127, where y's own exponent is the larger one.
  Value roundNonNegativeToScaledE2M1(Value y, Value scaleExpBits, Value limit);
  /// The 4-bit code (i8: sign bit 3, magnitude index in bits 0-2) of a value
  /// already on the E2M1 grid.
  Value e2m1Code(Value onGrid);
  /// The f32 value of a 4-bit code given as i8.
  Value decodeE2M1(Value code);

  /// A non-negative value rounded to the E4M3 grid (round to nearest even,
  /// saturating at 448; subnormals down to 2^-9).
  /// `belowSaturation`: x <= 464 (where 448 is the most it rounds to) or
  /// NaN, which needs no clamp or saturation.
  Value roundToE4M3(Value x, bool belowSaturation = false);
  /// The E4M3 bits (i8) of a value on the E4M3 grid (>= 0), NaN -> 0x7F.
  Value e4m3Bits(Value onGrid);
  /// The f32 value of E4M3 bits (i8).
  Value decodeE4M3(Value bits);

  /// The MXFP4 scale exponent for a block amax, clamped to [-127, 127], as i32.
  Value mxScaleExponent(Value amax);
  /// 2^e as f32 for e in [-127, 127] (i32).
  Value exp2Int(Value e);

  /// The decoded block scale (without the global scale) of a block with the
  /// given amax: NaN if amax is NaN or Inf.
  /// `boundedAmax` (0 <= amax <= 1 + 2^-20 or NaN, as a block of P~ is)
  /// lets NVFP4's divisions by 6 and g run as products with their
  /// reciprocals, corrected to the same results, and leaves out the tests
  /// for Inf and saturation.
  Value blockScale(FP4FormatAttrInterface format, Value amax, float g,
                   bool boundedAmax = false);
  /// The scale bits (i8) of a decoded scale (E4M3 or E8M0).
  Value scaleBits(FP4FormatAttrInterface format, Value scale);
  /// The decoded scale of scale bits (i8).
  Value decodeScale(FP4FormatAttrInterface format, Value bits);

  /// E2M1(x / (s * g)) as a grid value (0 when s == 0). With `format`
  /// MXFP4 (g = 1) the division is x * powerOfTwoReciprocal(s): the same
  /// value for every x (both round x 2^-e once), without a division; NVFP4
  /// (g = 1) divides by the reciprocal with Markstein's correction
  /// (dividesByReciprocal): the same codes.
  Value quantizeElement(Value x, Value scale, float g, FP4FormatAttrInterface format = {});
  /// Whether x / (s * g) is x times a power of two: MXFP4 (E8M0 scales)
  /// with g = 1, where powerOfTwoReciprocal replaces the division.
  static bool scalesArePowersOfTwo(FP4FormatAttrInterface format, float g) {
    return format && isa<MXFP4Attr>(format) && g == 1.0f;
  }
  /// Whether x / s runs as Markstein's correction with the block's one
  /// reciprocal: NVFP4 with g = 1, whose E4M3 scales lie in [2^-9, 448], so
  /// that for every x a block with scale s holds (|x| <= 7 (s + 2^-10), any
  /// x once s saturated at 448) the code is the division's: the quotient is
  /// RN(x / s), or, for |x| below 2^-100, code 0 either way
  /// (unittests/Numerics/KernelArithmeticTest.cpp).
  static bool dividesByReciprocal(FP4FormatAttrInterface format, float g) {
    return format && isa<NVFP4Attr>(format) && g == 1.0f;
  }
  /// 1 / s for an E8M0 scale s = 2^e, e in [-127, 125], exactly, from its
  /// float bits: 0x7F000000 - (bits & 0xFF800000) (the mask takes the
  /// f32-subnormal 2^-127 to 2^127). Not for NaN.
  Value powerOfTwoReciprocal(Value scale);
  /// x / (s * g): what an element's code rounds (by roundToE2M1 or a
  /// hardware E2M1 convert), dividing by the rounded scale.
  Value scaledForCode(Value x, Value scale, float g);
  /// RN(1 / d), for divideWithReciprocal.
  Value reciprocal(Value d);
  /// RN(x / d) from r = reciprocal(d) by two FMAs (Markstein's correction),
  /// where x and the quotient are well inside the normal range (the
  /// remainder is then exact): the divisions of a block by its one scale
  /// cost a division per block, not per element. Elsewhere the result may
  /// differ from RN(x / d) by an ulp; in the P codec such quotients are
  /// below 2^-100 and round to code 0 either way
  /// (unittests/Numerics/KernelArithmeticTest.cpp).
  Value divideWithReciprocal(Value x, Value d, Value r);
  /// The low part of 1 / d next to rHi = reciprocal(d): RN(fma(-d, rHi, 1)
  /// / d), the remainder being exact. For splitReciprocalDivide.
  Value reciprocalLowPart(Value d, Value rHi);
  /// x / d as RN(x rHi + RN(x rLo)), one product and one FMA (Markstein's
  /// division takes a product and two FMAs). Equal to RN(x / d) for every
  /// x with x / d in [0.2, 7] when d is an E4M3 block scale times either
  /// P global scale, and below 0.2 both give code 0: checked for every such
  /// x (unittests/Numerics/KernelArithmeticTest.cpp), not a general identity.
  Value splitReciprocalDivide(Value x, Value rHi, Value rLo);
  /// Whether a block scale gives codes: false for 0 (underflow) and NaN.
  Value scaleUsable(Value scale);
  /// (v * s) * g, the decode of a grid value (NaN for a NaN scale).
  Value dequantizeElement(Value onGrid, Value scale, float g);

private:
  /// x rounded to the grid whose spacing is the ulp of 2^(e + k), e the
  /// exponent field of `expBits` (ties to even).
  Value addAndSubtract(Value x, Value expBits, int k);

  OpBuilder &b;
  Location loc;
  bool fusedRounding;
};

} // namespace mlir::attnqat

#endif // ATTNQAT_CONVERSION_FP4ARITH_H
