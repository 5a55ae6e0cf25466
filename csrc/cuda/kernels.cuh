// CUDA kernels of sladd_fast: iteration and launch geometry only; the math is in common/*.h.
//
// Plain extern "C" kernels with raw pointers, so the same file is compiled by nvcc (setup.py build,
// bindings.cu) and by NVRTC at run time (CuPy RawModule, sladd_fast/_jit.py).
// Launch layout: blockIdx.x * blockDim.x + threadIdx.x = pixel (or line), blockIdx.y = sample,
// blockIdx.z = channel where a kernel is per channel; block reductions take one block of kThreads per
// sample (blockIdx.x = 0, threadIdx.x = the thread's share).
#pragma once
#include "../common/align_math.h"
#include "../common/blend_math.h"
#include "../common/box_math.h"
#include "../common/blur_math.h"
#include "../common/color_math.h"
#include "../common/color_transfer_math.h"
#include "../common/deform_math.h"
#include "../common/dst_math.h"
#include "../common/feather_math.h"
#include "../common/gauss_math.h"
#include "../common/hsv_math.h"
#include "../common/hull_math.h"
#include "../common/jpeg_math.h"
#include "../common/morph_math.h"
#include "../common/noise_math.h"
#include "../common/piecewise_math.h"
#include "../common/warp_math.h"
#include "../common/poisson_math.h"
#include "../common/region_math.h"
#include "../common/remap_math.h"
#include "../common/resample_math.h"
#include "../common/sbi_quality_math.h"
#include "../common/taps_math.h"
#include "../common/warp_u8_math.h"
#include "../common/xray_math.h"
#include "launch.h"

extern "C" {

// region_mask in three passes over a scratch of int32 [B, kMaxPrimitives, kSpanRows, size]: per primitive
// the line's spans xl, xr and the dilated spans lo, hi, one entry per row.
// Pass 1: one thread per (sample, primitive) rasterises the thick line (a serial scanline walk).
__global__ void sladd_region_lines_kernel(const float* landmarks, const long long* region, int* spans,
                                          int size) {
  using namespace sladd;
  const int p = blockIdx.x * blockDim.x + threadIdx.x;
  if (p >= kMaxPrimitives) return;
  const int b = blockIdx.y;
  Segment seg[kMaxPrimitives];
  const int n = region_segments(landmarks + (long long)b * kNumLandmarks * 2, code_of(region[b]), seg);
  int* xl = spans + ((long long)b * kMaxPrimitives + p) * kSpanRows * size;
  span_clear(xl, xl + size, size);
  if (p < n) thick_line_spans(seg[p].a.x, seg[p].a.y, seg[p].b.x, seg[p].b.y, size, xl, xl + size);
}

// Pass 2: one thread per (sample, primitive, row): the row after d cross dilations.
__global__ void sladd_region_dilate_kernel(const float* landmarks, const long long* region, int* spans,
                                           int size) {
  using namespace sladd;
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long long)kMaxPrimitives * size) return;
  const int p = (int)(i / size), y = (int)(i % size), b = blockIdx.y;
  Segment seg[kMaxPrimitives];
  const int n = region_segments(landmarks + (long long)b * kNumLandmarks * 2, code_of(region[b]), seg);
  int* xl = spans + ((long long)b * kMaxPrimitives + p) * kSpanRows * size;
  int lo = kSpanEmpty, hi = -kSpanEmpty;
  if (p < n) dilated_span(xl, xl + size, size, seg[p].d, y, &lo, &hi);
  xl[2 * size + y] = lo;
  xl[3 * size + y] = hi;
}

// Pass 3: one thread per pixel.
__global__ void sladd_region_fill_kernel(const int* spans, float* out, int size) {
  using namespace sladd;
  const long long pix = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (pix >= (long long)size * size) return;
  const int b = blockIdx.y, x = (int)(pix % size), y = (int)(pix / size);
  bool in = false;
  for (int p = 0; p < kMaxPrimitives; ++p) {
    const int* q = spans + ((long long)b * kMaxPrimitives + p) * kSpanRows * size;
    in = in || (q[2 * size + y] <= x && x <= q[3 * size + y]);
  }
  out[(long long)b * size * size + pix] = in ? 1.0f : 0.0f;
}

// hull_mask in three passes over global scratch (common/hull_math.h; no per-thread arrays, whose local
// memory the driver would reserve for every resident thread): points int64 [B, hull_points_cap(K), 2]
// (the input points, then the hull), vertices int64 [B, kHullVertexRows, hull_vertex_cap(K)] (vx, vy),
// meta int32 [B, kHullMetaFields] (the vertex count and the whole-pixel flag) and the scanline spans
// int32 [B, kHullSpanRows, size] (xl, xr).
// Pass 1: one thread per sample (blockIdx.x * blockDim.x + threadIdx.x = sample): the hull, computed
// once into the scratch, and its scanline walk, serial.
__global__ void sladd_hull_spans_kernel(const float* landmarks, long long* points, long long* vertices, int* meta,
                                        int* spans, int B, int K, int size) {
  using namespace sladd;
  const long long b = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= B) return;
  const HullScratch s = hull_scratch(reinterpret_cast<IPt*>(points), vertices, K, b);
  bool whole;
  const int n = hull_vertices(landmarks + b * K * 2, K, s, &whole);
  meta[b * kHullMetaFields + kHullMetaCount] = n;
  meta[b * kHullMetaFields + kHullMetaWhole] = whole ? 1 : 0;
  int* xl = spans + b * kHullSpanRows * size;
  hull_scanlines(s.vx, s.vy, n, size, xl, xl + size);
}

// Passes 1 and 3 run over the B * P hulls (hull h = b * P + p, h as "sample" above); the mask of sample b
// is the union of its P hulls.
// Pass 2: one thread per pixel, blockIdx.y = sample: inside any of its hulls' spans.
__global__ void sladd_hull_fill_kernel(const int* spans, float* out, int size, int parts) {
  using namespace sladd;
  const long long pix = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (pix >= (long long)size * size) return;
  const long long b = blockIdx.y;
  const int x = (int)(pix % size), y = (int)(pix / size);
  bool inside = false;
  for (int p = 0; p < parts && !inside; ++p) {
    const int* xl = spans + (b * parts + p) * kHullSpanRows * size;
    inside = xl[y] <= x && x <= xl[size + y];
  }
  out[b * size * size + pix] = inside ? 1.0f : 0.0f;
}

