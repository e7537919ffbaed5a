// Feature visualisation (include/convis/analysis/feature_vis/) against PyTorch
// (tests/golden/make_feature_vis_fixtures.py): the transformation-robustness maps and their
// adjoints, the pixel and Fourier parametrisations forward and backward, Adam, and the whole loop
// on ZFNet28 for five objectives; plus batch independence, determinism, a channel alone against
// every_channel (and own_channel_response on those pictures), the adjoint identity, finite
// differences of the parametrisations' backward, the errors a user can meet, and a float session
// against the double model.
//
// The golden loop runs in double: Adam's first step is m̂/√v̂ = ±1 per parameter, so the rounding
// noise of float32 in a tiny gradient would flip a whole step (the script's docstring).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <convis/analysis/feature_vis.hpp>
#include <convis/session/make_session.hpp>

#include "support.hpp"
#include "zoo_formula.hpp"

using namespace convis;

namespace {

constexpr std::uint64_t seed = 20;  // the fixture's formula and run seed
constexpr int steps = 4;

const safetensors_file& fixture() {
    static const safetensors_file f = test::fixture("feature_vis");
    return f;
}

/// a + b·uniform(stream(20, fnv1a(name)), i), i < n: the script's U.
std::vector<double> uniforms(const std::string& name, std::size_t n, double a = 0, double b = 1) {
    const std::uint64_t st = counter_random::stream(seed, test::fnv1a(name));
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = a + b * counter_random::uniform(st, i);
    return v;
}

using Net = ZFNet28<10>;
using DoubleModel = Model<Net, cpu, double>;

/// The one double ZFNet28 of this program, with the formula weights of seed 20.
runtime_view<DoubleModel>& double_view() {
    static const std::unique_ptr<DoubleModel> model = [] {
        auto m = std::make_unique<DoubleModel>(10);
        test::fill_formula(*m, seed);
        return m;
    }();
    static runtime_view<DoubleModel> view(*model);
    return view;
}

const preprocess pre{{0.286f}, {0.353f}};

feature_vis_options options(image_parametrisation p, bool transforms, double l2 = 0, double tv = 0) {
    feature_vis_options o;
    o.steps = steps;
    o.parametrisation = p;
    o.transforms = transforms;
    o.l2 = l2;
    o.tv = tv;
    o.seed = seed;
    o.batch = 16;
    return o;
}

std::vector<double> direction() { return uniforms("direction", 128, -1, 2); }

template <class T>
double max_abs_diff(const std::vector<T>& a, const std::vector<T>& b) {
    REQUIRE(a.size() == b.size());
    double d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(double(a[i]) - double(b[i])));
    return d;
}

template <class T>
void check_close(const std::vector<T>& got, const std::string& name, double tol = 1e-4) {
    REQUIRE(got.size() == fixture().at(name).numel());
    test::check_close<T>(std::span<const T>(got), fixture(), name, tol);
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

}  // namespace

TEST_CASE("the fixture's settings are the test's") {
    const auto& f = fixture();
    CHECK(test::meta_int(f, "seed") == int(seed));
    CHECK(test::meta_int(f, "formula_seed") == int(seed));
    CHECK(test::meta_int(f, "steps") == steps);
    CHECK(float(test::meta_double(f, "mean")) == pre.mean[0]);
    CHECK(float(test::meta_double(f, "std")) == pre.std[0]);
    CHECK(test::meta_double(f, "lr") == feature_vis_options{}.adam.lr);
    CHECK(f.metadata.at("vis.d.objectives") == "direction of 128 weights");
}

