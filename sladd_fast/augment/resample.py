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
"""
from __future__ import annotations

import functools
import math

import torch


def _mirror(i: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """Reflect-101 index into [0, n) (scipy 'mirror', OpenCV BORDER_REFLECT_101); n >= 1."""
    period = (2 * n - 2).clamp(min=1)
    i = torch.remainder(i, period)
    return torch.where(i >= n, period - i, i).clamp(max=n - 1)


Taps = tuple[torch.Tensor, torch.Tensor]  # (index int64 [B,O,T], weight float32 [B,O,T])


def skimage_taps(n_in: torch.Tensor, n_out: torch.Tensor, canvas_in: int, canvas_out: int, min_out: int) -> Taps:
    """skimage.transform.resize(order=1) from n_in to n_out pixels (int64 [B] each, n_out >= min_out),
    anti-aliased when shrinking, as taps: output pixel o reads input pixels index[b,o,:] with
    weight[b,o,:] (zero weights for o >= n_out). T = 2 (2r + 1), r the widest Gaussian's radius."""
    dev = n_in.device
    nin, nout = n_in.double()[:, None, None], n_out.double()[:, None, None]
    scale = nin / nout
    # the Gaussian pre-filter on the input (identity when enlarging): offsets t, weights g [B,1,2r+1]
    sigma = ((scale - 1) / 2).clamp(min=0)
    radius = int(4 * max(0.0, (canvas_in / min_out - 1) / 2) + 0.5)  # the widest filter's (n_in <= canvas_in)
    t = torch.arange(-radius, radius + 1, device=dev, dtype=torch.float64)[None, None]
    g = torch.exp(-0.5 * t**2 / sigma.clamp(min=1e-12) ** 2)
    g = torch.where(t.abs() <= (4 * sigma + 0.5).floor(), g, torch.zeros((), dtype=g.dtype, device=dev))
    g = torch.where(sigma > 0, g, (t == 0).double())
    g = g / g.sum(-1, keepdim=True)
    # linear interpolation at the output pixel centres: 2 taps, each reading the filtered input
    o = torch.arange(canvas_out, device=dev, dtype=torch.float64)[None, :, None]
    c = (o + 0.5) * scale - 0.5
    i0 = c.floor()
    f = c - i0
    j = _mirror(torch.cat([i0, i0 + 1], -1).long(), n_in[:, None, None])  # [B,O,2]
    wa = torch.cat([1 - f, f], -1) * (o < nout).double()
    idx = _mirror(j[..., None] + t.long()[..., None, :], n_in[:, None, None, None])  # [B,O,2,2r+1]
    w = wa[..., None] * g[:, :, None, :]
    return idx.flatten(2), w.flatten(2).float()


@functools.lru_cache(maxsize=None)  # keys: sizes and devices; never evicted (CUDA graphs read it)
def _pil_nearest(n_in: int, canvas_out: int, device: str) -> torch.Tensor:
    """float64 [canvas_out + 1, canvas_out]: Pillow's NEAREST source columns for a resize from n_in to
    every n_out in 0..canvas_out. Its affine transform accumulates the position in double, so the
    table is made the same way, once per device (no host->device copy per call)."""
    rows = [[0.0] * canvas_out]
    for n_out in range(1, canvas_out + 1):
        step, x, row = n_in / n_out, 0.5 * (n_in / n_out), []
        for _ in range(canvas_out):
            row.append(float(min(int(math.floor(x)), n_in - 1)))
            x += step
        rows.append(row)
    return torch.tensor(rows, dtype=torch.float64, device=device)


def pil_taps(n_in: torch.Tensor, n_out: torch.Tensor, canvas_in: int, canvas_out: int, min_out: int,
             nearest: torch.Tensor | None = None) -> Taps:
    """PIL Image.resize BILINEAR (or NEAREST where ``nearest``, bool [B]; NEAREST needs n_in ==
    canvas_in) from n_in to n_out pixels (int64 [B], n_out >= min_out), per sample, as taps."""
    dev = n_in.device
    nin, nout = n_in.double()[:, None, None], n_out.double()[:, None, None]
    scale = nin / nout
    support = scale.clamp(min=1.0)  # the triangle's half-width in input pixels
    o = torch.arange(canvas_out, device=dev, dtype=torch.float64)[None, :, None]
    centre = (o + 0.5) * scale
    span = int(2 * max(1.0, canvas_in / min_out)) + 3  # taps of the widest triangle
    x = (centre - support + 0.5).floor() + torch.arange(span, device=dev, dtype=torch.float64)[None, None]
    ok = (x >= 0) & (x < nin) & (x < (centre + support + 0.5).floor())
    w = (1 - ((x - centre + 0.5) / support).abs()).clamp(min=0) * ok
    w = w / w.sum(-1, keepdim=True).clamp(min=1e-300)
    idx = x.clamp(0, canvas_in - 1)
    if nearest is not None:
        src = _pil_nearest(canvas_in, canvas_out, str(dev))[n_out.clamp(1, canvas_out)][:, :, None]
        first = torch.arange(span, device=dev)[None, None] == 0
        near = nearest[:, None, None]
        idx = torch.where(near, torch.where(first, src, torch.zeros_like(idx)), idx)
        w = torch.where(near, first.double().expand_as(w), w)
    w = w * (o < nout).double()
    return idx.long(), w.float()


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
