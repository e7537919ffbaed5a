// Shapes, tensors, the type-level network (shapes, names, receptive fields, parameter layout),
// ZFNet's numbers from the paper, dropout and the model's run-time checks.
#include "support.hpp"

using namespace convis;

static_assert(std::is_same_v<ZFNet<>::shape_after<0>, Shape<96, 110, 110>>);   // conv1
static_assert(std::is_same_v<ZFNet<>::shape_after<3>, Shape<96, 55, 55>>);     // norm1
static_assert(std::is_same_v<ZFNet<>::shape_after<6>, Shape<256, 13, 13>>);    // pool2
static_assert(std::is_same_v<ZFNet<>::shape_after<12>, Shape<256, 13, 13>>);   // conv5
static_assert(std::is_same_v<ZFNet<>::shape_after<14>, Shape<256, 6, 6>>);     // pool5
static_assert(std::is_same_v<ZFNet<>::shape_after<15>, Features<9216>>);       // flatten
static_assert(std::is_same_v<ZFNet<10>::output_shape, Features<10>>);
static_assert(ZFNet<>::parameter_count == 62'357'608);
static_assert(ZFNet512<>::parameter_count == 107'627'624);
static_assert(ZFNetPyTorch<>::parameter_count == 386'548'840);

// The per-layer counts of PAPER.md §1.5.
static_assert(ZFNet<>::parameter_count_of<0>() == 14'208);
static_assert(ZFNet<>::parameter_count_of<4>() == 614'656);
static_assert(ZFNet<>::parameter_count_of<8>() == 885'120);
static_assert(ZFNet<>::parameter_count_of<10>() == 1'327'488);
static_assert(ZFNet<>::parameter_count_of<12>() == 884'992);
static_assert(ZFNet<>::parameter_count_of<17>() == 37'752'832);
static_assert(ZFNet<>::parameter_count_of<20>() == 16'781'312);
static_assert(ZFNet<>::parameter_count_of<22>() == 4'097'000);

// Receptive fields and cumulative strides (PAPER.md §1.3); conv1 pads by 1, so unit 0 starts at -1.
static_assert(ZFNet<>::field_after<0>() == receptive_field{7, 2, -1, false});
static_assert(ZFNet<>::field_after<2>() == receptive_field{11, 4, -1, false});
static_assert(ZFNet<>::field_after<4>() == receptive_field{27, 8, -1, false});
static_assert(ZFNet<>::field_after<6>() == receptive_field{43, 16, -1, false});
static_assert(ZFNet<>::field_after<8>().size == 75 && ZFNet<>::field_after<8>().start == -17);
static_assert(ZFNet<>::field_after<10>().size == 107);
static_assert(ZFNet<>::field_after<12>().size == 139);
static_assert(ZFNet<>::field_after<14>().size == 171 && ZFNet<>::field_after<14>().stride == 32);
static_assert(ZFNet<>::field_after<17>().global);

TEST_CASE("ZFNet's layer names are the paper's") {
    const char* names[] = {"conv1", "relu1", "pool1", "norm1", "conv2", "relu2", "pool2", "norm2",
                           "conv3", "relu3", "conv4", "relu4", "conv5", "relu5", "pool5", "flatten",
                           "drop6", "fc6", "relu6", "drop7", "fc7", "relu7", "fc8"};
    REQUIRE(ZFNet<>::size == 23);
    for (int i = 0; i < 23; ++i) CHECK(ZFNet<>::name(i) == names[i]);
    CHECK(ZFNetPyTorch<>::name(0) == "features.0");
    CHECK(ZFNetPyTorch<>::name(20) == "classifier.6");
}

TEST_CASE("unnamed layers are named by index, as in nn.Sequential") {
    using Net = Sequential<Input<1, 8, 8>, Conv2d<1, 2, 3>, ReLU, Named<"head", Flatten>>;
    static_assert(Net::index_of("0") == 0 && Net::index_of("1") == 1 && Net::index_of("head") == 2);
    static_assert(Net::index_of("2") == -1 && Net::index_of("01") == -1);
    Model<Net> m;
    const auto params = m.parameter_list();
    REQUIRE(params.size() == 2);
    CHECK(params[0].name == "0.weight");
    CHECK(params[0].shape == std::vector<std::int64_t>{2, 1, 3, 3});
    CHECK(params[1].name == "0.bias");
    CHECK(params[1].values.data() == params[0].values.data() + 18);  // one contiguous buffer
}

TEST_CASE("the parameter buffer is contiguous with a view per layer") {
    Model<ZFNet<10>> m;
    const auto params = m.parameter_list();
    REQUIRE(params.size() == 16);
    std::size_t offset = 0;
    for (const auto& p : params) {
        CHECK(p.values.data() == m.parameters().data() + offset);
        offset += p.values.size();
    }
    CHECK(offset == m.parameters().size());
    CHECK(params[0].name == "conv1.weight");
    CHECK(params[15].name == "fc8.bias");
}

TEST_CASE("initialisation is seeded and follows the paper") {
    using Net = Sequential<Input<3, 16, 16>, Conv2d<3, 64, 5>, Flatten, Linear<64 * 12 * 12, 100>>;
    Model<Net> a, b, c;
    init_paper(a, 3);
    init_paper(b, 3);
    init_paper(c, 4);
    CHECK(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
    CHECK(!std::equal(a.parameters().begin(), a.parameters().end(), c.parameters().begin()));
    for (const auto& p : a.parameter_list()) {
        double sum = 0, sq = 0;
        for (float v : p.values) sum += v, sq += double(v) * v;
        const double n = double(p.values.size());
        if (p.is_bias) {
            CHECK(sq == 0);
        } else {
            CHECK(std::abs(sum / n) < 0.002);
            CHECK(std::sqrt(sq / n) == doctest::Approx(0.01).epsilon(0.05));
        }
    }
    init_kaiming(a, 3);
    const auto w = a.parameter_list()[2].values;  // Linear: fan_in 9216
    double sq = 0;
    for (float v : w) sq += double(v) * v;
    CHECK(std::sqrt(sq / double(w.size())) == doctest::Approx(std::sqrt(2.0 / 9216)).epsilon(0.05));
}

TEST_CASE("dropout: identity in eval, seeded inverted dropout in training") {
    using Net = Sequential<Input<10000, 1, 1>, Dropout>;
    Model<Net> m;
    Tensor<Net::input_shape> x(2);
    x.fill(1.0f);
    m.eval();
    auto y = m.forward(x);
    CHECK(std::all_of(y.values().begin(), y.values().end(), [](float v) { return v == 1.0f; }));

    m.train();
    m.seed(11);
    y = m.forward(x);
    const std::vector<float> first(y.values().begin(), y.values().end());
    const auto kept = std::count(first.begin(), first.end(), 2.0f);
    const auto dropped = std::count(first.begin(), first.end(), 0.0f);
    CHECK(kept + dropped == 20000);
    CHECK(std::abs(double(kept) / 20000 - 0.5) < 0.02);

    y = m.forward(x);  // a fresh mask each step
    CHECK(!std::equal(first.begin(), first.end(), y.values().begin()));
    m.seed(11);  // ... but the same sequence after reseeding
    y = m.forward(x);
    CHECK(std::equal(first.begin(), first.end(), y.values().begin()));

    m.layer<0>().p = 0.2;
    y = m.forward(x);
    const auto kept2 = std::count(y.values().begin(), y.values().end(), 1.25f);
    CHECK(std::abs(double(kept2) / 20000 - 0.8) < 0.02);
}

TEST_CASE("run-time mistakes are convis::errors") {
    using Net = Sequential<Input<2, 4, 4>, Conv2d<2, 2, 3>>;
    Model<Net> m;
    Tensor<Net::input_shape> empty;
    CHECK_THROWS_WITH_AS(m.forward(empty), doctest::Contains("batch size must be positive"), convis::error);
    Tensor<Net::output_shape> gy(3);
    CHECK_THROWS_WITH_AS(m.backward(gy), doctest::Contains("call forward first"), convis::error);
    Tensor<Net::input_shape> x(2);
    m.forward(x);
    CHECK_THROWS_WITH_AS(m.backward(gy), doctest::Contains("does not match"), convis::error);
    CHECK_THROWS_AS(m.input_gradient(), convis::error);
    const std::vector<float> odd(33);
    using T244 = Tensor<Shape<2, 4, 4>>;
    CHECK_THROWS_WITH_AS(T244::from(odd), doctest::Contains("whole number of samples"), convis::error);
}

TEST_CASE("ZFNet runs forward at full size, batch sizes change and buffers are reused") {
    Model<ZFNet<>> m;
    init_paper(m, 1);
    Tensor<ZFNet<>::input_shape> x(2);
    normal_stream rng(5);
    for (auto& v : x.values()) v = float(rng.next());
    const auto y = m.forward(x);
    REQUIRE(y.batch() == 2);
    CHECK(std::all_of(y.values().begin(), y.values().end(), [](float v) { return std::isfinite(v); }));
    const float* conv1 = m.output<0>().data();
    Tensor<ZFNet<>::input_shape> one(1);
    for (auto& v : one.values()) v = float(rng.next());
    m.forward(one);
    CHECK(m.output<0>().data() == conv1);  // shrinking keeps the buffer
    CHECK(m.output<"fc8">().batch() == 1);
}

TEST_CASE("a model that only runs forward has no gradient buffer") {
    using Net = Sequential<Input<2, 6, 6>, Conv2d<2, 3, 3>, Flatten, Linear<48, 4>>;
    Model<Net> m;
    CHECK(m.parameter_list()[0].gradient.empty());
    Tensor<Net::input_shape> x(2);
    x.fill(1.f);
    m.forward(x);
    CHECK(std::as_const(m).gradients().empty());
    Tensor<Net::output_shape> gy(2);
    gy.fill(1.f);
    m.backward(gy);
    CHECK(m.parameter_list()[0].gradient.size() == 54);
    CHECK(m.gradients().size() == Net::parameter_count);
}

TEST_CASE("the layer table, run-time look-ups and PyTorch output shapes come from the type") {
    using Net = ZFNet<10>;
    const auto rows = Net::layer_table();
    REQUIRE(rows.size() == 23);
    CHECK(rows[2].name == "pool1");
    CHECK(rows[2].output == std::vector<std::int64_t>{96, 55, 55});
    CHECK(rows[15].output == std::vector<std::int64_t>{9216});
    CHECK(rows[22].parameters == 40'970);
    CHECK(rows[14].field.size == 171);
    CHECK(Net::find("fc6") == 17);
    CHECK_THROWS_WITH_AS(Net::find("fc9"), doctest::Contains("no layer named 'fc9'; the layers are conv1, relu1"),
                         convis::error);
    CHECK(Net::output_dims<14>(4) == std::vector<std::int64_t>{4, 256, 6, 6});
    CHECK(Net::output_dims<18>(4) == std::vector<std::int64_t>{4, 4096});
    int seen = -1;
    Net::visit(7, [&](auto i) { seen = decltype(i)::value; });
    CHECK(seen == 7);
    CHECK_THROWS_AS(Net::visit(23, [](auto) {}), convis::error);
}
