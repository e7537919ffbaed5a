#pragma once
// Correspondence analysis (the paper's Sec. 4.3, Fig. 8, Table 1): the same part (say the left eye)
// is masked in each of a few images; if a layer encodes the part consistently, the masking changes
// its features the same way in every image.
//
// For image i and a layer, ε_i = f(x_i) − f(x̃_i), the original minus the masked image's flattened
// output. For each pair i < j, d_ij is the fraction of dimensions where sign(ε_i) ≠ sign(ε_j), with
// sign(0) = 0 (post-ReLU and pooled units are often exactly unchanged). The paper's Δ is a sum of
// Hamming distances, but Table 1 reports values below 1 as mean ± std, which matches the mean over
// pairs of this normalised distance (PAPER.md §7); the std is the population std over pairs, and
// every pair's d_ij is returned (their sum times the dimension is the paper's Δ / 2).
//
// The baseline ("Random" in Table 1): each image gets a box of its part box's size placed uniformly
// at random over the positions inside the image, drawn `random` times from a seeded
// std::mt19937_64; the pairs of every draw (pairs within a draw) are pooled into one mean ± std.
//
// An original and its masked copies always run in the same slot of equally sized batches, so a
// unit whose receptive field misses the mask computes bit for bit the same value in both and its ε
// is exactly 0, whatever the batch layout of the convolution kernels.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "layer_choice.hpp"
#include "transforms.hpp"

namespace convis {

/// A rectangle of input pixels: rows [y, y + height), columns [x, x + width).
/// Reads "y,x,h,w;y,x,h,w;..." (spaces allowed around numbers): one box per image. A convis::error
/// names the item that is not four integers with a positive height and width.
inline std::vector<box> parse_boxes(std::string_view text);

struct correspondence_options {
    std::vector<int> layers;  ///< layer indices; empty: last_pool_layer and penultimate_fc_layer ("layers 5 and 7")
    float fill = 0;           ///< value written into the box, every channel (0: the mean, once subtracted)
    int random = 10;          ///< random box draws for the baseline (0: no baseline)
    std::uint64_t seed = 1;
    int batch = 32;           ///< images per forward
};

struct sign_change_stats {
    double mean = 0, std = 0;   ///< over pairs; std is the population std
    std::vector<double> pairs;  ///< d_ij for i < j in order (0,1), (0,2), …, (1,2), …; draws one after another
};

struct correspondence_layer {
    int layer;
    std::string name;
    sign_change_stats part, random;
};

struct correspondence_result {
    std::vector<correspondence_layer> layers;
    std::vector<std::vector<box>> random_boxes;  ///< [draw][image]: where the baseline's boxes went
};

/// Runs the analysis on `n` >= 2 preprocessed samples (`inputs`: n × C × H × W, contiguous), one
/// part box per image; a box not wholly inside the image is an error naming it. Eval mode.
template <class M>
correspondence_result correspondence(M& model, const typename M::value_type* inputs, int n,
                                     const std::vector<box>& boxes, const correspondence_options& options = {});

/// The fraction of the `d` dimensions where sign(a) ≠ sign(b), with sign(0) = 0.
template <class T>
double sign_change_fraction(const T* a, const T* b, std::size_t d);

/// d_ij = sign_change_fraction(ε_i, ε_j) over all pairs i < j of `eps` (at least two vectors, all of
/// one size), and their mean and population std.
inline sign_change_stats pair_statistics(const std::vector<std::vector<double>>& eps);

/// For each of `draws` draws, a box per part box: same height and width, placed uniformly over the
/// positions wholly inside a height × width image; deterministic for a seed. [draw][image].
inline std::vector<std::vector<box>> random_boxes(const std::vector<box>& parts, int height, int width, int draws,
                                                  std::uint64_t seed);

// ---- details ------------------------------------------------------------------------------------

namespace correspondence_detail {
inline std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}
/// Mean and population std of `pairs`, which it takes over.
inline sign_change_stats summarise(std::vector<double> pairs) {
    sign_change_stats s;
    s.pairs = std::move(pairs);
    if (s.pairs.empty()) return s;
    double sum = 0;
    for (double p : s.pairs) sum += p;
    s.mean = sum / double(s.pairs.size());
    double var = 0;
    for (double p : s.pairs) var += (p - s.mean) * (p - s.mean);
    s.std = std::sqrt(var / double(s.pairs.size()));
    return s;
}
/// Appends d_ij for i < j of `eps` to `pairs`.
template <class U>
void append_pairs(const std::vector<std::vector<U>>& eps, std::vector<double>& pairs) {
    if (eps.size() < 2)
        throw error("pair_statistics: expected at least two ε vectors, got " + std::to_string(eps.size()));
    for (std::size_t i = 0; i < eps.size(); ++i)
        if (eps[i].size() != eps[0].size())
            throw error("pair_statistics: ε vector " + std::to_string(i) + " has " + std::to_string(eps[i].size()) +
                        " dimensions, vector 0 has " + std::to_string(eps[0].size()));
    for (std::size_t i = 0; i < eps.size(); ++i)
        for (std::size_t j = i + 1; j < eps.size(); ++j)
            pairs.push_back(sign_change_fraction(eps[i].data(), eps[j].data(), eps[i].size()));
}
/// Uniform in [0, n), without the modulo bias and independent of the standard library's
/// distributions (whose output differs between implementations).
inline std::uint64_t uniform_below(std::mt19937_64& g, std::uint64_t n) {
    constexpr std::uint64_t top = std::numeric_limits<std::uint64_t>::max();
    const std::uint64_t limit = top - top % n;  // a multiple of n
    std::uint64_t u;
    do u = g();
    while (u >= limit);
    return u % n;
}
/// `what` names the box in the message ("box 2").
}  // namespace correspondence_detail

