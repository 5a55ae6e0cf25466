"""5-point similarity alignment of the partner face onto the target (spec §3.3), batched.

SLADD: umeyama(partner 5 points -> target 5 points, with scale), then cv2.warpAffine(INTER_CUBIC,
BORDER_REFLECT) of the partner image and of the deformed mask (binarised at > 0). Here the 2-D
Umeyama solution is closed form (no SVD, no host sync), and the warp is grid_sample(bicubic,
a = -0.75 as OpenCV, reflection padding == BORDER_REFLECT) with OpenCV's pixel-centre convention.
OpenCV quantises source positions to 1/32 px; this does not (<= 1/64 px difference).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from sladd_fast._consts import const
from sladd_fast.ops._dispatch import op


def five_points(landmarks: torch.Tensor) -> torch.Tensor:
    """SLADD face_blend.get_5_keypoint: integer eye centres (L36+L39)//2, (L42+L45)//2, nose tip L30,
    mouth corners L48, L54. float32 [B,68,2] -> float32 [B,5,2] (integer-valued)."""
    L = landmarks.clamp(-1048576.0, 1048576.0).trunc()  # dlib landmarks are integers
    eye_l = torch.div(L[:, 36] + L[:, 39], 2, rounding_mode="floor")
    eye_r = torch.div(L[:, 42] + L[:, 45], 2, rounding_mode="floor")
    return torch.stack([eye_l, eye_r, L[:, 30], L[:, 48], L[:, 54]], 1)


def umeyama_similarity(src: torch.Tensor, dst: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Least-squares similarity (rotation, uniform scale, translation) mapping src -> dst.

    Closed form of Umeyama (1991) in 2-D: with centred points, a = mean(s.d), b = mean(s x d),
    the optimal rotation is atan2(b, a) and the scale sqrt(a^2 + b^2) / var(s); this equals
    Umeyama's SVD solution including its reflection correction.

    Args:
        src, dst: float32 [B,N,2].
    Returns:
        (M float32 [B,2,3], ok bool [B]); ok is False where src or dst has (near) zero spread.
    """
    s = src.double()
    d = dst.double()
    ms, md = s.mean(1, keepdim=True), d.mean(1, keepdim=True)
    sc, dc = s - ms, d - md
    var_s = (sc**2).sum(-1).mean(1)
    var_d = (dc**2).sum(-1).mean(1)
    a = (sc * dc).sum(-1).mean(1)
    b = (sc[..., 0] * dc[..., 1] - sc[..., 1] * dc[..., 0]).mean(1)
    ok = (var_s > 1.0) & (var_d > 1.0)
    scale = torch.sqrt(a**2 + b**2) / var_s.clamp(min=1.0)
    theta = torch.atan2(b, a)
    c, si = torch.cos(theta) * scale, torch.sin(theta) * scale
    R = torch.stack([torch.stack([c, -si], -1), torch.stack([si, c], -1)], -2)  # [B,2,2]
    t = md[:, 0] - (R @ ms[:, 0, :, None])[..., 0]
    M = torch.cat([R, t[..., None]], -1)
    eye = const(((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)), M.device, M.dtype)
    return torch.where(ok[:, None, None], M, eye).float(), ok


def invert_affine(M: torch.Tensor) -> torch.Tensor:
    """Inverse of [B,2,3] affine maps (float64 internally)."""
    A = M[:, :, :2].double()
    t = M[:, :, 2].double()
    a, b, c, d = A[:, 0, 0], A[:, 0, 1], A[:, 1, 0], A[:, 1, 1]
    det = a * d - b * c
    det = torch.where(det.abs() < 1e-12, torch.ones_like(det), det)  # callers mark these samples invalid
    Ai = torch.stack([torch.stack([d, -b], -1), torch.stack([-c, a], -1)], -2) / det[:, None, None]
    return torch.cat([Ai, -(Ai @ t[..., None])], -1).float()


