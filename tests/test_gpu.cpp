// The GPU policy against the CPU policy: every op on fresh random data, ZFNet forward and backward
// end to end, the deconvnet in all three modes, training steps with dropout, an analysis, and
// torchvision's layers (BatchNorm2d, average pooling, a residual block) in a small stack.
// Relative error (largest difference over largest value) at most 1e-4, TF32 off.
//
// Without a CUDA device only the "no device" case runs; the program then exits 77, which ctest
// reports as skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <convis/analysis/attribution.hpp>
#include <convis/analysis/feature_vis.hpp>
#include <convis/analysis/top_images.hpp>
#include <convis/analysis/occlusion.hpp>
#include <convis/train/trainer.hpp>
#include <convis/gpu.hpp>

#include "support.hpp"
#include "zoo_formula.hpp"

using namespace convis;

namespace {

std::mt19937_64& rng() {
    static std::mt19937_64 r(20261128);
    return r;
}
template <class T = float>
std::vector<T> random_values(std::size_t n, double lo = -1, double hi = 1) {
    std::uniform_real_distribution<double> u(lo, hi);
    std::vector<T> v(n);
    for (auto& x : v) x = T(u(rng()));
    return v;
}
template <class T>
device_buffer<T> on_device(const std::vector<T>& v) {
    device_buffer<T> d(v.size());
    ops<gpu>::upload(v.size(), v.data(), d.data());
    return d;
}
template <class T>
std::vector<T> on_host(const device_buffer<T>& d) {
    std::vector<T> v(d.size());
    ops<gpu>::download(d.size(), d.data(), v.data());
    return v;
}
/// The worst relative error seen per check name, printed at the end (bench/RESULTS.md quotes it).
std::map<std::string, double>& worst() {
    static std::map<std::string, double> w;
    return w;
}
template <class T>
void check_close(const std::vector<T>& gpu_values, const std::vector<T>& cpu_values, const std::string& what,
                 double tol = 1e-4) {
    const double err = test::relative_error<T, T>(gpu_values, cpu_values);
    INFO(what << ": relative error " << err);
    CHECK(err <= tol);
    const std::string key = what.substr(0, what.find(':'));
    worst()[key] = std::max(worst()[key], err);
}

}  // namespace

TEST_CASE("no device: a GPU model reports it when it is made") {
    using Net = Sequential<Input<1, 4, 4>, Named<"fc", Linear<16, 2>>>;
    try {
        Model<Net, gpu> m;
        FAIL("a GPU model was made without a device");
    } catch (const convis::error& e) {
        const std::string what = e.what();
        INFO(what);
        CHECK(what.find("no CUDA device") != std::string::npos);
    }
}

TEST_CASE("out of device memory: the error names the size asked for") {
    try {
        device_buffer<float> huge(std::size_t(1) << 45);  // 128 TiB
        FAIL("a 128 TiB buffer was allocated");
    } catch (const convis::error& e) {
        const std::string what = e.what();
        INFO(what);
        CHECK(what.find("cudaMalloc of 140737488355328 bytes") != std::string::npos);
        CHECK(what.find("MiB free") != std::string::npos);
    }
    device_buffer<float> fine(1000);  // the device is still usable afterwards
    CHECK(fine.size() == 1000);
}

