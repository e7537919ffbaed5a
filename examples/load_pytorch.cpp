// Weights trained in PyTorch, loaded as they are: the widely shared ZFNet's state_dict names
// (features.0.weight ... classifier.6.bias) are its layer names. Export a .pth with
// examples/export_state_dict.py, then: load_pytorch zfnet.safetensors
#include <convis/convis.hpp>
#include <cstdio>
#include <memory>

int main(int argc, char** argv) try {
    if (argc != 2) return std::fprintf(stderr, "usage: load_pytorch WEIGHTS.safetensors\n"), 2;
    using Net = convis::ZFNetPyTorch<1000>;
    auto model = std::make_unique<convis::Model<Net>>();       // 386M parameters: on the heap
    const auto extras = convis::load_weights(*model, argv[1]); // every name, dtype, shape checked
    model->eval();
    convis::Tensor<Net::input_shape> image(1);                // fill with a preprocessed image
    const auto logits = model->forward(image);
    const auto pool5 = model->output<"features.12">();         // any layer's output, by name
    std::printf("%zu logits; pool5 is %d×%d×%d; %zu extra tensors\n", logits.size(),
                pool5.channels, pool5.height, pool5.width, extras.tensors.size());
} catch (const convis::error& e) {
    std::fprintf(stderr, "load_pytorch: %s\n", e.what());
    return 1;
}
