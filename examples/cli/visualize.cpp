// convis visualize --model M --weights W --layer L [--channels a,b | --all] [--steps N] [--param pixel|fourier]
//                  [--objective channel|unit] [--direction FILE] [--lr R] [--l2 W] [--tv W] [--no-transforms]
//                  [--jitter PX] [--scale MIN,MAX] [--rotate DEG] [--seed S] [--batch N] --out DIR
//
// Feature visualisation by optimisation (include/convis/analysis/feature_vis/): for each chosen
// channel of layer L, the picture that maximises it, found by Adam on the picture's parameters
// with transformation robustness. A class logit is a channel of the classifier's last layer
// (--layer fc8 --channels 3). DIR gets
//   <layer>_c<k>.png        each picture, enlarged to about 224 pixels
//   grid.png                all of them, in a grid
//   visualization.safetensors  `pictures` [N,C,H,W] in (0, 1), `channel` I64 [N], `value` [N] (the
//                           objective on the final picture), `curve` [N, steps] (on each step's
//                           transformed picture)
//   visualize.json          the settings, each picture's objective, and — for two channels or more —
//                           how often a channel's own picture excites it more than every other
//                           channel's picture does (own_channel_response)
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <convis/analysis/feature_vis.hpp>
#include <convis/io/grid.hpp>
#include <convis/io/text_file.hpp>

#include "feature_vis_options.hpp"
#include "inputs.hpp"

