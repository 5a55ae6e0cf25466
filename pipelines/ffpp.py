"""DALI training pipeline for FF++-layout data: decode on the GPU (device="mixed") or the CPU
(device_id=None), resize to the configured side, landmarks scaled to match, one Batch per step.

Sharding: the external source reads this rank's slice of a fresh per-epoch permutation
(sladd_fast.data.plan), i.e. shard_id = global rank, num_shards = world size, with equal batch
counts on every rank; device_id = local rank. DALI decodes JPEG on the GPU; PNG always decodes on
the CPU, so pack PNG datasets first (python -m sladd_fast.pack).
"""
from __future__ import annotations

import os
from typing import Callable, Iterable, Iterator

from pipelines.source import PairSource
from sladd_fast.data.batch import Batch
from sladd_fast.data.plan import TrainSet

OUTPUTS = ("images", "partners", "masks", "landmarks", "partner_landmarks", "flags", "ids", "bad")


def png_size(path: str) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk (24 bytes read), or None if it is not a readable PNG."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        return None
    if len(head) < 24 or not head.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def masks_need_resize(data: TrainSet, size: int) -> bool:
    """True unless every FF++ mask of the index is already a size x size PNG (checked from headers)."""
    paths = {p for p in data.index.mask_paths.tolist() if p}
    return any(png_size(os.path.join(data.index.root, p)) != (size, size) for p in paths)


def _build(source: PairSource, batch_size: int, size: int, device_id: int | None, workers: int, seed: int,
           resize: bool, py_workers: int, resize_masks: bool):
    from nvidia.dali import fn, pipeline_def, types

    gpu = device_id is not None
    parallel = py_workers > 0

    extra: dict = dict(py_num_workers=py_workers, py_start_method="spawn") if parallel else {}

    @pipeline_def(batch_size=batch_size, num_threads=max(1, workers), device_id=device_id, seed=seed,  # type: ignore[call-overload]
                  prefetch_queue_depth=2, **extra)
    def train_pipeline():
        img, pimg, mask, lm, plm, flags, ids, bad = fn.external_source(
            source=source, num_outputs=8, batch=False, parallel=parallel,
            dtype=[types.UINT8, types.UINT8, types.UINT8, types.FLOAT, types.FLOAT, types.UINT8, types.INT64,
                   types.INT64])
        dec = "mixed" if gpu else "cpu"
        out = []
        for enc in (img, pimg):
            x = fn.decoders.image(enc, device=dec, output_type=types.RGB)
            if resize:
                x = fn.resize(x, resize_x=size, resize_y=size, interp_type=types.INTERP_CUBIC, antialias=False)
            out.append(fn.transpose(x, perm=[2, 0, 1]))
        m = fn.decoders.image(mask, device=dec, output_type=types.GRAY)
        if resize_masks:  # decided once from the mask files' headers (a resize costs ~25% on CPU)
            m = fn.resize(m, resize_x=size, resize_y=size, interp_type=types.INTERP_LINEAR, antialias=False)
        m = fn.transpose(fn.cast(m, dtype=types.FLOAT) / 255.0, perm=[2, 0, 1])
        if gpu:
            lm, plm, flags, ids = lm.gpu(), plm.gpu(), flags.gpu(), ids.gpu()
        return out[0], out[1], m, lm, plm, flags, ids, bad  # bad stays on the CPU: read without a sync

    return train_pipeline()


