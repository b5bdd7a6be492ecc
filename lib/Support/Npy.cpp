//===- Npy.cpp - NumPy .npy files and seeded tensor generators ------------===//
//
// Plain C++17, exception free: every failure is a Status.
//
//===----------------------------------------------------------------------===//

#include "attnqat/Support/Npy.h"

#include "attnqat/Numerics/FP4.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

using namespace mlir::attnqat;

//===----------------------------------------------------------------------===//
// DTypes
//===----------------------------------------------------------------------===//

namespace {
struct DTypeInfo {
  NpyDType dtype;
  char kind; // 'f', 'i', 'u', 'b'
  unsigned size;
  const char *descr;
  const char *name;
  const char *shortName;
};

constexpr DTypeInfo kDTypes[] = {
    {NpyDType::F16, 'f', 2, "<f2", "float16", "f2"},
    {NpyDType::F32, 'f', 4, "<f4", "float32", "f4"},
    {NpyDType::F64, 'f', 8, "<f8", "float64", "f8"},
    {NpyDType::I8, 'i', 1, "|i1", "int8", "i1"},
    {NpyDType::I16, 'i', 2, "<i2", "int16", "i2"},
    {NpyDType::I32, 'i', 4, "<i4", "int32", "i4"},
    {NpyDType::I64, 'i', 8, "<i8", "int64", "i8"},
    {NpyDType::U8, 'u', 1, "|u1", "uint8", "u1"},
    {NpyDType::U16, 'u', 2, "<u2", "uint16", "u2"},
    {NpyDType::U32, 'u', 4, "<u4", "uint32", "u4"},
    {NpyDType::U64, 'u', 8, "<u8", "uint64", "u8"},
    {NpyDType::Bool, 'b', 1, "|b1", "bool", "b1"},
};

const DTypeInfo &info(NpyDType dtype) {
  for (const DTypeInfo &i : kDTypes)
    if (i.dtype == dtype)
      return i;
  return kDTypes[1]; // unreachable for valid enumerators
}

bool hostIsLittleEndian() {
  const uint16_t probe = 1;
  uint8_t first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

/// Reverse the bytes of each element in place (only used on big-endian
/// hosts: files are always little-endian).
void swapElements(std::vector<uint8_t> &data, size_t elementSize) {
  if (elementSize == 1)
    return;
  for (size_t i = 0; i + elementSize <= data.size(); i += elementSize)
    for (size_t a = 0, b = elementSize - 1; a < b; ++a, --b)
      std::swap(data[i + a], data[i + b]);
}

std::string quote(const std::string &s) { return "'" + s + "'"; }
} // namespace

size_t mlir::attnqat::npyDTypeSize(NpyDType dtype) { return info(dtype).size; }
const char *mlir::attnqat::npyDTypeDescr(NpyDType dtype) {
  return info(dtype).descr;
}
const char *mlir::attnqat::npyDTypeName(NpyDType dtype) {
  return info(dtype).name;
}
const char *mlir::attnqat::npyDTypeShortName(NpyDType dtype) {
  return info(dtype).shortName;
}
bool mlir::attnqat::npyDTypeIsFloat(NpyDType dtype) {
  return info(dtype).kind == 'f';
}
bool mlir::attnqat::npyDTypeIsSignedInt(NpyDType dtype) {
  return info(dtype).kind == 'i';
}
bool mlir::attnqat::npyDTypeIsUnsignedInt(NpyDType dtype) {
  return info(dtype).kind == 'u';
}

//===----------------------------------------------------------------------===//
// NpyArray
//===----------------------------------------------------------------------===//

int64_t mlir::attnqat::npyNumElements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return -1;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      return -1;
    n *= d;
  }
  return n;
}

NpyArray::NpyArray(NpyDType dtype, std::vector<int64_t> shape)
    : dtype(dtype), shape(std::move(shape)) {
  int64_t n = npyNumElements(this->shape);
  data.assign(n < 0 ? 0 : static_cast<size_t>(n) * npyDTypeSize(dtype), 0);
}

