// A run-time class count may only be the last layer's: here a ReLU follows Linear<64, dynamic>.
// expect: layer_does_not_fit<convis::at_layer<2>, convis::ReLU, convis::expects_compile_time_shape, convis::but_input_has_run_time_extent>
// expect: only a network's last layer may have a run-time (dynamic) extent
#include <convis/convis.hpp>
using namespace convis;
using Net = Sequential<Input<1, 8, 8>, Flatten, Linear<64, dynamic>, ReLU>;
Net::output_shape* p = nullptr;
