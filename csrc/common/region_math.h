// SLADD's 10 forgery regions (spec §3.1): each a union of 1-3 primitives, a key-point segment drawn
// with cv2.line(thickness=2) and grown by scipy.ndimage.binary_dilation (4-connected cross, d
// iterations). The line's pixels come from line_raster.h as row spans; d cross dilations of a set
// whose rows are intervals give, per row, one interval (dilated_span). Integers throughout, so every
// backend returns the same bits, and the same bits as cv2 + scipy (tests/test_region_mask.py).
#pragma once
#include "geometry.h"
#include "line_raster.h"

namespace sladd {

constexpr int kNumRegions = 10;
constexpr int kNumLandmarks = 68;
constexpr int kMaxPrimitives = 3;  // segments per region
constexpr int kSpanRows = 4;       // region_mask scratch per primitive: xl, xr, lo, hi, one int per row
// Landmarks are clamped to +-2^20 px before integer conversion (no overflow, no UB on huge input).
constexpr float kCoordLimit = 1048576.0f;

// Primitive bits.
constexpr int kEyeL = 1, kEyeR = 2, kEyesB = 4, kNose = 8, kMouth = 16;

// Region id -> primitive bits (SLADD synthesizer.parse; ids 10+ are unreachable there).
SLADD_HD int region_bits(int region) {
  switch (region) {
    case 0: return kEyeL;
    case 1: return kEyeR;
    case 2: return kEyesB;
    case 3: return kNose;
    case 4: return kMouth;
    case 5: return kNose | kEyeL;
    case 6: return kNose | kEyeR;
    case 7: return kNose | kEyesB;
    case 8: return kNose | kMouth;
    case 9: return kEyesB | kNose | kMouth;
    default: return 0;
  }
}

// Truncation toward zero, as numpy's astype(int32) does on SLADD's key points.
SLADD_HD i64 trunc_coord(float v) {
  if (!(v == v)) v = 0.0f;  // NaN: defined result (the Python API rejects NaN unless check_values=False)
  v = v < -kCoordLimit ? -kCoordLimit : (v > kCoordLimit ? kCoordLimit : v);
  return (i64)v;
}

struct Segment {
  IPt a, b;
  i64 d;  // SLADD's dilation count (0: the line alone, where SLADD's scipy call would fill the image, B3)
};

SLADD_HD IPt lm_at(const float* lm, int k) {  // lm: 68 x (x, y) floats
  IPt p;
  p.x = trunc_coord(lm[2 * k]);
  p.y = trunc_coord(lm[2 * k + 1]);
  return p;
}

SLADD_HD IPt mid_pt(IPt a, IPt b) {  // C division truncates toward zero, like numpy's astype(int)
  IPt m;
  m.x = (a.x + b.x) / 2;
  m.y = (a.y + b.y) / 2;
  return m;
}

SLADD_HD i64 dist2(IPt a, IPt b) { return (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y); }

// Fills up to 3 segments for `region` from one sample's 68 landmarks; returns how many.
SLADD_HD int region_segments(const float* lm, int region, Segment* seg) {
  const int bits = region_bits(region);
  const IPt k5 = lm_at(lm, 36), k6 = lm_at(lm, 39), k7 = lm_at(lm, 42), k8 = lm_at(lm, 45);
  const IPt k0 = mid_pt(k5, k6), k1 = mid_pt(k7, k8);  // eye centres
  const IPt k2 = lm_at(lm, 33);                        // subnasale, not the tip L30
  const IPt k3 = lm_at(lm, 48), k4 = lm_at(lm, 54);    // mouth corners
  const i64 iod4 = isqrt(dist2(k0, k1)) / 4;           // floor(IOD / 4)
  int n = 0;
  if (bits & kEyeL) {
    seg[n].a = k5; seg[n].b = k6; seg[n].d = 4 * (isqrt(dist2(k5, k6)) / 4); ++n;
  }
  if (bits & kEyeR) {
    seg[n].a = k7; seg[n].b = k8; seg[n].d = 4 * (isqrt(dist2(k7, k8)) / 4); ++n;
  }
  if (bits & kEyesB) {
    seg[n].a = k0; seg[n].b = k1; seg[n].d = iod4; ++n;
  }
  if (bits & kNose) {
    seg[n].a = k2; seg[n].b = mid_pt(k0, k1); seg[n].d = iod4; ++n;
  }
  if (bits & kMouth) {
    seg[n].a = k3; seg[n].b = k4; seg[n].d = isqrt(dist2(k3, k4)) / 3; ++n;
  }
  return n;
}

// One primitive's rows after dilation, for rows 0..size-1: lo[y] > hi[y] where the row is empty.
// xl / xr are scratch for the line's own spans (size ints each).
SLADD_HD void primitive_rows(const Segment& s, int size, int* xl, int* xr, int* lo, int* hi) {
  span_clear(xl, xr, size);
  thick_line_spans(s.a.x, s.a.y, s.b.x, s.b.y, size, xl, xr);
  for (int y = 0; y < size; ++y) dilated_span(xl, xr, size, s.d, y, &lo[y], &hi[y]);
}

}  // namespace sladd
