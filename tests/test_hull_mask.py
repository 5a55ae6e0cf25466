"""hull_mask: CPU kernel vs reference (bit-exact), properties, bad input."""
from __future__ import annotations

import pytest
import torch

from helpers import landmarks, needs_ext
from sladd_fast import ops
from sladd_fast.ops import _reference



@needs_ext
@pytest.mark.parametrize("seed", range(3))
def test_kernel_matches_reference(seed):
    g = torch.Generator().manual_seed(seed)
    lm = torch.cat([landmarks(4, seed), torch.rand(4, 68, 2, generator=g) * 96 - 16])
    got = torch.ops.sladd_fast.hull_mask(lm, 64)
    assert torch.equal(got, _reference.hull_mask(lm, 64))


def test_area_close_to_shoelace():
    lm = landmarks(3, 7)
    m = ops.hull_mask(lm)
    spatial = pytest.importorskip("scipy.spatial")
    for b in range(3):
        import numpy as np

        ConvexHull = spatial.ConvexHull

        hull = ConvexHull(lm[b].numpy())
        perimeter = hull.area  # in 2-D, scipy's "area" is the perimeter
        assert abs(float(m[b].sum()) - hull.volume) <= perimeter, (float(m[b].sum()), hull.volume)
        assert np.isfinite(hull.volume)


def test_order_invariance_and_index():
    lm = landmarks(2, 8)
    perm = torch.randperm(68, generator=torch.Generator().manual_seed(0))
    assert torch.equal(ops.hull_mask(lm), ops.hull_mask(lm[:, perm]))
    jaw = ops.hull_mask(lm, index=list(range(17)))
    assert torch.equal(jaw, ops.hull_mask(lm[:, :17].contiguous()))
    assert jaw.sum() < ops.hull_mask(lm).sum()


def test_degenerate_hulls_are_empty():
    lm = torch.zeros(2, 68, 2)
    lm[0, :, 0] = torch.linspace(10, 50, 68)
    lm[0, :, 1] = torch.linspace(10, 50, 68)  # collinear
    lm[1] = 20.0  # one repeated point
    assert ops.hull_mask(lm, 64).sum() == 0


def test_bad_input():
    with pytest.raises(ValueError, match="landmarks.*NaN"):
        ops.hull_mask(torch.full((1, 5, 2), float("inf")))
    with pytest.raises(ValueError, match="index"):
        ops.hull_mask(torch.zeros(1, 68, 2), index=[70])
    with pytest.raises(ValueError, match="128"):
        ops.hull_mask(torch.zeros(1, 200, 2))
    assert ops.hull_mask(torch.zeros(0, 68, 2), 16).shape == (0, 1, 16, 16)
