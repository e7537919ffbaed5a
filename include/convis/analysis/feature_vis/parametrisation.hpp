#pragma once
// The picture a feature visualisation optimises, as a function of free parameters (Mordvintsev et
// al., "Differentiable Image Parameterizations", Distill 2018; lucid and lucent):
//
//   pixel     y = p                                                    p: C × H × W
//   fourier   y = irfft2(s ⊙ p, norm "ortho") / 4                       p: C × H × (W/2 + 1) × 2
//             s(f) = 1 / max(|f|, 1 / max(H, W))^decay, |f| the bin's frequency in cycles per
//             pixel (numpy's fftfreq): every frequency starts with energy ∝ 1/f, as in photographs
//   then      u = sigmoid(D · y) ∈ (0, 1), per pixel over channels
//
// D is lucid's colour decorrelation (the square root of ImageNet's colour covariance, its largest
// column scaled to norm 1) for 3-channel pictures when asked; the identity otherwise. The
// parameters start as N(0, sd²), from counter_random: a grey picture with faint noise.
//
// The 2-D inverse FFT is real matrix products per channel (the DFT matrices are built once): its
// gradient is the transposed products, exactly the adjoint PyTorch's autograd gives. At 28² that
// is nothing; at 224² it is about an eighth of a ZFNet step (bench/RESULTS.md, issue 20), where an
// FFT and its adjoint would cost a fraction of it.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "../../core/counter_random.hpp"
#include "../../core/error.hpp"

namespace convis {

enum class image_parametrisation { pixel, fourier };

/// "pixel" or "fourier"; a convis::error naming both otherwise.
inline image_parametrisation parse_parametrisation(std::string_view name);
inline std::string_view parametrisation_name(image_parametrisation p);

template <class T>
class picture_parametrisation {
public:
    picture_parametrisation(image_parametrisation kind, int channels, int height, int width, bool decorrelate = true,
                            double decay_power = 1);

    /// Parameters per picture.
    std::size_t size() const { return size_; }
    std::size_t picture_size() const { return std::size_t(c_) * h_ * w_; }
    bool decorrelated() const { return decorrelate_; }

    /// Element i of p is sd · counter_random::normal(stream, i).
    void init(T* p, std::uint64_t stream, double sd) const;
    /// The picture u (C × H × W, in (0, 1)) of parameters p.
    void render(const T* p, T* u) const;
    /// The gradient with respect to p (written) of a loss whose gradient with respect to the picture
    /// u = render(p) is grad_u.
    void backward(const T* u, const T* grad_u, T* grad_p) const;

private:
    using matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

    void colour(T* y, bool transpose) const;

