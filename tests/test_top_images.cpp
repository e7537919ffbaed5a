// The Fig. 2 pipeline: picture folders, preprocessing, batches of pictures, the run-time layer
// projection, and top_images end to end on a small ZFNet-shaped network.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <convis/analysis/top_images.hpp>

#include "support.hpp"
#include "tiny_zfnet.hpp"

using namespace convis;
using test::TinyZFNet;
namespace fs = std::filesystem;

namespace {

struct scratch_dir {
    fs::path path = fs::temp_directory_path() / ("convis_top_images_" + std::to_string(::getpid()));
    scratch_dir() { fs::create_directories(path); }
    ~scratch_dir() { fs::remove_all(path); }
};

image grey(int h, int w, float v) {
    image img;
    img.channels = 1;
    img.height = h;
    img.width = w;
    img.pixels.assign(std::size_t(h) * w, v);
    return img;
}

/// `count` random 3×112×112 pictures (0..255) as an in-memory data set.
image_set random_pictures(int count, std::uint64_t seed) {
    image_set s;
    s.count = count;
    s.channels = 3;
    s.height = 112;
    s.width = 112;
    normal_stream rng(seed);
    s.pixels.resize(std::size_t(count) * 3 * 112 * 112);
    for (auto& p : s.pixels) p = std::uint8_t(std::clamp(128.0 + 60.0 * rng.next(), 0.0, 255.0));
    return s;
}

}  // namespace

TEST_CASE("a picture folder lists pictures sorted, with first-level folders as classes") {
    scratch_dir d;
    fs::create_directories(d.path / "shoe" / "deep");
    fs::create_directories(d.path / "bag");
    fs::create_directories(d.path / "empty");
    write_png((d.path / "shoe" / "b.png").string(), grey(4, 4, 10));
    write_png((d.path / "shoe" / "deep" / "a.PNG").string(), grey(4, 4, 20));
    write_png((d.path / "bag" / "z.png").string(), grey(4, 4, 30));
    write_png((d.path / "loose.png").string(), grey(4, 4, 40));
    std::ofstream((d.path / "notes.txt").string()) << "not a picture";

    const image_folder f = list_image_folder(d.path.string());
    CHECK(f.classes == std::vector<std::string>{"bag", "shoe"});
    REQUIRE(f.files.size() == 4);
    CHECK(fs::path(f.files[0]).filename() == "z.png");
    CHECK(f.labels == std::vector<std::int64_t>{0, -1, 1, 1});
    const picture_set s = picture_set::from(f);
    CHECK(s.size() == 4);
    CHECK(s.load(1).at(0, 0, 0) == 40.f);
    CHECK(s.label(3) == 1);
    CHECK_THROWS_WITH_AS(s.load(4), doctest::Contains("picture 4"), convis::error);

    CHECK_THROWS_WITH_AS(list_image_folder((d.path / "empty").string()), doctest::Contains("no pictures"), convis::error);
    CHECK_THROWS_WITH_AS(list_image_folder((d.path / "missing").string()), doctest::Contains("no such directory"),
                         convis::error);
}

TEST_CASE("preprocessing: (pixel / 255 - mean) / std, per channel or per pixel, from the weights file's extras") {
    weights_extras ex;
    ex.tensors["preprocess.mean"] = make_tensor<float>(std::vector<float>{0.5f, 0.25f}, {2});
    ex.tensors["preprocess.std"] = make_tensor<float>(std::vector<float>{0.5f, 2.f}, {2});
    const preprocess p = preprocess::from(ex, "w.safetensors", 2, 1, 2);
    const std::vector<float> px{255, 0, 51, 102};
    std::vector<float> in(4), back(4);
    p.apply(px.data(), in.data(), 2, 1, 2);
    CHECK(in[0] == doctest::Approx(1.0));
    CHECK(in[1] == doctest::Approx(-1.0));
    CHECK(in[2] == doctest::Approx((0.2 - 0.25) / 2));
    p.invert(in.data(), back.data(), 2, 1, 2);
    for (int i = 0; i < 4; ++i) CHECK(back[std::size_t(i)] == doctest::Approx(px[std::size_t(i)]).epsilon(1e-5));

    weights_extras per_pixel;
    per_pixel.tensors["preprocess.mean"] = make_tensor<float>(std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f}, {2, 1, 2});
    preprocess::from(per_pixel, "w", 2, 1, 2).apply(px.data(), in.data(), 2, 1, 2);
    CHECK(in[3] == doctest::Approx(0.4 - 0.4));

    weights_extras bad;
    bad.tensors["preprocess.mean"] = make_tensor<float>(std::vector<float>{0.1f, 0.2f, 0.3f}, {3});
    CHECK_THROWS_WITH_AS(preprocess::from(bad, "w.safetensors", 2, 1, 2),
                         doctest::Contains("'preprocess.mean' has shape [3]; expected [2] or [2,1,2]"), convis::error);
    CHECK(preprocess::from(weights_extras{}, "w", 3, 4, 4).mean.empty());
}

