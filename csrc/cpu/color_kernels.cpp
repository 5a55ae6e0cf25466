// CPU backends of rgb_to_lab and lab_to_rgb: loops over common/color_math.h.
#include <ATen/Parallel.h>
#include <torch/library.h>

#include "../checks.h"
#include "../common/color_math.h"

namespace sladd {
namespace {

constexpr int64_t kGrain = 4096;  // pixels per parallel task

at::Tensor rgb_to_lab_forward_kernel(const at::Tensor& rgb_in) {
  check_color_planes(rgb_in, at::kByte, "rgb");
  const at::Tensor rgb = rgb_in.contiguous();
  at::Tensor out = at::empty(rgb.sizes(), rgb.options().dtype(at::kFloat));
  const int64_t B = rgb.size(0), HW = rgb.size(2) * rgb.size(3);
  // 8-bit input: the sRGB decoding takes one of 256 values, so it is tabulated (same function).
  float lut[256];
  for (int v = 0; v < 256; ++v) lut[v] = srgb_u8_to_linear((u8)v);
  const u8* x = rgb.data_ptr<u8>();
  float* o = out.data_ptr<float>();
  at::parallel_for(0, B * HW, kGrain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t base = (i / HW) * 3 * HW + i % HW;
      const float lin[3] = {lut[x[base]], lut[x[base + HW]], lut[x[base + 2 * HW]]};
      float lab[3];
      lab_from_linear(lin, lab);
      for (int c = 0; c < 3; ++c) o[base + c * HW] = lab[c];
    }
  });
  return out;
}

at::Tensor lab_to_rgb_forward_kernel(const at::Tensor& lab_in) {
  check_color_planes(lab_in, at::kFloat, "lab");
  const at::Tensor lab = lab_in.contiguous();
  at::Tensor out = at::empty(lab.sizes(), lab.options().dtype(at::kByte));
  const int64_t B = lab.size(0), HW = lab.size(2) * lab.size(3);
  const float* x = lab.data_ptr<float>();
  u8* o = out.data_ptr<u8>();
  at::parallel_for(0, B * HW, kGrain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t base = (i / HW) * 3 * HW + i % HW;
      const float in[3] = {x[base], x[base + HW], x[base + 2 * HW]};
      u8 rgb[3];
      rgb_u8_from_lab(in, rgb);
      for (int c = 0; c < 3; ++c) o[base + c * HW] = rgb[c];
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CPU, m) {
  m.impl("rgb_to_lab", &rgb_to_lab_forward_kernel);
  m.impl("lab_to_rgb", &lab_to_rgb_forward_kernel);
}

}  // namespace sladd
