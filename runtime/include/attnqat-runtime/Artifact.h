//===- Artifact.h - Compiled kernel artifacts: model, reader, writer -*- C++ -*-===//
//
// An artifact is what the compiler hands to the runtime: kernel images (PTX
// text, cubin or fatbin bytes) for one or more chips, and for every kernel its
// entry symbol, the attnqat op it implements, its mode/config string, its
// parameter signature, its shape constraints and, per chip, its launch
// configuration (grid as formulas of the problem dims, block, cluster, dynamic
// shared memory).
//
// Plain C++17: no LLVM/MLIR dependency, no exceptions. The runtime library
// (libattnqat_runtime.so), the attnqat-artifact tool and the compiler link it.
//
// Byte layout (docs/runtime.md has the full table). All integers little-endian.
//
//   header (64 bytes)
//     0  u8[8] magic  89 41 51 54 0D 0A 1A 0A   ("\x89AQT\r\n\x1a\n")
//     8  u16   format version major (1)       10 u16 minor (1)
//     12 u32   byte-order mark 0x01020304     (bytes 04 03 02 01)
//     16 u64   total size of the file in bytes
//     24 u32   header size (64)               28 u32 CRC-32 of the payload
//     32 u32   image count                    36 u32 kernel count
//     40 u32   feature flags (0)              44 u8[16] reserved (0)
//     60 u32   CRC-32 of header bytes [0, 60)
//   payload = image records, then kernel records; each record is
//     u32 tag ("IMGE" / "KRNL"), u32 0, u64 body length, body.
//
// A reader of version 1.x accepts any minor version: a newer minor may only
// append fields at the end of a record body, which older readers skip.
// Minor 1 appends the tensor-map specs to each kernel record (1.0 records,
// which end after the launch variants, still read).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_RUNTIME_ARTIFACT_H
#define ATTNQAT_RUNTIME_ARTIFACT_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlir::attnqat::rt {

//===----------------------------------------------------------------------===//
// Format constants
//===----------------------------------------------------------------------===//

constexpr uint16_t kFormatVersionMajor = 1;
constexpr uint16_t kFormatVersionMinor = 1;
constexpr size_t kHeaderSize = 64;
constexpr uint8_t kMagic[8] = {0x89, 'A', 'Q', 'T', '\r', '\n', 0x1A, '\n'};
constexpr uint32_t kByteOrderMark = 0x01020304u;
constexpr uint32_t kImageTag = 0x45474D49u;  // "IMGE"
constexpr uint32_t kKernelTag = 0x4C4E524Bu; // "KRNL"

/// CRC-32 (ISO-HDLC, the zlib/PNG one: reflected 0xEDB88320, init and final
/// xor 0xFFFFFFFF). `crc32(p, n)` equals Python's `zlib.crc32(bytes)`.
uint32_t crc32(const uint8_t *data, size_t size, uint32_t previous = 0);

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

enum class ArtifactErrc {
  None = 0,
  Io,            ///< cannot read or write the file
  NotAnArtifact, ///< wrong magic: an ELF, a text file, anything else
  Version,       ///< unsupported format version, byte order or features
  Corrupt,       ///< truncated, size or checksum mismatch, malformed record
  Invalid,       ///< well-formed but inconsistent (duplicates, unknown chip…)
};

struct ArtifactError {
  ArtifactErrc code = ArtifactErrc::None;
  std::string message;

  static ArtifactError ok() { return {}; }
  static ArtifactError make(ArtifactErrc code, std::string message) {
    return {code, std::move(message)};
  }
  explicit operator bool() const { return code != ArtifactErrc::None; }
};

const char *artifactErrcName(ArtifactErrc code);

//===----------------------------------------------------------------------===//
// Chips, ops, problem dims and flags
//===----------------------------------------------------------------------===//

struct ChipInfo {
  const char *tag; ///< "sm_90a"
  int ccMajor, ccMinor;
  const char *description;
};

/// The chips an artifact may target; nullptr when `tag` is unknown.
const ChipInfo *findChip(std::string_view tag);
/// The chip whose arch-specific ("a") images run on compute capability
/// major.minor; nullptr when attnqat has no target for it.
const ChipInfo *chipForComputeCapability(int major, int minor);
/// "sm_90a, sm_100a, sm_120a".
std::string knownChipList();

