//===- NpyTest.cpp - .npy reading/writing and float conversions -----------===//

#include "attnqat/Support/Npy.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <sys/stat.h>

using namespace mlir::attnqat;

namespace {

const NpyDType kAllDTypes[] = {
    NpyDType::F16, NpyDType::F32, NpyDType::F64, NpyDType::I8,
    NpyDType::I16, NpyDType::I32, NpyDType::I64, NpyDType::U8,
    NpyDType::U16, NpyDType::U32, NpyDType::U64, NpyDType::Bool};

/// An array whose bytes are a recognisable pattern valid for the dtype.
NpyArray makePattern(NpyDType dtype, std::vector<int64_t> shape) {
  NpyArray a(dtype, std::move(shape));
  for (size_t i = 0; i < a.data.size(); ++i)
    a.data[i] = static_cast<uint8_t>(i * 37 + 11);
  if (dtype == NpyDType::Bool)
    for (size_t i = 0; i < a.data.size(); ++i)
      a.data[i] = i % 3 == 0;
  return a;
}

/// A .npy image built by hand, the way NumPy writes it.
std::vector<uint8_t> rawNpy(const std::string &header, size_t dataBytes,
                            unsigned major = 1) {
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y',
                              static_cast<uint8_t>(major), 0};
  size_t lenBytes = major == 1 ? 2 : 4;
  size_t preamble = 8 + lenBytes;
  std::string h = header;
  size_t total = ((preamble + h.size() + 1 + 63) / 64) * 64;
  h.append(total - preamble - h.size() - 1, ' ');
  h += '\n';
  for (size_t i = 0; i < lenBytes; ++i)
    out.push_back(static_cast<uint8_t>(h.size() >> (8 * i)));
  out.insert(out.end(), h.begin(), h.end());
  for (size_t i = 0; i < dataBytes; ++i)
    out.push_back(static_cast<uint8_t>(i));
  return out;
}

Status parse(const std::vector<uint8_t> &bytes, NpyArray &out) {
  return parseNpy(bytes.data(), bytes.size(), out, "test.npy");
}

std::string tempPath(const std::string &name) {
  return ::testing::TempDir() + "attnqat_npy_test_" + name;
}

bool writeFile(const std::string &path, const std::vector<uint8_t> &bytes) {
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    return false;
  size_t n = std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  return n == bytes.size();
}

//===----------------------------------------------------------------------===//
// Round trips
//===----------------------------------------------------------------------===//

TEST(Npy, RoundTripEveryDTypeInMemory) {
  for (NpyDType dtype : kAllDTypes) {
    for (std::vector<int64_t> shape :
         {std::vector<int64_t>{}, {5}, {2, 3}, {2, 3, 4}, {0, 3}, {1, 1, 7}}) {
      NpyArray a = makePattern(dtype, shape);
      std::vector<uint8_t> bytes;
      ASSERT_TRUE(serializeNpy(a, bytes).ok());
      // Header padded so the data is 64-byte aligned, as NumPy does.
      size_t hlen = bytes[8] | (bytes[9] << 8);
      EXPECT_EQ((10 + hlen) % 64, 0u);
      EXPECT_EQ(bytes[10 + hlen - 1], '\n');
      NpyArray b;
      Status s = parse(bytes, b);
      ASSERT_TRUE(s.ok()) << npyDTypeName(dtype) << ": " << s.message();
      EXPECT_EQ(b.dtype, dtype);
      EXPECT_EQ(b.shape, shape);
      EXPECT_EQ(b.data, a.data) << npyDTypeName(dtype);
    }
  }
}

TEST(Npy, RoundTripEveryDTypeThroughFiles) {
  for (NpyDType dtype : kAllDTypes) {
    NpyArray a = makePattern(dtype, {3, 4});
    std::string path = tempPath(std::string(npyDTypeShortName(dtype)) + ".npy");
    Status w = writeNpy(path, a);
    ASSERT_TRUE(w.ok()) << w.message();
    NpyArray b;
    Status r = readNpy(path, b);
    ASSERT_TRUE(r.ok()) << r.message();
    EXPECT_EQ(b.dtype, dtype);
    EXPECT_EQ(b.shape, a.shape);
    EXPECT_EQ(b.data, a.data);
    std::remove(path.c_str());
  }
}

