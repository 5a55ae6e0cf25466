// Launch geometry of the kernels in kernels.cuh, written once: bindings.cu (nvcc) includes this
// file and sladd_fast/_jit.py (NVRTC) reads the constants from it, so the launchers cannot drift.
// Layout: blockIdx.x * kThreads + threadIdx.x = item (pixel, row, primitive), blockIdx.y = sample,
// blockIdx.z = channel.
#pragma once

namespace sladd {

constexpr int kThreads = 256;           // threads per block
constexpr long long kMaxGridYZ = 65535;  // gridDim.y (samples) and gridDim.z (channels) at most

}  // namespace sladd
