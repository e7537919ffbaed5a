#pragma once
// ops<cpu>: the op set on the host, through Eigen.
//
// Convolutions are im2col + GEMM (gemm.hpp's kernel), cut into units spread over OpenMP threads,
// each with its own column buffer — except 3×3 stride-1 ones over enough tiles, which take
// Winograd's F(2×2, 3×3) (winograd.hpp) for the forward and the input gradient.
// Parameter gradients are accumulated per thread (a fixed share of the batch each) and summed once
// in thread order, so no atomics are needed and the result is the same on every run.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "../../core/counter_random.hpp"
#include "../../core/op_desc.hpp"
#include "../../core/policy.hpp"
#include "../../core/threads.hpp"
#include "gemm.hpp"
#include "winograd.hpp"

namespace convis {

namespace cpu_detail {
inline int max_threads() { return convis::threads(); }
template <class T>
using MatR = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using VecR = Eigen::Matrix<T, 1, Eigen::Dynamic>;
}  // namespace cpu_detail

/// Per-thread scratch on the host: column buffers and gradient accumulators, grown on demand and
/// kept for the model's lifetime.
template <class T>
struct scratch<cpu, T> {
    std::vector<host_buffer<T>> columns;
    std::vector<host_buffer<T>> accum;
    cpu_gemm::packed_lhs<T> weights;  ///< the convolution's weights, packed once per call
    host_buffer<T> crop_out, crop_in;  ///< a transposed convolution's box of gy and its input window
    cpu_winograd::workspace<T> winograd;  ///< the 3×3 convolutions' transforms

    T* column(int thread, std::size_t n) { return grow(columns, thread, n); }
    T* accumulator(int thread, std::size_t n) { return grow(accum, thread, n); }

private:
    static T* grow(std::vector<host_buffer<T>>& v, int thread, std::size_t n) {
        if (v.size() <= std::size_t(thread)) v.resize(thread + 1);
        v[thread].resize(n);
        return v[thread].data();
    }
};

template <>
struct ops<cpu> {
    // ---- memory ----------------------------------------------------------------------------
    /// Host to policy memory and back; on the CPU both are plain copies.
    template <class T>
    static void upload(std::size_t n, const T* host, T* mine) { copy(n, host, mine); }
    template <class T>
    static void download(std::size_t n, const T* mine, T* host) { copy(n, mine, host); }

    // ---- element-wise ----------------------------------------------------------------------
    template <class T>
    static void copy(std::size_t n, const T* x, T* y) {
        if (x == y) return;
        for_chunks(n, [&](std::size_t i0, std::size_t len) { std::memcpy(y + i0, x + i0, len * sizeof(T)); });
    }
    template <class T>
    static void relu_forward(std::size_t n, const T* x, T* y) {
        for_chunks(n, [&](std::size_t i0, std::size_t len) {
            Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> X(x + i0, Eigen::Index(len));
            Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> Y(y + i0, Eigen::Index(len));
            Y = X.max(T(0));
        });
    }
    /// gx = gy where y > 0.
    template <class T>
    static void relu_backward(std::size_t n, const T* y, const T* gy, T* gx) {
        // Both loads unconditional, so the loop is a vector select: a branch on the sign of y
        // mispredicts half the time on real activations (8× slower on conv1's output).
        for_chunks(n, [y, gy, gx](std::size_t i0, std::size_t len) {
            for (std::size_t i = i0; i < i0 + len; ++i) {
                const T g = gy[i];
                gx[i] = y[i] > T(0) ? g : T(0);
            }
        });
    }
    /// The deconvnet's rectification (core/op_desc.hpp's `rectified`), element by element.
    template <class T>
    static void rectify(rectify_mode mode, std::size_t n, const T* y, const T* g, T* out) {
        for_chunks(n, [mode, y, g, out](std::size_t i0, std::size_t len) {
            for (std::size_t i = i0; i < i0 + len; ++i) out[i] = rectified(mode, y[i], g[i]);
        });
    }
    template <class T>
    static void multiply(std::size_t n, const T* a, const T* b, T* out) {
        for_chunks(n, [&](std::size_t i0, std::size_t len) {
            for (std::size_t i = i0; i < i0 + len; ++i) out[i] = a[i] * b[i];
        });
    }
    /// out = a + b (out may be a or b): a residual block's sum, and its branches' gradients.
    template <class T>
    static void add(std::size_t n, const T* a, const T* b, T* out) {
        for_chunks(n, [&](std::size_t i0, std::size_t len) {
            for (std::size_t i = i0; i < i0 + len; ++i) out[i] = a[i] + b[i];
        });
    }

    /// Dropout with a counter-based generator: element i of call `call` is kept iff
    /// u(seed, call, i) >= p, so masks are reproducible and independent of threading.
    template <class T>
    static void dropout_forward(std::size_t n, double p, std::uint64_t seed, std::uint64_t call,
                                const T* x, T* y, T* mask) {
        const T keep_scale = T(1.0 / (1.0 - p));
        const std::uint64_t stream = counter_random::stream(seed, call);
#pragma omp parallel for schedule(static) num_threads(cpu_detail::max_threads()) if (n > 65536)
        for (std::int64_t i = 0; i < std::int64_t(n); ++i) {
            const double u = counter_random::uniform(stream, std::uint64_t(i));
            mask[i] = u >= p ? keep_scale : T(0);
            y[i] = x[i] * mask[i];
        }
    }

    /// Writes `value` into box d of every channel of one picture.
    template <class T>
    static void fill_box(const box_desc& d, T value, T* image) {
        const std::size_t plane = std::size_t(d.height) * std::size_t(d.width);
        for (int c = 0; c < d.channels; ++c)
            for (int y = d.y; y < d.y + d.box_height; ++y)
                std::fill_n(image + std::size_t(c) * plane + std::size_t(y) * std::size_t(d.width) + std::size_t(d.x),
                            d.box_width, value);
    }

