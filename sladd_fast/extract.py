"""FF++ from its videos: face crops, masks, splits and landmarks in the seed's layout (spec §1.3).

    python -m sladd_fast.extract FFPP_ROOT DATA_ROOT [--compression c23] [--methods Deepfakes,...]
        [--frames 270,100,100] [--size 256] [--scale 1.3] [--format png|jpg] [--splits DIR]
        [--workers N] [--predictor PATH] [--quiet]

Input: FaceForensics++'s own download layout under FFPP_ROOT:
    original_sequences/youtube/<compression>/videos/<id>.mp4
    manipulated_sequences/<Method>/<compression>/videos/<a>_<b>.mp4   (Deepfakes, Face2Face, FaceSwap,
    manipulated_sequences/<Method>/masks/videos/<a>_<b>.mp4            NeuralTextures)
    splits/{train,val,test}.json (FF++'s official splits: lists of [a, b] pairs; --splits elsewhere)
Output (DATA_ROOT), what SLADD's loader reads: image/real/<id>/NNNN.png, image/FF-XX/<a>_<b>/NNNN.png,
mask/FF-XX/<a>_<b>/NNNN_mask.png, config/{train,eval,test}.json (eval from val), config/frames.json,
landmarks.npz (computed in the same pass) and extract_report.json.

What is done, exactly:
* Frames: per video, ``frames`` of its split (270 train, 100 eval, 100 test by default), evenly
  spaced over the whole video (every frame when it has fewer), numbered 0000.. in time order. A fake
  and its mask video use the same frame numbers. Decoded with OpenCV (cv2.VideoCapture).
* Face: dlib's HOG detector on each chosen frame, downscaled to at most 640 px on its long side
  (boxes scaled back). One face per video, tracked: the largest face of the first frame with a face,
  then in each frame the detection overlapping the previous box most (IoU >= 0.3); where there is
  none the previous box is kept (frames before the first detection use the first box).
* Crop: a square of 1.3 x the larger side of the detector's box (FF++'s convention), centred on the
  box, zero-padded where it leaves the frame, resized to --size with bicubic interpolation. A fake's
  mask video is cropped with the fake's boxes, converted to gray and resized bilinearly. A mask video of
  another frame size than its fake is reported (bad_mask) and the fake left out; one with fewer frames
  keeps the fake's frames that have a mask (short_mask, reported).
* Landmarks: dlib's 68-point predictor on the saved crop, inside the detector box mapped into the
  crop; frames whose box was carried over are detected again on the crop, and stay without a face
  (valid=False) if none is found.
* All cores (one video per task, --workers), a progress bar, resumable (finished videos are kept in
  DATA_ROOT/.extract_parts; a rerun with other settings than the interrupted or finished run is
  refused, config/extract.json records them), and videos that could not be read or showed no face are
  reported (extract_report.json and the last lines printed); their frames are not written. Nothing
  extracted at all exits with status 1. --format jpg writes quality 95, 4:4:4 (as sladd_fast.pack) and
  config/format.json, so the index reads the .jpg frames.
"""
from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import shutil
import sys
from typing import Any

import numpy as np

from sladd_fast._args import OneLineParser, at_least
from sladd_fast.data.index import REAL
from sladd_fast.data.store import STORE_NAME, LandmarkStore

FFPP_METHODS = {"Deepfakes": "FF-DF", "Face2Face": "FF-F2F", "FaceSwap": "FF-FS", "NeuralTextures": "FF-NT"}
SPLIT_FILES = {"train": "train.json", "eval": "val.json", "test": "test.json"}
DEFAULT_FRAMES = (270, 100, 100)
PARTS = ".extract_parts"
REPORT = "extract_report.json"
SETTINGS = "settings.json"  # in PARTS: the settings of an interrupted run
EXTRACT_SETTINGS = "extract.json"  # in DATA_ROOT/config: the settings of a finished run
DETECT_SIDE = 640  # detection runs on frames downscaled to this long side
MIN_IOU = 0.3

_WORKER: dict[str, Any] = {}


def frame_numbers(total: int, n: int) -> list[int]:
    """n frame numbers evenly spaced over a video of ``total`` frames (all of them when fewer)."""
    if total <= n:
        return list(range(total))
    return sorted({int(round(k * (total - 1) / (n - 1))) for k in range(n)}) if n > 1 else [0]