    image_parametrisation kind_;
    int c_, h_, w_, wf_ = 0;
    bool decorrelate_;
    std::size_t size_;
    matrix fc_, fs_, cm_, sm_, scale_;  // fourier: the H-axis DFT (cos, sin), the W-axis half-spectrum synthesis, s
};

// ---- details ------------------------------------------------------------------------------------

inline image_parametrisation parse_parametrisation(std::string_view name) {
    if (name == "pixel") return image_parametrisation::pixel;
    if (name == "fourier") return image_parametrisation::fourier;
    throw error("unknown parametrisation '" + std::string(name) + "'; expected pixel or fourier");
}

inline std::string_view parametrisation_name(image_parametrisation p) {
    return p == image_parametrisation::pixel ? "pixel" : "fourier";
}

namespace parametrisation_detail {
/// lucid's color_correlation_svd_sqrt, rows the output channels.
inline constexpr double colour_sqrt[3][3] = {{0.26, 0.09, 0.02}, {0.27, 0.00, -0.05}, {0.27, -0.09, 0.03}};
inline double colour(int r, int c) {
    double largest = 0;
    for (int j = 0; j < 3; ++j)
        largest = std::max(largest, std::sqrt(colour_sqrt[0][j] * colour_sqrt[0][j] + colour_sqrt[1][j] * colour_sqrt[1][j] +
                                              colour_sqrt[2][j] * colour_sqrt[2][j]));
    return colour_sqrt[r][c] / largest;
}
/// numpy.fft.fftfreq(n)[k]: k/n for k < (n+1)/2, (k − n)/n after.
inline double frequency(int k, int n) { return (k < (n + 1) / 2 ? k : k - n) / double(n); }
constexpr double two_pi = 6.283185307179586476925;
}  // namespace parametrisation_detail

template <class T>
picture_parametrisation<T>::picture_parametrisation(image_parametrisation kind, int channels, int height, int width,
                                                     bool decorrelate, double decay_power)
    : kind_(kind), c_(channels), h_(height), w_(width), decorrelate_(decorrelate && channels == 3) {
    if (channels < 1 || height < 1 || width < 1)
        throw error("picture_parametrisation: expected a positive picture size, got " + std::to_string(channels) + "×" +
                    std::to_string(height) + "×" + std::to_string(width));
    if (!std::isfinite(decay_power) || decay_power < 0)
        throw error("picture_parametrisation: the spectrum's decay power must be ≥ 0, got " + std::to_string(decay_power));
    if (kind == image_parametrisation::pixel) {
        size_ = picture_size();
        return;
    }
    using namespace parametrisation_detail;
    wf_ = w_ / 2 + 1;
    size_ = std::size_t(c_) * h_ * wf_ * 2;
    fc_.resize(h_, h_);
    fs_.resize(h_, h_);
    for (int y = 0; y < h_; ++y)
        for (int k = 0; k < h_; ++k) {
            // The angle reduced mod H first keeps it exact for large products.
            const double a = two_pi * double((std::int64_t(k) * y) % h_) / h_;
            fc_(y, k) = T(std::cos(a));
            fs_(y, k) = T(std::sin(a));
        }
    // c2r: bin 0 (and W/2 for even W) once, real part only; the others twice (Hermitian pairs).
    const double norm = 1.0 / (std::sqrt(double(h_) * w_) * 4.0);
    cm_.resize(wf_, w_);
    sm_.resize(wf_, w_);
    for (int k = 0; k < wf_; ++k) {
        const double weight = (k == 0 || 2 * k == w_) ? 1.0 : 2.0;
        for (int n = 0; n < w_; ++n) {
            const double a = two_pi * double((std::int64_t(k) * n) % w_) / w_;
            cm_(k, n) = T(weight * std::cos(a) * norm);
            sm_(k, n) = (k == 0 || 2 * k == w_) ? T(0) : T(-weight * std::sin(a) * norm);
        }
    }
    scale_.resize(h_, wf_);
    const double floor_f = 1.0 / std::max(h_, w_);
    for (int y = 0; y < h_; ++y)
        for (int k = 0; k < wf_; ++k) {
            const double fy = frequency(y, h_), fx = double(k) / w_;
            scale_(y, k) = T(1.0 / std::pow(std::max(std::sqrt(fx * fx + fy * fy), floor_f), decay_power));
        }
}

template <class T>
void picture_parametrisation<T>::init(T* p, std::uint64_t stream, double sd) const {
    for (std::size_t i = 0; i < size_; ++i) p[i] = T(sd * counter_random::normal(stream, i));
}

template <class T>
void picture_parametrisation<T>::colour(T* y, bool transpose) const {
    if (!decorrelate_) return;
    const std::size_t plane = std::size_t(h_) * w_;
    double d[3][3];
    for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c) d[r][c] = transpose ? parametrisation_detail::colour(c, r) : parametrisation_detail::colour(r, c);
    for (std::size_t i = 0; i < plane; ++i) {
        const double a = double(y[i]), b = double(y[plane + i]), c = double(y[2 * plane + i]);
        for (int r = 0; r < 3; ++r) y[std::size_t(r) * plane + i] = T(d[r][0] * a + d[r][1] * b + d[r][2] * c);
    }
}

template <class T>
void picture_parametrisation<T>::render(const T* p, T* u) const {
    const std::size_t plane = std::size_t(h_) * w_, n = picture_size();
    if (kind_ == image_parametrisation::pixel) {
        std::copy(p, p + n, u);
    } else {
        matrix re(h_, wf_), im(h_, wf_);
        for (int c = 0; c < c_; ++c) {
            const T* q = p + std::size_t(c) * h_ * wf_ * 2;
            for (int y = 0; y < h_; ++y)
                for (int k = 0; k < wf_; ++k) {
                    re(y, k) = scale_(y, k) * q[(std::size_t(y) * wf_ + k) * 2];
                    im(y, k) = scale_(y, k) * q[(std::size_t(y) * wf_ + k) * 2 + 1];
                }
            const matrix zr = fc_ * re - fs_ * im, zi = fs_ * re + fc_ * im;
            Eigen::Map<matrix>(u + std::size_t(c) * plane, h_, w_).noalias() = zr * cm_ + zi * sm_;
        }
    }
    colour(u, false);
    for (std::size_t i = 0; i < n; ++i) u[i] = T(1) / (T(1) + std::exp(-u[i]));
}

template <class T>
void picture_parametrisation<T>::backward(const T* u, const T* grad_u, T* grad_p) const {
    const std::size_t plane = std::size_t(h_) * w_, n = picture_size();
    std::vector<T> g(n);
    for (std::size_t i = 0; i < n; ++i) g[i] = grad_u[i] * u[i] * (T(1) - u[i]);
    colour(g.data(), true);
    if (kind_ == image_parametrisation::pixel) {
        std::copy(g.begin(), g.end(), grad_p);
        return;
    }
    for (int c = 0; c < c_; ++c) {
        const Eigen::Map<const matrix> go(g.data() + std::size_t(c) * plane, h_, w_);
        const matrix gzr = go * cm_.transpose(), gzi = go * sm_.transpose();
        const matrix gre = fc_.transpose() * gzr + fs_.transpose() * gzi;
        const matrix gim = fc_.transpose() * gzi - fs_.transpose() * gzr;
        T* q = grad_p + std::size_t(c) * h_ * wf_ * 2;
        for (int y = 0; y < h_; ++y)
            for (int k = 0; k < wf_; ++k) {
                q[(std::size_t(y) * wf_ + k) * 2] = scale_(y, k) * gre(y, k);
                q[(std::size_t(y) * wf_ + k) * 2 + 1] = scale_(y, k) * gim(y, k);
            }
    }
}

}  // namespace convis
