// Per-pixel blend formulas shared by the CPU and CUDA kernels.
//
// SLADD's alpha blend (t = 0; constant alpha, bug B10 kept) and copy-with-ratio (t = 2) are the same
// formula with a per-sample weight w: out = R + m * w * (S - R), then uint8 truncation
// (numpy's astype(uint8) after the float blend). fmaf is used explicitly so that g++ and nvcc round
// identically (nvcc would otherwise contract a*b+c into an FMA and g++ would not).
#pragma once
#include "macros.h"

namespace sladd {

// Clamp to [0, 255] then truncate toward zero (OpenCV's seamlessClone rule and numpy's astype). NaN
// (only with check_values=False) gives 0 on every backend: its float -> int conversion is undefined.
SLADD_HD u8 clamp_trunc_u8(float v) {
  v = !(v > 0.0f) ? 0.0f : (v > 255.0f ? 255.0f : v);
  return (u8)v;
}

SLADD_HD u8 blend_linear_px(u8 target, u8 source, float mask, float weight) {
  const float r = (float)target;
  const float d = (float)source - r;
  return clamp_trunc_u8(fmaf(mask * weight, d, r));
}

}  // namespace sladd
