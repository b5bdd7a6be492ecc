//===- ArtifactTest.cpp - Artifact byte layout, roundtrip, validation -----===//

#include "TestArtifacts.h"

#include "gtest/gtest.h"

#include <cstdio>
#include <cstring>
#include <unistd.h>

using namespace attnqat_test;

namespace {

uint32_t readU32(const std::vector<uint8_t> &b, size_t off) {
  return uint32_t(b[off]) | uint32_t(b[off + 1]) << 8 |
         uint32_t(b[off + 2]) << 16 | uint32_t(b[off + 3]) << 24;
}
uint64_t readU64(const std::vector<uint8_t> &b, size_t off) {
  return uint64_t(readU32(b, off)) | uint64_t(readU32(b, off + 4)) << 32;
}
void writeU32(std::vector<uint8_t> &b, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    b[off + i] = uint8_t(v >> (8 * i));
}
void writeU64(std::vector<uint8_t> &b, size_t off, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    b[off + i] = uint8_t(v >> (8 * i));
}
/// Recomputes total size and both checksums after an edit.
void reseal(std::vector<uint8_t> &b) {
  writeU64(b, 16, b.size());
  writeU32(b, 28, crc32(b.data() + 64, b.size() - 64));
  writeU32(b, 60, crc32(b.data(), 60));
}

ArtifactError parse(const std::vector<uint8_t> &b) {
  Artifact a;
  return parseArtifact(b.data(), b.size(), a);
}

bool contains(const std::string &s, const char *needle) {
  return s.find(needle) != std::string::npos;
}

std::string tempPath(const char *name) {
  return "/tmp/attnqat-artifact-test-" + std::to_string(getpid()) + "-" +
         name;
}

} // namespace

TEST(ArtifactTest, Crc32MatchesZlib) {
  const char *s = "123456789";
  EXPECT_EQ(crc32(reinterpret_cast<const uint8_t *>(s), 9), 0xCBF43926u);
  EXPECT_EQ(crc32(nullptr, 0), 0u);
  // Incremental use.
  uint32_t c = crc32(reinterpret_cast<const uint8_t *>(s), 4);
  EXPECT_EQ(crc32(reinterpret_cast<const uint8_t *>(s) + 4, 5, c),
            0xCBF43926u);
}

TEST(ArtifactTest, HeaderLayout) {
  std::vector<uint8_t> b = sampleBytes();
  ASSERT_GE(b.size(), kHeaderSize);
  const uint8_t magic[8] = {0x89, 0x41, 0x51, 0x54, 0x0D, 0x0A, 0x1A, 0x0A};
  EXPECT_EQ(std::memcmp(b.data(), magic, 8), 0);
  EXPECT_EQ(b[8], 1);  // major, little-endian u16
  EXPECT_EQ(b[9], 0);
  EXPECT_EQ(b[10], 0); // minor
  EXPECT_EQ(b[11], 0);
  EXPECT_EQ(b[12], 0x04); // byte-order mark 0x01020304
  EXPECT_EQ(b[15], 0x01);
  EXPECT_EQ(readU64(b, 16), b.size());
  EXPECT_EQ(readU32(b, 24), 64u);
  EXPECT_EQ(readU32(b, 28), crc32(b.data() + 64, b.size() - 64));
  EXPECT_EQ(readU32(b, 32), 2u); // images
  EXPECT_EQ(readU32(b, 36), 3u); // kernels
  EXPECT_EQ(readU32(b, 40), 0u); // feature flags
  for (int i = 44; i < 60; ++i)
    EXPECT_EQ(b[i], 0) << i;
  EXPECT_EQ(readU32(b, 60), crc32(b.data(), 60));
  // First record: an image.
  EXPECT_EQ(readU32(b, 64), kImageTag);
  EXPECT_EQ(std::memcmp(b.data() + 64, "IMGE", 4), 0);
  EXPECT_EQ(readU32(b, 68), 0u);
}

