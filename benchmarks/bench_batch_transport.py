"""Worker-to-main hand-over of encoded batches, the PyTorch loader's decode="cuda" path, as it is
("packed_uint8": frames packed into one tensor per field by torch_loader.collate, EncodedFrames, and
masks as uint8) against how it was ("per_frame_float": one tensor per frame, float32 masks), with the
two mixed ways beside them to split the gain; same data, same workers, one epoch of each in every
round, the order rotated from round to round.

    python benchmarks/bench_batch_transport.py [--root PACKED_ROOT] [--batch 256] [--workers N]
        [--min-batches 20] [--rounds 3] [--json PATH]

No GPU and no decoding: the workers read and check each JPEG's bytes, decode the masks and look up
the landmarks exactly as the loader's do, and the main process only receives the batches, so the
figure is the ceiling the hand-over itself puts on the loader. A DataLoader worker passes every tensor
storage of a batch as its own shared-memory file (a descriptor sent, then mapped), which one tensor
per frame pays 2 x batch times; a float mask is 4x the bytes of a uint8 one to write, map and pin.
Data: --root, else bench_loader's cached demo set (packed to JPEG). Frames/s counts items and
partners (2 frames per item), as bench_loader does. A benchmark: nothing asserts.
"""
from __future__ import annotations

import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.bench_loader import _dataset, default_cache, repeat_to  # noqa: E402
from benchmarks.common import at_least, check_outputs, command, environment, parser, write_json  # noqa: E402


def collate_per_frame(samples: list[dict[str, torch.Tensor]]) -> dict[str, object]:
    """The former collate: encoded frames as a list of one tensor each, the other fields stacked."""
    return {k: [s[k] for s in samples] if k in ("images", "partners") else torch.stack([s[k] for s in samples])
            for k in samples[0]}


def _epoch_s(loader, sampler, plan) -> tuple[int, float]:
    """(frames, seconds) of one pass over ``plan`` (a Batch, or collate_per_frame's dict)."""
    sampler.set_plan(plan)
    frames, t0 = 0, time.perf_counter()
    for b in loader:
        frames += 2 * len(b["labels"] if isinstance(b, dict) else b.labels)
    return frames, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__)
    ap.add_argument("--root", default=None, help="a packed (JPEG) FF++-layout root with landmarks.npz")
    ap.add_argument("--cache", default=default_cache(), help="where the demo dataset is kept without --root")
    ap.add_argument("--size", type=at_least(16), default=256, help="image side of the demo set and the masks")
    ap.add_argument("--batch", type=at_least(1), default=256, help="items per batch (each brings its partner)")
    ap.add_argument("--workers", type=at_least(1), default=os.cpu_count(), help="DataLoader worker processes")
    ap.add_argument("--min-batches", type=at_least(1), default=20, help="batches per timed epoch (index repeated)")
    ap.add_argument("--rounds", type=at_least(1), default=3, help="rounds of one epoch of each way")
    ap.add_argument("--json", default=None, help="write the record (figures, arguments, environment) here")
    args = ap.parse_args(argv)
    if args.root and not os.path.isfile(os.path.join(args.root, "landmarks.npz")):
        ap.error(f"--root {args.root}: no landmarks.npz there (a packed FF++-layout root, see sladd_fast.pack)")
    check_outputs(ap, json=args.json)

    from torch.utils.data import DataLoader

    from sladd_fast.data import LandmarkStore, ffpp_index
    from sladd_fast.data.plan import TrainSet, plan_epoch
    from sladd_fast.data.torch_loader import PairDataset, PairSampler, collate

    root = _dataset(args.root, args.size, args.cache)
    data = TrainSet.build(ffpp_index(root, "train", "ALL"), LandmarkStore.load(os.path.join(root, "landmarks.npz")))
    data = repeat_to(data, args.min_batches * args.batch)
    plan = plan_epoch(data, 0, args.batch, 0, 1, 0)
    sides = {}
    for frames_as, fn in (("packed", collate), ("per_frame", collate_per_frame)):
        for masks_as in ("uint8", "float"):
            sampler = PairSampler()
            dataset = PairDataset(data, args.size, encoded=True, float_masks=masks_as == "float")
            loader = DataLoader(dataset, batch_size=args.batch, sampler=sampler, num_workers=args.workers,
                                collate_fn=fn, persistent_workers=True)
            _epoch_s(loader, sampler, plan)  # warm-up: workers started, files in the page cache
            sides[f"{frames_as}_{masks_as}"] = (loader, sampler, [])
    names = list(sides)
    for r in range(args.rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:  # a new first side every round
            loader, sampler, rates = sides[name]
            frames, seconds = _epoch_s(loader, sampler, plan)
            rates.append(frames / seconds)
    record = {"suite": "loader", "what": "batch_transport", "batch": args.batch, "workers": args.workers,
              "size": args.size, "root": root, "frames_per_epoch": 2 * len(plan) * args.batch}
    for name, (_, _, rates) in sides.items():
        record[name] = {"frames_per_s": statistics.median(rates), "rounds": rates}
        print(f"{name:15s} [{args.workers} workers, batch {args.batch}]: {statistics.median(rates):,.0f} frames/s "
              f"(rounds {', '.join(f'{r:,.0f}' for r in rates)})")
    ratios = [p / f for p, f in zip(record["packed_uint8"]["rounds"], record["per_frame_float"]["rounds"])]
    record["ratio"], record["ratio_rounds"] = statistics.median(ratios), ratios
    print(f"ratio now/before (packed_uint8 / per_frame_float): {record['ratio']:.1f}x (median of the rounds)")
    record.update(command=command(args, argv), env=environment(torch.device("cpu")))
    write_json(args.json, record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
