// Every layer, forward and backward, against PyTorch (tests/golden/make_fixtures.py).
#include "support.hpp"

using namespace convis;

namespace {

/// Runs one single-layer fixture through Sequential<Input<C,H,W>, L>: output, input gradient and
/// parameter gradients must match PyTorch at relative error 1e-4.
template <class L, int C, int H, int W, class Configure>
void golden(const std::string& name, Configure configure) {
    CAPTURE(name);
    using Net = Sequential<Input<C, H, W>, L>;
    const auto f = test::fixture(name);
    Model<Net> m;
    configure(m.template layer<0>(), f);
    if constexpr (Net::parameter_count > 0) test::load_params(m, f, [](const std::string& n) { return n.substr(2); });

    const auto x = Tensor<Shape<C, H, W>>::from(test::values<float>(f, "x"));
    REQUIRE(f.at("x").shape[0] == x.batch());
    const auto y = m.forward(x);
    test::check_close<float>(y.values(), f, "y");

    const auto gy = Tensor<typename Net::output_shape>::from(test::values<float>(f, "gy"));
    m.zero_grad();
    m.backward(gy, true);
    test::check_close<float>(m.input_gradient().values(), f, "gx");
    if constexpr (Net::parameter_count > 0) {
        auto params = m.parameter_list();
        test::check_close<float>(params[0].gradient, f, "gweight");
        test::check_close<float>(params[1].gradient, f, "gbias");
    }
    if constexpr (requires { m.template state<0>().switches; }) {  // PyTorch's maxima, exactly
        REQUIRE(f.contains("indices"));
        const auto want = test::int64s(f, "indices");
        const auto& sw = m.template state<0>().switches;
        REQUIRE(sw.size() == want.size());
        std::size_t mismatches = 0;
        for (std::size_t i = 0; i < want.size(); ++i) mismatches += sw[i] != want[i];
        CHECK(mismatches == 0);
    }
}
template <class L, int C, int H, int W>
void golden(const std::string& name) {
    golden<L, C, H, W>(name, [](auto&, const auto&) {});
}

}  // namespace

TEST_CASE("Conv2d matches PyTorch") {
    golden<Conv2d<3, 8, 7, 2, 1>, 3, 23, 23>("conv2d_in3_out8_k7_s2_p1_23x23");
    golden<Conv2d<4, 6, 5, 2, 0>, 4, 15, 15>("conv2d_in4_out6_k5_s2_p0_15x15");
    golden<Conv2d<5, 7, 3, 1, 1>, 5, 9, 9>("conv2d_in5_out7_k3_s1_p1_9x9");
    golden<Conv2d<2, 3, 3, 3, 0>, 2, 10, 10>("conv2d_in2_out3_k3_s3_p0_10x10");
    golden<Conv2d<3, 4, 5, 1, 2>, 3, 5, 5>("conv2d_in3_out4_k5_s1_p2_5x5");
    golden<Conv2d<3, 5, 6, 1, 0>, 3, 6, 6>("conv2d_in3_out5_k6_s1_p0_6x6");
    golden<Conv2d<3, 4, 3, 2, 1>, 3, 9, 13>("conv2d_in3_out4_k3_s2_p1_9x13");
    // 8 images of 5×5 tiles: the CPU computes this one, forward and input gradient, through Winograd.
    golden<Conv2d<17, 20, 3, 1, 1>, 17, 10, 10>("conv2d_in17_out20_k3_s1_p1_10x10");
}

TEST_CASE("ReLU matches PyTorch") { golden<ReLU, 3, 5, 7>("relu"); }

TEST_CASE("MaxPool2d matches PyTorch, ceil-mode edge cases and ties included") {
    golden<MaxPool2d<3, 2, 0, true>, 3, 11, 11>("maxpool_k3s2_ceil_11x11");
    golden<MaxPool2d<3, 2, 0, true>, 3, 12, 12>("maxpool_k3s2_ceil_12x12");
    golden<MaxPool2d<3, 2, 0, true>, 3, 13, 13>("maxpool_k3s2_ceil_13x13");
    golden<MaxPool2d<3, 2, 0, true>, 2, 110, 110>("maxpool_k3s2_ceil_110x110");
    golden<MaxPool2d<3, 2, 0, true>, 3, 9, 13>("maxpool_k3s2_ceil_9x13");
    golden<MaxPool2d<3, 2, 1, true>, 3, 10, 10>("maxpool_k3s2p1_ceil_10x10");
    golden<MaxPool2d<3, 2, 1, true>, 3, 6, 6>("maxpool_k3s2p1_ceil_6x6");
    golden<MaxPool2d<2, 2, 1, true>, 3, 5, 5>("maxpool_k2s2p1_ceil_5x5");
    golden<MaxPool2d<2, 2, 1, true>, 3, 5, 6>("maxpool_k2s2p1_ceil_5x6");
    golden<MaxPool2d<3, 3, 1, true>, 3, 5, 5>("maxpool_k3s3p1_ceil_5x5");
    golden<MaxPool2d<3, 2, 0, false>, 3, 11, 11>("maxpool_k3s2_floor_11x11");
    golden<MaxPool2d<3, 2, 0, false>, 3, 12, 12>("maxpool_k3s2_floor_12x12");
    golden<MaxPool2d<2, 2, 0, false>, 3, 7, 7>("maxpool_k2s2_floor_7x7");
    golden<MaxPool2d<2, 2, 0, true>, 3, 7, 7>("maxpool_k2s2_ceil_7x7");
    golden<MaxPool2d<3, 1, 1, false>, 3, 8, 8>("maxpool_k3s1p1_floor_8x8");
    golden<MaxPool2d<3, 2, 0, true>, 3, 12, 12>("maxpool_ties");
}

