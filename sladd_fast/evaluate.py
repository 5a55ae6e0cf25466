"""Detector evaluation: score every frame of a split, then global metrics (sladd_fast.metrics).

    python -m sladd_fast.evaluate CKPT --data-root DIR --dataset FF-DF [--split test] [--json out.json]

Library use (the training loop's model selection): ``evaluate_index(detector, index, ...)``, or
``score_index`` for raw scores. Under torch.distributed every rank scores its contiguous slice of
the index and the scores are all-gathered, so every rank returns the same metrics; then every rank
must make the call (it is a collective).
"""
from __future__ import annotations

import json
import os
import sys
import time
from typing import Iterable

import numpy as np
import torch
from torch import nn

from sladd_fast._args import OneLineParser, at_least, check_output
from sladd_fast.data.index import METHODS, FrameIndex
from sladd_fast.metrics import compute_metrics
from sladd_fast.models import fake_probability, normalize
from sladd_fast.train.checkpoint import load_detector, unwrap
from sladd_fast.train.distributed import resolve_device

TEST_SETS = ("CelebDF", "DFDC", "DF1.0")  # organized like FF++ (docs/datasets.md): testset_index
DATASETS = METHODS + TEST_SETS
METRIC_ORDER = ("auc", "video_auc", "eer", "ap", "acc", "frames", "videos", "real", "fake")


def _dist(distributed: bool | None = None) -> tuple[int, int] | None:
    """(rank, world_size) to shard over, or None: ``distributed`` None = whether torch.distributed is
    initialized, False = never, True = required (ValueError if it is not initialized)."""
    on = torch.distributed.is_available() and torch.distributed.is_initialized()
    if distributed and not on:
        raise ValueError("distributed=True but torch.distributed is not initialized")
    if on and distributed is not False:
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return None