    // ---- convolution -----------------------------------------------------------------------
    /// y = conv(x, w) + b. The work is cut into units — a group of images, a tile of output
    /// pixels, a block of output channels — spread over the threads; each unit gathers its own
    /// columns into its thread's buffer and runs the GEMM there, the bias added as the GEMM
    /// writes. The weights are packed once per call for every unit. Images with small maps are
    /// taken in groups whose columns sit side by side, so that the GEMM still gets enough columns
    /// to run at speed.
    template <class T>
    static void conv2d_forward(const conv2d_desc& d, const T* x, const T* w, const T* b, T* y,
                               scratch<cpu, T>& work) {
        using namespace cpu_detail;
        if constexpr (std::is_same_v<T, float>)
            if (cpu_winograd::serves_forward<T>(d)) return cpu_winograd::forward(d, x, w, b, y, work.winograd);
        const conv_plan p = plan(d);
        const conv_units u = units<T>(d, p);
        const int threads = std::min(max_threads(), u.count());
        for (int t = 0; t < threads; ++t) work.column(t, u.buffer_size(p));
        auto& weights = work.weights;
        weights.prepare(d.out_c, int(p.ckk), cpu_gemm::operand<T>{w, std::ptrdiff_t(p.ckk), 1});
        // One image with its output channels split (batch 1, small maps): each unit gathers the
        // same columns for itself. Gathering them once, a share of the channels per thread, cost
        // more than it saved (conv5 at batch 1: 1.66–1.82 against 1.43–1.52 ms): the other
        // thread's half then crosses between the cores' caches, after a barrier.
#pragma omp parallel num_threads(threads) if (threads > 1)
        {
#pragma omp for schedule(static)
        for (int i = 0; i < weights.pieces(); ++i) weights.pack_piece(i);
#pragma omp for schedule(dynamic, 1)
        for (int i = 0; i < u.count(); ++i) {
            const conv_unit c = u.at(i, d, p);
            T* buf = work.columns[convis::thread_index()].data();
            const std::ptrdiff_t ncols = std::ptrdiff_t(c.count) * (c.j1 - c.j0);
            cpu_gemm::operand<T> cols{buf, ncols, 1};
            if (p.direct && c.count == 1) {
                cols = {x + c.n0 * p.in_size + c.j0, std::ptrdiff_t(p.ohw), 1};
            } else {
                for (int k = 0; k < c.count; ++k)
                    gather_columns(d, p, x + (c.n0 + k) * p.in_size, buf + k * (c.j1 - c.j0), ncols, c.j0, c.j1);
            }
            if (c.count == 1) {  // straight into the image's output rows
                T* out = y + c.n0 * p.out_size + std::size_t(c.r0) * p.ohw + c.j0;
                cpu_gemm::gemm_rows(weights, c.r0, c.rows, int(ncols), cols, out, std::ptrdiff_t(p.ohw), false,
                                    b ? b + c.r0 : nullptr);
            } else {  // [rows, count·ohw] → count × [rows, ohw]
                T* out = buf + p.cols_size;
                cpu_gemm::gemm_rows(weights, c.r0, c.rows, int(ncols), cols, out, ncols, false, b ? b + c.r0 : nullptr);
                for (int k = 0; k < c.count; ++k)
                    for (int r = 0; r < c.rows; ++r)
                        std::memcpy(y + (c.n0 + k) * p.out_size + (std::size_t(c.r0) + r) * p.ohw,
                                    out + r * ncols + k * std::ptrdiff_t(p.ohw), p.ohw * sizeof(T));
            }
        }
        }
    }

    /// gw, gb accumulate (skipped when gw is null: the deconvnet's transposed filtering); gx (if
    /// not null) is overwritten. Each thread accumulates its groups' parameter gradients privately;
    /// the sums are added once at the end.
    template <class T>
    static void conv2d_backward(const conv2d_desc& d, const T* x, const T* w, const T* gy, T* gx,
                                T* gw, T* gb, scratch<cpu, T>& work) {
        // A signal that covers every image's map (a gradient from the logits: the attribution
        // methods) takes the batched path below; a sparse one (a projected activation) is cropped.
        if (gw == nullptr && gx != nullptr && !covers_maps(d, gy)) return conv2d_transpose_box(d, w, gy, gx, work);
        if constexpr (std::is_same_v<T, float>)
            if (gx != nullptr && cpu_winograd::serves_input_gradient<T>(d)) {
                if (gw != nullptr) conv2d_backward_dense(d, x, w, gy, static_cast<T*>(nullptr), gw, gb, work);
                return cpu_winograd::input_gradient(d, w, gy, gx, work.winograd);
            }
        conv2d_backward_dense(d, x, w, gy, gx, gw, gb, work);
    }

private:
    /// The input gradient alone — the deconvnet's transposed filtering — computed per image over
    /// the box of output pixels where gy is not zero. A projected activation starts as one pixel
    /// and spreads only over its receptive field, so most of each map is zero: cropping skips it.
    /// (An image whose box covers most of the map takes the dense path.)
    /// The box [h0, h1) × [w0, w1) of one image's output gradient outside which it is zero (empty:
    /// h1 <= h0), over all channels.
    struct nonzero_box {
        int h0, h1, w0, w1;
        /// Whether the box covers more than 60% of the map: then cropping saves too little.
        bool covers(const conv2d_desc& d) const {
            return h1 > h0 && std::size_t(h1 - h0) * std::size_t(w1 - w0) * 10 > std::size_t(d.out_h) * d.out_w * 6;
        }
    };
    template <class T>
    static nonzero_box box_of(const conv2d_desc& d, const T* g) {
        const std::size_t out_plane = std::size_t(d.out_h) * d.out_w;
        nonzero_box b{d.out_h, 0, d.out_w, 0};
        for (int c = 0; c < d.out_c; ++c)
            for (int h = 0; h < d.out_h; ++h) {
                const T* row = g + c * out_plane + std::size_t(h) * d.out_w;
                bool any = false;
                for (int x = 0; x < d.out_w; ++x) any |= row[x] != T(0);  // NaN counts as non-zero
                if (!any) continue;
                b.h0 = std::min(b.h0, h), b.h1 = std::max(b.h1, h + 1);
                int lo = 0, hi = d.out_w;
                while (row[lo] == T(0)) ++lo;
                while (row[hi - 1] == T(0)) --hi;
                b.w0 = std::min(b.w0, lo), b.w1 = std::max(b.w1, hi);
            }
        return b;
    }
    /// Whether every image's output gradient covers its map (box_of(...).covers).
    template <class T>
    static bool covers_maps(const conv2d_desc& d, const T* gy) {
        const std::size_t out_size = std::size_t(d.out_c) * d.out_h * d.out_w;
        for (int n = 0; n < d.batch; ++n)
            if (!box_of(d, gy + n * out_size).covers(d)) return false;
        return true;
    }

    template <class T>
    static void conv2d_transpose_box(const conv2d_desc& d, const T* w, const T* gy, T* gx, scratch<cpu, T>& work) {
        const std::size_t in_plane = std::size_t(d.in_h) * d.in_w, in_size = std::size_t(d.in_c) * in_plane;
        const std::size_t out_plane = std::size_t(d.out_h) * d.out_w, out_size = std::size_t(d.out_c) * out_plane;
        const int S = d.stride, K = d.kernel;
        for (int n = 0; n < d.batch; ++n) {
            const T* g = gy + n * out_size;
            T* out = gx + n * in_size;
            const nonzero_box box = box_of(d, g);
            const int h0 = box.h0, h1 = box.h1, w0 = box.w0, w1 = box.w1;
            conv2d_desc one = d;
            one.batch = 1;
            if (h1 <= h0) {  // all zero
                std::fill_n(out, in_size, T(0));
                continue;
            }
            const int bh = h1 - h0, bw = w1 - w0;
            if (box.covers(d)) {
                conv2d_backward_dense(one, static_cast<const T*>(nullptr), w, g, out, static_cast<T*>(nullptr),
                                      static_cast<T*>(nullptr), work);
                continue;
            }
            // The cropped problem: gy's box, unpadded; its input window starts at (h0·S − P, w0·S − P).
            conv2d_desc sub = one;
            sub.out_h = bh, sub.out_w = bw, sub.pad = 0;
            sub.in_h = (bh - 1) * S + K, sub.in_w = (bw - 1) * S + K;
            work.crop_out.resize(std::size_t(d.out_c) * bh * bw);
            work.crop_in.resize(std::size_t(d.in_c) * sub.in_h * sub.in_w);
            T* gyc = work.crop_out.data();
            for (int c = 0; c < d.out_c; ++c)
                for (int h = 0; h < bh; ++h)
                    std::memcpy(gyc + (std::size_t(c) * bh + h) * bw, g + c * out_plane + std::size_t(h0 + h) * d.out_w + w0,
                                std::size_t(bw) * sizeof(T));
            conv2d_backward_dense(sub, static_cast<const T*>(nullptr), w, static_cast<const T*>(gyc), work.crop_in.data(),
                                  static_cast<T*>(nullptr), static_cast<T*>(nullptr), work);
            std::fill_n(out, in_size, T(0));
            const int ih0 = h0 * S - d.pad, iw0 = w0 * S - d.pad;
            const int r0 = std::max(0, -ih0), r1 = std::min(sub.in_h, d.in_h - ih0);
            const int q0 = std::max(0, -iw0), q1 = std::min(sub.in_w, d.in_w - iw0);
            if (r1 <= r0 || q1 <= q0) continue;
            for (int c = 0; c < d.in_c; ++c)
                for (int r = r0; r < r1; ++r)
                    std::memcpy(out + c * in_plane + std::size_t(ih0 + r) * d.in_w + iw0 + q0,
                                work.crop_in.data() + (std::size_t(c) * sub.in_h + r) * sub.in_w + q0,
                                std::size_t(q1 - q0) * sizeof(T));
        }
    }

