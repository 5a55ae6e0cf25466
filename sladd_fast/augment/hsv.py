"""albumentations' uint8 HueSaturationValue, batched: OpenCV's 8-bit RGB -> HSV -> RGB round trip, bit for
bit, with the per-channel lookup tables between: the csrc op ``hsv_shift`` (common/hsv_math.h; CPU
kernel vectorised with AVX2 + FMA where the CPU has them, CUDA kernel, NVRTC launcher), its PyTorch
reference ``sladd_fast.ops._reference.hsv_shift`` (where ``rgb_to_hsv_u8`` / ``hsv_to_rgb_u8`` below live).

OpenCV (modules/imgproc/src/color_hsv.simd.hpp, 4.x):
- RGB2HSV_b is integer arithmetic: V = max; S = (diff * sdiv_table[V] + 2^11) >> 12; H from the max
  channel's difference times hdiv_table[diff], same rounding, + 180 below 0 (tables: round(255 * 2^12 / i),
  round(180 * 2^12 / (6 i))). Its SIMD and scalar paths agree.
- HSV2RGB_b goes through float32: h = H * (6/180), s = S / 255, v = V / 255 (products with the float32
  constants), sector = trunc(h) (mod 6), f = h - sector, the four values v, v (1 - s), v (1 - s f),
  v (1 - s (1 - f)), times 255. The x86-64 wheels compile it with FMA contraction (1 - s f and
  1 - s (1 - f) are fused: one rounding), and the two paths end differently: the SIMD loop, which takes
  each row's pixels in blocks of 4 float vectors (``block``: 64 pixels with AVX-512, 32 with AVX2, 16
  with SSE / NEON), truncates; the scalar loop over the row's last ``W % block`` pixels rounds (half to
  even). Both are reproduced: the fused terms come from two 256 x 256 float32 tables computed exactly
  (float64 with round-to-odd, then one rounding to float32), the rest is float32 PyTorch arithmetic in
  OpenCV's order; the kernels call C's fmaf, exactly rounded on the host and the device, and keep every
  other product and sum a separate float32 operation.
Measured against cv2.cvtColor 4.14 (x86-64 wheel, AVX-512 CPU): 0 mismatches over all 2^24 colours for
RGB -> HSV, over all 180 x 256 x 256 HSV triples for HSV -> RGB (widths 256 and 4089: SIMD path; 1:
scalar path; 100 and 380: both), for the round trip, and with shifts of either sign. Not reproduced: a
build without FMA contraction (SSE-only dispatch, or another compiler); modelled, its scalar path differs
from the fused one by one level on 429 of the 11.8M HSV triples.

The lookup tables (``np.mod(ar + hue, 180)``, ``np.clip(ar + sat, 0, 255)``, then astype(uint8)) are, for
integer ``ar``, ``(ar + floor(shift)) mod 180`` and ``clip(ar + floor(shift), 0, 255)``: a shift in (-1, 0)
moves every level down by one (hue 0 -> 179, saturation / value 0 stays 0), a shift in [0, 1) changes
nothing. That holds for shifts as float32 values (SbiParams) replayed as Python floats (the baseline); a
float64 shift within about 1e-14 below an integer would round up in numpy's sum, and so does any level
plus a shift beyond 2^53 (here the moves are exact). The op reduces the hue move mod 180 and clamps the
saturation / value moves to [-256, 256] (the same tables for any finite shift); a NaN shift, and an
infinite hue shift, moves nothing. ``shift_hsv_u8`` floors, reduces and clamps the shifts the same way,
exactly (in float64, or int64 for integer shifts), before the op takes them as float32, so a shift
beyond 2^24 in magnitude, which float32 would round, keeps its tables.
"""
from __future__ import annotations

import torch

from sladd_fast.ops import _checks
from sladd_fast.ops import _reference as _ref
from sladd_fast.ops._dispatch import op

HSV_BLOCK = 64  # pixels per SIMD block of OpenCV's HSV2RGB_b with AVX-512 (4 x 16 floats); AVX2: 32

