// Figures and the report: SVG line plots, text in pictures, heat maps, class maps, horizontal
// stacks, base64 + PNG bytes, and the self-contained HTML report.
#include <doctest/doctest.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <convis/io/grid.hpp>
#include <convis/io/heatmap.hpp>
#include <convis/io/html.hpp>
#include <convis/io/image.hpp>
#include <convis/io/plot.hpp>
#include <convis/io/text_render.hpp>

using namespace convis;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
    return n;
}

/// The texts of the elements that open with `open` (e.g. `<text class="tick y"`), in order.
std::vector<std::string> element_texts(const std::string& svg, const std::string& open) {
    std::vector<std::string> out;
    for (std::size_t at = svg.find(open); at != std::string::npos; at = svg.find(open, at + 1)) {
        const std::size_t start = svg.find('>', at) + 1;
        out.push_back(svg.substr(start, svg.find('<', start) - start));
    }
    return out;
}

/// True when v is a whole multiple of a step of 1, 2 or 5 times a power of ten, and all the
/// ticks are equally spaced by that step.
void check_nice(const std::vector<double>& ticks) {
    REQUIRE(ticks.size() >= 2);
    const double step = ticks[1] - ticks[0];
    REQUIRE(step > 0);
    const double mag = std::pow(10.0, std::floor(std::log10(step) + 1e-9));
    const double r = step / mag;
    CHECK((std::abs(r - 1) < 1e-6 || std::abs(r - 2) < 1e-6 || std::abs(r - 5) < 1e-6));
    for (std::size_t i = 0; i < ticks.size(); ++i) {
        CHECK(ticks[i] == doctest::Approx(ticks[0] + double(i) * step).epsilon(1e-9).scale(step));
        const double k = ticks[i] / step;
        CHECK(std::abs(k - std::round(k)) < 1e-6);
    }
}

/// The d attribute of the first series path.
std::string path_d(const std::string& svg) {
    const std::size_t d = svg.find(" d=\"", svg.find("<path class=\"series\"")) + 4;
    return svg.substr(d, svg.find('"', d) - d);
}

std::vector<double> numbers(const std::vector<std::string>& texts) {
    std::vector<double> v;
    for (const auto& t : texts) v.push_back(std::stod(t));
    return v;
}

image filled(int channels, int height, int width, float value) {
    image img;
    img.channels = channels;
    img.height = height;
    img.width = width;
    img.pixels.assign(std::size_t(channels) * height * width, value);
    return img;
}

std::array<float, 3> rgb_at(const image& img, int y, int x) {
    return {img.at(0, y, x), img.at(1, y, x), img.at(2, y, x)};
}

void check_colour(const std::array<float, 3>& got, const std::array<float, 3>& want) {
    for (std::size_t c = 0; c < 3; ++c) CHECK(got[c] == doctest::Approx(want[c]).epsilon(1e-5));
}

std::vector<std::uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

}  // namespace

// ---- base64 and PNG bytes ------------------------------------------------------------------

