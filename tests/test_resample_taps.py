"""resample_taps: CPU kernel vs reference (bit-exact: the same float32 multiply-then-add in the same
order), vs a dense matrix formulation and F.interpolate, clamped indices, zero taps, empty shapes, the
baseline (non-AVX2) CPU path, bad input. The CUDA kernel runs on the host in test_cuda_emulated.py
(benchmarks/sanitize_ops.py's resample_taps calls) and on a GPU in test_cuda_ops.py."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from helpers import needs_ext
from sladd_fast import ops
from sladd_fast.ops import _reference
from sladd_fast.synthesis.filters import resample_taps

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _case(B: int, C: int, H: int, W: int, O: int, T: int, axis: int, seed: int = 0, zeros: float = 0.25,
          lo: int = 0, hi: int | None = None):
    """Random input, taps in [lo, hi) (default: the axis), about ``zeros`` of the weights 0."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(B, C, H, W, generator=g) * 255
    n = (H, W)[axis - 2]
    index = torch.randint(lo, n if hi is None else hi, (B, O, T), generator=g)
    weight = torch.randn(B, O, T, generator=g) * (torch.rand(B, O, T, generator=g) >= zeros)
    return x, index, weight


def _dense(index: torch.Tensor, weight: torch.Tensor, n: int) -> torch.Tensor:
    """float64 [B,O,n]: the resampling matrix of the taps (repeated indices add up)."""
    B, O, _ = index.shape
    m = torch.zeros(B, O, n, dtype=torch.float64)
    return m.scatter_add_(2, index, weight.double())


# (B, C, H, W, O, T, axis): both axes, T = 1 and 14, O < n and O > n, H != W, widths and heights that
# are not whole vectors or strips (the kernels' remainder paths).
SHAPES = [
    (4, 3, 64, 64, 32, 14, 2), (4, 3, 64, 64, 32, 14, 3),
    (3, 2, 40, 75, 90, 14, 2), (3, 2, 37, 72, 150, 14, 3),
    (5, 1, 50, 33, 20, 1, 2), (5, 1, 21, 50, 80, 1, 3),
    (2, 4, 17, 9, 5, 3, 2), (2, 4, 9, 17, 3, 5, 3),
]


@needs_ext
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "B{}C{}H{}W{}O{}T{}axis{}".format(*s))
def test_kernel_equals_reference(shape):
    B, C, H, W, O, T, axis = shape
    x, index, weight = _case(B, C, H, W, O, T, axis, seed=sum(shape))
    got = torch.ops.sladd_fast.resample_taps(x, index, weight, axis)
    want = _reference.resample_taps(x, index, weight, axis)
    assert got.shape == ((B, C, O, W) if axis == 2 else (B, C, H, O)) and got.dtype == torch.float32
    assert torch.equal(got, want)  # the same products added in the same order, no FMA: exact
    assert torch.equal(resample_taps(x, index, weight, axis), got)  # the wrapper: the op