def read_frames(path: str, numbers: list[int] | int) -> tuple[list[np.ndarray], list[int]]:
    """(the RGB frames, their numbers) of a video: the given frame numbers (sorted), or for an int n,
    n frames evenly spaced over its length (frame_numbers). The file is opened once (a damaged video
    gets one decoder message, not one per open). ValueError naming it when it cannot be read."""
    import cv2

    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            raise ValueError(f"cannot open video {path}")
        if isinstance(numbers, int):
            numbers = frame_numbers(max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 1), numbers)
        want, out, k = set(numbers), [], 0
        while k <= numbers[-1] if numbers else False:
            if k in want:
                ok, bgr = cap.read()
                if not ok:
                    break
                out.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            elif not cap.grab():
                break
            k += 1
    finally:
        cap.release()
    if not out:
        raise ValueError(f"no frames could be decoded from {path}")
    return out, numbers


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def detect_boxes(frames: list[np.ndarray], detector: Any) -> list[np.ndarray | None]:
    """All face boxes (x0, y0, x1, y1) of each frame, float [K,4], or None where none."""
    import cv2

    out = []
    for f in frames:
        h, w = f.shape[:2]
        s = min(1.0, DETECT_SIDE / max(h, w))
        small = cv2.resize(f, (int(round(w * s)), int(round(h * s))), interpolation=cv2.INTER_AREA) if s < 1 else f
        rects = detector(small, 0)
        out.append(np.array([[r.left(), r.top(), r.right(), r.bottom()] for r in rects], np.float64) / s
                   if len(rects) else None)
    return out


def track(boxes: list[np.ndarray | None]) -> tuple[list[np.ndarray] | None, list[bool]]:
    """One face per video: (a box per frame, whether it was detected in that frame), or (None, ...)
    when no frame has a face."""
    first = next((k for k, b in enumerate(boxes) if b is not None), None)
    if first is None:
        return None, [False] * len(boxes)
    b0 = boxes[first]
    prev = b0[np.argmax((b0[:, 2] - b0[:, 0]) * (b0[:, 3] - b0[:, 1]))]
    out, found = [], []
    for k, b in enumerate(boxes):
        if k < first:
            out.append(prev)
            found.append(False)
            continue
        if b is not None:
            ious = [_iou(prev, x) for x in b]
            j = int(np.argmax(ious))
            if ious[j] >= MIN_IOU or k == first:
                prev = b[j]
                out.append(prev)
                found.append(True)
                continue
        out.append(prev)
        found.append(False)
    return out, found


