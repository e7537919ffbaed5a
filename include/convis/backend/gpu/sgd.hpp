#pragma once
// sgd_kernels<gpu>: the optimiser's arithmetic on device memory, with the CPU loops' semantics
// (backend/cpu/sgd.hpp): the update in double per element, the filter RMS summed in double.
#include <cstddef>
#include <cstdint>

#include "../../core/policy.hpp"
#include "device.hpp"
#include "kernels.hpp"
#include "ops.hpp"

namespace convis {

template <>
struct sgd_kernels<gpu> {
    template <class T>
    static void update(std::size_t n, T* p, const T* g, T* buf, double lr, double momentum, double weight_decay,
                       bool first) {
        gpu_detail::sgd_update(n, p, g, buf, lr, momentum, weight_decay, first);
    }
    template <class T>
    static std::int64_t renormalise(std::int64_t filters, std::size_t size, T* w, double radius) {
        using namespace gpu_detail;
        if (filters <= 0) return 0;
        counter().resize(1);
        fill(1, 0ull, counter().data());
        gpu_detail::renormalise(filters, size, w, radius, counter().data());
        unsigned long long scaled = 0;
        ops<gpu>::download(1, counter().data(), &scaled);
        return std::int64_t(scaled);
    }
    template <class T>
    static void zero(std::size_t n, T* x) {
        gpu_detail::fill(n, T(0), x);
    }
    template <class T>
    static void upload(std::size_t n, const T* host, T* mine) { ops<gpu>::upload(n, host, mine); }
    template <class T>
    static void download(std::size_t n, const T* mine, T* host) { ops<gpu>::download(n, mine, host); }

private:
    static device_buffer<unsigned long long>& counter() {
        static device_buffer<unsigned long long> c;
        return c;
    }
};

}  // namespace convis
