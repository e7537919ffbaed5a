#pragma once
// Sequential<Input<C,H,W>, Layers...>: a network as a type, like nn.Sequential.
//
// The chain is flat. Shapes flow from the input: layer I reads shape_before<I> and writes
// shape_after<I>; each layer checks at compile time that it fits, naming itself and both numbers
// when it does not. Receptive fields, cumulative strides and offsets are compile-time constants.
// A layer is named with Named<"conv1", Conv2d<...>>; an unnamed layer is named by its index, as
// nn.Sequential names its children.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/fixed_string.hpp"
#include "../core/receptive_field.hpp"
#include "../core/shape.hpp"
#include "../layers/layer.hpp"

namespace convis {

/// The network's input: one sample is C × H × W.
template <int C, int H, int W>
struct Input {
    using shape = Shape<C, H, W>;
};

/// Gives a layer a name ("conv1"), used for parameters ("conv1.weight") and look-ups.
template <fixed_string Name, class Layer>
struct Named {
    using layer = Layer;
    static constexpr std::string_view name = Name;
};

namespace detail {
template <class L>
struct unnamed {
    using type = L;
    static constexpr bool has_name = false;
    static constexpr std::string_view name{};
};
template <fixed_string N, class L>
struct unnamed<Named<N, L>> {
    using type = L;
    static constexpr bool has_name = true;
    static constexpr std::string_view name = N;
};

template <class... T>
struct type_list {
    static constexpr std::size_t size = sizeof...(T);
};
template <std::size_t I, class List>
struct at;
template <std::size_t I, class... T>
struct at<I, type_list<T...>> {
    using type = std::tuple_element_t<I, std::tuple<T...>>;
};

/// Folds the chain: shapes[0] is the input, shapes[I+1] the output of layer I; each layer's fit
/// is checked (instantiating its named diagnostic on failure) as the fold passes it.
template <int I, class In, class Shapes, class... Ls>
struct chain;
template <int I, class In, class... S>
struct chain<I, In, type_list<S...>> {
    using shapes = type_list<S..., In>;
};
template <int I, class In, class... S, class L, class... Rest>
struct chain<I, In, type_list<S...>, L, Rest...> {
    static_assert(layer_for<L, In>, "convis: this type is not a layer (see the layer concept in layers/layer.hpp)");
    // Evaluated for its side effect: a misfit instantiates the layer's named diagnostic.
    static_assert(L::template fits<I, In>() || true);
    static_assert(require_fit<In::is_static, at_layer<I>, L, expects_compile_time_shape, but_input_has_run_time_extent>(),
                  "convis: only a network's last layer may have a run-time (dynamic) extent; a layer follows one here");
    using shapes = typename chain<I + 1, typename L::template output<In>, type_list<S..., In>, Rest...>::shapes;
};

template <bool Dynamic>
constexpr std::size_t only_for_static_output(std::size_t n) {
    static_assert(!Dynamic, "convis: this network's class count is a run-time value: use parameter_count_for(classes) "
                            "or Model::parameters().size()");
    return n;
}

constexpr std::size_t digits(std::size_t i) { return i < 10 ? 1 : 1 + digits(i / 10); }
}  // namespace detail

/// One row of a network's layer table.
struct layer_row {
    int index;
    std::string name;
    std::string_view kind;
    std::vector<std::int64_t> output;  ///< one sample's output shape, PyTorch style: {C, H, W} or {F}
    std::size_t parameters;
    receptive_field field;
};

template <class InputSpec, class... Layers>
struct Sequential;

template <int C, int H, int W, class... Ls>
struct Sequential<Input<C, H, W>, Ls...> {
    static_assert(sizeof...(Ls) > 0, "convis::Sequential needs at least one layer");

    /// The number of layers.
    static constexpr int size = int(sizeof...(Ls));
    using input_shape = Shape<C, H, W>;
    using layer_types = detail::type_list<typename detail::unnamed<Ls>::type...>;
    /// The layer objects, as stored by a Model.
    using layer_tuple = std::tuple<typename detail::unnamed<Ls>::type...>;

private:
    using shapes = typename detail::chain<0, input_shape, detail::type_list<>, typename detail::unnamed<Ls>::type...>::shapes;

public:
    /// Layer I's type (0-based).
    template <int I>
    using layer = typename detail::at<I, layer_types>::type;
    /// The shape layer I reads.
    template <int I>
    using shape_before = typename detail::at<I, shapes>::type;
    /// The shape layer I writes.
    template <int I>
    using shape_after = typename detail::at<I + 1, shapes>::type;
    using output_shape = shape_after<size - 1>;
    /// Whether the last layer's output count (the class count) is a run-time value (a
    /// Linear<In, dynamic> at the end): Model(classes) then chooses it, and the counts that depend
    /// on it take it as an argument (parameter_count_for, sample_size, layer_table).
    static constexpr bool dynamic_output = !output_shape::is_static;

    /// Elements per sample of layer I's output; `classes` is the run-time count of a dynamic output.
    template <int I>
    static constexpr std::size_t sample_size(int classes = 0) {
        return size_of<shape_after<I>>(classes);
    }

    /// Layer names: given by Named, else the layer's index.
    static std::string name(int i) {
        static const std::array<std::string, size> all = make_names(std::make_index_sequence<size>{});
        return all.at(i);
    }
    static constexpr std::array<bool, size> has_name = {detail::unnamed<Ls>::has_name...};
    static constexpr std::array<std::string_view, size> given_names = {detail::unnamed<Ls>::name...};
    static constexpr std::array<std::string_view, size> kinds = {detail::unnamed<Ls>::type::kind...};

