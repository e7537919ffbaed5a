// The CPU GEMM (a hand-written AVX-512 kernel where available, Eigen elsewhere) against a plain
// double-precision sum: edge tiles, transposed operands, accumulation, several K blocks.
#include "support.hpp"

#include <convis/backend/cpu/gemm.hpp>

#include <thread>

using convis::cpu_gemm::gemm;
using convis::cpu_gemm::operand;

TEST_CASE("gemm matches a direct sum for every tile edge, transpose and accumulation") {
    convis::normal_stream rng(1);
    int cases = 0;
    for (int M : {1, 5, 12, 13, 97})
        for (int N : {1, 17, 32, 33, 100})
            for (int K : {1, 7, 385, 800})
                for (int layout = 0; layout < 4; ++layout) {
                    std::vector<float> A(std::size_t(M) * K), B(std::size_t(K) * N), C(std::size_t(M) * N);
                    for (auto& v : A) v = float(rng.next());
                    for (auto& v : B) v = float(rng.next());
                    for (auto& v : C) v = float(rng.next());
                    // layout bit 0: A stored transposed; bit 1: B stored transposed.
                    const operand<float> a = (layout & 1) ? operand<float>{A.data(), 1, M} : operand<float>{A.data(), K, 1};
                    const operand<float> b = (layout & 2) ? operand<float>{B.data(), 1, K} : operand<float>{B.data(), N, 1};
                    const bool accumulate = (M + N + K + layout) % 2 == 1;
                    std::vector<double> want(C.size()), magnitude(C.size());
                    for (int i = 0; i < M; ++i)
                        for (int j = 0; j < N; ++j) {
                            double s = accumulate ? C[i * N + j] : 0.0, m = std::abs(s);
                            for (int k = 0; k < K; ++k) {
                                s += double(a(i, k)) * b(k, j);
                                m += std::abs(double(a(i, k)) * b(k, j));
                            }
                            want[i * N + j] = s;
                            magnitude[i * N + j] = m;
                        }
                    gemm(M, N, K, a, b, C.data(), N, accumulate);
                    double worst = 0;
                    for (std::size_t i = 0; i < C.size(); ++i) worst = std::max(worst, std::abs(C[i] - want[i]) / magnitude[i]);
                    INFO("M " << M << " N " << N << " K " << K << " layout " << layout << " accumulate " << accumulate);
                    CHECK(worst < 1e-6);
                    ++cases;
                }
    CHECK(cases == 400);
}

TEST_CASE("gemm writes only its tile of a larger C") {
    const int M = 13, N = 35, K = 20, ldc = 50;
    std::vector<float> A(M * K, 1.f), B(K * N, 1.f), C(std::size_t(M) * ldc, -7.f);
    gemm(M, N, K, operand<float>{A.data(), K, 1}, operand<float>{B.data(), N, 1}, C.data(), ldc, false);
    for (int i = 0; i < M; ++i)
        for (int j = 0; j < ldc; ++j) CHECK(C[i * ldc + j] == (j < N ? 20.f : -7.f));
}

TEST_CASE("gemm adds a bias per row when it does not accumulate") {
    convis::normal_stream rng(2);
    for (int M : {5, 13, 30})
        for (int N : {7, 40}) {
            const int K = 9;
            std::vector<float> A(M * K), B(K * N), bias(M), C(M * N);
            for (auto& v : A) v = float(rng.next());
            for (auto& v : B) v = float(rng.next());
            for (auto& v : bias) v = float(rng.next());
            gemm(M, N, K, operand<float>{A.data(), K, 1}, operand<float>{B.data(), N, 1}, C.data(), N, false, bias.data());
            for (int i = 0; i < M; ++i)
                for (int j = 0; j < N; ++j) {
                    double s = bias[i];
                    for (int k = 0; k < K; ++k) s += double(A[i * K + k]) * B[k * N + j];
                    CHECK(C[i * N + j] == doctest::Approx(s).epsilon(1e-5));
                }
        }
}

