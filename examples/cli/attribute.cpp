// convis attribute --model M --weights W --input X --method gradcam|guided-gradcam|gradcam++|layercam|scorecam|
//                  saliency|input-x-gradient|integrated-gradients|smoothgrad|vargrad|deconvnet|guided-backprop|random
//                  [--layer L] [--target CLASS] [--steps N] [--samples N] [--noise S] [--base M] [--memory MiB] --out DIR
//
// Attribution maps (include/convis/analysis/attribution/). DIR gets attribution.safetensors (the
// raw map as `attribution`, [N,H,W] for the CAM methods and [N,C,H,W] for the others, `target`
// I64 [N]), overlay_<i>.png per input (the map over the grey picture, as Captum's
// visualize_image_attr "blended_heat_map" with sign "absolute_value": Σ_c |a| per pixel, scaled
// so that the top 2% saturate) and attribute.json (the settings, targets and their probabilities).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <convis/analysis/attribution/maps.hpp>
#include <convis/io/heatmap.hpp>
#include <convis/io/text_file.hpp>

#include "attribution_options.hpp"

namespace convis_cli {
namespace {


/// The picture in grey, enlarged k times: what the map is drawn over.
convis::image grey_picture(const convis::image& p, int k) {
    convis::image g;
    g.channels = 1;
    g.height = p.height * k;
    g.width = p.width * k;
    g.pixels.resize(std::size_t(g.height) * g.width);
    for (int y = 0; y < g.height; ++y)
        for (int x = 0; x < g.width; ++x) {
            float s = 0;
            for (int c = 0; c < p.channels; ++c) s += p.at(c, y / k, x / k);
            g.at(0, y, x) = s / float(p.channels);
        }
    return g;
}

void run_attribute(const attribution_cli_options& o) {
    namespace fs = std::filesystem;
    const auto model = open_session(o.model);
    const convis::input_dims dims = model->input();
    const auto extras = model->load_weights(o.weights);
    const auto in = load_inputs(dims, o.input, o.index, extras, o.weights);
    const int classes = model->classes();
    const auto names = class_names(extras, classes);
    const auto settings = attribution_settings(*model, o);
    const convis::attribution_map m =
        model->attribute(in.x.data(), in.batch, attribution_targets(o.target, in.batch, classes), settings);

    // The targets' probabilities on the unchanged inputs (the CPU backend's softmax is not linked
    // into the plain command files).
    const float* out = model->forward(in.x.data(), in.batch);
    const bool softmaxed = convis::ends_in_softmax(model->layers());
    const auto probability = [&](int b, int t) {
        const float* row = out + std::size_t(b) * classes;
        if (softmaxed) return double(row[t]);
        const float top = *std::max_element(row, row + classes);
        double sum = 0;
        for (int c = 0; c < classes; ++c) sum += std::exp(double(row[c]) - top);
        return std::exp(double(row[t]) - top) / sum;
    };

    fs::create_directories(o.out);
    const fs::path dir(o.out);
    convis::safetensors_file f;
    f.tensors.emplace("attribution", convis::make_tensor<float>(m.values, m.shape()));
    const std::vector<std::int64_t> target(m.target.begin(), m.target.end());
    f.tensors.emplace("target", convis::make_tensor<std::int64_t>(target, {m.count}));
    nlohmann::json meta = attribution_json(*model, o, m);
    for (const auto& [k, v] : meta.items()) f.metadata["convis." + k] = v.is_string() ? v.template get<std::string>() : v.dump();
    convis::write_safetensors((dir / "attribution.safetensors").string(), f);

    const int k = display_factor(dims.height);
    nlohmann::json images = nlohmann::json::array();
    for (int b = 0; b < m.count; ++b) {
        std::vector<float> s = convis::pixel_scores(m, b);
        // Captum's normalisation: the 98th percentile of the scores maps to the top of the scale.
        std::vector<float> sorted = s;
        const std::size_t at = std::min(sorted.size() - 1, std::size_t(0.98 * double(sorted.size())));
        std::nth_element(sorted.begin(), sorted.begin() + std::ptrdiff_t(at), sorted.end());
        const double hi = sorted[at] > 0 ? sorted[at] : 1.0;
        const std::string png = "overlay_" + std::to_string(b) + ".png";
        convis::write_png((dir / png).string(),
                          convis::heat_overlay(grey_picture(in.pictures[std::size_t(b)], k), s.data(), m.height, m.width, k,
                                               k, 0.0, hi, 0.5f));
        const int t = m.target[std::size_t(b)];
        images.push_back({{"input", in.names[std::size_t(b)]}, {"target", t}, {"target_name", names[std::size_t(t)]},
                          {"probability", probability(b, t)}, {"overlay", png}, {"scale", hi}});
    }
    meta["images"] = images;
    convis::write_text_atomic((dir / "attribute.json").string(), meta.dump(1) + "\n");
    std::printf("%s maps of %d input%s (%s): wrote %s/{attribution.safetensors,overlay_*.png,attribute.json}\n",
                o.method.c_str(), m.count, m.count == 1 ? "" : "s",
                m.layer >= 0 ? ("layer " + model->name(m.layer)).c_str() : "to the pixels", o.out.c_str());
}

}  // namespace

command add_attribute(CLI::App& parent) {
    auto* app = parent.add_subcommand("attribute", "Attribution maps: the Grad-CAM family, gradients, integrated gradients, "
                                                   "SmoothGrad and VarGrad, for a class of each input");
    auto o = std::make_shared<attribution_cli_options>();
    add_attribution_options(app, *o);
    app->add_option("--out", o->out, "Output folder")->required();
    return {app, [o] { run_attribute(*o); }};
}

}  // namespace convis_cli
