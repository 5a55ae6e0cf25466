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

// The box of one sample from its rows' entries (first, last per row, kBoxRowEntries ints a row).
SLADD_HD void box_from_rows(const int* rows, int H, long long* box) {
  int x0 = 0, x1 = -1, y0 = -1, y1 = -1;
  for (int y = 0; y < H; ++y) {
    const int f = rows[kBoxRowEntries * y], l = rows[kBoxRowEntries * y + 1];
    if (f < 0) continue;
    if (y0 < 0) {
      y0 = y;
      x0 = f;
      x1 = l;
    }
    y1 = y;
    x0 = f < x0 ? f : x0;
    x1 = l > x1 ? l : x1;
  }
  if (y0 < 0) {
    box[0] = box[1] = box[2] = box[3] = 0;
    return;
  }
  box[0] = x0;
  box[1] = y0;
  box[2] = (long long)x1 - x0 + 1;
  box[3] = (long long)y1 - y0 + 1;
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

// The box of one sample from its columns' entries (first, last row per column, kBoxRowEntries ints a
// column): box_from_rows with x and y exchanged.
SLADD_HD void box_from_cols(const int* cols, int W, long long* box) {
  long long t[4];
  box_from_rows(cols, W, t);  // (y0, x0, h, w) of the transposed mask
  box[0] = t[1];
  box[1] = t[0];
  box[2] = t[3];
  box[3] = t[2];
}

}  // namespace sladd
