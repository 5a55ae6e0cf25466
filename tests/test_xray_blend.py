"""xray_blend (csrc, common/xray_math.h; ops.blend.xray_blend): Face X-ray's colour transfer and feathered
blend in one op. Kernel against its reference bit for bit, the reference against the float formula the
mode used before (equal on binary masks: its float sums were exact integers), edge cases, bad input. The
CUDA kernels run on the host in test_cuda_emulated.py and on a GPU in test_cuda_ops.py."""
from __future__ import annotations

import pytest
import torch

from helpers import face_batch, needs_ext
from sladd_fast.ops import _reference
from sladd_fast.ops.blend import hull_feather, xray_blend


def _case(B: int, H: int, W: int, seed: int):
    """Faces (target and partner), binary blob masks (one empty), their feather weights."""
    g = torch.Generator().manual_seed(seed)
    tgt, _ = face_batch(B, seed, size=max(H, W))
    src, _ = face_batch(B, seed + 1, size=max(H, W))
    both = torch.cat([tgt, src], 1)[:, :, :H, :W].contiguous()
    yy, xx = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
    cy, cx = torch.rand(B, 1, 1, generator=g) * H, torch.rand(B, 1, 1, generator=g) * W
    r = 0.15 * min(H, W) + torch.rand(B, 1, 1, generator=g) * 0.3 * min(H, W)
    mask = (((yy - cy) ** 2 + (xx - cx) ** 2) < r**2).float()[:, None]
    mask[0] = 0  # empty: no shift, weight 0
    weight = hull_feather(mask, torch.full((B,), 0.2))
    return both, mask, weight


def _former(both: torch.Tensor, mask: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Face X-ray's steps 6-7 as the mode wrote them in float PyTorch ops before this op."""
    both = both.float()
    bg, fg = both[:, :3], both[:, 3:]
    area = mask.sum((2, 3)).clamp(min=1)
    shift = ((bg - fg) * mask).sum((2, 3)) / area
    fg = torch.where(mask > 0, (fg + shift[:, :, None, None]).clamp(0, 255).floor(), fg)
    return (w * fg + (1 - w) * bg).floor().to(torch.uint8)


@needs_ext
@pytest.mark.parametrize("shape", [(5, 64, 64), (3, 37, 53), (2, 256, 256), (2, 1, 1)])
def test_kernel_equals_reference_and_the_former_formula(shape):
    both, mask, weight = _case(*shape, seed=sum(shape))
    got = torch.ops.sladd_fast.xray_blend(both, mask, weight)
    assert got.dtype == torch.uint8 and got.shape == (shape[0], 3) + shape[1:]
    assert torch.equal(got, _reference.xray_blend(both, mask, weight))
    assert torch.equal(got, _former(both, mask, weight))
    assert torch.equal(got[0], both[0, :3])  # empty mask: weight 0, the target unchanged
    if shape[1] > 1:
        inside = mask[1:, 0] > 0
        assert (got[1:] != both[1:, :3]).any(1)[inside].float().mean() > 0.3  # the partner shows inside


@needs_ext
def test_shift_moves_the_partner_to_the_targets_mean():
    """With weight 1 inside the mask, the output's mean there is the target's, up to the truncation."""
    both, mask, _ = _case(3, 64, 64, seed=4)
    both[:, 3:] = (60 + both[:, 3:].int() // 16).to(torch.uint8)  # a low-contrast partner: the shift never clips
    out = xray_blend(both, mask, mask.clone())
    on = mask[:, 0] > 0
    for b in (1, 2):
        got = out[b].float()[:, on[b]].mean(1)
        want = both[b, :3].float()[:, on[b]].mean(1)
        assert ((want - got) >= 0).all() and ((want - got) < 1.0).all()  # floor: at most one level below


@needs_ext
def test_edge_values():
    """Weights outside [0, 1] and NaN clamp (NaN -> 0); a non-binary mask counts mask > 0 as inside."""
    both, mask, weight = _case(2, 32, 32, seed=6)
    mask[1] *= 0.5
    mask[1, 0, :4] = -1.0
    weight[1, 0, 5] = float("nan")
    weight[1, 0, 6] = 3.0
    weight[1, 0, 7] = -2.0
    got = torch.ops.sladd_fast.xray_blend(both, mask, weight)
    assert torch.equal(got, _reference.xray_blend(both, mask, weight))
    assert (got[1, :, 5] == 0).all()


@pytest.mark.parametrize("kwargs,msg", [
    (dict(both=torch.zeros(2, 6, 8, 8)), "both must have dtype torch.uint8"),
    (dict(both=torch.zeros(2, 3, 8, 8, dtype=torch.uint8)), r"both must have shape \[\*,6,\*,\*\]"),
    (dict(mask=torch.zeros(2, 1, 8, 9)), r"mask must have shape \[2,1,8,8\]"),
    (dict(mask=torch.zeros(2, 1, 8, 8, dtype=torch.float64)), "mask must have dtype torch.float32"),
    (dict(weight=torch.zeros(3, 1, 8, 8)), r"weight must have shape \[2,1,8,8\]"),
    (dict(weight=[0.5]), "weight must be a torch.Tensor"),
])
def test_bad_input_is_named(kwargs, msg):
    args = dict(both=torch.zeros(2, 6, 8, 8, dtype=torch.uint8), mask=torch.zeros(2, 1, 8, 8),
                weight=torch.zeros(2, 1, 8, 8))
    args.update(kwargs)
    with pytest.raises(ValueError, match=msg):
        xray_blend(args["both"], args["mask"], args["weight"])


@needs_ext
@pytest.mark.parametrize("args,msg", [
    ((torch.zeros(2, 6, 8, 8), torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 8, 8)), "both must be Byte"),
    ((torch.zeros(2, 5, 8, 8, dtype=torch.uint8), torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 8, 8)),
     r"both must be \[B,6"),
    ((torch.zeros(2, 6, 8, 8, dtype=torch.uint8), torch.zeros(2, 1, 8, 7), torch.zeros(2, 1, 8, 8)), "mask must be"),
    ((torch.zeros(2, 6, 8, 8, dtype=torch.uint8), torch.zeros(2, 1, 8, 8), torch.zeros(1, 1, 8, 8)), "weight must be"),
])
def test_kernel_checks_direct_calls(args, msg):
    with pytest.raises(RuntimeError, match=msg):
        torch.ops.sladd_fast.xray_blend(*args)
