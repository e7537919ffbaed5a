#pragma once
// Run-time descriptions of each op's geometry. Layers fill them from their compile-time shapes;
// backends read them. Plain ints: a backend is free to copy them into device descriptors.
#include "host_device.hpp"

namespace convis {

struct conv2d_desc {
    int batch;
    int in_c, in_h, in_w;
    int out_c, out_h, out_w;
    int kernel, stride, pad;
};

struct pool2d_desc {
    int batch;
    int channels, in_h, in_w;
    int out_h, out_w;
    int kernel, stride, pad;
};

struct lrn_desc {
    int batch;
    int channels, plane;  ///< plane = H * W
    int size;
    double alpha, beta, k;
};

/// How a projection passes down through a ReLU (Zeiler & Fergus's deconvnet; guided
/// backpropagation; the plain gradient, i.e. saliency).
enum class rectify_mode { deconvnet, guided, gradient };

/// The signal g passing down through a ReLU whose forward output was y: deconvnet relu(g); guided
/// relu(g)·[y > 0]; gradient g·[y > 0]. Every policy's rectify op applies this.
template <class T>
CONVIS_HOST_DEVICE inline T rectified(rectify_mode mode, T y, T g) {
    switch (mode) {
        case rectify_mode::deconvnet: return g > T(0) ? g : T(0);
        case rectify_mode::guided: return (g > T(0) && y > T(0)) ? g : T(0);
        default: return y > T(0) ? g : T(0);
    }
}

/// A box in every channel of one channels × height × width picture (the occluder, the masks of
/// the correspondence analysis). The box lies inside the picture: callers check.
struct box_desc {
    int channels, height, width;
    int y, x, box_height, box_width;
};

struct linear_desc {
    int batch;
    int in, out;
};

/// Average pooling, fixed (AvgPool2d) or adaptive (AdaptiveAvgPool2d, GlobalAvgPool). Every
/// policy finds an output's window and divisor with `avgpool_window`.
struct avgpool_desc {
    int batch;
    int channels, in_h, in_w;
    int out_h, out_w;
    int kernel, stride, pad;   ///< unused when adaptive
    bool adaptive;
    bool count_include_pad;    ///< PyTorch's default (true): padded cells count in the divisor
};

/// One output's window along one axis: [begin, end) in the input, and the divisor's share.
struct pool_window {
    int begin, end, count;
};

/// PyTorch's rules. Adaptive: bin i of `out` covers [floor(i·n/out), ceil((i+1)·n/out)).
/// Fixed: [i·stride − pad, min(that + kernel, n + pad)), clipped to the input; the divisor counts
/// the padded cells too when count_include_pad.
CONVIS_HOST_DEVICE inline pool_window avgpool_window(const avgpool_desc& d, int i, int n, int out) {
    if (d.adaptive) {
        const int b = int((long long)(i) * n / out);
        const int e = int(((long long)(i + 1) * n + out - 1) / out);
        return {b, e, e - b};
    }
    int b = i * d.stride - d.pad;
    int e = b + d.kernel < n + d.pad ? b + d.kernel : n + d.pad;
    const int padded = e - b;
    b = b > 0 ? b : 0;
    e = e < n ? e : n;
    return {b, e, d.count_include_pad ? padded : e - b};
}

/// Batch normalisation over the batch and each channel's plane (nn.BatchNorm2d).
struct batchnorm_desc {
    int batch;
    int channels, plane;  ///< plane = H * W
    double eps, momentum;
};

}  // namespace convis
