#pragma once
// Average pooling, as PyTorch's layers:
//   AvgPool2d<K, Stride, Pad>           nn.AvgPool2d(K, Stride, Pad) (floor mode, count_include_pad)
//   AdaptiveAvgPool2d<OutH, OutW>       nn.AdaptiveAvgPool2d((OutH, OutW)): bin i covers
//                                       [floor(i·n/out), ceil((i+1)·n/out)) of an input extent n
//   GlobalAvgPool                       the mean of each map: C × 1 × 1 (AdaptiveAvgPool2d(1))
// Backward spreads each output's gradient evenly over its window; the deconvnet step is the same
// (a linear map projected by its transpose, as a convolution is).
#include "layer.hpp"

namespace convis {

template <int K, int Stride = K, int Pad = 0>
struct AvgPool2d {
    static_assert(K > 0 && Stride > 0 && Pad >= 0, "AvgPool2d: kernel and stride must be positive");
    static_assert(2 * Pad <= K, "AvgPool2d: padding must be at most half the kernel (as PyTorch requires)");
    static constexpr std::string_view kind = "AvgPool2d";
    static constexpr int kernel_size = K, stride = Stride, padding = Pad;

    static constexpr int out_extent(int n) {
        const int o = (n + 2 * Pad - K) / Stride + 1;
        return o > 0 ? o : 1;
    }
    template <class S>
    using output = Shape<S::channels, out_extent(S::height), out_extent(S::width)>;

    template <int I, class S>
    static constexpr bool fits() {
        constexpr bool rows = require_fit<(K <= S::height + 2 * Pad), at_layer<I>, AvgPool2d, kernel<K>,
                                          but_padded_input_is<S::height + 2 * Pad>>();
        constexpr bool cols = require_fit<(K <= S::width + 2 * Pad), at_layer<I>, AvgPool2d, kernel<K>,
                                          but_padded_input_is<S::width + 2 * Pad>>();
        return rows && cols;
    }
    template <class S>
    static constexpr std::array<param_spec, 0> params() { return {}; }
    template <class S>
    static constexpr receptive_field field(receptive_field rf) { return rf.then(K, Stride, Pad); }

    template <class S>
    static constexpr avgpool_desc desc(int batch) {
        using O = output<S>;
        return {batch, S::channels, S::height, S::width, O::height, O::width, K, Stride, Pad, false, true};
    }
    template <class S, class T, class P>
    void forward(const forward_args<T, P>& a, no_state&) const {
        ops<P>::avgpool_forward(desc<S>(a.batch), a.x, a.y);
    }
    template <class S, class T, class P>
    void backward(const backward_args<T, P>& a, no_state&) const {
        if (a.gx) ops<P>::avgpool_backward(desc<S>(a.batch), a.gy, a.gx);
    }
};

template <int OutH, int OutW = OutH>
struct AdaptiveAvgPool2d {
    static_assert(OutH > 0 && OutW > 0, "AdaptiveAvgPool2d: the output size must be positive");
    static constexpr std::string_view kind = "AdaptiveAvgPool2d";

    template <class S>
    using output = Shape<S::channels, OutH, OutW>;
    template <int I, class S>
    static constexpr bool fits() { return true; }  // PyTorch pools any input to any size
    template <class S>
    static constexpr std::array<param_spec, 0> params() { return {}; }
    /// The widest bin: ceil(n/out) + 1 when bins straddle, n/out when out divides n; the stride
    /// is n/out (the receptive-field algebra needs one kernel and stride per axis: the bins' widest).
    template <class S>
    static constexpr receptive_field field(receptive_field rf) {
        constexpr int n = S::height, o = OutH;
        constexpr int k = n % o == 0 ? n / o : (n + o - 1) / o + 1;
        constexpr int s = n / o > 0 ? n / o : 1;
        return rf.then(k, s, 0);
    }

    template <class S>
    static constexpr avgpool_desc desc(int batch) {
        return {batch, S::channels, S::height, S::width, OutH, OutW, 0, 0, 0, true, true};
    }
    template <class S, class T, class P>
    void forward(const forward_args<T, P>& a, no_state&) const {
        ops<P>::avgpool_forward(desc<S>(a.batch), a.x, a.y);
    }
    template <class S, class T, class P>
    void backward(const backward_args<T, P>& a, no_state&) const {
        if (a.gx) ops<P>::avgpool_backward(desc<S>(a.batch), a.gy, a.gx);
    }
};

/// The mean of each channel's map (ResNet's last pooling): C × 1 × 1.
struct GlobalAvgPool : AdaptiveAvgPool2d<1, 1> {
    static constexpr std::string_view kind = "GlobalAvgPool";
    template <class S>
    static constexpr receptive_field field(receptive_field rf) { return rf.then(S::height, 1, 0); }
};

}  // namespace convis
