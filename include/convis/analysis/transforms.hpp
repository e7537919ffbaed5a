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
    if (channels < 1 || height < 1 || width < 1)
        throw error("transform_image: expected a positive image size, got " + std::to_string(channels) + "×" +
                    std::to_string(height) + "×" + std::to_string(width));
    if (!std::isfinite(value))
        throw error("transform_image: the " + std::string(transform_name(kind)) + " value is not finite");
    if (kind == transform_kind::scale && !(value > 0))
        throw error("transform_image: a scale factor must be positive, got " + std::to_string(value));
    const double cy = 0.5 * (height - 1), cx = 0.5 * (width - 1);
    double cos_a = 1, sin_a = 0;
    if (kind == transform_kind::rotate) {
        const double a = value * (3.14159265358979323846 / 180.0);
        cos_a = std::cos(a);
        sin_a = std::sin(a);
    }
    const std::size_t plane = std::size_t(height) * std::size_t(width);
    for (int i = 0; i < height; ++i)
        for (int j = 0; j < width; ++j) {
            double sy = i, sx = j;
            switch (kind) {
                case transform_kind::translate: sy = i - value; break;
                case transform_kind::scale:
                    sy = cy + (i - cy) / value;
                    sx = cx + (j - cx) / value;
                    break;
                case transform_kind::rotate:
                    sx = cx + cos_a * (j - cx) - sin_a * (i - cy);
                    sy = cy + sin_a * (j - cx) + cos_a * (i - cy);
                    break;
            }
            const double fy = std::floor(sy), fx = std::floor(sx);
            const double wy = sy - fy, wx = sx - fx;
            // Far outside: every neighbour is fill (also keeps the int conversion in range).
            if (fy < -1 || fy > height || fx < -1 || fx > width) {
                for (int c = 0; c < channels; ++c) dst[std::size_t(c) * plane + std::size_t(i) * width + j] = fill;
                continue;
            }
            const int y0 = int(fy), x0 = int(fx);
            const bool in_y0 = y0 >= 0 && y0 < height, in_y1 = y0 + 1 >= 0 && y0 + 1 < height;
            const bool in_x0 = x0 >= 0 && x0 < width, in_x1 = x0 + 1 >= 0 && x0 + 1 < width;
            const double w00 = (1 - wy) * (1 - wx), w01 = (1 - wy) * wx, w10 = wy * (1 - wx), w11 = wy * wx;
            for (int c = 0; c < channels; ++c) {
                const T* p = src + std::size_t(c) * plane;
                const auto at = [&](bool inside, int y, int x) {
                    return inside ? double(p[std::size_t(y) * width + x]) : double(fill);
                };
                double v;
                if (wy == 0 && wx == 0) v = at(in_y0 && in_x0, y0, x0);  // on a pixel: exact copy
                else
                    v = w00 * at(in_y0 && in_x0, y0, x0) + w01 * at(in_y0 && in_x1, y0, x0 + 1) +
                        w10 * at(in_y1 && in_x0, y0 + 1, x0) + w11 * at(in_y1 && in_x1, y0 + 1, x0 + 1);
                dst[std::size_t(c) * plane + std::size_t(i) * width + j] = T(v);
            }
        }
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
