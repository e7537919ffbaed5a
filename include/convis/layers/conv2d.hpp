#pragma once
// Conv2d<In, Out, K, Stride, Pad, Bias>: PyTorch's nn.Conv2d(In, Out, K, stride=Stride, padding=Pad,
// bias=Bias). Without a bias (ResNet's convolutions, each followed by a BatchNorm) the layer has one
// parameter tensor, "weight".
#include "layer.hpp"

namespace convis {

/// Spell `Conv2d<64, 64, 3, 1, 1, no_bias>` for readability.
inline constexpr bool no_bias = false;

template <int In, int Out, int K, int Stride = 1, int Pad = 0, bool Bias = true>
struct Conv2d {
    static_assert(In > 0 && Out > 0, "Conv2d: channel counts must be positive");
    static_assert(K > 0 && Stride > 0 && Pad >= 0, "Conv2d: kernel and stride must be positive, padding non-negative");

    static constexpr std::string_view kind = "Conv2d";
    static constexpr int in_channels = In, out_channels = Out, kernel_size = K, stride = Stride,
                         padding = Pad;
    static constexpr bool has_bias = Bias;

    /// PyTorch's size rule (floor).
    static constexpr int out_extent(int n) {
        const int o = (n + 2 * Pad - K) / Stride + 1;
        return o > 0 ? o : 1;  // keep the shape valid so only the named diagnostic is reported
    }
    template <class S>
    using output = Shape<Out, out_extent(S::height), out_extent(S::width)>;

    template <int I, class S>
    static constexpr bool fits() {
        constexpr bool channels = require_fit<S::channels == In, at_layer<I>, Conv2d,
                                              expects_channels<In>, but_input_has_channels<S::channels>>();
        constexpr bool rows = require_fit<(K <= S::height + 2 * Pad), at_layer<I>, Conv2d, kernel<K>,
                                          but_padded_input_is<S::height + 2 * Pad>>();
        constexpr bool cols = require_fit<(K <= S::width + 2 * Pad), at_layer<I>, Conv2d, kernel<K>,
                                          but_padded_input_is<S::width + 2 * Pad>>();
        return channels && rows && cols;
    }

    template <class S>
    static constexpr auto params() {
        constexpr std::size_t w = std::size_t(Out) * In * K * K;
        constexpr param_spec weight{"weight", 4, {Out, In, K, K}, w, In * K * K, false};
        if constexpr (Bias) return std::array<param_spec, 2>{{weight, {"bias", 1, {Out, 0, 0, 0}, std::size_t(Out), In * K * K, true}}};
        else return std::array<param_spec, 1>{{weight}};
    }

    template <class S>
    static constexpr receptive_field field(receptive_field rf) { return rf.then(K, Stride, Pad); }

    template <class S>
    static constexpr conv2d_desc desc(int batch) {
        using O = output<S>;
        return {batch, In, S::height, S::width, Out, O::height, O::width, K, Stride, Pad};
    }

    template <class S, class T, class P>
    void forward(const forward_args<T, P>& a, no_state&) const {
        const T* w = a.params;
        ops<P>::conv2d_forward(desc<S>(a.batch), a.x, w, Bias ? w + params<S>()[0].size : nullptr, a.y, *a.work);
    }

    template <class S, class T, class P>
    void backward(const backward_args<T, P>& a, no_state&) const {
        const std::size_t wsize = params<S>()[0].size;
        ops<P>::conv2d_backward(desc<S>(a.batch), a.x, a.params, a.gy, a.gx, a.grads, (Bias && a.grads) ? a.grads + wsize : nullptr,
                                *a.work);
    }
};

}  // namespace convis
