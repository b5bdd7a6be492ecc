//===- ArtifactModelTest.cpp - Expressions, constraints, names ------------===//

#include "attnqat-runtime/Artifact.h"

#include "gtest/gtest.h"

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
}
