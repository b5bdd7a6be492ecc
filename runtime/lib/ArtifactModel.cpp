//===- ArtifactModel.cpp - Names, expressions and constraints -------------===//
//
// The vocabulary of artifacts: chips, op kinds, problem dims and flags, param
// kinds and element types, and the text forms of expressions (grid dims,
// tensor extents) and shape constraints.
//
//===----------------------------------------------------------------------===//

#include "attnqat-runtime/Artifact.h"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace mlir::attnqat::rt {

//===----------------------------------------------------------------------===//
// Tables
//===----------------------------------------------------------------------===//

namespace {

const ChipInfo kChips[] = {
    {"sm_90a", 9, 0, "Hopper (H100, H200)"},
    {"sm_100a", 10, 0, "Blackwell datacenter (B200)"},
    {"sm_120a", 12, 0, "Blackwell consumer (RTX 5090)"},
};

const char *const kOpKinds[] = {
    "attention_forward", "attention_backward", "quantize",
    "dequantize",        "fake_quant",         "runtime_test",
};

const char *const kDimNames[kMaxDim + 1] = {"",  "B", "Hq", "Hkv",
                                            "M", "N", "D",  "SMs"};

struct FlagName {
  uint32_t bit;
  const char *name;
};
const FlagName kFlagNames[] = {
    {FlagCausal, "causal"},
    {FlagAdditiveMask, "additive_mask"},
    {FlagKeyLengths, "key_lengths"},
    {FlagSaveForBackward, "save_for_backward"},
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

} // namespace

const char *artifactErrcName(ArtifactErrc code) {
  switch (code) {
  case ArtifactErrc::None:
    return "ok";
  case ArtifactErrc::Io:
    return "I/O error";
  case ArtifactErrc::NotAnArtifact:
    return "not an attnqat artifact";
  case ArtifactErrc::Version:
    return "unsupported artifact version";
  case ArtifactErrc::Corrupt:
    return "corrupt artifact";
  case ArtifactErrc::Invalid:
    return "invalid artifact";
  }
  return "unknown error";
}

const ChipInfo *findChip(std::string_view tag) {
  for (const ChipInfo &c : kChips)
    if (tag == c.tag)
      return &c;
  return nullptr;
}

const ChipInfo *chipForComputeCapability(int major, int minor) {
  for (const ChipInfo &c : kChips)
    if (c.ccMajor == major && c.ccMinor == minor)
      return &c;
  return nullptr;
}

std::string knownChipList() {
  std::string s;
  for (const ChipInfo &c : kChips) {
    if (!s.empty())
      s += ", ";
    s += c.tag;
  }
  return s;
}

bool isKnownOpKind(std::string_view op) {
  for (const char *k : kOpKinds)
    if (op == k)
      return true;
  return false;
}

std::string knownOpKindList() {
  std::string s;
  for (const char *k : kOpKinds) {
    if (!s.empty())
      s += ", ";
    s += k;
  }
  return s;
}

const char *dimName(Dim d) {
  int i = static_cast<int>(d);
  return i >= 1 && i <= kMaxDim ? kDimNames[i] : "?";
}

bool parseDim(std::string_view name, Dim &out) {
  for (int i = 1; i <= kMaxDim; ++i)
    if (name == kDimNames[i]) {
      out = static_cast<Dim>(i);
      return true;
    }
  return false;
}

std::string flagsToString(uint32_t flags) {
  if (flags == 0)
    return "none";
  std::string s;
  for (const FlagName &f : kFlagNames)
    if (flags & f.bit) {
      if (!s.empty())
        s += ",";
      s += f.name;
      flags &= ~f.bit;
    }
  if (flags) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "0x%x", flags);
    if (!s.empty())
      s += ",";
    s += buf;
  }
  return s;
}

bool parseFlags(std::string_view text, uint32_t &out, std::string &error) {
  out = 0;
  text = trim(text);
  if (text == "none" || text.empty())
    return true;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    bool found = false;
    for (const FlagName &f : kFlagNames)
      if (item == f.name) {
        out |= f.bit;
        found = true;
      }
    if (!found) {
      error = "unknown flag '" + std::string(item) +
              "' (known: causal, additive_mask, key_lengths, "
              "save_for_backward)";
      return false;
    }
    if (comma == std::string_view::npos)
      break;
    text = text.substr(comma + 1);
  }
  return true;
}

