// A reduced-width ZFNet end to end against PyTorch: every layer's output, the loss, every
// parameter's gradient and the input gradient; and loading PyTorch state_dict names.
#include "support.hpp"
#include "tiny_zfnet.hpp"

using namespace convis;
using test::TinyZFNet;

TEST_CASE("tiny ZFNet: every layer's output, the loss and all gradients match PyTorch") {
    const auto f = test::fixture("tinyzf");
    Model<TinyZFNet> m;
    test::load_params(m, f, [](const std::string& n) { return n; });
    m.eval();
    const auto x = Tensor<TinyZFNet::input_shape>::from(test::values<float>(f, "x"));
    const auto logits = m.forward(x);

    TinyZFNet::for_each_index([&](auto i) {
        constexpr int I = decltype(i)::value;
        test::check_close<float>(m.output<I>().values(), f, "out." + TinyZFNet::name(I));
    });

    const auto labels = test::int64s(f, "labels");
    Tensor<Features<10>> grad;
    const float loss = cross_entropy<10, float>(logits, labels, grad);
    test::check_close<float>(std::span<const float>(&loss, 1), f, "loss");

    m.zero_grad();
    m.backward(grad, true);
    for (const auto& p : m.parameter_list()) test::check_close<float>(p.gradient, f, "grad." + p.name);
    test::check_close<float>(m.input_gradient().values(), f, "grad.x");
}

TEST_CASE("layers are reachable by index and by name") {
    Model<TinyZFNet> m;
    static_assert(TinyZFNet::index_of("pool5") == 14);
    static_assert(TinyZFNet::index_of("nope") == -1);
    m.layer<"norm1">().k = 3.0;
    CHECK(m.layer<3>().k == 3.0);
    CHECK(TinyZFNet::name(18) == "relu6");
    Tensor<TinyZFNet::input_shape> x(1);
    x.fill(0.5f);
    m.forward(x);  // before a forward the outputs are empty
    CHECK(m.output<22>().data() != nullptr);
    CHECK(m.output<"fc8">().data() == m.output<22>().data());
}

/// The same network with PyTorch's nn.Sequential names (features.N / classifier.N).
using TinyPyTorchNames = Sequential<Input<3, 112, 112>,
    Named<"features.0", Conv2d<3, 8, 7, 2, 1>>, ReLU, MaxPool2d<3, 2, 0, ceil_mode>, ZFNetNorm,
    Named<"features.4", Conv2d<8, 16, 5, 2, 0>>, ReLU, MaxPool2d<3, 2, 0, ceil_mode>, ZFNetNorm,
    Named<"features.8", Conv2d<16, 24, 3, 1, 1>>, ReLU,
    Named<"features.10", Conv2d<24, 24, 3, 1, 1>>, ReLU,
    Named<"features.12", Conv2d<24, 16, 3, 1, 1>>, ReLU, MaxPool2d<3, 2, 0, ceil_mode>, Flatten,
    Dropout, Named<"classifier.1", Linear<144, 32>>, ReLU,
    Dropout, Named<"classifier.4", Linear<32, 32>>, ReLU,
    Named<"classifier.6", Linear<32, 10>>>;

TEST_CASE("weights saved by PyTorch under state_dict names load as they are") {
    Model<TinyPyTorchNames> m;
    const auto extras = load_weights(m, std::string(CONVIS_GOLDEN_DIR) + "/tinyzf_pytorch_names.safetensors");
    REQUIRE(extras.tensors.count("preprocess.mean") == 1);
    CHECK(extras.tensors.at("preprocess.mean").shape == std::vector<std::int64_t>{3});

    const auto f = test::fixture("tinyzf");
    const auto x = Tensor<TinyPyTorchNames::input_shape>::from(test::values<float>(f, "x"));
    test::check_close<float>(m.forward(x).values(), f, "out.fc8");
}
