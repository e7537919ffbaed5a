// fc6 of a ZFNet-like stack declared with 9000 inputs where pool5 flattens to 256*6*6 = 9216.
// expect: layer_does_not_fit<convis::at_layer<17>, convis::Linear<9000, 4096>, convis::expects_features<9000>, convis::but_input_has_features<9216> >
#include <convis/convis.hpp>
using namespace convis;
using Net = Sequential<Input<3, 224, 224>,
    Conv2d<3, 96, 7, 2, 1>, ReLU, MaxPool2d<3, 2, 0, ceil_mode>, ZFNetNorm,
    Conv2d<96, 256, 5, 2, 0>, ReLU, MaxPool2d<3, 2, 0, ceil_mode>, ZFNetNorm,
    Conv2d<256, 384, 3, 1, 1>, ReLU, Conv2d<384, 384, 3, 1, 1>, ReLU, Conv2d<384, 256, 3, 1, 1>, ReLU,
    MaxPool2d<3, 2, 0, ceil_mode>, Flatten, Dropout, Linear<9000, 4096>, ReLU, Linear<4096, 10>>;
Net::output_shape* p = nullptr;
