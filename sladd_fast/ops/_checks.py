"""Input validation for the public ops: every failure is a ValueError naming the argument.

Shape, dtype and device checks are free. Value checks (NaN, ranges) read tensor data, which on a GPU
is a host-device sync; they run when ``check_values`` is True (the default) and can be turned off in
a hot loop whose inputs come from trusted code.
"""
from __future__ import annotations

from typing import Sequence

import torch


INT32_MAX = 2**31 - 1  # the kernels take sizes as int


def tensor(name: str, t: object, dtype: torch.dtype, shape: Sequence[int | None]) -> torch.Tensor:
    """Checks type, dtype and shape (None = any size) of ``t``; returns it."""
    if not isinstance(t, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.dtype != dtype:
        raise ValueError(f"{name} must have dtype {dtype}, got {t.dtype}")
    if t.dim() != len(shape) or any(s is not None and s != d for s, d in zip(shape, t.shape)):
        want = "[" + ",".join("*" if s is None else str(s) for s in shape) + "]"
        raise ValueError(f"{name} must have shape {want}, got {list(t.shape)}")
    return t


def images(target: object, source: object, mask: object) -> torch.device:
    """uint8 [B,C,H,W] target and source, float32 [B,1,H,W] mask, on one device (csrc/checks.h
    check_images); returns the device."""
    tensor("target", target, torch.uint8, (None, None, None, None))
    tensor("source", source, torch.uint8, tuple(target.shape))
    B, _, H, W = target.shape
    tensor("mask", mask, torch.float32, (B, 1, H, W))
    return same_device(target=target, source=source, mask=mask)


def same_device(**tensors: torch.Tensor) -> torch.device:
    """All tensors on one device; returns it."""
    items = list(tensors.items())
    device = items[0][1].device
    for name, t in items[1:]:
        if t.device != device:
            raise ValueError(f"{name} is on {t.device} but {items[0][0]} is on {device}")
    return device


def batch(name: str, t: torch.Tensor, b: int) -> None:
    if t.shape[0] != b:
        raise ValueError(f"{name} has batch size {t.shape[0]}, expected {b}")


def finite(name: str, t: torch.Tensor) -> None:
    if t.numel() and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or infinite values")


def in_range(name: str, t: torch.Tensor, lo: float, hi: float) -> None:
    if t.numel() and not bool(((t >= lo) & (t <= hi)).all()):
        raise ValueError(f"{name} must lie in [{lo}, {hi}], got min {t.min().item()} max {t.max().item()}")


def landmarks(name: str, t: object, k: int | None = 68, check_values: bool = True) -> torch.Tensor:
    t = tensor(name, t, torch.float32, (None, k, 2))
    if check_values:
        finite(name, t)
    return t


def hull_landmarks(t: object, max_points: int | None) -> torch.Tensor:
    """hull_mask's landmarks: float32 [B,K,2] (one hull per sample) or [B,P,K,2] (the union of P hulls),
    K <= max_points (None: no limit here)."""
    if not isinstance(t, torch.Tensor):
        raise ValueError(f"landmarks must be a torch.Tensor, got {type(t).__name__}")
    if t.dim() not in (3, 4):
        raise ValueError(f"landmarks must have shape [*,*,2] or [*,*,*,2], got {list(t.shape)}")
    t = tensor("landmarks", t, torch.float32, (None,) * (t.dim() - 1) + (2,))
    if max_points is not None and t.shape[-2] > max_points:
        raise ValueError(f"landmarks: at most {max_points} hull points are supported, got {t.shape[-2]}")
    if t.dim() == 4 and t.shape[1] == 0:
        raise ValueError(f"landmarks [B,P,K,2] needs P >= 1 hulls per sample, got {list(t.shape)}")
    return t


def remap_args(x_name: str, x: object, map: object, col_table: object, row_table: object) -> None:
    """remap_nearest's arguments (the public wrapper and the NVRTC launcher): x float32 [B,C,H,W], map
    float32 [B,2,Ho,Wo], tables int64 [B,n] with an entry at least where the output is not empty, one device."""
    x = tensor(x_name, x, torch.float32, (None, None, None, None))
    B = x.shape[0]
    map = tensor("map", map, torch.float32, (B, 2, None, None))
    col_table = tensor("col_table", col_table, torch.int64, (B, None))
    row_table = tensor("row_table", row_table, torch.int64, (B, None))
    if map.numel() and (col_table.shape[1] < 1 or row_table.shape[1] < 1):
        raise ValueError(f"col_table and row_table must hold at least one entry each, got {list(col_table.shape)} "
                         f"and {list(row_table.shape)}")
    same_device(**{x_name: x}, map=map, col_table=col_table, row_table=row_table)


def size(name: str, v: object) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not 0 < v <= INT32_MAX:
        raise ValueError(f"{name} must be a positive int that fits in int32 (the kernels' sizes), got {v!r}")
    return v
