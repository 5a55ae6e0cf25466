"""Dataset indexes: which frames exist, their labels, videos, masks (spec §1.3-1.4), as columns.

Layouts (see docs/datasets.md):

* FF++ (SLADD's README): ``ROOT/image/{FF-DF,FF-F2F,FF-FS,FF-NT,real}/<video>/<NNNN>.png``,
  ``ROOT/mask/<method>/<video>/<NNNN>_mask.png``, ``ROOT/config/{train,eval,test}.json`` holding FF++
  pair lists ``[["071","054"], ...]``. For pair (A, B) and frame i the items are real A, real B,
  fake A_B and fake B_A (1:1). ``ALL``: reals for every frame, fakes of all 4 methods only for
  i <= frames // 4.
* Test sets "organized similar to FF++" (Celeb-DF, DFDC, DeeperForensics-1.0):
  ``ROOT/image/<video>/<NNNN>.png`` and ``ROOT/config/<split>.json`` = ``[["<video>", label], ...]``.
* DeepfakeBench (frames/, landmarks/, masks/ and its dataset json): ``deepfakebench_index``.

Nothing here reads an image. Missing frames and fakes without masks are documented, counted
skips (``FrameIndex.skipped``) or, with ``strict=True``, errors naming the file.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
from collections import Counter
from typing import Any, Iterable

import numpy as np

from sladd_fast.data import badfiles

METHODS = ("FF-DF", "FF-F2F", "FF-FS", "FF-NT")  # method id = position + 1; 0 = real
REAL = "real"
SPLITS = ("train", "eval", "test")
# Frames per video used by SLADD's loader (FFdata.py:38-39); config/frames.json may override.
DEFAULT_FRAMES = {"train": 270, "eval": 10, "test": 25}


@dataclasses.dataclass(frozen=True)
class FrameIndex:
    """Columnar index of N frames. Paths are relative to ``root`` with '/' separators.

    Attributes:
        root: dataset root.
        paths: str [N] image paths. labels: int64 [N] (0 real, 1 fake).
        methods: int64 [N] (0 real, 1..4 = METHODS, -1 unknown method, e.g. test sets).
        videos: str [N] video ids, one per video of the index (FF++ fakes carry their method:
            FF-DF/000_003 and FF-F2F/000_003 are two videos). frames: int64 [N] frame numbers.
        mask_paths: str [N] ('' where there is no mask, i.e. reals).
        skipped: counted skips by reason.
    """

    root: str
    paths: np.ndarray
    labels: np.ndarray
    methods: np.ndarray
    videos: np.ndarray
    frames: np.ndarray
    mask_paths: np.ndarray
    skipped: dict[str, int]

    def __len__(self) -> int:
        return int(self.paths.shape[0])

    def select(self, rows: np.ndarray) -> "FrameIndex":
        return dataclasses.replace(self, paths=self.paths[rows], labels=self.labels[rows],
                                   methods=self.methods[rows], videos=self.videos[rows], frames=self.frames[rows],
                                   mask_paths=self.mask_paths[rows])


def ffpp_root(root: str) -> str:
    """The FF++ layout root under ``root``: root itself when it holds image/, else root/FF when that
    exists (SLADD's README keeps the data in data/FF/...), else root."""
    if os.path.isdir(os.path.join(root, "image")) or not os.path.isdir(os.path.join(root, "FF")):
        return root
    return os.path.join(root, "FF")


def _load_json(path: str) -> Any:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"split file not found: {path}")
    try:
        with open(path) as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None


def read_pairs(path: str) -> list[tuple[str, str]]:
    """An FF++ split file: a JSON list of [A, B] video-id pairs."""
    data = _load_json(path)
    if not isinstance(data, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(v, str) and v for v in p) for p in data):
        raise ValueError(f"{path}: expected a JSON list of [\"A\", \"B\"] video-id pairs")
    if not data:
        raise ValueError(f"{path}: the split is empty")
    return [(a, b) for a, b in data]


