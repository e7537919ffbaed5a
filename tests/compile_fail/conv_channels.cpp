// Conv2d at index 2 expects 64 input channels, but the layer before gives it 96.
// expect: layer_does_not_fit<convis::at_layer<2>, convis::Conv2d<64, 128, 3, 1, 1>, convis::expects_channels<64>, convis::but_input_has_channels<96> >
// expect: a layer does not fit the shape produced by the layer before it
#include <convis/convis.hpp>
using Net = convis::Sequential<convis::Input<3, 32, 32>, convis::Conv2d<3, 96, 3>, convis::ReLU,
                               convis::Conv2d<64, 128, 3, 1, 1>>;
Net::output_shape* p = nullptr;
