// Right-hand side of OpenCV's seamlessClone (NORMAL_CLONE) Poisson problem, per interior pixel.
//
// Follows ../shared/docs/seamless_clone.md: on the mask's bounding box (the ROI) the guidance field
// is the source gradient where the 3x-eroded mask M is 1 and the destination gradient elsewhere;
// rhs = div(G) minus the destination values on the ROI frame (Dirichlet boundary). Every term is a
// difference of uint8 values, so the rhs is an exact integer in float32 on every backend.
// The DST-I solve itself runs as batched matrix products (sladd_fast/ops/poisson.py).
#pragma once
#include "macros.h"

namespace sladd {

// Mask pixels count as "on" at >= 0.5 (masks are binary; cv2 receives 255 * mask).
constexpr float kMaskOn = 0.5f;
// erode(3x3, iterations=3) == one 7x7 erosion; OpenCV's erode border never erodes.
constexpr int kErodeRadius = 3;

// roi tensors are int64 [B,6] = (x, y, w, h, dx, dy).
struct Roi {
  int x, y;    // source ROI origin: bounding box of the on-pixels after zeroing the image frame
  int w, h;    // ROI size
  int dx, dy;  // destination ROI origin: centre - size / 2, with SLADD's centre taken from the
               // bounding box *before* the frame is zeroed; differs from (x, y) by at most 1 px,
               // only for masks touching the image frame
};

// Strided view of one sample: plane(c)[y * W + x].
struct PoissonView {
  const u8* target;   // [C, H, W]
  const u8* source;   // [C, H, W]
  const float* mask;  // [H, W]
  const u8* eroded;   // [H, W], written by pass 1 (erode_px) inside the ROI
  int H, W;
};

SLADD_HD bool mask_on(const PoissonView& v, int y, int x) { return v.mask[y * v.W + x] >= kMaskOn; }

// Pass 1. Eroded mask at ROI-local (i, j): 1 iff the whole 7x7 window is on and inside the ROI.
// OpenCV erodes maskROI, a *view* into the full (tight-bbox) mask, so the erosion reads the zeros
// just outside the ROI: pixels within 3 px of the ROI edge are always eroded away. Measured against
// cv2 4.x: treating the ROI border as non-eroding costs up to 15 dB on masks touching the box sides.
SLADD_HD bool erode_px(const PoissonView& v, const Roi& r, int i, int j) {
  if (i < kErodeRadius || j < kErodeRadius || i > r.h - 1 - kErodeRadius || j > r.w - 1 - kErodeRadius)
    return false;
  for (int a = i - kErodeRadius; a <= i + kErodeRadius; ++a)
    for (int b = j - kErodeRadius; b <= j + kErodeRadius; ++b)
      if (!mask_on(v, r.y + a, r.x + b)) return false;
  return true;
}

// Patch value: source where the (uneroded) mask is on, else 0.
SLADD_HD float patch_at(const PoissonView& v, const Roi& r, int c, int i, int j) {
  const int y = r.y + i, x = r.x + j;
  return mask_on(v, y, x) ? (float)v.source[(c * v.H + y) * v.W + x] : 0.0f;
}

SLADD_HD float dest_at(const PoissonView& v, const Roi& r, int c, int i, int j) {
  return (float)v.target[(c * v.H + r.dy + i) * v.W + r.dx + j];
}

// Guidance field at ROI-local (i, j): forward difference along x (dx=1) or y (dy=1).
SLADD_HD float guidance(const PoissonView& v, const Roi& r, int c, int i, int j, int dy, int dx) {
  if (v.eroded[(r.y + i) * v.W + r.x + j])
    return patch_at(v, r, c, i + dy, j + dx) - patch_at(v, r, c, i, j);
  return dest_at(v, r, c, i + dy, j + dx) - dest_at(v, r, c, i, j);
}

SLADD_HD bool on_frame(const Roi& r, int i, int j) {
  return i == 0 || j == 0 || i == r.h - 1 || j == r.w - 1;
}

// Pass 2. rhs at interior ROI-local pixel (i, j), 1 <= i <= h-2, 1 <= j <= w-2.
SLADD_HD float poisson_rhs_px(const PoissonView& v, const Roi& r, int c, int i, int j) {
  float lap = guidance(v, r, c, i, j, 0, 1) - guidance(v, r, c, i, j - 1, 0, 1) +
              guidance(v, r, c, i, j, 1, 0) - guidance(v, r, c, i - 1, j, 1, 0);
  const int di[4] = {-1, 1, 0, 0};
  const int dj[4] = {0, 0, -1, 1};
  for (int k = 0; k < 4; ++k)
    if (on_frame(r, i + di[k], j + dj[k])) lap -= dest_at(v, r, c, i + di[k], j + dj[k]);
  return lap;
}

// A ROI is solved only if it has an interior and both boxes lie inside the H x W image
// (otherwise the sample is left untouched). The sums in 64 bits: roi_of's values reach 2^30.
SLADD_HD bool roi_solvable(const Roi& r, int H, int W) {
  return r.w >= 3 && r.h >= 3 && r.x >= 0 && r.y >= 0 && (i64)r.x + r.w <= W && (i64)r.y + r.h <= H &&
         r.dx >= 0 && r.dy >= 0 && (i64)r.dx + r.w <= W && (i64)r.dy + r.h <= H;
}

// Sample b's ROI from the int64 [B,6] tensor. A value no image side can reach (beyond +-2^30) becomes
// -1, which roi_solvable refuses; narrowed as it was, 2^31 - 2 wrapped past the checks and the loops
// then read and wrote far outside the planes.
template <typename I>
SLADD_HD Roi roi_of(const I* roi, i64 b) {
  const I* q = roi + 6 * b;
  int v[6];
  for (int k = 0; k < 6; ++k) v[k] = q[k] < -(1LL << 30) || q[k] > (1LL << 30) ? -1 : (int)q[k];
  return Roi{v[0], v[1], v[2], v[3], v[4], v[5]};
}

}  // namespace sladd
