#pragma once
// Whether an attribution map is faithful to the model: the deletion and insertion curves (Petsiuk
// et al. 2018, RISE) and the average drop / increase in confidence (Chattopadhay et al. 2018).
//
//   deletion   pixels in order of the map's score (pixel_scores: Σ_c |a| for a per-value map),
//              most important first, are set to `fill` in every channel, `pixels_per_step` at a
//              time; the target's probability after each step is the curve. Lower AUC: the map
//              found what the class depends on.
//   insertion  the same pixels copied, in that order, into an all-`fill` picture. Higher AUC: better.
//   AUC        trapezoids over the fraction of pixels changed, 0 → 1.
//   drop       x masked by the map scaled to [0, 1] (fill + E·(x − fill)): average drop =
//              100 · mean(max(0, Y − O) / Y), increase in confidence = 100 · mean([O > Y]), Y and
//              O the target's probability on x and on the masked x.
//
// The fill is in the network's input space: 0 is the mean picture. The changed copies run forward
// in batches that fit options.memory_limit (no gradient is taken).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "../../core/error.hpp"
#include "gradients.hpp"
#include "maps.hpp"
#include "method.hpp"

namespace convis {

struct deletion_options {
    bool insertion = false;  ///< insertion instead of deletion
    /// Steps of the curve (steps + 1 points); each changes ⌈H·W / steps⌉ pixels (RISE used
    /// H·W / 224-pixel steps at 224: steps = 224).
    int steps = 32;
    float fill = 0;  ///< the removed pixels' value, and insertion's start (0: the mean picture)
    std::size_t memory_limit = std::size_t(1) << 30;
    int batch = 0;  ///< copies per forward; 0: from memory_limit
};

struct deletion_result {
    bool insertion = false;
    std::vector<float> fraction;  ///< [steps + 1] the fraction of pixels changed at each point
    std::vector<float> score;     ///< [count × (steps + 1)] the target's probability
    std::vector<float> auc;       ///< [count]
    std::vector<int> target;
    float mean_auc = 0;
};

struct confidence_drop_result {
    std::vector<float> drop;        ///< [count] max(0, Y − O) / Y
    std::vector<float> base, masked;  ///< [count] Y and O
    float average_drop = 0;         ///< percent
    float increase = 0;             ///< percent of images with O > Y
};

/// The deletion (or insertion) curve of `map` (one map per image of x, with its targets).
template <class M>
deletion_result deletion_curve(M& model, const typename M::value_type* x, const attribution_map& map,
                               const deletion_options& o = {});

/// Average drop and increase in confidence of `map`; `fill` as in deletion_options.
template <class M>
confidence_drop_result confidence_drop(M& model, const typename M::value_type* x, const attribution_map& map,
                                       float fill = 0, std::size_t memory_limit = std::size_t(1) << 30);

/// The trapezoid area under (x[i], y[i]).
inline double trapezoid(const float* x, const float* y, std::size_t n) {
    double a = 0;
    for (std::size_t i = 1; i < n; ++i) a += 0.5 * (double(x[i]) - x[i - 1]) * (double(y[i]) + y[i - 1]);
    return a;
}

// ---- details ------------------------------------------------------------------------------------

namespace attribution_detail {

template <class E>
void check_map(const attribution_map& map, const char* who) {
    if (map.count < 1 || map.height != E::height || map.width != E::width || map.target.size() != std::size_t(map.count) ||
        map.values.size() != std::size_t(map.count) * map.sample_size())
        throw error(std::string(who) + ": the map is " + std::to_string(map.count) + " x " + std::to_string(map.channels) +
                    " x " + std::to_string(map.height) + " x " + std::to_string(map.width) + " with " +
                    std::to_string(map.target.size()) + " targets; the network's input is " + std::to_string(E::height) +
                    " x " + std::to_string(E::width) + " (one target per image)");
}

/// Pixel indices by descending score; ties keep the lower index first; NaN counts as least.
/// (std::sort with the index as tie-break: the stable order, without stable_sort's temporary
/// buffer, which libstdc++ 12 marks deprecated under clang.)
inline std::vector<int> importance_order(const std::vector<float>& score) {
    std::vector<float> key(score);
    for (float& v : key)
        if (std::isnan(v)) v = -std::numeric_limits<float>::infinity();
    std::vector<int> order(score.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        const float ka = key[std::size_t(a)], kb = key[std::size_t(b)];
        return ka > kb || (ka == kb && a < b);
    });
    return order;
}

}  // namespace attribution_detail

