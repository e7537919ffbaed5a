// Tests for convis/io/safetensors.hpp: round trips, byte compatibility with the reference format, and —
// the point of the reader — a clean convis::error for every malformed or truncated file.
#include "convis/io/safetensors.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// A fresh directory per test case, removed afterwards; unique so parallel runs never collide.
struct temp_dir {
    fs::path path;
    temp_dir() {
        std::random_device rd;
        const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
        path = fs::temp_directory_path() /
               ("convis_test_safetensors_" + std::to_string(stamp) + "_" + std::to_string(rd()));
        fs::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
    std::size_t entries() const { return static_cast<std::size_t>(std::distance(fs::directory_iterator(path), {})); }
};

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string le64(std::uint64_t v) {
    std::string s(8, '\0');
    for (auto& c : s) {
        c = static_cast<char>(v & 0xFF);
        v >>= 8;
    }
    return s;
}

// A file exactly as laid out on disk: length, header (space-padded to 8 like the reference writer), data.
std::string file_bytes(std::string header, const std::string& data, bool pad = true) {
    if (pad) header.append((8 - header.size() % 8) % 8, ' ');
    return le64(header.size()) + header + data;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const convis::error& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("<not a convis::error: ") + e.what() + ">";
    } catch (...) {
        return "<unknown exception>";
    }
    return "<no exception>";
}

// The file is named after the case so the check that the message names the file is a real one.
void check_rejected(const temp_dir& dir, const std::string& case_name, const std::string& contents,
                    const std::vector<std::string>& words) {
    const std::string path = dir.file(case_name + ".safetensors");
    write_bytes(path, contents);
    const std::string msg = error_of([&] { (void)convis::read_safetensors(path); });
    INFO("case: " << case_name);
    INFO("message: " << msg);
    CHECK(msg.find(path) != std::string::npos);
    // The same bytes from memory go through the same checks: the same message, word for word.
    CHECK(error_of([&] { (void)convis::parse_safetensors(std::as_bytes(std::span(contents)), path); }) == msg);
    for (const auto& w : words) {
        INFO("expected word: " << w);
        CHECK(msg.find(w) != std::string::npos);
    }
}

convis::safetensors_file sample_file() {
    convis::safetensors_file f;
    const std::vector<float> w{1.5f, -2.0f, 3.25f, 0.0f, 1e-8f, 7.0f};
    const std::vector<double> b{0.1, -0.2, 1e300};
    const std::vector<std::int64_t> idx{-1, 0, 9'000'000'000'000LL};
    f.tensors["weight"] = convis::make_tensor<float>(w, {2, 3});
    f.tensors["bias"] = convis::make_tensor<double>(b, {3});
    f.tensors["index"] = convis::make_tensor<std::int64_t>(idx, {3});
    f.metadata["format"] = "convis";
    f.metadata["note"] = "unicode \xC3\xA9 ok";
    return f;
}

}  // namespace

TEST_CASE("safetensors: dtype names and sizes") {
    using convis::dtype;
    CHECK(convis::dtype_name(dtype::f32) == "F32");
    CHECK(convis::dtype_name(dtype::bf16) == "BF16");
    CHECK(convis::dtype_name(dtype::boolean) == "BOOL");
    CHECK(convis::dtype_size(dtype::f64) == 8);
    CHECK(convis::dtype_size(dtype::f16) == 2);
    CHECK(convis::dtype_size(dtype::u8) == 1);
    CHECK(convis::dtype_size(dtype::i64) == 8);
}

