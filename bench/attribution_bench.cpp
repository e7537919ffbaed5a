// The attribution suite on ZFNet at 224×224 (1000 classes, He-initialised weights), as
// bench/compare_attribution.py runs it beside PyTorch:
//   GradCAM/16                 Grad-CAM at relu5 for a batch of 16 images (targets i % 1000)
//   IntegratedGradients/64     integrated gradients of one image, 64 steps, baseline 0, the steps
//                              in batches that fit a 1 GiB memory limit
//   Deletion/32                the deletion curve and its AUC of one image's map, 32 steps (33
//                              forwards of the image with pixels removed)
// One Attributor serves every iteration, so buffers are allocated once, as in real use. Rates are
// images per second by wall time (UseRealTime).
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include <convis/analysis/attribution.hpp>
#include <convis/convis.hpp>

namespace {

using Net = convis::ZFNet<1000>;
using Model = convis::Model<Net>;

Model& model() {
    static std::unique_ptr<Model> m = [] {
        auto p = std::make_unique<Model>();
        convis::init_kaiming(*p, 1);
        return p;
    }();
    return *m;
}

convis::Attributor<Model>& attributor() {
    static convis::Attributor<Model> a(model());
    return a;
}

std::vector<float> images(int batch) {
    std::vector<float> x(std::size_t(batch) * Net::input_shape::size);
    convis::normal_stream rng(2);
    for (auto& v : x) v = float(rng.next());
    return x;
}

void rate(benchmark::State& state, int images) {
    state.SetItemsProcessed(state.iterations() * images);
    state.counters["images_per_second"] = benchmark::Counter(double(state.iterations()) * images, benchmark::Counter::kIsRate);
}

void BM_ZFNet_GradCAM(benchmark::State& state) {
    const int batch = int(state.range(0));
    const auto x = images(batch);
    std::vector<int> targets(static_cast<std::size_t>(batch));
    for (int i = 0; i < batch; ++i) targets[std::size_t(i)] = i % 1000;
    convis::attribution_options o;
    o.method = convis::attribution_method::gradcam;
    attributor().attribute(x.data(), batch, targets, o);  // sizes every buffer once
    for (auto _ : state) benchmark::DoNotOptimize(attributor().attribute(x.data(), batch, targets, o).values.data());
    rate(state, batch);
}

void BM_ZFNet_IntegratedGradients(benchmark::State& state) {
    const auto x = images(1);
    convis::attribution_options o;
    o.method = convis::attribution_method::integrated_gradients;
    o.steps = int(state.range(0));
    o.memory_limit = std::size_t(1) << 30;
    attributor().attribute(x.data(), 1, {0}, o);
    for (auto _ : state) benchmark::DoNotOptimize(attributor().attribute(x.data(), 1, {0}, o).values.data());
    rate(state, 1);
}

void BM_ZFNet_Deletion(benchmark::State& state) {
    const auto x = images(1);
    convis::attribution_options o;
    o.method = convis::attribution_method::random;
    const auto map = attributor().attribute(x.data(), 1, {0}, o);
    convis::deletion_options d;
    d.steps = int(state.range(0));
    attributor().deletion_curve(x.data(), map, d);
    for (auto _ : state) benchmark::DoNotOptimize(attributor().deletion_curve(x.data(), map, d).auc.data());
    rate(state, 1);
}

}  // namespace

BENCHMARK(BM_ZFNet_GradCAM)->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ZFNet_IntegratedGradients)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ZFNet_Deletion)->Arg(32)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
