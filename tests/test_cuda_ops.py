"""CUDA kernels (compiled or NVRTC JIT) vs CPU kernels on identical inputs. Runs only with a GPU."""
from __future__ import annotations

import pytest
import torch

from helpers import face_batch, landmarks, needs_cuda
from sladd_fast import _jit, ops
from sladd_fast.ops import _reference

pytestmark = needs_cuda


def _backends():
    out = [pytest.param("dispatch", id="dispatch")]
    if _jit.available():
        out.append(pytest.param("jit", id="jit"))
    return out


@pytest.mark.parametrize("backend", _backends())
def test_masks_bit_exact(backend):
    lm = torch.cat([landmarks(20, 0), torch.rand(12, 68, 2) * 300 - 20])
    region = torch.arange(32) % 10
    cpu_r = ops.region_mask(lm, region)
    cpu_h = ops.hull_mask(lm)
    if backend == "jit":
        got_r = _jit.region_mask(lm.cuda(), region.cuda(), 256)
        got_h = _jit.hull_mask(lm.cuda(), 256)
    else:
        got_r = ops.region_mask(lm.cuda(), region.cuda())
        got_h = ops.hull_mask(lm.cuda())
    assert torch.equal(got_r.cpu(), cpu_r)
    assert torch.equal(got_h.cpu(), cpu_h)


@pytest.mark.parametrize("backend", _backends())
def test_blends_match_cpu(backend):
    t, lm = face_batch(12, 1)
    s, _ = face_batch(12, 2)
    m = ops.region_mask(lm, torch.arange(12) % 10)
    w = torch.rand(12)
    roi = ops.blend.poisson_roi(m)
    cu = [x.cuda() for x in (t, s, m, w, roi)]
    if backend == "jit":
        lin = _jit.blend_linear(*cu[:4])
        rhs = _jit.poisson_rhs(cu[0], cu[1], cu[2], cu[4])
    else:
        lin = ops.blend_linear(*cu[:4])
        rhs = torch.ops.sladd_fast.poisson_rhs(cu[0], cu[1], cu[2], cu[4]) if hasattr(
            torch.ops.sladd_fast, "poisson_rhs") else _reference.poisson_rhs(cu[0], cu[1], cu[2], cu[4])
    assert torch.equal(lin.cpu(), ops.blend_linear(t, s, m, w))  # same fmaf on both: exact
    assert torch.equal(rhs.cpu(), _reference.poisson_rhs(t, s, m, roi))
    got = ops.blend_poisson(cu[0], cu[1], cu[2]).cpu()
    assert (got.int() - ops.blend_poisson(t, s, m).int()).abs().max() <= 1


@pytest.mark.parametrize("backend", _backends())
def test_filter_ops_match_cpu(backend):
    lm = landmarks(8, 3)
    m = ops.region_mask(lm, torch.arange(8) % 10)
    noise = torch.trunc(torch.randn(8, 5, 5, 2) * 10)
    op = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    k = torch.tensor([3, 5, 7, 9, 11, 13, 15, 19])
    x = torch.cat([face_batch(8, 4)[0].float(), m], 1)
    Mi = torch.tensor([[0.9, 0.1, 10.0], [-0.1, 0.9, 5.0]]).expand(8, 2, 3).contiguous()
    fn = (lambda name: getattr(_jit, name)) if backend == "jit" else (
        lambda name: getattr(torch.ops.sladd_fast, name) if hasattr(torch.ops.sladd_fast, name) else getattr(
            _reference, name))
    cpu_morph = _reference.morph_square(m, op, k)
    assert torch.equal(fn("morph_square")(m.cuda(), op.cuda(), k.cuda()).cpu(), cpu_morph)
    assert (fn("deform_mask")(m.cuda(), noise.cuda()).cpu() - _reference.deform_mask(m, noise)).abs().max() < 1e-4
    assert (fn("warp_affine_cubic")(x.cuda(), Mi.cuda()).cpu() - _reference.warp_affine_cubic(x, Mi)).abs().max() < 1e-2


@pytest.mark.parametrize("backend", _backends())
def test_lab_conversions_match_cpu(backend):
    img, _ = face_batch(6, 9)
    lab = torch.randint(0, 256, (6, 3, 64, 64), generator=torch.Generator().manual_seed(1)).float()
    fn = (lambda name: getattr(_jit, name)) if backend == "jit" else (lambda name: getattr(torch.ops.sladd_fast, name))
    # CUDA's powf and libm's may differ by an ulp: a pixel at a rounding boundary may move one level.
    d = (fn("rgb_to_lab")(img.cuda()).cpu() - torch.ops.sladd_fast.rgb_to_lab(img)).abs()
    assert d.max() <= 1 and (d > 0).float().mean() < 1e-3
    d = (fn("lab_to_rgb")(lab.cuda()).cpu().int() - torch.ops.sladd_fast.lab_to_rgb(lab).int()).abs()
    assert d.max() <= 1 and (d > 0).float().mean() < 1e-3


@pytest.mark.parametrize("backend", _backends())
def test_blur_in_box_matches_cpu(backend):
    from sladd_fast.synthesis.filters import gaussian_kernels

    x = torch.rand(4, 6, 96, 80, generator=torch.Generator().manual_seed(2)) * 255
    k = torch.tensor([3, 17, 45, 61])
    g = gaussian_kernels(k, 61)
    box = torch.tensor([[10, 5, 30, 20], [0, 0, 80, 96], [60, 70, 20, 26], [-4, 30, 40, 90]])
    fn = _jit.blur_in_box if backend == "jit" else torch.ops.sladd_fast.blur_in_box
    got = fn(x.cuda(), g.cuda(), (k // 2).cuda(), box.cuda()).cpu()
    assert torch.equal(got, torch.ops.sladd_fast.blur_in_box(x, g, k // 2, box))  # same order, no FMA

