"""Plain PyTorch backend: a Dataset over (item, partner) pairs driven by the EpochPlan, decoded on
CPU workers, collated into a Batch. The baseline the DALI pipelines are measured against.

One DataLoader with persistent workers serves every epoch: the epoch's plan lives in the sampler,
which runs in the main process, so workers are started once rather than once per epoch.

Bad frames (bad_frames="replace", the default): a frame or mask that fails to decode (missing,
empty, truncated, corrupt) is replaced by another frame of the same label with landmarks, chosen
deterministically from the failed row (replacement_row), so batch shapes and rank partitions stay
as planned. Each failure is counted, logged once per file, and listed by ``bad_frames_report()``
(the training loop writes it into its summary). bad_frames="raise" stops at the first one instead.

decode="cuda": the workers read each JPEG frame's bytes (checked like DALI's source checks them) and
decode masks (PNG) on the CPU; the main process decodes each batch's frames on the GPU in one
torchvision.io.decode_jpeg call (nvJPEG) and resizes there. Needs JPEG frames (python -m
sladd_fast.pack). Damage that only the decoder sees stops with the batch's files and the verify step.
The frames cross from the workers packed (EncodedFrames: a tensor per frame made the hand-over, one
shared-memory file per storage, the bottleneck), and batches bound for the GPU carry uint8 masks,
made float on the device.
"""
from __future__ import annotations

import dataclasses
import logging
import os
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from sladd_fast.data.batch import Batch, EncodedFrames
from sladd_fast.data.decode import mask_to_float, read_encoded, read_image, read_mask, resize_image
from sladd_fast.data.plan import EpochPlan, TrainSet

log = logging.getLogger("sladd_fast.data")
BAD_FRAMES = ("replace", "raise")
DECODES = ("cpu", "cuda")
MAX_REPLACEMENTS = 8  # tries before a batch gives up (every candidate failing means a broken dataset)


def replacement_row(data: TrainSet, row: int, attempt: int) -> int:
    """The frame that stands in for FrameIndex row ``row`` on its ``attempt``-th failure: a frame of
    the same label with landmarks, the same for every worker, rank and run."""
    label = data.index.labels[row]
    cands = np.flatnonzero((data.index.labels == label) & data.valid)
    if len(cands) == 0:
        raise ValueError(f"no frame of label {int(label)} with landmarks to replace {data.index.paths[row]}")
    h = (int(row) * 2654435761 + (attempt + 1) * 40503) % (2**32)
    return int(cands[h % len(cands)])


def load_or_replace(data: TrainSet, i: int, load: Callable[[int], Any], bad_frames: str) -> tuple[int, int, Any]:
    """(row delivered, row that failed or -1, load(row delivered)): ``load(i)``, or with
    bad_frames="replace" and a ValueError from it, the first of MAX_REPLACEMENTS replacement_rows
    that loads (the PyTorch loader and DALI's source both replace this way)."""
    try:
        return i, -1, load(i)
    except ValueError:
        if bad_frames == "raise":
            raise
    errors = []
    for attempt in range(MAX_REPLACEMENTS):
        r = replacement_row(data, i, attempt)
        try:
            return r, i, load(r)
        except ValueError as e:
            errors.append(str(e))
    raise ValueError(f"{data.index.paths[i]} failed to load and so did {MAX_REPLACEMENTS} replacements: "
                     + "; ".join(errors[:3]))


class PairSampler(Sampler):
    """Yields the current plan's (item, partner) pairs in order; ``set_plan`` switches epochs."""

    def __init__(self) -> None:
        self.pairs = np.zeros((0, 2), np.int64)

    def set_plan(self, plan: EpochPlan, start_batch: int = 0) -> None:
        """Serve ``plan`` from its batch ``start_batch`` on (resuming inside an epoch)."""
        self.pairs = np.stack([plan.items[start_batch:].reshape(-1), plan.partners[start_batch:].reshape(-1)], 1)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter([(int(i), int(p)) for i, p in self.pairs])

    def __len__(self) -> int:
        return len(self.pairs)


