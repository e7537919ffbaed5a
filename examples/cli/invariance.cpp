// convis invariance --model M [--classes N] --weights W --input X... [--index I] (--label Y | --labels F)
//                   --transform translate|scale|rotate [--values v1,v2,...] [--layers a,b] [--fill F]
//                   --out O.safetensors|DIR
//
// Fig. 5: each picture translated vertically, scaled or rotated by each value; per value, the
// Euclidean distance of the chosen layers' outputs from the untransformed picture's (default: the
// first conv block and the penultimate fully connected layer, the paper's layers 1 and 7) and the
// probability of the true class. A .safetensors output holds `distance.<layer>` and `probability`
// (float32, [images, values]), `predicted` (int64, [images, values]) and `values` (float64 [values]).
// A folder gets invariance.safetensors, invariance.csv, one SVG plot per measure (the pictures'
// curves together, as Fig. 5's columns 2-4), transformed.png (the first picture at every value)
// and invariance.json.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <convis/analysis/invariance.hpp>
#include <convis/io/grid.hpp>
#include <convis/io/text_file.hpp>
#include <convis/io/plot.hpp>

#include "inputs.hpp"

namespace convis_cli {
namespace {

struct invariance_cli_options {
    model_choice model;
    std::vector<std::string> input;
    std::string weights, index, label, labels, transform = "translate", values, layers, out;
    float fill = 0;
    int batch = 32;
};

std::vector<double> parse_values(const std::string& list) {
    std::vector<double> out;
    std::stringstream ss(list);
    std::string item;
    while (std::getline(ss, item, ',')) {
        std::size_t used = 0;
        double v = 0;
        try {
            v = std::stod(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != item.size() || !std::isfinite(v))
            throw convis::error("--values '" + list + "': '" + item + "' is not a number; expected numbers separated by commas");
        out.push_back(v);
    }
    if (out.empty()) throw convis::error("--values: no value given");
    return out;
}

void run_invariance(const invariance_cli_options& o) {
    namespace fs = std::filesystem;
    const auto model = open_session(o.model);
    const convis::input_dims dims = model->input();
    const auto extras = model->load_weights(o.weights);
    const auto in = load_inputs(dims, o.input, o.index, extras, o.weights);
    const int classes = model->classes();
    const std::vector<int> labels = load_labels(o.label, o.labels, o.index, in.batch, classes);
    const auto names = class_names(extras, classes);

    convis::invariance_options opt;
    opt.kind = convis::parse_transform(o.transform);
    if (!o.values.empty()) opt.values = parse_values(o.values);
    if (!o.layers.empty())
        for (const auto& name : split_names(o.layers, "--layers")) opt.layers.push_back(model->find(name));
    opt.fill = o.fill;
    opt.batch = o.batch;
    const convis::invariance_result r = model->invariance(in.x.data(), in.batch, labels, opt);
    const int n = in.batch, v = int(r.values.size());

    const auto flat = [&](const auto& rows) {
        std::vector<float> out;
        for (const auto& row : rows)
            for (double d : row) out.push_back(float(d));
        return out;
    };
    const std::vector<std::int64_t> shape = {n, v};
    convis::safetensors_file f;
    for (std::size_t l = 0; l < r.layers.size(); ++l)
        f.tensors.emplace("distance." + model->name(r.layers[l]), convis::make_tensor<float>(flat(r.distance[l]), shape));
    f.tensors.emplace("probability", convis::make_tensor<float>(flat(r.probability), shape));
    std::vector<std::int64_t> predicted;
    for (const auto& row : r.predicted) predicted.insert(predicted.end(), row.begin(), row.end());
    f.tensors.emplace("predicted", convis::make_tensor<std::int64_t>(predicted, shape));
    f.tensors.emplace("values", convis::make_tensor<double>(r.values, {v}));
    nlohmann::json meta = {{"model", model->type_name()}, {"weights", o.weights},
                           {"inputs", in.names}, {"labels", labels}, {"transform", o.transform}, {"values", r.values},
                           {"fill", o.fill}};
    for (int l : r.layers) meta["layers"].push_back(model->name(l));
    for (int label : labels) meta["label_names"].push_back(names[std::size_t(label)]);
    f.metadata["convis.invariance"] = meta.dump();

    if (ends_with(o.out, ".safetensors")) {
        if (const fs::path parent = fs::path(o.out).parent_path(); !parent.empty()) fs::create_directories(parent);
        convis::write_safetensors(o.out, f);
    } else {
        fs::create_directories(o.out);
        const fs::path dir(o.out);
        convis::write_safetensors((dir / "invariance.safetensors").string(), f);
        const char* unit = opt.kind == convis::transform_kind::translate ? "vertical translation (pixels)"
                           : opt.kind == convis::transform_kind::scale   ? "scale ratio"
                                                                         : "rotation (degrees)";
        const auto plot = [&](const std::string& title, const std::string& y_label,
                              const std::vector<std::vector<double>>& rows, const std::string& file) {
            convis::line_plot p;
            p.title = title;
            p.x_label = unit;
            p.y_label = y_label;
            for (int i = 0; i < n; ++i)
                p.series.push_back({in.names[std::size_t(i)] + " (" + names[std::size_t(labels[std::size_t(i)])] + ")",
                                    r.values, rows[std::size_t(i)]});
            if (y_label == "p(true class)") p.y_min = 0, p.y_max = 1;
            convis::write_text_atomic((dir / file).string(), convis::to_svg(p));
        };
        std::string csv = "image,value,probability,predicted";
        for (int l : r.layers) csv += ",distance." + model->name(l);
        csv += "\n";
        for (int i = 0; i < n; ++i)
            for (int j = 0; j < v; ++j) {
                std::ostringstream row;
                row.precision(9);
                row << i << ',' << r.values[std::size_t(j)] << ',' << r.probability[std::size_t(i)][std::size_t(j)] << ','
                    << r.predicted[std::size_t(i)][std::size_t(j)];
                for (std::size_t l = 0; l < r.layers.size(); ++l) row << ',' << r.distance[l][std::size_t(i)][std::size_t(j)];
                csv += row.str() + "\n";
            }
        convis::write_text_atomic((dir / "invariance.csv").string(), csv);
        for (std::size_t l = 0; l < r.layers.size(); ++l)
            plot("distance at " + model->name(r.layers[l]), "Euclidean distance", r.distance[l],
                 "distance_" + model->name(r.layers[l]) + ".svg");
        plot("probability of the true class", "p(true class)", r.probability, "probability.svg");

        // The first picture at every value, as the network saw it.
        const auto pre = convis::preprocess::from(extras, o.weights, dims.channels, dims.height, dims.width);
        std::vector<float> moved(dims.size());
        std::vector<convis::image> strip;
        for (double value : r.values) {
            convis::transform_image(in.sample(0), moved.data(), dims.channels, dims.height, dims.width, opt.kind, value,
                                    o.fill);
            auto pic = convis::blank_picture(dims);
            pre.invert(moved.data(), pic.pixels.data(), dims.channels, dims.height, dims.width);
            strip.push_back(convis::enlarge(pic, std::max(1, 96 / dims.height)));
        }
        convis::write_png((dir / "transformed.png").string(), convis::tile_grid(strip, 1, v, 2));
        convis::write_text_atomic((dir / "invariance.json").string(), meta.dump(1) + "\n");
    }
    std::printf("%s %d picture%s over %d values", o.transform.c_str(), n, n == 1 ? "" : "s", v);
    for (int i = 0; i < n; ++i)
        std::printf("%s p(%s) %.3f .. %.3f", i ? ";" : ":", names[std::size_t(labels[std::size_t(i)])].c_str(),
                    *std::min_element(r.probability[std::size_t(i)].begin(), r.probability[std::size_t(i)].end()),
                    *std::max_element(r.probability[std::size_t(i)].begin(), r.probability[std::size_t(i)].end()));
    std::printf("\nwrote %s\n", o.out.c_str());
}

}  // namespace

command add_invariance(CLI::App& parent) {
    auto* app = parent.add_subcommand("invariance", "Invariance (Fig. 5): feature distances and the true class's "
                                                    "probability as pictures are translated, scaled or rotated");
    auto o = std::make_shared<invariance_cli_options>();
    add_model_options(app, o->model);
    add_device_option(app, o->model);
    app->add_option("--weights", o->weights, "Weights (safetensors)")->required();
    add_input_options(app, o->input, o->index, &o->label, &o->labels);
    app->add_option("--transform", o->transform, "translate (vertical, content moves down), scale (about the centre) "
                                                 "or rotate (about the centre, degrees)")
        ->check(CLI::IsMember({"translate", "scale", "rotate"}))
        ->capture_default_str();
    app->add_option("--values", o->values, "Comma list of shifts, scale ratios or angles (default: the paper's range "
                                           "scaled to the input: -60..60 px at 224, 1..1.8, 0..350 degrees)");
    app->add_option("--layers", o->layers, "Comma list of layer names (default: the first conv block and the "
                                           "penultimate fully connected layer, e.g. norm1,relu7)");
    app->add_option("--fill", o->fill, "Value of vacated pixels in input space (0: the mean picture)")->capture_default_str();
    app->add_option("--batch", o->batch, "Transformed copies per forward pass")->check(CLI::PositiveNumber)->capture_default_str();
    app->add_option("--out", o->out, "Output: a .safetensors file, or a folder for the plots, CSV and pictures")->required();
    return {app, [o] { run_invariance(*o); }};
}

}  // namespace convis_cli
