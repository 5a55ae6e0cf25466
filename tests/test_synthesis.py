"""synthesize(): contract, guard, replay determinism, sampler statistics, bad input."""
from __future__ import annotations

import math

import pytest
import torch

from helpers import cpu_and_cuda, cuda_backends, face_batch
from sladd_fast import synthesize
from sladd_fast.synthesis import BlendType, mask_target, sample_params


def _inputs(batch: int = 12, seed: int = 0, device: str = "cpu"):
    t, lm_t = face_batch(batch, seed)
    s, lm_s = face_batch(batch, seed + 1000)
    region = torch.arange(batch) % 10
    blend = torch.arange(batch) % 4
    ratio = torch.linspace(0.2, 1.0, batch)
    return [x.to(device) for x in (t, s, lm_t, lm_s, region, blend, ratio)]


@pytest.mark.parametrize("device", cpu_and_cuda())
def test_contract_shapes_and_semantics(device):
    args = _inputs(12, 0, device)
    out = synthesize(*args, generator=torch.Generator(device).manual_seed(0))
    t, blend = args[0], args[5]
    assert out.images.dtype == torch.uint8 and out.images.shape == t.shape
    assert out.masks.dtype == torch.float32 and out.masks.shape == (12, 1, 256, 256)
    assert out.mask_targets.shape == (12, 1, 16, 16) and out.applied.dtype == torch.bool
    assert set(out.masks.unique().tolist()) <= {0.0, 1.0}
    assert set(out.mask_targets.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(out.mask_targets, mask_target(out.masks))
    none = blend == BlendType.NONE
    assert not out.applied[none].any()
    assert out.applied[~none].all()  # face-sized regions never trip the guard
    assert torch.equal(out.images[~out.applied], t[~out.applied])
    assert out.masks[~out.applied].sum() == 0
    for b in torch.nonzero(out.applied).flatten().tolist():
        changed = (out.images[b] != t[b]).any(0)
        assert changed.any(), b
        if blend[b] != BlendType.POISSON:  # alpha and copy only touch the mask
            assert not changed[out.masks[b, 0] == 0].any(), b


@pytest.mark.parametrize("size", [97, 128])
def test_other_canvas_sizes(size):
    t, lm_t = face_batch(6, 11, size)
    s, lm_s = face_batch(6, 12, size)
    blend = torch.tensor([0, 1, 2, 0, 1, 2])
    out = synthesize(t, s, lm_t, lm_s, torch.arange(6) % 10, blend, torch.full((6,), 0.8),
                     generator=torch.Generator().manual_seed(0))
    assert out.images.shape == (6, 3, size, size) and out.mask_targets.shape == (6, 1, 16, 16)
    # SLADD's erode/dilate sizes do not scale with the canvas, so a small region may be eroded away
    # and trip the guard; such samples must be untouched.
    assert out.applied.sum() >= 4
    assert torch.equal(out.images[~out.applied], t[~out.applied])
    assert torch.equal(out.mask_targets, mask_target(out.masks))
    for b in torch.nonzero(out.applied).flatten().tolist():
        changed = (out.images[b] != t[b]).any(0)
        assert changed.any()
        if blend[b] != BlendType.POISSON:
            assert not changed[out.masks[b, 0] == 0].any()


def test_replay_is_exact_and_seeds_differ():
    args = _inputs(10, 1)
    a = synthesize(*args, generator=torch.Generator().manual_seed(7))
    b = synthesize(*args, generator=torch.Generator().manual_seed(7))
    c = synthesize(*args, params=a.params)
    d = synthesize(*args, generator=torch.Generator().manual_seed(8))
    for x, y in ((a, b), (a, c)):
        assert torch.equal(x.images, y.images) and torch.equal(x.masks, y.masks)
        assert torch.equal(x.applied, y.applied)
    assert not torch.equal(a.images, d.images)


def test_guard_keeps_tiny_regions_real():
    t, s, lm_t, lm_s, region, blend, ratio = _inputs(4, 2)
    tiny = (lm_s - lm_s.mean(1, keepdim=True)) * 0.06 + 128  # a face a few pixels wide
    out = synthesize(t, s, lm_t, tiny, torch.zeros(4, dtype=torch.int64), torch.tensor([0, 1, 2, 0]), ratio,
                     generator=torch.Generator().manual_seed(0))
    assert not out.applied.any()
    assert torch.equal(out.images, t) and out.masks.sum() == 0 and out.mask_targets.sum() == 0


def test_off_frame_faces_stay_real():
    """Issue 8 item 5: target landmarks 1000 px off a 256-px image used to give applied=True with
    mirrored fragments (BORDER_REFLECT) pasted in."""
    t, s, lm_t, lm_s, _, _, ratio = _inputs(6, 4)
    region = torch.full((6,), 9)
    blend = torch.tensor([0, 1, 2, 0, 1, 2])
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    base = synthesize(t, s, lm_t, lm_s, region, blend, ratio, generator=g())
    assert base.applied.all()
    for shift in ([1000.0, 0.0], [0.0, -1000.0], [150.0, 0.0], [0.0, 150.0], [-150.0, 0.0]):  # off, or mostly off
        out = synthesize(t, s, lm_t + torch.tensor(shift), lm_s, region, blend, ratio, generator=g())
        assert not out.applied.any(), shift
        assert torch.equal(out.images, t) and out.masks.sum() == 0
    out = synthesize(t, s, lm_t, lm_s + torch.tensor([0.0, 1000.0]), region, blend, ratio, generator=g())
    assert not out.applied.any()  # the partner's landmarks outside its own generous frame
    out = synthesize(t, s, lm_t + torch.tensor([40.0, -30.0]), lm_s, region, blend, ratio, generator=g())
    assert out.applied.all()  # shifted, but most of the region still on the image


def test_fraction_inside():
    from sladd_fast.synthesis import align

    m = torch.zeros(3, 1, 64, 64)
    m[:, :, 16:48, 16:48] = 1
    M = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]).repeat(3, 1, 1)
    M[1, 0, 2] = 32.0  # half the square moves past the right edge
    M[2, 1, 2] = -100.0
    f = align.fraction_inside(m, M)
    assert f[0] == 1.0 and abs(f[1].item() - 0.5) < 0.07 and f[2] == 0.0
    assert align.fraction_inside(torch.zeros(1, 1, 64, 64), M[:1]) == 0.0
    assert align.fraction_inside(m[:, :, :63, :63].contiguous(), M)[0] == 1.0  # 63 px: cells of 1
    lm = torch.full((3, 68, 2), 100.0)
    lm[1, 5, 0] = -200.0
    lm[2, 7, 1] = float("nan")
    assert align.landmarks_in_frame(lm, 256, 0.5).tolist() == [True, False, False]


