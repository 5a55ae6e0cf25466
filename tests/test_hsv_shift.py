"""hsv_shift: CPU kernel vs reference (bit-exact: the same integer RGB -> HSV, fmaf and float32 products in
OpenCV's order), the op vs cv2 + albumentations' lookup tables (sbi_baseline._hsv), the baseline (non-AVX2)
CPU path, the wrapper shift_hsv_u8 (dtypes, layouts, empty shapes), non-finite shifts, bad input. The CUDA
kernel runs on the host in test_cuda_emulated.py (benchmarks/sanitize_ops.py's hsv_shift calls) and on a
GPU in test_cuda_ops.py; the all-2^24-colours check is test_augment.py's."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from helpers import needs_ext
from sladd_fast import ops
from sladd_fast.augment.hsv import HSV_BLOCK, shift_hsv_u8
from sladd_fast.ops import _reference

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WIDTHS = (1, 100, 256, 380, 4089)
NONFINITE = ((float("nan"), float("inf"), float("-inf")), (float("inf"), float("nan"), float("nan")),
             (float("-inf"), float("-inf"), float("inf")))


def _case(B: int, H: int, W: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random uint8 images and shifts: small ones of both signs (SBI's range), large ones (several hue
    turns, saturation / value beyond the whole range) and fractional ones near integers."""
    g = torch.Generator().manual_seed(seed)
    img = torch.randint(0, 256, (B, 3, H, W), generator=g, dtype=torch.uint8)
    shifts = (torch.rand(B, 3, generator=g) * 2 - 1) * 0.3
    big = torch.tensor([[-0.2, -0.1, -0.25], [0.2, 0.1, 0.25], [179.9, -300.0, 7.3], [-37.5, 12.2, -1e6],
                        [-1000.5, 255.0, -255.0], [1e9, -1e-7, 1e-7]])
    shifts[: min(B, len(big))] = big[: min(B, len(big))]
    return img, shifts


@needs_ext
@pytest.mark.parametrize("block", [64, 32, 0])
@pytest.mark.parametrize("W", WIDTHS)
def test_cpu_kernel_equals_reference(W, block):
    img, shifts = _case(6, 7 if W > 1000 else 33, W, seed=W + block)
    got = torch.ops.sladd_fast.hsv_shift(img, shifts, block)
    want = _reference.hsv_shift(img, shifts, block)
    assert got.dtype == torch.uint8 and got.shape == img.shape
    assert torch.equal(got, want)
    assert torch.equal(shift_hsv_u8(img, shifts, block), got)  # the wrapper: the op


@needs_ext
def test_non_finite_shifts_are_defined():
    """NaN moves nothing, an infinite saturation / value shift saturates, an infinite hue shift moves
    nothing; kernel and reference alike."""
    img, _ = _case(3, 20, 70, seed=3)
    shifts = torch.tensor(NONFINITE)
    got = torch.ops.sladd_fast.hsv_shift(img, shifts, 64)
    assert torch.equal(got, _reference.hsv_shift(img, shifts, 64))
    zero = torch.ops.sladd_fast.hsv_shift(img, torch.zeros(3, 3), 64)
    assert torch.equal(got[0], torch.ops.sladd_fast.hsv_shift(img[:1], torch.tensor([[0.0, 256.0, -256.0]]), 64)[0])
    assert torch.equal(got[1], zero[1])


def test_reference_backend_equals_the_wrapper():
    img, shifts = _case(4, 16, 100, seed=5)
    want = shift_hsv_u8(img, shifts, 32)
    with ops.use_backend("reference", "cpu"):
        assert torch.equal(shift_hsv_u8(img, shifts, 32), want)


def _opencv_block() -> int:
    from test_augment import _opencv_hsv_block

    return _opencv_hsv_block()


@pytest.mark.parametrize("W", [256, 100, 1])
def test_op_equals_cv2_and_albumentations_tables(W):
    """shift_hsv_u8 (the op) against sbi_baseline._hsv (cv2.cvtColor both ways, albumentations' uint8
    lookup tables) on random images with this cv2 build's SIMD block."""
    from sladd_fast.augment.sbi_baseline import _hsv

    block = _opencv_block()
    img, shifts = _case(8, 64 if W > 1 else 500, W, seed=40 + W)
    shifts[4:] = torch.tensor([[-0.1, 0.2, -0.3], [0.1, -0.2, 0.0], [-5.5, 3.2, -7.9], [90.0, -0.05, 0.29]])
    got = shift_hsv_u8(img, shifts, block)
    for k in range(8):
        ref = _hsv(img[k].permute(1, 2, 0).numpy().copy(), tuple(float(x) for x in shifts[k].tolist()))
        assert np.array_equal(got[k].permute(1, 2, 0).numpy(), ref), (W, k)