def warp_affine(images: torch.Tensor, M: torch.Tensor, box: torch.Tensor | None = None) -> torch.Tensor:
    """cv2.warpAffine(src, M, (W, H), INTER_CUBIC, BORDER_REFLECT) for a batch (csrc op
    ``warp_affine_cubic``: OpenCV's 1/32-px source positions and a = -0.75 cubic weights).

    Args:
        images: float32 or uint8 [B,C,H,W]. M: float32 [B,2,3], forward map source -> output pixels.
        box: optional int64 [B,4] (x, y, w, h): only these output pixels are computed, the rest is 0.
    Returns:
        [B,C,H,W] of the input's dtype: float32 not rounded; uint8 saturated (round half up, clamp),
        as cv2.warpAffine returns it (to_u8 of the float result).
    """
    B, _, H, W = images.shape
    if box is None:
        box = const((0, 0, W, H), images.device, torch.int64).expand(B, 4)
    return op("warp_affine_cubic")(images.contiguous(), invert_affine(M).contiguous(), box.contiguous())


CUBIC_REACH = 3  # output pixels whose 4x4 taps (floor(s) - 1 .. floor(s) + 2) can touch a source pixel: +-2, +1 spare


def reach_box(src_box: torch.Tensor, M: torch.Tensor, size: int) -> torch.Tensor:
    """The output pixels of warp_affine(., M) that can be nonzero for an input that is zero outside
    ``src_box``: int64 [B,4] (x, y, w, h), conservative, no host sync.

    BORDER_REFLECT lets taps beyond the image read mirrored pixels (index i is read at i, -1 - i and
    2 size - 1 - i), so each axis has the box and its two mirror images; each of the 9 combinations
    is grown by the cubic reach, mapped by M and clipped to the image before they are united (an
    off-image mirror never widens the box). Where the output maps beyond one reflection, the whole
    image is returned.
    """
    B = src_box.shape[0]
    dev = src_box.device
    S = float(size)
    b = src_box.double()
    x0, y0 = b[:, 0:1], b[:, 1:2]
    x1, y1 = x0 + b[:, 2:3] - 1, y0 + b[:, 3:4] - 1  # inclusive
    empty = (src_box[:, 2] <= 0) | (src_box[:, 3] <= 0)
    # Per axis the box and its two mirror images, grown by the cubic reach: [B,3] lows and highs.
    r = CUBIC_REACH
    xl = torch.cat([x0, -x1 - 1, 2 * S - 1 - x1], 1) - r
    xh = torch.cat([x1, -x0 - 1, 2 * S - 1 - x0], 1) + r
    yl = torch.cat([y0, -y1 - 1, 2 * S - 1 - y1], 1) - r
    yh = torch.cat([y1, -y0 - 1, 2 * S - 1 - y0], 1) + r
    # The 9 combinations' 4 corners, [B,9,4], mapped by M.
    pick = const(((0.0, 1.0, 0.0, 1.0),), dev, torch.float64)  # corner uses the high x?
    xs = (xl[:, :, None] + (xh - xl)[:, :, None] * pick)[:, :, None, :].expand(B, 3, 3, 4).reshape(B, 9, 4)
    pick_y = const(((0.0, 0.0, 1.0, 1.0),), dev, torch.float64)
    ys = (yl[:, :, None] + (yh - yl)[:, :, None] * pick_y)[:, None, :, :].expand(B, 3, 3, 4).reshape(B, 9, 4)
    A = M.double()
    mx = A[:, 0, 0, None, None] * xs + A[:, 0, 1, None, None] * ys + A[:, 0, 2, None, None]
    my = A[:, 1, 0, None, None] * xs + A[:, 1, 1, None, None] * ys + A[:, 1, 2, None, None]
    ax0, ax1, ay0, ay1 = mx.amin(2), mx.amax(2), my.amin(2), my.amax(2)  # [B,9]
    hit = (ax1 >= 0) & (ax0 <= S - 1) & (ay1 >= 0) & (ay0 <= S - 1)
    inf = float("inf")
    lo_x = torch.where(hit, ax0.floor().clamp(0, S - 1), inf).amin(1)
    hi_x = torch.where(hit, ax1.ceil().clamp(0, S - 1), -inf).amax(1)
    lo_y = torch.where(hit, ay0.floor().clamp(0, S - 1), inf).amin(1)
    hi_y = torch.where(hit, ay1.ceil().clamp(0, S - 1), -inf).amax(1)
    # Beyond one reflection: the output's source positions leave [-size - 3, 2 size + 3).
    Mi = invert_affine(M).double()
    cx = const((-0.5, S - 0.5, -0.5, S - 0.5), dev, torch.float64)
    cy = const((-0.5, -0.5, S - 0.5, S - 0.5), dev, torch.float64)
    sx = Mi[:, 0, 0, None] * cx + Mi[:, 0, 1, None] * cy + Mi[:, 0, 2, None]
    sy = Mi[:, 1, 0, None] * cx + Mi[:, 1, 1, None] * cy + Mi[:, 1, 2, None]
    far = torch.cat([sx, sy], 1)
    beyond = (far.amin(1) < -S - CUBIC_REACH) | (far.amax(1) >= 2 * S + CUBIC_REACH) | ~torch.isfinite(far).all(1)
    none = ~torch.isfinite(lo_x) | empty
    box = torch.stack([lo_x, lo_y, hi_x - lo_x + 1, hi_y - lo_y + 1], 1)
    box = torch.where(none[:, None], torch.zeros_like(box), box)
    full = const((0.0, 0.0, S, S), dev, torch.float64).expand(B, 4)
    return torch.where((beyond & ~empty)[:, None], full, box).long()


