#pragma once
// An atlas of a network: a static, self-contained web site with a page per layer and per channel,
// so that a reader can walk a whole network unit by unit.
//
//     convis::write_atlas(session, pictures, pre, "out/atlas", {});   // then open out/atlas/index.html
//
// A channel's page shows
//   - its feature visualisation (feature_vis/visualise.hpp): the picture it most responds to;
//   - its top-k pictures of the data set with their deconvnet projections and patches (the paper's
//     Fig. 2, top_images.hpp), and a table of where they come from;
//   - its weights, for the first layer (the paper's Fig. 2 shows layer 1's filters);
//   - links to its neighbouring units: the previous and next channel of its layer, the channels
//     of the layer below that feed it most (by the norm of its weights from each) and those of the
//     layer above that it feeds most, each with its visualisation as a thumbnail.
// A layer's page shows every channel's visualisation, linked to its page; the index lists the
// layers. Everything is relative files in one folder (pages, img/*.png): nothing is loaded from
// anywhere else, so the folder can be copied, served or opened from disk.
//
// The data set is streamed once, for every layer at the same time (stream_top_activations: one
// batch and layers × channels × k entries in memory); each channel's k pictures are then read
// again by index for their projections. Pictures are written as each layer is done.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../data/pictures.hpp"
#include "../io/grid.hpp"
#include "../io/html.hpp"
#include "../io/image.hpp"
#include "feature_vis.hpp"
#include "runtime_model.hpp"
#include "top_images.hpp"

namespace convis {

struct atlas_options {
    std::vector<int> layers;              ///< the layers with pages; empty: every Conv2d layer
    int max_channels = 0;                 ///< pages for the first n channels of each layer; 0: all
    int k = 9;                            ///< top pictures per channel
    int batch = 64;                       ///< pictures per forward while streaming
    projection_options projection{};      ///< the paper's deconvnet by default
    feature_vis_options visualisation{};  ///< the feature visualisations' settings
    int neighbours = 6;                   ///< linked channels of the layers below and above
    std::string title = "convis atlas";
    std::string about;                    ///< a line under the index's title (model, weights, data)
    bool progress = false;                ///< one line per layer on stderr
};

struct atlas_layer {
    std::string name;
    int layer = 0;
    int channels = 0;               ///< with pages
    double own_channel_fraction;    ///< own_channel_response's fraction (NaN for one channel)
};

struct atlas_summary {
    std::int64_t pictures = 0;
    int pages = 0;
    std::vector<atlas_layer> layers;
};

/// Writes the atlas of `model` over `pictures` (preprocessed by `pre`) into folder `dir` (created;
/// files there of the same names are replaced). index.html is written last.
inline atlas_summary write_atlas(runtime_model<float>& model, const picture_set& pictures, const preprocess& pre,
                                 const std::string& dir, const atlas_options& o = {});

// ---- details ------------------------------------------------------------------------------------

namespace atlas_detail {

/// A file-name-safe form of a layer name ("features.0" → "features_0").
inline std::string slug(const std::string& name) {
    std::string s;
    for (const char c : name) s += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
    return s.empty() ? "layer" : s;
}

/// ‖W[o, i, :, :]‖ for a convolution's weight [O, I, kh, kw]: O × I values.
struct fan {
    int outputs = 0, inputs = 0;
    std::vector<double> norm;
    double at(int out, int in) const { return norm[std::size_t(out) * inputs + std::size_t(in)]; }
};

inline const parameter_ref<float>* weight_of(const std::vector<parameter_ref<float>>& params, const std::string& layer) {
    for (const auto& p : params)
        if (p.name == layer + ".weight" && p.shape.size() == 4) return &p;
    return nullptr;
}

// Whether layer `to`'s weights read layer `from`'s channels: `from` comes first and no layer
// between them mixes channels (a pooling, ReLU or normalisation keeps them apart and in order).
inline bool directly_feeds(const std::vector<layer_row>& table, int from, int to) {
    if (from >= to) return false;
    for (int k = from + 1; k < to; ++k) {
        const std::string_view kind = table[std::size_t(k)].kind;
        if (kind == "Conv2d" || kind == "Linear" || kind == "Residual") return false;
    }
    return true;
}

inline fan fan_of(const parameter_ref<float>& w) {
    fan f;
    f.outputs = int(w.shape[0]);
    f.inputs = int(w.shape[1]);
    const std::size_t k = std::size_t(w.shape[2] * w.shape[3]);
    f.norm.resize(std::size_t(f.outputs) * f.inputs);
    for (std::size_t i = 0; i < f.norm.size(); ++i) {
        double s = 0;
        for (std::size_t j = 0; j < k; ++j) s += double(w.values[i * k + j]) * double(w.values[i * k + j]);
        f.norm[i] = std::sqrt(s);
    }
    return f;
}

/// The `n` largest of `score(i)` for i in 0..count−1, largest first (ties: the lower index).
template <class F>
std::vector<int> strongest(int count, int n, F&& score) {
    std::vector<int> idx(static_cast<std::size_t>(count));
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](int a, int b) {
        const double sa = score(a), sb = score(b);
        return sa != sb ? sa > sb : a < b;
    });
    idx.resize(std::size_t(std::min(n, count)));
    return idx;
}