TEST_CASE("element-wise ops: relu, rectify, multiply, dropout") {
    const std::size_t n = 100003;  // not a multiple of a block
    const auto x = random_values(n), y = random_values(n), g = random_values(n);
    std::vector<float> want(n);
    auto dx = on_device(x), dy = on_device(y), dg = on_device(g);
    device_buffer<float> out(n), mask(n);

    ops<cpu>::relu_forward(n, x.data(), want.data());
    ops<gpu>::relu_forward(n, dx.data(), out.data());
    CHECK(on_host(out) == want);
    ops<cpu>::relu_backward(n, y.data(), g.data(), want.data());
    ops<gpu>::relu_backward(n, dy.data(), dg.data(), out.data());
    CHECK(on_host(out) == want);
    for (rectify_mode mode : {rectify_mode::deconvnet, rectify_mode::guided, rectify_mode::gradient}) {
        ops<cpu>::rectify(mode, n, y.data(), g.data(), want.data());
        ops<gpu>::rectify(mode, n, dy.data(), dg.data(), out.data());
        CHECK(on_host(out) == want);
    }
    ops<cpu>::multiply(n, x.data(), y.data(), want.data());
    ops<gpu>::multiply(n, dx.data(), dy.data(), out.data());
    CHECK(on_host(out) == want);

    // The same counter-based mask as the CPU, bit for bit.
    std::vector<float> want_mask(n);
    ops<cpu>::dropout_forward(n, 0.3, 7, 5, x.data(), want.data(), want_mask.data());
    ops<gpu>::dropout_forward(n, 0.3, 7, 5, dx.data(), out.data(), mask.data());
    CHECK(on_host(mask) == want_mask);
    CHECK(on_host(out) == want);
}

TEST_CASE("conv2d forward and backward match the CPU") {
    const conv2d_desc shapes[] = {
        {2, 3, 17, 17, 5, 17, 17, 3, 1, 1},    // padded 3×3
        {2, 4, 15, 15, 6, 6, 6, 5, 2, 0},      // strided 5×5
        {3, 8, 7, 7, 4, 7, 7, 1, 1, 0},        // pointwise
        {1, 3, 32, 32, 8, 14, 14, 7, 2, 1},    // conv1-like
    };
    for (const conv2d_desc& d : shapes) {
        CAPTURE(d.in_c);
        CAPTURE(d.kernel);
        CAPTURE(d.stride);
        const std::size_t xs = std::size_t(d.batch) * d.in_c * d.in_h * d.in_w;
        const std::size_t ys = std::size_t(d.batch) * d.out_c * d.out_h * d.out_w;
        const std::size_t ws = std::size_t(d.out_c) * d.in_c * d.kernel * d.kernel;
        const auto x = random_values(xs), w = random_values(ws), b = random_values(d.out_c), gy = random_values(ys);
        const auto gw0 = random_values(ws), gb0 = random_values(d.out_c);  // gradients accumulate
        scratch<cpu, float> cw;
        scratch<gpu, float> gwk;

        std::vector<float> y(ys), gx(xs), gw = gw0, gb = gb0;
        ops<cpu>::conv2d_forward(d, x.data(), w.data(), b.data(), y.data(), cw);
        ops<cpu>::conv2d_backward(d, x.data(), w.data(), gy.data(), gx.data(), gw.data(), gb.data(), cw);

        auto dx = on_device(x), dw = on_device(w), db = on_device(b), dgy = on_device(gy);
        auto dgw = on_device(gw0), dgb = on_device(gb0);
        device_buffer<float> dy(ys), dgx(xs);
        ops<gpu>::conv2d_forward(d, dx.data(), dw.data(), db.data(), dy.data(), gwk);
        ops<gpu>::conv2d_backward(d, dx.data(), dw.data(), dgy.data(), dgx.data(), dgw.data(), dgb.data(), gwk);
        check_close(on_host(dy), y, "conv forward");
        check_close(on_host(dgx), gx, "conv backward data");
        check_close(on_host(dgw), gw, "conv backward filter (accumulated)");
        check_close(on_host(dgb), gb, "conv backward bias (accumulated)");
    }
}