TEST(Npy, WritesTheHeaderNumPyWrites) {
  NpyArray a(NpyDType::F32, {2, 3});
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(serializeNpy(a, bytes).ok());
  std::string header(bytes.begin() + 10, bytes.begin() + 10 + 118);
  EXPECT_EQ(header.rfind("{'descr': '<f4', 'fortran_order': False, "
                         "'shape': (2, 3), }",
                         0),
            0u);
  EXPECT_EQ(bytes[6], 1); // version 1.0
  EXPECT_EQ(bytes.size(), 128u + 24u);

  NpyArray one(NpyDType::U8, {7});
  ASSERT_TRUE(serializeNpy(one, bytes).ok());
  EXPECT_NE(std::string(bytes.begin(), bytes.end()).find("'shape': (7,)"),
            std::string::npos);
  EXPECT_NE(std::string(bytes.begin(), bytes.end()).find("'|u1'"),
            std::string::npos);
}

TEST(Npy, ValuesAsDouble) {
  NpyArray a(NpyDType::F16, {3});
  a.as<uint16_t>()[0] = 0x3c00; // 1
  a.as<uint16_t>()[1] = 0xc000; // -2
  a.as<uint16_t>()[2] = 0x0001; // 2^-24
  EXPECT_EQ(a.getAsDouble(0), 1.0);
  EXPECT_EQ(a.getAsDouble(1), -2.0);
  EXPECT_EQ(a.getAsDouble(2), std::ldexp(1.0, -24));
  NpyArray i(NpyDType::I64, {1});
  i.as<int64_t>()[0] = -5;
  EXPECT_EQ(i.getAsDouble(0), -5.0);
  NpyArray u(NpyDType::U16, {1});
  u.as<uint16_t>()[0] = 65535;
  EXPECT_EQ(u.getAsDouble(0), 65535.0);
}

TEST(Npy, ReadsVersions2And3AndVariants) {
  NpyArray a;
  for (unsigned major : {1u, 2u, 3u}) {
    Status s = parse(rawNpy("{'descr': '<i4', 'fortran_order': False, "
                            "'shape': (2, 2), }",
                            16, major),
                     a);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(a.dtype, NpyDType::I32);
    EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 2}));
  }
  // Key order, double quotes, no trailing comma, Python 2 'L' suffix.
  Status s = parse(rawNpy("{\"shape\": (3L,), \"fortran_order\": False, "
                          "\"descr\": \"<f8\"}",
                          24),
                   a);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(a.dtype, NpyDType::F64);
  EXPECT_EQ(a.shape, (std::vector<int64_t>{3}));
  // 0-d arrays and empty arrays.
  ASSERT_TRUE(parse(rawNpy("{'descr': '<f4', 'fortran_order': False, "
                           "'shape': (), }",
                           4),
                    a)
                  .ok());
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(a.numElements(), 1);
  ASSERT_TRUE(parse(rawNpy("{'descr': '<f4', 'fortran_order': False, "
                           "'shape': (0, 5), }",
                           0),
                    a)
                  .ok());
  EXPECT_EQ(a.numElements(), 0);
  // Single-byte types in any byte order; Fortran order of a vector is fine.
  ASSERT_TRUE(parse(rawNpy("{'descr': '>u1', 'fortran_order': True, "
                           "'shape': (4,), }",
                           4),
                    a)
                  .ok());
  EXPECT_EQ(a.dtype, NpyDType::U8);
  ASSERT_TRUE(parse(rawNpy("{'descr': '<b1', 'fortran_order': True, "
                           "'shape': (1, 4, 1), }",
                           4),
                    a)
                  .ok());
  EXPECT_EQ(a.dtype, NpyDType::Bool);
}

TEST(Npy, LargeHeaderUsesVersion2) {
  // Many dimensions of size 1 make a header longer than 64 KiB.
  std::vector<int64_t> shape(25000, 1);
  NpyArray a(NpyDType::I16, shape);
  a.as<int16_t>()[0] = -1234;
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(serializeNpy(a, bytes).ok());
  EXPECT_EQ(bytes[6], 2);
  NpyArray b;
  Status s = parse(bytes, b);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(b.shape.size(), 25000u);
  EXPECT_EQ(b.as<int16_t>()[0], -1234);
}

