// CPU backends of skimage_taps and pil_taps: a loop over (sample, output pixel) of common/taps_math.h.
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <tuple>

#include "../common/taps_math.h"
#include "../checks.h"

namespace sladd {
namespace {

std::tuple<at::Tensor, at::Tensor> skimage_taps_forward_kernel(const at::Tensor& n_in_, const at::Tensor& n_out_,
                                                               int64_t canvas_out, int64_t radius) {
  check_skimage_taps(n_in_, n_out_, canvas_out, radius);
  const int64_t T = 2 * (2 * radius + 1);
  const at::Tensor n_in = n_in_.contiguous(), n_out = n_out_.contiguous();
  const int64_t B = n_in.size(0);
  at::Tensor index = at::empty({B, canvas_out, T}, n_in.options());
  at::Tensor weight = at::empty({B, canvas_out, T}, n_in.options().dtype(at::kFloat));
  const int64_t* ni = n_in.data_ptr<int64_t>();
  const int64_t* no = n_out.data_ptr<int64_t>();
  long long* idx = reinterpret_cast<long long*>(index.data_ptr<int64_t>());
  float* w = weight.data_ptr<float>();
  at::parallel_for(0, B * canvas_out, 64, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t b = i / canvas_out;
      skimage_taps_px(ni[b], no[b], (int)radius, (int)(i % canvas_out), idx + i * T, w + i * T);
    }
  });
  return {index, weight};
}

std::tuple<at::Tensor, at::Tensor> pil_taps_forward_kernel(const at::Tensor& n_in_, const at::Tensor& n_out_,
                                                           const at::Tensor& nearest_, int64_t canvas_in,
                                                           int64_t canvas_out, int64_t span) {
  check_pil_taps(n_in_, n_out_, nearest_, canvas_in, canvas_out, span);
  const at::Tensor n_in = n_in_.contiguous(), n_out = n_out_.contiguous(), nearest = nearest_.contiguous();
  const int64_t B = n_in.size(0);
  at::Tensor index = at::empty({B, canvas_out, span}, n_in.options());
  at::Tensor weight = at::empty({B, canvas_out, span}, n_in.options().dtype(at::kFloat));
  const int64_t* ni = n_in.data_ptr<int64_t>();
  const int64_t* no = n_out.data_ptr<int64_t>();
  const bool* near = nearest.data_ptr<bool>();
  long long* idx = reinterpret_cast<long long*>(index.data_ptr<int64_t>());
  float* w = weight.data_ptr<float>();
  at::parallel_for(0, B * canvas_out, 64, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t b = i / canvas_out;
      pil_taps_px(ni[b], no[b], near[b], (int)canvas_in, (int)canvas_out, (int)span, (int)(i % canvas_out),
                  idx + i * span, w + i * span);
    }
  });
  return {index, weight};
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CPU, m) {
  m.impl("skimage_taps", &skimage_taps_forward_kernel);
  m.impl("pil_taps", &pil_taps_forward_kernel);
}

}  // namespace sladd
