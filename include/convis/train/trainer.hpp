#pragma once
// Training a model on a labelled picture set as the paper did (§2, PAPER.md): SGD with momentum,
// dropout in the fully connected layers, the per-pixel mean subtracted, random crops and flips,
// conv filters renormalised after every update; evaluation after every epoch; checkpoints that a
// run resumes from bit for bit; weight snapshots at chosen epochs (the paper's Fig. 4 uses
// 1, 2, 5, 10, 20, 30, 40, 64).
//
// Files in the output folder (all written to a temporary name and renamed, never half-written):
//   checkpoint.safetensors     parameters, preprocess.mean [C,H,W], optimizer.momentum [P], and in
//                              its metadata the epoch, step count, learning rate, schedule state,
//                              seed and the metrics so far — the last finished epoch
//   snapshots/epoch-E.safetensors  parameters + preprocess.mean (+ preprocess.std) after epoch E
//   model.safetensors          the final parameters + preprocess.mean [C,H,W] on the [0, 1] pixel
//                              scale, and preprocess.std [C] unless normalise_std is off
//   metrics.json               per epoch: train loss and accuracy, test loss and accuracy, seconds, lr
// A process killed at any moment leaves the last checkpoint whole (at most a stray
// "<file>.tmp-<n>" beside it): resume=true continues from it to the same weights, bit for bit.
// A NaN or Inf stops the run with the first layer whose output it spoiled and the first
// parameter tensor that holds one.
//
// Threads: train() uses its own worker thread to prepare the next batch, and owns the model until
// it returns; nothing else may use the model meanwhile.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "../core/error.hpp"
#include "../data/batches.hpp"
#include "../io/idx.hpp"
#include "../io/safetensors.hpp"
#include "../io/text_file.hpp"
#include "../io/weights.hpp"
#include "loss.hpp"
#include "schedule.hpp"
#include "sgd.hpp"

