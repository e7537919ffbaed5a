#pragma once
// Pictures on disk: PNG/JPEG in (through stb_image), PNG out (through stb_image_write), and the
// conversions between a planar float picture and a network input tensor.
//
// stb in a header-only library: by default this header compiles stb_image, stb_image_resize and
// stb_image_write into every translation unit that includes it, as `static` functions
// (STB_IMAGE_STATIC, ...), so each translation unit has its own private copy and nothing clashes at
// link time; the program needs no STB_*_IMPLEMENTATION of its own.
// That copy costs about 4 s of -O3 compilation in every file that reads or writes a picture. A
// program of many such files defines CONVIS_IMAGE_SEPARATE in all of them (a compile definition of
// the target) and, in exactly one, CONVIS_IMAGE_IMPLEMENTATION before any convis header: then only
// that file compiles stb, and read_image, decode_image, write_png and resize are ordinary functions
// defined there (the convis program does this: examples/cli/image.cpp).
// If stb_image.h (or stb_image_write.h) was already included before this header, that copy is
// used as it is: then its implementation is the user's business (exactly one translation unit of
// the program must define STB_IMAGE_IMPLEMENTATION, or the user made it static as here).
// Do not include stb_image.h with STB_IMAGE_IMPLEMENTATION *after* this header in the same
// translation unit: the implementation would be defined twice. Include it before instead.
//
// Pictures come from anywhere, so the private copy of stb_image decodes only the formats convis
// documents, PNG and JPEG: the other decoders are attack surface, and in the stb_image of Debian 12
// (2.27) the PNM reader overflows an int on a long number (found by tests/fuzz/fuzz_image). Sizes are
// checked from the header before decoding (max_image_side, max_image_pixels, and the fewest bytes such
// a picture can take), so a small file that claims a huge picture costs nothing.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "../core/error.hpp"
#include "../core/tensor.hpp"


namespace convis {

/// A picture: planar (channel-major, CHW) floats, 0..255 for display. `channels` is 1 (grey) or 3
/// (RGB) for anything read or written; pixels.size() == channels * height * width.
struct image {
    int width = 0, height = 0, channels = 0;
    std::vector<float> pixels;

