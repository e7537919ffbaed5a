// The attribution suite (include/convis/analysis/attribution/) against PyTorch: every method on
// ZFNet28 (full maps) and on ZFNet at 224 (sampled maps), the deletion/insertion curves, the
// confidence drop, Spearman and SSIM (tests/golden/make_attribution_fixtures.py), plus batching,
// targets and the errors a user can meet.
//
// Why the golden comparisons run in double: a gradient through a ReLU is all or nothing, and the
// formula networks have pre-ReLU values within 5e-8 (relative) of 0 on the integrated-gradient
// paths (the script prints the margins). float32's rounding — which differs with the batch size
// and the CPU's kernels — flips such a unit and moves the map by up to 4% at that path point.
// In double no unit is that close, so the comparison tests the definitions, not the rounding.
// The float model is compared too, for the methods that see only the clean input (margin 4.8e-7,
// above float32's error of about 1e-7).
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <convis/analysis/attribution.hpp>

#include "support.hpp"
#include "zoo_formula.hpp"

using namespace convis;

namespace {

const char* const methods[] = {"gradcam",  "gradcam++",           "layercam",   "scorecam", "guided-gradcam",
                               "saliency", "input-x-gradient",    "integrated-gradients",   "smoothgrad",
                               "vargrad",  "deconvnet",           "guided-backprop"};

/// The fixture's method settings.
attribution_options settings(const safetensors_file& f, const std::string& method) {
    attribution_options o;
    o.method = parse_attribution_method(method);
    o.steps = test::meta_int(f, "steps");
    o.baseline = float(test::meta_double(f, "baseline"));
    o.samples = test::meta_int(f, "samples");
    o.noise = float(test::meta_double(f, "noise"));
    o.seed = std::uint64_t(test::meta_int(f, "seed"));
    o.base = parse_attribution_method(f.metadata.at("base"));
    return o;
}

std::vector<int> targets_of(const safetensors_file& f) {
    std::vector<int> t;
    for (const auto v : test::int64s(f, "target")) t.push_back(int(v));
    return t;
}

/// ZFNet28 with the fixture's formula weights.
template <class T = double>
struct small_net {
    using Net = ZFNet28<10>;
    using M = Model<Net, cpu, T>;
    const safetensors_file& f;
    std::unique_ptr<M> model = std::make_unique<M>(10);
    std::vector<T> x;
    explicit small_net(const safetensors_file& fixture) : f(fixture), x(test::values<T>(fixture, "input")) {
        test::fill_formula(*model, std::uint64_t(test::meta_int(fixture, "formula_seed")));
    }
};

const safetensors_file& small_fixture() {
    static const safetensors_file f = test::fixture("attribution_zfnet28");
    return f;
}

}  // namespace

template <class T>
void check_small(bool paths) {
    const auto& f = small_fixture();
    small_net<T> t(f);
    using In = typename small_net<T>::Net::input_shape;
    test::check_close<float>(test::host_copy(t.model->forward(TensorView<In, const T>(t.x.data(), 2))), f, "logits", 1e-5);
    for (const std::string method : methods) {
        CAPTURE(method);
        const auto m_ = parse_attribution_method(method);
        if (!paths && (m_ == attribution_method::integrated_gradients || m_ == attribution_method::smoothgrad ||
                       m_ == attribution_method::vargrad))
            continue;
        const attribution_map m = attribute(*t.model, t.x.data(), 2, targets_of(f), settings(f, method));
        CHECK(m.target == targets_of(f));
        const auto want = f.at(method);
        CHECK(m.shape() == want.shape);
        test::check_close<float>(m.values, f, method, 1e-4);
        if (reads_layer(m.method)) CHECK(small_net<T>::Net::name(m.layer) == f.metadata.at("layer"));
    }
}

TEST_CASE("every attribution method on ZFNet28 matches PyTorch (double)") { check_small<double>(true); }
TEST_CASE("the float model matches PyTorch on the methods that see only the clean input") { check_small<float>(false); }

