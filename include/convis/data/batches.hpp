#pragma once
// Training batches from an in-memory labelled picture set (image_set: 8-bit pixels, labels): the
// paper's per-pixel mean subtraction, its augmentation (random crops, horizontal flips), a seeded
// shuffle, and a background thread that prepares the next batch while the model trains on this one.
//
// Everything random is a pure function of (seed, epoch, batch index), so a run resumed at an epoch
// boundary sees exactly the batches an uninterrupted run would.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <future>
#include <numeric>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../io/idx.hpp"
#include "../core/random.hpp"

namespace convis {

/// The paper's augmentation, scaled to any input: a random crop of the picture padded by `pad`
/// pixels on each side (padding is the mean, i.e. 0 after mean subtraction; ZFNet took 224 crops
/// of 256 pictures, a shift of up to 32 px), and a horizontal flip with probability ½.
struct augmentation {
    int pad = 2;
    bool flip = true;
};

/// The per-pixel mean of a picture set on the [0, 1] scale, [C·H·W] (the paper's "subtracting
/// the per-pixel mean (across all images)").
std::vector<float> pixel_mean(const image_set& set);

/// The standard deviation of each channel's pixels over a picture set, on the [0, 1] scale, [C]
/// (dividing by it gives the first layer inputs of unit variance, which Kaiming initialisation
/// assumes).
std::vector<float> channel_std(const image_set& set);

/// Makes the batches of one data set.
class batch_maker {
public:
    /// `mean` is [C·H·W] on the [0, 1] scale (pixel_mean of the training set); `std`, when not
    /// empty, [C] (channel_std): inputs are (pixel / 255 − mean) / std, as data/preprocess.hpp.
    batch_maker(const image_set& set, std::vector<float> mean, int batch, std::uint64_t seed,
                std::vector<float> std = {});

    /// Number of batches in an epoch (the last one may be smaller).
    int batches() const { return int((std::int64_t(set_.count) + batch_ - 1) / batch_); }

    /// Fills `x` and `labels` with batch b of `epoch`: pictures in `order` (from order(epoch); null:
    /// the data set's own order), augmented when `aug` is given. Thread-safe for distinct outputs.
    template <shape In>
    void make(int epoch, int b, const std::vector<std::int64_t>* order, const augmentation* aug, Tensor<In, float>& x,
              std::vector<std::int64_t>& labels) const;