class DaliLoader:
    """Iterates this rank's batches of each epoch as sladd_fast.data.Batch (``loader.epoch(e)``).

    Args:
        data: TrainSet. size: output side. batch_size: per rank. rank / world_size: global rank
            and world size (the shard). device_id: local GPU, or None for a CPU-only pipeline.
        start_epoch: the first epoch this loader serves (resuming a run). start_batch: the batch of
            start_epoch to begin at (resuming inside an epoch); later epochs start at 0.
        workers: DALI threads. py_workers: external-source processes (0: read files in the
            pipeline's own thread, which is cheap: the source only reads bytes). seed: the plan's seed.
    Frames already at size x size skip the resize (decided once from the landmark store's sizes), and
    so do masks when every mask file is already size x size (decided from their PNG headers).
    Epochs must be consumed in order start_epoch, start_epoch + 1, ... (DALI's epoch counter drives
    the plan). An epoch left early (break) is drained when its generator closes, so the next epoch
    starts on its own plan.
    """

    def __init__(self, data: TrainSet, size: int, batch_size: int, rank: int = 0, world_size: int = 1,
                 device_id: int | None = None, workers: int = 2, seed: int = 0, py_workers: int = 0,
                 start_epoch: int = 0, start_batch: int = 0, bad_frames: str = "replace") -> None:
        from nvidia.dali.plugin.pytorch import DALIGenericIterator, LastBatchPolicy

        self.source = PairSource(data, size, batch_size, rank, world_size, seed, start_epoch, start_batch, bad_frames)
        self.data = data
        self._bad: dict[str, int] = {}
        self._next_epoch = start_epoch
        if start_batch >= self.source.steps:  # DALI cannot run an empty epoch
            raise ValueError(f"start_batch must lie in [0, {self.source.steps}) (an epoch of {self.source.steps} "
                             f"batches); at its end, start the next epoch at batch 0")
        resize = not bool((data.store.size[data.rows] == size).all())
        self.pipe = _build(self.source, batch_size, size, device_id, workers, seed + rank, resize, py_workers,
                           masks_need_resize(data, size))
        try:  # building and the iterator's first prefetch already run the source
            self.pipe.build()
            self.iterator = DALIGenericIterator(self.pipe, list(OUTPUTS), auto_reset=True,
                                                last_batch_policy=LastBatchPolicy.PARTIAL)
        except ValueError:
            raise
        except Exception as e:  # DALI re-raises worker errors as a bare Exception holding the traceback
            err = _unwrap(e)
            raise (self._decode_error(err, start_epoch, start_batch) if isinstance(err, RuntimeError) else err) from e
        self._start_batch = start_batch
        self.closed = False

    def __len__(self) -> int:
        return self.source.steps

    def close(self) -> None:
        """Ends the loader: an epoch still open is abandoned, not drained (after an error or Ctrl-C,
        running the rest of the epoch would only delay the exit, or run on a pipeline being torn down)."""
        self.closed = True

    def epoch(self, epoch: int, start_batch: int = 0) -> Iterator[Batch]:
        """This rank's batches of ``epoch``; ``start_batch`` must be the constructor's for its first
        epoch (DALI's source decides where an epoch starts) and 0 afterwards."""
        if epoch != self._next_epoch:
            raise ValueError(f"DaliLoader epochs run in order: expected {self._next_epoch}, got {epoch}")
        if start_batch != self._start_batch:
            raise ValueError(f"DaliLoader epoch {epoch} starts at batch {self._start_batch} (set by the constructor), "
                             f"not {start_batch}")
        first = self._start_batch
        self._next_epoch += 1
        self._start_batch = 0
        b = first
        try:
            for out in run_epoch(self.iterator, drain=lambda: not self.closed):
                d = out[0]
                flags, ids = d["flags"], d["ids"]
                self._note_replaced(d["bad"])
                yield Batch(images=d["images"], partners=d["partners"], landmarks=d["landmarks"],
                            partner_landmarks=d["partner_landmarks"], landmarks_valid=flags[:, 0].bool(),
                            partner_valid=flags[:, 1].bool(), masks=d["masks"], labels=ids[:, 0].contiguous(),
                            indices=ids[:, 1].contiguous(), partner_indices=ids[:, 2].contiguous())
                b += 1
        except RuntimeError as e:  # the decoder itself failed: no per-sample replacement is possible
            raise self._decode_error(e, epoch, b) from e

    def _decode_error(self, e: Exception, epoch: int, b: int) -> RuntimeError:
        """The decoder failed on batch b or one of the 2 prefetched after it: name their files."""
        steps = self.source.steps
        files: list[str] = []
        for k in range(b, min(b + 3, steps)):
            files += self.batch_files(epoch - self.source.start_epoch, k)
        return RuntimeError(f"{e}\nthe failing batch is one of batches {b}..{min(b + 2, steps - 1)} of epoch {epoch}, "
                            f"which hold these files: " + ", ".join(files[:40]) + (" ..." if len(files) > 40 else "")
                            + "\nfind the damaged ones with: python -m sladd_fast.pack --verify "
                            + str(self.data.index.root) + " (the index then leaves them out)")

    def batch_files(self, epoch_idx: int, b: int) -> list[str]:
        """The frame and mask files of batch ``b`` of the loader's ``epoch_idx``-th epoch, in order."""
        plan = self.source.plan(epoch_idx)
        idx = self.data.index
        out = []
        for i, p in zip(plan.items[b].tolist(), plan.partners[b].tolist()):
            out += [str(idx.paths[i])] + ([str(idx.mask_paths[i])] if idx.mask_paths[i] else []) + [str(idx.paths[p])]
        return out

    def _note_replaced(self, bad) -> None:
        import logging

        for row in bad[bad >= 0].tolist():  # a CPU output: no device sync
            path = str(self.data.index.paths[row])
            if path not in self._bad:
                logging.getLogger("sladd_fast.data").warning(
                    "unreadable frame replaced by another of the same label: %s", path)
            self._bad[path] = self._bad.get(path, 0) + 1

    def bad_frames_report(self) -> dict:
        """{"replaced": times a frame was replaced so far, "files": the files that failed, sorted}."""
        return {"replaced": sum(self._bad.values()), "files": sorted(self._bad)}


def run_epoch(iterator: Iterable, drain: Callable[[], bool] = lambda: True) -> Iterator:
    """One pass of a DALI iterator with clear errors and no partial epochs.

    Worker errors (re-raised by DALI as a bare Exception holding the traceback) become the source's
    ValueError naming the bad file. If the consumer stops early, the rest of the epoch is run out when
    the generator closes, so DALI's epoch counter (which drives the plan) stays in step; unless
    ``drain()`` is then False (the loader was closed: no epoch follows).
    """
    finished = False
    try:
        for out in iterator:
            yield out
        finished = True
    except ValueError:
        finished = True
        raise
    except Exception as e:
        finished = True
        raise _unwrap(e) from e
    finally:
        if not finished and drain():
            for _ in iterator:
                pass


def _unwrap(e: Exception) -> Exception:
    """Our source's ValueError (naming the bad file) out of DALI's wrapped worker traceback."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip().startswith("ValueError: ")]
    if lines:
        return ValueError(lines[-1][len("ValueError: "):])
    return RuntimeError(f"DALI pipeline failed: {e}")
