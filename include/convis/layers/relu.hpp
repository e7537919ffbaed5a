#pragma once
// ReLU: relu(x) = max(x, 0), as nn.ReLU.
#include "layer.hpp"

namespace convis {

struct ReLU : pointwise_layer {
    static constexpr std::string_view kind = "ReLU";

    template <class S, class T, class P>
    void forward(const forward_args<T, P>& a, no_state&) const {
        ops<P>::relu_forward(std::size_t(a.batch) * S::size, a.x, a.y);
    }
    /// The gradient passes where the output is positive (PyTorch's rule: zero at x = 0).
    template <class S, class T, class P>
    void backward(const backward_args<T, P>& a, no_state&) const {
        if (a.gx) ops<P>::relu_backward(std::size_t(a.batch) * S::size, a.y, a.gy, a.gx);
    }
};

}  // namespace convis
