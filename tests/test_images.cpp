// Pictures: PNG/JPEG through stb, to_tensor, contrast stretching, crops and Fig. 2 blocks.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include <convis/io/grid.hpp>
#include <convis/io/image.hpp>

using namespace convis;
namespace fs = std::filesystem;

namespace {

struct scratch_dir {
    fs::path path = fs::temp_directory_path() / ("convis_images_" + std::to_string(::getpid()));
    scratch_dir() { fs::create_directories(path); }
    ~scratch_dir() { fs::remove_all(path); }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

/// A picture whose value at (c, y, x) is f(c, y, x).
template <class F>
image make(int channels, int height, int width, F f) {
    image img;
    img.channels = channels;
    img.height = height;
    img.width = width;
    img.pixels.resize(std::size_t(channels) * height * width);
    for (int c = 0; c < channels; ++c)
        for (int y = 0; y < height; ++y)
            for (int x = 0; x < width; ++x) img.at(c, y, x) = f(c, y, x);
    return img;
}

std::string be32(std::uint32_t v) {
    return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

/// A PNG chunk: length, type, data, CRC.
std::string png_chunk(const std::string& type, const std::string& data) {
    const std::string body = type + data;
    return be32(std::uint32_t(data.size())) + body +
           be32(std::uint32_t(crc32(0, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size()))));
}

/// A PNG of the given header (8-bit grey unless said) whose IDAT chunks hold `idats`, already deflated.
std::string png_file(std::uint32_t width, std::uint32_t height, const std::vector<std::string>& idats,
                     char color_type = 0) {
    std::string s = "\x89PNG\r\n\x1a\n";
    s += png_chunk("IHDR", be32(width) + be32(height) + std::string{8, color_type, 0, 0, 0});
    for (const auto& d : idats) s += png_chunk("IDAT", d);
    return s + png_chunk("IEND", "");
}

std::string deflate(const std::string& raw) {
    uLongf n = compressBound(uLong(raw.size()));
    std::string out(n, '\0');
    REQUIRE(compress(reinterpret_cast<Bytef*>(out.data()), &n, reinterpret_cast<const Bytef*>(raw.data()),
                     uLong(raw.size())) == Z_OK);
    out.resize(n);
    return out;
}

/// A small real JPEG (stb_image_write) whose start-of-frame marker then claims width x height.
std::string jpeg_claiming(int width, int height) {
    std::vector<unsigned char> rgb(8 * 8 * 3, 128);
    std::string out;
    const auto append = [](void* ctx, void* data, int size) {
        static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), std::size_t(size));
    };
    REQUIRE(stbi_write_jpg_to_func(append, &out, 8, 8, 3, rgb.data(), 90));
    const auto sof = out.find("\xff\xc0");
    REQUIRE(sof != std::string::npos);
    out.replace(sof + 5, 4, std::string{char(height >> 8), char(height), char(width >> 8), char(width)});
    return out;
}

std::span<const unsigned char> bytes_of(const std::string& s) {
    return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

/// The process's peak resident memory so far, in bytes.
long peak_rss() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss * 1024L;
}

std::string error_of(auto&& f) {
    try {
        f();
    } catch (const convis::error& e) {
        return e.what();
    }
    return {};
}

}  // namespace

TEST_CASE("PNG round trip is exact for RGB and grey") {
    scratch_dir dir;
    const image rgb = make(3, 13, 17, [](int c, int y, int x) { return float((c * 80 + y * 11 + x * 7) % 256); });
    const image grey = make(1, 9, 20, [](int, int y, int x) { return float((y * 20 + x) % 256); });
    write_png(dir.file("rgb.png"), rgb);
    write_png(dir.file("grey.png"), grey);
    CHECK(!fs::exists(dir.file("rgb.png.tmp-convis")));
    for (const auto& [name, want] : {std::pair{"rgb.png", &rgb}, std::pair{"grey.png", &grey}}) {
        const image got = read_image(dir.file(name));
        CHECK(got.channels == want->channels);
        CHECK(got.height == want->height);
        CHECK(got.width == want->width);
        CHECK(got.pixels == want->pixels);
    }
}

