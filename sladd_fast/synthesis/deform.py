"""Random piecewise-affine deformation of a region mask (SLADD random_deform, spec §3.2), batched.

Replaces skimage's PiecewiseAffineTransform.estimate + warp, per sample, with one dense map for the
whole batch: a fixed 5x5 anchor mesh (anchors linspace(0, S-1, 5) truncated, as SLADD), each cell cut
into two triangles along the same diagonal (32 triangles); inside a triangle the map is the affine
interpolation of the displaced anchors. out(p) = mask(T(p)) bilinear with zeros outside (skimage
warp, order 1), then out *= mask, then cv2.GaussianBlur(5x5, sigma=3).

Deviation (bug B2, and skimage's Delaunay): SLADD jitters its anchor *rows* (a bug) and
triangulates the jittered anchors with Delaunay; here the anchors stay on the regular grid, whose
Delaunay triangulation is the 32-triangle split up to ties. Only anchor displacements are random.
"""
from __future__ import annotations

import functools

import torch

from sladd_fast._consts import const_rows
from sladd_fast.ops._dispatch import op
from sladd_fast.synthesis.filters import blur_support

DEFORM_BLUR = 5  # cv2.GaussianBlur((5, 5), 3)
DEFORM_SIGMA = 3.0


def random_deform(mask: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """SLADD's deformed mask M_d. mask float32 [B,1,S,S] in {0,1}; noise float32 [B,5,5,2].

    The piecewise-affine warp times the mask is the csrc op ``deform_mask`` (only on-pixels of the
    mask do any work); the 5x5 sigma-3 Gaussian follows. Returns float32 [B,1,S,S] in [0,1].
    """
    B, _, S, _ = mask.shape
    warped = op("deform_mask")(mask.contiguous(), noise.contiguous())
    kern = const_rows(_deform_kernel(), B, mask.device)
    radius = const_rows(DEFORM_BLUR // 2, B, mask.device, torch.int64)
    return blur_support(warped, kern, radius).clamp(0, 1)


@functools.lru_cache(maxsize=None)
def _deform_kernel() -> tuple[float, ...]:
    """cv2.GaussianBlur's 5-tap sigma-3 kernel, as float32 values (exp in float32, normalised)."""
    g = torch.exp(-(torch.arange(DEFORM_BLUR) - 2.0) ** 2 / (2 * DEFORM_SIGMA**2))
    return tuple((g / g.sum()).tolist())
