"""The landmark store: float32 [N,68,2] landmarks + a valid flag per frame, keyed by frame path.

One file per dataset (``ROOT/landmarks.npz``), written once offline by ``python -m
sladd_fast.landmarks``; training only looks rows up. Frames where no face was found are stored
with valid=False and are never synthesized on (bug B3 fixed).
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np

STORE_NAME = "landmarks.npz"


@dataclasses.dataclass(frozen=True)
class LandmarkStore:
    """keys: str [N] frame paths relative to the dataset root; landmarks: float32 [N,68,2] (x, y)
    pixels of the stored frame; valid: bool [N]; size: int32 [N,2] (H, W) of the frame."""

    keys: np.ndarray
    landmarks: np.ndarray
    valid: np.ndarray
    size: np.ndarray

    def __post_init__(self) -> None:
        n = self.keys.shape[0]
        if self.landmarks.shape != (n, 68, 2) or self.valid.shape != (n,) or self.size.shape != (n, 2):
            raise ValueError(f"inconsistent landmark store: keys {self.keys.shape}, landmarks "
                             f"{self.landmarks.shape}, valid {self.valid.shape}, size {self.size.shape}")

    def __len__(self) -> int:
        return int(self.keys.shape[0])

    def save(self, path: str) -> None:
        tmp = path + ".tmp.npz"
        np.savez(tmp, keys=self.keys.astype(str), landmarks=self.landmarks.astype(np.float32),
                 valid=self.valid.astype(bool), size=self.size.astype(np.int32))
        os.replace(tmp, path)

    @staticmethod
    def load(path: str) -> "LandmarkStore":
        if not os.path.isfile(path):
            raise FileNotFoundError(f"landmark store not found: {path} (run: python -m sladd_fast.landmarks ROOT)")
        try:
            with np.load(path, allow_pickle=False) as z:
                return LandmarkStore(z["keys"], z["landmarks"].astype(np.float32), z["valid"].astype(bool),
                                     z["size"].astype(np.int32))
        except (KeyError, ValueError, OSError) as e:
            raise ValueError(f"{path}: not a landmark store ({e})") from None

    def rows(self, paths: np.ndarray) -> np.ndarray:
        """Row of every path, int64 [M]; ValueError naming the missing frames if the store is out of
        sync with the index."""
        order = np.argsort(self.keys)
        sorted_keys = self.keys[order]
        pos = np.searchsorted(sorted_keys, paths)
        pos = np.clip(pos, 0, max(len(sorted_keys) - 1, 0))
        found = (len(sorted_keys) > 0) & (sorted_keys[pos] == paths) if len(sorted_keys) else np.zeros(
            len(paths), dtype=bool)
        if not np.all(found):
            missing = paths[~found]
            raise ValueError(f"landmark store out of sync with the index: {len(missing)} frame(s) have no "
                             f"entry, e.g. {missing[:3].tolist()} (rerun python -m sladd_fast.landmarks)")
        return order[pos].astype(np.int64)
