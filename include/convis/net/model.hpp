#pragma once
// Model<Net, Policy, T>: a network's parameters, activations and scratch on one policy.
//
// All parameters live in one contiguous buffer, with a view per layer, so that one call can
// update, save or all-reduce them; gradients mirror that layout. Activations of every layer are
// kept after a forward (they are the trace the deconvnet and the analyses read), sized from the
// compile-time shapes and the batch, allocated once and reused.
//
// Where memory lives: parameters(), gradients() and trace_buffer() are in the policy's memory (on
// a GPU, device pointers). Every other view the model hands out — forward()'s result, output(),
// output_data(), input(), input_gradient(), parameter_list() — is readable on the host: on the
// CPU it is the buffer itself; on a device policy it is a copy made by that call, in host memory
// the model keeps (valid until the next call of the same accessor or the next pass). Writes
// through parameter_list() reach a device model with upload_parameters().
//
// The trace: the activations and layer states of the last forward live in a Trace (trace.hpp)
// that the model owns; trace() gives it to readers such as the deconvnet.
//
// Threads. model.forward(x, trace) only reads the model: any number of threads may run it at
// once on one model, each with its own Trace (it always runs in evaluation mode). Everything else
// writes the model — forward(x) (its own trace), backward, train/eval, seed, parameter_list()
// on a device policy, an optimiser's step, loading weights — and needs the model to itself: no
// other call on the same model, from any thread, until it returns. A GPU model is used from one
// thread at a time (backend/gpu/device.hpp).
#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "../core/buffer.hpp"
#include "../core/error.hpp"
#include "../core/fixed_string.hpp"
#include "../core/parameter.hpp"
#include "../core/policy.hpp"
#include "../core/tensor.hpp"
#include "sequential.hpp"
#include "trace.hpp"

namespace convis {

template <network Net, class Policy = cpu, class T = float>
class Model {
public:
    using net_type = Net;
    using policy_type = Policy;
    using value_type = T;
    using trace_type = Trace<Net, Policy, T>;
    using input_shape = typename Net::input_shape;
    using output_shape = typename Net::output_shape;
    static constexpr int depth = Net::size;
    template <int I>
    using shape_after = typename Net::template shape_after<I>;
    template <int I>
    using shape_before = typename Net::template shape_before<I>;

    /// A model of a network whose shapes are all compile-time; parameters zeroed.
    Model()
        requires(!Net::dynamic_output)
        : Model(int(Net::template sample_size<depth - 1>())) {}
    /// A model with `classes` outputs: any count ≥ 1 for a network whose last layer is
    /// Linear<In, dynamic> (the zoo's networks with Classes = dynamic); for any other network it
    /// must be the output size the type fixes. Parameters zeroed.
    explicit Model(int classes) : classes_(classes) {
        Net::check_classes(classes);
        if (!Net::dynamic_output && std::size_t(classes) != Net::template sample_size<depth - 1>())
            throw error("Model: the network's output has " + std::to_string(Net::template sample_size<depth - 1>()) +
                        " values, " + std::to_string(classes) + " classes were asked for");
        params_.resize(Net::parameter_count_for(classes));
        params_.fill(T(0));
        if constexpr (Net::dynamic_output) std::get<depth - 1>(layers_).outputs = classes;
        seed(0);
    }

    /// The size of the last layer's output per sample: the class count of a classifier.
    int classes() const { return classes_; }
    /// Every layer's name, kind, output shape, parameter count and receptive field (Net::layer_table
    /// with this model's class count).
    std::vector<layer_row> layer_table() const { return Net::layer_table(classes_); }
    /// Layer I's output size per sample.
    template <int I>
    std::size_t sample_size() const { return Net::template sample_size<I>(classes_); }

    // ---- parameters ------------------------------------------------------------------------
    std::span<T> parameters() { return {params_.data(), params_.size()}; }
    std::span<const T> parameters() const { return {params_.data(), params_.size()}; }
    /// The gradient buffer, laid out as parameters(). It is allocated (zeroed) on first use, so a
    /// model that only runs forward never pays for it.
    std::span<T> gradients() {
        ensure_gradients();
        return {grads_.data(), grads_.size()};
    }
    std::span<const T> gradients() const { return {grads_.data(), grads_.size()}; }
    void zero_grad() {
        ensure_gradients();
        grads_.fill(T(0));
    }