TEST_CASE("jitter, scale, rotation and robustness_transform's maps and adjoints match PyTorch") {
    const int C = 3, H = 10, W = 12;
    const std::size_t n = std::size_t(C) * H * W;
    const auto u = uniforms("transform.u", n);
    const auto g = uniforms("transform.g", n, -1, 2);
    check_close(u, "transform.u", 1e-7);
    check_close(g, "transform.g", 1e-7);

    affine_map jitter;
    jitter.by = -2;
    jitter.bx = 3;
    feature_vis_options o;
    o.seed = seed;
    const std::pair<const char*, affine_map> maps[] = {{"jitter", jitter},
                                                       {"scale", affine_map::of(transform_kind::scale, 1.1)},
                                                       {"rotate", affine_map::of(transform_kind::rotate, 7)},
                                                       {"step0", robustness_transform(o, H, 0)},
                                                       {"step1", robustness_transform(o, H, 1)}};
    for (const auto& [name, m] : maps) {
        CAPTURE(name);
        const std::string at = std::string("transform.") + name;
        check_close(std::vector<double>{m.yy, m.yx, m.xy, m.xx, m.by, m.bx}, at + ".map", 1e-7);
        std::vector<double> v(n), gu(n, 0.0);
        affine_sample(u.data(), v.data(), C, H, W, m, 0.5);
        affine_sample_adjoint(g.data(), gu.data(), C, H, W, m);
        check_close(v, at + ".v");
        check_close(gu, at + ".gu");
    }
    // Off: the identity.
    o.transforms = false;
    const affine_map id = robustness_transform(o, H, 3);
    CHECK((id.yy == 1 && id.xx == 1 && id.yx == 0 && id.xy == 0 && id.by == 0 && id.bx == 0));
}

TEST_CASE("the pixel and Fourier parametrisations render and backpropagate as PyTorch") {
    struct param_case {
        const char* name;
        image_parametrisation kind;
        int c, h, w;
        double decay;
    };
    const param_case cases[] = {{"fourier_3x10x12", image_parametrisation::fourier, 3, 10, 12, 1.0},
                                {"fourier_1x9x7", image_parametrisation::fourier, 1, 9, 7, 1.0},
                                {"pixel_3x10x12", image_parametrisation::pixel, 3, 10, 12, 1.0},
                                {"fourier_1x28x28_d1.5", image_parametrisation::fourier, 1, 28, 28, 1.5}};
    for (const auto& pc : cases) {
        CAPTURE(pc.name);
        const std::string at = std::string("param.") + pc.name;
        const picture_parametrisation<double> param(pc.kind, pc.c, pc.h, pc.w, true, pc.decay);
        CHECK(param.decorrelated() == (pc.c == 3));
        const std::size_t n = param.picture_size();
        CHECK(param.size() == (pc.kind == image_parametrisation::pixel ? n : std::size_t(pc.c) * pc.h * (pc.w / 2 + 1) * 2));
        std::vector<double> p(param.size()), u(n), gp(param.size());
        param.init(p.data(), counter_random::stream(seed, test::fnv1a(at)), 0.5);
        check_close(p, at + ".p", 1e-7);
        const auto grad_u = uniforms(at + ".grad", n, -1, 2);
        check_close(grad_u, at + ".grad_u", 1e-7);
        param.render(p.data(), u.data());
        param.backward(u.data(), grad_u.data(), gp.data());
        check_close(u, at + ".u");
        check_close(gp, at + ".grad_p");
    }
}

TEST_CASE("Adam takes torch.optim.Adam's steps") {
    const std::size_t n = 20;
    auto p = uniforms("adam.p0", n, -1, 2);
    const auto w = uniforms("adam.w", n, 0.5, 1), t = uniforms("adam.t", n, -1, 2);
    check_close(p, "adam.p0", 1e-7);
    check_close(w, "adam.w", 1e-7);
    check_close(t, "adam.t", 1e-7);
    adam<double> opt(n, {0.05});
    std::vector<double> trace, grad(n);
    for (int s = 0; s < 5; ++s) {
        for (std::size_t i = 0; i < n; ++i) grad[i] = 2 * w[i] * (p[i] - t[i]);
        opt.step(p.data(), grad.data());
        trace.insert(trace.end(), p.begin(), p.end());
    }
    CHECK(opt.steps() == 5);
    check_close(trace, "adam.params");
    CHECK_THROWS_WITH_AS(adam<double>(n, {0.0}), doctest::Contains("lr > 0"), error);
}

