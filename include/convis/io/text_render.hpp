#pragma once
// Small text drawn into pictures (labels on colour bars and class maps), with the bitmap font of
// stb_easy_font: about 6 pixels a character, 12 pixels a line, ASCII only.
//
// stb_easy_font.h defines only `static` functions and tables, so including it here clashes with
// nothing: another translation unit may include it too, and if this one already did, its include
// guard keeps the one copy. Its spacing setting (stb_easy_font_spacing) is assumed to be the
// default 0 by text_width.
#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "../core/error.hpp"
#include "image.hpp"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wcast-align"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#ifndef __clang__  // a GCC-only warning; clang would warn that it does not know it
#pragma GCC diagnostic ignored "-Wuseless-cast"
#endif
#include <stb/stb_easy_font.h>
#pragma GCC diagnostic pop

namespace convis {

/// Draws `text` with its top-left corner at (x, y) (pixels; the text may start or run outside the
/// picture: what falls outside is clipped). Each font pixel is a scale × scale square. '\n'
/// starts a new line 12*scale pixels lower; any byte outside printable ASCII (32..126) is drawn as
/// '?'. `rgb` is the colour in the picture's 0..255 scale; a 1-channel picture gets the mean of
/// the three. Pixels under the glyphs are set, all others are left alone; everything drawn lies
/// in [x, x + text_width) × [y, y + text_height). Throws convis::error for a picture that is not
/// 1 or 3 channels or a scale outside 1..64.
void draw_text(image& img, int x, int y, std::string_view text, const std::array<float, 3>& rgb, int scale = 1);

/// The width in pixels of the widest line of `text` as draw_text draws it.
int text_width(std::string_view text, int scale = 1);

/// The height in pixels of `text` as draw_text draws it: 12*scale per line (0 for "").
int text_height(std::string_view text, int scale = 1);

// ---- details -------------------------------------------------------------------------------

namespace text_detail {
/// The text as stb_easy_font wants it: NUL-terminated, printable ASCII and '\n' only (the font
/// indexes its tables by character, so anything else would read outside them).
inline std::vector<char> ascii(std::string_view text) {
    std::vector<char> s;
    s.reserve(text.size() + 1);
    for (const char c : text) s.push_back(c == '\n' || (c >= 32 && c <= 126) ? c : '?');
    s.push_back('\0');
    return s;
}
inline void check_scale(int scale, const char* who) {
    if (scale < 1 || scale > 64) throw error(std::string(who) + ": scale " + std::to_string(scale) + " is outside 1..64");
}
}  // namespace text_detail

inline int text_width(std::string_view text, int scale) {
    text_detail::check_scale(scale, "text_width");
    std::vector<char> s = text_detail::ascii(text);
    return stb_easy_font_width(s.data()) * scale;
}

inline int text_height(std::string_view text, int scale) {
    text_detail::check_scale(scale, "text_height");
    std::vector<char> s = text_detail::ascii(text);
    return stb_easy_font_height(s.data()) * scale;
}

inline void draw_text(image& img, int x, int y, std::string_view text, const std::array<float, 3>& rgb, int scale) {
    text_detail::check_scale(scale, "draw_text");
    image_detail::check(img, "draw_text");
    if (img.channels != 1 && img.channels != 3)
        throw error("draw_text: a picture of " + std::to_string(img.channels) + " channels (expected 1 or 3)");
    std::vector<char> s = text_detail::ascii(text);
    // Enough room for every segment of every character (the font's tables give the counts).
    std::size_t segments = 0;
    for (const char c : s) {
        if (c < 32) continue;  // '\n' and the terminating NUL
        const int i = c - 32;
        segments += std::size_t(stb_easy_font_charinfo[i + 1].h_seg - stb_easy_font_charinfo[i].h_seg) +
                    std::size_t(stb_easy_font_charinfo[i + 1].v_seg - stb_easy_font_charinfo[i].v_seg);
    }
    struct vertex {  // stb_easy_font's vertex: x, y, z as floats, then 4 colour bytes
        float x, y, z;
        unsigned char colour[4];
    };
    static_assert(sizeof(vertex) == 16);
    std::vector<vertex> quads(4 * segments + 4);
    const int n = stb_easy_font_print(0.f, 0.f, s.data(), nullptr, quads.data(), int(quads.size() * sizeof(vertex)));
    const float grey = (rgb[0] + rgb[1] + rgb[2]) / 3.f;
    for (int q = 0; q < n; ++q) {
        // Each quad is an axis-aligned rectangle with integer corners: vertices 0 and 2 are
        // opposite corners.
        const vertex& a = quads[std::size_t(4 * q)];
        const vertex& b = quads[std::size_t(4 * q + 2)];
        using wide = long long;  // x + offset may pass INT_MAX for text far off the picture
        const wide x0 = x + wide(std::min(a.x, b.x)) * scale, x1 = x + wide(std::max(a.x, b.x)) * scale;
        const wide y0 = y + wide(std::min(a.y, b.y)) * scale, y1 = y + wide(std::max(a.y, b.y)) * scale;
        const int xa = int(std::clamp<wide>(x0, 0, img.width)), xb = int(std::clamp<wide>(x1, 0, img.width));
        const int ya = int(std::clamp<wide>(y0, 0, img.height)), yb = int(std::clamp<wide>(y1, 0, img.height));
        for (int c = 0; c < img.channels; ++c) {
            const float v = img.channels == 1 ? grey : rgb[std::size_t(c)];
            for (int yy = ya; yy < yb; ++yy)
                for (int xx = xa; xx < xb; ++xx) img.at(c, yy, xx) = v;
        }
    }
}

}  // namespace convis
