#pragma once
// Flatten: C×H×W → C·H·W features, NCHW order (nn.Flatten). Moves no numbers.
#include "layer.hpp"

namespace convis {

struct Flatten : pointwise_layer {
    static constexpr std::string_view kind = "Flatten";
    template <class S>
    using output = Features<int(S::size)>;

    template <class S, class T, class P>
    void forward(const forward_args<T, P>& a, no_state&) const {
        ops<P>::copy(std::size_t(a.batch) * S::size, a.x, a.y);
    }
    template <class S, class T, class P>
    void backward(const backward_args<T, P>& a, no_state&) const {
        if (a.gx) ops<P>::copy(std::size_t(a.batch) * S::size, a.gy, a.gx);
    }
};

}  // namespace convis
