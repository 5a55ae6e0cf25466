"""Batched Poisson solve for seamlessClone (NORMAL_CLONE): DST-I on each sample's exact ROI.

OpenCV solves lap(u) = rhs on the (h-2) x (w-2) interior of the mask's bounding box with a type-I
discrete sine transform:
    u = (2/(n_h+1)) (2/(n_w+1)) S_h [ (S_h rhs S_w) / eig ] S_w,
    S_n[k, m] = sin(pi (k+1)(m+1) / (n+1)),
    eig[j, i] = 2 cos(pi (i+1)/(n_w+1)) + 2 cos(pi (j+1)/(n_h+1)) - 4.
The csrc op ``poisson_solve`` (common/dst_math.h) runs the four products on each sample's own
n_h x n_w block of the canvas, so a batch of different ROI sizes is solved exactly, with no host
sync, at the cost of each sample's box (O(n^3)) rather than of the canvas; an empty ROI costs
nothing. The PyTorch reference (ops/_reference.poisson_solve) is the same math as full-canvas
batched matrix products.
"""
from __future__ import annotations

import torch

from sladd_fast.ops import _checks
from sladd_fast.ops._dispatch import op

MAX_SIDE = 1 << 20  # common/dst_math.h kDstMaxSide


def solve(rhs: torch.Tensor, roi: torch.Tensor) -> torch.Tensor:
    """Solves the Dirichlet Poisson problem for each ROI interior.

    Args:
        rhs: float32 [B,C,Nh,Nw], interior rhs moved to the origin (poisson_rhs output), any device.
        roi: int64 [B,6] (x, y, w, h, dx, dy) on rhs' device; the solved block is (h-2) x (w-2),
            clamped to the canvas; samples with w or h < 3 give zeros.

    Returns:
        float32 [B,C,Nh,Nw], the solution in the same layout, zero outside each sample's block.
    Raises:
        ValueError naming the argument: wrong type, dtype or shape, batch sizes that differ, tensors
        on different devices, a canvas side over 2^20.
    """
    _checks.tensor("rhs", rhs, torch.float32, (None, None, None, None))
    _checks.tensor("roi", roi, torch.int64, (rhs.shape[0], 6))
    _checks.same_device(rhs=rhs, roi=roi)
    if max(rhs.shape[2], rhs.shape[3]) > MAX_SIDE:
        raise ValueError(f"rhs: canvas sides up to {MAX_SIDE} (common/dst_math.h kDstMaxSide), got {list(rhs.shape)}")
    return op("poisson_solve")(rhs.contiguous(), roi.contiguous())
