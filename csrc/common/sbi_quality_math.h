// sbi_quality: Self-Blended Images' source transforms on one uint8 image (SBI's get_source_transforms
// through albumentations and OpenCV), shared by CPU, CUDA and NVRTC. The PyTorch reference of the same
// arithmetic is sladd_fast/ops/_reference.py (sbi_quality); the derivations and the measurements against
// cv2 are in sladd_fast/augment/sbi.py and augment/cv2_taps.py.
//
// Two stages. Colour, per pixel: RGBShift (trunc(clip(float32 v + shift_c, 0, 255)): albumentations' uint8
// lookup table), HueSaturationValue (common/hsv_math.h), RandomBrightnessContrast as its table,
// floor(clamp(v * gain + bias, 0, 255)) in float32 (a multiply, then an add: never fused). Then one
// branch per sample on the colour stage's planes:
//   0: nothing;
//   1: Sharpen, cv2.filter2D's (1 - a) I + a ([-1 .. 8 + l .. -1]) written as
//      ((f k - box) a) + f (1 - a), k = 9 + l, box the 3 x 3 sum with reflect-101 borders (exact
//      integers), then saturate_cast: floor(x + 1/2) clamped;
//   r = 2 or 4: RandomDownScale (an image smaller than r: nothing), cv2.resize INTER_NEAREST down to
//      (w, h) = (W / r, H / r) (source pixel floor(d (1 / (w / W))) in double, as resizeNN computes it:
//      not always r d), then
//      INTER_LINEAR back in OpenCV's 8-bit fixed point: 11-bit weights (column taps outside the small
//      image reset to (clamped index, weight 2048), row taps keep their fraction and read clamped rows),
//      the horizontal sum exact, the vertical one as VResizeLinearVec_32s8u:
//      ((b0 (s0 >> 4)) >> 16) + ((b1 (s1 >> 4)) >> 16) + 2) >> 2.
// Other branch values act as 0. A NaN where a level is made (gain, bias, Sharpen's coefficients) gives 0.
#pragma once
#include "hsv_math.h"
#include "macros.h"

