// CPU backends of similarity_align and affine_reach_box: a loop over samples of common/align_math.h.
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <tuple>
#include <vector>

#include "../common/align_math.h"
#include "../common/region_math.h"
#include "../checks.h"

namespace sladd {
namespace {

std::tuple<at::Tensor, at::Tensor, at::Tensor> similarity_align_forward_kernel(const at::Tensor& source_in,
                                                                               const at::Tensor& target_in) {
  check_similarity_align(source_in, target_in);
  const at::Tensor source = source_in.contiguous(), target = target_in.contiguous();
  const int64_t B = source.size(0);
  at::Tensor M = at::empty({B, 2, 3}, source.options()), Mi = at::empty({B, 2, 3}, source.options());
  at::Tensor ok = at::empty({B}, source.options().dtype(at::kBool));
  const float* s = source.data_ptr<float>();
  const float* t = target.data_ptr<float>();
  at::parallel_for(0, B, 256, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      double ps[2 * kAlignPoints], pt[2 * kAlignPoints];
      five_points(s + b * kNumLandmarks * 2, ps);
      five_points(t + b * kNumLandmarks * 2, pt);
      float* m = M.data_ptr<float>() + 6 * b;
      ok.data_ptr<bool>()[b] = umeyama_similarity(ps, pt, m);
      invert_affine(m, Mi.data_ptr<float>() + 6 * b);
    }
  });
  return {M, Mi, ok};
}

at::Tensor affine_reach_box_forward_kernel(const at::Tensor& box_in, const at::Tensor& map_in, int64_t size) {
  check_affine_reach_box(box_in, map_in, size);
  const at::Tensor box = box_in.contiguous(), map = map_in.contiguous();
  at::Tensor out = at::empty_like(box);
  const long long* bx = reinterpret_cast<const long long*>(box.data_ptr<int64_t>());
  long long* o = reinterpret_cast<long long*>(out.data_ptr<int64_t>());
  const float* m = map.data_ptr<float>();
  at::parallel_for(0, box.size(0), 256, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) reach_box(bx + 4 * b, m + 6 * b, (int)size, o + 4 * b);
  });
  return out;
}

at::Tensor fraction_inside_forward_kernel(const at::Tensor& mask_in, const at::Tensor& map_in, int64_t cell) {
  check_fraction_inside(mask_in, map_in, cell);
  const at::Tensor mask = mask_in.contiguous(), map = map_in.contiguous();
  const int64_t B = mask.size(0), S = mask.size(2), n = S / cell;
  at::Tensor out = at::empty({B}, mask.options());
  const float* m = mask.data_ptr<float>();
  const float* M = map.data_ptr<float>();
  float* o = out.data_ptr<float>();
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    std::vector<float> rows(kInsideEntries * (size_t)n);
    for (int64_t b = b0; b < b1; ++b) {
      for (int64_t r = 0; r < n; ++r)
        inside_row_sums(m + b * S * S, (int)S, (int)cell, M + 6 * b, (int)r, &rows[kInsideEntries * r]);
      o[b] = inside_fraction(rows.data(), (int)n);
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CPU, m) {
  m.impl("fraction_inside", &fraction_inside_forward_kernel);
  m.impl("similarity_align", &similarity_align_forward_kernel);
  m.impl("affine_reach_box", &affine_reach_box_forward_kernel);
}

}  // namespace sladd
