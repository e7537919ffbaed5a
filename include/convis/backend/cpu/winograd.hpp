#pragma once
// Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2016) for the CPU policy's 3×3, stride-1 convolutions.
//
// Each 2×2 block of output pixels — a tile — comes from its 4×4 input patch d through
//     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A,
// 16 multiplications per (output channel, input channel) pair instead of 36. Over a whole layer
// the 16 element-wise products become 16 GEMMs, one per position ξ of the 4×4 transforms:
// U_ξ [out_c × in_c] (the transformed weights) times V_ξ [in_c × tiles] (the transformed patches).
// On a 13×13 map (49 tiles for 169 pixels) that is 16·49 / (9·169) = 0.52 of im2col's
// multiply-adds. The transforms themselves are additions, vectorised across 16 channels, which
// is why the input is first laid out channels-last.
//
// The input gradient of such a convolution is itself one (the weights transposed and flipped,
// the padding 2 − P), so the same code computes both.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "../../core/buffer.hpp"
#include "../../core/op_desc.hpp"
#include "../../core/threads.hpp"
#include "gemm.hpp"

namespace convis::cpu_winograd {

/// Below this many tiles (a 13×13 map at batch 2 has 98) the 16 GEMMs are too narrow to beat one
/// im2col GEMM. The rule does not depend on the thread count, so results do not either.
constexpr long min_tiles = 128;

/// Buffers kept between calls (allocated to the largest layer once, then reused).
template <class T>
struct workspace {
    host_buffer<T> input;     ///< the input, channels-last, channels padded to 16
    host_buffer<T> weights;   ///< U_ξ, [16][out_c][in_c padded]
    host_buffer<T> zeros;     ///< one pixel of zero channels: the patch outside the input
    std::array<cpu_gemm::packed_lhs<T>, 16> packed;  ///< U_ξ in the GEMM kernel's layout
    std::vector<host_buffer<T>> per_thread;          ///< V and M of the tiles a thread works on
};

/// Whether F(2×2, 3×3) computes y = conv(x, w) + b for d (float on AVX-512; 3×3, stride 1, pad ≤ 2,
/// at least 16 channels each way and min_tiles tiles).
template <class T>
bool serves_forward(const conv2d_desc& d);
/// Whether it computes d's input gradient.
template <class T>
bool serves_input_gradient(const conv2d_desc& d);

/// y = conv(x, w) + b (b may be null).
void forward(const conv2d_desc& d, const float* x, const float* w, const float* b, float* y, workspace<float>& ws);
/// gx = the input gradient of d for the output gradient gy (overwritten).
void input_gradient(const conv2d_desc& d, const float* w, const float* gy, float* gx, workspace<float>& ws);

// ---- details -------------------------------------------------------------------------------

namespace detail {

/// One stride-1 3×3 convolution as the tiles see it: C input channels of H×W, K output channels
/// of OH×OW, padding `pad`; `flipped`: the weights are [C][K][3][3] and taken transposed and
/// rotated by 180° (the input gradient), else [K][C][3][3].
struct problem {
    int batch, C, H, W, K, OH, OW, pad;
    bool flipped;
    int tiles_h() const { return (OH + 1) / 2; }
    int tiles_w() const { return (OW + 1) / 2; }
    long tiles() const { return long(batch) * tiles_h() * tiles_w(); }
    int padded_channels() const { return (C + 15) / 16 * 16; }
};

inline problem of_forward(const conv2d_desc& d) {
    return {d.batch, d.in_c, d.in_h, d.in_w, d.out_c, d.out_h, d.out_w, d.pad, false};
}
inline problem of_input_gradient(const conv2d_desc& d) {
    return {d.batch, d.out_c, d.out_h, d.out_w, d.in_c, d.in_h, d.in_w, 2 - d.pad, true};
}

/// The rule behind serves_forward and serves_input_gradient: d's shape, and p's tile count.
template <class T>
bool serves(const conv2d_desc& d, const problem& p) {
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>)
        return d.kernel == 3 && d.stride == 1 && d.pad >= 0 && d.pad <= 2 && d.in_c >= 16 && d.out_c >= 16 &&
               d.out_h >= 1 && d.out_w >= 1 && d.in_h == d.out_h + 2 - 2 * d.pad &&
               d.in_w == d.out_w + 2 - 2 * d.pad && p.tiles() >= min_tiles;
#endif
    (void)d, (void)p;
    return false;
}

}  // namespace detail

