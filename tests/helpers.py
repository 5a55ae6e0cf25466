"""Shared test data: synthetic faces, landmarks, devices."""
from __future__ import annotations

import pytest
import torch

from sladd_fast import faces
from sladd_fast._ext import has_ops

needs_cuda = pytest.mark.needs_cuda
needs_ext = pytest.mark.skipif(not has_ops(), reason="sladd_fast._C not built")


def cpu_and_cuda() -> list:
    return ["cpu", pytest.param("cuda", marks=needs_cuda)]


def landmarks(batch: int, seed: int = 0, size: int = 256) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return faces.random_landmarks(batch, size=size, generator=g)


def face_batch(batch: int, seed: int = 0, size: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """(images uint8 [B,3,S,S], landmarks float32 [B,68,2])."""
    g = torch.Generator().manual_seed(seed)
    lm = faces.random_landmarks(batch, size=size, generator=g)
    return faces.render_faces(lm, size=size, generator=g), lm


def psnr(a, b) -> float:
    import numpy as np

    mse = float(((np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) ** 2).mean())
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)
