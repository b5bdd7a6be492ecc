//===- ArtifactIO.cpp - Artifact serialization, parsing and validation ----===//
//
// The byte layout is documented in Artifact.h and docs/runtime.md. Reading
// checks, in this order: magic (foreign files are named), byte order, format
// version, header size, header CRC, declared total size against the real
// size, feature flags, payload CRC, every record's framing, and finally the
// semantic checks of validateArtifact. Every failure is an ArtifactError with
// a message; nothing aborts and nothing reads out of bounds.
//
//===----------------------------------------------------------------------===//

#include "attnqat-runtime/Artifact.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <unistd.h>

namespace mlir::attnqat::rt {

//===----------------------------------------------------------------------===//
// CRC-32
//===----------------------------------------------------------------------===//

namespace {
struct Crc32Table {
  uint32_t t[256];
  Crc32Table() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
  }
};
} // namespace

uint32_t crc32(const uint8_t *data, size_t size, uint32_t previous) {
  static const Crc32Table table;
  uint32_t c = previous ^ 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i)
    c = table.t[(c ^ data[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

namespace {

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

//===----------------------------------------------------------------------===//
// Little-endian writer and bounds-checked reader
//===----------------------------------------------------------------------===//

struct ByteWriter {
  std::vector<uint8_t> &b;

  void u8(uint8_t v) { b.push_back(v); }
  void u16(uint16_t v) {
    for (int i = 0; i < 2; ++i)
      b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i)
      b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i)
      b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void bytes(const void *p, size_t n) {
    const uint8_t *c = static_cast<const uint8_t *>(p);
    b.insert(b.end(), c, c + n);
  }
  void str(const std::string &s) {
    u32(static_cast<uint32_t>(s.size()));
    bytes(s.data(), s.size());
  }
  void expr(const Expr &e) {
    u32(static_cast<uint32_t>(e.factors.size()));
    for (const ExprFactor &f : e.factors) {
      u64(f.multiplier);
      u64(f.divisor);
      u32(static_cast<uint32_t>(f.dims.size()));
      for (Dim d : f.dims)
        u8(static_cast<uint8_t>(d));
    }
  }
};

void putU32(std::vector<uint8_t> &b, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}
void putU64(std::vector<uint8_t> &b, size_t off, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    b[off + i] = static_cast<uint8_t>(v >> (8 * i));
}
uint16_t getU16(const uint8_t *p) { return uint16_t(p[0] | (p[1] << 8)); }
uint32_t getU32(const uint8_t *p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) |
         (uint32_t(p[3]) << 24);
}
uint64_t getU64(const uint8_t *p) {
  return uint64_t(getU32(p)) | (uint64_t(getU32(p + 4)) << 32);
}

/// Reads from data[begin, end); `base` is the file offset of data[0], used in
/// messages. After the first failure every read returns zero and `ok` stays
/// false.
struct ByteReader {
  const uint8_t *data;
  size_t pos, end;
  bool ok = true;
  std::string error;

  bool need(size_t n, const char *what) {
    if (!ok)
      return false;
    if (end - pos < n) {
      ok = false;
      error = std::string(what) + " at offset " + std::to_string(pos) +
              " needs " + std::to_string(n) + " bytes, " +
              std::to_string(end - pos) + " left in the record";
      return false;
    }
    return true;
  }
  uint8_t u8(const char *what) {
    if (!need(1, what))
      return 0;
    return data[pos++];
  }
  uint32_t u32(const char *what) {
    if (!need(4, what))
      return 0;
    uint32_t v = getU32(data + pos);
    pos += 4;
    return v;
  }
  uint64_t u64(const char *what) {
    if (!need(8, what))
      return 0;
    uint64_t v = getU64(data + pos);
    pos += 8;
    return v;
  }
  std::string str(const char *what) {
    uint32_t n = u32(what);
    if (!need(n, what))
      return {};
    std::string s(reinterpret_cast<const char *>(data + pos), n);
    pos += n;
    return s;
  }
  /// A count of items of at least `minItemBytes` each, bounded by what is
  /// left (so a corrupt count cannot make us allocate much).
  uint32_t count(const char *what, size_t minItemBytes) {
    uint32_t n = u32(what);
    if (ok && uint64_t(n) * minItemBytes > end - pos) {
      ok = false;
      error = std::string(what) + " " + std::to_string(n) + " at offset " +
              std::to_string(pos - 4) + " exceeds the record";
      return 0;
    }
    return n;
  }
  /// Marks the record malformed for a reason other than its length.
  void fail(std::string message) {
    if (!ok)
      return;
    ok = false;
    error = std::move(message);
  }
  Expr expr(const char *what) {
    Expr e;
    uint32_t n = count(what, 20);
    for (uint32_t i = 0; i < n && ok; ++i) {
      ExprFactor f;
      f.multiplier = u64(what);
      f.divisor = u64(what);
      uint32_t nd = count(what, 1);
      for (uint32_t j = 0; j < nd && ok; ++j)
        f.dims.push_back(static_cast<Dim>(u8(what)));
      e.factors.push_back(std::move(f));
    }
    return e;
  }
};

//===----------------------------------------------------------------------===//
// Record bodies
//===----------------------------------------------------------------------===//

void writeImage(ByteWriter &w, const Image &img) {
  w.str(img.label);
  w.str(img.chip);
  w.u32(static_cast<uint32_t>(img.format));
  w.u64(img.data.size());
  w.bytes(img.data.data(), img.data.size());
}

void readImage(ByteReader &r, Image &img) {
  img.label = r.str("image label");
  img.chip = r.str("image chip");
  img.format = static_cast<ImageFormat>(r.u32("image format"));
  uint64_t n = r.u64("image size");
  if (!r.need(n, "image data"))
    return;
  img.data.assign(r.data + r.pos, r.data + r.pos + n);
  r.pos += n;
}

void writeKernel(ByteWriter &w, const Kernel &k) {
  w.str(k.name);
  w.str(k.op);
  w.str(k.config);
  w.u32(k.flags);
  w.u32(static_cast<uint32_t>(k.params.size()));
  for (const Param &p : k.params) {
    w.u8(static_cast<uint8_t>(p.kind));
    w.u8(static_cast<uint8_t>(p.elem));
    w.u8(static_cast<uint8_t>(p.access));
    w.u8(p.hasExtent ? 1 : 0);
    w.u32(p.align);
    w.str(p.role);
    w.str(p.layout);
    w.expr(p.hasExtent ? p.extent : Expr());
  }
  w.u32(static_cast<uint32_t>(k.constraints.size()));
  for (const Constraint &c : k.constraints) {
    w.u8(static_cast<uint8_t>(c.lhs));
    w.u8(static_cast<uint8_t>(c.op));
    w.u8(c.rhsIsDim ? 1 : 0);
    w.u8(0);
    w.u32(static_cast<uint32_t>(c.values.size()));
    for (int64_t v : c.values)
      w.u64(static_cast<uint64_t>(v));
  }
  w.u32(static_cast<uint32_t>(k.variants.size()));
  for (const LaunchVariant &v : k.variants) {
    w.str(v.chip);
    w.u32(v.image);
    for (const Expr &e : v.grid)
      w.expr(e);
    for (uint32_t b : v.block)
      w.u32(b);
    for (uint32_t c : v.cluster)
      w.u32(c);
    w.u32(v.dynamicSharedBytes);
  }
  // 1.1: the tensor-map specs, after every 1.0 field.
  uint32_t maps = 0;
  for (const Param &p : k.params)
    maps += p.kind == ParamKind::TensorMap;
  w.u32(maps);
  for (size_t i = 0; i < k.params.size(); ++i) {
    const Param &p = k.params[i];
    if (p.kind != ParamKind::TensorMap)
      continue;
    const TensorMapSpec &t = p.tensorMap;
    w.u32(static_cast<uint32_t>(i));
    w.str(t.of);
    w.u32(static_cast<uint32_t>(t.dims.size()));
    for (const Expr &e : t.dims)
      w.expr(e);
    // As many boxes as dims (validation makes them equal; the unchecked
    // writer pads or cuts, so the record stays parseable).
    for (size_t j = 0; j < t.dims.size(); ++j)
      w.u32(j < t.box.size() ? t.box[j] : 0);
    w.u32(t.swizzle);
  }
}

/// The 1.1 tail of a kernel record: the specs of its TensorMap params.
void readTensorMaps(ByteReader &r, Kernel &k) {
  uint32_t n = r.count("tensor map count", 16);
  std::vector<bool> seen(k.params.size(), false);
  for (uint32_t i = 0; i < n && r.ok; ++i) {
    uint32_t index = r.u32("tensor map param index");
    TensorMapSpec t;
    t.of = r.str("tensor map source role");
    uint32_t rank = r.count("tensor map rank", 8);
    for (uint32_t j = 0; j < rank && r.ok; ++j)
      t.dims.push_back(r.expr("tensor map dim"));
    for (uint32_t j = 0; j < rank && r.ok; ++j)
      t.box.push_back(r.u32("tensor map box"));
    t.swizzle = r.u32("tensor map swizzle");
    if (!r.ok)
      return;
    std::string what = "tensor map spec #" + std::to_string(i);
    if (index >= k.params.size())
      return r.fail(what + " names param #" + std::to_string(index) +
                    " of " + std::to_string(k.params.size()));
    Param &p = k.params[index];
    if (p.kind != ParamKind::TensorMap)
      return r.fail(what + " names param #" + std::to_string(index) + " '" +
                    p.role + "', which is not a tensormap param");
    if (seen[index])
      return r.fail(what + " describes param #" + std::to_string(index) +
                    " '" + p.role + "' a second time");
    seen[index] = true;
    p.tensorMap = std::move(t);
  }
}

void readKernel(ByteReader &r, Kernel &k, uint16_t minor) {
  k.name = r.str("kernel name");
  k.op = r.str("kernel op");
  k.config = r.str("kernel config");
  k.flags = r.u32("kernel flags");
  uint32_t np = r.count("param count", 16);
  for (uint32_t i = 0; i < np && r.ok; ++i) {
    Param p;
    p.kind = static_cast<ParamKind>(r.u8("param kind"));
    p.elem = static_cast<ElemType>(r.u8("param element type"));
    p.access = static_cast<Access>(r.u8("param access"));
    p.hasExtent = r.u8("param extent flag") != 0;
    p.align = r.u32("param alignment");
    p.role = r.str("param role");
    p.layout = r.str("param layout");
    p.extent = r.expr("param extent");
    k.params.push_back(std::move(p));
  }
  uint32_t nc = r.count("constraint count", 8);
  for (uint32_t i = 0; i < nc && r.ok; ++i) {
    Constraint c;
    c.lhs = static_cast<Dim>(r.u8("constraint dim"));
    c.op = static_cast<ConstraintOp>(r.u8("constraint op"));
    c.rhsIsDim = r.u8("constraint rhs kind") != 0;
    r.u8("constraint padding");
    uint32_t nv = r.count("constraint value count", 8);
    for (uint32_t j = 0; j < nv && r.ok; ++j)
      c.values.push_back(static_cast<int64_t>(r.u64("constraint value")));
    k.constraints.push_back(std::move(c));
  }
  uint32_t nv = r.count("launch variant count", 40);
  for (uint32_t i = 0; i < nv && r.ok; ++i) {
    LaunchVariant v;
    v.chip = r.str("launch chip");
    v.image = r.u32("launch image index");
    for (Expr &e : v.grid)
      e = r.expr("grid expression");
    for (uint32_t &b : v.block)
      b = r.u32("block dim");
    for (uint32_t &c : v.cluster)
      c = r.u32("cluster dim");
    v.dynamicSharedBytes = r.u32("dynamic shared memory");
    k.variants.push_back(std::move(v));
  }
  if (minor >= 1 && r.ok && r.pos < r.end)
    readTensorMaps(r, k);
}

//===----------------------------------------------------------------------===//
// Image content checks
//===----------------------------------------------------------------------===//

bool isIdentifier(const std::string &s) {
  if (s.empty())
    return false;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    bool ok = std::isalpha(c) || c == '_' || c == '$' ||
              (i > 0 && std::isdigit(c));
    if (!ok)
      return false;
  }
  return true;
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/// The target of a PTX image (".target sm_90a[, ...]"), or "" when there is
/// no .target directive.
std::string ptxTarget(std::string_view ptx) {
  size_t at = 0;
  while ((at = ptx.find(".target", at)) != std::string_view::npos) {
    size_t p = at + 7;
    if (p < ptx.size() && isSpace(ptx[p])) {
      while (p < ptx.size() && isSpace(ptx[p]))
        ++p;
      size_t q = p;
      while (q < ptx.size() &&
             (std::isalnum(static_cast<unsigned char>(ptx[q])) || ptx[q] == '_'))
        ++q;
      return std::string(ptx.substr(p, q - p));
    }
    at = p;
  }
  return "";
}

bool ptxHasEntry(std::string_view ptx, const std::string &name) {
  size_t at = 0;
  while ((at = ptx.find(".entry", at)) != std::string_view::npos) {
    size_t p = at + 6;
    at = p;
    if (p >= ptx.size() || !isSpace(ptx[p]))
      continue;
    while (p < ptx.size() && isSpace(ptx[p]))
      ++p;
    if (ptx.substr(p, name.size()) != name)
      continue;
    size_t q = p + name.size();
    if (q >= ptx.size() || ptx[q] == '(' || isSpace(ptx[q]))
      return true;
  }
  return false;
}

bool bytesContain(const std::vector<uint8_t> &data, const std::string &needle) {
  if (needle.size() > data.size())
    return false;
  return memmem(data.data(), data.size(), needle.c_str(), needle.size() + 1) !=
         nullptr;
}

ArtifactError invalid(std::string msg) {
  return ArtifactError::make(ArtifactErrc::Invalid, std::move(msg));
}

ArtifactError validateImage(const Image &img) {
  const std::string what = "image '" + img.label + "'";
  if (!findChip(img.chip))
    return invalid(what + ": unknown chip tag '" + img.chip +
                   "' (known: " + knownChipList() + ")");
  if (img.data.empty())
    return invalid(what + " is empty");
  switch (img.format) {
  case ImageFormat::Ptx: {
    size_t n = img.data.size();
    while (n > 0 && img.data[n - 1] == 0)
      --n;
    std::string_view ptx(reinterpret_cast<const char *>(img.data.data()), n);
    if (ptx.find('\0') != std::string_view::npos)
      return invalid(what + " is tagged PTX but contains NUL bytes");
    std::string target = ptxTarget(ptx);
    if (target.empty())
      return invalid(what + " is tagged PTX but has no .target directive");
    if (target != img.chip)
      return invalid(what + " is PTX for " + target + " but is tagged " +
                     img.chip);
    return ArtifactError::ok();
  }
  case ImageFormat::Cubin: {
    const auto &d = img.data;
    if (d.size() < 64 || d[0] != 0x7F || d[1] != 'E' || d[2] != 'L' ||
        d[3] != 'F' || d[4] != 2 /*ELFCLASS64*/)
      return invalid(what + " is tagged cubin but is not a 64-bit ELF file");
    if (getU16(d.data() + 18) != 190 /*EM_CUDA*/)
      return invalid(what + " is an ELF file but not a CUDA cubin (e_machine " +
                     std::to_string(getU16(d.data() + 18)) + ", expected 190)");
    return ArtifactError::ok();
  }
  case ImageFormat::Fatbin:
    if (img.data.size() < 16 || getU32(img.data.data()) != 0xBA55ED50u)
      return invalid(what + " is tagged fatbin but lacks the fatbin magic");
    return ArtifactError::ok();
  }
  return invalid(what + ": unknown image format " +
                 std::to_string(static_cast<uint32_t>(img.format)));
}

bool validExpr(const Expr &e, bool allowSMs) {
  for (const ExprFactor &f : e.factors) {
    if (f.multiplier == 0 || f.divisor == 0)
      return false;
    for (Dim d : f.dims) {
      int i = static_cast<int>(d);
      if (i < 1 || i > kMaxDim || (!allowSMs && d == Dim::SMs))
        return false;
    }
  }
  return true;
}

ArtifactError validateTensorMap(const Kernel &k, const Param &p,
                                const std::string &pw) {
  const TensorMapSpec &t = p.tensorMap;
  if (p.elem != ElemType::None || p.access != Access::None || p.align != 0 ||
      p.hasExtent)
    return invalid(pw + ": a tensor map has no element type, access, "
                        "alignment or extent (its source pointer has them)");
  if (t.of.empty())
    return invalid(pw + ": tensormap param has no tensor map spec (the "
                        "pointer it maps, dims, box, swizzle)");
  const Param *src = k.param(t.of);
  if (!src)
    return invalid(pw + ": tensor map of '" + t.of +
                   "': the kernel has no such param");
  if (src->kind != ParamKind::Ptr)
    return invalid(pw + ": tensor map of '" + t.of + "': a " +
                   paramKindName(src->kind) + ", not a pointer");
  if (src->align < 16) // TMA reads from 16-byte aligned addresses
    return invalid(pw + ": tensor map of '" + t.of + "': the pointer must be "
                   "16-byte aligned for TMA, but it declares align " +
                   std::to_string(src->align));
  unsigned bytes = tensorMapElemBytes(src->elem);
  if (bytes == 0)
    return invalid(pw + ": tensor map of '" + t.of + "': element type " +
                   elemTypeName(src->elem) +
                   " is not supported (f32, f16, bf16, e4m3, e8m0, u8, i32, "
                   "i64 are)");
  if (t.dims.empty() || t.dims.size() > kTensorMapMaxRank)
    return invalid(pw + ": a tensor map has 1 to 5 dims, not " +
                   std::to_string(t.dims.size()));
  if (t.box.size() != t.dims.size())
    return invalid(pw + ": " + std::to_string(t.box.size()) +
                   " box sizes for " + std::to_string(t.dims.size()) +
                   " dims");
  for (size_t i = 0; i < t.dims.size(); ++i) {
    if (!validExpr(t.dims[i], /*allowSMs=*/false))
      return invalid(pw + ": invalid expression for tensor map dims[" +
                     std::to_string(i) + "]");
    if (t.box[i] < 1 || t.box[i] > kTensorMapMaxBox)
      return invalid(pw + ": box[" + std::to_string(i) + "] = " +
                     std::to_string(t.box[i]) + " is not in [1, 256]");
  }
  if (t.swizzle != 0 && t.swizzle != 32 && t.swizzle != 64 &&
      t.swizzle != 128)
    return invalid(pw + ": swizzle " + std::to_string(t.swizzle) +
                   " is not 0, 32, 64 or 128 bytes");
  uint64_t inner = uint64_t(t.box[0]) * bytes;
  if (inner % 16 != 0)
    return invalid(pw + ": the box's inner extent box[0] x " +
                   std::to_string(bytes) + " bytes = " +
                   std::to_string(inner) + " is not a multiple of 16 bytes");
  if (t.swizzle != 0 && inner > t.swizzle)
    return invalid(pw + ": the box's inner extent box[0] x " +
                   std::to_string(bytes) + " bytes = " +
                   std::to_string(inner) + " exceeds the " +
                   std::to_string(t.swizzle) + "-byte swizzle");
  return ArtifactError::ok();
}

ArtifactError validateKernel(const Artifact &a, const Kernel &k) {
  const std::string what = "kernel '" + k.name + "'";
  if (!isKnownOpKind(k.op))
    return invalid(what + ": unknown op kind '" + k.op +
                   "' (known: " + knownOpKindList() + ")");
  if (k.flags & ~uint32_t(FlagAllKnown))
    return invalid(what + ": unknown problem flags " +
                   flagsToString(k.flags & ~uint32_t(FlagAllKnown)));
  std::set<std::string> roles;
  for (size_t i = 0; i < k.params.size(); ++i) {
    const Param &p = k.params[i];
    std::string pw = what + " param #" + std::to_string(i) + " '" + p.role +
                     "'";
    if (!isIdentifier(p.role))
      return invalid(pw + ": role must be an identifier");
    if (!roles.insert(p.role).second)
      return invalid(what + ": duplicate param role '" + p.role + "'");
    int kind = static_cast<int>(p.kind);
    if (kind < 1 || kind > 5)
      return invalid(pw + ": unknown param kind " + std::to_string(kind));
    if (static_cast<int>(p.elem) > 9)
      return invalid(pw + ": unknown element type " +
                     std::to_string(static_cast<int>(p.elem)));
    if (p.kind != ParamKind::TensorMap &&
        p.tensorMap != TensorMapSpec())
      return invalid(pw + ": only a tensormap param has a tensor map spec");
    if (p.kind == ParamKind::TensorMap) {
      if (ArtifactError e = validateTensorMap(k, p, pw))
        return e;
    } else if (p.kind == ParamKind::Ptr) {
      if (p.elem == ElemType::None)
        return invalid(pw + ": a pointer needs an element type");
      int acc = static_cast<int>(p.access);
      if (acc < 1 || acc > 3)
        return invalid(pw + ": a pointer needs access in, out or inout");
      if (p.align == 0 || (p.align & (p.align - 1)) || p.align > 4096)
        return invalid(pw + ": alignment " + std::to_string(p.align) +
                       " is not a power of two in [1, 4096]");
      if (p.hasExtent && !validExpr(p.extent, /*allowSMs=*/false))
        return invalid(pw + ": invalid extent expression");
    } else {
      if (p.hasExtent || p.access != Access::None ||
          p.elem != ElemType::None)
        return invalid(pw + ": a scalar has no extent, access or element "
                            "type");
      if (p.isAutoFilled() && p.role == "flags" && p.kind != ParamKind::I32)
        return invalid(pw + ": 'flags' is filled from the problem and must "
                            "be i32");
      if (p.isAutoFilled() && p.kind == ParamKind::F32)
        return invalid(pw + ": a problem dim must be i32 or i64");
    }
  }
  for (const Constraint &c : k.constraints) {
    int l = static_cast<int>(c.lhs);
    int op = static_cast<int>(c.op);
    bool ok = l >= 1 && l <= kMaxDim && op >= 1 && op <= 5 &&
              !c.values.empty();
    if (ok && c.rhsIsDim)
      ok = op != static_cast<int>(ConstraintOp::In) && c.values.size() == 1 &&
           c.values[0] >= 1 && c.values[0] <= kMaxDim;
    else if (ok && c.op != ConstraintOp::In)
      ok = c.values.size() == 1;
    if (ok && c.op == ConstraintOp::MultipleOf && !c.rhsIsDim)
      ok = c.values[0] >= 1;
    if (!ok)
      return invalid(what + ": invalid constraint '" + c.str() + "'");
  }
  if (k.variants.empty())
    return invalid(what + " has no launch configuration");
  std::set<std::string> chips;
  for (const LaunchVariant &v : k.variants) {
    std::string vw = what + " on " + v.chip;
    if (!findChip(v.chip))
      return invalid(what + ": unknown chip tag '" + v.chip +
                     "' (known: " + knownChipList() + ")");
    if (!chips.insert(v.chip).second)
      return invalid(what + " has two launch configurations for " + v.chip);
    if (v.image >= a.images.size())
      return invalid(vw + ": image index " + std::to_string(v.image) +
                     " out of range (" + std::to_string(a.images.size()) +
                     " images)");
    const Image &img = a.images[v.image];
    if (img.chip != v.chip)
      return invalid(vw + " refers to image '" + img.label + "' for " +
                     img.chip);
    for (const Expr &e : v.grid)
      if (!validExpr(e, /*allowSMs=*/true))
        return invalid(vw + ": invalid grid expression");
    uint64_t threads = 1, cluster = 1;
    for (int i = 0; i < 3; ++i) {
      if (v.block[i] == 0 || v.cluster[i] == 0)
        return invalid(vw + ": block and cluster dims must be >= 1");
      threads *= v.block[i];
      cluster *= v.cluster[i];
    }
    if (threads > 1024)
      return invalid(vw + ": block of " + std::to_string(threads) +
                     " threads exceeds 1024");
    if (cluster > 16)
      return invalid(vw + ": cluster of " + std::to_string(cluster) +
                     " blocks exceeds 16");
    if (img.format == ImageFormat::Ptx) {
      std::string_view ptx(reinterpret_cast<const char *>(img.data.data()),
                           img.data.size());
      if (!ptxHasEntry(ptx, k.name))
        return invalid(vw + ": PTX image '" + img.label +
                       "' has no '.entry " + k.name + "'");
    } else if (img.format == ImageFormat::Cubin) {
      if (!bytesContain(img.data, k.name))
        return invalid(vw + ": cubin image '" + img.label +
                       "' has no symbol '" + k.name + "'");
    }
  }
  return ArtifactError::ok();
}

ArtifactError corrupt(std::string msg) {
  return ArtifactError::make(ArtifactErrc::Corrupt, std::move(msg));
}

ArtifactError notArtifact(const uint8_t *data, size_t size) {
  const std::string prefix = "not an attnqat artifact: ";
  if (size >= 4 && data[0] == 0x7F && data[1] == 'E' && data[2] == 'L' &&
      data[3] == 'F')
    return ArtifactError::make(
        ArtifactErrc::NotAnArtifact,
        prefix + "this is an ELF file (a cubin or a shared library?); wrap "
                 "cubins into an artifact with 'attnqat-artifact create'");
  if (size >= 4 && getU32(data) == 0xBA55ED50u)
    return ArtifactError::make(ArtifactErrc::NotAnArtifact,
                               prefix + "this is a CUDA fatbin; wrap it into "
                                        "an artifact with 'attnqat-artifact "
                                        "create'");
  size_t n = size < 512 ? size : 512;
  bool text = true;
  for (size_t i = 0; i < n && text; ++i) {
    uint8_t c = data[i];
    text = c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c != 0x7F);
  }
  if (text) {
    std::string_view head(reinterpret_cast<const char *>(data), n);
    if (head.find(".version") != std::string_view::npos ||
        head.find(".target") != std::string_view::npos ||
        head.find("//") == 0)
      return ArtifactError::make(
          ArtifactErrc::NotAnArtifact,
          prefix + "this looks like PTX text; wrap it into an artifact with "
                   "'attnqat-artifact create'");
    return ArtifactError::make(ArtifactErrc::NotAnArtifact,
                               prefix + "this is a text file");
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%02x %02x %02x %02x", data[0],
                size > 1 ? data[1] : 0, size > 2 ? data[2] : 0,
                size > 3 ? data[3] : 0);
  return ArtifactError::make(ArtifactErrc::NotAnArtifact,
                             prefix + "unrecognized magic bytes " + buf +
                                 " (expected 89 41 51 54 ...)");
}

} // namespace

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

