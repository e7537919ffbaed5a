// Every layer's backward against finite differences, in double precision.
#include "support.hpp"

using namespace convis;

namespace {

/// Central differences of L = sum(y * r) with respect to inputs and parameters, compared with
/// Model::backward. Up to `samples` coordinates of each are checked, spread over the tensor.
template <class Net, class Configure>
void gradcheck(const char* what, Configure configure, bool training = false, int batch = 2, int samples = 150) {
    INFO(std::string(what));
    using M = Model<Net, cpu, double>;
    M m;
    configure(m);
    normal_stream rng(42);
    for (auto& v : m.parameters()) v = 0.5 * rng.next();
    for (auto& p : m.parameter_list())  // running statistics: a variance must be positive
        if (p.is_buffer)
            for (auto& v : p.values) v = std::abs(v) + 0.5;
    Tensor<typename Net::input_shape, double> x(batch);
    for (auto& v : x.values()) v = rng.next();
    Tensor<typename Net::output_shape, double> r(batch);
    for (auto& v : r.values()) v = rng.next();
    m.train(training);

    auto reset_dropout = [&] {
        Net::for_each_index([&](auto i) {
            auto& l = m.template layer<decltype(i)::value>();
            if constexpr (requires { l.calls; }) l.calls = 0;
        });
    };
    auto loss = [&]() {
        reset_dropout();
        const auto y = m.forward(x);
        double s = 0;
        for (std::size_t i = 0; i < y.size(); ++i) s += y.data()[i] * r.data()[i];
        return s;
    };

    loss();
    m.zero_grad();
    m.backward(r, true);
    std::vector<double> gx(m.input_gradient().values().begin(), m.input_gradient().values().end());
    std::vector<double> gp(m.gradients().begin(), m.gradients().end());

    const double eps = 1e-6;
    auto check = [&](std::span<double> v, const std::vector<double>& analytic, const char* name) {
        double worst = 0, scale = 1e-3;
        const std::size_t step = std::max<std::size_t>(1, v.size() / samples);
        for (std::size_t i = 0; i < v.size(); i += step) {
            const double keep = v[i];
            v[i] = keep + eps;
            const double up = loss();
            v[i] = keep - eps;
            const double down = loss();
            v[i] = keep;
            const double numeric = (up - down) / (2 * eps);
            worst = std::max(worst, std::abs(numeric - analytic[i]));
            scale = std::max(scale, std::abs(numeric));
        }
        INFO(std::string(what) << ": " << std::string(name) << " worst difference " << worst << " at scale " << scale);
        CHECK(worst <= 1e-6 * scale);
    };
    check(x.values(), gx, "input gradient");
    // Each trainable tensor; running statistics get no gradient (the forward writes them).
    std::size_t off = 0;
    for (auto& p : m.parameter_list()) {
        if (!p.is_buffer)
            check(p.values, std::vector<double>(gp.begin() + std::ptrdiff_t(off), gp.begin() + std::ptrdiff_t(off + p.values.size())),
                  p.name.c_str());
        off += p.values.size();
    }
}
template <class Net>
void gradcheck(const char* what, bool training = false) {
    gradcheck<Net>(what, [](auto&) {}, training);
}

}  // namespace

TEST_CASE("Conv2d gradients") {
    gradcheck<Sequential<Input<3, 9, 9>, Conv2d<3, 4, 3, 1, 1>>>("conv k3 s1 p1");
    gradcheck<Sequential<Input<2, 11, 10>, Conv2d<2, 3, 5, 2, 1>>>("conv k5 s2 p1");
    gradcheck<Sequential<Input<2, 10, 10>, Conv2d<2, 3, 3, 3, 0>>>("conv k3 s3: uncovered rows");
    gradcheck<Sequential<Input<4, 5, 5>, Conv2d<4, 3, 1, 1, 0>>>("conv 1x1");
}