// Pass 3: one thread per hull, as pass 1: pass 1's hull, its edges' pixels set in its sample's mask
// (hulls of one sample may set the same pixel at once: every write is a 1).
__global__ void sladd_hull_edges_kernel(const long long* vertices, const int* meta, float* out, int hulls, int K,
                                        int size, int parts) {
  using namespace sladd;
  const long long h = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (h >= hulls) return;
  const i64* vx = vertices + hull_vertex_offset(K, h);
  hull_edges(vx, vx + hull_vertex_cap(K), meta[h * kHullMetaFields + kHullMetaCount],
             meta[h * kHullMetaFields + kHullMetaWhole] != 0, size, out + (h / parts) * size * size);
}

// hull_feather in three passes over two point scratches (IPt as int64 [B, cap, 2], cap = 2H + 2):
// the rows' ends (the hull input) and the hull, plus the hull's vertex count int [B] and f float [B].
// Pass 1: one thread per (sample, row), blockIdx.y = sample: the row's ends.
__global__ void sladd_hull_feather_rows_kernel(const float* mask, long long* ends, int H, int W) {
  using namespace sladd;
  const int y = blockIdx.x * blockDim.x + threadIdx.x;
  if (y >= H) return;
  const long long b = blockIdx.y, cap = (long long)kFeatherEndsPerRow * H + kFeatherHullSlack;
  feather_row_ends(mask + (b * H + y) * W, W, y, reinterpret_cast<IPt*>(ends) + b * cap + kFeatherEndsPerRow * y);
}

// Pass 2: one thread per sample (a serial monotone chain over <= 2H points): the hull, its count and f.
__global__ void sladd_hull_feather_hull_kernel(long long* ends, const float* frac, long long* hull, int* count,
                                               float* f, int B, int H) {
  using namespace sladd;
  const long long b = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= B) return;
  const long long cap = (long long)kFeatherEndsPerRow * H + kFeatherHullSlack;
  count[b] = feather_hull(reinterpret_cast<IPt*>(ends) + b * cap, H, frac[b], reinterpret_cast<IPt*>(hull) + b * cap,
                          f + b);
}

// Pass 3: one thread per pixel, blockIdx.y = sample.
__global__ void sladd_hull_feather_weight_kernel(const float* mask, const long long* hull, const int* count,
                                                 const float* f, float* out, int H, int W) {
  using namespace sladd;
  const long long pix = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (pix >= (long long)H * W) return;
  const long long b = blockIdx.y, cap = (long long)kFeatherEndsPerRow * H + kFeatherHullSlack;
  const long long o = b * H * W + pix;
  IPt p;
  p.x = pix % W;
  p.y = pix / W;
  out[o] = feather_weight(reinterpret_cast<const IPt*>(hull) + b * cap, count[b], f[b], mask[o], p);
}

// blockIdx.y = sample, blockIdx.z = channel.
__global__ void sladd_blend_linear_kernel(const unsigned char* target, const unsigned char* source,
                                          const float* mask, const float* weight, unsigned char* out,
                                          int C, long long HW) {
  using namespace sladd;
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= HW) return;
  const int b = blockIdx.y;
  const long long o = ((long long)b * C + blockIdx.z) * HW + i;
  out[o] = blend_linear_px(target[o], source[o], mask[b * HW + i], weight[b]);
}

__device__ __forceinline__ sladd::Roi sladd_roi_at(const long long* roi, int b) { return sladd::roi_of(roi, b); }

// Pass 1: eroded mask inside each ROI (eroded is zero-initialised by the caller). One thread per pixel.
__global__ void sladd_poisson_erode_kernel(const float* mask, const long long* roi, unsigned char* eroded,
                                           int H, int W) {
  using namespace sladd;
  const int b = blockIdx.y;
  const long long pix = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (pix >= (long long)H * W) return;
  const Roi r = sladd_roi_at(roi, b);
  if (!roi_solvable(r, H, W)) return;
  const int i = (int)(pix / W) - r.y, j = (int)(pix % W) - r.x;
  if (i < 0 || j < 0 || i >= r.h || j >= r.w) return;
  PoissonView v;
  v.target = nullptr;
  v.source = nullptr;
  v.mask = mask + (long long)b * H * W;
  v.eroded = nullptr;
  v.H = H;
  v.W = W;
  eroded[(long long)b * H * W + pix] = erode_px(v, r, i, j) ? 1 : 0;
}

// Pass 2: rhs [B, C, H-2, W-2], ROI interior moved to the origin (rhs is zero-initialised).
// blockIdx.y = sample, blockIdx.z = channel; one thread per (H-2) x (W-2) element.
__global__ void sladd_poisson_rhs_kernel(const unsigned char* target, const unsigned char* source,
                                         const float* mask, const unsigned char* eroded, const long long* roi,
                                         float* rhs, int C, int H, int W) {
  using namespace sladd;
  const int b = blockIdx.y, c = blockIdx.z;
  const long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= (long long)(H - 2) * (W - 2)) return;
  const Roi r = sladd_roi_at(roi, b);
  if (!roi_solvable(r, H, W)) return;
  const int i = (int)(e / (W - 2)) + 1, j = (int)(e % (W - 2)) + 1;
  if (i > r.h - 2 || j > r.w - 2) return;
  PoissonView v;
  v.target = target + (long long)b * C * H * W;
  v.source = source + (long long)b * C * H * W;
  v.mask = mask + (long long)b * H * W;
  v.eroded = eroded + (long long)b * H * W;
  v.H = H;
  v.W = W;
  rhs[((long long)b * C + c) * (H - 2) * (W - 2) + e] = poisson_rhs_px(v, r, c, i, j);
}

// similarity_align: one thread per sample (common/align_math.h). blockIdx.x * blockDim.x + threadIdx.x = sample.
__global__ void sladd_similarity_align_kernel(const float* source, const float* target, float* map, float* inverse,
                                              unsigned char* ok, int B) {
  using namespace sladd;
  const long long b = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= B) return;
  double ps[2 * kAlignPoints], pt[2 * kAlignPoints];
  five_points(source + b * kNumLandmarks * 2, ps);
  five_points(target + b * kNumLandmarks * 2, pt);
  ok[b] = umeyama_similarity(ps, pt, map + 6 * b) ? 1 : 0;
  invert_affine(map + 6 * b, inverse + 6 * b);
}

