"""The CUDA kernels (csrc/cuda/kernels.cuh) and their NVRTC launchers (sladd_fast/_jit.py), run on the
host by tests/cuda_emulation.py, against the CPU kernels. Bit-exact: both sides run the same
common/*.h functions compiled by g++ without FMA contraction. Runs wherever g++ is (CI included);
on a GPU, test_cuda_ops.py runs the real thing."""
from __future__ import annotations

import os
import shutil
import sys

import pytest
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # for benchmarks/

import cuda_emulation  # noqa: E402
from benchmarks import sanitize_ops  # noqa: E402
from helpers import face_batch, needs_ext  # noqa: E402
from sladd_fast import _jit  # noqa: E402

pytestmark = [needs_ext, pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not found")]
S = 64


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    return cuda_emulation.build(str(tmp_path_factory.mktemp("emulated")))


@pytest.fixture
def jit(emulator, monkeypatch):
    monkeypatch.setattr(_jit, "_launch", emulator.launch)
    return _jit


def _calls() -> dict[str, tuple]:
    """Every op's edge-case arguments, the ones benchmarks/sanitize_ops.py runs under compute-sanitizer."""
    return sanitize_ops.calls(torch.device("cpu"))


def _same(got: torch.Tensor, want: torch.Tensor) -> bool:
    """torch.equal, with NaN equal to NaN (piecewise_affine_grid's step 0 and NaN cases give NaN coordinates)."""
    if not got.is_floating_point():
        return torch.equal(got, want)
    nan = got.isnan()
    return torch.equal(nan, want.isnan()) and torch.equal(got.masked_fill(nan, 0), want.masked_fill(nan, 0))


@pytest.mark.parametrize("name", list(_calls()))
def test_emulated_cuda_kernel_equals_cpu_kernel(jit, name):
    args, op = _calls()[name], name.split(":")[0]
    got, want = getattr(jit, op)(*args), getattr(torch.ops.sladd_fast, op)(*args)
    if isinstance(want, torch.Tensor):  # similarity_align returns three
        got, want = (got,), (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        assert _same(g, w), name


def test_every_kernel_is_covered(jit, emulator):
    emulator.launched.clear()
    for name, args in _calls().items():
        getattr(jit, name.split(":")[0])(*args)
    assert emulator.launched == set(cuda_emulation.kernel_signatures())


def test_sanitizer_script_runs_on_cpu():
    assert sanitize_ops.main(["--device", "cpu", "--backend", "kernel"]) == 0


def test_sanitizer_script_runs_the_named_ops_only(capsys):
    """--ops (the device check's racecheck runs poisson_solve alone); an unknown name is an error."""
    assert sanitize_ops.main(["--device", "cpu", "--backend", "kernel", "--ops", "poisson_solve"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "all ops ran" and len(lines) == 4 and all(x.startswith("poisson_solve") for x in lines[:-1])
    with pytest.raises(SystemExit):
        sanitize_ops.main(["--device", "cpu", "--backend", "kernel", "--ops", "poisson_solv"])


def test_wrong_argument_types_are_caught(emulator):
    """The emulator checks what _jit passes against the kernel's C signature."""
    import numpy as np

    out = torch.zeros(1, 1, 4, 4)
    with pytest.raises(TypeError, match="size is int"):
        emulator.launch("sladd_hull_fill_kernel", 16, 1, (out.data_ptr(), out.data_ptr(), 4, np.int32(1)), None)


def test_synthesize_on_the_gpu_path(jit, emulator, monkeypatch):
    """synthesize() as it runs on CUDA: every op through the emulated NVRTC kernels and the sync-free
    Python branches (whole batch, full canvas), against the CPU path."""
    import dataclasses

    from sladd_fast import ops, synthesize
    from sladd_fast.synthesis.params import sample_params

    B = 8
    real, lm_t = face_batch(B, 21, S)
    partner, lm_s = face_batch(B, 22, S)
    args = (real, partner, lm_t, lm_s, torch.arange(B) % 10, torch.tensor([0, 1, 2, 0, 1, 2, 1, 3]),
            torch.rand(B, generator=torch.Generator().manual_seed(3)))
    p = sample_params(B, S, "cpu", torch.Generator().manual_seed(4))
    p = dataclasses.replace(p, color_mode=torch.arange(B) % 4)  # every colour branch
    cpu = synthesize(*args, params=p)
    monkeypatch.setenv("SLADD_FAST_SYNC_FREE", "1")
    emulator.launched.clear()
    launchers = {name: getattr(jit, name) for name in ops._library.SCHEMAS}
    with ops.use_backend("jit", "cpu", impls=launchers):  # the NVRTC launchers, behind the dispatcher
        gpu_path = synthesize(*args, params=p)
    unused = {"sladd_hull_spans_kernel", "sladd_hull_fill_kernel", "sladd_hull_edges_kernel",  # ops, not engine steps
              "sladd_rgb_to_lab_kernel", "sladd_lab_to_rgb_kernel",
              "sladd_hull_feather_rows_kernel", "sladd_hull_feather_hull_kernel", "sladd_hull_feather_weight_kernel",
              "sladd_resample_taps_kernel", "sladd_hsv_shift_kernel", "sladd_sbi_color_kernel",
              "sladd_sbi_branch_kernel", "sladd_gauss_rows_kernel", "sladd_gauss_cols_kernel",
              "sladd_uniform_noise_kernel", "sladd_remap_nearest_kernel", "sladd_warp_linear_u8_kernel",
              "sladd_piecewise_affine_grid_kernel", "sladd_skimage_taps_kernel", "sladd_pil_taps_kernel",
              "sladd_jpeg_tables_kernel", "sladd_jpeg_blocks_kernel", "sladd_jpeg_pixels_kernel",
              "sladd_resize_u8_cols_kernel",
              "sladd_resize_u8_rows_kernel", "sladd_xray_columns_kernel", "sladd_xray_shift_kernel",
              "sladd_xray_blend_kernel"}
    assert emulator.launched == set(cuda_emulation.kernel_signatures()) - unused
    assert torch.equal(gpu_path.applied, cpu.applied) and torch.equal(gpu_path.masks, cpu.masks)
    assert torch.equal(gpu_path.mask_targets, cpu.mask_targets) and cpu.applied.sum() >= 4
    diff = (gpu_path.images.int() - cpu.images.int()).abs()
    assert diff.max() <= 1 and (diff > 0).float().mean() < 0.001  # BLAS summation order only


def test_augment_modes_on_the_gpu_path(jit, emulator, monkeypatch):
    """The SBI and Face X-ray modes as they run on CUDA: every op through the emulated NVRTC kernels and
    the sync-free Python branches (whole batch, selections instead of index copies), against the CPU
    path on the same params: equal images and masks (no BLAS in these modes)."""
    from sladd_fast import ops
    from sladd_fast.augment import sample_sbi_params, sbi_augment, xray_augment

    B = 6
    img, lm = face_batch(B, 23, S)
    p = sample_sbi_params(B, S, "cpu", torch.Generator().manual_seed(5))
    cpu_sbi = sbi_augment(img, lm, params=p)
    cpu_xray = xray_augment(img, lm, torch.Generator().manual_seed(6), video_ids=torch.arange(B))
    monkeypatch.setenv("SLADD_FAST_SYNC_FREE", "1")
    monkeypatch.setattr(jit, "available", lambda: True)  # the modes ask for their backend (reference warning)
    emulator.launched.clear()
    launchers = {name: getattr(jit, name) for name in ops._library.SCHEMAS}
    with ops.use_backend("jit", "cpu", impls=launchers):
        gpu_sbi = sbi_augment(img, lm, params=p, check_values=False)
        sbi_kernels = set(emulator.launched)
        gpu_xray = xray_augment(img, lm, video_ids=torch.arange(B), params=cpu_xray.params, check_values=False)
    assert {"sladd_sbi_color_kernel", "sladd_sbi_branch_kernel", "sladd_uniform_noise_kernel",
            "sladd_gauss_rows_kernel", "sladd_remap_nearest_kernel", "sladd_warp_linear_u8_kernel"} <= sbi_kernels
    assert torch.equal(gpu_sbi.images, cpu_sbi.images) and torch.equal(gpu_sbi.masks, cpu_sbi.masks)
    assert {"sladd_hull_feather_weight_kernel", "sladd_piecewise_affine_grid_kernel", "sladd_jpeg_tables_kernel",
            "sladd_jpeg_blocks_kernel",
            "sladd_jpeg_pixels_kernel", "sladd_resize_u8_cols_kernel", "sladd_resize_u8_rows_kernel",
            "sladd_xray_blend_kernel"} <= emulator.launched
    assert 0 < int(cpu_xray.params.jpeg.sum()) < B  # samples through JPEG and samples passed through
    assert torch.equal(gpu_xray.images, cpu_xray.images) and torch.equal(gpu_xray.masks, cpu_xray.masks)
    assert cpu_xray.labels.sum() >= 3 and (cpu_sbi.masks.sum((1, 2, 3)) > 0).all()


def test_jit_launchers_reject_wrong_dtypes(jit):
    """A wrong dtype would be read through a raw pointer as another type: the launchers refuse it."""
    x = torch.zeros(1, 3, 8, 8)
    with pytest.raises(ValueError, match="box must have dtype torch.int64"):
        jit.blur_in_box(x, torch.ones(1, 3), torch.ones(1, dtype=torch.int64), torch.zeros(1, 4, dtype=torch.int32))
    with pytest.raises(ValueError, match="input must have dtype torch.uint8"):
        jit.rgb_to_lab(x)
    with pytest.raises(ValueError, match=r"input must be \[B,3,H,W\]"):
        jit.lab_to_rgb(torch.zeros(1, 4, 8, 8))
    with pytest.raises(ValueError, match="index must have dtype torch.int64"):
        jit.resample_taps(x, torch.zeros(1, 4, 2, dtype=torch.int32), torch.ones(1, 4, 2), 2)
    with pytest.raises(ValueError, match="weight must have dtype torch.float32"):
        jit.resample_taps(x, torch.zeros(1, 4, 2, dtype=torch.int64), torch.ones(1, 4, 2).double(), 3)
    with pytest.raises(ValueError, match="rgb must have dtype torch.uint8"):
        jit.hsv_shift(x, torch.zeros(1, 3), 64)
    with pytest.raises(ValueError, match="shifts must have dtype torch.float32"):
        jit.hsv_shift(x.to(torch.uint8), torch.zeros(1, 3).double(), 64)
    u8, q, br = x.to(torch.uint8), torch.zeros(1, 8), torch.ones(1, dtype=torch.int64)
    with pytest.raises(ValueError, match="rgb must have dtype torch.uint8"):
        jit.sbi_quality(x, torch.zeros(1, 3), q, br, 64)
    with pytest.raises(ValueError, match="shifts must have dtype torch.float32"):
        jit.sbi_quality(u8, torch.zeros(1, 3).double(), q, br, 64)
    with pytest.raises(ValueError, match="coeffs must have dtype torch.float32"):
        jit.sbi_quality(u8, torch.zeros(1, 3), q.double(), br, 64)
    with pytest.raises(ValueError, match=r"coeffs must have shape \[1,8\]"):
        jit.sbi_quality(u8, torch.zeros(1, 3), torch.zeros(1, 7), br, 64)
    with pytest.raises(ValueError, match="branch must have dtype torch.int64"):
        jit.sbi_quality(u8, torch.zeros(1, 3), q, br.int(), 64)
    with pytest.raises(ValueError, match="block must be >= 0"):
        jit.sbi_quality(u8, torch.zeros(1, 3), q, br, -1)
    taps = torch.tensor([0.5, 0.25])
    with pytest.raises(ValueError, match="input must have dtype torch.float32"):
        jit.gaussian_filter(x.double(), taps, 2.0)
    with pytest.raises(ValueError, match=r"input must have shape \[\*,\*,\*,\*\]"):
        jit.gaussian_filter(x[0], taps, 2.0)
    with pytest.raises(ValueError, match="taps must have dtype torch.float32"):
        jit.gaussian_filter(x, taps.double(), 2.0)
    with pytest.raises(ValueError, match=r"taps must have shape \[\*\]"):
        jit.gaussian_filter(x, taps[None], 2.0)
    with pytest.raises(ValueError, match="taps must hold the centre weight at least"):
        jit.gaussian_filter(x, taps[:0], 2.0)
    seeds = torch.tensor([3, -1])
    with pytest.raises(ValueError, match="seeds must have dtype torch.int64"):
        jit.uniform_noise(seeds.int(), 3, 4, 5)
    with pytest.raises(ValueError, match="seeds must have dtype torch.int64"):
        jit.uniform_noise(seeds.double(), 3, 4, 5)
    with pytest.raises(ValueError, match=r"seeds must have shape \[\*\]"):
        jit.uniform_noise(seeds[None], 3, 4, 5)
    with pytest.raises(ValueError, match="channels, height and width must be >= 0"):
        jit.uniform_noise(seeds, 3, -1, 5)
    with pytest.raises(ValueError, match="width must be at most 2147483647"):
        jit.uniform_noise(seeds, 1, 1, 1 << 31)
    with pytest.raises(ValueError, match="at most 2\\^32 values per sample"):
        jit.uniform_noise(seeds, 2, 1 << 16, (1 << 16) + 1)
    mp, ct, rt = torch.zeros(1, 2, 5, 6), torch.arange(8)[None], torch.arange(8)[None]
    with pytest.raises(ValueError, match="input must have dtype torch.float32"):
        jit.remap_nearest(x.double(), mp, ct, rt, True)
    with pytest.raises(ValueError, match=r"input must have shape \[\*,\*,\*,\*\]"):
        jit.remap_nearest(x[0], mp, ct, rt, True)
    with pytest.raises(ValueError, match="map must have dtype torch.float32"):
        jit.remap_nearest(x, mp.double(), ct, rt, False)
    with pytest.raises(ValueError, match=r"map must have shape \[1,2,\*,\*\]"):
        jit.remap_nearest(x, torch.zeros(1, 3, 5, 6), ct, rt, True)
    with pytest.raises(ValueError, match=r"map must have shape \[1,2,\*,\*\]"):
        jit.remap_nearest(x, torch.zeros(2, 2, 5, 6), ct, rt, True)  # batch sizes differ
    with pytest.raises(ValueError, match="col_table must have dtype torch.int64"):
        jit.remap_nearest(x, mp, ct.int(), rt, True)
    with pytest.raises(ValueError, match="row_table must have dtype torch.int64"):
        jit.remap_nearest(x, mp, ct, rt.float(), True)
    with pytest.raises(ValueError, match=r"col_table must have shape \[1,\*\]"):
        jit.remap_nearest(x, mp, ct[0], rt, True)
    with pytest.raises(ValueError, match=r"row_table must have shape \[1,\*\]"):
        jit.remap_nearest(x, mp, ct, rt.expand(2, 8), True)  # batch sizes differ
    with pytest.raises(ValueError, match="col_table and row_table must hold at least one entry each"):
        jit.remap_nearest(x, mp, ct, rt[:, :0], True)
    u8, ci, ri = x.to(torch.uint8), torch.zeros(1, 6, 2, dtype=torch.int64), torch.zeros(1, 5, 2, dtype=torch.int64)
    cw, rw = torch.full((1, 6, 2), 16), torch.full((1, 5, 2), 16)
    with pytest.raises(ValueError, match="input must have dtype torch.uint8"):
        jit.warp_linear_u8(x, ci, cw, ri, rw)
    with pytest.raises(ValueError, match=r"input must have shape \[\*,\*,\*,\*\]"):
        jit.warp_linear_u8(u8[0], ci, cw, ri, rw)
    with pytest.raises(ValueError, match="col_index must have dtype torch.int64"):
        jit.warp_linear_u8(u8, ci.int(), cw, ri, rw)
    with pytest.raises(ValueError, match="col_weight must have dtype torch.int64"):
        jit.warp_linear_u8(u8, ci, cw.float(), ri, rw)
    with pytest.raises(ValueError, match="row_index must have dtype torch.int64"):
        jit.warp_linear_u8(u8, ci, cw, ri.double(), rw)
    with pytest.raises(ValueError, match="row_weight must have dtype torch.int64"):
        jit.warp_linear_u8(u8, ci, cw, ri, rw.int())
    with pytest.raises(ValueError, match=r"col_index must have shape \[1,\*,2\]"):
        jit.warp_linear_u8(u8, ci.expand(2, 6, 2), cw, ri, rw)  # batch sizes differ
    with pytest.raises(ValueError, match=r"row_index must have shape \[1,\*,2\]"):
        jit.warp_linear_u8(u8, ci, cw, torch.zeros(1, 5, 3, dtype=torch.int64), rw)  # three taps
    with pytest.raises(ValueError, match=r"col_weight must have shape \[1,6,2\]"):
        jit.warp_linear_u8(u8, ci, cw[:, :5], ri, rw)
    with pytest.raises(ValueError, match=r"row_weight must have shape \[1,5,2\]"):
        jit.warp_linear_u8(u8, ci, cw, ri, rw[..., :1])
    with pytest.raises(ValueError, match="C must be at most 2147483647"):  # the kernel takes C as int
        jit.warp_linear_u8(u8[:, :1, :1, :1].expand(1, 1 << 31, 1, 1), ci, cw, ri, rw)
    tx, st, mn = torch.zeros(2, 4, 4), torch.ones(2), torch.zeros(2, 9, dtype=torch.bool)
    with pytest.raises(ValueError, match="tx must have dtype torch.float32"):
        jit.piecewise_affine_grid(tx.double(), tx, st, mn, 8)
    with pytest.raises(ValueError, match=r"tx must have shape \[\*,4,4\]"):
        jit.piecewise_affine_grid(tx[:, :3], tx, st, mn, 8)
    with pytest.raises(ValueError, match="ty must have dtype torch.float32"):
        jit.piecewise_affine_grid(tx, tx.half(), st, mn, 8)
    with pytest.raises(ValueError, match=r"ty must have shape \[2,4,4\]"):
        jit.piecewise_affine_grid(tx, tx[:1], st, mn, 8)  # batch sizes differ
    with pytest.raises(ValueError, match="step must have dtype torch.float32"):
        jit.piecewise_affine_grid(tx, tx, st.double(), mn, 8)
    with pytest.raises(ValueError, match=r"step must have shape \[2\]"):
        jit.piecewise_affine_grid(tx, tx, st[:, None], mn, 8)
    with pytest.raises(ValueError, match="main must have dtype torch.bool"):
        jit.piecewise_affine_grid(tx, tx, st, mn.to(torch.uint8), 8)  # same size, would be read as bool
    with pytest.raises(ValueError, match=r"main must have shape \[2,9\]"):
        jit.piecewise_affine_grid(tx, tx, st, mn[:, :8], 8)
    for canvas in (0, -3, 46341):
        with pytest.raises(ValueError, match=r"canvas must be in \[1, 46340\]"):
            jit.piecewise_affine_grid(tx, tx, st, mn, canvas)
    with pytest.raises(ValueError, match="landmarks must have dtype torch.float32"):
        jit.hull_mask(torch.zeros(1, 68, 2, dtype=torch.float64), 16)
    with pytest.raises(ValueError, match=r"landmarks must have shape \[\*,\*,2\]"):
        jit.hull_mask(torch.zeros(1, 68, 3), 16)
    with pytest.raises(ValueError, match="at most 128 hull points"):
        jit.hull_mask(torch.zeros(1, 129, 2), 16)
    with pytest.raises(ValueError, match="size must be a positive int"):
        jit.hull_mask(torch.zeros(1, 68, 2), 0)
    # The launchers that used to check devices only (csrc/checks.h checks all of these)
    lm, reg = torch.zeros(2, 68, 2), torch.zeros(2, dtype=torch.int64)
    with pytest.raises(ValueError, match=r"landmarks must have shape \[\*,68,2\]"):
        jit.region_mask(torch.zeros(2, 81, 2), reg, 16)
    with pytest.raises(ValueError, match="region must have dtype torch.int64"):
        jit.region_mask(lm, reg.int(), 16)
    with pytest.raises(ValueError, match=r"region must have shape \[2\]"):
        jit.region_mask(lm, reg[:1], 16)
    t8, m1, w1 = torch.zeros(2, 3, 8, 8, dtype=torch.uint8), torch.zeros(2, 1, 8, 8), torch.zeros(2)
    roi = torch.zeros(2, 6, dtype=torch.int64)
    with pytest.raises(ValueError, match="target must have dtype torch.uint8"):
        jit.blend_linear(t8.float(), t8, m1, w1)
    with pytest.raises(ValueError, match=r"source must have shape \[2,3,8,8\]"):
        jit.blend_linear(t8, t8[:, :1], m1, w1)
    with pytest.raises(ValueError, match=r"mask must have shape \[2,1,8,8\]"):
        jit.blend_linear(t8, t8, m1[:, :, :4], w1)
    with pytest.raises(ValueError, match="weight must have dtype torch.float32"):
        jit.blend_linear(t8, t8, m1, w1.double())
    with pytest.raises(ValueError, match="mask must have dtype torch.float32"):
        jit.poisson_rhs(t8, t8, m1.to(torch.uint8), roi)
    with pytest.raises(ValueError, match=r"roi must have shape \[2,6\]"):
        jit.poisson_rhs(t8, t8, m1, roi[:, :4])
    with pytest.raises(ValueError, match="poisson_rhs needs H, W >= 3"):
        jit.poisson_rhs(t8[..., :2], t8[..., :2], m1[..., :2], roi)
    with pytest.raises(ValueError, match=r"solution must have shape \[2,3,6,6\]"):
        jit.poisson_compose(t8, torch.zeros(2, 3, 8, 8), roi)
    with pytest.raises(ValueError, match="roi must have dtype torch.int64"):
        jit.poisson_compose(t8, torch.zeros(2, 3, 6, 6), roi.int())
    with pytest.raises(ValueError, match=r"noise must have shape \[2,5,5,2\]"):
        jit.deform_mask(m1, torch.zeros(2, 4, 4, 2))
    with pytest.raises(ValueError, match=r"mask must be \[B,1,S,S\] with S >= 5"):
        jit.deform_mask(m1[..., :6], torch.zeros(2, 5, 5, 2))
    with pytest.raises(ValueError, match="op must have dtype torch.int64"):
        jit.morph_square(m1, reg.int(), reg)
    with pytest.raises(ValueError, match=r"k must have shape \[2\]"):
        jit.morph_square(m1, reg, reg[:1])
    huge = torch.zeros(1, 1, 1, 1).expand(1, 1, 46341, 46341)  # 2^31 pixels in one plane, no storage
    with pytest.raises(ValueError, match="plane must be at most 2147483647"):
        jit.morph_square(huge, torch.zeros(1, dtype=torch.int64), torch.ones(1, dtype=torch.int64))
    with pytest.raises(ValueError, match="plane must be at most 2147483647"):
        jit.deform_mask(huge, torch.zeros(1, 5, 5, 2))
    with pytest.raises(RuntimeError, match="plane too large"):  # the compiled ops' checks (CPU here)
        torch.ops.sladd_fast.morph_square(huge, torch.zeros(1, dtype=torch.int64), torch.ones(1, dtype=torch.int64))
    with pytest.raises(RuntimeError, match="plane too large"):
        torch.ops.sladd_fast.deform_mask(huge, torch.zeros(1, 5, 5, 2))


def test_jit_launchers_reject_mixed_devices(jit, emulator):
    """The kernels dereference every pointer on the launch device: a tensor elsewhere (a direct torch.ops
    call with a CPU tensor) is an error before any launch. A meta tensor stands in for the other device."""
    emulator.launched.clear()
    x, meta = torch.zeros(1, 3, 8, 8), "meta"
    with pytest.raises(ValueError, match="frac is on meta but mask is on cpu"):
        jit.hull_feather(torch.zeros(1, 1, 8, 8), torch.zeros(1, device=meta))
    with pytest.raises(ValueError, match="index is on meta but input is on cpu"):
        jit.resample_taps(x, torch.zeros(1, 4, 2, dtype=torch.int64, device=meta), torch.ones(1, 4, 2), 2)
    with pytest.raises(ValueError, match="weight is on meta but input is on cpu"):
        jit.resample_taps(x, torch.zeros(1, 4, 2, dtype=torch.int64), torch.ones(1, 4, 2, device=meta), 3)
    with pytest.raises(ValueError, match="shifts is on meta but rgb is on cpu"):
        jit.hsv_shift(x.to(torch.uint8), torch.zeros(1, 3, device=meta), 64)
    with pytest.raises(ValueError, match="coeffs is on meta but rgb is on cpu"):
        jit.sbi_quality(x.to(torch.uint8), torch.zeros(1, 3), torch.zeros(1, 8, device=meta),
                        torch.ones(1, dtype=torch.int64), 64)
    with pytest.raises(ValueError, match="branch is on meta but rgb is on cpu"):
        jit.sbi_quality(x.to(torch.uint8), torch.zeros(1, 3), torch.zeros(1, 8),
                        torch.ones(1, dtype=torch.int64, device=meta), 64)
    with pytest.raises(ValueError, match="taps is on meta but input is on cpu"):
        jit.gaussian_filter(x, torch.ones(3, device=meta), 2.0)
    with pytest.raises(ValueError, match="map is on meta but input is on cpu"):
        jit.remap_nearest(x, torch.zeros(1, 2, 4, 4, device=meta), torch.zeros(1, 8, dtype=torch.int64),
                          torch.zeros(1, 8, dtype=torch.int64), True)
    with pytest.raises(ValueError, match="row_table is on meta but input is on cpu"):
        jit.remap_nearest(x, torch.zeros(1, 2, 4, 4), torch.zeros(1, 8, dtype=torch.int64),
                          torch.zeros(1, 8, dtype=torch.int64, device=meta), False)
    ci, cw = torch.zeros(1, 6, 2, dtype=torch.int64), torch.full((1, 6, 2), 16)
    with pytest.raises(ValueError, match="col_weight is on meta but input is on cpu"):
        jit.warp_linear_u8(x.to(torch.uint8), ci, cw.to(meta), ci, cw)
    with pytest.raises(ValueError, match="row_index is on meta but input is on cpu"):
        jit.warp_linear_u8(x.to(torch.uint8), ci, cw, ci.to(meta), cw)
    tx, st, mn = torch.zeros(1, 4, 4), torch.ones(1), torch.zeros(1, 9, dtype=torch.bool)
    with pytest.raises(ValueError, match="step is on meta but tx is on cpu"):
        jit.piecewise_affine_grid(tx, tx, st.to(meta), mn, 8)
    with pytest.raises(ValueError, match="main is on meta but tx is on cpu"):
        jit.piecewise_affine_grid(tx, tx, st, mn.to(meta), 8)
    with pytest.raises(ValueError, match="box is on meta but input is on cpu"):
        jit.blur_in_box(x, torch.ones(1, 3), torch.ones(1, dtype=torch.int64),
                        torch.zeros(1, 4, dtype=torch.int64, device=meta))
    with pytest.raises(ValueError, match="region is on meta but landmarks is on cpu"):
        jit.region_mask(torch.zeros(1, 68, 2), torch.zeros(1, dtype=torch.int64, device=meta), 16)
    assert not emulator.launched


def test_jit_launch_stream_is_made_once_per_torch_stream_without_deprecation_warnings():
    """_launch runs on torch's current stream through one CuPy handle per (device, stream), made once;
    CuPy 14's ExternalStream deprecation warning stays inside (it fired on every launch)."""
    import warnings

    from sladd_fast import _jit

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = _jit._cupy_stream(0, 0x5A5A)
    assert a.ptr == 0x5A5A and a.device_id == 0
    assert _jit._cupy_stream(0, 0x5A5A) is a and _jit._cupy_stream(0, 0x5A5B) is not a


def test_jit_launch_takes_only_cuda_tensors():
    """The real launcher (not the emulator) refuses tensors on a host device: a CPU tensor's address
    would be read as device memory."""
    with pytest.raises(ValueError, match="the NVRTC kernels take CUDA tensors, got tensors on cpu"):
        _jit.hull_mask(torch.zeros(1, 68, 2), 16)
    with pytest.raises(ValueError, match="take CUDA tensors"):
        _jit.hsv_shift(torch.zeros(1, 3, 4, 4, dtype=torch.uint8), torch.zeros(1, 3), 64)
    with pytest.raises(ValueError, match="take CUDA tensors"):
        _jit.sbi_quality(torch.zeros(1, 3, 4, 4, dtype=torch.uint8), torch.zeros(1, 3), torch.zeros(1, 8),
                         torch.ones(1, dtype=torch.int64), 64)
    with pytest.raises(ValueError, match="take CUDA tensors"):
        _jit.gaussian_filter(torch.zeros(1, 3, 4, 4), torch.ones(3), 2.0)
    with pytest.raises(ValueError, match="take CUDA tensors"):
        _jit.uniform_noise(torch.zeros(2, dtype=torch.int64), 3, 4, 5)
    with pytest.raises(ValueError, match="take CUDA tensors"):
        _jit.remap_nearest(torch.zeros(1, 3, 4, 4), torch.zeros(1, 2, 4, 4), torch.zeros(1, 4, dtype=torch.int64),
                           torch.zeros(1, 4, dtype=torch.int64), True)
    with pytest.raises(ValueError, match="take CUDA tensors"):
        _jit.warp_linear_u8(torch.zeros(1, 3, 4, 4, dtype=torch.uint8), *[torch.zeros(1, 5, 2, dtype=torch.int64)] * 4)
    with pytest.raises(ValueError, match="take CUDA tensors"):
        _jit.piecewise_affine_grid(torch.zeros(1, 4, 4), torch.zeros(1, 4, 4), torch.ones(1),
                                   torch.zeros(1, 9, dtype=torch.bool), 8)


@pytest.mark.parametrize("K", [0, 1, 2, 3, 5, 81, 128])
def test_emulated_hull_mask_any_hull_size(jit, emulator, K):
    """hull_mask's scratch (common/hull_math.h layout: input points, hull, vertices, count and flag per
    sample) for every hull input size up to kMaxHullInput, integer and sub-pixel points, several samples
    with different hulls: pass 3 reads pass 1's hull."""
    g = torch.Generator().manual_seed(K)
    lm = torch.rand(5, K, 2, generator=g) * 47
    lm[::2] = lm[::2].trunc()  # integer hulls (shift 0) and sub-pixel ones (shift 16)
    lm[4] = lm[4] * 4 - 90  # clipped by the canvas
    if K:
        lm[3] = lm[3, :1]  # all points equal: a pixel
    emulator.launched.clear()
    got = jit.hull_mask(lm, 48)
    assert emulator.launched == {"sladd_hull_spans_kernel", "sladd_hull_fill_kernel", "sladd_hull_edges_kernel"}
    assert torch.equal(got, torch.ops.sladd_fast.hull_mask(lm, 48))
    assert bool((got[:4].flatten(1).sum(1) > 0).all()) == (K > 0) and got[3].sum() == min(K, 1)
    # [B,P,K,2]: the same hulls as 2 samples of 2 parts (and one of 1): passes 2 and 3 index hull b * P + p
    parts = lm[:4].view(2, 2, K, 2)
    assert torch.equal(jit.hull_mask(parts, 48), torch.ops.sladd_fast.hull_mask(parts, 48))
    assert torch.equal(jit.hull_mask(parts, 48), got[:4].view(2, 2, 48, 48).amax(1, keepdim=True))


@pytest.mark.parametrize("shape", [(37, 53), (53, 37), (1, 9), (9, 1), (3, 3), (4, 300)])
def test_emulated_column_passes_on_non_square_planes(jit, emulator, shape):
    """box_of and color_stats walk columns on CUDA (a warp reads consecutive bytes of a row), then merge
    the columns in one block per sample (a tree; W > kThreads: threads take several columns); the CPU
    walks rows. Equal on planes where rows and columns differ in number, sparse, one-pixel and empty
    masks, with and without the frame, every colour mode, boxes inside, across and outside the plane."""
    H, W = shape
    g = torch.Generator().manual_seed(H * 100 + W)
    on = torch.rand(6, H, W, generator=g) < torch.tensor([0.0, 0.002, 0.05, 0.5, 1.0, 0.3]).view(6, 1, 1)
    on[5] = False
    on[5, H // 2, W // 2] = True  # one pixel, the interior where there is one
    emulator.launched.clear()
    for frame in (False, True):
        assert torch.equal(jit.box_of(on, frame), torch.ops.sladd_fast.box_of(on, frame)), frame
    assert emulator.launched == {"sladd_box_cols_kernel", "sladd_box_reduce_kernel"}

    fake, real = (torch.randint(0, 256, (6, 3, H, W), generator=g, dtype=torch.uint8) for _ in range(2))
    mask = on[:, None].float() * torch.rand(6, 1, H, W, generator=g).add(0.3)  # some on pixels under 0.5
    box = torch.tensor([[0, 0, W, H], [1, 2, W - 1, 1], [-4, -4, W + 9, H + 9], [W, 0, 5, H], [0, H - 1, W, 3],
                        [W // 2, H // 3, 2, 4]])
    for modes in ([0, 1, 2, 3, 0, 1], [2, 0, 1, 0, 3, 2]):
        mode = torch.tensor(modes)
        want = torch.ops.sladd_fast.color_stats(fake, real, mask, mode, box)
        assert torch.equal(jit.color_stats(fake, real, mask, mode, box), want), modes
