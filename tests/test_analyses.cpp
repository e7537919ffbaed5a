// The invariance (Fig. 5) and correspondence (Table 1) analyses, their image transforms and the
// default-layer choices: against PyTorch (tests/golden/make_analysis_fixtures.py writes
// analyses.safetensors), plus hand-computed cases and the error messages.
#include "support.hpp"
#include "tiny_zfnet.hpp"

#include <convis/analysis/correspondence.hpp>
#include <convis/analysis/invariance.hpp>
#include <convis/analysis/layer_choice.hpp>
#include <convis/analysis/transforms.hpp>
#include <convis/models/zfnet.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <sstream>

using namespace convis;

namespace {

// The fixture's network, under the same layer names as its PyTorch twin.
using Tiny = Sequential<Input<1, 16, 16>,
    Named<"conv1", Conv2d<1, 4, 3, 1, 1>>, Named<"relu1", ReLU>, Named<"pool1", MaxPool2d<2>>,
    Named<"conv2", Conv2d<4, 6, 3, 1, 1>>, Named<"relu2", ReLU>, Named<"pool2", MaxPool2d<2>>,
    Named<"flatten", Flatten>,
    Named<"fc6", Linear<96, 24>>, Named<"relu6", ReLU>,
    Named<"fc7", Linear<24, 16>>, Named<"relu7", ReLU>,
    Named<"fc8", Linear<16, 3>>>;

constexpr double tol = 1e-5;
double worst = 0;  // the largest relative error of any golden comparison, reported at the end

const safetensors_file& fixture() {
    static const safetensors_file f = test::fixture("analyses");
    return f;
}

struct loaded {
    Model<Tiny> model;
    std::vector<float> x = test::values<float>(fixture(), "x");
    std::vector<int> labels;
    loaded() {
        test::load_params(model, fixture(), [](const std::string& n) { return n; });
        for (std::int64_t l : test::int64s(fixture(), "labels")) labels.push_back(int(l));
    }
    int n() const { return int(x.size() / Tiny::input_shape::size); }
};

template <class V>
std::vector<V> meta_list(const std::string& key) {
    std::istringstream in(fixture().metadata.at(key));
    std::vector<V> out;
    V v;
    while (in >> v) out.push_back(v);
    return out;
}

/// Relative error (support.hpp's measure) of `got` against fixture tensor `name`, checked <= tol.
void golden(const std::vector<double>& got, const std::string& name) {
    const std::vector<float> want = test::values<float>(fixture(), name);
    const double err = test::relative_error<double, float>(got, want);
    worst = std::max(worst, err);
    INFO("tensor '" << name << "' relative error " << err);
    CHECK(err <= tol);
}

/// The message of the convis::error `f` throws ("" if it throws none).
std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const error& e) {
        return e.what();
    }
    return "";
}
#define CHECK_ERROR(expr, part)                                     \
    do {                                                            \
        const std::string msg_ = message_of([&] { (void)(expr); }); \
        INFO("message: " << msg_);                                  \
        CHECK(msg_.find(part) != std::string::npos);                \
    } while (0)

template <class Net>
std::string name_of(int i) { return Net::layer_table()[std::size_t(i)].name; }

}  // namespace

// ---- transforms ---------------------------------------------------------------------------------

TEST_CASE("transforms match PyTorch's affine_grid + grid_sample") {
    const auto src = test::values<float>(fixture(), "tf.x");  // 2 × 12 × 16: not square
    const float fill = float(std::stod(fixture().metadata.at("tf.fill")));
    for (const char* name : {"translate", "scale", "rotate"}) {
        CAPTURE(name);
        const auto values = meta_list<double>(std::string("tf.") + name + ".values");
        std::vector<double> got;
        std::vector<float> one(src.size());
        for (double v : values) {
            transform_image(src.data(), one.data(), 2, 12, 16, parse_transform(name), v, fill);
            got.insert(got.end(), one.begin(), one.end());
        }
        golden(got, std::string("tf.") + name);
    }
}

