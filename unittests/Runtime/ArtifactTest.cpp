//===- ArtifactTest.cpp - Artifact byte layout, roundtrip, validation -----===//

#include "TestArtifacts.h"

#include "gtest/gtest.h"

#include <algorithm>
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

/// The (offset, body length) of every record.
std::vector<std::pair<size_t, uint64_t>>
records(const std::vector<uint8_t> &b) {
  std::vector<std::pair<size_t, uint64_t>> out;
  for (size_t at = 64; at + 16 <= b.size(); at += 16 + readU64(b, at + 8))
    out.push_back({at, readU64(b, at + 8)});
  return out;
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
  EXPECT_EQ(b[10], 1); // minor
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
  EXPECT_TRUE(contains(listing, "attnqat artifact, format 1.1, 1234 bytes"));
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
  std::string want = "format version 2." +
                     std::to_string(kFormatVersionMinor) + " is not supported";
  EXPECT_TRUE(contains(e.message, want.c_str()))
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
  b[10] = kFormatVersionMinor + 1;
  reseal(b);
  Artifact a;
  e = parseArtifact(b.data(), b.size(), a);
  EXPECT_FALSE(e) << e.message;
  EXPECT_EQ(a.versionMinor, kFormatVersionMinor + 1);
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

//===----------------------------------------------------------------------===//
// Tensor maps (format 1.1)
//===----------------------------------------------------------------------===//

namespace {

/// Where the last occurrence of `pattern` starts in `b`.
size_t findLast(const std::vector<uint8_t> &b,
                const std::vector<uint8_t> &pattern) {
  auto it = std::find_end(b.begin(), b.end(), pattern.begin(), pattern.end());
  EXPECT_NE(it, b.end());
  return it - b.begin();
}

/// The tensor-map tail of tensorMapArtifact()'s one kernel record: count 1,
/// then the spec of param 2, "k" (a u32 length and the byte).
const std::vector<uint8_t> kTail = {1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 'k'};

} // namespace

TEST(ArtifactTest, TensorMapRoundtrip) {
  Artifact in = tensorMapArtifact();
  std::vector<uint8_t> bytes;
  ArtifactError e = serializeArtifact(in, bytes);
  ASSERT_FALSE(e) << e.message;
  Artifact out;
  e = parseArtifact(bytes.data(), bytes.size(), out);
  ASSERT_FALSE(e) << e.message;
  ASSERT_EQ(out.kernels.size(), 1u);
  ASSERT_EQ(out.kernels[0].params.size(), in.kernels[0].params.size());
  for (size_t i = 0; i < in.kernels[0].params.size(); ++i) {
    const Param &a = in.kernels[0].params[i], &b = out.kernels[0].params[i];
    EXPECT_EQ(a.kind, b.kind) << i;
    EXPECT_EQ(a.role, b.role) << i;
    EXPECT_EQ(a.tensorMap, b.tensorMap) << i;
  }
  const Param &map = out.kernels[0].params[2];
  EXPECT_EQ(map.kind, ParamKind::TensorMap);
  EXPECT_EQ(map.tensorMap.of, "k");
  ASSERT_EQ(map.tensorMap.dims.size(), 3u);
  EXPECT_EQ(map.tensorMap.dims[2].str(), "B*Hkv");
  EXPECT_EQ(map.tensorMap.box, (std::vector<uint32_t>{64, 64, 1}));
  EXPECT_EQ(map.tensorMap.swizzle, 128u);
  std::vector<uint8_t> again;
  ASSERT_FALSE(serializeArtifact(out, again));
  EXPECT_EQ(bytes, again);
  // The spec trails the record: the file ends with it.
  EXPECT_EQ(findLast(bytes, kTail), bytes.size() - 109);

  std::string listing = describeArtifact(out);
  EXPECT_TRUE(contains(listing, "      2 k_map: tensormap of k dims [D, N, "
                                "B*Hkv] box [64, 64, 1] swizzle 128\n"))
      << listing;
}

TEST(ArtifactTest, Format10KernelRecordsStillRead) {
  // A 1.0 kernel record ends after the launch variants: drop each record's
  // (empty) tensor-map count and mark the file 1.0.
  std::vector<uint8_t> b = sampleBytes();
  auto recs = records(b);
  ASSERT_EQ(recs.size(), 5u);
  for (size_t i = recs.size(); i-- > 2;) { // kernel records, back to front
    size_t end = recs[i].first + 16 + recs[i].second;
    ASSERT_EQ(readU32(b, end - 4), 0u);
    b.erase(b.begin() + end - 4, b.begin() + end);
    writeU64(b, recs[i].first + 8, recs[i].second - 4);
  }
  b[10] = 0;
  reseal(b);
  Artifact a;
  ArtifactError e = parseArtifact(b.data(), b.size(), a);
  ASSERT_FALSE(e) << e.message;
  EXPECT_EQ(a.versionMinor, 0);
  std::vector<uint8_t> again;
  ASSERT_FALSE(serializeArtifact(a, again));
  EXPECT_EQ(again, sampleBytes()); // written back as 1.1
  // A 1.1 record without the tail reads as having no tensor maps.
  b[10] = 1;
  reseal(b);
  e = parseArtifact(b.data(), b.size(), a);
  EXPECT_FALSE(e) << e.message;
}

TEST(ArtifactTest, MalformedTensorMapSpecs) {
  const std::vector<uint8_t> good = [] {
    std::vector<uint8_t> b;
    EXPECT_FALSE(serializeArtifact(tensorMapArtifact(), b));
    return b;
  }();
  const size_t tail = findLast(good, kTail);

  std::vector<uint8_t> b = good;
  writeU32(b, tail + 4, 1); // param 1, the pointer k
  reseal(b);
  ArtifactError e = parse(b);
  EXPECT_EQ(e.code, ArtifactErrc::Corrupt);
  EXPECT_TRUE(contains(e.message, "malformed kernel record #0"))
      << e.message;
  EXPECT_TRUE(contains(e.message, "tensor map spec #0 names param #1 'k', "
                                  "which is not a tensormap param"))
      << e.message;

  b = good;
  writeU32(b, tail + 4, 99);
  reseal(b);
  e = parse(b);
  EXPECT_EQ(e.code, ArtifactErrc::Corrupt);
  EXPECT_TRUE(contains(e.message, "tensor map spec #0 names param #99 of 11"))
      << e.message;

  // The same spec twice.
  b = good;
  auto recs = records(b);
  size_t spec = b.size() - (tail + 4);
  b.insert(b.end(), good.begin() + tail + 4, good.end());
  writeU32(b, tail, 2);
  writeU64(b, recs.back().first + 8, recs.back().second + spec);
  reseal(b);
  e = parse(b);
  EXPECT_EQ(e.code, ArtifactErrc::Corrupt);
  EXPECT_TRUE(contains(e.message, "tensor map spec #1 describes param #2 "
                                  "'k_map' a second time"))
      << e.message;

  // A count promising more than the record holds.
  b = good;
  writeU32(b, tail, 1000);
  reseal(b);
  e = parse(b);
  EXPECT_EQ(e.code, ArtifactErrc::Corrupt);
  EXPECT_TRUE(contains(e.message, "tensor map count 1000")) << e.message;

  // A tensormap param without its spec: as a newer writer that dropped it
  // would leave it (count 0; the rest a newer minor's fields).
  b = good;
  writeU32(b, tail, 0);
  b[10] = kFormatVersionMinor + 1;
  reseal(b);
  e = parse(b);
  EXPECT_EQ(e.code, ArtifactErrc::Invalid);
  EXPECT_TRUE(contains(e.message, "param #2 'k_map': tensormap param has no "
                                  "tensor map spec"))
      << e.message;
}

TEST(ArtifactTest, TensorMapValidation) {
  struct Case {
    void (*edit)(Param &map, Kernel &k);
    const char *expect;
  } cases[] = {
      {[](Param &m, Kernel &) { m.tensorMap.of = "kk"; },
       "param #2 'k_map': tensor map of 'kk': the kernel has no such param"},
      {[](Param &m, Kernel &) { m.tensorMap.of = "scale"; },
       "tensor map of 'scale': a f32, not a pointer"},
      {[](Param &m, Kernel &) { m.tensorMap.of = "k_map"; },
       "tensor map of 'k_map': a tensormap, not a pointer"},
      {[](Param &m, Kernel &) { m.tensorMap.box[0] = 128; }, // 256 bytes
       "the box's inner extent box[0] x 2 bytes = 256 exceeds the 128-byte "
       "swizzle"},
      {[](Param &m, Kernel &) {
         m.tensorMap.swizzle = 32;
         m.tensorMap.box[0] = 32;
       },
       "box[0] x 2 bytes = 64 exceeds the 32-byte swizzle"},
      {[](Param &m, Kernel &) { m.tensorMap.box[1] = 0; },
       "box[1] = 0 is not in [1, 256]"},
      {[](Param &m, Kernel &) { m.tensorMap.box[2] = 300; },
       "box[2] = 300 is not in [1, 256]"},
      {[](Param &m, Kernel &) { m.tensorMap.swizzle = 48; },
       "swizzle 48 is not 0, 32, 64 or 128 bytes"},
      {[](Param &m, Kernel &) {
         m.tensorMap.swizzle = 0;
         m.tensorMap.box[0] = 4;
       },
       "box[0] x 2 bytes = 8 is not a multiple of 16 bytes"},
      {[](Param &m, Kernel &) {
         m.tensorMap.dims.assign(6, expr("N"));
         m.tensorMap.box.assign(6, 8);
       },
       "a tensor map has 1 to 5 dims, not 6"},
      {[](Param &m, Kernel &) {
         m.tensorMap.dims.clear();
         m.tensorMap.box.clear();
       },
       "a tensor map has 1 to 5 dims, not 0"},
      {[](Param &m, Kernel &) { m.tensorMap.dims[0] = expr("SMs"); },
       "invalid expression for tensor map dims[0]"},
      {[](Param &m, Kernel &) { m.align = 64; },
       "a tensor map has no element type, access, alignment or extent"},
      {[](Param &m, Kernel &) { m.elem = ElemType::BF16; },
       "a tensor map has no element type"},
      {[](Param &m, Kernel &) { m.tensorMap = TensorMapSpec(); },
       "param #2 'k_map': tensormap param has no tensor map spec"},
      {[](Param &, Kernel &k) { k.params[1].align = 2; },
       "tensor map of 'k': the pointer must be 16-byte aligned for TMA, but "
       "it declares align 2"},
      {[](Param &, Kernel &k) { k.params[1].elem = ElemType::E2M1; },
       "tensor map of 'k': element type e2m1 is not supported"},
  };
  for (const Case &c : cases) {
    Artifact a = tensorMapArtifact();
    Kernel &k = a.kernels[0];
    c.edit(k.params[2], k);
    expectInvalid(a, c.expect);
  }
  // Mistakes the byte layout cannot carry: only the writer sees them.
  std::vector<uint8_t> out;
  Artifact a = tensorMapArtifact();
  a.kernels[0].params[2].tensorMap.box.pop_back();
  ArtifactError e = serializeArtifact(a, out);
  EXPECT_EQ(e.code, ArtifactErrc::Invalid);
  EXPECT_TRUE(contains(e.message, "2 box sizes for 3 dims")) << e.message;
  a = tensorMapArtifact();
  a.kernels[0].params[1].tensorMap = a.kernels[0].params[2].tensorMap;
  e = serializeArtifact(a, out);
  EXPECT_EQ(e.code, ArtifactErrc::Invalid);
  EXPECT_TRUE(contains(e.message, "param #1 'k': only a tensormap param has "
                                  "a tensor map spec"))
      << e.message;
  // Each supported element type, with a 16-byte inner box.
  for (ElemType t : {ElemType::F32, ElemType::F16, ElemType::BF16,
                     ElemType::E4M3, ElemType::E8M0, ElemType::U8,
                     ElemType::I32, ElemType::I64}) {
    Artifact a = tensorMapArtifact();
    Kernel &k = a.kernels[0];
    k.params[1].elem = t;
    k.params[2].tensorMap.box[0] = 16 / tensorMapElemBytes(t);
    e = serializeArtifact(a, out);
    EXPECT_FALSE(e) << elemTypeName(t) << ": " << e.message;
  }
}