TEST(ArtifactTest, Roundtrip) {
  Artifact in = sampleArtifact();
  std::vector<uint8_t> bytes;
  ASSERT_FALSE(serializeArtifact(in, bytes));
  Artifact out;
  ArtifactError e = parseArtifact(bytes.data(), bytes.size(), out);
  ASSERT_FALSE(e) << e.message;
  ASSERT_EQ(out.images.size(), in.images.size());
  for (size_t i = 0; i < in.images.size(); ++i) {
    EXPECT_EQ(out.images[i].label, in.images[i].label);
    EXPECT_EQ(out.images[i].chip, in.images[i].chip);
    EXPECT_EQ(out.images[i].format, in.images[i].format);
    EXPECT_EQ(out.images[i].data, in.images[i].data);
  }
  ASSERT_EQ(out.kernels.size(), in.kernels.size());
  for (size_t i = 0; i < in.kernels.size(); ++i) {
    const Kernel &a = in.kernels[i], &b = out.kernels[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.op, b.op);
    EXPECT_EQ(a.config, b.config);
    EXPECT_EQ(a.flags, b.flags);
    ASSERT_EQ(a.params.size(), b.params.size());
    for (size_t j = 0; j < a.params.size(); ++j) {
      EXPECT_EQ(a.params[j].role, b.params[j].role);
      EXPECT_EQ(a.params[j].kind, b.params[j].kind);
      EXPECT_EQ(a.params[j].elem, b.params[j].elem);
      EXPECT_EQ(a.params[j].access, b.params[j].access);
      EXPECT_EQ(a.params[j].align, b.params[j].align);
      EXPECT_EQ(a.params[j].layout, b.params[j].layout);
      EXPECT_EQ(a.params[j].hasExtent, b.params[j].hasExtent);
      EXPECT_EQ(a.params[j].extent, b.params[j].extent);
    }
    EXPECT_EQ(a.constraints, b.constraints);
    ASSERT_EQ(a.variants.size(), b.variants.size());
    for (size_t j = 0; j < a.variants.size(); ++j) {
      EXPECT_EQ(a.variants[j].chip, b.variants[j].chip);
      EXPECT_EQ(a.variants[j].image, b.variants[j].image);
      EXPECT_EQ(a.variants[j].grid, b.variants[j].grid);
      EXPECT_EQ(a.variants[j].block, b.variants[j].block);
      EXPECT_EQ(a.variants[j].cluster, b.variants[j].cluster);
      EXPECT_EQ(a.variants[j].dynamicSharedBytes,
                b.variants[j].dynamicSharedBytes);
    }
  }
  // Serializing again gives the same bytes.
  std::vector<uint8_t> again;
  ASSERT_FALSE(serializeArtifact(out, again));
  EXPECT_EQ(bytes, again);
  EXPECT_EQ(out.chips(), (std::vector<std::string>{"sm_90a", "sm_100a"}));
}

TEST(ArtifactTest, FileRoundtripAndList) {
  std::string path = tempPath("roundtrip.aqa");
  ASSERT_FALSE(writeArtifactFile(path, sampleArtifact()));
  Artifact a;
  ArtifactError e = readArtifactFile(path, a);
  ASSERT_FALSE(e) << e.message;
  std::string listing = describeArtifact(a, 1234);
  EXPECT_TRUE(contains(listing, "attnqat artifact, format 1.0, 1234 bytes"));
  EXPECT_TRUE(contains(listing, "chips: sm_90a, sm_100a"));
  EXPECT_TRUE(contains(listing, "[0] attn_sm90a  sm_90a  ptx"));
  EXPECT_TRUE(contains(listing, "op attention_forward  config \"mode=qat "
                                "p=nvfp4 p_scale=two_level\"  flags "
                                "causal,save_for_backward"));
  EXPECT_TRUE(contains(listing, "0 q: ptr bf16 in align 16 extent B*Hq*M*D "
                                "layout \"[B,Hq,M,D] row-major\""));
  EXPECT_TRUE(contains(listing, "10 N: i64 (from the problem)"));
  EXPECT_TRUE(contains(listing, "requires: D in {64,128}, N <= 1048576"));
  EXPECT_TRUE(contains(listing, "sm_90a: image attn_sm90a  grid ceil(M/128) "
                                "x Hq x B  block 384x1x1  cluster 1x1x1  "
                                "smem 200704"));
  EXPECT_TRUE(contains(listing, "extent M*ceil(D/16)"));
  EXPECT_TRUE(contains(listing, "grid SMs x 1 x 1"));
  std::remove(path.c_str());

  e = readArtifactFile(tempPath("does-not-exist.aqa"), a);
  EXPECT_EQ(e.code, ArtifactErrc::Io);
  EXPECT_TRUE(contains(e.message, "cannot open")) << e.message;
}

