#pragma once
// Compile-time shapes: channels × height × width of one sample. The batch is a run-time value.
#include <cstddef>
#include <type_traits>

namespace convis {

/// The shape of one sample, C × H × W, known to the compiler. A flat vector of N features is
/// Shape<N, 1, 1>.
template <int C, int H, int W>
struct Shape {
    static_assert(C > 0 && H > 0 && W > 0, "convis::Shape: every extent must be positive");
    static constexpr int channels = C;
    static constexpr int height = H;
    static constexpr int width = W;
    static constexpr std::size_t size = std::size_t(C) * H * W;  ///< elements per sample
};

/// A flat feature vector of N elements (what Linear reads and writes).
template <int N>
using Features = Shape<N, 1, 1>;

template <class S>
struct is_shape : std::false_type {};
template <int C, int H, int W>
struct is_shape<Shape<C, H, W>> : std::true_type {};

template <class S>
concept shape = is_shape<S>::value;

}  // namespace convis
