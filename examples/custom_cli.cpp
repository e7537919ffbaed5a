// Every convis subcommand for a network of your own: register its type with cli::main and the
// program trains it, projects it, and runs the paper's analyses on it — each typed piece compiled
// once, here, for this one network.
//
//   $ tiny_convis train --model tiny --classes 10 --data fashion-mnist --epochs 2 --out run
//   $ tiny_convis top9 --model tiny --weights run/model.safetensors --idx t10k-images-idx3-ubyte.gz \
//         --layer conv2 --out run/top9
#include <convis/cli/main.hpp>

using namespace convis;
using Tiny = Sequential<Input<1, 28, 28>,
    Named<"conv1", Conv2d<1, 16, 5, 1, 2>>, Named<"relu1", ReLU>, Named<"pool1", MaxPool2d<2>>,   // 16×14×14
    Named<"conv2", Conv2d<16, 32, 3, 1, 1>>, Named<"relu2", ReLU>, Named<"pool2", MaxPool2d<2>>,  // 32×7×7
    Flatten, Named<"fc", Linear<32 * 7 * 7, dynamic>>>;  // the class count: --classes, any N >= 1

int main(int argc, char** argv) { return cli::main<cli::net<"tiny", Tiny>>(argc, argv); }
