// A 7x7 kernel cannot slide over a 4x4 map padded by 1 (6 wide).
// expect: layer_does_not_fit<convis::at_layer<1>, convis::Conv2d<8, 8, 7, 1, 1>, convis::kernel<7>, convis::but_padded_input_is<6> >
#include <convis/convis.hpp>
using Net = convis::Sequential<convis::Input<8, 4, 4>, convis::ReLU, convis::Conv2d<8, 8, 7, 1, 1>>;
Net::output_shape* p = nullptr;