class PairDataset(Dataset):
    """dataset[(item, partner)] -> dict of per-sample tensors (frame indices into data.index).

    float_masks: the mask as the Batch's float32 [1,S,S] (for batches delivered on the CPU), or as
    uint8 (False: a quarter of the bytes to hand over, pin and copy; TorchLoader turns it into the
    float mask on the GPU with mask_to_float, bit for bit the same values)."""

    def __init__(self, data: TrainSet, size: int, bad_frames: str = "replace", encoded: bool = False,
                 float_masks: bool = True) -> None:
        if bad_frames not in BAD_FRAMES:
            raise ValueError(f"bad_frames must be one of {BAD_FRAMES}, got {bad_frames!r}")
        self.data, self.size, self.bad_frames, self.encoded = data, size, bad_frames, encoded
        self.float_masks = float_masks

    def __len__(self) -> int:
        return len(self.data.index.paths)

    def _frame(self, i: int, with_mask: bool) -> tuple[torch.Tensor, torch.Tensor, bool, torch.Tensor | None]:
        index = self.data.index
        path = os.path.join(index.root, index.paths[i])
        img = torch.from_numpy(read_encoded(path)) if self.encoded else read_image(path, self.size)
        mask = None
        if with_mask:
            mask_rel = index.mask_paths[i]
            mask = read_mask(os.path.join(index.root, mask_rel), self.size) if mask_rel else torch.zeros(
                1, self.size, self.size, dtype=torch.uint8)
            if self.float_masks:
                mask = mask_to_float(mask)
        lm, ok = self.data.landmarks_at(i, self.size)
        return img, torch.from_numpy(lm), ok, mask

    def __getitem__(self, pair: tuple[int, int]) -> dict[str, torch.Tensor]:
        i, p = pair
        i, bad_i, (img, lm, ok, mask) = load_or_replace(self.data, i, lambda r: self._frame(r, True), self.bad_frames)
        p, bad_p, (pimg, plm, pok, _) = load_or_replace(self.data, p, lambda r: self._frame(r, False), self.bad_frames)
        return {"images": img, "partners": pimg, "landmarks": lm, "partner_landmarks": plm,
                "landmarks_valid": torch.tensor(ok), "partner_valid": torch.tensor(pok), "masks": mask,
                "labels": torch.tensor(int(self.data.index.labels[i])), "indices": torch.tensor(i),
                "partner_indices": torch.tensor(p), "replaced": torch.tensor([bad_i, bad_p])}


def collate(samples: list[dict[str, torch.Tensor]]) -> Batch:
    """Stacks every field; encoded frames (1-D byte tensors of different lengths) are packed into one
    EncodedFrames per field (a tensor per frame made the worker-to-main hand-over the bottleneck)."""
    return Batch(**{k: EncodedFrames.pack([s[k] for s in samples]) if samples[0][k].dim() == 1 and k in (
        "images", "partners") else torch.stack([s[k] for s in samples]) for k in samples[0]})


def decode_frames(encoded: list[torch.Tensor], size: int, device: torch.device,
                  stream: torch.cuda.Stream | None = None) -> torch.Tensor:
    """One batched JPEG decode (nvJPEG on CUDA, libjpeg-turbo on the CPU) of 1-D uint8 byte tensors,
    resized to size x size as decode.resize_image does: uint8 [B,3,size,size] on ``device``.

    stream (CUDA): a stream used for nothing but these decodes. torchvision allocates nvJPEG's
    outputs on the caller's current stream but writes them from a private stream that never waits
    for it, so on the training stream a block freed by kernels still queued there could be written
    under them. Allocated on ``stream`` instead, the outputs only reuse earlier decodes' blocks, which
    the training stream released through record_stream."""
    from torchvision.io import ImageReadMode, decode_jpeg

    if not encoded:  # decode_jpeg refuses an empty list
        return torch.empty(0, 3, size, size, dtype=torch.uint8, device=device)
    if stream is not None and device.type == "cuda":
        current = torch.cuda.current_stream(device)
        with torch.cuda.stream(stream):
            decoded = decode_jpeg(encoded, mode=ImageReadMode.RGB, device=device)  # ordered before `stream`
        current.wait_stream(stream)
        for img in decoded:
            img.record_stream(current)  # its block is not reused until the training stream is done with it
    else:
        decoded = decode_jpeg(encoded, mode=ImageReadMode.RGB, device=device)
    return torch.stack([resize_image(img, size) for img in decoded])  # usually already at size: as they are


