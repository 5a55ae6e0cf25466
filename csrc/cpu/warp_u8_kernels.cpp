// CPU backend of warp_linear_u8: loops over common/warp_u8_math.h. One task per output row of a sample,
// every channel: the two source rows combined first (a vector loop over the row), then each output
// column from its two taps of that combination (a gather). Integer sums: the same values as
// warp_u8_px's in any order.
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <vector>

#include "../common/warp_u8_math.h"
#include "../checks.h"
#include "isa.h"

namespace sladd {
namespace {

struct WarpU8 {
  const u8* in;
  const int* col0;  // [B,Wo] clamped column taps and their clamped weights
  const int* col1;
  const int* colw0;
  const int* colw1;
  const long long* ri;  // [B,Ho,2]
  const long long* rw;
  u8* out;
  int64_t C, H, W, Ho, Wo;
};

inline __attribute__((always_inline)) void warp_u8_rows(const WarpU8& a, int64_t q0, int64_t q1) {
  std::vector<int> tmp((size_t)(a.C * a.W));  // the row combination of every channel
  std::vector<u8*> dst((size_t)a.C);
  for (int64_t q = q0; q < q1; ++q) {
    const int64_t b = q / a.Ho, y = q % a.Ho;
    const long long* ri = a.ri + q * kWarpU8Taps;
    const long long* rw = a.rw + q * kWarpU8Taps;
    const int64_t r0 = warp_u8_index(ri[0], (int)a.H), r1 = warp_u8_index(ri[1], (int)a.H);
    const int b0 = warp_u8_weight(rw[0]), b1 = warp_u8_weight(rw[1]);
    for (int64_t c = 0; c < a.C; ++c) {
      const u8* plane = a.in + (b * a.C + c) * a.H * a.W;
      const u8* s0 = plane + r0 * a.W;
      const u8* s1 = plane + r1 * a.W;
      int* t = tmp.data() + c * a.W;
      for (int64_t x = 0; x < a.W; ++x) t[x] = b0 * (int)s0[x] + b1 * (int)s1[x];
      dst[c] = a.out + ((b * a.C + c) * a.Ho + y) * a.Wo;
    }
    const int* c0 = a.col0 + b * a.Wo;
    const int* c1 = a.col1 + b * a.Wo;
    const int* w0 = a.colw0 + b * a.Wo;
    const int* w1 = a.colw1 + b * a.Wo;
    if (a.C == 3) {  // the images' case: each column's taps loaded once for the three channels
      const int *t0 = tmp.data(), *t1 = t0 + a.W, *t2 = t1 + a.W;
      for (int64_t x = 0; x < a.Wo; ++x) {
        const int i = c0[x], j = c1[x], u = w0[x], v = w1[x];
        dst[0][x] = warp_u8_round(u * t0[i] + v * t0[j]);
        dst[1][x] = warp_u8_round(u * t1[i] + v * t1[j]);
        dst[2][x] = warp_u8_round(u * t2[i] + v * t2[j]);
      }
    } else {
      for (int64_t c = 0; c < a.C; ++c) {
        const int* t = tmp.data() + c * a.W;
        for (int64_t x = 0; x < a.Wo; ++x) dst[c][x] = warp_u8_round(w0[x] * t[c0[x]] + w1[x] * t[c1[x]]);
      }
    }
  }
}

void warp_u8_rows_base(const WarpU8& a, int64_t q0, int64_t q1) { warp_u8_rows(a, q0, q1); }
#if SLADD_X86_DISPATCH
__attribute__((target("avx2"))) void warp_u8_rows_avx2(const WarpU8& a, int64_t q0, int64_t q1) {
  warp_u8_rows(a, q0, q1);
}
#else
void warp_u8_rows_avx2(const WarpU8& a, int64_t q0, int64_t q1) { warp_u8_rows_base(a, q0, q1); }
#endif

at::Tensor warp_linear_u8_forward_kernel(const at::Tensor& input_in, const at::Tensor& col_index_in,
                                         const at::Tensor& col_weight_in, const at::Tensor& row_index_in,
                                         const at::Tensor& row_weight_in) {
  check_warp_linear_u8(input_in, col_index_in, col_weight_in, row_index_in, row_weight_in);
  const at::Tensor input = input_in.contiguous(), ci = col_index_in.contiguous(), cw = col_weight_in.contiguous();
  const at::Tensor ri = row_index_in.contiguous(), rw = row_weight_in.contiguous();
  const int64_t B = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
  const int64_t Ho = ri.size(1), Wo = ci.size(1);
  at::Tensor out = at::empty({B, C, Ho, Wo}, input.options());
  if (out.numel() == 0) return out;
  if (H == 0 || W == 0) return out.zero_();  // nothing to read: every tap reads the border's 0
  // The column taps once per sample (clamped index and weight), shared by every row and channel.
  std::vector<int> col0((size_t)(B * Wo)), col1((size_t)(B * Wo)), colw0((size_t)(B * Wo)), colw1((size_t)(B * Wo));
  const long long* cip = reinterpret_cast<const long long*>(ci.data_ptr<int64_t>());
  const long long* cwp = reinterpret_cast<const long long*>(cw.data_ptr<int64_t>());
  for (int64_t k = 0; k < B * Wo; ++k) {
    col0[k] = (int)warp_u8_index(cip[2 * k], (int)W);
    col1[k] = (int)warp_u8_index(cip[2 * k + 1], (int)W);
    colw0[k] = warp_u8_weight(cwp[2 * k]);
    colw1[k] = warp_u8_weight(cwp[2 * k + 1]);
  }
  const WarpU8 a{input.data_ptr<u8>(), col0.data(), col1.data(), colw0.data(), colw1.data(),
                 reinterpret_cast<const long long*>(ri.data_ptr<int64_t>()),
                 reinterpret_cast<const long long*>(rw.data_ptr<int64_t>()), out.data_ptr<u8>(), C, H, W, Ho, Wo};
  const bool avx2 = cpu_use_avx2();
  at::parallel_for(0, B * Ho, 16, [&](int64_t q0, int64_t q1) {
    avx2 ? warp_u8_rows_avx2(a, q0, q1) : warp_u8_rows_base(a, q0, q1);
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CPU, m) { m.impl("warp_linear_u8", &warp_linear_u8_forward_kernel); }

}  // namespace sladd
