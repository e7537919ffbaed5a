#pragma once
// convis/io/safetensors.hpp — reader and writer for the safetensors format
// (https://github.com/huggingface/safetensors):
//
//   [8 bytes]  N, little-endian u64
//   [N bytes]  UTF-8 JSON object: {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//              optional "__metadata__": {string: string}}
//   [rest]     data block; offsets are relative to its start and must tile it exactly.
//
// Model files come from elsewhere and are often truncated or corrupt, so the reader trusts nothing: every
// field is checked before it is used, nothing is read past what the file holds, and every failure is a
// convis::error naming the file, the tensor, what was expected and what was found.
#include <algorithm>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "../core/error.hpp"

namespace convis {

// Tensor bytes are copied straight into typed vectors; a big-endian host would need byte swaps.
static_assert(std::endian::native == std::endian::little, "convis safetensors I/O assumes a little-endian host");

/// Element types, spelled in files as "F32", "F64", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL".
enum class dtype { f32, f64, f16, bf16, i64, i32, i16, i8, u8, boolean };

inline std::string_view dtype_name(dtype t);
inline std::size_t dtype_size(dtype t);

/// One tensor as stored: raw little-endian bytes plus type and shape.
struct stored_tensor {
    dtype type = dtype::f32;
    std::vector<std::int64_t> shape;
    std::vector<std::byte> bytes;

    /// Product of the shape (1 for a scalar); throws convis::error on a negative or overflowing shape.
    std::size_t numel() const;

    /// T = float needs F32, T = double needs F64: silently widening or narrowing would hide a wrong file.
    /// `file` and `name` only go into the error message.
    template <class T>
    std::vector<T> to_vector(const std::string& file, const std::string& name) const;
};

struct safetensors_file {
    std::map<std::string, stored_tensor> tensors;
    std::map<std::string, std::string> metadata;  // "__metadata__"

    /// Throws convis::error "<path>: no tensor '<name>'".
    const stored_tensor& at(const std::string& name) const;
    bool contains(const std::string& name) const;

    std::string path;  // where it was read from; used in error messages
};

/// A shape as convis's messages print it: "[96,3,7,7]".
inline std::string shape_string(const std::vector<std::int64_t>& shape) {
    std::string t = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) t += (i ? "," : "") + std::to_string(shape[i]);
    return t + "]";
}

/// Reads and fully validates a file; throws convis::error on anything malformed.
inline safetensors_file read_safetensors(const std::string& path);

/// The same for a file's bytes already in memory (downloaded, embedded, fuzzed): the same checks and
/// messages, with `name` where the path would be. The result's `path` is `name`.
inline safetensors_file parse_safetensors(std::span<const std::byte> bytes, const std::string& name);

/// Writes tensors in name order, header space-padded to a multiple of 8 bytes like the reference writer.
/// Atomic: writes "<path>.tmp-<random>" and renames it over `path`; on failure the temporary is removed.
inline void write_safetensors(const std::string& path, const safetensors_file& f);

/// T: float→F32, double→F64, int64_t→I64, int32_t→I32, int16_t→I16, int8_t→I8, uint8_t→U8.
/// Throws convis::error if the shape's product is not data.size().
template <class T>
stored_tensor make_tensor(std::span<const T> data, std::vector<std::int64_t> shape);

// ---------------------------------------------------------------------------------------------------------
// Details
// ---------------------------------------------------------------------------------------------------------

