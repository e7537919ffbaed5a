// The convis program's networks (zoo.hpp).
#include "zoo.hpp"

#include <string>
#include <string_view>

namespace convis_cli {
namespace {

using maker = std::unique_ptr<convis::session> (*)(int);

convis::cli::network_choice entry(std::string name, std::string type, std::string description, int classes, maker cpu,
                                  [[maybe_unused]] maker gpu) {
    convis::cli::network_choice c;
    c.name = std::move(name);
    c.type = std::move(type);
    c.description = std::move(description);
    c.default_classes = classes;
    c.dynamic_classes = true;
    c.make = [cpu, gpu](int n, std::string_view device) -> std::unique_ptr<convis::session> {
        if (device != "gpu") return cpu(n);
#ifdef CONVIS_CLI_GPU
        return gpu(n);
#else
        throw convis::error("--device gpu: this convis was built without the GPU policy (CMake found no CUDA "
                            "compiler or no cuDNN when it was built)");
#endif
    };
    return c;
}

}  // namespace

// CMake's CONVIS_CLI_NETWORKS chooses the networks the program carries (all by default; the
// sanitizer build takes a few): each one compiled in is CONVIS_CLI_HAS_<function>.
#ifdef CONVIS_CLI_GPU
#define CONVIS_CLI_GPU_MAKER(f) f
#else
#define CONVIS_CLI_GPU_MAKER(f) nullptr
#endif
#define CONVIS_CLI_ENTRY(name, type, what, classes, f) \
    out.push_back(entry(name, type, what, classes, make_##f##_cpu, CONVIS_CLI_GPU_MAKER(make_##f##_gpu)))

std::vector<convis::cli::network_choice> zoo() {
    std::vector<convis::cli::network_choice> out;
#ifdef CONVIS_CLI_HAS_zfnet
    CONVIS_CLI_ENTRY("zfnet", "ZFNet", "the paper's Fig. 3", 1000, zfnet);
#endif
#ifdef CONVIS_CLI_HAS_zfnet512
    CONVIS_CLI_ENTRY("zfnet512", "ZFNet512", "Table 3's 512-1024-512 variant", 1000, zfnet512);
#endif
#ifdef CONVIS_CLI_HAS_zfnet_pytorch
    CONVIS_CLI_ENTRY("zfnet-pytorch", "ZFNetPyTorch", "the common PyTorch code", 1000, zfnet_pytorch);
#endif
#ifdef CONVIS_CLI_HAS_zfnet28
    CONVIS_CLI_ENTRY("zfnet28", "ZFNet28", "ZFNet scaled to 28x28 grey input", 10, zfnet28);
#endif
#ifdef CONVIS_CLI_HAS_alexnet
    CONVIS_CLI_ENTRY("alexnet", "AlexNet", "torchvision's AlexNet", 1000, alexnet);
#endif
#ifdef CONVIS_CLI_HAS_vgg16
    CONVIS_CLI_ENTRY("vgg16", "VGG16", "torchvision's VGG16", 1000, vgg16);
#endif
#ifdef CONVIS_CLI_HAS_vgg16_bn
    CONVIS_CLI_ENTRY("vgg16-bn", "VGG16BN", "torchvision's VGG16 with BatchNorm", 1000, vgg16_bn);
#endif
#ifdef CONVIS_CLI_HAS_resnet18
    CONVIS_CLI_ENTRY("resnet18", "ResNet18", "torchvision's ResNet-18", 1000, resnet18);
#endif
#ifdef CONVIS_CLI_HAS_resnet50
    CONVIS_CLI_ENTRY("resnet50", "ResNet50", "torchvision's ResNet-50", 1000, resnet50);
#endif
    return out;
}

}  // namespace convis_cli
