// piecewise_affine_grid: imgaug's PiecewiseAffine (skimage's PiecewiseAffineTransform on a 4 x 4 anchor
// mesh) as a grid_sample grid, shared by CPU, CUDA and NVRTC. The PyTorch reference is
// sladd_fast/ops/_reference.py (piecewise_affine_grid); the per-sample anchor targets and qhull's diagonals
// come from sladd_fast/augment/xray.py.
//
// Output pixel (x, y) of sample b, in float32 with every operation rounded on its own (no FMA), as the
// reference's tensor ops round:
//   fx = x / step, fy = y / step (step = n / 3, the anchor spacing of the sample's n x n work area);
//   cx = clamp(floor(fx), 0, 2), cy likewise (NaN: 0); u = fx - cx, v = fy - cy;
//   with t00 = t[cy][cx], t10 = t[cy][cx + 1] (next column), t01 = t[cy + 1][cx], t11 = t[cy + 1][cx + 1],
//   for t = tx (the x targets) and ty:
//     main diagonal (main[cy * 3 + cx]): v >= u ? ((1 - v) t00 + u t11) + (v - u) t01
//                                                : ((1 - u) t00 + v t11) + (u - v) t10
//     anti diagonal: u + v <= 1 ? (t00 + u (t10 - t00)) + v (t01 - t00)
//                               : (t11 + (1 - u) (t01 - t11)) + (1 - v) (t10 - t11)
//   then ((value + 0.5) / canvas) 2 - 1 (grid_sample's align_corners=False coordinates).
#pragma once
#include "macros.h"

namespace sladd {

constexpr int kPiecewiseMesh = 4;  // anchors per axis (3 x 3 cells)

SLADD_HD int piecewise_cell(float f) {
  if (!(f >= 1.0f)) return 0;  // below 1, or NaN
  return f >= 2.0f ? 2 : 1;    // floor(f) clamped to [0, 2]
}

// One coordinate of pixel (u, v) in cell (cx, cy) of the 4 x 4 targets t (row-major, [cy][cx]).
SLADD_HD float piecewise_value(const float* t, int cx, int cy, float u, float v, bool main) {
  const float t00 = t[cy * kPiecewiseMesh + cx], t10 = t[cy * kPiecewiseMesh + cx + 1];
  const float t01 = t[(cy + 1) * kPiecewiseMesh + cx], t11 = t[(cy + 1) * kPiecewiseMesh + cx + 1];
  if (main)
    return v >= u ? ((1.0f - v) * t00 + u * t11) + (v - u) * t01 : ((1.0f - u) * t00 + v * t11) + (u - v) * t10;
  return u + v <= 1.0f ? (t00 + u * (t10 - t00)) + v * (t01 - t00)
                       : (t11 + (1.0f - u) * (t01 - t11)) + (1.0f - v) * (t10 - t11);
}

// The grid's (x, y) of pixel (x, y) of one sample: tx, ty [16], step, main [9] (qhull's diagonal per cell).
SLADD_HD void piecewise_px(const float* tx, const float* ty, float step, const bool* main, int x, int y, int canvas,
                           float* out) {
  const float fx = (float)x / step, fy = (float)y / step;
  const int cx = piecewise_cell(fx), cy = piecewise_cell(fy);
  const float u = fx - (float)cx, v = fy - (float)cy;
  const bool m = main[cy * (kPiecewiseMesh - 1) + cx];
  out[0] = ((piecewise_value(tx, cx, cy, u, v, m) + 0.5f) / (float)canvas) * 2.0f - 1.0f;
  out[1] = ((piecewise_value(ty, cx, cy, u, v, m) + 0.5f) / (float)canvas) * 2.0f - 1.0f;
}

}  // namespace sladd
