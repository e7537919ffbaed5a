// A custom network as a type: the compiler checks every layer fits, then one training step.
#include <convis/convis.hpp>
#include <cstdio>

using namespace convis;
using Net = Sequential<Input<1, 28, 28>,                 // Fashion-MNIST-sized input
    Named<"conv1", Conv2d<1, 32, 5, 1, 2>>, ReLU, MaxPool2d<2>,    // 32×14×14
    Named<"conv2", Conv2d<32, 64, 5, 1, 2>>, ReLU, MaxPool2d<2>,   // 64×7×7
    Flatten, Dropout, Named<"fc", Linear<64 * 7 * 7, 10>>>;
static_assert(std::is_same_v<Net::shape_after<5>, Shape<64, 7, 7>>);

int main() {
    Model<Net> model;                         // parameters in one buffer, zeroed
    init_kaiming(model, /*seed=*/1);
    Tensor<Net::input_shape> images(8);       // a batch of 8, NCHW
    images.fill(0.5f);
    std::vector<std::int64_t> labels{0, 1, 2, 3, 4, 5, 6, 7};
    model.train();
    Tensor<Features<10>> grad;
    const float loss = cross_entropy<10, float>(model.forward(images), labels, grad);
    model.backward(grad);                     // gradients in model.gradients()
    std::printf("loss %.4f, %zu parameters, conv2 sees %d px\n", loss, Net::parameter_count,
                Net::field_after<4>().size);
}
