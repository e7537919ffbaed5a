#pragma once
// Every CUDA, cuDNN and cuBLAS call is checked: a failure becomes a convis::error naming the call
// and the library's own status string.
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <string>

#include "../../core/error.hpp"

namespace convis::gpu_detail {

inline void check(cudaError_t status, const char* call) {
    if (status == cudaSuccess) return;
    cudaGetLastError();  // clear a non-sticky error, so the next call does not report it again
    throw error(std::string(call) + ": " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")");
}
inline void check(cudnnStatus_t status, const char* call) {
    if (status == CUDNN_STATUS_SUCCESS) return;
    throw error(std::string(call) + ": " + cudnnGetErrorString(status));
}
inline void check(cublasStatus_t status, const char* call) {
    if (status == CUBLAS_STATUS_SUCCESS) return;
    throw error(std::string(call) + ": " + cublasGetStatusName(status) + " (" + cublasGetStatusString(status) + ")");
}

/// A kernel launch reports its errors through cudaGetLastError.
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

}  // namespace convis::gpu_detail

/// Checks one CUDA, cuDNN or cuBLAS call; the message names the call as written.
#define CONVIS_GPU_CHECK(call) ::convis::gpu_detail::check((call), #call)