int64_t NpyArray::numElements() const { return npyNumElements(shape); }

std::string NpyArray::shapeString() const {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1)
    s += ",";
  return s + ")";
}

double NpyArray::getAsDouble(int64_t i) const {
  const uint8_t *p = data.data() + static_cast<size_t>(i) * elementSize();
  auto load = [p](auto tag) {
    decltype(tag) v;
    std::memcpy(&v, p, sizeof(v));
    return v;
  };
  switch (dtype) {
  case NpyDType::F16:
    return halfBitsToFloat(load(uint16_t()));
  case NpyDType::F32:
    return load(float());
  case NpyDType::F64:
    return load(double());
  case NpyDType::I8:
    return load(int8_t());
  case NpyDType::I16:
    return load(int16_t());
  case NpyDType::I32:
    return load(int32_t());
  case NpyDType::I64:
    return static_cast<double>(load(int64_t()));
  case NpyDType::U8:
    return load(uint8_t());
  case NpyDType::U16:
    return load(uint16_t());
  case NpyDType::U32:
    return load(uint32_t());
  case NpyDType::U64:
    return static_cast<double>(load(uint64_t()));
  case NpyDType::Bool:
    return load(uint8_t()) ? 1.0 : 0.0;
  }
  return 0.0;
}

//===----------------------------------------------------------------------===//
// Header parsing
//===----------------------------------------------------------------------===//

namespace {
/// A parser for the Python dict literal of a .npy header, e.g.
///   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class HeaderParser {
public:
  HeaderParser(const std::string &text) : text(text) {}

  Status parse(std::string &descr, bool &fortranOrder,
               std::vector<int64_t> &shape) {
    bool haveDescr = false, haveOrder = false, haveShape = false;
    skipSpace();
    if (!consume('{'))
      return fail("expected '{'");
    while (true) {
      skipSpace();
      if (consume('}'))
        break;
      std::string key;
      if (Status s = parseString(key); !s.ok())
        return s;
      skipSpace();
      if (!consume(':'))
        return fail("expected ':' after key " + quote(key));
      skipSpace();
      if (key == "descr") {
        if (peek() == '[')
          return Status::error(
              "structured (record) dtypes are not supported; save a plain "
              "numeric array");
        if (Status s = parseString(descr); !s.ok())
          return s;
        haveDescr = true;
      } else if (key == "fortran_order") {
        if (Status s = parseBool(fortranOrder); !s.ok())
          return s;
        haveOrder = true;
      } else if (key == "shape") {
        if (Status s = parseShape(shape); !s.ok())
          return s;
        haveShape = true;
      } else {
        return fail("unexpected key " + quote(key));
      }
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume('}'))
        break;
      return fail("expected ',' or '}'");
    }
    if (!haveDescr)
      return Status::error("header has no 'descr' key");
    if (!haveOrder)
      return Status::error("header has no 'fortran_order' key");
    if (!haveShape)
      return Status::error("header has no 'shape' key");
    skipSpace();
    if (pos != text.size())
      return fail("unexpected text after the header dict");
    return Status::success();
  }

