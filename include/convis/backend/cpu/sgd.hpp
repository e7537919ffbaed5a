#pragma once
// sgd_kernels<cpu>: the optimiser's arithmetic (train/sgd.hpp) as plain loops over host arrays —
// the update in double per element, each filter's RMS summed in double. backend/gpu/sgd.hpp
// gives device memory the same five functions with the same semantics.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../../core/policy.hpp"
#include "../../core/threads.hpp"

namespace convis {

template <>
struct sgd_kernels<cpu> {
    /// One SGD update of n parameters (see sgd_options); `first` starts the momentum buffer.
    template <class T>
    static void update(std::size_t n, T* p, const T* g, T* buf, double lr, double momentum, double weight_decay,
                       bool first) {
        const std::ptrdiff_t m = std::ptrdiff_t(n);
#pragma omp parallel for schedule(static) num_threads(convis::threads()) if (m > 65536)
        for (std::ptrdiff_t i = 0; i < m; ++i) {
            const double d = double(g[i]) + weight_decay * double(p[i]);
            buf[i] = T(first ? d : momentum * double(buf[i]) + d);
            p[i] = T(double(p[i]) - lr * double(buf[i]));
        }
    }
    /// Scales each of `filters` consecutive filters of `size` weights whose RMS exceeds `radius`
    /// to RMS = radius; returns how many it scaled.
    template <class T>
    static std::int64_t renormalise(std::int64_t filters, std::size_t size, T* w, double radius) {
        std::int64_t scaled = 0;
        for (std::int64_t f = 0; f < filters; ++f) {
            T* x = w + std::size_t(f) * size;
            double ss = 0;
            for (std::size_t i = 0; i < size; ++i) ss += double(x[i]) * double(x[i]);
            const double rms = std::sqrt(ss / double(size));
            if (!(rms > radius)) continue;
            const double s = radius / rms;
            for (std::size_t i = 0; i < size; ++i) x[i] = T(double(x[i]) * s);
            ++scaled;
        }
        return scaled;
    }
    template <class T>
    static void zero(std::size_t n, T* x) {
        for (std::size_t i = 0; i < n; ++i) x[i] = T(0);
    }
    /// Host memory to the policy's and back (a checkpoint's momentum buffer).
    template <class T>
    static void upload(std::size_t n, const T* host, T* mine) {
        for (std::size_t i = 0; i < n; ++i) mine[i] = host[i];
    }
    template <class T>
    static void download(std::size_t n, const T* mine, T* host) {
        for (std::size_t i = 0; i < n; ++i) host[i] = mine[i];
    }
};

}  // namespace convis
