#pragma once
// Softmax over the features of each sample (nn.Softmax(dim=1) on [N, F]). As a layer it ends a
// network whose output should be probabilities; the loss in train/ takes logits instead.
#include "layer.hpp"

namespace convis {

struct Softmax : pointwise_layer {
    static constexpr std::string_view kind = "Softmax";

    template <class S, class T, class P>
    void forward(const forward_args<T, P>& a, no_state&) const {
        ops<P>::softmax_forward(a.batch, int(S::size), a.x, a.y);
    }
    template <class S, class T, class P>
    void backward(const backward_args<T, P>& a, no_state&) const {
        if (a.gx) ops<P>::softmax_backward(a.batch, int(S::size), a.y, a.gy, a.gx);
    }
};

}  // namespace convis
