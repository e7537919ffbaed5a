#pragma once
// The convis program's subcommands. Each lives in its own translation unit (info.cpp, forward.cpp,
// init.cpp, make_input.cpp) so that a 2-core machine compiles them in parallel; main.cpp only
// parses and dispatches. This header is deliberately light: it includes CLI11, not convis.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <convis/cli/run.hpp>

namespace convis_cli {

/// The networks --model chooses from, as convis::cli::run was given them.
const std::vector<convis::cli::network_choice>& networks();
void set_networks(std::vector<convis::cli::network_choice> n);

/// A registered subcommand: its CLI11 node, and what to do when the user chose it. `run` throws
/// convis::error (or any std::exception) on failure; main turns that into one line and exit 1.
struct command {
    CLI::App* app;
    std::function<void()> run;
};

command add_info(CLI::App& parent);
command add_forward(CLI::App& parent);
command add_init(CLI::App& parent);
command add_make_input(CLI::App& parent);
command add_project(CLI::App& parent);
command add_top9(CLI::App& parent);
command add_train(CLI::App& parent);
command add_evolution(CLI::App& parent);
command add_occlusion(CLI::App& parent);
command add_invariance(CLI::App& parent);
command add_correspondence(CLI::App& parent);
command add_attribute(CLI::App& parent);
command add_faithfulness(CLI::App& parent);
command add_visualize(CLI::App& parent);
command add_atlas(CLI::App& parent);
command add_report(CLI::App& parent);

/// A comma-separated list of integers ≥ `min` ("0,5,17"); convis::error naming `option` and the
/// expected form (`what`) otherwise.
std::vector<int> parse_int_list(const std::string& list, const std::string& option, int min, const std::string& what);

/// The model choice shared by every subcommand that builds a network.
struct model_choice {
    std::string model;
    int classes = 0;             ///< 0: the network's default
    std::string device = "cpu";  ///< --device: the policy the model runs on
};

/// The session of the user's choice: its network, class count and device.
std::unique_ptr<convis::session> open_session(const model_choice& m);

/// Adds --seed: an unsigned 64-bit integer, digits only (CLI11 alone would wrap "-1" around to
/// 2^64 - 1 and saturate values past it).
inline CLI::Option* add_seed_option(CLI::App* app, std::uint64_t& seed) {
    const CLI::Validator digits(
        [](std::string& s) -> std::string {
            if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
                return "expected a non-negative integer, got '" + s + "'";
            const std::string max = "18446744073709551615";  // CLI11 would saturate larger values
            const std::string t = s.substr(std::min(s.find_first_not_of('0'), s.size()));
            if (t.size() > max.size() || (t.size() == max.size() && t > max))
                return "seed " + s + " is larger than 2^64 - 1";
            return {};
        },
        "UINT");
    return app->add_option("--seed", seed, "Random seed")->check(digits)->capture_default_str();
}

/// Adds --model (required; checked against the networks' names, a wrong name is a usage error)
/// and --classes (any count ≥ 1 for a network with a run-time class count; else its own).
void add_model_options(CLI::App* app, model_choice& m);

/// Adds --device: cpu (the default) or gpu (when the program is built with the GPU policy).
inline void add_device_option(CLI::App* app, model_choice& m) {
    app->add_option("--device", m.device, "Where the network runs: cpu, or gpu (NVIDIA, through cuDNN)")
        ->check(CLI::IsMember({"cpu", "gpu"}))
        ->capture_default_str();
}

/// Adds --mode: how a projection passes down through a ReLU.
inline CLI::Option* add_mode_option(CLI::App* app, std::string& mode) {
    return app->add_option("--mode", mode, "deconvnet (the paper), guided, or gradient")
        ->check(CLI::IsMember({"deconvnet", "guided", "gradient"}))
        ->capture_default_str();
}

/// Adds the analyses' inputs (read by inputs.hpp's load_inputs and load_labels): --input (one or
/// more pictures, safetensors or IDX files), --index, and --label or --labels.
inline void add_input_options(CLI::App* app, std::vector<std::string>& input, std::string& index, std::string* label,
                              std::string* labels) {
    app->add_option("--input", input, "Input: PNG/JPEG pictures (fitted to the input size and preprocessed as the weights "
                                      "say), a safetensors file with 'input' [N,C,H,W], or an IDX image file")
        ->required();
    app->add_option("--index", index, "Pictures of an IDX input, e.g. 0,17 (default: the first)");
    if (!label) return;
    auto* one = app->add_option("--label", *label, "True class of each input (one for all, or a comma list)");
    auto* file = app->add_option("--labels", *labels, "IDX label file read at --index (instead of --label)");
    one->excludes(file);
    app->parse_complete_callback([one, file] {
        if (one->count() == 0 && file->count() == 0) throw CLI::RequiredError("one of --label or --labels");
    });
}

}  // namespace convis_cli
