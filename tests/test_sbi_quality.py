"""sbi_quality (SBI's source transforms as one op): CPU kernel vs the PyTorch reference bit for bit, every
branch and odd sizes; the branches against OpenCV's own calls; the reference op path of the SBI mode;
bad input. CUDA vs CPU is in test_cuda_ops.py."""
import numpy as np
import pytest
import torch

from sladd_fast.ops import _reference

op = torch.ops.sladd_fast.sbi_quality


def _args(B: int, H: int, W: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    rgb = torch.randint(0, 256, (B, 3, H, W), dtype=torch.uint8, generator=g)
    shifts = (torch.rand(B, 3, generator=g) * 2 - 1) * 0.3
    shifts[0] = torch.tensor([-5.5, 300.0, -0.2])  # a large hue move, a saturating one
    coeffs = torch.zeros(B, 8)
    on = torch.rand(B, 1, generator=g) < 0.5
    coeffs[:, :3] = torch.where(on, (torch.rand(B, 3, generator=g) * 2 - 1) * 20, torch.zeros(B, 3))
    coeffs[:, 3] = 1 + (torch.rand(B, generator=g) * 2 - 1) * 0.1
    coeffs[:, 4] = (torch.rand(B, generator=g) * 2 - 1) * 0.1 * 255
    a, lt = 0.2 + 0.3 * torch.rand(B, generator=g), 0.5 + 0.5 * torch.rand(B, generator=g)
    coeffs[:, 5], coeffs[:, 6], coeffs[:, 7] = a, 9 + lt, 1 - a
    branch = torch.tensor([0, 1, 2, 4, 3, -1, 1, 2, 4, 1, 2, 4])[:B]  # 3 and -1: nothing
    return rgb, shifts, coeffs, branch


@pytest.mark.parametrize("H,W", [(256, 256), (37, 53), (5, 4), (1, 7), (3, 2), (64, 129)])
@pytest.mark.parametrize("block", [64, 32, 0])
def test_kernel_equals_reference(H, W, block):
    rgb, shifts, coeffs, branch = _args(12, H, W, H * 1000 + W)
    want = _reference.sbi_quality(rgb, shifts, coeffs, branch, block)
    assert torch.equal(op(rgb, shifts, coeffs, branch, block), want)


def test_branch_zero_is_the_colour_stage_and_unknown_branches_act_as_zero():
    from sladd_fast.augment.hsv import shift_hsv_u8

    rgb, shifts, coeffs, _ = _args(4, 40, 48, 5)
    coeffs[:, :3] = 0
    coeffs[:, 3], coeffs[:, 4] = 1.0, 0.0  # identity brightness / contrast
    out = op(rgb, shifts, coeffs, torch.tensor([0, 3, -7, 5]), 64)
    assert torch.equal(out, shift_hsv_u8(rgb, shifts, 64))


def test_branches_equal_opencv_on_the_colour_stage():
    """RandomDownScale bit for bit against cv2.resize (nearest down, INTER_LINEAR up); Sharpen within one
    level on under 0.1% of values against cv2.filter2D (its own float summation order)."""
    import cv2

    rgb, shifts, coeffs, _ = _args(3, 256, 256, 9)
    base = op(rgb, shifts, coeffs, torch.zeros(3, dtype=torch.long), 64)
    for r in (2, 4):
        got = op(rgb, shifts, coeffs, torch.full((3,), r), 64)
        for k in range(3):
            img = base[k].permute(1, 2, 0).numpy().copy()
            small = cv2.resize(img, (64 if r == 4 else 128,) * 2, interpolation=cv2.INTER_NEAREST)
            want = cv2.resize(small, (256, 256), interpolation=cv2.INTER_LINEAR)
            assert np.array_equal(got[k].permute(1, 2, 0).numpy(), want), (r, k)
    got = op(rgb, shifts, coeffs, torch.ones(3, dtype=torch.long), 64)
    for k in range(3):
        a, kk = float(coeffs[k, 5]), float(coeffs[k, 6])
        kern = (1 - a) * np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], np.float32) + a * np.array(
            [[-1, -1, -1], [-1, kk - 1, -1], [-1, -1, -1]], np.float32)
        want = cv2.filter2D(base[k].permute(1, 2, 0).numpy().copy(), -1, kern).astype(int)
        d = np.abs(got[k].permute(1, 2, 0).numpy().astype(int) - want)
        assert d.max() <= 1 and (d > 0).mean() < 0.001, k