TEST_CASE("write_png clamps and rounds, and refuses what it cannot write") {
    scratch_dir dir;
    image img = make(1, 1, 5, [](int, int, int) { return 0.f; });
    img.pixels = {-20.f, 12.4f, 12.6f, 300.f, std::nanf("")};
    write_png(dir.file("clamp.png"), img);
    CHECK(read_image(dir.file("clamp.png")).pixels == std::vector<float>{0, 12, 13, 255, 0});

    const image two = make(2, 2, 2, [](int, int, int) { return 1.f; });
    std::string m = error_of([&] { write_png(dir.file("two.png"), two); });
    CHECK(m.find(dir.file("two.png")) != std::string::npos);
    CHECK(m.find("channels") != std::string::npos);

    const std::string nowhere = dir.file("no/such/dir/x.png");
    m = error_of([&] { write_png(nowhere, img); });
    CHECK(m.find(nowhere) != std::string::npos);
}

TEST_CASE("JPEG and RGBA read back") {
    scratch_dir dir;
    const int w = 32, h = 24;
    std::vector<unsigned char> hwc(std::size_t(w) * h * 3);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < 3; ++c) hwc[(std::size_t(y) * w + x) * 3 + c] = (unsigned char)(40 + c * 60 + x * 2 + y);
    REQUIRE(stbi_write_jpg(dir.file("a.jpg").c_str(), w, h, 3, hwc.data(), 95));
    const image got = read_image(dir.file("a.jpg"));
    REQUIRE(got.channels == 3);
    REQUIRE(got.height == h);
    REQUIRE(got.width == w);
    double worst = 0;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < 3; ++c)
                worst = std::max(worst, std::abs(double(got.at(c, y, x)) - hwc[(std::size_t(y) * w + x) * 3 + c]));
    CHECK(worst <= 12.0);

    std::vector<unsigned char> rgba{10, 20, 30, 0, 40, 50, 60, 255};
    REQUIRE(stbi_write_png(dir.file("rgba.png").c_str(), 2, 1, 4, rgba.data(), 8));
    const image a = read_image(dir.file("rgba.png"));
    CHECK(a.channels == 3);
    CHECK(a.pixels == std::vector<float>{10, 40, 20, 50, 30, 60});
}

TEST_CASE("read_image names the path of a missing or garbage file") {
    scratch_dir dir;
    const std::string missing = dir.file("missing.png");
    std::string m = error_of([&] { read_image(missing); });
    CHECK(m.find(missing) != std::string::npos);
    CHECK(m.find("cannot read image") != std::string::npos);

    const std::string garbage = dir.file("garbage.png");
    std::ofstream(garbage) << "this is not a picture at all, just some text";
    m = error_of([&] { read_image(garbage); });
    CHECK(m.find(garbage) != std::string::npos);
    CHECK(m.find("cannot read image") != std::string::npos);
}

TEST_CASE("to_tensor applies mean and scale, broadcasts grey, and checks the size") {
    const image rgb = make(3, 2, 3, [](int c, int y, int x) { return float(c * 100 + y * 10 + x); });
    const std::array<float, 3> mean{1.f, 2.f, 3.f};
    const auto t = to_tensor<3, 2, 3>(rgb, mean, 0.5f);
    CHECK(t.batch() == 1);
    for (int c = 0; c < 3; ++c)
        for (int y = 0; y < 2; ++y)
            for (int x = 0; x < 3; ++x) CHECK(t(0, c, y, x) == doctest::Approx((rgb.at(c, y, x) - mean[c]) * 0.5f));

    const auto plain = to_tensor<3, 2, 3>(rgb);
    CHECK(plain(0, 2, 1, 2) == 212.f);

    const image grey = make(1, 2, 3, [](int, int y, int x) { return float(y * 10 + x); });
    const auto g = to_tensor<3, 2, 3>(grey, mean);
    for (int c = 0; c < 3; ++c) CHECK(g(0, c, 1, 2) == 12.f - mean[c]);
    CHECK(to_tensor<1, 2, 3>(grey)(0, 0, 1, 1) == 11.f);

    std::string m = error_of([&] { to_tensor<3, 4, 5>(rgb); });
    CHECK(m.find("3x4x5") != std::string::npos);
    CHECK(m.find("3x2x3") != std::string::npos);
    m = error_of([&] { to_tensor<1, 2, 3>(rgb); });
    CHECK(m.find("1x2x3") != std::string::npos);
    CHECK(m.find("3x2x3") != std::string::npos);
    const std::array<float, 2> short_mean{1.f, 2.f};
    CHECK(!error_of([&] { to_tensor<3, 2, 3>(rgb, short_mean); }).empty());
}

