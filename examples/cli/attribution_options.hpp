#pragma once
// The options `convis attribute` and `convis faithfulness` share: the method and its settings, the
// inputs and their targets. Plain code over convis::session.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <convis/analysis/attribution/method.hpp>

#include "inputs.hpp"

namespace convis_cli {

struct attribution_cli_options {
    model_choice model;
    std::vector<std::string> input;
    std::string weights, index, method, base = "saliency", layer, target, out;
    int steps = 64, samples = 16, batch = 0;
    float noise = 0.15f, baseline = 0;
    std::uint64_t seed = 0;
    std::size_t memory = 1024;  ///< MiB
};

/// Adds --model, --device, --weights, --input, --index, --method and every method setting.
inline void add_attribution_options(CLI::App* app, attribution_cli_options& o) {
    add_model_options(app, o.model);
    add_device_option(app, o.model);
    app->add_option("--weights", o.weights, "Weights (safetensors)")->required();
    add_input_options(app, o.input, o.index, nullptr, nullptr);
    std::vector<std::string> names(std::begin(convis::attribution_method_names), std::end(convis::attribution_method_names));
    app->add_option("--method", o.method, "Attribution method: gradcam, guided-gradcam, gradcam++, layercam, scorecam, "
                                          "saliency, input-x-gradient, integrated-gradients, smoothgrad, vargrad, "
                                          "deconvnet, guided-backprop or random")
        ->required()
        ->check(CLI::IsMember(names));
    app->add_option("--layer", o.layer, "The CAM methods' layer (default: the last conv block, e.g. relu5)");
    app->add_option("--target", o.target, "Class to explain: one for all inputs or a comma list (default: the predicted class)");
    app->add_option("--steps", o.steps, "Integrated gradients: steps of the Riemann sum")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app->add_option("--baseline", o.baseline, "Integrated gradients: the baseline value in input space (0: the mean picture)")
        ->capture_default_str();
    app->add_option("--samples", o.samples, "SmoothGrad/VarGrad: noisy copies per input")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app->add_option("--noise", o.noise, "SmoothGrad/VarGrad: noise standard deviation as a fraction of the input's range")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app->add_option("--base", o.base, "SmoothGrad/VarGrad: the method averaged over noisy copies")
        ->check(CLI::IsMember(names))
        ->capture_default_str();
    add_seed_option(app, o.seed);
    app->add_option("--memory", o.memory, "MiB that the model and a batch's buffers may take (sizes the batches)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app->add_option("--batch", o.batch, "Copies per pass (0: the largest that --memory allows)")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
}

/// The library's options for what the user chose.
inline convis::attribution_options attribution_settings(const convis::session& s, const attribution_cli_options& o) {
    convis::attribution_options a;
    a.method = convis::parse_attribution_method(o.method);
    a.layer = o.layer.empty() ? -1 : s.find(o.layer);
    a.steps = o.steps;
    a.baseline = o.baseline;
    a.samples = o.samples;
    a.noise = o.noise;
    a.base = convis::parse_attribution_method(o.base);
    a.seed = o.seed;
    a.memory_limit = o.memory << 20;
    a.batch = o.batch;
    return a;
}

/// --target: none (the predicted classes), one for all, or one per input.
inline std::vector<int> attribution_targets(const std::string& target, int count, int classes) {
    if (target.empty()) return {};
    std::vector<int> t = parse_int_list(target, "--target", 0, "class numbers");
    if (t.size() != 1 && int(t.size()) != count)
        throw convis::error("--target: " + std::to_string(t.size()) + " classes for " + std::to_string(count) + " inputs");
    for (const int c : t)
        if (c >= classes)
            throw convis::error("--target " + std::to_string(c) + " is outside the model's classes 0.." + std::to_string(classes - 1));
    return t;
}

/// The settings as JSON, for the files each command writes.
inline nlohmann::json attribution_json(const convis::session& s, const attribution_cli_options& o, const convis::attribution_map& m) {
    nlohmann::json j = {{"model", s.type_name()}, {"weights", o.weights}, {"method", o.method}, {"target", m.target},
                        {"shape", m.shape()}};
    if (m.layer >= 0) j["layer"] = s.name(m.layer);
    const auto method = convis::parse_attribution_method(o.method);
    const auto base = method == convis::attribution_method::smoothgrad || method == convis::attribution_method::vargrad
                          ? convis::parse_attribution_method(o.base)
                          : method;
    if (base == convis::attribution_method::integrated_gradients) j["steps"] = o.steps, j["baseline"] = o.baseline;
    if (base != method) j["base"] = o.base, j["samples"] = o.samples, j["noise"] = o.noise;
    if (base != method || method == convis::attribution_method::random) j["seed"] = o.seed;
    return j;
}

}  // namespace convis_cli
