// warp_linear_u8: cv2.warpAffine INTER_LINEAR on uint8 images for a separable (scale-and-translate)
// map, in OpenCV's own fixed point, shared by CPU, CUDA and NVRTC. The PyTorch reference is
// sladd_fast/ops/_reference.py (warp_linear_u8); the taps come from augment/cv2_taps.py
// warp_affine_taps (OpenCV's 10-bit coordinates, 5-bit fractions).
//
// Output pixel (x, y) of a plane, two column taps (ci_j, cw_j) and two row taps (ri_i, rw_i), weights
// integers in [0, 32] (32 - f and f; 0 for a tap outside the image, BORDER_CONSTANT 0; other values are
// clamped into [0, 32]), indices clamped into the image:
//     out = min(255, (sum_i rw_i sum_j cw_j in[ri_i, ci_j] + 512) >> 10)
// OpenCV's 2-D table weighs (32 - f)(32 - g) 32 of 32768 and rounds with (s + 2^14) >> 15: the same value.
// Integer arithmetic: any order of the sums gives it (the CPU kernel sums rows first).
#pragma once
#include "macros.h"

namespace sladd {

constexpr int kWarpU8Taps = 2;  // taps per axis

SLADD_HD int warp_u8_weight(long long w) { return w < 0 ? 0 : (w > 32 ? 32 : (int)w); }
SLADD_HD long long warp_u8_index(long long i, int n) { return i < 0 ? 0 : (i >= n ? (long long)n - 1 : i); }
SLADD_HD u8 warp_u8_round(int acc) {
  const int v = (acc + 512) >> 10;
  return (u8)(v > 255 ? 255 : v);
}

// One output value of a plane [H, W]; ci, cw, ri, rw point at the output's two taps per axis.
SLADD_HD u8 warp_u8_px(const u8* plane, int H, int W, const long long* ci, const long long* cw, const long long* ri,
                       const long long* rw) {
  const long long c0 = warp_u8_index(ci[0], W), c1 = warp_u8_index(ci[1], W);
  const int a0 = warp_u8_weight(cw[0]), a1 = warp_u8_weight(cw[1]);
  int acc = 0;
  for (int i = 0; i < kWarpU8Taps; ++i) {
    const u8* row = plane + warp_u8_index(ri[i], H) * W;
    acc += warp_u8_weight(rw[i]) * (a0 * (int)row[c0] + a1 * (int)row[c1]);
  }
  return warp_u8_round(acc);
}

}  // namespace sladd
