"""The emulated JPEG round trip (csrc jpeg_round_trip, common/jpeg_math.h; augment/jpeg.py): kernel against
its PyTorch reference bit for bit, the tables against their sources, selection, and bad input. Closeness to
a real cv2 round trip is tested with Face X-ray (test_augment.py)."""
from __future__ import annotations

import math
import os
import re

import pytest
import torch

from helpers import face_batch, needs_ext
from sladd_fast._ext import has_ops
from sladd_fast.augment.jpeg import jpeg_round_trip, quant_tables
from sladd_fast.ops import _reference

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _images(B: int, H: int, W: int, seed: int) -> torch.Tensor:
    """Noise, faces and a smooth ramp: every quantisation regime."""
    g = torch.Generator().manual_seed(seed)
    img = torch.randint(0, 256, (B, 3, H, W), generator=g, dtype=torch.uint8)
    faces, _ = face_batch(1, seed, size=max(H, W))
    img[0] = faces[0, :, :H, :W]
    if B > 1:
        ramp = torch.arange(H)[:, None] * 3 + torch.arange(W)[None] * 2
        img[1] = torch.stack([ramp, 255 - ramp, ramp // 2]).clamp(0, 255).to(torch.uint8)
    return img


@needs_ext
@pytest.mark.parametrize("shape", [(5, 64, 64), (3, 37, 53), (2, 1, 1), (2, 16, 250), (2, 256, 256)])
def test_kernel_equals_reference(shape):
    """The same float32 operations in the same order (common/jpeg_math.h's header comment): equal bits, for
    sides that are and are not multiples of 16, RGB and BGR, qualities past [1, 100] (clamped)."""
    B, H, W = shape
    img = _images(B, H, W, seed=H + W)
    q = torch.tensor([60, 100, 1, 0, 250])[:B]
    sel = torch.tensor([True, True, False, True, True])[:B]
    for bgr in (False, True):
        got = torch.ops.sladd_fast.jpeg_round_trip(img, q, sel, bgr)
        want = _reference.jpeg_round_trip(img, q, sel, bgr)
        assert got.dtype == torch.uint8 and got.shape == img.shape
        assert torch.equal(got, want), (shape, bgr)
    assert not torch.equal(got[0], img[0])  # the round trip did something


@needs_ext
def test_baseline_cpu_copy_equals_reference():
    """SLADD_FAST_NO_AVX2=1 runs the SSE2 copy of the CPU loops (the AVX2 copy, with the block coding
    inlined into it, is picked where the CPU has AVX2): the same bits, in a fresh process (the choice is
    made once per process)."""
    import subprocess
    import sys

    code = """
import torch, sys
sys.path.insert(0, "tests")
from test_jpeg import _images
from sladd_fast.ops import _reference
img = _images(3, 37, 53, seed=4)
q, sel = torch.tensor([60, 100, 5]), torch.tensor([True, False, True])
for bgr in (False, True):
    assert torch.equal(torch.ops.sladd_fast.jpeg_round_trip(img, q, sel, bgr), _reference.jpeg_round_trip(img, q, sel, bgr))
print("ok")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "SLADD_FAST_NO_AVX2": "1", "SLADD_FAST_BACKEND": "kernel"})
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]


def test_header_dct_equals_the_reference_matrix():
    """jpeg_math.h's 64 DCT literals are the float32 rounding of the float64 matrix the reference builds."""
    with open(os.path.join(ROOT, "csrc", "common", "jpeg_math.h")) as f:
        body = f.read().split("const float D[64] = {", 1)[1].split("};", 1)[0]
    values = torch.tensor([float(v) for v in re.findall(r"-?\d+\.\d+(?:e-?\d+)?(?=f)", body)], dtype=torch.float32)
    assert values.shape == (64,)
    assert torch.equal(values.view(8, 8), _reference.jpeg_dct_matrix("cpu"))
    d = _reference.jpeg_dct_matrix("cpu").double()
    assert torch.allclose(d @ d.T, torch.eye(8, dtype=torch.float64), atol=1e-6)  # orthonormal


def test_quant_tables_follow_jcparam():
    """IJG's jpeg_quality_scaling and jpeg_add_quant_table (baseline), at every quality, from their text:
    q < 50: 5000 / q, else 200 - 2q; (base * scale + 50) / 100, clamped to [1, 255]; q clamped to [1, 100]."""
    q = torch.arange(-2, 103)
    lum, chroma = quant_tables(q)
    for k, qq in enumerate(q.tolist()):
        c = min(max(qq, 1), 100)
        scale = 5000 // c if c < 50 else 200 - 2 * c
        for got, base in ((lum[k], _reference.JPEG_LUMA), (chroma[k], _reference.JPEG_CHROMA)):
            want = [min(max((b * scale + 50) // 100, 1), 255) for b in base]
            assert got.tolist() == [float(v) for v in want], qq
    assert lum[q == 50].tolist()[0] == [float(v) for v in _reference.JPEG_LUMA]  # quality 50: the base table
    assert (lum[q == 100] == 1).all()


@pytest.mark.parametrize("backend", ["reference"] + (["kernel"] if has_ops() else []))
def test_selection_and_batch_independence(backend):
    """Unselected samples come back as given; a sample's output depends on itself only (not on the batch
    or its position in it)."""
    from sladd_fast import ops

    img = _images(4, 48, 40, seed=3)
    q = torch.tensor([70, 90, 65, 100])
    with ops.use_backend(backend, "cpu"):
        out = jpeg_round_trip(img, q, select=torch.tensor([True, False, True, False]))
        assert torch.equal(out[1], img[1]) and torch.equal(out[3], img[3])
        alone = jpeg_round_trip(img[2:3], q[2:3])
        assert torch.equal(out[2], alone[0]) and not torch.equal(out[2], img[2])
        everyone = jpeg_round_trip(img, q)  # select defaults to all
        assert torch.equal(everyone[0], out[0]) and not torch.equal(everyone[1], img[1])


def test_psnr_falls_with_quality():
    """A coarser table loses more: PSNR to the input rises with quality (faces: no noise to hide it; 4:2:0
    chroma caps it near 31 dB on these rendered faces, as in cv2's own round trip)."""
    from helpers import psnr

    img = face_batch(1, 11, size=96)[0].expand(4, -1, -1, -1).contiguous()
    out = jpeg_round_trip(img, torch.tensor([10, 40, 75, 98]))
    scores = [psnr(out[k].permute(1, 2, 0).numpy(), img[k].permute(1, 2, 0).numpy()) for k in range(4)]
    assert scores == sorted(scores) and scores[0] < scores[-1] - 4 and math.isfinite(scores[-1])


@pytest.mark.parametrize("kwargs, match", [
    ({"images": torch.zeros(2, 3, 8, 8)}, "images must be uint8"),
    ({"images": torch.zeros(2, 4, 8, 8, dtype=torch.uint8)}, r"images must be uint8 \[B,3,H,W\]"),
    ({"images": torch.zeros(2, 3, 0, 8, dtype=torch.uint8)}, "H, W >= 1"),
    ({"images": [[1]]}, "images must be uint8"),
    ({"quality": torch.tensor([75])}, r"quality must have shape \[2\]"),
    ({"quality": torch.tensor([75.0, 80.0])}, "quality must have dtype torch.int64"),
    ({"quality": 75}, "quality must be a torch.Tensor"),
    ({"select": torch.tensor([1, 0])}, "select must have dtype torch.bool"),
    ({"select": torch.tensor([True])}, r"select must have shape \[2\]"),
])
def test_bad_input_is_named(kwargs, match):
    args = {"images": torch.zeros(2, 3, 8, 8, dtype=torch.uint8), "quality": torch.tensor([75, 80]), "select": None}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        jpeg_round_trip(args["images"], args["quality"], select=args["select"])


@needs_ext
@pytest.mark.parametrize("args, match", [
    ((torch.zeros(2, 3, 8, 8), torch.tensor([75, 80]), torch.ones(2, dtype=torch.bool), False), "images must be"),
    ((torch.zeros(2, 3, 8, 8, dtype=torch.uint8), torch.tensor([75]), torch.ones(2, dtype=torch.bool), False),
     "quality must be"),
    ((torch.zeros(2, 3, 8, 8, dtype=torch.uint8), torch.tensor([75, 80]), torch.ones(3, dtype=torch.bool), False),
     "select must be"),
    ((torch.zeros(2, 1, 8, 8, dtype=torch.uint8), torch.tensor([75, 80]), torch.ones(2, dtype=torch.bool), False),
     r"images must be \[B,3,H,W\]"),
])
def test_kernel_checks_direct_calls(args, match):
    with pytest.raises(RuntimeError, match=match):
        torch.ops.sladd_fast.jpeg_round_trip(*args)


@pytest.mark.parametrize("size", [(40, 40), (58, 36), (37, 53)])
def test_edges_as_close_to_cv2_as_the_interior(size):
    """Sides that are not multiples of 16: libjpeg pads the downsampled chroma rows at the bottom and
    upsamples from the image's own chroma samples, not the MCU padding; emulated, the last rows and
    columns are about as close to cv2's round trip as the interior (they were 5x further before)."""
    import cv2
    import numpy as np

    H, W = size
    img = torch.randint(0, 256, (2, 3, H, W), generator=torch.Generator().manual_seed(H * W), dtype=torch.uint8)
    img[1] = _images(1, H, W, seed=5)[0]
    q = torch.tensor([75, 95])
    got = jpeg_round_trip(img, q, bgr=True)
    for k in range(2):
        x = img[k].permute(1, 2, 0).numpy().copy()
        ref = cv2.imdecode(cv2.imencode(".jpg", x, [int(cv2.IMWRITE_JPEG_QUALITY), int(q[k])])[1], cv2.IMREAD_COLOR)
        d = np.abs(got[k].permute(1, 2, 0).numpy().astype(int) - ref.astype(int)).mean(2)
        inner = d[:-8, :-8].mean()
        assert d[-4:].mean() <= 2.5 * inner + 0.5 and d[:, -4:].mean() <= 2.5 * inner + 0.5, (k, d[-4:].mean(), inner)