private:
  char peek() const { return pos < text.size() ? text[pos] : '\0'; }
  bool consume(char c) {
    if (peek() != c)
      return false;
    ++pos;
    return true;
  }
  void skipSpace() {
    while (pos < text.size() &&
           (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' ||
            text[pos] == '\r'))
      ++pos;
  }
  Status fail(const std::string &what) const {
    return Status::error("malformed header: " + what + " at offset " +
                         std::to_string(pos) + " in \"" + text + "\"");
  }
  Status parseString(std::string &out) {
    char q = peek();
    if (q != '\'' && q != '"')
      return fail("expected a string");
    ++pos;
    size_t end = text.find(q, pos);
    if (end == std::string::npos)
      return fail("unterminated string");
    out = text.substr(pos, end - pos);
    pos = end + 1;
    return Status::success();
  }
  Status parseBool(bool &out) {
    if (text.compare(pos, 4, "True") == 0) {
      pos += 4;
      out = true;
      return Status::success();
    }
    if (text.compare(pos, 5, "False") == 0) {
      pos += 5;
      out = false;
      return Status::success();
    }
    return fail("expected True or False");
  }
  Status parseShape(std::vector<int64_t> &shape) {
    shape.clear();
    if (!consume('('))
      return fail("expected '(' to start the shape");
    while (true) {
      skipSpace();
      if (consume(')'))
        return Status::success();
      if (peek() < '0' || peek() > '9')
        return fail("expected a non-negative integer dimension");
      int64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        int digit = peek() - '0';
        if (v > (std::numeric_limits<int64_t>::max() - digit) / 10)
          return fail("dimension too large");
        v = v * 10 + digit;
        ++pos;
      }
      consume('L'); // Python 2 long suffix in old files
      shape.push_back(v);
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume(')'))
        return Status::success();
      return fail("expected ',' or ')' in the shape");
    }
  }

  const std::string &text;
  size_t pos = 0;
};

/// Map a descr string to a dtype, with a precise reason when unsupported.
Status parseDescr(const std::string &descr, NpyDType &dtype) {
  const std::string supported =
      " (supported: f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1, little-endian)";
  if (descr.size() < 2)
    return Status::error("unsupported dtype " + quote(descr) + supported);
  char order = descr[0];
  std::string rest = descr.substr(1);
  if (order != '<' && order != '>' && order != '|' && order != '=') {
    order = '|';
    rest = descr;
  }
  for (const DTypeInfo &i : kDTypes) {
    if (rest != i.descr + 1)
      continue;
    if (order == '>' && i.size > 1)
      return Status::error("big-endian data (dtype " + quote(descr) +
                           ") is not supported; convert it with "
                           "arr.astype('<" +
                           rest + "')");
    // '=' is native order: NumPy never writes it, accept it as little-endian
    // like NumPy on the hosts we run on.
    dtype = i.dtype;
    return Status::success();
  }
  return Status::error("unsupported dtype " + quote(descr) + supported);
}
} // namespace

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

static const char kMagic[] = "\x93NUMPY";
static constexpr size_t kMagicLen = 6;

