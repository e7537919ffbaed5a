#pragma once
// Residual<Body<...>, Shortcut<...>, Then>: a residual block as one layer of the flat Sequential
// (ResNet's BasicBlock and Bottleneck):
//
//     y = then(body(x) + shortcut(x))
//
// Body and Shortcut list layers as a Sequential does (Named or not); an empty Shortcut<> is the
// identity; Then is a pointwise layer after the sum (ReLU in ResNet; NoLayer for none). The block's
// parameters are its branches', named "<block>.<sublayer>.<param>" — name the sublayers as
// torchvision does (conv1, bn1, ..., downsample.0, downsample.1) and a torchvision state_dict
// loads as it is. An unnamed sublayer is "body.<i>" or "shortcut.<i>".
//
// Both branches' shapes are checked at compile time: a mismatch names the block's index, the
// block, and both shapes (body_gives<C, H, W>, but_shortcut_gives<C, H, W>).
//
// Backward and the deconvnet: the signal at the output goes through Then, then down both branches
// — each sublayer taking its own step (project_step) — and the two results are summed at the split.
// The block keeps its sublayers' outputs and states in its layer state (part of the trace).
#include <array>
#include <cstddef>
#include <string_view>
#include <tuple>
#include <utility>

#include "../net/sequential.hpp"
#include "layer.hpp"

namespace convis {

template <class... Layers>
struct Body {};
template <class... Layers>
struct Shortcut {};

/// No layer after the sum (Then of a block without one).
struct NoLayer : pointwise_layer {
    static constexpr std::string_view kind = "Identity";
    template <class S, class T, class P>
    void forward(const forward_args<T, P>& a, no_state&) const { ops<P>::copy(std::size_t(a.batch) * S::size, a.x, a.y); }
    template <class S, class T, class P>
    void backward(const backward_args<T, P>& a, no_state&) const {
        if (a.gx) ops<P>::copy(std::size_t(a.batch) * S::size, a.gy, a.gx);
    }
};

namespace residual_detail {
/// A branch over input shape In: the layers as a Sequential, or nothing (the identity).
template <class In, class... Ls>
struct branch {
    using net = Sequential<Input<In::channels, In::height, In::width>, Ls...>;
    static constexpr int size = net::size;
    using output = typename net::output_shape;
    static constexpr std::size_t parameter_count = net::parameter_count;
};
template <class In>
struct branch<In> {
    static constexpr int size = 0;
    using output = In;
    static constexpr std::size_t parameter_count = 0;
};

constexpr std::size_t digits(int i) { return i < 10 ? 1 : 1 + digits(i / 10); }

/// "<prefix>.<param>" for parameter K of layer I of a branch, in static storage.
template <class Net, int I, std::size_t K, fixed_string Unnamed>
struct param_name {
    static constexpr std::string_view layer = Net::given_names[I];
    static constexpr std::string_view param = Net::template params<I>()[K].name;
    static constexpr bool named = Net::has_name[I];
    static constexpr std::size_t prefix = named ? layer.size() : Unnamed.view().size() + 1 + digits(I);
    static constexpr std::size_t length = prefix + 1 + param.size();
    static constexpr std::array<char, length> chars = [] {
        std::array<char, length> c{};
        std::size_t n = 0;
        if constexpr (named) {
            for (char ch : layer) c[n++] = ch;
        } else {
            for (char ch : Unnamed.view()) c[n++] = ch;
            c[n++] = '.';
            for (std::size_t d = digits(I), v = std::size_t(I); d > 0; --d, v /= 10) c[n + d - 1] = char('0' + v % 10);
            n += digits(I);
        }
        c[n++] = '.';
        for (char ch : param) c[n++] = ch;
        return c;
    }();
    static constexpr std::string_view value{chars.data(), length};
};
}  // namespace residual_detail

template <class BodyList, class ShortcutList = Shortcut<>, class Then = NoLayer>
struct Residual;

template <class... B, class... S, class Then>
struct Residual<Body<B...>, Shortcut<S...>, Then> {
    static_assert(sizeof...(B) > 0, "Residual: the body needs at least one layer");
    static constexpr std::string_view kind = "Residual";

    template <class In>
    using body = residual_detail::branch<In, B...>;
    template <class In>
    using shortcut = residual_detail::branch<In, S...>;
    template <class In>
    using sum_shape = typename body<In>::output;
    template <class In>
    using output = typename Then::template output<sum_shape<In>>;

    /// Run-time settings of the sublayers (a BatchNorm's eps), in branch order.
    std::tuple<typename detail::unnamed<B>::type...> body_layers{};
    std::tuple<typename detail::unnamed<S>::type...> shortcut_layers{};
    Then then{};

    template <int I, class In>
    static constexpr bool fits() {
        using Bo = typename body<In>::output;
        using So = typename shortcut<In>::output;
        return require_fit<std::is_same_v<Bo, So>, at_layer<I>, Residual,
                           body_gives<Bo::channels, Bo::height, Bo::width>,
                           but_shortcut_gives<So::channels, So::height, So::width>>();
    }

