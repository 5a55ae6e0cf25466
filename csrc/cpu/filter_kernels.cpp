// CPU backends of morph_square, warp_affine_cubic, blur_in_box, resample_taps and resize_u8: loops over
// common/morph_math.h, common/warp_math.h, common/blur_math.h and common/resample_math.h.
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <vector>

#include "../common/blur_math.h"
#include "../common/gauss_math.h"
#include "../common/morph_math.h"
#include "../common/resample_math.h"
#include "../common/warp_math.h"
#include "../checks.h"
#include "isa.h"

namespace sladd {
namespace {

at::Tensor morph_square_forward_kernel(const at::Tensor& mask_in, const at::Tensor& op_in, const at::Tensor& k_in) {
  check_morph_square(mask_in, op_in, k_in);
  const int64_t B = mask_in.size(0), H = mask_in.size(2), W = mask_in.size(3);
  const at::Tensor mask = mask_in.contiguous(), op = op_in.contiguous(), k = k_in.contiguous();
  const float* m = mask.data_ptr<float>();
  const int64_t* opp = op.data_ptr<int64_t>();
  const int64_t* kp = k.data_ptr<int64_t>();
  std::vector<u8> in(B * H * W), rows(B * H * W), cols(B * H * W);
  at::Tensor out = at::empty_like(mask);
  float* o = out.data_ptr<float>();
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    std::vector<int> dist(H > W ? H : W);
    for (int64_t b = b0; b < b1; ++b) {
      const int o_b = code_of(opp[b]), r = morph_radius(kp[b], (int)(H > W ? H : W));
      const int64_t base = b * H * W;
      for (int64_t i = 0; i < H * W; ++i) in[base + i] = morph_input(m[base + i], o_b);
      for (int64_t y = 0; y < H; ++y)
        dilate_line(&in[base + y * W], 1, &rows[base + y * W], 1, dist.data(), (int)W, r);
      for (int64_t x = 0; x < W; ++x)
        dilate_line(&rows[base + x], (int)W, &cols[base + x], (int)W, dist.data(), (int)H, r);
      for (int64_t i = 0; i < H * W; ++i) o[base + i] = morph_output(cols[base + i], m[base + i], o_b);
    }
  });
  return out;
}

// Rows of each sample's box only; the rest of the output is 0 (written once, not filled first).
// Compiled twice on x86-64 (baseline SSE2 and AVX2, no FMA: the same float steps, so the same values).
template <typename T>
inline __attribute__((always_inline)) void warp_cubic_rows(const T* in, const float* mp, const long long* bx, T* o,
                                                           int64_t C, int64_t H, int64_t W, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t b = r / H, y = r % H;
    const Box bb = clipped_box(bx + 4 * b, (int)H, (int)W);
    const bool row_in = bb.contains(bb.x, (int)y);
    const int64_t x0 = row_in ? bb.x : W, x1 = row_in ? bb.x + bb.w : W;
    for (int64_t c = 0; c < C; ++c) {
      T* line = o + ((b * C + c) * H + y) * W;
      std::fill(line, line + x0, T(0));
      std::fill(line + x1, line + W, T(0));
    }
    for (int64_t x = x0; x < x1; ++x) {
      CubicTaps t;
      cubic_taps(mp + b * 6, (int)x, (int)y, (int)H, (int)W, &t);
      cubic_sample_channels(in + b * C * H * W, H * W, (int)C, (int)W, t, o + (b * C * H + y) * W + x, H * W);
    }
  }
}

template <typename T>
void warp_cubic_rows_base(const T* in, const float* mp, const long long* bx, T* o, int64_t C, int64_t H, int64_t W,
                          int64_t r0, int64_t r1) {
  warp_cubic_rows(in, mp, bx, o, C, H, W, r0, r1);
}
#if SLADD_X86_DISPATCH
template <typename T>
__attribute__((target("avx2"))) void warp_cubic_rows_avx2(const T* in, const float* mp, const long long* bx, T* o,
                                                          int64_t C, int64_t H, int64_t W, int64_t r0, int64_t r1) {
  warp_cubic_rows(in, mp, bx, o, C, H, W, r0, r1);
}
#else
template <typename T>
void warp_cubic_rows_avx2(const T* in, const float* mp, const long long* bx, T* o, int64_t C, int64_t H, int64_t W,
                          int64_t r0, int64_t r1) {
  warp_cubic_rows(in, mp, bx, o, C, H, W, r0, r1);
}
#endif

