// SLADD's 10 forgery regions (spec §3.1) as unions of convex octagons.
//
// The original draws a 2-px cv2.line between two key points and grows it with
// scipy.ndimage.binary_dilation (4-connected cross, d iterations). cv2's thickness-2 line is the L1
// ball of radius 1 around the segment, and d cross dilations add an L1 ball of radius d, so each
// primitive is the L1 ball of radius d + 1 around the segment: the convex hull of the 8 points
// a +- (R, 0), a +- (0, R), b +- (R, 0), b +- (0, R) with R = d + 1. All coordinates are integers.
#pragma once
#include "geometry.h"

namespace sladd {

constexpr int kNumRegions = 10;
constexpr int kNumLandmarks = 68;
constexpr int kLineRadius = 1;  // cv2.line(thickness=2) is an L1 ball of radius 1
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
  i64 radius;  // L1 radius, d + kLineRadius
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
    seg[n].a = k5; seg[n].b = k6; seg[n].radius = 4 * (isqrt(dist2(k5, k6)) / 4) + kLineRadius; ++n;
  }
  if (bits & kEyeR) {
    seg[n].a = k7; seg[n].b = k8; seg[n].radius = 4 * (isqrt(dist2(k7, k8)) / 4) + kLineRadius; ++n;
  }
  if (bits & kEyesB) {
    seg[n].a = k0; seg[n].b = k1; seg[n].radius = iod4 + kLineRadius; ++n;
  }
  if (bits & kNose) {
    seg[n].a = k2; seg[n].b = mid_pt(k0, k1); seg[n].radius = iod4 + kLineRadius; ++n;
  }
  if (bits & kMouth) {
    seg[n].a = k3; seg[n].b = k4; seg[n].radius = isqrt(dist2(k3, k4)) / 3 + kLineRadius; ++n;
  }
  return n;
}

// A convex polygon with integer vertices in positive orientation.
struct Poly {
  int n;
  IPt v[16];
};

// The L1 ball of radius r around segment ab is the hull of its 8 diamond corners (the Minkowski
// sum of a segment and a diamond is convex with edges from both only).
SLADD_HD void segment_ball_poly(const Segment& s, Poly* out) {
  IPt pts[8];
  const i64 r = s.radius;
  const IPt e[2] = {s.a, s.b};
  for (int i = 0; i < 2; ++i) {
    pts[4 * i + 0].x = e[i].x + r; pts[4 * i + 0].y = e[i].y;
    pts[4 * i + 1].x = e[i].x - r; pts[4 * i + 1].y = e[i].y;
    pts[4 * i + 2].x = e[i].x;     pts[4 * i + 2].y = e[i].y + r;
    pts[4 * i + 3].x = e[i].x;     pts[4 * i + 3].y = e[i].y - r;
  }
  out->n = convex_hull(pts, 8, out->v);
}

// Builds the (at most 3) polygons of `region` for one sample; returns how many.
SLADD_HD int region_polys(const float* lm, int region, Poly* polys) {
  Segment seg[3];
  const int n = region_segments(lm, region, seg);
  for (int i = 0; i < n; ++i) segment_ball_poly(seg[i], &polys[i]);
  return n;
}

SLADD_HD bool in_polys(const Poly* polys, int n, IPt p) {
  for (int i = 0; i < n; ++i)
    if (in_convex(polys[i].v, polys[i].n, p)) return true;
  return false;
}

// Hull-mask fixed point: landmarks are rounded to 1/256 px (round half to even, as rintf and
// torch.round do), pixel centres are exact multiples of 256.
constexpr float kSubpixel = 256.0f;

SLADD_HD i64 fixed_coord(float v) {
  if (!(v == v)) v = 0.0f;
  v = v < -kCoordLimit ? -kCoordLimit : (v > kCoordLimit ? kCoordLimit : v);
  return (i64)rintf(v * kSubpixel);
}

}  // namespace sladd