    /// Every parameter tensor with its PyTorch name ("conv1.weight"), shape and storage, in
    /// layer order, in host memory. The gradient spans are empty until the gradient buffer exists.
    /// On a device policy the spans view a host copy made by this call: after writing through
    /// them, call upload_parameters().
    std::vector<parameter_ref<T>> parameter_list() {
        const bool grads = grads_.size() != 0;
        T* values = params_.data();
        T* gradient = grads_.data();
        if constexpr (!on_host) {
            host_params_.resize(params_.size());
            ops<Policy>::download(params_.size(), params_.data(), host_params_.data());
            values = host_params_.data();
            if (grads) {
                host_grads_.resize(grads_.size());
                ops<Policy>::download(grads_.size(), grads_.data(), host_grads_.data());
                gradient = host_grads_.data();
            }
        }
        std::vector<parameter_ref<T>> out;
        Net::for_each_index([&](auto i) {
            constexpr int I = decltype(i)::value;
            std::size_t off = Net::template parameter_offset<I>();
            for (const param_spec& p : Net::template params<I>(classes_)) {
                std::vector<std::int64_t> shape(p.dims.begin(), p.dims.begin() + p.rank);
                out.push_back({Net::name(I) + "." + std::string(p.name), std::move(shape),
                               std::span<T>(values + off, p.size),
                               grads ? std::span<T>(gradient + off, p.size) : std::span<T>(), p.fan_in,
                               p.is_bias, p.is_buffer, p.constant_init});
                off += p.size;
            }
        });
        return out;
    }

    /// Sends the host copy that the last parameter_list() made back to the device; on a host
    /// policy the list already is the model's memory and this does nothing.
    void upload_parameters() {
        if constexpr (!on_host) {
            if (host_params_.size() != params_.size())
                throw error("Model::upload_parameters: call parameter_list() first and write through it");
            ops<Policy>::upload(params_.size(), host_params_.data(), params_.data());
        }
    }

    // ---- layers ----------------------------------------------------------------------------
    template <int I>
    auto& layer() { return std::get<I>(layers_); }
    template <int I>
    const auto& layer() const { return std::get<I>(layers_); }
    template <fixed_string Name>
    auto& layer() {
        constexpr int i = Net::index_of(Name.view());
        static_assert(i >= 0, "convis::Model::layer<name>: the network has no layer of that name");
        return std::get<i>(layers_);
    }

    // ---- mode ------------------------------------------------------------------------------
    void train(bool on = true) { training_ = on; }
    void eval() { training_ = false; }
    bool training() const { return training_; }
    /// Reseeds every Dropout layer (each from its own index), so training runs are repeatable.
    void seed(std::uint64_t s) {
        Net::for_each_index([&](auto i) {
            constexpr int I = decltype(i)::value;
            auto& l = std::get<I>(layers_);
            if constexpr (requires { l.seed; l.calls; }) {
                l.seed = s * 0x9e3779b97f4a7c15ull + std::uint64_t(I) + 1;
                l.calls = 0;
            }
        });
    }

    // ---- passes ----------------------------------------------------------------------------
    /// Runs every layer on a batch; returns the last layer's output (valid until the next call).
    TensorView<output_shape, const T> forward(TensorView<input_shape, const T> x) {
        input_grad_ready_ = false;
        return record(x, trace_, training_, training_ ? params_.data() : nullptr);
    }

    /// Runs every layer in evaluation mode, recording into `trace` instead of the model's own:
    /// the model is only read, so threads may share it, each with its own trace. Returns the
    /// last layer's output (in `trace`, valid until its next forward).
    TensorView<output_shape, const T> forward(TensorView<input_shape, const T> x, trace_type& trace) const {
        return record(x, trace, false, nullptr);
    }

    /// Back-propagates `gy` (gradient of the loss w.r.t. the output of the last forward),
    /// accumulating parameter gradients. With input_gradient, input_gradient() holds d loss / d x.
    void backward(TensorView<output_shape, const T> gy, bool input_gradient = false) {
        const int batch = trace_.batch_;
        if (batch == 0) throw error("Model::backward: call forward first");
        if (gy.batch() != batch)
            throw error("Model::backward: gradient batch " + std::to_string(gy.batch()) +
                        " does not match the forward's batch " + std::to_string(batch));
        if (gy.sample_size != std::size_t(classes_))
            throw error("Model::backward: the gradient has " + std::to_string(gy.sample_size) + " values per sample, the output " +
                        std::to_string(classes_));
        want_input_grad_ = input_gradient;
        ensure_gradients();
        const std::size_t largest = largest_sample();
        for (auto& g : grad_) g.resize(std::size_t(batch) * largest);
        ops<Policy>::upload(gy.size(), gy.data(), grad_[0].data());
        backward_from<depth - 1>(0);
    }

