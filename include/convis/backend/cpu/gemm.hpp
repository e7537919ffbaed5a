#pragma once
// C = A·B (or C += A·B) for the CPU policy, with arbitrary strides so transposes cost nothing.
//
// Eigen 3.4's float GEMM kernel keeps 12 of AVX-512's 32 vector registers busy and reaches about
// 55% of peak on these machines; convolutions are almost all GEMM, so on AVX-512 convis uses the
// register-blocked kernel below (a GotoBLAS-style packing of A and B around a 12×32 micro-tile:
// 24 accumulators, one broadcast of A per row and two loads of B per step). Everywhere else — other
// instruction sets, double precision — the same call is an Eigen product.
#include <Eigen/Core>
#include <algorithm>
#include <cstddef>
#include <type_traits>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#include "../../core/buffer.hpp"
#include "../../core/threads.hpp"

namespace convis::cpu_gemm {

/// A matrix operand: element (i, j) is at data[i*row_stride + j*col_stride].
template <class T>
struct operand {
    const T* data;
    std::ptrdiff_t row_stride, col_stride;
    T operator()(std::ptrdiff_t i, std::ptrdiff_t j) const { return data[i * row_stride + j * col_stride]; }
};

/// C[M×N] (rows ldc apart, columns contiguous) = A[M×K]·B[K×N] (+ row_bias[i] on row i when
/// given), or C += A·B when accumulate (row_bias ignored).
/// Runs on the calling thread when called inside an OpenMP parallel region, else on all threads.
template <class T>
void gemm(int M, int N, int K, operand<T> A, operand<T> B, T* C, std::ptrdiff_t ldc, bool accumulate,
          const T* row_bias = nullptr);

/// A left operand packed once for many products that share it: a convolution's weights against
/// each tile of its columns. Packing is the kernel's own layout (MR-row slivers per K block), so a
/// product from it skips the per-call packing of A.
template <class T>
class packed_lhs {
public:
    /// Packs A[M×K] in pieces that threads share: prepare, then every piece in [0, pieces())
    /// once, in any order (memory is kept and reused by the next prepare).
    void prepare(int M, int K, operand<T> A);
    int pieces() const;
    void pack_piece(int i);
    int rows() const { return M_; }
    int depth() const { return K_; }

private:
    template <class U>
    friend void gemm_rows(const packed_lhs<U>&, int, int, int, operand<U>, U*, std::ptrdiff_t, bool, const U*);
    int M_ = 0, K_ = 0;
    operand<T> source_{nullptr, 0, 0};
    host_buffer<T> packed_;
};

/// Rows that a gemm_rows block must start on (the kernel's micro-tile height for float on AVX-512).
template <class T>
constexpr int row_alignment();

/// C[m×N] (+)= rows [r0, r0+m) of the packed A times B, with row_bias as in gemm (indexed from r0),
/// always on the calling thread: the caller spreads blocks of rows or columns over its threads.
/// r0 must be a multiple of row_alignment<T>().
template <class T>
void gemm_rows(const packed_lhs<T>& A, int r0, int m, int N, operand<T> B, T* C, std::ptrdiff_t ldc, bool accumulate,
               const T* row_bias);

// ---- details -------------------------------------------------------------------------------

namespace detail {

template <class T>
void eigen_gemm(int M, int N, int K, operand<T> A, operand<T> B, T* C, std::ptrdiff_t ldc, bool accumulate,
                const T* row_bias) {
    using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using S = Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>;
    Eigen::Map<const Mat, 0, S> a(A.data, M, K, S(A.row_stride, A.col_stride));
    Eigen::Map<const Mat, 0, S> b(B.data, K, N, S(B.row_stride, B.col_stride));
    Eigen::Map<Mat, 0, Eigen::OuterStride<>> c(C, M, N, Eigen::OuterStride<>(ldc));
    if (accumulate) {
        c.noalias() += a * b;
    } else {
        c.noalias() = a * b;
        if (row_bias) c.colwise() += Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(row_bias, M);
    }
}

#if defined(__AVX512F__)
constexpr int MR = 12, NR = 32;        // micro-tile: 12 rows × two 16-float vectors
constexpr int KC = 384, MC = 96, NC = 3072;

/// r[i][j] ← r[j][i] for a 16×16 block held in 16 registers.
inline void transpose16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 8; ++i) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // u[4i + m], 128-bit lane L: element 4L + m of rows 4i .. 4i+3.
    for (int i = 0; i < 4; ++i) {
        u[4 * i + 0] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int m = 0; m < 4; ++m) {
        const __m512 v0 = _mm512_shuffle_f32x4(u[m], u[4 + m], 0x44), v1 = _mm512_shuffle_f32x4(u[m], u[4 + m], 0xEE);
        const __m512 v2 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0x44), v3 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0xEE);
        r[0 + m] = _mm512_shuffle_f32x4(v0, v2, 0x88);
        r[4 + m] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
        r[8 + m] = _mm512_shuffle_f32x4(v1, v3, 0x88);
        r[12 + m] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
    }
}

