"""Loads the compiled extension sladd_fast._C, if it was built, without ever failing the import."""
from __future__ import annotations

import functools

import torch


@functools.lru_cache(maxsize=None)
def has_ops() -> bool:
    """True if sladd_fast._C (the C++ CPU kernels) is importable."""
    try:
        from sladd_fast import _C  # type: ignore[attr-defined]  # noqa: F401  (registers torch.ops.sladd_fast.*)
    except ImportError:
        return False
    from sladd_fast.ops import _fake

    _fake.register()
    return True


@functools.lru_cache(maxsize=None)
def has_cuda_ops() -> bool:
    """True if the extension was built with its CUDA kernels (setup.py with CUDA or FORCE_CUDA=1)."""
    if not has_ops():
        return False
    return torch._C._dispatch_has_kernel_for_dispatch_key("sladd_fast::region_mask", "CUDA")
