"""deform_mask, morph_square, warp_affine_cubic: CPU kernels vs references, and vs OpenCV."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import face_batch, landmarks, needs_ext, psnr
from sladd_fast import ops
from sladd_fast.ops import _reference
from sladd_fast.synthesis import align


def _masks(n: int, seed: int, size: int = 256) -> torch.Tensor:
    return ops.region_mask(landmarks(n, seed, size), torch.arange(n) % 10, size)


@needs_ext
@pytest.mark.parametrize("size", [256, 97])
def test_deform_mask_kernel_vs_reference(size):
    m = _masks(10, 0, size)
    m[0] = 1.0  # full canvas: mesh targets clipped at the borders
    noise = torch.trunc(torch.randn(10, 5, 5, 2, generator=torch.Generator().manual_seed(1)) * 15)
    got = torch.ops.sladd_fast.deform_mask(m, noise)
    want = _reference.deform_mask(m, noise)
    assert (got - want).abs().max() < 1e-4
    assert (got[m == 0] == 0).all()  # the deformation only removes area
    assert torch.equal(torch.ops.sladd_fast.deform_mask(m, torch.zeros_like(noise)), m)  # zero noise: identity


@needs_ext
def test_morph_square_kernel_vs_reference_exact():
    g = torch.Generator().manual_seed(2)
    m = torch.cat([_masks(12, 2), (torch.rand(12, 1, 256, 256, generator=g) > 0.6).float()])
    m[0, :, :30] = 1  # touching the border: OpenCV's border rules
    op = torch.randint(0, 3, (24,), generator=g)
    k = 2 * torch.randint(1, 10, (24,), generator=g) + 1
    got = torch.ops.sladd_fast.morph_square(m, op, k)
    assert torch.equal(got, _reference.morph_square(m, op, k))


@needs_ext
def test_morph_square_kernel_odd_sizes_vs_reference():
    """k <= 0 leaves the mask as it is, an even k acts as k - 1, a k past the image reaches all of it."""
    g = torch.Generator().manual_seed(3)
    m = (torch.rand(10, 1, 20, 24, generator=g) > 0.7).float()
    m[1] = 0  # nothing on
    op = torch.tensor([0, 1, 1, 0, 1, 0, 1, 0, 1, 2])
    k = torch.tensor([-7, 0, 1, 2, 4, 61, 61, 1001, 1001, 1001])
    got = torch.ops.sladd_fast.morph_square(m, op, k)
    assert torch.equal(got, _reference.morph_square(m, op, k))
    assert torch.equal(got[:2], m[:2]) and got[7].sum() == 0 and got[8].sum() == 20 * 24


def test_morph_square_matches_opencv():
    cv2 = pytest.importorskip("cv2")
    m = _masks(6, 3)
    m[1, :, 200:] = 1
    op = torch.tensor([0, 1, 0, 1, 2, 0])
    k = torch.tensor([3, 5, 9, 19, 7, 19])
    got = ops._dispatch.op("morph_square")(m, op, k)
    for b in range(6):
        x = m[b, 0].numpy().astype(np.uint8)
        kern = np.ones((int(k[b]), int(k[b])), np.uint8)
        ref = cv2.erode(x, kern) if op[b] == 0 else (cv2.dilate(x, kern) if op[b] == 1 else x)
        assert np.array_equal(got[b, 0].numpy().astype(np.uint8), ref), b


@needs_ext
def test_warp_affine_kernel_vs_reference():
    img, lm_t = face_batch(4, 4)
    src, lm_s = face_batch(4, 5)
    M, _ = align.umeyama_similarity(align.five_points(lm_s), align.five_points(lm_t))
    M[3] = torch.tensor([[1.3, 0.4, -80.0], [-0.4, 1.3, 20.0]])  # reaches far outside: reflect
    x = torch.cat([src.float(), _masks(4, 6)], 1)
    Mi = align.invert_affine(M)
    box = torch.tensor([[0, 0, 256, 256], [10, 20, 100, 50], [-5, 200, 300, 90], [0, 0, 0, 5]])
    got = torch.ops.sladd_fast.warp_affine_cubic(x, Mi, box)
    want = _reference.warp_affine_cubic(x, Mi, box)
    assert (got - want).abs().max() < 1e-3
    full = torch.ops.sladd_fast.warp_affine_cubic(x, Mi, torch.tensor([[0, 0, 256, 256]] * 4))
    assert torch.equal(got[1, :, 20:70, 10:110], full[1, :, 20:70, 10:110])  # the box is computed as before
    u8 = torch.ops.sladd_fast.warp_affine_cubic(src, Mi, box)  # uint8 in, saturated uint8 out
    assert u8.dtype == torch.uint8 and torch.equal(u8, align.to_u8(got[:, :3]))
    d = (u8.int() - _reference.warp_affine_cubic(src, Mi, box).int()).abs()  # float sums within 1e-3: a
    assert d.max() <= 1 and (d > 0).float().mean() < 1e-3  # value at a .5 boundary may round apart
    assert (got[1, :, :20] == 0).all() and (got[2, :, :200] == 0).all() and (got[3] == 0).all()


@needs_ext
def test_warp_affine_baseline_copy_equals_the_avx2_copy(tmp_path):
    """The CPU loops are compiled twice (SSE2 and AVX2, no FMA): SLADD_FAST_NO_AVX2=1 in a fresh process
    (the choice is made once per process) gives the same bits, float and uint8."""
    from helpers import run_cpu_copy

    g = torch.Generator().manual_seed(2)
    x = torch.rand(3, 4, 64, 80, generator=g) * 255
    Mi = torch.tensor([[[0.9, 0.2, 5.0], [-0.2, 0.9, -3.0]], [[1.3, 0.4, -80.0], [-0.4, 1.3, 20.0]],
                       [[1.0, 0.0, 0.5], [0.0, 1.0, 0.25]]])
    box = torch.tensor([[0, 0, 80, 64], [5, 3, 60, 50], [-5, 10, 200, 90]])
    torch.save({"x": x, "Mi": Mi, "box": box}, tmp_path / "case.pt")
    code = f"""
