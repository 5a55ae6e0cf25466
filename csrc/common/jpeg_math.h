// jpeg_round_trip: a JPEG encode/decode round trip emulated per sample (Face X-ray's cv2.imencode at
// quality q then cv2.imdecode), shared by CPU, CUDA and NVRTC. The PyTorch reference is
// sladd_fast/ops/_reference.py (jpeg_round_trip); the recipe is in sladd_fast/augment/jpeg.py.
//
// Every float step is one float32 operation rounded on its own (no FMA), in the order the reference's
// tensor ops run, so kernel and reference agree bit for bit:
//   colour: y = rint((0.299 r + 0.587 g) + 0.114 b), cb = clamp(rint(((-0.168735892 r - 0.331264108 g)
//     + 0.5 b) + 128), 0, 255), cr = clamp(rint(((0.5 r - 0.418687589 g) - 0.081312411 b) + 128), 0, 255),
//     on the image replicated up to a multiple of 16 (rint: half to even, as torch.round);
//   4:2:0 chroma: (sum of the 2 x 2 block + bias) >> 2, bias 1 on even and 2 on odd chroma columns; chroma
//     rows past the image's own ceil(H / 2) repeat its last one (libjpeg pads the downsampled rows at the
//     bottom, jcprepct.c, and the pixel columns on the right before downsampling, jcsample.c);
//   per 8 x 8 block: x - 128; rows then columns of the orthonormal DCT-II (D below, each output a sum
//     over its 8 inputs in ascending order, starting from the first product); q = floor(|c| / t + 0.5)
//     with c's sign; q t; columns then rows of the inverse; clamp(rint(value + 128), 0, 255);
//   chroma upsampling (libjpeg's h2v2 "fancy" triangle filter, integers): column sums 3 c[i] + c[i -+ 1],
//     then (3 s[j] + s[j - 1] + 8) >> 4 (even) and (3 s[j] + s[j + 1] + 7) >> 4 (odd), indices clamped
//     to the image's own chroma size, ceil(H / 2) x ceil(W / 2) (libjpeg's downsampled_height/width: its
//     decoder repeats the last real sample, not the MCU padding coded past it);
//   output: R = y + 1.402 cr', G = (y - 0.344136286 cb') - 0.714136286 cr', B = y + 1.772 cb'
//     (cb' = cb - 128), each clamp(rint(.), 0, 255).
// The passes: each sample's two quantisation tables (kJpegTables floats); per 16 x 16 MCU, its six 8 x 8
// blocks (4 luma, Cb, Cr) coded into uint8 planes of jpeg_plane_bytes(Hp, Wp) bytes per sample; then per
// output pixel, the upsampling and colour.
#pragma once
#include "macros.h"
#include "round_math.h"

