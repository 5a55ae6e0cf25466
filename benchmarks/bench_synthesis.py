"""Synthesis throughput: the batched engine vs the per-sample numpy/cv2 baseline, same inputs, one run.

    python benchmarks/bench_synthesis.py --device cpu --batch 32 --json benchmarks/results/x.json

Both sides get the same number of CPU threads (--threads, default: all cores): the engine through
torch's intra-op threads, the baseline as that many worker processes each running ordinary
single-threaded per-sample code (cv2.setNumThreads(1)), the way the original runs one sample at a
time. With --device cuda the engine runs on the GPU and the baseline stays on the CPU threads.
Blend types alpha / Poisson / copy are mixed evenly, regions cycle over all 10. Engine and baseline
alternate in --rounds rounds (a shared machine's slow drifts then hit both); the ratio is the median
of the per-round ratios. Prints samples/s, the ratio and the baseline's per-stage times; the JSON
records device, versions and git SHA. A benchmark, not a test: nothing asserts.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.common import (add_timing_args, alternate_rounds, at_least, baseline_record,  # noqa: E402
                               check_device, check_outputs, command, environment, parser, peak_mb_per_sample,
                               rounds_note, summarize, time_it, write_json)
from sladd_fast import faces, ops, synthesize  # noqa: E402


def make_inputs(batch: int, size: int, seed: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    lm_t = faces.random_landmarks(batch, size, g)
    real = faces.render_faces(lm_t, size, g)
    lm_s = faces.random_landmarks(batch, size, g)
    partner = faces.render_faces(lm_s, size, g)
    region = torch.arange(batch) % 10
    blend = torch.arange(batch) % 3
    ratio = torch.rand(batch, generator=g)
    return [real, partner, lm_t, lm_s, region, blend, ratio]


def _worker_init() -> None:
    """Each baseline process imports its stack and pins itself to one thread before any timing."""
    import cv2

    from sladd_fast import baseline  # noqa: F401  (scipy, scikit-image)

    cv2.setNumThreads(1)


def _baseline_worker(args: tuple, timings: dict[str, float] | None = None) -> int:
    import cv2

    from sladd_fast import baseline

    cv2.setNumThreads(1)
    t, s, lt, ls, r, b, q, seed = args
    rng = np.random.default_rng(seed)
    applied = 0
    for i in range(t.shape[0]):
        _, mask, ok = baseline.synthesize_one(t[i], s[i], lt[i], ls[i], int(r[i]), int(b[i]), float(q[i]), rng,
                                              timings)
        baseline.mask_target(mask)
        applied += int(ok)
    return applied


def baseline_breakdown(np_in: list[np.ndarray]) -> dict:
    """One single-threaded pass of the baseline over ``np_in`` with each stage timed (ms per sample).

    Puts the CPU target in proportion: a ratio R needs the whole forgery in 1/R of the baseline's
    per-sample time on one core, to be compared with what single OpenCV calls take (the align stage is
    two cv2.warpAffine calls, SIMD code that batching cannot beat on a CPU).
    """
    import cv2

    timings: dict[str, float] = {}
    threads = cv2.getNumThreads()
    try:
        _baseline_worker(tuple(np_in) + (0,), timings)
    finally:
        cv2.setNumThreads(threads)
    n = len(np_in[0])
    stage_ms = {k: 1e3 * v / n for k, v in sorted(timings.items(), key=lambda kv: -kv[1])}
    return {"ms_per_sample": sum(stage_ms.values()), "stage_ms_per_sample": stage_ms}


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__)
    ap.add_argument("--batch", type=at_least(1), default=32, help="forgeries per engine call")
    add_timing_args(ap, "engine",
                    graph_help="also time the call replayed from a CUDA graph (sladd_fast.synthesis.SynthesisGraph)")
    ap.add_argument("--baseline-batch", type=at_least(1), default=None,
                    help="baseline batch, at most --batch (default: min(batch, 64))")
    ap.add_argument("--profile", default=None, help="write the torch profiler's top ops (one engine step) here")
    args = ap.parse_args(argv)
    dev = check_device(ap, args)
    if args.baseline_batch is not None and args.baseline_batch > args.batch:
        ap.error(f"--baseline-batch {args.baseline_batch}: at most --batch ({args.batch}); it takes the batch's "
                 "first samples")
    check_outputs(ap, json=args.json, profile=args.profile)
    torch.set_num_threads(args.threads)
    inputs = make_inputs(args.batch, args.size, 0)
    dev_inputs = [x.to(dev) for x in inputs]
    g = torch.Generator(dev).manual_seed(0)

    def engine() -> None:
        synthesize(*dev_inputs, generator=g, check_values=False)

    try:
        import cv2  # noqa: F401
        import scipy  # noqa: F401
        import skimage  # noqa: F401
    except ImportError as e:
        print(f"baseline skipped: {e} (install requirements-dev.txt)")
        args.baseline_iters = 0
    rounds_note(args, ap)
    nb = args.baseline_batch or min(args.batch, 64)
    np_in = [x[:nb].permute(0, 2, 3, 1).contiguous().numpy() if x.dim() == 4 else x[:nb].numpy() for x in inputs]
    chunks = np.array_split(np.arange(nb), args.threads)
    jobs = [tuple(a[c] for a in np_in) + (k,) for k, c in enumerate(chunks) if len(c)]
    eng_times, base_times, round_ratios = alternate_rounds(engine, dev, args.batch, args.iters, _baseline_worker, jobs,
                                                           _worker_init, nb, args.baseline_iters, args.rounds)
    eng = summarize(eng_times)
    eng_rate = args.batch / eng["median_s"]
    print(f"engine   [{dev}, backend={ops.backend_for(dev)}, {args.threads} threads]: "
          f"{eng_rate:,.1f} samples/s (batch {args.batch}, median {eng['median_s'] * 1e3:.1f} ms)")
    record = {"suite": "synthesis", "batch": args.batch, "size": args.size, "threads": args.threads,
              "backend": ops.backend_for(dev), "engine": {**eng, "samples_per_s": eng_rate},
              "command": command(args, argv), "env": environment(dev)}
    if dev.type == "cuda":  # peak memory of one eager call, per forgery
        peak = peak_mb_per_sample(engine, dev, args.batch)
        record["peak_mem_mb_per_forgery"] = peak
        print(f"peak GPU memory of one call: {peak:.2f} MB per forgery")
    if args.graph:
        from sladd_fast.synthesis import SynthesisGraph

        graph = SynthesisGraph(args.batch, args.size, dev, copy_outputs=False)
        gr = time_it(lambda: graph(*dev_inputs, generator=g), dev, warmup=2, iters=args.iters)
        gr_rate = args.batch / gr["median_s"]
        print(f"engine, CUDA graph replay: {gr_rate:,.1f} samples/s (median {gr['median_s'] * 1e3:.2f} ms)")
        record["graph"] = {**gr, "samples_per_s": gr_rate}
    if round_ratios:
        record.update(baseline_record(base_times, round_ratios, nb, len(jobs)))
        base, ratio = record["baseline"], record["ratio"]
        print(f"baseline [cpu, per-sample numpy/cv2, {len(jobs)} processes]: {base['samples_per_s']:,.1f} samples/s "
              f"(batch {nb}, median {base['median_s']:.2f} s)")
        print(f"ratio engine/baseline: {ratio:,.1f}x (median of {len(round_ratios)} alternating rounds: "
              f"{', '.join(f'{x:.1f}' for x in round_ratios)})")
        bd = baseline_breakdown(np_in)
        stages = ", ".join(f"{k} {v:.1f}" for k, v in bd["stage_ms_per_sample"].items())
        print(f"baseline stages, ms per sample on 1 thread ({bd['ms_per_sample']:.1f} in all): {stages}; "
              f"a 20x engine would have {bd['ms_per_sample'] / 20:.1f} ms of one core per forgery")
        record["baseline"]["breakdown"] = bd
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == "cuda" else [])
        with profile(activities=acts) as prof:
            engine()
            if dev.type == "cuda":
                torch.cuda.synchronize()
        key = "self_cuda_time_total" if dev.type == "cuda" else "self_cpu_time_total"
        with open(args.profile, "w") as f:
            f.write(prof.key_averages().table(sort_by=key, row_limit=40))
        print(f"wrote {args.profile}")
    write_json(args.json, record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
