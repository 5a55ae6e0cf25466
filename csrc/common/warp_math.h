// cv2.warpAffine(INTER_CUBIC, BORDER_REFLECT) per output pixel, shared by CPU and CUDA.
//
// The map is given inverted (output pixel -> source pixel), pixel centres at integers on both sides
// (OpenCV). Like OpenCV, the source position is quantised to 1/32 px (INTER_TAB_SIZE) and the
// 4x4 cubic weights use a = -0.75; taps outside the image are reflected (fedcba|abcdef).
#pragma once
#include "macros.h"

namespace sladd {

constexpr int kInterTab = 32;
static_assert(kInterTab == 32, "cubic_taps divides by kInterTab with >> 5 and & 31");  // a power of two: floor division below is a shift
constexpr float kCubicA = -0.75f;

SLADD_HD void cubic_weights(float t, float* w) {
  const float A = kCubicA;
  const float x0 = t + 1.0f, x1 = t, x2 = 1.0f - t;
  w[0] = ((A * x0 - 5.0f * A) * x0 + 8.0f * A) * x0 - 4.0f * A;
  w[1] = ((A + 2.0f) * x1 - (A + 3.0f)) * x1 * x1 + 1.0f;
  w[2] = ((A + 2.0f) * x2 - (A + 3.0f)) * x2 * x2 + 1.0f;
  w[3] = 1.0f - w[0] - w[1] - w[2];
}

// BORDER_REFLECT index into [0, n).
SLADD_HD int reflect_index(int i, int n) {
  if ((unsigned)i < (unsigned)n) return i;  // the common case: no modulo
  if (n == 1) return 0;
  const int period = 2 * n;
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - 1 - i;
}

// floor() for |v| < 2^62 without a libm call (the host build targets baseline x86-64, no roundsd).
SLADD_HD long long floor_ll(double v) {
  const long long i = (long long)v;  // truncates toward zero
  return i - (long long)((double)i > v);
}

struct CubicTaps {
  int x[4], y[4];
  float wx[4], wy[4];
};

// Taps for output pixel (x, y) under the inverse map m = [a b c; d e f] (source = m * [x y 1]).
SLADD_HD void cubic_taps(const float* m, int x, int y, int H, int W, CubicTaps* t) {
  double sx = (double)m[0] * x + (double)m[1] * y + (double)m[2];
  double sy = (double)m[3] * x + (double)m[4] * y + (double)m[5];
  // Non-finite or huge maps: clamp so the integer conversion below is defined (taps then reflect).
  const double lim = 1e9;
  sx = !(sx == sx) ? 0.0 : (sx < -lim ? -lim : (sx > lim ? lim : sx));
  sy = !(sy == sy) ? 0.0 : (sy < -lim ? -lim : (sy > lim ? lim : sy));
  // Quantise to 1/32 px as OpenCV does (round to nearest, then split into integer and fraction).
  const long long qx = floor_ll(sx * kInterTab + 0.5);
  const long long qy = floor_ll(sy * kInterTab + 0.5);
  const long long ix = qx >> 5, iy = qy >> 5;  // floor division by kInterTab (arithmetic shift)
  cubic_weights((float)(qx & (kInterTab - 1)) / kInterTab, t->wx);
  cubic_weights((float)(qy & (kInterTab - 1)) / kInterTab, t->wy);
  if (ix >= 1 && ix + 2 < W && iy >= 1 && iy + 2 < H) {  // the common case: all taps inside
    for (int k = 0; k < 4; ++k) {
      t->x[k] = (int)ix - 1 + k;
      t->y[k] = (int)iy - 1 + k;
    }
    return;
  }
  for (int k = 0; k < 4; ++k) {
    t->x[k] = reflect_index((int)(ix - 1 + k), W);
    t->y[k] = reflect_index((int)(iy - 1 + k), H);
  }
}

// All C channels at once: the 16 tap offsets and weights are shared. Planes are `stride` apart.
// Summed separably, sum_j wy[j] * (sum_i wx[i] * p[y_j, x_i]): the four row sums are independent
// chains (a single 16-term chain is latency-bound on CPUs), and the order is fixed here, so CPU,
// CUDA and NVRTC add in the same order.
// Stores a sample: as is into float, OpenCV's saturate_cast<uchar> (round half up, clamp) into uint8,
// as cv2.warpAffine returns a uint8 image for a uint8 input.
SLADD_HD void store_px(float* o, float v) { *o = v; }
SLADD_HD void store_px(u8* o, float v) {
  v = floorf(v + 0.5f);
  *o = (u8)(v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v));
}

// T: float or uint8 input (read directly; the same float arithmetic follows); O: the output type.
template <typename T, typename O>
SLADD_HD void cubic_sample_channels(const T* in, long long stride, int C, int W, const CubicTaps& t, O* out,
                                    long long out_stride) {
  const long long r0 = (long long)t.y[0] * W, r1 = (long long)t.y[1] * W;
  const long long r2 = (long long)t.y[2] * W, r3 = (long long)t.y[3] * W;
  const int x0 = t.x[0], x1 = t.x[1], x2 = t.x[2], x3 = t.x[3];
  for (int c = 0; c < C; ++c) {
    const T* p = in + c * stride;
    const float s0 = t.wx[0] * (float)p[r0 + x0] + t.wx[1] * (float)p[r0 + x1] + t.wx[2] * (float)p[r0 + x2] +
                     t.wx[3] * (float)p[r0 + x3];
    const float s1 = t.wx[0] * (float)p[r1 + x0] + t.wx[1] * (float)p[r1 + x1] + t.wx[2] * (float)p[r1 + x2] +
                     t.wx[3] * (float)p[r1 + x3];
    const float s2 = t.wx[0] * (float)p[r2 + x0] + t.wx[1] * (float)p[r2 + x1] + t.wx[2] * (float)p[r2 + x2] +
                     t.wx[3] * (float)p[r2 + x3];
    const float s3 = t.wx[0] * (float)p[r3 + x0] + t.wx[1] * (float)p[r3 + x1] + t.wx[2] * (float)p[r3 + x2] +
                     t.wx[3] * (float)p[r3 + x3];
    store_px(out + c * out_stride, t.wy[0] * s0 + t.wy[1] * s1 + t.wy[2] * s2 + t.wy[3] * s3);
  }
}

}  // namespace sladd
