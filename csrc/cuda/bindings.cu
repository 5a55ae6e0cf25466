// CUDA backends registered with the torch dispatcher (setup.py build with WITH_CUDA).
// Input checks, allocation and launches only; the kernels are in kernels.cuh.
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include "../checks.h"
#include "kernels.cuh"
#include "launch.h"

namespace sladd {
namespace {


// The kernels take long long* (NVRTC has no <cstdint>); int64_t is `long` on Linux.
inline const long long* ll_ptr(const at::Tensor& t) {
  return reinterpret_cast<const long long*>(t.data_ptr<int64_t>());
}

inline long long* ll_out(const at::Tensor& t) { return reinterpret_cast<long long*>(t.data_ptr<int64_t>()); }

// Grid: x covers n items per plane, y = samples, z = channels.
dim3 grid_for(int64_t n, int64_t samples, int64_t channels = 1) {
  TORCH_CHECK(samples <= kMaxGridYZ && channels <= kMaxGridYZ, "sladd_fast CUDA ops take at most ", kMaxGridYZ,
              " samples and channels per call, got ", samples, " x ", channels);
  return dim3((unsigned)((n + kThreads - 1) / kThreads), (unsigned)samples, (unsigned)channels);
}

// Every launch: kThreads a block on the current stream, then the launch check. An empty grid (no items,
// samples or channels) launches nothing: CUDA refuses a grid of 0 as an invalid configuration, so the
// skip is made here once, as _jit._launch makes it for the NVRTC path, not at each call site.
template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), dim3 grid, Args&&... args) {
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;
  kernel<<<grid, kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(std::forward<Args>(args)...);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

at::Tensor region_mask_forward_kernel(const at::Tensor& landmarks, const at::Tensor& region, int64_t size) {
  check_region_mask(landmarks, region, size);
  const at::cuda::CUDAGuard guard(landmarks.device());
  const at::Tensor lm = landmarks.contiguous(), reg = region.contiguous();
  const int64_t B = lm.size(0);
  at::Tensor out = at::empty({B, 1, size, size}, lm.options());
  if (B == 0) return out;
  at::Tensor spans = at::empty({B, kMaxPrimitives, kSpanRows, size}, lm.options().dtype(at::kInt));
  launch(sladd_region_lines_kernel, grid_for(kMaxPrimitives, B), lm.data_ptr<float>(), ll_ptr(reg),
      spans.data_ptr<int>(), (int)size);
  launch(sladd_region_dilate_kernel, grid_for(kMaxPrimitives * size, B), lm.data_ptr<float>(), ll_ptr(reg),
      spans.data_ptr<int>(), (int)size);
  launch(sladd_region_fill_kernel, grid_for(size * size, B), spans.data_ptr<int>(), out.data_ptr<float>(), (int)size);
  return out;
}

at::Tensor hull_mask_forward_kernel(const at::Tensor& landmarks, int64_t size) {
  check_hull_mask(landmarks, size);
  const at::cuda::CUDAGuard guard(landmarks.device());
  const at::Tensor lm = landmarks.contiguous();
  const HullShape g = hull_shape(lm);
  const int64_t B = g.B, K = g.K, N = g.B * g.P;  // N hulls, P per sample
  at::Tensor out = at::empty({B, 1, size, size}, lm.options());
  if (B == 0) return out;
  const auto i64 = lm.options().dtype(at::kLong), i32 = lm.options().dtype(at::kInt);
  // The hulls' scratch (common/hull_math.h), written once by pass 1 and read by passes 2 and 3.
  at::Tensor points = at::empty({N, hull_points_cap(K), 2}, i64);
  at::Tensor vertices = at::empty({N, kHullVertexRows, hull_vertex_cap(K)}, i64);
  at::Tensor meta = at::empty({N, kHullMetaFields}, i32);
  at::Tensor spans = at::empty({N, kHullSpanRows, size}, i32);
  launch(sladd_hull_spans_kernel, grid_for(N, 1), lm.data_ptr<float>(), ll_out(points), ll_out(vertices),
      meta.data_ptr<int>(), spans.data_ptr<int>(), (int)N, (int)K, (int)size);
  launch(sladd_hull_fill_kernel, grid_for(size * size, B), spans.data_ptr<int>(), out.data_ptr<float>(), (int)size,
      (int)g.P);
  launch(sladd_hull_edges_kernel, grid_for(N, 1), ll_ptr(vertices), meta.data_ptr<int>(), out.data_ptr<float>(), (int)N,
      (int)K, (int)size, (int)g.P);
  return out;
}

at::Tensor hull_feather_forward_kernel(const at::Tensor& mask, const at::Tensor& frac) {
  check_hull_feather(mask, frac);
  const at::cuda::CUDAGuard guard(mask.device());
  const at::Tensor m = mask.contiguous(), fr = frac.contiguous();
  const int64_t B = m.size(0), H = m.size(2), W = m.size(3);
  at::Tensor out = at::empty_like(m);
  if (m.numel() == 0) return out;
  const int64_t cap = kFeatherEndsPerRow * H + kFeatherHullSlack;
  const auto i64 = m.options().dtype(at::kLong);
  at::Tensor ends = at::empty({B, cap, 2}, i64), hull = at::empty({B, cap, 2}, i64);
  at::Tensor count = at::empty({B}, m.options().dtype(at::kInt)), f = at::empty({B}, m.options());
  launch(sladd_hull_feather_rows_kernel, grid_for(H, B), m.data_ptr<float>(), ll_out(ends), (int)H, (int)W);
  launch(sladd_hull_feather_hull_kernel, grid_for(B, 1), ll_out(ends), fr.data_ptr<float>(), ll_out(hull),
      count.data_ptr<int>(), f.data_ptr<float>(), (int)B, (int)H);
  launch(sladd_hull_feather_weight_kernel, grid_for(H * W, B), m.data_ptr<float>(), ll_ptr(hull), count.data_ptr<int>(),
      f.data_ptr<float>(), out.data_ptr<float>(), (int)H, (int)W);
  return out;
}

at::Tensor blend_linear_forward_kernel(const at::Tensor& target, const at::Tensor& source, const at::Tensor& mask,
                                       const at::Tensor& weight) {
  check_blend_linear(target, source, mask, weight);
  const at::cuda::CUDAGuard guard(target.device());
  const at::Tensor t = target.contiguous(), s = source.contiguous(), m = mask.contiguous(), w = weight.contiguous();
  at::Tensor out = at::empty_like(t);
  const int64_t HW = t.size(2) * t.size(3);
  if (t.numel() == 0) return out;
  launch(sladd_blend_linear_kernel, grid_for(HW, t.size(0), t.size(1)), t.data_ptr<uint8_t>(), s.data_ptr<uint8_t>(),
      m.data_ptr<float>(), w.data_ptr<float>(), out.data_ptr<uint8_t>(), (int)t.size(1), HW);
  return out;
}

at::Tensor poisson_rhs_forward_kernel(const at::Tensor& target, const at::Tensor& source, const at::Tensor& mask,
                                      const at::Tensor& roi) {
  check_poisson_rhs(target, source, mask, roi);
  const int64_t B = target.size(0), C = target.size(1), H = target.size(2), W = target.size(3);
  const at::cuda::CUDAGuard guard(target.device());
  const at::Tensor t = target.contiguous(), s = source.contiguous(), m = mask.contiguous(), r = roi.contiguous();
  at::Tensor rhs = at::zeros({B, C, H - 2, W - 2}, m.options());
  if (B == 0 || C == 0) return rhs;
  at::Tensor eroded = at::zeros({B, H, W}, t.options());
  launch(sladd_poisson_erode_kernel, grid_for(H * W, B), m.data_ptr<float>(), ll_ptr(r), eroded.data_ptr<uint8_t>(),
      (int)H, (int)W);
  launch(sladd_poisson_rhs_kernel, grid_for((H - 2) * (W - 2), B, C), t.data_ptr<uint8_t>(), s.data_ptr<uint8_t>(),
      m.data_ptr<float>(), eroded.data_ptr<uint8_t>(), ll_ptr(r), rhs.data_ptr<float>(), (int)C, (int)H, (int)W);
  return rhs;
}

at::Tensor poisson_compose_forward_kernel(const at::Tensor& target, const at::Tensor& solution,
                                          const at::Tensor& roi) {
  check_poisson_compose(target, solution, roi);
  const int64_t B = target.size(0), C = target.size(1), H = target.size(2), W = target.size(3);
  const at::cuda::CUDAGuard guard(target.device());
  const at::Tensor t = target.contiguous(), u = solution.contiguous(), r = roi.contiguous();
  at::Tensor out = at::empty_like(t);
  if (t.numel() == 0) return out;
  launch(sladd_poisson_compose_kernel, grid_for(H * W, B, C), t.data_ptr<uint8_t>(), u.data_ptr<float>(), ll_ptr(r),
      out.data_ptr<uint8_t>(), (int)C, (int)H, (int)W);
  return out;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> similarity_align_forward_kernel(const at::Tensor& source_in,
                                                                               const at::Tensor& target_in) {
  check_similarity_align(source_in, target_in);
  const at::cuda::CUDAGuard guard(source_in.device());
  const at::Tensor source = source_in.contiguous(), target = target_in.contiguous();
  const int64_t B = source.size(0);
  at::Tensor M = at::empty({B, 2, 3}, source.options()), Mi = at::empty({B, 2, 3}, source.options());
  at::Tensor ok = at::empty({B}, source.options().dtype(at::kBool));
  if (B == 0) return {M, Mi, ok};
  TORCH_CHECK(B <= kInt32Max, "similarity_align: too many samples");
  launch(sladd_similarity_align_kernel, grid_for(B, 1), source.data_ptr<float>(), target.data_ptr<float>(),
      M.data_ptr<float>(), Mi.data_ptr<float>(), reinterpret_cast<unsigned char*>(ok.data_ptr<bool>()), (int)B);
  return {M, Mi, ok};
}

at::Tensor xray_blend_forward_kernel(const at::Tensor& both_, const at::Tensor& mask_, const at::Tensor& weight_) {
  check_xray_blend(both_, mask_, weight_);
  const at::cuda::CUDAGuard guard(both_.device());
  const at::Tensor both = both_.contiguous(), mask = mask_.contiguous(), weight = weight_.contiguous();
  const int64_t B = both.size(0), H = both.size(2), W = both.size(3);
  at::Tensor out = at::empty({B, 3, H, W}, both.options());
  if (out.numel() == 0) return out;
  at::Tensor partials = at::empty({B, W, kXraySums}, both.options().dtype(at::kLong));
  at::Tensor shift = at::empty({B, 3}, mask.options());
  launch(sladd_xray_columns_kernel, grid_for(W, B), both.data_ptr<uint8_t>(), mask.data_ptr<float>(), ll_out(partials),
      (int)H, (int)W);
  launch(sladd_xray_shift_kernel, grid_for(1, B), ll_ptr(partials), shift.data_ptr<float>(), (int)W);
  launch(sladd_xray_blend_kernel, grid_for(H * W, B), both.data_ptr<uint8_t>(), mask.data_ptr<float>(),
      weight.data_ptr<float>(), shift.data_ptr<float>(), out.data_ptr<uint8_t>(), (int)H, (int)W);
  return out;
}

at::Tensor jpeg_round_trip_forward_kernel(const at::Tensor& images_, const at::Tensor& quality_,
                                          const at::Tensor& select_, bool bgr) {
  check_jpeg_round_trip(images_, quality_, select_);
  const at::cuda::CUDAGuard guard(images_.device());
  const at::Tensor images = images_.contiguous(), quality = quality_.contiguous(), select = select_.contiguous();
  const int64_t B = images.size(0), H = images.size(2), W = images.size(3);
  const int64_t hp = (H + kJpegMcu - 1) / kJpegMcu * kJpegMcu, wp = (W + kJpegMcu - 1) / kJpegMcu * kJpegMcu;
  at::Tensor out = at::empty_like(images);
  if (B == 0) return out;
  at::Tensor planes = at::empty({B, jpeg_plane_bytes(hp, wp)}, images.options());
  at::Tensor tables = at::empty({B, kJpegTables}, images.options().dtype(at::kFloat));
  const unsigned char* sel = reinterpret_cast<const unsigned char*>(select.data_ptr<bool>());
  launch(sladd_jpeg_tables_kernel, grid_for(kJpegTables, B), ll_ptr(quality), tables.data_ptr<float>());
  launch(sladd_jpeg_blocks_kernel, grid_for((hp / kJpegMcu) * (wp / kJpegMcu) * kJpegBlocksPerMcu, B),
      images.data_ptr<uint8_t>(), tables.data_ptr<float>(), sel, planes.data_ptr<uint8_t>(), (int)H, (int)W, (int)hp,
      (int)wp, (int)bgr);
  launch(sladd_jpeg_pixels_kernel, grid_for(H * W, B), images.data_ptr<uint8_t>(), sel, planes.data_ptr<uint8_t>(),
      out.data_ptr<uint8_t>(), (int)H, (int)W, (int)hp, (int)wp, (int)bgr);
  return out;
}

std::tuple<at::Tensor, at::Tensor> skimage_taps_forward_kernel(const at::Tensor& n_in_, const at::Tensor& n_out_,
                                                               int64_t canvas_out, int64_t radius) {
  check_skimage_taps(n_in_, n_out_, canvas_out, radius);
  const int64_t T = 2 * (2 * radius + 1);
  const at::cuda::CUDAGuard guard(n_in_.device());
  const at::Tensor n_in = n_in_.contiguous(), n_out = n_out_.contiguous();
  const int64_t B = n_in.size(0);
  at::Tensor index = at::empty({B, canvas_out, T}, n_in.options());
  at::Tensor weight = at::empty({B, canvas_out, T}, n_in.options().dtype(at::kFloat));
  if (B == 0 || canvas_out == 0) return {index, weight};
  launch(sladd_skimage_taps_kernel, grid_for(canvas_out, B), ll_ptr(n_in), ll_ptr(n_out), ll_out(index),
      weight.data_ptr<float>(), (int)canvas_out, (int)radius);
  return {index, weight};
}

std::tuple<at::Tensor, at::Tensor> pil_taps_forward_kernel(const at::Tensor& n_in_, const at::Tensor& n_out_,
                                                           const at::Tensor& nearest_, int64_t canvas_in,
                                                           int64_t canvas_out, int64_t span) {
  check_pil_taps(n_in_, n_out_, nearest_, canvas_in, canvas_out, span);
  const at::cuda::CUDAGuard guard(n_in_.device());
  const at::Tensor n_in = n_in_.contiguous(), n_out = n_out_.contiguous(), nearest = nearest_.contiguous();
  const int64_t B = n_in.size(0);
  at::Tensor index = at::empty({B, canvas_out, span}, n_in.options());
  at::Tensor weight = at::empty({B, canvas_out, span}, n_in.options().dtype(at::kFloat));
  if (B == 0 || canvas_out == 0) return {index, weight};
  launch(sladd_pil_taps_kernel, grid_for(canvas_out, B), ll_ptr(n_in), ll_ptr(n_out),
      reinterpret_cast<const unsigned char*>(nearest.data_ptr<bool>()), ll_out(index), weight.data_ptr<float>(),
      (int)canvas_in, (int)canvas_out, (int)span);
  return {index, weight};
}

at::Tensor fraction_inside_forward_kernel(const at::Tensor& mask_in, const at::Tensor& map_in, int64_t cell) {
  check_fraction_inside(mask_in, map_in, cell);
  const at::cuda::CUDAGuard guard(mask_in.device());
  const at::Tensor mask = mask_in.contiguous(), map = map_in.contiguous();
  const int64_t B = mask.size(0), S = mask.size(2), n = S / cell;
  at::Tensor out = at::zeros({B}, mask.options());
  if (B == 0 || n == 0) return out;
  at::Tensor rows = at::empty({B, n, kInsideEntries}, mask.options());
  launch(sladd_inside_rows_kernel, grid_for(n, B), mask.data_ptr<float>(), map.data_ptr<float>(),
      rows.data_ptr<float>(), (int)S, (int)cell);
  launch(sladd_inside_sum_kernel, grid_for(1, B), rows.data_ptr<float>(), out.data_ptr<float>(), (int)n);
  return out;
}

at::Tensor affine_reach_box_forward_kernel(const at::Tensor& box_in, const at::Tensor& map_in, int64_t size) {
  check_affine_reach_box(box_in, map_in, size);
  const at::cuda::CUDAGuard guard(box_in.device());
  const at::Tensor box = box_in.contiguous(), map = map_in.contiguous();
  at::Tensor out = at::empty_like(box);
  const int64_t B = box.size(0);
  if (B == 0) return out;
  TORCH_CHECK(B <= kInt32Max, "affine_reach_box: too many samples");
  launch(sladd_reach_box_kernel, grid_for(B, 1), ll_ptr(box), map.data_ptr<float>(), ll_out(out), (int)size, (int)B);
  return out;
}

at::Tensor box_of_forward_kernel(const at::Tensor& on_in, bool exclude_frame) {
  check_box_of(on_in);
  const at::cuda::CUDAGuard guard(on_in.device());
  const at::Tensor on = on_in.contiguous();
  const int64_t B = on.size(0), H = on.size(1), W = on.size(2);
  // launch() skips empty grids: B = 0 launches nothing, W = 0 only the reduction (which writes 0 boxes)
  at::Tensor box = at::empty({B, 4}, on.options().dtype(at::kLong));
  at::Tensor cols = at::empty({B, W, kBoxRowEntries}, on.options().dtype(at::kInt));
  launch(sladd_box_cols_kernel, grid_for(W, B), reinterpret_cast<const unsigned char*>(on.data_ptr<bool>()),
      cols.data_ptr<int>(), (int)H, (int)W, exclude_frame ? 1 : 0);
  launch(sladd_box_reduce_kernel, grid_for(kThreads, B), cols.data_ptr<int>(), ll_out(box), (int)W);
  return box;
}

// poisson_solve: four passes of sladd_dst_pass_kernel over one scratch buffer, out last (its pass writes
// every element, zero outside the blocks).
at::Tensor poisson_solve_forward_kernel(const at::Tensor& rhs_in, const at::Tensor& roi_in) {
  check_poisson_solve(rhs_in, roi_in);
  const at::cuda::CUDAGuard guard(rhs_in.device());
  const at::Tensor rhs = rhs_in.contiguous(), roi = roi_in.contiguous();
  at::Tensor out = at::empty_like(rhs);
  if (rhs.numel() == 0) return out;
  const int64_t B = rhs.size(0), C = rhs.size(1), Nh = rhs.size(2), Nw = rhs.size(3);
  at::Tensor tmp = at::empty_like(rhs);
  const int64_t tiles = ((Nh + kDstTile - 1) / kDstTile) * ((Nw + kDstTile - 1) / kDstTile);
  const dim3 grid = grid_for(tiles * kThreads, B, C);
  const float* src[4] = {rhs.data_ptr<float>(), tmp.data_ptr<float>(), out.data_ptr<float>(), tmp.data_ptr<float>()};
  float* dst[4] = {tmp.data_ptr<float>(), out.data_ptr<float>(), tmp.data_ptr<float>(), out.data_ptr<float>()};
  const int sine_left[4] = {kDstSineLeft, 0, kDstSineLeft, 0};
  const int epi[4] = {kDstEpiNone, kDstEpiEig, kDstEpiNone, kDstEpiScale};
  for (int pass = 0; pass < 4; ++pass) {
    launch(sladd_dst_pass_kernel, grid, src[pass], dst[pass], ll_ptr(roi), (int)Nh, (int)Nw, sine_left[pass],
        epi[pass]);
  }
  return out;
}

at::Tensor deform_mask_forward_kernel(const at::Tensor& mask, const at::Tensor& noise) {
  check_deform_mask(mask, noise);
  const int64_t B = mask.size(0), S = mask.size(2);
  const at::cuda::CUDAGuard guard(mask.device());
  const at::Tensor m = mask.contiguous(), n = noise.contiguous();
  at::Tensor out = at::empty_like(m);
  if (B == 0) return out;
  launch(sladd_deform_mask_kernel, grid_for(S * S, B), m.data_ptr<float>(), n.data_ptr<float>(), out.data_ptr<float>(),
      (int)S);
  return out;
}

at::Tensor morph_square_forward_kernel(const at::Tensor& mask, const at::Tensor& op, const at::Tensor& k) {
  check_morph_square(mask, op, k);
  const int64_t B = mask.size(0), H = mask.size(2), W = mask.size(3);
  const at::cuda::CUDAGuard guard(mask.device());
  const at::Tensor m = mask.contiguous(), o = op.contiguous(), kk = k.contiguous();
  at::Tensor out = at::empty_like(m);
  if (m.numel() == 0) return out;
  at::Tensor rows = at::empty({B, H, W}, m.options().dtype(at::kByte));
  launch(sladd_morph_rows_kernel, grid_for(H * W, B), m.data_ptr<float>(), ll_ptr(o), ll_ptr(kk),
      rows.data_ptr<uint8_t>(), (int)H, (int)W);
  launch(sladd_morph_cols_kernel, grid_for(H * W, B), m.data_ptr<float>(), ll_ptr(o), ll_ptr(kk),
      rows.data_ptr<uint8_t>(), out.data_ptr<float>(), (int)H, (int)W);
  return out;
}

at::Tensor warp_affine_cubic_forward_kernel(const at::Tensor& input, const at::Tensor& inverse_map,
                                            const at::Tensor& box) {
  check_warp_affine_cubic(input, inverse_map, box);
  const int64_t B = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
  const at::cuda::CUDAGuard guard(input.device());
  const at::Tensor x = input.contiguous(), mp = inverse_map.contiguous(), bx = box.contiguous();
  at::Tensor out = at::empty_like(x);  // uint8 in, uint8 out (saturated), as cv2.warpAffine
  if (x.numel() == 0) return out;
  if (x.scalar_type() == at::kByte)
    launch(sladd_warp_affine_cubic_u8_kernel, grid_for(H * W, B), x.data_ptr<uint8_t>(), mp.data_ptr<float>(),
        ll_ptr(bx), out.data_ptr<uint8_t>(), (int)C, (int)H, (int)W);
  else
    launch(sladd_warp_affine_cubic_kernel, grid_for(H * W, B), x.data_ptr<float>(), mp.data_ptr<float>(), ll_ptr(bx),
        out.data_ptr<float>(), (int)C, (int)H, (int)W);
  return out;
}

// rgb_to_lab / lab_to_rgb: [B,3,H,W] in, [B,3,H,W] of out_dtype back, one thread per pixel.
template <typename In, typename Out>
at::Tensor per_pixel_color(const at::Tensor& input, at::ScalarType in_dtype, at::ScalarType out_dtype,
                           const char* name, void (*kernel)(const In*, Out*, long long)) {
  check_color_planes(input, in_dtype, name);
  const at::cuda::CUDAGuard guard(input.device());
  const at::Tensor x = input.contiguous();
  at::Tensor out = at::empty(x.sizes(), x.options().dtype(out_dtype));
  const int64_t HW = x.size(2) * x.size(3);
  if (x.numel() == 0) return out;
  launch(kernel, grid_for(HW, x.size(0)), reinterpret_cast<const In*>(x.data_ptr()),
      reinterpret_cast<Out*>(out.data_ptr()), HW);
  return out;
}

at::Tensor rgb_to_lab_forward_kernel(const at::Tensor& rgb) {
  return per_pixel_color<unsigned char, float>(rgb, at::kByte, at::kFloat, "rgb", sladd_rgb_to_lab_kernel);
}

at::Tensor lab_to_rgb_forward_kernel(const at::Tensor& lab) {
  return per_pixel_color<float, unsigned char>(lab, at::kFloat, at::kByte, "lab", sladd_lab_to_rgb_kernel);
}

at::Tensor hsv_shift_forward_kernel(const at::Tensor& rgb_in, const at::Tensor& shifts_in, int64_t block) {
  check_hsv_shift(rgb_in, shifts_in, block);
  const at::cuda::CUDAGuard guard(rgb_in.device());
  const at::Tensor rgb = rgb_in.contiguous(), shifts = shifts_in.contiguous();
  at::Tensor out = at::empty(rgb.sizes(), rgb.options());
  if (out.numel() == 0) return out;
  const int64_t W = rgb.size(3), HW = rgb.size(2) * W;
  launch(sladd_hsv_shift_kernel, grid_for(HW, rgb.size(0)), rgb.data_ptr<uint8_t>(), shifts.data_ptr<float>(),
      out.data_ptr<uint8_t>(), (int)W, (long long)HW, (long long)block);
  return out;
}

at::Tensor sbi_quality_forward_kernel(const at::Tensor& rgb_in, const at::Tensor& shifts_in,
                                      const at::Tensor& coeffs_in, const at::Tensor& branch_in, int64_t block) {
  check_sbi_quality(rgb_in, shifts_in, coeffs_in, branch_in, block);
  const at::cuda::CUDAGuard guard(rgb_in.device());
  const at::Tensor rgb = rgb_in.contiguous(), shifts = shifts_in.contiguous(), coeffs = coeffs_in.contiguous(),
                   branch = branch_in.contiguous();
  at::Tensor out = at::empty(rgb.sizes(), rgb.options());
  if (out.numel() == 0) return out;
  const int64_t B = rgb.size(0), H = rgb.size(2), W = rgb.size(3), HW = H * W;
  at::Tensor planes = at::empty_like(rgb);  // the colour stage, read by the branch stage
  launch(sladd_sbi_color_kernel, grid_for(HW, B), rgb.data_ptr<uint8_t>(), shifts.data_ptr<float>(),
      coeffs.data_ptr<float>(), planes.data_ptr<uint8_t>(), (int)W, (long long)HW, (long long)block);
  launch(sladd_sbi_branch_kernel, grid_for(HW, B, 3), planes.data_ptr<uint8_t>(), coeffs.data_ptr<float>(),
      ll_ptr(branch), out.data_ptr<uint8_t>(), (int)H, (int)W);
  return out;
}

at::Tensor blur_in_box_forward_kernel(const at::Tensor& input, const at::Tensor& kernels, const at::Tensor& radius,
                                      const at::Tensor& box) {
  check_blur_in_box(input, kernels, radius, box);
  const int64_t B = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
  const at::cuda::CUDAGuard guard(input.device());
  const at::Tensor x = input.contiguous(), g = kernels.contiguous(), r = radius.contiguous(), bx = box.contiguous();
  at::Tensor out = at::empty_like(x);
  if (x.numel() == 0) return out;
  const bool u8_in = x.scalar_type() == at::kByte;
  // One channel at a time: the horizontal pass' float plane is [B,1,H,W], not [B,C,H,W] (with uint8 planes
  // it would be 4x the whole output).
  at::Tensor tmp = at::empty({B, 1, H, W}, x.options().dtype(at::kFloat));
  for (int64_t c = 0; c < C; ++c) {
    launch(sladd_blur_rows_kernel, grid_for(H * W, B, 1), u8_in ? nullptr : x.data_ptr<float>(),
        u8_in ? x.data_ptr<uint8_t>() : nullptr, g.data_ptr<float>(), ll_ptr(r), ll_ptr(bx), tmp.data_ptr<float>(),
        (int)C, (int)c, (int)H, (int)W, (int)g.size(1));
    launch(sladd_blur_cols_kernel, grid_for(H * W, B, 1), tmp.data_ptr<float>(), g.data_ptr<float>(), ll_ptr(r),
        ll_ptr(bx), u8_in ? nullptr : out.data_ptr<float>(), u8_in ? out.data_ptr<uint8_t>() : nullptr, (int)C, (int)c,
        (int)H, (int)W, (int)g.size(1));
  }
  return out;
}

at::Tensor resample_taps_forward_kernel(const at::Tensor& input, const at::Tensor& index, const at::Tensor& weight,
                                        int64_t axis) {
  check_resample_taps(input, index, weight, axis);
  const int64_t B = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
  const int64_t O = index.size(1), T = index.size(2);
  const at::cuda::CUDAGuard guard(input.device());
  const at::Tensor x = input.contiguous(), i = index.contiguous(), w = weight.contiguous();
  at::Tensor out = axis == 2 ? at::empty({B, C, O, W}, x.options()) : at::empty({B, C, H, O}, x.options());
  if (out.numel() == 0) return out;
  launch(sladd_resample_taps_kernel, grid_for(axis == 2 ? O * W : H * O, B, C), x.data_ptr<float>(), ll_ptr(i),
      w.data_ptr<float>(), out.data_ptr<float>(), (int)C, (int)H, (int)W, (int)O, (int)T, (int)axis);
  return out;
}

at::Tensor resize_u8_forward_kernel(const at::Tensor& input, const at::Tensor& index, const at::Tensor& weight,
                                    int64_t mode) {
  check_resize_u8(input, index, weight, mode);
  const int64_t B = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
  const int64_t O = index.size(1), T = index.size(2);
  const at::cuda::CUDAGuard guard(input.device());
  const at::Tensor x = input.contiguous(), i = index.contiguous(), w = weight.contiguous();
  at::Tensor out = at::empty({B, C, O, O}, x.options());
  if (out.numel() == 0) return out;
  at::Tensor mid = at::empty({B, C, H, O}, x.options().dtype(at::kFloat));
  launch(sladd_resize_u8_cols_kernel, grid_for(H * O, B, C), x.data_ptr<uint8_t>(), ll_ptr(i), w.data_ptr<float>(),
      mid.data_ptr<float>(), (int)C, (int)H, (int)W, (int)O, (int)T, (int)mode);
  launch(sladd_resize_u8_rows_kernel, grid_for(O * O, B, C), mid.data_ptr<float>(), ll_ptr(i), w.data_ptr<float>(),
      out.data_ptr<uint8_t>(), (int)C, (int)H, (int)O, (int)T, (int)mode);
  return out;
}

at::Tensor gaussian_filter_forward_kernel(const at::Tensor& input_in, const at::Tensor& taps_in, double scale) {
  check_gaussian_filter(input_in, taps_in);
  const at::cuda::CUDAGuard guard(input_in.device());
  const at::Tensor input = input_in.contiguous(), taps = taps_in.contiguous();
  at::Tensor out = at::empty_like(input);
  if (out.numel() == 0) return out;
  const int64_t B = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
  const int R = (int)(taps.size(0) - 1);
  at::Tensor tmp = at::empty_like(input);  // the rows pass, read by the columns pass
  launch(sladd_gauss_rows_kernel, grid_for(H * W, B, C), input.data_ptr<float>(), taps.data_ptr<float>(),
      tmp.data_ptr<float>(), (int)C, (int)H, (int)W, R);
  launch(sladd_gauss_cols_kernel, grid_for(H * W, B, C), tmp.data_ptr<float>(), taps.data_ptr<float>(),
      out.data_ptr<float>(), (int)C, (int)H, (int)W, R, (float)scale);
  return out;
}

at::Tensor uniform_noise_forward_kernel(const at::Tensor& seeds_in, int64_t channels, int64_t height, int64_t width) {
  check_uniform_noise(seeds_in, channels, height, width);
  const at::cuda::CUDAGuard guard(seeds_in.device());
  const at::Tensor seeds = seeds_in.contiguous();
  const int64_t B = seeds.size(0), n = channels * height * width;
  at::Tensor out = at::empty({B, channels, height, width}, seeds.options().dtype(at::kFloat));
  if (out.numel() == 0) return out;
  launch(sladd_uniform_noise_kernel, grid_for(n, B), ll_ptr(seeds), out.data_ptr<float>(), (long long)n);
  return out;
}

at::Tensor remap_nearest_forward_kernel(const at::Tensor& input_in, const at::Tensor& map_in,
                                        const at::Tensor& col_table_in, const at::Tensor& row_table_in,
                                        bool relative) {
  check_remap_nearest(input_in, map_in, col_table_in, row_table_in);
  const at::cuda::CUDAGuard guard(input_in.device());
  const at::Tensor input = input_in.contiguous(), map = map_in.contiguous();
  const at::Tensor cols = col_table_in.contiguous(), rows = row_table_in.contiguous();
  const int64_t B = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
  const int64_t Ho = map.size(2), Wo = map.size(3);
  at::Tensor out = at::empty({B, C, Ho, Wo}, input.options());
  if (out.numel() == 0) return out;
  launch(sladd_remap_nearest_kernel, grid_for(Ho * Wo, B), input.data_ptr<float>(), map.data_ptr<float>(), ll_ptr(cols),
      ll_ptr(rows), out.data_ptr<float>(), (int)C, (int)H, (int)W, (int)Ho, (int)Wo, (int)cols.size(1),
      (int)rows.size(1), relative ? 1 : 0);
  return out;
}

at::Tensor warp_linear_u8_forward_kernel(const at::Tensor& input_in, const at::Tensor& col_index_in,
                                         const at::Tensor& col_weight_in, const at::Tensor& row_index_in,
                                         const at::Tensor& row_weight_in) {
  check_warp_linear_u8(input_in, col_index_in, col_weight_in, row_index_in, row_weight_in);
  const at::cuda::CUDAGuard guard(input_in.device());
  const at::Tensor input = input_in.contiguous(), ci = col_index_in.contiguous(), cw = col_weight_in.contiguous();
  const at::Tensor ri = row_index_in.contiguous(), rw = row_weight_in.contiguous();
  const int64_t B = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
  const int64_t Ho = ri.size(1), Wo = ci.size(1);
  at::Tensor out = at::empty({B, C, Ho, Wo}, input.options());
  if (out.numel() == 0) return out;
  if (H == 0 || W == 0) return out.zero_();  // nothing to read: every tap reads the border's 0
  launch(sladd_warp_linear_u8_kernel, grid_for(Ho * Wo, B), input.data_ptr<uint8_t>(), ll_ptr(ci), ll_ptr(cw),
      ll_ptr(ri), ll_ptr(rw), out.data_ptr<uint8_t>(), (int)C, (int)H, (int)W, (int)Ho, (int)Wo);
  return out;
}

at::Tensor piecewise_affine_grid_forward_kernel(const at::Tensor& tx_in, const at::Tensor& ty_in,
                                                const at::Tensor& step_in, const at::Tensor& main_in, int64_t canvas) {
  check_piecewise_affine_grid(tx_in, ty_in, step_in, main_in, canvas);
  const at::cuda::CUDAGuard guard(tx_in.device());
  const at::Tensor tx = tx_in.contiguous(), ty = ty_in.contiguous(), step = step_in.contiguous();
  const at::Tensor main = main_in.contiguous();
  const int64_t B = tx.size(0);
  at::Tensor out = at::empty({B, canvas, canvas, 2}, tx.options());
  if (out.numel() == 0) return out;
  launch(sladd_piecewise_affine_grid_kernel, grid_for(canvas * canvas, B), tx.data_ptr<float>(), ty.data_ptr<float>(),
      step.data_ptr<float>(), main.data_ptr<bool>(), out.data_ptr<float>(), (int)canvas);
  return out;
}

at::Tensor color_stats_forward_kernel(const at::Tensor& fake_in, const at::Tensor& real_in, const at::Tensor& mask_in,
                                      const at::Tensor& mode_in, const at::Tensor& box_in) {
  check_color_stats(fake_in, real_in, mask_in, mode_in, box_in);
  const at::cuda::CUDAGuard guard(fake_in.device());
  const at::Tensor fake = fake_in.contiguous(), real = real_in.contiguous(), mask = mask_in.contiguous();
  const at::Tensor mode = mode_in.contiguous(), box = box_in.contiguous();
  const int64_t B = fake.size(0), H = fake.size(2), W = fake.size(3);
  at::Tensor stats = at::empty({B, kColorStats}, fake.options().dtype(at::kDouble));
  if (B == 0) return stats;
  at::Tensor partials = at::empty({B, kColorStats, W}, stats.options());
  // no columns: no cols pass (an empty grid); the sum pass alone gives the identities
  launch(sladd_color_stats_cols_kernel, grid_for(W, B), fake.data_ptr<uint8_t>(), real.data_ptr<uint8_t>(),
      mask.data_ptr<float>(), ll_ptr(mode), ll_ptr(box), partials.data_ptr<double>(), (int)H, (int)W);
  launch(sladd_color_stats_sum_kernel, grid_for(kThreads, B), partials.data_ptr<double>(), stats.data_ptr<double>(),
      (int)W);
  return stats;
}

at::Tensor color_apply_forward_kernel(const at::Tensor& fake_in, const at::Tensor& real_in, const at::Tensor& mask_in,
                                      const at::Tensor& mode_in, const at::Tensor& stats_in,
                                      const at::Tensor& blurred_in, const at::Tensor& blur_row_in) {
  check_color_apply(fake_in, real_in, mask_in, mode_in, stats_in, blurred_in, blur_row_in);
  const at::cuda::CUDAGuard guard(fake_in.device());
  const at::Tensor fake = fake_in.contiguous(), real = real_in.contiguous(), mask = mask_in.contiguous();
  const at::Tensor mode = mode_in.contiguous(), stats = stats_in.contiguous(), blurred = blurred_in.contiguous();
  const at::Tensor blur_row = blur_row_in.contiguous();
  const int64_t B = fake.size(0), HW = fake.size(2) * fake.size(3);
  at::Tensor out = at::empty_like(fake);
  if (out.numel() == 0) return out;
  launch(sladd_color_apply_kernel, grid_for(HW, B), fake.data_ptr<uint8_t>(), real.data_ptr<uint8_t>(),
      mask.data_ptr<float>(), ll_ptr(mode), stats.data_ptr<double>(), blurred.data_ptr<uint8_t>(), ll_ptr(blur_row),
      (int)blurred.size(0), out.data_ptr<uint8_t>(), (long long)HW);
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(sladd_fast, CUDA, m) {
  m.impl("region_mask", &region_mask_forward_kernel);
  m.impl("color_stats", &color_stats_forward_kernel);
  m.impl("color_apply", &color_apply_forward_kernel);
  m.impl("hull_mask", &hull_mask_forward_kernel);
  m.impl("hull_feather", &hull_feather_forward_kernel);
  m.impl("blend_linear", &blend_linear_forward_kernel);
  m.impl("poisson_rhs", &poisson_rhs_forward_kernel);
  m.impl("poisson_compose", &poisson_compose_forward_kernel);
  m.impl("poisson_solve", &poisson_solve_forward_kernel);
  m.impl("box_of", &box_of_forward_kernel);
  m.impl("similarity_align", &similarity_align_forward_kernel);
  m.impl("affine_reach_box", &affine_reach_box_forward_kernel);
  m.impl("fraction_inside", &fraction_inside_forward_kernel);
  m.impl("jpeg_round_trip", &jpeg_round_trip_forward_kernel);
  m.impl("xray_blend", &xray_blend_forward_kernel);
  m.impl("skimage_taps", &skimage_taps_forward_kernel);
  m.impl("pil_taps", &pil_taps_forward_kernel);
  m.impl("deform_mask", &deform_mask_forward_kernel);
  m.impl("morph_square", &morph_square_forward_kernel);
  m.impl("warp_affine_cubic", &warp_affine_cubic_forward_kernel);
  m.impl("rgb_to_lab", &rgb_to_lab_forward_kernel);
  m.impl("lab_to_rgb", &lab_to_rgb_forward_kernel);
  m.impl("blur_in_box", &blur_in_box_forward_kernel);
  m.impl("resample_taps", &resample_taps_forward_kernel);
  m.impl("resize_u8", &resize_u8_forward_kernel);
  m.impl("gaussian_filter", &gaussian_filter_forward_kernel);
  m.impl("hsv_shift", &hsv_shift_forward_kernel);
  m.impl("sbi_quality", &sbi_quality_forward_kernel);
  m.impl("uniform_noise", &uniform_noise_forward_kernel);
  m.impl("remap_nearest", &remap_nearest_forward_kernel);
  m.impl("warp_linear_u8", &warp_linear_u8_forward_kernel);
  m.impl("piecewise_affine_grid", &piecewise_affine_grid_forward_kernel);
}

}  // namespace sladd
