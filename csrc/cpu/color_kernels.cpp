// CPU backends of rgb_to_lab, lab_to_rgb, color_stats, color_apply and hsv_shift: loops over
// common/color_math.h, common/color_transfer_math.h and common/hsv_math.h.
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <vector>

#include "../checks.h"
#include "../common/color_math.h"
#include "../common/color_transfer_math.h"
#include "../common/hsv_math.h"
#include "../common/sbi_quality_math.h"
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
          color_stats_px(code_of(md[b]), F + b * 3 * HW, R + b * 3 * HW, m[b * HW + p], HW, p, lut.v, acc);
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
  const u8* bl = blurred.data_ptr<u8>();
  u8* o = out.data_ptr<u8>();
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const ColorParams q = color_params(code_of(md[b]), st + b * kColorStats, HW);
      const u8* blb = rows[b] >= 0 && rows[b] < N ? bl + rows[b] * 6 * HW : nullptr;
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

// sbi_quality: one task per sample, written out for the CPU with common/sbi_quality_math.h's arithmetic
// (sbi_color_px, sbi_branch_px: the CUDA kernels', compared in test_cuda_emulated.py) in loops g++
// vectorises in the AVX2 + FMA copy: the colour
// stage row by row (RGBShift into row buffers, hsv_shift's two runs of columns, the brightness/contrast
// level in place), then Sharpen from per-row 3-tap sums or RandomDownScale from the horizontal sums of
// the small image's rows, each computed once.
struct SbiArgs {
  const u8* in;
  const float* shifts;  // [B, 3]
  const float* coeffs;  // [B, kSbiCoeffs]
  const int64_t* branch;
  u8* out;
  int64_t H, W, simd_end;
};

// Sharpen of one plane: sbi_sharpen_px's box as three rows of 3-tap sums (exact integers, each row's
// computed once and rotated), then its float32 formula, vectorised along the row.
inline __attribute__((always_inline)) void sbi_row_sums(const u8* __restrict row, int* __restrict dst, int W) {
  if (W == 1) {
    dst[0] = 3 * row[0];
    return;
  }
  dst[0] = row[1] + row[0] + row[1];
  for (int x = 1; x < W - 1; ++x) dst[x] = row[x - 1] + row[x] + row[x + 1];
  dst[W - 1] = row[W - 2] + row[W - 1] + row[W - 2];
}

inline __attribute__((always_inline)) void sbi_sharpen_plane(const u8* p, u8* o, int H, int W, float a, float k,
                                                             float one_minus_a, int* sums) {
  int* s[3] = {sums, sums + W, sums + 2 * W};  // rows y - 1, y, y + 1 (reflect-101)
  sbi_row_sums(p + (int64_t)sbi_reflect101(-1, H) * W, s[0], W);
  sbi_row_sums(p, s[1], W);
  for (int y = 0; y < H; ++y) {
    sbi_row_sums(p + (int64_t)sbi_reflect101(y + 1, H) * W, s[2], W);
    const int* __restrict s0 = s[0];
    const int* __restrict s1 = s[1];
    const int* __restrict s2 = s[2];
    const u8* __restrict f8 = p + (int64_t)y * W;
    u8* __restrict d = o + (int64_t)y * W;
    for (int x = 0; x < W; ++x) {
      const float f = (float)(int)f8[x];
      float t = f * k;
      t = t - (float)(s0[x] + s1[x] + s2[x]);
      t = t * a;
      const float u = f * one_minus_a;
      float v = (t + u) + 0.5f;  // floor, then clamp: the same as clamp, then trunc (no floorf: it vectorises)
      v = v > 0.0f ? v : 0.0f;     // NaN -> 0
      v = v < 255.0f ? v : 255.0f;
      d[x] = (u8)(int)v;
    }
    int* t = s[0];
    s[0] = s[1];
    s[1] = s[2];
    s[2] = t;
  }
}

// RandomDownScale of one plane (sbi_downscale_px): the horizontal sums of each small row once, then each
// output row from two of them.
inline __attribute__((always_inline)) void sbi_downscale_plane(const u8* p, u8* o, int H, int W, int h,
                                                               const int* nx, const int* ny, const SbiTap* tx,
                                                               const SbiTap* ty, int* hs) {
  for (int i = 0; i < h; ++i) {  // nx / ny: the nearest-down source column / row of each small pixel
    const u8* row = p + (int64_t)ny[i] * W;
    int* d = hs + (int64_t)i * W;
    for (int x = 0; x < W; ++x) d[x] = ((int)row[nx[tx[x].i0]] * tx[x].w0 + (int)row[nx[tx[x].i1]] * tx[x].w1) >> 4;
  }
  for (int y = 0; y < H; ++y) {
    const int* s0 = hs + (int64_t)ty[y].i0 * W;
    const int* s1 = hs + (int64_t)ty[y].i1 * W;
    const int b0 = ty[y].w0, b1 = ty[y].w1;
    u8* d = o + (int64_t)y * W;
    for (int x = 0; x < W; ++x) d[x] = sbi_clamp_u8((((b0 * s0[x]) >> 16) + ((b1 * s1[x]) >> 16) + 2) >> 2);
  }
}

