#pragma once
// SGD with momentum and weight decay (torch.optim.SGD), and the paper's filter renormalisation.
//
// Zeiler & Fergus (Sec. 3): SGD, learning rate 1e-2, momentum 0.9, and "we renormalize each
// filter in the convolutional layers whose RMS value exceeds a fixed radius of 1e-1 to this fixed
// radius". SGD::step() does both: the update of every parameter, then the renormalisation of every
// convolution filter (one output channel: in×kh×kw weights, no bias).
//
// The optimiser sees a model only through parameters(), gradients() and parameter_list(), so it
// works for any Model. The arithmetic is in sgd_kernels<Policy> (core/policy.hpp), which each
// backend specialises: backend/cpu/sgd.hpp's loops, backend/gpu/sgd.hpp's kernels.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/policy.hpp"
#include "../core/threads.hpp"

namespace convis {

/// torch.optim.SGD's settings (dampening 0, no Nesterov). Per parameter p with gradient g:
///     d = g + weight_decay · p
///     buf = d on the first step, else momentum · buf + d
///     p -= lr · buf
/// With decay_biases = false, bias tensors get no weight decay (d = g); weights still do. PyTorch
/// does that with two parameter groups; the default (true) is torch.optim.SGD's single group.
struct sgd_options {
    double lr = 0.01;
    double momentum = 0.9;
    double weight_decay = 0;
    bool decay_biases = true;
};

/// The paper's "feature scale clipping": after each update every convolution filter (one output
/// channel's in×kh×kw weights) whose RMS = sqrt(mean(w²)) exceeds `radius` is scaled back to RMS
/// = radius. Filters at or below the radius are left alone, as are biases. `layers` names the conv
/// layers it applies to ("conv1"); empty means every conv layer (weights of rank 4).
struct filter_renorm {
    double radius = 0.1;
    bool enabled = true;
    std::vector<std::string> layers;
};

/// Where the last forward first went non-finite: "the input batch (sample 3)" when the input
/// holds a NaN or an Inf, else the first layer whose output does — "layer 'conv3' (Conv2d),
/// sample 0" — or nullopt when the whole trace is finite. Finds the layer where a bad batch or a
/// bad weight first shows, which the loss alone cannot tell.
template <class M>
std::optional<std::string> first_non_finite_output(const M& model) {
    using Net = typename M::net_type;
    const int batch = model.batch();
    if (batch == 0) return std::nullopt;
    // Returns the first sample of `per_sample`-sized samples that holds a non-finite value, or -1.
    auto bad_sample = [&](const auto* v, std::size_t per_sample) {
        for (std::size_t i = 0; i < per_sample * std::size_t(batch); ++i)
            if (!std::isfinite(double(v[i]))) return int(i / per_sample);
        return -1;
    };
    if (const int n = bad_sample(model.input().data(), M::input_shape::size); n >= 0)
        return "the input batch (sample " + std::to_string(n) + ")";
    for (const auto& row : model.layer_table()) {
        std::size_t per_sample = 1;
        for (const auto d : row.output) per_sample *= std::size_t(d);
        if (const int n = bad_sample(model.output_data(row.index), per_sample); n >= 0)
            return "layer '" + row.name + "' (" + std::string(row.kind) + "), sample " + std::to_string(n);
    }
    return std::nullopt;
}

/// The first parameter tensor, in layer order, whose values hold a NaN or an Inf — "conv3.weight
/// (parameters)" — or, when every value is finite, the first whose gradients do — "fc6.bias
/// (gradients)"; nullopt when all are finite. Values come first because a bad value poisons the
/// gradients of every layer below it: the culprit is the value. Gradients are checked only once
/// the model has a gradient buffer.
template <class M>
std::optional<std::string> first_non_finite(M& model) {
    // parameter_list() is host memory on every policy (a device model copies itself out once).
    auto finite = [](auto values) {
        for (const auto v : values)
            if (!std::isfinite(double(v))) return false;
        return true;
    };
    const auto list = model.parameter_list();
    for (const auto& p : list)
        if (!finite(p.values)) return p.name + " (parameters)";
    for (const auto& p : list)
        if (!p.gradient.empty() && !finite(p.gradient)) return p.name + " (gradients)";
    return std::nullopt;
}

/// SGD over every parameter of a model (see sgd_options), followed by filter renormalisation.
///
///     SGD opt(model, {.lr = 0.01, .momentum = 0.9, .weight_decay = 5e-4});
///     model.zero_grad(); model.backward(grad); opt.step();
///
/// The momentum buffer is one contiguous array laid out as model.parameters(), so a checkpoint
/// stores it as one tensor together with steps(); restoring both resumes the exact trajectory.
/// The optimiser keeps a reference to the model, which must outlive it.
template <class M>
class SGD {
public:
    using value_type = typename M::value_type;
    using policy_type = typename M::policy_type;
    using kernels = sgd_kernels<policy_type>;

    /// One conv weight tensor the renormalisation applies to.
    struct renorm_target {
        std::string layer;        ///< "conv1"
        std::size_t offset;       ///< into parameters()
        std::int64_t filters;     ///< output channels
        std::size_t filter_size;  ///< in × kh × kw
    };

