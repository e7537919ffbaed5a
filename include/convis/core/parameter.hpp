#pragma once
// What a layer declares about each of its parameter tensors.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace convis {

/// One parameter tensor of a layer, in PyTorch's layout (conv [out,in,kh,kw], linear [out,in]).
struct param_spec {
    std::string_view name;        ///< "weight" or "bias"
    int rank;                     ///< number of dims used in `dims`
    std::array<std::int64_t, 4> dims;
    std::size_t size;             ///< product of dims
    int fan_in;                   ///< inputs feeding one output (for initialisation)
    bool is_bias;
    /// A running statistic (BatchNorm's running_mean, running_var): stored and loaded with the
    /// parameters under its state_dict name, written by the forward in training, never by an
    /// optimiser.
    bool is_buffer = false;
    /// ≥ 0: every initialiser sets the tensor to this constant (BatchNorm's weight and
    /// running_var 1, running_mean 0), as PyTorch's reset_parameters does.
    int constant_init = -1;
};

/// A parameter of a model, resolved: full name ("conv1.weight"), shape and storage.
template <class T>
struct parameter_ref {
    std::string name;
    std::vector<std::int64_t> shape;
    std::span<T> values;          ///< in the model's parameter buffer
    std::span<T> gradient;        ///< the same slice of the gradient buffer
    int fan_in;
    bool is_bias;
    bool is_buffer = false;       ///< see param_spec
    int constant_init = -1;       ///< see param_spec
};

}  // namespace convis
