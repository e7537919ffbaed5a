#pragma once
// Pictures of maps over an image, for the paper's occlusion figures (Fig. 7): a value per
// occluder position (the strongest feature map's activation, the correct class's probability)
// as a colour map, that map laid over the picture, a colour bar for its scale, and the most
// probable class per position as a class map with a legend.
//
// Colours are in the pictures' 0..255 scale; every picture made here is 3-channel RGB on a white
// (255) background. Put several side by side with stack_horizontal (io/grid.hpp).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "grid.hpp"
#include "image.hpp"
#include "plot.hpp"
#include "text_render.hpp"

namespace convis {

/// The colour for t in [0, 1] (clamped; NaN gives mid grey 128) on viridis, matplotlib's default
/// colour map: dark purple (0) through blue and green to yellow (1). Perceptually uniform and
/// readable in grey, so brighter always means more. Piecewise linear through ten samples of it.
std::array<float, 3> colour_of(double t);

/// A rows × cols map of `values` (row-major) as a picture: each value a cell × cell block of
/// colour_of((v - lo) / (hi - lo)). When hi == lo every value gets the middle colour; a value that
/// is not finite is mid grey. Picture: 3 × rows*cell × cols*cell. Throws convis::error for
/// rows or cols < 1, cell outside 1..1024 or a side over max_image_side, null values, lo or hi
/// not finite, or hi < lo.
image heat_map(const float* values, int rows, int cols, double lo, double hi, int cell = 8);

/// The map over the picture it was measured on. values[r*cols + c] belongs to the occluder square
/// with top-left corner (r*stride, c*stride) (row, column) and side `size`; each picture pixel
/// takes the value of the position whose square's centre (r*stride + size/2, c*stride + size/2)
/// is nearest to the pixel's centre, per axis (ties to the lower index), clamped to the grid, so
/// pixels outside every square take the nearest edge position. The colour (as heat_map's) is
/// blended over the picture: out = alpha * colour + (1 - alpha) * picture, a grey picture shown
/// as grey, an RGB one as it is. Result: 3 channels, the picture's size. Throws convis::error for
/// rows or cols < 1, stride or size < 1, a grid whose last square passes the picture's edge
/// ((rows-1)*stride + size > height, or the same for columns and width), a picture that is not
/// 1 or 3 channels or is empty, alpha outside [0, 1], and as heat_map for values, lo and hi.
image heat_overlay(const image& picture, const float* values, int rows, int cols, int stride, int size, double lo,
                   double hi, float alpha = 0.5f);

/// A vertical colour bar for heat_map's scale: a bar_width × height ramp (colour_of(1) in the top
/// row, colour_of(0) in the bottom row) with `hi` written beside its top and `lo` beside its
/// bottom (printf "%.3g"). Picture: 3 × height × (bar_width + 4 + the wider label + 2). Throws
/// convis::error for height < 24 (room for both labels), bar_width < 1, or lo, hi not finite.
image colour_bar(double lo, double hi, int height = 128, int bar_width = 12);

/// The class per position (labels, row-major rows × cols) as a map, each label a cell × cell block
/// of palette_colour(label) (io/plot.hpp: ten distinct colours, repeated for labels >= 10), with a
/// legend to its right: for each class that occurs, in increasing order, a swatch and the class
/// name (class_names[label]; the number when class_names is empty or that name is ""). The
/// picture is as tall as the map or the legend, whichever is taller. Throws convis::error for
/// rows or cols < 1, cell outside 1..1024 or a side over max_image_side, null labels, a negative
/// label, or (when class_names is not empty) a label >= class_names.size(), naming the label and
/// its position.
image class_map(const std::int64_t* labels, int rows, int cols, const std::vector<std::string>& class_names,
                int cell = 8);

// ---- details -------------------------------------------------------------------------------

namespace heat_detail {
/// viridis at t = 0, 1/9, ..., 1 (RGB bytes).
inline constexpr std::array<std::array<float, 3>, 10> viridis{{
    {68, 1, 84}, {72, 40, 120}, {62, 74, 137}, {49, 104, 142}, {38, 130, 142},
    {31, 158, 137}, {53, 183, 121}, {109, 205, 89}, {180, 222, 44}, {253, 231, 37},
}};
inline constexpr std::array<float, 3> grey{128.f, 128.f, 128.f};
inline constexpr std::array<float, 3> ink{34.f, 34.f, 34.f};

inline void check_grid(const char* who, int rows, int cols) {
    if (rows < 1 || cols < 1)
        throw error(std::string(who) + ": a grid of " + std::to_string(rows) + "x" + std::to_string(cols) +
                    " positions (rows x cols must be at least 1x1)");
}
inline void check_cell(const char* who, int cell, int rows, int cols) {
    if (cell < 1 || cell > 1024) throw error(std::string(who) + ": cell " + std::to_string(cell) + " is outside 1..1024");
    if (static_cast<long long>(rows) * cell > max_image_side || static_cast<long long>(cols) * cell > max_image_side)
        throw error(std::string(who) + ": " + std::to_string(rows) + "x" + std::to_string(cols) + " cells of " +
                    std::to_string(cell) + " px make a side longer than " + std::to_string(max_image_side));
}
inline void check_range(const char* who, double lo, double hi) {
    if (!std::isfinite(lo) || !std::isfinite(hi) || hi < lo)
        throw error(std::string(who) + ": value range lo=" + std::to_string(lo) + " hi=" + std::to_string(hi) +
                    " (expected finite lo <= hi)");
}
/// The colour of value v on the scale lo..hi (checked by the caller).
inline std::array<float, 3> colour(float v, double lo, double hi) {
    if (!std::isfinite(v)) return grey;
    return colour_of(hi > lo ? (double(v) - lo) / (hi - lo) : 0.5);
}
inline void fill(image& img, int y, int x, int h, int w, const std::array<float, 3>& rgb) {
    for (int c = 0; c < 3; ++c)
        for (int r = y; r < y + h; ++r)
            for (int q = x; q < x + w; ++q) img.at(c, r, q) = rgb[std::size_t(c)];
}
/// For each pixel 0..n-1 along one axis, the grid index whose square's centre is nearest.
inline std::vector<int> nearest(int n, int count, int stride, int size) {
    std::vector<int> index(static_cast<std::size_t>(n));
    for (int p = 0; p < n; ++p) {
        const double q = (p + 0.5 - size / 2.0) / stride;   // fractional grid index of the pixel centre
        const double k = std::ceil(q - 0.5);                 // nearest, ties to the lower index
        index[std::size_t(p)] = int(std::clamp(k, 0.0, double(count - 1)));
    }
    return index;
}
inline std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
}
}  // namespace heat_detail

