"""DALI evaluation pipeline: every frame of an index once, in order, this rank's contiguous slice
(sladd_fast.data.evaluation.eval_rows), decoded on the GPU (device_id) or CPU (None), resized."""
from __future__ import annotations

import logging
import os
from typing import Iterator

import numpy as np

from pipelines.ffpp import _unwrap, run_epoch
from pipelines.source import blank_png, read_encoded
from sladd_fast.data.evaluation import EvalBatch, eval_rows
from sladd_fast.data.index import FrameIndex

log = logging.getLogger(__name__)


class EvalSource:
    """Per-sample source: (encoded frame, [label, index row, valid]). DALI only emits whole batches,
    so the last batch is padded with copies of the slice's last frame flagged with row -1 (trimmed by
    the iterator); StopIteration after that. A file that cannot be read, or is empty or truncated, is
    sent as a blank frame with valid 0 (logged; the metrics leave it out, as TorchEvalLoader's)."""

    def __init__(self, index: FrameIndex, rows: np.ndarray, batch_size: int, size: int) -> None:
        self.index, self.rows = index, rows
        self.padded = -(-len(rows) // batch_size) * batch_size
        self.blank = blank_png(size)

    def __call__(self, info) -> tuple:
        k = info.idx_in_epoch
        if k >= self.padded or len(self.rows) == 0:
            raise StopIteration
        i = int(self.rows[min(k, len(self.rows) - 1)])
        row = i if k < len(self.rows) else -1
        try:
            enc, ok = read_encoded(os.path.join(self.index.root, self.index.paths[i])), 1
        except ValueError as e:
            if row >= 0:  # once per file (the padding repeats the last one)
                log.warning("evaluation: %s (left out of the metrics)", e)
            enc, ok = self.blank, 0
        return enc, np.array([self.index.labels[i], row, ok], np.int64)


class DaliEvalLoader:
    """``for batch in loader`` yields EvalBatch (uint8 [B,3,S,S] images, labels, indices).

    Ranks may get different batch counts (contiguous slices of N frames); gather scores after the
    loop, not per batch."""

    def __init__(self, index: FrameIndex, size: int, batch_size: int, rank: int = 0, world_size: int = 1,
                 device_id: int | None = None, workers: int = 2) -> None:
        from nvidia.dali import fn, pipeline_def, types
        from nvidia.dali.plugin.pytorch import DALIGenericIterator, LastBatchPolicy

        self.rows = eval_rows(len(index), rank, world_size)
        source = EvalSource(index, self.rows, batch_size, size)
        self.batch_size = batch_size
        self.iterator = None
        if len(self.rows) == 0:  # more ranks than frames: this rank has nothing (DALI cannot run empty)
            return

        @pipeline_def(batch_size=batch_size, num_threads=max(1, workers), device_id=device_id, seed=0)
        def eval_pipeline():
            enc, meta = fn.external_source(source=source, num_outputs=2, batch=False,
                                           dtype=[types.UINT8, types.INT64])
            x = fn.decoders.image(enc, device="mixed" if device_id is not None else "cpu", output_type=types.RGB)
            x = fn.resize(x, resize_x=size, resize_y=size, interp_type=types.INTERP_CUBIC, antialias=False)
            return fn.transpose(x, perm=[2, 0, 1]), meta

        try:
            self.pipe = eval_pipeline()
            self.pipe.build()
            self.iterator = DALIGenericIterator(self.pipe, ["images", "meta"], auto_reset=True,
                                                last_batch_policy=LastBatchPolicy.PARTIAL)
        except ValueError:
            raise
        except Exception as e:
            raise _unwrap(e) from e

    def __len__(self) -> int:
        return (len(self.rows) + self.batch_size - 1) // self.batch_size

    def __iter__(self) -> Iterator[EvalBatch]:
        if self.iterator is None:
            return
        left = len(self.rows)  # counted on the host: the padding of the last batch needs no device read
        for out in run_epoch(self.iterator):
            d = out[0]
            meta = d["meta"]
            n = min(left, self.batch_size)  # padding rows come last
            left -= n
            yield EvalBatch(d["images"][:n], meta[:n, 0].contiguous(), meta[:n, 1].contiguous(), meta[:n, 2] != 0)
