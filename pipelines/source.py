"""The per-sample external source of the training pipeline (DALI parallel external_source).

Sample k of epoch e is pair k of this rank's EpochPlan(seed, start_epoch + e) (in the first epoch,
pair k + start_batch * B: a run resumed inside an epoch): encoded item and
partner bytes, the item's FF++ mask (an encoded blank for reals), landmarks scaled to the output
size, validity flags, label and indices. Deterministic and stateless apart from a per-epoch plan
cache, so DALI may run it in spawned worker processes. Files are checked before DALI sees them: a
missing, empty or truncated file (or a fake's missing mask) is replaced by another frame of the
same label, chosen as the PyTorch loader chooses it (torch_loader.replacement_row), and reported in
the sample's "bad" output; with bad_frames="raise" it raises ValueError naming it instead. Damage
that only the decoder sees cannot be replaced per sample: DaliLoader names the batch's files then.
"""
from __future__ import annotations

import io
import os

import numpy as np

from sladd_fast.data.decode import check_encoded, read_encoded  # noqa: F401  (re-exported)
from sladd_fast.data.plan import EpochPlan, TrainSet, plan_epoch
from sladd_fast.data.torch_loader import BAD_FRAMES, load_or_replace

def blank_png(size: int) -> np.ndarray:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.zeros((size, size), np.uint8)).save(buf, format="PNG")
    return np.frombuffer(buf.getvalue(), dtype=np.uint8).copy()


class PairSource:
    """Callable for fn.external_source(batch=False, parallel=True); see the module docstring."""

    def __init__(self, data: TrainSet, size: int, batch_size: int, rank: int = 0, world_size: int = 1,
                 seed: int = 0, start_epoch: int = 0, start_batch: int = 0, bad_frames: str = "replace") -> None:
        if bad_frames not in BAD_FRAMES:
            raise ValueError(f"bad_frames must be one of {BAD_FRAMES}, got {bad_frames!r}")
        self.bad_frames = bad_frames
        self.data, self.size, self.batch_size = data, size, batch_size
        self.rank, self.world_size, self.seed, self.start_epoch = rank, world_size, seed, start_epoch
        self.blank = blank_png(size)
        self._plans: dict[int, EpochPlan] = {}
        self.steps = len(self.plan(0))
        if not 0 <= start_batch <= self.steps:
            raise ValueError(f"start_batch must lie in [0, {self.steps}], got {start_batch}")
        self.start_batch = start_batch  # the first epoch resumes at this batch (a run resumed mid-epoch)

    def plan(self, epoch_idx: int) -> EpochPlan:
        if epoch_idx not in self._plans:
            self._plans = {epoch_idx: plan_epoch(self.data, self.start_epoch + epoch_idx, self.batch_size, self.rank,
                                                 self.world_size, self.seed)}
        return self._plans[epoch_idx]

    def __call__(self, info) -> tuple:
        plan = self.plan(info.epoch_idx)
        k = info.idx_in_epoch + (self.start_batch * self.batch_size if info.epoch_idx == 0 else 0)
        if k >= plan.items.size:
            raise StopIteration
        i, p = int(plan.items.flat[k]), int(plan.partners.flat[k])
        i, bad_i, (img, mask) = load_or_replace(self.data, i, lambda r: self._files(r, True), self.bad_frames)
        p, bad_p, (pimg, _) = load_or_replace(self.data, p, lambda r: self._files(r, False), self.bad_frames)
        idx = self.data.index
        lm, ok = self.data.landmarks_at(i, self.size)
        plm, pok = self.data.landmarks_at(p, self.size)
        return (img, pimg, mask, lm, plm, np.array([ok, pok], np.uint8), np.array([idx.labels[i], i, p], np.int64),
                np.array([bad_i, bad_p], np.int64))

    def _files(self, i: int, with_mask: bool) -> tuple[np.ndarray, np.ndarray | None]:
        idx = self.data.index
        img = read_encoded(os.path.join(idx.root, idx.paths[i]))
        mask = None
        if with_mask:
            mask = read_encoded(os.path.join(idx.root, idx.mask_paths[i])) if idx.mask_paths[i] else self.blank
        return img, mask
