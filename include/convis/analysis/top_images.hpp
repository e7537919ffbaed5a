#pragma once
// The paper's Fig. 2 for a model and a data set: for each chosen channel of layer I, the k
// pictures that excite it most, each as its deconvnet projection beside the image patch under the
// activation's receptive field.
//
// Two passes over the data. The first streams every picture in batches and keeps each channel's k
// strongest per-image maxima (top_activations: memory bounded by channels × k). The second reads
// the k pictures of one channel again, runs them forward as one batch, and projects each
// picture's own strongest position to pixels (one batch, one projection per channel).
//
// Opt-in like io/image.hpp (stb is compiled into the including file).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../data/pictures.hpp"
#include "../io/grid.hpp"
#include "../net/deconvnet.hpp"
#include "runtime_model.hpp"
#include "top_activations.hpp"

namespace convis {

struct top_images_options {
    std::vector<int> channels;        ///< empty: every channel of the layer
    int k = 9;                        ///< pictures per channel
    int batch = 32;                   ///< pictures per forward in the first pass
    projection_options projection{};  ///< the paper's deconvnet by default
    int min_tile = 64;                ///< patches smaller than this many pixels are enlarged (nearest)
    int rows = 3, cols = 3;           ///< the block layout of each half (rows × cols ≥ k to show all)
};

struct top_images_result {
    std::vector<top_entry> entries;   ///< per channel, strongest first
    std::vector<int> channels;
    std::vector<image> blocks;        ///< per channel: projections | patches (figure2_block)
};

/// Runs both passes on `model` for its layer `layer` (index, run time; runtime_model::find gives it
/// from a name). The model's mode is set to eval; its trace is overwritten.
///
/// Tiles: the patch is the receptive field of the activation, [start + y·stride, … + size) in each
/// direction, black where it leaves the picture; when the field is at least as large as the
/// picture (deep layers of small inputs, fully connected layers) the tile is the whole picture. The
/// projection is cropped to the same box and contrast-stretched on its own (stretch_symmetric), so
/// each tile uses its full grey range, as the paper's figures do.
///
/// Written over runtime_model (analysis/runtime_model.hpp): compiled once, not per network.
inline top_images_result top_images(runtime_model<float>& model, int layer, const picture_set& pictures,
                                    const preprocess& pre, const top_images_options& o = {});
/// The same on a typed Model, through runtime_view.
template <class M>
    requires requires { typename M::net_type; }
top_images_result top_images(M& model, int layer, const picture_set& pictures, const preprocess& pre,
                             const top_images_options& o = {}) {
    runtime_view<M> view(model);
    return top_images(view, layer, pictures, pre, o);
}

/// The first pass for several layers at once: streams every picture once, in batches of `batch`,
/// and keeps each layer's chosen channels' k strongest per-picture maxima (channels[i] empty: all
/// of layers[i]). Memory: one batch and layers × channels × k entries.
inline std::vector<top_k_tracker> stream_top_activations(runtime_model<float>& model, const std::vector<int>& layers,
                                                         const std::vector<std::vector<int>>& channels, int k,
                                                         const picture_set& pictures, const preprocess& pre, int batch);

/// The second pass for one channel of `layer`: the pictures of its `entries` (strongest first,
/// as a tracker gives them) read again, run forward as one batch, each projected from its own
/// strongest position; returns the block (top_images_block).
inline image channel_block(runtime_model<float>& model, int layer, const std::vector<top_entry>& entries,
                           const picture_set& pictures, const preprocess& pre, const top_images_options& o);

/// The tile of a projection (network input scale, C×H×W) for unit (y, x) of a layer whose
/// receptive field is `field`: cropped to the field's box (see top_images), contrast-stretched on
/// its own, enlarged (nearest) to at least `min_tile` pixels.
image projection_tile(const float* projection, int channels, int height, int width, const receptive_field& field,
                      int y, int x, int min_tile);
/// The same box of the picture the network saw (0..255), enlarged alike.
image patch_tile(const image& picture, const receptive_field& field, int y, int x, int min_tile);

/// Lays out one channel's tiles: projections (network input scale) and the pictures the network
/// saw, with the activations' positions; not a template, compiled once.
image top_images_block(const std::vector<std::vector<float>>& projections, const std::vector<image>& pictures,
                       const std::vector<top_entry>& entries, const receptive_field& field, const top_images_options& o);

// ---- details ------------------------------------------------------------------------------------

namespace top_images_detail {

/// The tile box of unit (y, x) of a layer with receptive field rf on an H×W input.
inline pixel_box tile_box(const receptive_field& rf, int y, int x, int height, int width) {
    if (rf.global || rf.size >= std::min(height, width)) return {0, 0, height, width};
    const int y0 = rf.start + y * rf.stride, x0 = rf.start + x * rf.stride;
    return {y0, x0, y0 + rf.size, x0 + rf.size};
}

inline int tile_factor(const pixel_box& b, int min_tile) {
    const int side = std::max(b.y1 - b.y0, b.x1 - b.x0);
    return std::max(1, (min_tile + side - 1) / side);
}

}  // namespace top_images_detail

inline image projection_tile(const float* projection, int channels, int height, int width, const receptive_field& field,
                             int y, int x, int min_tile) {
    const pixel_box b = top_images_detail::tile_box(field, y, x, height, width);
    const int h = b.y1 - b.y0, w = b.x1 - b.x0;
    const image raw = crop(from_plane(projection, channels, height, width), b.y0, b.x0, h, w);
    return enlarge(stretch_symmetric(raw.pixels.data(), raw.channels, h, w), top_images_detail::tile_factor(b, min_tile));
}

inline image patch_tile(const image& picture, const receptive_field& field, int y, int x, int min_tile) {
    const pixel_box b = top_images_detail::tile_box(field, y, x, picture.height, picture.width);
    return enlarge(crop(picture, b.y0, b.x0, b.y1 - b.y0, b.x1 - b.x0), top_images_detail::tile_factor(b, min_tile));
}

inline image top_images_block(const std::vector<std::vector<float>>& projections, const std::vector<image>& pictures,
                              const std::vector<top_entry>& entries, const receptive_field& field,
                              const top_images_options& o) {
    std::vector<image> shown, patches;
    for (std::size_t n = 0; n < entries.size(); ++n) {
        const image& pic = pictures[n];
        shown.push_back(projection_tile(projections[n].data(), pic.channels, pic.height, pic.width, field, entries[n].y,
                                        entries[n].x, o.min_tile));
        patches.push_back(patch_tile(pic, field, entries[n].y, entries[n].x, o.min_tile));
    }
    return figure2_block(shown, patches, o.rows, o.cols);
}

inline std::vector<top_k_tracker> stream_top_activations(runtime_model<float>& model, const std::vector<int>& layers,
                                                         const std::vector<std::vector<int>>& channels, int k,
                                                         const picture_set& pictures, const preprocess& pre, int batch) {
    if (pictures.size() == 0) throw error("top_images: the data set is empty");
    if (batch < 1) throw error("top_images: batch must be at least 1, got " + std::to_string(batch));
    const auto& table = model.layers();
    const input_dims in = model.input();
    std::vector<top_k_tracker> trackers;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const int layer = layers[i];
        if (layer < 0 || std::size_t(layer) >= table.size())
            throw error("top_images: layer " + std::to_string(layer) + " is outside 0.." + std::to_string(table.size() - 1));
        const layer_row& row = table[std::size_t(layer)];
        const int C = int(row.output[0]), H = row.output.size() == 3 ? int(row.output[1]) : 1,
                  W = row.output.size() == 3 ? int(row.output[2]) : 1;
        trackers.emplace_back(i < channels.size() ? channels[i] : std::vector<int>{}, k, C, H, W, row.field, in.height,
                              in.width, row.name);
    }
    model.eval();
    std::vector<float> x;
    for (std::int64_t first = 0; first < pictures.size(); first += batch) {
        const int n = int(std::min<std::int64_t>(batch, pictures.size() - first));
        x.resize(std::size_t(n) * in.size());
        load_batch(pictures, first, n, pre, in, x.data());
        model.forward(x.data(), n);
        for (std::size_t i = 0; i < layers.size(); ++i) trackers[i].add(model.output(layers[i]), n, first);
    }
    return trackers;
}