Status mlir::attnqat::parseNpy(const void *bytesPtr, size_t size,
                               NpyArray &out, const std::string &what) {
  const uint8_t *bytes = static_cast<const uint8_t *>(bytesPtr);
  auto err = [&](const std::string &msg) {
    return Status::error(what + ": " + msg);
  };
  size_t prefix = size < kMagicLen ? size : kMagicLen;
  if (std::memcmp(bytes, kMagic, prefix) != 0 || size == 0)
    return err("not a .npy file (missing the \\x93NUMPY magic)");
  if (size < kMagicLen + 2)
    return err("truncated .npy file (" + std::to_string(size) +
               " bytes, the preamble is cut off)");
  unsigned major = bytes[6], minor = bytes[7];
  size_t lenBytes;
  if (major == 1)
    lenBytes = 2;
  else if (major == 2 || major == 3)
    lenBytes = 4;
  else
    return err("unsupported .npy format version " + std::to_string(major) +
               "." + std::to_string(minor) + " (supported: 1.0, 2.0, 3.0)");
  size_t preamble = kMagicLen + 2 + lenBytes;
  if (size < preamble)
    return err("truncated .npy file (the header length is cut off)");
  size_t headerLen = 0;
  for (size_t i = 0; i < lenBytes; ++i)
    headerLen |= static_cast<size_t>(bytes[kMagicLen + 2 + i]) << (8 * i);
  if (size - preamble < headerLen)
    return err("truncated .npy file (header says " +
               std::to_string(headerLen) + " bytes, only " +
               std::to_string(size - preamble) + " present)");
  std::string header(reinterpret_cast<const char *>(bytes + preamble),
                     headerLen);

  std::string descr;
  bool fortranOrder = false;
  std::vector<int64_t> shape;
  if (Status s = HeaderParser(header).parse(descr, fortranOrder, shape);
      !s.ok())
    return err(s.message());
  NpyDType dtype = NpyDType::F32;
  if (Status s = parseDescr(descr, dtype); !s.ok())
    return err(s.message());
  int64_t numElements = npyNumElements(shape);
  if (numElements < 0)
    return err("shape too large");
  if (fortranOrder) {
    // Arrays with at most one non-unit dimension are the same in both orders.
    size_t nonUnit = 0;
    for (int64_t d : shape)
      nonUnit += d != 1;
    if (nonUnit > 1)
      return err("Fortran-order (column-major) arrays are not supported; "
                 "save np.ascontiguousarray(arr)");
  }

  size_t elementSize = npyDTypeSize(dtype);
  size_t available = size - preamble - headerLen;
  if (static_cast<uint64_t>(numElements) >
      std::numeric_limits<uint64_t>::max() / elementSize)
    return err("shape too large");
  uint64_t needed = static_cast<uint64_t>(numElements) * elementSize;
  if (available < needed)
    return err("truncated .npy file: shape " + [&] {
      NpyArray tmp;
      tmp.shape = shape;
      return tmp.shapeString();
    }() + " of " + npyDTypeName(dtype) + " needs " + std::to_string(needed) +
               " data bytes, found " + std::to_string(available));
  if (available > needed)
    return err("corrupt .npy file: " + std::to_string(available - needed) +
               " unexpected bytes after the data");

  out.dtype = dtype;
  out.shape = std::move(shape);
  const uint8_t *data = bytes + preamble + headerLen;
  out.data.assign(data, data + needed);
  if (!hostIsLittleEndian())
    swapElements(out.data, elementSize);
  if (dtype == NpyDType::Bool)
    for (uint8_t &b : out.data)
      b = b != 0;
  return Status::success();
}

namespace {
/// Closes a FILE* on scope exit.
struct FileCloser {
  FILE *f;
  ~FileCloser() {
    if (f)
      std::fclose(f);
  }
};
} // namespace

