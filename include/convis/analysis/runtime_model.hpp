#pragma once
// runtime_model<T>: what an analysis needs of a network whose type it does not know — its layer
// table, a forward pass, each layer's output and a projection down to the input — behind one
// abstract interface, so the analysis is plain code compiled once instead of once per network and
// policy.
//
// convis::session is one (session/session.hpp); runtime_view<M> wraps a typed Model:
//
//     convis::Model<convis::ZFNet28<10>> model;
//     convis::runtime_view view(model);               // a runtime_model<float> over it
//     const auto r = convis::visualise_features(view, view.find("conv5"), objectives, {});
//
// With projection_options{.mode = rectify_mode::gradient} a projection is the exact gradient of
// <signal, layer output> with respect to the input (net/deconvnet.hpp): feature visualisation and
// the attribution methods run on it.
//
// Memory: every pointer returned is in host memory, valid until the next call that runs the model.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../core/error.hpp"
#include "../core/parameter.hpp"
#include "../core/shape.hpp"
#include "../net/deconvnet.hpp"
#include "../net/sequential.hpp"
#include "layer_choice.hpp"

namespace convis {

template <class T = float>
class runtime_model {
public:
    using value_type = T;
    virtual ~runtime_model() = default;

    /// One sample's input: channels × height × width.
    virtual input_dims input() const = 0;
    /// Every layer's name, kind, output shape, parameter count and receptive field.
    virtual const std::vector<layer_row>& layers() const = 0;
    /// Every parameter tensor with its PyTorch name, in host memory (see Model::parameter_list).
    virtual std::vector<parameter_ref<T>> parameter_list() = 0;

    virtual void train(bool on = true) = 0;
    void eval() { train(false); }
    /// Runs the network on `batch` inputs (batch × input().size() values); returns the last
    /// layer's output.
    virtual const T* forward(const T* x, int batch) = 0;
    /// Samples in the last forward.
    virtual int batch() const = 0;
    /// Layer `layer`'s output of the last forward: batch() × sample_size(layer) values.
    virtual const T* output(int layer) const = 0;
    /// Projects `signal` (batch() × sample_size(layer) values at layer `layer`'s output) down to
    /// the input; returns batch() × input().size() values.
    virtual const T* project(int layer, const T* signal, const projection_options& options = {}) = 0;

    /// The layer called `name` (or an unnamed layer's index); a convis::error listing the names otherwise.
    int find(std::string_view name) const { return layer_index(layers(), name); }
    /// Layer `layer`'s output values per sample.
    std::size_t sample_size(int layer) const;
    /// Layer `layer`'s name.
    const std::string& name(int layer) const;
};

/// A runtime_model over a typed Model<Net, Policy, T> (by reference: the model outlives the view).
template <class M>
class runtime_view final : public runtime_model<typename M::value_type> {
public:
    using T = typename M::value_type;
    using In = typename M::net_type::input_shape;

    explicit runtime_view(M& model) : model_(model), table_(model.layer_table()) {}

    input_dims input() const override { return {In::channels, In::height, In::width}; }
    const std::vector<layer_row>& layers() const override { return table_; }
    std::vector<parameter_ref<T>> parameter_list() override { return model_.parameter_list(); }
    void train(bool on) override { model_.train(on); }
    const T* forward(const T* x, int batch) override { return model_.forward(TensorView<In, const T>(x, batch)).data(); }
    int batch() const override { return model_.batch(); }
    const T* output(int layer) const override { return model_.output_data(layer); }
    const T* project(int layer, const T* signal, const projection_options& options) override {
        if (!deconv_) deconv_ = std::make_unique<Deconvnet<M>>(model_);
        return deconv_->project(layer, signal, options).data();
    }

private:
    M& model_;
    std::vector<layer_row> table_;
    std::unique_ptr<Deconvnet<M>> deconv_;
};

// ---- details ------------------------------------------------------------------------------------

template <class T>
std::size_t runtime_model<T>::sample_size(int layer) const {
    const auto& table = layers();
    if (layer < 0 || std::size_t(layer) >= table.size())
        throw error("layer " + std::to_string(layer) + " is outside 0.." + std::to_string(table.size() - 1));
    std::size_t n = 1;
    for (const auto d : table[std::size_t(layer)].output) n *= std::size_t(d);
    return n;
}

template <class T>
const std::string& runtime_model<T>::name(int layer) const {
    sample_size(layer);  // checks the index
    return layers()[std::size_t(layer)].name;
}

}  // namespace convis
