#pragma once
// The image transformations of the paper's invariance study (Fig. 5): vertical translation, scaling
// about the centre and rotation about the centre, sampled bilinearly, on one preprocessed sample
// (C × H × W, as the network reads it).
//
// Defined to equal PyTorch's
//     F.grid_sample(x - fill, F.affine_grid(theta, x.shape, align_corners=False),
//                   mode='bilinear', padding_mode='zeros', align_corners=False) + fill
// for the theta given below, so the transformed images can be checked against PyTorch. In pixel
// terms: output pixel (i, j) reads the input at (sy, sx), bilinearly from its four neighbours, and
// a neighbour outside the image contributes `fill` (so the border blends into the fill the way
// grid_sample's zero padding does after the shift by fill). With c_y = (H − 1)/2, c_x = (W − 1)/2:
//
//   translate v:  sy = i − v,  sx = j                      content moves DOWN by v pixels
//                 theta = [[1, 0, 0], [0, 1, −2v/H]]
//   scale s:      sy = c_y + (i − c_y)/s,  sx = c_x + (j − c_x)/s        s > 1 enlarges
//                 theta = [[1/s, 0, 0], [0, 1/s, 0]]
//   rotate a°:    sx = c_x + cos a·(j − c_x) − sin a·(i − c_y)
//                 sy = c_y + sin a·(j − c_x) + cos a·(i − c_y)
//                 theta = [[cos a, −sin a·H/W, 0], [sin a·W/H, cos a, 0]]
//                 positive a turns the content COUNTER-CLOCKWISE on screen (rows run down), as
//                 PIL's and torchvision's rotate do; the H/W factors keep the turn rigid in pixels
//                 on a non-square image.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "../core/error.hpp"
#include "../core/op_desc.hpp"
#include "../core/policy.hpp"  // fill_box: ops<cpu>'s masking loop, the one the GPU's mirrors

namespace convis {

enum class transform_kind { translate, scale, rotate };

/// "translate", "scale" or "rotate"; a convis::error naming the valid ones otherwise.
inline transform_kind parse_transform(std::string_view name);
/// The name parse_transform reads.
inline std::string_view transform_name(transform_kind kind);

/// Writes the transformed `src` (channels × height × width) to `dst` (same size, not aliasing
/// src). `value` is pixels of downward shift, a zoom factor (> 0) or degrees counter-clockwise.
/// Identity values (0 px, factor 1, 0°) copy exactly.
template <class T>
void transform_image(const T* src, T* dst, int channels, int height, int width, transform_kind kind, double value,
                     std::type_identity_t<T> fill);

/// Where each output pixel reads its input, about the centre c = ((H − 1)/2, (W − 1)/2):
///     (sy, sx) = c + A·((i, j) − c) + b
/// A map of one transform_kind, or a composition (feature visualisation's random jitter, scale and
/// rotation in one resampling). In PyTorch terms: affine_grid's theta is
/// [[xx, xy·H/W, 2·bx/W], [yx·W/H, yy, 2·by/H]] (align_corners=False).
struct affine_map {
    double yy = 1, yx = 0, xy = 0, xx = 1;  ///< A: sy − cy = yy·(i − cy) + yx·(j − cx) + by
    double by = 0, bx = 0;