def crop_square(img: np.ndarray, box: np.ndarray, scale: float, size: int, interp: int) -> tuple[np.ndarray, tuple]:
    """The scale x square around box, zero-padded outside the frame, resized to size. Returns the crop
    and (x0, y0, side) of the square in frame pixels."""
    import cv2

    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = max(int(round(scale * max(box[2] - box[0], box[3] - box[1]))), 2)
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    h, w = img.shape[:2]
    canvas = np.zeros((side, side) + img.shape[2:], img.dtype)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + side, w), min(y0 + side, h)
    if sx1 > sx0 and sy1 > sy0:
        canvas[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = img[sy0:sy1, sx0:sx1]
    return cv2.resize(canvas, (size, size), interpolation=interp), (x0, y0, side)


def _init_worker(predictor: str) -> None:
    import signal

    import cv2
    import dlib

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: one message, no worker tracebacks
    cv2.setNumThreads(1)
    _WORKER["detector"] = dlib.get_frontal_face_detector()
    _WORKER["predictor"] = dlib.shape_predictor(predictor)


def _landmarks(crop: np.ndarray, rect: np.ndarray | None) -> np.ndarray | None:
    import dlib

    if rect is None:
        rects = _WORKER["detector"](crop, 0)
        if not len(rects):
            return None
        r = max(rects, key=lambda q: q.area())
    else:
        r = dlib.rectangle(*(int(round(v)) for v in rect))
    shape = _WORKER["predictor"](crop, r)
    return np.array([[p.x, p.y] for p in shape.parts()], np.float32)


def _save(path: str, img: np.ndarray) -> None:
    import cv2

    os.makedirs(os.path.dirname(path), exist_ok=True)
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if img.ndim == 3 else img
    params = []
    if path.endswith(".jpg"):  # quality 95, and 4:4:4 chroma as sladd_fast.pack writes
        params = [cv2.IMWRITE_JPEG_QUALITY, 95]
        if hasattr(cv2, "IMWRITE_JPEG_SAMPLING_FACTOR"):
            params += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    if not cv2.imwrite(path, bgr, params):
        raise OSError(f"cannot write {path}")


def _video_task(task: dict) -> dict:
    """Extracts one video (and its mask video); returns its landmark rows or the reason it failed."""
    import cv2

    out_root, folder, video, n, size, scale, ext = (task[k] for k in ("out", "folder", "name", "frames", "size",
                                                                        "scale", "ext"))
    try:
        frames, numbers = read_frames(task["path"], n)
        masks = read_frames(task["mask"], numbers[:len(frames)])[0] if task.get("mask") else None
    except ValueError as e:
        return {"key": task["key"], "error": "unreadable", "detail": str(e)}
    short = None
    if masks is not None:
        if masks and masks[0].shape[:2] != frames[0].shape[:2]:  # the crop boxes would not fit the mask
            return {"key": task["key"], "error": "bad_mask",
                    "detail": f"mask video {masks[0].shape[1]}x{masks[0].shape[0]} but the fake is "
                              f"{frames[0].shape[1]}x{frames[0].shape[0]}: {task['mask']}"}
        if len(masks) < len(frames):  # FF++ has mask videos a few frames short: keep the frames with a mask
            short = f"{len(masks)} of {len(frames)} frames have a mask (the rest are left out): {task['mask']}"
            frames = frames[:len(masks)]
    boxes, found = track(detect_boxes(frames, _WORKER["detector"]))
    if boxes is None:
        return {"key": task["key"], "error": "no_face", "detail": f"no face in {len(frames)} frames of {task['path']}"}
    keys, lms, valid = [], [], []
    for i, (img, box, det) in enumerate(zip(frames, boxes, found)):
        crop, (x0, y0, side) = crop_square(img, box, scale, size, cv2.INTER_CUBIC)
        rel = f"image/{folder}/{video}/{i:04d}{ext}"
        _save(os.path.join(out_root, rel), crop)
        if masks is not None and i < len(masks):
            gray = cv2.cvtColor(masks[i], cv2.COLOR_RGB2GRAY)
            m, _ = crop_square(gray, box, scale, size, cv2.INTER_LINEAR)
            _save(os.path.join(out_root, f"mask/{folder}/{video}/{i:04d}_mask.png"), m)
        s = size / side
        rect = (np.array([box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0]) * s) if det else None
        lm = _landmarks(crop, rect)
        keys.append(rel)
        lms.append(lm if lm is not None else np.zeros((68, 2), np.float32))
        valid.append(lm is not None)
    res = {"key": task["key"], "keys": keys, "landmarks": np.stack(lms), "valid": np.array(valid)}
    if short:
        res["short_mask"] = short
    return res


def _tasks(ffpp: str, out: str, pairs: dict[str, list], compression: str, methods: list[str], frames: dict[str, int],
           size: int, scale: float, ext: str) -> list[dict]:
    tasks, seen = [], set()
    for split, ps in pairs.items():
        n = frames[split]
        for a, b in ps:
            for v in (a, b):
                if ("real", v) not in seen:
                    seen.add(("real", v))
                    tasks.append({"key": f"real/{v}", "folder": REAL, "name": v, "frames": n,
                                  "path": os.path.join(ffpp, "original_sequences", "youtube", compression, "videos",
                                                       f"{v}.mp4")})
            for m in methods:
                for v in (f"{a}_{b}", f"{b}_{a}"):
                    if (m, v) in seen:
                        continue
                    seen.add((m, v))
                    base = os.path.join(ffpp, "manipulated_sequences", m)
                    tasks.append({"key": f"{FFPP_METHODS[m]}/{v}", "folder": FFPP_METHODS[m], "name": v, "frames": n,
                                  "path": os.path.join(base, compression, "videos", f"{v}.mp4"),
                                  "mask": os.path.join(base, "masks", "videos", f"{v}.mp4")})
    for t in tasks:
        t.update(out=out, size=size, scale=scale, ext=ext)
    return tasks


def _check_settings(out: str, settings: dict) -> None:
    """A resumed run (parts left in OUT) or a finished one (OUT/config/extract.json) must have been made
    with the same settings: mixing them would leave frames of two sizes or counts under one index."""
    for path, what in ((os.path.join(out, PARTS, SETTINGS), "an interrupted extraction"),
                       (os.path.join(out, "config", EXTRACT_SETTINGS), "an extraction")):
        if not os.path.isfile(path):
            continue
        try:
            with open(path) as f:
                old = json.load(f)
        except ValueError:
            continue  # a partial write: nothing to compare with
        if not isinstance(old, dict):
            continue
        changed = [f"{k}: {old.get(k)!r} -> {v!r}" for k, v in settings.items() if old.get(k) != v]
        if changed:
            raise ValueError(f"{out} holds {what} with other settings ({'; '.join(changed)}): rerun with those, "
                             "or use an empty DATA_ROOT")


def _part(out: str, key: str) -> str:
    return os.path.join(out, PARTS, key.replace("/", "__") + ".npz")


def extract(ffpp: str, out: str, compression: str = "c23", methods: list[str] | None = None,
            frames: tuple[int, int, int] = DEFAULT_FRAMES, size: int = 256, scale: float = 1.3, fmt: str = "png",
            splits: str | None = None, workers: int | None = None, predictor: str | None = None,
            progress: bool = True) -> dict:
    """Runs the extraction (see the module docstring); returns the report dict."""
    from sladd_fast.landmarks import check_predictor

    methods = list(methods or FFPP_METHODS)
    unknown = [m for m in methods if m not in FFPP_METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}: expected some of {list(FFPP_METHODS)}")
    if not os.path.isdir(os.path.join(ffpp, "original_sequences")):
        raise FileNotFoundError(f"{ffpp}: no original_sequences/ (FaceForensics++'s download layout expected)")
    split_dir = splits or os.path.join(ffpp, "splits")
    pairs = {}
    for split, name in SPLIT_FILES.items():
        path = os.path.join(split_dir, name)
        try:
            with open(path) as f:
                pairs[split] = json.load(f)
        except FileNotFoundError:
            raise FileNotFoundError(f"missing split file {path} (FF++'s dataset/splits; pass --splits DIR)") from None
        except ValueError as e:
            raise ValueError(f"{path}: not JSON ({e})") from None
        if not isinstance(pairs[split], list) or not all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(v, str) and v for v in p) for p in pairs[split]):
            raise ValueError(f"{path}: expected a list of [a, b] pairs of video ids (strings, e.g. [\"000\", \"003\"])")
    n_frames = dict(zip(("train", "eval", "test"), frames))
    ext = ".png" if fmt == "png" else ".jpg"
    tasks = _tasks(ffpp, out, pairs, compression, methods, n_frames, size, scale, ext)
    settings = {"compression": compression, "methods": sorted(set(methods)), "frames": n_frames, "size": size,
                "scale": scale, "format": fmt}
    _check_settings(out, settings)  # before the ~100 MB model is loaded: a refused rerun costs nothing
    predictor = check_predictor(predictor)
    os.makedirs(os.path.join(out, PARTS), exist_ok=True)
    with open(os.path.join(out, PARTS, SETTINGS), "w") as f:
        json.dump(settings, f)
    todo = [t for t in tasks if not os.path.isfile(_part(out, t["key"]))]
    from tqdm import tqdm

    bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), unit="video", desc="extract", disable=not progress)
    with mp.get_context("spawn").Pool(workers or os.cpu_count() or 1, _init_worker, (predictor,)) as pool:
        for r in pool.imap_unordered(_video_task, todo):
            part = _part(out, r["key"])
            if "error" in r:
                np.savez(part + ".tmp.npz", error=np.array(r["error"]), detail=np.array(r["detail"]))
            else:
                extra = {"short_mask": np.array(r["short_mask"])} if "short_mask" in r else {}
                np.savez(part + ".tmp.npz", keys=np.array(r["keys"]), landmarks=r["landmarks"], valid=r["valid"],
                         **extra)
            os.replace(part + ".tmp.npz", part)
            bar.update(1)
    bar.close()
    keys, lms, valid = [], [], []
    report: dict[str, Any] = {"videos": len(tasks), "unreadable": [], "no_face": [], "bad_mask": [],
                              "short_mask": [], "frames": 0}
    for t in tasks:
        with np.load(_part(out, t["key"]), allow_pickle=False) as z:
            if "error" in z:
                report[str(z["error"])].append({"video": t["key"], "detail": str(z["detail"])})
                continue
            if "short_mask" in z:  # extracted, but only the frames with a mask
                report["short_mask"].append({"video": t["key"], "detail": str(z["short_mask"])})
            keys += z["keys"].tolist()
            lms.append(z["landmarks"])
            valid.append(z["valid"])
    if keys:  # nothing extracted: no config either, so a rerun with corrected settings is not refused
        store = LandmarkStore(np.array(keys), np.concatenate(lms), np.concatenate(valid),
                              np.full((len(keys), 2), size, np.int32))
        store.save(os.path.join(out, STORE_NAME))
        report["frames"] = len(keys)
        report["frames_with_face"] = int(store.valid.sum())
        configs = {f"{split}.json": ps for split, ps in pairs.items()}
        configs.update({"frames.json": n_frames, EXTRACT_SETTINGS: settings,
                        "format.json": {"image_ext": ext, "source": "sladd_fast.extract"}})  # read by data/index.py
        os.makedirs(os.path.join(out, "config"), exist_ok=True)
        for name, obj in configs.items():
            with open(os.path.join(out, "config", name), "w") as f:
                json.dump(obj, f)
    with open(os.path.join(out, REPORT), "w") as f:
        json.dump(report, f, indent=1)
    shutil.rmtree(os.path.join(out, PARTS))
    return report


