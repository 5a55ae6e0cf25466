"""rgb_to_lab / lab_to_rgb: CPU kernels vs the PyTorch references, edge values, bad input."""
from __future__ import annotations

import itertools

import pytest
import torch

from helpers import face_batch, needs_ext
from sladd_fast.ops import _reference
from sladd_fast.synthesis import color


def _all_levels() -> torch.Tensor:
    """Every gray level, the pure primaries and secondaries at every level, and a coarse colour cube."""
    v = torch.arange(256, dtype=torch.uint8)
    z = torch.zeros_like(v)
    planes = [torch.stack(c) for c in ((v, v, v), (v, z, z), (z, v, z), (z, z, v), (v, v, z), (v, z, v), (z, v, v))]
    cube = torch.tensor(list(itertools.product(range(0, 256, 15), repeat=3)), dtype=torch.uint8).T
    return torch.cat(planes + [cube], 1)[None, :, None, :]  # [1,3,1,N]


@needs_ext
def test_rgb_to_lab_kernel_vs_reference():
    img, _ = face_batch(6, 3, size=96)
    for x in (img, _all_levels()):
        got = torch.ops.sladd_fast.rgb_to_lab(x)
        want = _reference.rgb_to_lab(x)
        assert got.dtype == torch.float32 and torch.equal(got, got.round())
        d = (got - want).abs()
        # libm powf vs torch's vectorised pow: a pixel at a rounding boundary may move by one level.
        assert d.max() <= 1 and (d > 0).float().mean() < 1e-3


@needs_ext
def test_lab_to_rgb_kernel_vs_reference():
    g = torch.Generator().manual_seed(0)
    lab = torch.randint(0, 256, (4, 3, 64, 64), generator=g).float()
    lab[0, :, 0, :6] = torch.tensor([[-40.0, 300.0, 0.0, 255.0, 1e6, -1e6]] * 3)  # out of range: clamped
    got = torch.ops.sladd_fast.lab_to_rgb(lab)
    want = _reference.lab_to_rgb(lab)
    d = (got.int() - want.int()).abs()
    assert got.dtype == torch.uint8 and d.max() <= 1 and (d > 0).float().mean() < 1e-3
    # Round trip of real colours through integer Lab stays within a few levels (Lab is coarser).
    img, _ = face_batch(2, 5, size=64)
    back = torch.ops.sladd_fast.lab_to_rgb(torch.ops.sladd_fast.rgb_to_lab(img))
    assert (back.int() - img.int()).abs().max() <= 6


@needs_ext
def test_lab_to_rgb_nan_is_black_not_undefined():
    lab = torch.full((1, 3, 2, 2), float("nan"))
    assert torch.equal(torch.ops.sladd_fast.lab_to_rgb(lab), torch.zeros(1, 3, 2, 2, dtype=torch.uint8))
    assert torch.equal(_reference.lab_to_rgb(lab), torch.zeros(1, 3, 2, 2, dtype=torch.uint8))


def test_empty_and_noncontiguous():
    img, _ = face_batch(3, 7, size=32)
    assert color.rgb_to_lab_u8(img[:0]).shape == (0, 3, 32, 32)
    strided = img[:, :, ::2, ::2]  # non-contiguous view
    assert torch.equal(color.rgb_to_lab_u8(strided), color.rgb_to_lab_u8(strided.contiguous()))
    lab = color.rgb_to_lab_u8(img).permute(0, 1, 3, 2)
    assert torch.equal(color.lab_u8_to_rgb(lab), color.lab_u8_to_rgb(lab.contiguous()))


@pytest.mark.parametrize("fn,arg,msg", [
    (color.rgb_to_lab_u8, torch.zeros(1, 3, 4, 4), "rgb must have dtype torch.uint8"),
    (color.rgb_to_lab_u8, torch.zeros(1, 4, 4, 4, dtype=torch.uint8), r"rgb must have shape \[\*,3,\*,\*\]"),
    (color.lab_u8_to_rgb, torch.zeros(1, 3, 4, 4, dtype=torch.uint8), "lab must have dtype torch.float32"),
    (color.lab_u8_to_rgb, torch.zeros(3, 4, 4), r"lab must have shape"),
])
def test_bad_input_names_the_argument(fn, arg, msg):
    with pytest.raises(ValueError, match=msg):
        fn(arg)


@needs_ext
def test_direct_op_calls_are_checked():
    with pytest.raises(RuntimeError, match="rgb must be"):
        torch.ops.sladd_fast.rgb_to_lab(torch.zeros(1, 3, 4, 4))
    with pytest.raises(RuntimeError, match=r"lab must be \[B,3,H,W\]"):
        torch.ops.sladd_fast.lab_to_rgb(torch.zeros(1, 2, 4, 4))
