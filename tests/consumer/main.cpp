#include <convis/convis.hpp>

#include <cstdio>

// A custom stack, checked by the compiler, run once.
using Net = convis::Sequential<convis::Input<1, 28, 28>,
    convis::Conv2d<1, 8, 5>, convis::ReLU, convis::MaxPool2d<2>,
    convis::Flatten, convis::Linear<8 * 12 * 12, 10>>;

int main() {
    convis::Model<Net> model;
    convis::init_kaiming(model, 1);
    convis::Tensor<Net::input_shape> x(2);
    x.fill(0.5f);
    const auto y = model.forward(x);
    std::printf("consumer ok: %d x %zu outputs, %zu parameters\n", y.batch(), Net::output_shape::size,
                Net::parameter_count);
    return y.batch() == 2 ? 0 : 1;
}
