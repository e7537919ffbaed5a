#pragma once
// convis/io/idx.hpp — reader for the IDX format of MNIST and Fashion-MNIST
// (http://yann.lecun.com/exdb/mnist/), raw or gzip-compressed:
//
//   [2 bytes]        00 00
//   [1 byte]         element type: 0x08 unsigned byte (the only one read here), 0x09 signed byte,
//                    0x0B i16, 0x0C i32, 0x0D float, 0x0E double
//   [1 byte]         number of dimensions, 1..4 here
//   [4 bytes × n]    dimensions, big-endian u32
//   [rest]           the elements, row-major; exactly the product of the dimensions
//
// A file is gzip when it starts with 1f 8b, whatever its name says. Data sets come from elsewhere and are
// often truncated, so the reader trusts nothing: the header is checked before anything is allocated; a raw
// file's length must match the header before the data is read; a gzip stream is inflated only up to what
// the header promises (one byte more is an error, so a gzip bomb costs bounded memory and time) and must
// end there with a valid CRC. Every failure is a convis::error that starts with the path and says what was
// expected and what was found.
#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <zlib.h>

#include "../core/error.hpp"

namespace convis {

/// One IDX array of unsigned bytes: its dimensions (1 to 4, each > 0) and product-of-dims elements.
struct idx_array {
    std::vector<std::int64_t> dims;
    std::vector<std::uint8_t> data;
};

/// Reads a raw or gzip-compressed IDX file of unsigned bytes (type 0x08); throws convis::error on anything
/// malformed. The data may be at most 2^32 bytes.
inline idx_array read_idx(const std::string& path);

/// The same for a file's bytes already in memory, raw or gzip: the same checks, limits and messages, with
/// `name` where the path would be.
inline idx_array parse_idx(std::string_view bytes, const std::string& name);

/// Images with optional labels, planar: pixel (n, c, y, x) is pixels[((n*channels + c)*height + y)*width + x].
struct image_set {
    int count = 0, channels = 1, height = 0, width = 0;
    std::vector<std::uint8_t> pixels;  // count×channels×height×width, pixel 0..255
    std::vector<std::int64_t> labels;  // empty or count
};

/// Images from an IDX file of shape [N,H,W] (one channel) or [N,H,W,C] with C 1 or 3 (converted from
/// interleaved to planar); labels, if `labels_path` is not empty, from an IDX file of shape [N].
inline image_set read_idx_images(const std::string& images_path, const std::string& labels_path = "");

// ---------------------------------------------------------------------------------------------------------
// Details
// ---------------------------------------------------------------------------------------------------------

namespace idx_detail {

inline constexpr std::uint64_t max_data_bytes = std::uint64_t{1} << 32;
inline constexpr std::size_t chunk = std::size_t{1} << 16;  // compressed bytes read at a time

[[noreturn]] inline void fail(const std::string& path, const std::string& msg) { throw error(path + ": " + msg); }

inline const char* type_name(unsigned t) {
    switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "16-bit integer";
    case 0x0C: return "32-bit integer";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return "unknown";
    }
}

inline std::string hex_byte(unsigned b) {
    char s[8];
    std::snprintf(s, sizeof s, "%02X", b & 0xFFu);
    return s;
}

// "60000×28×28"
inline std::string dims_product(const std::vector<std::int64_t>& dims) {
    std::string s;
    for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? "×" : "") + std::to_string(dims[i]);
    return s;
}

// "[60000,28,28]"
inline std::string dims_list(const std::vector<std::int64_t>& dims) {
    std::string s = "[";
    for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
    return s + "]";
}

// The file's bytes as they are, from a stream or from memory; read() returns fewer than asked only at
// the end.
class raw_source {
public:
    raw_source(const std::string& path, std::istream& in) : path_(path), in_(&in) {}
    raw_source(const std::string& path, std::string_view bytes) : path_(path), mem_(bytes) {}
    static constexpr const char* noun = "the file";
    std::size_t read(unsigned char* dst, std::size_t n) {
        if (!in_) {
            const std::size_t got = std::min(n, mem_.size() - pos_);
            std::copy_n(mem_.data() + pos_, got, reinterpret_cast<char*>(dst));
            pos_ += got;
            return got;
        }
        in_->read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(n));
        if (in_->bad()) fail(path_, "read error");
        return static_cast<std::size_t>(in_->gcount());
    }

