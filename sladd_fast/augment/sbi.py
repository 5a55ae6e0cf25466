"""Self-Blended Images mode (Shiohara & Yamasaki, CVPR 2022): each image blended with a transformed
copy of itself, batched on the images' device.

The recipe, as mapooon/SelfBlendedImages does it (src/utils/sbi.py self_blending, randaffine,
get_source_transforms; src/utils/blend.py dynamic_blend, get_blend_mask; src/utils/funcs.py
RandomDownScale), one draw per sample:
1. mask: the filled convex hull of the landmarks (81 points: 25% of the time the 13 forehead points
   are left out; with 68-point input there is no forehead step);
2. half the time the source copy, else the target, gets: RGBShift(+-20 per channel, p=0.3);
   HueSaturationValue(+-0.3 on each of OpenCV's uint8 H, S, V: the image goes through OpenCV's 8-bit
   RGB -> HSV -> RGB round trip, and a negative shift moves its channel down one level, hue 0 -> 179);
   RandomBrightnessContrast(+-0.1, +-0.1); then one of RandomDownScale (nearest down by 2 or 4,
   bilinear up) or Sharpen(alpha 0.2-0.5, lightness 0.5-1.0);
3. the source and the mask: Affine(translate x +-3%, y +-1.5%, scale 0.95..1/0.95 drawn for x and y
   apart, as albumentations 1.x draws it, about the centre pixel; bilinear image, nearest mask, zero
   border); the mask alone then ElasticTransform(alpha 50,
   sigma 7, nearest, reflect-101 border; its exact path: uniform noise in [-1, 1) blurred by scipy's
   gaussian_filter, radius 28, edge-repeating border);
4. dynamic_blend: the (uint8 {0,1}) mask resized to a random 192-256 x 192-256, Gaussian blur k1 in
   {5..25} (sigma from k), divided by its max and cut below 1 (on uint8 data: a threshold at 0.5),
   Gaussian blur k2 in {5..25} with sigma in 5..45, divided by its max, resized back; times a ratio from
   {0.25, 0.5, 0.75, 1, 1, 1}; the image is
   mask * source + (1 - mask) * target, truncated to uint8.
The HueSaturationValue step (augment/hsv.py) is bit-exact against cv2.cvtColor plus albumentations'
lookup tables (all 2^24 colours, both signs of each shift, cv2 4.14's x86-64 wheel). One caveat: OpenCV's
8-bit HSV -> RGB truncates in its SIMD loop and rounds in the scalar loop over the last W % block pixels
of each row; we follow an AVX-512 CPU (block 64). At sizes that are multiples of 64 (256, 512) every
CPU with AVX2 or AVX-512 gives the same result; at 380 an AVX2 CPU (block 32) rounds 28 columns instead
of 60. RGBShift -> HSV -> brightness/contrast -> RandomDownScale (OpenCV's 8-bit fixed-point INTER_LINEAR)
equals the per-sample recipe bit for bit; Sharpen is within one level on about 0.01% of values. The
geometric steps use OpenCV's own fixed-point arithmetic (augment/cv2_taps.py, each tested bit for bit
against cv2): the Affine of the source (warpAffine INTER_LINEAR) and of the mask (INTER_NEAREST), the
elastic remap (INTER_NEAREST, BORDER_REFLECT_101) and the mask's resize to (w, h); the resize back is
OpenCV's float path in float32. What is left of the gap is float32 against float64 (the elastic field,
the k2 blur) and the k1 blur of the uint8 mask in float32 rather than OpenCV's fixed point: the whole
mode is 64.1-80.8 dB from the per-sample recipe on the same draws (tests/test_augment.py).
Our ops: hull_mask, sbi_quality (the source transforms), warp_linear_u8 (the source's Affine, uint8 in
and out), resample_taps (the blend mask's resizes), uniform_noise and gaussian_filter (the elastic
field), remap_nearest (the mask's warp and elastic remap as one gather), blur_in_box and blend_linear
(csrc); the rest is batched PyTorch. The elastic noise is the one random draw not made value by value
from the generator: each sample draws an int64 seed, and its field is the counter-based uniform_noise
of that seed (ops/noise.py: 24-bit uniform values as torch.rand's, the same on every device, and 0.05
ms a sample on one core where the generator took 0.3 ms).
On CPU the batch is worked in chunks of CPU_CHUNK samples and the large buffers are updated in place
where the arithmetic allows: a fresh batch-sized buffer costs more in page faults than the arithmetic
done in it. Every sample with a non-empty blend mask is a forgery (label 1); landmarks that give no blend
region leave label 0. Pair the outputs with the real inputs.
"""
from __future__ import annotations

