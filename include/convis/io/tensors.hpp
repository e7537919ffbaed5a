#pragma once
// Batches and layer outputs to and from safetensors files, in PyTorch's shapes.
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/tensor.hpp"
#include "safetensors.hpp"

namespace convis {

/// Reads tensor `name` of `file` as a batch of shape S: it must be F32 [N, C, H, W] (or [N, F] for
/// flat S) with N >= 1; otherwise a convis::error naming file, tensor, expected and found.
template <shape S>
Tensor<S, float> read_batch(const safetensors_file& file, const std::string& name);

/// Adds layer outputs of the model's last forward to `out`, each under its layer name in PyTorch's
/// shape ([N, C, H, W], or [N, F] once flat).
template <class M>
void add_layer_outputs(safetensors_file& out, const M& model, std::span<const int> layers);

/// The run-time twin of read_batch: tensor `name` as F32 [N, sample...] with 1 <= N <= 2^24,
/// e.g. sample = {C, H, W}; returns the values, N × the sample's size. convis::error otherwise.
inline std::vector<float> read_samples(const safetensors_file& file, const std::string& name,
                                       const std::vector<std::int64_t>& sample);

// ---- details -------------------------------------------------------------------------------

template <shape S>
Tensor<S, float> read_batch(const safetensors_file& file, const std::string& name) {
    const bool flat = S::height == 1 && S::width == 1;
    const std::vector<std::int64_t> sample = flat ? std::vector<std::int64_t>{S::channels}
                                                  : std::vector<std::int64_t>{S::channels, S::height, S::width};
    return Tensor<S, float>::from(read_samples(file, name, sample));
}

inline std::vector<float> read_samples(const safetensors_file& file, const std::string& name,
                                       const std::vector<std::int64_t>& sample) {
    const stored_tensor& t = file.at(name);
    const bool ok = t.shape.size() == sample.size() + 1 && t.shape[0] >= 1 &&
                    std::equal(sample.begin(), sample.end(), t.shape.begin() + 1);
    if (!ok) {
        std::string want = "[N";
        for (auto d : sample) want += "," + std::to_string(d);
        throw error(file.path + ": tensor '" + name + "' has shape " + shape_string(t.shape) +
                    ", expected " + want + "] with N >= 1");
    }
    if (t.shape[0] > (std::int64_t(1) << 24))
        throw error(file.path + ": tensor '" + name + "' holds " + std::to_string(t.shape[0]) + " samples, too many for one batch");
    return t.to_vector<float>(file.path, name);
}

template <class M>
void add_layer_outputs(safetensors_file& out, const M& model, std::span<const int> layers) {
    using Net = typename M::net_type;
    using T = typename M::value_type;
    for (int index : layers)
        Net::visit(index, [&](auto i) {
            constexpr int I = decltype(i)::value;
            const auto y = model.template output<I>();
            out.tensors.insert_or_assign(Net::name(I), make_tensor<T>(y.values(), Net::template output_dims<I>(y.batch(), model.classes())));
        });
}

}  // namespace convis
