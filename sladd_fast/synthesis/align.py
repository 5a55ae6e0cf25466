"""5-point similarity alignment of the partner face onto the target (spec §3.3), batched.

SLADD: umeyama(partner 5 points -> target 5 points, with scale), then cv2.warpAffine(INTER_CUBIC,
BORDER_REFLECT) of the partner image and of the deformed mask (binarised at > 0). Here the 2-D
Umeyama solution is closed form (no SVD, no trig, no host sync): the csrc op ``similarity_align``
computes the 5 points, the map and its inverse per sample, ``affine_reach_box`` the output box a warp
can reach, and ``warp_affine_cubic`` the warp with OpenCV's 1/32-px source positions (common/
align_math.h, common/warp_math.h). five_points, umeyama_similarity and invert_affine are the PyTorch
references of those steps (ops/_reference.py), kept here for callers and tests.
"""
from __future__ import annotations

import torch

from sladd_fast._consts import const_rows
from sladd_fast.ops import _checks, _reference
from sladd_fast.ops._dispatch import op


def five_points(landmarks: torch.Tensor) -> torch.Tensor:
    """SLADD face_blend.get_5_keypoint: integer eye centres (L36+L39)//2, (L42+L45)//2, nose tip L30,
    mouth corners L48, L54. float32 [B,68,2] -> float32 [B,5,2] (integer-valued)."""
    return _reference.five_points(landmarks)


def umeyama_similarity(src: torch.Tensor, dst: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Least-squares similarity (rotation, uniform scale, translation) mapping src -> dst.

    Closed form of Umeyama (1991) in 2-D: with centred points, a = mean(s.d), b = mean(s x d) and
    var = mean(|s|^2), the map is R = [[a, -b], [b, a]] / var (rotation atan2(b, a), scale
    sqrt(a^2 + b^2) / var) and t = mean(d) - R mean(s); this equals Umeyama's SVD solution including
    its reflection correction.

    Args:
        src, dst: float32 [B,N,2] (N = 5: SLADD's points).
    Returns:
        (M float32 [B,2,3], ok bool [B]); ok is False where src or dst has (near) zero spread.
    """
    return _reference.umeyama_similarity(src, dst)


def invert_affine(M: torch.Tensor) -> torch.Tensor:
    """Inverse of [B,2,3] affine maps (float64 internally)."""
    return _reference.invert_affine(M)


def similarity_align(source_landmarks: torch.Tensor,
                     target_landmarks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The partner -> target alignment of SLADD's 5 points, per sample in one op (csrc ``similarity_align``):
    umeyama_similarity(five_points(source), five_points(target)) and its inverse.

    Args:
        source_landmarks, target_landmarks: float32 [B,68,2] on one device.
    Returns:
        (M float32 [B,2,3] source -> target pixels, its inverse float32 [B,2,3], ok bool [B]); M is the
        identity where ok is False.
    """
    _checks.landmarks("source_landmarks", source_landmarks, 68, check_values=False)
    _checks.tensor("target_landmarks", target_landmarks, torch.float32, tuple(source_landmarks.shape))
    _checks.same_device(source_landmarks=source_landmarks, target_landmarks=target_landmarks)
    return op("similarity_align")(source_landmarks.contiguous(), target_landmarks.contiguous())


def warp_affine(images: torch.Tensor, M: torch.Tensor, box: torch.Tensor | None = None, *,
                inverse: torch.Tensor | None = None) -> torch.Tensor:
    """cv2.warpAffine(src, M, (W, H), INTER_CUBIC, BORDER_REFLECT) for a batch (csrc op
    ``warp_affine_cubic``: OpenCV's 1/32-px source positions and a = -0.75 cubic weights).

    Args:
        images: float32 or uint8 [B,C,H,W]. M: float32 [B,2,3], forward map source -> output pixels.
        box: optional int64 [B,4] (x, y, w, h): only these output pixels are computed, the rest is 0.
        inverse: optional float32 [B,2,3], invert_affine(M) where the caller has it (similarity_align).
    Returns:
        [B,C,H,W] of the input's dtype: float32 not rounded; uint8 saturated (round half up, clamp),
        as cv2.warpAffine returns it (to_u8 of the float result).
    """
    B, _, H, W = images.shape
    if box is None:
        box = const_rows((0, 0, W, H), B, images.device, torch.int64)  # contiguous: no copy per call
    if inverse is None:
        inverse = invert_affine(M)
    return op("warp_affine_cubic")(images.contiguous(), inverse.contiguous(), box.contiguous())




def reach_box(src_box: torch.Tensor, M: torch.Tensor, size: int) -> torch.Tensor:
    """The output pixels of warp_affine(., M) that can be nonzero for an input that is zero outside
    ``src_box``: int64 [B,4] (x, y, w, h), conservative, no host sync (csrc op ``affine_reach_box``).

    BORDER_REFLECT lets taps beyond the image read mirrored pixels (index i is read at i, -1 - i and
    2 size - 1 - i), so each axis has the box and its two mirror images; each of the 9 combinations
    is grown by the cubic reach, mapped by M and clipped to the image before they are united (an
    off-image mirror never widens the box). Where the output maps beyond one reflection, the whole
    image is returned.
    """
    _checks.tensor("src_box", src_box, torch.int64, (None, 4))
    _checks.tensor("M", M, torch.float32, (src_box.shape[0], 2, 3))
    _checks.same_device(src_box=src_box, M=M)
    if int(size) < 1:
        raise ValueError(f"size must be positive, got {size}")
    return op("affine_reach_box")(src_box.contiguous(), M.contiguous(), int(size))


def to_u8(x: torch.Tensor) -> torch.Tensor:
    """OpenCV's saturate_cast<uchar> of a float result: round half up, clamp to [0,255]."""
    return (x + 0.5).floor_().clamp_(0, 255).to(torch.uint8)  # in place: one temporary, not three


def fraction_inside(mask: torch.Tensor, M: torch.Tensor, cell: int = 4) -> torch.Tensor:
    """Share of a mask's area that the affine map M puts inside the (same-sized) output image.

    The warp samples with BORDER_REFLECT, so a region mapped off the image comes back as mirrored
    fragments; this measures the region itself. Evaluated on cell x cell blocks at their centres
    (exact up to the blocks cut by the image edge).

    csrc op ``fraction_inside`` (common/align_math.h): a pass per row of blocks, then one per sample.

    Args:
        mask: float32 [B,1,S,S] in [0,1], in the source frame.
        M: float32 [B,2,3], forward map source -> output pixels.
        cell: the block side (1 where it does not divide S).
    Returns:
        float32 [B] in [0,1]; 0 for an empty mask.
    """
    _checks.tensor("mask", mask, torch.float32, (None, 1, None, None))
    if mask.shape[2] != mask.shape[3]:
        raise ValueError(f"mask must be square [B,1,S,S], got {list(mask.shape)}")
    _checks.tensor("M", M, torch.float32, (mask.shape[0], 2, 3))
    _checks.same_device(mask=mask, M=M)
    if cell < 1:
        raise ValueError(f"cell must be positive, got {cell}")
    S = mask.shape[-1]
    if S % cell:
        cell = 1
    return op("fraction_inside")(mask.contiguous(), M.contiguous(), int(cell))


def landmarks_in_frame(landmarks: torch.Tensor, size: int, margin: float) -> torch.Tensor:
    """bool [B]: every point of float32 [B,K,2] lies within ``margin`` image sides of a size x size
    image (NaN is outside)."""
    lo, hi = -margin * size, (1.0 + margin) * size
    return ((landmarks >= lo) & (landmarks <= hi)).flatten(1).all(1)
