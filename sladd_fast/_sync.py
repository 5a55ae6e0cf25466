"""Whether a code path may read tensor values on the host (a sync on GPU).

On CPU reading a value is free, so a few steps compact to the samples that need work or crop to the
masks' boxes. On CUDA the same steps take their sync-free branch (whole batch, full canvas).
SLADD_FAST_SYNC_FREE=1 forces the sync-free branches on CPU too, so CI exercises the GPU's Python
logic without a GPU (tests/test_synthesis.py).
"""
from __future__ import annotations

import os

import torch


def host_reads_ok(device: torch.device) -> bool:
    """True where reading tensor values on the host costs no device sync (CPU, unless forced off)."""
    return device.type == "cpu" and os.environ.get("SLADD_FAST_SYNC_FREE") != "1"