TEST_CASE("from_plane copies planar values") {
    const std::vector<float> v{1, 2, 3, 4, 5, 6};
    const image img = from_plane(v.data(), 2, 1, 3);
    CHECK(img.channels == 2);
    CHECK(img.height == 1);
    CHECK(img.width == 3);
    CHECK(img.at(1, 0, 0) == 4.f);
}

TEST_CASE("stretch_symmetric: zero is mid-grey, the percentile magnitude saturates, sign kept") {
    // 1000 values: 0, then ±1..±999 alternating (odd indices negative). Nearest rank: the
    // 99.5th percentile of the magnitudes 0..999 is the 995th smallest, 994.
    std::vector<float> v(1000);
    for (int i = 0; i < 1000; ++i) v[i] = float(i) * (i % 2 ? -1.f : 1.f);
    const image s = stretch_symmetric(v.data(), 1, 10, 100);
    CHECK(s.channels == 1);
    CHECK(std::abs(s.pixels[0] - 127.5f) <= 0.5f);
    CHECK(s.pixels[994] == doctest::Approx(255.f));  // +994 = s → white
    CHECK(s.pixels[993] == doctest::Approx(127.5f - 127.5f * 993.f / 994.f));
    CHECK(s.pixels[995] == doctest::Approx(0.f));    // -995: beyond s, clamped to black
    CHECK(s.pixels[999] == doctest::Approx(0.f));
    CHECK(s.pixels[998] == doctest::Approx(255.f));
    CHECK(s.pixels[2] > 127.5f);                     // positive brighter
    CHECK(s.pixels[3] < 127.5f);                     // negative darker
    for (float p : s.pixels) CHECK((p >= 0.f && p <= 255.f));

    // Over all channels together: a second channel of larger magnitudes sets s for both.
    std::vector<float> two{1.f, -1.f, 4.f, -4.f};
    const image t = stretch_symmetric(two.data(), 2, 1, 2, 100.0);
    CHECK(t.pixels[0] == doctest::Approx(127.5f + 127.5f / 4));
    CHECK(t.pixels[3] == doctest::Approx(0.f));

    std::vector<float> zeros(12, 0.f);
    const image z = stretch_symmetric(zeros.data(), 3, 2, 2);
    for (float p : z.pixels) CHECK(p == 127.5f);
}

TEST_CASE("crop clips to the picture and pads with zero") {
    const image img = make(3, 4, 5, [](int c, int y, int x) { return float(1 + c * 100 + y * 10 + x); });
    const image inside = crop(img, 1, 2, 2, 2);
    CHECK(inside.height == 2);
    CHECK(inside.width == 2);
    CHECK(inside.at(2, 1, 1) == img.at(2, 2, 3));

    const image edge = crop(img, -1, 3, 3, 4);
    CHECK(edge.channels == 3);
    CHECK(edge.height == 3);
    CHECK(edge.width == 4);
    CHECK(edge.at(0, 0, 0) == 0.f);                // above the picture
    CHECK(edge.at(1, 1, 0) == img.at(1, 0, 3));    // first row, x = 3
    CHECK(edge.at(1, 2, 1) == img.at(1, 1, 4));
    CHECK(edge.at(1, 1, 2) == 0.f);                // right of the picture
    const image away = crop(img, 10, 10, 2, 2);
    for (float p : away.pixels) CHECK(p == 0.f);
}

