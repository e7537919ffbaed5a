#pragma once
// Feature visualisation by optimisation (Erhan et al. 2009; Olah et al., "Feature Visualization",
// Distill 2017): the picture that maximises an objective at a layer, found by Adam on the picture's
// parameters. Where the paper (Fig. 2) finds the data that excite a unit, this asks the network
// what it would most like to see.
//
//     convis::runtime_view view(model);                       // or a convis::session
//     const int conv5 = view.find("conv5");
//     auto r = convis::visualise_features(view, conv5, convis::every_channel(64), pre, {});
//     convis::write_png("conv5_c7.png", r.picture(7));
//
// Each step, for a batch of pictures (one per objective):
//   1. u = render(p)                       the parametrisation (pixel or Fourier, parametrisation.hpp)
//   2. v = affine_sample(u)                transformation robustness: one random jitter (whole
//                                          pixels), scale and rotation about the centre per step,
//                                          bilinear, grey (0.5) outside (analysis/transforms.hpp)
//   3. x = (v − mean) / std                the network's preprocessing (data/preprocess.hpp, with
//                                          pixels 255·v)
//   4. loss = −objective(x) + l2 · mean((u − ½)²) + tv · Σ|neighbour differences of u| / (C·H·W)
//   5. the gradient: the objective's constant signal at the layer projected to x by the deconvnet
//      in gradient mode (the exact backward), then back through 3, 2 and 1 by their adjoints
//   6. one Adam step on p
// The model is put in evaluation mode (and left there). Every picture is independent of the others in its batch
// (evaluation mode, and Adam is element-wise), so a result does not depend on the batch size.
//
// Seeded and deterministic: picture n starts from counter_random's stream(seed, key), key the
// objective's channel (so channel 7's picture is the same whether it is asked alone or with all
// the others) or 2⁶² + n for a direction; step t's transformation is drawn from stream(seed,
// 2⁶³ + t), elements 0..3: jitter y, jitter x, scale, angle — the same for every picture of a run.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../../core/counter_random.hpp"
#include "../../core/error.hpp"
#include "../../core/threads.hpp"
#include "../../data/preprocess.hpp"
#include "../../io/image.hpp"
#include "../../train/adam.hpp"
#include "../runtime_model.hpp"
#include "../transforms.hpp"
#include "objective.hpp"
#include "parametrisation.hpp"

namespace convis {

struct feature_vis_options {
    int steps = 256;
    image_parametrisation parametrisation = image_parametrisation::fourier;
    bool decorrelate = true;   ///< lucid's colour decorrelation (3-channel pictures only)
    double decay_power = 1;    ///< Fourier: the spectrum's initial 1/f^decay scale
    double init_sd = 0.01;     ///< the parameters' initial standard deviation
    adam_options adam{0.05};   ///< lucent's learning rate
    bool transforms = true;    ///< transformation robustness
    int jitter = -1;           ///< ± whole pixels of random translation; −1: round(input height / 16)
    double scale_min = 0.9, scale_max = 1.1;  ///< the random zoom's range
    double rotate = 10;        ///< ± degrees of random rotation
    double l2 = 0;             ///< weight of mean((u − ½)²)
    double tv = 0;             ///< weight of the total variation per value
    std::uint64_t seed = 1;
    int batch = 16;            ///< pictures optimised together
};

template <class T>
struct feature_vis_result {
    int layer = 0;
    std::vector<objective> objectives;
    input_dims dims;
    int steps = 0;
    std::vector<T> pictures;     ///< N × C × H × W, in (0, 1)
    std::vector<double> values;  ///< each objective on its final picture (untransformed)
    std::vector<double> curve;   ///< N × steps: the objective on the step's transformed picture