/// A filter [I, kh, kw] as a picture: colour for 3 inputs, grey for 1, the inputs side by side
/// otherwise (at most 16); contrast-stretched symmetrically, enlarged to about 96 pixels.
inline image filter_picture(const parameter_ref<float>& w, int out) {
    const int I = int(w.shape[1]), kh = int(w.shape[2]), kw = int(w.shape[3]);
    const float* v = w.values.data() + std::size_t(out) * I * kh * kw;
    image img;
    if (I == 1 || I == 3) {
        img = stretch_symmetric(v, I, kh, kw);
    } else {
        std::vector<image> parts;
        for (int i = 0; i < std::min(I, 16); ++i) parts.push_back(stretch_symmetric(v + std::size_t(i) * kh * kw, 1, kh, kw));
        img = stack_horizontal(parts, 1);
    }
    return enlarge(img, std::max(1, 96 / std::max(kh, kw)));
}

inline std::string fmt(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.4g", v);
    return b;
}

inline std::string img_tag(const std::string& src, const std::string& alt, int width, const std::string& cls = "pixelated") {
    return "<img class=\"" + cls + "\" src=\"" + xml_escape(src) + "\" alt=\"" + xml_escape(alt) + "\"" +
           (width > 0 ? " width=\"" + std::to_string(width) + "\"" : std::string()) + ">";
}

inline constexpr const char* extra_style =
    "nav{font-size:.95em;margin-bottom:1em}\n"
    ".grid{display:flex;flex-wrap:wrap;gap:6px}\n"
    ".grid a{display:block;text-align:center;font-size:.8em;color:#444;text-decoration:none}\n"
    ".grid img{display:block;margin-bottom:2px}\n"
    ".row{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}\n";

}  // namespace atlas_detail