TEST(ArtifactTest, TruncatedAtEveryOffset) {
  std::vector<uint8_t> b = sampleBytes();
  for (size_t n = 0; n < b.size(); ++n) {
    Artifact a;
    ArtifactError e = parseArtifact(b.data(), n, a);
    ASSERT_TRUE(e) << "prefix of " << n << " bytes accepted";
    if (n == 0) {
      EXPECT_EQ(e.code, ArtifactErrc::NotAnArtifact);
      EXPECT_TRUE(contains(e.message, "empty")) << e.message;
    } else {
      EXPECT_EQ(e.code, ArtifactErrc::Corrupt) << n << ": " << e.message;
      EXPECT_TRUE(contains(e.message, "truncated")) << n << ": " << e.message;
    }
  }
}

TEST(ArtifactTest, EveryFlippedByteIsDetected) {
  const std::vector<uint8_t> good = sampleBytes();
  for (size_t off = 0; off < good.size(); ++off) {
    for (uint8_t mask : {0x01, 0x80, 0xFF}) {
      std::vector<uint8_t> b = good;
      b[off] ^= mask;
      ArtifactError e = parse(b);
      ASSERT_TRUE(e) << "flip " << int(mask) << " at " << off << " accepted";
      if (off < 8) {
        EXPECT_EQ(e.code, ArtifactErrc::NotAnArtifact) << off;
      } else if (off == 8 || off == 9) {
        EXPECT_EQ(e.code, ArtifactErrc::Version) << off;
      } else if (off < 64) {
        EXPECT_EQ(e.code, ArtifactErrc::Corrupt) << off;
        EXPECT_TRUE(contains(e.message, "header checksum mismatch") ||
                    (off >= 60 && contains(e.message, "header checksum")))
            << off << ": " << e.message;
      } else {
        EXPECT_EQ(e.code, ArtifactErrc::Corrupt) << off;
        EXPECT_TRUE(contains(e.message, "payload checksum mismatch"))
            << off << ": " << e.message;
      }
    }
  }
}

TEST(ArtifactTest, WrongMagic) {
  std::vector<uint8_t> b = sampleBytes();
  b[1] = 'X';
  ArtifactError e = parse(b);
  EXPECT_EQ(e.code, ArtifactErrc::NotAnArtifact);
  EXPECT_TRUE(contains(e.message, "unrecognized magic bytes 89 58 51 54"))
      << e.message;
}

TEST(ArtifactTest, FutureMajorVersionIsRejected) {
  std::vector<uint8_t> b = sampleBytes();
  b[8] = 2;
  reseal(b);
  ArtifactError e = parse(b);
  EXPECT_EQ(e.code, ArtifactErrc::Version);
  EXPECT_TRUE(contains(e.message, "format version 2.0 is not supported"))
      << e.message;
}

TEST(ArtifactTest, NewerMinorVersionMayAppendFields) {
  std::vector<uint8_t> b = sampleBytes();
  // Append 3 bytes to the first record body (a field a newer minor adds).
  uint64_t len = readU64(b, 64 + 8);
  size_t end = 64 + 16 + len;
  b.insert(b.begin() + end, {0xAB, 0xCD, 0xEF});
  writeU64(b, 64 + 8, len + 3);
  reseal(b);
  ArtifactError e = parse(b);
  EXPECT_EQ(e.code, ArtifactErrc::Corrupt) << "same minor must not have extras";
  EXPECT_TRUE(contains(e.message, "3 unexpected bytes")) << e.message;
  b[10] = 1; // minor 1
  reseal(b);
  Artifact a;
  e = parseArtifact(b.data(), b.size(), a);
  EXPECT_FALSE(e) << e.message;
  EXPECT_EQ(a.versionMinor, 1);
  EXPECT_EQ(a.images[0].label, "attn_sm90a");
}

