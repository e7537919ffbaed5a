// convis occlusion --model M [--classes N] --weights W --input X [--index I] (--label Y | --labels F)
//                  --size S --stride T [--fill F] [--layer L] [--batch B] [--mode M] --out O.safetensors|DIR
//
// Fig. 7: a square slides over the picture; per position the strongest layer-L map's total
// activation, the true class's probability and the most probable class. A .safetensors output holds
// `activation`, `probability` (float32) and `label` (int64), each [rows, cols] of occluder
// positions, and `channel` (int64 [1], the strongest map). A folder gets picture.png,
// activation.png and probability.png (heat maps over the picture, with colour bars), label.png
// (the class map with a legend), projection.png (the map's strongest activation projected to
// pixels), occlusion.safetensors and occlusion.json (every parameter and the unoccluded results).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <convis/analysis/occlusion.hpp>
#include <convis/io/grid.hpp>
#include <convis/io/text_file.hpp>
#include <convis/io/heatmap.hpp>

#include "inputs.hpp"

namespace convis_cli {
namespace {

struct occlusion_cli_options {
    model_choice model;
    std::vector<std::string> input;
    std::string weights, index, label, labels, layer, out, mode = "deconvnet";
    int size = 0, stride = 0, batch = 64;
    float fill = 0;
};


void run_occlusion(const occlusion_cli_options& o) {
    namespace fs = std::filesystem;
    const bool to_file = ends_with(o.out, ".safetensors");
    const auto model = open_session(o.model);
    const convis::input_dims dims = model->input();
    const auto extras = model->load_weights(o.weights);
    const auto in = load_inputs(dims, o.input, o.index, extras, o.weights);
    if (in.batch != 1)
        throw convis::error("--input: occlusion takes one picture, got " + std::to_string(in.batch));
    const int classes = model->classes();
    const int label = load_labels(o.label, o.labels, o.index, 1, classes)[0];
    const auto names = class_names(extras, classes);

    convis::occlusion_options opt;
    opt.size = o.size;
    opt.stride = o.stride;
    opt.fill = o.fill;
    opt.layer = o.layer.empty() ? -1 : model->find(o.layer);
    opt.batch = o.batch;
    opt.projection.mode = convis::parse_rectify_mode(o.mode);
    const convis::occlusion_result r = model->occlusion(in.sample(0), label, opt);

    const std::vector<std::int64_t> grid = {r.rows, r.cols};
    convis::safetensors_file f;
    f.tensors.emplace("activation", convis::make_tensor<float>(r.activation, grid));
    f.tensors.emplace("probability", convis::make_tensor<float>(r.probability, grid));
    f.tensors.emplace("label", convis::make_tensor<std::int64_t>(r.label, grid));
    const std::vector<std::int64_t> channel = {r.channel};
    f.tensors.emplace("channel", convis::make_tensor<std::int64_t>(channel, {1}));
    const std::string layer_name = model->name(r.layer);
    nlohmann::json meta = {
        {"model", model->type_name()}, {"weights", o.weights}, {"input", in.names[0]},
        {"label", label}, {"label_name", names[std::size_t(label)]}, {"layer", layer_name}, {"channel", r.channel},
        {"peak", {r.y, r.x}}, {"size", r.size}, {"stride", r.stride}, {"fill", o.fill}, {"rows", r.rows},
        {"cols", r.cols}, {"mode", o.mode}, {"base_activation", r.base_activation},
        {"base_probability", r.base_probability}, {"base_label", r.base_label},
        {"base_label_name", names[std::size_t(r.base_label)]}};
    for (const auto& [k, v] : meta.items()) f.metadata["convis." + k] = v.is_string() ? v.template get<std::string>() : v.dump();

    std::string written = o.out;
    if (to_file) {
        if (const fs::path parent = fs::path(o.out).parent_path(); !parent.empty()) fs::create_directories(parent);
        convis::write_safetensors(o.out, f);
    } else {
        fs::create_directories(o.out);
        const fs::path dir(o.out);
        const int k = display_factor(dims.height);
        const convis::image picture = convis::enlarge(in.pictures[0], k);
        const auto minmax = [](const std::vector<float>& v) {
            const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
            return std::pair<double, double>(*lo, *hi);
        };
        const auto [alo, ahi] = minmax(r.activation);
        convis::write_png((dir / "picture.png").string(), picture);
        convis::write_png((dir / "activation.png").string(),
                          convis::stack_horizontal({convis::heat_overlay(picture, r.activation.data(), r.rows, r.cols, r.stride * k,
                                                               r.size * k, alo, ahi, 0.6f),
                                          convis::colour_bar(alo, ahi, picture.height)}));
        convis::write_png((dir / "probability.png").string(),
                          convis::stack_horizontal({convis::heat_overlay(picture, r.probability.data(), r.rows, r.cols, r.stride * k,
                                                               r.size * k, 0, 1, 0.6f),
                                          convis::colour_bar(0, 1, picture.height)}));
        convis::write_png((dir / "label.png").string(), convis::class_map(r.label.data(), r.rows, r.cols, names,
                                                                          std::max(4, picture.height / std::max(r.rows, 1))));
        convis::write_png((dir / "projection.png").string(),
                          convis::enlarge(convis::stretch_symmetric(r.projection.data(), dims.channels, dims.height, dims.width), k));
        convis::write_safetensors((dir / "occlusion.safetensors").string(), f);
        meta["activation_range"] = {alo, ahi};
        convis::write_text_atomic((dir / "occlusion.json").string(), meta.dump(1) + "\n");
        written = o.out + "/{picture,activation,probability,label,projection}.png, occlusion.safetensors, occlusion.json";
    }
    const auto [plo, phi] = std::minmax_element(r.probability.begin(), r.probability.end());
    std::printf("occluded %s with %dx%d squares (stride %d): %d x %d positions; %s channel %d; p(%s) %.3f unoccluded, "
                "%.3f .. %.3f occluded\nwrote %s\n",
                in.names[0].c_str(), r.size, r.size, r.stride, r.rows, r.cols, layer_name.c_str(), r.channel,
                names[std::size_t(label)].c_str(), r.base_probability, *plo, *phi, written.c_str());
}

}  // namespace

command add_occlusion(CLI::App& parent) {
    auto* app = parent.add_subcommand("occlusion", "Occlusion sensitivity (Fig. 7): slide a grey square over a picture and "
                                                   "map the strongest feature map's activity and the classifier's output");
    auto o = std::make_shared<occlusion_cli_options>();
    add_model_options(app, o->model);
    add_device_option(app, o->model);
    app->add_option("--weights", o->weights, "Weights (safetensors)")->required();
    add_input_options(app, o->input, o->index, &o->label, &o->labels);
    app->add_option("--size", o->size, "Side of the square in input pixels")->required()->check(CLI::PositiveNumber);
    app->add_option("--stride", o->stride, "Spacing of the square's positions")->required()->check(CLI::PositiveNumber);
    app->add_option("--fill", o->fill, "Value of the square in input space (0: the mean picture)")->capture_default_str();
    app->add_option("--layer", o->layer, "Layer whose strongest map is followed (default: the last conv block, e.g. relu5)");
    app->add_option("--batch", o->batch, "Occluded copies per forward pass")->check(CLI::PositiveNumber)->capture_default_str();
    add_mode_option(app, o->mode);
    app->add_option("--out", o->out, "Output: a .safetensors file, or a folder for the pictures")->required();
    return {app, [o] { run_occlusion(*o); }};
}

}  // namespace convis_cli