    float& at(int c, int y, int x) { return pixels[(std::size_t(c) * height + y) * width + x]; }
    float at(int c, int y, int x) const { return pixels[(std::size_t(c) * height + y) * width + x]; }
};

/// The largest width or height read_image accepts.
inline constexpr int max_image_side = 16384;
/// The most pixels read_image accepts (8192 x 8192, above any camera's photograph): with the float
/// copy, such a picture costs about 1 GiB, so a larger claim in a header is refused before decoding.
inline constexpr std::int64_t max_image_pixels = std::int64_t{1} << 26;

/// Reads a PNG or JPEG. Grey (and grey + alpha) gives 1 channel, RGB and RGBA
/// give 3 (alpha dropped). Throws convis::error "<path>: cannot read image: <reason>" when the file
/// is missing or not a picture, and when its header claims an empty picture, a side larger than
/// max_image_side or more than max_image_pixels pixels.
image read_image(const std::string& path);

/// The same for a file's bytes already in memory, with `name` where the path would be.
image decode_image(std::span<const unsigned char> bytes, const std::string& name);

/// Writes a 1- or 3-channel picture as PNG, atomically (a temporary file beside `path`, then a
/// rename). Values are clamped to [0, 255] and rounded; NaN becomes 0. Throws convis::error naming
/// the path on failure.
void write_png(const std::string& path, const image& img);

/// A 1- or 3-channel picture as the bytes of a PNG file (values clamped to [0, 255] and rounded,
/// NaN 0, exactly as write_png). Throws convis::error for other channel counts, an empty
/// picture, or when stb_image_write fails.
std::vector<std::uint8_t> png_bytes(const image& img);

/// A batch of one sample from a picture of exactly H×W: value = (pixel - mean[c]) * scale.
/// `mean` is empty (no mean) or has C entries. The picture has C channels, or 1 channel when C == 3
/// (grey copied into all three). Otherwise a convis::error naming expected and found.
template <int C, int H, int W>
Tensor<Shape<C, H, W>, float> to_tensor(const image& img, std::span<const float> mean = {}, float scale = 1.f);

/// A picture resized to exactly height × width (stb_image_resize: Mitchell filter when shrinking,
/// Catmull-Rom when enlarging, edges clamped), each channel on its own. Sizes must be positive.
image resize(const image& img, int height, int width);

/// Fits a picture to a network's input of channels × height × width, the way the paper fed
/// ImageNet to ZFNet (PAPER.md §2: shorter side scaled, centre cropped): a picture of the right
/// size is returned as it is; otherwise it is scaled so that it covers height × width with its
/// aspect ratio kept, then the centre is cropped. Grey becomes RGB by copying; RGB becomes grey by
/// the Rec. 601 luma (0.299 R + 0.587 G + 0.114 B).
image fit_picture(const image& img, int channels, int height, int width);

/// A picture from planar floats already in 0..255 (copied).
image from_plane(const float* chw, int channels, int height, int width);

// ---- details -------------------------------------------------------------------------------

namespace image_detail {
inline std::string dims(int c, int h, int w) {
    return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
}
/// Checks that `img` is a well-formed picture; `who` opens the message.
inline void check(const image& img, const std::string& who) {
    if (img.channels < 1 || img.height < 0 || img.width < 0)
        throw error(who + ": bad picture " + dims(img.channels, img.height, img.width) +
                    " (channels x height x width)");
    const std::size_t n = std::size_t(img.channels) * std::size_t(img.height) * std::size_t(img.width);
    if (img.pixels.size() != n)
        throw error(who + ": picture " + dims(img.channels, img.height, img.width) + " needs " +
                    std::to_string(n) + " values, has " + std::to_string(img.pixels.size()));
}
inline std::uint8_t to_byte(float v) {
    if (!(v > 0.f)) return 0;  // also NaN
    if (v >= 255.f) return 255;
    return std::uint8_t(std::lround(v));
}

/// The picture as interleaved bytes for a PNG encoder; `who` leads the messages ("<path>: cannot
/// write PNG") when it is not 1 or 3 channels of at least one pixel.
inline std::vector<unsigned char> png_pixels(const image& img, const std::string& who) {
    check(img, who);
    if (img.channels != 1 && img.channels != 3)
        throw error(who + ": " + std::to_string(img.channels) + " channels (expected 1 or 3)");
    if (img.width < 1 || img.height < 1)
        throw error(who + ": empty picture " + std::to_string(img.width) + "x" + std::to_string(img.height));
    const int c = img.channels, h = img.height, w = img.width;
    std::vector<unsigned char> hwc(std::size_t(c) * h * w);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int k = 0; k < c; ++k) hwc[(std::size_t(y) * w + x) * c + k] = to_byte(img.at(k, y, x));
    return hwc;
}
}  // namespace image_detail

template <int C, int H, int W>
Tensor<Shape<C, H, W>, float> to_tensor(const image& img, std::span<const float> mean, float scale) {
    image_detail::check(img, "to_tensor");
    if (!mean.empty() && mean.size() != std::size_t(C))
        throw error("to_tensor: mean has " + std::to_string(mean.size()) + " values, expected " +
                    std::to_string(C));
    const bool broadcast = (C == 3 && img.channels == 1);
    if ((img.channels != C && !broadcast) || img.height != H || img.width != W)
        throw error("to_tensor: expected a picture of " + image_detail::dims(C, H, W) +
                    " (channels x height x width)" + (C == 3 ? " or 1x" + std::to_string(H) + "x" + std::to_string(W) : std::string()) +
                    ", found " + image_detail::dims(img.channels, img.height, img.width));
    Tensor<Shape<C, H, W>, float> t(1);
    for (int c = 0; c < C; ++c) {
        const int src = broadcast ? 0 : c;
        const float m = mean.empty() ? 0.f : mean[std::size_t(c)];
        for (int y = 0; y < H; ++y)
            for (int x = 0; x < W; ++x) t(0, c, y, x) = (img.at(src, y, x) - m) * scale;
    }
    return t;
}

inline image from_plane(const float* chw, int channels, int height, int width) {
    if (channels < 1 || height < 0 || width < 0)
        throw error("from_plane: bad size " + image_detail::dims(channels, height, width) +
                    " (channels x height x width)");
    image img;
    img.channels = channels;
    img.height = height;
    img.width = width;
    const std::size_t n = std::size_t(channels) * height * width;
    if (n > 0 && chw == nullptr) throw error("from_plane: null data for " + image_detail::dims(channels, height, width));
    img.pixels.assign(chw, chw + n);
    return img;
}

