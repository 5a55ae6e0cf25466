"""Benchmark plumbing: environment record, timing with warm-up, JSON output."""
from __future__ import annotations

import json
import os
import platform
import statistics
import time
from typing import Any, Callable

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


def write_json(path: str | None, record: dict[str, Any]) -> None:
    if not path:
        return
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(record, f, indent=2)
    print(f"wrote {path}")
