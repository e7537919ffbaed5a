#pragma once
// Parameter initialisation, seeded and reproducible on every platform (no std::normal_distribution,
// whose output differs between standard libraries).
#include <cmath>
#include <cstdint>

#include "model.hpp"

namespace convis {

/// A small counter-based normal generator (splitmix64 + Box–Muller).
class normal_stream {
public:
    explicit normal_stream(std::uint64_t seed) : state_(seed) {}
    double next() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double u1 = uniform(), u2 = uniform();
        if (u1 < 1e-300) u1 = 1e-300;
        const double r = std::sqrt(-2.0 * std::log(u1)), t = 6.283185307179586 * u2;
        spare_ = r * std::sin(t);
        has_spare_ = true;
        return r * std::cos(t);
    }
    double uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }
    std::uint64_t next_u64() {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }

private:
    std::uint64_t state_;
    double spare_ = 0;
    bool has_spare_ = false;
};

/// The paper's initialisation (Sec. 3): weights N(0, stddev²) with stddev 0.01, biases 0.
template <class M>
void init_paper(M& model, std::uint64_t seed, double stddev = 0.01) {
    normal_stream rng(seed);
    for (auto& p : model.parameter_list())
        for (auto& v : p.values) v = p.is_bias ? 0 : typename M::value_type(stddev * rng.next());
    model.upload_parameters();
}

/// Kaiming (He) normal initialisation for ReLU networks: weights N(0, 2/fan_in), biases 0.
template <class M>
void init_kaiming(M& model, std::uint64_t seed) {
    normal_stream rng(seed);
    for (auto& p : model.parameter_list()) {
        const double sd = std::sqrt(2.0 / p.fan_in);
        for (auto& v : p.values) v = p.is_bias ? 0 : typename M::value_type(sd * rng.next());
    }
    model.upload_parameters();
}

}  // namespace convis