TEST_CASE("pooling, rectification, normalisation and linear gradients") {
    gradcheck<Sequential<Input<2, 11, 11>, MaxPool2d<3, 2, 0, ceil_mode>>>("maxpool k3 s2 ceil");
    gradcheck<Sequential<Input<2, 6, 6>, MaxPool2d<2, 2, 1, ceil_mode>>>("maxpool k2 s2 p1 ceil");
    gradcheck<Sequential<Input<3, 4, 4>, ReLU>>("relu");
    gradcheck<Sequential<Input<7, 3, 3>, LocalResponseNorm<5>>>("lrn size 5", [](auto& m) {
        m.template layer<0>().alpha = 0.8;  // large enough that the cross-channel term matters
        m.template layer<0>().k = 1.0;
    });
    gradcheck<Sequential<Input<6, 2, 3>, LocalResponseNorm<4, 0.5, 0.6, 1.5>>>("lrn size 4 (even)");
    gradcheck<Sequential<Input<2, 3, 3>, LocalResponseNorm<3, 1.0, 1.2, 0.5>>>("lrn window wider than channels");
    gradcheck<Sequential<Input<13, 1, 1>, Linear<13, 6>>>("linear");
    gradcheck<Sequential<Input<2, 3, 2>, Flatten, Linear<12, 4>>>("flatten + linear");
    gradcheck<Sequential<Input<9, 1, 1>, Softmax>>("softmax");
    gradcheck<Sequential<Input<20, 1, 1>, Dropout>>("dropout in training", true);
}

TEST_CASE("a ZFNet-shaped stack end to end, dropout active") {
    using Net = Sequential<Input<3, 23, 23>, Conv2d<3, 4, 7, 2, 1>, ReLU, MaxPool2d<3, 2, 0, ceil_mode>,
                           LocalResponseNorm<5, 0.3, 0.75, 2.0>, Conv2d<4, 5, 3, 1, 1>, ReLU,
                           MaxPool2d<3, 2, 0, ceil_mode>, Flatten, Dropout, Linear<20, 6>, ReLU, Linear<6, 3>>;
    gradcheck<Net>("small stack", true);
}

TEST_CASE("BatchNorm2d, average pooling and residual block gradients") {
    gradcheck<Sequential<Input<3, 4, 5>, BatchNorm2d<3>>>("batchnorm, evaluation (running statistics)");
    gradcheck<Sequential<Input<3, 4, 5>, BatchNorm2d<3>>>("batchnorm, training (batch statistics)", true);
    gradcheck<Sequential<Input<2, 7, 9>, AvgPool2d<3, 2, 1>>>("avgpool k3 s2 p1");
    gradcheck<Sequential<Input<2, 7, 8>, AdaptiveAvgPool2d<3, 3>>>("adaptive avgpool 7x8 -> 3x3");
    gradcheck<Sequential<Input<2, 11, 7>, AdaptiveAvgPool2d<5, 4>>>("adaptive avgpool 11x7 -> 5x4");
    gradcheck<Sequential<Input<3, 5, 5>, GlobalAvgPool>>("global average pool");
    using Block = Residual<Body<Named<"conv1", Conv2d<3, 4, 3, 2, 1, no_bias>>, Named<"bn1", BatchNorm2d<4>>, ReLU,
                                Named<"conv2", Conv2d<4, 4, 3, 1, 1, no_bias>>, Named<"bn2", BatchNorm2d<4>>>,
                           Shortcut<Named<"downsample.0", Conv2d<3, 4, 1, 2, 0, no_bias>>, Named<"downsample.1", BatchNorm2d<4>>>,
                           ReLU>;
    gradcheck<Sequential<Input<3, 6, 6>, Block>>("residual block with a projection shortcut, evaluation");
    gradcheck<Sequential<Input<3, 6, 6>, Block>>("residual block with a projection shortcut, training", true);
    using Identity = Residual<Body<Conv2d<3, 3, 3, 1, 1>, ReLU, Conv2d<3, 3, 3, 1, 1>>>;
    gradcheck<Sequential<Input<3, 5, 5>, Conv2d<3, 3, 1>, Identity, ReLU>>("identity shortcut between layers");
}

TEST_CASE("cross-entropy gradient") {
    normal_stream rng(7);
    Tensor<Features<5>, double> logits(3), grad;
    for (auto& v : logits.values()) v = 2 * rng.next();
    const std::vector<std::int64_t> labels{0, 4, 2};
    cross_entropy<5, double>(logits, labels, grad);
    for (std::size_t i = 0; i < logits.size(); ++i) {
        const double keep = logits.data()[i];
        Tensor<Features<5>, double> scratch;
        logits.data()[i] = keep + 1e-6;
        const double up = cross_entropy<5, double>(logits, labels, scratch);
        logits.data()[i] = keep - 1e-6;
        const double down = cross_entropy<5, double>(logits, labels, scratch);
        logits.data()[i] = keep;
        CHECK(std::abs((up - down) / 2e-6 - grad.data()[i]) < 1e-8);
    }
    const std::vector<std::int64_t> bad{0, 5, 1};
    auto call = [&] { return cross_entropy<5, double>(logits, bad, grad); };
    CHECK_THROWS_WITH_AS(call(), doctest::Contains("label 5 of sample 1"), convis::error);
}
