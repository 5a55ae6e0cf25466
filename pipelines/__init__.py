"""DALI pipelines (optional dependency: nvidia-dali-cuda130). Import-safe without DALI."""
from __future__ import annotations


def has_dali() -> bool:
    try:
        import nvidia.dali  # noqa: F401
    except ImportError:
        return False
    return True
