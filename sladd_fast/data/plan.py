"""What each rank reads in an epoch: a fresh seeded permutation, partitioned across ranks, with
equal batch counts, and a partner for every item (spec §1.4 with bug B9 fixed).

SLADD permuted once per process with unseeded numpy, so DDP shards overlapped and never reshuffled.
Here epoch e uses torch.Generator(seed, e): every rank computes the same permutation and takes its
own slice (rank::world), so shards partition the data and every epoch is a full reshuffle. Every
rank gets floor(N / world) items and floor(that / B) batches (the remainder is dropped, so no rank
waits on a shorter one). Partners: a real item's partner is a uniformly drawn fake of the split's
manipulation(s), a fake item's partner a uniformly drawn real, among frames with landmarks.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from sladd_fast.data.index import FrameIndex
from sladd_fast.data.store import LandmarkStore


@dataclasses.dataclass(frozen=True)
class TrainSet:
    """An index joined with its landmark store. rows: int64 [N] store row per item."""

    index: FrameIndex
    store: LandmarkStore
    rows: np.ndarray

    @staticmethod
    def build(index: FrameIndex, store: LandmarkStore) -> "TrainSet":
        return TrainSet(index, store, store.rows(index.paths))

    @property
    def valid(self) -> np.ndarray:
        return self.store.valid[self.rows]

    def landmarks_at(self, i: int, size: int) -> tuple[np.ndarray, bool]:
        """Item i's landmarks scaled to a size x size frame (x by width, y by height), float32 [68,2],
        and its valid flag."""
        row = self.rows[i]
        h, w = (int(v) for v in self.store.size[row])
        scale = np.array([size / max(w, 1), size / max(h, 1)], np.float32)
        return (self.store.landmarks[row] * scale).astype(np.float32), bool(self.store.valid[row])

    def __len__(self) -> int:
        return len(self.index)


@dataclasses.dataclass(frozen=True)
class EpochPlan:
    """items, partners: int64 [n_batches, B] FrameIndex rows for this rank."""

    items: np.ndarray
    partners: np.ndarray

    def __len__(self) -> int:
        return int(self.items.shape[0])


def plan_epoch(data: TrainSet, epoch: int, batch_size: int, rank: int = 0, world_size: int = 1,
               seed: int = 0) -> EpochPlan:
    """This rank's batches for ``epoch`` (deterministic in (seed, epoch); see module docstring)."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if world_size <= 0 or not 0 <= rank < world_size:
        raise ValueError(f"rank must lie in [0, world_size), got rank {rank}, world_size {world_size}")
    n = len(data)
    per_rank = n // world_size
    n_batches = per_rank // batch_size
    if n_batches == 0:
        raise ValueError(f"{n} items cannot give every one of {world_size} rank(s) a batch of {batch_size}")
    g = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(epoch))
    perm = torch.randperm(n, generator=g).numpy()
    mine = perm[rank::world_size][:n_batches * batch_size]
    labels, valid = data.index.labels, data.valid
    fakes = np.flatnonzero((labels == 1) & valid)
    reals = np.flatnonzero((labels == 0) & valid)
    if len(fakes) == 0 or len(reals) == 0:
        raise ValueError(f"partners need real and fake frames with landmarks; have {len(reals)} real and "
                         f"{len(fakes)} fake (run python -m sladd_fast.landmarks)")
    # One draw per item of the whole permutation (same on every rank), then this rank's slice.
    u_f = torch.randint(0, len(fakes), (n,), generator=g).numpy()
    u_r = torch.randint(0, len(reals), (n,), generator=g).numpy()
    partner_all = np.where(labels[perm] == 0, fakes[u_f], reals[u_r])
    partners = partner_all[rank::world_size][:n_batches * batch_size]
    return EpochPlan(mine.reshape(n_batches, batch_size), partners.reshape(n_batches, batch_size))