/// attention_forward, attention_backward, quantize, dequantize, fake_quant,
/// runtime_test (runtime fixtures only).
bool isKnownOpKind(std::string_view op);
std::string knownOpKindList();

/// The problem dims a launch supplies. Values index ProblemDims::v.
enum class Dim : uint8_t { B = 1, Hq = 2, Hkv = 3, M = 4, N = 5, D = 6, SMs = 7 };
constexpr int kMaxDim = 7;
const char *dimName(Dim d);
bool parseDim(std::string_view name, Dim &out);
/// True for the dims a caller supplies (B..D); SMs comes from the device.
inline bool isProblemDim(Dim d) { return d >= Dim::B && d <= Dim::D; }

struct ProblemDims {
  int64_t v[kMaxDim + 1] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t &operator[](Dim d) { return v[static_cast<int>(d)]; }
  int64_t operator[](Dim d) const { return v[static_cast<int>(d)]; }
};

/// Problem flags (attnqat_rt_problem::flags). Must match attnqat_runtime.h.
enum ProblemFlag : uint32_t {
  FlagCausal = 1u << 0,
  FlagAdditiveMask = 1u << 1,
  FlagKeyLengths = 1u << 2,
  FlagSaveForBackward = 1u << 3,
  FlagAllKnown = 0xFu,
};
/// "causal,key_lengths"; "none" for 0.
std::string flagsToString(uint32_t flags);
/// Parses a comma-separated list of flag names (or "none").
bool parseFlags(std::string_view text, uint32_t &out, std::string &error);

//===----------------------------------------------------------------------===//
// Expressions: grid dims and tensor extents as formulas of the problem dims
//===----------------------------------------------------------------------===//

/// ceil(multiplier * prod(dims) / divisor).
struct ExprFactor {
  uint64_t multiplier = 1;
  uint64_t divisor = 1;
  std::vector<Dim> dims;
  bool operator==(const ExprFactor &o) const {
    return multiplier == o.multiplier && divisor == o.divisor && dims == o.dims;
  }
};

/// A product of factors; no factors means 1. Text form:
///   expr   := atom ('*' atom)*
///   atom   := INT | DIM | 'ceil(' INT-or-DIM ('*' INT-or-DIM)* '/' INT ')'
/// e.g. "ceil(M/128)", "Hq*B", "ceil(B*Hq*M*D/4096)", "B*Hq*M*ceil(D/16)".
/// Plain atoms of one product are gathered into one factor.
struct Expr {
  std::vector<ExprFactor> factors;

  bool operator==(const Expr &o) const { return factors == o.factors; }
  bool operator!=(const Expr &o) const { return !(*this == o); }
  std::string str() const;
  static bool parse(std::string_view text, Expr &out, std::string &error);
  /// Evaluates with checked arithmetic; dims must be >= 0. Fails on overflow
  /// of 63 bits, naming the factor.
  bool evaluate(const ProblemDims &dims, uint64_t &out,
                std::string &error) const;
};

//===----------------------------------------------------------------------===//
// Kernel signatures and constraints
//===----------------------------------------------------------------------===//

/// TensorMap: a CUDA TMA descriptor (CUtensorMap, 128 bytes, passed by value
/// as a `.param .align 64 .b8 [128]` grid constant) that the runtime encodes
/// at each launch from the pointer argument its TensorMapSpec names.
enum class ParamKind : uint8_t {
  Ptr = 1,
  I32 = 2,
  I64 = 3,
  F32 = 4,
  TensorMap = 5,
};
const char *paramKindName(ParamKind k);
bool parseParamKind(std::string_view s, ParamKind &out);

enum class ElemType : uint8_t {
  None = 0,
  F32 = 1,
  F16 = 2,
  BF16 = 3,
  E2M1 = 4, ///< FP4 codes, two per byte (low nibble = even element)
  E4M3 = 5, ///< FP8 scales (NVFP4)
  E8M0 = 6, ///< power-of-two scales (MXFP4)
  I32 = 7,
  U8 = 8,
  I64 = 9,
};
const char *elemTypeName(ElemType t);
bool parseElemType(std::string_view s, ElemType &out);
/// Bits per element: 4 for E2M1, 0 for None.
unsigned elemTypeBits(ElemType t);

