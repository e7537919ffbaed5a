// Occlusion sensitivity (Fig. 7): hand-computed maps on a network small enough to work out on
// paper, and every position of a ZFNet-shaped network against its own occluded forward pass.
#include <cmath>

#include <convis/analysis/occlusion.hpp>
#include <convis/net/init.hpp>

#include "support.hpp"
#include "tiny_zfnet.hpp"

using namespace convis;
using test::TinyZFNet;

namespace {

// conv1 (1×1, weights +1 and −1) splits the picture into relu(x) and relu(−x); class 0's logit is
// the sum of relu(x), class 1's half the sum of relu(−x).
using SplitNet = Sequential<Input<1, 4, 4>, Named<"conv1", Conv2d<1, 2, 1, 1, 0>>, Named<"relu1", ReLU>,
                            Named<"flatten", Flatten>, Named<"fc", Linear<32, 2>>>;

Model<SplitNet> split_model() {
    Model<SplitNet> m;
    auto p = m.parameters();
    std::fill(p.begin(), p.end(), 0.0f);
    for (auto& t : m.parameter_list()) {
        if (t.name == "conv1.weight") t.values[0] = 1, t.values[1] = -1;
        if (t.name == "fc.weight")
            for (int i = 0; i < 16; ++i) t.values[std::size_t(i)] = 1, t.values[std::size_t(32 + 16 + i)] = 0.5f;
    }
    return m;
}

}  // namespace

TEST_CASE("occlusion on a network worked out by hand") {
    auto m = split_model();
    std::vector<float> x(16);
    for (int i = 0; i < 16; ++i) x[std::size_t(i)] = float(i - 5);  // -5 … 10; the peak 10 at (3, 3)

    for (const float fill : {0.0f, -3.0f}) {
        CAPTURE(fill);
        occlusion_options o;
        o.size = 2;
        o.stride = 2;
        o.fill = fill;
        o.batch = 3;  // 4 positions: a full batch and a partial one
        const occlusion_result r = occlusion(m, x.data(), 0, o);
        CHECK(r.layer == 1);  // relu1: the last conv block
        CHECK(r.channel == 0);
        CHECK(r.y == 3);
        CHECK(r.x == 3);
        CHECK(r.rows == 2);
        CHECK(r.cols == 2);
        CHECK(r.base_activation == doctest::Approx(55));
        CHECK(r.base_label == 0);
        CHECK(r.base_probability == doctest::Approx(1 / (1 + std::exp(0.5 * 15 - 55))));
        for (int row = 0; row < 2; ++row)
            for (int col = 0; col < 2; ++col) {
                double pos = 0, neg = 0;
                for (int y = 0; y < 4; ++y)
                    for (int xx = 0; xx < 4; ++xx) {
                        const bool covered = y / 2 == row && xx / 2 == col;
                        const double v = covered ? fill : x[std::size_t(y * 4 + xx)];
                        pos += std::max(v, 0.0);
                        neg += std::max(-v, 0.0);
                    }
                const std::size_t at = std::size_t(row * 2 + col);
                CAPTURE(at);
                CHECK(r.activation[at] == doctest::Approx(pos));
                const double p0 = 1 / (1 + std::exp(0.5 * neg - pos));
                CHECK(r.probability[at] == doctest::Approx(p0));
                CHECK(r.label[at] == (p0 >= 0.5 ? 0 : 1));
            }
        // (c): the peak passes relu and the 1×1 filter (weight 1) back to its own pixel.
        for (int i = 0; i < 16; ++i) CHECK(r.projection[std::size_t(i)] == doctest::Approx(i == 15 ? 10 : 0));
    }
}

TEST_CASE("occlusion agrees with a forward pass of each occluded copy") {
    Model<TinyZFNet> m;
    init_kaiming(m, 7);
    std::vector<float> x(TinyZFNet::input_shape::size);
    normal_stream rng(3);
    for (auto& v : x) v = float(rng.next());

    occlusion_options o;
    o.size = 30;
    o.stride = 20;  // (112 - 30) / 20 + 1 = 5 positions a side; the last column and row stop short
    o.fill = 0.25f;
    o.batch = 7;
    const int label = 4;
    const occlusion_result r = occlusion(m, x.data(), label, o);
    REQUIRE(r.rows == 5);
    REQUIRE(r.cols == 5);
    const int relu5 = TinyZFNet::index_of("relu5");
    CHECK(r.layer == relu5);

    const auto table = TinyZFNet::layer_table();
    const int maps = int(table[std::size_t(relu5)].output[0]);
    const std::size_t plane = std::size_t(table[std::size_t(relu5)].output[1] * table[std::size_t(relu5)].output[2]);
    Tensor<TinyZFNet::input_shape, float> one(1);
    // The strongest map is the one with the largest maximum on the unoccluded picture.
    std::copy(x.begin(), x.end(), one.sample(0));
    m.forward(one);
    {
        const float* a = m.output_data(relu5);
        const float best = *std::max_element(a, a + maps * plane);
        CHECK(*std::max_element(a + r.channel * plane, a + (r.channel + 1) * plane) == best);
    }
    for (int pos = 0; pos < 25; ++pos) {
        CAPTURE(pos);
        std::copy(x.begin(), x.end(), one.sample(0));
        const int y0 = (pos / 5) * 20, x0 = (pos % 5) * 20;
        for (int c = 0; c < 3; ++c)
            for (int y = y0; y < y0 + 30; ++y)
                for (int xx = x0; xx < x0 + 30; ++xx) one.sample(0)[(c * 112 + y) * 112 + xx] = 0.25f;
        const auto out = m.forward(one);
        const float* a = m.output_data(relu5) + r.channel * plane;
        double total = 0;
        for (std::size_t i = 0; i < plane; ++i) total += a[i];
        CHECK(r.activation[std::size_t(pos)] == doctest::Approx(total).epsilon(1e-4));
        const float* logits = out.data();
        const float top = *std::max_element(logits, logits + 10);
        double z = 0;
        for (int k = 0; k < 10; ++k) z += std::exp(double(logits[k]) - top);
        CHECK(r.probability[std::size_t(pos)] == doctest::Approx(std::exp(double(logits[label]) - top) / z).epsilon(1e-4));
        CHECK(r.label[std::size_t(pos)] == std::max_element(logits, logits + 10) - logits);
    }
}

TEST_CASE("occlusion rejects what it cannot do, naming it") {
    auto m = split_model();
    std::vector<float> x(16, 1.0f);
    occlusion_options o;
    o.size = 5;
    CHECK_THROWS_WITH_AS(occlusion(m, x.data(), 0, o), doctest::Contains("does not fit the 4x4 input"), error);
    o.size = 2;
    CHECK_THROWS_WITH_AS(occlusion(m, x.data(), 2, o), doctest::Contains("label 2 is outside 0..1"), error);
    o.layer = 9;
    CHECK_THROWS_WITH_AS(occlusion(m, x.data(), 0, o), doctest::Contains("layer 9 is outside"), error);
    o.layer = -1;
    o.stride = -1;
    CHECK_THROWS_WITH_AS(occlusion(m, x.data(), 0, o), doctest::Contains("must be positive"), error);
    CHECK(occlusion_positions(4, 2, 1) == 3);
    CHECK(occlusion_positions(4, 5, 1) == 0);
}