TEST_CASE("gemm_rows from a packed A equals gemm on any aligned block of rows") {
    convis::normal_stream rng(3);
    const int M = 61, K = 800, N = 70;  // K spans three of the kernel's K blocks
    std::vector<float> A(M * K), B(K * N), bias(M);
    for (auto& v : A) v = float(rng.next());
    for (auto& v : B) v = float(rng.next());
    for (auto& v : bias) v = float(rng.next());
    convis::cpu_gemm::packed_lhs<float> packed;
    packed.prepare(M, K, operand<float>{A.data(), K, 1});
    for (int i = packed.pieces() - 1; i >= 0; --i) packed.pack_piece(i);  // any order
    std::vector<float> want(M * N), got(M * N, -1.f);
    gemm(M, N, K, operand<float>{A.data(), K, 1}, operand<float>{B.data(), N, 1}, want.data(), N, false, bias.data());
    const int step = 2 * convis::cpu_gemm::row_alignment<float>();
    for (int r0 = 0; r0 < M; r0 += step) {
        const int m = std::min(step, M - r0);
        convis::cpu_gemm::gemm_rows(packed, r0, m, N, operand<float>{B.data(), N, 1}, got.data() + r0 * N, N, false,
                                    bias.data() + r0);
    }
    for (int i = 0; i < M * N; ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-5));
}

namespace {

/// The largest |got[i] − want[i]|.
double max_abs_difference(const std::vector<float>& got, const std::vector<double>& want) {
    double worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
    return worst;
}

/// A direct convolution in double precision: the reference for every way conv2d_forward cuts its work.
std::vector<double> direct_conv(const convis::conv2d_desc& d, const std::vector<float>& x, const std::vector<float>& w,
                                const std::vector<float>& b) {
    std::vector<double> y(std::size_t(d.batch) * d.out_c * d.out_h * d.out_w);
    for (int n = 0; n < d.batch; ++n)
        for (int o = 0; o < d.out_c; ++o)
            for (int oh = 0; oh < d.out_h; ++oh)
                for (int ow = 0; ow < d.out_w; ++ow) {
                    double s = b[o];
                    for (int c = 0; c < d.in_c; ++c)
                        for (int kh = 0; kh < d.kernel; ++kh)
                            for (int kw = 0; kw < d.kernel; ++kw) {
                                const int ih = oh * d.stride - d.pad + kh, iw = ow * d.stride - d.pad + kw;
                                if (ih < 0 || ih >= d.in_h || iw < 0 || iw >= d.in_w) continue;
                                s += double(w[((std::size_t(o) * d.in_c + c) * d.kernel + kh) * d.kernel + kw]) *
                                     x[((std::size_t(n) * d.in_c + c) * d.in_h + ih) * d.in_w + iw];
                            }
                    y[((std::size_t(n) * d.out_c + o) * d.out_h + oh) * d.out_w + ow] = s;
                }
    return y;
}

/// gx = the direct transposed convolution of gy, in double precision: the reference for the input gradient.
std::vector<double> direct_input_gradient(const convis::conv2d_desc& d, const std::vector<float>& w,
                                          const std::vector<float>& gy) {
    const std::size_t out_plane = std::size_t(d.out_h) * d.out_w, in_plane = std::size_t(d.in_h) * d.in_w;
    std::vector<double> gx(std::size_t(d.batch) * d.in_c * in_plane, 0.0);
    for (int n = 0; n < d.batch; ++n)
        for (int o = 0; o < d.out_c; ++o)
            for (int oh = 0; oh < d.out_h; ++oh)
                for (int ow = 0; ow < d.out_w; ++ow)
                    for (int c = 0; c < d.in_c; ++c)
                        for (int kh = 0; kh < d.kernel; ++kh)
                            for (int kw = 0; kw < d.kernel; ++kw) {
                                const int ih = oh * d.stride - d.pad + kh, iw = ow * d.stride - d.pad + kw;
                                if (ih < 0 || ih >= d.in_h || iw < 0 || iw >= d.in_w) continue;
                                gx[(n * d.in_c + c) * in_plane + ih * d.in_w + iw] +=
                                    double(w[((o * d.in_c + c) * d.kernel + kh) * d.kernel + kw]) *
                                    gy[(n * d.out_c + o) * out_plane + oh * d.out_w + ow];
                            }
    return gx;
}

/// Values drawn from rng, rounded to float.
std::vector<float> normal_values(convis::normal_stream& rng, std::size_t n) {
    std::vector<float> v(n);
    for (auto& e : v) e = float(rng.next());
    return v;
}

}  // namespace

