#pragma once
// The networks of the convis program: the zoo's four ZFNets and torchvision's AlexNet, VGG16,
// VGG16-BN, ResNet-18 and ResNet-50, each with a run-time class count (ZFNet<dynamic>, …), on the CPU and — when CMake found CUDA and cuDNN (CONVIS_CLI_GPU) — the GPU.
//
// Each network and policy is one translation unit (zoo_<model>_<policy>.cpp, from zoo_session.cpp.in)
// that instantiates make_session once, so a 2-core machine builds them side by side and nothing
// above the session is instantiated per network.
#include <memory>
#include <vector>

#include <convis/cli/run.hpp>

namespace convis_cli {

/// --model zfnet, zfnet512, zfnet-pytorch, zfnet28, alexnet, vgg16, vgg16-bn, resnet18, resnet50.
std::vector<convis::cli::network_choice> zoo();

// One per network and policy, defined in the generated zoo_*.cpp files.
std::unique_ptr<convis::session> make_zfnet_cpu(int classes);
std::unique_ptr<convis::session> make_zfnet512_cpu(int classes);
std::unique_ptr<convis::session> make_zfnet_pytorch_cpu(int classes);
std::unique_ptr<convis::session> make_zfnet28_cpu(int classes);
std::unique_ptr<convis::session> make_zfnet_gpu(int classes);
std::unique_ptr<convis::session> make_zfnet512_gpu(int classes);
std::unique_ptr<convis::session> make_zfnet_pytorch_gpu(int classes);
std::unique_ptr<convis::session> make_zfnet28_gpu(int classes);
std::unique_ptr<convis::session> make_alexnet_cpu(int classes);
std::unique_ptr<convis::session> make_alexnet_gpu(int classes);
std::unique_ptr<convis::session> make_vgg16_cpu(int classes);
std::unique_ptr<convis::session> make_vgg16_gpu(int classes);
std::unique_ptr<convis::session> make_vgg16_bn_cpu(int classes);
std::unique_ptr<convis::session> make_vgg16_bn_gpu(int classes);
std::unique_ptr<convis::session> make_resnet18_cpu(int classes);
std::unique_ptr<convis::session> make_resnet18_gpu(int classes);
std::unique_ptr<convis::session> make_resnet50_cpu(int classes);
std::unique_ptr<convis::session> make_resnet50_gpu(int classes);


}  // namespace convis_cli
