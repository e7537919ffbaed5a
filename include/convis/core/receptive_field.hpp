#pragma once
// Receptive fields, computed at compile time from the layer chain.
namespace convis {

/// Where a unit of a layer looks in the input image. Unit (i, j) covers input rows
/// [start + i*stride, start + i*stride + size - 1] (and the same for columns), clipped to the image;
/// start is negative where padding lies before the first pixel.
struct receptive_field {
    int size = 1;     ///< extent in input pixels
    int stride = 1;   ///< input pixels between neighbouring units (cumulative stride)
    int start = 0;    ///< first input row covered by unit 0
    bool global = false;  ///< a fully connected unit sees the whole input

    constexpr double centre() const { return start + (size - 1) / 2.0; }
    /// After a window of `kernel` with `step` and `pad`, applied to a layer whose field is *this.
    constexpr receptive_field then(int kernel, int step, int pad) const {
        return {size + (kernel - 1) * stride, stride * step, start - pad * stride, global};
    }
    constexpr bool operator==(const receptive_field&) const = default;
};

}  // namespace convis