def image_ext(root: str) -> str:
    """Frame file extension: ROOT/config/format.json's "image_ext" (written by sladd_fast.pack), else .png."""
    path = os.path.join(root, "config", "format.json")
    if not os.path.isfile(path):
        return ".png"
    data = _load_json(path)
    ext = data.get("image_ext") if isinstance(data, dict) else None
    if ext not in (".png", ".jpg"):
        raise ValueError(f"{path}: \"image_ext\" must be \".png\" or \".jpg\", got {ext!r}")
    return ext


def frames_per_video(root: str, split: str) -> int:
    """Frames per video for a split: ROOT/config/frames.json if present, else SLADD's defaults."""
    path = os.path.join(root, "config", "frames.json")
    if os.path.isfile(path):
        data = _load_json(path)
        if not isinstance(data, dict) or not isinstance(data.get(split), int) or data[split] <= 0:
            raise ValueError(f"{path}: expected {{\"{split}\": <positive int>, ...}}")
        return int(data[split])
    return DEFAULT_FRAMES[split]


class _Lister:
    """Caches one os.listdir per folder (existence checks without a stat per frame)."""

    def __init__(self) -> None:
        self._cache: dict[str, frozenset[str]] = {}

    def exists(self, path: str) -> bool:
        folder, name = os.path.split(path)
        if folder not in self._cache:
            try:
                self._cache[folder] = frozenset(os.listdir(folder))
            except (FileNotFoundError, NotADirectoryError):
                self._cache[folder] = frozenset()
        return name in self._cache[folder]


def _columns(root: str, rows: list[tuple[str, int, int, str, int, str]], skipped: Counter) -> FrameIndex:
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return FrameIndex(root, np.zeros(0, dtype=str), empty, empty, np.zeros(0, dtype=str), empty,
                          np.zeros(0, dtype=str), dict(skipped))
    paths, labels, methods, videos, frames, masks = zip(*rows)
    return FrameIndex(root, np.array(paths), np.array(labels, dtype=np.int64), np.array(methods, dtype=np.int64),
                      np.array(videos), np.array(frames, dtype=np.int64), np.array(masks), dict(skipped))


