//===- Manifest.cpp - Text manifests that describe artifacts --------------===//

#include "attnqat-runtime/Manifest.h"

#include <cctype>
#include <map>

namespace mlir::attnqat::rt {

namespace {

struct Token {
  std::string key;   ///< "" for a bare word
  std::string value; ///< unquoted
};

/// Splits a line into words and key=value pairs; "..." quotes (with \" and
/// \\ escapes) keep spaces.
bool tokenize(std::string_view line, std::vector<Token> &out,
              std::string &error) {
  out.clear();
  size_t i = 0;
  while (true) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i])))
      ++i;
    if (i >= line.size() || line[i] == '#')
      return true;
    std::string word;
    size_t firstQuote = std::string::npos; // position in `word`
    while (i < line.size() &&
           !std::isspace(static_cast<unsigned char>(line[i]))) {
      if (line[i] == '"') {
        if (firstQuote == std::string::npos)
          firstQuote = word.size();
        ++i;
        while (i < line.size() && line[i] != '"') {
          if (line[i] == '\\' && i + 1 < line.size())
            ++i;
          word += line[i++];
        }
        if (i >= line.size()) {
          error = "unterminated quote";
          return false;
        }
        ++i;
        continue;
      }
      word += line[i++];
    }
    Token t;
    size_t eq = word.find('=');
    // key=value only when the '=' precedes any quoted text.
    if (eq != std::string::npos && eq > 0 && eq < firstQuote) {
      bool plainKey = true;
      for (size_t k = 0; k < eq; ++k)
        plainKey = plainKey && (std::isalnum(static_cast<unsigned char>(
                                    word[k])) ||
                                word[k] == '_');
      if (plainKey) {
        t.key = word.substr(0, eq);
        t.value = word.substr(eq + 1);
        out.push_back(std::move(t));
        continue;
      }
    }
    t.value = std::move(word);
    out.push_back(std::move(t));
  }
}

/// "128", "128x2", "128x2x1".
bool parseDims3(const std::string &s, std::array<uint32_t, 3> &out) {
  out = {1, 1, 1};
  size_t i = 0;
  for (int d = 0; d < 3; ++d) {
    size_t j = i;
    uint64_t v = 0;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) {
      v = v * 10 + (s[j] - '0');
      if (v > 0xFFFFFFFFu)
        return false;
      ++j;
    }
    if (j == i)
      return false;
    out[d] = static_cast<uint32_t>(v);
    if (j == s.size())
      return true;
    if (s[j] != 'x')
      return false;
    i = j + 1;
  }
  return false;
}

bool parseU32(const std::string &s, uint32_t &out) {
  if (s.empty() || s.size() > 10)
    return false;
  uint64_t v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return false;
    v = v * 10 + (c - '0');
  }
  if (v > 0xFFFFFFFFu)
    return false;
  out = static_cast<uint32_t>(v);
  return true;
}

/// "D,N,B*Hkv" -> {"D", "N", "B*Hkv"}; "" -> {}.
std::vector<std::string> splitList(const std::string &s) {
  std::vector<std::string> out;
  if (s.empty())
    return out;
  size_t start = 0, comma;
  while ((comma = s.find(',', start)) != std::string::npos) {
    out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  out.push_back(s.substr(start));
  return out;
}

/// Splits "ceil(M/128) x Hq x B" (or "a, b, c") into three expressions.
bool parseGrid(const std::string &s, std::array<Expr, 3> &out,
               std::string &error) {
  std::vector<std::string> parts;
  if (s.find(',') != std::string::npos) {
    parts = splitList(s);
  } else {
    // Separator: an 'x' with whitespace on both sides.
    size_t start = 0;
    for (size_t i = 1; i + 1 < s.size(); ++i)
      if (s[i] == 'x' && std::isspace(static_cast<unsigned char>(s[i - 1])) &&
          std::isspace(static_cast<unsigned char>(s[i + 1]))) {
        parts.push_back(s.substr(start, i - start));
        start = i + 1;
      }
    parts.push_back(s.substr(start));
  }
  if (parts.size() > 3) {
    error = "grid has more than 3 dims: '" + s + "'";
    return false;
  }
  for (size_t i = 0; i < 3; ++i) {
    out[i] = Expr();
    if (i < parts.size() && !Expr::parse(parts[i], out[i], error)) {
      error = "grid dim " + std::to_string(i) + ": " + error;
      return false;
    }
  }
  return true;
}

std::string dirName(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

/// The rest of the line after the directive word, unquoted when it is one
/// quoted string.
std::string restOfLine(std::string_view line, std::string_view directive) {
  size_t at = line.find(directive);
  std::string_view rest = line.substr(at + directive.size());
  size_t hash = rest.find(" #");
  if (hash != std::string_view::npos)
    rest = rest.substr(0, hash);
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest[0])))
    rest.remove_prefix(1);
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back())))
    rest.remove_suffix(1);
  if (rest.size() >= 2 && rest.front() == '"' && rest.back() == '"')
    rest = rest.substr(1, rest.size() - 2);
  return std::string(rest);
}

} // namespace

