// The CUDA kernels for what cuDNN and cuBLAS do not do, or do differently: element-wise ops, the
// three rectify modes, dropout (the CPU's counter-based mask, bit for bit), max-pooling with
// switches, average pooling, batch normalisation (the CPU's formulas, sums in double), the bias of Linear, and the optimiser's update and filter renormalisation.
//
// The one file of convis that nvcc compiles: CMake builds it into convis::gpu (a user without
// CMake compiles it once with nvcc and links it). Everything else — the templates of layers,
// models and analyses — stays with the host compiler; kernels.hpp declares what is here.
#include "kernels.hpp"

#include <cmath>

#include "../../core/counter_random.hpp"
#include "device.hpp"

namespace convis::gpu_detail {
namespace {

constexpr int threads_per_block = 256;

/// Enough blocks to cover n with grid-stride loops, capped (the loops do the rest).
inline unsigned blocks_for(std::size_t n) {
    const std::size_t b = (n + threads_per_block - 1) / threads_per_block;
    return unsigned(b < 1 ? 1 : (b > 65536 ? 65536 : b));
}

#define CONVIS_GRID_STRIDE(i, n)                                                                      \
    for (std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n);                 \
         i += std::size_t(blockDim.x) * gridDim.x)

template <class T>
__global__ void fill_kernel(std::size_t n, T v, T* y) {
    CONVIS_GRID_STRIDE(i, n) y[i] = v;
}
template <class T>
__global__ void relu_forward_kernel(std::size_t n, const T* x, T* y) {
    CONVIS_GRID_STRIDE(i, n) y[i] = x[i] > T(0) ? x[i] : T(0);
}
template <class T>
__global__ void relu_backward_kernel(std::size_t n, const T* y, const T* gy, T* gx) {
    CONVIS_GRID_STRIDE(i, n) gx[i] = y[i] > T(0) ? gy[i] : T(0);
}
template <class T>
__global__ void rectify_kernel(rectify_mode mode, std::size_t n, const T* y, const T* g, T* out) {
    CONVIS_GRID_STRIDE(i, n) out[i] = rectified(mode, y[i], g[i]);
}
template <class T>
__global__ void multiply_kernel(std::size_t n, const T* a, const T* b, T* out) {
    CONVIS_GRID_STRIDE(i, n) out[i] = a[i] * b[i];
}
template <class T>
__global__ void dropout_kernel(std::size_t n, double p, std::uint64_t stream, T keep_scale, const T* x, T* y,
                               T* mask) {
    CONVIS_GRID_STRIDE(i, n) {
        const T m = counter_random::uniform(stream, std::uint64_t(i)) >= p ? keep_scale : T(0);
        mask[i] = m;
        y[i] = x[i] * m;
    }
}

/// One thread per output: the window clipped to the input; ties keep the first maximum in scan
/// order, NaN wins (the CPU's and PyTorch's rule).
template <class T>
__global__ void maxpool_forward_kernel(pool2d_desc d, const T* x, T* y, std::int32_t* switches) {
    const std::size_t out_plane = std::size_t(d.out_h) * d.out_w;
    const std::size_t n = std::size_t(d.batch) * d.channels * out_plane;
    CONVIS_GRID_STRIDE(i, n) {
        const std::size_t plane = i / out_plane;
        const int o = int(i % out_plane), oh = o / d.out_w, ow = o % d.out_w;
        const T* xp = x + plane * std::size_t(d.in_h) * d.in_w;
        const int h0 = max(oh * d.stride - d.pad, 0), h1 = min(oh * d.stride - d.pad + d.kernel, d.in_h);
        const int w0 = max(ow * d.stride - d.pad, 0), w1 = min(ow * d.stride - d.pad + d.kernel, d.in_w);
        T best = -INFINITY;
        int at = h0 * d.in_w + w0;
        for (int h = h0; h < h1; ++h)
            for (int w = w0; w < w1; ++w) {
                const T v = xp[h * d.in_w + w];
                if (v > best || v != v) {
                    best = v;
                    at = h * d.in_w + w;
                }
            }
        y[i] = best;
        switches[i] = at;
    }
}

/// One thread per input: sums the gradients of the outputs whose switch points at it, in output
/// order — overlapping windows add, without atomics, so the result is the same on every run.
template <class T>
__global__ void maxpool_backward_kernel(pool2d_desc d, const T* gy, const std::int32_t* switches, T* gx) {
    const std::size_t in_plane = std::size_t(d.in_h) * d.in_w, out_plane = std::size_t(d.out_h) * d.out_w;
    const std::size_t n = std::size_t(d.batch) * d.channels * in_plane;
    CONVIS_GRID_STRIDE(i, n) {
        const std::size_t plane = i / in_plane;
        const int at = int(i % in_plane), h = at / d.in_w, w = at % d.in_w;
        // Outputs whose window covers h: oh·s − p ≤ h < oh·s − p + k.
        const int oh0 = max(0, (h + d.pad - d.kernel + d.stride) / d.stride);
        const int oh1 = min(d.out_h - 1, (h + d.pad) / d.stride);
        const int ow0 = max(0, (w + d.pad - d.kernel + d.stride) / d.stride);
        const int ow1 = min(d.out_w - 1, (w + d.pad) / d.stride);
        const T* g = gy + plane * out_plane;
        const std::int32_t* s = switches + plane * out_plane;
        T sum = T(0);
        for (int oh = oh0; oh <= oh1; ++oh)
            for (int ow = ow0; ow <= ow1; ++ow) {
                const int o = oh * d.out_w + ow;
                if (s[o] == at) sum += g[o];
            }
        gx[i] = sum;
    }
}

template <class T>
__global__ void fill_box_kernel(box_desc d, T value, T* image) {
    const std::size_t n = std::size_t(d.channels) * d.box_height * d.box_width;
    CONVIS_GRID_STRIDE(i, n) {
        const int c = int(i / (std::size_t(d.box_height) * d.box_width));
        const int r = int(i % (std::size_t(d.box_height) * d.box_width));
        const int y = d.y + r / d.box_width, x = d.x + r % d.box_width;
        image[(std::size_t(c) * d.height + y) * d.width + x] = value;
    }
}

/// y[b, o] += bias[o] (Linear's output, row-major [batch, out]).
template <class T>
__global__ void add_bias_rows_kernel(int batch, int out, const T* bias, T* y) {
    CONVIS_GRID_STRIDE(i, std::size_t(batch) * out) y[i] += bias[i % std::size_t(out)];
}
/// gb[o] += Σ_b gy[b, o], one thread per feature, in batch order.
template <class T>
__global__ void bias_gradient_rows_kernel(int batch, int out, const T* gy, T* gb) {
    CONVIS_GRID_STRIDE(o, std::size_t(out)) {
        T s = T(0);
        for (int b = 0; b < batch; ++b) s += gy[std::size_t(b) * out + o];
        gb[o] += s;
    }
}

template <class T>
__global__ void sgd_update_kernel(std::size_t n, T* p, const T* g, T* buf, double lr, double momentum,
                                  double weight_decay, bool first) {
    CONVIS_GRID_STRIDE(i, n) {
        const double d = double(g[i]) + weight_decay * double(p[i]);
        buf[i] = T(first ? d : momentum * double(buf[i]) + d);
        p[i] = T(double(p[i]) - lr * double(buf[i]));
    }
}

/// One block per filter: the sum of squares in double, then the rescale if its RMS exceeds the
/// radius; `scaled` counts the filters rescaled.
template <class T>
__global__ void renormalise_kernel(std::size_t size, T* w, double radius, unsigned long long* scaled) {
    __shared__ double partial[threads_per_block];
    T* x = w + std::size_t(blockIdx.x) * size;
    double ss = 0;
    for (std::size_t i = threadIdx.x; i < size; i += blockDim.x) ss += double(x[i]) * double(x[i]);
    partial[threadIdx.x] = ss;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
        __syncthreads();
    }
    const double rms = sqrt(partial[0] / double(size));
    if (!(rms > radius)) return;
    const double scale = radius / rms;
    for (std::size_t i = threadIdx.x; i < size; i += blockDim.x) x[i] = T(double(x[i]) * scale);
    if (threadIdx.x == 0) atomicAdd(scaled, 1ull);
}