TEST_CASE("safetensors: round trip F32, F64, I64 with metadata") {
    temp_dir dir;
    const std::string path = dir.file("model.safetensors");
    const auto f = sample_file();
    convis::write_safetensors(path, f);
    CHECK(dir.entries() == 1);  // the temporary was renamed, not left behind

    const auto g = convis::read_safetensors(path);
    CHECK(g.path == path);
    CHECK(g.metadata == f.metadata);
    REQUIRE(g.tensors.size() == 3);
    CHECK(g.contains("weight"));
    CHECK_FALSE(g.contains("nope"));

    const auto& w = g.at("weight");
    CHECK(w.type == convis::dtype::f32);
    CHECK(w.shape == std::vector<std::int64_t>{2, 3});
    CHECK(w.numel() == 6);
    CHECK(w.to_vector<float>(path, "weight") == std::vector<float>{1.5f, -2.0f, 3.25f, 0.0f, 1e-8f, 7.0f});

    const auto& b = g.at("bias");
    CHECK(b.type == convis::dtype::f64);
    CHECK(b.to_vector<double>(path, "bias") == std::vector<double>{0.1, -0.2, 1e300});

    const auto& i = g.at("index");
    CHECK(i.type == convis::dtype::i64);
    CHECK(i.bytes == f.tensors.at("index").bytes);

    // Header is space-padded to a multiple of 8 and tensors are laid out in name order.
    const std::string raw = read_bytes(path);
    std::uint64_t n = 0;
    for (int k = 7; k >= 0; --k) n = (n << 8) | static_cast<unsigned char>(raw[static_cast<std::size_t>(k)]);
    CHECK(n % 8 == 0);
    const std::string header = raw.substr(8, n);
    CHECK(header.find("\"bias\"") < header.find("\"index\""));
    CHECK(header.find("\"index\"") < header.find("\"weight\""));
    CHECK(header.find("\"__metadata__\"") != std::string::npos);

    // Overwriting an existing file replaces it.
    convis::safetensors_file small;
    const std::vector<float> one{42.0f};
    small.tensors["x"] = convis::make_tensor<float>(one, {});
    convis::write_safetensors(path, small);
    const auto h = convis::read_safetensors(path);
    CHECK(h.tensors.size() == 1);
    CHECK(h.metadata.empty());
    CHECK(h.at("x").shape.empty());
    CHECK(h.at("x").to_vector<float>(path, "x") == std::vector<float>{42.0f});
    CHECK(read_bytes(path).find("__metadata__") == std::string::npos);  // only written when non-empty
    CHECK(dir.entries() == 1);
}

TEST_CASE("safetensors: other dtypes, empty tensors, empty file") {
    temp_dir dir;
    const std::string path = dir.file("misc.safetensors");
    convis::safetensors_file f;
    const std::vector<std::int32_t> i32{1, -2, 3, -4};
    const std::vector<std::uint8_t> u8{0, 255, 7};
    const std::vector<std::int16_t> i16{-300, 300};
    const std::vector<std::int8_t> i8{-128, 127};
    const std::vector<float> none;
    f.tensors["a_i32"] = convis::make_tensor<std::int32_t>(i32, {2, 2});
    f.tensors["b_u8"] = convis::make_tensor<std::uint8_t>(u8, {3});
    f.tensors["c_i16"] = convis::make_tensor<std::int16_t>(i16, {2});
    f.tensors["d_i8"] = convis::make_tensor<std::int8_t>(i8, {1, 2});
    f.tensors["e_empty"] = convis::make_tensor<float>(none, {0, 5});
    convis::stored_tensor half;  // a dtype convis does not compute in still round-trips as bytes
    half.type = convis::dtype::bf16;
    half.shape = {2};
    half.bytes = {std::byte{0x80}, std::byte{0x3f}, std::byte{0x00}, std::byte{0x40}};
    f.tensors["f_bf16"] = half;
    convis::write_safetensors(path, f);

    const auto g = convis::read_safetensors(path);
    REQUIRE(g.tensors.size() == f.tensors.size());
    for (const auto& kv : f.tensors) {  // not a structured binding: clang 14 cannot capture one in CAPTURE
        const std::string& name = kv.first;
        const convis::stored_tensor& t = kv.second;
        CAPTURE(name);
        CHECK(g.at(name).type == t.type);
        CHECK(g.at(name).shape == t.shape);
        CHECK(g.at(name).bytes == t.bytes);
    }
    CHECK(g.at("e_empty").numel() == 0);
    CHECK(g.at("e_empty").to_vector<float>(path, "e_empty").empty());

    convis::write_safetensors(path, convis::safetensors_file{});
    const auto e = convis::read_safetensors(path);
    CHECK(e.tensors.empty());
    CHECK(e.metadata.empty());
    CHECK(read_bytes(path) == le64(8) + "{}      ");
}