class TorchLoader:
    """Iterates this rank's batches of one epoch: ``for batch in loader.epoch(e)``.

    One epoch iterator at a time: the worker processes are shared by all epochs (persistent), so
    starting epoch e+1 while an iterator of epoch e is still being consumed makes the older one raise
    (an iterator that was simply abandoned is fine). ``close()`` stops the workers.

    The DataLoader draws its worker base seed from its own generator, never from torch's global RNG,
    so starting an epoch does not shift dropout or other draws of the training step (exact resume).

    Args:
        data: TrainSet. size: output side S. batch_size: per rank.
        rank, world_size, seed: see sladd_fast.data.plan. workers: DataLoader processes.
        device: where batches are delivered (pinned memory + non-blocking copy for CUDA).
        bad_frames: "replace" (default: see the module docstring) or "raise" (fail fast).
        decode: "cpu" (PIL in the workers) or "cuda" (one nvJPEG call per batch on ``device``; JPEG
            frames only, see the module docstring).
    """

    def __init__(self, data: TrainSet, size: int, batch_size: int, rank: int = 0, world_size: int = 1, seed: int = 0,
                 workers: int = 2, device: torch.device | str = "cpu", bad_frames: str = "replace",
                 decode: str = "cpu") -> None:
        if decode not in DECODES:
            raise ValueError(f"decode must be one of {DECODES}, got {decode!r}")
        if decode == "cuda":
            if torch.device(device).type != "cuda":
                raise ValueError("decode='cuda' delivers batches on the GPU: pass device='cuda'")
            not_jpeg = [p for p in data.index.paths[:64].tolist() if not p.lower().endswith((".jpg", ".jpeg"))]
            if not_jpeg:
                raise ValueError(f"decode='cuda' needs JPEG frames (nvJPEG), got {not_jpeg[0]}: pack the dataset "
                                 "first (python -m sladd_fast.pack SRC DST)")
        self.decode = decode
        self._decode_device = torch.device(device)  # the tests run this path with the CPU decoder
        self._decode_stream = None  # CUDA: made at the first decode (decode_frames says why)
        self.data, self.size, self.batch_size = data, size, batch_size
        self._bad: dict[str, int] = {}  # file -> times replaced
        self.rank, self.world_size, self.seed, self.workers = rank, world_size, seed, workers
        self.device = torch.device(device)
        self.sampler = PairSampler()
        self._generation = 0  # the epoch iterator that owns the workers
        dataset = PairDataset(data, size, bad_frames, encoded=decode == "cuda", float_masks=self.device.type == "cpu")
        self.loader = DataLoader(dataset, batch_size=batch_size,
                                 sampler=self.sampler,
                                 drop_last=False, num_workers=workers, collate_fn=collate,
                                 pin_memory=self.device.type == "cuda", persistent_workers=workers > 0,
                                 generator=torch.Generator().manual_seed(seed))  # not the global RNG: see below

    def epoch(self, epoch: int, start_batch: int = 0) -> Iterator[Batch]:
        """This rank's batches of ``epoch``, from batch ``start_batch`` on (the same batches an
        uninterrupted epoch yields from there: resuming a run inside an epoch)."""
        from sladd_fast.data.plan import plan_epoch

        plan = plan_epoch(self.data, epoch, self.batch_size, self.rank, self.world_size, self.seed)
        if not 0 <= start_batch <= len(plan):
            raise ValueError(f"start_batch must lie in [0, {len(plan)}], got {start_batch}")
        self.sampler.set_plan(plan, start_batch)
        self._generation += 1
        generation = self._generation
        batches = iter(self.loader)
        while True:
            # Checked before every fetch: the shared workers may now serve a later epoch, whose
            # batches must not be taken.
            if generation != self._generation:
                raise RuntimeError(f"epoch {epoch} was superseded: a later epoch() started on this loader; "
                                   "finish or drop one epoch iterator before starting the next")
            try:
                batch = next(batches)
            except StopIteration:
                return
            self._note_replaced(batch)
            if isinstance(batch.images, EncodedFrames):
                batch = self._decode(batch)
            if self.device.type != "cpu":  # masks come as uint8 (PairDataset's float_masks)
                batch = batch.to(self.device, non_blocking=True)
                batch = dataclasses.replace(batch, masks=mask_to_float(batch.masks))
            yield batch

    def _decode(self, batch: Batch) -> Batch:
        try:
            if self._decode_stream is None and self._decode_device.type == "cuda":
                self._decode_stream = torch.cuda.Stream(self._decode_device)
            both = decode_frames(batch.images.frames() + batch.partners.frames(), self.size,
                                 self._decode_device, self._decode_stream)  # one nvJPEG call
            images, partners = both[:len(batch.images)], both[len(batch.images):]
        except RuntimeError as e:  # damage only the decoder sees: no per-sample replacement
            idx = self.data.index
            files = [str(idx.paths[i]) for i in batch.indices.tolist() + batch.partner_indices.tolist()]
            raise RuntimeError(f"JPEG decode failed ({e}) in a batch holding: {', '.join(files[:40])}\nfind the "
                               f"damaged files with: python -m sladd_fast.pack --verify {idx.root}") from e
        return dataclasses.replace(batch, images=images, partners=partners)

    def _note_replaced(self, batch: Batch) -> None:
        if batch.replaced is None:
            return
        for row in batch.replaced[batch.replaced >= 0].tolist():  # CPU tensor: no device sync
            path = str(self.data.index.paths[row])
            if path not in self._bad:
                log.warning("unreadable frame replaced by another of the same label: %s", path)
            self._bad[path] = self._bad.get(path, 0) + 1

    def bad_frames_report(self) -> dict:
        """{"replaced": times a frame was replaced so far, "files": the files that failed, sorted}."""
        return {"replaced": sum(self._bad.values()), "files": sorted(self._bad)}

    def close(self) -> None:
        """Stops the persistent worker processes (they also stop when the loader is garbage-collected)."""
        it = getattr(self.loader, "_iterator", None)
        if it is not None and hasattr(it, "_shutdown_workers"):
            it._shutdown_workers()
        self.loader._iterator = None

    def __len__(self) -> int:
        return (len(self.data) // self.world_size) // self.batch_size
