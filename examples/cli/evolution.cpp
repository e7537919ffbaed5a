// convis evolution --model M [--classes N] --snapshots DIR --data fashion-mnist|DIR --out DIR
//                  [--layers conv1,conv2] [--per-layer 6] [--seed S] [--limit N]
//
// The paper's Fig. 4: for chosen channels of each layer (default: every convolution, 6 seeded
// random channels each) and each weight snapshot written by `convis train --snapshots`, the
// strongest activation over the training pictures, projected to pixels with that snapshot's
// weights. Writes DIR/evolution_<layer>.png (a row per channel, a column per snapshot, epochs in
// increasing order) and DIR/evolution.json (which picture and position each tile shows).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include <convis/analysis/evolution.hpp>
#include <convis/data/fashion_mnist.hpp>
#include <convis/io/text_file.hpp>

#include "commands.hpp"

namespace convis_cli {
namespace {

struct evolution_cli_options {
    model_choice model;
    std::string snapshots, data = "fashion-mnist", out, layers, mode = "deconvnet";
    int per_layer = 6;
    std::int64_t limit = 0;
    std::uint64_t seed = 1;
};

/// The snapshot files of a folder (or of its snapshots/ sub-folder): epoch-E.safetensors, by E.
std::vector<std::pair<int, std::string>> find_snapshots(const std::string& dir) {
    namespace fs = std::filesystem;
    fs::path root(dir);
    std::error_code ec;
    if (fs::is_directory(root / "snapshots", ec)) root /= "snapshots";
    if (!fs::is_directory(root, ec)) throw convis::error(dir + ": no such folder of snapshots");
    std::vector<std::pair<int, std::string>> found;
    for (const auto& e : fs::directory_iterator(root, ec)) {
        const std::string name = e.path().filename().string();
        int epoch = 0;
        char tail[32] = {};
        if (std::sscanf(name.c_str(), "epoch-%d%31s", &epoch, tail) == 2 && std::string(tail) == ".safetensors")
            found.emplace_back(epoch, e.path().string());
    }
    if (found.empty()) throw convis::error(root.string() + ": no epoch-E.safetensors snapshots (write them with convis train --snapshots)");
    std::sort(found.begin(), found.end());
    return found;
}

void run_evolution(const evolution_cli_options& o) {
    const auto snaps = find_snapshots(o.snapshots);
    std::vector<std::string> files;
    for (const auto& s : snaps) files.push_back(s.second);

    convis::picture_set pictures = [&] {
        if (o.data == "fashion-mnist") return convis::picture_set::from(convis::load_fashion_mnist("train"), "fashion-mnist train");
        const std::filesystem::path root(o.data);
        std::error_code ec;
        return convis::picture_set::from(
            convis::list_image_folder(std::filesystem::is_directory(root / "train", ec) ? (root / "train").string() : o.data));
    }();

    const auto model = open_session(o.model);
    const convis::input_dims dims = model->input();
    const auto extras = model->load_weights(files.front());
    const auto pre = convis::preprocess::from(extras, files.front(), dims.channels, dims.height, dims.width);
    convis::evolution_options opt;
    if (!o.layers.empty()) {
        std::stringstream ss(o.layers);
        std::string name;
        while (std::getline(ss, name, ',')) opt.layers.push_back(model->find(name));
    }
    opt.per_layer = o.per_layer;
    opt.seed = o.seed;
    opt.limit = o.limit;
    opt.projection.mode = convis::parse_rectify_mode(o.mode);
    const auto r = model->evolution(files, pictures, pre, opt);

    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(o.out, ec);
    if (ec || !fs::is_directory(o.out)) throw convis::error(o.out + ": cannot create the output folder");
    nlohmann::json index;
    index["model"] = model->type_name();
    index["snapshots"] = nlohmann::json::array();
    for (const auto& s : snaps) index["snapshots"].push_back({{"epoch", s.first}, {"file", s.second}});
    index["pictures"] = o.limit > 0 ? std::min<std::int64_t>(o.limit, pictures.size()) : pictures.size();
    index["mode"] = o.mode;
    for (std::size_t l = 0; l < r.layers.size(); ++l) {
        const std::string name = model->name(r.layers[l]);
        const std::string file = "evolution_" + name + ".png";
        convis::write_png((fs::path(o.out) / file).string(), r.grids[l]);
        nlohmann::json layer = {{"layer", name}, {"grid", file}, {"channels", r.channels[l]}, {"tiles", nlohmann::json::array()}};
        for (std::size_t c = 0; c < r.channels[l].size(); ++c)
            for (std::size_t s = 0; s < snaps.size(); ++s) {
                const auto& e = r.strongest[l][c][s];
                layer["tiles"].push_back({{"channel", e.channel}, {"epoch", snaps[s].first}, {"image", e.image},
                                          {"y", e.y}, {"x", e.x}, {"value", e.value}});
            }
        index["layers"].push_back(layer);
        std::printf("%s: %zu channels × %zu snapshots → %s/%s\n", name.c_str(), r.channels[l].size(), snaps.size(),
                    o.out.c_str(), file.c_str());
    }
    convis::write_text_atomic((fs::path(o.out) / "evolution.json").string(), index.dump(1) + "\n");
}

}  // namespace

command add_evolution(CLI::App& parent) {
    auto* app = parent.add_subcommand("evolution", "The paper's Fig. 4: how chosen features develop over training "
                                                   "snapshots, projected to pixels");
    auto o = std::make_shared<evolution_cli_options>();
    add_model_options(app, o->model);
    add_device_option(app, o->model);
    app->add_option("--snapshots", o->snapshots, "Folder of epoch-E.safetensors (convis train's output folder will do)")
        ->required();
    app->add_option("--data", o->data, "fashion-mnist (its training set), or a folder of pictures")->capture_default_str();
    app->add_option("--layers", o->layers, "Layers, e.g. conv1,conv3 (default: every convolution)");
    app->add_option("--per-layer", o->per_layer, "Channels per layer, drawn at random (seeded)")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
    add_seed_option(app, o->seed);
    app->add_option("--limit", o->limit, "Search only the first N pictures (default: all)")->check(CLI::NonNegativeNumber);
    add_mode_option(app, o->mode);
    app->add_option("--out", o->out, "Output folder")->required();
    return {app, [o] { run_evolution(*o); }};
}

}  // namespace convis_cli
