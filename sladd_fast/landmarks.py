"""Offline face detection + 68 landmarks for a whole dataset, once (spec §1.4, §7.3).

    python -m sladd_fast.landmarks DATA_ROOT [--workers N] [--upsample 0] [--chunk 256]
    python -m sladd_fast.landmarks DFB_ROOT --deepfakebench      # import 81-point .npy files

Scans DATA_ROOT/image/**.png|jpg (FF++ and test-set layouts), runs dlib's HOG detector and the
68-point predictor on every frame with all cores, and writes DATA_ROOT/landmarks.npz (see
sladd_fast.data.store) plus DATA_ROOT/landmarks_report.json listing frames with no face and
unreadable files. Work is saved per chunk under DATA_ROOT/.landmarks_parts/, so an interrupted run
resumes where it stopped (parts are reused only if made with the same settings). With
--deepfakebench, every image under any .../frames/... folder below DFB_ROOT gets the first 68 of the
81 points in the sibling .../landmarks/<video>/<NNN>.npy instead (no detection); keys are relative to
DFB_ROOT, the rgb_root that deepfakebench_index takes.

Models: dlib-bin and face_recognition_models ship shape_predictor_68_face_landmarks.dat (trained on
iBUG 300-W, non-commercial licence); nothing is downloaded. --predictor PATH uses another file.
"""
from __future__ import annotations

import importlib.util
import json
import multiprocessing as mp
import os
import shutil
import sys
from typing import Any

import numpy as np

from sladd_fast._args import OneLineParser, at_least
from sladd_fast.data.decode import decode_file
from sladd_fast.data.index import dfb_sibling
from sladd_fast.data.store import STORE_NAME, LandmarkStore

PARTS = ".landmarks_parts"
REPORT = "landmarks_report.json"
IMAGE_EXT = (".png", ".jpg", ".jpeg")


def default_predictor() -> str:
    spec = importlib.util.find_spec("face_recognition_models")  # its __init__ needs pkg_resources
    if spec is None or spec.origin is None:
        raise FileNotFoundError("face_recognition_models is not installed; pass --predictor PATH")
    path = os.path.join(os.path.dirname(spec.origin), "models", "shape_predictor_68_face_landmarks.dat")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"68-point model not found at {path}; pass --predictor PATH")
    return path


def check_predictor(path: str | None) -> str:
    """The 68-point model to use (``path``, else face_recognition_models'), loaded once here so that a
    missing or damaged file is one clear error before any worker starts: a worker pool whose start-up
    fails restarts its workers forever."""
    if path is None:
        path = default_predictor()
    elif not os.path.isfile(path):
        raise FileNotFoundError(f"--predictor: no such file: {path}")
    import dlib

    try:
        dlib.shape_predictor(path)
    except RuntimeError as e:
        raise ValueError(f"--predictor {path}: not a dlib shape predictor ({' '.join(str(e).split())})") from None
    return path


def find_frames(root: str, folder: str = "image") -> list[str]:
    """Sorted frame paths relative to root under root/folder."""
    base = os.path.join(root, folder)
    if not os.path.isdir(base):
        raise FileNotFoundError(f"no {folder}/ folder under {root}")
    out = []
    for d, _, files in os.walk(base):
        for f in files:
            if f.lower().endswith(IMAGE_EXT) and not f.endswith("_mask.png"):
                out.append(os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/"))
    return sorted(out)


def find_dfb_frames(root: str) -> list[str]:
    """DeepfakeBench: every image inside any .../frames/... folder below root (its frames/ folders
    sit deep, e.g. FaceForensics++/original_sequences/youtube/c23/frames/<video>/<NNN>.png), as
    paths relative to root, so the keys match deepfakebench_index(json, rgb_root=root)."""
    out = []
    for d, _, files in os.walk(root):
        rel_d = os.path.relpath(d, root).replace(os.sep, "/")
        if "frames" not in rel_d.split("/"):
            continue
        out += [f"{rel_d}/{f}" for f in files if f.lower().endswith(IMAGE_EXT)]
    if not out:
        raise FileNotFoundError(f"no frames/ folders with images under {root}")
    return sorted(out)


def _dfb_landmark_path(key: str) -> str:
    """frames/<v>/<n>.png (under any prefix) -> landmarks/<v>/<n>.npy beside it (find_dfb_frames'
    keys always hold a frames folder)."""
    rel = dfb_sibling(key, "landmarks")
    if rel is None:
        raise ValueError(f"{key}: a DeepfakeBench frame path must lie in a frames/ folder")
    return os.path.splitext(rel)[0] + ".npy"


class Detector:
    """dlib HOG face detector + 68-point shape predictor; the best-scoring face per image."""

    def __init__(self, predictor: str, upsample: int = 0) -> None:
        import dlib

        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(predictor)
        self.upsample = upsample

    def __call__(self, rgb: np.ndarray) -> np.ndarray | None:
        """uint8 [H,W,3] RGB -> float32 [68,2] (x, y), or None when no face is found."""
        rects, scores, _ = self.detector.run(rgb, self.upsample)
        if len(rects) == 0:
            return None
        best = rects[int(np.argmax(scores))]
        shape = self.predictor(rgb, best)
        return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float32)