def to_u8(x: torch.Tensor) -> torch.Tensor:
    """OpenCV's saturate_cast<uchar> of a float result: round half up, clamp to [0,255]."""
    return (x + 0.5).floor_().clamp_(0, 255).to(torch.uint8)  # in place: one temporary, not three


def fraction_inside(mask: torch.Tensor, M: torch.Tensor, cell: int = 4) -> torch.Tensor:
    """Share of a mask's area that the affine map M puts inside the (same-sized) output image.

    The warp samples with BORDER_REFLECT, so a region mapped off the image comes back as mirrored
    fragments; this measures the region itself. Evaluated on cell x cell blocks at their centres
    (exact up to the blocks cut by the image edge).

    Args:
        mask: float32 [B,1,S,S] in [0,1], in the source frame.
        M: float32 [B,2,3], forward map source -> output pixels.
    Returns:
        float32 [B] in [0,1]; 0 for an empty mask.
    """
    S = mask.shape[-1]
    if S % cell:
        cell = 1
    w = F.avg_pool2d(mask, cell) if cell > 1 else mask  # [B,1,n,n]
    n = w.shape[-1]
    c = torch.arange(n, device=mask.device, dtype=torch.float32) * cell + (cell - 1) / 2
    x, y = c.view(1, 1, n), c.view(1, n, 1)
    mx = M[:, 0, 0, None, None] * x + M[:, 0, 1, None, None] * y + M[:, 0, 2, None, None]
    my = M[:, 1, 0, None, None] * x + M[:, 1, 1, None, None] * y + M[:, 1, 2, None, None]
    lo, hi = -0.5, S - 0.5
    inside = ((mx >= lo) & (mx <= hi) & (my >= lo) & (my <= hi)).to(w.dtype)
    w = w[:, 0]
    return (w * inside).sum((1, 2)) / w.sum((1, 2)).clamp(min=1e-12)


def landmarks_in_frame(landmarks: torch.Tensor, size: int, margin: float) -> torch.Tensor:
    """bool [B]: every point of float32 [B,K,2] lies within ``margin`` image sides of a size x size
    image (NaN is outside)."""
    lo, hi = -margin * size, (1.0 + margin) * size
    return ((landmarks >= lo) & (landmarks <= hi)).flatten(1).all(1)
