"""Evaluation loading: every frame of an index once, in index order, split across ranks.

Rank r of W reads the contiguous slice [r*N/W, (r+1)*N/W) (no shuffle, no duplicates; the last
batch may be partial), so per-rank scores concatenate back into index order. Ranks may get
different batch counts: gather scores after the loop, not per batch. Frames need no landmarks here.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from sladd_fast.data.decode import read_image
from sladd_fast.data.index import FrameIndex


@dataclasses.dataclass
class EvalBatch:
    """images: uint8 [B,3,S,S]; labels: int64 [B]; indices: int64 [B] rows of the FrameIndex."""

    images: torch.Tensor
    labels: torch.Tensor
    indices: torch.Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def pin_memory(self) -> "EvalBatch":  # DataLoader(pin_memory=True) calls this
        return EvalBatch(self.images.pin_memory(), self.labels.pin_memory(), self.indices.pin_memory())


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

    def __getitem__(self, k: int) -> tuple[torch.Tensor, int, int]:
        i = int(self.rows[k])
        return read_image(os.path.join(self.index.root, self.index.paths[i]), self.size), int(self.index.labels[i]), i


def _collate(samples: list) -> EvalBatch:
    imgs, labels, idx = zip(*samples)
    return EvalBatch(torch.stack(imgs), torch.tensor(labels, dtype=torch.int64), torch.tensor(idx, dtype=torch.int64))


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
                              b.indices.to(self.device))
            yield b
