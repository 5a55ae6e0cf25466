"""Batched Poisson solve for seamlessClone (NORMAL_CLONE): DST-I on each sample's exact ROI.

OpenCV solves lap(u) = rhs on the (h-2) x (w-2) interior of the mask's bounding box with a type-I
discrete sine transform. Here every sample keeps its own size n: the DST of size n is the matrix
S_n[k, m] = sin(pi (k+1)(m+1) / (n+1)), zero-padded to the canvas, so a batch of different ROI sizes
is solved exactly with four batched matrix products and no host sync:
    u = (2/(n_h+1)) (2/(n_w+1)) S_h [ (S_h rhs S_w) / eig ] S_w,
    eig[j, i] = 2 cos(pi (i+1)/(n_w+1)) + 2 cos(pi (j+1)/(n_h+1)) - 4.
"""
from __future__ import annotations

import math

import torch


def dst_matrices(n: torch.Tensor, size: int) -> torch.Tensor:
    """Per-sample DST-I matrices, float32 [B,size,size]; rows/cols >= n[b] are zero.

    The angle index (k+1)(m+1) is reduced modulo 2(n+1) in integers first, so sin() never sees a
    large float argument.
    """
    k = torch.arange(1, size + 1, device=n.device, dtype=torch.int64)
    prod = k[:, None] * k[None, :]  # [size,size]
    period = 2 * (n + 1)  # [B]
    r = torch.remainder(prod[None], period[:, None, None])
    ang = r.double() * (math.pi / (n + 1).double()[:, None, None])
    s = torch.sin(ang).float()
    live = (k[None, :] <= n[:, None])  # [B,size]
    return s * (live[:, :, None] & live[:, None, :])


def solve(rhs: torch.Tensor, roi: torch.Tensor) -> torch.Tensor:
    """Solves the Dirichlet Poisson problem for each ROI interior.

    Args:
        rhs: float32 [B,C,H-2,W-2], interior rhs moved to the origin (poisson_rhs output).
        roi: int64 [B,6] (x, y, w, h, dx, dy); samples with w or h < 3 give zeros.

    Returns:
        float32 [B,C,H-2,W-2] solution in the same layout.
    """
    B, C, Nh, Nw = rhs.shape
    n_w = (roi[:, 2] - 2).clamp(min=0, max=Nw)
    n_h = (roi[:, 3] - 2).clamp(min=0, max=Nh)
    s_h = dst_matrices(n_h, Nh)[:, None]  # [B,1,Nh,Nh]
    s_w = dst_matrices(n_w, Nw)[:, None]  # [B,1,Nw,Nw]
    i = torch.arange(1, Nw + 1, device=rhs.device, dtype=torch.float64)
    j = torch.arange(1, Nh + 1, device=rhs.device, dtype=torch.float64)
    lam_w = 2 * torch.cos(math.pi * i[None] / (n_w.double()[:, None] + 1))  # [B,Nw]
    lam_h = 2 * torch.cos(math.pi * j[None] / (n_h.double()[:, None] + 1))  # [B,Nh]
    eig = (lam_h[:, :, None] + lam_w[:, None, :] - 4).float()
    live = (j[None, :] <= n_h[:, None])[:, :, None] & (i[None, :] <= n_w[:, None])[:, None, :]
    eig = torch.where(live, eig, torch.full_like(eig, -1.0))[:, None]
    spec = s_h @ rhs @ s_w  # S symmetric
    u = s_h @ (spec / eig) @ s_w
    scale = (4.0 / ((n_h + 1) * (n_w + 1)).float()).view(B, 1, 1, 1)
    return u * scale
