// Training: batches (mean, crops, flips, seeded order), the trainer's files, resuming to the same
// result (also after a process killed while writing its checkpoint), non-finite values named by
// layer, and the Fig. 4 evolution grids.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <convis/analysis/evolution.hpp>
#include <convis/train/trainer.hpp>

#include "support.hpp"

using namespace convis;
namespace fs = std::filesystem;

namespace {

using Small = Sequential<Input<1, 8, 8>, Named<"conv1", Conv2d<1, 4, 3, 1, 1>>, Named<"relu1", ReLU>,
                         Named<"pool1", MaxPool2d<2>>, Named<"flatten", Flatten>, Named<"drop", Dropout>,
                         Named<"fc", Linear<64, 2>>>;

struct scratch_dir {
    fs::path path = fs::temp_directory_path() / ("convis_train_" + std::to_string(::getpid()));
    scratch_dir() { fs::create_directories(path); }
    ~scratch_dir() { fs::remove_all(path); }
    std::string sub(const std::string& s) const { return (path / s).string(); }
};

/// Class 0: a bright bar in the left half; class 1: in the right half; noise elsewhere.
image_set bars(int count, std::uint64_t seed) {
    image_set s;
    s.count = count;
    s.height = s.width = 8;
    normal_stream rng(seed);
    for (int i = 0; i < count; ++i) {
        const int label = i % 2;
        const int col = label == 0 ? int(rng.next_u64() % 3) : 5 + int(rng.next_u64() % 3);
        for (int y = 0; y < 8; ++y)
            for (int x = 0; x < 8; ++x)
                s.pixels.push_back(std::uint8_t(x == col ? 230 : 20 + rng.next_u64() % 30));
        s.labels.push_back(label);
    }
    return s;
}

train_options quick(const std::string& out, int epochs) {
    train_options o;
    o.epochs = epochs;
    o.batch = 16;
    o.sgd.lr = 0.05;
    o.out = out;
    o.progress = false;
    o.snapshots = {1, 2};
    o.augment = augmentation{1, false};
    return o;
}

std::vector<float> params(Model<Small>& m) { return {m.parameters().begin(), m.parameters().end()}; }

/// Resumes the run in `dir` to `epochs` in `m`, whose own weights the checkpoint overwrites.
std::vector<epoch_record> resume(Model<Small>& m, const std::string& dir, int epochs, const image_set& train_set,
                                 const image_set& test_set) {
    init_kaiming(m, 99);
    auto o = quick(dir, epochs);
    o.resume = true;
    return train(m, train_set, test_set, o);
}

/// The message of the convis::error that `f` throws; fails the test when it throws nothing.
template <class F>
std::string error_of(F f) {
    try {
        f();
    } catch (const convis::error& e) {
        return e.what();
    }
    FAIL("no convis::error thrown");
    return {};
}

}  // namespace

TEST_CASE("batches: per-pixel mean, seeded order, crops that shift and flips that mirror") {
    image_set s;
    s.count = 3;
    s.height = 2;
    s.width = 3;
    s.pixels = {0, 51, 102, 153, 204, 255, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255};
    s.labels = {0, 1, 2};
    const auto mean = pixel_mean(s);
    CHECK(mean[0] == doctest::Approx((0 + 0 + 255) / 255.0 / 3));
    batch_maker maker(s, std::vector<float>(6, 0.f), 2, 9);
    CHECK(maker.batches() == 2);
    Tensor<Shape<1, 2, 3>> x;
    std::vector<std::int64_t> labels;
    maker.make(0, 0, nullptr, nullptr, x, labels);
    CHECK(x(0, 0, 0, 1) == doctest::Approx(0.2));
    CHECK(labels == std::vector<std::int64_t>{0, 1});
    const auto order = maker.order(0);
    CHECK(order == maker.order(0));
    auto sorted = order;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == std::vector<std::int64_t>{0, 1, 2});
    maker.make(0, 1, &order, nullptr, x, labels);
    CHECK(x.batch() == 1);
    CHECK(labels[0] == order[2]);

    // A flip without a shift mirrors the picture; a shift moves it and fills with the mean (0).
    const augmentation flip{0, true};
    bool saw_flip = false;
    for (int b = 0; b < 40 && !saw_flip; ++b) {
        image_set one = s;
        one.count = 1;
        one.labels = {0};
        batch_maker m1(one, std::vector<float>(6, 0.f), 1, std::uint64_t(b));
        m1.make(0, 0, nullptr, &flip, x, labels);
        if (x(0, 0, 0, 0) == doctest::Approx(0.4f)) {
            saw_flip = true;
            CHECK(x(0, 0, 1, 0) == doctest::Approx(1.0f));
            CHECK(x(0, 0, 0, 2) == doctest::Approx(0.0f));
        }
    }
    CHECK(saw_flip);
    CHECK_THROWS_AS(batch_maker(s, std::vector<float>(5, 0.f), 2, 1), convis::error);
    CHECK_THROWS_AS((maker.make(0, 2, nullptr, nullptr, x, labels)), convis::error);
}

