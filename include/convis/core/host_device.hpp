#pragma once
// CONVIS_HOST_DEVICE marks a small function that both the host compiler and nvcc's device code
// use (one rule, one place: the dropout generator, the rectify modes).
#if defined(__CUDACC__)
#define CONVIS_HOST_DEVICE __host__ __device__
#else
#define CONVIS_HOST_DEVICE
#endif
