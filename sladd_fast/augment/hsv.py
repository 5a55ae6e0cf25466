"""albumentations' uint8 HueSaturationValue, batched: OpenCV's 8-bit RGB -> HSV -> RGB round trip, bit for
bit, with the per-channel lookup tables between.

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
  OpenCV's order.
Measured against cv2.cvtColor 4.14 (x86-64 wheel, AVX-512 CPU): 0 mismatches over all 2^24 colours for
RGB -> HSV, over all 180 x 256 x 256 HSV triples for HSV -> RGB (widths 256 and 4089: SIMD path; 1:
scalar path; 100 and 380: both), for the round trip, and with shifts of either sign. Not reproduced: a
build without FMA contraction (SSE-only dispatch, or another compiler); modelled, its scalar path differs
from the fused one by one level on 429 of the 11.8M HSV triples.

The lookup tables (``np.mod(ar + hue, 180)``, ``np.clip(ar + sat, 0, 255)``, then astype(uint8)) are, for
integer ``ar``, ``(ar + floor(shift)) mod 180`` and ``clip(ar + floor(shift), 0, 255)``: a shift in (-1, 0)
moves every level down by one (hue 0 -> 179, saturation / value 0 stays 0), a shift in [0, 1) changes
nothing. That holds for shifts as float32 values (SbiParams) replayed as Python floats (the baseline); a
float64 shift within about 1e-14 below an integer would round up in numpy's sum.
"""
from __future__ import annotations

import functools

import torch

from sladd_fast._consts import const

HSV_BLOCK = 64  # pixels per SIMD block of OpenCV's HSV2RGB_b with AVX-512 (4 x 16 floats); AVX2: 32
_SHIFT = 12
_SDIV = tuple([0] + [round((255 << _SHIFT) / i) for i in range(1, 256)])  # no ties: round == cvRound
_HDIV180 = tuple([0] + [round((180 << _SHIFT) / (6 * i)) for i in range(1, 256)])
# OpenCV's float32 constants (6.f / 180, 1.f / 255): a Python float rounds to the same float32
_HSCALE, _INV255 = 6 / 180, 1 / 255
# sector -> which of (v, v(1-s), v(1-s f), v(1-s(1-f))) each of R, G, B takes (OpenCV's sector_data, BGR)
_SECTOR_RGB = ((0, 3, 1), (2, 0, 1), (1, 0, 3), (1, 2, 0), (3, 1, 0), (0, 1, 2))


