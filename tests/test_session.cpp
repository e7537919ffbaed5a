// convis::session over a network whose class count is a run-time value: the tiny ZFNet of the
// golden fixtures with Linear<32, dynamic> last, through the plain interface the convis program
// uses — every layer's output and the projections in all three modes against PyTorch, the layer
// table, and the errors of a wrong class count or layer name.
#include <convis/session/make_session.hpp>

#include "support.hpp"
#include "tiny_zfnet.hpp"

using namespace convis;

namespace {

/// TinyZFNet with the class count left to run time.
using TinyDynamic = Sequential<Input<3, 112, 112>,
    Named<"conv1", Conv2d<3, 8, 7, 2, 1>>,   Named<"relu1", ReLU>,
    Named<"pool1", MaxPool2d<3, 2, 0, ceil_mode>>, Named<"norm1", ZFNetNorm>,
    Named<"conv2", Conv2d<8, 16, 5, 2, 0>>,  Named<"relu2", ReLU>,
    Named<"pool2", MaxPool2d<3, 2, 0, ceil_mode>>, Named<"norm2", ZFNetNorm>,
    Named<"conv3", Conv2d<16, 24, 3, 1, 1>>, Named<"relu3", ReLU>,
    Named<"conv4", Conv2d<24, 24, 3, 1, 1>>, Named<"relu4", ReLU>,
    Named<"conv5", Conv2d<24, 16, 3, 1, 1>>, Named<"relu5", ReLU>,
    Named<"pool5", MaxPool2d<3, 2, 0, ceil_mode>>, Named<"flatten", Flatten>,
    Named<"drop6", Dropout>, Named<"fc6", Linear<144, 32>>, Named<"relu6", ReLU>,
    Named<"drop7", Dropout>, Named<"fc7", Linear<32, 32>>,  Named<"relu7", ReLU>,
    Named<"fc8", Linear<32, dynamic>>>;

std::unique_ptr<session> golden_session() {
    auto s = make_session<TinyDynamic, cpu>(10);
    const auto f = test::fixture("tinyzf");
    for (auto& p : s->parameter_list()) {
        const auto v = test::values<float>(f, p.name);
        REQUIRE(v.size() == p.values.size());
        std::copy(v.begin(), v.end(), p.values.begin());
    }
    s->eval();
    return s;
}

}  // namespace

TEST_CASE("a session over Linear<32, dynamic> with 10 classes matches PyTorch at every layer") {
    auto s = golden_session();
    CHECK(s->classes() == 10);
    CHECK(s->device() == "cpu");
    const auto f = test::fixture("tinyzf");
    const auto x = test::values<float>(f, "x");
    const int batch = int(x.size() / s->input().size());
    REQUIRE(batch == 2);
    s->forward(x.data(), batch);
    for (int i = 0; i < int(s->layers().size()); ++i) {
        CAPTURE(s->name(i));
        test::check_close<float>(std::span<const float>(s->output(i), batch * s->sample_size(i)), f, "out." + s->name(i));
    }
}

TEST_CASE("a session's projections match PyTorch in all three modes, from a pool and from a class score") {
    auto s = golden_session();
    const auto f = test::fixture("tinyzf");
    const auto fixture = test::fixture("deconv_tinyzf");
    const auto x = test::values<float>(f, "x");
    s->forward(x.data(), 2);
    for (const char* layer : {"pool2", "fc8"}) {
        CAPTURE(layer);
        const int l = s->find(layer);
        const auto map = activation_map<float>::from(s->output(l), s->batch(), s->layers()[l].output, layer);
        std::vector<float> signal(map.size(), 0.0f);
        select_strongest(map, test::meta_int(fixture, std::string("channel.") + layer), signal.data());
        const std::pair<const char*, rectify_mode> modes[] = {
            {"deconvnet", rectify_mode::deconvnet}, {"guided", rectify_mode::guided}, {"gradient", rectify_mode::gradient}};
        for (const auto& [name, mode] : modes) {
            CAPTURE(name);
            const float* p = s->project(l, signal.data(), {mode, {}});
            test::check_close<float>(std::span<const float>(p, 2 * s->input().size()), fixture,
                                     std::string("proj.") + name + "." + layer);
        }
    }
}

TEST_CASE("the class count is the session's: 37 outputs, fc8 37×32, and no count below 1") {
    auto s = make_session<TinyDynamic, cpu>(37, "TinyDynamic<37>");
    CHECK(s->classes() == 37);
    CHECK(s->type_name() == "TinyDynamic<37>");
    CHECK(s->layers().back().output == std::vector<std::int64_t>{37});
    bool found = false;
    for (const auto& p : s->parameter_list())
        if (p.name == "fc8.weight") {
            found = true;
            CHECK(p.shape == std::vector<std::int64_t>{37, 32});
        }
    CHECK(found);
    Model<TinyDynamic> m(37);
    CHECK(s->parameter_count() == m.parameters().size());
    Model<test::TinyZFNet> fixed;
    CHECK(Model<TinyDynamic>(10).parameters().size() == fixed.parameters().size());

    s->init(init_scheme::kaiming, 3);
    std::vector<float> x(2 * s->input().size(), 0.25f);
    s->forward(x.data(), 2);
    CHECK(s->batch() == 2);
    CHECK(s->sample_size(s->find("fc8")) == 37);

    CHECK_THROWS_AS((make_session<TinyDynamic, cpu>(0)), error);
    CHECK_THROWS_AS(Model<TinyDynamic>(-3), error);
}

TEST_CASE("a session names its layers; an unknown name lists the ones there are") {
    auto s = make_session<TinyDynamic, cpu>(10);
    CHECK(s->find("conv3") == 8);
    CHECK(s->find("fc8") == 22);
    CHECK(s->layers()[8].kind == "Conv2d");
    try {
        s->find("conv9");
        FAIL("no error for an unknown layer");
    } catch (const error& e) {
        const std::string what = e.what();
        CHECK(what.find("conv9") != std::string::npos);
        CHECK(what.find("pool5") != std::string::npos);
    }
    CHECK_THROWS_AS(s->sample_size(23), error);
}