const char *paramKindName(ParamKind k) {
  switch (k) {
  case ParamKind::Ptr:
    return "ptr";
  case ParamKind::I32:
    return "i32";
  case ParamKind::I64:
    return "i64";
  case ParamKind::F32:
    return "f32";
  case ParamKind::TensorMap:
    return "tensormap";
  }
  return "?";
}

bool parseParamKind(std::string_view s, ParamKind &out) {
  for (ParamKind k : {ParamKind::Ptr, ParamKind::I32, ParamKind::I64,
                      ParamKind::F32, ParamKind::TensorMap})
    if (s == paramKindName(k)) {
      out = k;
      return true;
    }
  return false;
}

const char *elemTypeName(ElemType t) {
  switch (t) {
  case ElemType::None:
    return "none";
  case ElemType::F32:
    return "f32";
  case ElemType::F16:
    return "f16";
  case ElemType::BF16:
    return "bf16";
  case ElemType::E2M1:
    return "e2m1";
  case ElemType::E4M3:
    return "e4m3";
  case ElemType::E8M0:
    return "e8m0";
  case ElemType::I32:
    return "i32";
  case ElemType::U8:
    return "u8";
  case ElemType::I64:
    return "i64";
  }
  return "?";
}

bool parseElemType(std::string_view s, ElemType &out) {
  for (int i = 0; i <= 9; ++i) {
    ElemType t = static_cast<ElemType>(i);
    if (s == elemTypeName(t)) {
      out = t;
      return true;
    }
  }
  return false;
}

unsigned elemTypeBits(ElemType t) {
  switch (t) {
  case ElemType::None:
    return 0;
  case ElemType::E2M1:
    return 4;
  case ElemType::E4M3:
  case ElemType::E8M0:
  case ElemType::U8:
    return 8;
  case ElemType::F16:
  case ElemType::BF16:
    return 16;
  case ElemType::F32:
  case ElemType::I32:
    return 32;
  case ElemType::I64:
    return 64;
  }
  return 0;
}

const char *accessName(Access a) {
  switch (a) {
  case Access::None:
    return "";
  case Access::In:
    return "in";
  case Access::Out:
    return "out";
  case Access::InOut:
    return "inout";
  }
  return "?";
}

const char *imageFormatName(ImageFormat f) {
  switch (f) {
  case ImageFormat::Ptx:
    return "ptx";
  case ImageFormat::Cubin:
    return "cubin";
  case ImageFormat::Fatbin:
    return "fatbin";
  }
  return "?";
}

bool parseImageFormat(std::string_view s, ImageFormat &out) {
  for (ImageFormat f : {ImageFormat::Ptx, ImageFormat::Cubin,
                        ImageFormat::Fatbin})
    if (s == imageFormatName(f)) {
      out = f;
      return true;
    }
  return false;
}

bool Param::isAutoFilled() const {
  if (kind == ParamKind::Ptr)
    return false;
  if (kind == ParamKind::TensorMap)
    return true;
  Dim d;
  return role == "flags" || (parseDim(role, d) && isProblemDim(d));
}

//===----------------------------------------------------------------------===//
// Tensor maps
//===----------------------------------------------------------------------===//

std::string TensorMapSpec::str() const {
  std::string d, b;
  for (size_t i = 0; i < dims.size(); ++i)
    d += (i ? ", " : "") + dims[i].str();
  for (size_t i = 0; i < box.size(); ++i)
    b += (i ? ", " : "") + std::to_string(box[i]);
  return "of " + of + " dims [" + d + "] box [" + b + "] swizzle " +
         std::to_string(swizzle);
}

unsigned tensorMapElemBytes(ElemType t) {
  switch (t) {
  case ElemType::F32:
  case ElemType::I32:
    return 4;
  case ElemType::F16:
  case ElemType::BF16:
    return 2;
  case ElemType::E4M3:
  case ElemType::E8M0:
  case ElemType::U8:
    return 1;
  case ElemType::I64:
    return 8;
  case ElemType::None:
  case ElemType::E2M1:
    return 0;
  }
  return 0;
}