    template <class T>
    static void conv2d_backward_dense(const conv2d_desc& d, const T* x, const T* w, const T* gy, T* gx,
                                      T* gw, T* gb, scratch<cpu, T>& work) {
        using namespace cpu_detail;
        const conv_plan p = plan(d);
        const std::size_t wsize = std::size_t(d.out_c) * p.ckk;
        const int threads = p.groups > 1 ? std::min(max_threads(), p.groups) : 1;
        const bool params = gw != nullptr;
        for (int t = 0; t < threads; ++t) {
            // Per thread: the group's columns, their gradient, and the group's output gradient.
            work.column(t, 2 * p.cols_size + p.out_size_group);
            if (params) std::fill_n(work.accumulator(t, wsize + d.out_c), wsize + d.out_c, T(0));
        }
        // Several groups: Wᵀ, the left operand of every group's input gradient, is packed once,
        // by all threads, instead of once per group.
        const bool packed = gx != nullptr && threads > 1;
        auto& weights_t = work.weights;
        if (packed) weights_t.prepare(int(p.ckk), d.out_c, cpu_gemm::operand<T>{w, 1, std::ptrdiff_t(p.ckk)});
#pragma omp parallel num_threads(threads) if (threads > 1)
        {
        if (packed) {
#pragma omp for schedule(static)
            for (int i = 0; i < weights_t.pieces(); ++i) weights_t.pack_piece(i);
        }
        // Static schedule: each thread always sums the same groups, so the parameter gradients are
        // the same, bit for bit, from run to run (training is repeatable and resumable).
#pragma omp for schedule(static)
        for (int g = 0; g < p.groups; ++g) {
            const int t = convis::thread_index();
            const int n0 = g * p.per_group, count = std::min(p.per_group, d.batch - n0);
            const Eigen::Index ncols = Eigen::Index(count) * Eigen::Index(p.ohw);
            T* buf = work.columns[t].data();
            T* gcols = buf + p.cols_size;
            T* gybuf = buf + 2 * p.cols_size;
            const T* cols = buf;
            const T* gyg = gy + n0 * p.out_size;
            if (p.direct && count == 1) {
                cols = x + n0 * p.in_size;
            } else if (params) {
                for (int i = 0; i < count; ++i) gather_columns(d, p, x + (n0 + i) * p.in_size, buf + i * p.ohw, ncols);
            }
            if (count > 1) {  // count × [out_c, ohw] → [out_c, count·ohw]
                Eigen::Map<MatR<T>> G(gybuf, d.out_c, ncols);
                for (int i = 0; i < count; ++i)
                    G.middleCols(Eigen::Index(i) * p.ohw, Eigen::Index(p.ohw)) =
                        Eigen::Map<const MatR<T>>(gy + (n0 + i) * p.out_size, d.out_c, Eigen::Index(p.ohw));
                gyg = gybuf;
            }
            // GW += GY·Cᵀ and GC = Wᵀ·GY: transposes are strides.
            const cpu_gemm::operand<T> GYop{gyg, ncols, 1}, Ct{cols, 1, ncols}, Wt{w, 1, std::ptrdiff_t(p.ckk)};
            if (params) {
                cpu_gemm::gemm(d.out_c, int(p.ckk), int(ncols), GYop, Ct, work.accum[t].data(), std::ptrdiff_t(p.ckk), true);
                Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>(work.accum[t].data() + wsize, d.out_c) +=
                    Eigen::Map<const MatR<T>>(gyg, d.out_c, ncols).rowwise().sum();
            }
            if (gx) {
                T* dst = p.direct && count == 1 ? gx + n0 * p.in_size : gcols;
                if (packed)
                    cpu_gemm::gemm_rows(weights_t, 0, int(p.ckk), int(ncols), GYop, dst, ncols, false, static_cast<const T*>(nullptr));
                else
                    cpu_gemm::gemm(int(p.ckk), int(ncols), d.out_c, Wt, GYop, dst, ncols, false);
                if (dst == gcols)
                    for (int i = 0; i < count; ++i)
                        scatter_columns(d, p, gcols + i * p.ohw, ncols, gx + (n0 + i) * p.in_size);
            }
        }
        }
        for (int t = 0; params && t < threads; ++t) {
            const T* acc = work.accum[t].data();
            for (std::size_t i = 0; i < wsize; ++i) gw[i] += acc[i];
            if (gb)
                for (int o = 0; o < d.out_c; ++o) gb[o] += acc[wsize + o];
        }
    }

public:
    // ---- pooling ---------------------------------------------------------------------------
    /// Windows are clipped to the input; ties go to the first maximum in scan order and NaN
    /// wins, as in PyTorch.
    template <class T>
    static void maxpool_forward(const pool2d_desc& d, const T* x, T* y, std::int32_t* switches) {
        const std::int64_t planes = std::int64_t(d.batch) * d.channels;
        const std::size_t in_plane = std::size_t(d.in_h) * d.in_w;
        const std::size_t out_plane = std::size_t(d.out_h) * d.out_w;
        // Output columns whose window lies wholly inside the row: [inner_lo, inner_hi).
        const int inner_lo = std::min((d.pad + d.stride - 1) / d.stride, d.out_w);
        const int inner_hi = std::max(inner_lo, std::min(d.out_w, d.in_w + d.pad - d.kernel >= 0
                                                                      ? (d.in_w + d.pad - d.kernel) / d.stride + 1
                                                                      : 0));
#pragma omp parallel for schedule(static) num_threads(cpu_detail::max_threads())
        for (std::int64_t pl = 0; pl < planes; ++pl) {
            const T* xp = x + pl * in_plane;
            T* yp = y + pl * out_plane;
            std::int32_t* sp = switches + pl * out_plane;
            for (int oh = 0; oh < d.out_h; ++oh) {
                const int h0 = std::max(oh * d.stride - d.pad, 0);
                const int h1 = std::min(oh * d.stride - d.pad + d.kernel, d.in_h);
                T* yr = yp + std::size_t(oh) * d.out_w;
                std::int32_t* sr = sp + std::size_t(oh) * d.out_w;
                // Edge columns, window clipped: one output at a time.
                auto clipped = [&](int ow) {
                    const int w0 = std::max(ow * d.stride - d.pad, 0);
                    const int w1 = std::min(ow * d.stride - d.pad + d.kernel, d.in_w);
                    T best = -std::numeric_limits<T>::infinity();
                    std::int32_t at = h0 * d.in_w + w0;
                    for (int h = h0; h < h1; ++h)
                        for (int w = w0; w < w1; ++w) {
                            const T v = xp[h * d.in_w + w];
                            if (v > best || v != v) {
                                best = v;
                                at = h * d.in_w + w;
                            }
                        }
                    yr[ow] = best;
                    sr[ow] = at;
                };
                for (int ow = 0; ow < inner_lo; ++ow) clipped(ow);
                for (int ow = inner_hi; ow < d.out_w; ++ow) clipped(ow);
                // Inner columns: every window offset (in scan order, so ties keep the first
                // maximum) is applied to the whole row at once, which vectorises.
#if defined(__AVX512F__)
                if constexpr (std::is_same_v<T, float>) {
                    if (d.stride == 2) {
                        pool_inner_stride2(xp, d.in_w, int(in_plane), h0, h1, d.kernel, d.pad, inner_lo, inner_hi, yr, sr);
                        continue;
                    }
                }
#endif
                for (int ow = inner_lo; ow < inner_hi; ++ow) {
                    yr[ow] = -std::numeric_limits<T>::infinity();
                    sr[ow] = h0 * d.in_w + ow * d.stride - d.pad;
                }
                for (int h = h0; h < h1; ++h)
                    for (int kw = 0; kw < d.kernel; ++kw) {
                        const int off = kw - d.pad;
                        const T* row = xp + std::size_t(h) * d.in_w + off;
                        const std::int32_t base = h * d.in_w + off;
                        switch (d.stride) {  // a constant stride lets the compiler vectorise
                            case 1: pool_row<1>(row, base, inner_lo, inner_hi, yr, sr, 1); break;
                            case 2: pool_row<2>(row, base, inner_lo, inner_hi, yr, sr, 2); break;
                            case 3: pool_row<3>(row, base, inner_lo, inner_hi, yr, sr, 3); break;
                            default: pool_row<0>(row, base, inner_lo, inner_hi, yr, sr, d.stride);
                        }
                    }
            }
        }
    }
    /// Routes each output's gradient to its switch; overlapping windows add.
    template <class T>
    static void maxpool_backward(const pool2d_desc& d, const T* gy, const std::int32_t* switches, T* gx) {
        const std::int64_t planes = std::int64_t(d.batch) * d.channels;
        const std::size_t in_plane = std::size_t(d.in_h) * d.in_w;
        const std::size_t out_plane = std::size_t(d.out_h) * d.out_w;
#pragma omp parallel for schedule(static) num_threads(cpu_detail::max_threads())
        for (std::int64_t pl = 0; pl < planes; ++pl) {
            T* gp = gx + pl * in_plane;
            std::fill_n(gp, in_plane, T(0));
            const T* g = gy + pl * out_plane;
            const std::int32_t* s = switches + pl * out_plane;
            for (std::size_t o = 0; o < out_plane; ++o) gp[s[o]] += g[o];
        }
    }

