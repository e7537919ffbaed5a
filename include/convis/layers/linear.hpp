#pragma once
// Linear<In, Out>: PyTorch's nn.Linear(In, Out); y = x W^T + b, W is [Out, In].
// Reads any input of In elements per sample (a C×H×W input is read in NCHW order, as after Flatten).
//
// Out may be `dynamic` (core/shape.hpp): the output count is then a run-time value that the model
// sets when it is built (Model(classes)), so one network type serves every class count. Its
// parameter shapes take that count: params<S>(outputs).
#include "layer.hpp"

namespace convis {

template <int In, int Out>
struct Linear {
    static_assert(In > 0 && (Out > 0 || Out == dynamic), "Linear: feature counts must be positive (or dynamic for the output)");
    static constexpr std::string_view kind = "Linear";
    static constexpr int in_features = In, out_features = Out;
    /// Whether the output count is a run-time value.
    static constexpr bool dynamic_output = Out == dynamic;

    /// The output count this layer runs with: Out, or the model's class count when Out is dynamic.
    int outputs = Out;

    template <class S>
    using output = Features<Out>;

    template <int I, class S>
    static constexpr bool fits() {
        return require_fit<S::size == std::size_t(In), at_layer<I>, Linear, expects_features<In>,
                           but_input_has_features<int(S::size)>>();
    }
    template <class S>
    static constexpr std::array<param_spec, 2> params(int out = Out) {
        return {{{"weight", 2, {out, In, 0, 0}, std::size_t(out) * In, In, false},
                 {"bias", 1, {out, 0, 0, 0}, std::size_t(out), In, true}}};
    }
    template <class S>
    static constexpr receptive_field field(receptive_field rf) {
        rf.global = true;
        return rf;
    }

    template <class S, class T, class P>
    void forward(const forward_args<T, P>& a, no_state&) const {
        ops<P>::linear_forward(linear_desc{a.batch, In, outputs}, a.x, a.params,
                               a.params + std::size_t(outputs) * In, a.y);
    }
    template <class S, class T, class P>
    void backward(const backward_args<T, P>& a, no_state&) const {
        ops<P>::linear_backward(linear_desc{a.batch, In, outputs}, a.x, a.params, a.gy, a.gx, a.grads,
                                a.grads ? a.grads + std::size_t(outputs) * In : nullptr);
    }
};

}  // namespace convis
