// convis init --model M [--classes N] --out W [--seed S] [--scheme paper|kaiming]
//
// Writes freshly initialised weights: the paper's N(0, 0.01²) weights and zero biases, or Kaiming
// normal. The same seed gives the same file on every platform.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include <convis/convis.hpp>

#include "commands.hpp"

namespace convis_cli {
namespace {

struct init_options {
    model_choice model;
    std::string out;
    std::uint64_t seed = 0;
    std::string scheme = "paper";
};

void run_init(const init_options& o) {
    const auto model = open_session(o.model);
    model->init(o.scheme == "kaiming" ? convis::init_scheme::kaiming : convis::init_scheme::paper, o.seed);
    convis::weights_extras extras;
    extras.metadata = {{"convis.model", o.model.model},
                       {"convis.classes", std::to_string(model->classes())},
                       {"convis.init", o.scheme},
                       {"convis.seed", std::to_string(o.seed)}};
    model->save_weights(o.out, extras);
    std::printf("wrote %s: %s, %zu parameters in %zu tensors, %s initialisation, seed %llu\n", o.out.c_str(),
                model->type_name().c_str(), model->parameter_count(),
                model->parameter_list().size(), o.scheme.c_str(), static_cast<unsigned long long>(o.seed));
}

}  // namespace

command add_init(CLI::App& parent) {
    auto* app = parent.add_subcommand("init", "Write freshly initialised weights for a network");
    auto o = std::make_shared<init_options>();
    add_model_options(app, o->model);
    app->add_option("--out", o->out, "Output safetensors file (written atomically)")->required();
    add_seed_option(app, o->seed);
    app->add_option("--scheme", o->scheme,
                    "paper: weights N(0, 0.01^2), biases 0 (Sec. 3); kaiming: weights N(0, 2/fan_in), biases 0")
        ->check(CLI::IsMember({"paper", "kaiming"}))
        ->capture_default_str();
    return {app, [o] { run_init(*o); }};
}

}  // namespace convis_cli