ArtifactError parseManifest(std::string_view text,
                            const std::string &manifestPath, Artifact &out) {
  out = Artifact();
  const std::string base = dirName(manifestPath);
  std::map<std::string, uint32_t> imageIndex;
  // Image labels of launch lines, resolved once all images are known.
  std::vector<std::pair<std::pair<size_t, size_t>, std::string>> pending;
  std::vector<int> pendingLines;
  Kernel *cur = nullptr;
  int lineNo = 0;
  size_t pos = 0;
  auto fail = [&](const std::string &msg) {
    return ArtifactError::make(ArtifactErrc::Invalid,
                               manifestPath + ":" + std::to_string(lineNo) +
                                   ": " + msg);
  };
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++lineNo;
    std::vector<Token> toks;
    std::string error;
    if (!tokenize(line, toks, error))
      return fail(error);
    if (toks.empty())
      continue;
    if (!toks[0].key.empty())
      return fail("expected a directive, got '" + toks[0].key + "=...'");
    const std::string &dir = toks[0].value;
    auto kv = [&](const std::string &key) -> const std::string * {
      for (size_t i = 1; i < toks.size(); ++i)
        if (toks[i].key == key)
          return &toks[i].value;
      return nullptr;
    };
    auto checkKeys = [&](std::initializer_list<const char *> keys,
                         size_t bareWords) -> std::string {
      size_t bare = 0;
      for (size_t i = 1; i < toks.size(); ++i) {
        if (toks[i].key.empty()) {
          if (++bare > bareWords)
            return "unexpected '" + toks[i].value + "'";
          continue;
        }
        bool known = false;
        for (const char *k : keys)
          known = known || toks[i].key == k;
        if (!known)
          return "unknown key '" + toks[i].key + "'";
      }
      return "";
    };

    if (dir == "image") {
      if (cur)
        return fail("'image' inside a kernel block (missing 'end'?)");
      if (toks.size() < 2 || !toks[1].key.empty())
        return fail("expected 'image <label> chip=... format=... file=...'");
      if (std::string e = checkKeys({"chip", "format", "file"}, 1); !e.empty())
        return fail(e);
      Image img;
      img.label = toks[1].value;
      const std::string *chip = kv("chip"), *format = kv("format"),
                        *file = kv("file");
      if (!chip || !format || !file)
        return fail("image '" + img.label + "' needs chip=, format= and file=");
      img.chip = *chip;
      if (!findChip(img.chip))
        return fail("unknown chip tag '" + img.chip +
                    "' (known: " + knownChipList() + ")");
      if (!parseImageFormat(*format, img.format))
        return fail("unknown image format '" + *format +
                    "' (known: ptx, cubin, fatbin)");
      std::string path =
          (!file->empty() && (*file)[0] == '/') ? *file : base + "/" + *file;
      if (ArtifactError e = readFileBytes(path, img.data)) {
        e.message = manifestPath + ":" + std::to_string(lineNo) + ": " +
                    e.message;
        return e;
      }
      if (imageIndex.count(img.label))
        return fail("duplicate image label '" + img.label + "'");
      imageIndex[img.label] = static_cast<uint32_t>(out.images.size());
      out.images.push_back(std::move(img));
      continue;
    }
    if (dir == "kernel") {
      if (cur)
        return fail("'kernel' inside a kernel block (missing 'end'?)");
      if (toks.size() != 2 || !toks[1].key.empty())
        return fail("expected 'kernel <entry symbol>'");
      if (out.kernel(toks[1].value))
        return fail("duplicate kernel '" + toks[1].value + "'");
      out.kernels.emplace_back();
      cur = &out.kernels.back();
      cur->name = toks[1].value;
      continue;
    }
    bool kernelDirective = dir == "end" || dir == "op" || dir == "config" ||
                           dir == "flags" || dir == "require" ||
                           dir == "param" || dir == "launch";
    if (!kernelDirective)
      return fail("unknown directive '" + dir + "'");
    if (!cur)
      return fail("'" + dir + "' outside a kernel block");
    if (dir == "end") {
      if (toks.size() != 1)
        return fail("'end' takes no arguments");
      cur = nullptr;
      continue;
    }
    if (dir == "op") {
      if (toks.size() != 2 || !toks[1].key.empty())
        return fail("expected 'op <kind>'");
      cur->op = toks[1].value;
      if (!isKnownOpKind(cur->op))
        return fail("unknown op kind '" + cur->op +
                    "' (known: " + knownOpKindList() + ")");
      continue;
    }
    if (dir == "config") {
      cur->config = restOfLine(line, "config");
      continue;
    }
    if (dir == "flags") {
      if (!parseFlags(restOfLine(line, "flags"), cur->flags, error))
        return fail(error);
      continue;
    }
    if (dir == "require") {
      Constraint c;
      if (!Constraint::parse(restOfLine(line, "require"), c, error))
        return fail(error);
      cur->constraints.push_back(std::move(c));
      continue;
    }
    if (dir == "param") {
      if (toks.size() < 3 || !toks[1].key.empty() || !toks[2].key.empty())
        return fail("expected 'param <role> <ptr|i32|i64|f32|tensormap> "
                    "...'");
      Param p;
      p.role = toks[1].value;
      if (cur->param(p.role))
        return fail("duplicate param role '" + p.role + "'");
      if (!parseParamKind(toks[2].value, p.kind))
        return fail("unknown param kind '" + toks[2].value +
                    "' (known: ptr, i32, i64, f32, tensormap)");
      if (p.kind == ParamKind::TensorMap) {
        if (std::string e = checkKeys({"of", "dims", "box", "swizzle",
                                       "layout"},
                                      2);
            !e.empty())
          return fail(e);
        const std::string *of = kv("of"), *dims = kv("dims"), *box = kv("box"),
                          *swizzle = kv("swizzle"), *layout = kv("layout");
        if (!of || !dims || !box)
          return fail("tensor map '" + p.role + "' needs of=, dims= and box=");
        TensorMapSpec &t = p.tensorMap;
        t.of = *of;
        for (const std::string &d : splitList(*dims)) {
          t.dims.emplace_back();
          if (!Expr::parse(d, t.dims.back(), error))
            return fail("dims of '" + p.role + "': " + error);
        }
        for (const std::string &b : splitList(*box)) {
          t.box.emplace_back();
          if (!parseU32(b, t.box.back()))
            return fail("bad box size '" + b + "' of '" + p.role + "'");
        }
        if (swizzle && !parseU32(*swizzle, t.swizzle))
          return fail("bad swizzle '" + *swizzle + "'");
        if (layout)
          p.layout = *layout;
        cur->params.push_back(std::move(p));
        continue;
      }
      if (p.kind != ParamKind::Ptr) {
        if (toks.size() != 3)
          return fail("a scalar param takes no further arguments");
        cur->params.push_back(std::move(p));
        continue;
      }
      p.align = 16;
      p.access = Access::In;
      if (toks.size() < 4 || !toks[3].key.empty() ||
          !parseElemType(toks[3].value, p.elem) || p.elem == ElemType::None)
        return fail("pointer param '" + p.role +
                    "' needs an element type (f32, f16, bf16, e2m1, e4m3, "
                    "e8m0, i32, u8, i64)");
      for (size_t i = 4; i < toks.size(); ++i) {
        const Token &t = toks[i];
        if (t.key.empty()) {
          if (t.value == "in")
            p.access = Access::In;
          else if (t.value == "out")
            p.access = Access::Out;
          else if (t.value == "inout")
            p.access = Access::InOut;
          else
            return fail("unexpected '" + t.value +
                        "' (expected in, out, inout or key=value)");
        } else if (t.key == "align") {
          if (!parseU32(t.value, p.align))
            return fail("bad alignment '" + t.value + "'");
        } else if (t.key == "extent") {
          if (!Expr::parse(t.value, p.extent, error))
            return fail("extent of '" + p.role + "': " + error);
          p.hasExtent = true;
        } else if (t.key == "layout") {
          p.layout = t.value;
        } else {
          return fail("unknown key '" + t.key + "'");
        }
      }
      cur->params.push_back(std::move(p));
      continue;
    }
    if (dir == "launch") {
      if (toks.size() < 2 || !toks[1].key.empty())
        return fail("expected 'launch <chip> image=... grid=... block=...'");
      if (std::string e =
              checkKeys({"image", "grid", "block", "cluster", "smem"}, 1);
          !e.empty())
        return fail(e);
      LaunchVariant v;
      v.chip = toks[1].value;
      if (!findChip(v.chip))
        return fail("unknown chip tag '" + v.chip +
                    "' (known: " + knownChipList() + ")");
      if (cur->variantFor(v.chip))
        return fail("kernel '" + cur->name + "' has two launch lines for " +
                    v.chip);
      const std::string *image = kv("image"), *grid = kv("grid"),
                        *block = kv("block");
      if (!image || !grid || !block)
        return fail("launch needs image=, grid= and block=");
      if (!parseGrid(*grid, v.grid, error))
        return fail(error);
      if (!parseDims3(*block, v.block))
        return fail("bad block dims '" + *block + "' (e.g. 128 or 128x2x1)");
      if (const std::string *c = kv("cluster"))
        if (!parseDims3(*c, v.cluster))
          return fail("bad cluster dims '" + *c + "' (e.g. 2 or 2x1x1)");
      if (const std::string *s = kv("smem"))
        if (!parseU32(*s, v.dynamicSharedBytes))
          return fail("bad smem byte count '" + *s + "'");
      pending.push_back({{out.kernels.size() - 1, cur->variants.size()},
                         *image});
      pendingLines.push_back(lineNo);
      cur->variants.push_back(std::move(v));
      continue;
    }
    return fail("unknown directive '" + dir + "'");
  }
  if (cur)
    return ArtifactError::make(ArtifactErrc::Invalid,
                               manifestPath + ": kernel '" + cur->name +
                                   "' is not closed with 'end'");
  for (size_t i = 0; i < pending.size(); ++i) {
    auto it = imageIndex.find(pending[i].second);
    if (it == imageIndex.end()) {
      lineNo = pendingLines[i];
      return fail("unknown image '" + pending[i].second + "'");
    }
    out.kernels[pending[i].first.first]
        .variants[pending[i].first.second]
        .image = it->second;
  }
  for (const Kernel &k : out.kernels)
    if (k.op.empty())
      return ArtifactError::make(ArtifactErrc::Invalid,
                                 manifestPath + ": kernel '" + k.name +
                                     "' has no 'op' line");
  if (ArtifactError e = validateArtifact(out)) {
    e.message = manifestPath + ": " + e.message;
    return e;
  }
  return ArtifactError::ok();
}

ArtifactError readManifestFile(const std::string &path, Artifact &out) {
  std::vector<uint8_t> bytes;
  if (ArtifactError e = readFileBytes(path, bytes))
    return e;
  return parseManifest(
      std::string_view(reinterpret_cast<const char *>(bytes.data()),
                       bytes.size()),
      path, out);
}

} // namespace mlir::attnqat::rt
