"""CUDA kernels (compiled, and NVRTC JIT) vs the CPU side on identical inputs. Runs only with a GPU.

Each test runs once per CUDA backend present, switched with ops.use_backend, and calls the ops
through the dispatcher. The CPU oracle is torch.ops.sladd_fast.* on CPU tensors: the C++ kernels
where _C is built, else the PyTorch reference (which the CPU tests hold to the kernels' tolerances).
"""
from __future__ import annotations

import pytest
import torch

from helpers import cuda_backends, face_batch, landmarks, needs_cuda
from sladd_fast import ops
from sladd_fast.ops import _reference

pytestmark = needs_cuda
sf = torch.ops.sladd_fast


def _backends():
    return [pytest.param(b, id=b) for b in cuda_backends()] or [pytest.param("reference", id="reference")]


@pytest.fixture(params=_backends())
def backend(request):
    with ops.use_backend(request.param, "cuda"):
        yield request.param


def test_masks_bit_exact(backend):
    lm = torch.cat([landmarks(20, 0), torch.rand(12, 68, 2) * 300 - 20])
    region = torch.arange(32) % 10
    assert torch.equal(ops.region_mask(lm.cuda(), region.cuda()).cpu(), ops.region_mask(lm, region))
    assert torch.equal(ops.hull_mask(lm.cuda()).cpu(), ops.hull_mask(lm))
    parts = lm.view(8, 4, 68, 2)  # the union of 4 hulls per sample
    assert torch.equal(ops.hull_mask(parts.cuda()).cpu(), ops.hull_mask(parts))


def test_blends_match_cpu(backend):
    t, lm = face_batch(12, 1)
    s, _ = face_batch(12, 2)
    m = ops.region_mask(lm, torch.arange(12) % 10)
    w = torch.rand(12)
    roi = ops.blend.poisson_roi(m)
    cu = [x.cuda() for x in (t, s, m, w, roi)]
    assert torch.equal(ops.blend_linear(*cu[:4]).cpu(), ops.blend_linear(t, s, m, w))  # same fmaf: exact
    assert torch.equal(sf.poisson_rhs(cu[0], cu[1], cu[2], cu[4]).cpu(), _reference.poisson_rhs(t, s, m, roi))
    got = ops.blend_poisson(cu[0], cu[1], cu[2]).cpu()
    assert (got.int() - ops.blend_poisson(t, s, m).int()).abs().max() <= 1


def test_box_of_matches_cpu(backend):
    on = torch.rand(9, 70, 130, generator=torch.Generator().manual_seed(2)) > 0.999
    on[0], on[1] = False, True
    for frame in (False, True):
        assert torch.equal(sf.box_of(on.cuda(), frame).cpu(), sf.box_of(on, frame))
    empty = torch.zeros(2, 0, 5, dtype=torch.bool)  # no rows: zeros, as on the CPU
    assert sf.box_of(empty.cuda(), False).cpu().tolist() == sf.box_of(empty, False).tolist() == [[0, 0, 0, 0]] * 2


def test_alignment_geometry_matches_cpu(backend):
    """similarity_align and affine_reach_box: + - * / in float64 on both sides, bit for bit."""
    lm_s, lm_t = torch.cat([landmarks(30, 1), torch.rand(6, 68, 2) * 600 - 200]), landmarks(36, 2)
    lm_s[3] = float("nan")
    got = sf.similarity_align(lm_s.cuda(), lm_t.cuda())
    want = sf.similarity_align(lm_s, lm_t)
    assert all(torch.equal(a.cpu(), b) for a, b in zip(got, want))
    box = torch.randint(-20, 260, (36, 4), generator=torch.Generator().manual_seed(3))
    got_box = sf.affine_reach_box(box.cuda(), want[0].cuda(), 256).cpu()
    assert torch.equal(got_box, sf.affine_reach_box(box, want[0], 256))


