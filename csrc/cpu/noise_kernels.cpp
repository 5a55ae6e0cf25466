// CPU backend of uniform_noise: loops over common/noise_math.h, one task per block of a sample's values.
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>

#include "../common/noise_math.h"
#include "../checks.h"
#include "isa.h"

namespace sladd {
namespace {

// Values [i0, i1) of one sample's field. Plain 32-bit integer arithmetic that g++ vectorises: with
// SSE2 (no 32-bit vector multiply) partly, with AVX2 fully; the copy for AVX2 is picked at run time
// (cpu/isa.h). Exact either way: integers, then an exact scaling.
inline __attribute__((always_inline)) void noise_range(NoiseKey k, u32 i0, u32 i1, float* out) {
  const u32 n = i1 - i0;
  for (u32 j = 0; j < n; ++j) out[j] = uniform_noise_px(k, i0 + j);
}

void noise_range_base(NoiseKey k, u32 i0, u32 i1, float* out) { noise_range(k, i0, i1, out); }
#if SLADD_X86_DISPATCH
__attribute__((target("avx2"))) void noise_range_avx2(NoiseKey k, u32 i0, u32 i1, float* out) {
  noise_range(k, i0, i1, out);
}
#else
void noise_range_avx2(NoiseKey k, u32 i0, u32 i1, float* out) { noise_range(k, i0, i1, out); }
#endif

at::Tensor uniform_noise_forward_kernel(const at::Tensor& seeds_in, int64_t channels, int64_t height, int64_t width) {
  check_uniform_noise(seeds_in, channels, height, width);
  const at::Tensor seeds = seeds_in.contiguous();
  const int64_t B = seeds.size(0), n = channels * height * width;
  at::Tensor out = at::empty({B, channels, height, width}, seeds.options().dtype(at::kFloat));
  if (out.numel() == 0) return out;
  constexpr int64_t kBlock = 16384;  // values per task
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  const int64_t* s = seeds.data_ptr<int64_t>();
  float* o = out.data_ptr<float>();
  const bool avx2 = cpu_use_avx2();
  at::parallel_for(0, B * blocks, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t b = t / blocks, i0 = (t % blocks) * kBlock, i1 = std::min(i0 + kBlock, n);
      const NoiseKey k = noise_key((long long)s[b]);
      float* dst = o + b * n + i0;
      avx2 ? noise_range_avx2(k, (u32)i0, (u32)i1, dst) : noise_range_base(k, (u32)i0, (u32)i1, dst);
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CPU, m) { m.impl("uniform_noise", &uniform_noise_forward_kernel); }

}  // namespace sladd