template <typename T>
void warp_affine_cubic_loop(const T* in, const float* mp, const long long* bx, T* o, int64_t B, int64_t C,
                            int64_t H, int64_t W) {
  const bool avx2 = cpu_use_avx2();
  at::parallel_for(0, B * H, 8, [&](int64_t r0, int64_t r1) {
    avx2 ? warp_cubic_rows_avx2(in, mp, bx, o, C, H, W, r0, r1) : warp_cubic_rows_base(in, mp, bx, o, C, H, W, r0, r1);
  });
}

at::Tensor warp_affine_cubic_forward_kernel(const at::Tensor& input_in, const at::Tensor& map_in,
                                            const at::Tensor& box_in) {
  check_warp_affine_cubic(input_in, map_in, box_in);
  const int64_t B = input_in.size(0), C = input_in.size(1), H = input_in.size(2), W = input_in.size(3);
  const at::Tensor input = input_in.contiguous(), map = map_in.contiguous(), box = box_in.contiguous();
  at::Tensor out = at::empty_like(input);  // uint8 in, uint8 out (saturated), as cv2.warpAffine
  const float* mp = map.data_ptr<float>();
  const long long* bx = reinterpret_cast<const long long*>(box.data_ptr<int64_t>());
  if (input.scalar_type() == at::kByte)
    warp_affine_cubic_loop(input.data_ptr<u8>(), mp, bx, out.data_ptr<u8>(), B, C, H, W);
  else
    warp_affine_cubic_loop(input.data_ptr<float>(), mp, bx, out.data_ptr<float>(), B, C, H, W);
  return out;
}

// One (sample, channel) plane per task: the horizontal pass row by row from a padded line into a
// box-sized buffer, then the vertical pass row by row (taps outermost, vectorised over the row). A uint8
// input is read as float and the result rounded back to uint8 (blur_round_u8).
// Like resample_taps below, the loops are compiled twice on x86-64 (baseline SSE2 and AVX2, no FMA:
// the same products added in the same order, so both give the reference's values exactly) and the
// AVX2 copy is picked at run time (cpu/isa.h).
struct BlurArgs {
  const float* in;  // float32 input, or
  const u8* in_u8;  // uint8 input (then the output is uint8 too: out_u8)
  const float* kp;
  const int64_t* rp;
  const int64_t* bp;
  float* out;
  u8* out_u8;
  int64_t C, H, W;
  int K;
};

template <typename T>
inline __attribute__((always_inline)) void blur_planes_typed(const BlurArgs& a, const T* in, int64_t p0, int64_t p1) {
  std::vector<float> tmp, line, acc;
  const int64_t C = a.C, H = a.H, W = a.W;
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t b = p / C;
    const Box bb = clipped_box(reinterpret_cast<const long long*>(a.bp) + 4 * b, (int)H, (int)W);
    if (bb.empty()) continue;
    const int bx = bb.x, by = bb.y, bw = bb.w, bh = bb.h;
    const int r = blur_radius(a.rp[b], a.K);
    const float* g = a.kp + b * a.K + a.K / 2;
    const T* plane = in + p * H * W;
    tmp.assign((size_t)bw * bh, 0.0f);
    line.resize((size_t)bw + 2 * r);
    for (int y = 0; y < bh; ++y) {
      const T* row = plane + (int64_t)(by + y) * W;
      for (int j = 0; j < bw + 2 * r; ++j) line[j] = blur_row_value(row, (int)W, bx, bw, bx - r + j);
      blur_padded_line(line.data(), g, r, bw, &tmp[(size_t)y * bw]);
    }
    acc.resize(bw);
    for (int y = 0; y < bh; ++y) {
      for (int i = 0; i < bw; ++i) acc[i] = 0.0f;
      for (int t = -r; t <= r; ++t) {  // blur_v_px's order: taps ascending, rows outside the box skipped
        const int k = reflect101_index(by + y + t, (int)H);
        if (!in_span(k, by, bh)) continue;
        const float w = g[t];
        const float* src = &tmp[(size_t)(k - by) * bw];
        for (int i = 0; i < bw; ++i) acc[i] = acc[i] + w * src[i];
      }
      const int64_t o = p * H * W + (int64_t)(by + y) * W + bx;
      if (a.out_u8 != nullptr)
        for (int i = 0; i < bw; ++i) a.out_u8[o + i] = blur_round_u8(acc[i]);
      else
        std::copy(acc.begin(), acc.end(), a.out + o);
    }
  }
}

