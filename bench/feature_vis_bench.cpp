// Feature visualisation on ZFNet, as bench/compare_feature_vis.py runs it beside PyTorch:
//   BM_FeatureVis_ZFNet28_Fourier/steps:16   ZFNet28<10> (1×28×28), Fourier parametrisation
//   BM_FeatureVis_ZFNet_Fourier/steps:16     ZFNet<10> (3×224×224), Fourier parametrisation
//   BM_FeatureVis_ZFNet_Pixel/steps:16       ZFNet<10> (3×224×224), pixel parametrisation
// Each iteration is one convis::visualise_features call over a runtime_view of the float CPU
// model (He-initialised weights, seed 1, the model made once): 16 channel objectives (channels
// 0..15) at conv5, one batch of 16 pictures, `steps` steps, every other option at its default
// (colour decorrelation for 3 channels, transforms on, Adam lr 0.05), then the final forward the
// call makes for the objectives' values. The preprocessing is the data set's (Fashion-MNIST's
// 0.286 / 0.353 for ZFNet28, ImageNet's for ZFNet). A one-step call before the timed loop sizes
// the model's and the deconvnet's buffers. Times are wall times (UseRealTime); the counter
// ms_per_step is the call's wall time over its steps, and final_objective the mean of the
// objectives on the final pictures (a sign that the optimisation ran, not a timing).
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <numeric>
#include <vector>

#include <convis/analysis/feature_vis.hpp>
#include <convis/analysis/runtime_model.hpp>
#include <convis/convis.hpp>

namespace {

template <class Net>
struct fixture {
    using model_type = convis::Model<Net>;
    model_type model;
    convis::runtime_view<model_type> view{model};
    int layer = view.find("conv5");
    fixture() { convis::init_kaiming(model, 1); }
};

template <class Net>
fixture<Net>& instance() {
    static const std::unique_ptr<fixture<Net>> f = std::make_unique<fixture<Net>>();
    return *f;
}

template <class Net>
void run(benchmark::State& state, convis::image_parametrisation kind, const convis::preprocess& pre) {
    auto& f = instance<Net>();
    const auto objectives = convis::every_channel(16);
    convis::feature_vis_options o;
    o.parametrisation = kind;
    o.batch = 16;
    o.steps = 1;
    convis::visualise_features(f.view, f.layer, objectives, pre, o);  // sizes every buffer once
    o.steps = int(state.range(0));
    double seconds = 0, objective = 0;
    for (auto _ : state) {
        const auto t0 = std::chrono::steady_clock::now();
        const auto r = convis::visualise_features(f.view, f.layer, objectives, pre, o);
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        benchmark::DoNotOptimize(r.pictures.data());
        objective = std::accumulate(r.values.begin(), r.values.end(), 0.0) / double(r.values.size());
    }
    const double steps = double(state.iterations()) * o.steps;
    state.counters["ms_per_step"] = steps > 0 ? 1e3 * seconds / steps : 0;
    state.counters["final_objective"] = objective;
}

const convis::preprocess fashion_mnist{{0.286f}, {0.353f}};
const convis::preprocess imagenet{{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};

void BM_FeatureVis_ZFNet28_Fourier(benchmark::State& state) {
    run<convis::ZFNet28<10>>(state, convis::image_parametrisation::fourier, fashion_mnist);
}
void BM_FeatureVis_ZFNet_Fourier(benchmark::State& state) {
    run<convis::ZFNet<10>>(state, convis::image_parametrisation::fourier, imagenet);
}
void BM_FeatureVis_ZFNet_Pixel(benchmark::State& state) {
    run<convis::ZFNet<10>>(state, convis::image_parametrisation::pixel, imagenet);
}

}  // namespace

BENCHMARK(BM_FeatureVis_ZFNet28_Fourier)->ArgName("steps")->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_FeatureVis_ZFNet_Fourier)->ArgName("steps")->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_FeatureVis_ZFNet_Pixel)->ArgName("steps")->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
