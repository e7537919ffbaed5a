#pragma once
// Adam (Kingma & Ba, 2015) over one flat array of parameters, step for step as PyTorch's
// torch.optim.Adam (no weight decay, no AMSGrad):
//
//     m ← m + (1 − β₁)(g − m)            v ← β₂ v + (1 − β₂) g²
//     p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
//
// Feature visualisation optimises its input pictures with it (analysis/feature_vis).
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "../core/error.hpp"

namespace convis {

struct adam_options {
    double lr = 1e-3;
    double beta1 = 0.9, beta2 = 0.999;
    double eps = 1e-8;

    /// Throws a convis::error unless lr > 0, 0 ≤ β₁, β₂ < 1 and eps ≥ 0, all finite.
    void check() const;
};

template <class T>
class adam {
public:
    /// An optimiser for `size` parameters, its moments at zero.
    explicit adam(std::size_t size, const adam_options& o = {});

    /// One step that lowers the loss whose gradient is `grad`: updates `params` (size values).
    void step(T* params, const T* grad);
    /// Steps taken.
    int steps() const { return t_; }

private:
    adam_options o_;
    std::vector<T> m_, v_;
    int t_ = 0;
};

// ---- details ------------------------------------------------------------------------------------

inline void adam_options::check() const {
    if (!(lr > 0 && std::isfinite(lr)) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) ||
        !(eps >= 0 && std::isfinite(eps)))
        throw error("adam: expected a finite lr > 0, 0 ≤ beta1, beta2 < 1 and a finite eps ≥ 0; got lr " + std::to_string(lr) +
                    ", betas " + std::to_string(beta1) + ", " + std::to_string(beta2) + ", eps " + std::to_string(eps));
}

template <class T>
adam<T>::adam(std::size_t size, const adam_options& o) : o_(o) {
    o.check();  // before the moments are allocated
    m_.assign(size, T(0));
    v_.assign(size, T(0));
}

template <class T>
void adam<T>::step(T* params, const T* grad) {
    ++t_;
    const T b1 = T(o_.beta1), b2 = T(o_.beta2);
    const T step_size = T(o_.lr / (1 - std::pow(o_.beta1, t_)));
    const T root2 = T(std::sqrt(1 - std::pow(o_.beta2, t_)));
    const T eps = T(o_.eps);
    const std::size_t n = m_.size();
    for (std::size_t i = 0; i < n; ++i) {
        const T g = grad[i];
        m_[i] += (T(1) - b1) * (g - m_[i]);
        v_[i] = v_[i] * b2 + (T(1) - b2) * g * g;
        params[i] -= step_size * m_[i] / (std::sqrt(v_[i]) / root2 + eps);
    }
}

}  // namespace convis