TEST_CASE("max-pool with switches, floor and ceil sizes, forward and unpooling") {
    // 14×14, 3×3 windows every 2: 6×6 by floor, 7×7 by ceil (the last window clipped); padded too.
    const pool2d_desc shapes[] = {{2, 3, 14, 14, 6, 6, 3, 2, 0}, {2, 3, 14, 14, 7, 7, 3, 2, 0}, {1, 2, 9, 9, 5, 5, 3, 2, 1}};
    for (const pool2d_desc& d : shapes) {
        CAPTURE(d.out_h);
        CAPTURE(d.pad);
        const std::size_t xs = std::size_t(d.batch) * d.channels * d.in_h * d.in_w;
        const std::size_t ys = std::size_t(d.batch) * d.channels * d.out_h * d.out_w;
        auto x = random_values(xs);
        for (std::size_t i = 0; i < xs; i += 7) x[i] = 0.5f;  // ties: the first maximum wins
        const auto gy = random_values(ys);
        std::vector<float> y(ys), gx(xs);
        std::vector<std::int32_t> sw(ys);
        ops<cpu>::maxpool_forward(d, x.data(), y.data(), sw.data());
        ops<cpu>::maxpool_backward(d, gy.data(), sw.data(), gx.data());

        auto dx = on_device(x), dgy = on_device(gy);
        device_buffer<float> dy(ys), dgx(xs);
        device_buffer<std::int32_t> dsw(ys);
        ops<gpu>::maxpool_forward(d, dx.data(), dy.data(), dsw.data());
        ops<gpu>::maxpool_backward(d, dgy.data(), dsw.data(), dgx.data());
        CHECK(on_host(dy) == y);
        CHECK(on_host(dsw) == sw);
        check_close(on_host(dgx), gx, "unpooling");
    }
}

TEST_CASE("LRN through cuDNN has the CPU layer's semantics (alpha divided by the window)") {
    // Constants far from ZFNet's tiny alpha, so the normalisation term matters.
    const lrn_desc d{2, 7, 5 * 6, 5, 0.5, 0.75, 2.0};
    const std::size_t n = std::size_t(d.batch) * d.channels * d.plane;
    const auto x = random_values(n, -2, 2), gy = random_values(n);
    std::vector<float> y(n), scale(n), gx(n);
    ops<cpu>::lrn_forward(d, x.data(), y.data(), scale.data());
    ops<cpu>::lrn_backward(d, x.data(), y.data(), scale.data(), gy.data(), gx.data());
    auto dx = on_device(x), dgy = on_device(gy);
    device_buffer<float> dy(n), dscale(n), dgx(n);
    ops<gpu>::lrn_forward(d, dx.data(), dy.data(), dscale.data());
    ops<gpu>::lrn_backward(d, dx.data(), dy.data(), dscale.data(), dgy.data(), dgx.data());
    check_close(on_host(dy), y, "LRN forward");
    check_close(on_host(dgx), gx, "LRN backward");

    const lrn_desc even{1, 4, 4, 4, 1e-4, 0.75, 1.0};
    try {
        ops<gpu>::lrn_forward(even, dx.data(), dy.data(), dscale.data());
        FAIL("an even LRN size was accepted");
    } catch (const convis::error& e) {
        CHECK(std::string(e.what()).find("size 4") != std::string::npos);
    }
}

TEST_CASE("Linear through cuBLAS and softmax through cuDNN match the CPU") {
    const linear_desc d{5, 300, 70};
    const auto x = random_values(std::size_t(d.batch) * d.in), w = random_values(std::size_t(d.out) * d.in);
    const auto b = random_values(d.out), gy = random_values(std::size_t(d.batch) * d.out);
    const auto gw0 = random_values(std::size_t(d.out) * d.in), gb0 = random_values(d.out);
    std::vector<float> y(std::size_t(d.batch) * d.out), gx(std::size_t(d.batch) * d.in), gw = gw0, gb = gb0;
    ops<cpu>::linear_forward(d, x.data(), w.data(), b.data(), y.data());
    ops<cpu>::linear_backward(d, x.data(), w.data(), gy.data(), gx.data(), gw.data(), gb.data());
    auto dx = on_device(x), dw = on_device(w), db = on_device(b), dgy = on_device(gy), dgw = on_device(gw0),
         dgb = on_device(gb0);
    device_buffer<float> dy(y.size()), dgx(gx.size());
    ops<gpu>::linear_forward(d, dx.data(), dw.data(), db.data(), dy.data());
    ops<gpu>::linear_backward(d, dx.data(), dw.data(), dgy.data(), dgx.data(), dgw.data(), dgb.data());
    check_close(on_host(dy), y, "linear forward");
    check_close(on_host(dgx), gx, "linear backward (input)");
    check_close(on_host(dgw), gw, "linear backward (weight, accumulated)");
    check_close(on_host(dgb), gb, "linear backward (bias, accumulated)");

    const int batch = 4, classes = 11;
    const auto logits = random_values(std::size_t(batch) * classes, -5, 5), g = random_values(std::size_t(batch) * classes);
    std::vector<float> p(logits.size()), gp(logits.size());
    ops<cpu>::softmax_forward(batch, classes, logits.data(), p.data());
    ops<cpu>::softmax_backward(batch, classes, p.data(), g.data(), gp.data());
    auto dl = on_device(logits), dg = on_device(g);
    device_buffer<float> dp(p.size()), dgp(p.size());
    ops<gpu>::softmax_forward(batch, classes, dl.data(), dp.data());
    ops<gpu>::softmax_backward(batch, classes, dp.data(), dg.data(), dgp.data());
    check_close(on_host(dp), p, "softmax forward");
    check_close(on_host(dgp), gp, "softmax backward");
}

