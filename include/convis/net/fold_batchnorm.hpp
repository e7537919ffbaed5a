#pragma once
// BatchNorm folded into the convolution before it, for inference (PyTorch's fuse_conv_bn_eval).
//
//     using Fast = convis::batchnorm_folded<convis::ResNet50<1000>>;   // no BatchNorm2d left
//     auto fast = convis::fold_batchnorm(model);     // std::unique_ptr<Model<Fast>>, same outputs
//
// batchnorm_folded<Net> is Net with every Conv2d that is directly followed by a BatchNorm2d of its
// output channels — at the top level and inside residual blocks' branches — replaced by one Conv2d
// with a bias, under the convolution's name; every other layer, and every name, stays. In
// evaluation a BatchNorm is the per-channel affine map y = s·(x − μ) + β with s = γ/√(var + ε), so
// the folded convolution has weights s·W and bias s·(b − μ) + β (b = 0 without a bias), and gives
// the same outputs up to float rounding with one pass over memory fewer per pair.
//
// The folded model is for inference and for the analyses: it has no running statistics to train,
// and the trace holds the folded convolution's output where the original held the BatchNorm's (the
// convolution's own output before normalisation is gone, as in PyTorch's fused module).
#include <cmath>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "../core/error.hpp"
#include "../layers/batch_norm2d.hpp"
#include "../layers/conv2d.hpp"
#include "../layers/residual.hpp"
#include "model.hpp"
#include "sequential.hpp"