template <class T>
bool serves_forward(const conv2d_desc& d) {
    return detail::serves<T>(d, detail::of_forward(d));
}

template <class T>
bool serves_input_gradient(const conv2d_desc& d) {
    return detail::serves<T>(d, detail::of_input_gradient(d));
}

#if defined(__AVX512F__)
namespace detail {

/// U_ξ[k][c] = (G g Gᵀ)_ξ for output channel k and every input channel c (zero for the padding
/// ones), 16 input channels at a time: lane l gathers the 3×3 filter of (k, c0 + l).
/// G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1].
inline void transform_weights(const problem& p, const float* w, float* U, int k) {
    const int Cp = p.padded_channels();
    const std::size_t plane = std::size_t(p.K) * Cp;
    const __m512i lanes = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                             _mm512_set1_epi32(p.flipped ? p.K * 9 : 9));
    const __m512 half = _mm512_set1_ps(0.5f);
    for (int c0 = 0; c0 < Cp; c0 += 16) {
        const int width = std::clamp(p.C - c0, 0, 16);
        const __mmask16 valid = width == 16 ? __mmask16(0xFFFF) : __mmask16((1u << width) - 1);
        const float* base = p.flipped ? w + (std::size_t(c0) * p.K + k) * 9 : w + (std::size_t(k) * p.C + c0) * 9;
        __m512 g[3][3];
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) {
                const int at = p.flipped ? 8 - (3 * i + j) : 3 * i + j;  // rotated by 180° for the gradient
                g[i][j] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, lanes, base + at, 4);
            }
        __m512 t[4][3];  // G g
        for (int j = 0; j < 3; ++j) {
            const __m512 outer = _mm512_add_ps(g[0][j], g[2][j]);
            t[0][j] = g[0][j];
            t[1][j] = _mm512_mul_ps(half, _mm512_add_ps(outer, g[1][j]));
            t[2][j] = _mm512_mul_ps(half, _mm512_sub_ps(outer, g[1][j]));
            t[3][j] = g[2][j];
        }
        float* out = U + std::size_t(k) * Cp + c0;
        for (int i = 0; i < 4; ++i) {  // (G g) Gᵀ
            const __m512 outer = _mm512_add_ps(t[i][0], t[i][2]);
            _mm512_storeu_ps(out + (4 * i + 0) * plane, t[i][0]);
            _mm512_storeu_ps(out + (4 * i + 1) * plane, _mm512_mul_ps(half, _mm512_add_ps(outer, t[i][1])));
            _mm512_storeu_ps(out + (4 * i + 2) * plane, _mm512_mul_ps(half, _mm512_sub_ps(outer, t[i][1])));
            _mm512_storeu_ps(out + (4 * i + 3) * plane, t[i][2]);
        }
    }
}

/// The input of image n, channels [c0, c0+16), laid out channels-last: xl[(n·H·W + hw)·Cp + c].
inline void to_channels_last(const problem& p, const float* x, float* xl, int n, int c0) {
    const int HW = p.H * p.W, Cp = p.padded_channels();
    const int width = std::clamp(p.C - c0, 0, 16);
    const float* src = x + (std::size_t(n) * p.C + c0) * HW;
    float* dst = xl + std::size_t(n) * HW * Cp + c0;
    int hw = 0;
    if (width == 16)
        for (; hw + 16 <= HW; hw += 16) {
            __m512 r[16];
            for (int j = 0; j < 16; ++j) r[j] = _mm512_loadu_ps(src + std::size_t(j) * HW + hw);
            cpu_gemm::detail::transpose16(r);
            for (int q = 0; q < 16; ++q) _mm512_storeu_ps(dst + std::size_t(hw + q) * Cp, r[q]);
        }
    for (; hw < HW; ++hw) {
        float* out = dst + std::size_t(hw) * Cp;
        for (int j = 0; j < width; ++j) out[j] = src[std::size_t(j) * HW + hw];
        for (int j = width; j < 16; ++j) out[j] = 0.f;
    }
}