import sys, torch, sladd_fast.ops
c = torch.load({str(tmp_path / "case.pt")!r})
f = torch.ops.sladd_fast.warp_affine_cubic
torch.save([f(c["x"], c["Mi"], c["box"]), f(c["x"].to(torch.uint8), c["Mi"], c["box"])], sys.argv[1])
"""
    base_f, base_u8 = run_cpu_copy(code, str(tmp_path / "out.pt"))
    assert torch.equal(torch.ops.sladd_fast.warp_affine_cubic(x, Mi, box), base_f)
    assert torch.equal(torch.ops.sladd_fast.warp_affine_cubic(x.to(torch.uint8), Mi, box), base_u8)


def _align_case(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Source and target landmarks [48,68,2]: faces, random clouds, NaN, inf (clamped to 2^20), one point (no
    spread), all far off (clamped to one point)."""
    from sladd_fast import faces

    g = torch.Generator().manual_seed(seed)
    lm_s = torch.cat([faces.random_landmarks(40, size=256, generator=g), torch.rand(8, 68, 2, generator=g) * 600 - 200])
    lm_t = torch.cat([faces.random_landmarks(40, size=256, generator=g), torch.rand(8, 68, 2, generator=g) * 600 - 200])
    lm_s[3] = float("nan")
    lm_t[5, 30] = float("inf")
    lm_s[6] = 5.0
    lm_t[7] += 3e6  # clamped to 2^20
    return lm_s, lm_t


@needs_ext
@pytest.mark.parametrize("seed", range(2))
def test_similarity_align_kernel_equals_reference(seed):
    """The per-sample op and the PyTorch reference run the same float64 operations in the same order: equal
    bits, degenerate samples (identity, ok False) included."""
    lm_s, lm_t = _align_case(seed)
    got = torch.ops.sladd_fast.similarity_align(lm_s, lm_t)
    want = _reference.similarity_align(lm_s, lm_t)
    assert all(torch.equal(a, b) for a, b in zip(got, want))
    M, Mi, ok = got
    faces_ok = ok[[i for i in range(40) if i not in (3, 5, 6, 7)]]
    assert faces_ok.all() and not ok[3] and not ok[6] and not ok[7]  # NaN; one point; all clamped to one point
    assert torch.equal(M[3], torch.eye(2, 3))
    # The inverse composes to the identity; the map is a similarity (equal diagonal, opposite off-diagonal).
    A, Ai = M[ok][:, :, :2].double(), Mi[ok][:, :, :2].double()
    assert torch.allclose(Ai @ A, torch.eye(2, dtype=torch.float64).expand_as(A), atol=1e-5)
    assert torch.equal(M[ok][:, 0, 0], M[ok][:, 1, 1]) and torch.equal(M[ok][:, 0, 1], -M[ok][:, 1, 0])


