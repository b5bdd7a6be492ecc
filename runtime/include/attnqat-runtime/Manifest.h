//===- Manifest.h - Text manifests that describe artifacts ------*- C++ -*-===//
//
// `attnqat-artifact create` builds an artifact from a line-based manifest
// plus the PTX/cubin files it names. The kernel generator may write one, or
// fill an Artifact directly and call writeArtifactFile. Grammar (one
// directive per line, '#' starts a comment, values with spaces are quoted
// with "..."):
//
//   image <label> chip=<sm_90a|sm_100a|sm_120a> format=<ptx|cubin|fatbin>
//         file=<path relative to the manifest>
//   kernel <entry symbol>
//     op <attention_forward|attention_backward|quantize|...>
//     config <free text: mode/config string>
//     flags <causal,additive_mask,key_lengths,save_for_backward | none>
//     param <role> ptr <elem> [in|out|inout] [align=16] [extent=<expr>]
//           [layout="<text>"]
//     param <role> <i32|i64|f32>
//     param <role> tensormap of=<ptr role> dims=<expr>,<expr>,...
//           box=<n>,<n>,... [swizzle=<0|32|64|128>] [layout="<text>"]
//     require <constraint>            e.g. "D in {64,128}", "Hq % Hkv == 0"
//     launch <chip> image=<label> grid="<x> x <y> x <z>" block=<x>[x<y>[x<z>]]
//            [cluster=<x>[x<y>[x<z>]]] [smem=<bytes>]
//   end
//
// Params are listed in the kernel's argument order. Pointers default to
// `in` and 16-byte alignment. A tensormap's dims are innermost first, e.g.
// `dims=D,N,B*Hkv box=64,64,1 swizzle=128`; swizzle defaults to 0.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNQAT_RUNTIME_MANIFEST_H
#define ATTNQAT_RUNTIME_MANIFEST_H

#include "attnqat-runtime/Artifact.h"

namespace mlir::attnqat::rt {

/// Parses `text`; relative image paths are resolved against the directory of
/// `manifestPath`, which also prefixes messages ("<path>:<line>: ...").
/// Syntax errors are ArtifactErrc::Invalid, unreadable images Io; the result
/// passes validateArtifact.
ArtifactError parseManifest(std::string_view text,
                            const std::string &manifestPath, Artifact &out);
ArtifactError readManifestFile(const std::string &path, Artifact &out);

} // namespace mlir::attnqat::rt

#endif // ATTNQAT_RUNTIME_MANIFEST_H
