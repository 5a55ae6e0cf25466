"""A JPEG encode/decode round trip emulated on the batch's device, per-sample quality, no host copy.

What libjpeg(-turbo) does for cv2.imencode('.jpg', img, [IMWRITE_JPEG_QUALITY, q]) + cv2.imdecode,
step by step, batched:
1. RGB -> YCbCr (JFIF full range), rounded to integers;
2. 4:2:0 chroma: each 2x2 block averaged as (sum + bias) >> 2, bias 1, 2 alternating by column
   (jcsample.c h2v2_downsample); edges replicated up to a multiple of 16 pixels;
3. per 8x8 block, level shift -128, DCT-II, quantisation by the IJG tables scaled for quality q
   (q < 50: 5000/q %, else 200 - 2q %; entries clamped to [1, 255], baseline), rounding half away
   from zero;
4. dequantisation, inverse DCT, +128, rounded and clamped to [0, 255];
5. chroma upsampled by the "fancy" triangle filter (jdsample.c h2v2_fancy_upsample: 3/4 nearer,
   1/4 further sample, with its +8 / +7 rounding) and YCbCr -> RGB, rounded and clamped.
Differences from libjpeg: the DCTs are exact float transforms, libjpeg's default (JDCT_ISLOW) is a
scaled integer approximation, so a coefficient on a rounding edge can quantise differently; the
README gives the PSNR to a real cv2 round trip. ``bgr=True`` runs the codec on the channels in
reverse order (Face X-ray passes its RGB array to cv2, which takes it as BGR).
"""
from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F

from sladd_fast._consts import const

_LUMA = (16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
         14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
         49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99)
_CHROMA = (17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
           47, 66, 99, 99, 99, 99, 99, 99) + (99,) * 32


@functools.lru_cache(maxsize=None)  # keys: sizes and devices; never evicted (CUDA graphs read it)
def _dct2_matrix(device: str) -> torch.Tensor:
    """The 2-D 8x8 DCT-II as one float32 [64, 64] matrix (kron(D, D), D orthonormal), so a whole
    plane's blocks transform in one GEMM: coefficients = blocks [N, 64] @ K^T."""
    k = torch.arange(8, dtype=torch.float64)
    d = torch.cos((2 * k[None] + 1) * k[:, None] * math.pi / 16) * math.sqrt(2 / 8)
    d[0] /= math.sqrt(2)
    return torch.kron(d, d).float().to(device)


def quant_tables(quality: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(luma, chroma) float32 [B,64] IJG tables for int64 qualities [B] in [1, 100] (jcparam.c)."""
    q = quality.clamp(1, 100).double()
    scale = torch.where(q < 50, torch.floor(5000 / q), 200 - 2 * q)[:, None]
    base_l = const(_LUMA, quality.device, torch.float64)[None]  # cached per device: no copy per call
    base_c = const(_CHROMA, quality.device, torch.float64)[None]
    lum = torch.floor((base_l * scale + 50) / 100).clamp(1, 255)
    chr_ = torch.floor((base_c * scale + 50) / 100).clamp(1, 255)
    return lum.float(), chr_.float()


def _codec_plane(x: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Steps 3-4 on float32 planes [B,H,W] (H, W multiples of 8) with tables [B,64]."""
    B, H, W = x.shape
    k = _dct2_matrix(str(x.device))
    blocks = (x - 128).view(B, H // 8, 8, W // 8, 8).permute(0, 1, 3, 2, 4).reshape(B, -1, 64)
    coef = blocks @ k.T
    t = table[:, None]
    qc = torch.sign(coef) * torch.floor(coef.abs() / t + 0.5)  # round half away from zero
    rec = (qc * t) @ k
    rec = rec.view(B, H // 8, W // 8, 8, 8).permute(0, 1, 3, 2, 4).reshape(B, H, W)
    return (rec + 128).round().clamp(0, 255)


def _fancy_up(c: torch.Tensor) -> torch.Tensor:
    """h2v2_fancy_upsample on integer-valued float32 [B,h,w] -> [B,2h,2w]."""
    up = F.pad(c[:, None], (0, 0, 1, 1), mode="replicate")[:, 0]  # rows -1 and h replicated
    near, above, below = up[:, 1:-1], up[:, :-2], up[:, 2:]
    rows = torch.stack([3 * near + above, 3 * near + below], 2).flatten(1, 2)  # [B,2h,w] column sums
    left = torch.cat([rows[:, :, :1], rows[:, :, :-1]], 2)
    right = torch.cat([rows[:, :, 1:], rows[:, :, -1:]], 2)
    even = torch.floor((3 * rows + left + 8) / 16)
    odd = torch.floor((3 * rows + right + 7) / 16)
    # the first and last output columns use the column sum alone (x4)
    even[:, :, 0] = torch.floor((4 * rows[:, :, 0] + 8) / 16)
    odd[:, :, -1] = torch.floor((4 * rows[:, :, -1] + 7) / 16)
    return torch.stack([even, odd], 3).flatten(2, 3)


def jpeg_round_trip(images: torch.Tensor, quality: torch.Tensor, bgr: bool = False) -> torch.Tensor:
    """Emulated JPEG compression of each sample at its own quality.

    Args:
        images: uint8 [B,3,H,W], any device. quality: int64 [B] in [1, 100].
        bgr: treat the channels as B, G, R (what cv2.imencode does with any array it is given).
    Returns:
        uint8 [B,3,H,W], the decoded images.
    """
    if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be uint8 [B,3,H,W], got {images.dtype} {list(images.shape)}")
    if quality.shape != (images.shape[0],):
        raise ValueError(f"quality must be int64 [{images.shape[0]}], got {list(quality.shape)}")
    B, _, H, W = images.shape
    x = images.float()
    if bgr:
        x = x.flip(1)
    Hp, Wp = -(-H // 16) * 16, -(-W // 16) * 16
    x = F.pad(x, (0, Wp - W, 0, Hp - H), mode="replicate")
    r, g, b = x.unbind(1)
    y = (0.299 * r + 0.587 * g + 0.114 * b).round()
    cb = (-0.168735892 * r - 0.331264108 * g + 0.5 * b + 128).round().clamp(0, 255)
    cr = (0.5 * r - 0.418687589 * g - 0.081312411 * b + 128).round().clamp(0, 255)
    bias = (torch.arange(Wp // 2, device=x.device) % 2 + 1).float()
    cb = torch.floor((F.avg_pool2d(cb[:, None], 2)[:, 0] * 4 + bias) / 4)
    cr = torch.floor((F.avg_pool2d(cr[:, None], 2)[:, 0] * 4 + bias) / 4)
    lum, chroma = quant_tables(quality)
    y = _codec_plane(y, lum)
    cb = _fancy_up(_codec_plane(cb, chroma)) - 128
    cr = _fancy_up(_codec_plane(cr, chroma)) - 128
    out = torch.stack([y + 1.402 * cr, y - 0.344136286 * cb - 0.714136286 * cr, y + 1.772 * cb], 1)
    out = out.round().clamp(0, 255)[:, :, :H, :W]
    if bgr:
        out = out.flip(1)
    return out.to(torch.uint8)
