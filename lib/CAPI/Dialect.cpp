//===- Dialect.cpp - C API of the attnqat dialect and passes --------------===//

#include "attnqat-c/Dialect.h"

#include "attnqat/Conversion/Passes.h"
#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"
#include "attnqat/Dialect/AttnQAT/Transforms/Passes.h"
#include "attnqat/InitAll.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Pass.h"
#include "mlir/CAPI/Registration.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/Pass.h"

#include <mutex>

using namespace mlir;
using namespace mlir::attnqat;

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(AttnQAT, attnqat,
                                      mlir::attnqat::AttnQATDialect)

void attnqatRegisterAllDialects(MlirDialectRegistry registry) {
  if (!registry.ptr)
    return;
  mlir::attnqat::registerAllDialects(*unwrap(registry));
}

void attnqatRegisterAllPasses(void) {
  static std::once_flag flag;
  std::call_once(flag, [] { mlir::attnqat::registerAllPasses(); });
}

// The generated pass registration (mlirRegisterAttnQATPasses,
// mlirCreateAttnQATAttnQATAttachQAT, ...).
#ifdef __cplusplus
extern "C" {
#endif
#include "attnqat-c/AttnQATPasses.capi.cpp.inc"
#include "attnqat-c/ConversionPasses.capi.cpp.inc"
#ifdef __cplusplus
}
#endif
