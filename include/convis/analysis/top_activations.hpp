#pragma once
// The k strongest activations of a layer's channels over a data set streamed in batches (the
// paper's Fig. 2 selects, per feature map, the 9 images that excite it most). Memory is bounded by
// channels × k, whatever the data set's size.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../net/init.hpp"

namespace convis {

/// A rectangle of input pixels, half-open: rows [y0, y1), columns [x0, x1).
struct pixel_box {
    int y0, x0, y1, x1;
    bool operator==(const pixel_box&) const = default;
};

/// One of a channel's strongest activations: which image, where in the map, how strong, and the
/// input patch its receptive field covers (clipped to the image).
struct top_entry {
    int channel;
    int rank;             ///< 0 = strongest
    std::int64_t image;   ///< index in the data set
    int y, x;             ///< position in the layer's map (0, 0 for flat layers)
    double value;
    pixel_box patch;
};

/// The input patch seen by unit (y, x) of layer I of Net, clipped to the input image.
template <class Net, int I>
pixel_box receptive_patch(int y, int x) {
    using In = typename Net::input_shape;
    constexpr receptive_field rf = Net::template field_after<I>();
    if (rf.global) return {0, 0, In::height, In::width};
    const int y0 = rf.start + y * rf.stride, x0 = rf.start + x * rf.stride;
    return {std::max(y0, 0), std::max(x0, 0), std::min(y0 + rf.size, In::height), std::min(x0 + rf.size, In::width)};
}

/// `count` distinct channels out of `channels`, drawn with a seed (the paper shows a random subset),
/// in increasing order.
inline std::vector<int> random_channels(int channels, int count, std::uint64_t seed) {
    if (count < 0 || count > channels)
        throw error("random_channels: cannot draw " + std::to_string(count) + " of " + std::to_string(channels) + " channels");
    std::vector<int> all(channels);
    std::iota(all.begin(), all.end(), 0);
    normal_stream rng(seed);
    for (int i = 0; i < count; ++i) std::swap(all[i], all[i + int(rng.next_u64() % std::uint64_t(channels - i))]);
    all.resize(count);
    std::sort(all.begin(), all.end());
    return all;
}

/// Collects, for each chosen channel of layer I, the k strongest per-image maxima (one entry per
/// image: the maximum of the channel's map, first in row-major order) over every batch added.
template <class Net, int I>
class top_activations {
public:
    using shape = typename Net::template shape_after<I>;

    /// `channels` empty: every channel of the layer.
    explicit top_activations(std::vector<int> channels = {}, int k = 9) : channels_(std::move(channels)), k_(k) {
        if (k < 1) throw error("top_activations: k must be at least 1, got " + std::to_string(k));
        if (channels_.empty()) {
            channels_.resize(shape::channels);
            std::iota(channels_.begin(), channels_.end(), 0);
        }
        for (int c : channels_)
            if (c < 0 || c >= shape::channels)
                throw error("top_activations: channel " + std::to_string(c) + " is outside layer " + Net::name(I) + "'s " +
                            std::to_string(shape::channels) + " channels");
        kept_.resize(channels_.size());
    }

    /// Reads layer I's output of `model`'s last forward, whose sample n is data-set image
    /// first_image + n.
    template <class M>
    void add(const M& model, std::int64_t first_image) {
        static_assert(std::is_same_v<typename M::net_type, Net>, "top_activations: the model is of another network");
        const auto a = model.template output<I>();
        const std::size_t plane = std::size_t(shape::height) * shape::width;
        for (std::size_t ci = 0; ci < channels_.size(); ++ci) {
            const int c = channels_[ci];
            auto& kept = kept_[ci];
            for (int n = 0; n < a.batch(); ++n) {
                const auto* p = a.sample(n) + std::size_t(c) * plane;
                const std::size_t at = std::size_t(std::max_element(p, p + plane) - p);
                const int y = int(at / shape::width), x = int(at % shape::width);
                kept.push_back({c, 0, first_image + n, y, x, double(p[at]), receptive_patch<Net, I>(y, x)});
                // Keep the k best: stronger first, earlier image first among equals.
                std::sort(kept.begin(), kept.end(), [](const top_entry& l, const top_entry& r) {
                    return l.value > r.value || (l.value == r.value && l.image < r.image);
                });
                if (int(kept.size()) > k_) kept.pop_back();
            }
        }
    }

    /// Every channel's entries, strongest first, ranks filled in.
    std::vector<top_entry> entries() const {
        std::vector<top_entry> out;
        for (const auto& kept : kept_)
            for (std::size_t r = 0; r < kept.size(); ++r) {
                out.push_back(kept[r]);
                out.back().rank = int(r);
            }
        return out;
    }
    const std::vector<int>& channels() const { return channels_; }
    int k() const { return k_; }

private:
    std::vector<int> channels_;
    int k_;
    std::vector<std::vector<top_entry>> kept_;
};

}  // namespace convis