namespace sladd {

constexpr int kJpegMcu = 16;           // a 4:2:0 MCU: 16 x 16 pixels
constexpr int kJpegBlocksPerMcu = 6;   // 4 luma blocks, then Cb, then Cr

// Scratch per sample: the decoded luma plane (Hp x Wp) and the two chroma planes (Hp/2 x Wp/2), uint8:
// kJpegPlaneHalves / 2 bytes per padded pixel (Hp, Wp are multiples of 16).
constexpr int kJpegPlaneHalves = 3;
SLADD_HD long long jpeg_plane_bytes(long long hp, long long wp) { return hp * wp * kJpegPlaneHalves / 2; }

constexpr int kJpegTables = 128;  // per sample: the luma table, then the chroma table (64 entries each)

// Entry i of the IJG table (jcparam.c) for quality q, baseline, row-major (row = vertical frequency): the
// base scaled by 5000 / q % (q < 50) or 200 - 2 q %, rounded, clamped to [1, 255]; q is clamped to [1, 100].
SLADD_HD float jpeg_quant_entry(bool chroma, long long quality, int i) {
  const unsigned char luma_base[64] = {16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
                                       14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
                                       18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
                                       49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};
  const unsigned char chroma_base[32] = {17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
                                         24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99};
  const long long q = quality < 1 ? 1 : (quality > 100 ? 100 : quality);
  const long long scale = q < 50 ? 5000 / q : 200 - 2 * q;
  const long long base = chroma ? (i < 32 ? chroma_base[i] : 99) : luma_base[i];
  const long long v = (base * scale + 50) / 100;
  return (float)(v < 1 ? 1 : (v > 255 ? 255 : v));
}

// A sample's kJpegTables entries: t[0..63] luma, t[64..127] chroma.
SLADD_HD void jpeg_quant_tables(long long quality, float* t) {
  for (int e = 0; e < kJpegTables; ++e) t[e] = jpeg_quant_entry(e >= 64, quality, e % 64);
}

// The colour transform of one pixel (r, g, b as floats of uint8): component 0 = Y, 1 = Cb, 2 = Cr.
SLADD_HD float jpeg_component(int comp, float r, float g, float b) {
  if (comp == 0) return rintf((0.299f * r + 0.587f * g) + 0.114f * b);
  if (comp == 1) return rint_clamp_255(((-0.168735892f * r - 0.331264108f * g) + 0.5f * b) + 128.0f);
  return rint_clamp_255(((0.5f * r - 0.418687589f * g) - 0.081312411f * b) + 128.0f);
}

// One 8 x 8 block x (row-major, values 0..255 as floats) through DCT, quantisation by table t (row-major,
// row = vertical frequency) and the inverse; x is replaced by the decoded values (0..255).
// Each pass works in place, a row or a column at a time (its 8 outputs depend on that line only), so x and
// 8 sums are all a thread holds (ptxas, sm_90: 122 registers, x in a 256-byte stack frame, no spills; with
// a second 64-float buffer and the tables in registers it was 255 registers and 184 bytes of spills). Each output is a sum over its
// 8 inputs in ascending order, from the first product; the outputs are the innermost loop and the table
// row they read is contiguous (D or its transpose Dt): vector lanes on the CPU, the same order per sum.
SLADD_HD_INLINE void jpeg_code_block(float* x, const float* t) {
  const float D[64] = {  // D[u * 8 + k] = sqrt(c_u / 8) cos((2k + 1) u pi / 16), c_0 = 1, else 2, in float32
      0.353553385f, 0.353553385f, 0.353553385f, 0.353553385f,
      0.353553385f, 0.353553385f, 0.353553385f, 0.353553385f,
      0.490392625f, 0.415734798f, 0.277785122f, 0.0975451618f,
      -0.0975451618f, -0.277785122f, -0.415734798f, -0.490392625f,
      0.461939752f, 0.191341713f, -0.191341713f, -0.461939752f,
      -0.461939752f, -0.191341713f, 0.191341713f, 0.461939752f,
      0.415734798f, -0.0975451618f, -0.490392625f, -0.277785122f,
      0.277785122f, 0.490392625f, 0.0975451618f, -0.415734798f,
      0.353553385f, -0.353553385f, -0.353553385f, 0.353553385f,
      0.353553385f, -0.353553385f, -0.353553385f, 0.353553385f,
      0.277785122f, -0.490392625f, 0.0975451618f, 0.415734798f,
      -0.415734798f, -0.0975451618f, 0.490392625f, -0.277785122f,
      0.191341713f, -0.461939752f, 0.461939752f, -0.191341713f,
      -0.191341713f, 0.461939752f, -0.461939752f, 0.191341713f,
      0.0975451618f, -0.277785122f, 0.415734798f, -0.490392625f,
      0.490392625f, -0.415734798f, 0.277785122f, -0.0975451618f};
  const float Dt[64] = {  // Dt[k * 8 + u] = D[u * 8 + k]
      0.353553385f, 0.490392625f, 0.461939752f, 0.415734798f,
      0.353553385f, 0.277785122f, 0.191341713f, 0.0975451618f,
      0.353553385f, 0.415734798f, 0.191341713f, -0.0975451618f,
      -0.353553385f, -0.490392625f, -0.461939752f, -0.277785122f,
      0.353553385f, 0.277785122f, -0.191341713f, -0.490392625f,
      -0.353553385f, 0.0975451618f, 0.461939752f, 0.415734798f,
      0.353553385f, 0.0975451618f, -0.461939752f, -0.277785122f,
      0.353553385f, 0.415734798f, -0.191341713f, -0.490392625f,
      0.353553385f, -0.0975451618f, -0.461939752f, 0.277785122f,
      0.353553385f, -0.415734798f, -0.191341713f, 0.490392625f,
      0.353553385f, -0.277785122f, -0.191341713f, 0.490392625f,
      -0.353553385f, -0.0975451618f, 0.461939752f, -0.415734798f,
      0.353553385f, -0.415734798f, 0.191341713f, 0.0975451618f,
      -0.353553385f, 0.490392625f, -0.461939752f, 0.277785122f,
      0.353553385f, -0.490392625f, 0.461939752f, -0.415734798f,
      0.353553385f, -0.277785122f, 0.191341713f, -0.0975451618f};
  float acc[8];
  for (int e = 0; e < 64; ++e) x[e] = x[e] - 128.0f;
  for (int i = 0; i < 8; ++i) {  // rows: x[i][u] = sum_k D[u][k] x[i][k]
    for (int u = 0; u < 8; ++u) acc[u] = Dt[u] * x[i * 8];
    for (int k = 1; k < 8; ++k)
      for (int u = 0; u < 8; ++u) acc[u] = acc[u] + Dt[k * 8 + u] * x[i * 8 + k];
    for (int u = 0; u < 8; ++u) x[i * 8 + u] = acc[u];
  }
  for (int u = 0; u < 8; ++u) {  // columns: c[v][u] = sum_i D[v][i] x[i][u]; quantised and dequantised
    for (int v = 0; v < 8; ++v) acc[v] = Dt[v] * x[u];
    for (int i = 1; i < 8; ++i)
      for (int v = 0; v < 8; ++v) acc[v] = acc[v] + Dt[i * 8 + v] * x[i * 8 + u];
    for (int v = 0; v < 8; ++v) {
      const float q = floorf(fabsf(acc[v]) / t[v * 8 + u] + 0.5f);
      x[v * 8 + u] = (acc[v] < 0.0f ? -q : q) * t[v * 8 + u];  // the dequantised coefficient
    }
  }
  for (int u = 0; u < 8; ++u) {  // inverse columns: x[i][u] = sum_v D[v][i] c[v][u]
    for (int i = 0; i < 8; ++i) acc[i] = D[i] * x[u];
    for (int v = 1; v < 8; ++v)
      for (int i = 0; i < 8; ++i) acc[i] = acc[i] + D[v * 8 + i] * x[v * 8 + u];
    for (int i = 0; i < 8; ++i) x[i * 8 + u] = acc[i];
  }
  for (int i = 0; i < 8; ++i) {  // inverse rows: out[i][k] = sum_u D[u][k] x[i][u]
    for (int k = 0; k < 8; ++k) acc[k] = D[k] * x[i * 8];
    for (int u = 1; u < 8; ++u)
      for (int k = 0; k < 8; ++k) acc[k] = acc[k] + D[u * 8 + k] * x[i * 8 + u];
    for (int k = 0; k < 8; ++k) x[i * 8 + k] = rint_clamp_255(acc[k] + 128.0f);
  }
}

// Pass 1, block `blk` (0..3 luma, 4 Cb, 5 Cr) of MCU `mcu` of one sample: img uint8 [3, H, W]
// (channel order R, G, B, or B, G, R with bgr), t the block's table (jpeg_quant_tables: luma for blk < 4,
// else chroma), planes uint8 [jpeg_plane_bytes(hp, wp)].
SLADD_HD_INLINE void jpeg_mcu_block(const u8* img, int H, int W, bool bgr, const float* t, int hp, int wp, int mcu,
                             int blk, u8* planes) {
  const long long plane = (long long)H * W;
  const u8* R = img + (bgr ? 2 : 0) * plane;
  const u8* G = img + plane;
  const u8* Bc = img + (bgr ? 0 : 2) * plane;
  const int my = mcu / (wp / kJpegMcu), mx = mcu % (wp / kJpegMcu);
  float x[64];
  if (blk < 4) {
    const int y0 = my * kJpegMcu + (blk / 2) * 8, x0 = mx * kJpegMcu + (blk % 2) * 8;
    for (int i = 0; i < 8; ++i)
      for (int k = 0; k < 8; ++k) {
        const int yy = y0 + i < H ? y0 + i : H - 1, xx = x0 + k < W ? x0 + k : W - 1;
        const long long p = (long long)yy * W + xx;
        x[i * 8 + k] = jpeg_component(0, (float)R[p], (float)G[p], (float)Bc[p]);
      }
    jpeg_code_block(x, t);
    for (int i = 0; i < 8; ++i)
      for (int k = 0; k < 8; ++k) planes[(long long)(y0 + i) * wp + x0 + k] = (u8)(int)x[i * 8 + k];
    return;
  }
  const int cy0 = my * 8, cx0 = mx * 8, cw = wp / 2, hr = (H + 1) / 2;
  for (int i = 0; i < 8; ++i)
    for (int k = 0; k < 8; ++k) {
      const int cy = cy0 + i < hr ? cy0 + i : hr - 1;  // the bottom padding repeats the last chroma row
      int sum = 0;
      for (int dy = 0; dy < 2; ++dy)
        for (int dx = 0; dx < 2; ++dx) {
          const int py = 2 * cy + dy, px = 2 * (cx0 + k) + dx;
          const long long p = (long long)(py < H ? py : H - 1) * W + (px < W ? px : W - 1);
          sum += (int)jpeg_component(blk - 3, (float)R[p], (float)G[p], (float)Bc[p]);
        }
      x[i * 8 + k] = (float)((sum + 1 + ((cx0 + k) & 1)) >> 2);
    }
  jpeg_code_block(x, t);
  u8* c = planes + (long long)hp * wp + (long long)(blk - 4) * (hp / 2) * cw;
  for (int i = 0; i < 8; ++i)
    for (int k = 0; k < 8; ++k) c[(long long)(cy0 + i) * cw + cx0 + k] = (u8)(int)x[i * 8 + k];
}

// The h2v2 fancy upsampling at output pixel (y, x) of chroma plane c (row stride w), whose real samples are
// the first hr rows and wr columns (neighbours clamped to them).
SLADD_HD int jpeg_fancy(const u8* c, int w, int hr, int wr, int y, int x) {
  const int i = y >> 1, j = x >> 1;
  const int i2 = (y & 1) ? (i + 1 < hr ? i + 1 : hr - 1) : (i > 0 ? i - 1 : 0);  // the further row
  const int j2 = (x & 1) ? (j + 1 < wr ? j + 1 : wr - 1) : (j > 0 ? j - 1 : 0);  // the further column
  const int s = 3 * c[(long long)i * w + j] + c[(long long)i2 * w + j];
  const int s2 = 3 * c[(long long)i * w + j2] + c[(long long)i2 * w + j2];
  return (3 * s + s2 + ((x & 1) ? 7 : 8)) >> 4;
}

// Pass 2, output pixel (y, x) of one sample: out uint8 [3, H, W] in the input's channel order.
SLADD_HD void jpeg_pixel(const u8* planes, int H, int W, bool bgr, int hp, int wp, int y, int x, u8* out) {
  const int h = hp / 2, w = wp / 2, hr = (H + 1) / 2, wr = (W + 1) / 2;
  const float Y = (float)planes[(long long)y * wp + x];
  const u8* cb_plane = planes + (long long)hp * wp;
  const float cb = (float)(jpeg_fancy(cb_plane, w, hr, wr, y, x) - 128);
  const float cr = (float)(jpeg_fancy(cb_plane + (long long)h * w, w, hr, wr, y, x) - 128);
  const long long plane = (long long)H * W, p = (long long)y * W + x;
  out[(bgr ? 2 : 0) * plane + p] = (u8)(int)rint_clamp_255(Y + 1.402f * cr);
  out[plane + p] = (u8)(int)rint_clamp_255((Y - 0.344136286f * cb) - 0.714136286f * cr);
  out[(bgr ? 0 : 2) * plane + p] = (u8)(int)rint_clamp_255(Y + 1.772f * cb);
}

}  // namespace sladd
