// CPU backends of blend_linear, poisson_rhs and poisson_compose: loops over common/*_math.h.
#include <ATen/Parallel.h>
#include <torch/library.h>

#include "../common/blend_math.h"
#include "../common/poisson_math.h"
#include "../checks.h"

namespace sladd {
namespace {

// blend_linear_px over one plane. Compiled twice on x86-64 GCC: with the FMA instruction set, picked
// at load time where the CPU has it (fmaf is then one instruction, not libm's software routine), and
// for baseline x86-64. Same results either way: fmaf is correctly rounded in both.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("fma", "default")))
#endif
void blend_linear_plane(const u8* t, const u8* s, const float* m, float w, u8* o, int64_t n) {
  for (int64_t i = 0; i < n; ++i) o[i] = blend_linear_px(t[i], s[i], m[i], w);
}

at::Tensor blend_linear_forward_kernel(const at::Tensor& target_in, const at::Tensor& source_in,
                                       const at::Tensor& mask_in, const at::Tensor& weight_in) {
  check_blend_linear(target_in, source_in, mask_in, weight_in);
  const at::Tensor target = target_in.contiguous(), source = source_in.contiguous();
  const at::Tensor mask = mask_in.contiguous(), weight = weight_in.contiguous();
  const int64_t B = target.size(0), C = target.size(1), HW = target.size(2) * target.size(3);
  at::Tensor out = at::empty_like(target);
  const u8* t = target.data_ptr<u8>();
  const u8* s = source.data_ptr<u8>();
  const float* m = mask.data_ptr<float>();
  const float* w = weight.data_ptr<float>();
  u8* o = out.data_ptr<u8>();
  at::parallel_for(0, B * C, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t b = p / C;
      blend_linear_plane(t + p * HW, s + p * HW, m + b * HW, w[b], o + p * HW, HW);
    }
  });
  return out;
}

Roi roi_at(const int64_t* roi, int64_t b) { return roi_of(roi, b); }

at::Tensor poisson_rhs_forward_kernel(const at::Tensor& target_in, const at::Tensor& source_in,
                                      const at::Tensor& mask_in, const at::Tensor& roi_in) {
  check_poisson_rhs(target_in, source_in, mask_in, roi_in);
  const int64_t B = target_in.size(0), C = target_in.size(1);
  const int64_t H = target_in.size(2), W = target_in.size(3);
  const at::Tensor target = target_in.contiguous(), source = source_in.contiguous();
  const at::Tensor mask = mask_in.contiguous(), roi = roi_in.contiguous();
  at::Tensor eroded = at::zeros({B, H, W}, target.options());
  at::Tensor rhs = at::zeros({B, C, H - 2, W - 2}, mask.options());
  const int64_t* roi_p = roi.data_ptr<int64_t>();
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const Roi r = roi_at(roi_p, b);
      if (!roi_solvable(r, (int)H, (int)W)) continue;
      u8* er = eroded.data_ptr<u8>() + b * H * W;
      const PoissonView v{target.data_ptr<u8>() + b * C * H * W, source.data_ptr<u8>() + b * C * H * W,
                          mask.data_ptr<float>() + b * H * W, er, (int)H, (int)W};
      for (int i = 0; i < r.h; ++i)
        for (int j = 0; j < r.w; ++j) er[(r.y + i) * W + r.x + j] = erode_px(v, r, i, j) ? 1 : 0;
      float* out = rhs.data_ptr<float>() + b * C * (H - 2) * (W - 2);
      for (int64_t c = 0; c < C; ++c)
        for (int i = 1; i < r.h - 1; ++i)
          for (int j = 1; j < r.w - 1; ++j)
            out[(c * (H - 2) + i - 1) * (W - 2) + j - 1] = poisson_rhs_px(v, r, (int)c, i, j);
    }
  });
  return rhs;
}

at::Tensor poisson_compose_forward_kernel(const at::Tensor& target_in, const at::Tensor& solution_in,
                                          const at::Tensor& roi_in) {
  check_poisson_compose(target_in, solution_in, roi_in);
  const int64_t B = target_in.size(0), C = target_in.size(1);
  const int64_t H = target_in.size(2), W = target_in.size(3);
  const at::Tensor target = target_in.contiguous(), sol = solution_in.contiguous(), roi = roi_in.contiguous();
  at::Tensor out = target.clone();
  const int64_t* roi_p = roi.data_ptr<int64_t>();
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const Roi r = roi_at(roi_p, b);
      if (!roi_solvable(r, (int)H, (int)W)) continue;
      for (int64_t c = 0; c < C; ++c) {
        u8* o = out.data_ptr<u8>() + (b * C + c) * H * W;
        const float* u = sol.data_ptr<float>() + (b * C + c) * (H - 2) * (W - 2);
        for (int i = 1; i < r.h - 1; ++i)
          for (int j = 1; j < r.w - 1; ++j)
            o[(r.dy + i) * W + r.dx + j] = clamp_trunc_u8(u[(i - 1) * (W - 2) + j - 1]);
      }
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CPU, m) {
  m.impl("blend_linear", &blend_linear_forward_kernel);
  m.impl("poisson_rhs", &poisson_rhs_forward_kernel);
  m.impl("poisson_compose", &poisson_compose_forward_kernel);
}

}  // namespace sladd
