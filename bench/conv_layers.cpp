// Each ZFNet convolution's forward beside the bare GEMM of the product it performs.
//
// BM_Conv_Forward/<layer>/<batch> runs ops<cpu>::conv2d_forward (the columns gathered from the
// input, the GEMM, the bias) on ZFNet's shapes; BM_Conv_Gemm/<layer>/<batch> runs cpu_gemm::gemm
// alone on the same M×N×K (M = output channels, N = batch · output pixels, K = input channels ·
// kernel²) with the column matrix already in memory. Both report GFLOP/s (2·M·N·K per run), so
// their ratio is the share of the GEMM's throughput the layer keeps: bench/compare_pytorch.py
// prints both and the ratio.
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>

#include <convis/convis.hpp>

namespace {

using Net = convis::ZFNet<1000>;

/// ZFNet's convolution `conv<layer>` (layer = 1..5) at a batch size.
template <int I>
convis::conv2d_desc desc_at(int batch) {
    return Net::layer<I>::template desc<Net::shape_before<I>>(batch);
}
convis::conv2d_desc zfnet_conv(int layer, int batch) {
    switch (layer) {
        case 1: return desc_at<Net::index_of("conv1")>(batch);
        case 2: return desc_at<Net::index_of("conv2")>(batch);
        case 3: return desc_at<Net::index_of("conv3")>(batch);
        case 4: return desc_at<Net::index_of("conv4")>(batch);
        default: return desc_at<Net::index_of("conv5")>(batch);
    }
}

struct product {
    int M, N, K;
    double flops() const { return 2.0 * M * double(N) * K; }
};
product product_of(const convis::conv2d_desc& d) {
    return {d.out_c, d.batch * d.out_h * d.out_w, d.in_c * d.kernel * d.kernel};
}

void fill(convis::host_buffer<float>& b, std::uint64_t seed) {
    convis::normal_stream rng(seed);
    for (std::size_t i = 0; i < b.size(); ++i) b.data()[i] = float(rng.next());
}

void report(benchmark::State& state, const product& p) {
    state.counters["GFLOPs"] = benchmark::Counter(p.flops() * double(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
    state.counters["M"] = p.M;
    state.counters["N"] = p.N;
    state.counters["K"] = p.K;
}

void BM_Conv_Forward(benchmark::State& state) {
    const auto d = zfnet_conv(int(state.range(0)), int(state.range(1)));
    const product p = product_of(d);
    convis::host_buffer<float> x(std::size_t(d.batch) * d.in_c * d.in_h * d.in_w), w(std::size_t(p.M) * p.K), b(p.M),
        y(std::size_t(p.M) * p.N);
    fill(x, 1), fill(w, 2), fill(b, 3);
    convis::scratch<convis::cpu, float> work;
    convis::ops<convis::cpu>::conv2d_forward(d, x.data(), w.data(), b.data(), y.data(), work);  // sizes the scratch
    for (auto _ : state) {
        convis::ops<convis::cpu>::conv2d_forward(d, x.data(), w.data(), b.data(), y.data(), work);
        benchmark::ClobberMemory();
    }
    report(state, p);
}

void BM_Conv_Gemm(benchmark::State& state) {
    const product p = product_of(zfnet_conv(int(state.range(0)), int(state.range(1))));
    convis::host_buffer<float> a(std::size_t(p.M) * p.K), bm(std::size_t(p.K) * p.N), c(std::size_t(p.M) * p.N);
    fill(a, 2), fill(bm, 1);
    const convis::cpu_gemm::operand<float> A{a.data(), p.K, 1}, B{bm.data(), p.N, 1};
    convis::cpu_gemm::gemm(p.M, p.N, p.K, A, B, c.data(), p.N, false);
    for (auto _ : state) {
        convis::cpu_gemm::gemm(p.M, p.N, p.K, A, B, c.data(), p.N, false);
        benchmark::ClobberMemory();
    }
    report(state, p);
}

void conv_args(benchmark::internal::Benchmark* b) {
    b->ArgNames({"layer", "batch"});
    for (int batch : {1, 16})
        for (int layer = 1; layer <= 5; ++layer) b->Args({layer, batch});
}

}  // namespace

BENCHMARK(BM_Conv_Forward)->Apply(conv_args)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Conv_Gemm)->Apply(conv_args)->Unit(benchmark::kMillisecond)->UseRealTime();
