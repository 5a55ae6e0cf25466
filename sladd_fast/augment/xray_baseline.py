"""Per-sample Face X-ray blending as AlgoHunt/Face-Xray's BIOnlineGeneration runs it (numpy,
OpenCV, scikit-image, PIL): the speed baseline of bench_augment --mode xray and the fidelity
reference of the batched mode (sladd_fast.augment.xray).

The steps keep the original's libraries and calls: the nearest-landmark scan in a Python loop,
skimage.transform.resize, DeepFakeMask's cv2.fillConvexPoly hulls, random_erode_dilate's
cv2.erode/dilate, colorTransfer and blendImages (a cv2.pointPolygonTest per mask pixel), PIL's
resize and cv2's JPEG round trip. imgaug (not installable next to numpy 2) is replaced by the two
calls its PiecewiseAffine makes: skimage PiecewiseAffineTransform.estimate and skimage.transform.warp
(order 1, constant 0), then the float32 cast imgaug returns. Sizes scale with the image (the original
works on 317 px frames). ``xray_one`` takes one sample's draws (``draws(params, k)``, so the batched
mode can be compared on the same parameters) or draws them as the original does.
"""
from __future__ import annotations

import random

import cv2
import numpy as np
from PIL import Image
from skimage import transform as sktransform

from sladd_fast.augment.common import sample_draws
from sladd_fast.augment.xray import POST_MIN, WORK_MIN, _scaled


def draws(p, k: int) -> dict:
    """Sample k's draws from an XrayParams, as plain numbers and arrays."""
    return sample_draws(p, k)


def _hull(mask: np.ndarray, pts: np.ndarray, aa: bool = False) -> None:
    cv2.fillConvexPoly(mask, cv2.convexHull(pts), 255.0, lineType=cv2.LINE_AA if aa else cv2.LINE_8)