def test_umeyama_closed_form_equals_the_angle_form():
    """R = [[a, -b], [b, a]] / var is Umeyama's rotation atan2(b, a) times the scale sqrt(a^2 + b^2) / var."""
    lm_s, lm_t = _align_case(2)
    s, d = align.five_points(lm_s[8:40]).double(), align.five_points(lm_t[8:40]).double()
    M, ok = align.umeyama_similarity(s.float(), d.float())
    sc, dc = s - s.mean(1, keepdim=True), d - d.mean(1, keepdim=True)
    a = (sc * dc).sum(-1).mean(1)
    b = (sc[..., 0] * dc[..., 1] - sc[..., 1] * dc[..., 0]).mean(1)
    scale = torch.sqrt(a ** 2 + b ** 2) / (sc ** 2).sum(-1).mean(1)
    theta = torch.atan2(b, a)
    assert ok.all()
    assert torch.allclose(M[:, 0, 0].double(), torch.cos(theta) * scale, rtol=1e-6)
    assert torch.allclose(M[:, 1, 0].double(), torch.sin(theta) * scale, rtol=1e-6, atol=1e-9)


@needs_ext
def test_affine_reach_box_kernel_equals_reference():
    lm_s, lm_t = _align_case(4)
    M, _, _ = _reference.similarity_align(lm_s, lm_t)
    g = torch.Generator().manual_seed(4)
    box = torch.randint(-20, 260, (48, 4), generator=g)
    box[:, 2:] = torch.randint(-2, 200, (48, 2), generator=g)
    box[:5] = torch.tensor([10, 10, 20, 20])
    M[0] = float("nan")
    M[1, 0, 0] = float("inf")
    M[2] *= 50  # mapped off the image: nothing reachable
    M[4] *= 0.001  # the output reads beyond one reflection: the whole image
    got = torch.ops.sladd_fast.affine_reach_box(box, M, 256)
    assert torch.equal(got, _reference.affine_reach_box(box, M, 256))
    assert got[0].tolist() == got[4].tolist() == [0, 0, 256, 256] and got[2].tolist() == [0, 0, 0, 0]


@needs_ext
@pytest.mark.parametrize("cell", [4, 1, 3])
def test_fraction_inside_kernel_matches_reference(cell):
    """The op's per-row then per-sample float sums against the reference's pooled sums: the same share up to
    float summation order; empty masks give 0."""
    g = torch.Generator().manual_seed(cell)
    m = torch.rand(12, 1, 48, 48, generator=g) * (torch.rand(12, 1, 48, 48, generator=g) > 0.6)
    m[3] = 0
    ang = torch.rand(12, generator=g) * 6.28
    sc = 0.5 + torch.rand(12, generator=g)
    t = (torch.rand(12, 2, generator=g) - 0.5) * 80
    M = torch.stack([torch.stack([torch.cos(ang) * sc, -torch.sin(ang) * sc, t[:, 0] + 24], 1),
                     torch.stack([torch.sin(ang) * sc, torch.cos(ang) * sc, t[:, 1] + 24], 1)], 1)
    got = torch.ops.sladd_fast.fraction_inside(m, M, cell)
    want = _reference.fraction_inside(m, M, cell)
    assert got.shape == (12,) and got[3] == 0 and torch.allclose(got, want, atol=1e-5)
    assert ((got > 0.02) & (got < 0.98)).sum() >= 3  # partly outside: not all 0 or 1
    m[5, 0, 0, 0] = float("nan")  # NaN weights give NaN, as the reference (not inside by any threshold)
    assert torch.ops.sladd_fast.fraction_inside(m, M, cell)[5].isnan()
    assert _reference.fraction_inside(m, M, cell)[5].isnan()


def test_reach_box_holds_every_reachable_output_pixel():
    """The warped mask is zero outside reach_box, mirror images (BORDER_REFLECT) included, for
    similarities near the image edge, scaled down, rotated, and far enough to need the fallback."""
    g = torch.Generator().manual_seed(0)
    m = torch.zeros(8, 1, 64, 64)
    for b in range(8):
        x0, y0 = torch.randint(0, 50, (2,), generator=g).tolist()
        m[b, 0, y0:y0 + 12, x0:x0 + 9] = 1
    m[7, 0, 0:3, 0:3] = 1  # a corner: reflections on two axes
    ang = torch.rand(8, generator=g) * 6.28
    scale = torch.tensor([1.0, 0.5, 0.3, 1.5, 0.9, 1.1, 0.2, 0.7])
    c, s = torch.cos(ang) * scale, torch.sin(ang) * scale
    t = (torch.rand(8, 2, generator=g) - 0.5) * 80
    M = torch.stack([torch.stack([c, -s, t[:, 0] + 32], 1), torch.stack([s, c, t[:, 1] + 32], 1)], 1)
    warped = align.warp_affine(m, M)
    box = align.reach_box(ops.mask_bbox(m), M, 64)
    inside = _reference._box_pixels(box, 64, 64)[:, None]
    assert (warped.abs() * ~inside).max() == 0
    assert (box[:, 2] * box[:, 3] < 64 * 64).sum() >= 3  # and it is a real restriction for most