TEST_CASE("feature visualisation on ZFNet28 matches PyTorch: channels, unit, direction, class logit") {
    auto& view = double_view();
    const auto fourier = image_parametrisation::fourier, pixel = image_parametrisation::pixel;
    struct vis_case {
        const char* name;
        const char* layer;
        std::vector<objective> objectives;
        feature_vis_options o;
    };
    const vis_case cases[] = {
        {"a", "conv3", channel_objectives({0, 5, 17}), options(fourier, true, 0.1, 0.05)},
        {"b", "conv3", channel_objectives({0, 5, 17}), options(pixel, true)},
        {"c", "conv5", {objective::of_unit(3)}, options(fourier, false)},
        {"d", "conv4", {objective::along(direction())}, options(fourier, true)},
        {"e", "fc8", {objective::of_channel(2)}, options(pixel, false, 0.2)},
    };
    for (const auto& vc : cases) {
        CAPTURE(vc.name);
        const std::string at = std::string("vis.") + vc.name;
        CHECK(fixture().metadata.at(at + ".layer") == vc.layer);
        CHECK(fixture().metadata.at(at + ".parametrisation") == parametrisation_name(vc.o.parametrisation));
        const int layer = view.find(vc.layer);
        const auto r = visualise_features(view, layer, vc.objectives, pre, vc.o);
        CHECK(r.layer == layer);
        CHECK(r.steps == steps);
        CHECK(r.count() == vc.objectives.size());
        check_close(r.pictures, at + ".picture");
        check_close(r.curve, at + ".curve");
        check_close(r.values, at + ".values");
        for (const double v : r.pictures) REQUIRE((v > 0 && v < 1));
        // picture(): 0..255 pixels of the same values.
        const image img = r.picture(0);
        CHECK(img.pixels.size() == r.dims.size());
        CHECK(img.pixels[5] == doctest::Approx(r.pictures[5] * 255).epsilon(1e-6));
    }
}

TEST_CASE("a picture does not depend on the batch size") {
    auto& view = double_view();
    const int conv3 = view.find("conv3");
    auto o = options(image_parametrisation::fourier, true, 0.1, 0.05);
    o.batch = 3;
    const auto all = visualise_features(view, conv3, channel_objectives({0, 5, 17}), pre, o);
    o.batch = 1;
    const auto one = visualise_features(view, conv3, channel_objectives({0, 5, 17}), pre, o);
    const double d = max_abs_diff(all.pictures, one.pictures);
    INFO("batch 3 against batch 1: largest difference " << d);
    CHECK(d <= 1e-10);
    CHECK(max_abs_diff(all.curve, one.curve) <= 1e-10);
    CHECK(max_abs_diff(all.values, one.values) <= 1e-10);
    // A batch of 2 splits the three into 2 + 1.
    o.batch = 2;
    CHECK(max_abs_diff(all.pictures, visualise_features(view, conv3, channel_objectives({0, 5, 17}), pre, o).pictures) <= 1e-10);
}

TEST_CASE("a run is deterministic, and another seed gives another picture") {
    auto& view = double_view();
    const int conv4 = view.find("conv4");
    const std::vector<objective> obs = {objective::along(direction()), objective::of_channel(9)};
    auto o = options(image_parametrisation::fourier, true);
    const auto a = visualise_features(view, conv4, obs, pre, o);
    const auto b = visualise_features(view, conv4, obs, pre, o);
    CHECK(a.pictures == b.pictures);  // bit for bit
    CHECK(a.curve == b.curve);
    CHECK(a.values == b.values);
    o.seed = seed + 1;
    const auto c = visualise_features(view, conv4, obs, pre, o);
    const double d = max_abs_diff(a.pictures, c.pictures);
    INFO("seed 20 against 21: largest difference " << d);
    CHECK(d > 1e-3);
}

