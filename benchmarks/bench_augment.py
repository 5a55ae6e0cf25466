"""Augmentation throughput: the batched module beside a per-sample baseline of the same recipe.

    python benchmarks/bench_augment.py --mode sladd|sbi|xray --device cpu|cuda --json PATH [--batch 32]
        [--threads N] [--iters 10] [--baseline-iters 3] [--rounds 3] [--graph]

--mode sladd times sladd_fast.augment.SladdAugment (p=1, partners from the batch, regions and blends
alpha / Poisson / copy sampled) and, in the same run on the same number of CPU threads, the per-sample
baseline fixed in advance: sladd_fast.baseline.synthesize_one, spec §3 written as ordinary
numpy/OpenCV/SciPy/scikit-image code, one sample at a time in that many single-threaded processes
(the way the original runs). --mode sbi times SbiAugment beside
sladd_fast.augment.sbi_baseline.SbiAlbumentations (SBI's per-sample calls: albumentations 1.1.0 and
OpenCV, drawing its own parameters as SBI does; where albumentations is missing, sbi_one, its steps as
the OpenCV calls they make, and the JSON's baseline.impl says so). --mode xray times
XrayAugment (p=1, partners by nearest landmarks in the batch, video ids all different) beside
sladd_fast.augment.xray_baseline: per sample, BI's linear nearest-face scan over the same batch, then
xray_one drawing its own parameters as the original does (JPEG through cv2, a real round trip; the
module emulates JPEG on the device). The ratio is the median of alternating rounds. --graph (CUDA)
times the module replayed from a CUDA graph (sladd_fast.augment.AugmentGraph). The JSON
also records ops_per_call: the ops one call dispatches on the GPU's code path (about one kernel launch
each), counted on CPU through the sync-free branches. A benchmark, not a test: nothing asserts.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.bench_synthesis import _baseline_worker, _worker_init  # noqa: E402
from benchmarks.common import (add_timing_args, alternate_rounds, at_least, baseline_record,  # noqa: E402
                               check_device, check_outputs, command, environment, package_version, parser,
                               peak_mb_per_sample, rounds_note, summarize, sync_free, write_json)
from sladd_fast import faces, ops  # noqa: E402
from sladd_fast.augment import AugmentGraph, SbiAugment, SladdAugment, XrayAugment  # noqa: E402

MODES = ("sladd", "sbi", "xray")


def sbi_baseline_impl() -> str:
    """The SBI baseline this environment runs: SBI's own calls through albumentations 1.x (the one
    fixed in advance; SBI's code needs the 1.x API), or, where that is not installed, its steps as the
    OpenCV calls they make."""
    return "albumentations" if (package_version("albumentations") or "").startswith("1.") else "opencv"


def _sbi_worker(args: tuple) -> int:
    """SBI's per-sample path over a chunk (one process, one OpenCV thread), drawing as SBI does."""
    import cv2

    from sladd_fast.augment.sbi_baseline import SbiAlbumentations, sbi_one

    cv2.setNumThreads(1)
    imgs, lms, seed, impl = args
    if impl == "albumentations":
        one = SbiAlbumentations(seed)
        for i in range(len(imgs)):
            one(np.ascontiguousarray(imgs[i]), lms[i])
        return len(imgs)
    rng = np.random.default_rng(seed)
    for i in range(len(imgs)):
        sbi_one(np.ascontiguousarray(imgs[i]), lms[i], None, rng)
    return len(imgs)


def _xray_worker(args: tuple) -> int:
    """BI's per-sample path over a chunk (one process, one OpenCV thread): nearest-face scan over
    the batch, then the blend, drawing as the original does."""
    import random

    import cv2

    from sladd_fast.augment.xray_baseline import search_similar_face, xray_one

    cv2.setNumThreads(1)
    imgs, lms, vids, rows, seed = args
    rng = np.random.default_rng(seed)
    random.seed(seed)
    cands = list(zip(lms, vids))
    for i in rows:
        j = search_similar_face(lms[i], vids[i], cands)
        xray_one(np.ascontiguousarray(imgs[i]), np.ascontiguousarray(imgs[j]), lms[i], None, rng)
    return len(rows)