inline std::array<float, 3> colour_of(double t) {
    if (std::isnan(t)) return heat_detail::grey;
    const double s = std::clamp(t, 0.0, 1.0) * double(heat_detail::viridis.size() - 1);
    const std::size_t i = std::min(std::size_t(s), heat_detail::viridis.size() - 2);
    const double f = s - double(i);
    std::array<float, 3> rgb{};
    for (std::size_t c = 0; c < 3; ++c)
        rgb[c] = float((1.0 - f) * double(heat_detail::viridis[i][c]) + f * double(heat_detail::viridis[i + 1][c]));
    return rgb;
}

inline image heat_map(const float* values, int rows, int cols, double lo, double hi, int cell) {
    heat_detail::check_grid("heat_map", rows, cols);
    heat_detail::check_cell("heat_map", cell, rows, cols);
    heat_detail::check_range("heat_map", lo, hi);
    if (!values) throw error("heat_map: null values");
    image out = grid_detail::blank(3, rows * cell, cols * cell, 255.f);
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c)
            heat_detail::fill(out, r * cell, c * cell, cell, cell,
                              heat_detail::colour(values[std::size_t(r) * cols + c], lo, hi));
    return out;
}

inline image heat_overlay(const image& picture, const float* values, int rows, int cols, int stride, int size,
                          double lo, double hi, float alpha) {
    heat_detail::check_grid("heat_overlay", rows, cols);
    heat_detail::check_range("heat_overlay", lo, hi);
    if (!values) throw error("heat_overlay: null values");
    image_detail::check(picture, "heat_overlay");
    if (picture.channels != 1 && picture.channels != 3)
        throw error("heat_overlay: a picture of " + std::to_string(picture.channels) + " channels (expected 1 or 3)");
    if (picture.width < 1 || picture.height < 1) throw error("heat_overlay: the picture is empty");
    if (stride < 1 || size < 1)
        throw error("heat_overlay: stride " + std::to_string(stride) + " and size " + std::to_string(size) +
                    " must be at least 1");
    if (!(alpha >= 0.f && alpha <= 1.f)) throw error("heat_overlay: alpha " + std::to_string(alpha) + " is outside [0, 1]");
    const long long need_h = static_cast<long long>(rows - 1) * stride + size;
    const long long need_w = static_cast<long long>(cols - 1) * stride + size;
    if (need_h > picture.height || need_w > picture.width)
        throw error("heat_overlay: a grid of " + std::to_string(rows) + "x" + std::to_string(cols) + " squares of " +
                    std::to_string(size) + " px at stride " + std::to_string(stride) + " covers " +
                    std::to_string(need_h) + "x" + std::to_string(need_w) + " px, the picture is " +
                    std::to_string(picture.height) + "x" + std::to_string(picture.width) + " (height x width)");
    const std::vector<int> row_of = heat_detail::nearest(picture.height, rows, stride, size);
    const std::vector<int> col_of = heat_detail::nearest(picture.width, cols, stride, size);
    std::vector<std::array<float, 3>> colours(std::size_t(rows) * cols);
    for (std::size_t i = 0; i < colours.size(); ++i) colours[i] = heat_detail::colour(values[i], lo, hi);
    image out = grid_detail::blank(3, picture.height, picture.width, 0.f);
    for (int y = 0; y < picture.height; ++y)
        for (int x = 0; x < picture.width; ++x) {
            const auto& rgb = colours[std::size_t(row_of[std::size_t(y)]) * cols + col_of[std::size_t(x)]];
            for (int c = 0; c < 3; ++c) {
                const float base = picture.at(picture.channels == 1 ? 0 : c, y, x);
                out.at(c, y, x) = alpha * rgb[std::size_t(c)] + (1.f - alpha) * base;
            }
        }
    return out;
}