@pytest.mark.parametrize("H,W", [(38, 38), (299, 299), (37, 53), (6, 7)])
def test_downscale_equals_opencv_on_sizes_not_multiple_of_the_ratio(H, W):
    """cv2.resize INTER_NEAREST down to (W // r, H // r) takes floor(d * (1 / (w / W))), not r d, when W % r
    is 2 or 3 (299: 49 of 74 columns differ for r = 4); then INTER_LINEAR back, bit for bit."""
    import cv2

    rgb, shifts, coeffs, _ = _args(2, H, W, H + W)
    base = op(rgb, shifts, coeffs, torch.zeros(2, dtype=torch.long), 64)
    for r in (2, 4):
        got = op(rgb, shifts, coeffs, torch.full((2,), r), 64)
        for k in range(2):
            img = base[k].permute(1, 2, 0).numpy().copy()
            small = cv2.resize(img, (int(W / r), int(H / r)), interpolation=cv2.INTER_NEAREST)
            want = cv2.resize(small, (W, H), interpolation=cv2.INTER_LINEAR)
            assert np.array_equal(got[k].permute(1, 2, 0).numpy(), want), (r, k)


def test_rgb_shift_is_albumentations_float32_table():
    """RGBShift is trunc(clip(float32 arange + shift)), which differs from arange + floor(shift) where the
    shift lies within half a float32 step below an integer (the sum rounds up to it)."""
    rgb = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16).expand(1, 3, 16, 16).contiguous()
    shift = np.nextafter(np.float32(3), np.float32(0))  # 2.9999998: 251 + shift rounds to 254.0
    coeffs = torch.tensor([[float(shift), -float(shift), 0.5, 1.0, 0.0, 0.0, 9.0, 1.0]])
    got = op(rgb, torch.zeros(1, 3), coeffs, torch.zeros(1, dtype=torch.long), 64)
    ar = np.arange(256, dtype=np.float32)
    from sladd_fast.augment.hsv import shift_hsv_u8

    tables = [np.clip(ar + np.float32(c), 0, 255).astype(np.uint8) for c in coeffs[0, :3].tolist()]
    want = torch.stack([torch.from_numpy(t[rgb[0, c].numpy()]) for c, t in enumerate(tables)])[None]
    assert torch.equal(got, shift_hsv_u8(want, torch.zeros(1, 3), 64))
    assert int(tables[0][251]) == 254  # the case itself: not 251 + floor(shift) = 253


@pytest.mark.parametrize("bad,match", [
    (lambda a: (a[0].float(),) + a[1:], "rgb must be"),
    (lambda a: (a[0], a[1][:, :2]) + a[2:], "shifts must be"),
    (lambda a: a[:2] + (a[2][:, :7],) + a[3:], "coeffs must be"),
    (lambda a: a[:3] + (a[3].int(),) + a[4:], "branch"),
    (lambda a: a[:3] + (a[3][:2],) + a[4:], "branch must be"),
    (lambda a: a[:4] + (-1,), "block must be"),
])
def test_bad_input_names_the_argument(bad, match):
    args = _args(4, 8, 8, 1) + (64,)
    with pytest.raises(RuntimeError, match=match):
        op(*bad(args))


def test_nan_and_infinite_coefficients_give_defined_levels():
    """A NaN level (RGBShift, gain, bias or Sharpen coefficient) is 0 in the kernels and the reference
    alike; infinities saturate."""
    rgb, shifts, coeffs, branch = _args(12, 16, 20, 3)
    coeffs[0, 3] = float("nan")
    coeffs[4, 4] = float("inf")  # branches 0, 3 and -1: the colour stage alone
    coeffs[5, 4] = float("-inf")
    coeffs[6, 5] = float("nan")  # Sharpen's a (branch 1)
    coeffs[9, 6] = float("inf")  # Sharpen's k (branch 1)
    coeffs[3, 0] = float("nan")  # an RGBShift of NaN: level 0
    got = op(rgb, shifts, coeffs, branch, 64)
    assert torch.equal(got, _reference.sbi_quality(rgb, shifts, coeffs, branch, 64))
    assert got[0].max() == 0 and got[4].min() == 255 and got[5].max() == 0 and got[6].max() == 0
