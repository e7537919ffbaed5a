#pragma once
// Compile-time shapes: channels × height × width of one sample. The batch is a run-time value.
//
// One extent may be left to run time: Shape<dynamic, 1, 1> (Features<dynamic>) is a feature
// vector whose length is chosen when the model is built — the class count of a classifier, so
// that one network type serves any number of classes. Such a shape has no `size`: code that needs
// the length asks the model (Model::classes()) or uses size_of<S>(extent), and code that assumes a
// compile-time length fails to compile instead of reading a wrong number.
#include <cstddef>
#include <type_traits>

namespace convis {

/// An extent given at run time (see above). Only a flat feature vector may have one.
inline constexpr int dynamic = -1;

/// The shape of one sample, C × H × W, known to the compiler. A flat vector of N features is
/// Shape<N, 1, 1>.
template <int C, int H, int W>
struct Shape {
    static_assert(C > 0 && H > 0 && W > 0, "convis::Shape: every extent must be positive");
    static constexpr bool is_static = true;
    static constexpr int channels = C;
    static constexpr int height = H;
    static constexpr int width = W;
    static constexpr std::size_t size = std::size_t(C) * H * W;  ///< elements per sample
};

/// A feature vector whose length is a run-time value (Features<dynamic>).
template <>
struct Shape<dynamic, 1, 1> {
    static constexpr bool is_static = false;
    static constexpr int height = 1;
    static constexpr int width = 1;
};

/// A flat feature vector of N elements (what Linear reads and writes); N may be `dynamic`.
template <int N>
using Features = Shape<N, 1, 1>;

template <class S>
struct is_shape : std::false_type {};
template <int C, int H, int W>
struct is_shape<Shape<C, H, W>> : std::true_type {};

template <class S>
concept shape = is_shape<S>::value;

/// One sample's picture dimensions at run time: channels × height × width (a network's input,
/// as convis::session reports it).
struct input_dims {
    int channels = 0, height = 0, width = 0;
    std::size_t size() const { return std::size_t(channels) * height * width; }
};

/// Elements per sample of S; `extent` is the run-time length of a dynamic S (ignored otherwise).
template <shape S>
constexpr std::size_t size_of(int extent) {
    if constexpr (S::is_static) return S::size;
    else return extent > 0 ? std::size_t(extent) : 0;
}

}  // namespace convis
