"""Per-sample resizing of a batch as resampling matrices: every sample its own size, one batched matmul.

Face X-ray resizes each sample to its own random size (scikit-image's resize before blending, PIL's
resize after). A batch cannot hold images of different sizes, so each sample lives in the top-left
``n`` x ``n`` corner of a fixed canvas, and a resize from ``n_in`` to ``n_out`` pixels is a matrix
R [canvas_out, canvas_in] applied as R @ X @ R^T (rows and columns alike: square images). Rows of R
beyond ``n_out`` are zero, so the canvas outside the corner stays 0.

The matrices reproduce the libraries' linear filters exactly (up to float summation order):
- ``skimage_matrices``: skimage.transform.resize(order=1, anti_aliasing default): a Gaussian
  pre-filter with sigma = max(0, (n_in/n_out - 1)/2) (truncate 4, mirror border) when shrinking,
  then linear interpolation at (o + 0.5) n_in/n_out - 0.5 (scipy.ndimage.zoom grid_mode, mirror).
- ``pil_matrices``: PIL's Image.resize BILINEAR (a triangle filter widened by the shrink factor,
  normalised, clipped at the edges) and NEAREST (Pillow's affine walk: x = scale/2, then x += scale per pixel in double, source floor(x)).
PIL rounds to uint8 after each pass; ``resize`` does the same when ``round_passes`` is set.
"""
from __future__ import annotations

import functools
import math

import torch

from sladd_fast._consts import const


def _mirror(i: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """Reflect-101 index into [0, n) (scipy 'mirror', OpenCV BORDER_REFLECT_101); n >= 1."""
    period = (2 * n - 2).clamp(min=1)
    i = torch.remainder(i, period)
    return torch.where(i >= n, period - i, i).clamp(max=n - 1)


def skimage_matrices(n_in: torch.Tensor, n_out: torch.Tensor, canvas_in: int, canvas_out: int,
                     min_out: int) -> torch.Tensor:
    """float32 [B, canvas_out, canvas_in]: skimage.transform.resize(order=1) from n_in to n_out
    pixels (int64 [B] each, n_out >= min_out), anti-aliased when shrinking, one matrix per sample."""
    B, dev = n_in.shape[0], n_in.device
    nin, nout = n_in.double()[:, None, None], n_out.double()[:, None, None]
    scale = nin / nout
    # the Gaussian pre-filter (identity when enlarging)
    sigma = ((scale - 1) / 2).clamp(min=0)
    radius = int(4 * max(0.0, (canvas_in / min_out - 1) / 2) + 0.5)  # the widest filter's taps
    t = torch.arange(-radius, radius + 1, device=dev, dtype=torch.float64)[None, None]  # [1,1,T]
    g = torch.exp(-0.5 * t**2 / sigma.clamp(min=1e-12) ** 2)
    g = torch.where(t.abs() <= (4 * sigma + 0.5).floor(), g, torch.zeros((), dtype=g.dtype, device=dev))
    g = torch.where(sigma > 0, g, (t == 0).double())
    g = g / g.sum(-1, keepdim=True)
    i = torch.arange(canvas_in, device=dev)[None, :, None]
    cols = _mirror(i + t.long(), n_in[:, None, None])
    gauss = torch.zeros(B, canvas_in, canvas_in, device=dev, dtype=torch.float64)
    gauss.scatter_add_(2, cols.expand(B, -1, -1), g.expand(B, canvas_in, -1).contiguous())
    # linear interpolation at the output pixel centres
    o = torch.arange(canvas_out, device=dev, dtype=torch.float64)[None, :, None]
    c = (o + 0.5) * scale - 0.5
    i0 = c.floor()
    f = c - i0
    taps = torch.cat([i0, i0 + 1], -1).long()
    w = torch.cat([1 - f, f], -1) * (o < nout).double()
    interp = torch.zeros(B, canvas_out, canvas_in, device=dev, dtype=torch.float64)
    interp.scatter_add_(2, _mirror(taps, n_in[:, None, None]), w)
    return (interp @ gauss).float()


@functools.lru_cache(maxsize=8)
def _pil_nearest(n_in: int, canvas_out: int) -> tuple:
    """Pillow's NEAREST source columns for a resize from n_in to every n_out in 0..canvas_out: its
    affine transform accumulates the position in double, so the table is made the same way, once."""
    rows = [(0,) * canvas_out]
    for n_out in range(1, canvas_out + 1):
        step, x, row = n_in / n_out, 0.5 * (n_in / n_out), []
        for _ in range(canvas_out):
            row.append(min(int(math.floor(x)), n_in - 1))
            x += step
        rows.append(tuple(row))
    return tuple(rows)


def pil_matrices(n_in: torch.Tensor, n_out: torch.Tensor, canvas_in: int, canvas_out: int, min_out: int,
                 nearest: torch.Tensor | None = None) -> torch.Tensor:
    """float32 [B, canvas_out, canvas_in]: PIL Image.resize BILINEAR (or NEAREST where ``nearest``,
    bool [B]; NEAREST needs n_in == canvas_in) from n_in to n_out pixels (int64 [B], n_out >=
    min_out), per sample."""
    B, dev = n_in.shape[0], n_in.device
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
    if nearest is not None:
        src = const(_pil_nearest(canvas_in, canvas_out), dev, torch.float64)[n_out.clamp(1, canvas_out)][:, :, None]
        w = torch.where(nearest[:, None, None], (x == src).double(), w)
    w = w * (o < nout).double()
    m = torch.zeros(B, canvas_out, canvas_in, device=dev, dtype=torch.float64)
    m.scatter_add_(2, x.clamp(0, canvas_in - 1).long(), w * ok)
    return m.float()


def resize(x: torch.Tensor, m: torch.Tensor, round_passes: bool = False) -> torch.Tensor:
    """Applies per-sample matrices m [B, Sout, Sin] to x float [B,C,Sin,Sin]: m @ x @ m^T, as two
    batched GEMMs over all channels at once (no per-channel copies of m).
    ``round_passes``: round and clip to [0, 255] after each 1-D pass (PIL's uint8 arithmetic)."""
    B, C, S, _ = x.shape
    O = m.shape[1]
    mt = m.transpose(1, 2)
    y = x.reshape(B, C * S, S) @ mt  # along the columns first (PIL's horizontal pass): [B, C*S, O]
    if round_passes:
        y = y.round().clamp(0, 255)
    y = y.view(B, C, S, O).transpose(2, 3).reshape(B, C * O, S) @ mt  # along the rows: [B, C*O, O]
    y = y.view(B, C, O, O).transpose(2, 3)
    return y.round().clamp(0, 255) if round_passes else y
