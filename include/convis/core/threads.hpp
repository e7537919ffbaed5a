#pragma once
// How many threads convis's CPU work runs on: every core by default (OpenMP's default, which
// OMP_NUM_THREADS also sets), or what set_threads chose — for every thread of the program, not
// only the one that called it (OpenMP's own omp_set_num_threads is per calling thread).
#include <atomic>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "error.hpp"

namespace convis {

/// The threads each CPU operation spreads over (1 in a build without OpenMP).
inline int threads();

/// Sets them for the whole program; n = 0 restores the default (all cores). Throws convis::error
/// for a negative n. In a build without OpenMP every value runs on one thread.
inline void set_threads(int n);

/// True inside an OpenMP parallel region: an operation called there runs on the calling thread.
inline bool in_parallel_region() {
#ifdef _OPENMP
    return omp_in_parallel();
#else
    return false;
#endif
}

/// The calling thread's number within its parallel region (0 outside one): the index of its
/// per-thread scratch.
inline int thread_index() {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/// For its lifetime, the calling thread's operations run on n threads (n = 0: no change), whatever
/// set_threads says; other threads are not affected. Nests.
class scoped_threads {
public:
    explicit scoped_threads(int n);
    ~scoped_threads();
    scoped_threads(const scoped_threads&) = delete;
    scoped_threads& operator=(const scoped_threads&) = delete;

private:
    int saved_;
};

// ---- details -------------------------------------------------------------------------------

namespace detail {
inline std::atomic<int>& chosen_threads() {
    static std::atomic<int> n{0};  // 0: OpenMP's default
    return n;
}
inline int& scoped_count() {
    thread_local int n = 0;  // 0: no scoped_threads on this thread
    return n;
}
}  // namespace detail

inline int threads() {
#ifdef _OPENMP
    if (detail::scoped_count() > 0) return detail::scoped_count();
    const int n = detail::chosen_threads().load(std::memory_order_relaxed);
    return n > 0 ? n : omp_get_max_threads();
#else
    return 1;
#endif
}

inline void set_threads(int n) {
    if (n < 0) throw error("set_threads: the thread count must be 0 (all cores) or positive, got " + std::to_string(n));
    detail::chosen_threads().store(n, std::memory_order_relaxed);
}

inline scoped_threads::scoped_threads(int n) : saved_(detail::scoped_count()) {
    if (n < 0) throw error("scoped_threads: the thread count must be 0 (no change) or positive, got " + std::to_string(n));
    if (n > 0) detail::scoped_count() = n;
}
inline scoped_threads::~scoped_threads() { detail::scoped_count() = saved_; }

}  // namespace convis
