// Exact integer geometry for the mask ops: convex hulls and point-in-convex-polygon tests.
//
// Every coverage decision is made on 64-bit integers, so the CPU and CUDA kernels (and the
// PyTorch reference) agree bit for bit. Pixel convention (OpenCV / dlib): pixel (row i, col j)
// has its centre at (x = j, y = i); a pixel is covered iff its centre lies inside or on the polygon.
#pragma once
#include "macros.h"

namespace sladd {

struct IPt {
  i64 x;
  i64 y;
};

// Largest hull input handled by the kernels (68 dlib points; 81 with forehead points).
constexpr int kMaxHullInput = 128;

// z-component of (a - o) x (b - o). Inputs stay below 2^29 in magnitude, so this cannot overflow.
SLADD_HD i64 cross3(IPt o, IPt a, IPt b) {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

SLADD_HD bool pt_less(IPt a, IPt b) { return a.x < b.x || (a.x == b.x && a.y < b.y); }

// Andrew's monotone chain. Sorts `pts` in place (insertion sort: n <= 128, runs on one GPU thread).
// Writes the strictly convex hull (collinear points dropped) in positive orientation to `out`,
// which needs room for 2n points, and returns its vertex count (< 3 means zero area).
SLADD_HD int convex_hull(IPt* pts, int n, IPt* out) {
  for (int i = 1; i < n; ++i) {
    IPt key = pts[i];
    int j = i - 1;
    while (j >= 0 && pt_less(key, pts[j])) {
      pts[j + 1] = pts[j];
      --j;
    }
    pts[j + 1] = key;
  }
  if (n < 3) {
    for (int i = 0; i < n; ++i) out[i] = pts[i];
    return n;
  }
  int k = 0;
  for (int i = 0; i < n; ++i) {
    while (k >= 2 && cross3(out[k - 2], out[k - 1], pts[i]) <= 0) --k;
    out[k++] = pts[i];
  }
  for (int i = n - 2, lower = k + 1; i >= 0; --i) {
    while (k >= lower && cross3(out[k - 2], out[k - 1], pts[i]) <= 0) --k;
    out[k++] = pts[i];
  }
  return k - 1;  // the last point repeats the first
}

// Inside-or-on test for a hull from convex_hull(). Zero-area hulls cover nothing.
SLADD_HD bool in_convex(const IPt* hull, int n, IPt p) {
  if (n < 3) return false;
  for (int i = 0; i < n; ++i) {
    IPt a = hull[i];
    IPt b = hull[i + 1 == n ? 0 : i + 1];
    if (cross3(a, b, p) < 0) return false;
  }
  return true;
}

// Integer square root floor(sqrt(v)) for 0 <= v < 2^62, exact on host and device.
SLADD_HD i64 isqrt(i64 v) {
  if (v <= 0) return 0;
  i64 s = (i64)sqrt((double)v);
  while (s * s > v) --s;
  while ((s + 1) * (s + 1) <= v) ++s;
  return s;
}

}  // namespace sladd
