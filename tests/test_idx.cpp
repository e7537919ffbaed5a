// Tests for convis/data/idx.hpp and convis/data/fashion_mnist.hpp: round trips raw and gzipped, and — the
// point of the reader — a clean convis::error for every malformed, truncated or oversized file, gzip bombs
// included. The real Fashion-MNIST is checked too when Debian's package is installed.
#include "convis/data/fashion_mnist.hpp"
#include "convis/io/idx.hpp"

#include <doctest/doctest.h>

#include <zlib.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
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
        path = fs::temp_directory_path() / ("convis_test_idx_" + std::to_string(stamp) + "_" + std::to_string(rd()));
        fs::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// An IDX header: 00 00 type ndims, then the dims big-endian.
std::string idx_header(const std::vector<std::uint32_t>& dims, unsigned char type = 0x08) {
    std::string s{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
    for (auto d : dims) s += be32(d);
    return s;
}

std::string idx_bytes(const std::vector<std::uint32_t>& dims, const std::vector<std::uint8_t>& data) {
    return idx_header(dims) + std::string(data.begin(), data.end());
}

// gzip of `pieces` fed one after another (so a long stream never needs to be in memory at once).
std::string gzip_pieces(const std::function<bool(std::string&)>& next_piece) {
    z_stream zs{};
    REQUIRE(deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out, piece;
    std::vector<unsigned char> buf(1 << 16);
    bool more = true;
    while (more) {
        piece.clear();
        more = next_piece(piece);
        zs.next_in = reinterpret_cast<Bytef*>(piece.data());
        zs.avail_in = static_cast<uInt>(piece.size());
        const int flush = more ? Z_NO_FLUSH : Z_FINISH;
        int rc;
        do {
            zs.next_out = buf.data();
            zs.avail_out = static_cast<uInt>(buf.size());
            rc = deflate(&zs, flush);
            REQUIRE(rc != Z_STREAM_ERROR);
            out.append(reinterpret_cast<char*>(buf.data()), buf.size() - zs.avail_out);
        } while (zs.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    }
    deflateEnd(&zs);
    return out;
}

std::string gzip(const std::string& bytes) {
    return gzip_pieces([&](std::string& p) {
        p = bytes;
        return false;
    });
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

// Writes `contents` to a file named after the case (so the check that the message names the file is a
// real one), reads it, and checks the message holds the path and every one of `words`.
std::string check_rejected(const temp_dir& dir, const std::string& case_name, const std::string& contents,
                           const std::vector<std::string>& words) {
    const std::string path = dir.file(case_name + ".idx");
    write_bytes(path, contents);
    const std::string msg = error_of([&] { (void)convis::read_idx(path); });
    INFO("case: " << case_name);
    INFO("message: " << msg);
    CHECK(msg.rfind(path + ": ", 0) == 0);
    // The same bytes from memory go through the same checks: the same message, word for word.
    CHECK(error_of([&] { (void)convis::parse_idx(contents, path); }) == msg);
    for (const auto& w : words) {
        INFO("expected word: " << w);
        CHECK(msg.find(w) != std::string::npos);
    }
    return msg;
}

std::vector<std::uint8_t> iota_bytes(std::size_t n, std::uint8_t start = 0) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>(start + i * 7);
    return v;
}

}  // namespace

TEST_CASE("idx: round trip raw and gzip, 1 to 4 dimensions") {
    temp_dir dir;
    const std::vector<std::vector<std::uint32_t>> shapes{{5}, {2, 3}, {2, 3, 4}, {2, 3, 2, 3}};
    for (const auto& shape : shapes) {
        std::size_t n = 1;
        for (auto d : shape) n *= d;
        const auto data = iota_bytes(n, 3);
        const std::string bytes = idx_bytes(shape, data);
        const std::vector<std::int64_t> want_dims(shape.begin(), shape.end());
        for (const bool gz : {false, true}) {
            // The extension is deliberately wrong: gzip is recognised by its magic bytes.
            const std::string path = dir.file(std::string("a") + std::to_string(shape.size()) + (gz ? ".raw" : ".gz"));
            write_bytes(path, gz ? gzip(bytes) : bytes);
            const auto a = convis::read_idx(path);
            INFO(path);
            CHECK(a.dims == want_dims);
            CHECK(a.data == data);
            const auto m = convis::parse_idx(gz ? gzip(bytes) : bytes, "in memory");
            CHECK(m.dims == want_dims);
            CHECK(m.data == data);
        }
    }
}

TEST_CASE("idx: a gzip file of several members reads as their concatenation") {
    temp_dir dir;
    const auto data = iota_bytes(12);
    const std::string bytes = idx_bytes({3, 4}, data);
    const std::string path = dir.file("two_members.gz");
    write_bytes(path, gzip(bytes.substr(0, 7)) + gzip(bytes.substr(7)));
    const auto a = convis::read_idx(path);
    CHECK(a.dims == std::vector<std::int64_t>{3, 4});
    CHECK(a.data == data);
}

TEST_CASE("idx: images [N,H,W] and [N,H,W,C] with labels") {
    temp_dir dir;
    SUBCASE("one channel, gzipped") {
        const auto data = iota_bytes(2 * 3 * 4);
        write_bytes(dir.file("img.gz"), gzip(idx_bytes({2, 3, 4}, data)));
        write_bytes(dir.file("lab"), idx_bytes({2}, {7, 1}));
        const auto s = convis::read_idx_images(dir.file("img.gz"), dir.file("lab"));
        CHECK(s.count == 2);
        CHECK(s.channels == 1);
        CHECK(s.height == 3);
        CHECK(s.width == 4);
        CHECK(s.pixels == data);
        CHECK(s.labels == std::vector<std::int64_t>{7, 1});
        CHECK(convis::read_idx_images(dir.file("img.gz")).labels.empty());
    }
    SUBCASE("three channels interleaved become planar") {
        const int n = 2, h = 2, w = 3, c = 3;
        std::vector<std::uint8_t> hwc(n * h * w * c);
        // value encodes (n, c, y, x) so the planar position can be checked directly
        for (int i = 0; i < n; ++i)
            for (int y = 0; y < h; ++y)
                for (int x = 0; x < w; ++x)
                    for (int k = 0; k < c; ++k) hwc[((i * h + y) * w + x) * c + k] = std::uint8_t(i * 100 + k * 30 + y * w + x);
        write_bytes(dir.file("rgb"), idx_bytes({n, h, w, c}, hwc));
        const auto s = convis::read_idx_images(dir.file("rgb"));
        REQUIRE(s.channels == 3);
        CHECK(s.count == n);
        CHECK(s.height == h);
        CHECK(s.width == w);
        REQUIRE(s.pixels.size() == hwc.size());
        for (int i = 0; i < n; ++i)
            for (int k = 0; k < c; ++k)
                for (int y = 0; y < h; ++y)
                    for (int x = 0; x < w; ++x)
                        CHECK(s.pixels[((i * c + k) * h + y) * w + x] == std::uint8_t(i * 100 + k * 30 + y * w + x));
    }
    SUBCASE("one trailing channel") {
        const auto data = iota_bytes(2 * 2 * 2);
        write_bytes(dir.file("c1"), idx_bytes({2, 2, 2, 1}, data));
        const auto s = convis::read_idx_images(dir.file("c1"));
        CHECK(s.channels == 1);
        CHECK(s.pixels == data);
    }
    SUBCASE("wrong shapes") {
        write_bytes(dir.file("flat"), idx_bytes({4}, iota_bytes(4)));
        write_bytes(dir.file("c2"), idx_bytes({1, 2, 2, 2}, iota_bytes(8)));
        write_bytes(dir.file("img"), idx_bytes({3, 2, 2}, iota_bytes(12)));
        write_bytes(dir.file("lab2d"), idx_bytes({3, 1}, {0, 1, 2}));
        auto msg = error_of([&] { (void)convis::read_idx_images(dir.file("flat")); });
        CHECK(msg.find(dir.file("flat") + ": ") == 0);
        CHECK(msg.find("[4]") != std::string::npos);
        msg = error_of([&] { (void)convis::read_idx_images(dir.file("c2")); });
        CHECK(msg.find(dir.file("c2") + ": ") == 0);
        CHECK(msg.find("[1,2,2,2]") != std::string::npos);
        msg = error_of([&] { (void)convis::read_idx_images(dir.file("img"), dir.file("lab2d")); });
        CHECK(msg.find(dir.file("lab2d") + ": ") == 0);
        CHECK(msg.find("[3,1]") != std::string::npos);
    }
    SUBCASE("label count mismatch names both files and both counts") {
        write_bytes(dir.file("img3"), idx_bytes({3, 2, 2}, iota_bytes(12)));
        write_bytes(dir.file("lab4"), idx_bytes({4}, {0, 1, 2, 3}));
        const auto msg = error_of([&] { (void)convis::read_idx_images(dir.file("img3"), dir.file("lab4")); });
        INFO(msg);
        CHECK(msg.find(dir.file("lab4") + ": ") == 0);
        CHECK(msg.find(dir.file("img3")) != std::string::npos);
        CHECK(msg.find("4 labels") != std::string::npos);
        CHECK(msg.find("3 images") != std::string::npos);
    }
}

TEST_CASE("idx: missing file, directory, empty file") {
    temp_dir dir;
    auto msg = error_of([&] { (void)convis::read_idx(dir.file("nope")); });
    CHECK(msg.find(dir.file("nope") + ": ") == 0);
    CHECK(msg.find("not found") != std::string::npos);
    msg = error_of([&] { (void)convis::read_idx(dir.path.string()); });
    CHECK(msg.find("directory") != std::string::npos);
    check_rejected(dir, "empty", "", {"holds 0 bytes", "4-byte IDX header"});
}

TEST_CASE("idx: header errors") {
    temp_dir dir;
    check_rejected(dir, "magic", "\x01\x02\x08\x01" + be32(1) + "x", {"00 00", "found 01 02"});
    check_rejected(dir, "gzip_lookalike", "\x1f\x8c\x08\x01" + be32(1) + "x", {"found 1F 8C"});
    check_rejected(dir, "float", idx_header({2}, 0x0D) + std::string(8, '\0'),
                   {"type 0x0D (float) is not supported; expected 0x08 (unsigned byte)"});
    check_rejected(dir, "signed", idx_header({2}, 0x09) + "ab", {"0x09 (signed byte)"});
    check_rejected(dir, "unknown_type", idx_header({2}, 0x42) + "ab", {"0x42 (unknown)"});
    check_rejected(dir, "no_dims", std::string{'\0', '\0', '\x08', '\0'}, {"0 dimensions", "1 to 4"});
    check_rejected(dir, "five_dims", idx_header({1, 1, 1, 1, 1}) + "a", {"5 dimensions", "1 to 4"});
    check_rejected(dir, "zero_dim", idx_header({60000, 0, 28}) + "abc", {"dimension 1 of [60000,0,28] is 0"});
    check_rejected(dir, "overflow", idx_header({0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}),
                   {"4294967295×4294967295×4294967295", "overflow"});
    check_rejected(dir, "overflow_int64", idx_header({0xFFFFFFFFu, 0xFFFFFFFFu}), {"overflow"});  // < 2^64, > 2^63
    check_rejected(dir, "over_limit", idx_header({65536, 65537}), {"65536×65537 = 4295032832", "4294967296"});
    check_rejected(dir, "short_dims", idx_header({2, 3, 4}).substr(0, 9), {"holds 9 bytes", "16 bytes"});
}

TEST_CASE("idx: data length must match the header exactly") {
    temp_dir dir;
    const auto data = iota_bytes(24);
    const std::string good = idx_bytes({2, 3, 4}, data);
    for (const bool gz : {false, true}) {
        auto wrap = [&](const std::string& s) { return gz ? gzip(s) : s; };
        const std::string tag = gz ? "_gz" : "_raw";
        check_rejected(dir, "long" + tag, wrap(good + "x"), {"promises 2×3×4 = 24 bytes of data", gz ? "holds more" : "holds 25"});
        check_rejected(dir, "short" + tag, wrap(good.substr(0, good.size() - 1)), {"promises 2×3×4 = 24 bytes of data", "holds 23"});
        check_rejected(dir, "header_only" + tag, wrap(idx_header({60000, 28, 28})),
                       {"promises 60000×28×28 = 47040000 bytes of data", "holds 0"});
    }
}

TEST_CASE("idx: truncation at every byte is an error, raw and gzip") {
    temp_dir dir;
    const std::string raw = idx_bytes({3, 5, 4}, iota_bytes(60));
    const std::string gz = gzip(raw);
    for (const auto* whole : {&raw, &gz}) {
        const bool is_gz = whole == &gz;
        for (std::size_t n = 0; n < whole->size(); ++n) {
            const std::string path = dir.file(std::string(is_gz ? "gz_" : "raw_") + std::to_string(n));
            write_bytes(path, whole->substr(0, n));
            const std::string msg = error_of([&] { (void)convis::read_idx(path); });
            INFO("prefix of " << n << " bytes: " << msg);
            CHECK(msg.rfind(path + ": ", 0) == 0);
            // Once the header is complete, the message gives the promise and what was found.
            if (!is_gz && n >= 16) CHECK(msg.find("promises 3×5×4 = 60 bytes of data, the file holds " +
                                                  std::to_string(n - 16)) != std::string::npos);
        }
        // The whole file reads.
        const std::string path = dir.file(is_gz ? "gz_whole" : "raw_whole");
        write_bytes(path, *whole);
        CHECK(convis::read_idx(path).data == iota_bytes(60));
    }
}

TEST_CASE("idx: corrupt gzip bytes are an error with zlib's message") {
    temp_dir dir;
    const std::string gz = gzip(idx_bytes({3, 5, 4}, iota_bytes(60)));
    // Bytes 4..9 of a gzip header (time, flags, OS) are not checked by anything; everything after is.
    int with_zlib = 0;
    for (std::size_t i = 10; i < gz.size(); ++i) {
        std::string bad = gz;
        bad[i] = static_cast<char>(bad[i] ^ 0xFF);
        const std::string msg = check_rejected(dir, "flip" + std::to_string(i), bad, {});
        with_zlib += msg.find("zlib: ") != std::string::npos;
    }
    CHECK(with_zlib > 0);
    // The CRC is the second-to-last four bytes: a flip there is only caught by zlib's check.
    std::string bad = gz;
    bad[gz.size() - 6] = static_cast<char>(bad[gz.size() - 6] ^ 1);
    check_rejected(dir, "crc", bad, {"zlib: incorrect data check"});
    // Garbage after a complete stream.
    check_rejected(dir, "trailing_garbage", gz + "garbage", {"gzip member 2", "zlib: "});
}

TEST_CASE("idx: a gzip bomb is stopped after what the header promises") {
    temp_dir dir;
    const std::string path = dir.file("bomb.gz");
    // Header promises 10 bytes; the stream then inflates to 200 MB of zeros.
    const std::string head = idx_bytes({10}, iota_bytes(10));
    const std::string zeros(1 << 20, '\0');
    int pieces = 0;
    const std::string bomb = gzip_pieces([&](std::string& p) {
        p = pieces == 0 ? head : zeros;
        return ++pieces <= 200;
    });
    INFO("compressed bomb: " << bomb.size() << " bytes");
    CHECK(bomb.size() < 400'000);
    write_bytes(path, bomb);
    const auto t0 = std::chrono::steady_clock::now();
    const std::string msg = error_of([&] { (void)convis::read_idx(path); });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    INFO(msg);
    CHECK(msg.find(path + ": ") == 0);
    CHECK(msg.find("promises 10 = 10 bytes of data") != std::string::npos);
    CHECK(msg.find("holds more") != std::string::npos);
    CHECK(seconds < 0.5);
    // From memory, the same cap and the same message.
    CHECK(error_of([&] { (void)convis::parse_idx(bomb, path); }) == msg);
}

TEST_CASE("fashion-mnist: directory choice") {
    CHECK(std::string(convis::fashion_mnist_classes[0]) == "T-shirt/top");
    CHECK(std::string(convis::fashion_mnist_classes[9]) == "Ankle boot");
    CHECK(convis::fashion_mnist_dir("/some/where") == "/some/where");
    const char* old = std::getenv("CONVIS_FASHION_MNIST");
    const std::string saved = old ? old : "";
    ::setenv("CONVIS_FASHION_MNIST", "/from/env", 1);
    CHECK(convis::fashion_mnist_dir() == "/from/env");
    CHECK(convis::fashion_mnist_dir("/given") == "/given");
    ::unsetenv("CONVIS_FASHION_MNIST");
    CHECK(convis::fashion_mnist_dir() == "/usr/share/datasets/fashion-mnist");
    if (old) ::setenv("CONVIS_FASHION_MNIST", saved.c_str(), 1);
}

TEST_CASE("fashion-mnist: files from a directory, checked") {
    temp_dir dir;
    const auto images = [&](std::uint32_t n, std::uint32_t h = 28, std::uint32_t w = 28) {
        return idx_bytes({n, h, w}, iota_bytes(std::size_t(n) * h * w));
    };
    SUBCASE("gzipped and plain names both work") {
        write_bytes(dir.file("train-images-idx3-ubyte.gz"), gzip(images(3)));
        write_bytes(dir.file("train-labels-idx1-ubyte"), idx_bytes({3}, {9, 0, 4}));
        const auto s = convis::load_fashion_mnist("train", dir.path.string());
        CHECK(s.count == 3);
        CHECK(s.height == 28);
        CHECK(s.width == 28);
        CHECK(s.labels == std::vector<std::int64_t>{9, 0, 4});
    }
    SUBCASE("label out of range names the file, the index and the value") {
        write_bytes(dir.file("t10k-images-idx3-ubyte.gz"), gzip(images(4)));
        write_bytes(dir.file("t10k-labels-idx1-ubyte.gz"), gzip(idx_bytes({4}, {1, 2, 10, 3})));
        const auto msg = error_of([&] { (void)convis::load_fashion_mnist("test", dir.path.string()); });
        INFO(msg);
        CHECK(msg.find(dir.file("t10k-labels-idx1-ubyte.gz") + ": ") == 0);
        CHECK(msg.find("index 2 is 10") != std::string::npos);
        CHECK(msg.find("0..9") != std::string::npos);
    }
    SUBCASE("wrong image size") {
        write_bytes(dir.file("train-images-idx3-ubyte"), images(2, 32, 32));
        write_bytes(dir.file("train-labels-idx1-ubyte"), idx_bytes({2}, {0, 1}));
        const auto msg = error_of([&] { (void)convis::load_fashion_mnist("train", dir.path.string()); });
        INFO(msg);
        CHECK(msg.find(dir.file("train-images-idx3-ubyte") + ": ") == 0);
        CHECK(msg.find("1×32×32") != std::string::npos);
    }
    SUBCASE("missing files say how to get them") {
        auto msg = error_of([&] { (void)convis::load_fashion_mnist("train", dir.path.string()); });
        INFO(msg);
        CHECK(msg.find(dir.file("train-images-idx3-ubyte")) == 0);
        CHECK(msg.find("install Debian's dataset-fashion-mnist or pass a directory") != std::string::npos);
        write_bytes(dir.file("train-images-idx3-ubyte"), images(2));
        msg = error_of([&] { (void)convis::load_fashion_mnist("train", dir.path.string()); });
        CHECK(msg.find(dir.file("train-labels-idx1-ubyte")) == 0);
        CHECK(msg.find("install Debian's dataset-fashion-mnist") != std::string::npos);
        const std::string nowhere = dir.file("no_such_dir");
        msg = error_of([&] { (void)convis::load_fashion_mnist("test", nowhere); });
        CHECK(msg.find(nowhere + ": ") == 0);
        CHECK(msg.find("install Debian's dataset-fashion-mnist") != std::string::npos);
    }
    SUBCASE("bad split") {
        const auto msg = error_of([&] { (void)convis::load_fashion_mnist("validation", dir.path.string()); });
        CHECK(msg.find("\"validation\"") != std::string::npos);
    }
}

TEST_CASE("fashion-mnist: the installed data set") {
    const std::string dir = "/usr/share/datasets/fashion-mnist";
    if (!fs::exists(dir + "/train-images-idx3-ubyte.gz") && !fs::exists(dir + "/train-images-idx3-ubyte")) {
        MESSAGE("skipped: " << dir << " not installed (Debian package dataset-fashion-mnist)");
        return;
    }
    const auto train = convis::load_fashion_mnist("train", dir);
    CHECK(train.count == 60000);
    CHECK(train.channels == 1);
    CHECK(train.height == 28);
    CHECK(train.width == 28);
    CHECK(train.pixels.size() == 60000u * 28 * 28);
    REQUIRE(train.labels.size() == 60000);
    // load_fashion_mnist has already checked that every label is 0..9.
    std::array<int, 10> per_class{};
    for (auto l : train.labels) ++per_class[static_cast<std::size_t>(l)];
    for (int c = 0; c < 10; ++c) CHECK(per_class[c] == 6000);

    const auto test = convis::load_fashion_mnist("test", dir);
    CHECK(test.count == 10000);
    CHECK(test.labels.size() == 10000);
    per_class = {};
    for (auto l : test.labels) ++per_class[static_cast<std::size_t>(l)];
    for (int c = 0; c < 10; ++c) CHECK(per_class[c] == 1000);
}
