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

import torch
import torch.nn.functional as F

from sladd_fast.synthesis.filters import separable_blur
from sladd_fast.synthesis.params import MESH

DEFORM_BLUR = 5  # cv2.GaussianBlur((5, 5), 3)
DEFORM_SIGMA = 3.0


def mesh_anchors(size: int, device: torch.device) -> torch.Tensor:
    """int64 [5]: linspace(0, size-1, 5).astype(int)."""
    return torch.linspace(0, size - 1, MESH, dtype=torch.float64, device=device).long()


def deform_map(noise: torch.Tensor, size: int) -> torch.Tensor:
    """Dense map T(p) for every output pixel, float32 [B,size,size,2] (x, y) in pixels.

    noise: float32 [B,5,5,2] anchor displacements (row index = y anchor, col index = x anchor).
    Targets are clipped to [0, size-1] as SLADD clips them.
    """
    dev = noise.device
    a = mesh_anchors(size, dev)
    ax, ay = torch.meshgrid(a.float(), a.float(), indexing="xy")  # [5,5]: ax[r,c] = a[c], ay[r,c] = a[r]
    tgt = (torch.stack([ax, ay], -1)[None] + noise).clamp(0, size - 1)  # [B,5,5,2]
    p = torch.arange(size, device=dev)
    cell = (torch.bucketize(p, a[1:-1], right=True)).clamp(0, MESH - 2)  # [size]
    lo, hi = a[cell].float(), a[cell + 1].float()
    f = (p.float() - lo) / (hi - lo)  # [size] in [0,1]
    cy, cx = cell[:, None].expand(size, size), cell[None, :].expand(size, size)
    fy, fx = f[:, None].expand(size, size), f[None, :].expand(size, size)

    def v(dr: int, dc: int) -> torch.Tensor:  # [B,size,size,2]
        return tgt[:, cy + dr, cx + dc]

    v00, v10, v01, v11 = v(0, 0), v(0, 1), v(1, 0), v(1, 1)  # v10: next column (x), v01: next row (y)
    fx_, fy_ = fx[None, ..., None], fy[None, ..., None]
    lower = v00 + fx_ * (v10 - v00) + fy_ * (v01 - v00)
    upper = v11 + (1 - fx_) * (v01 - v11) + (1 - fy_) * (v10 - v11)
    return torch.where((fx + fy <= 1)[None, ..., None], lower, upper)


def random_deform(mask: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """SLADD's deformed mask M_d. mask float32 [B,1,S,S] in {0,1}; noise [B,5,5,2].

    Returns float32 [B,1,S,S] in [0,1].
    """
    B, _, S, _ = mask.shape
    T = deform_map(noise, S)
    grid = T / (S - 1) * 2 - 1  # align_corners=True: pixel centres at integers, as skimage
    warped = F.grid_sample(mask, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    warped = warped * mask
    g = torch.exp(-(torch.arange(DEFORM_BLUR, device=mask.device) - 2.0) ** 2 / (2 * DEFORM_SIGMA**2))
    kern = (g / g.sum()).expand(B, -1).contiguous()
    return separable_blur(warped, kern).clamp(0, 1)
