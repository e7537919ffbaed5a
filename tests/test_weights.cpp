// Model weights through safetensors: round trips, PyTorch names, and every way a file can be wrong.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "support.hpp"

using namespace convis;
namespace fs = std::filesystem;

namespace {

using Net = Sequential<Input<3, 8, 8>, Named<"conv1", Conv2d<3, 4, 3>>, ReLU, Flatten, Named<"fc", Linear<144, 5>>>;

struct scratch_dir {
    fs::path path = fs::temp_directory_path() / ("convis_weights_" + std::to_string(::getpid()));
    scratch_dir() { fs::create_directories(path); }
    ~scratch_dir() { fs::remove_all(path); }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

safetensors_file saved(Model<Net>& m, const scratch_dir& dir) {
    save_weights(m, dir.file("ok.safetensors"));
    return read_safetensors(dir.file("ok.safetensors"));
}

/// Writes `f` and checks that loading it throws a convis::error whose message contains each of
/// `words`, and that the model's parameters are unchanged.
void expect_refused(const safetensors_file& f, const scratch_dir& dir, std::initializer_list<const char*> words) {
    const std::string path = dir.file("bad.safetensors");
    write_safetensors(path, f);
    Model<Net> m;
    init_kaiming(m, 9);
    const std::vector<float> before(m.parameters().begin(), m.parameters().end());
    std::string message;
    try {
        load_weights(m, path);
    } catch (const convis::error& e) {
        message = e.what();
    }
    INFO(message);
    REQUIRE(!message.empty());
    CHECK(message.find(path) != std::string::npos);
    for (const char* w : words) CHECK(message.find(w) != std::string::npos);
    CHECK(std::equal(before.begin(), before.end(), m.parameters().begin()));
}

}  // namespace

TEST_CASE("weights round-trip through safetensors with PyTorch names and layouts") {
    scratch_dir dir;
    Model<Net> a, b;
    init_kaiming(a, 1);
    const auto f = saved(a, dir);
    CHECK(f.tensors.size() == 4);
    CHECK(f.at("conv1.weight").shape == std::vector<std::int64_t>{4, 3, 3, 3});
    CHECK(f.at("conv1.weight").type == dtype::f32);
    CHECK(f.at("fc.weight").shape == std::vector<std::int64_t>{5, 144});
    CHECK(f.at("fc.bias").shape == std::vector<std::int64_t>{5});
    load_weights(b, dir.file("ok.safetensors"));
    CHECK(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));

    // A double model writes F64; both precisions load into either, converted.
    Model<Net, cpu, double> d;
    load_weights(d, dir.file("ok.safetensors"));
    CHECK(d.parameters()[7] == double(a.parameters()[7]));
    save_weights(d, dir.file("f64.safetensors"));
    CHECK(read_safetensors(dir.file("f64.safetensors")).at("fc.bias").type == dtype::f64);
    Model<Net> c;
    load_weights(c, dir.file("f64.safetensors"));
    CHECK(std::equal(a.parameters().begin(), a.parameters().end(), c.parameters().begin()));
}

TEST_CASE("preprocess tensors are kept, not rejected") {
    scratch_dir dir;
    Model<Net> m;
    weights_extras extras;
    const std::vector<float> mean{0.5f, 0.4f, 0.3f};
    extras.tensors.emplace("preprocess.mean", make_tensor<float>(mean, {3}));
    extras.metadata["source"] = "test";
    save_weights(m, dir.file("with_mean.safetensors"), extras);
    const auto back = load_weights(m, dir.file("with_mean.safetensors"));
    REQUIRE(back.tensors.count("preprocess.mean") == 1);
    CHECK(back.tensors.at("preprocess.mean").to_vector<float>("", "") == mean);
    CHECK(back.metadata.at("source") == "test");
}

TEST_CASE("a wrong weights file is refused with a message naming file, tensor, expected and found") {
    scratch_dir dir;
    Model<Net> m;
    init_kaiming(m, 1);
    const auto good = saved(m, dir);

    auto missing = good;
    missing.tensors.erase("fc.bias");
    expect_refused(missing, dir, {"missing tensor 'fc.bias'", "[5]"});

    auto extra = good;
    extra.tensors.emplace("fc2.weight", good.at("fc.bias"));
    expect_refused(extra, dir, {"unexpected tensor 'fc2.weight'"});

    auto shape = good;
    const std::vector<float> wrong(4 * 3 * 5 * 5, 0.f);
    shape.tensors["conv1.weight"] = make_tensor<float>(wrong, {4, 3, 5, 5});
    expect_refused(shape, dir, {"'conv1.weight'", "[4,3,5,5]", "expected [4,3,3,3]"});

    auto transposed = good;
    const std::vector<float> t(144 * 5, 0.f);
    transposed.tensors["fc.weight"] = make_tensor<float>(t, {144, 5});
    expect_refused(transposed, dir, {"'fc.weight'", "[144,5]", "expected [5,144]"});

    auto typed = good;
    const std::vector<std::int64_t> ints(5, 1);
    typed.tensors["fc.bias"] = make_tensor<std::int64_t>(ints, {5});
    expect_refused(typed, dir, {"'fc.bias'", "I64", "F32 or F64"});

    // Half precision, as many exported checkpoints store it: refused, not reinterpreted as F32 bytes.
    for (const dtype half : {dtype::f16, dtype::bf16}) {
        auto halved = good;
        stored_tensor& t = halved.tensors["fc.bias"];
        t.type = half;
        t.bytes.assign(t.bytes.size() / 2, std::byte{0x3c});
        expect_refused(halved, dir, {"'fc.bias'", half == dtype::f16 ? "F16" : "BF16", "F32 or F64", "[5]"});
    }
}

TEST_CASE("malformed or truncated weights files are errors, never crashes") {
    scratch_dir dir;
    Model<Net> m;
    init_kaiming(m, 1);
    save_weights(m, dir.file("ok.safetensors"));
    std::string bytes;
    {
        std::ifstream in(dir.file("ok.safetensors"), std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    for (std::size_t cut : {std::size_t(0), std::size_t(4), std::size_t(9), bytes.size() / 2, bytes.size() - 1}) {
        const std::string path = dir.file("cut.safetensors");
        std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(cut));
        CHECK_THROWS_WITH_AS(load_weights(m, path), doctest::Contains(path.c_str()), convis::error);
    }
    CHECK_THROWS_WITH_AS(load_weights(m, dir.file("absent.safetensors")), doctest::Contains("absent.safetensors"),
                         convis::error);
    CHECK_THROWS_AS(save_weights(m, dir.file("no/such/dir/w.safetensors")), convis::error);
}
