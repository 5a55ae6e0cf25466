"""sladd_fast.synthesize: SLADD's forgery synthesis (spec §3) for a whole batch, on its device.

One call does, for every sample at once: region mask from the partner's own landmarks (B1 fixed),
random piecewise-affine deformation, 5-point similarity alignment of partner onto target with
bicubic warps, erode/dilate and blur-threshold post-processing, one of four colour transfers, the
tiny-mask guard, and the alpha / Poisson / copy-with-ratio blend; plus the 16x16 mask target.
No per-sample Python loop; on CUDA no host-device sync (with check_values=False). On CPU, the
expensive per-type branches (Poisson, the colour modes) run only on the samples that need them; on
CUDA the Poisson solve costs only the Poisson samples' boxes (the others enter it unselected, with
empty boxes).
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import torch
import torch.nn.functional as F

from sladd_fast._consts import const
from sladd_fast._sync import host_reads_ok
from sladd_fast.ops import _checks
from sladd_fast.ops.blend import blend_linear, blend_poisson, box_of, feather_alpha, mask_bbox
from sladd_fast.ops.masks import NUM_REGIONS, region_mask
from sladd_fast.synthesis import align, color, deform
from sladd_fast.synthesis.constants import (LANDMARK_FRAME, MASK_TARGET_SIZE, MIN_INSIDE_FRACTION, MIN_MASK_FRACTION,
                                           BlendType, ColorMode)
from sladd_fast.synthesis.filters import blur_support, gaussian_kernels, morph_square
from sladd_fast.synthesis.params import SynthesisParams, sample_params
from sladd_fast.synthesis.stages import stage

MAX_BLUR = 17  # mask_postprocess blur sizes are 1..17


@dataclasses.dataclass(frozen=True)
class SynthesisResult:
    """Output of synthesize() for B samples, all on the input device.

    Attributes:
        images: uint8 [B,3,H,W]; the target itself where ``applied`` is False.
        masks: float32 [B,1,H,W] in {0,1}, the blended region (tgt_mask); zeros where not applied.
        mask_targets: float32 [B,1,16,16] in {0,1}, cv2.resize(mask, (16,16), INTER_CUBIC) of
            ``masks`` as SLADD computes the map-head target; zeros where not applied.
        applied: bool [B]; False where blend_type is NONE, the guard fired (mask < 0.5% of the
            image or an all-black colour-transferred source), landmarks were invalid, the
            alignment was degenerate, less than half of the aligned region falls inside the target
            image, or a landmark lies more than half an image side outside its frame. Such
            samples stay real (bug B7 fixed).
        params: the SynthesisParams used (pass them back to replay the batch).
    """

    images: torch.Tensor
    masks: torch.Tensor
    mask_targets: torch.Tensor
    applied: torch.Tensor
    params: SynthesisParams


def where_b(select: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a where ``select`` (bool [B]) is True, b elsewhere; a and b [B, ...] on select's device."""
    return torch.where(select.view(-1, *([1] * (a.dim() - 1))), a, b)


def on_subset(select: torch.Tensor, fn: Callable[..., torch.Tensor], default: torch.Tensor,
               *args: torch.Tensor, overwrite: bool = False) -> torch.Tensor:
    """fn(*args) where ``select`` [B] is True, ``default`` elsewhere.

    On CUDA fn runs on the whole batch and the result is selected (no sync). On CPU there is no device
    to sync with, so only the selected rows are computed, written into a copy of ``default`` or, with
    ``overwrite``, into ``default`` itself (a buffer the caller owns).
    """
    if host_reads_ok(select.device):
        idx = select.nonzero().squeeze(1)
        out = default if overwrite else default.clone()
        if idx.numel():
            out[idx] = fn(*(a[idx] for a in args))
        return out
    return where_b(select, fn(*args), default)


def mask_postprocess(mask: torch.Tensor, params: SynthesisParams) -> torch.Tensor:
    """SLADD face_blend.mask_postprocess on a {0,1} float mask [B,1,H,W] (spec §3.3 step 4):
    erode or dilate with a k x k square, then (p = 0.9) GaussianBlur(k_b, sigma auto) of the uint8
    0/1 mask, whose uint8 rounding is a threshold at 0.5. Stays binary."""
    x = morph_square(mask, params.morph_op, params.morph_k)
    radius = torch.div(params.blur_k, 2, rounding_mode="floor")
    blurred = blur_support(x, gaussian_kernels(params.blur_k, MAX_BLUR), radius)
    return (blurred >= 0.5).float()


