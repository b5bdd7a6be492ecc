//===- ManifestTest.cpp - Manifests for attnqat-artifact create -----------===//

#include "TestArtifacts.h"
#include "attnqat-runtime/Manifest.h"

#include "gtest/gtest.h"

#include <cstdio>
#include <sys/stat.h>
#include <unistd.h>

using namespace attnqat_test;

namespace {

/// A temporary folder holding fwd.ptx (the sample sm_90a image).
struct ManifestDir {
  std::string dir;
  ManifestDir() {
    dir = "/tmp/attnqat-manifest-test-" + std::to_string(getpid());
    mkdir(dir.c_str(), 0755);
    std::string ptx = fakePtx("sm_90a", {{"attnqat_fwd_qat_d128",
                                          fwdPtxParams()}});
    FILE *f = std::fopen((dir + "/fwd.ptx").c_str(), "wb");
    std::fwrite(ptx.data(), 1, ptx.size(), f);
    std::fclose(f);
  }
  ~ManifestDir() {
    std::remove((dir + "/fwd.ptx").c_str());
    rmdir(dir.c_str());
  }
  ArtifactError parse(const std::string &text, Artifact &out) {
    return parseManifest(text, dir + "/test.manifest", out);
  }
};

const char *kGood = R"(# A forward kernel for Hopper.
image fwd chip=sm_90a format=ptx file=fwd.ptx

kernel attnqat_fwd_qat_d128
  op attention_forward
  config "mode=qat p=nvfp4"
  flags causal,save_for_backward
  param q ptr bf16 in align=16 extent=B*Hq*M*D layout="[B,Hq,M,D] row-major"
  param k ptr bf16 extent=B*Hkv*N*D
  param v ptr bf16 in extent=B*Hkv*N*D
  param o ptr bf16 out extent=B*Hq*M*D
  param lse ptr f32 out align=4 extent=B*Hq*M   # log2-sum-exp
  param scale f32
  param B i32
  param Hq i32
  param Hkv i32
  param M i32
  param N i64
  param D i32
  param flags i32
  require D in {64,128}
  require Hq % Hkv == 0
  launch sm_90a image=fwd grid="ceil(M/128) x Hq x B" block=384 smem=200704
end
)";

} // namespace

TEST(ManifestTest, Parses) {
  ManifestDir d;
  Artifact a;
  ArtifactError e = d.parse(kGood, a);
  ASSERT_FALSE(e) << e.message;
  ASSERT_EQ(a.images.size(), 1u);
  EXPECT_EQ(a.images[0].label, "fwd");
  EXPECT_EQ(a.images[0].format, ImageFormat::Ptx);
  ASSERT_EQ(a.kernels.size(), 1u);
  const Kernel &k = a.kernels[0];
  EXPECT_EQ(k.op, "attention_forward");
  EXPECT_EQ(k.config, "mode=qat p=nvfp4");
  EXPECT_EQ(k.flags, uint32_t(FlagCausal | FlagSaveForBackward));
  ASSERT_EQ(k.params.size(), 13u);
  EXPECT_EQ(k.params[0].layout, "[B,Hq,M,D] row-major");
  EXPECT_EQ(k.params[1].access, Access::In); // default
  EXPECT_EQ(k.params[1].align, 16u);         // default
  EXPECT_EQ(k.params[3].access, Access::Out);
  EXPECT_EQ(k.params[4].align, 4u);
  EXPECT_EQ(k.params[4].extent.str(), "B*Hq*M");
  EXPECT_EQ(k.params[10].kind, ParamKind::I64);
  ASSERT_EQ(k.constraints.size(), 2u);
  EXPECT_EQ(k.constraints[1].str(), "Hq % Hkv == 0");
  ASSERT_EQ(k.variants.size(), 1u);
  EXPECT_EQ(k.variants[0].gridString(), "ceil(M/128) x Hq x B");
  EXPECT_EQ(k.variants[0].block, (std::array<uint32_t, 3>{384, 1, 1}));
  EXPECT_EQ(k.variants[0].dynamicSharedBytes, 200704u);
  std::vector<uint8_t> bytes;
  EXPECT_FALSE(serializeArtifact(a, bytes));
}