inline __attribute__((always_inline)) void blur_planes_range(const BlurArgs& a, int64_t p0, int64_t p1) {
  if (a.in_u8 != nullptr)
    blur_planes_typed(a, a.in_u8, p0, p1);
  else
    blur_planes_typed(a, a.in, p0, p1);
}

void blur_planes_base(const BlurArgs& a, int64_t p0, int64_t p1) { blur_planes_range(a, p0, p1); }
#if SLADD_X86_DISPATCH
__attribute__((target("avx2"))) void blur_planes_avx2(const BlurArgs& a, int64_t p0, int64_t p1) {
  blur_planes_range(a, p0, p1);
}
#else
void blur_planes_avx2(const BlurArgs& a, int64_t p0, int64_t p1) { blur_planes_base(a, p0, p1); }
#endif

at::Tensor blur_in_box_forward_kernel(const at::Tensor& input_in, const at::Tensor& kernels_in,
                                      const at::Tensor& radius_in, const at::Tensor& box_in) {
  check_blur_in_box(input_in, kernels_in, radius_in, box_in);
  const int64_t B = input_in.size(0), C = input_in.size(1), H = input_in.size(2), W = input_in.size(3);
  const at::Tensor input = input_in.contiguous(), kernels = kernels_in.contiguous();
  const at::Tensor radius = radius_in.contiguous(), box = box_in.contiguous();
  at::Tensor out = at::zeros_like(input);
  const bool u8_in = input.scalar_type() == at::kByte;
  const BlurArgs a{u8_in ? nullptr : input.data_ptr<float>(), u8_in ? input.data_ptr<u8>() : nullptr,
                   kernels.data_ptr<float>(), radius.data_ptr<int64_t>(), box.data_ptr<int64_t>(),
                   u8_in ? nullptr : out.data_ptr<float>(), u8_in ? out.data_ptr<u8>() : nullptr, C, H, W,
                   (int)kernels.size(1)};
  const bool avx2 = cpu_use_avx2();
  at::parallel_for(0, B * C, 1, [&](int64_t p0, int64_t p1) {
    avx2 ? blur_planes_avx2(a, p0, p1) : blur_planes_base(a, p0, p1);
  });
  return out;
}

// resample_taps. The taps of every output are compacted first (zero weights dropped, indices clamped
// and scaled: common/resample_math.h), then summed over vectors of consecutive outputs:
//   axis 2: one task per output row (b, o), every channel; the row is a sum of whole input rows,
//           vectorised along x.
//   axis 3: one task per strip of kResampleStrip rows of one (b, c) plane. The strip is transposed
//           (input column x -> kResampleStrip consecutive floats), each output column is then a sum of
//           transposed columns, vectorised over the strip's rows, and the result is transposed back.
// x86-64 builds target the baseline ISA (SSE2); the loops are compiled a second time for AVX2 and
// picked at run time (cpu/isa.h: SLADD_FAST_NO_AVX2=1 keeps the baseline). Neither uses FMA (-ffp-contract=off,
// and target "avx2" does not enable it), so every version gives resample_taps_px's values exactly.
typedef float F32x4 __attribute__((vector_size(16)));
typedef float F32x8 __attribute__((vector_size(32)));

