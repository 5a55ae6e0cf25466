"""Per-sample Self-Blended Images, as mapooon/SelfBlendedImages runs it: the speed baseline of
bench_augment --mode sbi and the fidelity reference of the batched mode.

``sbi_one`` writes each albumentations step SBI uses as the OpenCV calls it makes (RGBShift and
RandomBrightnessContrast as uint8 lookup tables, HueSaturationValue through cv2.cvtColor, Sharpen as
cv2.filter2D, RandomDownScale as two cv2.resize, Affine as cv2.warpAffine, ElasticTransform as its
default exact path: a random field blurred by scipy's gaussian_filter, then cv2.remap), equal to
albumentations 1.1.0's own calls on the same parameters (tested), so that it can take one sample's
draws (from SbiParams: the batched mode is compared with it on the same parameters) or draw them
itself. ``SbiAlbumentations`` is SBI's path through albumentations itself: the speed baseline.
"""
from __future__ import annotations

import random

import cv2
import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from sladd_fast.augment.common import sample_draws
from sladd_fast.augment.sbi import BLEND_RATIOS, elastic_noise


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


def _affine(img: np.ndarray, mask: np.ndarray, scale, translate) -> tuple[np.ndarray, np.ndarray]:
    """alb.Affine with the drawn scale (x, y) and translate_percent (x, y): image bilinear, mask
    nearest, zero border."""
    H, W = mask.shape
    sx, sy = (float(v) for v in scale)
    cx, cy = (W - 1) / 2, (H - 1) / 2  # albumentations scales about the centre pixel
    M = np.array([[sx, 0, (1 - sx) * cx + translate[0] * W], [0, sy, (1 - sy) * cy + translate[1] * H]])
    return (cv2.warpAffine(img, M, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT),
            cv2.warpAffine(mask, M, (W, H), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT))


