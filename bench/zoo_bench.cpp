// torchvision's networks on the CPU policy: VGG16 and ResNet-50 eval-mode forward at batch 1 and
// 16 (ResNet-50 also with its BatchNorms folded), and one ResNet-50 training step (forward, softmax
// cross-entropy, backward: batch statistics in every BatchNorm) at batch 16. 224×224×3 input, 1000 classes, formula-free random weights.
// Buffers are allocated by the first iteration and reused. bench/compare_zoo.py runs this beside
// PyTorch at its best and prints the time ratios.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include <convis/convis.hpp>
#include <convis/models/torchvision.hpp>

namespace {

template <class Net>
convis::Model<Net>& model() {
    static std::unique_ptr<convis::Model<Net>> m = [] {
        auto p = std::make_unique<convis::Model<Net>>();
        convis::init_kaiming(*p, 1);
        return p;
    }();
    return *m;
}

template <class Net>
convis::Tensor<typename Net::input_shape> images(int batch) {
    convis::Tensor<typename Net::input_shape> x(batch);
    convis::normal_stream rng(2);
    for (auto& v : x.values()) v = float(rng.next());
    return x;
}

void rate(benchmark::State& state, int batch) {
    state.SetItemsProcessed(state.iterations() * batch);
    state.counters["images_per_second"] = benchmark::Counter(double(state.iterations()) * batch, benchmark::Counter::kIsRate);
}

template <class Net>
void forward(benchmark::State& state) {
    const int batch = int(state.range(0));
    auto& m = model<Net>();
    m.eval();
    const auto x = images<Net>(batch);
    m.forward(x);
    for (auto _ : state) {
        auto y = m.forward(x);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    rate(state, batch);
}

template <class Net>
void train(benchmark::State& state) {
    const int batch = int(state.range(0));
    auto& m = model<Net>();
    m.train();
    const auto x = images<Net>(batch);
    std::vector<std::int64_t> labels(batch);
    for (int i = 0; i < batch; ++i) labels[i] = (i * 37) % 1000;
    convis::Tensor<typename Net::output_shape> grad(batch);
    auto step = [&] {
        m.zero_grad();
        auto y = m.forward(x);
        const float loss = convis::cross_entropy<1000, float>(y, labels, grad);
        m.backward(grad);
        benchmark::DoNotOptimize(loss);
    };
    step();
    for (auto _ : state) {
        step();
        benchmark::ClobberMemory();
    }
    m.eval();
    rate(state, batch);
}

void BM_VGG16_Forward(benchmark::State& s) { forward<convis::VGG16<1000>>(s); }
void BM_ResNet50_Forward(benchmark::State& s) { forward<convis::ResNet50<1000>>(s); }
void BM_ResNet50_Train(benchmark::State& s) { train<convis::ResNet50<1000>>(s); }

// ResNet-50 with its BatchNorms folded into the convolutions (net/fold_batchnorm.hpp), eval forward.
void BM_ResNet50Folded_Forward(benchmark::State& state) {
    using Net = convis::ResNet50<1000>;
    static auto folded = convis::fold_batchnorm(model<Net>());
    const int batch = int(state.range(0));
    folded->eval();
    const auto x = images<Net>(batch);
    folded->forward(x);
    for (auto _ : state) {
        auto y = folded->forward(x);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    rate(state, batch);
}

}  // namespace

BENCHMARK(BM_VGG16_Forward)->Arg(1)->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ResNet50_Forward)->Arg(1)->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ResNet50Folded_Forward)->Arg(1)->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ResNet50_Train)->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
