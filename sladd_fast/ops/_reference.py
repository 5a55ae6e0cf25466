"""Pure-PyTorch references for every csrc op: the test oracle, and the fallback without _C.

Written from the spec (../shared/docs/sladd_spec.md §3, seamless_clone.md), not from the kernels:
the region masks draw cv2's thick line pixel by pixel (_line_raster) and dilate it d times with the
4-connected cross, as scipy's binary_dilation does, where the kernels compute per-row spans; the hull
mask fills a textbook Python hull with _line_raster's fillConvexPoly, pixel by pixel.
Runs on any device. Slow by design.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F

from sladd_fast._consts import const as _const
from sladd_fast.ops import _line_raster

COORD_LIMIT = 1048576.0  # landmarks clamp to +-2^20 px, as in the kernels
MASK_ON = 0.5
ERODE_RADIUS = 3

# Region id -> primitives (SLADD synthesizer.parse).
REGION_PRIMITIVES = (
    ("eye_l",), ("eye_r",), ("eyes_b",), ("nose",), ("mouth",),
    ("nose", "eye_l"), ("nose", "eye_r"), ("nose", "eyes_b"), ("nose", "mouth"), ("eyes_b", "nose", "mouth"),
)


def _isqrt(v: torch.Tensor) -> torch.Tensor:
    s = torch.sqrt(v.double()).floor().long()
    s = torch.where(s * s > v, s - 1, s)
    return torch.where((s + 1) * (s + 1) <= v, s + 1, s)


def _segments(landmarks: torch.Tensor) -> dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Per primitive: endpoints a, b int64 [B,2] and dilation count d int64 [B] (spec §3.1)."""
    # NaN -> 0 as the kernels do (only reachable with check_values=False); truncation toward zero.
    L = torch.nan_to_num(landmarks, nan=0.0).clamp(-COORD_LIMIT, COORD_LIMIT).to(torch.int64)
    k5, k6, k7, k8 = L[:, 36], L[:, 39], L[:, 42], L[:, 45]
    k0 = torch.div(k5 + k6, 2, rounding_mode="trunc")
    k1 = torch.div(k7 + k8, 2, rounding_mode="trunc")
    k2, k3, k4 = L[:, 33], L[:, 48], L[:, 54]

    def norm_floor(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return _isqrt(((a - b) ** 2).sum(-1))

    iod4 = torch.div(norm_floor(k0, k1), 4, rounding_mode="floor")
    mid = torch.div(k0 + k1, 2, rounding_mode="trunc")
    return {
        "eye_l": (k5, k6, 4 * torch.div(norm_floor(k5, k6), 4, rounding_mode="floor")),
        "eye_r": (k7, k8, 4 * torch.div(norm_floor(k7, k8), 4, rounding_mode="floor")),
        "eyes_b": (k0, k1, iod4),
        "nose": (k2, mid, iod4),
        "mouth": (k3, k4, torch.div(norm_floor(k3, k4), 3, rounding_mode="floor")),
    }


def _cross_dilate(m: torch.Tensor, iterations: int) -> torch.Tensor:
    """scipy.ndimage.binary_dilation(m, iterations=n) with the 4-connected cross; bool [H,W]."""
    for _ in range(iterations):
        grown = m.clone()
        grown[1:] |= m[:-1]
        grown[:-1] |= m[1:]
        grown[:, 1:] |= m[:, :-1]
        grown[:, :-1] |= m[:, 1:]
        if torch.equal(grown, m):
            break  # converged (an empty mask, or the whole image)
        m = grown
    return m


def region_mask(landmarks: torch.Tensor, region: torch.Tensor, size: int) -> torch.Tensor:
    """float32 [B,1,size,size] in {0,1}; see sladd_fast.ops.region_mask.

    Per sample and primitive, as SLADD does it: cv2.line(thickness=2) between the key points, then
    d cross dilations (none for d = 0: B3 fixed), then the union of the primitives.
    """
    B = landmarks.shape[0]
    segs = {k: tuple(t.tolist() for t in v) for k, v in _segments(landmarks.cpu()).items()}
    out = torch.zeros(B, size, size, dtype=torch.bool)
    for bi, rid in enumerate(region.tolist()):
        for name in REGION_PRIMITIVES[rid] if 0 <= rid < len(REGION_PRIMITIVES) else ():
            a, b, d = segs[name][0][bi], segs[name][1][bi], segs[name][2][bi]
            m = torch.zeros(size, size, dtype=torch.bool)
            for y, x0, x1 in _line_raster.thick_line(tuple(a), tuple(b), size):
                m[y, x0:x1 + 1] = True
            out[bi] |= _cross_dilate(m, d)
    return out.view(B, 1, size, size).float().to(landmarks.device)


def hull_mask(landmarks: torch.Tensor, size: int) -> torch.Tensor:
    """float32 [B,1,size,size]: cv2.fillConvexPoly(mask, cv2.convexHull(points), 1) per sample; see
    sladd_fast.ops.hull_mask. landmarks [B,P,K,2]: the union (maximum) of the P hulls' masks.

    Points in 16.16 fixed point (round half to even of p * 65536), their strictly convex hull in
    positive orientation (the textbook monotone chain, _strict_hull, as cv2.convexHull returns it), then
    _line_raster's FillConvexPoly: shift=0 (Line edges) when every hull vertex is a whole pixel, else
    shift=16 (Line2 edges).
    """
    if landmarks.dim() == 4:  # P hulls per sample: their union
        B, P = landmarks.shape[:2]
        return hull_mask(landmarks.reshape(B * P, *landmarks.shape[2:]), size).view(B, P, size, size).amax(
            1, keepdim=True)
    B, K = landmarks.shape[:2]
    one = _line_raster.ONE
    # float32 * 65536 is exact, and torch.round rounds half to even, as rintf does.
    P = (torch.nan_to_num(landmarks.cpu(), nan=0.0).clamp(-COORD_LIMIT, COORD_LIMIT) * one).round().to(torch.int64)
    out = torch.zeros(B, size, size, dtype=torch.bool)
    for bi in range(B):
        hull = _strict_hull([(x, y) for x, y in P[bi].tolist()])
        whole = all(x % one == 0 and y % one == 0 for x, y in hull)
        for y, x0, x1 in _line_raster.fill_convex_poly(hull, size, integer_edges=whole):
            out[bi, y, x0:x1 + 1] = True
    return out.view(B, 1, size, size).float().to(landmarks.device)


def _strict_hull(points: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Textbook monotone chain: the strictly convex hull of integer (x, y) points (collinear and
    repeated points dropped), counter-clockwise."""
    pts = sorted(set(points))

    def cross(o: tuple[int, int], a: tuple[int, int], b: tuple[int, int]) -> int:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    if len(pts) < 3:
        return pts
    lower: list[tuple[int, int]] = []
    upper: list[tuple[int, int]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def hull_feather(mask: torch.Tensor, frac: torch.Tensor) -> torch.Tensor:
    """float32 [B,1,H,W]: FaceSwap's blendImages weight (Face X-ray) per on-pixel (mask != 0),
    clip(pointPolygonTest(convexHull(on-pixels), p, True) / (frac * faceSize), 0, 1); 0 elsewhere, and
    0 everywhere for a hull without area or f <= 0.

    The hull is built from each row's first and last on-pixel (a pixel between two others of its row
    is no vertex); a pixel's distance is the minimum over hull edges of its distance to the edge's
    line, |cross| exact in int64, then / sqrtf(|edge|^2) and / f in float32 (the kernels' expression).
    """
    B, _, H, W = mask.shape
    dev = mask.device
    out = torch.zeros(mask.shape, dtype=torch.float32, device=dev)
    for b in range(B):
        on = mask[b, 0] != 0
        ys, xs = on.nonzero(as_tuple=True)
        if ys.numel() == 0:
            continue
        col = torch.arange(W, device=dev)
        lo, hi = torch.where(on, col, W).amin(1).tolist(), torch.where(on, col, -1).amax(1).tolist()
        hull = _strict_hull([(x, y) for y in range(H) if hi[y] >= 0 for x in (lo[y], hi[y])])
        face = max(int(xs.max() - xs.min()), int(ys.max() - ys.min()))
        f = float(frac[b].cpu() * torch.tensor(float(face), dtype=torch.float32))  # the float32 product
        if len(hull) < 3 or not f > 0:
            continue
        d = torch.full(xs.shape, float("inf"), dtype=torch.float32, device=dev)
        for (ax, ay), (bx, by) in zip(hull, hull[1:] + hull[:1]):
            c = (bx - ax) * (ys - ay) - (by - ay) * (xs - ax)  # int64, exact
            # sqrtf, correctly rounded as in C and CUDA (torch's CPU float32 sqrt was measured 1 ulp off here, AVX-512)
            length = float(np.sqrt(np.float32((bx - ax) ** 2 + (by - ay) ** 2)))
            d = torch.minimum(d, c.abs().float() / torch.full_like(d, length))
        out[b, 0, ys, xs] = (d / torch.full_like(d, f)).clamp(0.0, 1.0)
    return out


def blend_linear(target: torch.Tensor, source: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """uint8: trunc(clamp(R + m w (S - R), 0, 255)); see sladd_fast.ops.blend_linear."""
    r = target.float()
    v = r + (mask * weight.view(-1, 1, 1, 1)) * (source.float() - r)
    return v.clamp(0, 255).to(torch.uint8)


def _crop(img: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """img[b, :, y_b + i, x_b + j] for every (i, j) of the canvas (indices clamped)."""
    B, C, H, W = img.shape
    rows = (y[:, None] + torch.arange(H, device=img.device)).clamp(0, H - 1)
    cols = (x[:, None] + torch.arange(W, device=img.device)).clamp(0, W - 1)
    out = img.gather(2, rows[:, None, :, None].expand(B, C, H, W))
    return out.gather(3, cols[:, None, None, :].expand(B, C, H, W))


def _valid(roi: torch.Tensor, H: int, W: int) -> torch.Tensor:
    # As the kernels' roi_of: a value beyond +-2^30 is -1 (the sums below cannot wrap, even from 2^62).
    roi = torch.where(roi.abs() > 2**30, -1, roi)
    x, y, w, h, dx, dy = roi.unbind(-1)
    return ((w >= 3) & (h >= 3) & (x >= 0) & (y >= 0) & (x + w <= W) & (y + h <= H) &
            (dx >= 0) & (dy >= 0) & (dx + w <= W) & (dy + h <= H))


def poisson_rhs(target: torch.Tensor, source: torch.Tensor, mask: torch.Tensor, roi: torch.Tensor) -> torch.Tensor:
    """float32 [B,C,H-2,W-2]: NORMAL_CLONE right-hand side, ROI interior moved to the origin.

    roi: int64 [B,6] (x, y, w, h, dx, dy): source box at (x, y), destination box at (dx, dy).
    Works in ROI-local coordinates: every image is cropped so that its box starts at (0, 0).
    """
    B, C, H, W = target.shape
    x, y, w, h, dx, dy = roi.unbind(-1)
    i = torch.arange(H, device=roi.device)[None, :, None]
    j = torch.arange(W, device=roi.device)[None, None, :]
    hh, ww = h[:, None, None], w[:, None, None]
    in_roi = (i < hh) & (j < ww)  # [B,H,W]
    on = (_crop(mask, x, y)[:, 0] >= MASK_ON) & in_roi
    patch = torch.where(on[:, None], _crop(source, x, y).float(), torch.zeros((), device=target.device))
    dest = _crop(target, dx, dy).float()
    # erode(3x3, 3 iterations) on a view of the tight-bbox mask: 7x7 min with everything outside the
    # ROI off (zero padding), so nothing within 3 px of the ROI edge survives.
    k = 2 * ERODE_RADIUS + 1
    eroded = (-F.max_pool2d(-on[:, None].float(), k, stride=1, padding=ERODE_RADIUS) > 0.5)
    # max_pool pads with -inf, i.e. "on": the pixels within 3 px of each ROI edge are cut explicitly
    # (the bottom and right ones too: they meet the padding where the ROI reaches the canvas edge).
    eroded &= (i >= ERODE_RADIUS)[:, None] & (j >= ERODE_RADIUS)[:, None]
    eroded &= (i <= hh - 1 - ERODE_RADIUS)[:, None] & (j <= ww - 1 - ERODE_RADIUS)[:, None]

    def fwd(t: torch.Tensor, dim: int) -> torch.Tensor:  # t[k+1] - t[k]; last entry unused
        return torch.diff(t, dim=dim, append=t.narrow(dim, t.shape[dim] - 1, 1))

    gx = torch.where(eroded, fwd(patch, 3), fwd(dest, 3))
    gy = torch.where(eroded, fwd(patch, 2), fwd(dest, 2))
    lap = torch.zeros_like(dest)
    lap[..., 1:] += gx[..., 1:] - gx[..., :-1]
    lap[..., 1:, :] += gy[..., 1:, :] - gy[..., :-1, :]
    frame = in_roi & ((i == 0) | (j == 0) | (i == hh - 1) | (j == ww - 1))
    d_frame = torch.where(frame[:, None], dest, torch.zeros((), device=dest.device))
    nb = torch.zeros_like(dest)
    nb[..., 1:, :] += d_frame[..., :-1, :]
    nb[..., :-1, :] += d_frame[..., 1:, :]
    nb[..., 1:] += d_frame[..., :-1]
    nb[..., :-1] += d_frame[..., 1:]
    interior = (i >= 1) & (j >= 1) & (i <= hh - 2) & (j <= ww - 2) & _valid(roi, H, W)[:, None, None]
    rhs = torch.where(interior[:, None], lap - nb, torch.zeros((), device=dest.device))
    return rhs[..., 1:H - 1, 1:W - 1].contiguous()


def poisson_compose(target: torch.Tensor, solution: torch.Tensor, roi: torch.Tensor) -> torch.Tensor:
    """uint8 [B,C,H,W]: target with the destination ROI interior replaced by trunc(clamp(solution))."""
    B, C, H, W = target.shape
    if target.numel() == 0:  # B = 0 or C = 0: nothing to compose (the reshape below needs an element)
        return target.clone()
    x, y, w, h, dx, dy = roi.unbind(-1)
    i = torch.arange(H, device=roi.device)[None, :, None] - dy[:, None, None]
    j = torch.arange(W, device=roi.device)[None, None, :] - dx[:, None, None]
    interior = (i >= 1) & (j >= 1) & (i <= h[:, None, None] - 2) & (j <= w[:, None, None] - 2)
    interior &= _valid(roi, H, W)[:, None, None]
    ii = (i - 1).clamp(0, H - 3).expand(B, H, W)
    jj = (j - 1).clamp(0, W - 3).expand(B, H, W)
    flat = (ii * (W - 2) + jj).reshape(B, 1, H * W).expand(B, C, H * W)
    vals = solution.reshape(B, C, -1).gather(2, flat).view(B, C, H, W)
    return torch.where(interior[:, None], vals.clamp(0, 255).to(torch.uint8), target)



def box_of(on: torch.Tensor, exclude_frame: bool) -> torch.Tensor:
    """int64 [B,4] (x, y, w, h): the bounding box of the True pixels of bool [B,H,W], (0, 0, 0, 0) where
    none; with exclude_frame the 1-pixel image frame counts as False."""
    B, H, W = on.shape
    if H == 0 or W == 0:  # no pixel: every box empty (the frame indexing below needs one)
        return torch.zeros(B, 4, dtype=torch.int64, device=on.device)
    if exclude_frame:
        on = on.clone()
        on[:, 0, :] = False
        on[:, -1, :] = False
        on[:, :, 0] = False
        on[:, :, -1] = False
    u = on.view(torch.uint8)
    rows, cols = u.amax(2) > 0, u.amax(1) > 0  # [B,H], [B,W]
    ar_h = torch.arange(H, device=on.device)
    ar_w = torch.arange(W, device=on.device)
    big = torch.iinfo(torch.int64).max
    y0 = torch.where(rows, ar_h, big).amin(1)
    y1 = torch.where(rows, ar_h, -1).amax(1)
    x0 = torch.where(cols, ar_w, big).amin(1)
    x1 = torch.where(cols, ar_w, -1).amax(1)
    empty = ~rows.any(1)
    zero = torch.zeros_like(y0)
    return torch.stack([
        torch.where(empty, zero, x0), torch.where(empty, zero, y0),
        torch.where(empty, zero, x1 - x0 + 1), torch.where(empty, zero, y1 - y0 + 1)], -1)


# Alignment geometry (common/align_math.h): elementwise float64 math in the kernels' order (sums of the 5
# points in index order, no matmul), so kernels and reference agree bit for bit.
def five_points(landmarks: torch.Tensor) -> torch.Tensor:
    """SLADD face_blend.get_5_keypoint: integer eye centres floor((L36+L39)/2), floor((L42+L45)/2), nose
    tip L30, mouth corners L48, L54 of the clamped, truncated landmarks. float32 [B,68,2] -> [B,5,2]."""
    L = landmarks.clamp(-COORD_LIMIT, COORD_LIMIT).trunc()  # dlib landmarks are integers
    eye_l = torch.div(L[:, 36] + L[:, 39], 2, rounding_mode="floor")
    eye_r = torch.div(L[:, 42] + L[:, 45], 2, rounding_mode="floor")
    return torch.stack([eye_l, eye_r, L[:, 30], L[:, 48], L[:, 54]], 1)


def _mean5(v: torch.Tensor) -> torch.Tensor:
    return ((((v[:, 0] + v[:, 1]) + v[:, 2]) + v[:, 3]) + v[:, 4]) / 5.0


def umeyama_similarity(src: torch.Tensor, dst: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Least-squares similarity src -> dst on float32 [B,5,2] points (closed-form 2-D Umeyama: R =
    [[a, -b], [b, a]] / var(src), t = mean(dst) - R mean(src)); (M float32 [B,2,3], ok bool [B]), M the
    identity where either set's variance is <= 1."""
    s, d = src.double(), dst.double()
    ms = torch.stack([_mean5(s[..., 0]), _mean5(s[..., 1])], -1)  # [B,2]
    md = torch.stack([_mean5(d[..., 0]), _mean5(d[..., 1])], -1)
    sx, sy = s[..., 0] - ms[:, None, 0], s[..., 1] - ms[:, None, 1]
    dx, dy = d[..., 0] - md[:, None, 0], d[..., 1] - md[:, None, 1]
    var_s, var_d = _mean5(sx * sx + sy * sy), _mean5(dx * dx + dy * dy)
    a, b = _mean5(sx * dx + sy * dy), _mean5(sx * dy - sy * dx)
    ok = (var_s > 1.0) & (var_d > 1.0)
    c, si = a / var_s, b / var_s
    tx = md[:, 0] - (c * ms[:, 0] + (-si) * ms[:, 1])
    ty = md[:, 1] - (si * ms[:, 0] + c * ms[:, 1])
    M = torch.stack([torch.stack([c, -si, tx], -1), torch.stack([si, c, ty], -1)], -2).float()
    eye = _const(((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)), M.device, M.dtype)
    return torch.where(ok[:, None, None], M, eye), ok


def invert_affine(M: torch.Tensor) -> torch.Tensor:
    """Inverse of float32 [B,2,3] affine maps, in float64, rounded to float32; |det| < 1e-12 divides by 1."""
    A = M.double()
    a, b, t0, c, d, t1 = A[:, 0, 0], A[:, 0, 1], A[:, 0, 2], A[:, 1, 0], A[:, 1, 1], A[:, 1, 2]
    det = a * d - b * c
    det = torch.where(det.abs() < 1e-12, torch.ones_like(det), det)
    i00, i01, i10, i11 = d / det, -b / det, -c / det, a / det
    return torch.stack([torch.stack([i00, i01, -(i00 * t0 + i01 * t1)], -1),
                        torch.stack([i10, i11, -(i10 * t0 + i11 * t1)], -1)], -2).float()


def similarity_align(source_landmarks: torch.Tensor,
                     target_landmarks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(M float32 [B,2,3], its inverse, ok bool [B]): the partner -> target similarity of SLADD's 5 points."""
    M, ok = umeyama_similarity(five_points(source_landmarks), five_points(target_landmarks))
    return M, invert_affine(M), ok


CUBIC_REACH = 3  # output pixels whose 4x4 taps (floor(s) - 1 .. floor(s) + 2) can touch a source pixel: +-2, +1 spare


def affine_reach_box(box: torch.Tensor, M: torch.Tensor, size: int) -> torch.Tensor:
    """int64 [B,4]: the output pixels of a cubic BORDER_REFLECT warp by M (float32 [B,2,3], source ->
    output) that can be nonzero for an input zero outside ``box`` (int64 [B,4], x, y, w, h) of a
    size x size image (synthesis/align.py reach_box)."""
    B = box.shape[0]
    dev = box.device
    S = float(size)
    b = box.double()
    x0, y0 = b[:, 0:1], b[:, 1:2]
    x1, y1 = x0 + b[:, 2:3] - 1, y0 + b[:, 3:4] - 1  # inclusive
    empty = (box[:, 2] <= 0) | (box[:, 3] <= 0)
    # Per axis the box and its two mirror images, grown by the cubic reach: [B,3] lows and highs.
    r = CUBIC_REACH
    xl = torch.cat([x0, -x1 - 1, 2 * S - 1 - x1], 1) - r
    xh = torch.cat([x1, -x0 - 1, 2 * S - 1 - x0], 1) + r
    yl = torch.cat([y0, -y1 - 1, 2 * S - 1 - y1], 1) - r
    yh = torch.cat([y1, -y0 - 1, 2 * S - 1 - y0], 1) + r
    # The 9 combinations' 4 corners, [B,9,4], mapped by M.
    pick = _const(((0.0, 1.0, 0.0, 1.0),), dev, torch.float64)  # corner uses the high x?
    xs = (xl[:, :, None] + (xh - xl)[:, :, None] * pick)[:, :, None, :].expand(B, 3, 3, 4).reshape(B, 9, 4)
    pick_y = _const(((0.0, 0.0, 1.0, 1.0),), dev, torch.float64)
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
    cx = _const((-0.5, S - 0.5, -0.5, S - 0.5), dev, torch.float64)
    cy = _const((-0.5, -0.5, S - 0.5, S - 0.5), dev, torch.float64)
    sx = Mi[:, 0, 0, None] * cx + Mi[:, 0, 1, None] * cy + Mi[:, 0, 2, None]
    sy = Mi[:, 1, 0, None] * cx + Mi[:, 1, 1, None] * cy + Mi[:, 1, 2, None]
    far = torch.cat([sx, sy], 1)
    beyond = (far.amin(1) < -S - CUBIC_REACH) | (far.amax(1) >= 2 * S + CUBIC_REACH) | ~torch.isfinite(far).all(1)
    none = ~hit.any(1) | empty
    box_out = torch.stack([lo_x, lo_y, hi_x - lo_x + 1, hi_y - lo_y + 1], 1)
    box_out = torch.where(none[:, None], torch.zeros_like(box_out), box_out)
    full = _const((0.0, 0.0, S, S), dev, torch.float64).expand(B, 4)
    return torch.where((beyond & ~empty)[:, None], full, box_out).long()


def fraction_inside(mask: torch.Tensor, M: torch.Tensor, cell: int) -> torch.Tensor:
    """float32 [B]: the share of mask [B,1,S,S]'s weight in cell x cell blocks (their means) whose centres
    M maps inside [-0.5, S - 0.5]^2; 0 for an empty mask (synthesis/align.py fraction_inside)."""
    S = mask.shape[-1]
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


# Face X-ray's resize taps (common/taps_math.h; augment/resample.py).
def _mirror(i: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """Reflect-101 index into [0, n) (scipy 'mirror', OpenCV BORDER_REFLECT_101); n >= 1."""
    period = (2 * n - 2).clamp(min=1)
    i = torch.remainder(i, period)
    return torch.where(i >= n, period - i, i).clamp(max=n - 1)


def skimage_taps(n_in: torch.Tensor, n_out: torch.Tensor, canvas_out: int,
                 radius: int) -> tuple[torch.Tensor, torch.Tensor]:
    """skimage.transform.resize(order=1, anti-aliased) from n_in to n_out pixels (int64 [B]) as taps
    (index int64 [B,canvas_out,T], weight float32), T = 2 (2 radius + 1): the Gaussian pre-filter (sigma =
    max(0, (n_in/n_out - 1)/2), truncate 4, mirror border), then linear interpolation at (o + 0.5)
    n_in/n_out - 0.5; zero weights for o >= n_out."""
    dev = n_in.device
    nin, nout = n_in.double()[:, None, None], n_out.double()[:, None, None]
    scale = nin / nout
    sigma = ((scale - 1) / 2).clamp(min=0)
    t = torch.arange(-radius, radius + 1, device=dev, dtype=torch.float64)[None, None]
    g = torch.exp(-0.5 * t**2 / sigma.clamp(min=1e-12) ** 2)
    g = torch.where(t.abs() <= (4 * sigma + 0.5).floor(), g, torch.zeros((), dtype=g.dtype, device=dev))
    g = torch.where(sigma > 0, g, (t == 0).double())
    g = g / g.sum(-1, keepdim=True)
    o = torch.arange(canvas_out, device=dev, dtype=torch.float64)[None, :, None]
    c = (o + 0.5) * scale - 0.5
    i0 = c.floor()
    f = c - i0
    n = n_in.clamp(min=1)
    j = _mirror(torch.cat([i0, i0 + 1], -1).long(), n[:, None, None])  # [B,O,2]
    wa = torch.cat([1 - f, f], -1) * (o < nout).double()
    idx = _mirror(j[..., None] + t.long()[..., None, :], n[:, None, None, None])  # [B,O,2,2r+1]
    w = wa[..., None] * g[:, :, None, :]
    none = (n_out < 1)[:, None, None]  # nothing to resize to: no taps (index 0, weight 0)
    idx, w = idx.flatten(2), w.flatten(2)
    return torch.where(none, 0, idx), torch.where(none, 0.0, w).float()


@functools.lru_cache(maxsize=None)  # keys: sizes and devices; never evicted (CUDA graphs read it)
def _pil_nearest(n_in: int, canvas_out: int, device: str) -> torch.Tensor:
    """float64 [canvas_out + 1, canvas_out]: Pillow's NEAREST source columns for a resize from n_in to
    every n_out in 0..canvas_out. Its affine transform accumulates the position in double, so the
    table is made the same way, once per device."""
    rows = [[0.0] * canvas_out]
    for n_out in range(1, canvas_out + 1):
        step, x, row = n_in / n_out, 0.5 * (n_in / n_out), []
        for _ in range(canvas_out):
            row.append(float(min(int(math.floor(x)), n_in - 1)))
            x += step
        rows.append(row)
    return torch.tensor(rows, dtype=torch.float64, device=device)


def pil_taps(n_in: torch.Tensor, n_out: torch.Tensor, nearest: torch.Tensor, canvas_in: int, canvas_out: int,
             span: int) -> tuple[torch.Tensor, torch.Tensor]:
    """PIL Image.resize taps (index int64 [B,canvas_out,span], weight float32) from n_in to n_out pixels:
    BILINEAR (a triangle widened by the shrink factor, normalised, clipped at the edges), or NEAREST where
    ``nearest`` (bool [B]; Pillow's affine walk over a canvas_in-pixel input: one tap of weight 1); zero
    weights for o >= n_out."""
    dev = n_in.device
    nin, nout = n_in.double()[:, None, None], n_out.double()[:, None, None]
    scale = nin / nout
    support = scale.clamp(min=1.0)  # the triangle's half-width in input pixels
    o = torch.arange(canvas_out, device=dev, dtype=torch.float64)[None, :, None]
    centre = (o + 0.5) * scale
    x = (centre - support + 0.5).floor() + torch.arange(span, device=dev, dtype=torch.float64)[None, None]
    ok = (x >= 0) & (x < nin) & (x < (centre + support + 0.5).floor())
    w = (1 - ((x - centre + 0.5) / support).abs()).clamp(min=0) * ok
    w = w / w.sum(-1, keepdim=True).clamp(min=1e-300)
    idx = x.clamp(0, canvas_in - 1)
    if canvas_out > 0:
        src = _pil_nearest(canvas_in, canvas_out, str(dev))[n_out.clamp(1, canvas_out)][:, :, None]
        first = torch.arange(span, device=dev)[None, None] == 0
        near = nearest[:, None, None]
        idx = torch.where(near, torch.where(first, src, torch.zeros_like(idx)), idx)
        w = torch.where(near, first.double().expand_as(w), w)
    w = w * (o < nout).double()
    none = (n_out < 1)[:, None, None]  # nothing to resize to: no taps (index 0, weight 0)
    return torch.where(none, 0, idx.long()), torch.where(none, 0.0, w).float()

# Face X-ray's colour transfer and feathered blend (common/xray_math.h; augment/xray.py steps 6-7).
def xray_blend(both: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """both uint8 [B,6,H,W] (target, then partner), mask and weight float32 [B,1,H,W] -> uint8 [B,3,H,W]:
    the partner moved by the mean of (target - partner) over the mask (mask > 0; exact int64 sums, then
    float32), floored inside the mask, then floor(w fg + (1 - w) bg) clamped to [0, 255] (NaN -> 0)."""
    bg, fg = both[:, :3].float(), both[:, 3:].float()
    on = mask > 0
    n = on.sum((2, 3))  # [B,1] int64
    s = ((both[:, :3].long() - both[:, 3:].long()) * on).sum((2, 3))  # [B,3] int64
    shift = s.float() / n.clamp(min=1).float()
    fg = torch.where(on, (fg + shift[:, :, None, None]).clamp(0, 255).floor(), fg)
    out = (weight * fg + (1 - weight) * bg).floor()
    return torch.nan_to_num(out, nan=0.0).clamp(0, 255).to(torch.uint8)


# JPEG round trip (common/jpeg_math.h; augment/jpeg.py gives the recipe). Every float step is one float32
# tensor op, in the kernels' order, so both round alike.
JPEG_LUMA = (16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
             14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
             49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99)
JPEG_CHROMA = (17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
               47, 66, 99, 99, 99, 99, 99, 99) + (99,) * 32


@functools.lru_cache(maxsize=None)  # keys: devices; never evicted (CUDA graphs read it)
def jpeg_dct_matrix(device: str) -> torch.Tensor:
    """float32 [8, 8] orthonormal DCT-II, D[u, k] = sqrt(c_u / 8) cos((2k + 1) u pi / 16) (c_0 = 1, else 2),
    computed in float64 and rounded once (jpeg_math.h holds the same 64 values as literals)."""
    k = torch.arange(8, dtype=torch.float64)
    d = torch.cos((2 * k[None] + 1) * k[:, None] * math.pi / 16) * math.sqrt(2 / 8)
    d[0] /= math.sqrt(2)
    return d.float().to(device)


def jpeg_quant_tables(quality: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(luma, chroma) float32 [B,64] IJG tables (jcparam.c, baseline) for int64 qualities [B], clamped to
    [1, 100]: the base scaled by 5000/q % (q < 50) or 200 - 2q %, rounded, clamped to [1, 255]."""
    q = quality.clamp(1, 100)
    scale = torch.where(q < 50, torch.div(5000, q, rounding_mode="floor"), 200 - 2 * q)[:, None]
    base_l = _const(JPEG_LUMA, quality.device, torch.int64)[None]
    base_c = _const(JPEG_CHROMA, quality.device, torch.int64)[None]
    lum = torch.div(base_l * scale + 50, 100, rounding_mode="floor").clamp(1, 255)
    chr_ = torch.div(base_c * scale + 50, 100, rounding_mode="floor").clamp(1, 255)
    return lum.float(), chr_.float()


def _dct_pass(x: torch.Tensor, d: torch.Tensor, rows: bool) -> torch.Tensor:
    """One 1-D pass over blocks x [..., 8, 8]: along each row (out[i][u] = sum_k d[u][k] x[i][k]) or each
    column (out[v][u] = sum_i d[v][i] x[i][u]); each sum over k ascending, from the first product."""
    if rows:
        terms = [x[..., :, k:k + 1] * d[:, k] for k in range(8)]  # [..., i, u]
    else:
        terms = [d[:, k:k + 1] * x[..., k:k + 1, :] for k in range(8)]  # [..., v, u]
    acc = terms[0]
    for t in terms[1:]:
        acc = acc + t
    return acc


def _jpeg_plane(x: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """DCT, quantisation and inverse of integer-valued float32 planes [B,H,W] (H, W multiples of 8) with
    tables [B,64]: decoded values, clamp(rint(.), 0, 255)."""
    B, H, W = x.shape
    d = jpeg_dct_matrix(str(x.device))
    blocks = (x - 128).view(B, H // 8, 8, W // 8, 8).permute(0, 1, 3, 2, 4)  # [B, by, bx, 8, 8]
    coef = _dct_pass(_dct_pass(blocks, d, rows=True), d, rows=False)
    t = table.view(B, 1, 1, 8, 8)
    qc = torch.floor(coef.abs() / t + 0.5)
    rec = torch.where(coef < 0, -qc, qc) * t
    dt = d.t().contiguous()  # the inverse: the transposed passes, columns first
    rec = _dct_pass(_dct_pass(rec, dt, rows=False), dt, rows=True)
    rec = rec.permute(0, 1, 3, 2, 4).reshape(B, H, W)
    return (rec + 128).round().clamp(0, 255)


def _jpeg_fancy_up(c: torch.Tensor) -> torch.Tensor:
    """libjpeg's h2v2_fancy_upsample on integer-valued float32 [B,h,w] -> [B,2h,2w] (edges replicated;
    c holds the real samples only, ceil(H/2) x ceil(W/2), as libjpeg's decoder sees them)."""
    up = F.pad(c[:, None], (0, 0, 1, 1), mode="replicate")[:, 0]  # rows -1 and h replicated
    near, above, below = up[:, 1:-1], up[:, :-2], up[:, 2:]
    rows = torch.stack([3 * near + above, 3 * near + below], 2).flatten(1, 2)  # [B,2h,w] column sums
    left = torch.cat([rows[:, :, :1], rows[:, :, :-1]], 2)
    right = torch.cat([rows[:, :, 1:], rows[:, :, -1:]], 2)
    even = torch.floor((3 * rows + left + 8) / 16)
    odd = torch.floor((3 * rows + right + 7) / 16)
    return torch.stack([even, odd], 3).flatten(2, 3)


def jpeg_round_trip(images: torch.Tensor, quality: torch.Tensor, select: torch.Tensor, bgr: bool) -> torch.Tensor:
    """Each selected sample of uint8 [B,3,H,W] through an emulated JPEG encode at its int64 quality [B] and
    decode (4:2:0, IJG tables, exact float DCTs; augment/jpeg.py); unselected samples (bool [B]) as given.
    bgr: the channels are B, G, R."""
    B, _, H, W = images.shape
    x = images.float()
    if bgr:
        x = x.flip(1)
    Hp, Wp = -(-H // 16) * 16, -(-W // 16) * 16
    x = F.pad(x, (0, Wp - W, 0, Hp - H), mode="replicate")
    r, g, b = x.unbind(1)
    y = (0.299 * r + 0.587 * g + 0.114 * b).round()
    cb = (-0.168735892 * r - 0.331264108 * g + 0.5 * b + 128).round().clamp(0, 255)
    cr = (0.5 * r - 0.418687589 * g - 0.081312411 * b + 128).round().clamp(0, 255)
    bias = (torch.arange(Wp // 2, device=x.device) % 2 + 1).float()  # jcsample.c h2v2_downsample
    cb = torch.floor((F.avg_pool2d(cb[:, None], 2)[:, 0] * 4 + bias) / 4)
    cr = torch.floor((F.avg_pool2d(cr[:, None], 2)[:, 0] * 4 + bias) / 4)
    hr, wr = (H + 1) // 2, (W + 1) // 2  # the chroma samples of the image itself; the rest is MCU padding
    # libjpeg pads the downsampled rows at the bottom by repeating the last one (jcprepct.c); on the right
    # it pads the pixels before downsampling (jcsample.c), as the replicate pad above does
    cb = torch.cat([cb[:, :hr], cb[:, hr - 1:hr].expand(-1, Hp // 2 - hr, -1)], 1)
    cr = torch.cat([cr[:, :hr], cr[:, hr - 1:hr].expand(-1, Hp // 2 - hr, -1)], 1)
    lum, chroma = jpeg_quant_tables(quality)
    y = _jpeg_plane(y, lum)[:, :H, :W]
    cb = _jpeg_fancy_up(_jpeg_plane(cb, chroma)[:, :hr, :wr])[:, :H, :W] - 128
    cr = _jpeg_fancy_up(_jpeg_plane(cr, chroma)[:, :hr, :wr])[:, :H, :W] - 128
    out = torch.stack([y + 1.402 * cr, y - 0.344136286 * cb - 0.714136286 * cr, y + 1.772 * cb], 1)
    out = out.round().clamp(0, 255)
    if bgr:
        out = out.flip(1)
    return torch.where(select[:, None, None, None], out.to(torch.uint8), images)


# DST-I Poisson solve (seamlessClone's; common/dst_math.h), as batched matrix products on the canvas.
DST_TABLE_MAX = 256  # DST tables are cached for canvases up to this side (67 MB at 256); larger ones compute


def _dst_direct(n: torch.Tensor, size: int) -> torch.Tensor:
    """S_n zero-padded to [size,size] for each n (float32 [len(n),size,size]). The angle index
    (k+1)(m+1) is reduced modulo 2(n+1) in integers first, so sin() never sees a large argument."""
    k = torch.arange(1, size + 1, device=n.device, dtype=torch.int64)
    prod = k[:, None] * k[None, :]  # [size,size]
    period = 2 * (n + 1)  # [B]
    r = torch.remainder(prod[None], period[:, None, None])
    ang = r.double() * (math.pi / (n + 1).double()[:, None, None])
    s = torch.sin(ang).float()
    live = (k[None, :] <= n[:, None])  # [B,size]
    return s * (live[:, :, None] & live[:, None, :])


@functools.lru_cache(maxsize=None)  # keys: sizes and devices; never evicted (CUDA graphs read it)
def _dst_table(side: int, device: str) -> torch.Tensor:
    """float32 [side+1, side, side]: S_n for every n = 0..side, built once per side and device (in
    chunks, to bound the int64/double temporaries)."""
    n = torch.arange(side + 1, device=device, dtype=torch.int64)
    return torch.cat([_dst_direct(c, side) for c in n.split(16)])


def dst_matrices(n: torch.Tensor, size: int) -> torch.Tensor:
    """Per-sample DST-I matrices, float32 [B,size,size]; rows/cols >= n[b] are zero.

    S_n's entries do not depend on the padding, so for canvases up to DST_TABLE_MAX they are gathered
    from one cached table per device (side rounded up to a multiple of 64) instead of being
    recomputed every call: the same values.
    """
    if size > DST_TABLE_MAX:
        return _dst_direct(n, size)
    side = min(-(-size // 64) * 64, DST_TABLE_MAX)
    table = _dst_table(side, str(n.device))
    return table[n.clamp(0, size), :size, :size]


def poisson_solve(rhs: torch.Tensor, roi: torch.Tensor) -> torch.Tensor:
    """float32 [B,C,Nh,Nw]: the Dirichlet Poisson solution on each ROI's interior (n_h = h - 2 rows and
    n_w = w - 2 columns at the origin, clamped to the canvas; zero elsewhere), by DST-I:
    u = (2/(n_h+1)) (2/(n_w+1)) S_h [(S_h rhs S_w) / eig] S_w with the zero-padded S_n as full-canvas
    batched matrix products (the kernels compute each sample's own block only).

    rhs: float32 [B,C,Nh,Nw] (poisson_rhs' output). roi: int64 [B,6] (x, y, w, h, dx, dy).
    """
    B, C, Nh, Nw = rhs.shape
    n_w = (roi[:, 2] - 2).clamp(min=0, max=Nw)
    n_h = (roi[:, 3] - 2).clamp(min=0, max=Nh)
    s_h = dst_matrices(n_h, Nh)  # [B,Nh,Nh]
    s_w = dst_matrices(n_w, Nw)  # [B,Nw,Nw]
    i = torch.arange(1, Nw + 1, device=rhs.device, dtype=torch.float64)
    j = torch.arange(1, Nh + 1, device=rhs.device, dtype=torch.float64)
    lam_w = 2 * torch.cos(math.pi * i[None] / (n_w.double()[:, None] + 1))  # [B,Nw]
    lam_h = 2 * torch.cos(math.pi * j[None] / (n_h.double()[:, None] + 1))  # [B,Nh]
    eig = (lam_h[:, :, None] + lam_w[:, None, :] - 4).float()
    live = (j[None, :] <= n_h[:, None])[:, :, None] & (i[None, :] <= n_w[:, None])[:, None, :]
    eig = torch.where(live, eig, torch.full_like(eig, -1.0))
    # Channels ride along the matrix columns, in the layout [B, Nh, C, Nw]: S_h @ X is one bmm over
    # [B, Nh, C Nw] and X @ S_w one over [B, Nh C, Nw]. S is symmetric.
    x = rhs.permute(0, 2, 1, 3).contiguous()  # [B,Nh,C,Nw]
    t = torch.bmm(s_h, x.view(B, Nh, C * Nw))
    spec = torch.bmm(t.view(B, Nh * C, Nw), s_w)
    spec = spec.view(B, Nh, C, Nw) / eig[:, :, None, :]
    t = torch.bmm(s_h, spec.reshape(B, Nh, C * Nw))
    u = torch.bmm(t.view(B, Nh * C, Nw), s_w)
    scale = (4.0 / ((n_h + 1) * (n_w + 1)).float()).view(B, 1, 1, 1)
    return (u.view(B, Nh, C, Nw) * scale).permute(0, 2, 1, 3).contiguous()


MESH = 5


def deform_mask(mask: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """float32 [B,1,S,S]: mask(T(p)) * mask(p) for SLADD's 5x5 piecewise-affine map T (spec §3.2).

    T is evaluated densely: per pixel its mesh cell (bucketize on the anchors), its triangle and the
    affine interpolation of the 3 clipped targets; then grid_sample (bilinear, zeros,
    align_corners=True: pixel centres at integers, as skimage).
    """
    B, _, S, _ = mask.shape
    dev = mask.device
    a = torch.linspace(0, S - 1, MESH, dtype=torch.float64, device=dev).long()
    ax, ay = torch.meshgrid(a.float(), a.float(), indexing="xy")  # ax[r,c] = a[c], ay[r,c] = a[r]
    tgt = (torch.stack([ax, ay], -1)[None] + noise).clamp(0, S - 1)  # [B,5,5,2]
    p = torch.arange(S, device=dev)
    cell = torch.bucketize(p, a[1:-1], right=True).clamp(0, MESH - 2)
    lo, hi = a[cell].float(), a[cell + 1].float()
    f = (p.float() - lo) / (hi - lo)
    cy, cx = cell[:, None].expand(S, S), cell[None, :].expand(S, S)
    fy, fx = f[:, None].expand(S, S), f[None, :].expand(S, S)

    def v(dr: int, dc: int) -> torch.Tensor:
        return tgt[:, cy + dr, cx + dc]

    v00, v10, v01, v11 = v(0, 0), v(0, 1), v(1, 0), v(1, 1)
    fx_, fy_ = fx[None, ..., None], fy[None, ..., None]
    lower = v00 + fx_ * (v10 - v00) + fy_ * (v01 - v00)
    upper = v11 + (1 - fx_) * (v01 - v11) + (1 - fy_) * (v10 - v11)
    T = torch.where((fx + fy <= 1)[None, ..., None], lower, upper)
    grid = T / (S - 1) * 2 - 1
    warped = F.grid_sample(mask, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    return warped * mask


def morph_square(mask: torch.Tensor, op: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """float32 [B,1,H,W] in {0,1}: per-sample k x k square erosion (op 0), dilation (op 1) or
    nothing, with OpenCV's borders (erode: outside counts as on; dilate: as off). Written as
    (k-1)/2 rounds of 3x3 max-pooling (-inf padding), each sample stopping at its own k."""
    x = (mask >= 0.5).float()
    if x.numel() == 0:  # max_pool2d refuses empty planes; there is nothing to erode or dilate
        return x
    steps = (k - 1) // 2
    erode, dilate = (op == 0).view(-1, 1, 1, 1), (op == 1).view(-1, 1, 1, 1)
    for it in range(1, int(steps.max()) + 1 if steps.numel() else 1):
        dil = F.max_pool2d(x, 3, stride=1, padding=1)
        ero = -F.max_pool2d(-x, 3, stride=1, padding=1)
        y = torch.where(erode, ero, torch.where(dilate, dil, x))
        x = torch.where((it <= steps).view(-1, 1, 1, 1), y, x)
    return x


def _reflect(i: torch.Tensor, n: int) -> torch.Tensor:
    """BORDER_REFLECT: fedcba|abcdef."""
    i = torch.remainder(i, 2 * n)
    return torch.where(i < n, i, 2 * n - 1 - i)


def _cubic(t: torch.Tensor) -> torch.Tensor:
    """Keys cubic kernel with a = -0.75 at distance |t| (OpenCV's INTER_CUBIC)."""
    a = -0.75
    t = t.abs()
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return torch.where(t <= 1, near, torch.where(t < 2, far, torch.zeros_like(t)))


def warp_affine_cubic(input: torch.Tensor, inverse_map: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """cv2.warpAffine(INTER_CUBIC, BORDER_REFLECT) given the inverse map, float32 or uint8 [B,C,H,W]
    (uint8 results saturated as cv2 does), inside each sample's (x, y, w, h) box; 0 outside it.

    out(x, y) = sum of the 4x4 taps around the source point m (x, y, 1), the point quantised to
    1/32 px as OpenCV does, weights from the a = -0.75 cubic, taps reflected at the border.
    """
    B, C, H, W = input.shape
    m = inverse_map.double()
    ys, xs = torch.meshgrid(torch.arange(H, device=input.device, dtype=torch.float64),
                            torch.arange(W, device=input.device, dtype=torch.float64), indexing="ij")
    sx = m[:, 0, 0, None, None] * xs + m[:, 0, 1, None, None] * ys + m[:, 0, 2, None, None]
    sy = m[:, 1, 0, None, None] * xs + m[:, 1, 1, None, None] * ys + m[:, 1, 2, None, None]
    qx, qy = torch.floor(sx * 32 + 0.5).long(), torch.floor(sy * 32 + 0.5).long()
    ix, iy = torch.div(qx, 32, rounding_mode="floor"), torch.div(qy, 32, rounding_mode="floor")
    fx, fy = (qx - 32 * ix).float() / 32, (qy - 32 * iy).float() / 32
    out = torch.zeros(input.shape, dtype=torch.float32, device=input.device)
    flat = input.float().reshape(B, C, H * W)
    u8 = input.dtype == torch.uint8
    for dy in range(-1, 3):
        wy = _cubic(fy - dy)
        yy = _reflect(iy + dy, H)
        for dx in range(-1, 3):
            w = wy * _cubic(fx - dx)
            idx = (yy * W + _reflect(ix + dx, W)).view(B, 1, H * W).expand(B, C, H * W)
            out += w[:, None] * flat.gather(2, idx).view(B, C, H, W)
    if u8:  # uint8 in, uint8 out: OpenCV's saturate_cast (round half up, clamp), as cv2.warpAffine
        out = (out + 0.5).floor().clamp(0, 255).to(torch.uint8)
    return torch.where(_box_pixels(box, H, W)[:, None], out, torch.zeros_like(out))


# sRGB D65 (OpenCV's RGB2XYZ matrix and white point).
_RGB2XYZ = ((0.412453, 0.357580, 0.180423), (0.212671, 0.715160, 0.072169), (0.019334, 0.119193, 0.950227))
_WHITE = (0.950456, 1.0, 1.088754)
_XYZ2RGB = tuple(tuple(float(v) for v in row) for row in torch.linalg.inv(torch.tensor(_RGB2XYZ, dtype=torch.float64)))


def _srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(min=0)
    return torch.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """OpenCV 8-bit RGB2Lab: uint8 [B,3,H,W] RGB -> float32 [B,3,H,W] with L*255/100, a+128, b+128,
    rounded to integers as cvtColor's uint8 output."""
    x = _srgb_to_linear(rgb.float() / 255.0)
    xyz = torch.einsum("ij,bjhw->bihw", _const(_RGB2XYZ, rgb.device), x) / _const(_WHITE, rgb.device).view(1, 3, 1, 1)
    t = 0.008856
    f = torch.where(xyz > t, xyz.clamp(min=1e-12) ** (1 / 3), 7.787 * xyz + 16 / 116)
    L = torch.where(xyz[:, 1] > t, 116 * f[:, 1] - 16, 903.3 * xyz[:, 1])
    a = 500 * (f[:, 0] - f[:, 1]) + 128
    b = 200 * (f[:, 1] - f[:, 2]) + 128
    lab = torch.stack([L * 255 / 100, a, b], 1)
    return torch.floor(lab + 0.5).clamp(0, 255)


def lab_to_rgb(lab: torch.Tensor) -> torch.Tensor:
    """Inverse of rgb_to_lab for uint8-valued Lab (float32) -> uint8 RGB (OpenCV 8-bit Lab2RGB)."""
    L = lab[:, 0] * 100 / 255
    a = lab[:, 1] - 128
    b = lab[:, 2] - 128
    fy = (L + 16) / 116
    fx = fy + a / 500
    fz = fy - b / 200

    def finv(f: torch.Tensor) -> torch.Tensor:
        return torch.where(f > 0.206893, f**3, (f - 16 / 116) / 7.787)

    xyz = torch.stack([finv(fx), finv(fy), finv(fz)], 1) * _const(_WHITE, lab.device).view(1, 3, 1, 1)
    rgb = torch.einsum("ij,bjhw->bihw", _const(_XYZ2RGB, lab.device), xyz)
    out = torch.floor(_linear_to_srgb(rgb) * 255 + 0.5).clamp(0, 255)
    return torch.nan_to_num(out, nan=0.0).to(torch.uint8).contiguous()  # NaN -> 0, as the kernels


# albumentations' uint8 HueSaturationValue on OpenCV's 8-bit HSV (sladd_fast/augment/hsv.py derives it and
# holds the measurements against cv2; common/hsv_math.h is the kernels' arithmetic, the same per pixel).
HSV_SHIFT = 12  # OpenCV's hsv_shift: the division tables' fixed point
_SDIV = tuple([0] + [round((255 << HSV_SHIFT) / i) for i in range(1, 256)])  # no ties: round == cvRound
_HDIV180 = tuple([0] + [round((180 << HSV_SHIFT) / (6 * i)) for i in range(1, 256)])
# OpenCV's float32 constants (6.f / 180, 1.f / 255): a Python float rounds to the same float32
_HSCALE, _INV255 = 6 / 180, 1 / 255
# sector -> which of (v, v(1-s), v(1-s f), v(1-s(1-f))) each of R, G, B takes (OpenCV's sector_data, BGR)
_SECTOR_RGB = ((0, 3, 1), (2, 0, 1), (1, 0, 3), (1, 2, 0), (3, 1, 0), (0, 1, 2))


def _one_minus_product(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """float32 fma(-a, b, 1) of float32 a, b in [0, 1], exactly: a b is exact in float64; 1 - a b rounded
    to odd in float64 (Fast2Sum gives the error), then one rounding to float32 (53 >= 24 + 2 bits)."""
    p = a.double() * b.double()
    hi = 1 - p
    lo = (1 - hi) - p  # hi + lo == 1 - p exactly (Fast2Sum, |1| >= |p|)
    even = (hi.view(torch.int64) & 1) == 0
    toward = torch.where(lo > 0, torch.full_like(hi, float("inf")), torch.full_like(hi, float("-inf")))
    hi = torch.where((lo != 0) & even, torch.nextafter(hi, toward), hi)
    return hi.float()


@functools.lru_cache(maxsize=16)
def _fused_tables(device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The factors (1, 1 - s, fma(-s, f, 1), fma(-s, 1 - f, 1)) of v for every (H, S) byte pair, float32
    [4 * 65536] (index k * 65536 + H * 256 + S), and OpenCV's sector of each H, int64 [256]. Built on the
    CPU once per device."""
    H = torch.arange(256, dtype=torch.float32) * torch.tensor(_HSCALE, dtype=torch.float32)
    pre = H.trunc()
    f = H - pre
    s = torch.arange(256, dtype=torch.float32) * torch.tensor(_INV255, dtype=torch.float32)
    one_minus_s = (1 - s)[None].expand(256, 256)
    f2 = _one_minus_product(s[None], f[:, None])
    f3 = _one_minus_product(s[None], (1 - f)[:, None])
    sector = (pre - (pre * torch.tensor(1 / 6, dtype=torch.float32)).trunc() * 6).long()
    factors = torch.stack([torch.ones(256, 256), one_minus_s, f2, f3]).reshape(-1)  # [4 * 65536]
    return factors.to(device), sector.to(device)


def rgb_to_hsv_u8(rgb: torch.Tensor) -> torch.Tensor:
    """cv2.cvtColor(COLOR_RGB2HSV) on 8-bit values: [..., 3, H, W] integer-valued (any dtype, 0..255) ->
    int32 [..., 3, H, W] (H in [0, 180), S and V in [0, 255])."""
    dev = rgb.device
    r, g, b = rgb.to(torch.int32).unbind(-3)
    v = torch.maximum(torch.maximum(r, g), b)
    d = v - torch.minimum(torch.minimum(r, g), b)
    half = 1 << (HSV_SHIFT - 1)
    s = (d * _const(_SDIV, dev, torch.int32)[v.long()] + half) >> HSV_SHIFT
    h = torch.where(v == r, g - b, torch.where(v == g, b - r + 2 * d, r - g + 4 * d))
    h = (h * _const(_HDIV180, dev, torch.int32)[d.long()] + half) >> HSV_SHIFT  # arithmetic shift: floor
    h = torch.where(h < 0, h + 180, h)
    return torch.stack([h, s, v], -3)


def hsv_to_rgb_u8(hsv: torch.Tensor, block: int) -> torch.Tensor:
    """cv2.cvtColor(COLOR_HSV2RGB) on 8-bit values: [..., 3, H, W] integer-valued (H in [0, 256), S, V in
    [0, 255]) -> float32 [..., 3, H, W] holding 0..255. ``block``: OpenCV's SIMD block in pixels (the
    last ``W % block`` columns of each row take its rounding scalar path; 0: all columns do)."""
    dev = hsv.device
    factors, sector = _fused_tables(str(dev))
    hi = hsv.long()
    h, s, v = hi.unbind(-3)
    idx = h * 256 + s
    sel = _const(_SECTOR_RGB, dev, torch.int64)[sector[h]]  # [..., H, W, 3]
    fac = factors[sel.movedim(-1, -3) * 65536 + idx.unsqueeze(-3)]  # [..., 3, H, W]
    vf = v.float() * _const((_INV255,), dev)
    out = (vf.unsqueeze(-3) * fac) * _const((255.0,), dev)
    W = out.shape[-1]
    simd = torch.arange(W, device=dev) < (W - W % block if block > 0 else 0)
    return torch.where(simd, out.trunc(), out.round()).clamp(0, 255)


def _hsv_moves(shifts: torch.Tensor) -> torch.Tensor:
    """int32 [B,3]: floor(shift) per channel as the lookup tables apply it, the hue's reduced mod 180
    (torch.fmod: exact), saturation's and value's clamped to [-256, 256] (the same tables for any finite
    shift); a NaN shift, and an infinite hue shift, moves nothing (common/hsv_math.h hsv_moves)."""
    k = shifts.float().floor()
    k = torch.where(torch.isnan(k), torch.zeros_like(k), k)
    kh = torch.fmod(k[:, :1], 180)
    kh = torch.where(torch.isnan(kh), torch.zeros_like(kh), kh)
    return torch.cat([kh, k[:, 1:].clamp(-256, 256)], 1).to(torch.int32)


def hsv_shift(rgb: torch.Tensor, shifts: torch.Tensor, block: int) -> torch.Tensor:
    """albumentations' HueSaturationValue on uint8 images, per sample: rgb uint8 [B,3,H,W], shifts
    float32 [B,3] (hue, saturation, value in uint8 units, hue in OpenCV's 0..180), block: OpenCV's SIMD
    block (hsv_to_rgb_u8) -> uint8 [B,3,H,W]. RGB -> HSV (OpenCV), the lookup tables
    ``np.mod(ar + shift, 180)`` / ``np.clip(ar + shift, 0, 255)`` cast to uint8 (for integer levels:
    floor(shift) moves, _hsv_moves), HSV -> RGB (OpenCV)."""
    if block < 0:
        raise ValueError(f"block must be >= 0 (0: no SIMD block), got {block}")
    hsv = rgb_to_hsv_u8(rgb)
    k = _hsv_moves(shifts)[:, :, None, None]
    h = torch.remainder(hsv[:, :1] + k[:, :1], 180)
    sv = (hsv[:, 1:] + k[:, 1:]).clamp(0, 255)
    return hsv_to_rgb_u8(torch.cat([h, sv], 1), block).to(torch.uint8).contiguous()  # the kernels' layout


def _fma32(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """float32 fmaf(a, b, c) of float32 tensors, exactly rounded: a b is exact in float64; a b + c rounded
    to odd in float64 (TwoSum gives the error), then one rounding to float32 (53 >= 24 + 2 bits). Finite
    inputs (an infinite or NaN sum is passed through as float64 arithmetic gives it)."""
    p = a.double() * b.double()
    cd = c.double()
    s = p + cd
    bb = s - p
    err = (p - (s - bb)) + (cd - bb)
    even = (s.view(torch.int64) & 1) == 0
    toward = torch.where(err > 0, torch.full_like(s, float("inf")), torch.full_like(s, float("-inf")))
    s = torch.where((err != 0) & even & torch.isfinite(s), torch.nextafter(s, toward), s)
    return s.float()


def _gauss_reflect(i: torch.Tensor, n: int) -> torch.Tensor:
    """scipy's 'reflect' indices (d c b a | a b c d | d c b a) into [0, n), any overshoot."""
    m = torch.remainder(i, 2 * n)
    return torch.where(m < n, m, 2 * n - 1 - m)


def gaussian_filter(input: torch.Tensor, taps: torch.Tensor, scale: float) -> torch.Tensor:
    """scipy.ndimage.gaussian_filter's separable blur of float32 [B,C,H,W] planes, 'reflect' border, with the
    symmetric kernel taps [R+1] (centre, one half), times scale (common/gauss_math.h): rows then columns,
    each acc = w0 x0, then fmaf(w_t, x_-t + x_t, acc) for t = 1..R, in float32."""
    R = taps.shape[0] - 1
    w = taps.float()

    def blur(x: torch.Tensor, dim: int) -> torch.Tensor:
        n = x.shape[dim]
        pos = torch.arange(n, device=x.device)
        acc = w[0] * x
        for t in range(1, R + 1):
            pair = x.index_select(dim, _gauss_reflect(pos - t, n)) + x.index_select(dim, _gauss_reflect(pos + t, n))
            acc = _fma32(w[t].expand_as(pair), pair, acc)
        return acc

    return blur(blur(input.float(), 3), 2) * torch.tensor(scale, dtype=torch.float32, device=input.device)


SBI_COEFFS = 8  # shift_r, shift_g, shift_b, gain, bias, a, k = 9 + l, 1 - a (common/sbi_quality_math.h)


def _sbi_taps(n_in: int, n_out: int, horizontal: bool, device: torch.device) -> tuple[torch.Tensor, ...]:
    """cv2.resize INTER_LINEAR's uint8 taps of the outputs 0..n_out-1: (i0, i1, w0, w1) int64 [n_out]."""
    d = torch.arange(n_out, device=device, dtype=torch.float64)
    fx = ((d + 0.5) * (1.0 / (n_out / n_in)) - 0.5).float()
    sx = fx.floor()
    fx = fx - sx
    last = float(n_in - 1)
    if horizontal:
        fx = torch.where((sx < 0) | (sx >= last), torch.zeros_like(fx), fx)
    w0, w1 = torch.round((1.0 - fx) * 2048).long(), torch.round(fx * 2048).long()
    return sx.clamp(0, last).long(), (sx + 1).clamp(0, last).long(), w0, w1


def _nearest_down(n: int, N: int, device: torch.device) -> torch.Tensor:
    """cv2.resize INTER_NEAREST's source indices from N down to n: floor(d (1 / (n / N))) in float64,
    clamped to N - 1."""
    d = torch.arange(n, device=device, dtype=torch.float64)
    return (d * (1.0 / (n / N))).floor().long().clamp(max=N - 1)


def _sbi_downscale(f: torch.Tensor, r: int) -> torch.Tensor:
    """RandomDownScale of integer-valued [B,3,H,W]: INTER_NEAREST down by r, OpenCV's 8-bit fixed-point
    INTER_LINEAR back (int64 [B,3,H,W])."""
    H, W = f.shape[-2:]
    small = f.index_select(-2, _nearest_down(H // r, H, f.device)).index_select(-1, _nearest_down(W // r, W, f.device))
    small = small.long()
    x0, x1, a0, a1 = _sbi_taps(W // r, W, True, f.device)
    y0, y1, b0, b1 = _sbi_taps(H // r, H, False, f.device)
    rows = small[..., x0] * a0 + small[..., x1] * a1  # [B,3,H/r,W]
    s0, s1 = rows[..., y0, :] >> 4, rows[..., y1, :] >> 4
    return (((b0[:, None] * s0) >> 16) + ((b1[:, None] * s1) >> 16) + 2) >> 2


def sbi_quality(rgb: torch.Tensor, shifts: torch.Tensor, coeffs: torch.Tensor, branch: torch.Tensor,
                block: int) -> torch.Tensor:
    """SBI's source transforms per sample (common/sbi_quality_math.h): rgb uint8 [B,3,H,W], shifts float32
    [B,3] (hsv_shift's), coeffs float32 [B,8] (shift_r, shift_g, shift_b, gain, bias, a, 9 + l, 1 - a),
    branch int64 [B] (1: Sharpen, 2 / 4: RandomDownScale by 2 / 4, else nothing) -> uint8 [B,3,H,W]:
    RGBShift trunc(clamp(float32 v + shift)), HueSaturationValue, brightness/contrast floor(clamp(v gain + bias)),
    then the branch; a NaN level is 0. Every branch is computed for the whole batch and selected (no host
    read)."""
    if block < 0:
        raise ValueError(f"block must be >= 0 (0: no SIMD block), got {block}")
    B, _, H, W = rgb.shape
    v = (rgb.float() + coeffs[:, :3].float().view(B, 3, 1, 1)).nan_to_num(0.0, 255.0, 0.0).clamp(0, 255)
    v = v.to(torch.uint8)  # truncation, as numpy's astype
    v = hsv_shift(v, shifts, block).float()
    f = (v * coeffs[:, 3].view(B, 1, 1, 1) + coeffs[:, 4].view(B, 1, 1, 1)).nan_to_num(0.0, 255.0, 0.0).clamp(0, 255)
    f = f.floor()
    ys, xs = torch.arange(H, device=rgb.device), torch.arange(W, device=rgb.device)
    box = sum(f.index_select(2, _reflect101(ys + dy, H)).index_select(3, _reflect101(xs + dx, W))
              for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    a, k, one_minus_a = (coeffs[:, i].view(B, 1, 1, 1) for i in (5, 6, 7))
    t = ((f * k) - box) * a
    sharp = ((t + f * one_minus_a) + 0.5).floor().nan_to_num(0.0, 255.0, 0.0).clamp(0, 255)
    out = torch.where(branch.view(B, 1, 1, 1) == 1, sharp, f)
    for r in (2, 4):
        if H >= r and W >= r:
            out = torch.where(branch.view(B, 1, 1, 1) == r, _sbi_downscale(f, r).float(), out)
    return out.to(torch.uint8)


def _reflect101(i: torch.Tensor, n: int) -> torch.Tensor:
    """OpenCV BORDER_REFLECT_101 indices (gfedcb|abcdefgh|gfedcba) into [0, n)."""
    if n == 1:
        return torch.zeros_like(i)
    i = torch.remainder(i, 2 * (n - 1))
    return torch.where(i < n, i, 2 * (n - 1) - i)


def _box_span(lo: torch.Tensor, length: torch.Tensor, n: int) -> torch.Tensor:
    """[B,n] bool: positions inside [lo, lo + length) clipped to the image."""
    pos = torch.arange(n, device=lo.device)
    length = length.clamp(min=0)
    top = torch.iinfo(torch.int64).max
    end = torch.where(lo > top - length, torch.full_like(lo, top), lo + length)  # saturating, as the kernels
    return (pos[None] >= lo[:, None]) & (pos[None] < end[:, None])


def blur_in_box(input: torch.Tensor, kernels: torch.Tensor, radius: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """Separable blur of ``input`` [B,C,H,W] (float32, or uint8: rounded back to uint8) taken as zero
    outside each sample's box (x, y, w, h), computed inside the box and zero outside: rows first, then
    columns, each out = sum over taps t = -r..r (ascending) of kernels[b, K//2 + t] * value at
    reflect101(p + t), with r = radius clamped to [0, K//2]."""
    B, C, H, W = input.shape
    u8 = input.dtype == torch.uint8
    input = input.float()
    c = kernels.shape[1] // 2
    r = radius.clamp(0, c)
    in_x = _box_span(box[:, 0], box[:, 2], W)[:, None, None, :]  # [B,1,1,W]
    in_y = _box_span(box[:, 1], box[:, 3], H)[:, None, :, None]  # [B,1,H,1]
    inside = in_x & in_y
    x = torch.where(inside, input, torch.zeros((), device=input.device))
    h = torch.zeros_like(x)
    for t in range(-c, c + 1):
        w = torch.where(r >= abs(t), kernels[:, c + t], torch.zeros((), device=input.device)).view(B, 1, 1, 1)
        h = h + w * x.index_select(3, _reflect101(torch.arange(W, device=x.device) + t, W))
    h = torch.where(inside, h, torch.zeros((), device=input.device))
    out = torch.zeros_like(x)
    for t in range(-c, c + 1):
        w = torch.where(r >= abs(t), kernels[:, c + t], torch.zeros((), device=input.device)).view(B, 1, 1, 1)
        out = out + w * h.index_select(2, _reflect101(torch.arange(H, device=x.device) + t, H))
    out = torch.where(inside, out, torch.zeros((), device=input.device))
    if u8:  # rounded half up and saturated, as the kernels' blur_round_u8
        return (out + 0.5).floor().nan_to_num(0.0).clamp(0, 255).to(torch.uint8)
    return out


def resample_taps(input: torch.Tensor, index: torch.Tensor, weight: torch.Tensor, axis: int) -> torch.Tensor:
    """Separable per-sample resampling along ``axis`` (2: rows, 3: columns) with explicit taps:
    input float32 [B,C,H,W], index int64 [B,O,T], weight float32 [B,O,T] ->
    axis 2: out[b,c,o,x] = sum_t weight[b,o,t] * input[b,c,index[b,o,t],x]  ([B,C,O,W]);
    axis 3: out[b,c,y,o] = sum_t weight[b,o,t] * input[b,c,y,index[b,o,t]]  ([B,C,H,O]).

    As the kernels (common/resample_math.h): t ascending from 0, acc = acc + w * v as a float32
    multiply then a float32 add (never addcmul, which may fuse), taps with weight 0 skipped (they
    contribute nothing even on inf/NaN pixels), indices clamped into the axis, 0 along an empty axis.
    """
    if axis not in (2, 3):
        raise ValueError(f"axis must be 2 (rows) or 3 (columns), got {axis}")
    B, C, H, W = input.shape
    O, T = index.shape[1], index.shape[2]
    x = input if axis == 2 else input.transpose(2, 3)  # [B,C,n,L]: resample dim 2 of x
    n, L = x.shape[2], x.shape[3]
    acc = torch.zeros(B, C, O, L, dtype=torch.float32, device=input.device)
    if n > 0:
        idx = index.clamp(0, n - 1)
        for t in range(T):
            v = torch.gather(x, 2, idx[:, None, :, t, None].expand(B, C, O, L))  # [B,C,O,L]
            w = weight[:, None, :, t, None]  # [B,1,O,1]
            acc = torch.where(w != 0, acc + w * v, acc)
    return acc if axis == 2 else acc.transpose(2, 3).contiguous()


RESIZE_FLOOR, RESIZE_ROUND = 0, 1  # common/resample_math.h kResizeFloor, kResizeRound


def _resize_clamp(x: torch.Tensor, mode: int) -> torch.Tensor:
    x = torch.nan_to_num(x.round() if mode == RESIZE_ROUND else x, nan=0.0)
    x = x.clamp(0, 255)
    return x if mode == RESIZE_ROUND else x.floor()


def resize_u8(input: torch.Tensor, index: torch.Tensor, weight: torch.Tensor, mode: int) -> torch.Tensor:
    """Both passes of a resize of uint8 [B,C,H,W] with the taps index int64 [B,O,T], weight float32 [B,O,T] on
    both axes (columns first, then rows) -> uint8 [B,C,O,O]. mode RESIZE_FLOOR (skimage then astype after
    clipping): float between the passes, the result clamped to [0, 255] and floored; RESIZE_ROUND (PIL):
    each pass rounded half to even and clamped. NaN (NaN weights only) -> 0."""
    if mode not in (RESIZE_FLOOR, RESIZE_ROUND):
        raise ValueError(f"mode must be 0 (floor) or 1 (round), got {mode}")
    x = resample_taps(input.float(), index, weight, 3)
    if mode == RESIZE_ROUND:
        x = _resize_clamp(x, mode)
    return _resize_clamp(resample_taps(x, index, weight, 2), mode).to(torch.uint8)


# Colour transfer (spec §3.4) as two ops; statistics layout of csrc/common/color_transfer_math.h.
COLOR_STATS = 25
_RCT_M, _RCT_FS, _AVG_ALIGN, _FACESWAP = 0, 1, 2, 3
_STAT_NONE = 1e30


def _box_pixels(box: torch.Tensor, H: int, W: int) -> torch.Tensor:
    """bool [B,H,W]: inside each sample's (x, y, w, h) box, clipped to the image."""
    ys = torch.arange(H, device=box.device)[None, :, None]
    xs = torch.arange(W, device=box.device)[None, None, :]
    x, y, w, h = (box[:, i, None, None] for i in range(4))
    return (xs >= x) & (xs < x + w.clamp(min=0)) & (ys >= y) & (ys < y + h.clamp(min=0))


def color_stats(fake: torch.Tensor, real: torch.Tensor, mask: torch.Tensor, mode: torch.Tensor,
                box: torch.Tensor) -> torch.Tensor:
    """float64 [B,25] per-sample statistics of each sample's own colour mode, over its box."""
    B, _, H, W = fake.shape
    inbox = _box_pixels(box, H, W)
    on = ((mask[:, 0] >= 0.5) & inbox)[:, None].double()  # [B,1,H,W]
    out = torch.zeros(B, COLOR_STATS, dtype=torch.float64, device=fake.device)
    shifts = (mode == _RCT_FS) | (mode == _AVG_ALIGN)
    out[:, 0] = torch.where(shifts, on.sum((1, 2, 3)), 0.0)
    out[:, 1:4] = torch.where(shifts[:, None], (fake.double() * on).sum((2, 3)), 0.0)
    out[:, 4:7] = torch.where(shifts[:, None], (real.double() * on).sum((2, 3)), 0.0)
    lab_f = rgb_to_lab(fake.flip(1)).double()  # BGR2LAB on RGB data (B11)
    lab_r = rgb_to_lab(real.flip(1)).double()
    rct = (mode == _RCT_M)[:, None]
    for k, x in ((7, lab_f), (10, lab_f * lab_f), (13, lab_r), (16, lab_r * lab_r)):
        out[:, k:k + 3] = torch.where(rct, (x * on).sum((2, 3)), 0.0)
    ib = inbox[:, None]
    if H * W == 0:  # no pixels: the identities (amin/amax refuse an empty reduction)
        mn, mx = (torch.full((B, 3), v, dtype=torch.float64, device=fake.device) for v in (_STAT_NONE, -_STAT_NONE))
    else:
        mn = torch.where(ib, lab_f, _STAT_NONE).amin((2, 3))
        mx = torch.where(ib, lab_f, -_STAT_NONE).amax((2, 3))
    out[:, 19:22] = torch.where(rct, mn, _STAT_NONE)
    out[:, 22:25] = torch.where(rct, mx, -_STAT_NONE)
    return out


def color_apply(fake: torch.Tensor, real: torch.Tensor, mask: torch.Tensor, mode: torch.Tensor, stats: torch.Tensor,
                blurred: torch.Tensor, blur_row: torch.Tensor) -> torch.Tensor:
    """uint8 [B,3,H,W]: each sample's own colour transfer inside its mask, 0 outside. Sample b's
    faceswap planes are blurred[blur_row[b]], uint8 [N,6,H,W]: the blurs of R m and F m rounded to
    integers (none where blur_row[b] < 0: faceswap gives 0)."""
    B, _, H, W = fake.shape
    s = stats.view(B, COLOR_STATS, 1, 1)
    n = float(H * W)
    f = fake.float()
    # rct-m: (lab - mu_f) * sd_r / sd_f + mu_r, then _scale_array over the whole image's range.
    mf, mr = s[:, 7:10] / n, s[:, 13:16] / n
    sd_f = (s[:, 10:13] / n - mf * mf).clamp(min=0).sqrt().float()
    sd_r = (s[:, 16:19] / n - mr * mr).clamp(min=0).sqrt().float()
    mu_f, mu_r = mf.float(), mr.float()
    ratio = sd_r / sd_f.clamp(min=1e-6)
    lab = rgb_to_lab(fake.flip(1))
    x = (lab - mu_f) * ratio + mu_r
    mn = (s[:, 19:22].float() - mu_f) * ratio + mu_r
    mx = (s[:, 22:25].float() - mu_f) * ratio + mu_r
    lo, hi = mn.clamp(min=0), mx.clamp(max=255)
    x = torch.where((mn < 0) | (mx > 255), (hi - lo) * (x - mn) / (mx - mn).clamp(min=1e-6) + lo, x)
    rct_m = lab_to_rgb(torch.trunc(x).clamp(0, 255)).flip(1)
    # rct-fs: F - mean_m(F) + mean_m(R) over the on-pixels.
    cnt = s[:, 0:1].clamp(min=1)
    rct_fs = (f - (s[:, 1:4] / cnt).float() + (s[:, 4:7] / cnt).float()).clamp(0, 255).to(torch.uint8)
    # avg-align: F / 255 + (mean(R m) - mean(F m)) in [0, 1] units.
    shift = ((s[:, 4:7] - s[:, 1:4]) / (255.0 * n)).float()
    avg = ((f / 255 + shift).clamp(0, 1) * 255).to(torch.uint8)
    # faceswap: F * round(G(R m)) / round(G(F m)), +128 where the denominator is <= 1.
    has = (blur_row >= 0) & (blur_row < blurred.shape[0])
    bl = blurred[blur_row.clamp(0, max(blurred.shape[0] - 1, 0))] if blurred.shape[0] else blurred.new_zeros(B, 6, H, W)
    g_r = bl[:, :3].float()
    g_f = bl[:, 3:].float()
    g_f = g_f + 128 * (g_f <= 1)
    fsw = (f * g_r / g_f).clamp(0, 255).to(torch.uint8)
    fsw = torch.where(has.view(B, 1, 1, 1), fsw, torch.zeros_like(fsw))
    out = torch.zeros_like(fake)
    for m_id, img in ((_RCT_M, rct_m), (_RCT_FS, rct_fs), (_AVG_ALIGN, avg), (_FACESWAP, fsw)):
        out = torch.where((mode == m_id).view(B, 1, 1, 1), img, out)
    return torch.where(mask >= 0.5, out, torch.zeros_like(out)).contiguous()


_U32 = 0xFFFFFFFF


def _mul32(x: torch.Tensor, c: int) -> torch.Tensor:
    """(x * c) mod 2^32 for uint32 values held in int64, without int64 overflow (c split in 16-bit halves)."""
    lo = x * (c & 0xFFFF)
    hi = ((x * (c >> 16)) & 0xFFFF) << 16
    return (lo + hi) & _U32


def _mix32(x: torch.Tensor) -> torch.Tensor:
    """common/noise_math.h noise_mix32 (Wellons' lowbias32) on uint32 values held in int64."""
    x = x ^ (x >> 16)
    x = _mul32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = _mul32(x, 0x846CA68B)
    return x ^ (x >> 16)


def uniform_noise(seeds: torch.Tensor, channels: int, height: int, width: int) -> torch.Tensor:
    """Counter-based uniform noise (common/noise_math.h): seeds int64 [B] -> float32 [B,C,H,W] in [-1, 1),
    value i of sample b (i = c H W + y W + x) = (h >> 8) 2^-23 - 1 with h = mix(mix(i ^ k0) + k1),
    k0 = mix(lo32(seed) ^ 0x9e3779b9), k1 = mix(hi32(seed) + k0), all in wrapping uint32 arithmetic."""
    if min(channels, height, width) < 0:
        raise ValueError(f"channels, height and width must be >= 0, got {channels}, {height}, {width}")
    if channels * height * width > 1 << 32:
        raise ValueError("uniform_noise: at most 2^32 values per sample")
    s = seeds.long()
    k0 = _mix32((s & _U32) ^ 0x9E3779B9)
    k1 = _mix32((((s >> 32) & _U32) + k0) & _U32)
    i = torch.arange(channels * height * width, device=seeds.device, dtype=torch.int64)[None]
    h = _mix32((_mix32(i ^ k0[:, None]) + k1[:, None]) & _U32)
    v = (h >> 8).float() * (1.0 / 8388608.0) - 1.0  # exact: 24-bit integers scaled by a power of two
    return v.view(seeds.shape[0], channels, height, width)


def _remap_round(v: torch.Tensor) -> torch.Tensor:
    """saturate_cast<short> of float32 map values as cv2 on x86-64 (common/remap_math.h remap_round): half
    to even, clamped to [-32768, 32767]; NaN and v >= 2^31 (cvtps2dq's INT_MIN) -> -32768. int64."""
    r = torch.round(v.clamp(-40000.0, 40000.0))  # torch.round: half to even
    r = torch.where(torch.isnan(v) | (v >= 2.0 ** 31), -32768.0, r)
    return r.clamp(-32768, 32767).long()


def remap_nearest(input: torch.Tensor, map: torch.Tensor, col_table: torch.Tensor, row_table: torch.Tensor,
                  relative: bool) -> torch.Tensor:
    """cv2.remap INTER_NEAREST, BORDER_REFLECT_101, through per-sample tables (common/remap_math.h):
    input float32 [B,C,H,W], map float32 [B,2,Ho,Wo] (x, then y; ``relative``: added to the output pixel's
    own coordinates in float32), col_table int64 [B,Wt], row_table int64 [B,Ht] -> float32 [B,C,Ho,Wo]:
    out = input[row_table[reflect101(round(fy), Ht)], col_table[reflect101(round(fx), Wt)]], 0 where a
    table value lies outside the input."""
    B, C, H, W = input.shape
    Ho, Wo = map.shape[2], map.shape[3]
    fx, fy = map[:, 0].float(), map[:, 1].float()
    if relative:
        fx = torch.arange(Wo, device=map.device, dtype=torch.float32)[None, None] + fx
        fy = torch.arange(Ho, device=map.device, dtype=torch.float32)[None, :, None] + fy
    ix = _reflect101(_remap_round(fx), col_table.shape[1]).view(B, Ho * Wo)
    iy = _reflect101(_remap_round(fy), row_table.shape[1]).view(B, Ho * Wo)
    sx, sy = col_table.gather(1, ix), row_table.gather(1, iy)
    inside = (sx >= 0) & (sx < W) & (sy >= 0) & (sy < H)
    flat = torch.where(inside, sy.clamp(0, max(H - 1, 0)) * W + sx.clamp(0, max(W - 1, 0)), 0)
    if H * W == 0:
        return input.new_zeros(B, C, Ho, Wo)
    v = input.reshape(B, C, H * W).gather(2, flat[:, None].expand(B, C, Ho * Wo))
    return torch.where(inside[:, None], v, torch.zeros((), device=input.device)).view(B, C, Ho, Wo)


def warp_linear_u8(input: torch.Tensor, col_index: torch.Tensor, col_weight: torch.Tensor, row_index: torch.Tensor,
                   row_weight: torch.Tensor) -> torch.Tensor:
    """cv2.warpAffine INTER_LINEAR (uint8, separable map) in OpenCV's fixed point (common/warp_u8_math.h):
    input uint8 [B,C,H,W], taps int64 [B,Wo,2] (columns) and [B,Ho,2] (rows), indices clamped into the
    image, weights into [0, 32] -> uint8 [B,C,Ho,Wo]: min(255, (sum_i rw_i sum_j cw_j in[ri_i, ci_j] + 512) >> 10)."""
    B, C, H, W = input.shape
    Ho, Wo = row_index.shape[1], col_index.shape[1]
    if H == 0 or W == 0:
        return input.new_zeros(B, C, Ho, Wo)
    ci, ri = col_index.clamp(0, W - 1), row_index.clamp(0, H - 1)
    cw, rw = col_weight.clamp(0, 32), row_weight.clamp(0, 32)
    x = input.long()
    acc = torch.zeros(B, C, Ho, Wo, dtype=torch.int64, device=input.device)
    for i in range(2):
        rows = x.gather(2, ri[:, None, :, i, None].expand(B, C, Ho, W))  # [B,C,Ho,W]
        h = sum(cw[:, None, None, :, j] * rows.gather(3, ci[:, None, None, :, j].expand(B, C, Ho, Wo))
                for j in range(2))
        acc = acc + rw[:, None, :, i, None] * h
    return ((acc + 512) >> 10).clamp(max=255).to(torch.uint8)


def piecewise_affine_grid(tx: torch.Tensor, ty: torch.Tensor, step: torch.Tensor, main: torch.Tensor,
                          canvas: int) -> torch.Tensor:
    """imgaug's PiecewiseAffine as a grid_sample grid (common/piecewise_math.h): anchor targets tx, ty float32
    [B,4,4] (row-major [cy][cx]), anchor spacing step float32 [B] (n / 3), qhull's diagonal per cell main
    bool [B,9] -> float32 [B,canvas,canvas,2]: inside each cell the map is affine on the two triangles of
    its diagonal, then (value + 0.5) / canvas * 2 - 1 (align_corners=False)."""
    if not 1 <= canvas <= 46340:
        raise ValueError(f"canvas must be in [1, 46340], got {canvas}")
    B, dev = tx.shape[0], tx.device
    ar = torch.arange(canvas, device=dev, dtype=torch.float32)
    st = step.float()[:, None, None]
    fx, fy = ar[None, None, :] / st, ar[None, :, None] / st  # [B,1,W], [B,H,1]

    def cell(f: torch.Tensor) -> torch.Tensor:  # floor clamped to [0, 2]; NaN -> 0, as the kernels
        return torch.nan_to_num(f.floor(), nan=0.0).clamp(0, 2).long().expand(B, canvas, canvas)

    cx, cy = cell(fx), cell(fy)
    u, v = fx - cx, fy - cy
    m = main.gather(1, (cy * 3 + cx).flatten(1)).view(B, canvas, canvas)

    def corner(t: torch.Tensor, dr: int, dc: int) -> torch.Tensor:
        return t.flatten(1).gather(1, ((cy + dr) * 4 + cx + dc).flatten(1)).view(B, canvas, canvas)

    out = []
    for t in (tx.float(), ty.float()):
        t00, t10, t01, t11 = corner(t, 0, 0), corner(t, 0, 1), corner(t, 1, 0), corner(t, 1, 1)
        anti = torch.where(u + v <= 1, t00 + u * (t10 - t00) + v * (t01 - t00),
                           t11 + (1 - u) * (t01 - t11) + (1 - v) * (t10 - t11))
        diag = torch.where(v >= u, (1 - v) * t00 + u * t11 + (v - u) * t01, (1 - u) * t00 + v * t11 + (u - v) * t10)
        out.append(torch.where(m, diag, anti))
    return torch.stack([(out[0] + 0.5) / canvas * 2 - 1, (out[1] + 0.5) / canvas * 2 - 1], -1)
