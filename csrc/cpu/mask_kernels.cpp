// CPU backends of region_mask, hull_mask, deform_mask and hull_feather: per sample, the row spans or the
// hull of common/region_math.h, hull_math.h and feather_math.h, then the pixels. No geometry here.
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <vector>

#include "../common/box_math.h"
#include "../common/deform_math.h"
#include "../common/feather_math.h"
#include "../common/hull_math.h"
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
      const int n = region_segments(lm_p + b * kNumLandmarks * 2, code_of(reg_p[b]), seg);
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

// One task per sample: each of its P hulls' spans and edges set to 1 in the sample's zeroed mask (the
// union: every write is a 1).
at::Tensor hull_mask_forward_kernel(const at::Tensor& landmarks_in, int64_t size) {
  check_hull_mask(landmarks_in, size);
  const at::Tensor lm = landmarks_in.contiguous();
  const HullShape g = hull_shape(lm);
  const int64_t K = g.K;
  const int S = (int)size;
  at::Tensor out = at::zeros({g.B, 1, size, size}, lm.options());
  const float* lm_p = lm.data_ptr<float>();
  float* out_p = out.data_ptr<float>();
  at::parallel_for(0, g.B, 1, [&](int64_t b0, int64_t b1) {
    std::vector<IPt> points(hull_points_cap(K));
    std::vector<i64> vertices(hull_vertex_offset(K, 1));
    const HullScratch s = hull_scratch(points.data(), vertices.data(), (int)K, 0);
    std::vector<int> xl(S), xr(S);
    for (int64_t b = b0; b < b1; ++b) {
      float* o = out_p + b * size * size;
      for (int64_t p = 0; p < g.P; ++p) {
        bool whole;
        const int n = hull_vertices(lm_p + (b * g.P + p) * K * 2, (int)K, s, &whole);
        hull_scanlines(s.vx, s.vy, n, S, xl.data(), xr.data());
        for (int y = 0; y < S; ++y)
          for (int x = std::max(xl[y], 0); x <= std::min(xr[y], S - 1); ++x) o[(int64_t)y * S + x] = 1.0f;
        hull_edges(s.vx, s.vy, n, whole, S, o);
      }
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

at::Tensor hull_feather_forward_kernel(const at::Tensor& mask_in, const at::Tensor& frac_in) {
  check_hull_feather(mask_in, frac_in);
  const at::Tensor mask = mask_in.contiguous(), frac = frac_in.contiguous();
  const int64_t B = mask.size(0), H = mask.size(2), W = mask.size(3);
  at::Tensor out = at::empty_like(mask);
  if (mask.numel() == 0) return out;
  const int64_t cap = kFeatherEndsPerRow * H + kFeatherHullSlack;
  std::vector<IPt> hull(B * cap);
  std::vector<int> count(B);
  std::vector<float> f(B);
  const float* m = mask.data_ptr<float>();
  const float* fr = frac.data_ptr<float>();
  float* o = out.data_ptr<float>();
  // Pass 1 per sample: the hull. Pass 2 per row: the weights (parallel even for a small batch).
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    std::vector<IPt> ends(kFeatherEndsPerRow * H);
    for (int64_t b = b0; b < b1; ++b) {
      for (int64_t y = 0; y < H; ++y)
        feather_row_ends(m + (b * H + y) * W, (int)W, (int)y, ends.data() + kFeatherEndsPerRow * y);
      count[b] = feather_hull(ends.data(), (int)H, fr[b], hull.data() + b * cap, &f[b]);
    }
  });
  at::parallel_for(0, B * H, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / H, y = r % H;
      for (int64_t x = 0; x < W; ++x)
        o[r * W + x] = feather_weight(hull.data() + b * cap, count[b], f[b], m[r * W + x], IPt{x, y});
    }
  });
  return out;
}

}  // namespace

at::Tensor box_of_forward_kernel(const at::Tensor& on_in, bool exclude_frame) {
  check_box_of(on_in);
  const at::Tensor on = on_in.contiguous();
  const int64_t B = on.size(0), H = on.size(1), W = on.size(2);
  at::Tensor box = at::empty({B, 4}, on.options().dtype(at::kLong));
  const u8* m = reinterpret_cast<const u8*>(on.data_ptr<bool>());
  long long* out = reinterpret_cast<long long*>(box.data_ptr<int64_t>());
  at::parallel_for(0, B, 8, [&](int64_t b0, int64_t b1) {
    std::vector<int> rows(kBoxRowEntries * (size_t)H);
    for (int64_t b = b0; b < b1; ++b) {
      for (int64_t y = 0; y < H; ++y)
        box_row(m + (b * H + y) * W, (int)y, (int)H, (int)W, exclude_frame, &rows[kBoxRowEntries * y],
                &rows[kBoxRowEntries * y + 1]);
      box_from_rows(rows.data(), (int)H, out + 4 * b);
    }
  });
  return box;
}

TORCH_LIBRARY_IMPL(sladd_fast, CPU, m) {
  m.impl("box_of", &box_of_forward_kernel);
  m.impl("deform_mask", &deform_mask_forward_kernel);
  m.impl("region_mask", &region_mask_forward_kernel);
  m.impl("hull_mask", &hull_mask_forward_kernel);
  m.impl("hull_feather", &hull_feather_forward_kernel);
}

}  // namespace sladd