/// V_ξ for tiles [t0, t1): V[ξ][t − t0][c], ξ-planes `plane` floats apart. Bᵀ = [1 0 −1 0;
/// 0 1 1 0; 0 −1 1 0; 0 1 0 −1].
inline void transform_input(const problem& p, const float* xl, const float* zeros, long t0, long t1, float* V,
                            std::size_t plane) {
    const int th = p.tiles_h(), tw = p.tiles_w(), Cp = p.padded_channels();
    for (long t = t0; t < t1; ++t) {
        const long n = t / (long(th) * tw);
        const int ti = int(t / tw % th), tj = int(t % tw);
        const float* at[4][4];  // each patch pixel's channels, or zeros outside the input
        for (int r = 0; r < 4; ++r)
            for (int q = 0; q < 4; ++q) {
                const int h = 2 * ti - p.pad + r, w = 2 * tj - p.pad + q;
                at[r][q] = h >= 0 && h < p.H && w >= 0 && w < p.W
                               ? xl + ((std::size_t(n) * p.H + h) * p.W + w) * Cp
                               : zeros;
            }
        float* out = V + std::size_t(t - t0) * Cp;
        for (int c = 0; c < Cp; c += 16) {
            __m512 e[4][4];
            for (int q = 0; q < 4; ++q) {  // Bᵀ d, column by column
                const __m512 d0 = _mm512_loadu_ps(at[0][q] + c), d1 = _mm512_loadu_ps(at[1][q] + c);
                const __m512 d2 = _mm512_loadu_ps(at[2][q] + c), d3 = _mm512_loadu_ps(at[3][q] + c);
                e[0][q] = _mm512_sub_ps(d0, d2);
                e[1][q] = _mm512_add_ps(d1, d2);
                e[2][q] = _mm512_sub_ps(d2, d1);
                e[3][q] = _mm512_sub_ps(d1, d3);
            }
            for (int r = 0; r < 4; ++r) {  // (Bᵀ d) B, row by row
                float* o = out + std::size_t(4 * r) * plane + c;
                _mm512_storeu_ps(o, _mm512_sub_ps(e[r][0], e[r][2]));
                _mm512_storeu_ps(o + plane, _mm512_add_ps(e[r][1], e[r][2]));
                _mm512_storeu_ps(o + 2 * plane, _mm512_sub_ps(e[r][2], e[r][1]));
                _mm512_storeu_ps(o + 3 * plane, _mm512_sub_ps(e[r][1], e[r][3]));
            }
        }
    }
}

/// y for tiles [t0, t1) from M_ξ[k][t − t0] (rows `ld` apart, ξ-planes `plane` apart), 16 tiles
/// per vector, plus the bias. Aᵀ = [1 1 1 0; 0 1 −1 −1].
inline void transform_output(const problem& p, const float* M, std::size_t plane, std::ptrdiff_t ld, const float* bias,
                             long t0, long t1, float* y) {
    const int th = p.tiles_h(), tw = p.tiles_w();
    const std::size_t out_plane = std::size_t(p.OH) * p.OW;
    // Where each tile's top-left output pixel is, in channel 0 of its image, and which of its
    // other three pixels lie inside the map (bit 0: right, bit 1: below).
    thread_local std::vector<std::size_t> base;
    thread_local std::vector<unsigned char> inside;
    const long count = t1 - t0;
    base.resize(std::size_t(count));
    inside.resize(std::size_t(count));
    for (long t = t0; t < t1; ++t) {
        const long n = t / (long(th) * tw);
        const int oy = 2 * int(t / tw % th), ox = 2 * int(t % tw);
        base[t - t0] = std::size_t(n) * p.K * out_plane + std::size_t(oy) * p.OW + ox;
        inside[t - t0] = (ox + 1 < p.OW ? 1 : 0) | (oy + 1 < p.OH ? 2 : 0);
    }
    alignas(64) float out[4][16];
    for (int k = 0; k < p.K; ++k) {
        const __m512 b = _mm512_set1_ps(bias ? bias[k] : 0.f);
        float* yk = y + std::size_t(k) * out_plane;
        for (long s = 0; s < count; s += 16) {
            const float* m = M + std::size_t(k) * ld + s;
            __m512 v[16];
            for (int xi = 0; xi < 16; ++xi) v[xi] = _mm512_loadu_ps(m + xi * plane);
            __m512 r0[4], r1[4];  // Aᵀ m, column by column
            for (int q = 0; q < 4; ++q) {
                r0[q] = _mm512_add_ps(_mm512_add_ps(v[q], v[4 + q]), v[8 + q]);
                r1[q] = _mm512_sub_ps(_mm512_sub_ps(v[4 + q], v[8 + q]), v[12 + q]);
            }
            _mm512_store_ps(out[0], _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(r0[0], r0[1]), r0[2]), b));
            _mm512_store_ps(out[1], _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(r0[1], r0[2]), r0[3]), b));
            _mm512_store_ps(out[2], _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(r1[0], r1[1]), r1[2]), b));
            _mm512_store_ps(out[3], _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(r1[1], r1[2]), r1[3]), b));
            const int lanes = int(std::min<long>(16, count - s));
            for (int l = 0; l < lanes; ++l) {
                float* o = yk + base[s + l];
                const unsigned in = inside[s + l];
                o[0] = out[0][l];
                if (in & 1) o[1] = out[1][l];
                if (in & 2) {
                    o[p.OW] = out[2][l];
                    if (in & 1) o[p.OW + 1] = out[3][l];
                }
            }
        }
    }
}

