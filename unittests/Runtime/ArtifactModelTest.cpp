//===- ArtifactModelTest.cpp - Expressions, constraints, names ------------===//

#include "attnqat-runtime/Artifact.h"

#include "gtest/gtest.h"

#include <random>

using namespace mlir::attnqat::rt;

namespace {

ProblemDims dims(int64_t B, int64_t Hq, int64_t Hkv, int64_t M, int64_t N,
                 int64_t D, int64_t SMs = 132) {
  ProblemDims d;
  d[Dim::B] = B;
  d[Dim::Hq] = Hq;
  d[Dim::Hkv] = Hkv;
  d[Dim::M] = M;
  d[Dim::N] = N;
  d[Dim::D] = D;
  d[Dim::SMs] = SMs;
  return d;
}

uint64_t eval(const char *text, const ProblemDims &d) {
  Expr e;
  std::string error;
  EXPECT_TRUE(Expr::parse(text, e, error)) << text << ": " << error;
  uint64_t v = 0;
  EXPECT_TRUE(e.evaluate(d, v, error)) << text << ": " << error;
  return v;
}

std::string parseError(const char *text) {
  Expr e;
  std::string error;
  EXPECT_FALSE(Expr::parse(text, e, error)) << text;
  return error;
}

} // namespace

TEST(ArtifactModelTest, ExprEvaluate) {
  ProblemDims d = dims(2, 16, 4, 1000, 4096, 128);
  EXPECT_EQ(eval("ceil(M/128)", d), 8u);
  EXPECT_EQ(eval("Hq", d), 16u);
  EXPECT_EQ(eval("Hq*B", d), 32u);
  EXPECT_EQ(eval("ceil(M/128)*Hq", d), 128u);
  EXPECT_EQ(eval("ceil(B*Hq*M*D/4096)", d), 1000u);
  EXPECT_EQ(eval("B*Hq*M*ceil(D/16)", d), 2u * 16 * 1000 * 8);
  EXPECT_EQ(eval("2*M", d), 2000u);
  EXPECT_EQ(eval("ceil(3*M/256)", d), 12u);
  EXPECT_EQ(eval("SMs", d), 132u);
  EXPECT_EQ(eval("1", d), 1u);
  EXPECT_EQ(eval(" ceil( M / 64 ) * B ", d), 32u);
  EXPECT_EQ(eval("ceil(M/128)", dims(1, 1, 1, 0, 1, 1)), 0u);
}

TEST(ArtifactModelTest, ExprPrintParseRoundtrip) {
  for (const char *text :
       {"ceil(M/128)", "Hq*B", "ceil(B*Hq*M*D/4096)", "B*Hq*M*ceil(D/16)",
        "2*M", "ceil(M/128)*Hq", "SMs", "1", "ceil(3*N/7)*Hkv*D"}) {
    Expr e, again;
    std::string error;
    ASSERT_TRUE(Expr::parse(text, e, error)) << text << ": " << error;
    EXPECT_EQ(e.str(), text);
    ASSERT_TRUE(Expr::parse(e.str(), again, error));
    EXPECT_EQ(e, again) << text;
  }
  Expr one;
  std::string error;
  ASSERT_TRUE(Expr::parse("1", one, error));
  EXPECT_TRUE(one.factors.empty());
}

TEST(ArtifactModelTest, ExprErrors) {
  EXPECT_EQ(parseError(""), "empty expression");
  EXPECT_NE(parseError("K").find("unknown dim 'K'"), std::string::npos);
  EXPECT_NE(parseError("ceil(M)").find("expected '/ <integer>'"),
            std::string::npos);
  EXPECT_NE(parseError("ceil(M/0)").find("division by zero"),
            std::string::npos);
  EXPECT_NE(parseError("M+1").find("unexpected '+1'"), std::string::npos);
  EXPECT_NE(parseError("0*M").find("factor of 0"), std::string::npos);
  EXPECT_NE(parseError("ceil(M/128").find("expected ')'"), std::string::npos);

  Expr e;
  std::string error;
  ASSERT_TRUE(Expr::parse("B*Hq*M*N*D", e, error));
  uint64_t v;
  int64_t big = int64_t(1) << 20;
  EXPECT_FALSE(e.evaluate(dims(big, big, 1, big, big, 1), v, error));
  EXPECT_NE(error.find("overflow"), std::string::npos) << error;
  EXPECT_FALSE(e.evaluate(dims(1, 1, 1, -1, 1, 1), v, error));
  EXPECT_NE(error.find("M is negative"), std::string::npos) << error;
}