def test_invalid_landmarks_are_never_synthesized():
    args = _inputs(6, 3)
    valid = torch.tensor([True, False, True, False, True, False])
    out = synthesize(*args, generator=torch.Generator().manual_seed(0), valid=valid)
    assert not out.applied[~valid].any()
    assert torch.equal(out.images[~valid], args[0][~valid])


def test_empty_batch_and_non_contiguous():
    args = _inputs(4, 4)
    empty = [a[:0] for a in args]
    out = synthesize(*empty)
    assert out.images.shape == (0, 3, 256, 256) and out.applied.shape == (0,)
    nc = [a.transpose(-1, -2).contiguous().transpose(-1, -2) if a.dim() >= 3 else a for a in args]
    assert not nc[0].is_contiguous()
    x = synthesize(*args, generator=torch.Generator().manual_seed(1))
    y = synthesize(*nc, generator=torch.Generator().manual_seed(1))
    assert torch.equal(x.images, y.images)


def _binom_ok(count: int, n: int, p: float) -> bool:
    return abs(count - n * p) <= 5 * math.sqrt(n * p * (1 - p))  # 5 sigma: false alarm ~ 6e-7


def test_sampler_statistics():
    n = 20000
    p = sample_params(n, 256, "cpu", torch.Generator().manual_seed(0))
    assert _binom_ok(int((p.morph_op == 0).sum()), n, 0.3)
    assert _binom_ok(int((p.morph_op == 1).sum()), n, 0.3)
    assert _binom_ok(int((p.blur_k == 1).sum()), n, 0.1 + 0.9 / 9)  # skip, or drawn k_b = 1
    for mode in range(4):
        assert _binom_ok(int((p.color_mode == mode).sum()), n, 0.25)
    assert set(p.morph_k.unique().tolist()) == set(range(3, 20, 2))
    assert set(p.blur_k.unique().tolist()) == set(range(1, 18, 2))
    assert 0 <= float(p.feather.min()) and float(p.feather.max()) < 0.2
    assert torch.equal(p.deform_noise, p.deform_noise.floor())
    # floor(N(0, 10)), as SLADD's int32 cast of its non-negative clipped targets: mean exactly -0.5
    # (floor X + floor -X = -1), variance from P(floor X = k) = cdf(k + 1) - cdf(k). A truncation
    # towards 0 would have mean 0.
    def cdf(x: float) -> float:
        return 0.5 * (1 + math.erf(x / (10.0 * math.sqrt(2))))

    pk = {k: cdf(k + 1) - cdf(k) for k in range(-100, 100)}
    var = sum(k * k * q for k, q in pk.items()) - sum(k * q for k, q in pk.items()) ** 2
    assert abs(float(p.deform_noise.mean()) + 0.5) < 0.05  # its standard error is 0.01
    assert abs(float(p.deform_noise.std()) - math.sqrt(var)) < 0.05