inline image channel_block(runtime_model<float>& model, int layer, const std::vector<top_entry>& entries,
                           const picture_set& pictures, const preprocess& pre, const top_images_options& o) {
    const layer_row& row = model.layers().at(std::size_t(layer));
    const int H = row.output.size() == 3 ? int(row.output[1]) : 1, W = row.output.size() == 3 ? int(row.output[2]) : 1;
    const std::size_t map_size = model.sample_size(layer);
    const input_dims in = model.input();
    // The k best are scattered over the data set: read them one by one into one batch.
    const int k = int(entries.size());
    if (k == 0) throw error("top_images: no entries for a block of layer " + row.name);
    std::vector<float> x(std::size_t(k) * in.size());
    std::vector<image> seen(entries.size()), one_seen;
    for (int n = 0; n < k; ++n) {
        load_batch(pictures, entries[std::size_t(n)].image, 1, pre, in, x.data() + std::size_t(n) * in.size(), &one_seen);
        seen[std::size_t(n)] = std::move(one_seen[0]);
    }
    model.eval();
    model.forward(x.data(), k);
    // Each picture keeps its own strongest activation, at the trace's value.
    std::vector<float> signal(std::size_t(k) * map_size, 0.f);
    const float* a = model.output(layer);
    for (int n = 0; n < k; ++n) {
        const top_entry& e = entries[std::size_t(n)];
        const std::size_t at = std::size_t(n) * map_size + (std::size_t(e.channel) * H + e.y) * W + e.x;
        signal[at] = a[at];
    }
    const float* projected = model.project(layer, signal.data(), o.projection);
    std::vector<std::vector<float>> tiles;
    for (int n = 0; n < k; ++n)
        tiles.emplace_back(projected + std::size_t(n) * in.size(), projected + std::size_t(n + 1) * in.size());
    return top_images_block(tiles, seen, entries, row.field, o);
}

inline top_images_result top_images(runtime_model<float>& model, int layer, const picture_set& pictures,
                                    const preprocess& pre, const top_images_options& o) {
    if (o.rows * o.cols < o.k)
        throw error("top_images: a " + std::to_string(o.rows) + "×" + std::to_string(o.cols) + " block cannot show k = " +
                    std::to_string(o.k) + " pictures");
    if (pictures.size() == 0) throw error("top_images: the data set is empty");
    if (layer < 0 || std::size_t(layer) >= model.layers().size())
        throw error("top_images: layer " + std::to_string(layer) + " is outside 0.." +
                    std::to_string(model.layers().size() - 1));
    const auto trackers = stream_top_activations(model, {layer}, {o.channels}, o.k, pictures, pre, o.batch);
    top_images_result r;
    r.entries = trackers[0].entries();
    r.channels = trackers[0].channels();
    for (int c : r.channels) {
        std::vector<top_entry> mine;
        for (const auto& e : r.entries)
            if (e.channel == c) mine.push_back(e);
        r.blocks.push_back(channel_block(model, layer, mine, pictures, pre, o));
    }
    return r;
}

}  // namespace convis
