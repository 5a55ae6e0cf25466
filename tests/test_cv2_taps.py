"""sladd_fast.augment.cv2_taps against OpenCV itself: resize INTER_LINEAR (uint8 fixed point and float),
axis-aligned warpAffine (linear and nearest, BORDER_CONSTANT) and nearest remap (BORDER_REFLECT_101),
each bit for bit (the float resize within float32 rounding of cv2's float64 result)."""
import cv2
import numpy as np
import pytest
import torch

from sladd_fast.augment import cv2_taps as T
from sladd_fast.synthesis.filters import resample_taps

S = 256


def _blobs(rng: np.random.Generator, n: int) -> np.ndarray:
    """n uint8 {0,1} masks: a disc plus 2% speckle (edges everywhere, at every phase)."""
    m = np.zeros((n, S, S), np.uint8)
    for b in range(n):
        cv2.circle(m[b], (int(rng.integers(60, 200)), int(rng.integers(60, 200))), int(rng.integers(30, 90)), 1, -1)
        m[b] |= (rng.random((S, S)) < 0.02).astype(np.uint8)
    return m


def test_uint8_resize_of_a_binary_mask_equals_cv2():
    rng = np.random.default_rng(0)
    m = _blobs(rng, 12)
    hw = rng.integers(150, 300, (12, 2))  # down and up
    n = torch.full((12,), S)
    ci, cw = T.resize_linear_taps(n, torch.tensor(hw[:, 1]), 300, True, True)
    ri, rw = T.resize_linear_taps(n, torch.tensor(hw[:, 0]), 300, True, False)
    got = T.vresize_u8(resample_taps(torch.tensor(m).float()[:, None], ci, cw, 3), ri, rw)
    for b in range(12):
        h, w = int(hw[b, 0]), int(hw[b, 1])
        assert np.array_equal(got[b, 0, :h, :w].numpy(), cv2.resize(m[b], (w, h))), b
        assert got[b, 0, h:].abs().sum() == 0 and got[b, 0, :, w:].abs().sum() == 0  # outside: 0


def test_float_resize_equals_cv2_within_float32():
    rng = np.random.default_rng(1)
    for _ in range(6):
        h, w = (int(v) for v in rng.integers(192, 257, 2))
        small = rng.random((h, w))
        canvas = torch.zeros(1, 1, S, S)
        canvas[0, 0, :h, :w] = torch.tensor(small).float()
        ci, cw = T.resize_linear_taps(torch.tensor([w]), torch.tensor([S]), S, False, True)
        ri, rw = T.resize_linear_taps(torch.tensor([h]), torch.tensor([S]), S, False, False)
        got = resample_taps(resample_taps(canvas, ci, cw, 3), ri, rw, 2)[0, 0].numpy()
        assert np.abs(got - cv2.resize(small, (S, S))).max() < 1e-6


def _matrix(rng: np.random.Generator, size: int = S, lo: float = 0.9,
            hi: float = 1.1) -> tuple[tuple[float, float], float, float, np.ndarray]:
    """A scale-and-translate matrix from float32 parameters (as SbiParams holds them; the taps take their
    float64 values, as cv2's matrix does), the scale drawn for x and y apart."""
    sx, sy, tx, ty = (float(np.float32(v)) for v in (rng.uniform(lo, hi), rng.uniform(lo, hi),
                                                     rng.uniform(-0.05, 0.05), rng.uniform(-0.05, 0.05)))
    c = (size - 1) / 2
    return (sx, sy), tx, ty, np.array([[sx, 0, (1 - sx) * c + tx * size], [0, sy, (1 - sy) * c + ty * size]])


def _inverse(s: tuple[float, float], tx: float, ty: float, size: int) -> tuple[torch.Tensor, ...]:
    """invert_scale_translate's (a00, a02, a11, a12) for one sample's float parameters."""
    return T.invert_scale_translate(*(torch.tensor([v], dtype=torch.float64) for v in (*s, tx, ty)), size, size)


