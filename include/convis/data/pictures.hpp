#pragma once
// picture_set: the pictures of a data set addressed by index — an IDX file held in memory, or a
// folder read one picture at a time — and load_batch, which turns a run of them into a network
// input: fitted to the input size (io/image.hpp's fit_picture) and preprocessed (preprocess.hpp).
// Opt-in like io/image.hpp, which it includes (stb is compiled into the including file).
#include <algorithm>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/threads.hpp"
#include "../core/tensor.hpp"
#include "../io/idx.hpp"
#include "../io/image.hpp"
#include "image_folder.hpp"
#include "preprocess.hpp"

namespace convis {

class picture_set {
public:
    /// Pictures of an IDX file (copied in; `source` names it in descriptions).
    static picture_set from(image_set images, std::string source);
    /// Pictures of a folder, read when asked for.
    static picture_set from(image_folder folder);

    std::int64_t size() const { return count_; }
    /// Picture i, planar, 0..255. convis::error when i is out of range or the file is unreadable.
    image load(std::int64_t i) const;
    /// Where picture i comes from: "<file>" or "<idx file>#<i>".
    std::string describe(std::int64_t i) const;
    /// Its class, or −1 when the data set has none.
    std::int64_t label(std::int64_t i) const;

private:
    std::shared_ptr<const image_set> idx_;
    std::shared_ptr<const image_folder> folder_;
    std::string source_;
    std::int64_t count_ = 0;
};

/// Loads pictures [first, first + count) into `x` (resized to count), each fitted to the input
/// shape In and preprocessed; `fitted`, when given, receives the fitted pictures (0..255) — what
/// the network saw, for patches. Pictures are decoded on all threads.
template <shape In>
void load_batch(const picture_set& pictures, std::int64_t first, int count, const preprocess& pre,
                Tensor<In, float>& x, std::vector<image>* fitted = nullptr);

/// load_batch for a network known at run time (analysis/runtime_model.hpp): writes count ×
/// dims.size() values to `x`.
void load_batch(const picture_set& pictures, std::int64_t first, int count, const preprocess& pre, input_dims dims,
                float* x, std::vector<image>* fitted = nullptr);

/// Every picture of a folder, fitted to channels × height × width and held in memory as 8-bit
/// pixels with the folder's labels (its first-level sub-folders), ready for training. A picture
/// directly in the folder (label −1) is an error: training needs a class for each.
image_set load_labelled_folder(const image_folder& folder, int channels, int height, int width);

// ---- details ------------------------------------------------------------------------------------

inline picture_set picture_set::from(image_set images, std::string source) {
    picture_set s;
    s.count_ = images.count;
    s.source_ = std::move(source);
    s.idx_ = std::make_shared<const image_set>(std::move(images));
    return s;
}

inline picture_set picture_set::from(image_folder folder) {
    picture_set s;
    s.count_ = std::int64_t(folder.files.size());
    s.source_ = folder.root;
    s.folder_ = std::make_shared<const image_folder>(std::move(folder));
    return s;
}

inline image picture_set::load(std::int64_t i) const {
    if (i < 0 || i >= count_)
        throw error(source_ + ": picture " + std::to_string(i) + " asked for; the set holds " + std::to_string(count_));
    if (folder_) return read_image(folder_->files[std::size_t(i)]);
    const image_set& s = *idx_;
    image img;
    img.channels = s.channels;
    img.height = s.height;
    img.width = s.width;
    const std::size_t n = std::size_t(s.channels) * s.height * s.width;
    const auto* p = s.pixels.data() + std::size_t(i) * n;
    img.pixels.assign(p, p + n);
    return img;
}

inline std::string picture_set::describe(std::int64_t i) const {
    if (folder_ && i >= 0 && i < count_) return folder_->files[std::size_t(i)];
    return source_ + "#" + std::to_string(i);
}

inline std::int64_t picture_set::label(std::int64_t i) const {
    if (i < 0 || i >= count_) return -1;
    if (folder_) return folder_->labels[std::size_t(i)];
    return idx_->labels.empty() ? -1 : idx_->labels[std::size_t(i)];
}

template <shape In>
void load_batch(const picture_set& pictures, std::int64_t first, int count, const preprocess& pre,
                Tensor<In, float>& x, std::vector<image>* fitted) {
    if (count >= 1) x.resize(count);
    load_batch(pictures, first, count, pre, input_dims{In::channels, In::height, In::width}, x.sample(0), fitted);
}

inline void load_batch(const picture_set& pictures, std::int64_t first, int count, const preprocess& pre, input_dims dims,
                       float* x, std::vector<image>* fitted) {
    if (count < 1 || first < 0 || first + count > pictures.size())
        throw error("load_batch: pictures [" + std::to_string(first) + ", " + std::to_string(first + count) +
                    ") asked for; the set holds " + std::to_string(pictures.size()));
    if (fitted) fitted->assign(std::size_t(count), image{});
    std::exception_ptr failure;
#pragma omp parallel for schedule(dynamic) num_threads(convis::threads())
    for (int n = 0; n < count; ++n) {
        try {
            image img = fit_picture(pictures.load(first + n), dims.channels, dims.height, dims.width);
            pre.apply(img.pixels.data(), x + std::size_t(n) * dims.size(), dims.channels, dims.height, dims.width);
            if (fitted) (*fitted)[std::size_t(n)] = std::move(img);
        } catch (...) {
#pragma omp critical(convis_load_batch)
            if (!failure) failure = std::current_exception();
        }
    }
    if (failure) std::rethrow_exception(failure);
}

inline image_set load_labelled_folder(const image_folder& folder, int channels, int height, int width) {
    image_set s;
    s.count = int(folder.files.size());
    s.channels = channels;
    s.height = height;
    s.width = width;
    const std::size_t n = std::size_t(channels) * height * width;
    s.pixels.resize(n * folder.files.size());
    s.labels = folder.labels;
    for (std::size_t i = 0; i < folder.files.size(); ++i)
        if (folder.labels[i] < 0)
            throw error(folder.files[i] + ": a picture outside every class folder; training pictures go in " + folder.root +
                        "/<class>/");
    std::exception_ptr failure;
#pragma omp parallel for schedule(dynamic) num_threads(convis::threads())
    for (int i = 0; i < s.count; ++i) {
        try {
            const image img = fit_picture(read_image(folder.files[std::size_t(i)]), channels, height, width);
            for (std::size_t j = 0; j < n; ++j)
                s.pixels[std::size_t(i) * n + j] = std::uint8_t(std::clamp(std::lround(img.pixels[j]), 0L, 255L));
        } catch (...) {
#pragma omp critical(convis_load_folder)
            if (!failure) failure = std::current_exception();
        }
    }
    if (failure) std::rethrow_exception(failure);
    return s;
}

}  // namespace convis
