"""The main job on embedded demo data: build the demo dataset, load a batch, synthesize forgeries.

    python -m sladd_fast.demo --out demo_out [--batch 16] [--seed 0] [--device cpu|cuda]
        [--backend torch|dali]

1. Builds the embedded FF++-layout demo dataset under OUT/data (once; sladd_fast.data.demo), with
   its offline landmark store.
2. Loads one training batch of the FF-DF split through a loader backend (epoch plan, partners).
3. Synthesizes SLADD forgeries for the batch's real items from their partners (regions and blend
   types cycled, every random draw from one seeded generator) with sladd_fast.synthesize.
4. Writes OUT/forgeries.png (columns: item, partner, forgery, mask) and OUT/summary.json.
Until the training issue lands, this is the project's main job. Smoke data, not a benchmark.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import torch

from sladd_fast import ops
from sladd_fast.synthesis import BlendType, synthesize


def _save_png(img: torch.Tensor, path: str) -> None:
    from PIL import Image

    Image.fromarray(img.permute(1, 2, 0).cpu().numpy()).save(path)


def _loader(backend: str, data, size: int, batch: int, device: torch.device, seed: int):
    if backend == "dali":
        from pipelines.ffpp import DaliLoader

        device_id = (device.index or 0) if device.type == "cuda" else None
        return DaliLoader(data, size, batch, device_id=device_id, workers=2, seed=seed)
    from sladd_fast.data.torch_loader import TorchLoader

    return TorchLoader(data, size, batch, workers=0, seed=seed, device=device)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sladd_fast.demo", description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output folder (the dataset is cached in OUT/data)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--backend", default="torch", choices=["torch", "dali"])
    ap.add_argument("--data", default=None, help="use this FF++-layout root instead of building OUT/data")
    args = ap.parse_args(argv)
    if args.batch <= 1:
        ap.error("--batch must be at least 2")
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: no CUDA device is available")
    dev = torch.device(args.device)
    os.makedirs(args.out, exist_ok=True)
    root = args.data or os.path.join(args.out, "data")

    from sladd_fast.data import LandmarkStore, ffpp_index
    from sladd_fast.data import demo as demo_data
    from sladd_fast.data.plan import TrainSet

    t0 = time.perf_counter()
    if args.data is None and not os.path.isfile(os.path.join(root, "landmarks.npz")):
        print(f"building the embedded demo dataset in {root} ...")
        demo_data.build(root, videos=8, frames=8, size=args.size, seed=args.seed)
    data = TrainSet.build(ffpp_index(root, "train", "FF-DF"), LandmarkStore.load(os.path.join(root, "landmarks.npz")))
    batch = next(iter(_loader(args.backend, data, args.size, args.batch, dev, args.seed).epoch(0)))
    batch = batch.to(dev)
    t_data = time.perf_counter() - t0

    B = len(batch)
    g = torch.Generator(dev).manual_seed(args.seed)
    region = torch.arange(B, device=dev) % 10
    blend = torch.arange(B, device=dev) % 3  # alpha, Poisson, copy
    ratio = 0.3 + 0.7 * torch.rand(B, generator=g, device=dev)
    real = batch.labels == 0  # SLADD synthesizes on real items only (spec §3.0)
    valid = real & batch.landmarks_valid & batch.partner_valid
    t1 = time.perf_counter()
    out = synthesize(batch.images, batch.partners, batch.landmarks, batch.partner_landmarks, region, blend, ratio,
                     generator=g, valid=valid)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t_syn = time.perf_counter() - t1

    mask_rgb = (out.masks.expand(-1, 3, -1, -1) * 255).to(torch.uint8)
    cols = torch.cat([batch.images, batch.partners, out.images, mask_rgb], 2)  # [B,3,4S,S]
    keep = torch.nonzero(real).flatten().cpu()
    grid = torch.cat(list(cols.cpu()[keep]), 2)
    path = os.path.join(args.out, "forgeries.png")
    _save_png(grid, path)
    summary = {
        "png": path, "dataset": root, "backend": args.backend, "device": str(dev), "ops_backend": ops.backend_for(dev),
        "batch": B, "real_items": int(real.sum()), "forgeries": int(out.applied.sum()),
        "blend_types": [BlendType(int(t)).name for t in blend[real].tolist()],
        "seconds_data": round(t_data, 3), "seconds_synthesis": round(t_syn, 4),
    }
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(f"wrote {path}: {summary['forgeries']} forgeries from {summary['real_items']} real items "
          f"(synthesis {t_syn:.3f} s on {dev}, {summary['ops_backend']} kernels; data {t_data:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