    // ---- average pooling -------------------------------------------------------------------
    /// Each output is the mean of its window (core/op_desc.hpp's avgpool_window).
    template <class T>
    static void avgpool_forward(const avgpool_desc& d, const T* x, T* y) {
        const std::int64_t planes = std::int64_t(d.batch) * d.channels;
        const std::size_t in_plane = std::size_t(d.in_h) * d.in_w, out_plane = std::size_t(d.out_h) * d.out_w;
#pragma omp parallel for schedule(static) num_threads(cpu_detail::max_threads()) if (planes * out_plane > 4096)
        for (std::int64_t pl = 0; pl < planes; ++pl) {
            const T* xp = x + pl * in_plane;
            T* yp = y + pl * out_plane;
            for (int oh = 0; oh < d.out_h; ++oh) {
                const pool_window r = avgpool_window(d, oh, d.in_h, d.out_h);
                for (int ow = 0; ow < d.out_w; ++ow) {
                    const pool_window c = avgpool_window(d, ow, d.in_w, d.out_w);
                    T sum = 0;
                    for (int h = r.begin; h < r.end; ++h)
                        for (int w = c.begin; w < c.end; ++w) sum += xp[std::size_t(h) * d.in_w + w];
                    yp[std::size_t(oh) * d.out_w + ow] = r.count * c.count > 0 ? sum / T(r.count * c.count) : T(0);
                }
            }
        }
    }
    /// Spreads each output's gradient evenly over its window; overlapping windows add.
    template <class T>
    static void avgpool_backward(const avgpool_desc& d, const T* gy, T* gx) {
        const std::int64_t planes = std::int64_t(d.batch) * d.channels;
        const std::size_t in_plane = std::size_t(d.in_h) * d.in_w, out_plane = std::size_t(d.out_h) * d.out_w;
#pragma omp parallel for schedule(static) num_threads(cpu_detail::max_threads()) if (planes * in_plane > 4096)
        for (std::int64_t pl = 0; pl < planes; ++pl) {
            T* gp = gx + pl * in_plane;
            std::fill_n(gp, in_plane, T(0));
            const T* g = gy + pl * out_plane;
            for (int oh = 0; oh < d.out_h; ++oh) {
                const pool_window r = avgpool_window(d, oh, d.in_h, d.out_h);
                for (int ow = 0; ow < d.out_w; ++ow) {
                    const pool_window c = avgpool_window(d, ow, d.in_w, d.out_w);
                    if (r.count * c.count == 0) continue;
                    const T share = g[std::size_t(oh) * d.out_w + ow] / T(r.count * c.count);
                    for (int h = r.begin; h < r.end; ++h)
                        for (int w = c.begin; w < c.end; ++w) gp[std::size_t(h) * d.in_w + w] += share;
                }
            }
        }
    }

