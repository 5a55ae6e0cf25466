// Bounding boxes of the True pixels of bool masks [B,H,W] (ops/blend.py box_of, cv2.boundingRect of a
// binary image), as int64 (x, y, w, h); (0, 0, 0, 0) where no pixel is on. Two equal routes: per row
// the first and last on column, then the extremes over the rows (the CPU walks rows, contiguous in
// memory); or per column the first and last on row, then the extremes over the columns (CUDA: one
// thread per column, so a warp's loads are consecutive bytes of one row). With exclude_frame the image's 1-pixel frame
// counts as off (seamlessClone zeroes it before taking its box).
#pragma once
#include "macros.h"

namespace sladd {

constexpr int kBoxRowEntries = 2;  // per row (or column): the first and the last on column (row), -1 and -1 where none

// Row y of an H x W mask: its first and last on column (-1 where none).
SLADD_HD void box_row(const u8* row, int y, int H, int W, bool exclude_frame, int* first, int* last) {
  int f = -1, l = -1;
  if (!(exclude_frame && (y == 0 || y == H - 1))) {
    const int x0 = exclude_frame ? 1 : 0, x1 = exclude_frame ? W - 1 : W;
    for (int x = x0; x < x1; ++x)
      if (row[x]) {
        f = x;
        break;
      }
    for (int x = x1 - 1; f >= 0 && x >= f; --x)
      if (row[x]) {
        l = x;
        break;
      }
  }
  *first = f;
  *last = l;
}

// The extremes of a set of lines (rows or columns), each with an on-span [first, last] or none: the
// first and last line with a span, the least first and the greatest last. Min and max only, so any
// order of add and merge gives the same result (the CUDA reduction merges in a tree).
struct LineExtent {
  int line_lo, line_hi, span_lo, span_hi;  // line_hi < 0: no line had a span
};

SLADD_HD LineExtent line_extent_empty() {
  LineExtent e;
  e.line_lo = e.span_lo = 0x7fffffff;
  e.line_hi = e.span_hi = -1;
  return e;
}

SLADD_HD void line_extent_merge(LineExtent* e, const LineExtent& o) {
  e->line_lo = o.line_lo < e->line_lo ? o.line_lo : e->line_lo;
  e->line_hi = o.line_hi > e->line_hi ? o.line_hi : e->line_hi;
  e->span_lo = o.span_lo < e->span_lo ? o.span_lo : e->span_lo;
  e->span_hi = o.span_hi > e->span_hi ? o.span_hi : e->span_hi;
}

SLADD_HD void line_extent_add(LineExtent* e, int line, int first, int last) {
  if (first >= 0) line_extent_merge(e, LineExtent{line, line, first, last});
}

// (x, y, w, h) from the extent of the rows (lines = rows) or of the columns; (0, 0, 0, 0) where empty.
SLADD_HD void box_from_extent(const LineExtent& e, bool lines_are_rows, long long* box) {
  if (e.line_hi < 0) {
    box[0] = box[1] = box[2] = box[3] = 0;
    return;
  }
  const long long lines = (long long)e.line_hi - e.line_lo + 1, span = (long long)e.span_hi - e.span_lo + 1;
  box[0] = lines_are_rows ? e.span_lo : e.line_lo;
  box[1] = lines_are_rows ? e.line_lo : e.span_lo;
  box[2] = lines_are_rows ? span : lines;
  box[3] = lines_are_rows ? lines : span;
}

// The box of one sample from its rows' entries (first, last per row, kBoxRowEntries ints a row).
SLADD_HD void box_from_rows(const int* rows, int H, long long* box) {
  LineExtent e = line_extent_empty();
  for (int y = 0; y < H; ++y) line_extent_add(&e, y, rows[kBoxRowEntries * y], rows[kBoxRowEntries * y + 1]);
  box_from_extent(e, true, box);
}

// Column x of one sample's H x W mask (plane: its first pixel): its first and last on row (-1 where
// none), the transpose of box_row.
SLADD_HD void box_col(const u8* plane, int x, int H, int W, bool exclude_frame, int* first, int* last) {
  int f = -1, l = -1;
  if (!(exclude_frame && (x == 0 || x == W - 1))) {
    const int y0 = exclude_frame ? 1 : 0, y1 = exclude_frame ? H - 1 : H;
    for (int y = y0; y < y1; ++y)
      if (plane[(long long)y * W + x]) {
        f = y;
        break;
      }
    for (int y = y1 - 1; f >= 0 && y >= f; --y)
      if (plane[(long long)y * W + x]) {
        l = y;
        break;
      }
  }
  *first = f;
  *last = l;
}

}  // namespace sladd
