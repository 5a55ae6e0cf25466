"""Picks the backend of a csrc op for a device: compiled kernel, NVRTC JIT kernel, or reference."""
from __future__ import annotations

import os
from typing import Any, Callable

import torch

from sladd_fast import _ext, _jit
from sladd_fast.ops import _reference


def backend_for(device: torch.device) -> str:
    """'kernel' (sladd_fast._C), 'jit' (CuPy/NVRTC) or 'reference' (pure PyTorch).

    SLADD_FAST_BACKEND=kernel|jit|reference forces one (benchmarks compare them); a forced backend
    that is unavailable on ``device`` is an error.
    """
    forced = os.environ.get("SLADD_FAST_BACKEND")
    if forced:
        ok = {"reference": True, "kernel": _ext.has_cuda_ops() if device.type == "cuda" else _ext.has_ops(),
              "jit": device.type == "cuda" and _jit.available()}
        if forced not in ok:
            raise ValueError(f"SLADD_FAST_BACKEND must be kernel, jit or reference, got {forced!r}")
        if not ok[forced]:
            raise RuntimeError(f"SLADD_FAST_BACKEND={forced} is not available on {device}")
        return forced
    if device.type == "cuda":
        if _ext.has_cuda_ops():
            return "kernel"
        if _jit.available():
            return "jit"
        return "reference"
    if device.type == "cpu" and _ext.has_ops():
        return "kernel"
    return "reference"


def op(name: str, device: torch.device) -> Callable[..., Any]:
    backend = backend_for(device)
    if backend == "kernel":
        return getattr(torch.ops.sladd_fast, name)
    if backend == "jit":
        return getattr(_jit, name)
    return getattr(_reference, name)