TEST_CASE("the optimiser's kernels: update and renormalisation") {
    const std::size_t n = 4 * 75;
    auto p = random_values(n), g = random_values(n), buf = random_values(n);
    auto dp = on_device(p), dg = on_device(g), dbuf = on_device(buf);
    for (bool first : {true, false}) {
        sgd_kernels<cpu>::update(n, p.data(), g.data(), buf.data(), 0.01, 0.9, 5e-4, first);
        sgd_kernels<gpu>::update(n, dp.data(), dg.data(), dbuf.data(), 0.01, 0.9, 5e-4, first);
    }
    check_close(on_host(dp), p, "sgd parameters", 1e-6);
    check_close(on_host(dbuf), buf, "sgd momentum", 1e-6);

    auto w = random_values(n);
    for (std::size_t i = 0; i < 75; ++i) w[i] *= 0.01f;  // one filter inside the radius
    auto dw = on_device(w);
    const auto scaled_cpu = sgd_kernels<cpu>::renormalise(4, 75, w.data(), 0.1);
    const auto scaled_gpu = sgd_kernels<gpu>::renormalise(4, 75, dw.data(), 0.1);
    CHECK(scaled_cpu == 3);
    CHECK(scaled_gpu == scaled_cpu);
    check_close(on_host(dw), w, "renormalised filters", 1e-6);

}

namespace {
using Net = ZFNet<>;
template <class P>
using ZF = Model<Net, P>;

/// The same parameters on both models (the paper's initialisation, uploaded by init_paper).
void same_start(ZF<cpu>& c, ZF<gpu>& g) {
    init_paper(c, 11);
    init_paper(g, 11);
    // Non-zero biases, so that a missing bias would show.
    auto pc = c.parameter_list();
    auto pg = g.parameter_list();
    for (std::size_t i = 0; i < pc.size(); ++i)
        if (pc[i].is_bias)
            for (std::size_t j = 0; j < pc[i].values.size(); ++j) pc[i].values[j] = pg[i].values[j] = 0.01f * float(j % 7);
    g.upload_parameters();
}
}  // namespace

