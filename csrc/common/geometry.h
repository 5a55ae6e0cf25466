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

// z-component of (a - o) x (b - o), for coordinates below 2^30 in magnitude (pixel coordinates), where
// it cannot overflow; orient() below gives its exact sign for any hull input.
SLADD_HD i64 cross3(IPt o, IPt a, IPt b) {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

// a * b as a two's complement 128-bit value (hi, lo), from 32-bit limbs: no __int128 on NVRTC.
struct Wide {
  i64 hi;
  unsigned long long lo;
};

SLADD_HD Wide wide_mul(i64 a, i64 b) {
  typedef unsigned long long u64;
  const u64 m = 0xffffffffull;
  const u64 ua = a < 0 ? 0 - (u64)a : (u64)a, ub = b < 0 ? 0 - (u64)b : (u64)b;
  const u64 p00 = (ua & m) * (ub & m), p01 = (ua & m) * (ub >> 32), p10 = (ua >> 32) * (ub & m);
  const u64 mid = (p00 >> 32) + (p01 & m) + (p10 & m);
  u64 lo = (p00 & m) | (mid << 32);
  u64 hi = (ua >> 32) * (ub >> 32) + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
  if ((a < 0) != (b < 0)) {  // negate
    lo = ~lo + 1;
    hi = ~hi + (lo == 0 ? 1 : 0);
  }
  Wide w;
  w.hi = (i64)hi;
  w.lo = lo;
  return w;
}

// Sign (-1, 0, 1) of cross3(o, a, b), exact for any coordinates below 2^61 in magnitude (the hull
// mask's 16.16 fixed point reaches 2^36, where cross3 would overflow): int64 when the differences
// are below 2^31, else 128-bit products.
SLADD_HD int orient(IPt o, IPt a, IPt b) {
  const i64 ax = a.x - o.x, ay = a.y - o.y, bx = b.x - o.x, by = b.y - o.y;
  const i64 lim = (i64)1 << 31;
  if (ax > -lim && ax < lim && ay > -lim && ay < lim && bx > -lim && bx < lim && by > -lim && by < lim) {
    const i64 c = ax * by - ay * bx;
    return c > 0 ? 1 : (c < 0 ? -1 : 0);
  }
  const Wide p = wide_mul(ax, by), q = wide_mul(ay, bx);
  if (p.hi != q.hi) return p.hi > q.hi ? 1 : -1;
  return p.lo == q.lo ? 0 : (p.lo > q.lo ? 1 : -1);
}

SLADD_HD bool pt_less(IPt a, IPt b) { return a.x < b.x || (a.x == b.x && a.y < b.y); }

// Andrew's monotone chain over points already in a lexicographic order: sorted by (x, y), or by
// (y, x) (the same algorithm with the axes' roles swapped). Writes the strictly convex hull
// (collinear points dropped) in positive orientation to `out`, which needs room for n + 1 points
// (the stack never holds more), and returns its vertex count (< 3 means zero area).
SLADD_HD int monotone_chain(const IPt* pts, int n, IPt* out) {
  if (n < 3) {
    for (int i = 0; i < n; ++i) out[i] = pts[i];
    return n;
  }
  int k = 0;
  for (int i = 0; i < n; ++i) {
    while (k >= 2 && orient(out[k - 2], out[k - 1], pts[i]) <= 0) --k;
    out[k++] = pts[i];
  }
  for (int i = n - 2, lower = k + 1; i >= 0; --i) {
    while (k >= lower && orient(out[k - 2], out[k - 1], pts[i]) <= 0) --k;
    out[k++] = pts[i];
  }
  return k - 1;  // the last point repeats the first
}

// convex hull of `pts` in any order: sorts them in place by (x, y) (insertion sort: n <= 128, runs on
// one GPU thread), then monotone_chain. `out` needs room for n + 1 points.
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
  return monotone_chain(pts, n, out);
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