inline std::vector<box> parse_boxes(std::string_view text) {
    namespace d = correspondence_detail;
    std::vector<box> out;
    if (d::trim(text).empty()) throw error("parse_boxes: no box given; expected y,x,height,width;...");
    std::size_t item = 0;
    while (true) {
        const std::size_t semi = text.find(';');
        const std::string_view part = d::trim(text.substr(0, semi));
        int v[4];
        int found = 0;
        bool ok = true;
        std::string_view rest = part;
        while (ok) {
            const std::size_t comma = rest.find(',');
            const std::string_view num = d::trim(rest.substr(0, comma));
            if (found == 4) {
                ok = false;
                break;
            }
            const auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), v[found]);
            if (num.empty() || ec != std::errc() || end != num.data() + num.size()) ok = false;
            else ++found;
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
        if (!ok || found != 4)
            throw error("parse_boxes: box " + std::to_string(item) + " '" + std::string(part) +
                        "' is not y,x,height,width (four integers)");
        const box b{v[0], v[1], v[2], v[3]};
        if (b.y < 0 || b.x < 0 || b.height < 1 || b.width < 1)
            throw error("parse_boxes: box " + std::to_string(item) + " '" + std::string(part) +
                        "' needs y, x >= 0 and height, width >= 1");
        out.push_back(b);
        ++item;
        if (semi == std::string_view::npos) break;
        text.remove_prefix(semi + 1);
    }
    return out;
}

template <class T>
double sign_change_fraction(const T* a, const T* b, std::size_t d) {
    if (d == 0) throw error("sign_change_fraction: the vectors have no dimensions");
    std::size_t changed = 0;
    for (std::size_t k = 0; k < d; ++k) {
        const int sa = (a[k] > T(0)) - (a[k] < T(0)), sb = (b[k] > T(0)) - (b[k] < T(0));
        changed += sa != sb;
    }
    return double(changed) / double(d);
}

inline sign_change_stats pair_statistics(const std::vector<std::vector<double>>& eps) {
    std::vector<double> pairs;
    correspondence_detail::append_pairs(eps, pairs);
    return correspondence_detail::summarise(std::move(pairs));
}

inline std::vector<std::vector<box>> random_boxes(const std::vector<box>& parts, int height, int width, int draws,
                                                  std::uint64_t seed) {
    if (draws < 0) throw error("random_boxes: the number of draws must be >= 0, got " + std::to_string(draws));
    for (std::size_t i = 0; i < parts.size(); ++i)
        if (parts[i].height < 1 || parts[i].width < 1 || parts[i].height > height || parts[i].width > width)
            throw error("random_boxes: box " + std::to_string(i) + " " + box_detail::describe(parts[i]) +
                        " does not fit in the " + std::to_string(height) + "×" + std::to_string(width) + " image");
    std::mt19937_64 g(seed);
    std::vector<std::vector<box>> out(static_cast<std::size_t>(draws));
    for (auto& draw : out)
        for (const box& p : parts) {
            const int y = int(correspondence_detail::uniform_below(g, std::uint64_t(height - p.height + 1)));
            const int x = int(correspondence_detail::uniform_below(g, std::uint64_t(width - p.width + 1)));
            draw.push_back({y, x, p.height, p.width});
        }
    return out;
}

