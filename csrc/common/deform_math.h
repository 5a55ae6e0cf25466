// SLADD random_deform's piecewise-affine map on a fixed 5x5 mesh (spec §3.2), per output pixel.
//
// Anchors a[k] = floor(k (S-1) / 4) on both axes (linspace(0, S-1, 5).astype(int)); targets are
// the anchors plus per-sample integer noise, clipped to [0, S-1]. Each mesh cell is split along the
// (1,0)-(0,1) diagonal; inside a triangle T(p) is the affine interpolation of its 3 targets. The
// deformed mask is mask(T(p)) (bilinear, zero outside the image) times mask(p), so only on-pixels
// of the mask need any work.
#pragma once
#include "macros.h"

namespace sladd {

constexpr int kMesh = 5;

SLADD_HD int mesh_anchor(int k, int S) { return (k * (S - 1)) / (kMesh - 1); }

// noise: [5][5][2] floats, (row r = y anchor, col c = x anchor) -> (dx, dy).
SLADD_HD void mesh_target(const float* noise, int r, int c, int S, float* tx, float* ty) {
  float x = (float)mesh_anchor(c, S) + noise[(r * kMesh + c) * 2];
  float y = (float)mesh_anchor(r, S) + noise[(r * kMesh + c) * 2 + 1];
  if (!(x == x)) x = 0.0f;  // NaN noise: defined result
  if (!(y == y)) y = 0.0f;
  const float hi = (float)(S - 1);
  *tx = x < 0.0f ? 0.0f : (x > hi ? hi : x);
  *ty = y < 0.0f ? 0.0f : (y > hi ? hi : y);
}

SLADD_HD int mesh_cell(int p, int S) {
  int c = 0;
  for (int k = 1; k < kMesh - 1; ++k)
    if (mesh_anchor(k, S) <= p) c = k;
  return c;
}

// T(p) for output pixel (x, y).
SLADD_HD void deform_point(const float* noise, int S, int x, int y, float* ox, float* oy) {
  const int cx = mesh_cell(x, S), cy = mesh_cell(y, S);
  const float fx = (float)(x - mesh_anchor(cx, S)) / (float)(mesh_anchor(cx + 1, S) - mesh_anchor(cx, S));
  const float fy = (float)(y - mesh_anchor(cy, S)) / (float)(mesh_anchor(cy + 1, S) - mesh_anchor(cy, S));
  float x00, y00, x10, y10, x01, y01, x11, y11;  // v10: next column (x), v01: next row (y)
  mesh_target(noise, cy, cx, S, &x00, &y00);
  mesh_target(noise, cy, cx + 1, S, &x10, &y10);
  mesh_target(noise, cy + 1, cx, S, &x01, &y01);
  mesh_target(noise, cy + 1, cx + 1, S, &x11, &y11);
  if (fx + fy <= 1.0f) {
    *ox = x00 + fx * (x10 - x00) + fy * (x01 - x00);
    *oy = y00 + fx * (y10 - y00) + fy * (y01 - y00);
  } else {
    *ox = x11 + (1.0f - fx) * (x01 - x11) + (1.0f - fy) * (x10 - x11);
    *oy = y11 + (1.0f - fx) * (y01 - y11) + (1.0f - fy) * (y10 - y11);
  }
}

// Bilinear sample of an S x S plane at (x, y), pixel centres at integers, zero outside.
SLADD_HD float bilinear_zero(const float* plane, int S, float x, float y) {
  // No tap lies inside unless -1 < x, y < S; the test also keeps NaN and huge values from the int
  // conversion below (undefined: x86 gives INT_MIN, a GPU 0 for NaN, which read plane[0] with NaN weights).
  if (!(x > -1.0f && x < (float)S && y > -1.0f && y < (float)S)) return 0.0f;
  const float xf = floor(x), yf = floor(y);
  const int x0 = (int)xf, y0 = (int)yf;
  const float wx = x - xf, wy = y - yf;
  float acc = 0.0f;
  for (int dy = 0; dy < 2; ++dy)
    for (int dx = 0; dx < 2; ++dx) {
      const int xx = x0 + dx, yy = y0 + dy;
      if (xx < 0 || yy < 0 || xx >= S || yy >= S) continue;
      acc += (dx ? wx : 1.0f - wx) * (dy ? wy : 1.0f - wy) * plane[yy * S + xx];
    }
  return acc;
}

// Deformed mask value at (x, y) (before SLADD's 5x5 Gaussian blur).
SLADD_HD float deform_mask_px(const float* mask, const float* noise, int S, int x, int y) {
  const float m = mask[y * S + x];
  if (m == 0.0f) return 0.0f;
  float tx, ty;
  deform_point(noise, S, x, y, &tx, &ty);
  return bilinear_zero(mask, S, tx, ty) * m;
}

}  // namespace sladd