TEST_CASE("safetensors: reads a file laid out byte by byte like Python's safetensors") {
    temp_dir dir;
    // safetensors.numpy.save_file({"a": np.array([1, 2], np.float32)}, ...)
    const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    REQUIRE(header.size() == 54);
    std::string expected = le64(56) + header + "  ";
    expected += std::string("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);  // 1.0f, 2.0f little-endian
    const std::string path = dir.file("python.safetensors");
    write_bytes(path, expected);

    const auto f = convis::read_safetensors(path);
    REQUIRE(f.tensors.size() == 1);
    CHECK(f.at("a").type == convis::dtype::f32);
    CHECK(f.at("a").shape == std::vector<std::int64_t>{2});
    CHECK(f.at("a").to_vector<float>(path, "a") == std::vector<float>{1.0f, 2.0f});

    // Our writer produces the same bytes.
    const std::string ours = dir.file("ours.safetensors");
    convis::write_safetensors(ours, f);
    CHECK(read_bytes(ours) == expected);

    // Metadata first, a second tensor after the first, padding, and key order within entries that
    // differs from ours: all must be accepted.
    const std::string header2 = R"({"__metadata__":{"format":"pt"},)"
                                R"("a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},)"
                                R"("b":{"shape":[2,1],"data_offsets":[8,10],"dtype":"U8"}})";
    std::string data2(8, '\0');
    const double half = 0.5;
    std::memcpy(data2.data(), &half, 8);
    data2 += "\x05\x06";
    const std::string path2 = dir.file("python2.safetensors");
    write_bytes(path2, file_bytes(header2, data2));
    const auto g = convis::read_safetensors(path2);
    CHECK(g.metadata.at("format") == "pt");
    CHECK(g.at("a").to_vector<double>(path2, "a") == std::vector<double>{0.5});
    CHECK(g.at("b").type == convis::dtype::u8);
    CHECK(g.at("b").shape == std::vector<std::int64_t>{2, 1});
    CHECK(g.at("b").bytes == std::vector<std::byte>{std::byte{5}, std::byte{6}});
}

TEST_CASE("safetensors: access errors name file and tensor") {
    temp_dir dir;
    const std::string path = dir.file("access.safetensors");
    convis::write_safetensors(path, sample_file());
    const auto f = convis::read_safetensors(path);

    CHECK_THROWS_WITH_AS(f.at("missing_tensor"), doctest::Contains("no tensor 'missing_tensor'"), convis::error);
    CHECK(error_of([&] { (void)f.at("missing_tensor"); }).find(path) != std::string::npos);

    // Wrong type is an error, never a silent conversion.
    const std::string m1 = error_of([&] { (void)f.at("bias").to_vector<float>(path, "bias"); });
    CHECK(m1.find(path) != std::string::npos);
    CHECK(m1.find("'bias'") != std::string::npos);
    CHECK(m1.find("F32") != std::string::npos);
    CHECK(m1.find("F64") != std::string::npos);
    const std::string m2 = error_of([&] { (void)f.at("index").to_vector<double>(path, "index"); });
    CHECK(m2.find("I64") != std::string::npos);
    CHECK(m2.find(path) != std::string::npos);
}

TEST_CASE("safetensors: missing file or a directory is rejected") {
    temp_dir dir;
    SUBCASE("missing file") {
        const std::string path = dir.file("does_not_exist.safetensors");
        CHECK_THROWS_WITH_AS(convis::read_safetensors(path), doctest::Contains(path.c_str()), convis::error);
        CHECK_THROWS_WITH_AS(convis::read_safetensors(path), doctest::Contains("not found"), convis::error);
    }
    SUBCASE("directory instead of a file") {
        const std::string path = dir.file("a_directory");
        fs::create_directory(path);
        CHECK_THROWS_WITH_AS(convis::read_safetensors(path), doctest::Contains("directory"), convis::error);
    }
}

