// ZFNet throughput on the CPU policy: eval-mode forward at batch 1 and 16, and one training
// step's forward + loss + backward at batch 16. Buffers are allocated by the first iteration and
// reused, as in real use. Reports images per second (images_per_second = items_per_second, by wall
// time: UseRealTime).
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include <convis/analysis/occlusion.hpp>
#include <convis/convis.hpp>

namespace {

using Net = convis::ZFNet<1000>;
using Model = convis::Model<Net>;

Model& model() {
    static std::unique_ptr<Model> m = [] {
        auto p = std::make_unique<Model>();
        convis::init_paper(*p, 1);
        return p;
    }();
    return *m;
}

convis::Tensor<Net::input_shape> images(int batch) {
    convis::Tensor<Net::input_shape> x(batch);
    convis::normal_stream rng(2);
    for (auto& v : x.values()) v = float(rng.next());
    return x;
}

void BM_ZFNet_Forward(benchmark::State& state) {
    const int batch = int(state.range(0));
    Model& m = model();
    m.eval();
    const auto x = images(batch);
    m.forward(x);  // sizes every buffer once
    for (auto _ : state) {
        auto y = m.forward(x);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * batch);
    state.counters["images_per_second"] = benchmark::Counter(double(state.iterations()) * batch, benchmark::Counter::kIsRate);
}

void BM_ZFNet_Train(benchmark::State& state) {
    const int batch = int(state.range(0));
    Model& m = model();
    m.train();
    const auto x = images(batch);
    std::vector<std::int64_t> labels(batch);
    for (int i = 0; i < batch; ++i) labels[i] = (i * 37) % 1000;
    convis::Tensor<Net::output_shape> grad(batch);
    auto step = [&] {
        m.zero_grad();
        auto y = m.forward(x);
        const float loss = convis::cross_entropy<1000, float>(y, labels, grad);
        m.backward(grad);
        return loss;
    };
    step();
    for (auto _ : state) benchmark::DoNotOptimize(step());
    state.SetItemsProcessed(state.iterations() * batch);
    state.counters["images_per_second"] = benchmark::Counter(double(state.iterations()) * batch, benchmark::Counter::kIsRate);
    m.eval();
}

/// The deconvnet projection of the strongest pool5 activation of one image down to pixels
/// (paper mode: relu of the signal, LRN skipped), from a recorded trace: the forward is excluded.
void BM_ZFNet_Project(benchmark::State& state) {
    const int batch = int(state.range(0));
    Model& m = model();
    m.eval();
    m.forward(images(batch));
    convis::Deconvnet<Model> deconv(m);
    const auto signal = deconv.select_strongest<14>(0);
    deconv.project<14>(signal);  // sizes its buffers once
    for (auto _ : state) {
        auto p = deconv.project<14>(signal);
        benchmark::DoNotOptimize(p.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * batch);
    state.counters["images_per_second"] = benchmark::Counter(double(state.iterations()) * batch, benchmark::Counter::kIsRate);
}

/// Occlusion at the paper's scale (Fig. 7): a 48×48 square every 8 pixels over a 224×224 picture,
/// 23 × 23 = 529 positions in batches of 32 or 64 (the default), plus the unoccluded pass and its
/// projection. Items are occluder positions: positions_per_second beside Forward/16's
/// images_per_second says whether a position costs more than an image of a batch-16 forward.
void BM_ZFNet_Occlusion(benchmark::State& state) {
    Model& m = model();
    const auto x = images(1);
    convis::occlusion_options o;
    o.size = 48;
    o.stride = 8;
    o.batch = int(state.range(0));
    int positions = 0;
    for (auto _ : state) {
        const auto r = convis::occlusion(m, x.sample(0), 0, o);
        positions = r.rows * r.cols;
        benchmark::DoNotOptimize(r.activation.data());
    }
    state.SetItemsProcessed(state.iterations() * positions);
    state.counters["positions_per_second"] =
        benchmark::Counter(double(state.iterations()) * positions, benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_ZFNet_Occlusion)->Arg(32)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_ZFNet_Project)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ZFNet_Forward)->Arg(1)->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ZFNet_Train)->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