inline image fit_picture(const image& img, int channels, int height, int width) {
    image_detail::check(img, "fit_picture");
    if (channels != 1 && channels != 3) throw error("fit_picture: a network input of " + std::to_string(channels) + " channels; expected 1 or 3");
    if (img.channels != 1 && img.channels != 3)
        throw error("fit_picture: a picture of " + std::to_string(img.channels) + " channels; expected 1 (grey) or 3 (RGB)");
    image sized = img;
    if (img.height != height || img.width != width) {
        // Scale so the picture covers the target, then crop the centre.
        const double s = std::max(double(height) / img.height, double(width) / img.width);
        const int h = std::max(height, int(std::lround(img.height * s)));
        const int w = std::max(width, int(std::lround(img.width * s)));
        const image scaled = resize(img, h, w);
        const int y0 = (h - height) / 2, x0 = (w - width) / 2;
        sized.height = height;
        sized.width = width;
        sized.pixels.assign(std::size_t(img.channels) * height * width, 0.f);
        for (int c = 0; c < img.channels; ++c)
            for (int y = 0; y < height; ++y)
                for (int x = 0; x < width; ++x) sized.at(c, y, x) = scaled.at(c, y0 + y, x0 + x);
    }
    if (sized.channels == channels) return sized;
    image out;
    out.channels = channels;
    out.height = height;
    out.width = width;
    const std::size_t plane = std::size_t(height) * width;
    out.pixels.resize(plane * channels);
    if (channels == 3) {
        for (int c = 0; c < 3; ++c) std::copy_n(sized.pixels.begin(), plane, out.pixels.begin() + c * plane);
    } else {
        for (std::size_t i = 0; i < plane; ++i)
            out.pixels[i] = 0.299f * sized.pixels[i] + 0.587f * sized.pixels[plane + i] + 0.114f * sized.pixels[2 * plane + i];
    }
    return out;
}

}  // namespace convis

// ---- stb: compiled here, or in one translation unit of the program (CONVIS_IMAGE_SEPARATE) ----
#if !defined(CONVIS_IMAGE_SEPARATE) || defined(CONVIS_IMAGE_IMPLEMENTATION)
#ifdef CONVIS_IMAGE_SEPARATE
#define CONVIS_IMAGE_LINKAGE
#else
#define CONVIS_IMAGE_LINKAGE inline
#endif

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#ifndef __clang__  // a GCC-only warning; clang would warn that it does not know it
#pragma GCC diagnostic ignored "-Wuseless-cast"
#endif
#pragma GCC diagnostic ignored "-Wcast-qual"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#ifndef STBI_INCLUDE_STB_IMAGE_H
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
// stb_image's asserts check its own invariants, which hostile files break (found by fuzz_image: a
// JPEG scan using a Huffman table no DHT defined). NDEBUG removes them from release builds; here they
// are removed from every build, since a bad picture must never abort a program. What that one guarded
// is refused before decoding (check_jpeg_tables), and the sanitizers still see any memory error.
#define STBI_ASSERT(x) ((void)0)
// Three things stb_image 2.27 does on hostile input are undefined but harmless, and fatal under
// -fsanitize=undefined (all found by tests/fuzz/fuzz_image): memcpy(NULL, p, 0) for a PNG whose first
// IDAT chunk is empty (legal PNG); in a corrupt JPEG, shifting its 32-bit bit buffer by more than 31
// once its bit count has gone negative; and int overflow when a corrupt JPEG's DC differences add up
// (the product is cut to 16 bits anyway). Garbage values, no memory touched: the decoder then fails or
// yields garbage pixels. Only those three checks are switched off, and only in stb_image.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((no_sanitize("nonnull-attribute", "shift", "signed-integer-overflow"))), \
                             apply_to = function)
#endif
#include <stb/stb_image.h>
#if defined(__clang__)
#pragma clang attribute pop
#endif
#undef STB_IMAGE_IMPLEMENTATION
#endif
#ifndef STBIR_INCLUDE_STB_IMAGE_RESIZE_H
#define STB_IMAGE_RESIZE_STATIC
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb/stb_image_resize.h>
#undef STB_IMAGE_RESIZE_IMPLEMENTATION
#endif
#ifndef INCLUDE_STB_IMAGE_WRITE_H
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#undef STB_IMAGE_WRITE_IMPLEMENTATION
#endif
#pragma GCC diagnostic pop

