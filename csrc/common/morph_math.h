// Square (k x k) binary dilation as distance sweeps along one line, O(n) whatever k is.
// Dilation by a square is separable (rows, then columns); erosion is the complement of the
// dilated complement. Borders: OpenCV's dilate never dilates from outside and its erode never
// erodes from outside, which is what sweeping the mask, or its complement, with nothing beyond
// the edge gives.
#pragma once
#include "macros.h"

namespace sladd {

constexpr int kMorphErode = 0, kMorphDilate = 1;  // anything else: untouched

// out[i] = 1 iff some in[j] == 1 with |i - j| <= r. `dist` is scratch of n ints.
// Element i of a line lives at base[i * stride].
SLADD_HD void dilate_line(const u8* in, int in_stride, u8* out, int out_stride, int* dist, int n, int r) {
  const int far = 1 << 29;
  int d = far;
  for (int i = 0; i < n; ++i) {
    d = in[i * in_stride] ? 0 : (d >= far ? far : d + 1);
    dist[i] = d;
  }
  d = far;
  for (int i = n - 1; i >= 0; --i) {
    d = in[i * in_stride] ? 0 : (d >= far ? far : d + 1);
    const int m = d < dist[i] ? d : dist[i];
    out[i * out_stride] = m <= r ? 1 : 0;
  }
}

// The dilation radius of a k x k square, (k - 1) / 2, clamped to [0, n]: k <= 0 leaves the mask as it is
// (the reference's zero rounds), and a radius past the line reaches every element anyway.
SLADD_HD int morph_radius(long long k, int n) {
  if (k < 1) return 0;
  const long long r = (k - 1) / 2;
  return r > n ? n : (int)r;
}

// The same test as dilate_line for one element i, by reading its window [i - r, i + r] (the CUDA
// kernels: one thread per element, coalesced across the warp, O(r) reads from cache where the sweep
// keeps a serial chain per line). on(j) is line element j's flag; stops at the first one found.
template <typename On>
SLADD_HD u8 dilate_window(const On& on, int i, int n, int r) {
  const int lo = i > r ? i - r : 0, hi = n - 1 - i > r ? i + r : n - 1;
  for (int j = lo; j <= hi; ++j)
    if (on(j)) return 1;
  return 0;
}

// Whether sample op changes the mask at all (erode or dilate); the others only threshold it.
SLADD_HD bool morph_active(int op) { return op == kMorphErode || op == kMorphDilate; }

// Input flag of pass 1 for sample op: the mask, or its complement when eroding.
SLADD_HD u8 morph_input(float m, int op) {
  const u8 on = m >= 0.5f ? 1 : 0;
  return op == kMorphErode ? (u8)(1 - on) : on;
}

// Final value from the pass-2 result.
SLADD_HD float morph_output(u8 dilated, float m, int op) {
  if (op == kMorphErode) return dilated ? 0.0f : 1.0f;
  if (op == kMorphDilate) return dilated ? 1.0f : 0.0f;
  return m >= 0.5f ? 1.0f : 0.0f;
}

}  // namespace sladd
