// cv2.line(img, a, b, 1, thickness=2) (LINE_8, shift 0) as per-row spans, for the region masks, and
// cv2.fillConvexPoly (LINE_8, shift 0 or 16) for the hull masks.
//
// SLADD draws each key-point segment with that call and then dilates it, so the line's exact pixels
// decide the region's edge. OpenCV (<= 4.12; SLADD used 4.5.1) builds the thick line from the
// quadrilateral a +- dp, b +- dp (dp: the unit normal in 16.16 fixed point), filled by FillConvexPoly
// (edges traced by the fixed-point DDA "Line2", then one scanline span per row between two edge
// walkers), plus a filled radius-1 circle (a plus sign) at each end. Each row of the result is one
// interval (checked against cv2 in the tests), so a line is stored as xl[y], xr[y] per row.
// Integer arithmetic as in C; doubles exactly where cv2 uses them (the normal, line clipping), which
// IEEE makes identical on host and device. The Python reference is sladd_fast/ops/_line_raster.py.
#pragma once
#include "macros.h"

namespace sladd {

constexpr int kXYShift = 16;
constexpr i64 kXYOne = (i64)1 << kXYShift;
constexpr i64 kXYHalf = kXYOne >> 1;
constexpr int kSpanEmpty = 0x3fffffff;  // empty row: xl = kSpanEmpty, xr = -kSpanEmpty

SLADD_HD i64 imin64(i64 a, i64 b) { return a < b ? a : b; }
SLADD_HD i64 imax64(i64 a, i64 b) { return a > b ? a : b; }

// C's truncating division, written out so no backend depends on the operator's sign convention.
SLADD_HD i64 cdiv(i64 a, i64 b) {
  const i64 q = (a < 0 ? -a : a) / (b < 0 ? -b : b);
  return ((a < 0) == (b < 0)) ? q : -q;
}

// Floor shift by 16 (OpenCV's >> on int64).
SLADD_HD i64 fx_floor(i64 v) { return v >= 0 ? (v >> kXYShift) : -((-v + kXYOne - 1) >> kXYShift); }

SLADD_HD void span_clear(int* xl, int* xr, int size) {
  for (int y = 0; y < size; ++y) {
    xl[y] = kSpanEmpty;
    xr[y] = -kSpanEmpty;
  }
}

// Adds pixels x0..x1 of row y, clipped to the image.
SLADD_HD void span_put(int* xl, int* xr, int size, i64 y, i64 x0, i64 x1) {
  if (y < 0 || y >= size || x1 < 0 || x0 >= size || x0 > x1) return;
  const int a = (int)imax64(x0, 0), b = (int)imin64(x1, size - 1);
  if (a < xl[y]) xl[y] = a;
  if (b > xr[y]) xr[y] = b;
}

// Where the line tracers put their pixels: PutSpan grows the row spans xl/xr (for shapes whose rows
// are single intervals: the thick line), PutPixel sets pixels of a float image to 1 (the hull's
// edges, whose pixels can stand apart from the scanline span of their row).
struct PutSpan {
  int* xl;
  int* xr;
  int size;
  SLADD_HD void operator()(i64 x, i64 y) const { span_put(xl, xr, size, y, x, x); }
};

struct PutPixel {
  float* out;
  int size;
  SLADD_HD void operator()(i64 x, i64 y) const {
    if (x >= 0 && y >= 0 && x < size && y < size) out[y * size + x] = 1.0f;
  }
};

// cv::clipLine(Size2l(w, h), p1, p2) with double intermediate products (OpenCV >= 3.3).
SLADD_HD bool clip_line(i64 w, i64 h, i64* x1, i64* y1, i64* x2, i64* y2) {
  const i64 right = w - 1, bottom = h - 1;
  int c1 = (*x1 < 0) + (*x1 > right) * 2 + (*y1 < 0) * 4 + (*y1 > bottom) * 8;
  int c2 = (*x2 < 0) + (*x2 > right) * 2 + (*y2 < 0) * 4 + (*y2 > bottom) * 8;
  if ((c1 & c2) == 0 && (c1 | c2) != 0) {
    if (c1 & 12) {
      const i64 a = c1 < 8 ? 0 : bottom;
      *x1 += (i64)((double)(a - *y1) * (double)(*x2 - *x1) / (double)(*y2 - *y1));
      *y1 = a;
      c1 = (*x1 < 0) + (*x1 > right) * 2;
    }
    if (c2 & 12) {
      const i64 a = c2 < 8 ? 0 : bottom;
      *x2 += (i64)((double)(a - *y2) * (double)(*x2 - *x1) / (double)(*y2 - *y1));
      *y2 = a;
      c2 = (*x2 < 0) + (*x2 > right) * 2;
    }
    if ((c1 & c2) == 0 && (c1 | c2) != 0) {
      if (c1) {
        const i64 a = c1 == 1 ? 0 : right;
        *y1 += (i64)((double)(a - *x1) * (double)(*y2 - *y1) / (double)(*x2 - *x1));
        *x1 = a;
        c1 = 0;
      }
      if (c2) {
        const i64 a = c2 == 1 ? 0 : right;
        *y2 += (i64)((double)(a - *x2) * (double)(*y2 - *y1) / (double)(*x2 - *x1));
        *x2 = a;
        c2 = 0;
      }
    }
  }
  return (c1 | c2) == 0;
}

// cv Line2: 8-connected DDA between 16.16 fixed-point points, clipped to the image.
template <class Put>
SLADD_HD void fixed_line(i64 x1, i64 y1, i64 x2, i64 y2, int size, const Put& put) {
  if (!clip_line((i64)size << kXYShift, (i64)size << kXYShift, &x1, &y1, &x2, &y2)) return;
  i64 dx = x2 - x1, dy = y2 - y1;
  const i64 ax = dx < 0 ? -dx : dx, ay = dy < 0 ? -dy : dy;
  const bool x_major = ax > ay;
  if (x_major ? dx < 0 : dy < 0) {  // walk the major axis upwards: swap the ends, negate the deltas
    i64 t = x1; x1 = x2; x2 = t;
    t = y1; y1 = y2; y2 = t;
    dx = -dx;
    dy = -dy;
  }
  const i64 step = x_major ? cdiv(dy * kXYOne, ax | 1) : cdiv(dx * kXYOne, ay | 1);
  const i64 count = fx_floor(x_major ? x2 - x1 : y2 - y1);
  x1 += kXYHalf;
  y1 += kXYHalf;
  const i64 ex = fx_floor(x2 + kXYHalf), ey = fx_floor(y2 + kXYHalf);
  put(ex, ey);
  if (x_major) {
    i64 x = fx_floor(x1);
    for (i64 i = 0; i <= count; ++i, ++x, y1 += step) put(x, fx_floor(y1));
  } else {
    i64 y = fx_floor(y1);
    for (i64 i = 0; i <= count; ++i, ++y, x1 += step) put(fx_floor(x1), y);
  }
}

// cv Line(img, p1, p2, LINE_8) between integer points: the LineIterator (8-connected Bresenham,
// left_to_right) after cv::clipLine to the image when an end lies outside. FillConvexPoly draws the
// edges with it when shift = 0. Walks from the left end (the ends swapped when x2 < x1, after the
// clip), so the pixels depend on the direction only through the clip.
template <class Put>
SLADD_HD void int_line(i64 x1, i64 y1, i64 x2, i64 y2, int size, const Put& put) {
  if (!clip_line(size, size, &x1, &y1, &x2, &y2)) return;
  i64 dx = x2 - x1, dy = y2 - y1;
  if (dx < 0) {
    i64 t = x1; x1 = x2; x2 = t;
    t = y1; y1 = y2; y2 = t;
    dx = -dx;
    dy = -dy;
  }
  const i64 sy = dy < 0 ? -1 : 1;
  if (dy < 0) dy = -dy;
  const bool vert = dy > dx;
  const i64 major = vert ? dy : dx, minor = vert ? dx : dy;
  i64 err = major - 2 * minor, x = x1, y = y1;
  for (i64 i = 0; i <= major; ++i) {
    put(x, y);
    const bool step = err < 0;  // the minor coordinate moves (cv's mask)
    err += step ? 2 * major - 2 * minor : -2 * minor;
    if (vert) {
      y += sy;
      x += step ? 1 : 0;
    } else {
      x += 1;
      y += step ? sy : 0;
    }
  }
}

// cv FillConvexPoly(v, n, LINE_8, shift) for vertices v in 16.16 fixed point, in the order given, in
// two parts: convex_edges, then convex_scanlines.
// The edges v[i-1] -> v[i], traced with Line2 (shift = 16), or with Line when `integer_edges`
// (shift = 0: every vertex must then be a whole pixel, a multiple of kXYOne). The order matters only
// where an edge is clipped.
template <class Put>
SLADD_HD void convex_edges(const i64* vx, const i64* vy, int n, int size, bool integer_edges, const Put& put) {
  for (int i = 0, prev = n - 1; i < n; prev = i++) {
    if (integer_edges)
      int_line(fx_floor(vx[prev]), fx_floor(vy[prev]), fx_floor(vx[i]), fx_floor(vy[i]), size, put);
    else
      fixed_line(vx[prev], vy[prev], vx[i], vy[i], size, put);
  }
}

// The inside, for n >= 3 (cv draws only the edges of one or two vertices): one span per row, added to
// xl/xr, between two edge walkers whose x starts at the edge's first vertex (not at the row's y). The
// same for both shifts when the vertices are whole pixels. Rows above the image are skipped in one
// step (the walkers move linearly between edge changes).
SLADD_HD void convex_scanlines(const i64* vx, const i64* vy, int n, int size, int* xl, int* xr) {
  if (n < 3) return;
  int imin = 0;
  i64 xmin = vx[0], xmax = vx[0], ymin = vy[0], ymax = vy[0];
  for (int i = 0; i < n; ++i) {
    if (vy[i] < ymin) {
      ymin = vy[i];
      imin = i;
    }
    ymax = imax64(ymax, vy[i]);
    xmax = imax64(xmax, vx[i]);
    xmin = imin64(xmin, vx[i]);
  }
  xmin = fx_floor(xmin + kXYHalf);
  xmax = fx_floor(xmax + kXYHalf);
  ymin = fx_floor(ymin + kXYHalf);
  ymax = fx_floor(ymax + kXYHalf);
  if (xmax < 0 || ymax < 0 || xmin >= size || ymin >= size) return;
  ymax = imin64(ymax, size - 1);
  int e_idx[2] = {imin, imin};
  const int e_di[2] = {1, n - 1};
  i64 e_x[2] = {-kXYOne, -kXYOne}, e_dx[2] = {0, 0}, e_ye[2] = {ymin, ymin};
  int edges = n;
  i64 y = ymin;
  do {
    for (int i = 0; i < 2; ++i) {
      if (y < e_ye[i]) continue;
      int idx0 = e_idx[i];
      int idx = idx0 + e_di[i];
      if (idx >= n) idx -= n;
      while (edges-- > 0) {
        const i64 ty = fx_floor(vy[idx] + kXYHalf);
        if (ty > y) {
          e_ye[i] = ty;
          e_dx[i] = cdiv((vx[idx] - vx[idx0]) * 2 + (ty - y), 2 * (ty - y));
          e_x[i] = vx[idx0];
          e_idx[i] = idx;
          break;
        }
        idx0 = idx;
        idx += e_di[i];
        if (idx >= n) idx -= n;
      }
    }
    if (edges < 0) break;
    i64 step = 1;
    if (y >= 0) {
      const int l = e_x[0] > e_x[1] ? 1 : 0;
      span_put(xl, xr, size, y, fx_floor(e_x[l] + kXYHalf), fx_floor(e_x[1 - l] + kXYHalf));
    } else {
      step = imax64(imin64(imin64(e_ye[0], e_ye[1]), 0) - y, 1);  // nothing drawn or picked up before
    }
    e_x[0] += e_dx[0] * step;
    e_x[1] += e_dx[1] * step;
    y += step;
  } while (y <= ymax);
}

// The whole FillConvexPoly as row spans: right where every row of the result is one interval (the
// thick line's quadrilateral: checked against cv2 in the tests). Not for a general polygon, whose
// Line edges can leave a pixel apart from its row's span: hull_math.h paints those as pixels.
SLADD_HD void fill_convex_spans(const i64* vx, const i64* vy, int n, int size, int* xl, int* xr,
                                bool integer_edges = false) {
  if (n <= 0) return;
  convex_edges(vx, vy, n, size, integer_edges, PutSpan{xl, xr, size});
  convex_scanlines(vx, vy, n, size, xl, xr);
}

// cv FillConvexPoly(v, 4, LINE_8, shift = 16): the thick line's quadrilateral.
SLADD_HD void fill_quad_spans(const i64* vx, const i64* vy, int size, int* xl, int* xr) {
  fill_convex_spans(vx, vy, 4, size, xl, xr, false);
}

// Row spans of cv2.line(img, a, b, 1, thickness=2) on a size x size image, added to xl/xr.
SLADD_HD void thick_line_spans(i64 ax, i64 ay, i64 bx, i64 by, int size, int* xl, int* xr) {
  const double dx = (double)(ax - bx), dy = (double)(by - ay);
  double r = dx * dx + dy * dy;
  if (r > 2.220446049250313e-16) {  // DBL_EPSILON; r is a sum of integer squares
    r = (double)kXYOne / sqrt(r);  // half-thickness 1 px in 16.16
    const i64 px = (i64)rint(dy * r), py = (i64)rint(dx * r);  // cvRound: half to even
    const i64 fax = ax * kXYOne, fay = ay * kXYOne, fbx = bx * kXYOne, fby = by * kXYOne;
    const i64 vx[4] = {fax + px, fax - px, fbx - px, fbx + px};
    const i64 vy[4] = {fay + py, fay - py, fby - py, fby + py};
    fill_quad_spans(vx, vy, size, xl, xr);
  }
  const i64 cx[2] = {ax, bx}, cy[2] = {ay, by};
  for (int i = 0; i < 2; ++i) {  // Circle(radius 1, filled): a plus sign
    span_put(xl, xr, size, cy[i], cx[i] - 1, cx[i] + 1);
    span_put(xl, xr, size, cy[i] - 1, cx[i], cx[i]);
    span_put(xl, xr, size, cy[i] + 1, cx[i], cx[i]);
  }
}

// Row y of the line after d iterations of scipy's binary_dilation with the 4-connected cross: the
// union over rows y' of [xl - r, xr + r], r = d - |y - y'|, which is one interval because the line's
// rows are intervals of an 8-connected set. Writes [*lo, *hi] (empty: lo > hi), not clipped.
SLADD_HD void dilated_span(const int* xl, const int* xr, int size, i64 d, int y, int* lo, int* hi) {
  i64 L = kSpanEmpty, R = -(i64)kSpanEmpty;
  const i64 y0 = imax64(0, (i64)y - d), y1 = imin64((i64)size - 1, (i64)y + d);
  for (i64 yy = y0; yy <= y1; ++yy) {
    if (xl[yy] > xr[yy]) continue;
    const i64 r = d - (yy > y ? yy - y : y - yy);
    L = imin64(L, xl[yy] - r);
    R = imax64(R, xr[yy] + r);
  }
  *lo = (int)imax64(L, -1);
  *hi = (int)imin64(R, size);
}

}  // namespace sladd
