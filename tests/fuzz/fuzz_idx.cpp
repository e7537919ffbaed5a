// libFuzzer target: convis::parse_idx, raw and gzip (the reader behind read_idx and the data sets).
// Any input must give an array or a convis::error; anything else is a bug, and so is a gzip stream
// inflated past what its header promises (-malloc_limit_mb catches the allocation).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <convis/io/idx.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const auto a = convis::parse_idx(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.idx");
        std::uint64_t n = 1;
        for (auto d : a.dims) {
            if (d <= 0) std::abort();
            n *= static_cast<std::uint64_t>(d);
        }
        if (a.dims.empty() || a.dims.size() > 4 || n != a.data.size()) std::abort();
    } catch (const convis::error&) {
    }
    return 0;
}
