"""blur_in_box and blur_support: CPU kernel vs reference (bit-exact), vs a whole-image blur, OpenCV, edge cases, bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import face_batch, landmarks, needs_ext
from sladd_fast import ops
from sladd_fast.ops import _reference
from sladd_fast.synthesis.filters import blur_in_box, blur_support, gaussian_kernels, separable_blur


def _case(B: int = 6, C: int = 3, H: int = 64, W: int = 80, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(B, C, H, W, generator=g) * 255
    k = torch.tensor([1, 3, 7, 15, 41, 61])[:B]
    kernels = gaussian_kernels(k, 61)
    box = torch.tensor([[10, 5, 30, 20], [0, 0, W, H], [W - 12, H - 9, 12, 9], [-5, 40, 20, 40],
                        [3, 3, 0, 10], [20, 10, 50, 50]])[:B]  # inside, whole, corner, clipped, empty, any
    return x, kernels, k // 2, box


@needs_ext
def test_kernel_equals_reference():
    x, kernels, r, box = _case()
    got = torch.ops.sladd_fast.blur_in_box(x, kernels, r, box)
    want = _reference.blur_in_box(x, kernels, r, box)
    assert torch.equal(got, want)  # the same products added in the same order
    assert (got[4] == 0).all()  # empty box


@needs_ext
def test_uint8_input_gives_the_float_blur_rounded():
    """uint8 planes (faceswap's): the float blur of the same values, rounded half up to uint8, on the kernel
    and on the reference, the empty box's zeros included."""
    x, kernels, r, box = _case()
    x8 = x.round().to(torch.uint8)
    got = torch.ops.sladd_fast.blur_in_box(x8, kernels, r, box)
    assert got.dtype == torch.uint8 and torch.equal(got, _reference.blur_in_box(x8, kernels, r, box))
    f = torch.ops.sladd_fast.blur_in_box(x8.float(), kernels, r, box)
    assert torch.equal(got, torch.floor(f + 0.5).clamp(0, 255).to(torch.uint8))
    assert blur_in_box(x8, kernels, r, box).dtype == torch.uint8  # the public wrapper takes uint8 too


@needs_ext
def test_baseline_cpu_path_equals_reference(tmp_path):
    """SLADD_FAST_NO_AVX2=1 runs the SSE2 loops (the AVX2 copy is picked where the CPU has AVX2): the
    same values, bit for bit, in a fresh process (the choice is made once per process)."""
    from helpers import run_cpu_copy

    code = """
import torch, sys
sys.path.insert(0, "tests")
from test_blur_in_box import _case
out = []
for seed, (H, W) in enumerate([(64, 80), (33, 17), (256, 256)]):
    x, kernels, r, box = _case(H=H, W=W, seed=seed)
    out += [torch.ops.sladd_fast.blur_in_box(x, kernels, r, box),
            torch.ops.sladd_fast.blur_in_box(x.to(torch.uint8), kernels, r, box)]
torch.save(out, sys.argv[1])
"""
    got = run_cpu_copy(code, str(tmp_path / "out.pt"))
    for seed, (H, W) in enumerate([(64, 80), (33, 17), (256, 256)]):
        x, kernels, r, box = _case(H=H, W=W, seed=seed)
        assert torch.equal(got[2 * seed], _reference.blur_in_box(x, kernels, r, box))
        x8 = x.to(torch.uint8)
        assert torch.equal(got[2 * seed + 1], _reference.blur_in_box(x8, kernels, r, box))


@needs_ext
def test_radius_larger_than_image_reflects():
    x, kernels, _, box = _case(B=2, H=9, W=7)
    r = torch.tensor([30, 30])  # clamped to K // 2 = 30 > image side: reflect-101 wraps repeatedly
    assert torch.equal(torch.ops.sladd_fast.blur_in_box(x, kernels[:2], r, box[:2]),
                       _reference.blur_in_box(x, kernels[:2], r, box[:2]))


def test_equals_whole_image_blur_of_a_masked_image():
    """Inside the box, the box-restricted blur of an image that is zero outside the box is the
    whole-image blur (the faceswap use)."""
    x, kernels, r, box = _case(B=4)
    inside = torch.zeros(4, 1, 64, 80, dtype=torch.bool)
    for b, (bx, by, bw, bh) in enumerate(box.tolist()):
        inside[b, :, max(by, 0):by + bh, max(bx, 0):bx + bw] = True
    xm = torch.where(inside, x, 0.0)
    whole = separable_blur(xm, kernels)
    got = blur_in_box(xm, kernels, r, box)
    assert ((got - whole).abs() * inside).max() < 1e-3
    assert (got[~inside.expand_as(got)] == 0).all()


def test_gaussian_kernels_match_opencv():
    cv2 = pytest.importorskip("cv2")
    ks = torch.arange(1, 64, 2)
    ours = gaussian_kernels(ks, 63)
    for i, k in enumerate(ks.tolist()):
        ref = cv2.getGaussianKernel(k, 0).ravel()
        assert np.abs(ours[i, 31 - k // 2:32 + k // 2].numpy() - ref).max() < 1e-7, k


def test_matches_opencv_gaussian_blur():
    cv2 = pytest.importorskip("cv2")
    img, _ = face_batch(2, 4, size=96)
    k = torch.tensor([9, 31])
    x = img.float()
    got = blur_in_box(x, gaussian_kernels(k, 31), k // 2, torch.tensor([[0, 0, 96, 96]] * 2))
    for b in range(2):
        ref = cv2.GaussianBlur(x[b].permute(1, 2, 0).numpy(), (int(k[b]), int(k[b])), 0)
        assert np.abs(got[b].permute(1, 2, 0).numpy() - ref).max() < 1e-2


def test_empty_batch_and_noncontiguous():
    x, kernels, r, box = _case(B=3)
    assert blur_in_box(x[:0], kernels[:0], r[:0], box[:0]).shape == (0, 3, 64, 80)
    xt = x.transpose(2, 3)  # non-contiguous [B,C,W,H]
    assert torch.equal(blur_in_box(xt, kernels, r, box), blur_in_box(xt.contiguous(), kernels, r, box))


@pytest.mark.parametrize("args,msg", [
    (dict(x=torch.zeros(2, 3, 8, 8, dtype=torch.float64)), "x must have dtype torch.float32"),
    (dict(kernels=torch.zeros(2, 4)), "odd length"),
    (dict(kernels=torch.zeros(3, 5)), r"kernels must have shape \[2,\*\]"),
    (dict(radius=torch.zeros(2, dtype=torch.int32)), "radius must have dtype torch.int64"),
    (dict(box=torch.zeros(2, 3, dtype=torch.int64)), r"box must have shape \[2,4\]"),
])
def test_bad_input_names_the_argument(args, msg):
    base = dict(x=torch.zeros(2, 3, 8, 8), kernels=torch.zeros(2, 5), radius=torch.zeros(2, dtype=torch.int64),
                box=torch.zeros(2, 4, dtype=torch.int64))
    base.update(args)
    with pytest.raises(ValueError, match=msg):
        blur_in_box(**base)


@needs_ext
def test_direct_op_calls_are_checked():
    with pytest.raises(RuntimeError, match="box must be"):
        torch.ops.sladd_fast.blur_in_box(torch.zeros(1, 1, 4, 4), torch.ones(1, 3), torch.ones(1, dtype=torch.int64),
                                         torch.zeros(1, 2, dtype=torch.int64))


def test_blur_support_equals_whole_image_blur_on_masks():
    m = ops.region_mask(landmarks(6, 3, 96), torch.arange(6) % 10, 96)
    m[5] = 0  # an empty mask stays empty
    m[4, :, :3, :10] = 1  # support touching the image border: reflect-101 reaches back inside
    k = torch.tensor([1, 5, 9, 13, 17, 17])
    g = gaussian_kernels(k, 17)
    got = blur_support(m, g, k // 2)
    assert (got - separable_blur(m, g)).abs().max() < 1e-5
    assert (got[5] == 0).all()
    # several channels: the box covers every channel's support (one plane's alone would cut the others')
    x = torch.cat([m, m.flip(-1), m.flip(-2)], 1)
    assert (blur_support(x, g, k // 2) - separable_blur(x, g)).abs().max() < 1e-5


@needs_ext
def test_extreme_boxes_are_clipped_not_overflowed():
    x = torch.rand(2, 1, 8, 8) * 255
    g = gaussian_kernels(torch.tensor([3, 3]), 3)
    r = torch.tensor([1, 1])
    big = 2**62
    box = torch.tensor([[big, 0, big, 8], [-big // 2, -big // 2, big, 2**63 - 1]])  # end past int64
    got = torch.ops.sladd_fast.blur_in_box(x, g, r, box)
    assert (got[0] == 0).all()  # starts past the image: empty
    whole = torch.ops.sladd_fast.blur_in_box(x[1:], g[1:], r[1:], torch.tensor([[0, 0, 8, 8]]))
    assert torch.equal(got[1:], whole)  # covers the image: the whole-image blur
    assert torch.equal(got, _reference.blur_in_box(x, g, r, box))