TEST_CASE("safetensors: malformed files are rejected with a message naming file, tensor and problem") {
    temp_dir dir;
    const auto ok_a = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
    const std::string eight(8, '\x01');
    auto entry = [](const std::string& body) { return "{\"a\":" + body + "}"; };

    check_rejected(dir, "empty", "", {"0 bytes", "too short"});
    check_rejected(dir, "seven_bytes", std::string(7, '\0'), {"7 bytes", "too short"});
    check_rejected(dir, "header_past_end", le64(100) + "{}", {"header length 100", "larger than"});
    check_rejected(dir, "header_absurd", le64(1ULL << 40) + "{}", {"exceeds the limit"});
    check_rejected(dir, "header_huge_u64", le64(~0ULL) + "{}", {"exceeds the limit"});
    check_rejected(dir, "header_zero_length", le64(0), {"not valid JSON"});
    check_rejected(dir, "not_json", file_bytes("{not json}", ""), {"not valid JSON"});
    check_rejected(dir, "json_truncated", file_bytes(R"({"a":{"dtype":"F32")", ""), {"not valid JSON"});
    check_rejected(dir, "bad_utf8", file_bytes("{\"\xff\xfe\":1}", ""), {"not valid JSON", "\\xff"});
    check_rejected(dir, "not_object_array", file_bytes("[1,2]", ""), {"expected a JSON object", "array"});
    check_rejected(dir, "not_object_string", file_bytes(R"("hello")", ""), {"expected a JSON object", "string"});
    check_rejected(dir, "deep_nesting", file_bytes(entry(std::string(100000, '[') + std::string(100000, ']')), ""),
                   {"nested"});
    check_rejected(dir, "duplicate_key",
                   file_bytes(std::string("{") + ok_a + "," + ok_a + "}", eight), {"duplicate", "'a'"});

    check_rejected(dir, "entry_not_object", file_bytes(entry("5"), ""), {"tensor 'a'", "expected an object", "5"});
    check_rejected(dir, "missing_dtype", file_bytes(entry(R"({"shape":[2],"data_offsets":[0,8]})"), eight),
                   {"tensor 'a'", "missing 'dtype'"});
    check_rejected(dir, "missing_shape", file_bytes(entry(R"({"dtype":"F32","data_offsets":[0,8]})"), eight),
                   {"tensor 'a'", "missing 'shape'"});
    check_rejected(dir, "missing_offsets", file_bytes(entry(R"({"dtype":"F32","shape":[2]})"), eight),
                   {"tensor 'a'", "missing 'data_offsets'"});
    check_rejected(dir, "dtype_not_string",
                   file_bytes(entry(R"({"dtype":4,"shape":[2],"data_offsets":[0,8]})"), eight),
                   {"tensor 'a'", "dtype", "expected a string", "4"});
    check_rejected(dir, "unknown_dtype",
                   file_bytes(entry(R"({"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]})"), eight),
                   {"tensor 'a'", "unknown dtype 'F8_E4M3'", "F32"});
    check_rejected(dir, "shape_not_array",
                   file_bytes(entry(R"({"dtype":"F32","shape":2,"data_offsets":[0,8]})"), eight),
                   {"tensor 'a'", "shape", "expected an array"});
    check_rejected(dir, "shape_negative",
                   file_bytes(entry(R"({"dtype":"F32","shape":[-2],"data_offsets":[0,8]})"), eight),
                   {"tensor 'a'", "shape[0]", "negative dimension -2"});
    check_rejected(dir, "shape_fraction",
                   file_bytes(entry(R"({"dtype":"F32","shape":[2.5],"data_offsets":[0,8]})"), eight),
                   {"tensor 'a'", "shape[0]", "non-integer", "2.5"});
    check_rejected(dir, "shape_string",
                   file_bytes(entry(R"({"dtype":"F32","shape":[1,"2"],"data_offsets":[0,8]})"), eight),
                   {"tensor 'a'", "shape[1]", "non-negative integer", "string"});
    check_rejected(dir, "shape_overflow",
                   file_bytes(entry(R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]})"),
                              eight),
                   {"tensor 'a'", "overflow"});
    check_rejected(dir, "shape_bytes_overflow",
                   file_bytes(entry(R"({"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]})"),
                              eight),
                   {"tensor 'a'", "overflow"});
    check_rejected(dir, "shape_dim_past_int64",
                   file_bytes(entry(R"({"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,8]})"),
                              eight),
                   {"tensor 'a'", "overflows int64"});
    check_rejected(dir, "offsets_not_array",
                   file_bytes(entry(R"({"dtype":"F32","shape":[2],"data_offsets":8})"), eight),
                   {"tensor 'a'", "data_offsets", "two integers"});
    check_rejected(dir, "offsets_three",
                   file_bytes(entry(R"({"dtype":"F32","shape":[2],"data_offsets":[0,4,8]})"), eight),
                   {"tensor 'a'", "data_offsets", "two integers", "3 elements"});
    check_rejected(dir, "offsets_negative",
                   file_bytes(entry(R"({"dtype":"F32","shape":[2],"data_offsets":[-1,8]})"), eight),
                   {"tensor 'a'", "data_offsets begin", "non-negative integer", "-1"});
    check_rejected(dir, "offsets_float",
                   file_bytes(entry(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8.0]})"), eight),
                   {"tensor 'a'", "data_offsets end", "non-integer"});
    check_rejected(dir, "offsets_reversed",
                   file_bytes(entry(R"({"dtype":"F32","shape":[2],"data_offsets":[8,0]})"), eight),
                   {"tensor 'a'", "[8, 0]", "begin is after end"});
    check_rejected(dir, "offsets_past_data",
                   file_bytes(entry(R"({"dtype":"F32","shape":[4],"data_offsets":[0,16]})"), eight),
                   {"tensor 'a'", "[0, 16]", "beyond the data block of 8 bytes"});
    check_rejected(dir, "offsets_huge",
                   file_bytes(entry(R"({"dtype":"U8","shape":[2],)"
                                    R"("data_offsets":[18446744073709551614,18446744073709551615]})"),
                              eight),
                   {"tensor 'a'", "beyond the data block"});
    check_rejected(dir, "length_mismatch",
                   file_bytes(entry(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})"), eight),
                   {"tensor 'a'", "hold 8 bytes", "needs 12 bytes", "F32", "[3]"});
    check_rejected(dir, "overlap",
                   file_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                              std::string(12, '\0')),
                   {"tensor 'b'", "overlap", "tensor 'a'"});
    check_rejected(dir, "same_range",
                   file_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                              eight),
                   {"overlap"});
    check_rejected(dir, "hole",
                   file_bytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                              R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                              std::string(12, '\0')),
                   {"hole", "[4, 8)", "tensor 'b'"});
    check_rejected(dir, "trailing_bytes", file_bytes(entry(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})"),
                                                     std::string(12, '\0')),
                   {"hole", "[8, 12)", "after the last tensor"});
    check_rejected(dir, "no_tensors_but_data", file_bytes("{}", eight), {"[0, 8)", "lists none"});
    check_rejected(dir, "metadata_not_object", file_bytes(R"({"__metadata__":[1]})", ""),
                   {"__metadata__", "expected an object", "array"});
    check_rejected(dir, "metadata_value_not_string", file_bytes(R"({"__metadata__":{"epoch":3}})", ""),
                   {"__metadata__", "'epoch'", "expected a string", "3"});
    check_rejected(dir, "metadata_nested", file_bytes(R"({"__metadata__":{"cfg":{"x":"y"}}})", ""),
                   {"__metadata__", "'cfg'", "object"});
}

