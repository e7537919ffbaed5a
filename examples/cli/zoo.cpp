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
                zfnet28_gpu = make_zfnet28_gpu;
#else
    const maker zfnet_gpu = nullptr, zfnet512_gpu = nullptr, pytorch_gpu = nullptr, zfnet28_gpu = nullptr;
#endif
    return {entry("zfnet", "ZFNet", "the paper's Fig. 3", 1000, make_zfnet_cpu, zfnet_gpu),
            entry("zfnet512", "ZFNet512", "Table 3's 512-1024-512 variant", 1000, make_zfnet512_cpu, zfnet512_gpu),
            entry("zfnet-pytorch", "ZFNetPyTorch", "the common PyTorch code", 1000, make_zfnet_pytorch_cpu, pytorch_gpu),
            entry("zfnet28", "ZFNet28", "ZFNet scaled to 28x28 grey input", 10, make_zfnet28_cpu, zfnet28_gpu)};
}

}  // namespace convis_cli
