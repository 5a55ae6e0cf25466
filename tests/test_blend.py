"""Blends: CPU kernels vs reference, Poisson vs cv2.seamlessClone (OpenCV 4.x), bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import face_batch, needs_ext, psnr
from sladd_fast import ops
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
    m[:, :, 10:30, 5:45] = 1  # bbox 40 x 20
    alpha = ops.feather_alpha(m, torch.tensor([0.1, 0.01, 0.0]))
    assert torch.allclose(alpha, torch.tensor([1 / 4.0, 1.0, 1.0]))
    assert ops.feather_alpha(torch.zeros(1, 1, 8, 8), torch.tensor([0.2])).item() == 1.0


def test_mask_bbox_matches_numpy():
    t, s, m = _pair(5, 3)
    box = ops.mask_bbox(m)
    for b in range(5):
        ys, xs = np.nonzero(m[b, 0].numpy())
        assert box[b].tolist() == [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
    assert ops.mask_bbox(torch.zeros(1, 1, 9, 9)).tolist() == [[0, 0, 0, 0]]


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
    """The cached DST tables (sliced from one table per device) hold exactly the matrices the solve
    computed per call before; sizes above TABLE_MAX are still computed directly."""
    from sladd_fast.ops import poisson

    n = torch.tensor([0, 1, 5, 61, 62, 100, 254, 300]).clamp(max=size)
    assert torch.equal(poisson.dst_matrices(n, size), poisson._dst_direct(n, size))
