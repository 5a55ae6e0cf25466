// Separable blur restricted to a box (faceswap's colour correction, spec §3.4), shared by CPU and CUDA.
//
// blur_in_box treats its input as zero outside the sample's box (x, y, w, h) and computes the blur
// only inside it: the horizontal pass along rows, then the vertical pass, each a sum over taps
// t = -r..r in ascending order starting from 0, borders reflected OpenCV-style (BORDER_REFLECT_101).
// `g` points at the kernel's centre tap. Both backends add the same products in the same order.
#pragma once
#include "macros.h"
#include "round_math.h"

namespace sladd {

// BORDER_REFLECT_101 index into [0, n): gfedcb|abcdefgh|gfedcba.
SLADD_HD int reflect101_index(int i, int n) {
  if ((unsigned)i < (unsigned)n) return i;
  if (n == 1) return 0;
  const int period = 2 * (n - 1);
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - i;
}

SLADD_HD bool in_span(int i, int lo, int len) { return i >= lo && i < lo + len; }

// Clips the span [lo, lo + len) to [0, n); an empty result has len 0.
SLADD_HD void clip_span(long long lo, long long len, int n, int* out_lo, int* out_len) {
  const long long max_ll = 0x7fffffffffffffffLL;
  len = len < 0 ? 0 : len;
  const long long end = lo > max_ll - len ? max_ll : lo + len;  // saturating: any int64 box is defined
  const long long a = lo < 0 ? 0 : (lo > n ? n : lo);
  const long long b = end < a ? a : (end > n ? n : end);
  *out_lo = (int)a;
  *out_len = (int)(b - a);
}

// A sample's box (x, y, w, h) clipped to a W x H image.
struct Box {
  int x, y, w, h;
  SLADD_HD bool contains(int px, int py) const { return in_span(px, x, w) && in_span(py, y, h); }
  SLADD_HD bool empty() const { return w == 0 || h == 0; }
};

SLADD_HD Box clipped_box(const long long* box, int H, int W) {
  Box b;
  clip_span(box[0], box[2], W, &b.x, &b.w);
  clip_span(box[1], box[3], H, &b.y, &b.h);
  return b;
}

// The radius actually used: r clamped to [0, K / 2] (the kernel holds K taps).
SLADD_HD int blur_radius(long long r, int K) { return r < 0 ? 0 : (r > K / 2 ? K / 2 : (int)r); }

// Horizontal pass value at column x of one row (the row's input outside [bx, bx+bw) counts as 0); the
// input is float32 or uint8 (read as float).
template <typename T>
SLADD_HD float blur_row_value(const T* row, int W, int bx, int bw, int j) {
  const int k = reflect101_index(j, W);
  return in_span(k, bx, bw) ? (float)row[k] : 0.0f;
}

template <typename T>
SLADD_HD float blur_h_px(const T* row, int W, int bx, int bw, const float* g, int r, int x) {
  float acc = 0.0f;
  for (int t = -r; t <= r; ++t) acc = acc + g[t] * blur_row_value(row, W, bx, bw, x + t);
  return acc;
}

// Vertical pass at (x, y) over the horizontal pass `tmp` (an H x W plane, valid inside the box);
// rows outside [by, by+bh) are zero and skipped.
SLADD_HD float blur_v_px(const float* tmp, int H, int W, int by, int bh, const float* g, int r, int x, int y) {
  float acc = 0.0f;
  for (int t = -r; t <= r; ++t) {
    const int k = reflect101_index(y + t, H);
    if (in_span(k, by, bh)) acc = acc + g[t] * tmp[(long long)k * W + x];
  }
  return acc;
}

// blur_h_px for n consecutive pixels from a line already holding blur_row_value(j) for
// j = x - r .. x + n - 1 + r: the same products added in the same order, taps outermost so a CPU
// compiler vectorises over pixels.
SLADD_HD void blur_padded_line(const float* line, const float* g, int r, int n, float* out) {
  for (int i = 0; i < n; ++i) out[i] = 0.0f;
  for (int t = -r; t <= r; ++t) {
    const float w = g[t];
    const float* src = line + r + t;
    for (int i = 0; i < n; ++i) out[i] = out[i] + w * src[i];
  }
}

// A uint8 blur's output: the float result rounded half up and saturated (floor(v + 0.5) in [0, 255], NaN
// to 0), as faceswap's colour correction rounds its cv2.GaussianBlur of uint8 images.
SLADD_HD u8 blur_round_u8(float v) { return (u8)(int)clamp_round_255(v); }

}  // namespace sladd