ArtifactError validateArtifact(const Artifact &a) {
  if (a.images.empty())
    return invalid("artifact holds no kernel images");
  if (a.kernels.empty())
    return invalid("artifact holds no kernels");
  std::set<std::string> labels;
  for (size_t i = 0; i < a.images.size(); ++i) {
    const Image &img = a.images[i];
    if (img.label.empty())
      return invalid("image #" + std::to_string(i) + " has an empty label");
    if (!labels.insert(img.label).second)
      return invalid("duplicate image label '" + img.label + "'");
    if (ArtifactError e = validateImage(img))
      return e;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < a.kernels.size(); ++i) {
    const Kernel &k = a.kernels[i];
    if (!isIdentifier(k.name))
      return invalid("kernel #" + std::to_string(i) + " name '" + k.name +
                     "' is not a valid entry symbol");
    if (!names.insert(k.name).second)
      return invalid("duplicate kernel '" + k.name + "'");
    if (ArtifactError e = validateKernel(a, k))
      return e;
  }
  return ArtifactError::ok();
}

//===----------------------------------------------------------------------===//
// Serialization
//===----------------------------------------------------------------------===//

void serializeArtifactUnchecked(const Artifact &a, std::vector<uint8_t> &out) {
  out.assign(kHeaderSize, 0);
  std::memcpy(out.data(), kMagic, 8);
  out[8] = kFormatVersionMajor & 0xFF;
  out[9] = kFormatVersionMajor >> 8;
  out[10] = kFormatVersionMinor & 0xFF;
  out[11] = kFormatVersionMinor >> 8;
  putU32(out, 12, kByteOrderMark);
  putU32(out, 24, static_cast<uint32_t>(kHeaderSize));
  putU32(out, 32, static_cast<uint32_t>(a.images.size()));
  putU32(out, 36, static_cast<uint32_t>(a.kernels.size()));

  ByteWriter w{out};
  std::vector<uint8_t> body;
  ByteWriter bw{body};
  auto record = [&](uint32_t tag) {
    w.u32(tag);
    w.u32(0);
    w.u64(body.size());
    w.bytes(body.data(), body.size());
    body.clear();
  };
  for (const Image &img : a.images) {
    writeImage(bw, img);
    record(kImageTag);
  }
  for (const Kernel &k : a.kernels) {
    writeKernel(bw, k);
    record(kKernelTag);
  }
  putU64(out, 16, out.size());
  putU32(out, 28, crc32(out.data() + kHeaderSize, out.size() - kHeaderSize));
  putU32(out, 60, crc32(out.data(), 60));
}

