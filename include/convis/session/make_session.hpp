#pragma once
// make_session<Net, Policy>(classes): the typed implementation behind convis::session.
//
// Everything typed happens here, once per network and policy: the model, load_weights, the
// deconvnet, every analysis and the trainer. Include this header in one file per network and
// policy a program offers (each compiles in parallel with the others), and session.hpp everywhere
// else. For the GPU policy include <convis/gpu.hpp> first.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../analysis/attribution.hpp"
#include "../convis.hpp"  // the layers and the CPU backend (<convis/gpu.hpp> adds the GPU one)
#include "../net/deconvnet.hpp"
#include "../net/init.hpp"
#include "../net/model.hpp"
#include "../io/tensors.hpp"
#include "session.hpp"

namespace convis {

namespace session_detail {

template <network Net, class Policy>
class typed_session final : public session {
public:
    using model_type = Model<Net, Policy>;
    using In = typename Net::input_shape;

    typed_session(int classes, std::string type_name)
        : model_(std::make_unique<model_type>(classes)),
          table_(model_->layer_table()),
          type_name_(type_name.empty() ? "Sequential<" + std::to_string(Net::size) + " layers>" : std::move(type_name)) {}

    std::string type_name() const override { return type_name_; }
    std::string_view device() const override { return Policy::name; }
    input_dims input() const override { return {In::channels, In::height, In::width}; }
    int classes() const override { return model_->classes(); }
    const std::vector<layer_row>& layers() const override { return table_; }
    std::size_t parameter_count() const override { return model_->parameters().size(); }

    weights_extras load_weights(const std::string& path) override { return convis::load_weights(*model_, path); }
    void save_weights(const std::string& path, const weights_extras& extras) override {
        convis::save_weights(*model_, path, extras);
    }
    void init(init_scheme scheme, std::uint64_t seed) override {
        if (scheme == init_scheme::paper) init_paper(*model_, seed);
        else init_kaiming(*model_, seed);
    }
    std::vector<parameter_ref<float>> parameter_list() override { return model_->parameter_list(); }

    void train(bool on) override { model_->train(on); }
    const float* forward(const float* x, int batch) override {
        return model_->forward(TensorView<In, const float>(x, batch)).data();
    }
    int batch() const override { return model_->batch(); }
    const float* output(int layer) const override { return model_->output_data(layer); }
    const float* project(int layer, const float* signal, const projection_options& options) override {
        if (!deconv_) deconv_ = std::make_unique<Deconvnet<model_type>>(*model_);
        return deconv_->project(layer, signal, options).data();
    }
    void add_layer_outputs(safetensors_file& out, const std::vector<int>& layers) const override {
        convis::add_layer_outputs(out, *model_, std::span<const int>(layers));
    }

    top_images_result top_images(int layer, const picture_set& pictures, const preprocess& pre,
                                 const top_images_options& options) override {
        return convis::top_images(static_cast<runtime_model<float>&>(*this), layer, pictures, pre, options);
    }
    evolution_result evolution(const std::vector<std::string>& snapshots, const picture_set& pictures,
                               const preprocess& pre, const evolution_options& options) override {
        return convis::evolution(*model_, snapshots, pictures, pre, options);
    }
    occlusion_result occlusion(const float* input, int label, const occlusion_options& options) override {
        return convis::occlusion(*model_, input, label, options);
    }
    invariance_result invariance(const float* inputs, int count, const std::vector<int>& labels,
                                 const invariance_options& options) override {
        return convis::invariance(*model_, inputs, count, labels, options);
    }
    correspondence_result correspondence(const float* inputs, int count, const std::vector<box>& boxes,
                                         const correspondence_options& options) override {
        return convis::correspondence(*model_, inputs, count, boxes, options);
    }
    attribution_map attribute(const float* inputs, int count, const std::vector<int>& targets,
                              const attribution_options& options) override {
        return attributor().attribute(inputs, count, targets, options);
    }
    deletion_result deletion_curve(const float* inputs, const attribution_map& map, const deletion_options& options) override {
        return attributor().deletion_curve(inputs, map, options);
    }
    confidence_drop_result confidence_drop(const float* inputs, const attribution_map& map, float fill,
                                           std::size_t memory_limit) override {
        return attributor().confidence_drop(inputs, map, fill, memory_limit);
    }
    sanity_result randomisation_check(const float* inputs, int count, const std::vector<int>& targets,
                                      const sanity_options& options) override {
        return attributor().randomisation_check(inputs, count, targets, options);
    }
    std::vector<epoch_record> fit(const image_set& train, const image_set& test, const train_options& options) override {
        return convis::train(*model_, train, test, options);
    }

private:
    Attributor<model_type>& attributor() {
        if (!attributor_) attributor_ = std::make_unique<Attributor<model_type>>(*model_);
        return *attributor_;
    }

    std::unique_ptr<model_type> model_;  // on the heap: a model's layer tuple and trace are large
    std::vector<layer_row> table_;
    std::string type_name_;
    std::unique_ptr<Deconvnet<model_type>> deconv_;
    std::unique_ptr<Attributor<model_type>> attributor_;  // keeps its buffers between calls
};

}  // namespace session_detail

template <network Net, class Policy>
std::unique_ptr<session> make_session(int classes, std::string type_name) {
    return std::make_unique<session_detail::typed_session<Net, Policy>>(classes, std::move(type_name));
}

}  // namespace convis