def _warp_u8_hwc(img: np.ndarray, inverse: tuple[torch.Tensor, ...], size: int) -> np.ndarray:
    """warp_affine_u8 (bilinear, zero border) of one HxWxC uint8 image, back as HxWxC."""
    a00, a02, a11, a12 = inverse
    cols, rows = T.warp_affine_taps(a00, a02, size, False, False), T.warp_affine_taps(a11, a12, size, True, False)
    got = T.warp_affine_u8(torch.tensor(img).reshape(size, size, -1).permute(2, 0, 1)[None], cols, rows)
    return got[0].permute(1, 2, 0).numpy()


def test_axis_aligned_warp_affine_equals_cv2_linear_and_nearest():
    rng = np.random.default_rng(2)
    for _ in range(10):
        img = rng.integers(0, 256, (S, S, 3), dtype=np.uint8)
        mask = (rng.random((S, S)) < 0.5).astype(np.uint8)
        s, tx, ty, M = _matrix(rng)
        a00, a02, a11, a12 = _inverse(s, tx, ty, S)
        want = cv2.warpAffine(img, M, (S, S), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        assert np.array_equal(_warp_u8_hwc(img, (a00, a02, a11, a12), S), want)
        cols, rows = T.warp_affine_taps(a00, a02, S, False, True), T.warp_affine_taps(a11, a12, S, True, True)
        got = resample_taps(resample_taps(torch.tensor(mask).float()[None, None], *cols, 3), *rows, 2)
        want = cv2.warpAffine(mask, M, (S, S), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
        assert np.array_equal(got[0, 0].numpy(), want)


@pytest.mark.parametrize("spread", [3.0, 200.0])  # in-range folds, and overshoots past a whole period
def test_nearest_remap_reflect101_equals_cv2(spread):
    rng = np.random.default_rng(3)
    mask = rng.integers(0, 256, (S, S), dtype=np.uint8)
    xs, ys = np.meshgrid(np.arange(S, dtype=np.float32), np.arange(S, dtype=np.float32))
    dx = (rng.standard_normal((S, S)) * spread).astype(np.float32)
    dy = (rng.standard_normal((S, S)) * spread).astype(np.float32)
    dx[0, :4] = [0.5, -0.5, 1.5, 2.5]  # ties round half to even
    mx, my = torch.tensor(xs + dx)[None], torch.tensor(ys + dy)[None]
    got = T.remap_nearest_reflect101(torch.tensor(mask)[None, None], mx, my)
    want = cv2.remap(mask, xs + dx, ys + dy, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT_101)
    assert np.array_equal(got[0, 0].numpy(), want)
    assert torch.equal(mx[0], torch.tensor(xs + dx))  # the maps are left alone


def test_warp_then_remap_in_one_gather_equals_cv2_two_steps():
    """warp_remap_nearest == cv2.remap(cv2.warpAffine(mask, NEAREST), NEAREST, REFLECT_101), large displacements
    included (the warp's zero border read through the remap's reflection)."""
    rng = np.random.default_rng(5)
    xs, ys = np.meshgrid(np.arange(S, dtype=np.float32), np.arange(S, dtype=np.float32))
    for spread in (2.0, 40.0):
        mask = (rng.random((S, S)) < 0.5).astype(np.uint8)
        s, tx, ty, M = _matrix(rng)
        a00, a02, a11, a12 = _inverse(s, tx, ty, S)
        dx = (rng.standard_normal((S, S)) * spread).astype(np.float32)
        dy = (rng.standard_normal((S, S)) * spread).astype(np.float32)
        got = T.warp_remap_nearest(torch.tensor(mask)[None, None], T.warp_affine_taps(a00, a02, S, False, True),
                                   T.warp_affine_taps(a11, a12, S, True, True), torch.tensor(xs + dx)[None],
                                   torch.tensor(ys + dy)[None])
        warped = cv2.warpAffine(mask, M, (S, S), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
        want = cv2.remap(warped, xs + dx, ys + dy, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT_101)
        assert np.array_equal(got[0, 0].numpy(), want), spread


def _remap_case(rng: np.random.Generator, S: int, spread: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A float32 image and float32 maps with ties, NaN, huge and short-overflowing values."""
    img = rng.random((S, S + 7)).astype(np.float32)
    mx = (rng.standard_normal((S - 3, S + 2)) * spread + S / 2).astype(np.float32)
    my = (rng.standard_normal((S - 3, S + 2)) * spread + S / 2).astype(np.float32)
    mx[0, :12] = [0.5, 1.5, 2.5, -0.5, -1.5, np.nan, 3.4999998, 1e6, -1e9, 32767.5, 2.1e9, 3e9]
    my[1, :6] = [np.nan, -32768.5, 40000.5, np.inf, -np.inf, 2.5]
    return img, mx, my


@pytest.mark.parametrize("spread", [3.0, 300.0])  # one fold, and many periods
def test_remap_nearest_op_equals_cv2_and_its_reference(spread):
    """The csrc op remap_nearest (absolute maps, identity tables) == cv2.remap(INTER_NEAREST,
    BORDER_REFLECT_101), ties, NaN, inf and values past a short included; relative maps == absolute
    ones made by the same float32 add; the kernel == the PyTorch reference with random tables."""
    from sladd_fast.ops import _reference
    from sladd_fast.synthesis.filters import remap_nearest

    rng = np.random.default_rng(11)
    img, mx, my = _remap_case(rng, S, spread)
    H, W = img.shape
    ident = (torch.arange(W)[None], torch.arange(H)[None])
    absolute = torch.tensor(np.stack([mx, my]))[None]
    got = remap_nearest(torch.tensor(img)[None, None], absolute, *ident, relative=False)
    want = cv2.remap(img, mx, my, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT_101)
    assert got.shape == (1, 1) + want.shape and np.array_equal(got[0, 0].numpy(), want)
    Ho, Wo = mx.shape
    xs, ys = np.meshgrid(np.arange(Wo, dtype=np.float32), np.arange(Ho, dtype=np.float32))
    rel = remap_nearest(torch.tensor(img)[None, None], torch.tensor(np.stack([mx - xs, my - ys]))[None], *ident)
    want_rel = cv2.remap(img, xs + (mx - xs), ys + (my - ys), cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT_101)
    assert np.array_equal(rel[0, 0].numpy(), want_rel)
    x = torch.rand(3, 2, H, W)
    maps = torch.tensor(np.stack([mx, my]))[None].repeat(3, 1, 1, 1)
    tables = torch.randint(-3, W + 3, (3, W + 5)), torch.randint(-3, H + 3, (3, 17))
    for relative in (False, True):
        out = remap_nearest(x, maps, *tables, relative=relative)
        assert torch.equal(out, _reference.remap_nearest(x, maps, *tables, relative)), relative
        assert (out != 0).float().mean() > 0.3  # tables pointing outside the input read 0, the rest reads x


def test_remap_nearest_bad_input():
    from sladd_fast.synthesis.filters import remap_nearest

    x, m, t = torch.rand(2, 1, 8, 8), torch.rand(2, 2, 8, 8), torch.arange(8).expand(2, 8)
    with pytest.raises(ValueError, match="map must have shape"):
        remap_nearest(x, m[:1], t, t)
    with pytest.raises(ValueError, match="col_table must have dtype"):
        remap_nearest(x, m, t.int(), t)
    with pytest.raises(ValueError, match="x must have dtype"):
        remap_nearest(x.double(), m, t, t)
    with pytest.raises(ValueError, match="at least one entry"):
        remap_nearest(x, m, t[:, :0], t)


def test_warp_linear_u8_kernel_equals_its_reference():
    """The csrc op on arbitrary taps (indices and weights past their ranges, clamped) == the reference;
    OpenCV's taps are checked against cv2 in test_axis_aligned_warp_affine_equals_cv2_linear_and_nearest
    and test_warp_linear_u8_equals_cv2_over_scales_sizes_and_channels."""
    from sladd_fast.ops import _reference
    from sladd_fast.synthesis.filters import warp_linear_u8

    g = torch.Generator().manual_seed(4)
    for C, H, W, Ho, Wo in ((3, 37, 53, 41, 29), (1, 1, 1, 3, 2), (2, 16, 16, 16, 16)):
        x = torch.randint(0, 256, (2, C, H, W), dtype=torch.uint8, generator=g)
        ci, ri = torch.randint(-3, W + 3, (2, Wo, 2), generator=g), torch.randint(-3, H + 3, (2, Ho, 2), generator=g)
        cw, rw = torch.randint(-4, 40, (2, Wo, 2), generator=g), torch.randint(-4, 40, (2, Ho, 2), generator=g)
        got = warp_linear_u8(x, ci, cw, ri, rw)
        assert got.shape == (2, C, Ho, Wo) and torch.equal(got, _reference.warp_linear_u8(x, ci, cw, ri, rw)), (C, H)
        assert (got == 255).any() and (got < 255).any()  # weights past 32 saturate some outputs, not all
    empty = warp_linear_u8(torch.zeros(1, 3, 0, 5, dtype=torch.uint8), ci[:1], cw[:1], ri[:1], rw[:1])
    assert empty.shape == (1, 3, 16, 16) and not empty.any()


def test_warp_linear_u8_bad_input():
    from sladd_fast.synthesis.filters import warp_linear_u8

    x, t = torch.zeros(2, 3, 8, 8, dtype=torch.uint8), torch.zeros(2, 8, 2, dtype=torch.int64)
    with pytest.raises(ValueError, match="x must have dtype torch.uint8"):
        warp_linear_u8(x.float(), t, t, t, t)
    with pytest.raises(ValueError, match="col_index must have shape"):
        warp_linear_u8(x, t[:1], t, t, t)
    with pytest.raises(ValueError, match="row_weight must have shape"):
        warp_linear_u8(x, t, t, t, t[:, :4])
    with pytest.raises(ValueError, match="col_weight must have dtype"):
        warp_linear_u8(x, t, t.float(), t, t)


def test_warp_linear_u8_equals_cv2_over_scales_sizes_and_channels():
    """cv2.warpAffine(INTER_LINEAR, BORDER_CONSTANT) == warp_affine_u8 (the csrc op warp_linear_u8) for
    scales 0.3-3 (SBI draws 0.95-1.05), 1, 3 and 4 channels and sizes that are not multiples of 8."""
    rng = np.random.default_rng(8)
    for size, C in ((64, 1), (100, 3), (299, 4), (37, 3)):
        for lo, hi in ((0.3, 0.9), (0.9, 1.1), (1.1, 3.0)):
            img = rng.integers(0, 256, (size, size, C), dtype=np.uint8)
            s, tx, ty, M = _matrix(rng, size, lo, hi)
            want = cv2.warpAffine(img, M, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
            assert np.array_equal(_warp_u8_hwc(img, _inverse(s, tx, ty, size), size),
                                  want.reshape(size, size, C)), (size, C, s)


def test_new_ops_baseline_loops_give_the_same_values(tmp_path):
    """SLADD_FAST_NO_AVX2=1 runs the SSE2 copies of uniform_noise, remap_nearest and warp_linear_u8 (the
    AVX2 ones are picked where the CPU has them): the same values."""
    from helpers import run_cpu_copy
    from sladd_fast._ext import has_ops

    if not has_ops():
        pytest.skip("sladd_fast._C not built")
    code = """
import sys, torch
from sladd_fast.ops.noise import uniform_noise
from sladd_fast.synthesis.filters import remap_nearest, warp_linear_u8
g = torch.Generator().manual_seed(6)
x = torch.rand(2, 3, 37, 53, generator=g)
m = torch.randn(2, 2, 41, 29, generator=g) * 30
m[0, 0, 0, :4] = torch.tensor([float('nan'), float('inf'), 3e9, 2.5])
ct, rt = torch.randint(-2, 56, (2, 61), generator=g), torch.randint(-2, 40, (2, 23), generator=g)
u = torch.randint(0, 256, (2, 3, 37, 53), dtype=torch.uint8, generator=g)
ci, ri = torch.randint(-2, 56, (2, 29, 2), generator=g), torch.randint(-2, 40, (2, 41, 2), generator=g)
cw, rw = torch.randint(0, 33, (2, 29, 2), generator=g), torch.randint(0, 33, (2, 41, 2), generator=g)
torch.save([uniform_noise(torch.tensor([3, -5]), 3, 100, 100), remap_nearest(x, m, ct, rt),
            remap_nearest(x, m, ct, rt, relative=False), warp_linear_u8(u, ci, cw, ri, rw)], sys.argv[1])
"""
    outs = [run_cpu_copy(code, str(tmp_path / f"out{n}.pt"), no_avx2) for n, no_avx2 in enumerate((True, False))]
    for base, avx in zip(*outs):
        assert torch.equal(base, avx)
