"""The four colour transfers of the aligned source onto the target (spec §3.4), batched.

``color_transfer`` is what the engine runs: each sample's own mode only, as two csrc ops
(``color_stats``: the statistics its mode needs, exact integer sums in float64; ``color_apply``: the
pixels inside the mask) plus faceswap's blur on the faceswap samples' boxes. The per-mode functions
below (rct_m, rct_fs, avg_align, faceswap) are the same formulas as plain tensor code over the whole
image, kept as the readable statement of each transfer and checked against the ops in the tests.

All take the aligned source F (uint8 [B,3,H,W]), the target/real image R (uint8), the binary mask
m (float32 [B,1,H,W]) and return uint8 [B,3,H,W]. Statistics are computed exactly where SLADD
computes them, including its quirks: rct-m's means and stds run over the whole image of Lab * mask
(zeros included) and its _scale_array over the whole image, avg-align's shift uses whole-image means
of the masked images, and rct-m converts RGB data with OpenCV's BGR2LAB (bug B11, replicated by
swapping channels). Means are exact sums of the integer data in float64, divided once.
"""
from __future__ import annotations

import torch

from sladd_fast._consts import const
from sladd_fast._sync import host_reads_ok
from sladd_fast.ops import _checks
from sladd_fast.ops.blend import box_of
from sladd_fast.ops._dispatch import op
from sladd_fast.synthesis.filters import blur_in_box, gaussian_kernels

FACESWAP_BLUR_FRAC = 0.75  # faceswap's COLOUR_CORRECT_BLUR_FRAC


def rgb_to_lab_u8(rgb: torch.Tensor) -> torch.Tensor:
    """OpenCV 8-bit RGB2Lab: uint8 [B,3,H,W] RGB -> float32 [B,3,H,W] with L*255/100, a+128, b+128,
    rounded to integers as cvtColor's uint8 output (csrc op ``rgb_to_lab``)."""
    _checks.tensor("rgb", rgb, torch.uint8, (None, 3, None, None))
    return op("rgb_to_lab")(rgb.contiguous())


def lab_u8_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """Inverse of rgb_to_lab_u8: uint8-valued Lab (float32 [B,3,H,W]) -> uint8 RGB (OpenCV 8-bit
    Lab2RGB; csrc op ``lab_to_rgb``)."""
    _checks.tensor("lab", lab, torch.float32, (None, 3, None, None))
    return op("lab_to_rgb")(lab.contiguous())


def _scale_array(x: torch.Tensor) -> torch.Tensor:
    """color_transfer's _scale_array(clip=False) per (sample, channel): if values leave [0,255],
    remap [min, max] linearly onto [max(min,0), min(max,255)]."""
    mn = x.amin((2, 3), keepdim=True)
    mx = x.amax((2, 3), keepdim=True)
    lo, hi = mn.clamp(min=0), mx.clamp(max=255)
    out_of_range = (mn < 0) | (mx > 255)
    scaled = (hi - lo) * (x - mn) / (mx - mn).clamp(min=1e-6) + lo
    return torch.where(out_of_range, scaled, x)


