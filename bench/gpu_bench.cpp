// ZFNet on the GPU policy: eval-mode forward at batch 1 and 128, a training step (forward, loss,
// backward — as BM_ZFNet_Train on the CPU) at batch 128, the same step with the SGD update and
// filter renormalisation, the deconvnet projection of the strongest pool5 activation, and
// occlusion throughput at the paper's scale. bench/gpu_check.sh runs it beside PyTorch on the
// same GPU (bench/pytorch_gpu.py).
//
// The input batch is already in device memory, as PyTorch's is in its benchmark; every timed
// iteration ends with the result copied to the host, which waits for the GPU (wall time:
// UseRealTime). Buffers are sized by a first iteration and reused.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <vector>

#include <convis/analysis/occlusion.hpp>
#include <convis/gpu.hpp>

namespace {

using Net = convis::ZFNet<1000>;
using Model = convis::Model<Net, convis::gpu>;

Model& model() {
    static std::unique_ptr<Model> m = [] {
        auto p = std::make_unique<Model>();
        convis::init_paper(*p, 1);
        return p;
    }();
    return *m;
}

/// A batch of random images in device memory, viewed as the model's input.
struct device_images {
    convis::device_buffer<float> memory;
    int batch;
    explicit device_images(int n) : batch(n) {
        convis::Tensor<Net::input_shape> x(n);
        convis::normal_stream rng(2);
        for (auto& v : x.values()) v = float(rng.next());
        memory.resize(x.size());
        convis::ops<convis::gpu>::upload(x.size(), x.data(), memory.data());
    }
    convis::TensorView<Net::input_shape, const float> view() const { return {memory.data(), batch}; }
};

void rate(benchmark::State& state, int per_iteration, const char* name) {
    state.SetItemsProcessed(state.iterations() * per_iteration);
    state.counters[name] = benchmark::Counter(double(state.iterations()) * per_iteration, benchmark::Counter::kIsRate);
}

void BM_GPU_ZFNet_Forward(benchmark::State& state) {
    const int batch = int(state.range(0));
    Model& m = model();
    m.eval();
    const device_images x(batch);
    m.forward(x.view());
    for (auto _ : state) {
        auto y = m.forward(x.view());
        benchmark::DoNotOptimize(y.data());
    }
    rate(state, batch, "images_per_second");
}

void BM_GPU_ZFNet_Train(benchmark::State& state) {
    const int batch = int(state.range(0));
    const bool update = state.range(1) != 0;
    Model& m = model();
    m.train();
    const device_images x(batch);
    std::vector<std::int64_t> labels(batch);
    for (int i = 0; i < batch; ++i) labels[i] = (i * 37) % 1000;
    convis::Tensor<Net::output_shape> grad(batch);
    convis::SGD<Model> opt(m, {.lr = 1e-4, .momentum = 0.9});
    auto step = [&] {
        m.zero_grad();
        auto y = m.forward(x.view());
        const float loss = convis::cross_entropy<1000, float>(y, labels, grad);
        m.backward(grad);
        if (update) opt.step();
        else convis::ops<convis::gpu>::download(1, m.gradients().data(), &grad(0, 0));  // wait for the backward
        return loss;
    };
    step();
    for (auto _ : state) benchmark::DoNotOptimize(step());
    rate(state, batch, "images_per_second");
    m.eval();
}

/// From a recorded trace (the forward is not timed): the strongest pool5 activation of channel 0
/// down to pixels, paper mode.
void BM_GPU_ZFNet_Project(benchmark::State& state) {
    const int batch = int(state.range(0));
    Model& m = model();
    m.eval();
    const device_images x(batch);
    m.forward(x.view());
    convis::Deconvnet<Model> deconv(m);
    const auto signal = deconv.select_strongest<14>(0);
    deconv.project<14>(signal);
    for (auto _ : state) {
        auto p = deconv.project<14>(signal);
        benchmark::DoNotOptimize(p.data());
    }
    rate(state, batch, "images_per_second");
}

/// Fig. 7's scale: a 48×48 square every 8 pixels over 224×224, 529 positions, batches of 64.
void BM_GPU_ZFNet_Occlusion(benchmark::State& state) {
    Model& m = model();
    convis::Tensor<Net::input_shape> x(1);
    convis::normal_stream rng(3);
    for (auto& v : x.values()) v = float(rng.next());
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
    rate(state, positions, "positions_per_second");
}

}  // namespace

BENCHMARK(BM_GPU_ZFNet_Forward)->Arg(1)->Arg(128)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GPU_ZFNet_Train)->Args({128, 0})->Args({128, 1})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GPU_ZFNet_Project)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GPU_ZFNet_Occlusion)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

int main(int argc, char** argv) {
    if (convis::gpu_device_count() == 0) {
        std::puts("convis_gpu_bench: no CUDA device here; nothing to time");
        return 77;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
