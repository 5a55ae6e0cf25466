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

// The kernels take long long* (NVRTC has no <cstdint>); int64_t is `long` on Linux.
inline const long long* ll_ptr(const at::Tensor& t) {
  return reinterpret_cast<const long long*>(t.data_ptr<int64_t>());
}

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
      lm.data_ptr<float>(), ll_ptr(reg), out.data_ptr<float>(), (int)size);
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
      m.data_ptr<float>(), ll_ptr(r), eroded.data_ptr<uint8_t>(), (int)H, (int)W);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  sladd_poisson_rhs_kernel<<<grid_for((H - 2) * (W - 2), B * C), kThreads, 0, stream>>>(
      t.data_ptr<uint8_t>(), s.data_ptr<uint8_t>(), m.data_ptr<float>(), eroded.data_ptr<uint8_t>(),
      ll_ptr(r), rhs.data_ptr<float>(), (int)C, (int)H, (int)W);
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
      t.data_ptr<uint8_t>(), u.data_ptr<float>(), ll_ptr(r), out.data_ptr<uint8_t>(), (int)C, (int)H,
      (int)W);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

at::Tensor deform_mask_forward_kernel(const at::Tensor& mask, const at::Tensor& noise) {
  SLADD_CHECK_TENSOR(mask, at::kFloat, 4);
  SLADD_CHECK_TENSOR(noise, at::kFloat, 4);
  TORCH_CHECK(noise.size(0) == mask.size(0) && noise.size(1) == 5 && noise.size(2) == 5 && noise.size(3) == 2,
              "noise must be [B,5,5,2]");
  const at::cuda::CUDAGuard guard(mask.device());
  const at::Tensor m = mask.contiguous(), n = noise.contiguous();
  const int64_t B = m.size(0), S = m.size(2);
  at::Tensor out = at::empty_like(m);
  if (B == 0) return out;
  sladd_deform_mask_kernel<<<grid_for(S * S, B), kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
      m.data_ptr<float>(), n.data_ptr<float>(), out.data_ptr<float>(), (int)S);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

at::Tensor morph_square_forward_kernel(const at::Tensor& mask, const at::Tensor& op, const at::Tensor& k) {
  SLADD_CHECK_TENSOR(mask, at::kFloat, 4);
  SLADD_CHECK_TENSOR(op, at::kLong, 1);
  SLADD_CHECK_TENSOR(k, at::kLong, 1);
  const at::cuda::CUDAGuard guard(mask.device());
  const at::Tensor m = mask.contiguous(), o = op.contiguous(), kk = k.contiguous();
  const int64_t B = m.size(0), H = m.size(2), W = m.size(3);
  at::Tensor out = at::empty_like(m);
  if (B == 0) return out;
  auto u8 = m.options().dtype(at::kByte);
  at::Tensor in = at::empty({B, H, W}, u8), rows = at::empty({B, H, W}, u8), cols = at::empty({B, H, W}, u8);
  at::Tensor dist = at::empty({B, H, W}, m.options().dtype(at::kInt));
  auto stream = at::cuda::getCurrentCUDAStream();
  sladd_morph_rows_kernel<<<grid_for(B * H, 1), kThreads, 0, stream>>>(
      m.data_ptr<float>(), ll_ptr(o), ll_ptr(kk), in.data_ptr<uint8_t>(),
      rows.data_ptr<uint8_t>(), dist.data_ptr<int>(), (int)B, (int)H, (int)W);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  sladd_morph_cols_kernel<<<grid_for(B * W, 1), kThreads, 0, stream>>>(
      m.data_ptr<float>(), ll_ptr(o), ll_ptr(kk), rows.data_ptr<uint8_t>(),
      cols.data_ptr<uint8_t>(), dist.data_ptr<int>(), out.data_ptr<float>(), (int)B, (int)H, (int)W);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

at::Tensor warp_affine_cubic_forward_kernel(const at::Tensor& input, const at::Tensor& inverse_map) {
  SLADD_CHECK_TENSOR(input, at::kFloat, 4);
  SLADD_CHECK_TENSOR(inverse_map, at::kFloat, 3);
  const at::cuda::CUDAGuard guard(input.device());
  const at::Tensor x = input.contiguous(), mp = inverse_map.contiguous();
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  at::Tensor out = at::empty_like(x);
  if (B == 0) return out;
  sladd_warp_affine_cubic_kernel<<<grid_for(H * W, B), kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
      x.data_ptr<float>(), mp.data_ptr<float>(), out.data_ptr<float>(), (int)C, (int)H, (int)W);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CUDA, m) {
  m.impl("morph_square", &morph_square_forward_kernel);
  m.impl("warp_affine_cubic", &warp_affine_cubic_forward_kernel);
  m.impl("deform_mask", &deform_mask_forward_kernel);
  m.impl("region_mask", &region_mask_forward_kernel);
  m.impl("hull_mask", &hull_mask_forward_kernel);
  m.impl("blend_linear", &blend_linear_forward_kernel);
  m.impl("poisson_rhs", &poisson_rhs_forward_kernel);
  m.impl("poisson_compose", &poisson_compose_forward_kernel);
}

}  // namespace sladd
