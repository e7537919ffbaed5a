#pragma once
// attribute(): any attribution method by name (method.hpp), plus the two that wrap another —
// SmoothGrad and VarGrad — and the random map that the faithfulness metrics compare against.
//
//     convis::attribution_options o;
//     o.method = convis::parse_attribution_method("smoothgrad");
//     o.base = convis::attribution_method::integrated_gradients;
//     o.samples = 16; o.noise = 0.15f; o.seed = 1;
//     const auto m = convis::attribute(model, x.data(), n, {}, o);
//
// Noise: for image b of the call and sample s, element i of the image gets σ·z with
// z = √(−2 ln(1 − u₁)) cos(2π u₂), u₁, u₂ values 2i and 2i + 1 of counter_random's
// stream(seed, b·2³² + s), σ = noise · (max x_b − min x_b): the same on every policy and thread
// count, and reproducible outside convis (tests/golden/make_attribution_fixtures.py does).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <type_traits>
#include <vector>

#include "../../core/counter_random.hpp"
#include "../../core/error.hpp"
#include "cam.hpp"
#include "gradients.hpp"
#include "method.hpp"

namespace convis {

/// The map of o.method for `count` preprocessed images (count × C × H × W values): targets as in
/// gradients.hpp (one per image, one for all, none: the predicted classes). Leaves the model in
/// eval mode with the trace of the method's last forward.
template <class M>
attribution_map attribute(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                          const attribution_options& o = {});

/// SmoothGrad (variance = false) or VarGrad (true) over o.base: the mean or the population
/// variance of the base map over o.samples noisy copies of each image.
template <class M>
attribution_map noise_tunnel(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                             const attribution_options& o, bool variance);

/// Uniform [0, 1) noise per pixel from counter_random's stream(o.seed, b), [N,H,W], for M's input
/// size; `targets` (one per image) are recorded as they are.
template <class M>
attribution_map random_map(int count, std::vector<int> targets, const attribution_options& o = {});

// ---- details ------------------------------------------------------------------------------------

template <class M>
attribution_map random_map(int count, std::vector<int> targets, const attribution_options& o) {
    using E = attribution_detail::engine<M>;
    attribution_detail::check_count(count);
    auto r = attribution_detail::input_shaped<E>(attribution_method::random, count, std::move(targets), true);
    for (int b = 0; b < count; ++b) {
        const std::uint64_t st = counter_random::stream(o.seed, std::uint64_t(b));
        float* v = r.sample(b);
        for (std::size_t i = 0; i < r.sample_size(); ++i) v[i] = float(counter_random::uniform(st, i));
    }
    return r;
}

namespace attribution_detail {

template <class E>
attribution_map attribute(E& e, const typename E::T* x, int count, const std::vector<int>& targets,
                          const attribution_options& o);

template <class E>
attribution_map noise_tunnel(E& e, const typename E::T* x, int count, const std::vector<int>& targets,
                             const attribution_options& o) {
    using T = typename E::T;
    const bool variance = o.method == attribution_method::vargrad;
    check_count(count);
    if (o.base == attribution_method::smoothgrad || o.base == attribution_method::vargrad ||
        o.base == attribution_method::random)
        throw error(std::string(variance ? "vargrad" : "smoothgrad") + ": the base method must be a gradient or CAM method, got " +
                    std::string(attribution_name(o.base)));
    if (o.samples < 1) throw error("smoothgrad: samples must be at least 1, got " + std::to_string(o.samples));
    if (!(o.noise >= 0)) throw error("smoothgrad: the noise level must be >= 0, got " + std::to_string(o.noise));
    e.use(o);
    const std::vector<int> target = e.targets(targets, x, count);
    const int batch = e.batch(true);
    attribution_options base = o;
    base.method = o.base;
    const int total = count * o.samples;
    std::vector<T> noisy(std::size_t(batch) * E::input_size);
    std::vector<int> noisy_target(static_cast<std::size_t>(batch));
    std::vector<double> sum, sumsq;
    attribution_map r;
    E::for_batches(total, batch, [&](int first, int n) {
        for (int j = 0; j < n; ++j) {
            const int b = (first + j) / o.samples, s = (first + j) % o.samples;
            const T* xb = x + std::size_t(b) * E::input_size;
            const auto [lo, hi] = std::minmax_element(xb, xb + E::input_size);
            const double sigma = double(o.noise) * (double(*hi) - double(*lo));
            const std::uint64_t st = counter_random::stream(o.seed, (std::uint64_t(b) << 32) | std::uint64_t(s));
            T* p = noisy.data() + std::size_t(j) * E::input_size;
            for (std::size_t i = 0; i < E::input_size; ++i) {
                p[i] = T(double(xb[i]) + sigma * counter_random::normal(st, i));
            }
            noisy_target[std::size_t(j)] = target[std::size_t(b)];
        }
        const attribution_map part =
            attribute(e, noisy.data(), n, std::vector<int>(noisy_target.begin(), noisy_target.begin() + n), base);
        if (sum.empty()) {
            r = part;
            r.count = count;
            r.target = target;
            sum.assign(std::size_t(count) * part.sample_size(), 0.0);
            sumsq = sum;
        }
        for (int j = 0; j < n; ++j) {
            const std::size_t at = std::size_t((first + j) / o.samples) * part.sample_size();
            const float* v = part.sample(j);
            for (std::size_t i = 0; i < part.sample_size(); ++i) {
                sum[at + i] += v[i];
                sumsq[at + i] += double(v[i]) * v[i];
            }
        }
    });
    r.method = variance ? attribution_method::vargrad : attribution_method::smoothgrad;
    r.values.resize(sum.size());
    for (std::size_t i = 0; i < sum.size(); ++i) {
        const double mean = sum[i] / o.samples;
        r.values[i] = float(variance ? std::max(0.0, sumsq[i] / o.samples - mean * mean) : mean);
    }
    return r;
}

template <class E>
attribution_map attribute(E& e, const typename E::T* x, int count, const std::vector<int>& targets,
                          const attribution_options& o) {
    switch (o.method) {
        case attribution_method::gradcam:
        case attribution_method::guided_gradcam:
        case attribution_method::gradcam_pp:
        case attribution_method::layercam: return gradient_cams(e, x, count, targets, o);
        case attribution_method::scorecam: return score_cam(e, x, count, targets, o);
        case attribution_method::saliency:
        case attribution_method::input_x_gradient:
        case attribution_method::deconvnet:
        case attribution_method::guided_backprop: return gradient_map(e, x, count, targets, o);
        case attribution_method::integrated_gradients: return integrated_gradients(e, x, count, targets, o);
        case attribution_method::smoothgrad:
        case attribution_method::vargrad: return noise_tunnel(e, x, count, targets, o);
        case attribution_method::random: {
            check_count(count);
            e.use(o);
            return random_map<std::remove_reference_t<decltype(e.model())>>(count, e.targets(targets, x, count), o);
        }
    }
    throw error("attribute: unknown method " + std::to_string(int(o.method)));
}

}  // namespace attribution_detail

template <class M>
attribution_map noise_tunnel(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                             const attribution_options& o, bool variance) {
    return attribution_detail::run_method(model, o, variance ? attribution_method::vargrad : attribution_method::smoothgrad,
                                          [&](auto& e, const auto& oo) {
                                              return attribution_detail::noise_tunnel(e, x, count, targets, oo);
                                          });
}

template <class M>
attribution_map attribute(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                          const attribution_options& o) {
    attribution_detail::engine<M> e(model);
    return attribution_detail::attribute(e, x, count, targets, o);
}

}  // namespace convis