TEST(ArtifactModelTest, Constraints) {
  struct Case {
    const char *text;
    ProblemDims yes, no;
  } cases[] = {
      {"D in {64,128}", dims(1, 1, 1, 1, 1, 128), dims(1, 1, 1, 1, 1, 96)},
      {"M % 128 == 0", dims(1, 1, 1, 256, 1, 1), dims(1, 1, 1, 100, 1, 1)},
      {"Hq % Hkv == 0", dims(1, 8, 2, 1, 1, 1), dims(1, 6, 4, 1, 1, 1)},
      {"D <= 256", dims(1, 1, 1, 1, 1, 256), dims(1, 1, 1, 1, 1, 512)},
      {"N >= 1", dims(1, 1, 1, 1, 1, 1), dims(1, 1, 1, 1, 0, 1)},
      {"Hkv == Hq", dims(1, 4, 4, 1, 1, 1), dims(1, 4, 2, 1, 1, 1)},
  };
  for (const Case &c : cases) {
    Constraint k, again;
    std::string error;
    ASSERT_TRUE(Constraint::parse(c.text, k, error)) << c.text << error;
    EXPECT_EQ(k.str(), c.text);
    ASSERT_TRUE(Constraint::parse(k.str(), again, error));
    EXPECT_EQ(k, again);
    EXPECT_TRUE(k.holds(c.yes)) << c.text;
    EXPECT_FALSE(k.holds(c.no)) << c.text;
  }
  Constraint k;
  std::string error;
  EXPECT_FALSE(Constraint::parse("D in 64", k, error));
  EXPECT_FALSE(Constraint::parse("M % 0 == 0", k, error));
  EXPECT_FALSE(Constraint::parse("M % 4 == 1", k, error));
  EXPECT_FALSE(Constraint::parse("X >= 1", k, error));
  EXPECT_NE(error.find("unknown dim 'X'"), std::string::npos) << error;
  EXPECT_FALSE(Constraint::parse("M < 4", k, error));
}

TEST(ArtifactModelTest, Names) {
  EXPECT_STREQ(findChip("sm_90a")->tag, "sm_90a");
  EXPECT_EQ(findChip("sm_90"), nullptr);
  EXPECT_STREQ(chipForComputeCapability(9, 0)->tag, "sm_90a");
  EXPECT_STREQ(chipForComputeCapability(10, 0)->tag, "sm_100a");
  EXPECT_STREQ(chipForComputeCapability(12, 0)->tag, "sm_120a");
  EXPECT_EQ(chipForComputeCapability(8, 0), nullptr);
  EXPECT_EQ(knownChipList(), "sm_90a, sm_100a, sm_120a");
  EXPECT_TRUE(isKnownOpKind("attention_backward"));
  EXPECT_FALSE(isKnownOpKind("attention"));

  uint32_t flags;
  std::string error;
  ASSERT_TRUE(parseFlags("causal, key_lengths", flags, error));
  EXPECT_EQ(flags, uint32_t(FlagCausal | FlagKeyLengths));
  EXPECT_EQ(flagsToString(flags), "causal,key_lengths");
  EXPECT_EQ(flagsToString(0), "none");
  EXPECT_EQ(flagsToString(0x30), "0x30");
  EXPECT_FALSE(parseFlags("causal,sliding", flags, error));
  EXPECT_NE(error.find("unknown flag 'sliding'"), std::string::npos);

  for (int i = 0; i <= 9; ++i) {
    ElemType t = static_cast<ElemType>(i), back;
    ASSERT_TRUE(parseElemType(elemTypeName(t), back));
    EXPECT_EQ(t, back);
  }
  EXPECT_EQ(elemTypeBits(ElemType::E2M1), 4u);
  EXPECT_EQ(elemTypeBits(ElemType::BF16), 16u);

  Param p;
  p.kind = ParamKind::I32;
  p.role = "Hkv";
  EXPECT_TRUE(p.isAutoFilled());
  p.role = "flags";
  EXPECT_TRUE(p.isAutoFilled());
  p.role = "SMs";
  EXPECT_FALSE(p.isAutoFilled());
  p.role = "M";
  p.kind = ParamKind::Ptr;
  EXPECT_FALSE(p.isAutoFilled());
  p.role = "k_map";
  p.kind = ParamKind::TensorMap;
  EXPECT_TRUE(p.isAutoFilled());

  ParamKind kind;
  ASSERT_TRUE(parseParamKind("tensormap", kind));
  EXPECT_EQ(kind, ParamKind::TensorMap);
  EXPECT_STREQ(paramKindName(ParamKind::TensorMap), "tensormap");
  EXPECT_FALSE(parseParamKind("tensor_map", kind));
}

