#pragma once
// Signals to project: which activations of a layer's recorded output the deconvnet carries down.
//
// A selection reads one layer's output for a batch (an activation_map: the values and the
// layer's channels × height × width, a flat layer being channels × 1 × 1) and writes a signal of
// the same layout that keeps the chosen activations at their own values and is zero elsewhere.
// Deconvnet's select_* members call these with the trace's layer; convis::session's users call
// them with session::output(layer) and the layer table's shape.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/error.hpp"

namespace convis {

/// Where a selected activation sits.
struct activation_position {
    int image, channel, y, x;
    double value;
};

/// One layer's output for a batch, in host memory.
template <class T>
struct activation_map {
    const T* data;
    int batch, channels, height, width;
    std::string layer;  ///< the layer's name, for messages

    /// From a layer table row's output dims ([C,H,W], or [F] for a flat layer).
    static activation_map from(const T* data, int batch, const std::vector<std::int64_t>& dims, std::string layer) {
        const int c = dims.empty() ? 1 : int(dims[0]);
        const int h = dims.size() > 1 ? int(dims[1]) : 1, w = dims.size() > 2 ? int(dims[2]) : 1;
        return {data, batch, c, h, w, std::move(layer)};
    }
    std::size_t plane() const { return std::size_t(height) * width; }
    std::size_t sample_size() const { return std::size_t(channels) * plane(); }
    std::size_t size() const { return std::size_t(batch) * sample_size(); }
    std::size_t at(int n, int c, int y, int x) const { return std::size_t(n) * sample_size() + c * plane() + std::size_t(y) * width + x; }
};

/// Keeps one activation per image, (channel, y, x). `out` holds map.size() values, zeroed.
template <class T>
void select_activation(const activation_map<T>& a, int channel, int y, int x, T* out);
/// Keeps, per image, the strongest activation of `channel` (the first maximum in row-major
/// order); `where` receives their positions.
template <class T>
void select_strongest(const activation_map<T>& a, int channel, T* out, std::vector<activation_position>* where = nullptr);
/// Keeps each listed activation of image p.image (p.value is ignored: the map's value is used).
template <class T>
void select_positions(const activation_map<T>& a, const std::vector<activation_position>& positions, T* out);
/// Keeps the whole map of `channel`.
template <class T>
void select_channel(const activation_map<T>& a, int channel, T* out);

/// The same, returning the signal.
template <class T>
std::vector<T> select_activation(const activation_map<T>& a, int channel, int y, int x) {
    std::vector<T> s(a.size());
    select_activation(a, channel, y, x, s.data());
    return s;
}
template <class T>
std::vector<T> select_strongest(const activation_map<T>& a, int channel, std::vector<activation_position>* where = nullptr) {
    std::vector<T> s(a.size());
    select_strongest(a, channel, s.data(), where);
    return s;
}

// ---- details ------------------------------------------------------------------------------------

namespace selection_detail {

template <class T>
void check_channel(const activation_map<T>& a, int channel) {
    if (a.batch == 0) throw error("Deconvnet: run the model forward first (selections read its trace)");
    if (channel < 0 || channel >= a.channels)
        throw error("Deconvnet: channel " + std::to_string(channel) + " is outside layer " + std::string(a.layer) + "'s " +
                    std::to_string(a.channels) + " channels");
}

template <class T>
void check_position(const activation_map<T>& a, int y, int x) {
    if (y < 0 || y >= a.height || x < 0 || x >= a.width)
        throw error("Deconvnet: position (" + std::to_string(y) + ", " + std::to_string(x) + ") is outside layer " +
                    std::string(a.layer) + "'s " + std::to_string(a.height) + "×" + std::to_string(a.width) + " map");
}

}  // namespace selection_detail

template <class T>
void select_activation(const activation_map<T>& a, int channel, int y, int x, T* out) {
    selection_detail::check_channel(a, channel);
    selection_detail::check_position(a, y, x);
    for (int n = 0; n < a.batch; ++n) out[a.at(n, channel, y, x)] = a.data[a.at(n, channel, y, x)];
}

template <class T>
void select_strongest(const activation_map<T>& a, int channel, T* out, std::vector<activation_position>* where) {
    selection_detail::check_channel(a, channel);
    if (where) where->clear();
    for (int n = 0; n < a.batch; ++n) {
        const T* plane = a.data + a.at(n, channel, 0, 0);
        const int at = int(std::max_element(plane, plane + a.plane()) - plane);
        const int y = at / a.width, x = at % a.width;
        out[a.at(n, channel, y, x)] = plane[at];
        if (where) where->push_back({n, channel, y, x, double(plane[at])});
    }
}

template <class T>
void select_positions(const activation_map<T>& a, const std::vector<activation_position>& positions, T* out) {
    for (const auto& p : positions) {
        selection_detail::check_channel(a, p.channel);
        if (p.image < 0 || p.image >= a.batch)
            throw error("Deconvnet: image " + std::to_string(p.image) + " is outside the batch of " + std::to_string(a.batch));
        selection_detail::check_position(a, p.y, p.x);
        out[a.at(p.image, p.channel, p.y, p.x)] = a.data[a.at(p.image, p.channel, p.y, p.x)];
    }
}

template <class T>
void select_channel(const activation_map<T>& a, int channel, T* out) {
    selection_detail::check_channel(a, channel);
    for (int n = 0; n < a.batch; ++n) std::copy_n(a.data + a.at(n, channel, 0, 0), a.plane(), out + a.at(n, channel, 0, 0));
}

}  // namespace convis
