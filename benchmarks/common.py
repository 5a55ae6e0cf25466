"""Benchmark plumbing: argument parsing and checks, environment record, timing with warm-up, JSON output."""
from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from typing import Any, Callable, Iterator

import torch

from sladd_fast._args import OneLineParser, at_least, check_output
from sladd_fast._git import git_dirty, git_sha


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """--help shows the module docstring as written and every flag's default."""


def parser(doc: str | None) -> argparse.ArgumentParser:
    """A benchmark's argument parser: its module docstring (what it measures, where output goes) as
    the description, defaults shown, errors on one line."""
    return OneLineParser(description=doc, formatter_class=_HelpFormatter)


def add_timing_args(ap: argparse.ArgumentParser, unit: str, graph_help: str) -> None:
    """The flags of the benchmarks that time a module against the per-sample baseline in alternating
    rounds (bench_synthesis, bench_augment): device, image size, threads per side, timed calls of each
    side, rounds, the JSON record, and --graph (CUDA-graph replay, helped by ``graph_help``). ``unit``
    names the module's calls in the help."""
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--size", type=at_least(16), default=256, help="image side in pixels")
    ap.add_argument("--threads", type=at_least(1), default=os.cpu_count(), help="CPU threads for each side")
    ap.add_argument("--iters", type=at_least(1), default=10, help=f"timed {unit} calls")
    ap.add_argument("--baseline-iters", type=at_least(0), default=3, help="timed baseline batches (0: skip)")
    ap.add_argument("--rounds", type=at_least(1), default=3,
                    help=f"alternating {unit}/baseline rounds (at most --baseline-iters)")
    ap.add_argument("--json", default=None, help="write the record (figures, arguments, environment) here")
    ap.add_argument("--graph", action="store_true", help=graph_help)


def check_device(ap: argparse.ArgumentParser, args: argparse.Namespace) -> torch.device:
    """args.device as a torch.device; a one-line error where it is cuda and no GPU is visible, or
    where --graph (on the parsers that have it) is asked for without --device cuda."""
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: no CUDA device")
    if getattr(args, "graph", False) and args.device != "cuda":
        ap.error("--graph needs --device cuda")
    return torch.device(args.device)


def check_outputs(ap: argparse.ArgumentParser, **paths: str | None) -> None:
    """Output files checked before the run, not after it (where a bad path loses the results):
    sladd_fast._args.output_problem. Keywords are the flags' names (``json=args.json`` checks --json)."""
    for name, path in paths.items():
        check_output(ap, f"--{name.replace('_', '-')}", path or None)


def rounds_run(rounds: int, baseline_iters: int) -> int:
    """The rounds alternate_rounds runs: each times one baseline batch at least; one without a baseline."""
    return max(1, min(rounds, baseline_iters)) if baseline_iters > 0 else 1


def rounds_note(args: argparse.Namespace, ap: argparse.ArgumentParser) -> None:
    """Says so when alternate_rounds runs fewer rounds than a --rounds given on the command line (each
    round times one baseline batch at least; without a baseline there is one round). The record's
    ratio_rounds lists the rounds run."""
    ran = rounds_run(args.rounds, args.baseline_iters)
    if ran != args.rounds and args.rounds != ap.get_default("rounds"):
        why = f"--baseline-iters {args.baseline_iters}" if args.baseline_iters else "no baseline"
        print(f"note: {ran} round(s), not --rounds {args.rounds} ({why})")


def command(args: argparse.Namespace, argv: list[str] | None) -> dict[str, Any]:
    """How the run was asked for: the command line (main()'s ``argv`` when it was called with one) and
    every resolved argument."""
    return {"argv": list(sys.argv) if argv is None else [sys.argv[0], *argv], "args": vars(args)}


def environment(device: torch.device) -> dict[str, Any]:
    env: dict[str, Any] = {
        "timestamp_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "git_sha": git_sha(),
        "git_dirty": git_dirty(),
        "env_vars": {k: v for k, v in sorted(os.environ.items())
                     if k.startswith(("SLADD_FAST_", "MALLOC_", "OMP_", "CUDA_VISIBLE"))},
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.machine(),
    }
    for mod in ("cv2", "numpy", "cupy", "skimage", "scipy", "nvidia.dali"):
        try:
            __import__(mod)
            env[mod.split(".")[-1]] = sys.modules[mod].__version__
        except Exception:  # not installed, or no driver
            env[mod.split(".")[-1]] = None
    env["albumentations"] = package_version("albumentations")  # SBI's baseline library
    return env


