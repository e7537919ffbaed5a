#pragma once
// The report: one self-contained HTML file with headings, text, tables and the figures, pictures
// embedded as PNG data URIs and plots as inline SVG. It loads nothing from anywhere (no fonts,
// stylesheets, scripts or images outside the file), so it can be mailed or opened offline.
//
// Its one inline script, on the window's load event, counts the <img> elements that decoded
// (complete and naturalWidth > 0) and writes "<loaded>/<total>" to the body's
// data-images-loaded attribute (a test reads it from headless Chromium's --dump-dom). It logs
// nothing.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "image.hpp"
#include "plot.hpp"
#include "text_file.hpp"

namespace convis {

/// `bytes` in base64 (RFC 4648 §4: the standard alphabet, '=' padding, no line breaks).
std::string base64(std::span<const std::uint8_t> bytes);

/// A whole HTML page around `body` (markup, trusted): the report's style plus `extra_style`, and
/// its image-counting script (see above). The atlas's pages (analysis/atlas.hpp) are made with it.
std::string html_document(const std::string& title, const std::string& body, const std::string& extra_style = {});

/// A report built piece by piece, top to bottom, then written as one HTML file. Every string
/// given is text, HTML-escaped (xml_escape), except the SVG given to figure_svg, which is markup.
class html_report {
public:
    /// The page's <title> and its top heading.
    explicit html_report(std::string title);

    /// A section heading (<h2>).
    void heading(std::string text);

    /// A paragraph of text.
    void paragraph(std::string text);

    /// A paragraph of text ending in a hyperlink to `href` (a relative path or URL; nothing is
    /// loaded from it) shown as `link_text`.
    void paragraph_with_link(std::string text, std::string href, std::string link_text);

    /// A picture as an embedded PNG with `caption` under it (also its alt text; "figure N" when
    /// the caption is empty). It is shown `display_width` CSS pixels wide (aspect ratio kept,
    /// never wider than the page); 0 picks a width: small pictures (MNIST-sized patches, grids)
    /// are enlarged by a whole factor to about 256 px wide (at most 768 px tall), others are
    /// shown at their size. Enlarged pictures keep their pixels sharp (image-rendering:
    /// pixelated). Throws as png_bytes, and for display_width < 0.
    void figure(const image& img, std::string caption, int display_width = 0);

    /// An SVG document (as to_svg makes) put inline as it is, with `caption` under it. The SVG
    /// is trusted markup: it is not escaped or checked.
    void figure_svg(std::string svg, std::string caption);

    /// A table: a header row (none when empty) and rows of cells, with `caption` above it.
    /// Throws convis::error when the header is not empty and a row has a different number of
    /// cells (naming the row).
    void table(std::vector<std::string> header, std::vector<std::vector<std::string>> rows, std::string caption);

    /// The whole document.
    std::string str() const;

    /// The document written to `path` atomically (write_text_atomic); convis::error naming the
    /// path on failure.
    void write(const std::string& path) const;

private:
    std::string title_;
    std::string body_;
    int figures_ = 0;
};

// ---- details -------------------------------------------------------------------------------

namespace html_detail {
inline constexpr const char* style =
    "body{font-family:sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222;"
    "background:#fff;line-height:1.45}\n"
    "h1{font-size:1.6em;margin-bottom:.6em}\n"
    "h2{font-size:1.25em;margin-top:1.8em;padding-bottom:.2em;border-bottom:1px solid #ddd}\n"
    "figure{margin:1.2em 0}\n"
    "figcaption{color:#555;font-size:.9em;margin-top:.35em}\n"
    "img,svg{max-width:100%;height:auto;display:block}\n"
    "img.pixelated{image-rendering:pixelated}\n"
    "table{border-collapse:collapse;margin:1.2em 0;font-size:.92em}\n"
    "caption{text-align:left;color:#555;padding-bottom:.35em}\n"
    "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}\n"
    "th{background:#f3f3f3}\n"
    "td:first-child,th:first-child{text-align:left}\n";

inline constexpr const char* script =
    "window.addEventListener(\"load\", function () {\n"
    "  var images = document.images, loaded = 0;\n"
    "  for (var i = 0; i < images.length; ++i)\n"
    "    if (images[i].complete && images[i].naturalWidth > 0) ++loaded;\n"
    "  document.body.dataset.imagesLoaded = loaded + \"/\" + images.length;\n"
    "});\n";

/// Text across lines: each line break in `text` becomes <br>.
inline std::string text_with_breaks(const std::string& text) {
    std::string out;
    std::size_t start = 0;
    for (;;) {
        const std::size_t nl = text.find('\n', start);
        out += xml_escape(std::string_view(text).substr(start, nl == std::string::npos ? std::string::npos : nl - start));
        if (nl == std::string::npos) break;
        out += "<br>";
        start = nl + 1;
    }
    return out;
}
}  // namespace html_detail

inline std::string base64(std::span<const std::uint8_t> bytes) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t v = std::uint32_t(bytes[i]) << 16 | std::uint32_t(bytes[i + 1]) << 8 | bytes[i + 2];
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += alphabet[v >> 6 & 63];
        out += alphabet[v & 63];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest > 0) {
        const std::uint32_t v = std::uint32_t(bytes[i]) << 16 | (rest == 2 ? std::uint32_t(bytes[i + 1]) << 8 : 0u);
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += rest == 2 ? alphabet[v >> 6 & 63] : '=';
        out += '=';
    }
    return out;
}

