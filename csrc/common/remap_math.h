// remap_nearest: cv2.remap(INTER_NEAREST, BORDER_REFLECT_101) with float maps, read through per-sample
// column and row tables, shared by CPU, CUDA and NVRTC. The PyTorch reference is
// sladd_fast/ops/_reference.py (remap_nearest); tests/test_cv2_taps.py compares it with cv2.
//
// Output pixel (x, y) of sample b:
//   fx = map_x (relative: (float)x + map_x, a float32 add), fy likewise;
//   ix = saturate_cast<short>(fx): round half to even, clamped to [-32768, 32767]; NaN and fx >= 2^31
//        give -32768 (x86-64's cvtps2dq, then the saturating pack);
//   ix = reflect101(ix, Wt), iy = reflect101(iy, Ht): OpenCV's borderInterpolate (gfedcb|abcdefgh|gfedcba,
//        folded as often as needed; a line of length 1 gives 0), Wt and Ht the tables' lengths;
//   sx = col_table[ix], sy = row_table[iy];
//   out = input[sy, sx] where 0 <= sx < W and 0 <= sy < H, else 0.
// The tables compose a warp before the remap: cv2.warpAffine(INTER_NEAREST, BORDER_CONSTANT 0) of a
// scale-and-translate matrix reads one source column per output column and one row per output row (-1:
// outside, the border's 0); identity tables give the plain remap.
#pragma once
#include "macros.h"

namespace sladd {

// saturate_cast<short>(v) of a float32 map value as cv2 computes it on x86-64: cvtps2dq rounds half to
// even and gives INT_MIN for NaN and for |v| >= 2^31 (+inf included), then the pack saturates to a short,
// so NaN and v >= 2^31 give -32768. The clamp to +-40000 before rounding keeps the magic-number rounding
// exact (it rounds half to even for |v| < 2^22). Written as selects, which g++ vectorises.
SLADD_HD int remap_round(float v) {
  float c = v < -40000.0f ? -40000.0f : v;
  c = v >= 2147483648.0f ? -40000.0f : c;
  c = c > 40000.0f ? 40000.0f : c;
  c = c == c ? c : -40000.0f;
  const int i = (int)((c + 12582912.0f) - 12582912.0f);  // 1.5 * 2^23: the float adds round half to even
  return i < -32768 ? -32768 : (i > 32767 ? 32767 : i);
}

// OpenCV's borderInterpolate(p, n, BORDER_REFLECT_101) for a rounded coordinate p (|p| <= 32768) and any
// n >= 1. Past n = 32769 every such p folds at most once, as with n = 32769: n is capped there, so the
// period 2 (n - 1) never overflows an int.
SLADD_HD int remap_reflect101(int p, int n) {
  if (n == 1) return 0;
  n = n > 32769 ? 32769 : n;
  const int period = 2 * (n - 1);
  int r = p % period;
  if (r < 0) r += period;
  return r < n ? r : period - r;
}

// The source offset (sy * W + sx) of one output pixel, or -1 where it reads the border's 0.
SLADD_HD long long remap_source(float fx, float fy, const long long* col_table, const long long* row_table, int Wt,
                                int Ht, int W, int H) {
  const long long sx = col_table[remap_reflect101(remap_round(fx), Wt)];
  const long long sy = row_table[remap_reflect101(remap_round(fy), Ht)];
  if (sx < 0 || sx >= W || sy < 0 || sy >= H) return -1;
  return sy * W + sx;
}

}  // namespace sladd
