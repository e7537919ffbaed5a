// A 3x3 pool after the map has shrunk to 2x2.
// expect: layer_does_not_fit<convis::at_layer<2>, convis::MaxPool2d<3, 2, 0, true>, convis::kernel<3>, convis::but_padded_input_is<2> >
#include <convis/convis.hpp>
using namespace convis;
using Net = Sequential<Input<1, 8, 8>, Conv2d<1, 4, 3, 3>, ReLU, MaxPool2d<3, 2, 0, ceil_mode>>;
Net::output_shape* p = nullptr;
