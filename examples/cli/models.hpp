#pragma once
// Turns the run-time choice (--model, --classes) into a network type, once per subcommand.
//
// The class count is a template argument of ZFNet<Classes>, so only a fixed set of counts exists in
// the program; each is instantiated once per model. A subcommand is written once, as a generic
// lambda over the network type:
//
//     with_model(choice, [&]<class Net>() { ... Net::parameter_count ... });
//
// Only the network types are included here (no Eigen), so a subcommand that needs nothing but the
// type (info) compiles quickly; subcommands that run a Model include <convis/convis.hpp>.
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include <convis/core/error.hpp>
#include <convis/models/zfnet.hpp>

#include "commands.hpp"

namespace convis_cli {

/// The class counts the program is built for: common data sets' (CIFAR-10, Pascal VOC's 20,
/// CIFAR-100, Caltech-101 with and without background, Caltech-256 with and without clutter,
/// ImageNet's 1000). Each count instantiates every subcommand once per model, so a build that only
/// checks the program (tests/sanitize.sh) may name fewer: CMake's CONVIS_CLI_CLASSES="10;1000".
#ifdef CONVIS_CLI_CLASSES
inline constexpr std::array supported_classes{CONVIS_CLI_CLASSES};
#else
inline constexpr std::array<int, 8> supported_classes = {10, 20, 100, 101, 102, 256, 257, 1000};
#endif

inline std::string supported_classes_text() {
    std::string s;
    for (int c : supported_classes) s += (s.empty() ? "" : ", ") + std::to_string(c);
    return s;
}

/// The C++ type behind a --model name, for messages ("ZFNet<10>").
inline std::string type_name(std::string_view model, int classes) {
    const char* base = model == "zfnet"      ? "ZFNet"
                       : model == "zfnet512" ? "ZFNet512"
                       : model == "zfnet28"  ? "ZFNet28"
                                             : "ZFNetPyTorch";
    return std::string(base) + "<" + std::to_string(classes) + ">";
}

namespace detail {
template <int Classes, class F>
void with_model_of(std::string_view model, F& f) {
    if (model == "zfnet") f.template operator()<convis::ZFNet<Classes>>();
    else if (model == "zfnet512") f.template operator()<convis::ZFNet512<Classes>>();
    else if (model == "zfnet-pytorch") f.template operator()<convis::ZFNetPyTorch<Classes>>();
    else if (model == "zfnet28") f.template operator()<convis::ZFNet28<Classes>>();
    else throw convis::error("unknown model '" + std::string(model) + "'; choose zfnet, zfnet512, zfnet-pytorch or zfnet28");
}
}  // namespace detail

/// Calls f.template operator()<Net>() with the network the user chose; throws convis::error for an
/// unsupported class count (listing the supported ones) or an unknown model name.
template <class F>
void with_model(const model_choice& m, F&& f) {
    bool found = false;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (void)((m.classes == supported_classes[I]
                    ? (detail::with_model_of<supported_classes[I]>(m.model, f), found = true)
                    : false) ||
               ...);
    }(std::make_index_sequence<supported_classes.size()>{});
    if (!found)
        throw convis::error("--classes " + std::to_string(m.classes) + " is not supported; this program is built for " +
                            supported_classes_text() + " classes");
}

}  // namespace convis_cli