TEST_CASE("base64: the test vectors of RFC 4648 section 10, and the top of the alphabet") {
    const std::vector<std::pair<std::string, std::string>> vectors{
        {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},       {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [in, out] : vectors) CHECK(base64(bytes_of(in)) == out);
    const std::vector<std::uint8_t> high{0xfb, 0xff, 0xbf, 0xff};
    CHECK(base64(high) == "+/+//w==");
}

TEST_CASE("png_bytes: decodes back to the same bytes, grey and RGB; out-of-range values clamp") {
    for (const int channels : {1, 3}) {
        image img = filled(channels, 5, 7, 0.f);
        for (std::size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = float((i * 37) % 300) - 20.f;
        img.pixels[3] = std::numeric_limits<float>::quiet_NaN();
        img.pixels[4] = 12.5f;  // rounds half away from zero, as write_png
        const std::vector<std::uint8_t> png = png_bytes(img);
        REQUIRE(png.size() > 8);
        CHECK(png[1] == 'P');
        CHECK(png[2] == 'N');
        CHECK(png[3] == 'G');
        int w = 0, h = 0, n = 0;
        unsigned char* data = stbi_load_from_memory(png.data(), int(png.size()), &w, &h, &n, channels);
        REQUIRE(data != nullptr);
        CHECK(w == 7);
        CHECK(h == 5);
        CHECK(n == channels);
        int wrong = 0;
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x)
                for (int c = 0; c < channels; ++c) {
                    const float v = img.at(c, y, x);
                    const int want = std::isnan(v) ? 0 : int(std::lround(std::clamp(v, 0.f, 255.f)));
                    wrong += data[(y * w + x) * channels + c] != want;
                }
        stbi_image_free(data);
        CHECK(wrong == 0);
    }
    CHECK_THROWS_AS(png_bytes(filled(2, 3, 3, 0.f)), error);
    CHECK_THROWS_AS(png_bytes(filled(3, 0, 3, 0.f)), error);
}

// ---- SVG line plots ------------------------------------------------------------------------

TEST_CASE("to_svg: a standalone document with one path per series, escaped names and a legend") {
    line_plot p;
    p.title = "Fig. 5 <a1> & co";
    p.x_label = "translation (px)";
    p.y_label = "P(true class)";
    p.series.push_back({"Lawn <mower> & \"friends\"", {-60, -30, 0, 30, 60}, {0.1, 0.5, 0.9, 0.4, 0.2}});
    p.series.push_back({"Shih-Tzu", {-60, 0, 60}, {0.3, 0.7, 0.35}});
    p.series.push_back({"", {-60, 60}, {0.0, 1.0}});
    const std::string svg = to_svg(p);
    CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
    CHECK(svg.find("</svg>") == svg.size() - 7);
    CHECK(count(svg, "<path") == 3);
    CHECK(count(svg, "class=\"series\"") == 3);
    CHECK(count(svg, "<svg") == 1);
    // Names and titles escaped: no raw '<' or '&' from them.
    CHECK(svg.find("Lawn &lt;mower&gt; &amp; &quot;friends&quot;") != std::string::npos);
    CHECK(svg.find("Lawn <mower>") == std::string::npos);
    CHECK(svg.find("Fig. 5 &lt;a1&gt; &amp; co") != std::string::npos);
    CHECK(svg.find("<a1>") == std::string::npos);
    // Every '&' starts an entity.
    for (std::size_t at = svg.find('&'); at != std::string::npos; at = svg.find('&', at + 1)) {
        const std::string rest = svg.substr(at, 6);
        CHECK((rest.rfind("&amp;", 0) == 0 || rest.rfind("&lt;", 0) == 0 || rest.rfind("&gt;", 0) == 0 ||
               rest.rfind("&quot;", 0) == 0 || rest.rfind("&#39;", 0) == 0));
    }
    // Each series in its own colour, the colour also in the legend; an unnamed one is numbered.
    for (std::size_t s = 0; s < 3; ++s) CHECK(count(svg, palette_hex(s)) >= 2);
    CHECK(palette_hex(0) != palette_hex(1));
    CHECK(svg.find(">series 3</text>") != std::string::npos);
    CHECK(svg.find(">translation (px)</text>") != std::string::npos);
    CHECK(svg.find(">P(true class)</text>") != std::string::npos);
}

TEST_CASE("to_svg: tick labels are nice numbers that cover the data on both axes") {
    const std::vector<std::pair<std::vector<double>, std::vector<double>>> cases{
        {{-60, -30, 0, 30, 60}, {0.13, 0.52, 0.91, 0.44, 0.27}},
        {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {0.42, 0.71, 0.83, 0.86, 0.88, 0.9, 0.9, 0.91, 0.913, 0.915, 0.917, 0.918, 0.919, 0.92, 0.921}},
        {{0.5, 1.0, 1.5, 2.0}, {-1234.5, 56789.0, 3.0, 99999.0}},
        {{1e-5, 3e-5, 7e-5}, {1e-6, -2e-6, 5e-7}},
        {{10, 350}, {-0.004, 0.0031}},
        {{1.0e7, 1.0004e7, 1.001e7}, {3e9, 1e9, 2e9}},  // large numbers: %g with enough digits
    };
    for (const auto& [x, y] : cases) {
        CAPTURE(x.front());
        line_plot p;
        p.series.push_back({"s", x, y});
        const std::string svg = to_svg(p);
        const std::vector<double> xt = numbers(element_texts(svg, "<text class=\"tick x\""));
        const std::vector<double> yt = numbers(element_texts(svg, "<text class=\"tick y\""));
        check_nice(xt);
        check_nice(yt);
        const auto [xmin, xmax] = std::minmax_element(x.begin(), x.end());
        const auto [ymin, ymax] = std::minmax_element(y.begin(), y.end());
        CHECK(xt.front() <= *xmin);
        CHECK(xt.back() >= *xmax);
        CHECK(yt.front() <= *ymin);
        CHECK(yt.back() >= *ymax);
        CHECK(xt.size() <= 12);
        CHECK(yt.size() <= 12);
    }
}

TEST_CASE("to_svg: gaps, a single point, a constant series, no series, unsorted x, a fixed y range") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    SUBCASE("a non-finite value breaks the line, in the same path") {
        line_plot p;
        p.series.push_back({"gappy", {0, 1, 2, 3, 4, 5}, {1, 2, nan, 3, std::numeric_limits<double>::infinity(), 2}});
        const std::string svg = to_svg(p);
        CHECK(count(svg, "<path") == 1);
        CHECK(count(path_d(svg), "M") == 3);  // runs {0,1}, {3}, {5}
        CHECK(count(path_d(svg), "L") == 1);
        CHECK(svg.find("nan") == std::string::npos);
        CHECK(svg.find("inf") == std::string::npos);
        CHECK(count(svg, "<circle") == 4);  // 4 finite points
    }
    SUBCASE("a single point and a constant series still get an axis with a span") {
        for (const auto& y : {std::vector<double>{5.0}, std::vector<double>{0.0, 0.0, 0.0}}) {
            line_plot p;
            p.series.push_back({"flat", std::vector<double>(y.size(), 2.0), y});
            const std::string svg = to_svg(p);
            const std::vector<double> yt = numbers(element_texts(svg, "<text class=\"tick y\""));
            const std::vector<double> xt = numbers(element_texts(svg, "<text class=\"tick x\""));
            check_nice(yt);
            check_nice(xt);
            CHECK(yt.front() < y[0]);
            CHECK(yt.back() > y[0]);
            CHECK(svg.find("nan") == std::string::npos);
            CHECK(count(svg, "<circle") == 1 + (y.size() > 1 ? 2 : 0));
        }
    }
    SUBCASE("no series: an empty frame with axes") {
        line_plot p;
        p.title = "empty";
        const std::string svg = to_svg(p);
        CHECK(count(svg, "<path") == 0);
        CHECK(element_texts(svg, "<text class=\"tick x\"").size() >= 2);
        CHECK(element_texts(svg, "<text class=\"tick y\"").size() >= 2);
        CHECK(svg.find("class=\"legend\"") == std::string::npos);
    }
    SUBCASE("unsorted x is drawn in the given order") {
        line_plot p;
        p.series.push_back({"zigzag", {0, 10, 5}, {0, 10, 0}});
        const std::string svg = to_svg(p);
        std::istringstream in(path_d(svg));
        std::vector<double> xs;
        std::string word;
        while (in >> word) {
            xs.push_back(std::stod(word.substr(1)));
            in >> word;  // y
        }
        REQUIRE(xs.size() == 3);
        CHECK(xs[0] < xs[2]);
        CHECK(xs[2] < xs[1]);
    }
    SUBCASE("y_min and y_max fix the y axis exactly") {
        line_plot p;
        p.y_min = 0;
        p.y_max = 1;
        p.series.push_back({"p", {0, 1, 2}, {0.2, 1.7, 0.4}});  // leaves the range: clipped
        const std::vector<double> yt = numbers(element_texts(to_svg(p), "<text class=\"tick y\""));
        REQUIRE(!yt.empty());
        CHECK(yt.front() == 0.0);
        CHECK(yt.back() == 1.0);
        check_nice(yt);
    }
    SUBCASE("many series: the legend wraps and every series has a distinct colour among the first ten") {
        line_plot p;
        for (int s = 0; s < 12; ++s) p.series.push_back({"a long series name " + std::to_string(s), {0, 1}, {double(s), double(s + 1)}});
        const std::string svg = to_svg(p);
        CHECK(count(svg, "class=\"series\"") == 12);
        for (std::size_t i = 0; i < 10; ++i)
            for (std::size_t j = i + 1; j < 10; ++j) CHECK(palette_hex(i) != palette_hex(j));
        CHECK(palette_hex(10) == palette_hex(0));
    }
}