    std::size_t count() const { return objectives.size(); }
    /// Picture n as 0..255 pixels (write_png writes it).
    image picture(std::size_t n) const;
};

/// Optimises one picture per objective at layer `layer` of `model` (its output, before any ReLU
/// that follows as a layer of its own). `pre`: the preprocessing of the model's training data.
template <class T>
feature_vis_result<T> visualise_features(runtime_model<T>& model, int layer, const std::vector<objective>& objectives,
                                         const preprocess& pre = {}, const feature_vis_options& o = {});

/// Throws a convis::error naming the first option out of range (visualise_features calls it;
/// call it first to fail before other work).
void check_options(const feature_vis_options& o);

/// Step t's random transformation for an input of `height` rows (exposed for tests and for the
/// golden fixture's script).
affine_map robustness_transform(const feature_vis_options& o, int height, int step);

/// How specific the pictures are: the mean response of each objective's channel to every picture
/// of `r` (channel objectives only, run untransformed).
struct own_channel_result {
    std::vector<int> channels;      ///< objective j's channel
    std::vector<double> response;   ///< N × N: [i·N + j] = channel j's mean on picture i
    std::vector<bool> own_best;     ///< j: picture j excites channel j more than every other picture does
    double fraction = 0;            ///< of the objectives whose own picture is best
};
template <class T>
own_channel_result own_channel_response(runtime_model<T>& model, const feature_vis_result<T>& r, const preprocess& pre = {},
                                        int batch = 16);

// ---- details ------------------------------------------------------------------------------------

namespace feature_vis_detail {

/// The preprocessing on (0, 1) pictures: x = (v − mean) / std, and its adjoint.
template <class T>
struct input_map {
    input_map(const preprocess& pre, input_dims d) : d_(d) {
        const std::size_t plane = std::size_t(d.height) * d.width, n = d.size();
        if (!pre.mean.empty() && pre.mean.size() != std::size_t(d.channels) && pre.mean.size() != n)
            throw error("feature visualisation: the preprocessing's mean has " + std::to_string(pre.mean.size()) +
                        " values; expected " + std::to_string(d.channels) + " or " + std::to_string(n));
        if (!pre.std.empty() && pre.std.size() != std::size_t(d.channels))
            throw error("feature visualisation: the preprocessing's std has " + std::to_string(pre.std.size()) +
                        " values; expected " + std::to_string(d.channels));
        mean_.assign(n, T(0));
        inv_.assign(std::size_t(d.channels), T(1));
        for (int c = 0; c < d.channels; ++c) {
            if (!pre.std.empty()) inv_[std::size_t(c)] = T(1.0 / double(pre.std[std::size_t(c)]));
            for (std::size_t i = 0; i < plane; ++i)
                if (!pre.mean.empty())
                    mean_[std::size_t(c) * plane + i] =
                        T(pre.mean.size() == n ? pre.mean[std::size_t(c) * plane + i] : pre.mean[std::size_t(c)]);
        }
    }
    void apply(const T* v, T* x) const {
        const std::size_t plane = std::size_t(d_.height) * d_.width;
        for (std::size_t i = 0; i < d_.size(); ++i) x[i] = (v[i] - mean_[i]) * inv_[i / plane];
    }
    /// g_v = −g_x / std: the loss is −objective.
    void negated_adjoint(const T* gx, T* gv) const {
        const std::size_t plane = std::size_t(d_.height) * d_.width;
        for (std::size_t i = 0; i < d_.size(); ++i) gv[i] = -gx[i] * inv_[i / plane];
    }

private:
    input_dims d_;
    std::vector<T> mean_, inv_;
};

/// Adds the gradients of l2 · mean((u − ½)²) and tv · TV(u) / (C·H·W) to g.
template <class T>
void add_penalties(const T* u, T* g, input_dims d, double l2, double tv) {
    const std::size_t n = d.size();
    if (l2 > 0)
        for (std::size_t i = 0; i < n; ++i) g[i] += T(2 * l2 / double(n)) * (u[i] - T(0.5));
    if (tv > 0) {
        const T w = T(tv / double(n));
        const auto pair = [&](std::size_t a, std::size_t b) {  // |u[a] − u[b]|
            const T diff = u[a] - u[b];
            const T s = diff > 0 ? w : diff < 0 ? -w : T(0);
            g[a] += s;
            g[b] -= s;
        };
        for (int c = 0; c < d.channels; ++c)
            for (int y = 0; y < d.height; ++y)
                for (int x = 0; x < d.width; ++x) {
                    const std::size_t at = (std::size_t(c) * d.height + y) * d.width + x;
                    if (x + 1 < d.width) pair(at + 1, at);
                    if (y + 1 < d.height) pair(at + d.width, at);
                }
    }
}

inline std::uint64_t init_key(const objective& ob, std::size_t n) {
    return ob.kind == objective_kind::direction ? (std::uint64_t(1) << 62) + n : std::uint64_t(ob.channel);
}

}  // namespace feature_vis_detail

inline void check_options(const feature_vis_options& o) {
    const auto bad = [](const std::string& what) { throw error("feature visualisation: " + what); };
    if (o.steps < 0) bad("steps must be ≥ 0, got " + std::to_string(o.steps));
    if (o.batch < 1) bad("batch must be ≥ 1, got " + std::to_string(o.batch));
    if (o.jitter < -1) bad("jitter must be ≥ 0 (or −1: automatic), got " + std::to_string(o.jitter));
    if (!(o.scale_min > 0 && o.scale_min <= o.scale_max && std::isfinite(o.scale_max)))
        bad("the scale range must satisfy 0 < min ≤ max, got [" + std::to_string(o.scale_min) + ", " +
            std::to_string(o.scale_max) + "]");
    if (!(o.rotate >= 0 && o.rotate <= 180)) bad("rotate must be in 0..180 degrees, got " + std::to_string(o.rotate));
    if (!(o.l2 >= 0 && std::isfinite(o.l2)) || !(o.tv >= 0 && std::isfinite(o.tv)))
        bad("the l2 and tv weights must be finite and ≥ 0, got " + std::to_string(o.l2) + " and " + std::to_string(o.tv));
    if (!(o.init_sd >= 0 && std::isfinite(o.init_sd))) bad("init_sd must be ≥ 0, got " + std::to_string(o.init_sd));
    o.adam.check();
}

inline affine_map robustness_transform(const feature_vis_options& o, int height, int step) {
    if (!o.transforms) return {};
    const std::uint64_t st = counter_random::stream(o.seed, (std::uint64_t(1) << 63) + std::uint64_t(step));
    const int j = o.jitter >= 0 ? o.jitter : int(std::lround(height / 16.0));
    affine_map shift;
    const double span = 2.0 * j + 1;  // in double: no overflow for any int jitter
    shift.by = -(std::floor(counter_random::uniform(st, 0) * span) - j);
    shift.bx = -(std::floor(counter_random::uniform(st, 1) * span) - j);
    const double s = o.scale_min + (o.scale_max - o.scale_min) * counter_random::uniform(st, 2);
    const double a = o.rotate * (2 * counter_random::uniform(st, 3) - 1);
    return affine_map::of(transform_kind::rotate, a).after(affine_map::of(transform_kind::scale, s).after(shift));
}

template <class T>
image feature_vis_result<T>::picture(std::size_t n) const {
    if (n >= count()) throw error("feature_vis_result: picture " + std::to_string(n) + " of " + std::to_string(count()));
    image img;
    img.channels = dims.channels;
    img.height = dims.height;
    img.width = dims.width;
    img.pixels.resize(dims.size());
    const T* p = pictures.data() + n * dims.size();
    for (std::size_t i = 0; i < dims.size(); ++i) img.pixels[i] = float(std::clamp(double(p[i]), 0.0, 1.0) * 255.0);
    return img;
}

template <class T>
feature_vis_result<T> visualise_features(runtime_model<T>& model, int layer, const std::vector<objective>& objectives,
                                         const preprocess& pre, const feature_vis_options& o) {
    check_options(o);
    const auto& table = model.layers();
    if (layer < 0 || std::size_t(layer) >= table.size())
        throw error("feature visualisation: layer " + std::to_string(layer) + " is outside 0.." +
                    std::to_string(table.size() - 1));
    const layer_row& row = table[std::size_t(layer)];
    if (objectives.empty()) throw error("feature visualisation: no objective given for layer " + row.name);
    for (const auto& ob : objectives) check_objective(ob, row);

    const input_dims d = model.input();
    const std::size_t S = d.size(), L = model.sample_size(layer);
    const picture_parametrisation<T> param(o.parametrisation, d.channels, d.height, d.width, o.decorrelate, o.decay_power);
    const std::size_t P = param.size();
    const feature_vis_detail::input_map<T> in(pre, d);
    const int N = int(objectives.size());

    feature_vis_result<T> r;
    r.layer = layer;
    r.objectives = objectives;
    r.dims = d;
    r.steps = o.steps;
    r.pictures.resize(std::size_t(N) * S);
    r.values.resize(std::size_t(N));
    r.curve.resize(std::size_t(N) * std::size_t(o.steps));

    model.eval();
    projection_options gradient;
    gradient.mode = rectify_mode::gradient;
    gradient.threads = convis::threads();  // the objectives' signals are dense
    [[maybe_unused]] const int threads = convis::threads();  // unused without OpenMP

    for (int first = 0; first < N; first += o.batch) {
        const int n = std::min(o.batch, N - first);
        std::vector<T> p(std::size_t(n) * P), gp(std::size_t(n) * P), u(std::size_t(n) * S), v(std::size_t(n) * S),
            x(std::size_t(n) * S), gu(std::size_t(n) * S), gv(std::size_t(n) * S), signal(std::size_t(n) * L);
        for (int b = 0; b < n; ++b) {
            const objective& ob = objectives[std::size_t(first + b)];
            param.init(p.data() + std::size_t(b) * P,
                       counter_random::stream(o.seed, feature_vis_detail::init_key(ob, std::size_t(first + b))), o.init_sd);
            objective_signal(ob, row, signal.data() + std::size_t(b) * L);
        }
        adam<T> optimiser(p.size(), o.adam);
        for (int t = 0; t < o.steps; ++t) {
            const affine_map m = robustness_transform(o, d.height, t);
#pragma omp parallel for num_threads(threads) if (n > 1)
            for (int b = 0; b < n; ++b) {
                const std::size_t at = std::size_t(b) * S;
                param.render(p.data() + std::size_t(b) * P, u.data() + at);
                if (o.transforms) affine_sample(u.data() + at, v.data() + at, d.channels, d.height, d.width, m, T(0.5));
                else std::copy_n(u.data() + at, S, v.data() + at);
                in.apply(v.data() + at, x.data() + at);
            }
            model.forward(x.data(), n);
            const T* a = model.output(layer);
            for (int b = 0; b < n; ++b)
                r.curve[std::size_t(first + b) * std::size_t(o.steps) + std::size_t(t)] =
                    objective_value(objectives[std::size_t(first + b)], row, a + std::size_t(b) * L);
            const T* gx = model.project(layer, signal.data(), gradient);
#pragma omp parallel for num_threads(threads) if (n > 1)
            for (int b = 0; b < n; ++b) {
                const std::size_t at = std::size_t(b) * S;
                in.negated_adjoint(gx + at, gv.data() + at);
                if (o.transforms) {
                    std::fill_n(gu.data() + at, S, T(0));
                    affine_sample_adjoint(gv.data() + at, gu.data() + at, d.channels, d.height, d.width, m);
                } else {
                    std::copy_n(gv.data() + at, S, gu.data() + at);
                }
                feature_vis_detail::add_penalties(u.data() + at, gu.data() + at, d, o.l2, o.tv);
                param.backward(u.data() + at, gu.data() + at, gp.data() + std::size_t(b) * P);
            }
            optimiser.step(p.data(), gp.data());
        }
        for (int b = 0; b < n; ++b) {
            param.render(p.data() + std::size_t(b) * P, r.pictures.data() + std::size_t(first + b) * S);
            in.apply(r.pictures.data() + std::size_t(first + b) * S, x.data() + std::size_t(b) * S);
        }
        model.forward(x.data(), n);
        for (int b = 0; b < n; ++b)
            r.values[std::size_t(first + b)] =
                objective_value(objectives[std::size_t(first + b)], row, model.output(layer) + std::size_t(b) * L);
    }
    return r;
}

template <class T>
own_channel_result own_channel_response(runtime_model<T>& model, const feature_vis_result<T>& r, const preprocess& pre,
                                        int batch) {
    if (batch < 1) throw error("own_channel_response: batch must be ≥ 1, got " + std::to_string(batch));
    if (r.layer < 0 || std::size_t(r.layer) >= model.layers().size())
        throw error("own_channel_response: the result's layer " + std::to_string(r.layer) + " is not a layer of this model");
    const layer_row& row = model.layers()[std::size_t(r.layer)];
    own_channel_result o;
    for (const auto& ob : r.objectives) {
        if (ob.kind != objective_kind::channel)
            throw error("own_channel_response: every objective must be a channel; got " + ob.describe());
        o.channels.push_back(ob.channel);
    }
    const int N = int(r.count());
    const std::size_t S = r.dims.size(), L = model.sample_size(r.layer);
    const feature_vis_detail::input_map<T> in(pre, r.dims);
    o.response.resize(std::size_t(N) * std::size_t(N));
    model.eval();
    std::vector<T> x;
    for (int first = 0; first < N; first += batch) {
        const int n = std::min(batch, N - first);
        x.resize(std::size_t(n) * S);
        for (int b = 0; b < n; ++b) in.apply(r.pictures.data() + std::size_t(first + b) * S, x.data() + std::size_t(b) * S);
        model.forward(x.data(), n);
        for (int b = 0; b < n; ++b)
            for (int j = 0; j < N; ++j)
                o.response[std::size_t(first + b) * N + std::size_t(j)] =
                    objective_value(r.objectives[std::size_t(j)], row, model.output(r.layer) + std::size_t(b) * L);
    }
    int wins = 0;
    o.own_best.resize(std::size_t(N));
    for (int j = 0; j < N; ++j) {
        bool best = true;
        for (int i = 0; i < N && best; ++i)
            if (i != j && !(o.response[std::size_t(j) * N + j] > o.response[std::size_t(i) * N + j])) best = false;
        o.own_best[std::size_t(j)] = best;
        wins += best;
    }
    o.fraction = N > 0 ? double(wins) / N : 0;
    return o;
}

}  // namespace convis
