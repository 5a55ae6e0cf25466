"""Batched Poisson solve for seamlessClone (NORMAL_CLONE): DST-I on each sample's exact ROI.

OpenCV solves lap(u) = rhs on the (h-2) x (w-2) interior of the mask's bounding box with a type-I
discrete sine transform. Here every sample keeps its own size n: the DST of size n is the matrix
S_n[k, m] = sin(pi (k+1)(m+1) / (n+1)), zero-padded to the canvas, so a batch of different ROI sizes
is solved exactly with four batched matrix products and no host sync:
    u = (2/(n_h+1)) (2/(n_w+1)) S_h [ (S_h rhs S_w) / eig ] S_w,
    eig[j, i] = 2 cos(pi (i+1)/(n_w+1)) + 2 cos(pi (j+1)/(n_h+1)) - 4.
"""
from __future__ import annotations

import functools
import math

import torch


TABLE_MAX = 256  # DST tables are cached for canvases up to this side (67 MB at 256); larger ones compute


def _dst_direct(n: torch.Tensor, size: int) -> torch.Tensor:
    """S_n zero-padded to [size,size] for each n (float32 [len(n),size,size]). The angle index
    (k+1)(m+1) is reduced modulo 2(n+1) in integers first, so sin() never sees a large argument."""
    k = torch.arange(1, size + 1, device=n.device, dtype=torch.int64)
    prod = k[:, None] * k[None, :]  # [size,size]
    period = 2 * (n + 1)  # [B]
    r = torch.remainder(prod[None], period[:, None, None])
    ang = r.double() * (math.pi / (n + 1).double()[:, None, None])
    s = torch.sin(ang).float()
    live = (k[None, :] <= n[:, None])  # [B,size]
    return s * (live[:, :, None] & live[:, None, :])


@functools.lru_cache(maxsize=None)  # keys: sizes and devices; never evicted (CUDA graphs read it)
def _dst_table(side: int, device: str) -> torch.Tensor:
    """float32 [side+1, side, side]: S_n for every n = 0..side, built once per side and device (in
    chunks, to bound the int64/double temporaries)."""
    n = torch.arange(side + 1, device=device, dtype=torch.int64)
    return torch.cat([_dst_direct(c, side) for c in n.split(16)])


def dst_matrices(n: torch.Tensor, size: int) -> torch.Tensor:
    """Per-sample DST-I matrices, float32 [B,size,size]; rows/cols >= n[b] are zero.

    S_n's entries do not depend on the padding, so for canvases up to TABLE_MAX they are gathered
    from one cached table per device (side rounded up to a multiple of 64) instead of being
    recomputed every call: the same values, without the per-call integer and double temporaries.
    """
    if size > TABLE_MAX:
        return _dst_direct(n, size)
    side = min(-(-size // 64) * 64, TABLE_MAX)
    table = _dst_table(side, str(n.device))
    return table[n.clamp(0, size), :size, :size]


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
    s_h = dst_matrices(n_h, Nh)  # [B,Nh,Nh]
    s_w = dst_matrices(n_w, Nw)  # [B,Nw,Nw]
    i = torch.arange(1, Nw + 1, device=rhs.device, dtype=torch.float64)
    j = torch.arange(1, Nh + 1, device=rhs.device, dtype=torch.float64)
    lam_w = 2 * torch.cos(math.pi * i[None] / (n_w.double()[:, None] + 1))  # [B,Nw]
    lam_h = 2 * torch.cos(math.pi * j[None] / (n_h.double()[:, None] + 1))  # [B,Nh]
    eig = (lam_h[:, :, None] + lam_w[:, None, :] - 4).float()
    live = (j[None, :] <= n_h[:, None])[:, :, None] & (i[None, :] <= n_w[:, None])[:, None, :]
    eig = torch.where(live, eig, torch.full_like(eig, -1.0))
    # Channels ride along the matrix columns, in the layout [B, Nh, C, Nw]: S_h @ X is one bmm over
    # [B, Nh, C Nw] and X @ S_w one over [B, Nh C, Nw], so the per-sample DST matrices are never
    # broadcast (copied) per channel. S is symmetric.
    # At most two [B,C,Nh,Nw] buffers live at a time (the GPU's peak memory is here).
    x = rhs.permute(0, 2, 1, 3).contiguous()  # [B,Nh,C,Nw]
    del rhs
    t = torch.bmm(s_h, x.view(B, Nh, C * Nw))
    del x
    spec = torch.bmm(t.view(B, Nh * C, Nw), s_w)
    del t
    spec = spec.view(B, Nh, C, Nw).div_(eig[:, :, None, :])
    t = torch.bmm(s_h, spec.view(B, Nh, C * Nw))
    del spec
    u = torch.bmm(t.view(B, Nh * C, Nw), s_w)
    del t
    scale = (4.0 / ((n_h + 1) * (n_w + 1)).float()).view(B, 1, 1, 1)
    return u.view(B, Nh, C, Nw).mul_(scale).permute(0, 2, 1, 3).contiguous()
