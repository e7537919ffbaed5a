#pragma once
// Trace<Net, Policy, T>: one recorded forward pass — its input, every layer's output, every
// layer's state (pool switches, dropout masks, LRN denominators) and the scratch the ops used.
//
// A Model keeps one trace of its own: model.forward(x) records into it, and the deconvnet and the
// analyses read it. For inference from several threads at once, each thread owns a Trace and calls
// model.forward(x, trace), which only reads the model:
//
//     Trace<Net> mine;                       // one per thread; buffers grow once, then are reused
//     const auto logits = model.forward(x, mine);
//     const auto pool5 = mine.output<"pool5">();
//
// Threads: a Trace is written by the forward that records into it; use each from one thread.
#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <tuple>
#include <utility>

#include "../core/buffer.hpp"
#include "../core/error.hpp"
#include "../core/fixed_string.hpp"
#include "../core/policy.hpp"
#include "../core/tensor.hpp"
#include "../layers/layer.hpp"
#include "sequential.hpp"

namespace convis {

template <network Net, class Policy, class T>
class Model;

template <network Net, class Policy = cpu, class T = float>
class Trace {
public:
    using net_type = Net;
    using input_shape = typename Net::input_shape;
    static constexpr int depth = Net::size;
    template <int I>
    using shape_after = typename Net::template shape_after<I>;
    template <int I>
    using shape_before = typename Net::template shape_before<I>;

    /// Samples in the recorded pass; 0 before the first.
    int batch() const { return batch_; }

    /// Layer I's output, readable on the host (see Model: on a device policy, a copy made now).
    template <int I>
    TensorView<shape_after<I>, const T> output() const {
        return {host_view(I + 1), batch_, Net::template sample_size<I>(classes_)};
    }
    /// The class count of the model that recorded this trace (its last layer's output size).
    int classes() const { return classes_; }
    template <fixed_string Name>
    auto output() const {
        constexpr int i = Net::index_of(Name.view());
        static_assert(i >= 0, "convis::Trace::output<name>: the network has no layer of that name");
        return output<i>();
    }
    /// Layer i's output chosen at run time, readable on the host: batch() samples of
    /// Net::layer_table()[i].output each, contiguous.
    const T* output_data(int i) const {
        if (i < 0 || i >= depth)
            throw error("Trace::output_data: layer " + std::to_string(i) + " is outside 0.." + std::to_string(depth - 1));
        return host_view(i + 1);
    }
    /// The recorded input, readable on the host.
    TensorView<input_shape, const T> input() const { return {host_view(0), batch_}; }

    /// Layer i's output size per sample, chosen at run time.
    std::size_t sample_size(int i) const {
        std::size_t n = 0;
        Net::visit(i, [&](auto c) { n = Net::template sample_size<decltype(c)::value>(classes_); });
        return n;
    }

    /// Slot k in the policy's memory: k = 0 is the input, k = i + 1 layer i's output.
    const T* buffer(int k) const { return acts_[std::size_t(k)].data(); }
    template <int I>
    const auto& state() const { return std::get<I>(states_); }
    template <int I>
    auto& state() { return std::get<I>(states_); }
    scratch<Policy, T>& work() { return work_; }

private:
    friend class Model<Net, Policy, T>;
    static constexpr bool on_host = Policy::host_memory;

    template <std::size_t... I>
    static auto make_states(std::index_sequence<I...>)
        -> std::tuple<layer_state<typename Net::template layer<int(I)>, shape_before<int(I)>, T, Policy>...>;
    using states_tuple = decltype(make_states(std::make_index_sequence<depth>{}));

    /// Sizes every slot for `batch` samples; buffers only grow, so a repeated batch allocates nothing.
    void prepare(int batch, int classes) {
        batch_ = batch;
        classes_ = classes;
        acts_[0].resize(std::size_t(batch) * input_shape::size);
        Net::for_each_index([&](auto i) {
            constexpr int I = decltype(i)::value;
            acts_[I + 1].resize(std::size_t(batch) * Net::template sample_size<I>(classes));
        });
    }

    const T* host_view(int k) const {
        if constexpr (on_host) {
            return acts_[std::size_t(k)].data();
        } else {
            auto& h = host_acts_[std::size_t(k)];
            h.resize(acts_[std::size_t(k)].size());
            ops<Policy>::download(h.size(), acts_[std::size_t(k)].data(), h.data());
            return h.data();
        }
    }

    states_tuple states_{};
    std::array<typename Policy::template buffer<T>, depth + 1> acts_{};
    scratch<Policy, T> work_{};
    mutable std::array<host_buffer<T>, depth + 1> host_acts_{};  // a device policy's host copies
    int batch_ = 0;
    int classes_ = 0;
};

}  // namespace convis
