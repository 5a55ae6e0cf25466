"""Blends: CPU kernels vs reference, Poisson vs cv2.seamlessClone (OpenCV 4.x), bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import face_batch, needs_ext, psnr
from sladd_fast import ops
from sladd_fast._ext import has_ops
from sladd_fast.ops import _reference, poisson



def _pair(batch: int, seed: int):
    t, lm = face_batch(batch, seed)
    s, _ = face_batch(batch, seed + 100)
    m = ops.region_mask(lm, torch.arange(batch) % 10)
    return t, s, m


@needs_ext
def test_blend_linear_kernel_vs_reference_within_1_lsb():
    t, s, m = _pair(6, 0)
    w = torch.rand(6, generator=torch.Generator().manual_seed(1))
    soft = m * torch.rand(m.shape, generator=torch.Generator().manual_seed(2))
    for mask in (m, soft):
        got = torch.ops.sladd_fast.blend_linear(t, s, mask, w)
        want = _reference.blend_linear(t, s, mask, w)
        assert (got.int() - want.int()).abs().max() <= 1
    out = ops.blend_copy(t, s, m, torch.ones(6))
    assert torch.equal(out[m.expand_as(t) > 0], s[m.expand_as(t) > 0])
    assert torch.equal(out[m.expand_as(t) == 0], t[m.expand_as(t) == 0])
    assert torch.equal(ops.blend_alpha(t, s, m, torch.zeros(6)), t)


def test_feather_alpha_is_sladd_constant():
    m = torch.zeros(3, 1, 64, 64)
    m[:, :, 10:30, 5:45] = 1  # bbox 40 x 20: blendImages' faceSize max - min = 39 x 19
    alpha = ops.feather_alpha(m, torch.tensor([0.1, 0.01, 0.0]))
    assert torch.allclose(alpha, torch.tensor([1 / 3.9, 1.0, 1.0]))
    assert ops.feather_alpha(torch.zeros(1, 1, 8, 8), torch.tensor([0.2])).item() == 1.0
    # F <= 1 or NaN gives 1, F = inf gives 0 (1 / F where F > 1), float32 from the int64 box
    odd = ops.feather_alpha(m, torch.tensor([float("nan"), float("inf"), -1.0]))
    assert odd.dtype == torch.float32 and odd.tolist() == [1.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="feather"):
        ops.feather_alpha(m, torch.tensor([0.1, 0.1, 0.1], dtype=torch.float16))
    with pytest.raises(ValueError, match="feather"):
        ops.feather_alpha(m, torch.tensor([0.1, 0.1]))


def test_mask_bbox_matches_numpy():
    t, s, m = _pair(5, 3)
    box = ops.mask_bbox(m)
    for b in range(5):
        ys, xs = np.nonzero(m[b, 0].numpy())
        assert box[b].tolist() == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
    assert ops.mask_bbox(torch.zeros(1, 1, 9, 9)).tolist() == [[0, 0, 0, 0]]


def _box_masks(seed: int) -> torch.Tensor:
    """bool [10,37,53]: scattered pixels, empty, full, one pixel, the frame only, a line on the frame, one
    column, one row."""
    g = torch.Generator().manual_seed(seed)
    on = torch.rand(10, 37, 53, generator=g) > 0.995
    on[2] = False
    on[3] = True
    on[4] = False
    on[4, 20, 7] = True
    on[5] = False
    on[5, [0, -1]] = True
    on[5, :, [0, -1]] = True
    on[6] = False
    on[6, :, 0] = True
    on[7] = False
    on[7, 3:30, 11] = True
    on[8] = False
    on[8, 36, 2:50] = True
    return on


@needs_ext
@pytest.mark.parametrize("exclude_frame", [False, True])
def test_box_of_kernel_matches_reference(exclude_frame):
    for seed in range(3):
        on = _box_masks(seed)
        got = torch.ops.sladd_fast.box_of(on, exclude_frame)
        assert torch.equal(got, _reference.box_of(on, exclude_frame))
        for b in range(on.shape[0]):  # and cv2.boundingRect's rule, pixel by pixel
            m = on[b].clone()
            if exclude_frame:
                m[[0, -1]] = False
                m[:, [0, -1]] = False
            ys, xs = m.nonzero(as_tuple=True)
            want = [0, 0, 0, 0] if len(xs) == 0 else [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
                                                       int(ys.max() - ys.min() + 1)]
            assert got[b].tolist() == want
    assert torch.ops.sladd_fast.box_of(torch.ones(2, 3, 2, dtype=torch.bool), True).tolist() == [[0, 0, 0, 0]] * 2
    assert torch.ops.sladd_fast.box_of(torch.ones(1, 0, 5, dtype=torch.bool), False).tolist() == [[0, 0, 0, 0]]


@pytest.mark.parametrize("on, match", [(torch.zeros(2, 5, 5), "on"), (torch.zeros(5, 5, dtype=torch.bool), "on")])
def test_box_of_bad_input(on, match):
    with pytest.raises(ValueError, match=match):
        ops.blend.box_of(on)


@needs_ext
@pytest.mark.parametrize("seed", range(2))
def test_poisson_kernels_match_reference_exactly(seed):
    t, s, m = _pair(10, seed)
    m[0] = 0  # empty mask
    m[1, :, :, :] = 1  # full image: frame excluded, ROI = interior
    m[2, :, 50:52, 60:200] = 1  # ROI 2 px high: no interior
    m[2, :, :50] = 0
    m[2, :, 52:] = 0
    roi = ops.blend.poisson_roi(m)
    rhs_k = torch.ops.sladd_fast.poisson_rhs(t, s, m, roi)
    rhs_r = _reference.poisson_rhs(t, s, m, roi)
    assert torch.equal(rhs_k, rhs_r)  # integer-valued in float32: exact
    u = poisson.solve(rhs_k, roi)
    assert torch.equal(torch.ops.sladd_fast.poisson_compose(t, u, roi), _reference.poisson_compose(t, u, roi))
    out = ops.blend_poisson(t, s, m)
    assert torch.equal(out[0], t[0]) and torch.equal(out[2], t[2])


@pytest.mark.parametrize("sync_free", ["0", "1"])
def test_poisson_select_blends_the_selected_samples_only(sync_free, monkeypatch):
    """select (the engine's sync-free path): unselected samples are the target, selected ones the plain blend
    (with SLADD_FAST_SYNC_FREE=1 the GPU's channel-at-a-time branch)."""
    t, s, m = _pair(6, 4)
    sel = torch.tensor([True, False, True, True, False, True])
    plain = ops.blend_poisson(t, s, m)
    monkeypatch.setenv("SLADD_FAST_SYNC_FREE", sync_free)
    got = ops.blend_poisson(t, s, m, select=sel)
    assert torch.equal(got[sel], plain[sel]) and torch.equal(got[~sel], t[~sel])
    with pytest.raises(ValueError, match="select"):
        ops.blend_poisson(t, s, m, select=sel.long())


def test_dst_solver_solves_the_discrete_poisson_equation():
    g = torch.Generator().manual_seed(0)
    rhs = torch.zeros(2, 1, 30, 40)
    roi = torch.tensor([[0, 0, 20, 12, 0, 0], [3, 4, 42, 32, 3, 4]])  # interiors 10x18 and 30x40
    rhs[0, 0, :10, :18] = torch.randn(10, 18, generator=g)
    rhs[1, 0] = torch.randn(30, 40, generator=g)
    u = poisson.solve(rhs.double().float(), roi).double()
    for b, (nh, nw) in enumerate([(10, 18), (30, 40)]):
        x = torch.nn.functional.pad(u[b, 0, :nh, :nw], (1, 1, 1, 1))
        lap = x[:-2, 1:-1] + x[2:, 1:-1] + x[1:-1, :-2] + x[1:-1, 2:] - 4 * x[1:-1, 1:-1]
        assert torch.allclose(lap, rhs[b, 0, :nh, :nw].double(), atol=1e-3)
    assert u[0, 0, 10:].abs().max() == 0 and u[0, 0, :, 18:].abs().max() == 0


def _ellipse_masks(batch: int, seed: int) -> np.ndarray:
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(seed)
    ms = np.zeros((batch, 256, 256), np.uint8)
    for b in range(batch):
        c = tuple(int(v) for v in rng.integers(40, 216, 2))
        ax = tuple(int(v) for v in rng.integers(8, 70, 2))
        cv2.ellipse(ms[b], c, ax, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return ms


@pytest.mark.parametrize("seed", range(2))
def test_poisson_matches_cv2_seamless_clone(seed):
    cv2 = pytest.importorskip("cv2")
    assert cv2.__version__.startswith("4."), "parity is defined against OpenCV 4.x"
    t, lm = face_batch(8, seed)
    s, _ = face_batch(8, seed + 50)
    ms = _ellipse_masks(8, seed)
    ms[0] = ops.region_mask(lm[:1], torch.tensor([9]))[0, 0].numpy().astype(np.uint8)  # a SLADD region
    ms[1, :, 240:] = 1  # masks touching the image frame: source and destination boxes differ by 1 px
    ms[2, :6, 100:140] = 1
    out = ops.blend_poisson(t, s, torch.from_numpy(ms).float()[:, None])
    for b in range(8):
        x, y, w, h = cv2.boundingRect(ms[b])
        ref = cv2.seamlessClone(s[b].permute(1, 2, 0).numpy(), t[b].permute(1, 2, 0).numpy(), 255 * ms[b],
                                (x + w // 2, y + h // 2), cv2.NORMAL_CLONE)
        got = out[b].permute(1, 2, 0).numpy()
        assert psnr(got, ref) >= 60.0, (b, psnr(got, ref))  # measured 78-98 dB
        assert np.abs(got.astype(int) - ref).max() <= 1, b


@pytest.mark.parametrize(
    "fn, kwargs, match",
    [
        ("blend_poisson", dict(target=torch.zeros(1, 3, 8, 8), source=torch.zeros(1, 3, 8, 8, dtype=torch.uint8),
                               mask=torch.zeros(1, 1, 8, 8)), "target.*dtype"),
        ("blend_poisson", dict(target=torch.zeros(1, 3, 8, 8, dtype=torch.uint8),
                               source=torch.zeros(1, 3, 8, 9, dtype=torch.uint8), mask=torch.zeros(1, 1, 8, 8)),
         "source.*shape"),
        ("blend_poisson", dict(target=torch.zeros(1, 3, 8, 8, dtype=torch.uint8),
                               source=torch.zeros(1, 3, 8, 8, dtype=torch.uint8),
                               mask=torch.full((1, 1, 8, 8), float("nan"))), "mask.*NaN"),
        ("blend_copy", dict(target=torch.zeros(1, 3, 8, 8, dtype=torch.uint8),
                            source=torch.zeros(1, 3, 8, 8, dtype=torch.uint8), mask=torch.zeros(1, 1, 8, 8),
                            ratio=torch.tensor([1.5])), "weight.*\\[0.0, 1.0\\]"),
        ("blend_alpha", dict(target=torch.zeros(1, 3, 8, 8, dtype=torch.uint8),
                             source=torch.zeros(1, 3, 8, 8, dtype=torch.uint8), mask=torch.zeros(1, 1, 8, 8),
                             alpha=torch.tensor([0.5, 0.5])), "weight.*shape"),
    ],
)
def test_bad_input(fn, kwargs, match):
    with pytest.raises(ValueError, match=match):
        getattr(ops, fn)(**kwargs)


@pytest.mark.parametrize("size", [62, 130, 254, 300])
def test_dst_tables_equal_the_direct_matrices(size):
    """The reference's cached DST tables (sliced from one table per device) hold exactly the matrices it
    would compute per call; sizes above DST_TABLE_MAX are computed directly."""
    n = torch.tensor([0, 1, 5, 61, 62, 100, 254, 300]).clamp(max=size)
    assert torch.equal(_reference.dst_matrices(n, size), _reference._dst_direct(n, size))


def _solve_case(seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """rhs float32 [6,3,70,130] with values only inside each block, roi and the blocks' bool mask: the whole
    canvas, clamped sizes, one row, one column, empty, and sizes off the tiles."""
    g = torch.Generator().manual_seed(seed)
    roi = torch.zeros(6, 6, dtype=torch.int64)
    roi[:, 2:4] = torch.tensor([[132, 72], [300, 9], [100, 3], [3, 50], [1, 50], [67, 66]])
    n_w, n_h = (roi[:, 2] - 2).clamp(0, 130), (roi[:, 3] - 2).clamp(0, 70)
    live = (torch.arange(70)[None, :, None] < n_h[:, None, None]) & (torch.arange(130)[None, None, :] < n_w[:, None, None])
    rhs = torch.randint(-300, 300, (6, 3, 70, 130), generator=g).float() * live[:, None]
    return rhs, roi, live


@needs_ext
@pytest.mark.parametrize("seed", range(2))
def test_poisson_solve_kernel_matches_reference(seed):
    """The csrc op (each sample's own block, fused multiply-add chains) against the reference's full-canvas
    batched matrix products: the same math, float32 summation order apart."""
    rhs, roi, live = _solve_case(seed)
    got = torch.ops.sladd_fast.poisson_solve(rhs, roi)
    want = _reference.poisson_solve(rhs, roi)
    assert got.shape == want.shape and got.dtype == torch.float32
    assert (got - want).abs().max() <= 1e-5 * want.abs().max()
    assert not got[~live[:, None].expand_as(got)].any()  # zero outside every block
    assert got[4].abs().max() == 0 and got[0].abs().max() > 0  # w = 1: nothing to solve


@needs_ext
def test_poisson_solve_reads_only_each_block():
    """Values past a sample's block (NaN here) are never read: the same result as zeros there."""
    rhs, roi, live = _solve_case(3)
    dirty = rhs.masked_fill(~live[:, None].expand_as(rhs), float("nan"))
    assert torch.equal(torch.ops.sladd_fast.poisson_solve(dirty, roi), torch.ops.sladd_fast.poisson_solve(rhs, roi))


@needs_ext
def test_poisson_solve_baseline_copy_gives_the_same_bits(tmp_path):
    """SLADD_FAST_NO_AVX2=1 runs the baseline copy (libm fmaf lane by lane, narrower tiles): the same values."""
    from helpers import run_cpu_copy

    rhs, roi, _ = _solve_case(1)
    case = str(tmp_path / "case.pt")
    torch.save({"rhs": rhs, "roi": roi}, case)
    code = (f"import sys, torch, sladd_fast; d = torch.load({case!r}); "
            "torch.save(torch.ops.sladd_fast.poisson_solve(d['rhs'], d['roi']), sys.argv[1])")
    assert torch.equal(run_cpu_copy(code, str(tmp_path / "out.pt")), torch.ops.sladd_fast.poisson_solve(rhs, roi))


def test_poisson_side_limit_is_the_headers():
    from sladd_fast import _jit

    assert poisson.MAX_SIDE == _jit.constants()["kDstMaxSide"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(rhs=torch.zeros(2, 3, 8, 8, dtype=torch.float64), roi=torch.zeros(2, 6, dtype=torch.int64)), "rhs"),
    (dict(rhs=torch.zeros(2, 8, 8), roi=torch.zeros(2, 6, dtype=torch.int64)), "rhs"),
    (dict(rhs=torch.zeros(2, 3, 8, 8), roi=torch.zeros(3, 6, dtype=torch.int64)), "roi"),
    (dict(rhs=torch.zeros(2, 3, 8, 8), roi=torch.zeros(2, 4, dtype=torch.int64)), "roi"),
    (dict(rhs=torch.zeros(2, 3, 8, 8), roi=torch.zeros(2, 6)), "roi"),
    (dict(rhs=torch.zeros(1, 1, 1, (1 << 20) + 1), roi=torch.zeros(1, 6, dtype=torch.int64)), "rhs"),
])
def test_poisson_solve_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        poisson.solve(**kwargs)
    if has_ops():
        with pytest.raises(RuntimeError, match=match):  # csrc/checks.h guards direct calls
            torch.ops.sladd_fast.poisson_solve(*kwargs.values())