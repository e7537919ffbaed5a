// The CPU GEMM (a hand-written AVX-512 kernel where available, Eigen elsewhere) against a plain
// double-precision sum: edge tiles, transposed operands, accumulation, several K blocks.
#include "support.hpp"

#include <convis/backend/cpu/gemm.hpp>

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
