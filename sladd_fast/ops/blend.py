"""Blends of a source face into a target image: alpha, copy-with-ratio and Poisson (NORMAL_CLONE).

All take uint8 [B,3,H,W] images and a float32 [B,1,H,W] mask in [0,1] on one device and return
uint8 [B,3,H,W]. Non-differentiable. Rounding: float blend, clamp to [0,255], truncate toward zero
(numpy's astype(uint8) in SLADD, and OpenCV's rule in seamlessClone).
"""
from __future__ import annotations

import torch

from sladd_fast._sync import host_reads_ok
from sladd_fast.ops import _checks, poisson
from sladd_fast.ops._dispatch import op


def _images(target: torch.Tensor, source: torch.Tensor, mask: torch.Tensor, check_values: bool) -> torch.device:
    device = _checks.images(target, source, mask)
    if check_values:
        _checks.finite("mask", mask)
        _checks.in_range("mask", mask, 0.0, 1.0)
    return device


def _weight(name: str, w: torch.Tensor, B: int, device: torch.device, check_values: bool) -> torch.Tensor:
    _checks.tensor(name, w, torch.float32, (B,))
    if w.device != device:
        raise ValueError(f"{name} is on {w.device} but target is on {device}")
    if check_values:
        _checks.finite(name, w)
        _checks.in_range(name, w, 0.0, 1.0)
    return w.contiguous()


def blend_linear(target: torch.Tensor, source: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor, *,
                 check_values: bool = True) -> torch.Tensor:
    """out = trunc(clamp(R + m * w_b * (S - R))), the common form of SLADD's alpha and copy blends.

    Args:
        target: uint8 [B,C,H,W] (R). source: uint8, same shape (S).
        mask: float32 [B,1,H,W] in [0,1] (m). weight: float32 [B] in [0,1] (w).
    """
    device = _images(target, source, mask, check_values)
    weight = _weight("weight", weight, target.shape[0], device, check_values)
    return op("blend_linear")(target.contiguous(), source.contiguous(), mask.contiguous(), weight)


def feather_alpha(mask: torch.Tensor, feather: torch.Tensor) -> torch.Tensor:
    """SLADD's alpha for blend type 0: alpha = min(1, 1 / F), F = feather * faceSize, with blendImages'
    faceSize = max(max x - min x, max y - min y) over the mask's pixels (the bounding box's side - 1).

    SLADD draws feather = 0.2 u, u ~ U[0,1), and calls pointPolygonTest without distances, so the
    "feathered" weight d / F is the constant 1 / F inside the hull (bug B10, kept: it is what SLADD
    trained on; the 0-weight hull outline is not reproduced).

    Args:
        mask: float32 [B,1,H,W]. feather: float32 [B].
    Returns:
        float32 [B] in (0, 1]; 1 for empty masks.
    """
    _checks.tensor("mask", mask, torch.float32, (None, 1, None, None))
    _checks.tensor("feather", feather, torch.float32, (mask.shape[0],))  # float32 F: the int64 extent promotes
    x0, y0, w, h = mask_bbox(mask).unbind(-1)
    f = feather * (torch.maximum(w, h) - 1)  # boundingRect's w = max x - min x + 1
    return torch.where(f > 1.0, f, 1.0).reciprocal()  # 1 where f <= 1 or NaN


