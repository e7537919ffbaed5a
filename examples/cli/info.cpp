// convis info --model M [--classes N]: the network's layer table, all of it from the type.
#include <cstdio>
#include <memory>
#include <string>

#include "models.hpp"

namespace convis_cli {
namespace {

template <class S>
std::string shape_text(bool flat) {
    if (flat) return std::to_string(S::size);
    return std::to_string(S::channels) + "x" + std::to_string(S::height) + "x" + std::to_string(S::width);
}

// TODO(lead): a generic "layer table" (rows of name, kind, shape, parameters, field) is library
// material; see the report.
template <class Net>
void print_table(const model_choice& m) {
    using In = typename Net::input_shape;
    std::printf("%s (%s): input %dx%dx%d, %d layers\n", m.model.c_str(), type_name(m.model, m.classes).c_str(),
                In::channels, In::height, In::width, Net::size);
    std::printf("%3s  %-13s %-18s %12s %11s  %6s %6s %6s\n", "#", "name", "kind", "output", "params", "field",
                "stride", "start");
    Net::for_each_index([&](auto i) {
        constexpr int I = decltype(i)::value;
        using S = typename Net::template shape_after<I>;
        constexpr auto rf = Net::template field_after<I>();
        const std::string kind(Net::kinds[I]);
        std::printf("%3d  %-13s %-18s %12s %11zu  ", I, Net::name(I).c_str(), kind.c_str(),
                    shape_text<S>(flat_output<Net, I>()).c_str(), Net::template parameter_count_of<I>());
        if (rf.global) std::printf("%6s %6s %6s\n", "global", "-", "-");
        else std::printf("%6d %6d %6d\n", rf.size, rf.stride, rf.start);
    });
    std::printf("total parameters: %zu (%.1f MB as float32)\n", Net::parameter_count,
                double(Net::parameter_count) * sizeof(float) / 1e6);
}

}  // namespace

command add_info(CLI::App& parent) {
    auto* app = parent.add_subcommand("info", "Print a network's layer table: output shapes, parameter counts and "
                                              "receptive fields (size, cumulative stride, start offset in pixels)");
    auto m = std::make_shared<model_choice>();
    add_model_options(app, *m);
    return {app, [m] { with_model(*m, [&]<class Net>() { print_table<Net>(*m); }); }};
}

}  // namespace convis_cli
