#pragma once
// Deconvnet<M>: projects a signal at any layer's output back to the input pixels (Zeiler & Fergus,
// §2.1), derived from the network type and sharing the model's parameters and its last forward
// (the trace: every layer's output and every pool's switches).
//
// Down through each layer: max-pools unpool with the recorded switches (overlapping windows
// add); ReLUs rectify the signal (three modes, below); convolutions filter with the transposed
// kernels and no bias; Linear layers transpose; Flatten reshapes; LRN is skipped by default in
// deconvnet mode (the paper) and takes its true backward in the other two — an option in every mode.
//   deconvnet   relu(g)                 the paper's deconvnet
//   guided      relu(g) · [y > 0]       guided backpropagation
//   gradient    g · [y > 0]             the exact gradient (saliency)
//
// Each layer takes its own step (project_step in layers/layer.hpp): a rectifier rectifies, a
// normalisation passes the signal or takes its backward, every other layer runs its backward
// without parameter gradients.
//
// Threads: a projection reads a trace and writes that trace's scratch. Deconvnet(model) projects
// from the model's own trace and belongs to the thread that holds the model (model.hpp);
// Deconvnet(model, trace) projects from a trace that a thread recorded with
// model.forward(x, trace), so threads that each own a trace may project at once from one model.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "../core/buffer.hpp"
#include "../core/error.hpp"
#include "../core/threads.hpp"
#include "../core/op_desc.hpp"
#include "../core/tensor.hpp"
#include "../layers/layer.hpp"
#include "model.hpp"
#include "selection.hpp"

namespace convis {

/// "deconvnet", "guided" or "gradient" (the command line's --mode); convis::error otherwise.
inline rectify_mode parse_rectify_mode(std::string_view name) {
    if (name == "deconvnet") return rectify_mode::deconvnet;
    if (name == "guided") return rectify_mode::guided;
    if (name == "gradient") return rectify_mode::gradient;
    throw error("rectify mode '" + std::string(name) + "': expected deconvnet, guided or gradient");
}

/// The name parse_rectify_mode reads.
inline std::string_view rectify_mode_name(rectify_mode mode) {
    switch (mode) {
        case rectify_mode::deconvnet: return "deconvnet";
        case rectify_mode::guided: return "guided";
        case rectify_mode::gradient: return "gradient";
    }
    return "?";
}

struct projection_options {
    rectify_mode mode = rectify_mode::deconvnet;
    /// Pass LRN by its true backward (true) or skip it (false). Unset: skip in deconvnet mode,
    /// backward in the other two.
    std::optional<bool> lrn_backward;
    /// CPU threads for the projection. 0 (the default) decides from the signal: at most
    /// sparse_per_image non-zero values per image — single activations, the paper's projections —
    /// run on the calling thread. Such a projection touches only the activations' receptive fields
    /// (the transposed convolutions crop to them) and is too little work to share: measured on
    /// ZFNet's pool5 → pixels with 2 threads, 6.7 ms on one thread against 24 ms with the thread
    /// pool, whose waiting threads slowed every serial step. Denser signals use convis::threads().
    int threads = 0;
    static constexpr int sparse_per_image = 64;
};

template <class M>
class Deconvnet {
public:
    using model_type = M;
    using net_type = typename M::net_type;
    using policy_type = typename M::policy_type;
    using value_type = typename M::value_type;
    using input_shape = typename M::input_shape;
    using trace_type = typename M::trace_type;
    template <int I>
    using shape_after = typename net_type::template shape_after<I>;

    /// Projects from the model's own trace (its last forward).
    explicit Deconvnet(M& model) : model_(model), trace_(model.trace()) {}
    /// Projects from `trace`, recorded by model.forward(x, trace); the model is only read.
    Deconvnet(const M& model, trace_type& trace) : model_(model), trace_(trace) {}

    /// Projects `signal` (host memory), given at layer I's output for the batch of the model's
    /// last forward, down to the input. The result, readable on the host, stays valid until the
    /// next projection. On a device policy the signal is uploaded and the result downloaded once.
    template <int I>
    TensorView<input_shape, const value_type> project(TensorView<shape_after<I>, const value_type> signal,
                                                      const projection_options& o = {}) {
        return {project_down<I>(signal, o, -1), trace_.batch()};
    }

    /// The same for a layer chosen at run time: `signal` holds batch × that layer's output size
    /// values (Net::layer_table()[layer].output per sample), laid out as output_data(layer).
    TensorView<input_shape, const value_type> project(int layer, const value_type* signal,
                                                      const projection_options& o = {}) {
        return {project_between(layer, -1, signal, o), trace_.batch()};
    }

    /// Projects `signal` at layer `from`'s output only down to layer `to`'s output (to < from; -1:
    /// the input): batch × that layer's output size values, readable on the host, valid until the
    /// next projection. In gradient mode this is d(signal · output(from)) / d output(to) — what the
    /// Grad-CAM family reads at its layer.
    const value_type* project_between(int from, int to, const value_type* signal, const projection_options& o = {}) {
        if (to < -1 || to >= from)
            throw error("Deconvnet::project_between: layer " + std::to_string(to) + " is not below layer " +
                        std::to_string(from));
        const value_type* out = nullptr;
        net_type::visit(from, [&](auto i) {
            constexpr int I = decltype(i)::value;
            out = project_down<I>(TensorView<shape_after<I>, const value_type>{signal, trace_.batch(),
                                                                               net_type::template sample_size<I>(trace_.classes())},
                                  o, to);
        });
        return out;
    }

