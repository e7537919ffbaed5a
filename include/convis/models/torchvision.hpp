#pragma once
// torchvision's classification networks, layer for layer, with its state_dict names: a model
// trained (or downloaded) in PyTorch loads as it is (examples/export_state_dict.py writes the
// safetensors file). Classes may be `dynamic` (the class count chosen by Model(classes)).
//
//   AlexNet<Classes>     torchvision.models.alexnet          61,100,840 parameters for 1000 classes
//   VGG16<Classes>       torchvision.models.vgg16           138,357,544
//   VGG16BN<Classes>     torchvision.models.vgg16_bn        138,365,992 (+ 8,448 running statistics)
//   ResNet18<Classes>    torchvision.models.resnet18         11,689,512 (+ 9,600)
//   ResNet50<Classes>    torchvision.models.resnet50         25,557,032 (+ 53,120)
//
// torchvision's forward calls torch.flatten between the pooling and the classifier: here it is a
// Flatten layer named "flatten" (no parameters). A residual block is one layer of the flat list,
// named as torchvision names the block ("layer2.0"); its output is the block's, after its ReLU.
#include <type_traits>

#include "../layers/avg_pool2d.hpp"
#include "../layers/batch_norm2d.hpp"
#include "../layers/conv2d.hpp"
#include "../layers/dropout.hpp"
#include "../layers/flatten.hpp"
#include "../layers/linear.hpp"
#include "../layers/max_pool2d.hpp"
#include "../layers/relu.hpp"
#include "../layers/residual.hpp"
#include "../net/sequential.hpp"

