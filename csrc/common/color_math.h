// OpenCV's 8-bit RGB <-> Lab conversion (D65, sRGB gamma) per pixel, shared by CPU, CUDA and NVRTC.
//
// The float formulas of sladd_fast.synthesis.color.rgb_to_lab_u8 / lab_u8_to_rgb (the references),
// in the same order of operations: Lab comes out rounded to integers in [0, 255] (L * 255 / 100,
// a + 128, b + 128), RGB comes back as uint8. powf differs between libm and CUDA by an ulp or two,
// so rare pixels at a rounding boundary may differ by 1 between backends.
#pragma once
#include "macros.h"
#include "round_math.h"

namespace sladd {

// Row i of a 3x3 matrix times v, summed left to right. The constants are literals (not arrays) so
// device code can use them: OpenCV's RGB2XYZ (sRGB, D65), its float64 inverse, the D65 white point.
SLADD_HD float rgb2xyz_row(int i, const float* v) {
  if (i == 0) return 0.412453f * v[0] + 0.357580f * v[1] + 0.180423f * v[2];
  if (i == 1) return 0.212671f * v[0] + 0.715160f * v[1] + 0.072169f * v[2];
  return 0.019334f * v[0] + 0.119193f * v[1] + 0.950227f * v[2];
}

SLADD_HD float xyz2rgb_row(int i, const float* v) {
  if (i == 0) return 3.2404813432005266f * v[0] + -1.5371515162713185f * v[1] + -0.4985363261688878f * v[2];
  if (i == 1) return -0.9692549499965682f * v[0] + 1.8759900014898907f * v[1] + 0.04155592655829284f * v[2];
  return 0.05564663913517715f * v[0] + -0.20404133836651123f * v[1] + 1.0573110696453443f * v[2];
}

SLADD_HD float white(int i) { return i == 0 ? 0.950456f : (i == 1 ? 1.0f : 1.088754f); }

// An 8-bit sRGB value to linear light.
SLADD_HD float srgb_u8_to_linear(u8 v) {
  const float x = (float)v / 255.0f;
  return x <= 0.04045f ? x / 12.92f : powf((x + 0.055f) / 1.055f, 2.4f);
}

SLADD_HD float lab_f(float t) {
  return t > 0.008856f ? powf(t > 1e-12f ? t : 1e-12f, 1.0f / 3.0f) : 7.787f * t + (float)(16.0 / 116.0);
}

// Linear RGB -> integer-valued 8-bit Lab (L * 255 / 100, a + 128, b + 128, rounded and clamped).
SLADD_HD void lab_from_linear(const float* lin, float* lab) {
  float xyz[3], f[3];
  for (int i = 0; i < 3; ++i) {
    xyz[i] = rgb2xyz_row(i, lin) / white(i);
    f[i] = lab_f(xyz[i]);
  }
  const float L = xyz[1] > 0.008856f ? 116.0f * f[1] - 16.0f : 903.3f * xyz[1];
  lab[0] = clamp_round_255(L * 255.0f / 100.0f);
  lab[1] = clamp_round_255(500.0f * (f[0] - f[1]) + 128.0f);
  lab[2] = clamp_round_255(200.0f * (f[1] - f[2]) + 128.0f);
}

SLADD_HD float lab_f_inv(float f) { return f > 0.206893f ? f * f * f : (f - (float)(16.0 / 116.0)) / 7.787f; }

SLADD_HD float linear_to_srgb(float x) {
  x = x > 0.0f ? x : 0.0f;
  return x <= 0.0031308f ? 12.92f * x : 1.055f * powf(x, 1.0f / 2.4f) - 0.055f;
}

// 8-bit Lab (any floats; integers in [0, 255] in practice) -> uint8 RGB.
SLADD_HD void rgb_u8_from_lab(const float* lab, u8* rgb) {
  const float L = lab[0] * 100.0f / 255.0f;
  const float fy = (L + 16.0f) / 116.0f;
  const float fx = fy + (lab[1] - 128.0f) / 500.0f;
  const float fz = fy - (lab[2] - 128.0f) / 200.0f;
  const float xyz[3] = {lab_f_inv(fx) * white(0), lab_f_inv(fy) * white(1), lab_f_inv(fz) * white(2)};
  for (int i = 0; i < 3; ++i) rgb[i] = (u8)clamp_round_255(linear_to_srgb(xyz2rgb_row(i, xyz)) * 255.0f);
}

}  // namespace sladd
