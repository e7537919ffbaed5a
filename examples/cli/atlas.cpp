// convis atlas --model M --weights W --data PATH --out DIR [--layers a,b] [--max-channels N] [--k 9]
//              [--mode deconvnet|guided|gradient] [--steps N] [--param pixel|fourier] [...]
//
// A static web site of the whole network (include/convis/analysis/atlas.hpp): a page per layer and
// per channel with the channel's feature visualisation, its top-k pictures of the data set with
// deconvnet projections and patches (the paper's Fig. 2), the first layer's weights, and links to
// the units that feed it and that it feeds; an index page. --data is a folder of pictures or an
// IDX image file (--images and --idx say which explicitly). The data set is streamed once.
// Open DIR/index.html.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <convis/analysis/atlas.hpp>

#include "feature_vis_options.hpp"
#include "inputs.hpp"

namespace convis_cli {
namespace {

struct atlas_cli_options {
    model_choice model;
    std::string weights, data, images, idx, layers, out, mode = "deconvnet", title;
    int max_channels = 0, k = 9, stream_batch = 64, neighbours = 6;
    feature_vis_cli vis;
};

void run_atlas(const atlas_cli_options& o) {
    namespace fs = std::filesystem;
    const auto model = open_session(o.model);
    const convis::input_dims dims = model->input();
    convis::atlas_options a;
    if (!o.layers.empty())
        for (const auto& name : split_names(o.layers, "--layers")) a.layers.push_back(model->find(name));
    const auto extras = model->load_weights(o.weights);
    const auto pre = convis::preprocess::from(extras, o.weights, dims.channels, dims.height, dims.width);
    std::string images = o.images, idx = o.idx;
    if (!o.data.empty()) {
        if (!fs::exists(o.data)) throw convis::error(o.data + ": no such file or folder (--data: a folder of pictures or an IDX file)");
        (fs::is_directory(o.data) ? images : idx) = o.data;
    }
    const convis::picture_set pictures = idx.empty() ? convis::picture_set::from(convis::list_image_folder(images))
                                                     : convis::picture_set::from(convis::read_idx_images(idx), idx);
    a.max_channels = o.max_channels;
    a.k = o.k;
    a.batch = o.stream_batch;
    a.neighbours = o.neighbours;
    a.projection.mode = convis::parse_rectify_mode(o.mode);
    a.visualisation = o.vis.settings(dims.height);
    a.title = o.title.empty() ? model->type_name() + " atlas" : o.title;
    a.about = model->type_name() + ", weights " + fs::path(o.weights).filename().string() + ", " +
              std::to_string(pictures.size()) + " pictures of " + fs::path(idx.empty() ? images : idx).filename().string();
    a.progress = true;
    const convis::atlas_summary s = convis::write_atlas(*model, pictures, pre, o.out, a);
    std::printf("atlas of %zu layer%s over %lld pictures: %d pages in %s (open %s/index.html)\n", s.layers.size(),
                s.layers.size() == 1 ? "" : "s", static_cast<long long>(s.pictures), s.pages, o.out.c_str(), o.out.c_str());
    for (const auto& l : s.layers)
        if (!std::isnan(l.own_channel_fraction))
            std::printf("  %-10s %4d channels, own picture best for %.1f%%\n", l.name.c_str(), l.channels,
                        100 * l.own_channel_fraction);
}

}  // namespace

command add_atlas(CLI::App& parent) {
    auto* app = parent.add_subcommand("atlas", "A web site of the network: a page per layer and per channel with its feature "
                                               "visualisation, top pictures (Fig. 2), weights and neighbouring units");
    auto o = std::make_shared<atlas_cli_options>();
    add_model_options(app, o->model);
    add_device_option(app, o->model);
    app->add_option("--weights", o->weights, "Weights (safetensors)")->required();
    auto* data = app->add_option("--data", o->data, "The data set: a folder of pictures or an IDX image file");
    auto* images = app->add_option("--images", o->images, "A folder of pictures (PNG, JPEG; searched recursively)");
    auto* idx = app->add_option("--idx", o->idx, "An IDX image file, raw or gzip-compressed (e.g. Fashion-MNIST)");
    data->excludes(images);
    data->excludes(idx);
    images->excludes(idx);
    app->add_option("--layers", o->layers, "Layers with pages, e.g. conv1,conv5 (default: every Conv2d layer)");
    app->add_option("--max-channels", o->max_channels, "Pages for the first N channels of each layer (default: all)")
        ->check(CLI::NonNegativeNumber);
    app->add_option("--k", o->k, "Top pictures per channel")->check(CLI::Range(1, 100))->capture_default_str();
    app->add_option("--stream-batch", o->stream_batch, "Pictures per forward pass while streaming the data")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
    app->add_option("--neighbours", o->neighbours, "Linked channels of the layers below and above")
        ->check(CLI::Range(0, 64))
        ->capture_default_str();
    add_mode_option(app, o->mode);
    app->add_option("--title", o->title, "The site's title (default: '<network> atlas')");
    add_feature_vis_options(app, o->vis);
    app->add_option("--out", o->out, "Output folder")->required();
    app->parse_complete_callback([data, images, idx] {
        if (data->count() == 0 && images->count() == 0 && idx->count() == 0) throw CLI::RequiredError("one of --data, --images or --idx");
    });
    return {app, [o] { run_atlas(*o); }};
}

}  // namespace convis_cli
