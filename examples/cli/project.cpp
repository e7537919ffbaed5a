// convis project --model M [--classes N] --weights W --input X.safetensors|.png|.jpg --layer L
//                --channel C (--strongest | --position y,x) [--mode deconvnet|guided|gradient]
//                --out P.safetensors|.png
//
// One forward pass records the trace; the selected activation of layer L is projected to pixels
// (Zeiler & Fergus §2.1). A .safetensors output holds `projection` [N,C,H,W] float32; a .png output
// shows each image's projection contrast-stretched symmetrically about zero (99.5th percentile of
// |value|), the images stacked top to bottom. A picture input is scaled and centre-cropped to the
// network's input size when it differs, and preprocessed by the weights file's `preprocess.mean` /
// `preprocess.std` (data/preprocess.hpp).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <convis/io/grid.hpp>
#include <convis/io/image.hpp>

#include <convis/net/selection.hpp>

#include "inputs.hpp"

namespace convis_cli {
namespace {

struct project_options {
    model_choice model;
    std::vector<std::string> input;
    std::string weights, index, layer, out, mode = "deconvnet", position;
    int channel = 0;
    bool strongest = false;
};

void run_project(const project_options& o) {
    const auto model = open_session(o.model);
    const int layer = model->find(o.layer);
    if (!ends_with(o.out, ".safetensors") && !ends_with(o.out, ".png"))
        throw convis::error("--out " + o.out + ": expected a .safetensors or .png file name");
    int py = 0, px = 0;
    if (!o.strongest && std::sscanf(o.position.c_str(), "%d,%d", &py, &px) != 2)
        throw convis::error("--position '" + o.position + "': expected y,x");

    const auto extras = model->load_weights(o.weights);
    model->eval();
    const convis::input_dims in = model->input();
    const input_batch x = load_inputs(in, o.input, o.index, extras, o.weights);
    model->forward(x.x.data(), x.batch);

    const auto map = convis::activation_map<float>::from(model->output(layer), x.batch, model->layers()[std::size_t(layer)].output,
                                                         model->name(layer));
    std::vector<convis::activation_position> where;
    const std::vector<float> signal = o.strongest ? convis::select_strongest(map, o.channel, &where)
                                                  : convis::select_activation(map, o.channel, py, px);
    const float* p = model->project(layer, signal.data(), {convis::parse_rectify_mode(o.mode), {}});
    const std::vector<float> projection(p, p + std::size_t(x.batch) * in.size());

    if (ends_with(o.out, ".png")) {
        std::vector<convis::image> pictures;
        for (int n = 0; n < x.batch; ++n)
            pictures.push_back(convis::stretch_symmetric(projection.data() + std::size_t(n) * in.size(), in.channels,
                                                         in.height, in.width));
        convis::write_png(o.out, pictures.size() == 1 ? pictures[0] : convis::stack_vertical(pictures));
    } else {
        convis::safetensors_file f;
        f.path = o.out;
        f.tensors.emplace("projection", convis::make_tensor<float>(projection, {x.batch, in.channels, in.height, in.width}));
        f.metadata = {{"convis.layer", model->name(layer)}, {"convis.channel", std::to_string(o.channel)},
                      {"convis.mode", o.mode}};
        convis::write_safetensors(o.out, f);
    }
    std::printf("projected layer %s channel %d (%s mode) of %d image%s to %s\n", model->name(layer).c_str(), o.channel,
                o.mode.c_str(), x.batch, x.batch == 1 ? "" : "s", o.out.c_str());
    for (const auto& w : where)
        std::printf("image %d: strongest at (%d, %d), value %.6g\n", w.image, w.y, w.x, w.value);
}

}  // namespace

command add_project(CLI::App& parent) {
    auto* app = parent.add_subcommand("project", "Project one activation of a layer back to pixels with the "
                                                 "deconvnet (or guided backpropagation, or the gradient)");
    auto o = std::make_shared<project_options>();
    add_model_options(app, o->model);
    add_device_option(app, o->model);
    app->add_option("--weights", o->weights, "Weights (safetensors, PyTorch state_dict names)")->required();
    add_input_options(app, o->input, o->index, nullptr, nullptr);
    app->add_option("--layer", o->layer, "Layer name, e.g. pool5")->required();
    app->add_option("--channel", o->channel, "Channel (feature map) of the layer")->required()->check(CLI::NonNegativeNumber);
    auto* strongest = app->add_flag("--strongest", o->strongest, "Project each image's strongest activation of the channel");
    auto* position = app->add_option("--position", o->position, "Project the activation at y,x of the channel's map");
    strongest->excludes(position);
    add_mode_option(app, o->mode);
    app->add_option("--out", o->out, "Output: .safetensors (projection [N,C,H,W]) or .png (contrast-stretched)")
        ->required();
    app->parse_complete_callback([strongest, position] {  // during parsing: a usage error (exit 2)
        if (strongest->count() == 0 && position->count() == 0) throw CLI::RequiredError("one of --strongest or --position");
    });
    return {app, [o] { run_project(*o); }};
}

}  // namespace convis_cli