struct Resample {
  const float* in;
  const long long* off;  // [B*O, T] compacted taps
  const float* wt;       // [B*O, T]
  const int* count;      // [B*O]
  float* out;
  int64_t C, H, W, O, T;
};

// out[i] for i < len from the compacted taps of one output line (whole tiles, then single vectors,
// then scalars).
template <typename V, int NV>
inline __attribute__((always_inline)) void resample_line(const float* src, const long long* off, const float* wt,
                                                         int k, int64_t len, float* out) {
  constexpr int kLanes = (int)(sizeof(V) / sizeof(float));
  int64_t i = 0;
  for (; i + kLanes * NV <= len; i += kLanes * NV) resample_compact_tile<V, NV>(src + i, off, wt, k, out + i);
  for (; i + kLanes <= len; i += kLanes) resample_compact_tile<V, 1>(src + i, off, wt, k, out + i);
  for (; i < len; ++i) out[i] = resample_compact_px(src + i, off, wt, k);
}

template <typename V, int NV>
inline __attribute__((always_inline)) void resample_rows_range(const Resample& r, int64_t r0, int64_t r1) {
  for (int64_t row = r0; row < r1; ++row) {
    const int64_t b = row / r.O, o = row % r.O;
    const long long* off = r.off + row * r.T;
    const float* wt = r.wt + row * r.T;
    for (int64_t c = 0; c < r.C; ++c)
      resample_line<V, NV>(r.in + (b * r.C + c) * r.H * r.W, off, wt, r.count[row], r.W,
                           r.out + ((b * r.C + c) * r.O + o) * r.W);
  }
}

template <typename V>
inline __attribute__((always_inline)) void resample_cols_range(const Resample& r, int64_t p0, int64_t p1) {
  constexpr int S = kResampleStrip, kLanes = (int)(sizeof(V) / sizeof(float));
  static_assert(S % kLanes == 0, "a strip is a whole number of vectors");
  const int64_t strips = (r.H + S - 1) / S, W = r.W, O = r.O;
  std::vector<float> cols((size_t)W * S), res((size_t)O * S);
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t plane = p / strips, y0 = (p % strips) * S, b = plane / r.C;
    const int rows = (int)std::min<int64_t>(S, r.H - y0);
    const float* src = r.in + (plane * r.H + y0) * W;
    if (rows < S) std::fill(cols.begin(), cols.end(), 0.0f);  // lanes past the last row: summed, not stored
    for (int j = 0; j < rows; ++j)
      for (int64_t x = 0; x < W; ++x) cols[x * S + j] = src[j * W + x];
    for (int64_t o = 0; o < O; ++o) {
      const int64_t q = b * O + o;
      resample_compact_tile<V, S / kLanes>(cols.data(), r.off + q * r.T, r.wt + q * r.T, r.count[q], &res[o * S]);
    }
    float* dst = r.out + (plane * r.H + y0) * O;
    for (int j = 0; j < rows; ++j)
      for (int64_t o = 0; o < O; ++o) dst[j * O + o] = res[o * S + j];
  }
}

void resample_rows_base(const Resample& r, int64_t r0, int64_t r1) { resample_rows_range<F32x4, 4>(r, r0, r1); }
void resample_cols_base(const Resample& r, int64_t p0, int64_t p1) { resample_cols_range<F32x4>(r, p0, p1); }

#if SLADD_X86_DISPATCH
__attribute__((target("avx2"))) void resample_rows_avx2(const Resample& r, int64_t r0, int64_t r1) {
  resample_rows_range<F32x8, 4>(r, r0, r1);
}
__attribute__((target("avx2"))) void resample_cols_avx2(const Resample& r, int64_t p0, int64_t p1) {
  resample_cols_range<F32x8>(r, p0, p1);
}
#else
void resample_rows_avx2(const Resample& r, int64_t r0, int64_t r1) { resample_rows_base(r, r0, r1); }
void resample_cols_avx2(const Resample& r, int64_t p0, int64_t p1) { resample_cols_base(r, p0, p1); }
#endif

