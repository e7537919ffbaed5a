// convis faithfulness --model M --weights W --input X --method ... --metric deletion|insertion|sanity
//                     [--curve-steps N] [--fill F] [method settings as convis attribute] --out DIR
//
// Whether a method's maps are faithful (include/convis/analysis/attribution/faithfulness.hpp and
// sanity.hpp). DIR gets faithfulness.json and curve.svg:
//   deletion, insertion  the target's probability as pixels are removed (inserted) in the map's
//                        order, per input and their mean; the AUC per input and its mean; the
//                        average drop and increase in confidence of the map as a mask
//   sanity               cascading parameter randomisation, top layer first: Spearman rank
//                        correlation and SSIM of each stage's map with the trained model's
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <convis/io/plot.hpp>
#include <convis/io/text_file.hpp>

#include "attribution_options.hpp"

namespace convis_cli {
namespace {

struct faithfulness_cli_options {
    attribution_cli_options a;
    std::string metric;
    int curve_steps = 32;
    float fill = 0;
};

void run_faithfulness(const faithfulness_cli_options& o) {
    namespace fs = std::filesystem;
    const auto model = open_session(o.a.model);
    const convis::input_dims dims = model->input();
    const auto extras = model->load_weights(o.a.weights);
    const auto in = load_inputs(dims, o.a.input, o.a.index, extras, o.a.weights);
    const auto settings = attribution_settings(*model, o.a);
    const auto targets = attribution_targets(o.a.target, in.batch, model->classes());

    nlohmann::json j;
    convis::line_plot plot;
    std::string summary;
    if (o.metric == "sanity") {
        convis::sanity_options so;
        so.attribution = settings;
        so.seed = o.a.seed;
        const convis::sanity_result r = model->randomisation_check(in.x.data(), in.batch, targets, so);
        j = {{"model", model->type_name()}, {"weights", o.a.weights}, {"method", o.a.method}, {"metric", o.metric},
             {"target", r.target}, {"stages", r.stages}, {"spearman", r.spearman}, {"ssim", r.ssim},
             {"mean_spearman", r.mean_spearman}, {"mean_ssim", r.mean_ssim}, {"seed", o.a.seed}};
        plot.title = o.a.method + ": cascading randomisation";
        plot.x_label = "layers randomised (top first)";
        plot.y_label = "similarity to the trained model's map";
        convis::plot_series sp{"Spearman", {}, {}}, ss{"SSIM", {}, {}};
        for (std::size_t i = 0; i < r.stages.size(); ++i) {
            sp.x.push_back(double(i)), sp.y.push_back(r.mean_spearman[i]);
            ss.x.push_back(double(i)), ss.y.push_back(r.mean_ssim[i]);
        }
        plot.series = {sp, ss};
        plot.y_min = -1, plot.y_max = 1;
        summary = "Spearman " + std::to_string(r.mean_spearman.front()) + " -> " + std::to_string(r.mean_spearman.back()) +
                  " as " + std::to_string(r.stages.size() - 1) + " layers are randomised";
    } else {
        const convis::attribution_map m = model->attribute(in.x.data(), in.batch, targets, settings);
        convis::deletion_options d;
        d.insertion = o.metric == "insertion";
        d.steps = o.curve_steps;
        d.fill = o.fill;
        d.memory_limit = settings.memory_limit;
        d.batch = settings.batch;
        const convis::deletion_result r = model->deletion_curve(in.x.data(), m, d);
        const convis::confidence_drop_result c = model->confidence_drop(in.x.data(), m, o.fill, settings.memory_limit);
        const std::size_t points = r.fraction.size();
        std::vector<float> mean(points, 0.f);
        for (int b = 0; b < m.count; ++b)
            for (std::size_t k = 0; k < points; ++k) mean[k] += r.score[std::size_t(b) * points + k] / float(m.count);
        j = attribution_json(*model, o.a, m);
        j.update({{"metric", o.metric}, {"fill", o.fill}, {"curve_steps", o.curve_steps}, {"fraction", r.fraction},
                  {"score", r.score}, {"mean_score", mean}, {"auc", r.auc}, {"mean_auc", r.mean_auc},
                  {"average_drop", c.average_drop}, {"increase_in_confidence", c.increase}, {"drop", c.drop}});
        plot.title = o.a.method + ": " + o.metric;
        plot.x_label = std::string("fraction of pixels ") + (d.insertion ? "inserted" : "deleted");
        plot.y_label = "probability of the target class";
        for (int b = 0; b < m.count && m.count <= 8; ++b)
            plot.series.push_back({in.names[std::size_t(b)], {r.fraction.begin(), r.fraction.end()},
                                   {r.score.begin() + std::ptrdiff_t(std::size_t(b) * points),
                                    r.score.begin() + std::ptrdiff_t(std::size_t(b + 1) * points)}});
        plot.series.push_back({"mean (AUC " + std::to_string(r.mean_auc).substr(0, 5) + ")",
                               {r.fraction.begin(), r.fraction.end()}, {mean.begin(), mean.end()}});
        plot.y_min = 0, plot.y_max = 1;
        summary = o.metric + " AUC " + std::to_string(r.mean_auc) + ", average drop " + std::to_string(c.average_drop) +
                  "%, increase in confidence " + std::to_string(c.increase) + "%";
    }
    fs::create_directories(o.a.out);
    const fs::path dir(o.a.out);
    convis::write_text_atomic((dir / "faithfulness.json").string(), j.dump(1) + "\n");
    convis::write_text_atomic((dir / "curve.svg").string(), convis::to_svg(plot));
    std::printf("%s, %s of %d input%s: %s\nwrote %s/{faithfulness.json,curve.svg}\n", o.a.method.c_str(), o.metric.c_str(),
                in.batch, in.batch == 1 ? "" : "s", summary.c_str(), o.a.out.c_str());
}

}  // namespace

command add_faithfulness(CLI::App& parent) {
    auto* app = parent.add_subcommand("faithfulness", "Whether attribution maps are faithful: deletion and insertion "
                                                      "curves with their AUC, or the parameter-randomisation sanity check");
    auto o = std::make_shared<faithfulness_cli_options>();
    add_attribution_options(app, o->a);
    app->add_option("--metric", o->metric, "deletion, insertion or sanity")
        ->required()
        ->check(CLI::IsMember({"deletion", "insertion", "sanity"}));
    app->add_option("--curve-steps", o->curve_steps, "Deletion/insertion: steps of the curve")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app->add_option("--fill", o->fill, "Deletion/insertion: the removed pixels' value in input space (0: the mean picture)")
        ->capture_default_str();
    app->add_option("--out", o->a.out, "Output folder")->required();
    return {app, [o] { run_faithfulness(*o); }};
}

}  // namespace convis_cli