/// Packs A[i0:i0+mc, k0:k0+kc] as consecutive MR-row slivers, k-major inside: Ap[k*MR + r].
inline void pack_a(operand<float> A, int i0, int mc, int k0, int kc, float* Ap) {
    for (int ir = 0; ir < mc; ir += MR) {
        const int rows = std::min(MR, mc - ir);
        int k = 0;
        if (A.col_stride == 1)  // rows contiguous (a convolution's weights): 16 k at a time, transposed in registers
            for (; k + 16 <= kc; k += 16) {
                __m512 r[16];
                for (int j = 0; j < 16; ++j)
                    r[j] = j < rows ? _mm512_loadu_ps(A.data + std::ptrdiff_t(i0 + ir + j) * A.row_stride + k0 + k)
                                    : _mm512_setzero_ps();
                transpose16(r);
                // Each store writes MR values and 4 zeros that the next one overwrites; the last
                // stops at MR, so nothing past this block of k is touched.
                for (int q = 0; q < 15; ++q) _mm512_storeu_ps(Ap + (k + q) * MR, r[q]);
                _mm512_mask_storeu_ps(Ap + (k + 15) * MR, __mmask16((1u << MR) - 1), r[15]);
            }
        for (; k < kc; ++k) {
            for (int r = 0; r < rows; ++r) Ap[k * MR + r] = A(i0 + ir + r, k0 + k);
            for (int r = rows; r < MR; ++r) Ap[k * MR + r] = 0.f;
        }
        Ap += std::ptrdiff_t(kc) * MR;
    }
}
/// Packs B[k0:k0+kc, j0:j0+nc] as consecutive NR-column slivers: Bp[k*NR + j].
inline void pack_b(operand<float> B, int k0, int kc, int j0, int nc, float* Bp) {
    if (B.row_stride == 1 && B.col_stride != 1) {  // B stored transposed (Cᵀ in a weight gradient)
        for (int jr = 0; jr < nc; jr += NR) {
            const int cols = std::min(NR, nc - jr);
            for (int c0 = 0; c0 < NR; c0 += 16) {
                const int width = std::clamp(cols - c0, 0, 16);
                const float* src = B.data + k0 + std::ptrdiff_t(j0 + jr + c0) * B.col_stride;
                int k = 0;
                if (width == 16) {  // 16×16 blocks through registers
                    for (; k + 16 <= kc; k += 16) {
                        __m512 r[16];
                        for (int j = 0; j < 16; ++j) r[j] = _mm512_loadu_ps(src + k + std::ptrdiff_t(j) * B.col_stride);
                        transpose16(r);
                        for (int q = 0; q < 16; ++q) _mm512_storeu_ps(Bp + (k + q) * NR + c0, r[q]);
                    }
                }
                for (; k < kc; ++k) {
                    float* dst = Bp + k * NR + c0;
                    for (int j = 0; j < width; ++j) dst[j] = src[k + std::ptrdiff_t(j) * B.col_stride];
                    for (int j = width; j < 16; ++j) dst[j] = 0.f;
                }
            }
            Bp += std::ptrdiff_t(kc) * NR;
        }
        return;
    }
    for (int jr = 0; jr < nc; jr += NR) {
        const int cols = std::min(NR, nc - jr);
        for (int k = 0; k < kc; ++k) {
            const float* src = B.data + std::ptrdiff_t(k0 + k) * B.row_stride + std::ptrdiff_t(j0 + jr) * B.col_stride;
            float* dst = Bp + k * NR;
            if (B.col_stride == 1 && cols == NR) {
                _mm512_storeu_ps(dst, _mm512_loadu_ps(src));
                _mm512_storeu_ps(dst + 16, _mm512_loadu_ps(src + 16));
            } else {
                for (int j = 0; j < cols; ++j) dst[j] = src[j * B.col_stride];
                for (int j = cols; j < NR; ++j) dst[j] = 0.f;
            }
        }
        Bp += std::ptrdiff_t(kc) * NR;
    }
}

