#pragma once
// The policies the convis program runs models on: the CPU always, the GPU when CMake found CUDA
// and cuDNN (it then defines CONVIS_CLI_GPU and links convis::gpu). A subcommand that runs a model
// is written once, as a generic lambda over the network and the policy:
//
//     with_model_on_device(choice, [&]<class Net, class Policy>() { convis::Model<Net, Policy> m; ... });
#include <string>

#ifdef CONVIS_CLI_GPU
#include <convis/gpu.hpp>
#else
#include <convis/convis.hpp>
#endif

#include "models.hpp"

namespace convis_cli {

/// Calls f.template operator()<Net, Policy>() with the network and the device the user chose.
template <class F>
void with_model_on_device(const model_choice& m, F&& f) {
    with_model(m, [&]<class Net>() {
        if (m.device == "gpu") {
#ifdef CONVIS_CLI_GPU
            f.template operator()<Net, convis::gpu>();
#else
            throw convis::error("--device gpu: this convis was built without the GPU policy (CMake found no CUDA "
                                "compiler or no cuDNN when it was built)");
#endif
        } else {
            f.template operator()<Net, convis::cpu>();
        }
    });
}

}  // namespace convis_cli