TEST(ArtifactTest, BigEndianAndFeatureFlags) {
  std::vector<uint8_t> b = sampleBytes();
  b[12] = 1, b[13] = 2, b[14] = 3, b[15] = 4;
  reseal(b);
  ArtifactError e = parse(b);
  EXPECT_EQ(e.code, ArtifactErrc::Version);
  EXPECT_TRUE(contains(e.message, "big-endian")) << e.message;

  b = sampleBytes();
  writeU32(b, 40, 0x10);
  reseal(b);
  e = parse(b);
  EXPECT_EQ(e.code, ArtifactErrc::Version);
  EXPECT_TRUE(contains(e.message, "feature flags 0x00000010")) << e.message;
}

TEST(ArtifactTest, SizeMismatch) {
  std::vector<uint8_t> b = sampleBytes();
  b.push_back(0);
  ArtifactError e = parse(b);
  EXPECT_EQ(e.code, ArtifactErrc::Corrupt);
  EXPECT_TRUE(contains(e.message, "size mismatch")) << e.message;
  // A declared size smaller than the data, header resealed.
  b = sampleBytes();
  writeU64(b, 16, b.size() - 1);
  writeU32(b, 60, crc32(b.data(), 60));
  e = parse(b);
  EXPECT_EQ(e.code, ArtifactErrc::Corrupt);
  EXPECT_TRUE(contains(e.message, "size mismatch")) << e.message;
}

TEST(ArtifactTest, MalformedRecordWithValidChecksums) {
  std::vector<uint8_t> b = sampleBytes();
  writeU32(b, 64, 0x58585858); // record tag "XXXX"
  reseal(b);
  ArtifactError e = parse(b);
  EXPECT_EQ(e.code, ArtifactErrc::Corrupt);
  EXPECT_TRUE(contains(e.message, "malformed image record #0 at offset 64"))
      << e.message;
  b = sampleBytes();
  writeU64(b, 72, 1u << 30); // record length past the end
  reseal(b);
  e = parse(b);
  EXPECT_TRUE(contains(e.message, "runs past the end")) << e.message;
  b = sampleBytes();
  writeU32(b, 36, 4); // one kernel more than present
  reseal(b);
  e = parse(b);
  EXPECT_EQ(e.code, ArtifactErrc::Corrupt);
  EXPECT_TRUE(contains(e.message, "kernel record #3")) << e.message;
}

TEST(ArtifactTest, ForeignFiles) {
  struct Case {
    std::string data;
    const char *expect;
  } cases[] = {
      {std::string("\x7f" "ELF\x02\x01\x01", 7) + std::string(57, '\0'),
       "ELF file"},
      {".version 8.0\n.target sm_90a\n", "PTX"},
      {"// Generated by NVIDIA NVVM Compiler\n", "PTX"},
      {"image a chip=sm_90a format=ptx file=a.ptx\n", "text file"},
      {std::string("\x50\xed\x55\xba\x01\x00\x10\x00", 8) +
           std::string(32, '\0'),
       "fatbin"},
      {std::string("\x00\x01\x02\x03\xff\xfe", 6), "unrecognized magic"},
      {"PK\x03\x04", "unrecognized magic"},
  };
  for (const Case &c : cases) {
    std::vector<uint8_t> b(c.data.begin(), c.data.end());
    ArtifactError e = parse(b);
    EXPECT_EQ(e.code, ArtifactErrc::NotAnArtifact) << c.expect;
    EXPECT_TRUE(contains(e.message, "not an attnqat artifact")) << e.message;
    EXPECT_TRUE(contains(e.message, c.expect)) << e.message;
  }
}

//===----------------------------------------------------------------------===//
// Semantic validation: on write (serializeArtifact refuses) and on read.
//===----------------------------------------------------------------------===//

namespace {

void expectInvalid(const Artifact &a, const char *needle) {
  std::vector<uint8_t> out;
  ArtifactError w = serializeArtifact(a, out);
  EXPECT_EQ(w.code, ArtifactErrc::Invalid) << needle;
  EXPECT_TRUE(contains(w.message, needle)) << w.message;
  serializeArtifactUnchecked(a, out);
  ArtifactError r = parse(out);
  EXPECT_EQ(r.code, ArtifactErrc::Invalid) << needle;
  EXPECT_TRUE(contains(r.message, needle)) << r.message;
}

} // namespace

