#pragma once
// Which layer an analysis reads when the caller names none, chosen at run time from
// Net::layer_table(), plus the class probabilities every classifier-based analysis reports.
//
// The paper speaks of "layer 1", "layer 5" and "layer 7" without saying which tensor of the layer
// it means (PAPER.md §5–§7). The choices below are the library's reading, made once here so that
// every analysis (invariance, occlusion, correspondence) means the same tensor by the same words:
//
//   paper        function                  ZFNet       rule
//   layer 1      first_conv_block_layer    norm1       conv1's whole block: the layer before conv2
//   layer 5      last_conv_block_layer     relu5       conv5 after its ReLU (the feature maps of Fig. 7)
//   layer 5      last_pool_layer           pool5       the pooled 6×6×256 vector (Table 1)
//   layer 7      penultimate_fc_layer      relu7       fc7 after its ReLU (the 4096-d feature vector)
//
// Each takes the table, not the network type, so one instantiation serves every layer and the
// command line can choose at run time; each throws convis::error when the network lacks the
// layers its rule needs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../core/error.hpp"
#include "../core/policy.hpp"
#include "../net/sequential.hpp"

namespace convis {

/// The paper's "layer 1": the last layer of the first convolution's block, i.e. the layer just
/// before the second Conv2d (ZFNet: norm1, after conv1 → relu1 → pool1 → norm1). With only one
/// Conv2d, the last layer before the first Flatten or Linear after it (or the network's last layer
/// when there is none).
inline int first_conv_block_layer(const std::vector<layer_row>& table);

/// The paper's "layer 5" as feature maps: the last Conv2d or residual block, or the ReLU right
/// after it when there is one (ZFNet: relu5; ResNet: its last block). Occlusion's strongest map
/// is read here.
inline int last_conv_block_layer(const std::vector<layer_row>& table);

/// The paper's "layer 5" as a vector: the last MaxPool2d (ZFNet: pool5; VGG: features.30) — or,
/// when residual blocks follow it (ResNet's stem pool), the last block. Correspondence uses it.
inline int last_pool_layer(const std::vector<layer_row>& table);

/// The paper's "layer 7": the second-to-last Linear, or the ReLU right after it when there is one
/// (ZFNet: relu7, the 4096-d feature the classifier reads).
inline int penultimate_fc_layer(const std::vector<layer_row>& table);

/// The index of the layer called `name` in `table`; a convis::error listing the valid names if
/// there is none. The run-time twin of Net::find (net/sequential.hpp), for code that holds only a
/// table; with the network type at hand, Net::find is the same look-up.
inline int layer_index(const std::vector<layer_row>& table, std::string_view name);

/// Whether the network's last layer is a Softmax, so its output is already probabilities.
inline bool ends_in_softmax(const std::vector<layer_row>& table);

/// Row-wise class probabilities of `batch` outputs of `classes` values each: a numerically stable
/// softmax (the maximum is subtracted first), or a plain copy when the network already ends in a
/// Softmax. `probs` may not alias `outputs` unless already_softmax.
template <class T, class Policy = cpu>
void class_probabilities(const T* outputs, int batch, int classes, bool already_softmax, T* probs);

// ---- details ------------------------------------------------------------------------------------

namespace layer_choice_detail {
inline std::string layer_names(const std::vector<layer_row>& table) {
    std::string s;
    for (std::size_t i = 0; i < table.size(); ++i) s += (i ? ", " : "") + table[i].name;
    return s;
}
inline std::vector<int> indices_of(const std::vector<layer_row>& table, std::string_view kind) {
    std::vector<int> out;
    for (std::size_t i = 0; i < table.size(); ++i)
        if (table[i].kind == kind) out.push_back(int(i));
    return out;
}
/// Layer i, or the ReLU right after it.
inline int with_relu(const std::vector<layer_row>& table, int i) {
    return std::size_t(i) + 1 < table.size() && table[std::size_t(i) + 1].kind == "ReLU" ? i + 1 : i;
}
[[noreturn]] inline void lacks(const char* who, const std::string& what, const std::vector<layer_row>& table) {
    throw error(std::string(who) + ": the network has " + what + "; its layers are " + layer_names(table));
}
}  // namespace layer_choice_detail

inline int first_conv_block_layer(const std::vector<layer_row>& table) {
    namespace d = layer_choice_detail;
    const std::vector<int> convs = d::indices_of(table, "Conv2d");
    if (convs.empty()) d::lacks("first_conv_block_layer", "no Conv2d layer", table);
    if (convs.size() >= 2) return convs[1] - 1;
    for (std::size_t i = std::size_t(convs[0]) + 1; i < table.size(); ++i)
        if (table[i].kind == "Flatten" || table[i].kind == "Linear") return int(i) - 1;
    return int(table.size()) - 1;
}

inline int last_conv_block_layer(const std::vector<layer_row>& table) {
    namespace d = layer_choice_detail;
    std::vector<int> convs = d::indices_of(table, "Conv2d");
    const std::vector<int> blocks = d::indices_of(table, "Residual");
    if (!blocks.empty() && (convs.empty() || blocks.back() > convs.back())) convs = blocks;
    if (convs.empty()) d::lacks("last_conv_block_layer", "no Conv2d layer", table);
    return d::with_relu(table, convs.back());
}

inline int last_pool_layer(const std::vector<layer_row>& table) {
    namespace d = layer_choice_detail;
    const std::vector<int> pools = d::indices_of(table, "MaxPool2d");
    if (pools.empty()) d::lacks("last_pool_layer", "no MaxPool2d layer", table);
    const std::vector<int> blocks = d::indices_of(table, "Residual");
    if (!blocks.empty() && blocks.back() > pools.back()) return blocks.back();
    return pools.back();
}

inline int penultimate_fc_layer(const std::vector<layer_row>& table) {
    namespace d = layer_choice_detail;
    const std::vector<int> fcs = d::indices_of(table, "Linear");
    if (fcs.size() < 2)
        d::lacks("penultimate_fc_layer", std::to_string(fcs.size()) + " Linear layer" + (fcs.size() == 1 ? "" : "s") +
                                             ", it needs at least two", table);
    return d::with_relu(table, fcs[fcs.size() - 2]);
}

inline int layer_index(const std::vector<layer_row>& table, std::string_view name) {
    for (std::size_t i = 0; i < table.size(); ++i)
        if (table[i].name == name) return int(i);
    throw error("no layer named '" + std::string(name) + "'; the layers are " + layer_choice_detail::layer_names(table));
}

inline bool ends_in_softmax(const std::vector<layer_row>& table) {
    return !table.empty() && table.back().kind == "Softmax";
}

template <class T, class Policy>
void class_probabilities(const T* outputs, int batch, int classes, bool already_softmax, T* probs) {
    static_assert(Policy::host_memory, "class_probabilities: the probabilities are host arrays");
    if (batch < 0 || classes < 1)
        throw error("class_probabilities: expected a batch >= 0 of at least one class, got batch " + std::to_string(batch) +
                    " of " + std::to_string(classes) + " classes");
    if (already_softmax) {
        const std::size_t count = std::size_t(batch) * std::size_t(classes);
        for (std::size_t i = 0; i < count; ++i) probs[i] = outputs[i];
        return;
    }
    ops<Policy>::softmax_forward(batch, classes, outputs, probs);  // subtracts each row's maximum
}

}  // namespace convis