namespace sladd {

// coeffs[8] per sample: shift_r, shift_g, shift_b (RGBShift), gain, bias (brightness / contrast),
// a, k = 9 + l, 1 - a (Sharpen), each as the float32 the reference computes.
constexpr int kSbiCoeffs = 8;

SLADD_HD u8 sbi_clamp_u8(int v) { return (u8)(v < 0 ? 0 : (v > 255 ? 255 : v)); }

// RGBShift's table entry for level v: albumentations' float32 arange + shift, clipped, cast (truncation);
// NaN -> 0.
SLADD_HD u8 sbi_rgb_level(int v, float shift) {
  float t = (float)v + shift;
  t = t > 0.0f ? (t < 255.0f ? t : 255.0f) : 0.0f;
  return (u8)(int)t;
}

// The nearest source index of output d of cv2.resize INTER_NEAREST from N down to n samples:
// floor(d / (n / N)) with the scale in double, as resizeNN computes it, clamped to N - 1.
SLADD_HD int sbi_nearest_index(int d, int n, int N) {
  const double ifx = 1.0 / ((double)n / (double)N);
  const int s = (int)floor((double)d * ifx);
  return s < N - 1 ? s : N - 1;
}

// RandomBrightnessContrast's table entry for level v.
SLADD_HD u8 sbi_bc_level(int v, float gain, float bias) {
  float t = (float)v * gain;
  t = t + bias;
  t = t > 0.0f ? (t < 255.0f ? t : 255.0f) : 0.0f;  // NaN -> 0
  return (u8)(int)t;  // floor of a value >= 0 (no floorf: the host loop vectorises)
}

// The colour stage of one pixel.
template <typename Div>
SLADD_HD void sbi_color_px(int r, int g, int b, const float* shift, const HsvMove& m, bool truncate, const Div& div,
                           float gain, float bias, u8* rgb) {
  hsv_shift_px(sbi_rgb_level(r, shift[0]), sbi_rgb_level(g, shift[1]), sbi_rgb_level(b, shift[2]), m, truncate, div,
               rgb);
  for (int c = 0; c < 3; ++c) rgb[c] = sbi_bc_level(rgb[c], gain, bias);
}

SLADD_HD int sbi_reflect101(int i, int n) {
  if (n == 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

// Sharpen of pixel (y, x) of one colour-stage plane (H x W).
SLADD_HD u8 sbi_sharpen_px(const u8* plane, int H, int W, int y, int x, float a, float k, float one_minus_a) {
  int box = 0;
  for (int dy = -1; dy <= 1; ++dy) {
    const u8* row = plane + (i64)sbi_reflect101(y + dy, H) * W;
    for (int dx = -1; dx <= 1; ++dx) box += row[sbi_reflect101(x + dx, W)];
  }
  const float f = (float)plane[(i64)y * W + x];
  float t = f * k;
  t = t - (float)box;
  t = t * a;
  const float u = f * one_minus_a;
  const float v = floorf((t + u) + 0.5f);
  return (u8)(v > 0.0f ? (v < 255.0f ? (int)v : 255) : 0);  // NaN -> 0
}

// cv2.resize INTER_LINEAR's taps of output d along an axis of n_in -> n_out (uint8: 11-bit weights).
struct SbiTap {
  int i0, i1, w0, w1;
};

SLADD_HD SbiTap sbi_linear_tap(int n_in, int n_out, int d, bool horizontal) {
  const double scale = 1.0 / ((double)n_out / (double)n_in);
  float fx = (float)(((double)d + 0.5) * scale - 0.5);
  float sx = floorf(fx);
  fx = fx - sx;
  const float last = (float)(n_in - 1);
  if (horizontal && (sx < 0.0f || sx >= last)) fx = 0.0f;
  SbiTap t;
  const float s0 = sx < 0.0f ? 0.0f : (sx > last ? last : sx);
  const float s1 = sx + 1.0f < 0.0f ? 0.0f : (sx + 1.0f > last ? last : sx + 1.0f);
  t.i0 = (int)s0;
  t.i1 = (int)s1;
  t.w0 = (int)rintf((1.0f - fx) * 2048.0f);
  t.w1 = (int)rintf(fx * 2048.0f);
  return t;
}

// RandomDownScale of pixel (y, x) of one colour-stage plane (H x W), ratio r with H / r, W / r >= 1.
SLADD_HD u8 sbi_downscale_px(const u8* plane, int H, int W, int r, int y, int x) {
  const int h = H / r, w = W / r;
  const SbiTap tx = sbi_linear_tap(w, W, x, true), ty = sbi_linear_tap(h, H, y, false);
  const u8* row0 = plane + (i64)sbi_nearest_index(ty.i0, h, H) * W;
  const u8* row1 = plane + (i64)sbi_nearest_index(ty.i1, h, H) * W;
  const int c0 = sbi_nearest_index(tx.i0, w, W), c1 = sbi_nearest_index(tx.i1, w, W);
  const int s0 = (int)row0[c0] * tx.w0 + (int)row0[c1] * tx.w1;
  const int s1 = (int)row1[c0] * tx.w0 + (int)row1[c1] * tx.w1;
  const int v = ((ty.w0 * (s0 >> 4)) >> 16) + ((ty.w1 * (s1 >> 4)) >> 16) + 2;
  return sbi_clamp_u8(v >> 2);
}

// The branch stage of pixel (y, x) of one plane.
SLADD_HD u8 sbi_branch_px(const u8* plane, int H, int W, long long branch, const float* coeffs, int y, int x) {
  if (branch == 1) return sbi_sharpen_px(plane, H, W, y, x, coeffs[5], coeffs[6], coeffs[7]);
  if ((branch == 2 || branch == 4) && branch <= H && branch <= W)
    return sbi_downscale_px(plane, H, W, (int)branch, y, x);
  return plane[(i64)y * W + x];
}

}  // namespace sladd