    /// The map of transform_image(kind, value).
    static affine_map of(transform_kind kind, double value);
    /// This map after `first`: the output of applying `first`, then this (a = this ∘ first: the
    /// picture moves by `first`, then by this).
    affine_map after(const affine_map& first) const;
};

/// Resamples `src` (channels × height × width) into `dst` (same size, not aliasing src) through
/// `m`, bilinearly; a neighbour outside the image contributes `fill`.
template <class T>
void affine_sample(const T* src, T* dst, int channels, int height, int width, const affine_map& m,
                   std::type_identity_t<T> fill);

/// The adjoint of affine_sample in its image (the fill is a constant): adds to `grad_src` the
/// gradient of a loss with respect to src given its gradient `grad_dst` with respect to dst.
template <class T>
void affine_sample_adjoint(const T* grad_dst, T* grad_src, int channels, int height, int width, const affine_map& m);

/// The paper's ranges (Fig. 5 axes): translation −60…60 px in steps of 10 px at 224 rows, both
/// scaled by height/224 (so 0 stays a value: k·10·height/224 for k = −6…6); scale 1.0…1.8 in steps
/// of 0.1; rotation 0…350° in steps of 10°.
inline std::vector<double> default_transform_values(transform_kind kind, int height);

/// A rectangle of an image in pixels: top-left corner (y, x), height and width.
struct box {
    int y, x, height, width;
    bool operator==(const box&) const = default;
};

/// Writes `fill` into box `b` of every channel of one channels × height × width sample: the mask of
/// occlusion and correspondence (a box not wholly inside the image is an error).
template <class T, class Policy = cpu>
void fill_box(T* image, int channels, int height, int width, const box& b, std::type_identity_t<T> fill);

// ---- details ------------------------------------------------------------------------------------

inline transform_kind parse_transform(std::string_view name) {
    if (name == "translate") return transform_kind::translate;
    if (name == "scale") return transform_kind::scale;
    if (name == "rotate") return transform_kind::rotate;
    throw error("unknown transform '" + std::string(name) + "'; the transforms are translate, scale, rotate");
}

inline std::string_view transform_name(transform_kind kind) {
    switch (kind) {
        case transform_kind::translate: return "translate";
        case transform_kind::scale: return "scale";
        case transform_kind::rotate: return "rotate";
    }
    return "?";
}

template <class T>
void transform_image(const T* src, T* dst, int channels, int height, int width, transform_kind kind, double value,
                     std::type_identity_t<T> fill) {
    if (!std::isfinite(value))
        throw error("transform_image: the " + std::string(transform_name(kind)) + " value is not finite");
    if (kind == transform_kind::scale && !(value > 0))
        throw error("transform_image: a scale factor must be positive, got " + std::to_string(value));
    affine_sample(src, dst, channels, height, width, affine_map::of(kind, value), fill);
}

inline affine_map affine_map::of(transform_kind kind, double value) {
    affine_map m;
    switch (kind) {
        case transform_kind::translate: m.by = -value; break;
        case transform_kind::scale: m.yy = m.xx = 1 / value; break;
        case transform_kind::rotate: {
            const double a = value * (3.14159265358979323846 / 180.0);
            m.yy = m.xx = std::cos(a);
            m.yx = std::sin(a);
            m.xy = -m.yx;
            break;
        }
    }
    return m;
}

inline affine_map affine_map::after(const affine_map& first) const {
    // out(p) = mid(c + A·(p − c) + b), mid(q) = src(c + F·(q − c) + f): the composition reads
    // src at c + F·A·(p − c) + F·b + f.
    affine_map r;
    r.yy = first.yy * yy + first.yx * xy;
    r.yx = first.yy * yx + first.yx * xx;
    r.xy = first.xy * yy + first.xx * xy;
    r.xx = first.xy * yx + first.xx * xx;
    r.by = first.yy * by + first.yx * bx + first.by;
    r.bx = first.xy * by + first.xx * bx + first.bx;
    return r;
}

namespace transform_detail {

/// Calls f(c0, weights[4], neighbour offsets[4], inside[4]) for each output pixel (its channel-0
/// offset) with the bilinear neighbours it reads; `outside` for a pixel whose neighbours all lie
/// outside the image.
template <class Pixel, class Outside>
void for_each_sample(int height, int width, const affine_map& m, Pixel&& pixel, Outside&& outside) {
    const double cy = 0.5 * (height - 1), cx = 0.5 * (width - 1);
    for (int i = 0; i < height; ++i)
        for (int j = 0; j < width; ++j) {
            const std::size_t at = std::size_t(i) * width + j;
            const double sy = cy + (m.yy * (i - cy) + m.yx * (j - cx)) + m.by;
            const double sx = cx + (m.xy * (i - cy) + m.xx * (j - cx)) + m.bx;
            const double fy = std::floor(sy), fx = std::floor(sx);
            // Far outside: every neighbour is fill (also keeps the int conversion in range).
            if (!(fy >= -1 && fy <= height && fx >= -1 && fx <= width)) {
                outside(at);
                continue;
            }
            const double wy = sy - fy, wx = sx - fx;
            const int y0 = int(fy), x0 = int(fx);
            const bool in_y0 = y0 >= 0 && y0 < height, in_y1 = y0 + 1 >= 0 && y0 + 1 < height;
            const bool in_x0 = x0 >= 0 && x0 < width, in_x1 = x0 + 1 >= 0 && x0 + 1 < width;
            const double w[4] = {(1 - wy) * (1 - wx), (1 - wy) * wx, wy * (1 - wx), wy * wx};
            const bool in[4] = {in_y0 && in_x0, in_y0 && in_x1, in_y1 && in_x0, in_y1 && in_x1};
            const std::ptrdiff_t base = std::ptrdiff_t(y0) * width + x0;
            const std::ptrdiff_t off[4] = {base, base + 1, base + width, base + width + 1};
            pixel(at, w, off, in, wy == 0 && wx == 0);
        }
}

inline void check_size(const char* who, int channels, int height, int width) {
    if (channels < 1 || height < 1 || width < 1)
        throw error(std::string(who) + ": expected a positive image size, got " + std::to_string(channels) + "×" +
                    std::to_string(height) + "×" + std::to_string(width));
}

}  // namespace transform_detail

template <class T>
void affine_sample(const T* src, T* dst, int channels, int height, int width, const affine_map& m,
                   std::type_identity_t<T> fill) {
    transform_detail::check_size("affine_sample", channels, height, width);
    const std::size_t plane = std::size_t(height) * std::size_t(width);
    transform_detail::for_each_sample(
        height, width, m,
        [&](std::size_t at, const double* w, const std::ptrdiff_t* off, const bool* in, bool on_pixel) {
            for (int c = 0; c < channels; ++c) {
                const T* p = src + std::size_t(c) * plane;
                const auto value = [&](int k) { return in[k] ? double(p[off[k]]) : double(fill); };
                // On a pixel: an exact copy.
                dst[std::size_t(c) * plane + at] =
                    on_pixel ? T(value(0)) : T(w[0] * value(0) + w[1] * value(1) + w[2] * value(2) + w[3] * value(3));
            }
        },
        [&](std::size_t at) {
            for (int c = 0; c < channels; ++c) dst[std::size_t(c) * plane + at] = fill;
        });
}

template <class T>
void affine_sample_adjoint(const T* grad_dst, T* grad_src, int channels, int height, int width, const affine_map& m) {
    transform_detail::check_size("affine_sample_adjoint", channels, height, width);
    const std::size_t plane = std::size_t(height) * std::size_t(width);
    transform_detail::for_each_sample(
        height, width, m,
        [&](std::size_t at, const double* w, const std::ptrdiff_t* off, const bool* in, bool) {
            for (int c = 0; c < channels; ++c) {
                const double g = double(grad_dst[std::size_t(c) * plane + at]);
                T* q = grad_src + std::size_t(c) * plane;
                for (int k = 0; k < 4; ++k)
                    if (in[k] && w[k] != 0) q[off[k]] += T(w[k] * g);
            }
        },
        [](std::size_t) {});
}

inline std::vector<double> default_transform_values(transform_kind kind, int height) {
    if (height < 1) throw error("default_transform_values: expected a positive image height, got " + std::to_string(height));
    std::vector<double> v;
    switch (kind) {
        case transform_kind::translate:
            for (int k = -6; k <= 6; ++k) v.push_back(k * 10.0 * height / 224.0);
            break;
        case transform_kind::scale:
            for (int k = 0; k <= 8; ++k) v.push_back(1.0 + k / 10.0);
            break;
        case transform_kind::rotate:
            for (int k = 0; k < 36; ++k) v.push_back(10.0 * k);
            break;
    }
    return v;
}

namespace box_detail {
inline std::string describe(const box& b) {
    return "(y " + std::to_string(b.y) + ", x " + std::to_string(b.x) + ", height " + std::to_string(b.height) +
           ", width " + std::to_string(b.width) + ")";
}
inline void check_inside(const char* who, const std::string& what, const box& b, int height, int width) {
    if (b.height < 1 || b.width < 1 || b.y < 0 || b.x < 0 || b.height > height - b.y || b.width > width - b.x)
        throw error(std::string(who) + ": " + what + " " + describe(b) + " is not inside the " +
                    std::to_string(height) + "×" + std::to_string(width) + " image");
}
}  // namespace box_detail

template <class T, class Policy>
void fill_box(T* image, int channels, int height, int width, const box& b, std::type_identity_t<T> fill) {
    static_assert(Policy::host_memory, "fill_box: the image is a host array");
    box_detail::check_inside("fill_box", "the box", b, height, width);
    ops<Policy>::fill_box(box_desc{channels, height, width, b.y, b.x, b.height, b.width}, T(fill), image);
}

}  // namespace convis