_WORKER: dict[str, Any] = {}  # per worker process: the loaded dlib models


def _init_worker(predictor: str, upsample: int) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: one message, no worker tracebacks
    _WORKER["detector"] = Detector(predictor, upsample)


def _detect_chunk(args: tuple[str, list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    root, keys = args
    det = _WORKER["detector"]
    lm = np.zeros((len(keys), 68, 2), np.float32)
    valid = np.zeros(len(keys), bool)
    size = np.zeros((len(keys), 2), np.int32)
    unreadable = []
    for i, k in enumerate(keys):
        try:
            img = decode_file(os.path.join(root, k), "RGB")
        except ValueError:
            unreadable.append(k)
            continue
        size[i] = img.shape[:2]
        pts = det(img)
        if pts is not None:
            lm[i], valid[i] = pts, True
    return lm, valid, size, unreadable


def _import_chunk(args: tuple[str, list[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """DeepfakeBench: frames/<v>/<n>.png -> landmarks/<v>/<n>.npy, (81, 2) -> first 68 points."""
    root, keys = args
    lm = np.zeros((len(keys), 68, 2), np.float32)
    valid = np.zeros(len(keys), bool)
    size = np.zeros((len(keys), 2), np.int32)
    unreadable = []
    for i, k in enumerate(keys):
        npy = os.path.join(root, _dfb_landmark_path(k))
        try:
            pts = np.load(npy, allow_pickle=False)
        except (OSError, ValueError):
            continue  # no landmark file: no face
        if pts.ndim != 2 or pts.shape[1] != 2 or pts.shape[0] < 68 or not np.isfinite(pts).all():
            unreadable.append(k)  # malformed landmark file: reported under the frame's key
            continue
        lm[i], valid[i] = pts[:68].astype(np.float32), True
        try:
            from PIL import Image

            with Image.open(os.path.join(root, k)) as im:
                size[i] = (im.height, im.width)
        except Exception:
            unreadable.append(k)
            valid[i] = False
    return lm, valid, size, unreadable


def run_config(deepfakebench: bool, upsample: int, predictor: str | None) -> str:
    """The settings a part file was made with (a resumed run reuses parts only if they match)."""
    return json.dumps({"deepfakebench": deepfakebench, "upsample": upsample,
                       "predictor": os.path.basename(predictor) if predictor else None})


def _part_path(root: str, k: int) -> str:
    return os.path.join(root, PARTS, f"part_{k:06d}.npz")


def build_store(root: str, workers: int | None = None, upsample: int = 0, chunk: int = 256,
                predictor: str | None = None, deepfakebench: bool = False, progress: bool = True) -> LandmarkStore:
    """Computes (or imports) landmarks for every frame under root; writes the store and report."""
    keys = find_dfb_frames(root) if deepfakebench else find_frames(root, "image")
    if not keys:
        raise ValueError(f"no frames found under {root}")
    os.makedirs(os.path.join(root, PARTS), exist_ok=True)
    chunks = [keys[i:i + chunk] for i in range(0, len(keys), chunk)]
    predictor = None if deepfakebench else check_predictor(predictor)
    # A part is reused only if it was made from the same frames with the same settings.
    config = run_config(deepfakebench, upsample, predictor)
    todo = []
    for k, c in enumerate(chunks):
        path = _part_path(root, k)
        if os.path.isfile(path):
            try:
                with np.load(path, allow_pickle=False) as z:
                    if z["keys"].tolist() == c and str(z["config"]) == config:
                        continue  # done in an earlier run
            except Exception:  # noqa: BLE001  a partial or damaged part (EOFError, BadZipFile, ...): redo
                pass
        todo.append(k)
    from tqdm import tqdm

    bar = tqdm(total=len(keys), initial=len(keys) - sum(len(chunks[k]) for k in todo), unit="frame",
               desc="landmarks", disable=not progress)
    fn = _import_chunk if deepfakebench else _detect_chunk
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    jobs = [(root, chunks[k]) for k in todo]
    if deepfakebench:
        pool = mp.get_context("spawn").Pool(n_workers)
    else:
        pool = mp.get_context("spawn").Pool(n_workers, _init_worker, (predictor, upsample))
    with pool:
        for k, (lm, valid, size, bad) in zip(todo, pool.imap(fn, jobs)):
            tmp = _part_path(root, k) + ".tmp.npz"
            np.savez(tmp, keys=np.array(chunks[k]), landmarks=lm, valid=valid, size=size,
                     unreadable=np.array(bad, dtype=str), config=np.array(config))
            os.replace(tmp, _part_path(root, k))
            bar.update(len(chunks[k]))
    bar.close()
    parts = []
    for k in range(len(chunks)):  # one file open at a time: FF++ has thousands of chunks
        with np.load(_part_path(root, k), allow_pickle=False) as z:
            parts.append({name: z[name] for name in ("keys", "landmarks", "valid", "size", "unreadable")})
    store = LandmarkStore(np.concatenate([p["keys"] for p in parts]), np.concatenate([p["landmarks"] for p in parts]),
                          np.concatenate([p["valid"] for p in parts]), np.concatenate([p["size"] for p in parts]))
    unreadable = sorted({u for p in parts for u in p["unreadable"].tolist()})
    store.save(os.path.join(root, STORE_NAME))
    unreadable_set = set(unreadable)  # FF++ has about a million frames: no list scan per frame
    report = {"frames": len(store), "with_face": int(store.valid.sum()),
              "no_face": [k for k, v in zip(store.keys.tolist(), store.valid.tolist())
                          if not v and k not in unreadable_set],
              "unreadable": unreadable}
    with open(os.path.join(root, REPORT), "w") as f:
        json.dump(report, f, indent=1)
    from sladd_fast.data import badfiles

    badfiles.record(root, "landmarks", unreadable)  # the index builders leave these out
    shutil.rmtree(os.path.join(root, PARTS))  # including parts left by runs with another --chunk
    return store


def main(argv: list[str] | None = None) -> int:
    ap = OneLineParser(prog="python -m sladd_fast.landmarks", description=__doc__.splitlines()[0])
    ap.add_argument("root", help="dataset root (holding image/, or frames/ with --deepfakebench)")
    ap.add_argument("--workers", type=at_least(1), default=None, help="processes (default: all cores)")
    ap.add_argument("--upsample", type=at_least(0), default=0, help="dlib HOG upsampling (SLADD used 0)")
    ap.add_argument("--chunk", type=at_least(1), default=256, help="frames per resumable chunk")
    ap.add_argument("--predictor", default=None, help="shape_predictor_68_face_landmarks.dat path")
    ap.add_argument("--deepfakebench", action="store_true", help="import DeepfakeBench 81-point .npy files")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    if not os.path.isdir(args.root):
        ap.error(f"not a folder: {args.root}")
    try:
        store = build_store(args.root, args.workers, args.upsample, args.chunk, args.predictor, args.deepfakebench,
                            progress=not args.quiet)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted: rerun the same command to resume (finished chunks are kept in "
              f"{os.path.join(args.root, PARTS)})", file=sys.stderr)
        return 130
    with open(os.path.join(args.root, REPORT)) as f:
        report = json.load(f)
    print(f"wrote {os.path.join(args.root, STORE_NAME)}: {int(store.valid.sum())}/{len(store)} frames with a face, "
          f"{len(report['unreadable'])} unreadable, {len(report['no_face'])} without a face; "
          f"full lists in {os.path.join(args.root, REPORT)}")
    for what in ("unreadable", "no_face"):
        names = report[what]
        if names:
            more = f" (and {len(names) - 10} more)" if len(names) > 10 else ""
            print(f"  {what.replace('_', ' ')}: {', '.join(names[:10])}{more}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
