#pragma once
// convis::cli::main<Nets...>(argc, argv): every subcommand of the convis program — info, init,
// forward, project, top9, train, evolution, occlusion, invariance, correspondence, report,
// make-input — for a program's own network types.
//
//     #include <convis/cli/main.hpp>
//     using Tiny = convis::Sequential<convis::Input<1, 28, 28>, ...>;
//     int main(int argc, char** argv) {
//         return convis::cli::main<convis::cli::net<"tiny", Tiny>>(argc, argv);
//     }
//     // $ tiny top9 --model tiny --weights w.safetensors --idx data.idx.gz --layer conv2 --out top9
//
// Link the CMake target convis::cli (the subcommands, compiled once as plain code over
// convis::session). Each net<> instantiates the typed work once, here, through make_session; a
// network whose last layer is Linear<In, dynamic> takes any --classes, any other only its own.
// Include <convis/gpu.hpp> first, and link convis::gpu, to offer --device gpu as well.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../core/error.hpp"
#include "../core/fixed_string.hpp"
#include "../session/make_session.hpp"
#include "run.hpp"

namespace convis::cli {

/// A network type under a --model name, for main<...>.
template <fixed_string Name, class Net>
struct net {
    static network_choice choice() {
        network_choice c;
        c.name = std::string(Name.view());
        c.type = c.name;
        c.description = c.name + " (" + std::to_string(Net::size) + " layers)";
        c.dynamic_classes = Net::dynamic_output;
        if constexpr (Net::dynamic_output) c.default_classes = 10;
        else c.default_classes = int(Net::template sample_size<Net::size - 1>());
        c.make = [type = c.type](int classes, std::string_view device) -> std::unique_ptr<session> {
            const std::string name = type + "<" + std::to_string(classes) + ">";
            if (device == "gpu") {
#ifdef CONVIS_GPU_POLICY
                return make_session<Net, gpu>(classes, name);
#else
                throw error("--device gpu: this program was built without the GPU policy (include <convis/gpu.hpp> "
                            "before <convis/cli/main.hpp> and link convis::gpu)");
#endif
            }
            return make_session<Net, cpu>(classes, name);
        };
        return c;
    }
};

/// The convis program for the networks Nets... (each a net<"name", Type>).
template <class... Nets>
int main(int argc, char** argv) {
    return run(argc, argv, {Nets::choice()...});
}

}  // namespace convis::cli
