#pragma once
// Feature invariance (the paper's Fig. 5): a few images are translated vertically, scaled or
// rotated by a range of amounts; for each amount, how far the features of chosen layers move from
// the untransformed image's (Euclidean distance of the flattened layer output), the probability of
// the true class, and the predicted class.
//
// Defaults follow the paper: its ranges (transforms.hpp), "layer 1" and "layer 7"
// (layer_choice.hpp: first_conv_block_layer and penultimate_fc_layer), fill 0 (the mean, once the
// mean is subtracted). The untransformed images and their transformed copies run through the
// model together, `batch` samples per forward; each image's reference features are kept only until
// its last copy has been measured, so memory does not grow with the number of images.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "layer_choice.hpp"
#include "transforms.hpp"

namespace convis {

struct invariance_options {
    transform_kind kind = transform_kind::translate;
    std::vector<double> values;  ///< transform amounts; empty: default_transform_values(kind, input height)
    std::vector<int> layers;     ///< layer indices; empty: first_conv_block_layer and penultimate_fc_layer
    float fill = 0;              ///< value of pixels moved in from outside the image (preprocessed space)
    int batch = 32;              ///< samples per forward
};

struct invariance_result {
    std::vector<int> layers;
    std::vector<double> values;
    /// [layer][image][value]: ‖f(x) − f(T_value(x))‖₂ over the flattened layer output, in double
    std::vector<std::vector<std::vector<double>>> distance;
    std::vector<std::vector<double>> probability;  ///< [image][value]: softmax probability of the true label
    std::vector<std::vector<int>> predicted;       ///< [image][value]: the most probable class
};

/// Runs the study on `n` preprocessed samples (`inputs`: n × C × H × W, contiguous) with their true
/// labels. Puts the model in eval mode (dropout off), as the paper measures a trained network.
template <class M>
invariance_result invariance(M& model, const typename M::value_type* inputs, int n, const std::vector<int>& labels,
                             const invariance_options& options = {});

// ---- details ------------------------------------------------------------------------------------

template <class M>
invariance_result invariance(M& model, const typename M::value_type* inputs, int n, const std::vector<int>& labels,
                             const invariance_options& o) {
    using Net = typename M::net_type;
    using In = typename Net::input_shape;
    using T = typename M::value_type;
    const int classes = model.classes();
    if (n < 1) throw error("invariance: expected at least one image, got " + std::to_string(n));
    if (labels.size() != std::size_t(n))
        throw error("invariance: expected one label per image (" + std::to_string(n) + "), got " +
                    std::to_string(labels.size()));
    for (std::size_t i = 0; i < labels.size(); ++i)
        if (labels[i] < 0 || labels[i] >= classes)
            throw error("invariance: label " + std::to_string(labels[i]) + " of image " + std::to_string(i) +
                        " is outside the network's classes 0.." + std::to_string(classes - 1));
    if (o.batch < 1) throw error("invariance: batch must be at least 1, got " + std::to_string(o.batch));

    const std::vector<layer_row> table = model.layer_table();
    invariance_result r;
    r.values = o.values.empty() ? default_transform_values(o.kind, In::height) : o.values;
    for (double v : r.values)
        if (!std::isfinite(v) || (o.kind == transform_kind::scale && !(v > 0)))
            throw error("invariance: " + std::string(transform_name(o.kind)) + " value " + std::to_string(v) +
                        (o.kind == transform_kind::scale ? " is not a positive factor" : " is not finite"));
    r.layers = o.layers;
    if (r.layers.empty()) r.layers = {first_conv_block_layer(table), penultimate_fc_layer(table)};
    std::vector<std::size_t> sizes;
    for (int layer : r.layers) {
        if (layer < 0 || layer >= Net::size)
            throw error("invariance: layer " + std::to_string(layer) + " is outside 0.." + std::to_string(Net::size - 1));
        std::size_t s = 1;
        for (std::int64_t d : table[std::size_t(layer)].output) s *= std::size_t(d);
        sizes.push_back(s);
    }

    const std::size_t L = r.layers.size(), V = r.values.size();
    r.distance.assign(L, std::vector<std::vector<double>>(std::size_t(n), std::vector<double>(V, 0.0)));
    r.probability.assign(std::size_t(n), std::vector<double>(V, 0.0));
    r.predicted.assign(std::size_t(n), std::vector<int>(V, 0));
    if (V == 0) return r;

    model.eval();
    const bool softmaxed = ends_in_softmax(table);
    // Jobs run image by image: the untransformed image (its reference), then each value.
    const std::size_t per = V + 1, total = std::size_t(n) * per;
    std::vector<std::vector<T>> reference(std::size_t(n) * L);  // [image][layer], freed when done
    std::vector<T> probs;
    Tensor<In, T> x;
    for (std::size_t first = 0; first < total; first += std::size_t(o.batch)) {
        const int count = int(std::min<std::size_t>(std::size_t(o.batch), total - first));
        x.resize(count);
        for (int k = 0; k < count; ++k) {
            const std::size_t job = first + std::size_t(k), i = job / per, v = job % per;
            const T* src = inputs + i * In::size;
            if (v == 0) std::copy_n(src, In::size, x.sample(k));
            else transform_image(src, x.sample(k), In::channels, In::height, In::width, o.kind, r.values[v - 1], T(o.fill));
        }
        model.forward(x);
        probs.resize(std::size_t(count) * classes);
        class_probabilities(model.output_data(Net::size - 1), count, classes, softmaxed, probs.data());
        for (int k = 0; k < count; ++k) {
            const std::size_t job = first + std::size_t(k), i = job / per, v = job % per;
            for (std::size_t l = 0; l < L; ++l) {
                const T* out = model.output_data(r.layers[l]) + std::size_t(k) * sizes[l];
                std::vector<T>& ref = reference[i * L + l];
                if (v == 0) {
                    ref.assign(out, out + sizes[l]);
                    continue;
                }
                double sum = 0;
                for (std::size_t e = 0; e < sizes[l]; ++e) {
                    const double d = double(out[e]) - double(ref[e]);
                    sum += d * d;
                }
                r.distance[l][i][v - 1] = std::sqrt(sum);
            }
            if (v == 0) continue;
            const T* p = probs.data() + std::size_t(k) * classes;
            r.probability[i][v - 1] = double(p[labels[i]]);
            r.predicted[i][v - 1] = int(std::max_element(p, p + classes) - p);
            if (v == V)
                for (std::size_t l = 0; l < L; ++l) std::vector<T>().swap(reference[i * L + l]);
        }
    }
    return r;
}

}  // namespace convis