def ffpp_index(root: str, split: str, dataset: str, frames: int | None = None, strict: bool = False) -> FrameIndex:
    """Items of one FF++ split for ``dataset`` (one of METHODS, or "ALL"), in SLADD's order.

    Args:
        root: the FF++ root (holding image/, mask/, config/).
        split: "train", "eval" or "test".
        dataset: "FF-DF", "FF-F2F", "FF-FS", "FF-NT" or "ALL".
        frames: frames per video (default: frames_per_video(root, split)).
        strict: raise FileNotFoundError on a missing frame or mask instead of a counted skip.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if dataset not in METHODS and dataset != "ALL":
        raise ValueError(f"unknown method {dataset!r}: expected one of {METHODS + ('ALL',)}")
    pairs = read_pairs(os.path.join(root, "config", f"{split}.json"))
    n = frames if frames is not None else frames_per_video(root, split)
    methods = METHODS if dataset == "ALL" else (dataset,)
    fake_frames = n // 4 + 1 if dataset == "ALL" else n  # ALL: fakes only for i <= frames // 4
    ext = image_ext(root)
    lister, skipped = _Lister(), Counter[str]()
    bad = badfiles.load(root)
    rows: list[tuple[str, int, int, str, int, str]] = []

    def add(rel: str, label: int, method: int, video: str, i: int, mask_rel: str) -> None:
        if rel in bad or (label == 1 and mask_rel in bad):
            skipped["unreadable"] += 1  # listed in bad_files.json by landmarks, pack or pack --verify
            return
        if not lister.exists(os.path.join(root, rel)):
            if strict:
                raise FileNotFoundError(f"missing frame: {os.path.join(root, rel)}")
            skipped["missing_frame"] += 1
            return
        if label == 1 and not lister.exists(os.path.join(root, mask_rel)):
            if strict:
                raise FileNotFoundError(f"fake frame without mask: {os.path.join(root, mask_rel)}")
            skipped["missing_mask"] += 1
            return
        rows.append((rel, label, method, video, i, mask_rel))

    for a, b in pairs:
        for i in range(n):
            for v in (a, b):
                add(f"image/{REAL}/{v}/{i:04d}{ext}", 0, 0, v, i, "")
            if i < fake_frames:
                for m in methods:
                    mid = METHODS.index(m) + 1
                    for v in (f"{a}_{b}", f"{b}_{a}"):  # the video id names the method: one video per fake
                        add(f"image/{m}/{v}/{i:04d}{ext}", 1, mid, f"{m}/{v}", i, f"mask/{m}/{v}/{i:04d}_mask.png")
    index = _columns(root, rows, skipped)
    if len(index) == 0:
        raise ValueError(f"{os.path.join(root, 'config', split + '.json')}: no frames found for {dataset} "
                         f"(skipped: {dict(skipped)})")
    return index


def testset_index(root: str, split: str = "test", frames: int | None = None, strict: bool = False) -> FrameIndex:
    """A test set organized like FF++: ROOT/image/<video>/<NNNN>.png, ROOT/config/<split>.json =
    [["<video>", label], ...] with label 0 (real) or 1 (fake). The first ``frames`` frames
    (default 25, SLADD's test count) of each video are used; shorter videos give counted skips."""
    path = os.path.join(root, "config", f"{split}.json")
    data = _load_json(path)
    if not isinstance(data, list) or not all(
            isinstance(e, list) and len(e) == 2 and isinstance(e[0], str) and e[1] in (0, 1) for e in data):
        raise ValueError(f"{path}: expected a JSON list of [\"<video>\", 0 or 1] entries")
    if not data:
        raise ValueError(f"{path}: the split is empty")
    n = frames if frames is not None else DEFAULT_FRAMES["test"]
    ext = image_ext(root)
    lister, skipped = _Lister(), Counter[str]()
    bad = badfiles.load(root)
    rows = []
    for video, label in data:
        for i in range(n):
            rel = f"image/{video}/{i:04d}{ext}"
            if rel in bad:
                skipped["unreadable"] += 1
                continue
            if not lister.exists(os.path.join(root, rel)):
                if strict:
                    raise FileNotFoundError(f"missing frame: {os.path.join(root, rel)}")
                skipped["missing_frame"] += 1
                continue
            rows.append((rel, int(label), -1, video, i, ""))
    index = _columns(root, rows, skipped)
    if len(index) == 0:
        raise ValueError(f"{path}: no frames found (skipped: {dict(skipped)})")
    return index


def _walk_dfb(node: Any, trail: tuple[str, ...]) -> Iterable[tuple[tuple[str, ...], dict]]:
    if isinstance(node, dict):
        if "frames" in node and isinstance(node["frames"], list):
            yield trail, node
            return
        for k, v in node.items():
            yield from _walk_dfb(v, trail + (str(k),))


def _natural(path: str) -> list:
    """Sort key: the digit runs of ``path`` as numbers (9.png before 10.png), the rest as text."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", path)]


def dfb_sibling(rel: str, folder: str) -> str | None:
    """DeepfakeBench keeps landmarks/ and masks/ beside each frames/ folder: ``rel`` (a frame path,
    '/'-separated, relative to the rgb root) with its last folder named "frames" renamed ``folder``
    (a prefix folder may be named frames too; a leading frames/ counts). None where no folder of the
    path is named frames."""
    parts = rel.split("/")
    for k in range(len(parts) - 2, -1, -1):  # folders only, not the file name
        if parts[k] == "frames":
            return "/".join(parts[:k] + [folder] + parts[k + 1:])
    return None


def deepfakebench_index(json_path: str, rgb_root: str, split: str, compression: str | None = "c23",
                        strict: bool = False) -> FrameIndex:
    """DeepfakeBench's preprocessed layout: its dataset json (dataset -> sub-label -> split
    [-> compression] -> video -> {label, frames: [paths]}), frames/<video>/<NNN>.png with
    landmarks/<video>/<NNN>.npy (81 points) and masks/<video>/<NNN>.png beside them.

    Sub-labels containing "real" (FF-real, CelebDFv2_real, ...) are label 0, the rest 1; FF++ method
    sub-labels map to METHODS. Frame paths are taken relative to ``rgb_root`` (backslashes allowed).
    """
    data = _load_json(json_path)
    lister, skipped = _Lister(), Counter[str]()
    bad = badfiles.load(rgb_root)
    rows = []
    for trail, video in _walk_dfb(data, ()):
        if split not in trail or (compression is not None and any(t in ("raw", "c23", "c40") for t in trail)
                                  and compression not in trail):
            continue
        # The sub-label (FF-real, FF-DF, CelebDFv2_real, ...) is the video's own "label" field, else the
        # level below the dataset name; the dataset name itself (FF-DF.json, DeepFakeDetection) is no label.
        sub = str(video.get("label") or (trail[1] if len(trail) > 1 else ""))
        label = 0 if "real" in sub.lower() else 1
        method = METHODS.index(sub) + 1 if sub in METHODS else (0 if label == 0 else -1)
        vid = f"{sub}/{trail[-1]}" if sub else trail[-1]  # one video per sub-label: methods share names
        # In the order of the numbers in the file names (DeepfakeBench numbers its frames), whatever the
        # json's order: the frame number, and with it deepfakebench_split's first ``frames``, follows time.
        for i, rel in enumerate(sorted((str(f).replace("\\", "/") for f in video["frames"]), key=_natural)):
            full = rel if os.path.isabs(rel) else os.path.join(rgb_root, rel)
            if not lister.exists(full):
                if strict:
                    raise FileNotFoundError(f"missing frame: {full}")
                skipped["missing_frame"] += 1
                continue
            rel_full = os.path.relpath(full, rgb_root).replace(os.sep, "/")
            if rel_full in bad:
                skipped["unreadable"] += 1
                continue
            mask_rel = (dfb_sibling(rel_full, "masks") or "") if label == 1 else ""
            if mask_rel and mask_rel in bad:  # as ffpp_index: a fake whose mask does not decode is left out
                skipped["unreadable"] += 1
                continue
            if label == 1 and not (mask_rel and lister.exists(os.path.join(rgb_root, mask_rel))):
                # DeepfakeBench writes masks only where a mask video exists (none for Celeb-DF or DFDC,
                # whose fakes must stay in a test set): kept, with no mask (zeros, as SLADD's load_mask).
                mask_rel = ""
                skipped["fake_without_mask"] += 1
            rows.append((rel_full, label, method, vid, i, mask_rel))
    index = _columns(rgb_root, rows, skipped)
    if len(index) == 0:
        raise ValueError(f"{json_path}: no frames found for split {split!r} (skipped: {dict(skipped)})")
    return index


def deepfakebench_split(json_path: str, rgb_root: str, split: str, dataset: str, compression: str | None = "c23",
                        frames: int | None = None) -> FrameIndex:
    """deepfakebench_index for our split names: "eval" reads DeepfakeBench's "val"; an FF++ method
    name (its FaceForensics++.json holds all four) keeps the reals and that method's fakes;
    ``frames`` keeps the first frames of each video."""
    index = deepfakebench_index(json_path, rgb_root, "val" if split == "eval" else split, compression)
    if dataset in METHODS:
        index = index.select(np.flatnonzero((index.methods == 0) | (index.methods == METHODS.index(dataset) + 1)))
    if frames is not None:
        index = index.select(np.flatnonzero(index.frames < frames))
    if len(index) == 0:
        raise ValueError(f"{json_path}: no frames of {dataset} in split {split!r}")
    return index
