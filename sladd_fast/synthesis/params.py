"""Every random decision of a synthesis batch, as explicit tensors drawn once on the batch's device."""
from __future__ import annotations

import dataclasses

import torch

from sladd_fast._consts import const
from sladd_fast.synthesis.constants import ColorMode

MESH = 5  # random_deform's 5x5 anchor mesh
DEFORM_STD = 10.0  # px at 256 (spec §3.2); scaled with the canvas
MORPH_ERODE, MORPH_DILATE, MORPH_NONE = 0, 1, 2


@dataclasses.dataclass(frozen=True)
class SynthesisParams:
    """Random draws for one batch of B samples (all on one device).

    Attributes:
        deform_noise: float32 [B,5,5,2], integer-valued displacement (x, y) in px of each mesh anchor,
            floor(N(0, 10 * S/256)): SLADD casts the clipped, non-negative target anchor + N to int32,
            which floors it (mean -0.5 px, not a truncation towards 0).
        morph_op: int64 [B], 0 erode (u < 0.3), 1 dilate (u < 0.6), 2 none.
        morph_k: int64 [B], square kernel side in {3, 5, ..., 19}.
        blur_k: int64 [B], Gaussian kernel side in {1, 3, ..., 17}; 1 = no blur (also the 10% skip).
        color_mode: int64 [B], a ColorMode.
        feather: float32 [B], SLADD's featherAmount = 0.2 u, u ~ U[0,1).
    """

    deform_noise: torch.Tensor
    morph_op: torch.Tensor
    morph_k: torch.Tensor
    blur_k: torch.Tensor
    color_mode: torch.Tensor
    feather: torch.Tensor

    def to(self, device: torch.device | str) -> "SynthesisParams":
        return SynthesisParams(**{f.name: getattr(self, f.name).to(device) for f in dataclasses.fields(self)})

    def __len__(self) -> int:
        return int(self.morph_op.shape[0])


def sample_params(batch: int, size: int = 256, device: torch.device | str = "cpu",
                  generator: torch.Generator | None = None) -> SynthesisParams:
    """Draws SynthesisParams for ``batch`` samples on ``device`` from ``generator`` (spec §3.2-3.6).

    The generator must live on ``device``; the same generator state replays the same params.
    """
    dev = torch.device(device)
    g = generator
    noise = torch.randn(batch, MESH, MESH, 2, generator=g, device=dev).mul_(DEFORM_STD * size / 256.0).floor_()
    # The other decisions from one uniform draw [B,6] (each separate draw is a launch on a GPU): columns
    # morph op, morph k, blur on, blur k, colour mode, feather. An integer in {0..n-1} is floor(n u).
    u = torch.rand(batch, 6, generator=g, device=dev)
    ints = (u[:, :5] * const((1.0, 9.0, 1.0, 9.0, float(len(ColorMode))), dev)).floor_().long()
    morph_op = (u[:, :1] >= const((0.3, 0.6), dev)).sum(1)  # 0 erode (u < 0.3), 1 dilate (u < 0.6), 2 none
    odd = ints[:, 1::2] * 2 + const((3, 1), dev, torch.int64)  # morph k in {3..19}, blur k in {1..17}
    blur_k = torch.where(u[:, 2] < 0.9, odd[:, 1], 1)  # 10% no blur
    return SynthesisParams(noise, morph_op, odd[:, 0].contiguous(), blur_k, ints[:, 4].contiguous(), 0.2 * u[:, 5])
