"""color_transfer: the color_stats / color_apply ops (kernels vs reference), each mode against its
whole-image formula inside the mask, predication (a sample pays only for its own mode), bad input."""
from __future__ import annotations

import pytest
import torch

from helpers import face_batch, needs_ext
from sladd_fast import ops
from sladd_fast.ops import _reference
from sladd_fast.synthesis import color

sf = torch.ops.sladd_fast


def _inputs(B: int = 8, seed: int = 0, S: int = 96):
    fake, _ = face_batch(B, seed, S)
    real, lm = face_batch(B, seed + 1, S)
    mask = ops.region_mask(lm, torch.arange(B) % 10, S)
    return fake, real, mask, lm


def _full(B: int, S: int) -> torch.Tensor:
    return torch.tensor([[0, 0, S, S]] * B)


@pytest.mark.parametrize("mode", range(4))
def test_each_mode_equals_its_whole_image_formula_inside_the_mask(mode):
    fake, real, mask, lm = _inputs(8, 2 + mode)
    modes = torch.full((8,), mode)
    got = color.color_transfer(fake, real, mask, lm, modes)
    fn = {0: color.rct_m, 1: color.rct_fs, 2: color.avg_align}.get(mode)
    want = fn(fake, real, mask) if fn else color.faceswap(fake, real, mask, lm)
    on = (mask >= 0.5).expand_as(got)
    assert torch.equal(got[~on], torch.zeros_like(got[~on]))  # nothing outside the mask
    d = (got[on].int() - want[on].int()).abs()
    if mode == 0:  # Lab through the kernels' tabulated sRGB decoding vs torch.pow: a level, rarely
        assert d.max() <= 2 and (d > 0).float().mean() < 0.01
    else:
        assert d.max() == 0


@needs_ext
@pytest.mark.parametrize("seed", range(2))
def test_kernels_match_reference(seed):
    fake, real, mask, lm = _inputs(12, 10 + seed)
    mode = torch.arange(12) % 4
    B, _, S, _ = fake.shape
    box = torch.where((mode == 0)[:, None], _full(B, S), ops.mask_bbox(mask))
    got = sf.color_stats(fake, real, mask, mode, box)
    want = _reference.color_stats(fake, real, mask, mode, box)
    assert got.dtype == torch.float64 and got.shape == (12, 25)
    shift = (mode == 1) | (mode == 2)
    assert torch.equal(got[shift], want[shift])  # exact integer sums
    assert torch.equal(got[mode == 3], want[mode == 3])  # nothing for faceswap
    lab = (got[mode == 0] - want[mode == 0]).abs()  # Lab sums: the same rare one-level differences
    assert (lab[:, 19:] == 0).float().mean() > 0.9 and (lab[:, 7:19] <= 0.002 * want[mode == 0][:, 7:19].abs() + 4).all()
    blurred = torch.randint(0, 256, (5, 6, S, S), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)
    row = torch.where(mode == 3, torch.arange(12) % 5, -1)
    row[3] = -1  # a faceswap sample without planes gives zeros
    out_k = sf.color_apply(fake, real, mask, mode, want, blurred, row)
    out_r = _reference.color_apply(fake, real, mask, mode, want, blurred, row)
    assert (out_k[3] == 0).all()
    d = (out_k.int() - out_r.int()).abs()
    assert d[mode != 0].max() == 0
    assert d.max() <= 1 and (d > 0).float().mean() < 1e-3


@needs_ext
def test_stats_cover_only_the_box_and_the_samples_mode():
    fake, real, mask, _ = _inputs(4, 20, 64)
    mode = torch.tensor([0, 1, 2, 3])
    empty = torch.zeros(4, 4, dtype=torch.int64)
    s = sf.color_stats(fake, real, mask, mode, empty)
    assert (s[:, :19] == 0).all() and (s[:, 19:22] == 1e30).all() and (s[:, 22:] == -1e30).all()
    s = sf.color_stats(fake, real, mask, mode, _full(4, 64))
    assert (s[1:3, 7:19] == 0).all() and (s[3, :19] == 0).all() and (s[0, 7:19] > 0).any()  # own mode only
    assert (s[0, :7] == 0).all() and s[1, 0] == (mask[1] >= 0.5).sum()
    half = torch.tensor([[0, 0, 32, 64]] * 4)  # the left half: sums over it only
    s_half = sf.color_stats(fake, real, mask, mode, half)
    m_left = mask.clone()
    m_left[..., 32:] = 0
    assert torch.equal(s_half[1, :7], sf.color_stats(fake, real, m_left, mode, _full(4, 64))[1, :7])


def test_guard_sees_the_region():
    """An all-black source inside the region is black where it would be pasted: the guard (max of
    the transferred source, which is 0 outside the mask) fires whatever lies outside the region."""
    fake, real, mask, lm = _inputs(4, 30, 64)
    fake = fake.clone()
    fake[mask.expand_as(fake) >= 0.5] = 0
    real = torch.where(mask >= 0.5, torch.zeros_like(real), real)
    out = color.color_transfer(fake, real, mask, lm, torch.tensor([1, 1, 3, 3]))
    assert (out.amax((1, 2, 3)) == 0).all()


@pytest.mark.parametrize("args, match", [
    (lambda f, r, m: (f.float(), r, m, torch.zeros(2, dtype=torch.int64), torch.zeros(2, 4, dtype=torch.int64)),
     "fake must have dtype torch.uint8|must be Byte|fake"),
    (lambda f, r, m: (f, r, m, torch.zeros(3, dtype=torch.int64), torch.zeros(2, 4, dtype=torch.int64)), "mode"),
    (lambda f, r, m: (f, r, m, torch.zeros(2, dtype=torch.int64), torch.zeros(2, 3, dtype=torch.int64)), "box"),
])
@needs_ext
def test_stats_reject_bad_input(args, match):
    fake, real, mask, _ = _inputs(2, 40, 32)
    with pytest.raises((RuntimeError, ValueError), match=match):
        sf.color_stats(*args(fake, real, mask))


def test_faceswap_blur_size_is_odd_int_of_three_quarters_of_the_eye_distance():
    """faceswap.py: blur = int(0.75 * |mean(right eye) - mean(left eye)|), +1 when even; capped at the
    largest odd size the image's radius allows, at least 1 (a NaN distance too)."""
    import math

    lm = torch.zeros(5, 68, 2)
    for b, dist in enumerate([0.0, 1.4, 40.0, 53.9, 500.0]):
        lm[b, 42:48, 0] = dist  # the right eye's mean dist to the right of the left eye's
    lm[1, 42:48, 1] = 1.4  # a diagonal: |(1.4, 1.4)| = 1.98, int(1.48) = 1
    got = color.faceswap_blur_size(lm, 256)
    want = []
    for b in range(5):
        d = math.dist(lm[b, 42:48].mean(0).tolist(), lm[b, 36:42].mean(0).tolist())
        k = int(0.75 * d)
        want.append(min(k + 1 if k % 2 == 0 else k, 2 * (255 // 2) - 1))
    assert got.tolist() == want == [1, 1, 31, 41, 253]
    lm[0, 40] = float("nan")
    assert color.faceswap_blur_size(lm, 256)[0].item() == 1