def package_version(name: str) -> str | None:
    """An installed distribution's version without importing it (albumentations pulls in much), or None."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def sync_free() -> Iterator[None]:
    """The GPU's sync-free code branches on CPU inside the block (SLADD_FAST_SYNC_FREE=1, restored after)."""
    saved = os.environ.get("SLADD_FAST_SYNC_FREE")
    os.environ["SLADD_FAST_SYNC_FREE"] = "1"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("SLADD_FAST_SYNC_FREE", None)
        else:
            os.environ["SLADD_FAST_SYNC_FREE"] = saved


def peak_mb_per_sample(fn: Callable[[], Any], device: torch.device, batch: int) -> float:
    """GPU memory one call of ``fn`` allocates at its peak beyond what was live before, in MB per sample
    (CUDA only)."""
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    fn()
    torch.cuda.synchronize(device)
    return (torch.cuda.max_memory_allocated(device) - base) / batch / 1e6


def summarize(times: list[float]) -> dict[str, Any]:
    """Median and p90 of wall times in seconds, with the times themselves."""
    times = sorted(times)
    return {"median_s": statistics.median(times), "p90_s": times[min(len(times) - 1, int(0.9 * len(times)))],
            "iters": len(times), "times_s": times}


def time_it(fn: Callable[[], Any], device: torch.device, warmup: int, iters: int) -> dict[str, Any]:
    """summarize() of fn()'s wall seconds over ``iters`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return summarize(times)


def baseline_record(times: list[float], ratios: list[float], samples: int, processes: int) -> dict[str, Any]:
    """The per-sample baseline's part of a benchmark record: its timing summary and rate for
    ``samples`` per timed call, the median module/baseline ratio of the alternating rounds, the rounds."""
    base = summarize(times)
    return {"baseline": {**base, "samples_per_s": samples / base["median_s"], "batch": samples,
                         "processes": processes},
            "ratio": statistics.median(ratios), "ratio_rounds": ratios}


def write_json(path: str | None, record: dict[str, Any]) -> None:
    if not path:
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(record, f, indent=2)
    print(f"wrote {path}")


_POOL_JOBS: list = []  # in a baseline worker process: alternate_rounds' jobs, received once at start-up


def _pool_init(worker_init: Callable[[], None], jobs: list) -> None:
    global _POOL_JOBS
    _POOL_JOBS = jobs
    worker_init()


def _pool_run(task: tuple[Callable[[tuple], Any], int]) -> Any:
    worker, k = task
    return worker(_POOL_JOBS[k])


def alternate_rounds(fn: Callable[[], Any], device: torch.device, batch: int, iters: int,
                     worker: Callable[[tuple], Any], jobs: list[tuple], worker_init: Callable[[], None],
                     baseline_samples: int, baseline_iters: int, rounds: int
                     ) -> tuple[list[float], list[float], list[float]]:
    """(fn wall times, baseline wall times, per-round throughput ratios): ``fn`` (``batch`` samples
    per call) and a process pool mapping ``worker`` over ``jobs`` (``baseline_samples`` in all)
    alternate in rounds, so slow drifts of a shared machine hit both sides. Each worker process runs
    one thread, BLAS included (the same core count as fn); this process's env is restored after.
    The jobs reach the workers once, when the pool starts: a timed call sends each worker only its
    job's index (sending the images on every call timed the copies between processes, up to several
    times the work itself with 16 processes). No jobs or baseline_iters == 0: fn alone, in one round."""
    with_baseline = bool(jobs) and baseline_iters > 0
    rounds = rounds_run(rounds, baseline_iters) if with_baseline else 1
    saved_env = {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    os.environ.update({v: "1" for v in saved_env})  # the spawned workers read these at start-up
    fn_t: list[float] = []
    base_t: list[float] = []
    ratios: list[float] = []
    pool = (mp.get_context("spawn").Pool(len(jobs), initializer=_pool_init, initargs=(worker_init, jobs))
            if with_baseline else None)
    tasks = [(worker, k) for k in range(len(jobs))]
    try:
        if pool is not None:  # every worker has imported and run once before any timing
            pool.map(_pool_run, tasks * 2, chunksize=1)
        for r in range(rounds):
            e = time_it(fn, device, warmup=2 if r == 0 else 1, iters=max(1, -(-iters // rounds)))
            fn_t += e["times_s"]
            if pool is None:
                continue
            bt = time_it(lambda: pool.map(_pool_run, tasks, chunksize=1), torch.device("cpu"), warmup=0,
                         iters=max(1, -(-baseline_iters // rounds)))
            base_t += bt["times_s"]
            ratios.append((batch / e["median_s"]) / (baseline_samples / bt["median_s"]))
    finally:
        if pool is not None:
            pool.close()
            pool.join()
        for v, val in saved_env.items():
            if val is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = val
    return fn_t, base_t, ratios