bool tensorMapGeometry(const TensorMapSpec &spec, unsigned elemBytes,
                       const ProblemDims &problem, TensorMapGeometry &out,
                       std::string &error) {
  out = TensorMapGeometry();
  if (spec.dims.empty() || spec.dims.size() > kTensorMapMaxRank) {
    error = "rank " + std::to_string(spec.dims.size()) + " is not in [1, " +
            std::to_string(kTensorMapMaxRank) + "]";
    return false;
  }
  if (elemBytes == 0) {
    error = "element size 0";
    return false;
  }
  out.rank = spec.dims.size();
  for (size_t i = 0; i < out.rank; ++i) {
    std::string what = "dims[" + std::to_string(i) + "] = " +
                       spec.dims[i].str();
    std::string why;
    uint64_t v;
    if (!spec.dims[i].evaluate(problem, v, why)) {
      error = what + ": " + why;
      return false;
    }
    if (v == 0) {
      error = what + " is 0 for this problem (a tensor map cannot describe "
                     "an empty tensor)";
      return false;
    }
    if (v > kTensorMapMaxDim) {
      error = what + " = " + std::to_string(v) + " exceeds 2^32";
      return false;
    }
    out.dims[i] = v;
  }
  // Contiguous row-major: stride[i] covers dims 0..i.
  uint64_t stride = elemBytes;
  for (size_t i = 0; i + 1 < out.rank; ++i) {
    if (__builtin_mul_overflow(stride, out.dims[i], &stride) ||
        stride >= kTensorMapMaxStride) {
      error = "the stride of dims[" + std::to_string(i + 1) +
              "] (dims[0.." + std::to_string(i) + "] x " +
              std::to_string(elemBytes) + " bytes) reaches 2^40 bytes";
      return false;
    }
    if (stride % 16 != 0) {
      error = "the stride of dims[" + std::to_string(i + 1) + "] is " +
              std::to_string(stride) + " bytes (dims[0.." +
              std::to_string(i) + "] x " + std::to_string(elemBytes) +
              " bytes), not a multiple of 16";
      return false;
    }
    out.strides[i] = stride;
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

namespace {

/// A tiny tokenizer shared by expressions and constraints.
struct Lexer {
  std::string_view s;
  size_t pos = 0;

  void skipSpace() {
    while (pos < s.size() && std::isspace(static_cast<unsigned char>(s[pos])))
      ++pos;
  }
  bool atEnd() {
    skipSpace();
    return pos >= s.size();
  }
  bool consume(std::string_view tok) {
    skipSpace();
    if (s.substr(pos, tok.size()) == tok) {
      pos += tok.size();
      return true;
    }
    return false;
  }
  bool peekIdent(std::string_view &out) {
    skipSpace();
    size_t p = pos;
    if (p < s.size() &&
        (std::isalpha(static_cast<unsigned char>(s[p])) || s[p] == '_')) {
      while (p < s.size() &&
             (std::isalnum(static_cast<unsigned char>(s[p])) || s[p] == '_'))
        ++p;
      out = s.substr(pos, p - pos);
      return true;
    }
    return false;
  }
  bool ident(std::string_view &out) {
    if (!peekIdent(out))
      return false;
    pos += out.size();
    return true;
  }
  /// Non-negative integer below 2^62.
  bool integer(int64_t &out) {
    skipSpace();
    size_t p = pos;
    int64_t v = 0;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
      v = v * 10 + (s[p] - '0');
      if (v >= (int64_t(1) << 62))
        return false;
      ++p;
    }
    if (p == pos)
      return false;
    pos = p;
    out = v;
    return true;
  }
  std::string rest() {
    skipSpace();
    return std::string(s.substr(pos));
  }
};

bool parseDimToken(Lexer &lx, Dim &d, std::string &error) {
  std::string_view id;
  if (!lx.ident(id))
    return false;
  if (!parseDim(id, d)) {
    error = "unknown dim '" + std::string(id) +
            "' (known: B, Hq, Hkv, M, N, D, SMs)";
    return false;
  }
  return true;
}

/// item := INT | DIM; multiplies into `f`.
bool parseItem(Lexer &lx, ExprFactor &f, std::string &error) {
  int64_t v;
  if (lx.integer(v)) {
    if (v == 0) {
      error = "a factor of 0 is not allowed";
      return false;
    }
    if (__builtin_mul_overflow(f.multiplier, static_cast<uint64_t>(v),
                               &f.multiplier) ||
        f.multiplier >= (uint64_t(1) << 62)) {
      error = "constant too large";
      return false;
    }
    return true;
  }
  Dim d;
  std::string_view id;
  if (lx.peekIdent(id) && id != "ceil") {
    if (!parseDimToken(lx, d, error))
      return false;
    f.dims.push_back(d);
    return true;
  }
  if (error.empty())
    error = "expected a number or a dim at '" + lx.rest() + "'";
  return false;
}

std::string factorString(const ExprFactor &f) {
  std::string body;
  if (f.multiplier != 1 || f.dims.empty())
    body = std::to_string(f.multiplier);
  for (Dim d : f.dims) {
    if (!body.empty())
      body += "*";
    body += dimName(d);
  }
  if (f.divisor == 1)
    return body;
  return "ceil(" + body + "/" + std::to_string(f.divisor) + ")";
}

} // namespace

std::string Expr::str() const {
  if (factors.empty())
    return "1";
  std::string s;
  for (const ExprFactor &f : factors) {
    if (!s.empty())
      s += "*";
    s += factorString(f);
  }
  return s;
}

bool Expr::parse(std::string_view text, Expr &out, std::string &error) {
  out.factors.clear();
  Lexer lx{text};
  if (lx.atEnd()) {
    error = "empty expression";
    return false;
  }
  int plainIndex = -1;
  do {
    if (lx.consume("ceil")) {
      if (!lx.consume("(")) {
        error = "expected '(' after ceil";
        return false;
      }
      ExprFactor f;
      do {
        if (!parseItem(lx, f, error))
          return false;
      } while (lx.consume("*"));
      int64_t div;
      if (!lx.consume("/") || !lx.integer(div)) {
        error = "expected '/ <integer>' in ceil(...) at '" + lx.rest() + "'";
        return false;
      }
      if (div == 0) {
        error = "division by zero in ceil(...)";
        return false;
      }
      if (!lx.consume(")")) {
        error = "expected ')' at '" + lx.rest() + "'";
        return false;
      }
      f.divisor = static_cast<uint64_t>(div);
      out.factors.push_back(std::move(f));
      continue;
    }
    if (plainIndex < 0) {
      plainIndex = static_cast<int>(out.factors.size());
      out.factors.emplace_back();
    }
    if (!parseItem(lx, out.factors[plainIndex], error))
      return false;
  } while (lx.consume("*"));
  if (!lx.atEnd()) {
    error = "unexpected '" + lx.rest() + "' in expression";
    return false;
  }
  // Drop factors that are the constant 1.
  std::vector<ExprFactor> kept;
  for (ExprFactor &f : out.factors)
    if (!(f.multiplier == 1 && f.divisor == 1 && f.dims.empty()))
      kept.push_back(std::move(f));
  out.factors = std::move(kept);
  return true;
}

bool Expr::evaluate(const ProblemDims &dims, uint64_t &out,
                    std::string &error) const {
  const uint64_t limit = uint64_t(INT64_MAX);
  uint64_t product = 1;
  for (const ExprFactor &f : factors) {
    uint64_t num = f.multiplier;
    for (Dim d : f.dims) {
      int64_t v = dims[d];
      if (v < 0) {
        error = std::string(dimName(d)) + " is negative";
        return false;
      }
      if (__builtin_mul_overflow(num, static_cast<uint64_t>(v), &num) ||
          num > limit) {
        error = "overflow in " + factorString(f);
        return false;
      }
    }
    if (f.divisor == 0) {
      error = "division by zero in " + factorString(f);
      return false;
    }
    uint64_t val = num / f.divisor + (num % f.divisor != 0);
    if (__builtin_mul_overflow(product, val, &product) || product > limit) {
      error = "overflow in " + str();
      return false;
    }
  }
  out = product;
  return true;
}

//===----------------------------------------------------------------------===//
// Constraints
//===----------------------------------------------------------------------===//

std::string Constraint::str() const {
  auto rhs = [&]() -> std::string {
    if (values.empty())
      return "?";
    return rhsIsDim ? dimName(static_cast<Dim>(values[0]))
                    : std::to_string(values[0]);
  };
  std::string l = dimName(lhs);
  switch (op) {
  case ConstraintOp::Eq:
    return l + " == " + rhs();
  case ConstraintOp::Le:
    return l + " <= " + rhs();
  case ConstraintOp::Ge:
    return l + " >= " + rhs();
  case ConstraintOp::MultipleOf:
    return l + " % " + rhs() + " == 0";
  case ConstraintOp::In: {
    std::string s = l + " in {";
    for (size_t i = 0; i < values.size(); ++i)
      s += (i ? "," : "") + std::to_string(values[i]);
    return s + "}";
  }
  }
  return "?";
}

bool Constraint::parse(std::string_view text, Constraint &out,
                       std::string &error) {
  out = Constraint();
  Lexer lx{text};
  if (!parseDimToken(lx, out.lhs, error)) {
    if (error.empty())
      error = "expected a dim at the start of '" + std::string(text) + "'";
    return false;
  }
  auto parseRhs = [&]() {
    int64_t v;
    if (lx.integer(v)) {
      out.values = {v};
      return true;
    }
    Dim d;
    if (parseDimToken(lx, d, error)) {
      out.rhsIsDim = true;
      out.values = {static_cast<int64_t>(d)};
      return true;
    }
    if (error.empty())
      error = "expected a number or a dim at '" + lx.rest() + "'";
    return false;
  };
  if (lx.consume("in")) {
    out.op = ConstraintOp::In;
    if (!lx.consume("{")) {
      error = "expected '{' after 'in'";
      return false;
    }
    do {
      int64_t v;
      if (!lx.integer(v)) {
        error = "expected an integer in '{...}' at '" + lx.rest() + "'";
        return false;
      }
      out.values.push_back(v);
    } while (lx.consume(","));
    if (!lx.consume("}")) {
      error = "expected '}' at '" + lx.rest() + "'";
      return false;
    }
  } else if (lx.consume("%")) {
    out.op = ConstraintOp::MultipleOf;
    if (!parseRhs())
      return false;
    int64_t zero;
    if (!lx.consume("==") || !lx.integer(zero) || zero != 0) {
      error = "expected '== 0' after '%' in '" + std::string(text) + "'";
      return false;
    }
    if (!out.rhsIsDim && out.values[0] == 0) {
      error = "'% 0' is not allowed";
      return false;
    }
  } else if (lx.consume("==")) {
    out.op = ConstraintOp::Eq;
    if (!parseRhs())
      return false;
  } else if (lx.consume("<=")) {
    out.op = ConstraintOp::Le;
    if (!parseRhs())
      return false;
  } else if (lx.consume(">=")) {
    out.op = ConstraintOp::Ge;
    if (!parseRhs())
      return false;
  } else {
    error = "expected 'in', '%', '==', '<=' or '>=' in '" + std::string(text) +
            "'";
    return false;
  }
  if (!lx.atEnd()) {
    error = "unexpected '" + lx.rest() + "' in constraint";
    return false;
  }
  return true;
}

bool Constraint::holds(const ProblemDims &dims) const {
  if (values.empty())
    return false;
  int64_t l = dims[lhs];
  int64_t r = rhsIsDim ? dims[static_cast<Dim>(values[0])] : values[0];
  switch (op) {
  case ConstraintOp::Eq:
    return l == r;
  case ConstraintOp::Le:
    return l <= r;
  case ConstraintOp::Ge:
    return l >= r;
  case ConstraintOp::MultipleOf:
    return r != 0 && l % r == 0;
  case ConstraintOp::In:
    for (int64_t v : values)
      if (l == v)
        return true;
    return false;
  }
  return false;
}

//===----------------------------------------------------------------------===//
// Lookups
//===----------------------------------------------------------------------===//

std::string LaunchVariant::gridString() const {
  return grid[0].str() + " x " + grid[1].str() + " x " + grid[2].str();
}

const LaunchVariant *Kernel::variantFor(std::string_view chip) const {
  for (const LaunchVariant &v : variants)
    if (v.chip == chip)
      return &v;
  return nullptr;
}

const Param *Kernel::param(std::string_view role) const {
  for (const Param &p : params)
    if (p.role == role)
      return &p;
  return nullptr;
}

const Kernel *Artifact::kernel(std::string_view name) const {
  for (const Kernel &k : kernels)
    if (k.name == name)
      return &k;
  return nullptr;
}

std::vector<std::string> Artifact::chips() const {
  std::vector<std::string> out;
  for (const ChipInfo &c : kChips) {
    bool used = false;
    for (const Kernel &k : kernels)
      used = used || k.variantFor(c.tag);
    if (used)
      out.push_back(c.tag);
  }
  return out;
}

} // namespace mlir::attnqat::rt