namespace attribution_detail {

template <class E>
deletion_result deletion_curve(E& e, const typename E::T* x, const attribution_map& map, const deletion_options& o) {
    using T = typename E::T;
    attribution_options eo;
    eo.memory_limit = o.memory_limit;
    eo.batch = o.batch;
    e.use(eo);
    check_map<E>(map, o.insertion ? "insertion" : "deletion");
    if (o.steps < 1) throw error("deletion: steps must be at least 1, got " + std::to_string(o.steps));
    const int pixels = E::height * E::width, points = o.steps + 1, classes = e.classes();
    const int per_step = (pixels + o.steps - 1) / o.steps;
    const bool softmaxed = ends_in_softmax(e.table());
    deletion_result r;
    r.insertion = o.insertion;
    r.target = map.target;
    for (int k = 0; k < points; ++k) r.fraction.push_back(float(std::min(k * per_step, pixels)) / float(pixels));
    r.score.resize(std::size_t(map.count) * points);
    const int batch = e.batch(false);
    T* copies = e.copies(std::size_t(batch) * E::input_size);
    std::vector<T> probs(std::size_t(batch) * classes);
    for (int b = 0; b < map.count; ++b) {
        const T* xb = x + std::size_t(b) * E::input_size;
        const std::vector<int> order = importance_order(pixel_scores(map, b));
        E::for_batches(points, batch, [&](int first, int n) {
            for (int j = 0; j < n; ++j) {
                T* p = copies + std::size_t(j) * E::input_size;
                const int changed = std::min((first + j) * per_step, pixels);
                if (o.insertion) std::fill(p, p + E::input_size, T(o.fill));
                else std::copy(xb, xb + E::input_size, p);
                for (int q = 0; q < changed; ++q)
                    for (int c = 0; c < E::channels; ++c) {
                        const std::size_t at = std::size_t(c) * pixels + std::size_t(order[std::size_t(q)]);
                        p[at] = o.insertion ? xb[at] : T(o.fill);
                    }
            }
            class_probabilities(e.forward(copies, n), n, classes, softmaxed, probs.data());
            for (int j = 0; j < n; ++j)
                r.score[std::size_t(b) * points + std::size_t(first + j)] =
                    float(probs[std::size_t(j) * classes + map.target[std::size_t(b)]]);
        });
        r.auc.push_back(float(trapezoid(r.fraction.data(), r.score.data() + std::size_t(b) * points, std::size_t(points))));
    }
    double total = 0;
    for (const float a : r.auc) total += a;
    r.mean_auc = float(total / map.count);
    return r;
}

template <class E>
confidence_drop_result confidence_drop(E& e, const typename E::T* x, const attribution_map& map, float fill,
                                       std::size_t memory_limit) {
    using T = typename E::T;
    attribution_options eo;
    eo.memory_limit = memory_limit;
    e.use(eo);
    check_map<E>(map, "confidence_drop");
    const int pixels = E::height * E::width, classes = e.classes();
    const bool softmaxed = ends_in_softmax(e.table());
    confidence_drop_result r;
    std::vector<T> pair(2 * E::input_size), probs(2 * std::size_t(classes));
    double drop = 0, increase = 0;
    for (int b = 0; b < map.count; ++b) {
        const T* xb = x + std::size_t(b) * E::input_size;
        std::vector<float> s = pixel_scores(map, b);
        scale_to_unit(s.data(), s.size());
        std::copy(xb, xb + E::input_size, pair.data());
        for (int c = 0; c < E::channels; ++c)
            for (int i = 0; i < pixels; ++i) {
                const std::size_t at = std::size_t(c) * pixels + std::size_t(i);
                pair[E::input_size + at] = T(fill + s[std::size_t(i)] * (float(xb[at]) - fill));
            }
        class_probabilities(e.forward(pair.data(), 2), 2, classes, softmaxed, probs.data());
        const int t = map.target[std::size_t(b)];
        const double y = probs[std::size_t(t)], o = probs[std::size_t(classes + t)];
        r.base.push_back(float(y));
        r.masked.push_back(float(o));
        r.drop.push_back(float(y > 0 ? std::max(0.0, y - o) / y : 0.0));
        drop += r.drop.back();
        increase += o > y;
    }
    r.average_drop = float(100 * drop / map.count);
    r.increase = float(100 * increase / map.count);
    return r;
}

}  // namespace attribution_detail

template <class M>
deletion_result deletion_curve(M& model, const typename M::value_type* x, const attribution_map& map,
                               const deletion_options& o) {
    attribution_detail::engine<M> e(model);
    return attribution_detail::deletion_curve(e, x, map, o);
}

template <class M>
confidence_drop_result confidence_drop(M& model, const typename M::value_type* x, const attribution_map& map, float fill,
                                       std::size_t memory_limit) {
    attribution_detail::engine<M> e(model);
    return attribution_detail::confidence_drop(e, x, map, fill, memory_limit);
}

}  // namespace convis
