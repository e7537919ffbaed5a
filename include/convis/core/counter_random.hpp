#pragma once
// Counter-based random numbers: value i of stream s is a pure function of (s, i), so masks are the
// same whatever the threading, and the same on every policy (the GPU's dropout draws exactly the
// CPU's mask).
#include <cmath>
#include <cstdint>

#include "host_device.hpp"

namespace convis::counter_random {

/// splitmix64's finaliser: a bijective 64-bit mix.
CONVIS_HOST_DEVICE inline std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/// The stream of one call of one seeded generator (a Dropout layer's `call`-th forward).
CONVIS_HOST_DEVICE inline std::uint64_t stream(std::uint64_t seed, std::uint64_t call) {
    return mix(seed ^ mix(call + 0x9e3779b97f4a7c15ull));
}

/// Element i of a stream as a double in [0, 1), 53 random bits.
CONVIS_HOST_DEVICE inline double uniform(std::uint64_t stream, std::uint64_t i) {
    return double(mix(stream + i) >> 11) * 0x1.0p-53;
}

/// Element i of a stream as a standard normal value: Box–Muller on elements 2i and 2i + 1,
/// sqrt(−2 ln(1 − u₁)) · cos(2π u₂) (1 − u₁ is in (0, 1], so the logarithm is finite).
CONVIS_HOST_DEVICE inline double normal(std::uint64_t stream, std::uint64_t i) {
    const double u1 = uniform(stream, 2 * i), u2 = uniform(stream, 2 * i + 1);
    return sqrt(-2 * log(1 - u1)) * cos(6.283185307179586476925 * u2);
}

}  // namespace convis::counter_random
