"""Named stages of synthesize() (region, deform, align, ...): a profiler range per stage, and the
current stage's name for tools that attribute work to stages (benchmarks/cost_model.py).

A context variable, not a global: concurrent callers (threads, tasks) each see their own stage.
"""
from __future__ import annotations

import collections
import contextlib
import contextvars
import time
from typing import Iterator

import torch

_CURRENT: contextvars.ContextVar[str] = contextvars.ContextVar("sladd_fast_stage", default="other")
_TIMES: contextvars.ContextVar[collections.Counter | None] = contextvars.ContextVar("sladd_fast_stage_times",
                                                                                     default=None)


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Marks the work inside the block as stage ``name`` (torch profiler range ``sladd.<name>``)."""
    token = _CURRENT.set(name)
    times = _TIMES.get()
    t0 = time.perf_counter() if times is not None else 0.0
    try:
        with torch.profiler.record_function(f"sladd.{name}"):
            yield
    finally:
        if times is not None:
            times[name] += time.perf_counter() - t0  # host wall clock: CPU work, or launch time on GPU
        _CURRENT.reset(token)


@contextlib.contextmanager
def timing() -> Iterator[collections.Counter]:
    """Inside the block, stage() adds each stage's wall-clock seconds to the yielded Counter."""
    times: collections.Counter = collections.Counter()
    token = _TIMES.set(times)
    try:
        yield times
    finally:
        _TIMES.reset(token)


def current() -> str:
    """The innermost active stage's name ('other' outside any)."""
    return _CURRENT.get()
