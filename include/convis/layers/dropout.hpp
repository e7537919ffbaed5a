#pragma once
// Dropout: nn.Dropout(p). In training each element is zeroed with probability p and the survivors
// are scaled by 1/(1-p); in evaluation it is the identity. The mask is a pure function of
// (seed, call count, element index), so a run is reproducible whatever the thread count.
#include <cstdint>

#include "layer.hpp"

namespace convis {

struct Dropout : pointwise_layer {
    static constexpr std::string_view kind = "Dropout";

    double p = 0.5;              ///< probability of zeroing an element
    std::uint64_t seed = 0x5eed; ///< the model reseeds each dropout layer from its own seed
    /// Training forwards so far: each draws a fresh mask. Mutable so that forward is const like
    /// every layer's: only a training forward advances it, and those run on a model held by one
    /// thread (Model's threading rule), never through the shared evaluation-mode forward.
    mutable std::uint64_t calls = 0;

    /// The mask of the last training forward, holding 0 or 1/(1-p).
    template <class S, class T, class P>
    struct state {
        typename P::template buffer<T> mask;
        bool active = false;
    };

    template <class S, class T, class P>
    void forward(const forward_args<T, P>& a, state<S, T, P>& st) const {
        const std::size_t n = std::size_t(a.batch) * S::size;
        st.active = a.training && p > 0;
        if (!st.active) {
            ops<P>::copy(n, a.x, a.y);
            return;
        }
        st.mask.resize(n);
        ops<P>::dropout_forward(n, p, seed, calls++, a.x, a.y, st.mask.data());
    }
    template <class S, class T, class P>
    void backward(const backward_args<T, P>& a, state<S, T, P>& st) const {
        if (!a.gx) return;
        const std::size_t n = std::size_t(a.batch) * S::size;
        if (st.active)
            ops<P>::multiply(n, a.gy, st.mask.data(), a.gx);
        else
            ops<P>::copy(n, a.gy, a.gx);
    }
};

}  // namespace convis