@pytest.mark.parametrize(
    "index, value, match",
    [
        (2, torch.full((4, 68, 2), float("nan")), "target_landmarks.*NaN"),
        (3, torch.zeros(4, 68, 2, dtype=torch.float64), "source_landmarks.*dtype"),
        (0, torch.zeros(4, 3, 256, 256), "target.*dtype"),
        (1, torch.zeros(4, 3, 128, 128, dtype=torch.uint8), "source.*shape"),
        (0, torch.zeros(4, 3, 256, 200, dtype=torch.uint8), "target.*square"),
        (4, torch.tensor([0, 1, 2, 10]), "region.*\\[0, 9\\]"),
        (5, torch.tensor([0, 1, 2, 4]), "blend_type.*\\[0, 3\\]"),
        (6, torch.tensor([0.1, 0.2, 1.5, 0.3]), "ratio.*\\[0.0, 1.0\\]"),
        (6, torch.tensor([0.1, float("nan"), 0.5, 0.3]), "ratio.*NaN"),
        (4, torch.zeros(3, dtype=torch.int64), "region.*shape"),
    ],
)
def test_bad_input(index, value, match):
    args = _inputs(4, 5)
    args[index] = value
    with pytest.raises(ValueError, match=match):
        synthesize(*args)


def test_mismatched_devices():
    args = _inputs(2, 6)
    args[4] = args[4].to("meta")
    with pytest.raises(ValueError, match="region is on meta"):
        synthesize(*args, check_values=False)


@pytest.mark.needs_cuda
@pytest.mark.parametrize("backend", ["kernel", "jit"])
def test_cuda_matches_cpu_and_never_syncs(backend):
    from sladd_fast import ops

    if backend not in cuda_backends():
        pytest.skip(f"no {backend} CUDA backend here (or not selected by SLADD_FAST_TEST_BACKENDS)")
    args = _inputs(8, 7)
    p = sample_params(8, 256, "cpu", torch.Generator().manual_seed(3))
    cpu = synthesize(*args, params=p)
    cuda_args, cuda_p = [a.cuda() for a in args], p.to("cuda")  # host -> device copies sync: before the window
    with ops.use_backend(backend, "cuda"):
        synthesize(*cuda_args, params=cuda_p, check_values=False)  # warm-up: JIT, per-device constants
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            gpu = synthesize(*cuda_args, params=cuda_p, check_values=False)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    assert torch.equal(gpu.applied.cpu(), cpu.applied)
    assert torch.equal(gpu.masks.cpu(), cpu.masks)
    assert torch.equal(gpu.mask_targets.cpu(), cpu.mask_targets)
    diff = (gpu.images.cpu().int() - cpu.images.int()).abs()
    assert diff.max() <= 1 and (diff > 0).float().mean() < 0.002


@pytest.mark.needs_cuda
def test_cuda_graph_replays_the_eager_call():
    """SynthesisGraph: the same forgeries as the eager CUDA call for the same params, on new inputs
    each replay; inputs of another shape are refused."""
    from sladd_fast.synthesis import SynthesisGraph

    graph = SynthesisGraph(8, 256, "cuda")
    for seed in (7, 8):
        args = [a.cuda() for a in _inputs(8, seed)]
        p = sample_params(8, 256, "cuda", torch.Generator("cuda").manual_seed(seed))
        eager = synthesize(*args, params=p, check_values=False)
        got = graph(*args, params=p)
        for name in ("images", "masks", "mask_targets", "applied"):
            assert torch.equal(getattr(got, name), getattr(eager, name)), (seed, name)
    g1, g2 = torch.Generator("cuda").manual_seed(3), torch.Generator("cuda").manual_seed(3)
    assert torch.equal(graph(*args, generator=g1).images, synthesize(*args, generator=g2, check_values=False).images)
    with pytest.raises(ValueError, match="target must be"):
        graph(args[0][:4], *args[1:])


