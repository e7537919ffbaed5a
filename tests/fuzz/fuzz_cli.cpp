// libFuzzer target: the convis program's command-line parsing (examples/cli/app.hpp), never running
// a command (they train networks and write files). The input is argv after the program name, split
// at NUL bytes. parse() must answer ok, done (help/version) or a one-line usage error; an exception
// escaping it is a bug, and so is an empty usage message or a parse that chose no command.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "app.hpp"
#include "zoo.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::string> args{"convis"};
    std::string arg;
    for (std::size_t i = 0; i < size; ++i) {
        if (data[i] == 0) {
            args.push_back(arg);
            arg.clear();
        } else {
            arg += static_cast<char>(data[i]);
        }
    }
    if (size > 0) args.push_back(arg);
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);

    const auto program = convis_cli::make_program(convis_cli::zoo());
    const auto outcome = convis_cli::parse(*program, static_cast<int>(args.size()), argv.data());
    if (outcome.result == convis_cli::parse_outcome::usage_error && outcome.text.empty()) std::abort();
    if (outcome.result == convis_cli::parse_outcome::ok) {
        int chosen = 0;
        for (const auto& c : program->commands) chosen += c.app->parsed() ? 1 : 0;
        if (chosen != 1) std::abort();
    }
    return 0;
}