inline atlas_summary write_atlas(runtime_model<float>& model, const picture_set& pictures, const preprocess& pre,
                                 const std::string& dir, const atlas_options& o) {
    namespace fs = std::filesystem;
    using namespace atlas_detail;
    const auto& table = model.layers();
    std::vector<int> layers = o.layers;
    if (layers.empty())
        for (const auto& r : table)
            if (r.kind == "Conv2d") layers.push_back(r.index);
    if (layers.empty()) throw error("atlas: the network has no Conv2d layer; name the layers to show");
    for (const int l : layers)
        if (l < 0 || std::size_t(l) >= table.size())
            throw error("atlas: layer " + std::to_string(l) + " is outside 0.." + std::to_string(table.size() - 1));
    for (std::size_t i = 0; i < layers.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (layers[i] == layers[j])
                throw error("atlas: layer " + table[std::size_t(layers[i])].name + " is named twice; each layer gets one page");
    if (o.max_channels < 0) throw error("atlas: max_channels must be ≥ 0, got " + std::to_string(o.max_channels));
    if (o.k < 1) throw error("atlas: k must be ≥ 1, got " + std::to_string(o.k));
    if (o.neighbours < 0) throw error("atlas: neighbours must be ≥ 0, got " + std::to_string(o.neighbours));
    check_options(o.visualisation);  // before the pass over the data, not after it

    std::error_code ec;
    fs::create_directories(fs::path(dir) / "img", ec);
    if (ec || !fs::is_directory(fs::path(dir) / "img")) throw error(dir + ": cannot create the atlas folder");

    // Which channels of each layer get pages, and the slugs.
    const std::size_t L = layers.size();
    std::vector<int> shown(L);
    std::vector<std::string> slugs(L);
    std::vector<std::vector<int>> channels(L);
    for (std::size_t i = 0; i < L; ++i) {
        const int c = int(table[std::size_t(layers[i])].output[0]);
        shown[i] = o.max_channels > 0 ? std::min(c, o.max_channels) : c;
        channels[i].resize(std::size_t(shown[i]));
        std::iota(channels[i].begin(), channels[i].end(), 0);
        slugs[i] = slug(table[std::size_t(layers[i])].name);
    }
    // Page names must not collide: with the index, with another layer's page, or with a channel
    // page in either direction ("conv1_c0" is also conv1's channel 0).
    const auto channel_page_of = [](const std::string& name, const std::string& layer_slug) {
        const std::string prefix = layer_slug + "_c";
        return name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
               name.find_first_not_of("0123456789", prefix.size()) == std::string::npos;
    };
    const auto taken = [&](const std::string& s, std::size_t self) {
        if (s == "index") return true;
        for (std::size_t j = 0; j < L; ++j)
            if (j != self && (slugs[j] == s || channel_page_of(s, slugs[j]) || channel_page_of(slugs[j], s))) return true;
        return false;
    };
    for (std::size_t i = 0; i < L; ++i) {
        const std::string base = slugs[i];
        for (int n = 1; taken(slugs[i], i); ++n) slugs[i] = base + "_" + std::to_string(layers[i]) + (n > 1 ? "_" + std::to_string(n) : "");
    }
    const auto page = [&](std::size_t li, int c) { return slugs[li] + "_c" + std::to_string(c) + ".html"; };
    const auto vis_png = [&](std::size_t li, int c) { return "img/" + slugs[li] + "_c" + std::to_string(c) + "_vis.png"; };
    const input_dims in = model.input();
    const int vis_width = std::max(96, in.width * std::max(1, 112 / in.width));

    // The weights, for the links between neighbouring layers: fans[i] is layer i's weight norms
    // when its inputs are layer i−1's channels.
    const auto params = model.parameter_list();
    std::vector<fan> fans(L);
    std::vector<bool> linked(L, false);
    for (std::size_t i = 0; i < L; ++i) {
        const parameter_ref<float>* w = weight_of(params, table[std::size_t(layers[i])].name);
        if (!w) continue;
        fans[i] = fan_of(*w);
        linked[i] = i > 0 && directly_feeds(table, layers[i - 1], layers[i]) &&
                    fans[i].inputs == int(table[std::size_t(layers[i - 1])].output[0]);
    }
    // The first layer's weights are shown when the first layer with pages is the first convolution.
    const auto first_conv = std::find_if(table.begin(), table.end(), [](const layer_row& r) { return r.kind == "Conv2d"; });
    const parameter_ref<float>* first_weights =
        first_conv != table.end() && first_conv->index == layers[0] ? weight_of(params, first_conv->name) : nullptr;

    // One pass over the data for every layer.
    const auto trackers = stream_top_activations(model, layers, channels, o.k, pictures, pre, o.batch);
    top_images_options block;
    block.k = o.k;
    block.rows = block.cols = 1;
    while (block.rows * block.cols < o.k) (block.rows <= block.cols ? block.rows : block.cols)++;
    block.projection = o.projection;

    atlas_summary summary;
    summary.pictures = pictures.size();
    const std::string projection_name(rectify_mode_name(o.projection.mode));
    for (std::size_t li = 0; li < L; ++li) {
        const int layer = layers[li];
        const layer_row& row = table[std::size_t(layer)];
        if (o.progress) std::fprintf(stderr, "atlas: %s, %d channels\n", row.name.c_str(), shown[li]);
        const auto vis = visualise_features(model, layer, channel_objectives(channels[li]), pre, o.visualisation);
        double fraction = std::nan("");
        std::vector<bool> own(std::size_t(shown[li]), false);
        if (shown[li] > 1) {
            const auto oc = own_channel_response(model, vis, pre, o.visualisation.batch);
            fraction = oc.fraction;
            own = oc.own_best;
        }
        summary.layers.push_back({row.name, layer, shown[li], fraction});
        const int factor = std::max(1, vis_width / in.width);
        const auto entries = trackers[li].entries();
        for (int c = 0; c < shown[li]; ++c) {
            write_png((fs::path(dir) / vis_png(li, c)).string(), enlarge(vis.picture(std::size_t(c)), factor));
            std::vector<top_entry> mine;
            for (const auto& e : entries)
                if (e.channel == c) mine.push_back(e);
            const std::string top_png = "img/" + slugs[li] + "_c" + std::to_string(c) + "_top.png";
            if (!mine.empty()) write_png((fs::path(dir) / top_png).string(), channel_block(model, layer, mine, pictures, pre, block));

            // The page.
            std::string b = "<nav><a href=\"index.html\">" + xml_escape(o.title) + "</a> › <a href=\"" + slugs[li] +
                            ".html\">" + xml_escape(row.name) + "</a> › channel " + std::to_string(c);
            if (c > 0) b += " · <a href=\"" + page(li, c - 1) + "\" rel=\"prev\">‹ channel " + std::to_string(c - 1) + "</a>";
            if (c + 1 < shown[li])
                b += " · <a href=\"" + page(li, c + 1) + "\" rel=\"next\">channel " + std::to_string(c + 1) + " ›</a>";
            b += "</nav>\n<h1>" + xml_escape(row.name) + " · channel " + std::to_string(c) + "</h1>\n<div class=\"row\">\n";
            b += "<figure>" + img_tag(vis_png(li, c), "feature visualisation", vis_width) +
                 "<figcaption>Feature visualisation: the picture that maximises the channel's mean (" +
                 std::string(parametrisation_name(o.visualisation.parametrisation)) + ", " +
                 std::to_string(o.visualisation.steps) + " steps); mean " + fmt(vis.values[std::size_t(c)]) +
                 (shown[li] > 1 ? (own[std::size_t(c)] ? "; it excites this channel more than every other channel's picture does"
                                                       : "; another channel's picture excites this channel more")
                                : "") +
                 ".</figcaption></figure>\n";
            if (li == 0 && first_weights)
                b += "<figure>" + img_tag("img/" + slugs[li] + "_c" + std::to_string(c) + "_weights.png", "weights", 96) +
                     "<figcaption>Its weights (" + std::to_string(first_weights->shape[1]) + "×" +
                     std::to_string(first_weights->shape[2]) + "×" + std::to_string(first_weights->shape[3]) +
                     ", contrast-stretched about 0).</figcaption></figure>\n";
            b += "</div>\n";
            if (li == 0 && first_weights)
                write_png((fs::path(dir) / ("img/" + slugs[li] + "_c" + std::to_string(c) + "_weights.png")).string(),
                          filter_picture(*first_weights, c));
            if (!mine.empty()) {
                b += "<h2>Top " + std::to_string(mine.size()) + " of " + std::to_string(pictures.size()) + " pictures</h2>\n";
                b += "<figure>" + img_tag(top_png, "top pictures", 0, "top") +
                     "<figcaption>Left: each picture's strongest activation of the channel projected to pixels (" +
                     projection_name + "); right: the patch under its receptive field.</figcaption></figure>\n";
                b += "<table><tr><th>rank</th><th>picture</th><th>activation</th><th>position</th></tr>\n";
                for (const auto& e : mine)
                    b += "<tr><td>" + std::to_string(e.rank + 1) + "</td><td>" + xml_escape(pictures.describe(e.image)) +
                         "</td><td>" + fmt(e.value) + "</td><td>(" + std::to_string(e.y) + ", " + std::to_string(e.x) +
                         ")</td></tr>\n";
                b += "</table>\n";
            }
            const auto thumbs = [&](std::size_t lj, const std::vector<int>& cs, const std::function<double(int)>& norm) {
                std::string t = "<div class=\"grid\">";
                for (const int j : cs)
                    t += "<a href=\"" + page(lj, j) + "\">" + img_tag(vis_png(lj, j), "channel " + std::to_string(j), 64) +
                         "c" + std::to_string(j) + " · " + fmt(norm(j)) + "</a>";
                return t + "</div>\n";
            };
            if (o.neighbours > 0 && linked[li]) {
                const auto from = strongest(shown[li - 1], o.neighbours, [&](int j) { return fans[li].at(c, j); });
                b += "<h2>Fed most by " + xml_escape(table[std::size_t(layers[li - 1])].name) + "</h2>\n" +
                     thumbs(li - 1, from, [&](int j) { return fans[li].at(c, j); }) +
                     "<p>The channels below whose weights into this one have the largest norm.</p>\n";
            }
            if (o.neighbours > 0 && li + 1 < L && linked[li + 1]) {
                const auto to = strongest(shown[li + 1], o.neighbours, [&](int j) { return fans[li + 1].at(j, c); });
                b += "<h2>Feeds most in " + xml_escape(table[std::size_t(layers[li + 1])].name) + "</h2>\n" +
                     thumbs(li + 1, to, [&](int j) { return fans[li + 1].at(j, c); }) +
                     "<p>The channels above that weigh this one most.</p>\n";
            }
            write_text_atomic((fs::path(dir) / page(li, c)).string(),
                              html_document(row.name + " channel " + std::to_string(c), b, extra_style));
            ++summary.pages;
        }

        // The layer's page.
        std::string b = "<nav><a href=\"index.html\">" + xml_escape(o.title) + "</a> › " + xml_escape(row.name);
        if (li > 0) b += " · <a href=\"" + slugs[li - 1] + ".html\" rel=\"prev\">‹ " + xml_escape(table[std::size_t(layers[li - 1])].name) + "</a>";
        if (li + 1 < L) b += " · <a href=\"" + slugs[li + 1] + ".html\" rel=\"next\">" + xml_escape(table[std::size_t(layers[li + 1])].name) + " ›</a>";
        b += "</nav>\n<h1>" + xml_escape(row.name) + "</h1>\n<p>" + std::string(row.kind) + ", output " +
             std::to_string(row.output[0]);
        for (std::size_t d = 1; d < row.output.size(); ++d) b += "×" + std::to_string(row.output[d]);
        b += "; receptive field " + std::to_string(row.field.size) + " pixels. " + std::to_string(shown[li]) +
             " channels, each shown by its feature visualisation.";
        if (!std::isnan(fraction))
            b += " For " + fmt(100 * fraction) + "% of them the channel's own picture excites it more than every other "
                 "channel's picture does.";
        b += "</p>\n<div class=\"grid\">";
        for (int c = 0; c < shown[li]; ++c)
            b += "<a href=\"" + page(li, c) + "\">" + img_tag(vis_png(li, c), "channel " + std::to_string(c), 80) + "c" +
                 std::to_string(c) + "</a>";
        b += "</div>\n";
        write_text_atomic((fs::path(dir) / (slugs[li] + ".html")).string(), html_document(row.name, b, extra_style));
        ++summary.pages;
    }

    std::string b = "<h1>" + xml_escape(o.title) + "</h1>\n";
    if (!o.about.empty()) b += "<p>" + xml_escape(o.about) + "</p>\n";
    b += "<p>A page per layer and per channel: each channel's feature visualisation, its top " + std::to_string(o.k) +
         " of " + std::to_string(pictures.size()) +
         " pictures with their deconvnet projections and patches (the paper's Fig. 2), the first layer's weights, and "
         "links to the units that feed it and that it feeds.</p>\n";
    b += "<table><tr><th>layer</th><th>kind</th><th>output</th><th>receptive field</th><th>channels</th><th>own picture "
         "best</th><th>first channels</th></tr>\n";
    for (std::size_t li = 0; li < L; ++li) {
        const layer_row& row = table[std::size_t(layers[li])];
        std::string shape = std::to_string(row.output[0]);
        for (std::size_t d = 1; d < row.output.size(); ++d) shape += "×" + std::to_string(row.output[d]);
        b += "<tr><td><a href=\"" + slugs[li] + ".html\">" + xml_escape(row.name) + "</a></td><td>" + std::string(row.kind) +
             "</td><td>" + shape + "</td><td>" + std::to_string(row.field.size) + "</td><td>" + std::to_string(shown[li]) +
             "</td><td>" + (std::isnan(summary.layers[li].own_channel_fraction) ? std::string("–")
                                                                                 : fmt(100 * summary.layers[li].own_channel_fraction) + "%") +
             "</td><td><div class=\"grid\">";
        for (int c = 0; c < std::min(shown[li], 6); ++c)
            b += "<a href=\"" + page(li, c) + "\">" + img_tag(vis_png(li, c), "channel " + std::to_string(c), 40) + "</a>";
        b += "</div></td></tr>\n";
    }
    b += "</table>\n";
    write_text_atomic((fs::path(dir) / "index.html").string(), html_document(o.title, b, extra_style));
    ++summary.pages;
    return summary;
}

}  // namespace convis