def mask_target(mask: torch.Tensor) -> torch.Tensor:
    """cv2.resize(uint8 mask, (16,16), INTER_CUBIC): bicubic (a=-0.75) point sampling without
    antialiasing, then uint8 rounding. OpenCV 4.x rounds exact .5 results *down* here (measured on
    336 of 336 ties), so ties round down. float32 [B,1,H,W] in {0,1} -> float32 [B,1,16,16] in {0,1}."""
    y = F.interpolate(mask, size=(MASK_TARGET_SIZE, MASK_TARGET_SIZE), mode="bicubic", align_corners=False)
    return torch.ceil(y - 0.5).clamp(0, 1)


def _validate(target, source, target_landmarks, source_landmarks, region, blend_type, ratio, valid,
              check_values) -> torch.device:
    _checks.tensor("target", target, torch.uint8, (None, 3, None, None))
    B, _, H, W = target.shape
    if H != W:
        raise ValueError(f"target must be square [B,3,S,S], got {list(target.shape)}")
    if H < 16:
        raise ValueError(f"target must be at least 16x16, got {H}x{W}")
    _checks.tensor("source", source, torch.uint8, (B, 3, H, W))
    _checks.landmarks("target_landmarks", target_landmarks, 68, check_values)
    _checks.landmarks("source_landmarks", source_landmarks, 68, check_values)
    _checks.batch("target_landmarks", target_landmarks, B)
    _checks.batch("source_landmarks", source_landmarks, B)
    _checks.tensor("region", region, torch.int64, (B,))
    _checks.tensor("blend_type", blend_type, torch.int64, (B,))
    _checks.tensor("ratio", ratio, torch.float32, (B,))
    tensors = dict(target=target, source=source, target_landmarks=target_landmarks,
                   source_landmarks=source_landmarks, region=region, blend_type=blend_type, ratio=ratio)
    if valid is not None:
        _checks.tensor("valid", valid, torch.bool, (B,))
        tensors["valid"] = valid
    device = _checks.same_device(**tensors)
    if check_values:
        _checks.in_range("region", region, 0, NUM_REGIONS - 1)
        _checks.in_range("blend_type", blend_type, 0, len(BlendType) - 1)
        _checks.finite("ratio", ratio)
        _checks.in_range("ratio", ratio, 0.0, 1.0)
    return device