    template <class In>
    static constexpr auto params() {
        return join_params<In>(std::make_index_sequence<sizeof...(B)>{}, std::make_index_sequence<sizeof...(S)>{});
    }

    /// The body's receptive field (a shortcut's is never wider).
    template <class In>
    static constexpr receptive_field field(receptive_field rf) {
        return field_from<In, 0>(rf);
    }

    /// Every sublayer's output and state, the sum, and the gradients passing down the branches.
    template <class In, class T, class P>
    struct state {
        template <class Net, std::size_t... I>
        static auto states(std::index_sequence<I...>)
            -> std::tuple<layer_state<typename Net::template layer<int(I)>, typename Net::template shape_before<int(I)>, T, P>...>;
        template <class Br>
        struct branch_state {
            std::array<typename P::template buffer<T>, std::size_t(Br::size)> acts{};
            decltype(states<typename Br::net>(std::make_index_sequence<std::size_t(Br::size)>{})) layers{};
        };
        struct empty_branch {};
        template <class Br>
        using of = std::conditional_t<Br::size == 0, empty_branch, branch_state<Br>>;

        of<body<In>> body_state;
        of<shortcut<In>> shortcut_state;
        typename P::template buffer<T> sum;       ///< body(x) + shortcut(x), Then's input
        layer_state<Then, sum_shape<In>, T, P> then_state{};
        // Backward and projection only: the gradient at the sum, each branch's ping-pong pair,
        // and the shortcut's result at the input.
        typename P::template buffer<T> at_sum, side;
        std::array<typename P::template buffer<T>, 2> body_grad{}, shortcut_grad{};
    };

    template <class In, class T, class P>
    void forward(const forward_args<T, P>& a, state<In, T, P>& st) const {
        using Bo = sum_shape<In>;
        const std::size_t n = std::size_t(a.batch) * Bo::size;
        st.sum.resize(n);
        const T* b = run_forward<In, body<In>, 0>(body_layers, a, st.body_state, 0);
        const T* s = a.x;
        if constexpr (sizeof...(S) > 0) s = run_forward<In, shortcut<In>, 0>(shortcut_layers, a, st.shortcut_state, body<In>::parameter_count);
        ops<P>::add(n, b, s, st.sum.data());
        forward_args<T, P> t{a.batch, st.sum.data(), a.y, nullptr, a.training, a.work, nullptr};
        then.template forward<Bo, T, P>(t, st.then_state);
    }

    template <class In, class T, class P>
    void backward(const backward_args<T, P>& a, state<In, T, P>& st) const {
        down<In, false>(a.batch, a.x, a.y, a.gy, a.gx, a.params, a.grads, a.work, rectify_mode::gradient, false, st);
    }
    template <class In, class T, class P>
    void project(const project_args<T, P>& a, state<In, T, P>& st) const {
        down<In, true>(a.batch, a.x, a.y, a.g, a.out, a.params, static_cast<T*>(nullptr), a.work, a.mode, a.lrn_backward,
                       st);
    }

private:
    template <class In, std::size_t... I, std::size_t... J>
    static constexpr auto join_params(std::index_sequence<I...>, std::index_sequence<J...>) {
        constexpr std::size_t nb = (std::size_t(0) + ... + count<typename body<In>::net, int(I)>());
        constexpr std::size_t ns = (std::size_t(0) + ... + count<typename shortcut<In>::net, int(J)>());
        std::array<param_spec, nb + ns> out{};
        std::size_t k = 0;
        (append<typename body<In>::net, int(I), "body">(out, k), ...);
        if constexpr (sizeof...(S) > 0) (append<typename shortcut<In>::net, int(J), "shortcut">(out, k), ...);
        return out;
    }
    template <class Net, int I>
    static constexpr std::size_t count() { return Net::template params<I>().size(); }
    template <class Net, int I, fixed_string Unnamed, std::size_t N>
    static constexpr void append(std::array<param_spec, N>& out, std::size_t& k) {
        constexpr auto specs = Net::template params<I>();
        [&]<std::size_t... K>(std::index_sequence<K...>) {
            ((out[k + K] = specs[K], out[k + K].name = residual_detail::param_name<Net, I, K, Unnamed>::value), ...);
        }(std::make_index_sequence<specs.size()>{});
        k += specs.size();
    }

    template <class In, int I>
    static constexpr receptive_field field_from(receptive_field rf) {
        using Net = typename body<In>::net;
        if constexpr (I == Net::size) return rf;
        else return field_from<In, I + 1>(Net::template layer<I>::template field<typename Net::template shape_before<I>>(rf));
    }

