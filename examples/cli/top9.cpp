// convis top9 --model M [--classes N] --weights W (--images DIR | --idx FILE.idx[.gz]) --layer L
//             [--channels a,b | --random K --seed S] [--k 9] --out DIR
//
// The paper's Fig. 2 for one layer: for each chosen channel, the k pictures of the data set that
// excite it most (by the per-picture maximum of its map), each projected to pixels by the
// deconvnet beside the image patch under its receptive field. Writes
//   DIR/<layer>.png            every channel's block, top to bottom
//   DIR/<layer>_c<channel>.png one block per channel: projections (left), patches (right)
//   DIR/index.json             every entry: channel, rank, image, source, y, x, value, patch box
// Pictures of another size than the network's input are scaled and centre-cropped to it; grey
// pictures feed a colour network by copying. `preprocess.mean` / `preprocess.std` in the weights
// file are applied (data/preprocess.hpp).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include <convis/analysis/top_images.hpp>
#include <convis/io/text_file.hpp>

#include "commands.hpp"

namespace convis_cli {
namespace {

struct top9_options {
    model_choice model;
    std::string weights, images, idx, layer, channels, out, mode = "deconvnet";
    int random = 0, k = 9, batch = 32;
    std::uint64_t seed = 1;
};

void run_top9(const top9_options& o) {
    const auto model = open_session(o.model);
    const convis::input_dims dims = model->input();
    const int layer = model->find(o.layer);
    std::vector<int> channels;
    const int layer_channels = int(model->layers()[std::size_t(layer)].output[0]);
    if (!o.channels.empty()) channels = parse_int_list(o.channels, "--channels", 0, "non-negative integers separated by commas");
    else if (o.random > 0) channels = convis::random_channels(layer_channels, o.random, o.seed);

    const auto extras = model->load_weights(o.weights);
    const auto pre = convis::preprocess::from(extras, o.weights, dims.channels, dims.height, dims.width);
    const convis::picture_set pictures = o.idx.empty() ? convis::picture_set::from(convis::list_image_folder(o.images))
                                                       : convis::picture_set::from(convis::read_idx_images(o.idx), o.idx);

    convis::top_images_options opt;
    opt.channels = channels;
    opt.k = o.k;
    opt.batch = o.batch;
    opt.rows = opt.cols = 1;
    while (opt.rows * opt.cols < o.k) (opt.rows <= opt.cols ? opt.rows : opt.cols)++;
    opt.projection.mode = convis::parse_rectify_mode(o.mode);
    const convis::top_images_result r = model->top_images(layer, pictures, pre, opt);

    std::error_code ec;
    std::filesystem::create_directories(o.out, ec);
    if (ec || !std::filesystem::is_directory(o.out)) throw convis::error(o.out + ": cannot create the output folder");
    const std::string name = model->name(layer);
    nlohmann::json index;
    index["model"] = model->type_name();
    index["weights"] = o.weights;
    index["data"] = o.idx.empty() ? o.images : o.idx;
    index["pictures"] = pictures.size();
    index["layer"] = name;
    index["k"] = o.k;
    index["mode"] = o.mode;
    index["channels"] = r.channels;
    index["grid"] = name + ".png";
    index["entries"] = nlohmann::json::array();
    for (std::size_t ci = 0; ci < r.channels.size(); ++ci) {
        const std::string file = name + "_c" + std::to_string(r.channels[ci]) + ".png";
        convis::write_png((std::filesystem::path(o.out) / file).string(), r.blocks[ci]);
        index["blocks"][std::to_string(r.channels[ci])] = file;
    }
    for (const auto& e : r.entries)
        index["entries"].push_back({{"channel", e.channel}, {"rank", e.rank}, {"image", e.image},
                                    {"source", pictures.describe(e.image)}, {"y", e.y}, {"x", e.x}, {"value", e.value},
                                    {"patch", {{"y0", e.patch.y0}, {"x0", e.patch.x0}, {"y1", e.patch.y1}, {"x1", e.patch.x1}}}});
    convis::write_png((std::filesystem::path(o.out) / (name + ".png")).string(), convis::stack_vertical(r.blocks));
    convis::write_text_atomic((std::filesystem::path(o.out) / "index.json").string(), index.dump(1) + "\n");
    std::printf("top %d of %zu channel%s of %s over %lld pictures: %s/%s.png, %s/index.json\n", o.k, r.channels.size(),
                r.channels.size() == 1 ? "" : "s", name.c_str(), static_cast<long long>(pictures.size()), o.out.c_str(),
                name.c_str(), o.out.c_str());
}

}  // namespace

command add_top9(CLI::App& parent) {
    auto* app = parent.add_subcommand("top9", "The paper's Fig. 2: each channel's strongest pictures over a data set, "
                                              "projected by the deconvnet, beside their image patches");
    auto o = std::make_shared<top9_options>();
    add_model_options(app, o->model);
    add_device_option(app, o->model);
    app->add_option("--weights", o->weights, "Weights (safetensors)")->required();
    auto* images = app->add_option("--images", o->images, "A folder of pictures (PNG, JPEG; searched recursively)");
    auto* idx = app->add_option("--idx", o->idx, "An IDX image file, raw or gzip-compressed (e.g. Fashion-MNIST)");
    images->excludes(idx);
    app->add_option("--layer", o->layer, "Layer name, e.g. conv2 or pool5")->required();
    auto* channels = app->add_option("--channels", o->channels, "Channels to show, e.g. 0,5,17 (default: all)");
    auto* random = app->add_option("--random", o->random, "Show K channels drawn at random (seeded)")->check(CLI::PositiveNumber);
    channels->excludes(random);
    add_seed_option(app, o->seed);
    app->add_option("--k", o->k, "Pictures per channel")->check(CLI::Range(1, 100))->capture_default_str();
    app->add_option("--batch", o->batch, "Pictures per forward pass while streaming")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
    add_mode_option(app, o->mode);
    app->add_option("--out", o->out, "Output folder")->required();
    app->parse_complete_callback([images, idx] {
        if (images->count() == 0 && idx->count() == 0) throw CLI::RequiredError("one of --images or --idx");
    });
    return {app, [o] { run_top9(*o); }};
}

}  // namespace convis_cli
