"""Synthesis demo on embedded data: writes a PNG grid of forgeries with their masks.

    python -m sladd_fast.demo --out demo_out [--batch 16] [--seed 0] [--device cpu|cuda]

Rows: target, partner, forgery, mask, for every blend type and region. The faces are painted by
sladd_fast.faces (smoke data, not a benchmark of anything). Until the data and training issues
land, this is the project's main job.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import torch

from sladd_fast import faces, ops
from sladd_fast.synthesis import BlendType, synthesize


def _save_png(img: torch.Tensor, path: str) -> None:
    from PIL import Image

    Image.fromarray(img.permute(1, 2, 0).cpu().numpy()).save(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = ap.parse_args(argv)
    if args.batch <= 0:
        ap.error("--batch must be positive")
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: no CUDA device is available")
    dev = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)
    g = torch.Generator(dev).manual_seed(args.seed)
    B, S = args.batch, args.size
    lm_t = faces.random_landmarks(B, S, g, dev)
    real = faces.render_faces(lm_t, S, g)
    lm_s = faces.random_landmarks(B, S, g, dev)
    partner = faces.render_faces(lm_s, S, g)
    region = torch.arange(B, device=dev) % 10
    blend = torch.arange(B, device=dev) % 3  # alpha, Poisson, copy (NONE would show nothing)
    ratio = 0.3 + 0.7 * torch.rand(B, generator=g, device=dev)
    t0 = time.perf_counter()
    out = synthesize(real, partner, lm_t, lm_s, region, blend, ratio, generator=g)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    mask_rgb = (out.masks.expand(-1, 3, -1, -1) * 255).to(torch.uint8)
    cols = torch.cat([real, partner, out.images, mask_rgb], 2)  # [B,3,4S,S]
    grid = torch.cat(list(cols), 2)  # [3,4S,B*S]
    path = os.path.join(args.out, "forgeries.png")
    _save_png(grid, path)
    summary = {
        "png": path,
        "batch": B,
        "size": S,
        "device": str(dev),
        "backend": ops.backend_for(dev),
        "seconds": round(dt, 4),
        "applied": int(out.applied.sum()),
        "blend_types": [BlendType(int(t)).name for t in blend.tolist()],
        "mask_fraction": [round(float(v), 4) for v in out.masks.mean((1, 2, 3)).tolist()],
    }
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(f"wrote {path}: {summary['applied']}/{B} forgeries in {dt:.3f} s on {dev} ({summary['backend']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
