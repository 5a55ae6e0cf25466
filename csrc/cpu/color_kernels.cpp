// CPU backends of rgb_to_lab, lab_to_rgb, color_stats, color_apply and hsv_shift: loops over
// common/color_math.h, common/color_transfer_math.h and common/hsv_math.h.
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>

#include "../checks.h"
#include "../common/color_math.h"
#include "../common/color_transfer_math.h"
#include "../common/hsv_math.h"
#include "isa.h"

namespace sladd {
namespace {

constexpr int64_t kGrain = 4096;  // pixels per parallel task

at::Tensor rgb_to_lab_forward_kernel(const at::Tensor& rgb_in) {
  check_color_planes(rgb_in, at::kByte, "rgb");
  const at::Tensor rgb = rgb_in.contiguous();
  at::Tensor out = at::empty(rgb.sizes(), rgb.options().dtype(at::kFloat));
  const int64_t B = rgb.size(0), HW = rgb.size(2) * rgb.size(3);
  // 8-bit input: the sRGB decoding takes one of 256 values, so it is tabulated (same function).
  float lut[256];
  for (int v = 0; v < 256; ++v) lut[v] = srgb_u8_to_linear((u8)v);
  const u8* x = rgb.data_ptr<u8>();
  float* o = out.data_ptr<float>();
  at::parallel_for(0, B * HW, kGrain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t base = (i / HW) * 3 * HW + i % HW;
      const float lin[3] = {lut[x[base]], lut[x[base + HW]], lut[x[base + 2 * HW]]};
      float lab[3];
      lab_from_linear(lin, lab);
      for (int c = 0; c < 3; ++c) o[base + c * HW] = lab[c];
    }
  });
  return out;
}

at::Tensor lab_to_rgb_forward_kernel(const at::Tensor& lab_in) {
  check_color_planes(lab_in, at::kFloat, "lab");
  const at::Tensor lab = lab_in.contiguous();
  at::Tensor out = at::empty(lab.sizes(), lab.options().dtype(at::kByte));
  const int64_t B = lab.size(0), HW = lab.size(2) * lab.size(3);
  const float* x = lab.data_ptr<float>();
  u8* o = out.data_ptr<u8>();
  at::parallel_for(0, B * HW, kGrain, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t base = (i / HW) * 3 * HW + i % HW;
      const float in[3] = {x[base], x[base + HW], x[base + 2 * HW]};
      u8 rgb[3];
      rgb_u8_from_lab(in, rgb);
      for (int c = 0; c < 3; ++c) o[base + c * HW] = rgb[c];
    }
  });
  return out;
}

// The sRGB decoding of the 256 byte values (the same function, tabulated).
struct SrgbLut {
  float v[256];
  SrgbLut() {
    for (int i = 0; i < 256; ++i) v[i] = srgb_u8_to_linear((u8)i);
  }
};

at::Tensor color_stats_forward_kernel(const at::Tensor& fake_in, const at::Tensor& real_in, const at::Tensor& mask_in,
                                      const at::Tensor& mode_in, const at::Tensor& box_in) {
  check_color_stats(fake_in, real_in, mask_in, mode_in, box_in);
  const at::Tensor fake = fake_in.contiguous(), real = real_in.contiguous(), mask = mask_in.contiguous();
  const at::Tensor mode = mode_in.contiguous(), box = box_in.contiguous();
  const int64_t B = fake.size(0), H = fake.size(2), W = fake.size(3), HW = H * W;
  at::Tensor out = at::empty({B, kColorStats}, fake.options().dtype(at::kDouble));
  const SrgbLut lut;
  const u8* F = fake.data_ptr<u8>();
  const u8* R = real.data_ptr<u8>();
  const float* m = mask.data_ptr<float>();
  const int64_t* md = mode.data_ptr<int64_t>();
  const int64_t* bx = box.data_ptr<int64_t>();
  double* o = out.data_ptr<double>();
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      double* acc = o + b * kColorStats;
      color_stats_init(acc);
      const Box r = clipped_box(reinterpret_cast<const long long*>(bx) + 4 * b, (int)H, (int)W);
      for (int y = r.y; y < r.y + r.h; ++y)
        for (int x = r.x; x < r.x + r.w; ++x) {
          const int64_t p = (int64_t)y * W + x;
          color_stats_px((int)md[b], F + b * 3 * HW, R + b * 3 * HW, m[b * HW + p], HW, p, lut.v, acc);
        }
    }
  });
  return out;
}

at::Tensor color_apply_forward_kernel(const at::Tensor& fake_in, const at::Tensor& real_in, const at::Tensor& mask_in,
                                      const at::Tensor& mode_in, const at::Tensor& stats_in,
                                      const at::Tensor& blurred_in, const at::Tensor& blur_row_in) {
  check_color_apply(fake_in, real_in, mask_in, mode_in, stats_in, blurred_in, blur_row_in);
  const at::Tensor fake = fake_in.contiguous(), real = real_in.contiguous(), mask = mask_in.contiguous();
  const at::Tensor mode = mode_in.contiguous(), stats = stats_in.contiguous(), blurred = blurred_in.contiguous();
  const at::Tensor blur_row = blur_row_in.contiguous();
  const int64_t B = fake.size(0), HW = fake.size(2) * fake.size(3), N = blurred.size(0);
  at::Tensor out = at::empty_like(fake);
  const SrgbLut lut;
  const int64_t* rows = blur_row.data_ptr<int64_t>();
  const u8* F = fake.data_ptr<u8>();
  const u8* R = real.data_ptr<u8>();
  const float* m = mask.data_ptr<float>();
  const int64_t* md = mode.data_ptr<int64_t>();
  const double* st = stats.data_ptr<double>();
  const float* bl = blurred.data_ptr<float>();
  u8* o = out.data_ptr<u8>();
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const ColorParams q = color_params((int)md[b], st + b * kColorStats, HW);
      const float* blb = rows[b] >= 0 && rows[b] < N ? bl + rows[b] * 6 * HW : nullptr;
      for (int64_t p = 0; p < HW; ++p) {
        u8 px[3];
        color_apply_px(q, F + b * 3 * HW, R + b * 3 * HW, m[b * HW + p], blb, HW, p, lut.v, px);
        for (int c = 0; c < 3; ++c) o[(b * 3 + c) * HW + p] = px[c];
      }
    }
  });
  return out;
}

