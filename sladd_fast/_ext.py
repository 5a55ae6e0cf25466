"""Loads the compiled extension sladd_fast._C, if it was built, without ever failing the import."""
from __future__ import annotations

import functools

import torch


@functools.lru_cache(maxsize=None)
def has_ops() -> bool:
    """True if sladd_fast._C (the C++ CPU kernels) is importable. Importing it registers its kernels
    for the schemas of sladd_fast/ops/_library.py."""
    try:
        from sladd_fast import _C  # type: ignore[attr-defined]  # noqa: F401
    except ImportError:
        return False
    return True


@functools.lru_cache(maxsize=None)
def has_cuda_ops() -> bool:
    """True if the extension was built with its CUDA kernels (setup.py with CUDA or FORCE_CUDA=1).
    First asked by ops/_library.py before it registers any Python kernel, so it sees _C's only."""
    if not has_ops():
        return False
    return torch._C._dispatch_has_kernel_for_dispatch_key("sladd_fast::region_mask", "CUDA")