TEST_CASE("figure2_block lays out projections beside patches") {
    const int th = 4, tw = 5, rows = 3, cols = 3, gap = 4, border = 1;
    std::vector<image> proj, patch;
    for (int i = 0; i < 9; ++i) proj.push_back(make(3, th, tw, [i](int c, int y, int x) { return float(i * 10 + c + y + x); }));
    for (int i = 0; i < 7; ++i) patch.push_back(make(3, th, tw, [i](int c, int, int) { return float(100 + i * 10 + c); }));
    const image b = figure2_block(proj, patch, rows, cols, gap, border);
    const int half = cols * tw + (cols + 1) * border;
    CHECK(b.channels == 3);
    CHECK(b.height == rows * th + (rows + 1) * border);
    CHECK(b.width == 2 * half + gap);
    // projection 5 = row 1, col 2; its pixel (c=1, y=2, x=3)
    CHECK(b.at(1, border + 1 * (th + border) + 2, border + 2 * (tw + border) + 3) == proj[5].at(1, 2, 3));
    // patch 4 = row 1, col 1, in the right half
    CHECK(b.at(2, border + 1 * (th + border), half + gap + border + 1 * (tw + border)) == patch[4].at(2, 0, 0));
    CHECK(b.at(0, 0, 0) == 255.f);                             // border
    CHECK(b.at(0, border, half + 1) == 255.f);                 // gap
    // missing patch 8 (row 2, col 2) stays background
    CHECK(b.at(0, border + 2 * (th + border), half + gap + border + 2 * (tw + border)) == 255.f);

    std::vector<image> odd = proj;
    odd[3] = make(3, th + 1, tw, [](int, int, int) { return 0.f; });
    CHECK(!error_of([&] { figure2_block(odd, patch); }).empty());
    CHECK(!error_of([&] { figure2_block({}, {}); }).empty());
}

TEST_CASE("stack_vertical pads narrower blocks and separates them") {
    const image a = make(3, 2, 6, [](int, int, int) { return 1.f; });
    const image b = make(1, 3, 4, [](int, int, int) { return 2.f; });
    const image s = stack_vertical({a, b}, 5);
    CHECK(s.channels == 3);
    CHECK(s.height == 2 + 5 + 3);
    CHECK(s.width == 6);
    CHECK(s.at(0, 1, 5) == 1.f);
    CHECK(s.at(0, 3, 0) == 255.f);   // gap
    CHECK(s.at(2, 7, 3) == 2.f);     // grey broadcast
    CHECK(s.at(0, 7, 4) == 255.f);   // right padding
}

TEST_CASE("resize keeps a constant picture constant and fit_picture crops the centre") {
    const image flat = make(3, 10, 20, [](int c, int, int) { return 40.f * float(c + 1); });
    const image r = resize(flat, 5, 7);
    CHECK(r.channels == 3);
    CHECK(r.height == 5);
    CHECK(r.width == 7);
    for (int c = 0; c < 3; ++c) CHECK(r.at(c, 2, 3) == doctest::Approx(40.f * float(c + 1)).epsilon(1e-4));
    CHECK_THROWS_AS(resize(flat, 0, 4), convis::error);

    // A 10×20 picture whose left and right quarters are white: fitting to 8×8 scales it to 8×16
    // and keeps the centre 8 columns, all black.
    const image wide = make(1, 10, 20, [](int, int, int x) { return (x < 5 || x >= 15) ? 255.f : 0.f; });
    const image f = fit_picture(wide, 1, 8, 8);
    REQUIRE(f.height == 8);
    REQUIRE(f.width == 8);
    float most = 0;
    for (int y = 0; y < 8; ++y)
        for (int x = 1; x < 7; ++x) most = std::max(most, f.at(0, y, x));
    CHECK(most < 30.f);

    // Same size: untouched. Grey to RGB copies; RGB to grey is the Rec. 601 luma.
    const image g = make(1, 4, 4, [](int, int y, int x) { return float(y * 4 + x); });
    const image g3 = fit_picture(g, 3, 4, 4);
    CHECK(g3.channels == 3);
    CHECK(g3.at(2, 3, 1) == 13.f);
    const image rgb = make(3, 2, 2, [](int c, int, int) { return c == 0 ? 100.f : c == 1 ? 50.f : 10.f; });
    CHECK(fit_picture(rgb, 1, 2, 2).at(0, 1, 1) == doctest::Approx(0.299 * 100 + 0.587 * 50 + 0.114 * 10));
    CHECK_THROWS_AS(fit_picture(rgb, 2, 2, 2), convis::error);
}

