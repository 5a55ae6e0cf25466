"""Shared pieces of the training tests: small configs on the demo data, a DDP worker for spawn."""
from __future__ import annotations

import dataclasses
import os

import torch

from sladd_fast.train.config import Config, load_config


def small_config(root: str, out: str, meta: str, **run) -> Config:
    """CPU, batch 1 at 256 px, torch loader without workers, no progress bar, no evaluation."""
    cfg = load_config(None, [f"data.root={root}", "data.backend=torch", "data.workers=0", "data.batch_size=1",
                             f"run.out={out}", f"run.meta={meta}", "run.device=cpu", "run.seed=3",
                             "run.progress=false", "run.evaluate=false", "run.log_every=1"])
    return dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, **run))


def ddp_worker(env, cfg: Config, out: str) -> None:
    """Trains per cfg on this rank, recording the items it saw and its weights after the last step."""
    from sladd_fast.train.loop import train

    seen: list[int] = []
    final: dict = {}

    def on_step(step, batch, result, det, syn) -> None:
        seen.extend(batch.indices.tolist())
        final["det"] = {k: v.detach().clone() for k, v in det.named_parameters()}
        final["syn"] = {k: v.detach().clone() for k, v in syn.named_parameters()}
        final["stats"] = {k: float(v) for k, v in result.stats.items()}

    train(cfg, env, on_step)
    torch.save({"seen": seen, **final}, os.path.join(out, f"rank{env.rank}.pt"))
