// xray_blend: Face X-ray's colour transfer and feathered blend (BI's colorTransfer and blendImages), shared
// by CPU, CUDA and NVRTC. The PyTorch reference is sladd_fast/ops/_reference.py (xray_blend); the recipe
// is sladd_fast/augment/xray.py, steps 6-7.
//
// Per sample, from both uint8 [6, H, W] (channels 0-2 the target bg, 3-5 the partner fg), mask float32
// [H, W] (inside: mask > 0) and weight float32 [H, W]:
//   n = #inside, s_c = sum over inside of (bg_c - fg_c): integers, exact in any order (int64);
//   shift_c = float(s_c) / float(max(n, 1)) (each conversion and the division rounded once, float32);
//   fg'_c = inside ? floor(clamp(fg_c + shift_c, 0, 255)) : fg_c;
//   out_c = clamp(floor(w fg'_c + (1 - w) bg_c), 0, 255) (w fg' first, then 1 - w, its product, the sum;
//   NaN -> 0; with w in [0, 1] the clamp changes nothing).
// Three passes: per (sample, column) the column's sums, per sample the column sums in column order (exact
// either way), per pixel the blend.
#pragma once
#include "macros.h"

namespace sladd {

constexpr int kXraySums = 4;  // per sample or column: the inside count, then s_c for c = 0, 1, 2

// Adds pixel p of one sample (both [6, HW], mask [HW]) to sums[kXraySums].
SLADD_HD void xray_add_pixel(const u8* both, const float* mask, long long HW, long long p, long long* sums) {
  if (!(mask[p] > 0.0f)) return;
  sums[0] += 1;
  for (int c = 0; c < 3; ++c) sums[1 + c] += (long long)both[c * HW + p] - (long long)both[(3 + c) * HW + p];
}

// The sums of column x of one sample into out[kXraySums].
SLADD_HD void xray_column_sums(const u8* both, const float* mask, int H, int W, int x, long long* out) {
  for (int k = 0; k < kXraySums; ++k) out[k] = 0;
  for (int y = 0; y < H; ++y) xray_add_pixel(both, mask, (long long)H * W, (long long)y * W + x, out);
}

// shift[c] from one sample's sums.
SLADD_HD void xray_shift(const long long* sums, float* shift) {
  const float n = (float)(sums[0] > 1 ? sums[0] : 1);
  for (int c = 0; c < 3; ++c) shift[c] = (float)sums[1 + c] / n;
}

// One output value: bg, fg the pixel's channel values, inside its mask test, w its weight.
SLADD_HD u8 xray_blend_px(float bg, float fg, bool inside, float shift, float w) {
  if (inside) {
    float v = fg + shift;
    v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
    fg = floorf(v);
  }
  float v = floorf(w * fg + (1.0f - w) * bg);
  v = v > 0.0f ? v : 0.0f;  // NaN -> 0
  v = v < 255.0f ? v : 255.0f;
  return (u8)(int)v;
}

}  // namespace sladd