// skimage_taps / pil_taps: one thread per (sample = blockIdx.y, output pixel), T taps each.
__global__ void sladd_skimage_taps_kernel(const long long* n_in, const long long* n_out, long long* index,
                                          float* weight, int canvas_out, int radius) {
  using namespace sladd;
  const int b = blockIdx.y;
  const long long o = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (o >= canvas_out) return;
  const long long e = ((long long)b * canvas_out + o) * (2 * (2 * radius + 1));
  skimage_taps_px(n_in[b], n_out[b], radius, (int)o, index + e, weight + e);
}

__global__ void sladd_pil_taps_kernel(const long long* n_in, const long long* n_out, const unsigned char* nearest,
                                      long long* index, float* weight, int canvas_in, int canvas_out, int span) {
  using namespace sladd;
  const int b = blockIdx.y;
  const long long o = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (o >= canvas_out) return;
  const long long e = ((long long)b * canvas_out + o) * span;
  pil_taps_px(n_in[b], n_out[b], nearest[b] != 0, canvas_in, canvas_out, span, (int)o, index + e, weight + e);
}

// xray_blend, pass 1: one thread per (sample, column) writes the column's sums into partials
// long long [B, W, kXraySums]. No atomics: integer sums, combined in column order by pass 2.
__global__ void sladd_xray_columns_kernel(const unsigned char* both, const float* mask, long long* partials, int H,
                                          int W) {
  using namespace sladd;
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  if (x >= W) return;
  const long long b = blockIdx.y, HW = (long long)H * W;
  xray_column_sums(both + b * 6 * HW, mask + b * HW, H, W, x, partials + (b * W + x) * kXraySums);
}

// xray_blend, pass 2: one thread per sample adds its columns' sums and writes its 3 shifts.
__global__ void sladd_xray_shift_kernel(const long long* partials, float* shift, int W) {
  using namespace sladd;
  if (blockIdx.x * blockDim.x + threadIdx.x != 0) return;
  const long long b = blockIdx.y;
  long long sums[kXraySums] = {0, 0, 0, 0};
  for (int x = 0; x < W; ++x)
    for (int k = 0; k < kXraySums; ++k) sums[k] += partials[(b * W + x) * kXraySums + k];
  xray_shift(sums, shift + b * 3);
}

// xray_blend, pass 3: one thread per (sample, pixel) writes its 3 channels.
__global__ void sladd_xray_blend_kernel(const unsigned char* both, const float* mask, const float* weight,
                                        const float* shift, unsigned char* out, int H, int W) {
  using namespace sladd;
  const long long HW = (long long)H * W, p = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (p >= HW) return;
  const long long b = blockIdx.y;
  const unsigned char* s = both + b * 6 * HW;
  const bool inside = mask[b * HW + p] > 0.0f;
  const float w = weight[b * HW + p];
  for (int c = 0; c < 3; ++c)
    out[(b * 3 + c) * HW + p] =
        xray_blend_px((float)s[c * HW + p], (float)s[(3 + c) * HW + p], inside, shift[b * 3 + c], w);
}

// jpeg_round_trip, pass 0: one thread per (sample = blockIdx.y, table entry) writes tables float
// [B, kJpegTables] (luma, then chroma), read by pass 1 instead of 64 registers a thread.
__global__ void sladd_jpeg_tables_kernel(const long long* quality, float* tables) {
  using namespace sladd;
  const int e = blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= kJpegTables) return;
  const long long b = blockIdx.y;
  tables[b * kJpegTables + e] = jpeg_quant_entry(e >= 64, quality[b], e % 64);
}

// jpeg_round_trip, pass 1: one thread per (sample, 8 x 8 block of an MCU) codes the block into the sample's
// planes (common/jpeg_math.h); unselected samples do nothing.
__global__ void sladd_jpeg_blocks_kernel(const unsigned char* img, const float* tables, const unsigned char* select,
                                         unsigned char* planes, int H, int W, int hp, int wp, int bgr) {
  using namespace sladd;
  const int b = blockIdx.y;
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  const long long blocks = (long long)(hp / kJpegMcu) * (wp / kJpegMcu) * kJpegBlocksPerMcu;
  if (i >= blocks || !select[b]) return;
  const int blk = (int)(i % kJpegBlocksPerMcu);
  const float* t = tables + (long long)b * kJpegTables + (blk >= 4 ? 64 : 0);
  jpeg_mcu_block(img + (long long)b * 3 * H * W, H, W, bgr != 0, t, hp, wp, (int)(i / kJpegBlocksPerMcu), blk,
                 planes + (long long)b * jpeg_plane_bytes(hp, wp));
}

// jpeg_round_trip, pass 2: one thread per (sample, output pixel): upsampling and colour, or the input pixel
// where the sample is not selected.
__global__ void sladd_jpeg_pixels_kernel(const unsigned char* img, const unsigned char* select,
                                         const unsigned char* planes, unsigned char* out, int H, int W, int hp,
                                         int wp, int bgr) {
  using namespace sladd;
  const int b = blockIdx.y;
  const long long p = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (p >= (long long)H * W) return;
  const long long base = (long long)b * 3 * H * W;
  if (!select[b]) {
    for (int c = 0; c < 3; ++c) out[base + c * (long long)H * W + p] = img[base + c * (long long)H * W + p];
    return;
  }
  jpeg_pixel(planes + (long long)b * jpeg_plane_bytes(hp, wp), H, W, bgr != 0, hp, wp, (int)(p / W), (int)(p % W),
             out + base);
}

// fraction_inside, pass 1: one thread per (sample, row of cells) writes its two sums.
__global__ void sladd_inside_rows_kernel(const float* mask, const float* map, float* rows, int S, int cell) {
  using namespace sladd;
  const int b = blockIdx.y, n = S / cell;
  const long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= n) return;
  inside_row_sums(mask + (long long)b * S * S, S, cell, map + 6LL * b, (int)r,
                  rows + ((long long)b * n + r) * kInsideEntries);
}

// fraction_inside, pass 2: one thread per sample.
__global__ void sladd_inside_sum_kernel(const float* rows, float* out, int n) {
  using namespace sladd;
  const int b = blockIdx.y;
  if (blockIdx.x * blockDim.x + threadIdx.x != 0) return;
  out[b] = inside_fraction(rows + (long long)b * n * kInsideEntries, n);
}

