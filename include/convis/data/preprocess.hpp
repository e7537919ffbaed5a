#pragma once
// How pictures become network inputs, one convention for the whole library:
//
//     input = (pixel / 255 − mean) / std
//
// pixel in 0..255; `mean` on the [0, 1] pixel scale, either per channel [C] or per pixel [C,H,W]
// (the paper subtracts "the per-pixel mean" of the training set, §2); `std` per channel [C],
// optional (1 when absent; PyTorch-trained ImageNet models use it). A weights file carries them as
// `preprocess.mean` and `preprocess.std`, so a trained model brings its own preprocessing along.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../io/safetensors.hpp"
#include "../io/weights.hpp"

namespace convis {

struct preprocess {
    std::vector<float> mean;  ///< empty, [C] or [C*H*W], on the [0, 1] scale
    std::vector<float> std;   ///< empty or [C]

    /// The preprocessing of a network of input C×H×W that `extras` (from load_weights) describes;
    /// none when it holds no `preprocess.*` tensor. `file` names the weights in messages.
    static preprocess from(const weights_extras& extras, const std::string& file, int channels, int height, int width);

    /// Applies it to one C×H×W picture of 0..255 values (planar), writing the network input.
    void apply(const float* pixels, float* input, int channels, int height, int width) const;

    /// The inverse for display: network input back to 0..255 (unclamped).
    void invert(const float* input, float* pixels, int channels, int height, int width) const;
};

// ---- details ------------------------------------------------------------------------------------

inline preprocess preprocess::from(const weights_extras& extras, const std::string& file, int channels, int height,
                                   int width) {
    // F32 or F64 in the file (a mean computed in double is as good).
    const auto floats = [](const stored_tensor& t, const std::string& f, const std::string& name) {
        if (t.type != dtype::f64) return t.to_vector<float>(f, name);
        const auto d = t.to_vector<double>(f, name);
        return std::vector<float>(d.begin(), d.end());
    };
    preprocess p;
    if (auto it = extras.tensors.find("preprocess.mean"); it != extras.tensors.end()) {
        const auto& t = it->second;
        const bool per_channel = t.shape == std::vector<std::int64_t>{channels};
        const bool per_pixel = t.shape == std::vector<std::int64_t>{channels, height, width};
        if (!per_channel && !per_pixel)
            throw error(file + ": tensor 'preprocess.mean' has shape " + shape_string(t.shape) + "; expected [" +
                        std::to_string(channels) + "] or " + shape_string({channels, height, width}) +
                        " for this network's input");
        p.mean = floats(t, file, "preprocess.mean");
    }
    if (auto it = extras.tensors.find("preprocess.std"); it != extras.tensors.end()) {
        const auto& t = it->second;
        if (t.shape != std::vector<std::int64_t>{channels})
            throw error(file + ": tensor 'preprocess.std' has shape " + shape_string(t.shape) + "; expected [" +
                        std::to_string(channels) + "]");
        p.std = floats(t, file, "preprocess.std");
        for (std::size_t c = 0; c < p.std.size(); ++c)
            if (!(p.std[c] > 0.f))
                throw error(file + ": tensor 'preprocess.std' holds " + std::to_string(p.std[c]) + " at channel " +
                            std::to_string(c) + "; expected a positive value");
    }
    return p;
}

inline void preprocess::apply(const float* pixels, float* input, int channels, int height, int width) const {
    const std::size_t plane = std::size_t(height) * width;
    const bool per_pixel = mean.size() == plane * channels;
    for (int c = 0; c < channels; ++c) {
        const float inv = std.empty() ? 1.f : 1.f / std[std::size_t(c)];
        const float* m = mean.empty() ? nullptr : mean.data() + (per_pixel ? c * plane : std::size_t(c));
        for (std::size_t i = 0; i < plane; ++i) {
            const float mi = m ? (per_pixel ? m[i] : *m) : 0.f;
            input[c * plane + i] = (pixels[c * plane + i] * (1.f / 255.f) - mi) * inv;
        }
    }
}

inline void preprocess::invert(const float* input, float* pixels, int channels, int height, int width) const {
    const std::size_t plane = std::size_t(height) * width;
    const bool per_pixel = mean.size() == plane * channels;
    for (int c = 0; c < channels; ++c) {
        const float s = std.empty() ? 1.f : std[std::size_t(c)];
        const float* m = mean.empty() ? nullptr : mean.data() + (per_pixel ? c * plane : std::size_t(c));
        for (std::size_t i = 0; i < plane; ++i) {
            const float mi = m ? (per_pixel ? m[i] : *m) : 0.f;
            pixels[c * plane + i] = (input[c * plane + i] * s + mi) * 255.f;
        }
    }
}

}  // namespace convis
