#pragma once
// Attributor<M>: the attribution suite bound to one model, keeping its buffers between calls.
//
// The free functions (attribute(), deletion_curve(), …) set up the deconvnet's buffers afresh on
// every call — a batch of ZFNet's largest activations, tens of megabytes, whose pages the system
// faults in anew each time. A program that explains many batches keeps one Attributor instead:
//
//     convis::Attributor explain(model);
//     for (const auto& batch : batches) {
//         const auto cam = explain.attribute(batch.data(), 16, {}, {.method = convis::attribution_method::gradcam});
//         const auto del = explain.deletion_curve(batch.data(), cam, {});
//     }
//
// Threads: an Attributor runs its model; it belongs to the thread that holds the model (model.hpp).
#include <vector>

#include "attribute.hpp"
#include "faithfulness.hpp"
#include "sanity.hpp"

namespace convis {

template <class M>
class Attributor {
public:
    using value_type = typename M::value_type;

    explicit Attributor(M& model) : engine_(model) {}

    /// attribute.hpp's attribute().
    attribution_map attribute(const value_type* x, int count, const std::vector<int>& targets,
                              const attribution_options& o = {}) {
        return attribution_detail::attribute(engine_, x, count, targets, o);
    }
    /// faithfulness.hpp's deletion_curve().
    deletion_result deletion_curve(const value_type* x, const attribution_map& map, const deletion_options& o = {}) {
        return attribution_detail::deletion_curve(engine_, x, map, o);
    }
    /// faithfulness.hpp's confidence_drop().
    confidence_drop_result confidence_drop(const value_type* x, const attribution_map& map, float fill = 0,
                                           std::size_t memory_limit = std::size_t(1) << 30) {
        return attribution_detail::confidence_drop(engine_, x, map, fill, memory_limit);
    }
    /// sanity.hpp's randomisation_check().
    sanity_result randomisation_check(const value_type* x, int count, const std::vector<int>& targets,
                                      const sanity_options& o = {}) {
        return attribution_detail::randomisation_check(engine_, x, count, targets, o);
    }

private:
    attribution_detail::engine<M> engine_;
};

}  // namespace convis