template <class M>
correspondence_result correspondence(M& model, const typename M::value_type* inputs, int n,
                                     const std::vector<box>& boxes, const correspondence_options& o) {
    using Net = typename M::net_type;
    using In = typename Net::input_shape;
    using T = typename M::value_type;
    namespace d = correspondence_detail;
    if (n < 2) throw error("correspondence: expected at least two images (it compares pairs), got " + std::to_string(n));
    if (boxes.size() != std::size_t(n))
        throw error("correspondence: expected one box per image (" + std::to_string(n) + "), got " +
                    std::to_string(boxes.size()));
    for (std::size_t i = 0; i < boxes.size(); ++i) box_detail::check_inside("correspondence", "box " + std::to_string(i), boxes[i], In::height, In::width);
    if (o.random < 0) throw error("correspondence: random draws must be >= 0, got " + std::to_string(o.random));
    if (o.batch < 1) throw error("correspondence: batch must be at least 1, got " + std::to_string(o.batch));

    const std::vector<layer_row> table = model.layer_table();
    std::vector<int> layers = o.layers;
    if (layers.empty()) layers = {last_pool_layer(table), penultimate_fc_layer(table)};
    std::vector<std::size_t> sizes;
    for (int layer : layers) {
        if (layer < 0 || layer >= Net::size)
            throw error("correspondence: layer " + std::to_string(layer) + " is outside 0.." +
                        std::to_string(Net::size - 1));
        std::size_t s = 1;
        for (std::int64_t e : table[std::size_t(layer)].output) s *= std::size_t(e);
        sizes.push_back(s);
    }

    correspondence_result r;
    r.random_boxes = random_boxes(boxes, In::height, In::width, o.random, o.seed);
    model.eval();
    const std::size_t L = layers.size(), variants = 1 + std::size_t(o.random);  // the part boxes, then each draw
    // eps[variant][layer][image]
    std::vector<std::vector<std::vector<std::vector<T>>>> eps(
        variants, std::vector<std::vector<std::vector<T>>>(L, std::vector<std::vector<T>>(std::size_t(n))));
    std::vector<std::vector<T>> original(L);
    Tensor<In, T> x;
    for (int first = 0; first < n; first += o.batch) {
        const int count = std::min(o.batch, n - first);
        x.resize(count);
        std::copy_n(inputs + std::size_t(first) * In::size, std::size_t(count) * In::size, x.data());
        model.forward(x);
        for (std::size_t l = 0; l < L; ++l) {
            const T* out = model.output_data(layers[l]);
            original[l].assign(out, out + std::size_t(count) * sizes[l]);
        }
        for (std::size_t v = 0; v < variants; ++v) {
            for (int k = 0; k < count; ++k) {
                const std::size_t i = std::size_t(first + k);
                T* s = x.sample(k);
                std::copy_n(inputs + i * In::size, In::size, s);
                fill_box(s, In::channels, In::height, In::width, v == 0 ? boxes[i] : r.random_boxes[v - 1][i], T(o.fill));
            }
            model.forward(x);
            for (std::size_t l = 0; l < L; ++l) {
                const T* out = model.output_data(layers[l]);
                for (int k = 0; k < count; ++k) {
                    std::vector<T>& e = eps[v][l][std::size_t(first + k)];
                    e.resize(sizes[l]);
                    const std::size_t at = std::size_t(k) * sizes[l];
                    for (std::size_t u = 0; u < sizes[l]; ++u) e[u] = original[l][at + u] - out[at + u];
                }
            }
        }
    }
    for (std::size_t l = 0; l < L; ++l) {
        correspondence_layer c{layers[l], table[std::size_t(layers[l])].name, {}, {}};
        std::vector<double> pairs;
        d::append_pairs(eps[0][l], pairs);
        c.part = d::summarise(std::move(pairs));
        pairs.clear();
        for (std::size_t v = 1; v < variants; ++v) d::append_pairs(eps[v][l], pairs);
        c.random = d::summarise(std::move(pairs));
        r.layers.push_back(std::move(c));
    }
    return r;
}

}  // namespace convis