@needs_ext
def test_baseline_cpu_path_equals_reference():
    """SLADD_FAST_NO_AVX2=1 runs the SSE2 loops (the AVX2 ones are picked where the CPU has AVX2):
    the same values, bit for bit."""
    code = """
import torch, sys
sys.path.insert(0, "tests")
from test_resample_taps import SHAPES, _case
from sladd_fast.ops import _reference
for B, C, H, W, O, T, axis in SHAPES:
    x, i, w = _case(B, C, H, W, O, T, axis, seed=B + H, lo=-3, hi=(H, W)[axis - 2] + 3)
    assert torch.equal(torch.ops.sladd_fast.resample_taps(x, i, w, axis), _reference.resample_taps(x, i, w, axis))
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "SLADD_FAST_NO_AVX2": "1", "SLADD_FAST_BACKEND": "kernel"})
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]


@pytest.mark.parametrize("axis", [2, 3])
@pytest.mark.parametrize("backend", ["kernel", "reference"])
def test_equals_dense_matrix_product(axis, backend):
    """The taps as a dense [B,O,n] matrix (scatter_add) applied with torch.matmul: equal up to float32
    summation order (inputs and weights >= 0: no cancellation, so a relative tolerance holds)."""
    if backend == "kernel" and not ops._library._HAS_CPU:
        pytest.skip("sladd_fast._C not built")
    x, index, weight = _case(3, 3, 48, 80, 100, 14, axis, seed=4)
    weight = weight.abs()
    n = x.shape[axis]
    m = _dense(index, weight, n).float()  # [B,O,n]
    with ops.use_backend(backend, "cpu"):
        got = resample_taps(x, index, weight, axis)
    want = torch.matmul(m[:, None], x) if axis == 2 else torch.matmul(x, m[:, None].transpose(2, 3))
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)


def test_linear_taps_equal_interpolate():
    """A realistic use: 2-tap linear interpolation (half-pixel centres, edge clamped) on each axis is
    F.interpolate(bilinear, align_corners=False) when enlarging."""
    x = torch.rand(2, 3, 30, 44, generator=torch.Generator().manual_seed(3))
    out = x
    for axis, (n, O) in ((2, (30, 70)), (3, (44, 100))):
        c = (torch.arange(O, dtype=torch.float64) + 0.5) * n / O - 0.5
        i0 = c.floor()
        f = c - i0
        index = torch.stack([i0, i0 + 1], -1).long().clamp(0, n - 1)
        weight = torch.stack([1 - f, f], -1).float()
        out = resample_taps(out, index.expand(2, O, 2), weight.expand(2, O, 2), axis)
    want = F.interpolate(x, size=(70, 100), mode="bilinear", align_corners=False)
    torch.testing.assert_close(out, want, rtol=0, atol=1e-5)


@needs_ext
@pytest.mark.parametrize("axis", [2, 3])
def test_out_of_range_indices_are_clamped(axis):
    x, index, weight = _case(3, 2, 24, 40, 30, 6, axis, seed=5)
    n = x.shape[axis]
    index[0, :, 0] = -1
    index[1, :, 1] = n
    index[2, :5] = 2**62  # far out: no overflow
    index[2, 5:10] = -(2**62)
    got = resample_taps(x, index, weight, axis, check_values=False)
    want = _reference.resample_taps(x, index.clamp(0, n - 1), weight, axis)
    assert torch.equal(got, want)
    assert torch.equal(torch.ops.sladd_fast.resample_taps(x, index, weight, axis), got)


@needs_ext
@pytest.mark.parametrize("axis", [2, 3])
def test_zero_weight_taps_contribute_nothing(axis):
    x, index, weight = _case(2, 2, 16, 24, 12, 5, axis, seed=6, zeros=0.0)
    bad = 3
    index[index == bad] = bad + 1  # the nonzero taps avoid the bad line
    if axis == 2:
        x[:, :, bad] = float("nan")
    else:
        x[:, :, :, bad] = float("inf")
    index[:, :, 2] = bad
    weight[:, :, 2] = 0.0  # every output has a zero tap on the bad line
    index[:, :, 4] = -7  # and a zero tap far out of range
    weight[:, :, 4] = 0.0
    got = resample_taps(x, index, weight, axis, check_values=False)
    assert torch.isfinite(got).all()
    keep = torch.tensor([0, 1, 3])
    assert torch.equal(got, resample_taps(x, index[:, :, keep], weight[:, :, keep], axis))
    assert torch.equal(got, _reference.resample_taps(x, index, weight, axis))
    assert torch.equal(resample_taps(x, index, torch.zeros_like(weight), axis, check_values=False),
                       torch.zeros_like(got))


@pytest.mark.parametrize("backend", ["kernel", "reference"])
def test_empty_shapes(backend):
    if backend == "kernel" and not ops._library._HAS_CPU:
        pytest.skip("sladd_fast._C not built")
    i64 = torch.int64
    with ops.use_backend(backend, "cpu"):
        assert resample_taps(torch.zeros(0, 3, 8, 6), torch.zeros(0, 5, 2, dtype=i64), torch.zeros(0, 5, 2), 2).shape \
            == (0, 3, 5, 6)  # empty batch
        assert resample_taps(torch.zeros(0, 3, 8, 6), torch.zeros(0, 5, 2, dtype=i64), torch.zeros(0, 5, 2), 3).shape \
            == (0, 3, 8, 5)
        x = torch.rand(2, 3, 8, 6)
        assert resample_taps(x, torch.zeros(2, 0, 4, dtype=i64), torch.zeros(2, 0, 4), 2).shape == (2, 3, 0, 6)
        t0 = resample_taps(x, torch.zeros(2, 5, 0, dtype=i64), torch.zeros(2, 5, 0), 3)  # no taps: 0
        assert t0.shape == (2, 3, 8, 5) and (t0 == 0).all()
        e = torch.ops.sladd_fast.resample_taps(torch.zeros(2, 3, 0, 6), torch.zeros(2, 4, 2, dtype=i64),
                                               torch.ones(2, 4, 2), 2)  # an empty axis: nothing to read, 0
        assert e.shape == (2, 3, 4, 6) and (e == 0).all()


@needs_ext
def test_non_contiguous_inputs():
    x, index, weight = _case(3, 3, 20, 30, 25, 4, 3, seed=8)
    xt = x.transpose(2, 3).contiguous().transpose(2, 3)
    it, wt = index.transpose(1, 2).contiguous().transpose(1, 2), weight.transpose(1, 2).contiguous().transpose(1, 2)
    assert not xt.is_contiguous() and not it.is_contiguous()
    assert torch.equal(torch.ops.sladd_fast.resample_taps(xt, it, wt, 3), resample_taps(x, index, weight, 3))


def _base() -> dict:
    return dict(x=torch.zeros(2, 3, 8, 6), index=torch.zeros(2, 5, 4, dtype=torch.int64),
                weight=torch.zeros(2, 5, 4), axis=2)


@pytest.mark.parametrize("args,msg", [
    (dict(x=torch.zeros(2, 3, 8, 6, dtype=torch.float64)), "x must have dtype torch.float32"),
    (dict(x=torch.zeros(2, 8, 6)), r"x must have shape \[\*,\*,\*,\*\]"),
    (dict(x=[[0.0]]), "x must be a torch.Tensor"),
    (dict(index=torch.zeros(2, 5, 4, dtype=torch.int32)), "index must have dtype torch.int64"),
    (dict(index=torch.zeros(2, 5, dtype=torch.int64)), r"index must have shape \[\*,\*,\*\]"),
    (dict(index=torch.zeros(3, 5, 4, dtype=torch.int64)), "index has batch size 3, expected 2"),
    (dict(weight=torch.zeros(2, 5, 4, dtype=torch.float64)), "weight must have dtype torch.float32"),
    (dict(weight=torch.zeros(2, 5, 3)), r"weight must have shape \[2,5,4\]"),
    (dict(weight=torch.zeros(3, 5, 4)), r"weight must have shape \[2,5,4\]"),
    (dict(axis=1), "axis must be 2 \\(rows\\) or 3 \\(columns\\), got 1"),
    (dict(axis=4), "axis must be 2"),
    (dict(axis=-1), "axis must be 2"),
    (dict(axis=2.0), "axis must be 2"),
    (dict(axis=True), "axis must be 2"),
    (dict(index=torch.full((2, 5, 4), 8, dtype=torch.int64)), r"index must lie in \[0, 8\) .* max 8"),
    (dict(index=torch.full((2, 5, 4), -1, dtype=torch.int64)), r"index must lie in \[0, 8\) .* min -1"),
    (dict(index=torch.full((2, 5, 4), 6, dtype=torch.int64), axis=3),
     r"index must lie in \[0, 6\) \(x's size along axis 3\)"),
    (dict(index=torch.zeros(2, 5, 4, dtype=torch.int64, device="meta")), "index is on meta but x is on cpu"),
])
def test_bad_input_names_the_argument(args, msg):
    base = _base()
    base.update(args)
    with pytest.raises(ValueError, match=msg):
        resample_taps(**base)


def test_value_check_can_be_skipped():
    base = _base()
    base["index"] = torch.full((2, 5, 4), 99, dtype=torch.int64)
    out = resample_taps(**base, check_values=False)  # clamped by the kernel, no error
    assert out.shape == (2, 3, 5, 6)
    with pytest.raises(ValueError, match="index must lie in"):
        resample_taps(torch.zeros(2, 3, 0, 6), torch.zeros(2, 5, 4, dtype=torch.int64), torch.zeros(2, 5, 4), 2)


@needs_ext
@pytest.mark.parametrize("kwargs,msg", [
    (dict(axis=5), "axis must be 2 \\(rows\\) or 3 \\(columns\\), got 5"),
    (dict(weight=torch.zeros(2, 5, 3)), "weight must match index"),
    (dict(index=torch.zeros(3, 5, 4, dtype=torch.int64), weight=torch.zeros(3, 5, 4)), "index must be"),
    (dict(index=torch.zeros(2, 5, 4, dtype=torch.int32)), "index must be Long"),
    (dict(x=torch.zeros(2, 3, 8)), "input must have 4 dims"),
])
def test_direct_op_calls_are_checked(kwargs, msg):
    base = _base()
    base.update(kwargs)
    with pytest.raises(RuntimeError, match=msg):
        torch.ops.sladd_fast.resample_taps(base["x"], base["index"], base["weight"], base["axis"])


@pytest.mark.parametrize("backend", ["kernel", "reference"])
@pytest.mark.parametrize("case", ["rows", "cols", "no_taps", "empty_batch"])
def test_opcheck_variants(backend, case):
    """test_opcheck.py checks one call per op; these are the other output shapes of the fake kernel."""
    if backend == "kernel" and not ops._library._HAS_CPU:
        pytest.skip("sladd_fast._C not built")
    x, index, weight = _case(2, 3, 20, 30, 25, 4, 2, seed=9)
    args = {"rows": (x, index, weight, 2), "cols": (x, index, weight, 3),
            "no_taps": (x, index[:, :, :0], weight[:, :, :0], 3),
            "empty_batch": (x[:0], index[:0], weight[:0], 2)}[case]
    with ops.use_backend(backend, "cpu"):
        torch.library.opcheck(torch.ops.sladd_fast.resample_taps.default, args)


# resize_u8: Face X-ray's uint8 resizes, both passes and the library's rounding in one op.
def _resize_case(B: int, C: int, H: int, W: int, O: int, T: int, seed: int):
    """uint8 images and taps that mostly stay in [0, 255] (non-negative, summing to about 1) with some
    that overshoot or go negative (the clamps), out-of-range indices (clamped), and zero weights."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (B, C, H, W), generator=g, dtype=torch.uint8)
    index = torch.randint(-2, max(H, W) + 2, (B, O, T), generator=g)
    weight = torch.rand(B, O, T, generator=g) * (torch.rand(B, O, T, generator=g) >= 0.2)
    weight = weight / weight.sum(-1, keepdim=True).clamp(min=1e-3) * (0.8 + 0.6 * torch.rand(B, O, 1, generator=g))
    weight[0, :3, 0] = -0.5
    return x, index, weight


