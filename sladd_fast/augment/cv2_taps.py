"""OpenCV's resize, axis-aligned warpAffine and nearest remap as batched, per-sample taps and tables for
the csrc ops ``resample_taps`` (resizes), ``warp_linear_u8`` (the linear warp of uint8 images) and
``remap_nearest`` (the nearest warp and remap), with OpenCV 4.x's own coordinate and weight arithmetic,
so that the SBI mode's geometric steps equal the per-sample cv2 calls bit for bit on uint8 data.

- ``resize_linear_taps``: cv2.resize INTER_LINEAR (imgproc/src/resize.cpp): scale = 1 / (n_out / n_in)
  in double, fx = float((d + 0.5) scale - 0.5), sx = floor(fx), fx -= sx; a column tap left of 0 or at /
  right of the last input is (sx clamped, fx = 0), a row tap reads the clamped rows. Weights (1 - fx, fx)
  as float32, or for uint8 images
  cvRound(w * 2048) (INTER_RESIZE_COEF_SCALE).
- ``warp_affine_taps``: cv2.warpAffine of a scale-and-translate matrix (no rotation or shear: each output
  column reads one source column position, each row one row, so the warp is separable). OpenCV inverts the
  matrix (invertAffineTransform, double) and maps in fixed point (AB_BITS 10): per column
  cvRound(A00 x 1024) + cvRound(A02 1024), per row cvRound((A11 y + A12) 1024), plus 512 (nearest, then
  >> 10) or 16 (linear, then >> 5: 5-bit fractions, INTER_BITS). Linear uint8 weights are the 2-D table's
  (32 - f)(32 - g) ... times 32 of 32768, exactly separable: out = (sum of the 1-D integer taps' products +
  512) >> 10. BORDER_CONSTANT 0: a tap outside the image weighs 0.
- ``remap_nearest_reflect101``: cv2.remap INTER_NEAREST with float maps: the map rounded half to even
  (saturate_cast<short>), BORDER_REFLECT_101 (gfedcb|abcdefgh|gfedcba); ``warp_remap_nearest``: a nearest
  warpAffine followed by that remap, as one gather (the warp's index tables composed with the remap's).
  Both are the csrc op remap_nearest (``nearest_table`` turns the warp's taps into its tables).
Measured against cv2 4.14 (x86-64 wheel) in tests/test_cv2_taps.py.
"""
from __future__ import annotations

import torch


AB_SCALE = 1024  # OpenCV's warpAffine fixed point (AB_BITS 10)
RESIZE_SCALE = 2048  # INTER_RESIZE_COEF_SCALE (11 bits)


def _flag(flag: bool | torch.Tensor) -> bool | torch.Tensor:
    """A Python bool as is; a bool tensor [K] (one per tap set of a [K,B,n] computation) as [K,1,1]."""
    return flag if isinstance(flag, bool) else flag.view(-1, 1, 1)