// affine_reach_box: one thread per sample.
__global__ void sladd_reach_box_kernel(const long long* box, const float* map, long long* out, int size, int B) {
  using namespace sladd;
  const long long b = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= B) return;
  reach_box(box + 4 * b, map + 6 * b, size, out + 4 * b);
}

// box_of, pass 1: one thread per (sample, column) writes the column's first and last on row (a warp
// reads consecutive bytes of each row; one thread per row read 32 rows at a stride of W).
__global__ void sladd_box_cols_kernel(const unsigned char* on, int* cols, int H, int W, int exclude_frame) {
  using namespace sladd;
  const int b = blockIdx.y;
  const long long x = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (x >= W) return;
  int* e = cols + ((long long)b * W + x) * kBoxRowEntries;
  box_col(on + (long long)b * H * W, (int)x, H, W, exclude_frame != 0, e, e + 1);
}

// box_of, pass 2: one block per sample (grid x = 1): each thread merges every kThreads-th column, then
// a tree of merges in shared memory (log2 kThreads steps, not one thread walking all W columns).
__global__ void sladd_box_reduce_kernel(const int* cols, long long* box, int W) {
  using namespace sladd;
  __shared__ LineExtent part[kThreads];
  const int b = blockIdx.y, t = threadIdx.x;
  const int* c = cols + (long long)b * W * kBoxRowEntries;
  LineExtent e = line_extent_empty();
  for (long long x = t; x < W; x += kThreads)
    line_extent_add(&e, (int)x, c[kBoxRowEntries * x], c[kBoxRowEntries * x + 1]);
  part[t] = e;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (t < half) line_extent_merge(&part[t], part[t + half]);
    __syncthreads();
  }
  if (t == 0) box_from_extent(part[0], false, box + 4LL * b);
}

// One of poisson_solve's four DST-I products (common/dst_math.h) on each sample's n_h x n_w block:
// out = S_n . in (sine_left, n = n_h) or in . S_n (n = n_w), then the epilogue. A block of kThreads
// computes a kDstTile x kDstTile output tile (blockIdx.x = tile, row-major over the canvas; blockIdx.y =
// sample, blockIdx.z = channel), thread (tr, tc) of kDstSide x kDstSide the outputs at rows
// tr + kDstSide i and columns tc + kDstSide j, i, j < kDstMicro, each one fmaf chain over k ascending
// (no padded terms: the CPU kernel's bits). Both operands are staged in shared memory kDstStep values of
// k at a time; the sine operand comes from the 2 (n + 1) sines of the block's n, tabulated once per
// block where they fit in kDstTable. Tiles outside the block exit at once (block-uniform, before any
// barrier); with kDstEpiScale they first write their zeros, so the last pass fills the whole output.
// Here, not in bindings.cu: NVRTC compiles this file alone, and a kThreads edited in launch.h would
// otherwise leave it mapping threads past (or short of) the kDstSide x kDstSide grid unnoticed.
static_assert(sladd::kDstSide * sladd::kDstSide == sladd::kThreads, "sladd_dst_pass_kernel maps kThreads onto a kDstSide^2 grid");
static_assert((long long)(sladd::kDstTable / 2) * (sladd::kDstTable / 2) <= 0xffffffffLL,
              "dst_index_tabulated's product (k + 1)(m + 1) < (kDstTable / 2)^2 fits 32 bits");
