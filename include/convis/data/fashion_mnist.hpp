#pragma once
// convis/data/fashion_mnist.hpp — finds and loads Fashion-MNIST (Xiao, Rasul and Vollgraf 2017): 70000
// grey 28×28 pictures of clothing in 10 classes, 60000 for training and 10000 for testing, as four IDX
// files. Debian's `dataset-fashion-mnist` installs them gzipped in /usr/share/datasets/fashion-mnist:
//
//   train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz  t10k-images-idx3-ubyte.gz  t10k-labels-idx1-ubyte.gz
//
// The files may also be unpacked (the same names without .gz). The directory is, in order: the one passed
// in, $CONVIS_FASHION_MNIST, or Debian's. Loading checks what the rest of convis relies on — 28×28 one-channel
// images and labels 0..9 — so a wrong or damaged file fails here, naming itself, not later in training.
#include <array>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "../core/error.hpp"
#include "../io/idx.hpp"

namespace convis {

/// Class names in label order.
inline constexpr std::array<const char*, 10> fashion_mnist_classes{
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

/// Where Debian's dataset-fashion-mnist puts the files.
inline constexpr const char* fashion_mnist_default_dir = "/usr/share/datasets/fashion-mnist";

/// `override_dir` if not empty, else $CONVIS_FASHION_MNIST if set and not empty, else
/// /usr/share/datasets/fashion-mnist. Does not check that the directory exists.
inline std::string fashion_mnist_dir(const std::string& override_dir = "");

/// The "train" (60000) or "test" (10000) split from `dir` (as fashion_mnist_dir(dir) resolves it):
/// 28×28 one-channel images with labels 0..9. Throws convis::error if a file is missing or malformed.
inline image_set load_fashion_mnist(const std::string& split, const std::string& dir = "");

// ---------------------------------------------------------------------------------------------------------
// Details
// ---------------------------------------------------------------------------------------------------------

namespace fashion_mnist_detail {

inline constexpr const char* install_hint =
    "install Debian's dataset-fashion-mnist or pass a directory (or set CONVIS_FASHION_MNIST)";

// `dir`/`name`.gz if present, else `dir`/`name`; throws naming both when neither is there.
inline std::string find_file(const std::string& dir, const std::string& name, const std::string& what) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path base = fs::path(dir) / name;
    for (const std::string& candidate : {base.string() + ".gz", base.string()})
        if (fs::is_regular_file(candidate, ec)) return candidate;
    if (!fs::is_directory(dir, ec))
        throw error(dir + ": Fashion-MNIST directory not found (looking for " + what + " " + name +
                    "[.gz]); " + install_hint);
    throw error(base.string() + "[.gz]: Fashion-MNIST " + what + " not found in " + dir + "; " + install_hint);
}

}  // namespace fashion_mnist_detail

inline std::string fashion_mnist_dir(const std::string& override_dir) {
    if (!override_dir.empty()) return override_dir;
    if (const char* env = std::getenv("CONVIS_FASHION_MNIST"); env && *env) return env;
    return fashion_mnist_default_dir;
}

inline image_set load_fashion_mnist(const std::string& split, const std::string& dir) {
    namespace fd = fashion_mnist_detail;
    if (split != "train" && split != "test")
        throw error("Fashion-MNIST: split must be \"train\" or \"test\", found \"" + split + "\"");
    const std::string d = fashion_mnist_dir(dir);
    const std::string prefix = split == "train" ? "train" : "t10k";
    const std::string images = fd::find_file(d, prefix + "-images-idx3-ubyte", split + " images");
    const std::string labels = fd::find_file(d, prefix + "-labels-idx1-ubyte", split + " labels");

    image_set s = read_idx_images(images, labels);
    if (s.height != 28 || s.width != 28 || s.channels != 1)
        throw error(images + ": expected Fashion-MNIST images of 1×28×28, found " + std::to_string(s.channels) +
                    "×" + std::to_string(s.height) + "×" + std::to_string(s.width));
    for (std::size_t i = 0; i < s.labels.size(); ++i)
        if (s.labels[i] < 0 || s.labels[i] >= static_cast<std::int64_t>(fashion_mnist_classes.size()))
            throw error(labels + ": label at index " + std::to_string(i) + " is " + std::to_string(s.labels[i]) +
                        "; expected 0..9 (Fashion-MNIST has 10 classes)");
    return s;
}

}  // namespace convis