def resize_linear_taps(n_in: torch.Tensor, n_out: torch.Tensor, canvas: int, fixed_point: bool | torch.Tensor,
                       horizontal: bool | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """cv2.resize INTER_LINEAR's taps along one axis, per sample.

    Args:
        n_in, n_out: int64 [B] (or [K,B]: K tap sets in one call), each sample's input and output
            lengths (>= 1).
        canvas: taps are built for outputs 0..canvas-1; those at or past n_out weigh 0.
        fixed_point: the uint8 path's integer weights (cvRound(w 2048)), else float32 ones (sum 1).
        horizontal: OpenCV resets a column tap outside the input to (clamped sx, fx = 0); a row tap keeps
            its fraction and reads the clamped rows (so the top and bottom rows may be weighed twice).
            With [K,B] lengths, each flag may be a bool tensor [K] (one per tap set).
    Returns:
        index int64 [B,canvas,2] (clamped into the input) and weight float32 [B,canvas,2] ([K,B,canvas,2]
        with [K,B] lengths), for resample_taps.
    """
    dev = n_in.device
    d = torch.arange(canvas, device=dev, dtype=torch.float64)
    scale = (1.0 / (n_out.double() / n_in.double()))[..., None]
    fx = ((d + 0.5) * scale - 0.5).float()
    sx = fx.floor()
    fx = fx - sx
    last = (n_in - 1)[..., None].float()
    hor, fixed = _flag(horizontal), _flag(fixed_point)
    if hor is True:
        fx = torch.where((sx < 0) | (sx >= last), torch.zeros((), device=dev), fx)
        sx = torch.minimum(sx.clamp(min=0), last)
    elif hor is not False:
        fx = torch.where(hor & ((sx < 0) | (sx >= last)), torch.zeros((), device=dev), fx)
        sx = torch.where(hor, torch.minimum(sx.clamp(min=0), last), sx)
    w = torch.stack([1.0 - fx, fx], -1)
    if fixed is True:
        w = torch.round(w * RESIZE_SCALE)
    elif fixed is not False:
        w = torch.where(fixed[..., None], torch.round(w * RESIZE_SCALE), w)
    w = torch.where((d < n_out[..., None].double())[..., None], w, torch.zeros((), device=dev))
    idx = torch.stack([torch.minimum(sx.clamp(min=0), last), torch.minimum((sx + 1).clamp(min=0), last)], -1)
    return idx.long(), w.contiguous()


def vresize_u8(rows: torch.Tensor, index: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """cv2.resize INTER_LINEAR's vertical uint8 pass (VResizeLinearVec_32s8u) on ``rows``, the horizontal
    pass's float32 [B,C,H,W] sums (values x 2048, exact integers): ((b0 (s0 >> 4)) >> 16) + ((b1 (s1 >> 4))
    >> 16) + 2) >> 2. Exact in float32 while rows stay below 2^13 (a {0,1} mask); uint8 images need int64."""
    one = torch.ones_like(weight[..., :1])
    b0, b1 = weight[:, None, :, 0, None], weight[:, None, :, 1, None]
    # Divisions by powers of two and products below 2^24: every step is exact, in place.
    s0 = _taps_rows(rows, index[..., :1], one).div_(16).floor_().mul_(b0).div_(65536).floor_()
    s1 = _taps_rows(rows, index[..., 1:], one).div_(16).floor_().mul_(b1).div_(65536).floor_()
    return s0.add_(s1).add_(2).div_(4).floor_()


def _taps_rows(x: torch.Tensor, index: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    from sladd_fast.synthesis.filters import resample_taps

    return resample_taps(x, index.contiguous(), weight.contiguous(), 2, check_values=False)


def invert_scale_translate(sx: torch.Tensor, sy: torch.Tensor, tx: torch.Tensor, ty: torch.Tensor, W: int,
                           H: int) -> tuple[torch.Tensor, ...]:
    """cv2.invertAffineTransform (double) of [[sx, 0, (1 - sx) cx + tx W], [0, sy, (1 - sy) cy + ty H]],
    cx = (W - 1) / 2, cy = (H - 1) / 2 (a scale about the centre pixel, per axis, then a translation):
    (A00, A02, A11, A12) as float64 [B]."""
    sx, sy = sx.double(), sy.double()
    m02 = (1 - sx) * ((W - 1) / 2) + tx.double() * W
    m12 = (1 - sy) * ((H - 1) / 2) + ty.double() * H
    inv = 1.0 / (sx * sy)  # D = 1 / (M00 M11 - M01 M10), M01 = M10 = 0
    a00, a11 = sy * inv, sx * inv  # cv2: A00 = M11 D, A11 = M00 D
    return a00, -a00 * m02, a11, -a11 * m12


def warp_affine_taps(a: torch.Tensor, b: torch.Tensor, n: int, along_rows: bool | torch.Tensor,
                     nearest: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Taps of cv2.warpAffine along one axis for source position a * p + b (float64 [B] each) of output p
    in 0..n-1, BORDER_CONSTANT 0, for a warp whose output has the image's size (dsize = the input's, as
    SBI's Affine): n is both lengths. Columns: cvRound(a p 1024) + cvRound(b 1024); rows: cvRound((a p + b)
    1024). Nearest: one tap of weight 1; linear: two taps of weights 1 - f and f (f a 5-bit fraction, so
    every product and sum of the two passes over 0..255 values is exact in float32). ``a`` and ``b`` may
    be [K,B] (K tap sets in one call) with ``along_rows`` a bool tensor [K].
    Returns index int64 [B,n,T] (clamped into the image) and weight float32 [B,n,T] (0 outside it), or
    [K,B,n,T]."""
    return _warp_taps(_warp_fixed(a, b, n, along_rows), n, nearest)


def warp_affine_taps_both(a: torch.Tensor, b: torch.Tensor, n: int, along_rows: bool | torch.Tensor
                          ) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """warp_affine_taps' (linear, nearest) taps from one coordinate computation."""
    fixed = _warp_fixed(a, b, n, along_rows)
    return _warp_taps(fixed, n, False), _warp_taps(fixed, n, True)


def _warp_fixed(a: torch.Tensor, b: torch.Tensor, n: int, along_rows: bool | torch.Tensor) -> torch.Tensor:
    """OpenCV's 10-bit source coordinates of outputs 0..n-1: int64 [..., n]."""
    p = torch.arange(n, device=a.device, dtype=torch.float64)
    a, b = a[..., None], b[..., None]
    rows = torch.round((a * p + b) * AB_SCALE)
    cols = torch.round(a * p * AB_SCALE) + torch.round(b * AB_SCALE)
    if isinstance(along_rows, bool):
        return (rows if along_rows else cols).long()
    return torch.where(_flag(along_rows), rows, cols).long()


def _warp_taps(fixed: torch.Tensor, n: int, nearest: bool) -> tuple[torch.Tensor, torch.Tensor]:
    if nearest:
        idx = ((fixed + AB_SCALE // 2) >> 10)[..., None]
        w = torch.ones(idx.shape, device=fixed.device)
    else:
        x5 = (fixed + 16) >> 5
        i0 = x5 >> 5
        f = (x5 & 31).float() / 32
        idx = torch.stack([i0, i0 + 1], -1)
        w = torch.stack([1 - f, f], -1)
    inside = (idx >= 0) & (idx < n)
    return idx.clamp(0, n - 1), torch.where(inside, w, torch.zeros((), device=fixed.device))


def fixed_taps(taps: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """warp_affine_taps' linear taps (float weights k / 32) with int64 weights k: warp_linear_u8's taps."""
    return taps[0], torch.round(taps[1] * 32).long()


def warp_affine_u8(img: torch.Tensor, cols: tuple[torch.Tensor, torch.Tensor],
                   rows: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """cv2.warpAffine INTER_LINEAR of uint8 [B,C,H,W] with linear taps from warp_affine_taps (float
    weights) or fixed_taps (int64 weights): the csrc op warp_linear_u8, OpenCV's (sum of 32768-scaled
    products + 2^14) >> 15 as (sum of the 32nds' products + 512) >> 10. Returns uint8 [B,C,H,W]."""
    from sladd_fast.synthesis.filters import warp_linear_u8

    if cols[1].dtype != torch.int64:
        cols = fixed_taps(cols)
    if rows[1].dtype != torch.int64:
        rows = fixed_taps(rows)
    return warp_linear_u8(img, cols[0], cols[1], rows[0], rows[1])


def nearest_table(taps: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """A nearest warp's taps (warp_affine_taps(..., nearest=True): [B,n,1] index and weight) as
    remap_nearest's table: int64 [B,n], each output's source index, -1 where it reads the zero border."""
    return torch.where(taps[1][..., 0] != 0, taps[0][..., 0], -1)


def remap_nearest_reflect101(x: torch.Tensor, map_x: torch.Tensor, map_y: torch.Tensor) -> torch.Tensor:
    """cv2.remap(x, map_x, map_y, INTER_NEAREST, BORDER_REFLECT_101) per sample: x [B,C,H,W] (float32,
    or integer values exact in float32), maps float32 [B,H,W] (absolute source coordinates; left alone).
    Returns [B,C,H,W] in x's dtype: the csrc op remap_nearest with identity tables."""
    B, _, H, W = x.shape
    return warp_remap_nearest(x, _identity(B, W, x.device), _identity(B, H, x.device), map_x, map_y)


def _identity(B: int, n: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.arange(n, device=device).expand(B, n)[..., None], torch.ones(B, n, 1, device=device)


def warp_remap_nearest(x: torch.Tensor, cols: tuple[torch.Tensor, torch.Tensor], rows: tuple[torch.Tensor, torch.Tensor],
                       map_x: torch.Tensor, map_y: torch.Tensor) -> torch.Tensor:
    """cv2.remap(cv2.warpAffine(x, INTER_NEAREST, BORDER_CONSTANT 0), map_x, map_y, INTER_NEAREST,
    BORDER_REFLECT_101) in one gather: the warp (nearest taps of warp_affine_taps, [B,S,1] per axis) reads
    one source column per output column and one source row per output row, so the remap's integer
    coordinates are looked up in those two tables (the csrc op remap_nearest; common/remap_math.h).
    x [B,C,S,S] (float32, or integer values exact in float32); the maps float32 [B,S,S], absolute.
    Returns [B,C,S,S] in x's dtype."""
    from sladd_fast.synthesis.filters import remap_nearest

    out = remap_nearest(x.float(), torch.stack([map_x, map_y], 1), nearest_table(cols), nearest_table(rows),
                        relative=False)
    return out if x.dtype == torch.float32 else out.to(x.dtype)


__all__ = ["fixed_taps", "invert_scale_translate", "nearest_table", "remap_nearest_reflect101", "resize_linear_taps",
           "vresize_u8", "warp_affine_taps", "warp_affine_taps_both", "warp_affine_u8", "warp_remap_nearest"]
