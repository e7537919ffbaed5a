#pragma once
// Composing pictures for display: contrast stretching of projections, the paper's Fig. 2 blocks
// (projections beside image patches), vertical and horizontal stacks of blocks, and
// receptive-field crops.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "image.hpp"

namespace convis {

/// Contrast stretch for display of a projection (signed values), symmetric about zero:
///   v' = 127.5 + 127.5 * clamp(v / s, -1, 1)
/// where s is the `percentile` (0..100, default 99.5; nearest-rank) of |v| over the whole picture,
/// all channels together, finite values only. So 0 stays mid-grey, sign is kept (negative darker,
/// positive brighter), and the few magnitudes above s saturate to 0 or 255. When s is 0 (or there is
/// no finite value) the picture is mid-grey everywhere; NaN gives mid-grey. The result is a
/// picture of the same channels × height × width, values in [0, 255] (not rounded).
image stretch_symmetric(const float* chw, int channels, int height, int width, double percentile = 99.5);

/// A paper-Fig.2 block for one feature: a rows×cols block of projection pictures, then `gap`
/// pixels, then a rows×cols block of image patches. Inside each half, tiles are separated (and
/// surrounded) by `border` pixels. Background is white (255). Tiles fill row by row; all tiles have
/// the same tile_h × tile_w and channel count (1 or 3); a missing tile (fewer than rows*cols
/// entries) stays background. Size: rows*tile_h + (rows+1)*border tall,
/// 2*(cols*tile_w + (cols+1)*border) + gap wide. convis::error when there is no tile at all, too
/// many tiles, or tiles of different sizes.
image figure2_block(const std::vector<image>& projections, const std::vector<image>& patches, int rows = 3,
                    int cols = 3, int gap = 4, int border = 1);

/// Tiles of equal size laid out row by row in a rows × cols grid, `border` pixels of white
/// (255) around and between them (the paper's Fig. 4: a row per feature, a column per epoch).
/// convis::error when there is no tile, too many, or tiles of different sizes.
image tile_grid(const std::vector<image>& tiles, int rows, int cols, int border = 1);

/// Stacks pictures vertically (one block per feature, top to bottom) with `gap` rows of
/// background (255) between them. Narrower blocks are padded on the right with background; grey
/// blocks become 3 channels if any block has 3. convis::error when `blocks` is empty.
image stack_vertical(const std::vector<image>& blocks, int gap = 8);

/// Places pictures side by side (left to right) with `gap` columns of background (255) between
/// them, tops aligned. Shorter blocks are padded below with background; grey blocks become 3
/// channels if any block has 3. convis::error when `blocks` is empty.
image stack_horizontal(const std::vector<image>& blocks, int gap = 8);

/// The picture enlarged `factor` times in each direction, each pixel a factor × factor square
/// (nearest neighbour: small patches stay crisp). factor ≥ 1.
image enlarge(const image& img, int factor);

/// The patch [y0, y0+height) × [x0, x0+width) of `img`, always height × width: the part outside
/// the picture (a receptive field may extend past the border) is 0 (black).
image crop(const image& img, int y0, int x0, int height, int width);

// ---- details -------------------------------------------------------------------------------

namespace grid_detail {
inline image blank(int channels, int height, int width, float value) {
    image img;
    img.channels = channels;
    img.height = height;
    img.width = width;
    img.pixels.assign(std::size_t(channels) * height * width, value);
    return img;
}
/// Copies `src` into `dst` with its top-left corner at (y, x); grey src into 3-channel dst is
/// broadcast. The caller makes sure it fits.
inline void paste(image& dst, const image& src, int y, int x) {
    for (int c = 0; c < dst.channels; ++c) {
        const int sc = src.channels == 1 ? 0 : c;
        for (int r = 0; r < src.height; ++r)
            for (int q = 0; q < src.width; ++q) dst.at(c, y + r, x + q) = src.at(sc, r, q);
    }
}

/// Tiles (checked by the caller, all ch × th × tw) row by row into a rows × cols grid with
/// `border` pixels of background around and between them; missing tiles stay background.
inline image layout(const std::vector<image>& tiles, int rows, int cols, int border, int ch, int th, int tw) {
    image out = blank(ch, rows * th + (rows + 1) * border, cols * tw + (cols + 1) * border, 255.f);
    for (std::size_t i = 0; i < tiles.size(); ++i) {
        const int r = int(i) / cols, c = int(i) % cols;
        paste(out, tiles[i], border + r * (th + border), border + c * (tw + border));
    }
    return out;
}
}  // namespace grid_detail

inline image stretch_symmetric(const float* chw, int channels, int height, int width, double percentile) {
    if (channels < 1 || height < 0 || width < 0)
        throw error("stretch_symmetric: bad size " + image_detail::dims(channels, height, width));
    if (!(percentile >= 0.0 && percentile <= 100.0))
        throw error("stretch_symmetric: percentile " + std::to_string(percentile) + " is not in [0, 100]");
    const std::size_t n = std::size_t(channels) * height * width;
    if (n > 0 && chw == nullptr) throw error("stretch_symmetric: null data");
    std::vector<float> mag;
    mag.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        if (std::isfinite(chw[i])) mag.push_back(std::abs(chw[i]));
    float s = 0.f;
    if (!mag.empty()) {
        const double rank = std::ceil(percentile / 100.0 * double(mag.size()) - 1e-9);
        const std::size_t k = std::size_t(std::clamp(rank - 1.0, 0.0, double(mag.size() - 1)));
        std::nth_element(mag.begin(), mag.begin() + std::ptrdiff_t(k), mag.end());
        s = mag[k];
    }
    image out = grid_detail::blank(channels, height, width, 127.5f);
    if (s > 0.f)
        for (std::size_t i = 0; i < n; ++i) {
            const float v = chw[i];
            if (std::isnan(v)) continue;
            out.pixels[i] = 127.5f + 127.5f * std::clamp(v / s, -1.f, 1.f);
        }
    return out;
}

inline image figure2_block(const std::vector<image>& projections, const std::vector<image>& patches, int rows,
                           int cols, int gap, int border) {
    if (rows < 1 || cols < 1 || gap < 0 || border < 0)
        throw error("figure2_block: bad layout rows=" + std::to_string(rows) + " cols=" + std::to_string(cols) +
                    " gap=" + std::to_string(gap) + " border=" + std::to_string(border));
    const std::size_t slots = std::size_t(rows) * std::size_t(cols);
    if (projections.size() > slots || patches.size() > slots)
        throw error("figure2_block: " + std::to_string(std::max(projections.size(), patches.size())) +
                    " tiles for a " + std::to_string(rows) + "x" + std::to_string(cols) + " block");
    const image* first = !projections.empty() ? &projections[0] : !patches.empty() ? &patches[0] : nullptr;
    if (!first) throw error("figure2_block: no tiles");
    const int ch = first->channels, th = first->height, tw = first->width;
    if (ch != 1 && ch != 3) throw error("figure2_block: tiles have " + std::to_string(ch) + " channels (expected 1 or 3)");
    const auto check_all = [&](const std::vector<image>& tiles, const char* what) {
        for (std::size_t i = 0; i < tiles.size(); ++i) {
            image_detail::check(tiles[i], std::string("figure2_block: ") + what + " " + std::to_string(i));
            if (tiles[i].channels != ch || tiles[i].height != th || tiles[i].width != tw)
                throw error(std::string("figure2_block: ") + what + " " + std::to_string(i) + " is " +
                            image_detail::dims(tiles[i].channels, tiles[i].height, tiles[i].width) + ", expected " +
                            image_detail::dims(ch, th, tw));
        }
    };
    check_all(projections, "projection");
    check_all(patches, "patch");
    const image left = grid_detail::layout(projections, rows, cols, border, ch, th, tw);
    const image right = grid_detail::layout(patches, rows, cols, border, ch, th, tw);
    image out = grid_detail::blank(ch, left.height, 2 * left.width + gap, 255.f);
    grid_detail::paste(out, left, 0, 0);
    grid_detail::paste(out, right, 0, left.width + gap);
    return out;
}

inline image tile_grid(const std::vector<image>& tiles, int rows, int cols, int border) {
    if (rows < 1 || cols < 1 || border < 0)
        throw error("tile_grid: bad layout rows=" + std::to_string(rows) + " cols=" + std::to_string(cols) +
                    " border=" + std::to_string(border));
    if (tiles.empty()) throw error("tile_grid: no tiles");
    if (tiles.size() > std::size_t(rows) * std::size_t(cols))
        throw error("tile_grid: " + std::to_string(tiles.size()) + " tiles for a " + std::to_string(rows) + "x" +
                    std::to_string(cols) + " grid");
    const int ch = tiles[0].channels, th = tiles[0].height, tw = tiles[0].width;
    if (ch != 1 && ch != 3) throw error("tile_grid: tiles have " + std::to_string(ch) + " channels (expected 1 or 3)");
    for (std::size_t i = 0; i < tiles.size(); ++i) {
        image_detail::check(tiles[i], "tile_grid: tile " + std::to_string(i));
        if (tiles[i].channels != ch || tiles[i].height != th || tiles[i].width != tw)
            throw error("tile_grid: tile " + std::to_string(i) + " is " +
                        image_detail::dims(tiles[i].channels, tiles[i].height, tiles[i].width) + ", expected " +
                        image_detail::dims(ch, th, tw));
    }
    return grid_detail::layout(tiles, rows, cols, border, ch, th, tw);
}

namespace grid_detail {
/// Blocks one after another, down (vertical) or across, `gap` apart on white; shorter blocks are
/// padded, grey ones made RGB when any block is.
inline image stack(const std::vector<image>& blocks, int gap, bool vertical, const std::string& who) {
    if (blocks.empty()) throw error(who + ": no blocks");
    if (gap < 0) throw error(who + ": negative gap " + std::to_string(gap));
    int ch = 1, along = 0, across = 0;
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        const image& b = blocks[i];
        image_detail::check(b, who + ": block " + std::to_string(i));
        if (b.channels != 1 && b.channels != 3)
            throw error(who + ": block " + std::to_string(i) + " has " + std::to_string(b.channels) +
                        " channels (expected 1 or 3)");
        ch = std::max(ch, b.channels);
        across = std::max(across, vertical ? b.width : b.height);
        along += (vertical ? b.height : b.width) + (i ? gap : 0);
    }
    image out = vertical ? blank(ch, along, across, 255.f) : blank(ch, across, along, 255.f);
    int at = 0;
    for (const image& b : blocks) {
        vertical ? paste(out, b, at, 0) : paste(out, b, 0, at);
        at += (vertical ? b.height : b.width) + gap;
    }
    return out;
}
}  // namespace grid_detail

