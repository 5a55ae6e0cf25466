// CUDA backends registered with the torch dispatcher (setup.py build with WITH_CUDA).
// Input checks, allocation and launches only; the kernels are in kernels.cuh.
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "../cpu/checks.h"
#include "kernels.cuh"

namespace sladd {
namespace {

constexpr int kThreads = 256;

dim3 grid_for(int64_t n, int64_t planes) {
  return dim3((unsigned)((n + kThreads - 1) / kThreads), (unsigned)planes);
}

at::Tensor region_mask_forward_kernel(const at::Tensor& landmarks, const at::Tensor& region, int64_t size) {
  SLADD_CHECK_TENSOR(landmarks, at::kFloat, 3);
  SLADD_CHECK_TENSOR(region, at::kLong, 1);
  TORCH_CHECK(landmarks.size(1) == kNumLandmarks && landmarks.size(2) == 2, "landmarks must be [B,68,2]");
  const at::cuda::CUDAGuard guard(landmarks.device());
  const at::Tensor lm = landmarks.contiguous(), reg = region.contiguous();
  const int64_t B = lm.size(0);
  at::Tensor out = at::empty({B, 1, size, size}, lm.options());
  if (B == 0) return out;
  sladd_region_mask_kernel<<<grid_for(size * size, B), kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
      lm.data_ptr<float>(), reg.data_ptr<int64_t>(), out.data_ptr<float>(), (int)size);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

at::Tensor hull_mask_forward_kernel(const at::Tensor& landmarks, int64_t size) {
  SLADD_CHECK_TENSOR(landmarks, at::kFloat, 3);
  TORCH_CHECK(landmarks.size(2) == 2 && landmarks.size(1) <= kMaxHullInput, "landmarks must be [B,K<=128,2]");
  const at::cuda::CUDAGuard guard(landmarks.device());
  const at::Tensor lm = landmarks.contiguous();
  const int64_t B = lm.size(0);
  at::Tensor out = at::empty({B, 1, size, size}, lm.options());
  if (B == 0) return out;
  sladd_hull_mask_kernel<<<grid_for(size * size, B), kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
      lm.data_ptr<float>(), out.data_ptr<float>(), (int)lm.size(1), (int)size);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

at::Tensor blend_linear_forward_kernel(const at::Tensor& target, const at::Tensor& source, const at::Tensor& mask,
                                       const at::Tensor& weight) {
  check_images(target, source, mask);
  SLADD_CHECK_TENSOR(weight, at::kFloat, 1);
  const at::cuda::CUDAGuard guard(target.device());
  const at::Tensor t = target.contiguous(), s = source.contiguous(), m = mask.contiguous(), w = weight.contiguous();
  at::Tensor out = at::empty_like(t);
  const int64_t HW = t.size(2) * t.size(3);
  if (t.numel() == 0) return out;
  sladd_blend_linear_kernel<<<grid_for(HW, t.size(0) * t.size(1)), kThreads, 0,
                              at::cuda::getCurrentCUDAStream()>>>(
      t.data_ptr<uint8_t>(), s.data_ptr<uint8_t>(), m.data_ptr<float>(), w.data_ptr<float>(),
      out.data_ptr<uint8_t>(), (int)t.size(1), HW);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

at::Tensor poisson_rhs_forward_kernel(const at::Tensor& target, const at::Tensor& source, const at::Tensor& mask,
                                      const at::Tensor& roi) {
  check_images(target, source, mask);
  SLADD_CHECK_TENSOR(roi, at::kLong, 2);
  TORCH_CHECK(roi.size(0) == target.size(0) && roi.size(1) == 6, "roi must be [B,6]");
  const at::cuda::CUDAGuard guard(target.device());
  const at::Tensor t = target.contiguous(), s = source.contiguous(), m = mask.contiguous(), r = roi.contiguous();
  const int64_t B = t.size(0), C = t.size(1), H = t.size(2), W = t.size(3);
  at::Tensor rhs = at::zeros({B, C, H - 2, W - 2}, m.options());
  if (B == 0) return rhs;
  at::Tensor eroded = at::zeros({B, H, W}, t.options());
  auto stream = at::cuda::getCurrentCUDAStream();
  sladd_poisson_erode_kernel<<<grid_for(H * W, B), kThreads, 0, stream>>>(
      m.data_ptr<float>(), r.data_ptr<int64_t>(), eroded.data_ptr<uint8_t>(), (int)H, (int)W);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  sladd_poisson_rhs_kernel<<<grid_for((H - 2) * (W - 2), B * C), kThreads, 0, stream>>>(
      t.data_ptr<uint8_t>(), s.data_ptr<uint8_t>(), m.data_ptr<float>(), eroded.data_ptr<uint8_t>(),
      r.data_ptr<int64_t>(), rhs.data_ptr<float>(), (int)C, (int)H, (int)W);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return rhs;
}

at::Tensor poisson_compose_forward_kernel(const at::Tensor& target, const at::Tensor& solution,
                                          const at::Tensor& roi) {
  SLADD_CHECK_TENSOR(target, at::kByte, 4);
  SLADD_CHECK_TENSOR(solution, at::kFloat, 4);
  SLADD_CHECK_TENSOR(roi, at::kLong, 2);
  TORCH_CHECK(roi.size(0) == target.size(0) && roi.size(1) == 6, "roi must be [B,6]");
  const at::cuda::CUDAGuard guard(target.device());
  const at::Tensor t = target.contiguous(), u = solution.contiguous(), r = roi.contiguous();
  const int64_t B = t.size(0), C = t.size(1), H = t.size(2), W = t.size(3);
  at::Tensor out = at::empty_like(t);
  if (B == 0) return out;
  sladd_poisson_compose_kernel<<<grid_for(H * W, B * C), kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
      t.data_ptr<uint8_t>(), u.data_ptr<float>(), r.data_ptr<int64_t>(), out.data_ptr<uint8_t>(), (int)C, (int)H,
      (int)W);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CUDA, m) {
  m.impl("region_mask", &region_mask_forward_kernel);
  m.impl("hull_mask", &hull_mask_forward_kernel);
  m.impl("blend_linear", &blend_linear_forward_kernel);
  m.impl("poisson_rhs", &poisson_rhs_forward_kernel);
  m.impl("poisson_compose", &poisson_compose_forward_kernel);
}

}  // namespace sladd