private:
    const std::string& path_;
    std::istream* in_ = nullptr;
    std::string_view mem_;
    std::size_t pos_ = 0;
};

// The decompressed bytes of a gzip file (one member or several, as `cat a.gz b.gz` makes). read() returns
// fewer bytes than asked only at the verified end of the last member; a corrupt or truncated stream throws.
// Output is produced only as asked for, so a caller that asks for no more than it expects never pays for
// a bomb.
class gzip_source {
public:
    gzip_source(const std::string& path, raw_source& in) : path_(path), in_(in), buf_(chunk) {
        const int rc = inflateInit2(&zs_, 16 + MAX_WBITS);
        if (rc != Z_OK) fail(path_, std::string("cannot start zlib: ") + (zs_.msg ? zs_.msg : zError(rc)));
    }
    ~gzip_source() { inflateEnd(&zs_); }
    gzip_source(const gzip_source&) = delete;
    gzip_source& operator=(const gzip_source&) = delete;

    static constexpr const char* noun = "the decompressed stream";

    std::size_t read(unsigned char* dst, std::size_t n) {
        std::size_t done = 0;
        while (done < n && !ended_) {
            if (zs_.avail_in == 0 && !refill())
                fail(path_, "gzip stream is truncated: the file ends after " + std::to_string(file_bytes_) +
                                " bytes, before the end of the compressed stream" + member_text() +
                                " (zlib: " + zError(Z_BUF_ERROR) + ")");
            const std::size_t want = std::min<std::size_t>(n - done, std::numeric_limits<uInt>::max());
            zs_.next_out = dst + done;
            zs_.avail_out = static_cast<uInt>(want);
            const int rc = inflate(&zs_, Z_NO_FLUSH);
            done += want - zs_.avail_out;
            if (rc == Z_STREAM_END) {
                // Another member may follow; anything else after the stream is reported as corrupt by zlib.
                if (zs_.avail_in == 0 && !refill()) {
                    ended_ = true;
                } else {
                    inflateReset(&zs_);
                    ++member_;
                }
            } else if (rc != Z_OK && rc != Z_BUF_ERROR) {  // Z_BUF_ERROR: no progress, needs more input
                fail(path_, "corrupt gzip stream" + member_text() + " (zlib: " +
                                (zs_.msg ? zs_.msg : zError(rc)) + ")");
            }
        }
        return done;
    }

private:
    bool refill() {
        const std::size_t got = in_.read(buf_.data(), buf_.size());
        file_bytes_ += got;
        zs_.next_in = buf_.data();
        zs_.avail_in = static_cast<uInt>(got);
        return got > 0;
    }
    std::string member_text() const {
        return member_ > 1 ? " in gzip member " + std::to_string(member_) + " (data after the first member)" : "";
    }

    const std::string& path_;
    raw_source& in_;
    std::vector<unsigned char> buf_;
    z_stream zs_{};
    std::uint64_t file_bytes_ = 0;
    int member_ = 1;
    bool ended_ = false;
};

struct header {
    std::vector<std::int64_t> dims;
    std::uint64_t bytes = 0;   // product of dims
    std::uint64_t length = 0;  // header bytes: 4 + 4 × ndims
};

