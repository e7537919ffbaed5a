#pragma once
// Tensor<S, T>: a batch of samples of compile-time shape S = Shape<C,H,W>, stored NCHW on the host.
// For Features<dynamic> (shape.hpp) the feature count is a value the view and the tensor carry:
// TensorView(data, batch, features), Tensor(batch, features).
#include <cstddef>
#include <span>
#include <string>
#include <type_traits>

#include "buffer.hpp"
#include "error.hpp"
#include "shape.hpp"

namespace convis {

/// What a batch of samples of shape S holding T says about itself.
template <shape S, class T>
struct batch_layout {
    using shape_type = S;
    using value_type = T;
    static constexpr int channels = S::channels;
    static constexpr int height = S::height;
    static constexpr int width = S::width;
    static constexpr std::size_t sample_size = S::size;
    static constexpr int features() { return int(S::size); }

    constexpr batch_layout() = default;
    explicit batch_layout(std::size_t n) {
        if (n != S::size)
            throw error("Tensor: " + std::to_string(n) + " values per sample given for a shape of " + std::to_string(S::size));
    }
};

/// A run-time length: one feature vector of `features()` values per sample.
template <class T>
struct batch_layout<Features<dynamic>, T> {
    using shape_type = Features<dynamic>;
    using value_type = T;
    int channels = 0;
    static constexpr int height = 1;
    static constexpr int width = 1;
    std::size_t sample_size = 0;
    int features() const { return channels; }

    batch_layout() = default;
    explicit batch_layout(std::size_t n) : channels(int(n)), sample_size(n) {}
};

/// A non-owning view of a batch of samples of shape S (const T for read-only).
template <shape S, class T = float>
class TensorView : public batch_layout<S, std::remove_const_t<T>> {
public:
    using batch_layout<S, std::remove_const_t<T>>::sample_size;
    using batch_layout<S, std::remove_const_t<T>>::channels;
    using batch_layout<S, std::remove_const_t<T>>::height;
    using batch_layout<S, std::remove_const_t<T>>::width;

    using batch_layout<S, std::remove_const_t<T>>::features;

    TensorView() = default;
    TensorView(T* data, int batch)
        requires S::is_static
        : data_(data), batch_(batch) {}
    /// A view of `batch` samples of `features` values; for a static shape, `features` must be S::size.
    TensorView(T* data, int batch, std::size_t features)
        : batch_layout<S, std::remove_const_t<T>>(features), data_(data), batch_(batch) {}
    template <class U>
        requires std::is_same_v<const U, T>
    TensorView(TensorView<S, U> v) : batch_layout<S, std::remove_const_t<T>>(v), data_(v.data()), batch_(v.batch()) {}

    int batch() const { return batch_; }
    std::size_t size() const { return std::size_t(batch_) * sample_size; }
    T* data() const { return data_; }
    T* sample(int n) const { return data_ + std::size_t(n) * sample_size; }
    std::span<T> values() const { return {data_, size()}; }
    T& operator()(int n, int c, int h, int w) const {
        return data_[((std::size_t(n) * channels + c) * height + h) * width + w];
    }
    T& operator()(int n, int f) const { return data_[std::size_t(n) * sample_size + f]; }

private:
    T* data_ = nullptr;
    int batch_ = 0;
};

template <shape S, class T = float>
class Tensor : public batch_layout<S, T> {
public:
    using batch_layout<S, T>::sample_size;
    using batch_layout<S, T>::channels;
    using batch_layout<S, T>::height;
    using batch_layout<S, T>::width;

    using batch_layout<S, T>::features;

    Tensor() = default;
    /// A batch of `batch` samples, zero-filled.
    explicit Tensor(int batch)
        requires S::is_static
    {
        resize(batch);
        buf_.fill(T(0));
    }
    /// A batch of `batch` samples of `features` values (Features<dynamic>), zero-filled.
    Tensor(int batch, std::size_t features) : batch_layout<S, T>(features) {
        resize(batch);
        buf_.fill(T(0));
    }
    /// Changes the batch size and, for Features<dynamic>, the feature count (checked for a static shape).
    void resize(int batch, std::size_t features) {
        static_cast<batch_layout<S, T>&>(*this) = batch_layout<S, T>(features);
        resize(batch);
    }
    /// A batch copied from `values`, whose size must be a whole number of samples.
    static Tensor from(std::span<const T> values)
        requires S::is_static
    {
        if (values.size() % sample_size != 0)
            throw error("Tensor::from: " + std::to_string(values.size()) +
                        " values is not a whole number of samples of " +
                        std::to_string(sample_size));
        Tensor t;
        t.resize(int(values.size() / sample_size));
        for (std::size_t i = 0; i < values.size(); ++i) t.buf_[i] = values[i];
        return t;
    }

    /// Changes the batch size; keeps memory when shrinking. New elements are uninitialised.
    void resize(int batch) {
        if (batch < 0) throw error("Tensor: negative batch size " + std::to_string(batch));
        batch_ = batch;
        buf_.resize(std::size_t(batch) * sample_size);
    }

    int batch() const { return batch_; }
    std::size_t size() const { return buf_.size(); }
    T* data() { return buf_.data(); }
    const T* data() const { return buf_.data(); }
    T* sample(int n) { return buf_.data() + std::size_t(n) * sample_size; }
    const T* sample(int n) const { return buf_.data() + std::size_t(n) * sample_size; }
    std::span<T> values() { return {buf_.data(), buf_.size()}; }
    std::span<const T> values() const { return {buf_.data(), buf_.size()}; }
    void fill(T v) { buf_.fill(v); }

    TensorView<S, T> view() { return {buf_.data(), batch_, sample_size}; }
    TensorView<S, const T> view() const { return {buf_.data(), batch_, sample_size}; }
    operator TensorView<S, T>() { return view(); }
    operator TensorView<S, const T>() const { return view(); }

    T& operator()(int n, int c, int h, int w) { return buf_[index(n, c, h, w)]; }
    const T& operator()(int n, int c, int h, int w) const { return buf_[index(n, c, h, w)]; }
    /// Flat access for feature vectors: element f of sample n.
    T& operator()(int n, int f) { return buf_[std::size_t(n) * sample_size + f]; }
    const T& operator()(int n, int f) const { return buf_[std::size_t(n) * sample_size + f]; }

private:
    std::size_t index(int n, int c, int h, int w) const {
        return ((std::size_t(n) * channels + c) * height + h) * width + w;
    }
    host_buffer<T> buf_;
    int batch_ = 0;
};

}  // namespace convis
