// CPU backend of piecewise_affine_grid: a loop over common/piecewise_math.h, one task per output row.
#include <ATen/Parallel.h>
#include <torch/library.h>

#include "../common/piecewise_math.h"
#include "../checks.h"

namespace sladd {
namespace {

at::Tensor piecewise_affine_grid_forward_kernel(const at::Tensor& tx_in, const at::Tensor& ty_in,
                                                const at::Tensor& step_in, const at::Tensor& main_in, int64_t canvas) {
  check_piecewise_affine_grid(tx_in, ty_in, step_in, main_in, canvas);
  const at::Tensor tx = tx_in.contiguous(), ty = ty_in.contiguous(), step = step_in.contiguous();
  const at::Tensor main = main_in.contiguous();
  const int64_t B = tx.size(0), S = canvas;
  at::Tensor out = at::empty({B, S, S, 2}, tx.options());
  if (out.numel() == 0) return out;
  const float* txp = tx.data_ptr<float>();
  const float* typ = ty.data_ptr<float>();
  const float* sp = step.data_ptr<float>();
  const bool* mp = main.data_ptr<bool>();
  float* o = out.data_ptr<float>();
  constexpr int kCells = (kPiecewiseMesh - 1) * (kPiecewiseMesh - 1), kTargets = kPiecewiseMesh * kPiecewiseMesh;
  at::parallel_for(0, B * S, 16, [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q) {
      const int64_t b = q / S, y = q % S;
      for (int64_t x = 0; x < S; ++x)
        piecewise_px(txp + b * kTargets, typ + b * kTargets, sp[b], mp + b * kCells, (int)x, (int)y, (int)S,
                     o + (q * S + x) * 2);
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CPU, m) { m.impl("piecewise_affine_grid", &piecewise_affine_grid_forward_kernel); }

}  // namespace sladd
