// CPU backend of jpeg_round_trip: the two passes of common/jpeg_math.h, looped over (sample, MCU block)
// and (sample, row).
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <vector>

#include "../checks.h"
#include "../common/jpeg_math.h"

namespace sladd {
namespace {

at::Tensor jpeg_round_trip_forward_kernel(const at::Tensor& images_, const at::Tensor& quality_,
                                          const at::Tensor& select_, bool bgr) {
  check_jpeg_round_trip(images_, quality_, select_);
  const at::Tensor images = images_.contiguous(), quality = quality_.contiguous(), select = select_.contiguous();
  const int64_t B = images.size(0), H = images.size(2), W = images.size(3);
  const int64_t hp = (H + kJpegMcu - 1) / kJpegMcu * kJpegMcu, wp = (W + kJpegMcu - 1) / kJpegMcu * kJpegMcu;
  const int64_t per = jpeg_plane_bytes(hp, wp), mcus = (hp / kJpegMcu) * (wp / kJpegMcu);
  const int64_t blocks = mcus * kJpegBlocksPerMcu;
  at::Tensor out = at::empty_like(images);
  at::Tensor planes = at::empty({B, per}, images.options());
  const u8* img = images.data_ptr<uint8_t>();
  const int64_t* q = quality.data_ptr<int64_t>();
  const bool* sel = select.data_ptr<bool>();
  u8* pl = planes.data_ptr<uint8_t>();
  u8* o = out.data_ptr<uint8_t>();
  std::vector<float> tables((size_t)B * kJpegTables);  // per sample: luma, then chroma
  for (int64_t b = 0; b < B; ++b) jpeg_quant_tables(q[b], tables.data() + b * kJpegTables);
  at::parallel_for(0, B * blocks, 16, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t b = i / blocks, k = i % blocks;
      if (!sel[b]) continue;
      const int blk = (int)(k % kJpegBlocksPerMcu);
      jpeg_mcu_block(img + b * 3 * H * W, (int)H, (int)W, bgr, tables.data() + b * kJpegTables + (blk >= 4 ? 64 : 0),
                     (int)hp, (int)wp, (int)(k / kJpegBlocksPerMcu), blk, pl + b * per);
    }
  });
  at::parallel_for(0, B * H, 8, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / H, y = r % H;
      if (!sel[b]) {  // unselected: the input, unchanged
        for (int c = 0; c < 3; ++c) {
          const int64_t e = ((b * 3 + c) * H + y) * W;
          for (int64_t x = 0; x < W; ++x) o[e + x] = img[e + x];
        }
        continue;
      }
      for (int64_t x = 0; x < W; ++x)
        jpeg_pixel(pl + b * per, (int)H, (int)W, bgr, (int)hp, (int)wp, (int)y, (int)x, o + b * 3 * H * W);
    }
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CPU, m) { m.impl("jpeg_round_trip", &jpeg_round_trip_forward_kernel); }

}  // namespace sladd
