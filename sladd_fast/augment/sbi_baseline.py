"""Per-sample Self-Blended Images, as mapooon/SelfBlendedImages runs it, in numpy / OpenCV: the speed
baseline of bench_augment --mode sbi and the fidelity reference of the batched mode.

albumentations is not a dependency: each of its steps SBI uses is written as the OpenCV calls it makes
(RGBShift and RandomBrightnessContrast as uint8 lookup tables, HueSaturationValue through
cv2.cvtColor, Sharpen as cv2.filter2D, RandomDownScale as two cv2.resize, Affine as cv2.warpAffine,
ElasticTransform as its default exact path: a random field blurred by scipy's gaussian_filter, then
cv2.remap). ``sbi_one`` takes one sample's draws (from
SbiParams, so the batched mode can be compared on the same parameters) or draws them itself.
"""
from __future__ import annotations

import random

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter

from sladd_fast.augment.common import sample_draws


def draws(p, k: int) -> dict:
    """Sample k's draws from an SbiParams, as plain numbers and arrays (hsv_shift as "hsv", a tuple of
    Python floats, the type albumentations' shifts have)."""
    d = sample_draws(p, k, skip=("hsv_shift",))
    d["hsv"] = tuple(float(x) for x in p.hsv_shift[k].tolist())
    return d


def _noise(d: dict, size: int) -> np.ndarray:
    """The sample's elastic noise [2,size,size] in [-1, 1): drawn (``elastic_noise``) or, for the batched
    mode's draws, expanded from its seed (``elastic_seed``)."""
    if "elastic_noise" in d:
        return np.asarray(d["elastic_noise"], np.float64)
    import torch

    from sladd_fast.augment.sbi import elastic_noise

    return elastic_noise(torch.tensor([int(d["elastic_seed"])]), size)[0].double().numpy()


def _hsv(img: np.ndarray, shifts: tuple[float, float, float]) -> np.ndarray:
    """albumentations' uint8 HueSaturationValue (lookup tables on OpenCV's HSV)."""
    h, s, v = cv2.split(cv2.cvtColor(img, cv2.COLOR_RGB2HSV))
    ar = np.arange(256, dtype=np.int16)
    h = cv2.LUT(h, np.mod(ar + shifts[0], 180).astype(np.uint8))
    s = cv2.LUT(s, np.clip(ar + shifts[1], 0, 255).astype(np.uint8))
    v = cv2.LUT(v, np.clip(ar + shifts[2], 0, 255).astype(np.uint8))
    return cv2.cvtColor(cv2.merge([h, s, v]), cv2.COLOR_HSV2RGB)


def _quality(img: np.ndarray, d: dict, hsv: tuple[float, float, float]) -> np.ndarray:
    H, W = img.shape[:2]
    ar = np.arange(256, dtype=np.float32)
    if d["rgb_on"]:
        img = np.dstack([cv2.LUT(img[..., c], np.clip(ar + d["rgb_shift"][c], 0, 255).astype(np.uint8))
                         for c in range(3)])
    img = _hsv(img, hsv)
    lut = np.clip(ar * (1 + d["contrast"]) + d["brightness"] * 255, 0, 255).astype(np.uint8)
    img = cv2.LUT(img, lut)
    if d["downscale"]:
        r = int(d["down_ratio"])
        small = cv2.resize(img, (int(W / r), int(H / r)), interpolation=cv2.INTER_NEAREST)
        return cv2.resize(small, (W, H), interpolation=cv2.INTER_LINEAR)
    a, lt = d["sharpen_alpha"], d["sharpen_lightness"]
    k = (1 - a) * np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], np.float32) + a * np.array(
        [[-1, -1, -1], [-1, 8 + lt, -1], [-1, -1, -1]], np.float32)
    return cv2.filter2D(img, -1, k)


def _blend_mask(mask: np.ndarray, d: dict) -> np.ndarray:
    H, W = mask.shape
    m = cv2.resize(mask, (int(d["resize_hw"][1]), int(d["resize_hw"][0])))
    k1, k2 = int(d["k1"]), int(d["k2"])
    m = cv2.GaussianBlur(m, (k1, k1), 0)
    m = m / m.max()
    m[m < 1] = 0
    m = cv2.GaussianBlur(m, (k2, k2), int(d["sigma2"]))
    m = m / m.max()
    return cv2.resize(m, (W, H))[..., None]


def sbi_one(img: np.ndarray, landmark: np.ndarray, d: dict | None = None,
            rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(blended uint8 HxWx3, blend mask float HxWx1) for one RGB uint8 image and its 68/81 landmarks.
    ``d``: the sample's draws (``draws(params, k)``); None draws them as SBI does, from ``rng``."""
    H, W = img.shape[:2]
    if d is None:
        d = _draw(H, rng or np.random.default_rng())
    hsv = d["hsv"]  # (hue, saturation, value) shifts in uint8 units
    if len(landmark) == 81 and d["drop_forehead"]:
        landmark = landmark[:68]
    mask = np.zeros((H, W), np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(landmark.astype(np.int32)), 1)
    source = img.copy()
    if d["on_source"]:
        source = _quality(source, d, hsv)
    else:
        img = _quality(img, d, hsv)
    s = float(d["scale"])
    cx, cy = (W - 1) / 2, (H - 1) / 2  # albumentations scales about the centre pixel
    M = np.array([[s, 0, (1 - s) * cx + d["translate"][0] * W], [0, s, (1 - s) * cy + d["translate"][1] * H]])
    source = cv2.warpAffine(source, M, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    mask = cv2.warpAffine(mask, M, (W, H), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
    noise = _noise(d, H)  # albumentations' default, approximate=False:
    dx = np.float32(gaussian_filter(noise[0], 7) * 50)  # scipy, float64, truncate 4, mode 'reflect'
    dy = np.float32(gaussian_filter(noise[1], 7) * 50)
    xs, ys = np.meshgrid(np.arange(W, dtype=np.float32), np.arange(H, dtype=np.float32))
    mask = cv2.remap(mask, xs + dx, ys + dy, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT_101)
    m = _blend_mask(mask, d) * float(d["ratio"])
    blended = (m * source + (1 - m) * img).astype(np.uint8)
    return blended, m


def _draw(size: int, rng: np.random.Generator) -> dict:
    """One sample's draws as SBI makes them (numpy and Python's random)."""
    return {"drop_forehead": rng.random() < 0.25, "on_source": rng.random() < 0.5, "rgb_on": rng.random() < 0.3,
            "rgb_shift": rng.uniform(-20, 20, 3), "hsv": tuple(rng.uniform(-0.3, 0.3, 3)),
            "brightness": rng.uniform(-0.1, 0.1), "contrast": rng.uniform(-0.1, 0.1),
            "downscale": rng.random() < 0.5, "down_ratio": [2, 4][rng.integers(2)],
            "sharpen_alpha": rng.uniform(0.2, 0.5), "sharpen_lightness": rng.uniform(0.5, 1.0),
            "translate": (rng.uniform(-0.03, 0.03), rng.uniform(-0.015, 0.015)), "scale": rng.uniform(0.95, 1 / 0.95),
            "elastic_noise": rng.random((2, size, size), dtype=np.float32) * 2 - 1,
            "resize_hw": rng.integers(192, 257, 2), "k1": random.randrange(5, 26, 2), "k2": random.randrange(5, 26, 2),
            "sigma2": rng.integers(5, 46), "ratio": [0.25, 0.5, 0.75, 1, 1, 1][rng.integers(6)]}