TEST_CASE("ZFNet forward, backward and the deconvnet on the GPU match the CPU") {
    static ZF<cpu> c;
    static ZF<gpu> g;
    same_start(c, g);
    Tensor<Net::input_shape> x(2);
    const auto v = random_values(x.size(), -2, 2);
    std::copy(v.begin(), v.end(), x.data());

    const auto yc = c.forward(x);
    const std::vector<float> logits_cpu(yc.data(), yc.data() + yc.size());
    const auto yg = g.forward(x);
    check_close(std::vector<float>(yg.data(), yg.data() + yg.size()), logits_cpu, "ZFNet logits");
    {
        const auto a = c.output<14>();
        const auto b = g.output<14>();
        check_close(std::vector<float>(b.data(), b.data() + b.size()), std::vector<float>(a.data(), a.data() + a.size()),
                    "pool5");
    }

    Tensor<Net::output_shape> gy(2);
    const auto gv = random_values(gy.size());
    std::copy(gv.begin(), gv.end(), gy.data());
    c.zero_grad();
    g.zero_grad();
    c.backward(gy, true);
    g.backward(gy, true);
    const auto ic = c.input_gradient(), ig = g.input_gradient();
    check_close(std::vector<float>(ig.data(), ig.data() + ig.size()), std::vector<float>(ic.data(), ic.data() + ic.size()),
                "d loss / d input");
    const auto lc = c.parameter_list(), lg = g.parameter_list();
    for (std::size_t i = 0; i < lc.size(); ++i)
        check_close(std::vector<float>(lg[i].gradient.begin(), lg[i].gradient.end()),
                    std::vector<float>(lc[i].gradient.begin(), lc[i].gradient.end()), "gradient of " + lc[i].name);

    Deconvnet dc(c);
    Deconvnet dg(g);
    for (rectify_mode mode : {rectify_mode::deconvnet, rectify_mode::guided, rectify_mode::gradient}) {
        CAPTURE(int(mode));
        const auto sc = dc.select_strongest<14>(5);
        const auto sg = dg.select_strongest<14>(5);
        const auto pc = dc.project<14>(sc, {.mode = mode});
        const auto pg = dg.project<14>(sg, {.mode = mode});
        check_close(std::vector<float>(pg.data(), pg.data() + pg.size()), std::vector<float>(pc.data(), pc.data() + pc.size()),
                    "pool5 projection");
    }
}

TEST_CASE("training steps with dropout on the GPU follow the CPU's") {
    using Small = ZFNet28<>;
    Model<Small, cpu> c;
    Model<Small, gpu> g;
    init_kaiming(c, 3);
    init_kaiming(g, 3);
    c.seed(9);
    g.seed(9);
    c.train();
    g.train();
    SGD oc(c, {.lr = 0.01, .momentum = 0.9, .weight_decay = 5e-4}, {.radius = 0.5});
    SGD og(g, {.lr = 0.01, .momentum = 0.9, .weight_decay = 5e-4}, {.radius = 0.5});
    Tensor<Small::input_shape> x(8);
    std::vector<std::int64_t> labels(8);
    for (int step = 0; step < 3; ++step) {
        const auto v = random_values(x.size());
        std::copy(v.begin(), v.end(), x.data());
        for (auto& l : labels) l = std::int64_t(rng()() % 10);
        Tensor<Small::output_shape> gc(8), gg(8);
        const float loss_c = cross_entropy<10, float>(c.forward(x), labels, gc);
        const float loss_g = cross_entropy<10, float>(g.forward(x), labels, gg);
        CHECK(std::abs(loss_g - loss_c) <= 1e-4 * std::abs(loss_c));
        c.zero_grad();
        g.zero_grad();
        c.backward(gc);
        g.backward(gg);
        oc.step();
        og.step();
        CHECK(og.last_renormalised() == oc.last_renormalised());
    }
    const auto lc = c.parameter_list(), lg = g.parameter_list();
    for (std::size_t i = 0; i < lc.size(); ++i)
        check_close(std::vector<float>(lg[i].values.begin(), lg[i].values.end()),
                    std::vector<float>(lc[i].values.begin(), lc[i].values.end()), "after 3 steps: " + lc[i].name);
    check_close(og.momentum_to_host(), oc.momentum_to_host(), "momentum after 3 steps");
}