template <class T>
__global__ void add_kernel(std::size_t n, const T* a, const T* b, T* out) {
    CONVIS_GRID_STRIDE(i, n) out[i] = a[i] + b[i];
}

/// One thread per output: the mean of its window (op_desc.hpp's avgpool_window, as on the CPU).
template <class T>
__global__ void avgpool_forward_kernel(avgpool_desc d, const T* x, T* y) {
    const std::size_t in_plane = std::size_t(d.in_h) * d.in_w, out_plane = std::size_t(d.out_h) * d.out_w;
    const std::size_t n = std::size_t(d.batch) * d.channels * out_plane;
    CONVIS_GRID_STRIDE(i, n) {
        const std::size_t plane = i / out_plane;
        const int o = int(i % out_plane), oh = o / d.out_w, ow = o % d.out_w;
        const pool_window r = avgpool_window(d, oh, d.in_h, d.out_h), c = avgpool_window(d, ow, d.in_w, d.out_w);
        const T* xp = x + plane * in_plane;
        T sum = T(0);
        for (int h = r.begin; h < r.end; ++h)
            for (int w = c.begin; w < c.end; ++w) sum += xp[std::size_t(h) * d.in_w + w];
        y[i] = r.count * c.count > 0 ? sum / T(r.count * c.count) : T(0);
    }
}
/// One thread per input: the shares of every output whose window covers it, without atomics.
template <class T>
__global__ void avgpool_backward_kernel(avgpool_desc d, const T* gy, T* gx) {
    const std::size_t in_plane = std::size_t(d.in_h) * d.in_w, out_plane = std::size_t(d.out_h) * d.out_w;
    const std::size_t n = std::size_t(d.batch) * d.channels * in_plane;
    CONVIS_GRID_STRIDE(i, n) {
        const std::size_t plane = i / in_plane;
        const int at = int(i % in_plane), h = at / d.in_w, w = at % d.in_w;
        const T* g = gy + plane * out_plane;
        T sum = T(0);
        // Windows are scanned whole: pooling outputs are few, and the adaptive rule has no closed
        // inverse that is simpler than the test.
        for (int oh = 0; oh < d.out_h; ++oh) {
            const pool_window r = avgpool_window(d, oh, d.in_h, d.out_h);
            if (h < r.begin || h >= r.end) continue;
            for (int ow = 0; ow < d.out_w; ++ow) {
                const pool_window c = avgpool_window(d, ow, d.in_w, d.out_w);
                if (w < c.begin || w >= c.end || r.count * c.count == 0) continue;
                sum += g[std::size_t(oh) * d.out_w + ow] / T(r.count * c.count);
            }
        }
        gx[i] = sum;
    }
}

