// CPU backend of xray_blend: common/xray_math.h, per sample the sums in pixel order (integers: any order
// gives the same), then the pixels row by row.
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <vector>

#include "../checks.h"
#include "../common/xray_math.h"

namespace sladd {
namespace {

at::Tensor xray_blend_forward_kernel(const at::Tensor& both_, const at::Tensor& mask_, const at::Tensor& weight_) {
  check_xray_blend(both_, mask_, weight_);
  const at::Tensor both = both_.contiguous(), mask = mask_.contiguous(), weight = weight_.contiguous();
  const int64_t B = both.size(0), H = both.size(2), W = both.size(3), HW = H * W;
  at::Tensor out = at::empty({B, 3, H, W}, both.options());
  if (out.numel() == 0) return out;
  const u8* in = both.data_ptr<uint8_t>();
  const float* m = mask.data_ptr<float>();
  const float* w = weight.data_ptr<float>();
  u8* o = out.data_ptr<uint8_t>();
  std::vector<float> shift((size_t)B * 3);
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    long long sums[kXraySums];
    for (int64_t b = b0; b < b1; ++b) {
      for (int k = 0; k < kXraySums; ++k) sums[k] = 0;
      for (int64_t p = 0; p < HW; ++p) xray_add_pixel(in + b * 6 * HW, m + b * HW, HW, p, sums);
      xray_shift(sums, shift.data() + b * 3);
    }
  });
  at::parallel_for(0, B * H, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / H, row = (r % H) * W;
      const u8* s = in + b * 6 * HW;
      for (int c = 0; c < 3; ++c)
        for (int64_t x = 0; x < W; ++x) {
          const int64_t p = row + x;
          o[(b * 3 + c) * HW + p] = xray_blend_px((float)s[c * HW + p], (float)s[(3 + c) * HW + p],
                                                  m[b * HW + p] > 0.0f, shift[b * 3 + c], w[b * HW + p]);
        }
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CPU, m) { m.impl("xray_blend", &xray_blend_forward_kernel); }

}  // namespace sladd
