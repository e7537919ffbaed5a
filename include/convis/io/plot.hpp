#pragma once
// Line plots as SVG text, for curves like the paper's Fig. 5 (a quantity against translation,
// scale or rotation, one line per image or per class). The result is a standalone SVG document
// that can also be put inline in an HTML page (io/html.hpp); it uses no fonts, scripts or other
// files from outside, only the generic "sans-serif" family.
//
// Also here because the plots, the class maps (io/heatmap.hpp) and the report (io/html.hpp) share
// them: the qualitative palette and XML escaping.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../core/error.hpp"

namespace convis {

/// One line: the points (x[i], y[i]) joined in the given order (x need not be sorted). A point
/// whose x or y is not finite (NaN, ±inf) is not drawn and breaks the line there.
struct plot_series {
    std::string name;
    std::vector<double> x, y;
};

/// A plot: the axes are fitted to the finite data and widened to "nice" tick values (1, 2 or 5
/// times a power of ten); y_min / y_max, when set, fix that end of the y axis exactly (lines that
/// leave the range are cut at the frame). width × height is the size of the SVG in pixels; the
/// legend (under the x axis, one entry per series, wrapped into rows) takes its height from the
/// plot area, and makes the SVG taller only when the plot area would shrink below 60 pixels.
struct line_plot {
    std::string title, x_label, y_label;
    std::vector<plot_series> series;
    std::optional<double> y_min, y_max;
    int width = 420, height = 300;
};

/// The plot as a complete SVG document (<svg xmlns="http://www.w3.org/2000/svg" ...>...</svg>,
/// no XML declaration, so it can be put inline in HTML). Series i has colour
/// palette_colour(i): one <path class="series"> per series (its gaps are "M" moves within that
/// path) and a small circle at each drawn point (left out for series of more than 200 points,
/// except for points that stand alone between gaps). No series gives an empty frame with axes
/// 0..1; a constant series, or a single point, gets an axis of nonzero span around its value.
/// Throws convis::error when a series has x.size() != y.size() (naming the series and both
/// sizes), when width < 120 or height < 100, when y_min or y_max is not finite, when
/// y_min >= y_max, and when the finite data span more than a double can hold.
std::string to_svg(const line_plot& plot);

/// Colour i of the fixed qualitative palette, as 0..255 RGB: the ten colours of Tableau 10 /
/// matplotlib's "tab10" (blue, orange, green, red, purple, brown, pink, grey, olive, cyan),
/// repeated from the start for i >= 10.
std::array<std::uint8_t, 3> palette_colour(std::size_t i);

/// "#rrggbb" for palette_colour(i).
std::string palette_hex(std::size_t i);

/// `text` made safe for XML and HTML text and attribute values: & < > " ' become entities, and
/// the control characters that XML 1.0 forbids (all below U+0020 except tab, newline, return)
/// become '?'. Other bytes (UTF-8 included) are kept as they are.
std::string xml_escape(std::string_view text);

// ---- details -------------------------------------------------------------------------------

namespace plot_detail {

inline constexpr std::array<std::array<std::uint8_t, 3>, 10> palette{{
    {31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40}, {148, 103, 189},
    {140, 86, 75}, {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207},
}};

/// A number for an SVG coordinate: two decimals are more than a screen resolves.
inline std::string coord(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

/// Ticks for an axis: multiples of `step` from `lo` to `hi` (inclusive, within rounding).
struct axis {
    double lo = 0, hi = 1, step = 0.2;
    std::vector<double> ticks;
};

/// The nice step (1, 2 or 5 times a power of ten) that splits `span` into about `target` parts.
inline double nice_step(double span, int target) {
    const double raw = span / target;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double r = raw / mag;
    return (r < 1.5 ? 1.0 : r < 3.0 ? 2.0 : r < 7.0 ? 5.0 : 10.0) * mag;
}

/// An axis for data in [lo, hi] (finite, lo <= hi). An end given in `fixed_lo` / `fixed_hi` is
/// kept exactly; a free end is widened to the next multiple of the step. A zero span is widened
/// first (by 10% of the value, or by 1 around zero).
inline axis make_axis(double lo, double hi, std::optional<double> fixed_lo, std::optional<double> fixed_hi,
                      int target) {
    if (fixed_lo) lo = *fixed_lo;
    if (fixed_hi) hi = *fixed_hi;
    if (!(hi > lo)) {  // constant data, a single point, or a fixed end on the wrong side
        const double centre = fixed_lo ? lo : fixed_hi ? hi : lo;
        const double d = centre != 0.0 ? std::abs(centre) * 0.1 : 1.0;
        if (fixed_lo) hi = lo + 2 * d;
        else if (fixed_hi) lo = hi - 2 * d;
        else lo = centre - d, hi = centre + d;
    }
    if (!std::isfinite(hi - lo)) throw error("line_plot: the data span more than a double can hold");
    axis a;
    a.step = nice_step(hi - lo, target);
    a.lo = fixed_lo ? lo : std::floor(lo / a.step + 1e-9) * a.step;
    a.hi = fixed_hi ? hi : std::ceil(hi / a.step - 1e-9) * a.step;
    const double eps = a.step * 1e-9;
    for (double k = std::ceil(a.lo / a.step - 1e-9); k * a.step <= a.hi + eps; k += 1.0) {
        const double t = k * a.step;
        a.ticks.push_back(std::abs(t) < eps ? 0.0 : t);
        if (a.ticks.size() > 100) break;  // cannot happen with a nice step; a guard only
    }
    return a;
}

/// A tick label: as many decimals as the step needs, or %g (with the digits the step needs) for
/// very large or small numbers.
inline std::string tick_label(double v, double step) {
    char buf[48];
    const int step_digit = int(std::floor(std::log10(step) + 1e-9));  // the step's leading decimal place
    if (step >= 1e-4 && std::abs(v) < 1e7) {
        std::snprintf(buf, sizeof buf, "%.*f", std::max(0, -step_digit), v);
    } else {
        const int lead = v == 0.0 ? step_digit : int(std::floor(std::log10(std::abs(v))));
        std::snprintf(buf, sizeof buf, "%.*g", std::clamp(lead - step_digit + 1, 1, 15), v);
    }
    std::string s = buf;
    if (s.find_first_not_of("-0.") == std::string::npos && s[0] == '-') s.erase(0, 1);  // no "-0"
    return s;
}

/// A rough width of `text` at `font_size` in a sans-serif face (0.6 em a character), for layout.
inline double estimated_width(std::string_view text, double font_size) {
    std::size_t chars = 0;
    for (const char c : text)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++chars;  // UTF-8: count lead bytes only
    return double(chars) * font_size * 0.6;
}

/// A 64-bit FNV-1a hash, to give the clip path an id that differs between plots on one page.
inline void hash_bytes(std::uint64_t& h, const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
}

}  // namespace plot_detail

inline std::array<std::uint8_t, 3> palette_colour(std::size_t i) {
    return plot_detail::palette[i % plot_detail::palette.size()];
}

inline std::string palette_hex(std::size_t i) {
    const auto c = palette_colour(i);
    char buf[8];
    std::snprintf(buf, sizeof buf, "#%02x%02x%02x", unsigned(c[0]), unsigned(c[1]), unsigned(c[2]));
    return buf;
}

inline std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') out += '?';
            else out += c;
        }
    }
    return out;
}