rgb_to_hsv_u8 = _ref.rgb_to_hsv_u8


def hsv_to_rgb_u8(hsv: torch.Tensor, block: int = HSV_BLOCK) -> torch.Tensor:
    """cv2.cvtColor(COLOR_HSV2RGB) on 8-bit values: [..., 3, H, W] integer-valued (H in [0, 256), S, V in
    [0, 255]) -> float32 [..., 3, H, W] holding 0..255. ``block``: OpenCV's SIMD block in pixels (the
    last ``W % block`` columns of each row take its rounding scalar path; 0: all columns do)."""
    return _ref.hsv_to_rgb_u8(hsv, block)


def _level_moves(shifts: torch.Tensor) -> torch.Tensor:
    """float32 [B,3] shifts the op maps to the same tables as ``shifts``: float32 shifts as they are (the op
    floors, reduces and clamps them exactly); others floored, the hue's reduced mod 180 (torch.fmod: exact)
    and the saturation's / value's clamped to [-256, 256] in float64 (integer dtypes: int64), where they
    are exact, before the float32 conversion, which would round a shift beyond 2^24. NaN and infinite
    shifts keep their meaning (fmod of an infinite hue shift is NaN: no move, as the op's)."""
    if shifts.dtype == torch.float32:
        return shifts
    k = shifts.double().floor() if shifts.is_floating_point() else shifts.long()
    return torch.cat([torch.fmod(k[:, :1], 180), k[:, 1:].clamp(-256, 256)], 1).float()


def shift_hsv_u8(rgb: torch.Tensor, shifts: torch.Tensor, block: int = HSV_BLOCK) -> torch.Tensor:
    """albumentations' HueSaturationValue on uint8 images, per sample: RGB -> HSV (OpenCV), each channel
    through ``np.clip(ar + shift, ...)`` / ``np.mod(ar + shift, 180)`` cast to uint8, HSV -> RGB (OpenCV).
    The csrc op ``hsv_shift``; no host sync.

    Args:
        rgb: [B,3,H,W] integer-valued, 0..255, any real dtype and device (not uint8: clamped to 0..255
            and converted, which truncates non-integers; values are not checked).
        shifts: [B,3] (hue, saturation, value) in uint8 units (hue in OpenCV's 0..180), a floating or
            integer dtype, on ``rgb``'s device.
        block: OpenCV's SIMD block in pixels, >= 0 (see ``hsv_to_rgb_u8``).
    Returns:
        [B,3,H,W] in ``rgb``'s dtype.
    Raises:
        ValueError: naming the argument, for a wrong type, dtype, shape or device.
    """
    if not isinstance(rgb, torch.Tensor):
        raise ValueError(f"rgb must be a torch.Tensor, got {type(rgb).__name__}")
    if rgb.dtype == torch.bool or rgb.is_complex():
        raise ValueError(f"rgb must have a real dtype, got {rgb.dtype}")
    _checks.tensor("rgb", rgb, rgb.dtype, (None, 3, None, None))
    if not isinstance(shifts, torch.Tensor):
        raise ValueError(f"shifts must be a torch.Tensor, got {type(shifts).__name__}")
    if shifts.dtype == torch.bool or shifts.is_complex():
        raise ValueError(f"shifts must have a floating or integer dtype, got {shifts.dtype}")
    _checks.tensor("shifts", shifts, shifts.dtype, (rgb.shape[0], 3))
    _checks.same_device(rgb=rgb, shifts=shifts)
    if isinstance(block, bool) or not isinstance(block, int) or block < 0:
        raise ValueError(f"block must be an int >= 0 (0: no SIMD block), got {block!r}")
    x = rgb if rgb.dtype == torch.uint8 else rgb.clamp(0, 255).to(torch.uint8)
    out = op("hsv_shift")(x.contiguous(), _level_moves(shifts).contiguous(), block)
    return out if rgb.dtype == torch.uint8 else out.to(rgb.dtype)


__all__ = ["HSV_BLOCK", "hsv_to_rgb_u8", "rgb_to_hsv_u8", "shift_hsv_u8"]
