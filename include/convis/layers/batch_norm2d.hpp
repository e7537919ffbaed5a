#pragma once
// BatchNorm2d<C>: PyTorch's nn.BatchNorm2d(C, eps, momentum), affine, tracking running statistics.
//
// Parameters in state_dict order: weight (γ, starts at 1), bias (β, 0), running_mean (0) and
// running_var (1); the last two are buffers (param_spec::is_buffer): loaded and saved with the
// weights, written only by a training forward, never by an optimiser.
//   training    y = (x − mean_B)/sqrt(var_B + eps)·γ + β over the batch and each channel's plane
//               (var_B biased); running ← (1 − momentum)·running + momentum·statistic, with the
//               unbiased variance, as PyTorch.
//   evaluation  the same with the running statistics: a per-channel affine map.
//
// The deconvnet step (the paper has no normalisation of this kind). The forward's statistics are
// fixed and the signal is scaled per channel by γ/sqrt(var + eps) — the transpose of the affine
// map without its shift, as a convolution is projected by its transposed filters without its bias.
// In every mode: in evaluation (how the analyses record their traces) that is the exact gradient,
// so gradient mode stays the true saliency; in the deconvnet and guided modes it keeps the
// projection linear in the signal between rectifiers, as the paper's deconvnet is. (A trace
// recorded in training mode is projected with its batch statistics held fixed.)
#include <string>

#include "../core/error.hpp"
#include "layer.hpp"

namespace convis {

template <int C>
struct BatchNorm2d : pointwise_layer {
    static_assert(C > 0, "BatchNorm2d: the channel count must be positive");
    static constexpr std::string_view kind = "BatchNorm2d";
    static constexpr int channels = C;

    double eps = 1e-5;      ///< PyTorch's default
    double momentum = 0.1;  ///< PyTorch's default

    template <int I, class S>
    static constexpr bool fits() {
        return require_fit<S::channels == C, at_layer<I>, BatchNorm2d, expects_channels<C>,
                           but_input_has_channels<S::channels>>();
    }
    template <class S>
    static constexpr std::array<param_spec, 4> params() {
        return {{{"weight", 1, {C, 0, 0, 0}, std::size_t(C), 1, false, false, 1},
                 {"bias", 1, {C, 0, 0, 0}, std::size_t(C), 1, true, false, 0},
                 {"running_mean", 1, {C, 0, 0, 0}, std::size_t(C), 1, false, true, 0},
                 {"running_var", 1, {C, 0, 0, 0}, std::size_t(C), 1, false, true, 1}}};
    }

    /// The statistics the forward used, per channel: mean, then 1/sqrt(var + eps).
    template <class S, class T, class P>
    struct state {
        typename P::template buffer<T> stats;
        bool batch_statistics = false;
    };

    template <class S, class T, class P>
    void forward(const forward_args<T, P>& a, state<S, T, P>& st) const {
        const batchnorm_desc d = desc<S>(a.batch);
        st.stats.resize(2 * std::size_t(C));
        T* mean = st.stats.data();
        T* invstd = mean + C;
        const T* w = a.params;
        st.batch_statistics = a.training;
        if (a.training) {
            if (std::size_t(a.batch) * S::height * S::width < 2)
                throw error("BatchNorm2d: training needs more than one value per channel, got a batch of " +
                            std::to_string(a.batch) + " of " + std::to_string(S::height) + "x" +
                            std::to_string(S::width) + " maps");
            T* running = a.running ? a.running + 2 * C : nullptr;
            ops<P>::batchnorm_statistics(d, a.x, mean, invstd, running, running ? running + C : nullptr);
        } else {
            ops<P>::batchnorm_running(d, w + 2 * C, w + 3 * C, mean, invstd);
        }
        ops<P>::batchnorm_apply(d, a.x, mean, invstd, w, w + C, a.y);
    }
    template <class S, class T, class P>
    void backward(const backward_args<T, P>& a, state<S, T, P>& st) const {
        const T* mean = st.stats.data();
        ops<P>::batchnorm_backward(desc<S>(a.batch), st.batch_statistics, a.x, a.gy, mean, mean + C, a.params, a.gx,
                                   a.grads, a.grads ? a.grads + C : nullptr);
    }
    /// See the header: the per-channel scale of the forward, statistics fixed.
    template <class S, class T, class P>
    void project(const project_args<T, P>& a, state<S, T, P>& st) const {
        const T* mean = st.stats.data();
        ops<P>::batchnorm_backward(desc<S>(a.batch), false, a.x, a.g, mean, mean + C, a.params, a.out,
                                   static_cast<T*>(nullptr), static_cast<T*>(nullptr));
    }

    template <class S>
    batchnorm_desc desc(int batch) const {
        return {batch, C, S::height * S::width, eps, momentum};
    }
};

}  // namespace convis
