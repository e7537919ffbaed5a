#pragma once
// ops<gpu>: the op set on an NVIDIA GPU. Convolution, LRN and softmax through cuDNN; Linear through
// cuBLAS; the rest as convis's own kernels (kernels.cu, declared in kernels.hpp). This header is
// host code: the host compiler builds it, and only kernels.cu needs nvcc. Same signatures and semantics as ops<cpu>, so layers,
// models, the deconvnet and the trainer run unchanged; every pointer is device memory except
// upload's source and download's destination.
//
// Convolution algorithms are chosen once per layer shape (cudnnFind: measured, fastest first) and
// cached in the model's scratch with the workspace they need. Training's backward algorithms are
// taken only among the deterministic ones, so a training step gives the same result on every run
// (resume stays exact); a projection (backward data without parameter gradients) takes the fastest
// unless gpu::deterministic_projection is set. Plain float math unless gpu::allow_tf32 is set.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "../../core/counter_random.hpp"
#include "../../core/op_desc.hpp"
#include "../../core/policy.hpp"
#include "device.hpp"
#include "kernels.hpp"

namespace convis {

namespace gpu_detail {

template <class T>
constexpr cudnnDataType_t cudnn_type() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "convis::gpu: float or double only");
    return std::is_same_v<T, float> ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
}

/// RAII over the cuDNN descriptors an op needs.
struct tensor_desc {
    cudnnTensorDescriptor_t d = nullptr;
    tensor_desc() { CONVIS_GPU_CHECK(cudnnCreateTensorDescriptor(&d)); }
    ~tensor_desc() { cudnnDestroyTensorDescriptor(d); }
    tensor_desc(const tensor_desc&) = delete;
    tensor_desc& operator=(const tensor_desc&) = delete;
    template <class T>
    void set(int n, int c, int h, int w) {
        CONVIS_GPU_CHECK(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, cudnn_type<T>(), n, c, h, w));
    }
};
struct filter_desc {
    cudnnFilterDescriptor_t d = nullptr;
    filter_desc() { CONVIS_GPU_CHECK(cudnnCreateFilterDescriptor(&d)); }
    ~filter_desc() { cudnnDestroyFilterDescriptor(d); }
    filter_desc(const filter_desc&) = delete;
    filter_desc& operator=(const filter_desc&) = delete;
};
struct convolution_desc {
    cudnnConvolutionDescriptor_t d = nullptr;
    convolution_desc() { CONVIS_GPU_CHECK(cudnnCreateConvolutionDescriptor(&d)); }
    ~convolution_desc() { cudnnDestroyConvolutionDescriptor(d); }
    convolution_desc(const convolution_desc&) = delete;
    convolution_desc& operator=(const convolution_desc&) = delete;
};
struct lrn_descriptor {
    cudnnLRNDescriptor_t d = nullptr;
    lrn_descriptor() { CONVIS_GPU_CHECK(cudnnCreateLRNDescriptor(&d)); }
    ~lrn_descriptor() { cudnnDestroyLRNDescriptor(d); }
    lrn_descriptor(const lrn_descriptor&) = delete;
    lrn_descriptor& operator=(const lrn_descriptor&) = delete;
};

/// One convolution shape's descriptors and chosen algorithms.
struct conv_plan {
    tensor_desc x, y, bias;
    filter_desc w;
    convolution_desc conv;
    bool have_forward = false, have_backward = false;
    cudnnConvolutionFwdAlgo_t forward{};
    cudnnConvolutionBwdDataAlgo_t backward_data{}, projection{};  // deterministic; fastest
    cudnnConvolutionBwdFilterAlgo_t backward_filter{};
    std::size_t forward_bytes = 0, backward_data_bytes = 0, backward_filter_bytes = 0, projection_bytes = 0;
};

