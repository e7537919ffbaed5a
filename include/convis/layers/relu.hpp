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
    /// The deconvnet step: the signal is rectified (relu(g), guided relu(g)·[y > 0], or the
    /// gradient g·[y > 0]; PAPER.md §2.1).
    template <class S, class T, class P>
    void project(const project_args<T, P>& a, no_state&) const {
        ops<P>::rectify(a.mode, std::size_t(a.batch) * S::size, a.y, a.g, a.out);
    }
};

}  // namespace convis
