#pragma once
// What the analysis subcommands (project, occlusion, invariance, correspondence) read as input, in
// one place: pictures (PNG/JPEG, fitted to the network's input size and preprocessed by the
// weights file's preprocess.* tensors), a safetensors file whose `input` [N,C,H,W] is already
// preprocessed, or pictures of an IDX file chosen by --index; and the class names the training run
// stored in the weights (metadata `convis.classes`).
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <convis/convis.hpp>
#include <convis/data/pictures.hpp>
#include <convis/io/image.hpp>

#include "commands.hpp"

namespace convis_cli {

inline bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

inline bool is_picture(const std::string& path) {
    std::string lower = path;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return ends_with(lower, ".png") || ends_with(lower, ".jpg") || ends_with(lower, ".jpeg");
}

/// An all-black picture of the network's input size, to be filled.
template <class In>
convis::image blank_picture() {
    return {In::width, In::height, In::channels, std::vector<float>(std::size_t(In::size), 0.0f)};
}

/// A batch of network inputs and the pictures they show (0..255, for figures).
template <class In>
struct input_batch {
    convis::Tensor<In> x;
    std::vector<convis::image> pictures;
    std::vector<std::string> names;  ///< where each came from, for captions: file name, and "#i" for a picture of many
};

/// Reads every --input in order. `index` (a comma list) picks pictures of IDX inputs (default: the
/// first); pictures of a safetensors input are recovered by inverting the preprocessing.
template <class In>
input_batch<In> load_inputs(const std::vector<std::string>& inputs, const std::string& index,
                            const convis::weights_extras& extras, const std::string& weights) {
    const auto pre = convis::preprocess::from(extras, weights, In::channels, In::height, In::width);
    input_batch<In> b;
    std::vector<float> samples;
    const auto add = [&](const float* input, convis::image picture, std::string name) {
        samples.insert(samples.end(), input, input + In::size);
        b.pictures.push_back(std::move(picture));
        b.names.push_back(std::move(name));
    };
    std::vector<float> one(In::size);
    for (const std::string& path : inputs) {
        const std::string file = std::filesystem::path(path).filename().string();
        if (is_picture(path)) {
            auto picture = convis::fit_picture(convis::read_image(path), In::channels, In::height, In::width);
            pre.apply(picture.pixels.data(), one.data(), In::channels, In::height, In::width);
            add(one.data(), std::move(picture), file);
        } else if (ends_with(path, ".safetensors")) {
            const auto x = convis::read_batch<In>(convis::read_safetensors(path), "input");
            for (int n = 0; n < x.batch(); ++n) {
                auto picture = blank_picture<In>();
                pre.invert(x.sample(n), picture.pixels.data(), In::channels, In::height, In::width);
                add(x.sample(n), std::move(picture), file + " #" + std::to_string(n));
            }
        } else {
            const convis::image_set set = convis::read_idx_images(path);
            const std::vector<int> picks = index.empty() ? std::vector<int>{0}
                                                         : parse_int_list(index, "--index", 0, "picture numbers");
            const auto pictures = convis::picture_set::from(set, path);
            for (int i : picks) {
                if (i >= set.count)
                    throw convis::error("--index " + std::to_string(i) + ": " + path + " holds " +
                                        std::to_string(set.count) + " pictures");
                auto picture = convis::fit_picture(pictures.load(i), In::channels, In::height, In::width);
                pre.apply(picture.pixels.data(), one.data(), In::channels, In::height, In::width);
                add(one.data(), std::move(picture), file + " #" + std::to_string(i));
            }
        }
    }
    if (b.names.empty()) throw convis::error("--input: no input given");
    b.x.resize(int(b.names.size()));
    std::copy(samples.begin(), samples.end(), b.x.sample(0));
    return b;
}

/// The labels of --label (a comma list, one per input or one for all) or of --labels (an IDX label
/// file, read at the --index positions).
inline std::vector<int> load_labels(const std::string& label, const std::string& labels_file, const std::string& index,
                                    int count, int classes) {
    std::vector<int> out;
    if (!labels_file.empty()) {
        const convis::idx_array a = convis::read_idx(labels_file);
        if (a.dims.size() != 1)
            throw convis::error(labels_file + ": expected an IDX label file of one dimension, found " +
                                std::to_string(a.dims.size()));
        const std::vector<int> picks = index.empty() ? std::vector<int>{0} : parse_int_list(index, "--index", 0, "picture numbers");
        for (int i : picks) {
            if (i >= int(a.dims[0]))
                throw convis::error("--index " + std::to_string(i) + ": " + labels_file + " holds " +
                                    std::to_string(a.dims[0]) + " labels");
            out.push_back(int(a.data[std::size_t(i)]));
        }
    } else {
        out = parse_int_list(label, "--label", 0, "class numbers");
    }
    if (out.size() == 1 && count > 1) out.assign(std::size_t(count), out[0]);
    if (int(out.size()) != count)
        throw convis::error("--label: " + std::to_string(out.size()) + " labels for " + std::to_string(count) + " inputs");
    for (int l : out)
        if (l >= classes)
            throw convis::error("--label " + std::to_string(l) + " is outside the model's classes 0.." +
                                std::to_string(classes - 1));
    return out;
}

/// A comma list of names ("norm1,relu7"); convis::error naming `option` when an item is empty.
inline std::vector<std::string> split_names(const std::string& list, const std::string& option) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (true) {
        const std::size_t comma = list.find(',', at);
        out.push_back(list.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
        if (out.back().empty()) throw convis::error(option + " '" + list + "': expected names separated by commas");
        if (comma == std::string::npos) return out;
        at = comma + 1;
    }
}

/// The class names stored by `convis train` (metadata convis.classes, a JSON list); else "0", "1", …
inline std::vector<std::string> class_names(const convis::weights_extras& extras, int classes) {
    std::vector<std::string> names;
    if (auto it = extras.metadata.find("convis.classes"); it != extras.metadata.end()) {
        const auto j = nlohmann::json::parse(it->second, nullptr, false);
        if (j.is_array() && int(j.size()) == classes)
            for (const auto& n : j) names.push_back(n.is_string() ? n.get<std::string>() : n.dump());
    }
    if (names.empty())
        for (int c = 0; c < classes; ++c) names.push_back(std::to_string(c));
    return names;
}

}  // namespace convis_cli
