//===- MemRef.cpp - Memref descriptors and the memrefCopy runtime ---------===//

#include "attnqat/JIT/JIT.h"

#include <cstring>
#include <vector>

using namespace mlir;
using namespace mlir::attnqat;

llvm::SmallVector<int64_t, 11>
mlir::attnqat::makeMemRefDescriptor(void *data, llvm::ArrayRef<int64_t> sizes,
                                    llvm::ArrayRef<int64_t> strides) {
  size_t rank = sizes.size();
  llvm::SmallVector<int64_t, 11> desc(3 + 2 * rank);
  std::memcpy(&desc[0], &data, 8);
  std::memcpy(&desc[1], &data, 8);
  desc[2] = 0;
  int64_t stride = 1;
  for (size_t r = rank; r-- > 0;) {
    desc[3 + r] = sizes[r];
    desc[3 + rank + r] = strides.empty() ? stride : strides[r];
    stride *= sizes[r];
  }
  return desc;
}

MemRefView mlir::attnqat::readMemRefDescriptor(const void *field,
                                               int64_t rank) {
  MemRefView view;
  const char *p = static_cast<const char *>(field);
  std::memcpy(&view.allocated, p, 8);
  std::memcpy(&view.aligned, p + 8, 8);
  const int64_t *meta = reinterpret_cast<const int64_t *>(p + 16);
  view.offset = meta[0];
  view.sizes = llvm::ArrayRef<int64_t>(meta + 1, rank);
  view.strides = llvm::ArrayRef<int64_t>(meta + 1 + rank, rank);
  return view;
}

void mlir::attnqat::copyMemRef(const MemRefView &src, void *dst,
                               llvm::ArrayRef<int64_t> dstStrides,
                               size_t elementBytes) {
  size_t rank = src.sizes.size();
  int64_t n = 1;
  for (int64_t d : src.sizes)
    n *= d;
  if (n <= 0)
    return;
  std::vector<int64_t> dense(rank);
  int64_t stride = 1;
  for (size_t r = rank; r-- > 0;) {
    dense[r] = stride;
    stride *= src.sizes[r];
  }
  llvm::ArrayRef<int64_t> dStrides =
      dstStrides.empty() ? llvm::ArrayRef<int64_t>(dense) : dstStrides;
  const char *s = static_cast<const char *>(src.aligned);
  char *d = static_cast<char *>(dst);
  std::vector<int64_t> idx(rank, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t sOff = src.offset, dOff = 0;
    for (size_t r = 0; r < rank; ++r) {
      sOff += idx[r] * src.strides[r];
      dOff += idx[r] * dStrides[r];
    }
    std::memcpy(d + dOff * elementBytes, s + sOff * elementBytes, elementBytes);
    for (size_t r = rank; r-- > 0;) {
      if (++idx[r] < src.sizes[r])
        break;
      idx[r] = 0;
    }
  }
}

namespace {
/// The unranked memref descriptor the lowering passes to `memrefCopy`.
struct UnrankedDescriptor {
  int64_t rank;
  void *descriptor;
};
} // namespace

extern "C" void attnqatMemrefCopy(int64_t elemSize, void *srcArg,
                                  void *dstArg) {
  auto *src = static_cast<UnrankedDescriptor *>(srcArg);
  auto *dst = static_cast<UnrankedDescriptor *>(dstArg);
  int64_t rank = src->rank;
  auto *s = static_cast<char **>(src->descriptor);
  auto *d = static_cast<char **>(dst->descriptor);
  const int64_t *sMeta = reinterpret_cast<const int64_t *>(s + 2);
  const int64_t *dMeta = reinterpret_cast<const int64_t *>(d + 2);
  char *sBase = s[1] + sMeta[0] * elemSize;
  char *dBase = d[1] + dMeta[0] * elemSize;
  if (rank == 0) {
    std::memcpy(dBase, sBase, elemSize);
    return;
  }
  const int64_t *sizes = sMeta + 1;
  const int64_t *sStrides = sMeta + 1 + rank;
  const int64_t *dStrides = dMeta + 1 + rank;
  for (int64_t r = 0; r < rank; ++r)
    if (sizes[r] == 0)
      return;
  std::vector<int64_t> idx(static_cast<size_t>(rank), 0);
  int64_t inner = sizes[rank - 1];
  bool innerContiguous = sStrides[rank - 1] == 1 && dStrides[rank - 1] == 1;
  while (true) {
    int64_t sOff = 0, dOff = 0;
    for (int64_t r = 0; r < rank - 1; ++r) {
      sOff += idx[r] * sStrides[r];
      dOff += idx[r] * dStrides[r];
    }
    if (innerContiguous) {
      std::memmove(dBase + dOff * elemSize, sBase + sOff * elemSize,
                   inner * elemSize);
    } else {
      for (int64_t j = 0; j < inner; ++j)
        std::memmove(dBase + (dOff + j * dStrides[rank - 1]) * elemSize,
                     sBase + (sOff + j * sStrides[rank - 1]) * elemSize,
                     elemSize);
    }
    int64_t r = rank - 2;
    for (; r >= 0; --r) {
      if (++idx[r] < sizes[r])
        break;
      idx[r] = 0;
    }
    if (r < 0)
      return;
  }
}