TEST_CASE("transforms by hand: direction, fill, identity") {
    // 1 × 3 × 2: rows (1, 2), (3, 4), (5, 6)
    const std::vector<float> img{1, 2, 3, 4, 5, 6};
    std::vector<float> out(6);
    transform_image(img.data(), out.data(), 1, 3, 2, transform_kind::translate, 1.0, -9.f);
    CHECK(out == std::vector<float>{-9, -9, 1, 2, 3, 4});  // content moves down, the top row is fill
    transform_image(img.data(), out.data(), 1, 3, 2, transform_kind::translate, -0.5, 0.f);
    CHECK(out == std::vector<float>{2, 3, 4, 5, 2.5f, 3});  // halfway up; the bottom blends with fill 0

    // 90° turns the content counter-clockwise on screen: [[a, b], [c, d]] → [[b, d], [a, c]]
    const std::vector<float> sq{1, 2, 3, 4};
    std::vector<float> r(4);
    transform_image(sq.data(), r.data(), 1, 2, 2, transform_kind::rotate, 90.0, 0.f);
    const std::vector<float> want{2, 4, 1, 3};
    for (int i = 0; i < 4; ++i) CHECK(r[std::size_t(i)] == doctest::Approx(want[std::size_t(i)]).epsilon(1e-6));

    // scale 2 about the centre of a 1 × 1 × 4 row: x' = 1.5 + (x − 1.5)/2
    const std::vector<float> row{0, 4, 8, 12};
    std::vector<float> z(4);
    transform_image(row.data(), z.data(), 1, 1, 4, transform_kind::scale, 2.0, 0.f);
    const std::vector<float> zoomed{3, 5, 7, 9};
    CHECK(z == zoomed);

    // identities copy bit for bit
    const auto src = test::values<float>(fixture(), "tf.x");
    std::vector<float> same(src.size());
    for (auto [kind, v] : {std::pair{transform_kind::translate, 0.0}, {transform_kind::scale, 1.0},
                           {transform_kind::rotate, 0.0}}) {
        transform_image(src.data(), same.data(), 2, 12, 16, kind, v, 7.f);
        CHECK(same == src);
    }
    CHECK_ERROR(transform_image(src.data(), same.data(), 2, 12, 16, transform_kind::scale, 0.0, 0.f),
                "a scale factor must be positive, got 0");
}

TEST_CASE("transform names and the paper's default ranges") {
    for (auto k : {transform_kind::translate, transform_kind::scale, transform_kind::rotate})
        CHECK(parse_transform(transform_name(k)) == k);
    CHECK_ERROR(parse_transform("shear"), "unknown transform 'shear'; the transforms are translate, scale, rotate");

    const auto t224 = default_transform_values(transform_kind::translate, 224);
    REQUIRE(t224.size() == 13);
    CHECK(t224.front() == -60.0);
    CHECK(t224[6] == 0.0);
    CHECK(t224.back() == 60.0);
    const auto t16 = default_transform_values(transform_kind::translate, 16);
    CHECK(t16[6] == 0.0);
    CHECK(t16.back() == doctest::Approx(60.0 * 16 / 224));
    const auto s = default_transform_values(transform_kind::scale, 16);
    REQUIRE(s.size() == 9);
    CHECK(s.front() == 1.0);
    CHECK(s.back() == doctest::Approx(1.8));
    const auto rot = default_transform_values(transform_kind::rotate, 16);
    REQUIRE(rot.size() == 36);
    CHECK(rot.back() == 350.0);
    for (const char* k : {"translate", "scale", "rotate"})  // the values the fixture used, exactly
        CHECK(default_transform_values(parse_transform(k), 16) == meta_list<double>(std::string("inv.") + k + ".values"));
}

// ---- layer choice ------------------------------------------------------------------------------

