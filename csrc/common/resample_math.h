// resample_taps: separable per-sample resampling along one axis with explicit taps, shared by CPU and CUDA.
//
// One output value is a sum over its taps t = 0..T-1 in ascending order, starting from 0:
//     acc = acc + w[t] * src[clamp(idx[t], 0, n - 1) * stride]
// a separate multiply and add, no FMA (g++ builds with -ffp-contract=off, nvcc and NVRTC with
// --fmad=false), so the CPU kernel, the CUDA kernel and the PyTorch reference round alike.
// Taps with weight 0 are skipped: they contribute nothing and read nothing, even where the pixel is
// inf or NaN. Out-of-range indices are clamped into [0, n); along an axis of length n = 0 the sum is 0.
#pragma once
#include "macros.h"
#include "round_math.h"

namespace sladd {

constexpr int kResampleStrip = 16;  // CPU, axis 3: rows per transposed strip (one output's lanes)

// An index clamped into [0, n), n >= 1.
SLADD_HD long long resample_index(long long i, int n) { return i < 0 ? 0 : (i >= n ? (long long)n - 1 : i); }

// One output value; src points at the first element of the line the taps index (element k of the
// line at src[k * stride]), n is the line's length. In is float or uint8 (read as float: exact).
template <typename In>
SLADD_HD float resample_taps_px(const In* src, long long stride, int n, const long long* idx, const float* w, int T) {
  float acc = 0.0f;
  if (n <= 0) return acc;
  for (int t = 0; t < T; ++t) {
    const float wt = w[t];
    if (wt == 0.0f) continue;
    acc = acc + wt * (float)src[resample_index(idx[t], n) * stride];
  }
  return acc;
}

// resize_u8: both passes of a 2-D resize of uint8 planes (columns, then rows, the same taps on both axes),
// with the rounding of the library it replicates:
//   kResizeFloor (skimage.transform.resize, then astype(uint8) after clipping): float between the passes,
//     the result clamped to [0, 255] and floored;
//   kResizeRound (PIL's uint8 passes): each pass rounded half to even and clamped to [0, 255].
// NaN (only from NaN weights) becomes 0.
constexpr int kResizeFloor = 0;
constexpr int kResizeRound = 1;

SLADD_HD float resize_clamp_255(float v, int mode) {
  if (mode == kResizeRound) return rint_clamp_255(v);
  v = v > 0.0f ? v : 0.0f;  // NaN -> 0
  return floorf(v < 255.0f ? v : 255.0f);
}

// The value the first pass stores (float): rounded in kResizeRound, as is in kResizeFloor.
SLADD_HD float resize_mid(float v, int mode) { return mode == kResizeRound ? resize_clamp_255(v, mode) : v; }

// The taps of one output with the zero weights dropped and the indices clamped and scaled by stride,
// in ascending t: off[k], wt[k] for k < the returned count (none where n = 0). Summed by
// resample_compact_px, they give resample_taps_px's value: the same products in the same order.
SLADD_HD int resample_compact_taps(const long long* idx, const float* w, int T, int n, long long stride,
                                   long long* off, float* wt) {
  int k = 0;
  if (n <= 0) return k;
  for (int t = 0; t < T; ++t) {
    if (w[t] == 0.0f) continue;
    off[k] = resample_index(idx[t], n) * stride;
    wt[k++] = w[t];
  }
  return k;
}

SLADD_HD float resample_compact_px(const float* src, const long long* off, const float* wt, int k) {
  float acc = 0.0f;
  for (int t = 0; t < k; ++t) acc = acc + wt[t] * src[off[t]];
  return acc;
}

#if !defined(__CUDACC__) && !defined(__CUDACC_RTC__)
// Host only: resample_compact_px for NV * lanes(V) consecutive outputs whose inputs are consecutive
// too (out[i] from src[off[t] + i]), V a GCC vector of floats. The sums stay in registers with the
// taps outermost; lane by lane the same products added in the same order (IEEE multiply and add,
// no FMA), so each value equals resample_compact_px's.
template <typename V, int NV>
inline __attribute__((always_inline)) void resample_compact_tile(const float* src, const long long* off,
                                                                 const float* wt, int k, float* out) {
  constexpr int kLanes = (int)(sizeof(V) / sizeof(float));
  V acc[NV];
  for (int j = 0; j < NV; ++j) acc[j] = V{};
  for (int t = 0; t < k; ++t) {
    const float w = wt[t];
    const float* s = src + off[t];
    for (int j = 0; j < NV; ++j) {
      V v;
      __builtin_memcpy(&v, s + kLanes * j, sizeof v);
      acc[j] = acc[j] + w * v;
    }
  }
  __builtin_memcpy(out, acc, sizeof acc);
}
#endif

}  // namespace sladd
