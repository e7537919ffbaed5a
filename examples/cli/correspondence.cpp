// convis correspondence --model M [--classes N] --weights W --input X... [--index I] --boxes "y,x,h,w;..."
//                       [--fill F] [--layers a,b] [--random R --seed S] [--label-part NAME] --out R.json
//
// Table 1: the same part masked in N pictures (one box per picture); per layer, the mean and
// (population) standard deviation over picture pairs of the fraction of feature dimensions whose
// change ε = x − x̃ differs in sign, and the same for R seeded random boxes of equal size, the
// baseline. Writes {"layers": {"<layer>": {"mean", "std", "random": {"mean", "std"}, "pairs"}}, ...};
// beside R.json, R.png shows the pictures with their masks.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <convis/analysis/correspondence.hpp>
#include <convis/backend/cpu/ops.hpp>  // fill_box on the host: ops<cpu>
#include <convis/io/grid.hpp>
#include <convis/io/text_file.hpp>

#include "inputs.hpp"

namespace convis_cli {
namespace {

struct correspondence_cli_options {
    model_choice model;
    std::vector<std::string> input;
    std::string weights, index, boxes, layers, out, part = "part";
    float fill = 0;
    int random = 10;
    std::uint64_t seed = 1;
};

void run_correspondence(const correspondence_cli_options& o) {
    namespace fs = std::filesystem;
    if (!ends_with(o.out, ".json")) throw convis::error("--out " + o.out + ": expected a .json file name");
    const auto model = open_session(o.model);
    const convis::input_dims dims = model->input();
    const auto extras = model->load_weights(o.weights);
    const auto in = load_inputs(dims, o.input, o.index, extras, o.weights);
    const std::vector<convis::box> boxes = convis::parse_boxes(o.boxes);
    if (boxes.size() != std::size_t(in.batch))
        throw convis::error("--boxes: " + std::to_string(boxes.size()) + " boxes for " + std::to_string(in.batch) +
                            " pictures; give one y,x,h,w per picture, separated by ';'");

    convis::correspondence_options opt;
    if (!o.layers.empty())
        for (const auto& name : split_names(o.layers, "--layers")) opt.layers.push_back(model->find(name));
    opt.fill = o.fill;
    opt.random = o.random;
    opt.seed = o.seed;
    const convis::correspondence_result r = model->correspondence(in.x.data(), in.batch, boxes, opt);

    nlohmann::json j;
    j["model"] = model->type_name();
    j["weights"] = o.weights;
    j["inputs"] = in.names;
    j["part"] = o.part;
    for (const auto& b : boxes) j["boxes"].push_back({b.y, b.x, b.height, b.width});
    j["fill"] = o.fill;
    j["random_draws"] = o.random;
    j["seed"] = o.seed;
    j["layers"] = nlohmann::json::object();
    for (const auto& l : r.layers)
        j["layers"][l.name] = {{"mean", l.part.mean}, {"std", l.part.std}, {"pairs", l.part.pairs.size()},
                               {"random", {{"mean", l.random.mean}, {"std", l.random.std}, {"pairs", l.random.pairs.size()}}}};
    if (const fs::path parent = fs::path(o.out).parent_path(); !parent.empty()) fs::create_directories(parent);
    convis::write_text_atomic(o.out, j.dump(1) + "\n");

    // The pictures with their masks, as the network saw them (Fig. 8's columns).
    const auto pre = convis::preprocess::from(extras, o.weights, dims.channels, dims.height, dims.width);
    std::vector<convis::image> shown;
    std::vector<float> masked(dims.size());
    for (int i = 0; i < in.batch; ++i) {
        std::copy_n(in.sample(i), dims.size(), masked.data());
        convis::fill_box(masked.data(), dims.channels, dims.height, dims.width, boxes[std::size_t(i)], o.fill);
        auto pic = convis::blank_picture(dims);
        pre.invert(masked.data(), pic.pixels.data(), dims.channels, dims.height, dims.width);
        shown.push_back(convis::enlarge(pic, std::max(1, 96 / dims.height)));
    }
    const std::string figure = o.out.substr(0, o.out.size() - 5) + ".png";
    convis::write_png(figure, convis::tile_grid(shown, 1, int(shown.size()), 2));

    std::printf("%s masked in %d pictures (%s random draws, seed %llu)\n", o.part.c_str(), in.batch,
                std::to_string(o.random).c_str(), static_cast<unsigned long long>(o.seed));
    for (const auto& l : r.layers)
        std::printf("%-8s %.4f +- %.4f   random %.4f +- %.4f\n", l.name.c_str(), l.part.mean, l.part.std, l.random.mean,
                    l.random.std);
    std::printf("wrote %s and %s\n", o.out.c_str(), figure.c_str());
}

}  // namespace

command add_correspondence(CLI::App& parent) {
    auto* app = parent.add_subcommand("correspondence", "Correspondence (Table 1): how consistently masking the same part "
                                                        "of several pictures changes the features, against random masks");
    auto o = std::make_shared<correspondence_cli_options>();
    add_model_options(app, o->model);
    add_device_option(app, o->model);
    app->add_option("--weights", o->weights, "Weights (safetensors)")->required();
    add_input_options(app, o->input, o->index, nullptr, nullptr);
    app->add_option("--boxes", o->boxes, "One box per picture, y,x,h,w, separated by ';' (the same part in each)")->required();
    app->add_option("--fill", o->fill, "Value of the mask in input space (0: the mean picture)")->capture_default_str();
    app->add_option("--layers", o->layers, "Comma list of layer names (default: the last pool and the penultimate "
                                           "fully connected layer, e.g. pool5,relu7)");
    app->add_option("--random", o->random, "Random box draws for the baseline")->check(CLI::PositiveNumber)->capture_default_str();
    add_seed_option(app, o->seed);
    app->add_option("--part", o->part, "Name of the masked part, for the table")->capture_default_str();
    app->add_option("--out", o->out, "Output: a .json file (a .png of the masked pictures is written beside it)")->required();
    return {app, [o] { run_correspondence(*o); }};
}

}  // namespace convis_cli
