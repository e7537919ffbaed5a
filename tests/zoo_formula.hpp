#pragma once
// The formula weights and input of tests/golden/make_zoo_fixtures.py: value i of the tensor named N
// from counter_random's stream(seed, fnv1a64(N)) — the fixture script's docstring has the rules.
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include <convis/core/counter_random.hpp>

namespace test {

inline std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    return h;
}

inline bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

/// Value i of tensor `name` (of the given rank and fan-in), rounded to float as the script does.
inline float formula_value(std::uint64_t seed, std::string_view name, std::size_t rank, int fan_in, std::uint64_t i,
                           std::uint64_t stream) {
    const double u = convis::counter_random::uniform(stream, i);
    double v;
    if (name == "input") v = 2 * u - 1;
    else if (ends_with(name, "running_mean") || ends_with(name, "bias")) v = 0.2 * (u - 0.5);
    else if (ends_with(name, "running_var")) v = 0.5 + u;
    else if (rank >= 2) v = (2 * u - 1) * std::sqrt(6.0 / fan_in);
    else v = 0.4 + 0.4 * u;
    (void)seed;
    return float(v);
}

/// Fills every parameter of `model` by the formula.
template <class M>
void fill_formula(M& model, std::uint64_t seed) {
    for (auto& p : model.parameter_list()) {
        const std::uint64_t st = convis::counter_random::stream(seed, fnv1a(p.name));
        std::int64_t fan_in = 1;
        for (std::size_t d = 1; d < p.shape.size(); ++d) fan_in *= p.shape[d];
        for (std::size_t i = 0; i < p.values.size(); ++i)
            p.values[i] = typename M::value_type(formula_value(seed, p.name, p.shape.size(), int(fan_in), i, st));
    }
    model.upload_parameters();
}

/// The formula input of `n` values.
inline std::vector<float> formula_input(std::uint64_t seed, std::size_t n) {
    const std::uint64_t st = convis::counter_random::stream(seed, fnv1a("input"));
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = formula_value(seed, "input", 4, 1, i, st);
    return v;
}

}  // namespace test