TEST_CASE("to_svg: errors name the series or the setting") {
    line_plot p;
    p.series.push_back({"good", {1, 2}, {1, 2}});
    p.series.push_back({"conv5 <x>", {1, 2, 3}, {1, 2}});
    CHECK_THROWS_WITH_AS(to_svg(p), doctest::Contains("conv5 <x>"), error);
    CHECK_THROWS_WITH_AS(to_svg(p), doctest::Contains("3 x values but 2 y values"), error);
    line_plot q;
    q.y_min = 1;
    q.y_max = 1;
    CHECK_THROWS_AS(to_svg(q), error);
    q.y_max = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(to_svg(q), error);
    line_plot small;
    small.width = 50;
    CHECK_THROWS_AS(to_svg(small), error);
}

TEST_CASE("xml_escape: the five characters and forbidden control characters") {
    CHECK(xml_escape("a<b>&\"'c") == "a&lt;b&gt;&amp;&quot;&#39;c");
    CHECK(xml_escape(std::string("x\x01y\tz\n", 6)) == "x?y\tz\n");
    CHECK(xml_escape("é") == "é");
}

// ---- text in pictures ----------------------------------------------------------------------

TEST_CASE("draw_text: sets pixels inside its text box only, in the colour given") {
    std::string all;
    for (char c = 33; c < 127; ++c) all += c;
    all += ' ';
    for (const int scale : {1, 3}) {
        for (const std::string& text : {std::string("Hg,.|y_Q"), all, std::string("two\nlines gq")}) {
            CAPTURE(text);
            CAPTURE(scale);
            const int w = text_width(text, scale), h = text_height(text, scale);
            const int x0 = 7, y0 = 5;
            image img = filled(3, y0 + h + 10, x0 + w + 10, 0.f);
            draw_text(img, x0, y0, text, {255.f, 128.f, 7.f}, scale);
            int inside = 0, outside = 0, wrong_colour = 0;
            int min_x = img.width, max_x = -1;
            for (int y = 0; y < img.height; ++y)
                for (int x = 0; x < img.width; ++x) {
                    const bool set = img.at(0, y, x) != 0.f;
                    if (!set) continue;
                    const bool in_box = x >= x0 && x < x0 + w && y >= y0 && y < y0 + h;
                    (in_box ? inside : outside) += 1;
                    wrong_colour += !(img.at(0, y, x) == 255.f && img.at(1, y, x) == 128.f && img.at(2, y, x) == 7.f);
                    min_x = std::min(min_x, x), max_x = std::max(max_x, x);
                }
            CHECK(inside > 0);
            CHECK(outside == 0);
            CHECK(wrong_colour == 0);
            CHECK(min_x <= x0 + scale);          // the text starts at x
            CHECK(max_x >= x0 + w - 14 * scale);  // and runs close to its width (a trailing space: 6)
        }
    }
    CHECK(text_height("") == 0);
    CHECK(text_height("a") == 12);
    CHECK(text_height("a\nb", 2) == 48);
    CHECK(text_width("ab\nabcd") == text_width("abcd"));
    CHECK(text_width("abc", 2) == 2 * text_width("abc"));
}

