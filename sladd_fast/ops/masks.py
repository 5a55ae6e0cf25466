"""Landmark masks: SLADD's 10 forgery regions and filled convex hulls. Non-differentiable.

Pixel convention (OpenCV / dlib): pixel (row i, col j) has its centre at (x=j, y=i). Both masks are
the pixels OpenCV draws (cv2.line, cv2.fillConvexPoly), decided in exact integer arithmetic, so every
backend returns the same bits.
"""
from __future__ import annotations

import torch

from sladd_fast import _jit
from sladd_fast.ops import _checks
from sladd_fast.ops._dispatch import op

NUM_REGIONS = 10


def region_mask(landmarks: torch.Tensor, region: torch.Tensor, size: int = 256, *,
                check_values: bool = True) -> torch.Tensor:
    """SLADD forgery-region masks (spec §3.1) from dlib-68 landmarks.

    Each region is a union of 1-3 primitives, each exactly SLADD's pixel set: cv2.line(thickness=2,
    LINE_8) between two key points (eye corners, eye centres, subnasale to the eye midpoint, mouth
    corners), then scipy.ndimage.binary_dilation with the 4-connected cross for d iterations, d being
    4*floor(w/4) for an eye of width w, floor(IOD/4) for both eyes and the nose, floor(w/3) for a mouth
    of width w (d = 0 keeps the line, where SLADD's scipy call would fill the image: B3). Landmarks
    are truncated toward zero to integers first, as SLADD's key points are. The line follows OpenCV
    <= 4.12 (SLADD's 4.5.1); OpenCV 4.13+ differs only for segments that leave the image.

    Args:
        landmarks: float32 [B,68,2], pixels, (x, y), dlib 68-point order, any device.
        region: int64 [B] in 0..9 (0 eye L, 1 eye R, 2 both eyes, 3 nose, 4 mouth, 5 nose+eye L,
            6 nose+eye R, 7 nose+both eyes, 8 nose+mouth, 9 both eyes+nose+mouth), same device.
        size: side of the square canvas.
        check_values: check NaN/inf and the region range (a host sync on GPU).

    Returns:
        float32 [B,1,size,size] in {0,1}, on the landmarks' device, contiguous.

    Example:
        >>> m = region_mask(torch.rand(2, 68, 2) * 256, torch.tensor([0, 9]))
    """
    _checks.landmarks("landmarks", landmarks, 68, check_values)
    _checks.tensor("region", region, torch.int64, (None,))
    _checks.batch("region", region, landmarks.shape[0])
    _checks.same_device(landmarks=landmarks, region=region)
    size = _checks.size("size", size)
    if check_values:
        _checks.in_range("region", region, 0, NUM_REGIONS - 1)
    return op("region_mask")(landmarks.contiguous(), region.contiguous(), size)


def hull_mask(landmarks: torch.Tensor, size: int = 256, index: torch.Tensor | list[int] | None = None, *,
              check_values: bool = True) -> torch.Tensor:
    """Filled convex hull of all (or the listed) landmarks of each sample, pixel for pixel what
    Self-Blended Images and Face X-ray draw: ``cv2.fillConvexPoly(mask, cv2.convexHull(pts), 1)``.

    Integer landmarks (every hull vertex a whole pixel): exactly that call on ``pts.astype(np.int32)``
    (LINE_8, shift 0: the edges are cv2's Bresenham lines, the inside its scanline spans), points
    outside the canvas included (those recipes truncate float landmarks with ``astype('int32')``
    first: pass ``landmarks.trunc()`` for that). Any other input: each point in 16.16 fixed point,
    ``round(p * 65536)`` (half to even), and the same call with ``shift=16`` (edges by cv2's
    fixed-point line), i.e. what cv2 draws for the sub-pixel hull. Collinear or repeated points give
    cv2's line or single pixel, not an empty mask. The hull is cv2's (strictly convex, collinear points
    dropped, same orientation); coordinates are clamped to +-2^20 px (NaN -> 0 with check_values=False).

    Args:
        landmarks: float32 [B,K,2], pixels, (x, y), K <= 128 after ``index``; or [B,P,K,2]: P hulls
            per sample, whose union is drawn (Face X-ray's multi-part hulls, one call).
        size: side of the square canvas.
        index: optional landmark indices (int64 tensor or list) selecting the hull points.
        check_values: check NaN/inf (a host sync on GPU).

    Returns:
        float32 [B,1,size,size] in {0,1}, on the landmarks' device.
    """
    limit = _jit.constants()["kMaxHullInput"]  # the kernels' point limit (common/geometry.h)
    landmarks = _checks.hull_landmarks(landmarks, None if index is not None else limit)
    if check_values:
        _checks.finite("landmarks", landmarks)
    size = _checks.size("size", size)
    K = landmarks.shape[-2]
    if index is not None:
        idx = torch.as_tensor(index, dtype=torch.int64)
        if idx.dim() != 1 or idx.numel() == 0:
            raise ValueError(f"index must be a non-empty 1-D list of landmark indices, got shape {list(idx.shape)}")
        if bool((idx < 0).any()) or bool((idx >= K).any()):
            raise ValueError(f"index must lie in [0, {K - 1}]")
        landmarks = _checks.hull_landmarks(landmarks[..., idx.to(landmarks.device), :], limit)  # limit after index
    return op("hull_mask")(landmarks.contiguous(), size)
