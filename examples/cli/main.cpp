// convis — the command-line program: parses the command line and runs one subcommand.
//
// Exit status: 0 on success (and for --help / --version), 1 when the subcommand fails (a bad file,
// tensor, shape, layer name or class count), 2 for a usage error (unknown option, missing or
// malformed argument). Every failure is one line on stderr: "convis: <message>".
#include <exception>
#include <iostream>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.hpp"

#ifndef CONVIS_VERSION
#define CONVIS_VERSION "unknown"
#endif

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

std::vector<int> convis_cli::parse_int_list(const std::string& list, const std::string& option, int min,
                                            const std::string& what) {
    std::vector<int> out;
    std::stringstream ss(list);
    std::string item;
    while (std::getline(ss, item, ',')) {
        std::size_t used = 0;
        int v = min - 1;
        try {
            v = std::stoi(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (item.empty() || used != item.size() || v < min)
            throw std::runtime_error(option + " '" + list + "': expected " + what);
        out.push_back(v);
    }
    if (out.empty()) throw std::runtime_error(option + " '" + list + "': expected " + what);
    return out;
}

int main(int argc, char** argv) {
    CLI::App app{"convis: visualizing and understanding convolutional networks (Zeiler & Fergus, ECCV 2014)", "convis"};
    app.set_version_flag("--version", std::string("convis ") + CONVIS_VERSION);
    app.require_subcommand(1);

    std::vector<convis_cli::command> commands;
    try {
        commands = {convis_cli::add_info(app), convis_cli::add_forward(app), convis_cli::add_init(app),
                    convis_cli::add_make_input(app), convis_cli::add_project(app),
                    convis_cli::add_top9(app), convis_cli::add_train(app),
                    convis_cli::add_evolution(app), convis_cli::add_occlusion(app),
                    convis_cli::add_invariance(app), convis_cli::add_correspondence(app),
                    convis_cli::add_report(app)};
    } catch (const std::exception& e) {  // a mistake in the option definitions themselves
        return fail(std::string("internal error: ") + e.what(), 1);
    }

    // CLI11 would answer "A subcommand is required" to a misspelt one; name it instead.
    if (argc > 1 && argv[1][0] != '-') {
        const std::string first = argv[1];
        std::string names;
        bool known = false;
        for (const auto& c : commands) {
            known = known || c.app->get_name() == first;
            names += (names.empty() ? "" : ", ") + c.app->get_name();
        }
        if (!known) return fail("unknown subcommand '" + first + "'; choose one of " + names + " (see 'convis --help')", 2);
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help, --help-all, --version
        std::string where = "convis";
        for (const auto* sub : app.get_subcommands()) where += " " + sub->get_name();
        return fail(std::string(e.what()) + " (see '" + where + " --help')", 2);
    } catch (const std::exception& e) {
        return fail(e.what(), 2);
    }

    try {
        for (const auto& c : commands)
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
