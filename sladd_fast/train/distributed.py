"""Process launch: torchrun (RANK/WORLD_SIZE set) or the seed's own spawning (-n nodes, -g processes
per node, -nr node rank, -mp port, --master-addr); NCCL on GPUs, gloo on CPUs.

With --device cuda each process drives GPU local_rank; with --device cpu each of the g gloo
processes gets cores / g threads.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import sys
import time
from typing import Any, Callable

import torch
import torch.distributed as dist

from sladd_fast.train.config import SetupError
from sladd_fast.train.loop import DistEnv


@dataclasses.dataclass(frozen=True)
class LaunchSpec:
    """nodes, gpus (processes per node), node_rank, master_addr, master_port, device (cpu|cuda)."""

    nodes: int = 1
    gpus: int = 1
    node_rank: int = 0
    master_addr: str = "localhost"
    master_port: int = 5555
    device: str = "cpu"


def under_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def resolve_device(name: str) -> str:
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device is available (use --device cpu)")
    return name


def _setup(env: DistEnv, threads: int | None) -> None:
    if threads:
        torch.set_num_threads(threads)
    if env.device.startswith("cuda"):
        torch.cuda.set_device(env.local_rank)
    if env.distributed and not dist.is_initialized():
        dist.init_process_group("nccl" if env.device.startswith("cuda") else "gloo", rank=env.rank,
                                world_size=env.world_size)


def _worker(local_rank: int, spec: LaunchSpec, fn: Callable[[DistEnv], Any], threads: int | None) -> None:
    world = spec.nodes * spec.gpus
    rank = spec.node_rank * spec.gpus + local_rank
    dev = f"cuda:{local_rank}" if spec.device == "cuda" else "cpu"
    env = DistEnv(rank, local_rank, world, dev)
    _setup(env, threads)
    try:
        fn(env)
    except SetupError as e:
        # Every rank finds the same problem (each is raised after a collective). Local rank 0 says it
        # once per node and exits first; the others wait a moment, so that spawn's join, which stops
        # the rest at the first exit, cannot stop local rank 0 before it has printed.
        if local_rank == 0:
            print(f"train.py: error: {e}", file=sys.stderr, flush=True)
        else:
            time.sleep(2.0)
        sys.exit(2)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def launch(spec: LaunchSpec, fn: Callable[[DistEnv], Any], log: Callable[[str], None] = print) -> Any:
    """Runs fn(DistEnv) on every process of this node; returns rank 0's result where it runs here
    (a single process, or torchrun), else None (the spawned processes' results stay in their files)."""
    cores = os.cpu_count() or 1
    if under_torchrun():
        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        local = int(os.environ.get("LOCAL_RANK", 0))
        if rank == 0:
            log("note: under torchrun (RANK and WORLD_SIZE are set): -n, -g, -nr, -mp and --master-addr are ignored")
        dev = f"cuda:{local}" if spec.device == "cuda" else "cpu"
        env = DistEnv(rank, local, world, dev)
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", 1))
        _setup(env, max(1, cores // local_world) if spec.device == "cpu" else None)
        try:
            return fn(env)
        finally:
            if dist.is_initialized():
                dist.destroy_process_group()
    if spec.nodes < 1 or spec.gpus < 1 or not 0 <= spec.node_rank < spec.nodes:
        raise SetupError(f"-n {spec.nodes} -g {spec.gpus} -nr {spec.node_rank}: need n >= 1, g >= 1, 0 <= nr < n")
    if spec.device == "cuda" and spec.gpus > torch.cuda.device_count():
        raise SetupError(f"-g {spec.gpus}: only {torch.cuda.device_count()} CUDA device(s) on this node")
    if spec.device == "cpu" and spec.gpus > cores:
        log(f"warning: -g {spec.gpus} gloo processes on {cores} CPU core(s): one thread each, and slower than "
            f"-g {cores} (on a GPU server add --device cuda)")
    world = spec.nodes * spec.gpus
    threads = max(1, cores // spec.gpus) if spec.device == "cpu" else None
    if world == 1:
        env = DistEnv(0, 0, 1, "cuda:0" if spec.device == "cuda" else "cpu")
        _setup(env, None)
        return fn(env)
    os.environ["MASTER_ADDR"] = spec.master_addr
    os.environ["MASTER_PORT"] = str(spec.master_port)
    # spawn logs a warning for every rank it stops after one failed; the failure itself is reported.
    spawn_log = logging.getLogger("torch.multiprocessing.spawn")
    level = spawn_log.level
    spawn_log.setLevel(logging.ERROR)
    try:
        torch.multiprocessing.spawn(_worker, args=(spec, fn, threads), nprocs=spec.gpus, join=True)
    finally:
        spawn_log.setLevel(level)
    return None