TEST_CASE("draw_text: grey pictures get the mean colour; text is clipped; odd bytes are safe") {
    image grey = filled(1, 14, 30, 0.f);
    draw_text(grey, 2, 1, "HI", {30.f, 60.f, 90.f});
    int set = 0;
    for (const float v : grey.pixels) {
        if (v == 0.f) continue;
        ++set;
        CHECK(v == doctest::Approx(60.f));
    }
    CHECK(set > 0);
    image small = filled(3, 6, 6, 0.f);
    draw_text(small, -4, -3, "WWWW\nWWWW", {1.f, 1.f, 1.f}, 2);     // partly outside: clipped
    draw_text(small, 2000000000, 2000000000, "far away", {1.f, 1.f, 1.f}, 64);  // wholly outside
    draw_text(small, 0, 0, std::string("\x01\x7f\xc3\xa9", 4), {1.f, 1.f, 1.f});  // drawn as '?'
    CHECK(text_width(std::string("\xc3\xa9", 2)) == text_width("??"));
    CHECK_THROWS_AS(draw_text(small, 0, 0, "x", {1.f, 1.f, 1.f}, 0), error);
    image two = filled(2, 4, 4, 0.f);
    CHECK_THROWS_AS(draw_text(two, 0, 0, "x", {1.f, 1.f, 1.f}), error);
}