__global__ void sladd_dst_pass_kernel(const float* in, float* out, const long long* roi, int Nh, int Nw,
                                      int sine_left, int epi) {
  using namespace sladd;
  // [k][row], one float of padding per k: the staging loop stores a warp's 32 values at rows r, r + 1
  // and 16 values of k, which without it fall in 2 of the 32 banks (16-way conflicts).
  __shared__ float a_tile[kDstStep][kDstTile + 1];
  __shared__ float b_tile[kDstStep][kDstTile];  // [k][col]
  __shared__ float sines[kDstTable];
  const int b = blockIdx.y, tid = threadIdx.x;
  const long long plane = ((long long)b * gridDim.z + blockIdx.z) * Nh * Nw;
  const int tiles_w = (Nw + kDstTile - 1) / kDstTile;
  const int row0 = (int)(blockIdx.x / tiles_w) * kDstTile, col0 = (int)(blockIdx.x % tiles_w) * kDstTile;
  const int n_w = dst_extent(roi[6 * b + 2], Nw), n_h = dst_extent(roi[6 * b + 3], Nh);
  if (row0 >= n_h || col0 >= n_w) {
    if (epi == kDstEpiScale)
      for (int e = tid; e < kDstTile * kDstTile; e += blockDim.x) {
        const int r = row0 + e / kDstTile, c = col0 + e % kDstTile;
        if (r < Nh && c < Nw) out[plane + (long long)r * Nw + c] = 0.0f;
      }
    return;
  }
  const int n = sine_left ? n_h : n_w;  // the sine matrix' size, and the sum's length K
  const bool tabulated = 2 * (n + 1) <= kDstTable;
  if (tabulated)
    for (int r = tid; r < 2 * (n + 1); r += blockDim.x) sines[r] = dst_sine(r, n);
  __syncthreads();
  const int tr = tid / kDstSide, tc = tid % kDstSide;
  float acc[kDstMicro][kDstMicro];
  for (int i = 0; i < kDstMicro; ++i)
    for (int j = 0; j < kDstMicro; ++j) acc[i][j] = 0.0f;
  for (int k0 = 0; k0 < n; k0 += kDstStep) {
    for (int e = tid; e < kDstStep * kDstTile; e += blockDim.x) {
      const int kk = e % kDstStep, r = row0 + e / kDstStep, k = k0 + kk;  // left operand: row r, column k
      float v = 0.0f;
      if (r < n_h && k < n) {
        if (sine_left) {
          v = tabulated ? sines[dst_index_tabulated(r, k, n)] : dst_sine(dst_index(r, k, n), n);
        } else {
          v = in[plane + (long long)r * Nw + k];
        }
      }
      a_tile[kk][e / kDstStep] = v;
    }
    for (int e = tid; e < kDstStep * kDstTile; e += blockDim.x) {
      const int kk = e / kDstTile, c = col0 + e % kDstTile, k = k0 + kk;  // right operand: row k, column c
      float v = 0.0f;
      if (c < n_w && k < n) {
        if (sine_left) {
          v = in[plane + (long long)k * Nw + c];
        } else {
          v = tabulated ? sines[dst_index_tabulated(k, c, n)] : dst_sine(dst_index(k, c, n), n);
        }
      }
      b_tile[kk][e % kDstTile] = v;
    }
    __syncthreads();
    const int steps = n - k0 < kDstStep ? n - k0 : kDstStep;
    for (int kk = 0; kk < steps; ++kk) {
      float av[kDstMicro], bv[kDstMicro];
      for (int i = 0; i < kDstMicro; ++i) av[i] = a_tile[kk][tr + kDstSide * i];
      for (int j = 0; j < kDstMicro; ++j) bv[j] = b_tile[kk][tc + kDstSide * j];
      for (int i = 0; i < kDstMicro; ++i)
        for (int j = 0; j < kDstMicro; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    __syncthreads();
  }
  const float scale = dst_scale(n_h, n_w);
  double lam_w[kDstMicro];  // the eigenvalues' column parts, once per thread
  for (int j = 0; j < kDstMicro; ++j) {
    const int c = col0 + tc + kDstSide * j;
    lam_w[j] = epi == kDstEpiEig && c < n_w ? dst_lambda(c, n_w) : 0.0;
  }
  for (int i = 0; i < kDstMicro; ++i) {
    const int r = row0 + tr + kDstSide * i;
    const double lam_h = epi == kDstEpiEig && r < n_h ? dst_lambda(r, n_h) : 0.0;
    for (int j = 0; j < kDstMicro; ++j) {
      const int c = col0 + tc + kDstSide * j;
      if (r < n_h && c < n_w) {
        float v = acc[i][j];
        if (epi == kDstEpiEig) v = v / dst_eig_of(lam_h, lam_w[j]);
        else if (epi == kDstEpiScale) v = v * scale;
        out[plane + (long long)r * Nw + c] = v;
      } else if (epi == kDstEpiScale && r < Nh && c < Nw) {
        out[plane + (long long)r * Nw + c] = 0.0f;
      }
    }
  }
}

// Output = target, with the ROI interior replaced by the clamped, truncated solution.
// blockIdx.y = sample, blockIdx.z = channel; one thread per pixel.
__global__ void sladd_poisson_compose_kernel(const unsigned char* target, const float* solution,
                                             const long long* roi, unsigned char* out, int C, int H, int W) {
  using namespace sladd;
  const int b = blockIdx.y;
  const long long plane = (long long)b * C + blockIdx.z;
  const long long pix = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (pix >= (long long)H * W) return;
  const long long o = plane * H * W + pix;
  const Roi r = sladd_roi_at(roi, b);
  const int i = (int)(pix / W) - r.dy, j = (int)(pix % W) - r.dx;
  if (roi_solvable(r, H, W) && i >= 1 && j >= 1 && i <= r.h - 2 && j <= r.w - 2)
    out[o] = clamp_trunc_u8(solution[plane * (H - 2) * (W - 2) + (i - 1) * (W - 2) + j - 1]);
  else
    out[o] = target[o];
}

// Deformed mask (before the 5x5 blur). blockIdx.y = sample; one thread per pixel.
__global__ void sladd_deform_mask_kernel(const float* mask, const float* noise, float* out, int S) {
  using namespace sladd;
  const int b = blockIdx.y;
  const long long pix = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (pix >= (long long)S * S) return;
  out[(long long)b * S * S + pix] = deform_mask_px(mask + (long long)b * S * S, noise + b * kMesh * kMesh * 2, S,
                                                   (int)(pix % S), (int)(pix / S));
}

// morph_square pass 1: blockIdx.y = sample; one thread per pixel: the row dilation of the pass's input
// (the mask, or its complement when eroding) over the pixel's window of the row, into rows u8 [B,H,W].
// One thread per pixel rather than a serial sweep per row: a thread per row read its row alone, so no
// load of a warp was coalesced (the H200 profile: 10.8 ms per 1024 samples for that pass alone).
// Samples that neither erode nor dilate skip both passes' windows.
__global__ void sladd_morph_rows_kernel(const float* mask, const long long* op, const long long* k,
                                        unsigned char* rows, int H, int W) {
  using namespace sladd;
  const int b = blockIdx.y;
  const long long pix = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (pix >= (long long)H * W) return;
  const int o = code_of(op[b]);
  if (!morph_active(o)) return;
  const long long plane = (long long)b * H * W, row = plane + pix - pix % W;
  const int x = (int)(pix % W), r = morph_radius(k[b], H > W ? H : W);
  rows[plane + pix] = dilate_window([&](int j) { return morph_input(mask[row + j], o) != 0; }, x, W, r);
}

// morph_square pass 2: blockIdx.y = sample; one thread per pixel: the column dilation of rows, then the
// final value.
__global__ void sladd_morph_cols_kernel(const float* mask, const long long* op, const long long* k,
                                        const unsigned char* rows, float* out, int H, int W) {
  using namespace sladd;
  const int b = blockIdx.y;
  const long long pix = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (pix >= (long long)H * W) return;
  const int o = code_of(op[b]);
  const long long plane = (long long)b * H * W, col = plane + pix % W;
  unsigned char dilated = 0;
  if (morph_active(o))
    dilated = dilate_window([&](int i) { return rows[col + (long long)i * W] != 0; }, (int)(pix / W), H,
                            morph_radius(k[b], H > W ? H : W));
  out[plane + pix] = morph_output(dilated, mask[plane + pix], o);
}

// warp_affine_cubic: blockIdx.y = sample; one thread per output pixel, all channels.
}  // extern "C"

// Pixels outside the sample's box are 0. T: float in and out, or uint8 in and out (saturated).
template <typename T>
__device__ __forceinline__ void sladd_warp_affine_cubic_px(const T* input, const float* inverse_map,
                                                           const long long* box, T* out, int C, int H, int W) {
  using namespace sladd;
  const int b = blockIdx.y;
  const long long pix = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (pix >= (long long)H * W) return;
  const long long plane = (long long)H * W;
  if (!clipped_box(box + 4 * b, H, W).contains((int)(pix % W), (int)(pix / W))) {
    for (int c = 0; c < C; ++c) out[((long long)b * C + c) * plane + pix] = T(0);
    return;
  }
  CubicTaps t;
  cubic_taps(inverse_map + b * 6, (int)(pix % W), (int)(pix / W), H, W, &t);
  cubic_sample_channels(input + (long long)b * C * plane, plane, C, W, t, out + (long long)b * C * plane + pix, plane);
}

extern "C" {

__global__ void sladd_warp_affine_cubic_kernel(const float* input, const float* inverse_map, const long long* box,
                                               float* out, int C, int H, int W) {
  sladd_warp_affine_cubic_px(input, inverse_map, box, out, C, H, W);
}

__global__ void sladd_warp_affine_cubic_u8_kernel(const unsigned char* input, const float* inverse_map,
                                                  const long long* box, unsigned char* out, int C, int H, int W) {
  sladd_warp_affine_cubic_px(input, inverse_map, box, out, C, H, W);
}

// rgb_to_lab / lab_to_rgb: blockIdx.y = sample, one thread per pixel (all three channels).
__global__ void sladd_rgb_to_lab_kernel(const unsigned char* rgb, float* lab, long long HW) {
  using namespace sladd;
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= HW) return;
  const long long base = (long long)blockIdx.y * 3 * HW + i;
  float lin[3], out[3];
  for (int c = 0; c < 3; ++c) lin[c] = srgb_u8_to_linear(rgb[base + c * HW]);
  lab_from_linear(lin, out);
  for (int c = 0; c < 3; ++c) lab[base + c * HW] = out[c];
}

__global__ void sladd_lab_to_rgb_kernel(const float* lab, unsigned char* rgb, long long HW) {
  using namespace sladd;
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= HW) return;
  const long long base = (long long)blockIdx.y * 3 * HW + i;
  float in[3];
  u8 out[3];
  for (int c = 0; c < 3; ++c) in[c] = lab[base + c * HW];
  rgb_u8_from_lab(in, out);
  for (int c = 0; c < 3; ++c) rgb[base + c * HW] = out[c];
}