TEST_CASE("the trainer runs unchanged on the GPU: two epochs, evaluation at a larger batch, resume") {
    using Small = ZFNet28<>;
    // Random 28×28 pictures, labels 0..9 in turn; evaluation at batch 500 grows every buffer after
    // the training batches of 16.
    auto pictures = [](int count, unsigned seed) {
        image_set s;
        s.count = count;
        s.height = s.width = 28;
        std::mt19937 r(seed);
        s.pixels.resize(std::size_t(count) * 784);
        for (auto& p : s.pixels) p = std::uint8_t(r() % 256);
        for (int i = 0; i < count; ++i) s.labels.push_back(i % 10);
        return s;
    };
    const image_set train_set = pictures(96, 1), test_set = pictures(40, 2);
    const std::string root = "test_gpu_trainer";
    std::filesystem::remove_all(root);
    train_options o;
    o.epochs = 2;
    o.batch = 16;
    o.progress = false;
    Model<Small, cpu> c;
    Model<Small, gpu> g;
    init_kaiming(c, 7);
    init_kaiming(g, 7);
    o.out = root + "/cpu";
    const auto rc = train(c, train_set, test_set, o);
    o.out = root + "/gpu";
    const auto rg = train(g, train_set, test_set, o);
    // Twelve steps compound the two policies' rounding differences, and a rounding difference can
    // flip a pool switch or a ReLU: trajectories drift apart. Measured on an H200: epoch losses
    // within 1e-4 (train) and 4.6e-4 (test), parameters within 1.6e-3 (weights) and 3.2e-2 (small
    // biases) of each tensor's largest value. So the check is on the losses and on all parameters
    // together (largest difference over largest value), with room above what was seen.
    REQUIRE(rg.size() == 2);
    for (std::size_t e = 0; e < 2; ++e) {
        CHECK(std::abs(rg[e].train_loss - rc[e].train_loss) <= 1e-3 * std::abs(rc[e].train_loss));
        CHECK(std::abs(rg[e].test_loss - rc[e].test_loss) <= 1e-2 * std::abs(rc[e].test_loss));
    }
    std::vector<float> all_c, all_g;
    for (const auto& p : c.parameter_list()) all_c.insert(all_c.end(), p.values.begin(), p.values.end());
    for (const auto& p : g.parameter_list()) all_g.insert(all_g.end(), p.values.begin(), p.values.end());
    check_close(all_g, all_c, "trainer, 12 steps, all parameters", 1e-2);
    // Resuming on the GPU from its own checkpoint continues to epoch 3.
    o.epochs = 3;
    o.resume = true;
    Model<Small, gpu> again;
    const auto more = train(again, train_set, test_set, o);
    CHECK(more.size() == 3);
    std::filesystem::remove_all(root);
}

TEST_CASE("an analysis runs unchanged on the GPU: occlusion of a ZFNet28 picture") {
    using Small = ZFNet28<>;
    Model<Small, cpu> c;
    Model<Small, gpu> g;
    init_kaiming(c, 5);
    init_kaiming(g, 5);
    const auto picture = random_values(Small::input_shape::size);
    const occlusion_options o{.size = 6, .stride = 3, .batch = 16};
    const occlusion_result rc = occlusion(c, picture.data(), 3, o);
    const occlusion_result rg = occlusion(g, picture.data(), 3, o);
    CHECK(rg.channel == rc.channel);
    CHECK(rg.label == rc.label);
    check_close(rg.activation, rc.activation, "occlusion activation");
    check_close(rg.probability, rc.probability, "occlusion probability");
    check_close(rg.projection, rc.projection, "occlusion projection");
}

TEST_CASE("the attribution suite runs unchanged on the GPU: every method and the metrics on ZFNet28") {
    using Small = ZFNet28<>;
    Model<Small, cpu> c;
    Model<Small, gpu> g;
    init_kaiming(c, 6);
    init_kaiming(g, 6);
    const auto x = random_values(3 * Small::input_shape::size);
    Attributor ac(c);
    Attributor ag(g);
    for (const auto name : attribution_method_names) {
        CAPTURE(name);
        attribution_options o;
        o.method = parse_attribution_method(name);
        o.steps = 8;
        o.samples = 3;
        o.batch = 4;  // batches that straddle the pictures' steps and samples
        const attribution_map mc = ac.attribute(x.data(), 3, {}, o), mg = ag.attribute(x.data(), 3, {}, o);
        CHECK(mg.target == mc.target);
        // ReLUs near 0 may flip between the two policies' rounding on the integrated-gradient path
        // (tests/test_attribution.cpp says why): a looser bound for the path and noise methods.
        const bool path = o.method == attribution_method::integrated_gradients || o.method == attribution_method::smoothgrad ||
                          o.method == attribution_method::vargrad;
        check_close(mg.values, mc.values, std::string(name), path ? 1e-2 : 1e-4);
    }
    const attribution_map cam = ac.attribute(x.data(), 3, {}, {});
    const deletion_result dc = ac.deletion_curve(x.data(), cam, {.steps = 8}), dg = ag.deletion_curve(x.data(), cam, {.steps = 8});
    check_close(dg.score, dc.score, "deletion curve");
    const sanity_result sc = ac.randomisation_check(x.data(), 3, {}, {}), sg = ag.randomisation_check(x.data(), 3, {}, {});
    check_close(sg.spearman, sc.spearman, "randomisation Spearman", 1e-2);
    const auto wc = c.parameter_list(), wg = g.parameter_list();
    check_close(test::host_copy(wg[0].values), test::host_copy(wc[0].values), "the trained weights restored");
}

