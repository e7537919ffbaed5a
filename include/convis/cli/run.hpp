#pragma once
// convis::cli::run: the convis command line over a list of networks, each a choice of --model
// that makes its session. Plain code, compiled once into the convis::cli library; main.hpp's
// cli::main<Nets...> builds the list from network types.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../session/session.hpp"

namespace convis::cli {

/// One choice of --model: its name, what --help says of it, and how to make its session.
struct network_choice {
    std::string name;           ///< the --model value
    std::string description;    ///< one line for --help
    std::string type;           ///< the C++ type's name without the class count ("ZFNet28")
    int default_classes = 0;    ///< --classes when none is given
    bool dynamic_classes = false;  ///< whether --classes may be any count ≥ 1
    /// A session for `classes` on `device` ("cpu" or "gpu"); convis::error when the device is not built in.
    std::function<std::unique_ptr<session>(int classes, std::string_view device)> make;
};

/// Runs the convis command line over `networks` (the first is not special; --model chooses).
/// Exit status: 0 on success, 1 when the command fails, 2 for a usage error; every failure is one
/// line on stderr, "<program>: <message>". Defined in the convis::cli library.
int run(int argc, const char* const* argv, std::vector<network_choice> networks);

}  // namespace convis::cli
