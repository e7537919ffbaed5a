#pragma once
// MaxPool2d<K, Stride, Pad, Ceil>: PyTorch's nn.MaxPool2d(K, Stride, Pad, ceil_mode=Ceil).
// Records its switches — the position of each maximum — for backward and for the deconvnet.
#include <cstdint>

#include "layer.hpp"

namespace convis {

/// Spell `MaxPool2d<3, 2, 0, ceil_mode>` for readability.
inline constexpr bool ceil_mode = true;

template <int K, int Stride = K, int Pad = 0, bool Ceil = false>
struct MaxPool2d {
    static_assert(K > 0 && Stride > 0 && Pad >= 0, "MaxPool2d: kernel and stride must be positive");
    static_assert(2 * Pad <= K, "MaxPool2d: padding must be at most half the kernel (as PyTorch requires)");

    static constexpr std::string_view kind = "MaxPool2d";
    static constexpr int kernel_size = K, stride = Stride, padding = Pad;
    static constexpr bool ceil = Ceil;

    /// PyTorch's rule: in ceil mode the last window must start inside the input or its left padding.
    static constexpr int out_extent(int n) {
        const int span = n + 2 * Pad - K;
        if (span < 0) return 1;  // reported by fits(); keep the shape valid
        int o = (Ceil ? (span + Stride - 1) / Stride : span / Stride) + 1;
        if (Ceil && (o - 1) * Stride >= n + Pad) --o;
        return o;
    }
    template <class S>
    using output = Shape<S::channels, out_extent(S::height), out_extent(S::width)>;

    template <int I, class S>
    static constexpr bool fits() {
        constexpr bool rows = require_fit<(K <= S::height + 2 * Pad), at_layer<I>, MaxPool2d, kernel<K>,
                                          but_padded_input_is<S::height + 2 * Pad>>();
        constexpr bool cols = require_fit<(K <= S::width + 2 * Pad), at_layer<I>, MaxPool2d, kernel<K>,
                                          but_padded_input_is<S::width + 2 * Pad>>();
        return rows && cols;
    }
    template <class S>
    static constexpr std::array<param_spec, 0> params() { return {}; }
    template <class S>
    static constexpr receptive_field field(receptive_field rf) { return rf.then(K, Stride, Pad); }

    /// The switches: for each output, the flat index h*W + w of its maximum within its input plane
    /// (PyTorch's return_indices convention). Ties go to the first maximum in scan order.
    template <class S, class T, class P>
    struct state {
        typename P::template buffer<std::int32_t> switches;
    };

    template <class S>
    static constexpr pool2d_desc desc(int batch) {
        using O = output<S>;
        return {batch, S::channels, S::height, S::width, O::height, O::width, K, Stride, Pad};
    }

    template <class S, class T, class P>
    void forward(const forward_args<T, P>& a, state<S, T, P>& st) const {
        st.switches.resize(std::size_t(a.batch) * output<S>::size);
        ops<P>::maxpool_forward(desc<S>(a.batch), a.x, a.y, st.switches.data());
    }
    template <class S, class T, class P>
    void backward(const backward_args<T, P>& a, state<S, T, P>& st) const {
        if (a.gx) ops<P>::maxpool_backward(desc<S>(a.batch), a.gy, st.switches.data(), a.gx);
    }
};

}  // namespace convis
