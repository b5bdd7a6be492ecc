//===- Npy.h - NumPy .npy files and seeded tensor generators ----*- C++ -*-===//
//
// Plain C++17 (no LLVM/MLIR dependency, no exceptions): tools and tests use it
// to exchange tensors with NumPy and to make reproducible random inputs.
//
// .npy: format versions 1.0, 2.0 and 3.0 are read; 1.0 is written (2.0 when
// the header does not fit 64 KiB). Only little-endian ('<', or '|' for
// one-byte types), C-order arrays of these dtypes are supported:
//
//   f2 f4 f8   float16 float32 float64
//   i1 i2 i4 i8 / u1 u2 u4 u8   signed / unsigned integers
//   b1         bool (one byte, 0 or 1)
//
// Every failure (unreadable, truncated, Fortran order, big-endian, structured
// or unsupported dtype, malformed header) is reported as a Status with a
// message naming the file; nothing aborts.
//
// Generators: RandomSpec describes normal(mean, std) or uniform(lo, hi) values
// with optional outliers (a fraction of the elements, chosen at random,
// multiplied by a factor). They are a pure function of (spec, count, seed):
// xoshiro256** seeded by splitmix64, uniforms from the top 53 bits, normals by
// Box-Muller; no <random> distribution (whose output is implementation
// defined) is used.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_SUPPORT_NPY_H
#define ATTNQAT_SUPPORT_NPY_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mlir::attnqat {

//===----------------------------------------------------------------------===//
// Status
//===----------------------------------------------------------------------===//

/// Success, or failure with a message. Cheap to return by value.
class [[nodiscard]] Status {
public:
  static Status success() { return Status(); }
  static Status error(std::string message) {
    Status s;
    s.failed = true;
    s.msg = std::move(message);
    return s;
  }
  bool ok() const { return !failed; }
  explicit operator bool() const { return ok(); }
  const std::string &message() const { return msg; }

private:
  bool failed = false;
  std::string msg;
};

//===----------------------------------------------------------------------===//
// .npy arrays
//===----------------------------------------------------------------------===//

enum class NpyDType : uint8_t {
  F16, F32, F64,
  I8, I16, I32, I64,
  U8, U16, U32, U64,
  Bool,
};

/// Bytes per element (1, 2, 4 or 8).
size_t npyDTypeSize(NpyDType dtype);
/// The descr string written to files: "<f4", "|u1", "|b1", ...
const char *npyDTypeDescr(NpyDType dtype);
/// The NumPy name: "float32", "uint8", "bool", ...
const char *npyDTypeName(NpyDType dtype);
/// The short form used on command lines and in messages: "f4", "u1", "b1".
const char *npyDTypeShortName(NpyDType dtype);
bool npyDTypeIsFloat(NpyDType dtype);
bool npyDTypeIsSignedInt(NpyDType dtype);
bool npyDTypeIsUnsignedInt(NpyDType dtype);

/// A dense C-order array. `data` holds numElements() * npyDTypeSize(dtype)
/// bytes in host byte order.
struct NpyArray {
  NpyDType dtype = NpyDType::F32;
  std::vector<int64_t> shape; // empty: a 0-d array (one element)
  std::vector<uint8_t> data;

  NpyArray() = default;
  /// Zero-filled array of this dtype and shape.
  NpyArray(NpyDType dtype, std::vector<int64_t> shape);

  int64_t numElements() const;
  size_t elementSize() const { return npyDTypeSize(dtype); }
  size_t byteSize() const { return data.size(); }

  template <typename T> T *as() { return reinterpret_cast<T *>(data.data()); }
  template <typename T> const T *as() const {
    return reinterpret_cast<const T *>(data.data());
  }

  /// Element i converted to double (float16 decoded exactly).
  double getAsDouble(int64_t i) const;

  /// "(2, 3)" style, like NumPy.
  std::string shapeString() const;
};

/// Product of the dims, or -1 when a dim is negative or the product overflows
/// int64.
int64_t npyNumElements(const std::vector<int64_t> &shape);

