"""Tiny on-disk datasets for the data tests (no dlib needed)."""
from __future__ import annotations

import json
import os

import numpy as np
from PIL import Image


def write_png(path: str, value: int = 128, size: int = 32) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.full((size, size, 3), value, np.uint8)).save(path)


def make_ffpp(root: str, pairs: dict[str, list[list[str]]], frames: int = 4, methods=("FF-DF",),
              size: int = 32) -> None:
    """FF++ layout with every frame and mask present."""
    videos = sorted({v for ps in pairs.values() for p in ps for v in p})
    for v in videos:
        for i in range(frames):
            write_png(os.path.join(root, "image", "real", v, f"{i:04d}.png"), 100, size)
    for m in methods:
        for ps in pairs.values():
            for a, b in ps:
                for name in (f"{a}_{b}", f"{b}_{a}"):
                    for i in range(frames):
                        write_png(os.path.join(root, "image", m, name, f"{i:04d}.png"), 150, size)
                        write_png(os.path.join(root, "mask", m, name, f"{i:04d}_mask.png"), 255, size)
    os.makedirs(os.path.join(root, "config"), exist_ok=True)
    for split, ps in pairs.items():
        with open(os.path.join(root, "config", f"{split}.json"), "w") as f:
            json.dump(ps, f)
    with open(os.path.join(root, "config", "frames.json"), "w") as f:
        json.dump({s: frames for s in ("train", "eval", "test")}, f)