// ---- heat maps, overlays, colour bars, class maps ------------------------------------------

TEST_CASE("colour_of: viridis from dark purple to yellow, clamped, brighter as t grows") {
    check_colour(colour_of(0.0), {68.f, 1.f, 84.f});
    check_colour(colour_of(1.0), {253.f, 231.f, 37.f});
    check_colour(colour_of(-3.0), colour_of(0.0));
    check_colour(colour_of(7.0), colour_of(1.0));
    check_colour(colour_of(std::nan("")), {128.f, 128.f, 128.f});
    double last = -1;
    for (int i = 0; i <= 100; ++i) {
        const auto c = colour_of(i / 100.0);
        const double luma = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
        CHECK(luma > last);
        last = luma;
    }
}

TEST_CASE("heat_map: a cell × cell block per value") {
    const std::vector<float> v{0.f, 1.f, 2.f, 3.f, 4.f, std::nanf("")};
    const image m = heat_map(v.data(), 2, 3, 0.0, 4.0, 5);
    CHECK(m.channels == 3);
    CHECK(m.height == 10);
    CHECK(m.width == 15);
    for (int r = 0; r < 2; ++r)
        for (int c = 0; c < 3; ++c) {
            const float value = v[std::size_t(r * 3 + c)];
            const auto want = std::isnan(value) ? std::array<float, 3>{128.f, 128.f, 128.f} : colour_of(value / 4.0);
            check_colour(rgb_at(m, r * 5, c * 5), want);
            check_colour(rgb_at(m, r * 5 + 4, c * 5 + 4), want);
        }
    const image flat = heat_map(v.data(), 1, 1, 2.0, 2.0, 1);  // hi == lo: the middle colour
    check_colour(rgb_at(flat, 0, 0), colour_of(0.5));
    CHECK_THROWS_AS(heat_map(v.data(), 0, 3, 0.0, 1.0), error);
    CHECK_THROWS_AS(heat_map(v.data(), 2, 3, 1.0, 0.0), error);
    CHECK_THROWS_AS(heat_map(nullptr, 2, 3, 0.0, 1.0), error);
}