namespace safetensors_detail {

// Same cap as the reference implementation: past this the length field is garbage, not a header.
inline constexpr std::uint64_t max_header_bytes = 100'000'000;
// A valid header nests three deep (object → entry → shape); the cap stops a hostile "[[[[..." from
// costing gigabytes of JSON nodes before we can reject it.
inline constexpr int max_json_depth = 8;

struct dtype_info {
    dtype type;
    std::string_view name;
    std::size_t size;
};

inline constexpr dtype_info dtype_table[] = {
    {dtype::f32, "F32", 4}, {dtype::f64, "F64", 8}, {dtype::f16, "F16", 2}, {dtype::bf16, "BF16", 2},
    {dtype::i64, "I64", 8}, {dtype::i32, "I32", 4}, {dtype::i16, "I16", 2}, {dtype::i8, "I8", 1},
    {dtype::u8, "U8", 1},   {dtype::boolean, "BOOL", 1},
};

inline const dtype_info& info(dtype t) {
    for (const auto& d : dtype_table)
        if (d.type == t) return d;
    throw error("invalid convis::dtype value " + std::to_string(static_cast<int>(t)));
}

inline std::optional<dtype> parse_dtype(std::string_view s) {
    for (const auto& d : dtype_table)
        if (d.name == s) return d.type;
    return std::nullopt;
}

inline std::string dtype_list() {
    std::string s;
    for (const auto& d : dtype_table) {
        if (!s.empty()) s += ", ";
        s += d.name;
    }
    return s;
}

template <class T>
inline constexpr bool always_false = false;

template <class T>
constexpr dtype dtype_of() {
    if constexpr (std::is_same_v<T, float>) return dtype::f32;
    else if constexpr (std::is_same_v<T, double>) return dtype::f64;
    else if constexpr (std::is_same_v<T, std::int64_t>) return dtype::i64;
    else if constexpr (std::is_same_v<T, std::int32_t>) return dtype::i32;
    else if constexpr (std::is_same_v<T, std::int16_t>) return dtype::i16;
    else if constexpr (std::is_same_v<T, std::int8_t>) return dtype::i8;
    else if constexpr (std::is_same_v<T, std::uint8_t>) return dtype::u8;
    else static_assert(always_false<T>, "make_tensor: T must be float, double, int64_t, int32_t, int16_t, int8_t "
                                        "or uint8_t");
}

// Names and strings come from untrusted files: escape control bytes so messages stay one readable line.
// `keep_utf8` is false for text that may hold arbitrary bytes, which are then escaped too.
inline void append_escaped(std::string& out, std::string_view s, bool keep_utf8) {
    static constexpr char hex[] = "0123456789abcdef";
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\'' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20 || c == 0x7F || (c >= 0x80 && !keep_utf8)) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xF];
        } else {
            out += ch;
        }
    }
}