import dataclasses

import torch
from torch import nn

from sladd_fast._consts import const
from sladd_fast._sync import host_reads_ok
from sladd_fast.augment.common import (AugmentResult, checked_generator, checked_params, from_u8, landmarks68, to_u8,
                                       warn_if_reference)
from sladd_fast.augment.cv2_taps import (fixed_taps, invert_scale_translate, nearest_table, resize_linear_taps,
                                         vresize_u8, warp_affine_taps_both, warp_affine_u8)
from sladd_fast.augment.hsv import HSV_BLOCK, _level_moves
from sladd_fast.ops import _checks
from sladd_fast.ops._dispatch import op
from sladd_fast.ops.blend import blend_linear
from sladd_fast.ops.masks import hull_mask
from sladd_fast.ops.noise import draw_seeds, uniform_noise
from sladd_fast.synthesis.engine import where_b
from sladd_fast.synthesis.filters import (blur_in_box, gaussian_filter, gaussian_half_taps, gaussian_kernels,
                                         remap_nearest, resample_taps)

BLEND_RATIOS = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)
CANVAS = 256  # the blend mask is resized to at most 256 x 256 (get_blend_mask's 192-256)
# On CPU a batch is worked in chunks of this many samples (the same results: every step is per sample):
# the chunk's buffers (6 MB of float32 per 256 px image plane set) stay in the allocator's reuse range,
# where a 32-sample batch's are returned to the OS and faulted in again on every call (0.7 ms a sample).
CPU_CHUNK = 8
# ElasticTransform(alpha=50, sigma=7): albumentations' default (approximate=False) path blurs the noise
# with scipy.ndimage.gaussian_filter: truncate 4 (radius 28), mode 'reflect' (edge pixel repeated).
ELASTIC_ALPHA, ELASTIC_SIGMA = 50.0, 7.0
_ELASTIC_TAPS = tuple(gaussian_half_taps(ELASTIC_SIGMA).tolist())  # radius 28: centre, one half


@dataclasses.dataclass(frozen=True)
class SbiParams:
    """Every random draw of one call ([B] tensors unless noted, on the images' device)."""

    drop_forehead: torch.Tensor  # bool: hull of the first 68 points only (81-point input)
    on_source: torch.Tensor  # bool: the transforms go to the source copy (else the target)
    rgb_on: torch.Tensor  # bool
    rgb_shift: torch.Tensor  # float [B,3]
    hsv_shift: torch.Tensor  # float [B,3] in [-0.3,0.3): hue, saturation, value (uint8 units; drawn last)
    brightness: torch.Tensor
    contrast: torch.Tensor
    downscale: torch.Tensor  # bool: RandomDownScale, else Sharpen
    down_ratio: torch.Tensor  # int64 in {2, 4}
    sharpen_alpha: torch.Tensor
    sharpen_lightness: torch.Tensor
    translate: torch.Tensor  # float [B,2], fractions of W and H
    scale: torch.Tensor  # float [B,2] in [0.95, 1/0.95): x and y (albumentations' Affine draws each)
    elastic_seed: torch.Tensor  # int64: the elastic noise's seed (elastic_noise gives the [2,S,S] field)
    resize_hw: torch.Tensor  # int64 [B,2] in [192,256]
    k1: torch.Tensor
    k2: torch.Tensor
    sigma2: torch.Tensor  # int64 in [5,45]
    ratio: torch.Tensor