/// Parse an in-memory .npy image. `what` names the source in messages.
Status parseNpy(const void *bytes, size_t size, NpyArray &out,
                const std::string &what = "<memory>");
/// Read a .npy file.
Status readNpy(const std::string &path, NpyArray &out);

/// Serialize to an in-memory .npy image (version 1.0, or 2.0 when the header
/// is longer than 65535 bytes). Fails if data.size() does not match the shape.
Status serializeNpy(const NpyArray &array, std::vector<uint8_t> &out);
/// Write a .npy file (overwrites).
Status writeNpy(const std::string &path, const NpyArray &array);

//===----------------------------------------------------------------------===//
// Element conversions shared by tools and tests
//===----------------------------------------------------------------------===//

/// IEEE binary16 bits <-> float. float -> half rounds to nearest even,
/// overflows to +-Inf, keeps NaN (quiet) and subnormals.
float halfBitsToFloat(uint16_t bits);
uint16_t floatToHalfBits(float value);
/// bfloat16 bits <-> float. float -> bf16 rounds to nearest even; NaN stays a
/// quiet NaN with its sign.
float bf16BitsToFloat(uint16_t bits);
uint16_t floatToBF16Bits(float value);

//===----------------------------------------------------------------------===//
// Seeded random generators
//===----------------------------------------------------------------------===//

/// splitmix64: one step, also used to derive independent seeds.
uint64_t splitMix64(uint64_t &state);
/// A seed for stream `index` (e.g. an argument number) derived from `seed`.
uint64_t deriveSeed(uint64_t seed, uint64_t index);

/// xoshiro256** with Box-Muller normals. Platform independent: integer
/// arithmetic plus correctly rounded IEEE operations and libm log/sqrt/cos/sin.
class Rng {
public:
  explicit Rng(uint64_t seed);
  uint64_t nextU64();
  /// Uniform in [0, 1) with 53 random bits.
  double nextDouble();
  /// Uniform in [lo, hi).
  double nextUniform(double lo, double hi);
  /// Standard normal N(0, 1) (Box-Muller; the second value is cached).
  double nextNormal();
  /// Uniform integer in [0, n), n > 0 (unbiased, by rejection).
  uint64_t nextBelow(uint64_t n);

private:
  uint64_t s[4];
  bool hasSpare = false;
  double spare = 0.0;
};

struct RandomSpec {
  enum class Kind : uint8_t { Normal, Uniform };
  Kind kind = Kind::Normal;
  double mean = 0.0, std = 1.0; // Normal
  double lo = -1.0, hi = 1.0;   // Uniform
  /// Heavy tail: exactly round(outlierFraction * n) distinct elements, chosen
  /// uniformly at random, are multiplied by outlierScale.
  double outlierFraction = 0.0;
  double outlierScale = 10.0;

  static RandomSpec normal(double mean, double std) {
    RandomSpec s;
    s.kind = Kind::Normal;
    s.mean = mean;
    s.std = std;
    return s;
  }
  static RandomSpec uniform(double lo, double hi) {
    RandomSpec s;
    s.kind = Kind::Uniform;
    s.lo = lo;
    s.hi = hi;
    return s;
  }
  RandomSpec &withOutliers(double fraction, double scale) {
    outlierFraction = fraction;
    outlierScale = scale;
    return *this;
  }
};

/// Checks the parameters (std >= 0, lo <= hi, finite values, fraction in
/// [0, 1]).
Status validateRandomSpec(const RandomSpec &spec);

/// The number of outliers generateRandom places among n elements.
int64_t numOutliers(const RandomSpec &spec, int64_t n);

/// n values of `spec`, a pure function of (spec, n, seed). Values are drawn
/// first; the outliers are then chosen from an independent stream, so the
/// non-outlier elements do not depend on the outlier settings.
Status generateRandom(const RandomSpec &spec, int64_t n, uint64_t seed,
                      std::vector<double> &out);

} // namespace mlir::attnqat

#endif // ATTNQAT_SUPPORT_NPY_H
