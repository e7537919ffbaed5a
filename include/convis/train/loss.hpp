#pragma once
// Softmax and the cross-entropy loss over logits (nn.CrossEntropyLoss, mean over the batch).
#include <cmath>
#include <cstdint>
#include <span>
#include <string>

#include "../core/error.hpp"
#include "../core/policy.hpp"
#include "../core/tensor.hpp"

namespace convis {

/// Row-wise softmax of a batch of logits into `prob` (resized to the batch). Logits and
/// probabilities live on the host, so this is the CPU op (backend/cpu, through the umbrella header).
template <int N, class T, class Policy = cpu>
void softmax(TensorView<Features<N>, const T> logits, Tensor<Features<N>, T>& prob) {
    static_assert(Policy::host_memory, "softmax: a Tensor is host memory");
    prob.resize(logits.batch(), logits.sample_size);
    ops<Policy>::softmax_forward(logits.batch(), logits.features(), logits.data(), prob.data());
}

/// Mean cross-entropy of logits against integer labels; writes d loss / d logits into `grad`
/// (resized to the batch): (softmax − onehot) / batch.
template <int Classes, class T>
T cross_entropy(TensorView<Features<Classes>, const T> logits, std::span<const std::int64_t> labels,
                Tensor<Features<Classes>, T>& grad) {
    const int batch = logits.batch();
    const int N = logits.features();  // the class count: a compile-time value, or Features<dynamic>'s
    if (labels.size() != std::size_t(batch))
        throw error("cross_entropy: " + std::to_string(labels.size()) + " labels for a batch of " + std::to_string(batch));
    softmax<Classes, T>(logits, grad);
    double loss = 0;
    for (int r = 0; r < batch; ++r) {
        const std::int64_t y = labels[r];
        if (y < 0 || y >= N)
            throw error("cross_entropy: label " + std::to_string(y) + " of sample " + std::to_string(r) +
                        " is outside [0, " + std::to_string(N) + ")");
        // log softmax computed from the logits, not log(prob), so tiny probabilities stay exact.
        const T* x = logits.sample(r);
        T m = x[0];
        for (int i = 1; i < N; ++i) m = x[i] > m ? x[i] : m;
        double s = 0;
        for (int i = 0; i < N; ++i) s += std::exp(double(x[i] - m));
        loss += std::log(s) + double(m) - double(x[y]);
        T* g = grad.sample(r);
        g[y] -= T(1);
        for (int i = 0; i < N; ++i) g[i] /= T(batch);
    }
    return T(loss / batch);
}

}  // namespace convis
