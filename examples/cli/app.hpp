#pragma once
// The convis program's command line without running anything: builds the CLI11 app with every
// subcommand and parses argv into an outcome. main.cpp runs the chosen command afterwards; the
// fuzz target (tests/fuzz/fuzz_cli.cpp) stops here, so hostile command lines never train a network
// or write a file.
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace convis_cli {

/// The app and its registered subcommands. CLI11's App cannot move, hence make_program's pointer.
struct program {
    CLI::App app;
    std::vector<command> commands;
    int threads = 0;  ///< --threads: CPU threads for every operation; 0 = all cores
    program();
};

/// Builds the program. Throws std::exception when the option definitions themselves are wrong
/// (a bug, reported by main as "internal error").
std::unique_ptr<program> make_program(std::vector<convis::cli::network_choice> networks);

/// What parsing decided. `ok`: exactly one subcommand was chosen and its options are valid; run the
/// command whose app->parsed(). `done`: --help, --help-all or --version; `text` is what to print on
/// stdout, then exit 0. `usage_error`: `text` is the one-line message (without "convis: "); exit 2.
struct parse_outcome {
    enum kind { ok, done, usage_error } result = ok;
    std::string text;
};

/// Parses argv (argv[0] is the program name). Throws nothing but std::bad_alloc.
parse_outcome parse(program& p, int argc, const char* const* argv);

}  // namespace convis_cli