    // ---- batch normalisation ---------------------------------------------------------------
    /// The batch's per-channel mean and 1/sqrt(biased variance + eps); when running_mean is given,
    /// PyTorch's running averages are updated with the unbiased variance:
    /// r = (1 − momentum)·r + momentum·batch statistic.
    template <class T>
    static void batchnorm_statistics(const batchnorm_desc& d, const T* x, T* mean, T* invstd, T* running_mean,
                                     T* running_var) {
        const std::size_t plane = std::size_t(d.plane), cstride = std::size_t(d.channels) * plane;
        const double count = double(d.batch) * double(d.plane);
#pragma omp parallel for schedule(static) num_threads(cpu_detail::max_threads()) if (count * d.channels > 65536)
        for (int c = 0; c < d.channels; ++c) {
            double sum = 0;
            for (int n = 0; n < d.batch; ++n) {
                const T* p = x + std::size_t(n) * cstride + std::size_t(c) * plane;
                for (std::size_t i = 0; i < plane; ++i) sum += double(p[i]);
            }
            const double mu = sum / count;
            double sq = 0;  // two passes: the one-pass formula loses digits when |mean| ≫ spread
            for (int n = 0; n < d.batch; ++n) {
                const T* p = x + std::size_t(n) * cstride + std::size_t(c) * plane;
                for (std::size_t i = 0; i < plane; ++i) sq += (double(p[i]) - mu) * (double(p[i]) - mu);
            }
            const double var = sq / count;
            mean[c] = T(mu);
            invstd[c] = T(1.0 / std::sqrt(var + d.eps));
            if (running_mean) {
                const double unbiased = count > 1 ? sq / (count - 1) : var;
                running_mean[c] = T((1 - d.momentum) * double(running_mean[c]) + d.momentum * mu);
                running_var[c] = T((1 - d.momentum) * double(running_var[c]) + d.momentum * unbiased);
            }
        }
    }
    /// mean = running_mean, invstd = 1/sqrt(running_var + eps): evaluation mode's statistics.
    template <class T>
    static void batchnorm_running(const batchnorm_desc& d, const T* running_mean, const T* running_var, T* mean,
                                  T* invstd) {
        for (int c = 0; c < d.channels; ++c) {
            mean[c] = running_mean[c];
            invstd[c] = T(1.0 / std::sqrt(double(running_var[c]) + d.eps));
        }
    }
    /// y = (x − mean)·invstd·weight + bias, per channel.
    template <class T>
    static void batchnorm_apply(const batchnorm_desc& d, const T* x, const T* mean, const T* invstd, const T* weight,
                                const T* bias, T* y) {
        const std::int64_t planes = std::int64_t(d.batch) * d.channels;
        const std::size_t plane = std::size_t(d.plane);
#pragma omp parallel for schedule(static) num_threads(cpu_detail::max_threads()) if (planes * plane > 65536)
        for (std::int64_t pl = 0; pl < planes; ++pl) {
            const int c = int(pl % d.channels);
            const T scale = invstd[c] * weight[c], shift = bias[c] - mean[c] * scale;
            const T* xp = x + pl * plane;
            T* yp = y + pl * plane;
            for (std::size_t i = 0; i < plane; ++i) yp[i] = xp[i] * scale + shift;
        }
    }
    /// Gradients of batchnorm_apply. With batch statistics (training) the mean and variance depend
    /// on x: gx = w·invstd·(gy − mean(gy) − x̂·mean(gy·x̂)); with fixed statistics gx = w·invstd·gy.
    /// gweight += Σ gy·x̂, gbias += Σ gy (either may be null, as may gx).
    template <class T>
    static void batchnorm_backward(const batchnorm_desc& d, bool batch_statistics, const T* x, const T* gy,
                                   const T* mean, const T* invstd, const T* weight, T* gx, T* gweight, T* gbias) {
        const std::size_t plane = std::size_t(d.plane), cstride = std::size_t(d.channels) * plane;
        const double count = double(d.batch) * double(d.plane);
        const bool sums = batch_statistics || gweight || gbias;
#pragma omp parallel for schedule(static) num_threads(cpu_detail::max_threads()) if (count * d.channels > 65536)
        for (int c = 0; c < d.channels; ++c) {
            const double mu = double(mean[c]), is = double(invstd[c]);
            double sg = 0, sgx = 0;
            if (sums && x) {
                for (int n = 0; n < d.batch; ++n) {
                    const std::size_t o = std::size_t(n) * cstride + std::size_t(c) * plane;
                    for (std::size_t i = 0; i < plane; ++i) {
                        sg += double(gy[o + i]);
                        sgx += double(gy[o + i]) * (double(x[o + i]) - mu) * is;
                    }
                }
            }
            if (gweight) gweight[c] += T(sgx);
            if (gbias) gbias[c] += T(sg);
            if (!gx) continue;
            const double k = double(weight[c]) * is;
            const double mg = batch_statistics ? sg / count : 0, mgx = batch_statistics ? sgx / count : 0;
            for (int n = 0; n < d.batch; ++n) {
                const std::size_t o = std::size_t(n) * cstride + std::size_t(c) * plane;
                if (batch_statistics) {
                    for (std::size_t i = 0; i < plane; ++i)
                        gx[o + i] = T(k * (double(gy[o + i]) - mg - (double(x[o + i]) - mu) * is * mgx));
                } else {
                    const T kt = T(k);
                    for (std::size_t i = 0; i < plane; ++i) gx[o + i] = gy[o + i] * kt;
                }
            }
        }
    }

    // ---- local response normalisation ------------------------------------------------------
    /// scale_c = k + alpha/size * sum of x^2 over channels [c - size/2, c + (size-1)/2];
    /// y = x * scale^-beta.
    template <class T>
    static void lrn_forward(const lrn_desc& d, const T* x, T* y, T* scale) {
        using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
        const std::int64_t planes = std::int64_t(d.batch) * d.channels;
        const T coeff = T(d.alpha / d.size);
#pragma omp parallel for schedule(static) num_threads(cpu_detail::max_threads())
        for (std::int64_t pl = 0; pl < planes; ++pl) {
            const int n = int(pl / d.channels), c = int(pl % d.channels);
            const std::size_t base = std::size_t(n) * d.channels * d.plane;
            Eigen::Map<Arr> S(scale + pl * d.plane, d.plane);
            S.setZero();
            const int lo = std::max(c - d.size / 2, 0), hi = std::min(c + (d.size - 1) / 2, d.channels - 1);
            for (int j = lo; j <= hi; ++j) {
                Eigen::Map<const Arr> X(x + base + std::size_t(j) * d.plane, d.plane);
                S += X.square();
            }
            S = S * coeff + T(d.k);
            Eigen::Map<const Arr> X(x + pl * d.plane, d.plane);
            Eigen::Map<Arr> Y(y + pl * d.plane, d.plane);
            Y = X * (S.log() * T(-d.beta)).exp();
        }
    }
    /// gx_c = gy_c scale_c^-beta - (2 alpha beta / size) x_c sum_{j : c in window(j)} gy_j y_j / scale_j
    template <class T>
    static void lrn_backward(const lrn_desc& d, const T* x, const T* y, const T* scale, const T* gy, T* gx) {
        using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
        const T coeff = T(2.0 * d.alpha * d.beta / d.size);
        const std::int64_t planes = std::int64_t(d.batch) * d.channels;
#pragma omp parallel for schedule(static) num_threads(cpu_detail::max_threads())
        for (std::int64_t pl = 0; pl < planes; ++pl) {
            const int n = int(pl / d.channels), c = int(pl % d.channels);
            const std::size_t base = std::size_t(n) * d.channels * d.plane;
            // c lies in window(j) for j in [c - (size-1)/2, c + size/2].
            Arr acc = Arr::Zero(d.plane);
            const int lo = std::max(c - (d.size - 1) / 2, 0), hi = std::min(c + d.size / 2, d.channels - 1);
            for (int j = lo; j <= hi; ++j) {
                const std::size_t o = base + std::size_t(j) * d.plane;
                acc += Eigen::Map<const Arr>(gy + o, d.plane) * Eigen::Map<const Arr>(y + o, d.plane) /
                       Eigen::Map<const Arr>(scale + o, d.plane);
            }
            const std::size_t o = base + std::size_t(c) * d.plane;
            Eigen::Map<const Arr> S(scale + o, d.plane), X(x + o, d.plane), GY(gy + o, d.plane);
            Eigen::Map<Arr>(gx + o, d.plane) = GY * (S.log() * T(-d.beta)).exp() - coeff * X * acc;
        }
    }

    // ---- fully connected -------------------------------------------------------------------
    /// y = x W^T + b, with the rows of W (output features) split across threads: W streams
    /// through once (fc6's is 151 MB), which at ZFNet's batch sizes is what bounds the layer.
    /// On AVX-512 a kernel of its own computes dot products of 4 rows of W with up to 6 samples
    /// at a time over a slice of W that stays in the L1 cache; elsewhere it is Eigen's product.
    template <class T>
    static void linear_forward(const linear_desc& d, const T* x, const T* w, const T* b, T* y) {
        using namespace cpu_detail;
        const int threads = std::min(max_threads(), std::max(1, d.out / 64));
        const int chunk = ((d.out + threads - 1) / threads + 15) / 16 * 16;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
        for (int t = 0; t < threads; ++t) {
            const int o0 = t * chunk, cnt = std::min(chunk, d.out - o0);
            if (cnt > 0) linear_rows(d, x, w, b, y, o0, cnt);
        }
    }
    /// gx = gy W (if gx), gW += gy^T x, gb += column sums of gy (if gw). gx is computed as
    /// gx^T = W^T gy^T, for the same reason as the forward: W is the left operand.
    template <class T>
    static void linear_backward(const linear_desc& d, const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb) {
        using namespace cpu_detail;
        if (gw) {  // null: the input gradient only (the deconvnet's transposed Linear)
            cpu_gemm::gemm(d.out, d.in, d.batch, cpu_gemm::operand<T>{gy, 1, d.out}, cpu_gemm::operand<T>{x, d.in, 1}, gw,
                           d.in, true);
            Eigen::Map<VecR<T>>(gb, d.out) += Eigen::Map<const MatR<T>>(gy, d.batch, d.out).colwise().sum();
        }
        if (gx) {
            T* gxt = transposed_buffer<T>(std::size_t(d.in) * d.batch);
            cpu_gemm::gemm(d.in, d.batch, d.out, cpu_gemm::operand<T>{w, 1, d.in}, cpu_gemm::operand<T>{gy, 1, d.out},
                           gxt, d.batch, false);
            transpose(d.in, d.batch, gxt, gx);
        }
    }

