#pragma once
// A seeded sequential generator, the same on every platform (no std::normal_distribution, whose
// output differs between standard libraries): weight initialisation, shuffles, augmentation and
// random channel choices all draw from it.
#include <cmath>
#include <cstdint>

#include "counter_random.hpp"

namespace convis {

/// splitmix64 (a Weyl sequence through counter_random::mix) with Box–Muller for normals.
class normal_stream {
public:
    explicit normal_stream(std::uint64_t seed) : state_(seed) {}
    /// A standard normal; the second value of each Box–Muller pair is kept for the next call.
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
    /// Uniform in [0, 1), 53 random bits.
    double uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }
    std::uint64_t next_u64() { return counter_random::mix(state_ += 0x9e3779b97f4a7c15ull); }

private:
    std::uint64_t state_;
    double spare_ = 0;
    bool has_spare_ = false;
};

}  // namespace convis