TEST_CASE("default layers: the paper's layers 1, 5 and 7") {
    const auto zf = ZFNet<>::layer_table();
    CHECK(zf[std::size_t(first_conv_block_layer(zf))].name == "norm1");
    CHECK(zf[std::size_t(last_conv_block_layer(zf))].name == "relu5");
    CHECK(zf[std::size_t(last_pool_layer(zf))].name == "pool5");
    CHECK(zf[std::size_t(penultimate_fc_layer(zf))].name == "relu7");
    CHECK_FALSE(ends_in_softmax(zf));

    const auto z28 = ZFNet28<>::layer_table();
    CHECK(z28[std::size_t(first_conv_block_layer(z28))].name == "norm1");
    CHECK(z28[std::size_t(penultimate_fc_layer(z28))].name == "relu7");
    const auto tz = test::TinyZFNet::layer_table();
    CHECK(tz[std::size_t(last_conv_block_layer(tz))].name == "relu5");
    const auto pt = ZFNetPyTorch<>::layer_table();  // no LRN: conv1's block ends with its pool
    CHECK(pt[std::size_t(first_conv_block_layer(pt))].name == "features.2");
    CHECK(pt[std::size_t(last_conv_block_layer(pt))].name == "features.11");
    CHECK(pt[std::size_t(last_pool_layer(pt))].name == "features.12");
    CHECK(pt[std::size_t(penultimate_fc_layer(pt))].name == "classifier.5");

    const auto tiny = Tiny::layer_table();
    CHECK(first_conv_block_layer(tiny) == Tiny::find("pool1"));
    CHECK(last_conv_block_layer(tiny) == Tiny::find("relu2"));
    CHECK(last_pool_layer(tiny) == Tiny::find("pool2"));
    CHECK(penultimate_fc_layer(tiny) == Tiny::find("relu7"));

    // One convolution: its block runs up to the first Flatten. No ReLU after the last conv or the
    // penultimate Linear: the layer itself.
    using OneConv = Sequential<Input<1, 8, 8>, Conv2d<1, 2, 3>, ReLU, MaxPool2d<2>, Flatten, Linear<18, 5>,
                               Linear<5, 3>, Softmax>;
    const auto one = OneConv::layer_table();
    CHECK(first_conv_block_layer(one) == 2);
    CHECK(last_conv_block_layer(one) == 1);
    CHECK(penultimate_fc_layer(one) == 4);
    CHECK(ends_in_softmax(one));
    using Bare = Sequential<Input<1, 8, 8>, Conv2d<1, 2, 3>, Flatten, Linear<72, 3>>;
    const auto bare = Bare::layer_table();
    CHECK(last_conv_block_layer(bare) == 0);
    CHECK_ERROR(penultimate_fc_layer(bare), "penultimate_fc_layer: the network has 1 Linear layer, it needs at least two; its layers are 0, 1, 2");
    CHECK_ERROR(last_pool_layer(bare), "last_pool_layer: the network has no MaxPool2d layer");
    using NoConv = Sequential<Input<1, 4, 4>, Flatten, Linear<16, 3>>;
    CHECK_ERROR(first_conv_block_layer(NoConv::layer_table()), "first_conv_block_layer: the network has no Conv2d layer");
    CHECK_ERROR(last_conv_block_layer(NoConv::layer_table()), "last_conv_block_layer: the network has no Conv2d layer");
}

TEST_CASE("layer_index agrees with Net::find and lists the names when it fails") {
    const auto tiny = Tiny::layer_table();
    for (int i = 0; i < Tiny::size; ++i) CHECK(layer_index(tiny, Tiny::name(i)) == Tiny::find(Tiny::name(i)));
    CHECK_ERROR(layer_index(tiny, "relu9"), "no layer named 'relu9'; the layers are conv1, relu1, pool1, conv2");
    CHECK(message_of([&] { layer_index(tiny, "relu9"); }) == message_of([] { Tiny::find("relu9"); }));
}

TEST_CASE("class probabilities: a stable softmax, or a copy after a Softmax layer") {
    const std::vector<float> logits{1000, 1001, -5, -5};
    std::vector<float> p(4);
    class_probabilities(logits.data(), 2, 2, false, p.data());
    const double e = std::exp(1.0);
    CHECK(p[0] == doctest::Approx(1 / (1 + e)));
    CHECK(p[1] == doctest::Approx(e / (1 + e)));
    CHECK(p[2] == 0.5f);
    CHECK(p[3] == 0.5f);
    class_probabilities(logits.data(), 2, 2, true, p.data());
    CHECK(p == logits);
}

// ---- invariance --------------------------------------------------------------------------------

namespace {
void check_invariance(const invariance_result& r, const std::string& c) {
    CHECK(r.values == meta_list<double>("inv." + c + ".values"));
    CHECK(r.layers == meta_list<int>("inv." + c + ".layers"));
    std::vector<double> dist, prob;
    for (const auto& layer : r.distance)
        for (const auto& image : layer) dist.insert(dist.end(), image.begin(), image.end());
    for (const auto& image : r.probability) prob.insert(prob.end(), image.begin(), image.end());
    golden(dist, "inv." + c + ".distance");
    golden(prob, "inv." + c + ".probability");
    std::vector<std::int64_t> pred;
    for (const auto& image : r.predicted) pred.insert(pred.end(), image.begin(), image.end());
    CHECK(pred == test::int64s(fixture(), "inv." + c + ".predicted"));
}
}  // namespace