// hsv_shift: tasks of whole rows ((sample, row) pairs); each row in two runs of columns, OpenCV's SIMD
// (truncating) columns, then its scalar (rounding) tail, each a loop over common/hsv_math.h's
// hsv_shift_px with the division tables of HsvDivTables. On x86-64 the loops are compiled a second time
// for AVX2 + FMA and picked at run time (cpu/isa.h; SLADD_FAST_NO_AVX2=1 keeps the baseline), where g++
// vectorises them (about 9x faster than the baseline loop). Both give the same values: fmaf is exactly
// rounded whether it is an FMA instruction or libm's, the int conversions truncate, rintf rounds half to
// even, and nothing else is fused (-ffp-contract=off).
constexpr HsvDivTables kHsvDiv{};

struct HsvRows {
  const u8* in;
  const float* shifts;  // [B, 3]
  u8* out;
  int64_t H, W, simd_end;  // columns [0, simd_end) truncate
};

// n pixels of one row: channel planes r, g, b in, ro, go, bo out (__restrict: the planes do not overlap,
// so the loop vectorises without run-time alias checks).
template <bool Truncate>
inline __attribute__((always_inline)) void hsv_shift_run(const u8* __restrict r, const u8* __restrict g,
                                                         const u8* __restrict b, u8* __restrict ro,
                                                         u8* __restrict go, u8* __restrict bo, int64_t n,
                                                         const HsvMove m) {
  for (int64_t x = 0; x < n; ++x) {
    u8 px[3];
    hsv_shift_px(r[x], g[x], b[x], m, Truncate, kHsvDiv, px);
    ro[x] = px[0];
    go[x] = px[1];
    bo[x] = px[2];
  }
}

inline __attribute__((always_inline)) void hsv_shift_rows_impl(const HsvRows& a, int64_t r0, int64_t r1) {
  const int64_t HW = a.H * a.W, e = a.simd_end;
  for (int64_t row = r0; row < r1; ++row) {
    const int64_t b = row / a.H, y = row % a.H;
    const HsvMove m = hsv_moves(a.shifts + 3 * b);
    const u8* i = a.in + b * 3 * HW + y * a.W;
    u8* o = a.out + b * 3 * HW + y * a.W;
    hsv_shift_run<true>(i, i + HW, i + 2 * HW, o, o + HW, o + 2 * HW, e, m);
    hsv_shift_run<false>(i + e, i + HW + e, i + 2 * HW + e, o + e, o + HW + e, o + 2 * HW + e, a.W - e, m);
  }
}

void hsv_shift_rows_base(const HsvRows& a, int64_t r0, int64_t r1) { hsv_shift_rows_impl(a, r0, r1); }

#if SLADD_X86_DISPATCH
__attribute__((target("avx2,fma"))) void hsv_shift_rows_avx2(const HsvRows& a, int64_t r0, int64_t r1) {
  hsv_shift_rows_impl(a, r0, r1);
}
#else
void hsv_shift_rows_avx2(const HsvRows& a, int64_t r0, int64_t r1) { hsv_shift_rows_base(a, r0, r1); }
#endif

at::Tensor hsv_shift_forward_kernel(const at::Tensor& rgb_in, const at::Tensor& shifts_in, int64_t block) {
  check_hsv_shift(rgb_in, shifts_in, block);
  const at::Tensor rgb = rgb_in.contiguous(), shifts = shifts_in.contiguous();
  at::Tensor out = at::empty(rgb.sizes(), rgb.options());
  if (out.numel() == 0) return out;
  const int64_t B = rgb.size(0), H = rgb.size(2), W = rgb.size(3);
  const HsvRows a{rgb.data_ptr<u8>(), shifts.data_ptr<float>(), out.data_ptr<u8>(), H, W, hsv_simd_end(W, block)};
  const bool avx2 = cpu_use_avx2_fma();
  at::parallel_for(0, B * H, std::max<int64_t>(1, kGrain * 4 / W), [&](int64_t r0, int64_t r1) {
    avx2 ? hsv_shift_rows_avx2(a, r0, r1) : hsv_shift_rows_base(a, r0, r1);
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CPU, m) {
  m.impl("hsv_shift", &hsv_shift_forward_kernel);
  m.impl("color_stats", &color_stats_forward_kernel);
  m.impl("color_apply", &color_apply_forward_kernel);
  m.impl("rgb_to_lab", &rgb_to_lab_forward_kernel);
  m.impl("lab_to_rgb", &lab_to_rgb_forward_kernel);
}

}  // namespace sladd
