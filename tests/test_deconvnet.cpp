// The deconvnet against PyTorch (tests/golden/make_deconv_fixtures.py): three rectify modes from a
// pool over two LRNs, an LRN output, a ReLU and a class score, with ceil-mode overlapping pools; the LRN option.
#include "support.hpp"
#include "tiny_zfnet.hpp"

using namespace convis;
using test::TinyZFNet;

namespace {

struct traced {
    Model<TinyZFNet> model;
    safetensors_file fixture = test::fixture("deconv_tinyzf");
    traced() {
        const auto f = test::fixture("tinyzf");
        test::load_params(model, f, [](const std::string& n) { return n; });
        model.eval();
        model.forward(Tensor<TinyZFNet::input_shape>::from(test::values<float>(f, "x")));
    }
};

template <int I>
void check_layer(traced& t, const char* layer) {
    Deconvnet<Model<TinyZFNet>> deconv(t.model);
    const int channel = test::meta_int(t.fixture, std::string("channel.") + layer);
    std::vector<activation_position> where;
    const auto signal = deconv.template select_strongest<I>(channel, &where);
    const auto sel = test::int64s(t.fixture, std::string("sel.") + layer);
    REQUIRE(where.size() == 2);
    for (int n = 0; n < 2; ++n) {
        CHECK(where[n].channel == sel[n * 3]);
        CHECK(where[n].y == sel[n * 3 + 1]);
        CHECK(where[n].x == sel[n * 3 + 2]);
    }
    const std::pair<const char*, rectify_mode> modes[] = {
        {"deconvnet", rectify_mode::deconvnet}, {"guided", rectify_mode::guided}, {"gradient", rectify_mode::gradient}};
    for (const auto& [name, mode] : modes) {
        CAPTURE(name);
        const auto p = deconv.template project<I>(signal, {mode, {}});
        test::check_close<float>(p.values(), t.fixture, std::string("proj.") + name + "." + layer);
    }
}

}  // namespace

TEST_CASE("projections match PyTorch in all three modes") {
    traced t;
    check_layer<6>(t, "pool2");   // unpool through two overlapping ceil-mode pools, LRN skipped or not
    check_layer<7>(t, "norm2");   // from an LRN output: skipped in deconvnet mode, its backward otherwise
    check_layer<13>(t, "relu5");
    check_layer<22>(t, "fc8");    // a class score, back through the transposed Linear layers
}

TEST_CASE("the LRN option applies in deconvnet mode too, and the signal keeps only the selection") {
    traced t;
    Deconvnet<Model<TinyZFNet>> deconv(t.model);
    const auto signal = deconv.select_strongest<6>(3);
    const auto p = deconv.project<6>(signal, {rectify_mode::deconvnet, true});
    test::check_close<float>(p.values(), t.fixture, "proj.deconvnet_lrn.pool2");

    std::size_t nonzero = 0;
    for (float v : signal.values()) nonzero += v != 0;
    CHECK(nonzero == 2);  // one activation per image, at its own value
    const auto a = t.model.output<6>();
    const auto one = deconv.select_activation<6>(3, 2, 1);
    CHECK(one(1, 3, 2, 1) == a(1, 3, 2, 1));
    const auto whole = deconv.select_channel<6>(3);
    CHECK(whole(0, 3, 5, 5) == a(0, 3, 5, 5));
    CHECK(whole(0, 2, 5, 5) == 0.f);
}

TEST_CASE("the gradient mode is the model's own input gradient") {
    traced t;
    Deconvnet<Model<TinyZFNet>> deconv(t.model);
    Tensor<Features<10>> g(2);
    normal_stream rng(3);
    for (auto& v : g.values()) v = float(rng.next());
    const std::vector<float> projected(deconv.project<22>(g, {rectify_mode::gradient, {}}).values().begin(),
                                       deconv.project<22>(g, {rectify_mode::gradient, {}}).values().end());
    t.model.backward(g, true);
    CHECK(test::relative_error<float, float>(projected, t.model.input_gradient().values()) < 1e-6);
}

TEST_CASE("deconvnet misuse is a convis::error") {
    Model<TinyZFNet> m;
    Deconvnet<Model<TinyZFNet>> deconv(m);
    CHECK_THROWS_WITH_AS(deconv.select_strongest<6>(0), doctest::Contains("run the model forward first"), convis::error);
    traced t;
    Deconvnet<Model<TinyZFNet>> d2(t.model);
    CHECK_THROWS_WITH_AS(d2.select_strongest<6>(16), doctest::Contains("outside layer pool2's 16 channels"), convis::error);
    CHECK_THROWS_AS(d2.select_activation<6>(0, 6, 0), convis::error);
    Tensor<TinyZFNet::shape_after<6>> wrong(3);
    CHECK_THROWS_WITH_AS(d2.project<6>(wrong), doctest::Contains("the signal holds 3 samples, the trace 2"), convis::error);
}

TEST_CASE("a projection gives the same numbers on one thread or two, sparse or dense") {
    traced t;
    Deconvnet<Model<TinyZFNet>> deconv(t.model);
    const auto sparse = deconv.select_strongest<6>(3);  // one activation per image: one thread by default
    const auto dense = deconv.select_channel<6>(3);     // a whole map: the thread pool by default
    for (const auto* signal : {&sparse, &dense}) {
        std::vector<std::vector<float>> results;
        for (int threads : {0, 1, 2}) {
            projection_options o;
            o.threads = threads;
            const auto p = deconv.project<6>(*signal, o);
            results.emplace_back(p.values().begin(), p.values().end());
        }
        CHECK(results[0] == results[1]);
        CHECK(results[1] == results[2]);
        CHECK(std::any_of(results[0].begin(), results[0].end(), [](float v) { return v != 0.f; }));
    }
}