//===----------------------------------------------------------------------===//
// Tensor map geometry
//===----------------------------------------------------------------------===//

namespace {

TensorMapSpec spec(std::vector<const char *> dims) {
  TensorMapSpec t;
  t.of = "k";
  for (const char *d : dims) {
    Expr e;
    std::string error;
    EXPECT_TRUE(Expr::parse(d, e, error)) << d << ": " << error;
    t.dims.push_back(e);
    t.box.push_back(1);
  }
  return t;
}

std::string geometryError(const TensorMapSpec &t, unsigned elemBytes,
                          const ProblemDims &d) {
  TensorMapGeometry g;
  std::string error;
  EXPECT_FALSE(tensorMapGeometry(t, elemBytes, d, g, error));
  return error;
}

} // namespace

TEST(ArtifactModelTest, TensorMapGeometry) {
  TensorMapGeometry g;
  std::string error;
  ASSERT_TRUE(tensorMapGeometry(spec({"D", "N", "B*Hkv"}), 2,
                                dims(2, 8, 2, 256, 1000, 128), g, error))
      << error;
  ASSERT_EQ(g.rank, 3u);
  EXPECT_EQ(g.dims[0], 128u);
  EXPECT_EQ(g.dims[1], 1000u);
  EXPECT_EQ(g.dims[2], 4u);
  EXPECT_EQ(g.strides[0], 256u);        // D x 2 bytes
  EXPECT_EQ(g.strides[1], 256u * 1000); // D x N x 2 bytes
  ASSERT_TRUE(tensorMapGeometry(spec({"ceil(M/2)"}), 1, dims(1, 1, 1, 7, 1, 1),
                                g, error));
  EXPECT_EQ(g.rank, 1u);
  EXPECT_EQ(g.dims[0], 4u);

  EXPECT_EQ(geometryError(spec({"D", "N", "B*Hkv"}), 2,
                          dims(2, 8, 2, 256, 0, 128)),
            "dims[1] = N is 0 for this problem (a tensor map cannot describe "
            "an empty tensor)");
  EXPECT_EQ(geometryError(spec({"D", "B*Hkv"}), 2,
                          dims(int64_t(1) << 31, 4, 4, 1, 1, 64)),
            "dims[1] = B*Hkv = 8589934592 exceeds 2^32");
  // 2^32 itself is allowed.
  EXPECT_TRUE(tensorMapGeometry(spec({"D", "B*Hkv"}), 2,
                                dims(int64_t(1) << 30, 4, 4, 1, 1, 64), g,
                                error))
      << error;
  EXPECT_EQ(geometryError(spec({"D", "N", "B"}), 2,
                          dims(2, 1, 1, 1, int64_t(1) << 20, int64_t(1) << 20)),
            "the stride of dims[2] (dims[0..1] x 2 bytes) reaches 2^40 bytes");
  // Past 64 bits on the way (4 dims of 2^32 - 1 elements).
  EXPECT_TRUE(geometryError(spec({"D", "N", "M", "B"}), 8,
                            dims(4294967295, 1, 1, 4294967295, 4294967295,
                                 4294967296))
                  .find("reaches 2^40") != std::string::npos);
  EXPECT_EQ(geometryError(spec({"D", "N"}), 2, dims(1, 1, 1, 1, 16, 4)),
            "the stride of dims[1] is 8 bytes (dims[0..0] x 2 bytes), not a "
            "multiple of 16");
  EXPECT_EQ(geometryError(spec({"M*N*D"}), 2,
                          dims(1, 1, 1, int64_t(1) << 40, int64_t(1) << 40,
                               1)),
            "dims[0] = M*N*D: overflow in M*N*D");
  EXPECT_EQ(geometryError(TensorMapSpec(), 2, dims(1, 1, 1, 1, 1, 1)),
            "rank 0 is not in [1, 5]");
}