inline html_report::html_report(std::string title) : title_(std::move(title)) {}

inline void html_report::paragraph_with_link(std::string text, std::string href, std::string link_text) {
    body_ += "<p>" + xml_escape(text) + "<a href=\"" + xml_escape(href) + "\">" + xml_escape(link_text) + "</a></p>\n";
}

inline void html_report::heading(std::string text) { body_ += "<h2>" + xml_escape(text) + "</h2>\n"; }

inline void html_report::paragraph(std::string text) {
    body_ += "<p>" + html_detail::text_with_breaks(text) + "</p>\n";
}

inline void html_report::figure(const image& img, std::string caption, int display_width) {
    if (display_width < 0) throw error("html_report::figure: display_width " + std::to_string(display_width) + " is negative");
    const std::vector<std::uint8_t> png = png_bytes(img);  // checks the picture
    ++figures_;
    int shown = display_width;
    if (shown == 0) shown = img.width * std::max(1, std::min(256 / img.width, 768 / img.height));
    const int shown_h = std::max(1, int(std::lround(double(shown) * img.height / img.width)));
    const std::string alt = caption.empty() ? "figure " + std::to_string(figures_) : caption;
    body_ += "<figure>\n<img src=\"data:image/png;base64," + base64(png) + "\" alt=\"" + xml_escape(alt) +
             "\" width=\"" + std::to_string(shown) + "\" height=\"" + std::to_string(shown_h) + "\"" +
             (shown > img.width ? " class=\"pixelated\"" : "") + ">\n";
    if (!caption.empty()) body_ += "<figcaption>" + html_detail::text_with_breaks(caption) + "</figcaption>\n";
    body_ += "</figure>\n";
}

inline void html_report::figure_svg(std::string svg, std::string caption) {
    ++figures_;
    body_ += "<figure>\n" + svg;
    if (!svg.empty() && svg.back() != '\n') body_ += '\n';
    if (!caption.empty()) body_ += "<figcaption>" + html_detail::text_with_breaks(caption) + "</figcaption>\n";
    body_ += "</figure>\n";
}

inline void html_report::table(std::vector<std::string> header, std::vector<std::vector<std::string>> rows,
                               std::string caption) {
    if (!header.empty())
        for (std::size_t r = 0; r < rows.size(); ++r)
            if (rows[r].size() != header.size())
                throw error("html_report::table \"" + caption + "\": row " + std::to_string(r) + " has " +
                            std::to_string(rows[r].size()) + " cells, the header has " + std::to_string(header.size()));
    std::string t = "<table>\n";
    if (!caption.empty()) t += "<caption>" + xml_escape(caption) + "</caption>\n";
    if (!header.empty()) {
        t += "<thead><tr>";
        for (const std::string& h : header) t += "<th>" + xml_escape(h) + "</th>";
        t += "</tr></thead>\n";
    }
    t += "<tbody>\n";
    for (const auto& row : rows) {
        t += "<tr>";
        for (const std::string& cell : row) t += "<td>" + xml_escape(cell) + "</td>";
        t += "</tr>\n";
    }
    t += "</tbody>\n</table>\n";
    body_ += t;
}

inline std::string html_report::str() const { return html_document(title_, "<h1>" + xml_escape(title_) + "</h1>\n" + body_); }

inline std::string html_document(const std::string& title, const std::string& body, const std::string& extra_style) {
    std::string doc;
    doc.reserve(body.size() + 2048);
    doc += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    doc += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    doc += "<title>" + xml_escape(title) + "</title>\n";
    doc += std::string("<style>\n") + html_detail::style + extra_style + "</style>\n</head>\n<body>\n";
    doc += body;
    doc += std::string("<script>\n") + html_detail::script + "</script>\n</body>\n</html>\n";
    return doc;
}

inline void html_report::write(const std::string& path) const { write_text_atomic(path, str()); }

}  // namespace convis