def main(argv: list[str] | None = None) -> int:
    ap = OneLineParser(prog="python -m sladd_fast.extract", description=__doc__.splitlines()[0])
    ap.add_argument("ffpp_root", help="FaceForensics++ as downloaded (original_sequences/, manipulated_sequences/)")
    ap.add_argument("data_root", help="output root in the seed's layout")
    ap.add_argument("--compression", default="c23", choices=["raw", "c23", "c40"])
    ap.add_argument("--methods", default=",".join(FFPP_METHODS), help="comma-separated FF++ method folders")
    ap.add_argument("--frames", default=",".join(map(str, DEFAULT_FRAMES)), help="frames per video: train,eval,test")
    ap.add_argument("--size", type=at_least(16), default=256)
    ap.add_argument("--scale", type=float, default=1.3, help="crop side / detector box side (FF++: 1.3)")
    ap.add_argument("--format", default="png", choices=["png", "jpg"])
    ap.add_argument("--splits", default=None, help="folder of FF++'s train/val/test.json (default: FFPP_ROOT/splits)")
    ap.add_argument("--workers", type=at_least(1), default=None, help="processes (default: all cores)")
    ap.add_argument("--predictor", default=None, help="shape_predictor_68_face_landmarks.dat path")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    try:
        frames = tuple(int(v) for v in args.frames.split(","))
        if len(frames) != 3 or min(frames) <= 0:
            raise ValueError
    except ValueError:
        ap.error("--frames takes three positive numbers: train,eval,test")
    if not (math.isfinite(args.scale) and args.scale > 0):
        ap.error(f"--scale must be a positive number, got {args.scale}")
    try:
        report = extract(args.ffpp_root, args.data_root, args.compression, args.methods.split(","), frames, args.size,
                         args.scale, args.format, args.splits, args.workers, args.predictor, not args.quiet)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted: rerun the same command to resume (finished videos are kept in "
              f"{os.path.join(args.data_root, PARTS)})", file=sys.stderr)
        return 130
    failed = len(report["unreadable"]) + len(report["no_face"]) + len(report["bad_mask"])
    print(f"extracted {report['frames']} frames of {report['videos'] - failed}/{report['videos']} videos into "
          f"{args.data_root} ({report.get('frames_with_face', 0)} with landmarks); {len(report['unreadable'])} "
          f"unreadable, {len(report['no_face'])} without a face, {len(report['bad_mask'])} with an unusable mask, "
          f"{len(report['short_mask'])} with a short mask (see {os.path.join(args.data_root, REPORT)})")
    for what in ("unreadable", "no_face", "bad_mask", "short_mask"):
        for r in report[what][:10]:
            print(f"  {what.replace('_', ' ')}: {r['video']}: {r['detail']}")
    if report["frames"] == 0:
        print(f"error: no frames extracted from {args.ffpp_root}: check --compression ({args.compression}), "
              "--methods and the splits against the download", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