    /// The output of layer I from the last forward, readable on the host.
    template <int I>
    TensorView<shape_after<I>, const T> output() const { return trace_.template output<I>(); }
    template <fixed_string Name>
    auto output() const {
        constexpr int i = Net::index_of(Name.view());
        static_assert(i >= 0, "convis::Model::output<name>: the network has no layer of that name");
        return output<i>();
    }
    /// Layer i's output of the last forward, chosen at run time, readable on the host: batch()
    /// samples of Net::layer_table()[i].output each, contiguous. For code that must not be
    /// instantiated per layer (the analyses that take a layer name); output<I>() is the typed view.
    const T* output_data(int i) const { return trace_.output_data(i); }
    /// The input of the last forward (the model keeps a copy), readable on the host.
    TensorView<input_shape, const T> input() const { return trace_.input(); }
    /// d loss / d input from the last backward(gy, true), readable on the host.
    TensorView<input_shape, const T> input_gradient() const {
        if (!input_grad_ready_) throw error("Model::input_gradient: call backward(gy, true) first");
        const int batch = trace_.batch_;
        const std::size_t n = std::size_t(batch) * input_shape::size;
        if constexpr (on_host) {
            return {grad_[input_grad_slot_].data(), batch};
        } else {
            host_grad_.resize(n);
            ops<Policy>::download(n, grad_[input_grad_slot_].data(), host_grad_.data());
            return {host_grad_.data(), batch};
        }
    }
    /// The model's own trace: what forward(x) recorded.
    const trace_type& trace() const { return trace_; }
    /// The model's own trace, for readers that also write its scratch (the deconvnet).
    trace_type& trace() { return trace_; }
    /// The largest per-sample size of the input and every layer's output (buffers for passes down
    /// the network are this times the batch).
    std::size_t largest_sample() const {
        std::size_t largest = input_shape::size;
        Net::for_each_index([&](auto i) { largest = std::max(largest, sample_size<decltype(i)::value>()); });
        return largest;
    }
    /// The trace in the policy's memory: k = 0 is the input of the last forward, k = i + 1 layer
    /// i's output. For code that runs ops on the policy (the deconvnet); the host views are above.
    const T* trace_buffer(int k) const { return trace_.buffer(k); }
    int batch() const { return trace_.batch_; }

    /// The layer states (pool switches, dropout masks, LRN denominators) of the last forward, in
    /// the policy's memory.
    template <int I>
    const auto& state() const { return trace_.template state<I>(); }
    template <int I>
    auto& state() { return trace_.template state<I>(); }
    scratch<Policy, T>& work() { return trace_.work_; }

private:
    static constexpr bool on_host = Policy::host_memory;

    void ensure_gradients() {
        if (grads_.size() == 0) {
            grads_.resize(params_.size());
            grads_.fill(T(0));
        }
    }

    /// The one forward: reads the layers and parameters, writes only `t`.
    TensorView<output_shape, const T> record(TensorView<input_shape, const T> x, trace_type& t, bool training,
                                             T* writable) const {
        if (x.batch() <= 0) throw error("Model::forward: batch size must be positive, got " + std::to_string(x.batch()));
        t.prepare(x.batch(), classes_);
        ops<Policy>::upload(x.size(), x.data(), t.acts_[0].data());
        forward_from<0>(t, training, writable);
        return t.template output<depth - 1>();
    }

    template <int I>
    void forward_from(trace_type& t, bool training, T* writable) const {
        using In = shape_before<I>;
        constexpr std::size_t off = Net::template parameter_offset<I>();
        forward_args<T, Policy> a{t.batch_, t.acts_[I].data(), t.acts_[I + 1].data(), params_.data() + off, training,
                                  &t.work_, writable ? writable + off : nullptr};
        std::get<I>(layers_).template forward<In, T, Policy>(a, std::get<I>(t.states_));
        if constexpr (I + 1 < depth) forward_from<I + 1>(t, training, writable);
    }

    /// Gradient w.r.t. layer I's output is in grad_[slot]; layer I writes its input's gradient
    /// into the other slot, unless nothing below needs it.
    template <int I>
    void backward_from(int slot) {
        using In = shape_before<I>;
        const bool need_gx = I > 0 ? (below_has_params<I>() || want_input_grad_) : want_input_grad_;
        backward_args<T, Policy> a{trace_.batch_, trace_.acts_[I].data(), trace_.acts_[I + 1].data(),
                                   grad_[slot].data(), need_gx ? grad_[1 - slot].data() : nullptr,
                                   params_.data() + Net::template parameter_offset<I>(),
                                   grads_.data() + Net::template parameter_offset<I>(), &trace_.work_};
        std::get<I>(layers_).template backward<In, T, Policy>(a, std::get<I>(trace_.states_));
        if constexpr (I > 0) {
            if (need_gx) backward_from<I - 1>(1 - slot);
        } else {
            input_grad_ready_ = want_input_grad_;
            input_grad_slot_ = 1 - slot;
        }
    }
    template <int I>
    static constexpr bool below_has_params() {
        return Net::template parameter_offset<I>() > 0;
    }

    int classes_;
    typename Net::layer_tuple layers_{};
    typename Policy::template buffer<T> params_, grads_;  // grads_ empty until first needed
    trace_type trace_{};
    std::array<typename Policy::template buffer<T>, 2> grad_{};
    // Host copies for a device policy's views (unused on the CPU).
    host_buffer<T> host_params_, host_grads_;
    mutable host_buffer<T> host_grad_;
    bool training_ = false;
    bool want_input_grad_ = false;
    bool input_grad_ready_ = false;
    int input_grad_slot_ = 0;
};

}  // namespace convis
