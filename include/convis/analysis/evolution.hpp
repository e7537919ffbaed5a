#pragma once
// Feature evolution during training (the paper's Fig. 4): for chosen channels of chosen layers and
// for each weight snapshot, the strongest activation over a data set, projected to pixels by the
// deconvnet with that snapshot's weights. One grid per layer: a row per channel, a column per
// snapshot.
//
// Per snapshot, one pass over the data serves every layer (the model keeps every layer's output);
// then per layer, the channels' strongest pictures run forward as one batch and project in one
// pass, each picture its own channel's position. Opt-in like io/image.hpp.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../data/pictures.hpp"
#include "../io/grid.hpp"
#include "../io/weights.hpp"
#include "../net/deconvnet.hpp"
#include "top_activations.hpp"
#include "top_images.hpp"

namespace convis {

struct evolution_options {
    std::vector<int> layers;                 ///< layer indices; empty: every Conv2d layer
    std::vector<std::vector<int>> channels;  ///< per layer; empty: `per_layer` seeded random channels
    int per_layer = 6;
    std::uint64_t seed = 1;
    std::int64_t limit = 0;                  ///< pictures searched (the first `limit`); 0: all
    int batch = 100;
    projection_options projection{};
    int min_tile = 48;
};

struct evolution_result {
    std::vector<int> layers;
    std::vector<std::vector<int>> channels;  ///< per layer
    /// [layer][channel][snapshot]: where the strongest activation was
    std::vector<std::vector<std::vector<top_entry>>> strongest;
    std::vector<image> grids;                ///< per layer: rows = channels, columns = snapshots
};

/// Loads each snapshot file into `model` in turn (its weights are left at the last snapshot's).
template <class M>
evolution_result evolution(M& model, const std::vector<std::string>& snapshots, const picture_set& pictures,
                           const preprocess& pre, const evolution_options& o = {});

// ---- details ------------------------------------------------------------------------------------

template <class M>
evolution_result evolution(M& model, const std::vector<std::string>& snapshots, const picture_set& pictures,
                           const preprocess& pre, const evolution_options& o) {
    using Net = typename M::net_type;
    using In = typename Net::input_shape;
    using T = typename M::value_type;
    if (snapshots.empty()) throw error("evolution: no snapshot given");
    if (pictures.size() == 0) throw error("evolution: the data set is empty");
    if (o.batch < 1) throw error("evolution: batch must be at least 1, got " + std::to_string(o.batch));
    const std::vector<layer_row> table = model.layer_table();
    evolution_result r;
    r.layers = o.layers;
    if (r.layers.empty())
        for (int i = 0; i < Net::size; ++i)
            if (Net::kinds[std::size_t(i)] == "Conv2d" || Net::kinds[std::size_t(i)] == "Residual") r.layers.push_back(i);
    if (r.layers.empty()) throw error("evolution: the network has no convolution layer; name the layers");
    if (!o.channels.empty() && o.channels.size() != r.layers.size())
        throw error("evolution: channel lists for " + std::to_string(o.channels.size()) + " layers, " +
                    std::to_string(r.layers.size()) + " layers chosen");
    for (std::size_t l = 0; l < r.layers.size(); ++l) {
        const int layer = r.layers[l];
        if (layer < 0 || layer >= Net::size)
            throw error("evolution: layer " + std::to_string(layer) + " is outside 0.." + std::to_string(Net::size - 1));
        const int c = int(table[std::size_t(layer)].output[0]);
        r.channels.push_back(!o.channels.empty() ? o.channels[l]
                                                 : random_channels(c, std::min(c, o.per_layer), o.seed + std::uint64_t(layer)));
    }
    const auto dims = [&](int layer) {
        const auto& out = table[std::size_t(layer)].output;
        return std::array<int, 3>{int(out[0]), out.size() == 3 ? int(out[1]) : 1, out.size() == 3 ? int(out[2]) : 1};
    };
    const std::int64_t count = o.limit > 0 ? std::min(o.limit, pictures.size()) : pictures.size();
    r.strongest.assign(r.layers.size(), {});
    std::vector<std::vector<std::vector<image>>> tiles(r.layers.size());  // [layer][channel][snapshot]
    for (std::size_t l = 0; l < r.layers.size(); ++l) {
        r.strongest[l].assign(r.channels[l].size(), {});
        tiles[l].assign(r.channels[l].size(), {});
    }

    Deconvnet<M> deconv(model);
    Tensor<In, T> x, one;
    std::vector<image> seen1;
    for (const std::string& snapshot : snapshots) {
        load_weights(model, snapshot);
        model.eval();
        std::vector<top_k_tracker> top;
        for (std::size_t l = 0; l < r.layers.size(); ++l) {
            const auto d = dims(r.layers[l]);
            top.emplace_back(r.channels[l], 1, d[0], d[1], d[2], table[std::size_t(r.layers[l])].field, In::height,
                             In::width, table[std::size_t(r.layers[l])].name);
        }
        for (std::int64_t first = 0; first < count; first += o.batch) {
            const int n = int(std::min<std::int64_t>(o.batch, count - first));
            load_batch(pictures, first, n, pre, x);
            model.forward(x);
            for (std::size_t l = 0; l < r.layers.size(); ++l) top[l].add(model.output_data(r.layers[l]), n, first);
        }
        for (std::size_t l = 0; l < r.layers.size(); ++l) {
            const int layer = r.layers[l];
            const auto d = dims(layer);
            const std::size_t map = std::size_t(d[0]) * d[1] * d[2];
            const std::vector<top_entry> best = top[l].entries();  // one per channel, in channel order
            const int k = int(best.size());
            x.resize(k);
            std::vector<image> pics(best.size());
            for (int n = 0; n < k; ++n) {
                load_batch(pictures, best[std::size_t(n)].image, 1, pre, one, &seen1);
                std::copy_n(one.sample(0), In::size, x.sample(n));
                pics[std::size_t(n)] = std::move(seen1[0]);
            }
            model.forward(x);
            std::vector<T> signal(std::size_t(k) * map, T(0));
            const T* a = model.output_data(layer);
            for (int n = 0; n < k; ++n) {
                const top_entry& e = best[std::size_t(n)];
                const std::size_t at = std::size_t(n) * map + (std::size_t(e.channel) * d[1] + e.y) * d[2] + e.x;
                signal[at] = a[at];
            }
            const auto projected = deconv.project(layer, signal.data(), o.projection);
            for (int n = 0; n < k; ++n) {
                const top_entry& e = best[std::size_t(n)];
                tiles[l][std::size_t(n)].push_back(projection_tile(projected.sample(n), In::channels, In::height, In::width,
                                                                   table[std::size_t(layer)].field, e.y, e.x, o.min_tile));
                r.strongest[l][std::size_t(n)].push_back(e);
            }
        }
    }
    for (std::size_t l = 0; l < r.layers.size(); ++l) {
        std::vector<image> flat;
        for (auto& row : tiles[l])
            for (auto& t : row) flat.push_back(std::move(t));
        r.grids.push_back(tile_grid(flat, int(r.channels[l].size()), int(snapshots.size()), 1));
    }
    return r;
}

}  // namespace convis