TEST_CASE("feature visualisation runs unchanged on the GPU: ZFNet28's conv5, pixel and Fourier") {
    using Small = ZFNet28<>;
    Model<Small, cpu> c;
    Model<Small, gpu> g;
    init_kaiming(c, 7);
    init_kaiming(g, 7);
    runtime_view vc(c);
    runtime_view vg(g);
    const int conv5 = vc.find("conv5");
    for (const auto param : {image_parametrisation::pixel, image_parametrisation::fourier}) {
        CAPTURE(parametrisation_name(param));
        feature_vis_options o;
        o.steps = 3;
        o.parametrisation = param;
        o.batch = 2;
        const auto rc = visualise_features(vc, conv5, channel_objectives({0, 7, 9}), {}, o);
        const auto rg = visualise_features(vg, conv5, channel_objectives({0, 7, 9}), {}, o);
        // Adam's first steps are sign-like: a gradient within rounding of 0 may step either way.
        check_close(rg.curve, rc.curve, "objective per step", 1e-3);
        check_close(rg.values, rc.values, "final objective", 1e-2);
    }
}

TEST_CASE("the first pass of top_images over two layers at once on the GPU matches the CPU") {
    using Small = ZFNet28<>;
    Model<Small, cpu> c;
    Model<Small, gpu> g;
    init_kaiming(c, 8);
    init_kaiming(g, 8);
    image_set set;
    set.count = 20;
    set.channels = 1;
    set.height = set.width = 28;
    const auto v = random_values(std::size_t(20) * 784);
    for (const float x : v) set.pixels.push_back(std::uint8_t(std::clamp(128 + 100 * x, 0.f, 255.f)));
    const picture_set pictures = picture_set::from(set, "random");
    runtime_view vc(c);
    runtime_view vg(g);
    const std::vector<int> layers{vc.find("conv2"), vc.find("conv5")};
    const auto tc = stream_top_activations(vc, layers, {{0, 3}, {5}}, 4, pictures, {}, 7);
    const auto tg = stream_top_activations(vg, layers, {{0, 3}, {5}}, 4, pictures, {}, 7);
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const auto ec = tc[l].entries(), eg = tg[l].entries();
        REQUIRE(eg.size() == ec.size());
        for (std::size_t i = 0; i < ec.size(); ++i) {
            CHECK(eg[i].image == ec[i].image);
            CHECK(eg[i].value == doctest::Approx(ec[i].value).epsilon(1e-4));
        }
    }
}

