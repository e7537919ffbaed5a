#pragma once
// The model-parameter randomisation test (Adebayo et al., "Sanity checks for saliency maps",
// 2018): randomise the layers' parameters one at a time from the top (cascading: the layers
// above stay random) and compare each map with the trained model's. A map that depends on what
// the model learned changes; one that stays similar is explaining the input, not the model.
//
//   Spearman   rank correlation of the two maps' pixel scores (average ranks for ties)
//   SSIM       structural similarity (Wang et al. 2004) of the two maps scaled to [0, 1]:
//              11 × 11 Gaussian window, σ 1.5, C1 = 0.01², C2 = 0.03², mean over the positions
//              where the window fits
//
// Randomisation draws each weight from N(0, 2 / fan_in) (He, std::mt19937_64 seeded) and zeroes
// biases; normalisation scales take their initial constant; buffers (running statistics) stay. The trained parameters
// are restored at the end.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "../../core/error.hpp"
#include "attribute.hpp"
#include "maps.hpp"

namespace convis {

/// Spearman's rank correlation of n values (0 when either side is constant).
inline double spearman(const float* a, const float* b, std::size_t n);
/// Mean SSIM of two h × w maps, each scaled to [0, 1] first.
inline double ssim(const float* a, const float* b, int h, int w);

struct sanity_options {
    attribution_options attribution{};
    std::uint64_t seed = 0;  ///< the random parameters' seed
};

struct sanity_result {
    std::vector<std::string> stages;  ///< "original", then each layer randomised, top first
    std::vector<float> spearman;      ///< [stages × count]
    std::vector<float> ssim;          ///< [stages × count]
    std::vector<float> mean_spearman, mean_ssim;  ///< [stages]
    std::vector<int> target;
    int count = 0;
};

/// Cascading randomisation of every layer with parameters, top to bottom; the map of
/// o.attribution at each stage compared with the original's. Targets fixed from the trained
/// model (as gradients.hpp resolves them).
template <class M>
sanity_result randomisation_check(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                                  const sanity_options& o = {});

// ---- details ------------------------------------------------------------------------------------

namespace sanity_detail {
inline std::vector<double> ranks(const float* v, std::size_t n) {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) { return v[i] < v[j]; });
    std::vector<double> r(n);
    for (std::size_t i = 0; i < n;) {
        std::size_t j = i;
        while (j + 1 < n && v[order[j + 1]] == v[order[i]]) ++j;
        const double mean = 0.5 * double(i + j) + 1;
        for (std::size_t k = i; k <= j; ++k) r[order[k]] = mean;
        i = j + 1;
    }
    return r;
}
inline double pearson(const std::vector<double>& a, const std::vector<double>& b) {
    const std::size_t n = a.size();
    const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n, mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
    double sab = 0, saa = 0, sbb = 0;
    for (std::size_t i = 0; i < n; ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}
}  // namespace sanity_detail

inline double spearman(const float* a, const float* b, std::size_t n) {
    if (n < 2) throw error("spearman: needs at least two values, got " + std::to_string(n));
    return sanity_detail::pearson(sanity_detail::ranks(a, n), sanity_detail::ranks(b, n));
}

inline double ssim(const float* a, const float* b, int h, int w) {
    constexpr int side = 11;
    constexpr double sigma = 1.5, c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
    if (h < side || w < side)
        throw error("ssim: the maps are " + std::to_string(h) + "x" + std::to_string(w) + ", the window needs at least 11x11");
    const std::size_t n = std::size_t(h) * w;
    std::vector<float> x(a, a + n), y(b, b + n);
    scale_to_unit(x.data(), n);
    scale_to_unit(y.data(), n);
    double g[side], total = 0;
    for (int i = 0; i < side; ++i) total += g[i] = std::exp(-0.5 * ((i - side / 2) / sigma) * ((i - side / 2) / sigma));
    for (double& v : g) v /= total;
    double sum = 0;
    for (int y0 = 0; y0 + side <= h; ++y0)
        for (int x0 = 0; x0 + side <= w; ++x0) {
            double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
            for (int i = 0; i < side; ++i)
                for (int j = 0; j < side; ++j) {
                    const double wt = g[i] * g[j];
                    const std::size_t at = std::size_t(y0 + i) * w + std::size_t(x0 + j);
                    mx += wt * x[at], my += wt * y[at];
                    sxx += wt * x[at] * x[at], syy += wt * y[at] * y[at], sxy += wt * x[at] * y[at];
                }
            const double vx = sxx - mx * mx, vy = syy - my * my, cxy = sxy - mx * my;
            sum += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
        }
    return sum / (double(h - side + 1) * double(w - side + 1));
}

namespace attribution_detail {

template <class E>
sanity_result randomisation_check(E& e, const typename E::T* x, int count, const std::vector<int>& targets,
                                  const sanity_options& o) {
    auto& model = e.model();
    check_count(count);
    sanity_result r;
    r.count = count;
    e.use(o.attribution);
    r.target = e.targets(targets, x, count);
    // The trained parameters, to restore at the end (host copies: one policy-independent path).
    std::vector<std::vector<float>> saved;
    for (const auto& p : model.parameter_list()) saved.emplace_back(p.values.begin(), p.values.end());

    const auto maps_now = [&] { return attribute(e, x, count, r.target, o.attribution); };
    const attribution_map original = maps_now();
    std::vector<std::vector<float>> reference;
    for (int b = 0; b < count; ++b) reference.push_back(pixel_scores(original, b));
    const auto compare = [&](const std::string& stage, const attribution_map& m) {
        r.stages.push_back(stage);
        double ms = 0, mq = 0;
        for (int b = 0; b < count; ++b) {
            const std::vector<float> s = pixel_scores(m, b);
            const auto& ref = reference[std::size_t(b)];
            r.spearman.push_back(float(spearman(ref.data(), s.data(), s.size())));
            r.ssim.push_back(float(ssim(ref.data(), s.data(), m.height, m.width)));
            ms += r.spearman.back();
            mq += r.ssim.back();
        }
        r.mean_spearman.push_back(float(ms / count));
        r.mean_ssim.push_back(float(mq / count));
    };
    compare("original", original);

    const auto restore = [&] {
        auto params = model.parameter_list();
        for (std::size_t i = 0; i < params.size(); ++i) std::copy(saved[i].begin(), saved[i].end(), params[i].values.begin());
        model.upload_parameters();
    };
    const std::vector<layer_row> table = model.layer_table();
    std::mt19937_64 rng(o.seed);
    try {
        for (auto row = table.rbegin(); row != table.rend(); ++row) {
            if (row->parameters == 0) continue;
            auto params = model.parameter_list();
            for (auto& p : params) {
                if (p.name.rfind(row->name + ".", 0) != 0 || p.is_buffer) continue;
                if (p.is_bias) std::fill(p.values.begin(), p.values.end(), 0.f);
                else if (p.constant_init >= 0) std::fill(p.values.begin(), p.values.end(), float(p.constant_init));
                else {
                    std::normal_distribution<double> normal(0.0, std::sqrt(2.0 / double(std::max(1, p.fan_in))));
                    for (auto& v : p.values) v = float(normal(rng));
                }
            }
            model.upload_parameters();
            compare(row->name, maps_now());
        }
    } catch (...) {
        restore();
        throw;
    }
    restore();
    return r;
}

}  // namespace attribution_detail

template <class M>
sanity_result randomisation_check(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                                  const sanity_options& o) {
    attribution_detail::engine<M> e(model);
    return attribution_detail::randomisation_check(e, x, count, targets, o);
}

}  // namespace convis
