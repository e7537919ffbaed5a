#pragma once
// Compile-time diagnostics that carry numbers.
//
// C++20's static_assert cannot format numbers into its message, so each check instantiates a
// template whose *name* reads as the diagnosis, e.g.
//   convis::layer_does_not_fit<convis::at_layer<4>, convis::Conv2d<96, 256, 5, 2, 0>,
//                              convis::expects_channels<96>, convis::but_input_has_channels<256>>
// GCC and Clang print that name in the "required from" note under the static_assert.
#include <type_traits>

namespace convis {

template <int I> struct at_layer {};
template <int N> struct expects_channels {};
template <int N> struct but_input_has_channels {};
template <int N> struct expects_features {};
template <int N> struct but_input_has_features {};
template <int N> struct kernel {};
template <int N> struct but_padded_input_is {};
template <int N> struct padding {};
template <int N> struct but_half_kernel_is {};
template <int N> struct expects_flat_input_has_spatial {};
template <int C, int H, int W> struct body_gives {};
template <int C, int H, int W> struct but_shortcut_gives {};
struct expects_compile_time_shape {};
struct but_input_has_run_time_extent {};

namespace detail {
template <class... Why>
inline constexpr bool always_false = false;
}

/// Instantiated only when layer `Layer` (at index I) cannot take the shape the layer before it
/// produces. The template arguments say which layer, its kind, and both numbers.
template <class AtLayer, class Layer, class Expected, class Found>
struct layer_does_not_fit {
    static_assert(detail::always_false<AtLayer, Layer, Expected, Found>,
                  "convis: a layer does not fit the shape produced by the layer before it "
                  "(the instantiation of layer_does_not_fit<at_layer<I>, Kind, expected, found> names them)");
    static constexpr bool ok = false;
};

/// Evaluates to true when Fits; otherwise instantiates the named diagnostic above.
template <bool Fits, class AtLayer, class Layer, class Expected, class Found>
constexpr bool require_fit() {
    if constexpr (Fits) {
        return true;
    } else {
        return layer_does_not_fit<AtLayer, Layer, Expected, Found>::ok;
    }
}

}  // namespace convis