TEST_CASE("a channel visualised alone equals the same channel within every_channel, and own_channel_response") {
    auto& view = double_view();
    const int fc8 = view.find("fc8");
    const auto o = options(image_parametrisation::fourier, true, 0.1, 0.05);
    const auto every = visualise_features(view, fc8, every_channel(10), pre, o);
    REQUIRE(every.count() == 10);
    for (const int c : {0, 7}) {
        CAPTURE(c);
        const auto alone = visualise_features(view, fc8, {objective::of_channel(c)}, pre, o);
        const std::size_t S = alone.dims.size();
        const std::vector<double> mine(every.pictures.begin() + std::ptrdiff_t(c * S),
                                       every.pictures.begin() + std::ptrdiff_t((c + 1) * S));
        const double d = max_abs_diff(alone.pictures, mine);
        INFO("largest difference " << d);
        CHECK(d <= 1e-10);
        CHECK(std::abs(alone.values[0] - every.values[std::size_t(c)]) <= 1e-10);
    }
    // The class pictures differ from one another.
    const std::size_t S = every.dims.size();
    CHECK(!std::equal(every.pictures.begin(), every.pictures.begin() + std::ptrdiff_t(S), every.pictures.begin() + std::ptrdiff_t(S)));

    // own_channel_response: picture j's own channel is its final value, whatever the batch.
    const auto own = own_channel_response(view, every, pre, 4);
    CHECK(own.channels == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    REQUIRE(own.response.size() == 100);
    int wins = 0;
    for (std::size_t j = 0; j < 10; ++j) {
        CHECK(std::abs(own.response[j * 10 + j] - every.values[j]) <= 1e-10);
        bool best = true;
        for (std::size_t i = 0; i < 10; ++i)
            if (i != j && !(own.response[j * 10 + j] > own.response[i * 10 + j])) best = false;
        CHECK(own.own_best[j] == best);
        wins += best;
    }
    CHECK(own.fraction == doctest::Approx(wins / 10.0));
    // Off the diagonal, by hand: response[i·N + j] is logit j of picture i (a transposed matrix fails).
    for (const auto [i, j] : {std::pair{2, 5}, std::pair{7, 0}}) {
        CAPTURE(i);
        CAPTURE(j);
        std::vector<double> x(every.pictures.begin() + std::ptrdiff_t(i * S), every.pictures.begin() + std::ptrdiff_t((i + 1) * S));
        for (double& v : x) v = (v - double(pre.mean[0])) / double(pre.std[0]);
        view.forward(x.data(), 1);
        const double logit = view.output(fc8)[j];
        CHECK(std::abs(own.response[std::size_t(i) * 10 + std::size_t(j)] - logit) <= 1e-6 * (1 + std::abs(logit)));
        CHECK(std::abs(own.response[std::size_t(j) * 10 + std::size_t(i)] - logit) > 1e-9);  // not symmetric by accident
    }
    CHECK_THROWS_WITH_AS(own_channel_response(view, every, pre, 0), doctest::Contains("batch must be ≥ 1"), error);
    feature_vis_result<double> along = every;
    along.objectives = {objective::along(std::vector<double>(10, 1.0))};
    CHECK_THROWS_WITH_AS(own_channel_response(view, along, pre), doctest::Contains("every objective must be a channel"), error);
}

TEST_CASE("affine_sample_adjoint is the adjoint of affine_sample (fill 0)") {
    feature_vis_options o;
    o.seed = 99;
    o.jitter = 3;
    affine_map general;
    general.yy = 0.8, general.yx = 0.35, general.xy = -0.2, general.xx = 1.3, general.by = 1.7, general.bx = -2.4;
    std::vector<affine_map> maps = {affine_map::of(transform_kind::rotate, 33), affine_map::of(transform_kind::scale, 0.7),
                                    affine_map::of(transform_kind::scale, 1.6), affine_map::of(transform_kind::translate, 2.5),
                                    affine_map::of(transform_kind::rotate, 180), general, {}};
    for (int t = 0; t < 6; ++t) maps.push_back(robustness_transform(o, 13, t));
    const int sizes[][3] = {{3, 10, 12}, {2, 13, 9}};
    for (const auto& sz : sizes) {
        const int C = sz[0], H = sz[1], W = sz[2];
        const std::size_t n = std::size_t(C) * H * W;
        const auto u = uniforms("adjoint.u." + std::to_string(H), n, -1, 2), g = uniforms("adjoint.g." + std::to_string(H), n, -1, 2);
        for (std::size_t k = 0; k < maps.size(); ++k) {
            CAPTURE(k);
            CAPTURE(H);
            std::vector<double> v(n), gu(n, 0.0);
            affine_sample(u.data(), v.data(), C, H, W, maps[k], 0.0);
            affine_sample_adjoint(g.data(), gu.data(), C, H, W, maps[k]);
            const double lhs = dot(v, g), rhs = dot(u, gu);
            INFO("<A u, g> = " << lhs << ", <u, A^T g> = " << rhs);
            CHECK(std::abs(lhs - rhs) <= 1e-12 * std::max(1.0, std::abs(lhs)));
        }
    }
    // The adjoint adds to what grad_src holds.
    const std::size_t n = 3 * 10 * 12;
    const auto g = uniforms("adjoint.g.10", n, -1, 2);
    std::vector<double> once(n, 0.0), twice(n, 0.0);
    affine_sample_adjoint(g.data(), once.data(), 3, 10, 12, maps[0]);
    affine_sample_adjoint(g.data(), twice.data(), 3, 10, 12, maps[0]);
    affine_sample_adjoint(g.data(), twice.data(), 3, 10, 12, maps[0]);
    for (std::size_t i = 0; i < n; ++i) REQUIRE(twice[i] == doctest::Approx(2 * once[i]).epsilon(1e-14));
}

TEST_CASE("the parametrisations' backward matches central finite differences (double)") {
    struct fd_case {
        image_parametrisation kind;
        int c, h, w;
        bool decorrelate;
        double decay;
    };
    const fd_case cases[] = {{image_parametrisation::fourier, 3, 6, 5, true, 1.0},
                             {image_parametrisation::fourier, 1, 7, 8, false, 1.5},
                             {image_parametrisation::fourier, 2, 4, 4, true, 0.0},
                             {image_parametrisation::pixel, 3, 4, 5, true, 1.0}};
    for (const auto& fc : cases) {
        CAPTURE(fc.c);
        CAPTURE(fc.h);
        CAPTURE(fc.w);
        const picture_parametrisation<double> param(fc.kind, fc.c, fc.h, fc.w, fc.decorrelate, fc.decay);
        const std::size_t n = param.picture_size(), P = param.size();
        std::vector<double> p(P), u(n), grad(P);
        param.init(p.data(), counter_random::stream(seed, test::fnv1a("fd.p") + P), 0.5);
        const auto w = uniforms("fd.w." + std::to_string(P), n, -1, 2);  // loss = Σ w·u
        param.render(p.data(), u.data());
        param.backward(u.data(), w.data(), grad.data());
        const double h = 1e-5;
        std::vector<double> fd(P), q = p;
        for (std::size_t i = 0; i < P; ++i) {
            q[i] = p[i] + h;
            param.render(q.data(), u.data());
            const double up = dot(w, u);
            q[i] = p[i] - h;
            param.render(q.data(), u.data());
            const double down = dot(w, u);
            q[i] = p[i];
            fd[i] = (up - down) / (2 * h);
        }
        const double err = test::relative_error<double, double>(grad, fd);
        INFO("relative error against finite differences " << err);
        CHECK(err <= 1e-8);
    }
}

TEST_CASE("feature visualisation's errors name the problem") {
    auto& view = double_view();
    const int conv3 = view.find("conv3"), conv4 = view.find("conv4");
    auto o = options(image_parametrisation::fourier, true);
    o.steps = 1;
    CHECK_THROWS_WITH_AS(visualise_features(view, conv3, {objective::of_channel(128)}, pre, o),
                         doctest::Contains("layer conv3 (128 channels, 7×7): channel 128 is outside 0..127"), error);
    CHECK_THROWS_WITH_AS(visualise_features(view, conv3, {objective::of_channel(-1)}, pre, o),
                         doctest::Contains("channel -1 is outside 0..127"), error);
    CHECK_THROWS_WITH_AS(visualise_features(view, conv4, {objective::along(std::vector<double>(5, 1.0))}, pre, o),
                         doctest::Contains("a direction of 5 weights; expected 128"), error);
    CHECK_THROWS_WITH_AS(visualise_features(view, conv3, {objective::of_unit(0, 7, 0)}, pre, o),
                         doctest::Contains("unit position (7, 0) is outside the map"), error);
    CHECK_THROWS_WITH_AS(visualise_features(view, conv3, {}, pre, o), doctest::Contains("no objective given for layer conv3"), error);
    CHECK_THROWS_WITH_AS(visualise_features(view, 99, {objective::of_channel(0)}, pre, o),
                         doctest::Contains("layer 99 is outside 0..22"), error);
    CHECK_THROWS_WITH_AS(visualise_features(view, -1, {objective::of_channel(0)}, pre, o),
                         doctest::Contains("layer -1 is outside 0..22"), error);
    auto bad = o;
    bad.steps = -1;
    CHECK_THROWS_WITH_AS(visualise_features(view, conv3, {objective::of_channel(0)}, pre, bad),
                         doctest::Contains("steps must be ≥ 0, got -1"), error);
    bad = o;
    bad.batch = 0;
    CHECK_THROWS_WITH_AS(visualise_features(view, conv3, {objective::of_channel(0)}, pre, bad),
                         doctest::Contains("batch must be ≥ 1, got 0"), error);
    bad = o;
    bad.scale_min = 1.2;
    CHECK_THROWS_WITH_AS(visualise_features(view, conv3, {objective::of_channel(0)}, pre, bad),
                         doctest::Contains("scale range"), error);
    bad = o;
    bad.rotate = 200;
    CHECK_THROWS_WITH_AS(visualise_features(view, conv3, {objective::of_channel(0)}, pre, bad),
                         doctest::Contains("rotate must be in 0..180"), error);
    bad = o;
    bad.tv = INFINITY;
    CHECK_THROWS_WITH_AS(visualise_features(view, conv3, {objective::of_channel(0)}, pre, bad),
                         doctest::Contains("l2 and tv weights must be finite"), error);
    bad = o;
    bad.adam.lr = INFINITY;
    CHECK_THROWS_WITH_AS(visualise_features(view, conv3, {objective::of_channel(0)}, pre, bad),
                         doctest::Contains("finite lr > 0"), error);
    bad = o;
    bad.jitter = 2'000'000'000;  // no overflow: every shift is simply far off the picture
    CHECK_NOTHROW(robustness_transform(bad, 28, 0));
    CHECK(std::isfinite(robustness_transform(bad, 28, 0).by));
    CHECK(objective::of_unit(3).describe() == "unit 3 at (centre)");
    CHECK(objective::of_unit(3, -1, 4).describe() == "unit 3 at (centre, 4)");
    CHECK(objective::of_unit(3, 2, -1).describe() == "unit 3 at (2, centre)");
    const preprocess two_means{{0.5f, 0.5f}, {}};
    CHECK_THROWS_WITH_AS(visualise_features(view, conv3, {objective::of_channel(0)}, two_means, o),
                         doctest::Contains("mean has 2 values; expected 1 or 784"), error);
    CHECK_THROWS_WITH_AS(parse_parametrisation("wavelet"), doctest::Contains("expected pixel or fourier"), error);
    CHECK(parse_parametrisation("pixel") == image_parametrisation::pixel);
    CHECK_THROWS_WITH_AS(picture_parametrisation<double>(image_parametrisation::fourier, 1, 8, 8, true, -1),
                         doctest::Contains("decay power must be ≥ 0"), error);
    // Steps 0: the initial pictures, no curve.
    bad = o;
    bad.steps = 0;
    const auto r = visualise_features(view, conv3, {objective::of_channel(0)}, pre, bad);
    CHECK(r.curve.empty());
    CHECK(r.pictures.size() == r.dims.size());
}

TEST_CASE("a float session gives the double model's pictures within 1e-3") {
    auto s = make_session<ZFNet28<dynamic>>(10);
    for (auto& p : s->parameter_list()) {
        const std::uint64_t st = counter_random::stream(seed, test::fnv1a(p.name));
        std::int64_t fan_in = 1;
        for (std::size_t d = 1; d < p.shape.size(); ++d) fan_in *= p.shape[d];
        for (std::size_t i = 0; i < p.values.size(); ++i)
            p.values[i] = test::formula_value(seed, p.name, p.shape.size(), int(fan_in), i, st);
    }
    auto& view = double_view();
    REQUIRE(s->layers().size() == view.layers().size());
    const auto o = options(image_parametrisation::pixel, false);
    for (const char* layer : {"conv3", "fc8"}) {
        CAPTURE(layer);
        const auto objectives = std::string(layer) == "fc8" ? channel_objectives({2, 6}) : channel_objectives({0, 5, 17});
        const auto f = visualise_features(*s, s->find(layer), objectives, pre, o);
        const auto d = visualise_features(view, view.find(layer), objectives, pre, o);
        const double err = test::relative_error<float, double>(f.pictures, d.pictures);
        INFO("float session against double model: relative error " << err);
        CHECK(err <= 1e-3);
        CHECK(test::relative_error<double, double>(f.values, d.values) <= 1e-3);
    }
}