def _elastic_mask(mask: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """alb.ElasticTransform(alpha=50, sigma=7, alpha_affine=0) on a mask, for the noise [2,H,W] in
    [-1, 1) it draws: its exact path (approximate=False: scipy, float64, truncate 4, mode 'reflect'),
    nearest, BORDER_REFLECT_101. (Its identity affine step is left out: it moves nothing.)"""
    H, W = mask.shape
    dx = np.float32(gaussian_filter(noise[0], 7) * 50)
    dy = np.float32(gaussian_filter(noise[1], 7) * 50)
    xs, ys = np.meshgrid(np.arange(W, dtype=np.float32), np.arange(H, dtype=np.float32))
    return cv2.remap(mask, xs + dx, ys + dy, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT_101)


def _hull_mask(landmark: np.ndarray, H: int, W: int) -> np.ndarray:
    """SBI's mask: the landmarks' convex hull filled with 1 (uint8 HxW)."""
    mask = np.zeros((H, W), np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(landmark.astype(np.int32)), 1)
    return mask


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
    mask = _hull_mask(landmark, H, W)
    source = img.copy()
    if d["on_source"]:
        source = _quality(source, d, hsv)
    else:
        img = _quality(img, d, hsv)
    source, mask = _affine(source, mask, d["scale"], d["translate"])
    mask = _elastic_mask(mask, _noise(d, H))
    m = _blend_mask(mask, d) * float(d["ratio"])
    return (m * source + (1 - m) * img).astype(np.uint8), m


def _draw(size: int, rng: np.random.Generator) -> dict:
    """One sample's draws as SBI makes them (numpy and Python's random)."""
    return {"drop_forehead": rng.random() < 0.25, "on_source": rng.random() < 0.5, "rgb_on": rng.random() < 0.3,
            "rgb_shift": rng.uniform(-20, 20, 3), "hsv": tuple(rng.uniform(-0.3, 0.3, 3)),
            "brightness": rng.uniform(-0.1, 0.1), "contrast": rng.uniform(-0.1, 0.1),
            "downscale": rng.random() < 0.5, "down_ratio": [2, 4][rng.integers(2)],
            "sharpen_alpha": rng.uniform(0.2, 0.5), "sharpen_lightness": rng.uniform(0.5, 1.0),
            "translate": (rng.uniform(-0.03, 0.03), rng.uniform(-0.015, 0.015)),
            "scale": rng.uniform(0.95, 1 / 0.95, 2),  # x and y apart, as albumentations' Affine
            "elastic_noise": rng.random((2, size, size), dtype=np.float32) * 2 - 1,
            "resize_hw": rng.integers(192, 257, 2), "k1": random.randrange(5, 26, 2), "k2": random.randrange(5, 26, 2),
            "sigma2": rng.integers(5, 46), "ratio": BLEND_RATIOS[rng.integers(6)]}


class SbiAlbumentations:
    """SBI's per-sample path with albumentations itself, as mapooon/SelfBlendedImages calls it: the
    speed baseline of ``bench_augment --mode sbi`` (issue 10 fixed it as SBI's own cv2 and
    albumentations steps). albumentations 1.x (1.1.0 in requirements-dev.txt, the release current when
    SBI was published; its code needs the 1.x API: ``alpha_affine``). As in SBI's dataset, the source
    transforms are built once and ``randaffine``'s Affine and ElasticTransform at every call. What
    the library does and the OpenCV spelling skips is kept: ElasticTransform warps the image too (SBI
    keeps only the mask) and draws and blurs its displacement field once for the image and again for
    the mask. The scope is SBI's ``self_blending`` (hull mask, source transforms, randaffine,
    dynamic_blend), as the batched mode: not its optional Face X-ray hull library, flips, face crops
    or the whole-image transforms after the blend.

    albumentations 1.x and SBI draw from numpy's and Python's global generators. The instance keeps
    its own states of both, seeded from ``seed``, and swaps them in only while it runs, so the caller's
    generators are left as they were and a seed replays. (The draws are not SbiParams: ``sbi_one`` is
    the reference for same-parameter comparisons.)

    ``__call__(img, landmark)`` -> (blended uint8 HxWx3, blend mask float HxWx1) for one RGB uint8
    image and its 68/81 landmarks. Raises ImportError where albumentations is not installed.
    """

    def __init__(self, seed: int = 0) -> None:
        import warnings

        with warnings.catch_warnings():  # 1.1.0 imports scipy.ndimage.filters (deprecated namespace)
            warnings.simplefilter("ignore", DeprecationWarning)
            import albumentations as alb

        if not alb.__version__.startswith("1."):
            raise ImportError(f"SBI's code needs albumentations 1.x (ElasticTransform's alpha_affine), got "
                              f"{alb.__version__}: pip install albumentations==1.1.0")
        self.alb = alb

        class RandomDownScale(alb.core.transforms_interface.ImageOnlyTransform):  # SBI's own (src/utils/sbi.py)
            def apply(self, img: np.ndarray, **params) -> np.ndarray:
                H, W = img.shape[:2]
                r = [2, 4][np.random.randint(2)]
                small = cv2.resize(img, (int(W / r), int(H / r)), interpolation=cv2.INTER_NEAREST)
                return cv2.resize(small, (W, H), interpolation=cv2.INTER_LINEAR)

        self.source = alb.Compose([
            alb.Compose([alb.RGBShift((-20, 20), (-20, 20), (-20, 20), p=0.3),
                         alb.HueSaturationValue(hue_shift_limit=(-0.3, 0.3), sat_shift_limit=(-0.3, 0.3),
                                                val_shift_limit=(-0.3, 0.3), p=1),
                         alb.RandomBrightnessContrast(brightness_limit=(-0.1, 0.1), contrast_limit=(-0.1, 0.1), p=1)],
                        p=1),
            alb.OneOf([RandomDownScale(p=1), alb.Sharpen(alpha=(0.2, 0.5), lightness=(0.5, 1.0), p=1)], p=1),
        ], p=1.0)
        self._np_state = np.random.RandomState(seed).get_state()
        self._py_state = random.Random(seed).getstate()

    def _randaffine(self, img: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """SBI's randaffine: its two transforms built at every call, as SBI builds them."""
        f = self.alb.Affine(translate_percent={"x": (-0.03, 0.03), "y": (-0.015, 0.015)}, scale=[0.95, 1 / 0.95],
                            fit_output=False, p=1)
        g = self.alb.ElasticTransform(alpha=50, sigma=7, alpha_affine=0, p=1)
        out = f(image=img, mask=mask)
        img, mask = out["image"], out["mask"]
        return img, g(image=img, mask=mask)["mask"]

    def __call__(self, img: np.ndarray, landmark: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        caller_np, caller_py = np.random.get_state(), random.getstate()
        np.random.set_state(self._np_state)
        random.setstate(self._py_state)
        try:
            return self._self_blending(img, landmark)
        finally:
            self._np_state, self._py_state = np.random.get_state(), random.getstate()
            np.random.set_state(caller_np)
            random.setstate(caller_py)

    def _self_blending(self, img: np.ndarray, landmark: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        H, W = img.shape[:2]
        if np.random.rand() < 0.25:
            landmark = landmark[:68]
        mask = _hull_mask(landmark, H, W)
        source = img.copy()
        if np.random.rand() < 0.5:
            source = self.source(image=source)["image"]
        else:
            img = self.source(image=img)["image"]
        source, mask = self._randaffine(source, mask)
        d = {"resize_hw": np.random.randint(192, 257, 2), "k1": random.randrange(5, 26, 2),
             "k2": random.randrange(5, 26, 2), "sigma2": np.random.randint(5, 46)}
        m = _blend_mask(mask, d) * BLEND_RATIOS[np.random.randint(6)]
        return (m * source + (1 - m) * img).astype(np.uint8), m