    // ---- softmax ---------------------------------------------------------------------------
    template <class T>
    static void softmax_forward(int rows, int cols, const T* x, T* y) {
        for (int r = 0; r < rows; ++r) {
            const T* xr = x + std::size_t(r) * cols;
            T* yr = y + std::size_t(r) * cols;
            const T m = *std::max_element(xr, xr + cols);
            T sum = 0;
            for (int i = 0; i < cols; ++i) sum += (yr[i] = std::exp(xr[i] - m));
            for (int i = 0; i < cols; ++i) yr[i] /= sum;
        }
    }
    template <class T>
    static void softmax_backward(int rows, int cols, const T* y, const T* gy, T* gx) {
        for (int r = 0; r < rows; ++r) {
            const std::size_t o = std::size_t(r) * cols;
            T dot = 0;
            for (int i = 0; i < cols; ++i) dot += gy[o + i] * y[o + i];
            for (int i = 0; i < cols; ++i) gx[o + i] = y[o + i] * (gy[o + i] - dot);
        }
    }

private:
    /// Outputs [o0, o0+count) of every sample of linear_forward.
    template <class T>
    static void linear_rows(const linear_desc& d, const T* x, const T* w, const T* b, T* y, int o0, int count) {
#if defined(__AVX512F__)
        if constexpr (std::is_same_v<T, float>) {
            if (d.in % 16 == 0) return linear_rows_avx512(d, x, w, b, y, o0, count);
        }
#endif
        using MatC = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
        Eigen::Map<const cpu_detail::MatR<T>> X(x, d.batch, d.in), W(w, d.out, d.in);
        Eigen::Map<MatC> YT(y, d.out, d.batch);  // y read column-major is y^T
        YT.middleRows(o0, count).noalias() = W.middleRows(o0, count) * X.transpose();
        YT.middleRows(o0, count).colwise() += Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(b + o0, count);
    }
#if defined(__AVX512F__)
    static void linear_rows_avx512(const linear_desc& d, const float* x, const float* w, const float* b, float* y,
                                   int o0, int count) {
        constexpr int RB = 4, NB = 6, KB = 512;  // rows, samples, and the slice of k kept in L1
        const int nblocks = (d.batch + NB - 1) / NB;
        thread_local host_buffer<float> partial;  // running sums of every sample block, per row block
        partial.resize(std::size_t(nblocks) * RB * NB * 16);
        for (int o = o0; o < o0 + count; o += RB) {
            const int rows = std::min(RB, o0 + count - o);
            for (int k0 = 0; k0 < d.in; k0 += KB) {
                const int kn = std::min(KB, d.in - k0);
                for (int nb = 0; nb < nblocks; ++nb) {
                    const int n0 = nb * NB, ns = std::min(NB, d.batch - n0);
                    float* acc = partial.data() + std::size_t(nb) * RB * NB * 16;
                    switch (ns) {
                        case 1: linear_block<1>(d, x, w, o, rows, n0, k0, kn, acc); break;
                        case 2: linear_block<2>(d, x, w, o, rows, n0, k0, kn, acc); break;
                        case 3: linear_block<3>(d, x, w, o, rows, n0, k0, kn, acc); break;
                        case 4: linear_block<4>(d, x, w, o, rows, n0, k0, kn, acc); break;
                        case 5: linear_block<5>(d, x, w, o, rows, n0, k0, kn, acc); break;
                        default: linear_block<6>(d, x, w, o, rows, n0, k0, kn, acc); break;
                    }
                }
            }
            for (int nb = 0; nb < nblocks; ++nb) {
                const int n0 = nb * NB, ns = std::min(NB, d.batch - n0);
                const float* acc = partial.data() + std::size_t(nb) * RB * NB * 16;
                for (int r = 0; r < rows; ++r)
                    for (int n = 0; n < ns; ++n)
                        y[std::size_t(n0 + n) * d.out + o + r] = _mm512_reduce_add_ps(_mm512_load_ps(acc + (r * NB + n) * 16)) + b[o + r];
            }
        }
    }
    /// acc[r][n] (16 partial sums each) += W[o+r, k0:k0+kn] · x[n0+n, k0:k0+kn] (zeroed first at k0 = 0).
    template <int NS>
    static void linear_block(const linear_desc& d, const float* x, const float* w, int o, int rows, int n0, int k0,
                             int kn, float* acc) {
        constexpr int RB = 4, NB = 6;
        __m512 c[RB][NS];
        for (int r = 0; r < RB; ++r)
            for (int n = 0; n < NS; ++n) c[r][n] = k0 == 0 ? _mm512_setzero_ps() : _mm512_load_ps(acc + (r * NB + n) * 16);
        const float* wr[RB];
        for (int r = 0; r < RB; ++r) wr[r] = w + std::size_t(o + std::min(r, rows - 1)) * d.in + k0;
        const float* xn[NS];
        for (int n = 0; n < NS; ++n) xn[n] = x + std::size_t(n0 + n) * d.in + k0;
        for (int k = 0; k < kn; k += 16) {
            __m512 wv[RB];
            for (int r = 0; r < RB; ++r) wv[r] = _mm512_loadu_ps(wr[r] + k);
            for (int n = 0; n < NS; ++n) {
                const __m512 xv = _mm512_loadu_ps(xn[n] + k);
                for (int r = 0; r < RB; ++r) c[r][n] = _mm512_fmadd_ps(wv[r], xv, c[r][n]);
            }
        }
        for (int r = 0; r < RB; ++r)
            for (int n = 0; n < NS; ++n) _mm512_store_ps(acc + (r * NB + n) * 16, c[r][n]);
    }
#endif

    /// The fully connected layers' transposed products: one buffer per calling thread, kept.
    template <class T>
    static T* transposed_buffer(std::size_t n) {
        thread_local host_buffer<T> buffer;
        buffer.resize(n);
        return buffer.data();
    }
    /// out[c][r] = in[r][c] for in of rows × cols.
    template <class T>
    static void transpose(int rows, int cols, const T* in, T* out) {
        Eigen::Map<cpu_detail::MatR<T>>(out, cols, rows) = Eigen::Map<const cpu_detail::MatR<T>>(in, rows, cols).transpose();
    }