def _mean_std(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per (sample, channel) mean and population std of integer-valued float32 [B,C,H,W] data with
    |x| < 4096, exactly: squares are exact in float32 and their sums exact in float64, so E[x^2] -
    E[x]^2 loses nothing to cancellation. One plain pass each instead of torch.std's Welford loop."""
    n = x.shape[2] * x.shape[3]
    mean = x.sum((2, 3), keepdim=True, dtype=torch.float64) / n
    var = ((x * x).sum((2, 3), keepdim=True, dtype=torch.float64) / n - mean * mean).clamp(min=0)
    return mean.float(), var.sqrt().float()


def rct_m(fake: torch.Tensor, real: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Reinhard transfer in Lab with diluted masked statistics (color_transfer.py:189-272)."""
    lab_f = rgb_to_lab_u8(fake.flip(1))  # BGR2LAB on RGB data (B11)
    lab_r = rgb_to_lab_u8(real.flip(1))
    mu_f, sd_f = _mean_std(lab_f * mask)
    mu_r, sd_r = _mean_std(lab_r * mask)
    x = (lab_f - mu_f) * (sd_r / sd_f.clamp(min=1e-6)) + mu_r
    x = torch.trunc(_scale_array(x)).clamp(0, 255)
    return lab_u8_to_rgb(x).flip(1)


def rct_fs(fake: torch.Tensor, real: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean shift inside the mask: F - mean_m(F) + mean_m(R), clipped; F outside (color_transfer.py:413-432)."""
    n = mask.double().sum((2, 3), keepdim=True).clamp(min=1)
    mu_f = ((fake.double() * mask).sum((2, 3), keepdim=True) / n).float()
    mu_r = ((real.double() * mask).sum((2, 3), keepdim=True) / n).float()
    shifted = (fake.float() - mu_f + mu_r).clamp(0, 255).to(torch.uint8)
    return torch.where(mask > 0, shifted, fake)


def avg_align(fake: torch.Tensor, real: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """clip(F m + mean(R m) - mean(F m), 0, 1) in [0,1] units, whole-image means (color_transfer.py:434-456)."""
    f = fake.float() / 255 * mask
    sums = (real.double() * mask).sum((2, 3), keepdim=True) - (fake.double() * mask).sum((2, 3), keepdim=True)
    shift = (sums / (255.0 * fake.shape[2] * fake.shape[3])).float()
    return ((f + shift).clamp(0, 1) * 255).to(torch.uint8)


def faceswap_blur_size(landmarks: torch.Tensor, size: int) -> torch.Tensor:
    """odd(int(0.75 * |mean(L42..47) - mean(L36..41)|)) of the target landmarks, int64 [B],
    capped at the largest odd size whose radius fits the image (2 * ((size - 1) // 2) - 1)."""
    d = (landmarks[:, 42:48].mean(1) - landmarks[:, 36:42].mean(1)).norm(dim=-1)
    k = torch.trunc(FACESWAP_BLUR_FRAC * d).long() | 1  # odd: an even k + 1 (two's complement: negatives too)
    return k.clamp(1, 2 * ((size - 1) // 2) - 1)


def faceswap(fake: torch.Tensor, real: torch.Tensor, mask: torch.Tensor, landmarks: torch.Tensor) -> torch.Tensor:
    """faceswap's correct_colours on masked images: F_m * G_k(R_m) / G_k'(F_m) (faceswap.py:156-189).

    G_k is cv2.GaussianBlur((k, k), 0) on uint8 (so rounded to integers); G_k' adds 128 where the
    blurred denominator is <= 1. Zero outside the mask. Square images only. Both masked images are
    zero outside the mask's box and only the box is used, so the blur runs on the box alone
    (``blur_in_box``, the same sums as a whole-image blur there).
    """
    B, C, H, W = fake.shape
    k = faceswap_blur_size(landmarks, H)
    g = gaussian_kernels(k, 2 * ((H - 1) // 2) - 1)
    fm = (fake.float() * mask).floor()
    rm = (real.float() * mask).floor()
    box = box_of(mask[:, 0] != 0)  # where the masked images can be nonzero (soft masks included)
    blurred = blur_in_box(torch.cat([rm, fm], 1), g, torch.div(k, 2, rounding_mode="floor"), box)
    g_r = torch.floor(blurred[:, :C] + 0.5)
    g_f = torch.floor(blurred[:, C:] + 0.5)
    g_f = g_f + 128 * (g_f <= 1)
    return (fm * g_r / g_f).clamp(0, 255).to(torch.uint8)


def color_transfer(fake: torch.Tensor, real: torch.Tensor, mask: torch.Tensor, landmarks: torch.Tensor,
                   mode: torch.Tensor) -> torch.Tensor:
    """Each sample's ColorMode (spec §3.4), computed for that mode only, inside the mask.

    Args:
        fake: uint8 [B,3,S,S], the aligned source. real: uint8 [B,3,S,S], the target.
        mask: float32 [B,1,S,S] in {0,1}, the target-frame mask.
        landmarks: float32 [B,68,2], the target's (faceswap's blur size).
        mode: int64 [B], ColorMode values.
    Returns:
        uint8 [B,3,S,S]: the transferred source inside the mask, 0 outside (where no blend reads it).
    """
    B, C, H, W = fake.shape
    on = mask >= 0.5
    mbox = box_of(on[:, 0])
    full = const((0, 0, W, H), mask.device, torch.int64).expand(B, 4)
    shift_modes = (mode == 1) | (mode == 2)  # rct-fs, avg-align: statistics over the mask's box
    stat_box = torch.where((mode == 0)[:, None], full, mbox * shift_modes[:, None])  # x 0: an empty box
    stats = op("color_stats")(fake.contiguous(), real.contiguous(), mask.contiguous(), mode.contiguous(), stat_box)
    # faceswap: Gaussian blurs of the masked images, on the faceswap samples' boxes only. On CPU the
    # planes are built for those samples alone; on CUDA (no host sync) for every sample, with empty
    # boxes where the mode is not faceswap, so the blur does no work there.
    fs = mode == 3
    if host_reads_ok(fake.device):
        idx = fs.nonzero().squeeze(1)
        blur_row = torch.full_like(mode, -1)
        blur_row[idx] = torch.arange(idx.numel(), device=mode.device)
        f_, r_, on_, box_, lm_ = fake[idx], real[idx], on[idx], mbox[idx], landmarks[idx]
    else:
        blur_row = torch.where(fs, torch.arange(B, device=mode.device), -1)
        f_, r_, on_, lm_ = fake, real, on, landmarks
        box_ = mbox * fs[:, None]
    k = faceswap_blur_size(lm_, H)
    g = gaussian_kernels(k, 2 * ((H - 1) // 2) - 1)
    # uint8 planes and a uint8 blur (rounded, as faceswap rounds its uint8 blurs): a quarter of the float
    # planes' memory, which on the GPU path every sample holds (the call's peak).
    planes = torch.cat([r_, f_], 1).mul_(on_)  # floor(R * m), floor(F * m): the mask is binary
    blurred = blur_in_box(planes, g, torch.div(k, 2, rounding_mode="floor"), box_)
    return op("color_apply")(fake.contiguous(), real.contiguous(), mask.contiguous(), mode.contiguous(), stats,
                             blurred, blur_row)
