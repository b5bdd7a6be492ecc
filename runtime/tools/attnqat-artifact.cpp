//===- attnqat-artifact.cpp - Create, list and verify artifacts -----------===//
//
//   attnqat-artifact create -o OUT.aqa MANIFEST
//   attnqat-artifact list FILE
//   attnqat-artifact verify FILE...
//   attnqat-artifact extract FILE IMAGE-LABEL -o OUT
//
// Exit status: 0 success, 1 an artifact/manifest error (message on stderr),
// 2 usage error. Needs no GPU, CUDA or LLVM.
//
//===----------------------------------------------------------------------===//

#include "attnqat-runtime/Artifact.h"
#include "attnqat-runtime/Manifest.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

using namespace mlir::attnqat::rt;

namespace {

int usage(const char *why = nullptr) {
  if (why)
    std::fprintf(stderr, "attnqat-artifact: %s\n", why);
  std::fprintf(stderr,
               "usage: attnqat-artifact create -o OUT MANIFEST\n"
               "       attnqat-artifact list FILE\n"
               "       attnqat-artifact verify FILE...\n"
               "       attnqat-artifact extract FILE IMAGE-LABEL -o OUT\n"
               "Manifest syntax: runtime/include/attnqat-runtime/Manifest.h, "
               "docs/runtime.md.\n");
  return 2;
}

int report(const ArtifactError &e) {
  std::fprintf(stderr, "error: %s (%s)\n", e.message.c_str(),
               artifactErrcName(e.code));
  return 1;
}

/// Splits "-o OUT" out of args.
bool takeOutput(std::vector<std::string> &args, std::string &out) {
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i] == "-o") {
      if (i + 1 >= args.size())
        return false;
      out = args[i + 1];
      args.erase(args.begin() + i, args.begin() + i + 2);
      return true;
    }
  return false;
}

int create(std::vector<std::string> args) {
  std::string out;
  if (!takeOutput(args, out) || args.size() != 1)
    return usage("create needs -o OUT and one MANIFEST");
  Artifact a;
  if (ArtifactError e = readManifestFile(args[0], a))
    return report(e);
  if (ArtifactError e = writeArtifactFile(out, a))
    return report(e);
  std::vector<uint8_t> bytes;
  serializeArtifactUnchecked(a, bytes);
  std::printf("wrote %s: %zu bytes, %zu kernel(s), %zu image(s)\n",
              out.c_str(), bytes.size(), a.kernels.size(), a.images.size());
  return 0;
}

int list(const std::vector<std::string> &args) {
  if (args.size() != 1)
    return usage("list needs one FILE");
  std::vector<uint8_t> bytes;
  if (ArtifactError e = readFileBytes(args[0], bytes))
    return report(e);
  Artifact a;
  if (ArtifactError e = parseArtifact(bytes.data(), bytes.size(), a)) {
    e.message = args[0] + ": " + e.message;
    return report(e);
  }
  std::fputs(describeArtifact(a, bytes.size()).c_str(), stdout);
  return 0;
}

int verify(const std::vector<std::string> &args) {
  if (args.empty())
    return usage("verify needs at least one FILE");
  int status = 0;
  for (const std::string &path : args) {
    Artifact a;
    if (ArtifactError e = readArtifactFile(path, a)) {
      report(e);
      status = 1;
      continue;
    }
    std::string chips;
    for (const std::string &c : a.chips())
      chips += (chips.empty() ? "" : ", ") + c;
    std::printf("%s: OK (format %u.%u, %zu kernel(s), %zu image(s), chips: "
                "%s)\n",
                path.c_str(), a.versionMajor, a.versionMinor,
                a.kernels.size(), a.images.size(), chips.c_str());
  }
  return status;
}

int extract(std::vector<std::string> args) {
  std::string out;
  if (!takeOutput(args, out) || args.size() != 2)
    return usage("extract needs FILE IMAGE-LABEL -o OUT");
  Artifact a;
  if (ArtifactError e = readArtifactFile(args[0], a))
    return report(e);
  for (const Image &img : a.images) {
    if (img.label != args[1])
      continue;
    FILE *f = std::fopen(out.c_str(), "wb");
    bool ok = f && std::fwrite(img.data.data(), 1, img.data.size(), f) ==
                       img.data.size();
    ok = f && std::fclose(f) == 0 && ok;
    if (!ok)
      return report(ArtifactError::make(ArtifactErrc::Io,
                                        "cannot write '" + out + "'"));
    return 0;
  }
  return report(ArtifactError::make(ArtifactErrc::Invalid,
                                    args[0] + ": no image labelled '" +
                                        args[1] + "'"));
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2)
    return usage();
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "create")
    return create(args);
  if (cmd == "list")
    return list(args);
  if (cmd == "verify")
    return verify(args);
  if (cmd == "extract")
    return extract(args);
  if (cmd == "-h" || cmd == "--help")
    return usage(), 0;
  return usage(("unknown command '" + cmd + "'").c_str());
}