namespace convis {

namespace fold_detail {
template <class Net>
struct folded_net;
}

/// Net with each Conv2d + BatchNorm2d pair folded into one Conv2d with a bias (see above).
template <network Net>
using batchnorm_folded = typename fold_detail::folded_net<Net>::type;

/// A new model of batchnorm_folded<Net> with `model`'s parameters, every pair folded with the
/// running statistics and each BatchNorm's own eps. `model` is only read (its host view).
template <network Net, class Policy, class T>
std::unique_ptr<Model<batchnorm_folded<Net>, Policy, T>> fold_batchnorm(Model<Net, Policy, T>& model);

// ---- details ------------------------------------------------------------------------------------

namespace fold_detail {

template <class L>
using bare = typename detail::unnamed<L>::type;

template <class L>
struct conv_out : std::integral_constant<int, -1> {};
template <int I, int O, int K, int S, int P, bool B>
struct conv_out<Conv2d<I, O, K, S, P, B>> : std::integral_constant<int, O> {};
template <class L>
struct bn_channels : std::integral_constant<int, -2> {};
template <int C>
struct bn_channels<BatchNorm2d<C>> : std::integral_constant<int, C> {};

/// Whether A then B is a foldable pair.
template <class A, class B>
inline constexpr bool pair = conv_out<bare<A>>::value == bn_channels<bare<B>>::value;

template <class L>
struct with_bias;
template <int I, int O, int K, int S, int P, bool B>
struct with_bias<Conv2d<I, O, K, S, P, B>> {
    using type = Conv2d<I, O, K, S, P, true>;
};
template <fixed_string N, class L>
struct with_bias<Named<N, L>> {
    using type = Named<N, typename with_bias<L>::type>;
};

template <class... Ls>
struct list {};

template <class L>
struct fold_layer {
    using type = L;
};

/// Folds a layer list left to right; Step chooses lazily, so each layer is looked at once.
template <class Done, class... Rest>
struct fold_list;
template <bool Pair, class Done, class A, class B, class... Rest>
struct fold_step;

template <class... Done>
struct fold_list<list<Done...>> {
    using type = list<Done...>;
};
template <class... Done, class A>
struct fold_list<list<Done...>, A> {
    using type = list<Done..., typename fold_layer<A>::type>;
};
template <class... Done, class A, class B, class... Rest>
struct fold_list<list<Done...>, A, B, Rest...> {
    using type = typename fold_step<pair<A, B>, list<Done...>, A, B, Rest...>::type;
};
template <class... Done, class A, class B, class... Rest>
struct fold_step<true, list<Done...>, A, B, Rest...> {
    using type = typename fold_list<list<Done..., typename with_bias<A>::type>, Rest...>::type;
};
template <class... Done, class A, class B, class... Rest>
struct fold_step<false, list<Done...>, A, B, Rest...> {
    using type = typename fold_list<list<Done..., typename fold_layer<A>::type>, B, Rest...>::type;
};

template <template <class...> class Into, class List>
struct rewrap;
template <template <class...> class Into, class... Ls>
struct rewrap<Into, list<Ls...>> {
    using type = Into<Ls...>;
};
template <template <class...> class Into, class... Ls>
using folded_into = typename rewrap<Into, typename fold_list<list<>, Ls...>::type>::type;

template <class... B, class... S, class Then>
struct fold_layer<Residual<Body<B...>, Shortcut<S...>, Then>> {
    using type = Residual<folded_into<Body, B...>, folded_into<Shortcut, S...>, Then>;
};
template <fixed_string N, class L>
struct fold_layer<Named<N, L>> {
    using type = Named<N, typename fold_layer<L>::type>;
};

template <int C, int H, int W, class... Ls>
struct folded_net<Sequential<Input<C, H, W>, Ls...>> {
    template <class... F>
    using seq = Sequential<Input<C, H, W>, F...>;
    using type = folded_into<seq, Ls...>;
};

/// Every BatchNorm2d's eps in parameter order: the top level's and the residual blocks' branches'.
template <class L>
void collect_eps(const L& layer, std::vector<double>& out) {
    if constexpr (bn_channels<L>::value > 0) {
        out.push_back(layer.eps);
    } else if constexpr (requires { layer.body_layers; layer.shortcut_layers; }) {
        std::apply([&](const auto&... l) { (collect_eps(l, out), ...); }, layer.body_layers);
        std::apply([&](const auto&... l) { (collect_eps(l, out), ...); }, layer.shortcut_layers);
    }
}

/// Whether list[at..at+3] are one BatchNorm2d's γ, β, running mean and running variance.
template <class List>
bool batchnorm_at(const List& list, std::size_t at) {
    return at + 3 < list.size() && list[at + 2].is_buffer && list[at + 3].is_buffer &&
           list[at + 2].name.ends_with(".running_mean") && list[at + 3].name.ends_with(".running_var");
}

/// "layer1.0.conv1" of "layer1.0.conv1.weight".
inline std::string_view owner(std::string_view parameter) { return parameter.substr(0, parameter.rfind('.')); }

}  // namespace fold_detail

template <network Net, class Policy, class T>
std::unique_ptr<Model<batchnorm_folded<Net>, Policy, T>> fold_batchnorm(Model<Net, Policy, T>& model) {
    using Folded = batchnorm_folded<Net>;
    auto out = std::make_unique<Model<Folded, Policy, T>>(model.classes());
    std::vector<double> eps;
    Net::for_each_index([&](auto i) { fold_detail::collect_eps(model.template layer<decltype(i)::value>(), eps); });

    const auto from = model.parameter_list();
    auto to = out->parameter_list();
    std::size_t s = 0, bn = 0;
    const auto mismatch = [&](std::size_t d) {
        return error("fold_batchnorm: parameter " + std::to_string(d) + " of the folded network, '" + to[d].name +
                     "', has no counterpart at '" + (s < from.size() ? from[s].name : std::string("the end")) +
                     "' of the original");
    };
    for (std::size_t d = 0; d < to.size(); ++d, ++s) {
        if (s >= from.size() || from[s].name != to[d].name || from[s].values.size() != to[d].values.size())
            throw mismatch(d);
        // A folded pair: a convolution's weight whose twin is followed by its own bias, and whose
        // original is followed (after its bias, if it had one) by a BatchNorm the twin lacks.
        const bool conv = from[s].shape.size() == 4 && d + 1 < to.size() && to[d + 1].is_bias &&
                          fold_detail::owner(to[d + 1].name) == fold_detail::owner(to[d].name);
        const bool had_bias = conv && s + 1 < from.size() && from[s + 1].name == to[d + 1].name;
        const std::size_t g = s + 1 + std::size_t(had_bias);  // where the BatchNorm's γ would be
        const bool folded = conv && fold_detail::batchnorm_at(from, g) &&
                            (d + 2 >= to.size() || to[d + 2].name != from[g].name);
        if (!folded) {
            std::copy(from[s].values.begin(), from[s].values.end(), to[d].values.begin());
            if (from[s].name.ends_with(".running_var")) ++bn;
            continue;
        }
        if (bn >= eps.size()) throw error("fold_batchnorm: more BatchNorm2d tensors than layers (internal)");
        const double e = eps[bn++];
        const std::size_t channels = to[d + 1].values.size();
        const std::size_t per = to[d].values.size() / channels;
        for (std::size_t c = 0; c < channels; ++c) {
            const double scale = double(from[g].values[c]) / std::sqrt(double(from[g + 3].values[c]) + e);
            for (std::size_t k = 0; k < per; ++k) to[d].values[c * per + k] = T(scale * double(from[s].values[c * per + k]));
            const double b = had_bias ? double(from[s + 1].values[c]) : 0.0;
            to[d + 1].values[c] = T(scale * (b - double(from[g + 2].values[c])) + double(from[g + 1].values[c]));
        }
        ++d;        // the folded bias is written
        s = g + 3;  // past the BatchNorm's four tensors
    }
    if (s != from.size()) throw mismatch(to.size() - 1);
    out->upload_parameters();
    return out;
}

}  // namespace convis
