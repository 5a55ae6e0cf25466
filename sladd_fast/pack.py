"""Convert a dataset's PNG frames to a GPU-decodable form: high-quality JPEG; or verify a dataset.

    python -m sladd_fast.pack SRC_ROOT DST_ROOT [--quality 95] [--size 256] [--workers N]
    python -m sladd_fast.pack --verify ROOT [--workers N]

--verify decodes every frame (image/ or frames/) and every mask in full, as the loaders' decoders
would, and writes the files that fail to ROOT/bad_files.json, which the index builders read (they
leave those frames out, counted). Run it before training on a dataset that may hold damaged files:
a decoder on the GPU (DALI) cannot replace a frame it finds damaged in the middle of a batch.
Frames that fail to pack are recorded for SRC_ROOT the same way.

DALI decodes JPEG on the GPU (nvJPEG) but PNG only on the CPU, so PNG datasets (FF++, SLADD's
layout, DeepfakeBench) cannot feed a GPU at speed as they are. This writes DST_ROOT with the same
layout: image/**.jpg (4:4:4, --quality, optionally resized to --size with bicubic), mask/ and
config/ copied (masks stay PNG: small, binary-ish, CPU-decoded), config/format.json recording the
format, and the landmark store with its keys renamed and its landmarks rescaled if resized.

Trade-off: JPEG re-encoding changes exactly the high-frequency statistics a deepfake detector
learns from (blending seams, resampling traces), even at quality 95. Compare a run on the packed
copy against the PNG original before trusting accuracy numbers; keep PNG + CPU decode (the PyTorch
backend, or DALI on CPU) when fidelity matters more than throughput.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import sys

import numpy as np

from sladd_fast._args import OneLineParser, at_least, check_output
from sladd_fast.data.store import STORE_NAME, LandmarkStore
from sladd_fast.landmarks import find_frames


def _convert(args: tuple[str, str, str, int, int | None]) -> tuple[str, int, int] | str:
    src_root, dst_root, rel, quality, size = args
    from PIL import Image

    src = os.path.join(src_root, rel)
    dst = os.path.join(dst_root, os.path.splitext(rel)[0] + ".jpg")
    try:
        with Image.open(src) as im:
            rgb = im.convert("RGB")
    except Exception as e:  # a corrupt or unreadable source frame: reported, not packed (and listed in SRC)
        return f"{src}: {e}"
    # Anything failing from here on (writing DST, resizing) is not the frame's fault: it raises.
    w, h = rgb.size
    if size is not None and (w, h) != (size, size):  # OpenCV-style (no antialias), as the loaders resize
        import torch

        from sladd_fast.data.decode import resize_image

        t = resize_image(torch.from_numpy(np.asarray(rgb).copy()).permute(2, 0, 1), size)
        rgb = Image.fromarray(t.permute(1, 2, 0).numpy())
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    rgb.save(dst, format="JPEG", quality=quality, subsampling=0)
    return rel, h, w


def _mask_files(root: str) -> list[str]:
    out = []
    for d, _, files in os.walk(os.path.join(root, "mask")):
        out += [os.path.relpath(os.path.join(d, f), root) for f in files if f.endswith("_mask.png")]
    return sorted(out)


def _copy_mask(args: tuple[str, str, str, int | None]) -> str | None:
    """Masks stay PNG; resized (bilinear) with the frames when --size is given."""
    src_root, dst_root, rel, size = args
    from PIL import Image

    dst = os.path.join(dst_root, rel)
    try:  # decoded in full either way: a damaged mask is reported, not copied
        with Image.open(os.path.join(src_root, rel)) as im:
            im.load()
            gray = im.convert("L")
    except Exception as e:
        return f"{os.path.join(src_root, rel)}: {e}"
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if size is None:
        shutil.copyfile(os.path.join(src_root, rel), dst)
        return None
    if gray.size != (size, size):
        import torch

        from sladd_fast.data.decode import resize_mask

        gray = Image.fromarray(resize_mask(torch.from_numpy(np.array(gray))[None], size)[0].numpy())
    gray.save(dst)
    return None


VERIFY_FOLDERS = frozenset({"image", "frames", "mask", "masks"})


def _check(args: tuple[str, str]) -> str | None:
    """Full decode of one file (PIL load(), which raises on truncation); the error, or None."""
    root, rel = args
    from PIL import Image

    try:
        with Image.open(os.path.join(root, rel)) as im:
            im.load()
            if im.size[0] == 0 or im.size[1] == 0:
                return f"{rel}: empty image"
    except Exception as e:
        return f"{rel}: {e}"
    return None


def verify(root: str, workers: int | None = None, progress: bool = True) -> dict:
    """Decodes every frame and mask under ``root`` and records the failures in bad_files.json.

    Returns {"checked": n files, "bad": ["rel: error", ...]}.
    """
    from sladd_fast.data import badfiles

    if not os.path.isdir(root):
        raise FileNotFoundError(f"not a folder: {root}")
    files, seen = [], set()
    for d, subdirs, names in os.walk(root, followlinks=True):  # data often sits on another disk, linked in
        real = os.path.realpath(d)
        if real in seen:  # a link back up the tree
            subdirs[:] = []
            continue
        seen.add(real)
        rel_d = os.path.relpath(d, root).replace(os.sep, "/")
        # FF++ layout: image/ and mask/ at the top; DeepfakeBench: frames/ and masks/ at any depth.
        if not VERIFY_FOLDERS.intersection(rel_d.split("/")):
            continue
        files += [f"{rel_d}/{n}" for n in names if n.lower().endswith((".png", ".jpg", ".jpeg"))]
    if not files:
        raise ValueError(f"no frames or masks (png/jpg in image/, frames/, mask/ or masks/ folders) in {root}")
    files.sort()
    from tqdm import tqdm

    bad: list[str] = []
    with mp.get_context("spawn").Pool(workers or os.cpu_count() or 1) as pool:
        for r in tqdm(pool.imap(_check, [(root, f) for f in files], chunksize=64), total=len(files), unit="file",
                      desc="verify", disable=not progress):
            if r:
                bad.append(r)
    badfiles.record(root, "verify", [b.split(": ", 1)[0] for b in bad])
    return {"checked": len(files), "bad": bad}


def pack(src: str, dst: str, quality: int = 95, size: int | None = None, workers: int | None = None,
         progress: bool = True) -> dict:
    if os.path.abspath(src) == os.path.abspath(dst):
        raise ValueError("DST_ROOT must differ from SRC_ROOT")
    frames = find_frames(src)
    if not frames:
        raise ValueError(f"no frames under {src}/image")
    from tqdm import tqdm

    jobs = [(src, dst, rel, quality, size) for rel in frames]
    done: dict[str, tuple[int, int]] = {}
    failed: list[str] = []
    with mp.get_context("spawn").Pool(workers or os.cpu_count() or 1) as pool:
        for r in tqdm(pool.imap(_convert, jobs, chunksize=32), total=len(jobs), unit="frame", desc="pack",
                      disable=not progress):
            if isinstance(r, str):
                failed.append(r)
            else:
                done[r[0]] = (r[1], r[2])
    if os.path.isdir(os.path.join(src, "config")):
        shutil.copytree(os.path.join(src, "config"), os.path.join(dst, "config"), dirs_exist_ok=True)
    masks = _mask_files(src) if os.path.isdir(os.path.join(src, "mask")) else []
    with mp.get_context("spawn").Pool(workers or os.cpu_count() or 1) as pool:
        for r in pool.imap(_copy_mask, [(src, dst, rel, size) for rel in masks], chunksize=64):
            if r:
                failed.append(r)
    os.makedirs(os.path.join(dst, "config"), exist_ok=True)
    with open(os.path.join(dst, "config", "format.json"), "w") as f:
        json.dump({"image_ext": ".jpg", "quality": quality, "size": size, "source": os.path.abspath(src)}, f)
    store_path = os.path.join(src, STORE_NAME)
    if os.path.isfile(store_path):
        store = LandmarkStore.load(store_path)
        keys = np.array([os.path.splitext(k)[0] + ".jpg" for k in store.keys])
        lm, new_size = store.landmarks.copy(), store.size.copy()
        if size is not None:
            scale = np.stack([size / np.maximum(store.size[:, 1], 1), size / np.maximum(store.size[:, 0], 1)], -1)
            lm = (lm * scale[:, None, :]).astype(np.float32)
            new_size[:] = size
        keep = np.array([k in done for k in store.keys])
        LandmarkStore(keys[keep], lm[keep], store.valid[keep], new_size[keep]).save(os.path.join(dst, STORE_NAME))
    from sladd_fast.data import badfiles

    src_abs = os.path.abspath(src)
    badfiles.record(src, "pack", [os.path.relpath(f.split(": ", 1)[0], src_abs).replace(os.sep, "/")
                                  for f in failed if os.path.abspath(f.split(": ", 1)[0]).startswith(src_abs)])
    # What SRC's list holds (landmarks, verify, pack) stays left out of DST too, under DST's names.
    carried = [os.path.splitext(p)[0] + ".jpg" if p.startswith("image/") else p
               for p in badfiles.load(src) if p.startswith(("image/", "mask/"))]  # what pack writes to DST
    badfiles.record(dst, "source", carried)
    return {"frames": len(done), "failed": failed, "dst": dst}


def main(argv: list[str] | None = None) -> int:
    ap = OneLineParser(prog="python -m sladd_fast.pack", description=__doc__.splitlines()[0])
    ap.add_argument("src", nargs="?")
    ap.add_argument("dst", nargs="?")
    ap.add_argument("--verify", metavar="ROOT", default=None,
                    help="decode every frame and mask of ROOT and write ROOT/bad_files.json instead of packing")
    ap.add_argument("--quality", type=int, default=95, help="JPEG quality (1-100)")
    ap.add_argument("--size", type=at_least(16), default=None, help="also resize frames to SIZE x SIZE")
    ap.add_argument("--workers", type=at_least(1), default=None)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    if args.verify is not None:
        if args.src or args.dst:
            ap.error("--verify ROOT takes no SRC/DST")
        try:
            res = verify(args.verify, args.workers, not args.quiet)
        except (FileNotFoundError, ValueError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(f"verified {res['checked']} files in {args.verify}: {len(res['bad'])} unreadable"
              + (f", listed in {os.path.join(args.verify, 'bad_files.json')} (the index leaves them out)"
                 if res["bad"] else ""))
        for line in res["bad"][:10]:
            print(f"  {line}")
        if len(res["bad"]) > 10:
            print(f"  ... and {len(res['bad']) - 10} more")
        return 1 if res["bad"] else 0
    if not args.src or not args.dst:
        ap.error("SRC_ROOT and DST_ROOT are required (or --verify ROOT)")
    if not 1 <= args.quality <= 100:
        ap.error("--quality must lie in 1..100")
    check_output(ap, "DST_ROOT", args.dst, folder=True)
    try:
        summary = pack(args.src, args.dst, args.quality, args.size, args.workers, not args.quiet)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"packed {summary['frames']} frames into {args.dst}; {len(summary['failed'])} unreadable")
    for line in summary["failed"][:20]:
        print(f"  skipped: {line}", file=sys.stderr)
    return 0 if not summary["failed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