Status mlir::attnqat::readNpy(const std::string &path, NpyArray &out) {
  errno = 0;
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return Status::error(path + ": cannot open: " + std::strerror(errno));
  FileCloser closer{f};
  std::vector<uint8_t> bytes;
  // Read in chunks: works for pipes too and reports I/O errors (e.g. EISDIR).
  uint8_t chunk[1 << 16];
  while (true) {
    size_t n = std::fread(chunk, 1, sizeof(chunk), f);
    bytes.insert(bytes.end(), chunk, chunk + n);
    if (n < sizeof(chunk)) {
      if (std::ferror(f))
        return Status::error(path + ": read error: " + std::strerror(errno));
      break;
    }
  }
  if (bytes.empty())
    return Status::error(path + ": empty file (not a .npy file)");
  return parseNpy(bytes.data(), bytes.size(), out, path);
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

Status mlir::attnqat::serializeNpy(const NpyArray &array,
                                   std::vector<uint8_t> &out) {
  int64_t n = array.numElements();
  if (n < 0)
    return Status::error("cannot write .npy: invalid shape " +
                         array.shapeString());
  size_t expected = static_cast<size_t>(n) * array.elementSize();
  if (array.data.size() != expected)
    return Status::error("cannot write .npy: shape " + array.shapeString() +
                         " of " + npyDTypeName(array.dtype) + " needs " +
                         std::to_string(expected) + " bytes, have " +
                         std::to_string(array.data.size()));
  std::string header = "{'descr': '";
  header += npyDTypeDescr(array.dtype);
  header += "', 'fortran_order': False, 'shape': ";
  header += array.shapeString();
  header += ", }";
  // Pad with spaces and a final newline so the data starts 64-byte aligned.
  size_t preamble = kMagicLen + 2 + 2;
  unsigned major = 1;
  if (((preamble + header.size() + 1 + 63) / 64) * 64 - preamble > 65535) {
    preamble = kMagicLen + 2 + 4;
    major = 2;
  }
  size_t total = ((preamble + header.size() + 1 + 63) / 64) * 64;
  header.append(total - preamble - header.size() - 1, ' ');
  header += '\n';

  out.clear();
  out.reserve(total + array.data.size());
  out.insert(out.end(), kMagic, kMagic + kMagicLen);
  out.push_back(static_cast<uint8_t>(major));
  out.push_back(0);
  size_t hlen = header.size();
  for (size_t i = 0; i < preamble - kMagicLen - 2; ++i)
    out.push_back(static_cast<uint8_t>(hlen >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  size_t dataStart = out.size();
  out.insert(out.end(), array.data.begin(), array.data.end());
  if (!hostIsLittleEndian()) {
    std::vector<uint8_t> tail(out.begin() + dataStart, out.end());
    swapElements(tail, array.elementSize());
    std::copy(tail.begin(), tail.end(), out.begin() + dataStart);
  }
  return Status::success();
}

Status mlir::attnqat::writeNpy(const std::string &path,
                               const NpyArray &array) {
  std::vector<uint8_t> bytes;
  if (Status s = serializeNpy(array, bytes); !s.ok())
    return Status::error(path + ": " + s.message());
  errno = 0;
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return Status::error(path + ": cannot open for writing: " +
                         std::strerror(errno));
  size_t written = std::fwrite(bytes.data(), 1, bytes.size(), f);
  int writeErr = errno;
  int closeRc = std::fclose(f);
  if (written != bytes.size() || closeRc != 0)
    return Status::error(path + ": write error: " +
                         std::strerror(writeErr ? writeErr : errno));
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Float conversions
//===----------------------------------------------------------------------===//

static uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
static float bitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

float mlir::attnqat::halfBitsToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0x1f) // Inf / NaN (payload kept, quiet bit preserved)
    return bitsFloat(sign | 0x7f800000 | (mant << 13));
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24, exact in float.
    float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  return bitsFloat(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t mlir::attnqat::floatToHalfBits(float value) {
  uint32_t x = floatBits(value);
  uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  x &= 0x7fffffff;
  if (x >= 0x7f800000) {
    if (x == 0x7f800000)
      return sign | 0x7c00;
    return sign | 0x7e00 | static_cast<uint16_t>((x >> 13) & 0x3ff);
  }
  if (x >= 0x477ff000) // >= 65520 rounds to infinity
    return sign | 0x7c00;
  if (x < 0x38800000) { // below 2^-14: half subnormal (or zero)
    if (x < 0x33000000) // <= 2^-25 rounds to zero (2^-25 is a tie to even 0)
      return sign;
    uint32_t e = x >> 23;
    uint32_t mant = (x & 0x7fffff) | 0x800000;
    unsigned shift = 126 - e; // value / 2^-24 = mant >> shift
    uint32_t q = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1)))
      ++q;
    return sign | static_cast<uint16_t>(q);
  }
  uint32_t e = (x >> 23) - 112;
  uint32_t h = (e << 10) | ((x >> 13) & 0x3ff);
  uint32_t rem = x & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
    ++h;
  return sign | static_cast<uint16_t>(h);
}

// BF16 rounding is the codec's (one implementation of round-to-nearest-even).
float mlir::attnqat::bf16BitsToFloat(uint16_t bits) {
  return ::attnqat::numerics::bf16ToFloat(bits);
}

uint16_t mlir::attnqat::floatToBF16Bits(float value) {
  return ::attnqat::numerics::floatToBF16(value);
}

//===----------------------------------------------------------------------===//
// Random generators
//===----------------------------------------------------------------------===//

uint64_t mlir::attnqat::splitMix64(uint64_t &state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t mlir::attnqat::deriveSeed(uint64_t seed, uint64_t index) {
  uint64_t state = seed ^ (0xD1B54A32D192ED03ull * (index + 1));
  splitMix64(state);
  return splitMix64(state);
}

Rng::Rng(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t &word : s)
    word = splitMix64(state);
}

static inline uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

uint64_t Rng::nextU64() {
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double Rng::nextDouble() {
  return static_cast<double>(nextU64() >> 11) * 0x1.0p-53;
}

double Rng::nextUniform(double lo, double hi) {
  return lo + (hi - lo) * nextDouble();
}

double Rng::nextNormal() {
  if (hasSpare) {
    hasSpare = false;
    return spare;
  }
  double u1 = 1.0 - nextDouble(); // (0, 1]: log is finite
  double u2 = nextDouble();
  double r = std::sqrt(-2.0 * std::log(u1));
  double theta = 6.283185307179586476925286766559 * u2;
  spare = r * std::sin(theta);
  hasSpare = true;
  return r * std::cos(theta);
}

uint64_t Rng::nextBelow(uint64_t n) {
  uint64_t threshold = (0 - n) % n; // 2^64 mod n
  while (true) {
    uint64_t r = nextU64();
    if (r >= threshold)
      return r % n;
  }
}

static std::string formatDouble(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

Status mlir::attnqat::validateRandomSpec(const RandomSpec &spec) {
  auto finite = [](double v) { return std::isfinite(v); };
  if (spec.kind == RandomSpec::Kind::Normal) {
    if (!finite(spec.mean) || !finite(spec.std))
      return Status::error("normal: mean and std must be finite");
    if (spec.std < 0)
      return Status::error("normal: std must be >= 0, got " +
                           formatDouble(spec.std));
  } else {
    if (!finite(spec.lo) || !finite(spec.hi))
      return Status::error("uniform: lo and hi must be finite");
    if (spec.lo > spec.hi)
      return Status::error("uniform: lo (" + formatDouble(spec.lo) +
                           ") must be <= hi (" + formatDouble(spec.hi) +
                           ")");
  }
  if (!(spec.outlierFraction >= 0.0 && spec.outlierFraction <= 1.0))
    return Status::error("outlier fraction must be in [0, 1], got " +
                         formatDouble(spec.outlierFraction));
  if (!finite(spec.outlierScale))
    return Status::error("outlier scale must be finite");
  return Status::success();
}

int64_t mlir::attnqat::numOutliers(const RandomSpec &spec, int64_t n) {
  if (n <= 0 || !(spec.outlierFraction > 0.0))
    return 0;
  double k = std::nearbyint(spec.outlierFraction * static_cast<double>(n));
  if (k >= static_cast<double>(n))
    return n;
  return static_cast<int64_t>(k);
}

Status mlir::attnqat::generateRandom(const RandomSpec &spec, int64_t n,
                                     uint64_t seed, std::vector<double> &out) {
  if (Status s = validateRandomSpec(spec); !s.ok())
    return s;
  if (n < 0)
    return Status::error("negative element count");
  out.resize(static_cast<size_t>(n));
  Rng rng(seed);
  if (spec.kind == RandomSpec::Kind::Normal) {
    for (double &v : out)
      v = spec.mean + spec.std * rng.nextNormal();
  } else {
    for (double &v : out)
      v = rng.nextUniform(spec.lo, spec.hi);
  }
  int64_t k = numOutliers(spec, n);
  if (k == 0)
    return Status::success();
  // Floyd's algorithm: k distinct indices in [0, n) from an independent
  // stream, O(k) draws and n bits of memory.
  Rng pick(deriveSeed(seed, 0x6f75746c69657273ull /* "outliers" */));
  std::vector<bool> chosen(static_cast<size_t>(n), false);
  for (int64_t j = n - k; j < n; ++j) {
    int64_t t = static_cast<int64_t>(pick.nextBelow(static_cast<uint64_t>(j) + 1));
    int64_t idx = chosen[static_cast<size_t>(t)] ? j : t;
    chosen[static_cast<size_t>(idx)] = true;
    out[static_cast<size_t>(idx)] *= spec.outlierScale;
  }
  return Status::success();
}