def test_resize_taps_match_cpu(backend):
    """skimage_taps / pil_taps: the same double arithmetic on both sides, exp and floor apart (CUDA's exp is
    within an ulp of libm's: the weights may differ in the last bit)."""
    g = torch.Generator().manual_seed(6)
    n_in, n_out = torch.full((16,), 256), torch.randint(64, 257, (16,), generator=g)
    near = torch.rand(16, generator=g) < 0.5
    for got, want in ((sf.skimage_taps(n_in.cuda(), n_out.cuda(), 256, 6), sf.skimage_taps(n_in, n_out, 256, 6)),
                      (sf.pil_taps(n_in.cuda(), n_out.cuda(), near.cuda(), 256, 256, 11),
                       sf.pil_taps(n_in, n_out, near, 256, 256, 11))):
        assert torch.equal(got[0].cpu(), want[0])
        assert torch.allclose(got[1].cpu(), want[1], rtol=1e-6, atol=1e-7)


def test_xray_blend_matches_cpu(backend):
    """Integer sums (exact in any order), then the same float32 steps: equal."""
    from sladd_fast.ops.blend import hull_feather, xray_blend

    both = torch.cat([face_batch(6, 8)[0], face_batch(6, 9)[0]], 1)
    m = ops.region_mask(landmarks(6, 10), torch.arange(6) % 10)
    m[0] = 0
    w = hull_feather(m, torch.full((6,), 0.2))
    got = xray_blend(both.cuda(), m.cuda(), w.cuda()).cpu()
    assert torch.equal(got, xray_blend(both, m, w))


def test_jpeg_round_trip_matches_cpu(backend):
    """The same float32 steps in the same order on both sides (no FMA; rintf, floorf, fabsf exact): equal."""
    g = torch.Generator().manual_seed(8)
    img = torch.randint(0, 256, (6, 3, 256, 256), generator=g, dtype=torch.uint8)
    img[:3] = face_batch(3, 4)[0]
    q, sel = torch.tensor([60, 75, 100, 1, 95, 83]), torch.tensor([True, True, True, True, False, True])
    for bgr in (False, True):
        got = sf.jpeg_round_trip(img.cuda(), q.cuda(), sel.cuda(), bgr).cpu()
        assert torch.equal(got, sf.jpeg_round_trip(img, q, sel, bgr))
    odd = img[:2, :, :37, :53].contiguous()
    assert torch.equal(sf.jpeg_round_trip(odd.cuda(), q[:2].cuda(), sel[:2].cuda(), True).cpu(),
                       sf.jpeg_round_trip(odd, q[:2], sel[:2], True))


def test_fraction_inside_matches_cpu(backend):
    """The same float sums in the same order on both sides."""
    m = ops.region_mask(landmarks(8, 4), torch.arange(8) % 10)
    M = torch.tensor([[1.2, 0.3, -60.0], [-0.3, 1.2, 10.0]]).expand(8, 2, 3).contiguous()
    assert torch.equal(sf.fraction_inside(m.cuda(), M.cuda(), 4).cpu(), sf.fraction_inside(m, M, 4))


def test_poisson_solve_matches_cpu(backend):
    """The tiled DST products against the CPU side: the same fmaf chains, so equal up to CUDA's sin / cos
    (an ulp of double at most, then rounded to float); a canvas past the sine table (n_h = 2098 > 2046)
    takes the untabulated path."""
    g = torch.Generator().manual_seed(5)
    roi = torch.zeros(6, 6, dtype=torch.int64)
    roi[:, 2:4] = torch.tensor([[258, 258], [300, 9], [100, 3], [3, 50], [1, 50], [67, 131]])
    rhs = torch.randint(-300, 300, (6, 3, 256, 256), generator=g).float()
    tall = torch.randint(-300, 300, (2, 1, 2100, 40), generator=g).float()
    tall_roi = torch.tensor([[0, 0, 42, 2100, 0, 0], [0, 0, 20, 1500, 0, 0]])
    for x, r in ((rhs, roi), (tall, tall_roi)):
        got = sf.poisson_solve(x.cuda(), r.cuda()).cpu()
        want = sf.poisson_solve(x, r)
        assert (got - want).abs().max() <= 1e-5 * want.abs().max()
        assert torch.equal(got == 0, want == 0)


