// The per-sample geometry of the partner -> target alignment (spec §3.3), for the ops similarity_align and
// affine_reach_box: SLADD's 5 key points, the closed-form 2-D Umeyama similarity, its inverse, and the
// output box a cubic BORDER_REFLECT warp can reach. Plain double arithmetic (no FMA contraction on any
// backend, no libm), in the order of the PyTorch reference (ops/_reference.py), so CPU, CUDA and the
// reference agree bit for bit.
#pragma once
#include "macros.h"
#include "region_math.h"  // kCoordLimit: landmarks clamp to +-2^20 px, as everywhere

namespace sladd {

constexpr int kAlignPoints = 5;
constexpr int kCubicReach = 3;  // a cubic tap reaches 2 px; 1 spare (ops/_reference.py CUBIC_REACH)

// SLADD face_blend.get_5_keypoint on float32 [68,2] landmarks: integer eye centres floor((L36+L39)/2),
// floor((L42+L45)/2), nose tip L30, mouth corners L48, L54, from clamped, truncated landmarks (NaN stays NaN).
SLADD_HD float align_coord(float v) {
  const float c = v < -kCoordLimit ? -kCoordLimit : (v > kCoordLimit ? kCoordLimit : v);
  return truncf(c);
}

SLADD_HD void five_points(const float* lm, double* p /* [5][2] */) {
  for (int a = 0; a < 2; ++a) {
    p[0 * 2 + a] = (double)floorf((align_coord(lm[36 * 2 + a]) + align_coord(lm[39 * 2 + a])) / 2.0f);
    p[1 * 2 + a] = (double)floorf((align_coord(lm[42 * 2 + a]) + align_coord(lm[45 * 2 + a])) / 2.0f);
    p[2 * 2 + a] = (double)align_coord(lm[30 * 2 + a]);
    p[3 * 2 + a] = (double)align_coord(lm[48 * 2 + a]);
    p[4 * 2 + a] = (double)align_coord(lm[54 * 2 + a]);
  }
}

// Least-squares similarity src -> dst (Umeyama 1991, closed form in 2-D) on the 5 points [5][2]: with the
// centred points sc, dc, var = mean(|sc|^2), a = mean(sc . dc), b = mean(sc x dc), the map is
// x -> R x + t with R = [[a, -b], [b, a]] / var (Umeyama's SVD solution, reflection correction included:
// cos(atan2(b, a)) sqrt(a^2 + b^2) = a, so the rotation and scale need no trig) and t = mean(d) - R mean(s).
// Means sum the 5 points in order, then divide by 5. ok is false where either set's variance is <= 1 px^2
// (or NaN); M is then the identity. M is rounded to float32 [2][3].
SLADD_HD bool umeyama_similarity(const double* s, const double* d, float* M) {
  double ms[2], md[2];
  for (int a = 0; a < 2; ++a) {
    double ss = s[a], sd = d[a];
    for (int i = 1; i < kAlignPoints; ++i) {
      ss = ss + s[2 * i + a];
      sd = sd + d[2 * i + a];
    }
    ms[a] = ss / 5.0;
    md[a] = sd / 5.0;
  }
  double var_s = 0, var_d = 0, dot = 0, cross = 0;
  for (int i = 0; i < kAlignPoints; ++i) {
    const double sx = s[2 * i] - ms[0], sy = s[2 * i + 1] - ms[1];
    const double dx = d[2 * i] - md[0], dy = d[2 * i + 1] - md[1];
    const double vs = sx * sx + sy * sy, vd = dx * dx + dy * dy, p = sx * dx + sy * dy, q = sx * dy - sy * dx;
    var_s = i ? var_s + vs : vs;
    var_d = i ? var_d + vd : vd;
    dot = i ? dot + p : p;
    cross = i ? cross + q : q;
  }
  var_s = var_s / 5.0;
  var_d = var_d / 5.0;
  dot = dot / 5.0;
  cross = cross / 5.0;
  const bool ok = var_s > 1.0 && var_d > 1.0;
  if (!ok) {
    M[0] = 1.0f, M[1] = 0.0f, M[2] = 0.0f;
    M[3] = 0.0f, M[4] = 1.0f, M[5] = 0.0f;
    return false;
  }
  const double c = dot / var_s, si = cross / var_s;
  M[0] = (float)c;
  M[1] = (float)(-si);
  M[2] = (float)(md[0] - (c * ms[0] + (-si) * ms[1]));
  M[3] = (float)si;
  M[4] = (float)c;
  M[5] = (float)(md[1] - (si * ms[0] + c * ms[1]));
  return true;
}

// Inverse of a float32 [2][3] affine map, in double, rounded to float32; a (near) singular map (|det| <
// 1e-12) divides by 1 instead (its callers mark such samples invalid).
SLADD_HD void invert_affine(const float* M, float* Mi) {
  const double a = M[0], b = M[1], t0 = M[2], c = M[3], d = M[4], t1 = M[5];
  double det = a * d - b * c;
  det = (det < 0 ? -det : det) < 1e-12 ? 1.0 : det;
  const double i00 = d / det, i01 = -b / det, i10 = -c / det, i11 = a / det;
  Mi[0] = (float)i00;
  Mi[1] = (float)i01;
  Mi[2] = (float)(-(i00 * t0 + i01 * t1));
  Mi[3] = (float)i10;
  Mi[4] = (float)i11;
  Mi[5] = (float)(-(i10 * t0 + i11 * t1));
}

// min / max that propagate NaN, as torch.amin / amax.
SLADD_HD double align_min(double a, double b) { return a != a ? a : (b != b ? b : (b < a ? b : a)); }
SLADD_HD double align_max(double a, double b) { return a != a ? a : (b != b ? b : (b > a ? b : a)); }
SLADD_HD double align_clamp(double v, double lo, double hi) { return v < lo ? lo : (v > hi ? hi : v); }
SLADD_HD bool align_finite(double v) { return v == v && v - v == 0.0; }

// The output pixels of a cubic BORDER_REFLECT warp by M (source -> output) that can be nonzero for an input
// zero outside box (x, y, w, h) of a size x size image, as int64 (x, y, w, h), conservative: per axis the box
// and its two mirror images, each grown by kCubicReach, their corners mapped by M and clipped to the image;
// the union of those that hit it. (0, 0, 0, 0) for an empty box or none hitting; the whole image where the
// output's source positions leave one reflection (or are not finite). synthesis/align.py reach_box.
SLADD_HD void reach_box(const long long* box, const float* M, int size, long long* out) {
  const double S = (double)size;
  const double x0 = (double)box[0], y0 = (double)box[1];
  const double x1 = x0 + (double)box[2] - 1.0, y1 = y0 + (double)box[3] - 1.0;
  const bool empty = box[2] <= 0 || box[3] <= 0;
  const double r = (double)kCubicReach;
  const double xl[3] = {x0 - r, (-x1 - 1.0) - r, (2.0 * S - 1.0 - x1) - r};
  const double xh[3] = {x1 + r, (-x0 - 1.0) + r, (2.0 * S - 1.0 - x0) + r};
  const double yl[3] = {y0 - r, (-y1 - 1.0) - r, (2.0 * S - 1.0 - y1) - r};
  const double yh[3] = {y1 + r, (-y0 - 1.0) + r, (2.0 * S - 1.0 - y0) + r};
  const double a00 = M[0], a01 = M[1], a02 = M[2], a10 = M[3], a11 = M[4], a12 = M[5];
  bool hit_any = false;
  double lo_x = 0, hi_x = 0, lo_y = 0, hi_y = 0;
  for (int iy = 0; iy < 3; ++iy)
    for (int ix = 0; ix < 3; ++ix) {
      double ax0 = 0, ax1 = 0, ay0 = 0, ay1 = 0;
      for (int corner = 0; corner < 4; ++corner) {
        const double px = xl[ix] + (xh[ix] - xl[ix]) * ((corner & 1) ? 1.0 : 0.0);
        const double py = yl[iy] + (yh[iy] - yl[iy]) * ((corner & 2) ? 1.0 : 0.0);
        const double mx = a00 * px + a01 * py + a02, my = a10 * px + a11 * py + a12;
        ax0 = corner ? align_min(ax0, mx) : mx;
        ax1 = corner ? align_max(ax1, mx) : mx;
        ay0 = corner ? align_min(ay0, my) : my;
        ay1 = corner ? align_max(ay1, my) : my;
      }
      if (ax1 >= 0 && ax0 <= S - 1 && ay1 >= 0 && ay0 <= S - 1) {
        const double l = align_clamp(floor(ax0), 0, S - 1), h = align_clamp(ceil(ax1), 0, S - 1);
        const double t = align_clamp(floor(ay0), 0, S - 1), u = align_clamp(ceil(ay1), 0, S - 1);
        lo_x = hit_any ? align_min(lo_x, l) : l;
        hi_x = hit_any ? align_max(hi_x, h) : h;
        lo_y = hit_any ? align_min(lo_y, t) : t;
        hi_y = hit_any ? align_max(hi_y, u) : u;
        hit_any = true;
      }
    }
  float Mi[6];
  invert_affine(M, Mi);
  const double cx[4] = {-0.5, S - 0.5, -0.5, S - 0.5}, cy[4] = {-0.5, -0.5, S - 0.5, S - 0.5};
  double f_lo = 0, f_hi = 0;
  bool finite = true;
  for (int k = 0; k < 4; ++k) {
    const double sx = (double)Mi[0] * cx[k] + (double)Mi[1] * cy[k] + (double)Mi[2];
    const double sy = (double)Mi[3] * cx[k] + (double)Mi[4] * cy[k] + (double)Mi[5];
    finite = finite && align_finite(sx) && align_finite(sy);
    f_lo = k ? align_min(f_lo, align_min(sx, sy)) : align_min(sx, sy);
    f_hi = k ? align_max(f_hi, align_max(sx, sy)) : align_max(sx, sy);
  }
  const bool beyond = f_lo < -S - kCubicReach || f_hi >= 2 * S + kCubicReach || !finite;
  if (beyond && !empty) {
    out[0] = 0, out[1] = 0, out[2] = size, out[3] = size;
  } else if (empty || !hit_any) {
    out[0] = out[1] = out[2] = out[3] = 0;
  } else {
    out[0] = (long long)lo_x;
    out[1] = (long long)lo_y;
    out[2] = (long long)(hi_x - lo_x + 1.0);
    out[3] = (long long)(hi_y - lo_y + 1.0);
  }
}

// fraction_inside: the share of a mask's weight whose cell x cell blocks (their means) have centres that M
// (source -> output) maps inside an S x S image, [-0.5, S - 0.5]^2 (the warp's reflected fragments left
// out). Pass 1, row r of blocks: (sum of the weights inside, sum of all weights), in column order; pass 2
// sums the rows in order and divides (0 for an empty mask). float32, no FMA, centres (j cell) + (cell - 1) / 2.
constexpr int kInsideEntries = 2;

SLADD_HD void inside_row_sums(const float* mask, int S, int cell, const float* M, int r, float* sums) {
  const int n = S / cell;
  const float half = (float)(cell - 1) / 2.0f, lo = -0.5f, hi = (float)S - 0.5f;
  const float cy = (float)(r * cell) + half;
  const float area = (float)(cell * cell);
  float inside = 0.0f, all = 0.0f;
  for (int j = 0; j < n; ++j) {
    float w = 0.0f;
    for (int a = 0; a < cell; ++a)
      for (int b = 0; b < cell; ++b) w = w + mask[(long long)(r * cell + a) * S + j * cell + b];
    w = w / area;
    const float cx = (float)(j * cell) + half;
    const float mx = M[0] * cx + M[1] * cy + M[2], my = M[3] * cx + M[4] * cy + M[5];
    all = all + w;
    if (mx >= lo && mx <= hi && my >= lo && my <= hi) inside = inside + w;
  }
  sums[0] = inside;
  sums[1] = all;
}

SLADD_HD float inside_fraction(const float* row_sums, int n) {
  float inside = 0.0f, all = 0.0f;
  for (int r = 0; r < n; ++r) {
    inside = inside + row_sums[kInsideEntries * r];
    all = all + row_sums[kInsideEntries * r + 1];
  }
  return inside / (all < 1e-12f ? 1e-12f : all);  // clamp(min=1e-12) as the reference: NaN stays NaN
}

}  // namespace sladd