// Quoted and capped, so a megabyte-long name cannot flood a log.
inline std::string quote(std::string_view s) {
    constexpr std::size_t cap = 80;
    std::size_t n = std::min(s.size(), cap);
    // Back up to a UTF-8 character boundary so the cut does not leave half a character.
    if (n < s.size())
        while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    std::string out = "'";
    append_escaped(out, s.substr(0, n), true);
    out += '\'';
    if (n < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
    return out;
}

// What a JSON value is, in a few words. Never dump() a value from the file: it could be huge or nested
// deep enough to exhaust the stack.
inline std::string describe(const nlohmann::json& v) {
    switch (v.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::number_integer: return std::to_string(v.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: return std::to_string(v.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float: return "the non-integer number " + v.dump();
    case nlohmann::json::value_t::string: return "the string " + quote(v.get_ref<const std::string&>());
    case nlohmann::json::value_t::array: return "an array of " + std::to_string(v.size()) + " elements";
    case nlohmann::json::value_t::object: return "an object with " + std::to_string(v.size()) + " keys";
    default: return "a JSON value of unexpected type";
    }
}

inline std::string format_shape(const std::vector<std::int64_t>& shape) {
    constexpr std::size_t cap = 8;
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size() && i < cap; ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    if (shape.size() > cap) s += ", ... (" + std::to_string(shape.size()) + " dims)";
    return s + "]";
}

inline std::string offsets_str(std::uint64_t begin, std::uint64_t end) {
    return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

[[noreturn]] inline void fail(const std::string& path, const std::string& msg) { throw error(path + ": " + msg); }

[[noreturn]] inline void fail_tensor(const std::string& path, const std::string& name, const std::string& msg) {
    throw error(path + ": tensor " + quote(name) + ": " + msg);
}

enum class shape_problem { none, negative, overflow };

// Element and byte counts in 64 bits with overflow detected, so a hostile shape cannot wrap around to a
// small size that then passes the data_offsets check.
inline shape_problem count_elements(const std::vector<std::int64_t>& shape, std::uint64_t elem_size,
                                    std::uint64_t& numel, std::uint64_t& nbytes) {
    numel = 1;
    bool zero = false;
    for (auto d : shape) {
        if (d < 0) return shape_problem::negative;
        if (d == 0) zero = true;
    }
    if (zero) {  // an empty tensor is empty whatever the other dimensions are
        numel = nbytes = 0;
        return shape_problem::none;
    }
    constexpr auto max = std::numeric_limits<std::uint64_t>::max();
    for (auto d : shape) {
        const auto u = static_cast<std::uint64_t>(d);
        if (numel > max / u) return shape_problem::overflow;
        numel *= u;
    }
    if (numel > max / elem_size) return shape_problem::overflow;
    nbytes = numel * elem_size;
    return shape_problem::none;
}

inline std::string shape_problem_text(shape_problem p, const std::vector<std::int64_t>& shape, dtype t) {
    if (p == shape_problem::negative) return "shape " + format_shape(shape) + " has a negative dimension";
    return "shape " + format_shape(shape) + " of " + std::string(info(t).name) +
           " elements overflows 64-bit byte count";
}

// Parses the header, rejecting over-deep nesting and duplicate keys: nlohmann silently keeps the last of
// two equal keys, which would let one tensor entry shadow another.
inline nlohmann::json parse_header(const std::string& path, const std::string& text) {
    std::vector<std::set<std::string>> open_objects;
    auto cb = [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) -> bool {
        using E = nlohmann::json::parse_event_t;
        switch (ev) {
        case E::object_start:
        case E::array_start:
            if (depth >= max_json_depth)
                fail(path, "header: JSON nested more than " + std::to_string(max_json_depth) +
                               " levels deep (a safetensors header needs 3)");
            if (ev == E::object_start) open_objects.emplace_back();
            break;
        case E::object_end:
            if (!open_objects.empty()) open_objects.pop_back();
            break;
        case E::key:
            if (!open_objects.empty() && parsed.is_string() &&
                !open_objects.back().insert(parsed.get_ref<const std::string&>()).second)
                fail(path, "header: duplicate JSON key " + quote(parsed.get_ref<const std::string&>()));
            break;
        default: break;
        }
        return true;
    };
    try {
        return nlohmann::json::parse(text, cb);
    } catch (const nlohmann::json::exception& e) {
        // nlohmann quotes the offending input verbatim, which may be invalid UTF-8.
        std::string msg = "header is not valid JSON: ";
        append_escaped(msg, e.what(), false);
        fail(path, msg);
    }
}

struct entry {
    const std::string* name;
    stored_tensor* tensor;
    std::uint64_t begin, end;
};

inline std::uint64_t parse_offset(const std::string& path, const std::string& name, const nlohmann::json& v,
                                  const char* which) {
    if (!v.is_number_unsigned())
        fail_tensor(path, name,
                    std::string("data_offsets ") + which + ": expected a non-negative integer, found " + describe(v));
    return v.get<std::uint64_t>();
}

inline void parse_entry(const std::string& path, const std::string& name, const nlohmann::json& v,
                        std::uint64_t data_size, stored_tensor& t, entry& e) {
    if (!v.is_object())
        fail_tensor(path, name, "expected an object with dtype, shape and data_offsets, found " + describe(v));
    for (const char* key : {"dtype", "shape", "data_offsets"})
        if (!v.contains(key)) fail_tensor(path, name, std::string("missing '") + key + "'");

    const auto& jd = v["dtype"];
    if (!jd.is_string()) fail_tensor(path, name, "dtype: expected a string, found " + describe(jd));
    const auto& dname = jd.get_ref<const std::string&>();
    const auto parsed = parse_dtype(dname);
    if (!parsed) fail_tensor(path, name, "unknown dtype " + quote(dname) + " (expected one of " + dtype_list() + ")");
    t.type = *parsed;

    const auto& js = v["shape"];
    if (!js.is_array()) fail_tensor(path, name, "shape: expected an array of integers, found " + describe(js));
    t.shape.reserve(js.size());
    for (std::size_t i = 0; i < js.size(); ++i) {
        const auto& d = js[i];
        const std::string where = "shape[" + std::to_string(i) + "]";
        if (d.is_number_integer() && !d.is_number_unsigned())  // nlohmann stores only negatives as signed
            fail_tensor(path, name,
                        where + ": negative dimension " + describe(d) + " (expected a non-negative integer)");
        if (!d.is_number_unsigned())
            fail_tensor(path, name, where + ": expected a non-negative integer, found " + describe(d));
        const auto u = d.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            fail_tensor(path, name, where + ": dimension " + std::to_string(u) + " overflows int64");
        t.shape.push_back(static_cast<std::int64_t>(u));
    }
    std::uint64_t numel = 0, nbytes = 0;
    if (auto p = count_elements(t.shape, info(t.type).size, numel, nbytes); p != shape_problem::none)
        fail_tensor(path, name, shape_problem_text(p, t.shape, t.type));

    const auto& jo = v["data_offsets"];
    if (!jo.is_array() || jo.size() != 2)
        fail_tensor(path, name, "data_offsets: expected two integers [begin, end], found " + describe(jo));
    e.begin = parse_offset(path, name, jo[0], "begin");
    e.end = parse_offset(path, name, jo[1], "end");
    if (e.begin > e.end)
        fail_tensor(path, name, "data_offsets " + offsets_str(e.begin, e.end) + ": begin is after end");
    if (e.end > data_size)
        fail_tensor(path, name,
                    "data_offsets " + offsets_str(e.begin, e.end) + ": end is beyond the data block of " +
                        std::to_string(data_size) + " bytes (file truncated?)");
    if (e.end - e.begin != nbytes)
        fail_tensor(path, name,
                    "data_offsets " + offsets_str(e.begin, e.end) + " hold " + std::to_string(e.end - e.begin) +
                        " bytes, but dtype " + std::string(info(t.type).name) + " with shape " +
                        format_shape(t.shape) + " needs " + std::to_string(nbytes) + " bytes");
    e.name = &name;
    e.tensor = &t;
}

inline void parse_metadata(const std::string& path, const nlohmann::json& v, std::map<std::string, std::string>& out) {
    if (!v.is_object()) fail(path, "__metadata__: expected an object of strings, found " + describe(v));
    for (const auto& [key, value] : v.items()) {
        if (!value.is_string())
            fail(path, "__metadata__ key " + quote(key) + ": expected a string value, found " + describe(value));
        out.emplace(key, value.get<std::string>());
    }
}

// The spec requires the tensors to tile the data block exactly: overlap would alias two tensors, and a
// hole or trailing bytes mean the header and the data disagree. Sorts `entries` by offset.
inline void check_coverage(const std::string& path, std::vector<entry>& entries, std::uint64_t data_size) {
    std::sort(entries.begin(), entries.end(), [](const entry& a, const entry& b) {
        if (a.begin != b.begin) return a.begin < b.begin;
        if (a.end != b.end) return a.end < b.end;
        return *a.name < *b.name;
    });
    std::uint64_t covered = 0;
    const entry* prev = nullptr;
    for (const auto& e : entries) {
        if (e.begin < covered)
            fail_tensor(path, *e.name,
                        "data_offsets " + offsets_str(e.begin, e.end) + " overlap tensor " + quote(*prev->name) +
                            " at " + offsets_str(prev->begin, prev->end) + " (tensors must not overlap)");
        if (e.begin > covered)
            fail(path, "data block bytes [" + std::to_string(covered) + ", " + std::to_string(e.begin) +
                           ") before tensor " + quote(*e.name) +
                           " belong to no tensor (a hole; the data block must be fully covered)");
        covered = e.end;
        prev = &e;
    }
    if (covered != data_size)
        fail(path, "data block bytes [" + std::to_string(covered) + ", " + std::to_string(data_size) + ") " +
                       (entries.empty() ? "belong to no tensor (the header lists none)"
                                        : "after the last tensor belong to no tensor (a hole at the end)") +
                       "; the data block must be fully covered");
}

inline std::string unique_suffix() {
    // The pid would be the natural suffix, but it is not reachable from the standard library alone;
    // a random token serves the same purpose (two writers never share a temporary).
    std::uint64_t x = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    try {
        std::random_device rd;
        x ^= (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    } catch (...) {
        // No entropy source: the clock alone still makes a collision unlikely.
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string s(16, '0');
    for (int i = 15; i >= 0; --i, x >>= 4) s[static_cast<std::size_t>(i)] = hex[x & 0xF];
    return s;
}

}  // namespace safetensors_detail

inline std::string_view dtype_name(dtype t) { return safetensors_detail::info(t).name; }

inline std::size_t dtype_size(dtype t) { return safetensors_detail::info(t).size; }

inline std::size_t stored_tensor::numel() const {
    std::uint64_t n = 0, nbytes = 0;
    if (auto p = safetensors_detail::count_elements(shape, 1, n, nbytes); p != safetensors_detail::shape_problem::none)
        throw error("stored_tensor: " + safetensors_detail::shape_problem_text(p, shape, type));
    if (n > std::numeric_limits<std::size_t>::max())
        throw error("stored_tensor: shape " + safetensors_detail::format_shape(shape) + " too large for size_t");
    return static_cast<std::size_t>(n);
}

template <class T>
std::vector<T> stored_tensor::to_vector(const std::string& file, const std::string& name) const {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "to_vector: T must be float or double");
    constexpr dtype want = std::is_same_v<T, float> ? dtype::f32 : dtype::f64;
    if (type != want)
        safetensors_detail::fail_tensor(file, name,
                                        "expected dtype " + std::string(dtype_name(want)) + ", found " +
                                            std::string(dtype_name(type)));
    const std::size_t n = numel();
    if (bytes.size() / sizeof(T) != n || bytes.size() % sizeof(T) != 0)
        safetensors_detail::fail_tensor(file, name,
                                        "shape " + safetensors_detail::format_shape(shape) + " needs " +
                                            std::to_string(n) + " elements, found " + std::to_string(bytes.size()) +
                                            " bytes");
    std::vector<T> out(n);
    if (n) std::memcpy(out.data(), bytes.data(), n * sizeof(T));
    return out;
}

inline const stored_tensor& safetensors_file::at(const std::string& name) const {
    auto it = tensors.find(name);
    if (it == tensors.end()) throw error(path + ": no tensor " + safetensors_detail::quote(name));
    return it->second;
}

inline bool safetensors_file::contains(const std::string& name) const { return tensors.count(name) != 0; }

namespace safetensors_detail {

// Where the bytes come from: a file (read sequentially, so a large data block goes straight into the
// tensors without a second copy of it) or memory. read_exact(dst, n, what) fails naming `what`.
class file_source {
public:
    file_source(const std::string& path, std::ifstream& in) : path_(path), in_(in) {}
    void read_exact(void* dst, std::uint64_t n, const std::string& what) {
        in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
        if (static_cast<std::uint64_t>(in_.gcount()) != n)
            fail(path_, "read error in " + what + ": expected " + std::to_string(n) + " bytes, got " +
                            std::to_string(in_.gcount()) + " (file changed while reading?)");
    }

private:
    const std::string& path_;
    std::ifstream& in_;
};

class memory_source {
public:
    explicit memory_source(std::span<const std::byte> bytes) : bytes_(bytes) {}
    // parse() never asks for more than the size it was given, so running out is a bug, not bad input.
    void read_exact(void* dst, std::uint64_t n, const std::string& what) {
        if (n > bytes_.size() - pos_) throw error("safetensors: internal error reading " + what);
        if (n) std::memcpy(dst, bytes_.data() + pos_, static_cast<std::size_t>(n));
        pos_ += static_cast<std::size_t>(n);
    }

private:
    std::span<const std::byte> bytes_;
    std::size_t pos_ = 0;
};

// The whole format, for a source of `size` bytes named `path` in messages.
template <class Source>
safetensors_file parse(const std::string& path, std::uint64_t size, Source& src) {
    if (size < 8)
        fail(path, "file is " + std::to_string(size) +
                       " bytes, too short for the 8-byte header length (truncated or not a safetensors file)");
    unsigned char len_bytes[8];
    src.read_exact(len_bytes, 8, "header length");
    std::uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
    if (header_len > max_header_bytes)
        fail(path, "header length " + std::to_string(header_len) + " bytes exceeds the limit of " +
                       std::to_string(max_header_bytes) + " (corrupt or not a safetensors file)");
    if (header_len > size - 8)
        fail(path, "header length " + std::to_string(header_len) + " bytes is larger than the " +
                       std::to_string(size - 8) + " bytes left in the file (truncated?)");
    const std::uint64_t data_size = size - 8 - header_len;
    if (data_size > std::numeric_limits<std::size_t>::max())
        fail(path, "data block of " + std::to_string(data_size) + " bytes is too large for this platform");

    std::string header(static_cast<std::size_t>(header_len), '\0');
    src.read_exact(header.data(), header_len, "header");
    const nlohmann::json j = parse_header(path, header);
    if (!j.is_object()) fail(path, "header: expected a JSON object, found " + describe(j));

    safetensors_file out;
    out.path = path;
    std::vector<entry> entries;
    entries.reserve(j.size());
    for (const auto& [key, value] : j.items()) {
        if (key == "__metadata__") {
            parse_metadata(path, value, out.metadata);
            continue;
        }
        auto [it, inserted] = out.tensors.emplace(key, stored_tensor{});
        entry e{};
        parse_entry(path, it->first, value, data_size, it->second, e);
        entries.push_back(e);
    }
    check_coverage(path, entries, data_size);

    // Coverage guarantees the entries are contiguous in offset order, so the data reads sequentially
    // straight into each tensor.
    for (const auto& e : entries) {
        auto& bytes = e.tensor->bytes;
        bytes.resize(static_cast<std::size_t>(e.end - e.begin));
        if (!bytes.empty()) src.read_exact(bytes.data(), bytes.size(), "tensor " + quote(*e.name));
    }
    return out;
}

}  // namespace safetensors_detail

inline safetensors_file read_safetensors(const std::string& path) {
    namespace sd = safetensors_detail;
    namespace fs = std::filesystem;

    std::error_code ec;
    const auto st = fs::status(path, ec);
    if (st.type() == fs::file_type::not_found) sd::fail(path, "cannot open: file not found");
    if (ec) sd::fail(path, "cannot open: " + ec.message());
    if (fs::is_directory(st)) sd::fail(path, "cannot open: expected a file, found a directory");
    if (!fs::is_regular_file(st)) sd::fail(path, "cannot open: not a regular file");
    const std::uint64_t size = fs::file_size(path, ec);
    if (ec) sd::fail(path, "cannot read file size: " + ec.message());

    std::ifstream in(path, std::ios::binary);
    if (!in) sd::fail(path, "cannot open for reading (permissions?)");
    sd::file_source src(path, in);
    return sd::parse(path, size, src);
}

inline safetensors_file parse_safetensors(std::span<const std::byte> bytes, const std::string& name) {
    safetensors_detail::memory_source src(bytes);
    return safetensors_detail::parse(name, bytes.size(), src);
}

inline void write_safetensors(const std::string& path, const safetensors_file& f) {
    namespace sd = safetensors_detail;
    namespace fs = std::filesystem;

    // Build the header by hand rather than through nlohmann::ordered_json, whose per-key linear lookup
    // would make writing many tensors quadratic; nlohmann still escapes every string.
    std::string header = "{";
    std::uint64_t offset = 0;
    try {
        if (!f.metadata.empty()) header += "\"__metadata__\":" + nlohmann::json(f.metadata).dump();
        for (const auto& [name, t] : f.tensors) {
            if (name == "__metadata__")
                sd::fail(path, "tensor name '__metadata__' is reserved for the metadata block");
            std::uint64_t numel = 0, nbytes = 0;
            if (auto p = sd::count_elements(t.shape, dtype_size(t.type), numel, nbytes); p != sd::shape_problem::none)
                sd::fail_tensor(path, name, sd::shape_problem_text(p, t.shape, t.type));
            if (t.bytes.size() != nbytes)
                sd::fail_tensor(path, name,
                                "dtype " + std::string(dtype_name(t.type)) + " with shape " +
                                    sd::format_shape(t.shape) + " needs " + std::to_string(nbytes) +
                                    " bytes, found " + std::to_string(t.bytes.size()));
            if (header.size() > 1) header += ',';
            header += nlohmann::json(name).dump();
            header += ":{\"dtype\":\"";
            header += dtype_name(t.type);
            header += "\",\"shape\":[";
            for (std::size_t i = 0; i < t.shape.size(); ++i) {
                if (i) header += ',';
                header += std::to_string(t.shape[i]);
            }
            header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + nbytes) + "]}";
            offset += nbytes;
        }
    } catch (const nlohmann::json::exception& e) {
        // dump() rejects strings that are not valid UTF-8, which the format requires.
        sd::fail(path, std::string("tensor name or metadata is not valid UTF-8: ") + e.what());
    }
    header += '}';
    header.append((8 - header.size() % 8) % 8, ' ');  // as the reference writer, so the data block is 8-aligned
    if (header.size() > sd::max_header_bytes)
        sd::fail(path, "header would be " + std::to_string(header.size()) + " bytes, over the " +
                           std::to_string(sd::max_header_bytes) + "-byte limit readers accept");

    const std::string tmp = path + ".tmp-" + sd::unique_suffix();
    struct remove_on_failure {
        const std::string& p;
        bool armed = true;
        ~remove_on_failure() {
            if (armed) {
                std::error_code ec;
                fs::remove(p, ec);
            }
        }
    } guard{tmp};

    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) sd::fail(path, "cannot create temporary file " + tmp + " (does the directory exist and is it writable?)");
    unsigned char len_bytes[8];
    std::uint64_t n = header.size();
    for (auto& b : len_bytes) {
        b = static_cast<unsigned char>(n & 0xFF);
        n >>= 8;
    }
    out.write(reinterpret_cast<const char*>(len_bytes), 8);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const auto& [name, t] : f.tensors)
        if (!t.bytes.empty())
            out.write(reinterpret_cast<const char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
    out.close();
    if (out.fail()) sd::fail(path, "write to temporary file " + tmp + " failed (disk full?)");

    std::error_code ec;
    fs::rename(tmp, path, ec);  // replaces an existing file atomically on POSIX
    if (ec) sd::fail(path, "cannot move temporary file " + tmp + " into place: " + ec.message());
    guard.armed = false;
}

template <class T>
stored_tensor make_tensor(std::span<const T> data, std::vector<std::int64_t> shape) {
    namespace sd = safetensors_detail;
    constexpr dtype type = sd::dtype_of<T>();
    std::uint64_t numel = 0, nbytes = 0;
    if (auto p = sd::count_elements(shape, sizeof(T), numel, nbytes); p != sd::shape_problem::none)
        throw error("make_tensor: " + sd::shape_problem_text(p, shape, type));
    if (numel != data.size())
        throw error("make_tensor: shape " + sd::format_shape(shape) + " holds " + std::to_string(numel) +
                    " elements, but data has " + std::to_string(data.size()));
    stored_tensor t;
    t.type = type;
    t.shape = std::move(shape);
    t.bytes.resize(data.size_bytes());
    if (!data.empty()) std::memcpy(t.bytes.data(), data.data(), data.size_bytes());
    return t;
}

}  // namespace convis
