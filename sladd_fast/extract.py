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
  mask video is cropped with the fake's boxes, converted to gray and resized bilinearly. A fake without
  its mask video is reported (no_mask) and left out, before it is decoded; a mask video that cannot be
  read or has another frame size than its fake is reported (bad_mask) and the fake left out; one with
  fewer frames keeps the fake's frames that have a mask (short_mask, reported). Every requested folder
  of the download (the originals and each method's videos and masks) must exist, or nothing starts.
* Memory: two passes per video. The first decodes the chosen frames as detection-sized copies (at most
  640 px) and tracks the face; the second decodes the video and its mask video again and crops frame
  by frame, so a worker holds small frames only (a 1080p fake's 270 frames and masks at full size were
  about 3.4 GB).
* Landmarks: dlib's 68-point predictor on the saved crop, inside the detector box mapped into the
  crop; frames whose box was carried over are detected again on the crop, and stay without a face
  (valid=False) if none is found.
* All cores (one video per task, --workers), a progress bar, resumable (finished videos are kept in
  DATA_ROOT/.extract_parts; a rerun with other settings than the interrupted or finished run is
  refused, config/extract.json records them; a rerun of a finished run keeps its extracted videos and
  tries the failed ones again, say after their masks were downloaded), and videos that could not be
  read or showed no face are reported (extract_report.json and the last lines printed); their frames
  are not written. A worker that dies (killed for memory) stops the run with a message, finished
  videos kept. Nothing extracted at all, or no fake of a requested method, exits with status 1. --format jpg writes quality 95, 4:4:4 (as sladd_fast.pack) and
  config/format.json, so the index reads the .jpg frames.
"""
from __future__ import annotations

import contextlib
import json
import math
import multiprocessing as mp
import os
import shutil
import sys
from typing import Any, Callable, Iterator

import numpy as np

from sladd_fast._args import OneLineParser, at_least
from sladd_fast.data.index import REAL
from sladd_fast.data.store import STORE_NAME, LandmarkStore

FAILURES = ("unreadable", "no_face", "no_mask", "bad_mask")  # a video left out, by reason
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


@contextlib.contextmanager
def _capture(path: str) -> Iterator[Any]:
    """An opened cv2.VideoCapture of path, released after use. ValueError naming it if it cannot open."""
    import cv2

    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            raise ValueError(f"cannot open video {path}")
        yield cap
    finally:
        cap.release()


def _frames_of(cap: Any, numbers: list[int]) -> Iterator[np.ndarray]:
    """The BGR frames of a capture at the given sorted frame numbers, in order, until one cannot be read."""
    want, k = set(numbers), 0
    while numbers and k <= numbers[-1]:
        if k in want:
            ok, bgr = cap.read()
            if not ok:
                return
            yield bgr
        elif not cap.grab():
            return
        k += 1


def read_frames(path: str, numbers: list[int] | int,
                convert: Callable[[np.ndarray], np.ndarray] | None = None) -> tuple[list[np.ndarray], list[int]]:
    """(the frames, their numbers) of a video: the given frame numbers (sorted), or for an int n, n
    frames evenly spaced over its length (frame_numbers). Each frame is RGB, or ``convert(bgr)`` as it
    is read (a smaller copy keeps a long video's frames small). The file is opened once (a damaged video
    gets one decoder message, not one per open). ValueError naming it when it cannot be read."""
    import cv2

    with _capture(path) as cap:
        if isinstance(numbers, int):
            numbers = frame_numbers(max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 1), numbers)
        out = [convert(bgr) if convert else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) for bgr in _frames_of(cap, numbers)]
    if not out:
        raise ValueError(f"no frames could be decoded from {path}")
    return out, numbers


def detection_copy(bgr: np.ndarray) -> tuple[np.ndarray, float]:
    """(the RGB frame downscaled to at most DETECT_SIDE on its long side, the scale used)."""
    import cv2

    h, w = bgr.shape[:2]
    s = min(1.0, DETECT_SIDE / max(h, w))
    small = cv2.resize(bgr, (int(round(w * s)), int(round(h * s))), interpolation=cv2.INTER_AREA) if s < 1 else bgr
    return cv2.cvtColor(small, cv2.COLOR_BGR2RGB), s


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def detect_boxes(frames: list[tuple[np.ndarray, float]], detector: Any) -> list[np.ndarray | None]:
    """All face boxes (x0, y0, x1, y1) of each frame, float [K,4] in full-frame pixels, or None where
    none. ``frames``: detection_copy's (small RGB frame, scale) pairs."""
    out = []
    for small, s in frames:
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
    """Extracts one video (and its mask video); returns its landmark rows or the reason it failed.
    Anything unexpected (a cv2.error deep in a decoder, say) is that video's failure, not the run's."""
    try:
        return _extract_video(task)
    except Exception as e:  # noqa: BLE001
        return {"key": task["key"], "error": "unreadable", "detail": f"{type(e).__name__}: {e} ({task['path']})"}


def _extract_video(task: dict) -> dict:
    """_video_task's work.

    Two passes keep a worker's memory small (a 1080p fake's 270 frames and their mask frames held at
    full size took about 3.4 GB): the first reads the chosen frames as detection-sized copies and tracks
    the face; the second reads the video (and its mask video) again and crops frame by frame."""
    import cv2

    out_root, folder, video, n, size, scale, ext = (task[k] for k in ("out", "folder", "name", "frames", "size",
                                                                        "scale", "ext"))
    mask_path = task.get("mask")
    if not os.path.isfile(task["path"]):
        return {"key": task["key"], "error": "unreadable", "detail": f"cannot open video {task['path']}: no such file"}
    if mask_path and not os.path.isfile(mask_path):  # before the fake is decoded for nothing
        return {"key": task["key"], "error": "no_mask", "detail": f"no mask video {mask_path}"}
    try:
        small, numbers = read_frames(task["path"], n, detection_copy)
    except ValueError as e:
        return {"key": task["key"], "error": "unreadable", "detail": str(e)}
    numbers = numbers[:len(small)]
    boxes, found = track(detect_boxes(small, _WORKER["detector"]))
    del small
    if boxes is None:
        return {"key": task["key"], "error": "no_face", "detail": f"no face in {len(numbers)} frames of {task['path']}"}
    keys, lms, valid, short = [], [], [], None
    with contextlib.ExitStack() as stack:
        try:
            fakes = _frames_of(stack.enter_context(_capture(task["path"])), numbers)
        except ValueError as e:
            return {"key": task["key"], "error": "unreadable", "detail": str(e)}
        masks = None
        if mask_path:
            try:
                masks = _frames_of(stack.enter_context(_capture(mask_path)), numbers)
            except ValueError as e:
                return {"key": task["key"], "error": "bad_mask", "detail": str(e)}
        for i, (bgr, box, det) in enumerate(zip(fakes, boxes, found)):
            gray = None
            if masks is not None:
                m = next(masks, None)
                if m is None:  # FF++ has mask videos a few frames short: keep the frames with a mask
                    if i == 0:
                        return {"key": task["key"], "error": "bad_mask",
                                "detail": f"no frames could be decoded from {mask_path}"}
                    short = f"{i} of {len(numbers)} frames have a mask (the rest are left out): {mask_path}"
                    break
                if m.shape[:2] != bgr.shape[:2]:  # the crop boxes would not fit the mask (checked at i = 0)
                    return {"key": task["key"], "error": "bad_mask",
                            "detail": f"mask video {m.shape[1]}x{m.shape[0]} but the fake is "
                                      f"{bgr.shape[1]}x{bgr.shape[0]}: {mask_path}"}
                gray = cv2.cvtColor(m, cv2.COLOR_BGR2GRAY)
            img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            crop, (x0, y0, side) = crop_square(img, box, scale, size, cv2.INTER_CUBIC)
            rel = f"image/{folder}/{video}/{i:04d}{ext}"
            _save(os.path.join(out_root, rel), crop)
            if gray is not None:
                m, _ = crop_square(gray, box, scale, size, cv2.INTER_LINEAR)
                _save(os.path.join(out_root, f"mask/{folder}/{video}/{i:04d}_mask.png"), m)
            s = size / side
            rect = (np.array([box[0] - x0, box[1] - y0, box[2] - x0, box[3] - y0]) * s) if det else None
            lm = _landmarks(crop, rect)
            keys.append(rel)
            lms.append(lm if lm is not None else np.zeros((68, 2), np.float32))
            valid.append(lm is not None)
    if not keys:
        return {"key": task["key"], "error": "unreadable", "detail": f"no frames could be decoded from {task['path']}"}
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


def _check_download(ffpp: str, compression: str, methods: list[str]) -> None:
    """Each requested folder of the download must exist: without them every video would be reported
    bad one by one, and without the masks the fakes would all be left out (SLADD learns the masks)."""
    need = [(os.path.join(ffpp, "original_sequences", "youtube", compression, "videos"),
             f"the original videos at --compression {compression}")]
    for m in methods:
        base = os.path.join(ffpp, "manipulated_sequences", m)
        need += [(os.path.join(base, compression, "videos"),
                  f"{m}'s videos at --compression {compression} (or leave {m} out with --methods)"),
                 (os.path.join(base, "masks", "videos"),
                  f"{m}'s masks, a download of their own (FF++'s download script with -d {m} -t masks)")]
    for path, what in need:
        if not os.path.isdir(path):
            raise FileNotFoundError(f"{path}: no such folder: {what}")


def _load_part(path: str) -> dict | None:
    """A finished video's part file as a dict, or None when it is missing or damaged (a crash between
    the write and the rename, a full disk): that video is extracted again."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception:  # noqa: BLE001  FileNotFoundError, EOFError, BadZipFile, ... all mean: (re)do it
        return None


def _write_part(out: str, key: str, **arrays: Any) -> None:
    """A video's part file, written whole or not at all (a temporary file, then a rename)."""
    part = _part(out, key)
    np.savez(part + ".tmp.npz", **arrays)
    os.replace(part + ".tmp.npz", part)


def _result_arrays(r: dict) -> dict[str, Any]:
    """What a part file holds for a _video_task result: its failure, or its frames and landmarks."""
    if "error" in r:
        return {"error": np.array(r["error"]), "detail": np.array(r["detail"])}
    extra = {"short_mask": np.array(r["short_mask"])} if "short_mask" in r else {}
    return {"keys": np.array(r["keys"]), "landmarks": r["landmarks"], "valid": r["valid"], **extra}


def _seed_parts(out: str, tasks: list[dict]) -> None:
    """A rerun of a finished extraction (the same settings, checked before) keeps the videos it
    extracted: their parts are rebuilt from its landmark store, so only the videos that failed (say,
    before their masks were downloaded) are extracted again."""
    store_path, report_path = os.path.join(out, STORE_NAME), os.path.join(out, REPORT)
    if not os.path.isfile(os.path.join(out, "config", EXTRACT_SETTINGS)) or not os.path.isfile(store_path):
        return
    try:
        store = LandmarkStore.load(store_path)
    except Exception:  # noqa: BLE001  a damaged store: extract everything again
        return
    try:
        with open(report_path) as f:
            short = {r["video"]: r["detail"] for r in json.load(f).get("short_mask", [])}
    except Exception:  # noqa: BLE001  no report: only the short-mask notes are lost
        short = {}
    rows: dict[str, list[int]] = {}
    for i, k in enumerate(store.keys.tolist()):  # image/<folder>/<video>/NNNN.ext
        rows.setdefault("/".join(k.split("/")[1:3]), []).append(i)
    for t in tasks:
        idx = rows.get(t["key"])
        if idx is None or os.path.isfile(_part(out, t["key"])):
            continue
        frames = store.keys[idx].tolist()
        masks = [f"mask/{t['folder']}/{t['name']}/{os.path.splitext(os.path.basename(k))[0]}_mask.png"
                 for k in frames] if t.get("mask") else []
        if not all(os.path.isfile(os.path.join(out, k)) for k in frames + masks):
            continue  # its files were removed (to redo it, say): extracted again
        row = {"key": t["key"], "keys": store.keys[idx], "landmarks": store.landmarks[idx], "valid": store.valid[idx]}
        if t["key"] in short:
            row["short_mask"] = short[t["key"]]
        _write_part(out, t["key"], **_result_arrays(row))


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
    _check_download(ffpp, compression, methods)
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
    _seed_parts(out, tasks)
    # An interrupted run's parts are kept, failures included (a finished run's failures have none),
    # except a missing mask that has been downloaded since.
    parts = {t["key"]: _load_part(_part(out, t["key"])) for t in tasks}
    todo = [t for t in tasks if parts[t["key"]] is None or
            (str(parts[t["key"]].get("error", "")) == "no_mask" and os.path.isfile(t["mask"]))]
    _run(todo, out, predictor, workers, progress, len(tasks))
    parts.update({t["key"]: _load_part(_part(out, t["key"])) for t in todo})  # the others are read once
    keys, lms, valid = [], [], []
    report: dict[str, Any] = {"videos": len(tasks), **{k: [] for k in FAILURES}, "short_mask": [], "frames": 0,
                              "fake_videos": {FFPP_METHODS[m]: 0 for m in methods}}
    for t in tasks:
        z = parts[t["key"]]
        if z is None:
            raise OSError(f"{_part(out, t['key'])}: the part file of {t['key']} cannot be read back")
        if "error" in z:
            report[str(z["error"])].append({"video": t["key"], "detail": str(z["detail"])})
            continue
        if "short_mask" in z:  # extracted, but only the frames with a mask
            report["short_mask"].append({"video": t["key"], "detail": str(z["short_mask"])})
        if t["folder"] != REAL:
            report["fake_videos"][t["folder"]] += 1
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


def _run(todo: list[dict], out: str, predictor: str, workers: int | None, progress: bool, total: int,
         task_fn: Callable[[dict], dict] = _video_task) -> None:
    """Extracts the ``todo`` videos in worker processes, writing each one's part file as it finishes.
    A worker that dies (killed for memory, say) stops the run with an error instead of a hang; the
    finished videos are kept for the rerun."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    from tqdm import tqdm

    bar = tqdm(total=total, initial=total - len(todo), unit="video", desc="extract", disable=not progress)
    pool = ProcessPoolExecutor(workers or os.cpu_count() or 1, mp_context=mp.get_context("spawn"),
                               initializer=_init_worker, initargs=(predictor,))
    futures: list = []
    broken: BaseException | None = None
    try:
        futures = [pool.submit(task_fn, t) for t in todo]
        for fut in as_completed(futures):
            try:
                r = fut.result()
            except BrokenProcessPool as e:  # the others done so far are still written
                broken = broken or e
                continue
            _write_part(out, r["key"], **_result_arrays(r))
            bar.update(1)
    except BrokenProcessPool as e:  # while submitting: the pool broke at start (its initializer)
        broken = e
    except BaseException:
        # Ctrl-C or an error: the workers (which ignore SIGINT) must not finish their videos first.
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            proc.terminate()
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        bar.close()
    if broken is not None:
        left = sum(not (f.done() and not f.cancelled() and f.exception() is None) for f in futures) \
            if futures else len(todo)
        raise OSError(f"a worker process died ({broken}; killed for memory?) with {left} video(s) not done; the "
                      f"finished ones are kept in {os.path.join(out, PARTS)}: rerun the same command to resume, with "
                      "fewer --workers if memory ran out")


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
    failed = sum(len(report[k]) for k in FAILURES)
    print(f"extracted {report['frames']} frames of {report['videos'] - failed}/{report['videos']} videos into "
          f"{args.data_root} ({report.get('frames_with_face', 0)} with landmarks); {len(report['unreadable'])} "
          f"unreadable, {len(report['no_face'])} without a face, {len(report['no_mask'])} without a mask video, "
          f"{len(report['bad_mask'])} with an unusable mask, {len(report['short_mask'])} with a short mask "
          f"(see {os.path.join(args.data_root, REPORT)})")
    for what in FAILURES + ("short_mask",):
        for r in report[what][:10]:
            print(f"  {what.replace('_', ' ')}: {r['video']}: {r['detail']}")
        if len(report[what]) > 10:
            print(f"  ... and {len(report[what]) - 10} more {what.replace('_', ' ')}")
    if report["frames"] == 0:
        print(f"error: no frames extracted from {args.ffpp_root}: check --compression ({args.compression}), "
              "--methods and the splits against the download", file=sys.stderr)
        return 1
    empty = [m for m, n in report["fake_videos"].items() if n == 0]
    if empty:  # a training set of reals only (or without one method) must not pass unnoticed
        print(f"error: no fake video of {', '.join(empty)} was extracted (see the reasons above); the reals and "
              "the other methods are written, and a rerun extracts only what failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    code = main()
    if code == 130:  # Ctrl-C: the message is out; leave without joining the terminated workers' pipes
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)