@needs_ext
@pytest.mark.parametrize("rounding", ["floor", "round"])
@pytest.mark.parametrize("shape", [(3, 6, 64, 64, 40, 10), (2, 3, 37, 53, 70, 3), (2, 1, 5, 9, 1, 1)],
                         ids=lambda s: "B{}C{}H{}W{}O{}T{}".format(*s) if isinstance(s, tuple) else s)
def test_resize_u8_equals_float_passes(shape, rounding):
    """The op equals its reference, and both equal the float resize (two resample_taps calls) followed by
    the library's rounding: floor after clipping at the end (skimage), or round half to even and clip
    after each pass (PIL)."""
    from sladd_fast.augment.resample import resize, resize_u8

    B, C, H, W, O, T = shape
    x, index, weight = _resize_case(B, C, H, W, O, T, seed=sum(shape))
    mode = {"floor": 0, "round": 1}[rounding]
    got = torch.ops.sladd_fast.resize_u8(x, index, weight, mode)
    assert got.dtype == torch.uint8 and got.shape == (B, C, O, O)
    assert torch.equal(got, _reference.resize_u8(x, index, weight, mode))
    if rounding == "floor":
        want = resize(x.float(), (index, weight)).clamp(0, 255).floor()
    else:
        want = resize(x.float(), (index, weight), round_passes=True)
    assert torch.equal(got, want.to(torch.uint8))
    assert torch.equal(resize_u8(x, (index, weight), rounding), got)  # the wrapper: the op
    if O > 1:
        assert (got == 0).any() and (got == 255).any()  # both clamps reached


