// Launch geometry of the kernels in kernels.cuh, written once: bindings.cu (nvcc) includes this
// file and sladd_fast/_jit.py (NVRTC) reads the constants from it, so the launchers cannot drift.
// Layout: blockIdx.x * kThreads + threadIdx.x = item (pixel, row, primitive), blockIdx.y = sample,
// blockIdx.z = channel. The block reductions (box_of's and color_stats' second passes, the DST tiles)
// are launched with n = kThreads items (one block per sample) or whole tiles and size their shared
// arrays by kThreads, which must therefore be a power of two.
#pragma once

namespace sladd {

constexpr int kThreads = 256;           // threads per block
constexpr long long kMaxGridYZ = 65535;  // gridDim.y (samples) and gridDim.z (channels) at most
static_assert(kThreads > 0 && (kThreads & (kThreads - 1)) == 0, "the block reductions halve kThreads to 1");

}  // namespace sladd