TEST_CASE("conv2d_forward equals a direct convolution however its work is cut, on 1 to 3 threads") {
    // Shapes that take each path: column tiles of one large map (70×70 > 2048 pixels, and 50×50
    // gathered as shifted planes), a map split over the threads, output channels split (small maps,
    // batch 1), grouped small maps, a 1×1 kernel read in place, stride 2 with padding, 5×5 padded by
    // 2, wider 3×3 layers.
    const std::vector<convis::conv2d_desc> shapes = {
        {1, 3, 72, 72, 20, 70, 70, 3, 1, 0},  {2, 4, 30, 30, 14, 15, 15, 3, 2, 1}, {1, 16, 9, 9, 40, 9, 9, 3, 1, 1},
        {1, 4, 50, 50, 8, 50, 50, 3, 1, 1},   {2, 3, 11, 11, 5, 11, 11, 5, 1, 2},  {3, 5, 8, 8, 6, 8, 8, 1, 1, 0},
        {5, 8, 6, 6, 26, 6, 6, 3, 1, 1},      {3, 12, 20, 20, 13, 20, 20, 1, 1, 0}, {1, 12, 40, 40, 13, 40, 40, 1, 1, 0},
        // Wider 3×3 layers: odd and even maps, padded and not. Under 128 tiles they stay on im2col
        // (98 tiles, then 36 in groups of images); the three after them go through Winograd.
        {2, 32, 13, 13, 40, 13, 13, 3, 1, 1}, {3, 33, 6, 7, 32, 6, 7, 3, 1, 1},
        {8, 32, 13, 13, 40, 13, 13, 3, 1, 1}, {9, 33, 14, 15, 32, 12, 13, 3, 1, 0}, {2, 32, 24, 24, 36, 24, 24, 3, 1, 1},
    };
    convis::normal_stream rng(4);
    for (const auto& d : shapes) {
        std::vector<float> x(std::size_t(d.batch) * d.in_c * d.in_h * d.in_w), w(std::size_t(d.out_c) * d.in_c * d.kernel * d.kernel),
            b(d.out_c);
        for (auto& v : x) v = float(rng.next());
        for (auto& v : w) v = float(rng.next());
        for (auto& v : b) v = float(rng.next());
        const auto want = direct_conv(d, x, w, b);
        for (int threads = 1; threads <= 3; ++threads) {
            convis::set_threads(threads);
            std::vector<float> y(want.size(), -99.f);
            convis::scratch<convis::cpu, float> work;
            convis::ops<convis::cpu>::conv2d_forward(d, x.data(), w.data(), b.data(), y.data(), work);
            const double worst = max_abs_difference(y, want);
            INFO("batch " << d.batch << " in " << d.in_c << "×" << d.in_h << " out " << d.out_c << "×" << d.out_h
                          << " kernel " << d.kernel << " threads " << threads);
            CHECK(worst < 1e-4);
        }
    }
    convis::set_threads(0);
}

