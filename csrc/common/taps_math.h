// Face X-ray's per-sample resize taps (augment/resample.py): for output pixel o of a sample resized from
// n_in to n_out pixels, the input indices and weights of skimage.transform.resize(order=1, anti-aliased)
// and of PIL's Image.resize(BILINEAR or NEAREST). One thread (CUDA) or loop step (CPU) per (sample, o);
// the arithmetic is the PyTorch reference's, in float64, up to the order of the weights' normalising sum.
#pragma once
#include "macros.h"

namespace sladd {

// Reflect-101 index into [0, n) (scipy 'mirror'), n >= 1.
SLADD_HD long long taps_mirror(long long i, long long n) {
  long long period = 2 * n - 2;
  period = period < 1 ? 1 : period;
  i %= period;
  if (i < 0) i += period;
  const long long v = i >= n ? period - i : i;
  return v > n - 1 ? n - 1 : v;
}

// skimage's Gaussian pre-filter weight at offset t (sigma = max(0, (scale - 1) / 2), truncate 4), before
// normalising; the identity (t == 0) when not shrinking.
SLADD_HD double skimage_gauss(double sigma, int t) {
  if (!(sigma > 0.0)) return t == 0 ? 1.0 : 0.0;
  const double sc = sigma < 1e-12 ? 1e-12 : sigma;
  const double td = (double)t;
  if (!((td < 0 ? -td : td) <= floor(4.0 * sigma + 0.5))) return 0.0;
  return exp(-0.5 * (td * td) / (sc * sc));
}

// skimage.transform.resize(order=1) taps of output pixel o: 2 (2 r + 1) of them, index[k (2r+1) + t + r]
// (k = 0, 1 the linear interpolation's two input pixels, t the pre-filter's offset), weights 0 for o >= n_out
// (all of them, with index 0, where n_out < 1).
SLADD_HD void skimage_taps_px(long long n_in, long long n_out, int r, int o, long long* index, float* weight) {
  if (n_out < 1) {  // nothing to resize to: no taps (the scale would be infinite)
    for (int e = 0; e < 2 * (2 * r + 1); ++e) index[e] = 0, weight[e] = 0.0f;
    return;
  }
  const double nin = (double)n_in, nout = (double)n_out, scale = nin / nout;
  double sigma = (scale - 1.0) / 2.0;
  sigma = sigma < 0.0 ? 0.0 : sigma;
  double gsum = 0.0;
  for (int t = -r; t <= r; ++t) gsum = gsum + skimage_gauss(sigma, t);
  const double c = ((double)o + 0.5) * scale - 0.5;
  const double i0 = floor(c), f = c - i0;
  const double valid = (double)o < nout ? 1.0 : 0.0;
  const double wa[2] = {(1.0 - f) * valid, f * valid};
  const long long n = n_in < 1 ? 1 : n_in;
  for (int k = 0; k < 2; ++k) {
    const long long j = taps_mirror((long long)i0 + k, n);
    for (int t = -r; t <= r; ++t) {
      const int e = k * (2 * r + 1) + t + r;
      index[e] = taps_mirror(j + t, n);
      weight[e] = (float)(wa[k] * (skimage_gauss(sigma, t) / gsum));
    }
  }
}

// PIL's BILINEAR taps of output pixel o (a triangle widened by the shrink factor, normalised, clipped at the
// edges; span taps from floor(centre - support + 0.5)), or, with nearest, Pillow's NEAREST source column
// (its affine walk x = scale / 2, then x += scale per pixel in double, for an input of canvas_in pixels):
// one tap of weight 1. Indices clamped into [0, canvas_in); weights 0 for o >= n_out (all of them, with
// index 0, where n_out < 1).
SLADD_HD void pil_taps_px(long long n_in, long long n_out, bool nearest, int canvas_in, int canvas_out, int span,
                          int o, long long* index, float* weight) {
  if (n_out < 1) {  // nothing to resize to: no taps
    for (int s = 0; s < span; ++s) index[s] = 0, weight[s] = 0.0f;
    return;
  }
  const double valid = (double)o < (double)n_out ? 1.0 : 0.0;
  if (nearest) {
    long long m = n_out < 1 ? 1 : (n_out > canvas_out ? canvas_out : n_out);
    const double step = (double)canvas_in / (double)m;
    double x = 0.5 * step;
    for (int i = 0; i < o; ++i) x = x + step;
    const long long src = (long long)floor(x);
    for (int s = 0; s < span; ++s) {
      index[s] = s == 0 ? (src < canvas_in - 1 ? src : canvas_in - 1) : 0;
      weight[s] = (float)((s == 0 ? 1.0 : 0.0) * valid);
    }
    return;
  }
  const double nin = (double)n_in, scale = nin / (double)n_out;
  const double support = scale < 1.0 ? 1.0 : scale;
  const double centre = ((double)o + 0.5) * scale;
  const double x0 = floor(centre - support + 0.5), xe = floor(centre + support + 0.5);
  double wsum = 0.0;
  for (int s = 0; s < span; ++s) {
    const double x = x0 + (double)s;
    const double a = (x - centre + 0.5) / support;
    const double w = 1.0 - (a < 0 ? -a : a);
    if (x >= 0.0 && x < nin && x < xe && w > 0.0) wsum = wsum + w;
  }
  wsum = wsum < 1e-300 ? 1e-300 : wsum;
  for (int s = 0; s < span; ++s) {
    const double x = x0 + (double)s;
    const double a = (x - centre + 0.5) / support;
    double w = 1.0 - (a < 0 ? -a : a);
    w = (x >= 0.0 && x < nin && x < xe && w > 0.0) ? w : 0.0;
    const double xc = x < 0.0 ? 0.0 : (x > (double)(canvas_in - 1) ? (double)(canvas_in - 1) : x);
    index[s] = (long long)xc;
    weight[s] = (float)(w / wsum * valid);
  }
}

}  // namespace sladd
