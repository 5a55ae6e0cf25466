"""Capturing a sync-free CUDA call in a CUDA graph: what SynthesisGraph and AugmentGraph share."""
from __future__ import annotations

from typing import Callable, TypeVar

import torch

from sladd_fast._consts import keep_alive

T = TypeVar("T")


def graph_device(device: torch.device | str, what: str) -> torch.device:
    """The CUDA device a graph is built on, with its index (tensors always carry one, so comparisons
    against an index-less "cuda" would fail). Raises ValueError for a non-CUDA device or where the ops
    would run on the PyTorch reference, which reads values on the host and cannot be captured."""
    from sladd_fast import ops

    dev = torch.device(device)
    if dev.type != "cuda":
        raise ValueError(f"{what} needs a CUDA device, got {dev}")
    if not torch.cuda.is_available():  # before torch.cuda.current_device() raises its driver error
        raise ValueError(f"{what} needs a CUDA device, and torch sees none here (torch.cuda.is_available() is False)")
    if dev.index is None:
        dev = torch.device("cuda", torch.cuda.current_device())
    if ops.backend_for(dev) == "reference":
        raise ValueError(f"{what}: the ops on {dev} are the PyTorch reference (no compiled CUDA kernels, no CuPy), "
                         "which read values on the host and cannot be captured")
    return dev


def capture(run: Callable[[], T], device: torch.device, warmup: int) -> tuple[torch.cuda.CUDAGraph, T, list]:
    """``warmup`` eager calls of ``run`` on a side stream (NVRTC compilation, the cached constants and
    tables), then one captured call: (graph, its outputs, the constants it reads, to keep alive with
    the graph). On ``device`` whatever device is current; errors from other threads' CUDA calls do not
    invalidate the capture (thread_local)."""
    with torch.cuda.device(device):
        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            for _ in range(max(warmup, 1)):
                run()
        torch.cuda.current_stream(device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with keep_alive() as held:
            with torch.cuda.graph(graph, stream=torch.cuda.Stream(device), capture_error_mode="thread_local"):
                out = run()
    return graph, out, held
