"""Per-sample resizing of a batch as separable taps: every sample its own size, no per-sample loop.

Face X-ray resizes each sample to its own random size (scikit-image's resize before blending, PIL's
resize after). A batch cannot hold images of different sizes, so each sample lives in the top-left
``n`` x ``n`` corner of a fixed canvas, and a resize from ``n_in`` to ``n_out`` pixels is a set of
taps per output pixel (input indices and weights, [B, canvas_out, T]) applied along the columns and
then the rows by the csrc op ``resample_taps`` (square images: the same taps on both axes). Taps
beyond ``n_out`` have weight 0, so the canvas outside the corner stays 0. (A first version used
dense [B, S, S] resampling matrices and two GEMMs: 16.7 M multiply-adds per channel and pass at
256 px against T = 14 taps, and it was half the mode's CPU time.)

The taps reproduce the libraries' linear filters exactly (up to float summation order):
- ``skimage_taps``: skimage.transform.resize(order=1, anti_aliasing default): a Gaussian
  pre-filter with sigma = max(0, (n_in/n_out - 1)/2) (truncate 4, mirror border) when shrinking,
  then linear interpolation at (o + 0.5) n_in/n_out - 0.5 (scipy.ndimage.zoom grid_mode, mirror).
- ``pil_taps``: PIL's Image.resize BILINEAR (a triangle filter widened by the shrink factor,
  normalised, clipped at the edges) and NEAREST (Pillow's affine walk: x = scale/2, then
  x += scale per pixel in double, source floor(x)).
PIL rounds to uint8 after each pass; ``resize`` does the same when ``round_passes`` is set.
``resize_u8`` is the uint8 form Face X-ray uses for its images: both passes and the library's rounding
in one csrc op (``resize_u8``, common/resample_math.h; a float plane between the passes), a quarter of
the bytes of float planes and no separate rounding ops.
"""
from __future__ import annotations

import torch

from sladd_fast.ops import _checks, _reference
from sladd_fast.ops._dispatch import op


Taps = tuple[torch.Tensor, torch.Tensor]  # (index int64 [B,O,T], weight float32 [B,O,T])


def _sizes(n_in: torch.Tensor, n_out: torch.Tensor, canvas_in: int, canvas_out: int, min_out: int) -> None:
    """The taps builders' arguments, with errors naming them."""
    _checks.tensor("n_in", n_in, torch.int64, (None,))
    _checks.tensor("n_out", n_out, torch.int64, (n_in.shape[0],))
    _checks.same_device(n_in=n_in, n_out=n_out)
    if canvas_in < 1 or canvas_out < 0 or min_out < 1:
        raise ValueError(f"canvas_in and min_out must be positive and canvas_out >= 0, got {canvas_in}, {min_out}, "
                         f"{canvas_out}")


def skimage_taps(n_in: torch.Tensor, n_out: torch.Tensor, canvas_in: int, canvas_out: int, min_out: int) -> Taps:
    """skimage.transform.resize(order=1) from n_in to n_out pixels (int64 [B] each, n_out >= min_out),
    anti-aliased when shrinking, as taps: output pixel o reads input pixels index[b,o,:] with
    weight[b,o,:] (zero weights for o >= n_out). T = 2 (2r + 1), r the widest Gaussian's radius.
    csrc op ``skimage_taps`` (common/taps_math.h): one thread per (sample, output pixel)."""
    _sizes(n_in, n_out, canvas_in, canvas_out, min_out)
    radius = int(4 * max(0.0, (canvas_in / min_out - 1) / 2) + 0.5)  # the widest filter's (n_in <= canvas_in)
    return op("skimage_taps")(n_in.contiguous(), n_out.contiguous(), int(canvas_out), radius)


def pil_taps(n_in: torch.Tensor, n_out: torch.Tensor, canvas_in: int, canvas_out: int, min_out: int,
             nearest: torch.Tensor | None = None) -> Taps:
    """PIL Image.resize BILINEAR (or NEAREST where ``nearest``, bool [B]; NEAREST needs n_in ==
    canvas_in) from n_in to n_out pixels (int64 [B], n_out >= min_out), per sample, as taps.
    csrc op ``pil_taps`` (common/taps_math.h): one thread per (sample, output pixel)."""
    _sizes(n_in, n_out, canvas_in, canvas_out, min_out)
    span = int(2 * max(1.0, canvas_in / min_out)) + 3  # taps of the widest triangle
    if nearest is None:
        nearest = torch.zeros(n_in.shape[0], dtype=torch.bool, device=n_in.device)
    _checks.tensor("nearest", nearest, torch.bool, (n_in.shape[0],))
    _checks.same_device(n_in=n_in, nearest=nearest)
    return op("pil_taps")(n_in.contiguous(), n_out.contiguous(), nearest.contiguous(), int(canvas_in),
                          int(canvas_out), span)


def taps_matrix(taps: Taps, canvas_in: int) -> torch.Tensor:
    """The dense float32 [B, O, canvas_in] matrix of a set of taps (tests, documentation)."""
    idx, w = taps
    m = torch.zeros(idx.shape[0], idx.shape[1], canvas_in, device=w.device, dtype=torch.float64)
    return m.scatter_add_(2, idx, w.double()).float()


def resize(x: torch.Tensor, taps: Taps, round_passes: bool = False) -> torch.Tensor:
    """Resizes x float32 [B,C,S,S] with per-sample taps along both axes: columns first (PIL's
    horizontal pass), then rows; csrc op ``resample_taps``. Output [B,C,O,O].
    ``round_passes``: round and clip to [0, 255] after each pass (PIL's uint8 arithmetic)."""
    from sladd_fast.synthesis.filters import resample_taps

    idx, w = taps
    y = resample_taps(x.contiguous(), idx, w, 3, check_values=False)
    if round_passes:
        y = y.round().clamp(0, 255)
    y = resample_taps(y, idx, w, 2, check_values=False)
    return y.round().clamp(0, 255) if round_passes else y


ROUNDING = {"floor": _reference.RESIZE_FLOOR, "round": _reference.RESIZE_ROUND}  # resample_math.h kResize*


def resize_u8(x: torch.Tensor, taps: Taps, rounding: str) -> torch.Tensor:
    """Resizes uint8 [B,C,H,W] with per-sample taps along both axes (columns first, then rows), on x's
    device. Output uint8 [B,C,O,O], O = the taps' output count.
    ``rounding``: "floor" (skimage.transform.resize then astype(uint8) after clipping: float between the
    passes, the result clamped to [0, 255] and floored) or "round" (PIL: each pass rounded half to even
    and clamped). The values equal ``resize`` on x.float() followed by that rounding."""
    if rounding not in ROUNDING:
        raise ValueError(f"rounding must be 'floor' or 'round', got {rounding!r}")
    _checks.tensor("x", x, torch.uint8, (None, None, None, None))
    idx, w = taps
    _checks.tensor("index", idx, torch.int64, (x.shape[0], None, None))
    _checks.tensor("weight", w, torch.float32, tuple(idx.shape))
    _checks.same_device(x=x, index=idx, weight=w)
    return op("resize_u8")(x.contiguous(), idx.contiguous(), w.contiguous(), ROUNDING[rounding])
