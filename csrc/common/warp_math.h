// cv2.warpAffine(INTER_CUBIC, BORDER_REFLECT) per output pixel, shared by CPU and CUDA.
//
// The map is given inverted (output pixel -> source pixel), pixel centres at integers on both sides
// (OpenCV). Like OpenCV, the source position is quantised to 1/32 px (INTER_TAB_SIZE) and the
// 4x4 cubic weights use a = -0.75; taps outside the image are reflected (fedcba|abcdef).
#pragma once
#include "macros.h"

namespace sladd {

constexpr int kInterTab = 32;
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
  const long long qx = (long long)floor(sx * kInterTab + 0.5);
  const long long qy = (long long)floor(sy * kInterTab + 0.5);
  const long long ix = qx >= 0 ? qx / kInterTab : -((-qx + kInterTab - 1) / kInterTab);
  const long long iy = qy >= 0 ? qy / kInterTab : -((-qy + kInterTab - 1) / kInterTab);
  cubic_weights((float)(qx - ix * kInterTab) / kInterTab, t->wx);
  cubic_weights((float)(qy - iy * kInterTab) / kInterTab, t->wy);
  for (int k = 0; k < 4; ++k) {
    t->x[k] = reflect_index((int)(ix - 1 + k), W);
    t->y[k] = reflect_index((int)(iy - 1 + k), H);
  }
}

// All C channels at once: the 16 tap offsets and weights are shared. Planes are `stride` apart.
SLADD_HD void cubic_sample_channels(const float* in, long long stride, int C, int W, const CubicTaps& t, float* out,
                                    long long out_stride) {
  int off[16];
  float w[16];
  for (int j = 0; j < 4; ++j)
    for (int i = 0; i < 4; ++i) {
      off[4 * j + i] = t.y[j] * W + t.x[i];
      w[4 * j + i] = t.wy[j] * t.wx[i];
    }
  for (int c = 0; c < C; ++c) {
    const float* p = in + c * stride;
    float acc = 0.0f;
    for (int k = 0; k < 16; ++k) acc += w[k] * p[off[k]];
    out[c * out_stride] = acc;
  }
}

}  // namespace sladd