/// C[rows×cols tile] (+)= Ap·Bp over kc steps, with NV 16-float vectors per row: NV = 1 serves a
/// last tile of at most 16 columns (a 13×13 map has 169 = 5·32 + 9) at half the work.
template <int NV>
inline void micro_kernel(int kc, const float* __restrict Ap, const float* __restrict Bp, float* C,
                         std::ptrdiff_t ldc, int rows, int cols, bool add, const float* bias) {
    __m512 c[MR][NV];
    for (int r = 0; r < MR; ++r)
        for (int v = 0; v < NV; ++v) c[r][v] = _mm512_setzero_ps();
    for (int k = 0; k < kc; ++k) {
        __m512 b[NV];
        for (int v = 0; v < NV; ++v) b[v] = _mm512_load_ps(Bp + 16 * v);
#pragma GCC unroll 12
        for (int r = 0; r < MR; ++r) {
            const __m512 a = _mm512_set1_ps(Ap[r]);
            for (int v = 0; v < NV; ++v) c[r][v] = _mm512_fmadd_ps(a, b[v], c[r][v]);
        }
        Ap += MR;
        Bp += NR;
    }
    __mmask16 mask[NV];
    for (int v = 0; v < NV; ++v) {
        const int n = std::clamp(cols - 16 * v, 0, 16);
        mask[v] = n == 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
    }
    // Masked loads and stores cost several times more than plain ones on some cores (AMD): a
    // full tile uses plain ones.
    const bool full = cols == 16 * NV;
    for (int r = 0; r < rows; ++r) {
        float* row = C + r * ldc;
        for (int v = 0; v < NV; ++v) {
            if (add)
                c[r][v] = _mm512_add_ps(c[r][v], full ? _mm512_loadu_ps(row + 16 * v)
                                                      : _mm512_maskz_loadu_ps(mask[v], row + 16 * v));
            else if (bias)
                c[r][v] = _mm512_add_ps(c[r][v], _mm512_set1_ps(bias[r]));
            if (full)
                _mm512_storeu_ps(row + 16 * v, c[r][v]);
            else
                _mm512_mask_storeu_ps(row + 16 * v, mask[v], c[r][v]);
        }
    }
}

/// One thread's share: columns [j_begin, j_end) of C. a_block(ic, mc, pc, kc) gives the packed
/// slivers of rows [ic, ic+mc) for the K block [pc, pc+kc) — packed on the spot or taken from a
/// packed_lhs.
template <class ABlock>
inline void gemm_avx512_cols(int M, int K, ABlock&& a_block, operand<float> B, float* C, std::ptrdiff_t ldc,
                             bool accumulate, const float* bias, int j_begin, int j_end) {
    // The packing buffer lives as long as the thread: allocated once, reused by every call.
    thread_local host_buffer<float> b_pack;
    b_pack.resize(std::size_t(KC) * (NC + NR));
    for (int jc = j_begin; jc < j_end; jc += NC) {
        const int nc = std::min(NC, j_end - jc);
        for (int pc = 0; pc < K; pc += KC) {
            const int kc = std::min(KC, K - pc);
            const bool add = accumulate || pc > 0;
            pack_b(B, pc, kc, jc, nc, b_pack.data());
            for (int ic = 0; ic < M; ic += MC) {
                const int mc = std::min(MC, M - ic);
                const float* a_pack = a_block(ic, mc, pc, kc);
                for (int jr = 0; jr < nc; jr += NR) {
                    const float* bp = b_pack.data() + std::ptrdiff_t(jr / NR) * kc * NR;
                    for (int ir = 0; ir < mc; ir += MR) {
                        const float* ap = a_pack + std::ptrdiff_t(ir / MR) * kc * MR;
                        float* c = C + std::ptrdiff_t(ic + ir) * ldc + jc + jr;
                        const float* b = bias ? bias + ic + ir : nullptr;
                        const int rows = std::min(MR, mc - ir), cols = std::min(NR, nc - jr);
                        if (cols > 16)
                            micro_kernel<2>(kc, ap, bp, c, ldc, rows, cols, add, b);
                        else
                            micro_kernel<1>(kc, ap, bp, c, ldc, rows, cols, add, b);
                    }
                }
            }
        }
    }
}

/// gemm_avx512_cols with A packed block by block on the calling thread.
inline void gemm_avx512_cols(int M, int K, operand<float> A, operand<float> B, float* C, std::ptrdiff_t ldc,
                             bool accumulate, const float* bias, int j_begin, int j_end) {
    thread_local host_buffer<float> a_pack;
    a_pack.resize(std::size_t(MC) * KC);
    gemm_avx512_cols(
        M, K,
        [&](int ic, int mc, int pc, int kc) {
            pack_a(A, ic, mc, pc, kc, a_pack.data());
            return static_cast<const float*>(a_pack.data());
        },
        B, C, ldc, accumulate, bias, j_begin, j_end);
}
#endif

}  // namespace detail

namespace detail {
/// C = bias (or 0), or C unchanged when accumulating: the product of an empty K.
template <class T>
void empty_product(int M, int N, T* C, std::ptrdiff_t ldc, bool accumulate, const T* row_bias) {
    if (!accumulate)
        for (int i = 0; i < M; ++i) std::fill_n(C + std::ptrdiff_t(i) * ldc, N, row_bias ? row_bias[i] : T(0));
}
}  // namespace detail