TEST_CASE("training learns, writes its files, and a resumed run ends where an uninterrupted one does") {
    scratch_dir d;
    const image_set train_set = bars(256, 1), test_set = bars(64, 2);

    Model<Small> a;
    init_kaiming(a, 3);
    const auto rec = train(a, train_set, test_set, quick(d.sub("a"), 3));
    REQUIRE(rec.size() == 3);
    CHECK(rec.back().test_accuracy > 0.9);
    for (const char* f : {"a/model.safetensors", "a/metrics.json", "a/checkpoint.safetensors",
                          "a/snapshots/epoch-1.safetensors", "a/snapshots/epoch-2.safetensors"})
        CHECK_MESSAGE(fs::exists(d.sub(f)), f);
    CHECK(!fs::exists(d.sub("a/snapshots/epoch-3.safetensors")));
    const auto metrics = nlohmann::json::parse(std::ifstream(d.sub("a/metrics.json")));
    CHECK(metrics.at("epochs").size() == 3);
    // model.safetensors carries the mean and loads as plain weights.
    Model<Small> loaded;
    const auto ex = load_weights(loaded, d.sub("a/model.safetensors"));
    CHECK(ex.tensors.at("preprocess.mean").shape == std::vector<std::int64_t>{1, 8, 8});
    CHECK(params(loaded) == params(a));

    // 1 epoch, then resume to 3: the same weights, bit for bit.
    Model<Small> b;
    init_kaiming(b, 3);
    train(b, train_set, test_set, quick(d.sub("b"), 1));
    Model<Small> c;
    const auto rec_c = resume(c, d.sub("b"), 3, train_set, test_set);
    CHECK(rec_c.size() == 3);
    CHECK(params(c) == params(a));
    CHECK(rec_c.back().test_loss == rec.back().test_loss);
}

// The child process of the next test: resumes the run in $CONVIS_TRAIN_CHILD_DIR to 3 epochs. Skipped
// unless asked for (--no-skip), so it only ever runs as that child.
TEST_CASE("training child: resume to 3 epochs (run by the checkpoint-kill test)" * doctest::skip()) {
    const char* dir = std::getenv("CONVIS_TRAIN_CHILD_DIR");
    REQUIRE(dir != nullptr);
    Model<Small> m;
    resume(m, dir, 3, bars(256, 1), bars(64, 2));
}

TEST_CASE("a process killed while writing its checkpoint leaves the last one loadable, and resuming ends as an unbroken run") {
    scratch_dir d;
    const image_set train_set = bars(256, 1), test_set = bars(64, 2);
    Model<Small> whole;
    init_kaiming(whole, 3);
    train(whole, train_set, test_set, quick(d.sub("whole"), 3));

    Model<Small> first;
    init_kaiming(first, 3);
    train(first, train_set, test_set, quick(d.sub("k"), 1));
    const std::string ck = d.sub("k/checkpoint.safetensors");
    const auto epoch1 = read_safetensors(ck);
    const auto limit = fs::file_size(ck);

    // The child may write files no larger than epoch 1's checkpoint: every other file of epoch 2 is
    // smaller, but epoch 2's checkpoint carries one more epoch record, so the kernel kills the child
    // (SIGXFSZ) in the middle of writing it. A deterministic kill at the worst moment.
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const rlimit fsize{rlim_t(limit), rlim_t(limit)}, core{0, 0};
        setrlimit(RLIMIT_FSIZE, &fsize);
        setrlimit(RLIMIT_CORE, &core);
        signal(SIGXFSZ, SIG_DFL);
        setenv("CONVIS_TRAIN_CHILD_DIR", d.sub("k").c_str(), 1);
        execl("/proc/self/exe", "test_train", "--no-skip", "--test-case=training child*", "--no-version",
              static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    INFO("child status " << status);
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGXFSZ);

    // It died mid-write: epoch 2's snapshot is complete, its checkpoint only a partial temporary.
    CHECK(fs::exists(d.sub("k/snapshots/epoch-2.safetensors")));
    int partial = 0;
    for (const auto& e : fs::directory_iterator(d.sub("k")))
        if (e.path().filename().string().rfind("checkpoint.safetensors.tmp-", 0) == 0) {
            ++partial;
            CHECK(e.file_size() > 0);
            CHECK(e.file_size() <= limit);
            CHECK_THROWS_AS(read_safetensors(e.path().string()), convis::error);
        }
    CHECK(partial == 1);
    // The checkpoint is epoch 1's, byte for byte, and loads.
    const auto after = read_safetensors(ck);
    CHECK(after.metadata == epoch1.metadata);
    for (const auto& [name, t] : epoch1.tensors) CHECK_MESSAGE(after.at(name).bytes == t.bytes, name);

    // Resuming from it ends where the unbroken run did, bit for bit.
    Model<Small> resumed;
    const auto rec = resume(resumed, d.sub("k"), 3, train_set, test_set);
    CHECK(rec.size() == 3);
    CHECK(params(resumed) == params(whole));
}

