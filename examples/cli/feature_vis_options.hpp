#pragma once
// The feature visualisation options that `convis visualize` and `convis atlas` share: they turn
// into convis::feature_vis_options (include/convis/analysis/feature_vis/visualise.hpp).
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include <convis/analysis/feature_vis/visualise.hpp>

#include "commands.hpp"

namespace convis_cli {

struct feature_vis_cli {
    int steps = 256, jitter = -1, batch = 16;
    std::string param = "fourier", scale = "0.9,1.1";
    double lr = 0.05, l2 = 0, tv = 0, rotate = 10;
    bool no_transforms = false, no_decorrelate = false;
    std::uint64_t seed = 1;

    convis::feature_vis_options settings(int height) const {
        convis::feature_vis_options s;
        s.steps = steps;
        s.parametrisation = convis::parse_parametrisation(param);
        s.decorrelate = !no_decorrelate;
        s.adam.lr = lr;
        s.transforms = !no_transforms;
        s.jitter = jitter >= 0 ? jitter : int(std::lround(height / 16.0));
        const std::size_t comma = scale.find(',');
        try {
            if (comma == std::string::npos) throw std::invalid_argument(scale);
            std::size_t used = 0;
            s.scale_min = std::stod(scale.substr(0, comma), &used);
            if (used != comma) throw std::invalid_argument(scale);
            s.scale_max = std::stod(scale.substr(comma + 1), &used);
            if (used != scale.size() - comma - 1) throw std::invalid_argument(scale);
        } catch (const std::logic_error&) {
            throw convis::error("--scale '" + scale + "': expected MIN,MAX, e.g. 0.9,1.1");
        }
        s.rotate = rotate;
        s.l2 = l2;
        s.tv = tv;
        s.seed = seed;
        s.batch = batch;
        return s;
    }

    static nlohmann::json json(const convis::feature_vis_options& s) {
        return {{"steps", s.steps},
                {"param", std::string(convis::parametrisation_name(s.parametrisation))},
                {"decorrelate", s.decorrelate},
                {"lr", s.adam.lr},
                {"transforms", s.transforms},
                {"jitter", s.jitter},
                {"scale", {s.scale_min, s.scale_max}},
                {"rotate", s.rotate},
                {"l2", s.l2},
                {"tv", s.tv},
                {"seed", std::to_string(s.seed)},
                {"batch", s.batch}};
    }
};

inline void add_feature_vis_options(CLI::App* app, feature_vis_cli& v) {
    app->add_option("--steps", v.steps, "Adam steps per picture")->check(CLI::Range(0, 100000))->capture_default_str();
    app->add_option("--param", v.param, "How the picture is parametrised: pixel, or fourier (decorrelated spectrum)")
        ->check(CLI::IsMember({"pixel", "fourier"}))
        ->capture_default_str();
    app->add_option("--lr", v.lr, "Adam's learning rate")->check(CLI::PositiveNumber)->capture_default_str();
    app->add_option("--l2", v.l2, "Weight of the L2 penalty mean((u - 0.5)^2)")->check(CLI::NonNegativeNumber)->capture_default_str();
    app->add_option("--tv", v.tv, "Weight of the total-variation penalty (per value)")->check(CLI::NonNegativeNumber)->capture_default_str();
    app->add_flag("--no-transforms", v.no_transforms, "No random jitter, scale and rotation");
    app->add_option("--jitter", v.jitter, "Random translation, +- whole pixels (default: height / 16)")->check(CLI::NonNegativeNumber);
    app->add_option("--scale", v.scale, "Random zoom range MIN,MAX")->capture_default_str();
    app->add_option("--rotate", v.rotate, "Random rotation, +- degrees")->check(CLI::Range(0.0, 180.0))->capture_default_str();
    app->add_flag("--no-decorrelate", v.no_decorrelate, "No colour decorrelation (3-channel inputs)");
    app->add_option("--batch", v.batch, "Pictures optimised together")->check(CLI::Range(1, 4096))->capture_default_str();
    add_seed_option(app, v.seed);
}

}  // namespace convis_cli