def score_index(detector: nn.Module, loader: Iterable, n_frames: int, device: torch.device | str,
                max_batches: int | None = None, amp: bool = False, progress: bool = False,
                distributed: bool | None = None, unreadable: list[int] | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fake probabilities of the frames ``loader`` yields, in index order.

    Args:
        detector: a sladd_fast Detector (DDP / compiled wrappers are unwrapped); run in eval mode
            under no_grad, its previous train/eval modes are restored afterwards.
        loader: yields EvalBatch (images uint8 [B,3,S,S], labels int64 [B], indices int64 [B]),
            e.g. sladd_fast.data.evaluation.TorchEvalLoader.
        n_frames: N, the length of the index the batch indices refer to.
        device: where the detector runs.
        max_batches: stop after this many batches (per rank); frames not reached are dropped.
        amp: bf16 autocast (CUDA only; ignored on the CPU).
        progress: a tqdm bar on stderr (rank 0 only).
        distributed: all-gather the scores of every rank (default: torch.distributed is initialized).
            A collective: every rank must call it.
        unreadable: if given, the index rows of frames the loader could not decode (batch.valid
            False) are appended here; such frames are never in the returned scores.

    Returns:
        (scores float32 [M], labels int64 [M], indices int64 [M]) sorted by index, M <= N the frames scored.
    """
    device = torch.device(device)
    if max_batches is not None and max_batches <= 0:
        raise ValueError(f"max_batches must be positive, got {max_batches}")
    # DDP's forward may broadcast buffers, a collective that hangs when ranks run different batch
    # counts; a compiled module would recompile for the partial last batch. Score the plain module.
    model = unwrap(detector)
    modes = [(m, m.training) for m in model.modules()]  # per module: a frozen-BN train state survives
    dist = _dist(distributed)
    total = len(loader) if hasattr(loader, "__len__") else None  # type: ignore[arg-type]
    if total is not None and max_batches is not None:
        total = min(total, max_batches)
    bar = None
    if progress and (dist is None or dist[0] == 0):
        from tqdm import tqdm

        bar = tqdm(total=total, desc="evaluate", unit="batch", file=sys.stderr, dynamic_ncols=True)
    scores_l: list[torch.Tensor] = []
    labels_l: list[torch.Tensor] = []
    index_l: list[torch.Tensor] = []
    valid_l: list[torch.Tensor] = []
    model.eval()
    try:
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp and device.type == "cuda"):
            for k, batch in enumerate(loader):
                if max_batches is not None and k >= max_batches:
                    break
                images = batch.images.to(device, non_blocking=True)
                # Kept on the device until the end: no host sync per batch.
                scores_l.append(fake_probability(model(normalize(images)).logits))
                labels_l.append(batch.labels)
                index_l.append(batch.indices)
                valid = getattr(batch, "valid", None)
                valid_l.append(torch.ones(len(batch.labels), dtype=torch.bool) if valid is None else valid)
                if bar is not None:
                    bar.update(1)
    finally:
        for m, training in modes:
            m.training = training
        if bar is not None:
            bar.close()
    if scores_l:
        scores = torch.cat(scores_l).float().cpu().numpy()
        labels = torch.cat(labels_l).cpu().numpy().astype(np.int64)
        indices = torch.cat(index_l).cpu().numpy().astype(np.int64)
        ok = torch.cat([v.cpu() for v in valid_l]).numpy().astype(bool)
    else:
        scores, labels, indices = np.zeros(0, np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64)
        ok = np.zeros(0, bool)
    if dist is not None and dist[1] > 1:
        parts: list = [None] * dist[1]
        torch.distributed.all_gather_object(parts, (indices, scores, labels, ok))
        indices = np.concatenate([p[0] for p in parts])
        scores = np.concatenate([p[1] for p in parts])
        labels = np.concatenate([p[2] for p in parts])
        ok = np.concatenate([p[3] for p in parts])
    if unreadable is not None:
        unreadable.extend(sorted(set(indices[~ok].tolist())))
    scores, labels, indices = scores[ok], labels[ok], indices[ok]  # a bad frame is reported, never scored
    if indices.size and (indices.min() < 0 or indices.max() >= n_frames):
        raise ValueError(f"n_frames: batch indices reach {int(indices.max())}, beyond the {n_frames} frames")
    # Into index order; a frame scored twice (a non-sharded loader on several ranks) is kept once.
    order, first = np.unique(indices, return_index=True)
    return scores[first].astype(np.float32), labels[first], order.astype(np.int64)


def evaluate_index(detector: nn.Module, index: FrameIndex, size: int = 256, batch_size: int = 32, workers: int = 2,
                   device: torch.device | str = "cpu", max_batches: int | None = None, amp: bool = False,
                   progress: bool = False, distributed: bool | None = None) -> dict[str, float | int]:
    """Scores every frame of ``index`` (resized to ``size``) and returns compute_metrics's dict
    (auc, video_auc, eer, ap, acc, frames, videos, real, fake), videos grouped by ``index.videos``.

    Under torch.distributed each rank reads its contiguous slice and all ranks return the same dict
    (every rank must call it). ``max_batches`` caps the batches per rank (smoke runs): metrics are
    then over the frames reached. Raises ValueError if those frames hold only one class.
    ``distributed=False`` scores the whole index on this rank alone (e.g. evaluation on rank 0 only).
    """
    from sladd_fast.data.evaluation import TorchEvalLoader

    rank, world = _dist(distributed) or (0, 1)
    loader = TorchEvalLoader(index, size, batch_size, rank, world, workers, device)
    bad: list[int] = []
    scores, labels, rows = score_index(detector, loader, len(index), device, max_batches, amp, progress,
                                       distributed=world > 1, unreadable=bad)
    metrics = compute_metrics(scores, labels, index.videos[rows])
    metrics["unreadable"] = len(bad)  # frames left out of the metrics (logged by the loader)
    if bad:
        metrics["unreadable_files"] = [str(index.paths[i]) for i in bad[:20]]
    return metrics


def load_index(data_root: str, dataset: str, split: str, frames: int | None = None, dfb_json: str | None = None,
               compression: str | None = "c23") -> FrameIndex:
    """The FrameIndex the CLI evaluates (see docs/datasets.md).

    FF-* -> ffpp_index; CelebDF/DFDC/DF1.0 -> testset_index; with ``dfb_json`` deepfakebench_index for
    any name (for an FF-* name, its fakes plus the reals; ``frames`` keeps the first frames per video;
    split "eval" is DeepfakeBench's "val").
    """
    from sladd_fast.data.index import deepfakebench_split, ffpp_index, ffpp_root, testset_index

    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    if dfb_json is not None:
        return deepfakebench_split(dfb_json, data_root, split, dataset, compression, frames)
    if dataset in METHODS:
        return ffpp_index(ffpp_root(data_root), split, dataset, frames)
    return testset_index(data_root, split, frames)


def format_table(metrics: dict) -> str:
    """Two aligned columns, metric and value (floats with 4 decimals)."""
    keys = [k for k in METRIC_ORDER if k in metrics] + [k for k in metrics if k not in METRIC_ORDER
                                                        and not isinstance(metrics[k], (list, dict))]
    rows = [(k, f"{metrics[k]:.4f}" if isinstance(metrics[k], float) else str(metrics[k])) for k in keys]
    w = max(len("metric"), *(len(k) for k, _ in rows))
    v = max(len("value"), *(len(x) for _, x in rows))
    lines = [f"{'metric':<{w}}  {'value':>{v}}", f"{'-' * w}  {'-' * v}"]
    lines += [f"{k:<{w}}  {x:>{v}}" for k, x in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = OneLineParser(prog="python -m sladd_fast.evaluate", description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", metavar="CKPT", help="train.py checkpoint or a bare detector state dict")
    ap.add_argument("--data-root", required=True, metavar="DIR", help="dataset root (docs/datasets.md)")
    ap.add_argument("--dataset", required=True, choices=DATASETS)
    ap.add_argument("--split", default="test", choices=("test", "eval"))
    ap.add_argument("--json", metavar="PATH", help="write metrics and run details here")
    ap.add_argument("--batch-size", type=at_least(1), default=32)
    ap.add_argument("--workers", type=at_least(0), default=2, help="DataLoader processes")
    ap.add_argument("--device", default="auto", choices=("cpu", "cuda", "auto"))
    ap.add_argument("--resolution", type=at_least(1), default=256, help="frames are resized to this square size")
    ap.add_argument("--frames", type=at_least(1), default=None,
                    help="frames per video (default: FF++ config/frames.json, else SLADD's 25 test / 10 eval; "
                         "test sets 25; DeepfakeBench all)")
    ap.add_argument("--max-batches", type=at_least(1), default=None, help="stop after N batches (smoke runs)")
    ap.add_argument("--amp", action="store_true", help="bf16 autocast on CUDA")
    ap.add_argument("--dfb-json", metavar="PATH", help="DeepfakeBench dataset json; --data-root is its rgb root")
    ap.add_argument("--compression", default="c23", choices=("raw", "c23", "c40"), help="DeepfakeBench compression")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    if not os.path.isfile(args.checkpoint):
        ap.error(f"checkpoint not found: {args.checkpoint}")
    if not os.path.isdir(args.data_root):
        ap.error(f"--data-root: no such directory: {args.data_root}")
    if args.dfb_json is not None and not os.path.isfile(args.dfb_json):
        ap.error(f"--dfb-json: no such file: {args.dfb_json}")
    check_output(ap, "--json", args.json)
    try:
        device = torch.device(resolve_device(args.device))
        index = load_index(args.data_root, args.dataset, args.split, args.frames, args.dfb_json, args.compression)
        detector = load_detector(args.checkpoint, device)
        t0 = time.perf_counter()
        metrics = evaluate_index(detector, index, args.resolution, args.batch_size, args.workers, device,
                                 args.max_batches, args.amp, progress=not args.quiet)
        seconds = time.perf_counter() - t0
    except (ValueError, FileNotFoundError) as e:
        ap.exit(2, f"{ap.prog}: error: {e}\n")  # one line, status 2
    print(f"{args.dataset} {args.split}: {metrics['frames']} of {len(index)} frames, {seconds:.1f} s "
          f"({metrics['frames'] / seconds:.1f} frames/s)")
    print(format_table(metrics))
    if args.json:
        record = dict(metrics, dataset=args.dataset, split=args.split, checkpoint=os.path.abspath(args.checkpoint),
                      data_root=os.path.abspath(args.data_root), index_frames=len(index), skipped=index.skipped,
                      resolution=args.resolution, max_batches=args.max_batches, seconds=round(seconds, 3),
                      frames_per_s=round(metrics["frames"] / seconds, 3))
        folder = os.path.dirname(os.path.abspath(args.json))
        os.makedirs(folder, exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(record, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
