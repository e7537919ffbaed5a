#pragma once
// The GPU policy: device memory, the stream and the library handles every op runs on.
//
// One context per process, made on first use: the current device's stream (non-blocking), a
// cuDNN handle and a cuBLAS handle bound to it. Work is queued on that stream in order; a copy to
// the host waits for it. A GPU model is used from one thread at a time (as a CPU model is).
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "../../core/buffer.hpp"
#include "../../core/error.hpp"
#include "../../core/policy.hpp"
#include "check.hpp"
#include "kernels.hpp"

namespace convis {

template <class T>
class device_buffer;

/// The cuDNN/cuBLAS policy. Model<Net, gpu> keeps parameters, trace and scratch in device memory.
struct gpu {
    static constexpr const char* name = "gpu";
    static constexpr bool host_memory = false;
    template <class T>
    using buffer = device_buffer<T>;

    /// Let cuDNN and cuBLAS use TF32 tensor cores for float (about 1e-3 relative error). Off by
    /// default: plain float agrees with the CPU policy to 1e-4. Read when an op's algorithm is
    /// chosen, so set it before the first pass.
    static inline bool allow_tf32 = false;
    /// Training's backward passes use deterministic cuDNN algorithms only, so a run repeats bit for
    /// bit. A backward without parameter gradients (the deconvnet, saliency) takes the fastest
    /// algorithm, which may sum in a different order from run to run (last-bit differences) and is
    /// up to 6× faster at batch 1; set this to make those deterministic too.
    static inline bool deterministic_projection = false;
};

namespace gpu_detail {

class context {
public:
    context() {
        int count = 0;
        const cudaError_t s = cudaGetDeviceCount(&count);
        if (s != cudaSuccess || count == 0) {
            cudaGetLastError();
            throw error(std::string("convis::gpu: no CUDA device is present (cudaGetDeviceCount: ") +
                        (s != cudaSuccess ? cudaGetErrorString(s) : "0 devices") + ")");
        }
        CONVIS_GPU_CHECK(cudaGetDevice(&device_));
        CONVIS_GPU_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
        CONVIS_GPU_CHECK(cudnnCreate(&cudnn_));
        CONVIS_GPU_CHECK(cudnnSetStream(cudnn_, stream_));
        CONVIS_GPU_CHECK(cublasCreate(&cublas_));
        CONVIS_GPU_CHECK(cublasSetStream(cublas_, stream_));
    }
    ~context() {
        if (cublas_) cublasDestroy(cublas_);
        if (cudnn_) cudnnDestroy(cudnn_);
        if (stream_) cudaStreamDestroy(stream_);
    }
    context(const context&) = delete;
    context& operator=(const context&) = delete;

    cudaStream_t stream() const { return stream_; }
    cudnnHandle_t cudnn() const { return cudnn_; }
    cublasHandle_t cublas() const { return cublas_; }
    void synchronize() const { CONVIS_GPU_CHECK(cudaStreamSynchronize(stream_)); }

private:
    int device_ = 0;
    cudaStream_t stream_ = nullptr;
    cudnnHandle_t cudnn_ = nullptr;
    cublasHandle_t cublas_ = nullptr;
};

/// The process's context; made on first use, which is where "no device" is reported.
inline context& ctx() {
    static context c;
    return c;
}

inline void* device_allocate(std::size_t bytes) {
    ctx();
    void* p = nullptr;
    const cudaError_t s = cudaMalloc(&p, bytes);
    if (s != cudaSuccess) {
        cudaGetLastError();
        std::size_t free = 0, total = 0;
        cudaMemGetInfo(&free, &total);
        throw error("cudaMalloc of " + std::to_string(bytes) + " bytes (" + std::to_string(bytes >> 20) +
                    " MiB): " + cudaGetErrorName(s) + " (" + cudaGetErrorString(s) + "); the device has " +
                    std::to_string(free >> 20) + " MiB free of " + std::to_string(total >> 20) + " MiB");
    }
    return p;
}


}  // namespace gpu_detail

/// Device memory that is allocated once and reused, with host_buffer's interface minus element
/// access: growing reallocates (keeping the contents), shrinking keeps the capacity.
template <class T>
class device_buffer {
public:
    device_buffer() = default;
    explicit device_buffer(std::size_t n) { resize(n); }
    device_buffer(const device_buffer& o) { *this = o; }
    device_buffer(device_buffer&& o) noexcept { swap(o); }
    device_buffer& operator=(const device_buffer& o) {
        if (this != &o) {
            resize(o.size_);
            if (o.size_)
                CONVIS_GPU_CHECK(cudaMemcpyAsync(data_, o.data_, o.size_ * sizeof(T), cudaMemcpyDeviceToDevice,
                                                 gpu_detail::ctx().stream()));
        }
        return *this;
    }
    device_buffer& operator=(device_buffer&& o) noexcept {
        swap(o);
        return *this;
    }
    ~device_buffer() { release(); }

    void resize(std::size_t n) {
        if (n > capacity_) {
            T* fresh = static_cast<T*>(gpu_detail::device_allocate(n * sizeof(T)));
            if (size_)
                CONVIS_GPU_CHECK(cudaMemcpyAsync(fresh, data_, size_ * sizeof(T), cudaMemcpyDeviceToDevice,
                                                 gpu_detail::ctx().stream()));
            release();
            data_ = fresh;
            capacity_ = n;
        }
        size_ = n;
    }
    void fill(T v) { gpu_detail::fill(size_, v, data_); }

    T* data() { return data_; }
    const T* data() const { return data_; }
    std::size_t size() const { return size_; }
    std::size_t capacity() const { return capacity_; }

    void swap(device_buffer& o) noexcept {
        std::swap(data_, o.data_);
        std::swap(size_, o.size_);
        std::swap(capacity_, o.capacity_);
    }

private:
    void release() {
        if (data_) {
            // Work queued on the (non-blocking) stream may still read this memory — a growing
            // buffer's own copy, a cuDNN call's workspace. Wait for the device first rather than
            // rely on cudaFree's implicit synchronisation; frees are rare (buffers only grow).
            cudaDeviceSynchronize();
            cudaFree(data_);
        }
        data_ = nullptr;
        capacity_ = size_ = 0;
    }
    T* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

/// The number of CUDA devices present (0 where there is no driver or no device); never throws.
inline int gpu_device_count() {
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return count;
}

}  // namespace convis