//===----------------------------------------------------------------------===//
// Malformed files
//===----------------------------------------------------------------------===//

void expectError(const std::vector<uint8_t> &bytes, const std::string &needle) {
  NpyArray a;
  Status s = parse(bytes, a);
  EXPECT_FALSE(s.ok()) << "expected an error containing '" << needle << "'";
  EXPECT_NE(s.message().find(needle), std::string::npos)
      << "message: " << s.message();
  EXPECT_EQ(s.message().rfind("test.npy: ", 0), 0u) << s.message();
}

TEST(Npy, MalformedFilesGiveErrors) {
  const std::string good =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  expectError({'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'},
              "not a .npy file");
  expectError({0x93, 'N', 'U', 'M'}, "truncated");
  expectError({0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 10}, "truncated");
  std::vector<uint8_t> shortHeader = rawNpy(good, 0);
  shortHeader.resize(40);
  expectError(shortHeader, "truncated .npy file (header says");
  expectError(rawNpy(good, 23), "truncated .npy file: shape (2, 3) of "
                                "float32 needs 24 data bytes, found 23");
  expectError(rawNpy(good, 25), "1 unexpected bytes after the data");
  expectError(rawNpy(good, 24, 4), "unsupported .npy format version 4.0");
  expectError(rawNpy("{'descr': '<f4', 'fortran_order': True, "
                     "'shape': (2, 3), }",
                     24),
              "Fortran-order");
  expectError(rawNpy("{'descr': '>f4', 'fortran_order': False, "
                     "'shape': (2, 3), }",
                     24),
              "big-endian");
  expectError(rawNpy("{'descr': '<c8', 'fortran_order': False, "
                     "'shape': (2, 3), }",
                     48),
              "unsupported dtype '<c8'");
  expectError(rawNpy("{'descr': '<U3', 'fortran_order': False, "
                     "'shape': (2,), }",
                     24),
              "unsupported dtype");
  expectError(rawNpy("{'descr': '|O', 'fortran_order': False, "
                     "'shape': (2,), }",
                     16),
              "unsupported dtype");
  expectError(rawNpy("{'descr': [('a', '<f4')], 'fortran_order': False, "
                     "'shape': (2,), }",
                     8),
              "structured");
  expectError(rawNpy("{'descr': '<f4', 'shape': (2,), }", 8),
              "no 'fortran_order' key");
  expectError(rawNpy("{'descr': '<f4', 'fortran_order': False, }", 8),
              "no 'shape' key");
  expectError(rawNpy("{'descr': '<f4', 'fortran_order': False, "
                     "'shape': (2, -3), }",
                     8),
              "malformed header");
  expectError(rawNpy("{'descr': '<f4', 'fortran_order': Maybe, "
                     "'shape': (2,), }",
                     8),
              "expected True or False");
  expectError(rawNpy("{'descr': '<f4', 'fortran_order': False, "
                     "'shape': (2,), 'extra': 1}",
                     8),
              "unexpected key 'extra'");
  expectError(rawNpy("{'descr': '<f4', 'fortran_order': False, "
                     "'shape': (99999999999, 99999999999), }",
                     8),
              "shape too large");
  expectError(rawNpy("['descr']", 8), "expected '{'");
}

TEST(Npy, FileErrors) {
  NpyArray a;
  Status s = readNpy(tempPath("does_not_exist.npy"), a);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot open"), std::string::npos) << s.message();

  std::string dir = tempPath("a_directory");
  ::mkdir(dir.c_str(), 0755);
  s = readNpy(dir, a);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(dir), std::string::npos) << s.message();

  std::string empty = tempPath("empty.npy");
  ASSERT_TRUE(writeFile(empty, {}));
  s = readNpy(empty, a);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("empty file"), std::string::npos) << s.message();
  std::remove(empty.c_str());

  s = writeNpy(tempPath("no_such_dir/x.npy"), NpyArray(NpyDType::F32, {1}));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot open for writing"), std::string::npos);

  NpyArray bad(NpyDType::F32, {2});
  bad.data.resize(3);
  std::vector<uint8_t> bytes;
  s = serializeNpy(bad, bytes);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("needs 8 bytes, have 3"), std::string::npos);
}

