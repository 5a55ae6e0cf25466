"""SLADD's detector (spec §4.1; networks/xception.py): an Xception trunk with four heads.

* real/fake: Dropout(0.5) -> Linear(2048, 2). timm's legacy_xception ignores ``drop_rate``, so the
  dropout is our own module (tested active in train mode).
* mask map: SeparableConv2d(728 -> 1, 3x3, pad 1, no bias) + sigmoid on block 7's output
  (16x16 at 256 px).
* blend type: Linear(2048, 5) (TypeLabel). ratio: Linear(2048, 1), no activation.
"""
from __future__ import annotations

import dataclasses

import torch
from torch import nn

from sladd_fast.models.xception import FEATURES, MIDDLE_CHANNELS, trunk_features, xception_trunk
from sladd_fast.synthesis.constants import TypeLabel


@dataclasses.dataclass
class DetectorOutput:
    """logits [B,2]; features [B,2048]; map [B,1,S/16,S/16] in (0,1); type_logits [B,5]; mag [B];
    all float32, also under autocast."""

    logits: torch.Tensor
    features: torch.Tensor
    map: torch.Tensor
    type_logits: torch.Tensor
    mag: torch.Tensor


class SeparableConv2d(nn.Module):
    """Depthwise k x k then pointwise 1x1, no bias (the Cadene SeparableConv2d, bias=False)."""

    def __init__(self, cin: int, cout: int, k: int = 3, padding: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cin, k, 1, padding, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.conv1(x))


class Detector(nn.Module):
    """x: float [B,3,S,S] in [-1,1] (see ``normalize``) -> DetectorOutput. S = 256 gives a 16x16 map."""

    def __init__(self, dropout: float = 0.5) -> None:
        super().__init__()
        self.trunk = xception_trunk(3)
        self.map_head = SeparableConv2d(MIDDLE_CHANNELS, 1)
        self.dropout = nn.Dropout(dropout)
        self.cls = nn.Linear(FEATURES, 2)
        self.type_fc = nn.Linear(FEATURES, len(TypeLabel))
        self.mag_fc = nn.Linear(FEATURES, 1)

    def forward(self, x: torch.Tensor) -> DetectorOutput:
        fmap, block7 = trunk_features(self.trunk, x, tap=7)
        # Pooling and heads in fp32 even under bf16 autocast: AM-softmax scales the logits by 30, so
        # bf16 rounding of the logits would become loss (and reward) noise; the heads cost nothing.
        with torch.autocast(x.device.type, enabled=False):
            f = fmap.float().mean((2, 3))
            return DetectorOutput(logits=self.cls(self.dropout(f)), features=f,
                                  map=torch.sigmoid(self.map_head(block7.float())), type_logits=self.type_fc(f),
                                  mag=self.mag_fc(f).squeeze(1))


def normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 [B,C,H,W] -> float32 in [-1,1], as SLADD's ToTensor + Normalize(0.5, 0.5)."""
    return images.float().mul_(2.0 / 255.0).sub_(1.0)


def fake_probability(logits: torch.Tensor) -> torch.Tensor:
    """softmax(logits)[:, 1] in fp32 (SLADD's score, without the AM-softmax scale). [B,2] -> [B]."""
    return torch.softmax(logits.float(), 1)[:, 1]
