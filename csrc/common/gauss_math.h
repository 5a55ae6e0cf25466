// gaussian_filter: scipy.ndimage.gaussian_filter's separable blur of each plane with a symmetric kernel and
// its default 'reflect' border (d c b a | a b c d | d c b a: the edge sample repeated), times a scale;
// shared by CPU, CUDA and NVRTC. The PyTorch reference is sladd_fast/ops/_reference.py (gaussian_filter).
//
// taps[0..R] are the kernel's centre and one half (w_t = w_-t). Rows first, then columns, each output
//   acc = w_0 x_0; for t = 1..R ascending: acc = fmaf(w_t, x_-t + x_t, acc)
// in float32 (the pair's sum rounded, then one fused, exactly rounded multiply-add: C's fmaf on the host,
// __fmaf_rn on the device), then out = acc_columns * scale. The pairing and the fusion halve and then
// merge the operations of a 2R + 1 tap sum; it is scipy's kernel, not its float64 summation order.
#pragma once
#include "macros.h"

namespace sladd {

// scipy's 'reflect' index of i on a line of n >= 1 samples (any i: folded as often as needed).
SLADD_HD int gauss_reflect(long long i, int n) {
  const long long p = 2LL * n;
  long long m = i % p;
  if (m < 0) m += p;
  return (int)(m < n ? m : p - 1 - m);
}

SLADD_HD float gauss_fma(float a, float b, float c) {
#if defined(__CUDA_ARCH__)  // device code (nvcc's device pass, NVRTC)
  return __fmaf_rn(a, b, c);
#else
  return fmaf(a, b, c);
#endif
}

// One output of one pass at position i of a line of n samples; x(k) reads sample k (k in [0, n)).
template <typename Read>
SLADD_HD float gauss_px(const Read& x, int n, int i, const float* taps, int R) {
  float acc = taps[0] * x(i);
  for (int t = 1; t <= R; ++t) {
    const float pair = x(gauss_reflect((long long)i - t, n)) + x(gauss_reflect((long long)i + t, n));
    acc = gauss_fma(taps[t], pair, acc);
  }
  return acc;
}

}  // namespace sladd
