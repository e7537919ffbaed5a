// A residual block whose body and shortcut give different shapes: the body's stride-2 convolution
// halves the map, the identity shortcut does not.
// expect: layer_does_not_fit<convis::at_layer<1>, convis::Residual<
// expect: convis::body_gives<8, 4, 4>, convis::but_shortcut_gives<8, 8, 8>
#include <convis/convis.hpp>
using namespace convis;
using Block = Residual<Body<Conv2d<8, 8, 3, 2, 1>, ReLU, Conv2d<8, 8, 3, 1, 1>>>;
using Net = Sequential<Input<3, 8, 8>, Conv2d<3, 8, 1>, Block, ReLU>;
Net::output_shape* p = nullptr;