TEST_CASE("enlarge repeats each pixel factor × factor times") {
    const image g = make(1, 2, 3, [](int, int y, int x) { return float(y * 3 + x); });
    const image e = enlarge(g, 3);
    CHECK(e.height == 6);
    CHECK(e.width == 9);
    CHECK(e.at(0, 5, 8) == 5.f);
    CHECK(e.at(0, 3, 2) == 3.f);
    CHECK_THROWS_AS(enlarge(g, 0), convis::error);
}

TEST_CASE("read_image refuses absurd sizes from the header, naming the file, in bounded memory") {
    scratch_dir dir;
    const std::string tiny_idat = deflate(std::string(64, '\0'));
    struct hostile {
        const char* name;
        std::string bytes;
        std::vector<std::string> words;
    };
    const std::vector<hostile> cases{
        {"huge.png", png_file(100000, 100000, {tiny_idat}), {"100000x100000 pixels", "larger than 16384 a side"}},
        {"widest.png", png_file(16384, 16384, {tiny_idat}), {"16384x16384 pixels", "more than the limit of 67108864"}},
        // Within the limits, but 8192 x 8192 pixels cannot be deflated into a few dozen bytes.
        {"empty_8k.png", png_file(8192, 8192, {tiny_idat}), {"8192x8192", "at least 8128 bytes"}},
        {"zero.png", png_file(0, 0, {tiny_idat}), {}},
        {"zero_width.png", png_file(0, 5, {tiny_idat}), {}},
        {"chunk_past_end.png", png_file(4, 4, {tiny_idat}).substr(0, 48), {"claims", "bytes are left"}},
        {"absurd.jpg", jpeg_claiming(65535, 65535), {"65535x65535 pixels", "larger than 16384 a side"}},
        // A JPEG whose data ends early is padded with zeros by stb_image: this one would decode 64M pixels.
        {"empty_8k.jpg", jpeg_claiming(8192, 8192), {"8192x8192", "at least 131072 bytes"}},
        {"zero.jpg", jpeg_claiming(0, 8), {}},
    };
    const long before = peak_rss();
    for (const auto& c : cases) {
        const std::string path = dir.file(c.name);
        std::ofstream(path, std::ios::binary) << c.bytes;
        const std::string m = error_of([&] { read_image(path); });
        INFO(c.name << ": " << m);
        CHECK(m.rfind(path + ": cannot read image: ", 0) == 0);
        for (const auto& w : c.words) CHECK(m.find(w) != std::string::npos);
    }
    // Decoding the 8192 x 8192 claims would cost about 1 GiB (the float picture alone is 768 MiB).
    const long grown = peak_rss() - before;
    INFO("peak RSS grew by " << grown / (1 << 20) << " MiB");
    CHECK(grown < 128L << 20);
}