def _one_minus_product(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """float32 fma(-a, b, 1) of float32 a, b in [0, 1], exactly: a b is exact in float64; 1 - a b rounded
    to odd in float64 (Fast2Sum gives the error), then one rounding to float32 (53 >= 24 + 2 bits)."""
    p = a.double() * b.double()
    hi = 1 - p
    lo = (1 - hi) - p  # hi + lo == 1 - p exactly (Fast2Sum, |1| >= |p|)
    even = (hi.view(torch.int64) & 1) == 0
    toward = torch.where(lo > 0, torch.full_like(hi, float("inf")), torch.full_like(hi, float("-inf")))
    hi = torch.where((lo != 0) & even, torch.nextafter(hi, toward), hi)
    return hi.float()


@functools.lru_cache(maxsize=16)
def _fused_tables(device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The factors (1, 1 - s, fma(-s, f, 1), fma(-s, 1 - f, 1)) of v for every (H, S) byte pair, float32
    [4 * 65536] (index k * 65536 + H * 256 + S), and OpenCV's sector of each H, int64 [256]. Built on the
    CPU once per device."""
    H = torch.arange(256, dtype=torch.float32) * torch.tensor(_HSCALE, dtype=torch.float32)
    pre = H.trunc()
    f = H - pre
    s = torch.arange(256, dtype=torch.float32) * torch.tensor(_INV255, dtype=torch.float32)
    one_minus_s = (1 - s)[None].expand(256, 256)
    f2 = _one_minus_product(s[None], f[:, None])
    f3 = _one_minus_product(s[None], (1 - f)[:, None])
    sector = (pre - (pre * torch.tensor(1 / 6, dtype=torch.float32)).trunc() * 6).long()
    factors = torch.stack([torch.ones(256, 256), one_minus_s, f2, f3]).reshape(-1)  # [4 * 65536]
    return factors.to(device), sector.to(device)


def rgb_to_hsv_u8(rgb: torch.Tensor) -> torch.Tensor:
    """cv2.cvtColor(COLOR_RGB2HSV) on 8-bit values: [..., 3, H, W] integer-valued (any dtype, 0..255) ->
    int32 [..., 3, H, W] (H in [0, 180), S and V in [0, 255])."""
    dev = rgb.device
    r, g, b = rgb.to(torch.int32).unbind(-3)
    v = torch.maximum(torch.maximum(r, g), b)
    d = v - torch.minimum(torch.minimum(r, g), b)
    half = 1 << (_SHIFT - 1)
    s = (d * const(_SDIV, dev, torch.int32)[v.long()] + half) >> _SHIFT
    h = torch.where(v == r, g - b, torch.where(v == g, b - r + 2 * d, r - g + 4 * d))
    h = (h * const(_HDIV180, dev, torch.int32)[d.long()] + half) >> _SHIFT  # arithmetic shift: floor
    h = torch.where(h < 0, h + 180, h)
    return torch.stack([h, s, v], -3)


def hsv_to_rgb_u8(hsv: torch.Tensor, block: int = HSV_BLOCK) -> torch.Tensor:
    """cv2.cvtColor(COLOR_HSV2RGB) on 8-bit values: [..., 3, H, W] integer-valued (H in [0, 256), S, V in
    [0, 255]) -> float32 [..., 3, H, W] holding 0..255. ``block``: OpenCV's SIMD block in pixels (the
    last ``W % block`` columns of each row take its rounding scalar path; 0: all columns do)."""
    dev = hsv.device
    factors, sector = _fused_tables(str(dev))
    hi = hsv.long()
    h, s, v = hi.unbind(-3)
    idx = h * 256 + s
    sel = const(_SECTOR_RGB, dev, torch.int64)[sector[h]]  # [..., H, W, 3]
    fac = factors[sel.movedim(-1, -3) * 65536 + idx.unsqueeze(-3)]  # [..., 3, H, W]
    vf = v.float() * const((_INV255,), dev)
    out = (vf.unsqueeze(-3) * fac) * const((255.0,), dev)
    W = out.shape[-1]
    simd = torch.arange(W, device=dev) < (W - W % block if block > 0 else 0)
    return torch.where(simd, out.trunc(), out.round()).clamp(0, 255)


def shift_hsv_u8(rgb: torch.Tensor, shifts: torch.Tensor, block: int = HSV_BLOCK) -> torch.Tensor:
    """albumentations' HueSaturationValue on uint8 images, per sample: RGB -> HSV (OpenCV), each channel
    through ``np.clip(ar + shift, ...)`` / ``np.mod(ar + shift, 180)`` cast to uint8, HSV -> RGB (OpenCV).

    Args:
        rgb: [B,3,H,W] integer-valued, 0..255, any dtype and device.
        shifts: float [B,3] (hue, saturation, value) in uint8 units (hue in OpenCV's 0..180).
        block: OpenCV's SIMD block (see ``hsv_to_rgb_u8``).
    Returns:
        [B,3,H,W] in ``rgb``'s dtype.
    """
    hsv = rgb_to_hsv_u8(rgb)
    k = shifts.floor().to(torch.int32)[:, :, None, None]
    h = torch.remainder(hsv[:, :1] + k[:, :1], 180)
    sv = (hsv[:, 1:] + k[:, 1:]).clamp(0, 255)
    return hsv_to_rgb_u8(torch.cat([h, sv], 1), block).to(rgb.dtype)


__all__ = ["HSV_BLOCK", "hsv_to_rgb_u8", "rgb_to_hsv_u8", "shift_hsv_u8"]
