//===- Passes.td - attnqat conversion passes ---------------*- tablegen -*-===//

#ifndef ATTNQAT_CONVERSION_PASSES_TD
#define ATTNQAT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertAttnQATToLoops : Pass<"convert-attnqat-to-loops"> {
  let summary = "Lower attnqat ops to scf/memref/arith/math loops (CPU path)";
  let description = [{
    Rewrites every attnqat op into loops over memrefs, framed by
    `bufferization.to_buffer` / `bufferization.to_tensor`, so that one-shot
    bufferization finishes the job. The FP4 codecs are emitted as arith
    bit manipulation with the rounding rules of docs/numerics.md (never
    `arith.truncf` to `f4E2M1FN`, whose tie rounding differs).

    `attnqat.attention` mirrors the GPU kernels: query tiles, key tiles of
    `key-tile` keys, an integer running max, in-tile quantization of P in
    16/32-key blocks, and the O' accumulator in mode `qat`. Its saved state
    stays in the function as buffers; `attnqat.attention_backward` must be in
    the same function as its forward (a state passed across functions is
    reported as an error).
  }];
  let options = [
    Option<"keyTile", "key-tile", "int64_t", /*default=*/"64",
           "Keys per tile (a multiple of 32)">,
    Option<"queryTile", "query-tile", "int64_t", /*default=*/"64",
           "Query rows per tile">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
  ];
}

#endif // ATTNQAT_CONVERSION_PASSES_TD