enum class Access : uint8_t { None = 0, In = 1, Out = 2, InOut = 3 };
const char *accessName(Access a);

/// What a TensorMap param maps: the memory of the pointer param `of`, seen as
/// a contiguous row-major tensor of that param's element type with `dims`
/// (innermost first), loaded in boxes of `box` elements. The stride of dim i
/// is dims[0] * ... * dims[i-1] * element bytes. The runtime encodes it with
/// interleave none, L2 promotion 128B, zero fill out of bounds, element
/// strides 1.
struct TensorMapSpec {
  std::string of;            ///< role of the Ptr param whose memory it maps
  std::vector<Expr> dims;    ///< global dims in elements, innermost first (1..5)
  std::vector<uint32_t> box; ///< box size per dim (same count), each 1..256
  uint32_t swizzle = 0;      ///< bytes: 0 (none), 32, 64 or 128

  bool operator==(const TensorMapSpec &o) const {
    return of == o.of && dims == o.dims && box == o.box && swizzle == o.swizzle;
  }
  bool operator!=(const TensorMapSpec &o) const { return !(*this == o); }
  /// "of k dims [D, N, B*Hkv] box [64, 64, 1] swizzle 128".
  std::string str() const;
};

/// Largest rank, box size and dim of a tensor map (cuTensorMapEncodeTiled's
/// limits).
constexpr size_t kTensorMapMaxRank = 5;
constexpr uint32_t kTensorMapMaxBox = 256;
constexpr uint64_t kTensorMapMaxDim = uint64_t(1) << 32;
constexpr uint64_t kTensorMapMaxStride = uint64_t(1) << 40;

/// Bytes per element of a tensor map over `t`, or 0 when tensor maps do not
/// support `t` (None; E2M1, whose elements are not whole bytes).
unsigned tensorMapElemBytes(ElemType t);

/// The geometry of one encoding: global dims (elements) and the byte strides
/// of dims 1..rank-1.
struct TensorMapGeometry {
  size_t rank = 0;
  uint64_t dims[kTensorMapMaxRank] = {};
  uint64_t strides[kTensorMapMaxRank - 1] = {};
};

/// Evaluates `spec`'s dims for `problem` and computes the contiguous strides.
/// Fails (false, `error` saying which dim and why) when a dim does not
/// evaluate, is 0 (a tensor map cannot describe an empty tensor), exceeds
/// 2^32, or a stride is not a multiple of 16 bytes or reaches 2^40.
bool tensorMapGeometry(const TensorMapSpec &spec, unsigned elemBytes,
                       const ProblemDims &problem, TensorMapGeometry &out,
                       std::string &error);

struct Param {
  ParamKind kind = ParamKind::Ptr;
  ElemType elem = ElemType::None;
  Access access = Access::None;
  /// Required alignment of a pointer in bytes (power of two); 0 for scalars.
  uint32_t align = 0;
  /// Name the caller binds it by ("q", "lse", "scale"). A scalar whose role is
  /// a problem dim ("B", "Hq", "Hkv", "M", "N", "D") or "flags" is filled
  /// from the problem descriptor by the runtime.
  std::string role;
  /// Human-readable layout ("[B,Hq,M,D] row-major; codes 2/byte, block axis D").
  std::string layout;
  /// Number of elements a pointer addresses (checked against the allocation);
  /// hasExtent false: not checked.
  bool hasExtent = false;
  Expr extent;
  /// TensorMap params only (`of` empty otherwise).
  TensorMapSpec tensorMap;

  /// True when the runtime fills this param: a scalar from the problem
  /// descriptor, or a tensor map from its pointer argument.
  bool isAutoFilled() const;
};

enum class ConstraintOp : uint8_t {
  Eq = 1,
  Le = 2,
  Ge = 3,
  MultipleOf = 4, ///< lhs % rhs == 0
  In = 5,         ///< lhs in {values}
};

