"""Batched image filters with OpenCV semantics and per-sample kernel sizes (no host sync)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from sladd_fast._consts import const
from sladd_fast.ops._dispatch import op as op_for

# cv2.getGaussianKernel(k, sigma<=0) uses these fixed tables for k <= 7.
_SMALL_GAUSSIAN = {
    1: (1.0,),
    3: (0.25, 0.5, 0.25),
    5: (0.0625, 0.25, 0.375, 0.25, 0.0625),
    7: (0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125),
}


def gaussian_kernels(k: torch.Tensor, width: int) -> torch.Tensor:
    """cv2.getGaussianKernel(k_b, 0) for every sample, centred in float32 [B, width] (zeros outside).

    sigma = 0.3 ((k - 1)/2 - 1) + 0.8, or OpenCV's fixed tables for k <= 7. width must be odd and
    >= max(k).
    """
    r = width // 2
    t = torch.arange(width, device=k.device, dtype=torch.float64) - r  # [width]
    sigma = 0.3 * ((k.double() - 1) / 2 - 1) + 0.8
    g = torch.exp(-(t[None] ** 2) / (2 * sigma[:, None] ** 2))
    g = torch.where(t[None].abs() <= (k[:, None] // 2), g, torch.zeros((), dtype=g.dtype, device=k.device))
    g = g / g.sum(1, keepdim=True)
    for ks, vals in _SMALL_GAUSSIAN.items():
        if ks > width:
            continue
        pad = (0.0,) * (r - ks // 2)
        tab = const(pad + vals + pad, k.device, torch.float64)
        g = torch.where((k == ks)[:, None], tab[None], g)
    return g.float()


def separable_blur(x: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Blurs x float [B,C,H,W] with per-sample 1-D kernels [B,K] along both axes, reflect-101 border
    (OpenCV's BORDER_DEFAULT), as a grouped convolution."""
    B, C, H, W = x.shape
    K = kernels.shape[1]
    r = K // 2
    w = kernels.repeat_interleave(C, 0)  # [B*C, K]
    y = x.reshape(1, B * C, H, W)
    y = F.conv2d(F.pad(y, (r, r, 0, 0), mode="reflect"), w.view(B * C, 1, 1, K), groups=B * C)
    y = F.conv2d(F.pad(y, (0, 0, r, r), mode="reflect"), w.view(B * C, 1, K, 1), groups=B * C)
    return y.view(B, C, H, W)


def blur_matrix(kernels: torch.Tensor, n: int) -> torch.Tensor:
    """Per-sample [B,n,n] matrices A with (A x)[i] = sum_t g[t] x[reflect101(i + t - r)].

    For large per-sample kernels (faceswap's ~0.75 IOD), blur(X) = A X A^T runs as two batched
    matrix products; the reflect-101 border is folded into A. Needs r < n.
    """
    B, K = kernels.shape
    r = K // 2
    if r >= n:
        raise ValueError(f"kernel radius {r} must be smaller than the image side {n}")
    i = torch.arange(n, device=kernels.device)
    j = i[:, None] + torch.arange(K, device=kernels.device)[None] - r  # [n,K]
    j = torch.where(j < 0, -j, j)
    j = torch.where(j > n - 1, 2 * (n - 1) - j, j)
    A = torch.zeros(B, n, n, device=kernels.device, dtype=kernels.dtype)
    A.scatter_add_(2, j[None].expand(B, n, K), kernels[:, None, :].expand(B, n, K))
    return A


def morph_square(mask: torch.Tensor, op: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Per-sample k x k square erosion (op 0), dilation (op 1) or nothing (other) of a {0,1} mask
    [B,1,H,W], with OpenCV's borders. csrc op ``morph_square``: separable distance sweeps, O(HW)
    whatever k is. float32 out."""
    return op_for("morph_square", mask.device)(mask.contiguous(), op.contiguous(), k.contiguous())