    /// Runs f(first, count) over [0, n) in chunks spread over the threads; small n stays serial.
    template <class F>
    static void for_chunks(std::size_t n, F&& f) {
        constexpr std::size_t serial = std::size_t(1) << 16;
        const int threads = cpu_detail::max_threads();
        if (n < serial || threads == 1) {
            f(std::size_t(0), n);
            return;
        }
        const std::size_t chunk = ((n + threads - 1) / threads + 15) & ~std::size_t(15);
#pragma omp parallel for schedule(static) num_threads(threads)
        for (int t = 0; t < threads; ++t) {
            const std::size_t i0 = std::size_t(t) * chunk;
            if (i0 < n) f(i0, std::min(chunk, n - i0));
        }
    }
    /// One window offset applied to a row of outputs: keep v where it beats the running maximum.
    template <int FixedStride, class T>
    static void pool_row(const T* __restrict row, std::int32_t base, int lo, int hi, T* __restrict best,
                         std::int32_t* __restrict at, int stride) {
        const int s = FixedStride ? FixedStride : stride;
        for (int ow = lo; ow < hi; ++ow) {
            const T v = row[ow * s];
            const bool take = (v > best[ow]) | (v != v);
            best[ow] = take ? v : best[ow];
            at[ow] = take ? base + ow * s : at[ow];
        }
    }
#if defined(__AVX512F__)
    /// The inner columns of one output row for stride 2, 16 outputs at a time, the running maximum
    /// and its position kept in registers across the whole window; two loads cover 32 input
    /// columns and one permute keeps the even ones. The last block is masked: ZFNet's rows are 55
    /// and 13 wide, so a scalar tail would cost as much as the vector body.
    static void pool_inner_stride2(const float* xp, int in_w, int plane, int h0, int h1, int kernel, int pad, int lo,
                                   int hi, float* yr, std::int32_t* sr) {
        const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        for (int ow = lo; ow < hi; ow += 16) {
            const int n = std::min(16, hi - ow), inputs = 2 * n - 1;
            const __mmask16 out_mask = n == 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
            const __mmask16 lo_mask = inputs >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << inputs) - 1);
            const __mmask16 hi_mask = inputs <= 16 ? __mmask16(0) : __mmask16((1u << (inputs - 16)) - 1);
            __m512 best = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
            __m512i at = _mm512_add_epi32(_mm512_set1_epi32(h0 * in_w + 2 * ow - pad), even);
            for (int h = h0; h < h1; ++h)
                for (int kw = 0; kw < kernel; ++kw) {
                    const int first = h * in_w + 2 * ow + kw - pad;  // input column of output ow
                    const float* src = xp + first;
                    // Plain loads wherever 32 floats from src stay inside the plane: masked loads
                    // cost several times more on some cores (AMD), and the spare lanes are dropped.
                    const bool whole = first + 32 <= plane;
                    const __m512 a = whole ? _mm512_loadu_ps(src) : _mm512_maskz_loadu_ps(lo_mask, src);
                    const __m512 b = whole ? _mm512_loadu_ps(src + 16) : _mm512_maskz_loadu_ps(hi_mask, src + 16);
                    const __m512 v = _mm512_permutex2var_ps(a, even, b);
                    const __mmask16 take = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
                    best = _mm512_mask_mov_ps(best, take, v);
                    at = _mm512_mask_mov_epi32(at, take, _mm512_add_epi32(_mm512_set1_epi32(first), even));
                }
            if (n == 16) {  // masked stores are slow on some cores (AMD): only the row's last block uses them
                _mm512_storeu_ps(yr + ow, best);
                _mm512_storeu_si512(sr + ow, at);
            } else {
                _mm512_mask_storeu_ps(yr + ow, out_mask, best);
                _mm512_mask_storeu_epi32(sr + ow, out_mask, at);
            }
        }
    }
