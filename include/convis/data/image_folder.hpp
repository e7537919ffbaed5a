#pragma once
// A folder of pictures as a data set: every PNG/JPEG/BMP/PGM/PPM under it, in a fixed (sorted)
// order; the first-level sub-folders are the classes (ImageNet's and torchvision's ImageFolder
// layout, `DIR/<class>/.../<picture>`). Only the list is made here; pictures are read one batch at
// a time (io/image.hpp), so a large folder costs no memory up front.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "../core/error.hpp"

namespace convis {

struct image_folder {
    std::string root;
    std::vector<std::string> files;     ///< every picture, sorted by path
    std::vector<std::int64_t> labels;   ///< per file: its class's index, or −1 for a file directly in root
    std::vector<std::string> classes;   ///< sorted names of the sub-folders that hold pictures
};

/// Lists `dir`. convis::error when it is missing, not a folder, unreadable, or holds no picture.
image_folder list_image_folder(const std::string& dir);

/// True for the file names list_image_folder takes as pictures (by extension, any case).
bool is_picture_file(const std::string& path);

// ---- details ------------------------------------------------------------------------------------

inline bool is_picture_file(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    for (const char* e : {".png", ".jpg", ".jpeg"})
        if (ext == e) return true;
    return false;
}

inline image_folder list_image_folder(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw error(dir + ": not a folder of pictures (" + (fs::exists(dir, ec) ? "not a directory" : "no such directory") + ")");
    image_folder f;
    f.root = dir;
    std::vector<std::pair<std::string, std::string>> found;  // (path, first-level folder or "")
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
    if (ec) throw error(dir + ": cannot list: " + ec.message());
    for (; it != end; it.increment(ec)) {
        if (ec) throw error(dir + ": cannot list: " + ec.message());
        if (!it->is_regular_file(ec) || !is_picture_file(it->path().string())) continue;
        const fs::path rel = fs::relative(it->path(), dir, ec);
        const std::string top = std::distance(rel.begin(), rel.end()) > 1 ? rel.begin()->string() : std::string();
        found.emplace_back(it->path().string(), top);
    }
    if (found.empty()) throw error(dir + ": no pictures found (looked for .png, .jpg, .jpeg)");
    std::sort(found.begin(), found.end());
    for (const auto& [path, top] : found)
        if (!top.empty() && (f.classes.empty() || f.classes.back() != top)) f.classes.push_back(top);
    std::sort(f.classes.begin(), f.classes.end());
    f.classes.erase(std::unique(f.classes.begin(), f.classes.end()), f.classes.end());
    for (const auto& [path, top] : found) {
        f.files.push_back(path);
        f.labels.push_back(top.empty() ? -1
                                       : std::int64_t(std::lower_bound(f.classes.begin(), f.classes.end(), top) -
                                                      f.classes.begin()));
    }
    return f;
}

}  // namespace convis