def test_cuda_graph_needs_cuda():
    from sladd_fast.synthesis import SynthesisGraph

    with pytest.raises(ValueError, match="needs a CUDA device"):
        SynthesisGraph(4, 64, "cpu")
    if not torch.cuda.is_available():  # "cuda" on a machine without one: ours, not the driver's error
        with pytest.raises(ValueError, match="torch sees none here"):
            SynthesisGraph(4, 64, "cuda")


def test_reference_backend_matches_kernels():
    """The pure-PyTorch fallback (no extension) gives the same forgeries as the compiled kernels."""
    from sladd_fast import ops
    from sladd_fast._ext import has_ops

    if not has_ops():
        pytest.skip("sladd_fast._C not built")
    args = _inputs(8, 9)
    p = sample_params(8, 256, "cpu", torch.Generator().manual_seed(4))
    kern = synthesize(*args, params=p)
    with ops.use_backend("reference", "cpu"):
        ref = synthesize(*args, params=p)
    assert torch.equal(kern.applied, ref.applied)
    assert (kern.masks == ref.masks).float().mean() > 0.999
    assert ((kern.images.int() - ref.images.int()).abs() > 2).float().mean() < 0.002


def test_sync_free_branches_match_the_cpu_path(monkeypatch):
    """The GPU's sync-free Python branches (whole-batch colour and Poisson, full canvases), run on
    CPU, give the same forgeries as the CPU's compacted and cropped path."""
    args = _inputs(12, 13)
    p = sample_params(12, 256, "cpu", torch.Generator().manual_seed(5))
    cpu = synthesize(*args, params=p)
    monkeypatch.setenv("SLADD_FAST_SYNC_FREE", "1")
    free = synthesize(*args, params=p)
    assert torch.equal(free.applied, cpu.applied) and torch.equal(free.masks, cpu.masks)
    assert set(p.color_mode.tolist()) == {0, 1, 2, 3}  # every colour branch is exercised
    diff = (free.images.int() - cpu.images.int()).abs()
    assert diff.max() <= 1 and (diff > 0).float().mean() < 0.001  # BLAS summation order only


def test_replay_params_must_match_the_batch():
    args = _inputs(4, 14)
    with pytest.raises(ValueError, match="params must hold 4 samples"):
        synthesize(*args, params=sample_params(3, 256, "cpu", torch.Generator().manual_seed(0)))


def test_sync_free_path_issues_no_host_reading_op(monkeypatch):
    """The branches the GPU takes (SLADD_FAST_SYNC_FREE=1), run on CPU under a dispatch mode that
    records every op that reads a value or a data-dependent size back to the host on a GPU (item(),
    bool(), nonzero, boolean-mask indexing, unique, ...): there must be none, or
    set_sync_debug_mode("error") (and CUDA-graph capture) would fail there. A CPU proxy of the GPU test."""
    from helpers import HostReadWatch as Watch

    probe = Watch()  # the detector itself catches what it must
    with probe:
        x = torch.arange(4.0)
        x.sum().item()
        x[x > 1]
    assert "aten._local_scalar_dense" in probe.seen and "aten.index" in probe.seen
    args = _inputs(8, 31)
    p = sample_params(8, 256, "cpu", torch.Generator().manual_seed(2))
    monkeypatch.setenv("SLADD_FAST_SYNC_FREE", "1")
    synthesize(*args, params=p, check_values=False)  # warm-up: cached constants and DST tables
    w = Watch()
    with w:
        out = synthesize(*args, params=p, check_values=False)
    assert out.applied.any()
    assert w.seen == [], sorted(set(w.seen))


def test_constants_are_cached_per_resolved_device(monkeypatch):
    """_consts keys "cuda" by the current device's index: a constant made for cuda:0 is not handed out
    as "cuda" once another device is current (a multi-GPU process); explicit devices stay as given."""
    from sladd_fast import _consts

    current = {"index": 0}
    monkeypatch.setattr(torch.cuda, "current_device", lambda: current["index"])
    assert _consts._device_key("cuda") == "cuda:0" and _consts._device_key(torch.device("cuda")) == "cuda:0"
    current["index"] = 2
    assert _consts._device_key("cuda") == "cuda:2" and _consts._device_key("cuda:1") == "cuda:1"
    assert _consts._device_key("cpu") == _consts._device_key(torch.device("cpu")) == "cpu"
