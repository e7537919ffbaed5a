#pragma once
// The launchers of convis's own CUDA kernels (kernels.cu), callable from host-compiled code.
// Each queues its kernel on the context's stream and checks the launch. Defined for float and
// double (fill also for int and unsigned long long).
#include <cstddef>
#include <cstdint>

#include "../../core/op_desc.hpp"

namespace convis::gpu_detail {

template <class T>
void fill(std::size_t n, T value, T* y);
template <class T>
void relu_forward(std::size_t n, const T* x, T* y);
template <class T>
void relu_backward(std::size_t n, const T* y, const T* gy, T* gx);
template <class T>
void rectify(rectify_mode mode, std::size_t n, const T* y, const T* g, T* out);
template <class T>
void multiply(std::size_t n, const T* a, const T* b, T* out);
/// y = x · mask, mask = keep_scale where counter_random::uniform(stream, i) >= p, else 0.
template <class T>
void dropout(std::size_t n, double p, std::uint64_t stream, T keep_scale, const T* x, T* y, T* mask);
template <class T>
void maxpool_forward(const pool2d_desc& d, const T* x, T* y, std::int32_t* switches);
template <class T>
void maxpool_backward(const pool2d_desc& d, const T* gy, const std::int32_t* switches, T* gx);
/// Writes `value` into box d of every channel of one picture.
template <class T>
void fill_box(const box_desc& d, T value, T* image);
/// y[b, o] += bias[o] over a row-major [batch, out] matrix.
template <class T>
void add_bias_rows(int batch, int out, const T* bias, T* y);
/// gb[o] += Σ_b gy[b, o].
template <class T>
void bias_gradient_rows(int batch, int out, const T* gy, T* gb);
template <class T>
void sgd_update(std::size_t n, T* p, const T* g, T* buf, double lr, double momentum, double weight_decay, bool first);
/// Rescales each of `filters` filters of `size` weights whose RMS exceeds `radius`; adds the
/// number rescaled to *scaled (device memory).
template <class T>
void renormalise(std::int64_t filters, std::size_t size, T* w, double radius, unsigned long long* scaled);

template <class T>
void add(std::size_t n, const T* a, const T* b, T* out);
template <class T>
void avgpool_forward(const avgpool_desc& d, const T* x, T* y);
template <class T>
void avgpool_backward(const avgpool_desc& d, const T* gy, T* gx);
template <class T>
void batchnorm_statistics(const batchnorm_desc& d, const T* x, T* mean, T* invstd, T* running_mean, T* running_var);
template <class T>
void batchnorm_running(const batchnorm_desc& d, const T* running_mean, const T* running_var, T* mean, T* invstd);
template <class T>
void batchnorm_apply(const batchnorm_desc& d, const T* x, const T* mean, const T* invstd, const T* weight, const T* bias,
                     T* y);
template <class T>
void batchnorm_backward(const batchnorm_desc& d, bool batch_statistics, const T* x, const T* gy, const T* mean,
                        const T* invstd, const T* weight, T* gx, T* gweight, T* gbias);

}  // namespace convis::gpu_detail
