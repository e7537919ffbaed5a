#pragma once
// The attribution suite's vocabulary: which method, its options, and the map it returns.
//
// An attribution map says how much each input pixel matters to one class's score. The methods
// (attribute.hpp dispatches; cam.hpp and gradients.hpp compute):
//
//   name                  output      definition (y_c: the target class's logit; A, G: layer L's
//                                     output and dy_c/dA; up: bilinear to the input size)
//   gradcam               [N,H,W]     up(relu(Σ_k mean_ij(G_k) A_k))                  Selvaraju et al. 2017
//   guided-gradcam        [N,C,H,W]   guided-backprop · gradcam
//   gradcam++             [N,H,W]     up(relu(Σ_k w_k A_k)), w_k = Σ_ij relu(G) α,
//                                     α = G² / (2G² + Σ_ij A_k · G³)                  Chattopadhay et al. 2018
//   layercam              [N,H,W]     up(relu(Σ_k relu(G_k) ⊙ A_k))                    Jiang et al. 2021
//   scorecam              [N,H,W]     up(relu(Σ_k softmax(f(x ⊙ M_k))_c A_k)),
//                                     M_k = up(A_k) scaled to [0, 1]                  Wang et al. 2020
//   saliency              [N,C,H,W]   |dy_c/dx|                                       Simonyan et al. 2014
//   input-x-gradient      [N,C,H,W]   x ⊙ dy_c/dx
//   integrated-gradients  [N,C,H,W]   (x − x') ⊙ (1/m) Σ_{k=1..m} dy_c/dx at x' + k/m (x − x')
//                                     (the Riemann right sum)                         Sundararajan et al. 2017
//   smoothgrad            as base     mean over samples of base(x + ε)                Smilkov et al. 2017
//   vargrad               as base     variance over samples of base(x + ε)            Adebayo et al. 2018
//   deconvnet             [N,C,H,W]   one-hot(c) at the logits projected by the paper's deconvnet
//   guided-backprop       [N,C,H,W]   the same through guided backpropagation       Springenberg et al. 2015
//   random                [N,H,W]     uniform [0, 1) noise: the floor a faithful map must beat
//
// The gradients are the deconvnet's own passes (net/deconvnet.hpp) in gradient mode, from the
// trace of one forward: no parameter gradient is computed. Every method is batched: integrated
// gradients' steps, Score-CAM's masked copies and SmoothGrad's noisy copies run through the
// network in batches sized so that the model and its working buffers stay under
// attribution_options::memory_limit.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../../core/error.hpp"

namespace convis {

enum class attribution_method {
    gradcam,
    guided_gradcam,
    gradcam_pp,
    layercam,
    scorecam,
    saliency,
    input_x_gradient,
    integrated_gradients,
    smoothgrad,
    vargrad,
    deconvnet,
    guided_backprop,
    random
};

/// The command line's names, in the enum's order.
inline constexpr std::string_view attribution_method_names[] = {
    "gradcam",  "guided-gradcam",       "gradcam++",  "layercam", "scorecam",  "saliency",        "input-x-gradient",
    "integrated-gradients", "smoothgrad", "vargrad", "deconvnet", "guided-backprop", "random"};

/// "gradcam", "gradcam++", …; a convis::error listing the names otherwise.
inline attribution_method parse_attribution_method(std::string_view name);
inline std::string_view attribution_name(attribution_method m) { return attribution_method_names[int(m)]; }

/// Whether a method reads a layer (the class-activation-map family).
inline bool reads_layer(attribution_method m) {
    return m == attribution_method::gradcam || m == attribution_method::guided_gradcam ||
           m == attribution_method::gradcam_pp || m == attribution_method::layercam || m == attribution_method::scorecam;
}

struct attribution_options {
    attribution_method method = attribution_method::gradcam;
    /// The CAM family's layer; -1: the last conv block (ZFNet: relu5, analysis/layer_choice.hpp).
    int layer = -1;
    /// Integrated gradients: steps of the Riemann right sum.
    int steps = 64;
    /// Integrated gradients: the baseline x', a constant in input space (0: the mean picture).
    float baseline = 0;
    /// SmoothGrad and VarGrad: the method averaged over noisy copies (any other method).
    attribution_method base = attribution_method::saliency;
    /// SmoothGrad and VarGrad: noisy copies per image.
    int samples = 16;
    /// SmoothGrad and VarGrad: the noise's standard deviation as a fraction of the image's value
    /// range (max − min). Smilkov et al. found 10–20% best.
    float noise = 0.15f;
    /// Seeds the noise (and the random map): the same seed gives the same map on every policy.
    std::uint64_t seed = 0;
    /// Bytes the model's parameters and the working buffers of a batch may take together: the
    /// batch of copies (integrated-gradient steps, masked or noisy copies) is the largest that fits.
    std::size_t memory_limit = std::size_t(1) << 30;
    /// Copies per pass; 0: the largest batch that memory_limit allows (at most 64).
    int batch = 0;
};

/// An attribution map for `count` images: values[b] is [channels, height, width]; channels is 1 for
/// the per-pixel methods (the map is then [N,H,W]).
struct attribution_map {
    attribution_method method = attribution_method::gradcam;
    int layer = -1;  ///< the layer a CAM method read; -1 for the others
    int count = 0, channels = 1, height = 0, width = 0;
    std::vector<int> target;    ///< the class each image's map explains
    std::vector<float> values;  ///< count × channels × height × width

    std::size_t sample_size() const { return std::size_t(channels) * std::size_t(height) * std::size_t(width); }
    const float* sample(int b) const { return values.data() + std::size_t(b) * sample_size(); }
    float* sample(int b) { return values.data() + std::size_t(b) * sample_size(); }
    bool pixel_map = false;  ///< one value per pixel: [N,H,W] (channels is then 1)

    /// [N,H,W] for a per-pixel map, [N,C,H,W] otherwise (the safetensors tensor `attribution`).
    std::vector<std::int64_t> shape() const {
        if (pixel_map) return {count, height, width};
        return {count, channels, height, width};
    }
};

// ---- details ------------------------------------------------------------------------------------

inline attribution_method parse_attribution_method(std::string_view name) {
    for (std::size_t i = 0; i < std::size(attribution_method_names); ++i)
        if (attribution_method_names[i] == name) return attribution_method(i);
    std::string all;
    for (const auto n : attribution_method_names) all += (all.empty() ? "" : ", ") + std::string(n);
    throw error("attribution method '" + std::string(name) + "': expected one of " + all);
}

}  // namespace convis
