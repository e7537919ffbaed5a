#pragma once
// LocalResponseNorm<Size>: PyTorch's nn.LocalResponseNorm(Size, alpha, beta, k):
//   b_c = a_c / (k + alpha/Size * sum_{c' = c - Size/2}^{c + (Size-1)/2} a_{c'}^2)^beta
// (channels outside [0, C) count as zero). The template constants are defaults; the members can be
// changed at run time.
#include "layer.hpp"

namespace convis {

template <int Size, double Alpha = 1e-4, double Beta = 0.75, double K = 1.0>
struct LocalResponseNorm : pointwise_layer {
    static_assert(Size > 0, "LocalResponseNorm: size must be positive");
    static constexpr std::string_view kind = "LocalResponseNorm";
    static constexpr int size = Size;

    double alpha = Alpha;
    double beta = Beta;
    double k = K;

    /// The denominator base k + alpha/n * sum a^2, kept for backward.
    template <class S, class T, class P>
    struct state {
        typename P::template buffer<T> scale;
    };

    template <class S>
    lrn_desc desc(int batch) const {
        return {batch, S::channels, S::height * S::width, Size, alpha, beta, k};
    }
    template <class S, class T, class P>
    void forward(const forward_args<T, P>& a, state<S, T, P>& st) const {
        st.scale.resize(std::size_t(a.batch) * S::size);
        ops<P>::lrn_forward(desc<S>(a.batch), a.x, a.y, st.scale.data());
    }
    template <class S, class T, class P>
    void backward(const backward_args<T, P>& a, state<S, T, P>& st) const {
        if (a.gx) ops<P>::lrn_backward(desc<S>(a.batch), a.x, a.y, st.scale.data(), a.gy, a.gx);
    }
    /// The deconvnet step: the paper skips normalisation (the signal passes unchanged); the true
    /// backward when the projection asks for it (projection_options::lrn_backward).
    template <class S, class T, class P>
    void project(const project_args<T, P>& a, state<S, T, P>& st) const {
        if (a.lrn_backward) ops<P>::lrn_backward(desc<S>(a.batch), a.x, a.y, st.scale.data(), a.g, a.out);
        else ops<P>::copy(std::size_t(a.batch) * S::size, a.g, a.out);
    }
};

}  // namespace convis