TEST(ManifestTest, TensorMaps) {
  ManifestDir d;
  Artifact a;
  ArtifactError e = d.parse(R"(image fwd chip=sm_90a format=ptx file=fwd.ptx
kernel attnqat_fwd_qat_d128
  op attention_forward
  param k ptr bf16 extent=B*Hkv*N*D
  param k_map tensormap of=k dims=D,N,B*Hkv box=64,64,1 swizzle=128
  param v ptr bf16 extent=B*Hkv*N*D
  param v_map tensormap of=v dims=D,B*Hkv*N box=8,256 layout="V rows"
  launch sm_90a image=fwd grid="ceil(M/128) x Hq x B" block=128
end
)",
                            a);
  ASSERT_FALSE(e) << e.message;
  const Kernel &k = a.kernels[0];
  ASSERT_EQ(k.params.size(), 4u);
  const Param &km = k.params[1];
  EXPECT_EQ(km.kind, ParamKind::TensorMap);
  EXPECT_EQ(km.tensorMap.str(),
            "of k dims [D, N, B*Hkv] box [64, 64, 1] swizzle 128");
  EXPECT_EQ(k.params[3].tensorMap.str(),
            "of v dims [D, B*Hkv*N] box [8, 256] swizzle 0");
  EXPECT_EQ(k.params[3].layout, "V rows");

  struct Case {
    const char *line;
    const char *expect;
  } cases[] = {
      {"param m tensormap of=k dims=D", ":3: tensor map 'm' needs of=, dims= "
                                        "and box="},
      {"param m tensormap of=k dims=D,Q box=8,8",
       ":3: dims of 'm': unknown dim 'Q'"},
      {"param m tensormap of=k dims=D box=8x", ":3: bad box size '8x'"},
      {"param m tensormap of=k dims=D box=8 swizzle=big",
       ":3: bad swizzle 'big'"},
      {"param m tensormap of=k dims=D box=8 align=16", ":3: unknown key "
                                                       "'align'"},
      {"param m tensormap bf16 of=k dims=D box=8", ":3: unexpected 'bf16'"},
      {"param m tensormap of=k dims=D box=4", "box[0] x 2 bytes = 8 is not a "
                                              "multiple of 16 bytes"},
      {"param m tensormap of=q dims=D box=8", "tensor map of 'q': the "
                                              "kernel has no such param"},
  };
  for (const Case &c : cases) {
    std::string text = "image fwd chip=sm_90a format=ptx file=fwd.ptx\n"
                       "kernel attnqat_fwd_qat_d128\n"
                       "  " +
                       std::string(c.line) +
                       "\n  op attention_forward\n"
                       "  param k ptr bf16\n"
                       "  launch sm_90a image=fwd grid=1 block=1\nend\n";
    ArtifactError e = d.parse(text, a);
    EXPECT_TRUE(e) << c.line;
    EXPECT_NE(e.message.find(c.expect), std::string::npos)
        << "got: " << e.message << "\nwant: " << c.expect;
  }
}

TEST(ManifestTest, ErrorsNameTheLine) {
  ManifestDir d;
  struct Case {
    std::string text;
    const char *expect;
  } cases[] = {
      {"bogus x\n", "test.manifest:1: unknown directive 'bogus'"},
      {"\n\nop quantize\n", ":3: 'op' outside a kernel block"},
      {"kernel k\n  op quantize\n", "kernel 'k' is not closed with 'end'"},
      {"image a chip=sm_89 format=ptx file=fwd.ptx\n",
       ":1: unknown chip tag 'sm_89' (known: sm_90a, sm_100a, sm_120a)"},
      {"image a chip=sm_90a format=elf file=fwd.ptx\n",
       "unknown image format 'elf'"},
      {"image a chip=sm_90a format=ptx file=missing.ptx\n",
       "cannot open '"},
      {"image a chip=sm_90a format=ptx\n", "needs chip=, format= and file="},
      {"kernel k\n  op attention\nend\n", ":2: unknown op kind 'attention'"},
      {"kernel k\n  param q ptr\nend\n", ":2: pointer param 'q' needs an "
                                         "element type"},
      {"kernel k\n  param q ptr bf16 sideways\nend\n", ":2: unexpected "
                                                       "'sideways'"},
      {"kernel k\n  param q ptr bf16 extent=B*K\nend\n",
       ":2: extent of 'q': unknown dim 'K'"},
      {"kernel k\n  param q f32\n  param q i32\nend\n",
       ":3: duplicate param role 'q'"},
      {"kernel k\n  require D in 64\nend\n", ":2: expected '{' after 'in'"},
      {"kernel k\n  flags causal,windowed\nend\n", "unknown flag 'windowed'"},
      {"kernel k\n  launch sm_90a image=x grid=\"ceil(M/0)\" block=1\nend\n",
       ":2: grid dim 0: division by zero"},
      {"kernel k\n  launch sm_90a image=x grid=1 block=12y\nend\n",
       ":2: bad block dims '12y'"},
      {"kernel k\n  op quantize\n  launch sm_90a image=nope grid=1 "
       "block=1\nend\n",
       ":3: unknown image 'nope'"},
      {"kernel k\n  op quantize\n  config \"unterminated\nend\n",
       ":3: unterminated quote"},
      {"kernel k\nend\n", "kernel 'k' has no 'op' line"},
      {"image a chip=sm_90a format=ptx file=fwd.ptx\nkernel k\n  op "
       "quantize\n  launch sm_90a image=a grid=1 block=1\nend\n",
       "PTX image 'a' has no '.entry k'"},
  };
  for (const Case &c : cases) {
    Artifact a;
    ArtifactError e = d.parse(c.text, a);
    EXPECT_TRUE(e) << c.text;
    EXPECT_NE(e.message.find(c.expect), std::string::npos)
        << "got: " << e.message << "\nwant: " << c.expect;
  }
}
