// The convis program's command line: building the app and parsing (app.hpp).
#include "app.hpp"

#include <exception>
#include <new>
#include <sstream>
#include <stdexcept>

#ifndef CONVIS_VERSION
#define CONVIS_VERSION "unknown"
#endif

namespace convis_cli {

program::program()
    : app{"convis: visualizing and understanding convolutional networks (Zeiler & Fergus, ECCV 2014)", "convis"} {
    app.set_version_flag("--version", std::string("convis ") + CONVIS_VERSION);
    app.require_subcommand(1);
    // Given before or after the subcommand: `convis --threads 2 train …` or `convis train --threads 2 …`.
    app.fallthrough();
    app.add_option("--threads", threads, "CPU threads for every operation (default: all cores; also OMP_NUM_THREADS)")
        ->check(CLI::Range(1, 4096))
        ->type_name("N");
}

std::unique_ptr<program> make_program(std::vector<convis::cli::network_choice> nets) {
    set_networks(std::move(nets));
    auto p = std::make_unique<program>();
    p->commands = {add_info(p->app),      add_forward(p->app),   add_init(p->app),
                   add_make_input(p->app), add_project(p->app),   add_top9(p->app),
                   add_train(p->app),     add_evolution(p->app), add_occlusion(p->app),
                   add_invariance(p->app), add_correspondence(p->app), add_attribute(p->app),
                   add_faithfulness(p->app), add_visualize(p->app), add_atlas(p->app),
                   add_report(p->app)};
    return p;
}

parse_outcome parse(program& p, int argc, const char* const* argv) {
    // CLI11 would answer "A subcommand is required" to a misspelt one; name it instead.
    if (argc > 1 && argv[1][0] != '-') {
        const std::string first = argv[1];
        std::string names;
        bool known = false;
        for (const auto& c : p.commands) {
            known = known || c.app->get_name() == first;
            names += (names.empty() ? "" : ", ") + c.app->get_name();
        }
        if (!known)
            return {parse_outcome::usage_error,
                    "unknown subcommand '" + first + "'; choose one of " + names + " (see 'convis --help')"};
    }
    try {
        p.app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) {  // --help, --help-all, --version
            std::ostringstream out, err;
            p.app.exit(e, out, err);
            return {parse_outcome::done, out.str()};
        }
        std::string where = "convis";
        for (const auto* sub : p.app.get_subcommands()) where += " " + sub->get_name();
        return {parse_outcome::usage_error, std::string(e.what()) + " (see '" + where + " --help')"};
    } catch (const std::bad_alloc&) {
        throw;
    } catch (const std::exception& e) {  // a validator or callback of ours that throws
        return {parse_outcome::usage_error, e.what()};
    }
    return {};
}

namespace {
std::vector<convis::cli::network_choice>& registry() {
    static std::vector<convis::cli::network_choice> r;
    return r;
}
const convis::cli::network_choice& choice_of(const std::string& name) {
    for (const auto& n : registry())
        if (n.name == name) return n;
    std::string names;
    for (const auto& n : registry()) names += (names.empty() ? "" : ", ") + n.name;
    throw convis::error("unknown model '" + name + "'; choose " + names);
}
}  // namespace

const std::vector<convis::cli::network_choice>& networks() { return registry(); }
void set_networks(std::vector<convis::cli::network_choice> n) { registry() = std::move(n); }

/// The largest --classes: beyond any data set's label count (ImageNet-21k has 21841), small
/// enough that the last layer's weights stay allocatable.
constexpr int max_classes = 1000000;

void add_model_options(CLI::App* app, model_choice& m) {
    std::vector<std::string> names;
    std::string help = "Network:";
    for (const auto& n : networks()) {
        names.push_back(n.name);
        help += (names.size() > 1 ? ", " : " ") + n.name + (n.description.empty() ? "" : " (" + n.description + ")");
    }
    app->add_option("--model", m.model, help)->required()->check(CLI::IsMember(names));
    std::string defaults;
    for (const auto& n : networks())
        defaults += (defaults.empty() ? "" : ", ") + std::to_string(n.default_classes) + " for " + n.name +
                    (n.dynamic_classes ? "" : " (fixed)");
    const CLI::Validator count(
        [](std::string& s) -> std::string {
            if (s.empty() || s.size() > 7 || s.find_first_not_of("0123456789") != std::string::npos || std::stoi(s) < 1 ||
                std::stoi(s) > max_classes)
                return "expected a class count from 1 to " + std::to_string(max_classes) + ", got '" + s + "'";
            return {};
        },
        "N");
    app->add_option("--classes", m.classes, "Number of classes, any count >= 1 for a network whose last layer is "
                                            "Linear<In, dynamic> (default: " + defaults + ")")
        ->check(count);
}

std::unique_ptr<convis::session> open_session(const model_choice& m) {
    const auto& n = choice_of(m.model);
    const int classes = m.classes > 0 ? m.classes : n.default_classes;
    if (!n.dynamic_classes && classes != n.default_classes)
        throw convis::error("--classes " + std::to_string(classes) + ": " + n.name + " has " +
                            std::to_string(n.default_classes) + " classes, fixed by its type");
    return n.make(classes, m.device);
}

std::vector<int> parse_int_list(const std::string& list, const std::string& option, int min, const std::string& what) {
    std::vector<int> out;
    std::stringstream ss(list);
    std::string item;
    while (std::getline(ss, item, ',')) {
        std::size_t used = 0;
        int v = min - 1;
        try {
            v = std::stoi(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (item.empty() || used != item.size() || v < min)
            throw std::runtime_error(option + " '" + list + "': expected " + what);
        out.push_back(v);
    }
    if (out.empty()) throw std::runtime_error(option + " '" + list + "': expected " + what);
    return out;
}

}  // namespace convis_cli
