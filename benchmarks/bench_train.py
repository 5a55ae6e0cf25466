"""Training-step throughput in three arms, and where the step time goes.

    python benchmarks/bench_train.py --device cpu|cuda [--compile] --json PATH
        [--batch 32] [--size 256] [--iters 20] [--warmup 5] [--rounds 3] [--root PACKED_ROOT]
        [--backend auto|dali|torch]

Arms, measured in alternating rounds in one run (so a shared machine's drift hits all of them):
  (a) networks: synthesizer policy + detector (fwd, bwd, Adam) on a device-resident batch, with
      forgeries precomputed once (the synthesis is replaced by a cached result);
  (b) (a) + synthesis: the same batch, ``sladd_fast.synthesize`` on the device every step;
  (c) end to end: (b) with batches from the loader (DALI where installed, else the PyTorch loader)
      on the demo data packed to JPEG (or --root), host-to-device copies included.
Split of the step: synthesizer network, detector network and synthesis (``forge``) each timed alone
(same batch); b_minus_a = (b) - (a) and data = (c) - (b) are differences of medians (a negative one
is below the rounds' noise and printed as such); the loader alone (batches delivered to the device, no training) is timed
too. Before each loader arm, a queue's worth of prefetched batches is taken untimed, so the loader
arms do not get batches prepared while other arms ran; use --iters well above the queue depth (2 for
DALI, 2 x workers for the PyTorch loader). Ratios are throughput ratios: b/a (target >= 0.9 once GPU synthesis
is fast) and c/b (target >= 0.95: the loader never limits). A benchmark: nothing asserts.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Callable, Iterator

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.common import (at_least, check_device, check_outputs, command, environment, parser, sync,  # noqa: E402
                               write_json)


def _timed(fn: Callable[[], object], device: torch.device, iters: int) -> float:
    """Seconds per call of fn over ``iters`` calls (synchronised at both ends)."""
    sync(device)
    t0 = time.perf_counter()
    for _ in range(iters):
        fn()
    sync(device)
    return (time.perf_counter() - t0) / iters


def _forever(loader) -> Iterator:
    e = 0
    while True:
        yield from loader.epoch(e)
        e += 1


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--compile", action="store_true", help="torch.compile both networks")
    ap.add_argument("--batch", type=at_least(1), default=None, help="items per step (default: 32 on CUDA, 2 on CPU)")
    ap.add_argument("--size", type=int, default=256, choices=[256],
                    help="image side: 256 only, as training (16x16 map targets)")
    ap.add_argument("--iters", type=at_least(1), default=None,
                    help="steps per arm and round (default: 20 CUDA, 2 CPU)")
    ap.add_argument("--warmup", type=at_least(0), default=None,
                    help="untimed steps per arm first (default: 5 CUDA, 1 CPU)")
    ap.add_argument("--rounds", type=at_least(1), default=3)
    ap.add_argument("--root", default=None, help="(packed) FF++-layout root for arm (c); default: demo data")
    ap.add_argument("--backend", default="auto", choices=["auto", "dali", "torch"])
    ap.add_argument("--workers", type=at_least(0), default=None, help="loader workers (default: all cores)")
    ap.add_argument("--no-loader", action="store_true", help="skip arm (c)")
    ap.add_argument("--json", default=None, help="write the record (figures, arguments, environment) here")
    args = ap.parse_args(argv)
    dev = check_device(ap, args)
    if args.no_loader and (args.root or args.backend != "auto" or args.workers is not None):
        ap.error("--root, --backend and --workers set arm (c)'s loader, which --no-loader skips")
    if args.root:
        from sladd_fast.train.config import DataConfig
        from sladd_fast.train.loop import store_path

        if not os.path.isfile(store_path(DataConfig(root=args.root))):  # ROOT or ROOT/FF, as train.py
            what = "no such folder" if not os.path.isdir(args.root) else "no landmarks.npz in it or in its FF/"
            ap.error(f"--root {args.root}: {what} (a packed FF++-layout root, see python -m sladd_fast.pack)")
    check_outputs(ap, json=args.json)
    cuda = dev.type == "cuda"
    B = args.batch or (32 if cuda else 2)
    iters = args.iters or (20 if cuda else 2)
    warmup = args.warmup if args.warmup is not None else (5 if cuda else 1)

    from sladd_fast.data.synthetic import synthetic_batch
    from sladd_fast.models import Detector, SynthesizerPolicy, normalize, sample_actions
    from sladd_fast.train.config import DataConfig
    from sladd_fast.train.loop import DistEnv, backend_name, build_loader
    from sladd_fast.train.step import StepOptions, forge, policy_loss, train_step

    torch.manual_seed(0)
    if cuda:
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    fmt = torch.channels_last if cuda else torch.contiguous_format
    det = Detector().to(dev, memory_format=fmt).train()
    syn = SynthesizerPolicy().to(dev, memory_format=fmt).train()
    opt_d = torch.optim.Adam(det.parameters(), lr=2e-4, weight_decay=5e-4)
    opt_s = torch.optim.Adam(syn.parameters(), lr=5e-5, weight_decay=5e-4)
    det_m, syn_m = (torch.compile(det), torch.compile(syn)) if args.compile else (det, syn)
    opts = StepOptions(amp=cuda, channels_last=cuda)
    gen = torch.Generator(dev).manual_seed(0)
    batch = synthetic_batch(B, args.size, dev, seed=0)
    with torch.no_grad():
        acts = sample_actions(syn(torch.cat([normalize(batch.images), normalize(batch.partners)], 1)), gen)
        cached = forge(batch, acts, gen)

    def precomputed(*_a, **_k):
        return cached

    def step_a():
        return train_step(det_m, syn_m, opt_d, opt_s, batch, opts, gen, forge_fn=precomputed)

    def step_b():
        return train_step(det_m, syn_m, opt_d, opt_s, batch, opts, gen)

    amp = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else torch.autocast("cpu", enabled=False)
    pair = torch.cat([normalize(batch.images), normalize(batch.partners)], 1).contiguous(memory_format=fmt)
    x_det = normalize(cached[0].images)
    x_det = torch.cat([x_det, x_det.flip(-1)]).contiguous(memory_format=fmt)

    def syn_only():
        with amp:
            logits = syn_m(pair)
        a = sample_actions(logits, gen)
        opt_s.zero_grad(set_to_none=True)
        policy_loss(a.log_prob, a.entropy, torch.ones((), device=dev)).backward()
        opt_s.step()

    def det_only():
        with amp:
            out = det_m(x_det)
        loss = out.logits.float().logsumexp(1).mean() + out.map.float().mean() + out.type_logits.float().mean() \
            + out.mag.float().mean()
        opt_d.zero_grad(set_to_none=True)
        loss.backward()
        opt_d.step()

    def synthesis_only():
        return forge(batch, acts, gen)

    arms: dict[str, Callable[[], object]] = {"a_networks": step_a, "b_with_synthesis": step_b,
                                              "synthesizer_net": syn_only, "detector_net": det_only,
                                              "synthesis": synthesis_only}
    loader_info = None
    if not args.no_loader:
        from benchmarks.bench_loader import _dataset, default_cache

        root = _dataset(args.root, args.size, default_cache())
        workers = args.workers if args.workers is not None else (os.cpu_count() or 2)
        dc = DataConfig(root=root, backend=args.backend, workers=workers,
                        resolution=args.size, batch_size=B, dset="ALL")
        loader = build_loader(dc, DistEnv(0, 0, 1, str(dev)), 0, 0)
        stream = _forever(loader)
        loader_info = {"backend": backend_name(dc), "root": root, "steps_per_epoch": len(loader)}

        def step_c():
            b = next(stream).to(dev, non_blocking=True)
            return train_step(det_m, syn_m, opt_d, opt_s, b, opts, gen)

        def loader_only():
            return next(stream).to(dev, non_blocking=True)

        # The loader fills its queue while the other arms run: batches waiting there would be free
        # for the next timed arm, so every loader arm starts by taking (untimed) a queue's worth.
        depth = 2 if loader_info["backend"] == "dali" else 2 * max(1, dc.workers)
        loader_info["queue_depth"] = depth

        def drain():
            for _ in range(depth):
                next(stream)

        arms["c_end_to_end"] = step_c
        arms["loader_only"] = loader_only
    t_compile = time.perf_counter()
    for name, fn in arms.items():  # warm-up (and compilation) of every arm before any timing
        for _ in range(warmup):
            fn()
    sync(dev)
    t_compile = time.perf_counter() - t_compile
    rounds: dict[str, list[float]] = {k: [] for k in arms}
    for r in range(args.rounds):
        for name, fn in arms.items():
            if name in ("c_end_to_end", "loader_only"):
                drain()
            rounds[name].append(_timed(fn, dev, iters))
        print(f"round {r + 1}: " + ", ".join(f"{k} {1000 * v[-1]:.1f} ms" for k, v in rounds.items()), flush=True)
    med = {k: statistics.median(v) for k, v in rounds.items()}
    a, b = med["a_networks"], med["b_with_synthesis"]
    c = med.get("c_end_to_end")
    # Synthesis is timed alone; (b) - (a) and (c) - (b) are differences of medians, which the rounds'
    # noise can make negative when the part is small (on a CPU): recorded as measured, flagged when printed.
    split = {"synthesizer_net_s": med["synthesizer_net"], "detector_net_s": med["detector_net"],
             "synthesis_s": med["synthesis"], "b_minus_a_s": b - a, "data_s": (c - b) if c is not None else None,
             "other_s": a - med["synthesizer_net"] - med["detector_net"]}
    record = {"suite": "train", "batch": B, "size": args.size, "iters": iters, "warmup": warmup, "rounds": args.rounds,
              "compile": args.compile, "amp_bf16": cuda, "channels_last": cuda, "warmup_seconds": round(t_compile, 2),
              "step_s": med, "step_s_rounds": rounds,
              "items_per_s": {k: B / v for k, v in med.items()
                              if k in ("a_networks", "b_with_synthesis", "c_end_to_end", "loader_only")},
              "detector_images_per_s_a": 2 * B / a,
              "ratio_b_over_a": a / b, "ratio_c_over_b": (b / c) if c is not None else None,
              "split_of_end_to_end_step": split, "loader": loader_info, "command": command(args, argv),
              "env": environment(dev)}
    print(f"(a) networks {B / a:.1f} items/s | (b) + synthesis {B / b:.1f} items/s (b/a {a / b:.3f})"
          + (f" | (c) end to end {B / c:.1f} items/s (c/b {b / c:.3f})" if c is not None else ""))
    if "loader_only" in med:
        print(f"loader alone: {B / med['loader_only']:.1f} items/s")
    print("split (ms): " + ", ".join(f"{k[:-2]} {1000 * v:.1f}" + (" (below the rounds' noise)" if v < 0 else "")
                                     for k, v in split.items() if v is not None))
    write_json(args.json, record)
    if loader_info is not None and hasattr(loader, "close"):
        loader.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