TEST(ArtifactTest, DuplicateKernel) {
  Artifact a = sampleArtifact();
  a.kernels.push_back(a.kernels[0]);
  expectInvalid(a, "duplicate kernel 'attnqat_fwd_qat_d128'");
}

TEST(ArtifactTest, DuplicateImageLabel) {
  Artifact a = sampleArtifact();
  a.images[1].label = a.images[0].label;
  expectInvalid(a, "duplicate image label 'attn_sm90a'");
}

TEST(ArtifactTest, UnknownChipTags) {
  Artifact a = sampleArtifact();
  a.images[0].chip = "sm_89";
  expectInvalid(a, "unknown chip tag 'sm_89' (known: sm_90a, sm_100a, "
                   "sm_120a)");
  a = sampleArtifact();
  a.kernels[0].variants[0].chip = "sm_91x";
  expectInvalid(a, "unknown chip tag 'sm_91x'");
}

TEST(ArtifactTest, InconsistentVariants) {
  Artifact a = sampleArtifact();
  a.kernels[0].variants[1].chip = "sm_90a";
  expectInvalid(a, "has two launch configurations for sm_90a");
  a = sampleArtifact();
  a.kernels[0].variants[0].image = 1;
  expectInvalid(a, "refers to image 'attn_sm100a' for sm_100a");
  a = sampleArtifact();
  a.kernels[0].variants[0].image = 7;
  expectInvalid(a, "image index 7 out of range");
  a = sampleArtifact();
  a.kernels[0].variants[0].block = {1024, 2, 1};
  expectInvalid(a, "block of 2048 threads exceeds 1024");
  a = sampleArtifact();
  a.kernels[0].variants[0].cluster = {32, 1, 1};
  expectInvalid(a, "cluster of 32 blocks exceeds 16");
  a = sampleArtifact();
  a.kernels[0].variants.clear();
  expectInvalid(a, "has no launch configuration");
}

TEST(ArtifactTest, ImageContents) {
  Artifact a = sampleArtifact();
  a.images[0].chip = "sm_120a";
  expectInvalid(a, "is PTX for sm_90a but is tagged sm_120a");
  a = sampleArtifact();
  a.kernels[1].name = "attnqat_quantize_mxfp4";
  expectInvalid(a, "PTX image 'attn_sm90a' has no '.entry "
                   "attnqat_quantize_mxfp4'");
  a = sampleArtifact();
  a.images[0].format = ImageFormat::Cubin;
  expectInvalid(a, "is tagged cubin but is not a 64-bit ELF file");
  a = sampleArtifact();
  a.images[0].data = bytesOf("no directives here");
  expectInvalid(a, "has no .target directive");
  a = sampleArtifact();
  a.images[0].data.clear();
  expectInvalid(a, "image 'attn_sm90a' is empty");
}

TEST(ArtifactTest, Signatures) {
  Artifact a = sampleArtifact();
  a.kernels[0].op = "attention";
  expectInvalid(a, "unknown op kind 'attention'");
  a = sampleArtifact();
  a.kernels[0].params[1].role = "q";
  expectInvalid(a, "duplicate param role 'q'");
  a = sampleArtifact();
  a.kernels[0].params[0].elem = ElemType::None;
  expectInvalid(a, "a pointer needs an element type");
  a = sampleArtifact();
  a.kernels[0].params[0].align = 12;
  expectInvalid(a, "alignment 12 is not a power of two");
  a = sampleArtifact();
  a.kernels[0].params[6].kind = ParamKind::F32; // "B"
  expectInvalid(a, "a problem dim must be i32 or i64");
  a = sampleArtifact();
  a.kernels[0].flags = 0x100;
  expectInvalid(a, "unknown problem flags 0x100");
  a = sampleArtifact();
  a.kernels[0].name = "has space";
  expectInvalid(a, "is not a valid entry symbol");
  a = sampleArtifact();
  a.kernels.clear();
  expectInvalid(a, "artifact holds no kernels");
}
