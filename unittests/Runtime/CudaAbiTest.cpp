//===- CudaAbiTest.cpp - CudaDriver.h against the real cuda.h -------------===//
//
// Built only where cuda.h is installed: the runtime declares the driver types
// and constants itself (no cuda.h at build time); this checks they match.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"

#include <cuda.h>

#include "gtest/gtest.h"

#include <cstddef>

namespace cu = mlir::attnqat::rt::cuda;

#define SAME(name) static_assert(int(cu::name) == int(::name), #name)

SAME(CUDA_SUCCESS);
SAME(CUDA_ERROR_INVALID_VALUE);
SAME(CUDA_ERROR_OUT_OF_MEMORY);
SAME(CUDA_ERROR_NOT_INITIALIZED);
SAME(CUDA_ERROR_STUB_LIBRARY);
SAME(CUDA_ERROR_NO_DEVICE);
SAME(CUDA_ERROR_INVALID_DEVICE);
SAME(CUDA_ERROR_NOT_SUPPORTED);
SAME(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
SAME(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X);
SAME(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y);
SAME(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z);
SAME(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
SAME(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
SAME(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
SAME(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
SAME(CU_DEVICE_ATTRIBUTE_CLUSTER_LAUNCH);
SAME(CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
SAME(CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES);
SAME(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES);
SAME(CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED);
SAME(CU_POINTER_ATTRIBUTE_CONTEXT);
SAME(CU_POINTER_ATTRIBUTE_MEMORY_TYPE);
SAME(CU_POINTER_ATTRIBUTE_IS_MANAGED);
SAME(CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL);
SAME(CU_POINTER_ATTRIBUTE_RANGE_START_ADDR);
SAME(CU_POINTER_ATTRIBUTE_RANGE_SIZE);
SAME(CU_MEMORYTYPE_HOST);
SAME(CU_MEMORYTYPE_DEVICE);
SAME(CU_MEMORYTYPE_ARRAY);
SAME(CU_MEMORYTYPE_UNIFIED);
SAME(CU_JIT_INFO_LOG_BUFFER);
SAME(CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES);
SAME(CU_JIT_ERROR_LOG_BUFFER);
SAME(CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES);
SAME(CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION);

TEST(CudaAbiTest, LaunchStructsMatchCudaH) {
  EXPECT_EQ(sizeof(cu::CUlaunchAttribute), sizeof(::CUlaunchAttribute));
  EXPECT_EQ(offsetof(cu::CUlaunchAttribute, value),
            offsetof(::CUlaunchAttribute, value));
  EXPECT_EQ(sizeof(cu::CUlaunchConfig), sizeof(::CUlaunchConfig));
  EXPECT_EQ(offsetof(cu::CUlaunchConfig, hStream),
            offsetof(::CUlaunchConfig, hStream));
  EXPECT_EQ(offsetof(cu::CUlaunchConfig, attrs),
            offsetof(::CUlaunchConfig, attrs));
  EXPECT_EQ(offsetof(cu::CUlaunchConfig, numAttrs),
            offsetof(::CUlaunchConfig, numAttrs));
  EXPECT_EQ(sizeof(cu::CUdeviceptr), sizeof(::CUdeviceptr));
  EXPECT_EQ(sizeof(cu::CUdevice), sizeof(::CUdevice));
  EXPECT_EQ(sizeof(cu::CUresult), sizeof(::CUresult));
}
