//===- AttnQATDialect.cpp - attnqat dialect -------------------------------===//

#include "attnqat/Dialect/AttnQAT/IR/AttnQAT.h"

#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"

#include <limits>
#include <optional>

using namespace mlir;
using namespace mlir::attnqat;

#include "attnqat/Dialect/AttnQAT/IR/AttnQATDialect.cpp.inc"
#include "attnqat/Dialect/AttnQAT/IR/AttnQATEnums.cpp.inc"

void AttnQATDialect::initialize() {
  registerAttributes();
  registerTypes();
  addOperations<
#define GET_OP_LIST
#include "attnqat/Dialect/AttnQAT/IR/AttnQATOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Kernel metadata attributes
//===----------------------------------------------------------------------===//

namespace {
/// Checks a discardable `attnqat.*` attribute's shape (see the dialect's
/// description). The contents (expressions, chip names) are checked where
/// they are read: attnqat-compile parses them with the runtime's grammar.
class KernelAttrVerifier {
public:
  KernelAttrVerifier(Operation *op, StringRef name) : op(op), name(name) {}

  LogicalResult verify(Attribute attr) {
    if (name == "attnqat.params")
      return verifyParams(attr);
    if (name == "attnqat.launch")
      return verifyLaunch(attr);
    if (name == "attnqat.constraints" || name == "attnqat.chips")
      return stringArray(attr, name == "attnqat.chips" ? 0 : -1).has_value()
                 ? success()
                 : failure();
    if (name == "attnqat.extents" || name == "attnqat.layouts")
      return stringDict(attr, {});
    if (name == "attnqat.access")
      return stringDict(attr, {"in", "out", "inout"});
    if (name == "attnqat.align")
      return verifyAlign(attr);
    if (name == "attnqat.tensor_maps")
      return verifyTensorMaps(attr);
    if (name == "attnqat.kernel" || name == "attnqat.pre_kernel" ||
        name == "attnqat.post_kernel") {
      if (isa<SymbolRefAttr>(attr))
        return success();
      return error() << "must be a symbol reference to a kernel";
    }
    return error() << "is not an attnqat attribute (known: attnqat.params, "
                      "attnqat.launch, attnqat.constraints, attnqat.chips, "
                      "attnqat.extents, attnqat.layouts, attnqat.access, "
                      "attnqat.align, attnqat.tensor_maps, attnqat.kernel, "
                      "attnqat.pre_kernel, attnqat.post_kernel)";
  }

private:
  Operation *op;
  StringRef name;

  InFlightDiagnostic error() { return op->emitOpError() << "'" << name << "' "; }

  /// The strings of an array of strings (`size` >= 0: exactly that many;
  /// 0 here means "at least one"), or nullopt after a diagnostic.
  std::optional<SmallVector<StringRef>> stringArray(Attribute attr, int64_t size,
                                                   StringRef what = "") {
    auto array = dyn_cast<ArrayAttr>(attr);
    SmallVector<StringRef> out;
    if (array)
      for (Attribute a : array) {
        auto s = dyn_cast<StringAttr>(a);
        if (!s) {
          array = nullptr;
          break;
        }
        out.push_back(s.getValue());
      }
    if (!array) {
      error() << (what.empty() ? "" : what.str() + " ") << "must be an array of strings";
      return std::nullopt;
    }
    if (size == 0 && out.empty()) {
      error() << (what.empty() ? "" : what.str() + " ") << "must not be empty";
      return std::nullopt;
    }
    if (size > 0 && static_cast<int64_t>(out.size()) != size) {
      error() << (what.empty() ? "" : what.str() + " ") << "must hold " << size
              << " strings, not " << out.size();
      return std::nullopt;
    }
    return out;
  }

  LogicalResult verifyParams(Attribute attr) {
    auto roles = stringArray(attr, -1);
    if (!roles)
      return failure();
    if (auto fn = dyn_cast<FunctionOpInterface>(op)) {
      if (roles->size() != fn.getNumArguments())
        return error() << "names " << roles->size() << " parameters, but the function takes "
                       << fn.getNumArguments();
    }
    llvm::StringSet<> seen;
    for (StringRef r : *roles) {
      if (r.empty())
        return error() << "has an empty role";
      if (!seen.insert(r).second)
        return error() << "names the role '" << r << "' twice";
    }
    return success();
  }

  LogicalResult verifyLaunch(Attribute attr) {
    auto dict = dyn_cast<DictionaryAttr>(attr);
    if (!dict)
      return error() << "must be a dictionary {block, grid?, dynamic_shared?}";
    auto block = dyn_cast_or_null<IntegerAttr>(dict.get("block"));
    if (!block || !block.getType().isSignlessInteger())
      return error() << "needs 'block', the threads per block as an integer";
    if (block.getValue().getSExtValue() < 1 || block.getValue().getSExtValue() > 1024)
      return error() << "'block' must lie in [1, 1024], not " << block.getValue().getSExtValue();
    for (NamedAttribute entry : dict) {
      StringRef key = entry.getName().getValue();
      if (key == "block")
        continue;
      if (key == "grid") {
        if (!stringArray(entry.getValue(), 3, "'grid'"))
          return failure();
        continue;
      }
      if (key == "dynamic_shared") {
        auto bytes = dyn_cast<IntegerAttr>(entry.getValue());
        if (!bytes || !bytes.getType().isSignlessInteger() ||
            bytes.getValue().getSExtValue() < 0 ||
            bytes.getValue().getSExtValue() > std::numeric_limits<uint32_t>::max())
          return error() << "'dynamic_shared' must be a byte count in [0, 2^32)";
        continue;
      }
      return error() << "has an unknown entry '" << key
                     << "' (known: block, grid, dynamic_shared)";
    }
    return success();
  }

  /// A dictionary whose values are strings, from `allowed` when not empty.
  LogicalResult stringDict(Attribute attr, ArrayRef<StringRef> allowed) {
    auto dict = dyn_cast<DictionaryAttr>(attr);
    if (!dict)
      return error() << "must be a dictionary from roles to strings";
    for (NamedAttribute entry : dict) {
      auto s = dyn_cast<StringAttr>(entry.getValue());
      if (!s)
        return error() << "entry '" << entry.getName().getValue() << "' must be a string";
      if (!allowed.empty() && !llvm::is_contained(allowed, s.getValue()))
        return error() << "entry '" << entry.getName().getValue() << "' must be one of "
                       << llvm::join(allowed, ", ") << ", not '" << s.getValue() << "'";
    }
    return success();
  }

  LogicalResult verifyAlign(Attribute attr) {
    auto dict = dyn_cast<DictionaryAttr>(attr);
    if (!dict)
      return error() << "must be a dictionary from roles to alignments";
    for (NamedAttribute entry : dict) {
      auto a = dyn_cast<IntegerAttr>(entry.getValue());
      int64_t v = a && a.getType().isSignlessInteger() ? a.getValue().getSExtValue() : 0;
      if (v < 1 || v > 4096 || !llvm::isPowerOf2_64(v))
        return error() << "entry '" << entry.getName().getValue()
                       << "' must be a power of two in [1, 4096] bytes";
    }
    return success();
  }

  LogicalResult verifyTensorMaps(Attribute attr) {
    auto dict = dyn_cast<DictionaryAttr>(attr);
    if (!dict)
      return error() << "must be a dictionary from roles to tensor maps";
    for (NamedAttribute entry : dict) {
      StringRef role = entry.getName().getValue();
      // `of` always; dims and box are what attnqat-compile needs to encode
      // the map (it reports them missing), typed here wherever they appear.
      auto map = dyn_cast<DictionaryAttr>(entry.getValue());
      if (!map || !isa_and_nonnull<StringAttr>(map.get("of")))
        return error() << "entry '" << role
                       << "' must be a dictionary with of (the role of the tensor it maps)";
      std::optional<SmallVector<StringRef>> dims;
      if (Attribute d = map.get("dims"))
        if (!(dims = stringArray(d, 0, "entry '" + role.str() + "' dims")))
          return failure();
      auto box = dyn_cast_or_null<DenseI64ArrayAttr>(map.get("box"));
      if (map.get("box") && !box)
        return error() << "entry '" << role << "' box must be an array<i64>";
      if (dims && box && box.size() != static_cast<int64_t>(dims->size()))
        return error() << "entry '" << role << "' has " << dims->size() << " dims but a box of "
                       << box.size();
      for (NamedAttribute field : map) {
        StringRef key = field.getName().getValue();
        if (key == "of" || key == "dims" || key == "box")
          continue;
        if (key == "swizzle" && isa<IntegerAttr>(field.getValue()))
          continue;
        return error() << "entry '" << role << "' has an unknown or malformed field '" << key
                       << "' (known: of, dims, box, swizzle)";
      }
    }
    return success();
  }
};
} // namespace

LogicalResult AttnQATDialect::verifyOperationAttribute(Operation *op, NamedAttribute attr) {
  return KernelAttrVerifier(op, attr.getName().getValue()).verify(attr.getValue());
}