inline std::string to_svg(const line_plot& plot) {
    using plot_detail::coord;
    if (plot.width < 120 || plot.height < 100)
        throw error("line_plot \"" + plot.title + "\": size " + std::to_string(plot.width) + "x" +
                    std::to_string(plot.height) + " is too small (at least 120x100)");
    if ((plot.y_min && !std::isfinite(*plot.y_min)) || (plot.y_max && !std::isfinite(*plot.y_max)))
        throw error("line_plot \"" + plot.title + "\": y_min and y_max must be finite");
    if (plot.y_min && plot.y_max && !(*plot.y_min < *plot.y_max))
        throw error("line_plot \"" + plot.title + "\": y_min " + std::to_string(*plot.y_min) +
                    " is not below y_max " + std::to_string(*plot.y_max));

    // Data range over the finite points, and a hash of everything drawn (for the clip path's id).
    std::uint64_t hash = 14695981039346656037ull;
    plot_detail::hash_bytes(hash, plot.title.data(), plot.title.size());
    double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
    for (std::size_t s = 0; s < plot.series.size(); ++s) {
        const plot_series& ser = plot.series[s];
        if (ser.x.size() != ser.y.size())
            throw error("line_plot \"" + plot.title + "\": series \"" + ser.name + "\" has " +
                        std::to_string(ser.x.size()) + " x values but " + std::to_string(ser.y.size()) +
                        " y values");
        plot_detail::hash_bytes(hash, ser.name.data(), ser.name.size());
        plot_detail::hash_bytes(hash, ser.x.data(), ser.x.size() * sizeof(double));
        plot_detail::hash_bytes(hash, ser.y.data(), ser.y.size() * sizeof(double));
        for (std::size_t i = 0; i < ser.x.size(); ++i) {
            if (!std::isfinite(ser.x[i]) || !std::isfinite(ser.y[i])) continue;
            x_lo = std::min(x_lo, ser.x[i]), x_hi = std::max(x_hi, ser.x[i]);
            y_lo = std::min(y_lo, ser.y[i]), y_hi = std::max(y_hi, ser.y[i]);
        }
    }
    if (!(x_lo <= x_hi)) x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;  // nothing to draw: a 0..1 frame
    const plot_detail::axis ax = plot_detail::make_axis(x_lo, x_hi, std::nullopt, std::nullopt, 6);
    const plot_detail::axis ay = plot_detail::make_axis(y_lo, y_hi, plot.y_min, plot.y_max, 5);

    // Layout: y label and tick labels on the left, tick labels, x label and legend below.
    const double font = 11, title_font = 13;
    std::vector<std::string> y_labels;
    double y_label_w = 0;
    for (const double t : ay.ticks) {
        y_labels.push_back(plot_detail::tick_label(t, ay.step));
        y_label_w = std::max(y_label_w, plot_detail::estimated_width(y_labels.back(), font));
    }
    const double left = (plot.y_label.empty() ? 8 : 24) + y_label_w + 8;
    const double right = 16;
    const double top = plot.title.empty() ? 12 : 30;
    const double plot_w = plot.width - left - right;
    // Legend entries flow left to right under the x label, wrapping at the plot's width.
    struct entry {
        double x;
        int row;
    };
    std::vector<entry> entries;
    const double swatch = 18, entry_gap = 14, row_h = 16;
    int rows = 0;
    {
        double x = 0;
        for (std::size_t s = 0; s < plot.series.size(); ++s) {
            const std::string& name = plot.series[s].name;
            const double w = swatch + 4 + plot_detail::estimated_width(name.empty() ? "series 00" : name, font);
            if (x > 0 && x + w > plot_w) x = 0, ++rows;
            entries.push_back({x, rows});
            x += w + entry_gap;
        }
        if (!entries.empty()) ++rows;
    }
    const double below = 22 + (plot.x_label.empty() ? 0 : 16) + (rows ? 6 + rows * row_h : 0) + 6;
    const double plot_h = std::max(60.0, plot.height - top - below);
    const double height = top + plot_h + below;  // plot.height unless the legend needed more
    const double width = plot.width;

    const auto px = [&](double x) { return left + (x - ax.lo) / (ax.hi - ax.lo) * plot_w; };
    const auto py = [&](double y) { return top + plot_h - (y - ay.lo) / (ay.hi - ay.lo) * plot_h; };

    char id_buf[32];
    std::snprintf(id_buf, sizeof id_buf, "convis-plot-%016llx", static_cast<unsigned long long>(hash));
    const std::string clip_id = id_buf;

    std::string o;
    o.reserve(4096);
    o += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + coord(width) + "\" height=\"" + coord(height) +
         "\" viewBox=\"0 0 " + coord(width) + " " + coord(height) +
         "\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\" aria-label=\"" + xml_escape(plot.title) + "\">\n";
    if (!plot.title.empty()) o += "<title>" + xml_escape(plot.title) + "</title>\n";
    o += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
    // The clip rectangle is 4 px larger than the frame so markers on its edge show whole.
    o += "<defs><clipPath id=\"" + clip_id + "\"><rect x=\"" + coord(left - 4) + "\" y=\"" + coord(top - 4) +
         "\" width=\"" + coord(plot_w + 8) + "\" height=\"" + coord(plot_h + 8) + "\"/></clipPath></defs>\n";
    if (!plot.title.empty())
        o += "<text x=\"" + coord(left + plot_w / 2) + "\" y=\"" + coord(top - 11) +
             "\" text-anchor=\"middle\" font-size=\"" + coord(title_font) + "\" font-weight=\"bold\">" +
             xml_escape(plot.title) + "</text>\n";

    // Grid lines, then the frame over them.
    o += "<g stroke=\"#e4e4e4\" stroke-width=\"1\">\n";
    for (const double t : ax.ticks)
        o += "<line x1=\"" + coord(px(t)) + "\" y1=\"" + coord(top) + "\" x2=\"" + coord(px(t)) + "\" y2=\"" +
             coord(top + plot_h) + "\"/>\n";
    for (const double t : ay.ticks)
        o += "<line x1=\"" + coord(left) + "\" y1=\"" + coord(py(t)) + "\" x2=\"" + coord(left + plot_w) +
             "\" y2=\"" + coord(py(t)) + "\"/>\n";
    o += "</g>\n";
    o += "<rect x=\"" + coord(left) + "\" y=\"" + coord(top) + "\" width=\"" + coord(plot_w) + "\" height=\"" +
         coord(plot_h) + "\" fill=\"none\" stroke=\"#444444\" stroke-width=\"1\"/>\n";

    // Ticks and their labels.
    o += "<g stroke=\"#444444\" stroke-width=\"1\">\n";
    for (const double t : ax.ticks)
        o += "<line x1=\"" + coord(px(t)) + "\" y1=\"" + coord(top + plot_h) + "\" x2=\"" + coord(px(t)) +
             "\" y2=\"" + coord(top + plot_h + 4) + "\"/>\n";
    for (const double t : ay.ticks)
        o += "<line x1=\"" + coord(left - 4) + "\" y1=\"" + coord(py(t)) + "\" x2=\"" + coord(left) + "\" y2=\"" +
             coord(py(t)) + "\"/>\n";
    o += "</g>\n<g fill=\"#222222\">\n";
    for (const double t : ax.ticks)
        o += "<text class=\"tick x\" x=\"" + coord(px(t)) + "\" y=\"" + coord(top + plot_h + 16) +
             "\" text-anchor=\"middle\">" + xml_escape(plot_detail::tick_label(t, ax.step)) + "</text>\n";
    for (std::size_t i = 0; i < ay.ticks.size(); ++i)
        o += "<text class=\"tick y\" x=\"" + coord(left - 7) + "\" y=\"" + coord(py(ay.ticks[i]) + 4) +
             "\" text-anchor=\"end\">" + xml_escape(y_labels[i]) + "</text>\n";
    if (!plot.x_label.empty())
        o += "<text x=\"" + coord(left + plot_w / 2) + "\" y=\"" + coord(top + plot_h + 34) +
             "\" text-anchor=\"middle\">" + xml_escape(plot.x_label) + "</text>\n";
    if (!plot.y_label.empty()) {
        const std::string cx = coord(12), cy = coord(top + plot_h / 2);
        o += "<text x=\"" + cx + "\" y=\"" + cy + "\" text-anchor=\"middle\" transform=\"rotate(-90 " + cx + " " +
             cy + ")\">" + xml_escape(plot.y_label) + "</text>\n";
    }
    o += "</g>\n";

    // The series: one path each (gaps are moves), then the markers.
    o += "<g clip-path=\"url(#" + clip_id + ")\" fill=\"none\" stroke-width=\"1.6\" stroke-linejoin=\"round\">\n";
    for (std::size_t s = 0; s < plot.series.size(); ++s) {
        const plot_series& ser = plot.series[s];
        const std::string colour = palette_hex(s);
        const std::size_t n = ser.x.size();
        const auto ok = [&](std::size_t i) { return i < n && std::isfinite(ser.x[i]) && std::isfinite(ser.y[i]); };
        std::string d;
        bool pen_down = false;
        for (std::size_t i = 0; i < n; ++i) {
            if (!ok(i)) {
                pen_down = false;
                continue;
            }
            if (!d.empty()) d += ' ';
            d += (pen_down ? "L" : "M") + coord(px(ser.x[i])) + " " + coord(py(ser.y[i]));
            pen_down = true;
        }
        o += "<path class=\"series\" stroke=\"" + colour + "\" d=\"" + d + "\"/>\n";
        o += "<g fill=\"" + colour + "\" stroke=\"none\">";
        for (std::size_t i = 0; i < n; ++i) {
            const bool alone = ok(i) && (i == 0 || !ok(i - 1)) && !ok(i + 1);
            if (ok(i) && (n <= 200 || alone))
                o += "<circle cx=\"" + coord(px(ser.x[i])) + "\" cy=\"" + coord(py(ser.y[i])) + "\" r=\"2.2\"/>";
        }
        o += "</g>\n";
    }
    o += "</g>\n";

    // The legend.
    if (!entries.empty()) {
        const double legend_top = top + plot_h + 22 + (plot.x_label.empty() ? 0 : 16) + 6;
        o += "<g class=\"legend\">\n";
        for (std::size_t s = 0; s < entries.size(); ++s) {
            const double x = left + entries[s].x, y = legend_top + entries[s].row * row_h + row_h / 2;
            const std::string& name = plot.series[s].name;
            o += "<line x1=\"" + coord(x) + "\" y1=\"" + coord(y) + "\" x2=\"" + coord(x + swatch) + "\" y2=\"" +
                 coord(y) + "\" stroke=\"" + palette_hex(s) + "\" stroke-width=\"2.4\"/>";
            o += "<text x=\"" + coord(x + swatch + 4) + "\" y=\"" + coord(y + 4) + "\" fill=\"#222222\">" +
                 xml_escape(name.empty() ? "series " + std::to_string(s + 1) : name) + "</text>\n";
        }
        o += "</g>\n";
    }
    o += "</svg>\n";
    return o;
}

}  // namespace convis