at::Tensor resample_taps_forward_kernel(const at::Tensor& input_in, const at::Tensor& index_in,
                                        const at::Tensor& weight_in, int64_t axis) {
  check_resample_taps(input_in, index_in, weight_in, axis);
  const int64_t B = input_in.size(0), C = input_in.size(1), H = input_in.size(2), W = input_in.size(3);
  const int64_t O = index_in.size(1), T = index_in.size(2);
  const at::Tensor input = input_in.contiguous(), index = index_in.contiguous(), weight = weight_in.contiguous();
  at::Tensor out = axis == 2 ? at::empty({B, C, O, W}, input.options()) : at::empty({B, C, H, O}, input.options());
  if (out.numel() == 0) return out;
  const int n = (int)(axis == 2 ? H : W);                 // the resampled axis' length
  const long long stride = axis == 2 ? W : kResampleStrip;  // between its elements: rows, or a strip's columns
  std::vector<long long> off((size_t)(B * O * T));
  std::vector<float> wt((size_t)(B * O * T));
  std::vector<int> count((size_t)(B * O));
  const long long* idx = reinterpret_cast<const long long*>(index.data_ptr<int64_t>());
  const float* w = weight.data_ptr<float>();
  at::parallel_for(0, B * O, 256, [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q)
      count[q] = resample_compact_taps(idx + q * T, w + q * T, (int)T, n, stride, off.data() + q * T,
                                       wt.data() + q * T);
  });
  const Resample r{input.data_ptr<float>(), off.data(), wt.data(), count.data(), out.data_ptr<float>(), C, H, W, O, T};
  const bool avx2 = cpu_use_avx2();
  if (axis == 2) {
    at::parallel_for(0, B * O, 16, [&](int64_t r0, int64_t r1) {
      avx2 ? resample_rows_avx2(r, r0, r1) : resample_rows_base(r, r0, r1);
    });
  } else {
    at::parallel_for(0, B * C * ((H + kResampleStrip - 1) / kResampleStrip), 4, [&](int64_t p0, int64_t p1) {
      avx2 ? resample_cols_avx2(r, p0, p1) : resample_cols_base(r, p0, p1);
    });
  }
  return out;
}

// resize_u8: both passes per (b, c) plane with the uint8 read and the library's rounding
// (common/resample_math.h: resize_mid, resize_clamp_255) fused in, restricted to what the result
// depends on: the first pass (columns, as resample_taps axis 3) only over the input rows that the
// second reads (those its nonzero taps index) and only for the outputs that have taps; the second
// (rows, as axis 2) only over those outputs' rows and columns. The rest of the output is 0, as the
// whole-canvas passes gave it (no taps: an empty sum). Face X-ray's resizes put an n x n image in an
// S x S canvas, so this skips up to (1 - n/S) of each pass. The same products in the same order: the
// same values as resample_taps twice.
struct ResizeU8 {
  const u8* in;
  const long long* off_c;  // [B*O, T] columns pass: n = W, stride kResampleStrip (a transposed strip)
  const float* wt_c;
  const int* count_c;
  const long long* off_r;  // [B*O, T] rows pass: n = H, stride O (a row of the first pass' result)
  const float* wt_r;
  const int* count_r;
  const int64_t* rows_in;  // [B] input rows the rows pass reads: 0 .. rows_in - 1
  const int64_t* outs;     // [B] outputs with taps: 0 .. outs - 1
  u8* out;
  int64_t C, H, W, O, T;
  int mode;
};

