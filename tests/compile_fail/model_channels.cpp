// The mismatch is also caught when the network is only used through a Model.
// expect: layer_does_not_fit<convis::at_layer<1>, convis::Conv2d<4, 8, 3
// expect: convis::expects_channels<4>, convis::but_input_has_channels<6>
#include <convis/convis.hpp>
using namespace convis;
int main() {
    Model<Sequential<Input<3, 16, 16>, Conv2d<3, 6, 3>, Conv2d<4, 8, 3>>> m;
    (void)m;
}
