// convis::cli::run (convis/cli/run.hpp): parses the command line (app.cpp) and runs one subcommand
// over the networks it was given.
//
// Exit status: 0 on success (and for --help / --version), 1 when the subcommand fails (a bad file,
// tensor, shape, layer name or class count), 2 for a usage error (unknown option, missing or
// malformed argument). Every failure is one line on stderr: "convis: <message>".
#include <exception>
#include <iostream>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include <convis/core/threads.hpp>

#include "app.hpp"

namespace {

/// Messages from files and parsers may hold line breaks; the program promises one line.
std::string one_line(std::string s) {
    for (char& c : s)
        if (c == '\n' || c == '\r') c = ' ';
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

int fail(const std::string& message, int status) {
    std::cout.flush();
    std::cerr << "convis: " << one_line(message) << std::endl;
    return status;
}

}  // namespace

int convis::cli::run(int argc, const char* const* argv, std::vector<convis::cli::network_choice> networks) {
    std::unique_ptr<convis_cli::program> program;
    try {
        program = convis_cli::make_program(std::move(networks));
    } catch (const std::exception& e) {  // a mistake in the option definitions themselves
        return fail(std::string("internal error: ") + e.what(), 1);
    }

    try {
        const auto outcome = convis_cli::parse(*program, argc, argv);
        if (outcome.result == convis_cli::parse_outcome::done) {
            std::cout << outcome.text << std::flush;
            return 0;
        }
        if (outcome.result == convis_cli::parse_outcome::usage_error) return fail(outcome.text, 2);
    } catch (const std::bad_alloc&) {
        return fail("out of memory", 2);
    }

    try {
        convis::set_threads(program->threads);
        for (const auto& c : program->commands)
            if (c.app->parsed()) c.run();
    } catch (const std::bad_alloc&) {
        return fail("out of memory", 1);
    } catch (const std::exception& e) {  // convis::error and everything else
        return fail(e.what(), 1);
    } catch (...) {
        return fail("unexpected failure", 1);
    }
    return 0;
}