inline image colour_bar(double lo, double hi, int height, int bar_width) {
    if (!std::isfinite(lo) || !std::isfinite(hi))
        throw error("colour_bar: lo=" + std::to_string(lo) + " hi=" + std::to_string(hi) + " (expected finite values)");
    if (height < 24 || height > 16384 || bar_width < 1 || bar_width > 1024)
        throw error("colour_bar: height " + std::to_string(height) + " and bar_width " + std::to_string(bar_width) +
                    " (expected 24..16384 and 1..1024)");
    const std::string top = heat_detail::number(hi), bottom = heat_detail::number(lo);
    const int label_x = bar_width + 4;
    const int width = label_x + std::max(text_width(top), text_width(bottom)) + 2;
    image out = grid_detail::blank(3, height, width, 255.f);
    for (int r = 0; r < height; ++r)
        heat_detail::fill(out, r, 0, 1, bar_width, colour_of(double(height - 1 - r) / double(height - 1)));
    draw_text(out, label_x, 0, top, heat_detail::ink);
    draw_text(out, label_x, height - 10, bottom, heat_detail::ink);  // digits are 10 px tall or less
    return out;
}

inline image class_map(const std::int64_t* labels, int rows, int cols, const std::vector<std::string>& class_names,
                       int cell) {
    heat_detail::check_grid("class_map", rows, cols);
    heat_detail::check_cell("class_map", cell, rows, cols);
    if (!labels) throw error("class_map: null labels");
    std::set<std::int64_t> present;
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) {
            const std::int64_t k = labels[std::size_t(r) * cols + c];
            if (k < 0 || (!class_names.empty() && k >= std::int64_t(class_names.size())))
                throw error("class_map: label " + std::to_string(k) + " at row " + std::to_string(r) + ", column " +
                            std::to_string(c) + " is outside 0.." +
                            (class_names.empty() ? std::string("(no upper bound)")
                                                 : std::to_string(class_names.size() - 1) + " (" +
                                                       std::to_string(class_names.size()) + " class names)"));
            present.insert(k);
        }
    const auto colour = [](std::int64_t k) {
        const auto b = palette_colour(std::size_t(k));
        return std::array<float, 3>{float(b[0]), float(b[1]), float(b[2])};
    };
    const auto name = [&](std::int64_t k) {
        const bool named = !class_names.empty() && !class_names[std::size_t(k)].empty();
        return named ? class_names[std::size_t(k)] : std::to_string(k);
    };
    // Legend: a row of 14 px per class present, a 10 px swatch, then the name.
    const int map_h = rows * cell, map_w = cols * cell;
    const int row_h = 14, swatch = 10, legend_x = map_w + 8, text_x = legend_x + swatch + 4;
    int text_w = 0;
    for (const std::int64_t k : present) text_w = std::max(text_w, text_width(name(k)));
    const int height = std::max(map_h, 2 + int(present.size()) * row_h);
    image out = grid_detail::blank(3, height, text_x + text_w + 4, 255.f);
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) heat_detail::fill(out, r * cell, c * cell, cell, cell, colour(labels[std::size_t(r) * cols + c]));
    int y = 2;
    for (const std::int64_t k : present) {
        heat_detail::fill(out, y, legend_x, swatch, swatch, colour(k));
        draw_text(out, text_x, y, name(k), heat_detail::ink);
        y += row_h;
    }
    return out;
}

}  // namespace convis
