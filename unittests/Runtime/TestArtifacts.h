//===- TestArtifacts.h - Artifacts built in memory for tests ----*- C++ -*-===//
//
// A small attention-like artifact: fake PTX images (real PTX syntax, empty
// bodies) for sm_90a and sm_100a, a forward kernel on both chips, a quantize
// kernel on sm_90a only and a tcgen05 kernel on sm_100a only. And one with a
// kernel that takes a TMA tensor map.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_UNITTESTS_RUNTIME_TESTARTIFACTS_H
#define ATTNQAT_UNITTESTS_RUNTIME_TESTARTIFACTS_H

#include "attnqat-runtime/Artifact.h"

#include <string>
#include <utility>
#include <vector>

namespace attnqat_test {

using namespace mlir::attnqat::rt;

/// PTX text with one empty .entry per (name, param PTX types); the type
/// "tensormap" declares a 128-byte `.align 64 .b8` grid constant.
inline std::string fakePtx(
    const std::string &chip,
    const std::vector<std::pair<std::string, std::vector<std::string>>>
        &entries) {
  std::string s = "//\n// fake PTX for runtime tests\n//\n.version 8.0\n"
                  ".target " +
                  chip + "\n.address_size 64\n\n";
  for (const auto &e : entries) {
    s += ".visible .entry " + e.first + "(\n";
    for (size_t i = 0; i < e.second.size(); ++i) {
      bool map = e.second[i] == "tensormap";
      s += "\t.param ." + (map ? "align 64 .b8" : e.second[i]) + " " +
           e.first + "_param_" + std::to_string(i) + (map ? "[128]" : "") +
           (i + 1 < e.second.size() ? ",\n" : "\n");
    }
    s += ")\n{\n\tret;\n}\n\n";
  }
  return s;
}

inline std::vector<uint8_t> bytesOf(const std::string &s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

inline Expr expr(const char *text) {
  Expr e;
  std::string error;
  Expr::parse(text, e, error);
  return e;
}

inline Constraint constraint(const char *text) {
  Constraint c;
  std::string error;
  Constraint::parse(text, c, error);
  return c;
}

inline Param ptr(const char *role, ElemType elem, Access access,
                 const char *extent, uint32_t align = 16,
                 const char *layout = "") {
  Param p;
  p.kind = ParamKind::Ptr;
  p.elem = elem;
  p.access = access;
  p.align = align;
  p.role = role;
  p.layout = layout;
  p.hasExtent = extent != nullptr;
  if (extent)
    p.extent = expr(extent);
  return p;
}

inline Param scalar(const char *role, ParamKind kind) {
  Param p;
  p.kind = kind;
  p.role = role;
  return p;
}

inline Param tensorMap(const char *role, const char *of,
                       const std::vector<const char *> &dims,
                       std::vector<uint32_t> box, uint32_t swizzle) {
  Param p;
  p.kind = ParamKind::TensorMap;
  p.role = role;
  p.tensorMap.of = of;
  for (const char *d : dims)
    p.tensorMap.dims.push_back(expr(d));
  p.tensorMap.box = std::move(box);
  p.tensorMap.swizzle = swizzle;
  return p;
}

inline LaunchVariant variant(const char *chip, uint32_t image,
                             const char *gx, const char *gy, const char *gz,
                             std::array<uint32_t, 3> block,
                             uint32_t smem = 0,
                             std::array<uint32_t, 3> cluster = {1, 1, 1}) {
  LaunchVariant v;
  v.chip = chip;
  v.image = image;
  v.grid = {expr(gx), expr(gy), expr(gz)};
  v.block = block;
  v.cluster = cluster;
  v.dynamicSharedBytes = smem;
  return v;
}

// Forward signature: q k v o lse (pointers), scale (f32), B Hq Hkv M (i32),
// N (i64), D (i32), flags (i32).
inline const std::vector<std::string> &fwdPtxParams() {
  static const std::vector<std::string> p = {
      "u64", "u64", "u64", "u64", "u64", "f32", "u32",
      "u32", "u32", "u32", "u64", "u32", "u32"};
  return p;
}

inline Artifact sampleArtifact() {
  Artifact a;
  Image h;
  h.label = "attn_sm90a";
  h.chip = "sm_90a";
  h.format = ImageFormat::Ptx;
  h.data = bytesOf(fakePtx(
      "sm_90a", {{"attnqat_fwd_qat_d128", fwdPtxParams()},
                 {"attnqat_quantize_nvfp4",
                  {"u64", "u64", "u64", "f32", "u32", "u32"}}}));
  Image b;
  b.label = "attn_sm100a";
  b.chip = "sm_100a";
  b.format = ImageFormat::Ptx;
  b.data = bytesOf(fakePtx("sm_100a",
                           {{"attnqat_fwd_qat_d128", fwdPtxParams()},
                            {"attnqat_fwd_tcgen05", {"u64"}}}));
  a.images = {h, b};

  Kernel fwd;
  fwd.name = "attnqat_fwd_qat_d128";
  fwd.op = "attention_forward";
  fwd.config = "mode=qat p=nvfp4 p_scale=two_level";
  fwd.flags = FlagCausal | FlagSaveForBackward;
  fwd.params = {
      ptr("q", ElemType::BF16, Access::In, "B*Hq*M*D", 16,
          "[B,Hq,M,D] row-major"),
      ptr("k", ElemType::BF16, Access::In, "B*Hkv*N*D"),
      ptr("v", ElemType::BF16, Access::In, "B*Hkv*N*D"),
      ptr("o", ElemType::BF16, Access::Out, "B*Hq*M*D"),
      ptr("lse", ElemType::F32, Access::Out, "B*Hq*M"),
      scalar("scale", ParamKind::F32),
      scalar("B", ParamKind::I32),
      scalar("Hq", ParamKind::I32),
      scalar("Hkv", ParamKind::I32),
      scalar("M", ParamKind::I32),
      scalar("N", ParamKind::I64),
      scalar("D", ParamKind::I32),
      scalar("flags", ParamKind::I32),
  };
  fwd.constraints = {constraint("D in {64,128}"), constraint("N <= 1048576")};
  fwd.variants = {
      variant("sm_90a", 0, "ceil(M/128)", "Hq", "B", {384, 1, 1}, 200704),
      variant("sm_100a", 1, "ceil(M/256)*Hq", "B", "1", {512, 1, 1}, 100000,
              {1, 1, 1}),
  };

  Kernel q;
  q.name = "attnqat_quantize_nvfp4";
  q.op = "quantize";
  q.config = "format=nvfp4 block=16 axis=D";
  q.params = {
      ptr("x", ElemType::BF16, Access::In, "M*D"),
      ptr("codes", ElemType::E2M1, Access::Out, "M*D", 16,
          "[M,D] codes packed 2/byte, low nibble first"),
      ptr("scales", ElemType::E4M3, Access::Out, "M*ceil(D/16)", 16,
          "[M,D/16] E4M3, block axis D"),
      scalar("global_scale", ParamKind::F32),
      scalar("M", ParamKind::I32),
      scalar("D", ParamKind::I32),
  };
  q.constraints = {constraint("D % 16 == 0"), constraint("M >= 1")};
  q.variants = {variant("sm_90a", 0, "SMs", "1", "1", {256, 1, 1})};

  Kernel t;
  t.name = "attnqat_fwd_tcgen05";
  t.op = "attention_forward";
  t.config = "mode=fp4";
  t.params = {ptr("o", ElemType::BF16, Access::Out, nullptr)};
  t.variants = {variant("sm_100a", 1, "2", "1", "1", {128, 1, 1}, 0,
                        {2, 1, 1})};
  a.kernels = {fwd, q, t};
  return a;
}

/// One sm_90a kernel, attnqat_fwd_tma(q, k, k_map, o, scale, B, Hq, Hkv, M,
/// N, D), whose k_map (param 2) maps k as [B*Hkv, N, D] in 64x64 boxes with
/// the 128-byte swizzle.
inline Artifact tensorMapArtifact() {
  Artifact a;
  Image img;
  img.label = "tma_sm90a";
  img.chip = "sm_90a";
  img.format = ImageFormat::Ptx;
  img.data = bytesOf(fakePtx(
      "sm_90a", {{"attnqat_fwd_tma",
                  {"u64", "u64", "tensormap", "u64", "f32", "u32", "u32",
                   "u32", "u32", "u32", "u32"}}}));
  a.images = {img};
  Kernel k;
  k.name = "attnqat_fwd_tma";
  k.op = "attention_forward";
  k.config = "mode=dropin tma";
  k.params = {
      ptr("q", ElemType::BF16, Access::In, "B*Hq*M*D"),
      ptr("k", ElemType::BF16, Access::In, "B*Hkv*N*D"),
      tensorMap("k_map", "k", {"D", "N", "B*Hkv"}, {64, 64, 1}, 128),
      ptr("o", ElemType::BF16, Access::Out, "B*Hq*M*D"),
      scalar("scale", ParamKind::F32),
      scalar("B", ParamKind::I32),
      scalar("Hq", ParamKind::I32),
      scalar("Hkv", ParamKind::I32),
      scalar("M", ParamKind::I32),
      scalar("N", ParamKind::I32),
      scalar("D", ParamKind::I32),
  };
  k.constraints = {constraint("D in {64,128}")};
  k.variants = {
      variant("sm_90a", 0, "ceil(M/128)", "Hq", "B", {128, 1, 1}, 65536)};
  a.kernels = {k};
  return a;
}

inline std::vector<uint8_t> sampleBytes() {
  std::vector<uint8_t> out;
  serializeArtifactUnchecked(sampleArtifact(), out);
  return out;
}

} // namespace attnqat_test

#endif // ATTNQAT_UNITTESTS_RUNTIME_TESTARTIFACTS_H