/// CONVIS_GPU_VERBOSE=1 in the environment: each convolution shape's chosen algorithms and cuDNN's
/// measured times go to stderr (what cudnnFind saw; the fastest overall beside the one taken).
inline bool verbose() {
    static const bool on = [] {
        const char* v = std::getenv("CONVIS_GPU_VERBOSE");
        return v && *v && std::string(v) != "0";
    }();
    return on;
}
template <class Perf>
void report(const char* what, const conv2d_desc& d, const Perf* results, int count, const Perf* chosen) {
    if (!verbose()) return;
    std::fprintf(stderr, "convis::gpu: %s n%d %dx%dx%d -> %dx%dx%d k%d s%d p%d: algo %d, %.3f ms, %zu B workspace",
                 what, d.batch, d.in_c, d.in_h, d.in_w, d.out_c, d.out_h, d.out_w, d.kernel, d.stride, d.pad,
                 int(chosen->algo), double(chosen->time), chosen->memory);
    if (count > 0 && results[0].status == CUDNN_STATUS_SUCCESS && &results[0] != chosen)
        std::fprintf(stderr, " (fastest: algo %d, %.3f ms, %s)", int(results[0].algo), double(results[0].time),
                     results[0].determinism == CUDNN_DETERMINISTIC ? "deterministic" : "non-deterministic");
    std::fprintf(stderr, "\n");
}

inline cudnnMathType_t float_math() { return gpu::allow_tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH; }

/// The first (fastest) result that succeeded, is allowed by the math setting and, when asked,
/// is deterministic.
template <class Perf>
const Perf* pick(const Perf* results, int count, bool deterministic, const char* what) {
    for (int i = 0; i < count; ++i) {
        const Perf& r = results[i];
        if (r.status != CUDNN_STATUS_SUCCESS) continue;
        if (deterministic && r.determinism != CUDNN_DETERMINISTIC) continue;
        // The descriptor's math type (FMA only, unless TF32 is allowed) is what runs; a result
        // measured with tensor cores would not be the algorithm that runs.
        if (!gpu::allow_tf32 && (r.mathType == CUDNN_TENSOR_OP_MATH || r.mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION))
            continue;
        return &r;
    }
    throw error(std::string("convis::gpu: cuDNN offers no usable algorithm for ") + what);
}

}  // namespace gpu_detail

/// What a GPU model keeps for its ops: the convolution plans by shape and one workspace.
template <class T>
struct scratch<gpu, T> {
    std::map<std::tuple<int, int, int, int, int, int, int, int, int, int>, std::unique_ptr<gpu_detail::conv_plan>> plans;
    device_buffer<unsigned char> workspace;

    void* workspace_of(std::size_t bytes) {
        workspace.resize(bytes);
        return bytes ? workspace.data() : nullptr;
    }

    gpu_detail::conv_plan& plan(const conv2d_desc& d) {
        using namespace gpu_detail;
        auto key = std::make_tuple(d.batch, d.in_c, d.in_h, d.in_w, d.out_c, d.out_h, d.out_w, d.kernel, d.stride, d.pad);
        auto it = plans.find(key);
        if (it != plans.end()) return *it->second;
        auto p = std::make_unique<conv_plan>();
        p->x.template set<T>(d.batch, d.in_c, d.in_h, d.in_w);
        p->y.template set<T>(d.batch, d.out_c, d.out_h, d.out_w);
        p->bias.template set<T>(1, d.out_c, 1, 1);
        CONVIS_GPU_CHECK(cudnnSetFilter4dDescriptor(p->w.d, cudnn_type<T>(), CUDNN_TENSOR_NCHW, d.out_c, d.in_c,
                                                    d.kernel, d.kernel));
        // PyTorch's Conv2d is a cross-correlation.
        CONVIS_GPU_CHECK(cudnnSetConvolution2dDescriptor(p->conv.d, d.pad, d.pad, d.stride, d.stride, 1, 1,
                                                         CUDNN_CROSS_CORRELATION, cudnn_type<T>()));
        CONVIS_GPU_CHECK(cudnnSetConvolutionMathType(p->conv.d, float_math()));
        int n = 0, c = 0, h = 0, w = 0;
        CONVIS_GPU_CHECK(cudnnGetConvolution2dForwardOutputDim(p->conv.d, p->x.d, p->w.d, &n, &c, &h, &w));
        if (n != d.batch || c != d.out_c || h != d.out_h || w != d.out_w)
            throw error("convis::gpu: cuDNN computes a " + std::to_string(c) + "×" + std::to_string(h) + "×" +
                        std::to_string(w) + " convolution output, the layer expects " + std::to_string(d.out_c) + "×" +
                        std::to_string(d.out_h) + "×" + std::to_string(d.out_w));
        return *(plans[key] = std::move(p));
    }