def synthesize(target: torch.Tensor, source: torch.Tensor, target_landmarks: torch.Tensor,
               source_landmarks: torch.Tensor, region: torch.Tensor, blend_type: torch.Tensor,
               ratio: torch.Tensor, generator: torch.Generator | None = None, *,
               valid: torch.Tensor | None = None, params: SynthesisParams | None = None,
               check_values: bool = True) -> SynthesisResult:
    """Synthesizes SLADD forgeries: the partner (source) face pasted into the target's region.

    Args:
        target: uint8 [B,3,S,S], the real faces (square, S >= 16), any device.
        source: uint8 [B,3,S,S], the partner faces, same device.
        target_landmarks, source_landmarks: float32 [B,68,2], pixels, (x, y), dlib order. The region
            is drawn from the partner's own landmarks and aligned onto the target (B1 fixed).
        region: int64 [B] in 0..9 (Region). blend_type: int64 [B] in 0..3 (BlendType).
        ratio: float32 [B] in [0,1], the copy-with-ratio weight (SLADD's sigmoid(z)).
        generator: torch.Generator on the batch's device for the random draws (colour mode,
            erode/dilate, kernel sizes, deformation noise, feather); None uses the default one.
        valid: optional bool [B]; False marks frames without landmarks, which are never
            synthesized on (B3 fixed).
        params: optional SynthesisParams to replay instead of drawing new ones.
        check_values: check NaN and ranges of the inputs (a host sync on GPU; turn off in a hot
            loop fed by trusted code).

    Returns:
        SynthesisResult (images, masks, mask_targets, applied, params).

    Example:
        >>> out = synthesize(real, partner, real_lm, partner_lm, region, blend_type, ratio,
        ...                  generator=torch.Generator(real.device).manual_seed(0))
    """
    device = _validate(target, source, target_landmarks, source_landmarks, region, blend_type, ratio, valid,
                       check_values)
    B, _, S, _ = target.shape
    if params is None:
        with stage("params"):  # the random draws: launches of their own on a GPU
            params = sample_params(B, S, device, generator)
    elif len(params) != B or params.morph_op.device != device:
        raise ValueError(f"params must hold {B} samples on {device}")
    if B == 0:
        empty = torch.zeros(0, 1, S, S, device=device)
        return SynthesisResult(target.clone(), empty, torch.zeros(0, 1, 16, 16, device=device),
                               torch.zeros(0, dtype=torch.bool, device=device), params)

    # 1. Region in the partner's frame, deformed (spec §3.1-3.2).
    with stage("region"):
        region_m = region_mask(source_landmarks, region, S, check_values=False)
    with stage("deform"):
        m_d = deform.random_deform(region_m, params.deform_noise)
        # Dead intermediates are dropped as they die (here and below): the GPU path's peak memory is
        # reached later (faceswap's planes, the Poisson solve), and they would all still be held there.
        del region_m
    # 2. Align partner -> target (spec §3.3); the mask is binarised at > 0 after the cubic warp.
    with stage("align"):
        M, M_inv, align_ok = align.similarity_align(source_landmarks, target_landmarks)
        # The mask first, on the output pixels its taps can reach (mirror images included).
        m_box = align.reach_box(box_of(m_d[:, 0] != 0), M, S)
        src_mask = (align.warp_affine(m_d, M, m_box, inverse=M_inv) > 0).float()
    with stage("guard"):  # computed here, so the deformed mask can go before the colour stage's buffers
        on_image = align.fraction_inside(m_d, M) >= MIN_INSIDE_FRACTION  # not the warp's reflected fragments
        del m_d
    with stage("postprocess"):
        tgt_mask = mask_postprocess(src_mask, params)
        del src_mask
    with stage("align"):
        # The partner image only where it is read: inside the target mask, or everywhere for rct-m,
        # whose _scale_array spans the whole image.
        full = const((0, 0, S, S), device, torch.int64).expand(B, 4)
        src_box = torch.where((params.color_mode == ColorMode.RCT_M)[:, None], full, mask_bbox(tgt_mask))
        aligned_src = align.warp_affine(source, M, src_box, inverse=M_inv)  # uint8 in and out, as cv2.warpAffine
    # 3. Colour transfer (spec §3.4).
    with stage("color"):
        src_crop = color.color_transfer(aligned_src, target, tgt_mask, target_landmarks, params.color_mode)
        del aligned_src
    # 4. Guard (spec §3.5) and the samples that stay real.
    with stage("guard"):
        big_enough = tgt_mask.mean((1, 2, 3)) >= MIN_MASK_FRACTION
        not_black = src_crop.amax((1, 2, 3)) > 0  # inside the mask: src_crop is 0 outside
        # Both landmark sets in one check, and the conditions in one stack: a launch each, not one per &.
        in_frame = align.landmarks_in_frame(torch.cat([target_landmarks, source_landmarks], 1), S, LANDMARK_FRAME)
        conditions = [big_enough, not_black, align_ok, on_image, in_frame, blend_type != BlendType.NONE]
        applied = torch.stack(conditions + ([valid] if valid is not None else [])).all(0)
    # 5. Blends (spec §3.6): alpha and copy share one kernel; Poisson only where needed.
    with stage("blend"):
        weight = torch.where(blend_type == BlendType.ALPHA, feather_alpha(tgt_mask, params.feather), ratio)
        weight = torch.where(applied, weight, 0.0)  # R + m 0 (S - R) == R exactly: the samples that stay real
        linear = blend_linear(target, src_crop, tgt_mask, weight, check_values=False)
        poisson_sel = applied & (blend_type == BlendType.POISSON)
        masks = tgt_mask * applied.view(-1, 1, 1, 1)  # {0, 1} planes: the product is the selection, one op
        del tgt_mask
        # On the sync-free path every sample enters the Poisson blend, the others unselected: their empty
        # boxes cost the DST products nothing, so only the Poisson samples pay for the solve. (On CPU
        # on_subset hands over the Poisson rows alone.)
        sel = None if host_reads_ok(device) else poisson_sel
        images = on_subset(poisson_sel, lambda s, t, m: blend_poisson(t, s, m, check_values=False, select=sel),
                           linear, src_crop, target, masks)
    with stage("target"):
        targets = mask_target(masks)
    return SynthesisResult(images, masks, targets, applied, params)