def test_shifts_beyond_float32_precision_keep_their_tables():
    """A shift beyond 2^24 in magnitude, which float32 would round (16777217 -> 16777216: hue 137 -> 136
    mod 180), is reduced exactly before the op takes it as float32: float64 and int64 shifts equal
    albumentations' tables (sbi_baseline._hsv; magnitudes below 2^53 - 256, where numpy's float64 sum
    is exact)."""
    from sladd_fast.augment.sbi_baseline import _hsv

    block = _opencv_block()
    img, _ = _case(6, 16, 70, seed=11)
    shifts = torch.tensor([[16777217.0, 0.0, 0.0], [-16777217.0, 2.0**40 + 3, -(2.0**40) - 3],
                           [1e15 + 7.5, 16777217.0, -16777217.0], [-(2.0**50) - 0.5, 300.25, -300.75],
                           [2.0**52 + 179, 1e300, -1e300], [33554431.0, -16777473.0, 16777473.0]],
                          dtype=torch.float64)
    got = shift_hsv_u8(img, shifts, block)
    for k in range(len(shifts)):
        ref = _hsv(img[k].permute(1, 2, 0).numpy().copy(), tuple(shifts[k].tolist()))
        assert np.array_equal(got[k].permute(1, 2, 0).numpy(), ref), k
    assert not torch.equal(got[0], shift_hsv_u8(img[:1], shifts[:1].float(), block)[0])  # float32 rounds it
    ints = torch.tensor([[16777217, 0, 0], [-(2**62) - 1, 2**62, -(2**40)]])  # int64: reduced in int64
    reduced = torch.tensor([[16777217 % 180, 0, 0], [-((2**62 + 1) % 180), 256, -256]], dtype=torch.float32)
    assert torch.equal(shift_hsv_u8(img[:2], ints, block), shift_hsv_u8(img[:2], reduced, block))
    assert torch.equal(shift_hsv_u8(img[:1], ints[:1], block), got[:1])


@needs_ext
def test_baseline_cpu_path_equals_reference():
    """SLADD_FAST_NO_AVX2=1 runs the SSE2 loops (the AVX2 + FMA ones are picked where the CPU has them):
    the same values, bit for bit."""
    code = """
import torch, sys
sys.path.insert(0, "tests")
from test_hsv_shift import NONFINITE, WIDTHS, _case
from sladd_fast.ops import _reference
for W in WIDTHS:
    for block in (64, 32, 0):
        img, sh = _case(6, 7 if W > 1000 else 33, W, seed=W + block)
        assert torch.equal(torch.ops.sladd_fast.hsv_shift(img, sh, block), _reference.hsv_shift(img, sh, block))
img, _ = _case(3, 20, 70, seed=3)
sh = torch.tensor(NONFINITE)
assert torch.equal(torch.ops.sladd_fast.hsv_shift(img, sh, 64), _reference.hsv_shift(img, sh, 64))
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "SLADD_FAST_NO_AVX2": "1", "SLADD_FAST_BACKEND": "kernel"})
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]


def test_wrapper_dtypes_and_layouts():
    """Any real dtype in and out (clamped to 0..255), shifts floored in their own dtype (a float64 shift
    just below 0 moves one level down, as numpy's tables), non-contiguous input, empty shapes."""
    img, shifts = _case(4, 20, 50, seed=6)
    want = shift_hsv_u8(img, shifts)
    for dt in (torch.float32, torch.float64, torch.int32, torch.int64, torch.int16):
        got = shift_hsv_u8(img.to(dt), shifts)
        assert got.dtype == dt and torch.equal(got, want.to(dt)), dt
    assert torch.equal(shift_hsv_u8(img.float() - 300, shifts), shift_hsv_u8(torch.zeros_like(img), shifts).float())
    assert torch.equal(shift_hsv_u8(img, shifts.double()), want)
    tiny = torch.full((4, 3), -1e-300, dtype=torch.float64)  # float32 would round it to -0.0: no move
    assert torch.equal(shift_hsv_u8(img, tiny), shift_hsv_u8(img, torch.full((4, 3), -0.5)))
    ints = torch.tensor([[-1, 2, 0]] * 4)
    assert torch.equal(shift_hsv_u8(img, ints), shift_hsv_u8(img, ints.float()))
    nhwc = img.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)  # channels-last strides
    assert torch.equal(shift_hsv_u8(nhwc, shifts), want)
    assert torch.equal(shift_hsv_u8(img[:, :, :, ::2], shifts), shift_hsv_u8(img[:, :, :, ::2].contiguous(), shifts))
    assert shift_hsv_u8(img[:0], shifts[:0]).shape == (0, 3, 20, 50)
    assert shift_hsv_u8(img[:, :, :0], shifts).shape == (4, 3, 0, 50)
    assert shift_hsv_u8(img[:, :, :, :0], shifts).shape == (4, 3, 20, 0)
    assert HSV_BLOCK == 64


