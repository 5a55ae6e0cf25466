// Input checks shared by the CPU and CUDA backends (the Python wrappers raise friendlier
// ValueErrors first; these guard direct torch.ops calls).
#pragma once
#include <ATen/ATen.h>

#define SLADD_CHECK_TENSOR(t, dtype, ndim)                                                  \
  TORCH_CHECK((t).scalar_type() == (dtype), __func__, ": ", #t, " must be ", (dtype),       \
              ", got ", (t).scalar_type());                                                 \
  TORCH_CHECK((t).dim() == (ndim), __func__, ": ", #t, " must have ", (ndim), " dims, got ", \
              (t).sizes())

namespace sladd {

inline void check_images(const at::Tensor& target, const at::Tensor& source, const at::Tensor& mask) {
  SLADD_CHECK_TENSOR(target, at::kByte, 4);
  SLADD_CHECK_TENSOR(source, at::kByte, 4);
  SLADD_CHECK_TENSOR(mask, at::kFloat, 4);
  TORCH_CHECK(source.sizes() == target.sizes(), "source must match target, got ", source.sizes());
  TORCH_CHECK(mask.size(0) == target.size(0) && mask.size(1) == 1 && mask.size(2) == target.size(2) &&
                  mask.size(3) == target.size(3),
              "mask must be [B,1,H,W] matching target, got ", mask.sizes());
}

}  // namespace sladd
