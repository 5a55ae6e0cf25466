"""region_mask: CPU kernel vs reference (bit-exact), properties, bad input."""
from __future__ import annotations

import pytest
import torch

from helpers import landmarks, needs_ext, posed_landmarks
from sladd_fast import ops
from sladd_fast.ops import _reference



@needs_ext
@pytest.mark.parametrize("seed", range(3))
def test_kernel_matches_reference_all_regions(seed):
    lm = landmarks(20, seed)
    region = torch.arange(20) % 10
    got = torch.ops.sladd_fast.region_mask(lm, region, 256)
    want = _reference.region_mask(lm, region, 256)
    assert got.dtype == torch.float32 and got.shape == (20, 1, 256, 256)
    assert torch.equal(got, want)
    assert set(got.unique().tolist()) <= {0.0, 1.0}
    assert (got.sum((1, 2, 3)) > 100).all()


@needs_ext
def test_kernel_matches_reference_on_rolled_and_scaled_faces():
    lm = posed_landmarks(30, seed=3)
    region = torch.arange(30) % 10
    assert torch.equal(torch.ops.sladd_fast.region_mask(lm, region, 256), _reference.region_mask(lm, region, 256))


@needs_ext
def test_kernel_matches_reference_random_points_and_small_canvas():
    g = torch.Generator().manual_seed(5)
    lm = torch.rand(30, 68, 2, generator=g) * 140 - 40  # many points outside a 64 px canvas
    region = torch.randint(0, 10, (30,), generator=g)
    assert torch.equal(torch.ops.sladd_fast.region_mask(lm, region, 64), _reference.region_mask(lm, region, 64))


def test_region_areas_and_unions():
    lm = landmarks(1, 1).expand(10, -1, -1).contiguous()
    m = ops.region_mask(lm, torch.arange(10))
    area = m.mean((1, 2, 3))
    assert (area > 0.02).all() and (area < 0.3).all()
    # unions (spec §3.1): 5 = nose + eye L, 9 = both eyes + nose + mouth
    assert torch.equal(m[5], torch.maximum(m[3], m[0]))
    assert torch.equal(m[6], torch.maximum(m[3], m[1]))
    assert torch.equal(m[8], torch.maximum(m[3], m[4]))
    assert torch.equal(m[9], torch.maximum(torch.maximum(m[2], m[3]), m[4]))


def test_integer_shift_equivariance():
    lm = landmarks(4, 2)
    region = torch.tensor([0, 3, 4, 9])
    a = ops.region_mask(lm, region)
    b = ops.region_mask(lm + torch.tensor([7.0, -5.0]), region)
    assert torch.equal(torch.roll(a, shifts=(-5, 7), dims=(2, 3))[..., 10:-10, 10:-10], b[..., 10:-10, 10:-10])


def test_collinear_and_duplicate_landmarks():
    lm = torch.zeros(2, 68, 2)
    lm[0, :, 0] = torch.linspace(50, 200, 68)  # all on one horizontal line
    lm[0, :, 1] = 128
    lm[1] = 100.0  # all the same point: zero-length segments, zero radii
    m = ops.region_mask(lm, torch.tensor([9, 9]))
    assert m[0].sum() > 0  # segments along the line still have their L1 width
    # A single point, d = 0: cv2.line's two end caps, the 5-pixel plus sign.
    assert m[1].sum() == 5 and m[1, 0, 100, 100] == 1


def test_out_of_image_and_empty_batch():
    lm = landmarks(2, 3) + 1000.0
    assert ops.region_mask(lm, torch.tensor([0, 9])).sum() == 0
    out = ops.region_mask(torch.zeros(0, 68, 2), torch.zeros(0, dtype=torch.int64), 32)
    assert out.shape == (0, 1, 32, 32)


def test_non_contiguous_inputs():
    lm = landmarks(4, 4)
    lm_nc = lm.transpose(1, 2).contiguous().transpose(1, 2)
    assert not lm_nc.is_contiguous()
    region = torch.tensor([[1, 2, 3, 9]]).t()[:, 0]
    assert torch.equal(ops.region_mask(lm_nc, region), ops.region_mask(lm, torch.tensor([1, 2, 3, 9])))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(landmarks=torch.full((1, 68, 2), float("nan")), region=torch.tensor([0])), "landmarks.*NaN"),
        (dict(landmarks=torch.zeros(1, 68, 2, dtype=torch.float64), region=torch.tensor([0])), "landmarks.*dtype"),
        (dict(landmarks=torch.zeros(1, 67, 2), region=torch.tensor([0])), "landmarks.*shape"),
        (dict(landmarks=torch.zeros(1, 68, 2), region=torch.tensor([10])), "region.*\\[0, 9\\]"),
        (dict(landmarks=torch.zeros(1, 68, 2), region=torch.tensor([-1])), "region"),
        (dict(landmarks=torch.zeros(1, 68, 2), region=torch.tensor([0], dtype=torch.int32)), "region.*dtype"),
        (dict(landmarks=torch.zeros(2, 68, 2), region=torch.tensor([0])), "region.*batch"),
        (dict(landmarks=torch.zeros(1, 68, 2), region=torch.tensor([0]), size=0), "size"),
        (dict(landmarks=[[0.0, 0.0]] * 68, region=torch.tensor([0])), "landmarks.*torch.Tensor"),
    ],
)
def test_bad_input_raises_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ops.region_mask(**kwargs)


def test_mismatched_devices():
    meta = torch.zeros(1, dtype=torch.int64, device="meta")
    with pytest.raises(ValueError, match="region is on meta"):
        ops.region_mask(torch.zeros(1, 68, 2), meta, check_values=False)


@needs_ext
def test_unchecked_nan_and_huge_landmarks_match_reference():
    """With check_values=False, NaN and huge coordinates still give defined, backend-independent masks."""
    lm = landmarks(4, 9)
    lm[0, 36] = float("nan")
    lm[1] = float("nan")
    lm[2, 48] = 1e30
    lm[3, 54] = -float("inf")
    region = torch.tensor([0, 9, 4, 4])
    got = ops.region_mask(lm, region, check_values=False)
    assert torch.equal(got, _reference.region_mask(lm, region, 256))
    assert torch.equal(ops.hull_mask(lm, 64, check_values=False), _reference.hull_mask(lm, 64))
