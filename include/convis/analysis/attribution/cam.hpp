#pragma once
// The class-activation-map family: Grad-CAM, Grad-CAM++, LayerCAM, Score-CAM, and Guided
// Grad-CAM. Each weighs layer L's feature maps A (o.layer; default the last conv block, ZFNet's
// relu5) by how much the target class's logit y_c depends on them, keeps the positive part, and
// upsamples bilinearly to the input (method.hpp has every formula).
//
//     const auto cam = convis::grad_cam(model, x.data(), 16, {}, {});  // predicted classes, relu5
//     // cam.values: 16 × 224 × 224, cam.layer: the layer read
//
// One forward and one projection from the logits down to L serve a batch; Score-CAM instead runs
// each image's K masked copies forward (no gradient), in batches that fit o.memory_limit.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "../../core/error.hpp"
#include "gradients.hpp"
#include "maps.hpp"
#include "method.hpp"

namespace convis {

/// Grad-CAM (Selvaraju et al. 2017): up(relu(Σ_k mean(G_k) A_k)), [N,H,W].
template <class M>
attribution_map grad_cam(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                         const attribution_options& o = {});
/// Grad-CAM++ (Chattopadhay et al. 2018), in pytorch-grad-cam's closed form, [N,H,W].
template <class M>
attribution_map grad_cam_pp(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                            const attribution_options& o = {});
/// LayerCAM (Jiang et al. 2021): up(relu(Σ_k relu(G_k) ⊙ A_k)), [N,H,W].
template <class M>
attribution_map layer_cam(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                          const attribution_options& o = {});
/// Score-CAM (Wang et al. 2020): the maps weighed by the class probability of x masked by each
/// map (upsampled, scaled to [0, 1]), [N,H,W].
template <class M>
attribution_map score_cam(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                          const attribution_options& o = {});
/// Guided Grad-CAM: guided backpropagation times the Grad-CAM map, [N,C,H,W].
template <class M>
attribution_map guided_grad_cam(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                                const attribution_options& o = {});

// ---- details ------------------------------------------------------------------------------------

namespace attribution_detail {

/// Layer L's geometry, checked: a CAM needs feature maps (C × H × W) below the logits.
struct cam_layer {
    int index, maps, height, width;
    std::size_t plane() const { return std::size_t(height) * std::size_t(width); }
    std::size_t size() const { return std::size_t(maps) * plane(); }
};

template <class E>
cam_layer choose_cam_layer(const E& e, int layer) {
    const auto& table = e.table();
    const int l = layer >= 0 ? layer : last_conv_block_layer(table);
    if (l >= e.logit_layer())
        throw error("attribution: layer " + std::to_string(l) + " is not below the logits (layer " +
                    std::to_string(e.logit_layer()) + ")");
    const auto& out = table[std::size_t(l)].output;
    if (out.size() != 3)
        throw error("attribution: layer " + table[std::size_t(l)].name + " gives a vector of " + std::to_string(out[0]) +
                    " values; the CAM methods need feature maps (C x H x W)");
    return {l, int(out[0]), int(out[1]), int(out[2])};
}

/// relu(Σ_k w_k A_k) at the layer's resolution, for per-channel weights w.
inline void weighted_sum(const float* a, const double* w, const cam_layer& l, float* cam) {
    const std::size_t plane = l.plane();
    std::vector<double> acc(plane, 0.0);
    for (int k = 0; k < l.maps; ++k)
        if (w[k] != 0)
            for (std::size_t i = 0; i < plane; ++i) acc[i] += w[k] * a[std::size_t(k) * plane + i];
    for (std::size_t i = 0; i < plane; ++i) cam[i] = float(std::max(acc[i], 0.0));
}

/// One image's CAM at the layer's resolution from A and G (gradient methods).
inline void gradient_cam(attribution_method m, const float* a, const float* g, const cam_layer& l, float* cam) {
    const std::size_t plane = l.plane();
    std::vector<double> w(std::size_t(l.maps), 0.0);
    if (m == attribution_method::layercam) {
        std::vector<double> acc(plane, 0.0);
        for (std::size_t i = 0; i < l.size(); ++i) acc[i % plane] += double(std::max(g[i], 0.f)) * a[i];
        for (std::size_t i = 0; i < plane; ++i) cam[i] = float(std::max(acc[i], 0.0));
        return;
    }
    for (int k = 0; k < l.maps; ++k) {
        const float* gk = g + std::size_t(k) * plane;
        const float* ak = a + std::size_t(k) * plane;
        double s = 0;
        if (m == attribution_method::gradcam_pp) {
            double total = 0;
            for (std::size_t i = 0; i < plane; ++i) total += ak[i];
            for (std::size_t i = 0; i < plane; ++i) {
                const double gi = gk[i], g2 = gi * gi, g3 = g2 * gi;
                const double alpha = gi != 0 ? g2 / (2 * g2 + total * g3 + 1e-7) : 0.0;
                s += std::max(gi, 0.0) * alpha;
            }
        } else {
            for (std::size_t i = 0; i < plane; ++i) s += gk[i];
            s /= double(plane);
        }
        w[std::size_t(k)] = s;
    }
    weighted_sum(a, w.data(), l, cam);
}

/// Grad-CAM, Grad-CAM++ and LayerCAM, and (with `guided`) Guided Grad-CAM from the same pass.
template <class E>
attribution_map gradient_cams(E& e, const typename E::T* x, int count, const std::vector<int>& targets,
                              const attribution_options& o) {
    const attribution_method m = o.method == attribution_method::guided_gradcam ? attribution_method::gradcam : o.method;
    const bool guided = o.method == attribution_method::guided_gradcam;
    check_count(count);
    e.use(o);
    const cam_layer l = choose_cam_layer(e, o.layer);
    auto r = input_shaped<E>(guided ? attribution_method::guided_gradcam : m, count, e.targets(targets, x, count), !guided);
    r.layer = l.index;
    std::vector<float> a, g, cam(l.plane()), up(std::size_t(E::height) * E::width);
    E::for_batches(count, e.batch(true), [&](int first, int n) {
        e.forward(x + std::size_t(first) * E::input_size, n);
        const auto* act = e.model().output_data(l.index);
        a.assign(act, act + std::size_t(n) * l.size());
        const auto* grad = e.gradient(r.target.data() + first, n, l.index);
        g.assign(grad, grad + std::size_t(n) * l.size());
        const auto* gb = guided ? e.gradient(r.target.data() + first, n, -1, rectify_mode::guided) : nullptr;
        for (int b = 0; b < n; ++b) {
            gradient_cam(m, a.data() + std::size_t(b) * l.size(), g.data() + std::size_t(b) * l.size(), l, cam.data());
            upsample_bilinear(cam.data(), 1, l.height, l.width, E::height, E::width, up.data());
            float* out = r.sample(first + b);
            if (!guided) {
                std::copy(up.begin(), up.end(), out);
                continue;
            }
            for (int c = 0; c < E::channels; ++c)
                for (std::size_t i = 0; i < up.size(); ++i)
                    out[std::size_t(c) * up.size() + i] =
                        float(gb[std::size_t(b) * E::input_size + std::size_t(c) * up.size() + i]) * up[i];
        }
    });
    return r;
}

}  // namespace attribution_detail

template <class M>
attribution_map grad_cam(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                         const attribution_options& o) {
    return attribution_detail::run_method(model, o, attribution_method::gradcam, [&](auto& e, const auto& oo) {
        return attribution_detail::gradient_cams(e, x, count, targets, oo);
    });
}

template <class M>
attribution_map grad_cam_pp(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                            const attribution_options& o) {
    return attribution_detail::run_method(model, o, attribution_method::gradcam_pp, [&](auto& e, const auto& oo) {
        return attribution_detail::gradient_cams(e, x, count, targets, oo);
    });
}

template <class M>
attribution_map layer_cam(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                          const attribution_options& o) {
    return attribution_detail::run_method(model, o, attribution_method::layercam, [&](auto& e, const auto& oo) {
        return attribution_detail::gradient_cams(e, x, count, targets, oo);
    });
}

template <class M>
attribution_map guided_grad_cam(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                                const attribution_options& o) {
    return attribution_detail::run_method(model, o, attribution_method::guided_gradcam, [&](auto& e, const auto& oo) {
        return attribution_detail::gradient_cams(e, x, count, targets, oo);
    });
}

namespace attribution_detail {
template <class E>
attribution_map score_cam(E& e, const typename E::T* x, int count, const std::vector<int>& targets,
                          const attribution_options& o) {
    using T = typename E::T;
    check_count(count);
    e.use(o);
    const auto l = choose_cam_layer(e, o.layer);
    auto r = input_shaped<E>(attribution_method::scorecam, count, e.targets(targets, x, count), true);
    r.layer = l.index;
    const std::size_t pixels = std::size_t(E::height) * E::width;
    const int batch = e.batch(false), classes = e.classes();
    const bool softmaxed = ends_in_softmax(e.table());
    std::vector<float> a(l.size()), masks(std::size_t(l.maps) * pixels), cam(l.plane());
    T* copies = e.copies(std::size_t(batch) * E::input_size);
    std::vector<T> probs(std::size_t(batch) * classes);
    std::vector<double> w(std::size_t(l.maps));
    for (int b = 0; b < count; ++b) {
        const T* xb = x + std::size_t(b) * E::input_size;
        e.forward(xb, 1);
        const auto* act = e.model().output_data(l.index);
        a.assign(act, act + l.size());
        upsample_bilinear(a.data(), l.maps, l.height, l.width, E::height, E::width, masks.data());
        for (int k = 0; k < l.maps; ++k) scale_to_unit(masks.data() + std::size_t(k) * pixels, pixels);
        const int c = r.target[std::size_t(b)];
        E::for_batches(l.maps, batch, [&](int first, int n) {
            for (int j = 0; j < n; ++j) {
                const float* mk = masks.data() + std::size_t(first + j) * pixels;
                T* p = copies + std::size_t(j) * E::input_size;
                for (int ch = 0; ch < E::channels; ++ch)
                    for (std::size_t i = 0; i < pixels; ++i) p[std::size_t(ch) * pixels + i] = xb[std::size_t(ch) * pixels + i] * mk[i];
            }
            class_probabilities(e.forward(copies, n), n, classes, softmaxed, probs.data());
            for (int j = 0; j < n; ++j) w[std::size_t(first + j)] = double(probs[std::size_t(j) * classes + c]);
        });
        weighted_sum(a.data(), w.data(), l, cam.data());
        upsample_bilinear(cam.data(), 1, l.height, l.width, E::height, E::width, r.sample(b));
    }
    return r;
}
}  // namespace attribution_detail

template <class M>
attribution_map score_cam(M& model, const typename M::value_type* x, int count, const std::vector<int>& targets,
                          const attribution_options& o) {
    return attribution_detail::run_method(model, o, attribution_method::scorecam, [&](auto& e, const auto& oo) {
        return attribution_detail::score_cam(e, x, count, targets, oo);
    });
}

}  // namespace convis