TEST_CASE("safetensors: a truncated file throws convis::error at every length") {
    temp_dir dir;
    const std::string full_path = dir.file("full.safetensors");
    convis::write_safetensors(full_path, sample_file());
    const std::string full = read_bytes(full_path);
    REQUIRE(full.size() > 100);

    const std::string path = dir.file("truncated.safetensors");
    for (std::size_t len = 0; len < full.size(); ++len) {
        write_bytes(path, full.substr(0, len));
        const std::string msg = error_of([&] { (void)convis::read_safetensors(path); });
        CAPTURE(len);
        CAPTURE(msg);
        REQUIRE(msg.find(path) != std::string::npos);  // also rules out "<no exception>" and foreign exceptions
    }
    write_bytes(path, full);
    CHECK_NOTHROW((void)convis::read_safetensors(path));
}

TEST_CASE("safetensors: corrupting any header byte gives success or convis::error, nothing else") {
    temp_dir dir;
    const std::string full_path = dir.file("full.safetensors");
    convis::write_safetensors(full_path, sample_file());
    const std::string full = read_bytes(full_path);
    std::uint64_t n = 0;
    for (int k = 7; k >= 0; --k) n = (n << 8) | static_cast<unsigned char>(full[static_cast<std::size_t>(k)]);

    const std::string path = dir.file("corrupt.safetensors");
    const char replacements[] = {'\0', '\xff', '{', '}', '[', '"', '-', '9', ' ', ','};
    for (std::size_t pos = 0; pos < 8 + n; ++pos) {
        for (char r : replacements) {
            std::string bad = full;
            bad[pos] = r;
            write_bytes(path, bad);
            const std::string msg = error_of([&] { (void)convis::read_safetensors(path); });
            CAPTURE(pos);
            CAPTURE(msg);
            REQUIRE((msg == "<no exception>" || msg.find(path) != std::string::npos));
        }
    }
}