inline void run(const problem& p, const float* x, const float* w, const float* bias, float* y, workspace<float>& ws) {
    const int Cp = p.padded_channels();
    const long T = p.tiles();
    // Tiles in chunks of whole 16-tile vectors, at least one per thread, at most ~256 tiles each
    // (a chunk's transformed patches and products stay within a few MB).
    const long vectors = (T + 15) / 16;
    const int threads_wanted = convis::threads();
    const long chunks = std::min(vectors, std::max<long>(threads_wanted, (vectors + 15) / 16));
    const long cap = (vectors + chunks - 1) / chunks * 16;  // tiles in the largest chunk
    const int threads = int(std::min<long>(threads_wanted, chunks));
    auto chunk_begin = [&](long i) { return std::min(T, i * vectors / chunks * 16); };

    const std::size_t v_plane = std::size_t(cap) * Cp, m_plane = std::size_t(p.K) * cap;
    if (ws.per_thread.size() < std::size_t(threads)) ws.per_thread.resize(std::size_t(threads));
    for (int t = 0; t < threads; ++t) ws.per_thread[t].resize(16 * (v_plane + m_plane) + 16);
    ws.input.resize(std::size_t(p.batch) * p.H * p.W * Cp);
    ws.weights.resize(16 * std::size_t(p.K) * Cp);
    ws.zeros.resize(std::size_t(Cp));
    std::fill_n(ws.zeros.data(), Cp, 0.f);
    for (int xi = 0; xi < 16; ++xi)
        ws.packed[xi].prepare(p.K, Cp, cpu_gemm::operand<float>{ws.weights.data() + xi * std::size_t(p.K) * Cp, Cp, 1});
    const int pieces = ws.packed[0].pieces();
    const int channel_blocks = Cp / 16;

#pragma omp parallel num_threads(threads) if (threads > 1)
    {
#pragma omp for schedule(static) nowait
        for (int k = 0; k < p.K; ++k) transform_weights(p, w, ws.weights.data(), k);
#pragma omp for schedule(static)
        for (int i = 0; i < p.batch * channel_blocks; ++i)
            to_channels_last(p, x, ws.input.data(), i / channel_blocks, i % channel_blocks * 16);
#pragma omp for schedule(static)
        for (int i = 0; i < 16 * pieces; ++i) ws.packed[i / pieces].pack_piece(i % pieces);
#pragma omp for schedule(dynamic, 1)
        for (long i = 0; i < chunks; ++i) {
            const long t0 = chunk_begin(i), t1 = chunk_begin(i + 1);
            if (t0 >= t1) continue;
            float* V = ws.per_thread[convis::thread_index()].data();
            float* M = V + 16 * v_plane;
            transform_input(p, ws.input.data(), ws.zeros.data(), t0, t1, V, v_plane);
            for (int xi = 0; xi < 16; ++xi)
                cpu_gemm::gemm_rows(ws.packed[xi], 0, p.K, int(t1 - t0),
                                    cpu_gemm::operand<float>{V + xi * v_plane, 1, Cp}, M + xi * m_plane, cap, false,
                                    static_cast<const float*>(nullptr));
            transform_output(p, M, m_plane, cap, bias, t0, t1, y);
        }
    }
}

}  // namespace detail

inline void forward(const conv2d_desc& d, const float* x, const float* w, const float* b, float* y,
                    workspace<float>& ws) {
    detail::run(detail::of_forward(d), x, w, b, y, ws);
}

inline void input_gradient(const conv2d_desc& d, const float* w, const float* gy, float* gx, workspace<float>& ws) {
    detail::run(detail::of_input_gradient(d), gy, w, nullptr, gx, ws);
}
#else
// Never called: serves_forward and serves_input_gradient are false without AVX-512.
inline void forward(const conv2d_desc&, const float*, const float*, const float*, float*, workspace<float>&) {}
inline void input_gradient(const conv2d_desc&, const float*, const float*, float*, workspace<float>&) {}
#endif

}  // namespace convis::cpu_winograd
