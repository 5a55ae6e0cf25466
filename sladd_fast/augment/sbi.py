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
3. the source and the mask: Affine(translate x +-3%, y +-1.5%, scale 0.95..1/0.95; bilinear image,
   nearest mask, zero border); the mask alone then ElasticTransform(alpha 50, sigma 7, nearest; its exact path: the
   noise blurred by scipy's gaussian_filter, radius 28, edge-repeating border);
4. dynamic_blend: the (uint8 {0,1}) mask resized to a random 192-256 x 192-256, Gaussian blur k1 in
   {5..25} (sigma from k), divided by its max and cut below 1 (on uint8 data: a threshold at 0.5),
   Gaussian blur k2 in {5..25} with sigma in 5..45, divided by its max, resized back; times a ratio from {0.25, 0.5, 0.75, 1, 1, 1}; the image is
   mask * source + (1 - mask) * target, truncated to uint8.
The HueSaturationValue step (augment/hsv.py) is bit-exact against cv2.cvtColor plus albumentations'
lookup tables (all 2^24 colours, both signs of each shift, cv2 4.14's x86-64 wheel). One caveat: OpenCV's
8-bit HSV -> RGB truncates in its SIMD loop and rounds in the scalar loop over the last W % block pixels
of each row; we follow an AVX-512 CPU (block 64). At sizes that are multiples of 64 (256, 512) every
CPU with AVX2 or AVX-512 gives the same result; at 380 an AVX2 CPU (block 32) rounds 28 columns instead
of 60. RGBShift -> HSV -> brightness/contrast -> RandomDownScale (OpenCV's 8-bit fixed-point INTER_LINEAR)
equals the per-sample recipe bit for bit; Sharpen is within one level on about 0.01% of values; the
whole mode is 51.6-62.3 dB from the per-sample recipe on the same draws (tests/test_augment.py).
Our ops: hull_mask, blur_in_box and hsv_shift (csrc); the rest is batched PyTorch (integer resampling,
pooling, grid_sample). Every sample is a forgery (label 1); pair the outputs with the real inputs.
"""
from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from sladd_fast._consts import const
from sladd_fast.augment.common import AugmentResult, from_u8, landmarks68, to_u8, warn_if_reference
from sladd_fast.augment.hsv import shift_hsv_u8
from sladd_fast.ops import _checks
from sladd_fast.ops.masks import hull_mask
from sladd_fast.synthesis.engine import on_subset, where_b
from sladd_fast.synthesis.filters import blur_in_box, gaussian_kernels

BLEND_RATIOS = (0.25, 0.5, 0.75, 1.0, 1.0, 1.0)
CANVAS = 256  # the blend mask is resized to at most 256 x 256 (get_blend_mask's 192-256)
# ElasticTransform(alpha=50, sigma=7): albumentations' default (approximate=False) path blurs the noise
# with scipy.ndimage.gaussian_filter: truncate 4 (radius 28), mode 'reflect' (edge pixel repeated).
ELASTIC_ALPHA, ELASTIC_SIGMA, ELASTIC_R = 50.0, 7.0, 28


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
    scale: torch.Tensor
    elastic_noise: torch.Tensor  # float [B,2,H,W] in [-1,1)
    resize_hw: torch.Tensor  # int64 [B,2] in [192,256]
    k1: torch.Tensor
    k2: torch.Tensor
    sigma2: torch.Tensor  # int64 in [5,45]
    ratio: torch.Tensor


def sample_sbi_params(batch: int, size: int, device: torch.device | str = "cpu",
                      generator: torch.Generator | None = None) -> SbiParams:
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
        scale=0.95 + (1 / 0.95 - 0.95) * u(batch), elastic_noise=u(batch, 2, size, size) * 2 - 1,
        resize_hw=torch.randint(192, 257, (batch, 2), generator=g, device=dev),
        k1=odd(5, 25), k2=odd(5, 25), sigma2=torch.randint(5, 46, (batch,), generator=g, device=dev),
        ratio=const(BLEND_RATIOS, dev)[torch.randint(0, len(BLEND_RATIOS), (batch,), generator=g, device=dev)],
        hsv_shift=(u(batch, 3) * 2 - 1) * 0.3)  # last: the draws before it are those of earlier versions


def _cv2_linear_taps(n_in: int, n_out: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """cv2.resize INTER_LINEAR's taps along one axis for uint8: source rows floor(f) and floor(f) + 1
    of f = (d + 0.5) n_in / n_out - 0.5, clamped into the image, and the 11-bit fixed-point weights
    (cvRound of (1 - a) and a times 2048, a = f - floor(f), not reset at the borders: the vertical
    pass weighs a clamped row twice, and its truncations make that differ from weight 2048 once)."""
    d = torch.arange(n_out, device=device, dtype=torch.float64)
    fx = (d + 0.5) * (n_in / n_out) - 0.5
    i0 = fx.floor()
    w1 = torch.round((fx - i0) * 2048).long()  # no ties: the fractions are odd multiples of 1/(2r)
    return i0.long().clamp(0, n_in - 1), (i0.long() + 1).clamp(0, n_in - 1), torch.stack([2048 - w1, w1])


def _downscale(f: torch.Tensor, r: int) -> torch.Tensor:
    """RandomDownScale on integer-valued float [B,3,H,W]: cv2.resize INTER_NEAREST down by r
    (source pixel r * d), then INTER_LINEAR back in OpenCV's 8-bit fixed point: 11-bit weights, the
    horizontal pass kept exact in int32, the vertical pass as its VResizeLinear does it,
    ((w0 * (s0 >> 4)) >> 16) + ((w1 * (s1 >> 4)) >> 16) + 2) >> 2 (so ties and fractions round as
    OpenCV's, not to nearest)."""
    H, W = f.shape[-2:]
    small = f[..., :: r, :: r][..., : H // r, : W // r].to(torch.int64)
    x0, x1, wx = _cv2_linear_taps(W // r, W, f.device)
    y0, y1, wy = _cv2_linear_taps(H // r, H, f.device)
    rows = small[..., x0] * wx[0] + small[..., x1] * wx[1]  # [B,3,H/r,W], values x 2048
    s0, s1 = rows[..., y0, :] >> 4, rows[..., y1, :] >> 4
    out = (((wy[0][:, None] * s0) >> 16) + ((wy[1][:, None] * s1) >> 16) + 2) >> 2
    return out.to(f.dtype)


def _sharpen(f: torch.Tensor, alpha: torch.Tensor, lightness: torch.Tensor) -> torch.Tensor:
    """albumentations Sharpen: cv2.filter2D with (1 - a) I + a ([-1 .. 8 + l .. -1]), reflect-101 border,
    written as (1 - a) f + a ((9 + l) f - the 3x3 box sum of f): one pooling instead of a grouped
    convolution with a kernel per sample."""
    B = f.shape[0]
    a, lt = alpha.view(B, 1, 1, 1), lightness.view(B, 1, 1, 1)
    box = F.avg_pool2d(F.pad(f, (1, 1, 1, 1), mode="reflect"), 3, stride=1) * 9
    return (1 - a) * f + a * ((9 + lt) * f - box)


def _quality(x: torch.Tensor, p: SbiParams) -> torch.Tensor:
    """SBI's source transforms on uint8 [B,3,H,W]: RGBShift, HueSaturationValue, brightness/contrast,
    then downscale or sharpen (albumentations' order)."""
    B, C, H, W = x.shape
    f = x.float()
    f = where_b(p.rgb_on, (f + p.rgb_shift[:, :, None, None]).clamp(0, 255).floor(), f)
    f = shift_hsv_u8(f, p.hsv_shift)
    f = (f * (1 + p.contrast.view(B, 1, 1, 1)) + p.brightness.view(B, 1, 1, 1) * 255).clamp(0, 255).floor()
    # One of RandomDownScale (ratio 2 or 4) and Sharpen per sample: on CPU each runs on its own samples
    # only (on_subset); on a GPU all run on the whole batch and the sample's result is selected.
    out = on_subset(p.downscale & (p.down_ratio == 2), lambda t: _downscale(t, 2), f, f)
    out = on_subset(p.downscale & (p.down_ratio == 4), lambda t: _downscale(t, 4), out, f, overwrite=True)
    out = on_subset(~p.downscale, _sharpen, out, f, p.sharpen_alpha, p.sharpen_lightness, overwrite=True)
    return (out + 0.5).floor().clamp(0, 255).to(torch.uint8)  # cv2's saturate_cast


def _affine_grid(p: SbiParams, H: int, W: int) -> torch.Tensor:
    """Sampling grid of the Affine step (scale about the centre, then translate), output -> input."""
    B = p.scale.shape[0]
    theta = torch.zeros(B, 2, 3, device=p.scale.device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1 / p.scale
    theta[:, 0, 2] = -2 * p.translate[:, 0] / p.scale
    theta[:, 1, 2] = -2 * p.translate[:, 1] / p.scale
    return F.affine_grid(theta, (B, 1, H, W), align_corners=False)


def _gauss(k: torch.Tensor, sigma: torch.Tensor, width: int) -> torch.Tensor:
    """cv2.getGaussianKernel(k, sigma) per sample, centred in float32 [B,width]."""
    t = torch.arange(width, device=k.device, dtype=torch.float64) - width // 2
    g = torch.exp(-(t[None] ** 2) / (2 * sigma.double()[:, None] ** 2))
    g = torch.where(t[None].abs() <= (k[:, None] // 2), g, torch.zeros((), dtype=g.dtype, device=k.device))
    return (g / g.sum(1, keepdim=True)).float()


def _elastic_field(noise: torch.Tensor) -> torch.Tensor:
    """alpha * gaussian_filter(noise, sigma) per plane, scipy's 'reflect' border: the noise
    [B,2,S,S] padded by symmetric indices, blurred inside (blur_in_box, no border reached), cropped."""
    B, _, S, _ = noise.shape
    R, dev = ELASTIC_R, noise.device
    i = torch.arange(-R, S + R, device=dev)
    i = torch.where(i < 0, -1 - i, torch.where(i >= S, 2 * S - 1 - i, i)).clamp(0, S - 1)  # d c b a | a b c d
    padded = noise[:, :, i][:, :, :, i].contiguous()
    k = torch.full((B,), 2 * R + 1, dtype=torch.int64, device=dev)
    box = const((0, 0, S + 2 * R, S + 2 * R), dev, torch.int64).expand(B, 4)
    blurred = blur_in_box(padded, _gauss(k, torch.full((B,), ELASTIC_SIGMA, device=dev), 2 * R + 1), k // 2, box)
    return blurred[:, :, R:R + S, R:R + S] * ELASTIC_ALPHA


def _max_norm(m: torch.Tensor) -> torch.Tensor:
    mx = m.amax((2, 3), keepdim=True)
    return torch.where(mx > 0, m / mx.clamp(min=1e-12), torch.zeros_like(m))


def _blend_mask(mask: torch.Tensor, p: SbiParams) -> torch.Tensor:
    """get_blend_mask on float [B,1,H,W] (on a 256 x 256 canvas, each sample in its own corner box)."""
    B, _, H, W = mask.shape
    h, w = p.resize_hw[:, 0], p.resize_hw[:, 1]
    ar = torch.arange(CANVAS, device=mask.device, dtype=torch.float32)
    gx = ((ar[None] + 0.5) / w[:, None] * 2 - 1)[:, None, :].expand(B, CANVAS, CANVAS)
    gy = ((ar[None] + 0.5) / h[:, None] * 2 - 1)[:, :, None].expand(B, CANVAS, CANVAS)
    # SBI's mask is uint8 {0,1}: the resize and the first blur round to 0 or 1, so "divide by the max
    # and cut below 1" keeps exactly the pixels that rounded to 1 (a threshold at 0.5).
    small = F.grid_sample(mask, torch.stack([gx, gy], -1), mode="bilinear", padding_mode="zeros", align_corners=False)
    small = (small >= 0.5).float()
    box = torch.stack([torch.zeros_like(w), torch.zeros_like(h), w, h], 1)
    m = (blur_in_box(small, gaussian_kernels(p.k1, 25), p.k1 // 2, box) >= 0.5).float()
    m = _max_norm(blur_in_box(m, _gauss(p.k2, p.sigma2, 25), p.k2 // 2, box))
    ox = torch.arange(W, device=mask.device, dtype=torch.float32)
    oy = torch.arange(H, device=mask.device, dtype=torch.float32)
    bx = (((ox[None] + 0.5) * w[:, None] / W) / CANVAS * 2 - 1)[:, None, :].expand(B, H, W)
    by = (((oy[None] + 0.5) * h[:, None] / H) / CANVAS * 2 - 1)[:, :, None].expand(B, H, W)
    return F.grid_sample(m, torch.stack([bx, by], -1), mode="bilinear", padding_mode="border", align_corners=False)


def sbi_augment(images: torch.Tensor, landmarks: torch.Tensor, generator: torch.Generator | None = None, *,
                params: SbiParams | None = None, check_values: bool = True) -> AugmentResult:
    """Self-blended forgeries of a batch (see the module docstring).

    Args:
        images: uint8 [B,3,S,S] or float [B,3,S,S] in [0,1], any device.
        landmarks: float [B,68,2] or [B,81,2] (81: the 13 forehead points join the hull 75% of the time).
        generator: torch.Generator on the images' device. params: SbiParams to replay.
        check_values: check NaN in the landmarks (a host sync on GPU).
    Returns:
        AugmentResult: images (input dtype), masks (the blend weights, float [B,1,S,S]), labels (all
        1), params, extras {}.
    """
    img, as_float = to_u8(images)
    B, _, S, W = img.shape
    if S != W:
        raise ValueError(f"images must be square [B,3,S,S], got {list(images.shape)}")
    landmarks68(landmarks, B, check_values)
    dev = _checks.same_device(images=images, landmarks=landmarks)
    warn_if_reference(dev)
    if params is None:
        params = sample_sbi_params(B, S, dev, generator)
    elif params.scale.shape[0] != B or params.elastic_noise.shape[-1] != S or params.scale.device != dev:
        raise ValueError(f"params must hold {B} samples of {S} px on {dev}")
    pts = landmarks.float()
    if pts.shape[1] == 81:  # the forehead left out: its points replaced by a jaw point (on the hull already)
        pts = torch.where(params.drop_forehead[:, None, None] & (torch.arange(81, device=dev) >= 68)[None, :, None],
                          pts[:, :1], pts)
    mask = hull_mask(torch.trunc(pts).contiguous(), S, check_values=False)  # cv2 takes int32 points
    changed = _quality(img, params)
    source = where_b(params.on_source, changed, img)
    target = where_b(params.on_source, img, changed)
    grid = _affine_grid(params, S, S)
    src = F.grid_sample(source.float(), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    src = (src + 0.5).floor().clamp(0, 255)
    mask = F.grid_sample(mask, grid, mode="nearest", padding_mode="zeros", align_corners=False)
    disp = _elastic_field(params.elastic_noise)
    ar = torch.arange(S, device=dev, dtype=torch.float32)
    ex = ((ar[None, None] + disp[:, 0] + 0.5) / S * 2 - 1)
    ey = ((ar[None, :, None] + disp[:, 1] + 0.5) / S * 2 - 1)
    mask = F.grid_sample(mask, torch.stack([ex, ey], -1), mode="nearest", padding_mode="reflection",
                         align_corners=False)
    m = _blend_mask(mask, params) * params.ratio.view(B, 1, 1, 1)
    out = (m * src + (1 - m) * target.float()).clamp(0, 255).to(torch.uint8)  # astype(uint8): truncation
    return AugmentResult(from_u8(out, as_float, images), m, torch.ones(B, dtype=torch.int64, device=dev), params, {})


class SbiAugment(nn.Module):
    """Self-Blended Images as a module: ``aug(images, landmarks, generator=g)``."""

    def forward(self, images: torch.Tensor, landmarks: torch.Tensor, generator: torch.Generator | None = None,
                params: SbiParams | None = None) -> AugmentResult:
        return sbi_augment(images, landmarks, generator, params=params)


__all__ = ["SbiAugment", "SbiParams", "sample_sbi_params", "sbi_augment"]
