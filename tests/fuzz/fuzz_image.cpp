// libFuzzer target: convis::decode_image (stb_image behind read_image, PNG and JPEG). Any input
// must give a picture within the size limits or a convis::error; anything else is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include <convis/io/image.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const convis::image img = convis::decode_image(std::span(data, size), "fuzz.png");
        if (img.channels != 1 && img.channels != 3) std::abort();
        if (img.width < 1 || img.height < 1 || img.width > convis::max_image_side ||
            img.height > convis::max_image_side || std::int64_t{img.width} * img.height > convis::max_image_pixels)
            std::abort();
        if (img.pixels.size() != std::size_t(img.channels) * img.height * img.width) std::abort();
    } catch (const convis::error&) {
    }
    return 0;
}