TEST_CASE("invariance matches PyTorch with the paper's defaults") {
    loaded t;
    for (const char* kind : {"translate", "scale", "rotate"}) {
        CAPTURE(kind);
        t.model.train();
        invariance_options o;
        o.kind = parse_transform(kind);
        const auto r = invariance(t.model, t.x.data(), t.n(), t.labels, o);
        CHECK_FALSE(t.model.training());
        check_invariance(r, kind);
        for (std::size_t l = 0; l < r.layers.size(); ++l)  // translate 0 / scale 1 / rotate 0 leave the features
            for (const auto& image : r.distance[l]) CHECK(image[kind == std::string("translate") ? 6 : 0] < 1e-4);
    }
}

TEST_CASE("invariance with chosen values, layers, fill and a batch that splits images") {
    loaded t;
    invariance_options o;
    o.kind = parse_transform(fixture().metadata.at("inv.custom.kind"));
    o.values = meta_list<double>("inv.custom.values");
    o.layers = meta_list<int>("inv.custom.layers");
    o.fill = float(std::stod(fixture().metadata.at("inv.custom.fill")));
    o.batch = 3;
    check_invariance(invariance(t.model, t.x.data(), t.n(), t.labels, o), "custom");
}

TEST_CASE("invariance errors name what was expected") {
    loaded t;
    const float* x = t.x.data();
    CHECK_ERROR(invariance(t.model, x, 4, std::vector<int>{0, 1}), "expected one label per image (4), got 2");
    CHECK_ERROR(invariance(t.model, x, 4, std::vector<int>{0, 3, 1, 1}),
                "label 3 of image 1 is outside the network's classes 0..2");
    invariance_options o;
    o.layers = {2, 12};
    CHECK_ERROR(invariance(t.model, x, 4, t.labels, o), "layer 12 is outside 0..11");
    o = {};
    o.kind = transform_kind::scale;
    o.values = {1.0, -2.0};
    CHECK_ERROR(invariance(t.model, x, 4, t.labels, o), "scale value -2.000000 is not a positive factor");
    o = {};
    o.batch = 0;
    CHECK_ERROR(invariance(t.model, x, 4, t.labels, o), "batch must be at least 1, got 0");
    CHECK_ERROR(invariance(t.model, x, 0, std::vector<int>{}), "expected at least one image, got 0");
}

// ---- correspondence ------------------------------------------------------------------------------

TEST_CASE("sign changes by hand: sign(0) = 0, population std over pairs") {
    const std::vector<double> a{1, 0, -1}, b{1, -2, 0};
    CHECK(sign_change_fraction(a.data(), b.data(), 3) == doctest::Approx(2.0 / 3));
    CHECK(sign_change_fraction(a.data(), a.data(), 3) == 0.0);
    const std::vector<float> z{0, 0}, tiny{0, 1e-30f}, neg{-1, -1}, pos{2, 3};
    CHECK(sign_change_fraction(z.data(), z.data(), 2) == 0.0);
    CHECK(sign_change_fraction(z.data(), tiny.data(), 2) == 0.5);
    CHECK(sign_change_fraction(neg.data(), pos.data(), 2) == 1.0);
    CHECK_ERROR(sign_change_fraction(a.data(), b.data(), 0), "no dimensions");

    // pairs (0,1) 2/4, (0,2) 3/4, (1,2) 2/4: mean 7/12, population std sqrt(1/72) (sample std would be sqrt(1/48))
    const auto s = pair_statistics({{1, 1, 1, 1}, {1, 1, -1, -1}, {-1, 1, -1, 0}});
    REQUIRE(s.pairs.size() == 3);
    CHECK(s.pairs[0] == 0.5);
    CHECK(s.pairs[1] == 0.75);
    CHECK(s.pairs[2] == 0.5);
    CHECK(s.mean == doctest::Approx(7.0 / 12));
    CHECK(s.std == doctest::Approx(std::sqrt(1.0 / 72)));
    CHECK_ERROR(pair_statistics({{1, 2}}), "expected at least two ε vectors, got 1");
    CHECK_ERROR(pair_statistics({{1, 2}, {1, 2, 3}}), "ε vector 1 has 3 dimensions, vector 0 has 2");
}

