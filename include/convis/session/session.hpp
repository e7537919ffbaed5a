#pragma once
// convis::session: one typed model behind a plain, non-template interface.
//
// Model<Net, Policy> is a type per network and policy, and everything that touches it — loading
// weights, a forward, a projection, each analysis, the trainer — is instantiated per type. A
// program that lets its user choose the network at run time (the convis command line, a user's
// tool over several networks) would instantiate all of it per choice in every place that uses it.
// A session is the seam: make_session<Net, Policy>(classes) (make_session.hpp) instantiates the
// typed work once per network and policy, and everything above it — option parsing, input
// loading, result writers — is plain code compiled once.
//
//     std::unique_ptr<convis::session> s = convis::make_session<convis::ZFNet28<convis::dynamic>>(37);
//     s->load_weights("run/model.safetensors");
//     const float* logits = s->forward(x.data(), batch);     // batch × s->classes()
//     const int conv3 = s->find("conv3");
//     const auto r = s->occlusion(x.data(), label, {});
//
// Memory: every pointer a session returns is in host memory, valid until the next call that
// runs the model (the typed model's rules, net/model.hpp). Threads: a session is used from one
// thread at a time.
//
// This header declares; it includes the analyses for their option and result types but
// instantiates nothing of a network. make_session.hpp carries the typed implementation; include it
// in the one file that makes sessions for each network and policy a program offers.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../analysis/attribution/faithfulness.hpp"
#include "../analysis/attribution/method.hpp"
#include "../analysis/attribution/sanity.hpp"
#include "../analysis/correspondence.hpp"
#include "../analysis/evolution.hpp"
#include "../analysis/invariance.hpp"
#include "../analysis/occlusion.hpp"
#include "../analysis/runtime_model.hpp"
#include "../analysis/top_images.hpp"
#include "../core/parameter.hpp"
#include "../io/safetensors.hpp"
#include "../io/weights.hpp"
#include "../net/sequential.hpp"
#include "../train/trainer.hpp"

namespace convis {

/// How a session's parameters are initialised (net/init.hpp).
enum class init_scheme {
    kaiming,  ///< He et al.: normal, std sqrt(2 / fan_in), biases zero
    paper     ///< the paper's §3: normal, std 0.01, biases zero
};

class session : public runtime_model<float> {
public:
    // ---- the network ------------------------------------------------------------------------
    /// The C++ type, for messages and metadata: "ZFNet28<37>".
    virtual std::string type_name() const = 0;
    /// "cpu" or "gpu": the policy the model runs on.
    virtual std::string_view device() const = 0;
    /// The last layer's output size: the class count of a classifier.
    virtual int classes() const = 0;
    virtual std::size_t parameter_count() const = 0;

    // ---- parameters ---------------------------------------------------------------------------
    /// Loads a safetensors file; every name, dtype and shape is checked (io/weights.hpp). Returns
    /// the file's other tensors (preprocess.mean, …) and its metadata.
    virtual weights_extras load_weights(const std::string& path) = 0;
    virtual void save_weights(const std::string& path, const weights_extras& extras = {}) = 0;
    virtual void init(init_scheme scheme, std::uint64_t seed) = 0;

    // ---- passes: input(), layers(), parameter_list(), train(), forward(), batch(), output() and
    // project() are runtime_model's (analysis/runtime_model.hpp).
    /// Adds layers' outputs of the last forward to `out`, each under its layer name, PyTorch-shaped.
    virtual void add_layer_outputs(safetensors_file& out, const std::vector<int>& layers) const = 0;

    // ---- the paper's experiments (analysis/, train/) -----------------------------------------
    virtual top_images_result top_images(int layer, const picture_set& pictures, const preprocess& pre,
                                         const top_images_options& options) = 0;
    /// Loads each snapshot in turn (the weights stay at the last one's).
    virtual evolution_result evolution(const std::vector<std::string>& snapshots, const picture_set& pictures,
                                       const preprocess& pre, const evolution_options& options) = 0;
    virtual occlusion_result occlusion(const float* input, int label, const occlusion_options& options) = 0;
    virtual invariance_result invariance(const float* inputs, int count, const std::vector<int>& labels,
                                         const invariance_options& options) = 0;
    virtual correspondence_result correspondence(const float* inputs, int count, const std::vector<box>& boxes,
                                                 const correspondence_options& options) = 0;

    // ---- attribution (analysis/attribution/) -------------------------------------------------
    /// The map of options.method for `count` preprocessed inputs; targets: one per input, one for
    /// all, or none (the predicted classes).
    virtual attribution_map attribute(const float* inputs, int count, const std::vector<int>& targets,
                                      const attribution_options& options) = 0;
    /// The deletion (or insertion) curve of `map`, one map per input.
    virtual deletion_result deletion_curve(const float* inputs, const attribution_map& map,
                                           const deletion_options& options) = 0;
    virtual confidence_drop_result confidence_drop(const float* inputs, const attribution_map& map, float fill,
                                                   std::size_t memory_limit) = 0;
    /// Cascading parameter randomisation; the trained weights are restored afterwards.
    virtual sanity_result randomisation_check(const float* inputs, int count, const std::vector<int>& targets,
                                              const sanity_options& options) = 0;

    /// Trains on `train`, evaluating on `test` after every epoch (train/trainer.hpp).
    virtual std::vector<epoch_record> fit(const image_set& train, const image_set& test, const train_options& options) = 0;
};

/// A session over Model<Net, Policy> with `classes` outputs (any count ≥ 1 when Net's output is
/// dynamic; otherwise the type's own), reporting itself as `type_name` ("ZFNet28<37>"; empty: a
/// generic name). Defined in make_session.hpp.
template <network Net, class Policy = cpu>
std::unique_ptr<session> make_session(int classes, std::string type_name = {});

}  // namespace convis