TEST_CASE("safetensors: writer failures throw and leave nothing behind") {
    temp_dir dir;

    SUBCASE("directory does not exist") {
        const fs::path missing = dir.path / "no_such_dir";
        const std::string path = (missing / "model.safetensors").string();
        CHECK_THROWS_WITH_AS(convis::write_safetensors(path, sample_file()), doctest::Contains(path.c_str()),
                             convis::error);
        CHECK_THROWS_WITH_AS(convis::write_safetensors(path, sample_file()), doctest::Contains("cannot create"),
                             convis::error);
        CHECK_FALSE(fs::exists(missing));
        CHECK(dir.entries() == 0);
    }
    SUBCASE("target is a directory: rename fails, temporary is removed") {
        const std::string path = dir.file("occupied");
        fs::create_directory(path);
        CHECK_THROWS_WITH_AS(convis::write_safetensors(path, sample_file()), doctest::Contains(path.c_str()),
                             convis::error);
        CHECK(dir.entries() == 1);
        CHECK(fs::is_empty(path));
    }
    SUBCASE("inconsistent tensors are rejected before anything is written") {
        const std::string path = dir.file("bad.safetensors");
        convis::safetensors_file f;
        convis::stored_tensor t;
        t.type = convis::dtype::f32;
        t.shape = {3};
        t.bytes.resize(8);
        f.tensors["short"] = t;
        CHECK_THROWS_WITH_AS(convis::write_safetensors(path, f), doctest::Contains("'short'"), convis::error);
        CHECK_THROWS_WITH_AS(convis::write_safetensors(path, f), doctest::Contains("needs 12 bytes"), convis::error);

        convis::safetensors_file g;
        t.shape = {-2};
        g.tensors["neg"] = t;
        CHECK_THROWS_WITH_AS(convis::write_safetensors(path, g), doctest::Contains("negative"), convis::error);

        convis::safetensors_file h;
        h.tensors["__metadata__"] = convis::make_tensor<float>(std::vector<float>{1.0f}, {1});
        CHECK_THROWS_WITH_AS(convis::write_safetensors(path, h), doctest::Contains("reserved"), convis::error);

        convis::safetensors_file u;
        u.tensors["bad\xff"] = convis::make_tensor<float>(std::vector<float>{1.0f}, {1});
        CHECK_THROWS_WITH_AS(convis::write_safetensors(path, u), doctest::Contains("UTF-8"), convis::error);

        CHECK(dir.entries() == 0);
    }
}

TEST_CASE("safetensors: make_tensor checks the shape") {
    const std::vector<float> v{1, 2, 3, 4, 5, 6};
    const auto t = convis::make_tensor<float>(v, {2, 3});
    CHECK(t.type == convis::dtype::f32);
    CHECK(t.bytes.size() == 24);
    CHECK_THROWS_WITH_AS(convis::make_tensor<float>(v, {4, 2}), doctest::Contains("8 elements, but data has 6"),
                         convis::error);
    CHECK_THROWS_WITH_AS(convis::make_tensor<float>(v, {-2, -3}), doctest::Contains("negative"), convis::error);
    CHECK_THROWS_AS(convis::make_tensor<float>(v, {}), convis::error);
    const std::vector<double> d{2.0};
    CHECK(convis::make_tensor<double>(d, {}).type == convis::dtype::f64);
    CHECK(convis::make_tensor<double>(d, {1, 1, 1}).numel() == 1);
}

TEST_CASE("safetensors: parse_safetensors reads from memory what read_safetensors reads from the file") {
    temp_dir dir;
    const std::string path = dir.file("sample.safetensors");
    convis::write_safetensors(path, sample_file());
    const std::string bytes = read_bytes(path);
    const auto from_file = convis::read_safetensors(path);
    const auto from_memory = convis::parse_safetensors(std::as_bytes(std::span(bytes)), "embedded weights");
    CHECK(from_memory.path == "embedded weights");
    CHECK(from_memory.metadata == from_file.metadata);
    REQUIRE(from_memory.tensors.size() == from_file.tensors.size());
    for (const auto& [name, t] : from_file.tensors) {
        CAPTURE(name);
        const auto& m = from_memory.at(name);
        CHECK(m.type == t.type);
        CHECK(m.shape == t.shape);
        CHECK(m.bytes == t.bytes);
    }
    // Truncated in memory: an error naming the given name, never a read past the span (ASan would see it).
    for (std::size_t len = 0; len < bytes.size(); len += 7) {
        CAPTURE(len);
        const std::string msg = error_of(
            [&] { (void)convis::parse_safetensors(std::as_bytes(std::span(bytes.data(), len)), "embedded weights"); });
        CHECK(msg.rfind("embedded weights: ", 0) == 0);
    }
}