/// Block-wide sum of two doubles per thread; thread 0 gets the totals.
__device__ inline void block_sum2(double& a, double& b) {
    __shared__ double pa[threads_per_block], pb[threads_per_block];
    pa[threadIdx.x] = a;
    pb[threadIdx.x] = b;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            pa[threadIdx.x] += pa[threadIdx.x + s];
            pb[threadIdx.x] += pb[threadIdx.x + s];
        }
        __syncthreads();
    }
    a = pa[0];
    b = pb[0];
    __syncthreads();
}

/// One block per channel: the batch's mean and invstd (two passes, in double), and the running
/// averages when asked.
template <class T>
__global__ void batchnorm_statistics_kernel(batchnorm_desc d, const T* x, T* mean, T* invstd, T* running_mean,
                                            T* running_var) {
    const int c = blockIdx.x;
    const std::size_t plane = std::size_t(d.plane), count = std::size_t(d.batch) * plane;
    double s = 0, unused = 0;
    for (std::size_t i = threadIdx.x; i < count; i += blockDim.x)
        s += double(x[(i / plane * d.channels + c) * plane + i % plane]);
    block_sum2(s, unused);
    const double mu = s / double(count);
    double sq = 0;
    unused = 0;
    for (std::size_t i = threadIdx.x; i < count; i += blockDim.x) {
        const double v = double(x[(i / plane * d.channels + c) * plane + i % plane]) - mu;
        sq += v * v;
    }
    block_sum2(sq, unused);
    if (threadIdx.x != 0) return;
    const double var = sq / double(count);
    mean[c] = T(mu);
    invstd[c] = T(1.0 / sqrt(var + d.eps));
    if (running_mean) {
        const double unbiased = count > 1 ? sq / double(count - 1) : var;
        running_mean[c] = T((1 - d.momentum) * double(running_mean[c]) + d.momentum * mu);
        running_var[c] = T((1 - d.momentum) * double(running_var[c]) + d.momentum * unbiased);
    }
}
template <class T>
__global__ void batchnorm_running_kernel(batchnorm_desc d, const T* running_mean, const T* running_var, T* mean,
                                         T* invstd) {
    CONVIS_GRID_STRIDE(c, std::size_t(d.channels)) {
        mean[c] = running_mean[c];
        invstd[c] = T(1.0 / sqrt(double(running_var[c]) + d.eps));
    }
}
template <class T>
__global__ void batchnorm_apply_kernel(batchnorm_desc d, const T* x, const T* mean, const T* invstd, const T* weight,
                                       const T* bias, T* y) {
    const std::size_t n = std::size_t(d.batch) * d.channels * d.plane;
    CONVIS_GRID_STRIDE(i, n) {
        const int c = int(i / std::size_t(d.plane) % std::size_t(d.channels));
        const T scale = invstd[c] * weight[c];
        y[i] = x[i] * scale + (bias[c] - mean[c] * scale);
    }
}
/// One block per channel: Σgy and Σgy·x̂, then the input gradient (as ops<cpu>::batchnorm_backward).
template <class T>
__global__ void batchnorm_backward_kernel(batchnorm_desc d, bool batch_statistics, const T* x, const T* gy,
                                          const T* mean, const T* invstd, const T* weight, T* gx, T* gweight,
                                          T* gbias) {
    const int c = blockIdx.x;
    const std::size_t plane = std::size_t(d.plane), count = std::size_t(d.batch) * plane;
    const double mu = double(mean[c]), is = double(invstd[c]);
    double sg = 0, sgx = 0;
    const bool sums = batch_statistics || gweight || gbias;
    if (sums && x) {
        for (std::size_t i = threadIdx.x; i < count; i += blockDim.x) {
            const std::size_t at = (i / plane * d.channels + c) * plane + i % plane;
            sg += double(gy[at]);
            sgx += double(gy[at]) * (double(x[at]) - mu) * is;
        }
    }
    block_sum2(sg, sgx);
    if (threadIdx.x == 0) {
        if (gweight) gweight[c] += T(sgx);
        if (gbias) gbias[c] += T(sg);
    }
    if (!gx) return;
    const double k = double(weight[c]) * is;
    const double mg = batch_statistics ? sg / double(count) : 0, mgx = batch_statistics ? sgx / double(count) : 0;
    for (std::size_t i = threadIdx.x; i < count; i += blockDim.x) {
        const std::size_t at = (i / plane * d.channels + c) * plane + i % plane;
        gx[at] = batch_statistics ? T(k * (double(gy[at]) - mg - (double(x[at]) - mu) * is * mgx)) : T(k * double(gy[at]));
    }
}

}  // namespace

