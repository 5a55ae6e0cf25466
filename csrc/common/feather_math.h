// hull_feather: Face X-ray's blend weight (FaceSwap's blendImages). For every on-pixel p of the mask,
// weight = clamp(d / f, 0, 1), d = cv2.pointPolygonTest(convexHull(on-pixels), p, measureDist=True),
// f = frac * faceSize, faceSize = max(bbox width, bbox height) - 1 (numpy's max - min).
//
// Every hull vertex is the leftmost or rightmost on-pixel of its row, so the hull input is at most two
// points per row, already in (y, x) order: the monotone chain needs no sort. Pixels of the mask lie in
// its hull, where pointPolygonTest's distance to the boundary is the distance to the nearest edge's
// line: |cross(b - a, p - a)| (exact in int64) / sqrtf(|b - a|^2), then / f, all in float32 in this
// order (the PyTorch reference computes the same expression), so every backend returns the same bits.
#pragma once
#include "geometry.h"
#include "macros.h"

namespace sladd {

// Scratch per sample, in points (IPt, int64 [.., 2] in the launchers): the hull input holds two row
// ends per row; the monotone chain's stack holds at most (input points + 1), kept at 2H + 2.
constexpr int kFeatherEndsPerRow = 2;
constexpr int kFeatherHullSlack = 2;

// Row y's ends as hull input: ends[0] = (first on x, y), ends[1] = (last on x, y); x = -1 if none.
SLADD_HD void feather_row_ends(const float* row, int W, int y, IPt* ends) {
  int lo = -1, hi = -1;
  for (int x = 0; x < W; ++x) {
    if (row[x] != 0.0f) {  // "on" is numpy's mask != 0 (NaN included)
      if (lo < 0) lo = x;
      hi = x;
    }
  }
  ends[0].x = lo;
  ends[0].y = y;
  ends[1].x = hi;
  ends[1].y = y;
}

// From the row ends of H rows (feather_row_ends at ends[2y]): compacts them in place into the hull
// input (empty rows and repeated single-pixel ends dropped; the order stays (y, x)), writes the
// strictly convex hull to `hull` (room for 2H + 2 points) and f = frac * faceSize to *f. Returns the
// hull's vertex count; < 3 (an empty or collinear mask) means every weight is 0.
SLADD_HD int feather_hull(IPt* ends, int H, float frac, IPt* hull, float* f) {
  int n = 0;
  i64 x0 = 0, x1 = -1, y0 = 0, y1 = -1;
  for (int y = 0; y < H; ++y) {
    const IPt lo = ends[2 * y], hi = ends[2 * y + 1];
    if (lo.x < 0) continue;
    if (y1 < 0) {
      x0 = lo.x;
      x1 = hi.x;
      y0 = y;
    }
    x0 = lo.x < x0 ? lo.x : x0;
    x1 = hi.x > x1 ? hi.x : x1;
    y1 = y;
    ends[n++] = lo;  // n <= 2y: never overwrites an unread row
    if (hi.x != lo.x) ends[n++] = hi;
  }
  const i64 face = (x1 - x0) > (y1 - y0) ? (x1 - x0) : (y1 - y0);
  *f = frac * (float)face;
  return monotone_chain(ends, n, hull);
}

// Distance from p to the line through a and b (a != b).
SLADD_HD float feather_line_distance(IPt a, IPt b, IPt p) {
  const i64 c = cross3(a, b, p);
  const i64 dx = b.x - a.x, dy = b.y - a.y;
  return (float)(c < 0 ? -c : c) / sqrtf((float)(dx * dx + dy * dy));
}

// The weight of pixel p (x = col, y = row) given its mask value m and the sample's hull and f.
SLADD_HD float feather_weight(const IPt* hull, int n, float f, float m, IPt p) {
  if (m == 0.0f || n < 3 || !(f > 0.0f)) return 0.0f;  // !(f > 0): NaN too
  float d = feather_line_distance(hull[n - 1], hull[0], p);
  for (int i = 0; i + 1 < n; ++i) {
    const float e = feather_line_distance(hull[i], hull[i + 1], p);
    d = e < d ? e : d;
  }
  const float w = d / f;
  return w > 1.0f ? 1.0f : w;  // d >= 0 and f > 0: w >= 0
}

}  // namespace sladd