    /// The index of the layer called `n`, or -1.
    static constexpr int index_of(std::string_view n) {
        for (int i = 0; i < size; ++i)
            if (has_name[i] && given_names[i] == n) return i;
        // An unnamed layer answers to its index.
        if (n.empty() || n.size() > 9) return -1;
        int v = 0;
        for (char ch : n) {
            if (ch < '0' || ch > '9') return -1;
            v = v * 10 + (ch - '0');
        }
        if (n.size() > 1 && n[0] == '0') return -1;
        return v < size && !has_name[v] ? v : -1;
    }

    /// The index of the layer called `n`; a convis::error listing the valid names if there is none.
    static int find(std::string_view n) {
        const int i = index_of(n);
        if (i >= 0) return i;
        std::string valid;
        for (int j = 0; j < size; ++j) valid += (j ? ", " : "") + name(j);
        throw error("no layer named '" + std::string(n) + "'; the layers are " + valid);
    }

    /// Calls f(std::integral_constant<int, I>{}) for the layer whose run-time index is `i`.
    template <class F>
    static void visit(int i, F&& f) {
        if (i < 0 || i >= size) throw error("layer index " + std::to_string(i) + " is outside [0, " + std::to_string(size) + ")");
        for_each_index([&](auto c) {
            if (decltype(c)::value == i) f(c);
        });
    }

    /// Whether layer I's output is a flat feature vector (after Flatten or Linear), as PyTorch
    /// would hold it: [N, F] rather than [N, C, H, W].
    template <int I>
    static constexpr bool flat_after() {
        for (int j = 0; j <= I; ++j)
            if (kinds[j] == "Flatten" || kinds[j] == "Linear") return true;
        return false;
    }
    /// The PyTorch shape of layer I's output for a batch.
    template <int I>
    static std::vector<std::int64_t> output_dims(int batch, int classes = 0) {
        using S = shape_after<I>;
        if constexpr (flat_after<I>()) return {batch, std::int64_t(sample_size<I>(classes))};
        else return {batch, S::channels, S::height, S::width};
    }

    /// Every layer's name, kind, output shape, parameter count and receptive field; `classes` is
    /// the class count of a network with a dynamic output (required there, ignored otherwise).
    static std::vector<layer_row> layer_table(int classes = 0) {
        check_classes(classes);
        std::vector<layer_row> rows;
        for_each_index([&](auto c) {
            constexpr int I = decltype(c)::value;
            auto dims = output_dims<I>(1, classes);
            dims.erase(dims.begin());
            rows.push_back({I, name(I), kinds[I], std::move(dims), parameter_count_of<I>(classes), field_after<I>()});
        });
        return rows;
    }

    /// Parameters of layer I, in PyTorch layout (`classes`: as for layer_table).
    template <int I>
    static constexpr auto params(int classes = 0) {
        if constexpr (shape_after<I>::is_static) return layer<I>::template params<shape_before<I>>();
        else return layer<I>::template params<shape_before<I>>(classes);
    }
    template <int I>
    static constexpr std::size_t parameter_count_of(int classes = 0) {
        std::size_t n = 0;
        for (const auto& p : params<I>(classes)) n += p.size;
        return n;
    }
    /// Where layer I's parameters start in the model's parameter buffer.
    template <int I>
    static constexpr std::size_t parameter_offset() {
        if constexpr (I == 0) return 0;
        else return parameter_offset<I - 1>() + parameter_count_of<I - 1>();
    }
    /// Every parameter of the network; `classes` as for layer_table.
    static constexpr std::size_t parameter_count_for(int classes) {
        return parameter_offset<size - 1>() + parameter_count_of<size - 1>(classes);
    }
    /// Every parameter of a network whose shapes are all compile-time (see parameter_count_for).
    static constexpr std::size_t parameter_count =
        detail::only_for_static_output<dynamic_output>(parameter_offset<size - 1>() + parameter_count_of<size - 1>(1));

    /// A convis::error unless `classes` suits the network: at least 1 for a dynamic output.
    static void check_classes(int classes) {
        if (dynamic_output && classes < 1)
            throw error("the class count of a network with a run-time output must be at least 1, got " +
                        std::to_string(classes));
    }

    /// Receptive field of a unit of layer I's output, in input pixels.
    template <int I>
    static constexpr receptive_field field_after() {
        if constexpr (I < 0) return receptive_field{};
        else return layer<I>::template field<shape_before<I>>(field_after<I - 1>());
    }

    /// Calls f(std::integral_constant<int, I>{}) for every layer index in order.
    template <class F>
    static constexpr void for_each_index(F&& f) {
        [&]<int... I>(std::integer_sequence<int, I...>) { (f(std::integral_constant<int, I>{}), ...); }(
            std::make_integer_sequence<int, size>{});
    }

private:
    template <std::size_t... I>
    static std::array<std::string, size> make_names(std::index_sequence<I...>) {
        return {(has_name[I] ? std::string(given_names[I]) : std::to_string(I))...};
    }
};

template <class N>
struct is_sequential : std::false_type {};
template <class In, class... Ls>
struct is_sequential<Sequential<In, Ls...>> : std::true_type {};

/// A network type: Sequential<Input<...>, layers...>.
template <class N>
concept network = is_sequential<N>::value;

}  // namespace convis
