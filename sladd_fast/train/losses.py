"""The detector's multi-task loss (spec §4.2; whole_model.py:140-150), per sample and as a batch mean.

L = L_cls + 0.1 L_map + 0.05 L_type + 0.1 L_mag, with
* L_cls, L_type: AM-softmax applied to the *raw* linear logits, as SLADD does (am_softmax.py:
  gamma 0, margin 'cos' on logits that are not cosines): CE(s * (logits - m * onehot(y)), y).
* L_map: MSE of the 16x16 sigmoid map against the mask target.
* L_mag: m_i (mag_i - label_i)^2 averaged over all 2B samples (bug B4 fixed: SLADD broadcast
  (2B,1) x (2B,) into a (2B,2B) comparison); m_i is 1 only for applied copy-with-ratio forgeries.
The batch loss is exactly the mean of the per-sample losses, which the per-sample reward uses.
All in fp32.
"""
from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F

from sladd_fast.models.detector import DetectorOutput


@dataclasses.dataclass
class DetectorTargets:
    """labels: int64 [N] 0/1; type_labels: int64 [N] TypeLabel; mask_targets: float32 [N,1,16,16];
    mag_labels: float32 [N]; mag_mask: float32 [N] in {0,1}."""

    labels: torch.Tensor
    type_labels: torch.Tensor
    mask_targets: torch.Tensor
    mag_labels: torch.Tensor
    mag_mask: torch.Tensor

    def flipped_double(self) -> "DetectorTargets":
        """Targets for cat(x, hflip(x)) (spec §5): everything repeated, the map target mirrored."""
        return DetectorTargets(self.labels.repeat(2), self.type_labels.repeat(2),
                               torch.cat([self.mask_targets, self.mask_targets.flip(-1)]),
                               self.mag_labels.repeat(2), self.mag_mask.repeat(2))


def am_softmax_ce(logits: torch.Tensor, target: torch.Tensor, margin: float = 0.45, scale: float = 30.0,
                  reduction: str = "mean") -> torch.Tensor:
    """CE(scale * (logits - margin * onehot(target)), target); logits [N,C], target int64 [N]."""
    z = logits.float() - margin * F.one_hot(target, logits.shape[1]).float()
    return F.cross_entropy(scale * z, target, reduction=reduction)


def detector_losses(out: DetectorOutput, t: DetectorTargets, margin: float = 0.45, scale: float = 30.0,
                    w_map: float = 0.1, w_type: float = 0.05, w_mag: float = 0.1) -> dict[str, torch.Tensor]:
    """Returns per-sample tensors [N] ``cls``, ``map``, ``type``, ``mag``, ``total`` (weighted sum)."""
    cls = am_softmax_ce(out.logits, t.labels, margin, scale, "none")
    typ = am_softmax_ce(out.type_logits, t.type_labels, margin, scale, "none")
    mp = (out.map.float() - t.mask_targets).square().flatten(1).mean(1)
    mag = t.mag_mask * (out.mag.float() - t.mag_labels).square()
    total = cls + w_map * mp + w_type * typ + w_mag * mag
    return {"total": total, "cls": cls, "map": mp, "type": typ, "mag": mag}