TEST_CASE("linear_forward equals a direct product for every batch size and shape edge") {
    convis::normal_stream rng(5);
    for (int in : {48, 1040, 50})          // whole 16-float steps across k slices; and not (Eigen's path)
        for (int out : {3, 130})           // fewer rows than a block; a row block cut short
            for (int batch : {1, 5, 6, 7, 16})
                for (int threads : {1, 2}) {
                    convis::set_threads(threads);
                    const convis::linear_desc d{batch, in, out};
                    std::vector<float> x(batch * in), w(out * in), b(out), y(batch * out, -99.f);
                    for (auto& v : x) v = float(rng.next());
                    for (auto& v : w) v = float(rng.next());
                    for (auto& v : b) v = float(rng.next());
                    convis::ops<convis::cpu>::linear_forward(d, x.data(), w.data(), b.data(), y.data());
                    double worst = 0;
                    for (int n = 0; n < batch; ++n)
                        for (int o = 0; o < out; ++o) {
                            double s = b[o];
                            for (int k = 0; k < in; ++k) s += double(x[n * in + k]) * w[o * in + k];
                            worst = std::max(worst, std::abs(y[n * out + o] - s));
                        }
                    INFO("in " << in << " out " << out << " batch " << batch << " threads " << threads);
                    CHECK(worst < 1e-3);
                }
    convis::set_threads(0);
}

TEST_CASE("set_threads reaches every thread of the program and refuses a negative count") {
    const int all = convis::threads();
    CHECK(all >= 1);
    convis::set_threads(1);
    int seen = 0;
    std::thread([&] { seen = convis::threads(); }).join();
    CHECK(seen == 1);
    convis::set_threads(0);
    CHECK(convis::threads() == all);
    CHECK_THROWS_WITH_AS(convis::set_threads(-2), doctest::Contains("got -2"), convis::error);
}

TEST_CASE("the input gradient alone equals the direct transposed convolution for sparse and dense gradients") {
    // conv2d_backward without parameter gradients (the deconvnet's transposed filtering) crops to
    // the box where gy is non-zero: boxes at a corner, in the middle, over an edge, empty, and whole.
    const std::vector<convis::conv2d_desc> shapes = {{2, 5, 23, 23, 7, 11, 11, 5, 2, 1}, {1, 4, 13, 13, 6, 13, 13, 3, 1, 1},
                                                     {1, 3, 40, 40, 4, 17, 17, 7, 2, 0}};
    struct box { int h0, h1, w0, w1; };
    convis::normal_stream rng(6);
    for (const auto& d : shapes)
        for (const box b : {box{0, 1, 0, 1}, box{5, 7, 4, 6}, box{d.out_h - 3, d.out_h, 0, 2}, box{0, 0, 0, 0},
                            box{0, d.out_h, 0, d.out_w}})
            for (int threads : {1, 2}) {
                convis::set_threads(threads);
                const std::size_t out_plane = std::size_t(d.out_h) * d.out_w;
                std::vector<float> w(std::size_t(d.out_c) * d.in_c * d.kernel * d.kernel), gy(d.batch * d.out_c * out_plane, 0.f);
                for (auto& v : w) v = float(rng.next());
                for (int n = 0; n < d.batch; ++n)
                    for (int o = 0; o < d.out_c; ++o)
                        for (int h = b.h0; h < b.h1; ++h)
                            for (int x = b.w0; x < b.w1; ++x)
                                if ((h + x + o + n) % 3 != 1) gy[(n * d.out_c + o) * out_plane + h * d.out_w + x] = float(rng.next());
                const std::vector<double> want = direct_input_gradient(d, w, gy);
                std::vector<float> gx(want.size(), -99.f);
                convis::scratch<convis::cpu, float> work;
                convis::ops<convis::cpu>::conv2d_backward(d, static_cast<const float*>(nullptr), w.data(), gy.data(), gx.data(),
                                                          static_cast<float*>(nullptr), static_cast<float*>(nullptr), work);
                const double worst = max_abs_difference(gx, want);
                INFO("kernel " << d.kernel << " stride " << d.stride << " box " << b.h0 << ".." << b.h1 << " × " << b.w0
                               << ".." << b.w1 << " threads " << threads);
                CHECK(worst < 1e-4);
            }
    convis::set_threads(0);
}

