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

std::vector<convis::cli::network_choice> zoo() {
#ifdef CONVIS_CLI_GPU
    const maker zfnet_gpu = make_zfnet_gpu, zfnet512_gpu = make_zfnet512_gpu, pytorch_gpu = make_zfnet_pytorch_gpu,
                zfnet28_gpu = make_zfnet28_gpu, alexnet_gpu = make_alexnet_gpu, vgg16_gpu = make_vgg16_gpu,
                vgg16_bn_gpu = make_vgg16_bn_gpu, resnet18_gpu = make_resnet18_gpu, resnet50_gpu = make_resnet50_gpu;
#else
    const maker zfnet_gpu = nullptr, zfnet512_gpu = nullptr, pytorch_gpu = nullptr, zfnet28_gpu = nullptr,
                alexnet_gpu = nullptr, vgg16_gpu = nullptr, vgg16_bn_gpu = nullptr, resnet18_gpu = nullptr,
                resnet50_gpu = nullptr;
#endif
    return {entry("zfnet", "ZFNet", "the paper's Fig. 3", 1000, make_zfnet_cpu, zfnet_gpu),
            entry("zfnet512", "ZFNet512", "Table 3's 512-1024-512 variant", 1000, make_zfnet512_cpu, zfnet512_gpu),
            entry("zfnet-pytorch", "ZFNetPyTorch", "the common PyTorch code", 1000, make_zfnet_pytorch_cpu, pytorch_gpu),
            entry("zfnet28", "ZFNet28", "ZFNet scaled to 28x28 grey input", 10, make_zfnet28_cpu, zfnet28_gpu),
            entry("alexnet", "AlexNet", "torchvision's AlexNet", 1000, make_alexnet_cpu, alexnet_gpu),
            entry("vgg16", "VGG16", "torchvision's VGG16", 1000, make_vgg16_cpu, vgg16_gpu),
            entry("vgg16-bn", "VGG16BN", "torchvision's VGG16 with BatchNorm", 1000, make_vgg16_bn_cpu, vgg16_bn_gpu),
            entry("resnet18", "ResNet18", "torchvision's ResNet-18", 1000, make_resnet18_cpu, resnet18_gpu),
            entry("resnet50", "ResNet50", "torchvision's ResNet-50", 1000, make_resnet50_cpu, resnet50_gpu)};
}

}  // namespace convis_cli
