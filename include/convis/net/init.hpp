#pragma once
// Parameter initialisation, seeded and reproducible on every platform (no std::normal_distribution,
// whose output differs between standard libraries).
#include <cmath>
#include <cstdint>

#include "../core/random.hpp"
#include "model.hpp"

namespace convis {

namespace init_detail {
/// Tensors with a fixed start (BatchNorm's weight, running statistics) draw no random numbers.
template <class P>
bool fixed(const P& p) { return p.constant_init >= 0; }
template <class M, class P>
typename M::value_type constant(const P& p) { return typename M::value_type(p.constant_init); }
}  // namespace init_detail

/// The paper's initialisation (Sec. 3): weights N(0, stddev²) with stddev 0.01, biases 0.
template <class M>
void init_paper(M& model, std::uint64_t seed, double stddev = 0.01) {
    normal_stream rng(seed);
    for (auto& p : model.parameter_list())
        for (auto& v : p.values) v = init_detail::fixed(p) ? init_detail::constant<M>(p) : p.is_bias ? 0 : typename M::value_type(stddev * rng.next());
    model.upload_parameters();
}

/// Kaiming (He) normal initialisation for ReLU networks: weights N(0, 2/fan_in), biases 0.
template <class M>
void init_kaiming(M& model, std::uint64_t seed) {
    normal_stream rng(seed);
    for (auto& p : model.parameter_list()) {
        const double sd = std::sqrt(2.0 / p.fan_in);
        for (auto& v : p.values) v = init_detail::fixed(p) ? init_detail::constant<M>(p) : p.is_bias ? 0 : typename M::value_type(sd * rng.next());
    }
    model.upload_parameters();
}

}  // namespace convis
