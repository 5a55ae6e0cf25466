// CPU backends of morph_square and warp_affine_cubic: loops over common/morph_math.h and
// common/warp_math.h.
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <vector>

#include "../common/morph_math.h"
#include "../common/warp_math.h"
#include "../checks.h"

namespace sladd {
namespace {

at::Tensor morph_square_forward_kernel(const at::Tensor& mask_in, const at::Tensor& op_in, const at::Tensor& k_in) {
  check_morph_square(mask_in, op_in, k_in);
  const int64_t B = mask_in.size(0), H = mask_in.size(2), W = mask_in.size(3);
  const at::Tensor mask = mask_in.contiguous(), op = op_in.contiguous(), k = k_in.contiguous();
  const float* m = mask.data_ptr<float>();
  const int64_t* opp = op.data_ptr<int64_t>();
  const int64_t* kp = k.data_ptr<int64_t>();
  std::vector<u8> in(B * H * W), rows(B * H * W), cols(B * H * W);
  at::Tensor out = at::empty_like(mask);
  float* o = out.data_ptr<float>();
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    std::vector<int> dist(H > W ? H : W);
    for (int64_t b = b0; b < b1; ++b) {
      const int o_b = (int)opp[b], r = (int)((kp[b] - 1) / 2);
      const int64_t base = b * H * W;
      for (int64_t i = 0; i < H * W; ++i) in[base + i] = morph_input(m[base + i], o_b);
      for (int64_t y = 0; y < H; ++y)
        dilate_line(&in[base + y * W], 1, &rows[base + y * W], 1, dist.data(), (int)W, r);
      for (int64_t x = 0; x < W; ++x)
        dilate_line(&rows[base + x], (int)W, &cols[base + x], (int)W, dist.data(), (int)H, r);
      for (int64_t i = 0; i < H * W; ++i) o[base + i] = morph_output(cols[base + i], m[base + i], o_b);
    }
  });
  return out;
}

at::Tensor warp_affine_cubic_forward_kernel(const at::Tensor& input_in, const at::Tensor& map_in) {
  check_warp_affine_cubic(input_in, map_in);
  const int64_t B = input_in.size(0), C = input_in.size(1), H = input_in.size(2), W = input_in.size(3);
  const at::Tensor input = input_in.contiguous(), map = map_in.contiguous();
  at::Tensor out = at::empty_like(input);
  const float* in = input.data_ptr<float>();
  const float* mp = map.data_ptr<float>();
  float* o = out.data_ptr<float>();
  at::parallel_for(0, B * H, 8, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / H, y = r % H;
      for (int64_t x = 0; x < W; ++x) {
        CubicTaps t;
        cubic_taps(mp + b * 6, (int)x, (int)y, (int)H, (int)W, &t);
        cubic_sample_channels(in + b * C * H * W, H * W, (int)C, (int)W, t, o + (b * C * H + y) * W + x, H * W);
      }
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CPU, m) {
  m.impl("morph_square", &morph_square_forward_kernel);
  m.impl("warp_affine_cubic", &warp_affine_cubic_forward_kernel);
}

}  // namespace sladd