TEST_CASE("decode_image: what fuzzing found in Debian's stb_image 2.27 is a clean error or a correct picture") {
    // A Huffman table declaring 16 x 255 codes: stb_image wrote past its 256-entry tables. Also behind
    // FF fill bytes, which stb_image skips before the start-of-image marker.
    const std::string dht = "\xff\xc4" + std::string("\x00\x13\x00", 3) + std::string(16, '\xff');
    for (const std::string& jpeg : {"\xff\xd8" + dht, "\xff\xff\xff\xd8" + dht}) {
        const std::string m = error_of([&] { decode_image(bytes_of(jpeg), "dht.jpg"); });
        CHECK(m.rfind("dht.jpg: cannot read image: ", 0) == 0);
        CHECK(m.find("4080 codes, more than the 256") != std::string::npos);
    }

    // A scan using a Huffman table no DHT defines: stb_image decoded with uninitialised tables and read
    // past them. stb_image_write puts DC 0, AC 0, DC 1, AC 1 in one DHT; AC 0 becomes a second DC 1.
    std::string table = jpeg_claiming(8, 8);
    const std::size_t first = table.find("\xff\xc4") + 4;
    REQUIRE(first < table.size());
    std::size_t codes = 0;
    for (std::size_t i = 0; i < 16; ++i) codes += static_cast<unsigned char>(table[first + 1 + i]);
    REQUIRE(table[first + 17 + codes] == '\x10');
    table[first + 17 + codes] = '\x01';
    const std::string undefined = error_of([&] { decode_image(bytes_of(table), "table.jpg"); });
    CHECK(undefined.rfind("table.jpg: cannot read image: ", 0) == 0);
    CHECK(undefined.find("uses Huffman table AC 0, which no DHT marker before it defines") != std::string::npos);

    // A chunk claiming 1.3 GB in a 60-byte file: stb_image allocated 2 GiB before reading it.
    std::string big_chunk = png_file(4, 3, {deflate(std::string(15, '\0'))});
    big_chunk.insert(big_chunk.size() - 12, be32(0x4F8E0000) + "IDAT");
    std::string m = error_of([&] { decode_image(bytes_of(big_chunk), "chunk.png"); });
    CHECK(m.rfind("chunk.png: cannot read image: ", 0) == 0);
    CHECK(m.find("claims 1334706176 bytes of data") != std::string::npos);

    // An empty first IDAT chunk is legal PNG (stb_image passed memcpy a null pointer for it).
    const std::string raw = std::string("\0\x0a\x14", 3) + std::string("\0\x1e\x28", 3);  // 2 rows, filter 0
    const image two = decode_image(bytes_of(png_file(2, 2, {"", deflate(raw)})), "empty_idat.png");
    CHECK(two.channels == 1);
    CHECK(two.pixels == std::vector<float>{10, 20, 30, 40});

    // PGM is no longer decoded at all (stb_image 2.27 overflowed an int on its header's numbers).
    m = error_of([&] { decode_image(bytes_of(std::string("P5\n99999999999 1\n255\n\x01")), "big.pgm"); });
    CHECK(m.rfind("big.pgm: cannot read image: ", 0) == 0);
}

TEST_CASE("decode_image reads from memory what read_image reads from the file") {
    scratch_dir dir;
    std::vector<unsigned char> rgb{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    REQUIRE(stbi_write_png(dir.file("a.png").c_str(), 2, 2, 3, rgb.data(), 6));
    std::ifstream in(dir.file("a.png"), std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), {}};
    const image from_file = read_image(dir.file("a.png"));
    const image from_memory = decode_image(bytes_of(bytes), "a.png in memory");
    CHECK(from_memory.channels == 3);
    CHECK(from_memory.pixels == from_file.pixels);
    const std::string m = error_of([&] { decode_image(bytes_of(bytes.substr(0, 30)), "a.png in memory"); });
    CHECK(m.rfind("a.png in memory: cannot read image: ", 0) == 0);
}

TEST_CASE("decode_image: every fuzz_image seed, the fuzzers' reproducers among them, is a picture or an error") {
    // tests/fuzz/corpus/fuzz_image/regress-*: what fuzz_image found in stb_image 2.27 (tests/fuzz/README.md).
    // regress-jpeg_huffman_assert aborted on an assert inside stb_image in builds without NDEBUG.
    const fs::path seeds = fs::path(CONVIS_GOLDEN_DIR) / ".." / "fuzz" / "corpus" / "fuzz_image";
    int pictures = 0, errors = 0, reproducers = 0;
    for (const auto& entry : fs::directory_iterator(seeds)) {
        std::ifstream in(entry.path(), std::ios::binary);
        const std::string bytes{std::istreambuf_iterator<char>(in), {}};
        const std::string name = entry.path().filename().string();
        CAPTURE(name);
        reproducers += name.rfind("regress-", 0) == 0 ? 1 : 0;
        try {
            const image img = decode_image(bytes_of(bytes), name);
            CHECK(img.pixels.size() == std::size_t(img.channels) * img.height * img.width);
            ++pictures;
        } catch (const convis::error& e) {
            CHECK(std::string(e.what()).rfind(name + ": cannot read image: ", 0) == 0);
            ++errors;
        }
    }
    CHECK(reproducers >= 6);
    CHECK(pictures >= 8);  // the good seeds: PNGs of every colour type, JPEGs
    CHECK(errors >= 4);
}