inline image stack_vertical(const std::vector<image>& blocks, int gap) {
    return grid_detail::stack(blocks, gap, true, "stack_vertical");
}

inline image stack_horizontal(const std::vector<image>& blocks, int gap) {
    return grid_detail::stack(blocks, gap, false, "stack_horizontal");
}

inline image crop(const image& img, int y0, int x0, int height, int width) {
    image_detail::check(img, "crop");
    if (height < 0 || width < 0)
        throw error("crop: negative size " + std::to_string(height) + "x" + std::to_string(width));
    image out = grid_detail::blank(img.channels, height, width, 0.f);
    const int ya = std::max(y0, 0), yb = std::min(y0 + height, img.height);
    const int xa = std::max(x0, 0), xb = std::min(x0 + width, img.width);
    for (int c = 0; c < img.channels; ++c)
        for (int y = ya; y < yb; ++y)
            for (int x = xa; x < xb; ++x) out.at(c, y - y0, x - x0) = img.at(c, y, x);
    return out;
}

inline image enlarge(const image& img, int factor) {
    if (factor < 1 || factor > 1024) throw error("enlarge: factor " + std::to_string(factor) + " is outside 1..1024");
    image out;
    out.channels = img.channels;
    out.height = img.height * factor;
    out.width = img.width * factor;
    out.pixels.resize(std::size_t(out.channels) * out.height * out.width);
    for (int c = 0; c < out.channels; ++c)
        for (int y = 0; y < out.height; ++y)
            for (int x = 0; x < out.width; ++x) out.at(c, y, x) = img.at(c, y / factor, x / factor);
    return out;
}

}  // namespace convis