namespace {
// Every layer of torchvision's networks (issue 18) in one small stack: BatchNorm2d, average
// pooling, a residual block with a projection shortcut, adaptive and global average pooling.
using Blocks = Sequential<Input<3, 12, 12>,
    Named<"conv1", Conv2d<3, 8, 3, 1, 1, no_bias>>, Named<"bn1", BatchNorm2d<8>>, Named<"relu", ReLU>,
    Named<"pool", AvgPool2d<3, 2, 1>>,                                                     // 8×6×6
    Named<"layer1", Residual<Body<Named<"conv1", Conv2d<8, 16, 3, 2, 1, no_bias>>, Named<"bn1", BatchNorm2d<16>>,
                                  Named<"relu", ReLU>, Named<"conv2", Conv2d<16, 16, 3, 1, 1, no_bias>>,
                                  Named<"bn2", BatchNorm2d<16>>>,
                             Shortcut<Named<"downsample.0", Conv2d<8, 16, 1, 2, 0, no_bias>>,
                                      Named<"downsample.1", BatchNorm2d<16>>>,
                             ReLU>>,                                                       // 16×3×3
    Named<"adapt", AdaptiveAvgPool2d<2, 2>>, Named<"gap", GlobalAvgPool>, Flatten, Named<"fc", Linear<16, 5>>>;

}  // namespace

TEST_CASE("BatchNorm2d, average pooling and a residual block on the GPU match the CPU") {
    Model<Blocks, cpu> c;
    Model<Blocks, gpu> g;
    // The zoo fixtures' formula: γ, β and the running statistics away from 1 and 0, the same on both.
    test::fill_formula(c, 3);
    test::fill_formula(g, 3);
    Tensor<Blocks::input_shape> x(3);
    const auto v = random_values(x.size(), -2, 2);
    std::copy(v.begin(), v.end(), x.data());
    Tensor<Blocks::output_shape> gy(3);
    const auto gv = random_values(gy.size());
    std::copy(gv.begin(), gv.end(), gy.data());

    for (const bool training : {false, true}) {
        CAPTURE(training);
        c.train(training);
        g.train(training);
        check_close(test::host_copy(g.forward(x)), test::host_copy(c.forward(x)), "blocks logits");
        check_close(test::host_copy(g.output<"layer1">()), test::host_copy(c.output<"layer1">()), "blocks layer1");
        c.zero_grad();
        g.zero_grad();
        c.backward(gy, true);
        g.backward(gy, true);
        check_close(test::host_copy(g.input_gradient()), test::host_copy(c.input_gradient()), "blocks d loss / d input");
        const auto lc = c.parameter_list(), lg = g.parameter_list();
        for (std::size_t i = 0; i < lc.size(); ++i) {
            // The running statistics after a training forward.
            check_close(std::vector<float>(lg[i].values.begin(), lg[i].values.end()),
                        std::vector<float>(lc[i].values.begin(), lc[i].values.end()), "blocks parameter " + lc[i].name);
            if (!lc[i].is_buffer)
                check_close(std::vector<float>(lg[i].gradient.begin(), lg[i].gradient.end()),
                            std::vector<float>(lc[i].gradient.begin(), lc[i].gradient.end()), "blocks gradient of " + lc[i].name);
        }
    }
    c.eval();
    g.eval();
    c.forward(x);
    g.forward(x);
    Deconvnet dc(c);
    Deconvnet dg(g);
    constexpr int block = Blocks::index_of("layer1");
    for (rectify_mode mode : {rectify_mode::deconvnet, rectify_mode::guided, rectify_mode::gradient}) {
        CAPTURE(int(mode));
        const auto pc2 = dc.project<block>(dc.select_strongest<block>(7), {.mode = mode});
        const auto pg2 = dg.project<block>(dg.select_strongest<block>(7), {.mode = mode});
        check_close(test::host_copy(pg2), test::host_copy(pc2), "blocks layer1 projection");
    }
}

int main(int argc, char** argv) {
    doctest::Context context;
    context.applyCommandLine(argc, argv);
    if (gpu_device_count() == 0) {
        context.addFilter("test-case", "no device*");
        const int failed = context.run();
        if (failed || context.shouldExit()) return failed;
        std::puts("test_gpu: no CUDA device here, so the GPU tests are skipped (exit 77)");
        return 77;
    }
    context.addFilter("test-case-exclude", "no device*");
    const int failed = context.run();
    std::printf("worst relative error, GPU against CPU:\n");
    for (const auto& [what, err] : worst()) std::printf("  %-40s %.2e\n", what.c_str(), err);
    return failed;
}
