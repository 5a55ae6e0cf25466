"""Loader throughput: frames/s with landmarks for a backend, beside the plain DataLoader baseline.

    python benchmarks/bench_loader.py --backend dali|torch|synthetic --device cpu|cuda --json PATH
        [--root PACKED_ROOT] [--batch 32] [--size 256] [--epochs 10] [--workers N] [--decode cpu|cuda]
        [--min-batches 50]

Without --root, builds the embedded demo dataset (sladd_fast.data.demo) once into a cache folder
(--cache, default ~/.cache/sladd_fast/bench_loader) and packs it to JPEG (sladd_fast.pack), so both
backends read the same GPU-decodable files; later runs reuse it. Frames/s
counts decoded frames delivered with their landmarks on the target device (each item brings its
partner: 2 frames per sample). The baseline is sladd_fast.data.torch_loader on the same data, with
the same number of worker processes, delivering to the same device (``--device cuda`` there means
CPU decode plus a pinned copy); ``--decode cuda`` times the PyTorch loader decoding each batch with
nvJPEG instead. Epochs hold at least --min-batches batches (the index is repeated when it is
smaller), so start-up and drain do not dominate. The timed loader and its baseline take turns
epoch by epoch, after one warm-up epoch each. DALI prefetches the first batches (2 by default) of
its next epoch as soon as one ends, so it starts each of its epochs with those in hand while the
baseline ran: on a 50-batch epoch that flatters it by up to about 4%. A benchmark: nothing asserts.
"""
from __future__ import annotations

import os
import shutil
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.common import (at_least, check_device, check_outputs, command, environment, parser,  # noqa: E402
                               write_json)


DEMO_SIZE = 256  # the side the demo faces are made and their landmarks found at


def default_cache() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "sladd_fast", "bench_loader")


def _dataset(root: str | None, size: int, cache: str) -> str:
    """The packed dataset: --root as given, else the demo set cached under ``cache`` (built once per
    image size; a half-built one is rebuilt)."""
    if root:
        return root
    from sladd_fast import pack
    from sladd_fast.data import demo

    import numpy as np

    # v2: faces found at DEMO_SIZE, then packed to the size (v1 sets were made at the size itself).
    top = os.path.join(cache, f"demo_v2_{size}px")
    jpg = os.path.join(top, "jpg")
    store = os.path.join(jpg, "landmarks.npz")
    if os.path.isfile(store):
        try:
            with np.load(store) as z:
                found = bool(z["valid"].any())
        except Exception:  # noqa: BLE001  a damaged store: the set is built again
            found = False
        if found:
            print(f"using the cached demo data in {top}")
            return jpg
    shutil.rmtree(top, ignore_errors=True)
    print(f"building demo data once in {top} ...")
    # dlib finds no face in small frames: the faces are made and found at 256 px, and pack resizes
    # the frames (and rescales the landmarks) to the benchmark's size.
    built = demo.build(os.path.join(top, "png"), videos=16, frames=16, size=DEMO_SIZE, seed=0, landmarks=True)
    if not built["landmarks"]["with_face"]:
        raise RuntimeError(f"the demo faces in {top}/png have no landmarks (is the dlib predictor installed?)")
    pack.pack(os.path.join(top, "png"), jpg, size=None if size == DEMO_SIZE else size, progress=False)
    shutil.rmtree(os.path.join(top, "png"))  # only the packed copy is read
    return jpg


