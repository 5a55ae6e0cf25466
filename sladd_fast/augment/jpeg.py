"""A JPEG encode/decode round trip emulated on the batch's device, per-sample quality, no host copy.

What libjpeg(-turbo) does for cv2.imencode('.jpg', img, [IMWRITE_JPEG_QUALITY, q]) + cv2.imdecode,
step by step, batched:
1. RGB -> YCbCr (JFIF full range), rounded to integers;
2. 4:2:0 chroma: each 2x2 block averaged as (sum + bias) >> 2, bias 1, 2 alternating by column
   (jcsample.c h2v2_downsample); pixels replicated on the right and bottom up to a multiple of 16,
   then chroma rows past ceil(H/2) replaced by the last real one (jcprepct.c pads the downsampled
   rows at the bottom);
3. per 8x8 block, level shift -128, DCT-II, quantisation by the IJG tables scaled for quality q
   (q < 50: 5000/q %, else 200 - 2q %; entries clamped to [1, 255], baseline), rounding half away
   from zero;
4. dequantisation, inverse DCT, +128, rounded and clamped to [0, 255];
5. chroma upsampled by the "fancy" triangle filter (jdsample.c h2v2_fancy_upsample: 3/4 nearer,
   1/4 further sample, with its +8 / +7 rounding; at the right and bottom edges the last real chroma
   sample, ceil(W/2) and ceil(H/2), is repeated, not the MCU padding) and YCbCr -> RGB, rounded and
   clamped.
One csrc op, ``jpeg_round_trip`` (common/jpeg_math.h): a thread per (sample, table entry) writes the
quantisation tables, one per (sample, 8x8 block of a 16x16 MCU) codes the block into uint8 planes (in
place, a row or column at a time: no spills), then one per (sample, pixel) upsamples the chroma and
converts back: three launches, about 1.5 bytes of scratch per pixel (a chain of ~180 float-plane PyTorch
ops before). Its
PyTorch reference (ops/_reference.py) takes the same float32 steps in the same order: equal bit for bit.
Differences from libjpeg: the DCTs are float transforms (rows, then columns), libjpeg's default
(JDCT_ISLOW) is a scaled integer approximation, so a coefficient on a rounding edge can quantise
differently; the README gives the PSNR to a real cv2 round trip. ``bgr=True`` runs the codec on the channels in
reverse order (Face X-ray passes its RGB array to cv2, which takes it as BGR).
"""
from __future__ import annotations

import torch

from sladd_fast.ops import _checks
from sladd_fast.ops._dispatch import op
from sladd_fast.ops._reference import jpeg_quant_tables as quant_tables


def jpeg_round_trip(images: torch.Tensor, quality: torch.Tensor, bgr: bool = False,
                    select: torch.Tensor | None = None) -> torch.Tensor:
    """Emulated JPEG compression of each sample at its own quality.

    Args:
        images: uint8 [B,3,H,W], any device. quality: int64 [B] (clamped to [1, 100], as libjpeg does).
        bgr: treat the channels as B, G, R (what cv2.imencode does with any array it is given).
        select: optional bool [B]: only these samples go through JPEG, the others come back unchanged
            (default: all).
    Returns:
        uint8 [B,3,H,W], the decoded images.
    """
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.dim() != 4 \
            or images.shape[1] != 3 or images.shape[2] < 1 or images.shape[3] < 1:
        got = f"{images.dtype} {list(images.shape)}" if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be uint8 [B,3,H,W] with H, W >= 1, got {got}")
    B = images.shape[0]
    _checks.tensor("quality", quality, torch.int64, (B,))
    if select is None:
        select = torch.ones(B, dtype=torch.bool, device=images.device)
    _checks.tensor("select", select, torch.bool, (B,))
    _checks.same_device(images=images, quality=quality, select=select)
    return op("jpeg_round_trip")(images.contiguous(), quality.contiguous(), select.contiguous(), bool(bgr))


__all__ = ["jpeg_round_trip", "quant_tables"]
