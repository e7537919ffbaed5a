// Linear reads 256 features but the conv stack gives 16 maps of 5x5 = 400.
// expect: layer_does_not_fit<convis::at_layer<3>, convis::Linear<256, 10>, convis::expects_features<256>, convis::but_input_has_features<400> >
#include <convis/convis.hpp>
using namespace convis;
using Net = Sequential<Input<1, 12, 12>, Conv2d<1, 16, 3>, ReLU, MaxPool2d<2>, Linear<256, 10>>;
Net::output_shape* p = nullptr;