#define CONVIS_LAUNCH(kernel, n, ...)                                                                 \
    do {                                                                                              \
        kernel<<<blocks_for(n), threads_per_block, 0, ctx().stream()>>>(__VA_ARGS__);                 \
        check_launch(#kernel);                                                                        \
    } while (0)

template <class T>
void fill(std::size_t n, T value, T* y) {
    if (n) CONVIS_LAUNCH(fill_kernel<T>, n, n, value, y);
}
template <class T>
void relu_forward(std::size_t n, const T* x, T* y) {
    if (n) CONVIS_LAUNCH(relu_forward_kernel<T>, n, n, x, y);
}
template <class T>
void relu_backward(std::size_t n, const T* y, const T* gy, T* gx) {
    if (n) CONVIS_LAUNCH(relu_backward_kernel<T>, n, n, y, gy, gx);
}
template <class T>
void rectify(rectify_mode mode, std::size_t n, const T* y, const T* g, T* out) {
    if (n) CONVIS_LAUNCH(rectify_kernel<T>, n, mode, n, y, g, out);
}
template <class T>
void multiply(std::size_t n, const T* a, const T* b, T* out) {
    if (n) CONVIS_LAUNCH(multiply_kernel<T>, n, n, a, b, out);
}
template <class T>
void dropout(std::size_t n, double p, std::uint64_t stream, T keep_scale, const T* x, T* y, T* mask) {
    if (n) CONVIS_LAUNCH(dropout_kernel<T>, n, n, p, stream, keep_scale, x, y, mask);
}
template <class T>
void maxpool_forward(const pool2d_desc& d, const T* x, T* y, std::int32_t* switches) {
    const std::size_t n = std::size_t(d.batch) * d.channels * d.out_h * d.out_w;
    if (n) CONVIS_LAUNCH(maxpool_forward_kernel<T>, n, d, x, y, switches);
}
template <class T>
void maxpool_backward(const pool2d_desc& d, const T* gy, const std::int32_t* switches, T* gx) {
    const std::size_t n = std::size_t(d.batch) * d.channels * d.in_h * d.in_w;
    if (n) CONVIS_LAUNCH(maxpool_backward_kernel<T>, n, d, gy, switches, gx);
}
template <class T>
void fill_box(const box_desc& d, T value, T* image) {
    const std::size_t n = std::size_t(d.channels) * d.box_height * d.box_width;
    if (n) CONVIS_LAUNCH(fill_box_kernel<T>, n, d, value, image);
}
template <class T>
void add_bias_rows(int batch, int out, const T* bias, T* y) {
    const std::size_t n = std::size_t(batch) * out;
    if (n) CONVIS_LAUNCH(add_bias_rows_kernel<T>, n, batch, out, bias, y);
}
template <class T>
void bias_gradient_rows(int batch, int out, const T* gy, T* gb) {
    if (out > 0) CONVIS_LAUNCH(bias_gradient_rows_kernel<T>, std::size_t(out), batch, out, gy, gb);
}
template <class T>
void sgd_update(std::size_t n, T* p, const T* g, T* buf, double lr, double momentum, double weight_decay, bool first) {
    if (n) CONVIS_LAUNCH(sgd_update_kernel<T>, n, n, p, g, buf, lr, momentum, weight_decay, first);
}
template <class T>
void renormalise(std::int64_t filters, std::size_t size, T* w, double radius, unsigned long long* scaled) {
    if (filters <= 0) return;
    renormalise_kernel<T><<<unsigned(filters), threads_per_block, 0, ctx().stream()>>>(size, w, radius, scaled);
    check_launch("renormalise_kernel");
}
template <class T>
void add(std::size_t n, const T* a, const T* b, T* out) {
    if (n) CONVIS_LAUNCH(add_kernel<T>, n, n, a, b, out);
}
template <class T>
void avgpool_forward(const avgpool_desc& d, const T* x, T* y) {
    const std::size_t n = std::size_t(d.batch) * d.channels * d.out_h * d.out_w;
    if (n) CONVIS_LAUNCH(avgpool_forward_kernel<T>, n, d, x, y);
}
template <class T>
void avgpool_backward(const avgpool_desc& d, const T* gy, T* gx) {
    const std::size_t n = std::size_t(d.batch) * d.channels * d.in_h * d.in_w;
    if (n) CONVIS_LAUNCH(avgpool_backward_kernel<T>, n, d, gy, gx);
}
template <class T>
void batchnorm_statistics(const batchnorm_desc& d, const T* x, T* mean, T* invstd, T* running_mean, T* running_var) {
    if (d.channels <= 0) return;
    batchnorm_statistics_kernel<T><<<unsigned(d.channels), threads_per_block, 0, ctx().stream()>>>(d, x, mean, invstd,
                                                                                                 running_mean, running_var);
    check_launch("batchnorm_statistics_kernel");
}
template <class T>
void batchnorm_running(const batchnorm_desc& d, const T* running_mean, const T* running_var, T* mean, T* invstd) {
    if (d.channels > 0) CONVIS_LAUNCH(batchnorm_running_kernel<T>, std::size_t(d.channels), d, running_mean, running_var, mean, invstd);
}
template <class T>
void batchnorm_apply(const batchnorm_desc& d, const T* x, const T* mean, const T* invstd, const T* weight, const T* bias,
                     T* y) {
    const std::size_t n = std::size_t(d.batch) * d.channels * d.plane;
    if (n) CONVIS_LAUNCH(batchnorm_apply_kernel<T>, n, d, x, mean, invstd, weight, bias, y);
}
template <class T>
void batchnorm_backward(const batchnorm_desc& d, bool batch_statistics, const T* x, const T* gy, const T* mean,
                        const T* invstd, const T* weight, T* gx, T* gweight, T* gbias) {
    if (d.channels <= 0) return;
    batchnorm_backward_kernel<T><<<unsigned(d.channels), threads_per_block, 0, ctx().stream()>>>(
        d, batch_statistics, x, gy, mean, invstd, weight, gx, gweight, gbias);
    check_launch("batchnorm_backward_kernel");
}

#define CONVIS_INSTANTIATE(T)                                                                                   \
    template void fill<T>(std::size_t, T, T*);                                                                  \
    template void relu_forward<T>(std::size_t, const T*, T*);                                                   \
    template void relu_backward<T>(std::size_t, const T*, const T*, T*);                                        \
    template void rectify<T>(rectify_mode, std::size_t, const T*, const T*, T*);                                \
    template void multiply<T>(std::size_t, const T*, const T*, T*);                                             \
    template void dropout<T>(std::size_t, double, std::uint64_t, T, const T*, T*, T*);                          \
    template void maxpool_forward<T>(const pool2d_desc&, const T*, T*, std::int32_t*);                          \
    template void maxpool_backward<T>(const pool2d_desc&, const T*, const std::int32_t*, T*);                   \
    template void fill_box<T>(const box_desc&, T, T*);                                                          \
    template void add_bias_rows<T>(int, int, const T*, T*);                                                     \
    template void bias_gradient_rows<T>(int, int, const T*, T*);                                                \
    template void sgd_update<T>(std::size_t, T*, const T*, T*, double, double, double, bool);                   \
    template void renormalise<T>(std::int64_t, std::size_t, T*, double, unsigned long long*);                  \
    template void add<T>(std::size_t, const T*, const T*, T*);                                                  \
    template void avgpool_forward<T>(const avgpool_desc&, const T*, T*);                                        \
    template void avgpool_backward<T>(const avgpool_desc&, const T*, T*);                                       \
    template void batchnorm_statistics<T>(const batchnorm_desc&, const T*, T*, T*, T*, T*);                     \
    template void batchnorm_running<T>(const batchnorm_desc&, const T*, const T*, T*, T*);                      \
    template void batchnorm_apply<T>(const batchnorm_desc&, const T*, const T*, const T*, const T*, const T*, T*); \
    template void batchnorm_backward<T>(const batchnorm_desc&, bool, const T*, const T*, const T*, const T*, const T*, T*, T*, T*);
CONVIS_INSTANTIATE(float)
CONVIS_INSTANTIATE(double)
template void fill<unsigned long long>(std::size_t, unsigned long long, unsigned long long*);
template void fill<unsigned char>(std::size_t, unsigned char, unsigned char*);

}  // namespace convis::gpu_detail