namespace convis {

template <int Classes = 1000>
using AlexNet = Sequential<Input<3, 224, 224>,
    Named<"features.0", Conv2d<3, 64, 11, 4, 2>>,    Named<"features.1", ReLU>,
    Named<"features.2", MaxPool2d<3, 2>>,
    Named<"features.3", Conv2d<64, 192, 5, 1, 2>>,   Named<"features.4", ReLU>,
    Named<"features.5", MaxPool2d<3, 2>>,
    Named<"features.6", Conv2d<192, 384, 3, 1, 1>>,  Named<"features.7", ReLU>,
    Named<"features.8", Conv2d<384, 256, 3, 1, 1>>,  Named<"features.9", ReLU>,
    Named<"features.10", Conv2d<256, 256, 3, 1, 1>>, Named<"features.11", ReLU>,
    Named<"features.12", MaxPool2d<3, 2>>,
    Named<"avgpool", AdaptiveAvgPool2d<6, 6>>,
    Named<"flatten", Flatten>,
    Named<"classifier.0", Dropout>, Named<"classifier.1", Linear<256 * 6 * 6, 4096>>, Named<"classifier.2", ReLU>,
    Named<"classifier.3", Dropout>, Named<"classifier.4", Linear<4096, 4096>>,        Named<"classifier.5", ReLU>,
    Named<"classifier.6", Linear<4096, Classes>>>;

namespace torchvision_detail {
template <int Classes>
using vgg_classifier = std::tuple<
    Named<"avgpool", AdaptiveAvgPool2d<7, 7>>,
    Named<"flatten", Flatten>,
    Named<"classifier.0", Linear<512 * 7 * 7, 4096>>, Named<"classifier.1", ReLU>, Named<"classifier.2", Dropout>,
    Named<"classifier.3", Linear<4096, 4096>>,        Named<"classifier.4", ReLU>, Named<"classifier.5", Dropout>,
    Named<"classifier.6", Linear<4096, Classes>>>;

/// Sequential<In, A..., B...> from a Sequential<In, A...> and a tuple of B...
template <class Net, class Tail>
struct append;
template <class In, class... A, class... B>
struct append<Sequential<In, A...>, std::tuple<B...>> {
    using type = Sequential<In, A..., B...>;
};

/// torchvision's BasicBlock (ResNet-18/34): two 3×3 convolutions; a 1×1 convolution and
/// BatchNorm on the shortcut where the stride or the width changes; ReLU after the sum.
template <int In, int Out, int Stride>
using BasicBlock = Residual<
    Body<Named<"conv1", Conv2d<In, Out, 3, Stride, 1, no_bias>>, Named<"bn1", BatchNorm2d<Out>>, Named<"relu", ReLU>,
         Named<"conv2", Conv2d<Out, Out, 3, 1, 1, no_bias>>, Named<"bn2", BatchNorm2d<Out>>>,
    std::conditional_t<(Stride != 1 || In != Out),
                       Shortcut<Named<"downsample.0", Conv2d<In, Out, 1, Stride, 0, no_bias>>,
                                Named<"downsample.1", BatchNorm2d<Out>>>,
                       Shortcut<>>,
    ReLU>;

/// torchvision's Bottleneck (ResNet-50 v1.5: the stride on the 3×3 convolution): 1×1 down to
/// Width, 3×3, 1×1 up to 4·Width.
template <int In, int Width, int Stride>
using Bottleneck = Residual<
    Body<Named<"conv1", Conv2d<In, Width, 1, 1, 0, no_bias>>, Named<"bn1", BatchNorm2d<Width>>, Named<"relu1", ReLU>,
         Named<"conv2", Conv2d<Width, Width, 3, Stride, 1, no_bias>>, Named<"bn2", BatchNorm2d<Width>>,
         Named<"relu2", ReLU>,
         Named<"conv3", Conv2d<Width, 4 * Width, 1, 1, 0, no_bias>>, Named<"bn3", BatchNorm2d<4 * Width>>>,
    std::conditional_t<(Stride != 1 || In != 4 * Width),
                       Shortcut<Named<"downsample.0", Conv2d<In, 4 * Width, 1, Stride, 0, no_bias>>,
                                Named<"downsample.1", BatchNorm2d<4 * Width>>>,
                       Shortcut<>>,
    ReLU>;
}  // namespace torchvision_detail

template <int Classes = 1000>
using VGG16 = typename torchvision_detail::append<Sequential<Input<3, 224, 224>,
    Named<"features.0", Conv2d<3, 64, 3, 1, 1>>,     Named<"features.1", ReLU>,
    Named<"features.2", Conv2d<64, 64, 3, 1, 1>>,    Named<"features.3", ReLU>,
    Named<"features.4", MaxPool2d<2, 2>>,
    Named<"features.5", Conv2d<64, 128, 3, 1, 1>>,   Named<"features.6", ReLU>,
    Named<"features.7", Conv2d<128, 128, 3, 1, 1>>,  Named<"features.8", ReLU>,
    Named<"features.9", MaxPool2d<2, 2>>,
    Named<"features.10", Conv2d<128, 256, 3, 1, 1>>, Named<"features.11", ReLU>,
    Named<"features.12", Conv2d<256, 256, 3, 1, 1>>, Named<"features.13", ReLU>,
    Named<"features.14", Conv2d<256, 256, 3, 1, 1>>, Named<"features.15", ReLU>,
    Named<"features.16", MaxPool2d<2, 2>>,
    Named<"features.17", Conv2d<256, 512, 3, 1, 1>>, Named<"features.18", ReLU>,
    Named<"features.19", Conv2d<512, 512, 3, 1, 1>>, Named<"features.20", ReLU>,
    Named<"features.21", Conv2d<512, 512, 3, 1, 1>>, Named<"features.22", ReLU>,
    Named<"features.23", MaxPool2d<2, 2>>,
    Named<"features.24", Conv2d<512, 512, 3, 1, 1>>, Named<"features.25", ReLU>,
    Named<"features.26", Conv2d<512, 512, 3, 1, 1>>, Named<"features.27", ReLU>,
    Named<"features.28", Conv2d<512, 512, 3, 1, 1>>, Named<"features.29", ReLU>,
    Named<"features.30", MaxPool2d<2, 2>>>, torchvision_detail::vgg_classifier<Classes>>::type;

template <int Classes = 1000>
using VGG16BN = typename torchvision_detail::append<Sequential<Input<3, 224, 224>,
    Named<"features.0", Conv2d<3, 64, 3, 1, 1>>,     Named<"features.1", BatchNorm2d<64>>,  Named<"features.2", ReLU>,
    Named<"features.3", Conv2d<64, 64, 3, 1, 1>>,    Named<"features.4", BatchNorm2d<64>>,  Named<"features.5", ReLU>,
    Named<"features.6", MaxPool2d<2, 2>>,
    Named<"features.7", Conv2d<64, 128, 3, 1, 1>>,   Named<"features.8", BatchNorm2d<128>>, Named<"features.9", ReLU>,
    Named<"features.10", Conv2d<128, 128, 3, 1, 1>>, Named<"features.11", BatchNorm2d<128>>, Named<"features.12", ReLU>,
    Named<"features.13", MaxPool2d<2, 2>>,
    Named<"features.14", Conv2d<128, 256, 3, 1, 1>>, Named<"features.15", BatchNorm2d<256>>, Named<"features.16", ReLU>,
    Named<"features.17", Conv2d<256, 256, 3, 1, 1>>, Named<"features.18", BatchNorm2d<256>>, Named<"features.19", ReLU>,
    Named<"features.20", Conv2d<256, 256, 3, 1, 1>>, Named<"features.21", BatchNorm2d<256>>, Named<"features.22", ReLU>,
    Named<"features.23", MaxPool2d<2, 2>>,
    Named<"features.24", Conv2d<256, 512, 3, 1, 1>>, Named<"features.25", BatchNorm2d<512>>, Named<"features.26", ReLU>,
    Named<"features.27", Conv2d<512, 512, 3, 1, 1>>, Named<"features.28", BatchNorm2d<512>>, Named<"features.29", ReLU>,
    Named<"features.30", Conv2d<512, 512, 3, 1, 1>>, Named<"features.31", BatchNorm2d<512>>, Named<"features.32", ReLU>,
    Named<"features.33", MaxPool2d<2, 2>>,
    Named<"features.34", Conv2d<512, 512, 3, 1, 1>>, Named<"features.35", BatchNorm2d<512>>, Named<"features.36", ReLU>,
    Named<"features.37", Conv2d<512, 512, 3, 1, 1>>, Named<"features.38", BatchNorm2d<512>>, Named<"features.39", ReLU>,
    Named<"features.40", Conv2d<512, 512, 3, 1, 1>>, Named<"features.41", BatchNorm2d<512>>, Named<"features.42", ReLU>,
    Named<"features.43", MaxPool2d<2, 2>>>, torchvision_detail::vgg_classifier<Classes>>::type;

/// ResNet's stem: 7×7/2 convolution, BatchNorm, ReLU, 3×3/2 max-pool (224 → 56).
template <class... Rest>
using ResNetOf = Sequential<Input<3, 224, 224>,
    Named<"conv1", Conv2d<3, 64, 7, 2, 3, no_bias>>, Named<"bn1", BatchNorm2d<64>>, Named<"relu", ReLU>,
    Named<"maxpool", MaxPool2d<3, 2, 1>>, Rest...>;

template <int Classes = 1000>
using ResNet18 = ResNetOf<
    Named<"layer1.0", torchvision_detail::BasicBlock<64, 64, 1>>,   Named<"layer1.1", torchvision_detail::BasicBlock<64, 64, 1>>,
    Named<"layer2.0", torchvision_detail::BasicBlock<64, 128, 2>>,  Named<"layer2.1", torchvision_detail::BasicBlock<128, 128, 1>>,
    Named<"layer3.0", torchvision_detail::BasicBlock<128, 256, 2>>, Named<"layer3.1", torchvision_detail::BasicBlock<256, 256, 1>>,
    Named<"layer4.0", torchvision_detail::BasicBlock<256, 512, 2>>, Named<"layer4.1", torchvision_detail::BasicBlock<512, 512, 1>>,
    Named<"avgpool", GlobalAvgPool>, Named<"flatten", Flatten>, Named<"fc", Linear<512, Classes>>>;

template <int Classes = 1000>
using ResNet50 = ResNetOf<
    Named<"layer1.0", torchvision_detail::Bottleneck<64, 64, 1>>,
    Named<"layer1.1", torchvision_detail::Bottleneck<256, 64, 1>>,
    Named<"layer1.2", torchvision_detail::Bottleneck<256, 64, 1>>,
    Named<"layer2.0", torchvision_detail::Bottleneck<256, 128, 2>>,
    Named<"layer2.1", torchvision_detail::Bottleneck<512, 128, 1>>,
    Named<"layer2.2", torchvision_detail::Bottleneck<512, 128, 1>>,
    Named<"layer2.3", torchvision_detail::Bottleneck<512, 128, 1>>,
    Named<"layer3.0", torchvision_detail::Bottleneck<512, 256, 2>>,
    Named<"layer3.1", torchvision_detail::Bottleneck<1024, 256, 1>>,
    Named<"layer3.2", torchvision_detail::Bottleneck<1024, 256, 1>>,
    Named<"layer3.3", torchvision_detail::Bottleneck<1024, 256, 1>>,
    Named<"layer3.4", torchvision_detail::Bottleneck<1024, 256, 1>>,
    Named<"layer3.5", torchvision_detail::Bottleneck<1024, 256, 1>>,
    Named<"layer4.0", torchvision_detail::Bottleneck<1024, 512, 2>>,
    Named<"layer4.1", torchvision_detail::Bottleneck<2048, 512, 1>>,
    Named<"layer4.2", torchvision_detail::Bottleneck<2048, 512, 1>>,
    Named<"avgpool", GlobalAvgPool>, Named<"flatten", Flatten>, Named<"fc", Linear<2048, Classes>>>;

static_assert(AlexNet<>::parameter_count == 61'100'840, "torchvision's AlexNet has 61,100,840 parameters");
static_assert(VGG16<>::parameter_count == 138'357'544, "torchvision's VGG16 has 138,357,544 parameters");
static_assert(VGG16BN<>::parameter_count == 138'365'992 + 8'448, "VGG16-BN: 138,365,992 parameters and 8,448 statistics");
static_assert(ResNet18<>::parameter_count == 11'689'512 + 9'600, "ResNet-18: 11,689,512 parameters and 9,600 statistics");
static_assert(ResNet50<>::parameter_count == 25'557'032 + 53'120, "ResNet-50: 25,557,032 parameters and 53,120 statistics");
static_assert(std::is_same_v<ResNet50<>::shape_after<3>, Shape<64, 56, 56>>);
static_assert(std::is_same_v<ResNet50<>::shape_after<19>, Shape<2048, 7, 7>>);

}  // namespace convis