TEST_CASE("a non-finite weight stops training with the layer's name; the last checkpoint stays intact") {
    scratch_dir d;
    const image_set train_set = bars(64, 1), test_set = bars(16, 2);
    Model<Small> m;
    init_kaiming(m, 3);
    train(m, train_set, test_set, quick(d.sub("n"), 1));
    const std::string ck = d.sub("n/checkpoint.safetensors");
    const auto before = read_safetensors(ck);
    m.parameters()[Small::parameter_offset<5>() + 3] = std::numeric_limits<float>::quiet_NaN();  // fc.weight
    auto o = quick(d.sub("n"), 2);
    o.resume = false;
    o.out = d.sub("n");
    // Resume=false restarts from the (poisoned) model in memory and must not touch the checkpoint.
    CHECK_THROWS_WITH_AS(train(m, train_set, test_set, o), doctest::Contains("fc.weight (parameters)"), convis::error);
    const auto after = read_safetensors(ck);
    CHECK(after.at("fc.weight").bytes == before.at("fc.weight").bytes);
    Model<Small> ok;
    load_weights(ok, ck);
    CHECK(!first_non_finite(ok).has_value());
}

TEST_CASE("an Inf weight stops training naming the layer whose output it spoiled and the tensor") {
    scratch_dir d;
    const image_set train_set = bars(64, 1), test_set = bars(16, 2);
    Model<Small> m;
    init_kaiming(m, 3);
    m.parameters()[2] = std::numeric_limits<float>::infinity();  // conv1.weight
    const std::string msg = error_of([&] { train(m, train_set, test_set, quick(d.sub("inf"), 1)); });
    INFO(msg);
    CHECK(msg.find("epoch 1, step 1: the loss is") != std::string::npos);
    CHECK(msg.find("first non-finite output: layer 'conv1' (Conv2d), sample 0") != std::string::npos);
    CHECK(msg.find("first non-finite parameters: conv1.weight (parameters)") != std::string::npos);
    CHECK(!fs::exists(d.sub("inf/checkpoint.safetensors")));  // nothing was saved from the bad run
}

TEST_CASE("first_non_finite_output: a NaN or Inf in the batch, or one a layer makes, is found where it enters") {
    Model<Small> m;
    init_kaiming(m, 3);
    Tensor<Small::input_shape> x(3);
    x.fill(0.25f);
    m.eval();
    m.forward(x);
    CHECK(!first_non_finite_output(m).has_value());
    for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
        x.sample(1)[17] = bad;
        m.forward(x);
        CHECK(first_non_finite_output(m) == "the input batch (sample 1)");
        std::vector<std::int64_t> labels{0, 1, 0};
        Tensor<Features<2>> grad;
        CHECK(!std::isfinite(cross_entropy<2, float>(m.output<Small::size - 1>(), labels, grad)));
        x.sample(1)[17] = 0.25f;
    }
    // A finite batch, a bias that overflows: the first spoiled output is fc's, not the batch.
    m.parameters()[Small::parameter_offset<5>() + 64 * 2 + 1] = std::numeric_limits<float>::infinity();  // fc.bias[1]
    m.forward(x);
    CHECK(first_non_finite_output(m) == "layer 'fc' (Linear), sample 0");
    CHECK(first_non_finite(m) == "fc.bias (parameters)");
}

TEST_CASE("evolution: a row per channel, a column per snapshot") {
    scratch_dir d;
    const image_set train_set = bars(64, 1), test_set = bars(16, 2);
    Model<Small> m;
    init_kaiming(m, 3);
    train(m, train_set, test_set, quick(d.sub("e"), 2));
    const picture_set pictures = picture_set::from(train_set, "bars");
    evolution_options o;
    o.per_layer = 3;
    o.min_tile = 8;
    const auto r = evolution(m, {d.sub("e/snapshots/epoch-1.safetensors"), d.sub("e/snapshots/epoch-2.safetensors")},
                             pictures, preprocess{}, o);
    REQUIRE(r.layers == std::vector<int>{0});
    REQUIRE(r.grids.size() == 1);
    // conv1's field is 3 px, enlarged ×3 to 9: 3 rows and 2 columns of 9-px tiles, 1-px borders.
    CHECK(r.grids[0].height == 3 * 9 + 4);
    CHECK(r.grids[0].width == 2 * 9 + 3);
    REQUIRE(r.strongest[0].size() == 3);
    CHECK(r.strongest[0][0].size() == 2);
}