    /// The picture order of an epoch: a seeded permutation.
    std::vector<std::int64_t> order(int epoch) const;

private:
    const image_set& set_;
    std::vector<float> mean_, inv_std_;
    int batch_;
    std::uint64_t seed_;
};

/// Runs `make` for the next batch on a background thread: prefetch(b) starts it, wait() hands it
/// over. One batch in flight at a time.
template <shape In>
class batch_prefetcher {
public:
    batch_prefetcher(const batch_maker& maker, int epoch, const std::vector<std::int64_t>* order, const augmentation* aug)
        : maker_(maker), epoch_(epoch), order_(order), aug_(aug) {}
    ~batch_prefetcher() {
        if (pending_.valid()) pending_.wait();
    }
    void prefetch(int b) {
        slot_ = 1 - slot_;
        pending_ = std::async(std::launch::async, [this, b, s = slot_] {
            maker_.make(epoch_, b, order_, aug_, x_[s], labels_[s]);
        });
    }
    /// The batch last prefetched; valid until the prefetch after next.
    std::pair<const Tensor<In, float>*, const std::vector<std::int64_t>*> wait() {
        pending_.get();  // rethrows what the batch thread threw
        return {&x_[slot_], &labels_[slot_]};
    }

private:
    const batch_maker& maker_;
    int epoch_;
    const std::vector<std::int64_t>* order_;
    const augmentation* aug_;
    Tensor<In, float> x_[2];
    std::vector<std::int64_t> labels_[2];
    int slot_ = 0;
    std::future<void> pending_;
};

// ---- details ------------------------------------------------------------------------------------

inline std::vector<float> pixel_mean(const image_set& set) {
    const std::size_t n = std::size_t(set.channels) * set.height * set.width;
    if (set.count < 1) throw error("pixel_mean: the picture set is empty");
    std::vector<double> sum(n, 0.0);
    for (int i = 0; i < set.count; ++i) {
        const std::uint8_t* p = set.pixels.data() + std::size_t(i) * n;
        for (std::size_t j = 0; j < n; ++j) sum[j] += p[j];
    }
    std::vector<float> mean(n);
    for (std::size_t j = 0; j < n; ++j) mean[j] = float(sum[j] / (255.0 * set.count));
    return mean;
}

inline std::vector<float> channel_std(const image_set& set) {
    if (set.count < 1) throw error("channel_std: the picture set is empty");
    const std::size_t plane = std::size_t(set.height) * set.width;
    std::vector<float> out;
    for (int c = 0; c < set.channels; ++c) {
        double sum = 0, sq = 0;
        for (int i = 0; i < set.count; ++i) {
            const std::uint8_t* p = set.pixels.data() + (std::size_t(i) * set.channels + c) * plane;
            for (std::size_t j = 0; j < plane; ++j) {
                const double v = p[j] / 255.0;
                sum += v;
                sq += v * v;
            }
        }
        const double n = double(set.count) * plane, m = sum / n;
        out.push_back(float(std::sqrt(std::max(sq / n - m * m, 1e-12))));
    }
    return out;
}

inline batch_maker::batch_maker(const image_set& set, std::vector<float> mean, int batch, std::uint64_t seed,
                                std::vector<float> std)
    : set_(set), mean_(std::move(mean)), batch_(batch), seed_(seed) {
    if (!std.empty() && std.size() != std::size_t(set.channels))
        throw error("batch_maker: std has " + std::to_string(std.size()) + " values; the pictures have " +
                    std::to_string(set.channels) + " channels");
    for (float v : std)
        if (!(v > 0.f)) throw error("batch_maker: std must be positive, got " + std::to_string(v));
    inv_std_.assign(std::size_t(set.channels), 1.f);
    for (std::size_t c = 0; c < std.size(); ++c) inv_std_[c] = 1.f / std[c];
    const std::size_t n = std::size_t(set.channels) * set.height * set.width;
    if (batch < 1) throw error("batch_maker: batch size must be at least 1, got " + std::to_string(batch));
    if (set.count < 1) throw error("batch_maker: the picture set is empty");
    if (mean_.size() != n)
        throw error("batch_maker: the mean has " + std::to_string(mean_.size()) + " values; the pictures have " +
                    std::to_string(n));
    if (set.labels.size() != std::size_t(set.count))
        throw error("batch_maker: " + std::to_string(set.labels.size()) + " labels for " + std::to_string(set.count) +
                    " pictures");
}

inline std::vector<std::int64_t> batch_maker::order(int epoch) const {
    std::vector<std::int64_t> idx(std::size_t(set_.count));
    std::iota(idx.begin(), idx.end(), 0);
    normal_stream rng(seed_ * 0x9e3779b97f4a7c15ull + std::uint64_t(epoch) * 0xbf58476d1ce4e5b9ull + 1);
    for (std::size_t i = idx.size(); i > 1; --i) std::swap(idx[i - 1], idx[std::size_t(rng.next_u64() % i)]);
    return idx;
}

template <shape In>
void batch_maker::make(int epoch, int b, const std::vector<std::int64_t>* order, const augmentation* aug,
                       Tensor<In, float>& x, std::vector<std::int64_t>& labels) const {
    if (In::channels != set_.channels || In::height != set_.height || In::width != set_.width)
        throw error("batch_maker: pictures of " + std::to_string(set_.channels) + "x" + std::to_string(set_.height) +
                    "x" + std::to_string(set_.width) + " for a network input of " + std::to_string(In::channels) + "x" +
                    std::to_string(In::height) + "x" + std::to_string(In::width));
    const std::int64_t first = std::int64_t(b) * batch_;
    if (b < 0 || first >= set_.count) throw error("batch_maker: batch " + std::to_string(b) + " is past the data set");
    const int n = int(std::min<std::int64_t>(batch_, set_.count - first));
    if (order && order->size() != std::size_t(set_.count))
        throw error("batch_maker: an order of " + std::to_string(order->size()) + " for " + std::to_string(set_.count) + " pictures");
    if (aug && (aug->pad < 0 || aug->pad > In::height))
        throw error("batch_maker: crop padding " + std::to_string(aug->pad) + " is outside 0.." + std::to_string(In::height));
    normal_stream rng(seed_ ^ (std::uint64_t(epoch) << 32 ^ std::uint64_t(b)) * 0x94d049bb133111ebull);
    x.resize(n);
    labels.resize(std::size_t(n));
    constexpr int C = In::channels, H = In::height, W = In::width;
    for (int s = 0; s < n; ++s) {
        const std::int64_t i = order ? (*order)[std::size_t(first + s)] : first + s;
        const std::uint8_t* p = set_.pixels.data() + std::size_t(i) * C * H * W;
        labels[std::size_t(s)] = set_.labels[std::size_t(i)];
        int dy = 0, dx = 0;
        bool flip = false;
        if (aug) {
            const int span = 2 * aug->pad + 1;
            dy = int(rng.next_u64() % std::uint64_t(span)) - aug->pad;
            dx = int(rng.next_u64() % std::uint64_t(span)) - aug->pad;
            flip = aug->flip && (rng.next_u64() & 1);
        }
        float* out = x.sample(s);
        for (int c = 0; c < C; ++c) {
            const float inv = inv_std_[std::size_t(c)];
            for (int y = 0; y < H; ++y) {
                const int sy = y + dy;
                for (int xo = 0; xo < W; ++xo) {
                    const int sx = (flip ? W - 1 - xo : xo) + dx;
                    float v = 0.f;  // outside the picture: the mean
                    if (sy >= 0 && sy < H && sx >= 0 && sx < W) {
                        const std::size_t at = (std::size_t(c) * H + sy) * W + sx;
                        v = (float(p[at]) * (1.f / 255.f) - mean_[at]) * inv;
                    }
                    out[(std::size_t(c) * H + y) * W + xo] = v;
                }
            }
        }
    }
}

}  // namespace convis