TEST_CASE("LocalResponseNorm matches PyTorch, even sizes and narrow channel counts included") {
    auto configure = [](auto& lrn, const safetensors_file& f) {
        REQUIRE(test::meta_int(f, "size") == std::remove_reference_t<decltype(lrn)>::size);
        lrn.alpha = test::meta_double(f, "alpha");
        lrn.beta = test::meta_double(f, "beta");
        lrn.k = test::meta_double(f, "k");
    };
    golden<LocalResponseNorm<5>, 8, 6, 6>("lrn_size5_a1e-4_b0.75_k2", configure);
    golden<LocalResponseNorm<5>, 7, 5, 5>("lrn_size5_a0.5_b0.75_k1", configure);
    golden<LocalResponseNorm<4>, 6, 4, 5>("lrn_size4_a0.3_b0.6_k1.5", configure);
    golden<LocalResponseNorm<3>, 2, 4, 4>("lrn_size3_a1_b1.2_k0.5", configure);
}

TEST_CASE("Linear matches PyTorch") {
    golden<Linear<17, 5>, 17, 1, 1>("linear_in17_out5");
    golden<Linear<64, 33>, 64, 1, 1>("linear_in64_out33");
}

TEST_CASE("softmax and cross-entropy match PyTorch") {
    const auto f = test::fixture("softmax_xent");
    const auto logits = Tensor<Features<10>>::from(test::values<float>(f, "x"));
    const auto labels = test::int64s(f, "labels");
    Tensor<Features<10>> prob, grad;
    softmax<10, float>(logits, prob);
    test::check_close<float>(prob.values(), f, "prob");
    const float loss = cross_entropy<10, float>(logits, labels, grad);
    test::check_close<float>(std::span<const float>(&loss, 1), f, "loss");
    test::check_close<float>(grad.values(), f, "gx");

    // The Softmax layer agrees with the function.
    Model<Sequential<Input<10, 1, 1>, Softmax>> m;
    test::check_close<float>(m.forward(logits).values(), f, "prob");
}

namespace {
/// A batch through Net equals each image through Net alone: forward, input and parameter gradients.
/// Batches larger than the thread count take the grouped-GEMM path of the CPU convolution.
template <class Net>
void batch_equals_singles(int batch) {
    CAPTURE(batch);
    Model<Net> all, one;
    normal_stream rng(4);
    for (auto& v : all.parameters()) v = float(0.2 * rng.next());  // biases too
    std::copy(all.parameters().begin(), all.parameters().end(), one.parameters().begin());
    Tensor<typename Net::input_shape> x(batch);
    for (auto& v : x.values()) v = float(rng.next());
    Tensor<typename Net::output_shape> gy(batch);
    for (auto& v : gy.values()) v = float(rng.next());
    const std::vector<float> y(all.forward(x).values().begin(), all.forward(x).values().end());
    all.backward(gy, true);

    std::vector<float> gsum(one.gradients().size(), 0.f);
    for (int n = 0; n < batch; ++n) {
        Tensor<typename Net::input_shape> xn(1);
        std::copy_n(x.sample(n), xn.size(), xn.data());
        Tensor<typename Net::output_shape> gn(1);
        std::copy_n(gy.sample(n), gn.size(), gn.data());
        const auto yn = one.forward(xn);
        CHECK(test::relative_error<float, float>(yn.values(), std::span<const float>(y).subspan(n * yn.size(), yn.size())) < 1e-5);
        one.backward(gn, true);
        CHECK(test::relative_error<float, float>(one.input_gradient().values(),
                                                 all.input_gradient().values().subspan(n * xn.size(), xn.size())) < 1e-5);
    }
    CHECK(test::relative_error<float, float>(one.gradients(), all.gradients()) < 1e-5);  // one accumulated all
}
}  // namespace

