#pragma once
// Host memory that is allocated once and reused: growing reallocates, shrinking keeps capacity.
// A large buffer handed back to the system costs a page fault per 4 KiB when it is taken again,
// so every activation, im2col and gradient buffer in convis lives in one of these.
#include <cstddef>
#include <cstring>
#include <new>
#include <utility>

#include "error.hpp"

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace convis {

template <class T>
class host_buffer {
public:
    static constexpr std::size_t alignment = 64;  // one cache line; enough for AVX-512 loads

    host_buffer() = default;
    explicit host_buffer(std::size_t n) { resize(n); }
    host_buffer(const host_buffer& o) { *this = o; }
    host_buffer(host_buffer&& o) noexcept { swap(o); }
    host_buffer& operator=(const host_buffer& o) {
        if (this != &o) {
            resize(o.size_);
            if (o.size_) std::memcpy(data_, o.data_, o.size_ * sizeof(T));
        }
        return *this;
    }
    host_buffer& operator=(host_buffer&& o) noexcept {
        swap(o);
        return *this;
    }
    ~host_buffer() { release(); }

    /// Sets the size to n elements. Contents are kept up to min(old, n); new elements are
    /// uninitialised. Memory is only ever reallocated to grow.
    void resize(std::size_t n) {
        if (n > capacity_) {
            T* fresh = allocate(n);
            if (size_) std::memcpy(fresh, data_, size_ * sizeof(T));
            release();
            data_ = fresh;
            capacity_ = n;
        }
        size_ = n;
    }
    void fill(T v) {
        for (std::size_t i = 0; i < size_; ++i) data_[i] = v;
    }

    T* data() { return data_; }
    const T* data() const { return data_; }
    std::size_t size() const { return size_; }
    std::size_t capacity() const { return capacity_; }
    T& operator[](std::size_t i) { return data_[i]; }
    const T& operator[](std::size_t i) const { return data_[i]; }
    T* begin() { return data_; }
    T* end() { return data_ + size_; }
    const T* begin() const { return data_; }
    const T* end() const { return data_ + size_; }

    void swap(host_buffer& o) noexcept {
        std::swap(data_, o.data_);
        std::swap(size_, o.size_);
        std::swap(capacity_, o.capacity_);
    }

private:
    // Large buffers (weights, activations) are placed on 2 MiB boundaries and offered huge pages:
    // streaming 150 MB of fc6 weights through 4 KiB pages costs a TLB miss per page, and on
    // virtual machines every first touch of a 4 KiB page is a slow fault.
    static constexpr std::size_t huge = std::size_t(2) << 20;
    static std::size_t align_for(std::size_t bytes) { return bytes >= huge ? huge : alignment; }
    static T* allocate(std::size_t n) {
        const std::size_t bytes = n * sizeof(T);
        void* p = ::operator new[](bytes, std::align_val_t(align_for(bytes)));
#ifdef __linux__
        if (bytes >= huge) ::madvise(p, bytes / huge * huge, MADV_HUGEPAGE);  // advice only: failure is harmless
#endif
        return static_cast<T*>(p);
    }
    void release() {
        if (data_) ::operator delete[](data_, std::align_val_t(align_for(capacity_ * sizeof(T))));
        data_ = nullptr;
        capacity_ = size_ = 0;
    }
    T* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

}  // namespace convis
