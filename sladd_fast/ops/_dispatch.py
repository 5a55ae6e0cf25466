"""The csrc ops as callers use them: torch.ops.sladd_fast.* through the dispatcher (ops/_library.py
defines the schemas and picks each device's backend)."""
from __future__ import annotations

from typing import Any, Callable

import torch

from sladd_fast.ops._library import backend_for, use_backend  # noqa: F401  (re-exported)


def op(name: str) -> Callable[..., Any]:
    """The dispatcher entry of sladd_fast::<name>; the tensors' device picks the implementation."""
    return getattr(torch.ops.sladd_fast, name)