ArtifactError serializeArtifact(const Artifact &a, std::vector<uint8_t> &out) {
  if (ArtifactError e = validateArtifact(a))
    return e;
  serializeArtifactUnchecked(a, out);
  return ArtifactError::ok();
}

//===----------------------------------------------------------------------===//
// Parsing
//===----------------------------------------------------------------------===//

ArtifactError parseArtifact(const uint8_t *data, size_t size, Artifact &out) {
  out = Artifact();
  if (size == 0 || data == nullptr)
    return ArtifactError::make(ArtifactErrc::NotAnArtifact,
                               "not an attnqat artifact: empty file (0 bytes)");
  size_t m = size < 8 ? size : 8;
  if (std::memcmp(data, kMagic, m) != 0)
    return notArtifact(data, size);
  if (size < 8)
    return corrupt("truncated: " + std::to_string(size) +
                   " bytes, shorter than the 8-byte magic");
  if (size >= 16 && data[12] == 1 && data[13] == 2 && data[14] == 3 &&
      data[15] == 4)
    return ArtifactError::make(
        ArtifactErrc::Version,
        "big-endian artifact: only little-endian artifacts are supported");
  if (size < 12)
    return corrupt("truncated: " + std::to_string(size) +
                   " bytes, the header alone needs " +
                   std::to_string(kHeaderSize));
  uint16_t major = getU16(data + 8), minor = getU16(data + 10);
  if (major != kFormatVersionMajor)
    return ArtifactError::make(
        ArtifactErrc::Version,
        "artifact format version " + std::to_string(major) + "." +
            std::to_string(minor) + " is not supported (this reader reads " +
            std::to_string(kFormatVersionMajor) +
            ".x); rebuild the artifact with a matching compiler, or update "
            "the runtime");
  if (size < kHeaderSize)
    return corrupt("truncated: " + std::to_string(size) +
                   " bytes, the header alone needs " +
                   std::to_string(kHeaderSize));
  uint32_t storedHeaderCrc = getU32(data + 60);
  uint32_t headerCrc = crc32(data, 60);
  if (storedHeaderCrc != headerCrc)
    return corrupt("header checksum mismatch (stored " +
                   hex32(storedHeaderCrc) + ", computed " + hex32(headerCrc) +
                   "): the header is damaged");
  if (getU32(data + 12) != kByteOrderMark)
    return corrupt("bad byte-order mark " + hex32(getU32(data + 12)));
  uint32_t headerSize = getU32(data + 24);
  uint64_t total = getU64(data + 16);
  if (headerSize < kHeaderSize || headerSize > total)
    return corrupt("bad header size " + std::to_string(headerSize));
  if (total > size)
    return corrupt("truncated: the header declares " + std::to_string(total) +
                   " bytes but only " + std::to_string(size) +
                   " are present");
  if (total < size)
    return corrupt("size mismatch: the header declares " +
                   std::to_string(total) + " bytes but the data has " +
                   std::to_string(size) + " (trailing bytes)");
  uint32_t features = getU32(data + 40);
  if (features != 0)
    return ArtifactError::make(ArtifactErrc::Version,
                               "artifact uses feature flags " +
                                   hex32(features) +
                                   " unknown to this reader");
  uint32_t storedCrc = getU32(data + 28);
  uint32_t crc = crc32(data + headerSize, size - headerSize);
  if (storedCrc != crc)
    return corrupt("payload checksum mismatch (stored " + hex32(storedCrc) +
                   ", computed " + hex32(crc) + "): the file is damaged");

  out.versionMajor = major;
  out.versionMinor = minor;
  uint32_t nImages = getU32(data + 32), nKernels = getU32(data + 36);
  ByteReader outer{data, headerSize, size};
  auto readRecord = [&](uint32_t tag, const char *what, size_t index,
                        auto &&parseBody) -> ArtifactError {
    size_t at = outer.pos;
    uint32_t got = outer.u32("record tag");
    outer.u32("record reserved");
    uint64_t len = outer.u64("record length");
    std::string where = std::string(what) + " record #" +
                        std::to_string(index) + " at offset " +
                        std::to_string(at);
    if (!outer.ok)
      return corrupt("malformed " + where + ": " + outer.error);
    if (got != tag)
      return corrupt("malformed " + where + ": unexpected tag " + hex32(got));
    if (len > outer.end - outer.pos)
      return corrupt("malformed " + where + ": length " + std::to_string(len) +
                     " runs past the end of the file");
    ByteReader body{data, outer.pos, outer.pos + static_cast<size_t>(len)};
    parseBody(body);
    if (!body.ok)
      return corrupt("malformed " + where + ": " + body.error);
    if (body.pos != body.end && minor <= kFormatVersionMinor)
      return corrupt("malformed " + where + ": " +
                     std::to_string(body.end - body.pos) +
                     " unexpected bytes at the end of the record");
    outer.pos = body.end;
    return ArtifactError::ok();
  };
  for (uint32_t i = 0; i < nImages; ++i) {
    Image img;
    if (ArtifactError e = readRecord(kImageTag, "image", i,
                                     [&](ByteReader &r) { readImage(r, img); }))
      return e;
    out.images.push_back(std::move(img));
  }
  for (uint32_t i = 0; i < nKernels; ++i) {
    Kernel k;
    if (ArtifactError e = readRecord(kKernelTag, "kernel", i,
                                     [&](ByteReader &r) {
                                       readKernel(r, k, minor);
                                     }))
      return e;
    out.kernels.push_back(std::move(k));
  }
  if (outer.pos != size)
    return corrupt("malformed payload: " + std::to_string(size - outer.pos) +
                   " bytes after the last record");
  return validateArtifact(out);
}

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

