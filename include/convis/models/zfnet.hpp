#pragma once
// The networks of the paper, and the ZFNet most people actually have weights for.
#include "../layers/conv2d.hpp"
#include "../layers/dropout.hpp"
#include "../layers/flatten.hpp"
#include "../layers/linear.hpp"
#include "../layers/local_response_norm.hpp"
#include "../layers/max_pool2d.hpp"
#include "../layers/relu.hpp"
#include "../net/sequential.hpp"

namespace convis {

/// The paper's contrast normalisation: AlexNet's LRN constants (n 5, alpha 1e-4, beta 0.75, k 2),
/// which Zeiler & Fergus cite without giving their own (PAPER.md §1.4).
using ZFNetNorm = LocalResponseNorm<5, 1e-4, 0.75, 2.0>;

/// ZFNet's layers 1–8 with conv3–5 widths as template arguments (Fig. 3 of the paper).
/// Sizes for 224×224 input: 110, 55, 26, 13, 13, 13, 13, 6 — pools use ceil mode and conv1 pads
/// by 1, which reproduces the figure (PAPER.md §1.3, convention B).
template <int Classes, int C3, int C4, int C5>
using ZFNetOf = Sequential<Input<3, 224, 224>,
    Named<"conv1", Conv2d<3, 96, 7, 2, 1>>,      Named<"relu1", ReLU>,
    Named<"pool1", MaxPool2d<3, 2, 0, ceil_mode>>, Named<"norm1", ZFNetNorm>,
    Named<"conv2", Conv2d<96, 256, 5, 2, 0>>,    Named<"relu2", ReLU>,
    Named<"pool2", MaxPool2d<3, 2, 0, ceil_mode>>, Named<"norm2", ZFNetNorm>,
    Named<"conv3", Conv2d<256, C3, 3, 1, 1>>,    Named<"relu3", ReLU>,
    Named<"conv4", Conv2d<C3, C4, 3, 1, 1>>,     Named<"relu4", ReLU>,
    Named<"conv5", Conv2d<C4, C5, 3, 1, 1>>,     Named<"relu5", ReLU>,
    Named<"pool5", MaxPool2d<3, 2, 0, ceil_mode>>,
    Named<"flatten", Flatten>,
    Named<"drop6", Dropout>, Named<"fc6", Linear<C5 * 6 * 6, 4096>>, Named<"relu6", ReLU>,
    Named<"drop7", Dropout>, Named<"fc7", Linear<4096, 4096>>,       Named<"relu7", ReLU>,
    Named<"fc8", Linear<4096, Classes>>>;

/// ZFNet as in the paper's Fig. 3: 62,357,608 parameters for 1000 classes.
template <int Classes = 1000>
using ZFNet = ZFNetOf<Classes, 384, 384, 256>;

/// Table 3's wider variant, layers 3, 4, 5 with 512, 1024, 512 maps: 107,627,624 parameters.
template <int Classes = 1000>
using ZFNet512 = ZFNetOf<Classes, 512, 1024, 512>;

/// The ZFNet widely shared as PyTorch code (features / classifier nn.Sequential): conv1 7×7 s2 p2,
/// floor pools, conv2 5×5 s1 p2, 512-1024-512, no LRN. Layer names are its state_dict prefixes,
/// so its weights load as they are. 386,548,840 parameters for 1000 classes.
template <int Classes = 1000>
using ZFNetPyTorch = Sequential<Input<3, 224, 224>,
    Named<"features.0", Conv2d<3, 96, 7, 2, 2>>,     Named<"features.1", ReLU>,
    Named<"features.2", MaxPool2d<3, 2>>,
    Named<"features.3", Conv2d<96, 256, 5, 1, 2>>,   Named<"features.4", ReLU>,
    Named<"features.5", MaxPool2d<3, 2>>,
    Named<"features.6", Conv2d<256, 512, 3, 1, 1>>,  Named<"features.7", ReLU>,
    Named<"features.8", Conv2d<512, 1024, 3, 1, 1>>, Named<"features.9", ReLU>,
    Named<"features.10", Conv2d<1024, 512, 3, 1, 1>>, Named<"features.11", ReLU>,
    Named<"features.12", MaxPool2d<3, 2>>,
    Named<"flatten", Flatten>,
    Named<"classifier.0", Dropout>, Named<"classifier.1", Linear<512 * 13 * 13, 4096>>,
    Named<"classifier.2", ReLU>,
    Named<"classifier.3", Dropout>, Named<"classifier.4", Linear<4096, 4096>>,
    Named<"classifier.5", ReLU>,
    Named<"classifier.6", Linear<4096, Classes>>>;

/// A ZFNet for 28×28 grey input (Fashion-MNIST, MNIST): ZFNet's structure — five convolutions,
/// overlapping ceil-mode 3×3/2 pools and LRN after the first two, pool after the fifth, three fully
/// connected layers with dropout — scaled to the small input: 3×3 convolutions at stride 1 (a 7×7/2
/// first layer would throw away most of a 28-pixel picture), 32-64-128-128-64 maps, 256-unit fc
/// layers. Sizes: 28, 14, 14, 7, 7, 7, 7, 3. Layer names are ZFNet's. 530,122 parameters for 10
/// classes.
template <int Classes = 10>
using ZFNet28 = Sequential<Input<1, 28, 28>,
    Named<"conv1", Conv2d<1, 32, 3, 1, 1>>,      Named<"relu1", ReLU>,
    Named<"pool1", MaxPool2d<3, 2, 0, ceil_mode>>, Named<"norm1", ZFNetNorm>,
    Named<"conv2", Conv2d<32, 64, 3, 1, 1>>,     Named<"relu2", ReLU>,
    Named<"pool2", MaxPool2d<3, 2, 0, ceil_mode>>, Named<"norm2", ZFNetNorm>,
    Named<"conv3", Conv2d<64, 128, 3, 1, 1>>,    Named<"relu3", ReLU>,
    Named<"conv4", Conv2d<128, 128, 3, 1, 1>>,   Named<"relu4", ReLU>,
    Named<"conv5", Conv2d<128, 64, 3, 1, 1>>,    Named<"relu5", ReLU>,
    Named<"pool5", MaxPool2d<3, 2, 0, ceil_mode>>,
    Named<"flatten", Flatten>,
    Named<"drop6", Dropout>, Named<"fc6", Linear<64 * 3 * 3, 256>>, Named<"relu6", ReLU>,
    Named<"drop7", Dropout>, Named<"fc7", Linear<256, 256>>,        Named<"relu7", ReLU>,
    Named<"fc8", Linear<256, Classes>>>;

static_assert(ZFNet<>::parameter_count == 62'357'608, "ZFNet must have the paper's 62,357,608 parameters");
static_assert(ZFNet512<>::parameter_count == 107'627'624, "ZFNet512 must have 107,627,624 parameters");
static_assert(ZFNetPyTorch<>::parameter_count == 386'548'840, "the PyTorch ZFNet has 386,548,840 parameters");
static_assert(std::is_same_v<ZFNet<>::shape_after<0>, Shape<96, 110, 110>>);
static_assert(std::is_same_v<ZFNet<>::shape_after<2>, Shape<96, 55, 55>>);
static_assert(std::is_same_v<ZFNet<>::shape_after<4>, Shape<256, 26, 26>>);
static_assert(std::is_same_v<ZFNet<>::shape_after<6>, Shape<256, 13, 13>>);
static_assert(std::is_same_v<ZFNet<>::shape_after<14>, Shape<256, 6, 6>>);
static_assert(ZFNet28<>::parameter_count == 530'122, "ZFNet28 has 530,122 parameters for 10 classes");
static_assert(std::is_same_v<ZFNet28<>::shape_after<2>, Shape<32, 14, 14>>);
static_assert(std::is_same_v<ZFNet28<>::shape_after<6>, Shape<64, 7, 7>>);
static_assert(std::is_same_v<ZFNet28<>::shape_after<14>, Shape<64, 3, 3>>);
static_assert(std::is_same_v<ZFNetPyTorch<>::shape_after<12>, Shape<512, 13, 13>>);

}  // namespace convis