template <typename V>
inline __attribute__((always_inline)) void resize_u8_planes(const ResizeU8& r, int64_t p0, int64_t p1) {
  constexpr int S = kResampleStrip, kLanes = (int)(sizeof(V) / sizeof(float));
  static_assert(S % kLanes == 0, "a strip is a whole number of vectors");
  const int64_t H = r.H, W = r.W, O = r.O;
  std::vector<float> cols((size_t)W * S), res((size_t)O * S), mid((size_t)H * O), line((size_t)O);
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t b = p / r.C, rows_in = r.rows_in[b], outs = r.outs[b];
    for (int64_t y0 = 0; y0 < rows_in; y0 += S) {  // mid[y, o] for y < rows_in, o < outs
      const int rows = (int)std::min<int64_t>(S, H - y0);
      const u8* src = r.in + (p * H + y0) * W;
      if (rows < S) std::fill(cols.begin(), cols.end(), 0.0f);  // lanes past the last row: summed, not stored
      for (int j = 0; j < rows; ++j)
        for (int64_t x = 0; x < W; ++x) cols[x * S + j] = (float)src[j * W + x];
      for (int64_t o = 0; o < outs; ++o) {
        const int64_t q = b * O + o;
        resample_compact_tile<V, S / kLanes>(cols.data(), r.off_c + q * r.T, r.wt_c + q * r.T, r.count_c[q],
                                             &res[o * S]);
      }
      for (int j = 0; j < rows; ++j)
        for (int64_t o = 0; o < outs; ++o) mid[(y0 + j) * O + o] = resize_mid(res[o * S + j], r.mode);
    }
    u8* dst = r.out + p * O * O;
    for (int64_t o = 0; o < O; ++o) {
      u8* row = dst + o * O;
      int64_t done = 0;
      if (o < outs) {
        const int64_t q = b * O + o;
        resample_line<V, 4>(mid.data(), r.off_r + q * r.T, r.wt_r + q * r.T, r.count_r[q], outs, line.data());
        for (; done < outs; ++done) row[done] = (u8)(int)resize_clamp_255(line[done], r.mode);
      }
      std::fill(row + done, row + O, (u8)0);
    }
  }
}

void resize_u8_base(const ResizeU8& r, int64_t p0, int64_t p1) { resize_u8_planes<F32x4>(r, p0, p1); }
#if SLADD_X86_DISPATCH
__attribute__((target("avx2"))) void resize_u8_avx2(const ResizeU8& r, int64_t p0, int64_t p1) {
  resize_u8_planes<F32x8>(r, p0, p1);
}
#else
void resize_u8_avx2(const ResizeU8& r, int64_t p0, int64_t p1) { resize_u8_base(r, p0, p1); }
#endif

at::Tensor resize_u8_forward_kernel(const at::Tensor& input_in, const at::Tensor& index_in, const at::Tensor& weight_in,
                                    int64_t mode) {
  check_resize_u8(input_in, index_in, weight_in, mode);
  const int64_t B = input_in.size(0), C = input_in.size(1), H = input_in.size(2), W = input_in.size(3);
  const int64_t O = index_in.size(1), T = index_in.size(2);
  if (B * C * O == 0 || H == 0 || W == 0 || T == 0) return at::zeros({B, C, O, O}, input_in.options());  // no reads
  at::Tensor out = at::empty({B, C, O, O}, input_in.options());  // every row written below
  const at::Tensor input = input_in.contiguous(), index = index_in.contiguous(), weight = weight_in.contiguous();
  const size_t n = (size_t)(B * O * T);
  std::vector<long long> off_c(n), off_r(n);
  std::vector<float> wt_c(n), wt_r(n);
  std::vector<int> count_c((size_t)(B * O)), count_r((size_t)(B * O));
  std::vector<int64_t> rows_in((size_t)B), outs((size_t)B);
  const long long* idx = reinterpret_cast<const long long*>(index.data_ptr<int64_t>());
  const float* w = weight.data_ptr<float>();
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      int64_t last_row = -1, last_out = -1;
      for (int64_t o = 0; o < O; ++o) {
        const int64_t q = b * O + o;
        count_c[q] = resample_compact_taps(idx + q * T, w + q * T, (int)T, (int)W, kResampleStrip,
                                           off_c.data() + q * T, wt_c.data() + q * T);
        count_r[q] = resample_compact_taps(idx + q * T, w + q * T, (int)T, (int)H, O, off_r.data() + q * T,
                                           wt_r.data() + q * T);
        if (count_r[q] > 0) last_out = o;
        for (int k = 0; k < count_r[q]; ++k) last_row = std::max<int64_t>(last_row, off_r[q * T + k] / O);
      }
      rows_in[b] = last_row + 1;
      outs[b] = last_out + 1;
    }
  });
  const ResizeU8 r{input.data_ptr<u8>(), off_c.data(), wt_c.data(), count_c.data(), off_r.data(), wt_r.data(),
                   count_r.data(), rows_in.data(), outs.data(), out.data_ptr<u8>(), C, H, W, O, T, (int)mode};
  const bool avx2 = cpu_use_avx2();
  at::parallel_for(0, B * C, 1, [&](int64_t p0, int64_t p1) {
    avx2 ? resize_u8_avx2(r, p0, p1) : resize_u8_base(r, p0, p1);
  });
  return out;
}