// hsv_shift: blockIdx.y = sample, one thread per pixel (all three channels); the division tables' values
// are computed per pixel (common/hsv_math.h HsvDivide).
__global__ void sladd_hsv_shift_kernel(const unsigned char* rgb, const float* shifts, unsigned char* out, int W,
                                       long long HW, long long block) {
  using namespace sladd;
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= HW) return;
  const long long b = blockIdx.y, base = b * 3 * HW + i;
  const HsvMove m = hsv_moves(shifts + 3 * b);
  u8 px[3];
  hsv_shift_px(rgb[base], rgb[base + HW], rgb[base + 2 * HW], m, i % W < hsv_simd_end(W, block), HsvDivide(), px);
  for (int c = 0; c < 3; ++c) out[base + c * HW] = px[c];
}

// sbi_quality in two passes over a scratch of uint8 [B,3,H,W] (the colour stage's planes).
// Pass 1: blockIdx.y = sample, one thread per pixel (all three channels): RGBShift, hsv_shift, the
// brightness/contrast level (common/sbi_quality_math.h sbi_color_px; divisions per pixel, HsvDivide).
__global__ void sladd_sbi_color_kernel(const unsigned char* rgb, const float* shifts, const float* coeffs,
                                       unsigned char* planes, int W, long long HW, long long block) {
  using namespace sladd;
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= HW) return;
  const long long b = blockIdx.y, base = b * 3 * HW + i;
  const float* q = coeffs + kSbiCoeffs * b;
  const HsvMove m = hsv_moves(shifts + 3 * b);
  u8 px[3];
  sbi_color_px(rgb[base], rgb[base + HW], rgb[base + 2 * HW], q, m, i % W < hsv_simd_end(W, block), HsvDivide(),
               q[3], q[4], px);
  for (int c = 0; c < 3; ++c) planes[base + c * HW] = px[c];
}

// Pass 2: blockIdx.y = sample, blockIdx.z = channel, one thread per pixel: the sample's branch (Sharpen,
// RandomDownScale or a copy) read from the channel's colour-stage plane (sbi_branch_px).
__global__ void sladd_sbi_branch_kernel(const unsigned char* planes, const float* coeffs, const long long* branch,
                                        unsigned char* out, int H, int W) {
  using namespace sladd;
  const long long HW = (long long)H * W;
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= HW) return;
  const long long b = blockIdx.y, plane = (b * 3 + blockIdx.z) * HW;
  out[plane + i] = sbi_branch_px(planes + plane, H, W, branch[b], coeffs + kSbiCoeffs * b, (int)(i / W), (int)(i % W));
}

// blur_in_box: blockIdx.y = sample, channel c0 + blockIdx.z of C, one thread per pixel; threads outside
// the sample's box do nothing in the horizontal pass and write 0 in the vertical one. The horizontal pass
// goes to tmp, [B, gridDim.z, H, W] float (the launchers run one channel at a time, so it stays a
// [B,1,H,W] plane). The input is float32 (input) or uint8 (input_u8, the other null); a uint8 input gives
// a uint8 output (out_u8), rounded.
__global__ void sladd_blur_rows_kernel(const float* input, const unsigned char* input_u8, const float* kernels,
                                       const long long* radius, const long long* box, float* tmp, int C, int c0,
                                       int H, int W, int K) {
  using namespace sladd;
  const long long pix = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (pix >= (long long)H * W) return;
  const int b = blockIdx.y, x = (int)(pix % W), y = (int)(pix / W);
  const Box bb = clipped_box(box + 4 * b, H, W);
  if (!bb.contains(x, y)) return;
  const long long row = ((long long)b * C + c0 + blockIdx.z) * H * W + (long long)y * W;
  const float* g = kernels + (long long)b * K + K / 2;
  const int r = blur_radius(radius[b], K);
  const float v = input_u8 != nullptr ? blur_h_px(input_u8 + row, W, bb.x, bb.w, g, r, x)
                                      : blur_h_px(input + row, W, bb.x, bb.w, g, r, x);
  tmp[((long long)b * gridDim.z + blockIdx.z) * H * W + pix] = v;
}

__global__ void sladd_blur_cols_kernel(const float* tmp, const float* kernels, const long long* radius,
                                       const long long* box, float* out, unsigned char* out_u8, int C, int c0, int H,
                                       int W, int K) {
  using namespace sladd;
  const long long pix = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (pix >= (long long)H * W) return;
  const int b = blockIdx.y, x = (int)(pix % W), y = (int)(pix / W);
  const Box bb = clipped_box(box + 4 * b, H, W);
  const long long plane = ((long long)b * C + c0 + blockIdx.z) * H * W;
  float v = 0.0f;
  if (bb.contains(x, y)) {
    const float* g = kernels + (long long)b * K + K / 2;
    v = blur_v_px(tmp + ((long long)b * gridDim.z + blockIdx.z) * H * W, H, W, bb.y, bb.h, g,
                  blur_radius(radius[b], K), x, y);
  }
  if (out_u8 != nullptr)
    out_u8[plane + pix] = blur_round_u8(v);
  else
    out[plane + pix] = v;
}