    explicit SGD(M& model, sgd_options options = {}, filter_renorm renorm = {})
        : model_(&model), opt_(options), renorm_(std::move(renorm)) {
        check_options();
        const auto all = model.parameters();
        buf_.resize(all.size());
        kernels::zero(buf_.size(), buf_.data());

        std::vector<std::string> convs;
        std::vector<renorm_target> conv_targets;
        std::size_t off = 0;  // the list is laid out as parameters(), tensor after tensor
        for (const auto& p : model.parameter_list()) {
            // Running statistics are the forward's to write, not the optimiser's.
            if (p.is_buffer) {
                off += p.values.size();
                continue;
            }
            tensors_.push_back({off, p.values.size(), p.is_bias});
            const std::string suffix = ".weight";
            if (p.shape.size() == 4 && !p.is_bias) {
                std::string layer = p.name;
                if (layer.size() > suffix.size() && layer.compare(layer.size() - suffix.size(), suffix.size(), suffix) == 0)
                    layer.resize(layer.size() - suffix.size());
                convs.push_back(layer);
                conv_targets.push_back({layer, off, p.shape[0], p.values.size() / std::size_t(p.shape[0])});
            }
            off += p.values.size();
        }
        if (renorm_.layers.empty()) {
            targets_ = conv_targets;
        } else {
            for (const std::string& want : renorm_.layers) {
                bool found = false;
                for (const auto& t : conv_targets)
                    if (t.layer == want) {
                        found = true;
                        bool dup = false;
                        for (const auto& have : targets_) dup = dup || have.layer == want;
                        if (!dup) targets_.push_back(t);
                    }
                if (!found) {
                    std::string list;
                    for (const auto& c : convs) list += (list.empty() ? "" : ", ") + c;
                    throw error("filter_renorm: no convolution layer named '" + want + "'; the conv layers are: " +
                                (list.empty() ? std::string("(none)") : list));
                }
            }
        }
    }

    /// One update from model.gradients(), then (if enabled) the filter renormalisation.
    void step() {
        const auto p = model_->parameters();
        const auto g = model_->gradients();
        if (buf_.size() != p.size())
            throw error("SGD::step: the model has " + std::to_string(p.size()) + " parameters, the optimiser was built for " +
                        std::to_string(buf_.size()));
        const bool first = steps_ == 0;
        for (const auto& t : tensors_) {
            const double wd = (t.is_bias && !opt_.decay_biases) ? 0.0 : opt_.weight_decay;
            kernels::update(t.size, p.data() + t.offset, g.data() + t.offset, buf_.data() + t.offset, opt_.lr,
                            opt_.momentum, wd, first);
        }
        ++steps_;
        last_renormalised_ = renorm_.enabled ? renormalise() : 0;
    }

    /// Applies the filter renormalisation now (step() calls it after each update); returns the
    /// number of filters it rescaled. Works even when renormalisation is disabled for step().
    std::int64_t renormalise() {
        const auto p = model_->parameters();
        std::int64_t n = 0;
        for (const auto& t : targets_) n += kernels::renormalise(t.filters, t.filter_size, p.data() + t.offset, renorm_.radius);
        return n;
    }

    double lr() const { return opt_.lr; }
    void set_lr(double lr) {
        if (!(lr >= 0) || !std::isfinite(lr)) throw error("SGD::set_lr: the learning rate must be finite and >= 0, got " + std::to_string(lr));
        opt_.lr = lr;
    }
    const sgd_options& options() const { return opt_; }
    const filter_renorm& renorm() const { return renorm_; }
    /// The conv weight tensors the renormalisation touches, in layer order of the request.
    const std::vector<renorm_target>& renorm_targets() const { return targets_; }
    /// How many filters the last step() rescaled (0 before the first step or when disabled).
    std::int64_t last_renormalised() const { return last_renormalised_; }

    /// The momentum buffer, laid out as model.parameters(), in the policy's memory; zero before
    /// the first step.
    std::span<value_type> momentum_buffer() { return {buf_.data(), buf_.size()}; }
    std::span<const value_type> momentum_buffer() const { return {buf_.data(), buf_.size()}; }
    /// The momentum buffer copied to the host (a checkpoint stores it), and back.
    std::vector<value_type> momentum_to_host() const {
        std::vector<value_type> out(buf_.size());
        kernels::download(buf_.size(), buf_.data(), out.data());
        return out;
    }
    void set_momentum(std::span<const value_type> values) {
        if (values.size() != buf_.size())
            throw error("SGD::set_momentum: " + std::to_string(values.size()) + " values, the model has " +
                        std::to_string(buf_.size()) + " parameters");
        kernels::upload(values.size(), values.data(), buf_.data());
    }
    /// Steps taken. 0 means the next step starts the momentum buffer afresh (buf = d); restore a
    /// saved count together with the saved buffer.
    std::int64_t steps() const { return steps_; }
    void set_steps(std::int64_t n) {
        if (n < 0) throw error("SGD::set_steps: the step count must be >= 0, got " + std::to_string(n));
        steps_ = n;
    }

private:
    struct tensor_slice {
        std::size_t offset, size;
        bool is_bias;
    };

    void check_options() const {
        auto bad = [](double v) { return !(v >= 0) || !std::isfinite(v); };
        if (bad(opt_.lr)) throw error("SGD: the learning rate must be finite and >= 0, got " + std::to_string(opt_.lr));
        if (bad(opt_.momentum)) throw error("SGD: momentum must be finite and >= 0, got " + std::to_string(opt_.momentum));
        if (bad(opt_.weight_decay))
            throw error("SGD: weight decay must be finite and >= 0, got " + std::to_string(opt_.weight_decay));
        if (renorm_.enabled && (!(renorm_.radius > 0) || !std::isfinite(renorm_.radius)))
            throw error("filter_renorm: the radius must be finite and > 0, got " + std::to_string(renorm_.radius));
    }

    M* model_;
    sgd_options opt_;
    filter_renorm renorm_;
    typename policy_type::template buffer<value_type> buf_;
    std::vector<tensor_slice> tensors_;
    std::vector<renorm_target> targets_;
    std::int64_t steps_ = 0;
    std::int64_t last_renormalised_ = 0;
};

}  // namespace convis
