"""int64 values no image can use, reaching the kernels through torch.ops (check_values=False paths or
direct calls): they must neither crash nor wrap onto valid values, and must agree with the references.
Sizes whose int32 index math would overflow are refused by the checks before anything is allocated
(the inputs here are stride-0 expansions of one element)."""
from __future__ import annotations

import pytest
import torch

from helpers import landmarks, needs_ext
from sladd_fast import ops
from sladd_fast.ops import _reference

pytestmark = needs_ext
BIG = [2**31 - 2, 2**32, 2**32 + 3, -(2**32) + 1, 2**40, 2**62]


def _images(n: int = 2, size: int = 12, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    t = torch.randint(0, 256, (n, 3, size, size), generator=g, dtype=torch.uint8)
    s = torch.randint(0, 256, (n, 3, size, size), generator=g, dtype=torch.uint8)
    return t, s, torch.ones(n, 1, size, size)


@pytest.mark.parametrize("v", BIG)
@pytest.mark.parametrize("field", range(6))
def test_poisson_roi_values_beyond_any_image_leave_the_sample_alone(field, v):
    """A ROI value of 2^31 - 2 wrapped in the kernels' int sums, passed their bounds check and read and
    wrote far outside the planes (a segfault); 2^32 truncated to 0 and solved a ROI the reference
    refuses. Now such a ROI is unsolvable in both: rhs zero, compose the target unchanged."""
    t, s, m = _images()
    roi = torch.tensor([[1, 1, 8, 8, 1, 1]] * 2)
    roi[0, field] = v
    rhs = torch.ops.sladd_fast.poisson_rhs(t, s, m, roi)
    assert torch.equal(rhs, _reference.poisson_rhs(t, s, m, roi)) and not rhs[0].any() and rhs[1].any()
    u = torch.rand(2, 3, 10, 10) * 255
    out = torch.ops.sladd_fast.poisson_compose(t, u, roi)
    assert torch.equal(out, _reference.poisson_compose(t, u, roi)) and torch.equal(out[0], t[0])


@pytest.mark.parametrize("size", [12, 9])
def test_poisson_rhs_reference_erodes_at_the_canvas_edge_as_the_kernel(size):
    """The reference's 7x7 erosion padded with -inf ("on"): a ROI reaching the bottom or right canvas
    edge kept its last 3 px there (a difference of up to 1045); the kernel cuts them, as the spec says."""
    t, s, m = _images(1, size, 1)
    roi = torch.tensor([[0, 0, size, size, 0, 0]])
    assert torch.equal(torch.ops.sladd_fast.poisson_rhs(t, s, m, roi), _reference.poisson_rhs(t, s, m, roi))


@pytest.mark.parametrize("v", [2**32, 2**32 + 3, -(2**32) + 1])
def test_codes_beyond_int_are_none_not_wrapped(v):
    """Region, morphology op and colour mode codes were narrowed to int: 2^32 + 3 drew region 3,
    morph op 2^32 + 1 dilated. Out of int's range they are 'none', as in the references."""
    lm = landmarks(2, 0, 64)
    region = torch.tensor([v, 3])
    got = torch.ops.sladd_fast.region_mask(lm, region, 64)
    assert torch.equal(got, _reference.region_mask(lm, region, 64)) and not got[0].any() and got[1].any()
    m = torch.zeros(2, 1, 16, 16)
    m[:, :, 8, 8] = 1
    op, k = torch.tensor([v + 1 if v > 0 else v, 1]), torch.tensor([3, 3])
    got = torch.ops.sladd_fast.morph_square(m, op, k)
    assert torch.equal(got, _reference.morph_square(m, op, k)) and torch.equal(got[0], m[0])


def test_color_mode_beyond_int_matches_the_reference():
    from sladd_fast.synthesis import color

    lm = landmarks(2, 3, 64)
    t, s, _ = _images(2, 64, 2)
    m = ops.region_mask(lm, torch.tensor([3, 4]), 64)
    mode = torch.tensor([2**32 + 1, 1])
    with ops.use_backend("kernel", "cpu"):
        got = color.color_transfer(s, t, m, lm, mode)
    with ops.use_backend("reference", "cpu"):
        want = color.color_transfer(s, t, m, lm, mode)
    assert torch.equal(got, want)


def test_sizes_past_int32_index_math_are_refused_before_allocation():
    one = torch.zeros(1, 1, 1, 1, dtype=torch.uint8)
    ident = torch.tensor([[[1.0, 0, 0], [0, 1.0, 0]]])
    box = torch.tensor([[0, 0, 1, 1]])
    with pytest.raises(RuntimeError, match="C must fit in int32"):
        torch.ops.sladd_fast.warp_affine_cubic(one.expand(1, 2**31 + 1, 1, 1), ident, box)
    with pytest.raises(RuntimeError, match="below 2\\^30"):
        torch.ops.sladd_fast.warp_affine_cubic(one.expand(1, 1, 2**30, 1), ident, box)
    big = one.expand(1, 3, 30000, 30000)
    roi = torch.tensor([[0, 0, 3, 3, 0, 0]])
    with pytest.raises(RuntimeError, match="C \\* H \\* W must fit in int32"):
        torch.ops.sladd_fast.poisson_rhs(big, big, torch.zeros(1, 1, 1, 1).expand(1, 1, 30000, 30000), roi)
    with pytest.raises(RuntimeError, match="C \\* H \\* W must fit in int32"):
        torch.ops.sladd_fast.poisson_compose(big, torch.zeros(1, 1, 1, 1).expand(1, 3, 29998, 29998), roi)
    wide = one.expand(1, 0, 7, 400_000_000)  # no channel: C * H * W = 0, but the erode pass indexes H x W
    with pytest.raises(RuntimeError, match="C \\* H \\* W must fit in int32"):
        torch.ops.sladd_fast.poisson_rhs(wide, wide, torch.zeros(1, 1, 1, 1).expand(1, 1, 7, 400_000_000), roi)


def test_empty_inputs_the_kernels_take_the_references_take_too():
    """The reference serves where _C is missing: it crashed on inputs the kernels handle (B = 0 in
    poisson_compose, a 0-pixel side in box_of with exclude_frame and in morph_square)."""
    t, u, roi = torch.zeros(0, 3, 8, 8, dtype=torch.uint8), torch.zeros(0, 3, 6, 6), torch.zeros(0, 6, dtype=torch.long)
    assert torch.equal(_reference.poisson_compose(t, u, roi), torch.ops.sladd_fast.poisson_compose(t, u, roi))
    for shape in ((2, 0, 5), (2, 5, 0)):
        on = torch.zeros(shape, dtype=torch.bool)
        assert torch.equal(_reference.box_of(on, True), torch.ops.sladd_fast.box_of(on, True))
    m, op, k = torch.zeros(2, 1, 0, 5), torch.tensor([0, 1]), torch.tensor([3, 3])
    assert torch.equal(_reference.morph_square(m, op, k), torch.ops.sladd_fast.morph_square(m, op, k))


def test_nvrtc_launchers_refuse_the_same_sizes(monkeypatch):
    """_jit's launchers mirror csrc/checks.h: the same size limits, checked before any GPU work (here
    without a GPU: the checks run before the launch)."""
    from sladd_fast import _jit

    one = torch.zeros(1, 1, 1, 1, dtype=torch.uint8)
    big = one.expand(1, 3, 30000, 30000)
    roi = torch.tensor([[0, 0, 3, 3, 0, 0]])
    with pytest.raises(ValueError, match="C_H_W must be at most"):
        _jit.poisson_rhs(big, big, torch.zeros(1, 1, 1, 1).expand(1, 1, 30000, 30000), roi)
    wide = one.expand(1, 0, 7, 400_000_000)  # no channel: the erode pass still indexes H x W
    with pytest.raises(ValueError, match="C_H_W must be at most"):
        _jit.poisson_compose(wide, torch.zeros(1, 0, 5, 399_999_998), roi)
    ident, box = torch.tensor([[[1.0, 0, 0], [0, 1.0, 0]]]), torch.tensor([[0, 0, 1, 1]])
    with pytest.raises(ValueError, match="H must be at most 1073741823"):
        _jit.warp_affine_cubic(one.expand(1, 1, 2**30, 1), ident, box)
    g = torch.ones(1, 3)
    with pytest.raises(ValueError, match="W must be at most 1073741823"):
        _jit.blur_in_box(one.expand(1, 1, 1, 2**30), g, torch.ones(1, dtype=torch.int64), box)
