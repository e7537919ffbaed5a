// The build-cost probe (bench/build_cost.sh): one translation unit that instantiates ZFNet's
// forward, backward and deconvnet (every layer's projection) on the CPU policy — what a program
// using ZFNet compiles. Not linked into anything.
#include <convis/convis.hpp>

namespace convis {
template class Model<ZFNet<1000>>;
template class Deconvnet<Model<ZFNet<1000>>>;
}  // namespace convis

/// Every member a program calls, so that their bodies are compiled here.
float zfnet_step(convis::Model<convis::ZFNet<1000>>& m, const convis::Tensor<convis::ZFNet<1000>::input_shape>& x,
                 const std::vector<std::int64_t>& labels) {
    convis::Tensor<convis::ZFNet<1000>::output_shape> grad(x.batch());
    m.train();
    m.zero_grad();
    const float loss = convis::cross_entropy<1000, float>(m.forward(x), labels, grad);
    m.backward(grad, true);
    m.eval();
    m.forward(x);
    convis::Deconvnet<convis::Model<convis::ZFNet<1000>>> deconv(m);
    for (const auto& row : convis::ZFNet<1000>::layer_table()) {
        std::size_t size = std::size_t(x.batch());
        for (const auto extent : row.output) size *= std::size_t(extent);
        const std::vector<float> signal(size, 1.f);
        deconv.project(row.index, signal.data());
    }
    return loss;
}