// gaussian_filter: one task per plane. Each output keeps common/gauss_math.h's order (the centre product,
// then the pairs t = 1..R ascending, each a sum and a fused multiply-add) with the taps outermost and a
// tile of NV vectors of consecutive outputs in registers: the AVX2 + FMA copy uses vfmadd, the baseline
// copy libm's fmaf lane by lane (both exactly rounded). Rows pass over a row padded by R reflected
// samples each side, columns pass row by row over the rows pass' plane (the 2R + 1 row pointers set once
// per output row; strips of one tile, top to bottom, measured slower).
struct GaussArgs {
  const float* in;
  const float* taps;
  float* out;
  int64_t H, W;
  int R;
  float scale;
};

// acc + a * b lane by lane with one rounding (fmaf): in the AVX2 + FMA copy g++ turns the lanes into one
// vfmadd.
template <typename V>
inline __attribute__((always_inline)) V gauss_vfma(float a, V b, V c) {
  constexpr int kLanes = (int)(sizeof(V) / sizeof(float));
  for (int k = 0; k < kLanes; ++k) c[k] = fmaf(a, b[k], c[k]);
  return c;
}

// Outputs i .. i + n - 1 of one pass: c the centre line, lo[t] / hi[t] the lines t before and after it
// (all indexed by the output position), out[i + j] = acc * scale; n = a whole tile, or fewer (a tail,
// one output at a time, the same sums).
template <typename V, int NV>
inline __attribute__((always_inline)) void gauss_tile(const float* c, const float* const* lo, const float* const* hi,
                                                      const float* w, int R, int64_t i, int64_t n, float scale,
                                                      float* out) {
  constexpr int kLanes = (int)(sizeof(V) / sizeof(float));
  if (n == kLanes * NV) {
    V acc[NV];
    for (int j = 0; j < NV; ++j) {
      V v;
      __builtin_memcpy(&v, c + i + kLanes * j, sizeof v);
      acc[j] = w[0] * v;
    }
    for (int t = 1; t <= R; ++t) {
      const float wt = w[t];
      for (int j = 0; j < NV; ++j) {
        V a, b;
        __builtin_memcpy(&a, lo[t] + i + kLanes * j, sizeof a);
        __builtin_memcpy(&b, hi[t] + i + kLanes * j, sizeof b);
        acc[j] = gauss_vfma(wt, a + b, acc[j]);
      }
    }
    for (int j = 0; j < NV; ++j) acc[j] = acc[j] * scale;
    __builtin_memcpy(out + i, acc, sizeof acc);
    return;
  }
  for (int64_t j = i; j < i + n; ++j) {
    float v = w[0] * c[j];
    for (int t = 1; t <= R; ++t) v = fmaf(w[t], lo[t][j] + hi[t][j], v);
    out[j] = v * scale;
  }
}