/// A condition on the problem dims a kernel requires. Text form:
///   "D in {64,128}", "M % 128 == 0", "Hq % Hkv == 0", "D <= 256",
///   "N >= 1", "Hkv == Hq".
struct Constraint {
  Dim lhs = Dim::B;
  ConstraintOp op = ConstraintOp::Eq;
  bool rhsIsDim = false;
  /// rhsIsDim: one value, the Dim id. In: the allowed values. Else one value.
  std::vector<int64_t> values;

  bool operator==(const Constraint &o) const {
    return lhs == o.lhs && op == o.op && rhsIsDim == o.rhsIsDim &&
           values == o.values;
  }
  std::string str() const;
  static bool parse(std::string_view text, Constraint &out,
                    std::string &error);
  /// True when satisfied.
  bool holds(const ProblemDims &dims) const;
};

//===----------------------------------------------------------------------===//
// Images, kernels, artifacts
//===----------------------------------------------------------------------===//

enum class ImageFormat : uint32_t { Ptx = 1, Cubin = 2, Fatbin = 3 };
const char *imageFormatName(ImageFormat f);
bool parseImageFormat(std::string_view s, ImageFormat &out);

struct Image {
  std::string label; ///< unique within the artifact
  std::string chip;  ///< "sm_90a"
  ImageFormat format = ImageFormat::Ptx;
  std::vector<uint8_t> data;
};

/// How one kernel launches on one chip.
struct LaunchVariant {
  std::string chip;
  uint32_t image = 0; ///< index into Artifact::images (same chip)
  std::array<Expr, 3> grid;
  std::array<uint32_t, 3> block = {1, 1, 1};
  std::array<uint32_t, 3> cluster = {1, 1, 1};
  uint32_t dynamicSharedBytes = 0;

  /// "ceil(M/128) x Hq x B".
  std::string gridString() const;
};

struct Kernel {
  std::string name;   ///< entry symbol, unique within the artifact
  std::string op;     ///< attnqat op kind
  std::string config; ///< mode/config string, e.g. "mode=qat p=nvfp4"
  uint32_t flags = 0; ///< problem flags the kernel accepts
  std::vector<Param> params;
  std::vector<Constraint> constraints;
  std::vector<LaunchVariant> variants;

  const LaunchVariant *variantFor(std::string_view chip) const;
  const Param *param(std::string_view role) const;
};

struct Artifact {
  uint16_t versionMajor = kFormatVersionMajor; ///< as read; written as current
  uint16_t versionMinor = kFormatVersionMinor;
  std::vector<Image> images;
  std::vector<Kernel> kernels;

  const Kernel *kernel(std::string_view name) const;
  /// Chips with at least one kernel variant, in ascending order of the
  /// known-chip table.
  std::vector<std::string> chips() const;
};

/// Semantic checks: at least one kernel and image; unique image labels,
/// kernel names, param roles and per-kernel chips; known chips, ops, formats,
/// flags, kinds; PTX images that are text whose .target is the image's chip
/// and that declare `.entry <name>` for every kernel using them; cubins that
/// are CUDA ELF files; block/cluster dims in range.
ArtifactError validateArtifact(const Artifact &artifact);

/// Validates, then serializes.
ArtifactError serializeArtifact(const Artifact &artifact,
                                std::vector<uint8_t> &out);
/// Serializes without validateArtifact: for tests that need a well-framed
/// but semantically invalid file.
void serializeArtifactUnchecked(const Artifact &artifact,
                                std::vector<uint8_t> &out);

/// Checks framing (magic, version, byte order, sizes, both checksums), parses
/// every record, then validateArtifact.
ArtifactError parseArtifact(const uint8_t *data, size_t size, Artifact &out);

ArtifactError readFileBytes(const std::string &path,
                            std::vector<uint8_t> &out);
ArtifactError readArtifactFile(const std::string &path, Artifact &out);
ArtifactError writeArtifactFile(const std::string &path,
                                const Artifact &artifact);

/// What `attnqat-artifact list` prints.
std::string describeArtifact(const Artifact &artifact, size_t fileSize = 0);

} // namespace mlir::attnqat::rt

#endif // ATTNQAT_RUNTIME_ARTIFACT_H
