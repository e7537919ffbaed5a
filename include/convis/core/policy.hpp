#pragma once
// Policies say where the arithmetic runs. Layers never compute: they call ops<Policy>, which each
// backend specialises (backend/cpu for Eigen; backend/gpu for cuDNN, reached through gpu.hpp).
#include <cstddef>
#include <cstdint>

#include "buffer.hpp"

namespace convis {

/// The CPU policy: Eigen GEMMs, OpenMP across the batch. Memory is ordinary host memory.
struct cpu {
    static constexpr const char* name = "cpu";
    /// Whether the policy's memory is host memory (a device policy's views are copied out).
    static constexpr bool host_memory = true;
    template <class T>
    using buffer = host_buffer<T>;
};

/// The op set of a policy. Declared here, specialised by each backend; see op_desc.hpp for the
/// arguments every op takes.
template <class Policy>
struct ops;

/// Scratch memory an op may use (im2col columns, per-thread gradient accumulators), owned by the
/// model and reused across calls. Each policy specialises it.
template <class Policy, class T>
struct scratch;

/// The optimiser's arithmetic on a policy's memory (train/sgd.hpp): update, renormalise, zero,
/// upload, download. Declared here, specialised by each backend.
template <class Policy>
struct sgd_kernels;

}  // namespace convis