@pytest.mark.parametrize("kwargs,msg", [
    (dict(rgb=[[0]]), "rgb must be a torch.Tensor"),
    (dict(rgb=torch.zeros(2, 4, 8, 8, dtype=torch.uint8)), r"rgb must have shape \[\*,3,\*,\*\]"),
    (dict(rgb=torch.zeros(3, 8, 8, dtype=torch.uint8)), r"rgb must have shape \[\*,3,\*,\*\]"),
    (dict(rgb=torch.zeros(2, 3, 8, 8, dtype=torch.bool)), "rgb must have a real dtype"),
    (dict(shifts=np.zeros((2, 3))), "shifts must be a torch.Tensor"),
    (dict(shifts=torch.zeros(3, 3)), r"shifts must have shape \[2,3\]"),
    (dict(shifts=torch.zeros(2, 2)), r"shifts must have shape \[2,3\]"),
    (dict(shifts=torch.zeros(2, 3, dtype=torch.complex64)), "shifts must have a floating or integer dtype"),
    (dict(shifts=torch.zeros(2, 3, device="meta")), "shifts is on meta but rgb is on cpu"),
    (dict(block=-1), "block must be an int >= 0"),
    (dict(block=64.0), "block must be an int >= 0"),
    (dict(block=True), "block must be an int >= 0"),
])
def test_bad_input_names_the_argument(kwargs, msg):
    args = dict(rgb=torch.zeros(2, 3, 8, 8, dtype=torch.uint8), shifts=torch.zeros(2, 3), block=64)
    args.update(kwargs)
    with pytest.raises(ValueError, match=msg):
        shift_hsv_u8(**args)


@needs_ext
@pytest.mark.parametrize("kwargs,msg", [
    (dict(rgb=torch.zeros(2, 3, 8, 8)), "rgb must be Byte"),
    (dict(rgb=torch.zeros(2, 4, 8, 8, dtype=torch.uint8)), r"rgb must be \[B,3,H,W\]"),
    (dict(shifts=torch.zeros(2, 3, dtype=torch.float64)), "shifts must be Float"),
    (dict(shifts=torch.zeros(3, 3)), r"shifts must be \[B,3\]"),
    (dict(shifts=torch.zeros(2, 3, 1)), "shifts must have 2 dims"),
    (dict(block=-1), "block must be >= 0"),
])
def test_direct_op_calls_are_checked(kwargs, msg):
    args = dict(rgb=torch.zeros(2, 3, 8, 8, dtype=torch.uint8), shifts=torch.zeros(2, 3), block=64)
    args.update(kwargs)
    with pytest.raises(RuntimeError, match=msg):
        torch.ops.sladd_fast.hsv_shift(args["rgb"], args["shifts"], args["block"])


@pytest.mark.parametrize("backend", ["kernel", "reference"])
@pytest.mark.parametrize("case", ["tail", "no_block", "empty_batch", "empty_row"])
def test_opcheck_variants(backend, case):
    """test_opcheck.py checks one call per op; these are the edge shapes."""
    if backend == "kernel" and not ops._library._HAS_CPU:
        pytest.skip("sladd_fast._C not built")
    img, shifts = _case(3, 9, 70, seed=8)
    args = {"tail": (img, shifts, 64), "no_block": (img, shifts, 0), "empty_batch": (img[:0], shifts[:0], 64),
            "empty_row": (img[:, :, :, :0], shifts, 64)}[case]
    with ops.use_backend(backend, "cpu"):
        torch.library.opcheck(torch.ops.sladd_fast.hsv_shift.default, args)