namespace convis {

struct train_options {
    int epochs = 10;
    int batch = 64;
    sgd_options sgd{0.01, 0.9, 0.0, true};  ///< the paper's rate and momentum
    filter_renorm renorm{};                  ///< the paper's RMS radius 0.1 on every conv layer
    /// Learning-rate schedule: divide by 10 when the test loss stops improving for `patience`
    /// epochs (the paper annealed by hand on the validation error), or a fixed step every
    /// `lr_step` epochs by `lr_gamma` when lr_step > 0.
    bool plateau = true;
    int patience = 2;
    int lr_step = 0;
    double lr_gamma = 0.1;
    /// Instead of both: the rate follows half a cosine from sgd.lr to 0 over the whole run, set
    /// before every step (cosine_schedule).
    bool cosine = false;
    std::optional<augmentation> augment = augmentation{};  ///< nullopt: no augmentation
    std::uint64_t seed = 1;
    std::vector<int> snapshots;       ///< epochs (1-based) after which to write a snapshot
    std::string out;                  ///< output folder
    /// Names of the classes in label order; stored in every weights file written (metadata
    /// `convis.classes`, a JSON list) so that analyses can label their figures.
    std::vector<std::string> class_names;
    bool resume = false;              ///< continue from out/checkpoint.safetensors when it exists
    /// Divide inputs by the training set's per-channel standard deviation as well (saved as
    /// preprocess.std); the paper subtracts the mean only.
    bool normalise_std = true;
    /// Dropout probability of every Dropout layer; unset: leave the layers as they are (0.5,
    /// the paper's).
    std::optional<double> dropout;
    int eval_batch = 500;
    /// Progress on stderr: one updating line on a terminal, plain lines otherwise; off when false.
    bool progress = true;
};

struct epoch_record {
    int epoch;  ///< 1-based
    double train_loss, train_accuracy, test_loss, test_accuracy, seconds, lr;
};

struct evaluation {
    double loss, accuracy;
};

/// Mean cross-entropy and accuracy of `model` (eval mode) over a picture set.
template <class M>
evaluation evaluate(M& model, const image_set& set, const std::vector<float>& mean, int batch = 500,
                    const std::vector<float>& std = {});

/// Trains `model` (already initialised) on `train`, evaluating on `test` after every epoch; writes
/// the files listed above into o.out. Returns every epoch's record (those of a resumed run
/// included). A non-finite loss stops training with a convis::error naming the first layer whose
/// parameters or gradients went non-finite; the last checkpoint stays as it was.
template <class M>
std::vector<epoch_record> train(M& model, const image_set& train, const image_set& test, const train_options& o);

/// The metrics file's content.
nlohmann::json metrics_json(const std::vector<epoch_record>& records);

// ---- details ------------------------------------------------------------------------------------

namespace train_detail {

inline std::string clock(double seconds) {
    const long s = long(std::max(0.0, seconds) + 0.5);
    char b[32];
    std::snprintf(b, sizeof b, "%ld:%02ld", s / 60, s % 60);
    return b;
}

/// One line of progress: on a terminal it overwrites itself; otherwise it is printed at most
/// every 10% of an epoch.
class progress_line {
public:
    explicit progress_line(bool on) : on_(on), tty_(on && ::isatty(2)) {}
    void update(int epoch, int epochs, int step, int steps, double loss, double acc, double rate, double left) {
        if (!on_) return;
        const int tenth = steps >= 10 ? steps / 10 : 1;
        if (!tty_ && step % tenth != 0 && step != steps) return;
        const int width = 24, done = int(double(step) / steps * width);
        std::string bar(std::size_t(done), '=');
        bar.resize(std::size_t(width), ' ');
        std::fprintf(stderr, "%sepoch %d/%d [%s] %3d%%  loss %.4f  acc %5.2f%%  %.0f img/s  %s left%s", tty_ ? "\r" : "",
                     epoch, epochs, bar.c_str(), int(100.0 * step / steps), loss, 100 * acc, rate, clock(left).c_str(),
                     tty_ ? "\033[K" : "\n");
        std::fflush(stderr);
    }
    void line(const std::string& s) {
        if (!on_) return;
        std::fprintf(stderr, "%s%s\n", tty_ ? "\r\033[K" : "", s.c_str());
    }

private:
    bool on_, tty_;
};

template <class M>
void save_with(M& model, const std::string& path, const std::vector<float>& mean, const std::vector<float>& std, int c,
               int h, int w, weights_extras extras = {}) {
    extras.tensors["preprocess.mean"] = make_tensor<float>(mean, {c, h, w});
    if (!std.empty()) extras.tensors["preprocess.std"] = make_tensor<float>(std, {c});
    save_weights(model, path, extras);
}

}  // namespace train_detail

inline nlohmann::json metrics_json(const std::vector<epoch_record>& records) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : records)
        j.push_back({{"epoch", r.epoch}, {"train_loss", r.train_loss}, {"train_accuracy", r.train_accuracy},
                     {"test_loss", r.test_loss}, {"test_accuracy", r.test_accuracy}, {"seconds", r.seconds}, {"lr", r.lr}});
    return {{"epochs", j}};
}

template <class M>
evaluation evaluate(M& model, const image_set& set, const std::vector<float>& mean, int batch,
                    const std::vector<float>& std) {
    using In = typename M::input_shape;
    const int classes = model.classes();
    batch_maker maker(set, mean, batch, 0, std);
    model.eval();
    double loss = 0;
    std::int64_t correct = 0;
    Tensor<In, float> x;
    std::vector<std::int64_t> labels;
    Tensor<typename M::output_shape, float> grad;
    for (int b = 0; b < maker.batches(); ++b) {
        maker.make(0, b, nullptr, nullptr, x, labels);
        const auto y = model.forward(x);
        loss += double(cross_entropy(y, std::span<const std::int64_t>(labels), grad)) * x.batch();
        for (int n = 0; n < x.batch(); ++n) {
            const float* row = y.sample(n);
            correct += std::int64_t(std::max_element(row, row + classes) - row) == labels[std::size_t(n)];
        }
    }
    return {loss / set.count, double(correct) / set.count};
}