TEST_CASE("3×3 convolutions through Winograd's F(2×2, 3×3) equal direct ones, forward and backward") {
    // Paddings 0, 1 and 2; odd and even maps; channel counts off the 16-channel vectors and the
    // kernel's 12-row tiles; tile counts of one chunk and of several.
    const std::vector<convis::conv2d_desc> shapes = {
        {8, 20, 13, 13, 24, 13, 13, 3, 1, 1}, {8, 17, 12, 10, 16, 10, 8, 3, 1, 0}, {7, 16, 7, 9, 29, 9, 11, 3, 1, 2},
        {16, 48, 13, 13, 40, 13, 13, 3, 1, 1}};
    convis::normal_stream rng(8);
    for (const auto& d : shapes) {
#if defined(__AVX512F__)  // else this test would test im2col
        REQUIRE(convis::cpu_winograd::serves_forward<float>(d));
        REQUIRE(convis::cpu_winograd::serves_input_gradient<float>(d));
#endif
        const std::size_t wsize = std::size_t(d.out_c) * d.in_c * 9, plane = std::size_t(d.out_h) * d.out_w;
        const auto x = normal_values(rng, std::size_t(d.batch) * d.in_c * d.in_h * d.in_w), w = normal_values(rng, wsize),
                   b = normal_values(rng, std::size_t(d.out_c)), gy = normal_values(rng, d.batch * d.out_c * plane);
        const auto want_y = direct_conv(d, x, w, b), want_gx = direct_input_gradient(d, w, gy);
        std::vector<double> want_gw(wsize, 0.0), want_gb(d.out_c, 0.0);
        for (int n = 0; n < d.batch; ++n)
            for (int o = 0; o < d.out_c; ++o)
                for (std::size_t j = 0; j < plane; ++j) {
                    const double g = gy[(n * d.out_c + o) * plane + j];
                    want_gb[o] += g;
                    const int oh = int(j) / d.out_w, ow = int(j) % d.out_w;
                    for (int c = 0; c < d.in_c; ++c)
                        for (int kh = 0; kh < 3; ++kh)
                            for (int kw = 0; kw < 3; ++kw) {
                                const int ih = oh - d.pad + kh, iw = ow - d.pad + kw;
                                if (ih < 0 || ih >= d.in_h || iw < 0 || iw >= d.in_w) continue;
                                want_gw[((o * d.in_c + c) * 3 + kh) * 3 + kw] +=
                                    g * x[((n * d.in_c + c) * d.in_h + ih) * d.in_w + iw];
                            }
                }
        for (int threads : {1, 2, 3}) {
            convis::set_threads(threads);
            convis::scratch<convis::cpu, float> work;
            std::vector<float> y(want_y.size(), -99.f), gx(want_gx.size(), -99.f), gw(wsize, 0.f), gb(d.out_c, 0.f);
            convis::ops<convis::cpu>::conv2d_forward(d, x.data(), w.data(), b.data(), y.data(), work);
            convis::ops<convis::cpu>::conv2d_backward(d, x.data(), w.data(), gy.data(), gx.data(), gw.data(), gb.data(), work);
            INFO("batch " << d.batch << " in " << d.in_c << "×" << d.in_h << "×" << d.in_w << " out " << d.out_c
                          << " pad " << d.pad << " threads " << threads);
            CHECK(max_abs_difference(y, want_y) < 1e-4);
            CHECK(max_abs_difference(gx, want_gx) < 1e-4);
            CHECK(max_abs_difference(gw, want_gw) < 1e-3);  // sums of batch·plane products
            CHECK(max_abs_difference(gb, want_gb) < 1e-3);
        }
    }
    convis::set_threads(0);
}

TEST_CASE("scoped_threads limits the calling thread only, nests, and restores") {
    convis::set_threads(2);
    {
        const convis::scoped_threads one(1);
        CHECK(convis::threads() == 1);
        int seen = 0;
        std::thread([&] { seen = convis::threads(); }).join();
        CHECK(seen == 2);
        {
            const convis::scoped_threads keep(0);  // 0: no change
            CHECK(convis::threads() == 1);
        }
        CHECK(convis::threads() == 1);
    }
    CHECK(convis::threads() == 2);
    CHECK_THROWS_AS(convis::scoped_threads(-1), convis::error);
    convis::set_threads(0);
}