    /// Runs branch Br's layers from sublayer I on; returns its output.
    template <class In, class Br, int I, class Layers, class T, class P, class St>
    static const T* run_forward(const Layers& layers, const forward_args<T, P>& a, St& st, std::size_t base) {
        using Net = typename Br::net;
        using L = typename Net::template shape_before<I>;
        constexpr std::size_t off = Net::template parameter_offset<I>();
        st.acts[I].resize(std::size_t(a.batch) * Net::template shape_after<I>::size);
        const forward_args<T, P> f{a.batch, I == 0 ? a.x : st.acts[I - 1].data(), st.acts[I].data(), a.params + base + off,
                                   a.training, a.work, a.running ? a.running + base + off : nullptr};
        std::get<I>(layers).template forward<L, T, P>(f, std::get<I>(st.layers));
        if constexpr (I + 1 < Net::size) return run_forward<In, Br, I + 1>(layers, a, st, base);
        else return st.acts[I].data();
    }

    /// From the gradient (or signal) g at the block's output to `out` at its input: through Then,
    /// down each branch, summed. Project: each sublayer's deconvnet step; else its backward with
    /// parameter gradients into `grads` (when given). `out` may be null (nothing below needs it):
    /// the branches then still accumulate their parameter gradients.
    template <class In, bool Project, class T, class P>
    void down(int batch, const T* x, const T* y, const T* g, T* out, const T* params, T* grads, scratch<P, T>* work,
              rectify_mode mode, bool lrn, state<In, T, P>& st) const {
        using Bo = sum_shape<In>;
        const std::size_t in_n = std::size_t(batch) * In::size;
        st.at_sum.resize(std::size_t(batch) * Bo::size);
        step<Bo, Project>(then, batch, st.sum.data(), y, g, st.at_sum.data(), static_cast<const T*>(nullptr),
                          static_cast<T*>(nullptr), work, mode, lrn, st.then_state);
        const T* from_shortcut = st.at_sum.data();  // the identity
        if constexpr (sizeof...(S) > 0) {
            if (out || grads) {
                if (out) st.side.resize(in_n);
                size_pair<typename shortcut<In>::net>(st.shortcut_grad, batch);
                branch_down<shortcut<In>, Project, shortcut<In>::size - 1>(
                    shortcut_layers, batch, x, st.at_sum.data(), out ? st.side.data() : nullptr, params, grads,
                    body<In>::parameter_count, work, mode, lrn, st.shortcut_state, st.shortcut_grad);
                from_shortcut = st.side.data();
            }
        }
        size_pair<typename body<In>::net>(st.body_grad, batch);
        branch_down<body<In>, Project, body<In>::size - 1>(body_layers, batch, x, st.at_sum.data(), out, params, grads, 0,
                                                          work, mode, lrn, st.body_state, st.body_grad);
        if (out) ops<P>::add(in_n, out, from_shortcut, out);
    }

    template <class Net, class Pair>
    static void size_pair(Pair& pair, int batch) {
        std::size_t largest = 0;
        Net::for_each_index([&](auto i) {
            largest = std::max<std::size_t>(largest, Net::template shape_after<decltype(i)::value>::size);
        });
        for (auto& b : pair) b.resize(std::size_t(batch) * largest);
    }

    /// Sublayer I of branch Br: from `g` at its output to its input — `out` for sublayer 0, else
    /// the pair's buffer for this depth (alternating, so a step never writes what it reads).
    template <class Br, bool Project, int I, class Layers, class T, class P, class BrState, class Pair>
    static void branch_down(const Layers& layers, int batch, const T* x, const T* g, T* out, const T* params, T* grads,
                            std::size_t base, scratch<P, T>* work, rectify_mode mode, bool lrn, BrState& bs, Pair& pair) {
        using Net = typename Br::net;
        using L = typename Net::template shape_before<I>;
        constexpr std::size_t off = Net::template parameter_offset<I>();
        T* dst = I == 0 ? out : pair[std::size_t((Br::size - 1 - I) % 2)].data();
        const T* in = I == 0 ? x : bs.acts[I - 1].data();
        step<L, Project>(std::get<I>(layers), batch, in, bs.acts[I].data(), g, dst, params + base + off,
                         grads ? grads + base + off : nullptr, work, mode, lrn, std::get<I>(bs.layers));
        if constexpr (I > 0) branch_down<Br, Project, I - 1>(layers, batch, x, dst, out, params, grads, base, work, mode, lrn, bs, pair);
    }

    template <class Shp, bool Project, class L, class T, class P, class LS>
    static void step(const L& layer, int batch, const T* x, const T* y, const T* g, T* dst, const T* params, T* grads,
                     scratch<P, T>* work, rectify_mode mode, bool lrn, LS& ls) {
        if constexpr (Project) {
            const project_args<T, P> a{batch, x, y, g, dst, params, mode, lrn, work};
            project_step<Shp>(layer, a, ls);
        } else {
            const backward_args<T, P> a{batch, x, y, g, dst, params, grads, work};
            layer.template backward<Shp, T, P>(a, ls);
        }
    }
};

}  // namespace convis