namespace convis {

namespace image_detail {
struct stbi_deleter {
    void operator()(unsigned char* p) const { stbi_image_free(p); }
};

enum class format { png, jpeg, other };

// Where a JPEG's first segment starts (after the start-of-image marker FF D8, which stb_image also
// finds behind any number of FF fill bytes), or 0 when the bytes are not a JPEG.
inline std::size_t jpeg_body(std::span<const unsigned char> b) {
    std::size_t p = 0;
    while (p < b.size() && b[p] == 0xFF) ++p;
    return p > 0 && p < b.size() && b[p] == 0xD8 ? p + 1 : 0;
}

// The Huffman tables of a JPEG, checked before stb_image sees them: stb_image 2.27 (Debian's libstb,
// 2022) trusts a DHT segment's code counts and writes past its 256-entry tables when they add up to
// more, and a scan that uses a table no DHT defined makes it decode with uninitialised tables and read
// past them (both found by tests/fuzz/fuzz_image). The markers are walked as stb_image walks them: bytes between
// segments skipped as padding, a DHT's tables read for as long as its length says, and a scan's
// entropy-coded data skipped to the next marker (FF, any fill FFs, then neither 00, a stuffed byte,
// nor D0-D7, a restart). Returns what is wrong, or an empty string.
inline std::string check_jpeg_tables(std::span<const unsigned char> b) {
    const std::size_t n = b.size();
    const auto at = [&](std::size_t i) -> unsigned { return i < n ? b[i] : 0u; };  // stb reads 0 past the end
    std::size_t p = jpeg_body(b);
    bool defined[2][4] = {};  // [DC, AC][table]
    bool progressive = false;
    while (p > 0 && p < n) {
        if (b[p] != 0xFF) {
            ++p;
            continue;
        }
        while (p < n && b[p] == 0xFF) ++p;
        if (p >= n) return {};
        const unsigned m = b[p++];
        if (m == 0xD9) return {};                            // end of image
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue;  // markers without a segment
        const long length = long(at(p) << 8 | at(p + 1));
        if (m == 0xC4) {
            std::size_t q = p + 2;
            for (long left = length - 2; left > 0;) {
                unsigned codes = 0;
                for (std::size_t i = 0; i < 16; ++i) codes += at(q + 1 + i);
                if (codes > 256)
                    return "a JPEG Huffman table (DHT marker at byte " + std::to_string(p - 2) + ") declares " +
                           std::to_string(codes) + " codes, more than the 256 a table can hold (corrupt)";
                if (at(q) >> 4 > 1 || (at(q) & 15) > 3) return {};  // stb_image refuses it
                defined[at(q) >> 4][at(q) & 15] = true;
                q += 17 + codes;
                left -= 17 + long(codes);
            }
        }
        if (m == 0xC2) progressive = true;
        if (m == 0xDA) {
            // Each component names a DC and an AC table; a progressive scan uses only one kind: DC when
            // its spectral selection starts at 0, and a DC refinement scan (approximation high > 0) none.
            const unsigned components = at(p + 2), ss = at(p + 3 + 2 * components);
            const unsigned ah = at(p + 5 + 2 * components) >> 4;
            const bool dc = !progressive || (ss == 0 && ah == 0), ac = !progressive || ss > 0;
            for (unsigned i = 0; i < components && i < 4; ++i) {
                const unsigned t = at(p + 4 + 2 * i), td = t >> 4, ta = t & 15;
                if (td > 3 || ta > 3) return {};  // stb_image refuses it
                if ((dc && !defined[0][td]) || (ac && !defined[1][ta]))
                    return "a JPEG scan (SOS marker at byte " + std::to_string(p - 2) + ") uses Huffman table " +
                           std::string(dc && !defined[0][td] ? "DC " + std::to_string(td) : "AC " + std::to_string(ta)) +
                           ", which no DHT marker before it defines (corrupt)";
            }
        }
        p += std::size_t(std::max(length, 2L));
        if (m == 0xDA) {  // entropy-coded data follows the scan header, FF fill bytes allowed anywhere
            while (p < n) {
                if (b[p] != 0xFF) {
                    ++p;
                    continue;
                }
                std::size_t q = p;
                while (q < n && b[q] == 0xFF) ++q;
                if (q < n && b[q] != 0x00 && (b[q] < 0xD0 || b[q] > 0xD7)) break;  // the next marker
                p = q + 1;
            }
        }
    }
    return {};
}

inline format format_of(std::span<const unsigned char> b) {
    static constexpr unsigned char png_signature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    if (b.size() >= 8 && std::equal(std::begin(png_signature), std::end(png_signature), b.begin())) return format::png;
    return jpeg_body(b) ? format::jpeg : format::other;
}

inline std::string size_text(std::int64_t w, std::int64_t h) {
    return std::to_string(w) + "x" + std::to_string(h) + " pixels";
}

// What is wrong with a picture of w x h pixels, or an empty string.
inline std::string check_size(std::int64_t w, std::int64_t h) {
    if (w <= 0 || h <= 0) return "the header claims an empty picture of " + size_text(w, h);
    if (w > max_image_side || h > max_image_side)
        return size_text(w, h) + " is larger than " + std::to_string(max_image_side) + " a side";
    if (w * h > max_image_pixels)
        return size_text(w, h) + " is more than the limit of " + std::to_string(max_image_pixels) + " pixels";
    return {};
}

// A PNG's chunks must lie within the file: stb_image 2.27 grows its buffer to what an IDAT chunk's
// length claims before reading it, so a 79-byte file claiming a 1 GiB chunk cost a 2 GiB allocation
// (found by tests/fuzz/fuzz_image). The header's size is checked here too, since stb_image refuses
// large ones only as an "unknown image type". Returns what is wrong, or an empty string.
inline std::string check_png_chunks(std::span<const unsigned char> b) {
    std::size_t p = 8;  // after the signature
    while (p + 8 <= b.size()) {
        const std::uint64_t length = std::uint64_t(b[p]) << 24 | std::uint64_t(b[p + 1]) << 16 |
                                     std::uint64_t(b[p + 2]) << 8 | b[p + 3];
        const std::string type(reinterpret_cast<const char*>(b.data() + p + 4), 4);
        if (length + 12 > b.size() - p)
            return "PNG chunk at byte " + std::to_string(p) + " claims " + std::to_string(length) +
                   " bytes of data, but only " + std::to_string(b.size() - p) +
                   " bytes are left in the file (truncated or corrupt)";
        if (type == "IEND") break;
        if (type == "IHDR" && length >= 8) {
            const auto be = [&](std::size_t i) {
                return std::int64_t(b[i]) << 24 | std::int64_t(b[i + 1]) << 16 | std::int64_t(b[i + 2]) << 8 | b[i + 3];
            };
            if (std::string bad = check_size(be(p + 8), be(p + 12)); !bad.empty()) return bad;
        }
        p += 12 + std::size_t(length);
    }
    return {};
}

// The fewest bytes a file of w x h pixels can be, or 0 when the format is not one checked here.
// stb_image decodes a JPEG whose data ends early by padding it with zeros, so without this a
// 600-byte file claiming 8192 x 8192 pixels costs seconds and a gigabyte. The bounds are what the
// formats cannot go below: a JPEG codes each 8x8 block's DC value in at least one bit; a PNG's
// deflate stream expands at most 1032:1 and its rows hold at least one bit a pixel.
inline std::uint64_t min_file_bytes(format f, int w, int h) {
    if (f == format::jpeg) return (std::uint64_t(w) + 7) / 8 * ((std::uint64_t(h) + 7) / 8) / 8;
    if (f == format::png) return std::uint64_t(w) * std::uint64_t(h) / 8 / 1032;
    return 0;
}
}  // namespace image_detail

CONVIS_IMAGE_LINKAGE image read_image(const std::string& path) {
    namespace fs = std::filesystem;
    const auto fail = [&](const std::string& why) { return error(path + ": cannot read image: " + why); };
    std::error_code ec;
    const auto st = fs::status(path, ec);
    if (st.type() == fs::file_type::not_found) throw fail("file not found");
    if (ec) throw fail(ec.message());
    if (!fs::is_regular_file(st)) throw fail("not a regular file");
    const std::uintmax_t size = fs::file_size(path, ec);
    if (ec) throw fail("cannot read the file size: " + ec.message());
    if (size > std::uintmax_t{INT_MAX})  // stb_image takes an int length
        throw fail("the file is " + std::to_string(size) + " bytes, more than the " + std::to_string(INT_MAX) +
                   " a picture may have");
    std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw fail("cannot open for reading (permissions?)");
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (static_cast<std::uintmax_t>(in.gcount()) != size)
        throw fail("read " + std::to_string(in.gcount()) + " of " + std::to_string(size) +
                   " bytes (file changed while reading?)");
    return decode_image(bytes, path);
}

CONVIS_IMAGE_LINKAGE image decode_image(std::span<const unsigned char> bytes, const std::string& name) {
    const auto fail = [&](const std::string& why) { return error(name + ": cannot read image: " + why); };
    const auto reason = [] {
        const char* r = stbi_failure_reason();
        return std::string(r ? r : "unknown error");
    };
    if (bytes.size() > std::size_t{INT_MAX})
        throw fail(std::to_string(bytes.size()) + " bytes, more than the " + std::to_string(INT_MAX) +
                   " a picture may have");
    const auto len = static_cast<int>(bytes.size());
    using image_detail::format;
    const format f = image_detail::format_of(bytes);
    if (const std::string bad = f == format::png    ? image_detail::check_png_chunks(bytes)
                                : f == format::jpeg ? image_detail::check_jpeg_tables(bytes)
                                                    : std::string();
        !bad.empty())
        throw fail(bad);
    int w = 0, h = 0, n = 0;
    if (!stbi_info_from_memory(bytes.data(), len, &w, &h, &n)) throw fail(reason());
    using image_detail::size_text;
    if (const std::string bad = image_detail::check_size(w, h); !bad.empty()) throw fail(bad);
    if (const auto least = image_detail::min_file_bytes(f, w, h); bytes.size() < least)
        throw fail("the header claims " + size_text(w, h) + ", which need at least " + std::to_string(least) +
                   " bytes, but there are only " + std::to_string(bytes.size()) + " (truncated or corrupt)");
    const int want = (n == 1 || n == 2) ? 1 : 3;
    int dw = 0, dh = 0;
    std::unique_ptr<unsigned char, image_detail::stbi_deleter> data(
        stbi_load_from_memory(bytes.data(), len, &dw, &dh, &n, want));
    if (!data) throw fail(reason());
    if (dw != w || dh != h)
        throw fail("the header claims " + size_text(w, h) + " but decoding gave " + size_text(dw, dh));
    image img;
    img.width = w;
    img.height = h;
    img.channels = want;
    img.pixels.resize(std::size_t(want) * h * w);
    const unsigned char* p = data.get();
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < want; ++c) img.at(c, y, x) = float(p[(std::size_t(y) * w + x) * want + c]);
    return img;
}

