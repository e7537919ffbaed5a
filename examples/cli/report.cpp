// convis report --run DIR --out out/report.html
//
// One self-contained HTML page (pictures inlined as data URIs, plots as inline SVG, no external
// resource) with what the other subcommands wrote under DIR, each figure captioned with what it
// shows and how it was made:
//   DIR/train/metrics.json             training curve and table       (convis train --out DIR/train)
//   DIR/top9/<layer>/index.json        Fig. 2 grids                    (convis top9 --out DIR/top9/<layer>)
//   DIR/evolution/evolution.json       Fig. 4 grids                    (convis evolution --out DIR/evolution)
//   DIR/invariance/<name>/invariance.json   Fig. 5 curves              (convis invariance --out DIR/invariance/<name>)
//   DIR/occlusion/<name>/occlusion.json     Fig. 7 maps                (convis occlusion --out DIR/occlusion/<name>)
//   DIR/correspondence/<part>.json     Table 1                         (convis correspondence --out DIR/correspondence/<part>.json)
//   DIR/attribution/<name>/attribute.json   attribution maps           (convis attribute --out DIR/attribution/<name>)
//   DIR/faithfulness/<name>/faithfulness.json  deletion, insertion, sanity  (convis faithfulness --out DIR/faithfulness/<name>)
//   DIR/visualize/<layer>/visualize.json  feature visualisations   (convis visualize --out DIR/visualize/<layer>)
//   DIR/atlas/index.html               linked when there                (convis atlas --out DIR/atlas)
// Sections whose files are missing say so; a file that is there but unreadable is an error.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <convis/core/error.hpp>
#include <convis/io/grid.hpp>
#include <convis/io/html.hpp>
#include <convis/io/text_file.hpp>
#include <convis/io/image.hpp>
#include <convis/io/plot.hpp>

#include "commands.hpp"

namespace convis_cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct report_options {
    std::string run, out, atlas;
};

json read_json(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    if (!f) throw convis::error(p.string() + ": cannot open");
    std::stringstream ss;
    ss << f.rdbuf();
    json j = json::parse(ss.str(), nullptr, false);
    if (j.is_discarded()) throw convis::error(p.string() + ": not valid JSON");
    return j;
}