def test_filter_ops_match_cpu(backend):
    lm = landmarks(8, 3)
    m = ops.region_mask(lm, torch.arange(8) % 10)
    noise = torch.trunc(torch.randn(8, 5, 5, 2) * 10)
    op = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    k = torch.tensor([3, 5, 7, 9, 11, 13, 15, 19])
    x = torch.cat([face_batch(8, 4)[0].float(), m], 1)
    Mi = torch.tensor([[0.9, 0.1, 10.0], [-0.1, 0.9, 5.0]]).expand(8, 2, 3).contiguous()
    assert torch.equal(sf.morph_square(m.cuda(), op.cuda(), k.cuda()).cpu(), _reference.morph_square(m, op, k))
    assert (sf.deform_mask(m.cuda(), noise.cuda()).cpu() - _reference.deform_mask(m, noise)).abs().max() < 1e-4
    box = torch.tensor([[0, 0, 256, 256]] * 4 + [[10, 20, 100, 50], [-5, 200, 300, 90], [0, 0, 0, 5], [3, 3, 1, 1]])
    got = sf.warp_affine_cubic(x.cuda(), Mi.cuda(), box.cuda()).cpu()
    assert (got - _reference.warp_affine_cubic(x, Mi, box)).abs().max() < 1e-2


def test_lab_conversions_match_cpu(backend):
    img, _ = face_batch(6, 9)
    lab = torch.randint(0, 256, (6, 3, 64, 64), generator=torch.Generator().manual_seed(1)).float()
    # CUDA's powf, libm's and torch's pow may differ by an ulp: a value at a rounding boundary may
    # move one level (the CPU kernel-vs-reference tolerance of test_color_ops.py).
    d = (sf.rgb_to_lab(img.cuda()).cpu() - sf.rgb_to_lab(img)).abs()
    assert d.max() <= 1 and (d > 0).float().mean() < 1e-3
    d = (sf.lab_to_rgb(lab.cuda()).cpu().int() - sf.lab_to_rgb(lab).int()).abs()
    assert d.max() <= 1 and (d > 0).float().mean() < 1e-3


def test_colour_ops_match_cpu(backend):
    """color_stats (exact integer sums where the mode needs them) and color_apply with faceswap's uint8
    planes: rct-m goes through powf (CUDA's vs libm's), so it may move one level; the others are exact."""
    fake, lm = face_batch(8, 11)
    real, _ = face_batch(8, 12)
    mask = ops.region_mask(lm, torch.arange(8) % 10)
    mode = torch.arange(8) % 4
    box = torch.where((mode == 0)[:, None], torch.tensor([0, 0, 256, 256]), ops.mask_bbox(mask))
    cu = [t.cuda() for t in (fake, real, mask, mode, box)]
    stats = sf.color_stats(fake, real, mask, mode, box)
    got = sf.color_stats(*cu).cpu()
    assert torch.equal(got[mode != 0], stats[mode != 0])
    blurred = torch.randint(0, 256, (3, 6, 256, 256), generator=torch.Generator().manual_seed(4), dtype=torch.uint8)
    row = torch.where(mode == 3, torch.arange(8) % 3, -1)
    out = sf.color_apply(*cu[:4], stats.cuda(), blurred.cuda(), row.cuda()).cpu()
    want = sf.color_apply(fake, real, mask, mode, stats, blurred, row)
    assert torch.equal(out[mode != 0], want[mode != 0])
    assert (out.int() - want.int()).abs().max() <= 1