def test_warp_affine_matches_opencv():
    cv2 = pytest.importorskip("cv2")
    src, lm_s = face_batch(4, 7)
    _, lm_t = face_batch(4, 8)
    M, _ = align.umeyama_similarity(align.five_points(lm_s), align.five_points(lm_t))
    M[3] = torch.tensor([[0.8, -0.3, 60.0], [0.3, 0.8, -30.0]])
    out = align.to_u8(align.warp_affine(src.float(), M))
    for b in range(4):
        ref = cv2.warpAffine(src[b].permute(1, 2, 0).numpy(), M[b].numpy().astype(np.float64), (256, 256),
                             flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
        got = out[b].permute(1, 2, 0).numpy()
        assert psnr(got, ref) >= 45.0, (b, psnr(got, ref))


@pytest.mark.parametrize("name", ["morph_square", "warp_affine_cubic", "deform_mask"])
def test_empty_batch(name):
    fn = ops._dispatch.op(name)
    m = torch.zeros(0, 1, 16, 16)
    args = {"morph_square": (m, torch.zeros(0, dtype=torch.int64), torch.zeros(0, dtype=torch.int64)),
            "warp_affine_cubic": (m, torch.zeros(0, 2, 3), torch.zeros(0, 4, dtype=torch.int64)),
            "deform_mask": (m, torch.zeros(0, 5, 5, 2))}[name]
    assert fn(*args).shape == (0, 1, 16, 16)


def _bad_geometry_cases():
    from sladd_fast.augment.resample import pil_taps, skimage_taps

    lm, M, box = torch.zeros(2, 68, 2), torch.zeros(2, 2, 3), torch.zeros(2, 4, dtype=torch.int64)
    mask, n = torch.zeros(2, 1, 8, 8), torch.tensor([8, 8])
    return [
        (align.similarity_align, (torch.zeros(2, 81, 2), lm), "source_landmarks"),
        (align.similarity_align, (lm, torch.zeros(3, 68, 2)), "target_landmarks"),
        (align.similarity_align, (lm.double(), lm), "source_landmarks"),
        (align.reach_box, (box.float(), M, 8), "src_box"),
        (align.reach_box, (box, M[:1], 8), "M"),
        (align.reach_box, (box, M, 0), "size"),
        (align.fraction_inside, (mask[:, :, :, :6], M), "square"),
        (align.fraction_inside, (mask.expand(2, 2, 8, 8), M), "mask"),
        (align.fraction_inside, (mask, M.double()), "M"),
        (skimage_taps, (n.float(), n, 8, 8, 4), "n_in"),
        (skimage_taps, (n, n[:1], 8, 8, 4), "n_out"),
        (skimage_taps, (n, n, 8, 8, 0), "min_out"),
        (pil_taps, (n, n, 8, 8, 4, n), "nearest"),
    ]


@pytest.mark.parametrize("case", range(13))
def test_geometry_and_taps_bad_input(case):
    """The new per-sample ops' public wrappers name the bad argument (ValueError), before any kernel."""
    fn, args, match = _bad_geometry_cases()[case]
    with pytest.raises(ValueError, match=match):
        fn(*args)


@needs_ext
def test_geometry_and_taps_ops_check_direct_calls():
    """csrc/checks.h guards direct torch.ops calls with a message naming the argument."""
    sf = torch.ops.sladd_fast
    n = torch.tensor([8, 8])
    box3 = torch.zeros(2, 3, dtype=torch.int64)
    for call, match in ((lambda: sf.similarity_align(torch.zeros(2, 5, 2), torch.zeros(2, 5, 2)), "source_landmarks"),
                        (lambda: sf.affine_reach_box(box3, torch.zeros(2, 2, 3), 8), "box"),
                        (lambda: sf.fraction_inside(torch.zeros(2, 1, 8, 8), torch.zeros(2, 2, 3), 3), "cell"),
                        (lambda: sf.skimage_taps(n, n, 8, -1), "radius"),
                        (lambda: sf.pil_taps(n, n, n, 8, 8, 3), "nearest"),
                        (lambda: sf.box_of(torch.zeros(2, 4, 4), False), "on")):
        with pytest.raises(RuntimeError, match=match):
            call()
