"""Benchmark plumbing: environment record, timing with warm-up, JSON output."""
from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import os
import platform
import statistics
import time
from typing import Any, Callable, Iterator

import torch

from sladd_fast._git import git_sha


def environment(device: torch.device) -> dict[str, Any]:
    env: dict[str, Any] = {
        "git_sha": git_sha(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.machine(),
    }
    for mod in ("cv2", "numpy", "cupy", "skimage", "scipy"):
        try:
            env[mod] = __import__(mod).__version__
        except Exception:  # not installed, or no driver
            env[mod] = None
    return env


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


def alternate_rounds(fn: Callable[[], Any], device: torch.device, batch: int, iters: int,
                     worker: Callable[[tuple], Any], jobs: list[tuple], worker_init: Callable[[], None],
                     baseline_samples: int, baseline_iters: int, rounds: int
                     ) -> tuple[list[float], list[float], list[float]]:
    """(fn wall times, baseline wall times, per-round throughput ratios): ``fn`` (``batch`` samples
    per call) and a process pool mapping ``worker`` over ``jobs`` (``baseline_samples`` in all)
    alternate in rounds, so slow drifts of a shared machine hit both sides. Each worker process runs
    one thread, BLAS included (the same core count as fn); this process's env is restored after.
    No jobs or baseline_iters == 0: fn alone, in one round."""
    with_baseline = bool(jobs) and baseline_iters > 0
    rounds = max(1, min(rounds, baseline_iters)) if with_baseline else 1
    saved_env = {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    os.environ.update({v: "1" for v in saved_env})  # the spawned workers read these at start-up
    fn_t: list[float] = []
    base_t: list[float] = []
    ratios: list[float] = []
    pool = mp.get_context("spawn").Pool(len(jobs), initializer=worker_init) if with_baseline else None
    try:
        if pool is not None:  # every worker has imported and run once before any timing
            pool.map(worker, jobs * 2, chunksize=1)
        for r in range(rounds):
            e = time_it(fn, device, warmup=2 if r == 0 else 1, iters=max(1, -(-iters // rounds)))
            fn_t += e["times_s"]
            if pool is None:
                continue
            bt = time_it(lambda: pool.map(worker, jobs), torch.device("cpu"), warmup=0,
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