CONVIS_IMAGE_LINKAGE void write_png(const std::string& path, const image& img) {
    const std::vector<unsigned char> hwc = image_detail::png_pixels(img, path + ": cannot write PNG");
    const int c = img.channels, h = img.height, w = img.width;
    const std::string tmp = path + ".tmp-convis";
    if (!stbi_write_png(tmp.c_str(), w, h, c, hwc.data(), w * c)) {
        std::error_code ignored;
        std::filesystem::remove(tmp, ignored);
        throw error(path + ": cannot write PNG (could not write " + tmp + ")");
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::error_code ignored;
        std::filesystem::remove(tmp, ignored);
        throw error(path + ": cannot write PNG: " + ec.message());
    }
}

CONVIS_IMAGE_LINKAGE image resize(const image& img, int height, int width) {
    image_detail::check(img, "resize");
    if (height < 1 || width < 1 || height > max_image_side || width > max_image_side)
        throw error("resize: target size " + std::to_string(height) + "x" + std::to_string(width) +
                    " is outside 1.." + std::to_string(max_image_side));
    if (img.height < 1 || img.width < 1) throw error("resize: the picture is empty");
    image out;
    out.channels = img.channels;
    out.height = height;
    out.width = width;
    out.pixels.resize(std::size_t(img.channels) * height * width);
    for (int c = 0; c < img.channels; ++c) {
        const float* src = img.pixels.data() + std::size_t(c) * img.height * img.width;
        float* dst = out.pixels.data() + std::size_t(c) * height * width;
        if (!stbir_resize_float(src, img.width, img.height, 0, dst, width, height, 0, 1))
            throw error("resize: stb_image_resize failed for " + image_detail::dims(img.channels, img.height, img.width));
    }
    return out;
}

CONVIS_IMAGE_LINKAGE std::vector<std::uint8_t> png_bytes(const image& img) {
    const std::vector<unsigned char> hwc = image_detail::png_pixels(img, "png_bytes");
    const int c = img.channels, h = img.height, w = img.width;
    std::vector<std::uint8_t> out;
    const auto append = [](void* context, void* data, int size) {
        auto* v = static_cast<std::vector<std::uint8_t>*>(context);
        const auto* p = static_cast<const std::uint8_t*>(data);
        v->insert(v->end(), p, p + size);
    };
    if (!stbi_write_png_to_func(append, &out, w, h, c, hwc.data(), w * c) || out.empty())
        throw error("png_bytes: stb_image_write could not encode a " + image_detail::dims(c, h, w) + " picture");
    return out;
}

}  // namespace convis

#undef CONVIS_IMAGE_LINKAGE
#endif  // stb
