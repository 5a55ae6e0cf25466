"""Synthetic backend: one device-resident Batch replayed, to measure the model-bound ceiling."""
from __future__ import annotations

from typing import Iterator

import torch

from sladd_fast import faces
from sladd_fast.data.batch import Batch


def synthetic_batch(batch_size: int, size: int = 256, device: torch.device | str = "cpu", seed: int = 0) -> Batch:
    """A Batch of painted faces (sladd_fast.faces) with landmarks, half real, half fake."""
    dev = torch.device(device)
    g = torch.Generator().manual_seed(seed)
    lm = faces.random_landmarks(batch_size, size, g)
    plm = faces.random_landmarks(batch_size, size, g)
    labels = torch.arange(batch_size) % 2
    b = Batch(images=faces.render_faces(lm, size, g), partners=faces.render_faces(plm, size, g), landmarks=lm,
              partner_landmarks=plm, landmarks_valid=torch.ones(batch_size, dtype=torch.bool),
              partner_valid=torch.ones(batch_size, dtype=torch.bool),
              masks=torch.zeros(batch_size, 1, size, size), labels=labels, indices=torch.arange(batch_size),
              partner_indices=torch.arange(batch_size).roll(1))
    return b.to(dev)


class SyntheticLoader:
    """Yields the same device-resident Batch ``steps`` times per epoch (no I/O, no decode)."""

    def __init__(self, batch_size: int, size: int = 256, steps: int = 100, device: torch.device | str = "cpu") -> None:
        self.batch = synthetic_batch(batch_size, size, device)
        self.steps = steps

    def epoch(self, epoch: int, start_batch: int = 0) -> Iterator[Batch]:
        for _ in range(start_batch, self.steps):
            yield self.batch

    def __len__(self) -> int:
        return self.steps
