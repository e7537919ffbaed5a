#pragma once
// What a feature visualisation maximises at a layer's output a (C × H × W, or F for a flat layer,
// read as F × 1 × 1):
//
//   channel c          mean over positions of a[c]                      (lucid's "channel")
//   unit (c, y, x)     a[c, y, x]; y, x = −1: the map's centre ⌊(H−1)/2⌋   (lucid's "neuron")
//   direction v        mean over positions of Σ_c v_c a[c]              (lucid's "direction")
//
// A class logit is the channel objective of its class at the classifier's last layer before any
// Softmax (fc8 of ZFNet). Every objective is linear in the layer's output, so its gradient there
// (objective_signal) is a constant the deconvnet's gradient mode carries to the input.
#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "../../core/error.hpp"
#include "../../net/sequential.hpp"

namespace convis {

enum class objective_kind { channel, unit, direction };

struct objective {
    objective_kind kind = objective_kind::channel;
    int channel = 0;                ///< channel and unit
    int y = -1, x = -1;             ///< unit: its position; −1: the centre
    std::vector<double> direction;  ///< direction: one weight per channel

    static objective of_channel(int c) { return {objective_kind::channel, c, -1, -1, {}}; }
    static objective of_unit(int c, int y = -1, int x = -1) { return {objective_kind::unit, c, y, x, {}}; }
    static objective along(std::vector<double> v) { return {objective_kind::direction, 0, -1, -1, std::move(v)}; }

    /// "channel 5", "unit 5 at (3, 3)", "direction of 64 weights".
    std::string describe() const;
};

/// One objective per channel of a layer with `channels` channels, or of those listed.
std::vector<objective> channel_objectives(const std::vector<int>& channels);
std::vector<objective> every_channel(int channels);

/// A convis::error naming the layer when `o` does not fit its output (channel, position, length).
void check_objective(const objective& o, const layer_row& layer);

/// Writes d objective / d a for one sample (sample_size values, all written).
template <class T>
void objective_signal(const objective& o, const layer_row& layer, T* out);

/// The objective's value on one sample's output a.
template <class T>
double objective_value(const objective& o, const layer_row& layer, const T* a);

// ---- details ------------------------------------------------------------------------------------

namespace objective_detail {
struct map_dims {
    int c, h, w;
};
inline map_dims dims(const layer_row& r) {
    if (r.output.size() == 3) return {int(r.output[0]), int(r.output[1]), int(r.output[2])};
    if (r.output.size() == 1) return {int(r.output[0]), 1, 1};
    throw error("feature visualisation: layer " + r.name + " has an output of " + std::to_string(r.output.size()) +
                " dimensions; expected C×H×W or F");
}
inline int centre(int y, int extent) { return y >= 0 ? y : (extent - 1) / 2; }
}  // namespace objective_detail

inline std::string objective::describe() const {
    switch (kind) {
        case objective_kind::channel: return "channel " + std::to_string(channel);
        case objective_kind::unit: {
            const auto at = [](int v) { return v < 0 ? std::string("centre") : std::to_string(v); };
            return "unit " + std::to_string(channel) + " at (" + (y < 0 && x < 0 ? "centre" : at(y) + ", " + at(x)) + ")";
        }
        case objective_kind::direction: return "direction of " + std::to_string(direction.size()) + " weights";
    }
    return "?";
}

inline std::vector<objective> channel_objectives(const std::vector<int>& channels) {
    std::vector<objective> r;
    for (const int c : channels) r.push_back(objective::of_channel(c));
    return r;
}

inline std::vector<objective> every_channel(int channels) {
    std::vector<objective> r;
    for (int c = 0; c < channels; ++c) r.push_back(objective::of_channel(c));
    return r;
}

inline void check_objective(const objective& o, const layer_row& layer) {
    const auto d = objective_detail::dims(layer);
    const std::string at = "feature visualisation: layer " + layer.name + " (" + std::to_string(d.c) + " channels, " +
                           std::to_string(d.h) + "×" + std::to_string(d.w) + ")";
    if (o.kind == objective_kind::direction) {
        if (o.direction.size() != std::size_t(d.c))
            throw error(at + ": a direction of " + std::to_string(o.direction.size()) + " weights; expected " +
                        std::to_string(d.c));
        return;
    }
    if (o.channel < 0 || o.channel >= d.c)
        throw error(at + ": channel " + std::to_string(o.channel) + " is outside 0.." + std::to_string(d.c - 1));
    if (o.kind == objective_kind::unit) {
        const int y = objective_detail::centre(o.y, d.h), x = objective_detail::centre(o.x, d.w);
        if (y >= d.h || x >= d.w || o.y < -1 || o.x < -1)
            throw error(at + ": unit position (" + std::to_string(o.y) + ", " + std::to_string(o.x) +
                        ") is outside the map");
    }
}

template <class T>
void objective_signal(const objective& o, const layer_row& layer, T* out) {
    const auto d = objective_detail::dims(layer);
    const std::size_t plane = std::size_t(d.h) * d.w;
    std::fill(out, out + plane * std::size_t(d.c), T(0));
    switch (o.kind) {
        case objective_kind::channel:
            std::fill(out + std::size_t(o.channel) * plane, out + std::size_t(o.channel + 1) * plane, T(1.0 / double(plane)));
            break;
        case objective_kind::unit:
            out[std::size_t(o.channel) * plane + std::size_t(objective_detail::centre(o.y, d.h)) * d.w +
                std::size_t(objective_detail::centre(o.x, d.w))] = T(1);
            break;
        case objective_kind::direction:
            for (int c = 0; c < d.c; ++c)
                std::fill(out + std::size_t(c) * plane, out + std::size_t(c + 1) * plane,
                          T(o.direction[std::size_t(c)] / double(plane)));
            break;
    }
}

template <class T>
double objective_value(const objective& o, const layer_row& layer, const T* a) {
    const auto d = objective_detail::dims(layer);
    const std::size_t plane = std::size_t(d.h) * d.w;
    const auto mean = [&](int c) {
        double s = 0;
        for (std::size_t i = 0; i < plane; ++i) s += double(a[std::size_t(c) * plane + i]);
        return s / double(plane);
    };
    switch (o.kind) {
        case objective_kind::channel: return mean(o.channel);
        case objective_kind::unit:
            return double(a[std::size_t(o.channel) * plane + std::size_t(objective_detail::centre(o.y, d.h)) * d.w +
                            std::size_t(objective_detail::centre(o.x, d.w))]);
        case objective_kind::direction: {
            double s = 0;
            for (int c = 0; c < d.c; ++c) s += o.direction[std::size_t(c)] * mean(c);
            return s;
        }
    }
    return 0;
}

}  // namespace convis