TEST_CASE("every attribution method on ZFNet at 224 matches PyTorch (sampled, double)") {
    using Net = ZFNet<10>;
    const auto f = test::fixture("attribution_zfnet");
    auto model = std::make_unique<Model<Net, cpu, double>>(10);
    const std::uint64_t seed = std::uint64_t(test::meta_int(f, "formula_seed"));
    test::fill_formula(*model, seed);
    const auto input = test::formula_input(seed, Net::input_shape::size);
    const std::vector<double> x(input.begin(), input.end());
    for (const std::string method : methods) {
        CAPTURE(method);
        const attribution_map m = attribute(*model, x.data(), 1, targets_of(f), settings(f, method));
        const auto index = test::int64s(f, method + "/index");
        std::vector<float> got;
        for (const auto i : index) got.push_back(m.values[std::size_t(i)]);
        const auto want = test::values<float>(f, method + "/value");
        const double err = test::relative_error<float, float>(got, want);
        INFO("sampled map, relative error " << err);
        CHECK(err <= 1e-4);
        double sumsq = 0;
        for (const float v : m.values) sumsq += double(v) * v;
        const double want_sumsq = test::values<double>(f, method + "/sumsq")[0];
        INFO("sum of squares " << sumsq << " against " << want_sumsq);
        CHECK(std::abs(sumsq - want_sumsq) <= 1e-4 * want_sumsq);
    }
}

TEST_CASE("deletion and insertion curves, AUC and confidence drop match PyTorch") {
    const auto& f = small_fixture();
    small_net<> t(f);
    attribution_map map;
    map.method = attribution_method::random;  // a given map: its values decide the order
    map.count = 2, map.height = 28, map.width = 28, map.pixel_map = true;
    map.values = test::values<float>(f, "del.map");
    map.target = targets_of(f);
    deletion_options o;
    o.steps = test::meta_int(f, "del.steps");
    o.fill = float(test::meta_double(f, "del.fill"));
    for (const bool insertion : {false, true}) {
        o.insertion = insertion;
        const std::string name = insertion ? "insertion" : "deletion";
        CAPTURE(name);
        const deletion_result r = deletion_curve(*t.model, t.x.data(), map, o);
        REQUIRE(r.fraction.size() == std::size_t(o.steps + 1));
        CHECK(r.fraction.front() == 0.f);
        CHECK(r.fraction.back() == 1.f);
        test::check_close<float>(r.score, f, name + ".curve", 1e-5);
        test::check_close<float>(r.auc, f, name + ".auc", 1e-5);
        CHECK(r.mean_auc == doctest::Approx((r.auc[0] + r.auc[1]) / 2));
    }
    // The order: descending, ties by the lower pixel index, NaN last.
    CHECK(attribution_detail::importance_order({1, 3, 3, 2, std::nanf(""), 3}) == std::vector<int>{1, 2, 5, 3, 0, 4});
    // Batches of any size give the same curve.
    o.insertion = false;
    o.batch = 2;
    test::check_close<float>(deletion_curve(*t.model, t.x.data(), map, o).score, f, "deletion.curve", 1e-5);

    // Targets 3 and 7 gain from the masking (increase 100%), the predicted class 6 loses (drop 44%).
    for (const std::string key : {"drop", "drop6"}) {
        CAPTURE(key);
        if (key == "drop6") map.target = {6, 6};
        const confidence_drop_result c = confidence_drop(*t.model, t.x.data(), map, o.fill);
        test::check_close<float>(c.drop, f, key + ".per_image", 1e-5);
        CHECK(c.average_drop == doctest::Approx(test::values<float>(f, key + ".average")[0]).epsilon(1e-5));
        CHECK(c.increase == doctest::Approx(test::values<float>(f, key + ".increase")[0]));
    }
}

TEST_CASE("Spearman and SSIM match their definitions (PyTorch/numpy)") {
    const auto& f = small_fixture();
    const auto a = test::values<float>(f, "sim.a"), b = test::values<float>(f, "sim.b");
    const auto want_rho = test::values<double>(f, "sim.spearman"), want_ssim = test::values<double>(f, "sim.ssim");
    for (int i = 0; i < 2; ++i) {
        const float* ai = a.data() + i * 784;
        const float* bi = b.data() + i * 784;
        CHECK(spearman(ai, bi, 784) == doctest::Approx(want_rho[std::size_t(i)]).epsilon(1e-6));
        CHECK(ssim(ai, bi, 28, 28) == doctest::Approx(want_ssim[std::size_t(i)]).epsilon(1e-5));
        CHECK(spearman(ai, ai, 784) == doctest::Approx(1.0));
        CHECK(ssim(ai, ai, 28, 28) == doctest::Approx(1.0));
    }
    const std::vector<float> up = {1, 2, 3, 4}, down = {4, 3, 2, 1}, flat = {2, 2, 2, 2};
    CHECK(spearman(up.data(), down.data(), 4) == doctest::Approx(-1.0));
    CHECK(spearman(up.data(), flat.data(), 4) == 0.0);
    CHECK_THROWS_WITH_AS(ssim(a.data(), b.data(), 10, 10), doctest::Contains("at least 11x11"), error);
}

