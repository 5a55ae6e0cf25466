"""Constant tensors cached per device, so hot paths never copy Python data host -> device."""
from __future__ import annotations

import contextlib
import functools
from typing import Iterator

import torch

_holders: list[list[torch.Tensor]] = []  # open keep_alive() blocks


@functools.lru_cache(maxsize=256)
def _cached(values: tuple, device: str, dtype: torch.dtype) -> torch.Tensor:
    return torch.tensor(values, dtype=dtype, device=device)


@functools.lru_cache(maxsize=256)
def _cached_rows(values: tuple | float, batch: int, device: str, dtype: torch.dtype) -> torch.Tensor:
    row = _cached(values, device, dtype)
    return row.expand(batch, *row.shape).contiguous()


def _hand_out(t: torch.Tensor) -> torch.Tensor:
    for held in _holders:
        held.append(t)
    return t


def _device_key(device: torch.device | str) -> str:
    """The cache key of a device: "cuda" resolved to the current device's index, so that a constant
    made for cuda:0 is not handed out as "cuda" after the current device changed."""
    d = device if isinstance(device, torch.device) else torch.device(device)
    if d.type == "cuda" and d.index is None:
        return f"cuda:{torch.cuda.current_device()}"
    return str(d)


def const(values: tuple, device: torch.device, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A read-only constant tensor of ``values`` (nested tuples) on ``device``; copied once per device."""
    return _hand_out(_cached(values, _device_key(device), dtype))


def const_rows(values: tuple | float, batch: int, device: torch.device,
               dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """const(values) (a number or nested tuples) repeated ``batch`` times along a new first dimension,
    contiguous: a per-sample argument for ops that take contiguous [B, ...] tensors (an expanded view
    would be copied on every call). Built once per batch size and device."""
    return _hand_out(_cached_rows(values, int(batch), _device_key(device), dtype))


@contextlib.contextmanager
def keep_alive() -> Iterator[list[torch.Tensor]]:
    """Collects every constant handed out inside the block: a CUDA graph captured there reads them by
    address, so it keeps the list (the cache may evict an entry later; the graph's reference keeps its
    memory from being reused)."""
    held: list[torch.Tensor] = []
    _holders.append(held)
    try:
        yield held
    finally:
        _holders.remove(held)
