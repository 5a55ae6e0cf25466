"""Evaluation loading: every frame of an index once, in index order, split across ranks.

Rank r of W reads the contiguous slice [r*N/W, (r+1)*N/W) (no shuffle, no duplicates; the last
batch may be partial), so per-rank scores concatenate back into index order. Ranks may get
different batch counts: gather scores after the loop, not per batch. Frames need no landmarks here.
A frame that fails to decode is delivered as zeros with valid=False and logged once: evaluation
reports it and leaves it out of the metrics, never scoring it as something else.
"""
from __future__ import annotations

import dataclasses
import logging
import os
from typing import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from sladd_fast.data.decode import read_image
from sladd_fast.data.index import FrameIndex


log = logging.getLogger("sladd_fast.data")


@dataclasses.dataclass
class EvalBatch:
    """images: uint8 [B,3,S,S]; labels: int64 [B]; indices: int64 [B] rows of the FrameIndex;
    valid: optional bool [B], False for a frame that failed to decode (its image is zeros)."""

    images: torch.Tensor
    labels: torch.Tensor
    indices: torch.Tensor
    valid: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def pin_memory(self) -> "EvalBatch":  # DataLoader(pin_memory=True) calls this
        return EvalBatch(self.images.pin_memory(), self.labels.pin_memory(), self.indices.pin_memory(),
                         None if self.valid is None else self.valid.pin_memory())


def eval_rows(n: int, rank: int = 0, world_size: int = 1) -> np.ndarray:
    """This rank's contiguous slice of range(n), int64."""
    if world_size <= 0 or not 0 <= rank < world_size:
        raise ValueError(f"rank must lie in [0, world_size), got rank {rank}, world_size {world_size}")
    return np.arange(rank * n // world_size, (rank + 1) * n // world_size, dtype=np.int64)


class _Frames(Dataset):
    def __init__(self, index: FrameIndex, rows: np.ndarray, size: int) -> None:
        self.index, self.rows, self.size = index, rows, size

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, k: int) -> tuple[torch.Tensor, int, int, bool]:
        i = int(self.rows[k])
        try:
            img, ok = read_image(os.path.join(self.index.root, self.index.paths[i]), self.size), True
        except ValueError as e:
            log.warning("evaluation: %s (left out of the metrics)", e)
            img, ok = torch.zeros(3, self.size, self.size, dtype=torch.uint8), False
        return img, int(self.index.labels[i]), i, ok


def _collate(samples: list) -> EvalBatch:
    imgs, labels, idx, ok = zip(*samples)
    return EvalBatch(torch.stack(imgs), torch.tensor(labels, dtype=torch.int64), torch.tensor(idx, dtype=torch.int64),
                     torch.tensor(ok, dtype=torch.bool))


class TorchEvalLoader:
    """Plain PyTorch evaluation loader: ``for batch in loader`` yields EvalBatch on ``device``."""

    def __init__(self, index: FrameIndex, size: int, batch_size: int, rank: int = 0, world_size: int = 1,
                 workers: int = 2, device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)
        self.loader = DataLoader(_Frames(index, eval_rows(len(index), rank, world_size), size), batch_size=batch_size,
                                 shuffle=False, num_workers=workers, collate_fn=_collate,
                                 pin_memory=self.device.type == "cuda",
                                 generator=torch.Generator().manual_seed(0))  # leaves the global RNG alone

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[EvalBatch]:
        for b in self.loader:
            if self.device.type != "cpu":
                b = EvalBatch(b.images.to(self.device, non_blocking=True), b.labels.to(self.device),
                              b.indices.to(self.device), None if b.valid is None else b.valid.to(self.device))
            yield b