def repeat_to(data, items: int):
    """The TrainSet with its index repeated until it holds at least ``items`` items (same frames,
    landmarks and labels; the plan then draws from the repeats like from any other rows)."""
    import numpy as np

    from sladd_fast.data.plan import TrainSet

    n = len(data)
    if n == 0 or n >= items:
        return data
    rows = np.tile(np.arange(n), -(-items // n))
    return TrainSet(data.index.select(rows), data.store, data.rows[rows])


def _epoch_frames(loader, epoch: int, device: torch.device) -> tuple[int, float]:
    """(frames, seconds) of one whole epoch, the device's queued work included."""
    frames, t0 = 0, time.perf_counter()
    for b in loader.epoch(epoch):
        frames += 2 * len(b)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return frames, time.perf_counter() - t0


def _summary(runs: list[tuple[int, float]]) -> dict:
    frames, seconds = sum(f for f, _ in runs), sum(s for _, s in runs)
    return {"frames": frames, "seconds": seconds, "frames_per_s": frames / seconds,
            "epoch_frames_per_s": [f / s for f, s in runs]}


def measure(loaders: list, epochs: int, device: torch.device) -> list[dict]:
    """Frames/s of each loader over ``epochs`` timed epochs after one warm-up epoch each (pipeline
    start-up excluded). The loaders take turns epoch by epoch, so drift in the machine (clocks,
    page cache, other load) falls on all of them alike rather than on whichever ran last."""
    for loader in loaders:
        _epoch_frames(loader, 0, device)
    runs: list[list[tuple[int, float]]] = [[] for _ in loaders]
    for e in range(1, epochs + 1):
        for loader, r in zip(loaders, runs):
            r.append(_epoch_frames(loader, e, device))
    return [_summary(r) for r in runs]


def main(argv: list[str] | None = None) -> int:
    from sladd_fast.data.index import METHODS

    ap = parser(__doc__)
    ap.add_argument("--backend", default="dali", choices=["dali", "torch", "synthetic"],
                    help="synthetic: random batches made on the device, no files (the loop's ceiling; no ratio)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--root", default=None, help="a (packed) FF++-layout root with landmarks.npz")
    ap.add_argument("--dataset", default="ALL", choices=METHODS + ("ALL",),
                    help="the train split's manipulation, with the reals")
    ap.add_argument("--batch", type=at_least(1), default=32, help="items per batch (each brings its partner)")
    ap.add_argument("--size", type=at_least(16), default=256, help="image side in pixels")
    ap.add_argument("--epochs", type=at_least(1), default=10, help="timed epochs after one warm-up epoch")
    ap.add_argument("--workers", type=at_least(0), default=os.cpu_count(),
                    help="loader worker processes (DALI: threads, at least 1)")
    ap.add_argument("--json", default=None, help="write the record (figures, arguments, environment) here")
    ap.add_argument("--cache", default=default_cache(), help="where the demo dataset is kept without --root")
    ap.add_argument("--decode", default="cpu", choices=["cpu", "cuda"],
                    help="torch backend: decode in the workers (cpu) or per batch with nvJPEG (cuda)")
    ap.add_argument("--min-batches", type=at_least(0), default=50,
                    help="repeat the index until an epoch has this many")
    args = ap.parse_args(argv)
    check_device(ap, args)
    if args.decode == "cuda" and (args.backend != "torch" or args.device != "cuda"):
        ap.error("--decode cuda is the torch backend's GPU decode: use --backend torch --device cuda")
    if args.root and not os.path.isfile(os.path.join(args.root, "landmarks.npz")):
        what = "no such folder" if not os.path.isdir(args.root) else "no landmarks.npz in it"
        print(f"error: --root {args.root}: {what} (a packed FF++-layout root, see python -m sladd_fast.pack)",
              file=sys.stderr)
        return 2
    check_outputs(ap, json=args.json)
    dev = torch.device(args.device)
    root = _dataset(args.root, args.size, args.cache)

    from sladd_fast.data import LandmarkStore, ffpp_index
    from sladd_fast.data.plan import TrainSet
    from sladd_fast.data.synthetic import SyntheticLoader
    from sladd_fast.data.torch_loader import TorchLoader

    data = TrainSet.build(ffpp_index(root, "train", args.dataset), LandmarkStore.load(os.path.join(root, "landmarks.npz")))
    data = repeat_to(data, args.min_batches * args.batch)
    if args.backend == "dali":
        from pipelines.ffpp import DaliLoader

        loader = DaliLoader(data, args.size, args.batch, device_id=0 if dev.type == "cuda" else None,
                            workers=max(1, args.workers))
    elif args.backend == "torch":
        loader = TorchLoader(data, args.size, args.batch, workers=args.workers, device=dev, decode=args.decode)
    else:
        loader = SyntheticLoader(args.batch, args.size, steps=len(data) // args.batch, device=dev)
    # Synthetic batches decode nothing: a ratio against a decoding loader would mean nothing.
    with_baseline = args.backend == "dali" or args.decode == "cuda"
    loaders = [loader]
    if with_baseline:
        loaders.append(TorchLoader(data, args.size, args.batch, workers=args.workers, device=dev))
    try:
        res, *base = measure(loaders, args.epochs, dev)
    except ValueError as e:  # e.g. fewer items than one batch per rank (--min-batches 0)
        print(f"error: {e}", file=sys.stderr)
        return 2
    name = args.backend + ("+nvjpeg" if args.decode == "cuda" else "")
    workers = {"dali": f"{max(1, args.workers)} threads", "torch": f"{args.workers} workers",
               "synthetic": "no files read"}[args.backend]
    print(f"{name:9s} [{dev}, {workers}]: {res['frames_per_s']:,.0f} frames/s "
          f"({res['frames']} frames, batch {args.batch}, {args.size}px)")
    record = {"suite": "loader", "backend": args.backend, "decode": args.decode, "batch": args.batch, "size": args.size,
              "workers": args.workers, "epochs": args.epochs, "dataset": args.dataset, "root": root,
              "items_per_epoch": len(data), args.backend: res, "command": command(args, argv), "env": environment(dev)}
    if args.backend == "synthetic":
        print("synthetic batches decode nothing: the figure is the loop's ceiling, no baseline ratio")
    elif with_baseline:
        base = base[0]
        ratios = [a / b for a, b in zip(res["epoch_frames_per_s"], base["epoch_frames_per_s"])]
        print(f"baseline  [torch DataLoader, {dev}, {args.workers} workers]: {base['frames_per_s']:,.0f} frames/s")
        print(f"ratio {name}/DataLoader: {res['frames_per_s'] / base['frames_per_s']:.2f}x "
              f"(epoch by epoch, taking turns: {min(ratios):.2f}-{max(ratios):.2f}x)")
        record["torch_baseline"] = base
        record["ratio"] = res["frames_per_s"] / base["frames_per_s"]
        record["epoch_ratios"] = ratios
    write_json(args.json, record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