ArtifactError readFileBytes(const std::string &path,
                            std::vector<uint8_t> &out) {
  out.clear();
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return ArtifactError::make(ArtifactErrc::Io, "cannot open '" + path +
                                                     "': " +
                                                     std::strerror(errno));
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
    out.insert(out.end(), buf, buf + n);
  bool bad = std::ferror(f);
  int err = errno;
  std::fclose(f);
  if (bad)
    return ArtifactError::make(ArtifactErrc::Io, "cannot read '" + path +
                                                     "': " +
                                                     std::strerror(err));
  return ArtifactError::ok();
}

ArtifactError readArtifactFile(const std::string &path, Artifact &out) {
  std::vector<uint8_t> bytes;
  if (ArtifactError e = readFileBytes(path, bytes))
    return e;
  ArtifactError e = parseArtifact(bytes.data(), bytes.size(), out);
  if (e)
    e.message = path + ": " + e.message;
  return e;
}

ArtifactError writeArtifactFile(const std::string &path, const Artifact &a) {
  std::vector<uint8_t> bytes;
  if (ArtifactError e = serializeArtifact(a, bytes))
    return e;
  std::string tmp = path + ".tmp" + std::to_string(getpid());
  FILE *f = std::fopen(tmp.c_str(), "wb");
  if (!f)
    return ArtifactError::make(ArtifactErrc::Io, "cannot create '" + tmp +
                                                     "': " +
                                                     std::strerror(errno));
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    return ArtifactError::make(ArtifactErrc::Io, "cannot write '" + path +
                                                     "': " +
                                                     std::strerror(err));
  }
  return ArtifactError::ok();
}

