// hsv_shift: albumentations' uint8 HueSaturationValue per pixel (OpenCV's 8-bit RGB -> HSV, the lookup
// tables' level moves, OpenCV's 8-bit HSV -> RGB), shared by CPU, CUDA and NVRTC. The derivation and
// the measurements against cv2 are in sladd_fast/augment/hsv.py; the PyTorch reference of the same
// arithmetic is sladd_fast/ops/_reference.py (hsv_shift).
//
// RGB -> HSV is integer arithmetic with OpenCV's division tables (round(255 * 2^12 / i) and
// round(180 * 2^12 / (6 i)), no ties), here the integer formulas hsv_sdiv / hsv_hdiv: tabulated once
// on the host (HsvDivTables), evaluated per pixel on the device (HsvDivide).
// HSV -> RGB is float32 in OpenCV's order: h = H * (6/180), s = S / 255, v = V / 255 (products with the
// float32 constants), sector = trunc(h) (mod 6), f = h - sector, the factors 1, 1 - s, 1 - s f and
// 1 - s (1 - f) of v, the last two fused as OpenCV's x86-64 build computes them: fmaf(-s, f, 1), exactly
// rounded in C on the host and the device alike. Every other product and sum is a separate float32
// operation; the one multiply feeding a subtraction, pre - trunc(pre / 6) * 6, is exact either way, so
// contraction could change nothing (the builds disable it anyway: -ffp-contract=off, --fmad=false).
// Then (v * factor) * 255, truncated in OpenCV's SIMD loop (the first W - W % block columns of each row),
// rounded half to even in its scalar loop (the rest; block 0: every column).
#pragma once
#include "macros.h"

