"""Checkpoints: both networks, both optimizers, the reward baseline, every RNG state and the data
position, written atomically (temp file + os.replace), so a killed run resumes exactly.

File layout (a dict saved with torch.save): version, step, epoch, batch (position inside the epoch),
config (the resolved Config as a dict), detector, synthesizer, opt_det, opt_syn, baseline (state
dicts), rng (python, numpy, torch CPU, torch CUDA of this device, the step generator), best (model
selection record). ``load_detector`` also accepts a bare detector state dict.
"""
from __future__ import annotations

import os
import random
from typing import Any

import numpy as np
import torch
from torch import nn

CKPT_VERSION = 1


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module under DDP and/or torch.compile wrappers."""
    while True:
        if hasattr(model, "_orig_mod"):
            model = model._orig_mod
        elif isinstance(model, nn.parallel.DistributedDataParallel):
            model = model.module
        else:
            return model


def rng_state(generator: torch.Generator | None) -> dict[str, Any]:
    state: dict[str, Any] = {"python": random.getstate(), "numpy": np.random.get_state(),
                             "torch": torch.get_rng_state(), "generator": None, "cuda": None}
    if generator is not None:
        state["generator"] = generator.get_state()
        if generator.device.type == "cuda":
            state["cuda"] = torch.cuda.get_rng_state(generator.device)
    return state


def set_rng_state(state: dict[str, Any], generator: torch.Generator | None) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if generator is not None and state.get("generator") is not None:
        generator.set_state(state["generator"])
        if generator.device.type == "cuda" and state.get("cuda") is not None:
            torch.cuda.set_rng_state(state["cuda"], generator.device)


def save_atomic(obj: dict[str, Any], path: str) -> None:
    """torch.save to path.tmp, fsync, then os.replace: a reader never sees a half-written file."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_checkpoint(path: str) -> dict[str, Any]:
    """Reads a training checkpoint on the CPU; errors name the file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as e:
        raise ValueError(f"{path}: not a readable checkpoint ({e})") from None
    if not isinstance(ckpt, dict):
        raise ValueError(f"{path}: not a checkpoint (a {type(ckpt).__name__})")
    return ckpt


def detector_state(ckpt: dict[str, Any], path: str) -> dict[str, torch.Tensor]:
    """The detector's state dict from a training checkpoint or a bare state dict."""
    sd = ckpt.get("detector", ckpt)
    if not isinstance(sd, dict) or not sd or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise ValueError(f"{path}: holds no detector state dict")
    return {k.removeprefix("module.").removeprefix("_orig_mod."): v for k, v in sd.items()}


def load_detector(path: str, device: torch.device | str = "cpu") -> nn.Module:
    """A Detector (eval mode, on ``device``) from a checkpoint of train.py or a bare state dict."""
    from sladd_fast.models import Detector

    det = Detector()
    load_detector_state(det, path)
    return det.to(device).eval()


def load_detector_state(det: nn.Module, path: str) -> None:
    """Loads the detector weights of ``path`` (a train.py checkpoint or a bare state dict) into ``det``;
    a file that is not a checkpoint, or holds another network's weights, is a ValueError naming it."""
    sd = detector_state(load_checkpoint(path), path)
    try:
        missing, unexpected = det.load_state_dict(sd, strict=False)
    except RuntimeError as e:  # same names, other shapes
        raise ValueError(f"{path}: not a sladd_fast detector ({str(e).splitlines()[-1].strip()})") from None
    if missing or unexpected:
        raise ValueError(f"{path}: not a sladd_fast detector: missing {missing[:4]}, unexpected {unexpected[:4]}")