inline __attribute__((always_inline)) void sbi_sample(const SbiArgs& a, int64_t b, u8* planes, u8* rows, int* work,
                                                      SbiTap* taps, int* near) {
  const int64_t H = a.H, W = a.W, HW = H * W, e = a.simd_end;
  const float* q = a.coeffs + b * kSbiCoeffs;
  const HsvMove m = hsv_moves(a.shifts + 3 * b);
  const int64_t br = a.branch[b];
  const bool down = (br == 2 || br == 4) && br <= H && br <= W;
  u8* dst = (br == 1 || down) ? planes : a.out + b * 3 * HW;  // no branch: the colour stage is the output
  const float gain = q[3], bias = q[4];
  for (int64_t y = 0; y < H; ++y) {  // RGBShift into row buffers, hsv_shift's two runs, the level in place
    const u8* i = a.in + b * 3 * HW + y * W;
    for (int c = 0; c < 3; ++c) {
      const float sh = q[c];
      const u8* __restrict src = i + c * HW;
      u8* __restrict row = rows + c * W;
      for (int64_t x = 0; x < W; ++x) row[x] = sbi_rgb_level(src[x], sh);
    }
    u8* o = dst + y * W;
    hsv_shift_run<true>(rows, rows + W, rows + 2 * W, o, o + HW, o + 2 * HW, e, m);
    hsv_shift_run<false>(rows + e, rows + W + e, rows + 2 * W + e, o + e, o + HW + e, o + 2 * HW + e, W - e, m);
    for (int c = 0; c < 3; ++c) {
      u8* __restrict p = o + c * HW;
      for (int64_t x = 0; x < W; ++x) p[x] = sbi_bc_level(p[x], gain, bias);
    }
  }
  u8* out = a.out + b * 3 * HW;
  if (br == 1) {
    for (int c = 0; c < 3; ++c)
      sbi_sharpen_plane(planes + c * HW, out + c * HW, (int)H, (int)W, q[5], q[6], q[7], work);
  } else if (down) {
    const int r = (int)br, h = (int)H / r, w = (int)W / r;
    SbiTap *tx = taps, *ty = taps + W;
    int *nx = near, *ny = near + w;
    for (int x = 0; x < W; ++x) tx[x] = sbi_linear_tap(w, (int)W, x, true);
    for (int y = 0; y < H; ++y) ty[y] = sbi_linear_tap(h, (int)H, y, false);
    for (int j = 0; j < w; ++j) nx[j] = sbi_nearest_index(j, w, (int)W);
    for (int i = 0; i < h; ++i) ny[i] = sbi_nearest_index(i, h, (int)H);
    for (int c = 0; c < 3; ++c)
      sbi_downscale_plane(planes + c * HW, out + c * HW, (int)H, (int)W, h, nx, ny, tx, ty, work);
  }
}

void sbi_sample_base(const SbiArgs& a, int64_t b, u8* planes, u8* rows, int* work, SbiTap* taps, int* near) {
  sbi_sample(a, b, planes, rows, work, taps, near);
}

#if SLADD_X86_DISPATCH
__attribute__((target("avx2,fma"))) void sbi_sample_avx2(const SbiArgs& a, int64_t b, u8* planes, u8* rows,
                                                         int* work, SbiTap* taps, int* near) {
  sbi_sample(a, b, planes, rows, work, taps, near);
}
#else
void sbi_sample_avx2(const SbiArgs& a, int64_t b, u8* planes, u8* rows, int* work, SbiTap* taps, int* near) {
  sbi_sample_base(a, b, planes, rows, work, taps, near);
}
#endif

at::Tensor sbi_quality_forward_kernel(const at::Tensor& rgb_in, const at::Tensor& shifts_in,
                                      const at::Tensor& coeffs_in, const at::Tensor& branch_in, int64_t block) {
  check_sbi_quality(rgb_in, shifts_in, coeffs_in, branch_in, block);
  const at::Tensor rgb = rgb_in.contiguous(), shifts = shifts_in.contiguous(), coeffs = coeffs_in.contiguous(),
                   branch = branch_in.contiguous();
  at::Tensor out = at::empty(rgb.sizes(), rgb.options());
  if (out.numel() == 0) return out;
  const int64_t B = rgb.size(0), H = rgb.size(2), W = rgb.size(3);
  const SbiArgs a{rgb.data_ptr<u8>(), shifts.data_ptr<float>(), coeffs.data_ptr<float>(), branch.data_ptr<int64_t>(),
                  out.data_ptr<u8>(), H, W, hsv_simd_end(W, block)};
  const bool avx2 = cpu_use_avx2_fma();
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    // per task: the colour planes, the branch's integer rows (3 rows of sums, or the small image's rows)
    // and the downscale taps
    std::vector<u8> planes((size_t)(3 * H * W)), rows((size_t)(3 * W));
    std::vector<int> work((size_t)(std::max<int64_t>(3, H / 2 + 1) * W));
    std::vector<SbiTap> taps((size_t)(H + W));
    std::vector<int> near((size_t)(H + W));
    for (int64_t b = b0; b < b1; ++b)
      avx2 ? sbi_sample_avx2(a, b, planes.data(), rows.data(), work.data(), taps.data(), near.data())
           : sbi_sample_base(a, b, planes.data(), rows.data(), work.data(), taps.data(), near.data());
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CPU, m) {
  m.impl("hsv_shift", &hsv_shift_forward_kernel);
  m.impl("sbi_quality", &sbi_quality_forward_kernel);
  m.impl("color_stats", &color_stats_forward_kernel);
  m.impl("color_apply", &color_apply_forward_kernel);
  m.impl("rgb_to_lab", &rgb_to_lab_forward_kernel);
  m.impl("lab_to_rgb", &lab_to_rgb_forward_kernel);
}

}  // namespace sladd