// resample_taps: blockIdx.y = sample, blockIdx.z = channel, one thread per output element. axis 2:
// item = o * W + x, so a warp takes consecutive x of one output row (coalesced reads and writes, the
// same taps for every thread); axis 3: item = y * O + o.
__global__ void sladd_resample_taps_kernel(const float* input, const long long* index, const float* weight,
                                           float* out, int C, int H, int W, int O, int T, int axis) {
  using namespace sladd;
  const long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  const bool rows = axis == 2;
  const long long items = rows ? (long long)O * W : (long long)H * O;
  if (e >= items) return;
  const long long b = blockIdx.y, plane = b * C + blockIdx.z;
  const float* src = input + plane * H * W;
  long long o;
  if (rows) {
    o = e / W;
    src += e % W;
  } else {
    o = e % O;
    src += (e / O) * W;
  }
  const long long taps = (b * O + o) * T;
  out[plane * items + e] = resample_taps_px(src, rows ? W : 1, rows ? H : W, index + taps, weight + taps, T);
}


// resize_u8, pass 1 (columns): one thread per (sample, channel = blockIdx.z, y, o) into float mid [B,C,H,O].
__global__ void sladd_resize_u8_cols_kernel(const unsigned char* input, const long long* index, const float* weight,
                                            float* mid, int C, int H, int W, int O, int T, int mode) {
  using namespace sladd;
  const long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= (long long)H * O) return;
  const long long b = blockIdx.y, plane = b * C + blockIdx.z, o = e % O;
  const long long taps = (b * O + o) * T;
  const float v = resample_taps_px(input + plane * H * W + (e / O) * W, 1, W, index + taps, weight + taps, T);
  mid[plane * H * O + e] = resize_mid(v, mode);
}

// resize_u8, pass 2 (rows): one thread per (sample, channel, output row, output column) into uint8 [B,C,O,O].
__global__ void sladd_resize_u8_rows_kernel(const float* mid, const long long* index, const float* weight,
                                            unsigned char* out, int C, int H, int O, int T, int mode) {
  using namespace sladd;
  const long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= (long long)O * O) return;
  const long long b = blockIdx.y, plane = b * C + blockIdx.z;
  const long long taps = (b * O + e / O) * T;
  const float v = resample_taps_px(mid + plane * H * O + e % O, O, H, index + taps, weight + taps, T);
  out[plane * O * O + e] = (unsigned char)(int)resize_clamp_255(v, mode);
}

}  // extern "C"

// gaussian_filter's line readers for common/gauss_math.h gauss_px: x(k) is the line's k-th sample.
struct SladdGaussRow {  // a row: consecutive samples
  const float* row;
  SLADD_HD float operator()(int k) const { return row[k]; }
};

struct SladdGaussCol {  // a column: samples W apart
  const float* col;
  int W;
  SLADD_HD float operator()(int k) const { return col[(long long)k * W]; }
};

