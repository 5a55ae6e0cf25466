"""Per-sample reference implementation of SLADD's synthesis (spec §3) in numpy / OpenCV / SciPy /
scikit-image: the parity baseline for tests and the speed baseline for benchmarks.

Written independently from the spec as ordinary per-sample code, the way the original is structured
(one image at a time, on the CPU), neither slowed nor tuned. It differs from the original only where
the engine deliberately fixes a bug (B1: the partner's own landmarks; B3; B7), so the two can be
compared on the same inputs. Requires the dev extras (opencv-python-headless < 5, scipy,
scikit-image).
"""
from __future__ import annotations

import dataclasses
import time

import cv2
import numpy as np
from scipy import ndimage
from skimage.transform import PiecewiseAffineTransform, warp

REGIONS = (("eye_l",), ("eye_r",), ("eyes_b",), ("nose",), ("mouth",), ("nose", "eye_l"), ("nose", "eye_r"),
           ("nose", "eyes_b"), ("nose", "mouth"), ("eyes_b", "nose", "mouth"))


def five_key(lm: np.ndarray) -> np.ndarray:
    """SLADD get_five_key: 9 int points (spec §3.1 table)."""
    L = lm.astype(np.float64)
    pts = [(L[36] + L[39]) / 2, (L[42] + L[45]) / 2, L[33], L[48], L[54], L[36], L[39], L[42], L[45]]
    return np.array(pts).astype(np.int32)


