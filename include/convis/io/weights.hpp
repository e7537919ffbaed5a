#pragma once
// A model's parameters to and from safetensors, under PyTorch state_dict names and layouts, so a
// model trained in PyTorch loads without conversion code.
//
// Every tensor is checked against the network type: a missing, extra, wrongly typed or wrongly
// shaped tensor is a convis::error naming the file, the tensor, what was expected and what was
// found. F32 and F64 files load into float and double models alike (converted); other dtypes are
// refused. Tensors under "preprocess." (an input mean) and "optimizer." (a checkpoint's optimiser state), and
// BatchNorm's "*.num_batches_tracked" counters, are not parameters: they are returned to the caller
// instead of being rejected. BatchNorm's running_mean and running_var load and save as parameters.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <map>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "safetensors.hpp"

namespace convis {

/// What a weights file carried besides the parameters.
struct weights_extras {
    std::map<std::string, stored_tensor> tensors;   ///< the "preprocess." and "optimizer." tensors, by full name
    std::map<std::string, std::string> metadata;
};

/// Loads every parameter of `model` from `path`; the model is unchanged if anything is wrong.
template <class M>
weights_extras load_weights(M& model, const std::string& path);

/// Writes every parameter of `model` (F32 for a float model, F64 for double), plus `extras`,
/// atomically (a temporary file renamed into place).
template <class M>
void save_weights(M& model, const std::string& path, const weights_extras& extras = {});

// ---- details -------------------------------------------------------------------------------

namespace weights_detail {
/// BatchNorm's num_batches_tracked (an integer PyTorch uses only when momentum is None): kept by
/// some exporters, not used by convis, returned with the extras.
inline bool is_batch_counter(const std::string& name) {
    const std::string suffix = ".num_batches_tracked";
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}
/// Tensors that ride along with the parameters: an input mean ("preprocess.") and a training
/// checkpoint's optimiser state ("optimizer."), so a checkpoint loads as plain weights too.
inline bool is_extra(const std::string& name) {
    return name.rfind("preprocess.", 0) == 0 || name.rfind("optimizer.", 0) == 0 || is_batch_counter(name);
}
template <class T>
void convert(const stored_tensor& src, std::vector<T>& out) {
    const std::size_t n = src.numel();
    out.resize(n);
    if (src.type == dtype::f32) {
        for (std::size_t i = 0; i < n; ++i) {
            float v;
            std::memcpy(&v, src.bytes.data() + i * sizeof(float), sizeof(float));
            out[i] = T(v);
        }
    } else {
        for (std::size_t i = 0; i < n; ++i) {
            double v;
            std::memcpy(&v, src.bytes.data() + i * sizeof(double), sizeof(double));
            out[i] = T(v);
        }
    }
}
}  // namespace weights_detail

template <class M>
weights_extras load_weights(M& model, const std::string& path) {
    using T = typename M::value_type;
    const safetensors_file file = read_safetensors(path);
    auto params = model.parameter_list();

    // Check everything first, then copy: a bad file leaves the model as it was.
    std::map<std::string, bool> wanted;
    for (const auto& p : params) wanted[p.name] = true;
    for (const auto& [name, t] : file.tensors)
        if (!wanted.count(name) && !weights_detail::is_extra(name)) {
            std::string known;
            for (std::size_t i = 0; i < params.size() && i < 3; ++i) known += (i ? ", " : "") + params[i].name;
            throw error(path + ": unexpected tensor '" + name + "' " + std::string(dtype_name(t.type)) +
                        shape_string(t.shape) + "; the model's parameters are named like " + known + ", ...");
        }
    std::vector<std::vector<T>> values(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
        const auto& p = params[i];
        const std::string expected = std::string(dtype_name(std::is_same_v<T, double> ? dtype::f64 : dtype::f32)) +
                                     shape_string(p.shape);
        auto it = file.tensors.find(p.name);
        if (it == file.tensors.end())
            throw error(path + ": missing tensor '" + p.name + "', expected " + expected);
        const stored_tensor& t = it->second;
        if (t.type != dtype::f32 && t.type != dtype::f64)
            throw error(path + ": tensor '" + p.name + "' has dtype " + std::string(dtype_name(t.type)) +
                        ", expected F32 or F64 (shape " + shape_string(p.shape) + ")");
        if (t.shape != p.shape)
            throw error(path + ": tensor '" + p.name + "' has shape " + shape_string(t.shape) + ", expected " +
                        shape_string(p.shape));
        weights_detail::convert(t, values[i]);
    }
    for (std::size_t i = 0; i < params.size(); ++i)
        std::copy(values[i].begin(), values[i].end(), params[i].values.begin());
    model.upload_parameters();

    weights_extras extras;
    extras.metadata = file.metadata;
    for (const auto& [name, t] : file.tensors)
        if (weights_detail::is_extra(name)) extras.tensors.emplace(name, t);
    return extras;
}

template <class M>
void save_weights(M& model, const std::string& path, const weights_extras& extras) {
    using T = typename M::value_type;
    safetensors_file file;
    file.path = path;
    for (const auto& p : model.parameter_list())
        file.tensors.emplace(p.name, make_tensor<T>(std::span<const T>(p.values.data(), p.values.size()), p.shape));
    for (const auto& [name, t] : extras.tensors) {
        if (file.tensors.count(name))
            throw error(path + ": extra tensor '" + name + "' has the name of a model parameter");
        file.tensors.emplace(name, t);
    }
    file.metadata = extras.metadata;
    write_safetensors(path, file);
}

}  // namespace convis