def hull_feather(mask: torch.Tensor, frac: torch.Tensor, *, check_values: bool = True) -> torch.Tensor:
    """Face X-ray's feathered blend weight: FaceSwap's blendImages (MarekKowalski/FaceSwap) per pixel.

    For each on-pixel p (mask != 0) of a sample, with hull the convex hull of its on-pixels (pixel
    centres at integer (x = col, y = row)) and faceSize = max(max x - min x, max y - min y) over them,
    weight = clip(cv2.pointPolygonTest(hull, p, measureDist=True) / (frac * faceSize), 0, 1): 0 on the
    hull's outline, rising linearly inwards, 1 from a distance of frac * faceSize on. Pixels off the
    mask get 0; so does every pixel of a sample whose on-pixels are collinear (a hull without area),
    empty, or whose frac * faceSize <= 0. Distances in float32 (OpenCV's are double: within 1e-4).
    csrc op ``hull_feather``: the hull from each row's end pixels by a monotone chain, then one
    thread per pixel; no host sync. Non-differentiable.

    Args:
        mask: float32 [B,1,H,W], any values, any device; "on" means != 0 (as np.where(mask != 0)).
        frac: float32 [B] on mask's device, the feather fraction per sample (FaceSwap's
            featherAmount, 0.2 there).
        check_values: check frac for NaN/inf (a host sync on GPU).
    Returns:
        float32 [B,1,H,W] in [0,1], on mask's device, contiguous.

    Example:
        >>> w = hull_feather((torch.rand(2, 1, 64, 64) > 0.5).float(), torch.full((2,), 0.2))
    """
    _checks.tensor("mask", mask, torch.float32, (None, 1, None, None))
    _checks.tensor("frac", frac, torch.float32, (None,))
    _checks.batch("frac", frac, mask.shape[0])
    _checks.same_device(mask=mask, frac=frac)
    if check_values:
        _checks.finite("frac", frac)
    return op("hull_feather")(mask.contiguous(), frac.contiguous())


def blend_alpha(target: torch.Tensor, source: torch.Tensor, mask: torch.Tensor, alpha: torch.Tensor, *,
                check_values: bool = True) -> torch.Tensor:
    """Alpha blend (type 0): alpha S + (1 - alpha) R on the mask. alpha: float32 [B] in [0,1]."""
    return blend_linear(target, source, mask, alpha, check_values=check_values)


def blend_copy(target: torch.Tensor, source: torch.Tensor, mask: torch.Tensor, ratio: torch.Tensor, *,
               check_values: bool = True) -> torch.Tensor:
    """Copy with ratio (type 2): R + m ratio (S - R). ratio: float32 [B] in [0,1] (SLADD's sigmoid(z))."""
    return blend_linear(target, source, mask, ratio, check_values=check_values)


def mask_bbox(mask: torch.Tensor, exclude_frame: bool = False) -> torch.Tensor:
    """Bounding box (cv2.boundingRect) of the mask's on-pixels (>= 0.5), int64 [B,4] (x, y, w, h).

    Empty masks give (0, 0, 0, 0). With ``exclude_frame`` the image's 1-pixel frame is ignored first,
    as seamlessClone does. No host sync.
    """
    return box_of(mask[:, 0] >= 0.5, exclude_frame)


def box_of(on: torch.Tensor, exclude_frame: bool = False) -> torch.Tensor:
    """Bounding box of the True pixels of on bool [B,H,W], int64 [B,4] (x, y, w, h); (0, 0, 0, 0)
    where none; with ``exclude_frame`` the 1-pixel image frame counts as False. csrc op ``box_of``
    (common/box_math.h): a scan per row on the CPU, per column on CUDA, then per sample; no host sync."""
    _checks.tensor("on", on, torch.bool, (None, None, None))
    return op("box_of")(on.contiguous(), bool(exclude_frame))


def poisson_roi(mask: torch.Tensor) -> torch.Tensor:
    """seamlessClone's boxes for SLADD's call, int64 [B,6] (x, y, w, h, dx, dy).

    The source box is the bounding box after OpenCV zeroes the mask's 1-pixel image frame. SLADD
    passes center = (l + w/2, t + h/2) of cv2.boundingRect of the *unzeroed* mask, and OpenCV places
    the destination box at center - size/2, so (dx, dy) differs from (x, y) by one pixel when the
    mask touches the image frame. Replicated for parity.
    """
    on = mask[:, 0] >= 0.5  # mask_bbox's test, made once for both boxes
    inner, full = box_of(on, exclude_frame=True), box_of(on)
    cx = full[:, 0] + torch.div(full[:, 2], 2, rounding_mode="floor")
    cy = full[:, 1] + torch.div(full[:, 3], 2, rounding_mode="floor")
    dx = cx - torch.div(inner[:, 2], 2, rounding_mode="floor")
    dy = cy - torch.div(inner[:, 3], 2, rounding_mode="floor")
    return torch.cat([inner, dx[:, None], dy[:, None]], -1)


