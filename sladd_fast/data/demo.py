"""Embedded demo dataset in the FF++ layout, built in seconds from what ships offline.

    python -m sladd_fast.data.demo --out DIR [--videos 8] [--frames 8] [--size 256] [--seed 0]

Real "videos": scikit-image's astronaut photograph (a real face), cropped around the face with a
per-video similarity (scale, rotation, shift) and colour change plus small per-frame motion. Fakes:
for every FF++ pair (A, B), frame i of fake A_B is real A with a region of real B pasted in by
sladd_fast.synthesize (one region and blend per "method"), and its mask is written as the FF++
mask. Then config/{train,eval,test}.json, config/frames.json and the landmark store
(python -m sladd_fast.landmarks) are written. SMOKE DATA, NOT A BENCHMARK OF ACCURACY: one identity,
synthetic fakes.
"""
from __future__ import annotations

import json
import math
import os
import sys
import time

import numpy as np
import torch

from sladd_fast._args import OneLineParser, at_least, check_output
from sladd_fast.data.index import METHODS, REAL
from sladd_fast.synthesis import BlendType, Region, align, synthesize

# One (region, blend type, ratio) per demo "method", so the four fake folders differ.
METHOD_RECIPES = {
    "FF-DF": (Region.EYES_NOSE_MOUTH, BlendType.POISSON, 1.0),
    "FF-F2F": (Region.NOSE_MOUTH, BlendType.COPY, 0.9),
    "FF-FS": (Region.NOSE_EYES, BlendType.COPY, 0.7),
    "FF-NT": (Region.MOUTH, BlendType.POISSON, 1.0),
}


def _save_png(path: str, img: np.ndarray) -> None:
    from PIL import Image

    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(img).save(path, compress_level=1)


def _similarity(scale: float, angle: float, centre: np.ndarray, out_centre: np.ndarray) -> np.ndarray:
    """2x3 map: rotate/scale about ``centre`` and move it to ``out_centre``."""
    c, s = math.cos(angle) * scale, math.sin(angle) * scale
    R = np.array([[c, -s], [s, c]])
    t = out_centre - R @ centre
    return np.hstack([R, t[:, None]]).astype(np.float32)


def astronaut_face() -> tuple[np.ndarray, np.ndarray]:
    """(uint8 [H,W,3] image, float32 [68,2] landmarks) of skimage's astronaut, found with dlib."""
    from skimage import data

    from sladd_fast.landmarks import Detector, default_predictor

    img = data.astronaut()
    lm = Detector(default_predictor())(img)
    if lm is None:
        raise RuntimeError("dlib found no face in skimage's astronaut image")
    return img, lm


