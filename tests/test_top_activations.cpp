// Top-k activations over a streamed data set against a brute-force search; receptive patches.
#include "support.hpp"
#include "tiny_zfnet.hpp"

using namespace convis;
using test::TinyZFNet;

TEST_CASE("receptive patches follow the compile-time field, clipped to the image") {
    // conv1 of ZFNet: 7 px, stride 2, padding 1: unit (0, 0) covers [-1, 6) → [0, 6).
    CHECK(receptive_patch<ZFNet<>, 0>(0, 0) == pixel_box{0, 0, 6, 6});
    CHECK(receptive_patch<ZFNet<>, 0>(3, 5) == pixel_box{5, 9, 12, 16});
    // pool5: 171 px, stride 32, start -49.
    CHECK(receptive_patch<ZFNet<>, 14>(5, 0) == pixel_box{111, 0, 224, 122});
    CHECK(receptive_patch<ZFNet<>, 17>(0, 0) == pixel_box{0, 0, 224, 224});  // fc6 sees everything
}

TEST_CASE("random channel subsets are seeded, distinct and sorted") {
    const auto a = random_channels(256, 16, 7), b = random_channels(256, 16, 7), c = random_channels(256, 16, 8);
    CHECK(a == b);
    CHECK(a != c);
    CHECK(std::adjacent_find(a.begin(), a.end(), [](int l, int r) { return l >= r; }) == a.end());
    CHECK_THROWS_AS(random_channels(4, 5, 1), convis::error);
}

TEST_CASE("the k strongest per channel over batches equal a brute-force search") {
    Model<TinyZFNet> m;
    init_kaiming(m, 5);
    constexpr int I = 14;  // pool5: 16 × 3 × 3
    using S = TinyZFNet::shape_after<I>;
    top_activations<TinyZFNet, I> top({1, 4, 9}, 3);
    std::vector<std::vector<float>> all;  // [image][channel map]
    normal_stream rng(11);
    std::int64_t seen = 0;
    for (int batch : {2, 3, 1, 4}) {
        Tensor<TinyZFNet::input_shape> x(batch);
        for (auto& v : x.values()) v = float(rng.next());
        const auto y = m.forward(x);
        (void)y;
        top.add(m, seen);
        for (int n = 0; n < batch; ++n) {
            const auto a = m.output<I>();
            all.emplace_back(a.sample(n), a.sample(n) + S::size);
        }
        seen += batch;
    }
    const auto entries = top.entries();
    REQUIRE(entries.size() == 9);
    for (int ci = 0; ci < 3; ++ci) {
        const int c = std::vector<int>{1, 4, 9}[ci];
        std::vector<std::pair<double, int>> best;  // (max, image)
        for (int i = 0; i < int(all.size()); ++i) {
            const float* p = all[i].data() + c * 9;
            best.push_back({*std::max_element(p, p + 9), i});
        }
        std::sort(best.begin(), best.end(), [](auto l, auto r) { return l.first > r.first || (l.first == r.first && l.second < r.second); });
        for (int r = 0; r < 3; ++r) {
            const top_entry& e = entries[ci * 3 + r];
            CAPTURE(c);
            CAPTURE(r);
            CHECK(e.channel == c);
            CHECK(e.rank == r);
            CHECK(e.image == best[r].second);
            CHECK(e.value == best[r].first);
            CHECK(all[e.image][c * 9 + e.y * 3 + e.x] == float(e.value));
            CHECK(e.patch == receptive_patch<TinyZFNet, I>(e.y, e.x));
        }
    }
    CHECK_THROWS_AS((top_activations<TinyZFNet, I>({16}, 9)), convis::error);
}