TEST_CASE("a batch gives what its images give one at a time (grouped convolution)") {
    using Small = Sequential<Input<16, 6, 6>, Conv2d<16, 24, 3, 1, 1>, ReLU, Conv2d<24, 8, 1>>;  // 36 columns: grouped
    for (int batch : {1, 2, 3, 7, 8, 16}) batch_equals_singles<Small>(batch);
    using Strided = Sequential<Input<3, 23, 23>, Conv2d<3, 8, 7, 2, 1>, MaxPool2d<3, 2, 0, ceil_mode>, ZFNetNorm>;
    for (int batch : {5, 9}) batch_equals_singles<Strided>(batch);
}

TEST_CASE("max-pool propagates NaN and points its switch at it, as PyTorch does") {
    using Net = Sequential<Input<1, 9, 40>, MaxPool2d<3, 2, 0, ceil_mode>>;  // 4 × 20 outputs: a masked block
    Model<Net> m;
    Tensor<Net::input_shape> x(1);
    for (int h = 0; h < 9; ++h)
        for (int w = 0; w < 40; ++w) x(0, 0, h, w) = float(h * 40 + w);  // maxima at windows' far corners
    x(0, 0, 3, 35) = std::numeric_limits<float>::quiet_NaN();
    const auto y = m.forward(x);
    const auto& sw = m.state<0>().switches;
    for (int oh = 0; oh < 4; ++oh)
        for (int ow = 0; ow < 20; ++ow) {
            const bool covers = oh * 2 <= 3 && 3 < oh * 2 + 3 && ow * 2 <= 35 && 35 < ow * 2 + 3;
            CAPTURE(oh);
            CAPTURE(ow);
            if (covers) {
                CHECK(std::isnan(y(0, 0, oh, ow)));
                CHECK(sw[oh * 20 + ow] == 3 * 40 + 35);
            } else {
                const int h = std::min(oh * 2 + 2, 8), w = std::min(ow * 2 + 2, 39);
                CHECK(y(0, 0, oh, ow) == float(h * 40 + w));
                CHECK(sw[oh * 20 + ow] == h * 40 + w);
            }
        }
}

namespace {
/// Loads a fixture's BatchNorm2d parameters (weight, bias, running_mean, running_var) into layer 0.
template <class M>
void load_batchnorm(M& m, const convis::safetensors_file& f) {
    test::load_params(m, f, [](const std::string& n) { return n.substr(2); });
}
}  // namespace

TEST_CASE("BatchNorm2d matches PyTorch in training (batch statistics, running averages) and evaluation") {
    using Net = Sequential<Input<3, 5, 6>, BatchNorm2d<3>>;
    for (const bool training : {true, false}) {
        const auto f = test::fixture(training ? "bn_train" : "bn_eval");
        CAPTURE(training);
        Model<Net> m;
        load_batchnorm(m, f);
        m.train(training);
        const auto x = Tensor<Shape<3, 5, 6>>::from(test::values<float>(f, "x"));
        test::check_close<float>(m.forward(x).values(), f, "y");
        m.zero_grad();
        m.backward(Tensor<Shape<3, 5, 6>>::from(test::values<float>(f, "gy")), true);
        test::check_close<float>(m.input_gradient().values(), f, "gx");
        const auto params = m.parameter_list();
        REQUIRE(params.size() == 4);
        CHECK(params[2].name == "0.running_mean");
        CHECK(params[2].is_buffer);
        test::check_close<float>(params[0].gradient, f, "gweight");
        test::check_close<float>(params[1].gradient, f, "gbias");
        // Training updates the running statistics (PyTorch's momentum, unbiased variance); evaluation does not.
        test::check_close<float>(params[2].values, f, training ? "running_mean_after" : "running_mean");
        test::check_close<float>(params[3].values, f, training ? "running_var_after" : "running_var");
    }
}

TEST_CASE("a BatchNorm2d refuses to train on one value per channel") {
    Model<Sequential<Input<2, 1, 1>, BatchNorm2d<2>>> m;
    m.train();
    Tensor<Shape<2, 1, 1>> x(1);
    CHECK_THROWS_WITH_AS(m.forward(x), doctest::Contains("more than one value per channel"), convis::error);
}