TEST_CASE("load_batch fits and preprocesses pictures; an IDX set is read from memory") {
    image_set s;
    s.count = 2;
    s.height = 4;
    s.width = 4;
    s.pixels.assign(32, 255);
    s.pixels[16] = 0;
    const picture_set p = picture_set::from(s, "mem.idx");
    Tensor<Shape<3, 4, 4>> x;
    std::vector<image> fitted;
    load_batch(p, 0, 2, preprocess{}, x, &fitted);
    CHECK(x.batch() == 2);
    CHECK(x(1, 2, 0, 0) == 0.f);
    CHECK(x(0, 1, 3, 3) == 1.f);
    CHECK(fitted[1].channels == 3);
    CHECK(p.describe(1) == "mem.idx#1");
    CHECK_THROWS_AS(load_batch(p, 1, 2, preprocess{}, x), convis::error);
}

TEST_CASE("a projection from a layer chosen at run time equals the typed one") {
    Model<TinyZFNet> m;
    init_kaiming(m, 3);
    Tensor<TinyZFNet::input_shape> x(2);
    normal_stream rng(4);
    for (auto& v : x.values()) v = float(rng.next());
    m.forward(x);
    Deconvnet d(m);
    const auto signal = d.select_positions<14>({{0, 3, 1, 2, 0}, {1, 5, 0, 0, 0}});
    CHECK(signal(0, 3, 1, 2) == m.output<14>()(0, 3, 1, 2));
    CHECK(signal(1, 3, 1, 2) == 0.f);
    const auto typed = d.project<14>(signal, {rectify_mode::guided, {}});
    const std::vector<float> want(typed.values().begin(), typed.values().end());
    const auto runtime = d.project(14, signal.data(), {rectify_mode::guided, {}});
    CHECK(test::relative_error(std::span<const float>(runtime.values()), std::span<const float>(want)) == 0.0);
    CHECK_THROWS_AS(d.select_positions<14>({{2, 0, 0, 0, 0}}), convis::error);
    CHECK_THROWS_AS(d.project(99, signal.data()), convis::error);
}

TEST_CASE("top_images finds what top_activations finds and lays out one block per channel") {
    Model<TinyZFNet> m;
    init_kaiming(m, 7);
    const picture_set pictures = picture_set::from(random_pictures(11, 5), "random");
    top_images_options o;
    o.channels = {2, 9};
    o.k = 4;
    o.batch = 3;
    o.rows = o.cols = 2;
    const int layer = TinyZFNet::find("pool2");
    const auto r = top_images(m, layer, pictures, preprocess{}, o);

    // The same search with the typed collector, one picture at a time.
    top_activations<TinyZFNet, 6> want({2, 9}, 4);
    Tensor<TinyZFNet::input_shape> x;
    for (int i = 0; i < 11; ++i) {
        load_batch(pictures, i, 1, preprocess{}, x);
        m.forward(x);
        want.add(m, i);
    }
    const auto w = want.entries();
    REQUIRE(r.entries.size() == w.size());
    for (std::size_t i = 0; i < w.size(); ++i) {
        CHECK(r.entries[i].image == w[i].image);
        CHECK(r.entries[i].y == w[i].y);
        CHECK(r.entries[i].x == w[i].x);
        CHECK(r.entries[i].value == doctest::Approx(w[i].value).epsilon(1e-5));
    }
    REQUIRE(r.blocks.size() == 2);
    // pool2's field is 51 px wide at stride 16 (tiny net: 7/2 conv, 3/2 pool, 5/2 conv, 3/2 pool):
    // tiles of 51 px enlarged ×2 to reach 64; 2×2 tiles per half, 1 px borders, an 8 px gap.
    const receptive_field rf = TinyZFNet::field_after<6>();
    const int tile = rf.size * std::max(1, (64 + rf.size - 1) / rf.size);
    CHECK(r.blocks[0].height == 2 * tile + 3 * 1);
    CHECK(r.blocks[0].channels == 3);
    CHECK_THROWS_AS(top_images(m, layer, pictures, preprocess{}, top_images_options{.k = 10}), convis::error);
}
