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
};

}  // namespace convis