template <class M>
std::vector<epoch_record> train(M& model, const image_set& train, const image_set& test, const train_options& o) {
    using In = typename M::input_shape;
    using T = typename M::value_type;
    const int classes = model.classes();
    namespace fs = std::filesystem;
    if (o.epochs < 1) throw error("train: epochs must be at least 1, got " + std::to_string(o.epochs));
    if (o.out.empty()) throw error("train: no output folder");
    for (const auto* set : {&train, &test})
        for (std::size_t i = 0; i < set->labels.size(); ++i)
            if (set->labels[i] < 0 || set->labels[i] >= classes)
                throw error("train: label " + std::to_string(set->labels[i]) + " of picture " + std::to_string(i) +
                            " is outside the model's " + std::to_string(classes) + " classes");
    std::error_code ec;
    fs::create_directories(fs::path(o.out) / "snapshots", ec);
    if (ec) throw error(o.out + ": cannot create the output folder: " + ec.message());
    const std::string checkpoint = (fs::path(o.out) / "checkpoint.safetensors").string();
    if (!o.class_names.empty() && o.class_names.size() != std::size_t(classes))
        throw error("train: " + std::to_string(o.class_names.size()) + " class names for the model's " +
                    std::to_string(classes) + " classes");
    weights_extras labelled;  // what every weights file written carries besides the parameters
    if (!o.class_names.empty()) labelled.metadata["convis.classes"] = nlohmann::json(o.class_names).dump();

    if (o.dropout) {
        if (!(*o.dropout >= 0 && *o.dropout < 1)) throw error("train: dropout must be in [0, 1), got " + std::to_string(*o.dropout));
        M::net_type::for_each_index([&](auto i) {
            auto& l = model.template layer<decltype(i)::value>();
            if constexpr (requires { l.p; l.seed; }) l.p = *o.dropout;
        });
    }
    const std::vector<float> mean = pixel_mean(train);
    const std::vector<float> stdev = o.normalise_std ? channel_std(train) : std::vector<float>{};
    SGD<M> opt(model, o.sgd, o.renorm);
    plateau_schedule plateau(0.1, o.patience);
    std::vector<epoch_record> records;
    int start = 0;
    if (o.resume && fs::exists(checkpoint)) {
        const weights_extras ex = load_weights(model, checkpoint);
        const auto it = ex.tensors.find("optimizer.momentum");
        if (it == ex.tensors.end()) throw error(checkpoint + ": no tensor 'optimizer.momentum'; not a training checkpoint");
        const auto buf = it->second.to_vector<T>(checkpoint, "optimizer.momentum");
        if (buf.size() != opt.momentum_buffer().size())
            throw error(checkpoint + ": 'optimizer.momentum' holds " + std::to_string(buf.size()) + " values, the model has " +
                        std::to_string(opt.momentum_buffer().size()) + " parameters");
        opt.set_momentum(buf);
        try {
            const auto meta = nlohmann::json::parse(ex.metadata.at("convis.training"));
            start = meta.at("epoch").get<int>();
            opt.set_steps(meta.at("steps").get<std::int64_t>());
            opt.set_lr(meta.at("lr").get<double>());
            const auto& best = meta.at("plateau_best");  // null: no epoch observed yet
            plateau.restore(best.is_null() ? std::numeric_limits<double>::infinity() : best.get<double>(),
                            meta.at("plateau_bad").get<int>());
            for (const auto& r : meta.at("records"))
                records.push_back({r.at("epoch").get<int>(), r.at("train_loss").get<double>(),
                                   r.at("train_accuracy").get<double>(), r.at("test_loss").get<double>(),
                                   r.at("test_accuracy").get<double>(), r.at("seconds").get<double>(),
                                   r.at("lr").get<double>()});
        } catch (const std::exception& e) {
            throw error(checkpoint + ": unreadable training state in metadata 'convis.training': " + e.what());
        }
    }

    batch_maker maker(train, mean, o.batch, o.seed, stdev);
    const int steps = maker.batches();
    train_detail::progress_line progress(o.progress);
    if (start > 0) progress.line("resuming after epoch " + std::to_string(start) + " from " + checkpoint);
    Tensor<typename M::output_shape, T> grad;
    for (int epoch = start; epoch < o.epochs; ++epoch) {
        if (o.lr_step > 0) opt.set_lr(step_schedule{o.lr_step, o.lr_gamma}.lr_at(o.sgd.lr, epoch));
        const cosine_schedule cosine{std::int64_t(o.epochs) * steps};
        if (o.cosine) opt.set_lr(cosine.lr_at(o.sgd.lr, std::int64_t(epoch) * steps));
        const double lr = opt.lr();
        const auto t0 = std::chrono::steady_clock::now();
        // Dropout masks depend on (seed, epoch) only, so a resumed run repeats them.
        model.seed(o.seed * 0x2545f4914f6cdd1dull + std::uint64_t(epoch));
        model.train();
        const std::vector<std::int64_t> order = maker.order(epoch);
        batch_prefetcher<In> next(maker, epoch, &order, o.augment ? &*o.augment : nullptr);
        next.prefetch(0);
        double loss_sum = 0;
        std::int64_t correct = 0, seen = 0;
        for (int b = 0; b < steps; ++b) {
            const auto [x, labels] = next.wait();
            const auto y = model.forward(*x);
            const T loss = cross_entropy(y, std::span<const std::int64_t>(*labels), grad);
            for (int n = 0; n < x->batch(); ++n) {
                const T* row = y.sample(n);
                correct += std::int64_t(std::max_element(row, row + classes) - row) == (*labels)[std::size_t(n)];
            }
            model.zero_grad();
            model.backward(grad);
            if (!std::isfinite(double(loss))) {
                const std::string output = first_non_finite_output(model).value_or("none (the loss alone)");
                const std::string param = first_non_finite(model).value_or("none");
                throw error("training stopped in epoch " + std::to_string(epoch + 1) + ", step " + std::to_string(b + 1) +
                            ": the loss is " + std::to_string(double(loss)) + "; first non-finite output: " + output +
                            "; first non-finite parameters: " + param +
                            (start < epoch || fs::exists(checkpoint) ? "; " + checkpoint + " holds the last good epoch" : ""));
            }
            if (b + 1 < steps) next.prefetch(b + 1);
            if (o.cosine) opt.set_lr(cosine.lr_at(o.sgd.lr, std::int64_t(epoch) * steps + b));
            opt.step();
            loss_sum += double(loss) * x->batch();
            seen += x->batch();
            const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            progress.update(epoch + 1, o.epochs, b + 1, steps, loss_sum / seen, double(correct) / seen, seen / secs,
                            secs / (b + 1) * (steps - b - 1));
        }
        if (const auto bad = first_non_finite(model))
            throw error("training stopped after epoch " + std::to_string(epoch + 1) + ": non-finite values in " + *bad);
        const evaluation ev = evaluate(model, test, mean, o.eval_batch, stdev);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        records.push_back({epoch + 1, loss_sum / seen, double(correct) / seen, ev.loss, ev.accuracy, secs, lr});
        char msg[200];
        std::snprintf(msg, sizeof msg, "epoch %d/%d: train loss %.4f, acc %.2f%%; test loss %.4f, acc %.2f%%; %.1f s; lr %g",
                      epoch + 1, o.epochs, records.back().train_loss, 100 * records.back().train_accuracy, ev.loss,
                      100 * ev.accuracy, secs, lr);
        progress.line(msg);
        if (o.plateau && o.lr_step <= 0 && !o.cosine) opt.set_lr(plateau.observe(opt.lr(), ev.loss));

        // Snapshot, metrics, then the checkpoint last: a crash between them loses nothing a
        // resume does not redo.
        for (int s : o.snapshots)
            if (s == epoch + 1)
                train_detail::save_with(model, (fs::path(o.out) / "snapshots" / ("epoch-" + std::to_string(s) + ".safetensors")).string(),
                                        mean, stdev, In::channels, In::height, In::width, labelled);
        write_text_atomic((fs::path(o.out) / "metrics.json").string(), metrics_json(records).dump(1) + "\n");
        weights_extras ex = labelled;
        const std::vector<T> buf = opt.momentum_to_host();
        ex.tensors["optimizer.momentum"] = make_tensor<T>(std::span<const T>(buf.data(), buf.size()), {std::int64_t(buf.size())});
        nlohmann::json meta = {{"epoch", epoch + 1}, {"steps", opt.steps()}, {"lr", opt.lr()}, {"seed", o.seed},
                               {"plateau_best", std::isfinite(plateau.best()) ? nlohmann::json(plateau.best()) : nlohmann::json()},
                               {"plateau_bad", plateau.bad_epochs()},
                               {"records", metrics_json(records).at("epochs")}};
        ex.metadata["convis.training"] = meta.dump();
        train_detail::save_with(model, checkpoint, mean, stdev, In::channels, In::height, In::width, ex);
    }
    train_detail::save_with(model, (fs::path(o.out) / "model.safetensors").string(), mean, stdev, In::channels,
                            In::height, In::width, labelled);
    return records;
}

}  // namespace convis