TEST_CASE("parse_boxes reads y,x,h,w lists and names a bad item") {
    const auto b = parse_boxes(" 1, 2,3 ,4; 5,6,7,8");
    REQUIRE(b.size() == 2);
    CHECK(b[0] == box{1, 2, 3, 4});
    CHECK(b[1] == box{5, 6, 7, 8});
    CHECK_ERROR(parse_boxes(""), "parse_boxes: no box given");
    CHECK_ERROR(parse_boxes("1,2,3"), "box 0 '1,2,3' is not y,x,height,width (four integers)");
    CHECK_ERROR(parse_boxes("1,2,3,4;5,6,x,8"), "box 1 '5,6,x,8' is not y,x,height,width");
    CHECK_ERROR(parse_boxes("1,2,3,4,5"), "box 0 '1,2,3,4,5' is not");
    CHECK_ERROR(parse_boxes("1,2,3,4;"), "box 1 '' is not");
    CHECK_ERROR(parse_boxes("1,2,0,4"), "box 0 '1,2,0,4' needs y, x >= 0 and height, width >= 1");
}

TEST_CASE("fill_box masks every channel inside the box only") {
    std::vector<float> img(2 * 3 * 4, 1.f);  // 2 × 3 × 4
    fill_box(img.data(), 2, 3, 4, box{1, 2, 2, 1}, 0.0);
    for (int c = 0; c < 2; ++c)
        for (int y = 0; y < 3; ++y)
            for (int x = 0; x < 4; ++x) {
                INFO("c " << c << " y " << y << " x " << x);
                CHECK(img[std::size_t((c * 3 + y) * 4 + x)] == ((y >= 1 && x == 2) ? 0.f : 1.f));
            }
    CHECK_ERROR(fill_box(img.data(), 2, 3, 4, box{2, 0, 2, 1}, 0.f),
                "fill_box: the box (y 2, x 0, height 2, width 1) is not inside the 3×4 image");
}

namespace {
void check_correspondence(const correspondence_result& r, const std::string& c) {
    const auto layers = meta_list<int>("corr." + c + ".layers");
    REQUIRE(r.layers.size() == layers.size());
    std::vector<double> pairs, mean, stdev;
    for (std::size_t l = 0; l < layers.size(); ++l) {
        CHECK(r.layers[l].layer == layers[l]);
        CHECK(r.layers[l].name == Tiny::name(layers[l]));
        pairs.insert(pairs.end(), r.layers[l].part.pairs.begin(), r.layers[l].part.pairs.end());
        mean.push_back(r.layers[l].part.mean);
        stdev.push_back(r.layers[l].part.std);
    }
    golden(pairs, "corr." + c + ".pairs");
    golden(mean, "corr." + c + ".mean");
    golden(stdev, "corr." + c + ".std");
}
}  // namespace

TEST_CASE("correspondence matches PyTorch") {
    loaded t;
    SUBCASE("default layers (pool2, relu7), fill 0") {
        correspondence_options o;
        o.random = 0;
        const auto r = correspondence(t.model, t.x.data(), t.n(), parse_boxes(fixture().metadata.at("corr.a.boxes")), o);
        check_correspondence(r, "a");
        CHECK(r.layers[0].name == "pool2");
        CHECK(r.layers[1].name == "relu7");
        CHECK(r.layers[0].random.pairs.empty());
    }
    SUBCASE("chosen layers and fill, batches of 3") {
        correspondence_options o;
        o.layers = meta_list<int>("corr.b.layers");
        o.fill = float(std::stod(fixture().metadata.at("corr.b.fill")));
        o.random = 2;
        o.batch = 3;
        check_correspondence(correspondence(t.model, t.x.data(), t.n(), parse_boxes(fixture().metadata.at("corr.b.boxes")), o),
                             "b");
    }
}

