// Input checks of every op, shared by the CPU and CUDA backends so both reject the same inputs.
// (The Python wrappers raise friendlier ValueErrors first; these guard direct torch.ops calls.)
#pragma once
#include <ATen/ATen.h>

#include <algorithm>

#include "common/align_math.h"
#include "common/color_transfer_math.h"
#include "common/dst_math.h"
#include "common/deform_math.h"
#include "common/feather_math.h"
#include "common/jpeg_math.h"
#include "common/piecewise_math.h"
#include "common/region_math.h"
#include "common/resample_math.h"
#include "common/taps_math.h"
#include "common/warp_u8_math.h"
#include "common/xray_math.h"

#define SLADD_CHECK_TENSOR(t, dtype, ndim)                                                  \
  TORCH_CHECK((t).scalar_type() == (dtype), __func__, ": ", #t, " must be ", (dtype),       \
              ", got ", (t).scalar_type());                                                 \
  TORCH_CHECK((t).dim() == (ndim), __func__, ": ", #t, " must have ", (ndim), " dims, got ", \
              (t).sizes())

namespace sladd {

constexpr int64_t kInt32Max = 0x7fffffff;  // the kernels take sizes as int
constexpr int64_t kMaxReflectSide = (int64_t(1) << 30) - 1;  // a reflected border's period (2n) fits int

inline void check_same_device(const at::Tensor& a, const at::Tensor& b, const char* name) {
  TORCH_CHECK(a.device() == b.device(), name, " must be on ", a.device(), ", got ", b.device());
}

inline void check_region_mask(const at::Tensor& landmarks, const at::Tensor& region, int64_t size) {
  SLADD_CHECK_TENSOR(landmarks, at::kFloat, 3);
  SLADD_CHECK_TENSOR(region, at::kLong, 1);
  TORCH_CHECK(landmarks.size(1) == kNumLandmarks && landmarks.size(2) == 2, "landmarks must be [B,68,2], got ",
              landmarks.sizes());
  TORCH_CHECK(region.size(0) == landmarks.size(0), "region must be [B]");
  TORCH_CHECK(size > 0 && size <= kInt32Max, "size must be positive and fit in int32, got ", size);
  check_same_device(landmarks, region, "region");
}

// landmarks [B,K,2] (one hull per sample) or [B,P,K,2] (the union of P hulls per sample).
inline void check_hull_mask(const at::Tensor& landmarks, int64_t size) {
  TORCH_CHECK(landmarks.dim() == 3 || landmarks.dim() == 4, "landmarks must be [B,K,2] or [B,P,K,2], got ",
              landmarks.sizes());
  SLADD_CHECK_TENSOR(landmarks, at::kFloat, landmarks.dim());
  const int64_t K = landmarks.size(-2);
  TORCH_CHECK(landmarks.size(-1) == 2 && K <= kMaxHullInput && (landmarks.dim() == 3 || landmarks.size(1) >= 1),
              "landmarks must be [B,K,2] or [B,P,K,2] with K <= ", kMaxHullInput, " and P >= 1, got ",
              landmarks.sizes());
  TORCH_CHECK(size > 0 && size <= kInt32Max, "size must be positive and fit in int32, got ", size);
}

// hull_mask's geometry: B samples, P hulls each (1 for [B,K,2]), K points per hull.
struct HullShape {
  int64_t B, P, K;
};
inline HullShape hull_shape(const at::Tensor& landmarks) {
  const bool parts = landmarks.dim() == 4;
  return {landmarks.size(0), parts ? landmarks.size(1) : 1, landmarks.size(-2)};
}

inline void check_images(const at::Tensor& target, const at::Tensor& source, const at::Tensor& mask) {
  SLADD_CHECK_TENSOR(target, at::kByte, 4);
  SLADD_CHECK_TENSOR(source, at::kByte, 4);
  SLADD_CHECK_TENSOR(mask, at::kFloat, 4);
  TORCH_CHECK(source.sizes() == target.sizes(), "source must match target, got ", source.sizes());
  TORCH_CHECK(mask.size(0) == target.size(0) && mask.size(1) == 1 && mask.size(2) == target.size(2) &&
                  mask.size(3) == target.size(3),
              "mask must be [B,1,H,W] matching target, got ", mask.sizes());
  check_same_device(target, source, "source");
  check_same_device(target, mask, "mask");
}

// rgb_to_lab: uint8 [B,3,H,W]; lab_to_rgb: float32 [B,3,H,W].
inline void check_color_planes(const at::Tensor& x, at::ScalarType dtype, const char* name) {
  TORCH_CHECK(x.scalar_type() == dtype, name, " must be ", dtype, ", got ", x.scalar_type());
  TORCH_CHECK(x.dim() == 4 && x.size(1) == 3, name, " must be [B,3,H,W], got ", x.sizes());
}

inline void check_blend_linear(const at::Tensor& target, const at::Tensor& source, const at::Tensor& mask,
                               const at::Tensor& weight) {
  check_images(target, source, mask);
  SLADD_CHECK_TENSOR(weight, at::kFloat, 1);
  TORCH_CHECK(weight.size(0) == target.size(0), "weight must be [B]");
  check_same_device(target, weight, "weight");
}

inline void check_roi(const at::Tensor& roi, const at::Tensor& target) {
  SLADD_CHECK_TENSOR(roi, at::kLong, 2);
  TORCH_CHECK(roi.size(0) == target.size(0) && roi.size(1) == 6, "roi must be [B,6] (x, y, w, h, dx, dy), got ",
              roi.sizes());
  check_same_device(target, roi, "roi");
}

inline void check_poisson_rhs(const at::Tensor& target, const at::Tensor& source, const at::Tensor& mask,
                              const at::Tensor& roi) {
  check_images(target, source, mask);
  check_roi(roi, target);
  TORCH_CHECK(target.size(2) >= 3 && target.size(3) >= 3, "poisson_rhs needs H, W >= 3");
  // max(C, 1): the erode pass indexes the H x W mask even when there is no channel.
  TORCH_CHECK(std::max<int64_t>(target.size(1), 1) * target.size(2) * target.size(3) <= kInt32Max,
              "poisson_rhs: C * H * W must fit in int32 (its plane offsets are int), got ", target.sizes());
}

inline void check_poisson_compose(const at::Tensor& target, const at::Tensor& solution, const at::Tensor& roi) {
  SLADD_CHECK_TENSOR(target, at::kByte, 4);
  SLADD_CHECK_TENSOR(solution, at::kFloat, 4);
  check_roi(roi, target);
  check_same_device(target, solution, "solution");
  const int64_t B = target.size(0), C = target.size(1), H = target.size(2), W = target.size(3);
  TORCH_CHECK(H >= 3 && W >= 3, "poisson_compose needs H, W >= 3");
  TORCH_CHECK(std::max<int64_t>(C, 1) * H * W <= kInt32Max, "poisson_compose: C * H * W must fit in int32, got ",
              target.sizes());
  TORCH_CHECK(solution.size(0) == B && solution.size(1) == C && solution.size(2) == H - 2 &&
                  solution.size(3) == W - 2,
              "solution must be [B,C,H-2,W-2], got ", solution.sizes());
}

inline void check_poisson_solve(const at::Tensor& rhs, const at::Tensor& roi) {
  SLADD_CHECK_TENSOR(rhs, at::kFloat, 4);
  SLADD_CHECK_TENSOR(roi, at::kLong, 2);
  TORCH_CHECK(roi.size(0) == rhs.size(0) && roi.size(1) == 6, "roi must be [B,6] (x, y, w, h, dx, dy), got ",
              roi.sizes());
  check_same_device(rhs, roi, "roi");
  TORCH_CHECK(rhs.size(2) <= kDstMaxSide && rhs.size(3) <= kDstMaxSide && rhs.size(2) * rhs.size(3) <= kInt32Max,
              "poisson_solve: rhs plane too large (sides up to 2^20, at most 2^31 - 1 pixels), got ", rhs.sizes());
}

inline void check_box_of(const at::Tensor& on) {
  SLADD_CHECK_TENSOR(on, at::kBool, 3);
  TORCH_CHECK(on.size(1) <= kInt32Max && on.size(2) <= kInt32Max, "box_of: mask too large, got ", on.sizes());
}

inline void check_similarity_align(const at::Tensor& source, const at::Tensor& target) {
  SLADD_CHECK_TENSOR(source, at::kFloat, 3);
  SLADD_CHECK_TENSOR(target, at::kFloat, 3);
  TORCH_CHECK(source.size(1) == kNumLandmarks && source.size(2) == 2, "source_landmarks must be [B,68,2], got ",
              source.sizes());
  TORCH_CHECK(target.sizes() == source.sizes(), "target_landmarks must be [B,68,2] like source_landmarks, got ",
              target.sizes());
  check_same_device(source, target, "target_landmarks");
}

inline void check_fraction_inside(const at::Tensor& mask, const at::Tensor& map, int64_t cell) {
  SLADD_CHECK_TENSOR(mask, at::kFloat, 4);
  SLADD_CHECK_TENSOR(map, at::kFloat, 3);
  TORCH_CHECK(mask.size(1) == 1 && mask.size(2) == mask.size(3), "mask must be [B,1,S,S], got ", mask.sizes());
  TORCH_CHECK(map.size(0) == mask.size(0) && map.size(1) == 2 && map.size(2) == 3, "map must be [B,2,3], got ",
              map.sizes());
  TORCH_CHECK(cell >= 1 && cell <= kInt32Max && mask.size(2) % cell == 0, "cell must divide the mask's side, got ",
              cell, " for ", mask.size(2));
  TORCH_CHECK(mask.size(2) * mask.size(3) <= kInt32Max, "fraction_inside: mask too large, got ", mask.sizes());
  check_same_device(mask, map, "map");
}

inline void check_resize_taps(const at::Tensor& n_in, const at::Tensor& n_out, int64_t canvas_out, int64_t taps) {
  SLADD_CHECK_TENSOR(n_in, at::kLong, 1);
  SLADD_CHECK_TENSOR(n_out, at::kLong, 1);
  TORCH_CHECK(n_out.size(0) == n_in.size(0), "n_out must be [B] like n_in, got ", n_out.sizes());
  TORCH_CHECK(canvas_out >= 0 && canvas_out <= kInt32Max, "canvas_out must be in [0, 2^31), got ", canvas_out);
  TORCH_CHECK(taps >= 1 && taps <= 65536, "the taps per output must be in [1, 65536], got ", taps);
  check_same_device(n_in, n_out, "n_out");
}

inline void check_skimage_taps(const at::Tensor& n_in, const at::Tensor& n_out, int64_t canvas_out,
                               int64_t radius) {
  TORCH_CHECK(radius >= 0 && radius < 16384, "radius must be in [0, 16384), got ", radius);
  check_resize_taps(n_in, n_out, canvas_out, 2 * (2 * radius + 1));
}

inline void check_pil_taps(const at::Tensor& n_in, const at::Tensor& n_out, const at::Tensor& nearest,
                           int64_t canvas_in, int64_t canvas_out, int64_t span) {
  check_resize_taps(n_in, n_out, canvas_out, span);
  SLADD_CHECK_TENSOR(nearest, at::kBool, 1);
  TORCH_CHECK(nearest.size(0) == n_in.size(0), "nearest must be [B] like n_in, got ", nearest.sizes());
  TORCH_CHECK(canvas_in >= 1 && canvas_in <= kInt32Max, "canvas_in must be in [1, 2^31), got ", canvas_in);
  check_same_device(n_in, nearest, "nearest");
}

// xray_blend: both uint8 [B,6,H,W], mask and weight float32 [B,1,H,W].
inline void check_xray_blend(const at::Tensor& both, const at::Tensor& mask, const at::Tensor& weight) {
  SLADD_CHECK_TENSOR(both, at::kByte, 4);
  SLADD_CHECK_TENSOR(mask, at::kFloat, 4);
  SLADD_CHECK_TENSOR(weight, at::kFloat, 4);
  TORCH_CHECK(both.size(1) == 6, "both must be [B,6,H,W] (target, then partner), got ", both.sizes());
  TORCH_CHECK(mask.size(0) == both.size(0) && mask.size(1) == 1 && mask.size(2) == both.size(2) &&
                  mask.size(3) == both.size(3),
              "mask must be [B,1,H,W] like both, got ", mask.sizes());
  TORCH_CHECK(weight.sizes() == mask.sizes(), "weight must be [B,1,H,W] like both, got ", weight.sizes());
  TORCH_CHECK(both.size(2) <= kInt32Max && both.size(3) <= kInt32Max, "xray_blend: H and W must fit in int32, got ",
              both.sizes());
  check_same_device(both, mask, "mask");
  check_same_device(both, weight, "weight");
}

// jpeg_round_trip: images uint8 [B,3,H,W] (H, W >= 1), quality int64 [B], select bool [B].
inline void check_jpeg_round_trip(const at::Tensor& images, const at::Tensor& quality, const at::Tensor& select) {
  SLADD_CHECK_TENSOR(images, at::kByte, 4);
  SLADD_CHECK_TENSOR(quality, at::kLong, 1);
  SLADD_CHECK_TENSOR(select, at::kBool, 1);
  TORCH_CHECK(images.size(1) == 3 && images.size(2) >= 1 && images.size(3) >= 1,
              "images must be [B,3,H,W] with H, W >= 1, got ", images.sizes());
  TORCH_CHECK(quality.size(0) == images.size(0), "quality must be [B] like images, got ", quality.sizes());
  TORCH_CHECK(select.size(0) == images.size(0), "select must be [B] like images, got ", select.sizes());
  const int64_t hp = (images.size(2) + kJpegMcu - 1) / kJpegMcu * kJpegMcu;
  const int64_t wp = (images.size(3) + kJpegMcu - 1) / kJpegMcu * kJpegMcu;
  TORCH_CHECK(images.size(2) <= kInt32Max && images.size(3) <= kInt32Max && hp * wp <= kInt32Max,
              "jpeg_round_trip: images too large, got ", images.sizes());
  check_same_device(images, quality, "quality");
  check_same_device(images, select, "select");
}

inline void check_affine_reach_box(const at::Tensor& box, const at::Tensor& map, int64_t size) {
  SLADD_CHECK_TENSOR(box, at::kLong, 2);
  SLADD_CHECK_TENSOR(map, at::kFloat, 3);
  TORCH_CHECK(box.size(1) == 4, "box must be [B,4] (x, y, w, h), got ", box.sizes());
  TORCH_CHECK(map.size(0) == box.size(0) && map.size(1) == 2 && map.size(2) == 3, "map must be [B,2,3], got ",
              map.sizes());
  TORCH_CHECK(size > 0 && size <= kInt32Max, "size must be in [1, 2^31), got ", size);
  check_same_device(box, map, "map");
}

inline void check_deform_mask(const at::Tensor& mask, const at::Tensor& noise) {
  SLADD_CHECK_TENSOR(mask, at::kFloat, 4);
  SLADD_CHECK_TENSOR(noise, at::kFloat, 4);
  const int64_t B = mask.size(0), S = mask.size(2);
  TORCH_CHECK(mask.size(1) == 1 && mask.size(3) == S, "mask must be [B,1,S,S], got ", mask.sizes());
  TORCH_CHECK(S >= kMesh, "mask side must be >= 5");
  TORCH_CHECK(S * S <= kInt32Max, "deform_mask: mask plane too large (S*S >= 2^31), got ", mask.sizes());
  TORCH_CHECK(noise.size(0) == B && noise.size(1) == kMesh && noise.size(2) == kMesh && noise.size(3) == 2,
              "noise must be [B,5,5,2], got ", noise.sizes());
  check_same_device(mask, noise, "noise");
}

inline void check_morph_square(const at::Tensor& mask, const at::Tensor& op, const at::Tensor& k) {
  SLADD_CHECK_TENSOR(mask, at::kFloat, 4);
  SLADD_CHECK_TENSOR(op, at::kLong, 1);
  SLADD_CHECK_TENSOR(k, at::kLong, 1);
  const int64_t B = mask.size(0);
  TORCH_CHECK(mask.size(1) == 1 && op.size(0) == B && k.size(0) == B, "mask [B,1,H,W], op [B], k [B]");
  TORCH_CHECK(mask.size(2) * mask.size(3) <= kInt32Max, "morph_square: mask plane too large (H*W >= 2^31), got ",
              mask.sizes());
  check_same_device(mask, op, "op");
  check_same_device(mask, k, "k");
}

inline void check_warp_affine_cubic(const at::Tensor& input, const at::Tensor& inverse_map, const at::Tensor& box) {
  TORCH_CHECK(input.scalar_type() == at::kFloat || input.scalar_type() == at::kByte,
              "input must be float32 or uint8, got ", input.scalar_type());
  TORCH_CHECK(input.dim() == 4, "input must be [B,C,H,W], got ", input.sizes());
  SLADD_CHECK_TENSOR(inverse_map, at::kFloat, 3);
  TORCH_CHECK(inverse_map.size(0) == input.size(0) && inverse_map.size(1) == 2 && inverse_map.size(2) == 3,
              "inverse_map must be [B,2,3], got ", inverse_map.sizes());
  SLADD_CHECK_TENSOR(box, at::kLong, 2);
  TORCH_CHECK(box.size(0) == input.size(0) && box.size(1) == 4, "box must be [B,4] (x, y, w, h), got ", box.sizes());
  TORCH_CHECK(input.size(1) <= kInt32Max && input.size(2) <= kMaxReflectSide && input.size(3) <= kMaxReflectSide,
              "warp_affine_cubic: C must fit in int32 and H, W be below 2^30 (the reflected border), got ",
              input.sizes());
  check_same_device(input, inverse_map, "inverse_map");
  check_same_device(input, box, "box");
}

inline void check_blur_in_box(const at::Tensor& input, const at::Tensor& kernels, const at::Tensor& radius,
                              const at::Tensor& box) {
  TORCH_CHECK(input.scalar_type() == at::kFloat || input.scalar_type() == at::kByte,
              "blur_in_box: input must be float32 or uint8, got ", input.scalar_type());
  TORCH_CHECK(input.dim() == 4, "blur_in_box: input must have 4 dims, got ", input.sizes());
  SLADD_CHECK_TENSOR(kernels, at::kFloat, 2);
  SLADD_CHECK_TENSOR(radius, at::kLong, 1);
  SLADD_CHECK_TENSOR(box, at::kLong, 2);
  const int64_t B = input.size(0);
  TORCH_CHECK(kernels.size(0) == B && kernels.size(1) % 2 == 1, "kernels must be [B,K] with K odd, got ",
              kernels.sizes());
  TORCH_CHECK(radius.size(0) == B, "radius must be [B], got ", radius.sizes());
  TORCH_CHECK(box.size(0) == B && box.size(1) == 4, "box must be [B,4] (x, y, w, h), got ", box.sizes());
  TORCH_CHECK(input.size(2) <= kMaxReflectSide && input.size(3) <= kMaxReflectSide,
              "blur_in_box: H and W must be below 2^30 (the reflected border), got ", input.sizes());
  check_same_device(input, kernels, "kernels");
  check_same_device(input, radius, "radius");
  check_same_device(input, box, "box");
}

inline void check_hull_feather(const at::Tensor& mask, const at::Tensor& frac) {
  SLADD_CHECK_TENSOR(mask, at::kFloat, 4);
  SLADD_CHECK_TENSOR(frac, at::kFloat, 1);
  TORCH_CHECK(mask.size(1) == 1, "mask must be [B,1,H,W], got ", mask.sizes());
  TORCH_CHECK(frac.size(0) == mask.size(0), "frac must be [B], got ", frac.sizes());
  // The kernels take H and W as int, and index the hull input's 2H + 2 points with int.
  constexpr int64_t kMaxH = (kInt32Max - kFeatherHullSlack) / kFeatherEndsPerRow;
  TORCH_CHECK(mask.size(3) <= kInt32Max && mask.size(2) <= kMaxH, "hull_feather: W must fit in int32 and H be at most ",
              kMaxH, ", got ", mask.sizes());
  check_same_device(mask, frac, "frac");
}

// resample_taps: input float32 [B,C,H,W], index int64 [B,O,T], weight float32 [B,O,T], axis 2 or 3.
// Index values are not checked (a device sync): the kernels clamp them into the resampled axis.
inline void check_resample_taps(const at::Tensor& input, const at::Tensor& index, const at::Tensor& weight,
                                int64_t axis) {
  SLADD_CHECK_TENSOR(input, at::kFloat, 4);
  SLADD_CHECK_TENSOR(index, at::kLong, 3);
  SLADD_CHECK_TENSOR(weight, at::kFloat, 3);
  TORCH_CHECK(axis == 2 || axis == 3, "axis must be 2 (rows) or 3 (columns), got ", axis);
  TORCH_CHECK(index.size(0) == input.size(0), "index must be [B,O,T] with input's B = ", input.size(0), ", got ",
              index.sizes());
  TORCH_CHECK(weight.sizes() == index.sizes(), "weight must match index [B,O,T], got ", weight.sizes());
  TORCH_CHECK(input.size(2) <= kInt32Max && input.size(3) <= kInt32Max && index.size(1) <= kInt32Max &&
                  index.size(2) <= kInt32Max,
              "resample_taps: H, W, O and T must each fit in int32");
  check_same_device(input, index, "index");
  check_same_device(input, weight, "weight");
}

// resize_u8: input uint8 [B,C,H,W], index int64 [B,O,T], weight float32 [B,O,T], mode kResizeFloor or
// kResizeRound.
inline void check_resize_u8(const at::Tensor& input, const at::Tensor& index, const at::Tensor& weight, int64_t mode) {
  SLADD_CHECK_TENSOR(input, at::kByte, 4);
  SLADD_CHECK_TENSOR(index, at::kLong, 3);
  SLADD_CHECK_TENSOR(weight, at::kFloat, 3);
  TORCH_CHECK(mode == kResizeFloor || mode == kResizeRound, "mode must be 0 (floor) or 1 (round), got ", mode);
  TORCH_CHECK(index.size(0) == input.size(0), "index must be [B,O,T] with input's B = ", input.size(0), ", got ",
              index.sizes());
  TORCH_CHECK(weight.sizes() == index.sizes(), "weight must match index [B,O,T], got ", weight.sizes());
  TORCH_CHECK(input.size(2) <= kInt32Max && input.size(3) <= kInt32Max && index.size(1) <= kInt32Max &&
                  index.size(2) <= kInt32Max && input.size(2) * index.size(1) <= kInt32Max &&
                  index.size(1) * index.size(1) <= kInt32Max,
              "resize_u8: H, W, O, T, H * O and O * O must each fit in int32");
  check_same_device(input, index, "index");
  check_same_device(input, weight, "weight");
}

// gaussian_filter: input float32 [B,C,H,W], taps float32 [R+1] (the kernel's centre and one half), on one
// device.
inline void check_gaussian_filter(const at::Tensor& input, const at::Tensor& taps) {
  SLADD_CHECK_TENSOR(input, at::kFloat, 4);
  SLADD_CHECK_TENSOR(taps, at::kFloat, 1);
  TORCH_CHECK(taps.size(0) >= 1, "taps must hold the centre weight at least, got ", taps.sizes());
  TORCH_CHECK(input.size(2) <= kInt32Max && input.size(3) <= kInt32Max,
              "gaussian_filter: H and W must each fit in int32");
  TORCH_CHECK(taps.size(0) <= (1 << 20), "gaussian_filter: at most 2^20 taps (R < 2^20), got ", taps.size(0));
  check_same_device(input, taps, "taps");
}

// uniform_noise: seeds int64 [B]; the field [B,C,H,W] must have at most 2^32 values per sample (the
// counter is a 32-bit word) and fit int32 sizes.
inline void check_uniform_noise(const at::Tensor& seeds, int64_t channels, int64_t height, int64_t width) {
  SLADD_CHECK_TENSOR(seeds, at::kLong, 1);
  TORCH_CHECK(channels >= 0 && height >= 0 && width >= 0, "uniform_noise: channels, height and width must be >= 0, "
              "got ", channels, ", ", height, ", ", width);
  TORCH_CHECK(channels <= kInt32Max && height <= kInt32Max && width <= kInt32Max &&
                  (channels == 0 || height == 0 || width == 0 || channels * height <= (int64_t(1) << 32) / width),
              "uniform_noise: at most 2^32 values per sample, got ", channels, " x ", height, " x ", width);
}

// remap_nearest: input float32 [B,C,H,W], map float32 [B,2,Ho,Wo], col_table int64 [B,Wt], row_table int64
// [B,Ht] (Wt, Ht >= 1 where the output is not empty), on one device. Table values are not checked (a
// device sync): any value outside [0, W) or [0, H) reads the border's 0.
inline void check_remap_nearest(const at::Tensor& input, const at::Tensor& map, const at::Tensor& col_table,
                                const at::Tensor& row_table) {
  SLADD_CHECK_TENSOR(input, at::kFloat, 4);
  SLADD_CHECK_TENSOR(map, at::kFloat, 4);
  SLADD_CHECK_TENSOR(col_table, at::kLong, 2);
  SLADD_CHECK_TENSOR(row_table, at::kLong, 2);
  const int64_t B = input.size(0);
  TORCH_CHECK(map.size(0) == B && map.size(1) == 2, "map must be [B,2,Ho,Wo] with input's B = ", B, ", got ",
              map.sizes());
  TORCH_CHECK(col_table.size(0) == B && row_table.size(0) == B,
              "col_table and row_table must be [B,n] with input's B = ", B, ", got ", col_table.sizes(), " and ",
              row_table.sizes());
  TORCH_CHECK(map.numel() == 0 || (col_table.size(1) >= 1 && row_table.size(1) >= 1),
              "remap_nearest: col_table and row_table must hold at least one entry each");
  TORCH_CHECK(input.size(1) <= kInt32Max && input.size(2) <= kInt32Max && input.size(3) <= kInt32Max &&
                  map.size(2) <= kInt32Max &&
                  map.size(3) <= kInt32Max && col_table.size(1) <= kInt32Max && row_table.size(1) <= kInt32Max &&
                  input.size(2) * input.size(3) <= kInt32Max,
              "remap_nearest: every size, and H * W, must fit in int32");
  check_same_device(input, map, "map");
  check_same_device(input, col_table, "col_table");
  check_same_device(input, row_table, "row_table");
}

// warp_linear_u8: input uint8 [B,C,H,W], col_index and col_weight int64 [B,Wo,2], row_index and row_weight
// int64 [B,Ho,2] (common/warp_u8_math.h), on one device. Values are not checked (a device sync): indices
// are clamped into the image and weights into [0, 32] by the kernels.
inline void check_warp_linear_u8(const at::Tensor& input, const at::Tensor& col_index, const at::Tensor& col_weight,
                                 const at::Tensor& row_index, const at::Tensor& row_weight) {
  SLADD_CHECK_TENSOR(input, at::kByte, 4);
  SLADD_CHECK_TENSOR(col_index, at::kLong, 3);
  SLADD_CHECK_TENSOR(col_weight, at::kLong, 3);
  SLADD_CHECK_TENSOR(row_index, at::kLong, 3);
  SLADD_CHECK_TENSOR(row_weight, at::kLong, 3);
  const int64_t B = input.size(0);
  TORCH_CHECK(col_index.size(0) == B && col_index.size(2) == kWarpU8Taps,
              "col_index must be [B,Wo,2] with input's B = ", B, ", got ", col_index.sizes());
  TORCH_CHECK(row_index.size(0) == B && row_index.size(2) == kWarpU8Taps,
              "row_index must be [B,Ho,2] with input's B = ", B, ", got ", row_index.sizes());
  TORCH_CHECK(col_weight.sizes() == col_index.sizes(), "col_weight must match col_index, got ", col_weight.sizes());
  TORCH_CHECK(row_weight.sizes() == row_index.sizes(), "row_weight must match row_index, got ", row_weight.sizes());
  TORCH_CHECK(input.size(1) <= kInt32Max && input.size(2) <= kInt32Max && input.size(3) <= kInt32Max &&
                  col_index.size(1) <= kInt32Max && row_index.size(1) <= kInt32Max,
              "warp_linear_u8: C, H, W, Ho and Wo must each fit in int32");
  check_same_device(input, col_index, "col_index");
  check_same_device(input, col_weight, "col_weight");
  check_same_device(input, row_index, "row_index");
  check_same_device(input, row_weight, "row_weight");
}

// piecewise_affine_grid: tx, ty float32 [B,4,4], step float32 [B], main bool [B,9], canvas >= 1, on one device.
inline void check_piecewise_affine_grid(const at::Tensor& tx, const at::Tensor& ty, const at::Tensor& step,
                                        const at::Tensor& main, int64_t canvas) {
  SLADD_CHECK_TENSOR(tx, at::kFloat, 3);
  SLADD_CHECK_TENSOR(ty, at::kFloat, 3);
  SLADD_CHECK_TENSOR(step, at::kFloat, 1);
  SLADD_CHECK_TENSOR(main, at::kBool, 2);
  const int64_t B = tx.size(0);
  TORCH_CHECK(tx.size(1) == kPiecewiseMesh && tx.size(2) == kPiecewiseMesh && ty.sizes() == tx.sizes(),
              "tx and ty must be [B,4,4], got ", tx.sizes(), " and ", ty.sizes());
  TORCH_CHECK(step.size(0) == B && main.size(0) == B && main.size(1) == (kPiecewiseMesh - 1) * (kPiecewiseMesh - 1),
              "step must be [B] and main [B,9] with tx's B = ", B, ", got ", step.sizes(), " and ", main.sizes());
  TORCH_CHECK(canvas >= 1 && canvas <= 46340, "piecewise_affine_grid: canvas must be in [1, 46340], got ", canvas);
  check_same_device(tx, ty, "ty");
  check_same_device(tx, step, "step");
  check_same_device(tx, main, "main");
}

// hsv_shift: rgb uint8 [B,3,H,W], shifts float32 [B,3] (hue, saturation, value), block >= 0 (OpenCV's
// SIMD block in pixels; 0: none). The shifts' values are not checked (a device sync): any float has a
// defined move (common/hsv_math.h hsv_moves).
inline void check_hsv_shift(const at::Tensor& rgb, const at::Tensor& shifts, int64_t block) {
  check_color_planes(rgb, at::kByte, "rgb");
  SLADD_CHECK_TENSOR(shifts, at::kFloat, 2);
  TORCH_CHECK(shifts.size(0) == rgb.size(0) && shifts.size(1) == 3, "shifts must be [B,3] with rgb's B = ",
              rgb.size(0), ", got ", shifts.sizes());
  TORCH_CHECK(block >= 0, "block must be >= 0 (0: no SIMD block), got ", block);
  TORCH_CHECK(rgb.size(3) <= kInt32Max, "hsv_shift: W must fit in int32");
  check_same_device(rgb, shifts, "shifts");
}

// sbi_quality: rgb uint8 [B,3,H,W], shifts float32 [B,3] (hsv_shift's), coeffs float32 [B,8]
// (common/sbi_quality_math.h), branch int64 [B], block >= 0. Values are not checked (a device sync):
// every coefficient and branch value has a defined result (a NaN level is 0, unknown branches act as 0).
inline void check_sbi_quality(const at::Tensor& rgb, const at::Tensor& shifts, const at::Tensor& coeffs,
                              const at::Tensor& branch, int64_t block) {
  check_hsv_shift(rgb, shifts, block);
  SLADD_CHECK_TENSOR(coeffs, at::kFloat, 2);
  TORCH_CHECK(coeffs.size(0) == rgb.size(0) && coeffs.size(1) == 8, "coeffs must be [B,8] with rgb's B = ",
              rgb.size(0), ", got ", coeffs.sizes());
  SLADD_CHECK_TENSOR(branch, at::kLong, 1);
  TORCH_CHECK(branch.size(0) == rgb.size(0), "branch must be [B] with rgb's B = ", rgb.size(0), ", got ",
              branch.sizes());
  TORCH_CHECK(rgb.size(2) <= kInt32Max && rgb.size(2) * rgb.size(3) <= kInt32Max,
              "sbi_quality: H and H * W must fit in int32");
  check_same_device(rgb, coeffs, "coeffs");
  check_same_device(rgb, branch, "branch");
}

// color_stats / color_apply: fake, real uint8 [B,3,H,W], mask float32 [B,1,H,W], mode int64 [B].
inline void check_color_common(const at::Tensor& fake, const at::Tensor& real, const at::Tensor& mask,
                               const at::Tensor& mode) {
  check_images(real, fake, mask);
  TORCH_CHECK(fake.size(1) == 3, "fake must be [B,3,H,W], got ", fake.sizes());
  TORCH_CHECK(fake.size(2) <= kInt32Max && fake.size(3) <= kInt32Max, "H and W must fit in int32, got ", fake.sizes());
  SLADD_CHECK_TENSOR(mode, at::kLong, 1);
  TORCH_CHECK(mode.size(0) == fake.size(0), "mode must be [B], got ", mode.sizes());
  check_same_device(fake, mode, "mode");
}

inline void check_color_stats(const at::Tensor& fake, const at::Tensor& real, const at::Tensor& mask,
                              const at::Tensor& mode, const at::Tensor& box) {
  check_color_common(fake, real, mask, mode);
  SLADD_CHECK_TENSOR(box, at::kLong, 2);
  TORCH_CHECK(box.size(0) == fake.size(0) && box.size(1) == 4, "box must be [B,4] (x, y, w, h), got ", box.sizes());
  check_same_device(fake, box, "box");
}

inline void check_color_apply(const at::Tensor& fake, const at::Tensor& real, const at::Tensor& mask,
                              const at::Tensor& mode, const at::Tensor& stats, const at::Tensor& blurred,
                              const at::Tensor& blur_row) {
  check_color_common(fake, real, mask, mode);
  SLADD_CHECK_TENSOR(stats, at::kDouble, 2);
  TORCH_CHECK(stats.size(0) == fake.size(0) && stats.size(1) == kColorStats, "stats must be [B,", kColorStats,
              "] float64, got ", stats.sizes());
  SLADD_CHECK_TENSOR(blurred, at::kByte, 4);
  TORCH_CHECK(blurred.size(1) == 6 && blurred.size(2) == fake.size(2) && blurred.size(3) == fake.size(3),
              "blurred must be [N,6,H,W] uint8, got ", blurred.sizes());
  SLADD_CHECK_TENSOR(blur_row, at::kLong, 1);
  TORCH_CHECK(blur_row.size(0) == fake.size(0), "blur_row must be [B], got ", blur_row.sizes());
  check_same_device(fake, stats, "stats");
  check_same_device(fake, blurred, "blurred");
  check_same_device(fake, blur_row, "blur_row");
}

}  // namespace sladd