// Reads and checks the header, leaving `src` at the first data byte.
template <class Source>
header read_header(const std::string& path, Source& src) {
    unsigned char h[4];
    const std::size_t got = src.read(h, 4);
    if (got < 4)
        fail(path, std::string(Source::noun) + " holds " + std::to_string(got) +
                       " bytes, too short for the 4-byte IDX header (truncated or not an IDX file)");
    if (h[0] != 0 || h[1] != 0)
        fail(path, "expected an IDX file starting with bytes 00 00 (or 1F 8B for gzip), found " + hex_byte(h[0]) +
                       " " + hex_byte(h[1]) + " (not an IDX file)");
    if (h[2] != 0x08)
        fail(path, "IDX type 0x" + hex_byte(h[2]) + " (" + type_name(h[2]) +
                       ") is not supported; expected 0x08 (unsigned byte)");
    const unsigned n = h[3];
    if (n < 1 || n > 4)
        fail(path, "IDX header declares " + std::to_string(n) + " dimensions; expected 1 to 4");

    header out;
    out.length = 4 + 4 * std::uint64_t{n};
    unsigned char d[16];
    const std::size_t got_dims = src.read(d, 4 * n);
    if (got_dims < 4 * n)
        fail(path, std::string(Source::noun) + " holds " + std::to_string(4 + got_dims) +
                       " bytes, too short for the IDX header of " + std::to_string(out.length) + " bytes (" +
                       std::to_string(n) + " dimensions; truncated?)");
    for (unsigned i = 0; i < n; ++i) {
        const std::uint32_t v = (std::uint32_t{d[4 * i]} << 24) | (std::uint32_t{d[4 * i + 1]} << 16) |
                                (std::uint32_t{d[4 * i + 2]} << 8) | std::uint32_t{d[4 * i + 3]};
        out.dims.push_back(static_cast<std::int64_t>(v));
    }
    for (unsigned i = 0; i < n; ++i)
        if (out.dims[i] == 0)
            fail(path, "IDX dimension " + std::to_string(i) + " of " + dims_list(out.dims) +
                           " is 0; every dimension must be positive");
    // Dimensions are below 2^32, so checking the running product against INT64_MAX before each step keeps
    // it exact.
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    std::uint64_t p = 1;
    for (auto dim : out.dims) {
        const auto u = static_cast<std::uint64_t>(dim);
        if (p > max / u)
            fail(path, "IDX header dimensions " + dims_product(out.dims) +
                           " overflow int64 (at most " + std::to_string(max_data_bytes) + " bytes are read)");
        p *= u;
    }
    if (p > max_data_bytes || p > std::numeric_limits<std::size_t>::max())
        fail(path, "IDX header promises " + dims_product(out.dims) + " = " + std::to_string(p) +
                       " bytes of data, more than the limit of " + std::to_string(max_data_bytes) + " bytes");
    out.bytes = p;
    return out;
}

inline std::string promises(const header& h) {
    return "IDX header promises " + dims_product(h.dims) + " = " + std::to_string(h.bytes) + " bytes of data";
}

inline idx_array read_raw(const std::string& path, raw_source& src, std::uint64_t size) {
    header h = read_header(path, src);
    const std::uint64_t data = size - h.length;  // read_header has read h.length bytes, so size >= h.length
    if (data != h.bytes)
        fail(path, promises(h) + ", the file holds " + std::to_string(data) + " after the " +
                       std::to_string(h.length) + "-byte header (" + (data < h.bytes ? "truncated?" : "trailing bytes") +
                       ")");
    idx_array out;
    out.dims = std::move(h.dims);
    out.data.resize(static_cast<std::size_t>(h.bytes));
    const std::size_t got = src.read(out.data.data(), out.data.size());
    if (got != out.data.size())
        fail(path, "read " + std::to_string(got) + " of " + std::to_string(out.data.size()) +
                       " data bytes (file changed while reading?)");
    return out;
}

inline idx_array read_gzip(const std::string& path, raw_source& in) {
    gzip_source src(path, in);
    const header h = read_header(path, src);
    idx_array out;
    out.dims = h.dims;
    // Grow with what actually arrives rather than trusting the header for one big allocation up front: a
    // small corrupt file that claims 4 GiB fails before it costs 4 GiB.
    const auto total = static_cast<std::size_t>(h.bytes);
    std::size_t have = 0;
    while (have < total) {
        if (have == out.data.size())
            out.data.resize(std::min(total, std::max<std::size_t>(std::size_t{1} << 20, 2 * out.data.size())));
        const std::size_t got = src.read(out.data.data() + have, out.data.size() - have);
        have += got;
        if (have < out.data.size()) break;  // the stream ended
    }
    if (have < total)
        fail(path, promises(h) + ", the decompressed stream holds " + std::to_string(have) + " after the " +
                       std::to_string(h.length) + "-byte header (truncated?)");
    unsigned char extra = 0;
    if (src.read(&extra, 1) != 0)
        fail(path, promises(h) + ", the decompressed stream holds more (stopped decompressing after " +
                       std::to_string(total + 1) + " bytes of data; trailing bytes or a gzip bomb)");
    return out;
}

