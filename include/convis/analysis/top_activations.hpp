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
#include "../core/receptive_field.hpp"
#include "../core/random.hpp"

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

/// The input patch seen by unit (y, x) of a layer whose receptive field is `rf`, clipped to an
/// input of height × width.
inline pixel_box field_patch(const receptive_field& rf, int y, int x, int height, int width) {
    if (rf.global) return {0, 0, height, width};
    const int y0 = rf.start + y * rf.stride, x0 = rf.start + x * rf.stride;
    return {std::max(y0, 0), std::max(x0, 0), std::min(y0 + rf.size, height), std::min(x0 + rf.size, width)};
}

/// The input patch seen by unit (y, x) of layer I of Net, clipped to the input image.
template <class Net, int I>
pixel_box receptive_patch(int y, int x) {
    using In = typename Net::input_shape;
    return field_patch(Net::template field_after<I>(), y, x, In::height, In::width);
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

/// The k strongest per-image maxima of chosen channels of one layer, shapes given at run time:
/// the core of top_activations, for code that picks the layer at run time (one instantiation per
/// network instead of one per layer). `field` is the layer's receptive field on an input of
/// input_height × input_width; `layer` names it in messages.
class top_k_tracker {
public:
    top_k_tracker(std::vector<int> channels, int k, int map_channels, int map_height, int map_width,
                  receptive_field field, int input_height, int input_width, std::string layer)
        : channels_(std::move(channels)), k_(k), c_(map_channels), h_(map_height), w_(map_width), field_(field),
          in_h_(input_height), in_w_(input_width) {
        if (k < 1) throw error("top_activations: k must be at least 1, got " + std::to_string(k));
        if (channels_.empty()) {
            channels_.resize(std::size_t(c_));
            std::iota(channels_.begin(), channels_.end(), 0);
        }
        for (int c : channels_)
            if (c < 0 || c >= c_)
                throw error("top_activations: channel " + std::to_string(c) + " is outside layer " + layer + "'s " +
                            std::to_string(c_) + " channels");
        kept_.resize(channels_.size());
    }

    /// Reads a batch of the layer's maps (batch × C × H × W, contiguous, host memory) whose sample n
    /// is data-set image first_image + n.
    template <class T>
    void add(const T* maps, int batch, std::int64_t first_image) {
        const std::size_t plane = std::size_t(h_) * w_;
        for (std::size_t ci = 0; ci < channels_.size(); ++ci) {
            const int c = channels_[ci];
            auto& kept = kept_[ci];
            for (int n = 0; n < batch; ++n) {
                const T* p = maps + (std::size_t(n) * c_ + std::size_t(c)) * plane;
                const std::size_t at = std::size_t(std::max_element(p, p + plane) - p);
                const int y = int(at / std::size_t(w_)), x = int(at % std::size_t(w_));
                kept.push_back({c, 0, first_image + n, y, x, double(p[at]), patch(y, x)});
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

    /// The input patch seen by unit (y, x), clipped to the input.
    pixel_box patch(int y, int x) const { return field_patch(field_, y, x, in_h_, in_w_); }

private:
    std::vector<int> channels_;
    int k_, c_, h_, w_;
    receptive_field field_;
    int in_h_, in_w_;
    std::vector<std::vector<top_entry>> kept_;
};

/// Collects, for each chosen channel of layer I, the k strongest per-image maxima (one entry per
/// image: the maximum of the channel's map, first in row-major order) over every batch added.
template <class Net, int I>
class top_activations {
public:
    using shape = typename Net::template shape_after<I>;

    /// `channels` empty: every channel of the layer.
    explicit top_activations(std::vector<int> channels = {}, int k = 9)
        : core_(std::move(channels), k, shape::channels, shape::height, shape::width, Net::template field_after<I>(),
                Net::input_shape::height, Net::input_shape::width, Net::name(I)) {}

    /// Reads layer I's output of `model`'s last forward, whose sample n is data-set image
    /// first_image + n.
    template <class M>
    void add(const M& model, std::int64_t first_image) {
        static_assert(std::is_same_v<typename M::net_type, Net>, "top_activations: the model is of another network");
        const auto a = model.template output<I>();
        core_.add(a.data(), a.batch(), first_image);
    }

    std::vector<top_entry> entries() const { return core_.entries(); }
    const std::vector<int>& channels() const { return core_.channels(); }
    int k() const { return core_.k(); }

private:
    top_k_tracker core_;
};

}  // namespace convis