TEST_CASE("integrated gradients: the same map whatever the batch; the memory limit sizes the batch") {
    const auto& f = small_fixture();
    small_net<> t(f);
    attribution_options o = settings(f, "integrated-gradients");
    o.batch = 3;  // batches that straddle the two images' paths
    test::check_close<float>(integrated_gradients(*t.model, t.x.data(), 2, targets_of(f), o).values, f,
                             "integrated-gradients", 1e-4);
    o.batch = 0;
    o.memory_limit = std::size_t(1) << 30;
    attribution_detail::engine<small_net<>::M> e(*t.model);
    e.use(o);
    const int roomy = e.batch(true);
    o.memory_limit = e.fixed_bytes() + 2 * e.sample_bytes(true) + 1;
    attribution_detail::engine<small_net<>::M> tight(*t.model);
    tight.use(o);
    CHECK(roomy == 64);
    CHECK(tight.batch(true) == 2);
    test::check_close<float>(integrated_gradients(*t.model, t.x.data(), 2, targets_of(f), o).values, f,
                             "integrated-gradients", 1e-4);
    o.memory_limit = e.fixed_bytes();
    CHECK_THROWS_WITH_AS(integrated_gradients(*t.model, t.x.data(), 2, targets_of(f), o),
                         doctest::Contains("is below the"), error);
}

TEST_CASE("targets: predicted by default, one for all, or one per image; bad ones are errors") {
    const auto& f = small_fixture();
    small_net<> t(f);
    const auto logits = test::values<float>(f, "logits");
    const attribution_map m = grad_cam(*t.model, t.x.data(), 2, {}, {});
    for (int b = 0; b < 2; ++b)
        CHECK(m.target[std::size_t(b)] == int(std::max_element(logits.begin() + b * 10, logits.begin() + b * 10 + 10) -
                                               (logits.begin() + b * 10)));
    CHECK(saliency(*t.model, t.x.data(), 2, {4}, {}).target == std::vector<int>{4, 4});
    CHECK(saliency(*t.model, t.x.data(), 2, {-1, 2}, {}).target == std::vector<int>{m.target[0], 2});
    CHECK_THROWS_WITH_AS(saliency(*t.model, t.x.data(), 2, {10}, {}), doctest::Contains("outside 0..9"), error);
    CHECK_THROWS_WITH_AS(saliency(*t.model, t.x.data(), 2, {1, 2, 3}, {}), doctest::Contains("3 targets for 2 images"), error);
    attribution_options o;
    o.layer = small_net<>::Net::find("fc6");
    CHECK_THROWS_WITH_AS(grad_cam(*t.model, t.x.data(), 2, {}, o), doctest::Contains("need feature maps"), error);
    o.layer = small_net<>::Net::find("fc8");
    CHECK_THROWS_WITH_AS(grad_cam(*t.model, t.x.data(), 2, {}, o), doctest::Contains("not below the logits"), error);
    o = {};
    o.method = attribution_method::smoothgrad;
    o.base = attribution_method::vargrad;
    CHECK_THROWS_WITH_AS(attribute(*t.model, t.x.data(), 2, {}, o), doctest::Contains("base method"), error);
    CHECK_THROWS_WITH_AS(parse_attribution_method("gradcam+"), doctest::Contains("gradcam++"), error);
    CHECK_THROWS_WITH_AS(saliency(*t.model, t.x.data(), 0, {}, {}), doctest::Contains("at least one image"), error);
}