def blend_poisson(target: torch.Tensor, source: torch.Tensor, mask: torch.Tensor, *,
                  check_values: bool = True, select: torch.Tensor | None = None) -> torch.Tensor:
    """Poisson blend with cv2.seamlessClone(NORMAL_CLONE) semantics, SLADD's centre (patch in place).

    Source gradients inside the (3x eroded) mask, target gradients elsewhere in the mask's bounding
    box, target values on the box's frame; solved per sample on its exact box by DST-I
    (sladd_fast.ops.poisson). Pixels outside the box are the target's. Empty masks return the target.
    See README for the measured agreement with OpenCV 4.x.

    Args:
        target: uint8 [B,3,H,W] (destination). source: uint8, same shape.
        mask: float32 [B,1,H,W], on-pixels >= 0.5.
        select: optional bool [B]; where False the sample is not blended (it returns the target and its
            box is emptied, so it costs nothing): a selection without a masked copy of ``mask``.
    Returns:
        uint8 [B,3,H,W].
    """
    device = _images(target, source, mask, check_values)
    B, C, H, W = target.shape
    if select is not None:
        _checks.tensor("select", select, torch.bool, (B,))
        _checks.same_device(target=target, select=select)
    if H < 3 or W < 3 or B == 0:
        return target.clone()
    roi = poisson_roi(mask)
    if select is not None:
        roi = torch.where(select[:, None], roi, torch.zeros((), dtype=roi.dtype, device=device))
    t, s, m = target.contiguous(), source.contiguous(), mask.contiguous()
    # The solve works on each sample's own box of the full (H-2) x (W-2) canvas (no host sync). Its
    # float planes (the rhs, the solve's scratch and the solution) are the GPU path's peak memory, where
    # every sample holds them: there one channel at a time keeps them at a third. On CPU (the Poisson
    # samples only) all channels at once, so the erosion is computed once.
    if host_reads_ok(device):
        return op("poisson_compose")(t, poisson.solve(op("poisson_rhs")(t, s, m, roi), roi), roi)
    out = torch.empty_like(t)
    for c in range(C):
        tc, sc = t[:, c:c + 1].contiguous(), s[:, c:c + 1].contiguous()
        out[:, c:c + 1] = op("poisson_compose")(tc, poisson.solve(op("poisson_rhs")(tc, sc, m, roi), roi), roi)
    return out


def xray_blend(both: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Face X-ray's colour transfer and feathered blend (BI's colorTransfer and blendImages), batched.

    Per sample: the partner is moved by the mean of (target - partner) over the mask (int32 means in
    the original; here exact integer sums, then one float32 division), truncated inside the mask, and
    composed as floor(w * partner + (1 - w) * target). csrc op ``xray_blend`` (common/xray_math.h): the
    sums per column, then per sample, then one thread per pixel; no host sync.

    Args:
        both: uint8 [B,6,H,W]: channels 0-2 the target, 3-5 the partner, any device.
        mask: float32 [B,1,H,W]: where the partner's colour is shifted (mask > 0); the mean is taken there.
        weight: float32 [B,1,H,W] in [0, 1]: the blend weight at every pixel (``hull_feather``'s is 0
            off the mask); values outside [0, 1] clamp the result, NaN gives 0.
    Returns:
        uint8 [B,3,H,W], on both's device.
    """
    _checks.tensor("both", both, torch.uint8, (None, 6, None, None))
    B, _, H, W = both.shape
    _checks.tensor("mask", mask, torch.float32, (B, 1, H, W))
    _checks.tensor("weight", weight, torch.float32, (B, 1, H, W))
    _checks.same_device(both=both, mask=mask, weight=weight)
    return op("xray_blend")(both.contiguous(), mask.contiguous(), weight.contiguous())
