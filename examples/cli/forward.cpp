// convis forward --model M [--classes N] --weights W --input X --out Y [--layers a,b,...]
//
// Loads W into the network (eval mode), runs one forward pass over X's `input` [N,C,H,W] and writes
// the listed layers' outputs to Y under their layer names ([N,C,H,W] for feature maps, [N,F] for
// flat outputs) plus `prob`, the softmax of the last layer [N, classes]. Prints each sample's top 5.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <numeric>
#include <string>
#include <vector>


#include <convis/convis.hpp>

#include "commands.hpp"

namespace convis_cli {
namespace {

struct forward_options {
    model_choice model;
    std::string weights, input, out;
    std::string layers;
    bool layers_given = false;
};

/// The layer indices named by a comma-separated list, in the order given, without repeats.
std::vector<int> parse_layers(const convis::session& s, const std::string& list) {
    std::vector<int> out;
    std::size_t begin = 0;
    while (true) {
        const std::size_t end = std::min(list.find(',', begin), list.size());
        std::string name = list.substr(begin, end - begin);
        name.erase(0, name.find_first_not_of(" \t"));
        name.erase(name.find_last_not_of(" \t") + 1);
        if (name.empty()) throw convis::error("--layers: empty layer name in '" + list + "'");
        const int i = s.find(name);
        if (std::find(out.begin(), out.end(), i) == out.end()) out.push_back(i);
        if (end == list.size()) break;
        begin = end + 1;
    }
    return out;
}

void run_forward(const forward_options& o) {
    const auto model = open_session(o.model);
    const int classes = model->classes();
    const std::vector<int> layers =
        o.layers_given ? parse_layers(*model, o.layers) : std::vector<int>{int(model->layers().size()) - 1};

    // The input before the weights: it is small, and a wrong shape should not wait for a large file.
    const convis::input_dims in = model->input();
    const std::vector<float> x =
        convis::read_samples(convis::read_safetensors(o.input), "input", {in.channels, in.height, in.width});
    const int batch = int(x.size() / in.size());

    model->load_weights(o.weights);
    model->eval();
    const float* logits = model->forward(x.data(), batch);
    convis::Tensor<convis::Features<convis::dynamic>> prob(batch, std::size_t(classes));
    convis::ops<convis::cpu>::softmax_forward(batch, classes, logits, prob.data());

    convis::safetensors_file y;
    y.path = o.out;
    model->add_layer_outputs(y, layers);
    y.tensors.emplace("prob", convis::make_tensor<float>(prob.values(), {batch, classes}));
    y.metadata = {{"convis.model", o.model.model},
                  {"convis.classes", std::to_string(classes)},
                  {"convis.weights", o.weights}};
    convis::write_safetensors(o.out, y);

    std::string written;
    for (const auto& [name, t] : y.tensors) written += (written.empty() ? "" : ", ") + name + " " + convis::shape_string(t.shape);
    std::printf("%s: %d sample%s through %s; wrote %s: %s\n", o.input.c_str(), batch, batch == 1 ? "" : "s",
                model->type_name().c_str(), o.out.c_str(), written.c_str());
    const int k = std::min(5, classes);
    std::vector<int> order(classes);
    for (int n = 0; n < batch; ++n) {
        const float* p = prob.sample(n);
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + k, order.end(),
                          [&](int a, int b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
        std::printf("sample %d top-%d:", n, k);
        for (int j = 0; j < k; ++j) std::printf("  %d (%.4f)", order[j], double(p[order[j]]));
        std::printf("\n");
    }
}

}  // namespace

command add_forward(CLI::App& parent) {
    auto* app = parent.add_subcommand("forward", "Run one forward pass and write the chosen layers' outputs "
                                                 "and the class probabilities to a safetensors file");
    auto o = std::make_shared<forward_options>();
    add_model_options(app, o->model);
    add_device_option(app, o->model);
    app->add_option("--weights", o->weights, "Weights (safetensors, PyTorch state_dict names)")->required();
    app->add_option("--input", o->input, "Input (safetensors with 'input' [N,3,224,224] float32)")->required();
    app->add_option("--out", o->out, "Output safetensors file (written atomically)")->required();
    auto* layers = app->add_option("--layers", o->layers,
                                   "Comma-separated layer names whose outputs to write (default: the last layer); "
                                   "'prob' is always written");
    return {app, [o, layers] {
                o->layers_given = layers->count() > 0;
                run_forward(*o);
            }};
}

}  // namespace convis_cli
