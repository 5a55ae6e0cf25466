// SLADD's four colour transfers (spec §3.4) per sample, in two passes shared by every backend:
//   1. statistics: per sample, only what its own mode needs, summed in double (the data are integers,
//      so the sums are exact in any order: identical on every backend and thread layout);
//   2. apply: per pixel, the sample's own mode; 0 outside the mask (a transferred source is only
//      ever used inside the mask, and the guard looks at it there).
// Modes (ColorMode): 0 rct-m (Reinhard in Lab on channel-swapped data, B11; diluted whole-image
// statistics of Lab * mask; _scale_array over the whole image), 1 rct-fs (mean shift inside the
// mask), 2 avg-align (shift by the difference of whole-image means of the masked images), 3 faceswap
// (ratio of Gaussian blurs of the masked images, computed by blur_in_box). The PyTorch reference is
// sladd_fast/ops/_reference.py (color_stats, color_apply).
#pragma once
#include "blur_math.h"
#include "color_math.h"

namespace sladd {

constexpr int kModeRctM = 0, kModeRctFs = 1, kModeAvgAlign = 2, kModeFaceswap = 3;

// Statistics layout, double [kColorStats] per sample ("on" = mask >= 0.5; F' = F with R and B
// swapped, rct-m's BGR2LAB on RGB data):
constexpr int kStatCount = 0;   // on-pixels                                  (rct-fs)
constexpr int kStatSumF = 1;    // 3: sum of F over on-pixels                 (rct-fs, avg-align)
constexpr int kStatSumR = 4;    // 3: sum of R over on-pixels                 (rct-fs, avg-align)
constexpr int kStatLabF = 7;    // 3: sum of Lab(F') over on-pixels           (rct-m)
constexpr int kStatLabF2 = 10;  // 3: sum of Lab(F')^2 over on-pixels         (rct-m)
constexpr int kStatLabR = 13;   // 3: sum of Lab(R') over on-pixels           (rct-m)
constexpr int kStatLabR2 = 16;  // 3: sum of Lab(R')^2 over on-pixels         (rct-m)
constexpr int kStatMinLabF = 19;  // 3: min of Lab(F') over the whole image   (rct-m)
constexpr int kStatMaxLabF = 22;  // 3: max of Lab(F') over the whole image   (rct-m)
constexpr int kColorStats = 25;
constexpr double kStatNone = 1e30;  // identity of min (and -kStatNone of max)

// Statistic k's value before any pixel: 0 for the sums, the identities of min and max.
SLADD_HD double color_stat_identity(int k) {
  return k >= kStatMaxLabF ? -kStatNone : (k >= kStatMinLabF ? kStatNone : 0.0);
}

SLADD_HD void color_stats_init(double* acc) {
  for (int k = 0; k < kColorStats; ++k) acc[k] = color_stat_identity(k);
}

// Statistic k of two partials combined (the CUDA kernel's column partials): the sum, or the min or
// max of the extremes.
SLADD_HD double color_stat_combine(int k, double a, double b) {
  if (k >= kStatMaxLabF) return b > a ? b : a;
  if (k >= kStatMinLabF) return b < a ? b : a;
  return a + b;
}


// 8-bit Lab of the channel-swapped pixel (B, G, R read as R, G, B). lut: sRGB decoding of the 256
// byte values (CPU), or nullptr to compute it (device).
SLADD_HD void lab_of_swapped(const u8* img, long long HW, long long p, const float* lut, float* lab) {
  float lin[3];
  for (int c = 0; c < 3; ++c) {
    const u8 v = img[(2 - c) * HW + p];
    lin[c] = lut != nullptr ? lut[v] : srgb_u8_to_linear(v);
  }
  lab_from_linear(lin, lab);
}

// Adds pixel p of one sample (F, R: [3, HW] planes; mask value m) to acc for `mode`.
SLADD_HD void color_stats_px(int mode, const u8* F, const u8* R, float m, long long HW, long long p,
                             const float* lut, double* acc) {
  const bool on = m >= 0.5f;
  if (mode == kModeRctM) {
    float lf[3];
    lab_of_swapped(F, HW, p, lut, lf);
    for (int c = 0; c < 3; ++c) {
      if (lf[c] < acc[kStatMinLabF + c]) acc[kStatMinLabF + c] = lf[c];
      if (lf[c] > acc[kStatMaxLabF + c]) acc[kStatMaxLabF + c] = lf[c];
    }
    if (on) {
      float lr[3];
      lab_of_swapped(R, HW, p, lut, lr);
      for (int c = 0; c < 3; ++c) {
        acc[kStatLabF + c] += lf[c];
        acc[kStatLabF2 + c] += (double)(lf[c] * lf[c]);
        acc[kStatLabR + c] += lr[c];
        acc[kStatLabR2 + c] += (double)(lr[c] * lr[c]);
      }
    }
  } else if ((mode == kModeRctFs || mode == kModeAvgAlign) && on) {
    acc[kStatCount] += 1.0;
    for (int c = 0; c < 3; ++c) {
      acc[kStatSumF + c] += F[c * HW + p];
      acc[kStatSumR + c] += R[c * HW + p];
    }
  }
}

// Per-sample constants of the apply pass, derived from the statistics in one fixed order.
struct ColorParams {
  int mode;
  float mu_f[3], ratio[3], mu_r[3];  // rct-m: x = (lab - mu_f) * ratio + mu_r
  float mn[3], mx[3], lo[3], hi[3];  // rct-m: _scale_array's range (x at the extreme Lab values)
  bool rescale[3];                   // rct-m: the range left [0, 255]
  float shift_f[3], shift_r[3];      // rct-fs: F - mean_m(F) + mean_m(R)
  float shift[3];                    // avg-align: mean(R m) - mean(F m), in [0, 1] units
};

SLADD_HD float fmax0(float a, float b) { return a > b ? a : b; }

SLADD_HD ColorParams color_params(int mode, const double* s, long long HW) {
  ColorParams q;
  q.mode = mode;
  const double n = (double)HW;
  for (int c = 0; c < 3; ++c) {
    // rct-m: mean and population std of Lab * mask over the whole image, E[x^2] - E[x]^2 in double.
    const double mf = s[kStatLabF + c] / n, mr = s[kStatLabR + c] / n;
    double vf = s[kStatLabF2 + c] / n - mf * mf, vr = s[kStatLabR2 + c] / n - mr * mr;
    vf = vf > 0.0 ? vf : 0.0;
    vr = vr > 0.0 ? vr : 0.0;
    q.mu_f[c] = (float)mf;
    q.mu_r[c] = (float)mr;
    q.ratio[c] = (float)sqrt(vr) / fmax0((float)sqrt(vf), 1e-6f);
    q.mn[c] = (((float)s[kStatMinLabF + c] - q.mu_f[c]) * q.ratio[c]) + q.mu_r[c];  // monotone in lab
    q.mx[c] = (((float)s[kStatMaxLabF + c] - q.mu_f[c]) * q.ratio[c]) + q.mu_r[c];
    q.lo[c] = q.mn[c] > 0.0f ? q.mn[c] : 0.0f;
    q.hi[c] = q.mx[c] < 255.0f ? q.mx[c] : 255.0f;
    q.rescale[c] = q.mn[c] < 0.0f || q.mx[c] > 255.0f;
    // rct-fs: means over the on-pixels (at least one counted).
    const double cnt = s[kStatCount] > 1.0 ? s[kStatCount] : 1.0;
    q.shift_f[c] = (float)(s[kStatSumF + c] / cnt);
    q.shift_r[c] = (float)(s[kStatSumR + c] / cnt);
    // avg-align: whole-image means of the masked images in [0, 1] units.
    q.shift[c] = (float)((s[kStatSumR + c] - s[kStatSumF + c]) / (255.0 * n));
  }
  return q;
}

SLADD_HD u8 trunc_u8(float v) {  // float -> uint8 as torch's .to(uint8) of a value in [0, 255]
  return v == v ? (u8)(int)v : (u8)0;  // NaN (NaN statistics): 0, as x86 gives, on every backend
}

// Output pixel p (3 channels) of one sample. blurred: faceswap's [6, HW] planes of this sample (the blur
// of R m, then of F m, rounded to integers: blur_in_box of uint8 planes), or nullptr where it has none
// (only faceswap reads them; it gives 0 without).
SLADD_HD void color_apply_px(const ColorParams& q, const u8* F, const u8* R, float m, const u8* blurred,
                             long long HW, long long p, const float* lut, u8* out) {
  out[0] = out[1] = out[2] = 0;
  if (!(m >= 0.5f)) return;
  if (q.mode == kModeRctM) {
    float lab[3];
    lab_of_swapped(F, HW, p, lut, lab);
    for (int c = 0; c < 3; ++c) {
      float x = ((lab[c] - q.mu_f[c]) * q.ratio[c]) + q.mu_r[c];
      if (q.rescale[c]) x = (((q.hi[c] - q.lo[c]) * (x - q.mn[c])) / fmax0(q.mx[c] - q.mn[c], 1e-6f)) + q.lo[c];
      x = truncf(x);
      lab[c] = x < 0.0f ? 0.0f : (x > 255.0f ? 255.0f : x);
    }
    u8 rgb[3];
    rgb_u8_from_lab(lab, rgb);
    for (int c = 0; c < 3; ++c) out[c] = rgb[2 - c];  // back from the swapped order
  } else if (q.mode == kModeRctFs) {
    for (int c = 0; c < 3; ++c) {
      float v = ((float)F[c * HW + p] - q.shift_f[c]) + q.shift_r[c];
      v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
      out[c] = trunc_u8(v);
    }
  } else if (q.mode == kModeAvgAlign) {
    for (int c = 0; c < 3; ++c) {
      float v = ((float)F[c * HW + p] / 255.0f) + q.shift[c];
      v = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
      out[c] = trunc_u8(v * 255.0f);
    }
  } else if (q.mode == kModeFaceswap && blurred != nullptr) {
    for (int c = 0; c < 3; ++c) {
      const float gr = (float)blurred[c * HW + p];
      float gf = (float)blurred[(3 + c) * HW + p];
      if (gf <= 1.0f) gf += 128.0f;
      float v = ((float)F[c * HW + p] * gr) / gf;
      v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
      out[c] = trunc_u8(v);
    }
  }
}

}  // namespace sladd
