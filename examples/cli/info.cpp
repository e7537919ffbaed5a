// convis info --model M [--classes N]: the network's layer table, all of it from the type.
// (The session allocates the model's parameters, zeroed: cheap beside any other subcommand.)
#include <cstdio>
#include <memory>
#include <string>

#include "commands.hpp"

namespace convis_cli {
namespace {

std::string shape_text(const std::vector<std::int64_t>& dims) {
    std::string t;
    for (std::size_t i = 0; i < dims.size(); ++i) t += (i ? "x" : "") + std::to_string(dims[i]);
    return t;
}

void print_table(const model_choice& m) {
    const auto s = open_session(m);
    const convis::input_dims in = s->input();
    std::printf("%s (%s): input %dx%dx%d, %d layers\n", m.model.c_str(), s->type_name().c_str(), in.channels, in.height,
                in.width, int(s->layers().size()));
    std::printf("%3s  %-13s %-18s %12s %11s  %6s %6s %6s\n", "#", "name", "kind", "output", "params", "field",
                "stride", "start");
    for (const convis::layer_row& r : s->layers()) {
        std::printf("%3d  %-13s %-18s %12s %11zu  ", r.index, r.name.c_str(), std::string(r.kind).c_str(),
                    shape_text(r.output).c_str(), r.parameters);
        if (r.field.global) std::printf("%6s %6s %6s\n", "global", "-", "-");
        else std::printf("%6d %6d %6d\n", r.field.size, r.field.stride, r.field.start);
    }
    std::printf("total parameters: %zu (%.1f MB as float32)\n", s->parameter_count(),
                double(s->parameter_count()) * sizeof(float) / 1e6);
}

}  // namespace

command add_info(CLI::App& parent) {
    auto* app = parent.add_subcommand("info", "Print a network's layer table: output shapes, parameter counts and "
                                              "receptive fields (size, cumulative stride, start offset in pixels)");
    auto m = std::make_shared<model_choice>();
    add_model_options(app, *m);
    return {app, [m] { print_table(*m); }};
}

}  // namespace convis_cli
