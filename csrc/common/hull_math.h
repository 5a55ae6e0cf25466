// hull_mask: cv2.fillConvexPoly(mask, cv2.convexHull(points), 1) (LINE_8) as row spans plus edge
// pixels: the pixels of Self-Blended Images' and Face X-ray's hull masks.
//
// Points go to 16.16 fixed point (round half to even of p * 65536, exact for float input); the hull is
// the strictly convex one (collinear and repeated points dropped) in positive orientation, as
// cv2.convexHull returns it (its start vertex does not change the fill). Integer points (every hull
// vertex a whole pixel) are filled as fillConvexPoly(shift = 0) does, edges by Line (Bresenham); any
// other hull as fillConvexPoly(shift = 16) of those fixed-point vertices, edges by Line2. A hull of
// one or two vertices (all points equal or collinear) is a pixel or a line, as in cv2.
// The Python reference is sladd_fast/ops/_reference.py hull_mask (on _line_raster.py).
#pragma once
#include "geometry.h"
#include "line_raster.h"
#include "region_math.h"

namespace sladd {

constexpr int kHullSpanRows = 2;  // hull_mask scratch per sample: xl, xr, one int per row

// A landmark coordinate in 16.16 fixed point: NaN -> 0, clamped to +-kCoordLimit (2^20 px), then
// rounded half to even (v * 65536 is exact in float, so rintf rounds the true product).
SLADD_HD i64 hull_coord(float v) {
  if (!(v == v)) v = 0.0f;
  v = v < -kCoordLimit ? -kCoordLimit : (v > kCoordLimit ? kCoordLimit : v);
  return (i64)rintf(v * (float)kXYOne);
}

// The hull of K points (x, y floats) as FillConvexPoly's vertices vx, vy in 16.16; returns their count
// and sets *whole when every vertex is a whole pixel (then shift = 0). Scratch: pts K points, hull
// 2K + 2 points; vx and vy need K + 1 values.
SLADD_HD int hull_vertices(const float* lm, int K, IPt* pts, IPt* hull, i64* vx, i64* vy, bool* whole) {
  for (int k = 0; k < K; ++k) {
    pts[k].x = hull_coord(lm[2 * k]);
    pts[k].y = hull_coord(lm[2 * k + 1]);
  }
  const int n = convex_hull(pts, K, hull);
  *whole = true;
  for (int i = 0; i < n; ++i) {
    vx[i] = hull[i].x;
    vy[i] = hull[i].y;
    *whole = *whole && ((vx[i] | vy[i]) & (kXYOne - 1)) == 0;
  }
  return n;
}

// The mask is the union of two parts, so the backends can split them: the scanline spans (one
// interval per row, xl[y] > xr[y] where empty) and the edge pixels, which can stand one pixel apart
// from their row's span (an edge's Line pixels need not touch the walkers' span), hence painted
// into the size x size float mask directly, after the spans were filled.
SLADD_HD void hull_scanlines(const i64* vx, const i64* vy, int n, int size, int* xl, int* xr) {
  span_clear(xl, xr, size);
  convex_scanlines(vx, vy, n, size, xl, xr);
}

SLADD_HD void hull_edges(const i64* vx, const i64* vy, int n, bool whole, int size, float* mask) {
  convex_edges(vx, vy, n, size, whole, PutPixel{mask, size});
}

}  // namespace sladd