TEST_CASE("heat_overlay: each pixel takes the value of the nearest square centre; grids that do not fit throw") {
    // A 20×20 picture, a 3×3 grid of 8-pixel squares at stride 4: squares cover 16×16.
    image grey = filled(1, 20, 20, 100.f);
    std::vector<float> v(9);
    for (int i = 0; i < 9; ++i) v[std::size_t(i)] = float(i);
    const image over = heat_overlay(grey, v.data(), 3, 3, 4, 8, 0.0, 8.0, 1.f);
    CHECK(over.channels == 3);
    CHECK(over.height == 20);
    CHECK(over.width == 20);
    for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c) {
            CAPTURE(r);
            CAPTURE(c);
            const int cy = r * 4 + 4, cx = c * 4 + 4;  // the square's centre
            check_colour(rgb_at(over, cy, cx), colour_of(v[std::size_t(r * 3 + c)] / 8.0));
        }
    check_colour(rgb_at(over, 19, 19), colour_of(1.0));   // past the grid: the nearest (last) position
    check_colour(rgb_at(over, 0, 19), colour_of(2 / 8.0));
    // alpha 0 shows the grey picture in RGB; alpha 0.5 blends.
    const image none = heat_overlay(grey, v.data(), 3, 3, 4, 8, 0.0, 8.0, 0.f);
    check_colour(rgb_at(none, 7, 7), {100.f, 100.f, 100.f});
    const image half = heat_overlay(grey, v.data(), 3, 3, 4, 8, 0.0, 8.0, 0.5f);
    const auto c4 = colour_of(4 / 8.0);
    check_colour(rgb_at(half, 8, 8), {0.5f * c4[0] + 50.f, 0.5f * c4[1] + 50.f, 0.5f * c4[2] + 50.f});
    // An RGB picture is blended as it is.
    image rgb = filled(3, 20, 20, 0.f);
    for (int x = 0; x < 20; ++x) rgb.at(0, 5, x) = 200.f;
    const image over_rgb = heat_overlay(rgb, v.data(), 3, 3, 4, 8, 0.0, 8.0, 0.25f);
    const auto c0 = colour_of(0.0);
    check_colour(rgb_at(over_rgb, 5, 2), {0.25f * c0[0] + 150.f, 0.25f * c0[1], 0.25f * c0[2]});
    // The grid must fit: (rows - 1) * stride + size <= side.
    CHECK_NOTHROW(heat_overlay(grey, v.data(), 1, 1, 4, 20, 0.0, 8.0));
    std::vector<float> many(25, 1.f);
    CHECK_NOTHROW(heat_overlay(grey, many.data(), 4, 4, 4, 8, 0.0, 8.0));  // 3*4 + 8 = 20
    CHECK_THROWS_WITH_AS(heat_overlay(grey, many.data(), 5, 4, 4, 8, 0.0, 8.0), doctest::Contains("24"), error);
    CHECK_THROWS_AS(heat_overlay(grey, many.data(), 4, 5, 4, 8, 0.0, 8.0), error);
    CHECK_THROWS_AS(heat_overlay(grey, v.data(), 1, 1, 4, 21, 0.0, 8.0), error);
    CHECK_THROWS_AS(heat_overlay(grey, v.data(), 0, 3, 4, 8, 0.0, 8.0), error);
    CHECK_THROWS_AS(heat_overlay(grey, v.data(), 3, -1, 4, 8, 0.0, 8.0), error);
    CHECK_THROWS_AS(heat_overlay(grey, v.data(), 3, 3, 0, 8, 0.0, 8.0), error);
    CHECK_THROWS_AS(heat_overlay(grey, v.data(), 3, 3, 4, 8, 0.0, 8.0, 1.5f), error);
}

TEST_CASE("colour_bar: the ramp from hi at the top to lo at the bottom, with both labels") {
    const image bar = colour_bar(0.0, 0.75, 100, 12);
    CHECK(bar.channels == 3);
    CHECK(bar.height == 100);
    CHECK(bar.width > 12 + text_width("0.75"));
    check_colour(rgb_at(bar, 0, 0), colour_of(1.0));
    check_colour(rgb_at(bar, 99, 11), colour_of(0.0));
    const auto dark_rows = [&](int y0, int y1) {
        int n = 0;
        for (int y = y0; y < y1; ++y)
            for (int x = 16; x < bar.width; ++x) n += bar.at(0, y, x) < 100.f;
        return n;
    };
    CHECK(dark_rows(0, 12) > 0);    // "0.75"
    CHECK(dark_rows(88, 100) > 0);  // "0"
    CHECK(dark_rows(20, 80) == 0);
    CHECK_THROWS_AS(colour_bar(0.0, 1.0, 10), error);
    CHECK_THROWS_AS(colour_bar(0.0, std::nan(""), 100), error);
}

