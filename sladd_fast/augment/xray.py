"""Face X-ray mode (Li et al., CVPR 2020): blended images (BI) with their boundary target, batched.

The recipe, as the BI generator that SBI and DeepfakeBench use does it (AlgoHunt/Face-Xray,
bi_online_generation.py and DeepFakeMask.py), one draw per sample:
1. partner: the face with the nearest landmarks (sum over the 68 points of the Euclidean
   distances) of another video: here among the batch or a given pool (the original scans 5,000
   random frames);
2. both faces resized to a random work size (128..317 of 317, scaled to the image size) by
   skimage.transform.resize (anti-aliased, linear; truncated to uint8), landmarks scaled and
   truncated to integers;
3. a hull mask of a random type: dfl_full (3 convex parts), extended (8 parts, eyebrows pushed up
   the forehead), components (8 parts) or facehull (the hull of every landmark, the 13 forehead
   points included when 81 are given);
4. imgaug PiecewiseAffine(scale 0.01..0.15): a 4x4 grid of anchors (linspace(0, size, 4)) jittered by
   N(0, scale * size), clipped to the image; the mask is warped (bilinear, zero outside) and then
   truncated to {0, 1} (only pixels that stay exactly 1 survive);
5. random_erode_dilate: half the time a k x k erosion, k odd in 1..21 (randint(1, 21), even + 1),
   else a dilation, k in 1..5; an empty mask leaves the sample real;
6. colorTransfer: the partner's mean colour inside the mask moved to the target's (int32 means,
   clip, truncation);
7. blendImages (featherAmount 0.2): weight = clip(distance to the convex hull of the mask /
   (0.2 * the mask's larger side), 0, 1) on mask pixels; composed = w * partner + (1 - w) * target,
   truncated to uint8;
8. image and weights resized back (skimage, linear); the target is 4 * M * (1 - M);
9. for every sample (reals too): half the time PIL resize to 64..317 (bilinear or nearest, evenly)
   and back (bilinear); half the time JPEG at quality 60..100 through cv2 (the RGB array taken as
   BGR: replicated).
Not done here: the original's final crop [60:317, 30:287] and horizontal flip (dataset layout, not
the blend: do them in your own pipeline), and its 50% real/fake coin (``p`` plays that role).
Ours and whose: hull masks (csrc hull_mask), the deformation's per-pixel map (csrc
piecewise_affine_grid), erosion/dilation (csrc morph_square), the feather weights (csrc
hull_feather), the colour transfer and blend (csrc xray_blend), resizes as per-sample taps
(augment/resample.py, the libraries' filters exactly, csrc resize_u8 and resample_taps), the JPEG
round trip emulated on the device (csrc jpeg_round_trip, augment/jpeg.py); the rest is batched
PyTorch. kornia is not used: its JPEG is a differentiable approximation and its resize has one output
size per batch.
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sladd_fast.augment.common import (AugmentResult, FacePool, check_partner_rows, checked_generator,
                                       checked_pair_inputs, checked_params, from_u8, warn_if_reference)
from sladd_fast.augment.jpeg import jpeg_round_trip
from sladd_fast.augment.resample import pil_taps, resize, resize_u8, skimage_taps
from sladd_fast.ops._dispatch import op
from sladd_fast.ops.blend import xray_blend
from sladd_fast.ops.masks import hull_mask
from sladd_fast.synthesis.filters import morph_square

REF_SIZE = 317  # the original's frame size; its size ranges scale to the caller's image size
WORK_MIN, POST_MIN = 128, 64
FEATHER = 0.2
MESH = 4  # imgaug PiecewiseAffine's default nb_rows = nb_cols = 4
SEARCH_CHUNK = 512  # pool rows per distance block (memory: B x chunk x 68 x 2 floats)
HULL_TYPES = ("dfl_full", "extended", "components", "facehull")
HULL_CHUNK = 65535  # samples per hull_mask call (each with its 8 parts): within a CUDA grid's 65535 rows


def _r(a: int, b: int) -> list[int]:
    return list(range(a, b))


# DeepFakeMask's parts, as landmark index lists (extended = components on moved eyebrow points).
_COMPONENTS = [_r(0, 9) + [17], _r(8, 17) + [26], _r(17, 20) + [8], _r(24, 27) + [8], _r(19, 25) + [8],
               _r(17, 22) + [27] + _r(31, 36) + [8], _r(22, 27) + [27] + _r(31, 36) + [8], _r(27, 31) + _r(31, 36)]
_PARTS = {
    "dfl_full": [_r(0, 17) + _r(48, 68) + [0, 8, 16], _r(27, 31) + [33], _r(17, 27) + [0, 27, 16, 33]],
    "extended": _COMPONENTS,
    "components": _COMPONENTS,
}


@dataclasses.dataclass(frozen=True)
class XrayParams:
    """Every draw of one call ([B] tensors on the images' device unless noted)."""

    apply: torch.Tensor  # bool: make a blended image (probability p)
    partner: torch.Tensor  # int64: the nearest face's row (batch or pool)
    partner_ok: torch.Tensor  # bool: a face of another video was found
    work_size: torch.Tensor  # int64: side of the blend's working resolution
    hull_type: torch.Tensor  # int64 in 0..3 (HULL_TYPES)
    deform_scale: torch.Tensor  # float in [0.01, 0.15]
    deform_jitter: torch.Tensor  # float [B,4,4,2], standard normal, (dy, dx) per anchor (row-major)
    erode: torch.Tensor  # bool: erosion, else dilation
    morph_k: torch.Tensor  # int64, odd
    post_resize: torch.Tensor  # bool
    post_size: torch.Tensor  # int64
    post_nearest: torch.Tensor  # bool: NEAREST for the shrink, else BILINEAR
    jpeg: torch.Tensor  # bool
    quality: torch.Tensor  # int64 in [60, 100]


XrayPool = FacePool  # partner candidates (augment.common.FacePool)


def _scaled(lo: int, size: int) -> int:
    return max(1, min(size, round(lo * size / REF_SIZE)))


def _randint(lo: int, hi: int, n: int, g, dev) -> torch.Tensor:  # random.randint(lo, hi): inclusive
    return torch.randint(lo, hi + 1, (n,), generator=g, device=dev)


def sample_xray_params(batch: int, size: int, partner: torch.Tensor, partner_ok: torch.Tensor,
                       device: torch.device | str = "cpu", generator: torch.Generator | None = None, *,
                       p: float = 1.0) -> XrayParams:
    """Draws XrayParams (the partners come from the landmark search, ``nearest_partners``)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    dev, g = torch.device(device), generator

    def u(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=g, device=dev)

    erode = u(batch) > 0.5
    k_er = _randint(1, 21, batch, g, dev)
    k_di = _randint(1, 5, batch, g, dev)
    k = torch.where(erode, k_er, k_di)
    return XrayParams(
        apply=u(batch) < p, partner=partner, partner_ok=partner_ok,
        work_size=_randint(_scaled(WORK_MIN, size), size, batch, g, dev),
        hull_type=_randint(0, 3, batch, g, dev), deform_scale=0.01 + 0.14 * u(batch),
        deform_jitter=torch.randn(batch, MESH, MESH, 2, generator=g, device=dev),
        erode=erode, morph_k=k + (k % 2 == 0).long(),
        post_resize=u(batch) < 0.5, post_size=_randint(_scaled(POST_MIN, size), size, batch, g, dev),
        post_nearest=u(batch) < 0.5, jpeg=u(batch) < 0.5, quality=_randint(60, 100, batch, g, dev))


def nearest_partners(landmarks: torch.Tensor, candidates: torch.Tensor, video_ids: torch.Tensor | None = None,
                     candidate_ids: torch.Tensor | None = None, exclude_self: bool = False
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """Face X-ray's search_similar_face, batched: for each of B faces, the candidate with the least
    sum over points of Euclidean landmark distances, never of the same video (nor itself).

    Args:
        landmarks: float32 [B,K,2]. candidates: float32 [N,K,2] (the batch itself or a pool).
        video_ids, candidate_ids: optional int64 [B] and [N]. exclude_self: candidates are the batch.
    Returns:
        (partner int64 [B], found bool [B]); found is False where no candidate qualifies.
    """
    B, N, dev = landmarks.shape[0], candidates.shape[0], landmarks.device
    best = torch.full((B,), float("inf"), device=dev)
    arg = torch.zeros(B, dtype=torch.int64, device=dev)
    for s in range(0, N, SEARCH_CHUNK):
        c = candidates[s:s + SEARCH_CHUNK]
        d = (landmarks[:, None] - c[None]).norm(dim=-1).sum(-1)  # [B, n]
        bad = d.isnan()  # a NaN face (check_values=False) is never a partner, nor has one
        if video_ids is not None and candidate_ids is not None:
            bad |= video_ids[:, None] == candidate_ids[None, s:s + SEARCH_CHUNK]
        if exclude_self:
            bad |= torch.arange(B, device=dev)[:, None] == torch.arange(s, s + c.shape[0], device=dev)[None]
        d = d.masked_fill(bad, float("inf"))
        m, a = d.min(1)
        better = m < best
        best, arg = torch.where(better, m, best), torch.where(better, a + s, arg)
    return arg, torch.isfinite(best)


@functools.lru_cache(maxsize=None)  # keys: sizes and devices; never evicted (CUDA graphs read it)
def _part_table(n_points: int, device: str) -> torch.Tensor:
    """int64 [4, 8, K]: per hull type, 8 parts of K indices (parts and points padded by repetition,
    which changes no hull). facehull takes every given point. Built once per device."""
    parts = dict(_PARTS, facehull=[list(range(n_points))])
    K = max(len(q) for v in parts.values() for q in v)
    rows = []
    for name in HULL_TYPES:
        ps = parts[name] + [parts[name][-1]] * (8 - len(parts[name]))
        rows.append([q + [q[0]] * (K - len(q)) for q in ps])
    return torch.tensor(rows, dtype=torch.int64, device=device)


def _extended(lm: torch.Tensor) -> torch.Tensor:
    """DeepFakeMask.extended's moved eyebrows on integer landmarks float [B,K,2] (floor divisions)."""
    ml = torch.floor((lm[:, 36] + lm[:, 0]) / 2)
    mr = torch.floor((lm[:, 16] + lm[:, 45]) / 2)
    ql = torch.floor((lm[:, 36] + ml) / 2)
    qr = torch.floor((lm[:, 45] + mr) / 2)
    bot_l = torch.stack([ql, lm[:, 36], lm[:, 37], lm[:, 38], lm[:, 39]], 1)
    bot_r = torch.stack([lm[:, 42], lm[:, 43], lm[:, 44], lm[:, 45], qr], 1)
    top_l, top_r = lm[:, 17:22], lm[:, 22:27]
    out = lm.clone()
    out[:, 17:22] = top_l + torch.floor((top_l - bot_l) / 2)
    out[:, 22:27] = top_r + torch.floor((top_r - bot_r) / 2)
    return out


def hull_masks(landmarks: torch.Tensor, hull_type: torch.Tensor, size: int) -> torch.Tensor:
    """random_get_hull for integer landmarks float32 [B,K,2] and types int64 [B]: float32
    [B,1,size,size] in {0,1}, the union of the type's convex parts."""
    B, K = landmarks.shape[:2]
    lm = torch.where((hull_type == 1)[:, None, None], _extended(landmarks), landmarks)
    idx = _part_table(K, str(landmarks.device))[hull_type]  # [B,8,P]
    pts = lm.gather(1, idx.flatten(1)[..., None].expand(-1, -1, 2)).view(B, 8, idx.shape[-1], 2)
    # the union of every sample's 8 parts, drawn by one call (in chunks past the CUDA ops' 65535 samples)
    chunks = [hull_mask(pts[i:i + HULL_CHUNK], size, check_values=False) for i in range(0, max(B, 1), HULL_CHUNK)]
    return chunks[0] if len(chunks) == 1 else torch.cat(chunks)


@functools.lru_cache(maxsize=None)  # keys: sizes and devices; never evicted (CUDA graphs read it)
def _diagonals(canvas: int, device: str) -> torch.Tensor:
    """bool [canvas + 1, 9]: for every work size n in 0..canvas, which diagonal scipy's Delaunay
    (skimage's PiecewiseAffineTransform) cuts each of the 9 anchor cells along: True for (0,0)-(1,1).
    The anchors are cocircular in fours, so qhull's choice depends on n; tabulated once per device."""
    from scipy.spatial import Delaunay

    table = []
    for n in range(canvas + 1):
        a = np.linspace(0, max(n, 1), MESH)
        yy, xx = np.meshgrid(a, a, indexing="ij")
        main = [False] * ((MESH - 1) ** 2)
        for simplex in Delaunay(np.stack([xx.ravel(), yy.ravel()], 1)).simplices:
            rc = [(int(i) // MESH, int(i) % MESH) for i in simplex]
            r, c = min(q[0] for q in rc), min(q[1] for q in rc)
            if (r, c) in rc and (r + 1, c + 1) in rc:
                main[r * (MESH - 1) + c] = True
        table.append(main)
    return torch.tensor(table, dtype=torch.bool, device=device)


def piecewise_affine_grid(jitter: torch.Tensor, scale: torch.Tensor, n: torch.Tensor, canvas: int) -> torch.Tensor:
    """Sampling grid (grid_sample, align_corners=False) of imgaug's PiecewiseAffine on each sample's
    n x n corner of the canvas: anchors linspace(0, n, 4) on both axes, moved by jitter * scale * n and
    clipped to [0, n-1]; inside each anchor cell the map is affine on the two triangles of the
    diagonal qhull picks for that n (``_diagonals``). float32 [B, canvas, canvas, 2]."""
    dev = jitter.device
    nf = n.float()[:, None, None]
    step = nf / (MESH - 1)
    anchor = torch.arange(MESH, device=dev, dtype=torch.float32)[None, :] * step[:, 0]  # [B,4]
    ty = (anchor[:, :, None] + jitter[..., 0] * scale[:, None, None] * nf).clamp(min=0)
    tx = (anchor[:, None, :] + jitter[..., 1] * scale[:, None, None] * nf).clamp(min=0)
    ty, tx = torch.minimum(ty, nf - 1), torch.minimum(tx, nf - 1)  # [B,4,4] targets (row r, col c)
    main = _diagonals(canvas, str(dev))[n.clamp(0, canvas)]  # [B,9]
    # per pixel: the cell, its triangle and the affine map (the csrc op; common/piecewise_math.h)
    return op("piecewise_affine_grid")(tx.contiguous(), ty.contiguous(), step[:, 0, 0].contiguous(),
                                       main.contiguous(), canvas)


def _corner(n: torch.Tensor, canvas: int) -> torch.Tensor:
    """bool [B,1,canvas,canvas]: inside each sample's n x n corner."""
    ar = torch.arange(canvas, device=n.device)
    inside = (ar[None, :] < n[:, None])
    return (inside[:, :, None] & inside[:, None, :])[:, None]


def _hull_feather(mask: torch.Tensor) -> torch.Tensor:
    from sladd_fast.ops.blend import hull_feather

    frac = torch.full((mask.shape[0],), FEATHER, device=mask.device)
    return hull_feather(mask.contiguous(), frac, check_values=False)  # frac is our constant: no sync


def _checked(images: torch.Tensor, landmarks: torch.Tensor, video_ids: torch.Tensor | None, pool: XrayPool | None,
             check_values: bool):
    return checked_pair_inputs(images, landmarks, video_ids, pool, check_values,
                               "pool is too small for Face X-ray's nearest-face search: it is empty",
                               "Face X-ray's nearest-face search in the batch needs at least 2 images, got {B}; "
                               "pass a pool")


def _draw(x, video_ids: torch.Tensor | None, pool: XrayPool | None, generator: torch.Generator | None, p: float,
          check_values: bool) -> XrayParams:
    """The partners (nearest landmarks of another video) and the draws of a checked batch ``x``."""
    generator = checked_generator(generator, x.device)
    partner, ok = nearest_partners(x.lm, x.src_lm, video_ids, x.src_ids, exclude_self=pool is None)
    if check_values and not bool(ok.all()):
        k = int((~ok).nonzero()[0, 0])
        where = "pool" if pool is not None else "batch"
        raise ValueError(f"the {where} is too small for Face X-ray's nearest-face search: sample {k} has no "
                         f"candidate of another video")
    return sample_xray_params(x.img.shape[0], x.img.shape[-1], partner, ok, x.device, generator, p=p)


def draw_xray_params(images: torch.Tensor, landmarks: torch.Tensor, generator: torch.Generator | None = None, *,
                     video_ids: torch.Tensor | None = None, pool: XrayPool | None = None, p: float = 1.0,
                     check_values: bool = True) -> XrayParams:
    """The XrayParams xray_augment draws for this batch (partners by nearest landmarks, then every
    draw), without blending: what a CUDA-graph replay draws outside its graph."""
    return _draw(_checked(images, landmarks, video_ids, pool, check_values), video_ids, pool, generator, p,
                 check_values)


def xray_augment(images: torch.Tensor, landmarks: torch.Tensor, generator: torch.Generator | None = None, *,
                 video_ids: torch.Tensor | None = None, pool: XrayPool | None = None, p: float = 1.0,
                 params: XrayParams | None = None, check_values: bool = True) -> AugmentResult:
    """Face X-ray blended images of a batch (see the module docstring).

    Args:
        images: uint8 [B,3,S,S] or float [B,3,S,S] in [0,1], any device.
        landmarks: float [B,68,2] or [B,81,2] (81: facehull masks include the forehead points).
        generator: torch.Generator on the images' device. params: XrayParams to replay.
        video_ids: optional int64 [B]; partners never come from the sample's video.
        pool: optional XrayPool of partner candidates (default: the batch itself).
        p: probability that a sample is blended (the rest stay real; all get the resize/JPEG step).
        check_values: check NaN in the landmarks, float images in [0, 1], that every sample has a
            candidate of another video and replayed partners against the batch or pool (host syncs on
            GPU); without it samples with NaN landmarks or no candidate silently stay real.
    Returns:
        AugmentResult: images (input dtype), masks (the blend weights M, float [B,1,S,S]), labels (1
        where blended), params, extras {"boundary": 4 M (1 - M), "partner", "hull_type", "empty"
        (bool [B]: the deformed mask vanished or has no area, the sample stayed real)}.
    """
    x = _checked(images, landmarks, video_ids, pool, check_values)
    img, dev, src_img = x.img, x.device, x.src_img
    B, S = img.shape[0], img.shape[-1]
    warn_if_reference(dev)
    if params is None:
        params = _draw(x, video_ids, pool, generator, p, check_values)
    else:
        checked_params(params, XrayParams, B, dev, "apply")
        if check_values:
            check_partner_rows(params.partner, src_img.shape[0], "pool" if pool is not None else "batch")
            if bool((params.work_size > S).any() | (params.post_size > S).any()):
                raise ValueError(f"params were drawn for larger images than these ({S} px): work_size and post_size "
                                 f"must be at most {S}")
    P = params
    d = P.work_size
    full = torch.full_like(d, S)
    # 2. both faces at the work size, truncated to uint8 (skimage resize + astype)
    down = skimage_taps(full, d, S, S, _scaled(WORK_MIN, S))
    both = resize_u8(torch.cat([img, src_img[P.partner]], 1), down, "floor")  # [B,6,S,S]: target, partner
    pts = torch.trunc(landmarks.float() * (d.float() / S)[:, None, None])
    # 3-5. hull, deformation (kept where it stays 1), erosion / dilation
    mask = hull_masks(pts.contiguous(), P.hull_type, S)
    grid = piecewise_affine_grid(P.deform_jitter, P.deform_scale, d, S)
    mask = (F.grid_sample(mask, grid, mode="bilinear", padding_mode="zeros", align_corners=False) >= 1 - 1e-6).float()
    inside = _corner(d, S)
    mask = torch.where(~inside & P.erode[:, None, None, None], torch.ones_like(mask), mask)  # OpenCV's border
    mask = morph_square(mask, (~P.erode).long(), P.morph_k) * inside
    # 6-7. mean colour transfer inside the mask, feathered blend, truncated (one op)
    w = _hull_feather(mask)
    # nothing to blend: the mask vanished, or its hull has no area (a line or a point: zero weights). The
    # original labels the latter fake with an empty mask; here it stays real (README, fidelity)
    empty = w.flatten(1).amax(1) == 0 if w.numel() else torch.ones(B, dtype=torch.bool, device=dev)
    applied = P.apply & P.partner_ok & ~empty
    blended = xray_blend(both, mask, w)
    # 8. back to full size
    up = skimage_taps(d, full, S, S, S)
    out = resize_u8(blended, up, "floor")
    m = resize(w, up).clamp(0, 1)
    a4 = applied[:, None, None, None]
    out = torch.where(a4, out, img)
    m = torch.where(a4, m, torch.zeros_like(m))
    # 9. the down/up resize and JPEG, on every sample
    shrink = pil_taps(full, P.post_size, S, S, _scaled(POST_MIN, S), P.post_nearest)
    grow = pil_taps(P.post_size, full, S, S, S)
    small = resize_u8(out, shrink, "round")
    out = torch.where(P.post_resize[:, None, None, None], resize_u8(small, grow, "round"), out)
    out = jpeg_round_trip(out, P.quality, bgr=True, select=P.jpeg)
    return AugmentResult(from_u8(out, x.as_float, images), m, applied.long(), P,
                         {"boundary": 4 * m * (1 - m), "partner": P.partner, "hull_type": P.hull_type,
                          "empty": P.apply & P.partner_ok & empty})


class XrayAugment(nn.Module):
    """Face X-ray blending as a module: ``aug(images, landmarks, video_ids=..., generator=g)``."""

    def __init__(self, p: float = 1.0, pool: XrayPool | None = None, check_values: bool = True) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must lie in [0, 1], got {p}")
        self.p, self.pool, self.check_values = p, pool, check_values

    def forward(self, images: torch.Tensor, landmarks: torch.Tensor, video_ids: torch.Tensor | None = None,
                generator: torch.Generator | None = None, params: XrayParams | None = None) -> AugmentResult:
        return xray_augment(images, landmarks, generator, video_ids=video_ids, pool=self.pool, p=self.p,
                            params=params, check_values=self.check_values)


__all__ = ["HULL_TYPES", "XrayAugment", "XrayParams", "XrayPool", "draw_xray_params", "hull_masks",
           "nearest_partners", "piecewise_affine_grid", "sample_xray_params", "xray_augment"]
