// Float results rounded into the uint8 range, shared by the ops that store uint8 (or uint8-valued floats).
#pragma once
#include "macros.h"

namespace sladd {

// floor(v + 0.5) (half up) clamped to [0, 255]; NaN -> 0.
SLADD_HD float clamp_round_255(float v) {
  if (!(v == v)) return 0.0f;
  v = floorf(v + 0.5f);
  return v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
}

// rint(v) (half to even, as torch.round) clamped to [0, 255]; NaN -> 0.
SLADD_HD float rint_clamp_255(float v) {
  v = rintf(v);
  v = v > 0.0f ? v : 0.0f;  // NaN -> 0
  return v < 255.0f ? v : 255.0f;
}

}  // namespace sladd