TEST_CASE("class_map: a palette colour per class, a legend of the classes present, bad labels throw") {
    const std::vector<std::int64_t> labels{0, 2, 2, 0, 5, 0};
    const std::vector<std::string> names{"T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal"};
    const int cell = 6;
    const image m = class_map(labels.data(), 2, 3, names, cell);
    CHECK(m.channels == 3);
    CHECK(m.width > 3 * cell + text_width("Pullover"));  // the legend is to the right of the map
    CHECK(m.height >= 2 + 3 * 14);                       // three classes present: 0, 2, 5
    const auto palette = [](std::size_t k) {
        const auto b = palette_colour(k);
        return std::array<float, 3>{float(b[0]), float(b[1]), float(b[2])};
    };
    for (int r = 0; r < 2; ++r)
        for (int c = 0; c < 3; ++c) check_colour(rgb_at(m, r * cell + 3, c * cell + 3), palette(std::size_t(labels[std::size_t(r * 3 + c)])));
    // Swatches in class order beside the map.
    const int swatch_x = 3 * cell + 8 + 5;
    check_colour(rgb_at(m, 2 + 5, swatch_x), palette(0));
    check_colour(rgb_at(m, 2 + 14 + 5, swatch_x), palette(2));
    check_colour(rgb_at(m, 2 + 28 + 5, swatch_x), palette(5));
    // Text in the legend (dark pixels right of the swatches), none for absent classes.
    int dark = 0;
    for (int y = 0; y < m.height; ++y)
        for (int x = swatch_x + 10; x < m.width; ++x) dark += m.at(0, y, x) < 100.f && m.at(1, y, x) < 100.f;
    CHECK(dark > 0);
    // Without names: numbers, any non-negative label.
    const std::vector<std::int64_t> big{12, 3};
    const image numbered = class_map(big.data(), 1, 2, {}, 4);
    CHECK(numbered.width > 8 + text_width("12"));
    check_colour(rgb_at(numbered, 0, 0), palette(2));  // 12 cycles to colour 2
    // Bad labels.
    const std::vector<std::int64_t> bad{0, 6};
    CHECK_THROWS_WITH_AS(class_map(bad.data(), 1, 2, names, cell), doctest::Contains("label 6"), error);
    const std::vector<std::int64_t> negative{-1};
    CHECK_THROWS_AS(class_map(negative.data(), 1, 1, {}, cell), error);
    CHECK_THROWS_AS(class_map(labels.data(), 0, 3, names, cell), error);
}

TEST_CASE("stack_horizontal: side by side, tops aligned, padded below, grey made RGB when mixed") {
    const image a = filled(1, 4, 3, 10.f), b = filled(3, 6, 2, 20.f);
    const image s = stack_horizontal({a, b}, 5);
    CHECK(s.channels == 3);
    CHECK(s.height == 6);
    CHECK(s.width == 3 + 5 + 2);
    CHECK(s.at(2, 3, 2) == 10.f);   // a, grey broadcast
    CHECK(s.at(0, 5, 2) == 255.f);  // below a: background
    CHECK(s.at(1, 0, 4) == 255.f);  // the gap
    CHECK(s.at(1, 5, 9) == 20.f);   // b
    CHECK_THROWS_AS(stack_horizontal({}), error);
    CHECK_THROWS_AS(stack_horizontal({a}, -1), error);
}

// ---- the HTML report -----------------------------------------------------------------------