def build(out: str, videos: int = 8, frames: int = 8, size: int = 256, seed: int = 0,
          landmarks: bool = True, workers: int | None = None) -> dict:
    """Write the demo dataset (module docstring) under ``out`` and return its summary. Raises
    ValueError on counts that give no usable splits."""
    if videos < 6 or videos % 2:
        raise ValueError("--videos must be an even number >= 6 (train, eval and test each need a pair)")
    if frames < 1 or size < 64:
        raise ValueError(f"--frames must be >= 1 and --size >= 64, got {frames} and {size}")
    rng = np.random.default_rng(seed)
    src, src_lm = astronaut_face()
    face_c = src_lm.mean(0)
    iod = float(np.linalg.norm(src_lm[42:48].mean(0) - src_lm[36:42].mean(0)))
    base_scale = 0.34 * size / iod  # IOD about a third of the crop, like FF++ face crops
    src_t = torch.from_numpy(src).permute(2, 0, 1)[None].float()
    ids = [f"{v:03d}" for v in range(videos)]
    reals: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    for v in ids:
        scale = base_scale * rng.uniform(0.9, 1.1)
        angle = math.radians(rng.uniform(-10, 10))
        shift = rng.uniform(-0.05, 0.05, 2) * size
        gain = rng.uniform(0.75, 1.2, 3)
        imgs, lms = [], []
        for _ in range(frames):
            M = _similarity(scale * rng.uniform(0.98, 1.02), angle + math.radians(rng.uniform(-2, 2)), face_c,
                            np.array([size / 2, size * 0.47]) + shift + rng.uniform(-3, 3, 2))
            Mt = torch.from_numpy(M)[None]
            full = _warp_to(src_t, Mt, size)
            img = (full[0] * torch.tensor(gain, dtype=torch.float32)[:, None, None]).clamp(0, 255)
            imgs.append(torch.floor(img + 0.5).to(torch.uint8))
            lms.append(torch.from_numpy(src_lm @ M[:, :2].T + M[:, 2]).float())
        reals[v] = (torch.stack(imgs), torch.stack(lms))
        for i in range(frames):
            _save_png(os.path.join(out, "image", REAL, v, f"{i:04d}.png"), reals[v][0][i].permute(1, 2, 0).numpy())
    pairs = [[ids[k], ids[k + 1]] for k in range(0, videos, 2)]
    n_eval = max(1, len(pairs) // 4)
    splits = {"train": pairs[:len(pairs) - 2 * n_eval], "eval": pairs[len(pairs) - 2 * n_eval:len(pairs) - n_eval],
              "test": pairs[len(pairs) - n_eval:]}
    g = torch.Generator().manual_seed(seed)
    not_applied = 0
    for method in METHODS:
        region, blend, ratio = METHOD_RECIPES[method]
        for a, b in pairs:
            for tgt, srcv in ((a, b), (b, a)):
                (ti, tl), (si, sl) = reals[tgt], reals[srcv]
                n = ti.shape[0]
                res = synthesize(ti, si, tl, sl, torch.full((n,), int(region)), torch.full((n,), int(blend)),
                                 torch.full((n,), float(ratio)), generator=g)
                not_applied += int((~res.applied).sum())
                for i in range(n):
                    name = f"{tgt}_{srcv}"
                    _save_png(os.path.join(out, "image", method, name, f"{i:04d}.png"),
                              res.images[i].permute(1, 2, 0).numpy())
                    _save_png(os.path.join(out, "mask", method, name, f"{i:04d}_mask.png"),
                              (res.masks[i, 0] * 255).to(torch.uint8).numpy())
    os.makedirs(os.path.join(out, "config"), exist_ok=True)
    for split, p in splits.items():
        with open(os.path.join(out, "config", f"{split}.json"), "w") as f:
            json.dump(p, f)
    with open(os.path.join(out, "config", "frames.json"), "w") as f:
        json.dump({s: frames for s in splits}, f)
    summary = {"root": out, "videos": videos, "frames": frames, "size": size, "pairs": splits,
               "fake_frames_not_applied": not_applied}
    if landmarks:
        from sladd_fast.landmarks import build_store

        store = build_store(out, workers=workers, progress=False)
        summary["landmarks"] = {"frames": len(store), "with_face": int(store.valid.sum())}
    return summary


def _warp_to(src: torch.Tensor, M: torch.Tensor, size: int) -> torch.Tensor:
    """warp_affine onto a size x size canvas from a larger source: crop the source to a square
    canvas of its own size, warp, then take the top-left size x size (OpenCV's dsize)."""
    H, W = src.shape[-2:]
    side = max(H, W, size)
    canvas = torch.nn.functional.pad(src, (0, side - W, 0, side - H), mode="reflect") if side != H or side != W \
        else src
    return align.warp_affine(canvas, M)[:, :, :size, :size]


def main(argv: list[str] | None = None) -> int:
    ap = OneLineParser(prog="python -m sladd_fast.data.demo", description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output dataset root")
    ap.add_argument("--videos", type=at_least(6), default=8, help="real videos (even, >= 6)")
    ap.add_argument("--frames", type=at_least(1), default=8, help="frames per video")
    ap.add_argument("--size", type=at_least(64), default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=at_least(1), default=None, help="landmark processes (default: all cores)")
    ap.add_argument("--no-landmarks", action="store_true", help="skip the landmark store")
    args = ap.parse_args(argv)
    check_output(ap, "--out", args.out, folder=True)
    t0 = time.perf_counter()
    try:
        summary = build(args.out, args.videos, args.frames, args.size, args.seed, not args.no_landmarks, args.workers)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=1))
    print(f"built {args.out} in {time.perf_counter() - t0:.1f} s (smoke data, not a benchmark of accuracy)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
