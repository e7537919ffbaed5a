#pragma once
// The one interface every layer satisfies, and what layers receive when they run.
//
// A layer is a small struct. Its template arguments are what PyTorch's constructor takes; its
// members are run-time settings (LRN constants, dropout rate). Spatial sizes are not part of the
// layer: they flow from the network's input, so every member that depends on them is a template
// over the input shape `In`:
//
//   kind                          "Conv2d", "ReLU", ...
//   output<In>                    the output shape
//   fits<I, In>()                 true, or a compile error naming layer I, its kind and both numbers
//   params<In>()                  std::array<param_spec, n>: the parameter tensors, PyTorch layout
//   field<In>(rf)                 the receptive field after this layer, given the one before
//   state<In, T, P>               run-time memory the layer keeps between forward and backward
//   forward<In>(args, state)      y = f(x)
//   backward<In>(args, state)     gx = (df/dx)^T gy; parameter gradients are accumulated (+=)
//   project<In>(args, state)      optional: the layer's deconvnet step (net/deconvnet.hpp), signal
//                                 at the output to signal at the input. Without one, the step is
//                                 the layer's backward with no parameter gradients (the transposed
//                                 filters of a convolution, unpooling by the recorded switches).
//
// Layers contain no arithmetic: they describe the op and call ops<Policy>.
#include <array>
#include <concepts>
#include <cstdint>
#include <string_view>

#include "../core/compile_errors.hpp"
#include "../core/op_desc.hpp"
#include "../core/parameter.hpp"
#include "../core/policy.hpp"
#include "../core/receptive_field.hpp"
#include "../core/shape.hpp"

namespace convis {

/// What a layer's forward reads and writes. Pointers are in the policy's memory.
template <class T, class P>
struct forward_args {
    int batch;
    const T* x;          ///< input, batch × In::size
    T* y;                ///< output, batch × output<In>::size
    const T* params;     ///< this layer's slice of the model's parameter buffer
    bool training;
    scratch<P, T>* work;
    /// The same slice, writable, in a training forward of a model's own trace (null otherwise):
    /// where BatchNorm2d keeps its running statistics up to date.
    T* running = nullptr;
};

/// What a layer's backward reads and writes.
template <class T, class P>
struct backward_args {
    int batch;
    const T* x;          ///< the forward's input
    const T* y;          ///< the forward's output
    const T* gy;         ///< gradient w.r.t. y
    T* gx;               ///< gradient w.r.t. x, overwritten; null when nobody needs it
    const T* params;
    T* grads;            ///< this layer's slice of the gradient buffer, accumulated into; null: input gradient only
    scratch<P, T>* work;
};

/// What a layer's deconvnet step reads and writes (net/deconvnet.hpp).
template <class T, class P>
struct project_args {
    int batch;
    const T* x;          ///< the recorded forward's input of the layer
    const T* y;          ///< the recorded forward's output
    const T* g;          ///< the signal at the output
    T* out;              ///< the signal at the input, overwritten
    const T* params;
    rectify_mode mode;   ///< how a rectifier passes the signal
    bool lrn_backward;   ///< whether a normalisation passes it by its true backward (else unchanged)
    scratch<P, T>* work;
};

/// The state of a layer that keeps nothing between passes.
struct no_state {};

namespace detail {
template <class L, class In, class T, class P>
struct state_of {
    using type = no_state;
};
template <class L, class In, class T, class P>
    requires requires { typename L::template state<In, T, P>; }
struct state_of<L, In, T, P> {
    using type = typename L::template state<In, T, P>;
};
}  // namespace detail

/// The run-time state a layer L keeps for input shape In, element T, policy P.
template <class L, class In, class T, class P>
using layer_state = typename detail::state_of<L, In, T, P>::type;

/// Layer L's deconvnet step: its own project() when it has one, else its backward without
/// parameter gradients.
template <class In, class L, class T, class P, class State>
void project_step(const L& layer, const project_args<T, P>& a, State& state) {
    if constexpr (requires { layer.template project<In, T, P>(a, state); }) {
        layer.template project<In, T, P>(a, state);
    } else {
        const backward_args<T, P> b{a.batch, a.x, a.y, a.g, a.out, a.params, nullptr, a.work};
        layer.template backward<In, T, P>(b, state);
    }
}

/// The layer concept, checked against one input shape.
template <class L, class In>
concept layer_for = shape<In> && requires(const L& l) {
    { L::kind } -> std::convertible_to<std::string_view>;
    typename L::template output<In>;
    { L::template fits<0, In>() } -> std::same_as<bool>;
    L::template params<In>();
};

/// Helpers for layers without parameters or geometry.
struct pointwise_layer {
    template <class In>
    using output = In;
    template <int I, class In>
    static constexpr bool fits() { return true; }
    template <class In>
    static constexpr std::array<param_spec, 0> params() { return {}; }
    template <class In>
    static constexpr receptive_field field(receptive_field rf) { return rf; }
};

}  // namespace convis