def region_mask(lm: np.ndarray, region: int, size: int = 256) -> np.ndarray:
    """cv2.line(thickness=2) between key points, then binary_dilation(iterations=d). uint8 {0,1}."""
    L = lm.astype(np.int32)  # dlib gives integer landmarks
    k = five_key(L)
    iod = np.linalg.norm(k[0] - k[1])
    prims = {
        "eye_l": (k[5], k[6], 4 * int(np.linalg.norm(k[5] - k[6]) // 4)),
        "eye_r": (k[7], k[8], 4 * int(np.linalg.norm(k[7] - k[8]) // 4)),
        "eyes_b": (k[0], k[1], int(iod // 4)),
        "nose": (k[2], ((k[0] + k[1]) / 2).astype(np.int32), int(iod // 4)),
        "mouth": (k[3], k[4], int(np.linalg.norm(k[3] - k[4]) // 3)),
    }
    out = np.zeros((size, size), np.uint8)
    for name in REGIONS[region]:
        a, b, d = prims[name]
        m = np.zeros((size, size), np.uint8)
        cv2.line(m, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), 1, thickness=2)
        if d > 0:  # scipy treats 0 iterations as "until convergence" (bug B3's full-image masks)
            m = ndimage.binary_dilation(m, iterations=d).astype(np.uint8)
        out |= m
    return out


def random_deform(mask: np.ndarray, rng: np.random.Generator, std: float = 10.0) -> np.ndarray:
    """SLADD random_deform(mask, 5, 5) with skimage's PiecewiseAffineTransform, bug B2 included."""
    h, w = mask.shape
    rows = np.linspace(0, h - 1, 5).astype(np.int32)
    cols = np.linspace(0, w - 1, 5).astype(np.int32)
    rows = rows + np.trunc(rng.normal(0, std, size=rows.shape)).astype(np.int32)
    rows = rows + np.trunc(rng.normal(0, std, size=cols.shape)).astype(np.int32)  # B2: meant for cols
    rows_g, cols_g = np.meshgrid(rows, cols)
    anchors = np.vstack([rows_g.flat, cols_g.flat]).T
    targets = np.clip(anchors + rng.normal(0, std, size=anchors.shape), 0, h - 1).astype(np.int32)
    tform = PiecewiseAffineTransform.from_estimate(anchors, targets)
    warped = warp(mask.astype(np.float64), tform, order=1, output_shape=(h, w))
    warped = warped * mask
    return cv2.GaussianBlur(warped.astype(np.float32), (5, 5), 3)


def five_points(lm: np.ndarray) -> np.ndarray:
    """face_blend.get_5_keypoint: int eye centres, nose tip L30, mouth corners."""
    L = lm.astype(np.int64)
    return np.array([(L[36] + L[39]) // 2, (L[42] + L[45]) // 2, L[30], L[48], L[54]], np.float64)


def umeyama(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Umeyama (1991) similarity src -> dst with scale, via SVD. Returns 2x3."""
    n = src.shape[0]
    ms, md = src.mean(0), dst.mean(0)
    sc, dc = src - ms, dst - md
    cov = dc.T @ sc / n
    U, S, Vt = np.linalg.svd(cov)
    D = np.eye(2)
    if np.linalg.det(U) * np.linalg.det(Vt) < 0:
        D[1, 1] = -1
    R = U @ D @ Vt
    var = (sc**2).sum() / n
    c = np.trace(np.diag(S) @ D) / var
    t = md - c * R @ ms
    return np.hstack([c * R, t[:, None]])


def mask_postprocess(mask: np.ndarray, morph_op: int, morph_k: int, blur_k: int) -> np.ndarray:
    """face_blend.mask_postprocess with explicit draws: 0 erode / 1 dilate / 2 none, then blur
    (blur_k == 1: none). uint8 {0,1} in and out."""
    kernel = np.ones((morph_k, morph_k), np.uint8)
    if morph_op == 0:
        mask = cv2.erode(mask, kernel, iterations=1)
    elif morph_op == 1:
        mask = cv2.dilate(mask, kernel, iterations=1)
    if blur_k > 1:
        mask = cv2.GaussianBlur(mask, (blur_k, blur_k), 0)
    return mask


def _lab_stats(lab: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = lab * mask[..., None]
    return x.reshape(-1, 3).mean(0), x.reshape(-1, 3).std(0)


def _scale_array(arr: np.ndarray) -> np.ndarray:
    lo, hi = max(arr.min(), 0), min(arr.max(), 255)
    if arr.min() < lo or arr.max() > hi:
        return (hi - lo) * (arr - arr.min()) / (arr.max() - arr.min()) + lo
    return arr


def color_transfer(mode: int, fake: np.ndarray, real: np.ndarray, mask: np.ndarray, lm_target: np.ndarray) -> np.ndarray:
    """The 4 colour modes (spec §3.4). fake, real uint8 HxWx3 RGB; mask {0,1} HxW."""
    m = mask.astype(np.float32)
    if mode == 0:  # rct-m, BGR2LAB on RGB data (B11)
        lf = cv2.cvtColor(fake, cv2.COLOR_BGR2LAB).astype(np.float32)
        lr = cv2.cvtColor(real, cv2.COLOR_BGR2LAB).astype(np.float32)
        mu_f, sd_f = _lab_stats(lf, m)
        mu_r, sd_r = _lab_stats(lr, m)
        out = (lf - mu_f) * (sd_r / np.maximum(sd_f, 1e-6)) + mu_r
        out = np.stack([_scale_array(out[..., c]) for c in range(3)], -1)
        return cv2.cvtColor(out.astype(np.uint8), cv2.COLOR_LAB2BGR)
    if mode == 1:  # rct-fs
        sel = m > 0
        out = fake.astype(np.float32)
        out[sel] = out[sel] - out[sel].mean(0) + real[sel].astype(np.float32).mean(0)
        return np.clip(out, 0, 255).astype(np.uint8)
    if mode == 2:  # avg-align
        f = fake.astype(np.float32) / 255 * m[..., None]
        r = real.astype(np.float32) / 255 * m[..., None]
        shift = r.reshape(-1, 3).mean(0) - f.reshape(-1, 3).mean(0)
        return (np.clip(f + shift, 0, 1) * 255).astype(np.uint8)
    # faceswap correct_colours on masked images
    k = int(0.75 * np.linalg.norm(lm_target[42:48].mean(0) - lm_target[36:42].mean(0)))
    k += 1 - k % 2
    k = min(k, 2 * ((fake.shape[0] - 1) // 2) - 1)
    fm = (fake * m[..., None]).astype(np.uint8)
    rm = (real * m[..., None]).astype(np.uint8)
    g_r = cv2.GaussianBlur(rm, (k, k), 0)
    g_f = cv2.GaussianBlur(fm, (k, k), 0).astype(np.float64)
    g_f += 128 * (g_f <= 1.0)
    return np.clip(fm.astype(np.float64) * g_r / g_f, 0, 255).astype(np.uint8)


def alpha_blend(src: np.ndarray, real: np.ndarray, mask: np.ndarray, feather: float) -> np.ndarray:
    """faceswap blendImages with pointPolygonTest(measureDist=False): weight clip(d/F) with d = +1
    inside the hull, 0 on it, F = feather * max(faceSize), faceSize = max(pts) - min(pts)."""
    ys, xs = np.nonzero(mask)
    pts = np.stack([xs, ys], 1).astype(np.int32)
    hull = cv2.convexHull(pts)
    F = feather * np.max(pts.max(0) - pts.min(0))
    alpha = 1.0 if F <= 1 else 1.0 / F
    inside = np.zeros(mask.shape, np.uint8)
    cv2.fillConvexPoly(inside, hull, 1)
    cv2.polylines(inside, [hull], True, 0)  # d = 0 on the hull outline
    wgt = np.zeros(mask.shape, np.float64)
    wgt[(mask > 0) & (inside > 0)] = alpha
    out = real.astype(np.float64) * (1 - wgt[..., None]) + src.astype(np.float64) * wgt[..., None]
    return out.astype(np.uint8)


@dataclasses.dataclass
class Draws:
    """One sample's random draws, named as in sladd_fast.synthesis.SynthesisParams."""

    morph_op: int
    morph_k: int
    blur_k: int
    color_mode: int
    feather: float


def draw(rng: np.random.Generator) -> Draws:
    u = rng.random()
    return Draws(0 if u < 0.3 else (1 if u < 0.6 else 2), 2 * int(rng.integers(1, 10)) + 1,
                 2 * int(rng.integers(1, 10)) - 1 if rng.random() < 0.9 else 1, int(rng.integers(0, 4)),
                 0.2 * rng.random())


def synthesize_one(target: np.ndarray, source: np.ndarray, lm_t: np.ndarray, lm_s: np.ndarray, region: int,
                   blend_type: int, ratio: float, rng: np.random.Generator,
                   timings: dict[str, float] | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """One forgery, SLADD-style. target/source uint8 HxWx3 RGB; returns (image, tgt_mask, applied).

    ``timings``, if given, accumulates the seconds spent per stage (region, deform, align, postprocess,
    colour, blend) so a benchmark can say where the per-sample time goes.
    """
    clock = _StageClock(timings)
    size = target.shape[0]
    if blend_type == 3:
        return target, np.zeros(target.shape[:2], np.uint8), False
    d = draw(rng)
    m = region_mask(lm_s, region, size)
    clock.lap("region")
    m_d = random_deform(m, rng)
    clock.lap("deform")
    M = umeyama(five_points(lm_s), five_points(lm_t))
    aligned = cv2.warpAffine(source, M, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    src_mask = (cv2.warpAffine(m_d, M, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT) > 0)
    clock.lap("align")
    tgt_mask = mask_postprocess(src_mask.astype(np.uint8), d.morph_op, d.morph_k, d.blur_k)
    clock.lap("postprocess")
    src_crop = color_transfer(d.color_mode, aligned, target, tgt_mask, lm_t)
    clock.lap("colour")
    if tgt_mask.mean() < 0.005 or src_crop.max() == 0:
        return target, np.zeros_like(tgt_mask), False
    if blend_type == 0:
        out = alpha_blend(src_crop, target, tgt_mask, d.feather)
    elif blend_type == 1:
        x, y, w, h = cv2.boundingRect(tgt_mask)
        out = cv2.seamlessClone(src_crop, target, 255 * tgt_mask, (x + w // 2, y + h // 2), cv2.NORMAL_CLONE)
    else:
        mk = tgt_mask[..., None].astype(np.float64)
        out = (target + mk * ratio * (src_crop.astype(np.float64) - target)).astype(np.uint8)
    clock.lap("blend")
    return out, tgt_mask, True


class _StageClock:
    """Adds the time since the previous lap to timings[stage]; does nothing without a dict."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        if self.timings is not None:
            now = time.perf_counter()
            self.timings[stage] = self.timings.get(stage, 0.0) + now - self.last
            self.last = now


def mask_target(mask: np.ndarray) -> np.ndarray:
    """cv2.resize(mask, (16,16), INTER_CUBIC) of the uint8 0/1 mask."""
    return cv2.resize(mask.astype(np.uint8), (16, 16), interpolation=cv2.INTER_CUBIC)
