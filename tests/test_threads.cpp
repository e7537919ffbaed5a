// One model shared by several threads for evaluation-mode forwards, each with its own Trace: the
// results equal a single thread's, bit for bit. Also built and run under ThreadSanitizer by
// tests/sanitize.sh, which is what proves the absence of data races (this test alone cannot).
#include <atomic>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include <convis/convis.hpp>

using namespace convis;

namespace {

using Net = ZFNet28<10>;
using Batch = Tensor<Net::input_shape>;

/// A batch of pseudo-random pictures, different for every `seed`.
Batch pictures(int batch, std::uint64_t seed) {
    Batch x(batch);
    normal_stream rng(seed);
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = float(rng.next());
    return x;
}

/// What a forward produced that the comparison looks at: the logits and a layer deep inside.
struct result {
    std::vector<float> logits, conv3;
    bool operator==(const result&) const = default;
};

result read(const Trace<Net>& t) {
    const auto y = t.output<Net::size - 1>();
    const auto c = t.output<"conv3">();
    return {{y.data(), y.data() + y.size()}, {c.data(), c.data() + c.size()}};
}

}  // namespace

TEST_CASE("threads: one model, a trace per thread, the same results as one thread") {
    auto owned = std::make_unique<Model<Net>>();
    init_kaiming(*owned, 7);
    const Model<Net>& model = *owned;  // the threads only ever see it const

    constexpr int threads = 4, per_thread = 3, rounds = 2;
    std::vector<Batch> inputs;
    for (int i = 0; i < threads * per_thread; ++i) inputs.push_back(pictures(1 + i % 3, 100 + i));

    // One thread, one trace: the reference.
    std::vector<result> want;
    Trace<Net> single;
    for (const Batch& x : inputs) {
        model.forward(x, single);
        want.push_back(read(single));
    }
    REQUIRE(want[0].logits.size() == 10);
    CHECK(want[0] != want[1]);  // different inputs give different results: the comparison has teeth

    // The model's own forward in evaluation mode agrees, and the shared forward left its trace alone.
    owned->eval();
    owned->forward(inputs[4]);
    CHECK(read(owned->trace()) == want[4]);
    model.forward(inputs[0], single);
    CHECK(owned->batch() == inputs[4].batch());
    CHECK(read(owned->trace()) == want[4]);

    // Several threads at once, each with its own inputs and trace, several rounds.
    std::atomic<int> mismatches{0}, passes{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            Trace<Net> mine;
            for (int r = 0; r < rounds; ++r)
                for (int k = 0; k < per_thread; ++k) {
                    const int i = t * per_thread + (k + r) % per_thread;
                    model.forward(inputs[std::size_t(i)], mine);
                    mismatches += read(mine) == want[std::size_t(i)] ? 0 : 1;
                    ++passes;
                }
        });
    for (auto& th : pool) th.join();
    CHECK(passes == threads * per_thread * rounds);
    CHECK(mismatches == 0);
}

TEST_CASE("threads: a shared forward is evaluation mode even while the model is set to train") {
    auto model = std::make_unique<Model<Net>>();
    init_kaiming(*model, 3);
    const Batch x = pictures(2, 5);
    Trace<Net> eval_trace, shared_trace;
    model->eval();
    model->forward(x, eval_trace);
    model->train();  // dropout on for forward(x), never for forward(x, trace)
    model->forward(x, shared_trace);
    CHECK(read(shared_trace) == read(eval_trace));
    const auto trained = model->forward(x);
    const std::vector<float> own(trained.data(), trained.data() + trained.size());
    CHECK(own != read(eval_trace).logits);  // the model's own training forward does drop units
}