template <class T>
void gemm(int M, int N, int K, operand<T> A, operand<T> B, T* C, std::ptrdiff_t ldc, bool accumulate,
          const T* row_bias) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) return detail::empty_product(M, N, C, ldc, accumulate, row_bias);
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>) {
        int threads = 1;
#ifdef _OPENMP
        if (!convis::in_parallel_region()) threads = convis::threads();
#endif
        // Split the columns when there are enough of them, else the rows (a 13×13 map's transposed
        // convolution has 169 columns and thousands of rows).
        const bool by_cols = N >= 256 * threads;
        const int extent = by_cols ? N : M, unit = by_cols ? detail::NR : detail::MR;
        threads = std::min(threads, std::max(1, extent / (by_cols ? 256 : 4 * detail::MR)));
        if (threads <= 1) {
            detail::gemm_avx512_cols(M, K, A, B, C, ldc, accumulate, row_bias, 0, N);
        } else {
            const int chunk = ((extent + threads - 1) / threads + unit - 1) / unit * unit;
#pragma omp parallel for schedule(static) num_threads(threads)
            for (int t = 0; t < threads; ++t) {
                const int b0 = t * chunk, b1 = std::min(extent, b0 + chunk);
                if (b0 >= b1) continue;
                if (by_cols) {
                    detail::gemm_avx512_cols(M, K, A, B, C, ldc, accumulate, row_bias, b0, b1);
                } else {
                    const operand<float> rows{A.data + std::ptrdiff_t(b0) * A.row_stride, A.row_stride, A.col_stride};
                    detail::gemm_avx512_cols(b1 - b0, K, rows, B, C + std::ptrdiff_t(b0) * ldc, ldc, accumulate,
                                             row_bias ? row_bias + b0 : nullptr, 0, N);
                }
            }
        }
        return;
    }
#endif
    detail::eigen_gemm(M, N, K, A, B, C, ldc, accumulate, row_bias);
}

template <class T>
constexpr int row_alignment() {
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>) return detail::MR;
#endif
    return 1;
}

template <class T>
void packed_lhs<T>::prepare(int M, int K, operand<T> A) {
    M_ = M, K_ = K, source_ = A;
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>) {
        // Block pc (K rows [pc, pc+kc)) starts at pc·M_padded; inside it, MR-row slivers of kc·MR.
        const int padded = (M + detail::MR - 1) / detail::MR * detail::MR;
        packed_.resize(std::size_t(padded) * std::size_t(std::max(K, 0)));
    }
#endif
}

template <class T>
int packed_lhs<T>::pieces() const {
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>)  // one piece: one sliver of one K block
        return (K_ + detail::KC - 1) / detail::KC * ((M_ + detail::MR - 1) / detail::MR);
#endif
    return 0;  // Eigen reads the source as it is
}

template <class T>
void packed_lhs<T>::pack_piece(int i) {
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>) {
        const int slivers = (M_ + detail::MR - 1) / detail::MR, padded = slivers * detail::MR;
        const int pc = i / slivers * detail::KC, s = i % slivers, kc = std::min(detail::KC, K_ - pc);
        detail::pack_a(source_, s * detail::MR, std::min(detail::MR, M_ - s * detail::MR), pc, kc,
                       packed_.data() + std::ptrdiff_t(pc) * padded + std::ptrdiff_t(s) * kc * detail::MR);
        return;
    }
#endif
    (void)i;
}

template <class T>
void gemm_rows(const packed_lhs<T>& A, int r0, int m, int N, operand<T> B, T* C, std::ptrdiff_t ldc, bool accumulate,
               const T* row_bias) {
    const int K = A.K_;
    if (m <= 0 || N <= 0) return;
    if (K <= 0) return detail::empty_product(m, N, C, ldc, accumulate, row_bias);
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>) {
        const int padded = (A.M_ + detail::MR - 1) / detail::MR * detail::MR;
        const float* base = A.packed_.data();
        detail::gemm_avx512_cols(
            m, K,
            [&](int ic, int, int pc, int kc) {
                return base + std::ptrdiff_t(pc) * padded + std::ptrdiff_t((r0 + ic) / detail::MR) * kc * detail::MR;
            },
            B, C, ldc, accumulate, row_bias, 0, N);
        return;
    }
#endif
    const operand<T> rows{A.source_.data + std::ptrdiff_t(r0) * A.source_.row_stride, A.source_.row_stride,
                          A.source_.col_stride};
    detail::eigen_gemm(m, N, K, rows, B, C, ldc, accumulate, row_bias);
}

}  // namespace convis::cpu_gemm
