#pragma once
// The reduced-width ZFNet-shaped network of the golden fixture tinyzf (3×112×112 input).
#include <convis/convis.hpp>

namespace test {
using namespace convis;
template <class Norm = ZFNetNorm>
using TinyZFNetOf = Sequential<Input<3, 112, 112>,
    Named<"conv1", Conv2d<3, 8, 7, 2, 1>>,   Named<"relu1", ReLU>,
    Named<"pool1", MaxPool2d<3, 2, 0, ceil_mode>>, Named<"norm1", Norm>,
    Named<"conv2", Conv2d<8, 16, 5, 2, 0>>,  Named<"relu2", ReLU>,
    Named<"pool2", MaxPool2d<3, 2, 0, ceil_mode>>, Named<"norm2", Norm>,
    Named<"conv3", Conv2d<16, 24, 3, 1, 1>>, Named<"relu3", ReLU>,
    Named<"conv4", Conv2d<24, 24, 3, 1, 1>>, Named<"relu4", ReLU>,
    Named<"conv5", Conv2d<24, 16, 3, 1, 1>>, Named<"relu5", ReLU>,
    Named<"pool5", MaxPool2d<3, 2, 0, ceil_mode>>, Named<"flatten", Flatten>,
    Named<"drop6", Dropout>, Named<"fc6", Linear<144, 32>>, Named<"relu6", ReLU>,
    Named<"drop7", Dropout>, Named<"fc7", Linear<32, 32>>,  Named<"relu7", ReLU>,
    Named<"fc8", Linear<32, 10>>>;
using TinyZFNet = TinyZFNetOf<>;
}  // namespace test