TEST_CASE("html_report: self-contained, escaped, with data-URI pictures, inline SVG and the loader script") {
    image small = filled(1, 28, 28, 0.f);
    for (int y = 0; y < 28; ++y)
        for (int x = 0; x < 28; ++x) small.at(0, y, x) = float((x * 9 + y) % 256);
    const image large = filled(3, 300, 400, 128.f);
    line_plot p;
    p.title = "curve";
    p.series.push_back({"s", {0, 1}, {0, 1}});

    html_report r("ZFNet <report> & \"figures\"");
    r.heading("Top-9 <conv1>");
    r.paragraph("a < b & c\nsecond line");
    r.figure(small, "patch <1> & friends");
    r.figure(large, "");
    r.figure(small, "shown at 50", 50);
    r.figure_svg(to_svg(p), "Fig. 5 & more");
    r.table({"layer", "acc <%>"}, {{"conv1", "91.5"}, {"a&b", "<x>"}}, "results & such");
    const std::string html = r.str();

    CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(html.find("<meta charset=\"utf-8\">") != std::string::npos);
    CHECK(html.find("<title>ZFNet &lt;report&gt; &amp; &quot;figures&quot;</title>") != std::string::npos);
    CHECK(html.find("<h2>Top-9 &lt;conv1&gt;</h2>") != std::string::npos);
    CHECK(html.find("<p>a &lt; b &amp; c<br>second line</p>") != std::string::npos);
    CHECK(html.find("patch &lt;1&gt; &amp; friends") != std::string::npos);
    CHECK(html.find("<td>a&amp;b</td><td>&lt;x&gt;</td>") != std::string::npos);
    CHECK(html.find("<th>acc &lt;%&gt;</th>") != std::string::npos);
    CHECK(html.find("results &amp; such") != std::string::npos);
    CHECK(html.find("<conv1>") == std::string::npos);
    CHECK(html.find("<report>") == std::string::npos);
    // Pictures as data URIs, exactly the PNG bytes; small ones enlarged and pixelated.
    CHECK(html.find("src=\"data:image/png;base64," + base64(png_bytes(small)) + "\"") != std::string::npos);
    CHECK(html.find("src=\"data:image/png;base64," + base64(png_bytes(large)) + "\"") != std::string::npos);
    CHECK(count(html, "<img ") == 3);
    CHECK(count(html, "alt=\"") == 3);
    CHECK(html.find("alt=\"figure 2\"") != std::string::npos);
    CHECK(html.find("width=\"252\" height=\"252\" class=\"pixelated\"") != std::string::npos);  // 28 × 9
    CHECK(html.find("width=\"400\" height=\"300\">") != std::string::npos);
    CHECK(html.find("width=\"50\" height=\"50\" class=\"pixelated\">") != std::string::npos);
    CHECK(html.find("image-rendering:pixelated") != std::string::npos);
    CHECK(count(html, "<svg") == 1);
    CHECK(html.find("Fig. 5 &amp; more</figcaption>") != std::string::npos);
    // The loader script, and nothing that logs.
    CHECK(count(html, "<script>") == 1);
    CHECK(html.find("document.body.dataset.imagesLoaded") != std::string::npos);
    CHECK(html.find("naturalWidth > 0") != std::string::npos);
    CHECK(html.find("console") == std::string::npos);
    // Nothing from outside: no URL but the SVG namespace, no src other than data URIs.
    std::string rest = html;
    for (std::size_t at; (at = rest.find("http://www.w3.org/2000/svg")) != std::string::npos;) rest.erase(at, 26);
    CHECK(rest.find("http") == std::string::npos);
    CHECK(count(html, "src=\"") == count(html, "src=\"data:image/png;base64,"));
    CHECK(html.find("<link") == std::string::npos);
    CHECK(html.find("@import") == std::string::npos);
    CHECK(html.find("url(") == html.find("url(#convis-plot-"));  // only the plot's own clip path

    CHECK_THROWS_AS(r.table({"a", "b"}, {{"1"}}, "short row"), error);
    CHECK_THROWS_AS(r.figure(filled(2, 4, 4, 0.f), "two channels"), error);
    CHECK(r.str() == html);  // failed calls add nothing

    const std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("convis_report_" + std::to_string(::getpid()) + ".html");
    r.write(path.string());
    std::ifstream in(path, std::ios::binary);
    const std::string back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(back == html);
    std::filesystem::remove(path);
}
