// convis make-input --out X [--batch N] [--seed S] [--size 224] [--channels 3]
//
// Writes a synthetic input batch, `input` [N,3,size,size] float32: smooth, image-like colour blobs
// over a colour gradient, values in (-1, 1), the same for the same seed on every platform (sample n
// depends only on the seed and n, not on the batch size). It lets the demo run a forward pass
// without downloading anything.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <convis/io/safetensors.hpp>
#include <convis/net/init.hpp>

#include "commands.hpp"

namespace convis_cli {
namespace {

struct make_input_options {
    std::string out;
    int batch = 1;
    std::uint64_t seed = 0;
    int size = 224;
    int channels = 3;
};

/// One C×S×S image (C = 3) into `img`, drawn from `rng`.
void draw_image(convis::normal_stream& rng, int s, float* img) {
    const double pi = 3.141592653589793;
    auto uniform = [&](double lo, double hi) { return lo + (hi - lo) * rng.uniform(); };
    const std::size_t plane = std::size_t(s) * s;

    // Background: a gentle gradient between two colours, in a random direction.
    const double angle = uniform(0, 2 * pi), dx = std::cos(angle), dy = std::sin(angle);
    double from[3], to[3];
    for (int c = 0; c < 3; ++c) from[c] = uniform(-0.5, 0.5), to[c] = uniform(-0.5, 0.5);

    // Blobs: rotated elliptical Gaussians of random colour; sizes relative to the image.
    struct blob {
        double cx, cy, cos_t, sin_t, inv_a2, inv_b2, colour[3];
    };
    std::vector<blob> blobs(4 + std::size_t(rng.next_u64() % 5));
    for (auto& b : blobs) {
        b.cx = uniform(0, 1);
        b.cy = uniform(0, 1);
        const double t = uniform(0, pi), a = uniform(0.05, 0.25), e = uniform(0.4, 1.0);
        b.cos_t = std::cos(t);
        b.sin_t = std::sin(t);
        b.inv_a2 = 1 / (a * a);
        b.inv_b2 = 1 / (a * e * a * e);
        for (double& c : b.colour) c = uniform(-1.2, 1.2);
    }

    for (int y = 0; y < s; ++y)
        for (int x = 0; x < s; ++x) {
            const double u = (x + 0.5) / s, v = (y + 0.5) / s;
            const double g = 0.5 + 0.5 * ((u - 0.5) * dx + (v - 0.5) * dy) * 1.4142135623730951;
            double value[3];
            for (int c = 0; c < 3; ++c) value[c] = from[c] + (to[c] - from[c]) * g;
            for (const auto& b : blobs) {
                const double px = u - b.cx, py = v - b.cy;
                const double p = px * b.cos_t + py * b.sin_t, q = -px * b.sin_t + py * b.cos_t;
                const double w = std::exp(-0.5 * (p * p * b.inv_a2 + q * q * b.inv_b2));
                for (int c = 0; c < 3; ++c) value[c] += w * b.colour[c];
            }
            for (int c = 0; c < 3; ++c) img[c * plane + std::size_t(y) * s + x] = float(std::tanh(value[c]));
        }
}

void run_make_input(const make_input_options& o) {
    if (o.batch < 1) throw convis::error("--batch must be at least 1, got " + std::to_string(o.batch));
    if (o.size < 1 || o.size > 4096)
        throw convis::error("--size must be between 1 and 4096, got " + std::to_string(o.size));
    if (o.channels != 1 && o.channels != 3) throw convis::error("--channels must be 1 or 3, got " + std::to_string(o.channels));
    const std::size_t plane = std::size_t(o.size) * o.size, per_sample = std::size_t(o.channels) * plane;
    constexpr std::size_t max_bytes = std::size_t(4) << 30;
    if (std::size_t(o.batch) * per_sample * sizeof(float) > max_bytes)
        throw convis::error("--batch " + std::to_string(o.batch) + " of " + std::to_string(o.size) + "x" +
                            std::to_string(o.size) + " images would exceed 4 GiB");

    std::vector<float> data(std::size_t(o.batch) * per_sample), colour(3 * plane);
    convis::normal_stream seeds(o.seed);
    for (int n = 0; n < o.batch; ++n) {
        convis::normal_stream rng(seeds.next_u64());
        float* sample = data.data() + std::size_t(n) * per_sample;
        if (o.channels == 3) {
            draw_image(rng, o.size, sample);
        } else {  // grey: the mean of the colour picture's channels
            draw_image(rng, o.size, colour.data());
            for (std::size_t i = 0; i < plane; ++i) sample[i] = (colour[i] + colour[plane + i] + colour[2 * plane + i]) / 3;
        }
    }

    convis::safetensors_file f;
    f.path = o.out;
    f.tensors.emplace("input", convis::make_tensor<float>(std::span<const float>(data), {o.batch, o.channels, o.size, o.size}));
    f.metadata = {{"convis.generator", "make-input"}, {"convis.seed", std::to_string(o.seed)}};
    convis::write_safetensors(o.out, f);
    std::printf("wrote %s: input [%d,%d,%d,%d] float32, seed %llu\n", o.out.c_str(), o.batch, o.channels, o.size, o.size,
                static_cast<unsigned long long>(o.seed));
}

}  // namespace

command add_make_input(CLI::App& parent) {
    auto* app = parent.add_subcommand("make-input", "Write a synthetic input batch (smooth colour blobs, values in "
                                                    "(-1, 1)) for trying the other subcommands without data");
    auto o = std::make_shared<make_input_options>();
    app->add_option("--out", o->out, "Output safetensors file (written atomically)")->required();
    app->add_option("--batch", o->batch, "Number of images")->capture_default_str();
    add_seed_option(app, o->seed);
    app->add_option("--size", o->size, "Height and width of each image (ZFNet needs 224, ZFNet28 28)")->capture_default_str();
    app->add_option("--channels", o->channels, "3 (colour) or 1 (grey, for zfnet28)")->capture_default_str();
    return {app, [o] { run_make_input(*o); }};
}

}  // namespace convis_cli