    gpu_detail::conv_plan& forward_plan(const conv2d_desc& d) {
        using namespace gpu_detail;
        conv_plan& p = plan(d);
        if (!p.have_forward) {
            cudnnConvolutionFwdAlgoPerf_t r[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
            int count = 0;
            CONVIS_GPU_CHECK(cudnnFindConvolutionForwardAlgorithm(ctx().cudnn(), p.x.d, p.w.d, p.conv.d, p.y.d,
                                                                  CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &count, r));
            const auto* best = pick(r, count, false, "the convolution forward");
            report("forward", d, r, count, best);
            p.forward = best->algo;
            p.forward_bytes = best->memory;
            p.have_forward = true;
        }
        return p;
    }
    gpu_detail::conv_plan& backward_plan(const conv2d_desc& d) {
        using namespace gpu_detail;
        conv_plan& p = plan(d);
        if (!p.have_backward) {
            cudnnConvolutionBwdDataAlgoPerf_t rd[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
            cudnnConvolutionBwdFilterAlgoPerf_t rf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
            int nd = 0, nf = 0;
            CONVIS_GPU_CHECK(cudnnFindConvolutionBackwardDataAlgorithm(ctx().cudnn(), p.w.d, p.y.d, p.conv.d, p.x.d,
                                                                       CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &nd, rd));
            CONVIS_GPU_CHECK(cudnnFindConvolutionBackwardFilterAlgorithm(
                ctx().cudnn(), p.x.d, p.y.d, p.conv.d, p.w.d, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &nf, rf));
            const auto* bd = pick(rd, nd, true, "the convolution backward (data)");
            const auto* bf = pick(rf, nf, true, "the convolution backward (filter)");
            report("backward data", d, rd, nd, bd);
            report("backward filter", d, rf, nf, bf);
            const auto* fastest = pick(rd, nd, gpu::deterministic_projection, "the convolution backward (data)");
            report("projection", d, rd, nd, fastest);
            p.backward_data = bd->algo;
            p.backward_data_bytes = bd->memory;
            p.projection = fastest->algo;
            p.projection_bytes = fastest->memory;
            p.backward_filter = bf->algo;
            p.backward_filter_bytes = bf->memory;
            p.have_backward = true;
        }
        return p;
    }
};

template <>
struct ops<gpu> {
    // ---- memory ----------------------------------------------------------------------------
    /// Host to device. The host memory may be reused as soon as this returns. The source may
    /// also be device memory (unified addressing tells which): a batch already on the GPU is
    /// copied there without a trip through the host.
    template <class T>
    static void upload(std::size_t n, const T* host, T* mine) {
        if (n) CONVIS_GPU_CHECK(cudaMemcpyAsync(mine, host, n * sizeof(T), cudaMemcpyDefault, gpu_detail::ctx().stream()));
    }
    /// Device to host; waits for the queued work, so the host copy is complete on return.
    template <class T>
    static void download(std::size_t n, const T* mine, T* host) {
        if (!n) return;
        CONVIS_GPU_CHECK(cudaMemcpyAsync(host, mine, n * sizeof(T), cudaMemcpyDefault, gpu_detail::ctx().stream()));
        gpu_detail::ctx().synchronize();
    }

    // ---- element-wise ----------------------------------------------------------------------
    template <class T>
    static void copy(std::size_t n, const T* x, T* y) {
        if (x == y || !n) return;
        CONVIS_GPU_CHECK(cudaMemcpyAsync(y, x, n * sizeof(T), cudaMemcpyDeviceToDevice, gpu_detail::ctx().stream()));
    }
    template <class T>
    static void relu_forward(std::size_t n, const T* x, T* y) {
        gpu_detail::relu_forward(n, x, y);
    }
    template <class T>
    static void relu_backward(std::size_t n, const T* y, const T* gy, T* gx) {
        gpu_detail::relu_backward(n, y, gy, gx);
    }
    template <class T>
    static void rectify(rectify_mode mode, std::size_t n, const T* y, const T* g, T* out) {
        gpu_detail::rectify(mode, n, y, g, out);
    }
    template <class T>
    static void multiply(std::size_t n, const T* a, const T* b, T* out) {
        gpu_detail::multiply(n, a, b, out);
    }
    template <class T>
    static void add(std::size_t n, const T* a, const T* b, T* out) { gpu_detail::add(n, a, b, out); }
    /// The CPU's mask exactly: element i of call `call` is kept iff u(seed, call, i) >= p.
    template <class T>
    static void dropout_forward(std::size_t n, double p, std::uint64_t seed, std::uint64_t call, const T* x, T* y,
                                T* mask) {
        gpu_detail::dropout(n, p, counter_random::stream(seed, call), T(1.0 / (1.0 - p)), x, y, mask);
    }

    /// Writes `value` into box d of every channel of one picture.
    template <class T>
    static void fill_box(const box_desc& d, T value, T* image) {
        gpu_detail::fill_box(d, value, image);
    }

    // ---- convolution -----------------------------------------------------------------------
    template <class T>
    static void conv2d_forward(const conv2d_desc& d, const T* x, const T* w, const T* b, T* y, scratch<gpu, T>& work) {
        using namespace gpu_detail;
        conv_plan& p = work.forward_plan(d);
        const T one = 1, zero = 0;
        void* ws = work.workspace_of(p.forward_bytes);
        CONVIS_GPU_CHECK(cudnnConvolutionForward(ctx().cudnn(), &one, p.x.d, x, p.w.d, w, p.conv.d, p.forward, ws,
                                                 p.forward_bytes, &zero, p.y.d, y));
        if (b) CONVIS_GPU_CHECK(cudnnAddTensor(ctx().cudnn(), &one, p.bias.d, b, &one, p.y.d, y));
    }
    /// gw, gb accumulate (skipped when gw is null); gx (if not null) is overwritten.
    template <class T>
    static void conv2d_backward(const conv2d_desc& d, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb,
                                scratch<gpu, T>& work) {
        using namespace gpu_detail;
        conv_plan& p = work.backward_plan(d);
        const T one = 1, zero = 0;
        if (gw) {
            void* ws = work.workspace_of(p.backward_filter_bytes);
            CONVIS_GPU_CHECK(cudnnConvolutionBackwardFilter(ctx().cudnn(), &one, p.x.d, x, p.y.d, gy, p.conv.d,
                                                            p.backward_filter, ws, p.backward_filter_bytes, &one, p.w.d, gw));
            if (gb) CONVIS_GPU_CHECK(cudnnConvolutionBackwardBias(ctx().cudnn(), &one, p.y.d, gy, &one, p.bias.d, gb));
        }
        if (gx) {
            // Without parameter gradients this is a projection, not training: the fastest algorithm.
            const auto algo = gw ? p.backward_data : p.projection;
            const std::size_t bytes = gw ? p.backward_data_bytes : p.projection_bytes;
            void* ws = work.workspace_of(bytes);
            CONVIS_GPU_CHECK(cudnnConvolutionBackwardData(ctx().cudnn(), &one, p.w.d, w, p.y.d, gy, p.conv.d, algo, ws,
                                                          bytes, &zero, p.x.d, gx));
        }
    }

    // ---- pooling ---------------------------------------------------------------------------
    template <class T>
    static void maxpool_forward(const pool2d_desc& d, const T* x, T* y, std::int32_t* switches) {
        gpu_detail::maxpool_forward(d, x, y, switches);
    }
    /// Routes each output's gradient to its switch; overlapping windows add.
    template <class T>
    static void maxpool_backward(const pool2d_desc& d, const T* gy, const std::int32_t* switches, T* gx) {
        gpu_detail::maxpool_backward(d, gy, switches, gx);
    }

    template <class T>
    static void avgpool_forward(const avgpool_desc& d, const T* x, T* y) { gpu_detail::avgpool_forward(d, x, y); }
    template <class T>
    static void avgpool_backward(const avgpool_desc& d, const T* gy, T* gx) { gpu_detail::avgpool_backward(d, gy, gx); }

    // ---- batch normalisation (convis's kernels: the CPU's formulas, so both policies agree) ----
    template <class T>
    static void batchnorm_statistics(const batchnorm_desc& d, const T* x, T* mean, T* invstd, T* running_mean,
                                     T* running_var) {
        gpu_detail::batchnorm_statistics(d, x, mean, invstd, running_mean, running_var);
    }
    template <class T>
    static void batchnorm_running(const batchnorm_desc& d, const T* running_mean, const T* running_var, T* mean,
                                  T* invstd) {
        gpu_detail::batchnorm_running(d, running_mean, running_var, mean, invstd);
    }
    template <class T>
    static void batchnorm_apply(const batchnorm_desc& d, const T* x, const T* mean, const T* invstd, const T* weight,
                                const T* bias, T* y) {
        gpu_detail::batchnorm_apply(d, x, mean, invstd, weight, bias, y);
    }
    template <class T>
    static void batchnorm_backward(const batchnorm_desc& d, bool batch_statistics, const T* x, const T* gy,
                                   const T* mean, const T* invstd, const T* weight, T* gx, T* gweight, T* gbias) {
        gpu_detail::batchnorm_backward(d, batch_statistics, x, gy, mean, invstd, weight, gx, gweight, gbias);
    }

    // ---- local response normalisation ------------------------------------------------------
    /// cuDNN's cross-channel LRN: y = x (k + alpha/n Σ x²)^-beta — alpha is divided by the
    /// window, as in PyTorch and the CPU layer. Its window is centred, which matches PyTorch's
    /// [c − n/2, c + (n−1)/2] only for odd n. `scale` is not used: cuDNN's backward recomputes it.
    template <class T>
    static void lrn_forward(const lrn_desc& d, const T* x, T* y, T*) {
        using namespace gpu_detail;
        tensor_desc t;
        lrn_descriptor l;
        lrn_setup<T>(d, t, l);
        const T one = 1, zero = 0;
        CONVIS_GPU_CHECK(cudnnLRNCrossChannelForward(ctx().cudnn(), l.d, CUDNN_LRN_CROSS_CHANNEL_DIM1, &one, t.d, x,
                                                     &zero, t.d, y));
    }
    template <class T>
    static void lrn_backward(const lrn_desc& d, const T* x, const T* y, const T*, const T* gy, T* gx) {
        using namespace gpu_detail;
        tensor_desc t;
        lrn_descriptor l;
        lrn_setup<T>(d, t, l);
        const T one = 1, zero = 0;
        CONVIS_GPU_CHECK(cudnnLRNCrossChannelBackward(ctx().cudnn(), l.d, CUDNN_LRN_CROSS_CHANNEL_DIM1, &one, t.d, y,
                                                      t.d, gy, t.d, x, &zero, t.d, gx));
    }

    // ---- fully connected -------------------------------------------------------------------
    /// y = x Wᵀ + b. Row-major [batch, out] is column-major yᵀ = W'ᵀ x' (W' = W read column-major).
    template <class T>
    static void linear_forward(const linear_desc& d, const T* x, const T* w, const T* b, T* y) {
        gemm<T>(CUBLAS_OP_T, CUBLAS_OP_N, d.out, d.batch, d.in, w, d.in, x, d.in, T(0), y, d.out);
        gpu_detail::add_bias_rows(d.batch, d.out, b, y);
    }
    /// gx = gy W (if gx), gW += gyᵀ x, gb += column sums of gy (if gw).
    template <class T>
    static void linear_backward(const linear_desc& d, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb) {
        if (gx) gemm<T>(CUBLAS_OP_N, CUBLAS_OP_N, d.in, d.batch, d.out, w, d.in, gy, d.out, T(0), gx, d.in);
        if (gw) {
            gemm<T>(CUBLAS_OP_N, CUBLAS_OP_T, d.in, d.out, d.batch, x, d.in, gy, d.out, T(1), gw, d.in);
            gpu_detail::bias_gradient_rows(d.batch, d.out, gy, gb);
        }
    }

    // ---- softmax ---------------------------------------------------------------------------
    template <class T>
    static void softmax_forward(int batch, int classes, const T* x, T* y) {
        using namespace gpu_detail;
        tensor_desc t;
        t.template set<T>(batch, classes, 1, 1);
        const T one = 1, zero = 0;
        CONVIS_GPU_CHECK(cudnnSoftmaxForward(ctx().cudnn(), CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_INSTANCE, &one,
                                             t.d, x, &zero, t.d, y));
    }
    template <class T>
    static void softmax_backward(int batch, int classes, const T* y, const T* gy, T* gx) {
        using namespace gpu_detail;
        tensor_desc t;
        t.template set<T>(batch, classes, 1, 1);
        const T one = 1, zero = 0;
        CONVIS_GPU_CHECK(cudnnSoftmaxBackward(ctx().cudnn(), CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_INSTANCE, &one,
                                              t.d, y, t.d, gy, &zero, t.d, gx));
    }

private:
    template <class T>
    static void lrn_setup(const lrn_desc& d, gpu_detail::tensor_desc& t, gpu_detail::lrn_descriptor& l) {
        if (d.size % 2 == 0 || d.size > CUDNN_LRN_MAX_N || d.size < CUDNN_LRN_MIN_N)
            throw error("LocalResponseNorm on the GPU: size " + std::to_string(d.size) +
                        " is not supported; cuDNN's window is centred, which is PyTorch's only for odd sizes from " +
                        std::to_string(CUDNN_LRN_MIN_N) + " to " + std::to_string(CUDNN_LRN_MAX_N));
        if (d.k < CUDNN_LRN_MIN_K || d.beta < CUDNN_LRN_MIN_BETA)
            throw error("LocalResponseNorm on the GPU: cuDNN needs k >= " + std::to_string(CUDNN_LRN_MIN_K) +
                        " and beta >= " + std::to_string(CUDNN_LRN_MIN_BETA) + ", got k " + std::to_string(d.k) +
                        ", beta " + std::to_string(d.beta));
        t.template set<T>(d.batch, d.channels, d.plane, 1);
        CONVIS_GPU_CHECK(cudnnSetLRNDescriptor(l.d, unsigned(d.size), d.alpha, d.beta, d.k));
    }

    /// Column-major C = op(A) op(B) + beta C through cuBLAS, in plain float unless TF32 is allowed.
    template <class T>
    static void gemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, const T* a, int lda, const T* b,
                     int ldb, T beta, T* c, int ldc) {
        using namespace gpu_detail;
        const T one = 1;
        if (m == 0 || n == 0) return;
        if constexpr (std::is_same_v<T, float>) {
            CONVIS_GPU_CHECK(cublasSetMathMode(ctx().cublas(), gpu::allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                                               : CUBLAS_PEDANTIC_MATH));
            CONVIS_GPU_CHECK(cublasSgemm(ctx().cublas(), ta, tb, m, n, k, &one, a, lda, b, ldb, &beta, c, ldc));
        } else {
            CONVIS_GPU_CHECK(cublasDgemm(ctx().cublas(), ta, tb, m, n, k, &one, a, lda, b, ldb, &beta, c, ldc));
        }
    }
};

}  // namespace convis