//===----------------------------------------------------------------------===//
// Listing
//===----------------------------------------------------------------------===//

std::string describeArtifact(const Artifact &a, size_t fileSize) {
  std::string s = "attnqat artifact, format " +
                  std::to_string(a.versionMajor) + "." +
                  std::to_string(a.versionMinor);
  if (fileSize)
    s += ", " + std::to_string(fileSize) + " bytes";
  s += "\nchips: ";
  std::vector<std::string> chips = a.chips();
  for (size_t i = 0; i < chips.size(); ++i)
    s += (i ? ", " : "") + chips[i];
  s += "\nimages (" + std::to_string(a.images.size()) + "):\n";
  for (size_t i = 0; i < a.images.size(); ++i) {
    const Image &img = a.images[i];
    s += "  [" + std::to_string(i) + "] " + img.label + "  " + img.chip +
         "  " + imageFormatName(img.format) + "  " +
         std::to_string(img.data.size()) + " bytes  crc32 " +
         hex32(crc32(img.data.data(), img.data.size())) + "\n";
  }
  s += "kernels (" + std::to_string(a.kernels.size()) + "):\n";
  for (const Kernel &k : a.kernels) {
    s += "  " + k.name + "\n";
    s += "    op " + k.op + "  config \"" + k.config + "\"  flags " +
         flagsToString(k.flags) + "\n";
    s += "    params:\n";
    for (size_t i = 0; i < k.params.size(); ++i) {
      const Param &p = k.params[i];
      s += "      " + std::to_string(i) + " " + p.role + ": " +
           paramKindName(p.kind);
      if (p.kind == ParamKind::Ptr) {
        s += std::string(" ") + elemTypeName(p.elem) + " " +
             accessName(p.access) + " align " + std::to_string(p.align);
        if (p.hasExtent)
          s += " extent " + p.extent.str();
        if (!p.layout.empty())
          s += " layout \"" + p.layout + "\"";
      } else if (p.kind == ParamKind::TensorMap) {
        s += " " + p.tensorMap.str();
        if (!p.layout.empty())
          s += " layout \"" + p.layout + "\"";
      } else if (p.isAutoFilled()) {
        s += " (from the problem)";
      }
      s += "\n";
    }
    if (!k.constraints.empty()) {
      s += "    requires:";
      for (size_t i = 0; i < k.constraints.size(); ++i)
        s += (i ? ", " : " ") + k.constraints[i].str();
      s += "\n";
    }
    for (const LaunchVariant &v : k.variants) {
      auto dims = [](const std::array<uint32_t, 3> &d) {
        return std::to_string(d[0]) + "x" + std::to_string(d[1]) + "x" +
               std::to_string(d[2]);
      };
      s += "    " + v.chip + ": image " +
           (v.image < a.images.size() ? a.images[v.image].label
                                      : std::to_string(v.image)) +
           "  grid " + v.gridString() + "  block " + dims(v.block) +
           "  cluster " + dims(v.cluster) + "  smem " +
           std::to_string(v.dynamicSharedBytes) + "\n";
    }
  }
  return s;
}

} // namespace mlir::attnqat::rt
