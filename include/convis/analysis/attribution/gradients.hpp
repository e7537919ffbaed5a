#pragma once
// The gradient methods — saliency, input × gradient, integrated gradients, deconvnet and guided
// backpropagation — and the engine every attribution method runs on: a forward in evaluation
// mode, then the target logits' one-hot signal projected down the deconvnet (gradient mode: the
// exact gradient; no parameter gradient is computed) to the input or to a layer.
//
//     const auto m = convis::integrated_gradients(model, x.data(), 1, {281}, {.steps = 64});
//     // m.values: 1 × 3 × 224 × 224, (x − x') ⊙ the mean gradient along the straight path
//
// Targets: one class per image, or one for all, or none (each image's predicted class); -1 in a
// list also means the predicted class.
#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "../../core/error.hpp"
#include "../../core/tensor.hpp"
#include "../../core/threads.hpp"
#include "../../net/deconvnet.hpp"
#include "../layer_choice.hpp"
#include "maps.hpp"
#include "method.hpp"

namespace convis {

/// |dy_c/dx| (Captum's Saliency), [N,C,H,W].
template <class M>
attribution_map saliency(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                         const attribution_options& o = {});
/// x ⊙ dy_c/dx, [N,C,H,W].
template <class M>
attribution_map input_x_gradient(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                                 const attribution_options& o = {});
/// (x − x') ⊙ (1/m) Σ_{k=1..m} dy_c/dx at x' + (k/m)(x − x'), x' = o.baseline, m = o.steps; the
/// count × m path points run in batches that fit o.memory_limit. [N,C,H,W].
template <class M>
attribution_map integrated_gradients(M& model, const typename M::value_type* x, int count,
                                     const std::vector<int>& targets, const attribution_options& o = {});
/// The target's one-hot logits projected to the input by the paper's deconvnet (mode deconvnet)
/// or by guided backpropagation (mode guided), [N,C,H,W].
template <class M>
attribution_map projected_logit(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                                rectify_mode mode, const attribution_options& o = {});

// ---- details ------------------------------------------------------------------------------------

namespace attribution_detail {

/// One model in evaluation mode, its deconvnet, and the bookkeeping every method shares.
template <class M>
class engine {
public:
    using T = typename M::value_type;
    using Net = typename M::net_type;
    using In = typename Net::input_shape;
    static constexpr int channels = In::channels, height = In::height, width = In::width;
    static constexpr std::size_t input_size = In::size;

    explicit engine(M& model) : model_(model), deconv_(model), table_(model.layer_table()) {
        logit_ = ends_in_softmax(table_) ? Net::size - 2 : Net::size - 1;
        if (logit_ < 0) throw error("attribution: the network has no layer before its Softmax");
        classes_ = int(sample_size(logit_));
    }

    /// Starts a method with options `o`: the model goes to evaluation mode.
    const attribution_options& use(const attribution_options& o) {
        options_ = o;
        model_.eval();
        return options_;
    }

    M& model() { return model_; }
    const std::vector<layer_row>& table() const { return table_; }
    int classes() const { return classes_; }
    int logit_layer() const { return logit_; }
    std::size_t sample_size(int layer) const {
        std::size_t n = 1;
        for (const auto d : table_[std::size_t(layer)].output) n *= std::size_t(d);
        return n;
    }

    /// Runs `n` inputs forward; returns their logits (host, n × classes()).
    const T* forward(const T* x, int n) {
        model_.forward(TensorView<In, const T>(x, n));
        return model_.output_data(logit_);
    }

    /// The class each of `n` images is explained for: `given` holds one per image, one for all, or
    /// none; -1 means the predicted class (computed by a forward of `x` when needed).
    std::vector<int> targets(const std::vector<int>& given, const T* x, int n) {
        if (!given.empty() && given.size() != 1 && given.size() != std::size_t(n))
            throw error("attribution: " + std::to_string(given.size()) + " targets for " + std::to_string(n) +
                        " images (give one per image, one for all, or none for the predicted classes)");
        std::vector<int> t(std::size_t(n), -1);
        for (int b = 0; b < n; ++b) t[std::size_t(b)] = given.empty() ? -1 : given[given.size() == 1 ? 0 : std::size_t(b)];
        for (const int c : t)
            if (c < -1 || c >= classes_)
                throw error("attribution: target class " + std::to_string(c) + " is outside 0.." + std::to_string(classes_ - 1));
        if (std::find(t.begin(), t.end(), -1) == t.end()) return t;
        for_batches(n, batch(false), [&](int first, int cnt) {
            const T* logits = forward(x + std::size_t(first) * input_size, cnt);
            for (int b = 0; b < cnt; ++b) {
                int& c = t[std::size_t(first + b)];
                const T* row = logits + std::size_t(b) * classes_;
                if (c < 0) c = int(std::max_element(row, row + classes_) - row);
            }
        });
        return t;
    }