TEST(Npy, BoolIsNormalized) {
  std::vector<uint8_t> bytes =
      rawNpy("{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }", 4);
  NpyArray a;
  ASSERT_TRUE(parse(bytes, a).ok());
  for (uint8_t b : a.data)
    EXPECT_LE(b, 1);
}

//===----------------------------------------------------------------------===//
// Float conversions
//===----------------------------------------------------------------------===//

uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

TEST(FloatConversions, HalfRoundTripsEveryValue) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = halfBitsToFloat(static_cast<uint16_t>(h));
    bool isNaN = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
    if (isNaN) {
      EXPECT_TRUE(std::isnan(f));
      EXPECT_TRUE(std::isnan(halfBitsToFloat(floatToHalfBits(f))));
      continue;
    }
    EXPECT_EQ(floatToHalfBits(f), h) << std::hex << h;
  }
}

TEST(FloatConversions, HalfRoundsToNearestEven) {
  EXPECT_EQ(floatToHalfBits(1.0f + std::ldexp(1.0f, -11)), 0x3c00); // tie
  EXPECT_EQ(floatToHalfBits(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(floatToHalfBits(65504.0f), 0x7bff);
  EXPECT_EQ(floatToHalfBits(65519.99f), 0x7bff);
  EXPECT_EQ(floatToHalfBits(65520.0f), 0x7c00);
  EXPECT_EQ(floatToHalfBits(-1e10f), 0xfc00);
  EXPECT_EQ(floatToHalfBits(std::ldexp(1.0f, -25)), 0x0000); // tie to 0
  EXPECT_EQ(floatToHalfBits(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(floatToHalfBits(std::ldexp(3.0f, -25)), 0x0002); // 1.5 ulp tie
  EXPECT_EQ(floatToHalfBits(-0.0f), 0x8000);
  EXPECT_EQ(floatToHalfBits(std::ldexp(1023.5f, -24)), 0x0400); // to normal
#ifdef __FLT16_MAX__
  // Against the compiler's conversion on a sweep of float bit patterns.
  for (uint64_t u = 0; u < 0x100000000ull; u += 0x10001ull) {
    float f;
    uint32_t x = static_cast<uint32_t>(u);
    std::memcpy(&f, &x, 4);
    if (std::isnan(f))
      continue;
    _Float16 h = static_cast<_Float16>(f);
    uint16_t hb;
    std::memcpy(&hb, &h, 2);
    ASSERT_EQ(floatToHalfBits(f), hb) << std::hex << x;
  }
#endif
}

TEST(FloatConversions, BF16) {
  EXPECT_EQ(floatToBF16Bits(1.0f), 0x3f80);
  EXPECT_EQ(floatToBF16Bits(1.0f + std::ldexp(1.0f, -8)), 0x3f80); // tie
  EXPECT_EQ(floatToBF16Bits(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_EQ(floatToBF16Bits(-2.5f), 0xc020);
  EXPECT_EQ(floatToBF16Bits(std::numeric_limits<float>::max()), 0x7f80);
  EXPECT_TRUE(std::isnan(bf16BitsToFloat(
      floatToBF16Bits(std::numeric_limits<float>::quiet_NaN()))));
  // A NaN whose payload sits only in the low bits stays NaN.
  float lowNaN;
  uint32_t bits = 0x7f800001;
  std::memcpy(&lowNaN, &bits, 4);
  EXPECT_TRUE(std::isnan(bf16BitsToFloat(floatToBF16Bits(lowNaN))));
  for (uint32_t b = 0; b < 0x10000; ++b) {
    float f = bf16BitsToFloat(static_cast<uint16_t>(b));
    if (std::isnan(f))
      continue;
    EXPECT_EQ(floatToBF16Bits(f), b);
    EXPECT_EQ(bitsOf(f), b << 16);
  }
}

} // namespace
