#pragma once
// The analysis subcommands' inputs (--input, --index, --label, --labels) read through the
// library's data/inputs.hpp: this file only turns the options' text into its arguments.
#include <algorithm>
#include <string>
#include <vector>

#include <convis/data/inputs.hpp>
#include <convis/session/session.hpp>

#include "commands.hpp"

namespace convis_cli {

using convis::input_batch;

inline bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

/// The enlargement that shows a small input at about 224 pixels.
inline int display_factor(int height) { return std::max(1, (224 + height - 1) / height); }

/// --index: a comma list of picture numbers (empty: the first).
inline std::vector<int> parse_index(const std::string& index) {
    return index.empty() ? std::vector<int>{} : parse_int_list(index, "--index", 0, "picture numbers");
}

/// Reads every --input in order, preprocessed as the weights file `weights` (loaded, giving
/// `extras`) says.
inline input_batch load_inputs(convis::input_dims in, const std::vector<std::string>& inputs, const std::string& index,
                               const convis::weights_extras& extras, const std::string& weights) {
    const auto pre = convis::preprocess::from(extras, weights, in.channels, in.height, in.width);
    return convis::load_inputs(in, inputs, parse_index(index), pre);
}

/// The labels of --label (a comma list, one per input or one for all) or of --labels (an IDX label
/// file, read at the --index positions).
inline std::vector<int> load_labels(const std::string& label, const std::string& labels_file, const std::string& index,
                                    int count, int classes) {
    std::vector<int> out = labels_file.empty() ? parse_int_list(label, "--label", 0, "class numbers")
                                               : convis::read_labels(labels_file, parse_index(index));
    if (out.size() == 1 && count > 1) out.assign(std::size_t(count), out[0]);
    if (int(out.size()) != count)
        throw convis::error("--label: " + std::to_string(out.size()) + " labels for " + std::to_string(count) + " inputs");
    for (int l : out)
        if (l >= classes)
            throw convis::error("--label " + std::to_string(l) + " is outside the model's classes 0.." +
                                std::to_string(classes - 1));
    return out;
}

/// A comma list of names ("norm1,relu7"); convis::error naming `option` when an item is empty.
inline std::vector<std::string> split_names(const std::string& list, const std::string& option) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (true) {
        const std::size_t comma = list.find(',', at);
        out.push_back(list.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
        if (out.back().empty()) throw convis::error(option + " '" + list + "': expected names separated by commas");
        if (comma == std::string::npos) return out;
        at = comma + 1;
    }
}

}  // namespace convis_cli
