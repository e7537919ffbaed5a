// libFuzzer target: convis::parse_safetensors, the checks behind read_safetensors and load_weights.
// Any input must give a checked file or a convis::error; anything else (a crash, a sanitizer report,
// another exception, an allocation past -malloc_limit_mb) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include <convis/io/safetensors.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const auto f = convis::parse_safetensors(std::as_bytes(std::span(data, size)), "fuzz.safetensors");
        for (const auto& [name, t] : f.tensors) {
            // What the reader promised: each tensor's bytes are exactly its shape's worth.
            if (t.bytes.size() != t.numel() * convis::dtype_size(t.type)) std::abort();
            if (t.type == convis::dtype::f32) (void)t.to_vector<float>(f.path, name);
            if (t.type == convis::dtype::f64) (void)t.to_vector<double>(f.path, name);
        }
    } catch (const convis::error&) {
    }
    return 0;
}
