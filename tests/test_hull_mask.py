"""hull_mask: pixel-identical to cv2.fillConvexPoly(mask, cv2.convexHull(pts), 1) (what Self-Blended Images
and Face X-ray draw) for integer landmarks; CPU kernel vs reference (bit-exact); properties, bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import landmarks, needs_ext, posed_landmarks
from sladd_fast import faces, ops
from sladd_fast.ops import _reference

cv2 = pytest.importorskip("cv2")
SIZES = (64, 97, 128, 203, 256, 317)


def _cv2_hull_mask(pts: np.ndarray, size: int, shift: int = 0) -> torch.Tensor:
    """SBI / Face X-ray: cv2.fillConvexPoly(zeros, cv2.convexHull(pts), 1) as float32 [size, size]."""
    m = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(m, cv2.convexHull(pts.astype(np.int32)), 1, shift=shift)
    return torch.from_numpy(m).float()


def _with_forehead(lm: torch.Tensor, size: int) -> torch.Tensor:
    """68 -> 81 points: 13 forehead points above the brows (the 81-point model's layout, roughly)."""
    brows = torch.cat([lm[:, 17:27], lm[:, 18:21]], 1)
    lift = torch.linspace(0.12, 0.28, 13) * size
    return torch.cat([lm, brows - torch.stack([torch.zeros(13), lift], -1)], 1)


def _faces(batch: int, size: int, seed: int, k: int) -> torch.Tensor:
    """Random faces (sladd_fast.faces), a third of them grown and moved so that the hull leaves the
    canvas, truncated to integers as SBI's ``landmark.astype('int32')``."""
    g = torch.Generator().manual_seed(seed)
    lm = faces.random_landmarks(batch, size=size, generator=g)
    if k == 81:
        lm = _with_forehead(lm, size)
    u = torch.rand(batch, 3, generator=g)
    grow = torch.where(torch.arange(batch) % 3 == 0, 1.2 + 0.6 * u[:, 0], torch.ones(batch))
    move = torch.where((torch.arange(batch) % 3 == 0)[:, None], (u[:, 1:] - 0.5) * size * 0.6, torch.zeros(batch, 2))
    lm = (lm - size / 2) * grow[:, None, None] + size / 2 + move[:, None]
    return lm.trunc()


@needs_ext
@pytest.mark.parametrize("k", [68, 81])
@pytest.mark.parametrize("size", SIZES)
def test_integer_faces_equal_cv2_fill_convex_poly(size, k):
    """The SBI / Face X-ray call on random faces, some partly outside the canvas: exactly equal."""
    lm = _faces(12, size, 100 * size + k, k)
    got = ops.hull_mask(lm, size)
    assert got.shape == (12, 1, size, size)
    outside = 0
    for b in range(12):
        assert torch.equal(got[b, 0], _cv2_hull_mask(lm[b].numpy(), size)), (size, k, b)
        outside += bool((lm[b] < 0).any() or (lm[b] >= size).any())
    assert outside >= 2  # the clipped edges are exercised


@needs_ext
@pytest.mark.parametrize("seed", range(4))
def test_integer_point_sets_equal_cv2_fill_convex_poly(seed):
    """Random integer sets: few or many points, on a coarse grid (horizontal, vertical and collinear
    edges), far outside the canvas, collinear (cv2 draws a line) and repeated (one pixel)."""
    rng = np.random.default_rng(seed)
    for t in range(400):
        size = int(rng.integers(4, 90))
        k = int(rng.integers(1, 40))
        kind = t % 6
        if kind == 0:
            pts = rng.integers(-2, 8, (k, 2)) * int(rng.integers(1, 16)) - int(rng.integers(0, 20))
        elif kind == 1:
            pts = rng.integers(-3 * size, 4 * size, (k, 2))
        elif kind == 2:
            pts = rng.integers(-size // 4, size + size // 4, (k, 2))
        elif kind == 3:  # collinear
            step = rng.integers(-4, 5, 2)
            pts = rng.integers(-size, 2 * size, 2) + np.arange(k)[:, None] * step
        elif kind == 4:  # one repeated point, in or out of the canvas
            pts = np.repeat(rng.integers(-2, size + 2, (1, 2)), k, 0)
        else:  # huge coordinates
            pts = rng.integers(-100000, 100000, (k, 2))
        lm = torch.tensor(pts, dtype=torch.float32)[None]
        got = ops.hull_mask(lm, size)[0, 0]
        assert torch.equal(got, _cv2_hull_mask(pts, size)), (pts.tolist(), size)


@needs_ext
def test_sub_pixel_landmarks_follow_fill_convex_poly_shift_16():
    """Non-integer input: cv2.fillConvexPoly(shift=16) of the hull of round(p * 65536)."""
    for seed, size in enumerate(SIZES):
        lm = posed_landmarks(6, seed, size) * 1.3 - size * 0.15  # partly outside
        fx = torch.round(lm.double() * 65536).long()
        got = ops.hull_mask(lm, size)
        for b in range(6):
            assert torch.equal(got[b, 0], _cv2_hull_mask(fx[b].numpy(), size, shift=16)), (size, b)


@needs_ext
@pytest.mark.parametrize("seed", range(3))
def test_kernel_matches_reference(seed):
    g = torch.Generator().manual_seed(seed)
    lm = torch.cat([landmarks(4, seed), torch.rand(4, 68, 2, generator=g) * 96 - 16])
    lm = torch.cat([lm, lm.trunc(), (lm[:4] / 8).round() * 8])  # sub-pixel, integer, on a coarse grid
    got = torch.ops.sladd_fast.hull_mask(lm, 64)
    assert torch.equal(got, _reference.hull_mask(lm, 64))


@needs_ext
def test_parts_draw_the_union_of_their_hulls():
    """landmarks [B,P,K,2]: one mask per sample, the union of its P hulls (integer and sub-pixel parts,
    overlapping, disjoint, degenerate), equal to the parts drawn one by one and to the reference."""
    g = torch.Generator().manual_seed(5)
    parts = torch.rand(3, 4, 9, 2, generator=g) * 40 + torch.rand(3, 4, 1, 2, generator=g) * 30 - 5
    parts[0] = parts[0].trunc()
    parts[1, 2] = 17.0  # a single pixel among real hulls
    got = ops.hull_mask(parts, 64)
    assert got.shape == (3, 1, 64, 64)
    one_by_one = ops.hull_mask(parts.flatten(0, 1), 64).view(3, 4, 64, 64).amax(1, keepdim=True)
    assert torch.equal(got, one_by_one) and torch.equal(got, _reference.hull_mask(parts, 64))
    assert ((one_by_one.sum((1, 2, 3)) > ops.hull_mask(parts[:, 0], 64).sum((1, 2, 3)))).all()  # a real union
    assert torch.equal(ops.hull_mask(parts, 64, index=[0, 2, 4]), _reference.hull_mask(parts[:, :, [0, 2, 4]], 64))
    assert ops.hull_mask(parts[:0], 64).shape == (0, 1, 64, 64)
    with pytest.raises(ValueError, match="P >= 1"):
        ops.hull_mask(parts[:, :0], 64)
    with pytest.raises(RuntimeError, match="P >= 1"):
        torch.ops.sladd_fast.hull_mask(parts[:, :0].contiguous(), 64)


@needs_ext
def test_kernel_matches_reference_on_degenerate_and_huge_input():
    lm = torch.zeros(5, 9, 2)
    lm[0, :, 0] = torch.linspace(-20, 90, 9)
    lm[0, :, 1] = torch.linspace(70, -5, 9)  # collinear, sub-pixel
    lm[1] = 20.0  # one repeated point
    lm[2] = torch.tensor([[3e9, 5.0]] * 3 + [[-7e8, 40.0]] * 3 + [[30.0, 1e12]] * 3)  # clamped to 2^20
    lm[3, :, 0] = torch.arange(9) * 5.0
    lm[3, :, 1] = 33.0  # one horizontal line
    lm[4] = torch.rand(9, 2, generator=torch.Generator().manual_seed(1)) * 2e6 - 1e6
    got = ops.hull_mask(lm, 64, check_values=False)
    assert torch.equal(got, _reference.hull_mask(lm, 64))
    assert got[2].sum() > 0 and got[4].sum() >= 0


def test_area_close_to_shoelace():
    lm = landmarks(3, 7)
    m = ops.hull_mask(lm)
    spatial = pytest.importorskip("scipy.spatial")
    for b in range(3):
        hull = spatial.ConvexHull(lm[b].numpy())
        perimeter = hull.area  # in 2-D, scipy's "area" is the perimeter
        assert abs(float(m[b].sum()) - hull.volume) <= perimeter, (float(m[b].sum()), hull.volume)
        assert np.isfinite(hull.volume)


def test_order_invariance_and_index():
    lm = landmarks(2, 8)
    perm = torch.randperm(68, generator=torch.Generator().manual_seed(0))
    assert torch.equal(ops.hull_mask(lm), ops.hull_mask(lm[:, perm]))
    assert torch.equal(ops.hull_mask(lm.trunc()), ops.hull_mask(lm.trunc()[:, perm]))
    jaw = ops.hull_mask(lm, index=list(range(17)))
    assert torch.equal(jaw, ops.hull_mask(lm[:, :17].contiguous()))
    assert jaw.sum() < ops.hull_mask(lm).sum()


def test_degenerate_hulls_are_a_line_or_a_pixel():
    """As cv2 draws them: collinear points give the line between the two extremes (cv2.convexHull
    returns those two), a repeated point gives that pixel (the old rule made both empty)."""
    lm = torch.zeros(3, 68, 2)
    i = torch.arange(68).clamp(max=64).float()
    lm[0] = torch.stack([10 + 0.625 * i, 10 + 0.3125 * i], -1)  # exactly collinear, sub-pixel, whole ends
    lm[1] = 20.0  # one repeated point
    lm[2] = torch.tensor([70.0, 3.0])  # outside the canvas: nothing
    m = ops.hull_mask(lm, 64)
    line = np.zeros((64, 64), np.uint8)
    cv2.line(line, (10, 10), (50, 30), 1)
    assert torch.equal(m[0, 0], torch.from_numpy(line).float())
    assert m[1].sum() == 1 and m[1, 0, 20, 20] == 1
    assert m[2].sum() == 0


def test_bad_input():
    with pytest.raises(ValueError, match="landmarks.*NaN"):
        ops.hull_mask(torch.full((1, 5, 2), float("inf")))
    with pytest.raises(ValueError, match="index"):
        ops.hull_mask(torch.zeros(1, 68, 2), index=[70])
    with pytest.raises(ValueError, match="128"):
        ops.hull_mask(torch.zeros(1, 200, 2))
    assert ops.hull_mask(torch.zeros(0, 68, 2), 16).shape == (0, 1, 16, 16)