TEST_CASE("the random baseline: seeded, inside the image, part-sized, pooled over draws") {
    loaded t;
    const auto parts = parse_boxes(fixture().metadata.at("corr.a.boxes"));
    correspondence_options o;
    o.random = 5;
    const auto r1 = correspondence(t.model, t.x.data(), t.n(), parts, o);
    const auto r2 = correspondence(t.model, t.x.data(), t.n(), parts, o);
    o.seed = 2;
    const auto r3 = correspondence(t.model, t.x.data(), t.n(), parts, o);

    REQUIRE(r1.random_boxes.size() == 5);
    CHECK(r1.random_boxes == r2.random_boxes);
    CHECK(r1.random_boxes != r3.random_boxes);
    for (std::size_t l = 0; l < r1.layers.size(); ++l) {
        CHECK(r1.layers[l].random.pairs.size() == 5 * 6);
        CHECK(r1.layers[l].random.pairs == r2.layers[l].random.pairs);
        CHECK(r1.layers[l].random.mean == r2.layers[l].random.mean);
        CHECK(r1.layers[l].random.pairs != r3.layers[l].random.pairs);
        CHECK(r1.layers[l].part.pairs == r3.layers[l].part.pairs);  // the seed moves only the baseline
    }
    for (const auto& draw : r1.random_boxes) {
        REQUIRE(draw.size() == parts.size());
        for (std::size_t i = 0; i < draw.size(); ++i) {
            CHECK(draw[i].height == parts[i].height);
            CHECK(draw[i].width == parts[i].width);
        }
    }

    // Each draw is a part analysis of its own boxes; the baseline pools their pairs.
    correspondence_options single;
    single.random = 0;
    std::vector<std::vector<double>> pooled(r1.layers.size());
    for (const auto& draw : r1.random_boxes) {
        const auto d = correspondence(t.model, t.x.data(), t.n(), draw, single);
        for (std::size_t l = 0; l < d.layers.size(); ++l)
            pooled[l].insert(pooled[l].end(), d.layers[l].part.pairs.begin(), d.layers[l].part.pairs.end());
    }
    for (std::size_t l = 0; l < r1.layers.size(); ++l) {
        CHECK(pooled[l] == r1.layers[l].random.pairs);
        double m = 0, v = 0;
        for (double p : pooled[l]) m += p / double(pooled[l].size());
        for (double p : pooled[l]) v += (p - m) * (p - m) / double(pooled[l].size());
        CHECK(r1.layers[l].random.mean == doctest::Approx(m).epsilon(1e-12));
        CHECK(r1.layers[l].random.std == doctest::Approx(std::sqrt(v)).epsilon(1e-12));
    }

    // Placement: every position inside, the extremes reached.
    const auto many = random_boxes({{0, 0, 5, 3}}, 16, 16, 2000, 7);
    int min_y = 99, max_y = -1, min_x = 99, max_x = -1;
    for (const auto& draw : many) {
        const box& b = draw[0];
        CHECK((b.y >= 0 && b.x >= 0 && b.y + b.height <= 16 && b.x + b.width <= 16));
        min_y = std::min(min_y, b.y), max_y = std::max(max_y, b.y);
        min_x = std::min(min_x, b.x), max_x = std::max(max_x, b.x);
    }
    CHECK(min_y == 0);
    CHECK(max_y == 11);
    CHECK(min_x == 0);
    CHECK(max_x == 13);
    CHECK(random_boxes({{0, 0, 5, 3}}, 16, 16, 3, 7) == random_boxes({{0, 0, 5, 3}}, 16, 16, 3, 7));
    CHECK_ERROR(random_boxes({{0, 0, 17, 3}}, 16, 16, 1, 1), "box 0 (y 0, x 0, height 17, width 3) does not fit in the 16×16 image");
}

TEST_CASE("correspondence errors name the box, image count or layer") {
    loaded t;
    const float* x = t.x.data();
    const std::vector<box> ok{{0, 0, 4, 4}, {1, 1, 4, 4}, {2, 2, 4, 4}, {3, 3, 4, 4}};
    auto bad = ok;
    bad[2] = {12, 3, 5, 5};
    CHECK_ERROR(correspondence(t.model, x, 4, bad), "correspondence: box 2 (y 12, x 3, height 5, width 5) is not inside the 16×16 image");
    bad[2] = {-1, 3, 5, 5};
    CHECK_ERROR(correspondence(t.model, x, 4, bad), "box 2 (y -1, x 3, height 5, width 5) is not inside");
    CHECK_ERROR(correspondence(t.model, x, 4, std::vector<box>(ok.begin(), ok.begin() + 3)),
                "expected one box per image (4), got 3");
    CHECK_ERROR(correspondence(t.model, x, 1, std::vector<box>(ok.begin(), ok.begin() + 1)),
                "expected at least two images (it compares pairs), got 1");
    correspondence_options o;
    o.layers = {-1};
    CHECK_ERROR(correspondence(t.model, x, 4, ok, o), "layer -1 is outside 0..11");
    o = {};
    o.random = -1;
    CHECK_ERROR(correspondence(t.model, x, 4, ok, o), "random draws must be >= 0, got -1");
}

TEST_CASE("report") {
    std::printf("test_analyses: worst relative error against PyTorch %.3g (tolerance %.0e)\n", worst, tol);
    CHECK(worst <= tol);
}