std::string read_text(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    if (!f) throw convis::error(p.string() + ": cannot open");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string fixed(double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

/// Sub-folders (or files with `ext`) of `dir`, sorted by name; none when `dir` is missing.
std::vector<fs::path> entries(const fs::path& dir, const std::string& ext = "") {
    std::vector<fs::path> out;
    if (!fs::is_directory(dir)) return out;
    for (const auto& e : fs::directory_iterator(dir))
        if (ext.empty() ? e.is_directory() : (e.is_regular_file() && e.path().extension() == ext)) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

std::string join(const json& list, const std::string& sep = ", ") {
    std::string s;
    for (const auto& v : list) s += (s.empty() ? "" : sep) + (v.is_string() ? v.get<std::string>() : v.dump());
    return s;
}

void training_section(convis::html_report& h, const fs::path& run) {
    h.heading("Training");
    const fs::path file = run / "train" / "metrics.json";
    if (!fs::exists(file)) return h.paragraph("No training run here (" + file.string() + " is missing).");
    const json m = read_json(file);
    std::vector<std::vector<std::string>> rows;
    convis::line_plot p;
    p.title = "accuracy per epoch";
    p.x_label = "epoch";
    p.y_label = "accuracy (%)";
    convis::plot_series train{"train (during the epoch, dropout on)", {}, {}}, test{"test", {}, {}};
    for (const auto& e : m.at("epochs")) {
        const double epoch = e.at("epoch").get<double>();
        rows.push_back({std::to_string(e.at("epoch").get<int>()), fixed(e.at("lr").get<double>(), 5),
                        fixed(e.at("train_loss").get<double>(), 4), fixed(100 * e.at("train_accuracy").get<double>(), 2),
                        fixed(100 * e.at("test_accuracy").get<double>(), 2), fixed(e.at("seconds").get<double>(), 1)});
        train.x.push_back(epoch);
        train.y.push_back(100 * e.at("train_accuracy").get<double>());
        test.x.push_back(epoch);
        test.y.push_back(100 * e.at("test_accuracy").get<double>());
    }
    p.series = {train, test};
    h.figure_svg(convis::to_svg(p), "Training and test accuracy after each epoch (" + file.string() + ").");
    h.table({"epoch", "learning rate", "train loss", "train accuracy (%)", "test accuracy (%)", "seconds"}, rows,
            "Per epoch: SGD with momentum, the paper's filter renormalisation; test accuracy on the held-out set.");
}

void top9_section(convis::html_report& h, const fs::path& run) {
    h.heading("Top-9 activations and their projections (Fig. 2)");
    const auto layers = entries(run / "top9");
    if (layers.empty()) return h.paragraph("No top-9 figures here (" + (run / "top9").string() + " is missing).");
    for (const auto& dir : layers) {
        const json j = read_json(dir / "index.json");
        const std::string layer = j.at("layer");
        h.figure(convis::read_image((dir / j.at("grid").get<std::string>()).string()),
                 layer + ": for each of channels " + join(j.at("channels")) + " (one block per channel), the " +
                     std::to_string(j.at("k").get<int>()) + " strongest activations over " +
                     std::to_string(j.at("pictures").get<long long>()) + " pictures of " + j.at("data").get<std::string>() +
                     ": left, each projected to pixels by the deconvnet (" + j.at("mode").get<std::string>() +
                     " mode, the picture's own strongest position of the channel, contrast-stretched); right, the "
                     "picture patch in that unit's receptive field.");
    }
}

void evolution_section(convis::html_report& h, const fs::path& run) {
    h.heading("Feature evolution during training (Fig. 4)");
    const fs::path file = run / "evolution" / "evolution.json";
    if (!fs::exists(file)) return h.paragraph("No evolution figures here (" + file.string() + " is missing).");
    const json j = read_json(file);
    std::vector<std::string> epochs;
    for (const auto& s : j.at("snapshots")) epochs.push_back(std::to_string(s.at("epoch").get<int>()));
    std::string cols;
    for (const auto& e : epochs) cols += (cols.empty() ? "" : ", ") + e;
    for (const auto& l : j.at("layers"))
        h.figure(convis::read_image((file.parent_path() / l.at("grid").get<std::string>()).string()),
                 l.at("layer").get<std::string>() + ": a row per channel (" + join(l.at("channels")) +
                     "), a column per snapshot (epochs " + cols + "): the strongest activation over " +
                     std::to_string(j.at("pictures").get<long long>()) +
                     " training pictures, projected to pixels with that snapshot's weights.");
}

void invariance_section(convis::html_report& h, const fs::path& run) {
    h.heading("Invariance to translation, scale and rotation (Fig. 5)");
    const auto dirs = entries(run / "invariance");
    if (dirs.empty()) return h.paragraph("No invariance curves here (" + (run / "invariance").string() + " is missing).");
    for (const auto& dir : dirs) {
        const json j = read_json(dir / "invariance.json");
        const std::string t = j.at("transform");
        std::string pictures;
        for (std::size_t i = 0; i < j.at("inputs").size(); ++i)
            pictures += (i ? "; " : "") + j.at("inputs")[i].get<std::string>() + " (" +
                        j.at("label_names")[i].get<std::string>() + ")";
        const std::string how = t == "translate" ? "moved down by each number of pixels (vacated rows take the mean)"
                                : t == "scale"   ? "scaled about the centre by each ratio (bilinear)"
                                                 : "rotated about the centre by each angle (bilinear)";
        h.figure(convis::read_image((dir / "transformed.png").string()),
                 t + ": the first picture at each value (" + join(j.at("values")) + "), as the network saw it.");
        for (const auto& layer : j.at("layers"))
            h.figure_svg(read_text(dir / ("distance_" + layer.get<std::string>() + ".svg")),
                         t + ": Euclidean distance between the " + layer.get<std::string>() +
                             " output of each picture and of the picture " + how + ". Pictures: " + pictures + ".");
        h.figure_svg(read_text(dir / "probability.svg"),
                     t + ": the probability of each picture's true class as it is " + how + ".");
    }
}

void occlusion_section(convis::html_report& h, const fs::path& run) {
    h.heading("Occlusion sensitivity (Fig. 7)");
    const auto dirs = entries(run / "occlusion");
    if (dirs.empty()) return h.paragraph("No occlusion maps here (" + (run / "occlusion").string() + " is missing).");
    for (const auto& dir : dirs) {
        const json j = read_json(dir / "occlusion.json");
        const std::string square = std::to_string(j.at("size").get<int>()) + "x" + std::to_string(j.at("size").get<int>());
        const std::string what = j.at("input").get<std::string>() + " (true class " + j.at("label_name").get<std::string>() +
                                 ", p = " + fixed(j.at("base_probability").get<double>(), 3) + " unoccluded)";
        const std::string how = "a " + square + " square of the mean grey at every " +
                                std::to_string(j.at("stride").get<int>()) + " pixels (" + std::to_string(j.at("rows").get<int>()) +
                                " x " + std::to_string(j.at("cols").get<int>()) + " positions), each value drawn where the square's centre was";
        const std::string map = j.at("layer").get<std::string>() + " channel " + std::to_string(j.at("channel").get<int>());
        h.figure(convis::read_image((dir / "picture.png").string()), "(a) " + what + ".");
        h.figure(convis::read_image((dir / "activation.png").string()),
                 "(b) Total activation of " + map + ", the map strongest on the unoccluded picture, as " + how + ".");
        h.figure(convis::read_image((dir / "projection.png").string()),
                 "(c) " + map + "'s strongest activation on the unoccluded picture, projected to pixels by the deconvnet.");
        h.figure(convis::read_image((dir / "probability.png").string()),
                 "(d) Probability of the true class (" + j.at("label_name").get<std::string>() + ") as " + how + ".");
        h.figure(convis::read_image((dir / "label.png").string()), "(e) The most probable class as " + how + ".");
    }
}

void correspondence_section(convis::html_report& h, const fs::path& run) {
    h.heading("Correspondence of parts (Table 1)");
    const auto files = entries(run / "correspondence", ".json");
    if (files.empty())
        return h.paragraph("No correspondence results here (" + (run / "correspondence").string() + " is missing).");
    std::vector<std::string> layers;
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> random_row{"random boxes"};
    std::string sizes;
    for (const auto& file : files) {
        const json j = read_json(file);
        if (layers.empty())
            for (const auto& [name, v] : j.at("layers").items()) layers.push_back(name);
        std::vector<std::string> row{j.at("part").get<std::string>() + " (" + std::to_string(j.at("inputs").size()) + " pictures)"};
        std::vector<std::string> rnd{"random, as " + j.at("part").get<std::string>()};
        for (const auto& name : layers) {
            const json& v = j.at("layers").at(name);
            row.push_back(fixed(v.at("mean").get<double>(), 3) + " ± " + fixed(v.at("std").get<double>(), 3));
            rnd.push_back(fixed(v.at("random").at("mean").get<double>(), 3) + " ± " +
                          fixed(v.at("random").at("std").get<double>(), 3));
        }
        rows.push_back(row);
        rows.push_back(rnd);
        fs::path picture = file;
        picture.replace_extension(".png");
        if (fs::exists(picture))
            h.figure(convis::read_image(picture.string()),
                     j.at("part").get<std::string>() + ": the pictures with the part masked (boxes y,x,h,w: " +
                         join(j.at("boxes"), "; ") + ").");
        sizes = std::to_string(j.at("random_draws").get<int>()) + " draws, seed " + j.at("seed").dump();
    }
    std::vector<std::string> header{"masked part"};
    header.insert(header.end(), layers.begin(), layers.end());
    h.table(header, rows,
            "Mean ± standard deviation over picture pairs of the fraction of feature dimensions whose change ε = x − x̃ "
            "(original minus masked) differs in sign between two pictures, sign(0) = 0; lower is tighter "
            "correspondence. Each 'random' row masks a box of the same size at a random place in each picture (" +
            sizes + ").");
}

/// What a map explains, for captions: "gradcam (layer relu5)", "integrated-gradients (64 steps)".
std::string method_words(const json& j) {
    std::string s = j.at("method").get<std::string>();
    std::vector<std::string> how;
    if (j.contains("layer")) how.push_back("layer " + j.at("layer").get<std::string>());
    if (j.contains("base")) how.push_back("over " + j.at("base").get<std::string>() + ", " + std::to_string(j.at("samples").get<int>()) +
                                          " samples, noise " + fixed(j.at("noise").get<double>(), 2));
    if (j.contains("steps")) how.push_back(std::to_string(j.at("steps").get<int>()) + " steps");
    return how.empty() ? s : s + " (" + join(json(how)) + ")";
}

void attribution_section(convis::html_report& h, const fs::path& run) {
    h.heading("Attribution maps (beyond the paper)");
    const auto dirs = entries(run / "attribution");
    if (dirs.empty()) return h.paragraph("No attribution maps here (" + (run / "attribution").string() + " is missing).");
    h.paragraph("What each method says the classifier looked at: the map over the picture in grey, Σ over colour channels "
                "of |attribution| per pixel, scaled so that the top 2% saturate (Captum's \"blended heat map\"). "
                "include/convis/analysis/attribution/method.hpp defines every method.");
    for (const auto& dir : dirs) {
        const json j = read_json(dir / "attribute.json");
        std::vector<convis::image> overlays;
        std::string what;
        for (const auto& img : j.at("images")) {
            overlays.push_back(convis::read_image((dir / img.at("overlay").get<std::string>()).string()));
            what += (what.empty() ? "" : "; ") + img.at("input").get<std::string>() + ": " +
                    img.at("target_name").get<std::string>() + " (p = " + fixed(img.at("probability").get<double>(), 3) + ")";
        }
        h.figure(convis::stack_horizontal(overlays), method_words(j) + ", for the class each picture is explained as: " + what + ".");
    }
}

void faithfulness_section(convis::html_report& h, const fs::path& run) {
    h.heading("Are the maps faithful? Deletion, insertion and the sanity check");
    const auto dirs = entries(run / "faithfulness");
    if (dirs.empty()) return h.paragraph("No faithfulness results here (" + (run / "faithfulness").string() + " is missing).");
    std::vector<std::vector<std::string>> rows;
    std::vector<std::pair<std::string, std::string>> curves;
    std::string sizes;
    for (const auto& dir : dirs) {
        const json j = read_json(dir / "faithfulness.json");
        const std::string metric = j.at("metric");
        const std::string svg = read_text(dir / "curve.svg");
        if (metric == "sanity") {
            std::string stages;
            const auto& names = j.at("stages");
            for (std::size_t i = 0; i < names.size(); ++i)
                stages += (i ? ", " : "") + names[i].get<std::string>() + " " + fixed(j.at("mean_spearman")[i].get<double>(), 2) +
                          " / " + fixed(j.at("mean_ssim")[i].get<double>(), 2);
            curves.emplace_back(svg, j.at("method").get<std::string>() +
                                         ": cascading randomisation of the parameters, top layer first; mean Spearman rank "
                                         "correlation and SSIM of the map with the trained model's over " +
                                         std::to_string(j.at("target").size()) + " pictures (stage Spearman / SSIM: " + stages +
                                         "). A map that keeps its likeness explains the picture, not the model.");
            continue;
        }
        const std::size_t n = j.at("auc").size();
        rows.push_back({method_words(j), metric, fixed(j.at("mean_auc").get<double>(), 4), fixed(j.at("average_drop").get<double>(), 1),
                        fixed(j.at("increase_in_confidence").get<double>(), 1), std::to_string(n)});
        curves.emplace_back(svg, method_words(j) + ": the probability of each picture's class as pixels are " +
                                     (metric == "deletion" ? "removed (set to the mean)" : "inserted into the mean picture") +
                                     " in the map's order, " + std::to_string(j.at("curve_steps").get<int>()) +
                                     " steps; the mean curve's AUC in the legend.");
    }
    if (!rows.empty())
        h.table({"method", "metric", "mean AUC", "average drop (%)", "increase in confidence (%)", "pictures"}, rows,
                "Deletion AUC: lower means the map found what the class depends on (a random map is the floor to beat); "
                "insertion AUC: higher is better. Average drop and increase in confidence (Chattopadhay et al. 2018): "
                "the picture masked by the map scaled to [0, 1], against the picture.");
    for (const auto& [svg, caption] : curves) h.figure_svg(svg, caption);
}

void visualization_section(convis::html_report& h, const fs::path& run) {
    h.heading("Feature visualisation (beyond the paper)");
    const auto dirs = entries(run / "visualize");
    if (dirs.empty()) h.paragraph("No feature visualisations here (" + (run / "visualize").string() + " is missing).");
    for (const auto& dir : dirs) {
        const json j = read_json(dir / "visualize.json");
        std::string own;
        if (j.contains("own_channel")) {
            const auto& oc = j.at("own_channel");
            own = " Each picture's own channel responds to it more than to every other channel's picture for " +
                  std::to_string(oc.at("wins").get<int>()) + " of " + std::to_string(oc.at("channels").get<int>()) +
                  " channels (" + fixed(100 * oc.at("fraction").get<double>(), 1) + "%).";
        }
        h.figure(convis::read_image((dir / "grid.png").string()),
                 "The picture that maximises each " + j.at("objective").get<std::string>() + " of " +
                     j.at("layer").get<std::string>() + " (left to right, top to bottom), found by " +
                     std::to_string(j.at("steps").get<int>()) + " Adam steps (lr " + fixed(j.at("lr").get<double>(), 3) +
                     ") on a " + j.at("param").get<std::string>() + "-parametrised picture" +
                     (j.at("transforms").get<bool>() ? " under random jitter, scale and rotation" : "") + "." + own);
    }
}

/// A link to the atlas: `atlas` (--atlas, which may be written after the report), or RUN/atlas
/// when it holds one; the link is relative to the report's folder.
void atlas_link(convis::html_report& h, const fs::path& run, const report_options& o) {
    const fs::path atlas = o.atlas.empty() ? run / "atlas" : fs::path(o.atlas);
    if (o.atlas.empty() && !fs::exists(atlas / "index.html")) return;
    const fs::path from = fs::absolute(fs::path(o.out)).parent_path();
    const std::string href = (fs::absolute(atlas).lexically_normal().lexically_relative(from.lexically_normal()) / "index.html")
                                 .generic_string();
    h.paragraph_with_link("The atlas of the whole network — a page per layer and per channel with its feature "
                          "visualisation, its top pictures with their projections, and its neighbouring units: ",
                          href, href);
}

void run_report(const report_options& o) {
    const fs::path run(o.run);
    if (!fs::is_directory(run)) throw convis::error("--run " + o.run + ": not a folder");
    convis::html_report h("convis report: " + o.run);
    h.paragraph("Zeiler & Fergus, \"Visualizing and Understanding Convolutional Networks\" (ECCV 2014), reproduced by "
                "convis for the model trained in " + o.run + ". Every figure below was made by the convis program; "
                "each caption says how.");
    // A file that is there but lacks what its command writes: name the section's folder.
    const auto section = [&](const char* folder, void (*add)(convis::html_report&, const fs::path&)) {
        try {
            add(h, run);
        } catch (const json::exception& e) {
            throw convis::error((run / folder).string() + ": not what convis wrote there: " + e.what());
        }
    };
    section("train", training_section);
    section("top9", top9_section);
    section("evolution", evolution_section);
    section("invariance", invariance_section);
    section("occlusion", occlusion_section);
    section("correspondence", correspondence_section);
    section("attribution", attribution_section);
    section("faithfulness", faithfulness_section);
    section("visualize", visualization_section);
    atlas_link(h, run, o);
    if (!o.out.empty() && fs::path(o.out).has_parent_path()) fs::create_directories(fs::path(o.out).parent_path());
    h.write(o.out);
    std::printf("wrote %s\n", o.out.c_str());
}

}  // namespace

command add_report(CLI::App& parent) {
    auto* app = parent.add_subcommand("report", "One self-contained HTML page with every figure of a run folder");
    auto o = std::make_shared<report_options>();
    app->add_option("--run", o->run, "Folder holding train/, top9/, evolution/, invariance/, occlusion/, correspondence/, attribution/, faithfulness/, visualize/, atlas/")
        ->required();
    app->add_option("--out", o->out, "The HTML file to write")->required();
    app->add_option("--atlas", o->atlas, "Link this atlas folder (convis atlas --out), even if written after the report "
                                         "(default: RUN/atlas when it holds one)");
    return {app, [o] { run_report(*o); }};
}

}  // namespace convis_cli