TEST_CASE("the randomisation check: identical at the start, trained weights restored at the end") {
    const auto& f = small_fixture();
    small_net<> t(f);
    const auto before = test::host_copy(t.model->parameters());
    sanity_options o;
    o.attribution.method = attribution_method::gradcam;
    const sanity_result r = randomisation_check(*t.model, t.x.data(), 2, targets_of(f), o);
    REQUIRE(r.stages.size() == 9);  // the original and the 8 layers with parameters
    CHECK(r.stages[0] == "original");
    CHECK(r.stages[1] == "fc8");
    CHECK(r.stages.back() == "conv1");
    CHECK(r.mean_spearman[0] == doctest::Approx(1.0));
    CHECK(r.mean_ssim[0] == doctest::Approx(1.0));
    CHECK(r.mean_spearman.back() < 0.9f);  // a map of random weights is not the trained one's
    CHECK(test::host_copy(t.model->parameters()) == before);
}

namespace {
// A residual stack with BatchNorm and average pooling (the zoo's layers), small enough to build here.
using Blocks = Sequential<Input<3, 12, 12>,
    Named<"conv1", Conv2d<3, 8, 3, 1, 1, no_bias>>, Named<"bn1", BatchNorm2d<8>>, Named<"relu", ReLU>,
    Named<"pool", AvgPool2d<3, 2, 1>>,
    Named<"layer1", Residual<Body<Named<"conv1", Conv2d<8, 16, 3, 2, 1, no_bias>>, Named<"bn1", BatchNorm2d<16>>,
                                  Named<"relu", ReLU>, Named<"conv2", Conv2d<16, 16, 3, 1, 1, no_bias>>,
                                  Named<"bn2", BatchNorm2d<16>>>,
                             Shortcut<Named<"downsample.0", Conv2d<8, 16, 1, 2, 0, no_bias>>,
                                      Named<"downsample.1", BatchNorm2d<16>>>,
                             ReLU>>,
    Named<"gap", GlobalAvgPool>, Flatten, Named<"fc", Linear<16, 5>>>;

/// Integrated gradients' completeness (Sundararajan et al.): Σ IG = y_c(x) − y_c(x') as the steps
/// grow — a check of the path sum that needs no reference.
template <class M>
void check_completeness(M& model, const std::vector<double>& x, int count, int classes) {
    attribution_options o;
    o.steps = 512;
    o.baseline = 0;
    const attribution_map m = integrated_gradients(model, x.data(), count, {}, o);
    using In = typename M::net_type::input_shape;
    const auto y = test::host_copy(model.forward(TensorView<In, const double>(x.data(), count)));
    const std::vector<double> zeros(x.size(), 0.0);
    const auto y0 = test::host_copy(model.forward(TensorView<In, const double>(zeros.data(), count)));
    for (int b = 0; b < count; ++b) {
        double total = 0;
        for (std::size_t i = 0; i < m.sample_size(); ++i) total += m.sample(b)[i];
        const int c = m.target[std::size_t(b)];
        const double gap = y[std::size_t(b * classes + c)] - y0[std::size_t(b * classes + c)];
        INFO("image " << b << ": sum of IG " << total << ", y(x) - y(0) " << gap);
        CHECK(std::abs(total - gap) <= 0.02 * std::abs(gap) + 1e-6);
    }
}
}  // namespace

TEST_CASE("integrated gradients sum to y(x) - y(baseline): ZFNet28 and a residual stack with BatchNorm") {
    small_net<> t(small_fixture());
    check_completeness(*t.model, t.x, 2, 10);

    auto blocks = std::make_unique<Model<Blocks, cpu, double>>();
    test::fill_formula(*blocks, 4);
    const auto input = test::formula_input(4, 2 * Blocks::input_shape::size);
    const std::vector<double> x(input.begin(), input.end());
    check_completeness(*blocks, x, 2, 5);

    // Every method runs on the residual stack; the CAM family reads its last block by default.
    for (const auto name : attribution_method_names) {
        CAPTURE(name);
        attribution_options o;
        o.method = parse_attribution_method(name);
        o.steps = 4, o.samples = 2;
        const attribution_map m = attribute(*blocks, x.data(), 2, {}, o);
        CHECK(m.values.size() == 2 * m.sample_size());
        CHECK(std::all_of(m.values.begin(), m.values.end(), [](float v) { return std::isfinite(v); }));
        if (reads_layer(m.method)) CHECK(Blocks::name(m.layer) == "layer1");
    }
}
