// Translation unit for compile checks (nvcc -cubin) and NVRTC: the kernels alone, no torch.
#include "kernels.cuh"
