// convis train --model zfnet28|zfnet|... --data fashion-mnist|DIR [--epochs E] [--batch B] [--lr ...]
//              [--snapshots 1,2,5] --out DIR
//
// Trains a network as the paper did (train/trainer.hpp): SGD with momentum, dropout, per-pixel mean
// subtraction, random crops and flips, filter renormalisation, the rate divided by 10 when the test
// loss stalls. Writes DIR/model.safetensors (weights + preprocess.mean), DIR/metrics.json,
// DIR/checkpoint.safetensors (resume with --resume) and DIR/snapshots/epoch-E.safetensors.
//
// --data fashion-mnist reads Debian's dataset-fashion-mnist (or $CONVIS_FASHION_MNIST); a folder
// holds DIR/train/<class>/… and DIR/test/<class>/… (pictures are fitted to the input size).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <convis/data/pictures.hpp>
#include <convis/data/fashion_mnist.hpp>
#include <convis/data/image_folder.hpp>
#include <convis/train/trainer.hpp>

#include "commands.hpp"

namespace convis_cli {
namespace {

struct train_cli_options {
    model_choice model;
    std::string data = "fashion-mnist", out, snapshots, init = "kaiming";
    int epochs = 10, batch = 64, pad = 2, patience = 2, lr_step = 0;
    double lr = 0.01, momentum = 0.9, weight_decay = 0, radius = 0.1, lr_gamma = 0.1, dropout = 0.5;
    bool resume = false, cosine = false, no_augment = false, no_renorm = false, quiet = false, no_std = false;
    std::uint64_t seed = 1;
    std::int64_t limit = 0;
};

/// The first `limit` pictures of a set (all when limit is 0).
convis::image_set first_of(convis::image_set s, std::int64_t limit) {
    if (limit <= 0 || limit >= s.count) return s;
    s.count = int(limit);
    s.pixels.resize(std::size_t(limit) * s.channels * s.height * s.width);
    s.labels.resize(std::size_t(limit));
    return s;
}

void run_train(const train_cli_options& o) {
    const auto model = open_session(o.model);
    const convis::input_dims dims = model->input();
    convis::image_set train, test;
    std::vector<std::string> names;
    if (o.data == "fashion-mnist") {
        if (dims.channels != 1 || dims.height != 28 || dims.width != 28)
            throw convis::error("--data fashion-mnist holds 1x28x28 pictures; " + model->type_name() +
                                " takes " + std::to_string(dims.channels) + "x" + std::to_string(dims.height) + "x" +
                                std::to_string(dims.width) + " (use --model zfnet28, or a folder of pictures)");
        train = convis::load_fashion_mnist("train");
        names.assign(convis::fashion_mnist_classes.begin(), convis::fashion_mnist_classes.end());
        test = convis::load_fashion_mnist("test");
    } else {
        namespace fs = std::filesystem;
        const fs::path root(o.data);
        if (!fs::is_directory(root / "train") || !fs::is_directory(root / "test"))
            throw convis::error(o.data + ": expected a folder with train/<class>/ and test/<class>/ sub-folders of pictures");
        const auto tr = convis::list_image_folder((root / "train").string());
        const auto te = convis::list_image_folder((root / "test").string());
        if (tr.classes != te.classes)
            throw convis::error(o.data + ": train/ and test/ have different class folders");
        train = convis::load_labelled_folder(tr, dims.channels, dims.height, dims.width);
        names = tr.classes;
        test = convis::load_labelled_folder(te, dims.channels, dims.height, dims.width);
    }
    train = first_of(std::move(train), o.limit);
    test = first_of(std::move(test), o.limit > 0 ? std::max<std::int64_t>(o.limit / 6, 1) : 0);

    model->init(o.init == "paper" ? convis::init_scheme::paper : convis::init_scheme::kaiming, o.seed);

    convis::train_options t;
    t.epochs = o.epochs;
    t.batch = o.batch;
    t.sgd = {o.lr, o.momentum, o.weight_decay, true};
    t.renorm.radius = o.radius;
    t.renorm.enabled = !o.no_renorm;
    t.plateau = true;
    t.patience = o.patience;
    t.lr_step = o.lr_step;
    t.lr_gamma = o.lr_gamma;
    t.cosine = o.cosine;
    if (o.no_augment) t.augment.reset();
    else t.augment = convis::augmentation{o.pad, true};
    t.seed = o.seed;
    t.normalise_std = !o.no_std;
    t.dropout = o.dropout;
    t.snapshots = o.snapshots.empty() ? std::vector<int>{}
                                       : parse_int_list(o.snapshots, "--snapshots", 1, "epoch numbers (1, 2, ...) separated by commas");
    t.out = o.out;
    if (int(names.size()) == model->classes()) t.class_names = names;
    t.resume = o.resume;
    t.progress = !o.quiet;
    std::printf("training %s on %d pictures (testing on %d), %d epochs of %d batches of %d\n",
                model->type_name().c_str(), train.count, test.count, o.epochs,
                (train.count + o.batch - 1) / o.batch, o.batch);
    std::fflush(stdout);
    const auto records = model->fit(train, test, t);
    double seconds = 0;
    for (const auto& r : records) seconds += r.seconds;
    std::printf("test accuracy %.2f%% after %d epochs (%.0f s); wrote %s/model.safetensors and %s/metrics.json\n",
                100 * records.back().test_accuracy, records.back().epoch, seconds, o.out.c_str(), o.out.c_str());
}

}  // namespace

command add_train(CLI::App& parent) {
    auto* app = parent.add_subcommand("train", "Train a network as the paper did (SGD, momentum, dropout, "
                                               "filter renormalisation), with checkpoints and snapshots");
    auto o = std::make_shared<train_cli_options>();
    add_model_options(app, o->model);
    add_device_option(app, o->model);
    app->add_option("--data", o->data, "fashion-mnist, or a folder with train/<class>/ and test/<class>/")
        ->capture_default_str();
    app->add_option("--epochs", o->epochs, "Epochs")->check(CLI::Range(1, 100000))->capture_default_str();
    app->add_option("--batch", o->batch, "Batch size")->check(CLI::Range(1, 65536))->capture_default_str();
    app->add_option("--lr", o->lr, "Learning rate (the paper: 0.01)")->check(CLI::NonNegativeNumber)->capture_default_str();
    app->add_option("--momentum", o->momentum, "Momentum (the paper: 0.9)")->check(CLI::NonNegativeNumber)->capture_default_str();
    app->add_option("--weight-decay", o->weight_decay, "Weight decay")->check(CLI::NonNegativeNumber)->capture_default_str();
    app->add_option("--radius", o->radius, "Filter renormalisation: RMS radius of conv filters (the paper: 0.1)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app->add_flag("--no-renorm", o->no_renorm, "Do not renormalise conv filters");
    app->add_option("--patience", o->patience, "Divide the rate by 10 after this many epochs without a better test loss")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    app->add_option("--lr-step", o->lr_step, "Instead: multiply the rate by --lr-gamma every this many epochs")
        ->check(CLI::NonNegativeNumber);
    app->add_option("--lr-gamma", o->lr_gamma, "Factor of --lr-step")->check(CLI::Range(0.0, 1.0))->capture_default_str();
    auto* cosine = app->add_flag("--cosine", o->cosine, "Instead: lower the rate along half a cosine to 0 over the run, "
                                                      "every step (so a short run ends slow)");
    cosine->excludes("--lr-step");
    app->add_option("--pad", o->pad, "Random crops: shift by up to this many pixels")->check(CLI::Range(0, 64))->capture_default_str();
    app->add_option("--dropout", o->dropout, "Dropout probability in the fully connected layers (the paper: 0.5)")
        ->check(CLI::Range(0.0, 0.95))
        ->capture_default_str();
    app->add_flag("--no-augment", o->no_augment, "No random crops or flips");
    app->add_flag("--no-std", o->no_std, "Subtract the mean only (the paper); by default inputs are also divided by "
                                         "the training set's standard deviation");
    app->add_option("--init", o->init, "Initialisation: kaiming, or paper (N(0, 0.01^2))")
        ->check(CLI::IsMember({"kaiming", "paper"}))
        ->capture_default_str();
    app->add_option("--snapshots", o->snapshots, "Epochs after which to keep the weights, e.g. 1,2,5,10 (Fig. 4)");
    app->add_option("--limit", o->limit, "Use only the first N training pictures (and N/6 test pictures)")
        ->check(CLI::NonNegativeNumber);
    add_seed_option(app, o->seed);
    app->add_flag("--resume", o->resume, "Continue from OUT/checkpoint.safetensors");
    app->add_flag("--quiet", o->quiet, "No progress on stderr");
    app->add_option("--out", o->out, "Output folder")->required();
    return {app, [o] { run_train(*o); }};
}

}  // namespace convis_cli