    /// d y_target / d (layer `to`'s output) of the last forward (to = -1: the input), with ReLUs
    /// passed as `mode` says (gradient: the exact gradient). Host memory, valid until the next call.
    const T* gradient(const int* target, int n, int to, rectify_mode mode = rectify_mode::gradient) {
        signal_.assign(std::size_t(n) * classes_, T(0));
        for (int b = 0; b < n; ++b) signal_[std::size_t(b) * classes_ + target[b]] = T(1);
        projection_options p;
        p.mode = mode;
        p.threads = convis::threads();  // the one-hot signal looks sparse, but what it projects is dense
        return deconv_.project_between(logit_, to, signal_.data(), p);
    }

    /// The largest batch of copies whose forward (and, with `backward`, projection) fits
    /// options.memory_limit beside the parameters; options.batch when set. At most 64.
    int batch(bool backward) const {
        if (options_.batch > 0) return options_.batch;
        const std::size_t fixed = fixed_bytes(), each = sample_bytes(backward);
        if (options_.memory_limit < fixed + each)
            throw error("attribution: a memory limit of " + mib(options_.memory_limit) + " is below the " +
                        mib(fixed + each) + " that the model (" + mib(fixed) + ") and one copy need");
        return int(std::clamp<std::size_t>((options_.memory_limit - fixed) / each, 1, 64));
    }

    /// Bytes that stay whatever the batch: parameters, gradients if the model has them, scratch.
    std::size_t fixed_bytes() const {
        const std::size_t grads = std::as_const(model_).gradients().size();
        return (model_.parameters().size() + grads) * sizeof(T) + scratch_allowance;
    }
    /// Bytes one more copy in a batch costs: its input and every layer's output in the trace, the
    /// layer states (pool switches, LRN denominators, dropout masks: one value per output), with
    /// `backward` the projection's two buffers, and the method's own host copies.
    std::size_t sample_bytes(bool backward) const {
        std::size_t values = 3 * input_size, largest = input_size;
        for (const layer_row& r : table_) {
            const std::size_t n = sample_size(r.index);
            largest = std::max(largest, n);
            const bool state = r.kind == "MaxPool2d" || r.kind == "LocalResponseNorm" || r.kind == "Dropout" ||
                               r.kind == "BatchNorm2d";
            // A residual block keeps its branch's activations: a few times its output.
            values += r.kind == "Residual" ? 6 * n : (state ? 2 * n : n);
        }
        if (backward) values += 2 * largest;
        // The convolutions' batched transforms (Winograd tiles) and the allocator's slack add about
        // a sixth more: ZFNet at 224 took 32 MiB a copy where the sum above says 27.5
        // (bench/RESULTS.md, issue 19). A quarter keeps the peak under the limit with room.
        return values * sizeof(T) * 5 / 4;
    }
    /// The convolutions' per-thread scratch (unfolded patches) and the program around the model.
    static constexpr std::size_t scratch_allowance = std::size_t(64) << 20;

    /// Calls f(first, count) over 0..n−1 in batches of at most `batch`, all of about equal size (a
    /// short last batch costs more per copy than the others).
    /// Scratch that a method reuses from call to call (a fresh large vector's pages are faulted in
    /// anew each time: 6% of integrated gradients' time on ZFNet). `copies` holds at least n
    /// values; `sums` exactly n zeros. Methods that call other methods keep their own.
    T* copies(std::size_t n) {
        if (copies_.size() < n) copies_.resize(n);
        return copies_.data();
    }
    double* sums(std::size_t n) {
        sums_.assign(n, 0.0);
        return sums_.data();
    }

