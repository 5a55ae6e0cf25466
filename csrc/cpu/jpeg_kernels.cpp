// CPU backend of jpeg_round_trip: the two passes of common/jpeg_math.h, looped over (sample, MCU block)
// and (sample, row).
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <vector>

#include "../checks.h"
#include "../common/jpeg_math.h"
#include "isa.h"

namespace sladd {
namespace {

struct JpegArgs {
  const u8* img;
  const float* tables;  // [B, kJpegTables]
  const bool* sel;
  u8* planes;           // [B, per]
  u8* out;
  int64_t H, W, hp, wp, per, mcus;
  bool bgr;
};

// Pass 1 over (sample, MCU) tasks: the MCU's six blocks into the sample's planes.
inline __attribute__((always_inline)) void jpeg_mcus_range(const JpegArgs& a, int64_t i0, int64_t i1) {
  for (int64_t i = i0; i < i1; ++i) {
    const int64_t b = i / a.mcus, mcu = i % a.mcus;
    if (!a.sel[b]) continue;
    for (int blk = 0; blk < kJpegBlocksPerMcu; ++blk)
      jpeg_mcu_block(a.img + b * 3 * a.H * a.W, (int)a.H, (int)a.W, a.bgr,
                     a.tables + b * kJpegTables + (blk >= 4 ? 64 : 0), (int)a.hp, (int)a.wp, (int)mcu, blk,
                     a.planes + b * a.per);
  }
}

// Pass 2 over (sample, row) tasks: upsampling and colour, or the input where the sample is not selected.
inline __attribute__((always_inline)) void jpeg_rows_range(const JpegArgs& a, int64_t r0, int64_t r1) {
  const int64_t H = a.H, W = a.W;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t b = r / H, y = r % H;
    if (!a.sel[b]) {  // unselected: the input, unchanged
      for (int c = 0; c < 3; ++c) {
        const int64_t e = ((b * 3 + c) * H + y) * W;
        for (int64_t x = 0; x < W; ++x) a.out[e + x] = a.img[e + x];
      }
      continue;
    }
    for (int64_t x = 0; x < W; ++x)
      jpeg_pixel(a.planes + b * a.per, (int)H, (int)W, a.bgr, (int)a.hp, (int)a.wp, (int)y, (int)x,
                 a.out + b * 3 * H * W);
  }
}

// The same loops compiled a second time for AVX2 (cpu/isa.h; no FMA: the header's float steps round
// one by one either way), where the 8-wide DCT sums fill one vector.
void jpeg_mcus_base(const JpegArgs& a, int64_t i0, int64_t i1) { jpeg_mcus_range(a, i0, i1); }
void jpeg_rows_base(const JpegArgs& a, int64_t r0, int64_t r1) { jpeg_rows_range(a, r0, r1); }
#if SLADD_X86_DISPATCH
__attribute__((target("avx2"))) void jpeg_mcus_avx2(const JpegArgs& a, int64_t i0, int64_t i1) {
  jpeg_mcus_range(a, i0, i1);
}
__attribute__((target("avx2"))) void jpeg_rows_avx2(const JpegArgs& a, int64_t r0, int64_t r1) {
  jpeg_rows_range(a, r0, r1);
}
#else
void jpeg_mcus_avx2(const JpegArgs& a, int64_t i0, int64_t i1) { jpeg_mcus_base(a, i0, i1); }
void jpeg_rows_avx2(const JpegArgs& a, int64_t r0, int64_t r1) { jpeg_rows_base(a, r0, r1); }
#endif

at::Tensor jpeg_round_trip_forward_kernel(const at::Tensor& images_, const at::Tensor& quality_,
                                          const at::Tensor& select_, bool bgr) {
  check_jpeg_round_trip(images_, quality_, select_);
  const at::Tensor images = images_.contiguous(), quality = quality_.contiguous(), select = select_.contiguous();
  const int64_t B = images.size(0), H = images.size(2), W = images.size(3);
  const int64_t hp = (H + kJpegMcu - 1) / kJpegMcu * kJpegMcu, wp = (W + kJpegMcu - 1) / kJpegMcu * kJpegMcu;
  const int64_t per = jpeg_plane_bytes(hp, wp), mcus = (hp / kJpegMcu) * (wp / kJpegMcu);
  at::Tensor out = at::empty_like(images);
  at::Tensor planes = at::empty({B, per}, images.options());
  const u8* img = images.data_ptr<uint8_t>();
  const int64_t* q = quality.data_ptr<int64_t>();
  const bool* sel = select.data_ptr<bool>();
  u8* pl = planes.data_ptr<uint8_t>();
  u8* o = out.data_ptr<uint8_t>();
  std::vector<float> tables((size_t)B * kJpegTables);  // per sample: luma, then chroma
  for (int64_t b = 0; b < B; ++b) jpeg_quant_tables(q[b], tables.data() + b * kJpegTables);
  const JpegArgs a{img, tables.data(), sel, pl, o, H, W, hp, wp, per, mcus, bgr};
  const bool avx2 = cpu_use_avx2();
  at::parallel_for(0, B * mcus, 4, [&](int64_t i0, int64_t i1) {
    avx2 ? jpeg_mcus_avx2(a, i0, i1) : jpeg_mcus_base(a, i0, i1);
  });
  at::parallel_for(0, B * H, 8, [&](int64_t r0, int64_t r1) {
    avx2 ? jpeg_rows_avx2(a, r0, r1) : jpeg_rows_base(a, r0, r1);
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CPU, m) { m.impl("jpeg_round_trip", &jpeg_round_trip_forward_kernel); }

}  // namespace sladd