// Property: for any dims, tensorMapGeometry succeeds exactly when every dim
// is in [1, 2^32] and every stride (the product of the dims below it times
// the element size) is a multiple of 16 below 2^40, and then reports those
// dims and strides.
TEST(ArtifactModelTest, TensorMapGeometryProperty) {
  std::mt19937_64 rng(20240611);
  const char *names[] = {"B", "Hq", "Hkv", "M", "N", "D"};
  const unsigned elemBytes[] = {1, 2, 4, 8};
  int ok = 0, failed = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    size_t rank = 1 + rng() % 5;
    std::vector<const char *> d;
    for (size_t i = 0; i < rank; ++i)
      d.push_back(names[rng() % 6]);
    ProblemDims p;
    for (int i = 1; i <= 6; ++i) {
      // Mostly small and 16-friendly values, sometimes 0, odd or huge.
      switch (rng() % 8) {
      case 0:
        p.v[i] = 0;
        break;
      case 1:
        p.v[i] = 1 + rng() % 7;
        break;
      case 2:
        p.v[i] = int64_t(1) << (20 + rng() % 14);
        break;
      default:
        p.v[i] = 8 * (1 + rng() % 512);
      }
    }
    unsigned eb = elemBytes[rng() % 4];
    TensorMapSpec t = spec(d);

    // The reference, in 128-bit arithmetic.
    bool want = true;
    unsigned __int128 stride = eb;
    std::vector<uint64_t> wantStrides;
    for (size_t i = 0; i < rank; ++i) {
      Dim dim;
      ASSERT_TRUE(parseDim(d[i], dim));
      uint64_t v = p[dim];
      want = want && v >= 1 && v <= (uint64_t(1) << 32);
      if (i + 1 < rank) {
        stride *= v;
        want = want && stride % 16 == 0 && stride < (uint64_t(1) << 40);
        wantStrides.push_back(static_cast<uint64_t>(stride));
      }
    }

    TensorMapGeometry g;
    std::string error;
    bool got = tensorMapGeometry(t, eb, p, g, error);
    ASSERT_EQ(got, want) << "iteration " << iter << ": " << error;
    if (!got) {
      EXPECT_FALSE(error.empty());
      ++failed;
      continue;
    }
    ++ok;
    ASSERT_EQ(g.rank, rank);
    for (size_t i = 0; i < rank; ++i) {
      Dim dim;
      parseDim(d[i], dim);
      ASSERT_EQ(g.dims[i], uint64_t(p[dim])) << iter;
      if (i + 1 < rank) {
        ASSERT_EQ(g.strides[i], wantStrides[i]) << iter;
      }
    }
  }
  // Both outcomes are exercised.
  EXPECT_GT(ok, 2000);
  EXPECT_GT(failed, 2000);
}
