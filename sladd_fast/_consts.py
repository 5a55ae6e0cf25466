"""Constant tensors cached per device, so hot paths never copy Python data host -> device."""
from __future__ import annotations

import functools

import torch


@functools.lru_cache(maxsize=256)
def _cached(values: tuple, device: str, dtype: torch.dtype) -> torch.Tensor:
    return torch.tensor(values, dtype=dtype, device=device)


def const(values: tuple, device: torch.device, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A read-only constant tensor of ``values`` (nested tuples) on ``device``; copied once per device."""
    return _cached(values, str(device), dtype)