// The file or memory path: gzip when it starts with 1f 8b, whatever its name says.
inline idx_array parse(const std::string& path, raw_source& in, std::uint64_t size, const unsigned char (&magic)[2]) {
    return magic[0] == 0x1F && magic[1] == 0x8B ? read_gzip(path, in) : read_raw(path, in, size);
}

// Dimension `i` of `a` as an int, for image_set's fields.
inline int as_int(const std::string& path, const idx_array& a, std::size_t i, const char* what) {
    if (a.dims[i] > INT_MAX)
        fail(path, std::string(what) + " " + std::to_string(a.dims[i]) + " in " + dims_list(a.dims) +
                       " is more than " + std::to_string(INT_MAX));
    return static_cast<int>(a.dims[i]);
}

}  // namespace idx_detail

inline idx_array read_idx(const std::string& path) {
    namespace fs = std::filesystem;
    using idx_detail::fail;
    std::error_code ec;
    const auto st = fs::status(path, ec);
    if (st.type() == fs::file_type::not_found) fail(path, "cannot open: file not found");
    if (ec) fail(path, "cannot open: " + ec.message());
    if (fs::is_directory(st)) fail(path, "cannot open: expected a file, found a directory");
    if (!fs::is_regular_file(st)) fail(path, "cannot open: not a regular file");
    const std::uint64_t size = fs::file_size(path, ec);
    if (ec) fail(path, "cannot read file size: " + ec.message());

    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, "cannot open for reading (permissions?)");
    unsigned char magic[2] = {0, 0};
    in.read(reinterpret_cast<char*>(magic), 2);
    in.clear();
    in.seekg(0);
    if (!in) fail(path, "cannot rewind the file");
    idx_detail::raw_source src(path, in);
    return idx_detail::parse(path, src, size, magic);
}

inline idx_array parse_idx(std::string_view bytes, const std::string& name) {
    unsigned char magic[2] = {0, 0};
    std::copy_n(bytes.data(), std::min<std::size_t>(2, bytes.size()), reinterpret_cast<char*>(magic));
    idx_detail::raw_source src(name, bytes);
    return idx_detail::parse(name, src, bytes.size(), magic);
}

inline image_set read_idx_images(const std::string& images_path, const std::string& labels_path) {
    using idx_detail::as_int;
    using idx_detail::fail;
    idx_array a = read_idx(images_path);
    const std::size_t nd = a.dims.size();
    if (nd != 3 && !(nd == 4 && (a.dims[3] == 1 || a.dims[3] == 3)))
        fail(images_path, "expected images of shape [N,H,W] or [N,H,W,C] with C 1 or 3, found " +
                              idx_detail::dims_list(a.dims));
    image_set s;
    s.count = as_int(images_path, a, 0, "image count");
    s.height = as_int(images_path, a, 1, "image height");
    s.width = as_int(images_path, a, 2, "image width");
    s.channels = nd == 4 ? static_cast<int>(a.dims[3]) : 1;
    if (s.channels == 1) {
        s.pixels = std::move(a.data);
    } else {  // interleaved HWC → planar CHW, image by image
        const std::size_t plane = std::size_t(s.height) * std::size_t(s.width), c = std::size_t(s.channels);
        s.pixels.resize(a.data.size());
        for (std::size_t n = 0; n < std::size_t(s.count); ++n) {
            const std::uint8_t* src = a.data.data() + n * plane * c;
            std::uint8_t* dst = s.pixels.data() + n * plane * c;
            for (std::size_t p = 0; p < plane; ++p)
                for (std::size_t k = 0; k < c; ++k) dst[k * plane + p] = src[p * c + k];
        }
    }
    if (labels_path.empty()) return s;

    idx_array l = read_idx(labels_path);
    if (l.dims.size() != 1)
        fail(labels_path, "expected labels of shape [N], found " + idx_detail::dims_list(l.dims));
    if (l.dims[0] != a.dims[0])
        fail(labels_path, "holds " + std::to_string(l.dims[0]) + " labels, but the images file " + images_path +
                              " holds " + std::to_string(a.dims[0]) + " images");
    s.labels.assign(l.data.begin(), l.data.end());
    return s;
}

}  // namespace convis