namespace sladd {

constexpr int kHsvHueRange = 180;

// OpenCV's sdiv_table[i] and hdiv_table180[i] (0 at i = 0): round(a / d) = (2a + d) / (2d) for d > 0.
SLADD_HD constexpr int hsv_sdiv(int i) { return i == 0 ? 0 : (2 * (255 << 12) + i) / (2 * i); }
SLADD_HD constexpr int hsv_hdiv(int i) { return i == 0 ? 0 : (2 * (180 << 12) + 6 * i) / (12 * i); }

// The divisions evaluated where they are needed (device code: two integer divisions per pixel).
struct HsvDivide {
  SLADD_HD int sdiv(int i) const { return hsv_sdiv(i); }
  SLADD_HD int hdiv(int i) const { return hsv_hdiv(i); }
};

#if !defined(__CUDACC__) && !defined(__CUDACC_RTC__)
// Host: the same values tabulated once (constexpr).
struct HsvDivTables {
  int s[256], h[256];
  constexpr HsvDivTables() : s(), h() {
    for (int i = 0; i < 256; ++i) {
      s[i] = hsv_sdiv(i);
      h[i] = hsv_hdiv(i);
    }
  }
  int sdiv(int i) const { return s[i]; }
  int hdiv(int i) const { return h[i]; }
};
#endif

// One sample's level moves: floor(shift) for each channel, as the uint8 lookup tables apply them
// ((H + k) mod 180, clip(S + k, 0, 255), clip(V + k, 0, 255)). The hue move is reduced mod 180 and the
// saturation/value moves clamped to [-256, 256] (the same tables for every finite shift); a NaN shift,
// and an infinite hue shift, moves nothing.
struct HsvMove {
  int h, s, v;
};

SLADD_HD int hsv_level_move(float shift) {
  float k = floorf(shift);
  if (!(k == k)) return 0;
  k = k < -256.0f ? -256.0f : (k > 256.0f ? 256.0f : k);
  return (int)k;
}

SLADD_HD HsvMove hsv_moves(const float* shift) {
  float kh = fmodf(floorf(shift[0]), (float)kHsvHueRange);  // exact; NaN for a NaN or infinite shift
  HsvMove m;
  m.h = kh == kh ? (int)kh : 0;
  m.s = hsv_level_move(shift[1]);
  m.v = hsv_level_move(shift[2]);
  return m;
}

// OpenCV's RGB2HSV_b of one pixel: H in [0, 180), S and V in [0, 255].
template <typename Div>
SLADD_HD void hsv_from_rgb(int r, int g, int b, const Div& div, int* H, int* S, int* V) {
  const int v = r > g ? (r > b ? r : b) : (g > b ? g : b);
  const int vmin = r < g ? (r < b ? r : b) : (g < b ? g : b);
  const int diff = v - vmin;
  const int half = 1 << 11;
  const int s = (diff * div.sdiv(v) + half) >> 12;
  int h = v == r ? g - b : (v == g ? b - r + 2 * diff : r - g + 4 * diff);
  h = (h * div.hdiv(diff) + half) >> 12;  // arithmetic shift: floor, as OpenCV
  *H = h < 0 ? h + kHsvHueRange : h;
  *S = s;
  *V = v;
}

// One channel's value: which of the factors (1, 1 - s, 1 - s f, 1 - s (1 - f)) it takes per sector,
// two bits per sector (OpenCV's sector_data, for R, G and B).
SLADD_HD int hsv_factor_index(int channel, int sector) {
  // R: 0 2 1 1 3 0; G: 3 0 0 2 1 1; B: 1 1 3 0 0 2 (sectors 0..5, sector k in bits 2k, 2k + 1)
  const int packed = channel == 0 ? 0x358 : (channel == 1 ? 0x583 : 0x835);
  return (packed >> (2 * sector)) & 3;
}

// OpenCV's HSV2RGB_b of one pixel (H in [0, 256), S and V in [0, 255]) into rgb[0..2]; truncate: the
// SIMD loop's conversion, else the scalar loop's (round half to even).
SLADD_HD void rgb_from_hsv(int H, int S, int V, bool truncate, u8* rgb) {
  const float h = (float)H * (6.0f / 180.0f);
  const float s = (float)S * (1.0f / 255.0f);
  const float v = (float)V * (1.0f / 255.0f);
  // trunc as int conversions (every value here is >= 0 and small): the host loop vectorises them
  const float pre = (float)(int)h;
  const float f = h - pre;
  const int sector = (int)(pre - (float)(int)(pre * (1.0f / 6.0f)) * 6.0f);
  // v times each factor (v * 1 = v), then one of them per channel: selects of values computed for
  // every pixel, so the host loop vectorises.
  const float p1 = v * (1.0f - s), p2 = v * fmaf(-s, f, 1.0f), p3 = v * fmaf(-s, 1.0f - f, 1.0f);
  for (int c = 0; c < 3; ++c) {
    const int k = hsv_factor_index(c, sector);
    const float x = (k == 0 ? v : (k == 1 ? p1 : (k == 2 ? p2 : p3))) * 255.0f;  // >= 0
    const int q = truncate ? (int)x : (int)rintf(x);
    rgb[c] = (u8)(q > 255 ? 255 : q);
  }
}

// The columns [0, end) of a row of width W that OpenCV's SIMD (truncating) loop takes; block 0: none.
SLADD_HD long long hsv_simd_end(long long W, long long block) { return block > 0 ? W - W % block : 0; }

// The whole step for one pixel: RGB -> HSV, the moves, HSV -> RGB.
template <typename Div>
SLADD_HD void hsv_shift_px(int r, int g, int b, const HsvMove& m, bool truncate, const Div& div, u8* rgb) {
  int H, S, V;
  hsv_from_rgb(r, g, b, div, &H, &S, &V);
  H += m.h;
  H = H < 0 ? H + kHsvHueRange : (H >= kHsvHueRange ? H - kHsvHueRange : H);
  S += m.s;
  S = S < 0 ? 0 : (S > 255 ? 255 : S);
  V += m.v;
  V = V < 0 ? 0 : (V > 255 ? 255 : V);
  rgb_from_hsv(H, S, V, truncate, rgb);
}

}  // namespace sladd
