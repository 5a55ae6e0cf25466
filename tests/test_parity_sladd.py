"""Parity with the per-sample numpy/cv2/scipy implementation of spec §3 (sladd_fast.baseline)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

cv2 = pytest.importorskip("cv2")
baseline = pytest.importorskip("sladd_fast.baseline")

from helpers import face_batch, landmarks, posed_landmarks, psnr  # noqa: E402
from sladd_fast import ops  # noqa: E402
from sladd_fast.synthesis import align, color, engine, params  # noqa: E402


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum()) / max(float((a | b).sum()), 1.0)


@pytest.mark.parametrize("region", range(10))
def test_region_mask_equals_cv2_line_and_binary_dilation(region):
    """48 faces rolled -30..30 degrees with inter-eye distances 30..120 px, plus upright ones: the
    mask is SLADD's cv2.line(thickness=2) + scipy binary_dilation pixel set, not an approximation
    (issue 8 asked for mean IoU >= 0.995 per region and >= 0.98 per sample)."""
    lm = torch.cat([posed_landmarks(48, seed=region), landmarks(8, region)])
    ours = ops.region_mask(lm, torch.full((len(lm),), region)).numpy()[:, 0].astype(bool)
    ious = [_iou(ours[b], baseline.region_mask(lm[b].numpy(), region).astype(bool)) for b in range(len(lm))]
    assert min(ious) == 1.0, (min(ious), np.mean(ious))


def test_thick_line_raster_equals_cv2_line():
    """The reference raster (and so the kernels, which equal it) against cv2.line itself, on random
    in-image segments of every direction and length, zero-length ones included."""
    from sladd_fast.ops import _line_raster

    rng = np.random.default_rng(0)
    for t in range(600):
        size = int(rng.choice([16, 64, 256]))
        a = tuple(int(v) for v in rng.integers(0, size, 2))
        b = a if t % 10 == 0 else tuple(int(v) for v in rng.integers(0, size, 2))
        want = np.zeros((size, size), np.uint8)
        cv2.line(want, a, b, 1, thickness=2)
        got = np.zeros((size, size), np.uint8)
        for y, x0, x1 in _line_raster.thick_line(a, b, size):
            got[y, x0:x1 + 1] = 1
        assert np.array_equal(got, want), (size, a, b)
        rows = [np.flatnonzero(r) for r in want if r.any()]
        assert all(r[-1] - r[0] + 1 == len(r) for r in rows)  # each row one interval: what the kernels store


def _draw_params(n: int, seed: int) -> params.SynthesisParams:
    return params.sample_params(n, 256, "cpu", torch.Generator().manual_seed(seed))


def _masks(n: int, seed: int) -> torch.Tensor:
    lm = landmarks(n, seed)
    return ops.region_mask(lm, torch.arange(n) % 10)


@pytest.mark.parametrize("seed", range(2))
def test_mask_postprocess_matches_opencv(seed):
    m = _masks(20, seed)
    p = _draw_params(20, seed)
    ours = engine.mask_postprocess(m, p).numpy()[:, 0].astype(np.uint8)
    for b in range(20):
        ref = baseline.mask_postprocess(m[b, 0].numpy().astype(np.uint8), int(p.morph_op[b]), int(p.morph_k[b]),
                                        int(p.blur_k[b]))
        # Exact up to ties at exactly 0.5 after the blur (OpenCV's fixed-point rounding).
        assert (ours[b] != ref).sum() <= 0.002 * max(ref.sum(), 1), b


def test_mask_target_matches_cv2_resize():
    m = engine.mask_postprocess(_masks(10, 3), _draw_params(10, 3))
    ours = engine.mask_target(m).numpy()[:, 0]
    for b in range(10):
        ref = baseline.mask_target(m[b, 0].numpy())
        assert np.array_equal(ours[b], ref.astype(np.float32)), b


def test_alignment_matches_umeyama_and_warp_affine():
    img, lm_t = face_batch(6, 4)
    src, lm_s = face_batch(6, 5)
    M, ok = align.umeyama_similarity(align.five_points(lm_s), align.five_points(lm_t))
    assert ok.all()
    warped = align.to_u8(align.warp_affine(src.float(), M))
    for b in range(6):
        M_ref = baseline.umeyama(baseline.five_points(lm_s[b].numpy()), baseline.five_points(lm_t[b].numpy()))
        assert np.allclose(M[b].numpy(), M_ref, atol=1e-4)
        ref = cv2.warpAffine(src[b].permute(1, 2, 0).numpy(), M_ref, (256, 256), flags=cv2.INTER_CUBIC,
                             borderMode=cv2.BORDER_REFLECT)
        assert psnr(warped[b].permute(1, 2, 0).numpy(), ref) >= 45.0, (b, psnr(warped[b].permute(1, 2, 0).numpy(), ref))


@pytest.mark.parametrize("mode, min_psnr", [(0, 30.0), (1, 40.0), (2, 40.0), (3, 35.0)])
def test_color_transfer_matches_baseline(mode, min_psnr):
    fake, _ = face_batch(6, 6)
    real, lm_t = face_batch(6, 7)
    m = _masks(6, 8)
    out = color.color_transfer(fake, real, m, lm_t, torch.full((6,), mode))
    for b in range(6):
        mb = m[b, 0].numpy().astype(np.uint8)
        ref = baseline.color_transfer(mode, fake[b].permute(1, 2, 0).numpy(), real[b].permute(1, 2, 0).numpy(), mb,
                                      lm_t[b].numpy())
        sel = mb > 0  # the blend only ever reads the mask's pixels
        got = out[b].permute(1, 2, 0).numpy()
        assert psnr(got[sel], ref[sel]) >= min_psnr, (b, psnr(got[sel], ref[sel]))


def test_alpha_blend_matches_baseline_off_the_hull_outline():
    real, _ = face_batch(6, 9)
    src, _ = face_batch(6, 10)
    m = _masks(6, 11)
    feather = torch.tensor([0.0, 0.01, 0.05, 0.1, 0.15, 0.2])
    out = ops.blend_alpha(real, src, m, ops.feather_alpha(m, feather))
    for b in range(6):
        mb = m[b, 0].numpy().astype(np.uint8)
        ref = baseline.alpha_blend(src[b].permute(1, 2, 0).numpy(), real[b].permute(1, 2, 0).numpy(), mb,
                                   float(feather[b]))
        ys, xs = np.nonzero(mb)
        hull = cv2.convexHull(np.stack([xs, ys], 1).astype(np.int32))
        outline = np.zeros_like(mb)
        cv2.polylines(outline, [hull], True, 1)
        keep = outline == 0
        diff = np.abs(out[b].permute(1, 2, 0).numpy().astype(int) - ref.astype(int))[keep]
        assert diff.max() <= 1, b


def test_lab_conversion_close_to_opencv():
    from sladd_fast.synthesis.color import lab_u8_to_rgb, rgb_to_lab_u8

    img, _ = face_batch(4, 12)
    ours = rgb_to_lab_u8(img).permute(0, 2, 3, 1).numpy()
    ref = np.stack([cv2.cvtColor(img[b].permute(1, 2, 0).numpy(), cv2.COLOR_RGB2LAB) for b in range(4)])
    assert np.abs(ours - ref).max() <= 2 and (ours != ref).mean() < 0.15
    back = lab_u8_to_rgb(torch.from_numpy(ref).permute(0, 3, 1, 2).float()).permute(0, 2, 3, 1).numpy()
    ref_back = np.stack([cv2.cvtColor(ref[b], cv2.COLOR_LAB2RGB) for b in range(4)])
    assert np.abs(back.astype(int) - ref_back.astype(int)).max() <= 2


def test_baseline_stage_timings_do_not_change_the_result():
    img, lm = face_batch(2, 13)
    t, s = (x.permute(0, 2, 3, 1).contiguous().numpy() for x in (img[:1], img[1:]))
    timings: dict[str, float] = {}
    plain = baseline.synthesize_one(t[0], s[0], lm[0].numpy(), lm[1].numpy(), 9, 1, 0.5, np.random.default_rng(3))
    timed = baseline.synthesize_one(t[0], s[0], lm[0].numpy(), lm[1].numpy(), 9, 1, 0.5, np.random.default_rng(3),
                                    timings)
    assert plain[2] and timed[2]
    assert np.array_equal(plain[0], timed[0]) and np.array_equal(plain[1], timed[1])
    assert set(timings) == {"region", "deform", "align", "postprocess", "colour", "blend"}
    assert all(v >= 0 for v in timings.values()) and timings["deform"] > 0
