"""hull_feather: CPU kernel vs reference (bit-exact), vs FaceSwap's blendImages weights computed with
OpenCV, closed form on rectangles, degenerate masks, bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers import landmarks, needs_ext
from sladd_fast import ops
from sladd_fast.ops import _reference


def _blobs(B: int, H: int, W: int, seed: int) -> torch.Tensor:
    """Non-convex masks (thresholded smooth noise, often several components) with arbitrary non-zero
    values: "on" is != 0."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(B, 1, max(H // 8, 2), max(W // 8, 2), generator=g)
    up = F.interpolate(low, size=(H, W), mode="bilinear", align_corners=False)
    thr = torch.rand(B, 1, 1, 1, generator=g) * 0.3 + 0.5
    return torch.where(up > thr, torch.randn(B, 1, H, W, generator=g), torch.zeros(()))


def _odd(H: int, W: int) -> torch.Tensor:
    """Empty, one pixel, a row, a column, a diagonal, two pixels, the whole image."""
    m = torch.zeros(7, 1, H, W)
    m[1, 0, H // 2, W // 3] = 1
    m[2, 0, 4, 2:W - 3] = 1
    m[3, 0, 1:H - 1, W - 1] = 0.5
    for i in range(min(H, W) - 2):
        m[4, 0, i + 1, i] = 1
    m[5, 0, 2, 3] = m[5, 0, H - 1, W - 2] = 1
    m[6] = 1
    return m


def _faceswap_weights(mask: np.ndarray, feather: float = 0.2) -> np.ndarray:
    """MarekKowalski/FaceSwap blendImages' weights (as Face X-ray's BI generation uses them), per pixel."""
    cv2 = pytest.importorskip("cv2")
    ys, xs = np.where(mask != 0)
    pts = np.hstack((xs[:, None], ys[:, None]))
    face_size = pts.max(0) - pts.min(0)
    amount = feather * np.max(face_size)
    hull = cv2.convexHull(pts.astype(np.int32))
    dists = np.array([cv2.pointPolygonTest(hull, (float(x), float(y)), True) for x, y in pts])
    out = np.zeros(mask.shape, np.float64)
    out[ys, xs] = np.clip(dists / amount, 0, 1)
    return out


@needs_ext
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("hw", [(64, 64), (48, 80), (81, 37)])
def test_kernel_matches_reference(seed, hw):
    H, W = hw
    g = torch.Generator().manual_seed(100 + seed)
    m = torch.cat([_blobs(6, H, W, seed), _odd(H, W)])
    m = m[torch.randperm(m.shape[0], generator=g)]  # degenerate samples mixed into the batch
    frac = torch.rand(m.shape[0], generator=g) * 0.5
    frac[:2] = torch.tensor([0.0, -0.1])  # f <= 0: all zeros
    got = torch.ops.sladd_fast.hull_feather(m, frac)
    want = _reference.hull_feather(m, frac)
    assert got.shape == (m.shape[0], 1, H, W) and got.dtype == torch.float32
    assert torch.equal(got, want)
    assert got.max() <= 1 and got.min() >= 0 and not bool(got[m == 0].any())


@needs_ext
def test_kernel_matches_reference_on_face_masks():
    lm = landmarks(10, 3)
    m = torch.cat([ops.region_mask(lm, torch.arange(10)), ops.hull_mask(lm)])
    frac = torch.full((20,), 0.2)
    assert torch.equal(torch.ops.sladd_fast.hull_feather(m, frac), _reference.hull_feather(m, frac))


@pytest.mark.parametrize("seed", range(4))
def test_matches_faceswap_with_opencv(seed):
    H, W = (72, 72) if seed % 2 else (56, 90)
    m = _blobs(1, H, W, 50 + seed)
    if seed == 3:
        m = ops.region_mask(landmarks(1, 9, 96), torch.tensor([9]), 96)  # SLADD-style union of thick lines
    assert int((m != 0).sum()) > 50
    got = ops.hull_feather(m, torch.tensor([0.2]))[0, 0].double().numpy()
    want = _faceswap_weights(m[0, 0].numpy())
    assert np.abs(got - want).max() <= 1e-4
    assert (want > 0).sum() > 10 and (want == 1).sum() > 0  # not trivially zero


def test_rectangle_closed_form():
    """A filled rectangle is its own hull: weight = (distance to the nearest side) / f, clipped."""
    H, W, x0, x1, y0, y1 = 40, 50, 5, 44, 8, 30
    m = torch.zeros(2, 1, H, W)
    m[:, :, y0:y1 + 1, x0:x1 + 1] = 1
    frac = torch.tensor([0.2, 0.07])
    ys, xs = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
    d = torch.minimum(torch.minimum(xs - x0, x1 - xs), torch.minimum(ys - y0, y1 - ys)).float()
    f = frac * float(max(x1 - x0, y1 - y0))
    want = (d[None] / f[:, None, None]).clamp(0, 1) * m[:, 0]
    assert torch.equal(ops.hull_feather(m, frac)[:, 0], want)


def test_degenerate_masks_are_zero():
    m = _odd(20, 30)
    w = ops.hull_feather(m, torch.full((7,), 0.2))
    assert not bool(w[:6].any())  # empty, a point, lines and two points: no area
    assert w[6].max() == 1 and not bool(w[6, 0, 0].any())  # the whole image: 0 on its outline


def test_layout_and_empty_batch():
    m = _blobs(3, 32, 40, 7)
    frac = torch.tensor([0.2, 0.1, 0.3])
    mt = m.transpose(2, 3).contiguous().transpose(2, 3)  # same values, another layout
    assert torch.equal(ops.hull_feather(mt, frac), ops.hull_feather(m, frac))
    assert ops.hull_feather(torch.zeros(0, 1, 16, 8), torch.zeros(0)).shape == (0, 1, 16, 8)
    assert ops.hull_feather(torch.zeros(2, 1, 0, 8), torch.zeros(2)).shape == (2, 1, 0, 8)


def test_bad_input():
    m, frac = torch.zeros(2, 1, 8, 8), torch.full((2,), 0.2)
    for kwargs, match in [({"mask": m.to(torch.uint8)}, "mask must have dtype torch.float32"),
                          ({"mask": torch.zeros(2, 3, 8, 8)}, r"mask must have shape \[\*,1,\*,\*\]"),
                          ({"mask": torch.zeros(2, 8, 8)}, "mask must have shape"),
                          ({"frac": frac.double()}, "frac must have dtype torch.float32"),
                          ({"frac": frac[:, None]}, r"frac must have shape \[\*\]"),
                          ({"frac": torch.full((3,), 0.2)}, "frac has batch size 3, expected 2"),
                          ({"frac": torch.tensor([0.2, float("nan")])}, "frac contains NaN"),
                          ({"frac": [0.2, 0.2]}, "frac must be a torch.Tensor")]:
        with pytest.raises(ValueError, match=match):
            ops.hull_feather(**{"mask": m, "frac": frac, **kwargs})
    ops.hull_feather(m, torch.tensor([0.2, float("nan")]), check_values=False)  # unchecked: NaN f gives 0


@needs_ext
def test_kernel_rejects_bad_input():
    """Direct torch.ops calls are checked in C++ too (csrc/checks.h)."""
    with pytest.raises(RuntimeError, match="frac must be"):
        torch.ops.sladd_fast.hull_feather(torch.zeros(2, 1, 4, 4), torch.zeros(3))
    with pytest.raises(RuntimeError, match="mask must be"):
        torch.ops.sladd_fast.hull_feather(torch.zeros(2, 1, 4, 4).double(), torch.zeros(2))


def _huge(H: int, W: int) -> torch.Tensor:
    """A [1,1,H,W] float mask of any size: one element, stride 0 (no memory)."""
    return torch.zeros(1).expand(1, 1, H, W)


@needs_ext
def test_kernel_rejects_sizes_beyond_int32():
    """The kernels take H and W as int and index the hull input's 2H + 2 points with int
    (csrc/checks.h); the NVRTC launcher has the same limits."""
    from sladd_fast import _jit

    max_h = (2**31 - 1 - 2) // 2
    frac = torch.zeros(1)
    for mask in (_huge(max_h + 1, 1), _huge(1, 2**31)):
        with pytest.raises(RuntimeError, match="hull_feather: W must fit in int32 and H be at most 1073741822"):
            torch.ops.sladd_fast.hull_feather(mask, frac)
    with pytest.raises(ValueError, match="hull_feather: H must be at most 1073741822"):
        _jit.hull_feather(_huge(max_h + 1, 1), frac)
    with pytest.raises(ValueError, match="hull_feather: W must be at most 2147483647"):
        _jit.hull_feather(_huge(1, 2**31), frac)