@needs_ext
@pytest.mark.parametrize("rounding", ["floor", "round"])
def test_resize_u8_on_face_xray_canvases_equals_the_reference(rounding):
    """Face X-ray's resizes: an n x n image in an S x S canvas, per-sample n, taps that are zero past n.
    The CPU kernel computes only the rows and columns the result depends on; pixels it skips hold
    noise here, and the result still equals the reference's whole-canvas passes, zeros past n included."""
    from sladd_fast.augment.resample import pil_taps, skimage_taps

    S, B = 96, 5
    g = torch.Generator().manual_seed(11)
    x = torch.randint(0, 256, (B, 3, S, S), generator=g, dtype=torch.uint8)  # noise everywhere
    n = torch.tensor([24, 37, 60, 95, 96])
    full = torch.full_like(n, S)
    mode = {"floor": 0, "round": 1}[rounding]
    cases = {"skimage down": skimage_taps(full, n, S, S, 24), "skimage up": skimage_taps(n, full, S, S, S),
             "pil down": pil_taps(full, n, S, S, 24), "pil up": pil_taps(n, full, S, S, S)}
    for name, (index, weight) in cases.items():
        got = torch.ops.sladd_fast.resize_u8(x, index, weight, mode)
        assert torch.equal(got, _reference.resize_u8(x, index, weight, mode)), name
        if "down" in name:
            for b, k in enumerate(n.tolist()):
                assert (got[b, :, k:] == 0).all() and (got[b, :, :, k:] == 0).all(), (name, b)