def sample_sbi_params(batch: int, size: int, device: torch.device | str = "cpu",
                      generator: torch.Generator | None = None) -> SbiParams:
    """Every draw of a batch, made on ``device`` from ``generator``. ``size`` (the images' side) keeps the
    modes' common signature: no draw depends on it (the elastic noise is a per-sample seed)."""
    dev, g = torch.device(device), generator

    def u(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=g, device=dev)

    def odd(lo: int, hi: int) -> torch.Tensor:  # random.randrange(lo, hi + 1, 2)
        return lo + 2 * torch.randint(0, (hi - lo) // 2 + 1, (batch,), generator=g, device=dev)

    return SbiParams(
        drop_forehead=u(batch) < 0.25, on_source=u(batch) < 0.5, rgb_on=u(batch) < 0.3,
        rgb_shift=(u(batch, 3) * 2 - 1) * 20, brightness=(u(batch) * 2 - 1) * 0.1, contrast=(u(batch) * 2 - 1) * 0.1,
        downscale=u(batch) < 0.5, down_ratio=torch.where(u(batch) < 0.5, 2, 4),
        sharpen_alpha=0.2 + 0.3 * u(batch), sharpen_lightness=0.5 + 0.5 * u(batch),
        translate=torch.stack([(u(batch) * 2 - 1) * 0.03, (u(batch) * 2 - 1) * 0.015], 1),
        scale=0.95 + (1 / 0.95 - 0.95) * u(batch, 2),
        elastic_seed=draw_seeds(batch, dev, g),
        resize_hw=torch.randint(192, 257, (batch, 2), generator=g, device=dev),
        k1=odd(5, 25), k2=odd(5, 25), sigma2=torch.randint(5, 46, (batch,), generator=g, device=dev),
        ratio=const(BLEND_RATIOS, dev)[torch.randint(0, len(BLEND_RATIOS), (batch,), generator=g, device=dev)],
        hsv_shift=(u(batch, 3) * 2 - 1) * 0.3)  # drawn last: adding it left the earlier draws as they were


def _quality(x: torch.Tensor, plan: _Plan) -> torch.Tensor:
    """SBI's source transforms on uint8 [B,3,H,W] (albumentations' order: RGBShift, HueSaturationValue,
    brightness/contrast, then RandomDownScale or Sharpen): the csrc op ``sbi_quality``, which computes
    only the sample's own branch."""
    return op("sbi_quality")(x.contiguous(), plan.moves, plan.coeffs, plan.branch, HSV_BLOCK)


def _source_target(on_source: torch.Tensor, changed: torch.Tensor,
                   img: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(source, target), uint8: the transformed copy is the source where ``on_source``, the target
    elsewhere. On CPU by whole-sample copies (the transformed samples over a copy of the image; the
    originals into ``changed``, ours), with no batch-sized selection; on a GPU by selection (no sync)."""
    if not host_reads_ok(changed.device):
        return where_b(on_source, changed, img), where_b(on_source, img, changed)
    on = on_source.nonzero().squeeze(1)
    source = img.clone()  # then the transformed samples over it (whole samples: index_select, not x[idx])
    source.index_copy_(0, on, changed.index_select(0, on))
    changed.index_copy_(0, on, img.index_select(0, on))
    return source, changed


def _gauss(k: torch.Tensor, sigma: torch.Tensor, width: int) -> torch.Tensor:
    """cv2.getGaussianKernel(k, sigma) per sample, centred in float32 [B,width]."""
    t = torch.arange(width, device=k.device, dtype=torch.float64) - width // 2
    g = torch.exp(-(t[None] ** 2) / (2 * sigma.double()[:, None] ** 2))
    g = torch.where(t[None].abs() <= (k[:, None] // 2), g, torch.zeros((), dtype=g.dtype, device=k.device))
    return (g / g.sum(1, keepdim=True)).float()


def elastic_noise(seeds: torch.Tensor, size: int) -> torch.Tensor:
    """The ElasticTransform noise of SbiParams.elastic_seed: uniform in [-1, 1), float32 [B,2,size,size]
    (dx's, then dy's), the same on every device."""
    return uniform_noise(seeds, 2, size, size)


def _elastic_field(seeds: torch.Tensor, size: int) -> torch.Tensor:
    """alpha * gaussian_filter(noise, sigma) per plane [B,2,S,S]: albumentations' exact path, scipy's
    kernel (truncate 4: radius 28) and 'reflect' border, here the csrc op in float32 (within 3e-6 px of
    scipy's float64 field)."""
    taps = const(_ELASTIC_TAPS, seeds.device)
    return gaussian_filter(elastic_noise(seeds, size), taps, ELASTIC_ALPHA)


def _blend_mask(mask: torch.Tensor, plan: _Plan) -> torch.Tensor:
    """get_blend_mask on a {0,1} float [B,1,H,W] mask, each sample in the corner box of a 256 x 256
    canvas: cv2.resize of the uint8 mask to (w, h) in OpenCV's fixed point (exact: {0,1} out), the
    k1 blur and its cut (on uint8 data, a threshold at 0.5), the k2 blur, divided by the max (an all-zero
    mask stays 0), and cv2.resize back to (W, H) (the float path's taps)."""
    small = vresize_u8(resample_taps(mask, *plan.down_cols, 3, check_values=False), *plan.down_rows)
    m = blur_in_box(small, plan.k1, plan.r1, plan.box).ge_(0.5)  # 1.0 / 0.0 in place
    m = blur_in_box(m, plan.k2, plan.r2, plan.box)
    m = m.div_(m.amax((2, 3), keepdim=True).clamp_(min=1e-12))
    return resample_taps(resample_taps(m, *plan.up_cols, 3, check_values=False), *plan.up_rows, 2,
                         check_values=False)


@dataclasses.dataclass(frozen=True)
class _Plan:
    """What the steps need from SbiParams, derived once per batch (and sliced per CPU chunk): the colour
    op's arguments, every resample_taps tap set (index, weight) and the blend-mask blurs' kernels."""

    moves: torch.Tensor  # float32 [B,3]: HSV level moves
    coeffs: torch.Tensor  # float32 [B,8]: sbi_quality's coefficients
    branch: torch.Tensor  # int64 [B]: 1 Sharpen, 2 / 4 RandomDownScale
    warp_cols: tuple[torch.Tensor, torch.Tensor]  # Affine, linear: int64 [B,S,2] index and weight (32nds)
    warp_rows: tuple[torch.Tensor, torch.Tensor]
    mask_cols: torch.Tensor  # Affine, nearest: int64 [B,S], each output column's source column (-1: outside)
    mask_rows: torch.Tensor
    down_cols: tuple[torch.Tensor, torch.Tensor]  # the blend mask to (w, h), uint8 fixed point, [B,256,2]
    down_rows: tuple[torch.Tensor, torch.Tensor]
    up_cols: tuple[torch.Tensor, torch.Tensor]  # and back to (S, S), float, [B,S,2]
    up_rows: tuple[torch.Tensor, torch.Tensor]
    k1: torch.Tensor  # float32 [B,25]
    r1: torch.Tensor
    k2: torch.Tensor
    r2: torch.Tensor
    box: torch.Tensor  # int64 [B,4]: (0, 0, w, h)
    ratio: torch.Tensor  # float32 [B]

    def rows(self, i: int, j: int) -> _Plan:
        def cut(v):
            return tuple(t[i:j] for t in v) if isinstance(v, tuple) else v[i:j]

        return _Plan(**{f.name: cut(getattr(self, f.name)) for f in dataclasses.fields(self)})


def _plan(p: SbiParams, S: int) -> _Plan:
    """The _Plan of a batch of S x S images (small [B, ...] tensors on the params' device, no sync)."""
    dev = p.scale.device
    zero = torch.zeros((), device=dev)
    # the coefficients are the float32 values of the per-step arithmetic: RGBShift's shift (0 where the step
    # is off), 1 + contrast, 255 brightness, 9 + lightness, 1 - alpha
    coeffs = torch.cat([torch.where(p.rgb_on[:, None], p.rgb_shift.float(), zero),
                        torch.stack([1 + p.contrast, p.brightness * 255, p.sharpen_alpha, 9 + p.sharpen_lightness,
                                     1 - p.sharpen_alpha], 1).float()], 1)
    branch = torch.where(p.downscale, p.down_ratio, torch.ones((), dtype=torch.int64, device=dev))
    a00, a02, a11, a12 = invert_scale_translate(p.scale[:, 0], p.scale[:, 1], p.translate[:, 0], p.translate[:, 1],
                                                S, S)
    # Each kind of tap set in one call over stacked inputs: fewer, larger ops (a GPU's small batches are
    # launch-bound). The Affine's columns and rows, linear (the image) and nearest (the mask):
    lin, near = warp_affine_taps_both(torch.stack([a00, a11]), torch.stack([a02, a12]), S,
                                      const((False, True), dev, torch.bool))
    lin_i, lin_w = fixed_taps(lin)
    table = nearest_table(near)
    # the blend mask's resizes: down to (w, h) in fixed point (columns, rows), back to S in float
    h, w = p.resize_hw[:, 0], p.resize_hw[:, 1]
    full = torch.full_like(w, S)
    canvas = max(CANVAS, S)  # the down taps' outputs (at most CANVAS) and the up taps' (S), sliced below
    ri, rw = resize_linear_taps(torch.stack([full, full, w, h]), torch.stack([w, h, full, full]), canvas,
                                const((True, True, False, False), dev, torch.bool),
                                const((True, False, True, False), dev, torch.bool))
    down_cols, down_rows, up_cols, up_rows = ((ri[k, :, :n], rw[k, :, :n]) for k, n in
                                              ((0, CANVAS), (1, CANVAS), (2, S), (3, S)))
    return _Plan(
        moves=_level_moves(p.hsv_shift).contiguous(), coeffs=coeffs.contiguous(), branch=branch.contiguous(),
        warp_cols=(lin_i[0], lin_w[0]), warp_rows=(lin_i[1], lin_w[1]), mask_cols=table[0], mask_rows=table[1],
        down_cols=down_cols, down_rows=down_rows, up_cols=up_cols, up_rows=up_rows,
        k1=gaussian_kernels(p.k1, 25), r1=p.k1 // 2, k2=_gauss(p.k2, p.sigma2, 25), r2=p.k2 // 2,
        box=torch.stack([torch.zeros_like(w), torch.zeros_like(h), w, h], 1), ratio=p.ratio.float())


def sbi_augment(images: torch.Tensor, landmarks: torch.Tensor, generator: torch.Generator | None = None, *,
                params: SbiParams | None = None, check_values: bool = True) -> AugmentResult:
    """Self-blended forgeries of a batch (see the module docstring).

    Args:
        images: uint8 [B,3,S,S] or float [B,3,S,S] in [0,1], any device.
        landmarks: float [B,68,2] or [B,81,2] (81: the 13 forehead points join the hull 75% of the time).
        generator: torch.Generator on the images' device. params: SbiParams to replay.
        check_values: check NaN in the landmarks and float images in [0, 1] (host syncs on GPU).
    Returns:
        AugmentResult: images (input dtype), masks (the blend weights, float [B,1,S,S]), labels (1
        where the blend mask is not empty: all of them for usable landmarks; a sample whose landmarks
        give no blend region, e.g. all at one point, is labelled 0), params, extras {}.
    """
    img, as_float = to_u8(images, check_values=check_values)
    B, _, S, W = img.shape
    if S != W:
        raise ValueError(f"images must be square [B,3,S,S], got {list(images.shape)}")
    landmarks68(landmarks, B, check_values)
    dev = _checks.same_device(images=images, landmarks=landmarks)
    generator = checked_generator(generator, dev)
    warn_if_reference(dev)
    if params is None:
        params = sample_sbi_params(B, S, dev, generator)
    else:
        checked_params(params, SbiParams, B, dev, "scale")
    pts = landmarks.float()
    if pts.shape[1] == 81:  # the forehead left out: its points replaced by a jaw point (on the hull already)
        pts = torch.where(params.drop_forehead[:, None, None] & (torch.arange(81, device=dev) >= 68)[None, :, None],
                          pts[:, :1], pts)
    plan = _plan(params, S)
    if host_reads_ok(dev) and B > CPU_CHUNK:  # CPU: chunks, so the working buffers are reused, not faulted in
        parts = [_blend(img[i:i + CPU_CHUNK], pts[i:i + CPU_CHUNK], params.on_source[i:i + CPU_CHUNK],
                        params.elastic_seed[i:i + CPU_CHUNK], plan.rows(i, i + CPU_CHUNK))
                 for i in range(0, B, CPU_CHUNK)]
        out, m = torch.cat([o for o, _ in parts]), torch.cat([w for _, w in parts])
    else:
        out, m = _blend(img, pts, params.on_source, params.elastic_seed, plan)
    labels = (m.flatten(1).amax(1) > 0).long() if m.numel() else torch.zeros(B, dtype=torch.int64, device=dev)
    return AugmentResult(from_u8(out, as_float, images), m, labels, params, {})


def _blend(img: torch.Tensor, pts: torch.Tensor, on_source: torch.Tensor, seeds: torch.Tensor,
           plan: _Plan) -> tuple[torch.Tensor, torch.Tensor]:
    """The mode on uint8 [B,3,S,S] and float [B,68|81,2] (forehead draw applied): (uint8 images, float32
    [B,1,S,S] blend weights)."""
    B, _, S, _ = img.shape
    mask = hull_mask(torch.trunc(pts).contiguous(), S, check_values=False)  # cv2 takes int32 points
    source, target = _source_target(on_source, _quality(img, plan), img)
    src = warp_affine_u8(source, plan.warp_cols, plan.warp_rows)
    # the mask's Affine (nearest) and ElasticTransform (nearest remap of xs + dx, ys + dy in float32, as the
    # baseline's sums) as one gather
    mask = remap_nearest(mask, _elastic_field(seeds, S), plan.mask_cols, plan.mask_rows, relative=True)
    m = _blend_mask(mask, plan)
    # (m r) src + (1 - m r) target, truncated as astype(uint8): blend_linear's target + m r (src - target)
    out = blend_linear(target, src, m, plan.ratio, check_values=False)
    return out, m.mul_(plan.ratio.view(B, 1, 1, 1))


class SbiAugment(nn.Module):
    """Self-Blended Images as a module: ``aug(images, landmarks, generator=g)``. Every input becomes a
    forgery (SBI pairs them with the reals itself: no ``p``)."""

    def __init__(self, check_values: bool = True) -> None:
        super().__init__()
        self.check_values = check_values

    def forward(self, images: torch.Tensor, landmarks: torch.Tensor, generator: torch.Generator | None = None,
                params: SbiParams | None = None) -> AugmentResult:
        return sbi_augment(images, landmarks, generator, params=params, check_values=self.check_values)


__all__ = ["SbiAugment", "SbiParams", "elastic_noise", "sample_sbi_params", "sbi_augment"]