TEST_CASE("AvgPool2d, AdaptiveAvgPool2d and GlobalAvgPool match PyTorch") {
    golden<AvgPool2d<3, 2, 1>, 3, 7, 9>("avgpool_k3s2p1_7x9");
    golden<AvgPool2d<2, 2>, 3, 6, 6>("avgpool_k2s2_6x6");
    golden<AdaptiveAvgPool2d<3, 3>, 3, 7, 8>("adaptive_3x3_7x8");
    golden<AdaptiveAvgPool2d<5, 4>, 3, 11, 7>("adaptive_5x4_11x7");
    golden<GlobalAvgPool, 3, 5, 5>("global_5x5");
    static_assert(std::is_same_v<AdaptiveAvgPool2d<7, 7>::output<Shape<512, 13, 13>>, Shape<512, 7, 7>>);
}

namespace {
using BasicDown = Residual<Body<Named<"conv1", Conv2d<4, 8, 3, 2, 1, no_bias>>, Named<"bn1", BatchNorm2d<8>>,
                                Named<"relu", ReLU>, Named<"conv2", Conv2d<8, 8, 3, 1, 1, no_bias>>,
                                Named<"bn2", BatchNorm2d<8>>>,
                           Shortcut<Named<"downsample.0", Conv2d<4, 8, 1, 2, 0, no_bias>>,
                                    Named<"downsample.1", BatchNorm2d<8>>>,
                           ReLU>;
using BasicIdentity = Residual<Body<Named<"conv1", Conv2d<8, 8, 3, 1, 1, no_bias>>, Named<"bn1", BatchNorm2d<8>>,
                                    Named<"relu", ReLU>, Named<"conv2", Conv2d<8, 8, 3, 1, 1, no_bias>>,
                                    Named<"bn2", BatchNorm2d<8>>>,
                               Shortcut<>, ReLU>;
using BottleneckDown = Residual<
    Body<Named<"conv1", Conv2d<8, 4, 1, 1, 0, no_bias>>, Named<"bn1", BatchNorm2d<4>>, Named<"relu1", ReLU>,
         Named<"conv2", Conv2d<4, 4, 3, 2, 1, no_bias>>, Named<"bn2", BatchNorm2d<4>>, Named<"relu2", ReLU>,
         Named<"conv3", Conv2d<4, 16, 1, 1, 0, no_bias>>, Named<"bn3", BatchNorm2d<16>>>,
    Shortcut<Named<"downsample.0", Conv2d<8, 16, 1, 2, 0, no_bias>>, Named<"downsample.1", BatchNorm2d<16>>>, ReLU>;

/// A torchvision block against PyTorch: evaluation forward and backward, all three projections
/// (the signal down both branches, summed at the split), and training (batch statistics).
template <class Block, int C, int H>
void golden_block(const std::string& name) {
    CAPTURE(name);
    using Net = Sequential<Input<C, H, H>, Named<"b", Block>>;
    using Out = typename Net::output_shape;
    const auto f = test::fixture(name);
    Model<Net> m;
    test::load_params(m, f, [](const std::string& n) { return n.substr(2); });
    const auto x = Tensor<Shape<C, H, H>>::from(test::values<float>(f, "x"));
    const auto gy = Tensor<Out>::from(test::values<float>(f, "gy"));
    test::check_close<float>(m.forward(x).values(), f, "y");
    m.zero_grad();
    m.backward(gy, true);
    test::check_close<float>(m.input_gradient().values(), f, "gx");
    for (const auto& p : m.parameter_list())
        if (!p.is_buffer) test::check_close<float>(p.gradient, f, "grad." + p.name.substr(2));
    Deconvnet<Model<Net>> dn(m);
    for (const char* mode : {"deconvnet", "guided", "gradient"}) {
        CAPTURE(mode);
        const auto proj = dn.template project<0>(gy, {.mode = parse_rectify_mode(mode)});
        test::check_close<float>(proj.values(), f, std::string("proj_") + mode);
    }
    m.train();
    test::check_close<float>(m.forward(x).values(), f, "train.y");
    m.zero_grad();
    m.backward(gy, true);
    test::check_close<float>(m.input_gradient().values(), f, "train.gx");
    for (const auto& p : m.parameter_list())
        if (!p.is_buffer) test::check_close<float>(p.gradient, f, "train.grad." + p.name.substr(2));
}
}  // namespace

TEST_CASE("residual blocks match torchvision's BasicBlock and Bottleneck") {
    golden_block<BasicDown, 4, 8>("block_basic_down");
    golden_block<BasicIdentity, 8, 6>("block_basic_identity");
    golden_block<BottleneckDown, 8, 7>("block_bottleneck_down");
    // The block's parameters carry torchvision's names.
    const auto specs = BasicDown::params<Shape<4, 8, 8>>();
    CHECK(specs[0].name == "conv1.weight");
    CHECK(specs[5].name == "conv2.weight");
    CHECK(specs[10].name == "downsample.0.weight");
    CHECK(specs[14].name == "downsample.1.running_var");
}