def test_blur_in_box_matches_cpu(backend):
    from sladd_fast.synthesis.filters import gaussian_kernels

    x = torch.rand(4, 6, 96, 80, generator=torch.Generator().manual_seed(2)) * 255
    k = torch.tensor([3, 17, 45, 61])
    g = gaussian_kernels(k, 61)
    box = torch.tensor([[10, 5, 30, 20], [0, 0, 80, 96], [60, 70, 20, 26], [-4, 30, 40, 90]])
    got = sf.blur_in_box(x.cuda(), g.cuda(), (k // 2).cuda(), box.cuda()).cpu()
    assert torch.equal(got, sf.blur_in_box(x, g, k // 2, box))  # same products in the same order, no FMA
    x8 = x.round().clamp(0, 255).to(torch.uint8)  # faceswap's uint8 planes: the blur rounded back to uint8
    got8 = sf.blur_in_box(x8.cuda(), g.cuda(), (k // 2).cuda(), box.cuda()).cpu()
    assert got8.dtype == torch.uint8 and torch.equal(got8, sf.blur_in_box(x8, g, k // 2, box))


def test_resample_taps_matches_cpu(backend):
    from sladd_fast.synthesis.filters import resample_taps

    g = torch.Generator().manual_seed(7)
    x = torch.rand(5, 3, 90, 150, generator=g) * 255  # H != W
    for axis, O, T in ((2, 60, 14), (2, 200, 3), (3, 256, 14), (3, 37, 1)):
        n = x.shape[axis]
        idx = torch.randint(-3, n + 3, (5, O, T), generator=g)  # out of range: clamped
        w = torch.rand(5, O, T, generator=g) * (torch.rand(5, O, T, generator=g) > 0.2)  # some zero taps
        got = resample_taps(x.cuda(), idx.cuda(), w.cuda(), axis, check_values=False).cpu()
        assert torch.equal(got, resample_taps(x, idx, w, axis, check_values=False)), axis  # same order, no FMA


def test_resize_u8_matches_cpu(backend):
    """Face X-ray's uint8 resizes: the same products in the same order as resample_taps, then the rounding."""
    from sladd_fast.augment.resample import pil_taps, resize_u8, skimage_taps

    g = torch.Generator().manual_seed(9)
    x = torch.randint(0, 256, (6, 6, 256, 256), generator=g, dtype=torch.uint8)
    n = torch.randint(128, 257, (6,), generator=g)
    full = torch.full((6,), 256)
    for taps, rounding in ((skimage_taps(full, n, 256, 256, 128), "floor"),
                           (skimage_taps(n, full, 256, 256, 256), "floor"),
                           (pil_taps(full, n // 2, 256, 256, 64, n % 2 == 0), "round")):
        got = resize_u8(x.cuda(), (taps[0].cuda(), taps[1].cuda()), rounding).cpu()
        assert torch.equal(got, resize_u8(x, taps, rounding)), rounding


def test_hull_feather_matches_cpu(backend):
    lm = landmarks(8, 5)
    m = torch.cat([ops.region_mask(lm, torch.arange(8) % 10), ops.hull_mask(lm[:2]), torch.zeros(1, 1, 256, 256)])
    m[3, 0, 100, 40:200] = 0.5  # a stray line joins the hull
    frac = torch.cat([torch.rand(10, generator=torch.Generator().manual_seed(5)) * 0.4, torch.tensor([0.2])])
    # integer hulls, then the same float32 sqrt and divisions (IEEE on both sides): exact
    assert torch.equal(ops.hull_feather(m.cuda(), frac.cuda()).cpu(), ops.hull_feather(m, frac))
    blobs = (torch.rand(3, 1, 90, 150, generator=torch.Generator().manual_seed(6)) > 0.995).float()  # H != W
    frac = torch.tensor([0.2, 0.5, 0.05])
    assert torch.equal(ops.hull_feather(blobs.cuda(), frac.cuda()).cpu(), ops.hull_feather(blobs, frac))


def test_gaussian_filter_matches_cpu(backend):
    """Each output is gauss_px (common/gauss_math.h) on both sides: the centre product, then per pair a float32
    sum and one exactly rounded fma (fmaf / __fmaf_rn), then one float32 multiply by scale: exact, on square,
    odd and R > H, W (the 'reflect' index folded several times) planes."""
    t = torch.arange(29, dtype=torch.float64)
    w = torch.exp(-t * t / 98)  # sigma 7, truncated at R = 28
    taps = (w / (2 * w.sum() - w[0])).float()  # w0 + 2 sum(w[1:]) = 1
    g = torch.Generator().manual_seed(10)
    for shape in ((2, 2, 256, 256), (1, 3, 37, 53), (1, 1, 5, 9)):
        x = torch.rand(shape, generator=g) * 2 - 1
        want = sf.gaussian_filter(x, taps, 50.0)
        assert torch.equal(sf.gaussian_filter(x.cuda(), taps.cuda(), 50.0).cpu(), want), shape


def test_hsv_shift_matches_cpu(backend):
    """The same integer RGB -> HSV, fmaf and float32 products in the same order on both sides: exact."""
    from sladd_fast.augment.hsv import shift_hsv_u8

    g = torch.Generator().manual_seed(8)
    for W, block in ((256, 64), (380, 64), (100, 32), (1, 64), (77, 0)):
        img = torch.randint(0, 256, (6, 3, 50, W), generator=g, dtype=torch.uint8)
        shifts = (torch.rand(6, 3, generator=g) * 2 - 1) * 0.3
        shifts[4:] = torch.tensor([[179.9, -300.0, 7.3], [float("nan"), float("inf"), float("-inf")]])
        want = sf.hsv_shift(img, shifts, block)
        assert torch.equal(sf.hsv_shift(img.cuda(), shifts.cuda(), block).cpu(), want), (W, block)
        assert torch.equal(shift_hsv_u8(img.cuda(), shifts.cuda(), block).cpu(), want), (W, block)


def test_sbi_quality_matches_cpu(backend):
    """The colour stage is hsv_shift's arithmetic between integer steps, the brightness/contrast level and
    Sharpen are float32 products and sums in the same order with no FMA on both sides, RandomDownScale is
    integer: exact, for every branch (0, Sharpen, down by 2 and 4), with and without OpenCV's SIMD block."""
    g = torch.Generator().manual_seed(9)
    nan, inf = float("nan"), float("inf")
    coeffs = torch.tensor([[3.0, -2.0, 0.0, 1.05, -10.0, 0.3, 9.7, 0.7], [0.0, 0.0, 0.0, 0.95, 5.0, 0.2, 9.5, 0.8],
                           [-19.5, 12.2, 7.9, 1.1, -3.5, 0.45, 9.9, 0.55], [nan, inf, -inf, 0.9, 12.75, 0.5, 10.0, 0.5],
                           [300.0, -300.0, 255.5, -1.0, 300.0, 4.0, 9.5, -3.0],
                           [-20.0, 0.4, -0.4, 1.08, -25.5, 0.37, 9.61, 0.63],
                           [17.0, -5.0, 1.0, 0.91, 24.0, 0.21, 9.93, 0.79],
                           [0.0, 0.0, 0.0, 1.0, 0.0, 0.5, 10.0, 0.5]])
    branch = torch.tensor([0, 1, 2, 4, 1, 2, 4, 0])
    for H, W in ((256, 256), (37, 53)):
        for block in (64, 0):
            img = torch.randint(0, 256, (8, 3, H, W), generator=g, dtype=torch.uint8)
            shifts = (torch.rand(8, 3, generator=g) * 2 - 1) * 0.3
            shifts[[3, 7]] = torch.tensor([[179.9, -300.0, 7.3], [nan, inf, -inf]])
            for br in (branch, branch.roll(1), branch.roll(2), branch.roll(3)):  # each branch on each coeffs row
                want = sf.sbi_quality(img, shifts, coeffs, br, block)
                got = sf.sbi_quality(img.cuda(), shifts.cuda(), coeffs.cuda(), br.cuda(), block).cpu()
                assert torch.equal(got, want), (H, W, block, br.tolist())


def test_uniform_noise_matches_cpu(backend):
    """Integer hashing then an exact scaling on both sides: exact, for any seed (negative, 2^62 - 1, int64's
    extremes), odd sizes, several samples, and the same field for a seed whatever the batch around it."""
    from sladd_fast.ops.noise import uniform_noise

    seeds = torch.tensor([0, 1, -1, 7, (1 << 62) - 1, -(1 << 63), (1 << 63) - 1, -123456789012345, 7])
    for C, H, W in ((2, 256, 256), (3, 37, 53), (1, 1, 1), (3, 0, 5)):
        want = sf.uniform_noise(seeds, C, H, W)
        got = uniform_noise(seeds.cuda(), C, H, W)
        assert got.device.type == "cuda" and got.dtype == torch.float32
        assert torch.equal(got.cpu(), want), (C, H, W)
        assert torch.equal(sf.uniform_noise(seeds[4:5].cuda(), C, H, W).cpu(), want[4:5]), (C, H, W)
    assert torch.equal(sf.uniform_noise(seeds[:0].cuda(), 2, 3, 3).cpu(), torch.empty(0, 2, 3, 3))


def test_remap_nearest_matches_cpu(backend):
    """Float32 adds (relative maps), then integer rounding, folding and table reads on both sides: exact,
    with NaN, infinite, huge and half-integer map values, tables with values outside the input, tables of
    length 1, relative and absolute maps, 1 and 3 channels, Ho, Wo != H, W."""
    from sladd_fast.synthesis.filters import remap_nearest

    g = torch.Generator().manual_seed(11)
    special = torch.tensor([float("nan"), float("inf"), float("-inf"), 1e9, -1e9, 3.4e38, 32767.5, -32768.5,
                            40000.5, 2.5, -0.5, 1.5, 255.5, -256.0])
    for (B, C, H, W), (Ho, Wo), (Wt, Ht) in (((4, 3, 256, 256), (256, 256), (256, 256)),
                                             ((3, 1, 37, 53), (41, 29), (61, 23)),
                                             ((2, 3, 40, 72), (17, 90), (1, 1))):
        x = torch.rand(B, C, H, W, generator=g) * 2 - 1
        rel = torch.randn(B, 2, Ho, Wo, generator=g) * 30
        absolute = torch.rand(B, 2, Ho, Wo, generator=g) * (3 * max(W, H)) - max(W, H)
        for mp in (rel, absolute):
            mp.view(-1)[::37][:special.numel()] = special
        cols = torch.randint(-3, W + 3, (B, Wt), generator=g)
        rows = torch.randint(-3, H + 3, (B, Ht), generator=g)
        cols[0], rows[0] = torch.arange(Wt) % W, torch.arange(Ht) % H  # identity-like tables
        for mp, relative in ((rel, True), (absolute, False)):
            want = sf.remap_nearest(x, mp, cols, rows, relative)
            got = remap_nearest(x.cuda(), mp.cuda(), cols.cuda(), rows.cuda(), relative=relative).cpu()
            assert torch.equal(got, want), (B, C, H, W, Ho, Wo, Wt, Ht, relative)


def test_warp_linear_u8_matches_cpu(backend):
    """Integer fixed point on both sides: exact, for cv2.warpAffine's taps (augment/cv2_taps.py) of scales
    and translations that move part of the image out, arbitrary taps (indices outside the image, weights
    < 0 and > 32, clamped; sums that saturate), 1 and 3 channels, Ho, Wo != H, W, a 1x1 image, an input
    with no rows (zeros) and no samples."""
    from sladd_fast.augment.cv2_taps import fixed_taps, warp_affine_taps
    from sladd_fast.synthesis.filters import warp_linear_u8

    g = torch.Generator().manual_seed(12)

    def any_taps(B: int, n_out: int, n_in: int) -> tuple[torch.Tensor, torch.Tensor]:
        return (torch.randint(-5, n_in + 5, (B, n_out, 2), generator=g),
                torch.randint(-20, 60, (B, n_out, 2), generator=g))

    for B, C, H, W in ((4, 3, 256, 256), (3, 1, 37, 53), (2, 3, 1, 1)):
        x = torch.randint(0, 256, (B, C, H, W), generator=g, dtype=torch.uint8)
        scale = 0.8 + 0.4 * torch.rand(B, generator=g, dtype=torch.float64)
        shift = (torch.rand(B, 2, generator=g, dtype=torch.float64) - 0.5) * 0.3
        cols = fixed_taps(warp_affine_taps(scale, shift[:, 0] * W, W, False, False))
        rows = fixed_taps(warp_affine_taps(scale, shift[:, 1] * H, H, True, False))
        for c, r in ((cols, rows), (any_taps(B, 61, W), any_taps(B, 23, H)), (cols, any_taps(B, 29, H))):
            want = sf.warp_linear_u8(x, *c, *r)
            got = warp_linear_u8(x.cuda(), *(t.cuda() for t in c + r))
            assert got.device.type == "cuda" and got.dtype == torch.uint8
            assert torch.equal(got.cpu(), want), (B, C, H, W, c[0].shape[1], r[0].shape[1])
    c, r = any_taps(2, 7, 5), any_taps(2, 4, 0)
    got = warp_linear_u8(torch.zeros(2, 3, 0, 5, dtype=torch.uint8).cuda(), *(t.cuda() for t in c + r))
    assert torch.equal(got.cpu(), torch.zeros(2, 3, 4, 7, dtype=torch.uint8))  # no rows: the border's zeros
    got = warp_linear_u8(torch.zeros(0, 3, 5, 5, dtype=torch.uint8).cuda(), *(t[:0].cuda() for t in c + r))
    assert got.shape == (0, 3, 4, 7)


def test_piecewise_affine_grid_matches_cpu(backend):
    """Float32 with every operation rounded on its own (--fmad=false on the device): exact, for Face X-ray's
    targets (anchors n / 3 apart, jittered, clipped) at work sizes 128..256 on canvas 256, and for arbitrary
    targets with steps that clamp every cell (tiny, subnormal, huge, negative, inf; 0 and NaN: NaN coordinates,
    in the same places), canvases 1, 2, 7 and 67, main all True, all False and mixed, no samples."""
    from sladd_fast.ops._dispatch import op

    grid = op("piecewise_affine_grid")
    g = torch.Generator().manual_seed(13)
    n = torch.randint(128, 257, (16,), generator=g)
    nf = n.float()[:, None, None]
    anchor = torch.arange(4.0)[None, :] * (nf / 3)[:, 0]  # as augment/xray.py piecewise_affine_grid
    scale = (0.01 + 0.14 * torch.rand(16, 1, 1, 1, generator=g)) * nf[..., None]
    jitter = torch.randn(16, 4, 4, 2, generator=g) * scale
    ty = torch.minimum((anchor[:, :, None] + jitter[..., 0]).clamp(min=0), nf - 1)
    tx = torch.minimum((anchor[:, None, :] + jitter[..., 1]).clamp(min=0), nf - 1)
    step, main = (nf / 3)[:, 0, 0].contiguous(), torch.rand(16, 9, generator=g) < 0.5
    for m in (main, ~main):
        want = sf.piecewise_affine_grid(tx, ty, step, m, 256)
        got = grid(tx.cuda(), ty.cuda(), step.cuda(), m.cuda(), 256)
        assert got.device.type == "cuda" and got.dtype == torch.float32 and bool(want.isfinite().all())
        assert torch.equal(got.cpu(), want)
    any_tx, any_ty = (torch.rand(10, 4, 4, generator=g) * 320 - 30 for _ in range(2))
    any_step = torch.tensor([1e-3, 1e-40, 0.3, 2.5, -5.0, 1e30, float("inf"), 7 / 3, 0.0, float("nan")])
    for canvas in (1, 2, 7, 67):
        for m in (torch.ones(10, 9, dtype=torch.bool), torch.zeros(10, 9, dtype=torch.bool),
                  torch.rand(10, 9, generator=g) < 0.5):
            want = sf.piecewise_affine_grid(any_tx, any_ty, any_step, m, canvas)
            got = grid(any_tx.cuda(), any_ty.cuda(), any_step.cuda(), m.cuda(), canvas).cpu()
            nan = want.isnan()
            assert torch.equal(got.isnan(), nan) and torch.equal(got[~nan], want[~nan]), (canvas, m[0, 0])
    got = grid(tx[:0].cuda(), ty[:0].cuda(), step[:0].cuda(), main[:0].cuda(), 256)
    assert got.shape == (0, 256, 256, 2) and got.device.type == "cuda"


def test_every_dispatch_key_is_served(backend):
    for name in ops._library.SCHEMAS:
        assert torch._C._dispatch_has_kernel_for_dispatch_key(f"sladd_fast::{name}", "CUDA"), name
    assert ops.backend_for("cuda") == backend
