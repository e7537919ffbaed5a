#pragma once
// Small algebra on attribution maps, shared by the methods and the metrics: bilinear upsampling
// (the CAM family's "up"), the per-pixel score of a map, min–max scaling.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "method.hpp"

namespace convis {

/// Resizes `count` planes of h × w to `out_h` × `out_w` as PyTorch's
/// F.interpolate(mode="bilinear", align_corners=False): sample (y + ½)·h/out_h − ½, clamped at 0.
inline void upsample_bilinear(const float* in, int count, int h, int w, int out_h, int out_w, float* out);

/// One score per pixel of image b of a map: the map itself when it has one channel, else
/// Σ_c |value| (the "absolute value" view of Captum's visualize_image_attr). height × width values.
inline std::vector<float> pixel_scores(const attribution_map& m, int b);

/// (v − min) / (max − min) in place; a constant plane becomes all zeros.
inline void scale_to_unit(float* v, std::size_t n);

// ---- details ------------------------------------------------------------------------------------

namespace maps_detail {
/// Source index pair and weight of one output coordinate, PyTorch's align_corners=False rule.
struct tap {
    int i0, i1;
    float t;
};
inline std::vector<tap> taps(int in, int out) {
    std::vector<tap> r(static_cast<std::size_t>(out));
    const double scale = double(in) / double(out);
    for (int o = 0; o < out; ++o) {
        const double src = std::max(0.0, (o + 0.5) * scale - 0.5);
        const int i0 = std::min(int(src), in - 1);
        r[std::size_t(o)] = {i0, std::min(i0 + 1, in - 1), float(src - i0)};
    }
    return r;
}
}  // namespace maps_detail

inline void upsample_bilinear(const float* in, int count, int h, int w, int out_h, int out_w, float* out) {
    if (h < 1 || w < 1 || out_h < 1 || out_w < 1)
        throw error("upsample_bilinear: sizes must be positive, got " + std::to_string(h) + "x" + std::to_string(w) +
                    " to " + std::to_string(out_h) + "x" + std::to_string(out_w));
    const auto ys = maps_detail::taps(h, out_h), xs = maps_detail::taps(w, out_w);
    for (int c = 0; c < count; ++c) {
        const float* p = in + std::size_t(c) * h * w;
        float* q = out + std::size_t(c) * out_h * out_w;
        for (int y = 0; y < out_h; ++y) {
            const auto& ty = ys[std::size_t(y)];
            const float* r0 = p + std::size_t(ty.i0) * w;
            const float* r1 = p + std::size_t(ty.i1) * w;
            for (int x = 0; x < out_w; ++x) {
                const auto& tx = xs[std::size_t(x)];
                const float top = r0[tx.i0] + tx.t * (r0[tx.i1] - r0[tx.i0]);
                const float bottom = r1[tx.i0] + tx.t * (r1[tx.i1] - r1[tx.i0]);
                q[std::size_t(y) * out_w + x] = top + ty.t * (bottom - top);
            }
        }
    }
}

inline std::vector<float> pixel_scores(const attribution_map& m, int b) {
    const std::size_t plane = std::size_t(m.height) * std::size_t(m.width);
    const float* s = m.sample(b);
    if (m.channels == 1) return std::vector<float>(s, s + plane);
    std::vector<float> out(plane, 0.f);
    for (int c = 0; c < m.channels; ++c)
        for (std::size_t i = 0; i < plane; ++i) out[i] += std::abs(s[std::size_t(c) * plane + i]);
    return out;
}

inline void scale_to_unit(float* v, std::size_t n) {
    if (n == 0) return;
    const auto [lo, hi] = std::minmax_element(v, v + n);
    const float a = *lo, span = *hi - *lo;
    for (std::size_t i = 0; i < n; ++i) v[i] = span > 0 ? (v[i] - a) / span : 0.f;
}

}  // namespace convis
