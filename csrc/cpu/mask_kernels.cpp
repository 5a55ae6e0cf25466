// CPU backends of region_mask and hull_mask: per sample, the row spans or the hull of
// common/region_math.h and geometry.h, then the pixels. No geometry here.
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <vector>

#include "../common/deform_math.h"
#include "../common/region_math.h"
#include "../checks.h"

namespace sladd {
namespace {

at::Tensor region_mask_forward_kernel(const at::Tensor& landmarks_in, const at::Tensor& region_in,
                                      int64_t size) {
  check_region_mask(landmarks_in, region_in, size);
  const at::Tensor lm = landmarks_in.contiguous();
  const at::Tensor region = region_in.contiguous();
  const int64_t B = lm.size(0);
  const int S = (int)size;
  at::Tensor out = at::zeros({B, 1, size, size}, lm.options());
  const float* lm_p = lm.data_ptr<float>();
  const int64_t* reg_p = region.data_ptr<int64_t>();
  float* out_p = out.data_ptr<float>();
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    std::vector<int> xl(S), xr(S), lo(S), hi(S);
    for (int64_t b = b0; b < b1; ++b) {
      Segment seg[kMaxPrimitives];
      const int n = region_segments(lm_p + b * kNumLandmarks * 2, (int)reg_p[b], seg);
      float* o = out_p + b * size * size;
      for (int i = 0; i < n; ++i) {
        primitive_rows(seg[i], S, xl.data(), xr.data(), lo.data(), hi.data());
        for (int y = 0; y < S; ++y)
          for (int x = std::max(lo[y], 0); x <= std::min(hi[y], S - 1); ++x) o[(int64_t)y * S + x] = 1.0f;
      }
    }
  });
  return out;
}

at::Tensor hull_mask_forward_kernel(const at::Tensor& landmarks_in, int64_t size) {
  check_hull_mask(landmarks_in, size);
  const at::Tensor lm = landmarks_in.contiguous();
  const int64_t B = lm.size(0), K = lm.size(1);
  at::Tensor out = at::zeros({B, 1, size, size}, lm.options());
  const float* lm_p = lm.data_ptr<float>();
  float* out_p = out.data_ptr<float>();
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    std::vector<IPt> pts(K), hull(2 * K + 2);
    for (int64_t b = b0; b < b1; ++b) {
      for (int64_t k = 0; k < K; ++k)
        pts[k] = IPt{fixed_coord(lm_p[(b * K + k) * 2]), fixed_coord(lm_p[(b * K + k) * 2 + 1])};
      const int n = convex_hull(pts.data(), (int)K, hull.data());
      float* o = out_p + b * size * size;
      for (int64_t y = 0; y < size; ++y)
        for (int64_t x = 0; x < size; ++x)
          o[y * size + x] = in_convex(hull.data(), n, IPt{x * (i64)kSubpixel, y * (i64)kSubpixel}) ? 1.0f : 0.0f;
    }
  });
  return out;
}

at::Tensor deform_mask_forward_kernel(const at::Tensor& mask_in, const at::Tensor& noise_in) {
  check_deform_mask(mask_in, noise_in);
  const int64_t B = mask_in.size(0), S = mask_in.size(2);
  const at::Tensor mask = mask_in.contiguous(), noise = noise_in.contiguous();
  at::Tensor out = at::empty_like(mask);
  const float* m = mask.data_ptr<float>();
  const float* nz = noise.data_ptr<float>();
  float* o = out.data_ptr<float>();
  at::parallel_for(0, B * S, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / S, y = r % S;
      for (int64_t x = 0; x < S; ++x)
        o[r * S + x] = deform_mask_px(m + b * S * S, nz + b * kMesh * kMesh * 2, (int)S, (int)x, (int)y);
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CPU, m) {
  m.impl("deform_mask", &deform_mask_forward_kernel);
  m.impl("region_mask", &region_mask_forward_kernel);
  m.impl("hull_mask", &hull_mask_forward_kernel);
}

}  // namespace sladd
