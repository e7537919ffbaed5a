#pragma once
// Occlusion sensitivity (the paper's Fig. 7): a square of side `size` and value `fill` slides over
// the input with its top-left corner at every multiple of `stride` where it fits; for each position
//   (b) the total activation (sum over the map) of the layer-L map that is strongest — largest
//       spatial maximum — on the unoccluded image,
//   (d) the probability of the true class,
//   (e) the most probable class;
// and (c) the deconvnet projection of that map's strongest unoccluded activation.
//
// The fill is in the network's input space: 0 is the mean picture after mean subtraction, the
// paper's "grey square". Occluded copies run through the network in batches.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "../net/deconvnet.hpp"
#include "layer_choice.hpp"
#include "transforms.hpp"

namespace convis {

struct occlusion_options {
    int size = 0;    ///< side of the square in input pixels; 0: height / 7 (32 at 224, 4 at 28)
    int stride = 0;  ///< spacing of the positions; 0: a quarter of the side (8 at 224, 1 at 28)
    float fill = 0;  ///< value of the square in input space (0: the mean after mean subtraction)
    int layer = -1;  ///< layer whose strongest map is followed; -1: the last conv block (ZFNet: relu5)
    /// Occluded copies per forward pass: a bigger batch streams the fully connected weights less
    /// often (memory: batch × one picture's activations, about 15 MB for ZFNet at 224)
    int batch = 64;
    projection_options projection{};
};

struct occlusion_result {
    int layer = 0;
    int channel = 0;              ///< the strongest map on the unoccluded image
    int y = 0, x = 0;             ///< where that map peaks (unoccluded)
    int size = 0, stride = 0;
    int rows = 0, cols = 0;       ///< occluder positions: top-left corner (r * stride, c * stride)
    std::vector<float> activation;       ///< [rows * cols] (b) the map's total activation
    std::vector<float> probability;      ///< [rows * cols] (d) probability of the true class
    std::vector<std::int64_t> label;     ///< [rows * cols] (e) most probable class
    float base_activation = 0, base_probability = 0;  ///< the unoccluded image's
    std::int64_t base_label = 0;
    std::vector<float> projection;  ///< (c) C × H × W, input scale: the map's peak projected to pixels
};

/// Occlusion maps for one preprocessed input sample (Net::input_shape, C × H × W values) whose
/// true class is `label`. Leaves the model in eval mode.
template <class M>
occlusion_result occlusion(M& model, const typename M::value_type* input, int label, const occlusion_options& o = {});

/// The positions along one side: top-left corners 0, stride, 2·stride, … while the square fits.
inline int occlusion_positions(int side, int size, int stride) { return side < size ? 0 : (side - size) / stride + 1; }

// ---- details ------------------------------------------------------------------------------------

template <class M>
occlusion_result occlusion(M& model, const typename M::value_type* input, int label, const occlusion_options& o) {
    using Net = typename M::net_type;
    using In = typename Net::input_shape;
    using T = typename M::value_type;
    constexpr int C = In::channels, H = In::height, W = In::width;
    const std::vector<layer_row> table = model.layer_table();
    const int classes = int(table.back().output[0]);

    occlusion_result r;
    r.size = o.size > 0 ? o.size : std::max(1, (H + 3) / 7);
    r.stride = o.stride > 0 ? o.stride : std::max(1, r.size / 4);
    if (o.size < 0 || o.stride < 0)
        throw error("occlusion: size and stride must be positive, got size " + std::to_string(o.size) + ", stride " +
                    std::to_string(o.stride));
    if (r.size > H || r.size > W)
        throw error("occlusion: a square of side " + std::to_string(r.size) + " does not fit the " + std::to_string(H) +
                    "x" + std::to_string(W) + " input");
    if (o.batch < 1) throw error("occlusion: batch must be at least 1, got " + std::to_string(o.batch));
    if (label < 0 || label >= classes)
        throw error("occlusion: label " + std::to_string(label) + " is outside 0.." + std::to_string(classes - 1));
    r.layer = o.layer >= 0 ? o.layer : last_conv_block_layer(table);
    if (r.layer >= Net::size)
        throw error("occlusion: layer " + std::to_string(r.layer) + " is outside 0.." + std::to_string(Net::size - 1));
    const auto& shape = table[std::size_t(r.layer)].output;
    const int maps = int(shape[0]), mh = shape.size() == 3 ? int(shape[1]) : 1, mw = shape.size() == 3 ? int(shape[2]) : 1;
    const std::size_t plane = std::size_t(mh) * mw, per_sample = std::size_t(maps) * plane;
    r.rows = occlusion_positions(H, r.size, r.stride);
    r.cols = occlusion_positions(W, r.size, r.stride);
    const bool softmaxed = ends_in_softmax(table);
    model.eval();

    // The unoccluded image: the strongest map, its peak, its projection, the base prediction.
    Tensor<In, T> x(1);
    std::copy_n(input, In::size, x.sample(0));
    model.forward(x);
    {
        const T* a = model.output_data(r.layer);
        T best = a[0];
        std::size_t at = 0;
        for (std::size_t i = 1; i < per_sample; ++i)
            if (a[i] > best) best = a[i], at = i;  // the first maximum wins ties, channel by channel
        r.channel = int(at / plane);
        r.y = int((at % plane) / std::size_t(mw));
        r.x = int(at % std::size_t(mw));
        double total = 0;
        for (std::size_t i = 0; i < plane; ++i) total += a[std::size_t(r.channel) * plane + i];
        r.base_activation = float(total);
        std::vector<T> p(static_cast<std::size_t>(classes));
        class_probabilities(model.output_data(Net::size - 1), 1, classes, softmaxed, p.data());
        r.base_probability = float(p[std::size_t(label)]);
        r.base_label = std::max_element(p.begin(), p.end()) - p.begin();
        std::vector<T> signal(per_sample, T(0));
        signal[at] = best;
        Deconvnet<M> deconv(model);
        const auto projected = deconv.project(r.layer, signal.data(), o.projection);
        r.projection.assign(projected.sample(0), projected.sample(0) + In::size);
    }

    const int positions = r.rows * r.cols;
    r.activation.resize(std::size_t(positions));
    r.probability.resize(std::size_t(positions));
    r.label.resize(std::size_t(positions));
    std::vector<T> probs;
    // The occluded copies are made where the model runs (on a GPU: no picture crosses the bus).
    using P = typename M::policy_type;
    typename P::template buffer<T> picture(In::size), copies;
    ops<P>::upload(In::size, input, picture.data());
    // Batches of equal size (no short last batch: a small batch costs more per picture).
    const int batches = (positions + o.batch - 1) / o.batch;
    for (int b = 0, first = 0, n = 0; b < batches; ++b, first += n) {
        n = (positions - first) / (batches - b);
        copies.resize(std::size_t(n) * In::size);
        for (int s = 0; s < n; ++s) {
            T* d = copies.data() + std::size_t(s) * In::size;
            ops<P>::copy(In::size, picture.data(), d);
            ops<P>::fill_box(box_desc{C, H, W, ((first + s) / r.cols) * r.stride, ((first + s) % r.cols) * r.stride,
                                      r.size, r.size},
                             T(o.fill), d);
        }
        model.forward(TensorView<In, const T>(copies.data(), n));
        const T* a = model.output_data(r.layer);
        probs.resize(std::size_t(n) * classes);
        class_probabilities(model.output_data(Net::size - 1), n, classes, softmaxed, probs.data());
        for (int s = 0; s < n; ++s) {
            const T* m = a + std::size_t(s) * per_sample + std::size_t(r.channel) * plane;
            double total = 0;
            for (std::size_t i = 0; i < plane; ++i) total += m[i];
            const T* p = probs.data() + std::size_t(s) * classes;
            r.activation[std::size_t(first + s)] = float(total);
            r.probability[std::size_t(first + s)] = float(p[label]);
            r.label[std::size_t(first + s)] = std::max_element(p, p + classes) - p;
        }
    }
    return r;
}

}  // namespace convis
