#pragma once
// load_inputs: a network's inputs from the files a user names — pictures (PNG/JPEG, fitted to the
// input size and preprocessed), a safetensors file whose `input` [N,C,H,W] is already
// preprocessed, or chosen pictures of an IDX file — together with the pictures they show (0..255,
// for figures) and a caption for each. Also the labels of an IDX label file and the class names a
// training run stored in its weights. Opt-in like io/image.hpp, which it includes.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"
#include "../core/shape.hpp"
#include "../io/idx.hpp"
#include "../io/image.hpp"
#include "../io/tensors.hpp"
#include "image_folder.hpp"
#include "pictures.hpp"
#include "preprocess.hpp"

namespace convis {

/// Inputs for a network, and the pictures they show.
struct input_batch {
    input_dims dims;
    int batch = 0;
    std::vector<float> x;            ///< batch × dims.size() preprocessed values
    std::vector<image> pictures;     ///< what each input shows, 0..255
    std::vector<std::string> names;  ///< where each came from: the file name, "#i" for one of many
    const float* sample(int n) const { return x.data() + std::size_t(n) * dims.size(); }
};

/// Reads every file of `paths` in order. `picks` chooses the pictures of IDX files (empty: the
/// first of each); pictures of a safetensors input are recovered by inverting `pre`.
input_batch load_inputs(input_dims dims, const std::vector<std::string>& paths, const std::vector<int>& picks,
                        const preprocess& pre);

/// The labels at `picks` (empty: the first) of an IDX label file.
std::vector<int> read_labels(const std::string& file, const std::vector<int>& picks);

/// The class names a training run stored (metadata convis.classes, a JSON list); else "0", "1", …
std::vector<std::string> class_names(const weights_extras& extras, int classes);

/// An all-black picture of `dims`.
inline image blank_picture(input_dims dims) {
    return {dims.width, dims.height, dims.channels, std::vector<float>(dims.size(), 0.0f)};
}

// ---- details ------------------------------------------------------------------------------------

inline input_batch load_inputs(input_dims dims, const std::vector<std::string>& paths, const std::vector<int>& picks,
                               const preprocess& pre) {
    input_batch b;
    b.dims = dims;
    const auto add = [&](const float* input, image picture, std::string name) {
        b.x.insert(b.x.end(), input, input + dims.size());
        b.pictures.push_back(std::move(picture));
        b.names.push_back(std::move(name));
    };
    std::vector<float> one(dims.size());
    for (const std::string& path : paths) {
        const std::string file = std::filesystem::path(path).filename().string();
        if (is_picture_file(path)) {
            auto picture = fit_picture(read_image(path), dims.channels, dims.height, dims.width);
            pre.apply(picture.pixels.data(), one.data(), dims.channels, dims.height, dims.width);
            add(one.data(), std::move(picture), file);
        } else if (std::filesystem::path(path).extension() == ".safetensors") {
            const std::vector<float> x = read_samples(read_safetensors(path), "input", {dims.channels, dims.height, dims.width});
            for (std::size_t n = 0; n < x.size() / dims.size(); ++n) {
                auto picture = blank_picture(dims);
                pre.invert(x.data() + n * dims.size(), picture.pixels.data(), dims.channels, dims.height, dims.width);
                add(x.data() + n * dims.size(), std::move(picture), file + " #" + std::to_string(n));
            }
        } else {
            const image_set set = read_idx_images(path);
            const auto pictures = picture_set::from(set, path);
            for (int i : picks.empty() ? std::vector<int>{0} : picks) {
                if (i < 0 || i >= set.count)
                    throw error("--index " + std::to_string(i) + ": " + path + " holds " + std::to_string(set.count) +
                                " pictures");
                auto picture = fit_picture(pictures.load(i), dims.channels, dims.height, dims.width);
                pre.apply(picture.pixels.data(), one.data(), dims.channels, dims.height, dims.width);
                add(one.data(), std::move(picture), file + " #" + std::to_string(i));
            }
        }
    }
    if (b.names.empty()) throw error("--input: no input given");
    b.batch = int(b.names.size());
    return b;
}

inline std::vector<int> read_labels(const std::string& file, const std::vector<int>& picks) {
    const idx_array a = read_idx(file);
    if (a.dims.size() != 1)
        throw error(file + ": expected an IDX label file of one dimension, found " + std::to_string(a.dims.size()));
    std::vector<int> out;
    for (int i : picks.empty() ? std::vector<int>{0} : picks) {
        if (i < 0 || i >= int(a.dims[0]))
            throw error("--index " + std::to_string(i) + ": " + file + " holds " + std::to_string(a.dims[0]) + " labels");
        out.push_back(int(a.data[std::size_t(i)]));
    }
    return out;
}

inline std::vector<std::string> class_names(const weights_extras& extras, int classes) {
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

}  // namespace convis
