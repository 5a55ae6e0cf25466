// CPU backend of remap_nearest: loops over common/remap_math.h, one task per output row of a sample.
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "../common/remap_math.h"
#include "../checks.h"
#include "isa.h"

namespace sladd {
namespace {

struct Remap {
  const float* in;
  const float* map;   // [B,2,Ho,Wo]
  const long long* cols;  // [B,Wt]
  const long long* rows;  // [B,Ht]
  float* out;
  int64_t C, H, W, Ho, Wo, Wt, Ht;
  bool relative;
};

// One output row: the coordinates first (rounding, clamping and, where every coordinate of the row is
// within one fold, the reflection, over plain arrays that g++ vectorises), then the table lookups and
// the gather. remap_round and the in-range fold (n - 1) - |(n - 1) - |p|| give remap_math.h's values;
// a row with a coordinate further out takes remap_reflect101 itself.
inline __attribute__((always_inline)) void remap_row(const Remap& r, int64_t b, int64_t y, int* ix, int* iy) {
  const int64_t Wo = r.Wo;
  const float* mx = r.map + ((b * 2) * r.Ho + y) * Wo;
  const float* my = mx + r.Ho * Wo;
  const float fy0 = (float)y;
  int lo = 0x7fffffff, hi = -0x7fffffff;
  if (r.relative) {
    for (int64_t x = 0; x < Wo; ++x) {
      const int a = remap_round((float)(int)x + mx[x]), c = remap_round(fy0 + my[x]);  // int: vectorisable
      ix[x] = a;
      iy[x] = c;
      lo = std::min(lo, std::min(a, c));
      hi = std::max(hi, std::max(a, c));
    }
  } else {
    for (int64_t x = 0; x < Wo; ++x) {
      const int a = remap_round(mx[x]), c = remap_round(my[x]);
      ix[x] = a;
      iy[x] = c;
      lo = std::min(lo, std::min(a, c));
      hi = std::max(hi, std::max(a, c));
    }
  }
  const int mw = (int)r.Wt - 1, mh = (int)r.Ht - 1, m = std::min(std::min(mw, mh), 32768);  // |p| <= 32768
  if (mw >= 1 && mh >= 1 && lo > -m && hi < 2 * m) {
    for (int64_t x = 0; x < Wo; ++x) {
      ix[x] = mw - std::abs(mw - std::abs(ix[x]));
      iy[x] = mh - std::abs(mh - std::abs(iy[x]));
    }
  } else {
    for (int64_t x = 0; x < Wo; ++x) {
      ix[x] = remap_reflect101(ix[x], (int)r.Wt);
      iy[x] = remap_reflect101(iy[x], (int)r.Ht);
    }
  }
  const long long* ct = r.cols + b * r.Wt;
  const long long* rt = r.rows + b * r.Ht;
  for (int64_t x = 0; x < Wo; ++x) {
    const long long sx = ct[ix[x]], sy = rt[iy[x]];
    ix[x] = (sx < 0 || sx >= r.W || sy < 0 || sy >= r.H) ? -1 : (int)(sy * r.W + sx);  // H * W < 2^31 (checked)
  }
  for (int64_t c = 0; c < r.C; ++c) {
    const float* src = r.in + (b * r.C + c) * r.H * r.W;
    float* dst = r.out + ((b * r.C + c) * r.Ho + y) * Wo;
    for (int64_t x = 0; x < Wo; ++x) dst[x] = ix[x] < 0 ? 0.0f : src[ix[x]];
  }
}

void remap_rows_base(const Remap& r, int64_t q0, int64_t q1) {
  std::vector<int> ix((size_t)r.Wo), iy((size_t)r.Wo);
  for (int64_t q = q0; q < q1; ++q) remap_row(r, q / r.Ho, q % r.Ho, ix.data(), iy.data());
}
#if SLADD_X86_DISPATCH
__attribute__((target("avx2"))) void remap_rows_avx2(const Remap& r, int64_t q0, int64_t q1) {
  std::vector<int> ix((size_t)r.Wo), iy((size_t)r.Wo);
  for (int64_t q = q0; q < q1; ++q) remap_row(r, q / r.Ho, q % r.Ho, ix.data(), iy.data());
}
#else
void remap_rows_avx2(const Remap& r, int64_t q0, int64_t q1) { remap_rows_base(r, q0, q1); }
#endif

at::Tensor remap_nearest_forward_kernel(const at::Tensor& input_in, const at::Tensor& map_in,
                                        const at::Tensor& col_table_in, const at::Tensor& row_table_in,
                                        bool relative) {
  check_remap_nearest(input_in, map_in, col_table_in, row_table_in);
  const at::Tensor input = input_in.contiguous(), map = map_in.contiguous();
  const at::Tensor cols = col_table_in.contiguous(), rows = row_table_in.contiguous();
  const int64_t B = input.size(0), C = input.size(1), Ho = map.size(2), Wo = map.size(3);
  at::Tensor out = at::empty({B, C, Ho, Wo}, input.options());
  if (out.numel() == 0) return out;
  const Remap r{input.data_ptr<float>(), map.data_ptr<float>(),
                reinterpret_cast<const long long*>(cols.data_ptr<int64_t>()),
                reinterpret_cast<const long long*>(rows.data_ptr<int64_t>()), out.data_ptr<float>(),
                C, input.size(2), input.size(3), Ho, Wo, cols.size(1), rows.size(1), relative};
  const bool avx2 = cpu_use_avx2();
  at::parallel_for(0, B * Ho, 16, [&](int64_t q0, int64_t q1) {
    avx2 ? remap_rows_avx2(r, q0, q1) : remap_rows_base(r, q0, q1);
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CPU, m) { m.impl("remap_nearest", &remap_nearest_forward_kernel); }

}  // namespace sladd