extern "C" {

// gaussian_filter in two passes over a scratch of float32 [B,C,H,W] (the rows pass), each output one
// gauss_px (common/gauss_math.h): blockIdx.y = sample, blockIdx.z = channel, one thread per pixel;
// taps float32 [R+1] (the centre, then one half).
// Pass 1: along the pixel's row (W samples).
__global__ void sladd_gauss_rows_kernel(const float* input, const float* taps, float* tmp, int C, int H, int W,
                                        int R) {
  using namespace sladd;
  const long long pix = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (pix >= (long long)H * W) return;
  const long long plane = ((long long)blockIdx.y * C + blockIdx.z) * H * W;
  const int x = (int)(pix % W), y = (int)(pix / W);
  tmp[plane + pix] = gauss_px(SladdGaussRow{input + plane + (long long)y * W}, W, x, taps, R);
}

// Pass 2: along the pixel's column (H samples) of pass 1's plane, times scale.
__global__ void sladd_gauss_cols_kernel(const float* tmp, const float* taps, float* out, int C, int H, int W, int R,
                                        float scale) {
  using namespace sladd;
  const long long pix = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (pix >= (long long)H * W) return;
  const long long plane = ((long long)blockIdx.y * C + blockIdx.z) * H * W;
  const int x = (int)(pix % W), y = (int)(pix / W);
  out[plane + pix] = gauss_px(SladdGaussCol{tmp + plane + x, W}, H, y, taps, R) * scale;
}

// uniform_noise: blockIdx.y = sample, one thread per value of the sample's field (n = C * H * W values,
// i = c * H * W + y * W + x < 2^32): common/noise_math.h uniform_noise_px of the sample's seed and i.
__global__ void sladd_uniform_noise_kernel(const long long* seeds, float* out, long long n) {
  using namespace sladd;
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const long long b = blockIdx.y;
  out[b * n + i] = uniform_noise_px(noise_key(seeds[b]), (u32)i);
}

// remap_nearest: blockIdx.y = sample, one thread per output pixel (Ho * Wo of them), all C channels: the
// source offset once (common/remap_math.h remap_source over the sample's tables), then one read and one
// write per channel (consecutive threads write consecutive pixels of each plane). relative != 0: the map
// holds displacements, added to the pixel's own coordinates in float32.
__global__ void sladd_remap_nearest_kernel(const float* input, const float* map, const long long* col_table,
                                           const long long* row_table, float* out, int C, int H, int W, int Ho,
                                           int Wo, int Wt, int Ht, int relative) {
  using namespace sladd;
  const long long HWo = (long long)Ho * Wo;
  const long long pix = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (pix >= HWo) return;
  const long long b = blockIdx.y;
  const float* mx = map + b * 2 * HWo + pix;
  float fx = mx[0], fy = mx[HWo];
  if (relative) {
    fx = (float)(int)(pix % Wo) + fx;
    fy = (float)(int)(pix / Wo) + fy;
  }
  const long long src = remap_source(fx, fy, col_table + b * Wt, row_table + b * Ht, Wt, Ht, W, H);
  const long long HW = (long long)H * W;
  for (int c = 0; c < C; ++c) {
    const long long plane = b * C + c;
    out[plane * HWo + pix] = src < 0 ? 0.0f : input[plane * HW + src];
  }
}

// warp_linear_u8: blockIdx.y = sample, one thread per output pixel (Ho * Wo of them), all C channels:
// common/warp_u8_math.h warp_u8_px over the pixel's two column taps (col_index, col_weight [B,Wo,2]) and
// two row taps (row_index, row_weight [B,Ho,2]); consecutive threads write consecutive pixels of each
// plane. H, W >= 1: with no rows or columns bindings.cu and _jit.py zero the output instead of launching.
__global__ void sladd_warp_linear_u8_kernel(const unsigned char* input, const long long* col_index,
                                            const long long* col_weight, const long long* row_index,
                                            const long long* row_weight, unsigned char* out, int C, int H, int W,
                                            int Ho, int Wo) {
  using namespace sladd;
  const long long HWo = (long long)Ho * Wo;
  const long long pix = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (pix >= HWo) return;
  const long long b = blockIdx.y;
  const long long ct = (b * Wo + pix % Wo) * kWarpU8Taps, rt = (b * Ho + pix / Wo) * kWarpU8Taps;
  const long long HW = (long long)H * W;
  for (int c = 0; c < C; ++c) {
    const long long plane = b * C + c;
    out[plane * HWo + pix] =
        warp_u8_px(input + plane * HW, H, W, col_index + ct, col_weight + ct, row_index + rt, row_weight + rt);
  }
}

// piecewise_affine_grid: blockIdx.y = sample, one thread per output pixel (canvas * canvas of them):
// common/piecewise_math.h piecewise_px over the sample's targets tx, ty [B,4,4], step [B] and diagonals
// main [B,9] (bool), writing the pixel's (x, y) to out [B,canvas,canvas,2]. canvas <= 46340 (checked): x, y fit int.
__global__ void sladd_piecewise_affine_grid_kernel(const float* tx, const float* ty, const float* step,
                                                   const bool* main, float* out, int canvas) {
  using namespace sladd;
  const long long n = (long long)canvas * canvas;
  const long long pix = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (pix >= n) return;
  const long long b = blockIdx.y;
  constexpr int kTargets = kPiecewiseMesh * kPiecewiseMesh, kCells = (kPiecewiseMesh - 1) * (kPiecewiseMesh - 1);
  piecewise_px(tx + b * kTargets, ty + b * kTargets, step[b], main + b * kCells, (int)(pix % canvas),
               (int)(pix / canvas), canvas, out + (b * n + pix) * 2);
}

// color_stats, pass 1: one thread per (sample, column) sums the column's pixels inside the sample's box
// in registers, then writes partials double [B, kColorStats, W] (columns outside the box get the
// identities). A warp reads consecutive pixels of a row and writes consecutive partials. No atomics:
// the result does not depend on thread order.
__global__ void sladd_color_stats_cols_kernel(const unsigned char* fake, const unsigned char* real, const float* mask,
                                              const long long* mode, const long long* box, double* partials, int H,
                                              int W) {
  using namespace sladd;
  const long long x = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (x >= W) return;
  const int b = blockIdx.y;
  const long long HW = (long long)H * W;
  double acc[kColorStats];
  color_stats_init(acc);
  const Box r = clipped_box(box + 4 * b, H, W);
  if (x >= r.x && x < r.x + r.w) {
    const unsigned char* F = fake + (long long)b * 3 * HW;
    const unsigned char* R = real + (long long)b * 3 * HW;
    const int md = code_of(mode[b]);
    for (int y = r.y; y < r.y + r.h; ++y) {
      const long long p = (long long)y * W + x;
      color_stats_px(md, F, R, mask[(long long)b * HW + p], HW, p, nullptr, acc);
    }
  }
  double* out = partials + (long long)b * kColorStats * W + x;
  for (int k = 0; k < kColorStats; ++k) out[(long long)k * W] = acc[k];
}

// color_stats, pass 2: one block per sample (grid x = 1). Thread t < kColorStats * kColorSumSplit
// combines statistic t / kColorSumSplit over every kColorSumSplit-th column from t % kColorSumSplit;
// then thread k < kColorStats combines statistic k's kColorSumSplit parts. Exact integer sums and
// extremes, so the grouping gives the CPU kernel's values (a thread per statistic walked all W columns).
__global__ void sladd_color_stats_sum_kernel(const double* partials, double* stats, int W) {
  using namespace sladd;
  constexpr int kColorSumSplit = kThreads / kColorStats;
  static_assert(kColorSumSplit >= 1, "a block holds a thread per statistic at least");
  __shared__ double part[kColorStats * kColorSumSplit];
  const int b = blockIdx.y, t = threadIdx.x;
  const int k = t / kColorSumSplit, j = t % kColorSumSplit;
  if (k < kColorStats) {
    const double* p = partials + ((long long)b * kColorStats + k) * W;
    double v = color_stat_identity(k);  // the CPU kernel's start too, so no columns gives the identities
    for (long long x = j; x < W; x += kColorSumSplit) v = color_stat_combine(k, v, p[x]);
    part[t] = v;
  }
  __syncthreads();
  if (t < kColorStats) {
    double v = color_stat_identity(t);
    for (int i = 0; i < kColorSumSplit; ++i) v = color_stat_combine(t, v, part[t * kColorSumSplit + i]);
    stats[(long long)b * kColorStats + t] = v;
  }
}

// color_apply: one thread per pixel writes its 3 channels.
__global__ void sladd_color_apply_kernel(const unsigned char* fake, const unsigned char* real, const float* mask,
                                         const long long* mode, const double* stats, const unsigned char* blurred,
                                         const long long* blur_row, int n_blurred, unsigned char* out,
                                         long long HW) {
  using namespace sladd;
  const long long p = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (p >= HW) return;
  const int b = blockIdx.y;
  const ColorParams q = color_params(code_of(mode[b]), stats + (long long)b * kColorStats, HW);
  const long long row = blur_row[b];
  const unsigned char* blb = row >= 0 && row < n_blurred ? blurred + row * 6 * HW : nullptr;
  unsigned char px[3];
  color_apply_px(q, fake + (long long)b * 3 * HW, real + (long long)b * 3 * HW, mask[(long long)b * HW + p], blb,
                 HW, p, nullptr, px);
  for (int c = 0; c < 3; ++c) out[((long long)b * 3 + c) * HW + p] = px[c];
}

}  // extern "C"
