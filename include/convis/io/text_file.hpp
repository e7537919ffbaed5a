#pragma once
// Text files (JSON indexes, metrics, CSV, HTML) written the way every convis output is: to a
// temporary file beside the target, then renamed, so a reader never sees half a file.
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "../core/error.hpp"

namespace convis {

/// Writes `text` to `path` atomically; convis::error naming the path on failure (the temporary
/// file is removed).
inline void write_text_atomic(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f << text;
        f.flush();
        if (!f) {
            std::error_code ignored;
            std::filesystem::remove(tmp, ignored);
            throw error(path + ": cannot write");
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::error_code ignored;
        std::filesystem::remove(tmp, ignored);
        throw error(path + ": cannot write: " + ec.message());
    }
}

}  // namespace convis