    template <class F>
    static void for_batches(int n, int batch, F&& f) {
        const int batches = (n + batch - 1) / batch;
        for (int b = 0, first = 0, count = 0; b < batches; ++b, first += count) {
            count = (n - first) / (batches - b);
            f(first, count);
        }
    }

private:
    static std::string mib(std::size_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB"; }

    M& model_;
    Deconvnet<M> deconv_;
    std::vector<layer_row> table_;
    attribution_options options_;
    int logit_ = 0, classes_ = 0;
    std::vector<T> signal_, copies_;
    std::vector<double> sums_;
};

/// An empty map of `n` images shaped like the input (channels > 1 unless `pixel`).
template <class E>
attribution_map input_shaped(attribution_method m, int n, std::vector<int> target, bool pixel) {
    attribution_map r;
    r.method = m;
    r.count = n;
    r.channels = pixel ? 1 : E::channels;
    r.height = E::height;
    r.width = E::width;
    r.pixel_map = pixel;
    r.target = std::move(target);
    r.values.assign(std::size_t(n) * r.sample_size(), 0.f);
    return r;
}

inline void check_count(int count) {
    if (count < 1) throw error("attribution: expected at least one image, got " + std::to_string(count));
}

/// The per-image gradient methods: one forward and one projection per batch of images; `finish`
/// turns (x, gradient) into the map's values.
template <class E, class F>
attribution_map per_input_gradient(E& e, const typename E::T* x, int count, const std::vector<int>& targets,
                                   const attribution_options& o, attribution_method method, rectify_mode mode, F finish) {
    check_count(count);
    e.use(o);
    auto r = input_shaped<E>(method, count, e.targets(targets, x, count), false);
    E::for_batches(count, e.batch(true), [&](int first, int n) {
        const auto* xs = x + std::size_t(first) * E::input_size;
        e.forward(xs, n);
        const auto* g = e.gradient(r.target.data() + first, n, -1, mode);
        float* out = r.sample(first);
        for (std::size_t i = 0; i < std::size_t(n) * E::input_size; ++i) out[i] = finish(float(xs[i]), float(g[i]));
    });
    return r;
}

/// Saliency, input × gradient, deconvnet or guided backpropagation, as o.method says.
template <class E>
attribution_map gradient_map(E& e, const typename E::T* x, int count, const std::vector<int>& targets,
                             const attribution_options& o) {
    switch (o.method) {
        case attribution_method::saliency:
            return per_input_gradient(e, x, count, targets, o, o.method, rectify_mode::gradient,
                                      [](float, float g) { return std::abs(g); });
        case attribution_method::input_x_gradient:
            return per_input_gradient(e, x, count, targets, o, o.method, rectify_mode::gradient,
                                      [](float v, float g) { return v * g; });
        case attribution_method::deconvnet:
        case attribution_method::guided_backprop:
            return per_input_gradient(e, x, count, targets, o, o.method,
                                      o.method == attribution_method::deconvnet ? rectify_mode::deconvnet : rectify_mode::guided,
                                      [](float, float g) { return g; });
        default: throw error("gradient_map: " + std::string(attribution_name(o.method)) + " is not a gradient map");
    }
}

/// A method run on a fresh engine over `model`, with o.method set to `m`.
template <class M, class F>
attribution_map run_method(M& model, attribution_options o, attribution_method m, F f) {
    engine<M> e(model);
    o.method = m;
    return f(e, o);
}

}  // namespace attribution_detail

template <class M>
attribution_map saliency(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                         const attribution_options& o) {
    return attribution_detail::run_method(model, o, attribution_method::saliency, [&](auto& e, const auto& oo) {
        return attribution_detail::gradient_map(e, x, count, targets, oo);
    });
}

template <class M>
attribution_map input_x_gradient(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                                 const attribution_options& o) {
    return attribution_detail::run_method(model, o, attribution_method::input_x_gradient, [&](auto& e, const auto& oo) {
        return attribution_detail::gradient_map(e, x, count, targets, oo);
    });
}

template <class M>
attribution_map projected_logit(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                                rectify_mode mode, const attribution_options& o) {
    if (mode == rectify_mode::gradient)
        throw error("projected_logit: mode gradient is the saliency's gradient; use deconvnet or guided");
    const auto m = mode == rectify_mode::deconvnet ? attribution_method::deconvnet : attribution_method::guided_backprop;
    return attribution_detail::run_method(model, o, m, [&](auto& e, const auto& oo) {
        return attribution_detail::gradient_map(e, x, count, targets, oo);
    });
}

namespace attribution_detail {
template <class E>
attribution_map integrated_gradients(E& e, const typename E::T* x, int count, const std::vector<int>& targets,
                                     const attribution_options& o) {
    using T = typename E::T;
    check_count(count);
    if (o.steps < 1) throw error("integrated_gradients: steps must be at least 1, got " + std::to_string(o.steps));
    e.use(o);
    auto r = input_shaped<E>(attribution_method::integrated_gradients, count,
                                                 e.targets(targets, x, count), false);
    const int m = o.steps, batch = e.batch(true);
    const T x0 = T(o.baseline);
    double* sum = e.sums(std::size_t(count) * E::input_size);
    T* path = e.copies(std::size_t(batch) * E::input_size);
    std::vector<int> target(static_cast<std::size_t>(batch));
    // The count × m path points in order, image by image; a batch may span two images.
    E::for_batches(count * m, batch, [&](int first, int n) {
        for (int j = 0; j < n; ++j) {
            const int b = (first + j) / m, k = (first + j) % m + 1;
            const T alpha = T(double(k) / m);
            const T* xb = x + std::size_t(b) * E::input_size;
            T* p = path + std::size_t(j) * E::input_size;
            for (std::size_t i = 0; i < E::input_size; ++i) p[i] = x0 + alpha * (xb[i] - x0);
            target[std::size_t(j)] = r.target[std::size_t(b)];
        }
        e.forward(path, n);
        const T* g = e.gradient(target.data(), n, -1);
        for (int j = 0; j < n; ++j) {
            double* s = sum + std::size_t((first + j) / m) * E::input_size;
            const T* gj = g + std::size_t(j) * E::input_size;
            for (std::size_t i = 0; i < E::input_size; ++i) s[i] += double(gj[i]);
        }
    });
    for (std::size_t i = 0; i < std::size_t(count) * E::input_size; ++i)
        r.values[i] = float((double(x[i]) - double(x0)) * sum[i] / m);
    return r;
}
}  // namespace attribution_detail

template <class M>
attribution_map integrated_gradients(M& model, const typename M::value_type* x, int count,
                                     const std::vector<int>& targets, const attribution_options& o) {
    return attribution_detail::run_method(model, o, attribution_method::integrated_gradients, [&](auto& e, const auto& oo) {
        return attribution_detail::integrated_gradients(e, x, count, targets, oo);
    });
}

}  // namespace convis