template <typename V, int NV>
inline __attribute__((always_inline)) void gauss_planes_range(const GaussArgs& a, int64_t p0, int64_t p1) {
  constexpr int64_t kTile = (int64_t)(sizeof(V) / sizeof(float)) * NV;
  const int H = (int)a.H, W = (int)a.W, R = a.R;
  const float* w = a.taps;
  std::vector<float> pad((size_t)W + 2 * (size_t)R), tmp((size_t)H * W);
  std::vector<const float*> lo((size_t)R + 1), hi((size_t)R + 1);
  std::vector<int> xs(2 * (size_t)R), ys((size_t)H + 2 * (size_t)R);  // reflected indices, once
  for (int j = 0; j < R; ++j) {
    xs[j] = gauss_reflect((long long)j - R, W);
    xs[R + j] = gauss_reflect((long long)W + j, W);
  }
  for (int j = 0; j < H + 2 * R; ++j) ys[j] = gauss_reflect((long long)j - R, H);
  for (int64_t p = p0; p < p1; ++p) {
    const float* plane = a.in + p * a.H * a.W;
    const float* c = pad.data() + R;
    for (int t = 1; t <= R; ++t) {
      lo[t] = c - t;
      hi[t] = c + t;
    }
    for (int y = 0; y < H; ++y) {
      const float* row = plane + (int64_t)y * W;
      for (int j = 0; j < R; ++j) {
        pad[j] = row[xs[j]];
        pad[R + W + j] = row[xs[R + j]];
      }
      std::copy(row, row + W, pad.begin() + R);
      float* d = tmp.data() + (int64_t)y * W;
      for (int64_t i = 0; i < W; i += kTile)
        gauss_tile<V, NV>(c, lo.data(), hi.data(), w, R, i, std::min<int64_t>(kTile, W - i), 1.0f, d);
    }
    float* dst = a.out + p * a.H * a.W;
    for (int y = 0; y < H; ++y) {
      for (int t = 1; t <= R; ++t) {
        lo[t] = tmp.data() + (int64_t)ys[y - t + R] * W;
        hi[t] = tmp.data() + (int64_t)ys[y + t + R] * W;
      }
      for (int64_t i = 0; i < W; i += kTile)
        gauss_tile<V, NV>(tmp.data() + (int64_t)y * W, lo.data(), hi.data(), w, R, i, std::min<int64_t>(kTile, W - i),
                          a.scale, dst + (int64_t)y * W);
    }
  }
}

void gauss_planes_base(const GaussArgs& a, int64_t p0, int64_t p1) { gauss_planes_range<F32x4, 4>(a, p0, p1); }
#if SLADD_X86_DISPATCH
__attribute__((target("avx2,fma"))) void gauss_planes_avx2(const GaussArgs& a, int64_t p0, int64_t p1) {
  gauss_planes_range<F32x8, 4>(a, p0, p1);
}
#else
void gauss_planes_avx2(const GaussArgs& a, int64_t p0, int64_t p1) { gauss_planes_base(a, p0, p1); }
#endif

at::Tensor gaussian_filter_forward_kernel(const at::Tensor& input_in, const at::Tensor& taps_in, double scale) {
  check_gaussian_filter(input_in, taps_in);
  const at::Tensor input = input_in.contiguous(), taps = taps_in.contiguous();
  at::Tensor out = at::empty_like(input);
  if (out.numel() == 0) return out;
  const int64_t B = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
  const GaussArgs a{input.data_ptr<float>(), taps.data_ptr<float>(), out.data_ptr<float>(), H, W,
                    (int)(taps.size(0) - 1), (float)scale};
  const bool fma = cpu_use_avx2_fma();
  at::parallel_for(0, B * C, 1, [&](int64_t p0, int64_t p1) {
    fma ? gauss_planes_avx2(a, p0, p1) : gauss_planes_base(a, p0, p1);
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CPU, m) {
  m.impl("morph_square", &morph_square_forward_kernel);
  m.impl("warp_affine_cubic", &warp_affine_cubic_forward_kernel);
  m.impl("blur_in_box", &blur_in_box_forward_kernel);
  m.impl("resample_taps", &resample_taps_forward_kernel);
  m.impl("resize_u8", &resize_u8_forward_kernel);
  m.impl("gaussian_filter", &gaussian_filter_forward_kernel);
}

}  // namespace sladd