def hull_mask(lm: np.ndarray, hull_type: int, shape: tuple[int, int]) -> np.ndarray:
    """DeepFakeMask's dfl_full / extended / components / facehull on int32 landmarks, float32 in [0,1]."""
    mask = np.zeros(shape, np.float32)
    if hull_type == 3:
        _hull(mask, lm.reshape(-1, 2), aa=True)
        return mask / 255
    lm = lm.copy()
    if hull_type == 0:
        parts = [(lm[0:17], lm[48:68], lm[0:1], lm[8:9], lm[16:17]), (lm[27:31], lm[33:34]),
                 (lm[17:27], lm[0:1], lm[27:28], lm[16:17], lm[33:34])]
    else:
        if hull_type == 1:  # extended: eyebrows pushed up the forehead
            ml, mr = (lm[36] + lm[0]) // 2, (lm[16] + lm[45]) // 2
            ql, qr = (lm[36] + ml) // 2, (lm[45] + mr) // 2
            bot_l = np.array((ql, lm[36], lm[37], lm[38], lm[39]))
            bot_r = np.array((lm[42], lm[43], lm[44], lm[45], qr))
            top_l, top_r = lm[17:22].copy(), lm[22:27].copy()
            lm[17:22] = top_l + ((top_l - bot_l) // 2)
            lm[22:27] = top_r + ((top_r - bot_r) // 2)
        parts = [(lm[0:9], lm[17:18]), (lm[8:17], lm[26:27]), (lm[17:20], lm[8:9]), (lm[24:27], lm[8:9]),
                 (lm[19:25], lm[8:9]), (lm[17:22], lm[27:28], lm[31:36], lm[8:9]),
                 (lm[22:27], lm[27:28], lm[31:36], lm[8:9]), (lm[27:31], lm[31:36])]
    for item in parts:
        _hull(mask, np.concatenate(item))
    return mask / 255


def piecewise_affine(mask: np.ndarray, jitter: np.ndarray, scale: float) -> np.ndarray:
    """imgaug PiecewiseAffine(nb_rows=nb_cols=4) on a float32 mask with the given N(0,1) jitter
    [4,4,2] (dy, dx) and scale: the transform it estimates and the warp it runs."""
    h, w = mask.shape
    yy, xx = np.meshgrid(np.linspace(0, h, 4), np.linspace(0, w, 4), indexing="ij")
    src = np.dstack([yy.flat, xx.flat])[0]
    jit = jitter.reshape(-1, 2).astype(np.float64) * scale
    dst = src + jit * np.array([h, w])
    dst[:, 0] = np.clip(dst[:, 0], 0, h - 1)
    dst[:, 1] = np.clip(dst[:, 1], 0, w - 1)
    if hasattr(sktransform.PiecewiseAffineTransform, "from_estimate"):  # skimage >= 0.26
        tform = sktransform.PiecewiseAffineTransform.from_estimate(src[:, ::-1], dst[:, ::-1])
    else:
        tform = sktransform.PiecewiseAffineTransform()
        tform.estimate(src[:, ::-1], dst[:, ::-1])
    out = sktransform.warp(mask, tform, order=1, mode="constant", cval=0, preserve_range=True)
    return out.astype(np.float32)


def random_erode_dilate(mask: np.ndarray, erode: bool, k: int) -> np.ndarray:
    m = np.array(mask).astype(np.uint8) * 255
    kernel = np.ones((k, k), np.uint8)
    return (cv2.erode(m, kernel, 1) if erode else cv2.dilate(m, kernel, 1)) / 255


def color_transfer(src: np.ndarray, dst: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """FaceSwap's colorTransfer as BI uses it: dst's mean colour in the mask moved to src's."""
    out = np.copy(dst)
    idx = np.where(mask != 0)
    ms = src[idx[0], idx[1]].astype(np.int32)
    md = dst[idx[0], idx[1]].astype(np.int32)
    md = np.clip(md - np.mean(md, axis=0) + np.mean(ms, axis=0), 0, 255)
    out[idx[0], idx[1]] = md
    return out


def blend_images(src: np.ndarray, dst: np.ndarray, mask: np.ndarray, feather: float = 0.2):
    """FaceSwap's blendImages: weights from cv2.pointPolygonTest to the mask's convex hull."""
    idx = np.where(mask != 0)
    pts = np.hstack((idx[1][:, None], idx[0][:, None]))
    face = np.max(pts, axis=0) - np.min(pts, axis=0)
    feather = feather * np.max(face)
    hull = cv2.convexHull(pts)
    dists = np.zeros(pts.shape[0])
    for i in range(pts.shape[0]):
        dists[i] = cv2.pointPolygonTest(hull, (float(pts[i, 0]), float(pts[i, 1])), True)
    weights = np.clip(dists / feather, 0, 1)
    out = np.copy(dst)
    out[idx[0], idx[1]] = weights[:, None] * src[idx[0], idx[1]] + (1 - weights[:, None]) * dst[idx[0], idx[1]]
    new_mask = np.zeros_like(dst).astype(np.float32)
    new_mask[idx[0], idx[1]] = weights[:, None]
    return out, new_mask


def xray_one(target: np.ndarray, partner: np.ndarray, landmark: np.ndarray, d: dict | None = None,
             rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """(image uint8 HxWx3, mask float HxWx1, blended) for one RGB target, its chosen partner and the
    target's landmarks ([68|81, 2]); ``d``: the sample's draws, or None to draw them from ``rng``."""
    S = target.shape[0]
    if d is None:
        d = _draw(S, rng or np.random.default_rng())
    blended, mask = target, np.zeros((S, S, 1))
    if d["apply"] and d["partner_ok"]:
        n = int(d["work_size"])
        lm = landmark * (n / S)
        fg = sktransform.resize(partner, (n, n), preserve_range=True).astype(np.uint8)
        bg = sktransform.resize(target, (n, n), preserve_range=True).astype(np.uint8)
        m = hull_mask(lm.astype("int32"), int(d["hull_type"]), (n, n))
        m = piecewise_affine(m, np.asarray(d["deform_jitter"]), float(d["deform_scale"]))
        m = random_erode_dilate(m, bool(d["erode"]), int(d["morph_k"]))
        if np.sum(m) > 0:  # the original raises here and its loader retries
            m3 = np.repeat(m[..., None], 3, 2)
            fg = color_transfer(bg, fg, m3 * 255)
            out, wm = blend_images(fg, bg, m3 * 255)
            blended = sktransform.resize(out.astype(np.uint8), (S, S), preserve_range=True).astype(np.uint8)
            mask = sktransform.resize(wm, (S, S), preserve_range=True)[:, :, 0:1]
    img = blended
    if d["post_resize"]:
        a = int(d["post_size"])
        pil = Image.fromarray(img).resize((a, a), Image.NEAREST if d["post_nearest"] else Image.BILINEAR)
        img = np.array(pil.resize((S, S), Image.BILINEAR))
    if d["jpeg"]:
        enc = cv2.imencode(".jpg", img, [int(cv2.IMWRITE_JPEG_QUALITY), int(d["quality"])])[1]
        img = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    return img, mask, blended is not target


def search_similar_face(landmark: np.ndarray, vid, candidates: list[tuple[np.ndarray, object]]) -> int:
    """BI's linear scan: the index of the candidate (landmarks, video id) nearest to ``landmark``."""
    best, arg = 99999999.0, -1
    for i, (cl, cv) in enumerate(candidates):
        if cv == vid:
            continue
        dist = np.sum(np.linalg.norm(cl.astype(np.float32) - landmark, axis=1))
        if dist < best:
            best, arg = dist, i
    return arg


def _draw(size: int, rng: np.random.Generator) -> dict:
    """One sample's draws as the original makes them (Python's random and numpy)."""
    erode = random.random() > 0.5
    k = random.randint(1, 21) if erode else random.randint(1, 5)
    return {"apply": True, "partner_ok": True, "work_size": random.randint(_scaled(WORK_MIN, size), size),
            "hull_type": random.choice([0, 1, 2, 3]), "deform_scale": rng.uniform(0.01, 0.15),
            "deform_jitter": rng.standard_normal((4, 4, 2)), "erode": erode, "morph_k": k + (k % 2 == 0),
            "post_resize": random.randint(0, 1) == 1, "post_size": random.randint(_scaled(POST_MIN, size), size),
            "post_nearest": random.randint(0, 1) == 1, "jpeg": random.randint(0, 1) == 1,
            "quality": random.randint(60, 100)}
