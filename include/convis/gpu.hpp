#pragma once
// convis on an NVIDIA GPU: include this header (instead of convis.hpp) and link convis::gpu, which
// brings the CUDA runtime, cuDNN, cuBLAS and convis's kernels (backend/gpu/kernels.cu, the one
// file nvcc compiles). Code that includes this header is ordinary C++ for the host compiler.
//
//     convis::Model<convis::ZFNet, convis::gpu> model;   // parameters and trace on the device
//     convis::load_weights(model, "zfnet.safetensors");
//     auto logits = model.forward(batch);                // host in, host view out
//
// Everything above the policy — layers, Model, Deconvnet, SGD, the trainer, the analyses — is the
// same code as on the CPU. Host↔device copies happen where the host reads or writes (inputs,
// views, parameter_list()), a whole buffer at a time.
#include "convis.hpp"

/// Defined when the GPU policy is included: code that offers it optionally (convis/cli/main.hpp) tests it.
#define CONVIS_GPU_POLICY 1

#include "backend/gpu/check.hpp"
#include "backend/gpu/device.hpp"
#include "backend/gpu/kernels.hpp"
#include "backend/gpu/ops.hpp"
#include "backend/gpu/sgd.hpp"