@needs_ext
def test_resize_u8_nan_weights_give_zero():
    x, index, weight = _resize_case(2, 3, 16, 16, 12, 4, seed=3)
    weight[1, 5, 0] = float("nan")
    for mode in (0, 1):
        got = torch.ops.sladd_fast.resize_u8(x, index, weight, mode)
        assert torch.equal(got, _reference.resize_u8(x, index, weight, mode))
        assert (got[1, :, 5] == 0).all() and (got[1, :, :, 5] == 0).all()  # row 5 and column 5 read the NaN


@pytest.mark.parametrize("backend", ["kernel", "reference"])
def test_resize_u8_empty_shapes_and_opcheck(backend):
    if backend == "kernel" and not ops._library._HAS_CPU:
        pytest.skip("sladd_fast._C not built")
    x, index, weight = _resize_case(2, 3, 20, 30, 25, 4, seed=9)
    i64 = torch.int64
    with ops.use_backend(backend, "cpu"):
        for args in ((x, index, weight, 1), (x[:0], index[:0], weight[:0], 0), (x, index[:, :0], weight[:, :0], 0),
                     (x, index[:, :, :0], weight[:, :, :0], 1)):
            torch.library.opcheck(torch.ops.sladd_fast.resize_u8.default, args)
        e = torch.ops.sladd_fast.resize_u8(torch.zeros(2, 3, 0, 6, dtype=torch.uint8), torch.zeros(2, 4, 2, dtype=i64),
                                           torch.ones(2, 4, 2), 0)  # no rows to read: 0
        assert e.shape == (2, 3, 4, 4) and (e == 0).all()


def test_resize_u8_modes_are_the_headers():
    """The Python spellings of the rounding modes are resample_math.h's kResizeFloor / kResizeRound."""
    from sladd_fast import _jit
    from sladd_fast.augment.resample import ROUNDING

    c = _jit.constants()
    assert (c["kResizeFloor"], c["kResizeRound"]) == (_reference.RESIZE_FLOOR, _reference.RESIZE_ROUND)
    assert ROUNDING == {"floor": c["kResizeFloor"], "round": c["kResizeRound"]}


@pytest.mark.parametrize("kwargs,msg", [
    (dict(x=torch.zeros(2, 3, 8, 8)), "x must have dtype torch.uint8"),
    (dict(index=torch.zeros(2, 5, 4, dtype=torch.int32)), "index must have dtype torch.int64"),
    (dict(index=torch.zeros(3, 5, 4, dtype=torch.int64)), r"index must have shape \[2,\*,\*\]"),
    (dict(weight=torch.zeros(2, 5, 3)), r"weight must have shape \[2,5,4\]"),
    (dict(rounding="nearest"), "rounding must be 'floor' or 'round'"),
])
def test_resize_u8_bad_input(kwargs, msg):
    from sladd_fast.augment.resample import resize_u8

    args = dict(x=torch.zeros(2, 3, 8, 8, dtype=torch.uint8), index=torch.zeros(2, 5, 4, dtype=torch.int64),
                weight=torch.zeros(2, 5, 4), rounding="floor")
    args.update(kwargs)
    with pytest.raises(ValueError, match=msg):
        resize_u8(args["x"], (args["index"], args["weight"]), args["rounding"])


@needs_ext
@pytest.mark.parametrize("args,msg", [
    ((torch.zeros(2, 3, 8, 8), torch.zeros(2, 5, 4, dtype=torch.int64), torch.zeros(2, 5, 4), 0), "input must be Byte"),
    ((torch.zeros(2, 3, 8, 8, dtype=torch.uint8), torch.zeros(2, 5, 4, dtype=torch.int64), torch.zeros(2, 5, 4), 2),
     "mode must be 0"),
    ((torch.zeros(2, 3, 8, 8, dtype=torch.uint8), torch.zeros(2, 5, 4, dtype=torch.int64), torch.zeros(2, 5, 3), 0),
     "weight must match index"),
])
def test_resize_u8_direct_calls_are_checked(args, msg):
    with pytest.raises(RuntimeError, match=msg):
        torch.ops.sladd_fast.resize_u8(*args)
