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

// The hull's scratch per sample, one layout for every backend: the CPU kernel's per-thread vectors, and
// the int64 tensors points [B, hull_points_cap(K), 2] and vertices [B, kHullVertexRows, hull_vertex_cap(K)]
// that the CUDA binding and sladd_fast/_jit.py (from these constants) allocate. The points hold the K
// input points (sorted in place), then the hull (room for K + 2 points; monotone_chain needs K + 1); the
// vertices hold vx, then vy. On the GPU this is global memory: per-thread arrays of kMaxHullInput points
// would be local memory (about 8 KB), which the driver reserves for every resident thread. The CUDA
// passes also keep each sample's vertex count and whole-pixel flag in an int32 [B, kHullMetaFields]
// (at kHullMetaCount, kHullMetaWhole), so the edge pass reads the hull instead of recomputing it.
constexpr int kHullPointsPerInput = 2;
constexpr int kHullPointSlack = 2;
constexpr int kHullVertexRows = 2;
constexpr int kHullVertexSlack = 1;
constexpr int kHullMetaFields = 2;
constexpr int kHullMetaCount = 0;
constexpr int kHullMetaWhole = 1;

SLADD_HD i64 hull_points_cap(i64 K) { return kHullPointsPerInput * K + kHullPointSlack; }
SLADD_HD i64 hull_vertex_cap(i64 K) { return K + kHullVertexSlack; }

struct HullScratch {
  IPt* pts;   // K input points
  IPt* hull;  // K + 2 points
  i64* vx;    // K + 1 values
  i64* vy;    // K + 1 values
};

// Sample b's scratch in the batched buffers (b = 0 for one sample's buffers).
SLADD_HD i64 hull_vertex_offset(i64 K, i64 b) { return b * kHullVertexRows * hull_vertex_cap(K); }

SLADD_HD HullScratch hull_scratch(IPt* points, i64* vertices, int K, i64 b) {
  HullScratch s;
  s.pts = points + b * hull_points_cap(K);
  s.hull = s.pts + K;
  s.vx = vertices + hull_vertex_offset(K, b);
  s.vy = s.vx + hull_vertex_cap(K);
  return s;
}

// A landmark coordinate in 16.16 fixed point: NaN -> 0, clamped to +-kCoordLimit (2^20 px), then
// rounded half to even (v * 65536 is exact in float, so rintf rounds the true product).
SLADD_HD i64 hull_coord(float v) {
  if (!(v == v)) v = 0.0f;
  v = v < -kCoordLimit ? -kCoordLimit : (v > kCoordLimit ? kCoordLimit : v);
  return (i64)rintf(v * (float)kXYOne);
}

// The hull of K points (x, y floats) as FillConvexPoly's vertices s.vx, s.vy in 16.16; returns their
// count and sets *whole when every vertex is a whole pixel (then shift = 0).
SLADD_HD int hull_vertices(const float* lm, int K, const HullScratch& s, bool* whole) {
  for (int k = 0; k < K; ++k) {
    s.pts[k].x = hull_coord(lm[2 * k]);
    s.pts[k].y = hull_coord(lm[2 * k + 1]);
  }
  const int n = convex_hull(s.pts, K, s.hull);
  *whole = true;
  for (int i = 0; i < n; ++i) {
    s.vx[i] = s.hull[i].x;
    s.vy[i] = s.hull[i].y;
    *whole = *whole && ((s.vx[i] | s.vy[i]) & (kXYOne - 1)) == 0;
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