    /// A signal at layer I that keeps one activation per image, (channel, y, x), at its own value
    /// (the selections are net/selection.hpp's over the trace's layer I).
    template <int I>
    Tensor<shape_after<I>, value_type> select_activation(int channel, int y, int x) const {
        auto s = signal_for<I>();
        convis::select_activation(map<I>(), channel, y, x, s.data());
        return s;
    }

    /// A signal at layer I that keeps, per image, the strongest activation of `channel` (the first
    /// maximum in row-major order); `where` receives their positions.
    template <int I>
    Tensor<shape_after<I>, value_type> select_strongest(int channel, std::vector<activation_position>* where = nullptr) const {
        auto s = signal_for<I>();
        convis::select_strongest(map<I>(), channel, s.data(), where);
        return s;
    }

    /// A signal at layer I that keeps, for each listed position, that one activation of image
    /// `p.image` of the batch at its own value (p.value is ignored: the trace's value is used).
    /// Images not listed get no signal; an image may be listed more than once.
    template <int I>
    Tensor<shape_after<I>, value_type> select_positions(const std::vector<activation_position>& positions) const {
        auto s = signal_for<I>();
        convis::select_positions(map<I>(), positions, s.data());
        return s;
    }

    /// A signal at layer I that keeps the whole map of `channel`.
    template <int I>
    Tensor<shape_after<I>, value_type> select_channel(int channel) const {
        auto s = signal_for<I>();
        convis::select_channel(map<I>(), channel, s.data());
        return s;
    }

private:
    /// project() and project_between(): the signal at layer I's output down to layer `stop`'s
    /// output (-1: the input), returned in host memory.
    template <int I>
    const value_type* project_down(TensorView<shape_after<I>, const value_type> signal, const projection_options& o,
                                   int stop) {
        const int batch = trace_.batch();
        if (batch == 0) throw error("Deconvnet::project: run the model forward first (the projection reads its trace)");
        if (signal.batch() != batch)
            throw error("Deconvnet::project: the signal holds " + std::to_string(signal.batch()) +
                        " samples, the trace " + std::to_string(batch));
        if (signal.sample_size != net_type::template sample_size<I>(trace_.classes()))
            throw error("Deconvnet::project: the signal has " + std::to_string(signal.sample_size) +
                        " values per sample, layer " + net_type::name(I) + " " +
                        std::to_string(net_type::template sample_size<I>(trace_.classes())));
        for (auto& b : buf_) b.resize(std::size_t(batch) * model_.largest_sample());
        ops<policy_type>::upload(signal.size(), signal.data(), buf_[0].data());
        const bool lrn = o.lrn_backward.value_or(o.mode != rectify_mode::deconvnet);
        const scoped_threads limit(projection_threads(signal, o));
        const int slot = down<I>(0, o.mode, lrn, stop);
        if constexpr (policy_type::host_memory) {
            return buf_[slot].data();
        } else {
            const std::size_t per_sample = stop < 0 ? input_shape::size : trace_.sample_size(stop);
            host_.resize(std::size_t(batch) * per_sample);
            ops<policy_type>::download(host_.size(), buf_[slot].data(), host_.data());
            return host_.data();
        }
    }

    /// projection_options::threads, with 0 decided from the signal (see there).
    template <class S>
    static int projection_threads(TensorView<S, const value_type> signal, const projection_options& o) {
        if (o.threads != 0 || !policy_type::host_memory) return o.threads;
        std::size_t nonzero = 0;
        for (const value_type v : signal.values()) nonzero += v != value_type(0);
        return nonzero <= std::size_t(projection_options::sparse_per_image) * std::size_t(signal.batch()) ? 1 : 0;
    }

    /// Layer I's output in the trace, for the selections.
    template <int I>
    activation_map<value_type> map() const {
        using S = shape_after<I>;
        const auto a = trace_.template output<I>();
        const int plane = S::height * S::width;
        return {a.data(), a.batch(), int(a.sample_size) / plane, S::height, S::width, net_type::name(I)};
    }

    /// A zeroed signal at layer I for the trace's batch.
    template <int I>
    Tensor<shape_after<I>, value_type> signal_for() const {
        using S = shape_after<I>;
        if constexpr (S::is_static) return Tensor<S, value_type>(trace_.batch());
        else return Tensor<S, value_type>(trace_.batch(), net_type::template sample_size<I>(trace_.classes()));
    }

    /// The signal at layer J's output is in buf_[slot]; returns the slot holding layer `stop`'s
    /// output's (-1: the input's).
    template <int J>
    int down(int slot, rectify_mode mode, bool lrn_backward, int stop) {
        if (J == stop) return slot;
        using In = typename net_type::template shape_before<J>;
        using T = value_type;
        const project_args<T, policy_type> a{trace_.batch(),
                                             trace_.buffer(J),
                                             trace_.buffer(J + 1),
                                             buf_[slot].data(),
                                             buf_[1 - slot].data(),
                                             model_.parameters().data() + net_type::template parameter_offset<J>(),
                                             mode,
                                             lrn_backward,
                                             &trace_.work()};
        project_step<In>(model_.template layer<J>(), a, trace_.template state<J>());
        if constexpr (J > 0) return down<J - 1>(1 - slot, mode, lrn_backward, stop);
        else return 1 - slot;
    }

    const M& model_;
    trace_type& trace_;
    typename policy_type::template buffer<value_type> buf_[2];
    host_buffer<value_type> host_;  // the result, copied out of a device policy's memory
};

}  // namespace convis