def gpu_path_ops(module) -> int:
    """Ops one call dispatches on the GPU's code path (about one kernel launch each; views and
    allocations excluded): counted by benchmarks/cost_model.py's CostCounter, on CPU through the
    sync-free branches (SLADD_FAST_SYNC_FREE=1), so it tracks the launch-bound cost of small GPU batches
    without a GPU."""
    from benchmarks.cost_model import CostCounter

    with sync_free(), CostCounter() as c:
        module()
    return sum(v["ops"] for v in c.cost.values())


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__)
    ap.add_argument("--mode", default="sladd", choices=MODES)
    ap.add_argument("--batch", type=at_least(1), default=32,
                    help="samples per call (sladd and xray: at least 2, partners come from the batch)")
    add_timing_args(ap, "module", graph_help="cuda: time the mode replayed from a CUDA graph (AugmentGraph)")
    args = ap.parse_args(argv)
    dev = check_device(ap, args)
    if args.mode in ("sladd", "xray") and args.batch < 2:
        ap.error(f"--batch {args.batch}: --mode {args.mode} takes partners from the batch, so it needs at least 2")
    check_outputs(ap, json=args.json)
    rounds_note(args, ap)
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    lm = faces.random_landmarks(args.batch, args.size, g)
    img = faces.render_faces(lm, args.size, g)
    vids = torch.arange(args.batch)
    d_img, d_lm, d_vids = img.to(dev), lm.to(dev), vids.to(dev)
    gen = torch.Generator(dev).manual_seed(0)
    last = {}
    base = {"sladd": lambda: SladdAugment(p=1.0), "sbi": SbiAugment, "xray": XrayAugment}[args.mode]()
    with_ids = args.mode != "sbi"

    def call(m):
        return m(d_img, d_lm, d_vids, generator=gen) if with_ids else m(d_img, d_lm, generator=gen)

    timed = AugmentGraph(base, args.batch, args.size, dev, with_video_ids=with_ids) if args.graph else base

    def module() -> None:  # what is timed: the module, or its CUDA-graph replay
        last["out"] = call(timed)

    def eager() -> None:  # the module itself: its ops and its peak memory (a replay's were set at capture)
        call(base)

    nb = min(args.batch, 64)
    jobs = []
    worker = _baseline_worker
    if args.baseline_iters > 0 and args.mode == "sbi":
        worker = _sbi_worker
        np_img, np_lm = img[:nb].permute(0, 2, 3, 1).numpy(), lm[:nb].numpy()
        chunks = np.array_split(np.arange(nb), args.threads)
        sbi_impl = sbi_baseline_impl()  # one lookup: the workers and the record get the same
        jobs = [(np_img[c], np_lm[c], k, sbi_impl) for k, c in enumerate(chunks) if len(c)]
    elif args.baseline_iters > 0 and args.mode == "xray":
        worker = _xray_worker
        np_img, np_lm, np_vid = img[:nb].permute(0, 2, 3, 1).numpy(), lm[:nb].numpy(), vids[:nb].numpy()
        chunks = np.array_split(np.arange(nb), args.threads)
        jobs = [(np_img, np_lm, np_vid, c, k) for k, c in enumerate(chunks) if len(c)]
    elif args.baseline_iters > 0:
        module()  # the baseline replays the module's own draws (partners, regions, blends, ratios)
        p = last["out"].params
        part = p.partner.cpu()
        t, s = img[:nb].permute(0, 2, 3, 1).numpy(), img[part[:nb]].permute(0, 2, 3, 1).numpy()
        np_in = [t, s, lm[:nb].numpy(), lm[part[:nb]].numpy(), p.region[:nb].cpu().numpy(),
                 p.blend_type[:nb].cpu().numpy(), p.ratio[:nb].cpu().numpy()]
        chunks = np.array_split(np.arange(nb), args.threads)
        jobs = [tuple(a[c] for a in np_in) + (k,) for k, c in enumerate(chunks) if len(c)]
    mod_t, base_t, ratios = alternate_rounds(module, dev, args.batch, args.iters, worker, jobs, _worker_init, nb,
                                             args.baseline_iters, args.rounds)
    m = summarize(mod_t)
    rate = args.batch / m["median_s"]
    n_ops = gpu_path_ops(eager)
    print(f"{args.mode} module [{dev}, backend={ops.backend_for(dev)}, {args.threads} threads]: {rate:,.1f} samples/s "
          f"(batch {args.batch}, median {m['median_s'] * 1e3:.1f} ms; {n_ops} ops a call on the GPU path)")
    record = {"suite": "augment", "mode": args.mode, "graph": args.graph, "batch": args.batch, "size": args.size,
              "threads": args.threads,
              "backend": ops.backend_for(dev), "module": {**m, "samples_per_s": rate, "ops_per_call": n_ops},
              "command": command(args, argv), "env": environment(dev)}
    if ratios:
        record.update(baseline_record(base_t, ratios, nb, len(jobs)))
        impl = "numpy/cv2"
        if args.mode == "sbi":
            record["baseline"]["impl"] = sbi_impl
            impl = {"albumentations": "albumentations + cv2 (SBI's calls)",
                    "opencv": "its albumentations steps as OpenCV calls: albumentations 1.x is not installed"}[
                record["baseline"]["impl"]]
        print(f"baseline [cpu, per-sample {impl}, {len(jobs)} processes]: "
              f"{record['baseline']['samples_per_s']:,.1f} samples/s; ratio {record['ratio']:.1f}x "
              f"(rounds {', '.join(f'{x:.1f}' for x in ratios)})")
    if dev.type == "cuda":  # peak memory of one eager call, per sample
        record["peak_mem_mb_per_sample"] = peak_mb_per_sample(eager, dev, args.batch)
        print(f"peak GPU memory of one call: {record['peak_mem_mb_per_sample']:.2f} MB per sample")
    write_json(args.json, record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