namespace convis_cli {
namespace {

struct visualize_options {
    model_choice model;
    std::string weights, layer, channels, objective = "channel", direction, out;
    bool all = false;
    feature_vis_cli vis;
};

/// --direction: a safetensors file whose tensor `direction` is [C] or [K, C] (K directions).
std::vector<convis::objective> read_directions(const std::string& path, int channels) {
    const auto f = convis::read_safetensors(path);
    const auto it = f.tensors.find("direction");
    if (it == f.tensors.end()) throw convis::error(path + ": no tensor 'direction' ([C] or [K, C])");
    const auto& t = it->second;
    const bool one = t.shape.size() == 1, many = t.shape.size() == 2;
    if ((!one && !many) || t.shape.back() != channels)
        throw convis::error(path + ": tensor 'direction' has shape " + convis::shape_string(t.shape) + "; expected [" +
                            std::to_string(channels) + "] or [K, " + std::to_string(channels) + "] for this layer");
    const auto v = t.to_vector<float>(path, "direction");
    std::vector<convis::objective> r;
    for (std::size_t k = 0; k < v.size() / std::size_t(channels); ++k)
        r.push_back(convis::objective::along(std::vector<double>(v.begin() + std::ptrdiff_t(k * channels),
                                                                 v.begin() + std::ptrdiff_t((k + 1) * channels))));
    return r;
}

void run_visualize(const visualize_options& o) {
    namespace fs = std::filesystem;
    const auto model = open_session(o.model);
    const convis::input_dims dims = model->input();
    const int layer = model->find(o.layer);
    const auto& row = model->layers()[std::size_t(layer)];
    const int layer_channels = int(row.output[0]);
    const auto extras = model->load_weights(o.weights);
    const auto pre = convis::preprocess::from(extras, o.weights, dims.channels, dims.height, dims.width);

    std::vector<convis::objective> objectives;
    if (!o.direction.empty()) {
        objectives = read_directions(o.direction, layer_channels);
    } else {
        std::vector<int> channels;
        if (!o.channels.empty()) channels = parse_int_list(o.channels, "--channels", 0, "non-negative integers separated by commas");
        else
            for (int c = 0; c < layer_channels; ++c) channels.push_back(c);
        for (std::size_t i = 0; i < channels.size(); ++i)
            for (std::size_t j = 0; j < i; ++j)
                if (channels[i] == channels[j])
                    throw convis::error("--channels: channel " + std::to_string(channels[i]) +
                                        " is named twice; each channel gets one picture");
        for (const int c : channels)
            objectives.push_back(o.objective == "unit" ? convis::objective::of_unit(c) : convis::objective::of_channel(c));
    }
    const convis::feature_vis_options settings = o.vis.settings(dims.height);
    // Every check before the folder is made: a failed run leaves nothing behind.
    convis::check_options(settings);
    for (const auto& ob : objectives) convis::check_objective(ob, row);
    std::error_code ec;
    fs::create_directories(o.out, ec);
    if (ec || !fs::is_directory(o.out)) throw convis::error(o.out + ": cannot create the output folder");
    const auto r = convis::visualise_features(*model, layer, objectives, pre, settings);

    const fs::path dir(o.out);
    const std::string name = model->name(layer);
    const int n = int(r.count());
    convis::safetensors_file f;
    f.tensors.emplace("pictures", convis::make_tensor<float>(std::vector<float>(r.pictures.begin(), r.pictures.end()),
                                                             {n, dims.channels, dims.height, dims.width}));
    std::vector<std::int64_t> channel;
    for (const auto& ob : objectives) channel.push_back(ob.kind == convis::objective_kind::direction ? -1 : ob.channel);
    f.tensors.emplace("channel", convis::make_tensor<std::int64_t>(channel, {n}));
    f.tensors.emplace("value", convis::make_tensor<float>(std::vector<float>(r.values.begin(), r.values.end()), {n}));
    f.tensors.emplace("curve", convis::make_tensor<float>(std::vector<float>(r.curve.begin(), r.curve.end()), {n, r.steps}));

    nlohmann::json meta = o.vis.json(settings);
    meta["model"] = model->type_name();
    meta["weights"] = o.weights;
    meta["layer"] = name;
    meta["objective"] = o.direction.empty() ? o.objective : "direction";
    for (const auto& [k, v] : meta.items()) f.metadata["convis." + k] = v.is_string() ? v.template get<std::string>() : v.dump();
    convis::write_safetensors((dir / "visualization.safetensors").string(), f);

    const int factor = display_factor(dims.height);
    std::vector<convis::image> tiles;
    nlohmann::json pictures = nlohmann::json::array();
    for (int b = 0; b < n; ++b) {
        const auto& ob = objectives[std::size_t(b)];
        const std::string png = name + (ob.kind == convis::objective_kind::direction ? "_direction" + std::to_string(b)
                                                                                     : "_c" + std::to_string(ob.channel)) +
                                (ob.kind == convis::objective_kind::unit ? "_unit" : "") + ".png";
        const convis::image pic = r.picture(std::size_t(b));
        convis::write_png((dir / png).string(), convis::enlarge(pic, factor));
        tiles.push_back(convis::enlarge(pic, std::max(1, 64 / dims.height)));
        pictures.push_back({{"objective", ob.describe()}, {"channel", channel[std::size_t(b)]}, {"png", png},
                            {"value", r.values[std::size_t(b)]}, {"first_step", r.steps > 0 ? r.curve[std::size_t(b) * r.steps] : NAN}});
    }
    const int cols = int(std::ceil(std::sqrt(double(n))));
    convis::write_png((dir / "grid.png").string(), convis::tile_grid(tiles, (n + cols - 1) / cols, cols, 2));
    meta["pictures"] = pictures;

    std::string own;
    bool channels_only = n > 1;
    for (const auto& ob : objectives) channels_only = channels_only && ob.kind == convis::objective_kind::channel;
    if (channels_only) {
        const auto oc = convis::own_channel_response(*model, r, pre, settings.batch);
        int wins = 0;
        nlohmann::json per = nlohmann::json::array();
        for (int j = 0; j < n; ++j) {
            double other = -INFINITY;
            for (int i = 0; i < n; ++i)
                if (i != j) other = std::max(other, oc.response[std::size_t(i) * n + j]);
            wins += oc.own_best[std::size_t(j)];
            per.push_back({{"channel", oc.channels[std::size_t(j)]}, {"own", oc.response[std::size_t(j) * n + j]},
                           {"best_other", other}, {"own_best", bool(oc.own_best[std::size_t(j)])}});
        }
        meta["own_channel"] = {{"fraction", oc.fraction}, {"wins", wins}, {"channels", n}, {"per_channel", per}};
        char line[160];
        std::snprintf(line, sizeof line, "; own picture best for %d of %d channels (%.1f%%)", wins, n, 100 * oc.fraction);
        own = line;
    }
    convis::write_text_atomic((dir / "visualize.json").string(), meta.dump(1) + "\n");
    double mean = 0;
    for (const double v : r.values) mean += v / n;
    std::printf("visualised %d objective%s of %s (%s, %d steps): mean objective %.4g%s; wrote %s/{%s_*.png,grid.png,"
                "visualization.safetensors,visualize.json}\n",
                n, n == 1 ? "" : "s", name.c_str(), std::string(convis::parametrisation_name(settings.parametrisation)).c_str(),
                settings.steps, mean, own.c_str(), o.out.c_str(), name.c_str());
}

}  // namespace

command add_visualize(CLI::App& parent) {
    auto* app = parent.add_subcommand("visualize", "Feature visualisation: the picture that maximises each channel of a "
                                                   "layer (or a unit, a class logit, a direction), by Adam on the input");
    auto o = std::make_shared<visualize_options>();
    add_model_options(app, o->model);
    add_device_option(app, o->model);
    app->add_option("--weights", o->weights, "Weights (safetensors)")->required();
    app->add_option("--layer", o->layer, "Layer name, e.g. conv5, or fc8 for class logits")->required();
    auto* channels = app->add_option("--channels", o->channels, "Channels, e.g. 0,5,17 (default: all)");
    auto* all = app->add_flag("--all", o->all, "Every channel of the layer (the default)");
    channels->excludes(all);
    app->add_option("--objective", o->objective, "channel (the mean of its map) or unit (its centre position)")
        ->check(CLI::IsMember({"channel", "unit"}))
        ->capture_default_str();
    auto* direction = app->add_option("--direction", o->direction,
                                      "Maximise directions instead: a safetensors file with 'direction' [C] or [K, C]");
    direction->excludes(channels);
    direction->excludes(all);
    add_feature_vis_options(app, o->vis);
    app->add_option("--out", o->out, "Output folder")->required();
    return {app, [o] { run_visualize(*o); }};
}

}  // namespace convis_cli