#endif
    static bool is_pointwise(const conv2d_desc& d) { return d.kernel == 1 && d.stride == 1 && d.pad == 0; }

    /// The output columns ow whose input column ow*stride - pad + kw lies inside [0, in_w).
    static void valid_range(int kw, const conv2d_desc& d, int& lo, int& hi) {
        const int off = kw - d.pad;  // iw = ow*stride + off
        lo = off >= 0 ? 0 : (-off + d.stride - 1) / d.stride;
        hi = d.in_w - off <= 0 ? 0 : (d.in_w - off - 1) / d.stride + 1;
        lo = std::min(lo, d.out_w);
        hi = std::clamp(hi, lo, d.out_w);
    }

    /// How a convolution's batch is cut into groups of images (see conv2d_forward).
    struct conv_plan {
        std::size_t ckk, ohw, in_size, out_size;
        int per_group, groups;
        std::size_t cols_size, out_size_group;
        bool direct;  ///< a 1×1, stride-1, unpadded kernel reads the input as its own columns
    };
    static conv_plan plan(const conv2d_desc& d) {
        conv_plan p{};
        p.ckk = std::size_t(d.in_c) * d.kernel * d.kernel;
        p.ohw = std::size_t(d.out_h) * d.out_w;
        p.in_size = std::size_t(d.in_c) * d.in_h * d.in_w;
        p.out_size = std::size_t(d.out_c) * p.ohw;
        p.direct = is_pointwise(d);
        // Images per group: enough GEMM columns (>= min_columns) for the kernel to run at speed,
        // no more than max_columns (the column buffer stays moderate), and a whole number of
        // rounds over the threads, so no thread idles at the end.
        // Measured on ZFNet's layers and small maps: grouping pays below ~128 columns per image
        // (6×6 maps: +17%) and costs a copy above it.
        constexpr std::size_t min_columns = 128, max_columns = 2048;
        const int threads = cpu_detail::max_threads();
        int per = 1;
        if (p.ohw < min_columns) {
            const int rounds_cap = std::max(1, (d.batch + threads - 1) / threads);
            for (int rounds = 1; rounds <= rounds_cap; ++rounds) {
                per = (d.batch + threads * rounds - 1) / (threads * rounds);
                if (std::size_t(per) * p.ohw <= max_columns) break;
            }
        }
        p.per_group = per;
        p.groups = (d.batch + per - 1) / per;
        p.cols_size = p.ckk * per * p.ohw;
        p.out_size_group = std::size_t(d.out_c) * per * p.ohw;
        return p;
    }

    /// How conv2d_forward cuts its work: groups of images (the plan's), each image's output
    /// pixels into column tiles, and the output channels into row blocks — tiles and blocks only
    /// as far as needed to give every thread work, and tiles also to keep a unit's columns near
    /// the cache.
    struct conv_unit {
        int n0, count;  ///< images [n0, n0+count)
        int j0, j1;     ///< output pixels [j0, j1) of each
        int r0, rows;   ///< output channels [r0, r0+rows)
    };
    struct conv_units {
        int groups, tiles, blocks;
        int tile, block;  ///< columns per tile, rows per block
        int count() const { return groups * tiles * blocks; }
        std::size_t buffer_size(const conv_plan& p) const {
            // Grouped images also need the group's output before it is spread over the images.
            return p.per_group > 1 ? p.cols_size + p.out_size_group : p.ckk * std::size_t(tile);
        }
        conv_unit at(int i, const conv2d_desc& d, const conv_plan& p) const {
            const int g = i / (tiles * blocks), t = i / blocks % tiles, r = i % blocks;
            conv_unit c;
            c.n0 = g * p.per_group;
            c.count = std::min(p.per_group, d.batch - c.n0);
            c.j0 = t * tile;
            c.j1 = std::min(int(p.ohw), c.j0 + tile);
            c.r0 = r * block;
            c.rows = std::min(d.out_c - c.r0, block);
            return c;
        }
    };
    template <class T>
    static conv_units units(const conv2d_desc& d, const conv_plan& p) {
        const int threads = cpu_detail::max_threads();
        conv_units u{p.groups, 1, 1, int(p.ohw), d.out_c};
        if (p.per_group == 1) {
            // Tiles of at most max_tile columns (a tile's columns stay within a few hundred kB), and
            // enough of them for every thread when there are too few images.
            constexpr int max_tile = 2048, min_tile = 256, align = 32;
            int tiles = (int(p.ohw) + max_tile - 1) / max_tile;
            if (u.groups * tiles < threads)
                tiles = std::max(tiles, std::min((threads + u.groups - 1) / u.groups, int(p.ohw) / min_tile));
            u.tile = ((int(p.ohw) + tiles - 1) / tiles + align - 1) / align * align;
            u.tiles = (int(p.ohw) + u.tile - 1) / u.tile;
        }
        if (u.groups * u.tiles < threads) {  // still short of work: split the output channels
            const int want = (threads + u.groups * u.tiles - 1) / (u.groups * u.tiles);
            const int align = cpu_gemm::row_alignment<T>();
            u.block = ((d.out_c + want - 1) / want + align - 1) / align * align;
            u.blocks = (d.out_c + u.block - 1) / u.block;
        }
        return u;
    }

    /// cols[(c*K + kh)*K + kw][j - j0] = x[c][oh*S - P + kh][ow*S - P + kw] for the output pixels
    /// j = oh*OW + ow in [j0, j1) (all of them by default), zero outside the input; rows of the
    /// column matrix are `ld` apart (several images' columns sit side by side).
    template <class T>
    static void gather_columns(const conv2d_desc& d, const conv_plan& p, const T* x, T* cols, std::ptrdiff_t ld,
                               int j0 = 0, int j1 = -1) {
        if (j1 < 0) j1 = int(p.ohw);
        if (p.direct) {  // the input already is the column matrix
            for (int c = 0; c < d.in_c; ++c)
                std::memcpy(cols + c * ld, x + c * p.ohw + j0, std::size_t(j1 - j0) * sizeof(T));
            return;
        }
        const int K = d.kernel, S = d.stride, OW = d.out_w;
        const int oh_first = j0 / OW, oh_last = (j1 - 1) / OW;
        for (int c = 0; c < d.in_c; ++c)
            for (int kh = 0; kh < K; ++kh)
                for (int kw = 0; kw < K; ++kw) {
                    T* dst = cols + std::ptrdiff_t((c * K + kh) * K + kw) * ld - j0;  // indexed by pixel j
                    int lo, hi;
                    valid_range(kw, d, lo, hi);
                    const int off = kw - d.pad;
                    if (S == 1 && d.in_w == OW) {  // rows as long as the input's: one copy per column row
                        shifted_plane(d, x + std::size_t(c) * d.in_h * d.in_w, kh, off, lo, hi, j0, j1, dst);
                        continue;
                    }
                    for (int oh = oh_first; oh <= oh_last; ++oh) {
                        const int a = oh == oh_first ? j0 - oh * OW : 0, e = oh == oh_last ? j1 - oh * OW : OW;
                        T* row = dst + std::ptrdiff_t(oh) * OW;
                        const int ih = oh * S - d.pad + kh;
                        if (ih < 0 || ih >= d.in_h) {
                            std::fill(row + a, row + e, T(0));
                            continue;
                        }
                        const int l = std::clamp(lo, a, e), h = std::clamp(hi, l, e);
                        const T* src = x + (std::size_t(c) * d.in_h + ih) * d.in_w + off;
                        std::fill(row + a, row + l, T(0));
                        if (S == 1)
                            std::memcpy(row + l, src + l, std::size_t(h - l) * sizeof(T));
                        else if (S == 2)
                            for (int ow = l; ow < h; ++ow) row[ow] = src[ow * 2];
                        else
                            for (int ow = l; ow < h; ++ow) row[ow] = src[ow * S];
                        std::fill(row + h, row + e, T(0));
                    }
                }
    }
    /// One column row of gather_columns when the stride is 1 and the input's rows are as long as the
    /// output's: pixel j reads the input plane at j + (kh − P)·W + off, so the row is one shifted
    /// copy of the plane, with zeros where the window leaves it — whole rows above and below, and
    /// the columns outside [lo, hi) of each row, which the copy filled from the neighbouring row.
    /// (Small maps: 13 pixels per row made a copy per row cost more than the GEMM's share.)
    template <class T>
    static void shifted_plane(const conv2d_desc& d, const T* plane, int kh, int off, int lo, int hi, int j0, int j1,
                              T* dst) {
        const int OW = d.out_w;
        const std::ptrdiff_t shift = std::ptrdiff_t(kh - d.pad) * OW + off, size = std::ptrdiff_t(d.in_h) * d.in_w;
        const int oh_lo = std::clamp(d.pad - kh, 0, d.out_h), oh_hi = std::clamp(d.in_h + d.pad - kh, oh_lo, d.out_h);
        const std::ptrdiff_t a = std::clamp<std::ptrdiff_t>(std::ptrdiff_t(oh_lo) * OW, j0, j1),
                             e = std::clamp<std::ptrdiff_t>(std::ptrdiff_t(oh_hi) * OW, a, j1);
        const std::ptrdiff_t l = std::clamp<std::ptrdiff_t>(-shift, a, e), h = std::clamp<std::ptrdiff_t>(size - shift, l, e);
        std::fill(dst + j0, dst + l, T(0));
        std::memcpy(dst + l, plane + l + shift, std::size_t(h - l) * sizeof(T));
        std::fill(dst + h, dst + j1, T(0));
        if (lo == 0 && hi == OW) return;
        for (std::ptrdiff_t row = l / OW * OW; row < h; row += OW) {
            for (std::ptrdiff_t j = std::max(row, l); j < std::min(row + lo, h); ++j) dst[j] = T(0);
            for (std::ptrdiff_t j = std::max(row + hi, l); j < std::min(row + OW, h); ++j) dst[j] = T(0);
        }
    }

    /// The adjoint of gather_columns: x (overwritten) = the columns summed back at their positions.
    /// Outside a parallel region the input channels are spread over the threads (each writes only
    /// its own planes).
    template <class T>
    static void scatter_columns(const conv2d_desc& d, const conv_plan& p, const T* cols, std::ptrdiff_t ld, T* x) {
        if (p.direct) {
            for (int c = 0; c < d.in_c; ++c) std::memcpy(x + c * p.ohw, cols + c * ld, p.ohw * sizeof(T));
            return;
        }
        const int K = d.kernel, S = d.stride, OW = d.out_w;
        const std::size_t plane = std::size_t(d.in_h) * d.in_w;
        const bool alone = !in_parallel_region() && cpu_detail::max_threads() > 1 && d.in_c > 1;
#pragma omp parallel for schedule(static) num_threads(cpu_detail::max_threads()) if (alone)
        for (int c = 0; c < d.in_c; ++c) {
            std::fill_n(x + c * plane, plane, T(0));
            for (int kh = 0; kh < K; ++kh)
                for (int kw = 0; kw < K; ++kw) {
                    const T* src = cols + std::ptrdiff_t((c * K + kh) * K + kw) * ld;
                    int lo, hi;
                    valid_range(kw, d, lo, hi);
                    const int off = kw - d.pad;
                    for (int oh = 0; oh < d.out_h; ++oh) {
                        const int ih = oh * S - d.pad + kh;
                        if (ih < 0 || ih >= d.in_h) continue;
                        const T* row = src + std::size_t(oh) * OW;
                        T* dst = x + c * plane + std::size_t(ih) * d.in_w + off;
                        for (int ow = lo; ow < hi; ++ow) dst[ow * S] += row[ow];
                    }
                }
        }
    }
};

}  // namespace convis
